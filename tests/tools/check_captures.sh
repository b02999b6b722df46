#!/bin/sh
# Regenerates every committed capture from its scenario and checks that the
# result is byte-identical to the committed file (TAP output).
#
#   tests/tools/check_captures.sh [SOURCE_ROOT]
#
# SOURCE_ROOT defaults to $IOTDNS_SOURCE_ROOT, then to the directory two
# levels above this script. Pairs checked:
#   pcaps/demo/*.scn                      -> same name with .pcap
#   tests/golden/cases/*/scenario.scn     -> capture.pcap beside it
# With UPDATE=1 the committed captures are rewritten instead.
set -u

root=${1:-${IOTDNS_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}}
gen="$root/tests/tools/pcapgen.py"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/iotdns-captures.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

pairs=""
for scn in "$root"/pcaps/demo/*.scn; do
	[ -f "$scn" ] && pairs="$pairs $scn:${scn%.scn}.pcap"
done
for scn in "$root"/tests/golden/cases/*/scenario.scn "$root"/tests/golden/checks/*/scenario.scn; do
	[ -f "$scn" ] && pairs="$pairs $scn:$(dirname "$scn")/capture.pcap"
done

n=0
for p in $pairs; do
	n=$((n + 1))
done
echo "1..$n"

i=0
failed=0
for p in $pairs; do
	i=$((i + 1))
	scn=${p%%:*}
	pcap=${p#*:}
	rel=${pcap#"$root"/}
	if [ "${UPDATE:-0}" = 1 ]; then
		if python3 "$gen" -q "$scn" -o "$pcap"; then
			echo "ok $i - $rel written"
		else
			echo "not ok $i - $rel: generation failed"
			failed=1
		fi
		continue
	fi
	if ! python3 "$gen" -q "$scn" -o "$tmp/out.pcap" 2>"$tmp/err"; then
		echo "not ok $i - $rel: generation failed"
		sed 's/^/# /' "$tmp/err"
		failed=1
	elif [ ! -f "$pcap" ]; then
		echo "not ok $i - $rel: not committed"
		failed=1
	elif cmp -s "$tmp/out.pcap" "$pcap"; then
		echo "ok $i - $rel"
	else
		echo "not ok $i - $rel differs from what its scenario generates"
		failed=1
	fi
done
exit $failed

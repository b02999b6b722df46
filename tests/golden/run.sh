#!/bin/sh
# Golden test runner: analyzes one case capture and compares the device table
# with the case's expected output.
#
#   tests/golden/run.sh IOTDNS_BINARY CASE_DIR
#
# CASE_DIR holds:
#   capture.pcap     the capture (generated from scenario.scn by
#                    tests/tools/pcapgen.py; may be pcapng inside)
#   args             optional: extra arguments for `iotdns analyze`, one per line
#   fields           optional: device JSON keys to compare, one per line
#                    (default: every key)
#   expected.jsonl   the expected `iotdns devices --json` output, normalised
#
# Normalisation (python3): each JSON line keeps only the listed fields, lists
# of scalars or objects are sorted (their order carries no meaning), keys are
# sorted, and the lines are sorted.
#
# Exit 0 when the output matches, 1 with a unified diff (or the error) otherwise.
# With UPDATE=1 the normalised output is written to expected.jsonl instead.
set -u

if [ $# -ne 2 ]; then
	echo "usage: $0 IOTDNS_BINARY CASE_DIR" >&2
	exit 1
fi
bin=$1
case_dir=$2
name=$(basename "$case_dir")

if [ ! -x "$bin" ]; then
	echo "$name: $bin is not an executable" >&2
	exit 1
fi
if [ ! -f "$case_dir/capture.pcap" ]; then
	echo "$name: $case_dir/capture.pcap is missing" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/iotdns-golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# Extra analyze arguments: one per line, blank lines and # comments ignored.
set --
if [ -f "$case_dir/args" ]; then
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'' | '#'*) continue ;;
		esac
		set -- "$@" "$line"
	done <"$case_dir/args"
fi

"$bin" analyze --quiet --db "$tmp/golden.db" "$case_dir/capture.pcap" "$@" >"$tmp/analyze.out" 2>&1
rc=$?
# 0: fine; 1: findings at or above --fail-on (not an error for this test)
if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
	echo "$name: iotdns analyze exited with $rc:" >&2
	cat "$tmp/analyze.out" >&2
	exit 1
fi

if ! "$bin" devices --db "$tmp/golden.db" --json >"$tmp/devices.jsonl" 2>"$tmp/devices.err"; then
	echo "$name: iotdns devices failed:" >&2
	cat "$tmp/devices.err" >&2
	exit 1
fi

fields_file=""
[ -f "$case_dir/fields" ] && fields_file="$case_dir/fields"

python3 - "$tmp/devices.jsonl" "$fields_file" >"$tmp/actual.jsonl" <<'EOF'
import json
import sys

path, fields_path = sys.argv[1], sys.argv[2]
fields = None
if fields_path:
    with open(fields_path, encoding='utf-8') as f:
        fields = [l.strip() for l in f if l.strip() and not l.lstrip().startswith('#')]


def canon(v):
    if isinstance(v, dict):
        return {k: canon(x) for k, x in v.items()}
    if isinstance(v, list):
        items = [canon(x) for x in v]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))
    return v


lines = []
with open(path, encoding='utf-8') as f:
    for n, raw in enumerate(f, 1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            obj = json.loads(raw)
        except ValueError as e:
            sys.exit('devices --json line %d is not JSON: %s' % (n, e))
        if fields is not None:
            obj = {k: obj[k] for k in fields if k in obj}
        lines.append(json.dumps(canon(obj), sort_keys=True))
for l in sorted(lines):
    print(l)
EOF
[ $? -eq 0 ] || { echo "$name: could not normalise the JSON output" >&2; exit 1; }

if [ "${UPDATE:-0}" = 1 ]; then
	cp "$tmp/actual.jsonl" "$case_dir/expected.jsonl"
	echo "$name: wrote $case_dir/expected.jsonl"
	exit 0
fi

if [ ! -f "$case_dir/expected.jsonl" ]; then
	echo "$name: $case_dir/expected.jsonl is missing (run with UPDATE=1 after checking the output against README.md)" >&2
	cat "$tmp/actual.jsonl" >&2
	exit 1
fi

if diff -u "$case_dir/expected.jsonl" "$tmp/actual.jsonl" >"$tmp/diff"; then
	exit 0
fi
echo "$name: device table differs from expected.jsonl:"
cat "$tmp/diff"
exit 1

#!/usr/bin/env python3
"""Golden test of the checks: analyzes one case and compares its findings and
per-device check statuses with the case's expectations.

    run_findings.py IOTDNS_BINARY CASE_DIR          (UPDATE=1 rewrites expected.jsonl)

CASE_DIR holds:
  capture.pcap    the capture (from scenario.scn by tests/tools/pcapgen.py)
  args            optional: extra `iotdns analyze` arguments, one per line
  checks          the check ids this case is about, one per line; only their
                  findings and statuses are compared, so a case stays focused
  expected.jsonl  the contract, one JSON object per line, sorted:
                  {"device": KEY, "check": ID, "status": "pass|fail|insufficient|not-applicable"}
                  {"device": KEY, "check": ID, "code": CODE, "severity": S}
  README.md       what the capture shows and why the expectations are right

Only the user-visible contract is compared: codes, severities and statuses,
not metrics or evidence text (they may be refined without changing verdicts).
"""
import json
import os
import subprocess
import sys
import tempfile


def lines_of(case, binary):
    args = []
    path = os.path.join(case, "args")
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                args.append(line)
    checks = set()
    for line in open(os.path.join(case, "checks"), encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            checks.add(line)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "golden.db")
        p = subprocess.run([binary, "analyze", "--json", "--db", db, *args, os.path.join(case, "capture.pcap")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        if p.returncode not in (0, 1):
            sys.exit(f"iotdns analyze exited {p.returncode}: {p.stderr}")
        out = set()
        for line in p.stdout.splitlines():
            o = json.loads(line)
            if o.get("type") == "finding" and o["check"] in checks:
                out.add(json.dumps({"device": o["device"]["key"], "check": o["check"], "code": o["code"],
                                    "severity": o["severity"]}, sort_keys=True))
        d = subprocess.run([binary, "devices", "--json", "--db", db], stdout=subprocess.PIPE, text=True,
                           check=True)
        for line in d.stdout.splitlines():
            o = json.loads(line)
            for check, status in o.get("checks", {}).items():
                if check in checks:
                    out.add(json.dumps({"device": o["key"], "check": check, "status": status}, sort_keys=True))
    return sorted(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, case = sys.argv[1], sys.argv[2]
    got = lines_of(case, binary)
    exp_path = os.path.join(case, "expected.jsonl")
    if os.environ.get("UPDATE") == "1":
        with open(exp_path, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in got))
        print(f"wrote {exp_path}")
        return 0
    want = sorted(line.strip() for line in open(exp_path, encoding="utf-8") if line.strip())
    want = sorted(json.dumps(json.loads(w), sort_keys=True) for w in want)
    if got == want:
        print(f"{os.path.basename(case)}: {len(got)} expectations met")
        return 0
    print(f"{os.path.basename(case)}: mismatch")
    for w in want:
        if w not in got:
            print(f"- expected, missing: {w}")
    for g in got:
        if g not in want:
            print(f"+ unexpected:        {g}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

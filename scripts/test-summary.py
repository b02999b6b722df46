#!/usr/bin/env python3
"""Prints one closing line for a meson test run: 'N passed, N failed, N skipped'.

Reads meson-logs/testlog.json of each build directory given, so CI and people
see a single total for every suite (unit, golden, corpus, fuzz-replay, and the
sanitizer build)."""
import json
import sys

passed = failed = skipped = 0
for build in sys.argv[1:]:
    try:
        with open(f"{build}/meson-logs/testlog.json", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                res = r.get("result")
                if res in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif res == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        print(f"{build}: no test log", file=sys.stderr)
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)

#!/usr/bin/env python3
"""make bench: speed and memory of `iotdns analyze` on a generated capture.

Generates (once, cached under the build directory) a deterministic capture of
about one million packets from 2,000 devices with tests/tools/benchgen.py,
then runs `iotdns analyze` on it several times into a fresh database each
time, once with `--checks none` (the pipeline alone) and once with everything,
and prints packets per second, nanoseconds per packet and peak memory
(maximum resident set size of the analyzer process). The best of the runs is
reported, as is usual for throughput on a shared machine; all runs are shown.
Record the figures in docs/performance.md.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iotdns", default=os.path.join(ROOT, "build", "iotdns"))
    ap.add_argument("--capture", default=os.path.join(ROOT, "build", "bench-1m.pcap"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    if not os.path.exists(args.capture):
        print(f"generating {args.capture} ...", flush=True)
        t = time.time()
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "tools", "benchgen.py"), args.capture],
                       check=True)
        print(f"generated in {time.time() - t:.1f} s", flush=True)
    size = os.path.getsize(args.capture)

    print(f"capture: {args.capture} ({size / 1e6:.1f} MB)")
    for label, extra in (("pipeline only (--checks none)", ["--checks", "none"]),
                         ("everything (all checks and fingerprinting)", [])):
        results = []
        for i in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                db = os.path.join(tmp, "bench.db")
                t = time.perf_counter()
                proc = subprocess.Popen([args.iotdns, "analyze", "--quiet", "--json", *extra, "--db", db,
                                         args.capture], stdout=subprocess.PIPE)
                out = proc.stdout.read()
                proc.stdout.close()
                # wait4 gives this process's own rusage (peak RSS of the analyzer alone)
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - t
                if os.waitstatus_to_exitcode(status) != 0:
                    print(f"iotdns exited {os.waitstatus_to_exitcode(status)}", file=sys.stderr)
                    return 1
                summary = json.loads(out.decode().splitlines()[-1])
                results.append({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                                "packets": summary["packets"], "dns": summary["dns_messages"],
                                "devices": summary["devices"], "maxrss_kb": usage.ru_maxrss})
                r = results[-1]
                print(f"  run {i + 1}: {r['packets']} packets, {r['dns']} DNS messages, {r['devices']} devices "
                      f"in {wall:.2f} s wall ({r['cpu']:.2f} s CPU)")
        best = min(results, key=lambda r: r["wall"])
        pps = best["packets"] / best["wall"]
        print(f"{label}:")
        print(f"  packets per second: {pps:,.0f}")
        print(f"  nanoseconds per packet: {1e9 / pps:,.0f}")
        print(f"  peak memory (max RSS): {max(r['maxrss_kb'] for r in results) / 1024:.1f} MiB")
    print(f"(best of {args.runs} runs, wall clock, including reading the file, SHA-256, decoding, state, "
          "the checks and the SQLite flush)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

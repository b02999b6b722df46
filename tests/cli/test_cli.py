#!/usr/bin/env python3
"""Command-line tests: exit codes, error messages naming file and packet,
duplicate detection, accumulation across runs, standard input, JSON output,
and live capture on the loopback interface with a clean Ctrl-C.

    test_cli.py IOTDNS_BINARY SOURCE_ROOT

Prints TAP. Uses only captures the project generates (pcaps/, tests/golden/).
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

BIN, ROOT = sys.argv[1], sys.argv[2]
DEMO = os.path.join(ROOT, "pcaps", "demo", "smart-home.pcap")
BASIC = os.path.join(ROOT, "tests", "golden", "cases", "basic-udp", "capture.pcap")
PCAPNG = os.path.join(ROOT, "tests", "golden", "cases", "pcapng", "capture.pcap")
n = 0
failed = 0


def ok(cond, what, detail=""):
    global n, failed
    n += 1
    if cond:
        print(f"ok {n} - {what}")
    else:
        failed += 1
        print(f"not ok {n} - {what}")
        for line in str(detail).splitlines()[:20]:
            print(f"# {line}")


def run(*args, stdin=None, timeout=60):
    return subprocess.run([BIN, *args], input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, check=False)


tmp = tempfile.mkdtemp(prefix="iotdns-cli-")
db = os.path.join(tmp, "t.db")

# --- help, version, usage errors ---------------------------------------------
p = run("--version")
ok(p.returncode == 0 and p.stdout.startswith(b"iotdns "), "--version", p)
for cmd in ("analyze", "capture", "devices", "findings", "checks"):
    p = run(cmd, "--help")
    ok(p.returncode == 0 and b"Exit codes" in p.stdout, f"{cmd} --help documents the exit codes", p)
p = run("frobnicate")
ok(p.returncode == 2 and b"unknown command" in p.stderr, "unknown command exits 2", p)
p = run("analyze", "--no-such-option", BASIC)
ok(p.returncode == 2, "unknown option exits 2", p)
p = run("analyze", "--db", db)
ok(p.returncode == 2 and b"no input" in p.stderr, "analyze without files exits 2", p)
p = run("analyze", "--fail-on", "catastrophic", "--db", db, BASIC)
ok(p.returncode == 2, "bad --fail-on exits 2", p)
p = run("analyze", "--resolver", "not-an-ip", "--db", db, BASIC)
ok(p.returncode == 2 and b"not-an-ip" in p.stderr, "bad --resolver names the value", p)
p = run("analyze", "--set", "limits.max-devices=0", "--db", db, BASIC)
ok(p.returncode == 2 and b"limits.max-devices" in p.stderr, "out-of-range --set exits 2", p)
p = run("analyze", "--set", "port-randomization.no-such-option=1", "--db", db, BASIC)
ok(p.returncode == 2 and b"unknown setting" in p.stderr, "unknown check option exits 2", p)
cfg = os.path.join(tmp, "bad.conf")
with open(cfg, "w") as f:
    f.write("# comment\nlimits.session-gap = 120\nthis line is wrong\n")
p = run("analyze", "--config", cfg, "--db", db, BASIC)
ok(p.returncode == 2 and f"{cfg}:3:".encode() in p.stderr, "config file error names file:line", p)
os.path.exists(db) and os.unlink(db)

# --- bad input: exit 3 with file (and packet) named ---------------------------
p = run("analyze", "--db", db, os.path.join(tmp, "missing.pcap"))
ok(p.returncode == 3 and b"missing.pcap" in p.stderr, "missing file exits 3 and names it", p)
notcap = os.path.join(tmp, "notes.txt")
with open(notcap, "w") as f:
    f.write("this is not a capture\n" * 10)
p = run("analyze", "--db", db, notcap)
ok(p.returncode == 3 and b"notes.txt" in p.stderr and b"not a pcap" in p.stderr, "text file exits 3", p)
empty = os.path.join(tmp, "empty.pcap")
open(empty, "w").close()
p = run("analyze", "--db", db, empty)
ok(p.returncode == 3 and b"empty.pcap" in p.stderr, "empty file exits 3", p)
p = run("analyze", "--db", db, tmp)
ok(p.returncode == 3 and b"directory" in p.stderr, "a directory exits 3", p)
# truncated: cut the demo capture in the middle of a record
data = open(DEMO, "rb").read()
trunc = os.path.join(tmp, "truncated.pcap")
with open(trunc, "wb") as f:
    f.write(data[: len(data) // 2 + 7])
db2 = os.path.join(tmp, "trunc.db")
p = run("analyze", "--db", db2, "--json", trunc)
ok(p.returncode == 3 and b"truncated.pcap" in p.stderr and b"packet " in p.stderr,
   "truncated capture exits 3 naming file and packet", p)
summary = json.loads(p.stdout.decode().splitlines()[-1]) if p.stdout else {}
ok(summary.get("packets", 0) > 1000, "packets before the truncation were analyzed", summary)
con = sqlite3.connect(db2)
devs = con.execute("SELECT count(*) FROM devices").fetchone()[0]
status = con.execute("SELECT status, error FROM inputs").fetchone()
con.close()
ok(devs > 5, "devices from the readable part are stored", devs)
ok(status[0] == "truncated" and "packet" in (status[1] or ""), "input stored as truncated with the error", status)
# unsupported link type: a pcap header with linktype 127 (802.11 radiotap)
import struct
radiotap = os.path.join(tmp, "wifi.pcap")
with open(radiotap, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 127))
p = run("analyze", "--db", db, radiotap)
ok(p.returncode == 3 and b"link type" in p.stderr and b"wifi.pcap" in p.stderr, "unsupported link type exits 3", p)
# a later good file still runs after a bad one, exit code stays 3
p = run("analyze", "--db", os.path.join(tmp, "mixed.db"), notcap, BASIC)
ok(p.returncode == 3 and b"Run " in p.stdout, "bad file then good file: analyzed, exit 3", p)

# --- database errors: exit 4 ---------------------------------------------------
garbage = os.path.join(tmp, "garbage.db")
with open(garbage, "wb") as f:
    f.write(b"\x00garbage" * 1000)
p = run("analyze", "--db", garbage, BASIC)
ok(p.returncode == 4 and b"garbage.db" in p.stderr, "a file that is not a database exits 4", p)
p = run("analyze", "--db", os.path.join(tmp, "no", "such", "dir", "x.db"), BASIC)
ok(p.returncode == 4, "unwritable database path exits 4", p)
locked = os.path.join(tmp, "locked.db")
run("analyze", "--quiet", "--db", locked, BASIC)
holder = sqlite3.connect(locked, timeout=0.1)
holder.execute("BEGIN EXCLUSIVE")
p = run("analyze", "--db", locked, PCAPNG, timeout=60)
holder.rollback()
holder.close()
ok(p.returncode == 4 and b"locked" in p.stderr, "a locked database exits 4", p)
con = sqlite3.connect(locked)
ok(con.execute("SELECT count(*) FROM devices").fetchone()[0] == 2, "the locked database keeps its data")
con.close()
p = run("analyze", "--db", db, "--asn-db", os.path.join(tmp, "missing.mmdb"), BASIC)
ok(p.returncode == 4 and b"missing.mmdb" in p.stderr, "missing MaxMind database exits 4", p)
p = run("analyze", "--db", db, "--geo-db", notcap, BASIC)
ok(p.returncode == 4 and b"notes.txt" in p.stderr, "corrupt MaxMind database exits 4", p)
p = run("devices", "--db", os.path.join(tmp, "nope.db"))
ok(p.returncode == 4 and b"nope.db" in p.stderr, "devices on a missing database exits 4", p)

# --- accumulation and duplicates ------------------------------------------------
acc = os.path.join(tmp, "acc.db")
p = run("analyze", "--quiet", "--db", acc, BASIC)
ok(p.returncode == 0, "first analysis", p)
d1 = {json.loads(l)["key"]: json.loads(l) for l in run("devices", "--json", "--db", acc).stdout.decode().splitlines()}
p = run("analyze", "--db", acc, BASIC)
ok(p.returncode == 0 and b"already analyzed" in p.stderr, "the same file again is detected", p)
d2 = {json.loads(l)["key"]: json.loads(l) for l in run("devices", "--json", "--db", acc).stdout.decode().splitlines()}
ok(all(d1[k]["queries"] == d2[k]["queries"] for k in d1), "and not counted twice")
p = run("analyze", "--quiet", "--db", acc, PCAPNG)
d3 = {json.loads(l)["key"]: json.loads(l) for l in run("devices", "--json", "--db", acc).stdout.decode().splitlines()}
ok(all(d3[k]["queries"] == 2 * d1[k]["queries"] for k in d1),
   "another file with the same devices accumulates", [(k, d1[k]["queries"], d3[k]["queries"]) for k in d1])
con = sqlite3.connect(acc)
runs = con.execute("SELECT count(*) FROM runs").fetchone()[0]
dup = con.execute("SELECT count(*) FROM inputs WHERE status = 'duplicate'").fetchone()[0]
con.close()
ok(runs == 3 and dup == 1, "three runs, one duplicate input recorded", (runs, dup))

# --- standard input, JSON lines, progress only on a terminal -----------------------
sdb = os.path.join(tmp, "stdin.db")
p = run("analyze", "--json", "--db", sdb, "-", stdin=open(BASIC, "rb").read())
lines = [json.loads(l) for l in p.stdout.decode().splitlines()]
ok(p.returncode == 0 and lines and lines[-1]["type"] == "summary" and lines[-1]["dns_messages"] == 14,
   "standard input is read, JSON summary on stdout", p)
ok(b"\r" not in p.stderr, "no progress line when stderr is not a terminal", p.stderr)
p = run("devices", "--json", "--db", sdb)
devs = [json.loads(l) for l in p.stdout.decode().splitlines()]
need = {"mac", "ips", "first_seen", "last_seen", "queries", "resolvers", "hostname", "vendor", "product",
        "category", "confidence", "checks"}
ok(len(devs) == 2 and all(need <= set(d) for d in devs), "devices --json has the documented fields",
   [sorted(need - set(d)) for d in devs])
ok(all({"address", "queries", "transport"} <= set(r) for d in devs for r in d["resolvers"]),
   "resolvers carry address, queries, transport")
p = run("findings", "--db", sdb, "--json")
ok(p.returncode == 0, "findings --json runs", p)
p = run("checks", "--json")
checks = [json.loads(l) for l in p.stdout.decode().splitlines()]
ok(p.returncode == 0 and len(checks) >= 7 and all("codes" in c for c in checks), "checks --json lists the checks", p)

# --- live capture on loopback, stopped with SIGINT -------------------------------
if os.geteuid() != 0 or not os.path.exists("/sys/class/net/lo"):
    print(f"ok {n + 1} # SKIP live capture needs root and a loopback interface")
    n += 1
else:
    ldb = os.path.join(tmp, "live.db")
    proc = subprocess.Popen([BIN, "capture", "-i", "lo", "--db", ldb], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(1.5)
    # a DNS responder on loopback (port 53 on 127.0.0.1: root) and queries to it
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        srv.bind(("127.0.0.1", 53))
        srv.settimeout(1)
        cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        q = bytes.fromhex("1234010000010000000000000474657374076578616d706c650000010001")
        for i in range(5):
            cli.sendto(q[:0] + bytes([0x12, 0x30 + i]) + q[2:], ("127.0.0.1", 53))
            data, addr = srv.recvfrom(512)
            srv.sendto(data[:2] + b"\x81\x80" + data[4:], addr)
            cli.recvfrom(512)
        bound = True
    except OSError as e:
        bound = False
        print(f"# could not run a loopback responder: {e}")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    ok(proc.returncode == 0, "capture stops cleanly on SIGINT with exit 0", err)
    con = sqlite3.connect(ldb)
    status = con.execute("SELECT status FROM runs").fetchone()[0]
    q = con.execute("SELECT coalesce(sum(queries), 0) FROM device_runs").fetchone()[0]
    con.close()
    ok(status == "interrupted", "the run is stored as interrupted", status)
    ok(not bound or q >= 5, "the live queries were stored", q)

shutil.rmtree(tmp, ignore_errors=True)
print(f"1..{n}")
sys.exit(1 if failed else 0)

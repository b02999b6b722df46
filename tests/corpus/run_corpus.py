#!/usr/bin/env python3
"""iotdns corpus tests: iotdns against the shared corpus of real captures,
with tshark as the independent oracle. Documented in docs/testing.md,
section "Corpus tests". Python 3 standard library only.

One invocation runs one suite (--suite):
  dns, iot   every capture: no crash, exit 0 (or the exit code listed in
             exceptions.tsv), DNS message count equal to tshark's (or off by
             exactly the difference listed in exceptions.tsv), database
             consistent with the printed summary
  doh_iot    as above, plus exactly one device with the labeled MAC
  malformed  exit 0 or 3 only, never a crash or a hang; problems counted
             where the manifest says the DNS is broken; exit 3 messages name
             the file (and the packet for truncated records)
  mmdb       good MaxMind test databases work; bad__*.mmdb exit 4 naming
             the file

Exit status: 0 pass, 1 fail, 77 skipped (corpus or tshark absent).
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

SKIP = 77

# Bump when the tshark extraction below changes: cached results of an older
# method are recomputed.
METHOD = "iotdns-corpus-tshark-4"

# Problems iotdns counts for a DNS message it could not decode (stats.h):
# such a message is still a DNS message on the wire, and tshark counts it.
UNDECODABLE = ("dns-malformed", "dns-truncated", "dns-bad-name", "dns-compression-loop")
# DNS-level problems for the "DNS is broken" check of the malformed suite.
DNS_LEVEL = UNDECODABLE + ("tcp-bad-dns-length",)

# What iotdns decodes (README "What it reads"): UDP 53 (DNS), 5353 (mDNS),
# 5355 (LLMNR) and TCP 53.
UDP_DNS_PORTS = {53, 5353, 5355}
TCP_DNS_PORTS = {53}

# tshark is pinned to the behaviour both sides share:
#  - no heuristic DNS on arbitrary UDP ports (dns_udp), no DNS on TCP 5353
#    (Wireshark registers it; iotdns does not decode mDNS over TCP);
#  - IP fragments reassembled, TCP streams and DNS messages reassembled,
#    retransmitted/erroneous TCP data not dissected again;
#  - checksums not verified (iotdns does not verify them either).
TSHARK_OPTS = [
    "-n",
    "--disable-heuristic", "dns_udp",
    "-d", "tcp.port==5353,data",
    "-o", "ip.defragment:TRUE",
    "-o", "ipv6.defragment:TRUE",
    "-o", "tcp.desegment_tcp_streams:TRUE",
    "-o", "dns.desegment_dns_messages:TRUE",
    "-o", "tcp.no_subdissector_on_error:TRUE",
    "-o", "tcp.reassemble_out_of_order:FALSE",
    "-o", "ip.check_checksum:FALSE",
    "-o", "udp.check_checksum:FALSE",
    "-o", "tcp.check_checksum:FALSE",
]
FIELDS = ["frame.number", "frame.protocols", "eth.src", "udp.srcport", "udp.dstport",
          "tcp.srcport", "tcp.dstport", "dns.id", "dns.flags.response", "_ws.malformed"]
DNS_LAYERS = ("dns", "mdns", "llmnr")

# Manifest notes of malformed/ files that say the DNS message itself is broken.
BROKEN_DNS_RE = re.compile(r"invalid DNS label|compression-pointer loop|corrupt DNS message|"
                           r"corrupt additional records", re.I)
# Reports of a sanitizer build (-Db_sanitize=address,undefined): a finding
# is a crash even when the process goes on (UBSan) or exits normally.
SANITIZER_RE = re.compile(r"^.*(?:runtime error:|ERROR: \w+Sanitizer|WARNING: \w+Sanitizer|"
                          r"SUMMARY: \w+Sanitizer).*$", re.M)
MAC_RE = re.compile(r"device MAC(?: \([^)]*\))? ((?:[0-9a-f]{2}:){5}[0-9a-f]{2})", re.I)


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------------------
# corpus, manifest, exceptions

def read_manifest(corpus):
    rows = {}
    path = os.path.join(corpus, "MANIFEST.tsv")
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= len(header):
                rows[cols[0]] = dict(zip(header, cols))
    return rows


class Exception_:
    """One line of exceptions.tsv: file, what differs, why."""

    def __init__(self, file, differs, why, lineno):
        self.file, self.why, self.lineno = file, why, lineno
        self.delta = 0          # expected iotdns count - tshark count
        self.exit = None        # expected exit code (None: 0)
        self.dns_ok = False     # malformed: manifest says broken, the DNS is not
        self.used = False
        for tok in differs.split():
            k, _, v = tok.partition("=")
            if k == "dns" and v:
                self.delta = int(v)
            elif k == "exit" and v:
                self.exit = int(v)
            elif k == "dns-ok" and not v:
                self.dns_ok = True
            else:
                raise ValueError("exceptions.tsv:%d: unknown token %r" % (lineno, tok))


def read_exceptions(path):
    out = {}
    if not path or not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 3 or not cols[2].strip():
                raise ValueError("exceptions.tsv:%d: expected FILE<TAB>DIFFERS<TAB>WHY" % n)
            if cols[0] in out:
                raise ValueError("exceptions.tsv:%d: %s listed twice" % (n, cols[0]))
            out[cols[0]] = Exception_(cols[0], cols[1], cols[2], n)
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# tshark side

class Tshark:
    def __init__(self, exe, cache_dir):
        self.exe = exe
        self.cache_dir = cache_dir
        self.version = ""
        self.confdir = None
        if exe:
            v = subprocess.run([exe, "--version"], capture_output=True, text=True, errors="replace")
            self.version = (v.stdout.splitlines() or [""])[0]
        if cache_dir:
            os.makedirs(os.path.join(cache_dir, "tshark"), exist_ok=True)
            # an empty personal configuration: user preferences must not
            # change what tshark counts
            self.confdir = os.path.join(cache_dir, "wireshark-config")
            os.makedirs(self.confdir, exist_ok=True)

    def count(self, path, sha=None):
        """DNS messages tshark sees in path, as a dict (see _extract)."""
        sha = sha or sha256_file(path)
        cpath = os.path.join(self.cache_dir, "tshark", sha + ".json") if self.cache_dir else None
        if cpath and os.path.exists(cpath):
            try:
                with open(cpath, encoding="utf-8") as f:
                    c = json.load(f)
                if c.get("method") == METHOD and c.get("tshark") == self.version:
                    c["cached"] = True
                    return c
            except (OSError, ValueError):
                pass
        c = self._extract(path)
        c.update(method=METHOD, tshark=self.version, sha256=sha, cached=False)
        if cpath:
            tmp = "%s.%d.tmp" % (cpath, os.getpid())
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(c, f)
            os.replace(tmp, cpath)
        return c

    def _extract(self, path):
        """What is counted on the tshark side, per frame:
        - frames with a dns, mdns or llmnr layer;
        - not inside an ICMP/ICMPv6 error (a quoted datagram is not a
          message) -> counted apart as icmp_quoted;
        - whose innermost transport is UDP with port 53, 5353 or 5355 on
          either side, or TCP with port 53 -> otherwise other_ports;
        - a frame carries as many messages as dns.id values (a TCP segment
          may complete several), at least one;
        - queries (dns.flags.response == 0) are also counted per source MAC
          and kind: dns (port 53), mdns (5353), llmnr (5355), in that order
          of precedence, as iotdns dispatches them.
        Frames whose DNS sits behind a second IP header (a tunnel) are
        counted, and also reported as tunneled: iotdns decodes VXLAN,
        VXLAN-GPE and Geneve but no other tunnel, which exceptions.tsv then
        says."""
        env = dict(os.environ)
        if self.confdir:
            env["WIRESHARK_CONFIG_DIR"] = self.confdir
        cmd = [self.exe] + TSHARK_OPTS + ["-r", path, "-T", "fields", "-E", "occurrence=a",
                                          "-E", "aggregator=,", "-E", "separator=/t"]
        for f in FIELDS:
            cmd += ["-e", f]
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=env)
        c = dict(frames=0, dns=0, queries=0, responses=0, icmp_quoted=0, other_ports=0,
                 tunneled=0, malformed_frames=0, rc=p.returncode,
                 query_macs={"dns": {}, "mdns": {}, "llmnr": {}},
                 stderr=" ".join(l for l in p.stderr.splitlines() if "dangerous" not in l)[:300])
        for line in p.stdout.splitlines():
            cols = line.split("\t")
            if len(cols) < len(FIELDS):
                continue
            c["frames"] += 1
            protos = cols[1].split(":")
            at = next((i for i, x in enumerate(protos) if x in DNS_LAYERS), None)
            if at is None:
                continue
            below = protos[:at]
            n = max(1, len([x for x in cols[7].split(",") if x]))
            if "icmp" in below or "icmpv6" in below:
                c["icmp_quoted"] += n
                continue
            trans = [x for x in below if x in ("udp", "tcp")]
            trans = trans[-1] if trans else ""
            if trans == "udp":
                ports = {int(x) for x in (cols[3].split(",")[-1], cols[4].split(",")[-1]) if x.isdigit()}
                ok = bool(ports & UDP_DNS_PORTS)
            elif trans == "tcp":
                ports = {int(x) for x in (cols[5].split(",")[-1], cols[6].split(",")[-1]) if x.isdigit()}
                ok = bool(ports & TCP_DNS_PORTS)
            else:
                ok = False
            if not ok:
                c["other_ports"] += n
                continue
            c["dns"] += n
            flags = [x for x in cols[8].split(",") if x]
            q = sum(1 for x in flags if x in ("0", "False"))
            r = sum(1 for x in flags if x in ("1", "True"))
            c["queries"] += q
            c["responses"] += r
            if sum(1 for x in below if x in ("ip", "ipv6")) > 1:
                c["tunneled"] += n
            if cols[9]:
                c["malformed_frames"] += 1
            if q and cols[2]:
                # by port, in iotdns's order: 53 first, then 5353, then 5355
                kind = "dns" if 53 in ports else "mdns" if 5353 in ports else "llmnr"
                mac = cols[2].split(",")[0].lower()
                macs = c["query_macs"][kind]
                macs[mac] = macs.get(mac, 0) + q
        return c


# ---------------------------------------------------------------------------
# iotdns side

class Run:
    """One `iotdns analyze --quiet --json` run on a fresh database."""

    def __init__(self):
        self.rc = None
        self.timeout = False
        self.summary = None
        self.stdout = self.stderr = ""
        self.db = None
        self.devices = None

    @property
    def sanitizer(self):
        """A sanitizer report (ASan, UBSan, ...) on stderr, or None."""
        m = SANITIZER_RE.search(self.stderr or "")
        return m.group(0).strip()[:200] if m else None

    @property
    def crashed(self):
        return (self.rc is not None and self.rc < 0) or self.sanitizer is not None

    def count(self):
        """DNS messages iotdns saw: decoded + undecodable."""
        if not self.summary:
            return None
        pr = self.summary.get("problems", {})
        return self.summary.get("dns_messages", 0) + sum(pr.get(k, 0) for k in UNDECODABLE)

    def undecodable(self):
        pr = (self.summary or {}).get("problems", {})
        return sum(pr.get(k, 0) for k in UNDECODABLE)

    def describe(self):
        if self.timeout:
            return "timed out"
        if self.sanitizer:
            return "exit %d with a sanitizer report: %s" % (self.rc, self.sanitizer)
        if self.crashed:
            return "killed by signal %d" % -self.rc
        return "exit %d" % self.rc


def run_iotdns(exe, inputs, workdir, timeout, extra=(), env=None):
    r = Run()
    r.db = os.path.join(workdir, "iotdns.db")
    cmd = [exe, "analyze", "--quiet", "--json", "--db", r.db] + list(extra) + list(inputs)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        r.timeout = True
        r.stderr = (e.stderr or b"").decode("utf-8", "replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return r
    r.rc, r.stdout, r.stderr = p.returncode, p.stdout, p.stderr.strip()
    for line in reversed(p.stdout.splitlines()):
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if isinstance(j, dict) and j.get("type") == "summary":
            r.summary = j
            break
    return r


def iotdns_devices(exe, db, timeout=60):
    p = subprocess.run([exe, "devices", "--db", db, "--json"], capture_output=True, text=True,
                       errors="replace", timeout=timeout)
    if p.returncode != 0:
        return None, "iotdns devices: exit %d: %s" % (p.returncode, p.stderr.strip()[:300])
    devs = []
    for line in p.stdout.splitlines():
        if line.strip():
            try:
                devs.append(json.loads(line))
            except ValueError:
                return None, "iotdns devices: not JSON: %r" % line[:200]
    return devs, None


def check_db(r, path, sha):
    """The database holds what the summary printed. Returns a list of errors."""
    errs = []
    if not os.path.exists(r.db):
        return ["database %s was not created" % r.db]
    try:
        con = sqlite3.connect("file:%s?mode=ro" % r.db, uri=True)
        try:
            con.row_factory = sqlite3.Row
            runs = con.execute("SELECT * FROM runs").fetchall()
            inputs = con.execute("SELECT * FROM inputs").fetchall()
        finally:
            con.close()
    except sqlite3.Error as e:
        return ["database %s: %s" % (r.db, e)]
    if len(runs) != 1:
        return ["database: %d runs, expected 1" % len(runs)]
    run, s = runs[0], r.summary
    cols = set(run.keys())
    for k in ("packets", "dns_messages", "dns_queries", "dns_responses", "malformed", "dhcp_messages"):
        if k not in cols:
            errs.append("database runs has no column %s" % k)
        elif k in s and run[k] != s[k]:
            errs.append("database runs.%s=%s, summary %s" % (k, run[k], s[k]))
    for k in ("problems", "evictions"):
        try:
            stored = json.loads(run[k] or "{}")
        except ValueError:
            errs.append("database runs.%s is not JSON: %r" % (k, run[k]))
            continue
        stored = {a: b for a, b in stored.items() if b}
        if stored != s.get(k, {}):
            errs.append("database runs.%s=%s, summary %s" % (k, stored, s.get(k)))
    want_run = "ok" if r.rc == 0 else "error"
    if run["status"] != want_run:
        errs.append("database runs.status=%r, expected %r for exit %d" % (run["status"], want_run, r.rc))
    if len(inputs) != 1:
        errs.append("database: %d inputs, expected 1" % len(inputs))
        return errs
    inp = inputs[0]
    want_in = ("ok",) if r.rc == 0 else ("truncated", "error")
    if inp["status"] not in want_in:
        errs.append("database inputs.status=%r, expected %s" % (inp["status"], " or ".join(want_in)))
    if inp["packets"] != s.get("packets"):
        errs.append("database inputs.packets=%s, summary packets %s" % (inp["packets"], s.get("packets")))
    if sha and inp["sha256"] and inp["sha256"] != sha:
        errs.append("database inputs.sha256=%s, file has %s" % (inp["sha256"], sha))
    if r.rc != 0 and not inp["error"]:
        errs.append("database inputs.error is empty for a failed input")
    return errs


def names_file(msg, path):
    return path in msg or os.path.basename(path) in msg


# ---------------------------------------------------------------------------
# suites

class Suite:
    def __init__(self, args):
        self.a = args
        self.failures = []
        self.exc = read_exceptions(args.exceptions)
        self.manifest = read_manifest(args.corpus)
        self.tshark = Tshark(args.tshark, args.cache_dir) if args.tshark else None
        self.env = dict(os.environ)

    def fail(self, what):
        self.failures.append(what)

    def files(self, sub, pattern=None):
        d = os.path.join(self.a.corpus, sub)
        if not os.path.isdir(d):
            return []
        names = sorted(n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n)))
        if pattern:
            names = [n for n in names if re.search(pattern, n)]
        out = [sub + "/" + n for n in names]
        if self.a.only:
            out = [f for f in out if any(o in f for o in self.a.only)]
        return out

    def path(self, rel):
        return os.path.join(self.a.corpus, rel)

    def pool(self, fn, items):
        with concurrent.futures.ThreadPoolExecutor(self.a.jobs) as ex:
            yield from ex.map(fn, items)

    def finish(self, covered):
        for f, e in sorted(self.exc.items()):
            if f in covered and not e.used:
                self.fail("%s: exceptions.tsv line %d is not needed any more (%s)" % (f, e.lineno, e.why))
        if self.failures:
            log("\n%d failure(s):" % len(self.failures))
            for f in self.failures:
                log("  FAIL " + f)
            return 1
        return 0

    # -- dns, iot, doh_iot: count comparison ----------------------------

    def analyze_and_count(self, rel):
        path = self.path(rel)
        sha = sha256_file(path)
        t = self.tshark.count(path, sha)
        with tempfile.TemporaryDirectory(prefix="iotdns-corpus-") as wd:
            r = run_iotdns(self.a.iotdns, [path], wd, self.a.file_timeout, env=self.env)
            dberrs = check_db(r, path, sha) if r.summary and not r.timeout and not r.crashed else []
            if r.summary and r.rc == 0 and self.a.suite in ("doh_iot", "iot"):
                r.devices, err = iotdns_devices(self.a.iotdns, r.db)
                if err:
                    dberrs.append(err)
        return rel, t, r, dberrs

    def compare(self, rel, t, r, dberrs):
        """Checks one file; returns (status word, detail)."""
        e = self.exc.get(rel)
        if e:
            e.used = True
        errs = list(dberrs)
        want_rc = e.exit if e and e.exit is not None else 0
        if r.timeout or r.crashed:
            errs.append("iotdns %s" % r.describe())
        elif r.rc != want_rc:
            errs.append("iotdns exit %d, expected %d: %s" % (r.rc, want_rc, r.stderr[:300]))
        elif r.rc == 3 and not names_file(r.stderr, self.path(rel)):
            errs.append("exit 3 message does not name the file: %r" % r.stderr[:300])
        if not r.summary and not (r.timeout or r.crashed):
            errs.append("no JSON summary on stdout")
        if t["rc"] != 0:
            errs.append("tshark exit %d: %s" % (t["rc"], t["stderr"]))
        ic = r.count()
        delta = e.delta if e else 0
        if ic is not None and ic - t["dns"] != delta:
            if delta:
                errs.append("iotdns counts %d DNS messages, tshark %d: expected a difference of %+d (%s)"
                            % (ic, t["dns"], delta, e.why))
            else:
                errs.append("iotdns counts %d DNS messages (%d decoded + %d undecodable), tshark %d"
                            % (ic, r.summary["dns_messages"], r.undecodable(), t["dns"]))
        if r.summary and r.rc == 0:
            s = r.summary
            if s.get("packets") != t["frames"]:
                errs.append("iotdns read %s packets, tshark %d frames" % (s.get("packets"), t["frames"]))
            if not e and t["queries"] + t["responses"] == t["dns"]:
                bad = r.undecodable()
                if bad == 0 and (s["dns_queries"], s["dns_responses"]) != (t["queries"], t["responses"]):
                    errs.append("queries/responses %d/%d, tshark %d/%d"
                                % (s["dns_queries"], s["dns_responses"], t["queries"], t["responses"]))
                elif bad and (s["dns_queries"] > t["queries"] or s["dns_responses"] > t["responses"]):
                    errs.append("queries/responses %d/%d exceed tshark's %d/%d"
                                % (s["dns_queries"], s["dns_responses"], t["queries"], t["responses"]))
        extra = []
        if t["icmp_quoted"]:
            extra.append("icmp-quoted %d" % t["icmp_quoted"])
        if t["other_ports"]:
            extra.append("other ports %d" % t["other_ports"])
        if t["tunneled"]:
            extra.append("tunneled %d" % t["tunneled"])
        detail = "tshark=%d iotdns=%s %s%s" % (
            t["dns"], "-" if ic is None else ic, r.describe(),
            " (tshark excluded: %s)" % ", ".join(extra) if extra else "")
        if r.summary and r.undecodable():
            detail += " undecodable=%d" % r.undecodable()
        if errs:
            self.fail("%s: %s" % (rel, "; ".join(errs)))
            return "FAIL", detail + " -- " + "; ".join(errs)
        if e:
            return "exception", detail + " -- expected: %s" % e.why
        return "ok", detail

    def report(self, status, rel, detail):
        log("%-9s %-70s %s" % (status, rel, detail))

    def run_counts(self, subs):
        if not self.tshark:
            log("SKIP: tshark not found; the corpus.%s comparison needs it (install tshark)" % self.a.suite)
            return SKIP
        files = [f for s in subs for f in self.files(s)]
        if not files:
            log("SKIP: no files under %s" % ", ".join(os.path.join(self.a.corpus, s) for s in subs))
            return SKIP
        log("tshark: %s; %d files; columns: status, file, tshark count, iotdns count" % (self.tshark.version, len(files)))
        for rel, t, r, dberrs in self.pool(self.analyze_and_count, files):
            status, detail = self.compare(rel, t, r, dberrs)
            if self.a.suite == "doh_iot" and status != "FAIL":
                status, detail = self.check_doh_device(rel, t, r, status, detail)
            elif self.a.suite == "iot" and status != "FAIL":
                status, detail = self.check_iot_device(rel, t, r, status, detail)
            self.report(status, rel, detail)
        return self.finish(set(files))

    def labeled_mac(self, rel):
        m = MAC_RE.search(self.manifest.get(rel, {}).get("notes", ""))
        return m.group(1).lower() if m else None

    def device_queries_errors(self, t, dev, mac):
        """iotdns's per-kind query counts of one device against tshark's
        queries from that source MAC."""
        errs = []
        for kind, key in (("dns", "queries"), ("mdns", "mdns_queries"), ("llmnr", "llmnr_queries")):
            want = t["query_macs"][kind].get(mac, 0)
            if dev.get(key) != want:
                errs.append("device %s: %s=%s, tshark sees %d %s queries from it"
                            % (mac, key, dev.get(key), want, kind))
        return errs

    def check_doh_device(self, rel, t, r, status, detail):
        mac = self.labeled_mac(rel)
        how = "manifest"
        if not mac:
            # The manifest gives the label, not the MAC: the device is the
            # source MAC of the DNS queries, derived with tshark.
            macs = t["query_macs"]["dns"]
            if len(macs) != 1:
                self.fail("%s: tshark sees DNS queries from %d MACs %s; cannot derive the labeled device"
                          % (rel, len(macs), sorted(macs)))
                return "FAIL", detail
            mac = next(iter(macs))
            how = "derived with tshark: source MAC of all %d DNS queries" % macs[mac]
        errs = []
        devs = r.devices or []
        if r.summary.get("devices") != 1:
            errs.append("summary devices=%s, expected 1" % r.summary.get("devices"))
        if len(devs) != 1:
            errs.append("iotdns devices lists %d devices %s, expected 1"
                        % (len(devs), [d.get("key") for d in devs]))
        elif (devs[0].get("mac") or "").lower() != mac:
            errs.append("the device is %s, the labeled device is %s" % (devs[0].get("mac"), mac))
        else:
            errs += self.device_queries_errors(t, devs[0], mac)
        detail += " device=%s (%s)" % (mac, how)
        if errs:
            self.fail("%s: %s" % (rel, "; ".join(errs)))
            return "FAIL", detail + " -- " + "; ".join(errs)
        return status, detail

    def check_iot_device(self, rel, t, r, status, detail):
        """The labeled device (MAC in the manifest) is a device of iotdns with
        as many queries of each kind as tshark sees from that MAC, when it
        sent any."""
        mac = self.labeled_mac(rel)
        if not mac or r.devices is None:
            return status, detail
        want = sum(t["query_macs"][k].get(mac, 0) for k in ("dns", "mdns", "llmnr"))
        if want == 0:
            return status, detail + " (labeled device %s sent no queries)" % mac
        dev = next((d for d in r.devices if (d.get("mac") or "").lower() == mac), None)
        if not dev:
            errs = ["labeled device %s (%d queries in tshark) is not among iotdns's devices" % (mac, want)]
        else:
            errs = self.device_queries_errors(t, dev, mac)
        if errs:
            self.fail("%s: %s" % (rel, "; ".join(errs)))
            return "FAIL", detail + " -- " + "; ".join(errs)
        return status, detail + " device %s queries dns/mdns/llmnr=%d/%d/%d" % (
            mac, dev.get("queries"), dev.get("mdns_queries"), dev.get("llmnr_queries"))

    # -- malformed ------------------------------------------------------

    def run_malformed(self):
        files = self.files("malformed")
        if not files:
            log("SKIP: no files under %s" % self.path("malformed"))
            return SKIP
        if not self.tshark:
            log("note: tshark not found; its counts are not shown")

        def one(rel):
            path = self.path(rel)
            sha = sha256_file(path)
            t = self.tshark.count(path, sha) if self.tshark else None
            with tempfile.TemporaryDirectory(prefix="iotdns-corpus-") as wd:
                r = run_iotdns(self.a.iotdns, [path], wd, self.a.file_timeout, env=self.env)
                dberrs = check_db(r, path, sha) if r.summary and not r.timeout and not r.crashed else []
            return rel, t, r, dberrs

        log("columns: status, file, tshark count (information only), iotdns count, problems")
        for rel, t, r, dberrs in self.pool(one, files):
            e = self.exc.get(rel)
            if e:
                e.used = True
            errs = list(dberrs)
            if r.timeout:
                errs.append("hang: no exit within %d s" % self.a.file_timeout)
            elif r.crashed:
                errs.append("crash: %s (%s)" % (r.describe(), r.stderr[-300:]))
            elif r.rc not in (0, 3):
                errs.append("exit %d (only 0 or 3 allowed): %s" % (r.rc, r.stderr[:300]))
            elif r.rc == 3 and not names_file(r.stderr, self.path(rel)):
                errs.append("exit 3 message does not name the file: %r" % r.stderr[:300])
            elif not r.summary:
                errs.append("no JSON summary on stdout")
            notes = self.manifest.get(rel, {}).get("notes", "")
            broken = bool(BROKEN_DNS_RE.search(notes))
            if broken and r.rc == 0 and r.summary:
                pr = r.summary.get("problems", {})
                if e and e.dns_ok:
                    pass
                elif not any(pr.get(k) for k in DNS_LEVEL):
                    errs.append("the manifest says the DNS is broken (%s) but no DNS problem is counted: %s"
                                % (notes[:80], pr))
            ic = r.count()
            detail = "tshark=%s iotdns=%s %s problems=%s" % (
                "-" if not t else t["dns"], "-" if ic is None else ic, r.describe(),
                json.dumps((r.summary or {}).get("problems", {}), separators=(",", ":")))
            if r.rc == 3:
                detail += " message: " + r.stderr.splitlines()[0][:160] if r.stderr else ""
            if broken:
                detail += " [manifest: DNS broken%s]" % ("; exception: " + e.why if e and e.dns_ok else "")
            if errs:
                self.fail("%s: %s" % (rel, "; ".join(errs)))
                self.report("FAIL", rel, detail + " -- " + "; ".join(errs))
            else:
                self.report("exception" if e else "ok", rel, detail)
        self.run_generated_inputs()
        return self.finish(set(files))

    def run_generated_inputs(self):
        """Captures cut inside a record, an empty file and a text file: exit 3
        naming the file (and the packet), everything before analyzed."""
        gen = os.path.join(self.a.cache_dir or tempfile.gettempdir(), "generated")
        os.makedirs(gen, exist_ok=True)
        cases = []
        for src in ("dns/dnscap__dns.pcap", "dns/chrissanders__dns_lab.pcapng",
                    "iot/iotsentinel__HueBridge__Setup-A-1-STA.pcap"):
            p = self.path(src)
            if not os.path.exists(p) or (self.a.only and not any(o in src for o in self.a.only)):
                continue
            with open(p, "rb") as f:
                data = f.read()
            recs = record_offsets(data)
            if len(recs) < 2:
                continue
            k = (len(recs) + 1) // 2          # cut inside record k (1-based)
            start, end = recs[k - 1]
            out = os.path.join(gen, "cut-%d-of-%d__%s" % (k, len(recs), os.path.basename(src)))
            with open(out, "wb") as f:
                f.write(data[:start + (end - start) // 2])
            cases.append((out, k))
        empty = os.path.join(gen, "empty.pcap")
        open(empty, "wb").close()
        text = os.path.join(gen, "not-a-capture.pcap")
        with open(text, "w") as f:
            f.write("this is not a capture file\n" * 20)
        cases += [(empty, None), (text, None)]
        for path, k in cases:
            with tempfile.TemporaryDirectory(prefix="iotdns-corpus-") as wd:
                r = run_iotdns(self.a.iotdns, [path], wd, self.a.file_timeout, env=self.env)
                errs = []
                if r.timeout or r.crashed or r.rc != 3:
                    errs.append("iotdns %s, expected exit 3 (%s)" % (r.describe(), r.stderr[:200]))
                elif not names_file(r.stderr, path):
                    errs.append("message does not name the file: %r" % r.stderr[:300])
                elif k is not None and not re.search(r"\bpacket %d\b" % k, r.stderr):
                    errs.append("message does not name packet %d: %r" % (k, r.stderr[:300]))
                detail = r.describe()
                if not errs and k is not None:
                    if not r.summary or r.summary.get("packets") != k - 1:
                        errs.append("summary packets=%s, expected the %d complete records"
                                    % ((r.summary or {}).get("packets"), k - 1))
                    else:
                        errs += check_db(r, path, None)
                        if self.tshark:
                            t = self.tshark.count(path)
                            if r.count() != t["dns"]:
                                errs.append("iotdns counts %s DNS messages before the cut, tshark %d"
                                            % (r.count(), t["dns"]))
                            detail = "tshark=%d iotdns=%s %s" % (t["dns"], r.count(), detail)
                rel = "generated/" + os.path.basename(path)
                if errs:
                    self.fail("%s: %s" % (rel, "; ".join(errs)))
                    self.report("FAIL", rel, detail + " -- " + "; ".join(errs))
                else:
                    self.report("ok", rel, detail + " message: " + (r.stderr.splitlines() or [""])[0][:160])

    # -- mmdb -------------------------------------------------------------

    def run_mmdb(self):
        mdir = self.path("mmdb")
        asn = os.path.join(mdir, "GeoLite2-ASN-Test.mmdb")
        geo = os.path.join(mdir, "GeoLite2-City-Test.mmdb")
        pcap = self.path("dns/dnscap__dns.pcap")
        if not (os.path.exists(asn) and os.path.exists(geo) and os.path.exists(pcap)):
            log("SKIP: %s, %s or %s absent" % (asn, geo, pcap))
            return SKIP
        gen = os.path.join(self.a.cache_dir or tempfile.gettempdir(), "generated")
        os.makedirs(gen, exist_ok=True)
        synth = os.path.join(gen, "mmdb-resolver.pcap")
        write_resolver_pcap(synth)

        def analyze(inputs, extra):
            with tempfile.TemporaryDirectory(prefix="iotdns-corpus-") as wd:
                r = run_iotdns(self.a.iotdns, inputs, wd, self.a.file_timeout, extra, env=self.env)
                if r.rc == 0:
                    r.devices, err = iotdns_devices(self.a.iotdns, r.db)
                    if err:
                        r.stderr += " " + err
                return r

        # good databases: same counts as without them, and the resolver of
        # the synthetic capture (89.160.20.112, in both test databases) is
        # enriched from them: AS 29518 "Bredband2 AB", country SE (values
        # from MaxMind's published test data)
        base = analyze([pcap, synth], [])
        good = analyze([pcap, synth], ["--asn-db", asn, "--geo-db", geo])
        errs = []
        if base.rc != 0 or good.rc != 0:
            errs.append("without databases %s, with the good ones %s: %s"
                        % (base.describe(), good.describe(), good.stderr[:300]))
        else:
            for k in ("packets", "dns_messages", "dns_queries", "dns_responses", "devices"):
                if base.summary.get(k) != good.summary.get(k):
                    errs.append("%s differs with the databases: %s vs %s" % (k, good.summary.get(k), base.summary.get(k)))
            got = resolver(good.devices, "89.160.20.112")
            plain = resolver(base.devices, "89.160.20.112")
            if not got:
                errs.append("resolver 89.160.20.112 of the synthetic capture is missing")
            else:
                want = {"asn": 29518, "as_org": "Bredband2 AB", "country": "SE"}
                have = {k: got.get(k) for k in want}
                if have != want:
                    errs.append("resolver 89.160.20.112 enriched as %s, expected %s" % (have, want))
                if plain and (plain.get("asn") or plain.get("country")):
                    errs.append("without databases the resolver still has asn/country %s/%s"
                                % (plain.get("asn"), plain.get("country")))
        self.mmdb_report("GeoLite2-ASN-Test.mmdb + GeoLite2-City-Test.mmdb", good, errs)

        bad = [f for f in self.files("mmdb", r"^bad__.*\.mmdb$")]
        broken = [f for f in self.files("mmdb", r"\.mmdb$") if not os.path.basename(f).startswith("bad__")
                  and re.search(r"intentionally (broken|corrupt)", self.manifest.get(f, {}).get("notes", ""), re.I)]
        jobs = [(f, o, True) for f in bad for o in ("--asn-db", "--geo-db")]
        jobs += [(f, o, False) for f in broken for o in ("--asn-db", "--geo-db")]

        def one(job):
            f, opt, must_fail = job
            return job, analyze([pcap], [opt, self.path(f)])

        for (f, opt, must_fail), r in self.pool(one, jobs):
            errs = []
            if r.timeout or r.crashed:
                errs.append("iotdns %s" % r.describe())
            elif must_fail and r.rc != 4:
                errs.append("%s, expected exit 4: %s" % (r.describe(), r.stderr[:200]))
            elif not must_fail and r.rc not in (0, 4):
                errs.append("%s, expected 0 or 4: %s" % (r.describe(), r.stderr[:200]))
            if r.rc == 4 and not names_file(r.stderr, self.path(f)):
                errs.append("message does not name the file: %r" % r.stderr[:300])
            self.mmdb_report("%s %s" % (opt, f), r, errs)
        if not bad:
            self.fail("no bad__*.mmdb files under %s" % mdir)
        return self.finish(set())

    def mmdb_report(self, what, r, errs):
        msg = (r.stderr.splitlines() or [""])[0][:150]
        detail = r.describe() + (" message: " + msg if msg else "")
        if errs:
            self.fail("%s: %s" % (what, "; ".join(errs)))
            self.report("FAIL", what, detail + " -- " + "; ".join(errs))
        else:
            self.report("ok", what, detail)


def resolver(devs, addr):
    for d in devs or []:
        for r in d.get("resolvers") or []:
            if r.get("address") == addr:
                return r
    return None


# ---------------------------------------------------------------------------
# capture files: record boundaries (for cutting) and a tiny synthetic capture

def record_offsets(data):
    """[(start, end)] of the packet records of a pcap or pcapng file."""
    recs = []
    if len(data) < 24:
        return recs
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xd4, 0x4d) else ">"
        off = 24
        while off + 16 <= len(data):
            caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
            end = off + 16 + caplen
            if end > len(data):
                break
            recs.append((off, end))
            off = end
        return recs
    if magic == b"\x0a\x0d\x0d\x0a":
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off = 0
        while off + 12 <= len(data):
            btype, blen = struct.unpack(e + "II", data[off:off + 8])
            if blen < 12 or off + blen > len(data):
                break
            if btype in (2, 3, 6):      # packet, simple packet, enhanced packet
                recs.append((off, off + blen))
            off += blen
    return recs


def write_resolver_pcap(path):
    """A device (02:00:00:00:00:01, 10.0.0.2) asks 89.160.20.112 for
    example.com A and gets an answer: one resolver inside the MaxMind test
    databases' ranges."""
    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        return ~s & 0xffff

    def frame(smac, dmac, sip, dip, sport, dport, dns):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(dns), 0) + dns
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, sip, dip)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return dmac + smac + b"\x08\x00" + ip + udp

    dev_mac, gw_mac = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
    dev_ip, res_ip = bytes([10, 0, 0, 2]), bytes([89, 160, 20, 112])
    qname = b"\x07example\x03com\x00"
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    a = (struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + qname + struct.pack("!HH", 1, 1)
         + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + bytes([93, 184, 216, 34]))
    frames = [frame(dev_mac, gw_mac, dev_ip, res_ip, 40000, 53, q),
              frame(gw_mac, dev_mac, res_ip, dev_ip, 53, 40000, a)]
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for i, fr in enumerate(frames):
        out += struct.pack("<IIII", 1700000000, 1000 * i, len(fr), len(fr)) + fr
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iotdns", required=True, help="the iotdns executable")
    ap.add_argument("--suite", required=True, choices=["dns", "iot", "doh_iot", "malformed", "mmdb"])
    ap.add_argument("--corpus", help="the corpus directory (default: $IOTDNS_SOURCE_ROOT/../shared/corpus)")
    ap.add_argument("--exceptions", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "exceptions.tsv"))
    ap.add_argument("--cache-dir", help="where tshark's counts are cached (by SHA-256 of the file)")
    ap.add_argument("--tshark", default=shutil.which("tshark"), help="the tshark executable")
    ap.add_argument("--jobs", type=int, default=max(2, min(4, os.cpu_count() or 2)))
    ap.add_argument("--file-timeout", type=int, default=20, help="seconds per iotdns run")
    ap.add_argument("--resolver-db", help="IOTDNS_RESOLVER_DB for iotdns")
    ap.add_argument("only", nargs="*", help="only files whose path contains one of these")
    a = ap.parse_args()
    if not a.corpus:
        root = os.environ.get("IOTDNS_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        a.corpus = os.path.join(root, "..", "shared", "corpus")
    a.corpus = os.path.normpath(a.corpus)
    if not os.path.isdir(a.corpus):
        log("SKIP: corpus absent: %s does not exist (the corpus tests need the shared corpus next to the checkout)"
            % a.corpus)
        return SKIP
    if not (os.path.isfile(a.iotdns) and os.access(a.iotdns, os.X_OK)):
        log("FAIL: the iotdns executable %s does not exist or is not executable (did the build fail?)" % a.iotdns)
        return 1
    if a.tshark and not os.access(a.tshark, os.X_OK):
        a.tshark = None
    s = Suite(a)
    if a.resolver_db:
        s.env["IOTDNS_RESOLVER_DB"] = a.resolver_db
    if a.suite in ("dns", "iot", "doh_iot"):
        return s.run_counts([a.suite])
    if a.suite == "malformed":
        return s.run_malformed()
    return s.run_mmdb()


if __name__ == "__main__":
    sys.exit(main())

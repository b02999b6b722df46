#!/usr/bin/env python3
"""pcapgen - the iotdns capture generator.

Reads a text scenario (.scn, documented in docs/scenarios.md) that describes a
small network - its DHCP server and resolvers, the devices on it and how each
device's DNS stack behaves - and writes the capture a sensor on that network
would have recorded: DHCP exchanges, IPv6 router advertisements, DNS queries
and real DNS responses (UDP, TCP, fragmented), mDNS, LLMNR, DoT/DoH flows.

    python3 tests/tools/pcapgen.py SCENARIO.scn -o OUT.pcap [--truth OUT.jsonl]

Guarantees:
  * Python 3.9+ standard library only.
  * Deterministic: every random choice comes from a private random.Random
    seeded from the scenario's `seed` and the device name, so the same
    scenario gives a byte-identical capture (and adding a device does not
    change the packets of the others).
  * Every packet is well formed: IPv4 header checksums, UDP/TCP/ICMPv6
    checksums, DNS messages built field by field (header, question, answer
    RRs with name compression, SOA in the authority section, OPT RR echoing
    the query's EDNS), DHCP with a magic cookie and options, TLS 1.3
    ClientHello/ServerHello records for DoT/DoH.

--truth writes what the generator itself did, per device, as JSON lines
(queries, retransmissions, responses, unanswered transactions, resolvers and
transports, boot sessions). It is bookkeeping of the generator, independent of
the analyzer, and helps when writing expected results by hand.

Layout of this file (one class per layer, bottom-up):
  units / addresses ....... parse_duration, parse_mac, checksum
  Frame, CaptureWriter .... link layers (Ethernet+802.1Q/802.1ad, LINUX_SLL,
                            LINUX_SLL2, RAW) and file formats (pcap, pcapng)
  IPv4, IPv6 .............. IP packets, extension headers, fragmentation
  Udp, Tcp, TcpConn ....... transports; TcpConn plays a whole connection
  Dns ..................... DNS message builder (queries and responses)
  Dhcp4, Dhcp6, Icmp6, Tls  application payloads
  Scenario parsing ........ Network, LanHost, Resolver, Device, Scenario
  Simulation .............. Sim (packet emission), DeviceRun (one device's
                            boots, schedules and DNS stack), Truth
"""

import argparse
import calendar
import hashlib
import heapq
import ipaddress
import json
import random
import re
import shlex
import struct
import sys
import time

# ---------------------------------------------------------------------------
# units and addresses
# ---------------------------------------------------------------------------

US = 1
MS = 1000
SEC = 1000000

_DUR_RE = re.compile(r'(\d+(?:\.\d+)?)(us|ms|s|m|h|d)')
_DUR_UNIT = {'us': 1, 'ms': MS, 's': SEC, 'm': 60 * SEC, 'h': 3600 * SEC, 'd': 86400 * SEC}


def parse_duration(text):
    """'1h30m', '250ms', '2.5s', '90s', '0' -> integer microseconds."""
    if text == '0':
        return 0
    pos, total = 0, 0
    for m in _DUR_RE.finditer(text):
        if m.start() != pos:
            break
        total += int(round(float(m.group(1)) * _DUR_UNIT[m.group(2)]))
        pos = m.end()
    if pos != len(text) or not text:
        raise ValueError('bad duration %r (use e.g. 90s, 1h30m, 250ms)' % text)
    return total


def fmt_duration(us):
    if us % SEC == 0:
        s = us // SEC
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        out = ('%dh' % h if h else '') + ('%dm' % m if m else '') + ('%ds' % s if s else '')
        return out or '0s'
    return '%.6gs' % (us / SEC)


def parse_mac(text):
    parts = text.replace('-', ':').split(':')
    if len(parts) != 6:
        raise ValueError('bad MAC %r' % text)
    return bytes(int(p, 16) for p in parts)


def fmt_mac(b):
    return ':'.join('%02x' % x for x in b)


def ip_bytes(text):
    return ipaddress.ip_address(text).packed


def ip_text(b):
    return str(ipaddress.ip_address(b))


def checksum(data):
    """RFC 1071 ones' complement sum of 16-bit words."""
    if len(data) & 1:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def l4_checksum(src, dst, proto, segment):
    """Checksum of a UDP/TCP/ICMPv6 segment with its IPv4 or IPv6 pseudo-header."""
    if len(src) == 4:
        pseudo = src + dst + struct.pack('!BBH', 0, proto, len(segment))
    else:
        pseudo = src + dst + struct.pack('!IxxxB', len(segment), proto)
    c = checksum(pseudo + segment)
    if proto == 17 and c == 0:
        c = 0xffff
    return c


def multicast_mac(ip):
    if len(ip) == 4:
        return bytes([0x01, 0x00, 0x5e, ip[1] & 0x7f, ip[2], ip[3]])
    return b'\x33\x33' + ip[12:16]


def eui64_link_local(mac):
    iid = bytes([mac[0] ^ 0x02]) + mac[1:3] + b'\xff\xfe' + mac[3:6]
    return b'\xfe\x80' + b'\0' * 6 + iid


BROADCAST_MAC = b'\xff' * 6

# ---------------------------------------------------------------------------
# link layer and capture files
# ---------------------------------------------------------------------------

ETH_IPV4, ETH_IPV6, ETH_8021Q, ETH_8021AD = 0x0800, 0x86dd, 0x8100, 0x88a8
LINKTYPES = {'ethernet': 1, 'raw': 101, 'sll': 113, 'sll2': 276}


class Frame:
    """One captured packet in link-neutral form; CaptureWriter renders it."""
    __slots__ = ('ts', 'seq', 'src_mac', 'dst_mac', 'vlans', 'ethertype', 'l3')

    def __init__(self, ts, seq, src_mac, dst_mac, vlans, ethertype, l3):
        self.ts, self.seq = ts, seq
        self.src_mac, self.dst_mac = src_mac, dst_mac
        self.vlans, self.ethertype, self.l3 = vlans, ethertype, l3


class CaptureWriter:
    """Writes frames as classic pcap (microseconds) or pcapng, in one of the
    link types ethernet (802.1Q / 802.1ad tags kept), sll, sll2 or raw (tags
    and MAC addresses dropped). For SLL the packet type says whether the
    capturing host (the router, `capture-host`) sent or received the frame."""

    def __init__(self, fmt, link, snaplen, capture_host_mac, sll_address=True):
        if link not in LINKTYPES:
            raise ValueError('unknown link type %r' % link)
        self.fmt, self.link, self.snaplen = fmt, link, snaplen
        self.linktype = LINKTYPES[link]
        self.host_mac = capture_host_mac
        self.sll_address = sll_address

    def header(self):
        if self.fmt == 'pcap':
            return struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, self.snaplen, self.linktype)
        appl = b'iotdns pcapgen'
        opts = self._opt(4, appl) + struct.pack('<HH', 0, 0)
        body = struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) + opts
        shb = self._block(0x0A0D0D0A, body)
        idb_opts = self._opt(2, b'sensor0') + self._opt(9, b'\x06') + struct.pack('<HH', 0, 0)
        idb = self._block(1, struct.pack('<HHI', self.linktype, 0, self.snaplen) + idb_opts)
        return shb + idb

    @staticmethod
    def _opt(code, value):
        pad = (-len(value)) % 4
        return struct.pack('<HH', code, len(value)) + value + b'\0' * pad

    @staticmethod
    def _block(btype, body):
        pad = (-len(body)) % 4
        total = 12 + len(body) + pad
        return struct.pack('<II', btype, total) + body + b'\0' * pad + struct.pack('<I', total)

    def _pkttype(self, f):
        if f.dst_mac == BROADCAST_MAC:
            return 1
        if f.dst_mac[0] & 1:
            return 2
        if f.src_mac == self.host_mac:
            return 4
        if f.dst_mac == self.host_mac:
            return 0
        return 3

    def link_bytes(self, f):
        if self.link == 'ethernet':
            hdr = f.dst_mac + f.src_mac
            tags = list(f.vlans)
            for i, vid in enumerate(tags):
                tpid = ETH_8021AD if (i == 0 and len(tags) > 1) else ETH_8021Q
                hdr += struct.pack('!HH', tpid, vid & 0x0fff)
            return hdr + struct.pack('!H', f.ethertype) + f.l3
        if self.link == 'raw':
            return f.l3
        alen = 6 if self.sll_address else 0
        addr = (f.src_mac if alen else b'') + b'\0' * (8 - alen)
        if self.link == 'sll':
            return struct.pack('!HHH', self._pkttype(f), 1, alen) + addr + \
                struct.pack('!H', f.ethertype) + f.l3
        # sll2
        return struct.pack('!HHIHBB', f.ethertype, 0, 1, 1, self._pkttype(f), alen) + addr + f.l3

    def record(self, f):
        data = self.link_bytes(f)
        cap = data[:self.snaplen]
        if self.fmt == 'pcap':
            return struct.pack('<IIII', f.ts // SEC, f.ts % SEC, len(cap), len(data)) + cap
        body = struct.pack('<IIIII', 0, f.ts >> 32, f.ts & 0xffffffff, len(cap), len(data)) + cap
        return self._block(6, body)


# ---------------------------------------------------------------------------
# network layer
# ---------------------------------------------------------------------------

class IPv4:
    """IPv4 packets (20-byte header, correct checksum) and fragments."""

    @staticmethod
    def header(src, dst, proto, plen, ident, ttl, flags_off):
        h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + plen, ident, flags_off, ttl, proto, 0, src, dst)
        return h[:10] + struct.pack('!H', checksum(h)) + h[12:]

    @classmethod
    def packet(cls, src, dst, proto, payload, ident, ttl=64, df=True):
        return cls.header(src, dst, proto, len(payload), ident, ttl, 0x4000 if df else 0) + payload

    @classmethod
    def fragments(cls, src, dst, proto, payload, ident, mtu, ttl=64):
        """Splits payload (a whole UDP datagram) into fragments fitting mtu."""
        chunk = ((mtu - 20) // 8) * 8
        out = []
        for off in range(0, len(payload), chunk):
            part = payload[off:off + chunk]
            more = off + chunk < len(payload)
            out.append(cls.header(src, dst, proto, len(part), ident, ttl,
                                  (0x2000 if more else 0) | (off // 8)) + part)
        return out


IPV6_EXT_CODES = {'hbh': 0, 'dst': 60, 'rt': 43}


class IPv6:
    """IPv6 packets with optional extension headers and a fragment header."""

    @staticmethod
    def ext_headers(kinds, final_nh):
        """Builds the chain for kinds like ['hbh', 'dst']: each is 8 bytes with
        a PadN option (routing: type 4 segment routing header with no segments
        left would be odd, so 'rt' is a type 0 header with segments left 0)."""
        out = b''
        codes = [IPV6_EXT_CODES[k] for k in kinds]
        for i, k in enumerate(kinds):
            nh = codes[i + 1] if i + 1 < len(codes) else final_nh
            if k == 'rt':
                out += struct.pack('!BBBB4x', nh, 0, 0, 0)
            else:
                out += struct.pack('!BB', nh, 0) + b'\x01\x04\0\0\0\0'
        return (codes[0] if codes else final_nh), out

    @classmethod
    def packet(cls, src, dst, nh, payload, hlim=64, ext=()):
        first, chain = cls.ext_headers(list(ext), nh)
        body = chain + payload
        return struct.pack('!IHBB16s16s', 0x60000000, len(body), first, hlim, src, dst) + body

    @classmethod
    def fragments(cls, src, dst, nh, payload, ident, mtu, hlim=64):
        chunk = ((mtu - 40 - 8) // 8) * 8
        out = []
        for off in range(0, len(payload), chunk):
            part = payload[off:off + chunk]
            more = off + chunk < len(payload)
            fh = struct.pack('!BBHI', nh, 0, off | (1 if more else 0), ident)
            body = fh + part
            out.append(struct.pack('!IHBB16s16s', 0x60000000, len(body), 44, hlim, src, dst) + body)
        return out


# ---------------------------------------------------------------------------
# transport layer
# ---------------------------------------------------------------------------

class Udp:
    @staticmethod
    def segment(src, dst, sport, dport, payload):
        seg = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
        c = l4_checksum(src, dst, 17, seg)
        return seg[:6] + struct.pack('!H', c) + seg[8:]


TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class Tcp:
    @staticmethod
    def segment(src, dst, sport, dport, seq, ack, flags, payload=b'', syn_opts=False):
        opts = b''
        window = 502            # x128 (window scale 7) after the handshake
        if flags & TCP_SYN:
            window = 64240
        if syn_opts:   # MSS 1460, NOP, NOP, SACK permitted, NOP, window scale 7
            opts = struct.pack('!BBH', 2, 4, 1460) + b'\x01\x01\x04\x02' + b'\x01\x03\x03\x07'
        off = (20 + len(opts)) // 4
        seg = struct.pack('!HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                          off << 4, flags, window, 0, 0) + opts + payload
        c = l4_checksum(src, dst, 6, seg)
        return seg[:16] + struct.pack('!H', c) + seg[18:]


class TcpConn:
    """One TCP connection between a client and a server Endpoint, played on
    the wire through Sim.send_tcp: handshake, data (optionally split into
    several segments or sent out of order), FIN exchange."""

    def __init__(self, sim, rng, client, server, cport, sport, t):
        self.sim, self.rng = sim, rng
        self.client, self.server = client, server
        self.cport, self.sport = cport, sport
        self.cseq = rng.getrandbits(32)
        self.sseq = rng.getrandbits(32)
        self.t = t
        self.rtt = server.rtt(rng)

    def _send(self, t, from_client, flags, payload=b'', syn_opts=False):
        if from_client:
            self.sim.send_tcp(t, self.client, self.server, self.cport, self.sport,
                              self.cseq, self.sseq, flags, payload, syn_opts)
            self.cseq += len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)
        else:
            self.sim.send_tcp(t, self.server, self.client, self.sport, self.cport,
                              self.sseq, self.cseq, flags, payload, syn_opts)
            self.sseq += len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)

    def open(self):
        t = self.t
        self.sim.send_tcp(t, self.client, self.server, self.cport, self.sport,
                          self.cseq, 0, TCP_SYN, b'', True)
        self.cseq += 1
        t += self.rtt // 2
        self.sim.send_tcp(t, self.server, self.client, self.sport, self.cport,
                          self.sseq, self.cseq, TCP_SYN | TCP_ACK, b'', True)
        self.sseq += 1
        t += self.rtt // 2
        self._send(t, True, TCP_ACK)
        self.t = t + 200
        return self.t

    def data(self, from_client, payload, pieces=1, order='in', ack=True):
        """Sends payload in `pieces` segments. The first piece of a split DNS
        message is one byte (half of the length prefix), the rest is cut in
        equal parts. order 'reverse' emits the pieces in reverse order (the
        later sequence numbers first, as a reordering network would)."""
        cuts = [0]
        if pieces > 1:
            cuts.append(1)
            rest = len(payload) - 1
            for i in range(1, pieces - 1):
                cuts.append(1 + rest * i // (pieces - 1))
        cuts.append(len(payload))
        parts = [payload[cuts[i]:cuts[i + 1]] for i in range(len(cuts) - 1)]
        seq0 = self.cseq if from_client else self.sseq
        offs = [seq0 + cuts[i] for i in range(len(parts))]
        idx = list(range(len(parts)))
        if order == 'reverse':
            idx.reverse()
        elif order == 'swap' and len(idx) >= 3:
            idx[-1], idx[-2] = idx[-2], idx[-1]
        t = self.t
        for i in idx:
            src, dst = (self.client, self.server) if from_client else (self.server, self.client)
            sp, dp = (self.cport, self.sport) if from_client else (self.sport, self.cport)
            acknum = self.sseq if from_client else self.cseq
            self.sim.send_tcp(t, src, dst, sp, dp, offs[i], acknum, TCP_PSH | TCP_ACK, parts[i])
            t += 40
        if from_client:
            self.cseq += len(payload)
        else:
            self.sseq += len(payload)
        self.t = t
        if ack:
            self.t += self.rtt // 2
            self._send(self.t, not from_client, TCP_ACK)
            self.t += 100
        return self.t

    def wait(self, us):
        self.t += us
        return self.t

    def close(self):
        self._send(self.t, True, TCP_FIN | TCP_ACK)
        self.t += self.rtt // 2
        self._send(self.t, False, TCP_FIN | TCP_ACK)
        self.t += self.rtt // 2
        self._send(self.t, True, TCP_ACK)
        return self.t


# ---------------------------------------------------------------------------
# DNS messages
# ---------------------------------------------------------------------------

RRTYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'PTR': 12, 'HINFO': 13, 'MX': 15, 'TXT': 16,
           'AAAA': 28, 'SRV': 33, 'OPT': 41, 'HTTPS': 65, 'SVCB': 64, 'ANY': 255}
RRNAMES = {v: k for k, v in RRTYPES.items()}
RCODES = {'NOERROR': 0, 'FORMERR': 1, 'SERVFAIL': 2, 'NXDOMAIN': 3, 'NOTIMP': 4, 'REFUSED': 5}


class Rr:
    """A resource record. rdata is bytes, or ('name', target) / ('soa', ...) /
    ('srv', prio, weight, port, target) so that names inside can be compressed."""
    __slots__ = ('owner', 'rtype', 'rclass', 'ttl', 'rdata')

    def __init__(self, owner, rtype, ttl, rdata, rclass=1):
        self.owner, self.rtype, self.ttl, self.rdata, self.rclass = owner, rtype, ttl, rdata, rclass


class Dns:
    """Builds DNS messages. Names are compressed against earlier names in the
    same message (case-insensitively, as resolvers do)."""

    def __init__(self):
        self.buf = bytearray()
        self.names = {}

    def name(self, name, compress=True):
        labels = [l for l in name.rstrip('.').split('.') if l] if name not in ('', '.') else []
        for i in range(len(labels)):
            key = '.'.join(labels[i:]).lower()
            if compress and key in self.names:
                self.buf += struct.pack('!H', 0xc000 | self.names[key])
                return
            if len(self.buf) < 0x3fff:
                self.names.setdefault(key, len(self.buf))
            lab = labels[i].encode('ascii')
            self.buf += bytes([len(lab)]) + lab
        self.buf += b'\0'

    def rr(self, r):
        self.name(r.owner)
        self.buf += struct.pack('!HHI', r.rtype, r.rclass, r.ttl)
        at = len(self.buf)
        self.buf += b'\0\0'
        d = r.rdata
        if isinstance(d, (bytes, bytearray)):
            self.buf += d
        elif d[0] == 'name':
            self.name(d[1])
        elif d[0] == 'soa':
            self.name(d[1])
            self.name(d[2])
            self.buf += struct.pack('!IIIII', *d[3:8])
        elif d[0] == 'srv':
            self.buf += struct.pack('!HHH', d[1], d[2], d[3])
            self.name(d[4], compress=False)
        struct.pack_into('!H', self.buf, at, len(self.buf) - at - 2)

    @staticmethod
    def opt_rr(udp_size, do_bit, options, ext_rcode=0):
        rdata = b''.join(struct.pack('!HH', c, len(v)) + v for c, v in options)
        return b'\0' + struct.pack('!HHBBHH', 41, udp_size, ext_rcode, 0,
                                   0x8000 if do_bit else 0, len(rdata)) + rdata

    @classmethod
    def message(cls, ident, flags, question, answers=(), authority=(), opt=None, pad_block=0):
        """question: (name, qtype, qclass) or None; opt: dict(size, do, options)."""
        m = cls()
        m.buf += struct.pack('!HHHHHH', ident, flags, 1 if question else 0, len(answers),
                             len(authority), 1 if opt is not None else 0)
        if question:
            m.name(question[0])
            m.buf += struct.pack('!HH', question[1], question[2])
        for r in answers:
            m.rr(r)
        for r in authority:
            m.rr(r)
        if opt is not None:
            options = list(opt.get('options', ()))
            if pad_block:
                base = len(m.buf) + 11 + sum(4 + len(v) for _, v in options) + 4
                options.append((12, b'\0' * ((-base) % pad_block)))
            m.buf += cls.opt_rr(opt.get('size', 1232), opt.get('do', False), options)
        return bytes(m.buf)


def ecs_option(prefix_text, scope=0):
    net = ipaddress.ip_network(prefix_text, strict=False)
    fam = 1 if net.version == 4 else 2
    nbytes = (net.prefixlen + 7) // 8
    return (8, struct.pack('!HBB', fam, net.prefixlen, scope) + net.network_address.packed[:nbytes])


def case_0x20(rng, name):
    return ''.join(c.upper() if c.isalpha() and rng.random() < 0.5 else c.lower() for c in name)


def synth_address(name, rtype, index=0):
    """A stable documentation address for a name (RFC 5737 / RFC 3849)."""
    h = hashlib.sha256(('%s/%d/%d' % (name.lower(), rtype, index)).encode()).digest()
    if rtype == 1:
        nets = [(192, 0, 2), (198, 51, 100), (203, 0, 113)]
        a, b, c = nets[h[0] % 3]
        return bytes([a, b, c, 1 + h[1] % 254])
    return bytes.fromhex('20010db8') + h[2:14]


# ---------------------------------------------------------------------------
# application payloads: DHCPv4, DHCPv6, ICMPv6 RS/RA, TLS
# ---------------------------------------------------------------------------

class Dhcp4:
    @staticmethod
    def message(op, xid, chaddr, options, ciaddr=b'\0' * 4, yiaddr=b'\0' * 4, siaddr=b'\0' * 4,
                flags=0, secs=0):
        hdr = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', op, 1, 6, 0, xid, secs, flags, ciaddr,
                          yiaddr, siaddr, b'\0' * 4, chaddr, b'', b'')
        opts = b''.join(bytes([c, len(v)]) + v for c, v in options) + b'\xff'
        msg = hdr + b'\x63\x82\x53\x63' + opts
        return msg + b'\0' * max(0, 300 - len(msg))


class Dhcp6:
    @staticmethod
    def duid_ll(mac):
        return struct.pack('!HH', 3, 1) + mac

    @staticmethod
    def message(mtype, xid, options):
        return struct.pack('!I', (mtype << 24) | (xid & 0xffffff)) + \
            b''.join(struct.pack('!HH', c, len(v)) + v for c, v in options)


class Icmp6:
    @staticmethod
    def message(src, dst, itype, body):
        msg = struct.pack('!BBH', itype, 0, 0) + body
        c = l4_checksum(src, dst, 58, msg)
        return msg[:2] + struct.pack('!H', c) + msg[4:]

    @staticmethod
    def router_solicitation(mac):
        return struct.pack('!I', 0) + struct.pack('!BB', 1, 1) + mac

    @staticmethod
    def router_advert(mac, prefix, rdnss, lifetime=1800, managed=False):
        flags = (0x80 if managed else 0) | 0x40
        body = struct.pack('!BBHII', 64, flags, lifetime, 0, 0)
        body += struct.pack('!BB', 1, 1) + mac
        body += struct.pack('!BBHI', 5, 1, 0, 1500)
        if prefix is not None:
            net = ipaddress.ip_network(prefix)
            body += struct.pack('!BBBBIII', 3, 4, net.prefixlen, 0xc0, 86400, 14400, 0) + \
                net.network_address.packed
        if rdnss:
            body += struct.pack('!BBHI', 25, 1 + 2 * len(rdnss), 0, lifetime) + b''.join(rdnss)
        return body


class Tls:
    """Just enough TLS 1.3 for a realistic encrypted DNS flow: a ClientHello
    with SNI and ALPN, a ServerHello, ChangeCipherSpec and opaque
    application_data records."""

    @staticmethod
    def client_hello(rng, sni, alpn):
        ciphers = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030]
        host = sni.encode()
        sn = struct.pack('!BH', 0, len(host)) + host
        ext = struct.pack('!HHH', 0, len(sn) + 2, len(sn)) + sn
        ext += struct.pack('!HHHH', 10, 4, 2, 0x001d)
        sig = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805]
        ext += struct.pack('!HHH', 13, 2 + 2 * len(sig), 2 * len(sig)) + \
            b''.join(struct.pack('!H', s) for s in sig)
        if alpn:
            p = bytes([len(alpn)]) + alpn.encode()
            ext += struct.pack('!HHH', 16, len(p) + 2, len(p)) + p
        ext += struct.pack('!HHBH', 43, 3, 2, 0x0304)
        ks = struct.pack('!HH', 0x001d, 32) + rng.randbytes(32)
        ext += struct.pack('!HHH', 51, len(ks) + 2, len(ks)) + ks
        body = struct.pack('!H', 0x0303) + rng.randbytes(32) + b'\x20' + rng.randbytes(32) + \
            struct.pack('!H', 2 * len(ciphers)) + b''.join(struct.pack('!H', c) for c in ciphers) + \
            b'\x01\x00' + struct.pack('!H', len(ext)) + ext
        hs = b'\x01' + len(body).to_bytes(3, 'big') + body
        return b'\x16\x03\x01' + struct.pack('!H', len(hs)) + hs

    @staticmethod
    def server_hello(rng, client_hello):
        sid = client_hello[5 + 4 + 2 + 32 + 1:5 + 4 + 2 + 32 + 1 + 32]
        ext = struct.pack('!HHH', 43, 2, 0x0304)
        ks = struct.pack('!HH', 0x001d, 32) + rng.randbytes(32)
        ext += struct.pack('!HH', 51, len(ks)) + ks
        body = struct.pack('!H', 0x0303) + rng.randbytes(32) + b'\x20' + sid + \
            struct.pack('!HB', 0x1301, 0) + struct.pack('!H', len(ext)) + ext
        hs = b'\x02' + len(body).to_bytes(3, 'big') + body
        return b'\x16\x03\x03' + struct.pack('!H', len(hs)) + hs

    CCS = b'\x14\x03\x03\x00\x01\x01'

    @staticmethod
    def app_data(rng, n):
        return b'\x17\x03\x03' + struct.pack('!H', n) + rng.randbytes(n)


# ---------------------------------------------------------------------------
# scenario model and parser
# ---------------------------------------------------------------------------

class ScenarioError(Exception):
    pass


def _opts(tokens, flags=(), valued=(), lineno=0):
    """Parses 'key value' / 'flag' words into a dict."""
    out = {}
    i = 0
    while i < len(tokens):
        k = tokens[i]
        if k in flags:
            out[k] = True
            i += 1
        elif k in valued:
            if i + 1 >= len(tokens):
                raise ScenarioError('line %d: %s needs a value' % (lineno, k))
            out[k] = tokens[i + 1]
            i += 2
        else:
            raise ScenarioError('line %d: unexpected %r' % (lineno, k))
    return out


class Network:
    def __init__(self, name):
        self.name = name
        self.subnet = ipaddress.ip_network('192.168.1.0/24')
        self.gateway = ip_bytes('192.168.1.1')
        self.gateway_mac = parse_mac('02:00:00:00:00:01')
        self.dhcp_server = None
        self.dns = []
        self.lease = 86400
        self.domain = None
        self.prefix6 = None
        self.gateway6 = None          # global address of the router
        self.rdnss = []
        self.dhcpv6_dns = []
        self.ra_every = 0
        self.vlans = ()

    def server_id(self):
        return self.dhcp_server or self.gateway


class LanHost:
    def __init__(self, name):
        self.name, self.mac, self.ip, self.ip6 = name, None, None, None


class ResolverRule:
    def __init__(self, kind, pattern, args):
        self.kind, self.pattern, self.args = kind, pattern.lower().rstrip('.'), args

    def matches(self, qname):
        if self.pattern.startswith('*.'):
            return qname.endswith(self.pattern[1:]) or qname == self.pattern[2:]
        return qname == self.pattern or self.pattern == '*'


class Resolver:
    """A DNS server: what it answers, how fast, what it drops."""

    def __init__(self, addr):
        self.addr = addr                # bytes
        self.ttl = 300
        self.latency = (5 * MS, 20 * MS)
        self.mtu = 1500
        self.rules = []                 # special behaviours, first match wins
        self.static = {}                # (name, rtype) -> (values, ttl)
        self.counts = {}                # (name, rtype) -> (count, ttl)
        self.cnames = {}                # name -> (target, ttl)
        self.outages = []               # (from, to) relative to capture start
        self.frag_order = 'in'
        self.ext = ()
        self.open = True                # answers anyone (public resolvers do)
        self.soa_minimum = 900

    def rule_for(self, qname):
        for r in self.rules:
            if r.matches(qname):
                return r
        return None

    def down_at(self, rel):
        return any(a <= rel < b for a, b in self.outages)

    def zone_of(self, name):
        labels = name.split('.')
        return '.'.join(labels[-2:]) if len(labels) >= 2 else name

    def soa_rr(self, name, minimum=None):
        zone = self.zone_of(name)
        m = self.soa_minimum if minimum is None else minimum
        return Rr(zone, 6, m, ('soa', 'ns1.' + zone, 'hostmaster.' + zone, 2024050401, 7200,
                               900, 1209600, m))

    def answer(self, qname_sent, qtype):
        """Returns (rcode, answers, authority, special) for a question.
        special is None, 'drop', 'truncate'."""
        qname = qname_sent.lower().rstrip('.')
        rule = self.rule_for(qname)
        if rule is not None:
            if rule.kind == 'drop':
                return 0, [], [], 'drop'
            if rule.kind == 'nxdomain':
                return 3, [], [self.soa_rr(qname, rule.args.get('soa-minimum'))], None
            if rule.kind == 'servfail':
                return 2, [], [], None
            if rule.kind == 'refused':
                return 5, [], [], None
            if rule.kind == 'nodata':
                t = rule.args.get('type')
                if t is None or RRTYPES[t] == qtype:
                    return 0, [], [self.soa_rr(qname)], None
        answers = []
        owner, name = qname_sent, qname
        for _ in range(8):
            if name not in self.cnames or qtype == 5:
                break
            target, ttl = self.cnames[name]
            answers.append(Rr(owner, 5, ttl, ('name', target)))
            owner = name = target
        key = (name, qtype)
        if key in self.static:
            values, ttl = self.static[key]
            for v in values:
                answers.append(Rr(owner, qtype, ttl, v))
        elif key in self.counts:
            n, ttl = self.counts[key]
            for i in range(n):
                answers.append(Rr(owner, qtype, ttl, synth_address(name, qtype, i)))
        elif qtype in (1, 28):
            answers.append(Rr(owner, qtype, self.ttl, synth_address(name, qtype)))
        elif qtype == 255:
            answers.append(Rr(owner, 1, self.ttl, synth_address(name, 1)))
            answers.append(Rr(owner, 28, self.ttl, synth_address(name, 28)))
            for i in range(3):
                txt = ('v=spf1 include:_spf.%s ~all %d' % (name, i)).encode()[:255]
                answers.append(Rr(owner, 16, self.ttl, bytes([len(txt)]) + txt))
        elif qtype == 16:
            txt = b'pcapgen synthetic record'
            answers.append(Rr(owner, 16, self.ttl, bytes([len(txt)]) + txt))
        if not answers or (answers[-1].rtype == 5 and qtype != 5):
            return 0, answers, [self.soa_rr(name)], None
        special = 'truncate' if rule is not None and rule.kind == 'truncate' else None
        return 0, answers, [], special


class QuerySpec:
    def __init__(self):
        self.name = None
        self.types = [(1,)]             # list of socket groups, e.g. [(1, 28)]
        self.every = 0
        self.at = None
        self.offset = None
        self.jitter = 0
        self.until = None
        self.count = None
        self.tcp = False
        self.via = None                 # resolver address forced for this query


class Activity:
    """A scheduled non-query activity (mdns, llmnr, dot, doh, probes, tcp-exchange)."""

    def __init__(self, kind, args, sched):
        self.kind, self.args, self.sched = kind, args, sched


class Device:
    def __init__(self, name):
        self.name = name
        self.mac = None
        self.ip = None
        self.ip6 = None
        self.network = None
        self.vlans = ()
        self.hostname = None
        self.vendor_class = None
        self.prl = [1, 3, 6, 12, 15, 28, 42]
        self.client_id = True
        self.dhcpv6 = False
        self.dhcpv6_fqdn = None
        self.rs = False
        self.boots = []                 # (time, dhcp: bool)
        self.downs = []
        self.ports = ('random', 32768, 60999)
        self.tcp_ports = (32768, 60999)
        self.txid = ('random',)
        self.edns = None                # dict(size, do, ecs, cookie, pad)
        self.cache = 'honour'
        self.resolvers = ('provided',)  # or ('static', [addr...])
        self.parallel = False
        self.fallback = None            # (addr, after_us)
        self.tcp_fallback = True        # retry over TCP after TC=1
        self.retries = 1
        self.backoff = 5 * SEC
        self.backoff_factor = 2
        self.mixed_case = False
        self.pair_aaaa = False
        self.storm = None               # (set(rcodes), interval, count)
        self.queries = []
        self.activities = []
        self.ext = ()
        self.ttl = 64
        self.family = 4


class Scenario:
    BLOCKS = ('network', 'host', 'resolver', 'device')

    def __init__(self):
        self.seed = 1
        self.start = calendar.timegm((2024, 5, 4, 8, 0, 0)) * SEC
        self.duration = 3600 * SEC
        self.link = 'ethernet'
        self.fmt = 'pcap'
        self.snaplen = 262144
        self.sll_address = True
        self.capture_host = None
        self.networks = {}
        self.hosts = {}
        self.resolvers = {}
        self.devices = []

    # -- parsing ----------------------------------------------------------

    @classmethod
    def parse(cls, text):
        sc = cls()
        block = None
        for lineno, raw in enumerate(text.splitlines(), 1):
            if not raw.strip() or raw.lstrip().startswith('#'):
                continue
            try:
                toks = shlex.split(raw, comments=True)
            except ValueError as e:
                raise ScenarioError('line %d: %s' % (lineno, e))
            if not toks:
                continue
            try:
                if raw[0] in ' \t':
                    if block is None:
                        raise ScenarioError('indented line outside a block')
                    block[0](block[1], toks, lineno)
                else:
                    block = sc._top(toks, lineno)
            except ScenarioError as e:
                if str(e).startswith('line '):
                    raise
                raise ScenarioError('line %d: %s' % (lineno, e))
            except (ValueError, KeyError, IndexError) as e:
                raise ScenarioError('line %d: %s: %s' % (lineno, type(e).__name__, e))
        sc._finish()
        return sc

    def _top(self, t, n):
        k = t[0]
        if k == 'seed':
            self.seed = int(t[1])
        elif k == 'start':
            ts = time.strptime(t[1].rstrip('Z'), '%Y-%m-%dT%H:%M:%S')
            self.start = calendar.timegm(ts) * SEC
        elif k == 'duration':
            self.duration = parse_duration(t[1])
        elif k == 'link':
            if t[1] not in LINKTYPES:
                raise ScenarioError('link must be one of %s' % ', '.join(LINKTYPES))
            self.link = t[1]
            if len(t) > 2 and t[2] == 'no-address':
                self.sll_address = False
        elif k == 'format':
            if t[1] not in ('pcap', 'pcapng'):
                raise ScenarioError('format must be pcap or pcapng')
            self.fmt = t[1]
        elif k == 'snaplen':
            self.snaplen = int(t[1])
        elif k == 'capture-host':
            self.capture_host = parse_mac(t[1])
        elif k == 'network':
            name = t[1] if len(t) > 1 else 'lan'
            net = Network(name)
            self.networks[name] = net
            return (self._network, net)
        elif k == 'host':
            h = LanHost(t[1])
            self.hosts[t[1]] = h
            return (self._host, h)
        elif k == 'resolver':
            addr = ip_bytes(t[1])
            r = self.resolver(addr)
            return (self._resolver, r)
        elif k == 'device':
            d = Device(t[1])
            if any(x.name == d.name for x in self.devices):
                raise ScenarioError('duplicate device %s' % d.name)
            self.devices.append(d)
            return (self._device, d)
        else:
            raise ScenarioError('unknown statement %r' % k)
        return None

    def resolver(self, addr):
        if addr not in self.resolvers:
            r = Resolver(addr)
            if not self._is_local(addr):
                r.latency = (15 * MS, 45 * MS)
            self.resolvers[addr] = r
        return self.resolvers[addr]

    def _is_local(self, addr):
        ip = ipaddress.ip_address(addr)
        return ip.is_private or ip.is_link_local

    def _network(self, net, t, n):
        k = t[0]
        if k == 'subnet':
            net.subnet = ipaddress.ip_network(t[1])
        elif k == 'gateway':
            net.gateway = ip_bytes(t[1])
            o = _opts(t[2:], valued=('mac',), lineno=n)
            if 'mac' in o:
                net.gateway_mac = parse_mac(o['mac'])
        elif k == 'dhcp-server':
            net.dhcp_server = ip_bytes(t[1])
        elif k == 'dns':
            net.dns = [ip_bytes(a) for a in t[1:]]
        elif k == 'lease':
            net.lease = parse_duration(t[1]) // SEC
        elif k == 'domain':
            net.domain = t[1]
        elif k == 'vlan':
            net.vlans = tuple(int(v) for v in t[1:])
        elif k == 'ipv6-prefix':
            net.prefix6 = t[1]
        elif k == 'gateway6':
            net.gateway6 = ip_bytes(t[1])
        elif k == 'ra-rdnss':
            net.rdnss = [ip_bytes(a) for a in t[1:]]
        elif k == 'ra-every':
            net.ra_every = parse_duration(t[1])
        elif k == 'dhcpv6-dns':
            net.dhcpv6_dns = [ip_bytes(a) for a in t[1:]]
        else:
            raise ScenarioError('unknown network setting %r' % k)

    def _host(self, h, t, n):
        if t[0] == 'mac':
            h.mac = parse_mac(t[1])
        elif t[0] == 'ip':
            h.ip = ip_bytes(t[1])
        elif t[0] == 'ipv6':
            h.ip6 = ip_bytes(t[1])
        else:
            raise ScenarioError('unknown host setting %r' % t[0])

    def _resolver(self, r, t, n):
        k = t[0]
        if k == 'ttl':
            r.ttl = int(t[1])
        elif k == 'latency':
            lo = parse_duration(t[1])
            hi = parse_duration(t[2]) if len(t) > 2 else lo
            r.latency = (lo, hi)
        elif k == 'mtu':
            r.mtu = int(t[1])
        elif k == 'answer':
            name, rtype = t[1].lower().rstrip('.'), RRTYPES[t[2]]
            o = {}
            if t[3] == 'count':
                o = _opts(t[5:], valued=('ttl',), lineno=n)
                r.counts[(name, rtype)] = (int(t[4]), int(o.get('ttl', r.ttl)))
                return
            o = _opts(t[4:], valued=('ttl',), lineno=n)
            if rtype in (1, 28):
                val = ip_bytes(t[3])
            elif rtype == 16:
                b = t[3].encode()
                val = bytes([len(b)]) + b
            elif rtype in (5, 12, 2):
                val = ('name', t[3])
            else:
                raise ScenarioError('answer supports A, AAAA, TXT, PTR, NS')
            ttl = int(o.get('ttl', r.ttl))
            vals, _ = r.static.get((name, rtype), ([], ttl))
            r.static[(name, rtype)] = (vals + [val], ttl)
        elif k == 'cname':
            # cname NAME -> TARGET [-> TARGET2 ...] [ttl N]
            chain = [x for x in t[1:] if x != '->']
            ttl = r.ttl
            if 'ttl' in chain:
                i = chain.index('ttl')
                ttl = int(chain[i + 1])
                chain = chain[:i]
            for a, b in zip(chain, chain[1:]):
                r.cnames[a.lower().rstrip('.')] = (b.lower().rstrip('.'), ttl)
        elif k in ('nxdomain', 'servfail', 'refused', 'drop', 'truncate', 'nodata'):
            o = _opts(t[2:], valued=('soa-minimum', 'type'), lineno=n)
            if 'soa-minimum' in o:
                o['soa-minimum'] = int(o['soa-minimum'])
            r.rules.append(ResolverRule(k, t[1], o))
        elif k == 'outage':
            r.outages.append((parse_duration(t[1]), parse_duration(t[2])))
        elif k == 'fragment-order':
            r.frag_order = t[1]
        elif k == 'ipv6-ext':
            r.ext = tuple(t[1].split(','))
        elif k == 'soa-minimum':
            r.soa_minimum = int(t[1])
        else:
            raise ScenarioError('unknown resolver setting %r' % k)

    def _sched(self, toks, n, allow=('every', 'at', 'offset', 'jitter', 'until', 'count')):
        o = _opts(toks, valued=allow, lineno=n)
        s = QuerySpec()
        for key in ('every', 'at', 'offset', 'jitter', 'until'):
            if key in o:
                setattr(s, key, parse_duration(o[key]))
        if 'count' in o:
            s.count = int(o['count'])
        if not s.every and s.at is None:
            raise ScenarioError('needs "every DURATION" or "at DURATION"')
        return s

    def _device(self, d, t, n):
        k = t[0]
        if k == 'mac':
            d.mac = parse_mac(t[1])
        elif k == 'ip':
            d.ip = ip_bytes(t[1])
        elif k == 'ipv6':
            d.ip6 = ip_bytes(t[1])
        elif k == 'network':
            d.network = t[1]
        elif k == 'vlan':
            d.vlans = tuple(int(v) for v in t[1:])
        elif k == 'hostname':
            d.hostname = t[1]
        elif k == 'vendor-class':
            d.vendor_class = ' '.join(t[1:])
        elif k == 'prl':
            d.prl = [int(x) for x in t[1].split(',')]
        elif k == 'client-id':
            d.client_id = t[1] != 'off'
        elif k == 'dhcpv6':
            d.dhcpv6 = t[1] == 'on'
            if len(t) > 3 and t[2] == 'fqdn':
                d.dhcpv6_fqdn = t[3]
        elif k == 'router-solicit':
            d.rs = t[1] == 'on'
        elif k == 'boot':
            o = _opts(t[1:], flags=('no-dhcp',), valued=('at',), lineno=n)
            d.boots.append((parse_duration(o['at']), not o.get('no-dhcp', False)))
        elif k == 'down':
            o = _opts(t[1:], valued=('at',), lineno=n)
            d.downs.append(parse_duration(o['at']))
        elif k == 'ports':
            p = t[1]
            if p == 'fixed':
                d.ports = ('fixed', int(t[2]))
            elif p in ('random', 'per-boot'):
                lo, hi = (int(x) for x in t[2].split('-'))
                d.ports = (p, lo, hi)
            elif p == 'sequential':
                d.ports = ('sequential', int(t[2]), int(t[3]) if len(t) > 3 else 1)
            else:
                raise ScenarioError('ports: random LO-HI | per-boot LO-HI | fixed P | sequential START [STEP]')
        elif k == 'tcp-ports':
            lo, hi = (int(x) for x in t[1].split('-'))
            d.tcp_ports = (lo, hi)
        elif k == 'txid':
            p = t[1]
            if p == 'random' and len(t) > 2:
                lo, hi = (int(x, 0) for x in t[2].split('-'))
                d.txid = ('random-range', lo, hi, int(t[4], 0) if len(t) > 4 and t[3] == 'step' else 1)
            elif p == 'random':
                d.txid = ('random',)
            elif p == 'sequential-boot' and len(t) > 2 and t[2] == 'random':
                d.txid = (p, 'random')
            elif p in ('sequential-boot', 'sequential'):
                d.txid = (p, int(t[2], 0) if len(t) > 2 else 0)
            elif p == 'constant':
                d.txid = ('constant', int(t[2], 0))
            elif p == 'two-valued':
                d.txid = ('two-valued', int(t[2], 0), int(t[3], 0))
            else:
                raise ScenarioError('txid: random [LO-HI [step S]] | sequential-boot [START|random] | sequential [START] | constant V | two-valued A B')
        elif k == 'edns':
            if t[1] == 'off':
                d.edns = None
                return
            e = {'size': int(t[1]), 'do': False, 'ecs': None, 'cookie': False, 'pad': 0}
            i = 2
            while i < len(t):
                if t[i] == 'do':
                    e['do'] = True
                elif t[i] == 'cookie':
                    e['cookie'] = True
                elif t[i] == 'ecs':
                    e['ecs'] = t[i + 1]
                    i += 1
                elif t[i] == 'padding':
                    e['pad'] = int(t[i + 1])
                    i += 1
                else:
                    raise ScenarioError('edns: SIZE [do] [cookie] [ecs PREFIX] [padding BLOCK]')
                i += 1
            d.edns = e
        elif k == 'cache':
            if t[1] not in ('honour', 'none'):
                raise ScenarioError('cache honour | none')
            d.cache = t[1]
        elif k == 'resolvers':
            rest = t[1:]
            if 'parallel' in rest:
                d.parallel = True
                rest = [x for x in rest if x != 'parallel']
            if rest == ['provided']:
                d.resolvers = ('provided',)
            elif rest == ['provided6']:
                d.resolvers = ('provided6',)
            else:
                d.resolvers = ('static', [ip_bytes(a) for a in rest])
                for a in d.resolvers[1]:
                    self.resolver(a)
        elif k == 'fallback':
            o = _opts(t[2:], valued=('after',), lineno=n)
            d.fallback = (ip_bytes(t[1]), parse_duration(o.get('after', '50s')))
            self.resolver(d.fallback[0])
        elif k == 'retry':
            d.retries = int(t[1])
            o = _opts(t[2:], valued=('backoff', 'factor'), lineno=n)
            if 'backoff' in o:
                d.backoff = parse_duration(o['backoff'])
            if 'factor' in o:
                d.backoff_factor = float(o['factor'])
        elif k == '0x20':
            d.mixed_case = t[1] == 'on'
        elif k == 'tcp-fallback':
            d.tcp_fallback = t[1] == 'on'
        elif k == 'pair-aaaa':
            d.pair_aaaa = t[1] == 'on'
        elif k == 'ipv6-ext':
            d.ext = tuple(t[1].split(','))
        elif k == 'ip-ttl':
            d.ttl = int(t[1])
        elif k == 'storm':
            # storm on nxdomain[,servfail] interval 500ms count 20
            if t[1] != 'on':
                raise ScenarioError('storm on RCODES interval D count N')
            rcodes = set(RCODES[x.upper()] for x in t[2].split(','))
            o = _opts(t[3:], valued=('interval', 'count'), lineno=n)
            d.storm = (rcodes, parse_duration(o.get('interval', '500ms')), int(o.get('count', '20')))
        elif k == 'query':
            q = QuerySpec()
            q.name = t[1]
            i = 2
            groups = []
            while i < len(t) and (t[i] in RRTYPES or '+' in t[i]):
                groups.append(tuple(RRTYPES[x] for x in t[i].split('+')))
                i += 1
            rest = t[i:]
            tcp = 'tcp' in rest
            rest = [x for x in rest if x != 'tcp']
            via = None
            if 'via' in rest:
                j = rest.index('via')
                via = ip_bytes(rest[j + 1])
                self.resolver(via)
                rest = rest[:j] + rest[j + 2:]
            s = self._sched(rest, n)
            s.name, s.tcp, s.via = q.name, tcp, via
            s.types = groups or [(1,)]
            d.queries.append(s)
        elif k in ('mdns', 'llmnr', 'dot', 'doh', 'open-responder', 'tcp-exchange', 'connect'):
            self._activity(d, t, n)
        else:
            raise ScenarioError('unknown device setting %r' % k)

    def _activity(self, d, t, n):
        k = t[0]
        sched_keys = ('every', 'at', 'offset', 'jitter', 'until', 'count')
        if k == 'mdns':
            # mdns query NAME [TYPE] every D | mdns announce INSTANCE.SERVICE [port P] [txt k=v] every D
            mode, name = t[1], t[2]
            rest = t[3:]
            args = {'mode': mode, 'name': name, 'type': 12}
            if rest and rest[0] in RRTYPES:
                args['type'] = RRTYPES[rest[0]]
                rest = rest[1:]
            o = _opts(rest, valued=('port', 'txt') + sched_keys, lineno=n)
            args['port'] = int(o.pop('port', 8009))
            args['txt'] = o.pop('txt', '')
            sched = self._sched(sum(([a, b] for a, b in o.items()), []), n)
            d.activities.append(Activity('mdns-' + mode, args, sched))
        elif k == 'llmnr':
            o = _opts(t[3:], valued=sched_keys, lineno=n)
            d.activities.append(Activity('llmnr', {'name': t[2]},
                                         self._sched(sum(([a, b] for a, b in o.items()), []), n)))
        elif k in ('dot', 'doh'):
            addr = ip_bytes(t[1])
            o = _opts(t[2:], valued=('sni', 'requests') + sched_keys, lineno=n)
            args = {'addr': addr, 'sni': o.pop('sni', 'dns.example'),
                    'requests': int(o.pop('requests', 2))}
            d.activities.append(Activity(k, args, self._sched(sum(([a, b] for a, b in o.items()), []), n)))
        elif k == 'open-responder':
            # open-responder from IP[,IP] name N [type T] every D
            o = _opts(t[1:], valued=('from', 'name', 'type') + sched_keys, lineno=n)
            args = {'from': [ip_bytes(x) for x in o.pop('from').split(',')],
                    'name': o.pop('name', 'example.com'),
                    'type': RRTYPES[o.pop('type', 'ANY')]}
            d.activities.append(Activity('responder', args,
                                         self._sched(sum(([a, b] for a, b in o.items()), []), n)))
        elif k == 'tcp-exchange':
            # tcp-exchange to ADDR names N1,N2 [mode normal|pipelined|split N|reorder] at D
            o = _opts(t[1:], valued=('to', 'names', 'mode', 'pieces') + sched_keys, lineno=n)
            args = {'to': ip_bytes(o.pop('to')), 'names': o.pop('names').split(','),
                    'mode': o.pop('mode', 'normal'), 'pieces': int(o.pop('pieces', 3))}
            self.resolver(args['to'])
            d.activities.append(Activity('tcp-exchange', args,
                                         self._sched(sum(([a, b] for a, b in o.items()), []), n)))
        elif k == 'connect':
            # connect NAME [port P] [resolve cache|once] every D: a TCP connection to NAME's address
            o = _opts(t[2:], valued=('port', 'resolve') + sched_keys, lineno=n)
            args = {'name': t[1], 'port': int(o.pop('port', 443)), 'resolve': o.pop('resolve', 'cache')}
            if args['resolve'] not in ('cache', 'once'):
                raise ScenarioError('line %d: resolve cache | once' % n)
            d.activities.append(Activity('connect', args,
                                         self._sched(sum(([a, b] for a, b in o.items()), []), n)))

    def _finish(self):
        if not self.networks:
            self.networks['lan'] = Network('lan')
        first = next(iter(self.networks.values()))
        for d in self.devices:
            if d.mac is None and self.link not in ('raw',):
                raise ScenarioError('device %s has no mac' % d.name)
            if d.mac is None:
                d.mac = bytes.fromhex('02') + hashlib.sha256(d.name.encode()).digest()[:5]
            if d.ip is None and d.ip6 is None:
                raise ScenarioError('device %s has no ip or ipv6' % d.name)
            d.network = self.networks[d.network] if d.network else first
            if not d.vlans:
                d.vlans = d.network.vlans
            if not d.boots:
                d.boots = [(0, True)]
            d.boots.sort()
            if d.ip is None and any(dhcp for _, dhcp in d.boots):
                raise ScenarioError('device %s boots with DHCP but has no ip' % d.name)
        for net in self.networks.values():
            for a in net.dns + net.rdnss + net.dhcpv6_dns:
                self.resolver(a)
        for d in self.devices:
            for a in self._device_resolvers(d):
                self.resolver(a)
        if self.capture_host is None:
            self.capture_host = first.gateway_mac

    def _device_resolvers(self, d):
        if d.resolvers[0] == 'provided':
            return list(d.network.dns)
        if d.resolvers[0] == 'provided6':
            return list(d.network.rdnss or d.network.dhcpv6_dns)
        return list(d.resolvers[1])


# ---------------------------------------------------------------------------
# simulation
# ---------------------------------------------------------------------------

class Endpoint:
    """An addressable party on the wire as seen from one device's segment."""

    def __init__(self, mac, ip, vlans=(), hlim=64, latency=(5 * MS, 20 * MS)):
        self.mac, self.ip, self.vlans, self.hlim = mac, ip, vlans, hlim
        self.latency = latency
        self.ext = ()

    def rtt(self, rng):
        lo, hi = self.latency
        return rng.randint(lo, hi)


class Truth:
    """What the generator did for one device (see --truth)."""

    def __init__(self, dev):
        self.dev = dev
        self.d = {
            'device': dev.name, 'mac': fmt_mac(dev.mac),
            'ip': ip_text(dev.ip) if dev.ip else None, 'ipv6': ip_text(dev.ip6) if dev.ip6 else None,
            'vlan': list(dev.vlans), 'queries': 0, 'tcp_queries': 0, 'retransmissions': 0,
            'responses': 0, 'unanswered': 0, 'cache_hits': 0, 'mdns_queries': 0,
            'mdns_responses': 0, 'llmnr_queries': 0, 'responses_sent': 0,
            'resolvers': {}, 'encrypted_flows': {}, 'sessions': [], 'names': {},
            'dhcp': 0, 'rcodes': {},
        }

    def resolver(self, addr):
        return self.d['resolvers'].setdefault(ip_text(addr), {
            'queries': 0, 'responses': 0, 'retransmissions': 0, 'unanswered': 0,
            'transports': []})

    def query(self, addr, name, transport, retransmission=False):
        r = self.resolver(addr)
        r['queries'] += 1
        if transport not in r['transports']:
            r['transports'].append(transport)
        self.d['queries'] += 1
        if transport == 'tcp':
            self.d['tcp_queries'] += 1
        if retransmission:
            self.d['retransmissions'] += 1
            r['retransmissions'] += 1
        self.d['names'][name] = self.d['names'].get(name, 0) + 1

    def response(self, addr, rcode):
        self.resolver(addr)['responses'] += 1
        self.d['responses'] += 1
        rn = [k for k, v in RCODES.items() if v == rcode][0]
        self.d['rcodes'][rn] = self.d['rcodes'].get(rn, 0) + 1

    def unanswered(self, addr):
        self.resolver(addr)['unanswered'] += 1
        self.d['unanswered'] += 1


class Txn:
    __slots__ = ('name', 'sent_name', 'qtype', 'resolver', 'port', 'id', 'payload', 'attempt',
                 'first', 'reason', 'answered', 'family')


class Sim:
    """Turns the scenario into frames."""

    def __init__(self, sc):
        self.sc = sc
        self.frames = []
        self.seq = 0
        self.end = sc.start + sc.duration

    def emit(self, ts, src, dst, ethertype, l3):
        if ts >= self.end or ts < self.sc.start:
            return
        vlans = src.vlans or dst.vlans
        self.frames.append(Frame(ts, self.seq, src.mac, dst.mac, vlans, ethertype, l3))
        self.seq += 1

    def send_ip(self, ts, src, dst, proto, l4, rng, frag_mtu=None, frag_order='in', ext=()):
        """Emits one IP datagram (fragmented when longer than frag_mtu)."""
        if len(src.ip) == 4:
            ident = rng.getrandbits(16)
            if frag_mtu and len(l4) + 20 > frag_mtu:
                frags = IPv4.fragments(src.ip, dst.ip, proto, l4, ident, frag_mtu, src.hlim)
                if frag_order == 'reverse':
                    frags.reverse()
                for i, f in enumerate(frags):
                    self.emit(ts + i * 30, src, dst, ETH_IPV4, f)
                return
            self.emit(ts, src, dst, ETH_IPV4, IPv4.packet(src.ip, dst.ip, proto, l4, ident, src.hlim,
                                                          df=(proto == 6)))
        else:
            if frag_mtu and len(l4) + 40 > frag_mtu:
                frags = IPv6.fragments(src.ip, dst.ip, proto, l4, rng.getrandbits(32), frag_mtu, src.hlim)
                if frag_order == 'reverse':
                    frags.reverse()
                for i, f in enumerate(frags):
                    self.emit(ts + i * 30, src, dst, ETH_IPV6, f)
                return
            self.emit(ts, src, dst, ETH_IPV6, IPv6.packet(src.ip, dst.ip, proto, l4, src.hlim, ext))

    def send_udp(self, ts, src, dst, sport, dport, payload, rng, frag_mtu=None, frag_order='in', ext=()):
        seg = Udp.segment(src.ip, dst.ip, sport, dport, payload)
        self.send_ip(ts, src, dst, 17, seg, rng, frag_mtu, frag_order, ext)

    def send_tcp(self, ts, src, dst, sport, dport, seq, ack, flags, payload, syn_opts=False):
        seg = Tcp.segment(src.ip, dst.ip, sport, dport, seq, ack, flags, payload, syn_opts=syn_opts)
        ident = (seq ^ ts) & 0xffff
        if len(src.ip) == 4:
            self.emit(ts, src, dst, ETH_IPV4, IPv4.packet(src.ip, dst.ip, 6, seg, ident, src.hlim))
        else:
            self.emit(ts, src, dst, ETH_IPV6, IPv6.packet(src.ip, dst.ip, 6, seg, src.hlim))

    def run(self):
        truths = []
        for net in self.sc.networks.values():
            if net.ra_every and net.prefix6:
                self._router_adverts(net)
        for d in self.sc.devices:
            run = DeviceRun(self, d)
            run.run()
            truths.append(run.truth.d)
        self.frames.sort(key=lambda f: (f.ts, f.seq))
        return truths

    def _router_adverts(self, net):
        rng = random.Random('%d:ra:%s' % (self.sc.seed, net.name))
        router = Endpoint(net.gateway_mac, eui64_link_local(net.gateway_mac), net.vlans, 255)
        allnodes = Endpoint(multicast_mac(ip_bytes('ff02::1')), ip_bytes('ff02::1'), net.vlans)
        t = self.sc.start + rng.randint(0, net.ra_every)
        while t < self.end:
            body = Icmp6.router_advert(net.gateway_mac, net.prefix6, net.rdnss)
            self.send_ip(t, router, allnodes, 58, Icmp6.message(router.ip, allnodes.ip, 134, body), rng)
            t += net.ra_every + rng.randint(0, net.ra_every // 10)

    def write(self, out):
        w = CaptureWriter(self.sc.fmt, self.sc.link, self.sc.snaplen, self.sc.capture_host,
                          self.sc.sll_address)
        parts = [w.header()]
        for f in self.frames:
            parts.append(w.record(f))
        data = b''.join(parts)
        out.write(data)
        return len(data)


class DeviceRun:
    """Plays one device: its boots (DHCP, DHCPv6, RS/RA), and within each boot
    session a discrete-event loop over its scheduled queries and activities,
    with a DNS stack that follows the device's policies."""

    def __init__(self, sim, dev):
        self.sim, self.dev, self.sc = sim, dev, sim.sc
        self.rng = random.Random('%d:%s' % (self.sc.seed, dev.name))
        self.truth = Truth(dev)
        net = dev.network
        self.net = net
        self.me = Endpoint(dev.mac, dev.ip, dev.vlans, dev.ttl) if dev.ip else None
        if self.me:
            self.me.ext = dev.ext
        self.me6 = Endpoint(dev.mac, dev.ip6, dev.vlans, dev.ttl) if dev.ip6 else None
        if self.me6:
            self.me6.ext = dev.ext
        self.heap = []
        self.hseq = 0
        self.txid_cont = dev.txid[1] if dev.txid[0] == 'sequential' else 0

    # -- addressing -------------------------------------------------------

    def peer(self, ip, hlim=None):
        """Endpoint for a remote IP: a LAN host's own MAC when on-link, else the gateway."""
        net = self.net
        mac = net.gateway_mac
        try:
            on_link = ipaddress.ip_address(ip) in net.subnet
        except TypeError:
            on_link = False
        if len(ip) == 16 and ip[:2] == b'\xfe\x80':
            on_link = True
        if len(ip) == 16 and net.prefix6 and ipaddress.ip_address(ip) in ipaddress.ip_network(net.prefix6):
            on_link = True
        local = on_link
        if on_link:
            # a LAN host, or a device (one that serves DNS itself) answers from its own MAC
            for h in list(self.sc.hosts.values()) + self.sc.devices:
                if h.ip == ip or h.ip6 == ip:
                    mac = h.mac
        r = self.sc.resolvers.get(ip)
        lat = r.latency if r else ((5 * MS, 20 * MS) if local else (20 * MS, 60 * MS))
        ep = Endpoint(mac, ip, self.dev.vlans, hlim or (64 if local else 52), lat)
        if r is not None:
            ep.ext = r.ext
        return ep

    def my(self, ip):
        return self.me if len(ip) == 4 else self.me6

    # -- event loop -------------------------------------------------------

    def push(self, t, fn, *args):
        heapq.heappush(self.heap, (t, self.hseq, fn, args))
        self.hseq += 1

    def run(self):
        starts = self.dev.boots
        for i, (bt, dhcp) in enumerate(starts):
            end_rel = self.sc.duration
            if i + 1 < len(starts):
                end_rel = min(end_rel, starts[i + 1][0] - 500 * MS)
            for dn in self.dev.downs:
                if bt < dn < end_rel:
                    end_rel = dn
            self.session(self.sc.start + bt, self.sc.start + end_rel, dhcp)

    def session(self, t0, t_end, dhcp):
        dev = self.dev
        self.t_end = t_end
        self.truth.d['sessions'].append({'start': fmt_duration(t0 - self.sc.start),
                                         'reason': 'dhcp' if dhcp else 'no-dhcp',
                                         'end': fmt_duration(t_end - self.sc.start)})
        # per-boot DNS stack state
        self.cache = {}
        self.addr_of = {}               # name -> address of its latest A answer (connect)
        self.resolved_once = set()      # names `connect ... resolve once` has asked for
        self.cookies = {}
        self.client_cookie = self.rng.randbytes(8)
        self.port_seq = None
        self.boot_port = None
        if dev.ports[0] == 'per-boot':
            self.boot_port = self.rng.randint(dev.ports[1], dev.ports[2])
        if dev.txid[0] == 'sequential-boot':
            self.txid_seq = self.rng.getrandbits(16) if dev.txid[1] == 'random' else dev.txid[1]
        self.two_val = 0
        ready = t0
        if dhcp:
            ready = self.dhcp_exchange(t0)
        if self.me6 and (dev.rs or dev.dhcpv6):
            ready = max(ready, self.ipv6_bringup(t0 + 300 * MS))
        for q in dev.queries:
            for t in self.times(q, t0, ready, t_end):
                for group in q.types:
                    self.push(t, self.ask, q.name, group, 'tcp' if q.tcp else 'udp', 'app',
                              [q.via] if q.via else None)
        for a in dev.activities:
            for t in self.times(a.sched, t0, ready, t_end):
                self.push(t, getattr(self, 'act_' + a.kind.replace('-', '_')), a.args)
        while self.heap:
            t, _, fn, args = heapq.heappop(self.heap)
            fn(t, *args)

    def times(self, s, t0, ready, t_end):
        out = []
        if s.at is not None:
            t = t0 + s.at
            if s.at == 0:
                t = ready
            out.append(max(t, ready))
        if s.every:
            off = s.offset if s.offset is not None else \
                SEC + self.rng.randint(0, min(s.every, 60 * SEC))
            k = 0
            limit = t_end if s.until is None else min(t_end, t0 + s.until)
            while True:
                t = t0 + off + k * s.every
                if s.jitter:
                    t += self.rng.randint(-s.jitter, s.jitter)
                t = max(t, ready)
                if t >= limit or (s.count is not None and k >= s.count):
                    break
                out.append(t)
                k += 1
        return [t for t in out if t < t_end]

    # -- DHCP / IPv6 bring-up ----------------------------------------------

    def dhcp_exchange(self, t):
        dev, net, rng = self.dev, self.net, self.rng
        xid = rng.getrandbits(32)
        server = Endpoint(net.gateway_mac, net.server_id(), dev.vlans, 64)
        bcast = Endpoint(BROADCAST_MAC, b'\xff' * 4, dev.vlans)
        zero = Endpoint(dev.mac, b'\0' * 4, dev.vlans, 64)
        common = []
        if dev.client_id:
            common.append((61, b'\x01' + dev.mac))
        if dev.hostname:
            common.append((12, dev.hostname.encode()))
        if dev.vendor_class:
            common.append((60, dev.vendor_class.encode()))
        common.append((55, bytes(dev.prl)))
        self.truth.d['dhcp'] += 1
        disc = Dhcp4.message(1, xid, dev.mac, [(53, b'\x01')] + common, flags=0x8000)
        self.sim.send_udp(t, zero, bcast, 68, 67, disc, rng)
        mask = struct.pack('!I', (0xffffffff << (32 - net.subnet.prefixlen)) & 0xffffffff)
        sopts = [(54, net.server_id()), (51, struct.pack('!I', net.lease)), (1, mask),
                 (3, net.gateway)]
        if net.dns:
            sopts.append((6, b''.join(net.dns)))
        if net.domain:
            sopts.append((15, net.domain.encode()))
        t += rng.randint(2 * MS, 8 * MS)
        offer = Dhcp4.message(2, xid, dev.mac, [(53, b'\x02')] + sopts, yiaddr=dev.ip,
                              siaddr=net.server_id(), flags=0x8000)
        self.sim.send_udp(t, server, Endpoint(BROADCAST_MAC, b'\xff' * 4, dev.vlans), 67, 68, offer, rng)
        t += rng.randint(5 * MS, 20 * MS)
        req = Dhcp4.message(1, xid, dev.mac, [(53, b'\x03'), (50, dev.ip), (54, net.server_id())] + common,
                            flags=0x8000)
        self.sim.send_udp(t, zero, bcast, 68, 67, req, rng)
        t += rng.randint(2 * MS, 8 * MS)
        ack = Dhcp4.message(2, xid, dev.mac, [(53, b'\x05')] + sopts, yiaddr=dev.ip,
                            siaddr=net.server_id(), flags=0x8000)
        self.sim.send_udp(t, server, Endpoint(BROADCAST_MAC, b'\xff' * 4, dev.vlans), 67, 68, ack, rng)
        return t + 200 * MS

    def ipv6_bringup(self, t):
        dev, net, rng = self.dev, self.net, self.rng
        ll = Endpoint(dev.mac, eui64_link_local(dev.mac), dev.vlans, 255)
        router = Endpoint(net.gateway_mac, eui64_link_local(net.gateway_mac), dev.vlans, 255)
        if dev.rs:
            allr = Endpoint(multicast_mac(ip_bytes('ff02::2')), ip_bytes('ff02::2'), dev.vlans)
            self.sim.send_ip(t, ll, allr, 58, Icmp6.message(ll.ip, allr.ip, 133,
                                                            Icmp6.router_solicitation(dev.mac)), rng)
            t += rng.randint(1 * MS, 5 * MS)
            alln = Endpoint(multicast_mac(ip_bytes('ff02::1')), ip_bytes('ff02::1'), dev.vlans)
            body = Icmp6.router_advert(net.gateway_mac, net.prefix6, net.rdnss, managed=dev.dhcpv6)
            self.sim.send_ip(t, router, alln, 58, Icmp6.message(router.ip, alln.ip, 134, body), rng)
            t += 100 * MS
        if dev.dhcpv6:
            ll.hlim = 1
            router.hlim = 64
            xid = rng.getrandbits(24)
            mc = Endpoint(multicast_mac(ip_bytes('ff02::1:2')), ip_bytes('ff02::1:2'), dev.vlans, 1)
            cid = (1, Dhcp6.duid_ll(dev.mac))
            sid = (2, Dhcp6.duid_ll(net.gateway_mac))
            iaid = struct.unpack('!I', dev.mac[2:])[0]
            oro = (6, struct.pack('!HH', 23, 24))
            elapsed = (8, b'\0\0')
            extra = []
            if dev.dhcpv6_fqdn:
                w = Dns()
                w.name(dev.dhcpv6_fqdn, compress=False)
                extra.append((39, b'\x00' + bytes(w.buf)))
            if dev.vendor_class:
                vc = dev.vendor_class.encode()
                extra.append((16, struct.pack('!IH', 0, len(vc)) + vc))
            ia_req = (3, struct.pack('!III', iaid, 0, 0))
            addr_opt = struct.pack('!HH', 5, 24) + dev.ip6 + struct.pack('!II', 7200, 14400)
            ia_rep = (3, struct.pack('!III', iaid, 3600, 5400) + addr_opt)
            dns = [(23, b''.join(net.dhcpv6_dns))] if net.dhcpv6_dns else []
            seqs = [(1, [cid, ia_req, oro, elapsed] + extra, True),
                    (2, [sid, cid, ia_rep] + dns, False),
                    (3, [cid, sid, ia_req, oro, elapsed] + extra, True),
                    (7, [sid, cid, ia_rep] + dns, False)]
            for mtype, opts, from_client in seqs:
                msg = Dhcp6.message(mtype, xid, opts)
                if from_client:
                    self.sim.send_udp(t, ll, mc, 546, 547, msg, rng)
                else:
                    self.sim.send_udp(t, router, ll, 547, 546, msg, rng)
                t += rng.randint(2 * MS, 10 * MS)
        return t + 100 * MS

    # -- DNS stack ----------------------------------------------------------

    def alloc_port(self):
        p = self.dev.ports
        if p[0] == 'random':
            return self.rng.randint(p[1], p[2])
        if p[0] == 'fixed':
            return p[1]
        if p[0] == 'per-boot':
            return self.boot_port
        if self.port_seq is None:
            self.port_seq = p[1]
        else:
            self.port_seq += p[2]
            if self.port_seq > 65535:
                self.port_seq = p[1]
        return self.port_seq

    def alloc_id(self):
        x = self.dev.txid
        if x[0] == 'random':
            return self.rng.getrandbits(16)
        if x[0] == 'sequential-boot':
            v = self.txid_seq & 0xffff
            self.txid_seq += 1
            return v
        if x[0] == 'sequential':
            v = self.txid_cont & 0xffff
            self.txid_cont += 1
            return v
        if x[0] == 'constant':
            return x[1]
        if x[0] == 'random-range':
            return x[1] + x[3] * self.rng.randint(0, (x[2] - x[1]) // x[3])
        v = x[1 + self.two_val]
        self.two_val ^= 1
        return v

    def provided(self):
        if self.dev.resolvers[0] == 'provided':
            return list(self.net.dns)
        if self.dev.resolvers[0] == 'provided6':
            return list(self.net.rdnss or self.net.dhcpv6_dns)
        return list(self.dev.resolvers[1])

    def cached(self, t, name, qtype):
        exp = self.cache.get((name.lower(), qtype))
        return exp is not None and t < exp

    def edns_for(self, addr):
        e = self.dev.edns
        if e is None:
            return None, 0
        opts = []
        if e['ecs']:
            opts.append(ecs_option(e['ecs']))
        if e['cookie']:
            opts.append((10, self.client_cookie + self.cookies.get(addr, b'')))
        return {'size': e['size'], 'do': e['do'], 'options': opts}, e['pad']

    def ask(self, t, name, group, transport, reason, targets):
        """The device wants `name` for each type in group (sent from one socket)."""
        dev = self.dev
        if t >= self.t_end:
            return
        name = self.expand(name)
        if dev.pair_aaaa and group == (1,) and reason == 'app':
            group = (1, 28)
        if dev.cache == 'honour' and reason == 'app':
            left = tuple(q for q in group if not self.cached(t, name, q))
            if not left:
                self.truth.d['cache_hits'] += 1
                return
            group = left
        if targets is None:
            prov = self.provided()
            targets = prov if dev.parallel else prov[:1]
        for ri, raddr in enumerate(targets):
            port = self.alloc_port()
            txns = []
            for qi, qtype in enumerate(group):
                x = Txn()
                x.name, x.qtype, x.resolver, x.port = name, qtype, raddr, port
                x.sent_name = case_0x20(self.rng, name) if dev.mixed_case else name
                x.id = self.alloc_id()
                x.attempt, x.first, x.reason, x.answered = 0, t, reason, False
                txns.append(x)
            if transport == 'tcp':
                self.tcp_dns(t + ri * 300, raddr, txns, 'normal')
                continue
            for qi, x in enumerate(txns):
                self.send_query(t + ri * 300 + qi * 150, x)

    def expand(self, name):
        dev = self.dev
        return name.replace('{mac}', dev.mac.hex()).replace('{MAC}', dev.mac.hex().upper()) \
                   .replace('{hostname}', (dev.hostname or dev.name).lower())

    def build_query(self, x, addr):
        opt, pad = self.edns_for(addr)
        return Dns.message(x.id, 0x0100, (x.sent_name, x.qtype, 1), opt=opt, pad_block=pad)

    def send_query(self, t, x):
        if t >= self.t_end:
            return
        if x.attempt == 0:
            x.payload = self.build_query(x, x.resolver)
        me, srv = self.my(x.resolver), self.peer(x.resolver)
        self.sim.send_udp(t, me, srv, x.port, 53, x.payload, self.rng, ext=me.ext)
        self.truth.query(x.resolver, x.name, 'udp', retransmission=x.attempt > 0)
        resp, special, rcode, ttl = self.resolve(t, x, 'udp')
        if resp is None:
            wait = int(self.dev.backoff * (self.dev.backoff_factor ** x.attempt))
            self.push(t + wait, self.on_timeout, x)
            return
        lat = srv.rtt(self.rng)
        r = self.sc.resolvers[x.resolver]
        self.sim.send_udp(t + lat, srv, me, 53, x.port, resp, self.rng, frag_mtu=r.mtu,
                          frag_order=r.frag_order, ext=srv.ext)
        self.push(t + lat, self.on_response, x, rcode, ttl, special, resp)

    def resolve(self, t, x, transport):
        """Asks the scenario's resolver; returns (response bytes or None, special, rcode, ttl)."""
        r = self.sc.resolvers[x.resolver]
        if r.down_at(t - self.sc.start):
            return None, 'drop', 0, 0
        rcode, answers, authority, special = r.answer(x.sent_name, x.qtype)
        if special == 'drop':
            return None, 'drop', 0, 0
        q = self.dns_parse_query(x.payload)
        opt = None
        if q['edns'] is not None:
            opts = []
            for code, val in q['edns']['options']:
                if code == 8:   # echo ECS with a scope
                    opts.append((8, val[:3] + bytes([min(val[2], 24)]) + val[4:]))
                elif code == 10:
                    srv_cookie = struct.pack('!BxxxI', 1, (t // SEC) & 0xffffffff) + \
                        hashlib.sha256(val[:8] + x.resolver).digest()[:8]
                    opts.append((10, val[:8] + srv_cookie))
            opt = {'size': 1232, 'do': q['edns']['do'], 'options': opts}
        pad = 468 if (q['edns'] and any(c == 12 for c, _ in q['edns']['options'])) else 0
        flags = 0x8000 | (q['flags'] & 0x0100) | 0x0080 | rcode
        msg = Dns.message(x.id, flags, (x.sent_name, x.qtype, 1), answers, authority, opt, pad)
        limit = 512 if q['edns'] is None else max(512, q['edns']['size'])
        if transport == 'udp' and (special == 'truncate' or len(msg) > limit):
            special = 'truncate'
            msg = Dns.message(x.id, flags | 0x0200, (x.sent_name, x.qtype, 1), (), (), opt)
        ttl = None
        if rcode == 0 and answers:
            ttl = min(a.ttl for a in answers)
        elif authority:
            ttl = authority[0].rdata[7] if authority[0].rtype == 6 else authority[0].ttl
        return msg, special, rcode, ttl

    @staticmethod
    def dns_parse_query(payload):
        """Reads back the few fields of our own query the resolver needs."""
        ident, flags, qd, an, ns, ar = struct.unpack_from('!HHHHHH', payload)
        i = 12
        while payload[i]:
            i += 1 + payload[i]
        i += 5
        edns = None
        if ar:
            _, _, size, _, _, fl, rdlen = struct.unpack_from('!BHHBBHH', payload, i)
            j, opts = i + 11, []
            while j < i + 11 + rdlen:
                c, ln = struct.unpack_from('!HH', payload, j)
                opts.append((c, payload[j + 4:j + 4 + ln]))
                j += 4 + ln
            edns = {'size': size, 'do': bool(fl & 0x8000), 'options': opts}
        return {'id': ident, 'flags': flags, 'edns': edns}

    def on_timeout(self, t, x):
        if x.answered:
            return
        dev = self.dev
        if x.attempt < dev.retries and t < self.t_end:
            x.attempt += 1
            self.send_query(t, x)
            return
        self.truth.unanswered(x.resolver)
        if dev.fallback and x.reason != 'fallback' and x.resolver != dev.fallback[0]:
            when = max(t, x.first + dev.fallback[1])
            self.push(when, self.ask, x.name, (x.qtype,), 'udp', 'fallback', [dev.fallback[0]])

    def on_response(self, t, x, rcode, ttl, special, resp):
        x.answered = True
        self.truth.response(x.resolver, rcode)
        if self.dev.edns and self.dev.edns['cookie']:
            self.cookies[x.resolver] = self.server_cookie(resp)
        if special == 'truncate' and not self.dev.tcp_fallback:
            return  # the truncated answer is the end of it: no TCP retry
        if special == 'truncate':
            y = Txn()
            y.name, y.qtype, y.resolver, y.sent_name = x.name, x.qtype, x.resolver, x.sent_name
            y.id, y.attempt, y.first, y.reason, y.answered = self.alloc_id(), 0, t, x.reason, False
            self.tcp_dns(t + 1 * MS, x.resolver, [y], 'normal')
            return
        self.after_answer(t, x, rcode, ttl)

    @staticmethod
    def server_cookie(resp):
        """The server part of the COOKIE option in our own response, or b''."""
        def skip_name(i):
            while resp[i]:
                if resp[i] & 0xc0:
                    return i + 2
                i += 1 + resp[i]
            return i + 1
        _, _, qd, an, ns, ar = struct.unpack_from('!HHHHHH', resp)
        i = 12
        for _ in range(qd):
            i = skip_name(i) + 4
        for k in range(an + ns + ar):
            i = skip_name(i)
            rtype, _, _, rdlen = struct.unpack_from('!HHIH', resp, i)
            i += 10
            if rtype == 41:
                j = i
                while j + 4 <= i + rdlen:
                    code, ln = struct.unpack_from('!HH', resp, j)
                    if code == 10:
                        return resp[j + 4 + 8:j + 4 + ln]
                    j += 4 + ln
            i += rdlen
        return b''

    def after_answer(self, t, x, rcode, ttl):
        dev = self.dev
        if dev.cache == 'honour' and ttl is not None:
            self.cache[(x.name.lower(), x.qtype)] = t + ttl * SEC
        if rcode == 0 and x.qtype == 1:
            addrs = [a.rdata for a in self.sc.resolvers[x.resolver].answer(x.sent_name, 1)[1] if a.rtype == 1]
            if addrs:
                self.addr_of[x.name.lower()] = addrs[0]
        if dev.storm and rcode in dev.storm[0] and x.reason != 'storm':
            for k in range(1, dev.storm[2] + 1):
                self.push(t + k * dev.storm[1], self.ask, x.name, (x.qtype,), 'udp', 'storm',
                          [x.resolver])

    def tcp_dns(self, t, raddr, txns, mode, pieces=3):
        """One TCP connection carrying the queries of txns (RFC 7766 framing)."""
        if t >= self.t_end:
            return
        me, srv = self.my(raddr), self.peer(raddr)
        cport = self.rng.randint(*self.dev.tcp_ports)
        conn = TcpConn(self.sim, self.rng, me, srv, cport, 53, t)
        conn.open()
        queries, responses, results = [], [], []
        for x in txns:
            x.port = cport
            x.payload = self.build_query(x, raddr)
            queries.append(struct.pack('!H', len(x.payload)) + x.payload)
            self.truth.query(raddr, x.name, 'tcp')
            resp, special, rcode, ttl = self.resolve(t, x, 'tcp')
            results.append((x, resp, rcode, ttl))
            if resp is not None:
                responses.append(struct.pack('!H', len(resp)) + resp)
        if mode == 'pipelined':
            conn.data(True, b''.join(queries))
            conn.wait(srv.rtt(self.rng))
            if responses:
                conn.data(False, b''.join(responses))
        else:
            for i, q in enumerate(queries):
                if mode == 'split':
                    conn.data(True, q, pieces=pieces)
                elif mode == 'reorder':
                    conn.data(True, q, pieces=2, order='reverse')
                else:
                    conn.data(True, q)
                conn.wait(srv.rtt(self.rng))
                x, resp = results[i][0], results[i][1]
                if resp is None:
                    continue
                r = struct.pack('!H', len(resp)) + resp
                if mode == 'split':
                    conn.data(False, r, pieces=pieces)
                elif mode == 'reorder':
                    conn.data(False, r, pieces=3, order='swap')
                else:
                    conn.data(False, r)
        t_done = conn.t
        conn.close()
        for x, resp, rcode, ttl in results:
            if resp is not None:
                x.answered = True
                self.truth.response(raddr, rcode)
                self.after_answer(t_done, x, rcode, ttl)
            else:
                self.truth.unanswered(raddr)

    # -- other activities -------------------------------------------------

    def act_tcp_exchange(self, t, a):
        txns = []
        port = 0
        for n in a['names']:
            x = Txn()
            x.name = self.expand(n)
            x.qtype, x.resolver, x.port = 1, a['to'], port
            x.sent_name = x.name
            x.id, x.attempt, x.first, x.reason, x.answered = self.alloc_id(), 0, t, 'app', False
            txns.append(x)
        self.tcp_dns(t, a['to'], txns, a['mode'], a['pieces'])

    def mdns_eps(self):
        mc = Endpoint(multicast_mac(ip_bytes('224.0.0.251')), ip_bytes('224.0.0.251'), self.dev.vlans)
        me = Endpoint(self.dev.mac, self.dev.ip, self.dev.vlans, 255)
        return me, mc

    def act_mdns_query(self, t, a):
        me, mc = self.mdns_eps()
        msg = Dns.message(0, 0, (a['name'], a['type'], 1))
        self.sim.send_udp(t, me, mc, 5353, 5353, msg, self.rng)
        self.truth.d['mdns_queries'] += 1

    def act_mdns_announce(self, t, a):
        me, mc = self.mdns_eps()
        inst = a['name']
        labels = inst.split('.')
        service = '.'.join(labels[1:])
        host = (self.dev.hostname or self.dev.name) + '.local'
        txt = b''
        for kv in (a['txt'].split(',') if a['txt'] else ['id=' + self.dev.mac.hex()]):
            txt += bytes([len(kv)]) + kv.encode()
        ans = [Rr(service, 12, 4500, ('name', inst)),
               Rr(inst, 33, 120, ('srv', 0, 0, a['port'], host), rclass=0x8001),
               Rr(inst, 16, 4500, txt, rclass=0x8001),
               Rr(host, 1, 120, self.dev.ip, rclass=0x8001)]
        msg = Dns.message(0, 0x8400, None, ans)
        self.sim.send_udp(t, me, mc, 5353, 5353, msg, self.rng)
        self.truth.d['mdns_responses'] += 1

    def act_llmnr(self, t, a):
        mc = Endpoint(multicast_mac(ip_bytes('224.0.0.252')), ip_bytes('224.0.0.252'), self.dev.vlans, 1)
        me = Endpoint(self.dev.mac, self.dev.ip, self.dev.vlans, 1)
        msg = Dns.message(self.rng.getrandbits(16), 0, (a['name'], 1, 1))
        self.sim.send_udp(t, me, mc, self.rng.randint(49152, 65535), 5355, msg, self.rng)
        self.truth.d['llmnr_queries'] += 1

    def act_responder(self, t, a):
        """An outside host probes the device's port 53; the device answers."""
        addr = a['from'][self.rng.randrange(len(a['from']))]
        src, me = self.peer(addr), self.my(addr)  # the device's IPv6 address for an IPv6 prober
        own = self.dev.ip if len(addr) == 4 else self.dev.ip6
        sport = self.rng.randint(1024, 65535)
        ident = self.rng.getrandbits(16)
        q = Dns.message(ident, 0x0100, (a['name'], a['type'], 1),
                        opt={'size': 4096, 'do': False, 'options': []})
        self.sim.send_udp(t, src, me, sport, 53, q, self.rng)
        # a `resolver` block for the device's own address says what it serves
        r = self.sc.resolvers.get(own) or Resolver(own)
        _, answers, _, _ = r.answer(a['name'], a['type'])
        resp = Dns.message(ident, 0x8180, (a['name'], a['type'], 1), answers, (),
                           {'size': 4096, 'do': False, 'options': []})
        self.sim.send_udp(t + self.rng.randint(300, 2000), me, src, 53, sport, resp, self.rng)
        self.truth.d['responses_sent'] += 1

    def act_dot(self, t, a):
        self.encrypted(t, a, 853, 'dot')

    def act_doh(self, t, a):
        self.encrypted(t, a, 443, 'h2')

    def act_connect(self, t, a):
        """The application needs NAME: it resolves through the stack (`resolve
        cache`), or only once per boot (`resolve once`, ignoring the TTL), then
        connects to the address of the latest answer it got, if any."""
        name = self.expand(a['name'])
        if a['resolve'] == 'cache' or name.lower() not in self.resolved_once:
            self.resolved_once.add(name.lower())
            self.ask(t, name, (1,), 'udp', 'app', None)
        self.push(t + 500 * MS, self.connect_to, name, a['port'])

    def connect_to(self, t, name, port):
        addr = self.addr_of.get(name.lower())
        if addr is None or t >= self.t_end:
            return
        conn = TcpConn(self.sim, self.rng, self.my(addr), self.peer(addr),
                       self.rng.randint(*self.dev.tcp_ports), port, t)
        conn.open()
        conn.wait(self.rng.randint(50 * MS, 500 * MS))
        conn.close()
        self.truth.d['connections'] = self.truth.d.get('connections', 0) + 1

    def encrypted(self, t, a, port, alpn):
        me = self.my(a['addr'])
        srv = self.peer(a['addr'])
        cport = self.rng.randint(*self.dev.tcp_ports)
        conn = TcpConn(self.sim, self.rng, me, srv, cport, port, t)
        conn.open()
        ch = Tls.client_hello(self.rng, a['sni'], alpn)
        conn.data(True, ch)
        conn.wait(srv.rtt(self.rng))
        conn.data(False, Tls.server_hello(self.rng, ch) + Tls.CCS +
                  Tls.app_data(self.rng, self.rng.randint(2000, 2600)) + Tls.app_data(self.rng, 53))
        conn.data(True, Tls.CCS + Tls.app_data(self.rng, 53))
        for _ in range(a['requests']):
            conn.wait(self.rng.randint(1 * MS, 50 * MS))
            conn.data(True, Tls.app_data(self.rng, self.rng.randint(60, 140)))
            conn.wait(srv.rtt(self.rng))
            conn.data(False, Tls.app_data(self.rng, self.rng.randint(90, 500)))
        conn.wait(self.rng.randint(100 * MS, 2 * SEC))
        conn.close()
        k = ip_text(a['addr']) + '/' + ('dot' if port == 853 else 'doh')
        self.truth.d['encrypted_flows'][k] = self.truth.d['encrypted_flows'].get(k, 0) + 1


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description='Generate a pcap from a readable scenario (docs/scenarios.md).')
    ap.add_argument('scenario')
    ap.add_argument('-o', '--output', required=True, help='capture file to write')
    ap.add_argument('--truth', help='write per-device generator bookkeeping (JSON lines)')
    ap.add_argument('-q', '--quiet', action='store_true')
    args = ap.parse_args(argv)
    try:
        with open(args.scenario, encoding='utf-8') as f:
            sc = Scenario.parse(f.read())
    except (OSError, ScenarioError) as e:
        print('pcapgen: %s: %s' % (args.scenario, e), file=sys.stderr)
        return 2
    sim = Sim(sc)
    truths = sim.run()
    with open(args.output, 'wb') as out:
        size = sim.write(out)
    if args.truth:
        with open(args.truth, 'w', encoding='utf-8') as f:
            for t in truths:
                f.write(json.dumps(t, sort_keys=True) + '\n')
    if not args.quiet:
        print('pcapgen: %s: %d packets, %d bytes, %d devices' %
              (args.output, len(sim.frames), size, len(sc.devices)), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())

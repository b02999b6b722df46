#!/usr/bin/env python3
"""benchgen - writes the iotdns benchmark capture.

    python3 tests/tools/benchgen.py OUT.pcap [--packets 1000000] [--devices 2000] [--seed 1]

A deterministic classic pcap (Ethernet, microsecond timestamps) of about
--packets packets from --devices devices on 10.0.0.0/16, one hour long:

  * unicast DNS over UDP: queries and their responses to two local resolvers
    (10.0.0.1, 10.0.0.2; every 20th device uses 8.8.8.8 instead), names
    drawn from a list of a few thousand realistic names with a skewed
    popularity, ~5 % AAAA, ~2 % NXDOMAIN (with SOA), ~1 % never answered,
    a few devices with a fixed source port;
  * mDNS PTR queries to 224.0.0.251 (~3 % of the packets);
  * one DHCP DISCOVER/OFFER/REQUEST/ACK exchange per device at the start.

Speed: every name's question and answer bytes, every device's Ethernet
header and every IPv4 header checksum base are built once; the loop only
packs the few fields that change (lengths, IP ID, checksum, ports, DNS ID)
and the timestamps. Same arguments -> byte-identical file. Standard library only.
"""

import argparse
import random
import struct
import sys
import time

START = 1714809600  # 2024-05-04T08:00:00Z
DURATION_US = 3600 * 1000000

PREFIXES = ['api', 'www', 'time', 'ntp', 'cdn', 'static', 'img', 'fw', 'update', 'ota',
            'mqtt', 'iot', 'device', 'devices', 'events', 'metrics', 'telemetry', 'log', 'logs',
            'push', 'notify', 'auth', 'login', 'account', 'accounts', 'cloud', 'gw', 'gateway',
            'edge', 'media', 'stream', 'video', 'snap', 'relay', 'turn', 'stun', 'config',
            'weather', 'geo', 'location', 'us-east', 'eu-west', 'ap-south', 'connect', 'sync',
            'backup', 'diag', 'status', 'health', 'heartbeat', 'ws', 'wss', 'mobile', 'app',
            'apps', 'store', 'license', 'ads', 'analytics', 'track']
DOMAINS = ['example.com', 'example.net', 'example.org', 'example-cloud.test', 'iot-vendor.test',
           'camera-cloud.test', 'plug-cloud.test', 'speaker-cloud.test', 'tv-cloud.test',
           'hub-cloud.test', 'fryer-cloud.test', 'vacuum-cloud.test', 'lock-cloud.test',
           'bulb-cloud.test', 'thermo-cloud.test', 'doorbell-cloud.test', 'printer-cloud.test',
           'router-cloud.test', 'watch-cloud.test', 'scale-cloud.test', 'car-cloud.test',
           'wearable.test', 'streaming.test', 'music.test', 'news.test', 'weather.test',
           'maps.test', 'social.test', 'mail.test', 'search.test', 'shop.test', 'bank.test',
           'games.test', 'chat.test', 'photos.test', 'drive.test', 'office.test', 'voice.test',
           'assistant.test', 'home.test', 'security.test', 'alarm.test', 'garden.test',
           'pool.test', 'solar.test', 'energy.test', 'water.test', 'health.test', 'fitness.test',
           'kids.test', 'pets.test', 'kitchen.test', 'cleaning.test', 'lights.test', 'blinds.test',
           'garage.test', 'sensor.test', 'meter.test', 'grid.test', 'ev.test']


def build_names():
    names = []
    for d in DOMAINS:
        for p in PREFIXES:
            names.append('%s.%s' % (p, d))
    return names


def wire_name(name):
    out = b''
    for label in name.split('.'):
        out += bytes([len(label)]) + label.encode()
    return out + b'\0'


def csum_fold(s):
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip_sum_base(src, dst, ttl, proto):
    """Sum of the IPv4 header words that do not change (version/IHL, flags,
    TTL/proto, addresses); total length and ID are added per packet."""
    words = [0x4500, 0x0000, (ttl << 8) | proto]
    words += struct.unpack('!HH', src) + struct.unpack('!HH', dst)
    return sum(words)


def ip_header(src, dst, proto, total, ident, ttl=64):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, total, ident, 0, ttl, proto, 0, src, dst)
    s = sum(struct.unpack('!10H', h))
    return h[:10] + struct.pack('!H', csum_fold(s)) + h[12:]


def dhcp_frames(dev_mac, dev_ip, router_mac, router_ip, xid):
    """The four DHCP messages of one lease (slow path, once per device)."""
    out = []
    bcast_ip = b'\xff' * 4
    zero_ip = b'\0' * 4
    mask = b'\xff\xff\0\0'
    srv_opts = [(54, router_ip), (51, struct.pack('!I', 86400)), (1, mask), (3, router_ip),
                (6, router_ip + bytes([10, 0, 0, 2]))]
    cli_opts = [(61, b'\x01' + dev_mac), (12, ('dev-' + dev_mac[3:].hex()).encode()),
                (55, bytes([1, 3, 6, 12, 15, 28, 42]))]
    msgs = [(1, 1, cli_opts, zero_ip), (2, 2, srv_opts, dev_ip),
            (1, 3, [(50, dev_ip), (54, router_ip)] + cli_opts, zero_ip), (2, 5, srv_opts, dev_ip)]
    for op, mtype, opts, yi in msgs:
        body = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', op, 1, 6, 0, xid, 0, 0x8000, zero_ip,
                           yi if op == 2 else zero_ip, router_ip if op == 2 else zero_ip,
                           zero_ip, dev_mac, b'', b'')
        body += b'\x63\x82\x53\x63' + bytes([53, 1, mtype])
        body += b''.join(bytes([c, len(v)]) + v for c, v in opts) + b'\xff'
        body += b'\0' * max(0, 300 - len(body))
        if op == 1:
            sip, dip, sp, dp, smac = zero_ip, bcast_ip, 68, 67, dev_mac
        else:
            sip, dip, sp, dp, smac = router_ip, bcast_ip, 67, 68, router_mac
        udp = struct.pack('!HHHH', sp, dp, 8 + len(body), 0) + body
        ip = ip_header(sip, dip, 17, 20 + len(udp), xid & 0xffff)
        out.append(b'\xff' * 6 + smac + b'\x08\x00' + ip + udp)
    return out


def generate(path, npackets, ndevices, seed):
    rng = random.Random(seed)
    rand = rng.random
    getrandbits = rng.getrandbits
    names = build_names()
    nnames = len(names)

    # Name tables: question bytes per type, answer RR bytes, NXDOMAIN set.
    q_a, q_aaaa, ans_a, ans_aaaa = [], [], [], []
    for i, n in enumerate(names):
        w = wire_name(n)
        q_a.append(w + b'\x00\x01\x00\x01')
        q_aaaa.append(w + b'\x00\x1c\x00\x01')
        ttl = (60, 300, 600, 3600)[i % 4]
        ans_a.append(struct.pack('!HHHIH', 0xc00c, 1, 1, ttl, 4) + bytes([198, 51, 100, 1 + i % 254]))
        ans_aaaa.append(struct.pack('!HHHIH', 0xc00c, 28, 1, ttl, 16) +
                        bytes.fromhex('20010db8') + struct.pack('!IQ', i, 1))
    nx = set(range(0, nnames, 50))         # ~2 % of names do not exist
    soa = {}
    for i in nx:
        zone = names[i].split('.', 1)[1]
        soa[i] = (wire_name(zone) + struct.pack('!HHIH', 6, 1, 900, 0))
        rdata = wire_name('ns1.' + zone) + wire_name('hostmaster.' + zone) + \
            struct.pack('!IIIII', 2024050401, 7200, 900, 1209600, 900)
        soa[i] = soa[i][:-2] + struct.pack('!H', len(rdata)) + rdata
    # Popularity: a cumulative table with a skewed (Zipf-like) distribution.
    weights = [1.0 / (1 + i) ** 0.9 for i in range(nnames)]
    order = list(range(nnames))
    rng.shuffle(order)
    popular = []
    acc = 0.0
    for w in weights:
        acc += w
        popular.append(acc)
    total_w = acc
    import bisect
    pick_idx = [order[bisect.bisect_left(popular, total_w * (k + 0.5) / 65536)] for k in range(65536)]

    router_mac = bytes.fromhex('50c7bf000001')
    pihole_mac = bytes.fromhex('dca632000002')
    resolvers = [(bytes([10, 0, 0, 1]), router_mac), (bytes([10, 0, 0, 2]), pihole_mac),
                 (bytes([8, 8, 8, 8]), router_mac)]
    ouis = [bytes.fromhex(x) for x in ('84f3eb', 'a4cf12', '240ac4', 'f4f5d8', '44650d', '5caafd',
                                        '001788', 'dca632', '70ee50', '50c7bf')]
    devs = []
    for d in range(ndevices):
        mac = (ouis[d % len(ouis)] if d % 3 else b'\x02\x00\x00') + struct.pack('!I', d)[1:]
        ip = bytes([10, 0, 1 + d // 250, 2 + d % 250])
        r = 2 if d % 20 == 0 else d % 2
        rip, rmac = resolvers[r]
        fixed_port = 4096 + d if d % 50 == 0 else 0
        devs.append((
            rmac + mac + b'\x08\x00',                      # query Ethernet header
            mac + rmac + b'\x08\x00',                      # response Ethernet header
            ip_sum_base(ip, rip, 64, 17),                  # query IP checksum base
            ip_sum_base(rip, ip, 64 if r < 2 else 56, 17), # response IP checksum base
            ip, rip, fixed_port, 64 if r < 2 else 56,
            mac,
        ))

    mdns_mac = bytes.fromhex('01005e0000fb')
    mdns_ip = bytes([224, 0, 0, 251])
    mdns_q = struct.pack('!HHHHHH', 0, 0, 1, 0, 0, 0) + wire_name('_googlecast._tcp.local') + b'\x00\x0c\x00\x01'

    rec = struct.Struct('<IIII').pack
    hdr = struct.Struct('!BBHHHBBH4s4sHHHHHHHHHH').pack   # IPv4 + UDP + DNS header
    out = bytearray(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    chunks = []
    count = 0

    # DHCP at the start: one lease per device over the first minute.
    dhcp_gap = 60 * 1000000 // max(1, ndevices)
    t = START * 1000000
    for d, dev in enumerate(devs):
        for k, frame in enumerate(dhcp_frames(dev[8], dev[4], router_mac, bytes([10, 0, 0, 1]),
                                              getrandbits(32))):
            ts = t + k * 3000
            out += rec(ts // 1000000, ts % 1000000, len(frame), len(frame)) + frame
            count += 1
        t += dhcp_gap

    remaining = max(0, npackets - count)
    # A transaction is ~1.97 packets on average (1 % unanswered); mDNS adds 1.
    steps = int(remaining / 1.94)
    step_us = max(1, (DURATION_US - 60 * 1000000) // max(1, steps))
    t0 = START * 1000000 + 60 * 1000000
    ident = 1
    ndev = len(devs)
    resp_span = max(1, min(20000, step_us - 400))
    for s in range(steps):
        if count >= npackets:
            break
        ts = t0 + s * step_us
        d = getrandbits(31) % ndev
        dev = devs[d]
        x = rand()
        if x < 0.03:                          # mDNS query
            dns = mdns_q
            ulen = 8 + len(dns)
            tl = 20 + ulen
            s_ = 0x4500 + tl + ident + ((255 << 8) | 17) + \
                sum(struct.unpack('!HH', dev[4])) + 0xe000 + 0x00fb
            frame = mdns_mac + dev[8] + b'\x08\x00' + \
                struct.pack('!BBHHHBBH4s4sHHHH', 0x45, 0, tl, ident, 0, 255, 17, csum_fold(s_),
                            dev[4], mdns_ip, 5353, 5353, ulen, 0) + dns
            out += rec(ts // 1000000, ts % 1000000, len(frame), len(frame)) + frame
            ident = (ident + 1) & 0xffff
            count += 1
            continue
        ni = pick_idx[getrandbits(16)]
        aaaa = x > 0.95
        q = q_aaaa[ni] if aaaa else q_a[ni]
        txid = getrandbits(16)
        sport = dev[6] or 32768 + getrandbits(15) % 28232
        ulen = 20 + len(q)
        tl = 20 + ulen
        c = csum_fold(dev[2] + tl + ident)
        sec, usec = divmod(ts, 1000000)
        frame = dev[0] + hdr(0x45, 0, tl, ident, 0, 64, 17, c, dev[4], dev[5], sport, 53, ulen, 0,
                             txid, 0x0100, 1, 0, 0, 0) + q
        out += rec(sec, usec, len(frame), len(frame)) + frame
        ident = (ident + 1) & 0xffff
        count += 1
        if (x > 0.94 and x < 0.95) or count >= npackets:   # ~1 %: never answered
            continue
        ts += 300 + txid % resp_span          # before the next query: time order
        if ni in nx:
            flags, an, ns, body = 0x8183, 0, 1, soa[ni]
        else:
            flags, an, ns, body = 0x8180, 1, 0, (ans_aaaa[ni] if aaaa else ans_a[ni])
        ulen = 20 + len(q) + len(body)
        tl = 20 + ulen
        c = csum_fold(dev[3] + tl + ident)
        sec, usec = divmod(ts, 1000000)
        frame = dev[1] + hdr(0x45, 0, tl, ident, 0, dev[7], 17, c, dev[5], dev[4], 53, sport, ulen, 0,
                             txid, flags, 1, an, ns, 0) + q + body
        out += rec(sec, usec, len(frame), len(frame)) + frame
        ident = (ident + 1) & 0xffff
        count += 1
        if len(out) > (8 << 20):
            chunks.append(bytes(out))
            out = bytearray()
    chunks.append(bytes(out))
    with open(path, 'wb') as f:
        for c in chunks:
            f.write(c)
    return count, sum(len(c) for c in chunks)


def main(argv=None):
    ap = argparse.ArgumentParser(description='Write the deterministic iotdns benchmark capture.')
    ap.add_argument('output')
    ap.add_argument('--packets', type=int, default=1000000)
    ap.add_argument('--devices', type=int, default=2000)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args(argv)
    if args.devices < 1 or args.devices > 60000 or args.packets < 1:
        ap.error('--devices must be 1..60000 and --packets positive')
    t = time.monotonic()
    n, size = generate(args.output, args.packets, args.devices, args.seed)
    print('benchgen: %s: %d packets, %d bytes, %d devices in %.1f s' %
          (args.output, n, size, args.devices, time.monotonic() - t))
    return 0


if __name__ == '__main__':
    sys.exit(main())

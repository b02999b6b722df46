/* Test helper: builds Ethernet/IPv4/IPv6 + UDP/TCP frames and simple DNS and
 * DHCP messages byte by byte, for unit tests of the engine and the store.
 * (The golden tests use the scenario generator tests/tools/pcapgen.py.) */
#ifndef IOTDNS_TEST_PKTBUILD_H
#define IOTDNS_TEST_PKTBUILD_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <string.h>

struct pb {
	uint8_t b[4096];
	size_t n;
};

static inline void pb_u8(struct pb *p, unsigned v) { p->b[p->n++] = (uint8_t)v; }
static inline void pb_u16(struct pb *p, unsigned v) { pb_u8(p, v >> 8); pb_u8(p, v); }
static inline void pb_u32(struct pb *p, uint32_t v) { pb_u16(p, v >> 16); pb_u16(p, v & 0xffff); }
static inline void pb_mem(struct pb *p, const void *m, size_t n) { if (n) memcpy(p->b + p->n, m, n); p->n += n; }

/* DNS name in wire format from "a.b.c" */
static inline void pb_name(struct pb *p, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		pb_u8(p, (unsigned)len);
		pb_mem(p, name, len);
		name += len;
		if (*name == '.')
			name++;
	}
	pb_u8(p, 0);
}

/* A DNS query or response with optional A answer (ttl) / rcode. */
static inline size_t dns_msg(uint8_t *out, uint16_t id, bool qr, const char *qname, uint16_t qtype,
			     unsigned rcode, int n_a_answers, uint32_t ttl)
{
	struct pb p = { .n = 0 };
	pb_u16(&p, id);
	pb_u16(&p, (qr ? 0x8180 : 0x0100) | rcode);
	pb_u16(&p, 1);
	pb_u16(&p, (unsigned)n_a_answers);
	pb_u16(&p, 0);
	pb_u16(&p, 0);
	pb_name(&p, qname);
	pb_u16(&p, qtype);
	pb_u16(&p, 1);
	for (int i = 0; i < n_a_answers; i++) {
		pb_u16(&p, 0xc00c);
		pb_u16(&p, 1);
		pb_u16(&p, 1);
		pb_u32(&p, ttl);
		pb_u16(&p, 4);
		pb_u8(&p, 198);
		pb_u8(&p, 51);
		pb_u8(&p, 100);
		pb_u8(&p, (unsigned)(i + 1));
	}
	memcpy(out, p.b, p.n);
	return p.n;
}

static inline uint16_t ip_csum(const uint8_t *h, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 + UDP (proto 17) or TCP (proto 6, flags) frame. */
static inline size_t frame4(uint8_t *out, const uint8_t smac[6], const uint8_t dmac[6], const uint8_t sip[4],
			    const uint8_t dip[4], int proto, uint16_t sport, uint16_t dport, unsigned tcp_flags,
			    const uint8_t *payload, size_t plen)
{
	struct pb p = { .n = 0 };
	pb_mem(&p, dmac, 6);
	pb_mem(&p, smac, 6);
	pb_u16(&p, 0x0800);
	size_t ip = p.n;
	size_t l4len = (proto == 17 ? 8 : 20) + plen;
	pb_u8(&p, 0x45);
	pb_u8(&p, 0);
	pb_u16(&p, (unsigned)(20 + l4len));
	pb_u16(&p, 0x1234);
	pb_u16(&p, 0);
	pb_u8(&p, 64);
	pb_u8(&p, (unsigned)proto);
	pb_u16(&p, 0);
	pb_mem(&p, sip, 4);
	pb_mem(&p, dip, 4);
	uint16_t c = ip_csum(p.b + ip, 20);
	p.b[ip + 10] = (uint8_t)(c >> 8);
	p.b[ip + 11] = (uint8_t)c;
	pb_u16(&p, sport);
	pb_u16(&p, dport);
	if (proto == 17) {
		pb_u16(&p, (unsigned)l4len);
		pb_u16(&p, 0);
	} else {
		pb_u32(&p, 1000);
		pb_u32(&p, 0);
		pb_u8(&p, 0x50);
		pb_u8(&p, tcp_flags);
		pb_u16(&p, 65535);
		pb_u16(&p, 0);
		pb_u16(&p, 0);
	}
	pb_mem(&p, payload, plen);
	memcpy(out, p.b, p.n);
	return p.n;
}

/* Ethernet + IPv6 + UDP frame (no extension headers; checksum left 0). */
static inline size_t frame6(uint8_t *out, const uint8_t smac[6], const uint8_t dmac[6], const uint8_t sip[16],
			    const uint8_t dip[16], uint16_t sport, uint16_t dport, const uint8_t *payload, size_t plen)
{
	struct pb p = { .n = 0 };
	pb_mem(&p, dmac, 6);
	pb_mem(&p, smac, 6);
	pb_u16(&p, 0x86dd);
	pb_u32(&p, 0x60000000u);
	pb_u16(&p, (unsigned)(8 + plen));
	pb_u8(&p, 17);
	pb_u8(&p, 64);
	pb_mem(&p, sip, 16);
	pb_mem(&p, dip, 16);
	pb_u16(&p, sport);
	pb_u16(&p, dport);
	pb_u16(&p, (unsigned)(8 + plen));
	pb_u16(&p, 0);
	pb_mem(&p, payload, plen);
	memcpy(out, p.b, p.n);
	return p.n;
}

/* DHCPv4 message: op 1 (client) / 2 (server), type, chaddr, optional DNS servers and host name. */
static inline size_t dhcp4_msg(uint8_t *out, int op, int type, const uint8_t chaddr[6], const uint8_t ciaddr[4],
			       const uint8_t (*dns)[4], int ndns, const char *hostname)
{
	struct pb p = { .n = 0 };
	pb_u8(&p, (unsigned)op);
	pb_u8(&p, 1);
	pb_u8(&p, 6);
	pb_u8(&p, 0);
	pb_u32(&p, 0xabcdef01);
	pb_u16(&p, 0);
	pb_u16(&p, 0);
	static const uint8_t zero[16];
	pb_mem(&p, ciaddr ? ciaddr : zero, 4);
	pb_mem(&p, zero, 12); /* yiaddr siaddr giaddr */
	pb_mem(&p, chaddr, 6);
	pb_mem(&p, zero, 10);
	for (int i = 0; i < 192; i++)
		pb_u8(&p, 0);
	pb_u32(&p, 0x63825363);
	pb_u8(&p, 53);
	pb_u8(&p, 1);
	pb_u8(&p, (unsigned)type);
	if (ndns) {
		pb_u8(&p, 6);
		pb_u8(&p, (unsigned)(4 * ndns));
		for (int i = 0; i < ndns; i++)
			pb_mem(&p, dns[i], 4);
	}
	if (hostname) {
		pb_u8(&p, 12);
		pb_u8(&p, (unsigned)strlen(hostname));
		pb_mem(&p, hostname, strlen(hostname));
	}
	pb_u8(&p, 55);
	pb_u8(&p, 3);
	pb_u8(&p, 1);
	pb_u8(&p, 3);
	pb_u8(&p, 6);
	pb_u8(&p, 255);
	memcpy(out, p.b, p.n);
	return p.n;
}

static inline struct pcap_pkthdr pkthdr(uint64_t ts_us, size_t len)
{
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)len;
	return h;
}

#endif

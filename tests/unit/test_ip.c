/* Network and transport decoding: IPv4 header checks and options, the IPv6
 * extension header chain, UDP/TCP/ICMPv6 headers and their length checks.
 * Frames are raw IP (DLT_RAW) built byte by byte. */
#include <pcap/dlt.h>

#include "harness.h"
#include "iotdns/common.h"
#include "iotdns/packet.h"

static const uint8_t SRC4[4] = { 10, 0, 0, 7 };
static const uint8_t DST4[4] = { 8, 8, 4, 4 };
static const uint8_t SRC6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55 };
static const uint8_t DST6[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb };
static const uint8_t DATA[16] = "DNS-ish payload";

static struct iotdns_stats st;
static struct iotdns_decoder *dec;
static struct iotdns_pkt pkt;

static void be16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void be32(uint8_t *b, uint32_t v)
{
	be16(b, v >> 16);
	be16(b + 2, v & 0xffff);
}

static size_t mk_udp(uint8_t *b, const uint8_t *pl, size_t n)
{
	be16(b, 40000);
	be16(b + 2, 53);
	be16(b + 4, (unsigned)(8 + n));
	be16(b + 6, 0xbeef);
	memcpy(b + 8, pl, n);
	return 8 + n;
}

/* TCP header with doff words (options filled with NOPs) */
static size_t mk_tcp(uint8_t *b, unsigned doff, uint8_t flags, const uint8_t *pl, size_t n)
{
	be16(b, 53);
	be16(b + 2, 41000);
	be32(b + 4, 0xfffffff0u);
	be32(b + 8, 0x01020304u);
	b[12] = (uint8_t)(doff << 4);
	b[13] = flags;
	be16(b + 14, 512);
	be32(b + 16, 0);
	if (doff > 5)
		memset(b + 20, 1, (doff - 5) * 4);
	if (n)
		memcpy(b + doff * 4, pl, n);
	return doff * 4 + n;
}

/* IPv4 header with ihl words (options: NOPs) around l4[0..n) */
static size_t mk_ipv4(uint8_t *b, unsigned ihl, uint8_t proto, const uint8_t *l4, size_t n)
{
	b[0] = (uint8_t)(0x40 | ihl);
	b[1] = 0;
	be16(b + 2, (unsigned)(ihl * 4 + n));
	be16(b + 4, 77);
	be16(b + 6, 0);
	b[8] = 33;
	b[9] = proto;
	be16(b + 10, 0);
	memcpy(b + 12, SRC4, 4);
	memcpy(b + 16, DST4, 4);
	if (ihl > 5)
		memset(b + 20, 1, (ihl - 5) * 4);
	memmove(b + ihl * 4, l4, n);
	return ihl * 4 + n;
}

static size_t mk_ipv6(uint8_t *b, uint8_t nh, const uint8_t *rest, size_t n)
{
	b[0] = 0x60;
	b[1] = b[2] = b[3] = 0;
	be16(b + 4, (unsigned)n);
	b[6] = nh;
	b[7] = 1;
	memcpy(b + 8, SRC6, 16);
	memcpy(b + 24, DST6, 16);
	memmove(b + 40, rest, n);
	return 40 + n;
}

/* Appends a generic extension header (8 * (len8 + 1) bytes) to e at *o. */
static void ext(uint8_t *e, size_t *o, uint8_t nh, unsigned len8)
{
	e[*o] = nh;
	e[*o + 1] = (uint8_t)len8;
	memset(e + *o + 2, 0, 8 * (len8 + 1) - 2);
	e[*o + 2] = 1; /* PadN-ish filler */
	*o += 8 * (len8 + 1);
}

static enum iotdns_dec_result run(const uint8_t *f, size_t caplen, size_t wirelen)
{
	memset(&pkt, 0x5a, sizeof(pkt));
	pkt.ts_us = 5;
	pkt.caplen = (uint32_t)caplen;
	pkt.wirelen = (uint32_t)wirelen;
	return iotdns_decode_frame(dec, DLT_RAW, f, &pkt);
}

/* Runs f and checks the result and that exactly problem p was counted once
 * (p < 0: no problem counted). */
static bool expect(const uint8_t *f, size_t caplen, size_t wirelen, enum iotdns_dec_result want, int p)
{
	struct iotdns_stats before = st;
	enum iotdns_dec_result r = run(f, caplen, wirelen);
	bool ok = r == want;
	for (int i = 0; i < IOTDNS_P_COUNT; i++) {
		uint64_t d = st.problems[i] - before.problems[i];
		if (i == IOTDNS_P_SNAPLEN_CUT)
			continue;
		if (d != (uint64_t)(i == p)) {
			printf("# problem %s moved by %llu\n", iotdns_problem_name(i), (unsigned long long)d);
			ok = false;
		}
	}
	if (r != want)
		printf("# result %d, wanted %d\n", r, want);
	return ok;
}

static void test_ipv4(void)
{
	uint8_t f[512], l4[128];
	size_t n, u = mk_udp(l4, DATA, sizeof(DATA));

	/* with 8 bytes of options */
	n = mk_ipv4(f, 7, 17, l4, u);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.src.family, 4);
	CHECK(memcmp(pkt.src.b, SRC4, 4) == 0);
	CHECK(memcmp(pkt.dst.b, DST4, 4) == 0);
	CHECK_EQ_INT(pkt.src.b[4], 0); /* IPv4 leaves the rest zero */
	CHECK_EQ_INT(pkt.hop_limit, 33);
	CHECK_EQ_INT(pkt.ip_len, 28 + u);
	CHECK_EQ_INT(pkt.l4, IOTDNS_L4_UDP);
	CHECK_EQ_INT(pkt.sport, 40000);
	CHECK_EQ_INT(pkt.dport, 53);
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA));
	CHECK(pkt.payload == f + 28 + 8);
	CHECK(!pkt.reassembled);
	CHECK(!pkt.has_mac);

	/* IHL below 5 */
	n = mk_ipv4(f, 5, 17, l4, u);
	f[0] = 0x44;
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_IP_HEADER));
	/* total length shorter than the header */
	n = mk_ipv4(f, 5, 17, l4, u);
	be16(f + 2, 19);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_IP_HEADER));
	/* IHL longer than the total length; IHL longer than the frame */
	n = mk_ipv4(f, 5, 17, l4, u);
	f[0] = 0x4f;
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_IP_HEADER));
	be16(f + 2, 80);
	CHECK(expect(f, 40, 40, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));
	CHECK(expect(f, 40, 80, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));
	/* total length beyond the frame, no snaplen to explain it */
	n = mk_ipv4(f, 5, 17, l4, u);
	be16(f + 2, (unsigned)n + 1);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));
	/* shorter than a header */
	CHECK(expect(f, 19, 19, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));
	/* total length 0 (TSO capture): the captured length is used */
	n = mk_ipv4(f, 5, 17, l4, u);
	be16(f + 2, 0);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA));
	/* total length shorter than the frame: the rest is padding */
	n = mk_ipv4(f, 5, 17, l4, u);
	memset(f + n, 0xff, 10);
	CHECK(expect(f, n + 10, n + 10, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA));
	CHECK_EQ_INT(pkt.ip_len, n);
	/* other protocols (ICMP, ICMPv6 over IPv4, GRE): skipped, addresses known */
	n = mk_ipv4(f, 5, 1, l4, u);
	CHECK(expect(f, n, n, IOTDNS_DEC_SKIP, -1));
	CHECK_EQ_INT(pkt.l4, IOTDNS_L4_NONE);
	CHECK_EQ_INT(pkt.src.family, 4);
	n = mk_ipv4(f, 5, 58, l4, u);
	CHECK(expect(f, n, n, IOTDNS_DEC_SKIP, -1));
	n = mk_ipv4(f, 5, 47, l4, u);
	CHECK(expect(f, n, n, IOTDNS_DEC_SKIP, -1));
}

static void test_udp(void)
{
	uint8_t f[512], l4[128];
	size_t n, u = mk_udp(l4, DATA, sizeof(DATA));

	/* UDP length below the header */
	be16(l4 + 4, 7);
	n = mk_ipv4(f, 5, 17, l4, u);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_UDP_LENGTH));
	/* longer than the datagram, which is complete */
	be16(l4 + 4, (unsigned)u + 1);
	n = mk_ipv4(f, 5, 17, l4, u);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_UDP_LENGTH));
	/* shorter than the datagram: the UDP length wins */
	be16(l4 + 4, 8 + 5);
	n = mk_ipv4(f, 5, 17, l4, u);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.payload_len, 5);
	/* the UDP header itself cut short inside a complete IP datagram */
	n = mk_ipv4(f, 5, 17, l4, 6);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_UDP));
	/* cut by the snap length: what we have is delivered and counted */
	u = mk_udp(l4, DATA, sizeof(DATA));
	n = mk_ipv4(f, 5, 17, l4, u);
	CHECK(expect(f, n - 6, n, IOTDNS_DEC_OK, IOTDNS_P_TRUNCATED_UDP));
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA) - 6);
	CHECK_EQ_INT(pkt.ip_len, n);
	CHECK(memcmp(pkt.payload, DATA, sizeof(DATA) - 6) == 0);
}

static void test_tcp(void)
{
	uint8_t f[512], l4[128];
	size_t n, t;

	t = mk_tcp(l4, 8, IOTDNS_TCP_PSH | IOTDNS_TCP_ACK, DATA, sizeof(DATA));
	n = mk_ipv4(f, 5, 6, l4, t);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.l4, IOTDNS_L4_TCP);
	CHECK_EQ_INT(pkt.sport, 53);
	CHECK_EQ_INT(pkt.dport, 41000);
	CHECK_EQ_INT(pkt.tcp_seq, 0xfffffff0u);
	CHECK_EQ_INT(pkt.tcp_ack, 0x01020304u);
	CHECK_EQ_INT(pkt.tcp_flags, IOTDNS_TCP_PSH | IOTDNS_TCP_ACK);
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA));
	CHECK(pkt.payload == f + 20 + 32);

	t = mk_tcp(l4, 5, IOTDNS_TCP_SYN, NULL, 0);
	n = mk_ipv4(f, 5, 6, l4, t);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.tcp_flags, IOTDNS_TCP_SYN);
	CHECK_EQ_INT(pkt.payload_len, 0);

	/* data offset below 5 words, or beyond the segment */
	t = mk_tcp(l4, 5, IOTDNS_TCP_ACK, DATA, sizeof(DATA));
	l4[12] = 4 << 4;
	n = mk_ipv4(f, 5, 6, l4, t);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_TCP));
	l4[12] = 15 << 4;
	n = mk_ipv4(f, 5, 6, l4, t);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_TCP));
	/* header shorter than 20 bytes */
	n = mk_ipv4(f, 5, 6, l4, 19);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_TCP));
	/* payload cut by the snap length: delivered, counted */
	t = mk_tcp(l4, 5, IOTDNS_TCP_ACK, DATA, sizeof(DATA));
	n = mk_ipv4(f, 5, 6, l4, t);
	CHECK(expect(f, n - 4, n, IOTDNS_DEC_OK, IOTDNS_P_TRUNCATED_TCP));
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA) - 4);
}

static void test_ipv6(void)
{
	uint8_t f[1024], e[768], l4[128];
	size_t n, o, u = mk_udp(l4, DATA, sizeof(DATA));

	/* plain */
	n = mk_ipv6(f, 17, l4, u);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.src.family, 6);
	CHECK(memcmp(pkt.src.b, SRC6, 16) == 0);
	CHECK(memcmp(pkt.dst.b, DST6, 16) == 0);
	CHECK_EQ_INT(pkt.hop_limit, 1);
	CHECK_EQ_INT(pkt.ip_len, 40 + u);
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA));

	/* hop-by-hop, destination options, routing, AH, destination options */
	o = 0;
	ext(e, &o, 60, 0);
	ext(e, &o, 43, 1);
	ext(e, &o, 51, 0);
	e[o] = 60, e[o + 1] = 4; /* AH: (4 + 2) * 4 = 24 bytes */
	memset(e + o + 2, 0, 22);
	o += 24;
	ext(e, &o, 17, 2);
	memcpy(e + o, l4, u);
	n = mk_ipv6(f, 0, e, o + u);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.l4, IOTDNS_L4_UDP);
	CHECK(pkt.payload == f + 40 + o + 8);
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA));
	CHECK_EQ_INT(pkt.ip_len, n);

	/* hop-by-hop anywhere but first */
	o = 0;
	ext(e, &o, 0, 0);
	ext(e, &o, 17, 0);
	memcpy(e + o, l4, u);
	n = mk_ipv6(f, 60, e, o + u);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_IPV6_EXT));

	/* 16 extension headers are walked, a 17th is too many */
	o = 0;
	for (int i = 0; i < 15; i++)
		ext(e, &o, 60, 0);
	ext(e, &o, 17, 0);
	memcpy(e + o, l4, u);
	n = mk_ipv6(f, 60, e, o + u);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	o = 0;
	for (int i = 0; i < 16; i++)
		ext(e, &o, 60, 0);
	ext(e, &o, 17, 0);
	memcpy(e + o, l4, u);
	n = mk_ipv6(f, 60, e, o + u);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_IPV6_EXT));

	/* a header longer than the payload: broken, or cut by the snap length */
	o = 0;
	ext(e, &o, 17, 0);
	e[1] = 200;
	n = mk_ipv6(f, 60, e, o);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_IPV6_EXT));
	o = 0;
	ext(e, &o, 17, 3);
	n = mk_ipv6(f, 60, e, o);
	CHECK(expect(f, n - 8, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));
	/* only the first 2 bytes of the extension header are missing */
	n = mk_ipv6(f, 60, e, 1);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_IPV6_EXT));

	/* an AH header cut by the snap length right after the fixed header */
	o = 0;
	ext(e, &o, 17, 3);
	n = mk_ipv6(f, 51, e, o);
	CHECK(expect(f, 41, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));
	/* a fragment cut by the snap length cannot be reassembled */
	e[0] = 17, e[1] = 0;
	be16(e + 2, 1); /* offset 0, more fragments */
	be32(e + 4, 99);
	memcpy(e + 8, l4, u);
	n = mk_ipv6(f, 44, e, 8 + u);
	CHECK(expect(f, n - 4, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));

	/* no next header, ESP, unknown protocol: skipped */
	n = mk_ipv6(f, 59, e, 0);
	CHECK(expect(f, n, n, IOTDNS_DEC_SKIP, -1));
	n = mk_ipv6(f, 59, e, 16); /* trailing bytes after "no next header" */
	CHECK(expect(f, n, n, IOTDNS_DEC_SKIP, -1));
	n = mk_ipv6(f, 50, e, 16);
	CHECK(expect(f, n, n, IOTDNS_DEC_SKIP, -1));
	n = mk_ipv6(f, 132, e, 16);
	CHECK(expect(f, n, n, IOTDNS_DEC_SKIP, -1));

	/* atomic fragment (offset 0, M = 0): an ordinary packet */
	e[0] = 17, e[1] = 0;
	be16(e + 2, 0);
	be32(e + 4, 0xabcdef01u);
	memcpy(e + 8, l4, u);
	n = mk_ipv6(f, 44, e, 8 + u);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK(!pkt.reassembled);
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA));
	/* a fragment header cut short */
	n = mk_ipv6(f, 44, e, 6);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_BAD_IPV6_EXT));

	/* payload length beyond the frame */
	n = mk_ipv6(f, 17, l4, u);
	be16(f + 4, (unsigned)u + 10);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));
	/* payload length 0 (jumbogram / TSO): the captured length is used */
	be16(f + 4, 0);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.payload_len, sizeof(DATA));
	/* shorter than the fixed header */
	CHECK(expect(f, 39, 39, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));

	/* TCP over IPv6 */
	size_t t = mk_tcp(l4, 5, IOTDNS_TCP_FIN | IOTDNS_TCP_ACK, DATA, 3);
	n = mk_ipv6(f, 6, l4, t);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.l4, IOTDNS_L4_TCP);
	CHECK_EQ_INT(pkt.tcp_flags, IOTDNS_TCP_FIN | IOTDNS_TCP_ACK);
	CHECK_EQ_INT(pkt.payload_len, 3);
}

static void test_icmpv6(void)
{
	uint8_t f[256], l4[64];
	size_t n;

	l4[0] = 134; /* router advertisement */
	l4[1] = 0;
	be16(l4 + 2, 0x1234);
	memcpy(l4 + 4, DATA, 12);
	n = mk_ipv6(f, 58, l4, 16);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.l4, IOTDNS_L4_ICMPV6);
	CHECK_EQ_INT(pkt.icmp_type, 134);
	CHECK_EQ_INT(pkt.icmp_code, 0);
	CHECK_EQ_INT(pkt.payload_len, 12);
	CHECK(pkt.payload == f + 44);
	CHECK_EQ_INT(pkt.sport, 0);
	/* behind a hop-by-hop header (MLD style) */
	uint8_t e[64];
	size_t o = 0;
	ext(e, &o, 58, 0);
	l4[0] = 143, l4[1] = 7;
	memcpy(e + o, l4, 16);
	n = mk_ipv6(f, 0, e, o + 16);
	CHECK(expect(f, n, n, IOTDNS_DEC_OK, -1));
	CHECK_EQ_INT(pkt.icmp_type, 143);
	CHECK_EQ_INT(pkt.icmp_code, 7);
	/* shorter than type/code/checksum */
	n = mk_ipv6(f, 58, l4, 3);
	CHECK(expect(f, n, n, IOTDNS_DEC_BAD, IOTDNS_P_TRUNCATED_IP));
}

int main(void)
{
	struct iotdns_limits lim;

	iotdns_limits_default(&lim);
	CHECK_EQ_INT(iotdns_decoder_new(&dec, &lim, &st), IOTDNS_OK);
	test_ipv4();
	test_udp();
	test_tcp();
	test_ipv6();
	test_icmpv6();
	iotdns_decoder_free(dec);
	return tap_done();
}

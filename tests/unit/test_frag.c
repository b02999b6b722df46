/* IP fragment reassembly: IPv4 and IPv6, any order, duplicates, overlaps,
 * timeouts, table and size caps; real fragmented captures when the shared
 * corpus is present. */
#include <pcap/pcap.h>

#include "harness.h"
#include "iotdns/common.h"
#include "iotdns/packet.h"

static const uint8_t SRC4[4] = { 172, 17, 0, 10 };
static const uint8_t DST4[4] = { 8, 8, 8, 8 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53 };

static struct iotdns_stats st;
static struct iotdns_decoder *dec;
static struct iotdns_pkt pkt;
static struct iotdns_limits lim;

static void be16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* A UDP datagram (header + n payload bytes with a recognisable pattern). */
static size_t mk_udp(uint8_t *b, size_t n, uint8_t seed)
{
	be16(b, 53);
	be16(b + 2, 33333);
	be16(b + 4, (unsigned)(8 + n));
	be16(b + 6, 0);
	for (size_t i = 0; i < n; i++)
		b[8 + i] = (uint8_t)(seed + i * 7);
	return 8 + n;
}

/* IPv4 fragment of dgram[off .. off+len) */
static size_t v4frag(uint8_t *f, uint8_t proto, const uint8_t *dgram, size_t off, size_t len, bool more,
		     unsigned id)
{
	f[0] = 0x45;
	f[1] = 0;
	be16(f + 2, (unsigned)(20 + len));
	be16(f + 4, id);
	be16(f + 6, (unsigned)((more ? 0x2000 : 0) | (off / 8)));
	f[8] = 57;
	f[9] = proto;
	be16(f + 10, 0);
	memcpy(f + 12, SRC4, 4);
	memcpy(f + 16, DST4, 4);
	memcpy(f + 20, dgram + off, len);
	return 20 + len;
}

/* IPv6 fragment: fixed header, a hop-by-hop header (unfragmentable), a
 * fragment header with next header nh, then dgram[off .. off+len). */
static size_t v6frag(uint8_t *f, uint8_t nh, const uint8_t *dgram, size_t off, size_t len, bool more,
		     uint32_t id)
{
	size_t n = 8 + 8 + len;
	f[0] = 0x60;
	f[1] = f[2] = f[3] = 0;
	be16(f + 4, (unsigned)n);
	f[6] = 0; /* hop-by-hop */
	f[7] = 64;
	memcpy(f + 8, SRC6, 16);
	memcpy(f + 24, DST6, 16);
	memset(f + 40, 0, 8);
	f[40] = 44;
	f[42] = 1, f[43] = 4; /* PadN */
	f[48] = nh;
	f[49] = 0;
	be16(f + 50, (unsigned)(off | (more ? 1 : 0)));
	f[52] = (uint8_t)(id >> 24), f[53] = (uint8_t)(id >> 16), f[54] = (uint8_t)(id >> 8), f[55] = (uint8_t)id;
	memcpy(f + 56, dgram + off, len);
	return 40 + n;
}

static enum iotdns_dec_result run_at(const uint8_t *f, size_t n, uint64_t ts)
{
	memset(&pkt, 0x3c, sizeof(pkt));
	pkt.ts_us = ts;
	pkt.caplen = pkt.wirelen = (uint32_t)n;
	return iotdns_decode_frame(dec, DLT_RAW, f, &pkt);
}

static uint64_t now = 1000000;

static enum iotdns_dec_result run(const uint8_t *f, size_t n)
{
	return run_at(f, n, now += 1000);
}

/* The complete UDP datagram came out of the decoder. */
static bool got_udp(const uint8_t *dgram, size_t dlen)
{
	return pkt.reassembled && pkt.l4 == IOTDNS_L4_UDP && pkt.sport == 53 && pkt.dport == 33333 &&
	       pkt.payload_len == dlen - 8 && memcmp(pkt.payload, dgram + 8, dlen - 8) == 0;
}

static void fresh(uint32_t queues, uint32_t maxdgram)
{
	iotdns_decoder_free(dec);
	memset(&st, 0, sizeof(st));
	iotdns_limits_default(&lim);
	if (queues)
		lim.max_frag_queues = queues;
	if (maxdgram)
		lim.max_frag_datagram = maxdgram;
	dec = NULL;
	if (iotdns_decoder_new(&dec, &lim, &st) != IOTDNS_OK)
		abort();
}

static void test_v4_orders(void)
{
	uint8_t d[256], f[3][300];
	size_t dl = mk_udp(d, 124, 1), fl[3]; /* 132 bytes: 48 + 48 + 36 */
	unsigned id = 0x4242;

	fl[0] = v4frag(f[0], 17, d, 0, 48, true, id);
	fl[1] = v4frag(f[1], 17, d, 48, 48, true, id);
	fl[2] = v4frag(f[2], 17, d, 96, dl - 96, false, id);

	/* in order */
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	CHECK(!pkt.reassembled);
	CHECK_EQ_INT(pkt.src.family, 4); /* addresses known even while held */
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));
	CHECK_EQ_INT(pkt.ip_len, 20 + dl);
	CHECK_EQ_INT(pkt.hop_limit, 57);
	CHECK(memcmp(pkt.src.b, SRC4, 4) == 0 && memcmp(pkt.dst.b, DST4, 4) == 0);

	/* reverse order */
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));

	/* middle first, then last, then first */
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));

	/* every fragment twice */
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));
	CHECK_EQ_INT(st.malformed, 0);

	/* two datagrams interleaved (same addresses, different ids) */
	uint8_t d2[256], g[2][300];
	size_t dl2 = mk_udp(d2, 60, 99), gl[2];
	gl[0] = v4frag(g[0], 17, d2, 0, 40, true, id + 1);
	gl[1] = v4frag(g[1], 17, d2, 40, dl2 - 40, false, id + 1);
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(g[1], gl[1]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(g[0], gl[0]), IOTDNS_DEC_OK);
	CHECK(got_udp(d2, dl2));
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));

	/* same id, different protocol: a different datagram */
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	uint8_t other[300];
	size_t ol = v4frag(other, 6, d, 48, 48, true, id);
	CHECK_EQ_INT(run(other, ol), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));
	CHECK_EQ_INT(st.malformed, 0);
}

static void test_v4_overlaps(void)
{
	uint8_t d[256], f[300], bad[256];
	size_t dl = mk_udp(d, 124, 3), n;
	unsigned id = 7;

	fresh(0, 0);
	/* overlapping with the same bytes: accepted */
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 0, 56, true, id)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 48, 56, true, id)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 96, dl - 96, false, id)), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_OVERLAP], 0);

	/* overlapping with different bytes: the datagram is dropped */
	memcpy(bad, d, dl);
	bad[50] ^= 0xff;
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 0, 56, true, id)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, bad, 48, 56, true, id)), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_OVERLAP], 1);
	/* the remaining fragment starts a new datagram that never completes */
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 96, dl - 96, false, id)), IOTDNS_DEC_SKIP);
	iotdns_decoder_expire(dec, now + lim.frag_timeout_us + 1);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_TIMEOUT], 1);

	/* two "last" fragments that disagree on the length */
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 96, dl - 96, false, id)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 96, dl - 96 - 4, false, id)), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_OVERLAP], 2);
	/* data beyond a known end */
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 48, 40, false, id)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 48, 48, true, id)), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_OVERLAP], 3);
	/* a last fragment ending before data already held */
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 48, 48, true, id)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 8, 32, false, id)), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_OVERLAP], 4);

	/* a "more fragments" fragment whose length is not a multiple of 8 */
	n = v4frag(f, 17, d, 0, 50, true, id + 1);
	CHECK_EQ_INT(run(f, n), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_BAD_IP_HEADER], 1);
	/* a fragment cut by the snap length cannot be reassembled */
	n = v4frag(f, 17, d, 0, 48, true, id + 1);
	memset(&pkt, 0, sizeof(pkt));
	pkt.ts_us = now;
	pkt.caplen = (uint32_t)n - 8;
	pkt.wirelen = (uint32_t)n;
	CHECK_EQ_INT(iotdns_decode_frame(dec, DLT_RAW, f, &pkt), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_TRUNCATED_IP], 1);
}

static void test_v4_limits(void)
{
	uint8_t d[256], f[300];
	size_t dl = mk_udp(d, 124, 5);

	/* never completed: counted by the engine's expiry call... */
	fresh(0, 0);
	uint64_t t0 = now;
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 0, 48, true, 1)), IOTDNS_DEC_SKIP);
	iotdns_decoder_expire(dec, t0 + lim.frag_timeout_us / 2);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_TIMEOUT], 0);
	iotdns_decoder_expire(dec, t0 + 2 * lim.frag_timeout_us);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_TIMEOUT], 1);
	/* ...and lazily when a later fragment arrives */
	CHECK_EQ_INT(run_at(f, v4frag(f, 17, d, 0, 48, true, 2), t0), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run_at(f, v4frag(f, 17, d, 48, 48, true, 2), t0 + lim.frag_timeout_us + 5), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_TIMEOUT], 2);
	/* the late fragment began a datagram of its own */
	CHECK_EQ_INT(run_at(f, v4frag(f, 17, d, 0, 48, true, 2), t0 + lim.frag_timeout_us + 6), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run_at(f, v4frag(f, 17, d, 96, dl - 96, false, 2), t0 + lim.frag_timeout_us + 7), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));
	now = t0 + lim.frag_timeout_us + 10;

	/* table full: the oldest datagram is dropped and counted */
	fresh(4, 0);
	for (unsigned id = 1; id <= 5; id++)
		CHECK_EQ_INT(run(f, v4frag(f, 17, d, 0, 48, true, id)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(st.evictions[IOTDNS_V_FRAGMENTS], 1);
	for (unsigned id = 2; id <= 5; id++) {
		CHECK_EQ_INT(run(f, v4frag(f, 17, d, 48, 48, true, id)), IOTDNS_DEC_SKIP);
		CHECK_EQ_INT(run(f, v4frag(f, 17, d, 96, dl - 96, false, id)), IOTDNS_DEC_OK);
		CHECK(got_udp(d, dl));
	}
	/* datagram 1 was evicted: its remaining fragments do not complete it */
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 48, 48, true, 1)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 96, dl - 96, false, 1)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(st.evictions[IOTDNS_V_FRAGMENTS], 1);

	/* a datagram over the size cap */
	fresh(0, 100);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 0, 48, true, 9)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 48, 48, true, 9)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 96, dl - 96, false, 9)), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_TOO_BIG], 1);
	/* a datagram just under it is fine */
	uint8_t small[128];
	size_t sl = mk_udp(small, 92, 8); /* 100 bytes */
	CHECK_EQ_INT(run(f, v4frag(f, 17, small, 48, sl - 48, false, 10)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, small, 0, 48, true, 10)), IOTDNS_DEC_OK);
	CHECK(got_udp(small, sl));
	/* many datagrams in progress at once (hash chains), all timing out */
	fresh(0, 0);
	unsigned held = 0;
	for (unsigned id = 0; id < 1000; id++)
		held += run(f, v4frag(f, 17, d, 0, 48, true, id)) == IOTDNS_DEC_SKIP;
	CHECK_EQ_INT(held, 1000);
	CHECK_EQ_INT(st.evictions[IOTDNS_V_FRAGMENTS], 0);
	iotdns_decoder_expire(dec, now + lim.frag_timeout_us + 1);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_TIMEOUT], 1000);
	/* the table is empty again: a datagram completes */
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 0, 48, true, 5)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 48, dl - 48, false, 5)), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));

	/* no reassembly at all */
	fresh(0, 0);
	iotdns_decoder_free(dec);
	lim.max_frag_queues = 0;
	CHECK_EQ_INT(iotdns_decoder_new(&dec, &lim, &st), IOTDNS_OK);
	CHECK_EQ_INT(run(f, v4frag(f, 17, d, 0, 48, true, 9)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(st.evictions[IOTDNS_V_FRAGMENTS], 1);
}

static void test_v4_tcp(void)
{
	uint8_t d[256], f[300];
	size_t dl = 20 + 60;

	fresh(0, 0);
	memset(d, 0, 20);
	be16(d, 53);
	be16(d + 2, 40001);
	d[4] = 0x11, d[7] = 0x22; /* seq 0x11000022 */
	d[12] = 5 << 4;
	d[13] = IOTDNS_TCP_ACK | IOTDNS_TCP_PSH;
	for (int i = 0; i < 60; i++)
		d[20 + i] = (uint8_t)i;
	CHECK_EQ_INT(run(f, v4frag(f, 6, d, 40, dl - 40, false, 0xffff)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 6, d, 0, 40, true, 0xffff)), IOTDNS_DEC_OK);
	CHECK(pkt.reassembled);
	CHECK_EQ_INT(pkt.l4, IOTDNS_L4_TCP);
	CHECK_EQ_INT(pkt.tcp_seq, 0x11000022u);
	CHECK_EQ_INT(pkt.tcp_flags, IOTDNS_TCP_ACK | IOTDNS_TCP_PSH);
	CHECK_EQ_INT(pkt.payload_len, 60);
	CHECK(pkt.payload_len == 60 && memcmp(pkt.payload, d + 20, 60) == 0);
	/* a reassembled datagram whose UDP length disagrees */
	uint8_t u[128];
	size_t ul = mk_udp(u, 40, 0);
	be16(u + 4, 200);
	CHECK_EQ_INT(run(f, v4frag(f, 17, u, 0, 24, true, 3)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f, v4frag(f, 17, u, 24, ul - 24, false, 3)), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_BAD_UDP_LENGTH], 1);
}

static void test_v6(void)
{
	/* fragmentable part: destination options header + UDP */
	uint8_t d[300], f[3][400];
	size_t fl[3], dl;
	uint8_t udp[256];
	size_t ul = mk_udp(udp, 150, 11);

	fresh(0, 0);
	memset(d, 0, 16);
	d[0] = 17;
	d[1] = 1; /* 16 bytes */
	d[2] = 1, d[3] = 12;
	memcpy(d + 16, udp, ul);
	dl = 16 + ul; /* 174 */
	fl[0] = v6frag(f[0], 60, d, 0, 64, true, 0xdeadbeef);
	fl[1] = v6frag(f[1], 17, d, 64, 64, true, 0xdeadbeef); /* later next headers are ignored */
	fl[2] = v6frag(f[2], 17, d, 128, dl - 128, false, 0xdeadbeef);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_OK);
	CHECK(got_udp(udp, ul));
	CHECK_EQ_INT(pkt.src.family, 6);
	CHECK(memcmp(pkt.src.b, SRC6, 16) == 0);
	CHECK_EQ_INT(pkt.hop_limit, 64);
	CHECK_EQ_INT(pkt.ip_len, 40 + 8 + dl);
	CHECK_EQ_INT(st.malformed, 0);

	/* duplicates and in order */
	for (int i = 0; i < 3; i++) {
		enum iotdns_dec_result r = run(f[i], fl[i]);
		CHECK_EQ_INT(r, i == 2 ? IOTDNS_DEC_OK : IOTDNS_DEC_SKIP);
		if (i < 2)
			CHECK_EQ_INT(run(f[i], fl[i]), IOTDNS_DEC_SKIP);
	}
	CHECK(got_udp(udp, ul));

	/* conflicting overlap */
	uint8_t f2[400];
	size_t n2 = v6frag(f2, 60, d, 56, 64, true, 0xdeadbeef);
	f2[56 + 5] ^= 1; /* byte 61 of the datagram */
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f2, n2), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_FRAG_OVERLAP], 1);

	/* a fragment header inside the reassembled datagram */
	uint8_t e[64];
	memset(e, 0, sizeof(e));
	e[0] = 17; /* nested fragment header */
	memcpy(e + 8, udp, 32);
	CHECK_EQ_INT(run(f2, v6frag(f2, 44, e, 0, 24, true, 5)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f2, v6frag(f2, 44, e, 24, 16, false, 5)), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_BAD_IPV6_EXT], 1);
	/* IPv4 and IPv6 with the same identification do not mix */
	uint8_t v4[300];
	CHECK_EQ_INT(run(v4, v4frag(v4, 17, d, 0, 64, true, 0xbeef)), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_OK);
	CHECK(got_udp(udp, ul));
}

/* Every prefix of a fragment: nothing crashes and nothing is held from a
 * broken fragment (a later valid set still reassembles). */
static void test_prefixes(void)
{
	uint8_t d[256], f[3][300];
	size_t dl = mk_udp(d, 124, 1), fl[3];
	int fails = 0;

	fresh(0, 0);
	fl[0] = v4frag(f[0], 17, d, 0, 48, true, 77);
	fl[1] = v4frag(f[1], 17, d, 48, 48, true, 77);
	fl[2] = v4frag(f[2], 17, d, 96, dl - 96, false, 77);
	for (size_t len = 0; len < fl[1]; len++) {
		uint64_t m = st.malformed;
		enum iotdns_dec_result r = run(f[1], len);
		if (r != IOTDNS_DEC_BAD || st.malformed != m + 1)
			fails++;
	}
	CHECK_EQ_INT(fails, 0);
	CHECK_EQ_INT(run(f[0], fl[0]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[2], fl[2]), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(f[1], fl[1]), IOTDNS_DEC_OK);
	CHECK(got_udp(d, dl));
}

static void corpus_file(const char *dir, const char *name, unsigned want_dns, unsigned want_reasm)
{
	char path[1024], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned dns = 0, reasm = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p) {
		printf("ok %d # SKIP corpus absent (%s)\n", ++tap_n, name);
		printf("ok %d # SKIP corpus absent (%s)\n", ++tap_n, name);
		return;
	}
	fresh(0, 0);
	while (pcap_next_ex(p, &h, &data) == 1) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.ts_us = (uint64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		pkt.caplen = h->caplen;
		pkt.wirelen = h->len;
		if (iotdns_decode_frame(dec, pcap_datalink(p), data, &pkt) == IOTDNS_DEC_OK &&
		    pkt.l4 == IOTDNS_L4_UDP && (pkt.sport == 53 || pkt.dport == 53)) {
			dns++;
			reasm += pkt.reassembled;
		}
	}
	pcap_close(p);
	printf("# %s: %u DNS/UDP, %u reassembled, %llu malformed\n", name, dns, reasm,
	       (unsigned long long)st.malformed);
	CHECK_EQ_INT(dns, want_dns);
	CHECK_EQ_INT(reasm, want_reasm);
}

static void test_corpus(void)
{
	const char *root = getenv("IOTDNS_SOURCE_ROOT");
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/../shared/corpus/dns", root ? root : ".");
	/* expected counts: what tshark reassembles (udp.port == 53 / with fragments) */
	corpus_file(dir, "dnscap__frags.pcap", 82, 82);
	corpus_file(dir, "godnscollector__dnsdump_ip4_fragmented+udp.pcap", 2, 1);
	corpus_file(dir, "godnscollector__dnsdump_ip4_fragmented_query.pcap", 2, 2);
	corpus_file(dir, "godnscollector__dnsdump_ip6_fragmented+udp.pcap", 2, 1);
	corpus_file(dir, "godnscollector__dnsdump_ip6_fragmented_query.pcap", 1, 1);
	corpus_file(dir, "ndpi__dns_fragmented.pcap", 39, 7);
	corpus_file(dir, "stopddos__amp.dns.RRSIG.fragmented.pcap", 402, 338);
}

int main(void)
{
	struct iotdns_decoder *x = (struct iotdns_decoder *)1;
	CHECK_EQ_INT(iotdns_decoder_new(&x, NULL, &st), IOTDNS_EINVAL);
	CHECK(x == NULL);
	fresh(0, 0);
	test_v4_orders();
	test_v4_overlaps();
	test_v4_limits();
	test_v4_tcp();
	test_v6();
	test_prefixes();
	test_corpus();
	iotdns_decoder_free(dec);
	return tap_done();
}

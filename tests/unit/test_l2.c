/* Link-layer decoding: every supported link type, VLAN stacks, cooked
 * captures, loopback families, truncation at every length, snaplen cuts,
 * and real captures of each link type when the shared corpus is present. */
#include <pcap/pcap.h>
#include <time.h>

#include "harness.h"
#include "iotdns/common.h"
#include "iotdns/packet.h"

static const uint8_t SRC4[4] = { 192, 168, 1, 23 };
static const uint8_t DST4[4] = { 9, 9, 9, 9 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23 };
static const uint8_t DST6[16] = { 0x26, 0x20, 0x00, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe };
static const uint8_t MAC_D[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t MAC_S[6] = { 0xa4, 0xcf, 0x12, 0x0b, 0x0c, 0xff };
static const uint8_t PAYLOAD[20] = "0123456789abcdefghi";

static void be16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* UDP datagram 5353 -> 53 with PAYLOAD */
static size_t mk_udp(uint8_t *b)
{
	be16(b, 5353);
	be16(b + 2, 53);
	be16(b + 4, 8 + sizeof(PAYLOAD));
	be16(b + 6, 0);
	memcpy(b + 8, PAYLOAD, sizeof(PAYLOAD));
	return 8 + sizeof(PAYLOAD);
}

static size_t mk_ipv4_udp(uint8_t *b)
{
	size_t n = mk_udp(b + 20);
	b[0] = 0x45;
	b[1] = 0;
	be16(b + 2, (unsigned)(20 + n));
	be16(b + 4, 0x1234);
	be16(b + 6, 0x4000); /* DF */
	b[8] = 64;
	b[9] = 17;
	be16(b + 10, 0);
	memcpy(b + 12, SRC4, 4);
	memcpy(b + 16, DST4, 4);
	return 20 + n;
}

static size_t mk_ipv6_udp(uint8_t *b)
{
	size_t n = mk_udp(b + 40);
	b[0] = 0x60;
	b[1] = b[2] = b[3] = 0;
	be16(b + 4, (unsigned)n);
	b[6] = 17;
	b[7] = 255;
	memcpy(b + 8, SRC6, 16);
	memcpy(b + 24, DST6, 16);
	return 40 + n;
}

/* Ethernet header with `tags` VLAN tags of the given TPIDs and ids. */
static size_t mk_eth(uint8_t *b, const unsigned *tpid, const unsigned *vid, int tags, unsigned et)
{
	size_t o = 12;
	memcpy(b, MAC_D, 6);
	memcpy(b + 6, MAC_S, 6);
	for (int i = 0; i < tags; i++) {
		be16(b + o, tpid[i]);
		be16(b + o + 2, vid[i] | 0x2000); /* PCP bits must be masked off */
		o += 4;
	}
	be16(b + o, et);
	return o + 2;
}

static struct iotdns_stats st;
static struct iotdns_decoder *dec;
static struct iotdns_pkt pkt;

static enum iotdns_dec_result run(int dlt, const uint8_t *f, size_t caplen, size_t wirelen)
{
	memset(&pkt, 0xa5, sizeof(pkt)); /* garbage: the decoder must reset what it uses */
	pkt.ts_us = 1000;
	pkt.pktno = 1;
	pkt.input = 0;
	pkt.caplen = (uint32_t)caplen;
	pkt.wirelen = (uint32_t)wirelen;
	return iotdns_decode_frame(dec, dlt, f, &pkt);
}

static bool is_v4_udp(void)
{
	return pkt.src.family == 4 && memcmp(pkt.src.b, SRC4, 4) == 0 && pkt.dst.family == 4 &&
	       memcmp(pkt.dst.b, DST4, 4) == 0 && pkt.l4 == IOTDNS_L4_UDP && pkt.sport == 5353 &&
	       pkt.dport == 53 && pkt.payload_len == sizeof(PAYLOAD) &&
	       memcmp(pkt.payload, PAYLOAD, sizeof(PAYLOAD)) == 0 && pkt.hop_limit == 64 &&
	       pkt.ip_len == 48 && !pkt.reassembled;
}

static bool is_v6_udp(void)
{
	return pkt.src.family == 6 && memcmp(pkt.src.b, SRC6, 16) == 0 && pkt.dst.family == 6 &&
	       memcmp(pkt.dst.b, DST6, 16) == 0 && pkt.l4 == IOTDNS_L4_UDP && pkt.sport == 5353 &&
	       pkt.dport == 53 && pkt.payload_len == sizeof(PAYLOAD) &&
	       memcmp(pkt.payload, PAYLOAD, sizeof(PAYLOAD)) == 0 && pkt.hop_limit == 255 &&
	       pkt.ip_len == 68;
}

static void test_names(void)
{
	char buf[32];
	int ok[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(iotdns_dlt_supported(ok[i]));
	CHECK(!iotdns_dlt_supported(DLT_IEEE802_11_RADIO));
	CHECK(!iotdns_dlt_supported(DLT_PPP));
	CHECK(!iotdns_dlt_supported(-1));
	CHECK_EQ_STR(iotdns_dlt_name(127, buf), "IEEE802_11_RADIO (127)");
	CHECK_EQ_STR(iotdns_dlt_name(DLT_EN10MB, buf), "EN10MB (1)");
	CHECK_EQ_STR(iotdns_dlt_name(101, buf), "RAW (101)");
	CHECK_EQ_STR(iotdns_dlt_name(65000, buf), "linktype 65000");
}

static void test_ethernet(void)
{
	uint8_t f[256];
	size_t h = mk_eth(f, NULL, NULL, 0, 0x0800), n = h + mk_ipv4_udp(f + h);

	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(pkt.has_mac);
	CHECK(memcmp(pkt.src_mac, MAC_S, 6) == 0);
	CHECK(memcmp(pkt.dst_mac, MAC_D, 6) == 0);
	CHECK_EQ_INT(pkt.vlan, 0);
	CHECK_EQ_INT(pkt.vlan_inner, 0);
	CHECK_EQ_INT(pkt.tcp_flags, 0);
	CHECK_EQ_INT(st.malformed, 0);

	/* Ethernet padding to 60 bytes + FCS-like junk: ignored by the IP length */
	memset(f + n, 0xee, 30);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n + 30, n + 30), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());

	h = mk_eth(f, NULL, NULL, 0, 0x86dd);
	n = h + mk_ipv6_udp(f + h);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());

	/* ARP: well-formed, not ours */
	h = mk_eth(f, NULL, NULL, 0, 0x0806);
	memset(f + h, 0, 28);
	CHECK_EQ_INT(run(DLT_EN10MB, f, h + 28, h + 28), IOTDNS_DEC_SKIP);
	CHECK(pkt.has_mac);
	CHECK(memcmp(pkt.src_mac, MAC_S, 6) == 0);
	CHECK_EQ_INT(pkt.l4, IOTDNS_L4_NONE);
	/* 802.3 length field */
	h = mk_eth(f, NULL, NULL, 0, 46);
	CHECK_EQ_INT(run(DLT_EN10MB, f, h + 46, h + 46), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(st.malformed, 0);
}

static void test_vlan(void)
{
	uint8_t f[256];
	unsigned q[] = { 0x8100 }, qv[] = { 11 };
	unsigned ad[] = { 0x88a8, 0x8100 }, adv[] = { 100, 200 };
	unsigned old[] = { 0x9100, 0x8100 }, oldv[] = { 4094, 1 };
	unsigned three[] = { 0x88a8, 0x8100, 0x8100 }, threev[] = { 7, 8, 9 };
	unsigned five[] = { 0x8100, 0x8100, 0x8100, 0x8100, 0x8100 }, fivev[] = { 1, 2, 3, 4, 5 };
	size_t h, n;

	h = mk_eth(f, q, qv, 1, 0x0800);
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK_EQ_INT(pkt.vlan, 11);
	CHECK_EQ_INT(pkt.vlan_inner, 0);

	h = mk_eth(f, ad, adv, 2, 0x86dd);
	n = h + mk_ipv6_udp(f + h);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK_EQ_INT(pkt.vlan, 100);
	CHECK_EQ_INT(pkt.vlan_inner, 200);

	h = mk_eth(f, old, oldv, 2, 0x0800);
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK_EQ_INT(pkt.vlan, 4094);
	CHECK_EQ_INT(pkt.vlan_inner, 1);

	h = mk_eth(f, three, threev, 3, 0x0800);
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK_EQ_INT(pkt.vlan, 7);
	CHECK_EQ_INT(pkt.vlan_inner, 8);

	/* beyond the bound: skipped, not malformed */
	h = mk_eth(f, five, fivev, 5, 0x0800);
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(st.malformed, 0);

	/* VLAN carrying ARP */
	h = mk_eth(f, q, qv, 1, 0x0806);
	CHECK_EQ_INT(run(DLT_EN10MB, f, h + 28, h + 28), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(pkt.vlan, 11);
}

/* Linux cooked v1 header */
static size_t mk_sll(uint8_t *b, unsigned pkttype, unsigned hatype, unsigned halen, unsigned proto)
{
	be16(b, pkttype);
	be16(b + 2, hatype);
	be16(b + 4, halen);
	memset(b + 6, 0, 8);
	memcpy(b + 6, MAC_S, 6);
	be16(b + 14, proto);
	return 16;
}

static size_t mk_sll2(uint8_t *b, unsigned pkttype, unsigned hatype, unsigned halen, unsigned proto)
{
	be16(b, proto);
	be16(b + 2, 0);
	b[4] = 0, b[5] = 0, b[6] = 0, b[7] = 3; /* ifindex */
	be16(b + 8, hatype);
	b[10] = (uint8_t)pkttype;
	b[11] = (uint8_t)halen;
	memset(b + 12, 0, 8);
	memcpy(b + 12, MAC_S, 6);
	return 20;
}

static void test_sll(void)
{
	uint8_t f[256], zero[6] = { 0 };
	size_t h, n;

	h = mk_sll(f, 0, 1, 6, 0x0800);
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_LINUX_SLL, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(pkt.has_mac);
	CHECK(memcmp(pkt.src_mac, MAC_S, 6) == 0);
	CHECK(memcmp(pkt.dst_mac, zero, 6) == 0);

	h = mk_sll(f, 4, 1, 6, 0x86dd); /* outgoing: still the sender's address */
	n = h + mk_ipv6_udp(f + h);
	CHECK_EQ_INT(run(DLT_LINUX_SLL, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK(pkt.has_mac);
	CHECK(memcmp(pkt.src_mac, MAC_S, 6) == 0);

	h = mk_sll(f, 0, 65534, 0, 0x0800); /* tun device: no address */
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_LINUX_SLL, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(!pkt.has_mac);

	h = mk_sll(f, 0, 772, 6, 0x0800); /* loopback device */
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_LINUX_SLL, f, n, n), IOTDNS_DEC_OK);
	CHECK(!pkt.has_mac);

	h = mk_sll(f, 0, 1, 6, 0x0800); /* all-zero address (virtual device) */
	memset(f + 6, 0, 6);
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_LINUX_SLL, f, n, n), IOTDNS_DEC_OK);
	CHECK(!pkt.has_mac);

	h = mk_sll(f, 7, 1, 6, 0x0800); /* unknown packet type */
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_LINUX_SLL, f, n, n), IOTDNS_DEC_OK);
	CHECK(!pkt.has_mac);

	h = mk_sll(f, 0, 1, 6, 0x8100); /* VLAN tag after the cooked header */
	be16(f + h, 42);
	be16(f + h + 2, 0x0800);
	n = h + 4 + mk_ipv4_udp(f + h + 4);
	CHECK_EQ_INT(run(DLT_LINUX_SLL, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK_EQ_INT(pkt.vlan, 42);

	h = mk_sll(f, 0, 1, 6, 0x0806);
	CHECK_EQ_INT(run(DLT_LINUX_SLL, f, h + 28, h + 28), IOTDNS_DEC_SKIP);

	h = mk_sll2(f, 0, 1, 6, 0x0800);
	n = h + mk_ipv4_udp(f + h);
	CHECK_EQ_INT(run(DLT_LINUX_SLL2, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(pkt.has_mac);
	CHECK(memcmp(pkt.src_mac, MAC_S, 6) == 0);
	CHECK(memcmp(pkt.dst_mac, zero, 6) == 0);

	h = mk_sll2(f, 3, 1, 0, 0x86dd);
	n = h + mk_ipv6_udp(f + h);
	CHECK_EQ_INT(run(DLT_LINUX_SLL2, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK(!pkt.has_mac);

	h = mk_sll2(f, 1, 1, 6, 0x8100);
	be16(f + h, 300);
	be16(f + h + 2, 0x86dd);
	n = h + 4 + mk_ipv6_udp(f + h + 4);
	CHECK_EQ_INT(run(DLT_LINUX_SLL2, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK_EQ_INT(pkt.vlan, 300);
	CHECK(pkt.has_mac);
	CHECK_EQ_INT(st.malformed, 0);
}

static void test_raw_and_null(void)
{
	uint8_t f[256];
	size_t n;
	uint64_t bad0;

	n = mk_ipv4_udp(f);
	CHECK_EQ_INT(run(DLT_RAW, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(!pkt.has_mac);
	CHECK_EQ_INT(run(101, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK_EQ_INT(run(DLT_IPV4, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	bad0 = st.problems[IOTDNS_P_BAD_IP_HEADER];
	CHECK_EQ_INT(run(DLT_IPV6, f, n, n), IOTDNS_DEC_BAD); /* IPv4 inside LINKTYPE_IPV6 */
	CHECK_EQ_INT(st.problems[IOTDNS_P_BAD_IP_HEADER], bad0 + 1);

	n = mk_ipv6_udp(f);
	CHECK_EQ_INT(run(DLT_RAW, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK_EQ_INT(run(DLT_IPV6, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK_EQ_INT(run(DLT_IPV4, f, n, n), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_BAD_IP_HEADER], bad0 + 2);

	/* raw with a version that is neither */
	f[0] = 0x55;
	CHECK_EQ_INT(run(DLT_RAW, f, n, n), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_BAD_IP_HEADER], bad0 + 3);

	/* NULL: family 2 in little endian (the usual host order) and big endian */
	uint8_t le2[4] = { 2, 0, 0, 0 }, be2[4] = { 0, 0, 0, 2 };
	memcpy(f, le2, 4);
	n = 4 + mk_ipv4_udp(f + 4);
	CHECK_EQ_INT(run(DLT_NULL, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(!pkt.has_mac);
	memcpy(f, be2, 4);
	CHECK_EQ_INT(run(DLT_NULL, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK_EQ_INT(run(DLT_LOOP, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());

	unsigned fams[] = { 24, 28, 30 };
	for (int i = 0; i < 3; i++) {
		uint8_t le[4] = { (uint8_t)fams[i], 0, 0, 0 }, be[4] = { 0, 0, 0, (uint8_t)fams[i] };
		memcpy(f, le, 4);
		n = 4 + mk_ipv6_udp(f + 4);
		CHECK_EQ_INT(run(DLT_NULL, f, n, n), IOTDNS_DEC_OK);
		CHECK(is_v6_udp());
		memcpy(f, be, 4);
		CHECK_EQ_INT(run(DLT_LOOP, f, n, n), IOTDNS_DEC_OK);
		CHECK(is_v6_udp());
	}
	/* an unknown family (e.g. AF_APPLETALK 16): skipped */
	f[0] = 16, f[1] = f[2] = f[3] = 0;
	CHECK_EQ_INT(run(DLT_NULL, f, n, n), IOTDNS_DEC_SKIP);
	/* IPv4 family in front of an IPv6 packet */
	f[0] = 2;
	CHECK_EQ_INT(run(DLT_NULL, f, n, n), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_BAD_IP_HEADER], bad0 + 4);

	/* a link type we do not decode */
	CHECK_EQ_INT(run(DLT_IEEE802_11_RADIO, f, n, n), IOTDNS_DEC_SKIP);
}

/* Every prefix of a valid frame: never crashes, never OK, and every BAD is
 * counted once; with the wire length intact (a snaplen cut, counted by the
 * engine, not the decoder) frames that keep the UDP header are delivered
 * with what they hold and counted as truncated-udp. */
static void truncation_loop(const char *what, int dlt, const uint8_t *f, size_t n, size_t l4_at,
			    int *fails)
{
	for (size_t len = 0; len < n; len++) {
		struct iotdns_stats before = st;
		enum iotdns_dec_result r = run(dlt, f, len, len);
		if (r == IOTDNS_DEC_OK) {
			printf("# %s: prefix %zu decoded as OK\n", what, len);
			++*fails;
		}
		if (r == IOTDNS_DEC_BAD && st.malformed != before.malformed + 1) {
			printf("# %s: prefix %zu BAD without exactly one count\n", what, len);
			++*fails;
		}
		if (r == IOTDNS_DEC_SKIP && st.malformed != before.malformed) {
			printf("# %s: prefix %zu SKIP but counted\n", what, len);
			++*fails;
		}
		/* the same prefix as a snaplen cut */
		before = st;
		r = run(dlt, f, len, n);
		if (st.problems[IOTDNS_P_SNAPLEN_CUT] != before.problems[IOTDNS_P_SNAPLEN_CUT]) {
			printf("# %s: cut %zu counted as snaplen-cut (the engine does that)\n", what, len);
			++*fails;
		}
		if (len >= l4_at + 8) {
			if (r != IOTDNS_DEC_OK || pkt.payload_len != len - l4_at - 8 ||
			    st.problems[IOTDNS_P_TRUNCATED_UDP] != before.problems[IOTDNS_P_TRUNCATED_UDP] + 1) {
				printf("# %s: cut %zu: r=%d payload_len=%u\n", what, len, r, pkt.payload_len);
				++*fails;
			}
		} else if (r == IOTDNS_DEC_OK) {
			printf("# %s: cut %zu before the UDP header decoded as OK\n", what, len);
			++*fails;
		} else if (r == IOTDNS_DEC_BAD && st.malformed != before.malformed + 1) {
			printf("# %s: cut %zu BAD without exactly one count\n", what, len);
			++*fails;
		}
	}
	/* and the full frame is fine */
	if (run(dlt, f, n, n) != IOTDNS_DEC_OK) {
		printf("# %s: full frame not OK\n", what);
		++*fails;
	}
}

static void test_truncation(void)
{
	uint8_t f[256];
	size_t h, n;
	int fails = 0;
	unsigned ad[] = { 0x88a8, 0x8100 }, adv[] = { 100, 200 };

	h = mk_eth(f, ad, adv, 2, 0x0800);
	n = h + mk_ipv4_udp(f + h);
	truncation_loop("eth+qinq+ipv4", DLT_EN10MB, f, n, h + 20, &fails);
	h = mk_eth(f, NULL, NULL, 0, 0x86dd);
	n = h + mk_ipv6_udp(f + h);
	truncation_loop("eth+ipv6", DLT_EN10MB, f, n, h + 40, &fails);
	h = mk_sll(f, 0, 1, 6, 0x0800);
	n = h + mk_ipv4_udp(f + h);
	truncation_loop("sll", DLT_LINUX_SLL, f, n, h + 20, &fails);
	h = mk_sll2(f, 0, 1, 6, 0x86dd);
	n = h + mk_ipv6_udp(f + h);
	truncation_loop("sll2", DLT_LINUX_SLL2, f, n, h + 40, &fails);
	n = mk_ipv4_udp(f);
	truncation_loop("raw4", DLT_RAW, f, n, 20, &fails);
	n = mk_ipv6_udp(f);
	truncation_loop("ipv6", DLT_IPV6, f, n, 40, &fails);
	f[0] = 30, f[1] = f[2] = f[3] = 0;
	n = 4 + mk_ipv6_udp(f + 4);
	truncation_loop("null6", DLT_NULL, f, n, 44, &fails);
	CHECK_EQ_INT(fails, 0);
	/* the counters moved for the right reasons */
	CHECK(st.problems[IOTDNS_P_TRUNCATED_L2] > 0);
	CHECK(st.problems[IOTDNS_P_TRUNCATED_IP] > 0);
	CHECK(st.problems[IOTDNS_P_TRUNCATED_UDP] > 0);
	CHECK_EQ_INT(st.problems[IOTDNS_P_SNAPLEN_CUT], 0);
}

/* Each link type in real captures: every frame decodes without a problem
 * and the facts the corpus manifest states hold. */
static void corpus_file(const char *dir, const char *name, int want_dlt, unsigned want_ok,
			unsigned want_vlan, bool want_mac)
{
	char path[1024], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned ok = 0, vlan = 0, macs = 0, total = 0;
	uint64_t mal0 = st.malformed;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p) {
		printf("ok %d # SKIP %s absent\n", ++tap_n, name);
		return;
	}
	CHECK_EQ_INT(pcap_datalink(p), want_dlt);
	while (pcap_next_ex(p, &h, &data) == 1) {
		memset(&pkt, 0, sizeof(pkt));
		pkt.caplen = h->caplen;
		pkt.wirelen = h->len;
		total++;
		if (iotdns_decode_frame(dec, pcap_datalink(p), data, &pkt) == IOTDNS_DEC_OK && pkt.l4)
			ok++;
		vlan += pkt.vlan != 0;
		macs += pkt.has_mac;
	}
	pcap_close(p);
	printf("# %s: %u frames, %u decoded, %u tagged\n", name, total, ok, vlan);
	CHECK_EQ_INT(ok, want_ok);
	CHECK_EQ_INT(vlan, want_vlan);
	CHECK(want_mac ? macs == total : macs == 0);
	CHECK_EQ_INT(st.malformed, mal0);
}

static void test_corpus(void)
{
	const char *root = getenv("IOTDNS_SOURCE_ROOT");
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/../shared/corpus/dns", root ? root : ".");
	/* counts from the corpus MANIFEST (frames with a transport header) */
	/* 133 frames: 82 DNS over UDP, 41 ICMP and 10 ARP (both skipped) */
	corpus_file(dir, "dnscap__vlan11.pcap", DLT_EN10MB, 82, 133, true);
	/* sent by us with an all-zero 6-byte address: no MAC */
	corpus_file(dir, "dnscap__sll2.pcap", DLT_LINUX_SLL2, 2, 0, false);
	/* cooked v1, received and sent packets, all with 6-byte addresses */
	corpus_file(dir, "ndpi__dns2tcp_tunnel.pcap", DLT_LINUX_SLL, 50, 0, true);
	corpus_file(dir, "tcpdump__LINKTYPE_IPV4.pcap", DLT_IPV4, 1, 0, false);
	corpus_file(dir, "tcpdump__LINKTYPE_IPV6.pcap", DLT_IPV6, 1, 0, false);
	corpus_file(dir, "tcpdump__LINKTYPE_RAW_ipv4.pcap", DLT_RAW, 1, 0, false);
	corpus_file(dir, "tcpdump__LINKTYPE_RAW_ipv6.pcap", DLT_RAW, 1, 0, false);
	corpus_file(dir, "tcpdump__dns-badcookie.pcap", DLT_NULL, 4, 0, false);
	corpus_file(dir, "suricata__datasets-06-state-long_input.pcap", DLT_EN10MB, 1200, 1200, true);
	/* 4 frames: every one an NFLOG-logged DNS answer received on Ethernet */
	corpus_file(dir, "tcpdump__nflog.pcap", DLT_NFLOG, 4, 0, true);
}

/* PPPoE session stage (RFC 2516) inside Ethernet, with and without VLAN
 * tags: ver/type 0x11, code 0, session id, PPP frame length, protocol. */
static size_t mk_pppoe(uint8_t *b, unsigned code, unsigned ppp_len, unsigned proto)
{
	b[0] = 0x11;
	b[1] = (uint8_t)code;
	be16(b + 2, 0x556a);
	be16(b + 4, ppp_len);
	be16(b + 6, proto);
	return 8;
}

static void test_pppoe(void)
{
	uint8_t f[256];
	unsigned q2[] = { 0x8100, 0x8100 }, q2v[] = { 421, 785 };
	size_t h, n, ip;

	h = mk_eth(f, NULL, NULL, 0, 0x8864);
	ip = mk_ipv4_udp(f + h + 8);
	mk_pppoe(f + h, 0, (unsigned)(ip + 2), 0x0021);
	n = h + 8 + ip;
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(pkt.has_mac && memcmp(pkt.src_mac, MAC_S, 6) == 0);

	/* behind two VLAN tags (ndpi__dns.pcap), IPv6, Ethernet padding after it */
	h = mk_eth(f, q2, q2v, 2, 0x8864);
	ip = mk_ipv6_udp(f + h + 8);
	mk_pppoe(f + h, 0, (unsigned)(ip + 2), 0x0057);
	n = h + 8 + ip;
	memset(f + n, 0, 6);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n + 6, n + 6), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK_EQ_INT(pkt.vlan, 421);
	CHECK_EQ_INT(pkt.vlan_inner, 785);

	/* not ours: discovery stage (code 0x09 PADI), LCP (0xc021) */
	h = mk_eth(f, NULL, NULL, 0, 0x8864);
	ip = mk_ipv4_udp(f + h + 8);
	mk_pppoe(f + h, 0x09, (unsigned)(ip + 2), 0x0021);
	n = h + 8 + ip;
	uint64_t mal0 = st.malformed;
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_SKIP);
	mk_pppoe(f + h, 0, (unsigned)(ip + 2), 0xc021);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(st.malformed, mal0);

	/* a length past the frame: truncated (malformed), unless the snaplen cut it */
	uint64_t l2bad = st.problems[IOTDNS_P_TRUNCATED_L2];
	mk_pppoe(f + h, 0, (unsigned)(ip + 2 + 40), 0x0021);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_TRUNCATED_L2], l2bad + 1);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n + 40), IOTDNS_DEC_OK); /* cut by the snaplen: the IP packet is whole */
	CHECK(is_v4_udp());
	CHECK_EQ_INT(st.problems[IOTDNS_P_TRUNCATED_L2], l2bad + 1);
	/* the PPPoE header itself cut short */
	CHECK_EQ_INT(run(DLT_EN10MB, f, h + 5, h + 5), IOTDNS_DEC_BAD);
}

/* One NFLOG TLV (length and type in host byte order, padded to 4). */
static size_t nflog_tlv(uint8_t *b, uint16_t type, const void *v, uint16_t vlen)
{
	uint16_t len = (uint16_t)(4 + vlen);
	memcpy(b, &len, 2);
	memcpy(b + 2, &type, 2);
	if (vlen)
		memcpy(b + 4, v, vlen);
	size_t padded = ((size_t)len + 3) & ~(size_t)3;
	memset(b + len, 0, padded - len);
	return padded;
}

static void test_nflog(void)
{
	uint8_t f[512], ipb[128], hw[14];
	const uint8_t prefix[5] = "test", hwtype[2] = { 0, 1 };
	size_t n, ip;

	memcpy(hw, MAC_D, 6);
	memcpy(hw + 6, MAC_S, 6);
	hw[12] = 0x08, hw[13] = 0x00;
	/* IPv4 with the Ethernet header the kernel saw */
	ip = mk_ipv4_udp(ipb);
	f[0] = 2, f[1] = 0, be16(f + 2, 20);
	n = 4;
	n += nflog_tlv(f + n, 10, prefix, 5); /* NFULA_PREFIX: odd length, padded */
	n += nflog_tlv(f + n, 15, hwtype, 2);  /* NFULA_HWTYPE: Ethernet */
	n += nflog_tlv(f + n, 16, hw, 14);     /* NFULA_HWHEADER */
	n += nflog_tlv(f + n, 9, ipb, (uint16_t)ip);
	CHECK_EQ_INT(run(DLT_NFLOG, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(pkt.has_mac && memcmp(pkt.src_mac, MAC_S, 6) == 0 && memcmp(pkt.dst_mac, MAC_D, 6) == 0);

	/* IPv6, no link header (a packet the host sent): no MAC */
	ip = mk_ipv6_udp(ipb);
	f[0] = 10;
	n = 4 + nflog_tlv(f + 4, 9, ipb, (uint16_t)ip);
	CHECK_EQ_INT(run(DLT_NFLOG, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK(!pkt.has_mac);

	/* hostile TLV lengths: 0 (would loop), past the frame: never read beyond
	 * it, and counted as a broken link header */
	uint16_t zero = 0, nine = 9, big = 400;
	uint64_t l2bad = st.problems[IOTDNS_P_TRUNCATED_L2];
	memcpy(f + 4, &zero, 2);
	memcpy(f + 6, &nine, 2);
	CHECK_EQ_INT(run(DLT_NFLOG, f, n, n), IOTDNS_DEC_BAD);
	memcpy(f + 4, &big, 2);
	CHECK_EQ_INT(run(DLT_NFLOG, f, n, n), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(st.problems[IOTDNS_P_TRUNCATED_L2], l2bad + 2);
	CHECK_EQ_INT(run(DLT_NFLOG, f, n, n + 400), IOTDNS_DEC_SKIP); /* the snap length cut it */
	/* no payload TLV at all: nothing to decode; ending inside a TLV header
	 * or inside the NFLOG header: truncated */
	n = 4 + nflog_tlv(f + 4, 10, prefix, 5);
	CHECK_EQ_INT(run(DLT_NFLOG, f, n, n), IOTDNS_DEC_SKIP);
	CHECK_EQ_INT(run(DLT_NFLOG, f, n + 2, n + 2), IOTDNS_DEC_BAD);
	CHECK_EQ_INT(run(DLT_NFLOG, f, 3, 3), IOTDNS_DEC_BAD);
	CHECK(iotdns_dlt_supported(DLT_NFLOG));
}

/* Outer IPv4/UDP (10.0.0.1 -> 10.0.0.2, sport -> dport) around `inner`. */
static size_t mk_outer(uint8_t *b, unsigned sport, unsigned dport, const uint8_t *inner, size_t len)
{
	static const uint8_t o_src[4] = { 10, 0, 0, 1 }, o_dst[4] = { 10, 0, 0, 2 };
	b[0] = 0x45;
	b[1] = 0;
	be16(b + 2, (unsigned)(28 + len));
	be16(b + 4, 0x4321);
	be16(b + 6, 0);
	b[8] = 63;
	b[9] = 17;
	be16(b + 10, 0);
	memcpy(b + 12, o_src, 4);
	memcpy(b + 16, o_dst, 4);
	be16(b + 20, sport);
	be16(b + 22, dport);
	be16(b + 24, (unsigned)(8 + len));
	be16(b + 26, 0);
	memcpy(b + 28, inner, len);
	return 28 + len;
}

static void test_tunnels(void)
{
	uint8_t f[512], in[256], t[300];
	size_t h, n, k, ie;
	static const uint8_t outer_mac[6] = { 0x02, 0xee, 0, 0, 0, 1 };

	/* the inner Ethernet frame: MAC_S -> MAC_D, IPv4 UDP 5353 -> 53 */
	ie = mk_eth(in, NULL, NULL, 0, 0x0800);
	ie += mk_ipv4_udp(in + ie);

	/* VXLAN: I flag, VNI, Ethernet inside; the outer frame from another MAC */
	memset(t, 0, 8);
	t[0] = 0x08;
	t[6] = 0x2a;
	memcpy(t + 8, in, ie);
	h = mk_eth(f, NULL, NULL, 0, 0x0800);
	memcpy(f + 6, outer_mac, 6);
	n = h + mk_outer(f + h, 51000, 4789, t, 8 + ie);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(pkt.has_mac && memcmp(pkt.src_mac, MAC_S, 6) == 0);

	/* without the I flag: left as the UDP datagram it is */
	t[0] = 0;
	n = h + mk_outer(f + h, 51000, 4789, t, 8 + ie);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(pkt.l4 == IOTDNS_L4_UDP && pkt.dport == 4789 && pkt.payload_len == 8 + ie);

	/* VXLAN-GPE carrying IPv6, in a reply (the tunnel port is the source) */
	memset(t, 0, 8);
	t[0] = 0x0c;
	t[3] = 2;
	k = mk_ipv6_udp(t + 8);
	n = h + mk_outer(f + h, 4790, 51000, t, 8 + k);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v6_udp());
	CHECK(!pkt.has_mac); /* no inner link layer: the outer MAC is the tunnel's, not the device's */

	/* Geneve with 8 bytes of options, Ethernet inside */
	memset(t, 0, 16);
	t[0] = 2; /* option length in 4-byte words */
	be16(t + 2, 0x6558);
	memcpy(t + 16, in, ie);
	n = h + mk_outer(f + h, 51000, 6081, t, 16 + ie);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(is_v4_udp());
	CHECK(memcmp(pkt.src_mac, MAC_S, 6) == 0);
	/* options longer than the datagram: not decapsulated, nothing read past it */
	t[0] = 0x3f;
	n = h + mk_outer(f + h, 51000, 6081, t, 16);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(pkt.dport == 6081);

	/* a tunnel inside a tunnel: one level only */
	uint8_t t2[400];
	memset(t2, 0, 8);
	t2[0] = 0x08;                       /* inner VXLAN header */
	memcpy(t2 + 8, in, ie);             /* ...around the Ethernet frame */
	uint8_t mid[400];
	k = mk_eth(mid, NULL, NULL, 0, 0x0800);
	k += mk_outer(mid + k, 51001, 4789, t2, 8 + ie); /* Ethernet/IPv4/UDP 4789/VXLAN/frame */
	memset(t, 0, 8);
	t[0] = 0x08;
	memcpy(t + 8, mid, k);
	n = h + mk_outer(f + h, 51000, 4789, t, 8 + k);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(pkt.l4 == IOTDNS_L4_UDP && pkt.dport == 4789 && pkt.sport == 51001);

	/* a DNS client whose source port happens to be 4789: DNS, not a tunnel */
	uint8_t dns[12] = { 0x12, 0x34, 0x01, 0 };
	n = h + mk_outer(f + h, 4789, 53, dns, sizeof(dns));
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(pkt.sport == 4789 && pkt.dport == 53 && pkt.payload_len == sizeof(dns));
	/* a short tunnel header */
	n = h + mk_outer(f + h, 51000, 4789, t, 5);
	CHECK_EQ_INT(run(DLT_EN10MB, f, n, n), IOTDNS_DEC_OK);
	CHECK(pkt.dport == 4789 && pkt.payload_len == 5);
}

/* Not an assertion (sanitizer builds are slow): how long one plain
 * Ethernet/IPv4/UDP frame takes. */
static void bench(void)
{
	uint8_t f[128];
	size_t h = mk_eth(f, NULL, NULL, 0, 0x0800), n = h + mk_ipv4_udp(f + h);
	struct timespec a, b;
	unsigned okc = 0;
	const unsigned rounds = 2000000;

	pkt.caplen = pkt.wirelen = (uint32_t)n;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned i = 0; i < rounds; i++)
		okc += iotdns_decode_frame(dec, DLT_EN10MB, f, &pkt) == IOTDNS_DEC_OK;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("# decode_frame eth/ipv4/udp: %.1f ns/frame\n",
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds);
	CHECK_EQ_INT(okc, rounds);
}

int main(void)
{
	struct iotdns_limits lim;

	iotdns_limits_default(&lim);
	CHECK_EQ_INT(iotdns_decoder_new(&dec, &lim, &st), IOTDNS_OK);
	test_names();
	test_ethernet();
	test_vlan();
	test_sll();
	test_raw_and_null();
	test_pppoe();
	test_nflog();
	test_tunnels();
	test_truncation();
	test_corpus();
	bench();
	iotdns_decoder_free(dec);
	return tap_done();
}

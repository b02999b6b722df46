/* iotdns - network and transport layer decoding: IPv4, IPv6 (extension
 * header chain), UDP, TCP, ICMPv6. Fragments go to frag.c.
 * See docs/internals/decoding.md.
 *
 * All lengths come from the wire and are checked against the bytes we hold
 * before use; nothing here allocates.
 */
#include "decode_internal.h"
#include "iotdns/common.h"

#define IPPROTO_HOPOPTS_V 0
#define IPPROTO_TCP_V 6
#define IPPROTO_UDP_V 17
#define IPPROTO_ROUTING_V 43
#define IPPROTO_FRAGMENT_V 44
#define IPPROTO_AH_V 51
#define IPPROTO_ICMPV6_V 58
#define IPPROTO_NONE_V 59
#define IPPROTO_DSTOPTS_V 60

static inline enum iotdns_dec_result bad(struct iotdns_decoder *d, enum iotdns_problem p)
{
	iotdns_stats_problem(d->st, p);
	return IOTDNS_DEC_BAD;
}

static inline bool tunnel_port(uint16_t port)
{
	return port == IOTDNS_PORT_VXLAN || port == IOTDNS_PORT_VXLAN_GPE || port == IOTDNS_PORT_GENEVE;
}

/* A DNS client may use any source port, a tunnel's among them: a datagram
 * to or from a DNS port is DNS, whatever the other port. */
static inline bool dns_port(uint16_t port)
{
	return port == 53 || port == 5353 || port == 5355;
}

enum iotdns_dec_result iotdns_decode_l4(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					uint8_t proto, const uint8_t *p, uint32_t n,
					bool short_by_cut)
{
	switch (proto) {
	case IPPROTO_UDP_V: {
		uint32_t ulen;
		if (n < 8)
			return bad(d, IOTDNS_P_TRUNCATED_UDP);
		ulen = iotdns_be16(p + 4);
		if (ulen < 8)
			return bad(d, IOTDNS_P_BAD_UDP_LENGTH);
		if (ulen > n) {
			if (!short_by_cut)
				return bad(d, IOTDNS_P_BAD_UDP_LENGTH);
			/* cut by the snap length: deliver what we have */
			iotdns_stats_problem(d->st, IOTDNS_P_TRUNCATED_UDP);
			ulen = n;
		}
		pkt->l4 = IOTDNS_L4_UDP;
		pkt->sport = iotdns_be16(p);
		pkt->dport = iotdns_be16(p + 2);
		pkt->payload = p + 8;
		pkt->payload_len = ulen - 8;
		/* a tunnel: the packet inside is the one to analyze (one level;
		 * not when this datagram sits in the reassembly buffer, which the
		 * inner packet's own fragments could reuse) */
		if (IOTDNS_UNLIKELY(tunnel_port(pkt->sport) || tunnel_port(pkt->dport)) && !d->in_tunnel &&
		    !pkt->reassembled && !dns_port(pkt->sport) && !dns_port(pkt->dport))
			return iotdns_decode_tunnel(d, pkt, short_by_cut);
		return IOTDNS_DEC_OK;
	}
	case IPPROTO_TCP_V: {
		uint32_t doff;
		if (n < 20)
			return bad(d, IOTDNS_P_TRUNCATED_TCP);
		doff = (uint32_t)(p[12] >> 4) * 4;
		/* a data offset below 5 words or past our bytes: header unusable */
		if (doff < 20 || doff > n)
			return bad(d, IOTDNS_P_TRUNCATED_TCP);
		if (short_by_cut)
			iotdns_stats_problem(d->st, IOTDNS_P_TRUNCATED_TCP);
		pkt->l4 = IOTDNS_L4_TCP;
		pkt->sport = iotdns_be16(p);
		pkt->dport = iotdns_be16(p + 2);
		pkt->tcp_seq = iotdns_be32(p + 4);
		pkt->tcp_ack = iotdns_be32(p + 8);
		pkt->tcp_flags = p[13];
		pkt->payload = p + doff;
		pkt->payload_len = n - doff;
		return IOTDNS_DEC_OK;
	}
	case IPPROTO_ICMPV6_V:
		if (pkt->src.family != 6)
			return IOTDNS_DEC_SKIP;
		if (n < 4)
			return bad(d, IOTDNS_P_TRUNCATED_IP);
		pkt->l4 = IOTDNS_L4_ICMPV6;
		pkt->icmp_type = p[0];
		pkt->icmp_code = p[1];
		pkt->payload = p + 4;
		pkt->payload_len = n - 4;
		return IOTDNS_DEC_OK;
	default:
		return IOTDNS_DEC_SKIP;
	}
}

static enum iotdns_dec_result decode_ipv4(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					  const uint8_t *p, uint32_t n, bool cut)
{
	uint32_t ihl, tot, avail, off;
	uint16_t fo;
	bool short_by_cut = false;

	if (n < 20)
		return bad(d, IOTDNS_P_TRUNCATED_IP);
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	tot = iotdns_be16(p + 2);
	if (tot == 0)
		tot = n; /* TSO/GSO capture on the sending host: length left blank */
	if (ihl < 20 || tot < ihl)
		return bad(d, IOTDNS_P_BAD_IP_HEADER);
	if (ihl > n)
		return bad(d, IOTDNS_P_TRUNCATED_IP);
	if (tot > n) {
		if (!cut)
			return bad(d, IOTDNS_P_TRUNCATED_IP);
		short_by_cut = true;
		avail = n;
	} else {
		avail = tot; /* drop link-layer padding */
	}
	iotdns_addr_set4(&pkt->src, p + 12);
	iotdns_addr_set4(&pkt->dst, p + 16);
	pkt->hop_limit = p[8];
	pkt->ip_len = tot;

	fo = iotdns_be16(p + 6);
	off = (uint32_t)(fo & 0x1fff) * 8;
	if (IOTDNS_UNLIKELY(off != 0 || (fo & 0x2000))) {
		struct iotdns_frag_in f;
		if (short_by_cut)
			return bad(d, IOTDNS_P_TRUNCATED_IP); /* cannot reassemble a cut fragment */
		f.ipver = 4;
		f.proto = p[9];
		f.hop_limit = p[8];
		f.more = (fo & 0x2000) != 0;
		f.id = iotdns_be16(p + 4);
		f.offset = off;
		f.hdr_len = ihl;
		f.data = p + ihl;
		f.len = tot - ihl;
		return iotdns_frag_add(d, pkt, &f);
	}
	return iotdns_decode_l4(d, pkt, p[9], p + ihl, avail - ihl, short_by_cut);
}

/* Walks IPv6 extension headers from next header nh at p[off], avail bytes
 * held. first: nh is the IPv6 header's own next header (hop-by-hop allowed
 * only there, fragments allowed). */
static enum iotdns_dec_result ipv6_walk(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					uint8_t nh, const uint8_t *p, uint32_t off,
					uint32_t avail, bool short_by_cut, bool first)
{
	/* a header running past our bytes: the snap length, or a broken chain */
	const enum iotdns_problem cutp = short_by_cut ? IOTDNS_P_TRUNCATED_IP : IOTDNS_P_BAD_IPV6_EXT;

	for (unsigned i = 0; i <= IOTDNS_MAX_IPV6_EXT; i++) {
		uint32_t hl;
		switch (nh) {
		case IPPROTO_HOPOPTS_V:
			if (!first || i != 0)
				return bad(d, IOTDNS_P_BAD_IPV6_EXT); /* only right after the IPv6 header */
			/* fall through */
		case IPPROTO_ROUTING_V:
		case IPPROTO_DSTOPTS_V:
			if (avail - off < 2)
				return bad(d, cutp);
			hl = ((uint32_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH_V:
			if (avail - off < 2)
				return bad(d, cutp);
			hl = ((uint32_t)p[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT_V: {
			struct iotdns_frag_in f;
			uint16_t fo;
			if (!first)
				return bad(d, IOTDNS_P_BAD_IPV6_EXT); /* fragment inside a fragment */
			if (avail - off < 8)
				return bad(d, cutp);
			fo = iotdns_be16(p + off + 2);
			if ((fo & 0xfff8) == 0 && !(fo & 1)) {
				hl = 8; /* atomic fragment (RFC 6946): an ordinary packet */
				break;
			}
			if (short_by_cut)
				return bad(d, IOTDNS_P_TRUNCATED_IP);
			f.ipver = 6;
			f.proto = p[off];
			f.hop_limit = pkt->hop_limit;
			f.more = (fo & 1) != 0;
			f.id = iotdns_be32(p + off + 4);
			f.offset = fo & 0xfff8;
			f.hdr_len = off;
			f.data = p + off + 8;
			f.len = avail - off - 8;
			return iotdns_frag_add(d, pkt, &f);
		}
		case IPPROTO_NONE_V:
			return IOTDNS_DEC_SKIP;
		default:
			return iotdns_decode_l4(d, pkt, nh, p + off, avail - off, short_by_cut);
		}
		if (hl > avail - off)
			return bad(d, cutp);
		nh = p[off];
		off += hl;
	}
	return bad(d, IOTDNS_P_BAD_IPV6_EXT);
}

static enum iotdns_dec_result decode_ipv6(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					  const uint8_t *p, uint32_t n, bool cut)
{
	uint32_t tot, avail;
	bool short_by_cut = false;

	if (n < 40)
		return bad(d, IOTDNS_P_TRUNCATED_IP);
	tot = 40 + (uint32_t)iotdns_be16(p + 4);
	if (tot == 40 && p[6] != IPPROTO_NONE_V)
		tot = n; /* jumbogram or TSO capture: payload length left blank */
	if (tot > n) {
		if (!cut)
			return bad(d, IOTDNS_P_TRUNCATED_IP);
		short_by_cut = true;
		avail = n;
	} else {
		avail = tot;
	}
	iotdns_addr_set6(&pkt->src, p + 8);
	iotdns_addr_set6(&pkt->dst, p + 24);
	pkt->hop_limit = p[7];
	pkt->ip_len = tot;
	return ipv6_walk(d, pkt, p[6], p, 40, avail, short_by_cut, true);
}

enum iotdns_dec_result iotdns_decode_ipv6_upper(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
						uint8_t nh, const uint8_t *p, uint32_t n)
{
	return ipv6_walk(d, pkt, nh, p, 0, n, false, false);
}

enum iotdns_dec_result iotdns_decode_ip(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					const uint8_t *p, uint32_t n, int want_ver, bool cut)
{
	unsigned ver;

	if (n < 1)
		return bad(d, IOTDNS_P_TRUNCATED_IP);
	ver = p[0] >> 4;
	if (want_ver && ver != (unsigned)want_ver)
		return bad(d, IOTDNS_P_BAD_IP_HEADER);
	if (ver == 4)
		return decode_ipv4(d, pkt, p, n, cut);
	if (ver == 6)
		return decode_ipv6(d, pkt, p, n, cut);
	return bad(d, IOTDNS_P_BAD_IP_HEADER);
}

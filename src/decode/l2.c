/* iotdns - link-layer decoding: Ethernet II (+ 802.1Q/802.1ad tags, PPPoE
 * sessions), Linux cooked captures v1/v2, Linux NFLOG, raw IP, BSD loopback,
 * and the packets inside VXLAN, VXLAN-GPE and Geneve tunnels. Hands the
 * network layer to ip.c. See docs/internals/decoding.md.
 *
 * Everything read here is bounded by pkt->caplen; the frame is borrowed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <pcap/dlt.h>

#include "decode_internal.h"
#include "iotdns/common.h"

#define LINKTYPE_RAW_VALUE 101 /* LINKTYPE_RAW as stored in files (libpcap maps it to DLT_RAW) */

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1 0x9100 /* pre-standard stacked VLAN */
#define ETH_P_PPPOE_SESS 0x8864

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#ifndef DLT_NFLOG
#define DLT_NFLOG 239
#endif
#define NFLOG_HDR_LEN 4
#define NFULA_PAYLOAD 9
#define NFULA_HWTYPE 15
#define NFULA_HWHEADER 16
#define NFLOG_AF_INET 2
#define NFLOG_AF_INET6 10

#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define SLL_PKT_OUTGOING 4  /* packet types 0..4: host, broadcast, multicast, otherhost, outgoing */
#define ARPHRD_LOOPBACK_VAL 772

bool iotdns_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case LINKTYPE_RAW_VALUE:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_NFLOG:
		return true;
	default:
		return false;
	}
}

const char *iotdns_dlt_name(int dlt, char buf[32])
{
	const char *name = pcap_datalink_val_to_name(dlt);
	if (!name && dlt == LINKTYPE_RAW_VALUE)
		name = "RAW";
	if (name)
		snprintf(buf, 32, "%s (%d)", name, dlt); /* long names are cut at 31 bytes */
	else
		snprintf(buf, 32, "linktype %d", dlt);
	return buf;
}

int iotdns_decoder_new(struct iotdns_decoder **out, const struct iotdns_limits *lim,
		       struct iotdns_stats *stats)
{
	struct iotdns_decoder *d;
	int rc;

	*out = NULL;
	if (!lim || !stats)
		return IOTDNS_EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return IOTDNS_ENOMEM;
	d->st = stats;
	d->lim = *lim;
	rc = iotdns_frag_init(&d->frag, &d->lim);
	if (rc != IOTDNS_OK) {
		free(d);
		return rc;
	}
	*out = d;
	return IOTDNS_OK;
}

void iotdns_decoder_free(struct iotdns_decoder *d)
{
	if (!d)
		return;
	iotdns_frag_fini(&d->frag);
	free(d);
}

void iotdns_decoder_expire(struct iotdns_decoder *d, uint64_t now_us)
{
	if (d)
		iotdns_frag_expire(d, now_us);
}

/* Resets the fields a decode may leave unset (cheaper than a memset of the
 * whole struct; the caller's fields ts_us..wirelen are kept). */
static inline void pkt_reset(struct iotdns_pkt *pkt)
{
	pkt->has_mac = false;
	pkt->vlan = 0;
	pkt->vlan_inner = 0;
	pkt->src.family = 0;
	pkt->dst.family = 0;
	pkt->hop_limit = 0;
	pkt->reassembled = false;
	pkt->ip_len = 0;
	pkt->l4 = IOTDNS_L4_NONE;
	pkt->sport = 0;
	pkt->dport = 0;
	pkt->tcp_flags = 0;
	pkt->tcp_seq = 0;
	pkt->tcp_ack = 0;
	pkt->icmp_type = 0;
	pkt->icmp_code = 0;
	pkt->payload = NULL;
	pkt->payload_len = 0;
}

static inline enum iotdns_dec_result truncated_l2(struct iotdns_decoder *d)
{
	iotdns_stats_problem(d->st, IOTDNS_P_TRUNCATED_L2);
	return IOTDNS_DEC_BAD;
}

/* Walks VLAN tags starting with ethertype et (read already; off is the
 * offset just after it), then dispatches on the final ethertype. The first
 * two tag ids go to pkt->vlan / pkt->vlan_inner. */
static enum iotdns_dec_result decode_ethertype(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					       const uint8_t *p, uint32_t n, uint16_t et,
					       uint32_t off, bool cut)
{
	unsigned tags = 0;

	while (et == ETH_P_8021Q || et == ETH_P_8021AD || et == ETH_P_QINQ1) {
		if (tags == IOTDNS_MAX_VLAN_TAGS)
			return IOTDNS_DEC_SKIP; /* absurd tag stack: not ours to analyze */
		if (n < 4 || off > n - 4)
			return truncated_l2(d);
		uint16_t vid = iotdns_be16(p + off) & 0x0fff;
		if (tags == 0)
			pkt->vlan = vid;
		else if (tags == 1)
			pkt->vlan_inner = vid;
		tags++;
		et = iotdns_be16(p + off + 2);
		off += 4;
	}
	if (et == ETH_P_PPPOE_SESS) {
		/* RFC 2516 session stage: ver/type 0x11, code 0, session id,
		 * length (of the PPP frame), then the PPP protocol */
		if (n < 8 || off > n - 8)
			return truncated_l2(d);
		if (p[off] != 0x11 || p[off + 1] != 0)
			return IOTDNS_DEC_SKIP;
		uint32_t len = iotdns_be16(p + off + 4);
		uint16_t proto = iotdns_be16(p + off + 6);
		off += 8;
		if (len < 2)
			return IOTDNS_DEC_SKIP;
		if (len - 2 < n - off)
			n = off + len - 2; /* Ethernet padding after the PPP frame */
		else if (len - 2 > n - off && !cut)
			return truncated_l2(d);
		if (proto == PPP_IPV4)
			return iotdns_decode_ip(d, pkt, p + off, n - off, 4, cut);
		if (proto == PPP_IPV6)
			return iotdns_decode_ip(d, pkt, p + off, n - off, 6, cut);
		return IOTDNS_DEC_SKIP;
	}
	if (et == ETH_P_IPV4)
		return iotdns_decode_ip(d, pkt, p + off, n - off, 4, cut);
	if (et == ETH_P_IPV6)
		return iotdns_decode_ip(d, pkt, p + off, n - off, 6, cut);
	return IOTDNS_DEC_SKIP;
}

static enum iotdns_dec_result decode_ether(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					   const uint8_t *p, uint32_t n, bool cut)
{
	if (n < 14)
		return truncated_l2(d);
	memcpy(pkt->dst_mac, p, 6);
	memcpy(pkt->src_mac, p + 6, 6);
	pkt->has_mac = true;
	/* 802.3 length field (<= 1500, LLC/SNAP follows): not IP for us */
	if (iotdns_be16(p + 12) <= 1500)
		return IOTDNS_DEC_SKIP;
	return decode_ethertype(d, pkt, p, n, iotdns_be16(p + 12), 14, cut);
}

/* Tunnels (UDP to or from the tunnel's port). VXLAN (RFC 7348): 8 bytes,
 * flag I (0x08) set, then an Ethernet frame. VXLAN-GPE
 * (draft-ietf-nvo3-vxlan-gpe): 8 bytes, next protocol in byte 3: 1 IPv4,
 * 2 IPv6, 3 Ethernet. Geneve (RFC 8926): 8 bytes + options (length in byte
 * 0, in 4-byte words), version 0, protocol type 0x6558 (Ethernet), 0x0800
 * or 0x86dd. The inner packet replaces the outer one: its addresses and MACs
 * are the ones that say which device sent it. */
enum iotdns_dec_result iotdns_decode_tunnel(struct iotdns_decoder *d, struct iotdns_pkt *pkt, bool cut)
{
	const uint8_t *p = pkt->payload;
	uint32_t n = pkt->payload_len, hdr = 8;
	unsigned inner; /* 4, 6, or 1 for Ethernet */

	/* the tunnel's port is the destination, or for a reply the source */
	uint16_t port = pkt->dport == IOTDNS_PORT_VXLAN || pkt->dport == IOTDNS_PORT_VXLAN_GPE ||
				pkt->dport == IOTDNS_PORT_GENEVE
			? pkt->dport
			: pkt->sport;

	if (n < 8)
		return IOTDNS_DEC_OK;
	switch (port) {
	case IOTDNS_PORT_VXLAN:
		if (!(p[0] & 0x08))
			return IOTDNS_DEC_OK;
		inner = 1;
		break;
	case IOTDNS_PORT_VXLAN_GPE:
		/* the next protocol as Wireshark reads it, P flag or not; without
		 * one, the VXLAN layout (Ethernet) */
		if (p[3] == 1 || p[3] == 2)
			inner = p[3] == 1 ? 4 : 6;
		else if (p[3] == 3 || (p[3] == 0 && !(p[0] & 0x04)))
			inner = 1;
		else
			return IOTDNS_DEC_OK;
		break;
	default: { /* Geneve */
		uint16_t proto = iotdns_be16(p + 2);
		if (p[0] >> 6)
			return IOTDNS_DEC_OK; /* an unknown version */
		hdr += (uint32_t)(p[0] & 0x3f) * 4;
		if (proto == 0x6558)
			inner = 1;
		else if (proto == ETH_P_IPV4 || proto == ETH_P_IPV6)
			inner = proto == ETH_P_IPV4 ? 4 : 6;
		else
			return IOTDNS_DEC_OK;
		if (hdr > n)
			return IOTDNS_DEC_OK;
		break;
	}
	}
	p += hdr;
	n -= hdr;
	pkt_reset(pkt);
	d->in_tunnel = true;
	enum iotdns_dec_result r = inner == 1 ? decode_ether(d, pkt, p, n, cut)
					      : iotdns_decode_ip(d, pkt, p, n, inner, cut);
	d->in_tunnel = false;
	return r;
}

/* Linux NFLOG (what iptables/nftables "log group" rules pass to a
 * capture): a 4-byte header (address family, version, resource id), then
 * TLVs whose length and type are in host byte order (libpcap swaps them
 * when it reads a file written on the other byte order). The length counts
 * the 4-byte TLV header, not the padding to a multiple of 4. The packet is
 * the NFULA_PAYLOAD TLV; the link header, when the kernel had one (packets
 * received from an Ethernet interface), is NFULA_HWHEADER: destination MAC,
 * source MAC, ethertype. */
static enum iotdns_dec_result decode_nflog(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					   const uint8_t *p, uint32_t n, bool cut)
{
	const uint8_t *payload = NULL, *hwhdr = NULL;
	uint32_t plen = 0, hwlen = 0, off = NFLOG_HDR_LEN;
	uint16_t hwtype = 0;
	bool bad_tlv = false;

	if (n < NFLOG_HDR_LEN)
		return truncated_l2(d);
	while (n - off >= 4) {
		uint16_t tlen, ttype;
		memcpy(&tlen, p + off, 2);
		memcpy(&ttype, p + off + 2, 2);
		if (tlen < 4 || tlen > n - off) {
			bad_tlv = true; /* malformed or cut: keep what was found */
			break;
		}
		const uint8_t *v = p + off + 4;
		uint32_t vlen = tlen - 4u;
		switch (ttype & 0x7fff) {
		case NFULA_PAYLOAD: payload = v; plen = vlen; break;
		case NFULA_HWHEADER: hwhdr = v; hwlen = vlen; break;
		case NFULA_HWTYPE: if (vlen >= 2) hwtype = iotdns_be16(v); break;
		default: break;
		}
		uint32_t step = ((uint32_t)tlen + 3u) & ~3u;
		if (step > n - off)
			break;
		off += step;
	}
	/* no packet: counted when the TLVs themselves are broken (a length
	 * under 4 or past the frame, or the frame ending inside a TLV header),
	 * unless the snap length explains it */
	if (!payload)
		return !cut && (bad_tlv || n - off > 0) ? truncated_l2(d) : IOTDNS_DEC_SKIP;
	if (hwhdr && hwlen >= 14 && hwtype == 1 /* ARPHRD_ETHER */) {
		memcpy(pkt->dst_mac, hwhdr, 6);
		memcpy(pkt->src_mac, hwhdr + 6, 6);
		pkt->has_mac = true;
	}
	switch (p[0]) {
	case NFLOG_AF_INET: return iotdns_decode_ip(d, pkt, payload, plen, 4, cut);
	case NFLOG_AF_INET6: return iotdns_decode_ip(d, pkt, payload, plen, 6, cut);
	default: return iotdns_decode_ip(d, pkt, payload, plen, 0, cut);
	}
}

/* DLT_NULL / DLT_LOOP: a 4-byte address family, in the capturing host's
 * byte order (NULL) or network order (LOOP); both orders are accepted since
 * the values are small. */
static enum iotdns_dec_result decode_null(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					  const uint8_t *p, uint32_t n, bool cut)
{
	uint32_t fam;

	if (n < 4)
		return truncated_l2(d);
	fam = iotdns_be32(p);
	if (fam > 0xffff)
		fam = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	switch (fam) {
	case 2: /* AF_INET everywhere */
		return iotdns_decode_ip(d, pkt, p + 4, n - 4, 4, cut);
	case 24: /* AF_INET6: NetBSD, OpenBSD, BSD/OS */
	case 28: /* FreeBSD, DragonFly */
	case 30: /* Darwin */
		return iotdns_decode_ip(d, pkt, p + 4, n - 4, 6, cut);
	default:
		return IOTDNS_DEC_SKIP;
	}
}

/* Linux cooked capture: one link address, the sender's. It is a MAC when it
 * is 6 bytes long, the packet type is one of host/broadcast/multicast/
 * otherhost/outgoing (0..4), the device is not the loopback and the address
 * is not all zero (virtual devices). */
static inline void sll_mac(struct iotdns_pkt *pkt, uint16_t pkttype, uint16_t hatype,
			   uint16_t halen, const uint8_t *addr)
{
	static const uint8_t zero[6];
	if (halen == 6 && pkttype <= SLL_PKT_OUTGOING && hatype != ARPHRD_LOOPBACK_VAL &&
	    memcmp(addr, zero, 6) != 0) {
		memcpy(pkt->src_mac, addr, 6);
		memset(pkt->dst_mac, 0, 6);
		pkt->has_mac = true;
	}
}

enum iotdns_dec_result iotdns_decode_frame(struct iotdns_decoder *d, int dlt, const uint8_t *data,
					   struct iotdns_pkt *pkt)
{
	uint32_t n = pkt->caplen;
	bool cut = pkt->wirelen > pkt->caplen;

	/* a snaplen cut is counted once per record by the caller (the engine),
	 * not here; it only makes missing bytes at the end not malformation */
	pkt_reset(pkt);
	if (IOTDNS_UNLIKELY(!data && n))
		return truncated_l2(d);

	switch (dlt) {
	case DLT_EN10MB:
		return decode_ether(d, pkt, data, n, cut);
	case DLT_LINUX_SLL:
		if (n < SLL_HDR_LEN)
			return truncated_l2(d);
		sll_mac(pkt, iotdns_be16(data), iotdns_be16(data + 2), iotdns_be16(data + 4), data + 6);
		return decode_ethertype(d, pkt, data, n, iotdns_be16(data + 14), SLL_HDR_LEN, cut);
	case DLT_LINUX_SLL2:
		if (n < SLL2_HDR_LEN)
			return truncated_l2(d);
		sll_mac(pkt, data[10], iotdns_be16(data + 8), data[11], data + 12);
		/* the protocol comes first; any VLAN tags follow the 20-byte header */
		return decode_ethertype(d, pkt, data, n, iotdns_be16(data), SLL2_HDR_LEN, cut);
	case DLT_RAW:
	case LINKTYPE_RAW_VALUE:
		return iotdns_decode_ip(d, pkt, data, n, 0, cut);
	case DLT_IPV4:
		return iotdns_decode_ip(d, pkt, data, n, 4, cut);
	case DLT_IPV6:
		return iotdns_decode_ip(d, pkt, data, n, 6, cut);
	case DLT_NULL:
	case DLT_LOOP:
		return decode_null(d, pkt, data, n, cut);
	case DLT_NFLOG:
		return decode_nflog(d, pkt, data, n, cut);
	default:
		return IOTDNS_DEC_SKIP;
	}
}

/* iotdns - internals shared by the packet decoders (l2.c, ip.c, frag.c).
 * Not a public interface: only src/decode/ includes this header.
 */
#ifndef IOTDNS_DECODE_INTERNAL_H
#define IOTDNS_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "iotdns/packet.h"
#include "iotdns/stats.h"

/* Unaligned big-endian loads: every wire read goes through these after a
 * length check. */
static inline uint16_t iotdns_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t iotdns_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Bounds that keep the decoders' work per packet constant. */
#define IOTDNS_MAX_VLAN_TAGS 4   /* tags decoded in front of the payload; more: skipped */
#define IOTDNS_MAX_IPV6_EXT 16   /* IPv6 extension headers walked; a 17th: BAD_IPV6_EXT */

/* One fragment handed from ip.c to frag.c. pkt->src/dst are already set. */
struct iotdns_frag_in {
	uint8_t ipver;      /* 4 or 6 */
	uint8_t proto;      /* IPv4 protocol / IPv6 next header after the fragment header */
	uint8_t hop_limit;  /* TTL / hop limit of this fragment */
	bool more;          /* MF / M flag */
	uint32_t id;        /* IPv4 identification (16 bits) / IPv6 identification */
	uint32_t offset;    /* byte offset of data in the datagram payload */
	uint32_t hdr_len;   /* bytes of IP header in front of the fragmentable part
			     * (IPv4 header; IPv6 header + unfragmentable extensions) */
	const uint8_t *data;/* fragment data (borrowed, the frame) */
	uint32_t len;       /* bytes of data: the whole fragment (never snaplen-cut) */
};

/* Fragment reassembly table (frag.c), embedded in the decoder. Everything is
 * bounded by limits->max_frag_queues and limits->max_frag_datagram. */
struct iotdns_frag_queue;
struct iotdns_frag_table {
	struct iotdns_frag_queue *q; /* owned, max_frag_queues slots, allocated up front */
	uint64_t *bits;     /* owned, one bitmap of 8-byte blocks per slot (words_per_q each) */
	uint32_t *buckets;  /* owned, nbuckets heads of hash chains (slot index or NONE) */
	uint32_t nbuckets;  /* power of two */
	uint32_t words_per_q;
	uint32_t nq;        /* slots (max_frag_queues) */
	uint32_t used;      /* queues in progress */
	uint32_t free_head; /* free list through q[].next */
	uint32_t old_head, old_tail; /* queues in progress, oldest first */
};

struct iotdns_decoder {
	struct iotdns_stats *st;    /* borrowed */
	struct iotdns_limits lim;   /* copy */
	struct iotdns_frag_table frag;
	bool in_tunnel;             /* decoding the inner packet of a tunnel */
};

/* UDP ports of the tunnels whose inner packets are decoded. */
#define IOTDNS_PORT_VXLAN 4789
#define IOTDNS_PORT_VXLAN_GPE 4790
#define IOTDNS_PORT_GENEVE 6081

/* l2.c: the UDP datagram in pkt (payload, dport) is a tunnel header and
 * what it carries: decodes the inner packet into pkt instead. A header this
 * does not recognise leaves pkt as the UDP datagram it is. */
enum iotdns_dec_result iotdns_decode_tunnel(struct iotdns_decoder *d, struct iotdns_pkt *pkt, bool cut);

/* frag.c */
int iotdns_frag_init(struct iotdns_frag_table *ft, const struct iotdns_limits *lim);
void iotdns_frag_fini(struct iotdns_frag_table *ft);
/* Adds one fragment. Returns SKIP while the datagram is incomplete, BAD when
 * the fragment or its datagram was dropped (counted), or the result of
 * decoding the complete datagram (pkt->reassembled set; payload points into
 * the table's buffer until the next decode call). */
enum iotdns_dec_result iotdns_frag_add(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
				       const struct iotdns_frag_in *f);
void iotdns_frag_expire(struct iotdns_decoder *d, uint64_t now_us);

/* ip.c */
/* Decodes an IP packet (version from the first nibble; want_ver 4 or 6
 * requires that version, 0 accepts both). cut: the frame was shortened by
 * the snap length, so missing bytes at the end are not malformation. */
enum iotdns_dec_result iotdns_decode_ip(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					const uint8_t *p, uint32_t n, int want_ver, bool cut);
/* Decodes a transport header (proto) and its payload in p/n. short_by_cut:
 * the IP payload is shorter than the IP header said because of the snap
 * length (the payload is then delivered with a TRUNCATED_* count). */
enum iotdns_dec_result iotdns_decode_l4(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
					uint8_t proto, const uint8_t *p, uint32_t n,
					bool short_by_cut);
/* Continues an IPv6 extension header walk at next header nh over a complete
 * (reassembled) fragmentable part; a second fragment header is BAD_IPV6_EXT. */
enum iotdns_dec_result iotdns_decode_ipv6_upper(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
						uint8_t nh, const uint8_t *p, uint32_t n);

#endif

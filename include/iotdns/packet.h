/* iotdns - a decoded packet (link, network and transport headers) and the
 * frame decoder that fills it.
 *
 * Ownership: everything a struct iotdns_pkt points to is BORROWED and valid
 * until the next call to iotdns_decode_frame() on the same decoder.
 */
#ifndef IOTDNS_PACKET_H
#define IOTDNS_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "iotdns/addr.h"
#include "iotdns/stats.h"

enum iotdns_l4 {
	IOTDNS_L4_NONE = 0,
	IOTDNS_L4_TCP = 6,
	IOTDNS_L4_UDP = 17,
	IOTDNS_L4_ICMPV6 = 58,
};

enum iotdns_tcp_flag {
	IOTDNS_TCP_FIN = 0x01,
	IOTDNS_TCP_SYN = 0x02,
	IOTDNS_TCP_RST = 0x04,
	IOTDNS_TCP_PSH = 0x08,
	IOTDNS_TCP_ACK = 0x10,
};

struct iotdns_pkt {
	/* where it came from */
	uint64_t ts_us;    /* capture time, microseconds since the epoch */
	uint64_t pktno;    /* 1-based record number within the current input file */
	uint32_t input;    /* index of the input file in the run */
	uint32_t caplen;   /* bytes captured */
	uint32_t wirelen;  /* bytes on the wire */

	/* link layer (has_mac false for raw IP, NULL/loopback, and SLL without address) */
	bool has_mac;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint16_t vlan;       /* outermost VLAN id (802.1Q / 802.1ad), 0 = untagged */
	uint16_t vlan_inner; /* second (inner) VLAN id of a stacked tag, 0 = none */

	/* network layer */
	struct iotdns_addr src;
	struct iotdns_addr dst;
	uint8_t hop_limit;   /* IPv4 TTL / IPv6 hop limit */
	bool reassembled;    /* the payload was put together from IP fragments */
	uint32_t ip_len;     /* length of the IP datagram (header + payload) */

	/* transport layer */
	uint8_t l4;          /* enum iotdns_l4 */
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags;   /* enum iotdns_tcp_flag */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint8_t icmp_type;   /* ICMPv6 type (payload then starts after the 4-byte ICMPv6 header) */
	uint8_t icmp_code;

	/* transport payload (UDP/TCP data, ICMPv6 body after type/code/checksum) */
	const uint8_t *payload;
	uint32_t payload_len;
};

enum iotdns_dec_result {
	IOTDNS_DEC_OK = 0,  /* pkt filled: an IP packet with a transport header */
	IOTDNS_DEC_SKIP,    /* nothing to analyze: not IP, other protocol, or a fragment being held */
	IOTDNS_DEC_BAD,     /* malformed: the reason was counted in stats */
};

/* Link types we decode (pcap DLT_* / LINKTYPE_* values). */
bool iotdns_dlt_supported(int dlt);
/* Name of a link type for error messages ("EN10MB", or "linktype 147"). */
const char *iotdns_dlt_name(int dlt, char buf[32]);

struct iotdns_decoder;

/* Creates a decoder (it owns the IP fragment reassembly table).
 * stats is borrowed and must outlive the decoder. */
int iotdns_decoder_new(struct iotdns_decoder **out, const struct iotdns_limits *lim,
		       struct iotdns_stats *stats);
void iotdns_decoder_free(struct iotdns_decoder *d);

/* Decodes one frame of link type dlt. pkt->ts_us, pktno, input, caplen and
 * wirelen must be set by the caller; the rest is filled. Never reads past
 * caplen; counts problems in stats. */
enum iotdns_dec_result iotdns_decode_frame(struct iotdns_decoder *d, int dlt, const uint8_t *data,
					   struct iotdns_pkt *pkt);

/* Drops fragment queues older than the timeout (counted); called by the engine. */
void iotdns_decoder_expire(struct iotdns_decoder *d, uint64_t now_us);

#endif

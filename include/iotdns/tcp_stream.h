/* iotdns - DNS over TCP stream reassembly (RFC 7766 framing: 2-byte length
 * prefix before every message).
 *
 * One stream per direction of a TCP connection (4-tuple). Segments may arrive
 * out of order, overlap, be retransmitted or be missing; a stream may start
 * mid-way (no SYN). The reassembler never buffers more than
 * limits->tcp_stream_buffer bytes per stream nor more than
 * limits->max_tcp_streams streams; what it drops it counts.
 *
 * Behaviour:
 *  - in-order data is appended; every complete length-prefixed message is
 *    delivered through the callback, in stream order;
 *  - out-of-order data is held (bounded) until the gap is filled;
 *  - a gap that is not filled (more data than the buffer holds waits behind
 *    it, or FIN/RST/idle timeout) counts IOTDNS_P_TCP_GAP and the stream
 *    resynchronises at the next segment that starts with a plausible DNS
 *    length prefix;
 *  - a stream first seen without SYN is resynchronised the same way;
 *  - a length prefix below 12 counts IOTDNS_P_TCP_BAD_LENGTH and resyncs.
 */
#ifndef IOTDNS_TCP_STREAM_H
#define IOTDNS_TCP_STREAM_H

#include <stdint.h>

#include "iotdns/packet.h"
#include "iotdns/stats.h"

struct iotdns_tcp_table;

/* Called for every complete DNS message. pkt is the segment that completed
 * it (addresses, ports, time, packet number); msg/len is the message without
 * the length prefix. Both are borrowed for the duration of the call. */
typedef void (*iotdns_tcp_msg_fn)(void *ctx, const struct iotdns_pkt *pkt, const uint8_t *msg,
				  uint32_t len);

int iotdns_tcp_new(struct iotdns_tcp_table **out, const struct iotdns_limits *lim,
		   struct iotdns_stats *stats, iotdns_tcp_msg_fn fn, void *ctx);
void iotdns_tcp_free(struct iotdns_tcp_table *t);

/* Feeds one TCP segment (pkt->l4 == IOTDNS_L4_TCP). */
void iotdns_tcp_segment(struct iotdns_tcp_table *t, const struct iotdns_pkt *pkt);

/* Closes streams idle for longer than limits->tcp_idle_us. */
void iotdns_tcp_expire(struct iotdns_tcp_table *t, uint64_t now_us);

/* Number of streams currently tracked (for tests and memory accounting). */
uint32_t iotdns_tcp_count(const struct iotdns_tcp_table *t);

#endif

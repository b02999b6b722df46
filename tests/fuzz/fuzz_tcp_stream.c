/* Fuzz target: DNS over TCP stream reassembly.
 *
 * Input: byte 0 configures the table: bits 0-1 pick the per-stream buffer
 * (40, 300, 2000 or 65537 bytes), bit 2 limits the table to one stream.
 * The rest is a list of segments, each:
 *   1 byte  flags: bits 0-4 = FIN SYN RST PSH ACK, bit 5 = the reverse
 *           direction, bit 6 = a second connection, bit 7 = 200 s later
 *           (idle expiry);
 *   2 bytes sequence number relative to an ISN just below 2^32 (so that
 *           streams wrap);
 *   1 byte  data length (clipped to what is left);
 *   data.
 * The payload of each segment is copied to a buffer of its exact size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/packet.h"
#include "iotdns/tcp_stream.h"

static volatile uint32_t sink;

static void on_msg(void *ctx, const struct iotdns_pkt *pkt, const uint8_t *msg, uint32_t len)
{
	uint32_t x = (uint32_t)pkt->pktno;
	(void)ctx;
	if (len < 12)
		abort(); /* the reassembler promised at least a DNS header */
	for (uint32_t i = 0; i < len; i++)
		x += msg[i];
	sink += x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t bufs[] = { 40, 300, 2000, 65537 };
	struct iotdns_limits lim;
	struct iotdns_stats st;
	struct iotdns_tcp_table *tt;
	uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	uint64_t ts = 1000000, no = 0;
	size_t o = 1;

	if (size < 1)
		return 0;
	memset(&st, 0, sizeof(st));
	iotdns_limits_default(&lim);
	lim.tcp_stream_buffer = bufs[data[0] & 3];
	lim.max_tcp_streams = (data[0] & 4) ? 1 : 8;
	if (iotdns_tcp_new(&tt, &lim, &st, on_msg, NULL) != IOTDNS_OK)
		abort();
	while (o + 4 <= size) {
		struct iotdns_pkt pkt;
		uint8_t fl = data[o];
		uint32_t seq = 0xffffff00u + ((uint32_t)data[o + 1] << 8 | data[o + 2]);
		size_t n = data[o + 3];
		uint8_t *copy;

		o += 4;
		if (n > size - o)
			n = size - o;
		copy = malloc(n ? n : 1);
		if (!copy)
			break;
		if (n)
			memcpy(copy, data + o, n);
		o += n;
		ts += (fl & 0x80) ? 200000000 : 1000;
		memset(&pkt, 0, sizeof(pkt));
		pkt.ts_us = ts;
		pkt.pktno = ++no;
		iotdns_addr_set4(&pkt.src, (fl & 0x20) ? b : a);
		iotdns_addr_set4(&pkt.dst, (fl & 0x20) ? a : b);
		uint16_t cport = (fl & 0x40) ? 40001 : 40000;
		pkt.sport = (fl & 0x20) ? 53 : cport;
		pkt.dport = (fl & 0x20) ? cport : 53;
		pkt.l4 = IOTDNS_L4_TCP;
		pkt.tcp_flags = fl & 0x1f;
		pkt.tcp_seq = seq;
		pkt.payload = copy;
		pkt.payload_len = (uint32_t)n;
		iotdns_tcp_segment(tt, &pkt);
		free(copy);
		if (iotdns_tcp_count(tt) > lim.max_tcp_streams)
			abort();
	}
	iotdns_tcp_expire(tt, UINT64_MAX);
	if (iotdns_tcp_count(tt) != 0)
		abort();
	iotdns_tcp_free(tt);
	return 0;
}

/* Fuzz target: the frame decoders (link, IP, fragments, transport) and the
 * TCP stream reassembler behind them.
 *
 * Input: byte 0 selects the link type (low 4 bits, modulo the supported
 * list) and the mode:
 *   bit 7 clear: the rest is one frame;
 *   bit 7 set:   the rest is up to 32 frames, each a 2-byte big-endian
 *                length followed by that many bytes (fragments, TCP streams
 *                and timeouts across frames get exercised);
 *   bit 6 set:   frames are marked as cut by the snap length (wirelen >
 *                caplen);
 *   bit 5 set:   frames are 40 s apart (past the fragment timeout).
 * Every frame is copied into a buffer of its exact size so that reading
 * past it is caught by the sanitizer. */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/packet.h"
#include "iotdns/tcp_stream.h"

static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101,
			    DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP, DLT_NFLOG };

static volatile uint32_t sink;

static void on_msg(void *ctx, const struct iotdns_pkt *pkt, const uint8_t *msg, uint32_t len)
{
	uint32_t x = pkt->sport;
	(void)ctx;
	for (uint32_t i = 0; i < len; i++)
		x += msg[i];
	sink += x;
}

static void one(struct iotdns_decoder *dec, struct iotdns_tcp_table *tt, int dlt, const uint8_t *f,
		size_t n, bool cut, uint64_t ts, uint64_t no)
{
	struct iotdns_pkt pkt;
	uint8_t *copy = malloc(n ? n : 1);
	uint32_t x = 0;

	if (!copy)
		return;
	if (n)
		memcpy(copy, f, n);
	memset(&pkt, 0, sizeof(pkt));
	pkt.ts_us = ts;
	pkt.pktno = no;
	pkt.caplen = (uint32_t)n;
	pkt.wirelen = (uint32_t)n + (cut ? 100 : 0);
	if (iotdns_decode_frame(dec, dlt, copy, &pkt) == IOTDNS_DEC_OK) {
		/* the payload lies inside the frame (or the reassembly buffer) */
		if (!pkt.reassembled && (pkt.payload < copy || pkt.payload + pkt.payload_len > copy + n))
			abort();
		if (pkt.l4 != IOTDNS_L4_UDP && pkt.l4 != IOTDNS_L4_TCP && pkt.l4 != IOTDNS_L4_ICMPV6)
			abort();
		for (uint32_t i = 0; i < pkt.payload_len; i++)
			x += pkt.payload[i];
		sink += x;
		if (pkt.l4 == IOTDNS_L4_TCP)
			iotdns_tcp_segment(tt, &pkt);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iotdns_limits lim;
	struct iotdns_stats st;
	struct iotdns_decoder *dec;
	struct iotdns_tcp_table *tt;
	uint64_t ts = 1000000000;
	int dlt;
	bool cut;

	if (size < 1)
		return 0;
	memset(&st, 0, sizeof(st));
	iotdns_limits_default(&lim);
	lim.max_frag_queues = 4;
	lim.max_tcp_streams = 4;
	lim.tcp_stream_buffer = 600;
	if (iotdns_decoder_new(&dec, &lim, &st) != IOTDNS_OK)
		abort();
	if (iotdns_tcp_new(&tt, &lim, &st, on_msg, NULL) != IOTDNS_OK)
		abort();
	dlt = dlts[(data[0] & 0x0f) % (sizeof(dlts) / sizeof(dlts[0]))];
	cut = data[0] & 0x40;
	if (!(data[0] & 0x80)) {
		one(dec, tt, dlt, data + 1, size - 1, cut, ts, 1);
	} else {
		size_t o = 1;
		for (uint64_t k = 1; k <= 32 && o + 2 <= size; k++) {
			size_t n = (size_t)data[o] << 8 | data[o + 1];
			o += 2;
			if (n > size - o)
				n = size - o;
			one(dec, tt, dlt, data + o, n, cut, ts, k);
			o += n;
			ts += (data[0] & 0x20) ? 40000000 : 1000;
		}
	}
	iotdns_decoder_expire(dec, ts + 1);
	iotdns_tcp_expire(tt, UINT64_MAX);
	iotdns_tcp_free(tt);
	iotdns_decoder_free(dec);
	return 0;
}

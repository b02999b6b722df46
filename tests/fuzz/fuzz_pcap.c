/* Fuzz target: a whole capture file (pcap or pcapng) through libpcap
 * (fmemopen + pcap_fopen_offline), the decoders, the engine and every check
 * but fingerprinting (whose rule loading would dominate each run; its
 * parser has its own target, fuzz_rules), then the end-of-run events that
 * produce findings. No database. */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct iotdns_checker *checkers[32];
	if (!checkers[0]) {
		unsigned n = 0;
		for (unsigned i = 0; iotdns_checkers[i] && n + 1 < 32; i++)
			if (strcmp(iotdns_checkers[i]->id, "fingerprint") != 0)
				checkers[n++] = iotdns_checkers[i];
	}
	if (size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline(f, ebuf); /* owns f on success */
	if (!p) {
		fclose(f);
		return 0;
	}
	int dlt = pcap_datalink(p);
	if (iotdns_dlt_supported(dlt)) {
		struct iotdns_engine_config cfg;
		struct iotdns_engine *e;
		struct iotdns_err err;
		iotdns_engine_config_default(&cfg);
		cfg.checkers = checkers;
		cfg.limits.max_devices = 64;
		cfg.limits.max_open_txns = 256;
		cfg.limits.max_tcp_streams = 16;
		cfg.limits.max_frag_queues = 16;
		if (iotdns_engine_new(&e, &cfg, &err) == IOTDNS_OK) {
			struct pcap_pkthdr *h;
			const u_char *d;
			iotdns_engine_begin_input(e, "fuzz.pcap", dlt);
			while (pcap_next_ex(p, &h, &d) == 1)
				iotdns_engine_packet(e, h, d);
			iotdns_engine_finish(e);
			iotdns_engine_free(e);
		}
	}
	pcap_close(p);
	return 0;
}

/* iotdns - the engine's private state, shared by engine.c and findings.c.
 * Not a contract: checkers use include/iotdns/checker.h and finding.h. */
#ifndef IOTDNS_ENGINE_INTERNAL_H
#define IOTDNS_ENGINE_INTERNAL_H

#include "iotdns/dhcp.h"
#include "iotdns/dns.h"
#include "iotdns/engine.h"
#include "iotdns/finding.h"
#include "iotdns/packet.h"
#include "iotdns/tcp_stream.h"
#include "iotdns/txn.h"

struct iotdns_engine {
	struct iotdns_engine_config cfg;
	struct iotdns_stats stats;
	struct iotdns_decoder *dec;
	struct iotdns_tcp_table *tcp;
	struct iotdns_devtab *devs;
	struct iotdns_txntab *txns;
	struct iotdns_dns_parser *dnsp;

	const struct iotdns_checker *const *checkers;
	unsigned nchk;
	struct iotdns_check_ctx *chk;
	size_t chk_offsets[64];
	size_t chk_total;

	/* inputs */
	uint32_t ninputs, cap_inputs;
	char **inputs;
	int dlt;
	uint64_t pktno;

	uint64_t now_us, last_expire_us;
	bool finished;
	bool traffic_listeners;      /* some checker has on_traffic */

	/* findings reported by checkers (each allocated once, at device end) */
	uint32_t nfindings, cap_findings;
	struct iotdns_finding **findings;

	/* network-wide provided resolvers learned from RAs */
	uint8_t n_ra;
	struct iotdns_addr ra[IOTDNS_DHCP_MAX_DNS];

	/* scratch for DHCP (kept here so nothing big lands on the stack per packet) */
	struct iotdns_dhcp4 d4;
	struct iotdns_dhcp6 d6;
	struct iotdns_ra rav;
	struct iotdns_dev_dhcp obs;
};

#endif

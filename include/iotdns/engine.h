/* iotdns - the engine: packets in, device state and checker events out.
 *
 *   capture -> iotdns_engine_packet -> decode (L2/IP/fragments) -> dispatch:
 *     UDP/TCP 53, 5353, 5355 -> DNS view (TCP through stream reassembly)
 *         -> devices, names, resolvers, sessions, transactions -> checkers
 *     UDP 67/68, 546/547, ICMPv6 RA -> DHCP/RA -> provided resolvers, sessions
 *     TCP/UDP 853, HTTPS to known DoH resolvers -> encrypted-DNS flows
 *
 * The engine owns the decoder, the TCP table, the device table, the
 * transaction table, the counters and each checker's per-device state.
 */
#ifndef IOTDNS_ENGINE_H
#define IOTDNS_ENGINE_H

#include <pcap/pcap.h>

#include "iotdns/checker.h"
#include "iotdns/device.h"
#include "iotdns/stats.h"

struct iotdns_finding;

#define IOTDNS_MAX_CONFIG_RESOLVERS 16

struct iotdns_enrich;

struct iotdns_engine_config {
	struct iotdns_limits limits;
	unsigned nresolvers;                                 /* --resolver */
	struct iotdns_addr resolvers[IOTDNS_MAX_CONFIG_RESOLVERS];
	struct iotdns_enrich *enrich;                        /* borrowed; may be NULL */
	const struct iotdns_checker *const *checkers;        /* NULL: the registry */
	const char *rules_dir;                               /* fingerprint rules (NULL: default) */
	unsigned nsets;                                      /* checker options: "<check-id>.<name>" */
	struct {
		char key[128];
		double value;
	} sets[64];
};

void iotdns_engine_config_default(struct iotdns_engine_config *cfg);

struct iotdns_engine;

int iotdns_engine_new(struct iotdns_engine **out, const struct iotdns_engine_config *cfg,
		      struct iotdns_err *err);
/* Frees everything (without raising end events: call iotdns_engine_finish first). */
void iotdns_engine_free(struct iotdns_engine *e);

/* Starts the next input: name is used in evidence; dlt is its link type. */
void iotdns_engine_begin_input(struct iotdns_engine *e, const char *name, int dlt);
/* One capture record of the current input. */
void iotdns_engine_packet(struct iotdns_engine *e, const struct pcap_pkthdr *h, const uint8_t *data);
/* Moves time forward without a packet (live capture idle): expires state. */
void iotdns_engine_tick(struct iotdns_engine *e, uint64_t now_us);
/* Adds network-wide provided resolvers (config, RA) to every device's list;
 * call before storing. */
void iotdns_engine_sync(struct iotdns_engine *e);
/* End of the run: open transactions time out, sessions end, devices end. */
void iotdns_engine_finish(struct iotdns_engine *e);

/* Findings reported so far (owned by the engine, valid until it is freed). */
uint32_t iotdns_engine_finding_count(const struct iotdns_engine *e);
const struct iotdns_finding *iotdns_engine_finding(const struct iotdns_engine *e, uint32_t idx);
/* The checkers of this engine, in run order. */
const struct iotdns_checker *const *iotdns_engine_checkers(const struct iotdns_engine *e, unsigned *n);
/* Name of input idx, as a callback for the finding JSON writers. */
const char *iotdns_engine_input_name_cb(void *engine, uint32_t idx);

struct iotdns_devtab *iotdns_engine_devices(struct iotdns_engine *e);
struct iotdns_stats *iotdns_engine_stats(struct iotdns_engine *e);
uint32_t iotdns_engine_input_count(const struct iotdns_engine *e);
const char *iotdns_engine_input_name(const struct iotdns_engine *e, uint32_t idx);

/* The enrichment databases of this engine (borrowed from the config; NULL
 * when none): lets checkers name resolver operators, ASNs and countries. */
struct iotdns_enrich *iotdns_engine_enrich(const struct iotdns_engine *e);

#endif

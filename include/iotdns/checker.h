/* iotdns - the checker interface (docs/checkers.md).
 *
 * One checker per file under src/checks/, one descriptor each, listed once in
 * src/checks/registry.c. The engine owns every checker's per-device state: it
 * allocates dev_state_size zeroed bytes per device and frees them (after
 * dev_free, if given). Everything passed to a callback is borrowed and valid
 * until the callback returns; keep copies (numbers, short strings), never
 * pointers into packets or DNS views. Device and name records are the
 * exception: they live until the end of the run. Resolver records may move
 * when a device's resolver array grows: keep an index or the address.
 *
 * Events, in the order the engine raises them for a device:
 *   on_query     a DNS query (unicast DNS, mDNS or LLMNR) sent by the device
 *   on_response  a DNS response received by the device, or sent by it
 *                (ev->direction tells which)
 *   on_txn       a unicast query matched with its response, or timed out
 *   on_session_end  a boot session of the device ended (new DHCP exchange,
 *                silence, or end of capture)
 *   on_traffic   the device opened a TCP connection or sent UDP to a
 *                non-local address (not DNS): address use
 *   on_device_end   end of the run: give verdicts
 */
#ifndef IOTDNS_CHECKER_H
#define IOTDNS_CHECKER_H

#include <stdbool.h>
#include <stdint.h>

#include "iotdns/common.h"
#include "iotdns/device.h"
#include "iotdns/dns.h"
#include "iotdns/packet.h"

#define IOTDNS_CHECKER_API 1

enum iotdns_severity {
	IOTDNS_SEV_INFO = 0,
	IOTDNS_SEV_LOW = 1,
	IOTDNS_SEV_MEDIUM = 2,
	IOTDNS_SEV_HIGH = 3,
};
const char *iotdns_severity_name(enum iotdns_severity s);
/* Parses "info|low|medium|high"; returns -1 when invalid. */
int iotdns_severity_parse(const char *s);

enum iotdns_dns_proto {
	IOTDNS_PROTO_DNS = 0,    /* port 53 */
	IOTDNS_PROTO_MDNS = 1,   /* port 5353 */
	IOTDNS_PROTO_LLMNR = 2,  /* port 5355 */
};

enum iotdns_direction {
	IOTDNS_DIR_FROM_DEVICE = 0, /* the device sent it (query, or a response it served) */
	IOTDNS_DIR_TO_DEVICE = 1,   /* the device received it */
};

/* One decoded DNS message, as seen from a device. */
struct iotdns_dns_event {
	const struct iotdns_pkt *pkt;        /* addresses, ports, time, packet number */
	const struct iotdns_dns_msg *msg;    /* the decoded view */
	const char *input_name;              /* input file name (for evidence) */
	uint8_t proto;                       /* enum iotdns_dns_proto */
	uint8_t direction;                   /* enum iotdns_direction */
	unsigned transport;                  /* IOTDNS_TR_UDP or IOTDNS_TR_TCP */
	bool retransmission;                 /* a query repeating an unanswered one */
	struct iotdns_session *session;      /* the device's current session */
	struct iotdns_dev_resolver *resolver;/* unicast queries/responses: the peer */
	struct iotdns_dev_name *name;        /* the question's name record (NULL if untracked) */
	uint64_t qname_hash;                 /* iotdns_hash_str(msg->qname), 0 without a question;
					      * computed once by the engine (== name->hash) */
};

/* A unicast query with its response, or its time-out. */
struct iotdns_txn {
	struct iotdns_device *dev;
	struct iotdns_dev_resolver *resolver; /* valid during on_txn (the engine keeps an index meanwhile) */
	int32_t resolver_idx;                /* index in dev->resolvers, -1 when untracked */
	struct iotdns_dev_name *name;        /* may be NULL (name table full) */
	struct iotdns_addr client, server;
	uint16_t client_port, server_port;
	uint16_t id;
	uint16_t qtype;
	uint64_t qname_hash;
	unsigned transport;
	uint32_t session_idx;
	uint64_t query_us, response_us;      /* response_us 0 when unanswered */
	uint64_t query_pktno, response_pktno;
	uint32_t query_input, response_input;
	uint32_t query_size, response_size;
	uint32_t retransmissions;            /* extra copies of the query seen */
	bool answered;
	uint16_t rcode;
	bool tc;
	uint16_t n_addr_answers;
	bool has_min_ttl;
	uint32_t min_ttl;
	bool soa_present;
	uint32_t soa_minimum;
};

struct iotdns_finding_kind {
	const char *code;                    /* stable, "PORT.FIXED" */
	enum iotdns_severity severity;
	const char *title;                   /* one line */
	const char *why;                     /* why it matters (a few sentences) */
	const char *fix;                     /* what to do about it */
	const char *refs;                    /* "RFC 5452 §9.2; draft-ietf-iotops-iot-dns-guidelines" */
};

/* A tunable threshold of a checker: set with --set <check-id>.<name>=VALUE or
 * the same key in a configuration file. */
struct iotdns_opt {
	const char *name;                    /* kebab-case */
	double def, min, max;
	const char *help;                    /* one line, with the unit */
};
#define IOTDNS_MAX_OPTS 24

struct iotdns_checker;
struct iotdns_engine;
struct iotdns_engine_config;

/* Per-run context of one checker (engine-owned). */
struct iotdns_check_ctx {
	const struct iotdns_checker *self;
	struct iotdns_engine *engine;
	void *priv;                          /* checker-global state, set in init() */
	unsigned slot;                       /* index into dev->chk_state */
	double opt[IOTDNS_MAX_OPTS];         /* option values, in opts[] order */
	const struct iotdns_engine_config *config; /* the run's configuration (borrowed) */
	struct iotdns_err *err;              /* during init only: a failing init explains here */
};

struct iotdns_checker {
	unsigned api;                        /* IOTDNS_CHECKER_API */
	const char *id;                      /* kebab-case: "port-randomization" */
	const char *summary;                 /* one line for `iotdns checks` */
	const struct iotdns_finding_kind *kinds; /* {NULL}-terminated catalogue */
	const struct iotdns_opt *opts;       /* {NULL}-terminated; may be NULL */
	size_t dev_state_size;               /* zeroed per device by the engine */

	int (*init)(struct iotdns_check_ctx *ctx);
	void (*fini)(struct iotdns_check_ctx *ctx);
	void (*on_query)(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			 const struct iotdns_dns_event *ev);
	void (*on_response)(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			    const struct iotdns_dns_event *ev);
	void (*on_txn)(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
		       const struct iotdns_txn *txn);
	void (*on_session_end)(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			       const struct iotdns_session *sess);
	void (*on_device_end)(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st);
	/* other traffic of the device: a TCP connection attempt (SYN) or a UDP
	 * datagram to a non-local address, DNS/DoT/DoQ excluded — for checks that
	 * compare the addresses a device uses with the answers it received */
	void (*on_traffic)(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			   const struct iotdns_pkt *pkt);
	/* releases anything the checker allocated inside st (st itself is the engine's) */
	void (*dev_free)(struct iotdns_check_ctx *ctx, void *st);
};

/* The registry: NULL-terminated, in run order (src/checks/registry.c). */
extern const struct iotdns_checker *const iotdns_checkers[];
unsigned iotdns_checker_count(void);
/* Validates the registry (api, unique kebab-case ids, unique codes).
 * Returns IOTDNS_OK or IOTDNS_EINVAL with err set. */
int iotdns_checkers_validate(struct iotdns_err *err);

#endif

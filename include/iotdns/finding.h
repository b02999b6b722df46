/* iotdns - findings and per-device check status (docs/checkers.md).
 *
 * A checker reports a finding by code from its own catalogue
 * (struct iotdns_finding_kind). The engine owns every finding; the builder
 * functions copy what they are given, so checkers may pass stack buffers.
 * For every device, each checker also sets one status: fail (it reported
 * findings of severity low or above; info findings are observations and do
 * not fail a check by themselves), pass (enough evidence, nothing wrong),
 * insufficient (too little
 * evidence: the detail says how much more is needed) or not-applicable.
 */
#ifndef IOTDNS_FINDING_H
#define IOTDNS_FINDING_H

#include <stdint.h>
#include <stdio.h>

#include "iotdns/checker.h"

#define IOTDNS_MAX_EVIDENCE 5
#define IOTDNS_EVIDENCE_TEXT 136
#define IOTDNS_METRICS_MAX 2048

enum iotdns_check_status {
	IOTDNS_STATUS_NONE = 0,          /* the checker said nothing (treated as insufficient) */
	IOTDNS_STATUS_PASS,
	IOTDNS_STATUS_FAIL,
	IOTDNS_STATUS_INSUFFICIENT,
	IOTDNS_STATUS_NA,
};
const char *iotdns_status_name(enum iotdns_check_status s); /* "pass", "fail", ... */

/* One example packet. */
struct iotdns_evidence {
	uint32_t input;                  /* input index (name from the engine) */
	uint64_t pktno;                  /* 1-based packet number in that input */
	uint64_t ts_us;
	char text[IOTDNS_EVIDENCE_TEXT]; /* one-line summary, printable ASCII */
};

/* Fills ev from a DNS event: input, packet number, time, and a summary made
 * from fmt (e.g. "query 0x1a2b api.example.test A from port 4096"). */
void iotdns_evidence_set(struct iotdns_evidence *ev, const struct iotdns_pkt *pkt, const char *fmt, ...)
	IOTDNS_PRINTF(3, 4);

struct iotdns_finding {
	const struct iotdns_checker *check;
	const struct iotdns_finding_kind *kind;
	struct iotdns_device *dev;
	uint64_t first_us, last_us;      /* time span of the evidence */
	char summary[256];               /* device-specific one line, after the title */
	uint32_t metrics_len;
	char metrics[IOTDNS_METRICS_MAX];/* JSON object members: "k":v,"k2":v2 */
	uint8_t nev;
	struct iotdns_evidence ev[IOTDNS_MAX_EVIDENCE];
};

/* Starts a finding of code (which must be in the checker's catalogue; an
 * unknown code is an internal error and returns NULL). The finding is kept
 * by the engine; fill it with the functions below. */
struct iotdns_finding *iotdns_finding_new(struct iotdns_check_ctx *ctx, struct iotdns_device *dev,
					  const char *code);
void iotdns_finding_summary(struct iotdns_finding *f, const char *fmt, ...) IOTDNS_PRINTF(2, 3);
void iotdns_finding_u64(struct iotdns_finding *f, const char *key, uint64_t v);
void iotdns_finding_i64(struct iotdns_finding *f, const char *key, int64_t v);
void iotdns_finding_dbl(struct iotdns_finding *f, const char *key, double v);
void iotdns_finding_str(struct iotdns_finding *f, const char *key, const char *v);
void iotdns_finding_bool(struct iotdns_finding *f, const char *key, bool v);
/* Adds a raw JSON value (array/object built by the caller, e.g. "[1,2]"). */
void iotdns_finding_json(struct iotdns_finding *f, const char *key, const char *json);
void iotdns_finding_evidence(struct iotdns_finding *f, const struct iotdns_evidence *ev);

/* Sets the device's status for this checker, with a one-line detail. */
void iotdns_check_status(struct iotdns_check_ctx *ctx, struct iotdns_device *dev,
			 enum iotdns_check_status st, const char *fmt, ...) IOTDNS_PRINTF(4, 5);

/* A checker option value (declared in its opts[], set by --set ID.NAME=V). */
double iotdns_check_opt(const struct iotdns_check_ctx *ctx, unsigned idx);

/* The catalogue entry for a code across the registry, or NULL. */
const struct iotdns_finding_kind *iotdns_finding_kind_find(const char *code,
							    const struct iotdns_checker **check);

/* Writes one finding as a JSON object (no newline): device, check, code,
 * severity, title, summary, metrics, evidence (with input file names from
 * input_name()), first/last seen, why, fix, references. */
void iotdns_finding_write_json(FILE *out, const struct iotdns_finding *f,
			       const char *(*input_name)(void *ctx, uint32_t idx), void *ctx);
/* The evidence array as JSON text into buf (for the store). */
size_t iotdns_finding_evidence_json(const struct iotdns_finding *f, char *buf, size_t size,
				    const char *(*input_name)(void *ctx, uint32_t idx), void *ctx);

#endif

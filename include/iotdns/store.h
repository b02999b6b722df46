/* iotdns - the SQLite store (schema: docs/schema.md).
 *
 * Versioned schema (PRAGMA user_version + ordered migrations), WAL journal,
 * prepared statements, one transaction per flush. A flush writes the
 * absolute values of the current run (rows keyed by run), so flushing again
 * during a long capture simply replaces the run's rows; totals over runs are
 * sums. An input whose SHA-256 is already stored with status "ok" is
 * reported as a duplicate and skipped by the caller, so nothing is counted
 * twice.
 */
#ifndef IOTDNS_STORE_H
#define IOTDNS_STORE_H

#include <stdint.h>
#include <stdio.h>

#include "iotdns/common.h"
#include "iotdns/device.h"
#include "iotdns/stats.h"

#define IOTDNS_SCHEMA_VERSION 1

struct iotdns_store;
struct iotdns_enrich;

struct iotdns_run_info {
	const char *sensor;
	const char *tool_version;
	const char *command_line;
	uint64_t started_us;          /* wall clock */
};

enum iotdns_input_status {
	IOTDNS_INPUT_OK = 0,          /* read to the end */
	IOTDNS_INPUT_TRUNCATED = 1,   /* ended inside a record: everything before it was analyzed */
	IOTDNS_INPUT_ERROR = 2,       /* could not be read / not a capture */
	IOTDNS_INPUT_DUPLICATE = 3,   /* same SHA-256 already analyzed: skipped */
	IOTDNS_INPUT_RUNNING = 4,     /* being read (live capture) */
};
const char *iotdns_input_status_name(enum iotdns_input_status s);

struct iotdns_input_info {
	char path[1024];
	char sha256[65];              /* "" when unknown (live) */
	uint64_t size;                /* bytes read */
	int linktype;
	uint64_t packets;
	uint64_t first_us, last_us;
	enum iotdns_input_status status;
	int64_t duplicate_of_run;     /* for IOTDNS_INPUT_DUPLICATE */
	char error[512];
};

/* Opens or creates the database, applies migrations. Errors: IOTDNS_EBUSY
 * (locked by another process), IOTDNS_ESTORE (not a database, newer schema,
 * unwritable), with err naming the path. */
int iotdns_store_open(struct iotdns_store **out, const char *path, struct iotdns_err *err);
void iotdns_store_close(struct iotdns_store *s);

/* 1 when an input with this SHA-256 was already analyzed (status ok or
 * truncated), setting *run_id; 0 when not; negative on error. */
int iotdns_store_input_seen(struct iotdns_store *s, const char *sha256, int64_t *run_id,
			    struct iotdns_err *err);

/* 1 when an input of exactly this size was analyzed before (only then can a
 * file be a duplicate, and only then is it hashed before reading); 0 when
 * not; negative on error. */
int iotdns_store_input_size_seen(struct iotdns_store *s, uint64_t size, struct iotdns_err *err);

int iotdns_store_run_begin(struct iotdns_store *s, const struct iotdns_run_info *ri, int64_t *run_id,
			   struct iotdns_err *err);

/* One transaction: the run's counters (stats), its inputs, and every device
 * with its addresses, resolvers (enriched through e, which may be NULL),
 * names, sessions and DHCP fingerprints. On error the transaction is rolled
 * back and everything stored before stays intact. */
int iotdns_store_flush(struct iotdns_store *s, int64_t run_id, struct iotdns_devtab *t,
		       const struct iotdns_stats *st, const struct iotdns_input_info *inputs,
		       unsigned ninputs, struct iotdns_enrich *e, struct iotdns_err *err);

/* One transaction: every finding of the engine and every device's status
 * per check (device_checks), for this run. Devices must have been flushed
 * (they need their database ids). Replaces what an earlier call of the same
 * run wrote. */
struct iotdns_engine;
int iotdns_store_results(struct iotdns_store *s, int64_t run_id, const char *sensor, struct iotdns_engine *e,
			 struct iotdns_err *err);

/* Read side for `iotdns findings`: findings of all runs at or above
 * min_severity (enum iotdns_severity), most severe first, as JSON lines
 * or as text grouped by device. */
int iotdns_store_findings_json(struct iotdns_store *s, FILE *out, int min_severity, struct iotdns_err *err);
int iotdns_store_findings_text(struct iotdns_store *s, FILE *out, int min_severity, struct iotdns_err *err);

/* Marks the run finished ("ok", "interrupted", "error"). */
int iotdns_store_run_end(struct iotdns_store *s, int64_t run_id, const char *status,
			 struct iotdns_err *err);

/* Read side for `iotdns devices`: one JSON object per line, or a text table.
 * Totals are summed over all runs in the database. */
int iotdns_store_devices_json(struct iotdns_store *s, FILE *out, struct iotdns_err *err);
int iotdns_store_devices_text(struct iotdns_store *s, FILE *out, struct iotdns_err *err);

#endif

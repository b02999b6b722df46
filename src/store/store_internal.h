/* iotdns - private parts of the SQLite store shared by store.c (write side)
 * and store_read.c (read side). Not installed, not a contract. */
#ifndef IOTDNS_STORE_INTERNAL_H
#define IOTDNS_STORE_INTERNAL_H

#include <sqlite3.h>

#include "iotdns/store.h"

/* The prepared statements of the write side, created once at open. */
enum store_stmt {
	ST_INPUT_SEEN,
	ST_RUN_BEGIN,
	ST_RUN_UPDATE,
	ST_RUN_END,
	ST_INPUT_UPSERT,
	ST_DEVICE_UPSERT,
	ST_DEVICE_ID,
	ST_DEVICE_RUN_UPSERT,
	ST_ADDR_UPSERT,
	ST_RESOLVER_INSERT,
	ST_RESOLVER_ENRICH,
	ST_RESOLVER_ID,
	ST_DEVRES_UPSERT,
	ST_NAME_UPSERT,
	ST_SESSION_UPSERT,
	ST_DHCP_UPSERT,
	ST_COUNT
};

#define NAME_BATCH 32u /* rows per multi-row names upsert */
#define STORE_QTYPE_BITS 9u /* enum iotdns_qtype_bit */
#define STORE_QTYPE_COMBOS (1u << STORE_QTYPE_BITS)

/* Address -> resolvers.id, valid during one flush (rebuilt each time, so a
 * rolled-back flush never leaves stale ids behind). Open addressing. */
struct store_resolver_slot {
	struct iotdns_addr addr;
	int64_t id;                   /* 0 = empty slot */
};

/* What the last committed flush wrote for one name record: a digest of the
 * row (key and values). A repeated flush of the same device table in the
 * same run skips names whose row would be written unchanged. Open
 * addressing keyed by the record's address (records live as long as their
 * device table). */
struct store_name_seen {
	const void *rec;              /* NULL = empty slot */
	uint64_t digest;
};

struct iotdns_store {
	sqlite3 *db;
	char *path;                   /* owned copy, for messages */
	sqlite3_stmt *st[ST_COUNT];   /* owned, finalized at close */
	sqlite3_stmt *name_batch;     /* owned: NAME_BATCH rows of ST_NAME_UPSERT */
	uint32_t res_cap;             /* power of two */
	uint32_t res_n;
	struct store_resolver_slot *res; /* owned */
	/* names written by the last flush; valid for seen_tab and seen_run only */
	const struct iotdns_devtab *seen_tab;
	int64_t seen_run;
	bool seen_active;             /* digests kept (second flush of the run on) */
	uint32_t seen_cap;            /* power of two, 0 = none */
	uint32_t seen_n;
	struct store_name_seen *seen; /* owned */
	/* one device's changed names, sorted before they are written */
	uint32_t order_cap;
	const struct iotdns_dev_name **order; /* owned */
	/* names.qtypes text for every combination of bits, bound in place */
	char qtypes_text[STORE_QTYPE_COMBOS][48];
	/* names rows waiting for a full NAME_BATCH statement (across devices) */
	unsigned npend;
	struct store_name_row {
		int64_t dev_id;
		const struct iotdns_dev_name *rec;
	} pend[NAME_BATCH];
};

/* Maps a SQLite failure to an IOTDNS_E* code with a message naming the path:
 * SQLITE_BUSY/LOCKED -> IOTDNS_EBUSY, everything else -> IOTDNS_ESTORE. */
int iotdns_store_fail(struct iotdns_store *s, int sqlite_rc, const char *what, struct iotdns_err *err);

/* Steps a statement that returns no rows (or ignores them), then resets it
 * and clears its bindings; a failure is mapped by iotdns_store_fail(). */
int iotdns_store_step(struct iotdns_store *s, sqlite3_stmt *st, const char *what, struct iotdns_err *err);


#endif

/* iotdns - the SQLite store, write side (include/iotdns/store.h,
 * docs/schema.md).
 *
 * - Schema versions: PRAGMA user_version holds the version; migrations[] is
 *   the ordered list of steps, migrations[i] takes the schema from version i
 *   to i + 1 and runs in its own transaction together with the version bump.
 *   A new schema version is one more entry at the end (and a bump of
 *   IOTDNS_SCHEMA_VERSION). PRAGMA application_id marks the file as ours.
 * - Connection: WAL journal, synchronous=NORMAL, foreign keys declared but
 *   not enforced on our connection (every id we write was created in the same
 *   transaction; checking each of 300,000 name rows cost a fifth of a flush), busy
 *   timeout STORE_BUSY_TIMEOUT_MS; a lock held longer is IOTDNS_EBUSY.
 * - Every statement of the write side is prepared once at open and reset
 *   after each use.
 * - A flush is one BEGIN IMMEDIATE ... COMMIT transaction, rolled back on
 *   any error. Per-run rows are upserted with the absolute values of the run
 *   so far, so flushing again replaces them; totals over runs are sums.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "iotdns/enrich.h"
#include "iotdns/json.h"
#include "store_internal.h"

#define STORE_BUSY_TIMEOUT_MS 3000
#define STORE_APPLICATION_ID 0x696f7464 /* "iotd" */
/* page cache: a flush of a large table stays in memory until COMMIT */
#define STORE_CACHE_KIB "65536" /* a flush of 300,000 name rows fits without spilling */

/* ---- schema ------------------------------------------------------------ */

/* Version 1: everything. Times are INTEGER microseconds since the epoch
 * (NULL when unknown); views add ISO-8601 text. */
static const char schema_v1[] =
	"CREATE TABLE runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  started INTEGER NOT NULL,\n"
	"  finished INTEGER,\n"
	"  status TEXT NOT NULL DEFAULT 'running',\n"
	"  sensor TEXT,\n"
	"  tool_version TEXT,\n"
	"  command_line TEXT,\n"
	"  packets INTEGER NOT NULL DEFAULT 0,\n"
	"  bytes INTEGER NOT NULL DEFAULT 0,\n"
	"  dns_messages INTEGER NOT NULL DEFAULT 0,\n"
	"  dns_queries INTEGER NOT NULL DEFAULT 0,\n"
	"  dns_responses INTEGER NOT NULL DEFAULT 0,\n"
	"  malformed INTEGER NOT NULL DEFAULT 0,\n"
	"  ignored INTEGER NOT NULL DEFAULT 0,\n"
	"  dhcp_messages INTEGER NOT NULL DEFAULT 0,\n"
	"  problems TEXT NOT NULL DEFAULT '{}',\n"
	"  evictions TEXT NOT NULL DEFAULT '{}'\n"
	");\n"
	"CREATE TABLE inputs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  path TEXT NOT NULL,\n"
	"  sha256 TEXT,\n"
	"  size INTEGER,\n"
	"  linktype INTEGER,\n"
	"  packets INTEGER NOT NULL DEFAULT 0,\n"
	"  first_seen INTEGER,\n"
	"  last_seen INTEGER,\n"
	"  status TEXT NOT NULL,\n"
	"  duplicate_of_run INTEGER,\n"
	"  error TEXT,\n"
	"  UNIQUE (run_id, path)\n"
	");\n"
	"CREATE INDEX inputs_sha256 ON inputs(sha256);\n"
	"CREATE TABLE devices (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  key TEXT NOT NULL UNIQUE,\n"
	"  keyed_by_ip INTEGER NOT NULL DEFAULT 0,\n"
	"  mac TEXT,\n"
	"  vlan INTEGER,\n"
	"  first_seen INTEGER,\n"
	"  last_seen INTEGER,\n"
	"  hostname TEXT,\n"
	"  vendor TEXT,\n"
	"  product TEXT,\n"
	"  category TEXT,\n"
	"  confidence REAL,\n"
	"  evidence TEXT,\n"
	"  os_hint TEXT\n"
	");\n"
	"CREATE TABLE device_runs (\n"
	"  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  first_seen INTEGER,\n"
	"  last_seen INTEGER,\n"
	"  queries INTEGER NOT NULL DEFAULT 0,\n"
	"  tcp_queries INTEGER NOT NULL DEFAULT 0,\n"
	"  mdns_queries INTEGER NOT NULL DEFAULT 0,\n"
	"  llmnr_queries INTEGER NOT NULL DEFAULT 0,\n"
	"  responses INTEGER NOT NULL DEFAULT 0,\n"
	"  unanswered INTEGER NOT NULL DEFAULT 0,\n"
	"  retransmissions INTEGER NOT NULL DEFAULT 0,\n"
	"  responses_sent INTEGER NOT NULL DEFAULT 0,\n"
	"  responses_sent_bytes INTEGER NOT NULL DEFAULT 0,\n"
	"  requests_received INTEGER NOT NULL DEFAULT 0,\n"
	"  requests_received_bytes INTEGER NOT NULL DEFAULT 0,\n"
	"  sessions INTEGER NOT NULL DEFAULT 0,\n"
	"  sessions_dropped INTEGER NOT NULL DEFAULT 0,\n"
	"  names INTEGER NOT NULL DEFAULT 0,\n"
	"  PRIMARY KEY (device_id, run_id)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX device_runs_run ON device_runs(run_id);\n"
	"CREATE TABLE device_addresses (\n"
	"  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  address TEXT NOT NULL,\n"
	"  first_seen INTEGER,\n"
	"  last_seen INTEGER,\n"
	"  packets INTEGER NOT NULL DEFAULT 0,\n"
	"  PRIMARY KEY (device_id, run_id, address)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX device_addresses_address ON device_addresses(address);\n"
	"CREATE TABLE resolvers (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  address TEXT NOT NULL UNIQUE,\n"
	"  public_resolver INTEGER NOT NULL DEFAULT 0,\n"
	"  operator TEXT,\n"
	"  dot_name TEXT,\n"
	"  doh_url TEXT,\n"
	"  asn INTEGER,\n"
	"  as_org TEXT,\n"
	"  country TEXT\n"
	");\n"
	"CREATE TABLE device_resolvers (\n"
	"  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,\n"
	"  resolver_id INTEGER NOT NULL REFERENCES resolvers(id) ON DELETE CASCADE,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  transports TEXT NOT NULL DEFAULT '',\n"
	"  transport_mask INTEGER NOT NULL DEFAULT 0,\n"
	"  queries INTEGER NOT NULL DEFAULT 0,\n"
	"  tcp_queries INTEGER NOT NULL DEFAULT 0,\n"
	"  responses INTEGER NOT NULL DEFAULT 0,\n"
	"  unanswered INTEGER NOT NULL DEFAULT 0,\n"
	"  retransmissions INTEGER NOT NULL DEFAULT 0,\n"
	"  flows_dot INTEGER NOT NULL DEFAULT 0,\n"
	"  flows_doq INTEGER NOT NULL DEFAULT 0,\n"
	"  flows_doh INTEGER NOT NULL DEFAULT 0,\n"
	"  first_seen INTEGER,\n"
	"  last_seen INTEGER,\n"
	"  provided_by TEXT NOT NULL DEFAULT 'none',\n"
	"  PRIMARY KEY (device_id, resolver_id, run_id)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX device_resolvers_resolver ON device_resolvers(resolver_id);\n"
	"CREATE TABLE names (\n"
	"  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  name TEXT NOT NULL,\n"
	"  queries INTEGER NOT NULL DEFAULT 0,\n"
	"  responses INTEGER NOT NULL DEFAULT 0,\n"
	"  qtypes TEXT NOT NULL DEFAULT '',\n"
	"  first_seen INTEGER,\n"
	"  last_seen INTEGER,\n"
	"  ttl_min INTEGER,\n"
	"  ttl_max INTEGER,\n"
	"  ttl_last INTEGER,\n"
	"  rcode_noerror INTEGER NOT NULL DEFAULT 0,\n"
	"  rcode_nxdomain INTEGER NOT NULL DEFAULT 0,\n"
	"  rcode_servfail INTEGER NOT NULL DEFAULT 0,\n"
	"  rcode_other INTEGER NOT NULL DEFAULT 0,\n"
	"  nodata INTEGER NOT NULL DEFAULT 0,\n"
	"  PRIMARY KEY (device_id, run_id, name)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE sessions (\n"
	"  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  idx INTEGER NOT NULL,\n"
	"  start_reason TEXT NOT NULL,\n"
	"  started INTEGER,\n"
	"  ended INTEGER,\n"
	"  queries INTEGER NOT NULL DEFAULT 0,\n"
	"  PRIMARY KEY (device_id, run_id, idx)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE dhcp_observations (\n"
	"  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  version INTEGER NOT NULL,\n"
	"  msg_type INTEGER NOT NULL,\n"
	"  hostname TEXT NOT NULL DEFAULT '',\n"
	"  vendor_class TEXT NOT NULL DEFAULT '',\n"
	"  prl TEXT NOT NULL DEFAULT '',\n"
	"  client_id TEXT NOT NULL DEFAULT '',\n"
	"  count INTEGER NOT NULL DEFAULT 0,\n"
	"  first_seen INTEGER,\n"
	"  last_seen INTEGER,\n"
	"  first_packet INTEGER,\n"
	"  input INTEGER,\n"
	"  PRIMARY KEY (device_id, run_id, version, msg_type, hostname, vendor_class, prl, client_id)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE findings (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  device_id INTEGER REFERENCES devices(id) ON DELETE CASCADE,\n"
	"  sensor TEXT,\n"
	"  check_id TEXT NOT NULL,\n"
	"  code TEXT NOT NULL,\n"
	"  severity TEXT NOT NULL,\n"
	"  title TEXT NOT NULL,\n"
	"  metrics TEXT,\n"
	"  evidence TEXT,\n"
	"  first_seen INTEGER,\n"
	"  last_seen INTEGER,\n"
	"  UNIQUE (device_id, code, run_id)\n"
	");\n"
	"CREATE INDEX findings_run ON findings(run_id);\n"
	"CREATE TABLE device_checks (\n"
	"  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  check_id TEXT NOT NULL,\n"
	"  status TEXT NOT NULL,\n"
	"  detail TEXT,\n"
	"  PRIMARY KEY (device_id, run_id, check_id)\n"
	") WITHOUT ROWID;\n"
	/* iotdns_time(us): ISO-8601 UTC text with microseconds, for the views */
	"CREATE VIEW device_totals AS\n"
	"SELECT d.id AS device_id, d.key, d.mac, d.keyed_by_ip, d.vlan, d.hostname,\n"
	"  d.first_seen, d.last_seen,\n"
	"  strftime('%Y-%m-%dT%H:%M:%S', d.first_seen / 1000000, 'unixepoch')\n"
	"    || printf('.%06dZ', d.first_seen % 1000000) AS first_seen_iso,\n"
	"  strftime('%Y-%m-%dT%H:%M:%S', d.last_seen / 1000000, 'unixepoch')\n"
	"    || printf('.%06dZ', d.last_seen % 1000000) AS last_seen_iso,\n"
	"  count(r.run_id) AS runs,\n"
	"  coalesce(sum(r.queries), 0) AS queries,\n"
	"  coalesce(sum(r.tcp_queries), 0) AS tcp_queries,\n"
	"  coalesce(sum(r.mdns_queries), 0) AS mdns_queries,\n"
	"  coalesce(sum(r.llmnr_queries), 0) AS llmnr_queries,\n"
	"  coalesce(sum(r.responses), 0) AS responses,\n"
	"  coalesce(sum(r.unanswered), 0) AS unanswered,\n"
	"  coalesce(sum(r.retransmissions), 0) AS retransmissions,\n"
	"  coalesce(sum(r.responses_sent), 0) AS responses_sent,\n"
	"  coalesce(sum(r.responses_sent_bytes), 0) AS responses_sent_bytes,\n"
	"  coalesce(sum(r.requests_received), 0) AS requests_received,\n"
	"  coalesce(sum(r.requests_received_bytes), 0) AS requests_received_bytes,\n"
	"  coalesce(sum(r.sessions), 0) AS sessions\n"
	"FROM devices d LEFT JOIN device_runs r ON r.device_id = d.id\n"
	"GROUP BY d.id;\n"
	"CREATE VIEW device_resolver_totals AS\n"
	"SELECT dr.device_id, d.key, r.id AS resolver_id, r.address, r.public_resolver, r.operator,\n"
	"  r.asn, r.as_org, r.country,\n"
	"  count(dr.run_id) AS runs,\n"
	"  sum(dr.queries) AS queries, sum(dr.tcp_queries) AS tcp_queries,\n"
	"  sum(dr.responses) AS responses, sum(dr.unanswered) AS unanswered,\n"
	"  sum(dr.retransmissions) AS retransmissions,\n"
	"  sum(dr.flows_dot) AS flows_dot, sum(dr.flows_doq) AS flows_doq,\n"
	"  sum(dr.flows_doh) AS flows_doh,\n"
	"  min(dr.first_seen) AS first_seen, max(dr.last_seen) AS last_seen,\n"
	"  max(dr.provided_by <> 'none') AS provided\n"
	"FROM device_resolvers dr JOIN devices d ON d.id = dr.device_id\n"
	"  JOIN resolvers r ON r.id = dr.resolver_id\n"
	"GROUP BY dr.device_id, dr.resolver_id;\n"
	"CREATE VIEW run_summary AS\n"
	"SELECT id, status, sensor, tool_version,\n"
	"  strftime('%Y-%m-%dT%H:%M:%S', started / 1000000, 'unixepoch')\n"
	"    || printf('.%06dZ', started % 1000000) AS started_iso,\n"
	"  CASE WHEN finished IS NULL THEN NULL ELSE\n"
	"    strftime('%Y-%m-%dT%H:%M:%S', finished / 1000000, 'unixepoch')\n"
	"    || printf('.%06dZ', finished % 1000000) END AS finished_iso,\n"
	"  packets, bytes, dns_messages, dns_queries, dns_responses, malformed, ignored,\n"
	"  dhcp_messages, problems, evictions,\n"
	"  (SELECT count(*) FROM inputs i WHERE i.run_id = runs.id) AS inputs,\n"
	"  (SELECT count(*) FROM device_runs dr WHERE dr.run_id = runs.id) AS devices\n"
	"FROM runs;\n";

/* migrations[i] takes the schema from version i to version i + 1. */
static const char *const migrations[] = {
	schema_v1,
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == IOTDNS_SCHEMA_VERSION,
	       "one migration step per schema version");

/* ---- statements ---------------------------------------------------------- */

/* names is the bulk of a flush: its upsert also exists as one statement of
 * NAME_BATCH rows (NAME_BATCH * NAME_COLS parameters stay below SQLite's
 * historical limit of 999). */
#define NAME_COLS 16
#define NAME_INSERT                                                                            \
	"INSERT INTO names (device_id, run_id, name, queries, responses, qtypes, first_seen, "  \
	"last_seen, ttl_min, ttl_max, ttl_last, rcode_noerror, rcode_nxdomain, "               \
	"rcode_servfail, rcode_other, nodata) VALUES "
#define NAME_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define NAME_CONFLICT                                                                          \
	" ON CONFLICT (device_id, run_id, name) DO UPDATE SET queries = excluded.queries, "    \
	"responses = excluded.responses, qtypes = excluded.qtypes, "                           \
	"first_seen = excluded.first_seen, last_seen = excluded.last_seen, "                   \
	"ttl_min = excluded.ttl_min, ttl_max = excluded.ttl_max, "                             \
	"ttl_last = excluded.ttl_last, rcode_noerror = excluded.rcode_noerror, "               \
	"rcode_nxdomain = excluded.rcode_nxdomain, rcode_servfail = excluded.rcode_servfail, " \
	"rcode_other = excluded.rcode_other, nodata = excluded.nodata"
_Static_assert(NAME_BATCH * NAME_COLS < 999, "batch within SQLITE_MAX_VARIABLE_NUMBER");

static const char *const stmt_sql[ST_COUNT] = {
	[ST_INPUT_SEEN] =
		"SELECT run_id FROM inputs WHERE sha256 = ?1 AND status IN ('ok', 'truncated') "
		"ORDER BY run_id LIMIT 1",
	[ST_RUN_BEGIN] =
		"INSERT INTO runs (started, status, sensor, tool_version, command_line) "
		"VALUES (?1, 'running', ?2, ?3, ?4)",
	[ST_RUN_UPDATE] =
		"UPDATE runs SET packets = ?2, bytes = ?3, dns_messages = ?4, dns_queries = ?5, "
		"dns_responses = ?6, malformed = ?7, ignored = ?8, dhcp_messages = ?9, "
		"problems = ?10, evictions = ?11 WHERE id = ?1",
	[ST_RUN_END] = "UPDATE runs SET finished = ?2, status = ?3 WHERE id = ?1",
	[ST_INPUT_UPSERT] =
		"INSERT INTO inputs (run_id, path, sha256, size, linktype, packets, first_seen, "
		"last_seen, status, duplicate_of_run, error) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		"ON CONFLICT (run_id, path) DO UPDATE SET sha256 = excluded.sha256, "
		"size = excluded.size, linktype = excluded.linktype, packets = excluded.packets, "
		"first_seen = excluded.first_seen, last_seen = excluded.last_seen, "
		"status = excluded.status, duplicate_of_run = excluded.duplicate_of_run, "
		"error = excluded.error",
	/* first/last seen merge across runs (min/max, NULL = unknown), the
	 * latest non-empty host name wins */
	[ST_DEVICE_UPSERT] =
		"INSERT INTO devices (key, keyed_by_ip, mac, vlan, first_seen, last_seen, hostname, "
		"vendor, product, category, confidence, evidence, os_hint) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
		"ON CONFLICT (key) DO UPDATE SET "
		"vlan = coalesce(excluded.vlan, vlan), "
		"first_seen = min(coalesce(first_seen, excluded.first_seen), "
		"coalesce(excluded.first_seen, first_seen)), "
		"last_seen = max(coalesce(last_seen, excluded.last_seen), "
		"coalesce(excluded.last_seen, last_seen)), "
		"hostname = coalesce(excluded.hostname, hostname), "
		/* the latest classification replaces the stored one as a whole (category
		 * is set, at least to 'unknown', whenever the classifier ran) */
		"vendor = CASE WHEN excluded.category IS NULL THEN vendor ELSE excluded.vendor END, "
		"product = CASE WHEN excluded.category IS NULL THEN product ELSE excluded.product END, "
		"confidence = CASE WHEN excluded.category IS NULL THEN confidence ELSE excluded.confidence END, "
		"evidence = CASE WHEN excluded.category IS NULL THEN evidence ELSE excluded.evidence END, "
		"os_hint = CASE WHEN excluded.category IS NULL THEN os_hint ELSE excluded.os_hint END, "
		"category = coalesce(excluded.category, category)",
	[ST_DEVICE_ID] = "SELECT id FROM devices WHERE key = ?1",
	[ST_DEVICE_RUN_UPSERT] =
		"INSERT INTO device_runs (device_id, run_id, first_seen, last_seen, queries, "
		"tcp_queries, mdns_queries, llmnr_queries, responses, unanswered, retransmissions, "
		"responses_sent, responses_sent_bytes, requests_received_bytes, sessions, "
		"sessions_dropped, names, requests_received) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) "
		"ON CONFLICT (device_id, run_id) DO UPDATE SET first_seen = excluded.first_seen, "
		"last_seen = excluded.last_seen, queries = excluded.queries, "
		"tcp_queries = excluded.tcp_queries, mdns_queries = excluded.mdns_queries, "
		"llmnr_queries = excluded.llmnr_queries, responses = excluded.responses, "
		"unanswered = excluded.unanswered, retransmissions = excluded.retransmissions, "
		"responses_sent = excluded.responses_sent, "
		"responses_sent_bytes = excluded.responses_sent_bytes, "
		"requests_received_bytes = excluded.requests_received_bytes, "
		"sessions = excluded.sessions, sessions_dropped = excluded.sessions_dropped, "
		"names = excluded.names, requests_received = excluded.requests_received",
	[ST_ADDR_UPSERT] =
		"INSERT INTO device_addresses (device_id, run_id, address, first_seen, last_seen, "
		"packets) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT (device_id, run_id, address) DO UPDATE SET "
		"first_seen = excluded.first_seen, last_seen = excluded.last_seen, "
		"packets = excluded.packets",
	[ST_RESOLVER_INSERT] = "INSERT OR IGNORE INTO resolvers (address) VALUES (?1)",
	[ST_RESOLVER_ENRICH] =
		"UPDATE resolvers SET public_resolver = ?2, operator = ?3, dot_name = ?4, "
		"doh_url = ?5, asn = ?6, as_org = ?7, country = ?8 WHERE id = ?1",
	[ST_RESOLVER_ID] = "SELECT id FROM resolvers WHERE address = ?1",
	[ST_DEVRES_UPSERT] =
		"INSERT INTO device_resolvers (device_id, resolver_id, run_id, transports, "
		"transport_mask, queries, tcp_queries, responses, unanswered, retransmissions, "
		"flows_dot, flows_doq, flows_doh, first_seen, last_seen, provided_by) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
		"ON CONFLICT (device_id, resolver_id, run_id) DO UPDATE SET "
		"transports = excluded.transports, transport_mask = excluded.transport_mask, "
		"queries = excluded.queries, tcp_queries = excluded.tcp_queries, "
		"responses = excluded.responses, unanswered = excluded.unanswered, "
		"retransmissions = excluded.retransmissions, flows_dot = excluded.flows_dot, "
		"flows_doq = excluded.flows_doq, flows_doh = excluded.flows_doh, "
		"first_seen = excluded.first_seen, last_seen = excluded.last_seen, "
		"provided_by = excluded.provided_by",
	[ST_NAME_UPSERT] = NAME_INSERT NAME_ROW NAME_CONFLICT,
	[ST_SESSION_UPSERT] =
		"INSERT INTO sessions (device_id, run_id, idx, start_reason, started, ended, queries) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
		"ON CONFLICT (device_id, run_id, idx) DO UPDATE SET "
		"start_reason = excluded.start_reason, started = excluded.started, "
		"ended = excluded.ended, queries = excluded.queries",
	[ST_DHCP_UPSERT] =
		"INSERT INTO dhcp_observations (device_id, run_id, version, msg_type, hostname, "
		"vendor_class, prl, client_id, count, first_seen, last_seen, first_packet, input) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
		"ON CONFLICT (device_id, run_id, version, msg_type, hostname, vendor_class, prl, "
		"client_id) DO UPDATE SET count = excluded.count, first_seen = excluded.first_seen, "
		"last_seen = excluded.last_seen, first_packet = excluded.first_packet, "
		"input = excluded.input",
};

/* ---- errors -------------------------------------------------------------- */

int iotdns_store_fail(struct iotdns_store *s, int rc, const char *what, struct iotdns_err *err)
{
	const char *path = s && s->path ? s->path : "?";
	const char *detail = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	int sys = s && s->db ? sqlite3_system_errno(s->db) : 0;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return iotdns_err_set(err, IOTDNS_EBUSY,
				      "%s: database is locked by another process (%s; waited %d ms)",
				      path, what, STORE_BUSY_TIMEOUT_MS);
	case SQLITE_FULL:
		return iotdns_err_set(err, IOTDNS_ESTORE,
				      "%s: disk full: %s failed (%s); nothing of this flush was stored",
				      path, what, detail);
	case SQLITE_IOERR:
		if (sys == ENOSPC || sys == EFBIG || sys == EDQUOT)
			return iotdns_err_set(err, IOTDNS_ESTORE,
					      "%s: disk full: %s failed (%s)", path, what,
					      strerror(sys));
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: I/O error: %s failed (%s, code %d%s%s)",
				      path, what, detail, rc, sys ? ": " : "", sys ? strerror(sys) : "");
	case SQLITE_NOTADB:
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: file is not a SQLite database", path);
	case SQLITE_CORRUPT:
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: database file is corrupt (%s)", path,
				      detail);
	case SQLITE_READONLY:
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: database is read-only (%s)", path,
				      what);
	case SQLITE_CANTOPEN:
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: cannot open or create database%s%s",
				      path, sys ? ": " : "", sys ? strerror(sys) : "");
	default:
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: %s failed: %s", path, what, detail);
	}
}

const char *iotdns_input_status_name(enum iotdns_input_status st)
{
	switch (st) {
	case IOTDNS_INPUT_OK: return "ok";
	case IOTDNS_INPUT_TRUNCATED: return "truncated";
	case IOTDNS_INPUT_ERROR: return "error";
	case IOTDNS_INPUT_DUPLICATE: return "duplicate";
	case IOTDNS_INPUT_RUNNING: return "running";
	}
	return "unknown";
}

/* ---- small helpers --------------------------------------------------------- */

static int exec_sql(struct iotdns_store *s, const char *sql, const char *what,
		    struct iotdns_err *err)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? IOTDNS_OK : iotdns_store_fail(s, rc, what, err);
}

/* Runs a single-value query ("PRAGMA x"); *out = first column of the row. */
static int query_int(struct iotdns_store *s, const char *sql, int64_t *out, struct iotdns_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			*out = 0;
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? IOTDNS_OK : iotdns_store_fail(s, rc, sql, err);
}

static void rollback(struct iotdns_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	sqlite3_bind_int64(st, i, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

/* Times: 0 means unknown and is stored as NULL. */
static void bind_time(sqlite3_stmt *st, int i, uint64_t us)
{
	if (us)
		bind_u64(st, i, us);
	else
		sqlite3_bind_null(st, i);
}

/* Text, NULL for NULL; "" stays "" unless empty_null. */
static void bind_text(sqlite3_stmt *st, int i, const char *v, bool empty_null)
{
	if (!v || (empty_null && !*v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

/* Steps a write statement to completion and resets it. */
int iotdns_store_step(struct iotdns_store *s, sqlite3_stmt *st, const char *what, struct iotdns_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return IOTDNS_OK;
	return iotdns_store_fail(s, rc, what, err);
}

/* Steps a one-row query; *found tells whether a row came back. */
static int step_id(struct iotdns_store *s, sqlite3_stmt *st, int64_t *id, bool *found,
		   const char *what, struct iotdns_err *err)
{
	int rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return IOTDNS_OK;
	return iotdns_store_fail(s, rc, what, err);
}

static uint64_t now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* ---- open / migrations ------------------------------------------------------ */

/* Is the file ours (or empty)? Runs before anything is changed, so that
 * somebody else's database is left exactly as it was. *version = the
 * schema version found. */
static int check_identity(struct iotdns_store *s, int64_t *version, struct iotdns_err *err)
{
	int64_t app_id = 0, objects = 0;
	int rc;

	/* the first statement reads the header: not-a-database and a lock held
	 * by another process show up here */
	if ((rc = query_int(s, "PRAGMA user_version", version, err)) != IOTDNS_OK)
		return rc;
	if ((rc = query_int(s, "PRAGMA application_id", &app_id, err)) != IOTDNS_OK)
		return rc;
	if (*version > IOTDNS_SCHEMA_VERSION)
		return iotdns_err_set(err, IOTDNS_ESTORE,
				      "%s: database schema version %lld is newer than this iotdns "
				      "supports (%d); use a newer iotdns",
				      s->path, (long long)*version, IOTDNS_SCHEMA_VERSION);
	if (*version > 0 && app_id != STORE_APPLICATION_ID)
		return iotdns_err_set(err, IOTDNS_ESTORE,
				      "%s: not an iotdns database (application_id %lld)", s->path,
				      (long long)app_id);
	if (*version == 0) {
		rc = query_int(s, "SELECT count(*) FROM sqlite_master", &objects, err);
		if (rc != IOTDNS_OK)
			return rc;
		if (objects > 0)
			return iotdns_err_set(err, IOTDNS_ESTORE,
					      "%s: not an iotdns database (it already holds %lld "
					      "tables, indexes or views of its own)", s->path,
					      (long long)objects);
	}
	return IOTDNS_OK;
}

/* Applies migrations[version .. IOTDNS_SCHEMA_VERSION - 1], one transaction
 * per step. */
static int migrate(struct iotdns_store *s, int64_t version, struct iotdns_err *err)
{
	int rc;

	for (int64_t v = version; v < IOTDNS_SCHEMA_VERSION; v++) {
		char bump[96];
		if ((rc = exec_sql(s, "BEGIN IMMEDIATE", "starting the schema migration", err)))
			return rc;
		/* re-check under the write lock: another process may have migrated */
		int64_t cur = 0;
		if ((rc = query_int(s, "PRAGMA user_version", &cur, err)) != IOTDNS_OK) {
			rollback(s);
			return rc;
		}
		if (cur != v) {
			rollback(s);
			if (cur > IOTDNS_SCHEMA_VERSION || cur < v)
				return iotdns_err_set(err, IOTDNS_ESTORE,
						      "%s: schema version changed to %lld during "
						      "migration", s->path, (long long)cur);
			v = cur - 1;
			continue;
		}
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %lld; PRAGMA application_id = %d",
			 (long long)(v + 1), STORE_APPLICATION_ID);
		if ((rc = exec_sql(s, migrations[v], "creating the schema", err)) ||
		    (rc = exec_sql(s, bump, "setting the schema version", err)) ||
		    (rc = exec_sql(s, "COMMIT", "committing the schema migration", err))) {
			rollback(s);
			return rc;
		}
	}
	return IOTDNS_OK;
}

static void qtypes_str(unsigned bits, char *buf, size_t size);

int iotdns_store_open(struct iotdns_store **out, const char *path, struct iotdns_err *err)
{
	struct iotdns_store *s;
	struct stat sb;
	int64_t ignored, version = 0;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return iotdns_err_set(err, IOTDNS_ESTORE, "no database path given");
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: is a directory, not a database file",
				      path);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", path);
	}
	for (unsigned bits = 0; bits < STORE_QTYPE_COMBOS; bits++)
		qtypes_str(bits, s->qtypes_text[bits], sizeof(s->qtypes_text[bits]));
	/* No allocation statistics (a global mutex and counters around every
	 * allocation SQLite makes); only possible before SQLite initializes,
	 * afterwards the call fails harmlessly with SQLITE_MISUSE. */
	static bool configured;
	if (!configured) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		configured = true;
	}
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = iotdns_store_fail(s, rc, "opening", err);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	/* SQLite silently falls back to read-only when the file is not writable */
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		rc = iotdns_err_set(err, IOTDNS_ESTORE, "%s: database file is not writable", path);
		goto fail;
	}
	if ((rc = check_identity(s, &version, err)) ||
	    /* a new database: 16 KiB pages (fewer page splits and B-tree levels
	     * in a large flush; an existing file keeps its page size) */
	    (version == 0 && (rc = exec_sql(s, "PRAGMA page_size = 16384", "setting the page size", err))) ||
	    (rc = query_int(s, "PRAGMA journal_mode = WAL", &ignored, err)) ||
	    (rc = exec_sql(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF; "
			   "PRAGMA cache_size = -" STORE_CACHE_KIB,
			   "setting connection options", err)) ||
	    (rc = migrate(s, version, err)))
		goto fail;
	for (int i = 0; i < ST_COUNT; i++) {
		int prc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					     &s->st[i], NULL);
		if (prc != SQLITE_OK) {
			rc = iotdns_store_fail(s, prc, "preparing statements", err);
			goto fail;
		}
	}
	{
		static const char row_sep[] = ", " NAME_ROW;
		size_t len = sizeof(NAME_INSERT NAME_ROW NAME_CONFLICT) +
			     (NAME_BATCH - 1) * (sizeof(row_sep) - 1);
		char *sql = malloc(len), *p = sql;
		if (!sql) {
			rc = iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", path);
			goto fail;
		}
		p += sprintf(p, "%s", NAME_INSERT NAME_ROW);
		for (unsigned i = 1; i < NAME_BATCH; i++)
			p += sprintf(p, "%s", row_sep);
		sprintf(p, "%s", NAME_CONFLICT);
		int prc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
					     &s->name_batch, NULL);
		free(sql);
		if (prc != SQLITE_OK) {
			rc = iotdns_store_fail(s, prc, "preparing statements", err);
			goto fail;
		}
	}
	*out = s;
	return IOTDNS_OK;
fail:
	iotdns_store_close(s);
	return rc;
}

void iotdns_store_close(struct iotdns_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_finalize(s->name_batch);
	if (s->db)
		sqlite3_close_v2(s->db);
	free(s->seen);
	free(s->order);
	free(s->res);
	free(s->path);
	free(s);
}

/* ---- runs and inputs -------------------------------------------------------- */

int iotdns_store_input_seen(struct iotdns_store *s, const char *sha256, int64_t *run_id,
			    struct iotdns_err *err)
{
	sqlite3_stmt *st = s->st[ST_INPUT_SEEN];
	bool found;
	int64_t id = 0;
	int rc;

	if (!sha256 || !*sha256)
		return 0;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	rc = step_id(s, st, &id, &found, "looking up an input", err);
	if (rc != IOTDNS_OK)
		return rc;
	if (found && run_id)
		*run_id = id;
	return found ? 1 : 0;
}

int iotdns_store_run_begin(struct iotdns_store *s, const struct iotdns_run_info *ri, int64_t *run_id,
			   struct iotdns_err *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_BEGIN];
	int rc;

	bind_u64(st, 1, ri->started_us ? ri->started_us : now_us());
	bind_text(st, 2, ri->sensor, true);
	bind_text(st, 3, ri->tool_version, true);
	bind_text(st, 4, ri->command_line, true);
	rc = iotdns_store_step(s, st, "starting a run", err);
	if (rc != IOTDNS_OK)
		return rc;
	*run_id = sqlite3_last_insert_rowid(s->db);
	return IOTDNS_OK;
}

int iotdns_store_run_end(struct iotdns_store *s, int64_t run_id, const char *status,
			 struct iotdns_err *err)
{
	sqlite3_stmt *st = s->st[ST_RUN_END];
	int rc;

	if (!status || !*status)
		return iotdns_err_set(err, IOTDNS_EINVAL, "%s: run %lld: empty status", s->path,
				      (long long)run_id);
	sqlite3_bind_int64(st, 1, run_id);
	bind_u64(st, 2, now_us());
	sqlite3_bind_text(st, 3, status, -1, SQLITE_TRANSIENT);
	rc = iotdns_store_step(s, st, "finishing the run", err);
	if (rc != IOTDNS_OK)
		return rc;
	if (sqlite3_changes(s->db) != 1)
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: run %lld does not exist", s->path,
				      (long long)run_id);
	return IOTDNS_OK;
}

/* {"name":count,...} of every counter, in enum order. */
static void counters_json(char *buf, size_t size, const uint64_t *v, unsigned n,
			  const char *(*name)(unsigned))
{
	size_t len = 0;
	buf[len++] = '{';
	for (unsigned i = 0; i < n && len < size; i++) {
		int w = snprintf(buf + len, size - len, "%s\"%s\":%llu", i ? "," : "", name(i),
				 (unsigned long long)v[i]);
		if (w < 0 || (size_t)w >= size - len) {
			len = size; /* cannot happen with the sizes used; caught below */
			break;
		}
		len += (size_t)w;
	}
	if (len + 2 > size) { /* never emit broken JSON */
		snprintf(buf, size, "{}");
		return;
	}
	buf[len++] = '}';
	buf[len] = '\0';
}

static const char *problem_name_u(unsigned i) { return iotdns_problem_name((enum iotdns_problem)i); }
static const char *eviction_name_u(unsigned i) { return iotdns_eviction_name((enum iotdns_eviction)i); }

static int store_run_counters(struct iotdns_store *s, int64_t run_id, const struct iotdns_stats *st,
			      struct iotdns_err *err)
{
	sqlite3_stmt *q = s->st[ST_RUN_UPDATE];
	char problems[64 * IOTDNS_P_COUNT + 8], evictions[64 * IOTDNS_V_COUNT + 8];
	int rc;

	counters_json(problems, sizeof(problems), st->problems, IOTDNS_P_COUNT, problem_name_u);
	counters_json(evictions, sizeof(evictions), st->evictions, IOTDNS_V_COUNT, eviction_name_u);
	sqlite3_bind_int64(q, 1, run_id);
	bind_u64(q, 2, st->packets);
	bind_u64(q, 3, st->bytes);
	bind_u64(q, 4, st->dns_messages);
	bind_u64(q, 5, st->dns_queries);
	bind_u64(q, 6, st->dns_responses);
	bind_u64(q, 7, st->malformed);
	bind_u64(q, 8, st->ignored);
	bind_u64(q, 9, st->dhcp_messages);
	sqlite3_bind_text(q, 10, problems, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 11, evictions, -1, SQLITE_TRANSIENT);
	rc = iotdns_store_step(s, q, "storing the run counters", err);
	if (rc != IOTDNS_OK)
		return rc;
	if (sqlite3_changes(s->db) != 1)
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: run %lld does not exist", s->path,
				      (long long)run_id);
	return IOTDNS_OK;
}

static int store_input(struct iotdns_store *s, int64_t run_id, const struct iotdns_input_info *in,
		       struct iotdns_err *err)
{
	sqlite3_stmt *st = s->st[ST_INPUT_UPSERT];
	char path[sizeof(in->path)], error[sizeof(in->error)], sha[sizeof(in->sha256)];

	/* the fields are fixed arrays: never trust them to be terminated */
	snprintf(path, sizeof(path), "%.*s", (int)sizeof(in->path) - 1, in->path);
	snprintf(error, sizeof(error), "%.*s", (int)sizeof(in->error) - 1, in->error);
	snprintf(sha, sizeof(sha), "%.*s", (int)sizeof(in->sha256) - 1, in->sha256);
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	bind_text(st, 3, sha, true);
	bind_u64(st, 4, in->size);
	sqlite3_bind_int(st, 5, in->linktype);
	bind_u64(st, 6, in->packets);
	bind_time(st, 7, in->first_us);
	bind_time(st, 8, in->last_us);
	sqlite3_bind_text(st, 9, iotdns_input_status_name(in->status), -1, SQLITE_STATIC);
	if (in->status == IOTDNS_INPUT_DUPLICATE && in->duplicate_of_run > 0)
		sqlite3_bind_int64(st, 10, in->duplicate_of_run);
	else
		sqlite3_bind_null(st, 10);
	bind_text(st, 11, error, true);
	return iotdns_store_step(s, st, "storing an input", err);
}

/* ---- resolvers -------------------------------------------------------------- */

static void res_reset(struct iotdns_store *s)
{
	if (s->res)
		memset(s->res, 0, s->res_cap * sizeof(*s->res));
	s->res_n = 0;
}

static struct store_resolver_slot *res_slot(struct iotdns_store *s, const struct iotdns_addr *a)
{
	uint32_t mask = s->res_cap - 1;
	for (uint32_t i = (uint32_t)iotdns_addr_hash(a) & mask;; i = (i + 1) & mask) {
		struct store_resolver_slot *sl = &s->res[i];
		if (!sl->id || iotdns_addr_eq(&sl->addr, a))
			return sl;
	}
}

static int res_grow(struct iotdns_store *s)
{
	uint32_t ocap = s->res_cap, ncap = ocap ? ocap * 2 : 256;
	struct store_resolver_slot *old = s->res;
	struct store_resolver_slot *nr = calloc(ncap, sizeof(*nr));
	if (!nr)
		return IOTDNS_ENOMEM;
	s->res = nr;
	s->res_cap = ncap;
	for (uint32_t i = 0; i < ocap; i++)
		if (old[i].id)
			*res_slot(s, &old[i].addr) = old[i];
	free(old);
	return IOTDNS_OK;
}

/* resolvers.id for addr: created (and enriched through e) on first use in
 * this flush. Enrichment columns are only written when e is given, so a
 * flush without databases never erases what an earlier one found. */
static int resolver_id(struct iotdns_store *s, const struct iotdns_addr *addr,
		       struct iotdns_enrich *e, int64_t *id, struct iotdns_err *err)
{
	char text[IOTDNS_ADDR_TEXT];
	struct store_resolver_slot *sl;
	bool found;
	int rc;

	if ((s->res_n + 1) * 2 > s->res_cap && res_grow(s) != IOTDNS_OK)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", s->path);
	sl = res_slot(s, addr);
	if (sl->id) {
		*id = sl->id;
		return IOTDNS_OK;
	}
	iotdns_addr_str(addr, text);
	sqlite3_bind_text(s->st[ST_RESOLVER_INSERT], 1, text, -1, SQLITE_TRANSIENT);
	if ((rc = iotdns_store_step(s, s->st[ST_RESOLVER_INSERT], "storing a resolver", err)))
		return rc;
	sqlite3_bind_text(s->st[ST_RESOLVER_ID], 1, text, -1, SQLITE_TRANSIENT);
	if ((rc = step_id(s, s->st[ST_RESOLVER_ID], id, &found, "looking up a resolver", err)))
		return rc;
	if (!found)
		return iotdns_err_set(err, IOTDNS_ESTORE, "%s: resolver %s vanished", s->path, text);
	if (e) {
		struct iotdns_addr_info info;
		sqlite3_stmt *st = s->st[ST_RESOLVER_ENRICH];
		iotdns_enrich_lookup(e, addr, &info);
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int(st, 2, info.public_resolver);
		bind_text(st, 3, info.resolver_operator, true);
		bind_text(st, 4, info.dot_name, true);
		bind_text(st, 5, info.doh_url, true);
		if (info.asn)
			sqlite3_bind_int64(st, 6, info.asn);
		else
			sqlite3_bind_null(st, 6);
		bind_text(st, 7, info.as_org, true);
		bind_text(st, 8, info.country, true);
		if ((rc = iotdns_store_step(s, st, "storing resolver details", err)))
			return rc;
	}
	sl->addr = *addr;
	sl->id = *id;
	s->res_n++;
	return IOTDNS_OK;
}

static enum iotdns_provided_by provided_by(const struct iotdns_device *dev,
					   const struct iotdns_addr *a)
{
	unsigned n = IOTDNS_MIN(dev->n_offered, (unsigned)IOTDNS_DHCP_MAX_DNS);
	for (unsigned i = 0; i < n; i++)
		if (iotdns_addr_eq(&dev->offered[i], a))
			return (enum iotdns_provided_by)dev->offered_by[i];
	return IOTDNS_PROV_NONE;
}

static int store_dev_resolver(struct iotdns_store *s, int64_t dev_id, int64_t run_id,
			      const struct iotdns_device *dev, const struct iotdns_dev_resolver *r,
			      const struct iotdns_addr *addr, struct iotdns_enrich *e,
			      struct iotdns_err *err)
{
	sqlite3_stmt *st = s->st[ST_DEVRES_UPSERT];
	char transports[48];
	int64_t rid;
	int rc;

	if ((rc = resolver_id(s, addr, e, &rid, err)))
		return rc;
	transports[0] = '\0';
	if (r)
		iotdns_transport_mask_str(r->transports, transports);
	sqlite3_bind_int64(st, 1, dev_id);
	sqlite3_bind_int64(st, 2, rid);
	sqlite3_bind_int64(st, 3, run_id);
	sqlite3_bind_text(st, 4, transports, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, r ? (int)r->transports : 0);
	bind_u64(st, 6, r ? r->queries : 0);
	bind_u64(st, 7, r ? r->tcp_queries : 0);
	bind_u64(st, 8, r ? r->responses : 0);
	bind_u64(st, 9, r ? r->unanswered : 0);
	bind_u64(st, 10, r ? r->retransmissions : 0);
	bind_u64(st, 11, r ? r->flows_dot : 0);
	bind_u64(st, 12, r ? r->flows_doq : 0);
	bind_u64(st, 13, r ? r->flows_doh : 0);
	bind_time(st, 14, r ? r->first_us : 0);
	bind_time(st, 15, r ? r->last_us : 0);
	sqlite3_bind_text(st, 16, iotdns_provided_name(provided_by(dev, addr)), -1, SQLITE_STATIC);
	return iotdns_store_step(s, st, "storing a device's resolver", err);
}

/* ---- devices --------------------------------------------------------------- */

/* "A,AAAA,..." for enum iotdns_qtype_bit bits. */
static void qtypes_str(unsigned bits, char *buf, size_t size)
{
	static const char *const names[] = { "A", "AAAA", "HTTPS", "SVCB", "PTR",
					     "SRV", "TXT", "ANY", "OTHER" };
	_Static_assert(IOTDNS_ARRAY_LEN(names) == STORE_QTYPE_BITS, "one name per enum iotdns_qtype_bit");
	size_t len = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < IOTDNS_ARRAY_LEN(names); i++) {
		if (!(bits & (1u << i)))
			continue;
		size_t n = strlen(names[i]);
		if (len + n + 2 > size)
			break;
		if (len)
			buf[len++] = ',';
		memcpy(buf + len, names[i], n + 1);
		len += n;
	}
}

/* Binds one names row at parameters base + 1 .. base + NAME_COLS. The
 * texts are bound in place (SQLITE_STATIC): the record and the store's
 * qtypes table outlive the statement's next step. */
static void bind_name(const struct iotdns_store *s, sqlite3_stmt *st, int base, int64_t dev_id,
		      int64_t run_id, const struct iotdns_dev_name *n)
{
	sqlite3_bind_int64(st, base + 1, dev_id);
	sqlite3_bind_int64(st, base + 2, run_id);
	sqlite3_bind_text(st, base + 3, n->name ? n->name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, base + 4, n->queries);
	sqlite3_bind_int64(st, base + 5, n->responses);
	sqlite3_bind_text(st, base + 6, s->qtypes_text[n->qtypes & (STORE_QTYPE_COMBOS - 1)], -1, SQLITE_STATIC);
	bind_time(st, base + 7, n->first_us);
	bind_time(st, base + 8, n->last_us);
	if (n->has_ttl) {
		sqlite3_bind_int64(st, base + 9, n->ttl_min);
		sqlite3_bind_int64(st, base + 10, n->ttl_max);
		sqlite3_bind_int64(st, base + 11, n->ttl_last);
	} else {
		sqlite3_bind_null(st, base + 9);
		sqlite3_bind_null(st, base + 10);
		sqlite3_bind_null(st, base + 11);
	}
	sqlite3_bind_int64(st, base + 12, n->rcode_noerror);
	sqlite3_bind_int64(st, base + 13, n->rcode_nxdomain);
	sqlite3_bind_int64(st, base + 14, n->rcode_servfail);
	sqlite3_bind_int64(st, base + 15, n->rcode_other);
	sqlite3_bind_int64(st, base + 16, n->nodata);
}

/* ---- unchanged names ---------------------------------------------------- */

static void seen_clear(struct iotdns_store *s)
{
	if (s->seen)
		memset(s->seen, 0, s->seen_cap * sizeof(*s->seen));
	s->seen_n = 0;
}

static uint64_t mix64(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

/* Covers every column bind_name() writes, so an equal digest means an
 * identical row. */
static uint64_t name_digest(int64_t dev_id, int64_t run_id, const struct iotdns_dev_name *n)
{
	uint64_t h = 0x6e616d6573ull;
	h = mix64(h, (uint64_t)dev_id);
	h = mix64(h, (uint64_t)run_id);
	h = mix64(h, iotdns_hash_str(n->name ? n->name : ""));
	h = mix64(h, ((uint64_t)n->queries << 32) | n->responses);
	h = mix64(h, ((uint64_t)n->qtypes << 1) | n->has_ttl);
	h = mix64(h, n->first_us);
	h = mix64(h, n->last_us);
	h = mix64(h, ((uint64_t)n->ttl_min << 32) | n->ttl_max);
	h = mix64(h, ((uint64_t)n->ttl_last << 32) | n->nodata);
	h = mix64(h, ((uint64_t)n->rcode_noerror << 32) | n->rcode_nxdomain);
	h = mix64(h, ((uint64_t)n->rcode_servfail << 32) | n->rcode_other);
	return h;
}

static struct store_name_seen *seen_slot(struct iotdns_store *s, const void *rec)
{
	uint32_t mask = s->seen_cap - 1;
	uint64_t h = (uint64_t)(uintptr_t)rec * 0x9e3779b97f4a7c15ull;
	for (uint32_t i = (uint32_t)(h >> 32) & mask;; i = (i + 1) & mask)
		if (!s->seen[i].rec || s->seen[i].rec == rec)
			return &s->seen[i];
}

/* Room for want records at a load of at most 1/2; false when out of memory
 * (the caller then simply writes everything). */
static bool seen_reserve(struct iotdns_store *s, uint64_t want)
{
	uint64_t cap = s->seen_cap ? s->seen_cap : 1024;
	while (cap < 2 * want && cap < (1u << 31))
		cap *= 2;
	if (cap == s->seen_cap)
		return true;
	struct store_name_seen *old = s->seen, *nw = calloc(cap, sizeof(*nw));
	uint32_t ocap = s->seen_cap;
	if (!nw)
		return false;
	s->seen = nw;
	s->seen_cap = (uint32_t)cap;
	for (uint32_t i = 0; i < ocap; i++)
		if (old[i].rec)
			*seen_slot(s, old[i].rec) = old[i];
	free(old);
	return true;
}

/* True when the row for n was written unchanged by an earlier committed
 * flush; otherwise remembers its digest (forgotten again on rollback). */
static bool name_unchanged(struct iotdns_store *s, int64_t dev_id, int64_t run_id,
			   const struct iotdns_dev_name *n)
{
	if (!s->seen_active || !s->seen_cap)
		return false;
	uint64_t d = name_digest(dev_id, run_id, n);
	struct store_name_seen *sl = seen_slot(s, n);
	if (sl->rec == n && sl->digest == d)
		return true;
	if (!sl->rec) {
		if ((s->seen_n + 1) * 2 > s->seen_cap)
			return false; /* full (reserve failed): just write */
		s->seen_n++;
	}
	sl->rec = n;
	sl->digest = d;
	return false;
}

/* SQLite's BINARY collation is memcmp() of the UTF-8 bytes: strcmp()
 * orders the NUL-free presentation names the same way. */
static int name_order(const void *a, const void *b)
{
	const struct iotdns_dev_name *x = *(const struct iotdns_dev_name *const *)a;
	const struct iotdns_dev_name *y = *(const struct iotdns_dev_name *const *)b;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* names rows are written NAME_BATCH per statement, across devices: rows
 * wait in s->pend until a statement is full; the last few of a flush are
 * written one by one (pend_finish). */
static int pend_add(struct iotdns_store *s, int64_t dev_id, int64_t run_id,
		    const struct iotdns_dev_name *rec, struct iotdns_err *err)
{
	s->pend[s->npend].dev_id = dev_id;
	s->pend[s->npend].rec = rec;
	if (++s->npend < NAME_BATCH)
		return IOTDNS_OK;
	s->npend = 0;
	for (unsigned k = 0; k < NAME_BATCH; k++)
		bind_name(s, s->name_batch, (int)(k * NAME_COLS), s->pend[k].dev_id, run_id, s->pend[k].rec);
	/* every parameter was just bound: no need to clear them */
	int rc = sqlite3_step(s->name_batch);
	sqlite3_reset(s->name_batch);
	return rc == SQLITE_DONE ? IOTDNS_OK : iotdns_store_fail(s, rc, "storing names", err);
}

static int pend_finish(struct iotdns_store *s, int64_t run_id, struct iotdns_err *err)
{
	unsigned n = s->npend;
	int rc = IOTDNS_OK;

	s->npend = 0;
	for (unsigned k = 0; k < n && rc == IOTDNS_OK; k++) {
		bind_name(s, s->st[ST_NAME_UPSERT], 0, s->pend[k].dev_id, run_id, s->pend[k].rec);
		rc = iotdns_store_step(s, s->st[ST_NAME_UPSERT], "storing a name", err);
	}
	return rc;
}

/* The names of a device whose rows would change, in primary-key order.
 * In key order the rows of a new device append to the end of the table's
 * B-tree, and within one statement SQLite's cursor stays on the last page
 * instead of searching the tree for every row (docs/performance.md).
 * Without memory for the order the rows are written in table order, which
 * is only slower. */
static int store_names(struct iotdns_store *s, int64_t dev_id, int64_t run_id,
		       const struct iotdns_device *dev, struct iotdns_err *err)
{
	uint32_t n = 0;
	int rc;

	if (dev->cap_names > s->order_cap) {
		const struct iotdns_dev_name **o = realloc(s->order, dev->cap_names * sizeof(*o));
		if (o) {
			s->order = o;
			s->order_cap = dev->cap_names;
		}
	}
	bool sort = s->order_cap >= dev->cap_names;
	for (uint32_t i = 0; i < dev->cap_names; i++) {
		const struct iotdns_dev_name *rec = dev->names[i].rec;
		if (!rec || name_unchanged(s, dev_id, run_id, rec))
			continue;
		if (sort)
			s->order[n++] = rec;
		else if ((rc = pend_add(s, dev_id, run_id, rec, err)))
			return rc;
	}
	if (sort && n > 1) /* (a device without names has no order array at all) */
		qsort(s->order, n, sizeof(*s->order), name_order);
	for (uint32_t i = 0; i < n; i++)
		if ((rc = pend_add(s, dev_id, run_id, s->order[i], err)))
			return rc;
	return IOTDNS_OK;
}

static int store_dhcp(struct iotdns_store *s, int64_t dev_id, int64_t run_id,
		      const struct iotdns_dev_dhcp *d, struct iotdns_err *err)
{
	sqlite3_stmt *st = s->st[ST_DHCP_UPSERT];
	/* fixed arrays filled by the decoder: bound by their size, not by trust */
#define FIXED_TEXT(i, f) sqlite3_bind_text(st, i, f, (int)strnlen(f, sizeof(f)), SQLITE_TRANSIENT)
	sqlite3_bind_int64(st, 1, dev_id);
	sqlite3_bind_int64(st, 2, run_id);
	sqlite3_bind_int(st, 3, d->version);
	sqlite3_bind_int(st, 4, d->msg_type);
	FIXED_TEXT(5, d->hostname);
	FIXED_TEXT(6, d->vendor_class);
	FIXED_TEXT(7, d->prl);
	FIXED_TEXT(8, d->client_id);
#undef FIXED_TEXT
	sqlite3_bind_int64(st, 9, d->count);
	bind_time(st, 10, d->first_us);
	bind_time(st, 11, d->last_us);
	bind_u64(st, 12, d->pktno);
	sqlite3_bind_int64(st, 13, d->input);
	return iotdns_store_step(s, st, "storing a DHCP observation", err);
}

static int store_device(struct iotdns_store *s, int64_t run_id, struct iotdns_device *dev,
			struct iotdns_enrich *e, struct iotdns_err *err)
{
	sqlite3_stmt *st;
	char key[64], mac[IOTDNS_MAC_TEXT], text[IOTDNS_ADDR_TEXT];
	char hostname[sizeof(dev->hostname)];
	int64_t id = dev->db_id;
	uint32_t nsess;
	bool found;
	int rc;

	iotdns_dev_key(dev, key);
	snprintf(hostname, sizeof(hostname), "%.*s", (int)sizeof(dev->hostname) - 1, dev->hostname);

	st = s->st[ST_DEVICE_UPSERT];
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, dev->keyed_by_ip);
	if (dev->keyed_by_ip)
		sqlite3_bind_null(st, 3);
	else
		sqlite3_bind_text(st, 3, iotdns_mac_str(dev->mac, mac), -1, SQLITE_TRANSIENT);
	if (dev->vlan)
		sqlite3_bind_int(st, 4, dev->vlan);
	else
		sqlite3_bind_null(st, 4);
	bind_time(st, 5, dev->first_us);
	bind_time(st, 6, dev->last_us);
	bind_text(st, 7, hostname, true);
	/* classification: NULL until the fingerprint check classified the device */
	bind_text(st, 8, dev->category ? dev->vendor : NULL, false);
	bind_text(st, 9, dev->category ? dev->product : NULL, false);
	bind_text(st, 10, dev->category, false);
	if (dev->category)
		sqlite3_bind_double(st, 11, dev->confidence);
	else
		sqlite3_bind_null(st, 11);
	bind_text(st, 12, dev->category ? dev->fp_evidence : NULL, false);
	bind_text(st, 13, dev->category ? dev->os_hint : NULL, false);
	if ((rc = iotdns_store_step(s, st, "storing a device", err)))
		return rc;
	if (!id) {
		sqlite3_bind_text(s->st[ST_DEVICE_ID], 1, key, -1, SQLITE_TRANSIENT);
		if ((rc = step_id(s, s->st[ST_DEVICE_ID], &id, &found, "looking up a device", err)))
			return rc;
		if (!found)
			return iotdns_err_set(err, IOTDNS_ESTORE, "%s: device %s vanished", s->path, key);
		dev->db_id = id;
	}

	nsess = dev->nsessions;
	st = s->st[ST_DEVICE_RUN_UPSERT];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, run_id);
	bind_time(st, 3, dev->first_us);
	bind_time(st, 4, dev->last_us);
	bind_u64(st, 5, dev->queries);
	bind_u64(st, 6, dev->tcp_queries);
	bind_u64(st, 7, dev->mdns_queries);
	bind_u64(st, 8, dev->llmnr_queries);
	bind_u64(st, 9, dev->responses);
	bind_u64(st, 10, dev->unanswered);
	bind_u64(st, 11, dev->retransmissions);
	bind_u64(st, 12, dev->responses_sent);
	bind_u64(st, 13, dev->responses_sent_bytes);
	bind_u64(st, 14, dev->requests_received_bytes);
	/* sessions of the run: the history kept plus the ones dropped from it */
	bind_u64(st, 15, (uint64_t)nsess + dev->sessions_dropped);
	bind_u64(st, 16, dev->sessions_dropped);
	sqlite3_bind_int64(st, 17, dev->nnames);
	bind_u64(st, 18, dev->requests_received);
	if ((rc = iotdns_store_step(s, st, "storing a device's run counters", err)))
		return rc;

	st = s->st[ST_ADDR_UPSERT];
	for (uint32_t i = 0; i < dev->naddrs; i++) {
		const struct iotdns_dev_addr *a = &dev->addrs[i];
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, run_id);
		sqlite3_bind_text(st, 3, iotdns_addr_str(&a->addr, text), -1, SQLITE_TRANSIENT);
		bind_time(st, 4, a->first_us);
		bind_time(st, 5, a->last_us);
		bind_u64(st, 6, a->packets);
		if ((rc = iotdns_store_step(s, st, "storing a device address", err)))
			return rc;
	}

	for (uint32_t i = 0; i < dev->nresolvers; i++)
		if ((rc = store_dev_resolver(s, id, run_id, dev, &dev->resolvers[i],
					     &dev->resolvers[i].addr, e, err)))
			return rc;
	/* resolvers the network offered that the device did not (yet) use:
	 * stored with zero counts, so "provided but unused" can be seen */
	for (unsigned i = 0; i < IOTDNS_MIN(dev->n_offered, (unsigned)IOTDNS_DHCP_MAX_DNS); i++) {
		bool used = false;
		for (uint32_t j = 0; j < dev->nresolvers && !used; j++)
			used = iotdns_addr_eq(&dev->resolvers[j].addr, &dev->offered[i]);
		for (unsigned j = 0; j < i && !used; j++)
			used = iotdns_addr_eq(&dev->offered[j], &dev->offered[i]);
		if (!used && dev->offered[i].family &&
		    (rc = store_dev_resolver(s, id, run_id, dev, NULL, &dev->offered[i], e, err)))
			return rc;
	}

	if ((rc = store_names(s, id, run_id, dev, err)))
		return rc;

	st = s->st[ST_SESSION_UPSERT];
	for (uint32_t i = 0; i < nsess; i++) {
		const struct iotdns_session *ss = &dev->sessions[i];
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, run_id);
		sqlite3_bind_int64(st, 3, ss->idx);
		sqlite3_bind_text(st, 4,
				  iotdns_session_start_name((enum iotdns_session_start)ss->start_reason),
				  -1, SQLITE_STATIC);
		bind_time(st, 5, ss->start_us);
		bind_time(st, 6, ss->end_us);
		sqlite3_bind_int64(st, 7, ss->queries);
		if ((rc = iotdns_store_step(s, st, "storing a session", err)))
			return rc;
	}

	for (uint32_t i = 0; i < IOTDNS_MIN(dev->ndhcp, (uint32_t)IOTDNS_DEV_MAX_DHCP); i++)
		if ((rc = store_dhcp(s, id, run_id, &dev->dhcp[i], err)))
			return rc;
	return IOTDNS_OK;
}

int iotdns_store_flush(struct iotdns_store *s, int64_t run_id, struct iotdns_devtab *t,
		       const struct iotdns_stats *st, const struct iotdns_input_info *inputs,
		       unsigned ninputs, struct iotdns_enrich *e, struct iotdns_err *err)
{
	uint32_t n = t ? iotdns_devtab_count(t) : 0;
	int rc;

	if ((rc = exec_sql(s, "BEGIN IMMEDIATE", "starting the flush", err)))
		return rc;
	res_reset(s);
	/* Unchanged names are only skipped for the same table in the same run,
	 * and digests are kept from the second flush of a run on: a run that
	 * flushes once (iotdns analyze) would only pay for them. */
	if (t != s->seen_tab || run_id != s->seen_run) {
		seen_clear(s);
		s->seen_tab = t;
		s->seen_run = run_id;
		s->seen_active = false;
	} else if (!s->seen_active) {
		s->seen_active = true;
	}
	if (s->seen_active) {
		uint64_t nnames = 0;
		for (uint32_t i = 0; i < n; i++) {
			struct iotdns_device *dev = iotdns_devtab_at(t, i);
			nnames += dev ? dev->nnames : 0;
		}
		if (!seen_reserve(s, nnames))
			seen_clear(s);
	}
	if (st)
		rc = store_run_counters(s, run_id, st, err);
	for (unsigned i = 0; rc == IOTDNS_OK && i < ninputs; i++)
		rc = store_input(s, run_id, &inputs[i], err);
	s->npend = 0;
	for (uint32_t i = 0; rc == IOTDNS_OK && i < n; i++) {
		struct iotdns_device *dev = iotdns_devtab_at(t, i);
		if (dev)
			rc = store_device(s, run_id, dev, e, err);
	}
	if (rc == IOTDNS_OK)
		rc = pend_finish(s, run_id, err);
	if (rc == IOTDNS_OK)
		rc = exec_sql(s, "COMMIT", "committing the flush", err);
	if (rc != IOTDNS_OK) {
		rollback(s);
		/* ids handed out inside the rolled-back transaction may not exist */
		for (uint32_t i = 0; i < n; i++) {
			struct iotdns_device *dev = iotdns_devtab_at(t, i);
			if (dev)
				dev->db_id = 0;
		}
		res_reset(s);
		seen_clear(s); /* the rows remembered were not written after all */
	}
	return rc;
}

int iotdns_store_input_size_seen(struct iotdns_store *s, uint64_t size, struct iotdns_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT 1 FROM inputs WHERE size = ?1 AND status IN ('ok', 'truncated') LIMIT 1",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return iotdns_store_fail(s, rc, "looking up inputs", err);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return iotdns_store_fail(s, rc, "looking up inputs", err);
}

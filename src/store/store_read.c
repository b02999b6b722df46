/* iotdns - the SQLite store, read side: `iotdns devices` (JSON lines or an
 * aligned text table). Totals are summed over every run in the database.
 * Fields of the JSON objects: docs/schema.md. Every string goes through
 * iotdns_json_str(), so names and host names from the wire (control bytes,
 * markup, invalid UTF-8) always come out as valid, HTML-safe JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iotdns/device.h"
#include "iotdns/json.h"
#include "store_internal.h"

/* Device totals, ordered by identity key (the view sums device_runs). */
static const char sql_devices[] =
	"SELECT t.device_id, t.key, t.mac, t.keyed_by_ip, t.vlan, t.first_seen, t.last_seen, "
	"t.hostname, t.runs, t.queries, t.tcp_queries, t.mdns_queries, t.llmnr_queries, "
	"t.responses, t.unanswered, t.retransmissions, t.responses_sent, t.sessions, "
	"d.vendor, d.product, d.category, d.confidence, "
	"CASE WHEN json_valid(d.evidence) THEN json(d.evidence) END, d.os_hint "
	"FROM device_totals t JOIN devices d ON d.id = t.device_id ORDER BY t.key";
enum { DV_ID, DV_KEY, DV_MAC, DV_BYIP, DV_VLAN, DV_FIRST, DV_LAST, DV_HOST, DV_RUNS, DV_Q,
       DV_TCPQ, DV_MDNS, DV_LLMNR, DV_RESP, DV_UNANS, DV_RETR, DV_RSENT, DV_SESS, DV_VENDOR,
       DV_PRODUCT, DV_CATEGORY, DV_CONF, DV_EVIDENCE, DV_OS_HINT };

static const char sql_ips[] =
	"SELECT address FROM device_addresses WHERE device_id = ?1 "
	"GROUP BY address ORDER BY min(first_seen), address";

/* Per resolver over all runs; the transport bits are OR-ed bit by bit and
 * provided_by is the latest run's answer other than "none". */
static const char sql_resolvers[] =
	"SELECT r.address, sum(dr.queries), sum(dr.tcp_queries), sum(dr.responses), "
	"sum(dr.unanswered), sum(dr.retransmissions), sum(dr.flows_dot), sum(dr.flows_doq), "
	"sum(dr.flows_doh), "
	"max(dr.transport_mask & 1) | max(dr.transport_mask & 2) | max(dr.transport_mask & 4) | "
	"max(dr.transport_mask & 8) | max(dr.transport_mask & 16), "
	"coalesce((SELECT x.provided_by FROM device_resolvers x WHERE x.device_id = dr.device_id "
	"AND x.resolver_id = dr.resolver_id AND x.provided_by <> 'none' "
	"ORDER BY x.run_id DESC LIMIT 1), 'none'), "
	"r.public_resolver, r.operator, r.asn, r.as_org, r.country, min(dr.first_seen), "
	"max(dr.last_seen) "
	"FROM device_resolvers dr JOIN resolvers r ON r.id = dr.resolver_id "
	"WHERE dr.device_id = ?1 GROUP BY dr.resolver_id ORDER BY sum(dr.queries) DESC, r.address";
enum { RS_ADDR, RS_Q, RS_TCPQ, RS_RESP, RS_UNANS, RS_RETR, RS_DOT, RS_DOQ, RS_DOH, RS_MASK,
       RS_PROV, RS_PUBLIC, RS_OPER, RS_ASN, RS_ASORG, RS_CC, RS_FIRST, RS_LAST };

static const char sql_names[] = "SELECT count(DISTINCT name) FROM names WHERE device_id = ?1";

static const char sql_top_names[] =
	"SELECT name, sum(queries) AS q FROM names WHERE device_id = ?1 "
	"GROUP BY name ORDER BY q DESC, name LIMIT 10";

/* the latest status of each check for the device */
static const char sql_checks[] =
	"SELECT check_id, status, detail FROM device_checks c WHERE device_id = ?1 AND run_id = "
	"(SELECT max(run_id) FROM device_checks WHERE device_id = ?1 AND check_id = c.check_id) ORDER BY check_id";
static const char sql_dhcp[] =
	"SELECT version, msg_type, hostname, vendor_class, prl, client_id, sum(count), "
	"min(first_seen), max(last_seen) FROM dhcp_observations WHERE device_id = ?1 "
	"GROUP BY version, msg_type, hostname, vendor_class, prl, client_id "
	"ORDER BY min(first_seen), version, msg_type";

/* ---- small output helpers ------------------------------------------------- */

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void json_time(FILE *f, sqlite3_stmt *st, int i)
{
	char buf[40];
	if (sqlite3_column_type(st, i) == SQLITE_NULL) {
		fputs("null", f);
		return;
	}
	iotdns_iso_time((uint64_t)sqlite3_column_int64(st, i), buf);
	iotdns_json_str(f, buf);
}

static void json_int_or_null(FILE *f, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		fputs("null", f);
	else
		fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i));
}

/* NULL and "" both become null. */
static void json_str_or_null(FILE *f, const char *s)
{
	iotdns_json_str(f, s && *s ? s : NULL);
}

struct read_stmts {
	sqlite3_stmt *devices, *ips, *resolvers, *names, *top_names, *dhcp, *checks;
};

static void read_stmts_free(struct read_stmts *r)
{
	sqlite3_finalize(r->devices);
	sqlite3_finalize(r->ips);
	sqlite3_finalize(r->resolvers);
	sqlite3_finalize(r->names);
	sqlite3_finalize(r->top_names);
	sqlite3_finalize(r->dhcp);
	sqlite3_finalize(r->checks);
}

static int read_stmts_prepare(struct iotdns_store *s, struct read_stmts *r, struct iotdns_err *err)
{
	int rc;
	memset(r, 0, sizeof(*r));
	if ((rc = sqlite3_prepare_v2(s->db, sql_devices, -1, &r->devices, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_ips, -1, &r->ips, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_resolvers, -1, &r->resolvers, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_names, -1, &r->names, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_top_names, -1, &r->top_names, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_dhcp, -1, &r->dhcp, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_checks, -1, &r->checks, NULL)) != SQLITE_OK) {
		read_stmts_free(r);
		return iotdns_store_fail(s, rc, "preparing the device listing", err);
	}
	return IOTDNS_OK;
}

/* Finishes a sub-query loop: SQLITE_DONE is fine, anything else an error. */
static int sub_done(struct iotdns_store *s, sqlite3_stmt *st, int rc, struct iotdns_err *err)
{
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return IOTDNS_OK;
	return iotdns_store_fail(s, rc, "reading devices", err);
}

/* ---- JSON lines ------------------------------------------------------------ */

static int json_device(struct iotdns_store *s, struct read_stmts *r, FILE *f,
		       struct iotdns_err *err)
{
	sqlite3_stmt *d = r->devices, *q;
	int64_t id = sqlite3_column_int64(d, DV_ID);
	int rc;
	bool first;

	fputs("{\"key\":", f);
	iotdns_json_str(f, col_text(d, DV_KEY));
	fputs(",\"mac\":", f);
	iotdns_json_str(f, col_text(d, DV_MAC)); /* NULL for IP-keyed devices */
	fprintf(f, ",\"keyed_by_ip\":%s", sqlite3_column_int(d, DV_BYIP) ? "true" : "false");

	fputs(",\"ips\":[", f);
	q = r->ips;
	sqlite3_bind_int64(q, 1, id);
	first = true;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (!first)
			fputc(',', f);
		first = false;
		iotdns_json_str(f, col_text(q, 0));
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;
	fputs("],\"vlan\":", f);
	json_int_or_null(f, d, DV_VLAN);
	fputs(",\"first_seen\":", f);
	json_time(f, d, DV_FIRST);
	fputs(",\"last_seen\":", f);
	json_time(f, d, DV_LAST);
	fprintf(f, ",\"runs\":%lld,\"queries\":%lld,\"tcp_queries\":%lld,\"mdns_queries\":%lld,"
		   "\"llmnr_queries\":%lld,\"responses\":%lld,\"unanswered\":%lld,"
		   "\"retransmissions\":%lld,\"responses_sent\":%lld,\"responder\":%s",
		(long long)sqlite3_column_int64(d, DV_RUNS), (long long)sqlite3_column_int64(d, DV_Q),
		(long long)sqlite3_column_int64(d, DV_TCPQ),
		(long long)sqlite3_column_int64(d, DV_MDNS),
		(long long)sqlite3_column_int64(d, DV_LLMNR),
		(long long)sqlite3_column_int64(d, DV_RESP),
		(long long)sqlite3_column_int64(d, DV_UNANS),
		(long long)sqlite3_column_int64(d, DV_RETR),
		(long long)sqlite3_column_int64(d, DV_RSENT),
		sqlite3_column_int64(d, DV_RSENT) > 0 ? "true" : "false");

	fputs(",\"resolvers\":[", f);
	q = r->resolvers;
	sqlite3_bind_int64(q, 1, id);
	first = true;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char transports[48];
		iotdns_transport_mask_str((unsigned)sqlite3_column_int(q, RS_MASK), transports);
		fputs(first ? "{\"address\":" : ",{\"address\":", f);
		first = false;
		iotdns_json_str(f, col_text(q, RS_ADDR));
		fprintf(f, ",\"queries\":%lld,\"tcp_queries\":%lld,\"responses\":%lld,"
			   "\"unanswered\":%lld,\"retransmissions\":%lld,\"flows_dot\":%lld,"
			   "\"flows_doq\":%lld,\"flows_doh\":%lld,\"transport\":",
			(long long)sqlite3_column_int64(q, RS_Q),
			(long long)sqlite3_column_int64(q, RS_TCPQ),
			(long long)sqlite3_column_int64(q, RS_RESP),
			(long long)sqlite3_column_int64(q, RS_UNANS),
			(long long)sqlite3_column_int64(q, RS_RETR),
			(long long)sqlite3_column_int64(q, RS_DOT),
			(long long)sqlite3_column_int64(q, RS_DOQ),
			(long long)sqlite3_column_int64(q, RS_DOH));
		iotdns_json_str(f, transports);
		fputs(",\"provided_by\":", f);
		iotdns_json_str(f, col_text(q, RS_PROV));
		fprintf(f, ",\"public_resolver\":%s,\"operator\":",
			sqlite3_column_int(q, RS_PUBLIC) ? "true" : "false");
		json_str_or_null(f, col_text(q, RS_OPER));
		fputs(",\"asn\":", f);
		json_int_or_null(f, q, RS_ASN);
		fputs(",\"as_org\":", f);
		json_str_or_null(f, col_text(q, RS_ASORG));
		fputs(",\"country\":", f);
		json_str_or_null(f, col_text(q, RS_CC));
		fputs(",\"first_seen\":", f);
		json_time(f, q, RS_FIRST);
		fputs(",\"last_seen\":", f);
		json_time(f, q, RS_LAST);
		fputc('}', f);
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;

	fprintf(f, "],\"sessions\":%lld", (long long)sqlite3_column_int64(d, DV_SESS));
	q = r->names;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	fprintf(f, ",\"names\":%lld", rc == SQLITE_ROW ? (long long)sqlite3_column_int64(q, 0) : 0LL);
	if ((rc = sub_done(s, q, rc == SQLITE_ROW ? SQLITE_DONE : rc, err)))
		return rc;
	fputs(",\"top_names\":[", f);
	q = r->top_names;
	sqlite3_bind_int64(q, 1, id);
	first = true;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		fputs(first ? "{\"name\":" : ",{\"name\":", f);
		first = false;
		iotdns_json_str(f, col_text(q, 0));
		fprintf(f, ",\"queries\":%lld}", (long long)sqlite3_column_int64(q, 1));
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;
	fputc(']', f);

	fputs(",\"hostname\":", f);
	json_str_or_null(f, col_text(d, DV_HOST));
	fputs(",\"dhcp\":[", f);
	q = r->dhcp;
	sqlite3_bind_int64(q, 1, id);
	first = true;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		fprintf(f, "%s{\"version\":%d,\"msg_type\":%d,\"hostname\":", first ? "" : ",",
			sqlite3_column_int(q, 0), sqlite3_column_int(q, 1));
		first = false;
		json_str_or_null(f, col_text(q, 2));
		fputs(",\"vendor_class\":", f);
		json_str_or_null(f, col_text(q, 3));
		fputs(",\"prl\":", f);
		json_str_or_null(f, col_text(q, 4));
		fputs(",\"client_id\":", f);
		json_str_or_null(f, col_text(q, 5));
		fprintf(f, ",\"count\":%lld,\"first_seen\":", (long long)sqlite3_column_int64(q, 6));
		json_time(f, q, 7);
		fputs(",\"last_seen\":", f);
		json_time(f, q, 8);
		fputc('}', f);
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;

	/* the latest status of every check, and its one-line detail */
	fputs("],\"checks\":{", f);
	q = r->checks;
	sqlite3_bind_int64(q, 1, id);
	first = true;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		fputs(first ? "" : ",", f);
		iotdns_json_str(f, col_text(q, 0));
		fputc(':', f);
		iotdns_json_str(f, col_text(q, 1));
		first = false;
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;
	fputs("},\"check_details\":{", f);
	first = true;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		fputs(first ? "" : ",", f);
		iotdns_json_str(f, col_text(q, 0));
		fputc(':', f);
		iotdns_json_str(f, col_text(q, 2));
		first = false;
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;
	fputs("},\"os_hint\":", f);
	iotdns_json_str(f, col_text(d, DV_OS_HINT));
	fputs(",\"vendor\":", f);
	iotdns_json_str(f, col_text(d, DV_VENDOR));
	fputs(",\"product\":", f);
	iotdns_json_str(f, col_text(d, DV_PRODUCT));
	fputs(",\"category\":", f);
	iotdns_json_str(f, col_text(d, DV_CATEGORY));
	fputs(",\"confidence\":", f);
	if (sqlite3_column_type(d, DV_CONF) == SQLITE_NULL)
		fputs("null", f);
	else
		fprintf(f, "%.3f", sqlite3_column_double(d, DV_CONF));
	/* evidence: the classifier's JSON document, re-serialised by SQLite's
	 * json() (so it is valid; NULL when it was not JSON); '<', '>', '&' and
	 * '\'' can only occur inside its strings and are escaped for HTML */
	fputs(",\"evidence\":", f);
	const char *ev = col_text(d, DV_EVIDENCE);
	if (!ev)
		fputs("null", f);
	for (; ev && *ev; ev++) {
		if (*ev == '<' || *ev == '>' || *ev == '&' || *ev == '\'')
			fprintf(f, "\\u%04x", (unsigned char)*ev);
		else
			fputc(*ev, f);
	}
	fputs("}\n", f);
	return IOTDNS_OK;
}

int iotdns_store_devices_json(struct iotdns_store *s, FILE *out, struct iotdns_err *err)
{
	struct read_stmts r;
	int rc, src;

	if ((rc = read_stmts_prepare(s, &r, err)))
		return rc;
	while ((src = sqlite3_step(r.devices)) == SQLITE_ROW) {
		if ((rc = json_device(s, &r, out, err)))
			break;
	}
	if (rc == IOTDNS_OK && src != SQLITE_DONE)
		rc = iotdns_store_fail(s, src, "reading devices", err);
	read_stmts_free(&r);
	if (rc == IOTDNS_OK && (fflush(out) != 0 || ferror(out)))
		rc = iotdns_err_set(err, IOTDNS_EIO, "error writing the device list");
	return rc;
}

/* ---- text table ------------------------------------------------------------- */

/* A growing string; on allocation failure it stays short (never overflows). */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Terminal-safe: printable ASCII as is, every other byte as \xHH. */
static void sb_puts_safe(struct sbuf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			sb_putn(b, (const char *)&c, 1);
		} else {
			char hex[8];
			snprintf(hex, sizeof(hex), "\\x%02x", c);
			sb_putn(b, hex, 4);
		}
	}
}

enum { TC_KEY, TC_IPS, TC_QUERIES, TC_CLASS, TC_FAILED, TC_RESOLVERS, TC_HOST, TC_COUNT };

struct text_row {
	struct sbuf c[TC_COUNT];
};

static int text_device(struct iotdns_store *s, struct read_stmts *r, struct text_row *row,
		       struct iotdns_err *err)
{
	sqlite3_stmt *d = r->devices, *q;
	char num[32];
	int rc, n = 0;

	sb_puts_safe(&row->c[TC_KEY], col_text(d, DV_KEY));
	q = r->ips;
	sqlite3_bind_int64(q, 1, sqlite3_column_int64(d, DV_ID));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n < 3) {
			if (n)
				sb_putn(&row->c[TC_IPS], ",", 1);
			sb_puts_safe(&row->c[TC_IPS], col_text(q, 0));
		}
		n++;
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;
	if (n > 3) {
		snprintf(num, sizeof(num), ",+%d", n - 3);
		sb_putn(&row->c[TC_IPS], num, strlen(num));
	} else if (n == 0) {
		sb_putn(&row->c[TC_IPS], "-", 1);
	}
	snprintf(num, sizeof(num), "%lld", (long long)sqlite3_column_int64(d, DV_Q));
	sb_putn(&row->c[TC_QUERIES], num, strlen(num));

	/* classification: "category/vendor", with "?" when tentative (below the
	 * fingerprint check's default identification threshold), "-" when unknown */
	const char *cat = col_text(d, DV_CATEGORY), *ven = col_text(d, DV_VENDOR);
	if (ven && *ven) {
		sb_puts_safe(&row->c[TC_CLASS], cat && *cat ? cat : "unknown");
		sb_putn(&row->c[TC_CLASS], "/", 1);
		sb_puts_safe(&row->c[TC_CLASS], ven);
		if (sqlite3_column_double(d, DV_CONF) < 0.7)
			sb_putn(&row->c[TC_CLASS], "?", 1);
	} else {
		sb_putn(&row->c[TC_CLASS], "-", 1);
	}
	/* the checks that failed (latest status of each), "-" for none */
	q = r->checks;
	sqlite3_bind_int64(q, 1, sqlite3_column_int64(d, DV_ID));
	n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *st = col_text(q, 1);
		if (!st || strcmp(st, "fail") != 0)
			continue;
		if (n++)
			sb_putn(&row->c[TC_FAILED], ",", 1);
		sb_puts_safe(&row->c[TC_FAILED], col_text(q, 0));
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;
	if (!n)
		sb_putn(&row->c[TC_FAILED], "-", 1);

	q = r->resolvers;
	sqlite3_bind_int64(q, 1, sqlite3_column_int64(d, DV_ID));
	n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char transports[48];
		iotdns_transport_mask_str((unsigned)sqlite3_column_int(q, RS_MASK), transports);
		if (n)
			sb_putn(&row->c[TC_RESOLVERS], " ", 1);
		sb_puts_safe(&row->c[TC_RESOLVERS], col_text(q, RS_ADDR));
		sb_putn(&row->c[TC_RESOLVERS], "(", 1);
		sb_puts_safe(&row->c[TC_RESOLVERS], transports[0] ? transports : "unused");
		const char *prov = col_text(q, RS_PROV);
		if (prov && strcmp(prov, "none") != 0) {
			sb_putn(&row->c[TC_RESOLVERS], ",", 1);
			sb_puts_safe(&row->c[TC_RESOLVERS], prov);
		}
		const char *oper = col_text(q, RS_OPER);
		if (oper && *oper) {
			sb_putn(&row->c[TC_RESOLVERS], ",", 1);
			sb_puts_safe(&row->c[TC_RESOLVERS], oper);
		}
		sb_putn(&row->c[TC_RESOLVERS], ")", 1);
		n++;
	}
	if ((rc = sub_done(s, q, rc, err)))
		return rc;
	if (!n)
		sb_putn(&row->c[TC_RESOLVERS], "-", 1);
	const char *host = col_text(d, DV_HOST);
	if (host && *host)
		sb_puts_safe(&row->c[TC_HOST], host);
	else
		sb_putn(&row->c[TC_HOST], "-", 1);
	for (int i = 0; i < TC_COUNT; i++)
		if (row->c[i].oom)
			return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory listing devices");
	return IOTDNS_OK;
}

static void text_rows_free(struct text_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < TC_COUNT; c++)
			free(rows[i].c[c].p);
	free(rows);
}

int iotdns_store_devices_text(struct iotdns_store *s, FILE *out, struct iotdns_err *err)
{
	static const char *const head[TC_COUNT] = { "DEVICE", "IPS", "QUERIES", "CLASS", "FAILED CHECKS",
						    "RESOLVERS", "HOSTNAME" };
	struct read_stmts r;
	struct text_row *rows = NULL;
	size_t nrows = 0, cap = 0, width[TC_COUNT];
	int rc, src;

	if ((rc = read_stmts_prepare(s, &r, err)))
		return rc;
	while ((src = sqlite3_step(r.devices)) == SQLITE_ROW) {
		if (nrows == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct text_row *nr = realloc(rows, ncap * sizeof(*nr));
			if (!nr) {
				rc = iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory listing devices");
				break;
			}
			rows = nr;
			cap = ncap;
		}
		memset(&rows[nrows], 0, sizeof(rows[nrows]));
		nrows++;
		if ((rc = text_device(s, &r, &rows[nrows - 1], err)))
			break;
	}
	if (rc == IOTDNS_OK && src != SQLITE_DONE)
		rc = iotdns_store_fail(s, src, "reading devices", err);
	read_stmts_free(&r);
	if (rc != IOTDNS_OK) {
		text_rows_free(rows, nrows);
		return rc;
	}

	for (int c = 0; c < TC_COUNT; c++) {
		width[c] = strlen(head[c]);
		for (size_t i = 0; i < nrows; i++)
			width[c] = IOTDNS_MAX(width[c], rows[i].c[c].len);
	}
	/* QUERIES is right-aligned, the last column is not padded */
	fprintf(out, "%-*s  %-*s  %*s  %-*s  %-*s  %-*s  %s\n", (int)width[0], head[0], (int)width[1], head[1],
		(int)width[2], head[2], (int)width[3], head[3], (int)width[4], head[4], (int)width[5], head[5],
		head[6]);
	for (size_t i = 0; i < nrows; i++) {
		struct text_row *row = &rows[i];
#define CELL(k) (row->c[k].p ? row->c[k].p : "")
		fprintf(out, "%-*s  %-*s  %*s  %-*s  %-*s  %-*s  %s\n", (int)width[0], CELL(0), (int)width[1],
			CELL(1), (int)width[2], CELL(2), (int)width[3], CELL(3), (int)width[4], CELL(4),
			(int)width[5], CELL(5), CELL(6));
#undef CELL
	}
	fprintf(out, "%zu device%s\n", nrows, nrows == 1 ? "" : "s");
	text_rows_free(rows, nrows);
	if (fflush(out) != 0 || ferror(out))
		return iotdns_err_set(err, IOTDNS_EIO, "error writing the device list");
	return IOTDNS_OK;
}

/* Unit tests: src/store/store.c and store_read.c. Rows are checked through a
 * second, independent SQLite connection. */
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "iotdns/device.h"
#include "iotdns/enrich.h"
#include "iotdns/store.h"

static char tmpdir[PATH_MAX];


/* ---- helpers ------------------------------------------------------------- */

static void path_in_tmp(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static sqlite3 *peer_open(const char *path)
{
	sqlite3 *db = NULL;
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		printf("# peer open %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* First column of the first row as an integer; -1 on error, -2 when no row. */
static long long q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -2;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# SQL error: %s: %s\n", sql, sqlite3_errmsg(db));
		return -1;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -3 : sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		v = -1;
	sqlite3_finalize(st);
	return v;
}

/* First column of the first row as text into buf ("" when none). */
static const char *q_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *st;
	buf[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		printf("# SQL error: %s: %s\n", sql, sqlite3_errmsg(db));
		return buf;
	}
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

static int peer_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		printf("# peer exec '%s': %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	return rc;
}

static struct iotdns_addr A(const char *text)
{
	struct iotdns_addr a;
	memset(&a, 0, sizeof(a));
	iotdns_addr_parse(text, &a);
	return a;
}

static struct iotdns_devtab *new_table(struct iotdns_stats *st)
{
	struct iotdns_limits lim;
	struct iotdns_devtab *t = NULL;
	iotdns_limits_default(&lim);
	if (iotdns_devtab_new(&t, &lim, st) != IOTDNS_OK)
		return NULL;
	return t;
}

static const uint8_t MAC1[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t MAC2[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x66 };
#define T0 1714557600000000ull /* 2024-05-01T10:00:00Z */

/* A new store `name` in the temporary folder with a run begun at T0, and an
 * empty device table counting into *st. NULL when the store cannot open. */
static struct iotdns_store *fresh_store(const char *name, char *path, size_t size, int64_t *run,
					 struct iotdns_stats *st, struct iotdns_devtab **t)
{
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	path_in_tmp(path, size, name);
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_OK);
	if (!s)
		return NULL;
	struct iotdns_run_info ri = { NULL, NULL, NULL, T0 };
	CHECK_EQ_INT(iotdns_store_run_begin(s, &ri, run, &err), IOTDNS_OK);
	memset(st, 0, sizeof(*st));
	*t = new_table(st);
	return s;
}

/* A MAC-keyed device with everything the store writes. scale multiplies
 * the counters so that successive flushes carry different values. */
static struct iotdns_device *fill_device(struct iotdns_devtab *t, const uint8_t mac[6],
					 uint64_t scale, uint64_t t0, const char *hostname)
{
	struct iotdns_device *d = iotdns_devtab_by_mac(t, mac, true);
	if (!d)
		return NULL;
	d->first_us = t0 + 123456;
	d->last_us = t0 + 60000000;
	d->queries = 10 * scale;
	d->tcp_queries = 1 * scale;
	d->mdns_queries = 2 * scale;
	d->llmnr_queries = 3 * scale;
	d->responses = 9 * scale;
	d->unanswered = 1 * scale;
	d->retransmissions = 1 * scale;
	d->requests_received = 2 * scale;
	d->vlan = 7;
	struct iotdns_addr ip = A("192.168.1.50"), ip6 = A("fe80::1");
	iotdns_dev_note_addr(t, d, &ip, t0 + 123456);
	iotdns_dev_note_addr(t, d, &ip6, t0 + 2000000);

	struct iotdns_addr gw = A("192.168.1.1"), g = A("8.8.8.8"), unused = A("192.168.1.2");
	struct iotdns_dev_resolver *r = iotdns_dev_resolver(t, d, &gw, true);
	r->transports = IOTDNS_TR_UDP | IOTDNS_TR_TCP;
	r->queries = 6 * scale;
	r->tcp_queries = 1 * scale;
	r->responses = 6 * scale;
	r->first_us = t0 + 123456;
	r->last_us = t0 + 50000000;
	r = iotdns_dev_resolver(t, d, &g, true);
	r->transports = IOTDNS_TR_UDP;
	r->queries = 4 * scale;
	r->responses = 3 * scale;
	r->unanswered = 1 * scale;
	r->retransmissions = 1 * scale;
	r->first_us = t0 + 1000000;
	r->last_us = t0 + 60000000;
	d->n_offered = 2;
	d->offered[0] = gw;
	d->offered_by[0] = IOTDNS_PROV_DHCP;
	d->offered[1] = unused;
	d->offered_by[1] = IOTDNS_PROV_DHCP;

	struct iotdns_dev_name *n = iotdns_dev_name(t, d, "time.example.com", true);
	n->queries = (uint32_t)(5 * scale);
	n->responses = (uint32_t)(5 * scale);
	n->qtypes = IOTDNS_QB_A | IOTDNS_QB_AAAA;
	n->first_us = t0 + 123456;
	n->last_us = t0 + 59000000;
	n->has_ttl = true;
	n->ttl_min = 30;
	n->ttl_max = 300;
	n->ttl_last = 60;
	n->rcode_noerror = (uint32_t)(5 * scale);
	n = iotdns_dev_name(t, d, "cloud.vendor.example", true);
	n->queries = (uint32_t)(3 * scale);
	n->qtypes = IOTDNS_QB_HTTPS;
	n->rcode_nxdomain = 1;

	iotdns_dev_session_start(t, d, IOTDNS_SESS_FIRST, t0 + 123456);
	iotdns_dev_session(d)->queries = (uint32_t)(4 * scale);
	iotdns_dev_session(d)->end_us = t0 + 10000000;
	iotdns_dev_session_start(t, d, IOTDNS_SESS_DHCP, t0 + 30000000);
	iotdns_dev_session(d)->queries = (uint32_t)(6 * scale);
	iotdns_dev_session(d)->end_us = t0 + 60000000;

	struct iotdns_dev_dhcp obs;
	memset(&obs, 0, sizeof(obs));
	obs.version = 4;
	obs.msg_type = IOTDNS_DHCP_REQUEST;
	snprintf(obs.hostname, sizeof(obs.hostname), "%s", hostname ? hostname : "");
	snprintf(obs.vendor_class, sizeof(obs.vendor_class), "udhcp 1.30.1");
	snprintf(obs.prl, sizeof(obs.prl), "1,3,6,12,15,28,42");
	obs.first_us = obs.last_us = t0 + 30000000;
	obs.pktno = 17;
	iotdns_dev_note_dhcp(d, &obs);
	if (!hostname)
		d->hostname[0] = '\0';
	return d;
}

/* ---- a tiny JSON validator and string decoder ------------------------------ */

struct jp {
	const char *p;
	int depth;
};

static void jws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int utf8_seq(const unsigned char *s)
{
	unsigned c = s[0], n, cp, min;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; min = 0x80; }
	else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; min = 0x800; }
	else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; min = 0x10000; }
	else return 0;
	for (unsigned i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return (int)n;
}

static bool jstring(struct jp *j)
{
	if (*j->p != '"')
		return false;
	j->p++;
	for (;;) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false; /* includes NUL: unterminated */
		if (c == '\\') {
			j->p++;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", j->p[i]) || !j->p[i])
						return false;
				j->p += 5;
			} else if (*j->p && strchr("\"\\/bfnrt", *j->p)) {
				j->p++;
			} else {
				return false;
			}
			continue;
		}
		int n = utf8_seq((const unsigned char *)j->p);
		if (!n)
			return false;
		j->p += n;
	}
}

static bool jvalue(struct jp *j);

static bool jnumber(struct jp *j)
{
	const char *s = j->p;
	if (*j->p == '-')
		j->p++;
	if (*j->p < '0' || *j->p > '9')
		return false;
	while (*j->p >= '0' && *j->p <= '9')
		j->p++;
	if (*j->p == '.') {
		j->p++;
		if (*j->p < '0' || *j->p > '9')
			return false;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool jvalue(struct jp *j)
{
	bool ok;
	jws(j);
	if (++j->depth > 64)
		return false;
	switch (*j->p) {
	case '"':
		ok = jstring(j);
		break;
	case '{':
		j->p++;
		jws(j);
		ok = true;
		if (*j->p == '}') {
			j->p++;
			break;
		}
		for (;;) {
			jws(j);
			if (!jstring(j)) { ok = false; break; }
			jws(j);
			if (*j->p++ != ':') { ok = false; break; }
			if (!jvalue(j)) { ok = false; break; }
			jws(j);
			if (*j->p == ',') { j->p++; continue; }
			if (*j->p == '}') { j->p++; break; }
			ok = false;
			break;
		}
		break;
	case '[':
		j->p++;
		jws(j);
		ok = true;
		if (*j->p == ']') {
			j->p++;
			break;
		}
		for (;;) {
			if (!jvalue(j)) { ok = false; break; }
			jws(j);
			if (*j->p == ',') { j->p++; continue; }
			if (*j->p == ']') { j->p++; break; }
			ok = false;
			break;
		}
		break;
	case 't': ok = strncmp(j->p, "true", 4) == 0; j->p += ok ? 4 : 0; break;
	case 'f': ok = strncmp(j->p, "false", 5) == 0; j->p += ok ? 5 : 0; break;
	case 'n': ok = strncmp(j->p, "null", 4) == 0; j->p += ok ? 4 : 0; break;
	default: ok = jnumber(j);
	}
	j->depth--;
	return ok;
}

/* One JSON object per line, each valid. Returns the number of lines, -1 on
 * the first invalid one. */
static int json_lines_valid(const char *text)
{
	int n = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			return -1; /* every object ends with a newline */
		char *line = strndup(p, (size_t)(nl - p));
		struct jp j = { line, 0 };
		bool ok = line[0] == '{' && jvalue(&j);
		jws(&j);
		ok = ok && *j.p == '\0';
		if (!ok)
			printf("# invalid JSON line: %s\n", line);
		free(line);
		if (!ok)
			return -1;
		n++;
		p = nl + 1;
	}
	return n;
}

static void put_utf8(char **o, unsigned cp)
{
	unsigned char *u = (unsigned char *)*o;
	if (cp < 0x80) { *u++ = (unsigned char)cp; }
	else if (cp < 0x800) { *u++ = (unsigned char)(0xc0 | cp >> 6); *u++ = (unsigned char)(0x80 | (cp & 0x3f)); }
	else if (cp < 0x10000) { *u++ = (unsigned char)(0xe0 | cp >> 12); *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)); *u++ = (unsigned char)(0x80 | (cp & 0x3f)); }
	else { *u++ = (unsigned char)(0xf0 | cp >> 18); *u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)); *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)); *u++ = (unsigned char)(0x80 | (cp & 0x3f)); }
	*o = (char *)u;
}

/* Decodes the JSON string value that follows `"key":` in line into out
 * (UTF-8). Returns false when the key is absent or not followed by a string. */
static bool json_get_str(const char *line, const char *key, char *out, size_t size)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = strstr(line, pat);
	if (!p || size < 8)
		return false;
	p += strlen(pat);
	char *o = out, *end = out + size - 5;
	while (*p && *p != '"' && o < end) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; p++; break;
		case 't': *o++ = '\t'; p++; break;
		case 'r': *o++ = '\r'; p++; break;
		case 'b': *o++ = '\b'; p++; break;
		case 'f': *o++ = '\f'; p++; break;
		case 'u': {
			unsigned cp = (unsigned)strtoul((char[5]){ p[1], p[2], p[3], p[4], 0 }, NULL, 16);
			p += 5;
			if (cp >= 0xd800 && cp < 0xdc00 && p[0] == '\\' && p[1] == 'u') {
				unsigned lo = (unsigned)strtoul((char[5]){ p[2], p[3], p[4], p[5], 0 }, NULL, 16);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			put_utf8(&o, cp);
			break;
		}
		default: *o++ = *p++;
		}
	}
	*o = '\0';
	return *p == '"';
}

static char *devices_json(struct iotdns_store *s, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	struct iotdns_err err = { "" };
	FILE *f = open_memstream(&buf, &len);
	*rc = iotdns_store_devices_json(s, f, &err);
	fclose(f);
	if (*rc)
		printf("# devices_json: %s\n", err.msg);
	return buf;
}

static char *devices_text(struct iotdns_store *s, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	struct iotdns_err err = { "" };
	FILE *f = open_memstream(&buf, &len);
	*rc = iotdns_store_devices_text(s, f, &err);
	fclose(f);
	return buf;
}

/* ---- tests -------------------------------------------------------------------- */

/* The example queries of docs/schema.md. */
static const char sql_nonprovided[] =
	"SELECT d.key, r.address, r.operator, sum(dr.queries) AS queries "
	"FROM device_resolvers dr "
	"JOIN devices d ON d.id = dr.device_id "
	"JOIN resolvers r ON r.id = dr.resolver_id "
	"GROUP BY dr.device_id, dr.resolver_id "
	"HAVING sum(dr.queries) > 0 AND max(dr.provided_by <> 'none') = 0 "
	"ORDER BY queries DESC";

static void test_basic(struct iotdns_enrich *e)
{
	char path[PATH_MAX + 32], buf[512];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_stats st;
	struct iotdns_devtab *t;
	int64_t run1 = 0, run2 = 0, seen_run = 0;
	int rc;

	path_in_tmp(path, sizeof(path), "basic.db");
	rc = iotdns_store_open(&s, path, &err);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	if (rc) {
		printf("# %s\n", err.msg);
		return;
	}
	sqlite3 *peer = peer_open(path);
	CHECK_EQ_INT(q_int(peer, "PRAGMA user_version"), IOTDNS_SCHEMA_VERSION);
	CHECK_EQ_STR(q_text(peer, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
	CHECK(q_int(peer, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
			  "('runs','inputs','devices','device_addresses','resolvers','device_resolvers',"
			  "'device_runs','names','sessions','dhcp_observations','findings','device_checks')") == 12);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND "
				 "name = 'device_totals'"), 1);

	struct iotdns_run_info ri = { "sensor-a", "0.1.0-test", "iotdns analyze x.pcap", T0 };
	CHECK_EQ_INT(iotdns_store_run_begin(s, &ri, &run1, &err), IOTDNS_OK);
	CHECK(run1 > 0);
	CHECK_EQ_STR(q_text(peer, "SELECT status FROM runs", buf, sizeof(buf)), "running");

	memset(&st, 0, sizeof(st));
	st.packets = 1000;
	st.bytes = 123456;
	st.dns_queries = 40;
	st.problems[IOTDNS_P_DNS_MALFORMED] = 3;
	st.evictions[IOTDNS_V_NAMES] = 2;
	t = new_table(&st);
	struct iotdns_device *d1 = fill_device(t, MAC1, 1, T0, "thermostat");
	struct iotdns_addr kip = A("10.9.9.9");
	struct iotdns_device *d2 = iotdns_devtab_by_ip(t, &kip, true);
	d2->queries = 4;
	d2->first_us = T0 + 5;
	d2->last_us = T0 + 6;
	iotdns_dev_note_addr(t, d2, &kip, T0 + 5);
	CHECK(d1 && d2);

	struct iotdns_input_info in[2];
	memset(in, 0, sizeof(in));
	snprintf(in[0].path, sizeof(in[0].path), "/captures/a.pcap");
	snprintf(in[0].sha256, sizeof(in[0].sha256), "%064d", 1);
	in[0].size = 4096;
	in[0].linktype = 1;
	in[0].packets = 1000;
	in[0].first_us = T0;
	in[0].last_us = T0 + 60000000;
	in[0].status = IOTDNS_INPUT_OK;
	snprintf(in[1].path, sizeof(in[1].path), "/captures/broken.pcap");
	snprintf(in[1].sha256, sizeof(in[1].sha256), "%064d", 2);
	in[1].status = IOTDNS_INPUT_ERROR;
	snprintf(in[1].error, sizeof(in[1].error), "not a capture");

	CHECK_EQ_INT(iotdns_store_input_seen(s, in[0].sha256, &seen_run, &err), 0);
	rc = iotdns_store_flush(s, run1, t, &st, in, 2, e, &err);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	if (rc)
		printf("# %s\n", err.msg);

	/* rows */
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM devices"), 2);
	CHECK_EQ_STR(q_text(peer, "SELECT mac FROM devices WHERE key = '02:11:22:33:44:55'", buf,
			    sizeof(buf)), "02:11:22:33:44:55");
	CHECK_EQ_INT(q_int(peer, "SELECT mac FROM devices WHERE key = 'ip:10.9.9.9'"), -3); /* NULL */
	CHECK_EQ_INT(q_int(peer, "SELECT keyed_by_ip FROM devices WHERE key = 'ip:10.9.9.9'"), 1);
	CHECK_EQ_INT(q_int(peer, "SELECT vlan FROM devices WHERE key = '02:11:22:33:44:55'"), 7);
	CHECK_EQ_INT(q_int(peer, "SELECT first_seen FROM devices WHERE key = '02:11:22:33:44:55'"),
		     (long long)(T0 + 123456));
	CHECK_EQ_STR(q_text(peer, "SELECT hostname FROM devices WHERE key = '02:11:22:33:44:55'",
			    buf, sizeof(buf)), "thermostat");
	CHECK_EQ_INT(q_int(peer, "SELECT vendor IS NULL AND product IS NULL AND category IS NULL "
				 "AND confidence IS NULL AND evidence IS NULL FROM devices LIMIT 1"), 1);
	CHECK_EQ_INT(q_int(peer, "SELECT queries FROM device_runs dr JOIN devices d ON d.id = "
				 "dr.device_id WHERE d.key = '02:11:22:33:44:55'"), 10);
	CHECK_EQ_INT(q_int(peer, "SELECT sessions FROM device_runs dr JOIN devices d ON d.id = "
				 "dr.device_id WHERE d.key = '02:11:22:33:44:55'"), 2);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM device_addresses"), 3);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM names"), 2);
	CHECK_EQ_STR(q_text(peer, "SELECT qtypes FROM names WHERE name = 'time.example.com'", buf,
			    sizeof(buf)), "A,AAAA");
	CHECK_EQ_INT(q_int(peer, "SELECT ttl_max FROM names WHERE name = 'time.example.com'"), 300);
	CHECK_EQ_INT(q_int(peer, "SELECT ttl_min FROM names WHERE name = 'cloud.vendor.example'"), -3);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM sessions"), 2);
	CHECK_EQ_STR(q_text(peer, "SELECT start_reason FROM sessions WHERE idx = 1", buf,
			    sizeof(buf)), "dhcp");
	CHECK_EQ_STR(q_text(peer, "SELECT prl FROM dhcp_observations", buf, sizeof(buf)),
		     "1,3,6,12,15,28,42");
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM resolvers"), 3);
	CHECK_EQ_STR(q_text(peer, "SELECT transports FROM device_resolvers dr JOIN resolvers r ON "
				  "r.id = dr.resolver_id WHERE r.address = '192.168.1.1'", buf,
			    sizeof(buf)), "udp+tcp");
	CHECK_EQ_STR(q_text(peer, "SELECT provided_by FROM device_resolvers dr JOIN resolvers r ON "
				  "r.id = dr.resolver_id WHERE r.address = '192.168.1.1'", buf,
			    sizeof(buf)), "dhcp");
	CHECK_EQ_STR(q_text(peer, "SELECT provided_by FROM device_resolvers dr JOIN resolvers r ON "
				  "r.id = dr.resolver_id WHERE r.address = '8.8.8.8'", buf,
			    sizeof(buf)), "none");
	/* offered but unused: a row with zero queries */
	CHECK_EQ_INT(q_int(peer, "SELECT queries FROM device_resolvers dr JOIN resolvers r ON "
				 "r.id = dr.resolver_id WHERE r.address = '192.168.1.2' AND "
				 "provided_by = 'dhcp'"), 0);
	if (e) {
		CHECK_EQ_STR(q_text(peer, "SELECT operator FROM resolvers WHERE address = '8.8.8.8'",
				    buf, sizeof(buf)), "Google Public DNS");
		CHECK_EQ_INT(q_int(peer, "SELECT public_resolver FROM resolvers WHERE address = "
					 "'8.8.8.8'"), 1);
		CHECK_EQ_INT(q_int(peer, "SELECT public_resolver FROM resolvers WHERE address = "
					 "'192.168.1.1'"), 0);
	}
	CHECK_EQ_STR(q_text(peer, sql_nonprovided, buf, sizeof(buf)), "02:11:22:33:44:55");
	CHECK_EQ_INT(q_int(peer, "SELECT packets FROM runs"), 1000);
	CHECK_EQ_INT(q_int(peer, "SELECT json_extract(problems, '$.\"dns-malformed\"') FROM runs"), 3);
	CHECK_EQ_INT(q_int(peer, "SELECT json_extract(evictions, '$.names') FROM runs"), 2);
	CHECK_EQ_INT(q_int(peer, "SELECT json_extract(problems, '$.\"snaplen-cut\"') FROM runs"), 0);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM inputs"), 2);
	CHECK_EQ_STR(q_text(peer, "SELECT status FROM inputs WHERE path = '/captures/broken.pcap'",
			    buf, sizeof(buf)), "error");

	/* input_seen: stored SHA-256 with status ok; an errored input is not "seen" */
	CHECK_EQ_INT(iotdns_store_input_seen(s, in[0].sha256, &seen_run, &err), 1);
	CHECK_EQ_INT(seen_run, run1);
	CHECK_EQ_INT(iotdns_store_input_seen(s, in[1].sha256, &seen_run, &err), 0);
	CHECK_EQ_INT(iotdns_store_input_seen(s, "ffff", &seen_run, &err), 0);

	/* flushing again in the same run replaces: no double counting */
	CHECK_EQ_INT(iotdns_store_flush(s, run1, t, &st, in, 2, e, &err), IOTDNS_OK);
	CHECK_EQ_INT(q_int(peer, "SELECT queries FROM device_totals WHERE key = '02:11:22:33:44:55'"),
		     10);
	CHECK_EQ_INT(q_int(peer, "SELECT sum(queries) FROM names"), 8);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM device_runs"), 2);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM inputs"), 2);
	CHECK_EQ_INT(q_int(peer, "SELECT packets FROM runs"), 1000);
	/* ... with the newer absolute values */
	d1->queries = 25;
	iotdns_dev_name(t, d1, "time.example.com", false)->queries = 12;
	st.packets = 2500;
	CHECK_EQ_INT(iotdns_store_flush(s, run1, t, &st, in, 2, e, &err), IOTDNS_OK);
	CHECK_EQ_INT(q_int(peer, "SELECT queries FROM device_totals WHERE key = '02:11:22:33:44:55'"),
		     25);
	CHECK_EQ_INT(q_int(peer, "SELECT sum(queries) FROM names"), 15);
	CHECK_EQ_INT(q_int(peer, "SELECT packets FROM runs"), 2500);
	CHECK_EQ_INT(iotdns_store_run_end(s, run1, "ok", &err), IOTDNS_OK);
	CHECK_EQ_STR(q_text(peer, "SELECT status FROM runs WHERE finished IS NOT NULL", buf,
			    sizeof(buf)), "ok");
	iotdns_devtab_free(t, NULL, NULL);

	/* a second run accumulates in the totals; identity and time merge */
	ri.started_us = T0 + 3600000000ull;
	CHECK_EQ_INT(iotdns_store_run_begin(s, &ri, &run2, &err), IOTDNS_OK);
	CHECK(run2 > run1);
	memset(&st, 0, sizeof(st));
	t = new_table(&st);
	d1 = fill_device(t, MAC1, 2, T0 - 1000000000ull, NULL); /* earlier first_seen, no hostname */
	d1->last_us = T0 + 7200000000ull;
	fill_device(t, MAC2, 1, T0, "plug");
	CHECK_EQ_INT(iotdns_store_flush(s, run2, t, &st, NULL, 0, e, &err), IOTDNS_OK);
	CHECK_EQ_INT(iotdns_store_flush(s, run2, t, &st, NULL, 0, e, &err), IOTDNS_OK);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM devices"), 3);
	CHECK_EQ_INT(q_int(peer, "SELECT queries FROM device_totals WHERE key = '02:11:22:33:44:55'"),
		     25 + 20);
	CHECK_EQ_INT(q_int(peer, "SELECT runs FROM device_totals WHERE key = '02:11:22:33:44:55'"), 2);
	CHECK_EQ_INT(q_int(peer, "SELECT requests_received FROM device_totals WHERE key = "
				 "'02:11:22:33:44:55'"), 2 + 4);
	CHECK_EQ_INT(q_int(peer, "SELECT first_seen FROM devices WHERE key = '02:11:22:33:44:55'"),
		     (long long)(T0 - 1000000000ull + 123456));
	CHECK_EQ_INT(q_int(peer, "SELECT last_seen FROM devices WHERE key = '02:11:22:33:44:55'"),
		     (long long)(T0 + 7200000000ull));
	CHECK_EQ_STR(q_text(peer, "SELECT hostname FROM devices WHERE key = '02:11:22:33:44:55'",
			    buf, sizeof(buf)), "thermostat"); /* latest non-empty */
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM resolvers"), 3); /* shared rows */
	CHECK_EQ_STR(q_text(peer, "SELECT first_seen_iso FROM device_totals WHERE key = "
				  "'02:11:22:33:44:66'", buf, sizeof(buf)),
		     "2024-05-01T10:00:00.123456Z");

	/* the read side: JSON lines summed over runs */
	char *json = devices_json(s, &rc);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	CHECK_EQ_INT(json_lines_valid(json), 3);
	char *l1 = strstr(json, "\"key\":\"02:11:22:33:44:55\"");
	CHECK(l1 != NULL);
	if (l1) {
		l1 = strndup(l1, strcspn(l1, "\n"));
		CHECK(strstr(l1, "\"mac\":\"02:11:22:33:44:55\"") != NULL);
		CHECK(strstr(l1, "\"queries\":45,") != NULL);
		CHECK(strstr(l1, "\"mdns_queries\":6,") != NULL);
		CHECK(strstr(l1, "\"sessions\":4,") != NULL);
		CHECK(strstr(l1, "\"names\":2,") != NULL);
		CHECK(strstr(l1, "\"responder\":false") != NULL);
		CHECK(strstr(l1, "\"ips\":[\"192.168.1.50\",\"fe80::1\"]") != NULL);
		CHECK(strstr(l1, "\"first_seen\":\"2024-05-01T09:43:20.123456Z\"") != NULL);
		CHECK(strstr(l1, "\"hostname\":\"thermostat\"") != NULL);
		CHECK(strstr(l1, "{\"address\":\"192.168.1.1\",\"queries\":18,") != NULL);
		CHECK(strstr(l1, "\"transport\":\"udp+tcp\",\"provided_by\":\"dhcp\"") != NULL);
		CHECK(strstr(l1, "\"vendor\":null") && strstr(l1, "\"evidence\":null"));
		if (e)
			CHECK(strstr(l1, "\"address\":\"8.8.8.8\",\"queries\":12,") &&
			      strstr(l1, "\"operator\":\"Google Public DNS\""));
		CHECK(strstr(l1, "{\"name\":\"time.example.com\",\"queries\":22}") != NULL);
		CHECK(strstr(l1, "\"prl\":\"1,3,6,12,15,28,42\"") != NULL);
		free(l1);
	}
	CHECK(strstr(json, "\"key\":\"ip:10.9.9.9\",\"mac\":null") != NULL);
	/* ordered by key */
	char *p1 = strstr(json, "02:11:22:33:44:55"), *p2 = strstr(json, "02:11:22:33:44:66"),
	     *p3 = strstr(json, "ip:10.9.9.9");
	CHECK(p1 && p2 && p3 && p1 < p2 && p2 < p3);
	free(json);

	char *text = devices_text(s, &rc);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	CHECK(text && strncmp(text, "DEVICE", 6) == 0);
	CHECK(text && strstr(text, "02:11:22:33:44:55  192.168.1.50,fe80::1") != NULL);
	CHECK(text && strstr(text, "thermostat") && strstr(text, "3 devices\n"));
	if (text) { /* aligned: the IPS column starts at the same offset on every row */
		const char *ips = strstr(text, "IPS");
		int off = ips ? (int)(ips - text) : 0, rows = 0, aligned = 0;
		for (char *line = strchr(text, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
			if (strncmp(line, "3 devices", 9) == 0)
				break;
			rows++;
			aligned += line[off - 1] == ' ' && line[off - 2] == ' ' && line[off] != ' ';
		}
		CHECK(off > 0);
		CHECK_EQ_INT(rows, 3);
		CHECK_EQ_INT(aligned, 3);
	}
	free(text);

	iotdns_devtab_free(t, NULL, NULL);
	CHECK_EQ_INT(iotdns_store_run_end(s, run2, "interrupted", &err), IOTDNS_OK);
	CHECK(iotdns_store_run_end(s, 9999, "ok", &err) != IOTDNS_OK);
	CHECK(iotdns_store_flush(s, 9999, NULL, &st, NULL, 0, NULL, &err) != IOTDNS_OK);
	sqlite3_close(peer);
	iotdns_store_close(s);

	/* reopening keeps everything; no migration runs twice */
	s = NULL;
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_OK);
	CHECK_EQ_INT(iotdns_store_input_seen(s, in[0].sha256, &seen_run, &err), 1);
	iotdns_store_close(s);
}

static void test_hostile_strings(void)
{
	char path[PATH_MAX + 32], got[1024];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_stats st;
	int64_t run = 0;
	int rc;
	/* control bytes, markup, quotes and backslashes (valid UTF-8), and
	 * invalid UTF-8 */
	const char *evil_host = "a\x01\x1b[31m<script>alert(\"x\")</script>\\&'\xc3\xa9";
	const char *evil_name = "x\x7f\"<img src=x>\\.\xe2\x80\xa8.example";
	const char *bad_utf8 = "b\xff\xfe\xc3(\xed\xa0\x80z";

	path_in_tmp(path, sizeof(path), "hostile.db");
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_OK);
	if (!s)
		return;
	struct iotdns_run_info ri = { "s<1>", "v", "cmd \"x\"", T0 };
	iotdns_store_run_begin(s, &ri, &run, &err);
	memset(&st, 0, sizeof(st));
	struct iotdns_devtab *t = new_table(&st);
	struct iotdns_device *d = fill_device(t, MAC1, 1, T0, NULL);
	snprintf(d->hostname, sizeof(d->hostname), "%s", evil_host);
	iotdns_dev_name(t, d, evil_name, true)->queries = 100;
	iotdns_dev_name(t, d, bad_utf8, true)->queries = 50;
	struct iotdns_dev_dhcp obs;
	memset(&obs, 0, sizeof(obs));
	obs.version = 4;
	obs.msg_type = 1;
	snprintf(obs.vendor_class, sizeof(obs.vendor_class), "%s", bad_utf8);
	iotdns_dev_note_dhcp(d, &obs);
	rc = iotdns_store_flush(s, run, t, &st, NULL, 0, NULL, &err);
	CHECK_EQ_INT(rc, IOTDNS_OK);

	/* classification columns (written by a later stage) come out too; the
	 * evidence document is re-serialised, HTML-safe, and dropped when it is
	 * not JSON */
	sqlite3 *peer = peer_open(path);
	peer_exec(peer, "UPDATE devices SET vendor = 'Acme<', product = 'Plug', category = 'plug', "
			"confidence = 0.75, evidence = '{\"why\": [\"<b>dhcp</b>\", 55], \"x\": {}}'");
	char *json = devices_json(s, &rc);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	CHECK_EQ_INT(json_lines_valid(json), 1);
	CHECK(strstr(json, "\"vendor\":\"Acme\\u003c\",\"product\":\"Plug\",\"category\":\"plug\","
			   "\"confidence\":0.750,\"evidence\":{\"why\":[\"\\u003cb\\u003edhcp\\u003c/b\\u003e\",55],"
			   "\"x\":{}}}") != NULL);
	free(json);
	peer_exec(peer, "UPDATE devices SET evidence = 'not {json'");
	json = devices_json(s, &rc);
	CHECK_EQ_INT(json_lines_valid(json), 1);
	CHECK(strstr(json, "\"evidence\":null}") != NULL);
	free(json);
	peer_exec(peer, "UPDATE devices SET vendor = NULL, product = NULL, category = NULL, "
			"confidence = NULL, evidence = NULL");
	sqlite3_close(peer);

	json = devices_json(s, &rc);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	CHECK_EQ_INT(json_lines_valid(json), 1);
	/* nothing raw that could break a terminal or an HTML page */
	bool raw = false;
	for (const unsigned char *p = (const unsigned char *)json; *p; p++)
		raw |= (*p < 0x20 && *p != '\n') || *p == 0x7f || *p == '<' || *p == '>';
	CHECK(!raw);
	/* valid UTF-8 round-trips exactly */
	CHECK(json_get_str(json, "hostname", got, sizeof(got)) && strcmp(got, evil_host) == 0);
	CHECK(json_get_str(json, "name", got, sizeof(got)) && strcmp(got, evil_name) == 0);
	/* invalid bytes come out as \u00XX of each byte */
	CHECK(strstr(json, "\"b\\u00ff\\u00fe\\u00c3(\\u00ed\\u00a0\\u0080z\"") != NULL);
	free(json);

	char *text = devices_text(s, &rc);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	bool ctl = false;
	for (const unsigned char *p = (const unsigned char *)text; p && *p; p++)
		ctl |= (*p < 0x20 && *p != '\n') || *p >= 0x7f;
	CHECK(!ctl);
	CHECK(text && strstr(text, "a\\x01\\x1b[31m<script>") != NULL);
	free(text);
	iotdns_devtab_free(t, NULL, NULL);
	iotdns_store_close(s);
}

static void test_open_errors(void)
{
	char path[PATH_MAX + 32], buf[PATH_MAX + 64];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	int rc;

	/* a file of garbage */
	path_in_tmp(path, sizeof(path), "garbage.db");
	FILE *f = fopen(path, "w");
	for (int i = 0; f && i < 4096; i++)
		fputc((i * 7919) & 0xff, f);
	if (f)
		fclose(f);
	rc = iotdns_store_open(&s, path, &err);
	CHECK_EQ_INT(rc, IOTDNS_ESTORE);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "not a SQLite database"));
	CHECK(s == NULL);

	/* unwritable locations: missing directory, a file as directory, a directory */
	path_in_tmp(path, sizeof(path), "no/such/dir/x.db");
	err.msg[0] = '\0';
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_ESTORE);
	CHECK(strstr(err.msg, path) != NULL);
	path_in_tmp(buf, sizeof(buf), "garbage.db/x.db");
	CHECK_EQ_INT(iotdns_store_open(&s, buf, &err), IOTDNS_ESTORE);
	CHECK(strstr(err.msg, buf) != NULL);
	CHECK_EQ_INT(iotdns_store_open(&s, tmpdir, &err), IOTDNS_ESTORE);
	CHECK(strstr(err.msg, tmpdir) != NULL);
	CHECK(s == NULL);

	/* a schema newer than ours */
	path_in_tmp(path, sizeof(path), "newer.db");
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_OK);
	iotdns_store_close(s);
	s = NULL;
	sqlite3 *peer = peer_open(path);
	peer_exec(peer, "PRAGMA user_version = 99");
	sqlite3_close(peer);
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_ESTORE);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "newer"));

	/* somebody else's SQLite database */
	path_in_tmp(path, sizeof(path), "other.db");
	peer = peer_open(path);
	peer_exec(peer, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
	sqlite3_close(peer);
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_ESTORE);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "not an iotdns database"));
	peer = peer_open(path);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM sqlite_master WHERE name = 'runs'"), 0);
	CHECK_EQ_STR(q_text(peer, "PRAGMA journal_mode", buf, sizeof(buf)), "delete"); /* untouched */
	sqlite3_close(peer);
}

static void test_locked(void)
{
	char path[PATH_MAX + 32];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_stats st;
	int64_t run = 0;

	path_in_tmp(path, sizeof(path), "locked.db");
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_OK);
	if (!s)
		return;
	sqlite3 *peer = peer_open(path);
	CHECK_EQ_INT(peer_exec(peer, "BEGIN EXCLUSIVE; INSERT INTO runs (started) VALUES (1)"),
		     SQLITE_OK);
	struct iotdns_run_info ri = { NULL, NULL, NULL, T0 };
	double t0 = now_ms();
	int rc = iotdns_store_run_begin(s, &ri, &run, &err);
	double waited = now_ms() - t0;
	CHECK_EQ_INT(rc, IOTDNS_EBUSY);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "database is locked by another process"));
	printf("# gave up after %.0f ms\n", waited);
	CHECK(waited >= 1000 && waited < 10000); /* it waited for the busy timeout, then gave up */

	memset(&st, 0, sizeof(st));
	struct iotdns_devtab *t = new_table(&st);
	fill_device(t, MAC1, 1, T0, "x");
	err.msg[0] = '\0';
	CHECK_EQ_INT(iotdns_store_flush(s, 1, t, &st, NULL, 0, NULL, &err), IOTDNS_EBUSY);
	CHECK(strstr(err.msg, path) != NULL);

	/* once the other process lets go, everything works */
	peer_exec(peer, "ROLLBACK");
	CHECK_EQ_INT(iotdns_store_run_begin(s, &ri, &run, &err), IOTDNS_OK);
	CHECK_EQ_INT(iotdns_store_flush(s, run, t, &st, NULL, 0, NULL, &err), IOTDNS_OK);
	CHECK_EQ_INT(q_int(peer, "SELECT queries FROM device_totals"), 10);
	iotdns_devtab_free(t, NULL, NULL);
	iotdns_store_close(s);
	sqlite3_close(peer);

	/* locked while opening: a rollback-journal database held exclusively */
	path_in_tmp(path, sizeof(path), "locked-open.db");
	peer = peer_open(path);
	peer_exec(peer, "PRAGMA journal_mode = DELETE; CREATE TABLE t (x)");
	CHECK_EQ_INT(peer_exec(peer, "BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)"), SQLITE_OK);
	s = NULL;
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_EBUSY);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "locked"));
	CHECK(s == NULL);
	peer_exec(peer, "ROLLBACK");
	sqlite3_close(peer);
}

/* A flush that fails half-way leaves the earlier data as it was. */
static void test_failed_flush(void)
{
	char path[PATH_MAX + 32];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_stats st;
	int64_t run1 = 0, run2 = 0;

	path_in_tmp(path, sizeof(path), "failed.db");
	CHECK_EQ_INT(iotdns_store_open(&s, path, &err), IOTDNS_OK);
	if (!s)
		return;
	struct iotdns_run_info ri = { NULL, NULL, NULL, T0 };
	iotdns_store_run_begin(s, &ri, &run1, &err);
	memset(&st, 0, sizeof(st));
	st.packets = 10;
	struct iotdns_devtab *t = new_table(&st);
	fill_device(t, MAC1, 1, T0, "first");
	CHECK_EQ_INT(iotdns_store_flush(s, run1, t, &st, NULL, 0, NULL, &err), IOTDNS_OK);
	iotdns_devtab_free(t, NULL, NULL);

	iotdns_store_run_begin(s, &ri, &run2, &err);
	st.packets = 20;
	t = new_table(&st);
	fill_device(t, MAC1, 3, T0, "second");
	fill_device(t, MAC2, 1, T0, "new");
	sqlite3 *peer = peer_open(path);
	peer_exec(peer, "DROP TABLE dhcp_observations"); /* the last table a flush writes */
	int rc = iotdns_store_flush(s, run2, t, &st, NULL, 0, NULL, &err);
	CHECK_EQ_INT(rc, IOTDNS_ESTORE);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "dhcp_observations"));
	printf("# %s\n", err.msg);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM devices"), 1);
	CHECK_EQ_STR(q_text(peer, "SELECT hostname FROM devices", (char[64]){ 0 }, 64), "first");
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM device_runs WHERE run_id = 2"), 0);
	CHECK_EQ_INT(q_int(peer, "SELECT queries FROM device_totals"), 10);
	CHECK_EQ_INT(q_int(peer, "SELECT packets FROM runs WHERE id = 2"), 0);
	CHECK_EQ_INT(q_int(peer, "SELECT packets FROM runs WHERE id = 1"), 10);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM names"), 2);
	iotdns_devtab_free(t, NULL, NULL);
	iotdns_store_close(s);
	sqlite3_close(peer);
}

/* SQLITE_FULL through PRAGMA max_page_count on the store's own connection:
 * an auto-extension runs the pragma on every connection opened while it is
 * registered. */
static int max_pages;

static int limit_pages(sqlite3 *db, const char **msg, const void *api)
{
	char sql[64];
	(void)msg;
	(void)api;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %d", max_pages);
	sqlite3_exec(db, sql, NULL, NULL, NULL);
	return SQLITE_OK;
}

static void test_max_page_count(void)
{
	char path[PATH_MAX + 32], name[64];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_stats st;
	int64_t run1 = 0, run2 = 0;

	struct iotdns_devtab *t = NULL;
	if (!(s = fresh_store("maxpages.db", path, sizeof(path), &run1, &st, &t)))
		return;
	struct iotdns_run_info ri = { NULL, NULL, NULL, T0 };
	fill_device(t, MAC1, 1, T0, "before");
	CHECK_EQ_INT(iotdns_store_flush(s, run1, t, &st, NULL, 0, NULL, &err), IOTDNS_OK);
	iotdns_devtab_free(t, NULL, NULL);
	iotdns_store_close(s);
	sqlite3 *peer = peer_open(path);
	long long pages = q_int(peer, "PRAGMA page_count");

	max_pages = (int)pages + 8;
	sqlite3_auto_extension((void (*)(void))limit_pages);
	s = NULL;
	int rc = iotdns_store_open(&s, path, &err);
	sqlite3_reset_auto_extension();
	CHECK_EQ_INT(rc, IOTDNS_OK);
	if (!s) {
		sqlite3_close(peer);
		return;
	}
	CHECK_EQ_INT(iotdns_store_run_begin(s, &ri, &run2, &err), IOTDNS_OK);
	t = new_table(&st);
	for (int i = 0; i < 200; i++) {
		uint8_t mac[6] = { 0x02, 0xcc, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		struct iotdns_device *d = fill_device(t, mac, 1, T0, "many");
		for (int k = 0; k < 20; k++) {
			snprintf(name, sizeof(name), "name-%d-%d.example", i, k);
			iotdns_dev_name(t, d, name, true)->queries = 1;
		}
	}
	rc = iotdns_store_flush(s, run2, t, &st, NULL, 0, NULL, &err);
	CHECK_EQ_INT(rc, IOTDNS_ESTORE);
	CHECK(strstr(err.msg, path) && strstr(err.msg, "disk full"));
	printf("# %s\n", err.msg);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM devices"), 1);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM names"), 2);
	CHECK_EQ_INT(q_int(peer, "SELECT queries FROM device_totals"), 10);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM device_runs WHERE run_id = 2"), 0);
	iotdns_devtab_free(t, NULL, NULL);
	iotdns_store_close(s);
	sqlite3_close(peer);
}

/* Disk full, simulated with RLIMIT_FSIZE in a child process: the flush
 * fails and rolls back; once space is back the same table flushes. */
static void test_disk_full(void)
{
	char path[PATH_MAX + 32];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_stats st;
	int64_t run1 = 0;

	struct iotdns_devtab *t = NULL;
	if (!(s = fresh_store("full.db", path, sizeof(path), &run1, &st, &t)))
		return;
	struct iotdns_run_info ri = { NULL, NULL, NULL, T0 };
	fill_device(t, MAC1, 1, T0, "before");
	CHECK_EQ_INT(iotdns_store_flush(s, run1, t, &st, NULL, 0, NULL, &err), IOTDNS_OK);
	iotdns_devtab_free(t, NULL, NULL);
	iotdns_store_close(s);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		/* child: exit 0 = full reported and recovered, 1.. = which step failed */
		struct iotdns_store *cs = NULL;
		struct iotdns_err cerr = { "" };
		struct iotdns_stats cst;
		int64_t run2 = 0;
		char name[64];
		if (iotdns_store_open(&cs, path, &cerr) || iotdns_store_run_begin(cs, &ri, &run2, &cerr))
			_exit(1);
		memset(&cst, 0, sizeof(cst));
		struct iotdns_devtab *ct = new_table(&cst);
		for (int i = 0; i < 300; i++) {
			uint8_t mac[6] = { 0x02, 0xaa, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
			struct iotdns_device *d = fill_device(ct, mac, 1, T0, "many");
			for (int k = 0; k < 40; k++) {
				snprintf(name, sizeof(name), "name-%d-%d.some-long-domain.example", i, k);
				iotdns_dev_name(ct, d, name, true)->queries = 1;
			}
		}
		signal(SIGXFSZ, SIG_IGN);
		struct stat sb;
		off_t biggest = 0;
		char wal[PATH_MAX + 40];
		snprintf(wal, sizeof(wal), "%s-wal", path);
		if (stat(path, &sb) == 0)
			biggest = sb.st_size;
		if (stat(wal, &sb) == 0 && sb.st_size > biggest)
			biggest = sb.st_size;
		struct rlimit rl = { (rlim_t)biggest + 65536, RLIM_INFINITY };
		struct rlimit old;
		getrlimit(RLIMIT_FSIZE, &old);
		rl.rlim_max = old.rlim_max;
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(2);
		int rc = iotdns_store_flush(cs, run2, ct, &cst, NULL, 0, NULL, &cerr);
		printf("# full disk: %s\n", cerr.msg);
		fflush(stdout);
		/* a write beyond RLIMIT_FSIZE fails with EFBIG: SQLite reports
		 * SQLITE_FULL or SQLITE_IOERR_WRITE depending on where it hit */
		if (rc != IOTDNS_ESTORE || !strstr(cerr.msg, path))
			_exit(3);
		setrlimit(RLIMIT_FSIZE, &old);
		if (iotdns_store_flush(cs, run2, ct, &cst, NULL, 0, NULL, &cerr) != IOTDNS_OK) {
			printf("# after: %s\n", cerr.msg);
			_exit(4);
		}
		iotdns_devtab_free(ct, NULL, NULL);
		iotdns_store_close(cs);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
	sqlite3 *peer = peer_open(path);
	CHECK_EQ_STR(q_text(peer, "PRAGMA integrity_check", (char[32]){ 0 }, 32), "ok");
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM devices"), 301);
	CHECK_EQ_STR(q_text(peer, "SELECT hostname FROM devices WHERE key = '02:11:22:33:44:55'",
			    (char[32]){ 0 }, 32), "before");
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM names WHERE run_id = 2"), 300 * 42);
	sqlite3_close(peer);
}

/* A flush whose devices have asked no names yet (DHCP only): nothing to
 * sort, no order array allocated; the device is still stored. */
static void test_nameless(void)
{
	char path[PATH_MAX + 32];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_stats st;
	int64_t run = 0;

	struct iotdns_devtab *t = NULL;
	if (!(s = fresh_store("nameless.db", path, sizeof(path), &run, &st, &t)))
		return;
	struct iotdns_device *d = iotdns_devtab_by_mac(t, (uint8_t[6]){ 0x02, 0xcc, 0, 0, 0, 1 }, true);
	d->first_us = d->last_us = T0;
	CHECK_EQ_INT(iotdns_store_flush(s, run, t, &st, NULL, 0, NULL, &err), IOTDNS_OK);
	sqlite3 *peer = peer_open(path);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM devices"), 1);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM names"), 0);
	sqlite3_close(peer);
	iotdns_devtab_free(t, NULL, NULL);
	iotdns_store_close(s);
}

static void test_speed(void)
{
	char path[PATH_MAX + 32], name[96];
	struct iotdns_store *s = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_stats st;
	int64_t run = 0;

	struct iotdns_devtab *t = NULL;
	if (!(s = fresh_store("speed.db", path, sizeof(path), &run, &st, &t)))
		return;
	for (int i = 0; i < 2000; i++) {
		uint8_t mac[6] = { 0x02, 0xbb, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		struct iotdns_device *d = iotdns_devtab_by_mac(t, mac, true);
		struct iotdns_addr ip = A("10.0.0.0"), r1 = A("10.0.0.1"), r2 = A("8.8.8.8");
		ip.b[2] = (uint8_t)(i >> 8);
		ip.b[3] = (uint8_t)i;
		d->first_us = T0;
		d->last_us = T0 + 1;
		d->queries = 50;
		iotdns_dev_note_addr(t, d, &ip, T0);
		iotdns_dev_resolver(t, d, &r1, true)->queries = 40;
		iotdns_dev_resolver(t, d, &r2, true)->queries = 10;
		iotdns_dev_session_start(t, d, IOTDNS_SESS_FIRST, T0);
		for (int k = 0; k < 50; k++) {
			snprintf(name, sizeof(name), "svc%d.device-%d.vendor.example", k, i % 100);
			struct iotdns_dev_name *n = iotdns_dev_name(t, d, name, true);
			n->queries = 1;
			n->qtypes = IOTDNS_QB_A;
			n->first_us = n->last_us = T0;
		}
	}
	/* the times are printed for information; make bench measures speed */
	double w0 = now_ms(), c0 = cpu_ms();
	int rc = iotdns_store_flush(s, run, t, &st, NULL, 0, NULL, &err);
	double first_wall = now_ms() - w0, first_cpu = cpu_ms() - c0;
	/* the second flush of a run rewrites every row and remembers digests of
	 * them; from the third on, only rows that changed are written (counted
	 * by a trigger another connection puts on the table) */
	sqlite3 *logger = peer_open(path);
	CHECK(sqlite3_exec(logger, "CREATE TABLE upd_log (name TEXT); CREATE TRIGGER upd AFTER UPDATE ON names "
			   "BEGIN INSERT INTO upd_log VALUES (new.name); END", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_EQ_INT(iotdns_store_flush(s, run, t, &st, NULL, 0, NULL, &err), IOTDNS_OK);
	CHECK_EQ_INT(q_int(logger, "SELECT count(*) FROM upd_log"), 100000);
	iotdns_dev_name(t, iotdns_devtab_at(t, 1999), "svc7.device-99.vendor.example", false)->queries = 9;
	w0 = now_ms();
	c0 = cpu_ms();
	int rc2 = iotdns_store_flush(s, run, t, &st, NULL, 0, NULL, &err);
	double again_wall = now_ms() - w0, again_cpu = cpu_ms() - c0;
	CHECK_EQ_INT(rc, IOTDNS_OK);
	CHECK_EQ_INT(rc2, IOTDNS_OK);
	CHECK_EQ_INT(q_int(logger, "SELECT count(*) FROM upd_log"), 100001);
	/* 20 devices have that name: 20 rows in the second flush, 1 in the third */
	CHECK_EQ_INT(q_int(logger, "SELECT count(*) FROM upd_log WHERE name = 'svc7.device-99.vendor.example'"), 21);
	CHECK(sqlite3_exec(logger, "DROP TRIGGER upd; DROP TABLE upd_log", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(logger);
	printf("# flush of 2000 devices x 50 names: %.1f ms CPU, %.1f ms wall (first); "
	       "%.1f ms CPU, %.1f ms wall (third, one row changed)\n", first_cpu, first_wall, again_cpu, again_wall);
	sqlite3 *peer = peer_open(path);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM names"), 100000);
	/* rows are batched across devices: each row keeps its own device */
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM (SELECT device_id FROM names GROUP BY device_id "
				 "HAVING count(*) = 50)"),
		     2000);
	CHECK_EQ_INT(q_int(peer, "SELECT count(*) FROM names n JOIN devices d ON d.id = n.device_id "
				 "WHERE d.mac = '02:bb:00:00:07:cf' AND n.name LIKE '%.device-99.%'"),
		     50);
	CHECK_EQ_INT(q_int(peer, "SELECT count(DISTINCT substr(n.name, instr(n.name, '.') + 1)) FROM names n "
				 "JOIN devices d ON d.id = n.device_id WHERE d.mac = '02:bb:00:00:03:e8'"),
		     1);
	CHECK_EQ_INT(q_int(peer, "SELECT sum(queries) FROM names"), 100000 + 8);
	CHECK_EQ_INT(q_int(peer, "SELECT sum(queries) FROM device_totals"), 100000);
	sqlite3_close(peer);

	w0 = now_ms();
	char *json = devices_json(s, &rc);
	printf("# devices --json of 2000 devices: %.1f ms\n", now_ms() - w0);
	CHECK_EQ_INT(json_lines_valid(json), 2000);
	free(json);
	iotdns_devtab_free(t, NULL, NULL);
	iotdns_store_close(s);
}

int main(void)
{
	struct iotdns_enrich *e = NULL;
	struct iotdns_err err = { "" };

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/iotdns-test-store-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	CHECK_EQ_STR(iotdns_input_status_name(IOTDNS_INPUT_DUPLICATE), "duplicate");
	CHECK_EQ_STR(iotdns_input_status_name(IOTDNS_INPUT_TRUNCATED), "truncated");
	if (iotdns_enrich_open(&e, NULL, NULL, NULL, &err) != IOTDNS_OK) {
		printf("# no resolver database (%s): enrichment not checked\n", err.msg);
		e = NULL;
	}
	test_basic(e);
	test_hostile_strings();
	test_open_errors();
	test_locked();
	test_failed_flush();
	test_max_page_count();
	test_disk_full();
	test_nameless();
	test_speed();
	iotdns_enrich_close(e);

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (getenv("IOTDNS_TEST_KEEP")) /* debugging: keep the databases */
		printf("# kept %s\n", tmpdir);
	else if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return tap_done();
}

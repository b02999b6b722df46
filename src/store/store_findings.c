/* iotdns - storing and reading findings and per-device check status. */
#include <stdlib.h>
#include <string.h>

#include "iotdns/engine.h"
#include "iotdns/finding.h"
#include "iotdns/json.h"
#include "store_internal.h"

static const char sql_clear_findings[] = "DELETE FROM findings WHERE run_id = ?1";
static const char sql_clear_checks[] = "DELETE FROM device_checks WHERE run_id = ?1";
static const char sql_finding[] =
	"INSERT INTO findings (run_id, device_id, sensor, check_id, code, severity, title, metrics, evidence, "
	"first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
	"ON CONFLICT(device_id, code, run_id) DO UPDATE SET metrics = excluded.metrics, "
	"evidence = excluded.evidence, first_seen = excluded.first_seen, last_seen = excluded.last_seen";
static const char sql_check[] =
	"INSERT OR REPLACE INTO device_checks (device_id, run_id, check_id, status, detail) "
	"VALUES (?1, ?2, ?3, ?4, ?5)";

int iotdns_store_results(struct iotdns_store *s, int64_t run_id, const char *sensor, struct iotdns_engine *e,
			 struct iotdns_err *err)
{
	sqlite3_stmt *clr_f = NULL, *clr_c = NULL, *ins_f = NULL, *ins_c = NULL;
	char *json = NULL, *metrics = NULL;
	int rc;
	if ((rc = sqlite3_prepare_v2(s->db, sql_clear_findings, -1, &clr_f, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_clear_checks, -1, &clr_c, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_finding, -1, &ins_f, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(s->db, sql_check, -1, &ins_c, NULL)) != SQLITE_OK) {
		rc = iotdns_store_fail(s, rc, "preparing findings statements", err);
		goto out;
	}
	json = malloc(16384);
	metrics = malloc(IOTDNS_METRICS_MAX + 3);
	if (!json || !metrics) {
		rc = iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory storing findings");
		goto out;
	}
	if ((rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = iotdns_store_fail(s, rc, "starting the findings transaction", err);
		goto out;
	}
	sqlite3_bind_int64(clr_f, 1, run_id);
	sqlite3_bind_int64(clr_c, 1, run_id);
	if ((rc = iotdns_store_step(s, clr_f, "clearing findings", err)) || (rc = iotdns_store_step(s, clr_c, "clearing checks", err)))
		goto rollback;
	for (uint32_t i = 0; i < iotdns_engine_finding_count(e); i++) {
		const struct iotdns_finding *f = iotdns_engine_finding(e, i);
		if (!f->dev->db_id)
			continue;
		snprintf(metrics, IOTDNS_METRICS_MAX + 3, "{%s}", f->metrics);
		iotdns_finding_evidence_json(f, json, 16384, iotdns_engine_input_name_cb, e);
		sqlite3_bind_int64(ins_f, 1, run_id);
		sqlite3_bind_int64(ins_f, 2, f->dev->db_id);
		sqlite3_bind_text(ins_f, 3, sensor, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_f, 4, f->check->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_f, 5, f->kind->code, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_f, 6, iotdns_severity_name(f->kind->severity), -1, SQLITE_STATIC);
		/* the stored title carries the device-specific summary */
		char title[600];
		snprintf(title, sizeof(title), "%s%s%s", f->kind->title, f->summary[0] ? ": " : "", f->summary);
		sqlite3_bind_text(ins_f, 7, title, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins_f, 8, metrics, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins_f, 9, json, -1, SQLITE_STATIC);
		if (f->first_us) {
			sqlite3_bind_int64(ins_f, 10, (sqlite3_int64)f->first_us);
			sqlite3_bind_int64(ins_f, 11, (sqlite3_int64)f->last_us);
		} else {
			sqlite3_bind_null(ins_f, 10);
			sqlite3_bind_null(ins_f, 11);
		}
		if ((rc = iotdns_store_step(s, ins_f, "storing a finding", err)))
			goto rollback;
	}
	unsigned nchk;
	const struct iotdns_checker *const *chk = iotdns_engine_checkers(e, &nchk);
	struct iotdns_devtab *t = iotdns_engine_devices(e);
	for (uint32_t i = 0; i < iotdns_devtab_count(t); i++) {
		const struct iotdns_device *d = iotdns_devtab_at(t, i);
		if (!d->db_id || !d->chk_result)
			continue;
		for (unsigned c = 0; c < nchk; c++) {
			sqlite3_bind_int64(ins_c, 1, d->db_id);
			sqlite3_bind_int64(ins_c, 2, run_id);
			sqlite3_bind_text(ins_c, 3, chk[c]->id, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_c, 4, iotdns_status_name(d->chk_result[c].status), -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_c, 5, d->chk_result[c].detail, -1, SQLITE_STATIC);
			if ((rc = iotdns_store_step(s, ins_c, "storing a check status", err)))
				goto rollback;
		}
	}
	if ((rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = iotdns_store_fail(s, rc, "committing findings", err);
		goto rollback;
	}
	rc = IOTDNS_OK;
	goto out;
rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(clr_f);
	sqlite3_finalize(clr_c);
	sqlite3_finalize(ins_f);
	sqlite3_finalize(ins_c);
	free(json);
	free(metrics);
	return rc;
}

/* ---- read side ---------------------------------------------------------- */

static const char sql_read[] =
	"SELECT d.key, d.mac, (SELECT group_concat(address, ',') FROM (SELECT DISTINCT address FROM "
	"device_addresses a WHERE a.device_id = d.id ORDER BY address)), d.hostname, f.check_id, f.code, "
	"f.severity, f.title, f.metrics, f.evidence, f.first_seen, f.last_seen, f.run_id, f.sensor, "
	"CASE f.severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END AS sev "
	"FROM findings f JOIN devices d ON d.id = f.device_id WHERE sev >= ?1 "
	"ORDER BY sev DESC, d.key, f.code, f.run_id";

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : NULL;
}

static int read_findings(struct iotdns_store *s, FILE *out, int min_sev, bool json, struct iotdns_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql_read, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return iotdns_store_fail(s, rc, "reading findings", err);
	sqlite3_bind_int(st, 1, min_sev);
	unsigned n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char t1[40] = "", t2[40] = "";
		if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
			iotdns_iso_time((uint64_t)sqlite3_column_int64(st, 10), t1);
			iotdns_iso_time((uint64_t)sqlite3_column_int64(st, 11), t2);
		}
		n++;
		if (json) {
			fputs("{\"device\":{\"key\":", out);
			iotdns_json_str(out, col(st, 0));
			fputs(",\"mac\":", out);
			iotdns_json_str(out, col(st, 1));
			fputs(",\"ips\":[", out);
			const char *ips = col(st, 2);
			char buf[1024];
			snprintf(buf, sizeof(buf), "%s", ips ? ips : "");
			char *save = NULL;
			int k = 0;
			for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), k++) {
				fputs(k ? "," : "", out);
				iotdns_json_str(out, tok);
			}
			fputs("],\"hostname\":", out);
			iotdns_json_str(out, col(st, 3));
			fputs("},\"check\":", out);
			iotdns_json_str(out, col(st, 4));
			fputs(",\"code\":", out);
			iotdns_json_str(out, col(st, 5));
			fputs(",\"severity\":", out);
			iotdns_json_str(out, col(st, 6));
			fputs(",\"title\":", out);
			iotdns_json_str(out, col(st, 7));
			/* metrics and evidence were written as JSON by iotdns itself */
			fprintf(out, ",\"metrics\":%s,\"evidence\":%s", col(st, 8) ? col(st, 8) : "{}",
				col(st, 9) ? col(st, 9) : "[]");
			fprintf(out, ",\"first_seen\":%s%s%s,\"last_seen\":%s%s%s,\"run\":%lld,\"sensor\":",
				t1[0] ? "\"" : "", t1[0] ? t1 : "null", t1[0] ? "\"" : "", t2[0] ? "\"" : "",
				t2[0] ? t2 : "null", t2[0] ? "\"" : "", (long long)sqlite3_column_int64(st, 12));
			iotdns_json_str(out, col(st, 13));
			fputs("}\n", out);
		} else {
			fprintf(out, "%-6s %-26s %s  %s\n", col(st, 6), col(st, 5), col(st, 0), col(st, 7));
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return iotdns_store_fail(s, rc, "reading findings", err);
	if (!json)
		fprintf(out, "%u finding%s\n", n, n == 1 ? "" : "s");
	return IOTDNS_OK;
}

int iotdns_store_findings_json(struct iotdns_store *s, FILE *out, int min_severity, struct iotdns_err *err)
{
	return read_findings(s, out, min_severity, true, err);
}

int iotdns_store_findings_text(struct iotdns_store *s, FILE *out, int min_severity, struct iotdns_err *err)
{
	return read_findings(s, out, min_severity, false, err);
}

/* iotdns - findings: the builder checkers use, per-device status, option
 * values, and the JSON form shared by `analyze --json` and the store. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "iotdns/json.h"

const char *iotdns_status_name(enum iotdns_check_status s)
{
	switch (s) {
	case IOTDNS_STATUS_PASS: return "pass";
	case IOTDNS_STATUS_FAIL: return "fail";
	case IOTDNS_STATUS_INSUFFICIENT: return "insufficient";
	case IOTDNS_STATUS_NA: return "not-applicable";
	case IOTDNS_STATUS_NONE: break;
	}
	return "insufficient";
}

/* Copies text keeping printable ASCII only (evidence and summaries never
 * carry raw wire bytes, even if a caller passes some). */
static void printable(char *dst, size_t size, const char *src)
{
	size_t i = 0;
	for (; *src && i + 1 < size; src++)
		dst[i++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	dst[i] = 0;
}

void iotdns_evidence_set(struct iotdns_evidence *ev, const struct iotdns_pkt *pkt, const char *fmt, ...)
{
	char tmp[IOTDNS_EVIDENCE_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	printable(ev->text, sizeof(ev->text), tmp);
	ev->input = pkt ? pkt->input : 0;
	ev->pktno = pkt ? pkt->pktno : 0;
	ev->ts_us = pkt ? pkt->ts_us : 0;
}

const struct iotdns_finding_kind *iotdns_finding_kind_find(const char *code, const struct iotdns_checker **check)
{
	for (unsigned i = 0; iotdns_checkers[i]; i++)
		for (const struct iotdns_finding_kind *k = iotdns_checkers[i]->kinds; k && k->code; k++)
			if (strcmp(k->code, code) == 0) {
				if (check)
					*check = iotdns_checkers[i];
				return k;
			}
	return NULL;
}

struct iotdns_finding *iotdns_finding_new(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, const char *code)
{
	struct iotdns_engine *e = ctx->engine;
	const struct iotdns_finding_kind *kind = NULL;
	for (const struct iotdns_finding_kind *k = ctx->self->kinds; k && k->code; k++)
		if (strcmp(k->code, code) == 0)
			kind = k;
	if (iotdns_fails(kind != NULL))
		return NULL;
	if (e->nfindings == e->cap_findings) {
		uint32_t ncap = e->cap_findings ? e->cap_findings * 2 : 64;
		struct iotdns_finding **nf = realloc(e->findings, ncap * sizeof(*nf));
		if (!nf)
			return NULL;
		e->findings = nf;
		e->cap_findings = ncap;
	}
	struct iotdns_finding *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->check = ctx->self;
	f->kind = kind;
	f->dev = dev;
	e->findings[e->nfindings++] = f;
	/* an info finding is an observation: it does not fail the check by itself */
	if (dev->chk_result && kind->severity > IOTDNS_SEV_INFO) {
		dev->chk_result[ctx->slot].nfindings++;
		dev->chk_result[ctx->slot].status = IOTDNS_STATUS_FAIL;
	}
	return f;
}

void iotdns_finding_summary(struct iotdns_finding *f, const char *fmt, ...)
{
	char tmp[sizeof(f->summary)];
	va_list ap;
	if (!f)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	printable(f->summary, sizeof(f->summary), tmp);
}

/* Appends "key":<raw value>; drops the member whole when it does not fit. */
static void metric_raw(struct iotdns_finding *f, const char *key, const char *raw)
{
	char k[128];
	if (!f)
		return;
	iotdns_json_str_buf(k, sizeof(k), key);
	size_t need = (f->metrics_len ? 1 : 0) + strlen(k) + 1 + strlen(raw);
	if (f->metrics_len + need + 1 > sizeof(f->metrics))
		return;
	f->metrics_len += (uint32_t)snprintf(f->metrics + f->metrics_len, sizeof(f->metrics) - f->metrics_len,
					     "%s%s:%s", f->metrics_len ? "," : "", k, raw);
}

void iotdns_finding_u64(struct iotdns_finding *f, const char *key, uint64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	metric_raw(f, key, b);
}

void iotdns_finding_i64(struct iotdns_finding *f, const char *key, int64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%lld", (long long)v);
	metric_raw(f, key, b);
}

void iotdns_finding_dbl(struct iotdns_finding *f, const char *key, double v)
{
	char b[48];
	if (!isfinite(v))
		snprintf(b, sizeof(b), "null");
	else
		snprintf(b, sizeof(b), "%.4g", v);
	metric_raw(f, key, b);
}

void iotdns_finding_bool(struct iotdns_finding *f, const char *key, bool v)
{
	metric_raw(f, key, v ? "true" : "false");
}

void iotdns_finding_str(struct iotdns_finding *f, const char *key, const char *v)
{
	char b[512];
	iotdns_json_str_buf(b, sizeof(b), v);
	metric_raw(f, key, b);
}

void iotdns_finding_json(struct iotdns_finding *f, const char *key, const char *json)
{
	metric_raw(f, key, json);
}

void iotdns_finding_evidence(struct iotdns_finding *f, const struct iotdns_evidence *ev)
{
	if (!f || f->nev >= IOTDNS_MAX_EVIDENCE || !ev->pktno)
		return;
	f->ev[f->nev++] = *ev;
	if (!f->first_us || ev->ts_us < f->first_us)
		f->first_us = ev->ts_us;
	if (ev->ts_us > f->last_us)
		f->last_us = ev->ts_us;
}

void iotdns_check_status(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, enum iotdns_check_status st,
			 const char *fmt, ...)
{
	if (!dev->chk_result)
		return;
	struct iotdns_check_result *r = &dev->chk_result[ctx->slot];
	char tmp[sizeof(r->detail)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* a checker that reported findings (above info) has failed, whatever it says after */
	r->status = r->nfindings ? IOTDNS_STATUS_FAIL : (uint8_t)st;
	printable(r->detail, sizeof(r->detail), tmp);
}

double iotdns_check_opt(const struct iotdns_check_ctx *ctx, unsigned idx)
{
	return idx < IOTDNS_MAX_OPTS ? ctx->opt[idx] : 0;
}

uint32_t iotdns_engine_finding_count(const struct iotdns_engine *e)
{
	return e->nfindings;
}

const struct iotdns_finding *iotdns_engine_finding(const struct iotdns_engine *e, uint32_t idx)
{
	return idx < e->nfindings ? e->findings[idx] : NULL;
}

const struct iotdns_checker *const *iotdns_engine_checkers(const struct iotdns_engine *e, unsigned *n)
{
	*n = e->nchk;
	return e->checkers;
}

const char *iotdns_engine_input_name_cb(void *engine, uint32_t idx)
{
	return iotdns_engine_input_name(engine, idx);
}

size_t iotdns_finding_evidence_json(const struct iotdns_finding *f, char *buf, size_t size,
				    const char *(*input_name)(void *ctx, uint32_t idx), void *ctx)
{
	size_t len = 0;
	char t[40], in[1100], txt[IOTDNS_EVIDENCE_TEXT * 6 + 3];
	len += (size_t)snprintf(buf + len, size - len, "[");
	for (unsigned i = 0; i < f->nev && len < size; i++) {
		const struct iotdns_evidence *ev = &f->ev[i];
		iotdns_iso_time(ev->ts_us, t);
		iotdns_json_str_buf(in, sizeof(in), input_name ? input_name(ctx, ev->input) : "");
		iotdns_json_str_buf(txt, sizeof(txt), ev->text);
		int n = snprintf(buf + len, size - len, "%s{\"input\":%s,\"packet\":%llu,\"time\":\"%s\",\"summary\":%s}",
				 i ? "," : "", in, (unsigned long long)ev->pktno, t, txt);
		if (n < 0 || (size_t)n >= size - len) {
			buf[len] = 0;
			break;
		}
		len += (size_t)n;
	}
	if (len + 2 <= size) {
		buf[len++] = ']';
		buf[len] = 0;
	}
	return len;
}

void iotdns_finding_write_json(FILE *out, const struct iotdns_finding *f,
			       const char *(*input_name)(void *ctx, uint32_t idx), void *ctx)
{
	char key[64], mac[IOTDNS_MAC_TEXT], a[IOTDNS_ADDR_TEXT], t1[40], t2[40];
	char ev[8192];
	const struct iotdns_device *d = f->dev;
	fprintf(out, "{\"type\":\"finding\",\"device\":{\"key\":\"%s\",\"mac\":", iotdns_dev_key(d, key));
	if (d->keyed_by_ip)
		fputs("null", out);
	else
		fprintf(out, "\"%s\"", iotdns_mac_str(d->mac, mac));
	fputs(",\"ips\":[", out);
	for (uint32_t i = 0; i < d->naddrs; i++)
		fprintf(out, "%s\"%s\"", i ? "," : "", iotdns_addr_str(&d->addrs[i].addr, a));
	fputs("],\"hostname\":", out);
	iotdns_json_str(out, d->hostname[0] ? d->hostname : NULL);
	fprintf(out, "},\"check\":\"%s\",\"code\":\"%s\",\"severity\":\"%s\",\"title\":", f->check->id, f->kind->code,
		iotdns_severity_name(f->kind->severity));
	iotdns_json_str(out, f->kind->title);
	fputs(",\"summary\":", out);
	iotdns_json_str(out, f->summary);
	fprintf(out, ",\"metrics\":{%s}", f->metrics);
	iotdns_finding_evidence_json(f, ev, sizeof(ev), input_name, ctx);
	fprintf(out, ",\"evidence\":%s", ev);
	if (f->first_us) {
		iotdns_iso_time(f->first_us, t1);
		iotdns_iso_time(f->last_us, t2);
		fprintf(out, ",\"first_seen\":\"%s\",\"last_seen\":\"%s\"", t1, t2);
	} else {
		fputs(",\"first_seen\":null,\"last_seen\":null", out);
	}
	fputs(",\"why\":", out);
	iotdns_json_str(out, f->kind->why);
	fputs(",\"fix\":", out);
	iotdns_json_str(out, f->kind->fix);
	fputs(",\"references\":", out);
	iotdns_json_str(out, f->kind->refs);
	fputs("}", out);
}

struct iotdns_enrich *iotdns_engine_enrich(const struct iotdns_engine *e)
{
	return e ? e->cfg.enrich : NULL;
}

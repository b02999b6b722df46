/* iotdns - statistics shared by the randomization checks (see randomness.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/addr.h"
#include "iotdns/dns.h"
#include "randomness.h"

/* ---- moments ------------------------------------------------------------- */

double iotdns_rnd_sigma(const struct iotdns_rnd_moments *m)
{
	if (!m->n)
		return 0;
	double n = (double)m->n, mean = (double)m->sum / n;
	double var = (double)m->sq / n - mean * mean;
	return var > 0 ? sqrt(var) : 0;
}

double iotdns_rnd_bits(double sigma)
{
	double w = sigma * sqrt(12.0);
	return w > 1 ? log2(w) : 0;
}

double iotdns_rnd_range_width(const struct iotdns_rnd_moments *m)
{
	if (m->n < 2)
		return 0;
	double w = ((double)m->max - (double)m->min + 1) * ((double)m->n + 1) / ((double)m->n - 1);
	return w > 65536 ? 65536 : w;
}

enum iotdns_rnd_bucket iotdns_rnd_bucket(double sigma)
{
	if (sigma < 1)
		return IOTDNS_RND_NONE;
	if (sigma < IOTDNS_RND_POOR_SIGMA)
		return IOTDNS_RND_POOR;
	if (sigma < IOTDNS_RND_GREAT_SIGMA)
		return IOTDNS_RND_GOOD;
	return IOTDNS_RND_GREAT;
}

const char *iotdns_rnd_bucket_name(enum iotdns_rnd_bucket b)
{
	switch (b) {
	case IOTDNS_RND_NONE: return "none";
	case IOTDNS_RND_POOR: return "poor";
	case IOTDNS_RND_GOOD: return "good";
	case IOTDNS_RND_GREAT: return "great";
	}
	return "none";
}

/* ---- heavy hitters ------------------------------------------------------- */

int iotdns_rnd_top_add(struct iotdns_rnd_top *t, uint16_t v, bool *fresh)
{
	int free_slot = -1;
	if (fresh)
		*fresh = false;
	t->n++;
	for (int i = 0; i < IOTDNS_RND_TOP_K; i++) {
		if (t->cnt[i] && t->val[i] == v) {
			t->cnt[i]++;
			return i;
		}
		if (!t->cnt[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0) {
		t->val[free_slot] = v;
		t->cnt[free_slot] = 1;
		t->used++;
		if (fresh)
			*fresh = true;
		return free_slot;
	}
	/* full: v and one occurrence of every kept value cancel out */
	t->lossy = true;
	for (int i = 0; i < IOTDNS_RND_TOP_K; i++)
		if (--t->cnt[i] == 0)
			t->used--;
	return -1;
}

int iotdns_rnd_top_best(const struct iotdns_rnd_top *t)
{
	int best = -1;
	for (int i = 0; i < IOTDNS_RND_TOP_K; i++)
		if (t->cnt[i] && (best < 0 || t->cnt[i] > t->cnt[best]))
			best = i;
	return best;
}

/* The counts in descending order into out[K]; returns how many are non-zero. */
static unsigned sorted_counts(const struct iotdns_rnd_top *t, uint32_t out[IOTDNS_RND_TOP_K])
{
	unsigned n = 0;
	for (int i = 0; i < IOTDNS_RND_TOP_K; i++) {
		if (!t->cnt[i])
			continue;
		unsigned j = n++;
		while (j > 0 && out[j - 1] < t->cnt[i]) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = t->cnt[i];
	}
	return n;
}

uint32_t iotdns_rnd_top_cover(const struct iotdns_rnd_top *t, unsigned m)
{
	uint32_t c[IOTDNS_RND_TOP_K];
	unsigned n = sorted_counts(t, c);
	uint32_t sum = 0;
	for (unsigned i = 0; i < n && i < m; i++)
		sum += c[i];
	return sum;
}

unsigned iotdns_rnd_top_values_for(const struct iotdns_rnd_top *t, double share)
{
	uint32_t c[IOTDNS_RND_TOP_K];
	unsigned n = sorted_counts(t, c);
	if (!t->n)
		return 0;
	double need = share * (double)t->n;
	uint32_t sum = 0;
	for (unsigned i = 0; i < n; i++) {
		sum += c[i];
		if ((double)sum >= need)
			return i + 1;
	}
	return 0;
}

/* ---- birthday test --------------------------------------------------------- */

int iotdns_rnd_sample_add(struct iotdns_rnd_sample *s, uint16_t v, uint16_t tag)
{
	if (s->n >= IOTDNS_RND_SAMPLE)
		return IOTDNS_RND_FULL;
	/* fast path: a value the filter has never seen is new */
	unsigned bit = (uint16_t)(v * 40503u) >> 6;
	uint64_t mask = 1ull << (bit & 63);
	if (!(s->seen[bit >> 6] & mask)) {
		s->seen[bit >> 6] |= mask;
		s->e[s->n].tag = tag;
		s->e[s->n++].v = v;
		return 0;
	}
	int seen = 0;
	for (unsigned i = 0; i < s->n; i++) {
		if (s->e[i].v != v)
			continue;
		if (tag && s->e[i].tag == tag) {
			s->replays++;
			return IOTDNS_RND_REPLAY;
		}
		seen++;
	}
	s->e[s->n].tag = tag;
	s->e[s->n++].v = v;
	if (seen)
		s->collisions++;
	if (seen == 1)
		s->repeated++;
	return seen;
}

double iotdns_rnd_expected_collisions(double k, double N)
{
	if (k <= 1 || N <= 1)
		return k > 1 ? k - 1 : 0;
	/* (1 − 1/N)^k through log1p keeps precision for large N */
	return k - N * -expm1(k * log1p(-1.0 / N));
}

double iotdns_rnd_expected_repeated(double k, double N)
{
	if (k <= 1)
		return 0;
	if (N <= 1)
		return 1;
	double l = log1p(-1.0 / N);
	double none = exp(k * l);                    /* a given value never drawn */
	double once = (k / N) * exp((k - 1) * l);    /* drawn exactly once */
	double r = N * (1 - none - once);
	return r > 0 ? r : 0;
}

double iotdns_rnd_poisson_sf(double lambda, unsigned x)
{
	if (x == 0)
		return 1;
	if (lambda <= 0)
		return 0;
	/* first tail term e^-λ λ^x / x!, then add terms until they stop mattering */
	double term = exp(-lambda + (double)x * log(lambda) - lgamma((double)x + 1));
	double sum = 0;
	for (unsigned i = x; i < x + 100000u; i++) {
		sum += term;
		term *= lambda / ((double)i + 1);
		if (term < sum * 1e-17 || term == 0)
			break;
	}
	return sum > 1 ? 1 : sum;
}

void iotdns_rnd_birthday(const struct iotdns_rnd_sample *s, double N, struct iotdns_rnd_birthday *out)
{
	if (!(N >= 1))
		N = 1;
	if (N > 65536)
		N = 65536;
	out->k = s->n;
	out->observed = s->repeated;
	out->collisions = s->collisions;
	out->space = N;
	out->expected = iotdns_rnd_expected_repeated(s->n, N);
	out->p = iotdns_rnd_poisson_sf(out->expected, s->repeated);
	/* the N whose expected repeated values equal the observed ones (bisection
	 * on log N; the expectation falls as N grows) */
	if (!s->repeated || s->n < 2) {
		out->n_eff = 65536;
		return;
	}
	double lo = 0, hi = log(1e7);
	for (int i = 0; i < 60; i++) {
		double mid = (lo + hi) / 2;
		if (iotdns_rnd_expected_repeated(s->n, exp(mid)) > s->repeated)
			lo = mid;
		else
			hi = mid;
	}
	out->n_eff = exp((lo + hi) / 2);
	if (out->n_eff > 65536)
		out->n_eff = 65536;
}

/* ---- first value per session ------------------------------------------------- */

void iotdns_rnd_first_add(struct iotdns_rnd_first *f, uint16_t v, unsigned low_max)
{
	f->sessions++;
	if (v <= low_max)
		f->low++;
	iotdns_rnd_top_add(&f->top, v, NULL);
}

bool iotdns_rnd_first_repeats(const struct iotdns_rnd_first *f, uint32_t min_sessions, double share,
			      uint16_t *val, uint32_t *count)
{
	int b = iotdns_rnd_top_best(&f->top);
	if (b < 0)
		return false;
	uint32_t c = f->top.cnt[b];
	if (c < min_sessions || c < 2 || (double)c <= share * (double)f->sessions)
		return false;
	if (val)
		*val = f->top.val[b];
	if (count)
		*count = c;
	return true;
}

/* ---- port-range signature ------------------------------------------------------ */

static const struct {
	enum iotdns_rnd_range r;
	uint32_t lo, hi;    /* nominal range */
	uint32_t hi_ok;     /* largest value still accepted (old Linux: 61000) */
} ranges[] = {
	{ IOTDNS_RANGE_LINUX, 32768, 60999, 61000 },
	{ IOTDNS_RANGE_RFC6335, 49152, 65535, 65535 },
	{ IOTDNS_RANGE_FULL, 1024, 65535, 65535 },
};

enum iotdns_rnd_range iotdns_rnd_port_range(const struct iotdns_rnd_moments *m)
{
	if (m->n < IOTDNS_RND_RANGE_MIN_N)
		return IOTDNS_RANGE_UNKNOWN;
	for (size_t i = 0; i < IOTDNS_ARRAY_LEN(ranges); i++) {
		double width = (double)ranges[i].hi - ranges[i].lo + 1;
		double tol = 7.0 * width / (double)m->n + 1;
		if (m->min < ranges[i].lo || m->max > ranges[i].hi_ok)
			continue;
		if ((double)(m->min - ranges[i].lo) > tol)
			continue;
		if (m->max < ranges[i].hi && (double)(ranges[i].hi - m->max) > tol)
			continue;
		return ranges[i].r;
	}
	return IOTDNS_RANGE_OTHER;
}

const char *iotdns_rnd_range_name(enum iotdns_rnd_range r)
{
	switch (r) {
	case IOTDNS_RANGE_LINUX: return "linux";
	case IOTDNS_RANGE_RFC6335: return "rfc6335";
	case IOTDNS_RANGE_FULL: return "full";
	case IOTDNS_RANGE_OTHER: return "other";
	case IOTDNS_RANGE_UNKNOWN: break;
	}
	return "unknown";
}

/* ---- evidence ------------------------------------------------------------------ */

void iotdns_rnd_ev_note(struct iotdns_rnd_ev *e, const struct iotdns_dns_event *ev)
{
	const struct iotdns_pkt *p = ev->pkt;
	const struct iotdns_dns_msg *m = ev->msg;
	e->pktno = p->pktno;
	e->ts_us = p->ts_us;
	e->input = p->input;
	e->session = ev->session ? ev->session->idx : 0;
	e->port = p->sport;
	e->id = m->id;
	e->qtype = m->qtype;
	e->prev = 0;
	e->has_prev = false;
	if (ev->resolver)
		e->resolver = ev->resolver->addr;
	else
		memset(&e->resolver, 0, sizeof(e->resolver));
	if (!m->has_question) {
		snprintf(e->name, sizeof(e->name), "(no question)");
		return;
	}
	size_t len = strlen(m->qname);
	if (len < sizeof(e->name)) {
		memcpy(e->name, m->qname, len + 1);
	} else {
		memcpy(e->name, m->qname, sizeof(e->name) - 4);
		memcpy(e->name + sizeof(e->name) - 4, "...", 4);
	}
}

void iotdns_rnd_ev_emit(struct iotdns_finding *f, const struct iotdns_rnd_ev *e, const char *note)
{
	if (!f || !e->pktno)
		return;
	for (unsigned i = 0; i < f->nev; i++)
		if (f->ev[i].pktno == e->pktno && f->ev[i].input == e->input)
			return; /* already shown */
	char t[16], a[IOTDNS_ADDR_TEXT] = "?";
	if (e->resolver.family)
		iotdns_addr_str(&e->resolver, a);
	struct iotdns_pkt p = { .pktno = e->pktno, .ts_us = e->ts_us, .input = e->input };
	struct iotdns_evidence ev;
	iotdns_evidence_set(&ev, &p, "query 0x%04x %s %s from port %u to %s (session %u)%s%s", e->id, e->name,
			    iotdns_rrtype_name(e->qtype, t), e->port, a, e->session, note && *note ? ", " : "",
			    note ? note : "");
	iotdns_finding_evidence(f, &ev);
}

const char *iotdns_rnd_fmt_int(double v, char buf[32])
{
	char tmp[32];
	if (!isfinite(v) || v < 0 || v > 1e15) {
		snprintf(buf, 32, "%.0f", v);
		return buf;
	}
	snprintf(tmp, sizeof(tmp), "%.0f", v);
	size_t len = strlen(tmp), o = 0;
	for (size_t i = 0; i < len && o + 2 < 32; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

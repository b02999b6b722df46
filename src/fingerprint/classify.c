/* iotdns - the device classifier (include/iotdns/fingerprint.h,
 * docs/fingerprinting.md).
 *
 * Evidence items (names, the MAC's OUI, DHCP fields, mDNS names) are matched
 * once against the rule index; each item hits some rule lines. A line counts
 * once however many items hit it. A rule's strength is the noisy-OR of its
 * hit lines' weights, p = 1 - prod(1 - w), and the rule matches when at
 * least `need` of its lines hit.
 *
 * Verdict: the vendor with the strongest matching rule wins; within that
 * vendor the strongest product rule (kind = specific) decides category and
 * product, and a generic (vendor-level) rule only when no product rule
 * matches. Contradictions lower the confidence:
 *
 *   confidence = p(rule) * pV / (pV + p(other vendor)) * p(rule) / (p(rule) + p(other category))
 *
 * where pV is the vendor's strongest rule, "other vendor" the strongest
 * matching rule of an unrelated vendor and "other category" the strongest
 * product rule of the same vendor with another category. Below the floor the
 * answer is unknown (the partial evidence stays in the JSON).
 *
 * Time to identify: the items are replayed in first-seen order; after each
 * item that hits a new line the verdict is recomputed over the rules touched
 * so far (a few), until it equals the final verdict with a confidence at or
 * above the threshold.
 *
 * Memory: per classifier, arrays sized by the rule set (lines, rules) and
 * growable item/hit arrays reused across devices; after a device only the
 * touched entries are cleared.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/fingerprint.h"
#include "iotdns/json.h"
#include "fp_internal.h"

#define MAX_HITS_PER_ITEM 256
/* weights are floats (0.7f is 0.69999999): a confidence within this of the
 * threshold counts as reaching it */
#define FP_EPS 1e-6

enum item_kind { IT_NAME, IT_OUI, IT_DHCP_HOST, IT_DHCP_VENDOR, IT_DHCP_PRL, IT_DHCP_CLIENT_ID, IT_MDNS };

struct item {
	uint64_t ts;
	uint8_t kind;                 /* enum item_kind */
	bool shared, local;
	int32_t name_idx;             /* IT_NAME: index into input->names */
	const char *text;             /* borrowed (input, OUI table) */
	uint32_t hit_off, nhit;       /* into hits[] */
};

struct line_acc {
	uint32_t nitems;              /* items that hit it (0 = not hit) */
	uint32_t first_item;
};

struct rule_acc {
	double logq;                  /* sum of log(1 - w) over hit lines */
	uint32_t nhit;
	uint32_t nreq_hit;            /* hit lines marked required */
	bool touched;
};

struct iotdns_fp_classifier {
	const struct iotdns_fp_rules *rs;
	const struct iotdns_oui *oui;
	struct line_acc *lines;       /* [rs->nlines] */
	struct rule_acc *rules;       /* [rs->nrules] */
	uint32_t *touched_rules, ntouched_rules;
	uint32_t *touched_lines, ntouched_lines;
	struct item *items;
	uint32_t nitems, cap_items;
	uint32_t *order;              /* item indexes by time */
	uint32_t cap_order;
	uint32_t *hits;
	uint32_t nhits, cap_hits;
	int32_t *name_item;           /* input name index -> item index, -1 */
	uint32_t cap_name_item;
	/* the last classification, for the JSON */
	const struct iotdns_fp_input *in;
	unsigned flags;
	const char *oui_org;
	char oui_prefix[9];
};

void iotdns_fp_params_default(struct iotdns_fp_params *p)
{
	p->threshold = 0.7;
	p->floor = 0.4;
}

int iotdns_fp_classifier_new(struct iotdns_fp_classifier **out, const struct iotdns_fp_rules *rs,
			     const struct iotdns_oui *oui, struct iotdns_err *err)
{
	if (!rs->finished)
		return iotdns_err_set(err, IOTDNS_EINVAL, "rule set not finished");
	struct iotdns_fp_classifier *c = calloc(1, sizeof(*c));
	if (!c)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
	c->rs = rs;
	c->oui = oui;
	c->lines = calloc(rs->nlines + 1, sizeof(*c->lines));
	c->rules = calloc(rs->nrules + 1, sizeof(*c->rules));
	c->touched_rules = calloc(rs->nrules + 1, sizeof(*c->touched_rules));
	c->touched_lines = calloc(rs->nlines + 1, sizeof(*c->touched_lines));
	if (!c->lines || !c->rules || !c->touched_rules || !c->touched_lines) {
		iotdns_fp_classifier_free(c);
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
	}
	*out = c;
	return IOTDNS_OK;
}

void iotdns_fp_classifier_free(struct iotdns_fp_classifier *c)
{
	if (!c)
		return;
	free(c->lines);
	free(c->rules);
	free(c->touched_rules);
	free(c->touched_lines);
	free(c->items);
	free(c->order);
	free(c->hits);
	free(c->name_item);
	free(c);
}

/* ---- accumulator ---------------------------------------------------------------- */

static void acc_reset(struct iotdns_fp_classifier *c)
{
	for (uint32_t i = 0; i < c->ntouched_lines; i++)
		c->lines[c->touched_lines[i]].nitems = 0;
	for (uint32_t i = 0; i < c->ntouched_rules; i++) {
		struct rule_acc *r = &c->rules[c->touched_rules[i]];
		r->logq = 0;
		r->nhit = 0;
		r->nreq_hit = 0;
		r->touched = false;
	}
	c->ntouched_lines = c->ntouched_rules = 0;
}

/* Adds item idx; returns whether a line was hit for the first time.
 *
 * Counting: a line counts once (later items hitting it add nothing), and an
 * item counts once per rule: when it hits several new lines of one rule (a
 * name matching both `domain = x.test` and `qname = api.x.test`, an OUI
 * matching two organization patterns) only the strongest adds weight, since
 * they are one observation. The item's hits are sorted by line, so the lines
 * of one rule are adjacent. */
static bool acc_add(struct iotdns_fp_classifier *c, uint32_t idx)
{
	const struct item *it = &c->items[idx];
	bool changed = false;
	uint32_t k = 0;
	while (k < it->nhit) {
		uint32_t rule = c->rs->lines[c->hits[it->hit_off + k]].rule;
		float wmax = -1;
		bool req = false;
		for (; k < it->nhit; k++) {
			uint32_t li = c->hits[it->hit_off + k];
			const struct iotdns_fp_line *l = &c->rs->lines[li];
			if (l->rule != rule)
				break;
			struct line_acc *la = &c->lines[li];
			if (la->nitems++) /* an already hit line counts once */
				continue;
			la->first_item = idx;
			c->touched_lines[c->ntouched_lines++] = li;
			if (l->weight > wmax)
				wmax = l->weight;
			req |= l->required;
		}
		if (wmax < 0)
			continue;
		struct rule_acc *ra = &c->rules[rule];
		if (!ra->touched) {
			ra->touched = true;
			c->touched_rules[c->ntouched_rules++] = rule;
		}
		ra->nhit++;
		ra->nreq_hit += req;
		ra->logq += log1p(-(double)wmax);
		changed = true;
	}
	return changed;
}

static double rule_p(const struct iotdns_fp_classifier *c, uint32_t r)
{
	return 1.0 - exp(c->rules[r].logq);
}

static bool rule_matches(const struct iotdns_fp_classifier *c, uint32_t r)
{
	const struct iotdns_fp_rule *rule = &c->rs->rules[r];
	return !rule->shared && c->rules[r].nhit >= rule->need && (!rule->nrequired || c->rules[r].nreq_hit);
}

static const char *rule_vendor(const struct iotdns_fp_classifier *c, const struct iotdns_fp_rule *r)
{
	return r->vendor_from_oui ? c->oui_org : r->vendor;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Is brand (case-insensitively) one of the ", "-separated entries of list? */
static bool in_list(const char *list, const char *brand)
{
	if (!list || !brand)
		return false;
	size_t n = strlen(brand);
	for (const char *p = list; *p;) {
		const char *end = strstr(p, ", ");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncasecmp(p, brand, n) == 0)
			return true;
		if (!end)
			break;
		p = end + 2;
	}
	return false;
}

/* Same vendor, or one is a brand sold on the other's platform. */
static bool related(const struct iotdns_fp_classifier *c, const struct iotdns_fp_rule *a,
		    const struct iotdns_fp_rule *b)
{
	const char *va = rule_vendor(c, a), *vb = rule_vendor(c, b);
	return same_str(va, vb) || in_list(a->brands, vb) || in_list(b->brands, va);
}

/* Strength of the hit lines of o that have no hit counterpart (same key and
 * pattern) in rule chosen. */
static double exclusive_p(const struct iotdns_fp_classifier *c, const struct iotdns_fp_rule *o,
			  const struct iotdns_fp_rule *chosen)
{
	double logq = 0;
	for (uint32_t li = o->first_line; li < o->first_line + o->nlines; li++) {
		if (!c->lines[li].nitems)
			continue;
		const struct iotdns_fp_line *l = &c->rs->lines[li];
		bool explained = false;
		for (uint32_t lj = chosen->first_line; lj < chosen->first_line + chosen->nlines && !explained; lj++) {
			const struct iotdns_fp_line *m = &c->rs->lines[lj];
			explained = c->lines[lj].nitems && m->key == l->key && strcmp(m->pattern, l->pattern) == 0;
		}
		if (!explained)
			logq += log1p(-(double)l->weight);
	}
	return 1.0 - exp(logq);
}

struct decision {
	int32_t rule;                 /* chosen rule, -1 = none */
	double p_rule, p_vendor, p_other, p_othercat;
	int32_t other;                /* best unrelated rule, -1 */
	double conf;
};

static void decide(const struct iotdns_fp_classifier *c, struct decision *d)
{
	const struct iotdns_fp_rules *rs = c->rs;
	memset(d, 0, sizeof(*d));
	d->rule = d->other = -1;
	/* the strongest matching rule names the vendor */
	int32_t top = -1;
	double ptop = -1;
	for (uint32_t i = 0; i < c->ntouched_rules; i++) {
		uint32_t r = c->touched_rules[i];
		if (!rule_matches(c, r))
			continue;
		double p = rule_p(c, r);
		if (p > ptop + 1e-12 || (fabs(p - ptop) <= 1e-12 && (int32_t)r < top)) {
			top = (int32_t)r;
			ptop = p;
		}
	}
	if (top < 0)
		return;
	const struct iotdns_fp_rule *tr = &rs->rules[top];
	/* within that vendor: the strongest product rule, else the strongest generic */
	int32_t spec = -1, gen = -1;
	double pspec = -1, pgen = -1;
	for (uint32_t i = 0; i < c->ntouched_rules; i++) {
		uint32_t r = c->touched_rules[i];
		if (!rule_matches(c, r) || !same_str(rule_vendor(c, &rs->rules[r]), rule_vendor(c, tr)))
			continue;
		double p = rule_p(c, r);
		if (!rs->rules[r].generic) {
			if (p > pspec + 1e-12 || (fabs(p - pspec) <= 1e-12 && (int32_t)r < spec))
				spec = (int32_t)r, pspec = p;
		} else if (p > pgen + 1e-12 || (fabs(p - pgen) <= 1e-12 && (int32_t)r < gen)) {
			gen = (int32_t)r, pgen = p;
		}
	}
	d->rule = spec >= 0 ? spec : gen;
	d->p_rule = spec >= 0 ? pspec : pgen;
	d->p_vendor = ptop;
	const struct iotdns_fp_rule *chosen = &rs->rules[d->rule];
	for (uint32_t i = 0; i < c->ntouched_rules; i++) {
		uint32_t r = c->touched_rules[i];
		if (!rule_matches(c, r) || (int32_t)r == d->rule)
			continue;
		const struct iotdns_fp_rule *o = &rs->rules[r];
		double p = rule_p(c, r);
		if (!related(c, chosen, o)) {
			if (p > d->p_other + 1e-12 || (fabs(p - d->p_other) <= 1e-12 && d->other >= 0 &&
						       (int32_t)r < d->other)) {
				d->p_other = p;
				d->other = (int32_t)r;
			}
		} else if (!chosen->generic && !o->generic && o->category != chosen->category) {
			/* only evidence the chosen rule does not explain contradicts it */
			double pe = exclusive_p(c, o, chosen);
			if (pe > d->p_othercat)
				d->p_othercat = pe;
		}
	}
	double conf = d->p_rule * d->p_vendor / (d->p_vendor + d->p_other);
	if (d->p_othercat > 0)
		conf *= d->p_rule / (d->p_rule + d->p_othercat);
	d->conf = conf < 0 ? 0 : conf > 1 ? 1 : conf;
}

static void fill_verdict(const struct iotdns_fp_classifier *c, const struct decision *d,
			 const struct iotdns_fp_params *pp, struct iotdns_fp_verdict *v)
{
	v->category = "unknown";
	v->vendor = v->product = NULL;
	v->rule = v->runner_up = NULL;
	v->runner_up_p = 0;
	v->confidence = d->rule >= 0 ? d->conf : 0;
	v->identified = false;
	if (d->other >= 0) {
		v->runner_up = &c->rs->rules[d->other];
		v->runner_up_p = d->p_other;
	}
	if (d->rule < 0 || d->conf < pp->floor - FP_EPS)
		return;
	const struct iotdns_fp_rule *r = &c->rs->rules[d->rule];
	v->rule = r;
	v->category = r->category;
	v->vendor = rule_vendor(c, r);
	v->product = r->product;
	v->identified = d->conf >= pp->threshold - FP_EPS && (v->vendor || strcmp(v->category, "unknown") != 0);
}

/* ---- evidence items ---------------------------------------------------------------- */

static int grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return IOTDNS_OK;
	uint32_t ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, (size_t)ncap * elem);
	if (!np)
		return IOTDNS_ENOMEM;
	*p = np;
	*cap = ncap;
	return IOTDNS_OK;
}

static struct item *new_item(struct iotdns_fp_classifier *c, uint8_t kind, uint64_t ts, const char *text)
{
	if (grow((void **)&c->items, &c->cap_items, c->nitems + 1, sizeof(*c->items)))
		return NULL;
	struct item *it = &c->items[c->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->ts = ts;
	it->text = text;
	it->name_idx = -1;
	it->hit_off = c->nhits;
	return it;
}

/* Adds line to the item's hits, kept sorted by line index (so the lines of
 * one rule are adjacent) and without duplicates. Items hit few lines. */
static int push_hit(struct iotdns_fp_classifier *c, struct item *it, uint32_t line)
{
	uint32_t *h = it->nhit ? c->hits + it->hit_off : NULL;
	uint32_t pos = it->nhit;
	for (uint32_t k = 0; k < it->nhit; k++) {
		if (h[k] == line)
			return IOTDNS_OK;
		if (h[k] > line && pos == it->nhit)
			pos = k;
	}
	if (grow((void **)&c->hits, &c->cap_hits, c->nhits + 1, sizeof(*c->hits)))
		return IOTDNS_ENOMEM;
	h = c->hits + it->hit_off;
	memmove(h + pos + 1, h + pos, (it->nhit - pos) * sizeof(*h));
	h[pos] = line;
	c->nhits++;
	it->nhit++;
	return IOTDNS_OK;
}

static int glob_hits(struct iotdns_fp_classifier *c, struct item *it, enum iotdns_fp_key key, const char *text)
{
	const struct fp_list *l = &c->rs->glob[key];
	for (uint32_t i = 0; i < l->n; i++) {
		const struct iotdns_fp_line *line = &c->rs->lines[l->v[i]];
		bool hit = key == IOTDNS_FP_DHCP_PRL ? strcmp(line->pattern, text) == 0
						      : iotdns_fp_glob(line->pattern, text);
		if (hit && push_hit(c, it, l->v[i]))
			return IOTDNS_ENOMEM;
	}
	return IOTDNS_OK;
}

static bool is_local_name(const char *n)
{
	size_t len = strlen(n);
	return (len >= 6 && strcmp(n + len - 6, ".local") == 0) || strcmp(n, "local") == 0 ||
	       (len >= 5 && strcmp(n + len - 5, ".arpa") == 0) || !strchr(n, '.');
}

static int build_items(struct iotdns_fp_classifier *c, const struct iotdns_fp_input *in, unsigned flags)
{
	const struct iotdns_fp_rules *rs = c->rs;
	c->nitems = c->nhits = 0;
	c->oui_org = NULL;
	c->oui_prefix[0] = '\0';
	if (grow((void **)&c->name_item, &c->cap_name_item, in->nnames + 1, sizeof(*c->name_item)))
		return IOTDNS_ENOMEM;
	uint32_t buf[MAX_HITS_PER_ITEM];
	for (uint32_t i = 0; i < in->nnames; i++) {
		const char *name = in->names[i].name;
		struct item *it = new_item(c, IT_NAME, in->names[i].first_us, name);
		if (!it)
			return IOTDNS_ENOMEM;
		it->name_idx = (int32_t)i;
		c->name_item[i] = (int32_t)(c->nitems - 1);
		if (!name || is_local_name(name)) {
			it->local = true;
			continue;
		}
		bool shared = false;
		unsigned n = iotdns_fp_match_name(rs, name, buf, MAX_HITS_PER_ITEM, &shared);
		it->shared = shared;
		for (unsigned k = 0; k < n; k++)
			if (push_hit(c, it, buf[k]))
				return IOTDNS_ENOMEM;
	}
	/* 00:00:00 is registered (to Xerox) but in practice a placeholder or a
	 * zeroed field: never evidence */
	bool placeholder = in->has_mac && in->mac[0] == 0 && in->mac[1] == 0 && in->mac[2] == 0;
	if (in->has_mac && !placeholder) {
		c->oui_org = iotdns_oui_lookup(c->oui, in->mac);
		if (!iotdns_mac_is_local(in->mac))
			snprintf(c->oui_prefix, sizeof(c->oui_prefix), "%02x:%02x:%02x", in->mac[0], in->mac[1],
				 in->mac[2]);
	}
	if (flags & IOTDNS_FP_DNS_ONLY)
		return IOTDNS_OK;
	if (in->has_mac && !placeholder && !iotdns_mac_is_local(in->mac) && !(in->mac[0] & 1)) {
		struct item *it = new_item(c, IT_OUI, in->first_us, c->oui_org ? c->oui_org : c->oui_prefix);
		if (!it)
			return IOTDNS_ENOMEM;
		uint32_t prefix = ((uint32_t)in->mac[0] << 16) | ((uint32_t)in->mac[1] << 8) | in->mac[2];
		uint32_t lo = 0, hi = rs->noui;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (rs->oui[mid].prefix < prefix)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < rs->noui && rs->oui[lo].prefix == prefix; lo++)
			if (push_hit(c, it, rs->oui[lo].line))
				return IOTDNS_ENOMEM;
		if (c->oui_org && glob_hits(c, it, IOTDNS_FP_OUI_ORG, c->oui_org))
			return IOTDNS_ENOMEM;
	}
	for (uint32_t i = 0; i < in->ndhcp; i++) {
		const struct iotdns_dev_dhcp *d = &in->dhcp[i];
		struct {
			uint8_t kind;
			enum iotdns_fp_key key;
			const char *text;
		} f[4] = {
			{ IT_DHCP_HOST, IOTDNS_FP_DHCP_HOSTNAME, d->hostname },
			{ IT_DHCP_VENDOR, IOTDNS_FP_DHCP_VENDOR, d->vendor_class },
			{ IT_DHCP_PRL, IOTDNS_FP_DHCP_PRL, d->version == 4 ? d->prl : "" },
			{ IT_DHCP_CLIENT_ID, IOTDNS_FP_DHCP_CLIENT_ID, d->client_id },
		};
		for (unsigned k = 0; k < 4; k++) {
			if (!f[k].text[0])
				continue;
			struct item *it = new_item(c, f[k].kind, d->first_us, f[k].text);
			if (!it || glob_hits(c, it, f[k].key, f[k].text))
				return IOTDNS_ENOMEM;
		}
	}
	for (uint32_t i = 0; i < in->nmdns; i++) {
		const struct iotdns_fp_mdns *m = &in->mdns[i];
		struct item *it = new_item(c, IT_MDNS, m->first_us, m->text);
		if (!it)
			return IOTDNS_ENOMEM;
		if (m->kind == IOTDNS_FP_M_INSTANCE) {
			if (m->service) {
				const struct fp_smap_slot *s =
					iotdns_fp_smap_get(&rs->service, m->service, iotdns_fp_key_hash(m->service));
				for (uint32_t e = s ? s->head : FP_NONE; e != FP_NONE; e = rs->chain[e].next)
					if (push_hit(c, it, rs->chain[e].line))
						return IOTDNS_ENOMEM;
			}
			if (glob_hits(c, it, IOTDNS_FP_MDNS_INSTANCE, m->text))
				return IOTDNS_ENOMEM;
		} else if (glob_hits(c, it, IOTDNS_FP_MDNS_HOST, m->text)) {
			return IOTDNS_ENOMEM;
		}
	}
	return IOTDNS_OK;
}

static const struct iotdns_fp_classifier *sort_ctx;

static int cmp_order(const void *a, const void *b)
{
	const struct item *x = &sort_ctx->items[*(const uint32_t *)a];
	const struct item *y = &sort_ctx->items[*(const uint32_t *)b];
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static const char *item_label(const struct item *it)
{
	switch (it->kind) {
	case IT_OUI: return "oui";
	case IT_DHCP_HOST: return "dhcp-hostname";
	case IT_DHCP_VENDOR: return "dhcp-vendor";
	case IT_DHCP_PRL: return "dhcp-prl";
	case IT_DHCP_CLIENT_ID: return "dhcp-client-id";
	case IT_MDNS: return "mdns";
	default: return "name";
	}
}

int iotdns_fp_classify(struct iotdns_fp_classifier *c, const struct iotdns_fp_input *in, unsigned flags,
		       const struct iotdns_fp_params *params, struct iotdns_fp_verdict *v)
{
	struct iotdns_fp_params defp;
	if (!params) {
		iotdns_fp_params_default(&defp);
		params = &defp;
	}
	memset(v, 0, sizeof(*v));
	v->category = "unknown";
	v->reached_name_idx = -1;
	acc_reset(c);
	c->in = in;
	c->flags = flags;
	int rc = build_items(c, in, flags);
	if (rc != IOTDNS_OK)
		return rc;
	if (grow((void **)&c->order, &c->cap_order, c->nitems + 1, sizeof(*c->order)))
		return IOTDNS_ENOMEM;
	for (uint32_t i = 0; i < c->nitems; i++)
		c->order[i] = i;
	sort_ctx = c;
	qsort(c->order, c->nitems, sizeof(*c->order), cmp_order);
	sort_ctx = NULL;

	/* pass 1: everything -> the final verdict */
	for (uint32_t i = 0; i < c->nitems; i++)
		acc_add(c, c->order[i]);
	struct decision d;
	decide(c, &d);
	fill_verdict(c, &d, params, v);
	v->oui_org = c->oui_org;
	v->mac_local = in->has_mac && iotdns_mac_is_local(in->mac);

	/* names */
	for (uint32_t i = 0; i < c->nitems; i++) {
		const struct item *it = &c->items[i];
		if (it->kind != IT_NAME)
			continue;
		if (it->local) {
			v->names_local++;
			continue;
		}
		v->names_total++;
		if (it->shared)
			v->names_shared++;
		else if (it->nhit)
			v->names_vendor++;
		else
			v->names_unmatched++;
		if (v->rule) {
			uint32_t ri = (uint32_t)(v->rule - c->rs->rules);
			for (uint32_t k = 0; k < it->nhit; k++)
				if (c->rs->lines[c->hits[it->hit_off + k]].rule == ri) {
					v->names_decisive++;
					break;
				}
		}
	}

	/* pass 2: replay in first-seen order until the final verdict is reached */
	if (!v->identified)
		return IOTDNS_OK;
	acc_reset(c);
	uint32_t names_seen = 0;
	for (uint32_t i = 0; i < c->nitems; i++) {
		uint32_t idx = c->order[i];
		const struct item *it = &c->items[idx];
		bool changed = acc_add(c, idx);
		if (it->kind == IT_NAME && !it->local)
			names_seen++;
		if (v->reached || !changed)
			continue;
		struct decision dd;
		decide(c, &dd);
		if (dd.rule < 0 || dd.conf < params->threshold - FP_EPS)
			continue;
		const struct iotdns_fp_rule *r = &c->rs->rules[dd.rule];
		if (!same_str(rule_vendor(c, r), v->vendor) || r->category != v->category)
			continue;
		v->reached = true;
		v->reached_us = it->ts;
		v->reached_names = names_seen;
		v->reached_by = it->kind == IT_NAME ? it->text : item_label(it);
		v->reached_name_idx = it->name_idx;
	}
	return IOTDNS_OK;
}

bool iotdns_fp_name_hits_rule(const struct iotdns_fp_classifier *c, uint32_t i, const struct iotdns_fp_rule *r)
{
	if (!c->in || i >= c->in->nnames || !r)
		return false;
	int32_t ii = c->name_item[i];
	if (ii < 0 || (uint32_t)ii >= c->nitems)
		return false;
	const struct item *it = &c->items[ii];
	uint32_t ri = (uint32_t)(r - c->rs->rules);
	for (uint32_t k = 0; k < it->nhit; k++)
		if (c->rs->lines[c->hits[it->hit_off + k]].rule == ri)
			return true;
	return false;
}

/* ---- evidence JSON ------------------------------------------------------------------- */

struct jb {
	char *buf;
	size_t size, len;
	bool full;                    /* a piece did not fit: detail dropped from here on */
};

#define JB_RESERVE 96 /* room kept for closing brackets */

static bool jb_raw(struct jb *j, const char *s)
{
	size_t n = strlen(s);
	if (j->full || j->len + n + JB_RESERVE >= j->size) {
		j->full = true;
		return false;
	}
	memcpy(j->buf + j->len, s, n + 1);
	j->len += n;
	return true;
}

/* closing text ignores the reserve (it is what the reserve is for) */
static void jb_close(struct jb *j, const char *s)
{
	size_t n = strlen(s);
	if (j->len + n + 1 > j->size)
		return;
	memcpy(j->buf + j->len, s, n + 1);
	j->len += n;
}

static bool jb_str(struct jb *j, const char *s)
{
	char tmp[1024];
	if (!s)
		return jb_raw(j, "null");
	iotdns_json_str_buf(tmp, sizeof(tmp), s);
	return jb_raw(j, tmp);
}

static bool jb_kv_str(struct jb *j, const char *key, const char *val, bool comma)
{
	char k[80];
	snprintf(k, sizeof(k), "%s\"%s\":", comma ? "," : "", key);
	if (!jb_raw(j, k))
		return false;
	if (!jb_str(j, val)) {
		/* keep the document valid: the key was written */
		jb_close(j, "null");
		return false;
	}
	return true;
}

static bool jb_kv_num(struct jb *j, const char *key, double val, bool integer)
{
	char k[96];
	if (integer)
		snprintf(k, sizeof(k), ",\"%s\":%.0f", key, val);
	else
		snprintf(k, sizeof(k), ",\"%s\":%.3f", key, val);
	return jb_raw(j, k);
}

/* "dir/x.rules" -> "x.rules": the evidence stays meaningful wherever the rules live */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void hits_of_rule(struct iotdns_fp_classifier *c, struct jb *j, const struct iotdns_fp_rule *r)
{
	bool first = true;
	for (uint32_t li = r->first_line; li < r->first_line + r->nlines; li++) {
		const struct line_acc *la = &c->lines[li];
		if (!la->nitems)
			continue;
		const struct iotdns_fp_line *l = &c->rs->lines[li];
		char head[1400], pat[600], at[600], full[520], atr[512];
		snprintf(full, sizeof(full), "%s%s", l->key == IOTDNS_FP_WILDCARD ? "*." : "", l->pattern);
		iotdns_json_str_buf(pat, sizeof(pat), full);
		snprintf(atr, sizeof(atr), "%s:%u", base_name(r->file), l->lineno);
		iotdns_json_str_buf(at, sizeof(at), atr);
		snprintf(head, sizeof(head), "%s{\"key\":\"%s\",\"pattern\":%s,\"weight\":%.2f,\"at\":%s,\"matched\":[",
			 first ? "" : ",", iotdns_fp_key_name(l->key), pat, l->weight, at);
		if (!jb_raw(j, head))
			return;
		first = false;
		/* up to 3 distinct items that hit the line, first-seen first */
		unsigned shown = 0;
		const char *prev[3] = { NULL, NULL, NULL };
		for (uint32_t oi = 0; oi < c->nitems && shown < 3; oi++) {
			const struct item *it = &c->items[c->order[oi]];
			bool hit = false;
			for (uint32_t k = 0; k < it->nhit && !hit; k++)
				hit = c->hits[it->hit_off + k] == li;
			for (unsigned k = 0; k < shown && hit; k++)
				hit = strcmp(prev[k], it->text) != 0;
			if (!hit)
				continue;
			prev[shown] = it->text;
			if (shown && !jb_raw(j, ","))
				break;
			if (!jb_str(j, it->text))
				break;
			shown++;
		}
		char tail[48];
		snprintf(tail, sizeof(tail), "],\"count\":%u}", la->nitems);
		jb_close(j, tail);
		if (j->full)
			return;
	}
}

size_t iotdns_fp_evidence_json(struct iotdns_fp_classifier *c, const struct iotdns_fp_verdict *v,
			       const char *os_hint, char *buf, size_t size)
{
	struct jb j = { .buf = buf, .size = size };
	if (!buf || size < 2 * JB_RESERVE) {
		if (buf && size > 2)
			snprintf(buf, size, "{}");
		return buf && size > 2 ? 2 : 0;
	}
	buf[0] = '\0';
	const struct iotdns_fp_rule *r = v->rule;
	jb_raw(&j, "{");
	jb_kv_str(&j, "verdict", v->identified ? "identified" : r ? "tentative" : "unknown", false);
	jb_kv_str(&j, "category", v->category, true);
	jb_kv_str(&j, "vendor", v->vendor, true);
	jb_kv_str(&j, "product", v->product, true);
	jb_kv_num(&j, "confidence", v->confidence, false);
	jb_kv_str(&j, "os_hint", os_hint, true);
	if (c->flags & IOTDNS_FP_DNS_ONLY)
		jb_kv_str(&j, "evidence_used", "dns-names", true);
	if (r) {
		jb_kv_str(&j, "rule", r->id, true);
		jb_kv_num(&j, "rev", r->rev, true);
		jb_kv_str(&j, "kind", r->generic ? "generic" : "specific", true);
		char at[600];
		snprintf(at, sizeof(at), "%s:%u", base_name(r->file), r->lineno);
		jb_kv_str(&j, "at", at, true);
		if (r->brands)
			jb_kv_str(&j, "brands", r->brands, true);
		jb_kv_str(&j, "source", r->sources, true);
		if (jb_raw(&j, ",\"hits\":[")) {
			hits_of_rule(c, &j, r);
			jb_close(&j, "]");
		}
	}
	if (v->runner_up && jb_raw(&j, ",\"runner_up\":{")) {
		jb_kv_str(&j, "rule", v->runner_up->id, false);
		jb_kv_str(&j, "vendor", rule_vendor(c, v->runner_up), true);
		jb_kv_str(&j, "category", v->runner_up->category, true);
		jb_kv_num(&j, "p", v->runner_up_p, false);
		jb_close(&j, "}");
	}
	if (!r) {
		/* unknown: the partial evidence, strongest touched rules first (up to 5) */
		if (jb_raw(&j, ",\"candidates\":[")) {
			bool used[5] = { false };
			uint32_t pick[5];
			unsigned np = 0;
			for (; np < 5; np++) {
				int32_t best = -1;
				double bp = -1;
				for (uint32_t i = 0; i < c->ntouched_rules; i++) {
					uint32_t ri = c->touched_rules[i];
					bool taken = false;
					for (unsigned k = 0; k < np; k++)
						taken |= pick[k] == ri;
					if (taken || c->rs->rules[ri].shared)
						continue;
					double p = rule_p(c, ri);
					if (p > bp) {
						bp = p;
						best = (int32_t)ri;
					}
				}
				if (best < 0)
					break;
				pick[np] = (uint32_t)best;
				used[np] = true;
			}
			for (unsigned k = 0; k < np; k++) {
				const struct iotdns_fp_rule *cr = &c->rs->rules[pick[k]];
				if (!jb_raw(&j, k ? ",{" : "{"))
					break;
				jb_kv_str(&j, "rule", cr->id, false);
				jb_kv_str(&j, "vendor", rule_vendor(c, cr), true);
				jb_kv_str(&j, "category", cr->category, true);
				jb_kv_num(&j, "p", rule_p(c, pick[k]), false);
				char nh[64];
				snprintf(nh, sizeof(nh), ",\"lines_hit\":%u,\"need\":%u}", c->rules[pick[k]].nhit, cr->need);
				jb_close(&j, nh);
			}
			(void)used;
			jb_close(&j, "]");
		}
	}
	char names[256];
	snprintf(names, sizeof(names),
		 ",\"names\":{\"total\":%u,\"vendor_specific\":%u,\"decisive\":%u,\"shared\":%u,\"unmatched\":%u,"
		 "\"local\":%u}",
		 v->names_total, v->names_vendor, v->names_decisive, v->names_shared, v->names_unmatched,
		 v->names_local);
	jb_raw(&j, names);
	/* shared and unmatched names (first seen first), with registrable domains */
	static const char *const lists[2] = { "shared", "unmatched" };
	for (unsigned which = 0; which < 2; which++) {
		char head[40];
		snprintf(head, sizeof(head), ",\"%s\":[", lists[which]);
		if (!jb_raw(&j, head))
			break;
		unsigned shown = 0;
		for (uint32_t oi = 0; oi < c->nitems && shown < (which ? 8u : 5u); oi++) {
			const struct item *it = &c->items[c->order[oi]];
			if (it->kind != IT_NAME || it->local || (which == 0) != it->shared || (which && it->nhit))
				continue;
			if (shown && !jb_raw(&j, ","))
				break;
			if (!jb_str(&j, it->text))
				break;
			shown++;
		}
		jb_close(&j, "]");
	}
	if (jb_raw(&j, ",\"unmatched_domains\":[")) {
		char seen[8][256];
		unsigned shown = 0;
		for (uint32_t oi = 0; oi < c->nitems && shown < 8; oi++) {
			const struct item *it = &c->items[c->order[oi]];
			if (it->kind != IT_NAME || it->local || it->shared || it->nhit)
				continue;
			char reg[256];
			if (!iotdns_fp_registrable(c->rs, it->text, reg, sizeof(reg)))
				continue;
			bool dup = false;
			for (unsigned k = 0; k < shown && !dup; k++)
				dup = strcmp(seen[k], reg) == 0;
			if (dup)
				continue;
			if (shown && !jb_raw(&j, ","))
				break;
			if (!jb_str(&j, reg))
				break;
			snprintf(seen[shown++], sizeof(seen[0]), "%s", reg);
		}
		jb_close(&j, "]");
	}
	const struct iotdns_fp_input *in = c->in;
	if (in && in->has_mac) {
		if (v->mac_local) {
			jb_kv_str(&j, "mac", "locally administered (randomized): OUI not looked up", true);
		} else if (jb_raw(&j, ",\"oui\":{")) {
			jb_kv_str(&j, "prefix", c->oui_prefix, false);
			jb_kv_str(&j, "org", c->oui_org, true);
			jb_close(&j, "}");
		}
	}
	if (in && in->ndhcp && !(c->flags & IOTDNS_FP_DNS_ONLY) && jb_raw(&j, ",\"dhcp\":[")) {
		unsigned shown = 0;
		for (uint32_t i = 0; i < in->ndhcp && shown < 3; i++) {
			const struct iotdns_dev_dhcp *d = &in->dhcp[i];
			bool dup = false;
			for (uint32_t k = 0; k < i && !dup; k++)
				dup = strcmp(in->dhcp[k].hostname, d->hostname) == 0 &&
				      strcmp(in->dhcp[k].vendor_class, d->vendor_class) == 0 &&
				      strcmp(in->dhcp[k].prl, d->prl) == 0 && strcmp(in->dhcp[k].client_id, d->client_id) == 0;
			if (dup)
				continue;
			if (!jb_raw(&j, shown++ ? ",{" : "{"))
				break;
			char ver[32];
			snprintf(ver, sizeof(ver), "\"version\":%u", d->version);
			jb_raw(&j, ver);
			jb_kv_str(&j, "hostname", d->hostname, true);
			jb_kv_str(&j, "vendor_class", d->vendor_class, true);
			jb_kv_str(&j, "prl", d->prl, true);
			jb_kv_str(&j, "client_id", d->client_id, true);
			jb_close(&j, "}");
		}
		jb_close(&j, "]");
	}
	if (in && in->nmdns && !(c->flags & IOTDNS_FP_DNS_ONLY) && jb_raw(&j, ",\"mdns\":[")) {
		for (uint32_t i = 0; i < in->nmdns && i < 6; i++) {
			if (i && !jb_raw(&j, ","))
				break;
			char t[600];
			snprintf(t, sizeof(t), "%s%s%s", in->mdns[i].text,
				 in->mdns[i].kind == IOTDNS_FP_M_INSTANCE && in->mdns[i].service ? "." : ".local",
				 in->mdns[i].kind == IOTDNS_FP_M_INSTANCE && in->mdns[i].service ? in->mdns[i].service : "");
			if (!jb_str(&j, t))
				break;
		}
		jb_close(&j, "]");
	}
	if (v->reached) {
		char rb[64];
		snprintf(rb, sizeof(rb), ",\"reached\":{\"after_names\":%u", v->reached_names);
		if (jb_raw(&j, rb)) {
			jb_kv_str(&j, "by", v->reached_by, true);
			jb_close(&j, "}");
		}
	}
	if (j.full)
		jb_close(&j, ",\"truncated\":true");
	jb_close(&j, "}");
	return j.len;
}

/* iotdns - the fingerprint check: what each device is (category, vendor,
 * product, an operating-system hint, a confidence and the evidence), and how
 * quickly a passive observer of its DNS identifies it (PRIVACY.FINGERPRINTABLE).
 * docs/fingerprinting.md explains the method; docs/rules.md the rules.
 *
 * Per packet (cheap, fixed-size state): the query ordinal of the first query
 * of each new name (a bounded timeline, for "queries until identified" and
 * evidence packets), DNS-stack traits of unicast queries (source-port range,
 * ID pattern, EDNS, query types, A/AAAA order) and the mDNS instance and host
 * names the device probes for.
 *
 * At device end: the classifier runs twice over the device's evidence, once
 * on its DNS names only (what a resolver, an ISP or anyone on the path of
 * plaintext DNS sees) and once on everything a LAN observer sees (names, MAC
 * OUI, DHCP, mDNS). The LAN verdict is the device's classification (stored in
 * the devices table); the DNS-only replay gives the time to identify.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/checker.h"
#include "iotdns/engine.h"
#include "iotdns/fingerprint.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ "PRIVACY.FINGERPRINTABLE", IOTDNS_SEV_INFO, "The device is identifiable from its DNS queries",
	  "The names a device looks up in plaintext DNS name its vendor and often its exact product: the "
	  "resolver, the ISP and anyone on the path learn what is in the home (a baby monitor, a door lock, "
	  "a medical device) and, from the timing of later queries, when it is used. Researchers identify "
	  "IoT devices from their DNS with about 98% accuracy, even from encrypted DNS metadata; plaintext "
	  "makes it easier. The summary says how fast: queries and seconds after boot until an observer's "
	  "classification reaches the confidence threshold.",
	  "Manufacturers: send DNS over an encrypted transport (DoT/DoH, RFC 7858/8484) with padding "
	  "(RFC 8467), consolidate device traffic on few non-descriptive names, avoid product and model "
	  "names in host names, and avoid resolving vendor names the device does not need. Users: give such "
	  "devices a separate network and a resolver you trust.",
	  "RFC 9076 (DNS privacy considerations); RFC 7626; RFC 8467; draft-ietf-iotops-iot-dns-guidelines" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

enum {
	OPT_THRESHOLD,
	OPT_FLOOR,
	OPT_MAX_QUERIES,
	OPT_MAX_SECONDS,
	OPT_MIN_QUERIES,
	OPT_COUNT
};

static const struct iotdns_opt opts[] = {
	[OPT_THRESHOLD] = { "confidence-threshold", 0.7, 0.5, 0.99,
			    "classification confidence (0..1) at which a device counts as identified" },
	[OPT_FLOOR] = { "unknown-below", 0.4, 0.05, 0.9,
			"below this confidence (0..1) the classification is 'unknown' (partial evidence kept)" },
	[OPT_MAX_QUERIES] = { "max-queries", 1000, 1, 1e9,
			      "finding when identified within this many DNS queries of a boot session (queries)" },
	[OPT_MAX_SECONDS] = { "max-seconds", 3600, 1, 1e9,
			      "or within this many seconds after the session start (seconds)" },
	[OPT_MIN_QUERIES] = { "min-queries", 20, 1, 1e6,
			      "unicast queries needed to call a device that was not identified 'pass' (queries)" },
	{ NULL, 0, 0, 0, NULL },
};

#define FP_MDNS_MAX 10             /* mDNS instance/host names kept per device */
#define FP_MDNS_TEXT 64
#define FP_MDNS_SVC 32
#define FP_TIMELINE 48             /* first queries of new names kept per device */
#define FP_SESS_BASE 8             /* query ordinal at the start of the first sessions */
#define FP_EVIDENCE_JSON 8192
#define FP_MIN_TRAIT_QUERIES 10    /* below: no OS hint */

struct fp_mdns_rec {
	uint8_t kind;                 /* enum iotdns_fp_mdns_kind */
	char text[FP_MDNS_TEXT];      /* printable ASCII */
	char service[FP_MDNS_SVC];
	uint64_t first_us;
};

/* The first query of one name. */
struct fp_first {
	uint64_t hash;                /* name hash (dev name record) */
	uint64_t ts_us;
	uint64_t pktno;
	uint32_t input;
	uint32_t qord;                /* unicast query number of the device (1-based) */
	uint16_t qtype;
};

struct state {
	/* unicast queries, retransmissions included (like dev->queries) */
	uint32_t nq_all;
	/* DNS-stack traits: unicast queries without retransmissions */
	uint32_t nq;
	uint16_t port_min, port_max, first_port;
	uint32_t same_first_port;
	uint32_t ports_lo;            /* < 32768 */
	uint32_t ports_linux;         /* 32768..60999 */
	uint32_t ports_iana;          /* 49152..65535 */
	uint64_t port_bits;           /* distinct-port sketch: bit (port * golden) >> 58 */
	uint16_t last_id;
	uint32_t id_pairs, id_seq, id_zero;
	uint32_t edns, edns_do;
	uint16_t edns_size;           /* the first EDNS UDP size */
	uint32_t edns_size_changes;
	uint32_t qt_a, qt_aaaa, qt_https, qt_other;
	uint64_t last_a_hash, last_aaaa_hash, last_a_us, last_aaaa_us;
	uint32_t a_then_aaaa, aaaa_then_a;
	/* mDNS names the device probes for (owned names) */
	uint32_t nmdns, mdns_dropped;
	struct fp_mdns_rec mdns[FP_MDNS_MAX];
	/* first queries of new names */
	uint32_t nfirst, first_dropped;
	struct fp_first first[FP_TIMELINE];
	/* query ordinal before the first query of session idx (idx < FP_SESS_BASE) */
	uint32_t sess_base[FP_SESS_BASE];
	uint32_t sess_seen;           /* bit per session idx that has a base */
};

struct priv {
	struct iotdns_fp_rules *rules;
	struct iotdns_oui *oui;       /* NULL when the registry is not installed */
	struct iotdns_fp_classifier *cls;
	struct iotdns_fp_params params;
	/* scratch for one device, reused */
	struct iotdns_fp_name *names;
	uint64_t *hashes;
	uint32_t cap_names;
	struct iotdns_fp_mdns mdns[FP_MDNS_MAX];
	char json[FP_EVIDENCE_JSON];
};

/* ---- start-up --------------------------------------------------------------------- */

static int init(struct iotdns_check_ctx *ctx)
{
	struct priv *p = calloc(1, sizeof(*p));
	if (!p)
		return iotdns_err_set(ctx->err, IOTDNS_ENOMEM, "fingerprint: out of memory");
	const char *dir = ctx->config && ctx->config->rules_dir ? ctx->config->rules_dir
								 : iotdns_fp_rules_default_dir();
	int rc = iotdns_fp_rules_load_dir(&p->rules, dir, ctx->err);
	if (rc != IOTDNS_OK) {
		free(p);
		return rc;
	}
	struct iotdns_err oerr = { "" };
	if (iotdns_oui_load(&p->oui, NULL, &oerr) != IOTDNS_OK)
		p->oui = NULL; /* optional: classification works on the other evidence */
	rc = iotdns_fp_classifier_new(&p->cls, p->rules, p->oui, ctx->err);
	if (rc != IOTDNS_OK) {
		iotdns_oui_free(p->oui);
		iotdns_fp_rules_free(p->rules);
		free(p);
		return rc;
	}
	iotdns_fp_params_default(&p->params);
	p->params.threshold = iotdns_check_opt(ctx, OPT_THRESHOLD);
	p->params.floor = iotdns_check_opt(ctx, OPT_FLOOR);
	if (p->params.floor >= p->params.threshold)
		p->params.floor = p->params.threshold / 2;
	ctx->priv = p;
	return IOTDNS_OK;
}

static void fini(struct iotdns_check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	if (!p)
		return;
	iotdns_fp_classifier_free(p->cls);
	iotdns_oui_free(p->oui);
	iotdns_fp_rules_free(p->rules);
	free(p->names);
	free(p->hashes);
	free(p);
	ctx->priv = NULL;
}

/* ---- mDNS names ----------------------------------------------------------------------- */

/* Splits a presentation-format name into at most max labels (unescaped into
 * out[i], printable ASCII; other bytes become '?'). Returns the label count,
 * or 0 when there are more than max labels. */
static unsigned split_labels(const char *name, char out[][FP_MDNS_TEXT], unsigned max)
{
	unsigned n = 0, len = 0;
	if (!*name || strcmp(name, ".") == 0)
		return 0;
	for (const char *s = name;; s++) {
		if (*s == '.' || *s == '\0') {
			if (n >= max)
				return 0;
			out[n][len] = '\0';
			n++;
			len = 0;
			if (*s == '\0' || s[1] == '\0')
				break;
			continue;
		}
		if (n >= max)
			return 0;
		int ch = (unsigned char)*s;
		if (*s == '\\' && s[1]) {
			if (s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9') {
				ch = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
				s += 3;
			} else {
				ch = (unsigned char)s[1];
				s++;
			}
		}
		if (len + 1 < FP_MDNS_TEXT)
			out[n][len++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	return n;
}

static void note_mdns(struct state *st, uint8_t kind, const char *text, const char *service, uint64_t ts)
{
	for (uint32_t i = 0; i < st->nmdns; i++)
		if (st->mdns[i].kind == kind && strcmp(st->mdns[i].text, text) == 0 &&
		    strcmp(st->mdns[i].service, service) == 0)
			return;
	if (st->nmdns >= FP_MDNS_MAX) {
		st->mdns_dropped++;
		return;
	}
	struct fp_mdns_rec *m = &st->mdns[st->nmdns++];
	m->kind = kind;
	snprintf(m->text, sizeof(m->text), "%s", text);
	snprintf(m->service, sizeof(m->service), "%s", service);
	m->first_us = ts;
}

/* An owned mDNS name: "Instance._svc._tcp.local" or "host.local". */
static void mdns_owned_name(struct state *st, const char *name, uint64_t ts)
{
	char lab[6][FP_MDNS_TEXT];
	unsigned n = split_labels(name, lab, 6);
	if (n < 2 || strcasecmp(lab[n - 1], "local") != 0)
		return;
	if (n == 2) {
		if (lab[0][0] && lab[0][0] != '_')
			note_mdns(st, IOTDNS_FP_M_HOST, lab[0], "", ts);
		return;
	}
	if (n == 4 && lab[0][0] != '_' && lab[1][0] == '_' &&
	    (strcasecmp(lab[2], "_tcp") == 0 || strcasecmp(lab[2], "_udp") == 0)) {
		char svc[2 * FP_MDNS_TEXT + 2];
		snprintf(svc, sizeof(svc), "%s.%s", lab[1], lab[2]);
		for (char *c = svc; *c; c++)
			*c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
		note_mdns(st, IOTDNS_FP_M_INSTANCE, lab[0], svc, ts);
	}
}

/* ---- packets ------------------------------------------------------------------------ */

static void traits(struct state *st, const struct iotdns_dns_event *ev)
{
	const struct iotdns_dns_msg *m = ev->msg;
	uint16_t port = ev->pkt->sport;
	if (st->nq == 0) {
		st->port_min = st->port_max = st->first_port = port;
	} else {
		if (port < st->port_min)
			st->port_min = port;
		if (port > st->port_max)
			st->port_max = port;
		uint16_t diff = (uint16_t)(m->id - st->last_id);
		st->id_pairs++;
		if (diff >= 1 && diff <= 2)
			st->id_seq++;
	}
	st->nq++;
	st->last_id = m->id;
	if (m->id == 0)
		st->id_zero++;
	if (port == st->first_port)
		st->same_first_port++;
	if (port < 32768)
		st->ports_lo++;
	if (port >= 32768 && port <= 60999)
		st->ports_linux++;
	if (port >= 49152)
		st->ports_iana++;
	st->port_bits |= 1ull << (((uint64_t)port * 0x9e3779b97f4a7c15ull) >> 58);
	if (m->edns.present) {
		if (!st->edns)
			st->edns_size = m->edns.udp_size;
		else if (m->edns.udp_size != st->edns_size)
			st->edns_size_changes++;
		st->edns++;
		if (m->edns.do_bit)
			st->edns_do++;
	}
	uint64_t h = ev->name ? ev->name->hash : 0;
	uint64_t ts = ev->pkt->ts_us;
	switch (m->qtype) {
	case IOTDNS_T_A:
		st->qt_a++;
		if (h && st->last_aaaa_hash == h && ts - st->last_aaaa_us < 1000000)
			st->aaaa_then_a++;
		st->last_a_hash = h;
		st->last_a_us = ts;
		break;
	case IOTDNS_T_AAAA:
		st->qt_aaaa++;
		if (h && st->last_a_hash == h && ts - st->last_a_us < 1000000)
			st->a_then_aaaa++;
		st->last_aaaa_hash = h;
		st->last_aaaa_us = ts;
		break;
	case IOTDNS_T_HTTPS:
	case IOTDNS_T_SVCB: st->qt_https++; break;
	default: st->qt_other++; break;
	}
}

static void on_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst,
		     const struct iotdns_dns_event *ev)
{
	struct state *st = vst;
	(void)ctx;
	(void)dev;
	if (!ev->msg || !ev->msg->has_question)
		return;
	if (ev->proto == IOTDNS_PROTO_MDNS) {
		/* probes (RFC 6762 §8.1: qtype ANY) are for names the device owns;
		 * other queries may be for someone else's names */
		if (ev->msg->qtype == IOTDNS_T_ANY)
			mdns_owned_name(st, ev->msg->qname_raw, ev->pkt->ts_us);
		return;
	}
	if (ev->proto != IOTDNS_PROTO_DNS)
		return;
	st->nq_all++;
	if (ev->session && ev->session->idx < FP_SESS_BASE && !(st->sess_seen & (1u << ev->session->idx))) {
		st->sess_seen |= 1u << ev->session->idx;
		st->sess_base[ev->session->idx] = st->nq_all - 1;
	}
	if (ev->name && ev->name->queries == 1) {
		if (st->nfirst < FP_TIMELINE) {
			struct fp_first *f = &st->first[st->nfirst++];
			f->hash = ev->name->hash;
			f->ts_us = ev->pkt->ts_us;
			f->pktno = ev->pkt->pktno;
			f->input = ev->pkt->input;
			f->qord = st->nq_all;
			f->qtype = ev->msg->qtype;
		} else {
			st->first_dropped++;
		}
	}
	if (!ev->retransmission)
		traits(st, ev);
}

/* mDNS answers the device sends (announcements): owned instance and host names */
static void on_response(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst,
			const struct iotdns_dns_event *ev)
{
	struct state *st = vst;
	(void)ctx;
	(void)dev;
	if (ev->proto != IOTDNS_PROTO_MDNS || ev->direction != IOTDNS_DIR_FROM_DEVICE || !ev->msg)
		return;
	const struct iotdns_dns_msg *m = ev->msg;
	for (unsigned i = 0; i < m->nanswers && i < IOTDNS_DNS_MAX_ANSWERS; i++) {
		const struct iotdns_dns_answer *a = &m->answers[i];
		if (a->type == IOTDNS_T_PTR && strncmp(a->owner, "_services.", 10) != 0)
			mdns_owned_name(st, a->target, ev->pkt->ts_us);
		else if (a->type == IOTDNS_T_SRV || a->type == IOTDNS_T_A || a->type == IOTDNS_T_AAAA)
			mdns_owned_name(st, a->owner, ev->pkt->ts_us);
	}
}

/* ---- device end ----------------------------------------------------------------------- */

static const char *os_hint(const struct state *st, unsigned *distinct_out)
{
	unsigned distinct = (unsigned)__builtin_popcountll(st->port_bits);
	*distinct_out = distinct;
	if (st->nq < FP_MIN_TRAIT_QUERIES)
		return NULL;
	if (distinct <= 2 || st->same_first_port * 10 >= st->nq * 9)
		return "embedded stack: fixed source port";
	if (st->id_pairs && st->id_seq * 10 >= st->id_pairs * 8)
		return "embedded stack: sequential transaction IDs";
	bool iana = st->ports_iana == st->nq, linux_range = st->ports_linux == st->nq;
	if (distinct < 8)
		return "few source ports (weak randomization)";
	if (st->qt_https * 10 >= st->nq && iana)
		return "Apple OS likely (HTTPS-record queries, ports 49152-65535)";
	if (linux_range && !iana)
		return "Linux/Android (ports 32768-60999)";
	if (iana)
		return "ports 49152-65535 (Windows, BSD, Apple or lwIP)";
	if (st->ports_lo && st->port_max > 60999)
		return "full-range source ports (1024-65535)";
	return "mixed source-port ranges";
}

static size_t stack_json(const struct state *st, unsigned distinct, char *buf, size_t size)
{
	return (size_t)snprintf(buf, size,
				"\"dns_stack\":{\"queries\":%u,\"port_min\":%u,\"port_max\":%u,\"distinct_ports_est\":%u,"
				"\"sequential_ids\":%u,\"zero_ids\":%u,\"edns\":%u,\"edns_size\":%u,\"edns_do\":%u,"
				"\"qtypes\":{\"A\":%u,\"AAAA\":%u,\"HTTPS\":%u,\"other\":%u},"
				"\"a_then_aaaa\":%u,\"aaaa_then_a\":%u}",
				st->nq, st->nq ? st->port_min : 0, st->nq ? st->port_max : 0, distinct, st->id_seq,
				st->id_zero, st->edns, st->edns ? st->edns_size : 0, st->edns_do, st->qt_a, st->qt_aaaa,
				st->qt_https, st->qt_other, st->a_then_aaaa, st->aaaa_then_a);
}

static const struct iotdns_session *session_at(const struct iotdns_device *dev, uint64_t ts)
{
	const struct iotdns_session *best = NULL;
	for (uint32_t i = 0; i < dev->nsessions; i++)
		if (dev->sessions[i].start_us <= ts)
			best = &dev->sessions[i];
	return best;
}

static const struct fp_first *first_of(const struct state *st, uint64_t hash)
{
	for (uint32_t i = 0; i < st->nfirst; i++)
		if (st->first[i].hash == hash)
			return &st->first[i];
	return NULL;
}

static const char *qtype_text(uint16_t t, char buf[16])
{
	return iotdns_rrtype_name(t, buf);
}

static void on_device_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst)
{
	struct priv *p = ctx->priv;
	struct state *st = vst;
	if (!p)
		return;

	/* the device's names */
	if (dev->nnames > p->cap_names) {
		uint32_t ncap = dev->nnames + 64;
		struct iotdns_fp_name *nn = realloc(p->names, ncap * sizeof(*nn));
		if (!nn)
			return;
		p->names = nn;
		uint64_t *nh = realloc(p->hashes, ncap * sizeof(*nh));
		if (!nh)
			return;
		p->hashes = nh;
		p->cap_names = ncap;
	}
	uint32_t nn = 0;
	for (uint32_t i = 0; i < dev->cap_names && nn < p->cap_names; i++) {
		const struct iotdns_dev_name *r = dev->names[i].rec;
		if (!r || !r->name)
			continue;
		p->names[nn].name = r->name;
		p->names[nn].first_us = r->first_us;
		p->hashes[nn] = r->hash;
		nn++;
	}
	for (uint32_t i = 0; i < st->nmdns; i++) {
		p->mdns[i].kind = st->mdns[i].kind;
		p->mdns[i].text = st->mdns[i].text;
		p->mdns[i].service = st->mdns[i].service[0] ? st->mdns[i].service : NULL;
		p->mdns[i].first_us = st->mdns[i].first_us;
	}
	struct iotdns_fp_input in = {
		.has_mac = !dev->keyed_by_ip, .first_us = dev->first_us, .names = p->names, .nnames = nn,
		.dhcp = dev->dhcp, .ndhcp = dev->dhcp ? dev->ndhcp : 0, .mdns = p->mdns, .nmdns = st->nmdns,
	};
	memcpy(in.mac, dev->mac, 6);
	if (in.ndhcp > IOTDNS_DEV_MAX_DHCP)
		in.ndhcp = IOTDNS_DEV_MAX_DHCP;

	/* what a DNS observer can tell, then what a LAN observer can (the classification) */
	struct iotdns_fp_verdict vd, vl;
	if (iotdns_fp_classify(p->cls, &in, IOTDNS_FP_DNS_ONLY, &p->params, &vd) != IOTDNS_OK ||
	    iotdns_fp_classify(p->cls, &in, 0, &p->params, &vl) != IOTDNS_OK) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT, "classification ran out of memory");
		return;
	}
	unsigned distinct = 0;
	const char *hint = os_hint(st, &distinct);
	dev->os_hint = hint;
	dev->category = vl.category;
	dev->vendor = vl.vendor;
	dev->product = vl.product;
	dev->confidence = vl.confidence;
	size_t jl = iotdns_fp_evidence_json(p->cls, &vl, hint, p->json, sizeof(p->json));
	char sj[640];
	size_t sl = stack_json(st, distinct, sj, sizeof(sj));
	if (jl >= 2 && p->json[jl - 1] == '}' && jl + sl + 2 < sizeof(p->json) && sl < sizeof(sj)) {
		/* the DNS-stack traits go into the same document */
		snprintf(p->json + jl - 1, sizeof(p->json) - jl + 1, ",%s}", sj);
	}
	free(dev->fp_evidence);
	dev->fp_evidence = strdup(p->json);

	/* fingerprintability (DNS observer) */
	if (dev->queries == 0) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "no unicast DNS; classified as %s%s%s (%.2f) from %s",
				    vl.category, vl.vendor ? ", " : "", vl.vendor ? vl.vendor : "", vl.confidence,
				    vl.rule ? "MAC/DHCP/mDNS evidence" : "no evidence");
		return;
	}
	if (!vd.identified || !vd.reached) {
		if (st->nq_all < (uint32_t)iotdns_check_opt(ctx, OPT_MIN_QUERIES) && dev->queries < iotdns_check_opt(ctx, OPT_MIN_QUERIES))
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
					    "not identifiable from %llu DNS queries so far (best %.2f); %.0f needed to say so",
					    (unsigned long long)dev->queries, vd.confidence,
					    iotdns_check_opt(ctx, OPT_MIN_QUERIES));
		else
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS,
					    "not identifiable from its %llu DNS queries: %u names, %u vendor-specific, best "
					    "guess %s%s%s at %.2f (threshold %.2f)",
					    (unsigned long long)dev->queries, vd.names_total, vd.names_vendor, vd.category,
					    vd.vendor ? "/" : "", vd.vendor ? vd.vendor : "", vd.confidence,
					    p->params.threshold);
		return;
	}
	/* when: the deciding name's first query */
	uint64_t hash = vd.reached_name_idx >= 0 ? p->hashes[vd.reached_name_idx] : 0;
	const struct fp_first *ff = hash ? first_of(st, hash) : NULL;
	const struct iotdns_session *sess = session_at(dev, vd.reached_us);
	uint64_t start = sess ? sess->start_us : dev->first_us;
	double secs = vd.reached_us > start ? (double)(vd.reached_us - start) / 1e6 : 0;
	uint32_t base = sess && sess->idx < FP_SESS_BASE && (st->sess_seen & (1u << sess->idx)) ? st->sess_base[sess->idx]
												   : 0;
	bool exact_q = ff != NULL;
	uint32_t qord = ff ? ff->qord : (st->nfirst ? st->first[st->nfirst - 1].qord : st->nq_all);
	uint32_t queries = qord > base ? qord - base : qord;
	double max_q = iotdns_check_opt(ctx, OPT_MAX_QUERIES), max_s = iotdns_check_opt(ctx, OPT_MAX_SECONDS);
	const char *what_v = vd.vendor ? vd.vendor : "?";
	if ((double)queries > max_q && secs > max_s) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS,
				    "identified as %s/%s only after %u queries and %.0f s (limits %.0f queries, %.0f s)",
				    vd.category, what_v, queries, secs, max_q, max_s);
		return;
	}
	struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "PRIVACY.FINGERPRINTABLE");
	if (!f)
		return;
	char what[160];
	if (strcmp(vd.category, "unknown") == 0)
		snprintf(what, sizeof(what), "its vendor as %s (category unknown)", what_v);
	else if (vd.product)
		snprintf(what, sizeof(what), "it as %s %s (%s)", what_v, vd.category, vd.product);
	else
		snprintf(what, sizeof(what), "it as %s %s", what_v, vd.category);
	iotdns_finding_summary(f, "a DNS observer identifies %s, confidence %.2f, after %s%u %s and %.1f s of its "
			       "session; %u of its %u names are vendor-specific",
			       what, vd.confidence, exact_q ? "" : "at least ", queries, queries == 1 ? "query" : "queries",
			       secs, vd.names_vendor, vd.names_total);
	iotdns_check_status(ctx, dev, IOTDNS_STATUS_FAIL, "identified as %s/%s (%.2f) after %s%u queries, %.1f s",
			    vd.category, what_v, vd.confidence, exact_q ? "" : ">=", queries, secs);
	iotdns_finding_str(f, "category", vd.category);
	iotdns_finding_str(f, "vendor", vd.vendor);
	if (vd.product)
		iotdns_finding_str(f, "product", vd.product);
	iotdns_finding_dbl(f, "confidence", round(vd.confidence * 1000) / 1000);
	iotdns_finding_str(f, "rule", vd.rule->id);
	iotdns_finding_u64(f, "rule_rev", vd.rule->rev);
	iotdns_finding_u64(f, "queries_to_identify", queries);
	iotdns_finding_bool(f, "queries_exact", exact_q);
	iotdns_finding_dbl(f, "seconds_to_identify", round(secs * 1000) / 1000);
	iotdns_finding_str(f, "since", sess ? iotdns_session_start_name(sess->start_reason) : "first");
	iotdns_finding_u64(f, "names_to_identify", vd.reached_names);
	iotdns_finding_str(f, "deciding_name", vd.reached_by);
	iotdns_finding_u64(f, "names_total", vd.names_total);
	iotdns_finding_u64(f, "vendor_specific_names", vd.names_vendor);
	iotdns_finding_u64(f, "decisive_names", vd.names_decisive);
	iotdns_finding_u64(f, "shared_names", vd.names_shared);
	iotdns_finding_u64(f, "plaintext_queries", dev->queries);
	iotdns_finding_dbl(f, "threshold", p->params.threshold);
	if (vl.reached) {
		const struct iotdns_session *ls = session_at(dev, vl.reached_us);
		uint64_t lstart = ls ? ls->start_us : dev->first_us;
		iotdns_finding_dbl(f, "lan_seconds_to_identify",
				   vl.reached_us > lstart ? round((double)(vl.reached_us - lstart) / 1e3) / 1e3 : 0);
		iotdns_finding_str(f, "lan_identified_as", vl.vendor);
	}
	/* evidence: first queries of the names that hit the deciding rule, first seen first */
	unsigned nev = 0;
	for (uint32_t i = 0; i < st->nfirst && nev < IOTDNS_MAX_EVIDENCE; i++) {
		const struct fp_first *e = &st->first[i];
		int32_t idx = -1;
		for (uint32_t k = 0; k < nn && idx < 0; k++)
			if (p->hashes[k] == e->hash)
				idx = (int32_t)k;
		if (idx < 0 || !iotdns_fp_name_hits_rule(p->cls, (uint32_t)idx, vd.rule))
			continue;
		struct iotdns_evidence ev = { .input = e->input, .pktno = e->pktno, .ts_us = e->ts_us };
		char qt[16];
		char text[IOTDNS_EVIDENCE_TEXT + 64];
		snprintf(text, sizeof(text), "query #%u %s %s: %s (%s)", e->qord, p->names[idx].name,
			 qtype_text(e->qtype, qt), what_v, vd.rule->id);
		size_t tl = strlen(text);
		if (tl >= IOTDNS_EVIDENCE_TEXT)
			tl = IOTDNS_EVIDENCE_TEXT - 1;
		memcpy(ev.text, text, tl);
		ev.text[tl] = '\0';
		for (size_t k = 0; k < tl; k++)
			if (ev.text[k] < 0x20 || ev.text[k] >= 0x7f)
				ev.text[k] = '?';
		iotdns_finding_evidence(f, &ev);
		nev++;
	}
}

const struct iotdns_checker iotdns_chk_fingerprint = {
	.api = IOTDNS_CHECKER_API,
	.id = "fingerprint",
	.summary = "Device classification (category, vendor, product) and how fast DNS identifies it",
	.kinds = kinds,
	.opts = opts,
	.dev_state_size = sizeof(struct state),
	.init = init,
	.fini = fini,
	.on_query = on_query,
	.on_response = on_response,
	.on_device_end = on_device_end,
};

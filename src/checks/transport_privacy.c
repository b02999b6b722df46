/* iotdns - the transport-privacy check (docs/checks/transport-privacy.md).
 *
 * What a device's DNS transport shows, from its own queries (draft D4-D8,
 * D18, D19):
 *   - plaintext or encrypted: Do53 queries against DoT/DoQ/DoH flows opened
 *     (dev->resolvers[] flows_*); recorded, reported only on request
 *     (require-encrypted=1);
 *   - EDNS(0): share of queries with an OPT record, the advertised UDP sizes
 *     (< 512 or > 4096 is a finding), DO bit, cookies (option 10), padding
 *     (option 12), per session;
 *   - EDNS Client Subnet (option 8) with a source prefix > 0: the device
 *     hands its subnet to the resolver (a /0 prefix is the RFC 7871 opt-out
 *     and counts as good);
 *   - TCP fallback: every UDP answer with TC=1 must be followed, within
 *     tcp-fallback-window seconds, by a TCP query for the same name to the
 *     same resolver (RFC 7766, RFC 9210);
 *   - resolver discovery (_dns.resolver.arpa SVCB, RFC 9462) and 0x20 (only
 *     when the case of one name varies between its queries).
 * Positive behaviour goes into the status detail; findings are for what is
 * wrong. Retransmissions are skipped: they are copies of a counted query.
 *
 * Per-device state is fixed (about 1.3 KB); the rare parts (evidence of ECS,
 * odd sizes and missing fallbacks, pending truncated answers) are allocated
 * once for the few devices that need them and freed in dev_free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/checker.h"
#include "iotdns/finding.h"

enum {
	OPT_MIN_QUERIES,
	OPT_PLAINTEXT_SHARE,
	OPT_REQUIRE_ENCRYPTED,
	OPT_EDNS_SIZE_MIN,
	OPT_EDNS_SIZE_MAX,
	OPT_TC_WINDOW,
	OPT_TC_FAIL_SHARE,
};

static const struct iotdns_opt opts[] = {
	{ "min-queries", 20, 1, 1e9,
	  "queries (retransmissions excluded) needed to say a device never uses EDNS or is plaintext-only" },
	{ "plaintext-share", 0.95, 0.5, 1, "share of DNS transactions over Do53 that makes a device plaintext-only" },
	{ "require-encrypted", 0, 0, 1, "1: report plaintext-only devices (TRANSPORT.PLAINTEXT_ONLY); 0: record only" },
	{ "edns-size-min", 512, 0, 65535, "smallest sensible advertised EDNS UDP payload size, bytes" },
	{ "edns-size-max", 4096, 512, 65535, "largest sensible advertised EDNS UDP payload size, bytes" },
	{ "tcp-fallback-window", 2, 0.1, 60, "seconds allowed between a TC=1 answer and the TCP query for the same name" },
	{ "tcp-fallback-fail-share", 0.5, 0, 1,
	  "share of truncated answers without TCP retry at or above which NO_TCP_FALLBACK is reported" },
	{ NULL, 0, 0, 0, NULL },
};

static const struct iotdns_finding_kind kinds[] = {
	{ "TRANSPORT.PLAINTEXT_ONLY", IOTDNS_SEV_INFO, "DNS only in plaintext (no DoT/DoH/DoQ)",
	  "Every DNS question the device asks crosses the network in clear text: anyone on the path (Wi-Fi, ISP, "
	  "transit) can read which services it talks to and when, and fingerprint the device from its query "
	  "pattern. The IETF IoT DNS guidelines ask devices to prefer encrypted DNS where the network offers it.",
	  "Support DNS over TLS, HTTPS or QUIC (RFC 7858, 8484, 9250) towards the resolver the network provides, "
	  "discovered with DDR (RFC 9462) or DNR (RFC 9463); pad encrypted queries (RFC 8467).",
	  "draft-ietf-iotops-iot-dns-guidelines (encrypted DNS); RFC 7858; RFC 8484; RFC 9250; RFC 9462; RFC 9463" },
	{ "TRANSPORT.NO_EDNS", IOTDNS_SEV_INFO, "DNS queries never use EDNS(0)",
	  "Without an OPT record the device limits every UDP answer to 512 bytes, cannot use DNS cookies "
	  "(RFC 7873) against off-path spoofing, cannot ask for DNSSEC records (DO bit) and needs a TCP retry "
	  "or a truncated answer for anything larger. It is a sign of a minimal, dated DNS stack.",
	  "Send an OPT record (EDNS version 0) with a UDP payload size of 1232 bytes (DNS Flag Day 2020), and "
	  "support DNS cookies and TCP fallback.",
	  "RFC 6891; RFC 7873; DNS Flag Day 2020; draft-ietf-iotops-iot-dns-guidelines (EDNS support)" },
	{ "TRANSPORT.EDNS_SIZE", IOTDNS_SEV_LOW, "EDNS UDP payload size outside 512-4096 bytes",
	  "An advertised size below 512 is invalid (RFC 6891 treats it as 512) and shows a broken stack; a size "
	  "above 4096 invites answers that are fragmented at the IP layer, which get lost behind firewalls and "
	  "open the door to fragment-injection cache poisoning.",
	  "Advertise 1232 bytes (DNS Flag Day 2020 default, safe on IPv4 and IPv6 paths); never more than 4096.",
	  "RFC 6891 §6.2.3, §6.2.5; RFC 9715; DNS Flag Day 2020" },
	{ "TRANSPORT.NO_TCP_FALLBACK", IOTDNS_SEV_LOW, "No TCP retry after a truncated (TC=1) answer",
	  "A truncated UDP answer carries no records: the client must repeat the question over TCP. A device "
	  "that does not cannot resolve names whose answers are large (many addresses, DNSSEC, long TXT), and "
	  "anyone able to inject a TC=1 answer can keep it from resolving.",
	  "Implement DNS over TCP in the stub (RFC 7766) and retry over TCP when TC is set (RFC 9210).",
	  "RFC 1035 §4.2.2; RFC 7766; RFC 9210; draft-ietf-iotops-iot-dns-guidelines (truncation)" },
	{ "PRIVACY.ECS_SENT", IOTDNS_SEV_LOW, "Device sends EDNS Client Subnet in its queries",
	  "An ECS option hands the device's network prefix to the resolver and, through it, to every "
	  "authoritative server of the names it asks for. A stub has no need for it: RFC 7871 says stubs should "
	  "not add it, or should send a source prefix of 0 to opt out.",
	  "Remove the client-subnet option from the device's queries, or send it with source prefix 0.",
	  "RFC 7871 §7.1.2, §11; draft-ietf-iotops-iot-dns-guidelines (privacy)" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

#define TP_NSIZES 4     /* distinct EDNS sizes kept with their counts */
#define TP_NCASE 16     /* 0x20 table: names with their last case pattern */
#define TP_NPENDING 4   /* truncated answers waiting for their TCP retry */
#define TP_NFIRST 3     /* evidence of the first queries */
#define TP_NRARE_EV 5

struct tp_global {
	uint64_t now_us;    /* latest packet time any device showed this checker */
};

struct tp_pending {
	uint64_t name_hash;
	struct iotdns_addr res; /* the resolver that truncated (records may move: keep the address) */
	uint64_t ts_us;
	struct iotdns_evidence ev;
};

/* Allocated once per device that needs it (freed in dev_free). */
struct tp_rare {
	uint8_t n_ecs_ev, n_size_ev, n_tc_ev;
	struct iotdns_evidence ecs_ev[TP_NRARE_EV];
	struct iotdns_evidence size_ev[TP_NRARE_EV];
	struct iotdns_evidence tc_ev[TP_NRARE_EV]; /* answers with TC=1 not retried over TCP */
	uint8_t npending;
	struct tp_pending pending[TP_NPENDING];
};

struct tp_case {
	uint64_t name_hash; /* 0: empty */
	uint64_t raw_hash;  /* hash of the name as sent (case kept) */
	bool repeated, varied;
};

struct tp_state {
	struct tp_rare *rare;         /* first: read on every query, next to the counters */
	uint64_t udp_q, tcp_q;        /* unicast DNS queries, retransmissions excluded */
	uint64_t all_q;               /* every unicast DNS query sent, copies included */
	/* option statistics count every query sent (as the draft's authors did) */
	uint64_t edns_q, do_q, cookie_q, pad_q, ecs_q, ecs_optout_q, bad_size_q, edns_v1_q;
	uint64_t discovery_q;         /* _dns.resolver.arpa SVCB */
	struct {
		uint16_t size;
		uint64_t n;
	} sizes[TP_NSIZES];
	uint64_t sizes_other;
	uint16_t ecs_family;          /* last ECS family seen (1 IPv4, 2 IPv6) */
	uint8_t ecs_prefix_min, ecs_prefix_max;
	uint32_t sessions, sessions_edns;
	bool cur_edns;                /* the current session has sent an OPT record */
	uint64_t tc_seen, tc_ok, tc_missing, tc_undecided, tc_dropped;
	uint64_t tc_other;            /* truncations answered in full over UDP within the window */
	uint64_t case_repeated, case_varied; /* of names evicted from cases[] */
	struct tp_case cases[TP_NCASE];
	uint8_t n_first, n_noedns;
	struct iotdns_evidence first[TP_NFIRST];  /* first Do53 queries */
	struct iotdns_evidence noedns[TP_NFIRST]; /* first queries without OPT */
};

static const char DISCOVERY_NAME[] = "_dns.resolver.arpa";

static int tp_init(struct iotdns_check_ctx *ctx)
{
	ctx->priv = calloc(1, sizeof(struct tp_global));
	return ctx->priv ? IOTDNS_OK : IOTDNS_ENOMEM;
}

static void tp_fini(struct iotdns_check_ctx *ctx)
{
	free(ctx->priv);
	ctx->priv = NULL;
}

static void tp_dev_free(struct iotdns_check_ctx *ctx, void *st)
{
	(void)ctx;
	struct tp_state *s = st;
	free(s->rare);
	s->rare = NULL;
}

static struct tp_rare *rare_of(struct tp_state *s)
{
	if (!s->rare)
		s->rare = calloc(1, sizeof(*s->rare));
	return s->rare;
}

static void note_time(struct iotdns_check_ctx *ctx, uint64_t ts)
{
	struct tp_global *g = ctx->priv;
	if (g && ts > g->now_us)
		g->now_us = ts;
}

static void add_ev(struct iotdns_evidence *arr, uint8_t *n, unsigned cap, const struct iotdns_evidence *ev)
{
	if (*n < cap)
		arr[(*n)++] = *ev;
}

/* Truncated answers whose window has passed without a TCP retry. */
static void expire_pending(struct iotdns_check_ctx *ctx, struct tp_state *s, uint64_t now)
{
	struct tp_rare *r = s->rare;
	if (!r || !r->npending)
		return;
	uint64_t win = (uint64_t)(iotdns_check_opt(ctx, OPT_TC_WINDOW) * 1e6);
	unsigned j = 0;
	for (unsigned i = 0; i < r->npending; i++) {
		struct tp_pending *p = &r->pending[i];
		if (now > p->ts_us + win) {
			s->tc_missing++;
			add_ev(r->tc_ev, &r->n_tc_ev, TP_NRARE_EV, &p->ev);
		} else {
			r->pending[j++] = *p;
		}
	}
	r->npending = (uint8_t)j;
}

/* A TCP query: does it answer a pending truncation? */
static void match_pending(struct iotdns_check_ctx *ctx, struct tp_state *s, const struct iotdns_dns_event *ev)
{
	struct tp_rare *r = s->rare;
	if (!r || !r->npending || !ev->msg->has_question)
		return;
	uint64_t h = ev->qname_hash;
	uint64_t win = (uint64_t)(iotdns_check_opt(ctx, OPT_TC_WINDOW) * 1e6);
	for (unsigned i = 0; i < r->npending; i++) {
		struct tp_pending *p = &r->pending[i];
		if (p->name_hash == h && iotdns_addr_eq(&p->res, &ev->pkt->dst) && ev->pkt->ts_us <= p->ts_us + win) {
			s->tc_ok++;
			r->pending[i] = r->pending[--r->npending];
			return;
		}
	}
}

static void note_size(struct tp_state *s, uint16_t size)
{
	for (unsigned i = 0; i < TP_NSIZES; i++) {
		if (s->sizes[i].n && s->sizes[i].size == size) {
			s->sizes[i].n++;
			return;
		}
		if (!s->sizes[i].n) {
			s->sizes[i].size = size;
			s->sizes[i].n = 1;
			return;
		}
	}
	s->sizes_other++;
}

/* 0x20: the case pattern of one name changing between its queries. */
static void note_case(struct tp_state *s, const struct iotdns_dns_event *ev)
{
	const struct iotdns_dns_msg *m = ev->msg;
	uint64_t h = ev->qname_hash;
	if (!h)
		h = 1; /* 0 marks an empty slot */
	uint64_t raw = strcmp(m->qname, m->qname_raw) == 0 ? h : iotdns_hash_str(m->qname_raw);
	struct tp_case *c = &s->cases[h % TP_NCASE];
	if (c->name_hash != h) {
		if (c->name_hash) {
			s->case_repeated += c->repeated;
			s->case_varied += c->varied;
		}
		c->name_hash = h;
		c->raw_hash = raw;
		c->repeated = c->varied = false;
		return;
	}
	c->repeated = true;
	if (c->raw_hash != raw)
		c->varied = true;
	c->raw_hash = raw;
}

static void tp_on_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			const struct iotdns_dns_event *ev)
{
	(void)dev;
	struct tp_state *s = st;
	const struct iotdns_dns_msg *m = ev->msg;
	if (ev->proto != IOTDNS_PROTO_DNS)
		return;
	note_time(ctx, ev->pkt->ts_us);
	expire_pending(ctx, s, ev->pkt->ts_us);
	char tb[16];
	s->all_q++;
	if (ev->transport == IOTDNS_TR_TCP)
		match_pending(ctx, s, ev);
	if (!ev->retransmission) {
		if (ev->transport == IOTDNS_TR_TCP)
			s->tcp_q++;
		else
			s->udp_q++;
		if (s->n_first < TP_NFIRST)
			iotdns_evidence_set(&s->first[s->n_first++], ev->pkt, "query 0x%04x %.60s %s over %s Do53",
					    m->id, m->qname, iotdns_rrtype_name(m->qtype, tb),
					    ev->transport == IOTDNS_TR_TCP ? "TCP" : "UDP");
	}
	if (m->edns.present) {
		s->edns_q++;
		s->cur_edns = true;
		note_size(s, m->edns.udp_size);
		s->do_q += m->edns.do_bit;
		s->cookie_q += m->edns.has_cookie;
		s->pad_q += m->edns.has_padding;
		s->edns_v1_q += m->edns.version != 0;
		uint16_t sz = m->edns.udp_size;
		if (sz < iotdns_check_opt(ctx, OPT_EDNS_SIZE_MIN) || sz > iotdns_check_opt(ctx, OPT_EDNS_SIZE_MAX)) {
			s->bad_size_q++;
			struct tp_rare *r = rare_of(s);
			if (r && r->n_size_ev < TP_NRARE_EV)
				iotdns_evidence_set(&r->size_ev[r->n_size_ev++], ev->pkt,
						    "query 0x%04x %.60s %s advertises EDNS UDP size %u", m->id, m->qname,
						    iotdns_rrtype_name(m->qtype, tb), sz);
		}
		if (m->edns.has_ecs) {
			if (m->edns.ecs_source_prefix == 0) {
				s->ecs_optout_q++;
			} else {
				uint8_t p = m->edns.ecs_source_prefix;
				if (!s->ecs_q || p < s->ecs_prefix_min)
					s->ecs_prefix_min = p;
				if (!s->ecs_q || p > s->ecs_prefix_max)
					s->ecs_prefix_max = p;
				s->ecs_q++;
				s->ecs_family = m->edns.ecs_family;
				struct tp_rare *r = rare_of(s);
				if (r && r->n_ecs_ev < TP_NRARE_EV)
					iotdns_evidence_set(&r->ecs_ev[r->n_ecs_ev++], ev->pkt,
							    "query 0x%04x %.60s %s carries ECS %s/%u", m->id,
							    m->qname, iotdns_rrtype_name(m->qtype, tb),
							    m->edns.ecs_family == 2 ? "IPv6" : "IPv4", p);
			}
		}
	} else if (s->n_noedns < TP_NFIRST) {
		iotdns_evidence_set(&s->noedns[s->n_noedns++], ev->pkt, "query 0x%04x %.60s %s, %u bytes, no OPT record",
				    m->id, m->qname, iotdns_rrtype_name(m->qtype, tb), m->size);
	}
	if (m->has_question && !ev->retransmission) {
		if (m->qtype == IOTDNS_T_SVCB && strcmp(m->qname, DISCOVERY_NAME) == 0)
			s->discovery_q++;
		note_case(s, ev);
	}
}

static void tp_on_response(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			   const struct iotdns_dns_event *ev)
{
	(void)dev;
	if (ev->proto != IOTDNS_PROTO_DNS)
		return;
	note_time(ctx, ev->pkt->ts_us);
	expire_pending(ctx, st, ev->pkt->ts_us);
}

/* A UDP answer with TC=1 to one of the device's queries: wait for its TCP retry. */
static void tp_on_txn(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st, const struct iotdns_txn *t)
{
	(void)dev;
	struct tp_state *s = st;
	if (!t->answered)
		return;
	if (!t->tc) {
		/* a full answer for a waiting name (over TCP, or over UDP from a parallel
		 * resolver or with a larger EDNS size): the device has what it asked for */
		struct tp_rare *w = s->rare;
		uint64_t win = (uint64_t)(iotdns_check_opt(ctx, OPT_TC_WINDOW) * 1e6);
		for (unsigned i = 0; w && i < w->npending; i++) {
			if (w->pending[i].name_hash != t->qname_hash || t->response_us > w->pending[i].ts_us + win ||
			    t->transport == IOTDNS_TR_TCP)
				continue;
			s->tc_other++;
			w->pending[i] = w->pending[--w->npending];
			break;
		}
		return;
	}
	if (t->transport != IOTDNS_TR_UDP)
		return;
	struct tp_rare *r = rare_of(s);
	if (!r)
		return;
	s->tc_seen++;
	for (unsigned i = 0; i < r->npending; i++)
		if (r->pending[i].name_hash == t->qname_hash && iotdns_addr_eq(&r->pending[i].res, &t->server))
			return; /* one retry answers every truncation of that name */
	if (r->npending == TP_NPENDING) {
		s->tc_dropped++; /* oldest gives way; counted, never judged */
		memmove(&r->pending[0], &r->pending[1], sizeof(r->pending[0]) * (TP_NPENDING - 1));
		r->npending--;
	}
	struct tp_pending *p = &r->pending[r->npending++];
	char tb[16], ab[IOTDNS_ADDR_TEXT];
	p->name_hash = t->qname_hash;
	p->res = t->server;
	p->ts_us = t->response_us;
	p->ev.input = t->response_input;
	p->ev.pktno = t->response_pktno;
	p->ev.ts_us = t->response_us;
	snprintf(p->ev.text, sizeof(p->ev.text), "answer 0x%04x %.60s %s from %s with TC=1, no TCP retry", t->id,
		 t->name && t->name->name ? t->name->name : "?", iotdns_rrtype_name(t->qtype, tb),
		 iotdns_addr_str(&t->server, ab));
}

static void tp_on_session_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			      const struct iotdns_session *sess)
{
	(void)ctx;
	(void)dev;
	struct tp_state *s = st;
	if (sess->queries) {
		s->sessions++;
		s->sessions_edns += s->cur_edns;
	}
	s->cur_edns = false;
}

static unsigned pct(uint64_t a, uint64_t b)
{
	return b ? (unsigned)((a * 100 + b / 2) / b) : 0;
}

/* "1232" or "1232 (98%), 4096 (2%)" */
static void sizes_text(const struct tp_state *s, char *buf, size_t size)
{
	size_t len = 0;
	unsigned used = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < TP_NSIZES && s->sizes[i].n; i++)
		used++;
	for (unsigned i = 0; i < used && len < size; i++) {
		int n = used == 1 && !s->sizes_other
				? snprintf(buf + len, size - len, "%u", s->sizes[i].size)
				: snprintf(buf + len, size - len, "%s%u (%u%%)", i ? ", " : "", s->sizes[i].size,
					   pct(s->sizes[i].n, s->edns_q));
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (s->sizes_other && len < size)
		snprintf(buf + len, size - len, ", other (%u%%)", pct(s->sizes_other, s->edns_q));
}

static void sizes_json(const struct tp_state *s, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "{");
	for (unsigned i = 0; i < TP_NSIZES && s->sizes[i].n && len < size; i++) {
		int n = snprintf(buf + len, size - len, "%s\"%u\":%llu", i ? "," : "", s->sizes[i].size,
				 (unsigned long long)s->sizes[i].n);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (s->sizes_other && len < size)
		len += (size_t)snprintf(buf + len, size - len, "%s\"other\":%llu", s->sizes[0].n ? "," : "",
					(unsigned long long)s->sizes_other);
	if (len + 2 <= size)
		snprintf(buf + len, size - len, "}");
}

struct tp_enc {
	uint64_t dot, doq, doh;
	unsigned nres;       /* resolvers reached over encrypted DNS */
	char first[IOTDNS_ADDR_TEXT];
};

static void encrypted_flows(const struct iotdns_device *dev, struct tp_enc *e)
{
	memset(e, 0, sizeof(*e));
	for (uint32_t i = 0; i < dev->nresolvers; i++) {
		const struct iotdns_dev_resolver *r = &dev->resolvers[i];
		uint64_t f = r->flows_dot + r->flows_doq + r->flows_doh;
		if (!f)
			continue;
		if (!e->nres++)
			iotdns_addr_str(&r->addr, e->first);
		e->dot += r->flows_dot;
		e->doq += r->flows_doq;
		e->doh += r->flows_doh;
	}
}

static void enc_text(const struct tp_enc *e, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = 0;
	if (e->dot)
		len += (size_t)snprintf(buf + len, size - len, "DoT %llu", (unsigned long long)e->dot);
	if (e->doh && len < size)
		len += (size_t)snprintf(buf + len, size - len, "%sDoH %llu", len ? ", " : "", (unsigned long long)e->doh);
	if (e->doq && len < size)
		len += (size_t)snprintf(buf + len, size - len, "%sDoQ %llu", len ? ", " : "", (unsigned long long)e->doq);
	if (len < size)
		snprintf(buf + len, size - len, " flows to %s%s", e->first, e->nres > 1 ? " and others" : "");
}

static void first_resolver(const struct iotdns_device *dev, char ab[IOTDNS_ADDR_TEXT], unsigned *n)
{
	uint64_t best = 0;
	*n = 0;
	snprintf(ab, IOTDNS_ADDR_TEXT, "-");
	for (uint32_t i = 0; i < dev->nresolvers; i++) {
		const struct iotdns_dev_resolver *r = &dev->resolvers[i];
		if (!r->queries)
			continue;
		(*n)++;
		if (r->queries > best) {
			best = r->queries;
			iotdns_addr_str(&r->addr, ab);
		}
	}
}

static void tp_on_device_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st)
{
	struct tp_state *s = st;
	struct tp_global *g = ctx->priv;
	uint64_t do53 = s->udp_q + s->tcp_q;
	uint64_t min_q = (uint64_t)iotdns_check_opt(ctx, OPT_MIN_QUERIES);
	struct tp_enc enc;
	char encb[96], ab[IOTDNS_ADDR_TEXT], sz[96];
	unsigned nres;
	encrypted_flows(dev, &enc);
	uint64_t encf = enc.dot + enc.doq + enc.doh;

	/* settle the truncations still waiting: judged only when the capture went on past their window */
	struct tp_rare *r = s->rare;
	if (r) {
		uint64_t win = (uint64_t)(iotdns_check_opt(ctx, OPT_TC_WINDOW) * 1e6);
		uint64_t now = g ? g->now_us : 0;
		for (unsigned i = 0; i < r->npending; i++) {
			if (now > r->pending[i].ts_us + win) {
				s->tc_missing++;
				add_ev(r->tc_ev, &r->n_tc_ev, TP_NRARE_EV, &r->pending[i].ev);
			} else {
				s->tc_undecided++;
			}
		}
		r->npending = 0;
	}
	uint64_t case_rep = s->case_repeated, case_var = s->case_varied;
	for (unsigned i = 0; i < TP_NCASE; i++) {
		case_rep += s->cases[i].repeated;
		case_var += s->cases[i].varied;
	}

	if (!do53 && !encf) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "no unicast DNS (%llu mDNS, %llu LLMNR queries)",
				    (unsigned long long)dev->mdns_queries, (unsigned long long)dev->llmnr_queries);
		return;
	}
	if (!do53) {
		enc_text(&enc, encb, sizeof(encb));
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS,
				    "encrypted DNS only (%s); EDNS, TCP fallback and ECS not observable", encb);
		return;
	}
	first_resolver(dev, ab, &nres);
	double share = (double)do53 / (double)(do53 + encf);
	bool plaintext = do53 >= min_q && share >= iotdns_check_opt(ctx, OPT_PLAINTEXT_SHARE);
	struct iotdns_finding *f;

	if (plaintext && iotdns_check_opt(ctx, OPT_REQUIRE_ENCRYPTED) >= 1) {
		f = iotdns_finding_new(ctx, dev, "TRANSPORT.PLAINTEXT_ONLY");
		if (encf)
			iotdns_finding_summary(f, "%.0f%% of its DNS is plaintext: %llu Do53 queries against %llu encrypted "
					       "flows", share * 100, (unsigned long long)do53, (unsigned long long)encf);
		else
			iotdns_finding_summary(f, "all %llu queries to %u resolver%s (%s%s) went over plaintext Do53, no "
					       "DoT/DoH/DoQ flow", (unsigned long long)do53, nres, nres == 1 ? "" : "s",
					       ab, nres > 1 ? " and others" : "");
		iotdns_finding_u64(f, "do53_queries", do53);
		iotdns_finding_u64(f, "tcp_queries", s->tcp_q);
		iotdns_finding_u64(f, "dot_flows", enc.dot);
		iotdns_finding_u64(f, "doh_flows", enc.doh);
		iotdns_finding_u64(f, "doq_flows", enc.doq);
		iotdns_finding_dbl(f, "do53_share", share);
		iotdns_finding_dbl(f, "threshold", iotdns_check_opt(ctx, OPT_PLAINTEXT_SHARE));
		for (unsigned i = 0; i < s->n_first; i++)
			iotdns_finding_evidence(f, &s->first[i]);
	}
	if (!s->edns_q && do53 >= min_q) {
		f = iotdns_finding_new(ctx, dev, "TRANSPORT.NO_EDNS");
		iotdns_finding_summary(f, "none of its %llu queries (%llu with retransmissions; %u session%s, %u resolver%s, "
				       "mostly %s) carried an OPT record", (unsigned long long)do53,
				       (unsigned long long)s->all_q, s->sessions, s->sessions == 1 ? "" : "s", nres,
				       nres == 1 ? "" : "s", ab);
		iotdns_finding_u64(f, "queries", do53);
		iotdns_finding_u64(f, "queries_with_retransmissions", s->all_q);
		iotdns_finding_u64(f, "edns_queries", 0);
		iotdns_finding_u64(f, "sessions", s->sessions);
		iotdns_finding_u64(f, "min_queries", min_q);
		for (unsigned i = 0; i < s->n_noedns; i++)
			iotdns_finding_evidence(f, &s->noedns[i]);
	}
	if (s->bad_size_q) {
		f = iotdns_finding_new(ctx, dev, "TRANSPORT.EDNS_SIZE");
		sizes_text(s, sz, sizeof(sz));
		iotdns_finding_summary(f, "%llu of its %llu EDNS queries advertise a UDP size outside %g-%g bytes (sizes: %s)",
				       (unsigned long long)s->bad_size_q, (unsigned long long)s->edns_q,
				       iotdns_check_opt(ctx, OPT_EDNS_SIZE_MIN), iotdns_check_opt(ctx, OPT_EDNS_SIZE_MAX), sz);
		sizes_json(s, sz, sizeof(sz));
		iotdns_finding_json(f, "edns_sizes", sz);
		iotdns_finding_u64(f, "odd_size_queries", s->bad_size_q);
		iotdns_finding_u64(f, "edns_queries", s->edns_q);
		iotdns_finding_u64(f, "size_min", (uint64_t)iotdns_check_opt(ctx, OPT_EDNS_SIZE_MIN));
		iotdns_finding_u64(f, "size_max", (uint64_t)iotdns_check_opt(ctx, OPT_EDNS_SIZE_MAX));
		for (unsigned i = 0; r && i < r->n_size_ev; i++)
			iotdns_finding_evidence(f, &r->size_ev[i]);
	}
	uint64_t judged = s->tc_ok + s->tc_missing;
	if (s->tc_missing &&
	    (double)s->tc_missing >= iotdns_check_opt(ctx, OPT_TC_FAIL_SHARE) * (double)judged) {
		f = iotdns_finding_new(ctx, dev, "TRANSPORT.NO_TCP_FALLBACK");
		iotdns_finding_summary(f, "%llu of %llu truncated (TC=1) answers were not followed by a TCP query for the "
				       "same name to the same resolver within %gs", (unsigned long long)s->tc_missing,
				       (unsigned long long)judged, iotdns_check_opt(ctx, OPT_TC_WINDOW));
		iotdns_finding_u64(f, "truncated_answers", s->tc_seen);
		iotdns_finding_u64(f, "tcp_retries", s->tc_ok);
		iotdns_finding_u64(f, "missing_retries", s->tc_missing);
		iotdns_finding_u64(f, "undecided", s->tc_undecided);
		iotdns_finding_u64(f, "answered_over_udp", s->tc_other);
		iotdns_finding_u64(f, "tcp_queries", s->tcp_q);
		iotdns_finding_dbl(f, "window_s", iotdns_check_opt(ctx, OPT_TC_WINDOW));
		for (unsigned i = 0; r && i < r->n_tc_ev; i++)
			iotdns_finding_evidence(f, &r->tc_ev[i]);
	}
	if (s->ecs_q) {
		f = iotdns_finding_new(ctx, dev, "PRIVACY.ECS_SENT");
		iotdns_finding_summary(f, "%llu of its %llu queries carry a client-subnet option (%s, source prefix /%u%s%s)",
				       (unsigned long long)s->ecs_q, (unsigned long long)s->all_q,
				       s->ecs_family == 2 ? "IPv6" : "IPv4", s->ecs_prefix_min,
				       s->ecs_prefix_max != s->ecs_prefix_min ? " to /" : "",
				       s->ecs_prefix_max != s->ecs_prefix_min ? "more" : "");
		iotdns_finding_u64(f, "ecs_queries", s->ecs_q);
		iotdns_finding_u64(f, "queries", s->all_q);
		iotdns_finding_dbl(f, "ecs_share", (double)s->ecs_q / (double)s->all_q);
		iotdns_finding_u64(f, "ecs_family", s->ecs_family);
		iotdns_finding_u64(f, "source_prefix_min", s->ecs_prefix_min);
		iotdns_finding_u64(f, "source_prefix_max", s->ecs_prefix_max);
		iotdns_finding_u64(f, "optout_queries", s->ecs_optout_q);
		for (unsigned i = 0; r && i < r->n_ecs_ev; i++)
			iotdns_finding_evidence(f, &r->ecs_ev[i]);
	}

	/* the status detail: what was measured, good and bad (200 characters) */
	char d[256];
	size_t len = 0;
#define APPEND(...)                                                                          \
	do {                                                                                 \
		if (len < sizeof(d)) {                                                       \
			int n_ = snprintf(d + len, sizeof(d) - len, __VA_ARGS__);            \
			if (n_ > 0)                                                          \
				len += (size_t)n_;                                           \
		}                                                                            \
	} while (0)
	if (s->edns_q) {
		sizes_text(s, sz, sizeof(sz));
		APPEND("EDNS %s in %u%% of %llu queries", sz, pct(s->edns_q, s->all_q), (unsigned long long)s->all_q);
		if (s->sessions_edns < s->sessions)
			APPEND(" (in %u of %u sessions)", s->sessions_edns, s->sessions);
		APPEND("; DO %u%%; cookies %u%%", pct(s->do_q, s->edns_q), pct(s->cookie_q, s->edns_q));
		if (s->pad_q)
			APPEND("; padding %u%%", pct(s->pad_q, s->edns_q));
		if (s->ecs_optout_q)
			APPEND("; ECS /0 opt-out");
	} else {
		APPEND("no EDNS in %llu queries", (unsigned long long)do53);
	}
	if (s->tc_seen)
		APPEND("; TCP fallback %llu/%llu%s", (unsigned long long)s->tc_ok, (unsigned long long)judged,
		       s->tc_other ? " (others answered over UDP)" : "");
	else
		APPEND("; no TC seen");
	if (encf) {
		enc_text(&enc, encb, sizeof(encb));
		APPEND("; %s", encb);
	} else if (plaintext) {
		APPEND("; plaintext only");
	}
	if (s->discovery_q)
		APPEND("; DDR %llu", (unsigned long long)s->discovery_q);
	if (case_var >= 3 && case_var * 2 >= case_rep)
		APPEND("; 0x20 on %llu/%llu names", (unsigned long long)case_var, (unsigned long long)case_rep);
#undef APPEND
	if (!s->edns_q && do53 < min_q && !encf)
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT, "%llu of %llu queries needed to judge EDNS: %s",
				    (unsigned long long)do53, (unsigned long long)min_q, d);
	else
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS, "%s", d);
}

const struct iotdns_checker iotdns_chk_transport_privacy = {
	.api = IOTDNS_CHECKER_API,
	.id = "transport-privacy",
	.summary = "EDNS(0), TCP fallback, encrypted DNS and privacy options",
	.kinds = kinds,
	.opts = opts,
	.dev_state_size = sizeof(struct tp_state),
	.init = tp_init,
	.fini = tp_fini,
	.on_query = tp_on_query,
	.on_response = tp_on_response,
	.on_txn = tp_on_txn,
	.on_session_end = tp_on_session_end,
	.on_device_end = tp_on_device_end,
	.dev_free = tp_dev_free,
};

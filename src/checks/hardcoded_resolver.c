/* iotdns - the hardcoded-resolver check (draft D9, O4; docs/checks/hardcoded-resolver.md).
 *
 * Which resolvers does a device use, and are they the ones its network
 * provides? The provided set is, per address family: the resolvers handed to
 * the device (DHCPv4 option 6, DHCPv6 option 23, RA RDNSS) and --resolver,
 * all in dev->offered[] after iotdns_engine_sync(); when the device has none
 * of a family, the set is inferred network-wide (resolvers DHCP offered to
 * other devices, local resolvers that answer, and the resolver most devices
 * use) and marked "inferred".
 *
 * Every destination of the device's DNS (Do53 over UDP/TCP, DoT, DoQ, HTTPS
 * to known DoH services) is classified provided / well-known public (operator
 * from the built-in resolver database, ASN and country with --asn-db and
 * --geo-db) / other, and four behaviours are reported:
 *   RESOLVER.HARDCODED            most of its queries go to resolvers it was not given
 *   RESOLVER.HARDCODED_SECONDARY  a steady share (not after failures) goes there
 *   RESOLVER.FALLBACK             it asks elsewhere after a provided resolver did not answer
 *   RESOLVER.PARALLEL             the same question to several resolvers at once
 *   RESOLVER.ENCRYPTED_BYPASS     DoT/DoQ/DoH to a resolver the network did not provide
 *
 * Hot path (on_query): a few compares over a 24-entry ring of recent
 * queries; evidence is formatted only for the first query to a resolver and
 * for the first events of a kind. Everything else happens at device end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/checker.h"
#include "iotdns/engine.h"
#include "iotdns/enrich.h"
#include "iotdns/finding.h"
#include "iotdns/json.h"

static const struct iotdns_finding_kind kinds[] = {
	{ "RESOLVER.HARDCODED", IOTDNS_SEV_MEDIUM,
	  "Most DNS queries bypass the resolvers the network provides",
	  "The device sends most of its DNS queries to a resolver it was not given (by DHCP, DHCPv6, "
	  "Router Advertisements or the operator's configuration), although the provided resolver works. "
	  "Local filtering, split-horizon names, logging and the operator's privacy policy are bypassed; the "
	  "queries cross the Internet in clear text to a third party; and the device breaks when that address "
	  "is unreachable or blocked, which is the operational fragility the IETF guidelines warn about.",
	  "Operators: redirect (DNAT) or block outbound port 53 (and 853) to resolvers other than your own, so "
	  "the device falls back to the provided resolver; watch that it still works. Manufacturers: use the "
	  "resolvers the network provides (DHCP option 6, DHCPv6, RA RDNSS) and do not hard-code public ones.",
	  "draft-ietf-iotops-iot-dns-guidelines (use the network-provided resolver); RFC 2132 §3.8; "
	  "RFC 8415 §21.2 / RFC 3646; RFC 8106" },
	{ "RESOLVER.HARDCODED_SECONDARY", IOTDNS_SEV_LOW,
	  "Part of the DNS queries go to a resolver the network did not provide",
	  "Besides the provided resolver, the device steadily sends a share of its queries to another resolver "
	  "that is built into it, not only after failures. Those queries escape local policy and monitoring "
	  "and travel to a third party in clear text; the hard-coded address also shows the device would keep "
	  "using it on any network.",
	  "Operators: redirect or block outbound port 53/853 to outside resolvers. Manufacturers: use only the "
	  "resolvers the network provides.",
	  "draft-ietf-iotops-iot-dns-guidelines (use the network-provided resolver); RFC 2132 §3.8" },
	{ "RESOLVER.FALLBACK", IOTDNS_SEV_LOW,
	  "Falls back to a resolver the network did not provide when the provided one does not answer",
	  "When a provided resolver leaves a query unanswered, the device asks the same question to a resolver "
	  "it carries itself. It works with the network's resolver, but failures (or deliberate blocking of a "
	  "name by local policy) push its queries to a third party in clear text.",
	  "Operators: make the provided resolver answer (or refuse) instead of dropping queries, and block or "
	  "redirect port 53/853 to outside resolvers so the fallback cannot leave the network. Manufacturers: "
	  "retry the provided resolvers with back-off instead of switching to a built-in one.",
	  "draft-ietf-iotops-iot-dns-guidelines (use the network-provided resolver; resilience); "
	  "RFC 1536 §1; RFC 8767" },
	{ "RESOLVER.PARALLEL", IOTDNS_SEV_INFO,
	  "Sends the same question to several resolvers at once",
	  "The device asks every (or most) questions to two or more resolvers within a few milliseconds instead "
	  "of waiting for the first. That multiplies the load it puts on resolvers and, where one of them is "
	  "not the provided one, the exposure of its queries. Between provided resolvers it is a performance "
	  "choice, not a bypass.",
	  "Nothing is required when all the resolvers are provided ones. Manufacturers: ask one resolver and "
	  "retry the next after a time-out.",
	  "draft-ietf-iotops-iot-dns-guidelines (load on resolvers); RFC 1536 §1" },
	{ "RESOLVER.ENCRYPTED_BYPASS", IOTDNS_SEV_LOW,
	  "Encrypted DNS (DoT/DoQ/DoH) to a resolver the network did not provide",
	  "The device resolves names over DNS-over-TLS, DNS-over-QUIC or DNS-over-HTTPS with a resolver it "
	  "chose itself. Encryption protects the queries on the path, but the network's resolver, its filtering "
	  "and its split-horizon names are bypassed and the operator cannot see or steer that traffic.",
	  "Operators: offer encrypted DNS yourself and advertise it (DNR, RFC 9463; DDR, RFC 9462); where "
	  "policy requires, block port 853 and known DoH endpoints so the device uses the provided resolver. "
	  "Manufacturers: discover and use the network's encrypted resolver.",
	  "draft-ietf-iotops-iot-dns-guidelines; RFC 7858; RFC 8484; RFC 9250; RFC 9462; RFC 9463" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

enum {
	OPT_HARDCODED_SHARE,
	OPT_SECONDARY_SHARE,
	OPT_MIN_OUTSIDE,
	OPT_MIN_QUERIES,
	OPT_PARALLEL_WINDOW,
	OPT_PARALLEL_SHARE,
	OPT_MIN_PARALLEL,
	OPT_FALLBACK_WINDOW,
	OPT_MIN_FALLBACK,
	OPT_MIN_ENCRYPTED,
	OPT_INFER_MIN_DEVICES,
	OPT_INFER_SHARE,
};

static const struct iotdns_opt opts[] = {
	[OPT_HARDCODED_SHARE] = { "hardcoded-share", 0.5, 0.01, 1,
				  "share of queries (not fallback) to non-provided resolvers for HARDCODED (0-1)" },
	[OPT_SECONDARY_SHARE] = { "secondary-share", 0.05, 0, 1,
				  "share of queries (not fallback) to non-provided resolvers for HARDCODED_SECONDARY (0-1)" },
	[OPT_MIN_OUTSIDE] = { "min-outside-queries", 5, 1, 1e9,
			      "queries (not fallback) to non-provided resolvers needed for HARDCODED[_SECONDARY]" },
	[OPT_MIN_QUERIES] = { "min-queries", 10, 1, 1e9, "queries (retransmissions excluded) needed for a pass" },
	[OPT_PARALLEL_WINDOW] = { "parallel-window-ms", 50, 1, 5000,
				  "the same question to another resolver within this many ms is a parallel copy" },
	[OPT_PARALLEL_SHARE] = { "parallel-share", 0.10, 0, 1, "share of lookups sent in parallel for PARALLEL (0-1)" },
	[OPT_MIN_PARALLEL] = { "min-parallel", 10, 1, 1e9, "parallel lookups needed for PARALLEL" },
	[OPT_FALLBACK_WINDOW] = { "fallback-window-s", 120, 1, 3600,
				  "a question re-asked elsewhere within this many seconds after an unanswered one is a fallback" },
	[OPT_MIN_FALLBACK] = { "min-fallback", 1, 1, 1e9, "fallback queries needed for FALLBACK" },
	[OPT_MIN_ENCRYPTED] = { "min-encrypted-flows", 1, 1, 1e9,
				"DoT/DoQ/DoH connections to non-provided resolvers needed for ENCRYPTED_BYPASS" },
	[OPT_INFER_MIN_DEVICES] = { "infer-min-devices", 2, 1, 1e6,
				    "devices that must share a resolver before it is inferred as provided" },
	[OPT_INFER_SHARE] = { "infer-share", 0.3, 0, 1,
			      "a resolver used by this share of the devices the most-used one has is inferred too (0-1)" },
	{ NULL, 0, 0, 0, NULL },
};

/* ---- per-device state (fixed size, about 3 KB) ------------------------------ */

#define RES_MAX 32      /* resolver indexes with their own query count */
#define RES_EV 8        /* resolver indexes with session counts and evidence */
#define RING 24         /* recent queries: parallel copies, late fallback matching */
#define URING 8         /* recent unanswered transactions */
#define EV_POOL 10      /* evidence slots shared by all uses */
#define PAIRS 4         /* resolver pairs tracked for fallback and for parallel copies */
#define NO_RES 0xff

enum { RQ_PARALLEL = 1, RQ_FALLBACK = 2 };

struct rq {                     /* a recent query (retransmissions excluded) */
	uint64_t ts_us, h, pktno;
	uint32_t input;
	uint16_t id, qtype;
	uint8_t ridx, flags;
	uint8_t fb_from;        /* RQ_FALLBACK: the resolver that left it unanswered */
};

struct uq {                     /* a recent unanswered transaction */
	uint64_t q_us, h, pktno;
	uint32_t input;
	uint16_t id, qtype;
	uint8_t ridx;
};

struct pair {                   /* from -> to (fallback) or first -> copy (parallel) */
	uint8_t a, b;           /* resolver indexes */
	uint8_t ev_a, ev_b;     /* evidence slot + 1, 0 = none */
	uint32_t n;
	uint64_t dmin_us, dmax_us, dsum_ms;
};

struct rhot {                    /* per resolver index < RES_EV, touched per query */
	uint32_t q;                 /* queries, retransmissions excluded */
	uint32_t sess;              /* sessions in which it was queried */
	uint32_t last_sess;         /* session idx + 1 */
	uint8_t ev_first, ev_later; /* evidence slot + 1: first query, first in a later session */
};

/* Hot fields first: a query touches the first two cache lines (and the
 * ring only when the previous query is within the parallel window). */
struct state {
	uint64_t queries;                /* unicast DNS queries, retransmissions excluded */
	uint64_t last_ts;                /* time of the newest ring entry */
	uint64_t u_newest;               /* newest query time among unanswered ones */
	uint32_t sessions, last_any_sess;/* sessions with queries; last one + 1 */
	uint8_t nring, ring_head, nu, u_head;
	uint8_t nev, nfb, npar, pad_;
	struct rhot rh[RES_EV];
	uint32_t q_more[RES_MAX - RES_EV]; /* queries per resolver index RES_EV..RES_MAX-1 */
	uint64_t untracked;              /* ... whose resolver index was beyond RES_MAX */
	uint64_t lookups_parallel;       /* lookups sent to >= 2 resolvers */
	uint64_t copies;                 /* the extra copies */
	struct rq ring[RING];
	struct uq un[URING];
	uint32_t pairs_dropped;
	struct pair fb[PAIRS], par[PAIRS];
	uint32_t ev_dropped;
	struct iotdns_evidence ev[EV_POOL];
};

static uint32_t q_of(const struct state *s, uint32_t ridx)
{
	return ridx < RES_EV ? s->rh[ridx].q : ridx < RES_MAX ? s->q_more[ridx - RES_EV] : 0;
}

/* ---- checker-global state: resolvers across devices ----------------------- */

#define GTAB_CAP 1024   /* distinct resolver addresses kept network-wide */

struct gres {
	struct iotdns_addr addr;
	bool used;
	uint8_t offered_by;      /* DHCP/DHCPv6/RA offer to some device (enum iotdns_provided_by) */
	uint32_t devices;        /* devices that sent it unicast DNS queries */
	uint64_t queries, responses;
};

struct priv {
	bool built;
	uint64_t pwin_us, fwin_us;
	double infer_share;
	uint32_t ndev;                  /* devices seen when built */
	uint64_t dropped;               /* addresses beyond GTAB_CAP */
	struct {
		uint32_t max_devices;   /* most devices sharing one resolver */
		bool offered_any;       /* DHCP/RA offered one to some device */
		bool local_answering;   /* a local resolver answered some device */
		uint8_t ninferred;      /* inferred provided resolvers, for display */
		struct iotdns_addr inferred[IOTDNS_DHCP_MAX_DNS];
	} fam[2];
	struct gres tab[GTAB_CAP];
};

static int init(struct iotdns_check_ctx *ctx)
{
	struct priv *p = calloc(1, sizeof(*p));
	if (!p)
		return IOTDNS_ENOMEM;
	p->pwin_us = (uint64_t)(iotdns_check_opt(ctx, OPT_PARALLEL_WINDOW) * 1000.0);
	p->fwin_us = (uint64_t)(iotdns_check_opt(ctx, OPT_FALLBACK_WINDOW) * 1000000.0);
	p->infer_share = iotdns_check_opt(ctx, OPT_INFER_SHARE);
	ctx->priv = p;
	return IOTDNS_OK;
}

static void fini(struct iotdns_check_ctx *ctx)
{
	free(ctx->priv);
	ctx->priv = NULL;
}

static struct gres *gfind(struct priv *p, const struct iotdns_addr *a, bool create)
{
	uint32_t i = (uint32_t)iotdns_addr_hash(a) & (GTAB_CAP - 1);
	for (uint32_t n = 0; n < GTAB_CAP; n++, i = (i + 1) & (GTAB_CAP - 1)) {
		struct gres *g = &p->tab[i];
		if (!g->used) {
			if (!create)
				return NULL;
			g->used = true;
			g->addr = *a;
			return g;
		}
		if (iotdns_addr_eq(&g->addr, a))
			return g;
	}
	if (create)
		p->dropped++;
	return NULL;
}

static unsigned fam_idx(const struct iotdns_addr *a)
{
	return a->family == 6 ? 1 : 0;
}

/* Inference for a device without offers of g's family: offered by DHCP/RA
 * to another device, a local resolver that answers, or a resolver shared by
 * many devices: at least infer_min of them and at least infer_share of the
 * devices the most-used resolver has (a network's resolvers serve most of
 * its devices; a hard-coded one only the units of one product). */
static bool inferred_rule(const struct priv *p, const struct gres *g, unsigned infer_min)
{
	unsigned f = fam_idx(&g->addr);
	if (g->offered_by)
		return true;
	if (g->responses && iotdns_addr_is_local(&g->addr))
		return true;
	return g->devices && g->devices >= infer_min && (double)g->devices >= p->infer_share * p->fam[f].max_devices;
}

/* Counts, once, every device's resolvers: complete by the first device end
 * (device ends come after the last packet). */
static void build_global(struct iotdns_check_ctx *ctx, struct priv *p)
{
	p->built = true;
	if (!ctx->engine)
		return;
	struct iotdns_devtab *t = iotdns_engine_devices(ctx->engine);
	uint32_t n = t ? iotdns_devtab_count(t) : 0;
	p->ndev = n;
	for (uint32_t i = 0; i < n; i++) {
		struct iotdns_device *d = iotdns_devtab_at(t, i);
		if (!d)
			continue;
		for (uint32_t j = 0; j < d->nresolvers; j++) {
			const struct iotdns_dev_resolver *r = &d->resolvers[j];
			if (!r->queries && !r->responses)
				continue;
			struct gres *g = gfind(p, &r->addr, true);
			if (!g)
				continue;
			if (r->queries) {
				g->devices++;
				g->queries += r->queries - IOTDNS_MIN(r->retransmissions, r->queries);
			}
			g->responses += r->responses;
		}
		for (unsigned j = 0; j < d->n_offered && j < IOTDNS_DHCP_MAX_DNS; j++) {
			uint8_t by = d->offered_by[j];
			if (by != IOTDNS_PROV_DHCP && by != IOTDNS_PROV_DHCPV6 && by != IOTDNS_PROV_RA)
				continue;
			struct gres *g = gfind(p, &d->offered[j], true);
			if (g && !g->offered_by)
				g->offered_by = by;
		}
	}
	for (uint32_t i = 0; i < GTAB_CAP; i++) {
		const struct gres *g = &p->tab[i];
		if (!g->used)
			continue;
		unsigned f = fam_idx(&g->addr);
		if (g->devices > p->fam[f].max_devices)
			p->fam[f].max_devices = g->devices;
		if (g->offered_by)
			p->fam[f].offered_any = true;
		if (g->responses && iotdns_addr_is_local(&g->addr))
			p->fam[f].local_answering = true;
	}
	unsigned infer_min = (unsigned)iotdns_check_opt(ctx, OPT_INFER_MIN_DEVICES);
	for (uint32_t i = 0; i < GTAB_CAP; i++) {
		const struct gres *g = &p->tab[i];
		unsigned f = fam_idx(&g->addr);
		if (g->used && inferred_rule(p, g, infer_min) && p->fam[f].ninferred < IOTDNS_DHCP_MAX_DNS)
			p->fam[f].inferred[p->fam[f].ninferred++] = g->addr;
	}
}

/* ---- events ------------------------------------------------------------------- */

static int ev_alloc(struct state *s)
{
	if (s->nev >= EV_POOL) {
		s->ev_dropped++;
		return 0;
	}
	return ++s->nev; /* slot + 1 */
}

static struct pair *pair_get(struct state *s, struct pair *tab, uint8_t *n, uint8_t a, uint8_t b)
{
	for (unsigned i = 0; i < *n; i++)
		if (tab[i].a == a && tab[i].b == b)
			return &tab[i];
	if (*n >= PAIRS) {
		s->pairs_dropped++;
		return NULL;
	}
	struct pair *pr = &tab[(*n)++];
	memset(pr, 0, sizeof(*pr));
	pr->a = a;
	pr->b = b;
	pr->dmin_us = UINT64_MAX;
	return pr;
}

static void pair_delay(struct pair *pr, uint64_t d)
{
	pr->n++;
	if (d < pr->dmin_us)
		pr->dmin_us = d;
	if (d > pr->dmax_us)
		pr->dmax_us = d;
	pr->dsum_ms += d / 1000;
}

static const char *qtype_str(uint16_t t, char buf[16])
{
	return iotdns_rrtype_name(t, buf);
}

/* Evidence from stored fields (a query we no longer have the packet of). */
static void ev_fill(struct iotdns_evidence *e, uint32_t input, uint64_t pktno, uint64_t ts, const char *fmt, ...)
	IOTDNS_PRINTF(5, 6);
static void ev_fill(struct iotdns_evidence *e, uint32_t input, uint64_t pktno, uint64_t ts, const char *fmt, ...)
{
	char tmp[IOTDNS_EVIDENCE_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* reuse the builder's sanitising path through a fake packet */
	struct iotdns_pkt pk;
	memset(&pk, 0, sizeof(pk));
	pk.input = input;
	pk.pktno = pktno;
	pk.ts_us = ts;
	iotdns_evidence_set(e, &pk, "%s", tmp);
}

static void fallback_event(struct state *s, uint8_t from, uint8_t to, uint64_t delay, const struct uq *u,
			   const struct rq *z, const char *name)
{
	struct pair *pr = pair_get(s, s->fb, &s->nfb, from, to);
	if (!pr)
		return;
	pair_delay(pr, delay);
	if (pr->ev_a)
		return;
	char tb[16];
	int a = ev_alloc(s), b = a ? ev_alloc(s) : 0;
	if (!a || !b)
		return;
	pr->ev_a = (uint8_t)a;
	pr->ev_b = (uint8_t)b;
	ev_fill(&s->ev[a - 1], u->input, u->pktno, u->q_us, "query 0x%04x %s %.60s", u->id, qtype_str(u->qtype, tb),
		name ? name : "?");
	ev_fill(&s->ev[b - 1], z->input, z->pktno, z->ts_us, "query 0x%04x %s %.60s (+%.1f s)", z->id,
		qtype_str(z->qtype, tb), name ? name : "?", (double)delay / 1e6);
}

static uint8_t res_index(const struct iotdns_device *dev, const struct iotdns_dev_resolver *r)
{
	if (!r || !dev->resolvers || r < dev->resolvers || r >= dev->resolvers + dev->nresolvers)
		return NO_RES;
	ptrdiff_t i = r - dev->resolvers;
	return i < NO_RES ? (uint8_t)i : NO_RES;
}

static void on_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
		     const struct iotdns_dns_event *ev)
{
	struct state *s = st;
	struct priv *p = ctx->priv;
	if (ev->proto != IOTDNS_PROTO_DNS || ev->direction != IOTDNS_DIR_FROM_DEVICE || ev->retransmission ||
	    !ev->msg->has_question)
		return;
	uint8_t ridx = res_index(dev, ev->resolver);
	s->queries++;
	if (ridx == NO_RES || ridx >= RES_MAX) {
		s->untracked++;
		return;
	}
	if (ridx < RES_EV)
		s->rh[ridx].q++;
	else
		s->q_more[ridx - RES_EV]++;
	const struct iotdns_pkt *pk = ev->pkt;
	const struct iotdns_dns_msg *m = ev->msg;
	uint64_t t = pk->ts_us;
	uint64_t h = ev->qname_hash;
	uint32_t sidx = ev->session ? ev->session->idx + 1 : 1;
	if (s->last_any_sess != sidx) {
		s->last_any_sess = sidx;
		s->sessions++;
	}
	char tb[16];
	struct rq cur = { .ts_us = t, .h = h, .pktno = pk->pktno, .input = pk->input, .id = m->id,
			  .qtype = m->qtype, .ridx = ridx, .fb_from = NO_RES };

	/* parallel: the same question to another resolver a moment ago */
	bool recent = s->nring && t >= s->last_ts && t - s->last_ts <= p->pwin_us;
	for (unsigned k = 0; recent && k < s->nring; k++) {
		struct rq *e = &s->ring[(s->ring_head + RING - 1 - k) % RING];
		if (e->ts_us > t || t - e->ts_us > p->pwin_us)
			break;
		if (e->h != h || e->qtype != m->qtype || e->ridx == ridx)
			continue;
		s->copies++;
		cur.flags |= RQ_PARALLEL;
		if (!(e->flags & RQ_PARALLEL)) {
			s->lookups_parallel++;
			e->flags |= RQ_PARALLEL;
			/* it went out together with this copy: not a fallback after all */
			if (e->flags & RQ_FALLBACK) {
				struct pair *fp = pair_get(s, s->fb, &s->nfb, e->fb_from, e->ridx);
				if (fp && fp->n)
					fp->n--;
				e->flags &= (uint8_t)~RQ_FALLBACK;
			}
		}
		struct pair *pr = pair_get(s, s->par, &s->npar, e->ridx, ridx);
		if (pr) {
			pair_delay(pr, t - e->ts_us);
			if (!pr->ev_a) {
				int a = ev_alloc(s), b = a ? ev_alloc(s) : 0;
				if (a && b) {
					pr->ev_a = (uint8_t)a;
					pr->ev_b = (uint8_t)b;
					ev_fill(&s->ev[a - 1], e->input, e->pktno, e->ts_us, "query 0x%04x %s %.60s",
						e->id, qtype_str(e->qtype, tb), m->qname);
					iotdns_evidence_set(&s->ev[b - 1], pk, "query 0x%04x %s %.60s (+%.1f ms)",
							    m->id, qtype_str(m->qtype, tb), m->qname,
							    (double)(t - e->ts_us) / 1000.0);
				}
			}
		}
		break;
	}

	/* fallback, when the unanswered query already timed out (a parallel
	 * copy is part of a lookup sent everywhere at once, not a fallback) */
	bool unans = s->nu && (t < s->u_newest || t - s->u_newest <= p->fwin_us);
	for (unsigned k = 0; unans && k < s->nu && !(cur.flags & RQ_PARALLEL); k++) {
		const struct uq *u = &s->un[k];
		if (u->ridx == ridx || u->h != h || u->q_us > t)
			continue;
		uint64_t d = t - u->q_us;
		if (d <= p->pwin_us || d > p->fwin_us)
			continue;
		cur.flags |= RQ_FALLBACK;
		cur.fb_from = u->ridx;
		fallback_event(s, u->ridx, ridx, d, u, &cur, m->qname);
		break;
	}

	s->last_ts = t;
	s->ring[s->ring_head] = cur;
	s->ring_head = (uint8_t)((s->ring_head + 1) % RING);
	if (s->nring < RING)
		s->nring++;

	if (ridx < RES_EV) {
		if (s->rh[ridx].last_sess != sidx) {
			s->rh[ridx].last_sess = sidx;
			s->rh[ridx].sess++;
		}
		struct rhot *rh = &s->rh[ridx];
		uint8_t *slot = !rh->ev_first ? &rh->ev_first : !rh->ev_later && rh->sess > 1 ? &rh->ev_later : NULL;
		if (slot && s->nev < EV_POOL) { /* a full pool is not retried per query */
			int e = ev_alloc(s);
			if (e) {
				*slot = (uint8_t)e;
				iotdns_evidence_set(&s->ev[e - 1], pk, "query 0x%04x %s %.60s%s", m->id,
						    qtype_str(m->qtype, tb), m->qname,
						    ev->transport == IOTDNS_TR_TCP ? " over TCP" : "");
			}
		}
	}
}

static void on_txn(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st, const struct iotdns_txn *txn)
{
	struct state *s = st;
	struct priv *p = ctx->priv;
	if (txn->answered)
		return;
	if (txn->resolver_idx < 0 || txn->resolver_idx >= RES_MAX || (uint32_t)txn->resolver_idx >= dev->nresolvers)
		return;
	uint8_t ridx = (uint8_t)txn->resolver_idx;
	struct uq u = { .q_us = txn->query_us, .h = txn->qname_hash, .pktno = txn->query_pktno,
			.input = txn->query_input, .id = txn->id, .qtype = txn->qtype, .ridx = ridx };
	/* a question already re-asked elsewhere (before this time-out fired) */
	for (unsigned k = 0; k < s->nring; k++) {
		struct rq *e = &s->ring[(s->ring_head + RING - 1 - k) % RING];
		if (e->ridx == ridx || e->h != u.h || (e->flags & (RQ_FALLBACK | RQ_PARALLEL)) || e->ts_us < u.q_us)
			continue;
		uint64_t d = e->ts_us - u.q_us;
		if (d <= p->pwin_us || d > p->fwin_us)
			continue;
		e->flags |= RQ_FALLBACK;
		e->fb_from = ridx;
		fallback_event(s, ridx, e->ridx, d, &u, e, txn->name ? txn->name->name : NULL);
	}
	if (u.q_us > s->u_newest)
		s->u_newest = u.q_us;
	s->un[s->u_head] = u;
	s->u_head = (uint8_t)((s->u_head + 1) % URING);
	if (s->nu < URING)
		s->nu++;
}

/* ---- verdicts ------------------------------------------------------------------ */

struct rinfo {                  /* one resolver of the device, classified */
	const struct iotdns_dev_resolver *r;
	uint32_t idx;
	uint64_t q;                 /* queries, retransmissions excluded */
	uint64_t flows;             /* DoT + DoQ + DoH connections */
	uint8_t by;                 /* enum iotdns_provided_by (INFERRED when inferred) */
	bool weak;                  /* family whose provided set could not be told */
	bool pub;
	struct iotdns_addr_info info;
	char addr[IOTDNS_ADDR_TEXT];
};

#define MAX_RINFO 32

struct verdict {
	struct rinfo ri[MAX_RINFO];
	unsigned nri;
	bool inferred_any;          /* some provided resolver of the device was inferred */
	bool weak_any;
	uint64_t q_provided, q_outside, q_weak, q_fallback;
	uint64_t provided_answers;  /* network-wide responses from the device's provided resolvers */
	uint64_t flows_outside, flows_provided;
	char provided_list[256];    /* "8.8.8.8 (config), 8.8.4.4 (config)" */
	char provided_short[96];    /* "8.8.8.8, 8.8.4.4" (three at most, then "+N") */
	unsigned nprovided;
	char provided_json[512];
	char dropped[160];          /* JSON object of what bounded tables dropped, "" if nothing */
};

static const char *prov_name(uint8_t by)
{
	return by ? iotdns_provided_name((enum iotdns_provided_by)by) : "none";
}

/* The provided status of addr for dev: its own offers of that family, else inferred. */
static uint8_t classify(const struct priv *p, const struct iotdns_device *dev, const struct iotdns_addr *a,
			unsigned infer_min, bool *weak, bool *inferred_family)
{
	bool have_family = false;
	*weak = false;
	*inferred_family = false;
	for (unsigned j = 0; j < dev->n_offered && j < IOTDNS_DHCP_MAX_DNS; j++) {
		if (dev->offered[j].family != a->family)
			continue;
		have_family = true;
		if (iotdns_addr_eq(&dev->offered[j], a))
			return dev->offered_by[j] ? dev->offered_by[j] : IOTDNS_PROV_CONFIG;
	}
	if (have_family)
		return IOTDNS_PROV_NONE;
	*inferred_family = true;
	unsigned f = fam_idx(a);
	struct gres *g = gfind((struct priv *)p, a, false);
	*weak = !p->fam[f].offered_any && !p->fam[f].local_answering && p->fam[f].max_devices < infer_min;
	return g && inferred_rule(p, g, infer_min) ? IOTDNS_PROV_INFERRED : IOTDNS_PROV_NONE;
}

static const char *class_of(const struct rinfo *x)
{
	if (x->by)
		return "provided";
	if (x->pub)
		return "public";
	return x->weak ? "unknown" : "other";
}

/* "114.114.114.114 (114DNS, public)" */
static void describe(const struct rinfo *x, char *buf, size_t size)
{
	if (x->by)
		snprintf(buf, size, "%s (provided, %s)", x->addr, prov_name(x->by));
	else if (x->pub)
		snprintf(buf, size, "%s (%s, public%s%s)", x->addr, x->info.resolver_operator,
			 x->info.country[0] ? ", " : "", x->info.country);
	else if (x->info.asn)
		snprintf(buf, size, "%s (AS%u %.40s%s%s)", x->addr, x->info.asn, x->info.as_org,
			 x->info.country[0] ? ", " : "", x->info.country);
	else
		snprintf(buf, size, "%s (%s)", x->addr, iotdns_addr_is_local(&x->r->addr) ? "local, not provided" :
			 "not provided");
}

/* A JSON array of the device's resolvers with their class; bounded by size. */
static void resolvers_json(const struct verdict *v, char *buf, size_t size)
{
	size_t n = 0;
	buf[n++] = '[';
	for (unsigned i = 0; i < v->nri && n + 2 < size; i++) {
		const struct rinfo *x = &v->ri[i];
		char op[160], tr[48], org[160] = "", item[640];
		iotdns_json_str_buf(op, sizeof(op), x->info.resolver_operator[0] ? x->info.resolver_operator : NULL);
		if (x->info.asn) {
			char o[140];
			iotdns_json_str_buf(o, sizeof(o), x->info.as_org);
			snprintf(org, sizeof(org), ",\"asn\":%u,\"as_org\":%s", x->info.asn, o);
		}
		if (x->info.country[0])
			snprintf(org + strlen(org), sizeof(org) - strlen(org), ",\"country\":\"%.2s\"", x->info.country);
		iotdns_transport_mask_str(x->r->transports, tr);
		int k = snprintf(item, sizeof(item),
				 "%s{\"address\":\"%s\",\"class\":\"%s\",\"provided_by\":\"%s\",\"operator\":%s%s,"
				 "\"transport\":\"%s\",\"queries\":%llu,\"responses\":%llu,\"unanswered\":%llu,"
				 "\"encrypted_flows\":%llu}",
				 i ? "," : "", x->addr, class_of(x), prov_name(x->by), op, org, tr,
				 (unsigned long long)x->q, (unsigned long long)x->r->responses,
				 (unsigned long long)x->r->unanswered, (unsigned long long)x->flows);
		if (k < 0 || n + (size_t)k + 2 >= size)
			break;
		memcpy(buf + n, item, (size_t)k);
		n += (size_t)k;
	}
	buf[n++] = ']';
	buf[n] = 0;
}

static const struct rinfo *rinfo_of(const struct verdict *v, uint8_t idx)
{
	for (unsigned i = 0; i < v->nri; i++)
		if (v->ri[i].idx == idx)
			return &v->ri[i];
	return NULL;
}

/* Copies evidence slot (1-based) with a suffix into the finding. */
static void add_ev(struct iotdns_finding *f, const struct state *s, uint8_t slot, const char *suffix)
{
	if (!slot || slot > s->nev || !f)
		return;
	struct iotdns_evidence e = s->ev[slot - 1];
	char t[IOTDNS_EVIDENCE_TEXT];
	snprintf(t, sizeof(t), "%s%s", e.text, suffix ? suffix : "");
	memcpy(e.text, t, sizeof(e.text));
	iotdns_finding_evidence(f, &e);
}

/* Added last: the resolver list gets whatever room the other metrics left. */
static void common_metrics(struct iotdns_finding *f, const struct verdict *v)
{
	char big[IOTDNS_METRICS_MAX];
	iotdns_finding_json(f, "provided", v->provided_json);
	iotdns_finding_bool(f, "provided_inferred", v->inferred_any);
	if (v->dropped[0])
		iotdns_finding_json(f, "dropped", v->dropped);
	size_t room = sizeof(f->metrics) - f->metrics_len;
	if (room < 64)
		return;
	resolvers_json(v, big, IOTDNS_MIN(sizeof(big), room - 20));
	iotdns_finding_json(f, "resolvers", big);
}

static int cmp_outside(const void *a, const void *b)
{
	const struct rinfo *x = *(const struct rinfo *const *)a, *y = *(const struct rinfo *const *)b;
	return x->q == y->q ? 0 : x->q < y->q ? 1 : -1;
}

static void report_hardcoded(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, const struct state *s,
			     const struct verdict *v, uint64_t judged, uint64_t outside_nf, double share, bool primary)
{
	const struct rinfo *out[MAX_RINFO];
	unsigned nout = 0;
	for (unsigned i = 0; i < v->nri; i++)
		if (!v->ri[i].by && !v->ri[i].weak && v->ri[i].q)
			out[nout++] = &v->ri[i];
	if (!nout)
		return;
	qsort(out, nout, sizeof(out[0]), cmp_outside);
	struct iotdns_finding *f = iotdns_finding_new(ctx, dev, primary ? "RESOLVER.HARDCODED" : "RESOLVER.HARDCODED_SECONDARY");
	if (!f)
		return;
	char d0[160], extra[64] = "";
	describe(out[0], d0, sizeof(d0));
	if (nout > 1)
		snprintf(extra, sizeof(extra), " and %u other resolver%s,", nout - 1, nout > 2 ? "s" : "");
	uint32_t sess = out[0]->idx < RES_EV ? s->rh[out[0]->idx].sess : 0;
	char sessb[64] = "", works[64];
	if (sess)
		snprintf(sessb, sizeof(sessb), " in %u of %u sessions", sess, s->sessions);
	if (v->provided_answers)
		snprintf(works, sizeof(works), "%llu answers seen", (unsigned long long)v->provided_answers);
	else
		snprintf(works, sizeof(works), "no answer seen");
	iotdns_finding_summary(f, "%llu of %llu queries (%.1f%%) went to %s%s%s; provided%s: %s (%s)",
			       (unsigned long long)outside_nf, (unsigned long long)judged, 100.0 * share, d0, extra,
			       sessb, v->inferred_any ? " [inferred]" : "",
			       v->provided_short[0] ? v->provided_short : "none known", works);
	iotdns_finding_u64(f, "queries", judged);
	iotdns_finding_u64(f, "outside_queries", outside_nf);
	uint64_t back = 0; /* provided resolver asked only after the outside one failed */
	for (unsigned i = 0; i < s->nfb; i++) {
		const struct rinfo *a = rinfo_of(v, s->fb[i].a), *b = rinfo_of(v, s->fb[i].b);
		if (a && b && !a->by && b->by)
			back += s->fb[i].n;
	}
	iotdns_finding_u64(f, "fallback_queries", v->q_fallback);
	iotdns_finding_u64(f, "provided_after_outside_failed", back);
	iotdns_finding_dbl(f, "outside_share", share);
	iotdns_finding_u64(f, "provided_queries", v->q_provided);
	iotdns_finding_u64(f, "provided_answers_network", v->provided_answers);
	iotdns_finding_u64(f, "sessions", s->sessions);
	iotdns_finding_u64(f, "sessions_using_outside", sess);
	iotdns_finding_dbl(f, "threshold_share", iotdns_check_opt(ctx, primary ? OPT_HARDCODED_SHARE : OPT_SECONDARY_SHARE));
	common_metrics(f, v);
	for (unsigned i = 0; i < nout && f->nev < IOTDNS_MAX_EVIDENCE - 1; i++) {
		char suf[180];
		describe(out[i], d0, sizeof(d0));
		snprintf(suf, sizeof(suf), " to %s", d0);
		if (out[i]->idx < RES_EV) {
			add_ev(f, s, s->rh[out[i]->idx].ev_first, suf);
			add_ev(f, s, s->rh[out[i]->idx].ev_later, suf);
		}
	}
	for (unsigned i = 0; i < v->nri && f->nev < IOTDNS_MAX_EVIDENCE; i++) {
		const struct rinfo *x = &v->ri[i];
		if (x->by && x->idx < RES_EV && s->rh[x->idx].ev_first) {
			char suf[180];
			describe(x, d0, sizeof(d0));
			snprintf(suf, sizeof(suf), " to %s", d0);
			add_ev(f, s, s->rh[x->idx].ev_first, suf);
			break;
		}
	}
}

static uint64_t report_fallback(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, const struct state *s,
				const struct verdict *v, bool emit)
{
	uint64_t n = 0, dmin = UINT64_MAX, dmax = 0, dsum = 0;
	const struct pair *first = NULL;
	for (unsigned i = 0; i < s->nfb; i++) {
		const struct pair *pr = &s->fb[i];
		const struct rinfo *a = rinfo_of(v, pr->a), *b = rinfo_of(v, pr->b);
		if (!a || !b || !a->by || b->by || b->weak || !pr->n)
			continue;
		n += pr->n;
		dsum += pr->dsum_ms;
		dmin = IOTDNS_MIN(dmin, pr->dmin_us);
		dmax = IOTDNS_MAX(dmax, pr->dmax_us);
		if (!first)
			first = pr;
	}
	if (!emit || !first || n < (uint64_t)iotdns_check_opt(ctx, OPT_MIN_FALLBACK))
		return n;
	struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "RESOLVER.FALLBACK");
	if (!f)
		return n;
	const struct rinfo *a = rinfo_of(v, first->a), *b = rinfo_of(v, first->b);
	char da[160], db[160];
	describe(a, da, sizeof(da));
	describe(b, db, sizeof(db));
	char span[48];
	if (dmax - dmin < 100000)
		snprintf(span, sizeof(span), "%.1f s", (double)dmin / 1e6);
	else
		snprintf(span, sizeof(span), "%.1f-%.1f s", (double)dmin / 1e6, (double)dmax / 1e6);
	iotdns_finding_summary(f, "%llu question%s re-asked to %s %s after %s left %s unanswered",
			       (unsigned long long)n, n == 1 ? " was" : "s were", db, span, da, n == 1 ? "it" : "them");
	iotdns_finding_u64(f, "fallback_queries", n);
	iotdns_finding_u64(f, "unanswered_provided", a->r->unanswered);
	iotdns_finding_dbl(f, "delay_min_s", (double)dmin / 1e6);
	iotdns_finding_dbl(f, "delay_mean_s", (double)dsum / 1e3 / (double)n);
	iotdns_finding_dbl(f, "delay_max_s", (double)dmax / 1e6);
	iotdns_finding_dbl(f, "window_s", iotdns_check_opt(ctx, OPT_FALLBACK_WINDOW));
	iotdns_finding_u64(f, "outside_queries", v->q_outside);
	common_metrics(f, v);
	for (unsigned i = 0; i < s->nfb; i++) {
		const struct pair *pr = &s->fb[i];
		const struct rinfo *x = rinfo_of(v, pr->a), *y = rinfo_of(v, pr->b);
		if (!x || !y || !x->by || y->by || y->weak || !pr->n)
			continue;
		char sa[180], sb[180];
		describe(x, da, sizeof(da));
		describe(y, db, sizeof(db));
		snprintf(sa, sizeof(sa), " to %s: unanswered", da);
		snprintf(sb, sizeof(sb), " to %s", db);
		add_ev(f, s, pr->ev_a, sa);
		add_ev(f, s, pr->ev_b, sb);
	}
	return n;
}

static void report_parallel(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, const struct state *s,
			    const struct verdict *v, uint64_t lookups, double share)
{
	struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "RESOLVER.PARALLEL");
	if (!f)
		return;
	bool all_provided = true;
	char pairs[700];
	size_t n = 0;
	pairs[n++] = '[';
	pairs[n] = 0;
	uint64_t dmax = 0;
	for (unsigned i = 0; i < s->npar; i++) {
		const struct pair *pr = &s->par[i];
		const struct rinfo *a = rinfo_of(v, pr->a), *b = rinfo_of(v, pr->b);
		if (!a || !b)
			continue;
		all_provided &= a->by && b->by;
		dmax = IOTDNS_MAX(dmax, pr->dmax_us);
		int k = snprintf(pairs + n, sizeof(pairs) - n,
				 "%s{\"first\":\"%s\",\"first_class\":\"%s\",\"copy\":\"%s\",\"copy_class\":\"%s\","
				 "\"copies\":%u,\"max_gap_ms\":%.1f}",
				 n > 1 ? "," : "", a->addr, class_of(a), b->addr, class_of(b), pr->n,
				 (double)pr->dmax_us / 1000.0);
		if (k < 0 || n + (size_t)k + 2 >= sizeof(pairs)) {
			pairs[n] = 0;
			break;
		}
		n += (size_t)k;
	}
	pairs[n++] = ']';
	pairs[n] = 0;
	char who[200] = "";
	if (s->npar) {
		const struct rinfo *a = rinfo_of(v, s->par[0].a), *b = rinfo_of(v, s->par[0].b);
		if (a && b)
			snprintf(who, sizeof(who), " (%s and %s%s)", a->addr, b->addr,
				 all_provided ? ", all provided" : "");
	}
	iotdns_finding_summary(f, "%llu of %llu lookups (%.1f%%) went to two or more resolvers within %.0f ms%s",
			       (unsigned long long)s->lookups_parallel, (unsigned long long)lookups, 100.0 * share,
			       iotdns_check_opt(ctx, OPT_PARALLEL_WINDOW), who);
	iotdns_finding_u64(f, "lookups", lookups);
	iotdns_finding_u64(f, "parallel_lookups", s->lookups_parallel);
	iotdns_finding_u64(f, "extra_copies", s->copies);
	iotdns_finding_dbl(f, "parallel_share", share);
	iotdns_finding_bool(f, "all_provided", all_provided);
	iotdns_finding_dbl(f, "max_gap_ms", (double)dmax / 1000.0);
	iotdns_finding_json(f, "pairs", pairs);
	common_metrics(f, v);
	for (unsigned i = 0; i < s->npar && f->nev + 1 < IOTDNS_MAX_EVIDENCE; i++) {
		const struct rinfo *a = rinfo_of(v, s->par[i].a), *b = rinfo_of(v, s->par[i].b);
		if (!a || !b)
			continue;
		char sa[180], sb[180], d[160];
		describe(a, d, sizeof(d));
		snprintf(sa, sizeof(sa), " to %s", d);
		describe(b, d, sizeof(d));
		snprintf(sb, sizeof(sb), " to %s", d);
		add_ev(f, s, s->par[i].ev_a, sa);
		add_ev(f, s, s->par[i].ev_b, sb);
	}
}

static void report_encrypted(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, const struct state *s,
			     const struct verdict *v)
{
	(void)s;
	struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "RESOLVER.ENCRYPTED_BYPASS");
	if (!f)
		return;
	const struct rinfo *top = NULL;
	uint64_t first = 0, last = 0;
	unsigned nres = 0;
	for (unsigned i = 0; i < v->nri; i++) {
		const struct rinfo *x = &v->ri[i];
		if (x->by || x->weak || !x->flows)
			continue;
		nres++;
		if (!top || x->flows > top->flows)
			top = x;
		if (x->r->first_us && (!first || x->r->first_us < first))
			first = x->r->first_us;
		if (x->r->last_us > last)
			last = x->r->last_us;
	}
	if (!top)
		return;
	char d[160], tr[48] = "", name[200] = "";
	describe(top, d, sizeof(d));
	static const struct { unsigned bit; const char *name; } enc_names[] = {
		{ IOTDNS_TR_DOT, "DoT" }, { IOTDNS_TR_DOQ, "DoQ" }, { IOTDNS_TR_DOH, "DoH" },
	};
	for (unsigned i = 0; i < IOTDNS_ARRAY_LEN(enc_names); i++)
		if (top->r->transports & enc_names[i].bit)
			snprintf(tr + strlen(tr), sizeof(tr) - strlen(tr), "%s%s", tr[0] ? "+" : "", enc_names[i].name);
	if (top->info.dot_name[0] && (top->r->transports & IOTDNS_TR_DOT))
		snprintf(name, sizeof(name), ", TLS name %s", top->info.dot_name);
	else if (top->info.doh_url[0] && (top->r->transports & IOTDNS_TR_DOH))
		snprintf(name, sizeof(name), ", %.120s", top->info.doh_url);
	char more[48] = "";
	if (nres > 1)
		snprintf(more, sizeof(more), " (and %u more resolvers)", nres - 1);
	iotdns_finding_summary(f, "%llu %s connection%s to %s%s%s; %llu plain queries to the provided%s %s",
			       (unsigned long long)top->flows, tr, top->flows == 1 ? "" : "s", d, name, more,
			       (unsigned long long)v->q_provided, v->inferred_any ? " [inferred]" : "",
			       v->provided_short[0] ? v->provided_short : "resolvers");
	iotdns_finding_u64(f, "encrypted_flows_outside", v->flows_outside);
	iotdns_finding_u64(f, "encrypted_flows_provided", v->flows_provided);
	iotdns_finding_u64(f, "dot_flows", top->r->flows_dot);
	iotdns_finding_u64(f, "doq_flows", top->r->flows_doq);
	iotdns_finding_u64(f, "doh_flows", top->r->flows_doh);
	iotdns_finding_u64(f, "plain_queries_provided", v->q_provided);
	iotdns_finding_u64(f, "plain_queries_outside", v->q_outside);
	common_metrics(f, v);
	/* evidence: the first encrypted flow to each non-provided resolver */
	for (unsigned i = 0; i < v->nri; i++) {
		const struct rinfo *x = &v->ri[i];
		if (x->by || x->weak || !x->flows || !x->r->first_flow_transport)
			continue;
		char a[IOTDNS_ADDR_TEXT];
		struct iotdns_evidence ev = { .input = x->r->first_flow_input, .pktno = x->r->first_flow_pktno,
					      .ts_us = x->r->first_flow_us };
		snprintf(ev.text, sizeof(ev.text), "%s to %s port %u (first of %llu encrypted flows)",
			 x->r->first_flow_transport == IOTDNS_TR_DOQ ? "QUIC datagram" : "TCP SYN",
			 iotdns_addr_str(&x->r->addr, a), x->r->first_flow_dport, (unsigned long long)x->flows);
		iotdns_finding_evidence(f, &ev);
	}
	/* the time span covers every flow, not only the cited first ones */
	f->first_us = first;
	f->last_us = last;
}

/* Appends one provided resolver to the verdict's text and JSON lists. */
static void provided_add(struct verdict *v, const struct iotdns_addr *a, const char *by, size_t *pl, size_t *pj)
{
	char t[IOTDNS_ADDR_TEXT];
	iotdns_addr_str(a, t);
	size_t sl = strlen(v->provided_short);
	if (v->nprovided < 3)
		snprintf(v->provided_short + sl, sizeof(v->provided_short) - sl, "%s%s", sl ? ", " : "", t);
	else if (v->nprovided == 3)
		snprintf(v->provided_short + sl, sizeof(v->provided_short) - sl, " and more");
	v->nprovided++;
	if (*pl + strlen(t) + 20 < sizeof(v->provided_list))
		*pl += (size_t)snprintf(v->provided_list + *pl, sizeof(v->provided_list) - *pl, "%s%s (%s)",
					*pl ? ", " : "", t, by);
	if (*pj + strlen(t) + 40 < sizeof(v->provided_json))
		*pj += (size_t)snprintf(v->provided_json + *pj, sizeof(v->provided_json) - *pj,
					"%s{\"address\":\"%s\",\"by\":\"%s\"}", *pj > 1 ? "," : "", t, by);
}

/* The provided set as the device sees it: its own offers, and for each
 * family it used without offers the network-wide inferred resolvers; then
 * how many answers those gave anyone in the capture (do they work?). */
static void provided_set(struct priv *p, const struct iotdns_device *dev, struct verdict *v, unsigned infer_min)
{
	size_t pl = 0, pj = 0;
	bool offered_fam[2] = { false, false }, used_fam[2] = { false, false };
	v->provided_json[pj++] = '[';
	v->provided_json[pj] = 0;
	for (unsigned j = 0; j < dev->n_offered && j < IOTDNS_DHCP_MAX_DNS; j++) {
		offered_fam[fam_idx(&dev->offered[j])] = true;
		provided_add(v, &dev->offered[j], prov_name(dev->offered_by[j]), &pl, &pj);
		struct gres *g = gfind(p, &dev->offered[j], false);
		if (g)
			v->provided_answers += g->responses;
	}
	for (unsigned i = 0; i < v->nri; i++)
		used_fam[fam_idx(&v->ri[i].r->addr)] = true;
	for (unsigned f = 0; f < 2; f++) {
		if (offered_fam[f] || !used_fam[f])
			continue;
		if (!p->fam[f].offered_any && !p->fam[f].local_answering && p->fam[f].max_devices < infer_min)
			continue; /* weak: nothing to show */
		for (unsigned k = 0; k < p->fam[f].ninferred; k++) {
			v->inferred_any = true;
			provided_add(v, &p->fam[f].inferred[k], "inferred", &pl, &pj);
			struct gres *g = gfind(p, &p->fam[f].inferred[k], false);
			if (g)
				v->provided_answers += g->responses;
		}
	}
	v->provided_json[pj++] = ']';
	v->provided_json[pj] = 0;
}

static void on_device_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st)
{
	struct state *s = st;
	struct priv *p = ctx->priv;
	if (!p->built)
		build_global(ctx, p);
	struct iotdns_enrich *en = ctx->engine ? iotdns_engine_enrich(ctx->engine) : NULL;
	unsigned infer_min = (unsigned)iotdns_check_opt(ctx, OPT_INFER_MIN_DEVICES);
	struct verdict *v = calloc(1, sizeof(*v));
	if (!v) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT, "out of memory");
		return;
	}

	/* a provided resolver (e.g. the router forwarding upstream) is not a client */
	for (uint32_t i = 0; i < dev->naddrs; i++) {
		bool weak, inf;
		uint8_t by = classify(p, dev, &dev->addrs[i].addr, infer_min, &weak, &inf);
		if (by && !weak && dev->responses_sent) {
			char a[IOTDNS_ADDR_TEXT];
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA,
					    "this host is a resolver of the network (%s, %s); answered %llu queries",
					    iotdns_addr_str(&dev->addrs[i].addr, a), prov_name(by),
					    (unsigned long long)dev->responses_sent);
			free(v);
			return;
		}
	}

	/* classify every destination */
	for (uint32_t i = 0; i < dev->nresolvers && v->nri < MAX_RINFO; i++) {
		const struct iotdns_dev_resolver *r = &dev->resolvers[i];
		struct rinfo *x = &v->ri[v->nri];
		memset(x, 0, sizeof(*x));
		x->r = r;
		x->idx = i;
		x->q = i < RES_MAX ? q_of(s, i) : r->queries - IOTDNS_MIN(r->retransmissions, r->queries);
		x->flows = r->flows_dot + r->flows_doq + r->flows_doh;
		if (!x->q && !x->flows)
			continue;
		bool inferred_family;
		x->by = classify(p, dev, &r->addr, infer_min, &x->weak, &inferred_family);
		if (en && iotdns_enrich_lookup(en, &r->addr, &x->info))
			x->pub = x->info.public_resolver;
		/* With an inferred provided set, an unlisted Internet resolver may
		 * be the ISP's that DHCP handed out where we could not see it: only
		 * well-known public and local resolvers are judged then. */
		if (!x->by && inferred_family && !x->pub && !iotdns_addr_is_local(&r->addr))
			x->weak = true;
		iotdns_addr_str(&r->addr, x->addr);
		v->nri++;
		if (x->weak && !x->by) {
			v->weak_any = true;
			v->q_weak += x->q;
			continue;
		}
		if (x->weak)
			v->weak_any = true;
		if (x->by) {
			v->q_provided += x->q;
			v->flows_provided += x->flows;
		} else {
			v->q_outside += x->q;
			v->flows_outside += x->flows;
		}
	}
	provided_set(p, dev, v, infer_min);
	if (s->untracked || s->pairs_dropped || s->ev_dropped || p->dropped || dev->nresolvers > MAX_RINFO)
		snprintf(v->dropped, sizeof(v->dropped),
			 "{\"queries_untracked\":%llu,\"pairs\":%u,\"evidence\":%u,\"network_resolvers\":%llu,"
			 "\"resolvers_not_listed\":%u}",
			 (unsigned long long)s->untracked, s->pairs_dropped, s->ev_dropped,
			 (unsigned long long)p->dropped, dev->nresolvers > MAX_RINFO ? dev->nresolvers - MAX_RINFO : 0);

	uint64_t judged = v->q_provided + v->q_outside; /* queries whose class is known */
	uint64_t lookups = s->queries > s->copies ? s->queries - s->copies : 0;
	double pshare = lookups ? (double)s->lookups_parallel / (double)lookups : 0;
	bool parallel = s->lookups_parallel >= (uint64_t)iotdns_check_opt(ctx, OPT_MIN_PARALLEL) &&
			pshare >= iotdns_check_opt(ctx, OPT_PARALLEL_SHARE);

	v->q_fallback = report_fallback(ctx, dev, s, v, false);
	uint64_t outside_nf = v->q_outside > v->q_fallback ? v->q_outside - v->q_fallback : 0;
	double share = judged ? (double)outside_nf / (double)judged : 0;
	bool enough_out = outside_nf >= (uint64_t)iotdns_check_opt(ctx, OPT_MIN_OUTSIDE);
	bool hard = enough_out && share >= iotdns_check_opt(ctx, OPT_HARDCODED_SHARE);
	bool second = !hard && enough_out && share >= iotdns_check_opt(ctx, OPT_SECONDARY_SHARE);
	bool enc = v->flows_outside >= (uint64_t)iotdns_check_opt(ctx, OPT_MIN_ENCRYPTED);

	if (hard || second)
		report_hardcoded(ctx, dev, s, v, judged, outside_nf, share, hard);
	report_fallback(ctx, dev, s, v, true);
	if (parallel)
		report_parallel(ctx, dev, s, v, lookups, pshare);
	if (enc)
		report_encrypted(ctx, dev, s, v);

	/* statuses (a finding makes it fail whatever is said here) */
	uint64_t min_q = (uint64_t)iotdns_check_opt(ctx, OPT_MIN_QUERIES);
	char pshare_txt[96] = "";
	if (s->lookups_parallel)
		snprintf(pshare_txt, sizeof(pshare_txt), "; %llu of %llu lookups parallel (%.1f%%)",
			 (unsigned long long)s->lookups_parallel, (unsigned long long)lookups, 100.0 * pshare);
	if (!s->queries && !v->flows_outside && !v->flows_provided) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "no unicast DNS queries or encrypted DNS flows");
	} else if (!judged && !v->flows_provided && !v->flows_outside) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
				    "cannot tell which resolvers are provided: none offered to it, no --resolver, and "
				    "its %llu queries went to resolvers neither public nor shared by %u+ devices "
				    "(give --resolver)%s",
				    (unsigned long long)v->q_weak, infer_min, pshare_txt);
	} else if (judged < min_q && !v->flows_provided && !v->flows_outside) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
				    "%llu of %llu queries needed; %llu to other resolvers", (unsigned long long)judged,
				    (unsigned long long)min_q, (unsigned long long)v->q_outside);
	} else if (!hard && !second && outside_nf && share >= iotdns_check_opt(ctx, OPT_SECONDARY_SHARE)) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
				    "%llu of %llu queries (%.1f%%) went to resolvers not provided: %llu of the %llu "
				    "needed to call it hard-coded",
				    (unsigned long long)outside_nf, (unsigned long long)judged, 100.0 * share,
				    (unsigned long long)outside_nf,
				    (unsigned long long)iotdns_check_opt(ctx, OPT_MIN_OUTSIDE));
	} else {
		char prov[112], unj[48] = "";
		if (strlen(v->provided_list) < sizeof(prov))
			snprintf(prov, sizeof(prov), "%s", v->provided_list[0] ? v->provided_list : "resolvers");
		else
			snprintf(prov, sizeof(prov), "%s%s", v->provided_short, v->inferred_any ? " [inferred]" : "");
		if (v->q_weak)
			snprintf(unj, sizeof(unj), "; %llu not judged", (unsigned long long)v->q_weak);
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS,
				    "%llu of %llu queries to the provided %s; %llu elsewhere (%.1f%%, %llu after "
				    "failures)%s%s",
				    (unsigned long long)v->q_provided, (unsigned long long)judged, prov,
				    (unsigned long long)v->q_outside,
				    judged ? 100.0 * (double)v->q_outside / (double)judged : 0.0,
				    (unsigned long long)v->q_fallback, unj, pshare_txt);
	}
	free(v);
}

const struct iotdns_checker iotdns_chk_hardcoded_resolver = {
	.api = IOTDNS_CHECKER_API,
	.id = "hardcoded-resolver",
	.summary = "Use of the network-provided resolvers (DHCP, DHCPv6, RA, --resolver)",
	.kinds = kinds,
	.opts = opts,
	.dev_state_size = sizeof(struct state),
	.init = init,
	.fini = fini,
	.on_query = on_query,
	.on_txn = on_txn,
	.on_device_end = on_device_end,
};

/* iotdns - the missing-cache check: does the device cache DNS answers for
 * their TTL (draft-ietf-iotops-iot-dns-guidelines, D11-D14; RFC 1035 §7.4,
 * RFC 2308 negative caching, RFC 8767 serve-stale)?
 *
 * A per-device cache model (docs/checks/missing-cache.md): for every question
 * (name, type) the time of the last answer and its TTL (the smallest TTL along
 * the answer records, CNAME chain included; for NXDOMAIN/NODATA with an SOA,
 * min(SOA TTL, SOA MINIMUM)). A new lookup of a question whose answer is still
 * fresh is an early re-query. What is not a re-query: retransmissions, the
 * same query (ID and port) sent again, the second and later queries of one
 * lookup (sent before a new answer arrived, or to the other resolver within
 * the parallel window), the first query of a boot session (the cache is
 * empty after a reboot), and any query after a failed or uncacheable answer.
 * Answers whose TTL is at most min-ttl are not judged. The last prefetch
 * fraction of the TTL, less slack seconds, counts as fresh-enough to re-ask.
 *
 * Addresses from A/AAAA answers are kept with their expiry time; a new
 * connection (TCP SYN, or a UDP flow after udp-flow-gap of silence) to an
 * address whose record expired more than the grace ago, with no query for
 * that question since the answer and no resolution failure since the
 * expiry (serve-stale, RFC 8767), is a stale use.
 *
 * All tables are fixed-size arrays inside the per-device state (about 6.5
 * KB); what does not fit is counted (cache_dropped, addr_dropped).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/checker.h"
#include "iotdns/finding.h"
#include "iotdns/json.h"

/* ---- catalogue and options -------------------------------------------------- */

static const struct iotdns_finding_kind kinds[] = {
	{ "CACHE.NONE", IOTDNS_SEV_MEDIUM, "The device does not cache DNS answers",
	  "The device asks the same question again seconds after it received an answer that was valid for "
	  "much longer: it has no DNS cache, or bypasses it. Every lookup goes to the network, which "
	  "multiplies the load on resolvers (a fleet of such devices is a self-inflicted DDoS), makes the "
	  "device stop working as soon as the resolver is briefly unreachable, and gives an on-path "
	  "attacker many more chances to race a forged answer (RFC 5452 assumes answers are cached).",
	  "Use a caching stub resolver (for example the C library with nscd, systemd-resolved, dnsmasq, "
	  "or an in-process cache) and keep answers until their TTL expires; coalesce concurrent lookups "
	  "of the same name.",
	  "draft-ietf-iotops-iot-dns-guidelines (caching, TTLs); RFC 1035 §7.4; RFC 1034 §3.6; RFC 5452 §9.1" },
	{ "CACHE.TTL_IGNORED", IOTDNS_SEV_LOW, "DNS answers are re-requested long before their TTL expires",
	  "The device keeps answers for a while but re-asks well inside their TTL, on a schedule of its "
	  "own rather than the lifetime the zone owner published. The extra queries load resolvers and "
	  "widen the window for spoofed answers, and a device that ignores TTLs in one direction "
	  "usually ignores them in the other as well.",
	  "Cache answers for their TTL (optionally capped, RFC 8767 §4), and only re-query after they "
	  "expire or in the last part of the TTL (prefetch).",
	  "draft-ietf-iotops-iot-dns-guidelines (caching, TTLs); RFC 1035 §7.4; RFC 2181 §8" },
	{ "CACHE.NEGATIVE_IGNORED", IOTDNS_SEV_LOW, "Negative answers (NXDOMAIN/NODATA) are not cached",
	  "After a name error or an empty answer that carried an SOA record, the device asked the same "
	  "question again while the negative answer was still valid. RFC 2308 requires negative answers "
	  "to be cached for min(SOA TTL, SOA MINIMUM); devices that do not, hammer resolvers with "
	  "questions that cannot succeed (a frequent cause of query storms).",
	  "Cache NXDOMAIN and NODATA answers for min(SOA TTL, SOA MINIMUM) as RFC 2308 §5 says, and back "
	  "off before asking again for a name that does not exist.",
	  "RFC 2308 §3, §5; RFC 9520; draft-ietf-iotops-iot-dns-guidelines (caching)" },
	{ "CACHE.STALE_USE", IOTDNS_SEV_MEDIUM, "Addresses are used after their DNS records expired",
	  "The device opened new connections to an address whose DNS record had expired, without asking "
	  "again, while its resolver was answering. Once a record expires the address may belong to "
	  "someone else (cloud addresses are reassigned), and the service loses the ability to move or "
	  "fail over its clients with DNS. Serving stale data is only allowed when the resolver cannot "
	  "be reached (RFC 8767).",
	  "Resolve the name again before opening a new connection once the TTL has expired; keep stale "
	  "addresses only as a fall-back when resolution fails.",
	  "RFC 1035 §7.4; RFC 8767; draft-ietf-iotops-iot-dns-guidelines (TTLs); "
	  "draft-ietf-opsawg-mud-iot-dns-considerations" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

enum {
	O_MIN_REQUERIES,
	O_EARLY_SHARE,
	O_AVOIDABLE_SHARE,
	O_PREFETCH,
	O_SLACK,
	O_MIN_TTL,
	O_NONE_RATIO,
	O_NONE_AGE,
	O_PARALLEL,
	O_MIN_NEGATIVE,
	O_STALE_GRACE,
	O_STALE_GRACE_TTL,
	O_MIN_USES,
	O_STALE_MIN,
	O_STALE_SHARE,
	O_UDP_FLOW_GAP,
};

static const struct iotdns_opt opts[] = {
	{ "min-requeries", 10, 1, 1e6, "re-query events needed to judge positive caching (count)" },
	{ "early-share", 0.5, 0.01, 1, "fail when at least this share of re-queries came early (fraction)" },
	{ "avoidable-share", 0.15, 0, 1,
	  "and early re-queries are at least this share of the answered lookups of that kind (fraction)" },
	{ "prefetch", 0.10, 0, 0.9, "re-asking in the last part of the TTL is accepted (fraction of the TTL)" },
	{ "slack", 2, 0, 3600, "timing slack subtracted from the fresh time (seconds)" },
	{ "min-ttl", 10, 0, 86400, "answers with a TTL up to this are not judged (seconds)" },
	{ "none-ratio", 0.10, 0, 1,
	  "CACHE.NONE when the median early re-query comes within this part of the TTL (fraction)" },
	{ "none-age", 10, 0, 86400, "... or within this time after the answer (seconds)" },
	{ "parallel-window", 1, 0, 60,
	  "a query to another resolver this soon after the previous one is the same lookup (seconds)" },
	{ "min-negative", 5, 1, 1e6, "negative re-query events needed to judge negative caching (count)" },
	{ "stale-grace", 30, 0, 86400, "an address is stale this long after its record expired (seconds)" },
	{ "stale-grace-ttl", 0.10, 0, 10, "... or this part of its TTL when longer (fraction of the TTL)" },
	{ "min-uses", 10, 1, 1e6, "new connections to resolved addresses needed to judge stale use (count)" },
	{ "stale-min", 3, 1, 1e6, "stale connections needed for CACHE.STALE_USE (count)" },
	{ "stale-share", 0.10, 0, 1, "and their share of the connections to resolved addresses (fraction)" },
	{ "udp-flow-gap", 1100, 1, 86400,
	  "UDP to the same address after this silence is a new flow (seconds; > NTP's 1024 s poll)" },
	{ NULL, 0, 0, 0, NULL },
};

/* ---- streaming median (P-square, Jain & Chlamtac 1985) ----------------------- */

/* Median estimate in O(1) space: exact up to 5 values, then 5 markers. The
 * desired marker positions follow from n: 1 + (n-1)*{0, 1/4, 1/2, 3/4, 1}. */
struct p2 {
	uint32_t n;
	int32_t pos[5];
	double q[5];
};

static double p2_parabolic(const struct p2 *e, int i, int s)
{
	double a = (double)(e->pos[i] - e->pos[i - 1] + s) * (e->q[i + 1] - e->q[i]) /
		   (double)(e->pos[i + 1] - e->pos[i]);
	double b = (double)(e->pos[i + 1] - e->pos[i] - s) * (e->q[i] - e->q[i - 1]) /
		   (double)(e->pos[i] - e->pos[i - 1]);
	return e->q[i] + (double)s / (double)(e->pos[i + 1] - e->pos[i - 1]) * (a + b);
}

static void p2_add(struct p2 *e, double x)
{
	static const double frac[5] = { 0, 0.25, 0.5, 0.75, 1 };
	if (!isfinite(x))
		return;
	if (e->n < 5) {
		uint32_t i = e->n;
		while (i > 0 && e->q[i - 1] > x) {
			e->q[i] = e->q[i - 1];
			i--;
		}
		e->q[i] = x;
		e->n++;
		for (int k = 0; k < 5; k++)
			e->pos[k] = k + 1;
		return;
	}
	if (e->n == UINT32_MAX)
		return;
	int k;
	if (x < e->q[0]) {
		e->q[0] = x;
		k = 0;
	} else if (x >= e->q[4]) {
		e->q[4] = x;
		k = 3;
	} else {
		for (k = 0; k < 3 && x >= e->q[k + 1]; k++)
			;
	}
	for (int i = k + 1; i < 5; i++)
		e->pos[i]++;
	e->n++;
	for (int i = 1; i <= 3; i++) {
		double want = 1 + (double)(e->n - 1) * frac[i];
		double d = want - e->pos[i];
		if ((d >= 1 && e->pos[i + 1] - e->pos[i] > 1) || (d <= -1 && e->pos[i - 1] - e->pos[i] < -1)) {
			int s = d >= 0 ? 1 : -1;
			double qp = p2_parabolic(e, i, s);
			if (e->q[i - 1] < qp && qp < e->q[i + 1])
				e->q[i] = qp;
			else
				e->q[i] += (double)s * (e->q[i + s] - e->q[i]) / (double)(e->pos[i + s] - e->pos[i]);
			e->pos[i] += s;
		}
	}
}

static double p2_median(const struct p2 *e)
{
	if (e->n == 0)
		return NAN;
	if (e->n < 5)
		return e->n % 2 ? e->q[e->n / 2] : (e->q[e->n / 2 - 1] + e->q[e->n / 2]) / 2;
	return e->q[2]; /* the middle marker */
}

/* ---- per-device state ------------------------------------------------------- */

#define CACHE_SETS 16
#define CACHE_WAYS 3
#define ADDR_SETS 8
#define ADDR_WAYS 3
#define EV_EARLY 4
#define EV_NEG 3
#define EV_STALE 3
#define EV_PER_KEY 2
#define US 1000000ull

enum { K_NONE = 0, K_POS = 1, K_NEG = 2 };
enum {
	F_CONSUMED = 1,  /* a re-query was counted against the current answer */
	F_ANSWERED = 2,  /* the current lookup got its (first) answer: counted once */
};

/* One question (name, type) of the device's cache model. */
struct centry {
	uint64_t key;                    /* name hash mixed with the type; 0 = empty slot */
	struct iotdns_dev_name *name;    /* the engine's name record (lives until the end), or NULL */
	uint64_t answer_us;              /* time of the answer the device holds (kind != K_NONE) */
	uint64_t query_us;               /* last query (not a retransmission) */
	uint32_t ttl;                    /* positive: smallest TTL; negative: min(SOA TTL, MINIMUM) */
	uint32_t session;                /* session whose timing this is (the cache is empty after a boot) */
	uint16_t requeries, early;       /* positive re-query events of this question (saturating) */
	uint16_t neg_early;              /* early negative re-queries (saturating) */
	uint16_t qtype;
	uint16_t last_id, last_port;     /* last query: same ID+port again is a repeat, not a lookup */
	uint16_t res_tag;                /* hash of the last query's resolver address */
	uint8_t kind, flags;
};

/* One address from an A/AAAA answer. */
struct aentry {
	struct iotdns_addr addr;         /* family 0 = empty slot */
	uint8_t stale_seen;              /* a stale use of it was counted */
	uint16_t last_sport;             /* source port of the last TCP SYN / UDP datagram */
	uint32_t ttl;                    /* TTL of the answer that gave it */
	uint64_t answer_us;              /* latest answer containing it */
	uint64_t expiry_us;              /* answer_us + ttl (latest of all answers containing it) */
	uint64_t key;                    /* the question of that answer */
	uint64_t last_use_us;            /* last SYN / UDP datagram to it */
};

struct evslot {
	uint64_t key;
	struct iotdns_evidence ev;
};

struct state {
	struct centry cache[CACHE_SETS * CACHE_WAYS];
	struct aentry addrs[ADDR_SETS * ADDR_WAYS];

	/* positive caching */
	uint64_t queries;                /* unicast queries, retransmissions excluded */
	uint64_t retrans;                /* retransmissions (dropped first) */
	uint64_t repeats, inflight, parallel, short_ttl; /* queries that are no (judged) re-query */
	uint64_t requeries, early, pos_lookups;  /* re-queries within a session (judged), early ones */
	uint64_t late_after_silence, ambiguous;  /* first re-query after a silence: expired / still fresh */
	struct p2 age_all, ttl_all, ratio_all; /* all judged re-queries: s, s, age/TTL */
	struct p2 age_early, ratio_early;      /* early ones */
	uint32_t sess_rq, sess_early;          /* sessions with re-queries / early ones */
	uint32_t last_sess_rq, last_sess_early;/* idx+1 of the last session counted */

	/* negative caching */
	uint64_t neg_requeries, neg_early, neg_lookups, neg_short, neg_late_after_silence;
	struct p2 neg_age, neg_ttl;

	/* address use */
	uint64_t traffic;                      /* on_traffic events */
	uint64_t uses, fresh_uses, stale;      /* new connections to resolved addresses: all, fresh, stale */
	uint64_t requeried_uses, served_stale; /* expired but asked again / resolution failing */
	uint64_t unresolved, unknown;          /* address never answered / its question left the model */
	uint64_t stale_addrs;
	struct p2 stale_late;                  /* seconds past expiry of stale uses */
	uint64_t last_fail_us;                 /* last unanswered / SERVFAIL / REFUSED lookup */

	uint64_t cache_dropped, addr_dropped;
	uint32_t sessions_seen, last_session;  /* idx+1 */
	uint32_t boot_sess;                    /* idx+1 of the latest session started by DHCP (a reboot) */

	uint8_t nev_early, nev_neg, nev_stale;
	struct evslot ev_early[EV_EARLY], ev_neg[EV_NEG], ev_stale[EV_STALE];
};

/* ---- helpers ------------------------------------------------------------------- */

static uint64_t qkey(uint64_t name_hash, uint16_t qtype)
{
	uint64_t k = name_hash ^ ((uint64_t)qtype * 0x9e3779b97f4a7c15ull);
	k ^= k >> 29;
	return k ? k : 1;
}

static uint16_t res_tag(const struct iotdns_addr *a)
{
	uint64_t h = iotdns_addr_hash(a);
	return (uint16_t)(h ^ h >> 16 ^ h >> 32 ^ h >> 48);
}

static struct centry *cache_find(struct state *s, uint64_t key)
{
	struct centry *set = &s->cache[(key >> 11) % CACHE_SETS * CACHE_WAYS];
	for (unsigned i = 0; i < CACHE_WAYS; i++)
		if (set[i].key == key)
			return &set[i];
	return NULL;
}

static bool entry_live(const struct centry *e, uint64_t now)
{
	return e->kind != K_NONE && e->answer_us + (uint64_t)e->ttl * US > now;
}

/* Finds or makes the entry of key; evicts empty slots first, then entries
 * holding nothing fresh, then the least recently asked (counted). */
static struct centry *cache_get(struct state *s, uint64_t key, uint64_t now, bool *fresh)
{
	struct centry *set = &s->cache[(key >> 11) % CACHE_SETS * CACHE_WAYS], *victim = NULL;
	*fresh = false;
	for (unsigned i = 0; i < CACHE_WAYS; i++)
		if (set[i].key == key)
			return &set[i];
	for (unsigned i = 0; i < CACHE_WAYS && !victim; i++)
		if (!set[i].key)
			victim = &set[i];
	for (unsigned i = 0; i < CACHE_WAYS && !victim; i++)
		if (!entry_live(&set[i], now))
			victim = &set[i];
	if (!victim) {
		victim = &set[0];
		for (unsigned i = 1; i < CACHE_WAYS; i++)
			if (set[i].query_us < victim->query_us)
				victim = &set[i];
	}
	if (victim->key && entry_live(victim, now))
		s->cache_dropped++;
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	*fresh = true;
	return victim;
}

static struct aentry *addr_find(struct state *s, const struct iotdns_addr *a)
{
	struct aentry *set = &s->addrs[iotdns_addr_hash(a) % ADDR_SETS * ADDR_WAYS];
	for (unsigned i = 0; i < ADDR_WAYS; i++)
		if (set[i].addr.family && iotdns_addr_eq(&set[i].addr, a))
			return &set[i];
	return NULL;
}

static void addr_note(struct state *s, const struct iotdns_addr *a, uint64_t now, uint32_t ttl, uint64_t key)
{
	struct aentry *set = &s->addrs[iotdns_addr_hash(a) % ADDR_SETS * ADDR_WAYS], *e = NULL;
	uint64_t expiry = now + (uint64_t)ttl * US;
	for (unsigned i = 0; i < ADDR_WAYS && !e; i++)
		if (set[i].addr.family && iotdns_addr_eq(&set[i].addr, a))
			e = &set[i];
	if (e) {
		/* the latest answer decides when the device asked; the longest
		 * validity of all answers containing it decides staleness */
		e->answer_us = now;
		e->key = key;
		if (expiry >= e->expiry_us) {
			e->expiry_us = expiry;
			e->ttl = ttl;
		}
		return;
	}
	for (unsigned i = 0; i < ADDR_WAYS && !e; i++)
		if (!set[i].addr.family)
			e = &set[i];
	if (!e) {
		e = &set[0];
		for (unsigned i = 1; i < ADDR_WAYS; i++)
			if (set[i].expiry_us < e->expiry_us)
				e = &set[i];
		s->addr_dropped++;
	}
	memset(e, 0, sizeof(*e));
	e->addr = *a;
	e->ttl = ttl;
	e->answer_us = now;
	e->expiry_us = expiry;
	e->key = key;
}

/* Keeps up to EV_PER_KEY examples per question, so evidence covers several names. */
static struct iotdns_evidence *ev_slot(struct evslot *slots, uint8_t *n, unsigned cap, uint64_t key)
{
	unsigned same = 0;
	if (*n >= cap)
		return NULL;
	for (unsigned i = 0; i < *n; i++)
		same += slots[i].key == key;
	if (same >= EV_PER_KEY)
		return NULL;
	slots[*n].key = key;
	return &slots[(*n)++].ev;
}

static const char *type_name(uint16_t t, char buf[16])
{
	return iotdns_rrtype_name(t, buf);
}

/* A duration in seconds for text: 0.33, 4.9, 412. */
static const char *secs(char buf[24], double v)
{
	if (!isfinite(v))
		snprintf(buf, 24, "?");
	else if (v < 1)
		snprintf(buf, 24, "%.2f", v);
	else if (v < 100)
		snprintf(buf, 24, "%.1f", v);
	else
		snprintf(buf, 24, "%.0f", v);
	return buf;
}

static double share(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0;
}

static uint32_t sess_of(const struct iotdns_session *s)
{
	return s ? s->idx : 0;
}

/* ---- events ---------------------------------------------------------------------- */

static void on_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
		     const struct iotdns_dns_event *ev)
{
	(void)dev;
	struct state *s = st;
	const struct iotdns_dns_msg *m = ev->msg;
	if (ev->proto != IOTDNS_PROTO_DNS || ev->direction != IOTDNS_DIR_FROM_DEVICE || !m->has_question)
		return;
	if (ev->retransmission) {
		s->retrans++;
		return;
	}
	s->queries++;
	uint64_t now = ev->pkt->ts_us;
	uint32_t sess = sess_of(ev->session);
	if (s->last_session != sess + 1) {
		s->last_session = sess + 1;
		s->sessions_seen++;
	}
	if (ev->session && ev->session->start_reason == IOTDNS_SESS_DHCP && s->boot_sess < sess + 1)
		s->boot_sess = sess + 1;
	uint64_t key = qkey(ev->qname_hash, m->qtype);
	bool fresh;
	struct centry *e = cache_get(s, key, now, &fresh);
	uint16_t tag = res_tag(&ev->pkt->dst);
	/* the model survives silences (not reboots): the entry is usable when no
	 * DHCP boot happened since its session */
	bool cont = !fresh && e->session + 1 >= s->boot_sess;
	if (!cont) {
		/* first lookup of this question since the device (re)booted: its cache is empty */
		e->session = sess;
		e->kind = K_NONE;
		e->flags = 0;
		e->qtype = m->qtype;
		e->name = ev->name;
		e->query_us = now;
		e->last_id = m->id;
		e->last_port = ev->pkt->sport;
		e->res_tag = tag;
		return;
	}
	/* a device seen doing DHCP shows its reboots as DHCP exchanges: its
	 * silences are only silences. Without DHCP a silence may hide a reboot. */
	bool after_silence = e->session != sess && s->boot_sess == 0;
	bool new_sess = e->session != sess;
	e->session = sess;
	if (!e->name)
		e->name = ev->name;
	if (!new_sess && e->last_id == m->id && e->last_port == ev->pkt->sport) {
		s->repeats++; /* the same query again (an answer it did not take): not a new lookup */
		return;
	}
	uint64_t prev_q = e->query_us;
	uint16_t prev_tag = e->res_tag;
	e->query_us = now;
	e->last_id = m->id;
	e->last_port = ev->pkt->sport;
	e->res_tag = tag;
	if (e->kind == K_NONE || (e->flags & F_CONSUMED)) {
		s->inflight++; /* part of a lookup already counted, or nothing cacheable held */
		return;
	}
	if (prev_tag != tag && now >= prev_q && now - prev_q < (uint64_t)(iotdns_check_opt(ctx, O_PARALLEL) * US)) {
		s->parallel++;
		return;
	}
	e->flags = (uint8_t)((e->flags | F_CONSUMED) & ~F_ANSWERED);
	double age = now > e->answer_us ? (double)(now - e->answer_us) / US : 0;
	if (e->ttl <= iotdns_check_opt(ctx, O_MIN_TTL)) {
		if (e->kind == K_POS)
			s->short_ttl++;
		else
			s->neg_short++;
		return;
	}
	double fresh_s = e->ttl * (1 - iotdns_check_opt(ctx, O_PREFETCH)) - iotdns_check_opt(ctx, O_SLACK);
	bool early = fresh_s > 0 && age < fresh_s;
	if (after_silence) {
		/* after a silence the device may have rebooted (no DHCP seen): a
		 * re-query of a fresh answer proves nothing, one after expiry shows
		 * the TTL was honoured */
		if (early)
			s->ambiguous++;
		else if (e->kind == K_POS)
			s->late_after_silence++;
		else
			s->neg_late_after_silence++;
		return;
	}
	char tb[16];
	struct iotdns_evidence *slot;
	if (e->kind == K_POS) {
		s->requeries++;
		if (e->requeries < UINT16_MAX)
			e->requeries++;
		p2_add(&s->age_all, age);
		p2_add(&s->ttl_all, e->ttl);
		p2_add(&s->ratio_all, age / e->ttl);
		if (s->last_sess_rq != sess + 1) {
			s->last_sess_rq = sess + 1;
			s->sess_rq++;
		}
		if (!early)
			return;
		s->early++;
		if (e->early < UINT16_MAX)
			e->early++;
		p2_add(&s->age_early, age);
		p2_add(&s->ratio_early, age / e->ttl);
		if (s->last_sess_early != sess + 1) {
			s->last_sess_early = sess + 1;
			s->sess_early++;
		}
		if ((slot = ev_slot(s->ev_early, &s->nev_early, EV_EARLY, key)))
			iotdns_evidence_set(slot, ev->pkt, "query 0x%04x %s %s %.1f s after an answer with TTL %u s (%.1f%% of it)",
					    m->id, m->qname, type_name(m->qtype, tb), age, e->ttl,
					    100.0 * age / e->ttl);
	} else {
		s->neg_requeries++;
		p2_add(&s->neg_age, age);
		p2_add(&s->neg_ttl, e->ttl);
		if (!early)
			return;
		s->neg_early++;
		if (e->neg_early < UINT16_MAX)
			e->neg_early++;
		if ((slot = ev_slot(s->ev_neg, &s->nev_neg, EV_NEG, key)))
			iotdns_evidence_set(slot, ev->pkt,
					    "query 0x%04x %s %s %.1f s after a negative answer cacheable %u s",
					    m->id, m->qname, type_name(m->qtype, tb), age, e->ttl);
	}
}

/* Positive: NOERROR with records that end in the asked type (not a bare
 * CNAME chain). Negative: NXDOMAIN or NODATA with an SOA (RFC 2308 §5:
 * without an SOA a negative answer is not cached). */
static void on_response(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			const struct iotdns_dns_event *ev)
{
	(void)ctx;
	(void)dev;
	struct state *s = st;
	const struct iotdns_dns_msg *m = ev->msg;
	if (ev->proto != IOTDNS_PROTO_DNS || ev->direction != IOTDNS_DIR_TO_DEVICE || !m->has_question || m->tc)
		return;
	uint64_t now = ev->pkt->ts_us;
	uint64_t key = qkey(ev->qname_hash, m->qtype);
	bool cname_only = m->nanswers > 0 && m->qtype != IOTDNS_T_CNAME;
	for (unsigned i = 0; i < m->nanswers && cname_only; i++)
		cname_only = m->answers[i].type == IOTDNS_T_CNAME;
	bool positive = m->rcode == IOTDNS_RCODE_NOERROR && m->nanswers > 0 && m->has_min_ttl && !cname_only;
	bool negative = !positive && m->soa.present &&
			(m->rcode == IOTDNS_RCODE_NXDOMAIN || m->rcode == IOTDNS_RCODE_NOERROR);
	if (positive) {
		for (unsigned i = 0; i < m->nanswers; i++) {
			const struct iotdns_dns_answer *a = &m->answers[i];
			if ((a->type == IOTDNS_T_A || a->type == IOTDNS_T_AAAA) && a->addr.family)
				addr_note(s, &a->addr, now, m->min_ttl, key);
		}
	}
	struct centry *e = cache_find(s, key);
	if (!e || e->session != sess_of(ev->session) || !(positive || negative))
		return;
	uint32_t ttl;
	if (positive) {
		ttl = m->min_ttl;
	} else {
		ttl = m->soa.ttl < m->soa.minimum ? m->soa.ttl : m->soa.minimum;
		if (m->has_min_ttl && m->min_ttl < ttl) /* a CNAME chain before the negative answer */
			ttl = m->min_ttl;
	}
	e->kind = positive ? K_POS : K_NEG;
	e->answer_us = now;
	e->ttl = ttl;
	e->flags &= (uint8_t)~F_CONSUMED;
	if (!(e->flags & F_ANSWERED)) {
		e->flags |= F_ANSWERED;
		if (positive)
			s->pos_lookups++;
		else
			s->neg_lookups++;
	}
}

/* A failed or uncacheable outcome (time-out, SERVFAIL, REFUSED, negative
 * without SOA) of a lookup made after the answer the model holds: the
 * device has nothing valid cached, so its next query is not a re-query. */
static void on_txn(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st, const struct iotdns_txn *t)
{
	(void)ctx;
	(void)dev;
	struct state *s = st;
	if (t->answered && t->tc)
		return;
	bool cacheable = t->answered && ((t->rcode == IOTDNS_RCODE_NOERROR && (t->has_min_ttl || t->soa_present)) ||
					 (t->rcode == IOTDNS_RCODE_NXDOMAIN && t->soa_present));
	if (cacheable)
		return;
	if (!t->answered || t->rcode == IOTDNS_RCODE_SERVFAIL || t->rcode == IOTDNS_RCODE_REFUSED) {
		uint64_t when = t->answered ? t->response_us : t->query_us;
		if (when > s->last_fail_us)
			s->last_fail_us = when;
	}
	if (!t->qname_hash)
		return;
	struct centry *e = cache_find(s, qkey(t->qname_hash, t->qtype));
	if (e && e->session == t->session_idx && e->kind != K_NONE && t->query_us >= e->answer_us) {
		e->kind = K_NONE;
		e->flags = 0; /* the next answer starts a new lookup */
	}
}

static void on_session_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			   const struct iotdns_session *sess)
{
	(void)ctx;
	(void)dev;
	struct state *s = st;
	if (sess->start_reason == IOTDNS_SESS_DHCP && s->boot_sess < sess->idx + 1)
		s->boot_sess = sess->idx + 1;
}

static bool uses_encrypted_dns(const struct iotdns_device *dev)
{
	for (uint32_t i = 0; i < dev->nresolvers; i++)
		if (dev->resolvers[i].transports & (IOTDNS_TR_DOT | IOTDNS_TR_DOH | IOTDNS_TR_DOQ))
			return true;
	return false;
}

static void on_traffic(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
		       const struct iotdns_pkt *pkt)
{
	struct state *s = st;
	s->traffic++;
	struct aentry *a = addr_find(s, &pkt->dst);
	if (!a) {
		s->unresolved++;
		return;
	}
	uint64_t now = pkt->ts_us;
	bool tcp = pkt->l4 == IOTDNS_L4_TCP;
	uint64_t since = now > a->last_use_us ? now - a->last_use_us : 0;
	bool new_use;
	if (tcp) /* a SYN again from the same port within 2 minutes is a retransmitted SYN */
		new_use = !a->last_use_us || pkt->sport != a->last_sport || since > 120 * US;
	else
		new_use = !a->last_use_us || since > (uint64_t)(iotdns_check_opt(ctx, O_UDP_FLOW_GAP) * US);
	a->last_use_us = now;
	a->last_sport = pkt->sport;
	if (!new_use)
		return;
	s->uses++;
	double grace = iotdns_check_opt(ctx, O_STALE_GRACE);
	double gttl = iotdns_check_opt(ctx, O_STALE_GRACE_TTL) * a->ttl;
	if (gttl > grace)
		grace = gttl;
	if (now <= a->expiry_us + (uint64_t)(grace * US)) {
		s->fresh_uses++;
		return;
	}
	struct centry *e = cache_find(s, a->key);
	if (!e) {
		s->unknown++; /* the question left the model: cannot tell whether it asked again */
		return;
	}
	if (e->query_us > a->answer_us) {
		s->requeried_uses++; /* it asked again (maybe with no answer or another address) */
		return;
	}
	if (s->last_fail_us >= a->expiry_us || uses_encrypted_dns(dev)) {
		s->served_stale++; /* resolution failing (RFC 8767), or invisible (encrypted DNS) */
		return;
	}
	s->stale++;
	if (!a->stale_seen) {
		a->stale_seen = 1;
		s->stale_addrs++;
	}
	double late = (double)(now - a->expiry_us) / US;
	p2_add(&s->stale_late, late);
	struct iotdns_evidence *slot = ev_slot(s->ev_stale, &s->nev_stale, EV_STALE, a->key);
	if (slot) {
		char ab[IOTDNS_ADDR_TEXT];
		const char *nm = e->name && e->name->name ? e->name->name : "?";
		iotdns_evidence_set(slot, pkt, "%s to %s port %u, %.0f s after its record (%s, TTL %u s) expired",
				    tcp ? "TCP SYN" : "UDP", iotdns_addr_str(&pkt->dst, ab), pkt->dport, late, nm,
				    a->ttl);
	}
}

/* ---- verdicts -------------------------------------------------------------------- */

/* The questions with the most early re-queries, as a JSON array and a short text. */
static void top_names(const struct state *s, bool negative, char *json, size_t jsize, char *text, size_t tsize)
{
	const struct centry *pick[5] = { NULL };
	unsigned npick = 0;
	for (unsigned i = 0; i < CACHE_SETS * CACHE_WAYS; i++) {
		const struct centry *e = &s->cache[i];
		unsigned v = negative ? e->neg_early : e->early;
		if (!e->key || !v)
			continue;
		unsigned j = npick < 5 ? npick++ : 5;
		while (j > 0 && (negative ? pick[j - 1]->neg_early : pick[j - 1]->early) < v) {
			if (j < 5)
				pick[j] = pick[j - 1];
			j--;
		}
		if (j < 5)
			pick[j] = e;
	}
	size_t jl = (size_t)snprintf(json, jsize, "[");
	size_t tl = 0;
	text[0] = 0;
	for (unsigned i = 0; i < npick; i++) {
		const struct centry *e = pick[i];
		char nb[300], tb[16];
		const char *nm = e->name && e->name->name ? e->name->name : "?";
		iotdns_json_str_buf(nb, sizeof(nb), nm);
		if (jl < jsize && negative)
			jl += (size_t)snprintf(json + jl, jsize - jl, "%s{\"name\":%s,\"type\":\"%s\",\"early\":%u}",
					       i ? "," : "", nb, type_name(e->qtype, tb), (unsigned)e->neg_early);
		else if (jl < jsize)
			jl += (size_t)snprintf(json + jl, jsize - jl,
					       "%s{\"name\":%s,\"type\":\"%s\",\"requeries\":%u,\"early\":%u}",
					       i ? "," : "", nb, type_name(e->qtype, tb), (unsigned)e->requeries,
					       (unsigned)e->early);
		if (i < 2 && tl < tsize)
			tl += (size_t)snprintf(text + tl, tsize - tl, "%s%s %s x%u", i ? ", " : "", nm,
					       type_name(e->qtype, tb),
					       (unsigned)(negative ? e->neg_early : e->early));
	}
	if (jl + 2 <= jsize) {
		json[jl] = ']';
		json[jl + 1] = 0;
	} else {
		snprintf(json, jsize, "[]");
	}
}

static void add_evidence(struct iotdns_finding *f, const struct evslot *slots, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		iotdns_finding_evidence(f, &slots[i].ev);
}

static void common_metrics(struct iotdns_finding *f, const struct state *s)
{
	iotdns_finding_u64(f, "queries", s->queries);
	iotdns_finding_u64(f, "sessions", s->sessions_seen);
	iotdns_finding_u64(f, "retransmissions_ignored", s->retrans);
	iotdns_finding_u64(f, "late_requeries_after_silence", s->late_after_silence);
	iotdns_finding_u64(f, "fresh_requeries_after_silence_ignored", s->ambiguous);
	iotdns_finding_u64(f, "cache_dropped", s->cache_dropped);
}

static void on_device_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st)
{
	struct state *s = st;
	char json[1024], text[200];
	unsigned nfind = 0;
	double early_share = share(s->early, s->requeries);
	double avoid = share(s->early, s->pos_lookups);
	double med_age = p2_median(&s->age_all), med_ttl = p2_median(&s->ttl_all);
	double med_ratio = p2_median(&s->ratio_all);
	double e_age = p2_median(&s->age_early), e_ratio = p2_median(&s->ratio_early);

	if (s->queries == 0) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "no unicast DNS queries (%llu retransmissions)",
				    (unsigned long long)s->retrans);
		return;
	}

	/* positive caching: most re-queries early, and a real part of its lookups */
	if (s->requeries >= iotdns_check_opt(ctx, O_MIN_REQUERIES) &&
	    early_share >= iotdns_check_opt(ctx, O_EARLY_SHARE) && avoid >= iotdns_check_opt(ctx, O_AVOIDABLE_SHARE)) {
		bool none = e_ratio <= iotdns_check_opt(ctx, O_NONE_RATIO) || e_age <= iotdns_check_opt(ctx, O_NONE_AGE);
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, none ? "CACHE.NONE" : "CACHE.TTL_IGNORED");
		top_names(s, false, json, sizeof(json), text, sizeof(text));
		char b1[24], b2[24];
		iotdns_finding_summary(f, "%llu of %llu re-queries came %s: median %s s after an answer with TTL %s s "
					  "(%.1f%% of it); %.0f%% of its lookups were avoidable: %s",
				       (unsigned long long)s->early, (unsigned long long)s->requeries,
				       none ? "while the answer was fresh" : "before the TTL expired", secs(b1, e_age),
				       secs(b2, round(med_ttl)), 100 * e_ratio, 100 * avoid, text);
		iotdns_finding_u64(f, "requeries", s->requeries);
		iotdns_finding_u64(f, "early_requeries", s->early);
		iotdns_finding_dbl(f, "early_share", early_share);
		iotdns_finding_u64(f, "positive_lookups", s->pos_lookups);
		iotdns_finding_dbl(f, "avoidable_share", avoid);
		iotdns_finding_dbl(f, "median_requery_s", med_age);
		iotdns_finding_dbl(f, "median_ttl_s", med_ttl);
		iotdns_finding_dbl(f, "median_requery_ttl_ratio", med_ratio);
		iotdns_finding_dbl(f, "median_early_requery_s", e_age);
		iotdns_finding_dbl(f, "median_early_ttl_ratio", e_ratio);
		iotdns_finding_u64(f, "sessions_with_requeries", s->sess_rq);
		iotdns_finding_u64(f, "sessions_with_early_requeries", s->sess_early);
		iotdns_finding_json(f, "names", json);
		iotdns_finding_u64(f, "short_ttl_ignored", s->short_ttl);
		iotdns_finding_u64(f, "parallel_ignored", s->parallel);
		iotdns_finding_u64(f, "same_lookup_ignored", s->inflight);
		iotdns_finding_u64(f, "repeated_query_ignored", s->repeats);
		common_metrics(f, s);
		add_evidence(f, s->ev_early, s->nev_early);
		nfind++;
	}

	/* negative caching (RFC 2308) */
	double neg_share = share(s->neg_early, s->neg_requeries);
	double neg_avoid = share(s->neg_early, s->neg_lookups);
	if (s->neg_requeries >= iotdns_check_opt(ctx, O_MIN_NEGATIVE) &&
	    neg_share >= iotdns_check_opt(ctx, O_EARLY_SHARE) && neg_avoid >= iotdns_check_opt(ctx, O_AVOIDABLE_SHARE)) {
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "CACHE.NEGATIVE_IGNORED");
		top_names(s, true, json, sizeof(json), text, sizeof(text));
		char b1[24], b2[24];
		iotdns_finding_summary(f, "%llu of %llu questions asked again while their NXDOMAIN/NODATA answer was cacheable "
					  "(median %s s later, negative TTL %s s); %.0f%% of negative lookups avoidable: %s",
				       (unsigned long long)s->neg_early, (unsigned long long)s->neg_requeries,
				       secs(b1, p2_median(&s->neg_age)), secs(b2, round(p2_median(&s->neg_ttl))), 100 * neg_avoid,
				       text);
		iotdns_finding_u64(f, "negative_requeries", s->neg_requeries);
		iotdns_finding_u64(f, "early_negative_requeries", s->neg_early);
		iotdns_finding_dbl(f, "early_share", neg_share);
		iotdns_finding_u64(f, "negative_lookups", s->neg_lookups);
		iotdns_finding_dbl(f, "avoidable_share", neg_avoid);
		iotdns_finding_dbl(f, "median_requery_s", p2_median(&s->neg_age));
		iotdns_finding_dbl(f, "median_negative_ttl_s", p2_median(&s->neg_ttl));
		iotdns_finding_u64(f, "short_ttl_ignored", s->neg_short);
		iotdns_finding_json(f, "names", json);
		common_metrics(f, s);
		add_evidence(f, s->ev_neg, s->nev_neg);
		nfind++;
	}

	/* address use after expiry */
	double stale_share = share(s->stale, s->uses);
	if (s->uses >= iotdns_check_opt(ctx, O_MIN_USES) && s->stale >= iotdns_check_opt(ctx, O_STALE_MIN) &&
	    stale_share >= iotdns_check_opt(ctx, O_STALE_SHARE)) {
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "CACHE.STALE_USE");
		iotdns_finding_summary(f, "%llu of %llu new connections to resolved addresses went to %llu addresses whose "
					  "record had expired (median %.0f s past expiry) without a new query",
				       (unsigned long long)s->stale, (unsigned long long)s->uses,
				       (unsigned long long)s->stale_addrs, p2_median(&s->stale_late));
		iotdns_finding_u64(f, "connections", s->uses);
		iotdns_finding_u64(f, "stale_connections", s->stale);
		iotdns_finding_u64(f, "stale_addresses", s->stale_addrs);
		iotdns_finding_dbl(f, "stale_share", stale_share);
		iotdns_finding_dbl(f, "median_seconds_past_expiry", p2_median(&s->stale_late));
		iotdns_finding_u64(f, "fresh_connections", s->fresh_uses);
		iotdns_finding_u64(f, "after_requery", s->requeried_uses);
		iotdns_finding_u64(f, "serve_stale_allowed", s->served_stale);
		iotdns_finding_u64(f, "unresolved_connections", s->unresolved);
		iotdns_finding_u64(f, "undecided_connections", s->unknown);
		iotdns_finding_u64(f, "addr_dropped", s->addr_dropped);
		common_metrics(f, s);
		add_evidence(f, s->ev_stale, s->nev_stale);
		nfind++;
	}

	/* the status detail: what was measured */
	char pos[96], neg[80], traffic[64], b1[24], b2[24];
	if (s->requeries)
		snprintf(pos, sizeof(pos), "re-queries %llu/%llu early (%.0f%% of lookups), median %s s vs TTL %s s",
			 (unsigned long long)s->early, (unsigned long long)s->requeries, 100 * avoid, secs(b1, med_age),
			 secs(b2, round(med_ttl)));
	else
		snprintf(pos, sizeof(pos), "no re-queries");
	snprintf(neg, sizeof(neg), "negative %llu/%llu early (%.0f%%)", (unsigned long long)s->neg_early,
		 (unsigned long long)s->neg_requeries, 100 * neg_avoid);
	if (s->uses)
		snprintf(traffic, sizeof(traffic), "connections %llu/%llu stale", (unsigned long long)s->stale,
			 (unsigned long long)s->uses);
	else
		snprintf(traffic, sizeof(traffic), "no connections seen");
	uint64_t judged = s->requeries;
	bool enough = judged >= iotdns_check_opt(ctx, O_MIN_REQUERIES) ||
		      s->neg_requeries >= iotdns_check_opt(ctx, O_MIN_NEGATIVE) ||
		      s->uses >= iotdns_check_opt(ctx, O_MIN_USES);
	if (nfind || enough)
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS, "%s; %s; %s", pos, neg, traffic);
	else
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
				    "%llu of %.0f re-query events needed (%llu early; %llu queries, %u sessions); %s",
				    (unsigned long long)judged, iotdns_check_opt(ctx, O_MIN_REQUERIES),
				    (unsigned long long)s->early, (unsigned long long)s->queries, s->sessions_seen,
				    traffic);
}

const struct iotdns_checker iotdns_chk_missing_cache = {
	.api = IOTDNS_CHECKER_API,
	.id = "missing-cache",
	.summary = "Caching and TTLs (RFC 2308 negative caching)",
	.kinds = kinds,
	.opts = opts,
	.dev_state_size = sizeof(struct state),
	.on_query = on_query,
	.on_response = on_response,
	.on_txn = on_txn,
	.on_traffic = on_traffic,
	.on_session_end = on_session_end,
	.on_device_end = on_device_end,
};

/* iotdns - the amplification-risk check (docs/checks/amplification-risk.md).
 *
 * Two questions about a device (draft-ietf-iotops-iot-dns-guidelines D10,
 * D21, O5):
 *
 *  1. Is it a reflector? It answers DNS (port 53) to non-local addresses:
 *     AMP.OPEN_RESPONDER, and the byte amplification factor of what it serves
 *     to them: AMP.REFLECTION_FACTOR. Answers to LAN clients (a Pi-hole, a
 *     router's forwarder) are a local resolver, not a reflector.
 *  2. Is it a load amplifier? Sustained query rates far above its own
 *     baseline (AMP.QUERY_STORM), an unanswered question re-sent at
 *     sub-second intervals (AMP.RETRY_STORM), the same question re-asked
 *     right after NXDOMAIN/SERVFAIL/empty answers (AMP.NEGATIVE_STORM), and
 *     ANY queries (AMP.ANY_QUERY).
 *
 * Load statistics use unicast DNS only (mDNS probing and announcements are
 * link-local and follow their own timing rules, RFC 6762 §8).
 *
 * Per-device state is fixed-size (about 2.3 KB): rate windows are rings of
 * counts (60 one-second buckets, 30 ten-second buckets), the baseline is a
 * histogram of per-minute counts, and recent questions live in a 16-slot
 * table (questions in the middle of a run are kept over quiet ones; runs cut
 * short by a full table are counted). Evidence is kept in a block allocated
 * only for devices that have something to show (freed in dev_free).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/checker.h"
#include "iotdns/finding.h"

/* ---- catalogue --------------------------------------------------------------- */

static const struct iotdns_finding_kind kinds[] = {
	{ "AMP.OPEN_RESPONDER", IOTDNS_SEV_HIGH, "The device answers DNS queries from non-local addresses",
	  "A device that answers DNS on port 53 to hosts outside the local network (usually through a "
	  "port forward opened by UPnP, or a public address) is an open responder: attackers send it "
	  "queries with a spoofed source address and it sends the answers to their victim (reflection), "
	  "and an open recursive service can also be abused for cache snooping and as an anonymous "
	  "resolver. IoT devices have no reason to serve DNS to the Internet.",
	  "Stop the DNS service from listening on external interfaces or restrict it to the local "
	  "network (ACL, bind to the LAN address), close the port forward (disable UPnP port mapping "
	  "for port 53), and answer outside clients with REFUSED at most.",
	  "draft-ietf-iotops-iot-dns-guidelines (DoS and reflection); RFC 5358 (preventing use of "
	  "recursive nameservers in reflector attacks); BCP 38 / RFC 2827" },
	{ "AMP.REFLECTION_FACTOR", IOTDNS_SEV_MEDIUM,
	  "What the device serves to non-local addresses amplifies the attacker's traffic",
	  "The bytes the device sends back to a non-local address are many times the bytes of the "
	  "query that asked for them. With a spoofed source address, each small query becomes a large "
	  "packet towards the victim: the amplification factor multiplies an attacker's bandwidth. "
	  "ANY queries and large record sets are the usual vehicles.",
	  "Do not serve DNS to outside addresses (see AMP.OPEN_RESPONDER); where a responder must stay "
	  "reachable, answer ANY minimally (RFC 8482), keep answers small, and rate-limit responses "
	  "(response rate limiting).",
	  "RFC 8482 (minimal ANY responses); RFC 5358; draft-ietf-iotops-iot-dns-guidelines" },
	{ "AMP.QUERY_STORM", IOTDNS_SEV_MEDIUM, "The device's query rate storms far above its own baseline",
	  "A device that sends DNS queries at a sustained high rate, far above its usual rate, loads "
	  "its resolver and, multiplied by many devices of one model, the DNS infrastructure (the "
	  "Mirai/Dyn attack was queries from IoT devices). Storms usually start when answers go wrong "
	  "(empty answers, errors, an unreachable resolver) and the software loops.",
	  "Cache answers (including negative answers, RFC 2308), bound retries with exponential "
	  "back-off, and serve stale data (RFC 8767) when the resolver is unreachable instead of "
	  "re-querying in a loop.",
	  "draft-ietf-iotops-iot-dns-guidelines (resilience under failure, query floods); RFC 8767; "
	  "RFC 2308" },
	{ "AMP.RETRY_STORM", IOTDNS_SEV_MEDIUM,
	  "The device re-sends unanswered questions at sub-second intervals",
	  "When a question gets no answer, a stub resolver should wait, retry a bounded number of "
	  "times and back off (seconds, growing). Re-sending the same unanswered question several "
	  "times a second hammers a resolver that is already struggling and turns an outage into a "
	  "flood.",
	  "Use a retransmission timer of at least one second that grows exponentially, a small cap on "
	  "attempts, and serve stale data (RFC 8767) while the resolver is unreachable.",
	  "RFC 1123 §6.1.3.3; RFC 1536 §1; draft-ietf-iotops-iot-dns-guidelines (bounded retry and "
	  "back-off); RFC 8767" },
	{ "AMP.NEGATIVE_STORM", IOTDNS_SEV_MEDIUM,
	  "The device re-asks a question right after a negative answer, again and again",
	  "After NXDOMAIN, SERVFAIL or an empty answer the device asks the same question again within "
	  "a second, many times over. The answer will not change that quickly: RFC 2308 says negative "
	  "answers are to be cached. The loop multiplies the load on the resolver whenever a name "
	  "stops resolving.",
	  "Cache negative answers for the SOA minimum (RFC 2308), and after errors retry with "
	  "exponential back-off instead of immediately.",
	  "RFC 2308 §5, §7; draft-ietf-iotops-iot-dns-guidelines (no storms when answers go wrong)" },
	{ "AMP.ANY_QUERY", IOTDNS_SEV_LOW, "The device sends ANY queries",
	  "QTYPE ANY asks for every record of a name: the classic vehicle of DNS amplification, which "
	  "resolvers therefore answer minimally (RFC 8482) or refuse. A device that depends on ANY gets "
	  "unreliable answers and produces traffic that operators filter as attack traffic.",
	  "Ask for the record types actually needed (A, AAAA, HTTPS, TXT, ...).",
	  "RFC 8482; draft-ietf-iotops-iot-dns-guidelines" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

enum code { C_OPEN, C_REFLECT, C_STORM, C_RETRY, C_NEG, C_ANY, C_N };

enum opt {
	O_OPEN_MIN, O_REFLECT_FACTOR, O_STORM_RATE, O_STORM_MIN_RATE, O_STORM_RATIO, O_RETRY_GAP,
	O_RETRY_MAX, O_DUP_WINDOW, O_NEG_GAP, O_NEG_MAX, O_ANY_MIN, O_MIN_QUERIES,
};

static const struct iotdns_opt opts[] = {
	[O_OPEN_MIN] = { "open-min", 1, 1, 1e9,
			 "answers served to non-local addresses before AMP.OPEN_RESPONDER (count)" },
	[O_REFLECT_FACTOR] = { "reflect-factor", 10, 1, 1e6,
			       "response bytes / request bytes to non-local addresses for "
			       "AMP.REFLECTION_FACTOR (ratio)" },
	[O_STORM_RATE] = { "storm-rate", 10, 0.1, 1e6,
			   "absolute storm: queries per second sustained over a 60 s window (q/s)" },
	[O_STORM_MIN_RATE] = { "storm-min-rate", 1, 0.01, 1e6,
			       "relative storm floor: queries per second averaged over a 300 s window (q/s)" },
	[O_STORM_RATIO] = { "storm-ratio", 10, 1, 1e6,
			    "relative storm: 300 s count over the device's baseline for 300 s (ratio)" },
	[O_RETRY_GAP] = { "retry-gap", 1, 0.01, 60,
			  "copies of an unanswered question closer than this are hammering (seconds)" },
	[O_RETRY_MAX] = { "retry-max", 5, 1, 1e6,
			  "sub-second retries of one question tolerated in a row (count)" },
	[O_DUP_WINDOW] = { "dup-window", 0.1, 0, 10,
			   "copies sent this soon after the first one are concurrent duplicates, not "
			   "retries (seconds)" },
	[O_NEG_GAP] = { "neg-gap", 1, 0.01, 60,
			"a re-ask this soon after a negative answer is part of a storm (seconds)" },
	[O_NEG_MAX] = { "neg-max", 5, 1, 1e6,
			"quick re-asks of one question after negative answers tolerated in a row (count)" },
	[O_ANY_MIN] = { "any-min", 1, 1, 1e9, "ANY queries before AMP.ANY_QUERY (count)" },
	[O_MIN_QUERIES] = { "min-queries", 20, 1, 1e9,
			    "unicast queries needed for a pass verdict on the load side (count)" },
	{ NULL, 0, 0, 0, NULL },
};

/* ---- state -------------------------------------------------------------------- */

#define SEC_US 1000000ull
#define NQ 16          /* recent-question slots (qbusy has a bit per slot) */
#define SEC_RING 60    /* one-second buckets: the 10 s and 60 s windows */
#define TEN_RING 30    /* ten-second buckets: the 300 s window */
#define HIST_EXACT 32  /* per-minute histogram: exact counts 0..31 ... */
#define HIST_N 96      /* ... then quarter-octave bins from 32 up to 2^21 (last bin open) */
#define EV_PER_CODE 4
#define NCLIENT 4      /* distinct non-local clients remembered (then only counted) */
#define NNAME 8        /* distinct names served to them */
#define NANYNAME 4
#define NEPISODE 3     /* storm episodes kept (largest first) */

enum { Q_USED = 1, Q_PENDING = 2, Q_NEG = 4 };

/* A recently asked question (name hash, type) and its current run of quick
 * repeats. A run starts at a copy that is not a quick repeat; it goes on while
 * every next copy comes less than retry-gap after the previous one with no
 * answer in between (a retry), or less than neg-gap after a negative answer
 * (a re-ask). A positive answer ends it. */
struct qslot {
	uint64_t hash;
	uint64_t last_us;     /* last copy sent */
	uint64_t burst_us;    /* first copy of the current unanswered period */
	uint64_t answer_us;   /* last negative answer (with Q_NEG) */
	uint64_t run_us;      /* first copy of the run */
	uint64_t run_pktno;
	uint32_t run_input;
	uint16_t qtype;
	uint16_t retries;     /* retries in the run (saturating) */
	uint16_t reasks;      /* re-asks after negative answers in the run (saturating) */
	uint16_t burst;       /* copies in the current concurrent burst */
	uint8_t flags;
	uint8_t neg_kind;     /* rcode of the last negative answer; 255 = NOERROR without data */
};

/* The worst run of one kind (for the summary). */
struct worst {
	uint32_t count;
	uint64_t first_us, last_us;
	uint16_t qtype;
	uint8_t neg_kind;
	struct iotdns_addr server;
	char name[72];
};

struct episode {
	uint32_t peak60, peak300;
	uint64_t start_us, peak_us;
	struct iotdns_evidence start;
};

/* Allocated at the first thing worth showing (most devices never need it). */
struct amp_ev {
	uint8_t n[C_N];
	struct iotdns_evidence ev[C_N][EV_PER_CODE];
	struct worst retry, neg;
	bool ep_active;
	struct episode cur;
	uint8_t nep;
	struct episode ep[NEPISODE];
	char any_name[72];
};

struct state {
	/* hot: touched by every query (the first cache lines) */
	struct amp_ev *ev;                     /* owned, may be NULL */
	bool ev_failed;
	bool min_open;
	uint64_t queries, tcp_queries, engine_retx;
	uint64_t first_us, last_us;
	uint32_t sessions, last_sess;          /* distinct sessions with queries; last idx + 1 */
	uint32_t sum10, sum60, sum300;         /* queries in the current 10 s / 60 s / 300 s windows */
	uint32_t peak10, peak60, peak300;
	uint64_t sec_now;                      /* second of the newest bucket (0 = none yet) */
	uint64_t ten_now;                      /* ten-second bucket of the newest bucket */
	uint64_t peak10_us;
	uint64_t sec_used;                     /* bit i: sec_ring[i] is not zero */
	/* baseline: per-minute counts within boot sessions */
	uint32_t min_sess;
	uint32_t min_count;
	uint64_t min_start;
	/* recent questions: keys and last activity, scanned per query */
	uint64_t qbase_us;                     /* time origin of qtime[] */
	uint32_t qkey[NQ];                     /* folded (name hash, type); 0 = free slot */
	uint32_t qtime[NQ];                    /* last copy or answer, ms since qbase_us (saturating) */
	uint16_t qbusy;                        /* bit i: q[i] waits for an answer or was answered negatively */
	uint16_t sec_ring[SEC_RING];           /* queries per second (saturating) */
	uint16_t ten_ring[TEN_RING];           /* queries per 10 s (saturating) */
	struct qslot q[NQ];                    /* touched on a hit only */
	/* storms */
	uint32_t episodes;
	uint32_t retry_runs, neg_runs;         /* runs that crossed the thresholds */
	uint64_t retry_copies, neg_copies;     /* queries in those runs after the crossing */
	uint32_t retry_sessions, neg_sessions; /* sessions with such a run */
	uint32_t retry_last_sess, neg_last_sess;
	uint32_t max_retries, max_reasks, max_burst;
	uint64_t negatives, unanswered;        /* negative answers / unanswered transactions */
	uint64_t q_evicted;                    /* questions dropped in the middle of a run */
	uint32_t hist[HIST_N];                 /* per-minute counts, see hist_bin() */
	/* ANY */
	uint64_t any_queries;
	uint8_t nany_names;
	uint64_t any_names[NANYNAME];
	/* reflector side: responses this device sent */
	uint64_t resp_lan, resp_out, served_out, refused_out, tcp_out, ra_out, aa_out;
	uint64_t lan_bytes, lan_est;
	uint64_t out_udp_bytes, out_udp_est;   /* UDP answers to non-local addresses */
	uint64_t out_meas_bytes, out_meas_resp; /* UDP answers to outside (the engine counts their requests) */
	double max_factor;
	uint32_t max_factor_resp, max_factor_req;
	uint32_t nclients;                     /* distinct non-local clients (NCLIENT + 1 = "more") */
	struct iotdns_addr clients[NCLIENT];
	uint32_t nnames;
	uint64_t names[NNAME];
	uint32_t nlan_clients;
	struct iotdns_addr lan_clients[NCLIENT];
};

/* ---- helpers ------------------------------------------------------------------- */

static struct amp_ev *evblock(struct state *s)
{
	if (!s->ev && !s->ev_failed) {
		s->ev = calloc(1, sizeof(*s->ev));
		if (!s->ev)
			s->ev_failed = true;
	}
	return s->ev;
}

static void ev_add(struct state *s, enum code c, const struct iotdns_pkt *pkt, const char *fmt, ...)
	IOTDNS_PRINTF(4, 5);
static void ev_add(struct state *s, enum code c, const struct iotdns_pkt *pkt, const char *fmt, ...)
{
	struct amp_ev *b = evblock(s);
	if (!b || b->n[c] >= EV_PER_CODE)
		return;
	char tmp[IOTDNS_EVIDENCE_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	iotdns_evidence_set(&b->ev[c][b->n[c]++], pkt, "%s", tmp);
}

/* Evidence for a packet seen earlier (only its reference was kept). */
static void ev_add_ref(struct state *s, enum code c, uint32_t input, uint64_t pktno, uint64_t ts,
		       const char *fmt, ...) IOTDNS_PRINTF(6, 7);
static void ev_add_ref(struct state *s, enum code c, uint32_t input, uint64_t pktno, uint64_t ts,
		       const char *fmt, ...)
{
	struct amp_ev *b = evblock(s);
	if (!b || b->n[c] >= EV_PER_CODE)
		return;
	struct iotdns_pkt p;
	memset(&p, 0, sizeof(p));
	p.input = input;
	p.pktno = pktno;
	p.ts_us = ts;
	char tmp[IOTDNS_EVIDENCE_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	iotdns_evidence_set(&b->ev[c][b->n[c]++], &p, "%s", tmp);
}

static const char *qtype_str(uint16_t t, char buf[16])
{
	return iotdns_rrtype_name(t, buf);
}

static const char *neg_str(uint8_t kind, char buf[16])
{
	return kind == 255 ? "NODATA" : iotdns_rcode_name(kind, buf);
}

/* Copies a (printable, escaped) name, cut to fit. */
static void copy_name(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* a - b, or 0 when b is later (captures are not always in time order) */
static uint64_t since(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static double secs(uint64_t us)
{
	return (double)us / 1e6;
}

/* Non-local in the sense of reflection: not a private/link-local address,
 * and for IPv6 not of the responder's own site (LAN clients with global
 * IPv6 addresses share the site's prefix, a /48 at most). */
static bool remote_is_outside(const struct iotdns_pkt *p)
{
	return !iotdns_addr_is_local(&p->dst) && !iotdns_addr_same_site6(&p->dst, &p->src);
}

static bool remember_addr(struct iotdns_addr *set, uint32_t *n, const struct iotdns_addr *a)
{
	uint32_t k = IOTDNS_MIN(*n, (uint32_t)NCLIENT);
	for (uint32_t i = 0; i < k; i++)
		if (iotdns_addr_eq(&set[i], a))
			return false;
	if (*n < NCLIENT)
		set[*n] = *a;
	if (*n <= NCLIENT)
		(*n)++; /* NCLIENT + 1 means "more than NCLIENT" */
	return true;
}

static bool remember_hash(uint64_t *set, unsigned cap, uint32_t *n, uint64_t h)
{
	uint32_t k = IOTDNS_MIN(*n, (uint32_t)cap);
	for (uint32_t i = 0; i < k; i++)
		if (set[i] == h)
			return false;
	if (*n < cap)
		set[*n] = h;
	if (*n <= cap)
		(*n)++;
	return true;
}

/* Bin of a per-minute count: exact below HIST_EXACT, then four bins per
 * power of two (each at most 19 % wide), the last one open-ended. */
static unsigned hist_bin(uint32_t v)
{
	if (v < HIST_EXACT)
		return v;
	unsigned o = 31 - (unsigned)__builtin_clz(v); /* 5 for 32..63 */
	unsigned b = HIST_EXACT + (o - 5) * 4 + ((v >> (o - 2)) & 3);
	return b < HIST_N ? b : HIST_N - 1;
}

/* The smallest count of a bin. */
static uint32_t hist_value(unsigned bin)
{
	if (bin < HIST_EXACT)
		return bin;
	unsigned o = 5 + (bin - HIST_EXACT) / 4, sub = (bin - HIST_EXACT) % 4;
	return (uint32_t)(4 + sub) << (o - 2);
}

static void hist_add(struct state *s, uint32_t v, uint32_t times)
{
	s->hist[hist_bin(v)] += times;
}

/* Median per-minute count within sessions (the lower bound of its bin above 31). */
static uint32_t baseline_per_min(const struct state *s, uint64_t *nmin)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < HIST_N; i++)
		total += s->hist[i];
	*nmin = total;
	if (!total)
		return 0;
	uint64_t half = (total + 1) / 2, acc = 0;
	for (unsigned i = 0; i < HIST_N; i++) {
		acc += s->hist[i];
		if (acc >= half)
			return hist_value(i);
	}
	return 0;
}

/* ---- rate windows ------------------------------------------------------------- */

/* Bits of the one-second ring positions a, a+1, ..., a+len-1 (mod SEC_RING). */
static uint64_t ring_span(unsigned a, unsigned len)
{
	if (!len)
		return 0;
	if (len >= SEC_RING)
		return (1ull << SEC_RING) - 1;
	uint64_t lo = a + len <= SEC_RING ? ((1ull << len) - 1) << a : ~0ull << a;
	uint64_t hi = a + len > SEC_RING ? (1ull << (a + len - SEC_RING)) - 1 : 0;
	return (lo | hi) & ((1ull << SEC_RING) - 1);
}

/* Subtracts the buckets in mask from *sum (and clears them when zero is set);
 * only non-empty buckets are visited. */
static void ring_drop(struct state *s, uint64_t mask, uint32_t *sum, bool zero)
{
	mask &= s->sec_used;
	while (mask) {
		unsigned i = (unsigned)__builtin_ctzll(mask);
		mask &= mask - 1;
		*sum -= s->sec_ring[i];
		if (zero) {
			s->sec_ring[i] = 0;
			s->sec_used &= ~(1ull << i);
		}
	}
}

static void rate_advance(struct state *s, uint64_t ts)
{
	uint64_t sec = ts / SEC_US;
	if (!s->sec_now) {
		s->sec_now = sec;
	} else if (sec > s->sec_now) {
		uint64_t gap = sec - s->sec_now;
		if (gap >= SEC_RING) {
			memset(s->sec_ring, 0, sizeof(s->sec_ring));
			s->sec_used = 0;
			s->sum10 = s->sum60 = 0;
		} else {
			unsigned first = (unsigned)((s->sec_now + 1) % SEC_RING);
			/* leaving the 10 s window: seconds sec_now-9 .. sec-10 */
			if (gap >= 10)
				s->sum10 = 0;
			else
				ring_drop(s, ring_span((first + SEC_RING - 10) % SEC_RING, (unsigned)gap), &s->sum10,
					  false);
			/* leaving the 60 s window (and reused): seconds sec_now+1 .. sec */
			ring_drop(s, ring_span(first, (unsigned)gap), &s->sum60, true);
		}
		s->sec_now = sec;
	}
	uint64_t ten = ts / (10 * SEC_US);
	if (!s->ten_now) {
		s->ten_now = ten;
	} else if (ten > s->ten_now) {
		if (ten - s->ten_now >= TEN_RING) {
			memset(s->ten_ring, 0, sizeof(s->ten_ring));
			s->sum300 = 0;
		} else {
			for (uint64_t x = s->ten_now + 1; x <= ten; x++) {
				s->sum300 -= s->ten_ring[x % TEN_RING];
				s->ten_ring[x % TEN_RING] = 0;
			}
		}
		s->ten_now = ten;
	}
	/* one more query (a late timestamp counts in the newest bucket) */
	unsigned pos = (unsigned)(s->sec_now % SEC_RING);
	if (s->sec_ring[pos] < UINT16_MAX) {
		s->sec_ring[pos]++;
		s->sec_used |= 1ull << pos;
		s->sum10++;
		s->sum60++;
	}
	uint16_t *tb = &s->ten_ring[s->ten_now % TEN_RING];
	if (*tb < UINT16_MAX) {
		(*tb)++;
		s->sum300++;
	}
	if (s->sum10 > s->peak10) {
		s->peak10 = s->sum10;
		s->peak10_us = ts;
	}
	if (s->sum60 > s->peak60)
		s->peak60 = s->sum60;
	if (s->sum300 > s->peak300)
		s->peak300 = s->sum300;
}

static uint32_t thr60(const struct iotdns_check_ctx *ctx)
{
	return (uint32_t)ceil(iotdns_check_opt(ctx, O_STORM_RATE) * 60);
}

static uint32_t thr300(const struct iotdns_check_ctx *ctx)
{
	return (uint32_t)ceil(iotdns_check_opt(ctx, O_STORM_MIN_RATE) * 300);
}

static void episode_commit(struct state *s)
{
	struct amp_ev *b = s->ev;
	if (!b || !b->ep_active)
		return;
	b->ep_active = false;
	/* keep the NEPISODE largest (by 300 s peak, then 60 s peak) */
	unsigned at = b->nep;
	if (b->nep == NEPISODE) {
		at = 0;
		for (unsigned i = 1; i < NEPISODE; i++)
			if (b->ep[i].peak300 < b->ep[at].peak300)
				at = i;
		if (b->ep[at].peak300 >= b->cur.peak300)
			return;
	} else {
		b->nep++;
	}
	b->ep[at] = b->cur;
}

/* An episode: the 60 s count at or above its absolute threshold, or the
 * 300 s count at or above the relative rule's floor. Whether it is a storm is
 * decided at the end, against the device's baseline. */
static void episode_track(struct iotdns_check_ctx *ctx, struct state *s, const struct iotdns_dns_event *ev)
{
	bool hot = s->sum60 >= thr60(ctx) || s->sum300 >= thr300(ctx);
	uint64_t ts = ev->pkt->ts_us;
	if (!hot) {
		if (s->ev && s->ev->ep_active)
			episode_commit(s);
		return;
	}
	struct amp_ev *b = evblock(s);
	if (!b)
		return;
	if (!b->ep_active) {
		b->ep_active = true;
		s->episodes++;
		memset(&b->cur, 0, sizeof(b->cur));
		b->cur.start_us = ts;
		char t[16];
		iotdns_evidence_set(&b->cur.start, ev->pkt,
				    "query %s %s: %u queries in the last 60 s, %u in 300 s", ev->msg->qname,
				    qtype_str(ev->msg->qtype, t), s->sum60, s->sum300);
	}
	if (s->sum60 > b->cur.peak60)
		b->cur.peak60 = s->sum60;
	if (s->sum300 > b->cur.peak300) {
		b->cur.peak300 = s->sum300;
		b->cur.peak_us = ts;
	}
}

/* ---- baseline ------------------------------------------------------------------ */

static void minute_track(struct state *s, uint32_t sess, uint64_t ts)
{
	if (!s->min_open || sess != s->min_sess) {
		if (s->min_open)
			hist_add(s, s->min_count, 1);
		s->min_open = true;
		s->min_sess = sess;
		s->min_start = ts;
		s->min_count = 0;
	} else if (ts >= s->min_start + 60 * SEC_US) {
		uint64_t k = (ts - s->min_start) / (60 * SEC_US);
		hist_add(s, s->min_count, 1);
		if (k > 1)
			hist_add(s, 0, (uint32_t)IOTDNS_MIN(k - 1, (uint64_t)UINT32_MAX));
		s->min_start += k * 60 * SEC_US;
		s->min_count = 0;
	}
	s->min_count++;
}

/* ---- questions ------------------------------------------------------------------ */

static uint32_t qkey_of(uint64_t hash, uint16_t qtype)
{
	uint64_t k = hash ^ ((uint64_t)qtype * 0x9e3779b97f4a7c15ull);
	uint32_t f = (uint32_t)(k ^ (k >> 32));
	return f ? f : 1;
}

static uint32_t qms(const struct state *s, uint64_t t)
{
	uint64_t ms = since(t, s->qbase_us) / 1000;
	return ms < UINT32_MAX ? (uint32_t)ms : UINT32_MAX;
}

static struct qslot *qfind(struct state *s, uint64_t hash, uint16_t qtype)
{
	uint32_t k = qkey_of(hash, qtype);
	for (unsigned i = 0; i < NQ; i++)
		if (s->qkey[i] == k && s->q[i].hash == hash && s->q[i].qtype == qtype)
			return &s->q[i];
	return NULL;
}

static void qtouch(struct state *s, const struct qslot *q, uint64_t t)
{
	unsigned i = (unsigned)(q - s->q);
	uint32_t ms = qms(s, t);
	if (ms > s->qtime[i])
		s->qtime[i] = ms;
}

/* A slot for a new question: a free one, else the least recently active
 * among the quiet ones (answered positively, or idle for longer than the
 * repeat windows), else the least recently active of all. A question waiting
 * for its answer or just answered negatively is what a storm is made of, so
 * a burst of new questions does not push it out. Dropping a question in the
 * middle of a run (quick repeats seen, still inside its repeat windows) cuts
 * that run short: counted. */
static struct qslot *qtake(struct iotdns_check_ctx *ctx, struct state *s, uint64_t hash, uint16_t qtype,
			   uint64_t now)
{
	double horizon = IOTDNS_MAX(iotdns_check_opt(ctx, O_RETRY_GAP), iotdns_check_opt(ctx, O_NEG_GAP));
	uint64_t nowms = qms(s, now), hz = (uint64_t)(horizon * 1e3);
	unsigned victim = 0, quiet = NQ;
	for (unsigned i = 0; i < NQ; i++) {
		if (!s->qkey[i]) {
			victim = i;
			goto take;
		}
		bool live = nowms < (uint64_t)s->qtime[i] + hz;
		if (!(live && (s->qbusy >> i & 1)) && (quiet == NQ || s->qtime[i] < s->qtime[quiet]))
			quiet = i;
		if (s->qtime[i] < s->qtime[victim])
			victim = i;
	}
	if (quiet < NQ)
		victim = quiet;
	{
		const struct qslot *v = &s->q[victim];
		if ((v->retries || v->reasks || v->burst > 1) && nowms < (uint64_t)s->qtime[victim] + hz)
			s->q_evicted++;
	}
take:
	memset(&s->q[victim], 0, sizeof(s->q[victim]));
	s->q[victim].hash = hash;
	s->q[victim].qtype = qtype;
	s->q[victim].flags = Q_USED;
	s->qkey[victim] = qkey_of(hash, qtype);
	s->qtime[victim] = qms(s, now);
	s->qbusy &= (uint16_t)~(1u << victim);
	return &s->q[victim];
}

static void worst_update(struct worst *w, uint32_t count, const struct qslot *q, uint64_t now,
			 const struct iotdns_dns_event *ev)
{
	if (count <= w->count)
		return;
	w->count = count;
	w->first_us = q->run_us;
	w->last_us = now;
	w->qtype = q->qtype;
	w->neg_kind = q->neg_kind;
	w->server = ev->pkt->dst;
	copy_name(w->name, sizeof(w->name), ev->msg->qname);
}

static void question(struct iotdns_check_ctx *ctx, struct state *s, const struct iotdns_dns_event *ev)
{
	const struct iotdns_dns_msg *m = ev->msg;
	const struct iotdns_pkt *p = ev->pkt;
	uint64_t now = p->ts_us;
	uint64_t hash = ev->qname_hash;
	struct qslot *q = qfind(s, hash, m->qtype);
	uint64_t retry_gap = (uint64_t)(iotdns_check_opt(ctx, O_RETRY_GAP) * 1e6);
	uint64_t neg_gap = (uint64_t)(iotdns_check_opt(ctx, O_NEG_GAP) * 1e6);
	uint64_t dup_win = (uint64_t)(iotdns_check_opt(ctx, O_DUP_WINDOW) * 1e6);
	bool retry = false, reask = false;
	bool pending = q && (q->flags & Q_PENDING) && since(now, q->last_us) < retry_gap;
	if (!q) {
		q = qtake(ctx, s, hash, m->qtype, now);
	} else if (pending) {
		if (since(now, q->burst_us) < dup_win) {
			if (q->burst < UINT16_MAX)
				q->burst++;
			if (q->burst > s->max_burst)
				s->max_burst = q->burst;
		} else {
			retry = true;
		}
	} else if (!(q->flags & Q_PENDING) && (q->flags & Q_NEG) && since(now, q->answer_us) < neg_gap) {
		reask = true;
	}
	bool cont = retry || reask || pending;
	if (!cont) {
		/* a new run */
		q->retries = q->reasks = 0;
		q->run_us = now;
		q->run_pktno = p->pktno;
		q->run_input = p->input;
	}
	if (!pending) {
		/* a new unanswered period: copies within dup-window of this one
		 * are concurrent duplicates */
		q->burst_us = now;
		q->burst = 1;
	}
	if (now > q->last_us)
		q->last_us = now;
	qtouch(s, q, now);
	q->flags |= Q_PENDING;
	s->qbusy |= (uint16_t)(1u << (q - s->q));
	uint32_t sess = ev->session ? ev->session->idx + 1 : 1;
	char t[16], rc[16];
	if (retry) {
		if (q->retries < UINT16_MAX)
			q->retries++;
		if (q->retries > s->max_retries)
			s->max_retries = q->retries;
		uint32_t lim = (uint32_t)iotdns_check_opt(ctx, O_RETRY_MAX);
		if (q->retries > lim) {
			s->retry_copies++;
			if (q->retries == lim + 1) {
				s->retry_runs++;
				if (s->retry_last_sess != sess) {
					s->retry_last_sess = sess;
					s->retry_sessions++;
				}
				ev_add_ref(s, C_RETRY, q->run_input, q->run_pktno, q->run_us,
					   "query %s %s: first copy of a run of unanswered repeats", m->qname,
					   qtype_str(m->qtype, t));
				ev_add(s, C_RETRY, p, "query %s %s: retry %u without an answer, %.2f s after the first copy",
				       m->qname, qtype_str(m->qtype, t), q->retries, secs(since(now, q->run_us)));
			}
			struct amp_ev *b = evblock(s);
			if (b)
				worst_update(&b->retry, q->retries, q, now, ev);
		}
	}
	if (reask) {
		if (q->reasks < UINT16_MAX)
			q->reasks++;
		if (q->reasks > s->max_reasks)
			s->max_reasks = q->reasks;
		uint32_t lim = (uint32_t)iotdns_check_opt(ctx, O_NEG_MAX);
		if (q->reasks > lim) {
			s->neg_copies++;
			if (q->reasks == lim + 1) {
				s->neg_runs++;
				if (s->neg_last_sess != sess) {
					s->neg_last_sess = sess;
					s->neg_sessions++;
				}
				ev_add_ref(s, C_NEG, q->run_input, q->run_pktno, q->run_us,
					   "query %s %s: first question of the storm", m->qname, qtype_str(m->qtype, t));
				ev_add(s, C_NEG, p, "query %s %s: re-ask %u, %.0f ms after a %s answer", m->qname,
				       qtype_str(m->qtype, t), q->reasks, (double)since(now, q->answer_us) / 1000.0,
				       neg_str(q->neg_kind, rc));
			}
			struct amp_ev *b = evblock(s);
			if (b)
				worst_update(&b->neg, q->reasks, q, now, ev);
		}
	}
}

/* ---- events -------------------------------------------------------------------- */

static void on_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
		     const struct iotdns_dns_event *ev)
{
	(void)dev;
	struct state *s = st;
	if (ev->proto != IOTDNS_PROTO_DNS || ev->direction != IOTDNS_DIR_FROM_DEVICE)
		return;
	const struct iotdns_pkt *p = ev->pkt;
	const struct iotdns_dns_msg *m = ev->msg;
	s->queries++;
	if (ev->transport == IOTDNS_TR_TCP)
		s->tcp_queries++;
	if (ev->retransmission)
		s->engine_retx++;
	if (!s->first_us || p->ts_us < s->first_us)
		s->first_us = p->ts_us;
	if (!s->qbase_us)
		s->qbase_us = p->ts_us;
	if (p->ts_us > s->last_us)
		s->last_us = p->ts_us;
	uint32_t sess = ev->session ? ev->session->idx + 1 : 1;
	if (sess != s->last_sess) {
		s->last_sess = sess;
		s->sessions++;
	}
	rate_advance(s, p->ts_us);
	minute_track(s, sess, p->ts_us);
	episode_track(ctx, s, ev);
	if (!m->has_question)
		return;
	if (m->qtype == IOTDNS_T_ANY) {
		s->any_queries++;
		uint64_t h = ev->qname_hash;
		uint32_t n = s->nany_names;
		bool fresh = remember_hash(s->any_names, NANYNAME, &n, h);
		s->nany_names = (uint8_t)n;
		char a[IOTDNS_ADDR_TEXT];
		if (fresh || s->any_queries <= 2)
			ev_add(s, C_ANY, p, "query 0x%04x %s ANY to %s", m->id, m->qname, iotdns_addr_str(&p->dst, a));
		struct amp_ev *b = s->ev;
		if (b && !b->any_name[0])
			copy_name(b->any_name, sizeof(b->any_name), m->qname);
	}
	question(ctx, s, ev);
}

static void on_txn(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st, const struct iotdns_txn *t)
{
	(void)ctx;
	(void)dev;
	struct state *s = st;
	if (t->server_port == 5355)
		return; /* unicast LLMNR: not DNS load */
	if (!t->answered) {
		s->unanswered++;
		return;
	}
	bool empty = t->rcode == IOTDNS_RCODE_NOERROR && !t->has_min_ttl && t->n_addr_answers == 0;
	bool negative = !t->tc && (t->rcode != IOTDNS_RCODE_NOERROR || empty);
	if (negative)
		s->negatives++;
	struct qslot *q = qfind(s, t->qname_hash, t->qtype);
	if (!q)
		return;
	q->flags &= (uint8_t)~Q_PENDING;
	qtouch(s, q, t->response_us);
	uint16_t bit = (uint16_t)(1u << (q - s->q));
	if (negative) {
		q->flags |= Q_NEG;
		q->answer_us = t->response_us;
		q->neg_kind = empty ? 255 : (uint8_t)IOTDNS_MIN(t->rcode, 254);
		s->qbusy |= bit;
	} else {
		q->flags &= (uint8_t)~Q_NEG;
		s->qbusy &= (uint16_t)~bit;
	}
}

/* A response this device sent: is it serving DNS, and to whom? */
static void on_response(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			const struct iotdns_dns_event *ev)
{
	(void)dev;
	struct state *s = st;
	if (ev->direction != IOTDNS_DIR_FROM_DEVICE)
		return;
	const struct iotdns_pkt *p = ev->pkt;
	const struct iotdns_dns_msg *m = ev->msg;
	/* the smallest query that can have asked for this answer: header,
	 * question, and an OPT record when the answer has one (RFC 6891 §7) */
	uint32_t est = 12 + (m->has_question ? (uint32_t)m->qname_wire_len + 4 : 0) + (m->edns.present ? 11 : 0);
	uint32_t size = m->size;
	char a[IOTDNS_ADDR_TEXT], t[16], rc[16];
	if (!remote_is_outside(p)) {
		s->resp_lan++;
		s->lan_bytes += size;
		s->lan_est += est;
		remember_addr(s->lan_clients, &s->nlan_clients, &p->dst);
		return;
	}
	s->resp_out++;
	bool refused = m->rcode == IOTDNS_RCODE_REFUSED || m->rcode == IOTDNS_RCODE_NOTIMP ||
		       m->rcode == IOTDNS_RCODE_FORMERR;
	bool served = !refused || m->ancount > 0;
	if (served)
		s->served_out++;
	else
		s->refused_out++;
	if (m->ra)
		s->ra_out++;
	if (m->aa)
		s->aa_out++;
	bool new_client = remember_addr(s->clients, &s->nclients, &p->dst);
	if (m->has_question)
		remember_hash(s->names, NNAME, &s->nnames, ev->qname_hash);
	if (ev->transport == IOTDNS_TR_TCP) {
		s->tcp_out++;
	} else {
		s->out_udp_bytes += size;
		s->out_udp_est += est;
		double f = est ? (double)size / est : 0;
		if (f > s->max_factor) {
			s->max_factor = f;
			s->max_factor_resp = size;
			s->max_factor_req = est;
		}
		if (f >= iotdns_check_opt(ctx, O_REFLECT_FACTOR))
			ev_add(s, C_REFLECT, p, "response %s %s to %s:%u: %u bytes for a query of at least %u (x%.1f)",
			       m->has_question ? m->qname : "-", qtype_str(m->qtype, t), iotdns_addr_str(&p->dst, a),
			       p->dport, size, est, f);
	}
	s->out_meas_bytes += size;
	s->out_meas_resp++;
	if (served && (new_client || s->served_out <= 2))
		ev_add(s, C_OPEN, p, "response 0x%04x %s %s %s from port %u to %s:%u, %u answers, %u bytes%s", m->id,
		       m->has_question ? m->qname : "-", qtype_str(m->qtype, t), iotdns_rcode_name(m->rcode, rc),
		       p->sport, iotdns_addr_str(&p->dst, a), p->dport, m->ancount, size, m->ra ? ", RA" : "");
}

/* ---- verdicts ------------------------------------------------------------------- */

static void add_evidence(struct iotdns_finding *f, const struct state *s, enum code c)
{
	if (!s->ev)
		return;
	for (unsigned i = 0; i < s->ev->n[c]; i++)
		iotdns_finding_evidence(f, &s->ev->ev[c][i]);
}

static const char *clients_str(const struct state *s, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = 0;
	uint32_t k = IOTDNS_MIN(s->nclients, (uint32_t)NCLIENT);
	for (uint32_t i = 0; i < k && o < size; i++) {
		char a[IOTDNS_ADDR_TEXT];
		int w = snprintf(buf + o, size - o, "%s%s", i ? ", " : "", iotdns_addr_str(&s->clients[i], a));
		if (w < 0)
			break;
		o += (size_t)w;
	}
	if (s->nclients > NCLIENT && o < size)
		snprintf(buf + o, size - o, ", ...");
	return buf;
}

static const char *count_str(uint32_t n, unsigned cap, char buf[16])
{
	if (n > cap)
		snprintf(buf, 16, "more than %u", cap);
	else
		snprintf(buf, 16, "%u", n);
	return buf;
}

static bool reflector_verdict(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, struct state *s)
{
	bool any = false;
	if (s->served_out >= (uint64_t)iotdns_check_opt(ctx, O_OPEN_MIN)) {
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "AMP.OPEN_RESPONDER");
		if (f) {
			char cl[200], nc[16], nn[16];
			const char *role = s->ra_out ? ", recursion available (open resolver)"
				       : s->aa_out == s->resp_out ? ", authoritative answers only"
				       : "";
			iotdns_finding_summary(f, "answered %llu DNS queries from %s non-local address%s (%s) for %s "
						  "name%s%s",
					       (unsigned long long)s->served_out, count_str(s->nclients, NCLIENT, nc),
					       s->nclients == 1 ? "" : "es", clients_str(s, cl, sizeof(cl)),
					       count_str(s->nnames, NNAME, nn), s->nnames == 1 ? "" : "s", role);
			iotdns_finding_u64(f, "responses_to_nonlocal", s->resp_out);
			iotdns_finding_u64(f, "served_to_nonlocal", s->served_out);
			iotdns_finding_u64(f, "refused_to_nonlocal", s->refused_out);
			iotdns_finding_u64(f, "nonlocal_clients", IOTDNS_MIN(s->nclients, (uint32_t)NCLIENT + 1));
			iotdns_finding_u64(f, "names_served", IOTDNS_MIN(s->nnames, (uint32_t)NNAME + 1));
			iotdns_finding_u64(f, "recursion_available", s->ra_out);
			iotdns_finding_u64(f, "authoritative", s->aa_out);
			iotdns_finding_u64(f, "tcp_responses", s->tcp_out);
			iotdns_finding_u64(f, "requests_received_from_outside", dev->requests_received);
			iotdns_finding_u64(f, "responses_to_lan", s->resp_lan);
			iotdns_finding_u64(f, "threshold_open_min", (uint64_t)iotdns_check_opt(ctx, O_OPEN_MIN));
			add_evidence(f, s, C_OPEN);
		}
		any = true;
	}
	/* amplification of what it serves outside: exact bytes when the engine
	 * counted every request from outside, else the smallest query
	 * consistent with each answer (an upper bound of the factor) */
	double factor = 0;
	const char *basis = "none";
	uint64_t out = 0, in = 0;
	if (s->out_meas_resp && dev->requests_received >= s->out_meas_resp && dev->requests_received_bytes &&
	    s->out_meas_resp == s->resp_out && !s->tcp_out) {
		out = s->out_meas_bytes;
		in = dev->requests_received_bytes;
		basis = "measured";
	} else if (s->out_udp_est) {
		out = s->out_udp_bytes;
		in = s->out_udp_est;
		basis = "estimated";
	}
	if (in)
		factor = (double)out / (double)in;
	if (s->served_out && factor >= iotdns_check_opt(ctx, O_REFLECT_FACTOR)) {
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "AMP.REFLECTION_FACTOR");
		if (f) {
			iotdns_finding_summary(f, "sent %llu bytes to non-local addresses for %llu bytes of queries "
						  "(x%.1f, %s); largest x%.1f: %u bytes for a %u-byte query",
					       (unsigned long long)out, (unsigned long long)in, factor, basis,
					       s->max_factor, s->max_factor_resp, s->max_factor_req);
			iotdns_finding_dbl(f, "factor", factor);
			iotdns_finding_str(f, "factor_basis", basis);
			iotdns_finding_u64(f, "response_bytes", out);
			iotdns_finding_u64(f, "request_bytes", in);
			iotdns_finding_dbl(f, "max_factor", s->max_factor);
			iotdns_finding_u64(f, "max_response_bytes", s->max_factor_resp);
			iotdns_finding_dbl(f, "threshold_factor", iotdns_check_opt(ctx, O_REFLECT_FACTOR));
			add_evidence(f, s, C_REFLECT);
			if (!s->ev || !s->ev->n[C_REFLECT])
				add_evidence(f, s, C_OPEN);
		}
		any = true;
	}
	return any;
}

static bool storm_verdict(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, struct state *s,
			  uint32_t base_min)
{
	episode_commit(s);
	uint32_t t60 = thr60(ctx), t300 = thr300(ctx);
	double ratio = iotdns_check_opt(ctx, O_STORM_RATIO);
	/* the baseline for 300 s is five baseline minutes */
	double rel300 = ratio * 5.0 * base_min;
	unsigned nq = 0;
	const struct episode *qual[NEPISODE];
	if (s->ev)
		for (unsigned i = 0; i < s->ev->nep; i++) {
			const struct episode *e = &s->ev->ep[i];
			if (e->peak60 >= t60 || (e->peak300 >= t300 && e->peak300 >= rel300))
				qual[nq++] = e;
		}
	if (!nq)
		return false;
	struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "AMP.QUERY_STORM");
	if (!f)
		return true;
	bool abs = s->peak60 >= t60;
	double x300 = base_min ? s->peak300 / (5.0 * base_min) : 0.0;
	char rel[64];
	if (base_min)
		snprintf(rel, sizeof(rel), "x%.1f its baseline of %u per minute", x300, base_min);
	else
		snprintf(rel, sizeof(rel), "baseline under 1 per minute");
	iotdns_finding_summary(f, "up to %u queries in 60 s (%.1f/s%s) and %u in 300 s (%.2f/s, %s); %u episode%s "
				  "of at least %u/60 s or %u/300 s",
			       s->peak60, s->peak60 / 60.0, abs ? ", over the absolute limit" : "", s->peak300,
			       s->peak300 / 300.0, rel, s->episodes, s->episodes == 1 ? "" : "s", t60, t300);
	iotdns_finding_u64(f, "peak_10s", s->peak10);
	iotdns_finding_u64(f, "peak_60s", s->peak60);
	iotdns_finding_u64(f, "peak_300s", s->peak300);
	iotdns_finding_u64(f, "baseline_per_minute", base_min);
	iotdns_finding_u64(f, "episodes", s->episodes);
	iotdns_finding_bool(f, "absolute_rule", abs);
	iotdns_finding_dbl(f, "ratio_300s", x300);
	iotdns_finding_u64(f, "threshold_60s", t60);
	iotdns_finding_u64(f, "threshold_300s", t300);
	iotdns_finding_dbl(f, "threshold_ratio", ratio);
	iotdns_finding_u64(f, "queries", s->queries);
	for (unsigned i = 0; i < nq; i++)
		iotdns_finding_evidence(f, &qual[i]->start);
	return true;
}

/* The worst run's metrics. */
static void run_metrics(struct iotdns_finding *f, const struct worst *w)
{
	char t[16], a[IOTDNS_ADDR_TEXT];
	iotdns_finding_str(f, "worst_name", w->name);
	iotdns_finding_str(f, "worst_qtype", qtype_str(w->qtype, t));
	iotdns_finding_str(f, "worst_server", iotdns_addr_str(&w->server, a));
	iotdns_finding_dbl(f, "worst_run_seconds", secs(since(w->last_us, w->first_us)));
}

static bool run_verdicts(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, struct state *s)
{
	bool any = false;
	char t[16], rc[16], a[IOTDNS_ADDR_TEXT];
	if (s->retry_runs) {
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "AMP.RETRY_STORM");
		if (f) {
			const struct worst *w = s->ev ? &s->ev->retry : NULL;
			if (w)
				iotdns_finding_summary(f, "%s %s re-sent %u times without an answer at sub-second "
							  "intervals (%.1f s, to %s); %u such run%s in %u session%s",
						       w->name, qtype_str(w->qtype, t), w->count,
						       secs(since(w->last_us, w->first_us)), iotdns_addr_str(&w->server, a),
						       s->retry_runs, s->retry_runs == 1 ? "" : "s", s->retry_sessions,
						       s->retry_sessions == 1 ? "" : "s");
			iotdns_finding_u64(f, "runs", s->retry_runs);
			iotdns_finding_u64(f, "max_retries", s->max_retries);
			iotdns_finding_u64(f, "sessions", s->retry_sessions);
			iotdns_finding_u64(f, "storm_queries", s->retry_copies);
			iotdns_finding_u64(f, "engine_retransmissions", s->engine_retx);
			iotdns_finding_u64(f, "unanswered", s->unanswered);
			iotdns_finding_u64(f, "runs_cut_short", s->q_evicted);
			iotdns_finding_dbl(f, "threshold_gap_seconds", iotdns_check_opt(ctx, O_RETRY_GAP));
			iotdns_finding_u64(f, "threshold_retries", (uint64_t)iotdns_check_opt(ctx, O_RETRY_MAX));
			if (w)
				run_metrics(f, w);
			add_evidence(f, s, C_RETRY);
		}
		any = true;
	}
	if (s->neg_runs) {
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "AMP.NEGATIVE_STORM");
		if (f) {
			const struct worst *w = s->ev ? &s->ev->neg : NULL;
			if (w)
				iotdns_finding_summary(f, "after %s for %s %s it asked again %u times within %.1f s "
							  "(to %s); %u such storm%s in %u session%s",
						       neg_str(w->neg_kind, rc), w->name, qtype_str(w->qtype, t), w->count,
						       secs(since(w->last_us, w->first_us)), iotdns_addr_str(&w->server, a),
						       s->neg_runs, s->neg_runs == 1 ? "" : "s", s->neg_sessions,
						       s->neg_sessions == 1 ? "" : "s");
			iotdns_finding_u64(f, "storms", s->neg_runs);
			iotdns_finding_u64(f, "max_reasks", s->max_reasks);
			iotdns_finding_u64(f, "sessions", s->neg_sessions);
			iotdns_finding_u64(f, "storm_queries", s->neg_copies);
			iotdns_finding_u64(f, "negative_answers", s->negatives);
			iotdns_finding_u64(f, "runs_cut_short", s->q_evicted);
			if (w)
				iotdns_finding_str(f, "worst_answer", neg_str(w->neg_kind, rc));
			iotdns_finding_dbl(f, "threshold_gap_seconds", iotdns_check_opt(ctx, O_NEG_GAP));
			iotdns_finding_u64(f, "threshold_reasks", (uint64_t)iotdns_check_opt(ctx, O_NEG_MAX));
			if (w)
				run_metrics(f, w);
			add_evidence(f, s, C_NEG);
		}
		any = true;
	}
	if (s->any_queries && s->any_queries >= (uint64_t)iotdns_check_opt(ctx, O_ANY_MIN)) {
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, "AMP.ANY_QUERY");
		if (f) {
			char nn[16];
			iotdns_finding_summary(f, "%llu ANY quer%s (%.1f%% of %llu) for %s name%s%s%s",
					       (unsigned long long)s->any_queries, s->any_queries == 1 ? "y" : "ies",
					       100.0 * (double)s->any_queries / (double)s->queries,
					       (unsigned long long)s->queries, count_str(s->nany_names, NANYNAME, nn),
					       s->nany_names == 1 ? "" : "s", s->ev && s->ev->any_name[0] ? ", e.g. " : "",
					       s->ev ? s->ev->any_name : "");
			iotdns_finding_u64(f, "any_queries", s->any_queries);
			iotdns_finding_u64(f, "names", IOTDNS_MIN(s->nany_names, (uint32_t)NANYNAME + 1));
			iotdns_finding_u64(f, "queries", s->queries);
			add_evidence(f, s, C_ANY);
		}
		any = true;
	}
	return any;
}

static void on_device_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st)
{
	struct state *s = st;
	if (s->min_open) {
		hist_add(s, s->min_count, 1);
		s->min_open = false;
	}
	uint64_t nmin = 0;
	uint32_t base = baseline_per_min(s, &nmin);
	bool failed = reflector_verdict(ctx, dev, s);
	failed |= storm_verdict(ctx, dev, s, base);
	failed |= run_verdicts(ctx, dev, s);
	/* with findings the status is fail whatever is said below: the detail
	 * then carries the measurements */

	char resp[96] = "";
	if (s->q_evicted)
		snprintf(resp, sizeof(resp), "; %llu runs cut short (question table full)",
			 (unsigned long long)s->q_evicted);
	else if (s->resp_out && !s->served_out)
		snprintf(resp, sizeof(resp), "; refused all %llu queries from outside", (unsigned long long)s->resp_out);
	else if (s->resp_lan)
		snprintf(resp, sizeof(resp), "; LAN responder: %llu answers to %s%u client%s, x%.1f",
			 (unsigned long long)s->resp_lan, s->nlan_clients > NCLIENT ? "over " : "",
			 IOTDNS_MIN(s->nlan_clients, (uint32_t)NCLIENT), s->nlan_clients == 1 ? "" : "s",
			 s->lan_est ? (double)s->lan_bytes / (double)s->lan_est : 0.0);
	if (!failed && !s->queries && !s->resp_lan && !s->resp_out) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "no unicast DNS queries or answers (%llu mDNS, %llu "
							     "LLMNR queries)",
				    (unsigned long long)dev->mdns_queries, (unsigned long long)dev->llmnr_queries);
		return;
	}
	uint64_t need = (uint64_t)iotdns_check_opt(ctx, O_MIN_QUERIES);
	if (!failed && s->queries < need && !s->resp_lan && !s->resp_out) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
				    "%llu of %llu unicast queries needed (no storm, ANY or open responder seen so far)",
				    (unsigned long long)s->queries, (unsigned long long)need);
		return;
	}
	iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS,
			    "%llu queries, peak %u/10s %u/60s %u/300s (baseline %u/min); sub-second: %u retries, %u "
			    "re-asks; %llu negative, %llu unanswered; %u cop%s at once%s",
			    (unsigned long long)s->queries, s->peak10, s->peak60, s->peak300, base, s->max_retries,
			    s->max_reasks, (unsigned long long)s->negatives, (unsigned long long)s->unanswered,
			    IOTDNS_MAX(s->max_burst, 1u), s->max_burst > 1 ? "ies" : "y", resp);
}

static void dev_free(struct iotdns_check_ctx *ctx, void *st)
{
	(void)ctx;
	struct state *s = st;
	free(s->ev);
	s->ev = NULL;
}

const struct iotdns_checker iotdns_chk_amplification_risk = {
	.api = IOTDNS_CHECKER_API,
	.id = "amplification-risk",
	.summary = "The device as a reflector or a load amplifier",
	.kinds = kinds,
	.opts = opts,
	.dev_state_size = sizeof(struct state),
	.on_query = on_query,
	.on_response = on_response,
	.on_txn = on_txn,
	.on_device_end = on_device_end,
	.dev_free = dev_free,
};

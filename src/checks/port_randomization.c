/* iotdns - the port-randomization check: UDP source-port randomization of a
 * device's DNS queries (RFC 5452 §9.2; draft-ietf-iotops-iot-dns-guidelines,
 * row D1 of the method notes). docs/checks/port-randomization.md explains the
 * statistics and every threshold.
 *
 * Unit of evidence: a "lookup" (one independent port choice). Retransmissions
 * (ev->retransmission) are dropped first; then queries for the same name from
 * the same port within burst-window (A and AAAA from one socket, the same
 * question to a second resolver) or repeating an unanswered question within
 * retry-window (a late retry) belong to the lookup that opened the socket.
 * Every other query is a new lookup, even from a port seen before: that is
 * what port reuse looks like.
 *
 * Per device, pooled and per resolver: population σ and bits, the σ buckets,
 * the range signature, the share of the most used port(s), small steps between
 * consecutive lookups of a session. Per session: the port that carries most of
 * its lookups and for how long, the first port (the same port after every boot
 * is a fixed port), σ. Per run of consecutive lookups from one port (across
 * sessions): its length and span.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/addr.h"
#include "iotdns/checker.h"
#include "iotdns/finding.h"
#include "randomness.h"

static const struct iotdns_finding_kind kinds[] = {
	{ "PORT.FIXED", IOTDNS_SEV_HIGH, "DNS queries come from one or a few fixed source ports",
	  "RFC 5452 asks that every query leave from an unpredictable UDP source port, so that an off-path "
	  "attacker has to guess the port as well as the 16-bit ID before the real answer arrives. With a "
	  "fixed port (or a handful of ports, or the same port after every boot) only the ID is left: a "
	  "forged answer is accepted after about 32,768 guesses on average, the setting of the Kaminsky "
	  "cache-poisoning attack.",
	  "Send each query from a new UDP socket bound to a random ephemeral port (bind to port 0 and let "
	  "the operating system randomize; on lwIP enable random local ports), and close it when the "
	  "answer arrives.",
	  "RFC 5452 §9.2, §10; RFC 6056 §3; draft-ietf-iotops-iot-dns-guidelines (source-port randomization)" },
	{ "PORT.SESSION_REUSE", IOTDNS_SEV_HIGH, "One source port is reused for the queries of a whole session",
	  "The device picks a new port only when it boots or restarts its resolver, then sends the queries "
	  "of that session from it. Pooled over sessions the ports look random, which hides the problem from "
	  "a σ test; within a session an attacker who learns the port once (for instance by making the "
	  "device look up a name in a zone the attacker controls) can forge answers to every later query by "
	  "guessing only the 16-bit ID.",
	  "Use a fresh random source port for every lookup (a new socket per query); do not keep one "
	  "resolver socket open for the life of the process.",
	  "RFC 5452 §9.2; RFC 6056 §3; draft-ietf-iotops-iot-dns-guidelines (source-port randomization)" },
	{ "PORT.SEQUENTIAL", IOTDNS_SEV_HIGH, "Source ports are allocated sequentially",
	  "Consecutive lookups use ports that differ by a small step, so each port can be predicted from the "
	  "previous one: the port adds almost no entropy against off-path spoofing even when the ports cover "
	  "a wide range over time.",
	  "Select ephemeral ports at random (RFC 6056 §3.3.1 or §3.3.2) instead of incrementing a counter.",
	  "RFC 5452 §9.2; RFC 6056 §3.3; draft-ietf-iotops-iot-dns-guidelines (source-port randomization)" },
	{ "PORT.LOW_ENTROPY", IOTDNS_SEV_HIGH, "Source ports vary too little (poor σ)",
	  "The standard deviation of the source ports is in the 'poor' bucket of the DNS-OARC port test used "
	  "by the draft's authors (σ < 296, under 10 bits): an attacker needs to try only a few hundred ports, "
	  "against 16,000 to 64,000 for a randomized ephemeral range.",
	  "Draw every query's source port at random from the whole ephemeral range (49152-65535 at least, "
	  "ideally 1024-65535).",
	  "RFC 5452 §9.2; RFC 6056 §3.2; DNS-OARC porttest; draft-ietf-iotops-iot-dns-guidelines" },
	{ "PORT.NARROW_RANGE", IOTDNS_SEV_MEDIUM, "Source ports come from a narrow range",
	  "The ports are random but drawn from fewer values than any mainstream stack uses (the smallest, "
	  "RFC 6335's dynamic range 49152-65535, has 16,384 ports). Each bit missing from the range halves an "
	  "attacker's guessing work.",
	  "Draw ephemeral ports from the whole dynamic range (49152-65535 at least, ideally 1024-65535 as "
	  "RFC 6056 recommends).",
	  "RFC 6056 §3.2; RFC 6335 §6; RFC 5452 §9.2" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

enum {
	OPT_MIN_LOOKUPS,
	OPT_POOR_SIGMA,
	OPT_FIXED_SHARE,
	OPT_FEW_PORTS,
	OPT_FEW_COVER,
	OPT_REUSE_LOOKUPS,
	OPT_REUSE_SPAN,
	OPT_REUSE_SHARE,
	OPT_REUSE_SESSIONS,
	OPT_STEP_MAX,
	OPT_STEP_FRACTION,
	OPT_NARROW,
	OPT_BURST,
	OPT_RETRY,
	OPT_BOOT_SESSIONS,
};

static const struct iotdns_opt opts[] = {
	[OPT_MIN_LOOKUPS] = { "min-lookups", 20, 5, 1e6,
			      "lookups (independent port choices, retransmissions excluded) needed for a pooled verdict" },
	[OPT_POOR_SIGMA] = { "poor-sigma", 296, 1, 20000, "σ of the ports below which they are poor (porttest bucket)" },
	[OPT_FIXED_SHARE] = { "fixed-share", 0.5, 0.05, 1, "one port carrying more than this share of the lookups is fixed" },
	[OPT_FEW_PORTS] = { "few-ports", 4, 1, 8, "at most this many ports covering few-cover of the lookups are fixed" },
	[OPT_FEW_COVER] = { "few-cover", 0.8, 0.1, 1, "share of lookups the few ports must cover" },
	[OPT_REUSE_LOOKUPS] = { "reuse-min-lookups", 4, 2, 1e6,
				"lookups on one port within a session that make it a reused port" },
	[OPT_REUSE_SPAN] = { "reuse-min-span", 10, 0, 86400, "seconds the reused port must stay in use" },
	[OPT_REUSE_SHARE] = { "reuse-share", 0.5, 0.05, 1, "share of the session's lookups the reused port carries" },
	[OPT_REUSE_SESSIONS] = { "reuse-sessions", 0.5, 0.01, 1,
				 "share of sessions (with reuse-min-lookups lookups) that must reuse a port" },
	[OPT_STEP_MAX] = { "step-max", 16, 1, 1024, "largest port step (mod 65536) counted as sequential" },
	[OPT_STEP_FRACTION] = { "step-fraction", 0.1, 0.001, 1,
				"share of consecutive lookups with a small step that makes ports sequential" },
	[OPT_NARROW] = { "narrow-range", 8192, 2, 65536, "ports spread over fewer values than this are a narrow range" },
	[OPT_BURST] = { "burst-window", 3, 0, 60,
			"seconds within which queries for the same name from one port are one lookup (A+AAAA)" },
	[OPT_RETRY] = { "retry-window", 60, 0, 600,
			"seconds within which an unanswered name asked again from the same port is a retry" },
	[OPT_BOOT_SESSIONS] = { "boot-fixed-sessions", 2, 2, 1000,
				"sessions that must start from the same port for it to count as fixed at boot" },
	{ NULL, 0, 0, 0, NULL },
};

#define PR_RECENT 8   /* recent sockets (port + lookup) remembered for burst grouping */
#define PR_RES 4      /* resolvers tracked separately; more are pooled only (counted) */
#define PR_EV 4
#define PR_RUN_EV 3    /* evidence kept from the current run */

/* The latest lookup seen on a port. */
struct pr_recent {
	uint64_t name_hash;
	uint64_t first_us, last_us; /* 0 = empty */
	uint16_t port;
	bool answered;
};

/* Per-resolver statistics (resolver records live until the end of the run). */
struct pr_res {
	struct iotdns_addr addr;            /* the resolver (a copy: dev->resolvers may move) */
	struct iotdns_rnd_moments m;
	struct iotdns_rnd_top top;
	uint32_t pairs, small;
	uint32_t last_sess;
	uint16_t last;
	bool has_last;
};

/* The current session. */
struct pr_sess {
	bool open;
	uint32_t idx;
	uint32_t lookups;
	uint16_t first, last;
	struct iotdns_rnd_moments m;
	struct iotdns_rnd_top top;
	uint64_t top_first_us[IOTDNS_RND_TOP_K], top_last_us[IOTDNS_RND_TOP_K]; /* per top slot */
};

struct pr_state {
	/* hot: touched by every query (kept together for the cache) */
	uint64_t udp_queries, retrans, tcp_queries, lookups;
	uint32_t pairs, small;             /* consecutive lookups in a session with another port; small steps */
	uint8_t recent_next;
	uint8_t nres, res_last;            /* res_last: the slot found last time */
	uint8_t nev_first, nev_sfirst, nev_reuse, nev_step;
	/* runs: consecutive lookups of the device from the same port, across
	 * sessions (the engine splits sessions at 90 s of silence, so a device
	 * that queries every few minutes shows its port reuse only here) */
	struct {
		uint16_t port;
		uint8_t nev;
		uint32_t len;
		uint64_t first_us, last_us;
	} run;
	struct iotdns_rnd_moments m;       /* all lookups */
	struct iotdns_rnd_top top;         /* most used ports */
	struct pr_recent recent[PR_RECENT];
	struct pr_sess cur;
	struct pr_res res[PR_RES];
	uint64_t res_untracked;            /* lookups to resolvers beyond PR_RES */

	/* per-session and per-run results */
	uint32_t sess_with_lookups, sess_eligible, sess_reusing, sess_sigma, sess_sigma_poor;
	struct iotdns_rnd_first first;     /* first port of each session */
	struct iotdns_rnd_top reuse_ports; /* the port each reusing session reused */
	struct {
		bool set;
		uint32_t idx, count, lookups;
		uint16_t port;
		double span_s;
	} reuse_ex;
	uint64_t reused_lookups;           /* lookups in reused runs */
	uint32_t reuse_runs;
	struct iotdns_rnd_top run_ports;   /* the port of each reused run */
	struct {
		bool set;
		uint32_t len;
		uint16_t port;
		double span_s;
	} run_ex;

	/* cold: evidence */
	struct iotdns_rnd_ev run_ev[PR_RUN_EV];  /* lookups of the current run after its first */
	struct iotdns_rnd_ev ev_first[PR_EV];  /* first lookups of the device */
	struct iotdns_rnd_ev ev_sfirst[PR_EV]; /* first lookup of the first sessions */
	struct iotdns_rnd_ev ev_reuse[PR_EV];  /* lookups of the first reused run */
	struct iotdns_rnd_ev ev_step[PR_EV];   /* lookups that stepped a little */
};

static double opt(const struct iotdns_check_ctx *ctx, unsigned i)
{
	return iotdns_check_opt(ctx, i);
}

static void sess_close(struct iotdns_check_ctx *ctx, struct pr_state *st)
{
	struct pr_sess *s = &st->cur;
	if (!s->open)
		return;
	s->open = false;
	if (!s->lookups)
		return;
	st->sess_with_lookups++;
	iotdns_rnd_first_add(&st->first, s->first, 0);
	if (s->lookups >= opt(ctx, OPT_REUSE_LOOKUPS)) {
		st->sess_eligible++;
		int b = iotdns_rnd_top_best(&s->top);
		if (b >= 0) {
			uint32_t c = s->top.cnt[b];
			double span = (double)(s->top_last_us[b] - s->top_first_us[b]) / 1e6;
			if (c >= opt(ctx, OPT_REUSE_LOOKUPS) && c >= opt(ctx, OPT_REUSE_SHARE) * s->lookups &&
			    span >= opt(ctx, OPT_REUSE_SPAN)) {
				st->sess_reusing++;
				iotdns_rnd_top_add(&st->reuse_ports, s->top.val[b], NULL);
				if (!st->reuse_ex.set) {
					st->reuse_ex.set = true;
					st->reuse_ex.idx = s->idx;
					st->reuse_ex.count = c;
					st->reuse_ex.lookups = s->lookups;
					st->reuse_ex.port = s->top.val[b];
					st->reuse_ex.span_s = span;
				}
			}
		}
	}
	if (s->lookups >= opt(ctx, OPT_MIN_LOOKUPS)) {
		st->sess_sigma++;
		if (iotdns_rnd_sigma(&s->m) < opt(ctx, OPT_POOR_SIGMA))
			st->sess_sigma_poor++;
	}
}

static void sess_open(struct pr_state *st, uint32_t idx)
{
	memset(&st->cur, 0, sizeof(st->cur));
	st->cur.open = true;
	st->cur.idx = idx;
}

/* Ends the current run: a reused run has reuse-min-lookups lookups over reuse-min-span. */
static void run_close(struct iotdns_check_ctx *ctx, struct pr_state *st)
{
	if (!st->run.len)
		return;
	double span = (double)(st->run.last_us - st->run.first_us) / 1e6;
	if (st->run.len >= opt(ctx, OPT_REUSE_LOOKUPS) && span >= opt(ctx, OPT_REUSE_SPAN)) {
		st->reuse_runs++;
		st->reused_lookups += st->run.len;
		iotdns_rnd_top_add(&st->run_ports, st->run.port, NULL);
		if (!st->run_ex.set || st->run.len > st->run_ex.len) {
			st->run_ex.set = true;
			st->run_ex.len = st->run.len;
			st->run_ex.port = st->run.port;
			st->run_ex.span_s = span;
		}
		if (!st->nev_reuse)
			for (unsigned i = 0; i < st->run.nev && st->nev_reuse < PR_EV; i++)
				st->ev_reuse[st->nev_reuse++] = st->run_ev[i];
	}
	st->run.len = 0;
	st->run.nev = 0;
}

static struct pr_res *res_slot(struct pr_state *st, const struct iotdns_dev_resolver *r)
{
	if (!r)
		return NULL;
	if (st->res_last < st->nres && iotdns_addr_eq(&st->res[st->res_last].addr, &r->addr))
		return &st->res[st->res_last];
	for (unsigned i = 0; i < st->nres; i++)
		if (iotdns_addr_eq(&st->res[i].addr, &r->addr)) {
			st->res_last = (uint8_t)i;
			return &st->res[i];
		}
	if (st->nres >= PR_RES)
		return NULL;
	st->res_last = st->nres;
	struct pr_res *x = &st->res[st->nres++];
	x->addr = r->addr;
	return x;
}

/* Is this query part of a lookup already counted (same socket)? Updates the table. */
static bool same_lookup(struct iotdns_check_ctx *ctx, struct pr_state *st, uint16_t port, uint64_t hash,
			uint64_t ts)
{
	uint64_t burst = (uint64_t)(opt(ctx, OPT_BURST) * 1e6), retry = (uint64_t)(opt(ctx, OPT_RETRY) * 1e6);
	for (unsigned i = 0; i < PR_RECENT; i++) {
		struct pr_recent *r = &st->recent[i];
		if (!r->last_us || r->port != port)
			continue;
		if (r->name_hash == hash && ts >= r->first_us &&
		    (ts - r->first_us <= burst || (!r->answered && ts - r->last_us <= retry))) {
			r->last_us = ts;
			return true;
		}
		/* the same port for another lookup: it replaces the old one */
		r->name_hash = hash;
		r->first_us = r->last_us = ts;
		r->answered = false;
		return false;
	}
	struct pr_recent *r = &st->recent[st->recent_next];
	st->recent_next = (uint8_t)((st->recent_next + 1) % PR_RECENT);
	r->port = port;
	r->name_hash = hash;
	r->first_us = r->last_us = ts;
	r->answered = false;
	return false;
}

static void on_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst,
		     const struct iotdns_dns_event *ev)
{
	(void)dev;
	struct pr_state *st = vst;
	if (ev->proto != IOTDNS_PROTO_DNS || ev->direction != IOTDNS_DIR_FROM_DEVICE)
		return;
	if (ev->transport != IOTDNS_TR_UDP) {
		st->tcp_queries++;
		return;
	}
	st->udp_queries++;
	if (ev->retransmission) {
		st->retrans++;
		return;
	}
	const struct iotdns_pkt *p = ev->pkt;
	uint32_t sidx = ev->session ? ev->session->idx : UINT32_MAX;
	if (!st->cur.open || st->cur.idx != sidx) {
		sess_close(ctx, st);
		sess_open(st, sidx);
	}
	if (same_lookup(ctx, st, p->sport, ev->qname_hash, p->ts_us))
		return;

	/* a new lookup */
	uint16_t port = p->sport;
	struct pr_sess *s = &st->cur;
	st->lookups++;
	iotdns_rnd_moments_add(&st->m, port);
	iotdns_rnd_top_add(&st->top, port, NULL);
	iotdns_rnd_ev_push(st->ev_first, &st->nev_first, PR_EV, ev);
	if (st->run.len && st->run.port != port)
		run_close(ctx, st);
	if (!st->run.len) {
		st->run.port = port;
		st->run.first_us = p->ts_us;
	}
	st->run.len++;
	st->run.last_us = p->ts_us;
	if (st->run.len >= 2) /* a port used again: keep a few of its lookups */
		iotdns_rnd_ev_push(st->run_ev, &st->run.nev, PR_RUN_EV, ev);

	if (s->lookups) {
		if (port != s->last) {
			st->pairs++;
			if (iotdns_rnd_small_step(s->last, port, (unsigned)opt(ctx, OPT_STEP_MAX))) {
				st->small++;
				if (st->nev_step < PR_EV) {
					iotdns_rnd_ev_note(&st->ev_step[st->nev_step], ev);
					st->ev_step[st->nev_step].prev = s->last;
					st->ev_step[st->nev_step].has_prev = true;
					st->nev_step++;
				}
			}
		}
	} else {
		s->first = port;
		iotdns_rnd_ev_push(st->ev_sfirst, &st->nev_sfirst, PR_EV, ev);
	}
	s->last = port;
	s->lookups++;
	iotdns_rnd_moments_add(&s->m, port);
	bool fresh;
	int slot = iotdns_rnd_top_add(&s->top, port, &fresh);
	if (slot >= 0) {
		if (fresh)
			s->top_first_us[slot] = p->ts_us;
		s->top_last_us[slot] = p->ts_us;
	}

	struct pr_res *r = res_slot(st, ev->resolver);
	if (!r) {
		st->res_untracked++;
		return;
	}
	iotdns_rnd_moments_add(&r->m, port);
	iotdns_rnd_top_add(&r->top, port, NULL);
	if (r->has_last && r->last_sess == sidx && port != r->last) {
		r->pairs++;
		if (iotdns_rnd_small_step(r->last, port, (unsigned)opt(ctx, OPT_STEP_MAX))) {
			r->small++;
			/* evidence of a step seen only towards this resolver */
			if (st->nev_step < PR_EV &&
			    (st->nev_step == 0 || st->ev_step[st->nev_step - 1].pktno != p->pktno)) {
				iotdns_rnd_ev_note(&st->ev_step[st->nev_step], ev);
				st->ev_step[st->nev_step].prev = r->last;
				st->ev_step[st->nev_step].has_prev = true;
				st->nev_step++;
			}
		}
	}
	r->last = port;
	r->last_sess = sidx;
	r->has_last = true;
}

/* An answer on a port closes that lookup's retry window. */
static void on_response(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst,
			const struct iotdns_dns_event *ev)
{
	(void)ctx;
	(void)dev;
	struct pr_state *st = vst;
	if (ev->proto != IOTDNS_PROTO_DNS || ev->direction != IOTDNS_DIR_TO_DEVICE || ev->transport != IOTDNS_TR_UDP)
		return;
	uint64_t h = ev->qname_hash;
	for (unsigned i = 0; i < PR_RECENT; i++) {
		struct pr_recent *r = &st->recent[i];
		if (r->last_us && r->port == ev->pkt->dport && r->name_hash == h)
			r->answered = true;
	}
}

static void on_session_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst,
			   const struct iotdns_session *sess)
{
	(void)dev;
	struct pr_state *st = vst;
	if (st->cur.open && st->cur.idx == sess->idx)
		sess_close(ctx, st);
}

/* ---- verdicts ---------------------------------------------------------------- */

static void add_metrics(struct iotdns_finding *f, const struct pr_state *st)
{
	double sigma = iotdns_rnd_sigma(&st->m);
	iotdns_finding_u64(f, "lookups", st->lookups);
	iotdns_finding_u64(f, "udp_queries", st->udp_queries);
	iotdns_finding_u64(f, "retransmissions", st->retrans);
	iotdns_finding_u64(f, "sessions", st->sess_with_lookups);
	iotdns_finding_dbl(f, "sigma", sigma);
	iotdns_finding_dbl(f, "bits", iotdns_rnd_bits(sigma));
	iotdns_finding_str(f, "bucket", iotdns_rnd_bucket_name(iotdns_rnd_bucket(sigma)));
	if (st->m.n) {
		iotdns_finding_u64(f, "port_min", st->m.min);
		iotdns_finding_u64(f, "port_max", st->m.max);
	}
	iotdns_finding_str(f, "range_signature", iotdns_rnd_range_name(iotdns_rnd_port_range(&st->m)));
	int b = iotdns_rnd_top_best(&st->top);
	if (b >= 0 && !st->top.lossy) { /* exact only while few ports were seen */
		iotdns_finding_u64(f, "top_port", st->top.val[b]);
		iotdns_finding_dbl(f, "top_port_share", st->top.n ? (double)st->top.cnt[b] / st->top.n : 0);
	}
	iotdns_finding_dbl(f, "step_fraction", st->pairs ? (double)st->small / st->pairs : 0);
	iotdns_finding_u64(f, "sessions_reusing", st->sess_reusing);
	iotdns_finding_u64(f, "sessions_eligible", st->sess_eligible);
	iotdns_finding_dbl(f, "reused_share", st->lookups ? (double)st->reused_lookups / st->lookups : 0);
	char js[1024], a[IOTDNS_ADDR_TEXT];
	size_t o = 0;
	o += (size_t)snprintf(js + o, sizeof(js) - o, "[");
	for (unsigned i = 0; i < st->nres && o < sizeof(js); i++) {
		const struct pr_res *r = &st->res[i];
		int rb = iotdns_rnd_top_best(&r->top);
		double rs = iotdns_rnd_sigma(&r->m);
		int n = snprintf(js + o, sizeof(js) - o,
				 "%s{\"resolver\":\"%s\",\"lookups\":%llu,\"sigma\":%.1f,\"bits\":%.2f,\"top_port\":%u,"
				 "\"top_port_share\":%.3f,\"step_fraction\":%.3f}",
				 i ? "," : "", iotdns_addr_str(&r->addr, a), (unsigned long long)r->m.n, rs, iotdns_rnd_bits(rs),
				 rb >= 0 ? r->top.val[rb] : 0,
				 (rb >= 0 && r->top.n) ? (double)r->top.cnt[rb] / r->top.n : 0.0,
				 r->pairs ? (double)r->small / r->pairs : 0.0);
		if (n < 0 || (size_t)n >= sizeof(js) - o)
			break;
		o += (size_t)n;
	}
	if (o + 2 <= sizeof(js)) {
		js[o++] = ']';
		js[o] = 0;
		iotdns_finding_json(f, "per_resolver", js);
	}
}

static void emit_evs(struct iotdns_finding *f, const struct iotdns_rnd_ev *a, uint8_t na, const struct iotdns_rnd_ev *b,
		     uint8_t nb)
{
	for (unsigned i = 0; i < na; i++)
		iotdns_rnd_ev_emit(f, &a[i], "");
	for (unsigned i = 0; i < nb; i++)
		iotdns_rnd_ev_emit(f, &b[i], "");
}

/* A finding of code with the common metrics; NULL on failure. */
static struct iotdns_finding *report(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, const struct pr_state *st,
				     const char *code)
{
	struct iotdns_finding *f = iotdns_finding_new(ctx, dev, code);
	if (f)
		add_metrics(f, st);
	return f;
}

static void on_device_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst)
{
	struct pr_state *st = vst;
	char n1[32], n2[32], a[IOTDNS_ADDR_TEXT];
	sess_close(ctx, st);
	run_close(ctx, st);
	if (!st->udp_queries) {
		if (st->tcp_queries)
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "only DNS over TCP (%llu queries): no UDP source ports",
					    (unsigned long long)st->tcp_queries);
		else
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "no unicast DNS queries over UDP");
		return;
	}

	const double min_n = opt(ctx, OPT_MIN_LOOKUPS);
	const bool enough = (double)st->lookups >= min_n;
	const double sigma = iotdns_rnd_sigma(&st->m);
	const double bits = iotdns_rnd_bits(sigma);
	const enum iotdns_rnd_range rsig = iotdns_rnd_port_range(&st->m);
	bool fixed = false, reuse = false, seq = false;

	/* sequential: consecutive lookups of a session stepping by a little */
	const struct pr_res *seq_res = NULL;
	double step_frac = st->pairs ? (double)st->small / st->pairs : 0;
	if (st->pairs + 1 >= min_n && step_frac > opt(ctx, OPT_STEP_FRACTION)) {
		seq = true;
	} else {
		for (unsigned i = 0; i < st->nres; i++) {
			const struct pr_res *r = &st->res[i];
			if (r->pairs + 1 >= min_n && (double)r->small / r->pairs > opt(ctx, OPT_STEP_FRACTION)) {
				seq = true;
				seq_res = r;
				step_frac = (double)r->small / r->pairs;
				break;
			}
		}
	}

	/* one port for many lookups: in most sessions, or in long runs of
	 * consecutive lookups; one port overall is FIXED, a port that changes
	 * between sessions (or runs) is SESSION_REUSE */
	bool sess_pattern = st->sess_reusing && st->sess_reusing >= opt(ctx, OPT_REUSE_SESSIONS) * st->sess_eligible;
	bool run_pattern = st->reuse_runs && st->reused_lookups >= opt(ctx, OPT_REUSE_SHARE) * st->lookups;
	if (sess_pattern || run_pattern) {
		int pb = iotdns_rnd_top_best(&st->top);
		double pshare = (pb >= 0 && st->top.n) ? (double)st->top.cnt[pb] / st->top.n : 0;
		if (pb >= 0 && pshare > opt(ctx, OPT_FIXED_SHARE)) {
			fixed = true;
			struct iotdns_finding *f = report(ctx, dev, st, "PORT.FIXED");
			iotdns_finding_summary(f, "%s of %s lookups (%llu queries) in %u session%s came from port %u",
					       iotdns_rnd_fmt_int(st->top.cnt[pb], n1), iotdns_rnd_fmt_int((double)st->lookups, n2),
					       (unsigned long long)st->udp_queries, st->sess_with_lookups,
					       st->sess_with_lookups == 1 ? "" : "s", st->top.val[pb]);
			iotdns_finding_str(f, "pattern", "one port");
			iotdns_finding_u64(f, "port", st->top.val[pb]);
			emit_evs(f, st->ev_sfirst, st->nev_sfirst, st->ev_first, st->nev_first);
		} else {
			reuse = true;
			struct iotdns_finding *f = report(ctx, dev, st, "PORT.SESSION_REUSE");
			if (sess_pattern)
				iotdns_finding_summary(f,
						       "in %u of %u sessions one port carried the lookups (e.g. session %u: port %u for "
						       "%u of %u lookups over %.0f s), and the port changed between sessions",
						       st->sess_reusing, st->sess_eligible, st->reuse_ex.idx, st->reuse_ex.port,
						       st->reuse_ex.count, st->reuse_ex.lookups, st->reuse_ex.span_s);
			else
				iotdns_finding_summary(f,
						       "%s of %s lookups came in %u runs of consecutive lookups from one port (e.g. "
						       "port %u for %u lookups over %.0f s), and the port changed between runs",
						       iotdns_rnd_fmt_int((double)st->reused_lookups, n1),
						       iotdns_rnd_fmt_int((double)st->lookups, n2), st->reuse_runs, st->run_ex.port,
						       st->run_ex.len, st->run_ex.span_s);
			iotdns_finding_u64(f, "reused_lookups", st->reused_lookups);
			iotdns_finding_u64(f, "reuse_runs", st->reuse_runs);
			iotdns_finding_u64(f, "reuse_ports", IOTDNS_MAX(st->reuse_ports.used, st->run_ports.used));
			emit_evs(f, st->ev_reuse, st->nev_reuse, st->ev_sfirst, st->nev_sfirst);
		}
	}

	/* one or a few ports over all lookups, pooled or towards one resolver */
	if (!fixed && !reuse && enough) {
		int b = iotdns_rnd_top_best(&st->top);
		double share = b >= 0 ? (double)st->top.cnt[b] / st->top.n : 0;
		unsigned few = iotdns_rnd_top_values_for(&st->top, opt(ctx, OPT_FEW_COVER));
		if (b >= 0 && share > opt(ctx, OPT_FIXED_SHARE)) {
			fixed = true;
			struct iotdns_finding *f = report(ctx, dev, st, "PORT.FIXED");
			iotdns_finding_summary(f, "%s of %s lookups (%llu queries) in %u session%s came from port %u",
					       iotdns_rnd_fmt_int(st->top.cnt[b], n1), iotdns_rnd_fmt_int((double)st->lookups, n2),
					       (unsigned long long)st->udp_queries, st->sess_with_lookups,
					       st->sess_with_lookups == 1 ? "" : "s", st->top.val[b]);
			iotdns_finding_str(f, "pattern", "one port");
			iotdns_finding_u64(f, "port", st->top.val[b]);
			emit_evs(f, st->ev_sfirst, st->nev_sfirst, st->ev_first, st->nev_first);
		} else if (few >= 1 && few <= opt(ctx, OPT_FEW_PORTS)) {
			fixed = true;
			struct iotdns_finding *f = report(ctx, dev, st, "PORT.FIXED");
			char list[64] = "";
			size_t o = 0;
			/* the few ports, most used first */
			bool done[IOTDNS_RND_TOP_K] = { false };
			for (unsigned k = 0; k < few; k++) {
				int best = -1;
				for (int i = 0; i < IOTDNS_RND_TOP_K; i++)
					if (st->top.cnt[i] && !done[i] && (best < 0 || st->top.cnt[i] > st->top.cnt[best]))
						best = i;
				if (best < 0)
					break;
				done[best] = true;
				int w = snprintf(list + o, sizeof(list) - o, "%s%u", k ? ", " : "", st->top.val[best]);
				if (w < 0 || (size_t)w >= sizeof(list) - o)
					break;
				o += (size_t)w;
			}
			iotdns_finding_summary(f, "%s of %s lookups in %u session%s came from only %u source ports (%s)",
					       iotdns_rnd_fmt_int(iotdns_rnd_top_cover(&st->top, few), n1),
					       iotdns_rnd_fmt_int((double)st->lookups, n2), st->sess_with_lookups,
					       st->sess_with_lookups == 1 ? "" : "s", few, list);
			iotdns_finding_str(f, "pattern", "few ports");
			iotdns_finding_u64(f, "ports", few);
			emit_evs(f, st->ev_first, st->nev_first, st->ev_sfirst, st->nev_sfirst);
		} else {
			for (unsigned i = 0; i < st->nres; i++) {
				const struct pr_res *r = &st->res[i];
				int rb = iotdns_rnd_top_best(&r->top);
				if ((double)r->m.n < min_n || rb < 0 ||
				    (double)r->top.cnt[rb] / r->top.n <= opt(ctx, OPT_FIXED_SHARE))
					continue;
				fixed = true;
				struct iotdns_finding *f = report(ctx, dev, st, "PORT.FIXED");
				iotdns_finding_summary(f, "%u of %llu lookups to %s came from port %u", r->top.cnt[rb],
						       (unsigned long long)r->m.n, iotdns_addr_str(&r->addr, a), r->top.val[rb]);
				iotdns_finding_str(f, "pattern", "one port to one resolver");
				iotdns_finding_str(f, "resolver", a);
				iotdns_finding_u64(f, "port", r->top.val[rb]);
				emit_evs(f, st->ev_first, st->nev_first, NULL, 0);
				break;
			}
		}
	}

	/* the same port after every boot (needs sessions, not many lookups) */
	uint16_t fport = 0;
	uint32_t fcount = 0;
	if (!fixed && !reuse && !seq &&
	    iotdns_rnd_first_repeats(&st->first, (uint32_t)opt(ctx, OPT_BOOT_SESSIONS), 0.5, &fport, &fcount)) {
		fixed = true;
		struct iotdns_finding *f = report(ctx, dev, st, "PORT.FIXED");
		int pb = iotdns_rnd_top_best(&st->top);
		if (pb >= 0 && st->top.val[pb] == fport)
			iotdns_finding_summary(f, "%s of %s lookups in %u sessions came from port %u, the first port of %u of them: "
					       "a port fixed at boot", iotdns_rnd_fmt_int(st->top.cnt[pb], n1),
					       iotdns_rnd_fmt_int((double)st->lookups, n2), st->first.sessions, fport, fcount);
		else
			iotdns_finding_summary(f, "port %u was the first source port of %u of %u sessions (%s lookups in all): "
					       "a port fixed at boot", fport, fcount, st->first.sessions,
					       iotdns_rnd_fmt_int((double)st->lookups, n1));
		iotdns_finding_str(f, "pattern", "same port every session");
		iotdns_finding_u64(f, "port", fport);
		iotdns_finding_u64(f, "sessions_with_first_port", fcount);
		emit_evs(f, st->ev_sfirst, st->nev_sfirst, st->ev_first, st->nev_first);
	}

	if (seq) {
		struct iotdns_finding *f = report(ctx, dev, st, "PORT.SEQUENTIAL");
		if (seq_res)
			iotdns_finding_summary(f, "%u of %u consecutive lookups to %s stepped by +1..+%u",
					       seq_res->small, seq_res->pairs, iotdns_addr_str(&seq_res->addr, a),
					       (unsigned)opt(ctx, OPT_STEP_MAX));
		else
			iotdns_finding_summary(f, "%u of %u consecutive lookups in a session stepped by +1..+%u (mod 65536)",
					       st->small, st->pairs, (unsigned)opt(ctx, OPT_STEP_MAX));
		iotdns_finding_u64(f, "small_steps", seq_res ? seq_res->small : st->small);
		iotdns_finding_u64(f, "pairs", seq_res ? seq_res->pairs : st->pairs);
		if (iotdns_rnd_first_repeats(&st->first, 2, 0.5, &fport, &fcount)) {
			iotdns_finding_u64(f, "restart_port", fport);
			iotdns_finding_u64(f, "sessions_restarting", fcount);
		}
		for (unsigned i = 0; i < st->nev_step; i++) {
			char note[40];
			snprintf(note, sizeof(note), "previous port %u", st->ev_step[i].prev);
			iotdns_rnd_ev_emit(f, &st->ev_step[i], note);
		}
		if (f && !f->nev)
			emit_evs(f, st->ev_first, st->nev_first, NULL, 0);
	}

	/* the spread of the ports, when nothing above explains it */
	if (!fixed && !reuse && !seq && enough) {
		bool poor = sigma < opt(ctx, OPT_POOR_SIGMA);
		bool sess_poor = st->sess_sigma && 2 * st->sess_sigma_poor > st->sess_sigma;
		const struct pr_res *low_res = NULL;
		for (unsigned i = 0; !poor && !sess_poor && i < st->nres; i++)
			if ((double)st->res[i].m.n >= min_n && iotdns_rnd_sigma(&st->res[i].m) < opt(ctx, OPT_POOR_SIGMA))
				low_res = &st->res[i];
		double width = iotdns_rnd_range_width(&st->m);
		if (poor || sess_poor || low_res) {
			struct iotdns_finding *f = report(ctx, dev, st, "PORT.LOW_ENTROPY");
			if (poor)
				iotdns_finding_summary(f, "sigma=%s (%.1f bits, poor) over %s lookups; ports %u-%u",
						       iotdns_rnd_fmt_int(sigma, n1), bits, iotdns_rnd_fmt_int((double)st->lookups, n2),
						       st->m.min, st->m.max);
			else if (sess_poor)
				iotdns_finding_summary(f, "sigma within a session was poor (< %.0f) in %u of %u sessions, although "
						       "pooled sigma=%s", opt(ctx, OPT_POOR_SIGMA), st->sess_sigma_poor, st->sess_sigma,
						       iotdns_rnd_fmt_int(sigma, n1));
			else
				iotdns_finding_summary(f, "sigma=%s over %llu lookups to %s (poor)",
						       iotdns_rnd_fmt_int(iotdns_rnd_sigma(&low_res->m), n1),
						       (unsigned long long)low_res->m.n, iotdns_addr_str(&low_res->addr, a));
			iotdns_finding_u64(f, "sessions_poor", st->sess_sigma_poor);
			emit_evs(f, st->ev_first, st->nev_first, NULL, 0);
		} else if (width < opt(ctx, OPT_NARROW)) {
			struct iotdns_finding *f = report(ctx, dev, st, "PORT.NARROW_RANGE");
			iotdns_finding_summary(f, "%s lookups used ports %u-%u only (about %s values, %.1f bits; sigma=%s)",
					       iotdns_rnd_fmt_int((double)st->lookups, n1), st->m.min, st->m.max,
					       iotdns_rnd_fmt_int(width, n2), log2(width), iotdns_rnd_fmt_int(sigma, a));
			iotdns_finding_dbl(f, "range_width", width);
			emit_evs(f, st->ev_first, st->nev_first, NULL, 0);
		}
	}

	if (dev->chk_result && dev->chk_result[ctx->slot].nfindings) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_FAIL,
				    "sigma=%s (%.1f bits, %s) over %s lookups in %u session%s; ports %u-%u (%s)",
				    iotdns_rnd_fmt_int(sigma, n1), bits, iotdns_rnd_bucket_name(iotdns_rnd_bucket(sigma)),
				    iotdns_rnd_fmt_int((double)st->lookups, n2), st->sess_with_lookups,
				    st->sess_with_lookups == 1 ? "" : "s", st->m.min, st->m.max, iotdns_rnd_range_name(rsig));
		return;
	}
	if (!enough) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
				    "%llu of %.0f lookups needed (%llu UDP queries, %llu retransmissions, %u sessions)",
				    (unsigned long long)st->lookups, min_n, (unsigned long long)st->udp_queries,
				    (unsigned long long)st->retrans, st->sess_with_lookups);
		return;
	}
	iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS,
			    "sigma=%s (%.1f bits, %s) over %s lookups in %u session%s; ports %u-%u (%s); %s lookups on a reused port",
			    iotdns_rnd_fmt_int(sigma, n1), bits, iotdns_rnd_bucket_name(iotdns_rnd_bucket(sigma)),
			    iotdns_rnd_fmt_int((double)st->lookups, n2), st->sess_with_lookups,
			    st->sess_with_lookups == 1 ? "" : "s", st->m.min, st->m.max, iotdns_rnd_range_name(rsig),
			    iotdns_rnd_fmt_int((double)st->reused_lookups, a));
}

const struct iotdns_checker iotdns_chk_port_randomization = {
	.api = IOTDNS_CHECKER_API,
	.id = "port-randomization",
	.summary = "UDP source-port randomization (RFC 5452 §9.2)",
	.kinds = kinds,
	.opts = opts,
	.dev_state_size = sizeof(struct pr_state),
	.on_query = on_query,
	.on_response = on_response,
	.on_session_end = on_session_end,
	.on_device_end = on_device_end,
};

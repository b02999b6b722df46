/* iotdns - the txid-randomization check: DNS transaction-ID randomization of
 * a device's queries (RFC 5452 §4.3, §9; draft-ietf-iotops-iot-dns-guidelines,
 * row D2 of the method notes), and the combined per-session entropy of port
 * and ID (ENTROPY.LOW). docs/checks/txid-randomization.md explains the
 * statistics and every threshold.
 *
 * Unit of evidence: an "ID draw". Retransmissions (ev->retransmission) are
 * dropped first; a query repeating the ID and question of a recent one that
 * was sent less than pair-window earlier (the same query to a second
 * resolver) or that is still unanswered within copy-window (a late retry) is
 * a copy of it, not a new draw.
 *
 * Per device, pooled and per resolver: σ and bits, the two most frequent IDs
 * (constant or two-valued), the +1/+2 steps between consecutive lookups of a
 * session (queries for the same name within pair-window are one lookup and
 * their ID pairs are not counted: A and AAAA with ID and ID+1 are not a
 * counter), a birthday test on the first draws. Per session: the first ID
 * (counters restarting at 0/1/2 or at the same value), σ, and the port σ of
 * the same queries for the combined entropy.
 *
 * ENTROPY.LOW is reported here and only when the combination is the problem:
 * not when an ID finding above already explains it, nor when the ports alone
 * are weak (below entropy-port-bits), which port-randomization reports.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/addr.h"
#include "iotdns/checker.h"
#include "iotdns/finding.h"
#include "randomness.h"

static const struct iotdns_finding_kind kinds[] = {
	{ "TXID.CONSTANT", IOTDNS_SEV_HIGH, "DNS transaction IDs are constant or take two values",
	  "The 16-bit ID is the main secret that binds an answer to its query. When the device reuses one or "
	  "two IDs, an off-path attacker who knows them only has to guess the source port (or nothing, if the "
	  "port is fixed too) to have a forged answer accepted.",
	  "Draw every query's ID from a cryptographically secure random generator over the full 0-65535 "
	  "range (arc4random_uniform, getrandom, the platform's DRBG).",
	  "RFC 5452 §4.3, §9.2; draft-ietf-iotops-iot-dns-guidelines (transaction-ID randomization)" },
	{ "TXID.SEQUENTIAL", IOTDNS_SEV_HIGH, "DNS transaction IDs are sequential",
	  "Consecutive queries carry IDs that differ by +1 or +2, so each ID can be predicted from the "
	  "previous one (which an attacker can learn by making the device resolve a name in a zone it "
	  "controls). A pooled σ can still look good when the counter starts at different values; the steps "
	  "give it away.",
	  "Replace the ID counter with a cryptographically secure random ID per query over the full "
	  "0-65535 range.",
	  "RFC 5452 §4.3, §9.2; draft-ietf-iotops-iot-dns-guidelines (transaction-ID randomization)" },
	{ "TXID.RESET_PER_SESSION", IOTDNS_SEV_HIGH, "DNS transaction IDs restart at the same value every session",
	  "In most sessions the first query carries ID 0, 1 or 2, or the same ID as in other sessions: the ID "
	  "generator restarts from a fixed state after every boot or restart, so the IDs of the queries sent "
	  "right after boot (when caches are empty and every name is looked up) are known in advance.",
	  "Seed the ID generator from a real entropy source at boot, or better draw each ID from the "
	  "platform's cryptographically secure random generator.",
	  "RFC 5452 §4.3, §9.2; draft-ietf-iotops-iot-dns-guidelines (transaction-ID randomization)" },
	{ "TXID.LOW_ENTROPY", IOTDNS_SEV_HIGH, "DNS transaction IDs vary too little (poor σ)",
	  "The standard deviation of the IDs is in the 'poor' bucket used by the draft's authors (σ < 296, "
	  "under 10 bits): the IDs cover a few hundred values instead of 65,536, which divides an attacker's "
	  "guessing work by a hundred or more.",
	  "Draw every ID uniformly from the full 0-65535 range with a cryptographically secure generator.",
	  "RFC 5452 §4.3, §9.2; DNS-OARC porttest buckets; draft-ietf-iotops-iot-dns-guidelines" },
	{ "TXID.DUPLICATES", IOTDNS_SEV_MEDIUM, "DNS transaction IDs repeat more often than chance allows",
	  "Among the device's first queries (retransmissions and copies removed) the same ID comes back far "
	  "more often than a uniform draw with the IDs' spread would give (birthday test): the generator "
	  "produces only a small set of values, even if they are spread over the whole range, and an "
	  "attacker only has to guess among those.",
	  "Draw every ID from a cryptographically secure random generator over the full 0-65535 range; do "
	  "not derive IDs from a small table, a timer or a short hash.",
	  "RFC 5452 §4.3, §9.2; draft-ietf-iotops-iot-dns-guidelines (transaction-ID randomization)" },
	{ "ENTROPY.LOW", IOTDNS_SEV_MEDIUM, "Source port and transaction ID together carry too little entropy",
	  "An off-path attacker must match both the source port and the ID of a query. Measured per session, "
	  "the two together give fewer bits than a stack with a random ID and a random port from even the "
	  "smallest common range (about 30 bits), although neither is poor on its own: each forged answer "
	  "has a correspondingly better chance of being accepted.",
	  "Use the full 16 bits of the ID and a random source port from a wide ephemeral range for every "
	  "query.",
	  "RFC 5452 §9.2, §7; draft-ietf-iotops-iot-dns-guidelines (source-port and transaction-ID randomization)" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

enum {
	OPT_MIN_QUERIES,
	OPT_POOR_SIGMA,
	OPT_SEQ_FRACTION,
	OPT_SEQ_STEP,
	OPT_CONSTANT_SHARE,
	OPT_RESET_MAX,
	OPT_RESET_SESSIONS,
	OPT_RESET_SHARE,
	OPT_ENTROPY_BITS,
	OPT_ENTROPY_PORT_BITS,
	OPT_PAIR_WINDOW,
	OPT_COPY_WINDOW,
	OPT_BIRTHDAY_P,
	OPT_RESEND_WINDOW,
};

static const struct iotdns_opt opts[] = {
	[OPT_MIN_QUERIES] = { "min-queries", 20, 5, 1e6, "ID draws (queries without retransmissions) needed for a verdict" },
	[OPT_POOR_SIGMA] = { "poor-sigma", 296, 1, 20000, "σ of the IDs below which they are poor (porttest bucket)" },
	[OPT_SEQ_FRACTION] = { "seq-fraction", 0.1, 0.001, 1,
			       "share of consecutive lookups whose IDs step by +1..+seq-step that makes IDs sequential" },
	[OPT_SEQ_STEP] = { "seq-step", 2, 1, 256, "largest ID step (mod 65536) counted as sequential" },
	[OPT_CONSTANT_SHARE] = { "constant-share", 0.5, 0.05, 1, "share of draws the two most frequent IDs must cover" },
	[OPT_RESET_MAX] = { "reset-max", 2, 0, 65535, "a session whose first ID is at most this restarts a counter" },
	[OPT_RESET_SESSIONS] = { "reset-min-sessions", 2, 2, 1e6, "sessions that must restart for RESET_PER_SESSION" },
	[OPT_RESET_SHARE] = { "reset-share", 0.5, 0.01, 1, "share of sessions (more than) that must restart" },
	[OPT_ENTROPY_BITS] = { "entropy-min-bits", 28, 1, 32, "combined port + ID bits per session below which ENTROPY.LOW" },
	[OPT_ENTROPY_PORT_BITS] = { "entropy-port-bits", 13, 0, 16,
				    "port bits below which the ports alone are weak (port-randomization reports them)" },
	[OPT_PAIR_WINDOW] = { "pair-window", 1, 0, 60,
			      "seconds within which queries for the same name are one lookup (A+AAAA, parallel resolvers)" },
	[OPT_COPY_WINDOW] = { "copy-window", 60, 0, 600,
			      "seconds within which an unanswered query repeated with the same ID is a copy" },
	[OPT_BIRTHDAY_P] = { "birthday-p", 1e-6, 1e-15, 0.01,
			     "probability under a uniform draw below which repeated IDs are reported" },
	[OPT_RESEND_WINDOW] = { "resend-window", 10, 0, 600,
				"seconds within which an answered query sent again with the same ID is a copy" },
	{ NULL, 0, 0, 0, NULL },
};

#define TX_SETS 8     /* copy table: TX_SETS sets of TX_WAYS recent queries */
#define TX_WAYS 4
#define TX_RES 4
#define TX_EV 4

/* A recent query, to recognise copies (same ID and question). */
struct tx_recent {
	uint32_t name_hash;  /* low bits of the question hash */
	uint32_t ms;         /* send time, milliseconds (mod 2^32); 0 = empty */
	uint16_t id, qtype;
	uint8_t answered;
};

struct tx_res {
	struct iotdns_addr addr;             /* the resolver (a copy: dev->resolvers may move) */
	struct iotdns_rnd_moments m;
	uint32_t pairs, seq;
	uint32_t last_sess;
	uint64_t last_hash, last_us;
	uint16_t last;
	bool has_last;
};

struct tx_sess {
	bool open;
	uint32_t idx;
	uint32_t n;
	uint16_t last, prev_id;         /* the latest ID and the one before it */
	uint64_t last_hash, last_us;
	struct iotdns_rnd_moments m;     /* IDs */
	struct iotdns_rnd_moments pm;    /* ports of the same queries */
	struct iotdns_rnd_top top;
	uint16_t first_id;
};

struct tx_state {
	/* hot: touched by every query (kept together for the cache) */
	uint64_t udp_queries, retrans, copies, tcp_queries, n;
	uint32_t pairs, seq;
	uint8_t nres, res_last;            /* res_last: the slot found last time */
	uint8_t nev_first, nev_seq, nev_reset, nev_sfirst, nev_dup;
	struct tx_sess cur;
	struct iotdns_rnd_moments m;     /* IDs */
	struct iotdns_rnd_moments pm;    /* ports of the same queries */
	struct iotdns_rnd_top top;
	struct tx_res res[TX_RES];
	uint64_t res_untracked;
	struct tx_recent recent[TX_SETS][TX_WAYS];
	struct iotdns_rnd_sample sample;

	/* per-session results */
	struct iotdns_rnd_first first;
	uint32_t sess_eligible, sess_poor, sess_constant;
	uint32_t sess_entropy_eval, sess_entropy_low, sess_port_weak;
	double entropy_min, entropy_sum, entropy_port_sum, entropy_id_sum;

	/* cold: evidence */
	struct iotdns_rnd_ev ev_first[TX_EV];  /* first draws */
	struct iotdns_rnd_ev ev_seq[TX_EV];    /* draws that stepped by +1/+2 */
	struct iotdns_rnd_ev ev_reset[TX_EV];  /* session-first draws with a low ID */
	struct iotdns_rnd_ev ev_sfirst[TX_EV]; /* first draw of the first sessions */
	struct iotdns_rnd_ev ev_dup[TX_EV];    /* draws repeating an earlier ID */
};

static double opt(const struct iotdns_check_ctx *ctx, unsigned i)
{
	return iotdns_check_opt(ctx, i);
}

static void sess_close(struct iotdns_check_ctx *ctx, struct tx_state *st)
{
	struct tx_sess *s = &st->cur;
	if (!s->open)
		return;
	s->open = false;
	if (!s->n)
		return;
	iotdns_rnd_first_add(&st->first, s->first_id, (unsigned)opt(ctx, OPT_RESET_MAX));
	if (s->n < opt(ctx, OPT_MIN_QUERIES))
		return;
	st->sess_eligible++;
	double sid = iotdns_rnd_sigma(&s->m);
	if (sid < opt(ctx, OPT_POOR_SIGMA))
		st->sess_poor++;
	if (iotdns_rnd_top_cover(&s->top, 2) >= opt(ctx, OPT_CONSTANT_SHARE) * s->n)
		st->sess_constant++;
	double pb = iotdns_rnd_bits(iotdns_rnd_sigma(&s->pm)), ib = iotdns_rnd_bits(sid);
	if (pb < opt(ctx, OPT_ENTROPY_PORT_BITS)) {
		st->sess_port_weak++;
		return;
	}
	double c = pb + ib;
	if (!st->sess_entropy_eval || c < st->entropy_min)
		st->entropy_min = c;
	st->sess_entropy_eval++;
	st->entropy_sum += c;
	st->entropy_port_sum += pb;
	st->entropy_id_sum += ib;
	if (c < opt(ctx, OPT_ENTROPY_BITS))
		st->sess_entropy_low++;
}

static void sess_open(struct tx_state *st, uint32_t idx)
{
	memset(&st->cur, 0, sizeof(st->cur));
	st->cur.open = true;
	st->cur.idx = idx;
}

static struct tx_res *res_slot(struct tx_state *st, const struct iotdns_dev_resolver *r)
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
	if (st->nres >= TX_RES)
		return NULL;
	st->res_last = st->nres;
	struct tx_res *x = &st->res[st->nres++];
	x->addr = r->addr;
	return x;
}

static uint32_t ms_of(uint64_t ts_us)
{
	uint32_t ms = (uint32_t)(ts_us / 1000);
	return ms ? ms : 1;
}

static unsigned set_of(uint16_t id, uint64_t hash)
{
	return (unsigned)((id ^ hash ^ (hash >> 29)) % TX_SETS);
}

/* A copy of a recent query (same ID and question)? Records the query otherwise. */
static bool is_copy(struct iotdns_check_ctx *ctx, struct tx_state *st, uint16_t id, uint16_t qtype, uint64_t hash,
		    uint64_t ts)
{
	uint32_t copy = (uint32_t)(opt(ctx, OPT_COPY_WINDOW) * 1e3);
	uint32_t answered = (uint32_t)(opt(ctx, OPT_RESEND_WINDOW) * 1e3);
	uint32_t now = ms_of(ts), h = (uint32_t)hash;
	struct tx_recent *set = st->recent[set_of(id, hash)], *victim = &set[0];
	for (unsigned i = 0; i < TX_WAYS; i++) {
		struct tx_recent *r = &set[i];
		if (!r->ms) {
			victim = r;
			continue;
		}
		if (victim->ms && (uint32_t)(now - r->ms) > (uint32_t)(now - victim->ms))
			victim = r; /* the oldest */
		if (r->id != id || r->qtype != qtype || r->name_hash != h)
			continue;
		uint32_t age = now - r->ms; /* modular: fine for windows of minutes */
		if (age <= (r->answered ? answered : copy))
			return true;
	}
	victim->name_hash = h;
	victim->ms = now;
	victim->id = id;
	victim->qtype = qtype;
	victim->answered = 0;
	return false;
}

static void on_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst,
		     const struct iotdns_dns_event *ev)
{
	(void)dev;
	struct tx_state *st = vst;
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
	const struct iotdns_dns_msg *m = ev->msg;
	uint64_t h = ev->qname_hash;
	uint32_t sidx = ev->session ? ev->session->idx : UINT32_MAX;
	if (!st->cur.open || st->cur.idx != sidx) {
		sess_close(ctx, st);
		sess_open(st, sidx);
	}
	if (is_copy(ctx, st, m->id, m->qtype, h, p->ts_us)) {
		st->copies++;
		return;
	}

	uint16_t id = m->id;
	unsigned step = (unsigned)opt(ctx, OPT_SEQ_STEP);
	uint64_t pair = (uint64_t)(opt(ctx, OPT_PAIR_WINDOW) * 1e6);
	struct tx_sess *s = &st->cur;
	st->n++;
	iotdns_rnd_moments_add(&st->m, id);
	iotdns_rnd_moments_add(&st->pm, p->sport);
	iotdns_rnd_top_add(&st->top, id, NULL);
	/* the tag is the question and the source port: the same ID for the same
	 * question from the same port is the whole query replayed (a generator
	 * state restored at boot), not a sign of a small set of IDs */
	uint16_t tag = iotdns_rnd_tag(h ^ ((uint64_t)p->sport * 0x9e3779b97f4a7c15ull));
	if (iotdns_rnd_sample_add(&st->sample, id, tag) == 1) /* first repeat of that ID */
		iotdns_rnd_ev_push(st->ev_dup, &st->nev_dup, TX_EV, ev);
	iotdns_rnd_ev_push(st->ev_first, &st->nev_first, TX_EV, ev);

	/* consecutive lookups: the same name within pair-window is one lookup */
	if (s->n && !(s->last_hash == h && p->ts_us >= s->last_us && p->ts_us - s->last_us <= pair)) {
		st->pairs++;
		if (iotdns_rnd_small_step(s->last, id, step)) {
			st->seq++;
			if (st->nev_seq < TX_EV) {
				iotdns_rnd_ev_note(&st->ev_seq[st->nev_seq], ev);
				st->ev_seq[st->nev_seq].prev = s->last;
				st->ev_seq[st->nev_seq].has_prev = true;
				st->nev_seq++;
			}
		}
	}
	if (!s->n) {
		s->first_id = id;
		if (id <= opt(ctx, OPT_RESET_MAX))
			iotdns_rnd_ev_push(st->ev_reset, &st->nev_reset, TX_EV, ev);
		iotdns_rnd_ev_push(st->ev_sfirst, &st->nev_sfirst, TX_EV, ev);
	}
	s->prev_id = s->n ? s->last : (uint16_t)(id + 0x8000); /* none: never a small step */
	s->n++;
	s->last = id;
	s->last_hash = h;
	s->last_us = p->ts_us;
	iotdns_rnd_moments_add(&s->m, id);
	iotdns_rnd_moments_add(&s->pm, p->sport);
	iotdns_rnd_top_add(&s->top, id, NULL);

	struct tx_res *r = res_slot(st, ev->resolver);
	if (!r) {
		st->res_untracked++;
		return;
	}
	iotdns_rnd_moments_add(&r->m, id);
	if (r->has_last && r->last_sess == sidx &&
	    !(r->last_hash == h && p->ts_us >= r->last_us && p->ts_us - r->last_us <= pair)) {
		r->pairs++;
		if (iotdns_rnd_small_step(r->last, id, step)) {
			r->seq++;
			if (st->nev_seq < TX_EV && !iotdns_rnd_small_step(s->prev_id, id, step)) {
				iotdns_rnd_ev_note(&st->ev_seq[st->nev_seq], ev);
				st->ev_seq[st->nev_seq].prev = r->last;
				st->ev_seq[st->nev_seq].has_prev = true;
				st->nev_seq++;
			}
		}
	}
	r->last = id;
	r->last_sess = sidx;
	r->last_hash = h;
	r->last_us = p->ts_us;
	r->has_last = true;
}

/* An answer ends the copy window of its query. */
static void on_response(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst,
			const struct iotdns_dns_event *ev)
{
	(void)ctx;
	(void)dev;
	struct tx_state *st = vst;
	if (ev->proto != IOTDNS_PROTO_DNS || ev->direction != IOTDNS_DIR_TO_DEVICE || ev->transport != IOTDNS_TR_UDP)
		return;
	uint64_t h = ev->qname_hash;
	struct tx_recent *set = st->recent[set_of(ev->msg->id, h)];
	for (unsigned i = 0; i < TX_WAYS; i++)
		if (set[i].ms && set[i].id == ev->msg->id && set[i].name_hash == (uint32_t)h)
			set[i].answered = 1;
}

static void on_session_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst,
			   const struct iotdns_session *sess)
{
	(void)dev;
	struct tx_state *st = vst;
	if (st->cur.open && st->cur.idx == sess->idx)
		sess_close(ctx, st);
}

/* ---- verdicts ---------------------------------------------------------------- */

static void add_metrics(struct iotdns_finding *f, const struct tx_state *st)
{
	double sigma = iotdns_rnd_sigma(&st->m);
	iotdns_finding_u64(f, "draws", st->n);
	iotdns_finding_u64(f, "udp_queries", st->udp_queries);
	iotdns_finding_u64(f, "retransmissions", st->retrans);
	iotdns_finding_u64(f, "copies", st->copies);
	iotdns_finding_u64(f, "sessions", st->first.sessions);
	iotdns_finding_dbl(f, "sigma", sigma);
	iotdns_finding_dbl(f, "bits", iotdns_rnd_bits(sigma));
	iotdns_finding_str(f, "bucket", iotdns_rnd_bucket_name(iotdns_rnd_bucket(sigma)));
	if (st->m.n) {
		iotdns_finding_u64(f, "id_min", st->m.min);
		iotdns_finding_u64(f, "id_max", st->m.max);
	}
	if (st->sample.n)
		iotdns_finding_dbl(f, "distinct_ratio",
				   (double)(st->sample.n - st->sample.collisions) / (double)st->sample.n);
	iotdns_finding_u64(f, "replayed_ids", st->sample.replays);
	iotdns_finding_dbl(f, "seq_fraction", st->pairs ? (double)st->seq / st->pairs : 0);
	if (!st->top.lossy) /* exact only while few values were seen */
		iotdns_finding_dbl(f, "top2_share", st->top.n ? (double)iotdns_rnd_top_cover(&st->top, 2) / st->top.n : 0);
	iotdns_finding_u64(f, "sessions_first_id_low", st->first.low);
	char js[1024], a[IOTDNS_ADDR_TEXT];
	size_t o = 0;
	o += (size_t)snprintf(js + o, sizeof(js) - o, "[");
	for (unsigned i = 0; i < st->nres && o < sizeof(js); i++) {
		const struct tx_res *r = &st->res[i];
		double rs = iotdns_rnd_sigma(&r->m);
		int n = snprintf(js + o, sizeof(js) - o,
				 "%s{\"resolver\":\"%s\",\"draws\":%llu,\"sigma\":%.1f,\"bits\":%.2f,\"seq_fraction\":%.3f}",
				 i ? "," : "", iotdns_addr_str(&r->addr, a), (unsigned long long)r->m.n, rs, iotdns_rnd_bits(rs),
				 r->pairs ? (double)r->seq / r->pairs : 0.0);
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

static void emit_evs(struct iotdns_finding *f, const struct iotdns_rnd_ev *a, uint8_t na)
{
	for (unsigned i = 0; i < na; i++) {
		char note[40] = "";
		if (a[i].has_prev)
			snprintf(note, sizeof(note), "previous ID 0x%04x", a[i].prev);
		iotdns_rnd_ev_emit(f, &a[i], note);
	}
}

static struct iotdns_finding *report(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, const struct tx_state *st,
				     const char *code)
{
	struct iotdns_finding *f = iotdns_finding_new(ctx, dev, code);
	if (f)
		add_metrics(f, st);
	return f;
}

/* Every finding shows packets: the device's first queries when nothing more specific was kept. */
static void ensure_evidence(struct iotdns_finding *f, const struct tx_state *st)
{
	if (f && !f->nev)
		emit_evs(f, st->ev_first, st->nev_first);
}

static void on_device_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *vst)
{
	struct tx_state *st = vst;
	char n1[32], n2[32], a[IOTDNS_ADDR_TEXT];
	sess_close(ctx, st);
	if (!st->udp_queries) {
		if (st->tcp_queries)
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA,
					    "only DNS over TCP (%llu queries): IDs are not exposed to off-path spoofing",
					    (unsigned long long)st->tcp_queries);
		else
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "no unicast DNS queries over UDP");
		return;
	}

	const double min_n = opt(ctx, OPT_MIN_QUERIES);
	const bool enough = (double)st->n >= min_n;
	const double sigma = iotdns_rnd_sigma(&st->m), bits = iotdns_rnd_bits(sigma);
	bool constant = false, seq = false, low = false, other = false;

	/* constant or two-valued, pooled or in most sessions */
	uint32_t top2 = iotdns_rnd_top_cover(&st->top, 2);
	bool sess_const = st->sess_eligible && 2 * st->sess_constant > st->sess_eligible;
	if (enough && (top2 >= opt(ctx, OPT_CONSTANT_SHARE) * st->n || sess_const)) {
		constant = true;
		struct iotdns_finding *f = report(ctx, dev, st, "TXID.CONSTANT");
		int b = iotdns_rnd_top_best(&st->top);
		if (top2 >= opt(ctx, OPT_CONSTANT_SHARE) * st->n && b >= 0)
			iotdns_finding_summary(f, "%s of %s IDs were one of two values (0x%04x in %s queries)",
					       iotdns_rnd_fmt_int(top2, n1), iotdns_rnd_fmt_int((double)st->n, n2),
					       st->top.val[b], iotdns_rnd_fmt_int(st->top.cnt[b], a));
		else
			iotdns_finding_summary(f, "in %u of %u sessions two IDs covered most queries of the session",
					       st->sess_constant, st->sess_eligible);
		if (b >= 0)
			iotdns_finding_u64(f, "top_id", st->top.val[b]);
		emit_evs(f, st->ev_first, st->nev_first);
	}

	/* +1/+2 steps between consecutive lookups, pooled or towards one resolver */
	const struct tx_res *seq_res = NULL;
	double seq_frac = st->pairs ? (double)st->seq / st->pairs : 0;
	if (!constant) {
		if (st->pairs + 1 >= min_n && seq_frac > opt(ctx, OPT_SEQ_FRACTION)) {
			seq = true;
		} else {
			for (unsigned i = 0; i < st->nres; i++) {
				const struct tx_res *r = &st->res[i];
				if (r->pairs + 1 >= min_n && (double)r->seq / r->pairs > opt(ctx, OPT_SEQ_FRACTION)) {
					seq = true;
					seq_res = r;
					break;
				}
			}
		}
	}
	if (seq) {
		struct iotdns_finding *f = report(ctx, dev, st, "TXID.SEQUENTIAL");
		if (seq_res)
			iotdns_finding_summary(f, "%u of %u consecutive queries to %s stepped the ID by +1..+%u",
					       seq_res->seq, seq_res->pairs, iotdns_addr_str(&seq_res->addr, a),
					       (unsigned)opt(ctx, OPT_SEQ_STEP));
		else
			iotdns_finding_summary(f, "%s of %s consecutive lookups in a session stepped the ID by +1..+%u "
					       "(sigma=%s, %s)", iotdns_rnd_fmt_int(st->seq, n1),
					       iotdns_rnd_fmt_int(st->pairs, n2), (unsigned)opt(ctx, OPT_SEQ_STEP),
					       iotdns_rnd_fmt_int(sigma, a), iotdns_rnd_bucket_name(iotdns_rnd_bucket(sigma)));
		iotdns_finding_u64(f, "seq_steps", seq_res ? seq_res->seq : st->seq);
		iotdns_finding_u64(f, "pairs", seq_res ? seq_res->pairs : st->pairs);
		emit_evs(f, st->ev_seq, st->nev_seq);
		ensure_evidence(f, st);
	}

	/* the counter restarts every session (needs sessions, not many queries) */
	uint16_t fv = 0;
	uint32_t fc = 0;
	bool low_first = st->first.sessions >= opt(ctx, OPT_RESET_SESSIONS) && st->first.low >= 2 &&
			 st->first.low > opt(ctx, OPT_RESET_SHARE) * st->first.sessions;
	bool same_first = iotdns_rnd_first_repeats(&st->first, (uint32_t)opt(ctx, OPT_RESET_SESSIONS),
						   opt(ctx, OPT_RESET_SHARE), &fv, &fc);
	if (!constant && (low_first || same_first)) {
		other = true;
		struct iotdns_finding *f = report(ctx, dev, st, "TXID.RESET_PER_SESSION");
		if (low_first)
			iotdns_finding_summary(f, "the first query of %u of %u sessions carried ID <= %u",
					       st->first.low, st->first.sessions, (unsigned)opt(ctx, OPT_RESET_MAX));
		else
			iotdns_finding_summary(f, "the first query of %u of %u sessions carried the same ID 0x%04x", fc,
					       st->first.sessions, fv);
		if (same_first) {
			iotdns_finding_u64(f, "first_id", fv);
			iotdns_finding_u64(f, "sessions_same_first_id", fc);
		}
		if (low_first)
			emit_evs(f, st->ev_reset, st->nev_reset);
		else
			emit_evs(f, st->ev_sfirst, st->nev_sfirst);
		ensure_evidence(f, st);
	}

	/* the spread of the IDs, when nothing above explains it */
	bool sess_poor = st->sess_eligible && 2 * st->sess_poor > st->sess_eligible;
	const struct tx_res *low_res = NULL;
	if (enough && !constant && !seq) {
		for (unsigned i = 0; sigma >= opt(ctx, OPT_POOR_SIGMA) && !sess_poor && i < st->nres; i++)
			if ((double)st->res[i].m.n >= min_n && iotdns_rnd_sigma(&st->res[i].m) < opt(ctx, OPT_POOR_SIGMA))
				low_res = &st->res[i];
		if (sigma < opt(ctx, OPT_POOR_SIGMA) || sess_poor || low_res) {
			low = true;
			struct iotdns_finding *f = report(ctx, dev, st, "TXID.LOW_ENTROPY");
			if (sigma < opt(ctx, OPT_POOR_SIGMA))
				iotdns_finding_summary(f, "sigma=%s (%.1f bits, poor) over %s IDs; IDs 0x%04x-0x%04x",
						       iotdns_rnd_fmt_int(sigma, n1), bits, iotdns_rnd_fmt_int((double)st->n, n2),
						       st->m.min, st->m.max);
			else if (sess_poor)
				iotdns_finding_summary(f, "sigma within a session was poor in %u of %u sessions, although pooled "
						       "sigma=%s", st->sess_poor, st->sess_eligible, iotdns_rnd_fmt_int(sigma, n1));
			else
				iotdns_finding_summary(f, "sigma=%s over %llu IDs sent to %s (poor)",
						       iotdns_rnd_fmt_int(iotdns_rnd_sigma(&low_res->m), n1),
						       (unsigned long long)low_res->m.n, iotdns_addr_str(&low_res->addr, a));
			emit_evs(f, st->ev_first, st->nev_first);
		}
	}

	/* birthday test: more repeats than a uniform draw with this spread gives */
	struct iotdns_rnd_birthday bd;
	iotdns_rnd_birthday(&st->sample, sigma * sqrt(12.0), &bd);
	if (enough && !constant && !seq && !low && !other && bd.k >= min_n && bd.p < opt(ctx, OPT_BIRTHDAY_P)) {
		other = true;
		struct iotdns_finding *f = report(ctx, dev, st, "TXID.DUPLICATES");
		iotdns_finding_summary(f, "%u different IDs came back among the first %u (%.1f expected from their spread): "
				       "about %s distinct values in use", bd.observed, bd.k, bd.expected,
				       iotdns_rnd_fmt_int(bd.n_eff, n1));
		iotdns_finding_u64(f, "sample", bd.k);
		iotdns_finding_u64(f, "repeated_values", bd.observed);
		iotdns_finding_u64(f, "collisions", bd.collisions);
		iotdns_finding_dbl(f, "expected_repeated_values", bd.expected);
		iotdns_finding_dbl(f, "p", bd.p);
		iotdns_finding_dbl(f, "effective_values", bd.n_eff);
		emit_evs(f, st->ev_dup, st->nev_dup);
		ensure_evidence(f, st);
	}

	/* combined port + ID entropy per session, when neither alone explains it */
	double comb = 0, pbits = 0, ibits = 0;
	bool entropy_known = false, entropy_low = false;
	if (st->sess_entropy_eval) {
		entropy_known = true;
		comb = st->entropy_sum / st->sess_entropy_eval;
		pbits = st->entropy_port_sum / st->sess_entropy_eval;
		ibits = st->entropy_id_sum / st->sess_entropy_eval;
		entropy_low = 2 * st->sess_entropy_low > st->sess_entropy_eval;
	} else if (enough && !st->sess_port_weak) {
		/* no session long enough: pooled */
		pbits = iotdns_rnd_bits(iotdns_rnd_sigma(&st->pm));
		ibits = bits;
		comb = pbits + ibits;
		if (pbits >= opt(ctx, OPT_ENTROPY_PORT_BITS)) {
			entropy_known = true;
			entropy_low = comb < opt(ctx, OPT_ENTROPY_BITS);
		}
	}
	if (enough && entropy_known && entropy_low && !constant && !seq && !low && !other) {
		struct iotdns_finding *f = report(ctx, dev, st, "ENTROPY.LOW");
		if (st->sess_entropy_eval)
			iotdns_finding_summary(f, "port + ID gave %.1f bits per session on average (%.1f + %.1f; below %.0f in "
					       "%u of %u sessions)", comb, pbits, ibits, opt(ctx, OPT_ENTROPY_BITS),
					       st->sess_entropy_low, st->sess_entropy_eval);
		else
			iotdns_finding_summary(f, "port + ID gave %.1f bits (%.1f + %.1f) over %llu queries", comb, pbits,
					       ibits, (unsigned long long)st->n);
		iotdns_finding_dbl(f, "combined_bits", comb);
		iotdns_finding_dbl(f, "port_bits", pbits);
		iotdns_finding_dbl(f, "id_bits", ibits);
		iotdns_finding_u64(f, "sessions_low", st->sess_entropy_low);
		iotdns_finding_u64(f, "sessions_evaluated", st->sess_entropy_eval);
		emit_evs(f, st->ev_first, st->nev_first);
	}

	char ent[64];
	if (entropy_known)
		snprintf(ent, sizeof(ent), "port+ID %.1f bits", comb);
	else if (st->sess_port_weak || (enough && pbits < opt(ctx, OPT_ENTROPY_PORT_BITS)))
		snprintf(ent, sizeof(ent), "port+ID not rated (ports weak)");
	else
		snprintf(ent, sizeof(ent), "port+ID not rated");
	if (dev->chk_result && dev->chk_result[ctx->slot].nfindings) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_FAIL,
				    "sigma=%s (%.1f bits, %s) over %s IDs in %u sessions; %u of %u steps +1..+%u",
				    iotdns_rnd_fmt_int(sigma, n1), bits, iotdns_rnd_bucket_name(iotdns_rnd_bucket(sigma)),
				    iotdns_rnd_fmt_int((double)st->n, n2), st->first.sessions, st->seq, st->pairs,
				    (unsigned)opt(ctx, OPT_SEQ_STEP));
		return;
	}
	if (!enough) {
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
				    "%llu of %.0f queries needed (%llu UDP queries, %llu retransmissions, %llu copies)",
				    (unsigned long long)st->n, min_n, (unsigned long long)st->udp_queries,
				    (unsigned long long)st->retrans, (unsigned long long)st->copies);
		return;
	}
	iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS,
			    "sigma=%s (%.1f bits, %s) over %s IDs in %u sessions; %u of %u steps +1..+%u; %u repeated, %u replayed IDs; %s",
			    iotdns_rnd_fmt_int(sigma, n1), bits, iotdns_rnd_bucket_name(iotdns_rnd_bucket(sigma)),
			    iotdns_rnd_fmt_int((double)st->n, n2), st->first.sessions, st->seq, st->pairs,
			    (unsigned)opt(ctx, OPT_SEQ_STEP), bd.observed, (unsigned)st->sample.replays, ent);
}

const struct iotdns_checker iotdns_chk_txid_randomization = {
	.api = IOTDNS_CHECKER_API,
	.id = "txid-randomization",
	.summary = "DNS transaction-ID randomization and combined port+ID entropy (RFC 5452)",
	.kinds = kinds,
	.opts = opts,
	.dev_state_size = sizeof(struct tx_state),
	.on_query = on_query,
	.on_response = on_response,
	.on_session_end = on_session_end,
	.on_device_end = on_device_end,
};

/* iotdns - statistics shared by the randomization checks (port-randomization,
 * txid-randomization; docs/checks/port-randomization.md, txid-randomization.md).
 *
 * Everything here works on 16-bit values (UDP source ports, DNS IDs), keeps
 * fixed-size state and never allocates, so a checker can embed it in its
 * per-device state:
 *   - running moments: population σ, "bits" = log2(σ·√12) and the DNS-OARC
 *     porttest buckets the draft's authors use (σ ≥ 3980 great, 296–3980
 *     good, < 296 poor);
 *   - small steps mod 65536 (sequential counters);
 *   - heavy hitters (a Misra–Gries summary): constant, two-valued or
 *     few-valued sources, the port a session reuses;
 *   - a birthday-test sample: more repeated values than a uniform source of
 *     the observed spread would give (few distinct values spread wide);
 *   - first value of each session (counters restarting at 0/1/2, or at the
 *     same value, after every boot);
 *   - the port-range signature of the allocator (Linux 32768–60999,
 *     RFC 6335 49152–65535, full 1024–65535).
 *   - compact evidence records, formatted only when a finding is reported.
 */
#ifndef IOTDNS_CHECKS_RANDOMNESS_H
#define IOTDNS_CHECKS_RANDOMNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "iotdns/checker.h"
#include "iotdns/finding.h"

/* The DNS-OARC porttest buckets (also used by the draft's authors). */
#define IOTDNS_RND_GREAT_SIGMA 3980.0
#define IOTDNS_RND_POOR_SIGMA 296.0

/* ---- running moments ---------------------------------------------------- */

/* Exact integer sums of the differences from the first value (no division
 * per value, no rounding: a constant source has σ exactly 0). The squares
 * cannot overflow before 2^32 values; the sums stop there (a frozen sample
 * of four billion values is as good as the rest). */
struct iotdns_rnd_moments {
	uint64_t n;
	int64_t sum;       /* Σ (v − ref) */
	uint64_t sq;       /* Σ (v − ref)² */
	uint16_t ref;      /* the first value */
	uint16_t min, max; /* valid when n > 0 */
};

#define IOTDNS_RND_MOMENTS_MAX 4294967295ull

static inline void iotdns_rnd_moments_add(struct iotdns_rnd_moments *m, uint16_t v)
{
	if (m->n >= IOTDNS_RND_MOMENTS_MAX)
		return;
	if (!m->n) {
		m->ref = m->min = m->max = v;
	} else {
		if (v < m->min)
			m->min = v;
		if (v > m->max)
			m->max = v;
	}
	int64_t d = (int64_t)v - m->ref;
	m->n++;
	m->sum += d;
	m->sq += (uint64_t)(d * d);
}
/* Population standard deviation; 0 when n == 0. */
double iotdns_rnd_sigma(const struct iotdns_rnd_moments *m);
/* log2(σ·√12): the entropy of a uniform source with that σ, in bits; 0 when
 * σ·√12 <= 1 (a constant source). */
double iotdns_rnd_bits(double sigma);
/* Width of the range the values seem drawn from: (max − min + 1) stretched by
 * (n + 1)/(n − 1) (unbiased for a uniform draw), at most 65536; 0 when n < 2. */
double iotdns_rnd_range_width(const struct iotdns_rnd_moments *m);

enum iotdns_rnd_bucket {
	IOTDNS_RND_NONE = 0,  /* σ < 1: constant */
	IOTDNS_RND_POOR = 1,  /* σ < 296 */
	IOTDNS_RND_GOOD = 2,  /* 296 <= σ < 3980 */
	IOTDNS_RND_GREAT = 3, /* σ >= 3980 */
};
enum iotdns_rnd_bucket iotdns_rnd_bucket(double sigma);
const char *iotdns_rnd_bucket_name(enum iotdns_rnd_bucket b); /* "none", "poor", "good", "great" */

/* ---- steps ---------------------------------------------------------------- */

/* (cur − prev) mod 65536. */
static inline uint16_t iotdns_rnd_delta(uint16_t prev, uint16_t cur)
{
	return (uint16_t)(cur - prev);
}

/* 0 < (cur − prev) mod 65536 <= max_step: a counter's step (wraps around). */
static inline bool iotdns_rnd_small_step(uint16_t prev, uint16_t cur, unsigned max_step)
{
	uint16_t d = iotdns_rnd_delta(prev, cur);
	return d != 0 && d <= max_step;
}

/* ---- heavy hitters ---------------------------------------------------------- */

#define IOTDNS_RND_TOP_K 8

/* Misra–Gries summary with IOTDNS_RND_TOP_K counters. Exact while at most K
 * distinct values were added (lossy false); otherwise every count is a lower
 * bound, at most n/(K+1) below the true count, so shares computed from it
 * never overstate a value. Slots are stable: a value keeps its slot until its
 * counter drops to 0, so callers may keep parallel per-slot data. */
struct iotdns_rnd_top {
	uint32_t n;                     /* values added */
	uint8_t used;                   /* slots in use (cnt > 0) */
	bool lossy;
	uint16_t val[IOTDNS_RND_TOP_K];
	uint32_t cnt[IOTDNS_RND_TOP_K]; /* 0 = free slot */
};

/* Counts v. Returns its slot, or -1 when it was not kept (summary full: all
 * counters decremented). *fresh (may be NULL) is set when the slot is new. */
int iotdns_rnd_top_add(struct iotdns_rnd_top *t, uint16_t v, bool *fresh);
/* The slot with the largest count, or -1 when empty. */
int iotdns_rnd_top_best(const struct iotdns_rnd_top *t);
/* Sum of the m largest counts (a lower bound of how many values the m most
 * frequent ones cover). */
uint32_t iotdns_rnd_top_cover(const struct iotdns_rnd_top *t, unsigned m);
/* Smallest number of values (at most K) whose counts cover at least
 * share·n values; 0 when even K do not (or n == 0). */
unsigned iotdns_rnd_top_values_for(const struct iotdns_rnd_top *t, double share);

/* ---- birthday test ---------------------------------------------------------- */

#define IOTDNS_RND_SAMPLE 256

/* The first IOTDNS_RND_SAMPLE values, with the number of repeats among them:
 * collisions (values added − distinct values) and repeated values (distinct
 * values seen at least twice). The test uses repeated values: one value that
 * comes back again and again counts once, while a generator with a small set
 * of outputs repeats many values. Each value may carry a tag (a hash of the
 * question and source port, never 0): a value that comes back with the same
 * tag is a replay of an earlier query (the same ID for the same name from the
 * same port, e.g. a generator whose state is restored at boot), counted in
 * replays and kept out of the sample, because it says nothing about the size
 * of the set of values. */
struct iotdns_rnd_sample {
	uint16_t n;
	uint16_t collisions;
	uint16_t repeated;
	uint32_t replays;
	uint64_t seen[16];                /* 1,024-bit filter of the values in e[] */
	struct {
		uint16_t v, tag;
	} e[IOTDNS_RND_SAMPLE];
};

/* A 16-bit tag of a 64-bit hash (never 0). */
static inline uint16_t iotdns_rnd_tag(uint64_t hash)
{
	return (uint16_t)((hash ^ (hash >> 16) ^ (hash >> 32) ^ (hash >> 48)) | 1);
}

#define IOTDNS_RND_FULL (-1)
#define IOTDNS_RND_REPLAY (-2)
/* Adds v (with tag, 0 = none) while the sample has room. Returns how many
 * times v was already in the sample with another tag (0 = new, 1 = first
 * repeat), IOTDNS_RND_REPLAY when it was there with the same tag (not added),
 * or IOTDNS_RND_FULL when the sample is full (not added). */
int iotdns_rnd_sample_add(struct iotdns_rnd_sample *s, uint16_t v, uint16_t tag);

/* Expected collisions of k uniform draws from N values: k − N(1 − (1 − 1/N)^k). */
double iotdns_rnd_expected_collisions(double k, double N);
/* Expected number of values drawn at least twice in k uniform draws from N:
 * N(1 − (1 − 1/N)^k − (k/N)(1 − 1/N)^(k−1)). */
double iotdns_rnd_expected_repeated(double k, double N);
/* Poisson upper tail P(X >= x) for mean lambda (computed from the tail
 * terms, so tiny probabilities keep their precision). */
double iotdns_rnd_poisson_sf(double lambda, unsigned x);

struct iotdns_rnd_birthday {
	uint32_t k;          /* values in the sample */
	uint32_t observed;   /* repeated values */
	uint32_t collisions;
	double space;        /* N the expectation was computed for */
	double expected;     /* expected repeated values from N */
	double p;            /* P(repeated >= observed) under a uniform draw from N (Poisson) */
	double n_eff;        /* number of equally likely values that explains the
				observed repeated values (65536 when there are none) */
};
/* Compares the sample's repeated values with a uniform draw from N values. */
void iotdns_rnd_birthday(const struct iotdns_rnd_sample *s, double N, struct iotdns_rnd_birthday *out);

/* ---- first value per session ------------------------------------------------- */

/* The first value of every session: how many sessions started with a value
 * <= low_max (a counter restarting at 0/1/2), and which first value repeats.
 * Under a uniform source two sessions start with the same value with
 * probability 1/N per pair, and with a value <= 2 with probability 3/65536. */
struct iotdns_rnd_first {
	uint32_t sessions;        /* sessions with a first value */
	uint32_t low;             /* of those, first value <= low_max */
	struct iotdns_rnd_top top;
};

void iotdns_rnd_first_add(struct iotdns_rnd_first *f, uint16_t v, unsigned low_max);
/* The most common first value when it started at least min_sessions sessions
 * and more than share of them; returns false otherwise. */
bool iotdns_rnd_first_repeats(const struct iotdns_rnd_first *f, uint32_t min_sessions, double share,
			      uint16_t *val, uint32_t *count);

/* ---- port-range signature ------------------------------------------------------ */

enum iotdns_rnd_range {
	IOTDNS_RANGE_UNKNOWN = 0, /* fewer than IOTDNS_RND_RANGE_MIN_N values */
	IOTDNS_RANGE_LINUX,       /* 32768–60999 (ip_local_port_range; 61000 on old kernels) */
	IOTDNS_RANGE_RFC6335,     /* 49152–65535: IANA dynamic range (Windows, Apple, lwIP) */
	IOTDNS_RANGE_FULL,        /* 1024–65535 */
	IOTDNS_RANGE_OTHER,       /* anything else: see min and max */
};
#define IOTDNS_RND_RANGE_MIN_N 20

/* The range the values fit: inside it, and reaching close enough to both
 * ends that a uniform draw of n values would rarely stop further away
 * (gap <= 7·width/n, i.e. probability about e^-7 per end). */
enum iotdns_rnd_range iotdns_rnd_port_range(const struct iotdns_rnd_moments *m);
const char *iotdns_rnd_range_name(enum iotdns_rnd_range r); /* "linux", "rfc6335", "full", "other", "unknown" */

/* ---- evidence ------------------------------------------------------------------ */

#define IOTDNS_RND_EV_NAME 39

/* A compact copy of one query, turned into a struct iotdns_evidence only
 * when a finding needs it (keeps per-device state small). */
struct iotdns_rnd_ev {
	uint64_t pktno;      /* 0 = empty */
	uint64_t ts_us;
	uint32_t input;
	uint32_t session;    /* session index */
	uint16_t port, id, qtype;
	uint16_t prev;       /* previous value (port or ID) when has_prev */
	struct iotdns_addr resolver;  /* family 0 = unknown (a copy: the engine may move resolver records) */
	char name[IOTDNS_RND_EV_NAME]; /* truncated with "..." */
	bool has_prev;
};

/* Records the query of ev (a unicast query event). */
void iotdns_rnd_ev_note(struct iotdns_rnd_ev *e, const struct iotdns_dns_event *ev);
/* Appends the query of ev to an array of cap records if there is room (the
 * check is inline: free once the array is full). */
static inline void iotdns_rnd_ev_push(struct iotdns_rnd_ev *arr, uint8_t *n, uint8_t cap,
				      const struct iotdns_dns_event *ev)
{
	if (*n < cap)
		iotdns_rnd_ev_note(&arr[(*n)++], ev);
}
/* Adds e to the finding as "query 0x1a2b NAME A from port P to ADDR (session S)"
 * with an optional note appended ("", "step +1"), unless that packet is
 * already in its evidence. */
void iotdns_rnd_ev_emit(struct iotdns_finding *f, const struct iotdns_rnd_ev *e, const char *note);

/* "18,020" style thousands separators for summaries (buf >= 32). */
const char *iotdns_rnd_fmt_int(double v, char buf[32]);

#endif

/* Statistics shared by the randomization checks (src/checks/randomness.c):
 * σ and bits, the porttest buckets, steps mod 65536, heavy hitters, the
 * birthday test (with replays kept out), first values per session, port-range
 * signatures, number formatting. */
#include <math.h>
#include <stdint.h>

#include "harness.h"
#include "src/checks/randomness.h"

/* xorshift32: a deterministic uniform source for the tests */
static uint32_t rng_state = 2463534242u;
static uint32_t rnd32(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}
static uint16_t rnd_in(unsigned lo, unsigned hi)
{
	return (uint16_t)(lo + rnd32() % (hi - lo + 1));
}

static bool near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

static void t_moments(void)
{
	struct iotdns_rnd_moments m = { 0 };
	CHECK(iotdns_rnd_sigma(&m) == 0);
	CHECK(iotdns_rnd_range_width(&m) == 0);
	/* 2, 4, 4, 4, 5, 5, 7, 9: population σ = 2 */
	const uint16_t v[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	for (unsigned i = 0; i < 8; i++)
		iotdns_rnd_moments_add(&m, v[i]);
	CHECK_EQ_INT(m.n, 8);
	CHECK(near(iotdns_rnd_sigma(&m), 2.0, 1e-9));
	CHECK_EQ_INT(m.min, 2);
	CHECK_EQ_INT(m.max, 9);
	/* width: (9 - 2 + 1) * 9/7 */
	CHECK(near(iotdns_rnd_range_width(&m), 8.0 * 9 / 7, 1e-9));

	/* a constant source */
	struct iotdns_rnd_moments c = { 0 };
	for (unsigned i = 0; i < 100; i++)
		iotdns_rnd_moments_add(&c, 4096);
	CHECK(iotdns_rnd_sigma(&c) == 0);
	CHECK(iotdns_rnd_bits(iotdns_rnd_sigma(&c)) == 0);
	CHECK(iotdns_rnd_bucket(iotdns_rnd_sigma(&c)) == IOTDNS_RND_NONE);

	/* uniform over the Linux range: σ about 28232/√12 = 8150, 14.8 bits */
	struct iotdns_rnd_moments u = { 0 };
	for (unsigned i = 0; i < 20000; i++)
		iotdns_rnd_moments_add(&u, rnd_in(32768, 60999));
	double s = iotdns_rnd_sigma(&u);
	CHECK(near(s, 8150, 120));
	CHECK(near(iotdns_rnd_bits(s), 14.78, 0.03));
	CHECK(iotdns_rnd_bucket(s) == IOTDNS_RND_GREAT);
	CHECK(near(iotdns_rnd_range_width(&u), 28232, 40));
	/* uniform over 16 bits: about 18,919, 16 bits */
	struct iotdns_rnd_moments f = { 0 };
	for (unsigned i = 0; i < 20000; i++)
		iotdns_rnd_moments_add(&f, (uint16_t)rnd32());
	CHECK(near(iotdns_rnd_bits(iotdns_rnd_sigma(&f)), 16.0, 0.03));
}

static void t_buckets(void)
{
	CHECK(iotdns_rnd_bucket(0.5) == IOTDNS_RND_NONE);
	CHECK(iotdns_rnd_bucket(295.9) == IOTDNS_RND_POOR);
	CHECK(iotdns_rnd_bucket(296) == IOTDNS_RND_GOOD);
	CHECK(iotdns_rnd_bucket(3979.9) == IOTDNS_RND_GOOD);
	CHECK(iotdns_rnd_bucket(3980) == IOTDNS_RND_GREAT);
	CHECK_EQ_STR(iotdns_rnd_bucket_name(IOTDNS_RND_POOR), "poor");
	CHECK_EQ_STR(iotdns_rnd_bucket_name(IOTDNS_RND_GREAT), "great");
	/* bits = log2(σ√12): σ 296 is 10.0 bits, 3980 is 13.75 */
	CHECK(near(iotdns_rnd_bits(296), 10.0, 0.01));
	CHECK(near(iotdns_rnd_bits(3980), 13.75, 0.01));
}

static void t_steps(void)
{
	CHECK_EQ_INT(iotdns_rnd_delta(10, 11), 1);
	CHECK_EQ_INT(iotdns_rnd_delta(65535, 0), 1);  /* wraps */
	CHECK_EQ_INT(iotdns_rnd_delta(11, 10), 65535);
	CHECK(iotdns_rnd_small_step(65535, 1, 2));
	CHECK(!iotdns_rnd_small_step(5, 5, 2));      /* 0 is not a step */
	CHECK(!iotdns_rnd_small_step(5, 8, 2));
	CHECK(iotdns_rnd_small_step(49152, 49168, 16));
	CHECK(!iotdns_rnd_small_step(49152, 49169, 16));
	CHECK(!iotdns_rnd_small_step(11, 10, 16));   /* backwards is far */
}

static void t_top(void)
{
	struct iotdns_rnd_top t = { 0 };
	bool fresh = false;
	CHECK(iotdns_rnd_top_best(&t) < 0);
	CHECK_EQ_INT(iotdns_rnd_top_values_for(&t, 0.5), 0);
	int s = iotdns_rnd_top_add(&t, 4096, &fresh);
	CHECK(s >= 0 && fresh);
	CHECK_EQ_INT(iotdns_rnd_top_add(&t, 4096, &fresh), s);
	CHECK(!fresh);
	for (unsigned i = 0; i < 6; i++)
		iotdns_rnd_top_add(&t, 4096, NULL);
	iotdns_rnd_top_add(&t, 5000, NULL);
	iotdns_rnd_top_add(&t, 5000, NULL);
	/* 8 x 4096, 2 x 5000: exact */
	CHECK(!t.lossy);
	int b = iotdns_rnd_top_best(&t);
	CHECK(b >= 0 && t.val[b] == 4096 && t.cnt[b] == 8);
	CHECK_EQ_INT(iotdns_rnd_top_cover(&t, 1), 8);
	CHECK_EQ_INT(iotdns_rnd_top_cover(&t, 2), 10);
	CHECK_EQ_INT(iotdns_rnd_top_values_for(&t, 0.8), 1);
	CHECK_EQ_INT(iotdns_rnd_top_values_for(&t, 0.9), 2);

	/* many distinct values: lossy, counts are lower bounds, a frequent value survives */
	struct iotdns_rnd_top l = { 0 };
	for (unsigned i = 0; i < 1000; i++) {
		iotdns_rnd_top_add(&l, (uint16_t)(1000 + i), NULL);
		if (i % 2 == 0)
			iotdns_rnd_top_add(&l, 7, NULL);
	}
	CHECK(l.lossy);
	CHECK_EQ_INT(l.n, 1500);
	b = iotdns_rnd_top_best(&l);
	CHECK(b >= 0 && l.val[b] == 7);
	CHECK(b >= 0 && l.cnt[b] <= 500 && l.cnt[b] >= 500 - 1500 / (IOTDNS_RND_TOP_K + 1));
	/* no ten values cover 80% of uniform random values */
	struct iotdns_rnd_top r = { 0 };
	for (unsigned i = 0; i < 500; i++)
		iotdns_rnd_top_add(&r, rnd_in(32768, 60999), NULL);
	CHECK_EQ_INT(iotdns_rnd_top_values_for(&r, 0.8), 0);
	CHECK(iotdns_rnd_top_cover(&r, 2) < 10);
}

static void t_birthday(void)
{
	/* expectations */
	CHECK(near(iotdns_rnd_expected_collisions(256, 65536), 256.0 * 255 / 2 / 65536, 0.01));
	CHECK(near(iotdns_rnd_expected_repeated(256, 65536), 256.0 * 255 / 2 / 65536, 0.01));
	CHECK(near(iotdns_rnd_expected_collisions(10, 1), 9, 1e-9));
	/* 256 draws from 256 values: 256 (1 - 2/e) repeated values */
	CHECK(near(iotdns_rnd_expected_repeated(256, 256), 256 * (1 - exp(-1) - exp(-1)), 1.0));
	/* Poisson tail */
	CHECK(near(iotdns_rnd_poisson_sf(2.0, 0), 1, 1e-12));
	CHECK(near(iotdns_rnd_poisson_sf(2.0, 1), 1 - exp(-2), 1e-12));
	CHECK(near(iotdns_rnd_poisson_sf(2.0, 3), 1 - exp(-2) * (1 + 2 + 2), 1e-12));
	CHECK(iotdns_rnd_poisson_sf(0.5, 20) > 0 && iotdns_rnd_poisson_sf(0.5, 20) < 1e-20);
	CHECK(iotdns_rnd_poisson_sf(0, 1) == 0);

	/* uniform 16-bit IDs: few repeats, p not small */
	struct iotdns_rnd_sample u = { 0 };
	for (unsigned i = 0; i < 300; i++)
		iotdns_rnd_sample_add(&u, (uint16_t)rnd32(), (uint16_t)(i | 1));
	CHECK_EQ_INT(u.n, IOTDNS_RND_SAMPLE);
	CHECK_EQ_INT(iotdns_rnd_sample_add(&u, 1, 1), IOTDNS_RND_FULL);
	struct iotdns_rnd_birthday bd;
	iotdns_rnd_birthday(&u, 65536, &bd);
	CHECK(bd.k == IOTDNS_RND_SAMPLE && bd.observed <= 4);
	CHECK(bd.p > 1e-3);

	/* 256 values spread over the whole range (multiples of 256): σ looks
	 * great, the repeats give it away */
	struct iotdns_rnd_sample w = { 0 };
	struct iotdns_rnd_moments m = { 0 };
	for (unsigned i = 0; i < 200; i++) {
		uint16_t v = (uint16_t)((rnd32() & 0xff) << 8);
		iotdns_rnd_sample_add(&w, v, (uint16_t)((i << 1) | 1));
		iotdns_rnd_moments_add(&m, v);
	}
	CHECK(iotdns_rnd_bucket(iotdns_rnd_sigma(&m)) == IOTDNS_RND_GREAT);
	iotdns_rnd_birthday(&w, iotdns_rnd_sigma(&m) * sqrt(12.0), &bd);
	CHECK(bd.observed > 30);
	CHECK(bd.p < 1e-12);
	CHECK(bd.n_eff > 100 && bd.n_eff < 600);

	/* one value repeated again and again counts once */
	struct iotdns_rnd_sample one = { 0 };
	for (unsigned i = 0; i < 100; i++)
		iotdns_rnd_sample_add(&one, (i % 4 == 0) ? 1 : (uint16_t)rnd32(), (uint16_t)((i << 1) | 1));
	CHECK(one.repeated <= 3);
	CHECK(one.collisions >= 24);
	/* the same value with the same tag is a replay, kept out of the sample */
	struct iotdns_rnd_sample r = { 0 };
	CHECK_EQ_INT(iotdns_rnd_sample_add(&r, 0x4982, 77), 0);
	CHECK_EQ_INT(iotdns_rnd_sample_add(&r, 0x4982, 77), IOTDNS_RND_REPLAY);
	CHECK_EQ_INT(iotdns_rnd_sample_add(&r, 0x4982, 79), 1);
	CHECK_EQ_INT(iotdns_rnd_sample_add(&r, 0x4982, 81), 2);
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_INT(r.replays, 1);
	CHECK_EQ_INT(r.repeated, 1);
	CHECK_EQ_INT(r.collisions, 2);
	CHECK(iotdns_rnd_tag(0) != 0);
}

static void t_first(void)
{
	struct iotdns_rnd_first f = { 0 };
	uint16_t v = 0;
	uint32_t c = 0;
	iotdns_rnd_first_add(&f, 2, 2);
	CHECK(!iotdns_rnd_first_repeats(&f, 2, 0.5, &v, &c)); /* one session says nothing */
	iotdns_rnd_first_add(&f, 2, 2);
	CHECK(iotdns_rnd_first_repeats(&f, 2, 0.5, &v, &c));
	CHECK_EQ_INT(v, 2);
	CHECK_EQ_INT(c, 2);
	CHECK_EQ_INT(f.low, 2);
	iotdns_rnd_first_add(&f, 40000, 2);
	iotdns_rnd_first_add(&f, 41000, 2);
	/* 2 of 4 is not more than half */
	CHECK(!iotdns_rnd_first_repeats(&f, 2, 0.5, &v, &c));
	CHECK_EQ_INT(f.sessions, 4);
	CHECK_EQ_INT(f.low, 2);
	/* random first values do not repeat */
	struct iotdns_rnd_first r = { 0 };
	for (unsigned i = 0; i < 50; i++)
		iotdns_rnd_first_add(&r, (uint16_t)rnd32(), 2);
	CHECK(!iotdns_rnd_first_repeats(&r, 2, 0.5, NULL, NULL));
}

static void fill(struct iotdns_rnd_moments *m, unsigned n, unsigned lo, unsigned hi)
{
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < n; i++)
		iotdns_rnd_moments_add(m, rnd_in(lo, hi));
}

static void t_ranges(void)
{
	struct iotdns_rnd_moments m;
	fill(&m, 10, 32768, 60999);
	CHECK(iotdns_rnd_port_range(&m) == IOTDNS_RANGE_UNKNOWN);
	fill(&m, 200, 32768, 60999);
	CHECK(iotdns_rnd_port_range(&m) == IOTDNS_RANGE_LINUX);
	fill(&m, 200, 32768, 61000); /* old kernels */
	CHECK(iotdns_rnd_port_range(&m) == IOTDNS_RANGE_LINUX);
	fill(&m, 200, 49152, 65535);
	CHECK(iotdns_rnd_port_range(&m) == IOTDNS_RANGE_RFC6335);
	fill(&m, 300, 1024, 65535);
	CHECK(iotdns_rnd_port_range(&m) == IOTDNS_RANGE_FULL);
	/* inside the Linux range but never below 41000: not Linux */
	fill(&m, 500, 41000, 61000);
	CHECK(iotdns_rnd_port_range(&m) == IOTDNS_RANGE_OTHER);
	fill(&m, 100, 5000, 8000);
	CHECK(iotdns_rnd_port_range(&m) == IOTDNS_RANGE_OTHER);
	CHECK_EQ_STR(iotdns_rnd_range_name(IOTDNS_RANGE_RFC6335), "rfc6335");
	CHECK_EQ_STR(iotdns_rnd_range_name(IOTDNS_RANGE_UNKNOWN), "unknown");
}

static void t_fmt(void)
{
	char b[32];
	CHECK_EQ_STR(iotdns_rnd_fmt_int(18020.4, b), "18,020");
	CHECK_EQ_STR(iotdns_rnd_fmt_int(4, b), "4");
	CHECK_EQ_STR(iotdns_rnd_fmt_int(1234567, b), "1,234,567");
	CHECK_EQ_STR(iotdns_rnd_fmt_int(999, b), "999");
}

int main(void)
{
	t_moments();
	t_buckets();
	t_steps();
	t_top();
	t_birthday();
	t_first();
	t_ranges();
	t_fmt();
	return tap_done();
}

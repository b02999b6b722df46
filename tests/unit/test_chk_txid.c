/* txid-randomization: the checker driven through a real engine with frames
 * (tests/unit/pktbuild.h). Random IDs pass, with copies (the same query to a
 * second resolver, retries with the same ID, early and late), A and AAAA with
 * ID and ID+1, and a replayed query sequence; constant, two-valued,
 * sequential (with a good pooled σ), restarting, poor-σ and few-valued IDs
 * fail with their code; ENTROPY.LOW only when the combination is the problem
 * (not with a fixed port, which is port-randomization's); thin evidence is
 * insufficient; options are honoured. */
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "iotdns/engine.h"
#include "iotdns/finding.h"
#include "pktbuild.h"

extern const struct iotdns_checker iotdns_chk_txid_randomization;
static const struct iotdns_checker *const registry[] = { &iotdns_chk_txid_randomization, NULL };

static const uint8_t MAC_GW[6] = { 0x50, 0xc7, 0xbf, 0x00, 0x00, 0x01 };
static const uint8_t IP_GW[4] = { 192, 168, 1, 1 };
static const uint8_t IP_GW2[4] = { 192, 168, 1, 2 };
static const uint8_t MAC_DEV[6] = { 0x0a, 0x6e, 0x00, 0x00, 0x00, 0x77 };
static const uint8_t IP_DEV[4] = { 192, 168, 1, 77 };

static struct iotdns_engine *E;
static uint64_t T0 = 1714809600ull * 1000000;

static uint32_t rng_state = 88172645u;
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

static void start(double min_queries)
{
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	iotdns_engine_config_default(&cfg);
	cfg.checkers = registry;
	if (min_queries > 0) {
		snprintf(cfg.sets[0].key, sizeof(cfg.sets[0].key), "txid-randomization.min-queries");
		cfg.sets[0].value = min_queries;
		cfg.nsets = 1;
	}
	if (iotdns_engine_new(&E, &cfg, &err) != 0) {
		printf("# engine: %s\n", err.msg);
		E = NULL;
		return;
	}
	iotdns_engine_begin_input(E, "unit.pcap", DLT_EN10MB);
}

static void feed(uint64_t ts, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h = pkthdr(ts, len);
	iotdns_engine_packet(E, &h, frame);
}

/* a query at t seconds from the device's source port sport */
static void q(double t, const uint8_t *dip, uint16_t sport, uint16_t id, const char *name, uint16_t qtype)
{
	uint8_t dns[512], fr[1024];
	size_t n = dns_msg(dns, id, false, name, qtype, 0, 0, 0);
	feed(T0 + (uint64_t)(t * 1e6), fr, frame4(fr, MAC_DEV, MAC_GW, IP_DEV, dip, 17, sport, 53, 0, dns, n));
}

static void a(double t, const uint8_t *sip, uint16_t dport, uint16_t id, const char *name, uint16_t qtype)
{
	uint8_t dns[512], fr[1024];
	size_t n = dns_msg(dns, id, true, name, qtype, 0, qtype == 1 ? 1 : 0, 300);
	feed(T0 + (uint64_t)(t * 1e6), fr, frame4(fr, MAC_GW, MAC_DEV, sip, IP_DEV, 17, 53, dport, 0, dns, n));
}

/* a lookup: query and answer 20 ms later */
static void qa(double t, const uint8_t *dip, uint16_t sport, uint16_t id, const char *name, uint16_t qtype)
{
	q(t, dip, sport, id, name, qtype);
	a(t + 0.02, dip, sport, id, name, qtype);
}

struct verdict {
	int status;
	char detail[200];
	unsigned nfind;
	char codes[256];
	char metrics[IOTDNS_METRICS_MAX];
	char summary[256];
};

static void finish(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	if (!E)
		return;
	iotdns_engine_finish(E);
	struct iotdns_device *d = iotdns_devtab_by_mac(iotdns_engine_devices(E), MAC_DEV, false);
	if (d && d->chk_result) {
		v->status = d->chk_result[0].status;
		snprintf(v->detail, sizeof(v->detail), "%s", d->chk_result[0].detail);
	}
	for (uint32_t i = 0; i < iotdns_engine_finding_count(E); i++) {
		const struct iotdns_finding *f = iotdns_engine_finding(E, i);
		if (f->dev != d)
			continue;
		v->nfind++;
		size_t l = strlen(v->codes);
		snprintf(v->codes + l, sizeof(v->codes) - l, "%s%s", l ? "," : "", f->kind->code);
		if (v->nfind == 1) {
			snprintf(v->metrics, sizeof(v->metrics), "%s", f->metrics);
			snprintf(v->summary, sizeof(v->summary), "%s", f->summary);
			CHECK(f->nev >= 1); /* every finding carries evidence */
		}
	}
	printf("# status %s: %s | %s | %s\n", iotdns_status_name(v->status), v->detail, v->codes, v->summary);
	iotdns_engine_free(E);
	E = NULL;
}

/* Random IDs: A and AAAA, the same query to both resolvers with the same ID
 * (a copy), unanswered queries retried with the same ID at +5 s (a
 * retransmission) and +25 s (a late copy), answered ones sent again 1 s later
 * with the same ID (a copy). */
static void t_random_pass(void)
{
	struct verdict v;
	start(0);
	char name[64];
	for (int i = 0; i < 40; i++) {
		double t = 10 + i * 30;
		uint16_t p = rnd_in(32768, 60999), id = (uint16_t)rnd32(), id6 = (uint16_t)rnd32();
		snprintf(name, sizeof(name), "api%d.tv.test", i % 6);
		if (i % 5 == 1) {
			q(t, IP_GW, p, id, name, 1);
			q(t + 5, IP_GW, p, id, name, 1);
			q(t + 25, IP_GW, p, id, name, 1);
			continue;
		}
		qa(t, IP_GW, p, id, name, 1);
		qa(t + 0.001, IP_GW2, rnd_in(32768, 60999), id, name, 1);
		qa(t + 0.1, IP_GW, p, id6, name, 28);
		if (i % 5 == 3)
			qa(t + 1.05, IP_GW, p, id6, name, 28);
	}
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);
	CHECK_EQ_INT(v.nfind, 0);
	/* 32 answered lookups with two IDs each, 8 unanswered with one */
	CHECK(strstr(v.detail, "over 72 IDs") != NULL);
	CHECK(strstr(v.detail, "0 repeated") != NULL);
	CHECK(strstr(v.detail, "port+ID 3") != NULL); /* about 30.8 bits */
}

/* A and AAAA of one lookup with ID and ID+1, the base random: not a counter. */
static void t_pair_plus_one_pass(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 40; i++) {
		uint16_t p = rnd_in(32768, 60999), id = (uint16_t)rnd32();
		qa(10 + i * 20, IP_GW, p, id, "api.musl.test", 1);
		qa(10 + i * 20 + 0.001, IP_GW, p, (uint16_t)(id + 1), "api.musl.test", 28);
	}
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);
	CHECK(strstr(v.detail, "0 of 39 steps") != NULL);
}

/* +1 steps from a random start every session: σ looks great, SEQUENTIAL. */
static void t_sequential_good_sigma(void)
{
	struct verdict v;
	start(0);
	char name[64];
	double t = 10;
	for (int s = 0; s < 4; s++, t += 1000) {
		uint16_t id = (uint16_t)rnd32();
		for (int i = 0; i < 25; i++) {
			snprintf(name, sizeof(name), "n%d.cam.test", i % 3);
			qa(t + i * 5, IP_GW, rnd_in(32768, 60999), id++, name, 1);
		}
	}
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.SEQUENTIAL");
	CHECK(strstr(v.metrics, "\"bucket\":\"great\"") != NULL || strstr(v.metrics, "\"bucket\":\"good\"") != NULL);
	CHECK(strstr(v.metrics, "\"seq_steps\":96") != NULL);
}

/* Counting from 0 at every session: SEQUENTIAL and RESET_PER_SESSION. */
static void t_sequential_reset(void)
{
	struct verdict v;
	start(0);
	double t = 10;
	for (int s = 0; s < 3; s++, t += 1000)
		for (int i = 0; i < 10; i++)
			qa(t + i * 5, IP_GW, rnd_in(32768, 60999), (uint16_t)(2 + i), i % 2 ? "a.baby.test" : "b.baby.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.SEQUENTIAL,TXID.RESET_PER_SESSION");
}

/* First ID 0 in every session, random afterwards: RESET_PER_SESSION only;
 * the same first ID 0xcdab in every session: RESET_PER_SESSION. */
static void t_reset_only(void)
{
	struct verdict v;
	start(0);
	double t = 10;
	for (int s = 0; s < 4; s++, t += 1000)
		for (int i = 0; i < 8; i++)
			qa(t + i * 5, IP_GW, rnd_in(32768, 60999), i ? (uint16_t)rnd32() : 0, "api.hub.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.RESET_PER_SESSION");
	CHECK(strstr(v.summary, "4 of 4 sessions") != NULL);

	start(0);
	t = 10;
	for (int s = 0; s < 3; s++, t += 1000)
		for (int i = 0; i < 8; i++)
			qa(t + i * 5, IP_GW, rnd_in(32768, 60999), i ? (uint16_t)rnd32() : 0xcdab, "ntp.max.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.RESET_PER_SESSION");
	CHECK(strstr(v.metrics, "\"first_id\":52651") != NULL);
}

/* One ID always (0, so the sessions also start at 0: explained by CONSTANT),
 * and two alternating IDs. */
static void t_constant(void)
{
	struct verdict v;
	start(0);
	double t = 10;
	for (int s = 0; s < 3; s++, t += 1000)
		for (int i = 0; i < 10; i++)
			qa(t + i * 12, IP_GW, rnd_in(32768, 60999), 0, "ntp.gw.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.CONSTANT");

	start(0);
	for (int i = 0; i < 30; i++)
		qa(10 + i * 12, IP_GW, rnd_in(32768, 60999), i % 2 ? 0x1234 : 0x4321, "api.lock.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.CONSTANT");
}

/* IDs 0-255: LOW_ENTROPY. IDs from 256 values spread over the range:
 * DUPLICATES. */
static void t_low_and_duplicates(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 60; i++)
		qa(10 + i * 12, IP_GW, rnd_in(32768, 60999), rnd_in(0, 255), "api.sensor.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.LOW_ENTROPY");

	start(0);
	char name[64];
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "n%d.cam.test", i % 4);
		qa(10 + i * 12, IP_GW, rnd_in(32768, 60999), (uint16_t)(rnd_in(0, 255) << 8), name, 1);
	}
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.DUPLICATES");
	CHECK(strstr(v.metrics, "\"bucket\":\"great\"") != NULL);
}

/* A query sequence replayed in a later session (same names, ports and IDs:
 * a generator restored at boot, seen once): not DUPLICATES. */
static void t_replay_pass(void)
{
	struct verdict v;
	start(0);
	uint16_t ports[5], ids[5];
	for (int i = 0; i < 5; i++) {
		ports[i] = rnd_in(1024, 65535);
		ids[i] = (uint16_t)rnd32();
	}
	char name[64];
	double t = 10;
	for (int s = 0; s < 8; s++, t += 600)
		for (int i = 0; i < 5; i++) {
			snprintf(name, sizeof(name), "n%d.tapo.test", i);
			if (s == 2 || s == 6)
				qa(t + i, IP_GW, ports[i], ids[i], name, 1);
			else
				qa(t + i, IP_GW, rnd_in(1024, 65535), (uint16_t)rnd32(), name, 1);
		}
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);
	CHECK(strstr(v.detail, "5 replayed") != NULL);
}

/* 12-bit IDs with Linux ports: ENTROPY.LOW (about 26.8 bits). With a fixed
 * port the ports alone are weak (port-randomization's finding): nothing here. */
static void t_entropy(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 60; i++)
		qa(10 + i * 5, IP_GW, rnd_in(32768, 60999), rnd_in(0, 4095), "api.hub.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "ENTROPY.LOW");
	CHECK(strstr(v.metrics, "\"combined_bits\":26") != NULL || strstr(v.metrics, "\"combined_bits\":27") != NULL);

	start(0);
	for (int i = 0; i < 60; i++)
		qa(10 + i * 5, IP_GW, 4096, rnd_in(0, 4095), "api.hub.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);
	CHECK(strstr(v.detail, "ports weak") != NULL);

	/* full IDs and a fixed port: pass here too (cosori_air_fryer) */
	start(0);
	for (int i = 0; i < 60; i++)
		qa(10 + i * 5, IP_GW, 4096, (uint16_t)rnd32(), "api.fryer.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);
}

/* Random IDs to one resolver, a counter to the other: SEQUENTIAL for it. */
static void t_per_resolver(void)
{
	struct verdict v;
	start(0);
	uint16_t ctr = 100;
	for (int i = 0; i < 90; i++) {
		double t = 10 + i * 3;
		if (i % 3 == 2)
			qa(t, IP_GW2, rnd_in(32768, 60999), ctr++, "fallback.hub.test", 1);
		else
			qa(t, IP_GW, rnd_in(32768, 60999), (uint16_t)rnd32(), "api.hub.test", 1);
	}
	finish(&v);
	CHECK_EQ_STR(v.codes, "TXID.SEQUENTIAL");
	CHECK(strstr(v.summary, "to 192.168.1.2") != NULL);
}

static void t_thin_and_options(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 12; i++)
		qa(10 + i * 12, IP_GW, rnd_in(32768, 60999), (uint16_t)rnd32(), "api.plug.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_INSUFFICIENT);
	CHECK(strstr(v.detail, "12 of 20 queries needed") != NULL);

	/* lowering seq-fraction does not make random IDs sequential; min-queries 10 gives a verdict */
	start(10);
	for (int i = 0; i < 12; i++)
		qa(10 + i * 12, IP_GW, rnd_in(32768, 60999), (uint16_t)rnd32(), "api.plug.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);

	start(0);
	{
		uint8_t dns[512], fr[1024];
		const uint8_t mc_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
		const uint8_t mc_ip[4] = { 224, 0, 0, 251 };
		size_t n = dns_msg(dns, 0, false, "_hap._tcp.local", 12, 0, 0, 0);
		feed(T0 + 1000000, fr, frame4(fr, MAC_DEV, mc_mac, IP_DEV, mc_ip, 17, 5353, 5353, 0, dns, n));
	}
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_NA);
}

int main(void)
{
	t_random_pass();
	t_pair_plus_one_pass();
	t_sequential_good_sigma();
	t_sequential_reset();
	t_reset_only();
	t_constant();
	t_low_and_duplicates();
	t_replay_pass();
	t_entropy();
	t_per_resolver();
	t_thin_and_options();
	return tap_done();
}

/* port-randomization: the checker driven through a real engine with frames
 * (tests/unit/pktbuild.h). Healthy stubs pass (Linux and RFC 6335 ranges, A
 * and AAAA from one socket, retries from the same socket); a fixed port, a
 * port per session, sequential ports, few ports, a narrow range, poor σ, a
 * port fixed at boot and a fixed port towards one resolver fail with their
 * code; thin evidence is insufficient; options are honoured. */
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "iotdns/engine.h"
#include "iotdns/finding.h"
#include "pktbuild.h"

extern const struct iotdns_checker iotdns_chk_port_randomization;
static const struct iotdns_checker *const registry[] = { &iotdns_chk_port_randomization, NULL };

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

static void start(double min_lookups)
{
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	iotdns_engine_config_default(&cfg);
	cfg.checkers = registry;
	if (min_lookups > 0) {
		snprintf(cfg.sets[0].key, sizeof(cfg.sets[0].key), "port-randomization.min-lookups");
		cfg.sets[0].value = min_lookups;
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

/* Healthy Linux stub: random ports 32768-60999, A and AAAA from one socket
 * (answered), some retries from the same socket (immediate and late). */
static void t_linux_pass(void)
{
	struct verdict v;
	start(0);
	char name[64];
	double t = 10;
	for (int i = 0; i < 40; i++, t += 30) {
		uint16_t p = rnd_in(32768, 60999);
		snprintf(name, sizeof(name), "api%d.cloud.test", i % 5);
		q(t, IP_GW, p, (uint16_t)rnd32(), name, 1);
		q(t + 0.001, IP_GW, p, (uint16_t)rnd32(), name, 28);
		if (i % 7 == 3) {
			/* unanswered: retried from the same socket at +5 s (a retransmission)
			 * and at +25 s (too late for the engine: a late retry) */
			q(t + 5, IP_GW, p, 0x1111, name, 1);
			q(t + 25, IP_GW, p, 0x2222, name, 1);
			continue;
		}
		a(t + 0.02, IP_GW, p, 0, name, 1);
		a(t + 0.03, IP_GW, p, 0, name, 28);
	}
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);
	CHECK_EQ_INT(v.nfind, 0);
	CHECK(strstr(v.detail, "over 40 lookups") != NULL); /* A+AAAA and retries are one lookup each */
	CHECK(strstr(v.detail, "(linux)") != NULL);
	CHECK(strstr(v.detail, "great") != NULL);
}

/* Random ports over the RFC 6335 range pass too. */
static void t_rfc6335_pass(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 60; i++)
		qa(10 + i * 20, IP_GW, rnd_in(49152, 65535), (uint16_t)rnd32(), "time.cloud.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);
	CHECK(strstr(v.detail, "(rfc6335)") != NULL);
}

/* Every query from port 4096 over three sessions: FIXED, nothing else. */
static void t_fixed(void)
{
	struct verdict v;
	start(0);
	double t = 10;
	for (int s = 0; s < 3; s++, t += 600)
		for (int i = 0; i < 12; i++)
			qa(t + i * 20, IP_GW, 4096, (uint16_t)rnd32(), i % 2 ? "iot.fryer.test" : "ntp.fryer.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_FAIL);
	CHECK_EQ_STR(v.codes, "PORT.FIXED");
	CHECK(strstr(v.metrics, "\"top_port\":4096") != NULL);
	CHECK(strstr(v.metrics, "\"top_port_share\":1") != NULL);
	CHECK(strstr(v.summary, "36 of 36 lookups") != NULL);
	CHECK(strstr(v.summary, "port 4096") != NULL);
}

/* Random ports across sessions but one port per session: SESSION_REUSE,
 * although the pooled σ is good. */
static void t_session_reuse(void)
{
	struct verdict v;
	start(0);
	char name[64];
	double t = 10;
	for (int s = 0; s < 4; s++, t += 1000) {
		uint16_t p = rnd_in(32768, 60999);
		for (int i = 0; i < 15; i++) {
			snprintf(name, sizeof(name), "n%d.cam.test", i);
			qa(t + i * 10, IP_GW, p, (uint16_t)rnd32(), name, 1);
		}
	}
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_FAIL);
	CHECK_EQ_STR(v.codes, "PORT.SESSION_REUSE");
	CHECK(strstr(v.metrics, "\"sessions_reusing\":4") != NULL);
	CHECK(strstr(v.metrics, "\"bucket\":\"great\"") != NULL || strstr(v.metrics, "\"bucket\":\"good\"") != NULL);
}

/* The same with one query every 2 minutes: each query is its own engine
 * session (90 s of silence), the reuse shows in runs of lookups. */
static void t_run_reuse(void)
{
	struct verdict v;
	start(0);
	double t = 10;
	for (int s = 0; s < 3; s++) {
		uint16_t p = rnd_in(49152, 65535);
		for (int i = 0; i < 10; i++, t += 120)
			qa(t, IP_GW, p, (uint16_t)rnd32(), "mqtt.hub.test", 1);
	}
	finish(&v);
	CHECK_EQ_STR(v.codes, "PORT.SESSION_REUSE");
	CHECK(strstr(v.metrics, "\"reuse_runs\":3") != NULL);
}

/* A burst of related questions from one socket within a second, many times
 * with a new socket each time: not reuse. */
static void t_burst_pass(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 30; i++) {
		uint16_t p = rnd_in(32768, 60999);
		double t = 10 + i * 40;
		/* the same name to two resolvers and as A, AAAA and HTTPS */
		qa(t, IP_GW, p, (uint16_t)rnd32(), "edge.speaker.test", 1);
		qa(t + 0.002, IP_GW2, p, (uint16_t)rnd32(), "edge.speaker.test", 1);
		qa(t + 0.2, IP_GW, p, (uint16_t)rnd32(), "edge.speaker.test", 28);
		qa(t + 0.4, IP_GW, p, (uint16_t)rnd32(), "edge.speaker.test", 65);
	}
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);
	CHECK(strstr(v.detail, "over 30 lookups") != NULL);
}

/* Ports counting up by one, and by 9: SEQUENTIAL only (its poor σ is the
 * consequence, not a second finding). */
static void t_sequential(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 40; i++)
		qa(10 + i * 15, IP_GW, (uint16_t)(49152 + i), (uint16_t)rnd32(), "api.plug.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "PORT.SEQUENTIAL");
	CHECK(strstr(v.metrics, "\"small_steps\":39") != NULL);

	start(0);
	for (int i = 0; i < 40; i++)
		qa(10 + i * 15, IP_GW, (uint16_t)(65000 + 9 * i), (uint16_t)rnd32(), "api.plug.test", 1); /* wraps */
	finish(&v);
	CHECK_EQ_STR(v.codes, "PORT.SEQUENTIAL");
}

/* Four ports in turn: FIXED (few ports). */
static void t_few_ports(void)
{
	struct verdict v;
	start(0);
	const uint16_t ports[4] = { 56059, 56930, 49960, 54919 };
	for (int i = 0; i < 40; i++)
		qa(10 + i * 20, IP_GW, ports[rnd32() % 4], (uint16_t)rnd32(), "api.lock.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "PORT.FIXED");
	CHECK(strstr(v.metrics, "\"pattern\":\"few ports\"") != NULL);
}

/* Random ports from 5000-8000 (good σ, narrow) and 40000-40500 (poor σ). */
static void t_ranges(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 60; i++)
		qa(10 + i * 20, IP_GW, rnd_in(5000, 8000), (uint16_t)rnd32(), "api.thermo.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "PORT.NARROW_RANGE");
	CHECK(strstr(v.metrics, "\"bucket\":\"good\"") != NULL);

	start(0);
	for (int i = 0; i < 60; i++)
		qa(10 + i * 20, IP_GW, rnd_in(40000, 40500), (uint16_t)rnd32(), "api.sensor.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "PORT.LOW_ENTROPY");
	CHECK(strstr(v.metrics, "\"bucket\":\"poor\"") != NULL);
}

/* The same port as the first of two sessions, one query each: a port fixed
 * at boot. Two different ports: insufficient. */
static void t_boot_fixed(void)
{
	struct verdict v;
	start(0);
	qa(10, IP_GW, 59904, 1, "www.scale.test", 1);
	qa(1000, IP_GW, 59904, 1, "www.scale.test", 1);
	finish(&v);
	CHECK_EQ_STR(v.codes, "PORT.FIXED");
	CHECK(strstr(v.metrics, "\"pattern\":\"same port every session\"") != NULL);

	start(0);
	qa(10, IP_GW, 59904, 1, "www.scale.test", 1);
	qa(1000, IP_GW, 41234, 1, "www.scale.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_INSUFFICIENT);
	CHECK(strstr(v.detail, "2 of 20 lookups needed") != NULL);
}

/* Random ports to one resolver, one fixed port to the other: FIXED for that
 * resolver although no port dominates the pool. */
static void t_per_resolver(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 90; i++) {
		double t = 10 + i * 7;
		if (i % 3 == 2)
			qa(t, IP_GW2, 5353 + 1000, (uint16_t)rnd32(), "fallback.hub.test", 1);
		else
			qa(t, IP_GW, rnd_in(32768, 60999), (uint16_t)rnd32(), "api.hub.test", 1);
	}
	finish(&v);
	CHECK_EQ_STR(v.codes, "PORT.FIXED");
	CHECK(strstr(v.metrics, "\"pattern\":\"one port to one resolver\"") != NULL);
	CHECK(strstr(v.metrics, "\"resolver\":\"192.168.1.2\"") != NULL);
}

/* Thin evidence, then the same with min-lookups lowered; no UDP DNS at all. */
static void t_thin_and_options(void)
{
	struct verdict v;
	start(0);
	for (int i = 0; i < 10; i++)
		qa(10 + i * 20, IP_GW, rnd_in(32768, 60999), (uint16_t)rnd32(), "api.plug.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_INSUFFICIENT);
	CHECK(strstr(v.detail, "10 of 20 lookups needed") != NULL);

	start(10);
	for (int i = 0; i < 10; i++)
		qa(10 + i * 20, IP_GW, rnd_in(32768, 60999), (uint16_t)rnd32(), "api.plug.test", 1);
	finish(&v);
	CHECK_EQ_INT(v.status, IOTDNS_STATUS_PASS);

	/* a device that only sends mDNS: not applicable */
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
	t_linux_pass();
	t_rfc6335_pass();
	t_fixed();
	t_session_reuse();
	t_run_reuse();
	t_burst_pass();
	t_sequential();
	t_few_ports();
	t_ranges();
	t_boot_fixed();
	t_per_resolver();
	t_thin_and_options();
	return tap_done();
}

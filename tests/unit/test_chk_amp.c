/* amplification-risk checker: driven through a real engine with hand-made
 * frames (tests/unit/pktbuild.h), one engine per scenario, so every event
 * arrives the way the pipeline raises it. Positive and negative cases for
 * every code, the borderline cases of issue 3 (boot burst, back-off retries,
 * a LAN resolver, concurrent duplicates, one NXDOMAIN re-ask), statuses and
 * the options. */
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "iotdns/engine.h"
#include "iotdns/finding.h"
#include "pktbuild.h"

extern const struct iotdns_checker iotdns_chk_amplification_risk;
static const struct iotdns_checker *const registry[] = { &iotdns_chk_amplification_risk, NULL };

static const uint8_t MAC_GW[6] = { 0x50, 0xc7, 0xbf, 0x00, 0x00, 0x01 };
static const uint8_t IP_GW[4] = { 192, 168, 1, 1 };
static const uint64_t T0 = 1714809600ull * 1000000; /* 2024-05-04T08:00:00Z */
#define MS 1000ull
#define S 1000000ull

static struct iotdns_engine *E;

static void start(const char *set_key, double set_val)
{
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	iotdns_engine_config_default(&cfg);
	cfg.checkers = registry;
	if (set_key) {
		snprintf(cfg.sets[0].key, sizeof(cfg.sets[0].key), "%s", set_key);
		cfg.sets[0].value = set_val;
		cfg.nsets = 1;
	}
	if (iotdns_engine_new(&E, &cfg, &err) != 0) {
		printf("# engine: %s\n", err.msg);
		exit(1);
	}
	iotdns_engine_begin_input(E, "unit.pcap", DLT_EN10MB);
}

static void feed(uint64_t ts, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h = pkthdr(ts, len);
	iotdns_engine_packet(E, &h, frame);
}

static void mac_of(uint8_t mac[6], unsigned dev)
{
	const uint8_t m[6] = { 0x02, 0x42, 0xbc, 0x00, 0x00, (uint8_t)dev };
	memcpy(mac, m, 6);
}

static void ip_of(uint8_t ip[4], unsigned dev)
{
	const uint8_t a[4] = { 192, 168, 1, (uint8_t)dev };
	memcpy(ip, a, 4);
}

/* device dev asks name/qtype to the gateway resolver */
static void query(unsigned dev, uint64_t ts, uint16_t id, const char *name, uint16_t qtype)
{
	uint8_t dns[512], fr[1024], mac[6], ip[4];
	mac_of(mac, dev);
	ip_of(ip, dev);
	size_t n = dns_msg(dns, id, false, name, qtype, 0, 0, 0);
	feed(ts, fr, frame4(fr, mac, MAC_GW, ip, IP_GW, 17, (uint16_t)(40000 + id % 20000), 53, 0, dns, n));
}

/* the gateway answers it: rcode, n A records */
static void answer(unsigned dev, uint64_t ts, uint16_t id, const char *name, uint16_t qtype, unsigned rcode,
		   int n_a)
{
	uint8_t dns[1024], fr[1500], mac[6], ip[4];
	mac_of(mac, dev);
	ip_of(ip, dev);
	size_t n = dns_msg(dns, id, true, name, qtype, rcode, n_a, 300);
	feed(ts, fr, frame4(fr, MAC_GW, mac, IP_GW, ip, 17, 53, (uint16_t)(40000 + id % 20000), 0, dns, n));
}

static void ask_answer(unsigned dev, uint64_t ts, uint16_t id, const char *name, unsigned rcode, int n_a)
{
	query(dev, ts, id, name, 1);
	answer(dev, ts + 10 * MS, id, name, 1, rcode, n_a);
}

/* n healthy answered queries every gap, for the minimum evidence */
static uint64_t background(unsigned dev, uint64_t ts, unsigned n, uint64_t gap, uint16_t id0)
{
	char name[64];
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "bg%u.example.test", i % 7);
		ask_answer(dev, ts, (uint16_t)(id0 + i), name, 0, 1);
		ts += gap;
	}
	return ts;
}

static struct iotdns_device *device(unsigned dev)
{
	uint8_t mac[6];
	mac_of(mac, dev);
	return iotdns_devtab_by_mac(iotdns_engine_devices(E), mac, false);
}

static const struct iotdns_finding *finding(unsigned dev, const char *code)
{
	struct iotdns_device *d = device(dev);
	for (uint32_t i = 0; i < iotdns_engine_finding_count(E); i++) {
		const struct iotdns_finding *f = iotdns_engine_finding(E, i);
		if (f->dev == d && strcmp(f->kind->code, code) == 0)
			return f;
	}
	return NULL;
}

static unsigned nfindings(unsigned dev)
{
	struct iotdns_device *d = device(dev);
	unsigned n = 0;
	for (uint32_t i = 0; i < iotdns_engine_finding_count(E); i++)
		n += iotdns_engine_finding(E, i)->dev == d;
	return n;
}

static int status(unsigned dev)
{
	struct iotdns_device *d = device(dev);
	return d && d->chk_result ? d->chk_result[0].status : -1;
}

static const char *detail(unsigned dev)
{
	struct iotdns_device *d = device(dev);
	return d && d->chk_result ? d->chk_result[0].detail : "";
}

static bool has_metric(const struct iotdns_finding *f, const char *kv)
{
	return f && strstr(f->metrics, kv) != NULL;
}

static void finish(void)
{
	iotdns_engine_sync(E);
	iotdns_engine_finish(E);
}

static void stop(void)
{
	iotdns_engine_free(E);
	E = NULL;
}

/* ---- storms after negative answers ---------------------------------------------- */

static void t_negative(void)
{
	start(NULL, 0);
	/* dev 10: NXDOMAIN then 8 re-asks 400 ms apart (the demo plug) */
	uint64_t t = background(10, T0, 20, 20 * S, 100);
	ask_answer(10, t, 1, "mqtt.plug-cloud.test", 3, 0);
	for (unsigned i = 1; i <= 8; i++)
		ask_answer(10, t + i * 400 * MS, (uint16_t)(1 + i), "mqtt.plug-cloud.test", 3, 0);
	/* dev 11: exactly 5 quick re-asks after NXDOMAIN: tolerated (retry-max style "more than 5") */
	t = background(11, T0, 20, 20 * S, 100);
	for (unsigned i = 0; i <= 5; i++)
		ask_answer(11, t + i * 400 * MS, (uint16_t)(1 + i), "gone.example.test", 3, 0);
	/* dev 12: re-asks every 1.5 s after SERVFAIL: slower than neg-gap, not a storm */
	t = background(12, T0, 20, 20 * S, 100);
	for (unsigned i = 0; i <= 10; i++)
		ask_answer(12, t + i * 1500 * MS, (uint16_t)(1 + i), "broken.example.test", 2, 0);
	/* dev 13: empty answers (NODATA) re-asked 300 ms apart, 7 times: a storm */
	t = background(13, T0, 20, 20 * S, 100);
	for (unsigned i = 0; i <= 7; i++)
		ask_answer(13, t + i * 300 * MS, (uint16_t)(1 + i), "v6only.example.test", 0, 0);
	/* dev 14: NXDOMAIN once, re-asked once (search-list style), then positive answers fast: no storm */
	t = background(14, T0, 20, 20 * S, 100);
	ask_answer(14, t, 1, "name.example.test", 3, 0);
	for (unsigned i = 1; i <= 10; i++)
		ask_answer(14, t + i * 200 * MS, (uint16_t)(1 + i), "name.example.test", 0, 1);
	/* dev 15: the plug's storm while it also asks 20 new names between re-asks
	 * (more distinct questions per second than the 16-slot table holds) */
	t = background(15, T0, 20, 20 * S, 100);
	ask_answer(15, t, 1, "mqtt.plug-cloud.test", 3, 0);
	uint16_t id = 1000;
	for (unsigned i = 1; i <= 8; i++) {
		char other[64];
		for (unsigned k = 0; k < 20; k++, id++) {
			snprintf(other, sizeof(other), "one-off-%u-%u.example.test", i, k);
			ask_answer(15, t + (i - 1) * 400 * MS + 20 * MS + k * 15 * MS, id, other, 0, 1);
		}
		ask_answer(15, t + i * 400 * MS, (uint16_t)(1 + i), "mqtt.plug-cloud.test", 3, 0);
	}
	finish();

	const struct iotdns_finding *f = finding(15, "AMP.NEGATIVE_STORM");
	CHECK(f != NULL);
	CHECK(has_metric(f, "\"max_reasks\":8"));
	CHECK(has_metric(f, "\"runs_cut_short\":0"));

	f = finding(10, "AMP.NEGATIVE_STORM");
	CHECK(f != NULL);
	CHECK(has_metric(f, "\"max_reasks\":8"));
	CHECK(has_metric(f, "\"worst_answer\":\"NXDOMAIN\""));
	CHECK(has_metric(f, "\"worst_name\":\"mqtt.plug-cloud.test\""));
	CHECK(f && f->nev >= 2);
	CHECK(f && f->first_us == T0 + 20 * 20 * S); /* the first question of the storm */
	CHECK_EQ_INT(status(10), IOTDNS_STATUS_FAIL);
	CHECK(finding(10, "AMP.RETRY_STORM") == NULL);

	CHECK(finding(11, "AMP.NEGATIVE_STORM") == NULL);
	CHECK_EQ_INT(status(11), IOTDNS_STATUS_PASS);
	CHECK(strstr(detail(11), "5 re-asks") != NULL);

	CHECK(finding(12, "AMP.NEGATIVE_STORM") == NULL);
	CHECK_EQ_INT(status(12), IOTDNS_STATUS_PASS);

	f = finding(13, "AMP.NEGATIVE_STORM");
	CHECK(f != NULL);
	CHECK(has_metric(f, "\"worst_answer\":\"NODATA\""));
	CHECK(has_metric(f, "\"max_reasks\":7"));

	CHECK_EQ_INT(nfindings(14), 0);
	CHECK_EQ_INT(status(14), IOTDNS_STATUS_PASS);
	stop();

	/* the threshold is an option */
	start("amplification-risk.neg-max", 10);
	uint64_t t2 = background(10, T0, 20, 20 * S, 100);
	ask_answer(10, t2, 1, "mqtt.plug-cloud.test", 3, 0);
	for (unsigned i = 1; i <= 8; i++)
		ask_answer(10, t2 + i * 400 * MS, (uint16_t)(1 + i), "mqtt.plug-cloud.test", 3, 0);
	finish();
	CHECK(finding(10, "AMP.NEGATIVE_STORM") == NULL);
	CHECK_EQ_INT(status(10), IOTDNS_STATUS_PASS);
	stop();
}

/* ---- retries of unanswered questions ------------------------------------------------- */

static void t_retry(void)
{
	start(NULL, 0);
	/* dev 20: unanswered question re-sent every 300 ms, 10 times (same ID: identical retransmissions) */
	uint64_t t = background(20, T0, 20, 20 * S, 100);
	for (unsigned i = 0; i <= 10; i++)
		query(20, t + i * 300 * MS, 7, "down.example.test", 1);
	/* dev 21: exponential back-off 1 s, 2 s, 4 s, 8 s: fine */
	t = background(21, T0, 20, 20 * S, 100);
	uint64_t at = t;
	for (unsigned i = 0; i <= 6; i++) {
		query(21, at, 7, "down.example.test", 1);
		at += (1ull << i) * S;
	}
	/* dev 22: 8 concurrent copies within 5 ms, then answered (no in-flight dedup): not retries */
	t = background(22, T0, 20, 20 * S, 100);
	for (unsigned r = 0; r < 3; r++) {
		uint64_t b = t + r * 30 * S;
		for (unsigned i = 0; i < 8; i++)
			query(22, b + i * 600, (uint16_t)(10 + r * 8 + i), "busy.example.test", 1);
		for (unsigned i = 0; i < 8; i++)
			answer(22, b + 10 * MS + i * 100, (uint16_t)(10 + r * 8 + i), "busy.example.test", 1, 0, 1);
	}
	/* dev 23: retries every 900 ms with new IDs, 5 of them then an answer: exactly at the limit */
	t = background(23, T0, 20, 20 * S, 100);
	for (unsigned i = 0; i <= 5; i++)
		query(23, t + i * 900 * MS, (uint16_t)(50 + i), "slow.example.test", 1);
	answer(23, t + 5 * 900 * MS + 20 * MS, 55, "slow.example.test", 1, 0, 1);
	/* dev 24: dev 20's hammering while 20 new names are asked between copies */
	t = background(24, T0, 20, 20 * S, 100);
	uint16_t id = 2000;
	for (unsigned i = 0; i <= 10; i++) {
		char other[64];
		query(24, t + i * 300 * MS, 7, "down.example.test", 1);
		for (unsigned k = 0; k < 20; k++, id++) {
			snprintf(other, sizeof(other), "one-off-%u-%u.example.test", i, k);
			ask_answer(24, t + i * 300 * MS + 10 * MS + k * 12 * MS, id, other, 0, 1);
		}
	}
	finish();

	const struct iotdns_finding *f = finding(20, "AMP.RETRY_STORM");
	CHECK(f != NULL);
	CHECK(has_metric(f, "\"max_retries\":10"));
	CHECK(has_metric(f, "\"runs\":1"));
	CHECK(has_metric(f, "\"worst_server\":\"192.168.1.1\""));
	CHECK(has_metric(f, "\"engine_retransmissions\":10"));
	CHECK(f && f->nev == 2);
	CHECK_EQ_INT(status(20), IOTDNS_STATUS_FAIL);

	CHECK(finding(21, "AMP.RETRY_STORM") == NULL);
	CHECK_EQ_INT(status(21), IOTDNS_STATUS_PASS);
	CHECK(strstr(detail(21), "0 retries") != NULL);

	CHECK_EQ_INT(nfindings(22), 0);
	CHECK_EQ_INT(status(22), IOTDNS_STATUS_PASS);
	CHECK(strstr(detail(22), "8 copies at once") != NULL);

	CHECK(finding(23, "AMP.RETRY_STORM") == NULL);
	f = finding(24, "AMP.RETRY_STORM");
	CHECK(has_metric(f, "\"max_retries\":10"));
	CHECK(has_metric(f, "\"runs_cut_short\":0"));
	CHECK(strstr(detail(23), "5 retries") != NULL);
	stop();

	/* a smaller retry-gap makes 300 ms retries acceptable */
	start("amplification-risk.retry-gap", 0.2);
	uint64_t t2 = background(20, T0, 20, 20 * S, 100);
	for (unsigned i = 0; i <= 10; i++)
		query(20, t2 + i * 300 * MS, 7, "down.example.test", 1);
	finish();
	CHECK(finding(20, "AMP.RETRY_STORM") == NULL);
	stop();
}

/* ---- query rates ----------------------------------------------------------------------- */

static void t_rate(void)
{
	char name[64];
	start(NULL, 0);
	/* dev 30: 700 distinct names in 60 s (11.7 q/s): absolute storm */
	for (unsigned i = 0; i < 700; i++) {
		snprintf(name, sizeof(name), "n%u.flood.test", i);
		ask_answer(30, T0 + i * 85 * MS, (uint16_t)i, name, 0, 1);
	}
	/* dev 31: boot burst of 40 names in 2 s, then one query every 30 s for 30 min */
	for (unsigned i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "boot%u.example.test", i);
		ask_answer(31, T0 + i * 50 * MS, (uint16_t)i, name, 0, 1);
	}
	background(31, T0 + 30 * S, 60, 30 * S, 1000);
	/* dev 32: 5 queries a minute for an hour, then 400 in 300 s: 16x its baseline */
	uint64_t t = T0;
	uint16_t id = 0;
	for (unsigned i = 0; i < 300; i++, id++) {
		snprintf(name, sizeof(name), "steady%u.example.test", i % 9);
		ask_answer(32, t, id, name, 0, 1);
		t += 12 * S;
	}
	for (unsigned i = 0; i < 400; i++, id++) {
		snprintf(name, sizeof(name), "loop%u.example.test", i % 3);
		ask_answer(32, t + i * 750 * MS, id, name, 0, 1);
	}
	/* dev 33: 10 a minute for an hour, then 400 in 300 s: 8x, under the ratio */
	t = T0;
	id = 0;
	for (unsigned i = 0; i < 600; i++, id++) {
		snprintf(name, sizeof(name), "steady%u.example.test", i % 9);
		ask_answer(33, t, id, name, 0, 1);
		t += 6 * S;
	}
	for (unsigned i = 0; i < 400; i++, id++) {
		snprintf(name, sizeof(name), "loop%u.example.test", i % 3);
		ask_answer(33, t + i * 750 * MS, id, name, 0, 1);
	}
	finish();

	const struct iotdns_finding *f = finding(30, "AMP.QUERY_STORM");
	CHECK(f != NULL);
	CHECK(has_metric(f, "\"absolute_rule\":true"));
	CHECK(has_metric(f, "\"threshold_60s\":600"));
	CHECK(f && f->nev >= 1);
	CHECK_EQ_INT(nfindings(30), 1);

	CHECK_EQ_INT(nfindings(31), 0);
	CHECK_EQ_INT(status(31), IOTDNS_STATUS_PASS);
	CHECK(strstr(detail(31), "peak 40/10s") != NULL);

	f = finding(32, "AMP.QUERY_STORM");
	CHECK(f != NULL);
	CHECK(has_metric(f, "\"absolute_rule\":false"));
	CHECK(has_metric(f, "\"baseline_per_minute\":5"));
	CHECK(has_metric(f, "\"peak_300s\":40")); /* 400 or 401: starts with "40" */

	CHECK(finding(33, "AMP.QUERY_STORM") == NULL);
	CHECK_EQ_INT(status(33), IOTDNS_STATUS_PASS);
	CHECK(strstr(detail(33), "baseline 10/min") != NULL);
	stop();
}

/* ---- ANY ------------------------------------------------------------------------------ */

static void t_any(void)
{
	start(NULL, 0);
	uint64_t t = background(40, T0, 20, 20 * S, 100);
	query(40, t, 1, "apps.tv-cloud.test", IOTDNS_T_ANY);
	answer(40, t + 10 * MS, 1, "apps.tv-cloud.test", IOTDNS_T_ANY, 0, 3);
	background(41, T0, 25, 20 * S, 100);
	/* dev 42: 5 queries only: insufficient */
	background(42, T0, 5, 20 * S, 100);
	finish();
	const struct iotdns_finding *f = finding(40, "AMP.ANY_QUERY");
	CHECK(f != NULL);
	CHECK(f && f->kind->severity == IOTDNS_SEV_LOW);
	CHECK(has_metric(f, "\"any_queries\":1"));
	CHECK(f && f->nev == 1 && strstr(f->ev[0].text, "apps.tv-cloud.test ANY") != NULL);
	CHECK_EQ_INT(nfindings(41), 0);
	CHECK_EQ_INT(status(41), IOTDNS_STATUS_PASS);
	CHECK_EQ_INT(status(42), IOTDNS_STATUS_INSUFFICIENT);
	CHECK(strstr(detail(42), "5 of 20") != NULL);
	stop();
}

/* ---- reflector ---------------------------------------------------------------------------- */

/* an Internet host (through the router) asks dev; dev answers with n_a A records (rcode) */
static void probe(unsigned dev, uint64_t ts, const uint8_t out[4], uint16_t id, unsigned rcode, int n_a)
{
	uint8_t dns[1500], fr[1600], mac[6], ip[4];
	mac_of(mac, dev);
	ip_of(ip, dev);
	size_t n = dns_msg(dns, id, false, "example.com", IOTDNS_T_ANY, 0, 0, 0);
	feed(ts, fr, frame4(fr, MAC_GW, mac, out, ip, 17, 61918, 53, 0, dns, n));
	n = dns_msg(dns, id, true, "example.com", IOTDNS_T_ANY, rcode, n_a, 300);
	feed(ts + MS, fr, frame4(fr, mac, MAC_GW, ip, out, 17, 53, 61918, 0, dns, n));
}

/* a LAN client (dev client) asks dev server, which answers */
static void lan_ask(unsigned server, unsigned client, uint64_t ts, uint16_t id)
{
	uint8_t dns[1500], fr[1600], smac[6], cmac[6], sip[4], cip[4];
	mac_of(smac, server);
	mac_of(cmac, client);
	ip_of(sip, server);
	ip_of(cip, client);
	size_t n = dns_msg(dns, id, false, "www.example.org", 1, 0, 0, 0);
	feed(ts, fr, frame4(fr, cmac, smac, cip, sip, 17, 50000, 53, 0, dns, n));
	n = dns_msg(dns, id, true, "www.example.org", 1, 0, 2, 300);
	feed(ts + 2 * MS, fr, frame4(fr, smac, cmac, sip, cip, 17, 53, 50000, 0, dns, n));
}

static void t_reflector(void)
{
	static const uint8_t OUT1[4] = { 203, 0, 113, 66 }, OUT2[4] = { 198, 51, 100, 23 };
	start(NULL, 0);
	/* dev 47: an NVR with its own queries, answering two Internet hosts with 40 records */
	uint64_t t = background(47, T0, 20, 20 * S, 100);
	probe(47, t, OUT1, 0x1111, 0, 40);
	probe(47, t + 60 * S, OUT2, 0x2222, 0, 40);
	probe(47, t + 120 * S, OUT1, 0x3333, 0, 40);
	/* dev 48: answers outside, but small (3 records): open responder without the factor */
	t = background(48, T0, 20, 20 * S, 100);
	probe(48, t, OUT1, 0x1111, 0, 3);
	/* dev 49: refuses the outside queries */
	t = background(49, T0, 20, 20 * S, 100);
	for (unsigned i = 0; i < 3; i++)
		probe(49, t + i * 10 * S, OUT2, (uint16_t)(0x100 + i), 5, 0);
	/* dev 2: a Pi-hole answering LAN clients 60 and 61 */
	t = background(2, T0, 20, 20 * S, 100);
	for (unsigned i = 0; i < 10; i++) {
		lan_ask(2, 60 + i % 2, t + i * S, (uint16_t)(0x500 + i));
	}
	finish();

	const struct iotdns_finding *f = finding(47, "AMP.OPEN_RESPONDER");
	CHECK(f != NULL);
	CHECK(f && f->kind->severity == IOTDNS_SEV_HIGH);
	CHECK(has_metric(f, "\"served_to_nonlocal\":3"));
	CHECK(has_metric(f, "\"nonlocal_clients\":2"));
	CHECK(has_metric(f, "\"requests_received_from_outside\":3"));
	CHECK(f && f->nev == 2); /* the first answer to each client */
	f = finding(47, "AMP.REFLECTION_FACTOR");
	CHECK(f != NULL);
	CHECK(has_metric(f, "\"factor_basis\":\"measured\""));
	/* query 12 + 13 + 4 = 29 bytes; answer 29 + 40 * 16 = 669 bytes: x23.07 */
	CHECK(has_metric(f, "\"request_bytes\":87"));
	CHECK(has_metric(f, "\"response_bytes\":2007"));
	CHECK(has_metric(f, "\"factor\":23.0"));

	CHECK(finding(48, "AMP.OPEN_RESPONDER") != NULL);
	CHECK(finding(48, "AMP.REFLECTION_FACTOR") == NULL); /* 77 / 29 = x2.7 */

	CHECK_EQ_INT(nfindings(49), 0);
	CHECK_EQ_INT(status(49), IOTDNS_STATUS_PASS);
	CHECK(strstr(detail(49), "refused all 3") != NULL);

	CHECK_EQ_INT(nfindings(2), 0);
	CHECK_EQ_INT(status(2), IOTDNS_STATUS_PASS);
	CHECK(strstr(detail(2), "LAN responder: 10 answers to 2 clients") != NULL);
	stop();
}

/* ---- not applicable, bounded state ----------------------------------------------------------- */

static void t_mdns_only(void)
{
	start(NULL, 0);
	uint8_t dns[512], fr[1024], mac[6], ip[4];
	const uint8_t mc_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	const uint8_t mc[4] = { 224, 0, 0, 251 };
	mac_of(mac, 70);
	ip_of(ip, 70);
	for (unsigned i = 0; i < 30; i++) {
		/* probes (ANY, 250 ms apart) and announcements: normal mDNS */
		size_t n = dns_msg(dns, 0, false, "speaker.local", IOTDNS_T_ANY, 0, 0, 0);
		feed(T0 + i * 250 * MS, fr, frame4(fr, mac, mc_mac, ip, mc, 17, 5353, 5353, 0, dns, n));
		n = dns_msg(dns, 0, true, "speaker.local", 1, 0, 1, 120);
		feed(T0 + i * 250 * MS + 10 * MS, fr, frame4(fr, mac, mc_mac, ip, mc, 17, 5353, 5353, 0, dns, n));
	}
	finish();
	CHECK_EQ_INT(nfindings(70), 0);
	CHECK_EQ_INT(status(70), IOTDNS_STATUS_NA);
	CHECK(strstr(detail(70), "30 mDNS") != NULL);
	stop();
	printf("# per-device state: %zu bytes\n", iotdns_chk_amplification_risk.dev_state_size);
	CHECK(iotdns_chk_amplification_risk.dev_state_size <= 2560);
}


/* ---- the rate windows against a brute-force count --------------------------------------- */

static void t_windows(void)
{
	/* random query times: bursts, pauses, gaps longer than the rings */
	enum { N = 3000 };
	static uint64_t ts[N];
	uint64_t t = T0, x = 12345;
	for (unsigned i = 0; i < N; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		unsigned r = (unsigned)(x >> 33) % 1000;
		uint64_t gap = r < 700 ? (x >> 20) % (300 * MS) : r < 950 ? (x >> 20) % (5 * S) : (x >> 20) % (400 * S);
		t += gap;
		ts[i] = t;
	}
	/* expected: at each query, queries in the same or the 9 / 59 previous seconds,
	 * and in the same or the 29 previous ten-second buckets */
	unsigned p10 = 0, p60 = 0, p300 = 0;
	for (unsigned i = 0; i < N; i++) {
		unsigned c10 = 0, c60 = 0, c300 = 0;
		uint64_t sec = ts[i] / S, ten = ts[i] / (10 * S);
		for (unsigned j = 0; j <= i; j++) {
			uint64_t sj = ts[j] / S, tj = ts[j] / (10 * S);
			c10 += sec - sj < 10;
			c60 += sec - sj < 60;
			c300 += ten - tj < 30;
		}
		p10 = c10 > p10 ? c10 : p10;
		p60 = c60 > p60 ? c60 : p60;
		p300 = c300 > p300 ? c300 : p300;
	}
	start(NULL, 0);
	char name[64];
	for (unsigned i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "w%u.example.test", i);
		ask_answer(80, ts[i], (uint16_t)i, name, 0, 1);
	}
	finish();
	char want[96];
	snprintf(want, sizeof(want), "peak %u/10s %u/60s %u/300s", p10, p60, p300);
	printf("# expected %s; detail: %s\n", want, detail(80));
	CHECK(strstr(detail(80), want) != NULL);
	CHECK(p60 > p10 && p300 > p60); /* the data exercise all three windows */
	stop();
}

int main(void)
{
	t_negative();
	t_retry();
	t_rate();
	t_any();
	t_reflector();
	t_mdns_only();
	t_windows();
	return tap_done();
}

/* hardcoded-resolver: driven through a real engine with hand-built frames
 * (tests/unit/pktbuild.h), only this checker registered. Covers every code,
 * the borderline cases of issue 3 (parallel queries to two provided
 * resolvers, a stray query, an inferred provided resolver, a device that
 * only uses the provided resolvers), the provided set from DHCP, --resolver
 * and inference, options, and ASN naming with a MaxMind test database. */
#include <limits.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "iotdns/engine.h"
#include "iotdns/enrich.h"
#include "iotdns/finding.h"
#include "pktbuild.h"

extern const struct iotdns_checker iotdns_chk_hardcoded_resolver;
static const struct iotdns_checker *const only_me[] = { &iotdns_chk_hardcoded_resolver, NULL };

static const uint8_t MAC_GW[6] = { 0x50, 0xc7, 0xbf, 0x00, 0x00, 0x01 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t IP_GW[4] = { 192, 168, 1, 1 };
static const uint8_t IP_PI[4] = { 192, 168, 1, 2 };
static const uint8_t IP_114[4] = { 114, 114, 114, 114 };
static const uint8_t IP_G1[4] = { 8, 8, 8, 8 };
static const uint8_t IP_G2[4] = { 8, 8, 4, 4 };
static const uint8_t IP_Q9[4] = { 9, 9, 9, 9 };
static const uint8_t IP_CF[4] = { 1, 1, 1, 1 };
static const uint8_t IP_TELSTRA[4] = { 1, 128, 0, 1 }; /* AS1221 in GeoLite2-ASN-Test.mmdb */
static const uint8_t IP_BC[4] = { 255, 255, 255, 255 };
static const uint8_t IP_ZERO[4] = { 0, 0, 0, 0 };
static const uint8_t DNS_OFFER[2][4] = { { 192, 168, 1, 1 }, { 192, 168, 1, 2 } };

static const uint64_t T0 = 1714809600ull * 1000000;
#define SEC 1000000ull

struct dv {
	uint8_t mac[6];
	uint8_t ip[4];
	uint16_t port;
	uint16_t id;
};

static struct iotdns_engine *E;

static void feed(uint64_t ts, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h = pkthdr(ts, len);
	iotdns_engine_packet(E, &h, frame);
}

static void dev_init(struct dv *d, uint8_t last)
{
	static const uint8_t base[6] = { 0x02, 0x42, 0xbc, 0x00, 0x00, 0x00 };
	memcpy(d->mac, base, 6);
	d->mac[5] = last;
	d->ip[0] = 192, d->ip[1] = 168, d->ip[2] = 1, d->ip[3] = last;
	d->port = (uint16_t)(33000 + last * 97);
	d->id = (uint16_t)(last * 1000);
}

static void dhcp(const struct dv *d, uint64_t ts, int ndns)
{
	uint8_t buf[1024], fr[1500];
	size_t n = dhcp4_msg(buf, 1, 1, d->mac, NULL, NULL, 0, "dev");
	feed(ts, fr, frame4(fr, d->mac, BCAST, IP_ZERO, IP_BC, 17, 68, 67, 0, buf, n));
	n = dhcp4_msg(buf, 2, 5, d->mac, NULL, DNS_OFFER, ndns, NULL);
	feed(ts + 1000, fr, frame4(fr, MAC_GW, d->mac, IP_GW, IP_BC, 17, 67, 68, 0, buf, n));
}

/* A query from d to rip; answered after 20 ms unless answer is false. */
static void query(struct dv *d, uint64_t ts, const uint8_t *rip, const char *name, bool answer)
{
	uint8_t dns[512], fr[1024];
	uint16_t id = d->id++, port = d->port++;
	size_t n = dns_msg(dns, id, false, name, 1, 0, 0, 0);
	feed(ts, fr, frame4(fr, d->mac, MAC_GW, d->ip, rip, 17, port, 53, 0, dns, n));
	if (!answer)
		return;
	n = dns_msg(dns, id, true, name, 1, 0, 1, 300);
	feed(ts + 20000, fr, frame4(fr, MAC_GW, d->mac, rip, d->ip, 17, 53, port, 0, dns, n));
}

static void syn(const struct dv *d, uint64_t ts, const uint8_t *dip, uint16_t dport)
{
	uint8_t fr[256], none[1] = { 0 }; /* no payload (memcpy must not see NULL) */
	feed(ts, fr, frame4(fr, d->mac, MAC_GW, d->ip, dip, 6, d->port, dport, 0x02, none, 0));
}

static struct iotdns_device *dev_of(const struct dv *d)
{
	return iotdns_devtab_by_mac(iotdns_engine_devices(E), d->mac, false);
}

/* The finding of code for d (NULL if none); *count = how many it has. */
static const struct iotdns_finding *finding(const struct dv *d, const char *code)
{
	struct iotdns_device *dev = dev_of(d);
	for (uint32_t i = 0; dev && i < iotdns_engine_finding_count(E); i++) {
		const struct iotdns_finding *f = iotdns_engine_finding(E, i);
		if (f->dev == dev && strcmp(f->kind->code, code) == 0)
			return f;
	}
	return NULL;
}

static unsigned nfindings(const struct dv *d)
{
	struct iotdns_device *dev = dev_of(d);
	unsigned n = 0;
	for (uint32_t i = 0; dev && i < iotdns_engine_finding_count(E); i++)
		n += iotdns_engine_finding(E, i)->dev == dev;
	return n;
}

static int status(const struct dv *d)
{
	struct iotdns_device *dev = dev_of(d);
	return dev && dev->chk_result ? dev->chk_result[0].status : -1;
}

static const char *detail(const struct dv *d)
{
	struct iotdns_device *dev = dev_of(d);
	return dev && dev->chk_result ? dev->chk_result[0].detail : "";
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static struct iotdns_enrich *open_enrich(const char *asn)
{
	struct iotdns_enrich *en = NULL;
	struct iotdns_err err = { "" };
	if (iotdns_enrich_open(&en, NULL, asn, NULL, &err) != IOTDNS_OK) {
		printf("# enrich: %s\n", err.msg);
		return NULL;
	}
	return en;
}

static void start(struct iotdns_enrich *en, const char *const *resolvers, const char *set_key, double set_val)
{
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	iotdns_engine_config_default(&cfg);
	cfg.checkers = only_me;
	cfg.enrich = en;
	for (; resolvers && *resolvers; resolvers++)
		iotdns_addr_parse(*resolvers, &cfg.resolvers[cfg.nresolvers++]);
	if (set_key) {
		snprintf(cfg.sets[0].key, sizeof(cfg.sets[0].key), "%s", set_key);
		cfg.sets[0].value = set_val;
		cfg.nsets = 1;
	}
	int rc = iotdns_engine_new(&E, &cfg, &err);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	if (rc != IOTDNS_OK) {
		printf("# %s\n", err.msg);
		exit(tap_done() | 1);
	}
	iotdns_engine_begin_input(E, "unit.pcap", DLT_EN10MB);
}

/* ---- 1. a home network with DHCP handing out 192.168.1.1 and .2 ---------------- */

static void t_dhcp_network(struct iotdns_enrich *en, double secondary_share)
{
	struct dv good, hard, stray, par, fb, fbe, enc, second, tapo, router;
	dev_init(&good, 10);
	dev_init(&hard, 11);
	dev_init(&stray, 12);
	dev_init(&par, 13);
	dev_init(&fb, 14);
	dev_init(&fbe, 15);
	dev_init(&enc, 16);
	dev_init(&second, 17);
	dev_init(&tapo, 18);
	memcpy(router.mac, MAC_GW, 6);
	memcpy(router.ip, IP_GW, 4);
	router.port = 5000;
	router.id = 1;
	start(en, NULL, secondary_share >= 0 ? "hardcoded-resolver.secondary-share" : NULL, secondary_share);

	uint64_t t = T0;
	/* the router forwards upstream: it queries 8.8.8.8 and answers the devices */
	query(&router, t, IP_G1, "upstream.example.test", true);
	t += SEC;
	dhcp(&good, t, 2);
	for (int i = 0; i < 20; i++)
		query(&good, t + 2 * SEC + (uint64_t)i * 30 * SEC, IP_GW, "api.good.test", true);
	t += 1000 * SEC;
	dhcp(&hard, t, 2);
	for (int i = 0; i < 20; i++)
		query(&hard, t + 2 * SEC + (uint64_t)i * 30 * SEC, IP_114, "api.monitor.test", true);
	t += 1000 * SEC;
	/* 30 queries to the provided resolver and one stray query to 8.8.8.8 */
	dhcp(&stray, t, 2);
	for (int i = 0; i < 30; i++)
		query(&stray, t + 2 * SEC + (uint64_t)i * 20 * SEC, IP_GW, "api.stray.test", true);
	query(&stray, t + 700 * SEC, IP_G1, "connectivity.stray.test", true);
	t += 1000 * SEC;
	/* every question to both provided resolvers, 0.3 ms apart */
	dhcp(&par, t, 2);
	for (int i = 0; i < 20; i++) {
		uint64_t q = t + 2 * SEC + (uint64_t)i * 30 * SEC;
		query(&par, q, IP_GW, "weather.display.test", true);
		query(&par, q + 300, IP_PI, "weather.display.test", true);
	}
	t += 1000 * SEC;
	/* fallback after the time-out: unanswered at .1, re-asked at 114 50 s later */
	dhcp(&fb, t, 2);
	for (int i = 0; i < 12; i++)
		query(&fb, t + 2 * SEC + (uint64_t)i * 10 * SEC, IP_GW, "ntp.hub.test", true);
	for (int i = 0; i < 3; i++) {
		uint64_t q = t + 200 * SEC + (uint64_t)i * 120 * SEC;
		query(&fb, q, IP_GW, "iot.hub.test", false);
		query(&fb, q + 50 * SEC, IP_114, "iot.hub.test", true);
	}
	t += 1000 * SEC;
	/* fallback before the time-out fires: re-asked at 114 after 3 s */
	dhcp(&fbe, t, 2);
	for (int i = 0; i < 12; i++)
		query(&fbe, t + 2 * SEC + (uint64_t)i * 10 * SEC, IP_GW, "ntp.hub2.test", true);
	for (int i = 0; i < 2; i++) {
		uint64_t q = t + 200 * SEC + (uint64_t)i * 60 * SEC;
		query(&fbe, q, IP_GW, "iot.hub2.test", false);
		query(&fbe, q + 3 * SEC, IP_114, "iot.hub2.test", true);
	}
	t += 1000 * SEC;
	/* plain DNS for one name, DoT and DoH to Cloudflare for the rest */
	dhcp(&enc, t, 2);
	for (int i = 0; i < 12; i++)
		query(&enc, t + 2 * SEC + (uint64_t)i * 30 * SEC, IP_GW, "pool.ntp.test", true);
	syn(&enc, t + 10 * SEC, IP_CF, 853);
	syn(&enc, t + 400 * SEC, IP_CF, 853);
	syn(&enc, t + 500 * SEC, IP_CF, 443);
	t += 1000 * SEC;
	/* 40 queries to the provided resolver, 6 (13 %) to Quad9 on its own schedule */
	dhcp(&second, t, 2);
	for (int i = 0; i < 40; i++)
		query(&second, t + 2 * SEC + (uint64_t)i * 20 * SEC, IP_GW, "api.second.test", true);
	for (int i = 0; i < 6; i++)
		query(&second, t + 15 * SEC + (uint64_t)i * 120 * SEC, IP_Q9, "check.second.test", true);
	t += 1000 * SEC;
	/* every question to the provided resolver and to 8.8.8.8 at once; some of
	 * the provided ones go unanswered: the copies are parallel, not fallback */
	dhcp(&tapo, t, 2);
	for (int i = 0; i < 10; i++) {
		uint64_t q = t + 2 * SEC + (uint64_t)i * 30 * SEC;
		/* either order: the public copy first on odd lookups */
		if (i % 2)
			query(&tapo, q, IP_G1, "relay.tapo.test", true);
		query(&tapo, q + 1000, IP_GW, "relay.tapo.test", i % 3 != 0);
		if (!(i % 2))
			query(&tapo, q + 2000, IP_G1, "relay.tapo.test", true);
	}
	iotdns_engine_finish(E);

	if (secondary_share >= 0) {
		/* --set hardcoded-resolver.secondary-share=0.5: Quad9's 13 % no longer counts */
		CHECK(finding(&second, "RESOLVER.HARDCODED_SECONDARY") == NULL);
		CHECK_EQ_INT(status(&second), IOTDNS_STATUS_PASS);
		CHECK(finding(&hard, "RESOLVER.HARDCODED") != NULL);
		iotdns_engine_free(E);
		return;
	}

	/* only the provided resolvers: pass */
	CHECK_EQ_INT(nfindings(&good), 0);
	CHECK_EQ_INT(status(&good), IOTDNS_STATUS_PASS);
	CHECK(has(detail(&good), "20 of 20 queries"));
	CHECK(has(detail(&good), "192.168.1.1 (dhcp)"));

	/* hardcoded 114.114.114.114 */
	const struct iotdns_finding *f = finding(&hard, "RESOLVER.HARDCODED");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->kind->severity, IOTDNS_SEV_MEDIUM);
		CHECK(has(f->summary, "20 of 20 queries (100.0%)"));
		CHECK(has(f->summary, "114.114.114.114 (114DNS, public)"));
		CHECK(has(f->metrics, "\"outside_share\":1"));
		CHECK(has(f->metrics, "\"provided_inferred\":false"));
		CHECK(has(f->metrics, "\"operator\":\"114DNS\""));
		/* the provided resolver works: it answered the other devices */
		CHECK(!has(f->metrics, "\"provided_answers_network\":0,"));
		CHECK(f->nev >= 1);
		if (f->nev) {
			CHECK(has(f->ev[0].text, "api.monitor.test to 114.114.114.114"));
			CHECK(f->ev[0].pktno > 0 && f->first_us == f->ev[0].ts_us);
		}
	}
	CHECK_EQ_INT(nfindings(&hard), 1);

	/* one stray query: not hardcoded */
	CHECK_EQ_INT(nfindings(&stray), 0);
	CHECK_EQ_INT(status(&stray), IOTDNS_STATUS_PASS);
	CHECK(has(detail(&stray), "1 elsewhere"));

	/* parallel to two provided resolvers: PARALLEL (info), never HARDCODED */
	f = finding(&par, "RESOLVER.PARALLEL");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->kind->severity, IOTDNS_SEV_INFO);
		CHECK(has(f->metrics, "\"parallel_lookups\":20"));
		CHECK(has(f->metrics, "\"all_provided\":true"));
		CHECK(f->nev == 2);
	}
	CHECK(finding(&par, "RESOLVER.HARDCODED") == NULL);
	CHECK(finding(&par, "RESOLVER.HARDCODED_SECONDARY") == NULL);
	CHECK_EQ_INT(nfindings(&par), 1);

	/* fallback after the time-out (50 s): FALLBACK, not HARDCODED */
	f = finding(&fb, "RESOLVER.FALLBACK");
	CHECK(f != NULL);
	if (f) {
		CHECK(has(f->metrics, "\"fallback_queries\":3"));
		CHECK(has(f->summary, "50.0 s after 192.168.1.1"));
		CHECK_EQ_INT(f->nev, 2);
		if (f->nev == 2)
			CHECK(f->ev[1].ts_us - f->ev[0].ts_us == 50 * SEC);
	}
	CHECK(finding(&fb, "RESOLVER.HARDCODED") == NULL);
	CHECK(finding(&fb, "RESOLVER.HARDCODED_SECONDARY") == NULL);
	CHECK(has(detail(&fb), "3 after failures"));

	/* fallback seen before the time-out fired */
	f = finding(&fbe, "RESOLVER.FALLBACK");
	CHECK(f != NULL);
	if (f) {
		CHECK(has(f->metrics, "\"fallback_queries\":2"));
		CHECK(has(f->metrics, "\"delay_min_s\":3"));
	}
	CHECK_EQ_INT(nfindings(&fbe), 1);

	/* DoT and DoH to a resolver nobody provided */
	f = finding(&enc, "RESOLVER.ENCRYPTED_BYPASS");
	CHECK(f != NULL);
	if (f) {
		CHECK(has(f->metrics, "\"dot_flows\":2"));
		CHECK(has(f->metrics, "\"doh_flows\":1"));
		CHECK(has(f->summary, "1.1.1.1 (Cloudflare, public)"));
		CHECK(f->first_us == T0 + 1 * SEC + 6000 * SEC + 10 * SEC);
		/* the first connection is cited as evidence, with its packet number */
		CHECK(f->nev == 1 && f->ev[0].pktno > 0 && f->ev[0].ts_us == f->first_us);
		CHECK(f->nev == 1 && has(f->ev[0].text, "TCP SYN to 1.1.1.1 port"));
	}
	CHECK_EQ_INT(nfindings(&enc), 1);

	/* a steady 13 % to Quad9: HARDCODED_SECONDARY, not HARDCODED */
	f = finding(&second, "RESOLVER.HARDCODED_SECONDARY");
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->kind->severity, IOTDNS_SEV_LOW);
		CHECK(has(f->summary, "6 of 46 queries"));
		CHECK(has(f->summary, "Quad9"));
	}
	CHECK(finding(&second, "RESOLVER.HARDCODED") == NULL);

	/* half of the queries to a public resolver, sent in parallel: HARDCODED */
	f = finding(&tapo, "RESOLVER.HARDCODED");
	CHECK(f != NULL);
	CHECK(f && has(f->summary, "10 of 20 queries (50.0%) went to 8.8.8.8 (Google Public DNS, public)"));
	CHECK(f && has(f->metrics, "\"fallback_queries\":0"));
	CHECK(finding(&tapo, "RESOLVER.FALLBACK") == NULL);
	CHECK(finding(&tapo, "RESOLVER.PARALLEL") != NULL);

	/* the router forwarding upstream is a resolver, not a client */
	CHECK_EQ_INT(status(&router), IOTDNS_STATUS_NA);
	CHECK_EQ_INT(nfindings(&router), 0);
	iotdns_engine_free(E);
}

/* ---- 2. no DHCP in the capture, no --resolver: inference ----------------------- */

static void t_inferred(struct iotdns_enrich *en)
{
	struct dv a, b, c, hard;
	dev_init(&a, 20);
	dev_init(&b, 21);
	dev_init(&c, 22);
	dev_init(&hard, 23);
	start(en, NULL, NULL, 0);
	uint64_t t = T0;
	for (int i = 0; i < 15; i++) {
		query(&a, t + (uint64_t)i * 20 * SEC, IP_GW, "a.test", true);
		query(&b, t + (uint64_t)i * 20 * SEC + SEC, IP_GW, "b.test", true);
		query(&c, t + (uint64_t)i * 20 * SEC + 2 * SEC, IP_GW, "c.test", true);
		query(&hard, t + (uint64_t)i * 20 * SEC + 3 * SEC, IP_114, "h.test", true);
	}
	iotdns_engine_finish(E);
	const struct iotdns_finding *f = finding(&hard, "RESOLVER.HARDCODED");
	CHECK(f != NULL);
	if (f) {
		CHECK(has(f->metrics, "\"provided_inferred\":true"));
		CHECK(has(f->metrics, "{\"address\":\"192.168.1.1\",\"by\":\"inferred\"}") ||
		      has(f->summary, "[inferred]"));
		CHECK(has(f->summary, "[inferred]"));
	}
	CHECK_EQ_INT(status(&a), IOTDNS_STATUS_PASS);
	CHECK(has(detail(&a), "192.168.1.1 (inferred)"));
	iotdns_engine_free(E);

	/* a public resolver shared by most devices is inferred too */
	start(en, NULL, NULL, 0);
	for (int i = 0; i < 15; i++) {
		query(&a, t + (uint64_t)i * 20 * SEC, IP_G1, "a.test", true);
		query(&b, t + (uint64_t)i * 20 * SEC + SEC, IP_G1, "b.test", true);
		query(&hard, t + (uint64_t)i * 20 * SEC + 3 * SEC, IP_114, "h.test", true);
	}
	iotdns_engine_finish(E);
	CHECK(finding(&hard, "RESOLVER.HARDCODED") != NULL);
	CHECK_EQ_INT(status(&a), IOTDNS_STATUS_PASS);
	CHECK(has(detail(&a), "8.8.8.8 (inferred)"));
	iotdns_engine_free(E);

	/* without offers, resolvers shared by many devices are all inferred: 8.8.8.8
	 * (8 devices) and 8.8.4.4 (4 >= 0.3 x 8); 114.114.114.114 (2 < 2.4) is not */
	start(en, NULL, NULL, 0);
	struct dv many[10];
	for (int k = 0; k < 10; k++)
		dev_init(&many[k], (uint8_t)(50 + k));
	for (int i = 0; i < 15; i++)
		for (int k = 0; k < 10; k++) {
			uint64_t q = t + (uint64_t)i * 20 * SEC + (uint64_t)k * 100000;
			if (k < 8)
				query(&many[k], q, i % 3 == 0 && k < 4 ? IP_G2 : IP_G1, "m.test", true);
			else
				query(&many[k], q, IP_114, "m.test", true);
		}
	iotdns_engine_finish(E);
	for (int k = 0; k < 10; k++) {
		const struct iotdns_finding *hf = finding(&many[k], "RESOLVER.HARDCODED");
		CHECK(k < 8 ? nfindings(&many[k]) == 0 : hf != NULL);
		if (k < 8)
			CHECK_EQ_INT(status(&many[k]), IOTDNS_STATUS_PASS);
		else if (hf)
			CHECK(has(hf->summary, "provided [inferred]: 8.8.8.8, 8.8.4.4"));
	}
	iotdns_engine_free(E);

	/* one device alone, public resolvers only: the provided set cannot be told */
	start(en, NULL, NULL, 0);
	for (int i = 0; i < 15; i++) {
		query(&hard, t + (uint64_t)i * 20 * SEC, IP_114, "h.test", true);
		query(&hard, t + (uint64_t)i * 20 * SEC + SEC, IP_G1, "h2.test", true);
	}
	iotdns_engine_finish(E);
	CHECK_EQ_INT(nfindings(&hard), 0);
	CHECK_EQ_INT(status(&hard), IOTDNS_STATUS_INSUFFICIENT);
	CHECK(has(detail(&hard), "cannot tell which resolvers are provided"));
	iotdns_engine_free(E);
}

/* ---- 3. --resolver 8.8.8.8,8.8.4.4 (the doh_iot network) ------------------------- */

static void t_config(struct iotdns_enrich *en)
{
	static const char *const res[] = { "8.8.8.8", "8.8.4.4", NULL };
	struct dv hub, few, mon, three;
	dev_init(&hub, 30);
	dev_init(&few, 31);
	dev_init(&mon, 32);
	dev_init(&three, 33);
	start(en, res, NULL, 0);
	uint64_t t = T0;
	for (int i = 0; i < 30; i++) {
		query(&hub, t + (uint64_t)i * 10 * SEC, IP_G1, "clients.hub.test", true);
		query(&hub, t + (uint64_t)i * 10 * SEC + 2000, IP_G2, "clients.hub.test", true);
	}
	for (int i = 0; i < 4; i++)
		query(&few, t + (uint64_t)i * 10 * SEC + 5 * SEC, IP_G1, "few.test", true);
	for (int i = 0; i < 40; i++)
		query(&mon, t + (uint64_t)i * 10 * SEC + 7 * SEC, i % 20 == 19 ? IP_G1 : IP_114, "mon.test", true);
	/* 8 provided, 3 (27 %) outside: a large share but too few queries to tell */
	for (int i = 0; i < 11; i++)
		query(&three, t + (uint64_t)i * 10 * SEC + 8 * SEC, i < 3 ? IP_114 : IP_G1, "three.test", true);
	iotdns_engine_finish(E);
	CHECK_EQ_INT(nfindings(&three), 0);
	CHECK_EQ_INT(status(&three), IOTDNS_STATUS_INSUFFICIENT);
	CHECK(has(detail(&three), "3 of the 5 needed"));
	const struct iotdns_finding *f = finding(&hub, "RESOLVER.PARALLEL");
	CHECK(f != NULL);
	CHECK(f && has(f->summary, "30 of 30 lookups"));
	CHECK_EQ_INT(nfindings(&hub), 1);
	CHECK(has(detail(&hub), "8.8.8.8 (config)"));
	/* too few queries for a verdict */
	CHECK_EQ_INT(status(&few), IOTDNS_STATUS_INSUFFICIENT);
	CHECK(has(detail(&few), "4 of 10 queries"));
	f = finding(&mon, "RESOLVER.HARDCODED");
	CHECK(f != NULL);
	CHECK(f && has(f->summary, "38 of 40 queries (95.0%)"));
	iotdns_engine_free(E);
}

/* ---- 4. ASN of a non-public resolver (MaxMind test database) --------------------- */

static void t_asn(void)
{
	const char *root = getenv("IOTDNS_SOURCE_ROOT");
	char asn[PATH_MAX];
	snprintf(asn, sizeof(asn), "%s/../shared/corpus/mmdb/GeoLite2-ASN-Test.mmdb", root ? root : ".");
	FILE *fp = fopen(asn, "rb");
	if (!fp) {
		printf("ok %d # SKIP corpus absent\n", ++tap_n);
		return;
	}
	fclose(fp);
	struct iotdns_enrich *en = open_enrich(asn);
	CHECK(en != NULL);
	if (!en)
		return;
	struct dv d;
	dev_init(&d, 40);
	start(en, NULL, NULL, 0);
	dhcp(&d, T0, 1);
	for (int i = 0; i < 12; i++)
		query(&d, T0 + SEC + (uint64_t)i * 20 * SEC, IP_TELSTRA, "x.test", true);
	iotdns_engine_finish(E);
	const struct iotdns_finding *f = finding(&d, "RESOLVER.HARDCODED");
	CHECK(f != NULL);
	CHECK(f && has(f->summary, "1.128.0.1 (AS1221 Telstra Pty Ltd)"));
	CHECK(f && has(f->metrics, "\"class\":\"other\""));
	CHECK(f && has(f->metrics, "\"asn\":1221"));
	iotdns_engine_free(E);
	iotdns_enrich_close(en);
}

int main(void)
{
	struct iotdns_enrich *en = open_enrich(NULL);
	CHECK(en != NULL);
	if (!en)
		return tap_done();
	/* the descriptor itself */
	const struct iotdns_checker *c = &iotdns_chk_hardcoded_resolver;
	CHECK_EQ_STR(c->id, "hardcoded-resolver");
	unsigned nk = 0;
	for (const struct iotdns_finding_kind *k = c->kinds; k->code; k++) {
		nk++;
		CHECK(k->why && k->fix && k->refs && k->title);
	}
	CHECK_EQ_INT(nk, 5);

	t_dhcp_network(en, -1);
	t_dhcp_network(en, 0.5);
	t_inferred(en);
	t_config(en);
	t_asn();
	iotdns_enrich_close(en);
	return tap_done();
}

/* transport-privacy: EDNS(0) use and sizes, DO/cookies/padding, ECS, TCP
 * fallback after TC=1, resolver discovery, 0x20, encrypted-only and
 * plaintext-only devices, minimum evidence. Frames go through a real engine
 * with only this checker registered, so the events arrive as in a run. */
#include <pcap/dlt.h>

#include "harness.h"
#include "iotdns/engine.h"
#include "iotdns/finding.h"
#include "pktbuild.h"

extern const struct iotdns_checker iotdns_chk_transport_privacy;
static const struct iotdns_checker *const registry[] = { &iotdns_chk_transport_privacy, NULL };

static const uint8_t MAC_GW[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t IP_RES[4] = { 192, 168, 1, 1 };
static const uint8_t IP_DOT[4] = { 1, 1, 1, 1 };

static struct iotdns_engine *E;
static uint64_t T0 = 1700000000ull * 1000000;

struct dev {
	uint8_t mac[6];
	uint8_t ip[4];
	uint16_t id;
	uint16_t port;
};

static void mkdev(struct dev *d, unsigned n)
{
	const uint8_t mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)n };
	const uint8_t ip[4] = { 192, 168, 1, (uint8_t)(10 + n) };
	memcpy(d->mac, mac, 6);
	memcpy(d->ip, ip, 4);
	d->id = (uint16_t)(n * 977);
	d->port = (uint16_t)(30000 + n * 131);
}

static void feed(uint64_t ts, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h = pkthdr(ts, len);
	iotdns_engine_packet(E, &h, frame);
}

struct opt {
	int size;          /* -1: no OPT record */
	bool do_bit;
	int ecs_prefix;    /* -1: none */
	bool cookie, padding;
};
static const struct opt NO_OPT = { -1, false, -1, false, false };
static const struct opt OPT1232 = { 1232, false, -1, false, false };

/* DNS message with an optional OPT record (ECS, cookie, padding options). */
static size_t dns(uint8_t *out, uint16_t id, bool qr, bool tc, const char *qname, uint16_t qtype, struct opt o)
{
	struct pb p = { .n = 0 };
	pb_u16(&p, id);
	pb_u16(&p, (qr ? 0x8180 : 0x0100) | (tc ? 0x0200 : 0));
	pb_u16(&p, 1);
	pb_u16(&p, 0);
	pb_u16(&p, 0);
	pb_u16(&p, o.size >= 0 ? 1 : 0);
	pb_name(&p, qname);
	pb_u16(&p, qtype);
	pb_u16(&p, 1);
	if (o.size >= 0) {
		struct pb r = { .n = 0 };
		if (o.ecs_prefix >= 0) {
			unsigned nb = ((unsigned)o.ecs_prefix + 7) / 8;
			pb_u16(&r, 8);
			pb_u16(&r, 4 + nb);
			pb_u16(&r, 1);
			pb_u8(&r, (unsigned)o.ecs_prefix);
			pb_u8(&r, 0);
			static const uint8_t a[4] = { 192, 168, 1, 0 };
			pb_mem(&r, a, nb);
		}
		if (o.cookie) {
			pb_u16(&r, 10);
			pb_u16(&r, 8);
			pb_u32(&r, 0x01020304);
			pb_u32(&r, 0x05060708);
		}
		if (o.padding) {
			pb_u16(&r, 12);
			pb_u16(&r, 16);
			for (int i = 0; i < 16; i++)
				pb_u8(&r, 0);
		}
		pb_u8(&p, 0);
		pb_u16(&p, 41);
		pb_u16(&p, (unsigned)o.size);
		pb_u32(&p, o.do_bit ? 0x8000 : 0);
		pb_u16(&p, (unsigned)r.n);
		pb_mem(&p, r.b, r.n);
	}
	memcpy(out, p.b, p.n);
	return p.n;
}

/* A UDP query from d; a fresh ID and port each time unless same is set. */
static void q_udp(struct dev *d, uint64_t ts, const char *name, uint16_t qtype, struct opt o)
{
	uint8_t m[1024], fr[1500];
	d->id = (uint16_t)(d->id + 7919);
	d->port = (uint16_t)(d->port + 1009);
	if (d->port < 1024)
		d->port = (uint16_t)(d->port + 30000);
	size_t n = dns(m, d->id, false, false, name, qtype, o);
	feed(ts, fr, frame4(fr, d->mac, MAC_GW, d->ip, IP_RES, 17, d->port, 53, 0, m, n));
}

/* The resolver's answer to d's last query, optionally truncated. */
static void a_udp(struct dev *d, uint64_t ts, const char *name, uint16_t qtype, bool tc)
{
	uint8_t m[1024], fr[1500];
	size_t n = dns(m, d->id, true, tc, name, qtype, NO_OPT);
	feed(ts, fr, frame4(fr, MAC_GW, d->mac, IP_RES, d->ip, 17, 53, d->port, 0, m, n));
}

/* One query over TCP (a single segment, RFC 7766 length prefix) to dst. */
static void q_tcp_to(struct dev *d, uint64_t ts, const char *name, uint16_t qtype, const uint8_t dst[4])
{
	uint8_t m[1024], fr[1500];
	d->id = (uint16_t)(d->id + 7919);
	size_t n = dns(m + 2, d->id, false, false, name, qtype, OPT1232);
	m[0] = (uint8_t)(n >> 8);
	m[1] = (uint8_t)n;
	feed(ts, fr, frame4(fr, d->mac, MAC_GW, d->ip, dst, 6, 40001, 53, 0x18, m, n + 2));
}

static void q_tcp(struct dev *d, uint64_t ts, const char *name, uint16_t qtype)
{
	q_tcp_to(d, ts, name, qtype, IP_RES);
}

static void q_many(struct dev *d, uint64_t *ts, unsigned n, const char *name, struct opt o)
{
	for (unsigned i = 0; i < n; i++) {
		q_udp(d, *ts, name, 1, o);
		a_udp(d, *ts + 5000, name, 1, false);
		*ts += 30000000; /* 30 s apart */
	}
}

static struct iotdns_device *devof(const struct dev *d)
{
	return iotdns_devtab_by_mac(iotdns_engine_devices(E), d->mac, false);
}

static const struct iotdns_check_result *res(const struct dev *d)
{
	struct iotdns_device *dv = devof(d);
	return dv && dv->chk_result ? &dv->chk_result[0] : NULL;
}

static const struct iotdns_finding *find(const struct dev *d, const char *code)
{
	struct iotdns_device *dv = devof(d);
	for (uint32_t i = 0; i < iotdns_engine_finding_count(E); i++) {
		const struct iotdns_finding *f = iotdns_engine_finding(E, i);
		if (f->dev == dv && strcmp(f->kind->code, code) == 0)
			return f;
	}
	return NULL;
}

static unsigned nfindings(const struct dev *d)
{
	struct iotdns_device *dv = devof(d);
	unsigned n = 0;
	for (uint32_t i = 0; i < iotdns_engine_finding_count(E); i++)
		n += iotdns_engine_finding(E, i)->dev == dv;
	return n;
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static void start(unsigned nsets, const char *const *keys, const double *vals)
{
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	iotdns_engine_config_default(&cfg);
	cfg.checkers = registry;
	for (unsigned i = 0; i < nsets; i++) {
		snprintf(cfg.sets[i].key, sizeof(cfg.sets[i].key), "%s", keys[i]);
		cfg.sets[i].value = vals[i];
	}
	cfg.nsets = nsets;
	CHECK_EQ_INT(iotdns_engine_new(&E, &cfg, &err), 0);
	iotdns_engine_begin_input(E, "unit.pcap", DLT_EN10MB);
}

int main(void)
{
	struct dev edns, noedns, few, once, small, big, edge, ecs, optout, tcok, tcmiss, tclate, tcend, casev, casefix,
		ddr, dot, mixed, mdns, retr, tcother, tcpar;
	struct dev *all[] = { &edns, &noedns, &few, &once, &small, &big, &edge, &ecs, &optout, &tcok, &tcmiss, &tclate,
			      &tcend, &casev, &casefix, &ddr, &dot, &mixed, &mdns, &retr, &tcother, &tcpar };
	for (unsigned i = 0; i < IOTDNS_ARRAY_LEN(all); i++)
		mkdev(all[i], i + 1);

	start(0, NULL, NULL);
	uint64_t ts;

	/* EDNS 1232 in every query, cookies and padding in all: pass, recorded */
	ts = T0;
	q_many(&edns, &ts, 25, "api.example.test", (struct opt){ 1232, true, -1, true, true });
	/* never EDNS over 25 queries: NO_EDNS */
	ts = T0 + 1000;
	q_many(&noedns, &ts, 25, "api.example.test", NO_OPT);
	/* never EDNS, but only 12 queries: insufficient */
	ts = T0 + 2000;
	q_many(&few, &ts, 12, "api.example.test", NO_OPT);
	/* one OPT among 25 queries is enough to mark "uses EDNS" */
	ts = T0 + 3000;
	q_many(&once, &ts, 1, "a.example.test", OPT1232);
	q_many(&once, &ts, 24, "b.example.test", NO_OPT);
	/* advertised sizes: 256 (too small), 8192 (too big), 4096 and 512 (limits, fine) */
	ts = T0 + 4000;
	q_many(&small, &ts, 5, "api.example.test", (struct opt){ 256, false, -1, false, false });
	ts = T0 + 5000;
	q_many(&big, &ts, 5, "api.example.test", (struct opt){ 8192, false, -1, false, false });
	ts = T0 + 6000;
	q_many(&edge, &ts, 5, "api.example.test", (struct opt){ 4096, false, -1, false, false });
	q_many(&edge, &ts, 5, "api.example.test", (struct opt){ 512, false, -1, false, false });
	/* client subnet /24: a leak; /0: the RFC 7871 opt-out */
	ts = T0 + 7000;
	q_many(&ecs, &ts, 3, "api.example.test", (struct opt){ 1232, false, 24, false, false });
	q_many(&ecs, &ts, 3, "api.example.test", OPT1232);
	ts = T0 + 8000;
	q_many(&optout, &ts, 3, "api.example.test", (struct opt){ 1232, false, 0, false, false });

	/* TC=1, then the same name over TCP 20 ms later: fallback works */
	ts = T0 + 9000;
	q_udp(&tcok, ts, "big.example.test", 16, OPT1232);
	a_udp(&tcok, ts + 5000, "big.example.test", 16, true);
	q_tcp(&tcok, ts + 25000, "big.example.test", 16);
	/* TC=1 and no TCP retry (the device goes on with other names) */
	ts = T0 + 10000;
	q_udp(&tcmiss, ts, "big.example.test", 16, NO_OPT);
	a_udp(&tcmiss, ts + 5000, "big.example.test", 16, true);
	ts += 10000000;
	q_many(&tcmiss, &ts, 3, "other.example.test", NO_OPT);
	/* TC=1 and a TCP retry 5 s later: too late for the 2 s window */
	ts = T0 + 11000;
	q_udp(&tclate, ts, "big.example.test", 16, NO_OPT);
	a_udp(&tclate, ts + 5000, "big.example.test", 16, true);
	q_tcp(&tclate, ts + 5000000, "big.example.test", 16);

	/* TC=1 from 192.168.1.1, the TCP retry goes to another resolver: not a fallback */
	ts = T0 + 11500;
	q_udp(&tcother, ts, "big.example.test", 16, NO_OPT);
	a_udp(&tcother, ts + 5000, "big.example.test", 16, true);
	{
		static const uint8_t other[4] = { 192, 168, 1, 2 };
		q_tcp_to(&tcother, ts + 30000, "big.example.test", 16, other);
	}

	/* TC=1 from 192.168.1.1 while the parallel query to 192.168.1.2 gets the full answer */
	ts = T0 + 11700;
	q_udp(&tcpar, ts, "big.example.test", 16, OPT1232);
	a_udp(&tcpar, ts + 5000, "big.example.test", 16, true);
	{
		static const uint8_t other[4] = { 192, 168, 1, 2 };
		uint8_t m[512], fr[1024];
		size_t n = dns(m, 4242, false, false, "big.example.test", 16, OPT1232);
		feed(ts + 1000, fr, frame4(fr, tcpar.mac, MAC_GW, tcpar.ip, other, 17, 41414, 53, 0, m, n));
		n = dns(m, 4242, true, false, "big.example.test", 16, OPT1232);
		feed(ts + 9000, fr, frame4(fr, MAC_GW, tcpar.mac, other, tcpar.ip, 17, 53, 41414, 0, m, n));
	}

	/* 0x20: the case of one name changes between queries (3 names) */
	ts = T0 + 12000;
	const char *varied[] = { "ApI.ExAmple.test", "aPi.eXample.TEST", "Cdn.example.test", "cDN.Example.test",
				 "Www.Example.Test", "wWW.eXAMPLE.test" };
	for (unsigned i = 0; i < 6; i++)
		q_many(&casev, &ts, 1, varied[i], OPT1232);
	/* a fixed mixed-case name repeated is not 0x20 */
	ts = T0 + 13000;
	q_many(&casefix, &ts, 6, "WWW.Example.COM", OPT1232);
	/* resolver discovery (RFC 9462) */
	ts = T0 + 14000;
	q_udp(&ddr, ts, "_dns.resolver.arpa", 64, OPT1232);
	q_udp(&ddr, ts + 60000000, "_dns.resolver.arpa", 64, OPT1232);
	q_udp(&ddr, ts + 120000000, "_dns.resolver.arpa", 1, OPT1232); /* not SVCB: not discovery */
	/* DoT only: four connections to 1.1.1.1:853 */
	{
		uint8_t fr[256];
		for (unsigned i = 0; i < 4; i++)
			feed(T0 + 15000 + i * 60000000ull, fr,
			     frame4(fr, dot.mac, MAC_GW, dot.ip, IP_DOT, 6, (uint16_t)(50000 + i), 853, 0x02, fr, 0));
	}
	/* 20 Do53 queries and 5 DoT connections */
	ts = T0 + 16000;
	q_many(&mixed, &ts, 20, "api.example.test", OPT1232);
	{
		uint8_t fr[256];
		for (unsigned i = 0; i < 5; i++)
			feed(T0 + 16500 + i * 60000000ull, fr,
			     frame4(fr, mixed.mac, MAC_GW, mixed.ip, IP_DOT, 6, (uint16_t)(51000 + i), 853, 0x02, fr, 0));
	}
	/* mDNS only */
	{
		uint8_t m[512], fr[1024];
		const uint8_t mcast[4] = { 224, 0, 0, 251 };
		const uint8_t mmac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
		size_t n = dns(m, 0, false, false, "_hap._tcp.local", 12, NO_OPT);
		feed(T0 + 17000, fr, frame4(fr, mdns.mac, mmac, mdns.ip, mcast, 17, 5353, 5353, 0, m, n));
	}
	/* 18 queries plus 6 retransmissions (same ID and port, unanswered): 18 count */
	ts = T0 + 18000;
	for (unsigned i = 0; i < 18; i++) {
		q_udp(&retr, ts, "api.example.test", 1, NO_OPT);
		if (i < 6) {
			uint8_t m[512], fr[1024];
			size_t n = dns(m, retr.id, false, false, "api.example.test", 1, NO_OPT);
			feed(ts + 1000000, fr, frame4(fr, retr.mac, MAC_GW, retr.ip, IP_RES, 17, retr.port, 53, 0, m, n));
		}
		a_udp(&retr, ts + 1500000, "api.example.test", 1, false);
		ts += 30000000;
	}
	/* last: a truncation at the very end of the capture: undecided, never judged */
	ts = T0 + 25 * 30000000ull + 60000000;
	q_udp(&tcend, ts, "big.example.test", 16, NO_OPT);
	a_udp(&tcend, ts + 5000, "big.example.test", 16, true);

	iotdns_engine_finish(E);

	const struct iotdns_check_result *r;
	const struct iotdns_finding *f;

	r = res(&edns);
	CHECK(r && r->status == IOTDNS_STATUS_PASS);
	CHECK(r && has(r->detail, "EDNS 1232 in 100% of 25 queries"));
	CHECK(r && has(r->detail, "DO 100%"));
	CHECK(r && has(r->detail, "cookies 100%"));
	CHECK(r && has(r->detail, "padding 100%"));
	CHECK(r && has(r->detail, "plaintext only"));
	CHECK_EQ_INT(nfindings(&edns), 0);

	f = find(&noedns, "TRANSPORT.NO_EDNS");
	CHECK(f != NULL);
	CHECK(f && f->kind->severity == IOTDNS_SEV_INFO);
	CHECK(f && has(f->metrics, "\"queries\":25"));
	CHECK(f && f->nev == 3);
	CHECK(f && has(f->ev[0].text, "no OPT record"));
	/* an info finding is an observation: the check itself passes */
	CHECK(res(&noedns) && res(&noedns)->status == IOTDNS_STATUS_PASS);

	r = res(&few);
	CHECK(r && r->status == IOTDNS_STATUS_INSUFFICIENT);
	CHECK(r && has(r->detail, "12 of 20 queries needed"));
	CHECK_EQ_INT(nfindings(&few), 0);

	r = res(&once);
	CHECK(r && r->status == IOTDNS_STATUS_PASS);
	CHECK(r && has(r->detail, "EDNS 1232 in 4% of 25 queries"));
	CHECK(find(&once, "TRANSPORT.NO_EDNS") == NULL);

	f = find(&small, "TRANSPORT.EDNS_SIZE");
	CHECK(f && f->kind->severity == IOTDNS_SEV_LOW);
	CHECK(f && has(f->metrics, "\"edns_sizes\":{\"256\":5}"));
	CHECK(f && f->nev == 5 && has(f->ev[0].text, "EDNS UDP size 256"));
	CHECK(find(&big, "TRANSPORT.EDNS_SIZE") != NULL);
	CHECK(find(&edge, "TRANSPORT.EDNS_SIZE") == NULL);
	CHECK(res(&edge) && has(res(&edge)->detail, "4096 (50%), 512 (50%)"));
	CHECK(res(&small) && res(&small)->status == IOTDNS_STATUS_FAIL);

	f = find(&ecs, "PRIVACY.ECS_SENT");
	CHECK(f && f->kind->severity == IOTDNS_SEV_LOW);
	CHECK(f && has(f->metrics, "\"ecs_queries\":3"));
	CHECK(f && has(f->metrics, "\"source_prefix_min\":24"));
	CHECK(f && f->nev == 3 && has(f->ev[0].text, "ECS IPv4/24"));
	CHECK(find(&optout, "PRIVACY.ECS_SENT") == NULL);
	CHECK(res(&optout) && has(res(&optout)->detail, "ECS /0 opt-out"));

	CHECK(find(&tcok, "TRANSPORT.NO_TCP_FALLBACK") == NULL);
	CHECK(res(&tcok) && has(res(&tcok)->detail, "TCP fallback 1/1"));
	f = find(&tcmiss, "TRANSPORT.NO_TCP_FALLBACK");
	CHECK(f && f->kind->severity == IOTDNS_SEV_LOW);
	CHECK(f && has(f->metrics, "\"missing_retries\":1"));
	CHECK(f && f->nev == 1 && has(f->ev[0].text, "big.example.test TXT") && has(f->ev[0].text, "TC=1"));
	CHECK(f && f->ev[0].ts_us == T0 + 10000 + 5000);
	CHECK(find(&tclate, "TRANSPORT.NO_TCP_FALLBACK") != NULL);
	CHECK(find(&tcend, "TRANSPORT.NO_TCP_FALLBACK") == NULL);
	CHECK(find(&tcother, "TRANSPORT.NO_TCP_FALLBACK") != NULL);
	CHECK(find(&tcpar, "TRANSPORT.NO_TCP_FALLBACK") == NULL);
	CHECK(res(&tcpar) && has(res(&tcpar)->detail, "TCP fallback 0/0 (others answered over UDP)"));
	CHECK(res(&tcend) && has(res(&tcend)->detail, "TCP fallback 0/0"));

	CHECK(res(&casev) && has(res(&casev)->detail, "0x20 on 3/3 names"));
	CHECK(res(&casefix) && !has(res(&casefix)->detail, "0x20"));
	CHECK(res(&ddr) && has(res(&ddr)->detail, "DDR 2"));

	r = res(&dot);
	CHECK(r && r->status == IOTDNS_STATUS_PASS);
	CHECK(r && has(r->detail, "encrypted DNS only (DoT 4 flows to 1.1.1.1)"));
	r = res(&mixed);
	CHECK(r && r->status == IOTDNS_STATUS_PASS && has(r->detail, "DoT 5 flows") && !has(r->detail, "plaintext"));
	r = res(&mdns);
	CHECK(r && r->status == IOTDNS_STATUS_NA);

	r = res(&retr);
	CHECK(r && r->status == IOTDNS_STATUS_INSUFFICIENT);
	CHECK(r && has(r->detail, "18 of 20 queries needed"));
	CHECK(r && has(r->detail, "no EDNS in 18 queries"));
	CHECK(find(&noedns, "TRANSPORT.PLAINTEXT_ONLY") == NULL); /* off by default */
	iotdns_engine_free(E);

	/* require-encrypted=1: plaintext-only devices are reported; mixed ones are not */
	static const char *const keys[] = { "transport-privacy.require-encrypted" };
	static const double vals[] = { 1 };
	start(1, keys, vals);
	ts = T0;
	q_many(&noedns, &ts, 25, "api.example.test", OPT1232);
	ts = T0 + 1000;
	q_many(&mixed, &ts, 20, "api.example.test", OPT1232);
	{
		uint8_t fr[256];
		for (unsigned i = 0; i < 5; i++)
			feed(T0 + 2000 + i * 60000000ull, fr,
			     frame4(fr, mixed.mac, MAC_GW, mixed.ip, IP_DOT, 6, (uint16_t)(52000 + i), 853, 0x02, fr, 0));
	}
	ts = T0 + 3000;
	q_many(&few, &ts, 12, "api.example.test", OPT1232);
	iotdns_engine_finish(E);
	f = find(&noedns, "TRANSPORT.PLAINTEXT_ONLY");
	CHECK(f && f->kind->severity == IOTDNS_SEV_INFO);
	CHECK(f && has(f->summary, "all 25 queries"));
	CHECK(f && has(f->metrics, "\"do53_share\":1"));
	CHECK(f && f->nev == 3);
	CHECK(find(&mixed, "TRANSPORT.PLAINTEXT_ONLY") == NULL); /* 20 of 25 = 80% < 95% */
	CHECK(find(&few, "TRANSPORT.PLAINTEXT_ONLY") == NULL);   /* 12 < 20 queries */
	iotdns_engine_free(E);

	/* option bounds are enforced */
	{
		struct iotdns_engine_config cfg;
		struct iotdns_err err = { "" };
		iotdns_engine_config_default(&cfg);
		cfg.checkers = registry;
		snprintf(cfg.sets[0].key, sizeof(cfg.sets[0].key), "transport-privacy.plaintext-share");
		cfg.sets[0].value = 2;
		cfg.nsets = 1;
		struct iotdns_engine *e2 = NULL;
		CHECK(iotdns_engine_new(&e2, &cfg, &err) != 0);
		iotdns_engine_free(e2);
	}
	return tap_done();
}

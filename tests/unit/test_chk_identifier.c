/* identifier-leak: the device's own MAC (every spelling, and its last six hex
 * digits only when delimited), IP addresses (forward, dashed, reverse
 * lookups to non-local resolvers), DHCP host names (not inside the vendor's
 * own domain), local-only names and DNS-SD browse domains sent to non-local
 * resolvers; server-side identifiers never match; minimum evidence and
 * options. Frames go through a real engine with only this checker. */
#include <pcap/dlt.h>

#include "harness.h"
#include "iotdns/engine.h"
#include "iotdns/finding.h"
#include "pktbuild.h"

extern const struct iotdns_checker iotdns_chk_identifier_leak;
static const struct iotdns_checker *const registry[] = { &iotdns_chk_identifier_leak, NULL };

static const uint8_t MAC_GW[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t IP_BCAST[4] = { 255, 255, 255, 255 };
static const uint8_t IP_ZERO[4] = { 0, 0, 0, 0 };
static const uint8_t LOCAL_RES[4] = { 192, 168, 1, 1 };
static const uint8_t PUBLIC_RES[4] = { 8, 8, 8, 8 };

static struct iotdns_engine *E;
static const uint64_t T0 = 1700000000ull * 1000000;

struct dev {
	uint8_t mac[6];
	uint8_t ip[4];
	uint16_t id;
	uint64_t ts;
};

/* Every test device has MAC a4:cf:12:aa:bb:NN and address 192.168.1.(60+NN). */
static void mkdev(struct dev *d, unsigned n)
{
	const uint8_t mac[6] = { 0xa4, 0xcf, 0x12, 0xaa, 0xbb, (uint8_t)n };
	const uint8_t ip[4] = { 192, 168, 1, (uint8_t)(60 + n) };
	memcpy(d->mac, mac, 6);
	memcpy(d->ip, ip, 4);
	d->id = (uint16_t)(n * 1237);
	d->ts = T0 + n * 1000;
}

static void feed(uint64_t ts, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h = pkthdr(ts, len);
	iotdns_engine_packet(E, &h, frame);
}

static void dhcp(struct dev *d, const char *hostname)
{
	uint8_t buf[1024], fr[1500];
	size_t n = dhcp4_msg(buf, 1, 1, d->mac, NULL, NULL, 0, hostname);
	feed(d->ts, fr, frame4(fr, d->mac, BCAST, IP_ZERO, IP_BCAST, 17, 68, 67, 0, buf, n));
	d->ts += 1000000;
}

/* n queries for name (type qtype) from d to resolver res, 20 s apart, each answered. */
static void q(struct dev *d, const char *name, uint16_t qtype, const uint8_t res[4], unsigned n)
{
	uint8_t m[1024], fr[1500];
	for (unsigned i = 0; i < n; i++) {
		d->id = (uint16_t)(d->id + 7919);
		uint16_t port = (uint16_t)(33000 + (d->id % 20000));
		size_t len = dns_msg(m, d->id, false, name, qtype, 0, 0, 0);
		feed(d->ts, fr, frame4(fr, d->mac, MAC_GW, d->ip, res, 17, port, 53, 0, m, len));
		len = dns_msg(m, d->id, true, name, qtype, 0, 0, 0);
		feed(d->ts + 4000, fr, frame4(fr, MAC_GW, d->mac, res, d->ip, 17, 53, port, 0, m, len));
		d->ts += 20000000;
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

static void padding(struct dev *d, unsigned n)
{
	q(d, "time.example.net", 1, LOCAL_RES, n);
}

int main(void)
{
	struct dev plain, colon, dashup, cisco, suffix, nosuffix, server, ipfwd, ptrlocal, ptrpub, host, vendor,
		hostmac, local, dnssd, dnssdlocal, few, mdns, generic, generic2;
	struct dev *all[] = { &plain, &colon, &dashup, &cisco, &suffix, &nosuffix, &server, &ipfwd, &ptrlocal,
			      &ptrpub, &host, &vendor, &hostmac, &local, &dnssd, &dnssdlocal, &few, &mdns, &generic, &generic2 };
	for (unsigned i = 0; i < IOTDNS_ARRAY_LEN(all); i++)
		mkdev(all[i], i + 1);

	start(0, NULL, NULL);
	/* MAC a4:cf:12:aa:bb:01, every spelling */
	q(&plain, "a4cf12aabb01.devices.example.test", 1, LOCAL_RES, 3);
	padding(&plain, 10);
	q(&colon, "a4:cf:12:aa:bb:02.devices.example.test", 1, PUBLIC_RES, 2); /* ':' is escaped as \058 */
	padding(&colon, 10);
	q(&dashup, "id-A4-CF-12-AA-BB-03.example.test", 16, LOCAL_RES, 2);
	padding(&dashup, 10);
	q(&cisco, "a4cf.12aa.bb04.mgmt.example.test", 1, LOCAL_RES, 1);
	padding(&cisco, 10);
	/* last six digits as a delimited token: yes; glued to other characters: no */
	q(&suffix, "cam-aabb05.example.test", 1, LOCAL_RES, 2);
	q(&suffix, "aa-bb-05.example.test", 1, LOCAL_RES, 1);
	padding(&suffix, 10);
	q(&nosuffix, "xaabb06y.example.test", 1, LOCAL_RES, 2);
	q(&nosuffix, "12aabb0634.example.test", 1, LOCAL_RES, 2);
	padding(&nosuffix, 10);
	/* server-side identifiers: cloud instance names, other hex IDs */
	q(&server, "ec2-54-1-2-3.compute-1.amazonaws.com", 1, PUBLIC_RES, 3);
	q(&server, "conn-i-0c99f6dddfa877272-eu-west-1.lechmere.prod.ws.sonos.com", 1, PUBLIC_RES, 3);
	q(&server, "ip-10-0-0-7.ec2.example.test", 1, PUBLIC_RES, 3);
	q(&server, "d3p8zr0ffa9t17.cloudfront.net", 1, PUBLIC_RES, 3);
	/* its own address 192.168.1.68 in a forward name */
	q(&ipfwd, "192-168-1-68.dyn.example.test", 1, LOCAL_RES, 2);
	padding(&ipfwd, 10);
	/* PTR for its own address 192.168.1.69: to the local resolver normal, to 8.8.8.8 a leak */
	q(&ptrlocal, "69.1.168.192.in-addr.arpa", 12, LOCAL_RES, 3);
	q(&ptrlocal, "nas", 1, LOCAL_RES, 2);
	q(&ptrlocal, "printer.home.arpa", 1, LOCAL_RES, 2);
	padding(&ptrlocal, 10);
	q(&ptrpub, "70.1.168.192.in-addr.arpa", 12, PUBLIC_RES, 3);
	padding(&ptrpub, 10);
	/* host names from DHCP */
	dhcp(&host, "Kitchen-Cam42");
	q(&host, "kitchen-cam42.presence.example.test", 1, LOCAL_RES, 2);
	padding(&host, 10);
	dhcp(&vendor, "acmecam7");
	q(&vendor, "fw.acmecam7.com", 1, LOCAL_RES, 3);     /* the vendor's own domain */
	q(&vendor, "api.acmecam7.co.uk", 1, LOCAL_RES, 3);
	padding(&vendor, 10);
	dhcp(&hostmac, "plug-aabb13");                   /* host name carries the MAC suffix */
	q(&hostmac, "plug-aabb13.things.example.test", 1, LOCAL_RES, 2);
	padding(&hostmac, 10);
	/* a host name without digits is a word, not an identifier, in public names;
	 * in a local name sent out it still names this device */
	dhcp(&generic, "Speaker");
	q(&generic, "api.speaker.example.test", 1, PUBLIC_RES, 3);
	q(&generic, "speaker.example.test", 1, PUBLIC_RES, 3);
	padding(&generic, 10);
	dhcp(&generic2, "Speaker");
	q(&generic2, "speaker.local", 1, PUBLIC_RES, 2);
	padding(&generic2, 10);
	/* local-only names to a public resolver */
	q(&local, "printer.local", 1, PUBLIC_RES, 2);
	q(&local, "wpad", 1, PUBLIC_RES, 1);
	q(&local, "1.1.168.192.in-addr.arpa", 12, PUBLIC_RES, 1);
	q(&local, "local", 6, PUBLIC_RES, 3);            /* the .local SOA probe carries nothing */
	padding(&local, 10);
	/* DNS-SD browse for the private prefix: to 8.8.8.8 a leak, to the router normal */
	q(&dnssd, "lb._dns-sd._udp.0.1.168.192.in-addr.arpa", 12, PUBLIC_RES, 2);
	q(&dnssd, "b._dns-sd._udp.example.org", 12, PUBLIC_RES, 2); /* public domain: not flagged */
	padding(&dnssd, 10);
	q(&dnssdlocal, "lb._dns-sd._udp.0.1.168.192.in-addr.arpa", 12, LOCAL_RES, 2);
	padding(&dnssdlocal, 10);
	/* too few queries; mDNS only */
	q(&few, "api.example.test", 1, LOCAL_RES, 4);
	{
		uint8_t m[512], fr[1024];
		const uint8_t mcast[4] = { 224, 0, 0, 251 };
		const uint8_t mmac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
		size_t n = dns_msg(m, 0, false, "a4cf12aabb12.local", 1, 0, 0, 0);
		feed(T0 + 5000, fr, frame4(fr, mdns.mac, mmac, mdns.ip, mcast, 17, 5353, 5353, 0, m, n));
	}
	iotdns_engine_finish(E);

	const struct iotdns_finding *f;
	f = find(&plain, "PRIVACY.MAC_IN_QUERY");
	CHECK(f && f->kind->severity == IOTDNS_SEV_MEDIUM);
	CHECK(f && has(f->metrics, "\"queries\":3"));
	CHECK(f && has(f->metrics, "\"queries_full_mac\":3"));
	CHECK(f && has(f->metrics, "\"example_names\":[\"a4cf12aabb01.devices.example.test\"]"));
	CHECK(f && has(f->metrics, "\"resolvers\":[\"192.168.1.1\"]"));
	CHECK(f && f->nev == 2 && has(f->ev[0].text, "a4cf12aabb01.devices.example.test A to 192.168.1.1"));
	CHECK(f && has(f->summary, "3 queries (1 name) spell its MAC a4:cf:12:aa:bb:01"));
	CHECK_EQ_INT(nfindings(&plain), 1);
	CHECK(res(&plain) && res(&plain)->status == IOTDNS_STATUS_FAIL);
	f = find(&colon, "PRIVACY.MAC_IN_QUERY");
	CHECK(f && has(f->metrics, "\"queries_full_mac\":2") && has(f->summary, "8.8.8.8 (non-local)"));
	f = find(&dashup, "PRIVACY.MAC_IN_QUERY");
	CHECK(f && has(f->metrics, "\"queries_full_mac\":2"));
	CHECK(find(&cisco, "PRIVACY.MAC_IN_QUERY") != NULL);
	f = find(&suffix, "PRIVACY.MAC_IN_QUERY");
	CHECK(f && has(f->metrics, "\"queries_mac_suffix\":3") && has(f->metrics, "\"names\":2"));
	CHECK(f && has(f->summary, "last 6 hex digits"));
	CHECK_EQ_INT(nfindings(&nosuffix), 0);
	CHECK(res(&nosuffix) && res(&nosuffix)->status == IOTDNS_STATUS_PASS);
	CHECK_EQ_INT(nfindings(&server), 0);
	CHECK(res(&server) && res(&server)->status == IOTDNS_STATUS_PASS);
	CHECK(res(&server) && has(res(&server)->detail, "12 queries searched for MAC a4:cf:12:aa:bb:07, IP 192.168.1.67"));

	f = find(&ipfwd, "PRIVACY.IP_IN_QUERY");
	CHECK(f && f->kind->severity == IOTDNS_SEV_LOW && has(f->metrics, "\"queries_own_ptr\":0"));
	CHECK_EQ_INT(nfindings(&ptrlocal), 0);
	CHECK(res(&ptrlocal) && has(res(&ptrlocal)->detail, "7 local-name queries to local resolvers"));
	f = find(&ptrpub, "PRIVACY.IP_IN_QUERY");
	CHECK(f && has(f->metrics, "\"queries_own_ptr\":3") && has(f->summary, "reverse lookups of itself"));
	CHECK(find(&ptrpub, "PRIVACY.LOCAL_NAME_LEAK") == NULL);

	f = find(&host, "PRIVACY.HOSTNAME_IN_QUERY");
	CHECK(f && f->kind->severity == IOTDNS_SEV_LOW && has(f->metrics, "\"hostname\":\"kitchen-cam42\""));
	CHECK_EQ_INT(nfindings(&vendor), 0);
	CHECK(find(&hostmac, "PRIVACY.HOSTNAME_IN_QUERY") != NULL);
	CHECK(find(&hostmac, "PRIVACY.MAC_IN_QUERY") == NULL);
	CHECK_EQ_INT(nfindings(&generic), 0);
	CHECK(find(&generic2, "PRIVACY.HOSTNAME_IN_QUERY") != NULL);
	CHECK(find(&generic2, "PRIVACY.LOCAL_NAME_LEAK") == NULL);

	f = find(&local, "PRIVACY.LOCAL_NAME_LEAK");
	CHECK(f && has(f->metrics, "\"names\":3") && has(f->metrics, "\"queries\":4"));
	CHECK(f && f->nev == 4);
	CHECK(res(&local) && has(res(&local)->detail, "3 local-TLD probes"));
	CHECK_EQ_INT(nfindings(&local), 1);

	f = find(&dnssd, "PRIVACY.DNSSD_LEAK");
	CHECK(f && f->kind->severity == IOTDNS_SEV_INFO && has(f->metrics, "\"queries\":2"));
	CHECK(f && has(f->summary, "192.168.1.0"));
	CHECK(res(&dnssd) && has(res(&dnssd)->detail, "2 DNS-SD browse for public domains"));
	CHECK_EQ_INT(nfindings(&dnssdlocal), 0);

	CHECK(res(&few) && res(&few)->status == IOTDNS_STATUS_INSUFFICIENT);
	CHECK(res(&few) && has(res(&few)->detail, "4 of 10 queries needed"));
	CHECK(res(&mdns) && res(&mdns)->status == IOTDNS_STATUS_NA);
	iotdns_engine_free(E);

	/* options: suffix matching off; local-scope names to local resolvers reported */
	static const char *const keys[] = { "identifier-leak.mac-suffix", "identifier-leak.local-resolver-leaks" };
	static const double vals[] = { 0, 1 };
	start(2, keys, vals);
	mkdev(&suffix, 5);
	mkdev(&ptrlocal, 9);
	mkdev(&plain, 1);
	q(&suffix, "cam-aabb05.example.test", 1, LOCAL_RES, 2);
	padding(&suffix, 10);
	q(&ptrlocal, "nas", 1, LOCAL_RES, 2);
	padding(&ptrlocal, 10);
	q(&plain, "a4cf12aabb01.devices.example.test", 1, LOCAL_RES, 1);
	padding(&plain, 10);
	iotdns_engine_finish(E);
	CHECK(find(&suffix, "PRIVACY.MAC_IN_QUERY") == NULL);
	CHECK(find(&plain, "PRIVACY.MAC_IN_QUERY") != NULL);
	CHECK(find(&ptrlocal, "PRIVACY.LOCAL_NAME_LEAK") != NULL);
	iotdns_engine_free(E);
	return tap_done();
}

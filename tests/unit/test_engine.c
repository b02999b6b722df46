/* Engine: devices, names, resolvers, transactions, sessions, DHCP-provided
 * resolvers, responders, encrypted flows, and the checker events (through a
 * test checker registered in place of the built-in registry). */
#include <pcap/dlt.h>

#include "harness.h"
#include "iotdns/engine.h"
#include "pktbuild.h"

struct rec {
	unsigned queries, responses_to, responses_from, txns, answered, unanswered, retrans;
	unsigned sessions_ended, devices_ended;
	uint32_t last_session_queries;
	uint64_t last_txn_rtt;
	char order[64];
	size_t norder;
};

static void note(struct rec *r, char c)
{
	if (r->norder + 1 < sizeof(r->order))
		r->order[r->norder++] = c;
}

static void t_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
		    const struct iotdns_dns_event *ev)
{
	(void)ctx;
	(void)dev;
	struct rec *r = st;
	r->queries++;
	r->retrans += ev->retransmission;
	note(r, 'q');
}

static void t_resp(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
		   const struct iotdns_dns_event *ev)
{
	(void)ctx;
	(void)dev;
	struct rec *r = st;
	if (ev->direction == IOTDNS_DIR_TO_DEVICE)
		r->responses_to++;
	else
		r->responses_from++;
	note(r, 'r');
}

static void t_txn(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st, const struct iotdns_txn *t)
{
	(void)ctx;
	(void)dev;
	struct rec *r = st;
	r->txns++;
	if (t->answered) {
		r->answered++;
		r->last_txn_rtt = t->response_us - t->query_us;
	} else {
		r->unanswered++;
	}
	note(r, 't');
}

static void t_sess(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st, const struct iotdns_session *s)
{
	(void)ctx;
	(void)dev;
	struct rec *r = st;
	r->sessions_ended++;
	r->last_session_queries = s->queries;
	note(r, 's');
}

static void t_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st)
{
	(void)ctx;
	(void)dev;
	struct rec *r = st;
	r->devices_ended++;
	note(r, 'e');
}

static const struct iotdns_finding_kind no_kinds[] = { { NULL, 0, NULL } };
static const struct iotdns_checker test_checker = {
	.api = IOTDNS_CHECKER_API, .id = "test-recorder", .summary = "records events", .kinds = no_kinds,
	.dev_state_size = sizeof(struct rec), .on_query = t_query, .on_response = t_resp, .on_txn = t_txn,
	.on_session_end = t_sess, .on_device_end = t_end,
};
static const struct iotdns_checker *const test_registry[] = { &test_checker, NULL };

static const uint8_t MAC_DEV[6] = { 0xa4, 0xcf, 0x12, 0xaa, 0xbb, 0xcc };
static const uint8_t MAC_GW[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t IP_DEV[4] = { 192, 168, 1, 50 };
static const uint8_t IP_GW[4] = { 192, 168, 1, 1 };
static const uint8_t IP_PUB[4] = { 114, 114, 114, 114 };
static const uint8_t IP_OUT[4] = { 203, 0, 113, 9 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t IP_BCAST[4] = { 255, 255, 255, 255 };
static const uint8_t IP_ZERO[4] = { 0, 0, 0, 0 };

static struct iotdns_engine *E;

static void feed(uint64_t ts, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr h = pkthdr(ts, len);
	iotdns_engine_packet(E, &h, frame);
}

static void query(uint64_t ts, const uint8_t *dip, uint16_t sport, uint16_t id, const char *name)
{
	uint8_t dns[512], fr[1024];
	size_t n = dns_msg(dns, id, false, name, 1, 0, 0, 0);
	feed(ts, fr, frame4(fr, MAC_DEV, MAC_GW, IP_DEV, dip, 17, sport, 53, 0, dns, n));
}

static void answer(uint64_t ts, const uint8_t *sip, uint16_t dport, uint16_t id, const char *name, unsigned rcode,
		   uint32_t ttl)
{
	uint8_t dns[512], fr[1024];
	size_t n = dns_msg(dns, id, true, name, 1, rcode, rcode ? 0 : 2, ttl);
	feed(ts, fr, frame4(fr, MAC_GW, MAC_DEV, sip, IP_DEV, 17, 53, dport, 0, dns, n));
}

/* IPv6 without NAT: which queries come from outside. */
static void t_ipv6_inbound(void)
{
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	struct iotdns_engine *e6 = NULL;
	iotdns_engine_config_default(&cfg);
	cfg.checkers = test_registry;
	CHECK_EQ_INT(iotdns_engine_new(&e6, &cfg, &err), 0);
	if (!e6)
		return;
	iotdns_engine_begin_input(e6, "unit6.pcap", DLT_EN10MB);
	static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b }, MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c },
			     MAC_D[6] = { 0x02, 0, 0, 0, 0, 0x0d };
	struct iotdns_addr b, c, res, out, ula_res, d_glob;
	iotdns_addr_parse("2001:db8:1:1::b", &b);
	iotdns_addr_parse("2001:db8:1:1::c", &c);
	iotdns_addr_parse("2001:db8:1:1::1", &res);
	iotdns_addr_parse("2001:db8:ff00::9", &out);
	iotdns_addr_parse("fd00::53", &ula_res);
	iotdns_addr_parse("2001:db8:beef::d", &d_glob);
	uint64_t t0 = 1700000000ull * 1000000;
	uint8_t dns[512], fr[1024];
	size_t n = dns_msg(dns, 1, false, "cloud.example.test", 28, 0, 0, 0);
#define FEED6(ts, sm, dm, s, d, sp, dp)                                            \
	do {                                                                       \
		struct pcap_pkthdr h = pkthdr((ts), frame6(fr, sm, dm, (s).b, (d).b, sp, dp, dns, n)); \
		iotdns_engine_packet(e6, &h, fr);                                  \
	} while (0)
	/* B asks its resolver from its global address: that address is B's */
	FEED6(t0, MAC_B, MAC_GW, b, res, 40000, 53);
	/* an Internet host asks B (the frame comes from the router's MAC) */
	FEED6(t0 + 1000000, MAC_GW, MAC_B, out, b, 33333, 53);
	/* C, on B's /64 and never seen before, asks B: a LAN client */
	FEED6(t0 + 2000000, MAC_C, MAC_B, c, b, 40001, 53);
	/* D, from a global address never seen, asks a ULA resolver: it cannot be
	 * outside (a ULA is not reachable from the Internet) */
	FEED6(t0 + 3000000, MAC_D, MAC_GW, d_glob, ula_res, 40002, 53);
	/* E, in another /64 of B's site (2001:db8:1::/48), asks B through the
	 * router: a client on the network, not the Internet */
	struct iotdns_addr e_site;
	iotdns_addr_parse("2001:db8:1:2::e", &e_site);
	FEED6(t0 + 4000000, MAC_GW, MAC_B, e_site, b, 40003, 53);
#undef FEED6
	iotdns_engine_finish(e6);
	struct iotdns_devtab *t = iotdns_engine_devices(e6);
	struct iotdns_device *db = iotdns_devtab_by_mac(t, MAC_B, false);
	CHECK(db && db->queries == 1 && db->requests_received == 1);
	/* E's frame came through the router: the router's MAC is E's device here */
	struct iotdns_device *dgw = iotdns_devtab_by_mac(t, MAC_GW, false);
	CHECK(dgw && dgw->queries == 1 && iotdns_devtab_owner_of(t, &e_site) == dgw);
	CHECK(iotdns_devtab_owner_of(t, &out) == NULL); /* the Internet host is no device's */
	struct iotdns_device *dc = iotdns_devtab_by_mac(t, MAC_C, false);
	CHECK(dc && dc->queries == 1 && iotdns_dev_resolver(t, dc, &b, false) != NULL);
	struct iotdns_device *dd = iotdns_devtab_by_mac(t, MAC_D, false);
	CHECK(dd && dd->queries == 1);
	CHECK_EQ_INT(iotdns_devtab_count(t), 4);
	iotdns_engine_free(e6);
}

int main(void)
{
	t_ipv6_inbound();
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	iotdns_engine_config_default(&cfg);
	cfg.checkers = test_registry;
	iotdns_addr_parse("192.168.1.2", &cfg.resolvers[cfg.nresolvers++]);
	CHECK_EQ_INT(iotdns_engine_new(&E, &cfg, &err), 0);
	iotdns_engine_begin_input(E, "unit.pcap", DLT_EN10MB);

	uint64_t t0 = 1700000000ull * 1000000;
	uint8_t buf[1024], fr[1500];
	/* boot: DHCP DISCOVER from the device, ACK offering 192.168.1.1 */
	size_t n = dhcp4_msg(buf, 1, 1, MAC_DEV, NULL, NULL, 0, "cam-kitchen");
	feed(t0, fr, frame4(fr, MAC_DEV, BCAST, IP_ZERO, IP_BCAST, 17, 68, 67, 0, buf, n));
	const uint8_t dns1[1][4] = { { 192, 168, 1, 1 } };
	n = dhcp4_msg(buf, 2, 5, MAC_DEV, NULL, dns1, 1, NULL);
	feed(t0 + 1000, fr, frame4(fr, MAC_GW, MAC_DEV, IP_GW, IP_BCAST, 17, 67, 68, 0, buf, n));

	/* answered query, unanswered query with a retry, query to a public resolver */
	query(t0 + 2000000, IP_GW, 40000, 1, "api.example.test");
	answer(t0 + 2030000, IP_GW, 40000, 1, "api.example.test", 0, 300);
	query(t0 + 3000000, IP_GW, 40001, 2, "lost.example.test");
	query(t0 + 4000000, IP_GW, 40002, 3, "lost.example.test");
	query(t0 + 5000000, IP_PUB, 40003, 4, "api.example.test");
	answer(t0 + 5100000, IP_PUB, 40003, 4, "api.example.test", 0, 60);
	answer(t0 + 5200000, IP_PUB, 40003, 99, "nomatch.example.test", 3, 0); /* matches nothing */

	/* 100 s of silence: a new session */
	query(t0 + 105000000, IP_GW, 40004, 5, "api.example.test");
	answer(t0 + 105010000, IP_GW, 40004, 5, "api.example.test", 3, 0);

	/* the device answers DNS to an outside address: a responder */
	n = dns_msg(buf, 77, true, "x.example.test", 1, 0, 1, 30);
	feed(t0 + 106000000, fr, frame4(fr, MAC_DEV, MAC_GW, IP_DEV, IP_OUT, 17, 53, 33333, 0, buf, n));

	/* DoT connection to 1.1.1.1 */
	const uint8_t cf[4] = { 1, 1, 1, 1 };
	feed(t0 + 107000000, fr, frame4(fr, MAC_DEV, MAC_GW, IP_DEV, cf, 6, 50000, 853, 0x02, NULL, 0));

	iotdns_engine_finish(E);

	struct iotdns_devtab *t = iotdns_engine_devices(E);
	CHECK_EQ_INT(iotdns_devtab_count(t), 1); /* the gateway only answers: not a device */
	struct iotdns_device *d = iotdns_devtab_by_mac(t, MAC_DEV, false);
	CHECK(d != NULL);
	if (!d)
		return tap_done();
	struct rec *r = d->chk_state[0];
	CHECK_EQ_STR(d->hostname, "cam-kitchen");
	CHECK_EQ_INT(d->ndhcp, 1);
	CHECK_EQ_INT(d->queries, 5);
	CHECK_EQ_INT(d->responses, 4);         /* the unmatched NXDOMAIN is still received */
	CHECK_EQ_INT(d->retransmissions, 1);
	CHECK_EQ_INT(d->unanswered, 2);        /* both copies of lost.example.test */
	CHECK_EQ_INT(d->responses_sent, 1);
	CHECK_EQ_INT(d->naddrs, 1);
	CHECK_EQ_INT(d->nnames, 2);
	struct iotdns_dev_name *nm = iotdns_dev_name(t, d, "api.example.test", false);
	CHECK(nm != NULL);
	if (nm) {
		CHECK_EQ_INT(nm->queries, 3);
		CHECK_EQ_INT(nm->responses, 3);
		CHECK_EQ_INT(nm->rcode_noerror, 2);
		CHECK_EQ_INT(nm->rcode_nxdomain, 1);
		CHECK_EQ_INT(nm->ttl_min, 60);
		CHECK_EQ_INT(nm->ttl_max, 300);
	}
	/* resolvers: gateway (provided by DHCP), 114 (not provided), 1.1.1.1 over DoT */
	CHECK_EQ_INT(d->nresolvers, 3);
	struct iotdns_addr a;
	iotdns_addr_parse("192.168.1.1", &a);
	struct iotdns_dev_resolver *gw = iotdns_dev_resolver(t, d, &a, false);
	CHECK(gw && gw->queries == 4 && gw->responses == 2 && gw->unanswered == 2 && gw->transports == IOTDNS_TR_UDP);
	iotdns_addr_parse("1.1.1.1", &a);
	struct iotdns_dev_resolver *dot = iotdns_dev_resolver(t, d, &a, false);
	CHECK(dot && dot->flows_dot == 1 && dot->transports == IOTDNS_TR_DOT && dot->queries == 0);
	/* offered: DHCP's 192.168.1.1 and the configured 192.168.1.2 */
	CHECK_EQ_INT(d->n_offered, 2);
	CHECK_EQ_INT(d->offered_by[0], IOTDNS_PROV_DHCP);
	CHECK_EQ_INT(d->offered_by[1], IOTDNS_PROV_CONFIG);
	/* sessions: DHCP boot, then silence */
	CHECK_EQ_INT(d->nsessions, 2);
	CHECK_EQ_INT(d->sessions[0].start_reason, IOTDNS_SESS_DHCP);
	CHECK_EQ_INT(d->sessions[0].queries, 4);
	CHECK_EQ_INT(d->sessions[1].start_reason, IOTDNS_SESS_SILENCE);
	CHECK_EQ_INT(d->sessions[1].queries, 1);
	/* checker events */
	CHECK_EQ_INT(r->queries, 5);
	CHECK_EQ_INT(r->retrans, 1);
	CHECK_EQ_INT(r->responses_to, 4);
	CHECK_EQ_INT(r->responses_from, 1);
	CHECK_EQ_INT(r->txns, 5);
	CHECK_EQ_INT(r->answered, 3);
	CHECK_EQ_INT(r->unanswered, 2);
	CHECK_EQ_INT(r->last_txn_rtt, 10000);
	CHECK_EQ_INT(r->sessions_ended, 2);
	CHECK_EQ_INT(r->last_session_queries, 1);
	CHECK_EQ_INT(r->devices_ended, 1);
	CHECK(r->norder > 2 && r->order[r->norder - 1] == 'e' && r->order[r->norder - 2] == 's');
	CHECK(r->order[0] == 'q' && r->order[1] == 'r' && r->order[2] == 't');
	const struct iotdns_stats *st = iotdns_engine_stats(E);
	CHECK_EQ_INT(st->dns_queries, 5);
	CHECK_EQ_INT(st->dns_responses, 5);
	CHECK_EQ_INT(st->dhcp_messages, 2);
	CHECK_EQ_INT(st->malformed, 0);
	iotdns_engine_free(E);

	/* without a link layer (raw IP) the device is keyed by its IP address */
	CHECK_EQ_INT(iotdns_engine_new(&E, &cfg, &err), 0);
	iotdns_engine_begin_input(E, "raw.pcap", DLT_RAW);
	n = dns_msg(buf, 9, false, "raw.example.test", 1, 0, 0, 0);
	size_t fl = frame4(fr, MAC_DEV, MAC_GW, IP_DEV, IP_GW, 17, 41000, 53, 0, buf, n);
	feed(t0, fr + 14, fl - 14);
	/* a malformed DNS message is counted, not fatal */
	uint8_t junk[20] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	fl = frame4(fr, MAC_DEV, MAC_GW, IP_DEV, IP_GW, 17, 41001, 53, 0, junk, sizeof(junk));
	feed(t0 + 1, fr + 14, fl - 14);
	iotdns_engine_finish(E);
	t = iotdns_engine_devices(E);
	CHECK_EQ_INT(iotdns_devtab_count(t), 1);
	d = iotdns_devtab_at(t, 0);
	CHECK(d && d->keyed_by_ip && d->queries == 1);
	char key[64];
	CHECK_EQ_STR(iotdns_dev_key(d, key), "ip:192.168.1.50");
	st = iotdns_engine_stats(E);
	CHECK_EQ_INT(st->malformed, 1);
	iotdns_engine_free(E);
	return tap_done();
}

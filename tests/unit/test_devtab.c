/* Device table: identity, bounded records, evictions counted. */
#include "harness.h"
#include "iotdns/device.h"

static struct iotdns_addr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct iotdns_addr x;
	uint8_t v[4] = { a, b, c, d };
	iotdns_addr_set4(&x, v);
	return x;
}

int main(void)
{
	struct iotdns_limits lim;
	struct iotdns_stats st = { 0 };
	struct iotdns_devtab *t;
	iotdns_limits_default(&lim);
	lim.max_devices = 3000;
	lim.max_names_per_device = 100;
	lim.max_addrs_per_device = 4;
	lim.max_resolvers_per_device = 3;
	lim.max_sessions_per_device = 8;
	CHECK_EQ_INT(iotdns_devtab_new(&t, &lim, &st), 0);

	/* MAC identity; lookups stable across table growth */
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0 };
	struct iotdns_device *first = NULL;
	for (int i = 0; i < 2500; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		struct iotdns_device *d = iotdns_devtab_by_mac(t, mac, true);
		if (i == 0)
			first = d;
		if (!d)
			break;
	}
	CHECK_EQ_INT(iotdns_devtab_count(t), 2500);
	mac[4] = 0;
	mac[5] = 0;
	CHECK(iotdns_devtab_by_mac(t, mac, false) == first);
	mac[4] = 9;
	mac[5] = 0xc3; /* 2499 */
	struct iotdns_device *last = iotdns_devtab_by_mac(t, mac, false);
	CHECK(last != NULL && last->idx == 2499);
	mac[3] = 0x77;
	CHECK(iotdns_devtab_by_mac(t, mac, false) == NULL);

	/* device cap: further devices are counted, not created */
	for (int i = 0; i < 600; i++) {
		uint8_t m[6] = { 0x06, 1, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		iotdns_devtab_by_mac(t, m, true);
	}
	CHECK_EQ_INT(iotdns_devtab_count(t), 3000);
	CHECK_EQ_INT(st.evictions[IOTDNS_V_DEVICES], 100);

	/* IP-keyed devices are distinct from MAC-keyed ones */
	struct iotdns_addr a = ip4(192, 0, 2, 9);
	iotdns_devtab_free(t, NULL, NULL);
	memset(&st, 0, sizeof(st));
	lim.max_devices = 10;
	CHECK_EQ_INT(iotdns_devtab_new(&t, &lim, &st), 0);
	struct iotdns_device *byip = iotdns_devtab_by_ip(t, &a, true);
	CHECK(byip && byip->keyed_by_ip);
	CHECK(iotdns_devtab_by_ip(t, &a, false) == byip);
	char key[64];
	CHECK_EQ_STR(iotdns_dev_key(byip, key), "ip:192.0.2.9");

	/* addresses: bounded, least recently used replaced, owner index follows */
	uint8_t m1[6] = { 0xa4, 0xcf, 0x12, 1, 2, 3 };
	struct iotdns_device *d = iotdns_devtab_by_mac(t, m1, true);
	CHECK_EQ_STR(iotdns_dev_key(d, key), "a4:cf:12:01:02:03");
	for (int i = 1; i <= 6; i++) {
		struct iotdns_addr x = ip4(192, 168, 1, (uint8_t)i);
		iotdns_dev_note_addr(t, d, &x, (uint64_t)i * 1000);
	}
	CHECK_EQ_INT(d->naddrs, 4);
	CHECK_EQ_INT(st.evictions[IOTDNS_V_ADDRESSES], 2);
	struct iotdns_addr x1 = ip4(192, 168, 1, 1), x6 = ip4(192, 168, 1, 6);
	CHECK(iotdns_devtab_owner_of(t, &x6) == d);
	CHECK(iotdns_devtab_owner_of(t, &x1) == NULL);
	iotdns_dev_note_addr(t, d, &x6, 9000);
	CHECK_EQ_INT(d->addrs[3].packets, 2);

	/* resolvers: bounded */
	for (int i = 0; i < 5; i++) {
		struct iotdns_addr r = ip4(8, 8, 8, (uint8_t)i);
		struct iotdns_dev_resolver *res = iotdns_dev_resolver(t, d, &r, true);
		CHECK((i < 3) == (res != NULL));
	}
	CHECK_EQ_INT(st.evictions[IOTDNS_V_RESOLVERS], 2);

	/* names: found again, bounded, counted */
	struct iotdns_dev_name *n1 = iotdns_dev_name(t, d, "time.example.", true);
	CHECK(n1 != NULL);
	char nm[64];
	for (int i = 0; i < 150; i++) {
		snprintf(nm, sizeof(nm), "host%d.example.", i);
		iotdns_dev_name(t, d, nm, true);
	}
	CHECK_EQ_INT(d->nnames, 100);
	CHECK_EQ_INT(st.evictions[IOTDNS_V_NAMES], 51);
	CHECK(iotdns_dev_name(t, d, "time.example.", false) == n1);
	CHECK(iotdns_dev_name(t, d, "host3.example.", false) != NULL);
	CHECK(iotdns_dev_name(t, d, "host140.example.", false) == NULL);

	/* sessions: indexes keep counting, history bounded */
	struct iotdns_session *ended = iotdns_dev_session_start(t, d, IOTDNS_SESS_FIRST, 100);
	CHECK(ended == NULL);
	for (int i = 1; i < 20; i++)
		iotdns_dev_session_start(t, d, IOTDNS_SESS_SILENCE, 100 + (uint64_t)i);
	CHECK_EQ_INT(d->nsessions, 8);
	CHECK_EQ_INT(iotdns_dev_session(d)->idx, 19);
	CHECK_EQ_INT(d->sessions[0].idx, 12);
	CHECK_EQ_INT(d->sessions_dropped, 12);

	/* DHCP fingerprints deduplicated; host name kept */
	struct iotdns_dev_dhcp o = { .version = 4, .msg_type = 1 };
	snprintf(o.hostname, sizeof(o.hostname), "cam-1");
	snprintf(o.prl, sizeof(o.prl), "1,3,6");
	iotdns_dev_note_dhcp(d, &o);
	iotdns_dev_note_dhcp(d, &o);
	o.msg_type = 3;
	iotdns_dev_note_dhcp(d, &o);
	CHECK_EQ_INT(d->ndhcp, 2);
	CHECK_EQ_INT(d->dhcp[0].count, 2);
	CHECK_EQ_STR(d->hostname, "cam-1");

	char tb[48];
	iotdns_transport_mask_str(IOTDNS_TR_UDP | IOTDNS_TR_TCP | IOTDNS_TR_DOT, tb);
	CHECK_EQ_STR(tb, "udp+tcp+dot");
	iotdns_devtab_free(t, NULL, NULL);
	return tap_done();
}

/* Unit tests for src/decode/dhcp.c: DHCPv4, DHCPv6 and Router Advertisements.
 * Messages are built byte by byte below. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/dhcp.h"

#include "harness.h"

struct wb {
	uint8_t b[2048];
	size_t n;
};

static void put8(struct wb *w, unsigned v)
{
	if (w->n < sizeof(w->b))
		w->b[w->n++] = (uint8_t)v;
}

static void put16(struct wb *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

static void put32(struct wb *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static void putmem(struct wb *w, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(w, ((const uint8_t *)p)[i]);
}

static bool printable(const char *s, size_t cap)
{
	size_t i;
	for (i = 0; i < cap && s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return i < cap;
}

static const uint8_t MAC[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

/* BOOTP fixed part + magic cookie. */
static void bootp(struct wb *w, unsigned op, uint32_t xid, const uint8_t yiaddr[4])
{
	w->n = 0;
	put8(w, op);
	put8(w, 1); /* htype ethernet */
	put8(w, 6); /* hlen */
	put8(w, 0);
	put32(w, xid);
	put16(w, 0);
	put16(w, 0x8000);
	put32(w, 0);                                     /* ciaddr */
	putmem(w, yiaddr ? yiaddr : (const uint8_t *)"\0\0\0\0", 4); /* yiaddr */
	put32(w, 0);                                     /* siaddr */
	put32(w, 0);                                     /* giaddr */
	putmem(w, MAC, 6);
	for (int i = 0; i < 10 + 64 + 128; i++)
		put8(w, 0);
	put8(w, 99);
	put8(w, 130);
	put8(w, 83);
	put8(w, 99);
}

static void opt4(struct wb *w, unsigned code, const void *v, size_t n)
{
	put8(w, code);
	put8(w, (unsigned)n);
	putmem(w, v, n);
}

static void test_discover(void)
{
	struct wb w;
	struct iotdns_dhcp4 d;
	static const uint8_t prl[] = { 1, 3, 6, 15, 119, 252 };
	static const uint8_t cid[] = { 0x01, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

	bootp(&w, 1, 0xdeadbeef, NULL);
	opt4(&w, 53, "\x01", 1);
	put8(&w, 0); /* pad */
	opt4(&w, 61, cid, sizeof(cid));
	opt4(&w, 12, "Shelly-Plug\0", 12); /* with a C terminator */
	opt4(&w, 55, prl, sizeof(prl));
	opt4(&w, 60, "udhcp 1.30.1\\\x01", 14);
	opt4(&w, 50, "\xc0\xa8\x01\x17", 4);
	put8(&w, 255);
	put8(&w, 0); /* trailing padding after end */
	put8(&w, 0);

	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.op, 1);
	CHECK_EQ_INT(d.msg_type, IOTDNS_DHCP_DISCOVER);
	CHECK_EQ_INT(d.xid, 0xdeadbeef);
	CHECK(memcmp(d.chaddr, MAC, 6) == 0);
	CHECK_EQ_STR(d.hostname, "Shelly-Plug");
	CHECK_EQ_STR(d.vendor_class, "udhcp 1.30.1\\x5c\\x01");
	CHECK_EQ_INT(d.prl_len, 6);
	CHECK_EQ_INT(d.prl[4], 119);
	CHECK_EQ_STR(d.prl_text, "1,3,6,15,119,252");
	CHECK_EQ_INT(d.client_id_len, 7);
	CHECK_EQ_INT(d.client_id[0], 1);
	CHECK_EQ_STR(d.client_id_text, "01:02:11:22:33:44:55");
	CHECK_EQ_INT(d.requested_ip.family, 4);
	CHECK(memcmp(d.requested_ip.b, "\xc0\xa8\x01\x17", 4) == 0);
	CHECK_EQ_INT(d.server_id.family, 0);
	CHECK_EQ_INT(d.n_dns, 0);

	/* Hardware type other than Ethernet: no chaddr. */
	w.b[1] = 6;
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK(memcmp(d.chaddr, "\0\0\0\0\0\0", 6) == 0);
	CHECK_EQ_STR(d.hostname, "Shelly-Plug");
	w.b[1] = 1;
	w.b[2] = 0; /* hlen 0 (zeek hw-type0 style) */
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK(memcmp(d.chaddr, "\0\0\0\0\0\0", 6) == 0);
}

static void test_ack(void)
{
	struct wb w;
	struct iotdns_dhcp4 d;

	bootp(&w, 2, 42, (const uint8_t *)"\xc0\xa8\x01\x17");
	opt4(&w, 53, "\x05", 1);
	opt4(&w, 54, "\xc0\xa8\x01\x01", 4);
	opt4(&w, 6, "\x08\x08\x08\x08\x01\x01\x01\x01", 8);
	opt4(&w, 51, "\x00\x01\x51\x80", 4);
	put8(&w, 255);

	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.op, 2);
	CHECK_EQ_INT(d.msg_type, IOTDNS_DHCP_ACK);
	CHECK_EQ_INT(d.yiaddr.family, 4);
	CHECK(memcmp(d.yiaddr.b, "\xc0\xa8\x01\x17", 4) == 0);
	CHECK_EQ_INT(d.server_id.family, 4);
	CHECK(memcmp(d.server_id.b, "\xc0\xa8\x01\x01", 4) == 0);
	CHECK_EQ_INT(d.n_dns, 2);
	CHECK(memcmp(d.dns[0].b, "\x08\x08\x08\x08", 4) == 0);
	CHECK(memcmp(d.dns[1].b, "\x01\x01\x01\x01", 4) == 0);
	CHECK_EQ_INT(d.dns[1].family, 4);
	CHECK_EQ_STR(d.hostname, "");

	/* More servers than fit: the first IOTDNS_DHCP_MAX_DNS are kept. */
	bootp(&w, 2, 43, NULL);
	put8(&w, 6);
	put8(&w, 4 * (IOTDNS_DHCP_MAX_DNS + 3));
	for (int i = 0; i < IOTDNS_DHCP_MAX_DNS + 3; i++)
		put32(&w, 0x0a000001u + (uint32_t)i);
	put8(&w, 255);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.n_dns, IOTDNS_DHCP_MAX_DNS);
	CHECK_EQ_INT(d.dns[IOTDNS_DHCP_MAX_DNS - 1].b[3], IOTDNS_DHCP_MAX_DNS);
	CHECK_EQ_INT(d.msg_type, 0);
}

static void test_dhcp4_malformed(void)
{
	struct wb w, full;
	struct iotdns_dhcp4 d;

	/* An option running past the end of the message. */
	bootp(&w, 1, 1, NULL);
	opt4(&w, 53, "\x03", 1);
	put8(&w, 12);
	put8(&w, 40);
	putmem(&w, "abc", 3);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(d.msg_type, 3); /* what came before is kept */
	CHECK_EQ_STR(d.hostname, "");

	/* Option code as the very last byte (no length). */
	bootp(&w, 1, 1, NULL);
	opt4(&w, 53, "\x03", 1);
	put8(&w, 12);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_EMALFORMED);

	/* No end option: tolerated. */
	bootp(&w, 1, 1, NULL);
	opt4(&w, 53, "\x03", 1);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.msg_type, 3);

	/* Option overload (52) is not followed, and does not hurt. */
	bootp(&w, 1, 1, NULL);
	opt4(&w, 52, "\x03", 1);
	opt4(&w, 53, "\x08", 1);
	put8(&w, 255);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.msg_type, IOTDNS_DHCP_INFORM);

	/* Plain BOOTP without a cookie: valid, no options. */
	bootp(&w, 2, 7, NULL);
	w.b[236] = 0;
	opt4(&w, 53, "\x05", 1);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.msg_type, 0);
	CHECK_EQ_INT(d.xid, 7);

	/* Not BOOTP at all. */
	bootp(&w, 3, 1, NULL);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_EMALFORMED);
	bootp(&w, 1, 1, NULL);
	w.b[2] = 200;
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_EMALFORMED);

	/* Every prefix of a valid DISCOVER: short fixed part -> malformed,
	 * a cut inside an option -> malformed, a cut between options -> ok. */
	bootp(&full, 1, 9, NULL);
	opt4(&full, 53, "\x01", 1);
	opt4(&full, 12, "camera", 6);
	put8(&full, 255);
	int bad = 0;
	for (size_t n = 0; n <= full.n; n++) {
		int rc = iotdns_dhcp4_parse(full.b, (uint32_t)n, &d);
		bool want_ok = n >= 236 && (n <= 240 || n == 243 || n >= 251);
		if ((rc == IOTDNS_OK) != want_ok)
			bad++;
		if (!printable(d.hostname, sizeof(d.hostname)))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);

	/* Long hostname full of non-printable bytes: truncated, printable. */
	bootp(&w, 1, 1, NULL);
	put8(&w, 12);
	put8(&w, 255);
	for (int i = 0; i < 255; i++)
		put8(&w, 0x80 + (i & 0x7f));
	put8(&w, 255);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK(printable(d.hostname, sizeof(d.hostname)));
	CHECK_EQ_INT(strlen(d.hostname), 252); /* 63 whole \xHH escapes */
	CHECK(strncmp(d.hostname, "\\x80\\x81", 8) == 0);

	/* 255-byte client id and PRL: text forms stay bounded. */
	bootp(&w, 1, 1, NULL);
	put8(&w, 61);
	put8(&w, 255);
	for (int i = 0; i < 255; i++)
		put8(&w, i);
	put8(&w, 55);
	put8(&w, 255);
	for (int i = 0; i < 255; i++)
		put8(&w, 255 - i);
	put8(&w, 255);
	CHECK_EQ_INT(iotdns_dhcp4_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.client_id_len, 255);
	CHECK_EQ_INT(d.client_id[254], 254);
	CHECK_EQ_INT(strlen(d.client_id_text), 3 * 85 - 1);
	CHECK_EQ_INT(d.prl_len, 255);
	CHECK(strncmp(d.prl_text, "255,254,253,", 12) == 0);
	CHECK(strlen(d.prl_text) > 900 && strlen(d.prl_text) < sizeof(d.prl_text));
	CHECK(strcmp(d.prl_text + strlen(d.prl_text) - 4, ",2,1") == 0);
}

/* ---- DHCPv6 ---- */

static void opt6(struct wb *w, unsigned code, const void *v, size_t n)
{
	put16(w, code);
	put16(w, (unsigned)n);
	putmem(w, v, n);
}

static void test_dhcp6(void)
{
	struct wb w;
	struct iotdns_dhcp6 d;
	static const uint8_t duid[] = { 0, 1, 0, 1, 0x2a, 0x3b, 0x4c, 0x5d, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t fqdn[] = { 0x01, 6, 'S', 'e', 'n', 's', 'o', 'r', 4, 'h', 'o', 'm', 'e', 3, 'l', 'a', 'n', 0 };
	static const uint8_t oro[] = { 0, 23, 0, 24, 0, 39 };

	/* SOLICIT with client id, FQDN, ORO, vendor class and an IA_NA. */
	w.n = 0;
	put8(&w, 1);
	put8(&w, 0x12);
	put8(&w, 0x34);
	put8(&w, 0x56);
	opt6(&w, 1, duid, sizeof(duid));
	opt6(&w, 3, "\0\0\0\1\0\0\0\0\0\0\0\0", 12);
	opt6(&w, 39, fqdn, sizeof(fqdn));
	opt6(&w, 6, oro, sizeof(oro));
	opt6(&w, 16, "\x00\x00\x01\x37\x00\x05" "dhcpc\x00\x02xx", 13);
	opt6(&w, 8, "\0\0", 2);
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.msg_type, IOTDNS_DHCP6_SOLICIT);
	CHECK_EQ_INT(d.xid, 0x123456);
	CHECK_EQ_INT(d.duid_len, sizeof(duid));
	CHECK(memcmp(d.duid, duid, sizeof(duid)) == 0);
	CHECK_EQ_STR(d.duid_text, "00:01:00:01:2a:3b:4c:5d:02:11:22:33:44:55");
	CHECK_EQ_STR(d.fqdn, "Sensor.home.lan");
	CHECK_EQ_INT(d.oro_len, 3);
	CHECK_EQ_INT(d.oro[0], 23);
	CHECK_EQ_INT(d.oro[2], 39);
	CHECK_EQ_STR(d.vendor_class, "dhcpc");
	CHECK_EQ_INT(d.n_dns, 0);

	/* REPLY with two DNS servers. */
	w.n = 0;
	put8(&w, 7);
	put8(&w, 0);
	put8(&w, 0);
	put8(&w, 9);
	opt6(&w, 2, "\0\3\0\1\x02\x00\x00\x00\x00\x01", 10);
	opt6(&w, 23,
	     "\x20\x01\x48\x60\x48\x60\0\0\0\0\0\0\0\0\x88\x88"
	     "\xfd\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\x01",
	     32);
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.msg_type, IOTDNS_DHCP6_REPLY);
	CHECK_EQ_INT(d.xid, 9);
	CHECK_EQ_INT(d.n_dns, 2);
	CHECK_EQ_INT(d.dns[0].family, 6);
	CHECK_EQ_INT(d.dns[0].b[15], 0x88);
	CHECK_EQ_INT(d.dns[1].b[0], 0xfd);
	CHECK_EQ_INT(d.duid_len, 0);

	/* Hostile FQDN: control bytes, a dot inside a label, a pointer. */
	static const uint8_t bad_fqdn[] = { 0, 5, 'a', '.', '<', '\n', 0xff, 0xc0, 0x0c };
	w.n = 0;
	put8(&w, 11);
	put8(&w, 0);
	put8(&w, 0);
	put8(&w, 1);
	opt6(&w, 39, bad_fqdn, sizeof(bad_fqdn));
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_STR(d.fqdn, "a\\x2e<\\x0a\\xff");
	CHECK(printable(d.fqdn, sizeof(d.fqdn)));

	/* FQDN label claiming more bytes than the option has. */
	static const uint8_t cut_fqdn[] = { 0, 3, 'a', 'b', 'c', 40, 'x' };
	w.n = 4;
	opt6(&w, 39, cut_fqdn, sizeof(cut_fqdn));
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_STR(d.fqdn, "abc");

	/* Option running past the end; partial option header. */
	w.n = 0;
	put8(&w, 1);
	put8(&w, 0);
	put8(&w, 0);
	put8(&w, 1);
	put16(&w, 1);
	put16(&w, 100);
	put32(&w, 0);
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, (uint32_t)w.n, &d), IOTDNS_EMALFORMED);
	w.n = 6;
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, (uint32_t)w.n, &d), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, 3, &d), IOTDNS_EMALFORMED);

	/* Relay messages: type only. */
	w.n = 0;
	put8(&w, 12);
	put8(&w, 0);
	for (int i = 0; i < 32; i++)
		put8(&w, 0);
	opt6(&w, 9, "\x07\0\0\1", 4);
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.msg_type, 12);
	CHECK_EQ_INT(d.n_dns, 0);
	CHECK_EQ_INT(d.xid, 0);

	/* Over-long DUID: first 128 bytes kept, text bounded. */
	w.n = 4;
	w.b[0] = 1;
	put16(&w, 1);
	put16(&w, 200);
	for (int i = 0; i < 200; i++)
		put8(&w, i);
	CHECK_EQ_INT(iotdns_dhcp6_parse(w.b, (uint32_t)w.n, &d), IOTDNS_OK);
	CHECK_EQ_INT(d.duid_len, 128);
	CHECK_EQ_INT(d.duid[127], 127);
	CHECK(printable(d.duid_text, sizeof(d.duid_text)));
	CHECK_EQ_INT(strlen(d.duid_text), 3 * 85 - 1);
}

/* ---- Router Advertisements ---- */

static void ra_header(struct wb *w)
{
	w->n = 0;
	put8(w, 64);      /* hop limit */
	put8(w, 0);       /* flags */
	put16(w, 1800);   /* router lifetime */
	put32(w, 0);      /* reachable */
	put32(w, 0);      /* retrans */
}

static void test_ra(void)
{
	struct wb w;
	struct iotdns_ra r;

	ra_header(&w);
	/* prefix information (type 3, 4 units) */
	put8(&w, 3);
	put8(&w, 4);
	for (int i = 0; i < 30; i++)
		put8(&w, 0);
	/* SLLA */
	put8(&w, 1);
	put8(&w, 1);
	putmem(&w, MAC, 6);
	/* RDNSS with two addresses: 1 + 2*2 = 5 units */
	put8(&w, 25);
	put8(&w, 5);
	put16(&w, 0);
	put32(&w, 3600);
	putmem(&w, "\xfd\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\x53", 16);
	putmem(&w, "\x26\x06\x47\x00\x47\x00\0\0\0\0\0\0\0\0\x11\x11", 16);
	CHECK_EQ_INT(iotdns_ra_parse(w.b, (uint32_t)w.n, &r), IOTDNS_OK);
	CHECK_EQ_INT(r.n_dns, 2);
	CHECK_EQ_INT(r.rdnss_lifetime, 3600);
	CHECK_EQ_INT(r.dns[0].family, 6);
	CHECK_EQ_INT(r.dns[0].b[15], 0x53);
	CHECK_EQ_INT(r.dns[1].b[0], 0x26);
	CHECK(r.has_source_mac);
	CHECK(memcmp(r.source_mac, MAC, 6) == 0);

	/* An option of length 0 is malformed (and must not loop forever). */
	ra_header(&w);
	put8(&w, 1);
	put8(&w, 1);
	putmem(&w, MAC, 6);
	put8(&w, 25);
	put8(&w, 0);
	for (int i = 0; i < 6; i++)
		put8(&w, 0);
	CHECK_EQ_INT(iotdns_ra_parse(w.b, (uint32_t)w.n, &r), IOTDNS_EMALFORMED);

	/* Option longer than the message. */
	ra_header(&w);
	put8(&w, 25);
	put8(&w, 5);
	put16(&w, 0);
	put32(&w, 60);
	putmem(&w, "\xfd\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\x53", 16);
	CHECK_EQ_INT(iotdns_ra_parse(w.b, (uint32_t)w.n, &r), IOTDNS_EMALFORMED);

	/* RDNSS too short to hold an address (length 1): ignored. */
	ra_header(&w);
	put8(&w, 25);
	put8(&w, 1);
	for (int i = 0; i < 6; i++)
		put8(&w, 0);
	CHECK_EQ_INT(iotdns_ra_parse(w.b, (uint32_t)w.n, &r), IOTDNS_OK);
	CHECK_EQ_INT(r.n_dns, 0);
	CHECK(!r.has_source_mac);

	/* Header alone is fine; shorter is not; a dangling option byte is not. */
	ra_header(&w);
	CHECK_EQ_INT(iotdns_ra_parse(w.b, 12, &r), IOTDNS_OK);
	CHECK_EQ_INT(iotdns_ra_parse(w.b, 11, &r), IOTDNS_EMALFORMED);
	put8(&w, 1);
	CHECK_EQ_INT(iotdns_ra_parse(w.b, 13, &r), IOTDNS_EMALFORMED);
}

int main(void)
{
	test_discover();
	test_ack();
	test_dhcp4_malformed();
	test_dhcp6();
	test_ra();
	return tap_done();
}

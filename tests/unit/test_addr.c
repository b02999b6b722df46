/* Address helpers. */
#include "harness.h"
#include "iotdns/addr.h"

static bool local(const char *s)
{
	struct iotdns_addr a;
	return iotdns_addr_parse(s, &a) && iotdns_addr_is_local(&a);
}

int main(void)
{
	struct iotdns_addr a, b;
	char buf[IOTDNS_ADDR_TEXT];
	CHECK(iotdns_addr_parse("192.0.2.7", &a));
	CHECK_EQ_INT(a.family, 4);
	CHECK_EQ_STR(iotdns_addr_str(&a, buf), "192.0.2.7");
	CHECK(iotdns_addr_parse("2001:db8::1", &b));
	CHECK_EQ_INT(b.family, 6);
	CHECK_EQ_STR(iotdns_addr_str(&b, buf), "2001:db8::1");
	CHECK(!iotdns_addr_eq(&a, &b));
	/* the same site: the same /48 */
	struct iotdns_addr s1, s2, s3, v4;
	CHECK(iotdns_addr_parse("2001:db8:1:1::10", &s1) && iotdns_addr_parse("2001:db8:1:ff00::20", &s2) &&
	      iotdns_addr_parse("2001:db8:2:1::10", &s3) && iotdns_addr_parse("192.168.1.1", &v4));
	CHECK(iotdns_addr_same_site6(&s1, &s2));
	CHECK(!iotdns_addr_same_site6(&s1, &s3));
	CHECK(!iotdns_addr_same_site6(&v4, &v4)); /* IPv6 only */
	CHECK(!iotdns_addr_same_site6(&s1, &v4));
	CHECK(!iotdns_addr_parse("300.1.1.1", &a));
	CHECK(!iotdns_addr_parse("example", &a));
	CHECK(local("192.168.1.10"));
	CHECK(local("10.0.0.1"));
	CHECK(local("172.16.5.5"));
	CHECK(!local("172.32.0.1"));
	CHECK(local("100.64.0.1"));
	CHECK(local("169.254.1.1"));
	CHECK(local("224.0.0.251"));
	CHECK(local("fe80::1"));
	CHECK(local("fd00::5"));
	CHECK(local("ff02::fb"));
	CHECK(local("::ffff:192.168.0.1"));
	CHECK(!local("8.8.8.8"));
	CHECK(!local("114.114.114.114"));
	CHECK(!local("2001:4860:4860::8888"));
	/* hashes of equal addresses agree */
	iotdns_addr_parse("8.8.4.4", &a);
	iotdns_addr_parse("8.8.4.4", &b);
	CHECK(iotdns_addr_hash(&a) == iotdns_addr_hash(&b));
	uint8_t mac[6];
	char mb[IOTDNS_MAC_TEXT];
	CHECK(iotdns_mac_parse("A4:CF:12:0b:0C:ff", mac));
	CHECK_EQ_STR(iotdns_mac_str(mac, mb), "a4:cf:12:0b:0c:ff");
	CHECK(iotdns_mac_parse("a4-cf-12-0b-0c-ff", mac));
	CHECK(!iotdns_mac_parse("a4:cf:12:0b:0c", mac));
	return tap_done();
}

/* iotdns - IP and MAC address values (plain data, no allocation). */
#ifndef IOTDNS_ADDR_H
#define IOTDNS_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* An IPv4 or IPv6 address. family is 4 or 6 (0 = none); IPv4 uses b[0..3]
 * and leaves b[4..15] zero so that memcmp() on the whole struct works. */
struct iotdns_addr {
	uint8_t family;
	uint8_t b[16];
};

#define IOTDNS_ADDR_TEXT 46 /* INET6_ADDRSTRLEN */
#define IOTDNS_MAC_TEXT 18

static inline bool iotdns_addr_eq(const struct iotdns_addr *a, const struct iotdns_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static inline void iotdns_addr_set4(struct iotdns_addr *a, const uint8_t v4[4])
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(a->b, v4, 4);
}

static inline void iotdns_addr_set6(struct iotdns_addr *a, const uint8_t v6[16])
{
	a->family = 6;
	memcpy(a->b, v6, 16);
}

/* Text form ("192.0.2.1", "2001:db8::1", "-" for none); returns buf. */
char *iotdns_addr_str(const struct iotdns_addr *a, char buf[IOTDNS_ADDR_TEXT]);
/* Parses text into a; returns true on success. */
bool iotdns_addr_parse(const char *text, struct iotdns_addr *a);
/* 64-bit hash for hash tables. */
uint64_t iotdns_addr_hash(const struct iotdns_addr *a);
/* True for RFC 1918, RFC 4193 ULA, link-local, loopback, CGNAT 100.64/10,
 * multicast and unspecified addresses: "local" in the sense of the checks. */
bool iotdns_addr_is_local(const struct iotdns_addr *a);
bool iotdns_addr_is_multicast(const struct iotdns_addr *a);
/* Two IPv6 addresses of the same site: the same /48, the largest prefix a
 * site is given (RFC 6177; homes get a /48 to a /64). Global IPv6 does not
 * say LAN or Internet by its value; hosts in one site's prefix are counted
 * as one network, so a client in another /64 of the same site is never
 * taken for the Internet. False unless both are IPv6. */
bool iotdns_addr_same_site6(const struct iotdns_addr *a, const struct iotdns_addr *b);

/* "aa:bb:cc:dd:ee:ff"; returns buf. */
char *iotdns_mac_str(const uint8_t mac[6], char buf[IOTDNS_MAC_TEXT]);
bool iotdns_mac_parse(const char *text, uint8_t mac[6]);

#endif

/* iotdns - IP and MAC address helpers. */
#include <arpa/inet.h>
#include <stdio.h>

#include "iotdns/addr.h"

char *iotdns_addr_str(const struct iotdns_addr *a, char buf[IOTDNS_ADDR_TEXT])
{
	if (a->family == 4)
		inet_ntop(AF_INET, a->b, buf, IOTDNS_ADDR_TEXT);
	else if (a->family == 6)
		inet_ntop(AF_INET6, a->b, buf, IOTDNS_ADDR_TEXT);
	else
		snprintf(buf, IOTDNS_ADDR_TEXT, "-");
	return buf;
}

bool iotdns_addr_parse(const char *text, struct iotdns_addr *a)
{
	uint8_t tmp[16];
	if (inet_pton(AF_INET, text, tmp) == 1) {
		iotdns_addr_set4(a, tmp);
		return true;
	}
	if (inet_pton(AF_INET6, text, tmp) == 1) {
		iotdns_addr_set6(a, tmp);
		return true;
	}
	return false;
}

uint64_t iotdns_addr_hash(const struct iotdns_addr *a)
{
	uint64_t x, y;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	x ^= y * 0x9e3779b97f4a7c15ull ^ a->family;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

bool iotdns_addr_is_multicast(const struct iotdns_addr *a)
{
	if (a->family == 4)
		return (a->b[0] & 0xf0) == 0xe0 || (a->b[0] == 255 && a->b[1] == 255 && a->b[2] == 255 && a->b[3] == 255);
	if (a->family == 6)
		return a->b[0] == 0xff;
	return false;
}

bool iotdns_addr_same_site6(const struct iotdns_addr *a, const struct iotdns_addr *b)
{
	return a->family == 6 && b->family == 6 && memcmp(a->b, b->b, 6) == 0;
}

bool iotdns_addr_is_local(const struct iotdns_addr *a)
{
	const uint8_t *b = a->b;
	if (iotdns_addr_is_multicast(a))
		return true;
	if (a->family == 4) {
		return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
		       (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254) ||
		       (b[0] == 100 && (b[1] & 0xc0) == 64) || b[0] == 0;
	}
	if (a->family == 6) {
		static const uint8_t zero[15];
		if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
			return true; /* :: and ::1 */
		if ((b[0] & 0xfe) == 0xfc)
			return true; /* fc00::/7 ULA */
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			return true; /* fe80::/10 */
		/* IPv4-mapped: judge the IPv4 address */
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(b, mapped, 12) == 0) {
			struct iotdns_addr v4;
			iotdns_addr_set4(&v4, b + 12);
			return iotdns_addr_is_local(&v4);
		}
		return false;
	}
	return false;
}

char *iotdns_mac_str(const uint8_t mac[6], char buf[IOTDNS_MAC_TEXT])
{
	snprintf(buf, IOTDNS_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}

bool iotdns_mac_parse(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6 &&
	    sscanf(text, "%2x-%2x-%2x-%2x-%2x-%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

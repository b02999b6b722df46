/* Fuzz target: DHCPv4 / DHCPv6 / Router Advertisement decoders. Byte 0
 * selects the decoder (0: DHCPv4, 1: DHCPv6, 2: RA; modulo 3), the rest is
 * the payload. Every string of the result is read to its NUL and checked
 * to be printable ASCII. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/dhcp.h"

static size_t touch(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iotdns_dhcp4 d4;
	static struct iotdns_dhcp6 d6;
	static struct iotdns_ra ra;
	volatile size_t sink = 0;
	int rc;

	if (size < 1 || size > 70000)
		return 0;
	const uint8_t *p = data + 1;
	uint32_t n = (uint32_t)size - 1;
	/* a private copy, so reads past n hit the redzone of a heap block */
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return 0;
	memcpy(copy, p, n);

	switch (data[0] % 3) {
	case 0:
		rc = iotdns_dhcp4_parse(copy, n, &d4);
		if (d4.n_dns > IOTDNS_DHCP_MAX_DNS)
			abort();
		sink += touch(d4.hostname, sizeof(d4.hostname));
		sink += touch(d4.vendor_class, sizeof(d4.vendor_class));
		sink += touch(d4.prl_text, sizeof(d4.prl_text));
		sink += touch(d4.client_id_text, sizeof(d4.client_id_text));
		break;
	case 1:
		rc = iotdns_dhcp6_parse(copy, n, &d6);
		if (d6.n_dns > IOTDNS_DHCP_MAX_DNS || d6.duid_len > sizeof(d6.duid) ||
		    d6.oro_len > IOTDNS_ARRAY_LEN(d6.oro))
			abort();
		sink += touch(d6.duid_text, sizeof(d6.duid_text));
		sink += touch(d6.fqdn, sizeof(d6.fqdn));
		sink += touch(d6.vendor_class, sizeof(d6.vendor_class));
		break;
	default:
		rc = iotdns_ra_parse(copy, n, &ra);
		if (ra.n_dns > IOTDNS_DHCP_MAX_DNS)
			abort();
		break;
	}
	if (rc != IOTDNS_OK && rc != IOTDNS_EMALFORMED)
		abort();
	free(copy);
	(void)sink;
	return 0;
}

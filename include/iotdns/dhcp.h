/* iotdns - DHCPv4, DHCPv6 and IPv6 Router Advertisement decoding: which
 * resolvers the network hands out, and what a device says about itself.
 *
 * Everything is copied into fixed-size fields; strings are sanitised to
 * printable ASCII (other bytes become \xHH) and NUL-terminated.
 */
#ifndef IOTDNS_DHCP_H
#define IOTDNS_DHCP_H

#include <stdbool.h>
#include <stdint.h>

#include "iotdns/addr.h"

#define IOTDNS_DHCP_MAX_DNS 8
#define IOTDNS_DHCP_STR 256

enum iotdns_dhcp4_type {
	IOTDNS_DHCP_DISCOVER = 1, IOTDNS_DHCP_OFFER = 2, IOTDNS_DHCP_REQUEST = 3,
	IOTDNS_DHCP_DECLINE = 4, IOTDNS_DHCP_ACK = 5, IOTDNS_DHCP_NAK = 6,
	IOTDNS_DHCP_RELEASE = 7, IOTDNS_DHCP_INFORM = 8,
};

struct iotdns_dhcp4 {
	uint8_t op;                  /* 1 request, 2 reply */
	uint8_t msg_type;            /* option 53, 0 if absent (BOOTP) */
	uint32_t xid;
	uint8_t chaddr[6];           /* client hardware address (htype 1, hlen 6) */
	struct iotdns_addr ciaddr, yiaddr;
	struct iotdns_addr requested_ip; /* option 50 */
	struct iotdns_addr server_id;    /* option 54 */
	uint8_t n_dns;
	struct iotdns_addr dns[IOTDNS_DHCP_MAX_DNS]; /* option 6 */
	char hostname[IOTDNS_DHCP_STR];     /* option 12 */
	char vendor_class[IOTDNS_DHCP_STR]; /* option 60 */
	uint8_t prl_len;
	uint8_t prl[255];                   /* option 55, in order */
	char prl_text[1024];                /* "1,3,6,15,..." */
	uint8_t client_id_len;
	uint8_t client_id[255];             /* option 61 */
	char client_id_text[IOTDNS_DHCP_STR];/* hex "01:aa:bb:..." */
};

enum iotdns_dhcp6_type {
	IOTDNS_DHCP6_SOLICIT = 1, IOTDNS_DHCP6_ADVERTISE = 2, IOTDNS_DHCP6_REQUEST = 3,
	IOTDNS_DHCP6_CONFIRM = 4, IOTDNS_DHCP6_RENEW = 5, IOTDNS_DHCP6_REBIND = 6,
	IOTDNS_DHCP6_REPLY = 7, IOTDNS_DHCP6_RELEASE = 8, IOTDNS_DHCP6_INFO_REQUEST = 11,
};

struct iotdns_dhcp6 {
	uint8_t msg_type;
	uint32_t xid;                       /* 24 bits */
	uint8_t duid_len;
	uint8_t duid[128];                  /* client identifier (option 1) */
	char duid_text[IOTDNS_DHCP_STR];
	uint8_t n_dns;
	struct iotdns_addr dns[IOTDNS_DHCP_MAX_DNS]; /* option 23 */
	char fqdn[IOTDNS_DHCP_STR];         /* option 39 client FQDN, presentation */
	char vendor_class[IOTDNS_DHCP_STR]; /* option 16, first data item */
	uint8_t oro_len;                    /* option request option (6), codes */
	uint16_t oro[64];
};

struct iotdns_ra {
	uint8_t n_dns;
	struct iotdns_addr dns[IOTDNS_DHCP_MAX_DNS]; /* RDNSS option 25 (RFC 8106) */
	uint32_t rdnss_lifetime;
	bool has_source_mac;
	uint8_t source_mac[6];              /* source link-layer address option */
};

/* Each returns IOTDNS_OK, or IOTDNS_EMALFORMED for data that is not a valid
 * message of that kind (the caller counts it). payload is the UDP payload
 * (DHCP) or the ICMPv6 body after type/code/checksum (RA). */
int iotdns_dhcp4_parse(const uint8_t *payload, uint32_t len, struct iotdns_dhcp4 *out);
int iotdns_dhcp6_parse(const uint8_t *payload, uint32_t len, struct iotdns_dhcp6 *out);
int iotdns_ra_parse(const uint8_t *body, uint32_t len, struct iotdns_ra *out);

#endif

/* iotdns - read-only view of a decoded DNS message.
 *
 * src/decode/dns_ldns.c is the ONLY file that includes ldns. It decodes the
 * wire message with ldns and copies what the rest of iotdns needs into this
 * plain struct. Nothing here points into ldns objects.
 *
 * Ownership: the view returned by iotdns_dns_parse() lives inside the parser
 * and is valid until the next iotdns_dns_parse() call on the same parser.
 *
 * Names are in presentation format (RFC 1035 §5.1, as ldns prints them):
 * labels separated by '.', a trailing '.' for the root only ("." alone);
 * bytes outside [A-Za-z0-9-_] and '.' '\\' inside labels are escaped as \DDD
 * or \. so the text is always printable ASCII and safe to log. A hostile
 * name therefore never reaches a report as raw bytes.
 */
#ifndef IOTDNS_DNS_H
#define IOTDNS_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "iotdns/addr.h"
#include "iotdns/stats.h"

#define IOTDNS_NAME_TEXT 1024 /* 255 wire bytes, each escaped as \DDD at worst */
#define IOTDNS_DNS_MAX_ANSWERS 16
#define IOTDNS_DNS_MAX_OPTIONS 16

enum iotdns_rrtype {
	IOTDNS_T_A = 1, IOTDNS_T_NS = 2, IOTDNS_T_CNAME = 5, IOTDNS_T_SOA = 6, IOTDNS_T_PTR = 12,
	IOTDNS_T_HINFO = 13, IOTDNS_T_MX = 15, IOTDNS_T_TXT = 16, IOTDNS_T_AAAA = 28,
	IOTDNS_T_SRV = 33, IOTDNS_T_OPT = 41, IOTDNS_T_DS = 43, IOTDNS_T_RRSIG = 46,
	IOTDNS_T_NSEC = 47, IOTDNS_T_DNSKEY = 48, IOTDNS_T_SVCB = 64, IOTDNS_T_HTTPS = 65,
	IOTDNS_T_ANY = 255,
};

enum iotdns_rcode {
	IOTDNS_RCODE_NOERROR = 0, IOTDNS_RCODE_FORMERR = 1, IOTDNS_RCODE_SERVFAIL = 2,
	IOTDNS_RCODE_NXDOMAIN = 3, IOTDNS_RCODE_NOTIMP = 4, IOTDNS_RCODE_REFUSED = 5,
};

enum iotdns_edns_opt {
	IOTDNS_EDNS_ECS = 8,      /* RFC 7871 client subnet */
	IOTDNS_EDNS_COOKIE = 10,  /* RFC 7873 */
	IOTDNS_EDNS_KEEPALIVE = 11,
	IOTDNS_EDNS_PADDING = 12, /* RFC 7830 */
};

struct iotdns_dns_answer {
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	char owner[IOTDNS_NAME_TEXT];  /* lower-case */
	/* A/AAAA: the address; CNAME/PTR/NS/SRV: target name (lower-case) in target */
	struct iotdns_addr addr;
	char target[IOTDNS_NAME_TEXT];
};

struct iotdns_dns_msg {
	uint32_t size;       /* message size in bytes */
	uint16_t id;
	uint16_t flags;      /* raw second header word */
	bool qr, aa, tc, rd, ra, ad, cd;
	uint8_t opcode;
	uint16_t rcode;      /* extended RCODE when EDNS is present */
	uint16_t qdcount, ancount, nscount, arcount; /* header counts as decoded */

	/* first question (the only one in practice) */
	bool has_question;
	char qname[IOTDNS_NAME_TEXT];     /* lower-case presentation */
	char qname_raw[IOTDNS_NAME_TEXT]; /* presentation with the case as sent */
	uint8_t qname_wire_len;           /* 1..255 */
	uint8_t qname_labels;
	uint16_t qtype;
	uint16_t qclass;                  /* without the mDNS unicast-response bit */
	bool qu;                          /* mDNS QU bit (top bit of qclass) */

	struct {
		bool present;
		uint16_t udp_size;
		uint8_t version;
		uint8_t ext_rcode;
		bool do_bit;
		uint16_t noptions;
		uint16_t option_codes[IOTDNS_DNS_MAX_OPTIONS];
		bool has_ecs;
		uint16_t ecs_family;
		uint8_t ecs_source_prefix;
		uint8_t ecs_scope_prefix;
		bool has_cookie;
		uint8_t cookie_len;           /* 8 = client only, 16..40 with server cookie */
		bool has_padding;
		uint16_t padding_len;
	} edns;

	/* answer section: the first IOTDNS_DNS_MAX_ANSWERS records are stored */
	uint16_t nanswers;                /* stored in answers[] */
	struct iotdns_dns_answer answers[IOTDNS_DNS_MAX_ANSWERS];
	bool has_min_ttl;
	uint32_t min_ttl;                 /* smallest TTL along the answer records (incl. CNAMEs) */
	uint16_t n_addr_answers;          /* A/AAAA records in the answer section */

	/* authority section: SOA for negative answers (RFC 2308) */
	struct {
		bool present;
		char zone[IOTDNS_NAME_TEXT];
		uint32_t ttl;
		uint32_t minimum;
	} soa;
};

struct iotdns_dns_parser;

int iotdns_dns_parser_new(struct iotdns_dns_parser **out);
void iotdns_dns_parser_free(struct iotdns_dns_parser *p);

/* Decodes wire[0..len). On success returns IOTDNS_OK and sets *out to the
 * view. On failure returns IOTDNS_EMALFORMED and sets *problem to the reason
 * (IOTDNS_P_DNS_MALFORMED, _DNS_TRUNCATED, _DNS_BAD_NAME, _DNS_COMPRESSION_LOOP);
 * nothing is counted here: the caller counts. */
int iotdns_dns_parse(struct iotdns_dns_parser *p, const uint8_t *wire, uint32_t len,
		     const struct iotdns_dns_msg **out, enum iotdns_problem *problem);

/* Names of types and rcodes for output ("A", "AAAA", "TYPE65534", "NXDOMAIN"). */
const char *iotdns_rrtype_name(uint16_t type, char buf[16]);
const char *iotdns_rcode_name(uint16_t rcode, char buf[16]);


#endif

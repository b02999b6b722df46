/* Fuzz target: one DNS message through iotdns_dns_parse(), then every
 * string of the view is read to its NUL (so ASan checks the terminators
 * and the bounds) and checked to be printable ASCII. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/dns.h"

static struct iotdns_dns_parser *parser;

/* Reads s up to its NUL within cap bytes; aborts if the text is not
 * terminated or not printable (both would be bugs in the view). */
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
	const struct iotdns_dns_msg *m;
	enum iotdns_problem problem;
	char buf[16];
	volatile size_t sink = 0;

	if (!parser && iotdns_dns_parser_new(&parser) != IOTDNS_OK)
		abort();
	if (size > 70000)
		return 0;
	int rc = iotdns_dns_parse(parser, data, (uint32_t)size, &m, &problem);
	if (rc != IOTDNS_OK) {
		if (rc != IOTDNS_EMALFORMED || m != NULL ||
		    (problem != IOTDNS_P_DNS_MALFORMED && problem != IOTDNS_P_DNS_TRUNCATED &&
		     problem != IOTDNS_P_DNS_BAD_NAME && problem != IOTDNS_P_DNS_COMPRESSION_LOOP))
			abort();
		return 0;
	}
	if (!m || m->size != size || m->nanswers > IOTDNS_DNS_MAX_ANSWERS ||
	    m->n_addr_answers > m->ancount || m->nanswers > m->ancount)
		abort();
	sink += touch(m->qname, sizeof(m->qname));
	sink += touch(m->qname_raw, sizeof(m->qname_raw));
	if (strlen(m->qname) != strlen(m->qname_raw))
		abort();
	if (m->has_question && (m->qname_wire_len < 1 || m->qname[0] == '\0'))
		abort();
	sink += touch(m->soa.zone, sizeof(m->soa.zone));
	for (unsigned i = 0; i < m->nanswers; i++) {
		sink += touch(m->answers[i].owner, sizeof(m->answers[i].owner));
		sink += touch(m->answers[i].target, sizeof(m->answers[i].target));
		sink += m->answers[i].addr.family;
	}
	for (unsigned i = 0; i < IOTDNS_MIN(m->edns.noptions, IOTDNS_DNS_MAX_OPTIONS); i++)
		sink += m->edns.option_codes[i];
	sink += touch(iotdns_rrtype_name(m->qtype, buf), 16);
	sink += touch(iotdns_rcode_name(m->rcode, buf), 16);
	(void)sink;
	return 0;
}

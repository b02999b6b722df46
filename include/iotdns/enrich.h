/* iotdns - address enrichment through libmaxminddb.
 *
 * Three MaxMind-format databases, each optional:
 *  - the built-in database of well-known public resolvers, compiled at build
 *    time from rules/resolvers.txt (rules/mkresolverdb.pl, Debian's
 *    libmaxmind-db-writer-perl); used by default;
 *  - --asn-db: GeoLite2-ASN style (autonomous_system_number/_organization);
 *  - --geo-db: GeoLite2-Country/City style (country.iso_code).
 */
#ifndef IOTDNS_ENRICH_H
#define IOTDNS_ENRICH_H

#include <stdbool.h>
#include <stdint.h>

#include "iotdns/addr.h"
#include "iotdns/common.h"

struct iotdns_enrich;

struct iotdns_addr_info {
	bool public_resolver;         /* listed in the built-in resolver database */
	char resolver_operator[64];   /* "Google Public DNS", "114DNS", ... */
	char dot_name[128];           /* DoT authentication name, "" if none */
	char doh_url[256];            /* DoH URI template, "" if none */
	uint32_t asn;                 /* 0 when unknown */
	char as_org[128];
	char country[3];              /* ISO 3166 alpha-2, "" when unknown */
};

/* builtin_path NULL = iotdns_enrich_default_builtin(); "" = none. asn_path
 * and geo_path may be NULL. A database that is missing or corrupt is an
 * error (IOTDNS_EMMDB) naming the file. */
int iotdns_enrich_open(struct iotdns_enrich **out, const char *builtin_path, const char *asn_path,
		       const char *geo_path, struct iotdns_err *err);
void iotdns_enrich_close(struct iotdns_enrich *e);

/* Fills info (zeroed first); returns true when any database knew the address. */
bool iotdns_enrich_lookup(struct iotdns_enrich *e, const struct iotdns_addr *a,
			  struct iotdns_addr_info *info);
/* True when the address is a known DoH resolver (HTTPS to it is DoH). */
bool iotdns_enrich_is_doh(struct iotdns_enrich *e, const struct iotdns_addr *a);

/* Path of the built-in resolver database: $IOTDNS_RESOLVER_DB, else the
 * build tree's copy when running from it, else the installed one. */
const char *iotdns_enrich_default_builtin(void);

#endif

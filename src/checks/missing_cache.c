/* iotdns - the missing-cache check: Caching and TTLs (RFC 2308 negative caching).
 * Placeholder: being written (docs/checks/missing-cache.md). */
#include "iotdns/checker.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct iotdns_checker iotdns_chk_missing_cache = {
	.api = IOTDNS_CHECKER_API,
	.id = "missing-cache",
	.summary = "Caching and TTLs (RFC 2308 negative caching)",
	.kinds = kinds,
};

/* iotdns - the hardcoded-resolver check: Use of the network-provided resolvers.
 * Placeholder: being written (docs/checks/hardcoded-resolver.md). */
#include "iotdns/checker.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct iotdns_checker iotdns_chk_hardcoded_resolver = {
	.api = IOTDNS_CHECKER_API,
	.id = "hardcoded-resolver",
	.summary = "Use of the network-provided resolvers",
	.kinds = kinds,
};

/* iotdns - the identifier-leak check: Device identifiers and local names leaking in queries.
 * Placeholder: being written (docs/checks/identifier-leak.md). */
#include "iotdns/checker.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct iotdns_checker iotdns_chk_identifier_leak = {
	.api = IOTDNS_CHECKER_API,
	.id = "identifier-leak",
	.summary = "Device identifiers and local names leaking in queries",
	.kinds = kinds,
};

/* iotdns - the amplification-risk check: The device as a reflector or a load amplifier.
 * Placeholder: being written (docs/checks/amplification-risk.md). */
#include "iotdns/checker.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct iotdns_checker iotdns_chk_amplification_risk = {
	.api = IOTDNS_CHECKER_API,
	.id = "amplification-risk",
	.summary = "The device as a reflector or a load amplifier",
	.kinds = kinds,
};

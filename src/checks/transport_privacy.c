/* iotdns - the transport-privacy check: EDNS(0), TCP fallback, encrypted DNS and privacy options.
 * Placeholder: being written (docs/checks/transport-privacy.md). */
#include "iotdns/checker.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct iotdns_checker iotdns_chk_transport_privacy = {
	.api = IOTDNS_CHECKER_API,
	.id = "transport-privacy",
	.summary = "EDNS(0), TCP fallback, encrypted DNS and privacy options",
	.kinds = kinds,
};

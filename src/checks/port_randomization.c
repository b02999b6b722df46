/* iotdns - the port-randomization check: UDP source-port randomization (RFC 5452 §9.2).
 * Placeholder: being written (docs/checks/port-randomization.md). */
#include "iotdns/checker.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct iotdns_checker iotdns_chk_port_randomization = {
	.api = IOTDNS_CHECKER_API,
	.id = "port-randomization",
	.summary = "UDP source-port randomization (RFC 5452 §9.2)",
	.kinds = kinds,
};

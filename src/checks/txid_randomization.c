/* iotdns - the txid-randomization check: DNS transaction-ID randomization (RFC 5452).
 * Placeholder: being written (docs/checks/txid-randomization.md). */
#include "iotdns/checker.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct iotdns_checker iotdns_chk_txid_randomization = {
	.api = IOTDNS_CHECKER_API,
	.id = "txid-randomization",
	.summary = "DNS transaction-ID randomization (RFC 5452)",
	.kinds = kinds,
};

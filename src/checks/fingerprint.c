/* iotdns - the fingerprint check: device classification and how quickly a
 * passive observer can identify the device. Placeholder: being written. */
#include "iotdns/checker.h"
#include "iotdns/finding.h"

static const struct iotdns_finding_kind kinds[] = {
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

const struct iotdns_checker iotdns_chk_fingerprint = {
	.api = IOTDNS_CHECKER_API,
	.id = "fingerprint",
	.summary = "Device classification and fingerprintability",
	.kinds = kinds,
};

/* iotdns - the one registry of checkers (docs/checkers.md).
 *
 * To add a checker: write src/checks/<name>.c exporting one
 * `const struct iotdns_checker iotdns_chk_<name>`, declare it below, add it
 * to the table, add the file to meson.build and write docs/checks/<id>.md.
 * Order here is run order, which keeps output deterministic.
 */
#include <ctype.h>
#include <string.h>

#include "iotdns/checker.h"

extern const struct iotdns_checker iotdns_chk_port_randomization;
extern const struct iotdns_checker iotdns_chk_txid_randomization;
extern const struct iotdns_checker iotdns_chk_hardcoded_resolver;
extern const struct iotdns_checker iotdns_chk_amplification_risk;
extern const struct iotdns_checker iotdns_chk_missing_cache;
extern const struct iotdns_checker iotdns_chk_transport_privacy;
extern const struct iotdns_checker iotdns_chk_identifier_leak;
extern const struct iotdns_checker iotdns_chk_fingerprint;

const struct iotdns_checker *const iotdns_checkers[] = {
	&iotdns_chk_port_randomization,
	&iotdns_chk_txid_randomization,
	&iotdns_chk_hardcoded_resolver,
	&iotdns_chk_amplification_risk,
	&iotdns_chk_missing_cache,
	&iotdns_chk_transport_privacy,
	&iotdns_chk_identifier_leak,
	&iotdns_chk_fingerprint,
	NULL,
};

unsigned iotdns_checker_count(void)
{
	unsigned n = 0;
	while (iotdns_checkers[n])
		n++;
	return n;
}

static bool kebab(const char *s)
{
	if (!s || !*s || !islower((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

int iotdns_checkers_validate(struct iotdns_err *err)
{
	for (unsigned i = 0; iotdns_checkers[i]; i++) {
		const struct iotdns_checker *c = iotdns_checkers[i];
		if (c->api != IOTDNS_CHECKER_API)
			return iotdns_err_set(err, IOTDNS_EINVAL, "checker %u: API %u, expected %u", i, c->api,
					      IOTDNS_CHECKER_API);
		if (!kebab(c->id))
			return iotdns_err_set(err, IOTDNS_EINVAL, "checker %u: id \"%s\" is not kebab-case", i,
					      c->id ? c->id : "");
		for (unsigned j = 0; j < i; j++)
			if (strcmp(iotdns_checkers[j]->id, c->id) == 0)
				return iotdns_err_set(err, IOTDNS_EINVAL, "checker id %s registered twice", c->id);
		for (const struct iotdns_finding_kind *k = c->kinds; k && k->code; k++) {
			for (unsigned j = 0; j <= i; j++)
				for (const struct iotdns_finding_kind *o = iotdns_checkers[j]->kinds; o && o->code; o++)
					if (o != k && strcmp(o->code, k->code) == 0)
						return iotdns_err_set(err, IOTDNS_EINVAL,
								      "finding code %s is declared twice", k->code);
		}
	}
	return IOTDNS_OK;
}

const char *iotdns_severity_name(enum iotdns_severity s)
{
	switch (s) {
	case IOTDNS_SEV_INFO: return "info";
	case IOTDNS_SEV_LOW: return "low";
	case IOTDNS_SEV_MEDIUM: return "medium";
	case IOTDNS_SEV_HIGH: return "high";
	}
	return "?";
}

int iotdns_severity_parse(const char *s)
{
	static const char *const names[] = { "info", "low", "medium", "high" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

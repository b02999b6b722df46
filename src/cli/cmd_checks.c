/* iotdns - `iotdns checks`: every registered check and finding code. */
#include <stdio.h>
#include <string.h>

#include "iotdns/checker.h"
#include "iotdns/cli.h"
#include "iotdns/json.h"

int iotdns_cmd_checks(int argc, char **argv)
{
	bool json = false, options = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--options") == 0) {
			options = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("Usage: iotdns checks [--json] [--options]\n"
			       "List every check (id and summary) and every finding code it can report\n"
			       "(code, severity, title). With --options, also every threshold a check\n"
			       "takes (--set <check-id>.<option>=VALUE), with its default and range.\n"
			       "Details: docs/checks/<id>.md.\n\n%s",
			       iotdns_exit_codes_help);
			return IOTDNS_EXIT_OK;
		} else {
			fprintf(stderr, "iotdns checks: unknown argument %s\nTry 'iotdns checks --help'.\n", argv[i]);
			return IOTDNS_EXIT_USAGE;
		}
	}
	struct iotdns_err err = { "" };
	if (iotdns_checkers_validate(&err) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		return IOTDNS_EXIT_USAGE;
	}
	unsigned n = iotdns_checker_count();
	if (!json && n == 0)
		printf("No checks are registered in this build.\n");
	for (unsigned i = 0; i < n; i++) {
		const struct iotdns_checker *c = iotdns_checkers[i];
		if (json) {
			printf("{\"check\":");
			iotdns_json_str(stdout, c->id);
			printf(",\"summary\":");
			iotdns_json_str(stdout, c->summary);
			printf(",\"codes\":[");
			for (const struct iotdns_finding_kind *k = c->kinds; k && k->code; k++) {
				printf("%s{\"code\":", k == c->kinds ? "" : ",");
				iotdns_json_str(stdout, k->code);
				printf(",\"severity\":\"%s\",\"title\":", iotdns_severity_name(k->severity));
				iotdns_json_str(stdout, k->title);
				printf("}");
			}
			printf("],\"options\":[");
			for (const struct iotdns_opt *o = c->opts; o && o->name; o++) {
				printf("%s{\"key\":\"%s.%s\",\"default\":%g,\"min\":%g,\"max\":%g,\"help\":",
				       o == c->opts ? "" : ",", c->id, o->name, o->def, o->min, o->max);
				iotdns_json_str(stdout, o->help);
				printf("}");
			}
			printf("]}\n");
		} else {
			printf("%-22s %s\n", c->id, c->summary);
			for (const struct iotdns_finding_kind *k = c->kinds; k && k->code; k++)
				printf("  %-28s %-7s %s\n", k->code, iotdns_severity_name(k->severity), k->title);
			for (const struct iotdns_opt *o = c->opts; options && o && o->name; o++)
				printf("  --set %s.%s=%g  (%g..%g) %s\n", c->id, o->name, o->def, o->min, o->max, o->help);
		}
	}
	return IOTDNS_EXIT_OK;
}

/* iotdns - `iotdns findings --db PATH [--json] [--min-severity S]`. */
#include <getopt.h>
#include <stdio.h>

#include "iotdns/checker.h"
#include "iotdns/cli.h"
#include "iotdns/store.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: iotdns findings [--db PATH] [--json] [--min-severity SEVERITY]\n"
		   "List the findings stored in the database (default iotdns.db), most severe\n"
		   "first, with their evidence (input file, packet number, time, summary).\n\n"
		   "Options:\n"
		   "  --db PATH                database to read\n"
		   "  --json                   one JSON object per finding per line\n"
		   "  --min-severity SEVERITY  info (default), low, medium or high\n"
		   "  -h, --help               this help\n\n%s",
		iotdns_exit_codes_help);
}

int iotdns_cmd_findings(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "min-severity", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = "iotdns.db";
	bool json = false;
	int min = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'j': json = true; break;
		case 'm':
			if ((min = iotdns_severity_parse(optarg)) < 0) {
				fprintf(stderr, "iotdns findings: --min-severity %s: expected info, low, medium or high\n",
					optarg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return IOTDNS_EXIT_OK;
		default:
			fprintf(stderr, "iotdns findings: unknown option or missing value: %s\n"
					"Try 'iotdns findings --help'.\n", argv[optind - 1]);
			return IOTDNS_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iotdns findings: unexpected argument %s\n", argv[optind]);
		return IOTDNS_EXIT_USAGE;
	}
	struct iotdns_store *s;
	struct iotdns_err err = { "" };
	int ec = iotdns_cli_open_db(db, &s);
	if (ec != IOTDNS_EXIT_OK)
		return ec;
	int rc = json ? iotdns_store_findings_json(s, stdout, min, &err) : iotdns_store_findings_text(s, stdout, min, &err);
	iotdns_store_close(s);
	if (rc != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		return IOTDNS_EXIT_DB;
	}
	return IOTDNS_EXIT_OK;
}

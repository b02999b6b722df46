/* iotdns - `iotdns devices --db PATH [--json]`: what the store knows. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/cli.h"
#include "iotdns/store.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: iotdns devices [--db PATH] [--json]\n"
		   "List the devices stored in the database (default iotdns.db), with totals\n"
		   "over every run: addresses, queries, resolvers and how each was reached,\n"
		   "host name, and classification once fingerprinting has run.\n\n"
		   "Options:\n"
		   "  --db PATH   database to read\n"
		   "  --json      one JSON object per device per line (fields: docs/schema.md)\n"
		   "  -h, --help  this help\n\n%s",
		iotdns_exit_codes_help);
}

int iotdns_cmd_devices(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = "iotdns.db";
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return IOTDNS_EXIT_OK;
		default:
			fprintf(stderr, "iotdns devices: unknown option or missing value: %s\n"
					"Try 'iotdns devices --help'.\n", argv[optind - 1]);
			return IOTDNS_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "iotdns devices: unexpected argument %s\n", argv[optind]);
		return IOTDNS_EXIT_USAGE;
	}
	struct iotdns_store *s;
	struct iotdns_err err = { "" };
	int ec = iotdns_cli_open_db(db, &s);
	if (ec != IOTDNS_EXIT_OK)
		return ec;
	int rc = json ? iotdns_store_devices_json(s, stdout, &err) : iotdns_store_devices_text(s, stdout, &err);
	iotdns_store_close(s);
	if (rc != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		return IOTDNS_EXIT_DB;
	}
	return IOTDNS_EXIT_OK;
}

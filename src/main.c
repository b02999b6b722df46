/* iotdns - passive IoT DNS security and privacy analyzer: command dispatch.
 * The only place that exits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns-config.h"
#include "iotdns/cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iotdns COMMAND [options]\n"
		"Passive IoT DNS security and privacy analyzer.\n\n"
		"Commands:\n"
		"  analyze [options] FILE...   analyze pcap/pcapng files into a database\n"
		"  capture -i IFACE [options]  analyze live traffic from an interface\n"
		"  devices [--db PATH] [--json]  list the devices in a database\n"
		"  findings [--db PATH] [--json] [--min-severity S]  list stored findings\n"
		"  checks [--json] [--options] list every check, finding code and threshold\n"
		"  rules check [DIR]           validate fingerprint rules (docs/rules.md)\n"
		"  eval --labels FILE CAPTURE...  classification accuracy against labels\n\n"
		"Options:\n"
		"  -h, --help                  this help (`iotdns COMMAND --help` for a command)\n"
		"  -V, --version               print the version\n\n%s",
		iotdns_exit_codes_help);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return IOTDNS_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return IOTDNS_EXIT_OK;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("iotdns %s\n", IOTDNS_VERSION);
		return IOTDNS_EXIT_OK;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "analyze", iotdns_cmd_analyze },
		{ "capture", iotdns_cmd_capture },
		{ "devices", iotdns_cmd_devices },
		{ "checks", iotdns_cmd_checks },
		{ "findings", iotdns_cmd_findings },
		{ "rules", iotdns_cmd_rules },
		{ "eval", iotdns_cmd_eval },
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "iotdns: unknown command \"%s\"\nTry 'iotdns --help'.\n", cmd);
	return IOTDNS_EXIT_USAGE;
}

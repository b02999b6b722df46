/* iotdns - the command line (src/cli/). Each command returns an exit code
 * (enum iotdns_exit); only src/main.c calls exit. */
#ifndef IOTDNS_CLI_H
#define IOTDNS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "iotdns/engine.h"

int iotdns_cmd_analyze(int argc, char **argv);
int iotdns_cmd_capture(int argc, char **argv);
int iotdns_cmd_devices(int argc, char **argv);
int iotdns_cmd_checks(int argc, char **argv);
int iotdns_cmd_findings(int argc, char **argv);
int iotdns_cmd_rules(int argc, char **argv);   /* src/cli/cmd_rules.c: rules check [DIR] */
int iotdns_cmd_eval(int argc, char **argv);    /* src/cli/cmd_eval.c: eval --labels FILE CAPTURE... */

/* Applies one `--set KEY=VALUE` (limits.* keys for now). Returns 0, or -1
 * with a message in err. */
int iotdns_cli_set(struct iotdns_engine_config *cfg, const char *kv, struct iotdns_err *err);
/* Reads KEY = VALUE lines (# comments) as --set; errors are "file:line: message". */
int iotdns_cli_config_file(struct iotdns_engine_config *cfg, const char *path, struct iotdns_err *err);
/* Parses "ADDR[,ADDR...]" into cfg->resolvers. */
int iotdns_cli_resolvers(struct iotdns_engine_config *cfg, const char *list, struct iotdns_err *err);
/* Opens an existing database for the read commands; prints the problem and
 * returns IOTDNS_EXIT_DB, or returns IOTDNS_EXIT_OK with *out set. */
struct iotdns_store;
int iotdns_cli_open_db(const char *db, struct iotdns_store **out);
/* Prints every settable key with its default (for --help). */
void iotdns_cli_print_keys(FILE *f);

/* Text printed by `--help` of every command, shared so docs and tests agree. */
extern const char iotdns_exit_codes_help[];

#endif

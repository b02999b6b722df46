/* iotdns - `iotdns rules check [DIR]`: validate fingerprint rules without
 * reading traffic (like unbound-checkconf or suricata -T), and
 * `iotdns rules match [--rules DIR] NAME...`: which rule lines a DNS name
 * hits (for rule authors). Format: docs/rules.md. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/cli.h"
#include "iotdns/fingerprint.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iotdns rules check [DIR]\n"
		"       iotdns rules match [--rules DIR] NAME...\n"
		"Validate the fingerprint rules in DIR (default %s):\n"
		"every *.rules file is parsed and checked (ids, revisions, categories, names,\n"
		"registrable domains by the public suffix list, weights, provenance). An error\n"
		"is printed as FILE:LINE: message and the exit status is 2.\n"
		"`match` prints, for each DNS name, the rule lines it hits, or that it is\n"
		"shared infrastructure, and its registrable domain.\n\n%s",
		iotdns_fp_rules_default_dir(), iotdns_exit_codes_help);
}

static int check(const char *dir)
{
	struct iotdns_fp_rules *rs = NULL;
	struct iotdns_err err = { "" };
	if (iotdns_fp_rules_load_dir(&rs, dir, &err) != IOTDNS_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return IOTDNS_EXIT_USAGE;
	}
	struct iotdns_fp_rules_stats st;
	iotdns_fp_rules_stats(rs, &st);
	printf("%s: OK: %u rules in %u files (%u product rules, %u vendor-level rules, %u shared-infrastructure "
	       "stanzas), %u evidence lines, %u vendors, %u categories\n",
	       dir, st.rules, st.files, st.products, st.generic, st.shared, st.lines, st.vendors, st.categories);
	iotdns_fp_rules_free(rs);
	return IOTDNS_EXIT_OK;
}

static int match(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = iotdns_fp_rules_default_dir();
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': dir = optarg; break;
		case 'h': usage(stdout); return IOTDNS_EXIT_OK;
		default:
			fprintf(stderr, "iotdns rules match: unknown option or missing value: %s\n", argv[optind - 1]);
			return IOTDNS_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "iotdns rules match: no NAME given\n");
		return IOTDNS_EXIT_USAGE;
	}
	struct iotdns_fp_rules *rs = NULL;
	struct iotdns_err err = { "" };
	if (iotdns_fp_rules_load_dir(&rs, dir, &err) != IOTDNS_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return IOTDNS_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		char name[1024], reg[256];
		size_t n = 0;
		for (const char *s = argv[i]; *s && n + 1 < sizeof(name); s++)
			name[n++] = (char)((*s >= 'A' && *s <= 'Z') ? *s + 32 : *s);
		while (n > 1 && name[n - 1] == '.')
			n--;
		name[n] = '\0';
		uint32_t hits[64];
		bool shared = false;
		unsigned k = iotdns_fp_match_name(rs, name, hits, 64, &shared);
		const char *r = iotdns_fp_registrable(rs, name, reg, sizeof(reg));
		printf("%s (registrable domain %s): %s\n", name, r ? r : "none",
		       shared ? "shared infrastructure, no vendor weight" : k ? "hits" : "no rule");
		for (unsigned j = 0; j < k && j < 64; j++) {
			const struct iotdns_fp_line *l = iotdns_fp_rules_line(rs, hits[j]);
			const struct iotdns_fp_rule *ru = iotdns_fp_rules_at(rs, l->rule);
			printf("  %s:%u  %s rev %u  %s = %s%s  weight %.2f  -> %s / %s%s%s\n", ru->file, l->lineno, ru->id,
			       ru->rev, iotdns_fp_key_name(l->key), l->key == IOTDNS_FP_WILDCARD ? "*." : "", l->pattern,
			       l->weight, ru->category, ru->vendor, ru->product ? " / " : "", ru->product ? ru->product : "");
		}
	}
	iotdns_fp_rules_free(rs);
	return IOTDNS_EXIT_OK;
}

int iotdns_cmd_rules(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? IOTDNS_EXIT_USAGE : IOTDNS_EXIT_OK;
	}
	if (strcmp(argv[1], "check") == 0) {
		if (argc > 3 || (argc == 3 && argv[2][0] == '-' && strcmp(argv[2], "-") != 0)) {
			if (argc == 3 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0)) {
				usage(stdout);
				return IOTDNS_EXIT_OK;
			}
			fprintf(stderr, "iotdns rules check: expected at most one DIR\n");
			return IOTDNS_EXIT_USAGE;
		}
		return check(argc == 3 ? argv[2] : iotdns_fp_rules_default_dir());
	}
	if (strcmp(argv[1], "match") == 0)
		return match(argc - 1, argv + 1);
	fprintf(stderr, "iotdns rules: unknown subcommand \"%s\" (check, match)\n", argv[1]);
	return IOTDNS_EXIT_USAGE;
}

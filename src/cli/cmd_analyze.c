/* iotdns - `iotdns analyze FILE...` and `iotdns capture -i IFACE`: the
 * pipeline from captures to the store. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "iotdns-config.h"
#include "iotdns/capture.h"
#include "iotdns/checker.h"
#include "iotdns/cli.h"
#include "iotdns/enrich.h"
#include "iotdns/finding.h"
#include "iotdns/json.h"
#include "iotdns/store.h"

#define LIVE_FLUSH_US (60ull * 1000000)

struct run_opts {
	const char *db;
	char sensor[256];
	const char *asn_db, *geo_db, *resolver_db;
	bool json, quiet;
	int fail_on; /* -1 off */
	const char *iface;
	struct iotdns_engine_config cfg;
	/* --checks: the selected checkers, NULL-terminated (cfg.checkers points here) */
	const struct iotdns_checker *selected[32];
};

struct run {
	struct run_opts *o;
	struct iotdns_store *store;
	struct iotdns_enrich *enrich;
	struct iotdns_engine *engine;
	int64_t run_id;
	struct iotdns_input_info *inputs;
	unsigned ninputs;
	int exit_code;
	/* progress */
	bool progress;
	uint64_t prog_last_ns, prog_start_ns, prog_packets0;
	char cmdline[2048];
};

static volatile sig_atomic_t stop_requested;
static struct iotdns_capture *live_cap;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	iotdns_capture_break(live_cap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void usage_analyze(FILE *f)
{
	fprintf(f,
		"Usage: iotdns analyze [options] FILE...\n"
		"Analyze pcap or pcapng files (\"-\" reads standard input), in order, with\n"
		"device state carried across files, and store the results in SQLite.\n\n"
		"Options:\n"
		"  --db PATH              database (default iotdns.db); results accumulate\n"
		"  --sensor NAME          sensor name stored with the run (default: host name)\n"
		"  --resolver ADDR[,...]  the network's own resolvers, for captures without DHCP\n"
		"  --asn-db PATH          MaxMind ASN database (GeoLite2-ASN format)\n"
		"  --geo-db PATH          MaxMind country/city database (GeoLite2 format)\n"
		"  --resolver-db PATH     built-in public resolver database to use instead of\n"
		"                         the default (\"none\" disables it)\n"
		"  --set KEY=VALUE        change a limit (keys below) or a check threshold\n"
		"                         (<check-id>.<option>; see `iotdns checks --options`)\n"
		"  --config FILE          KEY = VALUE lines, as --set (# comments)\n"
		"  --checks LIST          run only these checks (ids, comma-separated), or\n"
		"                         \"all\" (default) or \"none\" (inventory only)\n"
		"  --json                 one JSON object per line on standard output\n"
		"  --quiet                print nothing but errors\n"
		"  --rules DIR            fingerprint rules directory (default: the shipped\n"
		"                         rules; an invalid rule stops with file:line: message)\n"
		"  --fail-on SEVERITY     exit 1 when a finding is at or above SEVERITY\n"
		"                         (info, low, medium, high)\n"
		"  -h, --help             this help\n\n"
		"Keys for --set (defaults):\n");
	iotdns_cli_print_keys(f);
	fprintf(f, "\n%s", iotdns_exit_codes_help);
}

static void usage_capture(FILE *f)
{
	fprintf(f,
		"Usage: iotdns capture -i IFACE [options]\n"
		"Capture live from IFACE with the same pipeline as `analyze`. Results are\n"
		"stored every 60 seconds and when capture stops; Ctrl-C (SIGINT) or SIGTERM\n"
		"stores everything and exits cleanly.\n\n"
		"Options: -i/--interface IFACE, and --db, --sensor, --resolver, --asn-db,\n"
		"--geo-db, --resolver-db, --rules, --set, --json, --quiet as for `iotdns analyze`.\n\n");
	fprintf(f, "%s", iotdns_exit_codes_help);
}

enum { O_DB = 256, O_SENSOR, O_RESOLVER, O_ASN, O_GEO, O_RESDB, O_SET, O_JSON, O_QUIET, O_FAILON, O_CONFIG, O_RULES, O_CHECKS };

static const struct option long_opts[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "sensor", required_argument, NULL, O_SENSOR },
	{ "resolver", required_argument, NULL, O_RESOLVER },
	{ "asn-db", required_argument, NULL, O_ASN },
	{ "geo-db", required_argument, NULL, O_GEO },
	{ "resolver-db", required_argument, NULL, O_RESDB },
	{ "set", required_argument, NULL, O_SET },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "checks", required_argument, NULL, O_CHECKS },
	{ "json", no_argument, NULL, O_JSON },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "fail-on", required_argument, NULL, O_FAILON },
	{ "rules", required_argument, NULL, O_RULES },
	{ "interface", required_argument, NULL, 'i' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* --checks all|none|ID[,ID...]: run only these checkers (in registry order). */
static int select_checks(struct run_opts *o, const char *list)
{
	unsigned n = 0;
	bool all = strcmp(list, "all") == 0, none = strcmp(list, "none") == 0;
	for (unsigned i = 0; iotdns_checkers[i] && n + 1 < IOTDNS_ARRAY_LEN(o->selected); i++) {
		const char *id = iotdns_checkers[i]->id;
		size_t len = strlen(id);
		bool want = all;
		for (const char *p = list; !all && !none && *p;) {
			const char *end = strchr(p, ',');
			size_t l = end ? (size_t)(end - p) : strlen(p);
			if (l == len && strncmp(p, id, len) == 0)
				want = true;
			p += l + (end ? 1 : 0);
		}
		if (want)
			o->selected[n++] = iotdns_checkers[i];
	}
	o->selected[n] = NULL;
	/* every name given must be a check */
	for (const char *p = list; !all && !none && *p;) {
		const char *end = strchr(p, ',');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		bool known = false;
		for (unsigned i = 0; iotdns_checkers[i]; i++)
			known |= strlen(iotdns_checkers[i]->id) == l && strncmp(p, iotdns_checkers[i]->id, l) == 0;
		if (!known) {
			fprintf(stderr, "iotdns: --checks: unknown check \"%.*s\" (see `iotdns checks`)\n", (int)l, p);
			return -1;
		}
		p += l + (end ? 1 : 0);
	}
	o->cfg.checkers = o->selected;
	return 0;
}

/* Returns -1 to continue, or an exit code. */
static int parse_opts(int argc, char **argv, struct run_opts *o, bool live)
{
	struct iotdns_err err = { "" };
	memset(o, 0, sizeof(*o));
	o->db = "iotdns.db";
	o->fail_on = -1;
	iotdns_engine_config_default(&o->cfg);
	if (gethostname(o->sensor, sizeof(o->sensor) - 1) != 0 || !o->sensor[0])
		snprintf(o->sensor, sizeof(o->sensor), "unknown");
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, live ? "hi:" : "h", long_opts, NULL)) != -1) {
		switch (c) {
		case O_DB: o->db = optarg; break;
		case O_SENSOR: snprintf(o->sensor, sizeof(o->sensor), "%s", optarg); break;
		case O_RESOLVER:
			if (iotdns_cli_resolvers(&o->cfg, optarg, &err)) {
				fprintf(stderr, "iotdns: %s\n", err.msg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		case O_ASN: o->asn_db = optarg; break;
		case O_GEO: o->geo_db = optarg; break;
		case O_RESDB: o->resolver_db = optarg; break;
		case O_CHECKS:
			if (select_checks(o, optarg) != 0)
				return IOTDNS_EXIT_USAGE;
			break;
		case O_SET:
			if (iotdns_cli_set(&o->cfg, optarg, &err)) {
				fprintf(stderr, "iotdns: %s\n", err.msg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		case O_CONFIG:
			if (iotdns_cli_config_file(&o->cfg, optarg, &err)) {
				fprintf(stderr, "iotdns: %s\n", err.msg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		case O_JSON: o->json = true; break;
		case O_RULES: o->cfg.rules_dir = optarg; break;
		case O_QUIET: o->quiet = true; break;
		case O_FAILON:
			o->fail_on = iotdns_severity_parse(optarg);
			if (o->fail_on < 0) {
				fprintf(stderr, "iotdns: --fail-on %s: expected info, low, medium or high\n", optarg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		case 'i': o->iface = optarg; break;
		case 'h':
			(live ? usage_capture : usage_analyze)(stdout);
			return IOTDNS_EXIT_OK;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, "iotdns %s: option -%c: unknown or missing its value\n",
					live ? "capture" : "analyze", optopt);
			else
				fprintf(stderr, "iotdns %s: unknown option or missing value: %s\n",
					live ? "capture" : "analyze", argv[optind - 1]);
			fprintf(stderr, "Try 'iotdns %s --help'.\n", live ? "capture" : "analyze");
			return IOTDNS_EXIT_USAGE;
		}
	}
	return -1;
}

static int setup(struct run *r, int argc, char **argv)
{
	struct iotdns_err err = { "" };
	struct run_opts *o = r->o;
	int rc;
	size_t len = 0;
	for (int i = 0; i < argc && len + 2 < sizeof(r->cmdline); i++)
		len += (size_t)snprintf(r->cmdline + len, sizeof(r->cmdline) - len, "%s%s", i ? " " : "", argv[i]);

	if (iotdns_checkers_validate(&err) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: internal error: %s\n", err.msg);
		return IOTDNS_EXIT_USAGE;
	}
	const char *builtin = o->resolver_db;
	if (builtin && strcmp(builtin, "none") == 0)
		builtin = "";
	if (!builtin) {
		struct stat st;
		builtin = iotdns_enrich_default_builtin();
		if (stat(builtin, &st) != 0) {
			if (!o->quiet)
				fprintf(stderr, "iotdns: warning: built-in resolver database %s not found; "
						"public resolvers will not be named\n", builtin);
			builtin = "";
		}
	}
	if ((rc = iotdns_enrich_open(&r->enrich, builtin, o->asn_db, o->geo_db, &err)) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		return IOTDNS_EXIT_DB;
	}
	o->cfg.enrich = r->enrich;
	if ((rc = iotdns_store_open(&r->store, o->db, &err)) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		return IOTDNS_EXIT_DB;
	}
	if ((rc = iotdns_engine_new(&r->engine, &o->cfg, &err)) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		return IOTDNS_EXIT_USAGE;
	}
	struct iotdns_run_info ri = {
		.sensor = o->sensor, .tool_version = IOTDNS_VERSION, .command_line = r->cmdline,
		.started_us = wall_us(),
	};
	if ((rc = iotdns_store_run_begin(r->store, &ri, &r->run_id, &err)) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		return IOTDNS_EXIT_DB;
	}
	return -1;
}

static int flush(struct run *r)
{
	struct iotdns_err err = { "" };
	iotdns_engine_sync(r->engine);
	if (iotdns_store_flush(r->store, r->run_id, iotdns_engine_devices(r->engine), iotdns_engine_stats(r->engine),
			       r->inputs, r->ninputs, r->enrich, &err) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		r->exit_code = IOTDNS_EXIT_DB;
		return -1;
	}
	return 0;
}

static void progress(struct run *r, struct iotdns_capture *cap, bool final)
{
	if (!r->progress)
		return;
	uint64_t t = now_ns();
	if (!final && t - r->prog_last_ns < 250000000u)
		return;
	r->prog_last_ns = t;
	const struct iotdns_stats *st = iotdns_engine_stats(r->engine);
	double secs = (double)(t - r->prog_start_ns) / 1e9;
	double pps = secs > 0 ? (double)(st->packets - r->prog_packets0) / secs : 0;
	uint64_t done = iotdns_capture_bytes(cap), total = iotdns_capture_size(cap);
	char eta[32] = "";
	if (total && done && done < total && secs > 0.5) {
		double left = secs * (double)(total - done) / (double)done;
		snprintf(eta, sizeof(eta), ", %.0f s left", left);
	}
	if (total)
		fprintf(stderr, "\r%s: %.1f of %.1f MB (%.0f%%), %.0f packets/s%s   ", iotdns_capture_name(cap),
			(double)done / 1e6, (double)total / 1e6, 100.0 * (double)done / (double)total, pps, eta);
	else
		fprintf(stderr, "\r%s: %.1f MB, %.0f packets/s   ", iotdns_capture_name(cap), (double)done / 1e6, pps);
	if (final)
		fputc('\n', stderr);
}

static struct iotdns_input_info *new_input(struct run *r, const char *path)
{
	struct iotdns_input_info *ni = realloc(r->inputs, (r->ninputs + 1) * sizeof(*ni));
	if (!ni)
		return NULL;
	r->inputs = ni;
	struct iotdns_input_info *in = &r->inputs[r->ninputs++];
	memset(in, 0, sizeof(*in));
	snprintf(in->path, sizeof(in->path), "%s", strcmp(path, "-") == 0 ? "(stdin)" : path);
	return in;
}

static void note_packet_time(struct iotdns_input_info *in, const struct pcap_pkthdr *h)
{
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	if (!in->first_us || ts < in->first_us)
		in->first_us = ts;
	if (ts > in->last_us)
		in->last_us = ts;
}

static void analyze_file(struct run *r, const char *path, bool last)
{
	struct iotdns_err err = { "" };
	struct iotdns_input_info *in = new_input(r, path);
	if (!in) {
		r->exit_code = IOTDNS_EXIT_INPUT;
		return;
	}
	struct stat st;
	bool regular = strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
	if (regular) {
		/* duplicate detection before reading: the same bytes analyzed before count
		 * once. Only a file whose size matches a stored input can be one, so only
		 * then is it hashed up front; otherwise the hash is taken while reading. */
		int64_t prev = 0;
		int same_size = iotdns_store_input_size_seen(r->store, (uint64_t)st.st_size, &err);
		if (same_size < 0) {
			fprintf(stderr, "iotdns: %s\n", err.msg);
			r->exit_code = IOTDNS_EXIT_DB;
			in->status = IOTDNS_INPUT_ERROR;
			return;
		}
		if (same_size && iotdns_file_sha256(path, in->sha256, &err) == IOTDNS_OK) {
			int seen = iotdns_store_input_seen(r->store, in->sha256, &prev, &err);
			if (seen < 0) {
				fprintf(stderr, "iotdns: %s\n", err.msg);
				r->exit_code = IOTDNS_EXIT_DB;
				in->status = IOTDNS_INPUT_ERROR;
				return;
			}
			if (seen > 0) {
				in->status = IOTDNS_INPUT_DUPLICATE;
				in->duplicate_of_run = prev;
				in->size = (uint64_t)st.st_size;
				if (!r->o->quiet)
					fprintf(stderr, "iotdns: %s: already analyzed into this database (run %" PRId64
							", same SHA-256); skipped, not counted twice\n", path, prev);
				return;
			}
		}
	}
	struct iotdns_capture *cap = NULL;
	int rc = iotdns_capture_open_file(&cap, path, &err);
	if (rc != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		snprintf(in->error, sizeof(in->error), "%s", err.msg);
		in->status = IOTDNS_INPUT_ERROR;
		r->exit_code = IOTDNS_EXIT_INPUT;
		return;
	}
	in->linktype = iotdns_capture_linktype(cap);
	iotdns_engine_begin_input(r->engine, in->path, in->linktype);
	r->prog_start_ns = r->prog_last_ns = now_ns();
	r->prog_packets0 = iotdns_engine_stats(r->engine)->packets;
	const struct pcap_pkthdr *h;
	const uint8_t *data;
	while ((rc = iotdns_capture_next(cap, &h, &data, &err)) == 1) {
		note_packet_time(in, h);
		iotdns_engine_packet(r->engine, h, data);
		if ((iotdns_capture_records(cap) & 4095) == 0)
			progress(r, cap, false);
	}
	progress(r, cap, true);
	in->packets = iotdns_capture_records(cap);
	if (rc < 0) {
		fprintf(stderr, "iotdns: %s; the %" PRIu64 " packets before it were analyzed\n", err.msg, in->packets);
		snprintf(in->error, sizeof(in->error), "%s", err.msg);
		in->status = IOTDNS_INPUT_TRUNCATED;
		r->exit_code = IOTDNS_EXIT_INPUT;
	}
	iotdns_capture_sha256(cap, in->sha256);
	in->size = iotdns_capture_bytes(cap);
	iotdns_capture_close(cap);
	/* store after every file but the last (finish() stores right after it),
	 * so a later failure loses nothing already read */
	if (!last)
		flush(r);
}

static void print_summary(struct run *r)
{
	const struct iotdns_stats *st = iotdns_engine_stats(r->engine);
	uint32_t ndev = iotdns_devtab_count(iotdns_engine_devices(r->engine));
	if (r->o->json) {
		printf("{\"type\":\"summary\",\"run\":%" PRId64 ",\"db\":", r->run_id);
		iotdns_json_str(stdout, r->o->db);
		printf(",\"inputs\":%u,\"packets\":%" PRIu64 ",\"dns_messages\":%" PRIu64 ",\"dns_queries\":%" PRIu64
		       ",\"dns_responses\":%" PRIu64 ",\"dhcp_messages\":%" PRIu64 ",\"malformed\":%" PRIu64
		       ",\"devices\":%u,\"findings\":%u,\"problems\":{",
		       r->ninputs, st->packets, st->dns_messages, st->dns_queries, st->dns_responses, st->dhcp_messages,
		       st->malformed, ndev, iotdns_engine_finding_count(r->engine));
		bool first = true;
		for (int i = 0; i < IOTDNS_P_COUNT; i++)
			if (st->problems[i]) {
				printf("%s\"%s\":%" PRIu64, first ? "" : ",", iotdns_problem_name(i), st->problems[i]);
				first = false;
			}
		printf("},\"evictions\":{");
		first = true;
		for (int i = 0; i < IOTDNS_V_COUNT; i++)
			if (st->evictions[i]) {
				printf("%s\"%s\":%" PRIu64, first ? "" : ",", iotdns_eviction_name(i), st->evictions[i]);
				first = false;
			}
		printf("}}\n");
		return;
	}
	if (r->o->quiet)
		return;
	printf("Run %" PRId64 " stored in %s\n", r->run_id, r->o->db);
	printf("  inputs %u, packets %" PRIu64 ", DNS messages %" PRIu64 " (%" PRIu64 " queries, %" PRIu64
	       " responses), DHCP messages %" PRIu64 "\n",
	       r->ninputs, st->packets, st->dns_messages, st->dns_queries, st->dns_responses, st->dhcp_messages);
	printf("  devices %u, findings %u\n", ndev, iotdns_engine_finding_count(r->engine));
	if (st->malformed || st->problems[IOTDNS_P_SNAPLEN_CUT] || st->problems[IOTDNS_P_DNS_NO_QUESTION]) {
		printf("  packet problems (counted, not fatal):");
		for (int i = 0; i < IOTDNS_P_COUNT; i++)
			if (st->problems[i])
				printf(" %s=%" PRIu64, iotdns_problem_name(i), st->problems[i]);
		printf("\n");
	}
	bool any = false;
	for (int i = 0; i < IOTDNS_V_COUNT; i++)
		any |= st->evictions[i] != 0;
	if (any) {
		printf("  limits reached (raise with --set limits.*):");
		for (int i = 0; i < IOTDNS_V_COUNT; i++)
			if (st->evictions[i])
				printf(" %s=%" PRIu64, iotdns_eviction_name(i), st->evictions[i]);
		printf("\n");
	}
}

/* Prints the findings (JSON lines with --json, else grouped by device) and
 * returns the highest severity seen, or -1. */
static int print_findings(struct run *r)
{
	int worst = -1;
	uint32_t n = iotdns_engine_finding_count(r->engine);
	const struct iotdns_device *last = NULL;
	char key[64];
	for (uint32_t i = 0; i < n; i++) {
		const struct iotdns_finding *f = iotdns_engine_finding(r->engine, i);
		if ((int)f->kind->severity > worst)
			worst = (int)f->kind->severity;
		if (r->o->json) {
			iotdns_finding_write_json(stdout, f, iotdns_engine_input_name_cb, r->engine);
			putchar('\n');
			continue;
		}
		if (r->o->quiet)
			continue;
		if (f->dev != last) {
			printf("\n%s%s%s%s\n", iotdns_dev_key(f->dev, key), f->dev->hostname[0] ? " (" : "",
			       f->dev->hostname, f->dev->hostname[0] ? ")" : "");
			last = f->dev;
		}
		printf("  %-6s %-26s %s%s%s\n", iotdns_severity_name(f->kind->severity), f->kind->code, f->kind->title,
		       f->summary[0] ? ": " : "", f->summary);
		for (unsigned k = 0; k < f->nev && k < 2; k++)
			printf("         evidence: %s packet %llu: %s\n",
			       iotdns_engine_input_name(r->engine, f->ev[k].input), (unsigned long long)f->ev[k].pktno,
			       f->ev[k].text);
	}
	return worst;
}

static int finish(struct run *r, const char *status)
{
	struct iotdns_err err = { "" };
	if (r->engine) {
		iotdns_engine_finish(r->engine);
		if (r->store && r->exit_code != IOTDNS_EXIT_DB && flush(r) == 0 &&
		    iotdns_store_results(r->store, r->run_id, r->o->sensor, r->engine, &err) != IOTDNS_OK) {
			fprintf(stderr, "iotdns: %s\n", err.msg);
			r->exit_code = IOTDNS_EXIT_DB;
		}
		if (r->store && r->exit_code != IOTDNS_EXIT_DB &&
		    iotdns_store_run_end(r->store, r->run_id, status, &err) != IOTDNS_OK) {
			fprintf(stderr, "iotdns: %s\n", err.msg);
			r->exit_code = IOTDNS_EXIT_DB;
		}
		int worst = print_findings(r);
		print_summary(r);
		if (r->o->fail_on >= 0 && worst >= r->o->fail_on && r->exit_code == IOTDNS_EXIT_OK)
			r->exit_code = IOTDNS_EXIT_FINDINGS;
	}
	iotdns_engine_free(r->engine);
	iotdns_store_close(r->store);
	iotdns_enrich_close(r->enrich);
	free(r->inputs);
	return r->exit_code;
}

int iotdns_cmd_analyze(int argc, char **argv)
{
	struct run_opts o;
	struct run r = { .o = &o };
	int rc = parse_opts(argc, argv, &o, false);
	if (rc >= 0)
		return rc;
	if (optind >= argc) {
		fprintf(stderr, "iotdns analyze: no input files\nTry 'iotdns analyze --help'.\n");
		return IOTDNS_EXIT_USAGE;
	}
	rc = setup(&r, argc, argv);
	if (rc >= 0) {
		r.exit_code = rc;
		return finish(&r, "error");
	}
	r.progress = !o.quiet && !o.json && isatty(STDERR_FILENO);
	for (int i = optind; i < argc && r.exit_code != IOTDNS_EXIT_DB; i++)
		analyze_file(&r, argv[i], i == argc - 1);
	return finish(&r, r.exit_code == IOTDNS_EXIT_OK ? "ok" : "error");
}

int iotdns_cmd_capture(int argc, char **argv)
{
	struct run_opts o;
	struct run r = { .o = &o };
	struct iotdns_err err = { "" };
	int rc = parse_opts(argc, argv, &o, true);
	if (rc >= 0)
		return rc;
	if (!o.iface || optind < argc) {
		fprintf(stderr, "iotdns capture: give exactly one interface with -i IFACE\n"
				"Try 'iotdns capture --help'.\n");
		return IOTDNS_EXIT_USAGE;
	}
	rc = setup(&r, argc, argv);
	if (rc >= 0) {
		r.exit_code = rc;
		return finish(&r, "error");
	}
	struct iotdns_capture *cap = NULL;
	if (iotdns_capture_open_live(&cap, o.iface, &err) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		r.exit_code = IOTDNS_EXIT_INPUT;
		return finish(&r, "error");
	}
	struct iotdns_input_info *in = new_input(&r, iotdns_capture_name(cap));
	if (in) {
		in->status = IOTDNS_INPUT_RUNNING;
		in->linktype = iotdns_capture_linktype(cap);
	}
	iotdns_engine_begin_input(r.engine, iotdns_capture_name(cap), iotdns_capture_linktype(cap));
	live_cap = cap;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!o.quiet)
		fprintf(stderr, "iotdns: capturing on %s into %s (Ctrl-C stores and stops)\n", o.iface, o.db);
	uint64_t last_flush = wall_us();
	const struct pcap_pkthdr *h;
	const uint8_t *data;
	while (!stop_requested) {
		rc = iotdns_capture_next(cap, &h, &data, &err);
		if (rc < 0) {
			fprintf(stderr, "iotdns: %s\n", err.msg);
			r.exit_code = IOTDNS_EXIT_INPUT;
			break;
		}
		uint64_t now = wall_us();
		if (rc == 1) {
			if (in)
				note_packet_time(in, h);
			iotdns_engine_packet(r.engine, h, data);
		} else {
			iotdns_engine_tick(r.engine, now);
		}
		if (now - last_flush >= LIVE_FLUSH_US) {
			if (in)
				in->packets = iotdns_capture_records(cap);
			if (flush(&r))
				break;
			last_flush = now;
		}
	}
	live_cap = NULL;
	if (in) {
		in->packets = iotdns_capture_records(cap);
		in->status = r.exit_code == IOTDNS_EXIT_OK ? IOTDNS_INPUT_OK : IOTDNS_INPUT_ERROR;
	}
	iotdns_capture_close(cap);
	return finish(&r, stop_requested ? "interrupted" : "error");
}

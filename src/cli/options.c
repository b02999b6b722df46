/* iotdns - settable keys (`--set KEY=VALUE`) and option value parsing. */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "iotdns/cli.h"
#include "iotdns/store.h"

const char iotdns_exit_codes_help[] =
	"Exit codes:\n"
	"  0  success\n"
	"  1  findings at or above --fail-on SEVERITY (only when --fail-on is given)\n"
	"  2  usage error (unknown option, bad value)\n"
	"  3  an input could not be read or is not a capture (missing, unreadable,\n"
	"     not pcap/pcapng, truncated, unsupported link type); everything read\n"
	"     before the problem is analyzed and stored\n"
	"  4  database error (cannot open, locked, not a database, disk full) or a\n"
	"     bad enrichment (MaxMind) database\n";

enum kind { K_U32, K_SECONDS };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	uint64_t min, max;
	const char *help;
};

#define L(f) offsetof(struct iotdns_limits, f)
static const struct key keys[] = {
	{ "limits.max-devices", K_U32, L(max_devices), 1, 10000000, "devices tracked (more are counted, not tracked)" },
	{ "limits.max-names-per-device", K_U32, L(max_names_per_device), 1, 1000000, "distinct names per device" },
	{ "limits.max-addresses-per-device", K_U32, L(max_addrs_per_device), 1, 4096, "IP addresses kept per device" },
	{ "limits.max-resolvers-per-device", K_U32, L(max_resolvers_per_device), 1, 4096, "resolvers per device" },
	{ "limits.max-sessions-per-device", K_U32, L(max_sessions_per_device), 2, 1000000, "boot sessions kept per device" },
	{ "limits.max-open-transactions", K_U32, L(max_open_txns), 4, 100000000, "queries waiting for an answer" },
	{ "limits.max-tcp-streams", K_U32, L(max_tcp_streams), 1, 10000000, "DNS-over-TCP streams reassembled at once" },
	{ "limits.tcp-stream-buffer", K_U32, L(tcp_stream_buffer), 512, 16777216, "bytes buffered per TCP stream" },
	{ "limits.max-fragment-queues", K_U32, L(max_frag_queues), 1, 1000000, "IP datagrams being reassembled at once" },
	{ "limits.max-fragment-datagram", K_U32, L(max_frag_datagram), 576, 65535, "largest reassembled datagram (bytes)" },
	{ "limits.fragment-timeout", K_SECONDS, L(frag_timeout_us), 1, 3600, "seconds before an incomplete datagram is dropped" },
	{ "limits.tcp-idle-timeout", K_SECONDS, L(tcp_idle_us), 1, 86400, "seconds before an idle TCP stream is closed" },
	{ "limits.transaction-timeout", K_SECONDS, L(txn_timeout_us), 1, 3600, "seconds before a query counts as unanswered" },
	{ "limits.retransmit-window", K_SECONDS, L(retransmit_window_us), 1, 3600, "seconds within which a repeated unanswered question is a retransmission" },
	{ "limits.session-gap", K_SECONDS, L(session_gap_us), 1, 86400, "seconds of silence that start a new boot session" },
};

int iotdns_cli_set(struct iotdns_engine_config *cfg, const char *kv, struct iotdns_err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return iotdns_err_set(err, -1, "--set %s: expected KEY=VALUE", kv);
	size_t klen = (size_t)(eq - kv);
	for (size_t i = 0; i < IOTDNS_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		if (strlen(k->name) != klen || strncmp(k->name, kv, klen) != 0)
			continue;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(eq + 1, &end, 10);
		if (errno || end == eq + 1 || *end || eq[1] == '-' || v < k->min || v > k->max)
			return iotdns_err_set(err, -1, "--set %s: value must be an integer from %" PRIu64 " to %" PRIu64,
					      kv, k->min, k->max);
		char *base = (char *)&cfg->limits + k->off;
		if (k->kind == K_U32) {
			uint32_t x = (uint32_t)v;
			memcpy(base, &x, sizeof(x));
		} else {
			uint64_t x = (uint64_t)v * 1000000u;
			memcpy(base, &x, sizeof(x));
		}
		return 0;
	}
	if (klen > 7 && strncmp(kv, "limits.", 7) == 0)
		return iotdns_err_set(err, -1, "--set %.*s: unknown key (see `iotdns analyze --help`)", (int)klen, kv);
	/* "<check-id>.<option>": validated by the engine against the checkers' options */
	if (!memchr(kv, '.', klen) || klen >= sizeof(cfg->sets[0].key))
		return iotdns_err_set(err, -1, "--set %.*s: unknown key (limits.* or <check-id>.<option>; "
				      "see `iotdns checks --options`)", (int)klen, kv);
	char *end;
	errno = 0;
	double v = strtod(eq + 1, &end);
	if (errno || end == eq + 1 || *end)
		return iotdns_err_set(err, -1, "--set %s: value must be a number", kv);
	if (cfg->nsets >= IOTDNS_ARRAY_LEN(cfg->sets))
		return iotdns_err_set(err, -1, "--set %s: too many settings", kv);
	memcpy(cfg->sets[cfg->nsets].key, kv, klen);
	cfg->sets[cfg->nsets].key[klen] = 0;
	cfg->sets[cfg->nsets++].value = v;
	return 0;
}

int iotdns_cli_config_file(struct iotdns_engine_config *cfg, const char *path, struct iotdns_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return iotdns_err_set(err, -1, "%s: cannot open: %s", path, strerror(errno));
	char line[512];
	unsigned lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *p = line, *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strlen(p);
		while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			p[--n] = 0;
		if (!*p)
			continue;
		/* "key = value" -> "key=value" */
		char kv[512];
		char *eq = strchr(p, '=');
		if (!eq) {
			rc = iotdns_err_set(err, -1, "%s:%u: expected KEY = VALUE", path, lineno);
			break;
		}
		char *ke = eq;
		while (ke > p && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		char *vs = eq + 1;
		while (*vs == ' ' || *vs == '\t')
			vs++;
		snprintf(kv, sizeof(kv), "%.*s=%s", (int)(ke - p), p, vs);
		struct iotdns_err e2 = { "" };
		if (iotdns_cli_set(cfg, kv, &e2)) {
			rc = iotdns_err_set(err, -1, "%s:%u: %s", path, lineno, e2.msg);
			break;
		}
	}
	fclose(f);
	return rc;
}

void iotdns_cli_print_keys(FILE *f)
{
	struct iotdns_limits def;
	iotdns_limits_default(&def);
	for (size_t i = 0; i < IOTDNS_ARRAY_LEN(keys); i++) {
		const struct key *k = &keys[i];
		const char *base = (const char *)&def + k->off;
		uint64_t v;
		if (k->kind == K_U32) {
			uint32_t x;
			memcpy(&x, base, sizeof(x));
			v = x;
		} else {
			memcpy(&v, base, sizeof(v));
			v /= 1000000u;
		}
		fprintf(f, "  %-36s %-9" PRIu64 " %s\n", k->name, v, k->help);
	}
}

int iotdns_cli_resolvers(struct iotdns_engine_config *cfg, const char *list, struct iotdns_err *err)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		struct iotdns_addr a;
		if (!iotdns_addr_parse(tok, &a))
			return iotdns_err_set(err, -1, "--resolver: \"%s\" is not an IPv4 or IPv6 address", tok);
		if (cfg->nresolvers >= IOTDNS_MAX_CONFIG_RESOLVERS)
			return iotdns_err_set(err, -1, "--resolver: at most %d addresses", IOTDNS_MAX_CONFIG_RESOLVERS);
		cfg->resolvers[cfg->nresolvers++] = a;
	}
	return 0;
}

int iotdns_cli_open_db(const char *db, struct iotdns_store **out)
{
	struct iotdns_err err = { "" };
	if (access(db, F_OK) != 0) {
		fprintf(stderr, "iotdns: %s: no such database (run `iotdns analyze --db %s FILE` first)\n", db, db);
		return IOTDNS_EXIT_DB;
	}
	if (iotdns_store_open(out, db, &err) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		return IOTDNS_EXIT_DB;
	}
	return IOTDNS_EXIT_OK;
}

/* Unit tests: src/enrich/enrich.c and the built-in resolver database
 * (rules/resolvers.txt compiled by rules/mkresolverdb.pl). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "iotdns-config.h"
#include "iotdns/enrich.h"

static char corpus[PATH_MAX];  /* .../shared/corpus/mmdb, "" when absent */
static char tmpdir[PATH_MAX];

static struct iotdns_addr A(const char *text)
{
	struct iotdns_addr a;
	memset(&a, 0, sizeof(a));
	if (!iotdns_addr_parse(text, &a))
		printf("# bad address in test: %s\n", text);
	return a;
}

static void skip(const char *why)
{
	++tap_n;
	printf("ok %d # SKIP %s\n", tap_n, why);
}

static void find_corpus(void)
{
	const char *root = getenv("IOTDNS_SOURCE_ROOT");
	struct stat sb;
	corpus[0] = '\0';
	snprintf(corpus, sizeof(corpus), "%s/../shared/corpus/mmdb", root ? root : IOTDNS_SOURCE_ROOT);
	if (stat(corpus, &sb) != 0 || !S_ISDIR(sb.st_mode))
		corpus[0] = '\0';
}

static void test_default_path(void)
{
	const char *env = getenv("IOTDNS_RESOLVER_DB");
	char *saved = env ? strdup(env) : NULL;

	setenv("IOTDNS_RESOLVER_DB", "/some/where/r.mmdb", 1);
	CHECK_EQ_STR(iotdns_enrich_default_builtin(), "/some/where/r.mmdb");
	setenv("IOTDNS_RESOLVER_DB", "", 1); /* empty = not set */
	unsetenv("IOTDNS_RESOLVER_DB");
	const char *d = iotdns_enrich_default_builtin();
	if (access(IOTDNS_BUILD_RESOLVER_DB, R_OK) == 0)
		CHECK_EQ_STR(d, IOTDNS_BUILD_RESOLVER_DB);
	else
		CHECK_EQ_STR(d, IOTDNS_INSTALLED_RESOLVER_DB);
	if (saved) {
		setenv("IOTDNS_RESOLVER_DB", saved, 1);
		free(saved);
	}
}

static void test_builtin(void)
{
	struct iotdns_enrich *e = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_addr_info info;
	struct iotdns_addr a;

	int rc = iotdns_enrich_open(&e, NULL, NULL, NULL, &err);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	if (rc != IOTDNS_OK) {
		printf("# %s\n", err.msg);
		return;
	}
	a = A("8.8.8.8");
	CHECK(iotdns_enrich_lookup(e, &a, &info));
	CHECK(info.public_resolver);
	CHECK_EQ_STR(info.resolver_operator, "Google Public DNS");
	CHECK_EQ_STR(info.dot_name, "dns.google");
	CHECK(strncmp(info.doh_url, "https://dns.google/", 19) == 0);
	CHECK_EQ_INT(info.asn, 0); /* no ASN database given */
	CHECK_EQ_STR(info.country, "");

	a = A("114.114.114.114");
	CHECK(iotdns_enrich_lookup(e, &a, &info));
	CHECK_EQ_STR(info.resolver_operator, "114DNS");
	CHECK_EQ_STR(info.doh_url, "");
	a = A("114.114.115.119");
	CHECK(iotdns_enrich_lookup(e, &a, &info) && strcmp(info.resolver_operator, "114DNS") == 0);

	a = A("2001:4860:4860::8888");
	CHECK(iotdns_enrich_lookup(e, &a, &info));
	CHECK_EQ_STR(info.resolver_operator, "Google Public DNS");
	/* IPv4-mapped IPv6 finds the IPv4 entry (IPv4 is aliased in the tree) */
	a = A("::ffff:1.1.1.1");
	CHECK(iotdns_enrich_lookup(e, &a, &info) && strcmp(info.resolver_operator, "Cloudflare") == 0);
	/* prefixes: any address of NextDNS's anycast /24 */
	a = A("45.90.28.77");
	CHECK(iotdns_enrich_lookup(e, &a, &info) && strcmp(info.resolver_operator, "NextDNS") == 0);
	a = A("45.90.29.1");
	CHECK(!iotdns_enrich_lookup(e, &a, &info));

	a = A("192.0.2.1");
	memset(&info, 0x55, sizeof(info));
	CHECK(!iotdns_enrich_lookup(e, &a, &info));
	CHECK(!info.public_resolver);
	CHECK_EQ_STR(info.resolver_operator, "");
	a = A("2001:db8::53");
	CHECK(!iotdns_enrich_lookup(e, &a, &info));
	memset(&a, 0, sizeof(a)); /* family 0 */
	CHECK(!iotdns_enrich_lookup(e, &a, &info));

	/* DoH: known template; answers stay right through the cache */
	a = A("1.1.1.1");
	CHECK(iotdns_enrich_is_doh(e, &a));
	CHECK(iotdns_enrich_is_doh(e, &a));
	a = A("114.114.114.114");
	CHECK(!iotdns_enrich_is_doh(e, &a));
	CHECK(!iotdns_enrich_is_doh(e, &a));
	a = A("192.0.2.1");
	CHECK(!iotdns_enrich_is_doh(e, &a));
	a = A("2606:4700:4700::1111");
	CHECK(iotdns_enrich_is_doh(e, &a));
	/* many distinct addresses through the 256-slot cache, then the
	 * originals again: collisions must never give a wrong answer */
	int wrong = 0;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 2000; i++) {
			struct iotdns_addr x = A("192.0.2.0");
			x.b[2] = (uint8_t)(i >> 8);
			x.b[3] = (uint8_t)i;
			if (iotdns_enrich_is_doh(e, &x)) /* 192.0.0.0/21: no resolvers */
				wrong++;
		}
		a = A("1.1.1.1");
		wrong += !iotdns_enrich_is_doh(e, &a);
		a = A("9.9.9.9");
		wrong += !iotdns_enrich_is_doh(e, &a);
		a = A("114.114.114.114");
		wrong += iotdns_enrich_is_doh(e, &a);
	}
	CHECK_EQ_INT(wrong, 0);
	CHECK(!iotdns_enrich_is_doh(NULL, &a));
	CHECK(!iotdns_enrich_lookup(NULL, &a, &info));
	iotdns_enrich_close(e);
	iotdns_enrich_close(NULL);
}

/* Every address listed in rules/resolvers.txt is found in the compiled
 * database with the operator of its section. */
static void test_builtin_matches_rules(void)
{
	const char *root = getenv("IOTDNS_SOURCE_ROOT");
	char path[PATH_MAX], line[1024], oper[128] = "";
	struct iotdns_enrich *e = NULL;
	struct iotdns_err err = { "" };
	int checked = 0, bad = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/rules/resolvers.txt", root ? root : IOTDNS_SOURCE_ROOT);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	if (iotdns_enrich_open(&e, NULL, NULL, NULL, &err) != IOTDNS_OK) {
		CHECK(!"open built-in database");
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		line[strcspn(line, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[') {
			char *end = strrchr(p, ']');
			if (end)
				*end = '\0';
			snprintf(oper, sizeof(oper), "%s", p + 1);
			continue;
		}
		if (strncmp(p, "addresses", 9) != 0)
			continue;
		p = strchr(p, '=');
		if (!p)
			continue;
		for (char *tok = strtok(p + 1, " \t,"); tok; tok = strtok(NULL, " \t,")) {
			struct iotdns_addr a;
			struct iotdns_addr_info info;
			char *slash = strchr(tok, '/');
			if (slash)
				*slash = '\0'; /* the network address of a prefix */
			if (!iotdns_addr_parse(tok, &a)) {
				printf("# unparsable address %s\n", tok);
				bad++;
				continue;
			}
			checked++;
			if (!iotdns_enrich_lookup(e, &a, &info) || !info.public_resolver ||
			    strcmp(info.resolver_operator, oper) != 0) {
				printf("# %s: expected [%s], got [%s]\n", tok, oper, info.resolver_operator);
				bad++;
			}
		}
	}
	fclose(f);
	iotdns_enrich_close(e);
	printf("# %d addresses of rules/resolvers.txt checked\n", checked);
	CHECK(checked > 150);
	CHECK_EQ_INT(bad, 0);
}

static void test_maxmind_dbs(void)
{
	struct iotdns_enrich *e = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_addr_info info;
	struct iotdns_addr a;
	char asn[PATH_MAX], country[PATH_MAX], city[PATH_MAX], ent[PATH_MAX];

	if (!corpus[0]) {
		skip("corpus absent");
		return;
	}
	snprintf(asn, sizeof(asn), "%s/GeoLite2-ASN-Test.mmdb", corpus);
	snprintf(country, sizeof(country), "%s/GeoLite2-Country-Test.mmdb", corpus);
	snprintf(city, sizeof(city), "%s/GeoLite2-City-Test.mmdb", corpus);
	snprintf(ent, sizeof(ent), "%s/GeoIP2-Enterprise-Test.mmdb", corpus);

	int rc = iotdns_enrich_open(&e, NULL, asn, country, &err);
	CHECK_EQ_INT(rc, IOTDNS_OK);
	if (rc != IOTDNS_OK) {
		printf("# %s\n", err.msg);
		return;
	}
	/* IPv4 address in an IPv6 database (MMDB's IPv4 mapping) */
	a = A("1.128.0.1");
	CHECK(iotdns_enrich_lookup(e, &a, &info));
	CHECK_EQ_INT(info.asn, 1221);
	CHECK_EQ_STR(info.as_org, "Telstra Pty Ltd");
	CHECK(!info.public_resolver);
	a = A("2600:6000::1");
	CHECK(iotdns_enrich_lookup(e, &a, &info));
	CHECK_EQ_INT(info.asn, 237);
	a = A("2.125.160.216");
	CHECK(iotdns_enrich_lookup(e, &a, &info));
	CHECK_EQ_STR(info.country, "GB");
	CHECK_EQ_INT(info.asn, 0);
	a = A("2a02:d300::1");
	CHECK(iotdns_enrich_lookup(e, &a, &info) && strcmp(info.country, "UA") == 0);
	/* the built-in database still answers next to the others */
	a = A("8.8.8.8");
	CHECK(iotdns_enrich_lookup(e, &a, &info) && info.public_resolver);
	a = A("192.0.2.1");
	CHECK(!iotdns_enrich_lookup(e, &a, &info));
	iotdns_enrich_close(e);

	/* City database; registered_country when country is absent */
	e = NULL;
	CHECK_EQ_INT(iotdns_enrich_open(&e, "", NULL, city, &err), IOTDNS_OK);
	a = A("216.160.83.56");
	CHECK(e && iotdns_enrich_lookup(e, &a, &info) && strcmp(info.country, "US") == 0);
	a = A("8.8.8.8"); /* no built-in database: "" means none */
	CHECK(e && !iotdns_enrich_lookup(e, &a, &info) && !info.public_resolver);
	CHECK(e && !iotdns_enrich_is_doh(e, &a));
	iotdns_enrich_close(e);
	e = NULL;
	CHECK_EQ_INT(iotdns_enrich_open(&e, "", NULL, ent, &err), IOTDNS_OK);
	a = A("5.83.124.1");
	CHECK(e && iotdns_enrich_lookup(e, &a, &info) && strcmp(info.country, "RO") == 0);
	iotdns_enrich_close(e);

	/* a database of the wrong kind as the built-in one */
	e = NULL;
	rc = iotdns_enrich_open(&e, asn, NULL, NULL, &err);
	CHECK_EQ_INT(rc, IOTDNS_EMMDB);
	CHECK(strstr(err.msg, "GeoLite2-ASN-Test.mmdb") && strstr(err.msg, "not an iotdns resolver"));
	CHECK(e == NULL);
}

static void test_bad_dbs(void)
{
	DIR *d;
	struct dirent *de;
	int n = 0, ok = 0;

	if (!corpus[0]) {
		skip("corpus absent");
		return;
	}
	d = opendir(corpus);
	if (!d) {
		skip("corpus unreadable");
		return;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		if (strncmp(de->d_name, "bad__", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", corpus, de->d_name);
		/* as ASN, country and built-in database */
		for (int pos = 0; pos < 3; pos++) {
			struct iotdns_enrich *e = (struct iotdns_enrich *)1;
			struct iotdns_err err = { "" };
			int rc = iotdns_enrich_open(&e, pos == 0 ? path : "", pos == 1 ? path : NULL,
						    pos == 2 ? path : NULL, &err);
			n++;
			if (rc == IOTDNS_EMMDB && e == NULL && strstr(err.msg, de->d_name))
				ok++;
			else
				printf("# %s (position %d): rc %d, \"%s\"\n", de->d_name, pos, rc, err.msg);
			if (rc == IOTDNS_OK)
				iotdns_enrich_close(e);
		}
	}
	closedir(d);
	printf("# %d corrupt database openings\n", n);
	CHECK(n >= 3 * 20);
	CHECK_EQ_INT(ok, n);
}

static void test_missing_db(void)
{
	struct iotdns_enrich *e = NULL;
	struct iotdns_err err = { "" };
	const char *missing = "/nonexistent/iotdns-test/GeoLite2-ASN.mmdb";

	CHECK_EQ_INT(iotdns_enrich_open(&e, "", missing, NULL, &err), IOTDNS_EMMDB);
	CHECK(strstr(err.msg, missing) != NULL);
	CHECK(strstr(err.msg, "No such file") != NULL);
	CHECK(e == NULL);
	CHECK_EQ_INT(iotdns_enrich_open(&e, missing, NULL, NULL, &err), IOTDNS_EMMDB);
	CHECK(strstr(err.msg, missing) != NULL);
	/* not a MaxMind database at all */
	char junk[PATH_MAX + 32];
	snprintf(junk, sizeof(junk), "%s/junk.mmdb", tmpdir);
	FILE *f = fopen(junk, "w");
	if (f) {
		fputs("this is not a database\n", f);
		fclose(f);
	}
	CHECK_EQ_INT(iotdns_enrich_open(&e, "", NULL, junk, &err), IOTDNS_EMMDB);
	CHECK(strstr(err.msg, junk) != NULL);
}

/* Runs rules/mkresolverdb.pl; returns its exit status, stderr in msg. */
static int run_mkdb(const char *in, const char *out, char *msg, size_t size)
{
	const char *root = getenv("IOTDNS_SOURCE_ROOT");
	char cmd[3 * PATH_MAX + 64];
	FILE *p;
	size_t len = 0;

	snprintf(cmd, sizeof(cmd), "perl '%s/rules/mkresolverdb.pl' '%s' '%s' 2>&1",
		 root ? root : IOTDNS_SOURCE_ROOT, in, out);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	msg[0] = '\0';
	while (len + 1 < size && fgets(msg + len, (int)(size - len), p))
		len = strlen(msg);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_mkresolverdb(void)
{
	char in[PATH_MAX + 32], out[PATH_MAX + 32], msg[2048];
	struct iotdns_enrich *e = NULL;
	struct iotdns_err err = { "" };
	struct iotdns_addr_info info;
	struct iotdns_addr a;

	if (system("perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null") != 0) {
		skip("MaxMind::DB::Writer::Tree not installed");
		return;
	}
	snprintf(in, sizeof(in), "%s/r.txt", tmpdir);
	snprintf(out, sizeof(out), "%s/r.mmdb", tmpdir);
	write_file(in, "# test\n[Example DNS]\naddresses = 192.0.2.53 2001:db8::53\n"
		       "addresses = 198.51.100.0/24\ndot = dns.example\n"
		       "doh = https://dns.example/dns-query\nsource = https://example.org/\n");
	CHECK_EQ_INT(run_mkdb(in, out, msg, sizeof(msg)), 0);
	CHECK_EQ_INT(iotdns_enrich_open(&e, out, NULL, NULL, &err), IOTDNS_OK);
	a = A("198.51.100.200");
	CHECK(e && iotdns_enrich_lookup(e, &a, &info) &&
	      strcmp(info.resolver_operator, "Example DNS") == 0 &&
	      strcmp(info.dot_name, "dns.example") == 0);
	a = A("2001:db8::53");
	CHECK(e && iotdns_enrich_is_doh(e, &a));
	a = A("192.0.2.54");
	CHECK(e && !iotdns_enrich_lookup(e, &a, &info));
	iotdns_enrich_close(e);

	/* malformed inputs: "file:line: message" and a non-zero exit */
	static const struct {
		const char *text;
		const char *where;   /* expected "file:LINE:" suffix */
		const char *what;
	} bad[] = {
		{ "[X]\naddresses = 192.0.2.300\nsource = s\n", ":2:", "invalid IP address" },
		{ "[X]\naddresses = 192.0.2.1\nfoo = bar\nsource = s\n", ":3:", "unknown key" },
		{ "addresses = 192.0.2.1\n", ":1:", "outside" },
		{ "[X]\naddresses = 192.0.2.1\nsource = s\n[Y]\naddresses = 192.0.2.1\nsource = s\n",
		  ":5:", "already listed" },
		{ "[X]\naddresses = 192.0.2.1/24\nsource = s\n", ":2:", "host bits" },
		{ "[X]\naddresses = 192.0.2.1\ndoh = http://x/\nsource = s\n", ":3:", "https" },
		{ "[X]\nsource = s\n", ":1:", "no addresses" },
		{ "[X]\naddresses = 192.0.2.1\nthis is not a line\n", ":3:", "key = value" },
	};
	for (size_t i = 0; i < IOTDNS_ARRAY_LEN(bad); i++) {
		char want[PATH_MAX + 64];
		unlink(out);
		write_file(in, bad[i].text);
		int st = run_mkdb(in, out, msg, sizeof(msg));
		snprintf(want, sizeof(want), "%s%s", in, bad[i].where);
		if (!(st != 0 && strstr(msg, want) && strstr(msg, bad[i].what)))
			printf("# case %zu: exit %d, \"%s\"\n", i, st, msg);
		CHECK(st != 0 && strstr(msg, want) && strstr(msg, bad[i].what));
		CHECK(access(out, F_OK) != 0); /* nothing half-written left behind */
	}
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/iotdns-test-enrich-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	find_corpus();
	test_default_path();
	test_builtin();
	test_builtin_matches_rules();
	test_maxmind_dbs();
	test_bad_dbs();
	test_missing_db();
	test_mkresolverdb();

	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return tap_done();
}

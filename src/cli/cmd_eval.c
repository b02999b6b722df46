/* iotdns - `iotdns eval --labels FILE [options] CAPTURE...`: classification
 * accuracy against ground truth (docs/fingerprinting.md, "Evaluation").
 *
 * The captures are analyzed like `iotdns analyze` does (one engine, device
 * state carried across files) with the fingerprint check only and no
 * database; then every labeled device's classification is compared with its
 * label. Classification only ever sees the traffic: file names and paths are
 * used for nothing but reading.
 *
 * Labels file (tab-separated, '#' comments):
 *   MAC  category  vendor  product  [note]
 * '|' separates acceptable alternatives, '-' leaves a field unscored.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/capture.h"
#include "iotdns/cli.h"
#include "iotdns/engine.h"
#include "iotdns/fingerprint.h"
#include "iotdns/json.h"

extern const struct iotdns_checker iotdns_chk_fingerprint;

/* ---- labels ------------------------------------------------------------------------- */

static void copy_field(char *dst, size_t size, const char *src, size_t n)
{
	while (n && isspace((unsigned char)*src))
		src++, n--;
	while (n && isspace((unsigned char)src[n - 1]))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int iotdns_fp_labels_load(const char *path, struct iotdns_fp_label **out, uint32_t *nout, struct iotdns_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return iotdns_err_set(err, errno == ENOENT ? IOTDNS_ENOENT : IOTDNS_EIO, "%s: %s", path, strerror(errno));
	struct iotdns_fp_label *v = NULL;
	uint32_t n = 0, cap = 0, lineno = 0;
	char line[2048];
	int rc = IOTDNS_OK;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			rc = iotdns_err_set(err, IOTDNS_EINVAL, "%s:%u: line too long", path, lineno);
			break;
		}
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		const char *fld[5] = { 0 };
		size_t flen[5] = { 0 };
		unsigned nf = 0;
		for (char *p = s; nf < 5;) {
			char *tab = strchr(p, '\t');
			char *end = tab ? tab : p + strlen(p);
			fld[nf] = p;
			flen[nf] = (size_t)(end - p);
			nf++;
			if (!tab)
				break;
			p = tab + 1;
		}
		if (nf < 4) {
			rc = iotdns_err_set(err, IOTDNS_EINVAL,
					    "%s:%u: expected MAC<TAB>category<TAB>vendor<TAB>product[<TAB>note]", path, lineno);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct iotdns_fp_label *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				rc = iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		struct iotdns_fp_label *l = &v[n];
		memset(l, 0, sizeof(*l));
		char mac[64];
		copy_field(mac, sizeof(mac), fld[0], flen[0]);
		if (!iotdns_mac_parse(mac, l->mac)) {
			rc = iotdns_err_set(err, IOTDNS_EINVAL, "%s:%u: '%s' is not a MAC address", path, lineno, mac);
			break;
		}
		copy_field(l->category, sizeof(l->category), fld[1], flen[1]);
		copy_field(l->vendor, sizeof(l->vendor), fld[2], flen[2]);
		copy_field(l->product, sizeof(l->product), fld[3], flen[3]);
		if (nf > 4)
			copy_field(l->note, sizeof(l->note), fld[4], flen[4]);
		if (!l->category[0] || !l->vendor[0] || !l->product[0]) {
			rc = iotdns_err_set(err, IOTDNS_EINVAL, "%s:%u: empty field (use '-' for not scored)", path, lineno);
			break;
		}
		for (uint32_t i = 0; i < n; i++)
			if (memcmp(v[i].mac, l->mac, 6) == 0) {
				rc = iotdns_err_set(err, IOTDNS_EINVAL, "%s:%u: MAC %s labeled twice (line %u)", path, lineno,
						    mac, v[i].lineno);
				break;
			}
		if (rc != IOTDNS_OK)
			break;
		l->lineno = lineno;
		n++;
	}
	fclose(f);
	if (rc != IOTDNS_OK) {
		free(v);
		return rc;
	}
	*out = v;
	*nout = n;
	return IOTDNS_OK;
}

/* lower-case words separated by single spaces */
static void norm(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;
	bool space = false;
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c)) {
			if (space && o && o + 1 < size)
				out[o++] = ' ';
			space = false;
			if (o + 1 < size)
				out[o++] = (char)tolower(c);
		} else {
			space = true;
		}
	}
	out[o] = '\0';
}

static bool alt_matches(const char *alt, size_t alen, const char *answer)
{
	char a[256], b[256];
	norm(alt, alen, a, sizeof(a));
	norm(answer, strlen(answer), b, sizeof(b));
	if (!a[0])
		return false;
	size_t la = strlen(a);
	return strcmp(a, b) == 0 || (strncmp(a, b, la) == 0 && b[la] == ' ');
}

int iotdns_fp_label_match(const char *label, const char *answer, const char *brands)
{
	if (!label || strcmp(label, "-") == 0)
		return -1;
	if (!answer || !*answer || strcmp(answer, "unknown") == 0)
		return 0;
	for (const char *p = label; *p;) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (alt_matches(p, n, answer))
			return 1;
		/* a brand sold on the answer's platform */
		for (const char *b = brands; b && *b;) {
			const char *comma = strstr(b, ", ");
			size_t bn = comma ? (size_t)(comma - b) : strlen(b);
			char brand[256];
			snprintf(brand, sizeof(brand), "%.*s", (int)bn, b);
			if (alt_matches(p, n, brand))
				return 1;
			if (!comma)
				break;
			b = comma + 2;
		}
		if (!bar)
			break;
		p = bar + 1;
	}
	return 0;
}

/* ---- the command ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: iotdns eval --labels FILE [options] CAPTURE...\n"
		"Analyze the captures (fingerprint check only, no database) and compare every\n"
		"labeled device's classification with its label: accuracy by category, vendor\n"
		"and product, and the confusions.\n\n"
		"Labels file: MAC<TAB>category<TAB>vendor<TAB>product[<TAB>note] per line, '#'\n"
		"comments, '|' between acceptable alternatives, '-' for a field not scored.\n\n"
		"Options:\n"
		"  --labels FILE          the labels (required; may be given several times)\n"
		"  --rules DIR            fingerprint rules (default: the shipped rules)\n"
		"  --resolver ADDR[,...]  the network's resolvers, as for `iotdns analyze`\n"
		"  --set KEY=VALUE        a limit or check option (fingerprint.confidence-threshold=0.7)\n"
		"  --config FILE          KEY = VALUE lines, as --set\n"
		"  --json                 one JSON object per labeled device, then a summary\n"
		"  --require-accuracy X   exit 1 unless category and vendor accuracy over labeled\n"
		"                         devices that sent DNS are both at least X (0..1)\n"
		"  --no-confident-mislabel  exit 1 if a wrong category or vendor has a\n"
		"                         confidence at or above the threshold\n"
		"  -q, --quiet            print only the summary\n"
		"  -h, --help             this help\n\n%s",
		iotdns_exit_codes_help);
}

/* The value of a top-level string member of our evidence JSON (simple: our
 * own output, keys are unique and come before nested objects' keys). */
static bool json_member(const char *json, const char *key, char *out, size_t size)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = json ? strstr(json, pat) : NULL;
	if (!p)
		return false;
	p += strlen(pat);
	size_t n = 0;
	for (; *p && *p != '"' && n + 1 < size; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
	return true;
}

struct tally {
	uint32_t scored, ok;
};

static void pct(FILE *f, const char *what, const struct tally *t)
{
	fprintf(f, "  %-9s %3u / %-3u %s%5.1f%%\n", what, t->ok, t->scored, "", t->scored ? 100.0 * t->ok / t->scored : 0);
}

int iotdns_cmd_eval(int argc, char **argv)
{
	enum { O_LABELS = 256, O_RULES, O_RESOLVER, O_SET, O_CONFIG, O_JSON, O_REQ, O_NOMIS };
	static const struct option opts[] = {
		{ "labels", required_argument, NULL, O_LABELS },
		{ "rules", required_argument, NULL, O_RULES },
		{ "resolver", required_argument, NULL, O_RESOLVER },
		{ "set", required_argument, NULL, O_SET },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "json", no_argument, NULL, O_JSON },
		{ "require-accuracy", required_argument, NULL, O_REQ },
		{ "no-confident-mislabel", no_argument, NULL, O_NOMIS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct iotdns_checker *const only[] = { &iotdns_chk_fingerprint, NULL };
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	const char *labels_paths[16];
	unsigned nlabel_files = 0;
	bool json = false, quiet = false, nomis = false;
	double require = -1;
	int c;

	iotdns_engine_config_default(&cfg);
	cfg.checkers = only;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
		switch (c) {
		case O_LABELS:
			if (nlabel_files == IOTDNS_ARRAY_LEN(labels_paths)) {
				fprintf(stderr, "iotdns eval: at most %zu --labels files\n", IOTDNS_ARRAY_LEN(labels_paths));
				return IOTDNS_EXIT_USAGE;
			}
			labels_paths[nlabel_files++] = optarg;
			break;
		case O_RULES: cfg.rules_dir = optarg; break;
		case O_RESOLVER:
			if (iotdns_cli_resolvers(&cfg, optarg, &err)) {
				fprintf(stderr, "iotdns: %s\n", err.msg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		case O_SET:
			if (iotdns_cli_set(&cfg, optarg, &err)) {
				fprintf(stderr, "iotdns: %s\n", err.msg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		case O_CONFIG:
			if (iotdns_cli_config_file(&cfg, optarg, &err)) {
				fprintf(stderr, "iotdns: %s\n", err.msg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		case O_JSON: json = true; break;
		case O_REQ: {
			char *end;
			require = strtod(optarg, &end);
			if (*end || end == optarg || require < 0 || require > 1) {
				fprintf(stderr, "iotdns eval: --require-accuracy %s: expected a number from 0 to 1\n", optarg);
				return IOTDNS_EXIT_USAGE;
			}
			break;
		}
		case O_NOMIS: nomis = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return IOTDNS_EXIT_OK;
		default:
			fprintf(stderr, "iotdns eval: unknown option or missing value: %s\nTry 'iotdns eval --help'.\n",
				argv[optind - 1]);
			return IOTDNS_EXIT_USAGE;
		}
	}
	if (!nlabel_files || optind >= argc) {
		fprintf(stderr, "iotdns eval: %s\nTry 'iotdns eval --help'.\n",
			!nlabel_files ? "--labels FILE is required" : "no CAPTURE given");
		return IOTDNS_EXIT_USAGE;
	}
	struct iotdns_fp_label *labels = NULL;
	uint32_t nlabels = 0;
	for (unsigned f = 0; f < nlabel_files; f++) {
		struct iotdns_fp_label *more = NULL;
		uint32_t nmore = 0;
		if (iotdns_fp_labels_load(labels_paths[f], &more, &nmore, &err) != IOTDNS_OK) {
			fprintf(stderr, "iotdns: %s\n", err.msg);
			free(labels);
			return IOTDNS_EXIT_USAGE;
		}
		struct iotdns_fp_label *all = realloc(labels, (nlabels + nmore + 1) * sizeof(*all));
		if (!all) {
			free(more);
			free(labels);
			fprintf(stderr, "iotdns: out of memory\n");
			return IOTDNS_EXIT_USAGE;
		}
		labels = all;
		for (uint32_t i = 0; i < nmore; i++) {
			for (uint32_t j = 0; j < nlabels; j++)
				if (memcmp(labels[j].mac, more[i].mac, 6) == 0) {
					char m[IOTDNS_MAC_TEXT];
					fprintf(stderr, "iotdns: %s:%u: MAC %s is labeled in an earlier file too\n", labels_paths[f],
						more[i].lineno, iotdns_mac_str(more[i].mac, m));
					free(more);
					free(labels);
					return IOTDNS_EXIT_USAGE;
				}
			labels[nlabels++] = more[i];
		}
		free(more);
	}
	struct iotdns_engine *e = NULL;
	if (iotdns_engine_new(&e, &cfg, &err) != IOTDNS_OK) {
		fprintf(stderr, "iotdns: %s\n", err.msg);
		free(labels);
		return IOTDNS_EXIT_USAGE;
	}
	int exit_code = IOTDNS_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct iotdns_capture *cap = NULL;
		if (iotdns_capture_open_file(&cap, argv[i], &err) != IOTDNS_OK) {
			fprintf(stderr, "iotdns: %s\n", err.msg);
			exit_code = IOTDNS_EXIT_INPUT;
			continue;
		}
		iotdns_engine_begin_input(e, argv[i], iotdns_capture_linktype(cap));
		const struct pcap_pkthdr *h;
		const uint8_t *data;
		int rc;
		while ((rc = iotdns_capture_next(cap, &h, &data, &err)) == 1)
			iotdns_engine_packet(e, h, data);
		if (rc < 0) {
			fprintf(stderr, "iotdns: %s\n", err.msg);
			exit_code = IOTDNS_EXIT_INPUT;
		}
		iotdns_capture_close(cap);
	}
	iotdns_engine_finish(e);

	double threshold = 0.7;
	for (unsigned i = 0; i < cfg.nsets; i++)
		if (strcmp(cfg.sets[i].key, "fingerprint.confidence-threshold") == 0)
			threshold = cfg.sets[i].value;

	struct iotdns_devtab *dt = iotdns_engine_devices(e);
	uint32_t ndev = iotdns_devtab_count(dt);
	struct tally cat = { 0 }, ven = { 0 }, both = { 0 }, prod = { 0 };
	uint32_t mislabeled = 0, nodns = 0, missing = 0, unlabeled = 0;
	FILE *o = stdout;
	if (!json && !quiet)
		fprintf(o, "%-17s  %-40s  %-52s  %s\n", "DEVICE", "LABEL category / vendor / product",
			"VERDICT category / vendor / product (confidence)", "RESULT");
	char conf_lines[64][320];
	unsigned nconf = 0;
	for (uint32_t li = 0; li < nlabels; li++) {
		const struct iotdns_fp_label *l = &labels[li];
		struct iotdns_device *dev = NULL;
		for (uint32_t d = 0; d < ndev && !dev; d++) {
			struct iotdns_device *x = iotdns_devtab_at(dt, d);
			if (!x->keyed_by_ip && memcmp(x->mac, l->mac, 6) == 0)
				dev = x;
		}
		char mac[IOTDNS_MAC_TEXT];
		iotdns_mac_str(l->mac, mac);
		if (!dev) {
			missing++;
			if (json) {
				printf("{\"type\":\"label\",\"mac\":\"%s\",\"seen\":false}\n", mac);
			} else if (!quiet) {
				fprintf(o, "%-17s  %-40.40s  %-52s  %s\n", mac, l->category, "(not in the captures)", "-");
			}
			continue;
		}
		char brands[512] = "", rule[128] = "", verdict[32] = "";
		/* the deciding rule's id and brands come first in the document; an
		 * unknown verdict has none (later "rule" members are candidates) */
		json_member(dev->fp_evidence, "verdict", verdict, sizeof(verdict));
		if (strcmp(verdict, "unknown") != 0) {
			json_member(dev->fp_evidence, "brands", brands, sizeof(brands));
			json_member(dev->fp_evidence, "rule", rule, sizeof(rule));
		}
		int mc = iotdns_fp_label_match(l->category, dev->category, NULL);
		int mv = iotdns_fp_label_match(l->vendor, dev->vendor, brands);
		int mp = iotdns_fp_label_match(l->product, dev->product, NULL);
		bool dns = dev->queries > 0;
		bool confident = dev->confidence >= threshold;
		bool wrong_c = mc == 0 && dev->category && strcmp(dev->category, "unknown") != 0;
		bool wrong_v = mv == 0 && dev->vendor;
		bool mis = confident && (wrong_c || wrong_v);
		if (dns) {
			if (mc >= 0)
				cat.scored++, cat.ok += mc == 1;
			if (mv >= 0)
				ven.scored++, ven.ok += mv == 1;
			if (mc >= 0 && mv >= 0)
				both.scored++, both.ok += mc == 1 && mv == 1;
			if (mp >= 0)
				prod.scored++, prod.ok += mp == 1;
			mislabeled += mis;
		} else {
			nodns++;
		}
		const char *result = mis ? "MISLABELED (confident)"
				     : (mc != 0 && mv != 0) ? (mp == 0 ? "ok (product differs)" : "ok")
				     : (mc == 0 && mv == 0) ? "wrong category and vendor"
				     : mc == 0 ? "wrong category" : "wrong vendor";
		if ((mc == 0 || mv == 0) && nconf < 64)
			snprintf(conf_lines[nconf++], sizeof(conf_lines[0]),
				 "%s%s: label %s / %s, got %s / %s (%.2f, rule %s)%s", mac, dns ? "" : " (no DNS)",
				 l->category, l->vendor, dev->category ? dev->category : "unknown",
				 dev->vendor ? dev->vendor : "unknown", dev->confidence, rule[0] ? rule : "-",
				 mis ? " CONFIDENT" : "");
		if (json) {
			printf("{\"type\":\"label\",\"mac\":\"%s\",\"seen\":true,\"dns\":%s,\"label\":{\"category\":", mac,
			       dns ? "true" : "false");
			iotdns_json_str(o, l->category);
			fputs(",\"vendor\":", o);
			iotdns_json_str(o, l->vendor);
			fputs(",\"product\":", o);
			iotdns_json_str(o, l->product);
			fputs("},\"verdict\":{\"category\":", o);
			iotdns_json_str(o, dev->category);
			fputs(",\"vendor\":", o);
			iotdns_json_str(o, dev->vendor);
			fputs(",\"product\":", o);
			iotdns_json_str(o, dev->product);
			fprintf(o, ",\"confidence\":%.3f,\"rule\":", dev->confidence);
			iotdns_json_str(o, rule[0] ? rule : NULL);
			fprintf(o, "},\"category_ok\":%d,\"vendor_ok\":%d,\"product_ok\":%d,\"confident_mislabel\":%s}\n", mc,
			       mv, mp, mis ? "true" : "false");
		} else if (!quiet) {
			char lab[400], ver[400];
			snprintf(lab, sizeof(lab), "%s / %s / %s", l->category, l->vendor, l->product);
			snprintf(ver, sizeof(ver), "%s / %s / %s (%.2f)%s", dev->category ? dev->category : "unknown",
				 dev->vendor ? dev->vendor : "-", dev->product ? dev->product : "-", dev->confidence,
				 dns ? "" : " [no DNS]");
			fprintf(o, "%-17s  %-40.40s  %-52.52s  %s\n", mac, lab, ver, result);
		}
	}
	for (uint32_t d = 0; d < ndev; d++) {
		struct iotdns_device *x = iotdns_devtab_at(dt, d);
		bool labeled = false;
		for (uint32_t li = 0; li < nlabels && !labeled; li++)
			labeled = !x->keyed_by_ip && memcmp(x->mac, labels[li].mac, 6) == 0;
		unlabeled += !labeled;
	}
	bool fail = false;
	if (require >= 0 && (cat.scored == 0 || (double)cat.ok < require * cat.scored - 1e-9 ||
			     (double)ven.ok < require * ven.scored - 1e-9))
		fail = true;
	if (nomis && mislabeled)
		fail = true;
	if (json) {
		printf("{\"type\":\"summary\",\"labels\":%u,\"not_seen\":%u,\"without_dns\":%u,\"unlabeled_devices\":%u,"
		       "\"category\":{\"ok\":%u,\"scored\":%u},\"vendor\":{\"ok\":%u,\"scored\":%u},"
		       "\"both\":{\"ok\":%u,\"scored\":%u},\"product\":{\"ok\":%u,\"scored\":%u},"
		       "\"confident_mislabels\":%u,\"threshold\":%.2f,\"pass\":%s}\n",
		       nlabels, missing, nodns, unlabeled, cat.ok, cat.scored, ven.ok, ven.scored, both.ok, both.scored,
		       prod.ok, prod.scored, mislabeled, threshold, fail ? "false" : "true");
	} else {
		fprintf(o, "\nAccuracy over %u labeled devices that sent DNS (%u labels; %u without DNS, %u not in the "
			   "captures; %u unlabeled devices):\n",
			both.scored > cat.scored ? both.scored : cat.scored, nlabels, nodns, missing, unlabeled);
		pct(o, "category", &cat);
		pct(o, "vendor", &ven);
		pct(o, "both", &both);
		pct(o, "product", &prod);
		fprintf(o, "Confident mislabels (wrong category or vendor at confidence >= %.2f): %u\n", threshold,
			mislabeled);
		if (nconf) {
			fprintf(o, "Confusions:\n");
			for (unsigned i = 0; i < nconf; i++)
				fprintf(o, "  %s\n", conf_lines[i]);
		}
		if (require >= 0 || nomis)
			fprintf(o, "Targets (%s%s%s): %s\n", require >= 0 ? "accuracy" : "", require >= 0 && nomis ? ", " : "",
				nomis ? "no confident mislabel" : "", fail ? "MISSED" : "met");
	}
	iotdns_engine_free(e);
	free(labels);
	if (exit_code != IOTDNS_EXIT_OK)
		return exit_code;
	return fail ? IOTDNS_EXIT_FINDINGS : IOTDNS_EXIT_OK;
}

/* `iotdns eval`: the labels file (format and its errors), how a label is
 * compared with an answer (alternatives, '-', first words, platform
 * brands), and the command on the fingerprint-ecosystems golden capture:
 * the targets met with true labels, a confident mislabel caught with a
 * wrong one. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "iotdns-config.h"
#include "iotdns/cli.h"
#include "iotdns/fingerprint.h"

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void t_labels(void)
{
	struct iotdns_fp_label *l = NULL;
	uint32_t n = 0;
	struct iotdns_err err = { "" };
	const char *p = write_tmp("ok.tsv", "# comment\n\n"
					    "cc:f7:35:49:f4:05\tvoice-assistant|speaker\tAmazon\tEcho\techodot4\n"
					    "00:17:88:24:76:ff\thub\tPhilips Hue|Signify\t-\n");
	CHECK_EQ_INT(iotdns_fp_labels_load(p, &l, &n, &err), IOTDNS_OK);
	CHECK_EQ_INT(n, 2);
	if (n == 2) {
		CHECK_EQ_INT(l[0].mac[0], 0xcc);
		CHECK_EQ_STR(l[0].category, "voice-assistant|speaker");
		CHECK_EQ_STR(l[0].vendor, "Amazon");
		CHECK_EQ_STR(l[0].product, "Echo");
		CHECK_EQ_STR(l[0].note, "echodot4");
		CHECK_EQ_INT(l[0].lineno, 3);
		CHECK_EQ_STR(l[1].product, "-");
		CHECK_EQ_STR(l[1].note, "");
	}
	free(l);
	char want[512];
	p = write_tmp("bad1.tsv", "cc:f7:35:49:f4:05\thub\n");
	CHECK_EQ_INT(iotdns_fp_labels_load(p, &l, &n, &err), IOTDNS_EINVAL);
	snprintf(want, sizeof(want), "%s:1: expected MAC<TAB>category<TAB>vendor<TAB>product[<TAB>note]", p);
	CHECK_EQ_STR(err.msg, want);
	p = write_tmp("bad2.tsv", "# x\nnot-a-mac\thub\tV\tP\n");
	CHECK_EQ_INT(iotdns_fp_labels_load(p, &l, &n, &err), IOTDNS_EINVAL);
	snprintf(want, sizeof(want), "%s:2: 'not-a-mac' is not a MAC address", p);
	CHECK_EQ_STR(err.msg, want);
	p = write_tmp("bad3.tsv", "00:17:88:24:76:ff\thub\tV\tP\n00:17:88:24:76:FF\tplug\tV\tP\n");
	CHECK_EQ_INT(iotdns_fp_labels_load(p, &l, &n, &err), IOTDNS_EINVAL);
	snprintf(want, sizeof(want), "%s:2: MAC 00:17:88:24:76:FF labeled twice (line 1)", p);
	CHECK_EQ_STR(err.msg, want);
	p = write_tmp("bad4.tsv", "00:17:88:24:76:ff\t\tV\tP\n");
	CHECK_EQ_INT(iotdns_fp_labels_load(p, &l, &n, &err), IOTDNS_EINVAL);
	CHECK(strstr(err.msg, ":1: empty field (use '-' for not scored)") != NULL);
	CHECK_EQ_INT(iotdns_fp_labels_load("/nonexistent/labels.tsv", &l, &n, &err), IOTDNS_ENOENT);
}

static void t_match(void)
{
	CHECK_EQ_INT(iotdns_fp_label_match("camera", "camera", NULL), 1);
	CHECK_EQ_INT(iotdns_fp_label_match("baby-monitor|camera", "camera", NULL), 1);
	CHECK_EQ_INT(iotdns_fp_label_match("baby-monitor", "camera", NULL), 0);
	CHECK_EQ_INT(iotdns_fp_label_match("camera", "unknown", NULL), 0);
	CHECK_EQ_INT(iotdns_fp_label_match("camera", NULL, NULL), 0);
	CHECK_EQ_INT(iotdns_fp_label_match("-", "camera", NULL), -1);
	/* case and punctuation; a label may name the first words of the answer */
	CHECK_EQ_INT(iotdns_fp_label_match("lg electronics", "LG Electronics (Mobile Communications)", NULL), 1);
	CHECK_EQ_INT(iotdns_fp_label_match("LG", "LG Electronics (Mobile Communications)", NULL), 1);
	CHECK_EQ_INT(iotdns_fp_label_match("Echo", "Echo (Alexa smart speaker)", NULL), 1);
	CHECK_EQ_INT(iotdns_fp_label_match("Ech", "Echo (Alexa smart speaker)", NULL), 0); /* whole words only */
	CHECK_EQ_INT(iotdns_fp_label_match("Philips", "Philips Hue", NULL), 1);
	CHECK_EQ_INT(iotdns_fp_label_match("Philips Hue", "Philips", NULL), 0);
	/* brands sold on the answer's platform */
	CHECK_EQ_INT(iotdns_fp_label_match("Boifun", "Meari (CloudEdge)", "Boifun, CloudEdge"), 1);
	CHECK_EQ_INT(iotdns_fp_label_match("Gosund", "Tuya", "Smart Life, Gosund, Teckin"), 1);
	CHECK_EQ_INT(iotdns_fp_label_match("Acme", "Tuya", "Smart Life, Gosund, Teckin"), 0);
}

/* Runs `iotdns eval ARGS...` with stdout into a file; returns the exit code
 * and the output (static). */
static int run_eval(const char **args, int nargs, char *out, size_t size)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)"eval";
	for (int i = 0; i < nargs && argc < 31; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	char path[256];
	snprintf(path, sizeof(path), "%s/eval.out", tmpdir);
	fflush(stdout);
	int saved = dup(1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	int rc = iotdns_cmd_eval(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(out, 1, size - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	return rc;
}

static void t_command(void)
{
	char capture[4096], labels[4096];
	static char out[65536];
	snprintf(capture, sizeof(capture), "%s/tests/golden/checks/fingerprint-ecosystems/capture.pcap", IOTDNS_SOURCE_ROOT);
	snprintf(labels, sizeof(labels), "%s/tests/golden/checks/fingerprint-ecosystems/labels.tsv", IOTDNS_SOURCE_ROOT);
	const char *ok[] = { "--labels", labels, "--require-accuracy", "1", "--no-confident-mislabel", capture };
	int rc = run_eval(ok, 6, out, sizeof(out));
	CHECK_EQ_INT(rc, IOTDNS_EXIT_OK);
	CHECK(strstr(out, "category    6 / 6   100.0%") != NULL);
	CHECK(strstr(out, "vendor      6 / 6   100.0%") != NULL);
	CHECK(strstr(out, "Confident mislabels (wrong category or vendor at confidence >= 0.70): 0") != NULL);
	CHECK(strstr(out, "Targets (accuracy, no confident mislabel): met") != NULL);
	if (rc != IOTDNS_EXIT_OK)
		printf("# %s\n", out);

	/* a wrong label: the Ring doorbell (confidence 0.98) labeled as an Arlo
	 * camera makes its classification a confident mislabel */
	char wrong[2048];
	snprintf(wrong, sizeof(wrong),
		 "54:e0:19:00:00:04\tcamera\tArlo\t-\n"
		 "50:14:79:ff:00:06\trobot-vacuum\tiRobot\tRoomba\n");
	const char *wl = write_tmp("wrong.tsv", wrong);
	char wlp[256];
	snprintf(wlp, sizeof(wlp), "%s", wl);
	const char *bad[] = { "--json", "--labels", wlp, "--no-confident-mislabel", capture };
	rc = run_eval(bad, 5, out, sizeof(out));
	CHECK_EQ_INT(rc, IOTDNS_EXIT_FINDINGS);
	CHECK(strstr(out, "\"mac\":\"54:e0:19:00:00:04\",\"seen\":true,\"dns\":true") != NULL);
	CHECK(strstr(out, "\"category_ok\":0,\"vendor_ok\":0,\"product_ok\":-1,\"confident_mislabel\":true") != NULL);
	CHECK(strstr(out, "\"confident_mislabels\":1") != NULL);
	CHECK(strstr(out, "\"category\":{\"ok\":1,\"scored\":2}") != NULL);
	CHECK(strstr(out, "\"unlabeled_devices\":4") != NULL);
	CHECK(strstr(out, "\"pass\":false") != NULL);
	/* the threshold is the check's option: above the doorbell's 0.98, the
	 * wrong answer is no longer a confident one */
	const char *high[] = { "--json", "--labels", wlp, "--no-confident-mislabel", "--set",
			       "fingerprint.confidence-threshold=0.99", capture };
	rc = run_eval(high, 7, out, sizeof(out));
	CHECK_EQ_INT(rc, IOTDNS_EXIT_OK);
	CHECK(strstr(out, "\"confident_mislabels\":0") != NULL);

	/* usage errors */
	const char *nolab[] = { capture };
	CHECK_EQ_INT(run_eval(nolab, 1, out, sizeof(out)), IOTDNS_EXIT_USAGE);
	const char *badrules[] = { "--labels", labels, "--rules", "/nonexistent-rules-dir", capture };
	CHECK_EQ_INT(run_eval(badrules, 5, out, sizeof(out)), IOTDNS_EXIT_USAGE);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/iotdns-eval-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	t_labels();
	t_match();
	t_command();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return tap_done();
}

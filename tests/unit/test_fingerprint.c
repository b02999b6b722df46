/* Fingerprinting: the OUI registry (MA-L/MA-M, locally administered MACs,
 * the oui.txt fallback), the classifier (product rules before vendor-level
 * ones, unknown on weak or contradictory evidence, shared infrastructure
 * ignored, DHCP/mDNS/OUI evidence, the replay that finds when a device
 * became identifiable), the evidence JSON, the fingerprint check through
 * the engine (classification on the device, PRIVACY.FINGERPRINTABLE with
 * the queries and seconds to identify), and the speed of classification. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "iotdns-config.h"
#include "iotdns/engine.h"
#include "iotdns/fingerprint.h"
#include "iotdns/finding.h"
#include "pktbuild.h"

extern const struct iotdns_checker iotdns_chk_fingerprint;

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	remove(path);
}

/* ---- OUI ------------------------------------------------------------------------ */

static void t_oui(void)
{
	struct iotdns_oui *o = NULL;
	struct iotdns_err err = { "" };
	write_file("oui.csv", "Registry,Assignment,Organization Name,Organization Address\n"
			      "MA-L,001788,Philips Lighting BV,\"High Tech Campus 48, Eindhoven\"\n"
			      "MA-L,AC233F,\"Example, Inc.\",Somewhere\n"
			      "MA-L,70B3D5,IEEE Registration Authority,\n"
			      "MA-L,zzzzzz,Broken,\n");
	write_file("mam.csv", "Registry,Assignment,Organization Name,Organization Address\n"
			      "MA-M,70B3D51,Block Owner M,\n");
	write_file("oui36.csv", "Registry,Assignment,Organization Name,Organization Address\n"
				"MA-S,70B3D5F2F,Block Owner S,\"Polbina st., 3/1\"\n");
	CHECK_EQ_INT(iotdns_oui_load(&o, tmpdir, &err), IOTDNS_OK);
	CHECK_EQ_INT(iotdns_oui_count(o), 5);
	const uint8_t hue[6] = { 0x00, 0x17, 0x88, 0x24, 0x76, 0xff };
	const uint8_t ex[6] = { 0xac, 0x23, 0x3f, 1, 2, 3 };
	const uint8_t mam[6] = { 0x70, 0xb3, 0xd5, 0x1a, 0, 0 };
	const uint8_t mas[6] = { 0x70, 0xb3, 0xd5, 0xf2, 0xf0, 0 };
	const uint8_t mal[6] = { 0x70, 0xb3, 0xd5, 0x90, 0, 0 };
	const uint8_t local[6] = { 0x02, 0x17, 0x88, 0x24, 0x76, 0xff }; /* 0x02 bit set */
	const uint8_t rnd[6] = { 0xda, 0xa1, 0x19, 1, 2, 3 };           /* randomized (0xda: bit 0x02) */
	const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 0xfb };
	CHECK_EQ_STR(iotdns_oui_lookup(o, hue), "Philips Lighting BV");
	CHECK_EQ_STR(iotdns_oui_lookup(o, ex), "Example, Inc.");
	CHECK_EQ_STR(iotdns_oui_lookup(o, mam), "Block Owner M");   /* MA-M before MA-L */
	CHECK_EQ_STR(iotdns_oui_lookup(o, mas), "Block Owner S");   /* MA-S before MA-M */
	CHECK_EQ_STR(iotdns_oui_lookup(o, mal), "IEEE Registration Authority");
	CHECK(iotdns_mac_is_local(local) && iotdns_mac_is_local(rnd));
	CHECK(iotdns_oui_lookup(o, local) == NULL);
	CHECK(iotdns_oui_lookup(o, rnd) == NULL);
	CHECK(iotdns_oui_lookup(o, mcast) == NULL);
	iotdns_oui_free(o);
	remove_file("mam.csv");
	remove_file("oui36.csv");
	/* oui.txt fallback */
	remove_file("oui.csv");
	write_file("oui.txt", "OUI/MA-L   Organization\n00-17-88   (hex)\t\tPhilips Lighting BV\n"
			      "001788     (base 16)\t\tPhilips Lighting BV\n");
	CHECK_EQ_INT(iotdns_oui_load(&o, tmpdir, &err), IOTDNS_OK);
	CHECK_EQ_STR(iotdns_oui_lookup(o, hue), "Philips Lighting BV");
	CHECK_EQ_INT(iotdns_oui_count(o), 1);
	iotdns_oui_free(o);
	remove_file("oui.txt");
	CHECK_EQ_INT(iotdns_oui_load(&o, tmpdir, &err), IOTDNS_ENOENT);
	CHECK(strstr(err.msg, "ieee-data") != NULL);
	/* the system registry, when installed */
	if (iotdns_oui_load(&o, NULL, &err) == IOTDNS_OK) {
		CHECK(iotdns_oui_count(o) > 20000);
		CHECK_EQ_STR(iotdns_oui_lookup(o, hue), "Philips Lighting BV");
		iotdns_oui_free(o);
	} else {
		printf("ok %d # SKIP ieee-data not installed\n", ++tap_n);
	}
}

/* ---- classifier ---------------------------------------------------------------------- */

static const char RULES[] =
	"[shared cdn]\nrev = 1\nabout = a CDN\nsource = t\ndomain = cdn-example.test\nqname = time.example.net\n"
	"[shared ntp]\nrev = 1\nabout = NTP\nsource = t\ndomain = ntp.org\n"
	"[device examplecam-v2]\nrev = 3\ncategory = camera\nvendor = ExampleCam\nproduct = v2\nsource = t\n"
	"qname = api.examplecam.test weight=0.65 required\nqname = *.p2p.examplecam.test required\n"
	"domain = examplecam.test weight=0.5\noui = 00:00:5e weight=0.5\n"
	"[device examplecam-doorbell]\nrev = 1\ncategory = doorbell\nvendor = ExampleCam\nproduct = bell\nsource = t\n"
	"need = 2\ndhcp-hostname = ExampleBell-* required\ndomain = examplecam.test weight=0.5\n"
	"[device examplecam-generic]\nrev = 1\ncategory = unknown\nvendor = ExampleCam\nkind = generic\nsource = t\n"
	"domain = examplecam.test weight=0.6\nqname = *.examplecam.pool.ntp.org weight=0.8\noui = 00:00:5e\n"
	"[device plugco-plug]\nrev = 1\ncategory = plug\nvendor = PlugCo\nproduct = Plug\nsource = t\n"
	"domain = plugco.test weight=0.8\ndhcp-hostname = PLUG-* weight=0.6\ndhcp-vendor = plugos *\n"
	"mdns-service = _plugco._tcp\nmdns-instance = PlugCo *\n"
	"[device weakco]\nrev = 1\ncategory = sensor\nvendor = WeakCo\nproduct = S\nsource = t\n"
	"domain = weakco.test weight=0.3\n"
	"[device phone]\nrev = 1\ncategory = phone\nvendor = @oui\nproduct = Android phone\nsource = t\n"
	"dhcp-hostname = android-* weight=0.7\n"
	"[device brandco]\nrev = 1\ncategory = bulb\nvendor = Platform\nproduct = light\nsource = t\n"
	"brand = Brand One\ndomain = platform.test weight=0.8\n"
	"[device brandone]\nrev = 1\ncategory = bulb\nvendor = Brand One\nproduct = light\nsource = t\n"
	"dhcp-hostname = BrandOne-*\n"
	"[device cidco]\nrev = 1\ncategory = sensor\nvendor = CidCo\nproduct = S\nsource = t\n"
	"dhcp-client-id = 00:63:69:64:* weight=0.75\n";

static struct iotdns_fp_rules *RS;
static struct iotdns_oui *OUI;
static struct iotdns_fp_classifier *CL;

static void setup_classifier(void)
{
	struct iotdns_err err = { "" };
	write_file("oui.csv", "Registry,Assignment,Organization Name,Organization Address\n"
			      "MA-L,00005E,ICANN IANA Department,\nMA-L,A4CF12,Phone Maker,\n");
	CHECK_EQ_INT(iotdns_oui_load(&OUI, tmpdir, &err), IOTDNS_OK);
	remove_file("oui.csv");
	CHECK_EQ_INT(iotdns_fp_rules_new(&RS, &err), IOTDNS_OK);
	CHECK_EQ_INT(iotdns_fp_rules_add_text(RS, "t.rules", RULES, strlen(RULES), &err), IOTDNS_OK);
	CHECK_EQ_INT(iotdns_fp_rules_finish(RS, &err), IOTDNS_OK);
	if (err.msg[0])
		printf("# %s\n", err.msg);
	CHECK_EQ_INT(iotdns_fp_classifier_new(&CL, RS, OUI, &err), IOTDNS_OK);
}

static int classify_names(const char *const *names, unsigned n, const uint8_t *mac, unsigned flags,
			  struct iotdns_fp_verdict *v)
{
	/* static: the classifier keeps pointing at the input until the evidence
	 * JSON of this classification is made */
	static struct iotdns_fp_name nm[64];
	static struct iotdns_fp_input in;
	for (unsigned i = 0; i < n; i++) {
		nm[i].name = names[i];
		nm[i].first_us = 1000000ull * (i + 1);
	}
	memset(&in, 0, sizeof(in));
	in.names = nm;
	in.nnames = n;
	in.first_us = 500000;
	if (mac) {
		in.has_mac = true;
		memcpy(in.mac, mac, 6);
	}
	return iotdns_fp_classify(CL, &in, flags, NULL, v);
}

static bool json_valid(const char *text)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	bool ok = false;
	sqlite3_open(":memory:", &db);
	if (sqlite3_prepare_v2(db, "SELECT json_valid(?1)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return ok;
}

static void t_classify(void)
{
	struct iotdns_fp_verdict v;
	char json[8192];
	const uint8_t iana[6] = { 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01 };

	/* a product rule wins over the vendor-level rule */
	const char *cam[] = { "ntp1.cdn-example.test", "api.examplecam.test", "x.p2p.examplecam.test" };
	CHECK_EQ_INT(classify_names(cam, 3, iana, 0, &v), IOTDNS_OK);
	CHECK_EQ_STR(v.category, "camera");
	CHECK_EQ_STR(v.vendor, "ExampleCam");
	CHECK_EQ_STR(v.product, "v2");
	CHECK(v.rule && strcmp(v.rule->id, "examplecam-v2") == 0);
	CHECK(v.identified);
	/* p = 1 - (1-.65)(1-.6)(1-.5): the OUI adds .5 as its own item; the domain
	 * line hit by the same names as the exact lines adds nothing more */
	CHECK(v.confidence > 0.92 && v.confidence < 0.94);
	CHECK_EQ_INT(v.names_total, 3);
	CHECK_EQ_INT(v.names_shared, 1);
	CHECK_EQ_INT(v.names_vendor, 2);
	CHECK_EQ_INT(v.names_decisive, 2);
	CHECK_EQ_STR(v.oui_org, "ICANN IANA Department");
	/* replay: the OUI (0.5 at t=0.5 s) alone is below 0.7; the first vendor
	 * name (t=2 s) brings it to 1 - .5 * .35 = 0.825 */
	CHECK(v.reached);
	CHECK_EQ_INT(v.reached_us, 2000000);
	CHECK_EQ_INT(v.reached_names, 2);
	CHECK_EQ_STR(v.reached_by, "api.examplecam.test");
	size_t jl = iotdns_fp_evidence_json(CL, &v, "Linux/Android (ports 32768-60999)", json, sizeof(json));
	CHECK(jl == strlen(json));
	CHECK(json_valid(json));
	CHECK(strstr(json, "\"rule\":\"examplecam-v2\",\"rev\":3") != NULL);
	CHECK(strstr(json, "\"pattern\":\"*.p2p.examplecam.test\"") != NULL);
	CHECK(strstr(json, "\"at\":\"t.rules:") != NULL);
	CHECK(strstr(json, "\"shared\":[\"ntp1.cdn-example.test\"]") != NULL);
	CHECK(strstr(json, "\"org\":\"ICANN IANA Department\"") != NULL);
	/* a small buffer: still valid JSON, marked truncated */
	char small[400];
	iotdns_fp_evidence_json(CL, &v, NULL, small, sizeof(small));
	CHECK(json_valid(small));
	CHECK(strstr(small, "\"truncated\":true") != NULL);

	/* the same camera seen by DNS only: no OUI */
	CHECK_EQ_INT(classify_names(cam, 3, iana, IOTDNS_FP_DNS_ONLY, &v), IOTDNS_OK);
	CHECK_EQ_STR(v.product, "v2");
	CHECK(v.confidence > 0.85 && v.confidence < 0.87); /* 1 - .35 * .4 */
	CHECK_EQ_INT(v.reached_us, 3000000);              /* needs both names now */
	CHECK_EQ_INT(v.reached_names, 3);

	/* vendor-level only: generic rule (category unknown), vendor known */
	const char *gen[] = { "www.examplecam.test", "2.examplecam.pool.ntp.org", "0.pool.ntp.org" };
	CHECK_EQ_INT(classify_names(gen, 3, NULL, 0, &v), IOTDNS_OK);
	CHECK(v.rule && v.rule->generic);
	CHECK_EQ_STR(v.category, "unknown");
	CHECK_EQ_STR(v.vendor, "ExampleCam");
	CHECK(v.product == NULL);
	CHECK_EQ_INT(v.names_shared, 1); /* 0.pool.ntp.org: the vendor zone is more specific only below it */
	CHECK(v.confidence > 0.91);

	/* a product rule whose required line is missing does not match */
	const char *dom[] = { "www.examplecam.test" };
	CHECK_EQ_INT(classify_names(dom, 1, NULL, 0, &v), IOTDNS_OK);
	CHECK(v.rule && strcmp(v.rule->id, "examplecam-generic") == 0);

	/* weak evidence: unknown with the partial evidence */
	const char *weak[] = { "api.weakco.test" };
	CHECK_EQ_INT(classify_names(weak, 1, NULL, 0, &v), IOTDNS_OK);
	CHECK_EQ_STR(v.category, "unknown");
	CHECK(v.vendor == NULL && v.rule == NULL && !v.identified);
	CHECK(v.confidence > 0.29 && v.confidence < 0.31);
	iotdns_fp_evidence_json(CL, &v, NULL, json, sizeof(json));
	CHECK(json_valid(json));
	CHECK(strstr(json, "\"verdict\":\"unknown\"") != NULL);
	CHECK(strstr(json, "\"candidates\":[{\"rule\":\"weakco\"") != NULL);

	/* contradictory evidence: two unrelated vendors equally strong */
	const char *both[] = { "api.plugco.test", "platform.test" };
	CHECK_EQ_INT(classify_names(both, 2, NULL, 0, &v), IOTDNS_OK);
	CHECK(!v.identified);
	CHECK(v.confidence < 0.5);
	CHECK(v.runner_up != NULL);

	/* brands are related, not contradictory */
	struct iotdns_dev_dhcp d = { .version = 4 };
	snprintf(d.hostname, sizeof(d.hostname), "BrandOne-1234");
	struct iotdns_fp_name pn[] = { { "api.platform.test", 1000000 } };
	struct iotdns_fp_input in = { .names = pn, .nnames = 1, .dhcp = &d, .ndhcp = 1 };
	CHECK_EQ_INT(iotdns_fp_classify(CL, &in, 0, NULL, &v), IOTDNS_OK);
	CHECK(v.identified);
	CHECK_EQ_STR(v.category, "bulb");

	/* shared infrastructure alone: nothing */
	const char *sh[] = { "a.cdn-example.test", "time.example.net", "1.pool.ntp.org" };
	CHECK_EQ_INT(classify_names(sh, 3, NULL, 0, &v), IOTDNS_OK);
	CHECK_EQ_STR(v.category, "unknown");
	CHECK(v.rule == NULL && v.confidence == 0);
	CHECK_EQ_INT(v.names_shared, 3);
	CHECK_EQ_INT(v.names_vendor, 0);

	/* local names are not DNS evidence; unmatched names are listed */
	const char *loc[] = { "printer.local", "1.1.168.192.in-addr.arpa", "wpad", "unknown.example.org" };
	CHECK_EQ_INT(classify_names(loc, 4, NULL, 0, &v), IOTDNS_OK);
	CHECK_EQ_INT(v.names_local, 3);
	CHECK_EQ_INT(v.names_unmatched, 1);
	iotdns_fp_evidence_json(CL, &v, NULL, json, sizeof(json));
	CHECK(strstr(json, "\"unmatched_domains\":[\"example.org\"]") != NULL);

	/* DHCP and mDNS evidence; DNS-only ignores them */
	struct iotdns_dev_dhcp pd = { .version = 4, .first_us = 100 };
	snprintf(pd.hostname, sizeof(pd.hostname), "PLUG-77");
	snprintf(pd.vendor_class, sizeof(pd.vendor_class), "plugos 1.2");
	struct iotdns_fp_mdns md[] = { { IOTDNS_FP_M_INSTANCE, "PlugCo Kitchen", "_plugco._tcp", 200 } };
	struct iotdns_fp_input pin = { .dhcp = &pd, .ndhcp = 1, .mdns = md, .nmdns = 1 };
	CHECK_EQ_INT(iotdns_fp_classify(CL, &pin, 0, NULL, &v), IOTDNS_OK);
	CHECK_EQ_STR(v.vendor, "PlugCo");
	CHECK_EQ_STR(v.category, "plug");
	/* hostname .6, vendor class .4 and the mDNS instance (service .5 /
	 * instance .6: one item, the stronger counts) */
	CHECK(v.confidence > 0.89 && v.confidence < 0.91);
	CHECK_EQ_INT(v.reached_us, 100); /* host name .6 and vendor class .4 at the same DHCP packet: .76 */
	CHECK_EQ_STR(v.reached_by, "dhcp-vendor");
	CHECK_EQ_INT(iotdns_fp_classify(CL, &pin, IOTDNS_FP_DNS_ONLY, NULL, &v), IOTDNS_OK);
	CHECK(v.rule == NULL);

	/* vendor = @oui: the registry names the vendor; a randomized MAC leaves it unknown */
	struct iotdns_dev_dhcp ad = { .version = 4 };
	snprintf(ad.hostname, sizeof(ad.hostname), "android-0123456789abcdef");
	struct iotdns_fp_input ain = { .has_mac = true, .mac = { 0xa4, 0xcf, 0x12, 1, 2, 3 }, .dhcp = &ad, .ndhcp = 1 };
	CHECK_EQ_INT(iotdns_fp_classify(CL, &ain, 0, NULL, &v), IOTDNS_OK);
	CHECK_EQ_STR(v.category, "phone");
	CHECK_EQ_STR(v.vendor, "Phone Maker");
	ain.mac[0] = 0xa6; /* locally administered */
	CHECK_EQ_INT(iotdns_fp_classify(CL, &ain, 0, NULL, &v), IOTDNS_OK);
	CHECK_EQ_STR(v.category, "phone");
	CHECK(v.vendor == NULL && v.mac_local);

	/* the OUI alone stays below the threshold (rules cap OUI weights at 0.6) */
	struct iotdns_fp_input oin = { .has_mac = true, .mac = { 0x00, 0x00, 0x5e, 9, 9, 9 } };
	CHECK_EQ_INT(iotdns_fp_classify(CL, &oin, 0, NULL, &v), IOTDNS_OK);
	CHECK(!v.identified);
	CHECK_EQ_STR(v.vendor, "ExampleCam");
	/* an all-zero MAC is a placeholder, never evidence */
	memset(oin.mac, 0, 6);
	CHECK_EQ_INT(iotdns_fp_classify(CL, &oin, 0, NULL, &v), IOTDNS_OK);
	CHECK(v.rule == NULL && v.oui_org == NULL);

	/* the DHCP client identifier (option 61, as hex text) */
	struct iotdns_dev_dhcp cd = { .version = 4, .first_us = 7 };
	snprintf(cd.client_id, sizeof(cd.client_id), "00:63:69:64:2d:31");
	struct iotdns_fp_input cin = { .dhcp = &cd, .ndhcp = 1 };
	CHECK_EQ_INT(iotdns_fp_classify(CL, &cin, 0, NULL, &v), IOTDNS_OK);
	CHECK(v.identified && v.vendor && strcmp(v.vendor, "CidCo") == 0);
	CHECK_EQ_STR(v.reached_by, "dhcp-client-id");

	/* the other category of the same vendor only contradicts with evidence
	 * the chosen rule does not explain */
	struct iotdns_dev_dhcp bd = { .version = 4 };
	snprintf(bd.hostname, sizeof(bd.hostname), "ExampleBell-1");
	struct iotdns_fp_name bn[] = { { "www.examplecam.test", 5 } };
	struct iotdns_fp_input bin = { .names = bn, .nnames = 1, .dhcp = &bd, .ndhcp = 1 };
	CHECK_EQ_INT(iotdns_fp_classify(CL, &bin, 0, NULL, &v), IOTDNS_OK);
	CHECK_EQ_STR(v.category, "doorbell");
	CHECK(v.confidence > 0.79 && v.confidence < 0.81); /* 1 - .4 * .5, no penalty */
}

/* ---- the check through the engine ---------------------------------------------------- */

static const uint8_t MAC_CAM[6] = { 0x00, 0x00, 0x5e, 0x00, 0x53, 0x10 };
static const uint8_t MAC_OTHER[6] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x20 }; /* locally administered */
static const uint8_t MAC_GW[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t IP_CAM[4] = { 192, 168, 1, 50 };
static const uint8_t IP_OTHER[4] = { 192, 168, 1, 51 };
static const uint8_t IP_RES[4] = { 192, 168, 1, 1 };

static struct iotdns_engine *E;

static void query(uint64_t ts, const uint8_t *mac, const uint8_t *ip, uint16_t sport, uint16_t id, const char *name)
{
	uint8_t dns[512], fr[1024];
	size_t n = dns_msg(dns, id, false, name, 1, 0, 0, 0);
	size_t fl = frame4(fr, mac, MAC_GW, ip, IP_RES, 17, sport, 53, 0, dns, n);
	struct pcap_pkthdr h = pkthdr(ts, fl);
	iotdns_engine_packet(E, &h, fr);
}

static void t_check(void)
{
	struct iotdns_engine_config cfg;
	struct iotdns_err err = { "" };
	static const struct iotdns_checker *const only[] = { &iotdns_chk_fingerprint, NULL };
	write_file("cams.rules", RULES);
	iotdns_engine_config_default(&cfg);
	cfg.checkers = only;
	cfg.rules_dir = tmpdir;
	CHECK_EQ_INT(iotdns_engine_new(&E, &cfg, &err), IOTDNS_OK);
	if (!E) {
		printf("# %s\n", err.msg);
		return;
	}
	iotdns_engine_begin_input(E, "test", DLT_EN10MB);
	uint64_t t0 = 1700000000000000ull;
	/* the camera: two shared names, then its cloud, then more */
	query(t0 + 0, MAC_CAM, IP_CAM, 40001, 1, "a.cdn-example.test");
	query(t0 + 1000000, MAC_CAM, IP_CAM, 40002, 2, "0.pool.ntp.org");
	query(t0 + 2000000, MAC_CAM, IP_CAM, 40003, 3, "0.pool.ntp.org");
	query(t0 + 3500000, MAC_CAM, IP_CAM, 40004, 4, "api.examplecam.test");
	query(t0 + 4000000, MAC_CAM, IP_CAM, 40005, 5, "z.p2p.examplecam.test");
	for (int i = 0; i < 30; i++) {
		char nm[64];
		snprintf(nm, sizeof(nm), "n%d.examplecam.test", i);
		query(t0 + 5000000 + (uint64_t)i * 1000000, MAC_CAM, IP_CAM, (uint16_t)(41000 + i * 397), (uint16_t)(100 + i * 7919),
		      nm);
	}
	/* another device: shared names only, many queries */
	for (int i = 0; i < 25; i++)
		query(t0 + (uint64_t)i * 1000000, MAC_OTHER, IP_OTHER, (uint16_t)(50000 + i * 13), (uint16_t)(7 + i),
		      i % 2 ? "b.cdn-example.test" : "unknown.example.org");
	iotdns_engine_finish(E);
	struct iotdns_devtab *dt = iotdns_engine_devices(E);
	struct iotdns_device *cam = iotdns_devtab_by_mac(dt, MAC_CAM, false);
	struct iotdns_device *other = iotdns_devtab_by_mac(dt, MAC_OTHER, false);
	CHECK(cam && other);
	if (!cam || !other)
		return;
	CHECK_EQ_STR(cam->category, "camera");
	CHECK_EQ_STR(cam->vendor, "ExampleCam");
	CHECK_EQ_STR(cam->product, "v2");
	CHECK(cam->confidence > 0.92);
	CHECK(cam->fp_evidence && json_valid(cam->fp_evidence));
	/* 35 queries, one of them a retransmission (0.pool.ntp.org, unanswered) */
	CHECK(cam->fp_evidence && strstr(cam->fp_evidence, "\"dns_stack\":{\"queries\":34,\"port_min\":40001") != NULL);
	CHECK_EQ_STR(cam->os_hint, "Linux/Android (ports 32768-60999)");
	CHECK_EQ_STR(other->category, "unknown");
	CHECK(other->vendor == NULL);
	CHECK(other->fp_evidence && json_valid(other->fp_evidence));

	const struct iotdns_finding *f = NULL;
	unsigned nf = 0;
	for (uint32_t i = 0; i < iotdns_engine_finding_count(E); i++) {
		const struct iotdns_finding *x = iotdns_engine_finding(E, i);
		if (x->dev == cam && strcmp(x->kind->code, "PRIVACY.FINGERPRINTABLE") == 0)
			f = x;
		nf += x->dev == other;
	}
	CHECK(f != NULL);
	CHECK_EQ_INT(nf, 0);
	if (f) {
		printf("# %s | %s\n", f->summary, f->metrics);
		/* DNS only: the two vendor names (queries 4 and 5) are needed: 1 - .35 * .4 */
		CHECK(strstr(f->metrics, "\"queries_to_identify\":5") != NULL);
		CHECK(strstr(f->metrics, "\"seconds_to_identify\":4,") != NULL);
		CHECK(strstr(f->metrics, "\"names_to_identify\":4") != NULL);
		CHECK(strstr(f->metrics, "\"deciding_name\":\"z.p2p.examplecam.test\"") != NULL);
		CHECK(strstr(f->metrics, "\"vendor_specific_names\":32") != NULL);
		CHECK(strstr(f->metrics, "\"names_total\":34") != NULL);
		CHECK(strstr(f->metrics, "\"rule\":\"examplecam-v2\"") != NULL);
		/* the LAN observer (with the OUI) needs only the first vendor name */
		CHECK(strstr(f->metrics, "\"lan_seconds_to_identify\":3.5") != NULL);
		CHECK_EQ_INT(f->nev, 5);
		CHECK_EQ_INT(f->ev[0].pktno, 4);
		CHECK(strstr(f->ev[0].text, "api.examplecam.test") != NULL);
		CHECK(strstr(f->summary, "identifies it as ExampleCam camera (v2), confidence 0.86, after 5 queries and 4.0 s") != NULL);
	}
	CHECK_EQ_INT(cam->chk_result[0].status, IOTDNS_STATUS_FAIL);
	CHECK_EQ_INT(other->chk_result[0].status, IOTDNS_STATUS_PASS);
	printf("# other: %s\n", other->chk_result[0].detail);
	iotdns_engine_free(E);

	/* an invalid rule stops the engine at start-up with file:line */
	write_file("zz-bad.rules", "[device bad]\nrev = 1\ncategory = camera\nvendor = V\nproduct = P\nsource = s\n"
				   "qnme = x.example.test\n");
	E = NULL;
	CHECK_EQ_INT(iotdns_engine_new(&E, &cfg, &err), IOTDNS_ERULE);
	char want[256];
	snprintf(want, sizeof(want), "%s/zz-bad.rules:7: unknown key 'qnme'", tmpdir);
	CHECK_EQ_STR(err.msg, want);
	iotdns_engine_free(E);
	remove_file("zz-bad.rules");
	remove_file("cams.rules");

	/* few queries and nothing identifying: insufficient; with the shipped rules */
	cfg.rules_dir = NULL;
	CHECK_EQ_INT(iotdns_engine_new(&E, &cfg, &err), IOTDNS_OK);
	iotdns_engine_begin_input(E, "test2", DLT_EN10MB);
	for (int i = 0; i < 3; i++)
		query(t0 + (uint64_t)i * 1000000, MAC_OTHER, IP_OTHER, (uint16_t)(50000 + i), (uint16_t)(7 + i),
		      "www.example.org");
	/* a LIFX bulb by its broker name alone (shipped rules): identified by DNS */
	query(t0, MAC_CAM, IP_CAM, 40001, 1, "v2.broker.lifx.co");
	iotdns_engine_finish(E);
	dt = iotdns_engine_devices(E);
	other = iotdns_devtab_by_mac(dt, MAC_OTHER, false);
	cam = iotdns_devtab_by_mac(dt, MAC_CAM, false);
	CHECK(other && other->chk_result[0].status == IOTDNS_STATUS_INSUFFICIENT);
	CHECK(cam && cam->vendor && strcmp(cam->vendor, "LIFX") == 0);
	CHECK(cam && strcmp(cam->category, "bulb") == 0);
	CHECK(cam && cam->chk_result[0].status == IOTDNS_STATUS_FAIL);
	iotdns_engine_free(E);
}

/* ---- speed -------------------------------------------------------------------------- */

/* CPU time of the process: the measure does not depend on other load */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void t_speed(void)
{
	char dir[4096];
	struct iotdns_err err = { "" };
	struct iotdns_fp_rules *rs = NULL;
	struct iotdns_oui *oui = NULL;
	struct iotdns_fp_classifier *c = NULL;
	snprintf(dir, sizeof(dir), "%s/rules/fingerprints", IOTDNS_SOURCE_ROOT);
	if (iotdns_fp_rules_load_dir(&rs, dir, &err) != IOTDNS_OK) {
		printf("# %s\n", err.msg);
		CHECK(0);
		return;
	}
	iotdns_oui_load(&oui, NULL, &err); /* optional */
	CHECK_EQ_INT(iotdns_fp_classifier_new(&c, rs, oui, &err), IOTDNS_OK);
	/* 200 names per device. Half the devices: one vendor's names among shared
	 * and unknown ones (identified: the replay runs); the other half: names
	 * of many vendors (contradictory: unknown) */
	static const char *const mixed[] = { "api.amazonalexa.com", "acsechocaptiveportal.com", "d1.cloudfront.net",
					     "0.pool.ntp.org", "bridge.meethue.com", "x.tuyaeu.com",
					     "n-devs.tplinkcloud.com", "www.google.com", "a.b.c.d.example.org",
					     "0.sonostime.pool.ntp.org", "xyz.iot.us-east-1.amazonaws.com" };
	static const char *const echo[] = { "api.amazonalexa.com", "d1.cloudfront.net", "0.pool.ntp.org",
					    "www.google.com", "a.b.c.d.example.org", "xyz.iot.us-east-1.amazonaws.com",
					    "prod.amcs-tachyon.com" };
	enum { NDEV = 10000, NNAMES = 200 };
	char (*text)[2][64] = malloc(NNAMES * sizeof(*text));
	struct iotdns_fp_name *names[2] = { malloc(NNAMES * sizeof(struct iotdns_fp_name)),
					    malloc(NNAMES * sizeof(struct iotdns_fp_name)) };
	for (unsigned i = 0; i < NNAMES; i++) {
		snprintf(text[i][0], sizeof(text[i][0]), "h%u.%s", i, mixed[i % IOTDNS_ARRAY_LEN(mixed)]);
		snprintf(text[i][1], sizeof(text[i][1]), "h%u.%s", i, echo[i % IOTDNS_ARRAY_LEN(echo)]);
		for (unsigned k = 0; k < 2; k++) {
			names[k][i].name = text[i][k];
			names[k][i].first_us = 1000ull * (NNAMES - i); /* reverse order: the sort works */
		}
	}
	snprintf(text[NNAMES - 1][1], sizeof(text[0][1]), "acsechocaptiveportal.com");
	struct iotdns_fp_verdict v;
	double t = now_s();
	unsigned identified = 0;
	for (unsigned d = 0; d < NDEV; d++) {
		struct iotdns_fp_input in = { .has_mac = true, .mac = { 0xcc, 0xf7, 0x35, (uint8_t)(d >> 8), (uint8_t)d, 1 },
					      .names = names[d & 1], .nnames = NNAMES };
		iotdns_fp_classify(c, &in, 0, NULL, &v);
		identified += v.identified;
	}
	double el = now_s() - t;
	printf("# %u devices x %u names classified in %.3f s of CPU (%.1f us per device), %u identified\n", NDEV,
	       NNAMES, el, el * 1e6 / NDEV, identified);
	CHECK_EQ_INT(v.names_total, NNAMES);
	CHECK_EQ_INT(identified, NDEV / 2);
#if defined(__SANITIZE_ADDRESS__) || defined(__OPTIMIZE__) == 0
	CHECK(el < 30.0); /* sanitized / unoptimized builds: just terminate */
#else
	CHECK(el < 2.0);  /* generous for a loaded CI machine; typically well under 1 s */
#endif
	free(text);
	free(names[0]);
	free(names[1]);
	iotdns_fp_classifier_free(c);
	iotdns_oui_free(oui);
	iotdns_fp_rules_free(rs);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/iotdns-fp-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	t_oui();
	setup_classifier();
	t_classify();
	iotdns_fp_classifier_free(CL);
	iotdns_fp_rules_free(RS);
	iotdns_oui_free(OUI);
	t_check();
	t_speed();
	rmdir(tmpdir);
	return tap_done();
}

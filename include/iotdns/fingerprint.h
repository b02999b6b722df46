/* iotdns - device fingerprinting: rules, the IEEE OUI registry and the
 * classifier (docs/rules.md, docs/fingerprinting.md).
 *
 *   rules/fingerprints/\*.rules --iotdns_fp_rules_load_dir--> rule set + index
 *   /usr/share/ieee-data/oui.csv --iotdns_oui_load--> OUI table
 *   device evidence (names, MAC, DHCP, mDNS) --iotdns_fp_classify--> verdict
 *
 * Ownership: a rule set owns every string of its rules; verdicts point into
 * the rule set (category, vendor, product) or into the OUI table (a vendor
 * taken from the registry), so both must outlive the verdicts. A classifier
 * borrows the rule set and the OUI table and owns its scratch memory; one
 * classifier per thread.
 *
 * Nothing here runs per packet: classification happens once per device, at
 * the end of the run.
 */
#ifndef IOTDNS_FINGERPRINT_H
#define IOTDNS_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotdns/common.h"
#include "iotdns/device.h"

/* ---- rules ---------------------------------------------------------------- */

/* Evidence keys of a rule (docs/rules.md). */
enum iotdns_fp_key {
	IOTDNS_FP_QNAME = 0,      /* exact DNS name */
	IOTDNS_FP_WILDCARD,       /* qname = *.suffix: any name below suffix, never suffix itself */
	IOTDNS_FP_DOMAIN,         /* registrable domain: the domain and every name below it */
	IOTDNS_FP_OUI,            /* first 3 bytes of the MAC */
	IOTDNS_FP_OUI_ORG,        /* glob on the IEEE registry's organization name */
	IOTDNS_FP_DHCP_HOSTNAME,  /* glob on DHCP option 12 / DHCPv6 FQDN */
	IOTDNS_FP_DHCP_VENDOR,    /* glob on DHCP option 60 / DHCPv6 option 16 */
	IOTDNS_FP_DHCP_PRL,       /* exact DHCP option 55 list "1,3,6,..." */
	IOTDNS_FP_DHCP_CLIENT_ID, /* glob on the DHCP client identifier (option 61 / DHCPv6 DUID, hex text) */
	IOTDNS_FP_MDNS_SERVICE,   /* a DNS-SD service type the device owns an instance of */
	IOTDNS_FP_MDNS_INSTANCE,  /* glob on a DNS-SD instance name the device probes/announces */
	IOTDNS_FP_MDNS_HOST,      /* glob on the device's mDNS host name (without .local) */
	IOTDNS_FP_KEY_COUNT
};
const char *iotdns_fp_key_name(enum iotdns_fp_key k); /* "qname", "domain", ... */

/* One evidence line of a rule. */
struct iotdns_fp_line {
	uint8_t key;                  /* enum iotdns_fp_key */
	float weight;                 /* (0, 1): probability-like strength of one hit */
	bool required;                /* the rule matches only if one of its required lines hits */
	const char *pattern;          /* lower-case; for WILDCARD the suffix without "*." */
	uint32_t lineno;              /* line in the rule's file */
	uint32_t rule;                /* index of the rule it belongs to */
};

struct iotdns_fp_rule {
	const char *id;               /* stable, unique across the rule set */
	uint32_t rev;
	bool shared;                  /* [shared ...]: infrastructure, carries no vendor weight */
	bool generic;                 /* kind = generic: vendor level, used when no product rule wins */
	bool vendor_from_oui;         /* vendor = @oui: the MAC registry's organization */
	const char *category;         /* vocabulary: iotdns_fp_categories[]; NULL for shared */
	const char *vendor;           /* interned: equal vendors share the pointer */
	const char *product;          /* NULL when the rule names none */
	const char *brands;           /* "A, B" brands sold on this platform, or NULL */
	const char *sources;          /* provenance, "; "-joined */
	const char *about;            /* shared stanzas: what the infrastructure is */
	uint32_t need;                /* distinct evidence lines that must hit */
	uint32_t nrequired;           /* lines marked 'required' (one of them must hit) */
	const char *file;             /* path as given to the loader */
	uint32_t lineno;              /* line of the [device ...] header */
	uint32_t first_line, nlines;  /* its lines in iotdns_fp_rules_line() */
};

/* The category vocabulary, NULL-terminated ("unknown" is the last entry). */
extern const char *const iotdns_fp_categories[];
bool iotdns_fp_category_valid(const char *c);

struct iotdns_fp_rules;

/* An empty rule set (loads the public suffix list for validation). */
int iotdns_fp_rules_new(struct iotdns_fp_rules **out, struct iotdns_err *err);
void iotdns_fp_rules_free(struct iotdns_fp_rules *rs);
/* Parses one file's text (file is used in messages). Errors are
 * IOTDNS_ERULE with "file:line: message" in err; the set is then unusable. */
int iotdns_fp_rules_add_text(struct iotdns_fp_rules *rs, const char *file, const char *text, size_t len,
			     struct iotdns_err *err);
int iotdns_fp_rules_add_file(struct iotdns_fp_rules *rs, const char *path, struct iotdns_err *err);
/* Every *.rules file of dir, in name order. A directory without any is an error. */
int iotdns_fp_rules_add_dir(struct iotdns_fp_rules *rs, const char *dir, struct iotdns_err *err);
/* Builds the look-up index; no rules can be added afterwards. */
int iotdns_fp_rules_finish(struct iotdns_fp_rules *rs, struct iotdns_err *err);
/* new + add_dir + finish. */
int iotdns_fp_rules_load_dir(struct iotdns_fp_rules **out, const char *dir, struct iotdns_err *err);

/* The default rules directory: the source tree's rules/fingerprints when it
 * exists (development), else the installed data directory. */
const char *iotdns_fp_rules_default_dir(void);

uint32_t iotdns_fp_rules_count(const struct iotdns_fp_rules *rs);
const struct iotdns_fp_rule *iotdns_fp_rules_at(const struct iotdns_fp_rules *rs, uint32_t idx);
const struct iotdns_fp_line *iotdns_fp_rules_line(const struct iotdns_fp_rules *rs, uint32_t idx);
const struct iotdns_fp_rule *iotdns_fp_rules_find(const struct iotdns_fp_rules *rs, const char *id);

struct iotdns_fp_rules_stats {
	uint32_t files, rules, shared, products, generic, vendors, categories, lines;
};
void iotdns_fp_rules_stats(const struct iotdns_fp_rules *rs, struct iotdns_fp_rules_stats *st);

/* Matches one DNS name against the index: writes up to max line indexes to
 * out and returns how many hit. *shared is set when the most specific
 * pattern for the name is shared infrastructure (then nothing hits). */
unsigned iotdns_fp_match_name(const struct iotdns_fp_rules *rs, const char *name, uint32_t *out, unsigned max,
			      bool *shared);

/* The registrable domain of name by the ICANN section of the public suffix
 * list (libpsl), into buf; NULL when name has none (a public suffix itself). */
const char *iotdns_fp_registrable(const struct iotdns_fp_rules *rs, const char *name, char *buf, size_t size);

/* Case-insensitive glob with '*' and '?' (no recursion, linear in practice). */
bool iotdns_fp_glob(const char *pattern, const char *text);

/* ---- the IEEE OUI registry -------------------------------------------------- */

struct iotdns_oui;

/* Reads MA-L (oui.csv), and MA-M (mam.csv) and MA-S (oui36.csv) when present,
 * from dir (NULL: /usr/share/ieee-data); oui.txt is the fallback for MA-L. */
int iotdns_oui_load(struct iotdns_oui **out, const char *dir, struct iotdns_err *err);
void iotdns_oui_free(struct iotdns_oui *o);
/* Organization name for a MAC, or NULL: not registered, or a locally
 * administered / multicast address (never looked up). */
const char *iotdns_oui_lookup(const struct iotdns_oui *o, const uint8_t mac[6]);
uint32_t iotdns_oui_count(const struct iotdns_oui *o); /* assignments loaded */
/* Bit 0x02 of the first byte: randomized or otherwise locally administered. */
static inline bool iotdns_mac_is_local(const uint8_t mac[6])
{
	return (mac[0] & 0x02) != 0;
}

/* ---- classification --------------------------------------------------------- */

/* mDNS evidence kinds (struct iotdns_fp_mdns.kind). */
enum iotdns_fp_mdns_kind {
	IOTDNS_FP_M_INSTANCE = 0,     /* text = instance name, service = "_x._tcp" */
	IOTDNS_FP_M_HOST = 1,         /* text = host name without ".local" */
};

struct iotdns_fp_mdns {
	uint8_t kind;
	const char *text;
	const char *service;          /* instances only */
	uint64_t first_us;
};

struct iotdns_fp_name {
	const char *name;             /* lower-case presentation format */
	uint64_t first_us;
};

/* What is known about one device (all borrowed for the call). */
struct iotdns_fp_input {
	bool has_mac;
	uint8_t mac[6];
	uint64_t first_us;            /* when the device was first seen (OUI evidence time) */
	const struct iotdns_fp_name *names;
	uint32_t nnames;
	const struct iotdns_dev_dhcp *dhcp;
	uint32_t ndhcp;
	const struct iotdns_fp_mdns *mdns;
	uint32_t nmdns;
};

enum iotdns_fp_flags {
	IOTDNS_FP_DNS_ONLY = 1u << 0, /* names only: what a resolver or an on-path observer sees */
};

struct iotdns_fp_params {
	double threshold;             /* identified at or above (default 0.7) */
	double floor;                 /* below: the answer is unknown (default 0.4) */
};
void iotdns_fp_params_default(struct iotdns_fp_params *p);

struct iotdns_fp_verdict {
	const char *category;         /* never NULL: "unknown" when undecided */
	const char *vendor;           /* NULL when unknown */
	const char *product;          /* NULL when unknown or not named */
	double confidence;            /* [0, 1] */
	bool identified;              /* confidence >= threshold and a vendor */
	const struct iotdns_fp_rule *rule; /* the deciding rule, NULL when unknown */
	const struct iotdns_fp_rule *runner_up; /* best rule of another vendor, or NULL */
	double runner_up_p;
	/* names */
	uint32_t names_total;         /* DNS names considered (not .local / .arpa) */
	uint32_t names_vendor;        /* names that hit a vendor rule line */
	uint32_t names_decisive;      /* names that hit a line of the deciding rule */
	uint32_t names_shared;        /* names on shared infrastructure */
	uint32_t names_unmatched;
	uint32_t names_local;         /* .local / .arpa names (not used as DNS evidence) */
	/* replay in first-seen order: when the verdict was first reached with
	 * confidence >= threshold (identified only) */
	bool reached;
	uint64_t reached_us;          /* time of the evidence that decided it */
	uint32_t reached_names;       /* distinct names seen up to it (inclusive) */
	const char *reached_by;       /* that evidence: a name, "oui", "dhcp" or "mdns" text */
	int32_t reached_name_idx;     /* index into input->names, or -1 */
	/* what it is made of */
	const char *oui_org;          /* registry organization of the MAC, or NULL */
	bool mac_local;
};

struct iotdns_fp_classifier;

int iotdns_fp_classifier_new(struct iotdns_fp_classifier **out, const struct iotdns_fp_rules *rs,
			     const struct iotdns_oui *oui, struct iotdns_err *err);
void iotdns_fp_classifier_free(struct iotdns_fp_classifier *c);

/* Classifies one device (and replays its evidence in time order to find when
 * the verdict was reached). Returns IOTDNS_OK or IOTDNS_ENOMEM. The classifier
 * keeps the evidence of the last call for iotdns_fp_evidence_json() and
 * iotdns_fp_name_hits_rule(): in (and what it points to) must stay valid
 * until then. */
int iotdns_fp_classify(struct iotdns_fp_classifier *c, const struct iotdns_fp_input *in, unsigned flags,
		       const struct iotdns_fp_params *params, struct iotdns_fp_verdict *v);

/* The evidence of the last classification as a JSON object (rule id/rev,
 * hits with their rule lines and matching names, OUI, DHCP fields, shared and
 * unmatched names, the runner-up). Always valid JSON, truncated safely by
 * dropping detail. Returns the length (without NUL). */
size_t iotdns_fp_evidence_json(struct iotdns_fp_classifier *c, const struct iotdns_fp_verdict *v,
			       const char *os_hint, char *buf, size_t size);

/* Whether name index i of the last classification hit a line of rule r. */
bool iotdns_fp_name_hits_rule(const struct iotdns_fp_classifier *c, uint32_t i, const struct iotdns_fp_rule *r);

/* ---- evaluation (iotdns eval) ------------------------------------------------ */

/* A labels file: "MAC<TAB>category<TAB>vendor<TAB>product[<TAB>note]" lines,
 * '#' comments; '|' separates acceptable alternatives; '-' = not scored. */
struct iotdns_fp_label {
	uint8_t mac[6];
	char category[64];
	char vendor[128];
	char product[128];
	char note[256];
	uint32_t lineno;
};

int iotdns_fp_labels_load(const char *path, struct iotdns_fp_label **out, uint32_t *n, struct iotdns_err *err);
/* Does the answer match the label field (alternatives, case and punctuation
 * insensitive, a label may name the first words of the answer)? brands (rule
 * brands, may be NULL) also count for vendors. Returns -1 when the label
 * field is '-' (not scored). */
int iotdns_fp_label_match(const char *label, const char *answer, const char *brands);

#endif

/* iotdns - private parts of the fingerprint subsystem shared by rules.c and
 * classify.c. Not installed, not a contract. */
#ifndef IOTDNS_FP_INTERNAL_H
#define IOTDNS_FP_INTERNAL_H

#include <libpsl.h>
#include <stdbool.h>
#include <stdint.h>

#include "iotdns/fingerprint.h"

#define FP_NONE UINT32_MAX

/* Open-addressing string map: key (owned by the rule arena) -> head of a
 * chain in iotdns_fp_rules.chain. */
struct fp_smap_slot {
	const char *key;              /* NULL = empty */
	uint64_t hash;
	uint32_t head;
};
struct fp_smap {
	uint32_t cap, n;              /* cap: power of two, at most half full */
	struct fp_smap_slot *slots;
};
struct fp_chain {
	uint32_t line;                /* a line index (or a rule index for ids) */
	uint32_t next;                /* FP_NONE ends the chain */
};
struct fp_list {
	uint32_t n, cap;
	uint32_t *v;                  /* line indexes */
};
struct fp_oui_ent {
	uint32_t prefix;              /* 24 bits */
	uint32_t line;
};

struct arena_chunk;

struct iotdns_fp_rules {
	psl_ctx_t *psl;
	bool psl_owned;               /* psl_latest() result, freed; psl_builtin() is static */
	struct arena_chunk *arena;    /* every string */
	const char *cur_file;
	uint32_t nfiles;
	bool finished, failed;

	uint32_t nrules, cap_rules;
	struct iotdns_fp_rule *rules;
	uint32_t nlines, cap_lines;
	struct iotdns_fp_line *lines;
	uint32_t nchain, cap_chain;
	struct fp_chain *chain;

	struct fp_smap ids;           /* rule id -> rule index */
	struct fp_smap interned;      /* vendors, categories */
	/* the index */
	struct fp_smap exact, wild, domain, service;
	uint64_t bloom[1024];         /* 65536-bit filter of the name keys' hashes (most suffixes miss) */
	uint32_t noui;
	struct fp_oui_ent *oui;       /* sorted by prefix */
	struct fp_list glob[IOTDNS_FP_KEY_COUNT]; /* list-matched keys (globs, PRL) */
};

/* The index's string hash (FNV-1a from the last byte to the first). */
uint64_t iotdns_fp_key_hash(const char *s);
const struct fp_smap_slot *iotdns_fp_smap_get(const struct fp_smap *m, const char *key, uint64_t hash);

#endif

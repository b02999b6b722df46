/* iotdns - fingerprint rules: parser, validator and look-up index
 * (include/iotdns/fingerprint.h, docs/rules.md).
 *
 * The format is p0f-like stanzas of KEY = VALUE lines:
 *
 *   [device examplecam-v2]        a device rule (product or vendor level)
 *   [shared cdn-example]          shared infrastructure: no vendor weight
 *
 * Errors are "file:line: message" and stop the load. Every string of a rule
 * set lives in its arena until iotdns_fp_rules_free().
 *
 * The index (built by iotdns_fp_rules_finish): three string hash tables
 * (exact names, wildcard suffixes, registrable domains) map a key to a chain
 * of evidence lines; a DNS name is matched by walking its suffixes, so a
 * look-up costs one probe per label whatever the number of rules. OUIs are a
 * sorted array; the glob keys (DHCP, mDNS, OUI organization) are short lists
 * matched once per device.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libpsl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iotdns-config.h"
#include "iotdns/fingerprint.h"
#include "fp_internal.h"

#define RULES_MAX_LINE 4096          /* longer lines are an error */
#define RULES_MAX_FILE (16u << 20)   /* a rules file larger than this is refused */
#define RULES_MAX_OUI_WEIGHT 0.6f /* below the 0.7 threshold: OUI alone is never "identified" */
#define RULES_PSL_FILE "/usr/share/publicsuffix/public_suffix_list.dat"

const char *const iotdns_fp_categories[] = {
	"camera", "doorbell", "speaker", "voice-assistant", "display", "plug", "switch", "bulb", "hub",
	"thermostat", "tv", "streaming", "appliance", "sensor", "baby-monitor", "pet-device",
	"robot-vacuum", "lock", "printer", "phone", "tablet", "computer", "health", "wearable",
	"game-console", "network", "security-system", "garage", "irrigation", "energy", "storage",
	"vehicle", "unknown", NULL,
};

bool iotdns_fp_category_valid(const char *c)
{
	for (unsigned i = 0; iotdns_fp_categories[i]; i++)
		if (strcmp(iotdns_fp_categories[i], c) == 0)
			return true;
	return false;
}

const char *iotdns_fp_key_name(enum iotdns_fp_key k)
{
	static const char *const names[IOTDNS_FP_KEY_COUNT] = {
		[IOTDNS_FP_QNAME] = "qname", [IOTDNS_FP_WILDCARD] = "qname", [IOTDNS_FP_DOMAIN] = "domain",
		[IOTDNS_FP_OUI] = "oui", [IOTDNS_FP_OUI_ORG] = "oui-org",
		[IOTDNS_FP_DHCP_HOSTNAME] = "dhcp-hostname", [IOTDNS_FP_DHCP_VENDOR] = "dhcp-vendor",
		[IOTDNS_FP_DHCP_PRL] = "dhcp-prl", [IOTDNS_FP_DHCP_CLIENT_ID] = "dhcp-client-id",
		[IOTDNS_FP_MDNS_SERVICE] = "mdns-service",
		[IOTDNS_FP_MDNS_INSTANCE] = "mdns-instance", [IOTDNS_FP_MDNS_HOST] = "mdns-host",
	};
	return (unsigned)k < IOTDNS_FP_KEY_COUNT ? names[k] : "?";
}

/* Default weight of one hit per key (docs/rules.md, "Weights"). */
static const float default_weight[IOTDNS_FP_KEY_COUNT] = {
	[IOTDNS_FP_QNAME] = 0.7f, [IOTDNS_FP_WILDCARD] = 0.6f, [IOTDNS_FP_DOMAIN] = 0.6f,
	[IOTDNS_FP_OUI] = 0.5f, [IOTDNS_FP_OUI_ORG] = 0.5f, [IOTDNS_FP_DHCP_HOSTNAME] = 0.6f,
	[IOTDNS_FP_DHCP_VENDOR] = 0.4f, [IOTDNS_FP_DHCP_PRL] = 0.2f, [IOTDNS_FP_DHCP_CLIENT_ID] = 0.5f,
	[IOTDNS_FP_MDNS_SERVICE] = 0.5f,
	[IOTDNS_FP_MDNS_INSTANCE] = 0.6f, [IOTDNS_FP_MDNS_HOST] = 0.6f,
};

/* ---- arena ------------------------------------------------------------------ */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	char data[];
};

static char *arena_strndup(struct iotdns_fp_rules *rs, const char *s, size_t n)
{
	struct arena_chunk *c = rs->arena;
	if (!c || c->cap - c->used < n + 1) {
		size_t cap = n + 1 > 65536 ? n + 1 : 65536;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = rs->arena;
		c->used = 0;
		c->cap = cap;
		rs->arena = c;
	}
	char *p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

static char *arena_strdup(struct iotdns_fp_rules *rs, const char *s)
{
	return arena_strndup(rs, s, strlen(s));
}

/* ---- string hash table: key -> chain of uint32 values ------------------------- */

/* FNV-1a over the bytes from the LAST to the first: the hash of every
 * suffix of a name falls out of one right-to-left pass (iotdns_fp_match_name
 * needs the hash of each label suffix). */
uint64_t iotdns_fp_key_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t n = strlen(s); n > 0; n--) {
		h ^= (unsigned char)s[n - 1];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t str_hash(const char *s)
{
	return iotdns_fp_key_hash(s);
}

static int smap_grow(struct fp_smap *m)
{
	uint32_t ncap = m->cap ? m->cap * 2 : 256;
	struct fp_smap_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return IOTDNS_ENOMEM;
	for (uint32_t i = 0; i < m->cap; i++) {
		if (!m->slots[i].key)
			continue;
		uint32_t j = (uint32_t)m->slots[i].hash & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return IOTDNS_OK;
}

/* Finds key; with create, inserts it (head = FP_NONE) and returns its slot. */
static struct fp_smap_slot *smap_slot(struct fp_smap *m, const char *key, bool create)
{
	if (create && (m->n + 1) * 2 > m->cap && smap_grow(m) != IOTDNS_OK)
		return NULL;
	if (!m->cap)
		return NULL;
	uint64_t h = str_hash(key);
	for (uint32_t i = (uint32_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct fp_smap_slot *s = &m->slots[i];
		if (!s->key) {
			if (!create)
				return NULL;
			s->key = key;
			s->hash = h;
			s->head = FP_NONE;
			m->n++;
			return s;
		}
		if (s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

const struct fp_smap_slot *iotdns_fp_smap_get(const struct fp_smap *m, const char *key, uint64_t hash)
{
	if (!m->cap)
		return NULL;
	for (uint32_t i = (uint32_t)hash & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct fp_smap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == hash && strcmp(s->key, key) == 0)
			return s;
	}
}

/* Appends value v to the chain of key (chains keep load order). */
static int smap_add(struct iotdns_fp_rules *rs, struct fp_smap *m, const char *key, uint32_t v)
{
	struct fp_smap_slot *s = smap_slot(m, key, true);
	if (!s)
		return IOTDNS_ENOMEM;
	if (rs->nchain == rs->cap_chain) {
		uint32_t ncap = rs->cap_chain ? rs->cap_chain * 2 : 1024;
		struct fp_chain *nc = realloc(rs->chain, ncap * sizeof(*nc));
		if (!nc)
			return IOTDNS_ENOMEM;
		rs->chain = nc;
		rs->cap_chain = ncap;
	}
	uint32_t e = rs->nchain++;
	rs->chain[e].line = v;
	rs->chain[e].next = FP_NONE;
	if (s->head == FP_NONE) {
		s->head = e;
	} else {
		uint32_t t = s->head;
		while (rs->chain[t].next != FP_NONE)
			t = rs->chain[t].next;
		rs->chain[t].next = e;
	}
	return IOTDNS_OK;
}

/* Interned strings (vendors, categories): equal text, equal pointer. */
static const char *intern(struct iotdns_fp_rules *rs, const char *s)
{
	struct fp_smap_slot *slot = smap_slot(&rs->interned, s, false);
	if (slot)
		return slot->key;
	char *copy = arena_strdup(rs, s);
	if (!copy)
		return NULL;
	slot = smap_slot(&rs->interned, copy, true);
	return slot ? slot->key : NULL;
}

/* ---- glob ------------------------------------------------------------------- */

bool iotdns_fp_glob(const char *p, const char *t)
{
	/* classic wildcard matcher with one backtrack point: O(len(p) * len(t)) */
	const char *star = NULL, *resume = NULL;
	while (*t) {
		if (*p == '*') {
			star = p++;
			resume = t;
		} else if (*p == '?' || (*p && tolower((unsigned char)*p) == tolower((unsigned char)*t))) {
			p++;
			t++;
		} else if (star) {
			p = star + 1;
			t = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* ---- public suffix list ------------------------------------------------------ */

static bool icann_suffix(const struct iotdns_fp_rules *rs, const char *s)
{
	return psl_is_public_suffix2(rs->psl, s, PSL_TYPE_ICANN) != 0;
}

const char *iotdns_fp_registrable(const struct iotdns_fp_rules *rs, const char *name, char *buf, size_t size)
{
	/* the shortest suffix that is not an ICANN public suffix, whose parent is */
	const char *prev = NULL;
	const char *s = name;
	if (!rs || !rs->psl || !*name)
		return NULL;
	/* walk from the longest suffix to the shortest; remember the last one that
	 * is not a public suffix */
	for (;;) {
		if (icann_suffix(rs, s))
			break;
		prev = s;
		const char *dot = strchr(s, '.');
		if (!dot || !dot[1])
			break;
		s = dot + 1;
	}
	if (!prev || !icann_suffix(rs, s) || prev == s)
		return NULL;
	snprintf(buf, size, "%s", prev);
	return buf;
}

/* ---- parser --------------------------------------------------------------------- */

struct parse {
	struct iotdns_fp_rules *rs;
	const char *file;
	uint32_t lineno;
	struct iotdns_err *err;
	bool in_stanza;
	struct iotdns_fp_rule cur;   /* the open stanza */
	bool has_rev, has_kind, has_need;
	char sources[2048];
	char brands[512];
};

#define PERR(ps, ...) rule_error(ps, __VA_ARGS__)

static int rule_error(struct parse *ps, const char *fmt, ...) IOTDNS_PRINTF(2, 3);
static int rule_error(struct parse *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return iotdns_err_set(ps->err, IOTDNS_ERULE, "%s:%u: %s", ps->file, ps->lineno, msg);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static bool valid_id(const char *s)
{
	if (!*s || !(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_')
			return false;
	return true;
}

/* A DNS name as rules write it: labels of [a-z0-9-_], no empty label. */
static bool valid_dns_name(const char *s, unsigned *labels)
{
	unsigned n = 0, len = 0;
	size_t total = strlen(s);
	if (!total || total > 253 || s[0] == '.' || s[total - 1] == '.')
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (!len)
				return false;
			n++;
			len = 0;
			continue;
		}
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
		if (++len > 63)
			return false;
	}
	if (!len)
		return false;
	*labels = n + 1;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int add_line(struct parse *ps, enum iotdns_fp_key key, const char *pattern, float w, bool required)
{
	struct iotdns_fp_rules *rs = ps->rs;
	if (rs->nlines == rs->cap_lines) {
		uint32_t ncap = rs->cap_lines ? rs->cap_lines * 2 : 1024;
		struct iotdns_fp_line *nl = realloc(rs->lines, ncap * sizeof(*nl));
		if (!nl)
			return iotdns_err_set(ps->err, IOTDNS_ENOMEM, "out of memory loading rules");
		rs->lines = nl;
		rs->cap_lines = ncap;
	}
	char *p = arena_strdup(rs, pattern);
	if (!p)
		return iotdns_err_set(ps->err, IOTDNS_ENOMEM, "out of memory loading rules");
	struct iotdns_fp_line *l = &rs->lines[rs->nlines++];
	l->key = (uint8_t)key;
	l->weight = w;
	l->required = required;
	ps->cur.nrequired += required;
	l->pattern = p;
	l->lineno = ps->lineno;
	l->rule = rs->nrules; /* the open stanza becomes rule nrules */
	ps->cur.nlines++;
	return IOTDNS_OK;
}

/* Lower-cases s in place. */
static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int parse_evidence(struct parse *ps, const char *key, char *val)
{
	/* optional trailing "weight=W" and "required" tokens, in any order */
	float w = -1;
	bool required = false;
	for (;;) {
		char *sp = strrchr(val, ' ');
		char *tab = strrchr(val, '\t');
		if (tab && (!sp || tab > sp))
			sp = tab;
		if (!sp)
			break;
		if (strncmp(sp + 1, "weight=", 7) == 0 && w < 0) {
			char *end = NULL;
			errno = 0;
			double d = strtod(sp + 8, &end);
			if (errno || end == sp + 8 || *end || !(d > 0.0 && d < 1.0))
				return PERR(ps, "weight must be a number between 0 and 1 (exclusive), got '%s'", sp + 8);
			w = (float)d;
		} else if (strcmp(sp + 1, "required") == 0 && !required) {
			required = true;
		} else {
			break;
		}
		*sp = '\0';
		val = trim(val);
	}
	if (!*val)
		return PERR(ps, "'%s' needs a value", key);

	enum iotdns_fp_key k;
	char buf[RULES_MAX_LINE];
	snprintf(buf, sizeof(buf), "%s", val);
	if (strcmp(key, "qname") == 0 || strcmp(key, "domain") == 0) {
		unsigned labels = 0;
		lower(buf);
		bool wild = strncmp(buf, "*.", 2) == 0;
		const char *name = wild ? buf + 2 : buf;
		if (strcmp(key, "domain") == 0 && wild)
			return PERR(ps, "domain '%s': a domain already covers its subdomains; write it without '*.'", val);
		if (!valid_dns_name(name, &labels))
			return PERR(ps, "%s '%s' is not a valid DNS name (labels of a-z, 0-9, '-', '_'%s)", key, val,
				    strchr(name, '*') ? "; '*' only as a whole first label '*.'" : "");
		if (ends_with(name, ".local") || strcmp(name, "local") == 0 || ends_with(name, ".arpa"))
			return PERR(ps, "%s '%s': .local and .arpa names are not DNS evidence (use mdns-* keys)", key, val);
		if (labels < 2)
			return PERR(ps, "%s '%s' is a single label: too broad", key, val);
		if (strcmp(key, "domain") == 0) {
			char reg[256];
			const char *r = iotdns_fp_registrable(ps->rs, name, reg, sizeof(reg));
			if (!r)
				return PERR(ps, "domain '%s' is a public suffix, not a registrable domain", val);
			if (strcmp(r, name) != 0)
				return PERR(ps, "domain '%s' is not a registrable domain (that is '%s'); use qname = *.%s "
						"or qname = %s", val, r, name, name);
			k = IOTDNS_FP_DOMAIN;
		} else {
			k = wild ? IOTDNS_FP_WILDCARD : IOTDNS_FP_QNAME;
			if (wild) {
				/* *.suffix where suffix is a public suffix (*.com, *.co.uk) is far too broad */
				if (icann_suffix(ps->rs, name))
					return PERR(ps, "qname '%s' covers a whole public suffix", val);
			}
		}
		memmove(buf, name, strlen(name) + 1);
	} else if (strcmp(key, "oui") == 0) {
		unsigned a, b, c;
		char rest;
		if (sscanf(buf, "%2x:%2x:%2x%c", &a, &b, &c, &rest) != 3 &&
		    sscanf(buf, "%2x-%2x-%2x%c", &a, &b, &c, &rest) != 3)
			return PERR(ps, "oui '%s': expected three hex bytes like 00:17:88", val);
		if (strlen(buf) != 8)
			return PERR(ps, "oui '%s': expected three hex bytes like 00:17:88", val);
		if (a & 0x02)
			return PERR(ps, "oui '%s' has the locally-administered bit set: such MACs are never looked up", val);
		snprintf(buf, sizeof(buf), "%02x:%02x:%02x", a, b, c);
		k = IOTDNS_FP_OUI;
	} else if (strcmp(key, "oui-org") == 0) {
		k = IOTDNS_FP_OUI_ORG;
	} else if (strcmp(key, "dhcp-hostname") == 0) {
		k = IOTDNS_FP_DHCP_HOSTNAME;
	} else if (strcmp(key, "dhcp-vendor") == 0) {
		k = IOTDNS_FP_DHCP_VENDOR;
	} else if (strcmp(key, "dhcp-prl") == 0) {
		unsigned n = 0;
		for (const char *p = buf; *p;) {
			char *end;
			errno = 0;
			long v = strtol(p, &end, 10);
			if (end == p || errno || v < 0 || v > 255 || (*end && *end != ','))
				return PERR(ps, "dhcp-prl '%s': expected option codes 0-255 separated by commas", val);
			n++;
			p = *end ? end + 1 : end;
		}
		if (!n)
			return PERR(ps, "dhcp-prl needs at least one option code");
		k = IOTDNS_FP_DHCP_PRL;
	} else if (strcmp(key, "dhcp-client-id") == 0) {
		k = IOTDNS_FP_DHCP_CLIENT_ID;
	} else if (strcmp(key, "mdns-service") == 0) {
		lower(buf);
		if (ends_with(buf, ".local"))
			buf[strlen(buf) - 6] = '\0';
		size_t n = strlen(buf);
		if (buf[0] != '_' || n < 7 || (!ends_with(buf, "._tcp") && !ends_with(buf, "._udp")))
			return PERR(ps, "mdns-service '%s': expected a DNS-SD service type like _hap._tcp", val);
		k = IOTDNS_FP_MDNS_SERVICE;
	} else if (strcmp(key, "mdns-instance") == 0) {
		k = IOTDNS_FP_MDNS_INSTANCE;
	} else if (strcmp(key, "mdns-host") == 0) {
		if (ends_with(buf, ".local"))
			buf[strlen(buf) - 6] = '\0';
		k = IOTDNS_FP_MDNS_HOST;
	} else {
		return PERR(ps, "unknown key '%s'", key);
	}
	if (k == IOTDNS_FP_OUI_ORG || k == IOTDNS_FP_DHCP_HOSTNAME || k == IOTDNS_FP_DHCP_VENDOR ||
	    k == IOTDNS_FP_DHCP_CLIENT_ID || k == IOTDNS_FP_MDNS_INSTANCE || k == IOTDNS_FP_MDNS_HOST) {
		if (strcmp(buf, "*") == 0 || strspn(buf, "*?") == strlen(buf))
			return PERR(ps, "%s '%s' matches everything", key, val);
	}
	if (w < 0)
		w = default_weight[k];
	if ((k == IOTDNS_FP_OUI || k == IOTDNS_FP_OUI_ORG) && w > RULES_MAX_OUI_WEIGHT)
		return PERR(ps, "%s weight %.2f: at most %.1f (a MAC prefix alone never identifies a device: MACs are "
				"copied, spoofed and zeroed)", key, (double)w, RULES_MAX_OUI_WEIGHT);
	if (ps->cur.shared && k != IOTDNS_FP_QNAME && k != IOTDNS_FP_WILDCARD && k != IOTDNS_FP_DOMAIN)
		return PERR(ps, "a [shared] stanza lists DNS names only (qname, domain), not '%s'", key);
	if (required && ps->cur.shared)
		return PERR(ps, "'required' has no meaning in a [shared] stanza");
	return add_line(ps, k, buf, w, required);
}

static int append_joined(struct parse *ps, char *dst, size_t size, const char *sep, const char *val,
			 const char *what)
{
	size_t len = strlen(dst);
	size_t need = (len ? strlen(sep) : 0) + strlen(val);
	if (len + need + 1 > size)
		return PERR(ps, "too much %s text in one rule (at most %zu bytes)", what, size - 1);
	snprintf(dst + len, size - len, "%s%s", len ? sep : "", val);
	return IOTDNS_OK;
}

static int close_stanza(struct parse *ps)
{
	struct iotdns_fp_rules *rs = ps->rs;
	struct iotdns_fp_rule *r = &ps->cur;
	uint32_t save = ps->lineno;
	if (!ps->in_stanza)
		return IOTDNS_OK;
	ps->lineno = r->lineno;
	if (!ps->has_rev)
		return PERR(ps, "%s '%s' has no rev", r->shared ? "shared" : "device", r->id);
	if (!ps->sources[0])
		return PERR(ps, "'%s' has no source (provenance: vendor documentation, MUD file, research, "
				"observed capture)", r->id);
	if (!r->nlines)
		return PERR(ps, "'%s' has no evidence lines", r->id);
	if (r->shared) {
		if (!r->about)
			return PERR(ps, "shared '%s' needs an 'about' line (what the infrastructure is)", r->id);
	} else {
		if (!r->category)
			return PERR(ps, "device '%s' has no category", r->id);
		if (!r->vendor)
			return PERR(ps, "device '%s' has no vendor", r->id);
		if (!r->generic && !r->product)
			return PERR(ps, "device '%s' is a product rule (kind = specific) without a product", r->id);
		if (r->need > r->nlines)
			return PERR(ps, "'%s' needs %u evidence lines but lists only %u", r->id, r->need, r->nlines);
	}
	r->sources = arena_strdup(rs, ps->sources);
	r->brands = ps->brands[0] ? arena_strdup(rs, ps->brands) : NULL;
	if (!r->sources || (ps->brands[0] && !r->brands))
		return iotdns_err_set(ps->err, IOTDNS_ENOMEM, "out of memory loading rules");
	ps->lineno = save;
	if (rs->nrules == rs->cap_rules) {
		uint32_t ncap = rs->cap_rules ? rs->cap_rules * 2 : 256;
		struct iotdns_fp_rule *nr = realloc(rs->rules, ncap * sizeof(*nr));
		if (!nr)
			return iotdns_err_set(ps->err, IOTDNS_ENOMEM, "out of memory loading rules");
		rs->rules = nr;
		rs->cap_rules = ncap;
	}
	rs->rules[rs->nrules++] = *r;
	ps->in_stanza = false;
	return IOTDNS_OK;
}

static int open_stanza(struct parse *ps, char *hdr)
{
	struct iotdns_fp_rules *rs = ps->rs;
	size_t n = strlen(hdr);
	if (hdr[n - 1] != ']')
		return PERR(ps, "stanza header must end with ']'");
	hdr[n - 1] = '\0';
	char *kind = trim(hdr + 1);
	char *id = kind;
	while (*id && *id != ' ' && *id != '\t')
		id++;
	if (*id)
		*id++ = '\0';
	id = trim(id);
	bool shared;
	if (strcmp(kind, "device") == 0)
		shared = false;
	else if (strcmp(kind, "shared") == 0)
		shared = true;
	else
		return PERR(ps, "unknown stanza '[%s ...]': expected [device ID] or [shared ID]", kind);
	if (!valid_id(id))
		return PERR(ps, "invalid rule id '%s' (lower-case letters, digits, '-', '.', '_')", id);
	struct fp_smap_slot *dup = smap_slot(&rs->ids, id, false);
	if (dup) {
		const struct iotdns_fp_rule *o = &rs->rules[rs->chain[dup->head].line];
		return PERR(ps, "duplicate rule id '%s' (first defined at %s:%u)", id, o->file, o->lineno);
	}
	memset(&ps->cur, 0, sizeof(ps->cur));
	ps->cur.id = arena_strdup(rs, id);
	ps->cur.file = rs->cur_file;
	ps->cur.lineno = ps->lineno;
	ps->cur.shared = shared;
	ps->cur.need = 1;
	ps->cur.first_line = rs->nlines;
	ps->has_rev = ps->has_kind = ps->has_need = false;
	ps->sources[0] = ps->brands[0] = '\0';
	if (!ps->cur.id || smap_add(rs, &rs->ids, ps->cur.id, rs->nrules) != IOTDNS_OK)
		return iotdns_err_set(ps->err, IOTDNS_ENOMEM, "out of memory loading rules");
	ps->in_stanza = true;
	return IOTDNS_OK;
}

static int parse_uint(const char *s, uint32_t *out, uint32_t min, uint32_t max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || *s == '-' || *s == '+')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_line(struct parse *ps, char *line)
{
	struct iotdns_fp_rules *rs = ps->rs;
	/* comments: '#' at the start; ';' or '#' after whitespace */
	for (char *p = line; *p; p++) {
		if ((*p == ';' || *p == '#') && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	line = trim(line);
	if (!*line)
		return IOTDNS_OK;
	if (*line == '[') {
		int rc = close_stanza(ps);
		return rc ? rc : open_stanza(ps, line);
	}
	char *eq = strchr(line, '=');
	if (!eq)
		return PERR(ps, "expected KEY = VALUE or a [device ID] header");
	*eq = '\0';
	char *key = trim(line);
	char *val = trim(eq + 1);
	if (!ps->in_stanza)
		return PERR(ps, "'%s' outside a [device ...] or [shared ...] stanza", key);
	struct iotdns_fp_rule *r = &ps->cur;
	if (strcmp(key, "rev") == 0) {
		if (ps->has_rev)
			return PERR(ps, "rev given twice");
		if (parse_uint(val, &r->rev, 1, 1000000))
			return PERR(ps, "rev must be a positive integer, got '%s'", val);
		ps->has_rev = true;
	} else if (strcmp(key, "source") == 0) {
		if (!*val)
			return PERR(ps, "empty source");
		return append_joined(ps, ps->sources, sizeof(ps->sources), "; ", val, "source");
	} else if (r->shared) {
		if (strcmp(key, "about") == 0) {
			if (!*val)
				return PERR(ps, "empty about");
			if (!(r->about = arena_strdup(rs, val)))
				return iotdns_err_set(ps->err, IOTDNS_ENOMEM, "out of memory loading rules");
		} else if (strcmp(key, "qname") == 0 || strcmp(key, "domain") == 0) {
			return parse_evidence(ps, key, val);
		} else if (strcmp(key, "category") == 0 || strcmp(key, "vendor") == 0 ||
			   strcmp(key, "product") == 0 || strcmp(key, "kind") == 0 || strcmp(key, "need") == 0 ||
			   strcmp(key, "brand") == 0) {
			return PERR(ps, "'%s' is not allowed in a [shared] stanza: shared infrastructure names no vendor",
				    key);
		} else {
			return PERR(ps, "unknown key '%s'", key);
		}
	} else if (strcmp(key, "category") == 0) {
		if (r->category)
			return PERR(ps, "category given twice");
		lower(val);
		if (!iotdns_fp_category_valid(val))
			return PERR(ps, "unknown category '%s' (see docs/rules.md for the vocabulary)", val);
		r->category = intern(rs, val);
	} else if (strcmp(key, "vendor") == 0) {
		if (r->vendor || r->vendor_from_oui)
			return PERR(ps, "vendor given twice");
		if (!*val)
			return PERR(ps, "empty vendor");
		if (strcmp(val, "@oui") == 0)
			r->vendor_from_oui = true;
		else if (val[0] == '@')
			return PERR(ps, "unknown vendor reference '%s' (only @oui)", val);
		r->vendor = intern(rs, val);
	} else if (strcmp(key, "product") == 0 || strcmp(key, "model") == 0) {
		if (r->product)
			return PERR(ps, "product given twice");
		if (!*val)
			return PERR(ps, "empty product");
		r->product = arena_strdup(rs, val);
	} else if (strcmp(key, "kind") == 0) {
		if (ps->has_kind)
			return PERR(ps, "kind given twice");
		if (strcmp(val, "specific") == 0)
			r->generic = false;
		else if (strcmp(val, "generic") == 0)
			r->generic = true;
		else
			return PERR(ps, "kind must be 'specific' or 'generic', got '%s'", val);
		ps->has_kind = true;
	} else if (strcmp(key, "need") == 0) {
		if (ps->has_need)
			return PERR(ps, "need given twice");
		if (parse_uint(val, &r->need, 1, 16))
			return PERR(ps, "need must be an integer from 1 to 16, got '%s'", val);
		ps->has_need = true;
	} else if (strcmp(key, "brand") == 0) {
		if (!*val)
			return PERR(ps, "empty brand");
		return append_joined(ps, ps->brands, sizeof(ps->brands), ", ", val, "brand");
	} else if (strcmp(key, "about") == 0) {
		return PERR(ps, "'about' belongs to [shared] stanzas; use a comment");
	} else {
		return parse_evidence(ps, key, val);
	}
	if ((strcmp(key, "category") == 0 && !r->category) || (strcmp(key, "vendor") == 0 && !r->vendor) ||
	    (strcmp(key, "product") == 0 && !r->product))
		return iotdns_err_set(ps->err, IOTDNS_ENOMEM, "out of memory loading rules");
	return IOTDNS_OK;
}

int iotdns_fp_rules_add_text(struct iotdns_fp_rules *rs, const char *file, const char *text, size_t len,
			     struct iotdns_err *err)
{
	if (rs->finished || rs->failed)
		return iotdns_err_set(err, IOTDNS_EINVAL, "%s: rule set is already %s", file,
				      rs->failed ? "invalid" : "finished");
	struct parse ps = { .rs = rs, .file = file, .err = err };
	rs->cur_file = arena_strdup(rs, file);
	if (!rs->cur_file)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory loading rules");
	ps.file = rs->cur_file;
	rs->nfiles++;
	char line[RULES_MAX_LINE + 2];
	size_t pos = 0;
	int rc = IOTDNS_OK;
	while (pos < len && rc == IOTDNS_OK) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		ps.lineno++;
		size_t n = end - pos;
		if (n > RULES_MAX_LINE) {
			rc = PERR(&ps, "line longer than %d bytes", RULES_MAX_LINE);
			break;
		}
		if (memchr(text + pos, '\0', n)) {
			rc = PERR(&ps, "NUL byte in a rules file");
			break;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t' && line[i] != '\r') {
				rc = PERR(&ps, "control character 0x%02x in a rules file", (unsigned char)line[i]);
				break;
			}
		if (rc == IOTDNS_OK)
			rc = parse_line(&ps, line);
		pos = end + 1;
	}
	if (rc == IOTDNS_OK) {
		ps.lineno++;
		rc = close_stanza(&ps);
	}
	if (rc != IOTDNS_OK)
		rs->failed = true;
	return rc;
}

int iotdns_fp_rules_add_file(struct iotdns_fp_rules *rs, const char *path, struct iotdns_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return iotdns_err_set(err, errno == ENOENT ? IOTDNS_ENOENT : IOTDNS_EIO, "%s: %s", path,
				      strerror(errno));
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = IOTDNS_OK;
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			char *nb = realloc(buf, cap);
			if (!nb) {
				rc = iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", path);
				break;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len > RULES_MAX_FILE) {
			rc = iotdns_err_set(err, IOTDNS_ERULE, "%s: larger than %u bytes", path, RULES_MAX_FILE);
			break;
		}
		if (got == 0) {
			if (ferror(f))
				rc = iotdns_err_set(err, IOTDNS_EIO, "%s: read error", path);
			break;
		}
	}
	fclose(f);
	if (rc == IOTDNS_OK)
		rc = iotdns_fp_rules_add_text(rs, path, buf ? buf : "", len, err);
	free(buf);
	if (rc != IOTDNS_OK)
		rs->failed = true;
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int iotdns_fp_rules_add_dir(struct iotdns_fp_rules *rs, const char *dir, struct iotdns_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return iotdns_err_set(err, errno == ENOENT ? IOTDNS_ENOENT : IOTDNS_EIO, "%s: %s", dir,
				      strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = IOTDNS_OK;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 7 || strcmp(de->d_name + len - 6, ".rules") != 0 || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				rc = iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (rc == IOTDNS_OK && n == 0)
		rc = iotdns_err_set(err, IOTDNS_ERULE, "%s: no *.rules files", dir);
	if (rc == IOTDNS_OK)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && rc == IOTDNS_OK; i++) {
		char path[4096];
		size_t dl = strlen(dir);
		snprintf(path, sizeof(path), "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", names[i]);
		rc = iotdns_fp_rules_add_file(rs, path, err);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc != IOTDNS_OK)
		rs->failed = true;
	return rc;
}

/* ---- index ------------------------------------------------------------------- */

static void bloom_set(struct iotdns_fp_rules *rs, uint64_t h)
{
	uint32_t a = (uint32_t)h & 0xffff, b = (uint32_t)(h >> 16) & 0xffff;
	rs->bloom[a >> 6] |= 1ull << (a & 63);
	rs->bloom[b >> 6] |= 1ull << (b & 63);
}

static bool bloom_maybe(const struct iotdns_fp_rules *rs, uint64_t h)
{
	uint32_t a = (uint32_t)h & 0xffff, b = (uint32_t)(h >> 16) & 0xffff;
	return (rs->bloom[a >> 6] >> (a & 63) & 1) && (rs->bloom[b >> 6] >> (b & 63) & 1);
}

static int cmp_oui(const void *a, const void *b)
{
	const struct fp_oui_ent *x = a, *y = b;
	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int glob_list_add(struct fp_list *l, uint32_t v)
{
	if (l->n == l->cap) {
		uint32_t ncap = l->cap ? l->cap * 2 : 64;
		uint32_t *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return IOTDNS_ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = v;
	return IOTDNS_OK;
}

int iotdns_fp_rules_finish(struct iotdns_fp_rules *rs, struct iotdns_err *err)
{
	if (rs->failed)
		return iotdns_err_set(err, IOTDNS_ERULE, "rule set failed to load");
	if (rs->finished)
		return IOTDNS_OK;
	int rc = IOTDNS_OK;
	uint32_t noui = 0;
	for (uint32_t i = 0; i < rs->nlines; i++)
		noui += rs->lines[i].key == IOTDNS_FP_OUI;
	rs->oui = noui ? calloc(noui, sizeof(*rs->oui)) : NULL;
	if (noui && !rs->oui)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory indexing rules");
	for (uint32_t i = 0; i < rs->nlines && rc == IOTDNS_OK; i++) {
		const struct iotdns_fp_line *l = &rs->lines[i];
		const struct iotdns_fp_rule *r = &rs->rules[l->rule];
		switch (l->key) {
		case IOTDNS_FP_QNAME: rc = smap_add(rs, &rs->exact, l->pattern, i); break;
		case IOTDNS_FP_WILDCARD: rc = smap_add(rs, &rs->wild, l->pattern, i); break;
		case IOTDNS_FP_DOMAIN: rc = smap_add(rs, &rs->domain, l->pattern, i); break;
		case IOTDNS_FP_MDNS_SERVICE: rc = smap_add(rs, &rs->service, l->pattern, i); break;
		case IOTDNS_FP_DHCP_PRL: rc = glob_list_add(&rs->glob[l->key], i); break;
		case IOTDNS_FP_OUI: {
			unsigned a, b, c;
			sscanf(l->pattern, "%2x:%2x:%2x", &a, &b, &c);
			rs->oui[rs->noui].prefix = (a << 16) | (b << 8) | c;
			rs->oui[rs->noui].line = i;
			rs->noui++;
			break;
		}
		default: rc = glob_list_add(&rs->glob[l->key], i); break;
		}
		(void)r;
	}
	if (rc != IOTDNS_OK)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory indexing rules");
	if (rs->noui)
		qsort(rs->oui, rs->noui, sizeof(*rs->oui), cmp_oui);
	/* the Bloom filter in front of the three name maps */
	const struct fp_smap *nm[3] = { &rs->exact, &rs->wild, &rs->domain };
	for (unsigned m = 0; m < 3; m++)
		for (uint32_t i = 0; i < nm[m]->cap; i++)
			if (nm[m]->slots[i].key)
				bloom_set(rs, nm[m]->slots[i].hash);

	/* a DNS pattern both shared and a vendor's is a contradiction in the data */
	const struct fp_smap *maps[3] = { &rs->exact, &rs->wild, &rs->domain };
	for (unsigned m = 0; m < 3; m++) {
		for (uint32_t s = 0; s < maps[m]->cap; s++) {
			const struct fp_smap_slot *sl = &maps[m]->slots[s];
			if (!sl->key)
				continue;
			const struct iotdns_fp_line *shared = NULL, *vendor = NULL;
			for (uint32_t e = sl->head; e != FP_NONE; e = rs->chain[e].next) {
				const struct iotdns_fp_line *l = &rs->lines[rs->chain[e].line];
				if (rs->rules[l->rule].shared)
					shared = shared ? shared : l;
				else
					vendor = vendor ? vendor : l;
			}
			if (shared && vendor) {
				const struct iotdns_fp_rule *vr = &rs->rules[vendor->rule];
				const struct iotdns_fp_rule *sr = &rs->rules[shared->rule];
				rs->failed = true;
				return iotdns_err_set(err, IOTDNS_ERULE,
						      "%s:%u: '%s' is also listed as shared infrastructure at %s:%u; "
						      "a pattern is either a vendor's or shared",
						      vr->file, vendor->lineno, vendor->pattern, sr->file, shared->lineno);
			}
		}
	}
	rs->finished = true;
	return IOTDNS_OK;
}

/* ---- set-up and look-ups ----------------------------------------------------------- */

int iotdns_fp_rules_new(struct iotdns_fp_rules **out, struct iotdns_err *err)
{
	struct iotdns_fp_rules *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
	struct stat st;
	if (stat(RULES_PSL_FILE, &st) == 0) {
		rs->psl = psl_latest(RULES_PSL_FILE);
		rs->psl_owned = rs->psl != NULL;
	}
	if (!rs->psl) {
		rs->psl = (psl_ctx_t *)psl_builtin();
		rs->psl_owned = false;
	}
	if (!rs->psl) {
		free(rs);
		return iotdns_err_set(err, IOTDNS_EIO,
				      "no public suffix list: install Debian's publicsuffix package (%s)", RULES_PSL_FILE);
	}
	*out = rs;
	return IOTDNS_OK;
}

void iotdns_fp_rules_free(struct iotdns_fp_rules *rs)
{
	if (!rs)
		return;
	if (rs->psl_owned)
		psl_free(rs->psl);
	struct arena_chunk *c = rs->arena;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(rs->rules);
	free(rs->lines);
	free(rs->chain);
	free(rs->exact.slots);
	free(rs->wild.slots);
	free(rs->domain.slots);
	free(rs->service.slots);
	free(rs->ids.slots);
	free(rs->interned.slots);
	free(rs->oui);
	for (unsigned i = 0; i < IOTDNS_FP_KEY_COUNT; i++)
		free(rs->glob[i].v);
	free(rs);
}

int iotdns_fp_rules_load_dir(struct iotdns_fp_rules **out, const char *dir, struct iotdns_err *err)
{
	struct iotdns_fp_rules *rs = NULL;
	int rc = iotdns_fp_rules_new(&rs, err);
	if (rc == IOTDNS_OK)
		rc = iotdns_fp_rules_add_dir(rs, dir, err);
	if (rc == IOTDNS_OK)
		rc = iotdns_fp_rules_finish(rs, err);
	if (rc != IOTDNS_OK) {
		iotdns_fp_rules_free(rs);
		return rc;
	}
	*out = rs;
	return IOTDNS_OK;
}

const char *iotdns_fp_rules_default_dir(void)
{
	static char installed[4096];
	struct stat st;
	const char *src = IOTDNS_SOURCE_ROOT "/rules/fingerprints";
	if (stat(src, &st) == 0 && S_ISDIR(st.st_mode))
		return src;
	/* <datadir>/iotdns/fingerprints, next to the installed resolver database */
	snprintf(installed, sizeof(installed), "%s", IOTDNS_INSTALLED_RESOLVER_DB);
	char *slash = strrchr(installed, '/');
	if (slash)
		snprintf(slash + 1, sizeof(installed) - (size_t)(slash + 1 - installed), "fingerprints");
	return installed;
}

uint32_t iotdns_fp_rules_count(const struct iotdns_fp_rules *rs)
{
	return rs->nrules;
}

const struct iotdns_fp_rule *iotdns_fp_rules_at(const struct iotdns_fp_rules *rs, uint32_t idx)
{
	return idx < rs->nrules ? &rs->rules[idx] : NULL;
}

const struct iotdns_fp_line *iotdns_fp_rules_line(const struct iotdns_fp_rules *rs, uint32_t idx)
{
	return idx < rs->nlines ? &rs->lines[idx] : NULL;
}

const struct iotdns_fp_rule *iotdns_fp_rules_find(const struct iotdns_fp_rules *rs, const char *id)
{
	const struct fp_smap_slot *s = iotdns_fp_smap_get(&rs->ids, id, str_hash(id));
	return s ? &rs->rules[rs->chain[s->head].line] : NULL;
}

void iotdns_fp_rules_stats(const struct iotdns_fp_rules *rs, struct iotdns_fp_rules_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->files = rs->nfiles;
	st->rules = rs->nrules;
	st->lines = rs->nlines;
	/* distinct vendors and categories (interned pointers; few hundred: quadratic is fine) */
	const char **seen_v = calloc(rs->nrules + 1, sizeof(*seen_v));
	const char **seen_c = calloc(rs->nrules + 1, sizeof(*seen_c));
	for (uint32_t i = 0; i < rs->nrules; i++) {
		const struct iotdns_fp_rule *r = &rs->rules[i];
		if (r->shared) {
			st->shared++;
			continue;
		}
		if (r->generic)
			st->generic++;
		else
			st->products++;
		if (seen_v && !r->vendor_from_oui) {
			bool dup = false;
			for (uint32_t j = 0; j < st->vendors && !dup; j++)
				dup = seen_v[j] == r->vendor;
			if (!dup)
				seen_v[st->vendors++] = r->vendor;
		}
		if (seen_c && strcmp(r->category, "unknown") != 0) {
			bool dup = false;
			for (uint32_t j = 0; j < st->categories && !dup; j++)
				dup = seen_c[j] == r->category;
			if (!dup)
				seen_c[st->categories++] = r->category;
		}
	}
	free(seen_v);
	free(seen_c);
}

/* Collects the chain of slot into out[] (vendor lines only); *shared when a
 * shared line is in it. */
static unsigned take_chain(const struct iotdns_fp_rules *rs, const struct fp_smap_slot *s, uint32_t *out,
			   unsigned n, unsigned max, bool *has_shared, bool *has_vendor)
{
	for (uint32_t e = s->head; e != FP_NONE; e = rs->chain[e].next) {
		uint32_t li = rs->chain[e].line;
		if (rs->rules[rs->lines[li].rule].shared) {
			*has_shared = true;
			continue;
		}
		*has_vendor = true;
		if (n < max)
			out[n++] = li;
	}
	return n;
}

unsigned iotdns_fp_match_name(const struct iotdns_fp_rules *rs, const char *name, uint32_t *out, unsigned max,
			      bool *shared)
{
	unsigned n = 0;
	bool decided = false; /* the most specific level has been seen */
	*shared = false;
	if (!rs->finished || !name || !*name)
		return 0;
	/* one right-to-left pass: the hash of the suffix starting at each label */
	enum { MAXL = 128 };
	uint32_t start[MAXL];
	uint64_t hash[MAXL];
	unsigned nl = 0;
	size_t len = strlen(name);
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = len; i > 0; i--) {
		h ^= (unsigned char)name[i - 1];
		h *= 0x100000001b3ull;
		if (i - 1 == 0 || name[i - 2] == '.') {
			if (nl == MAXL)
				break;
			start[nl] = (uint32_t)(i - 1);
			hash[nl] = h;
			nl++;
		}
	}
	/* from the whole name (last in the arrays) down to two labels: level 0
	 * is the exact name, then the name as a domain; then each parent suffix
	 * as wildcard and domain */
	if (nl < 2)
		return 0;
	for (unsigned k = nl; k-- > 1;) {
		if (!bloom_maybe(rs, hash[k]))
			continue; /* no name key has this hash */
		const char *s = name + start[k];
		bool whole = k == nl - 1 && start[k] == 0;
		for (unsigned which = 0; which < 2; which++) {
			bool hs = false, hv = false;
			const struct fp_smap_slot *slot;
			if (whole)
				slot = iotdns_fp_smap_get(which == 0 ? &rs->exact : &rs->domain, s, hash[k]);
			else if (which == 0)
				slot = iotdns_fp_smap_get(&rs->wild, s, hash[k]);
			else
				slot = iotdns_fp_smap_get(&rs->domain, s, hash[k]);
			if (!slot)
				continue;
			n = take_chain(rs, slot, out, n, max, &hs, &hv);
			if (!decided) {
				decided = true;
				if (hs) {
					/* shared infrastructure is the most specific: nothing hits */
					*shared = true;
					return 0;
				}
			}
		}
	}
	return n;
}

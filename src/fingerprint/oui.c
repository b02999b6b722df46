/* iotdns - the IEEE MAC address registry (Debian's ieee-data package):
 * organization names by OUI (include/iotdns/fingerprint.h).
 *
 * Read once at start-up into three sorted arrays (MA-L 24-bit, MA-M 28-bit,
 * MA-S 36-bit prefixes) over one string pool; a look-up is a binary search
 * per registry, longest prefix first (an MA-M/MA-S block sits inside an MA-L
 * block registered to "IEEE Registration Authority").
 *
 * Locally administered MACs (bit 0x02 of the first byte: randomized by
 * phones and laptops, or set by software) and multicast MACs are never
 * looked up: their first bytes name nobody.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/fingerprint.h"

#define OUI_DEFAULT_DIR "/usr/share/ieee-data"
#define OUI_MAX_FILE (64u << 20)

enum { REG_L, REG_M, REG_S, REG_COUNT };
static const unsigned reg_bits[REG_COUNT] = { 24, 28, 36 };

struct oui_ent {
	uint64_t prefix;
	uint32_t name;                /* offset into pool */
};

struct oui_reg {
	uint32_t n, cap;
	struct oui_ent *v;
};

struct iotdns_oui {
	struct oui_reg reg[REG_COUNT];
	char *pool;                   /* NUL-terminated names */
	size_t pool_len, pool_cap;
};

static int pool_add(struct iotdns_oui *o, const char *s, size_t n, uint32_t *off)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (o->pool_len + n + 1 > o->pool_cap) {
		size_t ncap = o->pool_cap ? o->pool_cap * 2 : 1u << 20;
		while (ncap < o->pool_len + n + 1)
			ncap *= 2;
		char *np = realloc(o->pool, ncap);
		if (!np)
			return IOTDNS_ENOMEM;
		o->pool = np;
		o->pool_cap = ncap;
	}
	if (o->pool_len > UINT32_MAX - n - 1)
		return IOTDNS_ENOMEM;
	*off = (uint32_t)o->pool_len;
	memcpy(o->pool + o->pool_len, s, n);
	o->pool[o->pool_len + n] = '\0';
	o->pool_len += n + 1;
	return IOTDNS_OK;
}

static int reg_add(struct oui_reg *r, uint64_t prefix, uint32_t name)
{
	if (r->n == r->cap) {
		uint32_t ncap = r->cap ? r->cap * 2 : 4096;
		struct oui_ent *nv = realloc(r->v, ncap * sizeof(*nv));
		if (!nv)
			return IOTDNS_ENOMEM;
		r->v = nv;
		r->cap = ncap;
	}
	r->v[r->n].prefix = prefix;
	r->v[r->n].name = name;
	r->n++;
	return IOTDNS_OK;
}

static int cmp_ent(const void *a, const void *b)
{
	const struct oui_ent *x = a, *y = b;
	return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? IOTDNS_ENOENT : IOTDNS_EIO;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = IOTDNS_OK;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 1u << 20;
			char *nb = realloc(buf, cap);
			if (!nb) {
				rc = IOTDNS_ENOMEM;
				break;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n > OUI_MAX_FILE) {
			rc = IOTDNS_EIO;
			break;
		}
		if (!got) {
			if (ferror(f))
				rc = IOTDNS_EIO;
			break;
		}
	}
	fclose(f);
	if (rc != IOTDNS_OK) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return IOTDNS_OK;
}

/* One CSV field starting at *p (quotes with "" escapes); the unquoted text
 * goes to field (truncated to size). Leaves *p after the separator. */
static void csv_field(const char **p, const char *end, char *field, size_t size)
{
	const char *s = *p;
	size_t n = 0;
	if (s < end && *s == '"') {
		s++;
		while (s < end) {
			if (*s == '"') {
				if (s + 1 < end && s[1] == '"') {
					if (n + 1 < size)
						field[n++] = '"';
					s += 2;
					continue;
				}
				s++;
				break;
			}
			if (*s == '\n')
				break;
			if (n + 1 < size)
				field[n++] = *s;
			s++;
		}
		while (s < end && *s != ',' && *s != '\n')
			s++;
	} else {
		while (s < end && *s != ',' && *s != '\n') {
			if (n + 1 < size)
				field[n++] = *s;
			s++;
		}
	}
	if (s < end && *s == ',')
		s++;
	field[n] = '\0';
	*p = s;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "0017AB" -> prefix of len*4 bits; -1 when not hex of the expected length */
static int parse_hex(const char *s, unsigned digits, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < digits; i++) {
		int h = hexval((unsigned char)s[i]);
		if (h < 0)
			return -1;
		v = (v << 4) | (uint64_t)h;
	}
	if (s[digits] && !isspace((unsigned char)s[digits]))
		return -1;
	*out = v;
	return 0;
}

/* Registry CSV: "Registry,Assignment,Organization Name,Organization Address". */
static int load_csv(struct iotdns_oui *o, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	char reg[16], assign[32], org[512], addr[16];
	bool header = true;
	while (p < end) {
		csv_field(&p, end, reg, sizeof(reg));
		csv_field(&p, end, assign, sizeof(assign));
		csv_field(&p, end, org, sizeof(org));
		/* the address may hold commas inside quotes: consume to the end of line */
		while (p < end && *p != '\n')
			csv_field(&p, end, addr, sizeof(addr));
		if (p < end)
			p++;
		if (header) {
			header = false;
			if (strcmp(reg, "Registry") == 0)
				continue;
		}
		int r;
		if (strcmp(reg, "MA-L") == 0)
			r = REG_L;
		else if (strcmp(reg, "MA-M") == 0)
			r = REG_M;
		else if (strcmp(reg, "MA-S") == 0)
			r = REG_S;
		else
			continue;
		uint64_t prefix;
		if (strlen(assign) != reg_bits[r] / 4 || parse_hex(assign, reg_bits[r] / 4, &prefix))
			continue;
		uint32_t off;
		if (pool_add(o, org, strlen(org), &off) || reg_add(&o->reg[r], prefix, off))
			return IOTDNS_ENOMEM;
	}
	return IOTDNS_OK;
}

/* oui.txt: "00-17-88   (hex)\t\tPhilips Lighting BV" lines (MA-L). */
static int load_txt(struct iotdns_oui *o, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *hex = strstr(p, "(hex)");
		if (hex && hex < eol && eol - p > 8 && p[2] == '-' && p[5] == '-') {
			char digits[7] = { p[0], p[1], p[3], p[4], p[6], p[7], 0 };
			uint64_t prefix;
			if (parse_hex(digits, 6, &prefix) == 0) {
				const char *name = hex + 5;
				uint32_t off;
				if (pool_add(o, name, (size_t)(eol - name), &off) || reg_add(&o->reg[REG_L], prefix, off))
					return IOTDNS_ENOMEM;
			}
		}
		p = eol + 1;
	}
	return IOTDNS_OK;
}

static int load_one(struct iotdns_oui *o, const char *dir, const char *file, bool csv, bool *found,
		    struct iotdns_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len);
	if (rc == IOTDNS_ENOENT) {
		*found = false;
		return IOTDNS_OK;
	}
	if (rc != IOTDNS_OK)
		return iotdns_err_set(err, rc, "%s: cannot read the OUI registry (%s)", path, iotdns_strerror(rc));
	*found = true;
	rc = csv ? load_csv(o, text, len) : load_txt(o, text, len);
	free(text);
	if (rc != IOTDNS_OK)
		return iotdns_err_set(err, rc, "%s: out of memory", path);
	return IOTDNS_OK;
}

int iotdns_oui_load(struct iotdns_oui **out, const char *dir, struct iotdns_err *err)
{
	struct iotdns_oui *o = calloc(1, sizeof(*o));
	if (!o)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
	if (!dir)
		dir = OUI_DEFAULT_DIR;
	bool found = false;
	int rc = load_one(o, dir, "oui.csv", true, &found, err);
	if (rc == IOTDNS_OK && !found)
		rc = load_one(o, dir, "oui.txt", false, &found, err);
	if (rc == IOTDNS_OK && !found)
		rc = iotdns_err_set(err, IOTDNS_ENOENT,
				    "%s: no oui.csv or oui.txt (install Debian's ieee-data package)", dir);
	bool extra;
	if (rc == IOTDNS_OK)
		rc = load_one(o, dir, "mam.csv", true, &extra, err);
	if (rc == IOTDNS_OK)
		rc = load_one(o, dir, "oui36.csv", true, &extra, err);
	if (rc != IOTDNS_OK) {
		iotdns_oui_free(o);
		return rc;
	}
	for (int r = 0; r < REG_COUNT; r++)
		if (o->reg[r].n)
			qsort(o->reg[r].v, o->reg[r].n, sizeof(struct oui_ent), cmp_ent);
	*out = o;
	return IOTDNS_OK;
}

void iotdns_oui_free(struct iotdns_oui *o)
{
	if (!o)
		return;
	for (int r = 0; r < REG_COUNT; r++)
		free(o->reg[r].v);
	free(o->pool);
	free(o);
}

uint32_t iotdns_oui_count(const struct iotdns_oui *o)
{
	return o ? o->reg[REG_L].n + o->reg[REG_M].n + o->reg[REG_S].n : 0;
}

static const struct oui_ent *find(const struct oui_reg *r, uint64_t prefix)
{
	uint32_t lo = 0, hi = r->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (r->v[mid].prefix < prefix)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->n && r->v[lo].prefix == prefix ? &r->v[lo] : NULL;
}

const char *iotdns_oui_lookup(const struct iotdns_oui *o, const uint8_t mac[6])
{
	if (!o || iotdns_mac_is_local(mac) || (mac[0] & 0x01))
		return NULL;
	uint64_t m48 = 0;
	for (int i = 0; i < 6; i++)
		m48 = (m48 << 8) | mac[i];
	for (int r = REG_S; r >= REG_L; r--) {
		const struct oui_ent *e = find(&o->reg[r], m48 >> (48 - reg_bits[r]));
		if (e)
			return o->pool + e->name;
	}
	return NULL;
}

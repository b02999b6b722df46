/* iotdns - the identifier-leak check (docs/checks/identifier-leak.md).
 *
 * Looks at the names a device asks unicast DNS for (draft D16, D17):
 *   - its OWN identifiers inside a query name: its MAC address (12 hex digits
 *     with any of ':' '-' '.' '_' or no separator, Cisco "aabb.ccdd.eeff",
 *     any case; or its last six hex digits when they stand alone as a label or
 *     a '-'/'_'-delimited part of one), its IP addresses (dotted, dashed,
 *     reversed), its DHCP host names (option 12, DHCPv6 FQDN first label);
 *   - local-scope names (single-label, .local, .lan, home.arpa, ..., reverse
 *     zones of private prefixes, and the PTR of its own address) sent to a
 *     resolver that is not on the local network;
 *   - DNS-SD browse-domain queries (b/db/r/dr/lb._dns-sd._udp.<domain>,
 *     _services._dns-sd._udp.<domain>) whose domain is such a local name,
 *     e.g. lb._dns-sd._udp.0.1.168.192.in-addr.arpa: the LAN prefix.
 * Only the device's own identifiers count: a server or instance name
 * (ec2-54-1-2-3.compute-1.amazonaws.com, conn-i-0c99f6dd....sonos.com) never
 * matches unless it spells this device's MAC, address or host name.
 * Local-scope names asked of a local resolver are normal (the resolver is
 * expected to answer them itself, RFC 6303/6761/6762/8375) and not flagged.
 *
 * Hot path: one look-up per query in a small cache of verdicts per name
 * (32 entries); a name is examined only when it is not cached. The record of
 * leaks (counts, example names, evidence) is allocated for the few devices
 * that leak and freed in dev_free.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/checker.h"
#include "iotdns/finding.h"

enum {
	OPT_MIN_QUERIES,
	OPT_MIN_HOSTNAME_LEN,
	OPT_MAC_SUFFIX,
	OPT_LOCAL_RESOLVER,
};

static const struct iotdns_opt opts[] = {
	{ "min-queries", 10, 1, 1e9, "unicast queries (retransmissions excluded) needed for a pass" },
	{ "min-hostname-len", 5, 1, 63, "shortest DHCP host name searched for in query names, characters" },
	{ "mac-suffix", 1, 0, 1, "1: also match the MAC's last six hex digits as a delimited token; 0: full MAC only" },
	{ "local-resolver-leaks", 0, 0, 1,
	  "1: also report local-scope names asked of local resolvers; 0: that is normal (RFC 6303/6762/8375)" },
	{ NULL, 0, 0, 0, NULL },
};

static const struct iotdns_finding_kind kinds[] = {
	{ "PRIVACY.MAC_IN_QUERY", IOTDNS_SEV_MEDIUM, "Device MAC address inside DNS query names",
	  "The device spells its own hardware address in the names it looks up. The name travels in clear text "
	  "to the resolver and on to the authoritative servers, which can then recognise this one device across "
	  "networks and over time; a MAC does not change when the owner moves, resets or re-registers it.",
	  "Use a random per-installation or per-session identifier in names, or move identification into the "
	  "encrypted application protocol; never put hardware identifiers in DNS.",
	  "draft-ietf-iotops-iot-dns-guidelines (identifiers, fingerprinting); RFC 7626 §2.4; RFC 9076" },
	{ "PRIVACY.IP_IN_QUERY", IOTDNS_SEV_LOW, "Device IP address inside DNS query names",
	  "The device puts its own address into query names (or asks a non-local resolver for the reverse name "
	  "of its own address). The resolver, and the servers it asks, learn the internal address plan and can "
	  "link the queries to this device.",
	  "Do not embed addresses in names; send reverse lookups of local addresses only to the local resolver.",
	  "RFC 6303; RFC 7626; draft-ietf-iotops-iot-dns-guidelines (local names)" },
	{ "PRIVACY.HOSTNAME_IN_QUERY", IOTDNS_SEV_LOW, "Device host name inside DNS query names",
	  "The host name the device gave in DHCP (often the model and part of the MAC, sometimes the owner's "
	  "name) appears in the names it looks up, so the resolver and authoritative servers learn it and can "
	  "track the device.",
	  "Keep the host name out of DNS queries to outside resolvers; use an opaque, rotating identifier if the "
	  "cloud service needs one.",
	  "RFC 7626; RFC 7844; draft-ietf-iotops-iot-dns-guidelines (identifiers)" },
	{ "PRIVACY.LOCAL_NAME_LEAK", IOTDNS_SEV_LOW, "Local-only names sent to a non-local resolver",
	  "Names that only mean something on the local network (.local, single-label names such as wpad or "
	  "printer, home.arpa, reverse names of private addresses) were sent to a resolver outside it. They "
	  "reveal local host and network names, and single-label or .local names can be answered by anyone who "
	  "registers a colliding public name.",
	  "Resolve .local with mDNS (RFC 6762), send local and private-reverse names only to the local resolver "
	  "(RFC 6303, RFC 8375), and do not fall back to public resolvers for them.",
	  "RFC 6762 §3, §22; RFC 6303; RFC 8375; RFC 6761; draft-ietf-iotops-iot-dns-guidelines (local names)" },
	{ "PRIVACY.DNSSD_LEAK", IOTDNS_SEV_INFO, "DNS-SD browse queries reveal the local network to an outside resolver",
	  "The device looks for DNS-SD browse domains (RFC 6763 §11) under a local name or the reverse zone of its "
	  "private prefix, and sends those questions to a resolver outside the network: it learns the local "
	  "prefix or domain and that the device does service discovery.",
	  "Send DNS-SD browse-domain queries for local and private-reverse domains only to the local resolver; "
	  "use mDNS on the link.",
	  "RFC 6763 §11; RFC 6303; draft-ietf-iotops-iot-dns-guidelines (mDNS and local names)" },
	{ NULL, 0, NULL, NULL, NULL, NULL },
};

enum il_code {
	IL_MAC = 0,
	IL_IP,
	IL_HOST,
	IL_LOCAL,
	IL_DNSSD,
	IL_NCODES,
};
static const char *const code_name[IL_NCODES] = {
	"PRIVACY.MAC_IN_QUERY", "PRIVACY.IP_IN_QUERY", "PRIVACY.HOSTNAME_IN_QUERY", "PRIVACY.LOCAL_NAME_LEAK",
	"PRIVACY.DNSSD_LEAK",
};

/* verdict bits of one name (as sent to a local or a non-local resolver) */
enum {
	V_MAC = 1u << IL_MAC,
	V_IP = 1u << IL_IP,
	V_HOST = 1u << IL_HOST,
	V_LOCAL = 1u << IL_LOCAL,
	V_DNSSD = 1u << IL_DNSSD,
	V_LEAKS = (1u << IL_NCODES) - 1,
	V_MAC_FULL = 1u << 5,    /* the 12 hex digits */
	V_MAC_SUFFIX = 1u << 6,  /* the last 6 as a delimited token */
	V_LOCAL_OK = 1u << 7,    /* local-scope name asked of a local resolver: normal */
	V_PROBE = 1u << 8,       /* a local TLD itself ("local" SOA): carries nothing */
	V_DNSSD_PUBLIC = 1u << 9,/* DNS-SD browse under a public domain: not flagged */
	V_OWN_PTR = 1u << 10,    /* reverse name of its own address */
	V_VALID = 1u << 15,
};

#define IL_NCACHE 32
#define IL_NHASH 16     /* distinct names counted per code */
#define IL_NEXAMPLES 3
#define IL_EXAMPLE_LEN 72
#define IL_NRES 3
#define IL_MAXNAME 320  /* unescaped name: at most 255 wire bytes */
#define IL_NHOSTS 4

struct il_code_rec {
	uint64_t queries;
	uint32_t nnames, names_more;
	uint64_t hashes[IL_NHASH];
	uint8_t nexamples, nev, nres;
	char examples[IL_NEXAMPLES][IL_EXAMPLE_LEN];
	struct iotdns_evidence ev[IOTDNS_MAX_EVIDENCE];
	struct iotdns_addr res[IL_NRES];
	uint64_t res_more;
	uint64_t mac_full, mac_suffix, own_ptr; /* how the identifier was spelled (queries) */
};

struct il_leaks {
	struct il_code_rec c[IL_NCODES];
};

struct il_cache_ent {
	uint64_t key;
	uint16_t verdict;
};

struct il_ids {
	bool has_mac;
	char mac12[13];
	char suffix[5][9];      /* "ab34cd", "ab:34:cd", "ab-34-cd", "ab_34_cd", "ab.34.cd" */
	unsigned nhosts;
	char host[IL_NHOSTS][64];
	bool host_digit[IL_NHOSTS];  /* has a digit: specific enough to search in public names */
};

struct il_state {
	uint64_t queries;          /* unicast, retransmissions excluded */
	uint64_t local_ok, probes, dnssd_public;
	uint32_t gen;              /* identifiers the cache and ids were built with */
	bool have_ids;
	struct il_leaks *leaks;    /* allocated at the first leak */
	struct il_cache_ent cache[IL_NCACHE];
	struct il_ids ids;         /* this device's MAC and host names, as searched (cold) */
};

/* ---- names ------------------------------------------------------------------- */

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Presentation text (lower case, \DDD and \X escapes) to bytes, lower-cased.
 * Label separators stay '.'; an escaped dot inside a label becomes 0x01 so
 * that it delimits tokens without separating labels. Returns the length. */
static size_t unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	if (in[0] == '.' && in[1] == 0)
		return 0; /* the root */
	for (const char *p = in; *p && n + 1 < cap; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\\' && p[1]) {
			if (isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) && isdigit((unsigned char)p[3])) {
				unsigned v = (unsigned)(p[1] - '0') * 100 + (unsigned)(p[2] - '0') * 10 + (unsigned)(p[3] - '0');
				c = (unsigned char)(v & 0xff);
				p += 3;
			} else {
				c = (unsigned char)*++p;
			}
			if (c == '.')
				c = 0x01;
			else if (c == 0)
				c = 0x02;
		}
		out[n++] = (char)tolower(c);
	}
	if (n && out[n - 1] == '.')
		n--; /* absolute name */
	out[n] = 0;
	return n;
}

/* Occurrence of needle in hay[0..n) from offset `from` on whose neighbours
 * are not [0-9a-z] (start, end, '.', '-', '_', ...). Returns the offset or
 * -1. Candidates come from memmem() (glibc's is vectorised): this runs
 * for every new name of every device. */
static long find_delimited(const char *hay, size_t n, const char *needle, size_t m, long from)
{
	if (!m || m > n || (size_t)from > n - m)
		return -1;
	for (const char *p = hay + from, *end = hay + n; (size_t)(end - p) >= m; p++) {
		if (!(p = memmem(p, (size_t)(end - p), needle, m)))
			return -1;
		size_t i = (size_t)(p - hay);
		if (i > 0 && is_alnum((unsigned char)hay[i - 1]))
			continue;
		if (i + m < n && is_alnum((unsigned char)hay[i + m]))
			continue;
		return (long)i;
	}
	return -1;
}

/* Like find_delimited, but only digits count as neighbours (IPv4 text). */
static bool find_number_delimited(const char *hay, size_t n, const char *needle, size_t m)
{
	if (!m || m > n)
		return false;
	for (const char *p = hay, *end = hay + n; (size_t)(end - p) >= m; p++) {
		if (!(p = memmem(p, (size_t)(end - p), needle, m)))
			return false;
		size_t i = (size_t)(p - hay);
		if (i > 0 && isdigit((unsigned char)hay[i - 1]))
			continue;
		if (i + m < n && isdigit((unsigned char)hay[i + m]))
			continue;
		return true;
	}
	return false;
}

/* Offset where the last k labels start. */
static size_t last_labels(const char *s, size_t n, unsigned k)
{
	size_t i = n;
	unsigned seen = 0;
	while (i > 0) {
		if (s[i - 1] == '.' && ++seen == k)
			return i;
		i--;
	}
	return 0;
}

static unsigned count_labels(const char *s, size_t n)
{
	unsigned k = n ? 1 : 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '.';
	return k;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0 && (n == m || s[n - m - 1] == '.');
}

/* Local-only top-level names (RFC 6761/6762/8375 and common private use). */
static const char *const LOCAL_TLDS[] = {
	"local", "localhost", "localdomain", "lan", "home", "internal", "intranet", "corp", "private", "home.arpa",
};

static bool is_local_tld_name(const char *s, size_t n, bool *apex)
{
	for (size_t i = 0; i < IOTDNS_ARRAY_LEN(LOCAL_TLDS); i++) {
		size_t m = strlen(LOCAL_TLDS[i]);
		if (ends_with(s, n, LOCAL_TLDS[i])) {
			*apex = n == m;
			return true;
		}
	}
	return false;
}

/* Numeric label ending at s[end) going backwards: value or -1. */
static int label_num_before(const char *s, size_t *end)
{
	size_t e = *end, b = e;
	while (b > 0 && s[b - 1] != '.')
		b--;
	if (b == e || e - b > 3)
		return -1;
	int v = 0;
	for (size_t i = b; i < e; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*end = b ? b - 1 : 0;
	return v > 255 ? -1 : v;
}

/* Reverse zone (or name in it) of a private, link-local, CGNAT, loopback or
 * ULA prefix. */
static bool is_private_reverse(const char *s, size_t n)
{
	static const char V4[] = "in-addr.arpa", V6[] = "ip6.arpa";
	if (ends_with(s, n, V4) && n > sizeof(V4)) {
		size_t end = n - sizeof(V4); /* before ".in-addr.arpa" */
		int o1 = label_num_before(s, &end);
		int o2 = end ? label_num_before(s, &end) : -1;
		if (o1 == 10 || o1 == 127)
			return true;
		return (o1 == 192 && o2 == 168) || (o1 == 172 && o2 >= 16 && o2 <= 31) || (o1 == 169 && o2 == 254) ||
		       (o1 == 100 && o2 >= 64 && o2 <= 127);
	}
	if (ends_with(s, n, V6) && n >= sizeof(V6) + 4) {
		/* nibbles in reverse: "...x.d.c.f.ip6.arpa" -> f c d x */
		const char *z = s + n - sizeof(V6); /* the '.' before ip6.arpa */
		char n1 = z[-1], n2 = n >= sizeof(V6) + 4 ? z[-3] : 0, n3 = n >= sizeof(V6) + 6 ? z[-5] : 0;
		if (n1 == 'f' && (n2 == 'c' || n2 == 'd'))
			return true;
		return n1 == 'f' && n2 == 'e' && (n3 == '8' || n3 == '9' || n3 == 'a' || n3 == 'b');
	}
	return false;
}

/* DNS-SD browse-domain query: returns the offset of <domain> or -1. */
static long dnssd_domain(const char *s, size_t n)
{
	static const char *const PFX[] = { "b._dns-sd._udp.", "db._dns-sd._udp.", "r._dns-sd._udp.",
					   "dr._dns-sd._udp.", "lb._dns-sd._udp.", "_services._dns-sd._udp." };
	for (size_t i = 0; i < IOTDNS_ARRAY_LEN(PFX); i++) {
		size_t m = strlen(PFX[i]);
		if (n > m && memcmp(s, PFX[i], m) == 0)
			return (long)m;
	}
	return -1;
}

/* ---- identifiers ---------------------------------------------------------------- */


static void host_add(struct il_ids *ids, const char *h, size_t min_len)
{
	char b[64];
	size_t n = 0;
	for (; *h && *h != '.' && n + 1 < sizeof(b); h++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*h);
		b[n++] = is_alnum(c) || c == '_' ? (char)c : '-';
	}
	b[n] = 0;
	if (n < min_len || ids->nhosts >= IL_NHOSTS)
		return;
	for (unsigned i = 0; i < ids->nhosts; i++)
		if (strcmp(ids->host[i], b) == 0)
			return;
	ids->host_digit[ids->nhosts] = strpbrk(b, "0123456789") != NULL;
	memcpy(ids->host[ids->nhosts++], b, n + 1);
}

static void ids_build(const struct iotdns_device *dev, struct il_ids *ids, size_t min_host)
{
	memset(ids, 0, sizeof(*ids));
	if (!dev->keyed_by_ip) {
		static const char HEX[] = "0123456789abcdef";
		static const char seps[] = { 0, ':', '-', '_', '.' };
		const uint8_t *m = dev->mac;
		ids->has_mac = true;
		for (unsigned i = 0; i < 6; i++) {
			ids->mac12[2 * i] = HEX[m[i] >> 4];
			ids->mac12[2 * i + 1] = HEX[m[i] & 15];
		}
		ids->mac12[12] = 0;
		for (unsigned i = 0; i < 5; i++) {
			char *o = ids->suffix[i];
			for (unsigned j = 3; j < 6; j++) {
				*o++ = HEX[m[j] >> 4];
				*o++ = HEX[m[j] & 15];
				if (seps[i] && j < 5)
					*o++ = seps[i];
			}
			*o = 0;
		}
	}
	if (dev->hostname[0])
		host_add(ids, dev->hostname, min_host);
	for (uint32_t i = 0; dev->dhcp && i < dev->ndhcp && i < IOTDNS_DEV_MAX_DHCP; i++)
		if (dev->dhcp[i].hostname[0])
			host_add(ids, dev->dhcp[i].hostname, min_host);
}

/* A cheap stamp of what the identifiers were built from. */
static uint32_t ids_gen(const struct iotdns_device *dev)
{
	return dev->naddrs ^ (dev->ndhcp << 8) ^ ((uint32_t)(unsigned char)dev->hostname[0] << 16) ^
	       ((uint32_t)(unsigned char)dev->hostname[1] << 24) ^ (uint32_t)strlen(dev->hostname) * 2654435761u;
}

/* Start of the registrable part ("vendor.com", "vendor.co.uk"): host-name
 * matches there are the vendor's own domain, not this device. */
static size_t registrable_start(const char *s, size_t n)
{
	size_t tld = last_labels(s, n, 1);
	size_t sld = last_labels(s, n, 2);
	bool cc = n - tld == 2;
	bool short_sld = tld > sld && tld - 1 - sld <= 3;
	return cc && short_sld ? last_labels(s, n, 3) : sld;
}

/* "a.b.c.d" with sep between the octets (reversed: d.c.b.a); returns the length. */
static size_t ip4_text(char *o, const uint8_t *b, char sep, bool reversed)
{
	size_t k = 0;
	for (unsigned i = 0; i < 4; i++) {
		unsigned v = b[reversed ? 3 - i : i];
		if (i)
			o[k++] = sep;
		if (v >= 100)
			o[k++] = (char)('0' + v / 100);
		if (v >= 10)
			o[k++] = (char)('0' + v / 10 % 10);
		o[k++] = (char)('0' + v % 10);
	}
	o[k] = 0;
	return k;
}

static bool ip4_match(const uint8_t *b, const char *s, size_t n, bool *own_ptr)
{
	char t[4][20];
	ip4_text(t[0], b, '.', false);
	ip4_text(t[1], b, '-', false);
	size_t l2 = ip4_text(t[2], b, '.', true);
	ip4_text(t[3], b, '-', true);
	if (n == l2 + 13 && memcmp(s, t[2], l2) == 0 && memcmp(s + l2, ".in-addr.arpa", 13) == 0)
		*own_ptr = true;
	for (unsigned i = 0; i < 4; i++)
		if (find_number_delimited(s, n, t[i], strlen(t[i])))
			return true;
	return false;
}

static bool ip6_ptr_match(const uint8_t *b, const char *s, size_t n)
{
	static const char HEX[] = "0123456789abcdef";
	char t[80];
	size_t k = 0;
	for (int i = 15; i >= 0; i--) {
		t[k++] = HEX[b[i] & 15];
		t[k++] = '.';
		t[k++] = HEX[b[i] >> 4];
		t[k++] = '.';
	}
	memcpy(t + k, "ip6.arpa", 8);
	k += 8;
	return n == k && memcmp(s, t, k) == 0;
}

/* Examines one name. resolver_local: the query went to a local resolver. */
static uint16_t examine(struct iotdns_check_ctx *ctx, const struct iotdns_device *dev, const struct il_ids *idp,
			const char *qname, bool resolver_local)
{
	char s[IL_MAXNAME];
	size_t n = unescape(qname, s, sizeof(s));
	uint16_t v = V_VALID;
	if (!n)
		return v;
	bool apex = false, local_tld = is_local_tld_name(s, n, &apex);
	if (local_tld && apex)
		return v | V_PROBE;
	unsigned nl = count_labels(s, n);
	long dd = dnssd_domain(s, n);
	bool local = local_tld || nl == 1 || is_private_reverse(s, n);

	/* its own addresses (also decides whether a reverse name is its own PTR) */
	bool own_ptr = false, ip = false;
	bool digits = memchr(s, '0', n) || strpbrk(s, "123456789"); /* no digit, no address */
	for (uint32_t i = 0; digits && i < dev->naddrs; i++) {
		const struct iotdns_addr *a = &dev->addrs[i].addr;
		if (a->family == 4)
			ip |= ip4_match(a->b, s, n, &own_ptr);
		else if (a->family == 6 && ip6_ptr_match(a->b, s, n))
			ip = own_ptr = true;
	}
	if (own_ptr) {
		local = true;
		v |= V_OWN_PTR;
	}
	if (local && resolver_local && iotdns_check_opt(ctx, OPT_LOCAL_RESOLVER) < 1)
		return v | V_LOCAL_OK;
	if (ip)
		v |= V_IP;

	const struct il_ids *ids = idp;
	/* host names first; their spans are masked so a MAC inside the host name
	 * is reported once, as the host name */
	size_t reg = registrable_start(s, n);
	for (unsigned h = 0; h < ids->nhosts; h++) {
		size_t m = strlen(ids->host[h]);
		if (!local && !ids->host_digit[h])
			continue; /* "speaker", "thermostat": a word, not an identifier, in public names */
		for (long at = find_delimited(s, n, ids->host[h], m, 0); at >= 0;
		     at = find_delimited(s, n, ids->host[h], m, at + 1)) {
			if ((size_t)at >= reg && !local)
				continue; /* the vendor's own domain name */
			v |= V_HOST;
			memset(s + at, '/', m);
		}
	}
	if (ids->has_mac) {
		char hex[IL_MAXNAME];
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (is_hex(c))
				hex[k++] = (char)c;
			else if (c != ':' && c != '-' && c != '.' && c != '_' && c != 0x01)
				hex[k++] = '|';
		}
		hex[k] = 0;
		if (k >= 12 && strstr(hex, ids->mac12))
			v |= V_MAC | V_MAC_FULL;
		/* every spelling of the suffix leaves its six hex digits together
		 * in hex[] (separators are dropped there): without them, none of
		 * the five spellings can be in the name */
		else if (iotdns_check_opt(ctx, OPT_MAC_SUFFIX) >= 1 && k >= 6 && strstr(hex, ids->suffix[0]))
			for (unsigned i = 0; i < 5; i++)
				if (find_delimited(s, n, ids->suffix[i], strlen(ids->suffix[i]), 0) >= 0) {
					v |= V_MAC | V_MAC_SUFFIX;
					break;
				}
	}
	if (v & (V_MAC | V_IP | V_HOST))
		return v;
	if (dd >= 0) {
		const char *dom = s + dd;
		size_t dn = n - (size_t)dd;
		bool dlocal = is_local_tld_name(dom, dn, &apex) || count_labels(dom, dn) == 1 || is_private_reverse(dom, dn);
		if (!dlocal)
			return v | V_DNSSD_PUBLIC;
		return v | (resolver_local && iotdns_check_opt(ctx, OPT_LOCAL_RESOLVER) < 1 ? V_LOCAL_OK : V_DNSSD);
	}
	if (local)
		v |= V_LOCAL;
	return v;
}

/* ---- per-device bookkeeping -------------------------------------------------------- */

static void il_dev_free(struct iotdns_check_ctx *ctx, void *st)
{
	(void)ctx;
	struct il_state *s = st;
	free(s->leaks);
	s->leaks = NULL;
}

static void record(struct il_code_rec *c, const struct iotdns_dns_event *ev, uint64_t hash, uint16_t v)
{
	const struct iotdns_dns_msg *m = ev->msg;
	c->queries++;
	c->mac_full += (v & V_MAC_FULL) != 0;
	c->mac_suffix += (v & V_MAC_SUFFIX) != 0;
	c->own_ptr += (v & V_OWN_PTR) != 0;
	bool known = false;
	for (uint32_t i = 0; i < c->nnames && i < IL_NHASH; i++)
		known |= c->hashes[i] == hash;
	if (!known) {
		if (c->nnames < IL_NHASH)
			c->hashes[c->nnames++] = hash;
		else
			c->names_more++; /* at least this many more (not deduplicated) */
		if (c->nexamples < IL_NEXAMPLES)
			snprintf(c->examples[c->nexamples++], IL_EXAMPLE_LEN, "%.71s", m->qname);
	}
	const struct iotdns_addr *dst = &ev->pkt->dst;
	bool res_known = false;
	for (unsigned i = 0; i < c->nres; i++)
		res_known |= iotdns_addr_eq(&c->res[i], dst);
	if (!res_known) {
		if (c->nres < IL_NRES)
			c->res[c->nres++] = *dst;
		else
			c->res_more++;
	}
	/* evidence: each new name first, then the early queries */
	if (c->nev < IOTDNS_MAX_EVIDENCE && (!known || c->nev < 2)) {
		char tb[16], ab[IOTDNS_ADDR_TEXT];
		iotdns_evidence_set(&c->ev[c->nev++], ev->pkt, "query 0x%04x %.72s %s to %s", m->id, m->qname,
				    iotdns_rrtype_name(m->qtype, tb), iotdns_addr_str(dst, ab));
	}
}

static void il_on_query(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st,
			const struct iotdns_dns_event *ev)
{
	struct il_state *s = st;
	const struct iotdns_dns_msg *m = ev->msg;
	if (ev->proto != IOTDNS_PROTO_DNS || ev->retransmission || !m->has_question)
		return;
	s->queries++;
	uint32_t gen = ids_gen(dev);
	if (gen != s->gen || !s->have_ids) {
		memset(s->cache, 0, sizeof(s->cache));
		ids_build(dev, &s->ids, (size_t)iotdns_check_opt(ctx, OPT_MIN_HOSTNAME_LEN));
		s->have_ids = true;
		s->gen = gen;
	}
	bool rlocal = iotdns_addr_is_local(&ev->pkt->dst);
	uint64_t h = ev->qname_hash;
	uint64_t key = h ^ (rlocal ? 0x9e3779b97f4a7c15ull : 0);
	struct il_cache_ent *e = &s->cache[key % IL_NCACHE];
	if (!(e->verdict & V_VALID) || e->key != key) {
		e->key = key;
		e->verdict = examine(ctx, dev, &s->ids, m->qname, rlocal);
	}
	uint16_t v = e->verdict;
	s->local_ok += (v & V_LOCAL_OK) != 0;
	s->probes += (v & V_PROBE) != 0;
	s->dnssd_public += (v & V_DNSSD_PUBLIC) != 0;
	if (!(v & V_LEAKS))
		return;
	if (!s->leaks && !(s->leaks = calloc(1, sizeof(*s->leaks))))
		return;
	for (unsigned c = 0; c < IL_NCODES; c++)
		if (v & (1u << c))
			record(&s->leaks->c[c], ev, h, v);
}

/* ---- verdicts ------------------------------------------------------------------- */

static void json_list(char *buf, size_t size, const char (*items)[IL_EXAMPLE_LEN], unsigned n)
{
	size_t len = (size_t)snprintf(buf, size, "[");
	for (unsigned i = 0; i < n && len < size; i++) {
		char q[2 * IL_EXAMPLE_LEN + 8];
		size_t k = 0;
		q[k++] = '"';
		for (const char *p = items[i]; *p && k + 3 < sizeof(q); p++) {
			if (*p == '"' || *p == '\\')
				q[k++] = '\\';
			q[k++] = *p;
		}
		q[k++] = '"';
		q[k] = 0;
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? "," : "", q);
	}
	if (len + 2 <= size)
		snprintf(buf + len, size - len, "]");
}

static void res_list(const struct il_code_rec *c, char *txt, size_t tsize, char *json, size_t jsize)
{
	size_t tl = 0, jl = (size_t)snprintf(json, jsize, "[");
	txt[0] = 0;
	for (unsigned i = 0; i < c->nres; i++) {
		char ab[IOTDNS_ADDR_TEXT];
		iotdns_addr_str(&c->res[i], ab);
		if (tl < tsize)
			tl += (size_t)snprintf(txt + tl, tsize - tl, "%s%s%s", i ? ", " : "", ab,
					       iotdns_addr_is_local(&c->res[i]) ? "" : " (non-local)");
		if (jl < jsize)
			jl += (size_t)snprintf(json + jl, jsize - jl, "%s\"%s\"", i ? "," : "", ab);
	}
	if (c->res_more && tl < tsize)
		snprintf(txt + tl, tsize - tl, " and others");
	if (jl + 2 <= jsize)
		snprintf(json + jl, jsize - jl, "]");
}

/* "lb._dns-sd._udp.0.1.168.192.in-addr.arpa" -> " (prefix 192.168.1.0)"; "" otherwise. */
static void dnssd_prefix(const char *name, char *out, size_t size)
{
	char s[IL_MAXNAME];
	size_t n = unescape(name, s, sizeof(s));
	long dd = dnssd_domain(s, n);
	out[0] = 0;
	if (dd < 0 || !ends_with(s, n, "in-addr.arpa") || n < (size_t)dd + 13)
		return;
	size_t end = n - 13; /* the '.' before in-addr.arpa */
	int oct[4];
	unsigned k = 0;
	while (k < 4 && end > (size_t)dd) {
		int v = label_num_before(s, &end);
		if (v < 0)
			break;
		oct[k++] = v;
	}
	if (!k)
		return;
	size_t len = (size_t)snprintf(out, size, " (prefix ");
	for (unsigned i = 0; i < 4 && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%d", i ? "." : "", i < k ? oct[i] : 0);
	if (len < size)
		snprintf(out + len, size - len, ")");
}

static void il_on_device_end(struct iotdns_check_ctx *ctx, struct iotdns_device *dev, void *st)
{
	struct il_state *s = st;
	uint64_t min_q = (uint64_t)iotdns_check_opt(ctx, OPT_MIN_QUERIES);
	char mac[IOTDNS_MAC_TEXT], ab[IOTDNS_ADDR_TEXT];
	struct il_ids ids;
	ids_build(dev, &ids, (size_t)iotdns_check_opt(ctx, OPT_MIN_HOSTNAME_LEN));

	/* what was searched for, for the detail line */
	char what[160];
	size_t wl = 0;
	wl += (size_t)snprintf(what + wl, sizeof(what) - wl, "MAC %s",
			       ids.has_mac ? iotdns_mac_str(dev->mac, mac) : "unknown");
	if (dev->naddrs)
		wl += (size_t)snprintf(what + wl, sizeof(what) - wl, ", IP %s%s", iotdns_addr_str(&dev->addrs[0].addr, ab),
				       dev->naddrs > 1 ? " and others" : "");
	if (wl < sizeof(what)) {
		if (ids.nhosts)
			snprintf(what + wl, sizeof(what) - wl, ", host name %s%s", ids.host[0], ids.nhosts > 1 ? " and others" : "");
		else if (dev->hostname[0])
			snprintf(what + wl, sizeof(what) - wl, ", host name too short to search");
		else
			snprintf(what + wl, sizeof(what) - wl, ", no DHCP host name");
	}

	uint64_t enc = 0;
	for (uint32_t i = 0; i < dev->nresolvers; i++)
		enc += dev->resolvers[i].flows_dot + dev->resolvers[i].flows_doq + dev->resolvers[i].flows_doh;
	if (!s->queries) {
		if (enc)
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA,
					    "encrypted DNS only (%llu flows): query names not observable",
					    (unsigned long long)enc);
		else
			iotdns_check_status(ctx, dev, IOTDNS_STATUS_NA, "no unicast DNS queries");
		return;
	}

	for (unsigned c = 0; s->leaks && c < IL_NCODES; c++) {
		const struct il_code_rec *r = &s->leaks->c[c];
		if (!r->queries)
			continue;
		struct iotdns_finding *f = iotdns_finding_new(ctx, dev, code_name[c]);
		char pfx[40], rt[160], rj[160], ex[IL_NEXAMPLES * (2 * IL_EXAMPLE_LEN + 8) + 8];
		res_list(r, rt, sizeof(rt), rj, sizeof(rj));
		unsigned long long names = r->nnames, q = r->queries;
		const char *more = r->names_more ? "+" : "";
		switch (c) {
		case IL_MAC:
			iotdns_finding_summary(f, "%llu queries (%llu%s name%s) spell its MAC %s (%s), e.g. %.80s; sent to %s",
					       q, names, more, names == 1 ? "" : "s", mac,
					       r->mac_full ? (r->mac_suffix ? "all 12 digits, or the last 6" : "all 12 hex digits")
							   : "its last 6 hex digits",
					       r->examples[0], rt);
			iotdns_finding_str(f, "mac", mac);
			iotdns_finding_u64(f, "queries_full_mac", r->mac_full);
			iotdns_finding_u64(f, "queries_mac_suffix", r->mac_suffix);
			break;
		case IL_IP:
			iotdns_finding_summary(f, "%llu queries (%llu%s name%s) carry its own address%s, e.g. %.80s; sent to %s",
					       q, names, more, names == 1 ? "" : "s",
					       r->own_ptr ? " (reverse lookups of itself)" : "", r->examples[0], rt);
			iotdns_finding_u64(f, "queries_own_ptr", r->own_ptr);
			break;
		case IL_HOST:
			iotdns_finding_summary(f, "%llu queries (%llu%s name%s) contain its DHCP host name '%s', e.g. %.80s; "
					       "sent to %s", q, names, more, names == 1 ? "" : "s",
					       ids.nhosts ? ids.host[0] : "?", r->examples[0], rt);
			if (ids.nhosts)
				iotdns_finding_str(f, "hostname", ids.host[0]);
			break;
		case IL_LOCAL:
			iotdns_finding_summary(f, "%llu%s local-only name%s (%llu queries) sent to %s, e.g. %.80s", names,
					       more, names == 1 ? "" : "s", q, rt, r->examples[0]);
			break;
		case IL_DNSSD:
			dnssd_prefix(r->examples[0], pfx, sizeof(pfx));
			iotdns_finding_summary(f, "%llu%s DNS-SD browse name%s for a local domain (%llu queries) sent to %s, "
					       "e.g. %.80s%s", names, more, names == 1 ? "" : "s", q, rt, r->examples[0], pfx);
			break;
		}
		iotdns_finding_u64(f, "queries", r->queries);
		iotdns_finding_u64(f, "names", r->nnames);
		iotdns_finding_bool(f, "names_truncated", r->names_more != 0);
		iotdns_finding_u64(f, "all_queries", s->queries);
		json_list(ex, sizeof(ex), r->examples, r->nexamples);
		iotdns_finding_json(f, "example_names", ex);
		iotdns_finding_json(f, "resolvers", rj);
		for (unsigned i = 0; i < r->nev; i++)
			iotdns_finding_evidence(f, &r->ev[i]);
	}

	char extra[120];
	size_t el = 0;
	extra[0] = 0;
	if (s->local_ok)
		el += (size_t)snprintf(extra + el, sizeof(extra) - el, "; %llu local-name queries to local resolvers",
				       (unsigned long long)s->local_ok);
	if (s->dnssd_public && el < sizeof(extra))
		el += (size_t)snprintf(extra + el, sizeof(extra) - el, "; %llu DNS-SD browse for public domains",
				       (unsigned long long)s->dnssd_public);
	if (s->probes && el < sizeof(extra))
		el += (size_t)snprintf(extra + el, sizeof(extra) - el, "; %llu local-TLD probes",
				       (unsigned long long)s->probes);
	if (enc && el < sizeof(extra))
		snprintf(extra + el, sizeof(extra) - el, "; %llu encrypted flows not observable", (unsigned long long)enc);
	if (!s->leaks && s->queries < min_q)
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_INSUFFICIENT,
				    "%llu of %llu queries needed; nothing leaked so far (%s)%s",
				    (unsigned long long)s->queries, (unsigned long long)min_q, what, extra);
	else
		iotdns_check_status(ctx, dev, IOTDNS_STATUS_PASS, "%llu queries searched for %s%s",
				    (unsigned long long)s->queries, what, extra);
}

const struct iotdns_checker iotdns_chk_identifier_leak = {
	.api = IOTDNS_CHECKER_API,
	.id = "identifier-leak",
	.summary = "Device identifiers and local names leaking in queries",
	.kinds = kinds,
	.opts = opts,
	.dev_state_size = sizeof(struct il_state),
	.on_query = il_on_query,
	.on_device_end = il_on_device_end,
	.dev_free = il_dev_free,
};

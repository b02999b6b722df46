/* iotdns - DHCPv4, DHCPv6 and Router Advertisement decoders.
 *
 * All three are plain TLV walks over a caller-owned buffer: every length is
 * checked against the bytes that are really there, nothing is allocated,
 * and everything kept is copied into the fixed-size fields of the output
 * struct (include/iotdns/dhcp.h). Text from the wire is sanitised: bytes
 * outside printable ASCII, and the backslash itself, become \xHH, and the
 * result is always NUL-terminated (truncated at a whole character).
 *
 * The output struct is cleared first, so on IOTDNS_EMALFORMED it holds
 * whatever was decoded before the problem, in a consistent state.
 */
#include <stdio.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/dhcp.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char hexdig[] = "0123456789abcdef";

/* Appends src[0..n) to dst (cap bytes, cap >= 1, dst[*o] is the current
 * end) as printable ASCII; stops before a character that would not fit
 * with its NUL. Returns false if it had to stop. */
static bool text_append(char *dst, size_t cap, size_t *o, const uint8_t *src, size_t n)
{
	size_t at = *o;
	bool all = true;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = src[i];
		if (b >= 0x20 && b < 0x7f && b != '\\') {
			if (cap - at < 2) {
				all = false;
				break;
			}
			dst[at++] = (char)b;
		} else {
			if (cap - at < 5) {
				all = false;
				break;
			}
			dst[at++] = '\\';
			dst[at++] = 'x';
			dst[at++] = hexdig[b >> 4];
			dst[at++] = hexdig[b & 15];
		}
	}
	dst[at] = '\0';
	*o = at;
	return all;
}

/* dst = sanitised src, without trailing NUL bytes (some clients send a
 * C string terminator inside the option). */
static void text_set(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t o = 0;

	while (n > 0 && src[n - 1] == 0)
		n--;
	text_append(dst, cap, &o, src, n);
}

/* "01:aa:bb:..." of src[0..n), truncated at a whole byte. */
static void hex_set(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (cap - o < (i ? 4u : 3u))
			break;
		if (i)
			dst[o++] = ':';
		dst[o++] = hexdig[src[i] >> 4];
		dst[o++] = hexdig[src[i] & 15];
	}
	dst[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* DHCPv4 (RFC 2131/2132)                                              */
/* ------------------------------------------------------------------ */

#define BOOTP_FIXED 236 /* op .. file */
#define DHCP_OPTIONS_AT 240 /* after the magic cookie */

static void dhcp4_option(struct iotdns_dhcp4 *out, uint8_t code, const uint8_t *v, uint8_t n)
{
	switch (code) {
	case 53: /* message type */
		if (n >= 1)
			out->msg_type = v[0];
		break;
	case 6: /* domain name servers */
		for (unsigned i = 0; i + 4 <= n && out->n_dns < IOTDNS_DHCP_MAX_DNS; i += 4)
			iotdns_addr_set4(&out->dns[out->n_dns++], v + i);
		break;
	case 12: /* host name */
		text_set(out->hostname, sizeof(out->hostname), v, n);
		break;
	case 50: /* requested IP address */
		if (n == 4)
			iotdns_addr_set4(&out->requested_ip, v);
		break;
	case 54: /* server identifier */
		if (n == 4)
			iotdns_addr_set4(&out->server_id, v);
		break;
	case 55: { /* parameter request list */
		size_t o = 0;
		out->prl_len = n;
		memcpy(out->prl, v, n);
		/* 255 codes of <= 3 digits + 254 commas = 1019 < sizeof(prl_text) */
		for (unsigned i = 0; i < n; i++) {
			int w = snprintf(out->prl_text + o, sizeof(out->prl_text) - o, i ? ",%u" : "%u",
					 (unsigned)v[i]);
			if (w < 0 || (size_t)w >= sizeof(out->prl_text) - o)
				break;
			o += (size_t)w;
		}
		break;
	}
	case 60: /* vendor class identifier */
		text_set(out->vendor_class, sizeof(out->vendor_class), v, n);
		break;
	case 61: /* client identifier */
		out->client_id_len = n;
		memcpy(out->client_id, v, n);
		hex_set(out->client_id_text, sizeof(out->client_id_text), v, n);
		break;
	default:
		/* 52 (option overload: more options in sname/file) is not
		 * followed; everything else is of no interest here. */
		break;
	}
}

int iotdns_dhcp4_parse(const uint8_t *p, uint32_t len, struct iotdns_dhcp4 *out)
{
	static const uint8_t cookie[4] = { 99, 130, 83, 99 };

	memset(out, 0, sizeof(*out));
	if (!p || len < BOOTP_FIXED)
		return IOTDNS_EMALFORMED;
	if ((p[0] != 1 && p[0] != 2) || p[2] > 16)
		return IOTDNS_EMALFORMED; /* not BOOTP: bad op or hardware address length */
	out->op = p[0];
	out->xid = rd32(p + 4);
	iotdns_addr_set4(&out->ciaddr, p + 12);
	iotdns_addr_set4(&out->yiaddr, p + 16);
	if (p[1] == 1 && p[2] == 6)
		memcpy(out->chaddr, p + 28, 6);

	/* Plain BOOTP (no cookie): valid, just without DHCP options. */
	if (len < DHCP_OPTIONS_AT || memcmp(p + BOOTP_FIXED, cookie, 4) != 0)
		return IOTDNS_OK;

	for (uint32_t off = DHCP_OPTIONS_AT; off < len;) {
		uint8_t code = p[off];
		if (code == 0) { /* pad */
			off++;
			continue;
		}
		if (code == 255) /* end */
			return IOTDNS_OK;
		if (len - off < 2)
			return IOTDNS_EMALFORMED; /* option code without its length */
		uint8_t n = p[off + 1];
		if (n > len - off - 2)
			return IOTDNS_EMALFORMED; /* option runs past the end */
		dhcp4_option(out, code, p + off + 2, n);
		off += 2u + n;
	}
	return IOTDNS_OK; /* no end option: tolerated */
}

/* ------------------------------------------------------------------ */
/* DHCPv6 (RFC 8415)                                                   */
/* ------------------------------------------------------------------ */

/* Client FQDN option (RFC 4704): flags, then a DNS wire-format name that
 * may be partial (no root label) and is never compressed. Decodes what is
 * well-formed into presentation text; stops at the first bad label. */
static void fqdn_set(char *dst, size_t cap, const uint8_t *v, size_t n)
{
	static const uint8_t dot = '.';
	size_t o = 0, off = 1; /* skip the flags byte */
	bool first = true;

	dst[0] = '\0';
	while (off < n) {
		uint8_t l = v[off++];
		if (l == 0 || l > 63 || l > n - off)
			break; /* root, a pointer/extended label, or past the option */
		if (!first && !text_append(dst, cap, &o, &dot, 1))
			break;
		/* a '.' inside a label is escaped so labels stay unambiguous */
		for (size_t i = 0; i < l; i++) {
			uint8_t b = v[off + i];
			bool fit;
			if (b == '.') {
				fit = cap - o >= 5;
				if (fit) {
					memcpy(dst + o, "\\x2e", 4);
					o += 4;
					dst[o] = '\0';
				}
			} else {
				fit = text_append(dst, cap, &o, &b, 1);
			}
			if (!fit)
				return;
		}
		off += l;
		first = false;
	}
}

int iotdns_dhcp6_parse(const uint8_t *p, uint32_t len, struct iotdns_dhcp6 *out)
{
	memset(out, 0, sizeof(*out));
	if (!p || len < 4)
		return IOTDNS_EMALFORMED;
	out->msg_type = p[0];
	if (out->msg_type == 12 || out->msg_type == 13)
		return IOTDNS_OK; /* RELAY-FORW / RELAY-REPL: not looked into */
	out->xid = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

	for (uint32_t off = 4; off < len;) {
		if (len - off < 4)
			return IOTDNS_EMALFORMED; /* partial option header */
		uint16_t code = rd16(p + off), n = rd16(p + off + 2);
		const uint8_t *v = p + off + 4;
		if (n > len - off - 4)
			return IOTDNS_EMALFORMED; /* option runs past the end */
		switch (code) {
		case 1: /* client identifier (DUID) */
			out->duid_len = (uint8_t)IOTDNS_MIN(n, sizeof(out->duid));
			memcpy(out->duid, v, out->duid_len);
			hex_set(out->duid_text, sizeof(out->duid_text), v, out->duid_len);
			break;
		case 23: /* DNS recursive name servers */
			for (unsigned i = 0; i + 16 <= n && out->n_dns < IOTDNS_DHCP_MAX_DNS; i += 16)
				iotdns_addr_set6(&out->dns[out->n_dns++], v + i);
			break;
		case 39: /* client FQDN */
			fqdn_set(out->fqdn, sizeof(out->fqdn), v, n);
			break;
		case 16: /* vendor class: enterprise number, then {len16, data} items */
			if (n >= 6) {
				uint16_t il = rd16(v + 4);
				if (il <= n - 6)
					text_set(out->vendor_class, sizeof(out->vendor_class), v + 6, il);
			}
			break;
		case 6: /* option request option */
			out->oro_len = 0;
			for (unsigned i = 0; i + 2 <= n && out->oro_len < IOTDNS_ARRAY_LEN(out->oro); i += 2)
				out->oro[out->oro_len++] = rd16(v + i);
			break;
		default:
			break;
		}
		off += 4u + n;
	}
	return IOTDNS_OK;
}

/* ------------------------------------------------------------------ */
/* Router Advertisement (RFC 4861, RFC 8106)                           */
/* ------------------------------------------------------------------ */

#define RA_HEADER 12 /* hop limit, flags, router lifetime, reachable, retrans */

int iotdns_ra_parse(const uint8_t *p, uint32_t len, struct iotdns_ra *out)
{
	bool have_lifetime = false;

	memset(out, 0, sizeof(*out));
	if (!p || len < RA_HEADER)
		return IOTDNS_EMALFORMED;
	for (uint32_t off = RA_HEADER; off < len;) {
		if (len - off < 2)
			return IOTDNS_EMALFORMED;
		uint8_t type = p[off];
		uint32_t n = (uint32_t)p[off + 1] * 8;
		if (n == 0)
			return IOTDNS_EMALFORMED; /* RFC 4861 4.6: length 0 is invalid */
		if (n > len - off)
			return IOTDNS_EMALFORMED;
		const uint8_t *v = p + off;
		switch (type) {
		case 1: /* source link-layer address */
			if (n >= 8) {
				memcpy(out->source_mac, v + 2, 6);
				out->has_source_mac = true;
			}
			break;
		case 25: /* RDNSS: type, len, reserved(2), lifetime(4), addresses */
			if (n < 24)
				break; /* RFC 8106: length >= 3 */
			if (!have_lifetime) {
				out->rdnss_lifetime = rd32(v + 4);
				have_lifetime = true;
			}
			for (uint32_t i = 8; i + 16 <= n && out->n_dns < IOTDNS_DHCP_MAX_DNS; i += 16)
				iotdns_addr_set6(&out->dns[out->n_dns++], v + i);
			break;
		default:
			break;
		}
		off += n;
	}
	return IOTDNS_OK;
}

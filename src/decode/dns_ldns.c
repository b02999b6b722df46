/* iotdns - DNS message view on top of ldns.
 *
 * This is the only file of iotdns that includes ldns. iotdns_dns_parse()
 * decodes a wire message record by record with ldns_wire2rr() (the loop of
 * ldns_wire2pkt(), same validation and statuses) and copies what the rest of
 * iotdns needs into the plain struct iotdns_dns_msg (include/iotdns/dns.h).
 * Each record is freed as soon as it is copied, on every path.
 *
 * Hot path: one call per DNS message. The view is NOT cleared as a whole
 * (it is ~40 KiB); only counters, flags and the first byte of strings are
 * reset, and absent sections cost nothing.
 */
/* <stdbool.h> must come before ldns: without it <ldns/common.h> defines
 * bool (and even _Bool) as signed char, which would silently turn
 * `m->qr = flags & 0x8000` into false. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/dns.h"

#include <ldns/ldns.h>

/* The parser owns the view returned by iotdns_dns_parse(). */
struct iotdns_dns_parser {
	struct iotdns_dns_msg msg;
};

/* 255 wire bytes hold at most 250 label bytes (4 text bytes each when escaped)
 * plus 3 dots, plus the NUL. */
_Static_assert(IOTDNS_NAME_TEXT >= 4 * 250 + 3 + 1, "IOTDNS_NAME_TEXT cannot hold a fully escaped name");

/* ------------------------------------------------------------------ */
/* Names: uncompressed wire form -> presentation text                  */
/* ------------------------------------------------------------------ */

/* Literal output for a label byte: the byte itself (raw table) or its
 * lower-case form (lower table); 0 = must be escaped. Only [A-Za-z0-9-_]
 * are literal, so the text never contains spaces, quotes or markup. */
#define LIT_DIGITS                                                                            \
	['-'] = '-', ['_'] = '_', ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', \
	['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9'
#define LIT_LOWER                                                                             \
	['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', \
	['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', \
	['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u', \
	['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z'

static const char lit_raw[256] = {
	LIT_DIGITS, LIT_LOWER,
	['A'] = 'A', ['B'] = 'B', ['C'] = 'C', ['D'] = 'D', ['E'] = 'E', ['F'] = 'F', ['G'] = 'G',
	['H'] = 'H', ['I'] = 'I', ['J'] = 'J', ['K'] = 'K', ['L'] = 'L', ['M'] = 'M', ['N'] = 'N',
	['O'] = 'O', ['P'] = 'P', ['Q'] = 'Q', ['R'] = 'R', ['S'] = 'S', ['T'] = 'T', ['U'] = 'U',
	['V'] = 'V', ['W'] = 'W', ['X'] = 'X', ['Y'] = 'Y', ['Z'] = 'Z',
};

static const char lit_lower[256] = {
	LIT_DIGITS, LIT_LOWER,
	['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g',
	['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n',
	['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u',
	['V'] = 'v', ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z',
};

/* Summary of a converted name. */
struct name_info {
	uint16_t wire_len; /* bytes of the uncompressed wire name, incl. the root label */
	uint16_t text_len; /* strlen() of the text */
	uint8_t labels;    /* labels, not counting the root */
};

/* Converts the uncompressed wire name wire[0..size) (as ldns stores a
 * DNAME rdf) into lower-case presentation text in out[IOTDNS_NAME_TEXT]
 * and, if both, the text with the case as sent in raw[IOTDNS_NAME_TEXT]
 * (one pass: the two differ only in letters). The texts are always
 * NUL-terminated. Returns false ("" or the labels decoded so far) if the
 * bytes are not a well-formed name: a label over 63 bytes or running past
 * size, or no root label within 255 bytes.
 * Bound: <= 255 wire bytes -> at most 4 * 250 + 3 text bytes (static assert). */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* Inlined into its two callers, so `both` is a constant in each. */
static ALWAYS_INLINE bool name_conv(const uint8_t *wire, size_t size, char *out, char *raw,
				    const bool both, struct name_info *info)
{
	size_t pos = 0, o = 0;
	unsigned labels = 0;
	bool ok = false;

	if (size > 255)
		size = 255;
	while (pos < size) {
		unsigned len = wire[pos++];
		if (len == 0) {
			ok = true;
			break;
		}
		if (len > 63 || len > size - pos)
			break;
		if (labels) {
			out[o] = '.';
			if (both)
				raw[o] = '.';
			o++;
		}
		for (const uint8_t *c = wire + pos, *e = c + len; c < e; c++) {
			uint8_t b = *c;
			char l = lit_lower[b];
			if (IOTDNS_LIKELY(l)) {
				out[o] = l;
				if (both)
					raw[o] = lit_raw[b];
				o++;
			} else if (b == '.' || b == '\\') {
				out[o] = '\\';
				out[o + 1] = (char)b;
				if (both)
					memcpy(raw + o, out + o, 2);
				o += 2;
			} else {
				out[o] = '\\';
				out[o + 1] = (char)('0' + b / 100);
				out[o + 2] = (char)('0' + (b / 10) % 10);
				out[o + 3] = (char)('0' + b % 10);
				if (both)
					memcpy(raw + o, out + o, 4);
				o += 4;
			}
		}
		pos += len;
		labels++;
	}
	if (ok && labels == 0) {
		out[o] = '.';
		if (both)
			raw[o] = '.';
		o++;
	}
	out[o] = '\0';
	if (both)
		raw[o] = '\0';
	info->wire_len = (uint16_t)pos;
	info->text_len = (uint16_t)o;
	info->labels = (uint8_t)labels; /* <= 127 within 255 bytes */
	return ok;
}

static bool name_to_text(const uint8_t *wire, size_t size, char *out, struct name_info *info)
{
	return name_conv(wire, size, out, NULL, false, info);
}

static bool name_to_text2(const uint8_t *wire, size_t size, char *out, char *raw,
			  struct name_info *info)
{
	return name_conv(wire, size, out, raw, true, info);
}

/* Names an answer section repeats: an owner is usually the question name
 * or the previous record's owner or target. A name whose wire bytes equal
 * one of these is copied from its text instead of converted again. The
 * memo keeps its own copy of the wire bytes (each record is freed as soon
 * as it is copied) and points into the view: valid during one
 * iotdns_dns_parse(). */
enum { MEMO_QNAME, MEMO_OWNER, MEMO_TARGET, MEMO_N };

struct name_memo {
	uint16_t size[MEMO_N]; /* 0 = empty slot */
	uint16_t text_len[MEMO_N];
	const char *text[MEMO_N]; /* lower-case */
	uint8_t wire[MEMO_N][255];
};

static void memo_remember(struct name_memo *memo, unsigned slot, const uint8_t *wire, size_t size,
			  const char *text, size_t text_len)
{
	if (size == 0 || size > sizeof(memo->wire[slot])) {
		memo->size[slot] = 0;
		return;
	}
	memcpy(memo->wire[slot], wire, size);
	memo->size[slot] = (uint16_t)size;
	memo->text[slot] = text;
	memo->text_len[slot] = (uint16_t)text_len;
}

/* out = lower-case text of the DNAME rdf (may be NULL: ""); remembered
 * in memo slot `slot` for the names that follow. */
static void rdf_name(struct name_memo *memo, unsigned slot, const ldns_rdf *rdf, char *out)
{
	struct name_info info;
	const uint8_t *wire;
	size_t size;

	if (!rdf || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME) {
		out[0] = '\0';
		memo->size[slot] = 0;
		return;
	}
	wire = ldns_rdf_data(rdf);
	size = ldns_rdf_size(rdf);
	for (unsigned i = 0; i < MEMO_N; i++) {
		if (memo->size[i] == size && memcmp(memo->wire[i], wire, size) == 0) {
			if (memo->text[i] != out)
				memcpy(out, memo->text[i], memo->text_len[i] + 1u);
			if (i != slot)
				memo_remember(memo, slot, wire, size, out, memo->text_len[i]);
			else
				memo->text[slot] = out;
			return;
		}
	}
	if (!name_to_text(wire, size, out, &info)) {
		memo->size[slot] = 0; /* not a whole name: never reused */
		return;
	}
	memo_remember(memo, slot, wire, size, out, info.text_len);
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ------------------------------------------------------------------ */
/* Compression loop guard                                              */
/* ------------------------------------------------------------------ */

/* ldns_wire2dname() gives up on a pointer chain only after
 * LDNS_MAX_POINTERS (65535) jumps: a two-byte pointer to itself costs
 * ~200 us per message, so a flood of them would stall the analyzer.
 * Before calling ldns we walk the names of the message ourselves (question,
 * every owner name, and the names inside the RDATA of the common types)
 * and reject a name that makes more than MAX_POINTER_HOPS jumps: a name has
 * at most 127 labels, so even a perverse encoder that points to every label
 * separately needs fewer. Anything else this walk cannot follow
 * (truncation, bad label types, over-long names) is left to ldns, whose
 * status then decides the problem reported. */
#define MAX_POINTER_HOPS 128

enum walk { WALK_OK, WALK_STOP, WALK_LOOP };

/* Follows the name at w[off]; on WALK_OK, *next is the offset just after
 * the name as stored at off (after its first pointer, or its root label). */
static enum walk walk_name(const uint8_t *w, uint32_t len, uint32_t off, uint32_t *next)
{
	unsigned hops = 0, name_len = 1;
	uint32_t end = 0;

	for (;;) {
		if (off >= len)
			return WALK_STOP;
		uint8_t c = w[off];
		if (c == 0) {
			*next = end ? end : off + 1;
			return WALK_OK;
		}
		if (c >= 0xc0) {
			if (len - off < 2)
				return WALK_STOP;
			if (!end)
				end = off + 2;
			if (++hops > MAX_POINTER_HOPS)
				return WALK_LOOP;
			off = (uint32_t)(c & 0x3f) << 8 | w[off + 1];
			continue;
		}
		if (c > 63)
			return WALK_STOP;
		name_len += 1u + c;
		if (name_len > 255)
			return WALK_STOP; /* too long, or a loop through labels: left to ldns */
		off += 1u + c;
	}
}

/* Where the names are inside the RDATA of the types ldns decodes with
 * DNAME fields: offset of the first name, and whether a second name
 * follows it directly. */
static bool rdata_names(uint16_t type, uint32_t *first, bool *second)
{
	*second = false;
	switch (type) {
	case 2: case 3: case 4: case 5: case 7: case 8: case 9: /* NS MD MF CNAME MB MG MR */
	case 12: case 39: case 47:                              /* PTR DNAME NSEC */
		*first = 0;
		return true;
	case 6: case 14: case 17: /* SOA MINFO RP */
		*first = 0;
		*second = true;
		return true;
	case 15: case 18: case 21: case 36: /* MX AFSDB RT KX */
		*first = 2;
		return true;
	case 33: /* SRV */
		*first = 6;
		return true;
	case 46: /* RRSIG signer */
		*first = 18;
		return true;
	default:
		return false;
	}
}

static enum walk walk_message(const uint8_t *w, uint32_t len)
{
	uint32_t off = 12, next;
	unsigned qd = rd16(w + 4);
	unsigned rrs = (unsigned)rd16(w + 6) + rd16(w + 8) + rd16(w + 10);
	enum walk r;

	for (unsigned i = 0; i < qd; i++) {
		if ((r = walk_name(w, len, off, &next)) != WALK_OK)
			return r;
		off = next + 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		uint32_t first, rdata, rdlen;
		bool second;

		if ((r = walk_name(w, len, off, &next)) != WALK_OK)
			return r;
		if (next > len || len - next < 10)
			return WALK_STOP;
		rdata = next + 10;
		rdlen = rd16(w + next + 8);
		if (rdlen > len - rdata)
			return WALK_STOP;
		if (rdata_names(rd16(w + next), &first, &second) && first < rdlen) {
			if ((r = walk_name(w, len, rdata + first, &next)) != WALK_OK)
				return r;
			if (second && next < rdata + rdlen &&
			    (r = walk_name(w, len, next, &next)) != WALK_OK)
				return r;
		}
		off = rdata + rdlen;
	}
	return WALK_OK;
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

int iotdns_dns_parser_new(struct iotdns_dns_parser **out)
{
	struct iotdns_dns_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return IOTDNS_ENOMEM;
	*out = p;
	return IOTDNS_OK;
}

void iotdns_dns_parser_free(struct iotdns_dns_parser *p)
{
	free(p);
}

static enum iotdns_problem map_status(ldns_status st)
{
	switch (st) {
	case LDNS_STATUS_PACKET_OVERFLOW:
	case LDNS_STATUS_WIRE_INCOMPLETE_HEADER:
	case LDNS_STATUS_WIRE_INCOMPLETE_QUESTION:
	case LDNS_STATUS_WIRE_INCOMPLETE_ANSWER:
	case LDNS_STATUS_WIRE_INCOMPLETE_AUTHORITY:
	case LDNS_STATUS_WIRE_INCOMPLETE_ADDITIONAL:
		return IOTDNS_P_DNS_TRUNCATED;
	case LDNS_STATUS_INVALID_POINTER:
		/* ldns_wire2dname(): a pointer to offset 0, a pointer outside the
		 * message, or more than LDNS_MAX_POINTERS jumps (a loop). */
		return IOTDNS_P_DNS_COMPRESSION_LOOP;
	case LDNS_STATUS_LABEL_OVERFLOW:
	case LDNS_STATUS_DOMAINNAME_OVERFLOW:
	case LDNS_STATUS_DOMAINNAME_UNDERFLOW:
	case LDNS_STATUS_EMPTY_LABEL:
		return IOTDNS_P_DNS_BAD_NAME;
	default:
		return IOTDNS_P_DNS_MALFORMED;
	}
}

/* Walks the OPT RDATA (a list of {code, length, data}) with bounds checks. */
static void parse_edns_options(struct iotdns_dns_msg *m, const uint8_t *d, size_t size)
{
	size_t off = 0;

	while (size - off >= 4) {
		uint16_t code = rd16(d + off), olen = rd16(d + off + 2);
		const uint8_t *v = d + off + 4;

		if (olen > size - off - 4)
			break; /* option runs past the RDATA: ignore the rest */
		if (m->edns.noptions < IOTDNS_DNS_MAX_OPTIONS)
			m->edns.option_codes[m->edns.noptions] = code;
		if (m->edns.noptions < UINT16_MAX)
			m->edns.noptions++;
		switch (code) {
		case IOTDNS_EDNS_ECS:
			if (olen >= 4) {
				m->edns.has_ecs = true;
				m->edns.ecs_family = rd16(v);
				m->edns.ecs_source_prefix = v[2];
				m->edns.ecs_scope_prefix = v[3];
			}
			break;
		case IOTDNS_EDNS_COOKIE:
			m->edns.has_cookie = true;
			m->edns.cookie_len = (uint8_t)(olen > 255 ? 255 : olen);
			break;
		case IOTDNS_EDNS_PADDING:
			m->edns.has_padding = true;
			m->edns.padding_len = olen;
			break;
		default:
			break;
		}
		off += 4u + olen;
	}
}

/* Copies one answer record. */
static void copy_answer(struct iotdns_dns_answer *a, const ldns_rr *rr, struct name_memo *memo)
{
	const ldns_rdf *rd;
	size_t target_idx = 0;
	bool has_target = false;

	a->type = (uint16_t)ldns_rr_get_type(rr);
	a->rclass = (uint16_t)ldns_rr_get_class(rr);
	a->ttl = ldns_rr_ttl(rr);
	rdf_name(memo, MEMO_OWNER, ldns_rr_owner(rr), a->owner);
	a->addr.family = 0;
	a->target[0] = '\0';

	switch (a->type) {
	case IOTDNS_T_A:
		rd = ldns_rr_rdf(rr, 0);
		if (rd && ldns_rdf_size(rd) == 4)
			iotdns_addr_set4(&a->addr, ldns_rdf_data(rd));
		break;
	case IOTDNS_T_AAAA:
		rd = ldns_rr_rdf(rr, 0);
		if (rd && ldns_rdf_size(rd) == 16)
			iotdns_addr_set6(&a->addr, ldns_rdf_data(rd));
		break;
	case IOTDNS_T_CNAME:
	case IOTDNS_T_PTR:
	case IOTDNS_T_NS:
	case LDNS_RR_TYPE_DNAME:
		has_target = true;
		break;
	case IOTDNS_T_MX:
		target_idx = 1;
		has_target = true;
		break;
	case IOTDNS_T_SRV:
		target_idx = 3;
		has_target = true;
		break;
	default:
		break;
	}
	if (has_target && target_idx < ldns_rr_rd_count(rr))
		rdf_name(memo, MEMO_TARGET, ldns_rr_rdf(rr, target_idx), a->target);
}

/* The first record of the question section: the question. */
static void take_question(struct iotdns_dns_msg *m, const ldns_rr *q, struct name_memo *memo)
{
	const ldns_rdf *owner = ldns_rr_owner(q);
	struct name_info info;

	if (!owner ||
	    !name_to_text2(ldns_rdf_data(owner), ldns_rdf_size(owner), m->qname, m->qname_raw, &info))
		return;
	uint16_t qclass = (uint16_t)ldns_rr_get_class(q);
	memo_remember(memo, MEMO_QNAME, ldns_rdf_data(owner), ldns_rdf_size(owner), m->qname,
		      info.text_len);
	m->has_question = true;
	m->qname_wire_len = (uint8_t)info.wire_len;
	m->qname_labels = info.labels;
	m->qtype = (uint16_t)ldns_rr_get_type(q);
	m->qclass = qclass & 0x7fff;
	m->qu = (qclass & 0x8000) != 0;
}

static void take_answer(struct iotdns_dns_msg *m, const ldns_rr *rr, struct name_memo *memo)
{
	uint32_t ttl = ldns_rr_ttl(rr);
	ldns_rr_type t = ldns_rr_get_type(rr);

	if (!m->has_min_ttl || ttl < m->min_ttl)
		m->min_ttl = ttl;
	m->has_min_ttl = true;
	if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA)
		m->n_addr_answers++;
	if (m->nanswers < IOTDNS_DNS_MAX_ANSWERS)
		copy_answer(&m->answers[m->nanswers++], rr, memo);
}

/* Authority: the SOA of a negative answer (the first usable one). */
static void take_authority(struct iotdns_dns_msg *m, const ldns_rr *rr, struct name_memo *memo)
{
	const ldns_rdf *minimum;

	if (m->soa.present || ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7)
		return;
	minimum = ldns_rr_rdf(rr, 6);
	if (!minimum || ldns_rdf_size(minimum) != 4)
		return;
	m->soa.present = true;
	m->soa.ttl = ldns_rr_ttl(rr);
	m->soa.minimum = rd32(ldns_rdf_data(minimum));
	rdf_name(memo, MEMO_OWNER, ldns_rr_owner(rr), m->soa.zone);
}

/* Additional: the EDNS OPT pseudo-record (as ldns_wire2pkt() does, a later
 * OPT overrides an earlier one; its options replace theirs only if it has
 * RDATA). The rest of the section is not used. */
static void take_additional(struct iotdns_dns_msg *m, const ldns_rr *rr)
{
	uint32_t ttl;
	const ldns_rdf *data;

	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_OPT)
		return;
	ttl = ldns_rr_ttl(rr); /* extended rcode, version, DO bit and Z */
	m->edns.present = true;
	m->edns.udp_size = (uint16_t)ldns_rr_get_class(rr);
	m->edns.ext_rcode = (uint8_t)(ttl >> 24);
	m->edns.version = (uint8_t)(ttl >> 16);
	m->edns.do_bit = (ttl & 0x8000) != 0;
	data = ldns_rr_rdf(rr, 0);
	if (data) {
		m->edns.noptions = 0;
		m->edns.has_ecs = m->edns.has_cookie = m->edns.has_padding = false;
		parse_edns_options(m, ldns_rdf_data(data), ldns_rdf_size(data));
	}
}

/* The ldns status of a record that ran past the message, per section (the
 * mapping ldns_wire2pkt() applies). */
static ldns_status section_status(ldns_status st, ldns_pkt_section section)
{
	static const ldns_status incomplete[] = {
		[LDNS_SECTION_QUESTION] = LDNS_STATUS_WIRE_INCOMPLETE_QUESTION,
		[LDNS_SECTION_ANSWER] = LDNS_STATUS_WIRE_INCOMPLETE_ANSWER,
		[LDNS_SECTION_AUTHORITY] = LDNS_STATUS_WIRE_INCOMPLETE_AUTHORITY,
		[LDNS_SECTION_ADDITIONAL] = LDNS_STATUS_WIRE_INCOMPLETE_ADDITIONAL,
	};
	return st == LDNS_STATUS_PACKET_OVERFLOW ? incomplete[section] : st;
}

static void reset_view(struct iotdns_dns_msg *m, const uint8_t *wire, uint32_t len)
{
	/* Header, straight from the wire (the counts are what the header says). */
	m->size = len;
	m->id = rd16(wire);
	m->flags = rd16(wire + 2);
	m->qr = (m->flags & 0x8000) != 0;
	m->opcode = (m->flags >> 11) & 0x0f;
	m->aa = (m->flags & 0x0400) != 0;
	m->tc = (m->flags & 0x0200) != 0;
	m->rd = (m->flags & 0x0100) != 0;
	m->ra = (m->flags & 0x0080) != 0;
	m->ad = (m->flags & 0x0020) != 0;
	m->cd = (m->flags & 0x0010) != 0;
	m->rcode = m->flags & 0x000f;
	m->qdcount = rd16(wire + 4);
	m->ancount = rd16(wire + 6);
	m->nscount = rd16(wire + 8);
	m->arcount = rd16(wire + 10);

	m->has_question = false;
	m->qname[0] = m->qname_raw[0] = '\0';
	m->qname_wire_len = 0;
	m->qname_labels = 0;
	m->qtype = m->qclass = 0;
	m->qu = false;

	m->edns.present = false;
	m->edns.noptions = 0;
	m->edns.has_ecs = m->edns.has_cookie = m->edns.has_padding = false;
	m->edns.udp_size = 0;
	m->edns.version = 0;
	m->edns.ext_rcode = 0;
	m->edns.do_bit = false;

	m->nanswers = 0;
	m->has_min_ttl = false;
	m->min_ttl = 0;
	m->n_addr_answers = 0;

	m->soa.present = false;
	m->soa.zone[0] = '\0';
}

/* Decodes the message record by record with ldns_wire2rr() (the loop of
 * ldns_wire2pkt(), with the same validation and statuses) and copies each
 * record into the view before freeing it: no ldns_pkt, no record lists,
 * and the allocator reuses the same few blocks for every record. */
int iotdns_dns_parse(struct iotdns_dns_parser *p, const uint8_t *wire, uint32_t len,
		     const struct iotdns_dns_msg **out, enum iotdns_problem *problem)
{
	struct iotdns_dns_msg *m = &p->msg;
	struct name_memo memo;
	size_t pos = LDNS_HEADER_SIZE;

	*out = NULL;
	if (len < LDNS_HEADER_SIZE) {
		*problem = IOTDNS_P_DNS_TRUNCATED;
		return IOTDNS_EMALFORMED;
	}
	if (len > 65535) { /* no transport carries more; keeps offsets in range */
		*problem = IOTDNS_P_DNS_MALFORMED;
		return IOTDNS_EMALFORMED;
	}
	if (IOTDNS_UNLIKELY(walk_message(wire, len) == WALK_LOOP)) {
		*problem = IOTDNS_P_DNS_COMPRESSION_LOOP;
		return IOTDNS_EMALFORMED;
	}

	memset(memo.size, 0, sizeof(memo.size));
	reset_view(m, wire, len);
	static const ldns_pkt_section sections[] = { LDNS_SECTION_QUESTION, LDNS_SECTION_ANSWER,
						      LDNS_SECTION_AUTHORITY, LDNS_SECTION_ADDITIONAL };
	const uint16_t counts[] = { m->qdcount, m->ancount, m->nscount, m->arcount };
	for (unsigned s = 0; s < IOTDNS_ARRAY_LEN(sections); s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			ldns_rr *rr = NULL;
			ldns_status st = ldns_wire2rr(&rr, wire, len, &pos, sections[s]);

			if (st != LDNS_STATUS_OK || !rr) {
				if (rr)
					ldns_rr_free(rr);
				st = section_status(st == LDNS_STATUS_OK ? LDNS_STATUS_ERR : st, sections[s]);
				*problem = map_status(st);
				return IOTDNS_EMALFORMED;
			}
			switch (sections[s]) {
			case LDNS_SECTION_QUESTION:
				if (i == 0) /* the question is the first one, as it always was */
					take_question(m, rr, &memo);
				break;
			case LDNS_SECTION_ANSWER: take_answer(m, rr, &memo); break;
			case LDNS_SECTION_AUTHORITY: take_authority(m, rr, &memo); break;
			default: take_additional(m, rr); break;
			}
			ldns_rr_free(rr);
		}
	}
	m->rcode |= (uint16_t)(m->edns.ext_rcode << 4);
	*out = m;
	return IOTDNS_OK;
}

/* ------------------------------------------------------------------ */
/* Names of types and rcodes                                           */
/* ------------------------------------------------------------------ */

const char *iotdns_rrtype_name(uint16_t type, char buf[16])
{
	switch (type) {
	case IOTDNS_T_A: return "A";
	case IOTDNS_T_NS: return "NS";
	case IOTDNS_T_CNAME: return "CNAME";
	case IOTDNS_T_SOA: return "SOA";
	case IOTDNS_T_PTR: return "PTR";
	case IOTDNS_T_HINFO: return "HINFO";
	case IOTDNS_T_MX: return "MX";
	case IOTDNS_T_TXT: return "TXT";
	case IOTDNS_T_AAAA: return "AAAA";
	case IOTDNS_T_SRV: return "SRV";
	case IOTDNS_T_OPT: return "OPT";
	case IOTDNS_T_DS: return "DS";
	case IOTDNS_T_RRSIG: return "RRSIG";
	case IOTDNS_T_NSEC: return "NSEC";
	case IOTDNS_T_DNSKEY: return "DNSKEY";
	case IOTDNS_T_SVCB: return "SVCB";
	case IOTDNS_T_HTTPS: return "HTTPS";
	case IOTDNS_T_ANY: return "ANY";
	default: {
		/* ldns knows the rest (static descriptor table, no allocation). */
		const ldns_rr_descriptor *d = ldns_rr_descript(type);
		if (d && d->_name && d->_type == type && strlen(d->_name) < 16 &&
		    strncmp(d->_name, "TYPE", 4) != 0)
			return d->_name;
		snprintf(buf, 16, "TYPE%u", (unsigned)type);
		return buf;
	}
	}
}

const char *iotdns_rcode_name(uint16_t rcode, char buf[16])
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
	};

	if (rcode < IOTDNS_ARRAY_LEN(names))
		return names[rcode];
	switch (rcode) {
	case 16: return "BADVERS";
	case 17: return "BADKEY";
	case 18: return "BADTIME";
	case 19: return "BADMODE";
	case 20: return "BADNAME";
	case 21: return "BADALG";
	case 22: return "BADTRUNC";
	case 23: return "BADCOOKIE";
	default:
		snprintf(buf, 16, "RCODE%u", (unsigned)rcode);
		return buf;
	}
}

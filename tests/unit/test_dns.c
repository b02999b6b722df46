/* Unit tests for src/decode/dns_ldns.c: the DNS message view.
 *
 * Messages are built byte by byte with the small builder below, so every
 * test states exactly what is on the wire. The corpus test at the end feeds
 * the UDP DNS payloads of the real captures (when present) through the
 * parser with a minimal pcap walker. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <pcap/pcap.h>

#include "iotdns/common.h"
#include "iotdns/dns.h"
#include "iotdns/sha256.h"

#include "harness.h"

/* ------------------------------------------------------------------ */
/* Wire builder                                                        */
/* ------------------------------------------------------------------ */

struct wb {
	uint8_t b[8192];
	size_t n;
};

static void put8(struct wb *w, unsigned v)
{
	if (w->n < sizeof(w->b))
		w->b[w->n++] = (uint8_t)v;
}

static void put16(struct wb *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v);
}

static void put32(struct wb *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static void putmem(struct wb *w, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(w, ((const uint8_t *)p)[i]);
}

static void hdr(struct wb *w, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
		unsigned ar)
{
	w->n = 0;
	put16(w, id);
	put16(w, flags);
	put16(w, qd);
	put16(w, an);
	put16(w, ns);
	put16(w, ar);
}

/* Dotted text to wire labels + root ("" = root only). No escapes. */
static void name(struct wb *w, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);
		put8(w, (unsigned)len);
		putmem(w, dotted, len);
		dotted += len;
		if (*dotted == '.')
			dotted++;
	}
	put8(w, 0);
}

static void ptr(struct wb *w, unsigned off)
{
	put16(w, 0xc000 | off);
}

static void question(struct wb *w, const char *qname, unsigned type, unsigned cls)
{
	name(w, qname);
	put16(w, type);
	put16(w, cls);
}

/* RR header after the owner name; returns the offset of RDLENGTH. */
static size_t rr_fixed(struct wb *w, unsigned type, unsigned cls, uint32_t ttl)
{
	put16(w, type);
	put16(w, cls);
	put32(w, ttl);
	size_t at = w->n;
	put16(w, 0);
	return at;
}

static void rr_end(struct wb *w, size_t rdlen_at)
{
	size_t len = w->n - rdlen_at - 2;
	w->b[rdlen_at] = (uint8_t)(len >> 8);
	w->b[rdlen_at + 1] = (uint8_t)len;
}

static void rr_a(struct wb *w, uint32_t ttl, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	size_t at = rr_fixed(w, 1, 1, ttl);
	put8(w, a);
	put8(w, b);
	put8(w, c);
	put8(w, d);
	rr_end(w, at);
}

/* OPT pseudo-RR: owner root, class = UDP size, TTL = ext rcode/version/flags. */
static size_t opt_begin(struct wb *w, unsigned udp, unsigned ext_rcode, unsigned version, bool do_bit)
{
	put8(w, 0);
	return rr_fixed(w, 41, udp, (uint32_t)ext_rcode << 24 | version << 16 | (do_bit ? 0x8000u : 0));
}

static bool printable(const char *s, size_t cap)
{
	size_t i;
	for (i = 0; i < cap && s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return i < cap; /* NUL-terminated within the buffer */
}

static struct iotdns_dns_parser *P;

static int parse(const struct wb *w, const struct iotdns_dns_msg **m, enum iotdns_problem *pr)
{
	*pr = IOTDNS_P_COUNT;
	return iotdns_dns_parse(P, w->b, (uint32_t)w->n, m, pr);
}

static bool is_dns_problem(enum iotdns_problem p)
{
	return p == IOTDNS_P_DNS_MALFORMED || p == IOTDNS_P_DNS_TRUNCATED || p == IOTDNS_P_DNS_BAD_NAME ||
	       p == IOTDNS_P_DNS_COMPRESSION_LOOP;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void build_edns_query(struct wb *w)
{
	hdr(w, 0x1234, 0x0100 /* RD */, 1, 0, 0, 1);
	question(w, "WwW.ExAmple.COM", 1, 1);
	size_t at = opt_begin(w, 1232, 0, 0, true);
	/* ECS: family 1, source /24, scope /0, 3 address bytes */
	put16(w, 8);
	put16(w, 7);
	put16(w, 1);
	put8(w, 24);
	put8(w, 0);
	put8(w, 192);
	put8(w, 0);
	put8(w, 2);
	/* client cookie, 8 bytes */
	put16(w, 10);
	put16(w, 8);
	putmem(w, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	/* padding, 37 bytes */
	put16(w, 12);
	put16(w, 37);
	for (int i = 0; i < 37; i++)
		put8(w, 0);
	rr_end(w, at);
}

static void test_edns_query(void)
{
	struct wb w;
	const struct iotdns_dns_msg *m;
	enum iotdns_problem pr;

	build_edns_query(&w);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (!m)
		return;
	CHECK_EQ_INT(m->size, w.n);
	CHECK_EQ_INT(m->id, 0x1234);
	CHECK_EQ_INT(m->flags, 0x0100);
	CHECK(!m->qr && m->rd && !m->aa && !m->tc && !m->ra && !m->ad && !m->cd);
	CHECK_EQ_INT(m->opcode, 0);
	CHECK_EQ_INT(m->qdcount, 1);
	CHECK_EQ_INT(m->arcount, 1);
	CHECK(m->has_question);
	CHECK_EQ_STR(m->qname, "www.example.com");
	CHECK_EQ_STR(m->qname_raw, "WwW.ExAmple.COM");
	CHECK_EQ_INT(m->qname_wire_len, 17);
	CHECK_EQ_INT(m->qname_labels, 3);
	CHECK_EQ_INT(m->qtype, IOTDNS_T_A);
	CHECK_EQ_INT(m->qclass, 1);
	CHECK(!m->qu);
	CHECK(m->edns.present);
	CHECK_EQ_INT(m->edns.udp_size, 1232);
	CHECK_EQ_INT(m->edns.version, 0);
	CHECK(m->edns.do_bit);
	CHECK_EQ_INT(m->edns.noptions, 3);
	CHECK_EQ_INT(m->edns.option_codes[0], IOTDNS_EDNS_ECS);
	CHECK_EQ_INT(m->edns.option_codes[1], IOTDNS_EDNS_COOKIE);
	CHECK_EQ_INT(m->edns.option_codes[2], IOTDNS_EDNS_PADDING);
	CHECK(m->edns.has_ecs);
	CHECK_EQ_INT(m->edns.ecs_family, 1);
	CHECK_EQ_INT(m->edns.ecs_source_prefix, 24);
	CHECK_EQ_INT(m->edns.ecs_scope_prefix, 0);
	CHECK(m->edns.has_cookie);
	CHECK_EQ_INT(m->edns.cookie_len, 8);
	CHECK(m->edns.has_padding);
	CHECK_EQ_INT(m->edns.padding_len, 37);
	CHECK_EQ_INT(m->rcode, 0);
	CHECK_EQ_INT(m->nanswers, 0);
	CHECK(!m->has_min_ttl);
	CHECK(!m->soa.present);

	/* Same query without DO, and an option whose length runs past the
	 * OPT RDATA: the options before it are kept, the rest ignored. */
	hdr(&w, 0x4321, 0x0100, 1, 0, 0, 1);
	question(&w, "example.org", 28, 1);
	size_t at = opt_begin(&w, 4096, 0, 0, false);
	put16(&w, 11); /* keepalive, empty */
	put16(&w, 0);
	put16(&w, 10); /* cookie claiming 200 bytes, only 2 present */
	put16(&w, 200);
	put16(&w, 0xabcd);
	rr_end(&w, at);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (!m)
		return;
	CHECK(m->edns.present && !m->edns.do_bit);
	CHECK_EQ_INT(m->edns.udp_size, 4096);
	CHECK_EQ_INT(m->edns.noptions, 1);
	CHECK_EQ_INT(m->edns.option_codes[0], IOTDNS_EDNS_KEEPALIVE);
	CHECK(!m->edns.has_cookie && !m->edns.has_ecs && !m->edns.has_padding);
	CHECK_EQ_INT(m->qtype, IOTDNS_T_AAAA);

	/* A bare OPT (UDP size 0, no flags, no options) is still EDNS. */
	hdr(&w, 0x4322, 0, 0, 0, 0, 1);
	at = opt_begin(&w, 0, 0, 0, false);
	rr_end(&w, at);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (m) {
		CHECK(m->edns.present);
		CHECK_EQ_INT(m->edns.udp_size, 0);
		CHECK_EQ_INT(m->edns.noptions, 0);
		CHECK(!m->has_question);
		CHECK_EQ_INT(m->arcount, 1); /* the header's count, OPT included */
	}

	/* Extended RCODE: BADVERS = 16 = ext 1 << 4 | 0. */
	hdr(&w, 7, 0x8100, 1, 0, 0, 1);
	question(&w, "example.org", 1, 1);
	at = opt_begin(&w, 1232, 1, 0, false);
	rr_end(&w, at);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (m) {
		char buf[16];
		CHECK_EQ_INT(m->edns.ext_rcode, 1);
		CHECK_EQ_INT(m->rcode, 16);
		CHECK_EQ_STR(iotdns_rcode_name(m->rcode, buf), "BADVERS");
	}
}

/* www.example.com CNAME a.cdn.example.net (300) ; a.cdn... CNAME b.cdn... (60) ;
 * b.cdn... A 192.0.2.1 (120), A 192.0.2.2 (120), AAAA 2001:db8::1 (90) */
static void build_cname_response(struct wb *w)
{
	size_t at, a_off, b_off;

	hdr(w, 0xbeef, 0x8180, 1, 5, 0, 0);
	question(w, "www.example.com", 1, 1);
	ptr(w, 12);
	at = rr_fixed(w, 5, 1, 300);
	a_off = w->n;
	name(w, "a.cdn.example.net");
	rr_end(w, at);
	ptr(w, (unsigned)a_off);
	at = rr_fixed(w, 5, 1, 60);
	b_off = w->n;
	put8(w, 1);
	put8(w, 'b');
	ptr(w, (unsigned)a_off + 2); /* "cdn.example.net" */
	rr_end(w, at);
	ptr(w, (unsigned)b_off);
	rr_a(w, 120, 192, 0, 2, 1);
	ptr(w, (unsigned)b_off);
	rr_a(w, 120, 192, 0, 2, 2);
	ptr(w, (unsigned)b_off);
	at = rr_fixed(w, 28, 1, 90);
	putmem(w, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	rr_end(w, at);
}

static void test_cname_chain(void)
{
	struct wb w;
	const struct iotdns_dns_msg *m;
	enum iotdns_problem pr;

	build_cname_response(&w);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (!m)
		return;
	CHECK(m->qr && m->rd && m->ra);
	CHECK_EQ_INT(m->rcode, 0);
	CHECK(!m->edns.present);
	CHECK_EQ_INT(m->ancount, 5);
	CHECK_EQ_INT(m->nanswers, 5);
	CHECK_EQ_INT(m->n_addr_answers, 3);
	CHECK(m->has_min_ttl);
	CHECK_EQ_INT(m->min_ttl, 60);
	CHECK_EQ_INT(m->answers[0].type, IOTDNS_T_CNAME);
	CHECK_EQ_STR(m->answers[0].owner, "www.example.com");
	CHECK_EQ_STR(m->answers[0].target, "a.cdn.example.net");
	CHECK_EQ_INT(m->answers[0].ttl, 300);
	CHECK_EQ_INT(m->answers[0].addr.family, 0);
	CHECK_EQ_STR(m->answers[1].owner, "a.cdn.example.net");
	CHECK_EQ_STR(m->answers[1].target, "b.cdn.example.net");
	CHECK_EQ_INT(m->answers[2].type, IOTDNS_T_A);
	CHECK_EQ_STR(m->answers[2].owner, "b.cdn.example.net");
	CHECK_EQ_STR(m->answers[2].target, "");
	CHECK_EQ_INT(m->answers[2].addr.family, 4);
	CHECK(memcmp(m->answers[2].addr.b, "\xc0\x00\x02\x01", 4) == 0);
	CHECK(memcmp(m->answers[3].addr.b, "\xc0\x00\x02\x02", 4) == 0);
	CHECK_EQ_INT(m->answers[3].rclass, 1);
	CHECK_EQ_INT(m->answers[4].type, IOTDNS_T_AAAA);
	CHECK_EQ_INT(m->answers[4].addr.family, 6);
	CHECK_EQ_INT(m->answers[4].addr.b[15], 1);
	CHECK_EQ_INT(m->answers[4].addr.b[0], 0x20);
}

static void test_nxdomain_soa(void)
{
	struct wb w;
	const struct iotdns_dns_msg *m;
	enum iotdns_problem pr;
	char buf[16];

	hdr(&w, 99, 0x8183, 1, 0, 1, 0);
	question(&w, "nope.Example.com", 1, 1);
	put8(&w, 7);
	putmem(&w, "EXAMPLE", 7);
	put8(&w, 3);
	putmem(&w, "com", 3);
	put8(&w, 0);
	size_t at = rr_fixed(&w, 6, 1, 900);
	name(&w, "ns1.example.com");
	name(&w, "hostmaster.example.com");
	put32(&w, 2024010101);
	put32(&w, 7200);
	put32(&w, 3600);
	put32(&w, 1209600);
	put32(&w, 3600);
	rr_end(&w, at);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (!m)
		return;
	CHECK_EQ_INT(m->rcode, IOTDNS_RCODE_NXDOMAIN);
	CHECK_EQ_STR(iotdns_rcode_name(m->rcode, buf), "NXDOMAIN");
	CHECK(m->aa == false && m->qr);
	CHECK_EQ_INT(m->nanswers, 0);
	CHECK(!m->has_min_ttl);
	CHECK(m->soa.present);
	CHECK_EQ_STR(m->soa.zone, "example.com");
	CHECK_EQ_INT(m->soa.ttl, 900);
	CHECK_EQ_INT(m->soa.minimum, 3600);
	CHECK_EQ_STR(m->qname, "nope.example.com");
	CHECK_EQ_STR(m->qname_raw, "nope.Example.com");

	/* The same parser, next message: nothing of the SOA may survive. */
	hdr(&w, 100, 0x0000, 1, 0, 0, 0);
	question(&w, "", 2, 1); /* NS query for the root */
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (!m)
		return;
	CHECK(!m->soa.present);
	CHECK_EQ_STR(m->soa.zone, "");
	CHECK(!m->edns.present);
	CHECK_EQ_INT(m->edns.noptions, 0);
	CHECK_EQ_STR(m->qname, ".");
	CHECK_EQ_STR(m->qname_raw, ".");
	CHECK_EQ_INT(m->qname_wire_len, 1);
	CHECK_EQ_INT(m->qname_labels, 0);
	CHECK_EQ_INT(m->qtype, IOTDNS_T_NS);
}

static void test_hostile_names(void)
{
	struct wb w;
	const struct iotdns_dns_msg *m;
	enum iotdns_problem pr;
	static const uint8_t label1[] = { 'A', 0x00, 0x07, '\n', 0x7f, 'z' };
	static const char label2[] = "<script>";
	static const uint8_t label3[] = { 0x80, 0xc3, 0xa9, 0xff, '.', '\\', '"', ' ', '_', '-' };

	hdr(&w, 1, 0x0100, 1, 1, 0, 0);
	put8(&w, sizeof(label1));
	putmem(&w, label1, sizeof(label1));
	put8(&w, 8);
	putmem(&w, label2, 8);
	put8(&w, sizeof(label3));
	putmem(&w, label3, sizeof(label3));
	put8(&w, 0);
	put16(&w, 12); /* PTR */
	put16(&w, 1);
	/* answer: owner = qname, PTR to a name with a space and '*' */
	ptr(&w, 12);
	size_t at = rr_fixed(&w, 12, 1, 5);
	put8(&w, 1);
	put8(&w, '*');
	put8(&w, 3);
	putmem(&w, "a b", 3);
	put8(&w, 0);
	rr_end(&w, at);

	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (!m)
		return;
	const char *want_raw = "A\\000\\007\\010\\127z"
			       ".\\060script\\062"
			       ".\\128\\195\\169\\255\\.\\\\\\034\\032_-";
	CHECK_EQ_STR(m->qname_raw, want_raw);
	CHECK_EQ_STR(m->qname, "a\\000\\007\\010\\127z.\\060script\\062.\\128\\195\\169\\255\\.\\\\\\034\\032_-");
	CHECK(printable(m->qname, sizeof(m->qname)));
	CHECK(printable(m->qname_raw, sizeof(m->qname_raw)));
	CHECK(strchr(m->qname, '<') == NULL && strchr(m->qname, '"') == NULL);
	CHECK_EQ_INT(m->qname_labels, 3);
	CHECK_EQ_INT(m->qname_wire_len, 1 + 6 + 1 + 8 + 1 + 10 + 1);
	CHECK_EQ_STR(m->answers[0].owner, m->qname);
	CHECK_EQ_STR(m->answers[0].target, "\\042.a\\032b");
	CHECK(printable(m->answers[0].target, sizeof(m->answers[0].target)));

	/* Worst case: a 255-byte name made of 63-byte labels of 0xff bytes:
	 * every byte becomes \255 and the text still fits. */
	hdr(&w, 2, 0, 1, 0, 0, 0);
	for (int l = 0; l < 3; l++) {
		put8(&w, 63);
		for (int i = 0; i < 63; i++)
			put8(&w, 0xff);
	}
	put8(&w, 61);
	for (int i = 0; i < 61; i++)
		put8(&w, 0xff);
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (m) {
		CHECK_EQ_INT(m->qname_wire_len, 255);
		CHECK_EQ_INT(m->qname_labels, 4);
		CHECK_EQ_INT(strlen(m->qname), 4 * 250 + 3);
		CHECK(printable(m->qname, sizeof(m->qname)));
	}
}

static void test_bad_names(void)
{
	struct wb w;
	const struct iotdns_dns_msg *m;
	enum iotdns_problem pr;
	struct timespec t0, t1;

	/* Pointer to itself (the zlip pattern). */
	hdr(&w, 0xed69, 0, 1, 0, 0, 0);
	ptr(&w, 12);
	put16(&w, 1);
	put16(&w, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_COMPRESSION_LOOP);
	CHECK(m == NULL);
	printf("# self-pointer loop rejected in %ld us\n",
	       (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));

	/* Two pointers pointing at each other. */
	hdr(&w, 0x4a30, 0, 1, 0, 0, 0);
	ptr(&w, 14);
	ptr(&w, 12);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_COMPRESSION_LOOP);

	/* A loop through a label: "a" + pointer back to it. */
	hdr(&w, 3, 0, 1, 0, 0, 0);
	put8(&w, 1);
	put8(&w, 'a');
	ptr(&w, 12);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK(pr == IOTDNS_P_DNS_COMPRESSION_LOOP || pr == IOTDNS_P_DNS_BAD_NAME);

	/* A loop in an answer's RDATA (CNAME target pointing at itself). */
	hdr(&w, 4, 0x8180, 1, 1, 0, 0);
	question(&w, "x.example", 1, 1);
	ptr(&w, 12);
	size_t at = rr_fixed(&w, 5, 1, 60);
	ptr(&w, (unsigned)w.n);
	rr_end(&w, at);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_COMPRESSION_LOOP);

	/* Pointer beyond the end of the message. */
	hdr(&w, 5, 0, 1, 0, 0, 0);
	ptr(&w, 0x3000);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK(is_dns_problem(pr));

	/* Label of 64 bytes (length byte 0x40 = reserved label type too). */
	hdr(&w, 6, 0, 1, 0, 0, 0);
	put8(&w, 64);
	for (int i = 0; i < 64; i++)
		put8(&w, 'a');
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_BAD_NAME);

	/* Extended label type 0x41 (RFC 6891 deprecated bitstring labels). */
	hdr(&w, 7, 0, 1, 0, 0, 0);
	put8(&w, 0x41);
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_BAD_NAME);

	/* Name over 255 bytes: 5 labels of 63. */
	hdr(&w, 8, 0, 1, 0, 0, 0);
	for (int l = 0; l < 5; l++) {
		put8(&w, 63);
		for (int i = 0; i < 63; i++)
			put8(&w, 'b');
	}
	put8(&w, 0);
	put16(&w, 1);
	put16(&w, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_BAD_NAME);

	/* Question count says 2, only one present: truncated. */
	hdr(&w, 9, 0, 2, 0, 0, 0);
	question(&w, "a.example", 1, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_TRUNCATED);

	/* OPT whose RDLENGTH runs past the message (the "edns bad length" case). */
	hdr(&w, 10, 0x8180, 1, 0, 0, 1);
	question(&w, "example.com", 1, 1);
	put8(&w, 0);
	put16(&w, 41);
	put16(&w, 4096);
	put32(&w, 0);
	put16(&w, 256);
	put16(&w, 8);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_TRUNCATED);

	/* Shorter than a header: truncated without calling ldns. */
	for (uint32_t n = 0; n < 12; n++) {
		pr = IOTDNS_P_COUNT;
		CHECK_EQ_INT(iotdns_dns_parse(P, w.b, n, &m, &pr), IOTDNS_EMALFORMED);
		CHECK_EQ_INT(pr, IOTDNS_P_DNS_TRUNCATED);
	}

	/* A forward pointer (to the second question) is odd but decodable. */
	hdr(&w, 0x8e04, 0x0100, 2, 0, 0, 0);
	ptr(&w, 18);
	put16(&w, 1);
	put16(&w, 1);
	question(&w, "codemonkey.net", 1, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (m)
		CHECK_EQ_STR(m->qname, "codemonkey.net");
}

/* Every prefix of a valid message parses to OK or to a DNS problem. */
static void test_truncation(void)
{
	struct wb full, w;
	const struct iotdns_dns_msg *m;
	enum iotdns_problem pr;
	int bad = 0, ok = 0, trunc = 0;

	build_cname_response(&full);
	for (size_t n = 0; n <= full.n; n++) {
		memcpy(w.b, full.b, n);
		w.n = n;
		int rc = parse(&w, &m, &pr);
		if (rc == IOTDNS_OK && m)
			ok++;
		else if (rc == IOTDNS_EMALFORMED && m == NULL && is_dns_problem(pr))
			trunc += pr == IOTDNS_P_DNS_TRUNCATED;
		else
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(ok, 1); /* only the full message */
	CHECK(trunc > (int)full.n / 2);

	build_edns_query(&full);
	bad = ok = 0;
	for (size_t n = 0; n <= full.n; n++) {
		int rc = iotdns_dns_parse(P, full.b, (uint32_t)n, &m, &pr);
		if (rc == IOTDNS_OK)
			ok++;
		else if (rc != IOTDNS_EMALFORMED || !is_dns_problem(pr))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(ok, 1);

	/* Cut right after the question: the answers are missing. */
	build_cname_response(&full);
	CHECK_EQ_INT(iotdns_dns_parse(P, full.b, 12 + 17 + 4, &m, &pr), IOTDNS_EMALFORMED);
	CHECK_EQ_INT(pr, IOTDNS_P_DNS_TRUNCATED);
}

static void test_many_answers(void)
{
	struct wb w;
	const struct iotdns_dns_msg *m;
	enum iotdns_problem pr;
	const int n = IOTDNS_DNS_MAX_ANSWERS + 9;

	hdr(&w, 11, 0x8180, 1, (unsigned)n, 0, 0);
	question(&w, "many.example", 1, 1);
	for (int i = 0; i < n; i++) {
		ptr(&w, 12);
		/* the smallest TTL is in the last (unstored) record */
		rr_a(&w, (uint32_t)(1000 - i), 10, 0, 0, (uint8_t)i);
	}
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (!m)
		return;
	CHECK_EQ_INT(m->nanswers, IOTDNS_DNS_MAX_ANSWERS);
	CHECK_EQ_INT(m->ancount, n);
	CHECK_EQ_INT(m->n_addr_answers, n);
	CHECK_EQ_INT(m->min_ttl, 1000 - (n - 1));
	CHECK_EQ_INT(m->answers[IOTDNS_DNS_MAX_ANSWERS - 1].addr.b[3], IOTDNS_DNS_MAX_ANSWERS - 1);
	CHECK_EQ_INT(m->answers[0].ttl, 1000);
}

static void test_mdns_and_types(void)
{
	struct wb w;
	const struct iotdns_dns_msg *m;
	enum iotdns_problem pr;
	char buf[16];

	/* mDNS query with the QU bit: class 0x8001. */
	hdr(&w, 0, 0, 1, 0, 0, 0);
	question(&w, "_hap._tcp.local", 12, 0x8001);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (m) {
		CHECK(m->qu);
		CHECK_EQ_INT(m->qclass, 1);
		CHECK_EQ_INT(m->qtype, IOTDNS_T_PTR);
		CHECK_EQ_STR(m->qname, "_hap._tcp.local");
	}
	hdr(&w, 0, 0, 1, 0, 0, 0);
	question(&w, "_hap._tcp.local", 12, 1);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (m)
		CHECK(!m->qu && m->qclass == 1);

	/* mDNS response: PTR, SRV, MX targets; cache-flush class 0x8001. */
	hdr(&w, 0, 0x8400, 0, 3, 0, 0);
	name(&w, "_hap._tcp.local");
	size_t at = rr_fixed(&w, 12, 0x8001, 4500);
	name(&w, "Lamp._hap._tcp.local");
	rr_end(&w, at);
	name(&w, "lamp._hap._tcp.local");
	at = rr_fixed(&w, 33, 1, 120);
	put16(&w, 0);
	put16(&w, 0);
	put16(&w, 8080);
	name(&w, "Lamp-1.local");
	rr_end(&w, at);
	name(&w, "example.com");
	at = rr_fixed(&w, 15, 1, 30);
	put16(&w, 10);
	name(&w, "mx.Example.com");
	rr_end(&w, at);
	CHECK_EQ_INT(parse(&w, &m, &pr), IOTDNS_OK);
	if (m) {
		CHECK(!m->has_question);
		CHECK_EQ_STR(m->qname, "");
		CHECK(m->aa);
		CHECK_EQ_INT(m->nanswers, 3);
		CHECK_EQ_INT(m->n_addr_answers, 0);
		CHECK_EQ_STR(m->answers[0].target, "lamp._hap._tcp.local");
		CHECK_EQ_INT(m->answers[0].rclass, 0x8001);
		CHECK_EQ_STR(m->answers[1].target, "lamp-1.local");
		CHECK_EQ_STR(m->answers[2].target, "mx.example.com");
		CHECK_EQ_INT(m->min_ttl, 30);
	}

	CHECK_EQ_STR(iotdns_rrtype_name(1, buf), "A");
	CHECK_EQ_STR(iotdns_rrtype_name(28, buf), "AAAA");
	CHECK_EQ_STR(iotdns_rrtype_name(65, buf), "HTTPS");
	CHECK_EQ_STR(iotdns_rrtype_name(50, buf), "NSEC3");
	CHECK_EQ_STR(iotdns_rrtype_name(65534, buf), "TYPE65534");
	CHECK_EQ_STR(iotdns_rrtype_name(0, buf), "TYPE0");
	CHECK_EQ_STR(iotdns_rcode_name(0, buf), "NOERROR");
	CHECK_EQ_STR(iotdns_rcode_name(5, buf), "REFUSED");
	CHECK_EQ_STR(iotdns_rcode_name(3841, buf), "RCODE3841");
}

static void test_sha256(void)
{
	struct iotdns_sha256 h;
	char hex[65];

	iotdns_sha256_init(&h);
	iotdns_sha256_update(&h, "abc", 3);
	iotdns_sha256_final(&h, hex);
	CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	iotdns_sha256_init(&h);
	iotdns_sha256_final(&h, hex);
	CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	/* FIPS 180-2 two-block vector, fed in odd pieces. */
	const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	iotdns_sha256_init(&h);
	for (size_t i = 0, step = 1; i < strlen(msg); i += step, step += 2)
		iotdns_sha256_update(&h, msg + i, IOTDNS_MIN(step, strlen(msg) - i));
	iotdns_sha256_final(&h, hex);
	CHECK_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* ------------------------------------------------------------------ */
/* Real captures                                                       */
/* ------------------------------------------------------------------ */

struct corpus_stats {
	unsigned files, messages, ok, failed, bad_rc, bad_text;
};

static void check_view_text(const struct iotdns_dns_msg *m, struct corpus_stats *cs)
{
	bool good = printable(m->qname, sizeof(m->qname)) &&
		    printable(m->qname_raw, sizeof(m->qname_raw)) &&
		    printable(m->soa.zone, sizeof(m->soa.zone));
	for (unsigned i = 0; i < m->nanswers; i++)
		good = good && printable(m->answers[i].owner, IOTDNS_NAME_TEXT) &&
		       printable(m->answers[i].target, IOTDNS_NAME_TEXT);
	if (!good)
		cs->bad_text++;
}

/* Minimal Ethernet/VLAN/SLL/raw -> IPv4/IPv6 (no extension headers, no
 * fragments) -> UDP port 53/5353/5355 walker: enough to exercise the
 * parser with real payloads. */
static void corpus_packet(const uint8_t *d, uint32_t caplen, int dlt, struct corpus_stats *cs)
{
	uint32_t off = 0;
	unsigned et;

	if (dlt == DLT_EN10MB) {
		if (caplen < 14)
			return;
		et = (unsigned)(d[12] << 8 | d[13]);
		off = 14;
		while ((et == 0x8100 || et == 0x88a8) && caplen >= off + 4) {
			et = (unsigned)(d[off + 2] << 8 | d[off + 3]);
			off += 4;
		}
	} else if (dlt == DLT_LINUX_SLL) {
		if (caplen < 16)
			return;
		et = (unsigned)(d[14] << 8 | d[15]);
		off = 16;
	} else if (dlt == DLT_RAW || dlt == 12 || dlt == 14 || dlt == 228 || dlt == 229) {
		if (caplen < 1)
			return;
		et = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
	} else {
		return;
	}
	uint32_t l4;
	if (et == 0x0800) {
		if (caplen < off + 20 || (d[off] >> 4) != 4 || d[off + 9] != 17)
			return;
		if ((d[off + 6] & 0x3f) || d[off + 7]) /* fragment */
			return;
		l4 = off + (uint32_t)(d[off] & 15) * 4;
	} else if (et == 0x86dd) {
		if (caplen < off + 40 || d[off + 6] != 17)
			return;
		l4 = off + 40;
	} else {
		return;
	}
	if (caplen < l4 + 8)
		return;
	unsigned sp = (unsigned)(d[l4] << 8 | d[l4 + 1]), dp = (unsigned)(d[l4 + 2] << 8 | d[l4 + 3]);
	unsigned ulen = (unsigned)(d[l4 + 4] << 8 | d[l4 + 5]);
	bool dns = sp == 53 || dp == 53 || sp == 5353 || dp == 5353 || sp == 5355 || dp == 5355;
	if (!dns || ulen < 8)
		return;
	uint32_t plen = IOTDNS_MIN(caplen - l4 - 8, ulen - 8);
	const struct iotdns_dns_msg *m = NULL;
	enum iotdns_problem pr = IOTDNS_P_COUNT;
	int rc = iotdns_dns_parse(P, d + l4 + 8, plen, &m, &pr);
	cs->messages++;
	if (rc == IOTDNS_OK && m) {
		cs->ok++;
		check_view_text(m, cs);
	} else if (rc == IOTDNS_EMALFORMED && !m && is_dns_problem(pr)) {
		cs->failed++;
	} else {
		cs->bad_rc++;
	}
}

static void corpus_dir(const char *dir, struct corpus_stats *cs)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096], errbuf[PCAP_ERRBUF_SIZE];

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strstr(de->d_name, ".pcap"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		pcap_t *pc = pcap_open_offline(path, errbuf);
		if (!pc)
			continue;
		cs->files++;
		int dlt = pcap_datalink(pc);
		struct pcap_pkthdr *ph;
		const u_char *pkt;
		while (pcap_next_ex(pc, &ph, &pkt) == 1)
			corpus_packet(pkt, ph->caplen, dlt, cs);
		pcap_close(pc);
	}
	if (d)
		closedir(d);
}

static void test_corpus(void)
{
	const char *root = getenv("IOTDNS_SOURCE_ROOT");
	char dir[4096];
	struct corpus_stats dns = { 0 }, bad = { 0 };

	snprintf(dir, sizeof(dir), "%s/../shared/corpus/dns", root ? root : ".");
	DIR *probe = opendir(dir);
	if (!root || !probe) {
		printf("ok %d # SKIP corpus absent\n", ++tap_n);
		return;
	}
	closedir(probe);
	corpus_dir(dir, &dns);
	snprintf(dir, sizeof(dir), "%s/../shared/corpus/malformed", root);
	corpus_dir(dir, &bad);
	printf("# corpus dns/: %u files, %u messages, %u ok, %u failed\n", dns.files, dns.messages,
	       dns.ok, dns.failed);
	printf("# corpus malformed/: %u files, %u messages, %u ok, %u failed\n", bad.files,
	       bad.messages, bad.ok, bad.failed);
	CHECK(dns.messages > 100);
	CHECK(dns.ok > dns.messages * 9 / 10); /* real traffic decodes */
	CHECK_EQ_INT(dns.bad_rc + bad.bad_rc, 0);
	CHECK_EQ_INT(dns.bad_text + bad.bad_text, 0);
	CHECK(bad.failed > 0); /* the hostile captures do trip the parser */
}

int main(void)
{
	if (iotdns_dns_parser_new(&P) != IOTDNS_OK) {
		printf("Bail out! parser allocation failed\n");
		return 1;
	}
	test_edns_query();
	test_cname_chain();
	test_nxdomain_soa();
	test_hostile_names();
	test_bad_names();
	test_truncation();
	test_many_answers();
	test_mdns_and_types();
	test_sha256();
	test_corpus();
	iotdns_dns_parser_free(P);
	return tap_done();
}

/* iotdns - DNS over TCP stream reassembly (RFC 7766 framing).
 * Contract in include/iotdns/tcp_stream.h; rules in docs/internals/decoding.md.
 *
 * Per stream (one direction of a connection) we keep a window of the byte
 * stream starting at sequence number `base`:
 *   buf[0 .. len)        contiguous in-order bytes not yet delivered (at most
 *                        one incomplete message, or its length prefix);
 *   r[0 .. nranges)      out-of-order data held beyond `len` (offsets from
 *                        base, sorted, disjoint, never adjacent);
 *   starts[0 .. nstarts) offsets where a held segment began: the places
 *                        where a resynchronisation may start.
 * Everything in the window lies below limits->tcp_stream_buffer (`bufcap`).
 * All sequence arithmetic is modulo 2^32 (signed differences), so
 * wraparound is handled.
 *
 * Resynchronisation (no SYN seen, a gap that cannot be filled, or a length
 * prefix below 12) restarts at the first held segment start, or at the first
 * later segment, that looks like the start of a DNS message; see plausible().
 */
#include <stdlib.h>
#include <string.h>

#include "decode_internal.h"
#include "iotdns/addr.h"
#include "iotdns/common.h"
#include "iotdns/tcp_stream.h"

#define NONE UINT32_MAX
#define TCP_MAX_RANGES 8    /* out-of-order holes tracked per stream; more: TCP_OVERFLOW */
#define TCP_MAX_STARTS 24   /* held segment starts remembered as resync candidates */
#define TCP_MIN_BUF 1024u   /* first buffer allocation; doubles up to bufcap */
#define TCP_KEEP_BUF 4096u  /* a freed stream keeps a buffer this small for its slot's next use */
#define TCP_LAZY_EXPIRE 2   /* idle streams closed per segment (besides iotdns_tcp_expire) */
#define DNS_HEADER 12

struct tcp_range {
	uint32_t s, e; /* [s, e) offsets from base */
};

struct tcp_stream {
	/* key: one direction of a connection */
	struct iotdns_addr src, dst;
	uint16_t sport, dport;
	bool in_use;
	bool synced;        /* base is a message boundary we trust */
	bool have_isn;      /* synchronised by a SYN (isn valid) */
	uint8_t nranges, nstarts;
	uint32_t hnext;     /* hash chain (slot index) */
	uint32_t prev, next;/* LRU list, least recently used first; next links the free list */
	uint32_t isn;       /* sequence number of the SYN that synchronised us */
	uint32_t base;      /* sequence number of buf[0] */
	uint32_t len;       /* in-order bytes at buf[0..len) */
	uint32_t skip;      /* in-order bytes still to discard (message over the cap) */
	uint32_t cap;       /* bytes allocated in buf (<= bufcap) */
	uint8_t *buf;       /* owned, NULL until data must be held */
	uint64_t last_us;   /* time of the last segment (idle expiry) */
	uint64_t last_pktno;
	uint32_t last_input;
	struct tcp_range r[TCP_MAX_RANGES];
	uint32_t starts[TCP_MAX_STARTS];
};

struct iotdns_tcp_table {
	struct iotdns_stats *st;      /* borrowed */
	iotdns_tcp_msg_fn fn;         /* must not call back into this table */
	void *ctx;
	uint64_t idle_us;
	uint32_t bufcap;              /* per-stream window, from limits->tcp_stream_buffer */
	uint32_t nslots;              /* limits->max_tcp_streams */
	struct tcp_stream *s;         /* owned, nslots, allocated up front */
	uint32_t *buckets;            /* owned, nbuckets (power of two) chain heads */
	uint32_t nbuckets;
	uint32_t count;
	uint32_t free_head;
	uint32_t lru_head, lru_tail;
};

/* ---- table plumbing ---------------------------------------------------- */

int iotdns_tcp_new(struct iotdns_tcp_table **out, const struct iotdns_limits *lim,
		   struct iotdns_stats *stats, iotdns_tcp_msg_fn fn, void *ctx)
{
	struct iotdns_tcp_table *t;
	uint32_t nb = 16;

	*out = NULL;
	if (!lim || !stats || !fn || lim->max_tcp_streams > (1u << 24))
		return IOTDNS_EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return IOTDNS_ENOMEM;
	t->st = stats;
	t->fn = fn;
	t->ctx = ctx;
	t->idle_us = lim->tcp_idle_us;
	/* room for at least a length prefix and a header; windows stay far
	 * below 2^31 so that signed sequence differences are meaningful */
	t->bufcap = IOTDNS_MAX(lim->tcp_stream_buffer, 2 + DNS_HEADER);
	t->bufcap = IOTDNS_MIN(t->bufcap, 1u << 24);
	t->nslots = lim->max_tcp_streams;
	while (nb < 2 * t->nslots)
		nb <<= 1;
	t->nbuckets = nb;
	t->s = calloc(t->nslots ? t->nslots : 1, sizeof(*t->s));
	t->buckets = malloc(sizeof(*t->buckets) * nb);
	if (!t->s || !t->buckets) {
		free(t->s);
		free(t->buckets);
		free(t);
		return IOTDNS_ENOMEM;
	}
	for (uint32_t i = 0; i < nb; i++)
		t->buckets[i] = NONE;
	for (uint32_t i = 0; i < t->nslots; i++)
		t->s[i].next = i + 1 < t->nslots ? i + 1 : NONE;
	t->free_head = t->nslots ? 0 : NONE;
	t->lru_head = t->lru_tail = NONE;
	*out = t;
	return IOTDNS_OK;
}

void iotdns_tcp_free(struct iotdns_tcp_table *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nslots; i++)
		free(t->s[i].buf);
	free(t->s);
	free(t->buckets);
	free(t);
}

uint32_t iotdns_tcp_count(const struct iotdns_tcp_table *t)
{
	return t ? t->count : 0;
}

static uint32_t key_bucket(const struct iotdns_tcp_table *t, const struct iotdns_addr *src,
			   const struct iotdns_addr *dst, uint16_t sport, uint16_t dport)
{
	uint64_t h = iotdns_addr_hash(src);
	uint64_t g = iotdns_addr_hash(dst);
	h ^= (g << 23) | (g >> 41);
	h ^= ((uint64_t)sport << 16 | dport) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 31;
	return (uint32_t)h & (t->nbuckets - 1);
}

static uint32_t stream_find(const struct iotdns_tcp_table *t, const struct iotdns_addr *src,
			    const struct iotdns_addr *dst, uint16_t sport, uint16_t dport)
{
	uint32_t i = t->buckets[key_bucket(t, src, dst, sport, dport)];
	for (; i != NONE; i = t->s[i].hnext) {
		const struct tcp_stream *s = &t->s[i];
		if (s->sport == sport && s->dport == dport && iotdns_addr_eq(&s->src, src) &&
		    iotdns_addr_eq(&s->dst, dst))
			return i;
	}
	return NONE;
}

static void lru_unlink(struct iotdns_tcp_table *t, uint32_t i)
{
	struct tcp_stream *s = &t->s[i];
	if (s->prev != NONE)
		t->s[s->prev].next = s->next;
	else
		t->lru_head = s->next;
	if (s->next != NONE)
		t->s[s->next].prev = s->prev;
	else
		t->lru_tail = s->prev;
}

static void lru_append(struct iotdns_tcp_table *t, uint32_t i)
{
	struct tcp_stream *s = &t->s[i];
	s->next = NONE;
	s->prev = t->lru_tail;
	if (t->lru_tail != NONE)
		t->s[t->lru_tail].next = i;
	else
		t->lru_head = i;
	t->lru_tail = i;
}

/* Forgets stream i (no delivery) and returns its slot to the free list. */
static void stream_release(struct iotdns_tcp_table *t, uint32_t i)
{
	struct tcp_stream *s = &t->s[i];
	uint32_t *pp = &t->buckets[key_bucket(t, &s->src, &s->dst, s->sport, s->dport)];

	while (*pp != NONE && *pp != i)
		pp = &t->s[*pp].hnext;
	if (!iotdns_fails(*pp == i))
		*pp = s->hnext;
	lru_unlink(t, i);
	if (s->cap > TCP_KEEP_BUF) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
	s->in_use = false;
	s->next = t->free_head;
	t->free_head = i;
	t->count--;
}

static uint32_t stream_new(struct iotdns_tcp_table *t, const struct iotdns_pkt *pkt)
{
	struct tcp_stream *s;
	uint32_t i, b;

	if (t->free_head == NONE) {
		if (t->lru_head == NONE)
			return NONE; /* max_tcp_streams == 0 */
		t->st->evictions[IOTDNS_V_TCP_STREAMS]++;
		stream_release(t, t->lru_head);
	}
	i = t->free_head;
	s = &t->s[i];
	t->free_head = s->next;
	s->src = pkt->src;
	s->dst = pkt->dst;
	s->sport = pkt->sport;
	s->dport = pkt->dport;
	s->in_use = true;
	s->synced = false;
	s->have_isn = false;
	s->nranges = s->nstarts = 0;
	s->base = s->len = s->skip = 0;
	b = key_bucket(t, &s->src, &s->dst, s->sport, s->dport);
	s->hnext = t->buckets[b];
	t->buckets[b] = i;
	lru_append(t, i);
	t->count++;
	return i;
}

static bool stream_reserve(const struct iotdns_tcp_table *t, struct tcp_stream *s, uint32_t need)
{
	uint32_t cap;
	uint8_t *nb;

	if (need <= s->cap)
		return true;
	cap = s->cap ? s->cap : TCP_MIN_BUF;
	while (cap < need)
		cap *= 2;
	cap = IOTDNS_MIN(cap, t->bufcap);
	if (iotdns_fails(cap >= need))
		return false;
	nb = realloc(s->buf, cap);
	if (!nb)
		return false;
	s->buf = nb;
	s->cap = cap;
	return true;
}

/* ---- stream logic ------------------------------------------------------ */

/* Does p[0..n) look like the start of a length-prefixed DNS message?
 *  - the prefix L is 12..65535 (a DNS header is 12 bytes);
 *  - a segment of exactly 2 bytes (the prefix written on its own) is
 *    accepted on L alone; otherwise the 12-byte header must be present and
 *    have: an opcode that exists (0 QUERY, 1 IQUERY, 2 STATUS, 4 NOTIFY,
 *    5 UPDATE, 6 DSO), QDCOUNT <= 1 (true of every real query and answer),
 *    and section counts that fit in L (a question takes >= 5 bytes, a
 *    record >= 11);
 *  - a standard query (QR 0, opcode 0) has exactly one question, RCODE 0
 *    and no answers (this rejects a bare DNS message whose prefix was lost:
 *    read one field off, its QDCOUNT 1 becomes flags with RCODE 1);
 *  - with a question, the bytes of its name that we hold must be labels of
 *    at most 63 bytes (no compression pointer: nothing precedes it), within
 *    255 bytes, ending inside the message.
 * Data shorter than that is not trusted: we wait for a later segment. */
static bool plausible(const uint8_t *p, uint32_t n)
{
	uint32_t L, opcode, qd, rrs, end, i, namelen = 0;

	if (n < 2)
		return false;
	L = iotdns_be16(p);
	if (L < DNS_HEADER)
		return false;
	if (n == 2)
		return true;
	if (n < 2 + DNS_HEADER)
		return false;
	opcode = (p[4] >> 3) & 0x0f;
	if (opcode == 3 || opcode > 6)
		return false;
	qd = iotdns_be16(p + 6);
	if (qd > 1)
		return false;
	if (!(p[4] & 0x80) && opcode == 0 && (qd != 1 || (p[5] & 0x0f) || iotdns_be16(p + 8)))
		return false;
	rrs = (uint32_t)iotdns_be16(p + 8) + iotdns_be16(p + 10) + iotdns_be16(p + 12);
	if (qd * 5 + rrs * 11 > L - DNS_HEADER)
		return false;
	if (!qd)
		return true;
	end = IOTDNS_MIN(n, 2 + L); /* the question name, as far as we hold it */
	for (i = 2 + DNS_HEADER; i < end; i += 1 + p[i]) {
		if (p[i] > 63)
			return false;
		if (p[i] == 0)
			return i + 5 <= 2 + L; /* root label, then type and class */
		namelen += 1 + p[i];
		if (namelen > 255)
			return false;
	}
	return n < 2 + L; /* ran out of held bytes: fine so far; else unterminated */
}

static void stream_unsync(struct tcp_stream *s)
{
	s->synced = false;
	s->len = 0;
	s->skip = 0;
	s->nranges = 0;
	s->nstarts = 0;
}

static void sync_at(struct tcp_stream *s, uint32_t seq)
{
	s->synced = true;
	s->base = seq;
	s->len = 0;
	s->skip = 0;
	s->nranges = 0;
	s->nstarts = 0;
}

/* Drops the first k bytes of the window (delivered, skipped or abandoned). */
static void stream_shift(struct tcp_stream *s, uint32_t k)
{
	uint32_t end = s->nranges ? s->r[s->nranges - 1].e : s->len;
	unsigned j = 0;

	if (k == 0)
		return;
	if (iotdns_fails(k <= end && k <= s->len))
		k = IOTDNS_MIN(k, s->len);
	if (end > k)
		memmove(s->buf, s->buf + k, end - k);
	s->len -= k;
	s->base += k;
	for (unsigned i = 0; i < s->nranges; i++) {
		s->r[i].s -= k;
		s->r[i].e -= k;
	}
	for (unsigned i = 0; i < s->nstarts; i++)
		if (s->starts[i] >= k)
			s->starts[j++] = s->starts[i] - k;
	s->nstarts = (uint8_t)j;
}

/* Moves held ranges that now touch the in-order data into it. (Segment
 * starts inside the in-order data are kept: after a bad length prefix they
 * are where the stream may go on.) */
static void stream_absorb(struct tcp_stream *s)
{
	unsigned j = 0;

	while (j < s->nranges && s->r[j].s <= s->len) {
		if (s->r[j].e > s->len)
			s->len = s->r[j].e;
		j++;
	}
	if (j) {
		memmove(s->r, s->r + j, sizeof(s->r[0]) * (s->nranges - j));
		s->nranges = (uint8_t)(s->nranges - j);
	}
}

/* Delivers the complete messages at the front of p[0..n) (in-order data of
 * stream s, which may be s->buf) and returns the bytes used (messages and
 * skipped bytes). *bad is set when a length prefix below 12 was met at the
 * returned position. */
static uint32_t deliver(struct iotdns_tcp_table *t, struct tcp_stream *s,
			const struct iotdns_pkt *pkt, const uint8_t *p, uint32_t n, bool *bad)
{
	uint32_t pos = 0;

	*bad = false;
	for (;;) {
		uint32_t L;
		if (s->skip) {
			uint32_t k = IOTDNS_MIN(s->skip, n - pos);
			pos += k;
			s->skip -= k;
			if (s->skip)
				break;
			continue;
		}
		if (n - pos < 2)
			break;
		L = iotdns_be16(p + pos);
		if (L < DNS_HEADER) {
			iotdns_stats_problem(t->st, IOTDNS_P_TCP_BAD_LENGTH);
			*bad = true;
			break;
		}
		if (2 + L > t->bufcap) {
			/* can never be held: skip it, staying in sync */
			iotdns_stats_problem(t->st, IOTDNS_P_TCP_OVERFLOW);
			s->skip = 2 + L;
			continue;
		}
		if (n - pos < 2 + L)
			break;
		t->fn(t->ctx, pkt, p + pos + 2, L);
		pos += 2 + L;
	}
	return pos;
}

/* Restarts the stream at the first held segment start at or after offset
 * `from` that is plausible (looking at the contiguous bytes held after it),
 * dropping everything before it, and delivers what becomes complete. Leaves
 * the stream unsynchronised when no start qualifies. Each round consumes at
 * least one byte, so the loop ends. */
static void stream_resync(struct iotdns_tcp_table *t, struct tcp_stream *s,
			  const struct iotdns_pkt *pkt, uint32_t from)
{
	s->skip = 0;
	for (;;) {
		uint32_t c = NONE, used;
		unsigned k = 0; /* ranges before the one holding c */
		bool bad;

		for (unsigned i = 0; i < s->nstarts && c == NONE; i++) {
			uint32_t st = s->starts[i], end;
			if (st < from)
				continue;
			if (st < s->len) {
				end = s->len;
			} else {
				while (k < s->nranges && s->r[k].e <= st)
					k++;
				if (k == s->nranges)
					break;
				if (st < s->r[k].s)
					continue; /* cannot happen: starts lie in held data */
				end = s->r[k].e;
			}
			if (plausible(s->buf + st, end - st))
				c = st;
		}
		if (c == NONE) {
			stream_unsync(s);
			return;
		}
		if (c >= s->len) {
			/* ranges before r[k] and the in-order data are given up;
			 * r[k] becomes the in-order data */
			s->len = s->r[k].e;
			memmove(s->r, s->r + k + 1, sizeof(s->r[0]) * (s->nranges - k - 1));
			s->nranges = (uint8_t)(s->nranges - k - 1);
		}
		stream_shift(s, c);
		used = deliver(t, s, pkt, s->buf, s->len, &bad);
		stream_shift(s, used);
		if (!bad)
			return;
		from = 1; /* the bad prefix is now at 0 */
	}
}

/* Declares the hole in front of the held data unfillable. */
static void stream_gap(struct iotdns_tcp_table *t, struct tcp_stream *s,
		       const struct iotdns_pkt *pkt)
{
	iotdns_stats_problem(t->st, IOTDNS_P_TCP_GAP);
	stream_resync(t, s, pkt, s->len); /* the partial message before the hole is lost */
}

/* Holds out-of-order data at window offset off (> len, off + n <= bufcap). */
static void stream_hold(struct iotdns_tcp_table *t, struct tcp_stream *s, uint32_t off,
			const uint8_t *p, uint32_t n)
{
	struct tcp_range nr[TCP_MAX_RANGES + 1];
	uint32_t s0 = off, e0 = off + n;
	unsigned k = 0, i = 0;

	/* ranges before, the merged one, ranges after */
	while (i < s->nranges && s->r[i].e < s0)
		nr[k++] = s->r[i++];
	while (i < s->nranges && s->r[i].s <= e0) {
		s0 = IOTDNS_MIN(s0, s->r[i].s);
		e0 = IOTDNS_MAX(e0, s->r[i].e);
		i++;
	}
	if (k + 1 + (s->nranges - i) > TCP_MAX_RANGES) {
		iotdns_stats_problem(t->st, IOTDNS_P_TCP_OVERFLOW);
		return;
	}
	if (!stream_reserve(t, s, e0)) {
		iotdns_stats_problem(t->st, IOTDNS_P_TCP_OVERFLOW);
		return;
	}
	nr[k++] = (struct tcp_range){ s0, e0 };
	while (i < s->nranges)
		nr[k++] = s->r[i++];
	memcpy(s->r, nr, sizeof(nr[0]) * k);
	s->nranges = (uint8_t)k;
	memcpy(s->buf + off, p, n);

	/* remember where this segment started (sorted, no duplicates) */
	if (s->nstarts < TCP_MAX_STARTS) {
		unsigned j = 0;
		while (j < s->nstarts && s->starts[j] < off)
			j++;
		if (j == s->nstarts || s->starts[j] != off) {
			memmove(s->starts + j + 1, s->starts + j, sizeof(s->starts[0]) * (s->nstarts - j));
			s->starts[j] = off;
			s->nstarts++;
		}
	}
}

/* Appends in-order data (it starts exactly at base + len). */
static void stream_append(struct iotdns_tcp_table *t, struct tcp_stream *s,
			  const struct iotdns_pkt *pkt, const uint8_t *p, uint32_t n)
{
	bool bad;

	if (s->len == 0 && s->nranges == 0) {
		/* fast path: deliver straight from the segment, keep the rest */
		uint32_t used = deliver(t, s, pkt, p, n, &bad);
		if (bad) {
			stream_unsync(s);
			return;
		}
		s->base += used;
		p += used;
		n -= used;
	}
	while (n > 0) {
		uint32_t k = IOTDNS_MIN(n, t->bufcap - s->len);
		if (iotdns_fails(k > 0) || !stream_reserve(t, s, s->len + k)) {
			iotdns_stats_problem(t->st, IOTDNS_P_TCP_OVERFLOW);
			stream_unsync(s);
			return;
		}
		memcpy(s->buf + s->len, p, k);
		s->len += k;
		p += k;
		n -= k;
		stream_absorb(s);
		stream_shift(s, deliver(t, s, pkt, s->buf, s->len, &bad));
		if (bad) {
			/* nothing after a broken prefix can be trusted until a
			 * held segment start (or a later segment) looks right */
			stream_resync(t, s, pkt, 1);
			return;
		}
	}
}

/* Adds the data of one segment, seq being the sequence number of p[0]. */
static void stream_data(struct iotdns_tcp_table *t, struct tcp_stream *s,
			const struct iotdns_pkt *pkt, uint32_t seq, const uint8_t *p, uint32_t n)
{
	/* each pass either finishes or resolves one held range (bounded) */
	for (unsigned pass = 0; pass < TCP_MAX_RANGES + 2 && n > 0; pass++) {
		int32_t rel;
		uint32_t off;

		if (!s->synced) {
			if (!plausible(p, n))
				return; /* wait for a segment that starts a message */
			sync_at(s, seq);
		}
		rel = (int32_t)(seq - s->base);
		if (rel < 0) {
			/* starts before the window: retransmitted or overlapping */
			uint32_t old = (uint32_t)0 - (uint32_t)rel;
			if (old >= n)
				return;
			p += old;
			n -= old;
			seq += old;
			rel = 0;
		}
		off = (uint32_t)rel;
		if (off < s->len) {
			uint32_t dup = s->len - off;
			if (dup >= n)
				return;
			p += dup;
			n -= dup;
			seq += dup;
			off = s->len;
		}
		if (off == s->len) {
			stream_append(t, s, pkt, p, n);
			return;
		}
		if ((uint64_t)off + n <= t->bufcap) {
			stream_hold(t, s, off, p, n);
			return;
		}
		/* more data waits behind the hole than the window holds: the
		 * hole will not be filled */
		stream_gap(t, s, pkt);
		if (pass == TCP_MAX_RANGES)
			stream_unsync(s); /* last pass: start from this segment */
	}
}

/* Builds the packet handed to the callback for deliveries not caused by a
 * segment of this stream (idle expiry, RST of the other direction). */
static void stream_pkt(const struct tcp_stream *s, struct iotdns_pkt *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->ts_us = s->last_us;
	pkt->pktno = s->last_pktno;
	pkt->input = s->last_input;
	pkt->src = s->src;
	pkt->dst = s->dst;
	pkt->sport = s->sport;
	pkt->dport = s->dport;
	pkt->l4 = IOTDNS_L4_TCP;
}

/* Closes stream i: a hole that was waiting to be filled counts TCP_GAP and
 * the held data after it is delivered where a message starts; then the
 * stream is forgotten. end_seq: the sequence number after the last byte the
 * sender sent (FIN), or NULL when unknown. */
static void stream_close(struct iotdns_tcp_table *t, uint32_t i, const struct iotdns_pkt *pkt,
			 const uint32_t *end_seq)
{
	struct tcp_stream *s = &t->s[i];
	struct iotdns_pkt tmp;

	if (s->synced) {
		bool hole = s->nranges > 0;
		if (end_seq && !s->skip && (int32_t)(*end_seq - (s->base + s->len)) > 0)
			hole = true;
		if (hole) {
			if (!pkt) {
				stream_pkt(s, &tmp);
				pkt = &tmp;
			}
			stream_gap(t, s, pkt);
		}
	}
	stream_release(t, i);
}

static void lazy_expire(struct iotdns_tcp_table *t, uint64_t now_us)
{
	for (int k = 0; k < TCP_LAZY_EXPIRE && t->lru_head != NONE; k++) {
		struct tcp_stream *s = &t->s[t->lru_head];
		if (now_us <= s->last_us || now_us - s->last_us <= t->idle_us)
			return;
		stream_close(t, t->lru_head, NULL, NULL);
	}
}

void iotdns_tcp_expire(struct iotdns_tcp_table *t, uint64_t now_us)
{
	while (t->lru_head != NONE) {
		struct tcp_stream *s = &t->s[t->lru_head];
		if (now_us <= s->last_us || now_us - s->last_us <= t->idle_us)
			return;
		stream_close(t, t->lru_head, NULL, NULL);
	}
}

void iotdns_tcp_segment(struct iotdns_tcp_table *t, const struct iotdns_pkt *pkt)
{
	struct tcp_stream *s;
	uint32_t i, seq, n, end_seq;
	const uint8_t *p;
	uint8_t fl;

	if (!t || pkt->l4 != IOTDNS_L4_TCP)
		return;
	fl = pkt->tcp_flags;
	p = pkt->payload;
	n = p ? pkt->payload_len : 0;
	seq = pkt->tcp_seq;
	lazy_expire(t, pkt->ts_us);

	i = stream_find(t, &pkt->src, &pkt->dst, pkt->sport, pkt->dport);
	if (i == NONE) {
		if (fl & IOTDNS_TCP_RST) {
			/* nothing of ours in this direction; the other may be open */
			i = stream_find(t, &pkt->dst, &pkt->src, pkt->dport, pkt->sport);
			if (i != NONE)
				stream_close(t, i, NULL, NULL);
			return;
		}
		if (!(fl & IOTDNS_TCP_SYN) && n == 0)
			return; /* pure ACK / FIN of an unknown stream: nothing to track */
		i = stream_new(t, pkt);
		if (i == NONE)
			return;
	} else {
		lru_unlink(t, i);
		lru_append(t, i);
	}
	s = &t->s[i];
	s->last_us = pkt->ts_us;
	s->last_pktno = pkt->pktno;
	s->last_input = pkt->input;

	if (fl & IOTDNS_TCP_SYN) {
		if (!s->have_isn || s->isn != seq) {
			/* a new connection on this 4-tuple, or the first SYN we see */
			if (s->synced && s->nranges)
				iotdns_stats_problem(t->st, IOTDNS_P_TCP_GAP);
			sync_at(s, seq + 1);
			s->have_isn = true;
			s->isn = seq;
		}
		/* else a retransmitted SYN: nothing to do */
		seq++; /* SYN data (TCP Fast Open) starts after the SYN */
	}
	end_seq = seq + n;
	if (n && !(fl & IOTDNS_TCP_RST))
		stream_data(t, s, pkt, seq, p, n);

	if (fl & (IOTDNS_TCP_FIN | IOTDNS_TCP_RST)) {
		stream_close(t, i, pkt, (fl & IOTDNS_TCP_FIN) ? &end_seq : NULL);
		if (fl & IOTDNS_TCP_RST) {
			/* a reset ends both directions */
			i = stream_find(t, &pkt->dst, &pkt->src, pkt->dport, pkt->sport);
			if (i != NONE)
				stream_close(t, i, NULL, NULL);
		}
	}
}

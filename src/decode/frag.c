/* iotdns - IPv4 and IPv6 fragment reassembly.
 *
 * A fixed table of limits->max_frag_queues datagrams in progress, keyed by
 * (source, destination, protocol, identification); IPv6 uses protocol 44 in
 * the key (the next header of the offset-0 fragment is the one used, RFC
 * 8200 §4.5). Rules (docs/internals/decoding.md):
 *  - fragments may come in any order; exact duplicates and overlaps that
 *    carry the same bytes are accepted; overlaps with different bytes, or a
 *    second "last" fragment that disagrees on the length, drop the datagram
 *    (IOTDNS_P_FRAG_OVERLAP);
 *  - a datagram longer than min(limits->max_frag_datagram, 65535) is dropped
 *    (IOTDNS_P_FRAG_TOO_BIG);
 *  - a datagram still incomplete limits->frag_timeout_us after its first
 *    fragment is dropped (IOTDNS_P_FRAG_TIMEOUT), lazily on every fragment
 *    and from iotdns_decoder_expire();
 *  - table full: the oldest datagram is dropped (IOTDNS_V_FRAGMENTS).
 * Memory: slots, bitmaps and hash buckets are allocated up front; a slot's
 * data buffer is allocated the first time the slot needs it, grows by
 * doubling up to the datagram cap and is kept for the slot's next datagram,
 * so nothing is allocated per fragment once the table is warm.
 */
#include <stdlib.h>
#include <string.h>

#include "decode_internal.h"
#include "iotdns/addr.h"
#include "iotdns/common.h"

#define NONE UINT32_MAX
#define FRAG_MAX_DATAGRAM 65535u
#define FRAG_MIN_BUF 2048u

struct iotdns_frag_queue {
	/* key */
	struct iotdns_addr src, dst;
	uint32_t id;
	uint8_t proto;      /* IPv4 protocol; 44 for IPv6 */
	uint8_t ipver;
	bool in_use;
	/* progress */
	bool have_first;    /* the offset-0 fragment arrived */
	bool have_last;     /* the fragment without "more" arrived: total is known */
	uint8_t first_nh;   /* upper protocol from the offset-0 fragment */
	uint8_t hop_limit;  /* from the offset-0 fragment */
	uint32_t hdr_len;   /* IP header bytes before the fragmentable part (offset-0 fragment) */
	uint32_t total;     /* datagram payload length, valid when have_last */
	uint32_t max_end;   /* highest end offset received */
	uint32_t blocks;    /* 8-byte blocks received (bits set in the bitmap) */
	uint64_t first_us;  /* time of the first fragment seen */
	/* links (slot indices, NONE = end) */
	uint32_t hnext;     /* hash chain */
	uint32_t prev, next;/* age list (oldest first); next is the free-list link */
	/* data, owned; cap bytes allocated, cap <= the datagram cap */
	uint8_t *buf;
	uint32_t cap;
};

static inline uint32_t dgram_max(const struct iotdns_decoder *d)
{
	return IOTDNS_MIN(d->lim.max_frag_datagram, FRAG_MAX_DATAGRAM);
}

int iotdns_frag_init(struct iotdns_frag_table *ft, const struct iotdns_limits *lim)
{
	uint32_t nq = lim->max_frag_queues, nb = 16, dmax;

	memset(ft, 0, sizeof(*ft));
	ft->free_head = ft->old_head = ft->old_tail = NONE;
	if (nq > (1u << 24))
		return IOTDNS_EINVAL;
	dmax = IOTDNS_MIN(lim->max_frag_datagram, FRAG_MAX_DATAGRAM);
	ft->words_per_q = ((dmax + 7) / 8 + 63) / 64;
	if (ft->words_per_q == 0)
		ft->words_per_q = 1;
	while (nb < 2 * nq)
		nb <<= 1;
	ft->nbuckets = nb;
	ft->nq = nq;
	ft->buckets = malloc(sizeof(*ft->buckets) * nb);
	ft->q = calloc(nq ? nq : 1, sizeof(*ft->q));
	ft->bits = calloc((size_t)(nq ? nq : 1) * ft->words_per_q, sizeof(uint64_t));
	if (!ft->buckets || !ft->q || !ft->bits) {
		iotdns_frag_fini(ft);
		return IOTDNS_ENOMEM;
	}
	for (uint32_t i = 0; i < nb; i++)
		ft->buckets[i] = NONE;
	for (uint32_t i = 0; i < nq; i++)
		ft->q[i].next = i + 1 < nq ? i + 1 : NONE;
	ft->free_head = nq ? 0 : NONE;
	return IOTDNS_OK;
}

void iotdns_frag_fini(struct iotdns_frag_table *ft)
{
	if (ft->q) {
		for (uint32_t i = 0; i < ft->nq; i++)
			free(ft->q[i].buf);
	}
	free(ft->q);
	free(ft->bits);
	free(ft->buckets);
	memset(ft, 0, sizeof(*ft));
}

static inline uint32_t key_bucket(const struct iotdns_frag_table *ft, const struct iotdns_addr *src,
				  const struct iotdns_addr *dst, uint8_t proto, uint32_t id)
{
	uint64_t h = iotdns_addr_hash(src);
	h ^= (iotdns_addr_hash(dst) << 17) | (iotdns_addr_hash(dst) >> 47);
	h ^= ((uint64_t)id << 8 | proto) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	return (uint32_t)h & (ft->nbuckets - 1);
}

static inline uint64_t *qbits(struct iotdns_frag_table *ft, uint32_t i)
{
	return ft->bits + (size_t)i * ft->words_per_q;
}

/* Removes queue i from the hash chain and the age list, clears its bitmap and
 * returns the slot to the free list. Its buffer stays with the slot. */
static void queue_release(struct iotdns_frag_table *ft, uint32_t i)
{
	struct iotdns_frag_queue *q = &ft->q[i];
	uint32_t b = key_bucket(ft, &q->src, &q->dst, q->proto, q->id);
	uint32_t *pp = &ft->buckets[b];

	while (*pp != NONE && *pp != i)
		pp = &ft->q[*pp].hnext;
	if (!iotdns_fails(*pp == i))
		*pp = q->hnext;
	if (q->prev != NONE)
		ft->q[q->prev].next = q->next;
	else
		ft->old_head = q->next;
	if (q->next != NONE)
		ft->q[q->next].prev = q->prev;
	else
		ft->old_tail = q->prev;
	/* only the words that can hold set bits */
	memset(qbits(ft, i), 0, sizeof(uint64_t) * IOTDNS_MIN(ft->words_per_q, (q->max_end / 8 + 64) / 64));
	q->in_use = false;
	q->next = ft->free_head;
	ft->free_head = i;
	ft->used--;
}

void iotdns_frag_expire(struct iotdns_decoder *d, uint64_t now_us)
{
	struct iotdns_frag_table *ft = &d->frag;

	while (ft->old_head != NONE) {
		struct iotdns_frag_queue *q = &ft->q[ft->old_head];
		if (now_us <= q->first_us || now_us - q->first_us <= d->lim.frag_timeout_us)
			break;
		iotdns_stats_problem(d->st, IOTDNS_P_FRAG_TIMEOUT);
		queue_release(ft, ft->old_head);
	}
}

static uint32_t queue_find(struct iotdns_frag_table *ft, uint32_t b, const struct iotdns_pkt *pkt,
			   uint8_t proto, uint32_t id)
{
	for (uint32_t i = ft->buckets[b]; i != NONE; i = ft->q[i].hnext) {
		const struct iotdns_frag_queue *q = &ft->q[i];
		if (q->id == id && q->proto == proto && iotdns_addr_eq(&q->src, &pkt->src) &&
		    iotdns_addr_eq(&q->dst, &pkt->dst))
			return i;
	}
	return NONE;
}

/* Takes a free slot (dropping the oldest datagram when none is free). */
static uint32_t queue_new(struct iotdns_decoder *d, uint32_t b, const struct iotdns_pkt *pkt,
			  uint8_t ipver, uint8_t proto, uint32_t id)
{
	struct iotdns_frag_table *ft = &d->frag;
	struct iotdns_frag_queue *q;
	uint32_t i;

	if (ft->free_head == NONE) {
		if (ft->old_head == NONE)
			return NONE; /* no slots at all (max_frag_queues == 0) */
		d->st->evictions[IOTDNS_V_FRAGMENTS]++;
		queue_release(ft, ft->old_head);
	}
	i = ft->free_head;
	q = &ft->q[i];
	ft->free_head = q->next;
	q->src = pkt->src;
	q->dst = pkt->dst;
	q->id = id;
	q->proto = proto;
	q->ipver = ipver;
	q->in_use = true;
	q->have_first = q->have_last = false;
	q->first_nh = 0;
	q->hop_limit = 0;
	q->hdr_len = 0;
	q->total = q->max_end = q->blocks = 0;
	q->first_us = pkt->ts_us;
	q->hnext = ft->buckets[b];
	ft->buckets[b] = i;
	q->next = NONE;
	q->prev = ft->old_tail;
	if (ft->old_tail != NONE)
		ft->q[ft->old_tail].next = i;
	else
		ft->old_head = i;
	ft->old_tail = i;
	ft->used++;
	return i;
}

static bool queue_reserve(struct iotdns_frag_queue *q, uint32_t need, uint32_t limit)
{
	uint32_t cap;
	uint8_t *nb;

	if (need <= q->cap)
		return true;
	cap = q->cap ? q->cap : FRAG_MIN_BUF;
	while (cap < need)
		cap *= 2;
	if (cap > limit)
		cap = limit;
	nb = realloc(q->buf, cap);
	if (!nb)
		return false;
	q->buf = nb;
	q->cap = cap;
	return true;
}

static enum iotdns_dec_result drop(struct iotdns_decoder *d, uint32_t qi, enum iotdns_problem p)
{
	if (qi != NONE)
		queue_release(&d->frag, qi);
	iotdns_stats_problem(d->st, p);
	return IOTDNS_DEC_BAD;
}

enum iotdns_dec_result iotdns_frag_add(struct iotdns_decoder *d, struct iotdns_pkt *pkt,
				       const struct iotdns_frag_in *f)
{
	struct iotdns_frag_table *ft = &d->frag;
	struct iotdns_frag_queue *q;
	uint8_t kproto = f->ipver == 4 ? f->proto : 44;
	uint32_t end, b, qi, blk, bend;
	uint64_t *bits;

	iotdns_frag_expire(d, pkt->ts_us);

	/* every fragment but the last carries a multiple of 8 bytes (RFC 791, 8200) */
	if (f->more && (f->len == 0 || (f->len & 7)))
		return drop(d, NONE, IOTDNS_P_BAD_IP_HEADER);

	b = key_bucket(ft, &pkt->src, &pkt->dst, kproto, f->id);
	qi = queue_find(ft, b, pkt, kproto, f->id);
	end = f->offset + f->len; /* both < 2^17: no overflow */
	if (end > dgram_max(d))
		return drop(d, qi, IOTDNS_P_FRAG_TOO_BIG);
	if (qi == NONE) {
		qi = queue_new(d, b, pkt, f->ipver, kproto, f->id);
		if (qi == NONE) {
			d->st->evictions[IOTDNS_V_FRAGMENTS]++;
			return IOTDNS_DEC_SKIP;
		}
	}
	q = &ft->q[qi];

	/* consistency of the datagram length */
	if (q->have_last && (end > q->total || (!f->more && end != q->total)))
		return drop(d, qi, IOTDNS_P_FRAG_OVERLAP);
	if (!f->more && q->max_end > end)
		return drop(d, qi, IOTDNS_P_FRAG_OVERLAP);
	if (!queue_reserve(q, end, dgram_max(d))) {
		queue_release(ft, qi);
		return IOTDNS_DEC_SKIP; /* out of memory: not the packet's fault */
	}

	/* bytes already held must be the same; then copy and mark the blocks */
	bits = qbits(ft, qi);
	bend = (end + 7) / 8;
	for (blk = f->offset / 8; blk < bend; blk++) {
		if (bits[blk / 64] & (1ull << (blk % 64))) {
			uint32_t s = blk * 8, e = IOTDNS_MIN(end, s + 8);
			if (memcmp(q->buf + s, f->data + (s - f->offset), e - s) != 0)
				return drop(d, qi, IOTDNS_P_FRAG_OVERLAP);
		}
	}
	if (f->len)
		memcpy(q->buf + f->offset, f->data, f->len);
	for (blk = f->offset / 8; blk < bend; blk++) {
		uint64_t m = 1ull << (blk % 64);
		if (!(bits[blk / 64] & m)) {
			bits[blk / 64] |= m;
			q->blocks++;
		}
	}
	if (end > q->max_end)
		q->max_end = end;
	if (!f->more) {
		q->have_last = true;
		q->total = end;
	}
	if (f->offset == 0 && !q->have_first) {
		q->have_first = true;
		q->first_nh = f->proto;
		q->hop_limit = f->hop_limit;
		q->hdr_len = f->hdr_len;
	}

	if (q->have_last && q->have_first && q->blocks == (q->total + 7) / 8) {
		/* complete: the buffer stays with the (now free) slot, valid until
		 * the next decode call */
		const uint8_t *data = q->buf;
		uint32_t total = q->total;
		uint8_t nh = q->first_nh, ver = q->ipver;
		pkt->reassembled = true;
		pkt->hop_limit = q->hop_limit;
		pkt->ip_len = q->hdr_len + total;
		queue_release(ft, qi);
		if (ver == 4)
			return iotdns_decode_l4(d, pkt, nh, data, total, false);
		return iotdns_decode_ipv6_upper(d, pkt, nh, data, total);
	}
	return IOTDNS_DEC_SKIP;
}

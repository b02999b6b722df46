/* iotdns - query/response matching (see include/iotdns/txn.h).
 *
 * Entries live in a slab that grows by doubling up to limits.max_open_txns.
 * Two hash indexes (linear probing with backward-shift deletion, so no
 * tombstones) point into it: the full transaction key, and the question
 * (device, name, type) for retransmission detection. A FIFO of slab slots
 * in query order drives time-outs; stale FIFO entries are skipped by
 * comparing a generation number.
 */
#include <stdlib.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/txn.h"

#define NIL UINT32_MAX

struct entry {
	struct iotdns_txn t;
	uint32_t gen;
	bool live;
	uint32_t next_free;
};

struct fifo_item {
	uint32_t slot, gen;
};

struct index {
	uint32_t cap; /* power of two, >= 2 * entries */
	uint32_t *slots;
};

struct iotdns_txntab {
	struct iotdns_limits lim;
	struct iotdns_stats *stats;
	iotdns_txn_fn done;
	void *ctx;
	struct entry *e;
	uint32_t cap, nlive, free_head, hwm; /* hwm: slots ever used */
	struct index by_key, by_q;
	struct fifo_item *fifo;
	uint32_t fifo_cap, fifo_head, fifo_len;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint64_t key_hash(const struct iotdns_txn *t)
{
	uint64_t h = iotdns_addr_hash(&t->client) ^ mix(iotdns_addr_hash(&t->server) + 1);
	h ^= mix(((uint64_t)t->client_port << 32) | ((uint64_t)t->server_port << 16) | t->id);
	h ^= mix(t->qname_hash + t->qtype);
	return mix(h);
}

static bool key_eq(const struct iotdns_txn *a, const struct iotdns_txn *b)
{
	return a->id == b->id && a->client_port == b->client_port && a->server_port == b->server_port &&
	       a->qtype == b->qtype && a->qname_hash == b->qname_hash &&
	       iotdns_addr_eq(&a->client, &b->client) && iotdns_addr_eq(&a->server, &b->server);
}

/* The question key: device, server, name and type. The same question sent
 * to another resolver at the same time is a parallel query, not a retry. */
static uint64_t q_hash(const struct iotdns_txn *t)
{
	return mix(t->qname_hash ^ mix(((uint64_t)(t->dev ? t->dev->idx : 0) << 16) | t->qtype) ^
		   iotdns_addr_hash(&t->server));
}

static bool q_eq(const struct iotdns_txn *a, const struct iotdns_txn *b)
{
	return a->dev == b->dev && a->qtype == b->qtype && a->qname_hash == b->qname_hash &&
	       iotdns_addr_eq(&a->server, &b->server);
}

static int index_init(struct index *x, uint32_t cap)
{
	x->cap = cap;
	x->slots = malloc(cap * sizeof(uint32_t));
	if (!x->slots)
		return IOTDNS_ENOMEM;
	memset(x->slots, 0xff, cap * sizeof(uint32_t));
	return IOTDNS_OK;
}

/* Finds the index position of an entry equal to probe, or NIL. */
static uint32_t index_find(const struct iotdns_txntab *t, const struct index *x, const struct iotdns_txn *probe,
			   bool by_q)
{
	uint32_t mask = x->cap - 1;
	uint32_t i = (uint32_t)(by_q ? q_hash(probe) : key_hash(probe)) & mask;
	for (;;) {
		uint32_t s = x->slots[i];
		if (s == NIL)
			return NIL;
		if (by_q ? q_eq(&t->e[s].t, probe) : key_eq(&t->e[s].t, probe))
			return i;
		i = (i + 1) & mask;
	}
}

static void index_insert(struct iotdns_txntab *t, struct index *x, uint32_t slot, bool by_q)
{
	uint32_t mask = x->cap - 1;
	uint32_t i = (uint32_t)(by_q ? q_hash(&t->e[slot].t) : key_hash(&t->e[slot].t)) & mask;
	while (x->slots[i] != NIL)
		i = (i + 1) & mask;
	x->slots[i] = slot;
}

/* Removes position pos, shifting back the following cluster (Knuth's algorithm R). */
static void index_remove_at(struct iotdns_txntab *t, struct index *x, uint32_t pos, bool by_q)
{
	uint32_t mask = x->cap - 1, i = pos, j = pos;
	x->slots[i] = NIL;
	for (;;) {
		j = (j + 1) & mask;
		uint32_t s = x->slots[j];
		if (s == NIL)
			return;
		uint32_t k = (uint32_t)(by_q ? q_hash(&t->e[s].t) : key_hash(&t->e[s].t)) & mask;
		/* move s to i if its home k is cyclically outside (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		x->slots[i] = s;
		x->slots[j] = NIL;
		i = j;
	}
}

static void index_remove_slot(struct iotdns_txntab *t, struct index *x, uint32_t slot, bool by_q)
{
	uint32_t mask = x->cap - 1;
	uint32_t i = (uint32_t)(by_q ? q_hash(&t->e[slot].t) : key_hash(&t->e[slot].t)) & mask;
	for (;;) {
		uint32_t s = x->slots[i];
		if (s == NIL)
			return;
		if (s == slot) {
			index_remove_at(t, x, i, by_q);
			return;
		}
		i = (i + 1) & mask;
	}
}

int iotdns_txntab_new(struct iotdns_txntab **out, const struct iotdns_limits *lim,
		      struct iotdns_stats *stats, iotdns_txn_fn done, void *ctx)
{
	struct iotdns_txntab *t = calloc(1, sizeof(*t));
	if (!t)
		return IOTDNS_ENOMEM;
	t->lim = *lim;
	if (t->lim.max_open_txns < 4)
		t->lim.max_open_txns = 4;
	t->stats = stats;
	t->done = done;
	t->ctx = ctx;
	t->cap = 1024 < t->lim.max_open_txns ? 1024 : t->lim.max_open_txns;
	t->e = calloc(t->cap, sizeof(*t->e));
	t->free_head = NIL;
	t->fifo_cap = t->cap;
	t->fifo = malloc(t->fifo_cap * sizeof(*t->fifo));
	uint32_t icap = 16;
	while (icap < t->cap * 2)
		icap <<= 1;
	if (!t->e || !t->fifo || index_init(&t->by_key, icap) || index_init(&t->by_q, icap)) {
		iotdns_txntab_free(t);
		return IOTDNS_ENOMEM;
	}
	*out = t;
	return IOTDNS_OK;
}

void iotdns_txntab_free(struct iotdns_txntab *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->fifo);
	free(t->by_key.slots);
	free(t->by_q.slots);
	free(t);
}

uint32_t iotdns_txn_open_count(const struct iotdns_txntab *t)
{
	return t->nlive;
}

static void release(struct iotdns_txntab *t, uint32_t slot)
{
	struct entry *en = &t->e[slot];
	index_remove_slot(t, &t->by_key, slot, false);
	index_remove_slot(t, &t->by_q, slot, true);
	en->live = false;
	en->gen++;
	en->next_free = t->free_head;
	t->free_head = slot;
	t->nlive--;
}

/* Reports and releases. */
static void complete(struct iotdns_txntab *t, uint32_t slot)
{
	struct iotdns_txn copy = t->e[slot].t;
	release(t, slot);
	if (t->done)
		t->done(t->ctx, &copy);
}

static bool grow(struct iotdns_txntab *t)
{
	uint32_t ncap = t->cap * 2;
	if (ncap > t->lim.max_open_txns)
		ncap = t->lim.max_open_txns;
	if (ncap <= t->cap)
		return false;
	struct entry *ne = realloc(t->e, ncap * sizeof(*ne));
	if (!ne)
		return false;
	memset(ne + t->cap, 0, (ncap - t->cap) * sizeof(*ne));
	t->e = ne;
	/* fifo: linearise into a bigger ring */
	struct fifo_item *nf = malloc(ncap * sizeof(*nf));
	if (!nf)
		return false;
	for (uint32_t i = 0; i < t->fifo_len; i++)
		nf[i] = t->fifo[(t->fifo_head + i) % t->fifo_cap];
	free(t->fifo);
	t->fifo = nf;
	t->fifo_cap = ncap;
	t->fifo_head = 0;
	/* indexes */
	uint32_t icap = t->by_key.cap;
	while (icap < ncap * 2)
		icap <<= 1;
	if (icap != t->by_key.cap) {
		struct index k, q;
		if (index_init(&k, icap) || index_init(&q, icap)) {
			free(k.slots);
			return false;
		}
		free(t->by_key.slots);
		free(t->by_q.slots);
		t->by_key = k;
		t->by_q = q;
		for (uint32_t s = 0; s < t->hwm; s++) {
			if (!t->e[s].live)
				continue;
			index_insert(t, &t->by_key, s, false);
			index_insert(t, &t->by_q, s, true);
		}
	}
	t->cap = ncap;
	return true;
}

static void fifo_compact(struct iotdns_txntab *t)
{
	/* drop stale items at the head */
	while (t->fifo_len) {
		struct fifo_item *it = &t->fifo[t->fifo_head];
		if (t->e[it->slot].live && t->e[it->slot].gen == it->gen)
			break;
		t->fifo_head = (t->fifo_head + 1) % t->fifo_cap;
		t->fifo_len--;
	}
}

static uint32_t alloc_slot(struct iotdns_txntab *t)
{
	if (t->free_head != NIL) {
		uint32_t s = t->free_head;
		t->free_head = t->e[s].next_free;
		return s;
	}
	if (t->hwm < t->cap)
		return t->hwm++;
	if (grow(t) && t->hwm < t->cap)
		return t->hwm++;
	/* full: drop the oldest open transaction, counted */
	fifo_compact(t);
	if (!t->fifo_len)
		return NIL;
	uint32_t s = t->fifo[t->fifo_head].slot;
	release(t, s);
	t->stats->evictions[IOTDNS_V_TXNS]++;
	s = t->free_head;
	t->free_head = t->e[s].next_free;
	return s;
}

static void fifo_push(struct iotdns_txntab *t, uint32_t slot)
{
	if (t->fifo_len == t->fifo_cap) {
		/* every slot appears at most once live, so stale items can be squeezed out */
		uint32_t w = 0;
		struct fifo_item *tmp = malloc(t->fifo_cap * sizeof(*tmp));
		if (!tmp)
			return;
		for (uint32_t i = 0; i < t->fifo_len; i++) {
			struct fifo_item it = t->fifo[(t->fifo_head + i) % t->fifo_cap];
			if (t->e[it.slot].live && t->e[it.slot].gen == it.gen)
				tmp[w++] = it;
		}
		memcpy(t->fifo, tmp, w * sizeof(*tmp));
		free(tmp);
		t->fifo_head = 0;
		t->fifo_len = w;
		if (w == t->fifo_cap)
			return;
	}
	struct fifo_item *it = &t->fifo[(t->fifo_head + t->fifo_len) % t->fifo_cap];
	it->slot = slot;
	it->gen = t->e[slot].gen;
	t->fifo_len++;
}

bool iotdns_txn_query(struct iotdns_txntab *t, const struct iotdns_txn *q)
{
	bool retrans = false;
	uint32_t pos = index_find(t, &t->by_q, q, true);
	if (pos != NIL) {
		struct iotdns_txn *open = &t->e[t->by_q.slots[pos]].t;
		if (q->query_us >= open->query_us && q->query_us - open->query_us <= t->lim.retransmit_window_us)
			retrans = true;
	}
	pos = index_find(t, &t->by_key, q, false);
	if (pos != NIL) {
		/* same socket, same ID, same question: a retry of the open transaction */
		t->e[t->by_key.slots[pos]].t.retransmissions++;
		return true;
	}
	uint32_t s = alloc_slot(t);
	if (s == NIL)
		return retrans;
	struct entry *en = &t->e[s];
	en->t = *q;
	en->t.answered = false;
	en->t.retransmissions = 0;
	en->t.response_us = 0;
	en->live = true;
	t->nlive++;
	/* the question index points at the newest transaction for that question */
	uint32_t qpos = index_find(t, &t->by_q, q, true);
	if (qpos != NIL)
		index_remove_at(t, &t->by_q, qpos, true);
	index_insert(t, &t->by_key, s, false);
	index_insert(t, &t->by_q, s, true);
	fifo_push(t, s);
	return retrans;
}

bool iotdns_txn_response(struct iotdns_txntab *t, const struct iotdns_txn *r)
{
	uint32_t pos = index_find(t, &t->by_key, r, false);
	if (pos == NIL)
		return false;
	uint32_t s = t->by_key.slots[pos];
	struct iotdns_txn *x = &t->e[s].t;
	x->answered = true;
	x->response_us = r->response_us;
	x->response_pktno = r->response_pktno;
	x->response_input = r->response_input;
	x->response_size = r->response_size;
	x->rcode = r->rcode;
	x->tc = r->tc;
	x->n_addr_answers = r->n_addr_answers;
	x->has_min_ttl = r->has_min_ttl;
	x->min_ttl = r->min_ttl;
	x->soa_present = r->soa_present;
	x->soa_minimum = r->soa_minimum;
	complete(t, s);
	return true;
}

void iotdns_txn_expire(struct iotdns_txntab *t, uint64_t now_us)
{
	while (t->fifo_len) {
		fifo_compact(t);
		if (!t->fifo_len)
			break;
		uint32_t s = t->fifo[t->fifo_head].slot;
		if (t->e[s].t.query_us + t->lim.txn_timeout_us > now_us)
			break;
		t->fifo_head = (t->fifo_head + 1) % t->fifo_cap;
		t->fifo_len--;
		complete(t, s);
	}
}

void iotdns_txn_finish(struct iotdns_txntab *t)
{
	while (t->fifo_len) {
		fifo_compact(t);
		if (!t->fifo_len)
			break;
		uint32_t s = t->fifo[t->fifo_head].slot;
		t->fifo_head = (t->fifo_head + 1) % t->fifo_cap;
		t->fifo_len--;
		complete(t, s);
	}
}

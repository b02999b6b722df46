/* iotdns - the device table and per-device records.
 *
 * Devices are kept in a dense array (index = dev->idx) with two hash indexes
 * (open addressing, linear probing, power-of-two sizes): MAC -> device and
 * IP -> device for IP-keyed devices. A third index maps every address in use
 * to the device that used it last ("owner"), so a response addressed to an
 * IP can be attributed when the frame carries no MAC. Indexes grow by
 * doubling, never beyond what the caps in struct iotdns_limits allow; every
 * record that does not fit is counted as an eviction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotdns/common.h"
#include "iotdns/device.h"

#define EMPTY UINT32_MAX

struct mac_slot {
	uint64_t key; /* 0 = empty */
	uint32_t idx;
};
#define TOMB (UINT32_MAX - 1)

/* addr -> device index */
struct addr_index {
	uint32_t cap, used; /* used includes tombstones */
	struct iotdns_addr *keys;
	uint32_t *vals;
};

struct iotdns_devtab {
	struct iotdns_limits lim;
	struct iotdns_stats *stats;
	uint32_t n, cap;
	struct iotdns_device **devs;
	/* MAC index: each slot holds the MAC itself (as a 48-bit number, with
	 * bit 63 marking the slot used) and the device index, so a look-up never
	 * touches a device that is not the one sought */
	uint32_t mac_cap;
	struct mac_slot *mac_slots;
	struct addr_index ipkey; /* IP-keyed devices */
	struct addr_index owner; /* address -> device that used it last */
};

static uint64_t mac_hash(const uint8_t mac[6])
{
	/* MACs of one vendor share their first three bytes: mix every bit into
	 * the low bits that index the table (murmur3 finaliser) */
	uint64_t x = 0;
	memcpy(&x, mac, 6);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

uint64_t iotdns_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- addr index ------------------------------------------------------- */

static int aidx_init(struct addr_index *x, uint32_t cap)
{
	x->cap = cap;
	x->used = 0;
	x->keys = calloc(cap, sizeof(*x->keys));
	x->vals = malloc(cap * sizeof(*x->vals));
	if (!x->keys || !x->vals)
		return IOTDNS_ENOMEM;
	memset(x->vals, 0xff, cap * sizeof(*x->vals));
	return IOTDNS_OK;
}

static void aidx_free(struct addr_index *x)
{
	free(x->keys);
	free(x->vals);
}

/* Returns the slot holding a, or the first free slot (EMPTY or TOMB) in its probe chain. */
static uint32_t aidx_slot(const struct addr_index *x, const struct iotdns_addr *a, bool *found)
{
	uint32_t mask = x->cap - 1, i = (uint32_t)iotdns_addr_hash(a) & mask, tomb = EMPTY;
	for (uint32_t n = 0; n < x->cap; n++, i = (i + 1) & mask) {
		uint32_t v = x->vals[i];
		if (v == EMPTY) {
			*found = false;
			return tomb != EMPTY ? tomb : i;
		}
		if (v == TOMB) {
			if (tomb == EMPTY)
				tomb = i;
			continue;
		}
		if (iotdns_addr_eq(&x->keys[i], a)) {
			*found = true;
			return i;
		}
	}
	*found = false;
	return tomb;
}

static uint32_t aidx_get(const struct addr_index *x, const struct iotdns_addr *a)
{
	bool found;
	uint32_t s = aidx_slot(x, a, &found);
	return found ? x->vals[s] : EMPTY;
}

static int aidx_put(struct addr_index *x, const struct iotdns_addr *a, uint32_t val);

static int aidx_grow(struct addr_index *x)
{
	struct addr_index nx;
	uint32_t ncap = x->cap;
	uint32_t live = 0;
	for (uint32_t i = 0; i < x->cap; i++)
		live += x->vals[i] < TOMB;
	if (live * 2 >= x->cap)
		ncap = x->cap * 2; /* otherwise rehash in place to drop tombstones */
	if (aidx_init(&nx, ncap) != IOTDNS_OK) {
		aidx_free(&nx);
		return IOTDNS_ENOMEM;
	}
	for (uint32_t i = 0; i < x->cap; i++)
		if (x->vals[i] < TOMB)
			aidx_put(&nx, &x->keys[i], x->vals[i]);
	aidx_free(x);
	*x = nx;
	return IOTDNS_OK;
}

static int aidx_put(struct addr_index *x, const struct iotdns_addr *a, uint32_t val)
{
	bool found;
	if ((x->used + 1) * 4 > x->cap * 3 && aidx_grow(x) != IOTDNS_OK)
		return IOTDNS_ENOMEM;
	uint32_t s = aidx_slot(x, a, &found);
	if (s == EMPTY)
		return IOTDNS_EFULL;
	if (!found) {
		if (x->vals[s] == EMPTY)
			x->used++;
		x->keys[s] = *a;
	}
	x->vals[s] = val;
	return IOTDNS_OK;
}

static void aidx_del(struct addr_index *x, const struct iotdns_addr *a, uint32_t only_if_val)
{
	bool found;
	uint32_t s = aidx_slot(x, a, &found);
	if (found && x->vals[s] == only_if_val)
		x->vals[s] = TOMB;
}

/* ---- table ------------------------------------------------------------- */

int iotdns_devtab_new(struct iotdns_devtab **out, const struct iotdns_limits *lim,
		      struct iotdns_stats *stats)
{
	struct iotdns_devtab *t = calloc(1, sizeof(*t));
	if (!t)
		return IOTDNS_ENOMEM;
	t->lim = *lim;
	t->stats = stats;
	t->cap = 64;
	t->devs = calloc(t->cap, sizeof(*t->devs));
	t->mac_cap = 128;
	t->mac_slots = calloc(t->mac_cap, sizeof(*t->mac_slots));
	if (!t->devs || !t->mac_slots || aidx_init(&t->ipkey, 64) != IOTDNS_OK ||
	    aidx_init(&t->owner, 256) != IOTDNS_OK) {
		iotdns_devtab_free(t, NULL, NULL);
		return IOTDNS_ENOMEM;
	}
	*out = t;
	return IOTDNS_OK;
}

static void dev_free(struct iotdns_device *d)
{
	if (!d)
		return;
	for (uint32_t i = 0; i < d->cap_names; i++)
		free(d->names[i].rec);
	free(d->names);
	free(d->addrs);
	free(d->resolvers);
	free(d->sessions);
	free(d->dhcp);
	free(d->fp_evidence);
	free(d->chk_state);
	free(d->chk_result);
	free(d);
}

void iotdns_devtab_free(struct iotdns_devtab *t, void (*on_free)(void *ctx, struct iotdns_device *),
			void *ctx)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n; i++) {
		if (on_free)
			on_free(ctx, t->devs[i]);
		dev_free(t->devs[i]);
	}
	free(t->devs);
	free(t->mac_slots);
	aidx_free(&t->ipkey);
	aidx_free(&t->owner);
	free(t);
}

uint32_t iotdns_devtab_count(const struct iotdns_devtab *t)
{
	return t->n;
}

struct iotdns_device *iotdns_devtab_at(struct iotdns_devtab *t, uint32_t idx)
{
	return idx < t->n ? t->devs[idx] : NULL;
}

static struct iotdns_device *dev_create(struct iotdns_devtab *t)
{
	if (t->n >= t->lim.max_devices) {
		t->stats->evictions[IOTDNS_V_DEVICES]++;
		return NULL;
	}
	if (t->n == t->cap) {
		uint32_t ncap = t->cap * 2;
		struct iotdns_device **nd = realloc(t->devs, ncap * sizeof(*nd));
		if (!nd)
			return NULL;
		t->devs = nd;
		t->cap = ncap;
	}
	struct iotdns_device *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->idx = t->n;
	t->devs[t->n++] = d;
	return d;
}

static uint64_t mac_key(const uint8_t mac[6])
{
	uint64_t k = 0;
	memcpy(&k, mac, 6);
	return k | (1ull << 63);
}

static int mac_grow(struct iotdns_devtab *t)
{
	uint32_t ncap = t->mac_cap * 2, mask = ncap - 1;
	struct mac_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return IOTDNS_ENOMEM;
	for (uint32_t i = 0; i < t->mac_cap; i++) {
		struct mac_slot v = t->mac_slots[i];
		if (!v.key)
			continue;
		uint32_t j = (uint32_t)mac_hash(t->devs[v.idx]->mac) & mask;
		while (ns[j].key)
			j = (j + 1) & mask;
		ns[j] = v;
	}
	free(t->mac_slots);
	t->mac_slots = ns;
	t->mac_cap = ncap;
	return IOTDNS_OK;
}

struct iotdns_device *iotdns_devtab_by_mac(struct iotdns_devtab *t, const uint8_t mac[6], bool create)
{
	uint64_t key = mac_key(mac);
	uint32_t mask = t->mac_cap - 1, i = (uint32_t)mac_hash(mac) & mask;
	for (; t->mac_slots[i].key; i = (i + 1) & mask)
		if (t->mac_slots[i].key == key)
			return t->devs[t->mac_slots[i].idx];
	if (!create)
		return NULL;
	struct iotdns_device *d = dev_create(t);
	if (!d)
		return NULL;
	memcpy(d->mac, mac, 6);
	t->mac_slots[i].key = key;
	t->mac_slots[i].idx = d->idx;
	/* keep the load under one half: short probe chains for misses too */
	if (t->n * 2 > t->mac_cap && mac_grow(t) != IOTDNS_OK)
		iotdns_fails(!"mac index growth failed");
	return d;
}

struct iotdns_device *iotdns_devtab_by_ip(struct iotdns_devtab *t, const struct iotdns_addr *ip, bool create)
{
	uint32_t v = aidx_get(&t->ipkey, ip);
	if (v != EMPTY)
		return t->devs[v];
	if (!create)
		return NULL;
	struct iotdns_device *d = dev_create(t);
	if (!d)
		return NULL;
	d->keyed_by_ip = true;
	d->key_ip = *ip;
	if (aidx_put(&t->ipkey, ip, d->idx) != IOTDNS_OK)
		iotdns_fails(!"ip index insert failed");
	return d;
}

struct iotdns_device *iotdns_devtab_owner_of(struct iotdns_devtab *t, const struct iotdns_addr *ip)
{
	uint32_t v = aidx_get(&t->owner, ip);
	return v < t->n ? t->devs[v] : NULL;
}

/* ---- per-device records ------------------------------------------------ */

void iotdns_dev_note_addr(struct iotdns_devtab *t, struct iotdns_device *dev,
			  const struct iotdns_addr *ip, uint64_t ts_us)
{
	struct iotdns_dev_addr *a;
	/* fast path: the most recently used address */
	for (uint32_t i = dev->naddrs; i-- > 0;) {
		a = &dev->addrs[i];
		if (iotdns_addr_eq(&a->addr, ip)) {
			a->last_us = ts_us;
			a->packets++;
			return;
		}
	}
	if (dev->naddrs == dev->cap_addrs) {
		if (dev->cap_addrs < t->lim.max_addrs_per_device) {
			uint32_t ncap = dev->cap_addrs ? dev->cap_addrs * 2 : 2;
			if (ncap > t->lim.max_addrs_per_device)
				ncap = t->lim.max_addrs_per_device;
			struct iotdns_dev_addr *na = realloc(dev->addrs, ncap * sizeof(*na));
			if (!na)
				return;
			dev->addrs = na;
			dev->cap_addrs = ncap;
		} else {
			/* full: replace the least recently used address */
			uint32_t lru = 0;
			for (uint32_t i = 1; i < dev->naddrs; i++)
				if (dev->addrs[i].last_us < dev->addrs[lru].last_us)
					lru = i;
			aidx_del(&t->owner, &dev->addrs[lru].addr, dev->idx);
			memmove(&dev->addrs[lru], &dev->addrs[lru + 1],
				(dev->naddrs - lru - 1) * sizeof(*dev->addrs));
			dev->naddrs--;
			t->stats->evictions[IOTDNS_V_ADDRESSES]++;
		}
	}
	a = &dev->addrs[dev->naddrs++];
	a->addr = *ip;
	a->first_us = a->last_us = ts_us;
	a->packets = 1;
	aidx_put(&t->owner, ip, dev->idx);
}

struct iotdns_dev_resolver *iotdns_dev_resolver(struct iotdns_devtab *t, struct iotdns_device *dev,
						const struct iotdns_addr *addr, bool create)
{
	for (uint32_t i = 0; i < dev->nresolvers; i++)
		if (iotdns_addr_eq(&dev->resolvers[i].addr, addr))
			return &dev->resolvers[i];
	if (!create)
		return NULL;
	if (dev->nresolvers == dev->cap_resolvers) {
		if (dev->cap_resolvers >= t->lim.max_resolvers_per_device) {
			t->stats->evictions[IOTDNS_V_RESOLVERS]++;
			return NULL;
		}
		uint32_t ncap = dev->cap_resolvers ? dev->cap_resolvers * 2 : 2;
		if (ncap > t->lim.max_resolvers_per_device)
			ncap = t->lim.max_resolvers_per_device;
		struct iotdns_dev_resolver *nr = realloc(dev->resolvers, ncap * sizeof(*nr));
		if (!nr)
			return NULL;
		dev->resolvers = nr;
		dev->cap_resolvers = ncap;
	}
	struct iotdns_dev_resolver *r = &dev->resolvers[dev->nresolvers++];
	memset(r, 0, sizeof(*r));
	r->addr = *addr;
	return r;
}

static bool names_grow(struct iotdns_device *dev, uint32_t ncap)
{
	struct iotdns_name_slot *nn = calloc(ncap, sizeof(*nn));
	if (!nn)
		return false;
	for (uint32_t i = 0; i < dev->cap_names; i++) {
		struct iotdns_name_slot *o = &dev->names[i];
		if (!o->rec)
			continue;
		uint32_t j = (uint32_t)o->hash & (ncap - 1);
		while (nn[j].rec)
			j = (j + 1) & (ncap - 1);
		nn[j] = *o;
	}
	free(dev->names);
	dev->names = nn;
	dev->cap_names = ncap;
	return true;
}

struct iotdns_dev_name *iotdns_dev_name(struct iotdns_devtab *t, struct iotdns_device *dev,
					const char *name, bool create)
{
	return iotdns_dev_name_hashed(t, dev, name, iotdns_hash_str(name), create);
}

struct iotdns_dev_name *iotdns_dev_name_hashed(struct iotdns_devtab *t, struct iotdns_device *dev,
					       const char *name, uint64_t h, bool create)
{
	uint32_t i = 0;
	if (dev->cap_names) {
		uint32_t mask = dev->cap_names - 1;
		for (i = (uint32_t)h & mask; dev->names[i].rec; i = (i + 1) & mask)
			if (dev->names[i].hash == h && strcmp(dev->names[i].rec->name, name) == 0)
				return dev->names[i].rec;
	}
	if (!create)
		return NULL;
	if (dev->nnames >= t->lim.max_names_per_device) {
		t->stats->evictions[IOTDNS_V_NAMES]++;
		return NULL;
	}
	if ((dev->nnames + 1) * 2 > dev->cap_names) {
		if (!names_grow(dev, dev->cap_names ? dev->cap_names * 2 : 16))
			return NULL;
		uint32_t mask = dev->cap_names - 1;
		for (i = (uint32_t)h & mask; dev->names[i].rec; i = (i + 1) & mask)
			;
	}
	size_t len = strlen(name);
	struct iotdns_dev_name *r = calloc(1, sizeof(*r) + len + 1);
	if (!r)
		return NULL;
	r->hash = h;
	r->name = (char *)(r + 1);
	memcpy(r->name, name, len + 1);
	dev->names[i].hash = h;
	dev->names[i].rec = r;
	dev->nnames++;
	return r;
}

struct iotdns_session *iotdns_dev_session_start(struct iotdns_devtab *t, struct iotdns_device *dev,
						enum iotdns_session_start why, uint64_t ts_us)
{
	uint32_t next_idx = dev->nsessions ? dev->sessions[dev->nsessions - 1].idx + 1 : 0;
	if (dev->nsessions == dev->cap_sessions) {
		if (dev->cap_sessions >= t->lim.max_sessions_per_device && dev->nsessions > 1) {
			/* drop the oldest ended session */
			memmove(&dev->sessions[0], &dev->sessions[1],
				(dev->nsessions - 1) * sizeof(*dev->sessions));
			dev->nsessions--;
			dev->sessions_dropped++;
			t->stats->evictions[IOTDNS_V_SESSIONS]++;
		} else {
			uint32_t ncap = dev->cap_sessions ? dev->cap_sessions * 2 : 4;
			if (ncap > t->lim.max_sessions_per_device)
				ncap = t->lim.max_sessions_per_device;
			if (ncap < 2)
				ncap = 2;
			struct iotdns_session *ns = realloc(dev->sessions, ncap * sizeof(*ns));
			if (!ns)
				return NULL;
			dev->sessions = ns;
			dev->cap_sessions = ncap;
		}
	}
	struct iotdns_session *ended = dev->nsessions ? &dev->sessions[dev->nsessions - 1] : NULL;
	struct iotdns_session *s = &dev->sessions[dev->nsessions++];
	memset(s, 0, sizeof(*s));
	s->idx = next_idx;
	s->start_reason = (uint8_t)why;
	s->start_us = s->end_us = ts_us;
	return ended;
}

void iotdns_dev_note_dhcp(struct iotdns_device *dev, const struct iotdns_dev_dhcp *obs)
{
	for (uint32_t i = 0; i < dev->ndhcp; i++) {
		struct iotdns_dev_dhcp *d = &dev->dhcp[i];
		if (d->version == obs->version && d->msg_type == obs->msg_type &&
		    strcmp(d->hostname, obs->hostname) == 0 && strcmp(d->vendor_class, obs->vendor_class) == 0 &&
		    strcmp(d->prl, obs->prl) == 0 && strcmp(d->client_id, obs->client_id) == 0) {
			d->count++;
			if (obs->last_us > d->last_us)
				d->last_us = obs->last_us;
			return;
		}
	}
	struct iotdns_dev_dhcp *d;
	if (!dev->dhcp && !(dev->dhcp = calloc(IOTDNS_DEV_MAX_DHCP, sizeof(*dev->dhcp))))
		return;
	if (dev->ndhcp < IOTDNS_DEV_MAX_DHCP) {
		d = &dev->dhcp[dev->ndhcp++];
	} else {
		/* keep the first fingerprints, replace the latest slot with the newest */
		d = &dev->dhcp[IOTDNS_DEV_MAX_DHCP - 1];
	}
	*d = *obs;
	d->count = 1;
	if (obs->hostname[0])
		memcpy(dev->hostname, obs->hostname, sizeof(dev->hostname));
}

const char *iotdns_dev_key(const struct iotdns_device *dev, char buf[64])
{
	if (dev->keyed_by_ip) {
		char a[IOTDNS_ADDR_TEXT];
		snprintf(buf, 64, "ip:%s", iotdns_addr_str(&dev->key_ip, a));
	} else {
		iotdns_mac_str(dev->mac, buf);
	}
	return buf;
}

/* ---- names of enum values ------------------------------------------------ */

const char *iotdns_transport_name(unsigned bit)
{
	switch (bit) {
	case IOTDNS_TR_UDP: return "udp";
	case IOTDNS_TR_TCP: return "tcp";
	case IOTDNS_TR_DOT: return "dot";
	case IOTDNS_TR_DOQ: return "doq";
	case IOTDNS_TR_DOH: return "doh";
	default: return "?";
	}
}

void iotdns_transport_mask_str(unsigned mask, char buf[48])
{
	size_t len = 0;
	buf[0] = 0;
	for (unsigned bit = 1; bit <= IOTDNS_TR_DOH; bit <<= 1) {
		if (!(mask & bit))
			continue;
		len += (size_t)snprintf(buf + len, 48 - len, "%s%s", len ? "+" : "", iotdns_transport_name(bit));
	}
}

const char *iotdns_provided_name(enum iotdns_provided_by p)
{
	switch (p) {
	case IOTDNS_PROV_NONE: return "none";
	case IOTDNS_PROV_DHCP: return "dhcp";
	case IOTDNS_PROV_DHCPV6: return "dhcpv6";
	case IOTDNS_PROV_RA: return "ra";
	case IOTDNS_PROV_CONFIG: return "config";
	case IOTDNS_PROV_INFERRED: return "inferred";
	}
	return "?";
}

const char *iotdns_session_start_name(enum iotdns_session_start s)
{
	switch (s) {
	case IOTDNS_SESS_FIRST: return "first-seen";
	case IOTDNS_SESS_DHCP: return "dhcp";
	case IOTDNS_SESS_SILENCE: return "silence";
	}
	return "?";
}

unsigned iotdns_qtype_bit(uint16_t qtype)
{
	switch (qtype) {
	case 1: return IOTDNS_QB_A;
	case 28: return IOTDNS_QB_AAAA;
	case 65: return IOTDNS_QB_HTTPS;
	case 64: return IOTDNS_QB_SVCB;
	case 12: return IOTDNS_QB_PTR;
	case 33: return IOTDNS_QB_SRV;
	case 16: return IOTDNS_QB_TXT;
	case 255: return IOTDNS_QB_ANY;
	default: return IOTDNS_QB_OTHER;
	}
}

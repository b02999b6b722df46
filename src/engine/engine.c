/* iotdns - the engine (see include/iotdns/engine.h and docs/architecture.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "iotdns/enrich.h"

#define EXPIRE_EVERY_US 1000000ull
#define DOQ_FLOW_GAP_US 30000000ull /* UDP/853 packets further apart count as a new flow */


void iotdns_engine_config_default(struct iotdns_engine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	iotdns_limits_default(&cfg->limits);
}

/* Applies "<check-id>.<option>=value" settings; unknown keys and values out
 * of range are errors naming the key. */
static int apply_sets(struct iotdns_engine *e, struct iotdns_err *err)
{
	for (unsigned k = 0; k < e->cfg.nsets; k++) {
		const char *key = e->cfg.sets[k].key;
		double v = e->cfg.sets[k].value;
		const char *dot = strchr(key, '.');
		bool found = false;
		for (unsigned i = 0; dot && i < e->nchk && !found; i++) {
			const struct iotdns_checker *c = e->chk[i].self;
			if (strlen(c->id) != (size_t)(dot - key) || strncmp(c->id, key, (size_t)(dot - key)) != 0)
				continue;
			unsigned j = 0;
			for (const struct iotdns_opt *o = c->opts; o && o->name; o++, j++) {
				if (strcmp(o->name, dot + 1) != 0)
					continue;
				if (v < o->min || v > o->max)
					return iotdns_err_set(err, IOTDNS_EINVAL, "%s: value %g out of range [%g, %g]", key, v,
							      o->min, o->max);
				e->chk[i].opt[j] = v;
				found = true;
				break;
			}
		}
		if (!found)
			return iotdns_err_set(err, IOTDNS_EINVAL, "%s: unknown setting (see `iotdns checks --options`)",
					      key);
	}
	return IOTDNS_OK;
}

static void on_tcp_msg(void *ctx, const struct iotdns_pkt *pkt, const uint8_t *msg, uint32_t len);
static void on_txn_done(void *ctx, const struct iotdns_txn *txn);

int iotdns_engine_new(struct iotdns_engine **out, const struct iotdns_engine_config *cfg,
		      struct iotdns_err *err)
{
	struct iotdns_engine *e = calloc(1, sizeof(*e));
	int rc = IOTDNS_ENOMEM;
	if (!e)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
	e->cfg = *cfg;
	e->checkers = cfg->checkers ? cfg->checkers : iotdns_checkers;
	while (e->checkers[e->nchk])
		e->nchk++;
	if (e->nchk > IOTDNS_ARRAY_LEN(e->chk_offsets)) {
		rc = iotdns_err_set(err, IOTDNS_EINVAL, "too many checkers");
		goto fail;
	}
	if (iotdns_decoder_new(&e->dec, &e->cfg.limits, &e->stats) ||
	    iotdns_tcp_new(&e->tcp, &e->cfg.limits, &e->stats, on_tcp_msg, e) ||
	    iotdns_devtab_new(&e->devs, &e->cfg.limits, &e->stats) ||
	    iotdns_txntab_new(&e->txns, &e->cfg.limits, &e->stats, on_txn_done, e) ||
	    iotdns_dns_parser_new(&e->dnsp)) {
		iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory setting up the engine");
		goto fail;
	}
	e->chk = calloc(e->nchk ? e->nchk : 1, sizeof(*e->chk));
	if (!e->chk)
		goto fail;
	for (unsigned i = 0; i < e->nchk; i++) {
		struct iotdns_check_ctx *c = &e->chk[i];
		c->self = e->checkers[i];
		c->engine = e;
		c->slot = i;
		e->chk_offsets[i] = e->chk_total;
		e->chk_total += (c->self->dev_state_size + 15) & ~(size_t)15;
		unsigned nopt = 0;
		for (const struct iotdns_opt *o = c->self->opts; o && o->name; o++) {
			if (nopt >= IOTDNS_MAX_OPTS) {
				rc = iotdns_err_set(err, IOTDNS_EINVAL, "checker %s has too many options", c->self->id);
				goto fail;
			}
			c->opt[nopt++] = o->def;
		}
	}
	if ((rc = apply_sets(e, err)) != IOTDNS_OK)
		goto fail;
	for (unsigned i = 0; i < e->nchk; i++)
		e->traffic_listeners |= e->chk[i].self->on_traffic != NULL;
	for (unsigned i = 0; i < e->nchk; i++) {
		struct iotdns_check_ctx *c = &e->chk[i];
		struct iotdns_err cerr = { "" };
		c->config = &e->cfg;
		c->err = &cerr;
		rc = c->self->init ? c->self->init(c) : IOTDNS_OK;
		c->err = NULL;
		if (rc != IOTDNS_OK) {
			if (cerr.msg[0])
				iotdns_err_set(err, rc, "%s", cerr.msg);
			else
				iotdns_err_set(err, rc, "checker %s failed to start: %s", c->self->id,
					       iotdns_strerror(rc));
			for (unsigned j = 0; j < i; j++)
				if (e->chk[j].self->fini)
					e->chk[j].self->fini(&e->chk[j]);
			e->nchk = 0;
			goto fail;
		}
	}
	*out = e;
	return IOTDNS_OK;
fail:
	iotdns_engine_free(e);
	return rc;
}

static void free_dev_state(void *ctx, struct iotdns_device *dev)
{
	struct iotdns_engine *e = ctx;
	if (!dev->chk_state)
		return;
	for (unsigned i = 0; i < e->nchk; i++)
		if (e->chk[i].self->dev_free && dev->chk_state[i])
			e->chk[i].self->dev_free(&e->chk[i], dev->chk_state[i]);
	/* chk_state[0] points at the start of the one block holding every slot */
	free(dev->chk_state[0] ? (char *)dev->chk_state[0] - e->chk_offsets[0] : NULL);
}

void iotdns_engine_free(struct iotdns_engine *e)
{
	if (!e)
		return;
	iotdns_devtab_free(e->devs, free_dev_state, e);
	for (unsigned i = 0; i < e->nchk; i++)
		if (e->chk[i].self->fini)
			e->chk[i].self->fini(&e->chk[i]);
	free(e->chk);
	iotdns_txntab_free(e->txns);
	iotdns_tcp_free(e->tcp);
	iotdns_decoder_free(e->dec);
	iotdns_dns_parser_free(e->dnsp);
	for (uint32_t i = 0; i < e->ninputs; i++)
		free(e->inputs[i]);
	free(e->inputs);
	for (uint32_t i = 0; i < e->nfindings; i++)
		free(e->findings[i]);
	free(e->findings);
	free(e);
}

struct iotdns_devtab *iotdns_engine_devices(struct iotdns_engine *e)
{
	return e->devs;
}

struct iotdns_stats *iotdns_engine_stats(struct iotdns_engine *e)
{
	return &e->stats;
}

uint32_t iotdns_engine_input_count(const struct iotdns_engine *e)
{
	return e->ninputs;
}

const char *iotdns_engine_input_name(const struct iotdns_engine *e, uint32_t idx)
{
	return idx < e->ninputs ? e->inputs[idx] : "?";
}

void iotdns_engine_begin_input(struct iotdns_engine *e, const char *name, int dlt)
{
	if (e->ninputs == e->cap_inputs) {
		uint32_t ncap = e->cap_inputs ? e->cap_inputs * 2 : 8;
		char **ni = realloc(e->inputs, ncap * sizeof(*ni));
		if (!ni)
			return;
		e->inputs = ni;
		e->cap_inputs = ncap;
	}
	e->inputs[e->ninputs++] = strdup(name);
	e->dlt = dlt;
	e->pktno = 0;
}

/* ---- devices and checker state -------------------------------------------- */

static bool ensure_state(struct iotdns_engine *e, struct iotdns_device *dev)
{
	if (dev->chk_state || !e->nchk)
		return true;
	dev->chk_state = calloc(e->nchk, sizeof(void *));
	dev->chk_result = calloc(e->nchk, sizeof(*dev->chk_result));
	char *block = calloc(1, e->chk_total ? e->chk_total : 1);
	if (!dev->chk_state || !dev->chk_result || !block) {
		free(dev->chk_state);
		free(dev->chk_result);
		free(block);
		dev->chk_state = NULL;
		dev->chk_result = NULL;
		return false;
	}
	for (unsigned i = 0; i < e->nchk; i++)
		dev->chk_state[i] = block + e->chk_offsets[i];
	return true;
}

static void end_session(struct iotdns_engine *e, struct iotdns_device *dev, const struct iotdns_session *s)
{
	if (!s || !dev->chk_state)
		return;
	for (unsigned i = 0; i < e->nchk; i++)
		if (e->chk[i].self->on_session_end)
			e->chk[i].self->on_session_end(&e->chk[i], dev, dev->chk_state[i], s);
}

static void new_session(struct iotdns_engine *e, struct iotdns_device *dev, enum iotdns_session_start why,
			uint64_t ts)
{
	struct iotdns_session *cur = iotdns_dev_session(dev);
	/* a DHCP exchange before any query belongs to the session it opens */
	if (cur && cur->queries == 0 && why == IOTDNS_SESS_DHCP) {
		cur->start_reason = IOTDNS_SESS_DHCP;
		return;
	}
	if (cur) {
		struct iotdns_session ended = *cur;
		end_session(e, dev, &ended);
	}
	iotdns_dev_session_start(e->devs, dev, why, ts);
}

/* Keeps the session of an active device current: first packet or silence. */
static struct iotdns_session *touch_session(struct iotdns_engine *e, struct iotdns_device *dev, uint64_t ts)
{
	struct iotdns_session *cur = iotdns_dev_session(dev);
	if (!cur)
		new_session(e, dev, IOTDNS_SESS_FIRST, ts);
	else if (ts > cur->end_us && ts - cur->end_us > e->cfg.limits.session_gap_us)
		new_session(e, dev, IOTDNS_SESS_SILENCE, ts);
	cur = iotdns_dev_session(dev);
	if (cur && ts > cur->end_us)
		cur->end_us = ts;
	return cur;
}

static struct iotdns_device *device_of_sender(struct iotdns_engine *e, const struct iotdns_pkt *p, bool create)
{
	struct iotdns_device *dev = p->has_mac ? iotdns_devtab_by_mac(e->devs, p->src_mac, create)
					       : iotdns_devtab_by_ip(e->devs, &p->src, create);
	if (!dev)
		return NULL;
	if (!ensure_state(e, dev))
		return NULL;
	if (!dev->first_us || p->ts_us < dev->first_us)
		dev->first_us = p->ts_us;
	if (p->ts_us > dev->last_us)
		dev->last_us = p->ts_us;
	if (p->vlan && !dev->vlan)
		dev->vlan = p->vlan;
	if (p->src.family)
		iotdns_dev_note_addr(e->devs, dev, &p->src, p->ts_us);
	return dev;
}

static struct iotdns_device *device_of_receiver(struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	struct iotdns_device *dev = NULL;
	if (p->has_mac && !(p->dst_mac[0] & 1))
		dev = iotdns_devtab_by_mac(e->devs, p->dst_mac, false);
	if (!dev && !p->has_mac)
		dev = iotdns_devtab_by_ip(e->devs, &p->dst, false);
	if (!dev)
		dev = iotdns_devtab_owner_of(e->devs, &p->dst);
	return dev;
}

/* ---- DNS ----------------------------------------------------------------- */

static void raise_dns(struct iotdns_engine *e, struct iotdns_device *dev, const struct iotdns_dns_event *ev,
		      bool query)
{
	if (!dev->chk_state)
		return;
	for (unsigned i = 0; i < e->nchk; i++) {
		const struct iotdns_checker *c = e->chk[i].self;
		if (query && c->on_query)
			c->on_query(&e->chk[i], dev, dev->chk_state[i], ev);
		else if (!query && c->on_response)
			c->on_response(&e->chk[i], dev, dev->chk_state[i], ev);
	}
}

static void on_txn_done(void *ctx, const struct iotdns_txn *done)
{
	struct iotdns_engine *e = ctx;
	struct iotdns_device *dev = done->dev;
	if (!dev)
		return;
	/* the resolver array may have grown (moved) since the query: the
	 * transaction kept its index, the pointer is made afresh here */
	struct iotdns_txn copy = *done;
	const struct iotdns_txn *txn = &copy;
	copy.resolver = done->resolver_idx >= 0 && (uint32_t)done->resolver_idx < dev->nresolvers
				? &dev->resolvers[done->resolver_idx]
				: NULL;
	if (!txn->answered) {
		dev->unanswered++;
		if (txn->resolver)
			txn->resolver->unanswered++;
	}
	if (!dev->chk_state)
		return;
	for (unsigned i = 0; i < e->nchk; i++)
		if (e->chk[i].self->on_txn)
			e->chk[i].self->on_txn(&e->chk[i], dev, dev->chk_state[i], txn);
}

/* A global IPv6 address of the monitored network: a network without NAT
 * numbers its hosts from a global prefix, so the value of an address does
 * not say whether it is on the LAN; one that a known device has sent from
 * is. (And two addresses of the same site prefix, iotdns_addr_same_site6,
 * are on the same network.) */
static bool own_global6(const struct iotdns_engine *e, const struct iotdns_addr *a)
{
	return a->family == 6 && !iotdns_addr_is_local(a) && iotdns_devtab_owner_of(e->devs, a) != NULL;
}

/* A query from outside the network to one of its hosts: counted for that
 * host, and whoever relays it is not made a device. IPv4: from a public to
 * a private address. IPv6: from a global address no device has used, of
 * another site, to a global address a device has used (a ULA, link-local or
 * loopback destination cannot be reached from the Internet, so such a
 * query comes from a client on the network, seen for the first time). */
static bool inbound_query(const struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	if (p->src.family != p->dst.family || iotdns_addr_is_multicast(&p->dst))
		return false;
	if (p->src.family == 4)
		return !iotdns_addr_is_local(&p->src) && iotdns_addr_is_local(&p->dst);
	return p->src.family == 6 && !iotdns_addr_is_local(&p->src) && !iotdns_addr_same_site6(&p->src, &p->dst) &&
	       !iotdns_devtab_owner_of(e->devs, &p->src) && own_global6(e, &p->dst);
}

/* A response sent by a host of the network (it serves DNS): from a private
 * address, or from a global IPv6 address a device has used. */
static bool lan_responder(const struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	return iotdns_addr_is_local(&p->src) || own_global6(e, &p->src);
}

/* A response to the outside: to a public address, for IPv6 also not one a
 * device has used nor of the responder's site. */
static bool to_outside(const struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	return !iotdns_addr_is_local(&p->dst) && !own_global6(e, &p->dst) &&
	       !iotdns_addr_same_site6(&p->src, &p->dst);
}

static void dns_query(struct iotdns_engine *e, const struct iotdns_pkt *p, const struct iotdns_dns_msg *m,
		      uint64_t qh, uint8_t proto, unsigned transport)
{
	if (inbound_query(e, p)) {
		struct iotdns_device *target = device_of_receiver(e, p);
		if (target)
			target->requests_received++, target->requests_received_bytes += m->size;
		return;
	}
	struct iotdns_device *dev = device_of_sender(e, p, true);
	if (!dev)
		return;
	struct iotdns_dns_event ev = {
		.pkt = p, .msg = m, .input_name = iotdns_engine_input_name(e, p->input), .proto = proto,
		.direction = IOTDNS_DIR_FROM_DEVICE, .transport = transport, .qname_hash = qh,
	};
	ev.session = touch_session(e, dev, p->ts_us);
	if (proto == IOTDNS_PROTO_MDNS) {
		dev->mdns_queries++;
	} else if (proto == IOTDNS_PROTO_LLMNR) {
		dev->llmnr_queries++;
	} else {
		dev->queries++;
		if (transport == IOTDNS_TR_TCP)
			dev->tcp_queries++;
		if (ev.session)
			ev.session->queries++;
	}
	if (m->has_question) {
		ev.name = iotdns_dev_name_hashed(e->devs, dev, m->qname, qh, true);
		if (ev.name) {
			struct iotdns_dev_name *n = ev.name;
			n->queries++;
			n->qtypes |= iotdns_qtype_bit(m->qtype);
			if (!n->first_us)
				n->first_us = p->ts_us;
			n->last_us = p->ts_us;
		}
	}
	if (proto == IOTDNS_PROTO_DNS || (proto == IOTDNS_PROTO_LLMNR && !iotdns_addr_is_multicast(&p->dst))) {
		struct iotdns_dev_resolver *r = iotdns_dev_resolver(e->devs, dev, &p->dst, true);
		ev.resolver = r;
		if (r) {
			r->queries++;
			r->transports |= transport;
			if (transport == IOTDNS_TR_TCP)
				r->tcp_queries++;
			if (!r->first_us)
				r->first_us = p->ts_us;
			r->last_us = p->ts_us;
		}
		struct iotdns_txn q = {
			.dev = dev, .resolver = NULL, .resolver_idx = r ? (int32_t)(r - dev->resolvers) : -1,
			.name = ev.name, .client = p->src, .server = p->dst,
			.client_port = p->sport, .server_port = p->dport, .id = m->id, .qtype = m->qtype,
			.qname_hash = qh, .transport = transport,
			.session_idx = ev.session ? ev.session->idx : 0, .query_us = p->ts_us,
			.query_pktno = p->pktno, .query_input = p->input, .query_size = m->size,
		};
		ev.retransmission = iotdns_txn_query(e->txns, &q);
		if (ev.retransmission) {
			dev->retransmissions++;
			if (r)
				r->retransmissions++;
		}
	}
	raise_dns(e, dev, &ev, true);
}

static void dns_response(struct iotdns_engine *e, const struct iotdns_pkt *p, const struct iotdns_dns_msg *m,
			 uint64_t qh, uint8_t proto, unsigned transport)
{
	struct iotdns_dns_event ev = {
		.pkt = p, .msg = m, .input_name = iotdns_engine_input_name(e, p->input), .proto = proto,
		.transport = transport, .qname_hash = qh,
	};
	/* A local host answering unicast DNS is recorded as a responder: on the
	 * device it is, or as a new device when it answers a non-local address
	 * (exposure to the outside). The local resolver answering devices is
	 * not made a device by that alone. */
	if (proto == IOTDNS_PROTO_DNS && lan_responder(e, p)) {
		bool outside = to_outside(e, p);
		struct iotdns_device *resp = device_of_sender(e, p, outside);
		if (resp) {
			resp->responses_sent++;
			resp->responses_sent_bytes += m->size;
			ev.direction = IOTDNS_DIR_FROM_DEVICE;
			raise_dns(e, resp, &ev, false);
		}
		/* an IPv6 answer served to the outside is no device's response
		 * (its frame goes to the router's MAC) */
		if (outside && p->dst.family == 6)
			return;
	}
	if (proto == IOTDNS_PROTO_MDNS) {
		/* Multicast answers are announcements. An mDNS answer sent by unicast
		 * (to a legacy/QU querier, or to a non-local address) is the device
		 * serving DNS: raised as a response from it, for the reflector checks. */
		if (!iotdns_addr_is_multicast(&p->dst)) {
			struct iotdns_device *resp = device_of_sender(e, p, false);
			if (resp) {
				ev.direction = IOTDNS_DIR_FROM_DEVICE;
				raise_dns(e, resp, &ev, false);
			}
		}
		return;
	}
	struct iotdns_device *dev = device_of_receiver(e, p);
	if (!dev)
		return;
	dev->responses++;
	ev.direction = IOTDNS_DIR_TO_DEVICE;
	ev.session = iotdns_dev_session(dev);
	ev.resolver = iotdns_dev_resolver(e->devs, dev, &p->src, false);
	if (ev.resolver) {
		ev.resolver->responses++;
		if (p->ts_us > ev.resolver->last_us)
			ev.resolver->last_us = p->ts_us;
	}
	if (m->has_question) {
		ev.name = iotdns_dev_name_hashed(e->devs, dev, m->qname, qh, false);
		if (ev.name) {
			struct iotdns_dev_name *n = ev.name;
			n->responses++;
			switch (m->rcode) {
			case IOTDNS_RCODE_NOERROR:
				n->rcode_noerror++;
				if (m->ancount == 0)
					n->nodata++;
				break;
			case IOTDNS_RCODE_NXDOMAIN: n->rcode_nxdomain++; break;
			case IOTDNS_RCODE_SERVFAIL: n->rcode_servfail++; break;
			default: n->rcode_other++;
			}
			if (m->has_min_ttl) {
				if (!n->has_ttl || m->min_ttl < n->ttl_min)
					n->ttl_min = m->min_ttl;
				if (!n->has_ttl || m->min_ttl > n->ttl_max)
					n->ttl_max = m->min_ttl;
				n->ttl_last = m->min_ttl;
				n->has_ttl = true;
			}
		}
	}
	struct iotdns_txn r = {
		.client = p->dst, .server = p->src, .client_port = p->dport, .server_port = p->sport, .id = m->id,
		.qtype = m->qtype, .qname_hash = qh,
		.response_us = p->ts_us, .response_pktno = p->pktno, .response_input = p->input,
		.response_size = m->size, .rcode = m->rcode, .tc = m->tc, .n_addr_answers = m->n_addr_answers,
		.has_min_ttl = m->has_min_ttl, .min_ttl = m->min_ttl, .soa_present = m->soa.present,
		.soa_minimum = m->soa.minimum,
	};
	raise_dns(e, dev, &ev, false);
	iotdns_txn_response(e->txns, &r);
}

static void dns_message(struct iotdns_engine *e, const struct iotdns_pkt *p, const uint8_t *wire, uint32_t len,
			uint8_t proto, unsigned transport)
{
	const struct iotdns_dns_msg *m;
	enum iotdns_problem why;
	if (iotdns_dns_parse(e->dnsp, wire, len, &m, &why) != IOTDNS_OK) {
		iotdns_stats_problem(&e->stats, why);
		return;
	}
	e->stats.dns_messages++;
	/* the question's hash, once: name records, transactions and checkers share it */
	uint64_t qh = m->has_question ? iotdns_hash_str(m->qname) : 0;
	if (m->qr) {
		e->stats.dns_responses++;
		dns_response(e, p, m, qh, proto, transport);
	} else {
		e->stats.dns_queries++;
		if (!m->has_question)
			iotdns_stats_problem(&e->stats, IOTDNS_P_DNS_NO_QUESTION);
		dns_query(e, p, m, qh, proto, transport);
	}
}

static void on_tcp_msg(void *ctx, const struct iotdns_pkt *pkt, const uint8_t *msg, uint32_t len)
{
	dns_message(ctx, pkt, msg, len, IOTDNS_PROTO_DNS, IOTDNS_TR_TCP);
}

/* ---- DHCP, DHCPv6, RA ------------------------------------------------------ */

static void add_offered(struct iotdns_device *dev, const struct iotdns_addr *a, uint8_t by)
{
	for (unsigned i = 0; i < dev->n_offered; i++)
		if (iotdns_addr_eq(&dev->offered[i], a))
			return;
	if (dev->n_offered < IOTDNS_DHCP_MAX_DNS) {
		dev->offered[dev->n_offered] = *a;
		dev->offered_by[dev->n_offered++] = by;
	}
}

static void dhcp4(struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	struct iotdns_dhcp4 *d = &e->d4;
	if (iotdns_dhcp4_parse(p->payload, p->payload_len, d) != IOTDNS_OK) {
		iotdns_stats_problem(&e->stats, IOTDNS_P_DHCP_MALFORMED);
		return;
	}
	e->stats.dhcp_messages++;
	static const uint8_t zero[6];
	if (memcmp(d->chaddr, zero, 6) == 0)
		return;
	if (d->op == 1) {
		/* from the client: identity, fingerprint, and a boot when it (re)starts */
		struct iotdns_device *dev = iotdns_devtab_by_mac(e->devs, d->chaddr, true);
		if (!dev || !ensure_state(e, dev))
			return;
		if (!dev->first_us || p->ts_us < dev->first_us)
			dev->first_us = p->ts_us;
		if (p->ts_us > dev->last_us)
			dev->last_us = p->ts_us;
		if (d->ciaddr.family && memcmp(d->ciaddr.b, zero, 4) != 0)
			iotdns_dev_note_addr(e->devs, dev, &d->ciaddr, p->ts_us);
		struct iotdns_dev_dhcp *o = &e->obs;
		memset(o, 0, sizeof(*o));
		o->version = 4;
		o->msg_type = d->msg_type;
		memcpy(o->hostname, d->hostname, sizeof(o->hostname));
		memcpy(o->vendor_class, d->vendor_class, sizeof(o->vendor_class));
		snprintf(o->prl, sizeof(o->prl), "%s", d->prl_text);
		memcpy(o->client_id, d->client_id_text, sizeof(o->client_id));
		o->first_us = o->last_us = p->ts_us;
		o->pktno = p->pktno;
		o->input = p->input;
		iotdns_dev_note_dhcp(dev, o);
		/* DISCOVER, or REQUEST in INIT-REBOOT/SELECTING state (ciaddr 0): the device is
		 * (re)joining the network. Renewals (ciaddr set) are not boots. */
		bool ciaddr_zero = !d->ciaddr.family || memcmp(d->ciaddr.b, zero, 4) == 0;
		if (d->msg_type == IOTDNS_DHCP_DISCOVER || (d->msg_type == IOTDNS_DHCP_REQUEST && ciaddr_zero))
			new_session(e, dev, IOTDNS_SESS_DHCP, p->ts_us);
	} else if (d->op == 2 && (d->msg_type == IOTDNS_DHCP_ACK || d->msg_type == IOTDNS_DHCP_OFFER)) {
		struct iotdns_device *dev = iotdns_devtab_by_mac(e->devs, d->chaddr, false);
		if (!dev)
			return;
		if (d->msg_type == IOTDNS_DHCP_ACK && d->yiaddr.family && memcmp(d->yiaddr.b, zero, 4) != 0)
			iotdns_dev_note_addr(e->devs, dev, &d->yiaddr, p->ts_us);
		for (unsigned i = 0; i < d->n_dns; i++)
			add_offered(dev, &d->dns[i], IOTDNS_PROV_DHCP);
	}
}

static void dhcp6(struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	struct iotdns_dhcp6 *d = &e->d6;
	if (iotdns_dhcp6_parse(p->payload, p->payload_len, d) != IOTDNS_OK) {
		iotdns_stats_problem(&e->stats, IOTDNS_P_DHCPV6_MALFORMED);
		return;
	}
	e->stats.dhcp_messages++;
	if (!p->has_mac)
		return;
	bool from_client = p->dport == 547;
	if (from_client) {
		struct iotdns_device *dev = iotdns_devtab_by_mac(e->devs, p->src_mac, true);
		if (!dev || !ensure_state(e, dev))
			return;
		struct iotdns_dev_dhcp *o = &e->obs;
		memset(o, 0, sizeof(*o));
		o->version = 6;
		o->msg_type = d->msg_type;
		memcpy(o->hostname, d->fqdn, sizeof(o->hostname));
		memcpy(o->vendor_class, d->vendor_class, sizeof(o->vendor_class));
		size_t len = 0;
		for (unsigned i = 0; i < d->oro_len && len + 8 < sizeof(o->prl); i++)
			len += (size_t)snprintf(o->prl + len, sizeof(o->prl) - len, "%s%u", i ? "," : "", d->oro[i]);
		memcpy(o->client_id, d->duid_text, sizeof(o->client_id));
		o->first_us = o->last_us = p->ts_us;
		o->pktno = p->pktno;
		o->input = p->input;
		iotdns_dev_note_dhcp(dev, o);
		if (d->msg_type == IOTDNS_DHCP6_SOLICIT)
			new_session(e, dev, IOTDNS_SESS_DHCP, p->ts_us);
	} else if (d->msg_type == IOTDNS_DHCP6_REPLY || d->msg_type == IOTDNS_DHCP6_ADVERTISE) {
		struct iotdns_device *dev = iotdns_devtab_by_mac(e->devs, p->dst_mac, false);
		if (!dev)
			return;
		for (unsigned i = 0; i < d->n_dns; i++)
			add_offered(dev, &d->dns[i], IOTDNS_PROV_DHCPV6);
	}
}

static void router_adv(struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	struct iotdns_ra *ra = &e->rav;
	if (iotdns_ra_parse(p->payload, p->payload_len, ra) != IOTDNS_OK) {
		iotdns_stats_problem(&e->stats, IOTDNS_P_RA_MALFORMED);
		return;
	}
	for (unsigned i = 0; i < ra->n_dns; i++) {
		bool known = false;
		for (unsigned j = 0; j < e->n_ra; j++)
			known |= iotdns_addr_eq(&e->ra[j], &ra->dns[i]);
		if (!known && e->n_ra < IOTDNS_DHCP_MAX_DNS)
			e->ra[e->n_ra++] = ra->dns[i];
	}
}

/* ---- encrypted DNS flows ---------------------------------------------------- */

static void encrypted_flow(struct iotdns_engine *e, const struct iotdns_pkt *p, unsigned transport)
{
	struct iotdns_device *dev = device_of_sender(e, p, true);
	if (!dev)
		return;
	touch_session(e, dev, p->ts_us);
	struct iotdns_dev_resolver *r = iotdns_dev_resolver(e->devs, dev, &p->dst, true);
	if (!r)
		return;
	if (transport == IOTDNS_TR_DOQ) {
		bool new_flow = !(r->transports & IOTDNS_TR_DOQ) || p->ts_us - r->last_us > DOQ_FLOW_GAP_US;
		if (new_flow)
			r->flows_doq++;
	} else if (transport == IOTDNS_TR_DOT) {
		r->flows_dot++;
	} else {
		r->flows_doh++;
	}
	if (!r->first_flow_transport) {
		r->first_flow_transport = (uint8_t)transport;
		r->first_flow_pktno = p->pktno;
		r->first_flow_input = p->input;
		r->first_flow_us = p->ts_us;
		r->first_flow_dport = p->dport;
	}
	r->transports |= transport;
	if (!r->first_us)
		r->first_us = p->ts_us;
	r->last_us = p->ts_us;
}

/* ---- other traffic ------------------------------------------------------------ */

/* A device's TCP SYN or UDP datagram to a non-local address: raised only
 * when a checker listens, and only for devices already known from DNS. */
static void other_traffic(struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	if (!e->traffic_listeners || iotdns_addr_is_local(&p->dst))
		return;
	if (p->l4 == IOTDNS_L4_TCP && (p->tcp_flags & (IOTDNS_TCP_SYN | IOTDNS_TCP_ACK)) != IOTDNS_TCP_SYN)
		return;
	struct iotdns_device *dev = p->has_mac ? iotdns_devtab_by_mac(e->devs, p->src_mac, false)
					       : iotdns_devtab_by_ip(e->devs, &p->src, false);
	if (!dev || !dev->chk_state)
		return;
	for (unsigned i = 0; i < e->nchk; i++)
		if (e->chk[i].self->on_traffic)
			e->chk[i].self->on_traffic(&e->chk[i], dev, dev->chk_state[i], p);
}

/* ---- prefetching ------------------------------------------------------------- */

/* With thousands of devices, each DNS packet lands on a device whose state is
 * cold: the engine's records and every checker's state are separate cache
 * misses. Asking for them all at once, before the message is decoded, lets
 * the misses overlap each other and the decoding instead of adding up. */
static void prefetch_device(const struct iotdns_engine *e, const struct iotdns_pkt *p)
{
	if (!p->has_mac)
		return;
	bool to_server = p->dport == 53 || p->dport == 5353 || p->dport == 5355;
	struct iotdns_device *dev = iotdns_devtab_by_mac(e->devs, to_server ? p->src_mac : p->dst_mac, false);
	if (!dev)
		return;
	__builtin_prefetch((const char *)dev + 64, 1);
	__builtin_prefetch((const char *)dev + 128, 1);
	if (dev->addrs)
		__builtin_prefetch(&dev->addrs[dev->naddrs ? dev->naddrs - 1 : 0], 1);
	if (dev->resolvers)
		__builtin_prefetch(dev->resolvers, 1);
	if (dev->sessions)
		__builtin_prefetch(&dev->sessions[dev->nsessions ? dev->nsessions - 1 : 0], 1);
	if (dev->chk_state) {
		for (unsigned i = 0; i < e->nchk; i++) {
			__builtin_prefetch(dev->chk_state[i], 1);
			__builtin_prefetch((const char *)dev->chk_state[i] + 64, 1);
		}
	}
}

/* ---- packets --------------------------------------------------------------- */

static void expire(struct iotdns_engine *e, uint64_t now)
{
	iotdns_txn_expire(e->txns, now);
	iotdns_tcp_expire(e->tcp, now);
	iotdns_decoder_expire(e->dec, now);
	e->last_expire_us = now;
}

void iotdns_engine_tick(struct iotdns_engine *e, uint64_t now_us)
{
	if (now_us > e->now_us)
		e->now_us = now_us;
	expire(e, e->now_us);
}

void iotdns_engine_packet(struct iotdns_engine *e, const struct pcap_pkthdr *h, const uint8_t *data)
{
	struct iotdns_pkt p;
	p.ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	p.pktno = ++e->pktno;
	p.input = e->ninputs ? e->ninputs - 1 : 0;
	p.caplen = h->caplen;
	p.wirelen = h->len;
	e->stats.packets++;
	e->stats.bytes += h->caplen;
	if (h->caplen < h->len)
		iotdns_stats_problem(&e->stats, IOTDNS_P_SNAPLEN_CUT);
	if (p.ts_us > e->now_us)
		e->now_us = p.ts_us;
	if (e->now_us - e->last_expire_us >= EXPIRE_EVERY_US)
		expire(e, e->now_us);

	switch (iotdns_decode_frame(e->dec, e->dlt, data, &p)) {
	case IOTDNS_DEC_OK: break;
	case IOTDNS_DEC_SKIP: e->stats.ignored++; return;
	case IOTDNS_DEC_BAD: return;
	}

	if (p.l4 == IOTDNS_L4_UDP) {
		uint16_t sp = p.sport, dp = p.dport;
		if (sp == 53 || dp == 53 || sp == 5353 || dp == 5353)
			prefetch_device(e, &p);
		if (sp == 53 || dp == 53)
			dns_message(e, &p, p.payload, p.payload_len, IOTDNS_PROTO_DNS, IOTDNS_TR_UDP);
		else if (sp == 5353 || dp == 5353)
			dns_message(e, &p, p.payload, p.payload_len, IOTDNS_PROTO_MDNS, IOTDNS_TR_UDP);
		else if (sp == 5355 || dp == 5355)
			dns_message(e, &p, p.payload, p.payload_len, IOTDNS_PROTO_LLMNR, IOTDNS_TR_UDP);
		else if ((sp == 68 && dp == 67) || (sp == 67 && dp == 68) || (sp == 67 && dp == 67))
			dhcp4(e, &p);
		else if ((sp == 546 && dp == 547) || (sp == 547 && dp == 546))
			dhcp6(e, &p);
		else if (dp == 853)
			encrypted_flow(e, &p, IOTDNS_TR_DOQ);
		else {
			e->stats.ignored++;
			other_traffic(e, &p);
		}
	} else if (p.l4 == IOTDNS_L4_TCP) {
		bool syn = (p.tcp_flags & (IOTDNS_TCP_SYN | IOTDNS_TCP_ACK)) == IOTDNS_TCP_SYN;
		if (p.sport == 53 || p.dport == 53)
			iotdns_tcp_segment(e->tcp, &p);
		else if (p.dport == 853 && syn)
			encrypted_flow(e, &p, IOTDNS_TR_DOT);
		else if (p.dport == 443 && syn && e->cfg.enrich && iotdns_enrich_is_doh(e->cfg.enrich, &p.dst))
			encrypted_flow(e, &p, IOTDNS_TR_DOH);
		else {
			e->stats.ignored++;
			other_traffic(e, &p);
		}
	} else if (p.l4 == IOTDNS_L4_ICMPV6 && p.icmp_type == 134) {
		router_adv(e, &p);
	} else {
		e->stats.ignored++;
	}
}

/* ---- end of run --------------------------------------------------------------- */

void iotdns_engine_sync(struct iotdns_engine *e)
{
	uint32_t n = iotdns_devtab_count(e->devs);
	for (uint32_t i = 0; i < n; i++) {
		struct iotdns_device *dev = iotdns_devtab_at(e->devs, i);
		for (unsigned j = 0; j < e->n_ra; j++)
			add_offered(dev, &e->ra[j], IOTDNS_PROV_RA);
		for (unsigned j = 0; j < e->cfg.nresolvers; j++)
			add_offered(dev, &e->cfg.resolvers[j], IOTDNS_PROV_CONFIG);
	}
}

void iotdns_engine_finish(struct iotdns_engine *e)
{
	if (e->finished)
		return;
	e->finished = true;
	iotdns_tcp_expire(e->tcp, UINT64_MAX);
	iotdns_decoder_expire(e->dec, UINT64_MAX);
	iotdns_txn_finish(e->txns);
	iotdns_engine_sync(e);
	uint32_t n = iotdns_devtab_count(e->devs);
	for (uint32_t i = 0; i < n; i++) {
		struct iotdns_device *dev = iotdns_devtab_at(e->devs, i);
		struct iotdns_session *s = iotdns_dev_session(dev);
		if (s)
			end_session(e, dev, s);
		if (!dev->chk_state)
			continue;
		for (unsigned c = 0; c < e->nchk; c++) {
			if (e->chk[c].self->on_device_end)
				e->chk[c].self->on_device_end(&e->chk[c], dev, dev->chk_state[c]);
			struct iotdns_check_result *r = &dev->chk_result[c];
			if (r->nfindings)
				r->status = IOTDNS_STATUS_FAIL;
			else if (r->status == IOTDNS_STATUS_NONE) {
				r->status = IOTDNS_STATUS_INSUFFICIENT;
				snprintf(r->detail, sizeof(r->detail), "no verdict");
			}
		}
	}
}

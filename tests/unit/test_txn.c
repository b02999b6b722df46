/* Transactions: matching, retransmissions, time-outs, bounded table. */
#include "harness.h"
#include "iotdns/txn.h"

struct seen {
	int answered, unanswered;
	struct iotdns_txn last;
};

static void done(void *ctx, const struct iotdns_txn *t)
{
	struct seen *s = ctx;
	if (t->answered)
		s->answered++;
	else
		s->unanswered++;
	s->last = *t;
}

static struct iotdns_txn q(struct iotdns_device *dev, uint16_t cport, uint16_t id, uint64_t name, uint64_t ts)
{
	struct iotdns_txn t = { 0 };
	uint8_t c[4] = { 192, 168, 1, 10 }, s[4] = { 192, 168, 1, 1 };
	iotdns_addr_set4(&t.client, c);
	iotdns_addr_set4(&t.server, s);
	t.dev = dev;
	t.client_port = cport;
	t.server_port = 53;
	t.id = id;
	t.qtype = 1;
	t.qname_hash = name;
	t.query_us = ts;
	return t;
}

static struct iotdns_txn r(struct iotdns_txn t, uint64_t ts)
{
	t.response_us = ts;
	t.rcode = 3;
	t.has_min_ttl = true;
	t.min_ttl = 300;
	return t;
}

int main(void)
{
	struct iotdns_limits lim;
	struct iotdns_stats st = { 0 };
	struct iotdns_txntab *t;
	struct seen s = { 0 };
	struct iotdns_device dev = { 0 };
	iotdns_limits_default(&lim);
	lim.max_open_txns = 64;
	CHECK_EQ_INT(iotdns_txntab_new(&t, &lim, &st, done, &s), 0);

	/* a query and its response */
	struct iotdns_txn a = q(&dev, 40000, 7, 111, 1000000);
	CHECK(!iotdns_txn_query(t, &a));
	CHECK_EQ_INT(iotdns_txn_open_count(t), 1);
	CHECK(iotdns_txn_response(t, &(struct iotdns_txn){ 0 }) == false);
	struct iotdns_txn wrong = r(a, 1001000);
	wrong.id = 8;
	CHECK(!iotdns_txn_response(t, &wrong));
	CHECK(iotdns_txn_response(t, &(struct iotdns_txn){ 0 }) == false);
	struct iotdns_txn ra = r(a, 1020000);
	CHECK(iotdns_txn_response(t, &ra));
	CHECK_EQ_INT(s.answered, 1);
	CHECK_EQ_INT(s.last.rcode, 3);
	CHECK_EQ_INT(s.last.min_ttl, 300);
	CHECK_EQ_INT(s.last.response_us - s.last.query_us, 20000);
	CHECK_EQ_INT(iotdns_txn_open_count(t), 0);
	/* a duplicate response matches nothing */
	CHECK(!iotdns_txn_response(t, &ra));

	/* A and AAAA for the same name from one socket are two transactions, not retries */
	struct iotdns_txn q4 = q(&dev, 40001, 9, 222, 2000000), q6 = q4;
	q6.qtype = 28;
	q6.id = 10;
	CHECK(!iotdns_txn_query(t, &q4));
	CHECK(!iotdns_txn_query(t, &q6));
	CHECK_EQ_INT(iotdns_txn_open_count(t), 2);

	/* same socket + id + question again: a retry counted on the open transaction */
	struct iotdns_txn again = q4;
	again.query_us = 3000000;
	CHECK(iotdns_txn_query(t, &again));
	CHECK_EQ_INT(iotdns_txn_open_count(t), 2);
	/* new port and id for the same question within the window: retransmission, own txn */
	struct iotdns_txn other = q(&dev, 40999, 77, 222, 4000000);
	CHECK(iotdns_txn_query(t, &other));
	CHECK_EQ_INT(iotdns_txn_open_count(t), 3);
	/* after the window it is a new question */
	struct iotdns_txn later = q(&dev, 41000, 78, 222, 30000000);
	CHECK(!iotdns_txn_query(t, &later)); /* 26 s after the last copy: a new question */

	/* time-outs report unanswered, in order */
	s.unanswered = 0;
	iotdns_txn_expire(t, 2000000 + lim.txn_timeout_us + 1);
	CHECK_EQ_INT(s.unanswered, 2);   /* q4 (with its retry) and q6 */
	iotdns_txn_expire(t, 4000000 + lim.txn_timeout_us + 1);
	CHECK_EQ_INT(s.unanswered, 3);
	CHECK_EQ_INT(s.last.client_port, 40999);
	struct iotdns_txn after = q(&dev, 41001, 79, 222, 50000000);
	CHECK(!iotdns_txn_query(t, &after)); /* 'later' is 20 s older: outside the window */
	iotdns_txn_finish(t);
	CHECK_EQ_INT(iotdns_txn_open_count(t), 0);
	CHECK_EQ_INT(s.unanswered, 5);

	/* the table is bounded: the oldest is dropped and counted, never reported */
	s.unanswered = 0;
	for (int i = 0; i < 200; i++) {
		struct iotdns_txn x = q(&dev, (uint16_t)(1000 + i), (uint16_t)i, 1000 + (uint64_t)i, 60000000 + (uint64_t)i);
		iotdns_txn_query(t, &x);
	}
	CHECK_EQ_INT(iotdns_txn_open_count(t), 64);
	CHECK_EQ_INT(st.evictions[IOTDNS_V_TXNS], 136);
	CHECK_EQ_INT(s.unanswered, 0);
	/* the newest ones still match */
	struct iotdns_txn y = r(q(&dev, 1000 + 199, 199, 1000 + 199, 60000199), 60000300);
	CHECK(iotdns_txn_response(t, &y));
	struct iotdns_txn z = r(q(&dev, 1000, 0, 1000, 60000000), 60000300);
	CHECK(!iotdns_txn_response(t, &z));
	iotdns_txn_finish(t);
	CHECK_EQ_INT(s.unanswered, 63);
	iotdns_txntab_free(t);
	return tap_done();
}

/* iotdns - matching unicast DNS queries with their responses.
 *
 * A transaction is keyed by (client address, client port, server address,
 * server port, DNS ID, question type, question-name hash). A query whose
 * question (device, server, name, type) is already waiting for an answer within
 * limits.retransmit_window_us is a retransmission: with the same key it is
 * counted on the open transaction, with another ID or port it opens its own
 * transaction marked as a retry. Transactions not answered within
 * limits.txn_timeout_us are reported unanswered. The table holds at most
 * limits.max_open_txns transactions; when full the oldest is dropped and
 * counted (IOTDNS_V_TXNS), never reported as unanswered.
 */
#ifndef IOTDNS_TXN_H
#define IOTDNS_TXN_H

#include "iotdns/checker.h"

struct iotdns_txntab;

/* Called once per transaction when it is answered or times out (or at
 * iotdns_txn_finish). txn is borrowed for the call. */
typedef void (*iotdns_txn_fn)(void *ctx, const struct iotdns_txn *txn);

int iotdns_txntab_new(struct iotdns_txntab **out, const struct iotdns_limits *lim,
		      struct iotdns_stats *stats, iotdns_txn_fn done, void *ctx);
void iotdns_txntab_free(struct iotdns_txntab *t);

/* Records a query. q holds the key fields, dev, resolver, name, session_idx,
 * query_us/pktno/input/size and transport. Returns true when the query is a
 * retransmission of an open one. */
bool iotdns_txn_query(struct iotdns_txntab *t, const struct iotdns_txn *q);

/* Matches a response (r holds the key fields seen from the query's side:
 * client = response destination). On a match the transaction is completed
 * with the response fields of r (response_us/pktno/input/size, rcode, tc,
 * n_addr_answers, min_ttl, soa) and reported; returns true. */
bool iotdns_txn_response(struct iotdns_txntab *t, const struct iotdns_txn *r);

/* Reports every transaction older than the timeout as unanswered. */
void iotdns_txn_expire(struct iotdns_txntab *t, uint64_t now_us);
/* End of input: reports every open transaction as unanswered. */
void iotdns_txn_finish(struct iotdns_txntab *t);
uint32_t iotdns_txn_open_count(const struct iotdns_txntab *t);

#endif

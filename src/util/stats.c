/* iotdns - counter names and default limits. */
#include "iotdns/stats.h"

#define IOTDNS_X_NAME(e, s) s,
static const char *const problem_names[] = { IOTDNS_PROBLEMS(IOTDNS_X_NAME) };
static const char *const eviction_names[] = { IOTDNS_EVICTIONS(IOTDNS_X_NAME) };

const char *iotdns_problem_name(enum iotdns_problem p)
{
	return (unsigned)p < IOTDNS_P_COUNT ? problem_names[p] : "unknown";
}

const char *iotdns_eviction_name(enum iotdns_eviction v)
{
	return (unsigned)v < IOTDNS_V_COUNT ? eviction_names[v] : "unknown";
}

void iotdns_limits_default(struct iotdns_limits *l)
{
	l->max_devices = 100000;
	l->max_names_per_device = 4096;
	l->max_addrs_per_device = 16;
	l->max_resolvers_per_device = 32;
	l->max_sessions_per_device = 512;
	l->max_flows_per_device = 64;
	l->max_open_txns = 200000;
	l->max_tcp_streams = 4096;
	l->tcp_stream_buffer = 65537;
	l->max_frag_queues = 1024;
	l->max_frag_datagram = 65535;
	l->frag_timeout_us = 30ull * 1000000;
	l->tcp_idle_us = 120ull * 1000000;
	l->txn_timeout_us = 10ull * 1000000;
	l->retransmit_window_us = 10ull * 1000000;
	l->session_gap_us = 90ull * 1000000;
}

/* iotdns - run counters and limits.
 *
 * Every per-packet problem has a reason below; decoders count it in
 * struct iotdns_stats and move on. Every bounded table counts its evictions.
 * The counters are printed at the end of a run and stored with the run
 * (runs.problems / runs.evictions as JSON objects keyed by the names below).
 */
#ifndef IOTDNS_STATS_H
#define IOTDNS_STATS_H

#include <stdint.h>

/* X(enum suffix, "stable name used in the DB and output") */
#define IOTDNS_PROBLEMS(X)                                                                       \
	X(SNAPLEN_CUT, "snaplen-cut")               /* caplen < wire length (still decoded) */        \
	X(TRUNCATED_L2, "truncated-link-header")    /* frame shorter than its link header */          \
	X(TRUNCATED_IP, "truncated-ip")             /* IP header or its payload cut short */          \
	X(BAD_IP_HEADER, "bad-ip-header")           /* version/IHL/length fields impossible */        \
	X(BAD_IPV6_EXT, "bad-ipv6-extension")       /* extension header chain broken or too long */   \
	X(FRAG_OVERLAP, "fragment-overlap")         /* inconsistent overlapping fragments */          \
	X(FRAG_TOO_BIG, "fragment-too-big")         /* reassembled datagram over the cap */           \
	X(FRAG_TIMEOUT, "fragment-timeout")         /* incomplete datagram expired */                 \
	X(TRUNCATED_UDP, "truncated-udp")           /* UDP header or payload cut short */             \
	X(BAD_UDP_LENGTH, "bad-udp-length")                                                           \
	X(TRUNCATED_TCP, "truncated-tcp")                                                             \
	X(TCP_GAP, "tcp-gap")                       /* missing segment: stream resynchronised */      \
	X(TCP_OVERFLOW, "tcp-buffer-overflow")      /* out-of-order data over the cap, dropped */     \
	X(TCP_BAD_LENGTH, "tcp-bad-dns-length")     /* length prefix impossible (< 12) */            \
	X(DNS_MALFORMED, "dns-malformed")           /* ldns could not decode the message */           \
	X(DNS_TRUNCATED, "dns-truncated")           /* message ends inside a record */                \
	X(DNS_BAD_NAME, "dns-bad-name")             /* label/name too long, bad label type */         \
	X(DNS_COMPRESSION_LOOP, "dns-compression-loop")                                               \
	X(DNS_NO_QUESTION, "dns-no-question")       /* query without a question (decoded anyway) */   \
	X(DHCP_MALFORMED, "dhcp-malformed")                                                           \
	X(DHCPV6_MALFORMED, "dhcpv6-malformed")                                                       \
	X(RA_MALFORMED, "ra-malformed")

#define IOTDNS_EVICTIONS(X)                                                                      \
	X(DEVICES, "devices")               /* device table full: new device not tracked */          \
	X(NAMES, "names")                   /* per-device name table full: name not tracked */       \
	X(TXNS, "transactions")             /* open-transaction table full: oldest expired early */  \
	X(TCP_STREAMS, "tcp-streams")       /* TCP stream table full: oldest stream dropped */       \
	X(FRAGMENTS, "fragment-queues")     /* fragment table full: oldest queue dropped */          \
	X(RESOLVERS, "resolvers")           /* per-device resolver table full */                     \
	X(ADDRESSES, "addresses")           /* per-device address list full: oldest replaced */      \
	X(SESSIONS, "sessions")             /* per-device session history full: oldest dropped */    \
	X(FLOWS, "encrypted-flows")         /* per-device encrypted-flow table full */

#define IOTDNS_X_ENUM_P(e, s) IOTDNS_P_##e,
#define IOTDNS_X_ENUM_V(e, s) IOTDNS_V_##e,
enum iotdns_problem { IOTDNS_PROBLEMS(IOTDNS_X_ENUM_P) IOTDNS_P_COUNT };
enum iotdns_eviction { IOTDNS_EVICTIONS(IOTDNS_X_ENUM_V) IOTDNS_V_COUNT };

struct iotdns_stats {
	uint64_t packets;      /* capture records read */
	uint64_t bytes;        /* bytes of capture records (caplen) */
	uint64_t ignored;      /* well-formed packets of no interest (not IP, other ports) */
	uint64_t dns_messages; /* DNS/mDNS/LLMNR messages decoded (UDP + TCP) */
	uint64_t dns_queries;
	uint64_t dns_responses;
	uint64_t malformed;    /* sum of per-packet problems that dropped data */
	uint64_t dhcp_messages;
	uint64_t problems[IOTDNS_P_COUNT];
	uint64_t evictions[IOTDNS_V_COUNT];
};

const char *iotdns_problem_name(enum iotdns_problem p);
const char *iotdns_eviction_name(enum iotdns_eviction v);

static inline void iotdns_stats_problem(struct iotdns_stats *st, enum iotdns_problem p)
{
	st->problems[p]++;
	if (p != IOTDNS_P_SNAPLEN_CUT && p != IOTDNS_P_DNS_NO_QUESTION)
		st->malformed++;
}

/* Caps on every table that could grow with hostile traffic, plus timeouts.
 * Defaults in iotdns_limits_default(); all are settable as `--set limits.KEY=V`. */
struct iotdns_limits {
	uint32_t max_devices;         /* 100000 */
	uint32_t max_names_per_device;/* 4096 */
	uint32_t max_addrs_per_device;/* 16 */
	uint32_t max_resolvers_per_device; /* 32 */
	uint32_t max_sessions_per_device;  /* 512 */
	uint32_t max_flows_per_device;/* 64 */
	uint32_t max_open_txns;       /* 200000 */
	uint32_t max_tcp_streams;     /* 4096 */
	uint32_t tcp_stream_buffer;   /* 65537 bytes: one maximal DNS message + length */
	uint32_t max_frag_queues;     /* 1024 */
	uint32_t max_frag_datagram;   /* 65535 */
	uint64_t frag_timeout_us;     /* 30 s (RFC 8200 §4.5 says 60 s; 30 s is Linux's ipfrag_time) */
	uint64_t tcp_idle_us;         /* 120 s */
	uint64_t txn_timeout_us;      /* 10 s: unanswered after this */
	uint64_t retransmit_window_us;/* 10 s: same name/type again without answer = retransmission */
	uint64_t session_gap_us;      /* 90 s of silence starts a new boot session */
};

void iotdns_limits_default(struct iotdns_limits *l);

#endif

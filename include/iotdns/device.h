/* iotdns - devices and their per-device state.
 *
 * A device is a MAC address: the Ethernet source of its DNS queries, with the
 * IP addresses it used over time. Without a link layer (raw IP, loopback,
 * SLL without address) the device is keyed by its IP address and marked
 * keyed_by_ip.
 *
 * Every table here is bounded by struct iotdns_limits; what does not fit is
 * counted in struct iotdns_stats.evictions and never silently lost. Records
 * are owned by the device table; pointers to devices and name records stay
 * valid until iotdns_devtab_free(). Resolver and address records live in
 * arrays that may grow (move): keep their index, not a pointer, beyond the
 * current event.
 */
#ifndef IOTDNS_DEVICE_H
#define IOTDNS_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "iotdns/addr.h"
#include "iotdns/dhcp.h"
#include "iotdns/stats.h"

/* How a device reached a resolver (bit set). */
enum iotdns_transport {
	IOTDNS_TR_UDP = 1u << 0,   /* Do53 over UDP */
	IOTDNS_TR_TCP = 1u << 1,   /* Do53 over TCP */
	IOTDNS_TR_DOT = 1u << 2,   /* TCP 853 */
	IOTDNS_TR_DOQ = 1u << 3,   /* UDP 853 */
	IOTDNS_TR_DOH = 1u << 4,   /* HTTPS to a known DoH resolver */
};
/* "udp", "tcp", "dot", "doq", "doh" for one bit; "udp+tcp" style for masks */
const char *iotdns_transport_name(unsigned bit);
void iotdns_transport_mask_str(unsigned mask, char buf[48]);

/* Where the device's knowledge of a resolver came from. */
enum iotdns_provided_by {
	IOTDNS_PROV_NONE = 0,      /* not provided by the network */
	IOTDNS_PROV_DHCP = 1,      /* DHCPv4 option 6 */
	IOTDNS_PROV_DHCPV6 = 2,    /* DHCPv6 option 23 */
	IOTDNS_PROV_RA = 3,        /* IPv6 RA RDNSS */
	IOTDNS_PROV_CONFIG = 4,    /* --resolver */
	IOTDNS_PROV_INFERRED = 5,  /* most devices use it (marked inferred in evidence) */
};
const char *iotdns_provided_name(enum iotdns_provided_by p);

struct iotdns_dev_addr {
	struct iotdns_addr addr;
	uint64_t first_us, last_us;
	uint64_t packets;
};

struct iotdns_dev_resolver {
	struct iotdns_addr addr;
	unsigned transports;          /* enum iotdns_transport bits */
	uint64_t queries;             /* DNS queries sent (UDP + TCP), retransmissions included */
	uint64_t tcp_queries;
	uint64_t responses;           /* responses received from it */
	uint64_t unanswered;          /* transactions that timed out */
	uint64_t retransmissions;
	uint64_t flows_dot, flows_doq, flows_doh; /* encrypted flows (connections) opened */
	/* the first encrypted flow's packet, for evidence */
	uint64_t first_flow_pktno, first_flow_us;
	uint32_t first_flow_input;
	uint16_t first_flow_dport;
	uint8_t first_flow_transport; /* enum iotdns_transport, 0 = none yet */
	uint64_t first_us, last_us;
};

/* Name bookkeeping. qtypes: a bit per common type, see iotdns_qtype_bit(). */
enum iotdns_qtype_bit {
	IOTDNS_QB_A = 1u << 0, IOTDNS_QB_AAAA = 1u << 1, IOTDNS_QB_HTTPS = 1u << 2,
	IOTDNS_QB_SVCB = 1u << 3, IOTDNS_QB_PTR = 1u << 4, IOTDNS_QB_SRV = 1u << 5,
	IOTDNS_QB_TXT = 1u << 6, IOTDNS_QB_ANY = 1u << 7, IOTDNS_QB_OTHER = 1u << 8,
};
unsigned iotdns_qtype_bit(uint16_t qtype);

struct iotdns_dev_name {
	uint64_t hash;
	char *name;                   /* owned, lower-case presentation format */
	uint32_t queries;             /* retransmissions included */
	uint32_t responses;
	unsigned qtypes;              /* enum iotdns_qtype_bit */
	uint64_t first_us, last_us;
	bool has_ttl;
	uint32_t ttl_min, ttl_max, ttl_last;
	uint32_t rcode_noerror, rcode_nxdomain, rcode_servfail, rcode_other;
	uint32_t nodata;              /* NOERROR without answers */
};

struct iotdns_name_slot {
	uint64_t hash;                /* copy of rec->hash: probes need not touch rec */
	struct iotdns_dev_name *rec;
};

enum iotdns_session_start {
	IOTDNS_SESS_FIRST = 0,        /* first traffic seen from the device */
	IOTDNS_SESS_DHCP = 1,         /* DHCP DISCOVER/REQUEST (or DHCPv6 SOLICIT) from the device */
	IOTDNS_SESS_SILENCE = 2,      /* silence longer than limits.session_gap_us */
};
const char *iotdns_session_start_name(enum iotdns_session_start s);

struct iotdns_session {
	uint32_t idx;                 /* 0-based session number of the device in this run */
	uint8_t start_reason;         /* enum iotdns_session_start */
	uint64_t start_us, end_us;    /* first and last packet of the session */
	uint32_t queries;
};

/* A distinct DHCP fingerprint the device sent (kept per distinct tuple). */
struct iotdns_dev_dhcp {
	uint8_t version;              /* 4 or 6 */
	uint8_t msg_type;
	char hostname[IOTDNS_DHCP_STR];
	char vendor_class[IOTDNS_DHCP_STR];
	char prl[1024];               /* DHCPv4 option 55 "1,3,6" / DHCPv6 ORO */
	char client_id[IOTDNS_DHCP_STR];
	uint32_t count;
	uint64_t first_us, last_us;
	uint64_t pktno;               /* first packet that carried it */
	uint32_t input;
};
#define IOTDNS_DEV_MAX_DHCP 8

/* A checker's verdict for a device (enum iotdns_check_status in finding.h). */
struct iotdns_check_result {
	uint8_t status;
	uint16_t nfindings;           /* findings of severity low or above */
	char detail[200];
};

struct iotdns_device {
	/* Hot: what every DNS packet of the device touches comes first (two cache
	 * lines), so the engine can prefetch it while the message is decoded. */
	void **chk_state;             /* one slot per registered checker, owned by the engine */
	struct iotdns_dev_addr *addrs;         /* addresses used, oldest first (max_addrs_per_device) */
	struct iotdns_dev_resolver *resolvers; /* destinations of its queries and encrypted flows */
	struct iotdns_name_slot *names;        /* open addressing (slot.rec NULL = empty; iterate
						* over cap_names slots), max_names_per_device */
	struct iotdns_session *sessions;       /* history (ended) + current (sessions[nsessions-1]) */
	uint32_t naddrs, cap_addrs;
	uint32_t nresolvers, cap_resolvers;
	uint32_t nnames, cap_names;
	uint32_t nsessions, cap_sessions;
	uint64_t first_us, last_us;

	/* DNS counters (this run) */
	uint64_t queries;             /* unicast DNS queries (UDP + TCP) */
	uint64_t tcp_queries;
	uint64_t mdns_queries;
	uint64_t llmnr_queries;
	uint64_t responses;           /* responses received */
	uint64_t unanswered;
	uint64_t retransmissions;
	uint64_t responses_sent;      /* DNS responses this device sent (it is a responder) */
	uint64_t responses_sent_bytes;
	uint64_t requests_received;   /* DNS queries from outside addressed to it */
	uint64_t requests_received_bytes;

	/* identity */
	uint32_t idx;                 /* dense index 0..count-1 */
	bool keyed_by_ip;
	uint8_t mac[6];
	uint16_t vlan;
	struct iotdns_addr key_ip;    /* identity when keyed_by_ip */

	uint64_t sessions_dropped;    /* oldest sessions dropped from history */
	struct iotdns_check_result *chk_result; /* one per checker, owned by the engine */

	/* DHCP: the resolvers offered to it and its own fingerprints */
	uint8_t n_offered;
	struct iotdns_addr offered[IOTDNS_DHCP_MAX_DNS];
	uint8_t offered_by[IOTDNS_DHCP_MAX_DNS]; /* enum iotdns_provided_by */
	char hostname[IOTDNS_DHCP_STR];          /* latest DHCP host name (option 12 / 39) */
	uint32_t ndhcp;
	struct iotdns_dev_dhcp *dhcp; /* IOTDNS_DEV_MAX_DHCP entries, allocated at the first one */

	/* classification (filled by fingerprinting; NULL/0 until then) */
	const char *vendor, *product, *category;
	double confidence;
	const char *os_hint;          /* DNS-stack hint, a static string; NULL when unknown */
	char *fp_evidence;            /* owned JSON text (classification evidence), freed with the device */

	/* store bookkeeping */
	int64_t db_id;                /* 0 until first stored */
};

struct iotdns_devtab;

int iotdns_devtab_new(struct iotdns_devtab **out, const struct iotdns_limits *lim,
		      struct iotdns_stats *stats);
/* Frees every device and record; on_free (may be NULL) is called first for
 * each device so the engine can release checker state. */
void iotdns_devtab_free(struct iotdns_devtab *t, void (*on_free)(void *ctx, struct iotdns_device *),
			void *ctx);

/* Look-ups. With create, a missing device is made (NULL and an eviction
 * counted when the table is full). */
struct iotdns_device *iotdns_devtab_by_mac(struct iotdns_devtab *t, const uint8_t mac[6], bool create);
struct iotdns_device *iotdns_devtab_by_ip(struct iotdns_devtab *t, const struct iotdns_addr *ip, bool create);
/* The device that most recently used this IP address (MAC-keyed or not), or NULL. */
struct iotdns_device *iotdns_devtab_owner_of(struct iotdns_devtab *t, const struct iotdns_addr *ip);

uint32_t iotdns_devtab_count(const struct iotdns_devtab *t);
struct iotdns_device *iotdns_devtab_at(struct iotdns_devtab *t, uint32_t idx);

/* Records that dev used ip at ts (updates the address list and owner index). */
void iotdns_dev_note_addr(struct iotdns_devtab *t, struct iotdns_device *dev,
			  const struct iotdns_addr *ip, uint64_t ts_us);
/* The resolver record for addr (created when create is set; NULL when full). */
struct iotdns_dev_resolver *iotdns_dev_resolver(struct iotdns_devtab *t, struct iotdns_device *dev,
						const struct iotdns_addr *addr, bool create);
/* The name record (created when create is set; NULL when full). */
struct iotdns_dev_name *iotdns_dev_name(struct iotdns_devtab *t, struct iotdns_device *dev,
					const char *name, bool create);
/* The same, for a caller that already has iotdns_hash_str(name). */
struct iotdns_dev_name *iotdns_dev_name_hashed(struct iotdns_devtab *t, struct iotdns_device *dev,
					       const char *name, uint64_t hash, bool create);
/* Starts a new session; returns the ended one (or NULL if none was open). */
struct iotdns_session *iotdns_dev_session_start(struct iotdns_devtab *t, struct iotdns_device *dev,
						enum iotdns_session_start why, uint64_t ts_us);
static inline struct iotdns_session *iotdns_dev_session(struct iotdns_device *dev)
{
	return dev->nsessions ? &dev->sessions[dev->nsessions - 1] : (struct iotdns_session *)0;
}
/* Adds or counts a DHCP fingerprint. */
void iotdns_dev_note_dhcp(struct iotdns_device *dev, const struct iotdns_dev_dhcp *obs);

/* Display identity: "aa:bb:cc:dd:ee:ff" or "ip:192.0.2.7". */
const char *iotdns_dev_key(const struct iotdns_device *dev, char buf[64]);

/* 64-bit FNV-1a, used for names. */
uint64_t iotdns_hash_str(const char *s);

#endif

/* iotdns - address enrichment through libmaxminddb (include/iotdns/enrich.h).
 *
 * Up to three databases are opened with MMDB_open (mmap). A database is
 * verified when it is opened, so that a corrupt file is reported once, at
 * start-up, as IOTDNS_EMMDB naming the file, instead of showing up as odd
 * look-up failures later:
 *  - metadata: binary format 2, record size 24/28/32, IP version 4/6, a node
 *    count that fits the file, a plausible build time, a database type and a
 *    non-empty description, and a metadata map that decodes completely;
 *  - search tree: every record of every node is read; a record must point to
 *    a node, hold the "empty" value, or point into the data section (never
 *    into the 16-byte separator or past the end);
 *  - data: the records the tree points to are decoded completely (bounded:
 *    at most VERIFY_MAX_DECODES distinct records, so that opening a large
 *    GeoLite2-City stays fast; look-ups treat any later decoding error as
 *    "unknown").
 * The built-in resolver database must have database_type "iotdns-resolvers"
 * (rules/mkresolverdb.pl). Its records are maps with utf8 strings
 * "operator", "service", "dot", "doh" and "source".
 *
 * iotdns_enrich_is_doh() is called for every TCP SYN to port 443, so it
 * keeps a 256-entry direct-mapped cache of answers keyed by address hash.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <maxminddb.h>

#include "iotdns-config.h"
#include "iotdns/enrich.h"

#define RESOLVER_DB_TYPE "iotdns-resolvers"
#define VERIFY_MAX_DECODES 4096u   /* distinct data records decoded at open */
#define VERIFY_SEEN_SLOTS 4096u    /* direct-mapped memory of decoded offsets */
#define DOH_CACHE_SLOTS 256u       /* power of two */
/* 9999-12-31T23:59:59Z: a later build time is a corrupt header */
#define MAX_BUILD_EPOCH 253402300799ull

struct doh_slot {
	struct iotdns_addr addr;
	bool valid;
	bool doh;
};

struct iotdns_enrich {
	bool have_builtin, have_asn, have_geo;
	MMDB_s builtin, asn, geo;   /* open when the matching have_* is set */
	struct doh_slot doh_cache[DOH_CACHE_SLOTS];
};

const char *iotdns_enrich_default_builtin(void)
{
	const char *env = getenv("IOTDNS_RESOLVER_DB");
	if (env && *env)
		return env;
	if (access(IOTDNS_BUILD_RESOLVER_DB, R_OK) == 0)
		return IOTDNS_BUILD_RESOLVER_DB;
	return IOTDNS_INSTALLED_RESOLVER_DB;
}

/* --- verification ------------------------------------------------------ */

static int verify_metadata(MMDB_s *db, const char *path, struct iotdns_err *err)
{
	const MMDB_metadata_s *m = &db->metadata;
	MMDB_entry_data_list_s *list = NULL;
	int status;

	if (m->binary_format_major_version != 2)
		return iotdns_err_set(err, IOTDNS_EMMDB, "%s: unsupported MaxMind DB format version %u",
				      path, m->binary_format_major_version);
	if (m->record_size != 24 && m->record_size != 28 && m->record_size != 32)
		return iotdns_err_set(err, IOTDNS_EMMDB, "%s: corrupt MaxMind DB: record size %u",
				      path, m->record_size);
	if (m->ip_version != 4 && m->ip_version != 6)
		return iotdns_err_set(err, IOTDNS_EMMDB, "%s: corrupt MaxMind DB: IP version %u",
				      path, m->ip_version);
	if (m->node_count == 0 ||
	    (uint64_t)m->node_count * (m->record_size / 4) > (uint64_t)db->file_size)
		return iotdns_err_set(err, IOTDNS_EMMDB,
				      "%s: corrupt MaxMind DB: node count %u does not fit the file",
				      path, m->node_count);
	if (m->build_epoch > MAX_BUILD_EPOCH)
		return iotdns_err_set(err, IOTDNS_EMMDB,
				      "%s: corrupt MaxMind DB: implausible build time %llu", path,
				      (unsigned long long)m->build_epoch);
	if (!m->database_type || !*m->database_type)
		return iotdns_err_set(err, IOTDNS_EMMDB, "%s: corrupt MaxMind DB: no database type",
				      path);
	/* Every writer (MaxMind's, MaxMind::DB::Writer, mmdbwriter) requires a
	 * description; an empty one is what truncated or fuzzed headers look like. */
	if (m->description.count == 0)
		return iotdns_err_set(err, IOTDNS_EMMDB,
				      "%s: corrupt MaxMind DB metadata: no description", path);
	status = MMDB_get_metadata_as_entry_data_list(db, &list);
	MMDB_free_entry_data_list(list);
	if (status != MMDB_SUCCESS)
		return iotdns_err_set(err, IOTDNS_EMMDB, "%s: corrupt MaxMind DB metadata: %s", path,
				      MMDB_strerror(status));
	return IOTDNS_OK;
}

static int verify_record(MMDB_s *db, const char *path, uint64_t rec, uint8_t type,
			 MMDB_entry_s *entry, uint32_t *seen, uint32_t *decodes,
			 struct iotdns_err *err)
{
	uint64_t nodes = db->metadata.node_count;
	MMDB_entry_data_list_s *list = NULL;
	int status;

	switch (type) {
	case MMDB_RECORD_TYPE_SEARCH_NODE:
	case MMDB_RECORD_TYPE_EMPTY:
		return IOTDNS_OK;
	case MMDB_RECORD_TYPE_DATA:
		break;
	default:
		return iotdns_err_set(err, IOTDNS_EMMDB,
				      "%s: corrupt MaxMind DB: search tree record %llu is invalid",
				      path, (unsigned long long)rec);
	}
	/* rec - nodes - 16 is the offset in the data section; values between
	 * nodes and nodes + 16 point into the separator. */
	if (rec < nodes + 16 || rec - nodes - 16 >= db->data_section_size)
		return iotdns_err_set(err, IOTDNS_EMMDB,
				      "%s: corrupt MaxMind DB: search tree record %llu points outside "
				      "the data section", path, (unsigned long long)rec);
	uint32_t off = entry->offset;
	uint32_t slot = (off * 2654435761u) % VERIFY_SEEN_SLOTS;
	if (seen[slot] == off + 1)
		return IOTDNS_OK;
	if (*decodes >= VERIFY_MAX_DECODES)
		return IOTDNS_OK;
	seen[slot] = off + 1;
	(*decodes)++;
	status = MMDB_get_entry_data_list(entry, &list);
	MMDB_free_entry_data_list(list);
	if (status != MMDB_SUCCESS)
		return iotdns_err_set(err, IOTDNS_EMMDB, "%s: corrupt MaxMind DB data: %s", path,
				      MMDB_strerror(status));
	return IOTDNS_OK;
}

static int verify_tree(MMDB_s *db, const char *path, struct iotdns_err *err)
{
	uint32_t *seen = calloc(VERIFY_SEEN_SLOTS, sizeof(*seen));
	uint32_t decodes = 0;
	int rc = IOTDNS_OK;

	if (!seen)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", path);
	for (uint32_t n = 0; n < db->metadata.node_count && rc == IOTDNS_OK; n++) {
		MMDB_search_node_s node;
		int status = MMDB_read_node(db, n, &node);
		if (status != MMDB_SUCCESS) {
			rc = iotdns_err_set(err, IOTDNS_EMMDB, "%s: corrupt MaxMind DB search tree: %s",
					    path, MMDB_strerror(status));
			break;
		}
		rc = verify_record(db, path, node.left_record, node.left_record_type,
				   &node.left_record_entry, seen, &decodes, err);
		if (rc == IOTDNS_OK)
			rc = verify_record(db, path, node.right_record, node.right_record_type,
					   &node.right_record_entry, seen, &decodes, err);
	}
	free(seen);
	return rc;
}

static int open_db(MMDB_s *db, const char *path, const char *what, const char *want_type,
		   struct iotdns_err *err)
{
	int status, rc;

	memset(db, 0, sizeof(*db));
	errno = 0;
	status = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (status != MMDB_SUCCESS) {
		int e = errno;
		if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && e)
			return iotdns_err_set(err, IOTDNS_EMMDB, "%s: cannot open %s: %s (%s)", path,
					      what, MMDB_strerror(status), strerror(e));
		return iotdns_err_set(err, IOTDNS_EMMDB, "%s: cannot open %s: %s", path, what,
				      MMDB_strerror(status));
	}
	rc = verify_metadata(db, path, err);
	if (rc == IOTDNS_OK && want_type && strcmp(db->metadata.database_type, want_type) != 0)
		rc = iotdns_err_set(err, IOTDNS_EMMDB,
				    "%s: not an iotdns resolver database (type \"%.64s\", expected \"%s\")",
				    path, db->metadata.database_type, want_type);
	if (rc == IOTDNS_OK)
		rc = verify_tree(db, path, err);
	if (rc != IOTDNS_OK)
		MMDB_close(db);
	return rc;
}

int iotdns_enrich_open(struct iotdns_enrich **out, const char *builtin_path, const char *asn_path,
		       const char *geo_path, struct iotdns_err *err)
{
	struct iotdns_enrich *e;
	int rc = IOTDNS_OK;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "out of memory");
	if (!builtin_path)
		builtin_path = iotdns_enrich_default_builtin();
	if (*builtin_path) {
		rc = open_db(&e->builtin, builtin_path, "resolver database", RESOLVER_DB_TYPE, err);
		e->have_builtin = rc == IOTDNS_OK;
	}
	if (rc == IOTDNS_OK && asn_path && *asn_path) {
		rc = open_db(&e->asn, asn_path, "ASN database", NULL, err);
		e->have_asn = rc == IOTDNS_OK;
	}
	if (rc == IOTDNS_OK && geo_path && *geo_path) {
		rc = open_db(&e->geo, geo_path, "country database", NULL, err);
		e->have_geo = rc == IOTDNS_OK;
	}
	if (rc != IOTDNS_OK) {
		iotdns_enrich_close(e);
		return rc;
	}
	*out = e;
	return IOTDNS_OK;
}

void iotdns_enrich_close(struct iotdns_enrich *e)
{
	if (!e)
		return;
	if (e->have_builtin)
		MMDB_close(&e->builtin);
	if (e->have_asn)
		MMDB_close(&e->asn);
	if (e->have_geo)
		MMDB_close(&e->geo);
	free(e);
}

/* --- look-ups ---------------------------------------------------------- */

/* Finds a's record in db; false when absent or on any error. */
static bool db_find(const MMDB_s *db, const struct iotdns_addr *a, MMDB_entry_s *entry)
{
	struct sockaddr_storage ss;
	MMDB_lookup_result_s res;
	int status = MMDB_SUCCESS;

	memset(&ss, 0, sizeof(ss));
	if (a->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->b, 4);
	} else if (a->family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		/* an IPv6 address cannot be found in an IPv4-only database */
		if (db->metadata.ip_version != 6)
			return false;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->b, 16);
	} else {
		return false;
	}
	res = MMDB_lookup_sockaddr(db, (const struct sockaddr *)&ss, &status);
	if (status != MMDB_SUCCESS || !res.found_entry)
		return false;
	*entry = res.entry;
	return true;
}

/* Copies the utf8 string at path (NULL-terminated list) into buf; false when
 * absent, not a string or empty. */
static bool get_str(MMDB_entry_s *entry, char *buf, size_t size, ...)
{
	MMDB_entry_data_s d;
	va_list ap;
	int status;

	buf[0] = '\0';
	va_start(ap, size);
	status = MMDB_vget_value(entry, &d, ap);
	va_end(ap);
	if (status != MMDB_SUCCESS || !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return false;
	size_t n = IOTDNS_MIN((size_t)d.data_size, size - 1);
	memcpy(buf, d.utf8_string, n);
	buf[n] = '\0';
	return buf[0] != '\0';
}

static bool get_u32(MMDB_entry_s *entry, uint32_t *v, ...)
{
	MMDB_entry_data_s d;
	va_list ap;
	int status;

	va_start(ap, v);
	status = MMDB_vget_value(entry, &d, ap);
	va_end(ap);
	if (status != MMDB_SUCCESS || !d.has_data)
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16: *v = d.uint16; return true;
	case MMDB_DATA_TYPE_UINT32: *v = d.uint32; return true;
	case MMDB_DATA_TYPE_INT32: if (d.int32 < 0) return false; *v = (uint32_t)d.int32; return true;
	case MMDB_DATA_TYPE_UINT64: if (d.uint64 > UINT32_MAX) return false; *v = (uint32_t)d.uint64; return true;
	default: return false;
	}
}

static bool get_country(MMDB_entry_s *entry, const char *key, char cc[3])
{
	char buf[8];
	if (!get_str(entry, buf, sizeof(buf), key, "iso_code", NULL))
		return false;
	if (strlen(buf) != 2 || buf[0] < 'A' || buf[0] > 'Z' || buf[1] < 'A' || buf[1] > 'Z')
		return false;
	memcpy(cc, buf, 3);
	return true;
}

bool iotdns_enrich_lookup(struct iotdns_enrich *e, const struct iotdns_addr *a,
			  struct iotdns_addr_info *info)
{
	MMDB_entry_s entry;
	bool known = false;

	memset(info, 0, sizeof(*info));
	if (!e || !a)
		return false;
	if (e->have_builtin && db_find(&e->builtin, a, &entry)) {
		if (get_str(&entry, info->resolver_operator, sizeof(info->resolver_operator),
			    "operator", NULL)) {
			info->public_resolver = true;
			known = true;
		}
		get_str(&entry, info->dot_name, sizeof(info->dot_name), "dot", NULL);
		get_str(&entry, info->doh_url, sizeof(info->doh_url), "doh", NULL);
	}
	if (e->have_asn && db_find(&e->asn, a, &entry)) {
		if (get_u32(&entry, &info->asn, "autonomous_system_number", NULL))
			known = true;
		if (get_str(&entry, info->as_org, sizeof(info->as_org),
			    "autonomous_system_organization", NULL))
			known = true;
	}
	if (e->have_geo && db_find(&e->geo, a, &entry)) {
		if (get_country(&entry, "country", info->country) ||
		    get_country(&entry, "registered_country", info->country))
			known = true;
	}
	return known;
}

bool iotdns_enrich_is_doh(struct iotdns_enrich *e, const struct iotdns_addr *a)
{
	struct doh_slot *slot;
	MMDB_entry_s entry;
	char url[8];

	if (!e || !a || !e->have_builtin)
		return false;
	slot = &e->doh_cache[iotdns_addr_hash(a) & (DOH_CACHE_SLOTS - 1)];
	if (slot->valid && iotdns_addr_eq(&slot->addr, a))
		return slot->doh;
	slot->addr = *a;
	slot->valid = true;
	/* only whether a DoH template exists matters: a short buffer is enough */
	slot->doh = db_find(&e->builtin, a, &entry) && get_str(&entry, url, sizeof(url), "doh", NULL);
	return slot->doh;
}

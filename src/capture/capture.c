/* iotdns - pcap/pcapng files and live interfaces (see include/iotdns/capture.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iotdns/capture.h"
#include "iotdns/sha256.h"
#include "iotdns/packet.h"

struct iotdns_capture {
	pcap_t *p;
	FILE *raw;      /* the underlying file (NULL for live) */
	FILE *cookie;   /* the counting/hashing stream given to libpcap */
	char name[1024];
	int dlt;
	bool live;
	uint64_t records;
	uint64_t bytes;
	uint64_t size;
	struct iotdns_sha256 sha;
	bool sha_final;
	char sha_hex[65];
};

static ssize_t cookie_read(void *arg, char *buf, size_t size)
{
	struct iotdns_capture *c = arg;
	size_t n = fread(buf, 1, size, c->raw);
	if (n == 0 && ferror(c->raw))
		return -1;
	c->bytes += n;
	iotdns_sha256_update(&c->sha, buf, n);
	return (ssize_t)n;
}

static int cookie_close(void *arg)
{
	struct iotdns_capture *c = arg;
	int rc = 0;
	if (c->raw && c->raw != stdin)
		rc = fclose(c->raw);
	c->raw = NULL;
	return rc;
}

void iotdns_capture_close(struct iotdns_capture *c)
{
	if (!c)
		return;
	iotdns_sha256_free(&c->sha);
	if (c->p)
		pcap_close(c->p); /* closes the cookie stream, which closes raw */
	else if (c->cookie)
		fclose(c->cookie);
	else if (c->raw && c->raw != stdin)
		fclose(c->raw);
	free(c);
}

int iotdns_capture_open_file(struct iotdns_capture **out, const char *path, struct iotdns_err *err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct iotdns_capture *c = calloc(1, sizeof(*c));
	int rc;
	if (!c)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", path);
	snprintf(c->name, sizeof(c->name), "%s", strcmp(path, "-") == 0 ? "(stdin)" : path);
	if (iotdns_sha256_init(&c->sha) != 0) {
		rc = iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	if (strcmp(path, "-") == 0) {
		c->raw = stdin;
	} else {
		struct stat st;
		c->raw = fopen(path, "rb");
		if (!c->raw) {
			int e = errno;
			rc = iotdns_err_set(err, e == ENOENT ? IOTDNS_ENOENT : IOTDNS_EIO, "%s: cannot open: %s",
					    path, strerror(e));
			goto fail;
		}
		if (fstat(fileno(c->raw), &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				rc = iotdns_err_set(err, IOTDNS_EIO, "%s: is a directory, not a capture file", path);
				goto fail;
			}
			if (S_ISREG(st.st_mode))
				c->size = (uint64_t)st.st_size;
		}
		if (c->size == 0 && S_ISREG(st.st_mode)) {
			rc = iotdns_err_set(err, IOTDNS_ENOTCAPTURE, "%s: empty file, not a pcap or pcapng capture",
					    path);
			goto fail;
		}
	}
	cookie_io_functions_t io = { .read = cookie_read, .close = cookie_close };
	c->cookie = fopencookie(c, "rb", io);
	if (!c->cookie) {
		rc = iotdns_err_set(err, IOTDNS_ENOMEM, "%s: cannot set up reading", c->name);
		goto fail;
	}
	c->p = pcap_fopen_offline_with_tstamp_precision(c->cookie, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!c->p) {
		/* libpcap closes nothing on failure: the cookie is still ours */
		if (c->raw && ferror(c->raw))
			rc = iotdns_err_set(err, IOTDNS_EIO, "%s: read error: %s", c->name, strerror(errno));
		else
			rc = iotdns_err_set(err, IOTDNS_ENOTCAPTURE, "%s: not a pcap or pcapng capture (%s)",
					    c->name, ebuf);
		goto fail;
	}
	c->dlt = pcap_datalink(c->p);
	if (!iotdns_dlt_supported(c->dlt)) {
		char nb[32];
		rc = iotdns_err_set(err, IOTDNS_EUNSUPPORTED,
				    "%s: unsupported link type %s; iotdns decodes Ethernet (with VLANs), "
				    "Linux cooked SLL/SLL2, raw IPv4/IPv6 and BSD loopback/NULL",
				    c->name, iotdns_dlt_name(c->dlt, nb));
		goto fail;
	}
	*out = c;
	return IOTDNS_OK;
fail:
	iotdns_capture_close(c);
	return rc;
}

int iotdns_capture_open_live(struct iotdns_capture **out, const char *iface, struct iotdns_err *err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	/* DNS, mDNS, LLMNR, DHCPv4/v6, DoT/DoQ, HTTPS (DoH by address), RAs, and fragments */
	static const char filter[] =
		"port 53 or port 5353 or port 5355 or port 67 or port 68 or port 546 or port 547 "
		"or port 853 or tcp port 443 or icmp6 or (ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)";
	struct iotdns_capture *c = calloc(1, sizeof(*c));
	if (!c)
		return iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", iface);
	snprintf(c->name, sizeof(c->name), "live:%s", iface);
	c->live = true;
	c->p = pcap_create(iface, ebuf);
	if (!c->p)
		goto pcap_fail;
	pcap_set_snaplen(c->p, 65535);
	pcap_set_promisc(c->p, 1);
	pcap_set_timeout(c->p, 200);
	pcap_set_buffer_size(c->p, 16 << 20);
	int st = pcap_activate(c->p);
	if (st < 0) {
		snprintf(ebuf, sizeof(ebuf), "%s", pcap_geterr(c->p));
		if (!ebuf[0])
			snprintf(ebuf, sizeof(ebuf), "%s", pcap_statustostr(st));
		goto pcap_fail;
	}
	c->dlt = pcap_datalink(c->p);
	if (!iotdns_dlt_supported(c->dlt)) {
		char nb[32];
		int rc = iotdns_err_set(err, IOTDNS_EUNSUPPORTED, "%s: unsupported link type %s", iface,
					iotdns_dlt_name(c->dlt, nb));
		iotdns_capture_close(c);
		return rc;
	}
	if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) == 0) {
		pcap_setfilter(c->p, &prog);
		pcap_freecode(&prog);
	}
	*out = c;
	return IOTDNS_OK;
pcap_fail:;
	int rc = iotdns_err_set(err, IOTDNS_EIO, "%s: cannot capture: %s", iface, ebuf);
	iotdns_capture_close(c);
	return rc;
}

int iotdns_capture_linktype(const struct iotdns_capture *c)
{
	return c->dlt;
}

const char *iotdns_capture_name(const struct iotdns_capture *c)
{
	return c->name;
}

int iotdns_capture_next(struct iotdns_capture *c, const struct pcap_pkthdr **hdr, const uint8_t **data,
			struct iotdns_err *err)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc = pcap_next_ex(c->p, &h, &d);
	if (rc == 1) {
		c->records++;
		*hdr = h;
		*data = d;
		return 1;
	}
	if (rc == 0) /* live time-out */
		return 0;
	if (rc == PCAP_ERROR_BREAK) {
		if (!c->live && !c->sha_final) {
			iotdns_sha256_final(&c->sha, c->sha_hex);
			c->sha_final = true;
		}
		return 0;
	}
	return iotdns_err_set(err, IOTDNS_ETRUNCATED, "%s: packet %llu: %s", c->name,
			      (unsigned long long)c->records + 1, pcap_geterr(c->p));
}

uint64_t iotdns_capture_records(const struct iotdns_capture *c)
{
	return c->records;
}

uint64_t iotdns_capture_bytes(const struct iotdns_capture *c)
{
	return c->bytes;
}

uint64_t iotdns_capture_size(const struct iotdns_capture *c)
{
	return c->size;
}

void iotdns_capture_sha256(struct iotdns_capture *c, char hex[65])
{
	if (c->live) {
		hex[0] = 0;
		return;
	}
	if (!c->sha_final) {
		/* hash whatever libpcap has not pulled yet, so the digest covers the file */
		char buf[65536];
		size_t n;
		while (c->raw && (n = fread(buf, 1, sizeof(buf), c->raw)) > 0) {
			c->bytes += n;
			iotdns_sha256_update(&c->sha, buf, n);
		}
		iotdns_sha256_final(&c->sha, c->sha_hex);
		c->sha_final = true;
	}
	memcpy(hex, c->sha_hex, 65);
}

void iotdns_capture_break(struct iotdns_capture *c)
{
	if (c && c->p)
		pcap_breakloop(c->p);
}

int iotdns_file_sha256(const char *path, char hex[65], struct iotdns_err *err)
{
	struct iotdns_sha256 h;
	char buf[1 << 16];
	size_t n;
	FILE *f = fopen(path, "rb");
	if (!f)
		return iotdns_err_set(err, IOTDNS_EIO, "%s: cannot open: %s", path, strerror(errno));
	if (iotdns_sha256_init(&h) != 0) {
		fclose(f);
		return iotdns_err_set(err, IOTDNS_ENOMEM, "%s: out of memory", path);
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		iotdns_sha256_update(&h, buf, n);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		iotdns_sha256_free(&h);
		return iotdns_err_set(err, IOTDNS_EIO, "%s: read error", path);
	}
	iotdns_sha256_final(&h, hex);
	return IOTDNS_OK;
}

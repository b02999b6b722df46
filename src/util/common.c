/* iotdns - error codes and invariant checks. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iotdns/common.h"

int iotdns_err_set(struct iotdns_err *err, int rc, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

const char *iotdns_strerror(int rc)
{
	switch (rc) {
	case IOTDNS_OK: return "success";
	case IOTDNS_EMALFORMED: return "malformed input";
	case IOTDNS_ETRUNCATED: return "truncated input";
	case IOTDNS_EUNSUPPORTED: return "unsupported";
	case IOTDNS_ENOTCAPTURE: return "not a pcap or pcapng capture";
	case IOTDNS_ESTORE: return "database error";
	case IOTDNS_EBUSY: return "database is locked";
	case IOTDNS_EFULL: return "table full";
	case IOTDNS_EDUPLICATE: return "already analyzed";
	case IOTDNS_ERULE: return "invalid rule";
	case IOTDNS_EMMDB: return "MaxMind database error";
	default:
		if (rc < 0 && rc > IOTDNS_EBASE)
			return strerror(-rc);
		return "unknown error";
	}
}

bool iotdns_fails_impl(bool ok, const char *expr, const char *file, int line)
{
	static unsigned reported;
	if (ok)
		return false;
	if (reported < 16) {
		reported++;
		fprintf(stderr, "iotdns: internal check failed: %s (%s:%d)\n", expr, file, line);
	}
	return true;
}

void iotdns_iso_time(uint64_t us, char buf[40])
{
	char tmp[96];
	struct tm tm;
	/* capture timestamps are hostile too: clamp to 9999-12-31T23:59:59.999999Z */
	if (us > 253402300799999999ULL)
		us = 253402300799999999ULL;
	time_t sec = (time_t)(us / 1000000);
	int frac = (int)(us % 1000000);
	if (!gmtime_r(&sec, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	size_t n = strnlen(tmp, 39); /* "YYYY-MM-DDTHH:MM:SS.ffffffZ" is 27 bytes */
	memcpy(buf, tmp, n);
	buf[n] = '\0';
}

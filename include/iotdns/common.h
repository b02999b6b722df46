/* iotdns - common definitions: error codes, exit codes, small helpers.
 *
 * Conventions (docs/architecture.md):
 *  - fallible functions return int: IOTDNS_OK (0) or a negative IOTDNS_E* code;
 *  - human context for start-up errors goes into a caller-provided struct iotdns_err;
 *  - per-packet problems are never errors: they are counted (stats.h);
 *  - only src/main.c calls exit().
 */
#ifndef IOTDNS_COMMON_H
#define IOTDNS_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum iotdns_rc {
	IOTDNS_OK = 0,
	IOTDNS_ENOMEM = -ENOMEM,
	IOTDNS_EINVAL = -EINVAL,
	IOTDNS_EIO = -EIO,
	IOTDNS_ENOENT = -ENOENT,
	IOTDNS_EBASE = -1000,
	IOTDNS_EMALFORMED = IOTDNS_EBASE - 1, /* input bytes do not parse */
	IOTDNS_ETRUNCATED = IOTDNS_EBASE - 2, /* input ends too early */
	IOTDNS_EUNSUPPORTED = IOTDNS_EBASE - 3, /* e.g. an unsupported link type */
	IOTDNS_ENOTCAPTURE = IOTDNS_EBASE - 4, /* file is not pcap/pcapng */
	IOTDNS_ESTORE = IOTDNS_EBASE - 5, /* SQLite error */
	IOTDNS_EBUSY = IOTDNS_EBASE - 6, /* database locked */
	IOTDNS_EFULL = IOTDNS_EBASE - 7, /* a bounded table is full */
	IOTDNS_EDUPLICATE = IOTDNS_EBASE - 8, /* input already analyzed */
	IOTDNS_ERULE = IOTDNS_EBASE - 9, /* invalid rule / data file */
	IOTDNS_EMMDB = IOTDNS_EBASE - 10, /* MaxMind database problem */
};

/* Process exit codes: documented in --help and README.md. */
enum iotdns_exit {
	IOTDNS_EXIT_OK = 0,
	IOTDNS_EXIT_FINDINGS = 1, /* findings at or above --fail-on */
	IOTDNS_EXIT_USAGE = 2,
	IOTDNS_EXIT_INPUT = 3, /* input missing, unreadable or not a capture */
	IOTDNS_EXIT_DB = 4, /* database (or enrichment database) error */
};

/* Human-readable context for errors, filled by the failing function. */
struct iotdns_err {
	char msg[768];
};

#if defined(__GNUC__)
#define IOTDNS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define IOTDNS_UNUSED __attribute__((unused))
#define IOTDNS_LIKELY(x) __builtin_expect(!!(x), 1)
#define IOTDNS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define IOTDNS_PRINTF(a, b)
#define IOTDNS_UNUSED
#define IOTDNS_LIKELY(x) (x)
#define IOTDNS_UNLIKELY(x) (x)
#endif

#define IOTDNS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define IOTDNS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define IOTDNS_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Sets err->msg (if err is not NULL) and returns rc, so callers can write
 * `return iotdns_err_set(err, IOTDNS_EIO, "%s: %s", path, strerror(errno));` */
int iotdns_err_set(struct iotdns_err *err, int rc, const char *fmt, ...) IOTDNS_PRINTF(3, 4);

/* ISO-8601 UTC with microseconds: "2024-05-01T10:00:00.123456Z". */
void iotdns_iso_time(uint64_t us, char buf[40]);

/* One string for each IOTDNS_E* code. */
const char *iotdns_strerror(int rc);

/* Invariant check that never aborts: logs file/line/expression once and
 * evaluates to true when the condition does NOT hold. */
bool iotdns_fails_impl(bool ok, const char *expr, const char *file, int line);
#define iotdns_fails(cond) iotdns_fails_impl(!!(cond), #cond, __FILE__, __LINE__)

#endif

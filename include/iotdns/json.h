/* iotdns - minimal JSON output helpers (escaping is the only hard part). */
#ifndef IOTDNS_JSON_H
#define IOTDNS_JSON_H

#include <stdint.h>
#include <stdio.h>

/* Writes s as a JSON string literal (with quotes). Bytes that are not valid
 * UTF-8 are written as \u00XX of the byte value, control bytes escaped, and
 * '<', '>', '&' escaped too so output is safe to embed in HTML. NULL -> null. */
void iotdns_json_str(FILE *f, const char *s);
/* Same into a buffer; returns the length written (truncated safely, always
 * NUL-terminated, never splitting an escape). */
size_t iotdns_json_str_buf(char *buf, size_t size, const char *s);

#endif

/* iotdns - JSON string escaping.
 *
 * Output is always valid JSON and safe inside HTML: control bytes, '"', '\\',
 * '<', '>', '&' and '\'' are escaped; valid UTF-8 sequences are copied; each
 * byte of an invalid sequence is written as \u00XX (its Latin-1 reading), so
 * hostile bytes can be seen but never break the document.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "iotdns/json.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned min;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		min = 0x80;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		min = 0x800;
		c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		min = 0x10000;
		c &= 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

/* Writes the escaped form of s through put(); the core of both variants. */
struct sink {
	FILE *f;
	char *buf;
	size_t size, len;
	bool full;
};

static void put(struct sink *k, const char *p, size_t n)
{
	if (k->f) {
		fwrite(p, 1, n, k->f);
		return;
	}
	if (k->full || k->len + n + 2 > k->size) { /* keep room for '"' and NUL */
		k->full = true;
		return;
	}
	memcpy(k->buf + k->len, p, n);
	k->len += n;
}

static void escape(struct sink *k, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char tmp[8];
	put(k, "\"", 1);
	while (*s) {
		unsigned c = *s;
		if (c >= 0x80) {
			size_t n = utf8_len(s);
			if (n == 0) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				put(k, tmp, 6);
				s++;
			} else {
				put(k, (const char *)s, n);
				s += n;
			}
			continue;
		}
		switch (c) {
		case '"': put(k, "\\\"", 2); break;
		case '\\': put(k, "\\\\", 2); break;
		case '\n': put(k, "\\n", 2); break;
		case '\r': put(k, "\\r", 2); break;
		case '\t': put(k, "\\t", 2); break;
		case '<': case '>': case '&': case '\'':
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			put(k, tmp, 6);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				put(k, tmp, 6);
			} else {
				tmp[0] = (char)c;
				put(k, tmp, 1);
			}
		}
		s++;
	}
	if (k->f) {
		fputc('"', k->f);
	} else {
		k->buf[k->len++] = '"';
		k->buf[k->len] = 0;
	}
}

void iotdns_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	struct sink k = { .f = f };
	escape(&k, s);
}

size_t iotdns_json_str_buf(char *buf, size_t size, const char *s)
{
	if (size < 3) {
		if (size)
			buf[0] = 0;
		return 0;
	}
	if (!s) {
		snprintf(buf, size, "%s", size > 4 ? "null" : "");
		return strlen(buf);
	}
	struct sink k = { .buf = buf, .size = size };
	escape(&k, s);
	return k.len;
}

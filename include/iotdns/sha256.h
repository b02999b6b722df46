/* iotdns - SHA-256 of inputs (duplicate detection), through OpenSSL's
 * libcrypto: it uses the CPU's SHA extensions, several times faster than a
 * portable C implementation, which matters when every input is hashed. */
#ifndef IOTDNS_SHA256_H
#define IOTDNS_SHA256_H

#include <stddef.h>

struct iotdns_sha256 {
	void *ctx; /* EVP_MD_CTX, owned */
};

/* Returns 0, or -1 when out of memory. */
int iotdns_sha256_init(struct iotdns_sha256 *h);
void iotdns_sha256_update(struct iotdns_sha256 *h, const void *data, size_t len);
/* Writes the lowercase hex digest and releases the context. */
void iotdns_sha256_final(struct iotdns_sha256 *h, char hex[65]);
/* Releases the context without a digest (safe on a finalized one). */
void iotdns_sha256_free(struct iotdns_sha256 *h);

#endif

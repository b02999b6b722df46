/* iotdns - SHA-256 through OpenSSL's EVP interface (see sha256.h). */
#include <openssl/evp.h>

#include "iotdns/sha256.h"

int iotdns_sha256_init(struct iotdns_sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	h->ctx = c;
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		h->ctx = NULL;
		return -1;
	}
	return 0;
}

void iotdns_sha256_update(struct iotdns_sha256 *h, const void *data, size_t len)
{
	if (h->ctx && len)
		EVP_DigestUpdate(h->ctx, data, len);
}

void iotdns_sha256_final(struct iotdns_sha256 *h, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	hex[0] = 0;
	if (!h->ctx)
		return;
	if (EVP_DigestFinal_ex(h->ctx, d, &n) == 1 && n == 32) {
		for (unsigned i = 0; i < n; i++) {
			hex[2 * i] = digits[d[i] >> 4];
			hex[2 * i + 1] = digits[d[i] & 15];
		}
		hex[64] = 0;
	}
	iotdns_sha256_free(h);
}

void iotdns_sha256_free(struct iotdns_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

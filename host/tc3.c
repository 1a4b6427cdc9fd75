/*
 * tc3.c: TC3-HMAC-SHA256 signing (see tc3.h).
 *
 * The layout of each piece follows the API 3.0 signature documentation;
 * tests/unit/test_tc3.c pins every piece against vectors produced by the
 * official Node SDK's common/sign.js (tests/data/tc3_vectors.json).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "tc3.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	hex(md, sizeof md, out);
}

static void hmac(const void *key, size_t keylen, const char *msg,
                 unsigned char out[32])
{
	unsigned int outlen = 32;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
	     strlen(msg), out, &outlen);
}

void tc3_date(int64_t timestamp, char out[11])
{
	time_t t = (time_t)timestamp;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)(tm.tm_year + 1900) % 10000,
	         (unsigned)(tm.tm_mon + 1) % 100, (unsigned)tm.tm_mday % 100);
}

/* Lowercase, as the canonical headers require; host names and our
 * content type are ASCII. */
static int lower_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		char c = src[i];
		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	return 0;
}

int tc3_sign(const struct tc3_request *r, char out[TC3_AUTH_MAX])
{
	char ctype[256], host[256], payload_hash[65], creq_hash[65];
	char date[11], creq[1024], sts[512], key[300], sig[65];
	unsigned char k_date[32], k_service[32], k_signing[32], mac[32];
	int n;

	if (!r->secret_id || !r->secret_key || !r->service || !r->host ||
	    !r->content_type || (!r->body && r->body_len) ||
	    strlen(r->secret_id) > 128 || strlen(r->service) > 64 ||
	    lower_copy(ctype, sizeof ctype, r->content_type) ||
	    lower_copy(host, sizeof host, r->host))
		return -1;

	/* HashedRequestPayload: hex SHA-256 of the exact body bytes. */
	sha256_hex(r->body ? r->body : "", r->body_len, payload_hash);

	n = snprintf(creq, sizeof creq,
	             "POST\n"               /* HTTPRequestMethod */
	             "/\n"                  /* CanonicalURI */
	             "\n"                   /* CanonicalQueryString */
	             "content-type:%s\n"    /* CanonicalHeaders ... */
	             "host:%s\n"
	             "\n"                   /* ... end with a blank line */
	             "content-type;host\n"  /* SignedHeaders */
	             "%s",                  /* HashedRequestPayload */
	             ctype, host, payload_hash);
	if (n < 0 || (size_t)n >= sizeof creq)
		return -1;
	sha256_hex(creq, (size_t)n, creq_hash);

	tc3_date(r->timestamp, date);
	n = snprintf(sts, sizeof sts,
	             "TC3-HMAC-SHA256\n"    /* Algorithm */
	             "%lld\n"               /* RequestTimestamp */
	             "%s/%s/tc3_request\n"  /* CredentialScope */
	             "%s",                  /* HashedCanonicalRequest */
	             (long long)r->timestamp, date, r->service, creq_hash);
	if (n < 0 || (size_t)n >= sizeof sts)
		return -1;

	/* SecretDate, SecretService, SecretSigning, then the signature. */
	n = snprintf(key, sizeof key, "TC3%s", r->secret_key);
	if (n < 0 || (size_t)n >= sizeof key) {
		OPENSSL_cleanse(key, sizeof key);
		return -1;
	}
	hmac(key, (size_t)n, date, k_date);
	hmac(k_date, 32, r->service, k_service);
	hmac(k_service, 32, "tc3_request", k_signing);
	hmac(k_signing, 32, sts, mac);
	hex(mac, 32, sig);
	/* The key and every key derived from it, gone before returning. */
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(k_date, sizeof k_date);
	OPENSSL_cleanse(k_service, sizeof k_service);
	OPENSSL_cleanse(k_signing, sizeof k_signing);

	n = snprintf(out, TC3_AUTH_MAX,
	             "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, "
	             "SignedHeaders=content-type;host, Signature=%s",
	             r->secret_id, date, r->service, sig);
	return (n < 0 || n >= TC3_AUTH_MAX) ? -1 : 0;
}

/*
 * tc3.h: TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0.
 *
 * Pure: request in, Authorization header value out.  No I/O, no clock, no
 * environment; the caller passes the timestamp, so test vectors are exact.
 * Signs the way the official SDKs do: POST, path "/", empty query, signed
 * headers "content-type;host".
 */
#ifndef TCRUN_TC3_H
#define TCRUN_TC3_H

#include <stddef.h>
#include <stdint.h>

struct tc3_request {
	const char *secret_id;
	const char *secret_key;
	const char *service;      /* credential scope, e.g. "cam" */
	const char *host;         /* as signed: "cam.tencentcloudapi.com" */
	const char *content_type; /* byte for byte as sent */
	const char *body;         /* exact body bytes */
	size_t body_len;
	int64_t timestamp;        /* unix seconds, also X-TC-Timestamp */
};

/* Longest Authorization value for a secret id of up to 128 bytes. */
#define TC3_AUTH_MAX 512

/* Writes the Authorization value into out (TC3_AUTH_MAX bytes).
 * Returns 0, or -1 when an input is missing or too long. */
int tc3_sign(const struct tc3_request *r, char out[TC3_AUTH_MAX]);

/* "YYYY-MM-DD", the UTC date of a timestamp (11 bytes with the NUL). */
void tc3_date(int64_t timestamp, char out[11]);

#endif

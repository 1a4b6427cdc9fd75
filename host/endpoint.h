/*
 * endpoint.h: --endpoint URLs: "scheme://host[:port][/]", where tcrun
 * connects instead of <service>.tencentcloudapi.com (the Host header and
 * the signature stay the production ones).  Plain http is refused unless
 * the host is loopback or the caller allows it.
 */
#ifndef TCRUN_ENDPOINT_H
#define TCRUN_ENDPOINT_H

#include <stddef.h>

struct endpoint {
	char scheme[8];         /* "http" or "https" */
	char host[256];         /* as in a URL: "127.0.0.1", "[::1]" */
	int port;
};

/* Parses url into ep.  allow_http permits plain http to a host that is
 * not loopback.  0, or -1 with a one-line reason in err. */
int endpoint_parse(const char *url, int allow_http, struct endpoint *ep,
                   char *err, size_t errlen);

/* Whether host (as in a URL) is a loopback address: 127.0.0.0/8, [::1]
 * or localhost.  Parsed, not matched as text: "127.evil.example" is not. */
int endpoint_is_loopback(const char *host);

#endif

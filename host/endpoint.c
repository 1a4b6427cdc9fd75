/*
 * endpoint.c: parsing --endpoint URLs (see endpoint.h).  Plain C: no
 * Lua, no I/O.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

int endpoint_is_loopback(const char *host)
{
	unsigned char a[16];
	char v6[64];
	size_t n = strlen(host);

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (n > 2 && n < sizeof v6 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(v6, host + 1, n - 2);
		v6[n - 2] = '\0';
		return inet_pton(AF_INET6, v6, a) == 1 &&
		       memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	}
	return 0;
}

int endpoint_parse(const char *url, int allow_http, struct endpoint *ep,
                   char *err, size_t errlen)
{
	const char *host, *end, *colon;
	size_t hlen;

	memset(ep, 0, sizeof *ep);
	if (strncmp(url, "http://", 7) == 0) {
		strcpy(ep->scheme, "http");
		ep->port = 80;
	} else if (strncmp(url, "https://", 8) == 0) {
		strcpy(ep->scheme, "https");
		ep->port = 443;
	} else {
		snprintf(err, errlen, "bad endpoint '%s': expected "
		         "http://HOST:PORT or https://HOST[:PORT]", url);
		return -1;
	}
	host = strstr(url, "://") + 3;
	end = host + strcspn(host, "/?#");
	if (*end && strcmp(end, "/") != 0) {
		snprintf(err, errlen, "bad endpoint '%s': a path is not "
		         "allowed", url);
		return -1;
	}
	/* A port follows the host, after the ']' of an IPv6 literal. */
	colon = host[0] == '[' ? memchr(host, ']', (size_t)(end - host)) : host;
	colon = colon ? memchr(colon, ':', (size_t)(end - colon)) : NULL;
	hlen = (size_t)((colon ? colon : end) - host);
	if (hlen == 0 || hlen >= sizeof ep->host) {
		snprintf(err, errlen, "bad endpoint '%s': no host", url);
		return -1;
	}
	memcpy(ep->host, host, hlen);
	ep->host[hlen] = '\0';
	if (colon) {
		char *stop;
		long port = strtol(colon + 1, &stop, 10);

		if (stop == colon + 1 || stop != end || port <= 0 ||
		    port > 65535) {
			snprintf(err, errlen, "bad endpoint '%s': bad port",
			         url);
			return -1;
		}
		ep->port = (int)port;
	}
	if (strcmp(ep->scheme, "http") == 0 && !allow_http &&
	    !endpoint_is_loopback(ep->host)) {
		snprintf(err, errlen, "refusing plain http to '%s': requests "
		         "would cross the network unencrypted (use https, a "
		         "loopback address, or --allow-http)", ep->host);
		return -1;
	}
	return 0;
}

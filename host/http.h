/*
 * http.h: HTTP POSTs driven by one curl_multi handle.
 *
 * The caller submits transfers with a completion callback, then calls
 * http_wait() from its loop; callbacks run inside http_wait().  A finished
 * transfer belongs to the callback's owner until it calls http_xfer_free().
 * Does not: retry, sign, parse bodies, or keep timers (sched.c does).
 */
#ifndef TCRUN_HTTP_H
#define TCRUN_HTTP_H

#include <stddef.h>

struct http;
struct http_xfer;

typedef void http_done_fn(struct http_xfer *x, void *ud);

struct http_request {
	const char *url;           /* e.g. "https://cam.tencentcloudapi.com/" */
	const char *connect_to;    /* curl CONNECT_TO entry, or NULL */
	const char *const *headers;  /* NULL-ended "Name: value" lines */
	const char *body;          /* copied by http_submit */
	size_t body_len;
	long timeout_ms;           /* whole transfer; 0 = none */
	int fresh;                 /* a new connection: never resent by curl */
};

enum http_outcome {
	HTTP_DONE,          /* a response arrived (any status) */
	HTTP_TIMEOUT,       /* connect or transfer timed out */
	HTTP_CONNECT,       /* could not connect / resolve / TLS handshake */
	HTTP_FAILED         /* anything else: reset, bad response, ... */
};

/* max_conns sizes the connection cache (0 = curl's default); it does not
 * cap transfers in flight. */
struct http *http_new(long max_conns);
void http_free(struct http *h);          /* cancels what is in flight */

/* Starts a transfer; NULL when libcurl could not be loaded or refused it
 * (http_start_error says why). */
struct http_xfer *http_submit(struct http *h, const struct http_request *r,
                              http_done_fn *done, void *ud);

const char *http_start_error(void);

/* Runs transfers, waits at most timeout_ms for activity, and calls the
 * callbacks of every transfer that finished.  Returns the number of
 * transfers still in flight. */
int http_wait(struct http *h, long timeout_ms);

/* Cancels an active transfer (no callback) or frees a finished one. */
void http_xfer_free(struct http_xfer *x);

/* Whether the transfer has finished (its callback has run). */
int http_finished(const struct http_xfer *x);

/* Results, valid from the callback until http_xfer_free. */
enum http_outcome http_outcome(const struct http_xfer *x);
long http_status(const struct http_xfer *x);
const char *http_body(const struct http_xfer *x, size_t *len);
const char *http_error(const struct http_xfer *x);   /* curl's text */
double http_seconds(const struct http_xfer *x);       /* total time */

#endif

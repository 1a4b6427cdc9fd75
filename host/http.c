/*
 * http.c: one curl_multi loop (see http.h).
 *
 * Connections are reused across transfers through the multi handle's
 * cache.  Every transfer is a POST over HTTP/1.1 with TLS verification on;
 * "Expect: 100-continue" is switched off, since API bodies are small.
 *
 * libcurl is loaded with dlopen at the first transfer, not linked: it
 * drags in some thirty libraries (LDAP, Kerberos, GnuTLS for RTMP, ...)
 * whose loading costs about 10 ms, three times the rest of tcrun's
 * start-up, and a script that makes no call should not pay for them.
 *
 * The newest libcurl feature used is CURLOPT_PROTOCOLS_STR (7.85.0), so an
 * older library is refused when it loads, with that reason, rather than
 * silently ignoring the option (curl_easy_setopt would fail quietly).
 */
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

/* CURLOPT_PROTOCOLS_STR came with 7.85.0. */
#define CURL_NEEDED 0x075500
#define CURL_NEEDED_TEXT "7.85.0"

/* The libcurl functions we use, resolved by load_curl(). */
static struct {
	CURLcode (*global_init)(long);
	curl_version_info_data *(*version_info)(CURLversion);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_perform)(CURLM *, int *);
	CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int,
	                        int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	void (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;

static char load_error[256];

/* 0, or -1 with load_error set.  Loads once per process. */
static int load_curl(void)
{
	static int state;   /* 0 not tried, 1 loaded, -1 failed */
	curl_version_info_data *info;
	void *lib;

	if (state)
		return state > 0 ? 0 : -1;
	state = -1;
	if (!(lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL))) {
		snprintf(load_error, sizeof load_error, "cannot load libcurl: "
		         "%s (install libcurl4)", dlerror());
		return -1;
	}
#define SYM(field, name) \
	if (!(*(void **)&cu.field = dlsym(lib, name))) { \
		snprintf(load_error, sizeof load_error, "libcurl has no %s " \
		         "(" CURL_NEEDED_TEXT " or later needed)", name); \
		return -1; \
	}
	SYM(version_info, "curl_version_info")
	SYM(global_init, "curl_global_init")
	SYM(multi_init, "curl_multi_init")
	SYM(multi_setopt, "curl_multi_setopt")
	SYM(multi_add_handle, "curl_multi_add_handle")
	SYM(multi_remove_handle, "curl_multi_remove_handle")
	SYM(multi_perform, "curl_multi_perform")
	SYM(multi_poll, "curl_multi_poll")
	SYM(multi_info_read, "curl_multi_info_read")
	SYM(multi_cleanup, "curl_multi_cleanup")
	SYM(easy_init, "curl_easy_init")
	SYM(easy_setopt, "curl_easy_setopt")
	SYM(easy_getinfo, "curl_easy_getinfo")
	SYM(easy_strerror, "curl_easy_strerror")
	SYM(easy_cleanup, "curl_easy_cleanup")
	SYM(slist_append, "curl_slist_append")
	SYM(slist_free_all, "curl_slist_free_all")
#undef SYM
	if (!(info = cu.version_info(CURLVERSION_NOW)) ||
	    info->version_num < CURL_NEEDED) {
		snprintf(load_error, sizeof load_error, "libcurl %s is too "
		         "old (" CURL_NEEDED_TEXT " or later needed)",
		         info && info->version ? info->version : "?");
		return -1;
	}
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(load_error, sizeof load_error, "libcurl failed to "
		         "initialise");
		return -1;
	}
	state = 1;
	return 0;
}

struct http {
	CURLM *multi;        /* NULL until the first transfer */
	long max_conns;
	int active;
};

struct http_xfer {
	struct http *h;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	http_done_fn *done;
	void *ud;
	char *body;             /* request body (copy) */
	size_t body_len;
	char *resp;             /* response body, NUL-ended */
	size_t resp_len, resp_cap;
	int finished;
	enum http_outcome outcome;
	long status;
	char error[CURL_ERROR_SIZE];
};

struct http *http_new(long max_conns)
{
	struct http *h = calloc(1, sizeof *h);

	if (h)
		h->max_conns = max_conns;
	return h;
}

/* Loads libcurl and makes the multi handle; 0 or -1. */
static int start(struct http *h)
{
	if (h->multi)
		return 0;
	if (load_curl() != 0)
		return -1;
	if (!(h->multi = cu.multi_init())) {
		snprintf(load_error, sizeof load_error, "out of memory");
		return -1;
	}
	/* The connection cache, not a cap: a cap would queue transfers
	 * inside curl while their timeout runs.  How many are in flight is
	 * the scheduler's business (--parallel). */
	if (h->max_conns > 0)
		cu.multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
		                h->max_conns * 2);
	return 0;
}

const char *http_start_error(void)
{
	return load_error[0] ? load_error : "out of memory";
}

static size_t on_data(char *data, size_t size, size_t n, void *ud)
{
	struct http_xfer *x = ud;
	size_t len = size * n;

	if (x->resp_len + len + 1 > x->resp_cap) {
		size_t cap = x->resp_cap ? x->resp_cap : 4096;
		char *p;

		while (cap < x->resp_len + len + 1)
			cap *= 2;
		if (cap > (64u << 20) || !(p = malloc(cap)))
			return 0;   /* aborts the transfer: CURLE_WRITE_ERROR */
		/* Not realloc: the old block (an answer may hold a new
		 * access key) is wiped before it goes back. */
		if (x->resp) {
			memcpy(p, x->resp, x->resp_len);
			explicit_bzero(x->resp, x->resp_cap);
			free(x->resp);
		}
		x->resp = p;
		x->resp_cap = cap;
	}
	memcpy(x->resp + x->resp_len, data, len);
	x->resp_len += len;
	x->resp[x->resp_len] = '\0';
	return len;
}

static void destroy(struct http_xfer *x)
{
	if (x->easy) {
		if (!x->finished) {
			cu.multi_remove_handle(x->h->multi, x->easy);
			x->h->active--;
		}
		cu.easy_cleanup(x->easy);
	}
	cu.slist_free_all(x->headers);
	cu.slist_free_all(x->connect_to);
	/* Bodies carry secrets both ways (passwords, new access keys). */
	if (x->body)
		explicit_bzero(x->body, x->body_len);
	if (x->resp)
		explicit_bzero(x->resp, x->resp_cap);
	free(x->body);
	free(x->resp);
	free(x);
}

struct http_xfer *http_submit(struct http *h, const struct http_request *r,
                              http_done_fn *done, void *ud)
{
	struct http_xfer *x = calloc(1, sizeof *x);
	struct curl_slist *l;
	CURL *e;

	if (!x || start(h) != 0) {
		free(x);
		return NULL;
	}
	x->h = h;
	x->done = done;
	x->ud = ud;
	x->finished = 1;   /* not in the multi handle yet */
	if (!(x->easy = e = cu.easy_init()))
		goto fail;
	for (const char *const *hd = r->headers; hd && *hd; hd++) {
		if (!(l = cu.slist_append(x->headers, *hd)))
			goto fail;
		x->headers = l;
	}
	if (!(l = cu.slist_append(x->headers, "Expect:")))
		goto fail;
	x->headers = l;
	if (r->connect_to &&
	    !(x->connect_to = cu.slist_append(NULL, r->connect_to)))
		goto fail;
	if (r->body_len && !(x->body = malloc(r->body_len)))
		goto fail;
	if (r->body_len)
		memcpy(x->body, r->body, r->body_len);
	x->body_len = r->body_len;

	cu.easy_setopt(e, CURLOPT_URL, r->url);
	cu.easy_setopt(e, CURLOPT_POST, 1L);
	cu.easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? x->body : "");
	cu.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	                 (curl_off_t)r->body_len);
	cu.easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	cu.easy_setopt(e, CURLOPT_CONNECT_TO, x->connect_to);
	/* An explicit endpoint is reached directly, never through a proxy
	 * from http_proxy and friends. */
	if (x->connect_to)
		cu.easy_setopt(e, CURLOPT_NOPROXY, "*");
	cu.easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	cu.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	cu.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	cu.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	cu.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	cu.easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	/* On a reused connection that dies before any answer, libcurl sends
	 * the request again by itself; a call that must not run twice gets a
	 * connection of its own instead. */
	cu.easy_setopt(e, CURLOPT_FRESH_CONNECT, (long)(r->fresh != 0));
	cu.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	cu.easy_setopt(e, CURLOPT_USERAGENT, "tcrun/" TCRUN_VERSION);
	cu.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	cu.easy_setopt(e, CURLOPT_WRITEDATA, x);
	cu.easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
	cu.easy_setopt(e, CURLOPT_PRIVATE, x);
	if (cu.multi_add_handle(h->multi, e) != CURLM_OK)
		goto fail;
	x->finished = 0;
	h->active++;
	return x;
fail:
	destroy(x);
	return NULL;
}

static enum http_outcome classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_DONE;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return HTTP_CONNECT;
	default:
		return HTTP_FAILED;
	}
}

int http_wait(struct http *h, long timeout_ms)
{
	struct CURLMsg *m;
	int running, left;

	if (!h->multi) {
		/* No transfer yet: only the caller's timers can be due. */
		if (timeout_ms > 0)
			poll(NULL, 0, (int)timeout_ms);
		return 0;
	}
	cu.multi_perform(h->multi, &running);
	/* curl_multi_poll waits the timeout even with no transfer, which
	 * is what the caller's timers need. */
	if (timeout_ms > 0)
		cu.multi_poll(h->multi, NULL, 0, (int)timeout_ms, NULL);
	cu.multi_perform(h->multi, &running);
	while ((m = cu.multi_info_read(h->multi, &left))) {
		struct http_xfer *x;

		if (m->msg != CURLMSG_DONE)
			continue;
		cu.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		cu.multi_remove_handle(h->multi, x->easy);
		h->active--;
		x->finished = 1;
		x->outcome = classify(m->data.result);
		if (x->outcome == HTTP_DONE)
			cu.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
			                  &x->status);
		if (!x->error[0] && m->data.result != CURLE_OK)
			strcpy(x->error, cu.easy_strerror(m->data.result));
		x->done(x, x->ud);
	}
	return h->active;
}

void http_xfer_free(struct http_xfer *x)
{
	if (x)
		destroy(x);
}

void http_free(struct http *h)
{
	if (!h)
		return;
	/* Transfers still in flight belong to their owners, who free them
	 * through http_xfer_free before this is called. */
	if (h->multi)
		cu.multi_cleanup(h->multi);
	free(h);
}

int http_finished(const struct http_xfer *x)
{
	return x->finished;
}

enum http_outcome http_outcome(const struct http_xfer *x)
{
	return x->outcome;
}

long http_status(const struct http_xfer *x)
{
	return x->status;
}

const char *http_body(const struct http_xfer *x, size_t *len)
{
	*len = x->resp_len;
	return x->resp ? x->resp : "";
}

const char *http_error(const struct http_xfer *x)
{
	return x->error;
}

double http_seconds(const struct http_xfer *x)
{
	double t = 0;

	cu.easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &t);
	return t;
}

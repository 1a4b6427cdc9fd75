/*
 * http.c: one curl_multi loop (see http.h).
 *
 * Connections are reused across transfers through the multi handle's
 * cache.  Every transfer is a POST over HTTP/1.1 with TLS verification on;
 * "Expect: 100-continue" is switched off, since API bodies are small.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

struct http {
	CURLM *multi;
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
	char *resp;             /* response body, NUL-ended */
	size_t resp_len, resp_cap;
	int finished;
	enum http_outcome outcome;
	long status;
	char error[CURL_ERROR_SIZE];
};

static int curl_ready;

struct http *http_new(long max_conns)
{
	struct http *h;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_ready = 1;
	}
	h = calloc(1, sizeof *h);
	if (!h || !(h->multi = curl_multi_init())) {
		free(h);
		return NULL;
	}
	if (max_conns > 0) {
		curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
		                  max_conns);
		curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
		                  max_conns * 2);
	}
	return h;
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
		if (cap > (64u << 20) || !(p = realloc(x->resp, cap)))
			return 0;   /* aborts the transfer: CURLE_WRITE_ERROR */
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
			curl_multi_remove_handle(x->h->multi, x->easy);
			x->h->active--;
		}
		curl_easy_cleanup(x->easy);
	}
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
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

	if (!x)
		return NULL;
	x->h = h;
	x->done = done;
	x->ud = ud;
	x->finished = 1;   /* not in the multi handle yet */
	if (!(x->easy = e = curl_easy_init()))
		goto fail;
	for (const char *const *hd = r->headers; hd && *hd; hd++) {
		if (!(l = curl_slist_append(x->headers, *hd)))
			goto fail;
		x->headers = l;
	}
	if (!(l = curl_slist_append(x->headers, "Expect:")))
		goto fail;
	x->headers = l;
	if (r->connect_to &&
	    !(x->connect_to = curl_slist_append(NULL, r->connect_to)))
		goto fail;
	if (r->body_len && !(x->body = malloc(r->body_len)))
		goto fail;
	if (r->body_len)
		memcpy(x->body, r->body, r->body_len);

	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? x->body : "");
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
	                 (curl_off_t)r->body_len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_CONNECT_TO, x->connect_to);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "tcrun/" TCRUN_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
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

	curl_multi_perform(h->multi, &running);
	/* curl_multi_poll waits the timeout even with no transfer, which
	 * is what the caller's timers need. */
	if (timeout_ms > 0)
		curl_multi_poll(h->multi, NULL, 0, (int)timeout_ms, NULL);
	curl_multi_perform(h->multi, &running);
	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct http_xfer *x;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(h->multi, x->easy);
		h->active--;
		x->finished = 1;
		x->outcome = classify(m->data.result);
		if (x->outcome == HTTP_DONE)
			curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
			                  &x->status);
		if (!x->error[0] && m->data.result != CURLE_OK)
			strcpy(x->error, curl_easy_strerror(m->data.result));
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
	curl_multi_cleanup(h->multi);
	free(h);
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

	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &t);
	return t;
}

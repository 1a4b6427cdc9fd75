/*
 * test_tc3: the signer against vectors from the official Node SDK.
 * tests/data/tc3_vectors.json is written by tests/tools/gen_tc3_vectors.js
 * with the SDK's own common/sign.js (150 random requests with UTF-8, empty
 * strings, nested arrays and big integers, plus the documented vector).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tap.h"
#include "tc3.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static const char *str(const struct json_value *v, const char *key)
{
	const struct json_value *m = json_get(v, key);

	return m && m->type == JSON_STRING ? m->u.str.s : NULL;
}

static void vectors(void)
{
	const char *dir = getenv("TCRUN_SRCDIR");
	char path[4096], err[128], auth[TC3_AUTH_MAX];
	struct json_value *all;
	size_t len = 0, agree = 0;
	char *text;

	snprintf(path, sizeof path, "%s/tests/data/tc3_vectors.json",
	         dir ? dir : ".");
	text = slurp(path, &len);
	if (!ok(text != NULL, "read %s", path))
		return;
	all = json_parse(text, len, err, sizeof err);
	free(text);
	if (!ok(all && all->type == JSON_ARRAY && all->u.c.n >= 100,
	        "at least 100 vectors (%s)", all ? "parsed" : err)) {
		json_free(all);
		return;
	}
	for (size_t i = 0; i < all->u.c.n; i++) {
		const struct json_value *v = &all->u.c.items[i];
		const struct json_value *body = json_get(v, "body");
		const struct json_value *ts = json_get(v, "timestamp");
		struct tc3_request r = {
			.secret_id = str(v, "secret_id"),
			.secret_key = str(v, "secret_key"),
			.service = str(v, "service"),
			.host = str(v, "host"),
			.content_type = str(v, "content_type"),
			.body = body->u.str.s,
			.body_len = body->u.str.len,
			.timestamp = ts->u.i,
		};
		const char *want = str(v, "authorization");

		if (tc3_sign(&r, auth) == 0 && strcmp(auth, want) == 0) {
			agree++;
			continue;
		}
		is_str(auth, want, "vector %zu (%s, t=%lld)", i, r.service,
		       (long long)r.timestamp);
	}
	is_int(agree, all->u.c.n, "all %zu signatures byte-identical to "
	       "the Node SDK's", all->u.c.n);
	json_free(all);
}

static void edges(void)
{
	char auth[TC3_AUTH_MAX], date[11], longid[200];
	struct tc3_request r = {
		.secret_id = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
		.secret_key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
		.service = "cvm", .host = "CVM.TencentCloudAPI.com",
		.content_type = "application/json",
		.body = "{\"Limit\":1,\"Offset\":0}", .body_len = 22,
		.timestamp = 1551113065,
	};

	ok(tc3_sign(&r, auth) == 0 && strstr(auth, "Signature=6c03bf4260bcf"
	   "376e2bca4612b754021d2033acf0e44a2b70d9097370f8b326b"),
	   "host name is signed in lower case");

	tc3_date(1551139199, date);
	is_str(date, "2019-02-25", "last second of a UTC day");
	tc3_date(1551139200, date);
	is_str(date, "2019-02-26", "first second of the next UTC day");
	tc3_date(0, date);
	is_str(date, "1970-01-01", "epoch");

	r.body = NULL;
	r.body_len = 0;
	ok(tc3_sign(&r, auth) == 0, "an absent body signs as the empty one");
	r.body_len = 3;
	ok(tc3_sign(&r, auth) == -1, "a length without a body is refused");
	r.body_len = 0;
	r.secret_key = NULL;
	ok(tc3_sign(&r, auth) == -1, "a missing secret key is refused");
	r.secret_key = "k";
	memset(longid, 'A', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	r.secret_id = longid;
	ok(tc3_sign(&r, auth) == -1, "an over-long secret id is refused");
}

int main(void)
{
	vectors();
	edges();
	return tap_done();
}

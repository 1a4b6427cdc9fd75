/*
 * test_units: the host's small plain-C units, table-driven: UTF-8
 * validation (utf8.c), terminal-safe text (printable.c), --endpoint parsing and the loopback check
 * (endpoint.c), what tcrun knows of services (services.c), retry classes
 * and backoff (retry.c), rate-limit spacing and its margin (ratelimit.c),
 * journal lines (journal.c) and atomic files (fsutil.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "endpoint.h"
#include "fsutil.h"
#include "journal.h"
#include "printable.h"
#include "json.h"
#include "ratelimit.h"
#include "retry.h"
#include "services.h"
#include "tap.h"
#include "utf8.h"

static void test_utf8(void)
{
	static const struct { const char *name, *s; size_t len; int ok; } c[] = {
		{ "ASCII", "plain", 5, 1 },
		{ "empty", "", 0, 1 },
		{ "NUL byte", "a\0b", 3, 1 },
		{ "2-byte e-acute", "\xc3\xa9", 2, 1 },
		{ "3-byte CJK", "\xe7\x8e\x8b", 3, 1 },
		{ "4-byte emoji", "\xf0\x9f\x98\x80", 4, 1 },
		{ "U+10FFFF", "\xf4\x8f\xbf\xbf", 4, 1 },
		{ "bad continuation", "\xc3\x28", 2, 0 },
		{ "truncated 3-byte", "\xe2\x82", 2, 0 },
		{ "overlong 2-byte", "\xc0\xaf", 2, 0 },
		{ "overlong 3-byte", "\xe0\x80\xaf", 3, 0 },
		{ "overlong 4-byte", "\xf0\x8f\xbf\xbf", 4, 0 },
		{ "surrogate", "\xed\xa0\x80", 3, 0 },
		{ "past U+10FFFF", "\xf4\x90\x80\x80", 4, 0 },
		{ "lone continuation", "\x80", 1, 0 },
		{ "F5 lead", "\xf5\x80\x80\x80", 4, 0 },
		{ "Latin-1 byte in text (GBK-like)", "caf\xe9", 4, 0 },
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		is_int(utf8_valid(c[i].s, c[i].len), c[i].ok, "utf8: %s",
		       c[i].name);
	is_int(utf8_seq((const unsigned char *)"\xe7\x8e\x8b", 3), 3,
	       "utf8_seq: length of a 3-byte sequence");
}

static void test_printable(void)
{
	static const struct { const char *name, *in, *want; int lines; } c[] = {
		{ "plain text", "alice.wang 王丽", "alice.wang 王丽", 0 },
		{ "ESC and CR", "a\x1b[2J\rb", "a\\x1b[2J\\x0db", 0 },
		{ "newline, one line", "a\nb\tc", "a\\x0ab\\x09c", 0 },
		{ "newline, lines", "a\nb\tc", "a\n  b\tc", 1 },
		{ "DEL", "a\x7f", "a\\x7f", 0 },
		{ "C1 NEL", "a\xc2\x85", "a\\u{0085}", 0 },
		{ "RLO", "x\xe2\x80\xaey", "x\\u{202E}y", 0 },
		{ "zero width space", "\xe2\x80\x8b", "\\u{200B}", 0 },
		{ "BOM", "\xef\xbb\xbf" "a", "\\u{FEFF}a", 0 },
		{ "not UTF-8", "caf\xe9", "caf\\xe9", 0 },
		{ "line separator", "a\xe2\x80\xa8" "b", "a\\u{2028}b", 0 },
		{ "soft hyphen", "a\xc2\xad" "b", "a\\u{00AD}b", 0 },
		{ "tag character", "\xf3\xa0\x81\x81", "\\u{E0041}", 0 },
		{ "Hangul filler", "\xe3\x85\xa4", "\\u{3164}", 0 },
		{ "interlinear annotation", "\xef\xbf\xb9", "\\u{FFF9}", 0 },
		{ "emoji with VS16 stays", "\xe2\x9d\xa4\xef\xb8\x8f", "\xe2\x9d\xa4\xef\xb8\x8f", 0 },
		{ "backslashes kept", "\\x1b", "\\x1b", 0 },
	};
	char out[64];

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		printable(c[i].in, strlen(c[i].in), out, sizeof out, c[i].lines);
		is_str(out, c[i].want, "printable: %s", c[i].name);
	}
	is_int(printable("\x1b\x1b\x1b", 3, out, 9, 0), 8,
	       "printable: cut short at whole escapes");
	is_str(out, "\\x1b\\x1b", "printable: never half an escape");
}

static void test_endpoint(void)
{
	static const struct {
		const char *url;
		int allow;
		const char *scheme, *host;
		int port;
		const char *err;    /* a substring, or NULL for success */
	} c[] = {
		{ "http://127.0.0.1:9000", 0, "http", "127.0.0.1", 9000, NULL },
		{ "http://127.0.0.1:9000/", 0, "http", "127.0.0.1", 9000, NULL },
		{ "http://127.8.9.10", 0, "http", "127.8.9.10", 80, NULL },
		{ "http://localhost:1", 0, "http", "localhost", 1, NULL },
		{ "http://[::1]:8080", 0, "http", "[::1]", 8080, NULL },
		{ "https://cam.example.com", 0, "https", "cam.example.com",
		  443, NULL },
		{ "https://[2001:db8::1]:8443", 0, "https", "[2001:db8::1]",
		  8443, NULL },
		{ "http://10.0.0.1:80", 1, "http", "10.0.0.1", 80, NULL },
		{ "http://10.0.0.1:80", 0, NULL, NULL, 0,
		  "refusing plain http to '10.0.0.1'" },
		{ "http://127.evil.example", 0, NULL, NULL, 0,
		  "refusing plain http" },
		{ "http://[::2]", 0, NULL, NULL, 0, "refusing plain http" },
		{ "ftp://x", 0, NULL, NULL, 0, "expected http://HOST:PORT" },
		{ "127.0.0.1:9000", 0, NULL, NULL, 0, "expected http://" },
		{ "http://127.0.0.1:9000/api", 0, NULL, NULL, 0,
		  "a path is not allowed" },
		{ "http://127.0.0.1:9000?x", 0, NULL, NULL, 0,
		  "a path is not allowed" },
		{ "http://:9000", 0, NULL, NULL, 0, "no host" },
		{ "http://127.0.0.1:0", 0, NULL, NULL, 0, "bad port" },
		{ "http://127.0.0.1:65536", 0, NULL, NULL, 0, "bad port" },
		{ "http://127.0.0.1:", 0, NULL, NULL, 0, "bad port" },
		{ "http://127.0.0.1:9x", 0, NULL, NULL, 0, "bad port" },
	};
	char err[300];

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct endpoint ep;
		int rc;

		err[0] = '\0';
		rc = endpoint_parse(c[i].url, c[i].allow, &ep, err, sizeof err);
		if (!c[i].err) {
			int good = rc == 0 && strcmp(ep.scheme, c[i].scheme) == 0 &&
			           strcmp(ep.host, c[i].host) == 0 &&
			           ep.port == c[i].port;

			if (!ok(good, "endpoint %s%s: %s %s %d", c[i].url,
			        c[i].allow ? " (allowed)" : "", c[i].scheme,
			        c[i].host, c[i].port))
				printf("#   rc %d, got %s %s %d (%s)\n", rc,
				       ep.scheme, ep.host, ep.port, err);
		} else if (!ok(rc == -1 && strstr(err, c[i].err) != NULL,
		               "endpoint %s refused: %s", c[i].url, c[i].err)) {
			printf("#   rc %d, err '%s'\n", rc, err);
		}
	}
	ok(endpoint_is_loopback("127.0.0.1") &&
	   endpoint_is_loopback("127.255.0.1") &&
	   endpoint_is_loopback("[::1]") && endpoint_is_loopback("localhost") &&
	   !endpoint_is_loopback("128.0.0.1") &&
	   !endpoint_is_loopback("127.0.0.1.nip.io") &&
	   !endpoint_is_loopback("::1") && !endpoint_is_loopback(""),
	   "loopback: parsed addresses, not text prefixes");
}

static void test_services(void)
{
	static const struct { const char *action; int write; } w[] = {
		{ "DescribeEnvs", 0 }, { "ListUsers", 0 }, { "GetUser", 0 },
		{ "LookUpEvents", 0 }, { "QueryX", 0 }, { "CheckY", 0 },
		{ "InquirePriceCreateInstances", 0 }, { "SearchLog", 0 },
		{ "AddUser", 1 }, { "CreateEnv", 1 }, { "RunCommand", 1 },
		{ "UpdateUser", 1 }, { "TagResources", 1 },
	};
	int global = -1;

	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		is_int(services_is_write(w[i].action), w[i].write,
		       "services: %s is %s", w[i].action,
		       w[i].write ? "a write" : "a read");
	ok(strcmp(services_version("cam", &global), "2019-01-16") == 0 &&
	   global == 1, "services: cam 2019-01-16, global");
	ok(strcmp(services_version("lighthouse", &global), "2020-03-24") == 0 &&
	   global == 0, "services: lighthouse 2020-03-24, regional");
	ok(services_version("nosuch", &global) == NULL && global == 0,
	   "services: an unknown service has no version");
	ok(services_region_ok("ap-guangzhou") && services_region_ok("na-1") &&
	   !services_region_ok("") && !services_region_ok("AP-X") &&
	   !services_region_ok("ap x") && !services_region_ok("ap\r\nX: y") &&
	   !services_region_ok("a-very-very-very-very-very-very-very-very-"
	                       "very-very-long-region-name"),
	   "services: region names");
}

static void test_retry(void)
{
	static const struct { const char *code; enum retry_class c; } k[] = {
		{ "RequestLimitExceeded", RETRY_THROTTLED },
		{ "RequestLimitExceeded.UinLimitExceeded", RETRY_THROTTLED },
		{ "InternalError", RETRY_UNCERTAIN },
		{ "InternalError.DbError", RETRY_UNCERTAIN },
		{ "ServiceUnavailable", RETRY_UNCERTAIN },
		{ "ResourceNotFound", RETRY_NO },
		{ "AuthFailure.SignatureFailure", RETRY_NO },
		{ "InvalidParameter.SubUserNameInUse", RETRY_NO },
		{ "ServiceUnavailableX", RETRY_NO },
	};

	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		is_int(retry_class_of_code(k[i].code), k[i].c, "retry: %s",
		       k[i].code);
	ok(retry_class_of_status(500) == RETRY_UNCERTAIN &&
	   retry_class_of_status(503) == RETRY_UNCERTAIN &&
	   retry_class_of_status(404) == RETRY_NO &&
	   retry_class_of_status(200) == RETRY_NO, "retry: HTTP statuses");
	ok(retry_allowed(RETRY_THROTTLED, 0) && retry_allowed(RETRY_THROTTLED, 1)
	   && retry_allowed(RETRY_UNCERTAIN, 1) &&
	   !retry_allowed(RETRY_UNCERTAIN, 0) && !retry_allowed(RETRY_NO, 1),
	   "retry: throttled always, uncertain only when idempotent");
	ok(retry_backoff_ms(1, 255) == 500 && retry_backoff_ms(2, 255) == 1000 &&
	   retry_backoff_ms(3, 255) == 2000 && retry_backoff_ms(1, 0) == 250 &&
	   retry_backoff_ms(7, 255) == 20000 &&
	   retry_backoff_ms(20, 255) == 20000,
	   "retry: backoff doubles from 0.5 s to 20 s, jitter 50-100 %%");
}

static int near(double a, double b)
{
	return a - b < 1e-6 && b - a < 1e-6;
}

static void test_ratelimit(void)
{
	struct ratelimit *rl = ratelimit_new(20);
	const char *s = "lighthouse", *a = "CreateInstances";
	int i;

	ok(near(ratelimit_spacing_ms(rl, s, a), 204),
	   "CreateInstances at 5/s: 204 ms apart (a 2%% margin)");
	ok(near(ratelimit_reserve(rl, s, a, 1000), 0) &&
	   near(ratelimit_reserve(rl, s, a, 1000), 204) &&
	   near(ratelimit_reserve(rl, s, a, 1100), 308),
	   "reserve: the first at once, then one slot after another");
	ratelimit_answered(rl, s, a, 1, 1204);
	ok(near(ratelimit_spacing_ms(rl, s, a), 206),
	   "a throttle widens the margin by a step (206 ms)");
	ratelimit_answered(rl, s, a, 1, 1308);
	ok(near(ratelimit_spacing_ms(rl, s, a), 206),
	   "a throttle of a call spaced before that widening teaches nothing more");
	for (i = 0; i < 49; i++)
		ratelimit_answered(rl, s, a, 0, 5000);
	ok(near(ratelimit_spacing_ms(rl, s, a), 206),
	   "49 calm answers leave it");
	ratelimit_answered(rl, s, a, 0, 5000);
	ok(near(ratelimit_spacing_ms(rl, s, a), 205),
	   "the 50th narrows it by half a step");
	for (i = 0; i < 100; i++)
		ratelimit_answered(rl, s, a, 1, 1e9 + i);
	ok(near(ratelimit_spacing_ms(rl, s, a), 240),
	   "throttle after throttle: never more than 20%% (240 ms)");
	for (i = 0; i < 100000; i++)
		ratelimit_answered(rl, s, a, 0, 2e9);
	ok(near(ratelimit_spacing_ms(rl, s, a), 204),
	   "calm for long: back to 2%%, never less");
	ok(near(ratelimit_spacing_ms(rl, "cam", "GetUser"), 51),
	   "another action keeps its own margin (20/s: 51 ms)");
	ratelimit_set(rl, "cam", "GetUser", 0);
	ratelimit_answered(rl, "cam", "GetUser", 1, 0);
	ok(near(ratelimit_spacing_ms(rl, "cam", "GetUser"), 0) &&
	   near(ratelimit_reserve(rl, "cam", "GetUser", 5), 0),
	   "an unlimited action stays unlimited");
	ratelimit_free(rl);
}

static void test_journal(void)
{
	struct json_buf b = { 0 };
	struct journal_entry e = {
		.time = 1764547200, .service = "cam", .action = "AddUser",
		.region = "", .params = "{\"Name\":\"a\",\"Password\":\"***\"}",
		.request_id = "r-1", .outcome = "error",
		.code = "InvalidParameter", .message = "say \"no\"\n",
		.attempts = 2,
	};

	ok(journal_format(&e, &b) == 0, "journal: formats");
	is_str(b.str ? b.str : "", "{\"time\":\"2025-12-01T00:00:00Z\","
	       "\"service\":\"cam\",\"action\":\"AddUser\",\"region\":\"\","
	       "\"params\":{\"Name\":\"a\",\"Password\":\"***\"},"
	       "\"request_id\":\"r-1\",\"outcome\":\"error\","
	       "\"code\":\"InvalidParameter\","
	       "\"message\":\"say \\\"no\\\"\\n\",\"attempts\":2}",
	       "journal: an error line, message escaped");
	json_buf_free(&b);
	e.outcome = "ok";
	e.code = e.message = NULL;
	e.request_id = NULL;
	e.params = NULL;
	journal_format(&e, &b);
	is_str(b.str ? b.str : "", "{\"time\":\"2025-12-01T00:00:00Z\","
	       "\"service\":\"cam\",\"action\":\"AddUser\",\"region\":\"\","
	       "\"params\":{},\"request_id\":\"\",\"outcome\":\"ok\","
	       "\"attempts\":2}", "journal: an ok line has no code");
	json_buf_free(&b);
}

/* Names in dir other than . and .., joined with spaces. */
static void list_dir(const char *dir, char *out, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	out[0] = '\0';
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (out[0])
			strncat(out, " ", cap - strlen(out) - 1);
		strncat(out, de->d_name, cap - strlen(out) - 1);
	}
	if (d)
		closedir(d);
}

static void test_atomic(void)
{
	char dir[] = "/tmp/tcrun-fsutil-XXXXXX", path[256], names[512];
	struct fs_atomic f;
	struct stat st;
	FILE *fp;

	if (!ok(mkdtemp(dir) != NULL, "atomic: a temporary folder"))
		return;
	snprintf(path, sizeof path, "%s/out.csv", dir);
	umask(022);
	ok(fs_atomic_open(&f, path, 0600) == 0 && f.fp,
	   "atomic: opens a temporary file");
	fputs("a,b\n", f.fp);
	list_dir(dir, names, sizeof names);
	ok(strncmp(names, "out.csv.tmp.", 12) == 0 && !strchr(names, ' '),
	   "atomic: until committed only the temporary file exists (%s)",
	   names);
	ok(stat(f.tmp, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "atomic: mode 0600 from the first byte");
	is_int(fs_atomic_commit(&f, 0), 0, "atomic: commits");
	fs_atomic_free(&f);
	list_dir(dir, names, sizeof names);
	is_str(names, "out.csv", "atomic: then only the file");
	fp = fopen(path, "r");
	ok(fp && fgets(names, sizeof names, fp) && strcmp(names, "a,b\n") == 0,
	   "atomic: with its content");
	if (fp)
		fclose(fp);

	ok(fs_atomic_open(&f, path, 0644) == 0, "atomic: a second file");
	fputs("half", f.fp);
	fs_atomic_free(&f);
	list_dir(dir, names, sizeof names);
	fp = fopen(path, "r");
	ok(strcmp(names, "out.csv") == 0 && fp &&
	   fgets(names, sizeof names, fp) && strcmp(names, "a,b\n") == 0,
	   "atomic: freed uncommitted, it is discarded and the old file "
	   "stays");
	if (fp)
		fclose(fp);
	ok(fs_atomic_open(&f, path, 0644) == 0, "atomic: a third file");
	fputs("bad", f.fp);
	is_int(fs_atomic_commit(&f, ENOSPC), ENOSPC,
	       "atomic: an earlier write error is returned");
	fs_atomic_free(&f);
	list_dir(dir, names, sizeof names);
	is_str(names, "out.csv", "atomic: and nothing is left behind");
	snprintf(path, sizeof path, "%s/no/such/folder/x.csv", dir);
	errno = 0;
	ok(fs_atomic_open(&f, path, 0644) == -1 && errno == ENOENT &&
	   f.path == NULL, "atomic: a missing folder is ENOENT, nothing "
	   "to free");
	snprintf(path, sizeof path, "%s/out.csv", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/a/b/c", dir);
	ok(fs_mkdirs(path) == 0 && stat(path, &st) == 0 &&
	   (st.st_mode & 0777) == 0700, "mkdirs: parents, mode 0700");
	ok(fs_mkdirs(path) == 0, "mkdirs: a folder that exists is fine");
	snprintf(names, sizeof names, "%s/file", path);
	fp = fopen(names, "w");
	if (fp)
		fclose(fp);
	errno = 0;
	ok(fs_mkdirs(names) == -1 && errno == ENOTDIR,
	   "mkdirs: an existing file is not a folder (ENOTDIR)");
	unlink(names);
	for (int i = 0; i < 3; i++) {
		rmdir(path);
		*strrchr(path, '/') = '\0';
	}
	ok(rmdir(dir) == 0, "atomic: the folder is clean at the end");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_utf8();
	test_printable();
	test_endpoint();
	test_services();
	test_retry();
	test_ratelimit();
	test_journal();
	test_atomic();
	return tap_done();
}

/*
 * creds.c: the credential chain (see creds.h).
 *
 * Reads tccli's JSON files with json.c.  Does not: call STS, refresh
 * temporary credentials, or read ~/.tencentcloud/credentials (INI).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "creds.h"
#include "json.h"
#include "msg.h"

static void wipe(char **s)
{
	if (*s) {
		OPENSSL_cleanse(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void creds_clear(struct creds *c)
{
	wipe(&c->secret_id);
	wipe(&c->secret_key);
	wipe(&c->token);
	free(c->region);
	c->region = NULL;
	c->source[0] = '\0';
}

static char *dup_nonempty(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int creds_set(struct creds *c, const char *id, const char *key,
              const char *token, const char *region)
{
	creds_clear(c);
	c->secret_id = dup_nonempty(id);
	c->secret_key = dup_nonempty(key);
	c->token = dup_nonempty(token);
	c->region = dup_nonempty(region);
	if (!c->secret_id || !c->secret_key ||
	    (token && *token && !c->token) || (region && *region && !c->region)) {
		creds_clear(c);
		return -1;
	}
	return 0;
}

/* Reads a whole small file; NULL with errno set when it cannot. */
/* The file at path, whole and NUL-ended, in a buffer of the caller's
 * (which wipes it): read with read(2), so no stdio buffer keeps a copy of
 * a secret. */
static char *slurp(const char *path, size_t *len, mode_t *mode)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size > 1 << 20) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	*mode = st.st_mode;
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0) {
			OPENSSL_cleanse(buf, got);
			free(buf);
			close(fd);
			errno = n < 0 ? errno : EIO;
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

static struct json_value *read_json(const char *path, int secret,
                                    char *err, size_t errlen)
{
	char why[160];
	size_t len = 0;
	mode_t mode = 0;
	char *text = slurp(path, &len, &mode);
	struct json_value *v;

	if (!text) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (secret && (mode & 077))
		msg_warn("%s is readable by group or others (mode %03o); "
		         "run chmod 600 %s", path, (unsigned)(mode & 0777), path);
	v = json_parse(text, len, why, sizeof why);
	OPENSSL_cleanse(text, len);
	free(text);
	if (!v)
		snprintf(err, errlen, "%s: %s", path, why);
	else if (v->type != JSON_OBJECT) {
		snprintf(err, errlen, "%s: expected a JSON object", path);
		json_free(v);
		v = NULL;
	}
	return v;
}

static const char *member(const struct json_value *o, const char *key)
{
	const struct json_value *m = json_get(o, key);

	return m && m->type == JSON_STRING ? m->u.str.s : NULL;
}

static int from_profile(struct creds *c, const char *name, char *err,
                        size_t errlen)
{
	const char *home = getenv("HOME");
	char path[4096];
	struct json_value *cred, *conf;
	const char *region = NULL;
	int rc;

	if (strchr(name, '/') || !*name) {
		snprintf(err, errlen, "bad profile name '%s'", name);
		return -1;
	}
	snprintf(path, sizeof path, "%s/.tccli/%s.credential",
	         home ? home : "", name);
	cred = read_json(path, 1, err, errlen);
	if (!cred)
		return -1;
	snprintf(path, sizeof path, "%s/.tccli/%s.configure",
	         home ? home : "", name);
	conf = read_json(path, 0, err, errlen);  /* optional */
	if (conf)
		region = member(json_get(conf, "_sys_param"), "region");
	rc = creds_set(c, member(cred, "secretId"), member(cred, "secretKey"),
	               member(cred, "token"), region);
	json_free(cred);   /* wipes its strings, the key among them */
	json_free(conf);
	if (rc != 0) {
		snprintf(err, errlen, "%s/.tccli/%s.credential: no secretId and "
		         "secretKey", home ? home : "", name);
		return -1;
	}
	snprintf(c->source, sizeof c->source, "profile '%.200s'", name);
	return 0;
}

extern char **environ;

/* Overwrites, in place, the values of the variables that hold a secret, so
 * the process's original environment block (/proc/PID/environ, a core
 * dump) no longer shows them; then removes the variables, so os.getenv and
 * child processes cannot find them either. */
void creds_wipe_env(void)
{
	static const char *const names[] = {
		"TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN",
		"TENCENTCLOUD_TOKEN", NULL
	};

	/* Every entry: a variable may be there twice, and getenv finds
	 * only one. */
	for (char **e = environ; e && *e; e++)
		for (int i = 0; names[i]; i++) {
			size_t n = strlen(names[i]);

			if (strncmp(*e, names[i], n) == 0 && (*e)[n] == '=')
				OPENSSL_cleanse(*e + n + 1, strlen(*e + n + 1));
		}
	for (int i = 0; names[i]; i++)
		while (getenv(names[i]))
			unsetenv(names[i]);
}

int creds_load(struct creds *c, const char *profile, char *err,
               size_t errlen)
{
	const char *id = getenv("TENCENTCLOUD_SECRET_ID");
	const char *key = getenv("TENCENTCLOUD_SECRET_KEY");
	const char *token = getenv("TENCENTCLOUD_SESSION_TOKEN");
	char why[512];

	creds_clear(c);
	if (!profile || !*profile)
		profile = getenv("TCCLI_PROFILE");
	if (profile && *profile)
		return from_profile(c, profile, err, errlen);

	if (!token || !*token)
		token = getenv("TENCENTCLOUD_TOKEN");
	if (id && *id && key && *key) {
		if (creds_set(c, id, key, token,
		              getenv("TENCENTCLOUD_REGION")) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		snprintf(c->source, sizeof c->source, "environment");
		return 0;
	}
	if (from_profile(c, "default", why, sizeof why) == 0)
		return 0;
	snprintf(err, errlen, "no credentials: set TENCENTCLOUD_SECRET_ID and "
	         "TENCENTCLOUD_SECRET_KEY, or use --profile NAME, or create "
	         "~/.tccli/default.credential (%s)", why);
	return -1;
}

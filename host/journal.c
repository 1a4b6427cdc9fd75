/*
 * journal.c: the write-call journal file (see journal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "journal.h"
#include "json.h"
#include "paths.h"

struct journal {
	int fd;
	char path[];
};

struct journal *journal_open(const char *path, int mkdirs, char *err,
                             size_t errlen)
{
	size_t n = strlen(path);
	struct journal *j = malloc(sizeof *j + n + 1);

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(j->path, path, n + 1);
	if (mkdirs && strrchr(path, '/') > path) {
		char *dir = fs_dirname(path);
		int rc = dir ? fs_private_dir(dir, err, errlen) : -1;

		if (!dir)
			snprintf(err, errlen, "out of memory");
		free(dir);
		if (rc != 0) {
			free(j);
			return NULL;
		}
	}
	/* Never through a planted symbolic link; 0600 whatever the umask. */
	j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	             O_NOFOLLOW, 0600);
	if (j->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(j);
		return NULL;
	}
	return j;
}

int journal_append(struct journal *j, const char *line, size_t len)
{
	char *buf = malloc(len + 1);
	off_t end;
	ssize_t w;

	if (!buf)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\n';
	end = lseek(j->fd, 0, SEEK_END);
	w = write(j->fd, buf, len + 1);
	free(buf);
	if (w != (ssize_t)(len + 1)) {
		int saved = w >= 0 ? EIO : errno;

		/* No torn line for the next one to be glued onto. */
		if (w > 0 && end >= 0 && ftruncate(j->fd, end) != 0)
			saved = errno;
		errno = saved;
		return -1;
	}
	/* A special file that cannot be synced (/dev/null) says EINVAL. */
	if (fdatasync(j->fd) != 0 && errno != EINVAL)
		return -1;
	return 0;
}

static void put_field(struct json_buf *b, const char *name, const char *v)
{
	json_put_raw(b, ",\"", 2);
	json_put_raw(b, name, strlen(name));
	json_put_raw(b, "\":", 2);
	json_put_string(b, v ? v : "", v ? strlen(v) : 0);
}

int journal_format(const struct journal_entry *e, struct json_buf *b)
{
	char stamp[32];
	struct tm tm;

	gmtime_r(&e->time, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_put_raw(b, "{\"time\":", 8);
	json_put_string(b, stamp, strlen(stamp));
	put_field(b, "service", e->service);
	put_field(b, "action", e->action);
	put_field(b, "region", e->region);
	if (e->account) {
		put_field(b, "account", e->account);
		put_field(b, "account_name", e->account_name);
	}
	if (e->note)
		put_field(b, "note", e->note);
	json_put_raw(b, ",\"params\":", 10);
	if (e->params)
		json_put_raw(b, e->params, strlen(e->params));
	else
		json_put_raw(b, "{}", 2);
	put_field(b, "request_id", e->request_id);
	put_field(b, "outcome", e->outcome);
	if (e->code) {
		put_field(b, "code", e->code);
		put_field(b, "message", e->message);
	}
	json_put_raw(b, ",\"attempts\":", 12);
	json_put_int(b, e->attempts);
	json_put_raw(b, "}", 1);
	return b->oom ? -1 : 0;
}

int journal_record(struct journal *j, const struct journal_entry *e)
{
	struct json_buf b = { 0 };
	int rc = journal_format(e, &b);

	if (rc == 0)
		rc = journal_append(j, b.str, b.len);
	json_buf_free(&b);
	return rc;
}

int journal_check(const char *path, char *err, size_t errlen)
{
	char *dir = fs_dirname(path);
	int rc;

	if (!dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = access(path, F_OK) == 0 ? access(path, W_OK)
	                             : access(dir, W_OK | X_OK);
	if (rc != 0)
		snprintf(err, errlen, "--journal %s: %s", path, strerror(errno));
	free(dir);
	return rc;
}

int journal_lock(struct journal *j)
{
	return flock(j->fd, LOCK_EX | LOCK_NB);
}

const char *journal_path(const struct journal *j)
{
	return j->path;
}

void journal_close(struct journal *j)
{
	if (j) {
		close(j->fd);
		free(j);
	}
}

int journal_default_path(const char *script, char *out, size_t outlen)
{
	const char *dir = getenv("TCRUN_JOURNAL_DIR");
	const char *base = strrchr(script, '/');
	char stamp[32], name[128], state[4096];
	time_t now = time(NULL);
	struct tm tm;
	size_t k;
	int n;

	base = base ? base + 1 : script;
	snprintf(name, sizeof name, "%s", base);
	k = strlen(name);
	if (k > 4 && strcmp(name + k - 4, ".lua") == 0)
		name[k - 4] = '\0';
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	if (dir && *dir)
		n = snprintf(out, outlen, "%s/%s-%s-%ld.jsonl", dir, name,
		             stamp, (long)getpid());
	else if (paths_state(state, sizeof state) == 0)
		n = snprintf(out, outlen, "%s/journal/%s-%s-%ld.jsonl", state,
		             name, stamp, (long)getpid());
	else
		return -1;
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/*
 * fsutil.c: file-system helpers (see fsutil.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fsutil.h"
#include "printable.h"

int fs_mkdirs(const char *dir)
{
	size_t n = strlen(dir);
	char *p = strdup(dir);
	int rc = 0;

	if (!p)
		return -1;
	for (size_t i = 1; i <= n && rc == 0; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) != 0) {
			struct stat st;

			/* Something already there must be a folder. */
			if (errno != EEXIST)
				rc = -1;
			else if (stat(p, &st) != 0)
				rc = -1;
			else if (!S_ISDIR(st.st_mode))
				rc = -1, errno = ENOTDIR;
		}
		if (i < n)
			p[i] = '/';
	}
	free(p);
	return rc;
}

/* Whether folder path (resolved) keeps others from renaming or replacing
 * what it holds: owned by root or the user, and not writable by others
 * unless sticky (/tmp).  what names path's role in the message. */
static int safe_folder(const char *path, const char *what, char *err,
                       size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: %s belongs to uid %ld, who could "
		         "swap it: use a folder of your own", path, what,
		         (long)st.st_uid);
		return -1;
	}
	if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen, "%s: %s that others can write to (mode "
		         "%04o, not sticky): use a folder of your own", path,
		         what, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Whether every folder above dir (as resolved) is safe_folder: otherwise
 * someone could swap dir for a link to a folder of theirs between our
 * check and our files. */
static int safe_parents(const char *dir, char *err, size_t errlen)
{
	char *real = realpath(dir, NULL), *slash, what[4200];
	int rc = 0;

	if (!real) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(what, sizeof what, "a folder above %s", dir);
	while (rc == 0 && (slash = strrchr(real, '/'))) {
		if (slash == real)
			slash[1] = '\0';   /* "/" itself */
		else
			*slash = '\0';
		rc = safe_folder(real, what, err, errlen);
		if (slash == real)
			break;
	}
	free(real);
	return rc;
}

/* Whether dir, which exists, is a folder of the user's own that nobody
 * else can write to, under safe folders: 0, or -1 with the reason. */
static int own_folder(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a folder (a symbolic link?)", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %ld, not by this user: "
		         "use a folder of your own", dir, (long)st.st_uid);
		return -1;
	}
	if (st.st_mode & 022) {
		snprintf(err, errlen, "%s: others can write to it (mode %04o): "
		         "chmod go-w it, or use another folder", dir,
		         (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return safe_parents(dir, err, errlen);
}

int fs_private_dir(const char *dir, char *err, size_t errlen)
{
	if (fs_mkdirs(dir) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return own_folder(dir, err, errlen);
}

int fs_private_dir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	char *up;
	int rc;

	if (lstat(dir, &st) == 0)
		return own_folder(dir, err, errlen);
	/* Not there yet: the nearest folder that is must let us make it,
	 * and be safe, with all above it. */
	if (!(up = fs_dirname(dir)))
		return -1;
	while (lstat(up, &st) != 0 && strcmp(up, ".") && strcmp(up, "/")) {
		char *next = fs_dirname(up);

		free(up);
		if (!(up = next))
			return -1;
	}
	if (!S_ISDIR(st.st_mode) || access(up, W_OK | X_OK) != 0) {
		snprintf(err, errlen, "%s: cannot make %s there: %s", up, dir,
		         S_ISDIR(st.st_mode) ? strerror(errno) :
		         "Not a directory");
		rc = -1;
	} else if ((rc = safe_folder(up, "a folder above it", err,
	                             errlen)) == 0) {
		rc = safe_parents(up, err, errlen);
	}
	free(up);
	return rc;
}

int fs_atomic_open(struct fs_atomic *f, const char *path, int mode)
{
	static unsigned serial;
	size_t cap = strlen(path) + 64;
	int fd = -1, e;

	memset(f, 0, sizeof *f);
	f->path = strdup(path);
	f->tmp = malloc(cap);
	if (!f->path || !f->tmp) {
		e = ENOMEM;
		goto fail;
	}
	for (int tries = 0; tries < 100; tries++) {
		snprintf(f->tmp, cap, "%s.tmp.%ld.%u", path, (long)getpid(),
		         serial++);
		fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		          (mode_t)mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	if (!(f->fp = fdopen(fd, "w"))) {
		e = errno;
		close(fd);
		unlink(f->tmp);
		goto fail;
	}
	return 0;
fail:
	free(f->path);
	free(f->tmp);
	memset(f, 0, sizeof *f);
	errno = e;
	return -1;
}

char *fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Syncs the folder holding path, so the rename survives a crash.  Best
 * effort: the rename is already done. */
static void sync_dir(const char *path)
{
	char *dir = fs_dirname(path);
	int fd;

	if (!dir)
		return;
	if ((fd = open(dir, O_RDONLY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int fs_atomic_commit(struct fs_atomic *f, int err)
{
	FILE *fp = f->fp;
	int e = err;

	f->fp = NULL;
	if (!e && (fflush(fp) != 0 || ferror(fp)))
		e = errno ? errno : EIO;
	if (!e && fsync(fileno(fp)) != 0)
		e = errno;
	if (fclose(fp) != 0 && !e)
		e = errno;
	if (!e && f->exclusive) {
		if (link(f->tmp, f->path) != 0)
			e = errno;
		unlink(f->tmp);
	} else if (!e && rename(f->tmp, f->path) != 0) {
		e = errno;
	}
	if (e)
		unlink(f->tmp);
	else
		sync_dir(f->path);
	return e;
}

void fs_atomic_free(struct fs_atomic *f)
{
	if (f->fp) {
		fclose(f->fp);
		f->fp = NULL;
		unlink(f->tmp);
	}
	free(f->path);
	free(f->tmp);
	f->path = NULL;
	f->tmp = NULL;
}

/* The PID holding a flock on dev:ino, from /proc/locks, whose lines read
 * "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (waiters: "1: -> ...").
 * Some file systems (btrfs) show another device there than stat() gives:
 * then the one flock on that inode, if only one, is taken. */
static long lock_pid(dev_t dev, ino_t ino)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256];
	long pid = -1, by_ino = -1;
	int n_ino = 0;

	if (!f)
		return -1;
	while (pid < 0 && fgets(line, sizeof line, f)) {
		char kind[16];
		long p;
		unsigned maj, min;
		unsigned long long node;

		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", kind, &p,
		           &maj, &min, &node) != 5 || strcmp(kind, "FLOCK") != 0 ||
		    node != (unsigned long long)ino)
			continue;
		if (maj == major(dev) && min == minor(dev))
			pid = p;
		else if (n_ino++ == 0)
			by_ino = p;
	}
	fclose(f);
	return pid > 0 ? pid : n_ino == 1 ? by_ino : -1;
}

int fs_lock_holder(const char *path, char *out, size_t outlen)
{
	struct stat st;
	char name[64], cmd[512], line[600];
	long pid;
	size_t n = 0;
	FILE *f;

	if (outlen)
		*out = '\0';
	if (stat(path, &st) != 0 || (pid = lock_pid(st.st_dev, st.st_ino)) <= 0)
		return -1;
	snprintf(name, sizeof name, "/proc/%ld/cmdline", pid);
	if ((f = fopen(name, "re"))) {
		n = fread(cmd, 1, sizeof cmd - 1, f);
		fclose(f);
	}
	while (n > 0 && cmd[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	n = (size_t)snprintf(line, sizeof line, " (pid %ld%s%.*s)", pid,
	                     n ? ": " : "", (int)n, cmd);
	printable(line, n < sizeof line ? n : sizeof line - 1, out, outlen, 0);
	return 0;
}

/*
 * fsutil.h: file-system helpers: folders for journals and reports, and
 * files that appear whole or not at all (the CSV writer's).
 */
#ifndef TCRUN_FSUTIL_H
#define TCRUN_FSUTIL_H

#include <stddef.h>
#include <stdio.h>

/* The folder part of path ("." for a bare name, "/" for "/x"), newly
 * allocated; NULL when out of memory. */
char *fs_dirname(const char *path);

/* Creates dir and its missing parents, each with mode 0700 (they may hold
 * journals and initial passwords).  Returns 0, or -1 with errno set
 * (ENOTDIR when dir or a parent exists and is not a folder). */
int fs_mkdirs(const char *dir);

/* fs_mkdirs, then checks that dir is a folder of the user's own that
 * nobody else can write to (it may hold initial passwords and records
 * whose loss or forgery matters): not a symbolic link, owned by the
 * effective user, not group- or world-writable.  0, or -1 with a one-line
 * reason in err. */
int fs_private_dir(const char *dir, char *err, size_t errlen);

/* Whether fs_private_dir(dir) would succeed, making nothing (a dry run):
 * dir is such a folder already, or the nearest existing folder above it
 * lets the user make it and is safe.  0, or -1 with the reason. */
int fs_private_dir_check(const char *dir, char *err, size_t errlen);

/* Who holds the flock on path, to follow a "held by" message: " (pid N:
 * cmd args)" (the command line cut to fit, made printable), from
 * /proc/locks and /proc/N/cmdline.  0, or -1 when it cannot be told (no
 * /proc, no lock, another PID namespace) and out is "". */
int fs_lock_holder(const char *path, char *out, size_t outlen);

/*
 * A file written under a temporary name next to its path and renamed onto
 * the path only once complete and synced, so nothing half-written ever
 * appears there, whatever happens to the process:
 *
 *   struct fs_atomic f;
 *   if (fs_atomic_open(&f, path, 0600) != 0) ... errno says why
 *   fputs(..., f.fp);
 *   rc = fs_atomic_commit(&f, 0);      0, or an errno: path untouched
 *   fs_atomic_free(&f);
 *
 * fs_atomic_free without a commit discards the file.
 */
struct fs_atomic {
	FILE *fp;       /* the temporary file; NULL once committed or freed */
	char *path;     /* where it goes */
	char *tmp;      /* path.tmp.PID.N */
	int exclusive;  /* commit fails with EEXIST rather than replace */
};

/* Creates the temporary file with O_CREAT|O_EXCL and mode (less the
 * umask), so the mode holds from the first byte.  0, or -1 with errno set
 * and nothing to free. */
int fs_atomic_open(struct fs_atomic *f, const char *path, int mode);

/* Flushes, fsyncs, closes and renames the file onto its path (with
 * f->exclusive set, links it there, failing with EEXIST when the path
 * exists, so nothing is ever replaced), then syncs the folder.  err, when not 0, is an earlier write error: the file is
 * discarded and err returned.  Returns 0 or an errno; the temporary file
 * is gone either way, and f->path stays for the caller's message. */
int fs_atomic_commit(struct fs_atomic *f, int err);

/* Removes the temporary file if still open, and frees the names.
 * Idempotent. */
void fs_atomic_free(struct fs_atomic *f);

#endif

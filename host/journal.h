/*
 * journal.h: an append-only file of JSON lines, one per write call.
 *
 * The file is created with mode 0600 and opened O_APPEND, never through a
 * symbolic link (O_NOFOLLOW); each line is
 * written with one write(2) and then fdatasync'ed, so a run killed at any
 * point leaves every line it finished and no partial line.
 * journal_record formats one write call's line from its parts (the
 * params come already redacted); journal_append stores any line.
 */
#ifndef TCRUN_JOURNAL_H
#define TCRUN_JOURNAL_H

#include <stddef.h>
#include <time.h>

struct journal;
struct json_buf;

/* One write call, as its journal line records it. */
struct journal_entry {
	time_t time;
	const char *service, *action, *region;   /* NULL = "" */
	const char *account, *account_name;      /* NULL: left out */
	const char *note;           /* why, from the script (opts.note); NULL */
	const char *params;         /* JSON text, secrets already redacted */
	const char *request_id;     /* NULL = "" */
	const char *outcome;        /* "ok", "error" or "interrupted" */
	const char *code, *message; /* with "error" only; else NULL */
	int attempts;
};

/* Opens (creating parent folders when mkdirs, which must then be the
 * user's own: fs_private_dir) or returns NULL with a reason in err. */
struct journal *journal_open(const char *path, int mkdirs, char *err,
                             size_t errlen);
/* Appends line and a newline; 0 or -1 (errno set). */
int journal_append(struct journal *j, const char *line, size_t len);
/* Whether the journal at path could be opened for writing (the file
 * writable, or made in its folder), so a run refuses at the start rather
 * than at its first write.  0, or -1 with a reason. */
int journal_check(const char *path, char *err, size_t errlen);

/* Appends e's line: {"time", "service", "action", "region"[, "account",
 * "account_name"][, "note"], "params",
 * "request_id", "outcome"[, "code", "message"], "attempts"}.  0 or -1. */
int journal_record(struct journal *j, const struct journal_entry *e);
/* The line journal_record writes, appended to out; 0 or -1 (memory). */
int journal_format(const struct journal_entry *e, struct json_buf *out);
/* Takes an exclusive lock on the file for as long as it is open, so a
 * second run cannot write it at the same time; 0, or -1 with errno
 * (EWOULDBLOCK when another process holds it). */
int journal_lock(struct journal *j);
const char *journal_path(const struct journal *j);
void journal_close(struct journal *j);

/* The default journal for a script run now: under $TCRUN_JOURNAL_DIR, else
 * the state folder's journal/ (paths.h); named
 * SCRIPT-YYYYMMDDTHHMMSSZ-PID.jsonl.  Returns 0 or -1. */
int journal_default_path(const char *script, char *out, size_t outlen);

#endif

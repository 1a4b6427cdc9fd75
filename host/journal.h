/*
 * journal.h: an append-only file of JSON lines, one per write call.
 *
 * The file is created with mode 0600 and opened O_APPEND; each line is
 * written with one write(2) and then fdatasync'ed, so a run killed at any
 * point leaves every line it finished and no partial line.  The caller
 * builds the lines (already redacted); this unit only stores them.
 */
#ifndef TCRUN_JOURNAL_H
#define TCRUN_JOURNAL_H

#include <stddef.h>

struct journal;

/* Opens (creating parent folders when mkdirs) or returns NULL with a
 * reason in err. */
struct journal *journal_open(const char *path, int mkdirs, char *err,
                             size_t errlen);
/* Appends line and a newline; 0 or -1 (errno set). */
int journal_append(struct journal *j, const char *line, size_t len);
const char *journal_path(const struct journal *j);
void journal_close(struct journal *j);

/* The default journal for a script run now: under $TCRUN_JOURNAL_DIR, else
 * $XDG_STATE_HOME/tcrun/journal, else ~/.local/state/tcrun/journal; named
 * SCRIPT-YYYYMMDDTHHMMSSZ-PID.jsonl.  Returns 0 or -1. */
int journal_default_path(const char *script, char *out, size_t outlen);

#endif

/*
 * printable.h: text made safe for a terminal or a log.  Whatever an API
 * answer, a server's output, a roster or a unit file holds, once through
 * here it cannot move the cursor, clear the screen, recolour, reorder
 * (bidirectional overrides) or forge a line of tcrun's own output.
 */
#ifndef TCRUN_PRINTABLE_H
#define TCRUN_PRINTABLE_H

#include <stddef.h>

/* Writes s (len bytes) to out (cap bytes, NUL-ended, cut short if need
 * be) with: C0 controls and DEL as \xNN; C1 controls, format characters
 * (bidirectional controls, zero-width characters, tags), line and
 * paragraph separators and the other default-ignorable characters as
 * \u{XXXX} (printable.c lists them); bytes that are not UTF-8 as \xNN.  With lines, a newline stays a newline
 * followed by two spaces (so no line it starts can pass for one of
 * tcrun's), and a tab stays.  Idempotent: backslashes are kept as they
 * are.  Returns the length written. */
size_t printable(const char *s, size_t len, char *out, size_t cap, int lines);

#endif

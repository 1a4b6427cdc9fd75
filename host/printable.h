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
 * be) with: C0 controls and DEL as \xNN; C1 controls (U+0080-U+009F) and
 * the invisible format and bidirectional controls (U+061C, U+200B-U+200F,
 * U+202A-U+202E, U+2060-U+2064, U+2066-U+2069, U+FEFF) as \u{XXXX}; bytes
 * that are not UTF-8 as \xNN.  With lines, a newline stays a newline
 * followed by two spaces (so no line it starts can pass for one of
 * tcrun's), and a tab stays.  Idempotent: backslashes are kept as they
 * are.  Returns the length written. */
size_t printable(const char *s, size_t len, char *out, size_t cap, int lines);

#endif

/*
 * msg.h: the one-line messages tcrun prints to stderr.
 *
 * Every line starts with "tcrun: ".  Errors and warnings always print;
 * info lines print at verbosity >= 1 (default), debug lines at >= 2 (-v).
 * -q sets 0, which silences info but never errors or warnings.
 * Control and invisible characters are escaped (printable.h), newlines
 * too: one message is one line.  msg_block keeps newlines, indenting the
 * lines after the first, for an error and its traceback.
 * Callers must never pass a secret: nothing here redacts.
 */
#ifndef TCRUN_MSG_H
#define TCRUN_MSG_H

extern int msg_verbosity;

void msg_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void msg_debug(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void msg_block(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif

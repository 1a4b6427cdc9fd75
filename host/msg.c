/*
 * msg.c: stderr printers, one line each, "tcrun: " prefix, made
 * terminal-safe (printable.c): what an API, a server or a roster put in a
 * message can neither drive the terminal nor forge a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "printable.h"

int msg_verbosity = 1;

/* On a terminal, a message first clears the line it lands on: a progress
 * bar (redrawn in place by the recipes) would otherwise run into it. */
static const char *clear_line(void)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(2);
	return tty ? "\r\033[K" : "";
}

__attribute__((format(printf, 3, 0)))
static void emit_lines(const char *kind, int lines, const char *fmt,
                       va_list ap)
{
	char line[4096], *safe;
	size_t cap;

	vsnprintf(line, sizeof line, fmt, ap);
	cap = strlen(line) * 8 + 1;   /* \u{XXXX} for 3 bytes is the worst */
	if (!(safe = malloc(cap))) {
		fprintf(stderr, "%stcrun: %s(message lost: out of memory)\n",
		        clear_line(), kind);
		return;
	}
	printable(line, strlen(line), safe, cap, lines);
	fprintf(stderr, "%stcrun: %s%s\n", clear_line(), kind, safe);
	free(safe);
}

__attribute__((format(printf, 2, 0)))
static void emit(const char *kind, const char *fmt, va_list ap)
{
	emit_lines(kind, 0, fmt, ap);
}

void msg_block(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_lines("", 1, fmt, ap);
	va_end(ap);
}

void msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("warning: ", fmt, ap);
	va_end(ap);
}

void msg_info(const char *fmt, ...)
{
	va_list ap;

	if (msg_verbosity < 1)
		return;
	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

void msg_debug(const char *fmt, ...)
{
	va_list ap;

	if (msg_verbosity < 2)
		return;
	va_start(ap, fmt);
	emit("debug: ", fmt, ap);
	va_end(ap);
}

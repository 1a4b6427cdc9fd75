/*
 * tap.h: the Test Anything Protocol for the C unit tests (header only).
 * ok(cond, fmt, ...) prints one result; is_str/is_int show both values on
 * failure; tap_done() prints the plan and returns the exit status.
 */
#ifndef TCRUN_TAP_H
#define TCRUN_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

__attribute__((format(printf, 2, 3)))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	return cond;
}

#define is_str(got, want, ...) \
	(ok(strcmp((got), (want)) == 0, __VA_ARGS__) ? 1 : \
	 (printf("#   got:  '%s'\n#   want: '%s'\n", (got), (want)), 0))

#define is_int(got, want, ...) \
	(ok((long long)(got) == (long long)(want), __VA_ARGS__) ? 1 : \
	 (printf("#   got:  %lld\n#   want: %lld\n", (long long)(got), \
	         (long long)(want)), 0))

static int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif

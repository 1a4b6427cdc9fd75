/*
 * utf8.h: the one UTF-8 validator, for the JSON reader and writer and the
 * CSV reader and writer.  Well-formed means RFC 3629: no overlong forms,
 * no surrogates, nothing past U+10FFFF, no truncated sequence.
 */
#ifndef TCRUN_UTF8_H
#define TCRUN_UTF8_H

#include <stddef.h>

/* Length (1-4) of the well-formed sequence at s, with n > 0 bytes left;
 * 0 when it is not well-formed. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* Whether all len bytes of s are well-formed UTF-8 (NUL bytes allowed). */
int utf8_valid(const char *s, size_t len);

#endif

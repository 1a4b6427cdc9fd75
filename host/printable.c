/*
 * printable.c: terminal-safe text (see printable.h).  Plain C.
 */
#include <stdio.h>
#include <string.h>

#include "printable.h"
#include "utf8.h"

/* Whether code point cp is one of the invisible or reordering format
 * characters shown escaped. */
static int hidden(unsigned long cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c ||
	       (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2064) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static unsigned long decode(const unsigned char *s, size_t n)
{
	static const unsigned char mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned long cp = s[0] & mask[n];

	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

size_t printable(const char *s, size_t len, char *out, size_t cap, int lines)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;

	if (cap == 0)
		return 0;
	while (i < len) {
		char esc[16];
		const char *piece = esc;
		size_t n = 1, plen;

		if (u[i] == '\n' && lines) {
			piece = "\n  ";
		} else if (u[i] == '\t' && lines) {
			piece = "\t";
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", u[i]);
		} else if (u[i] < 0x80) {
			esc[0] = (char)u[i];
			esc[1] = '\0';
		} else if (!(n = utf8_seq(u + i, len - i))) {
			snprintf(esc, sizeof esc, "\\x%02x", u[i]);
			n = 1;
		} else if (hidden(decode(u + i, n))) {
			snprintf(esc, sizeof esc, "\\u{%04lX}", decode(u + i, n));
		} else {
			memcpy(esc, s + i, n);
			esc[n] = '\0';
		}
		plen = strlen(piece);
		if (o + plen >= cap)
			break;
		memcpy(out + o, piece, plen);
		o += plen;
		i += n;
	}
	out[o] = '\0';
	return o;
}

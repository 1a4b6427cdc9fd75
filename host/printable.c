/*
 * printable.c: terminal-safe text (see printable.h).  Plain C.
 */
#include <stdio.h>
#include <string.h>

#include "printable.h"
#include "utf8.h"

/* Code points shown escaped: C1 controls, the format characters (Unicode
 * category Cf: bidirectional controls, zero-width characters, tags), the
 * line and paragraph separators (Zl, Zp), and the other characters Unicode
 * says to ignore by default (fillers such as U+3164, musical formatting
 * U+1D173..).  Generated from Python's unicodedata (Unicode 14) plus
 * DerivedCoreProperties' Default_Ignorable_Code_Point; the variation
 * selectors U+FE00..FE0F stay (emoji need them). */
static const struct { unsigned long lo, hi; } hidden_ranges[] = {
	{ 0x0080, 0x009F }, { 0x00AD, 0x00AD }, { 0x034F, 0x034F },
	{ 0x0600, 0x0605 }, { 0x061C, 0x061C }, { 0x06DD, 0x06DD },
	{ 0x070F, 0x070F }, { 0x0890, 0x0891 }, { 0x08E2, 0x08E2 },
	{ 0x115F, 0x1160 }, { 0x17B4, 0x17B5 }, { 0x180B, 0x180F },
	{ 0x200B, 0x200F }, { 0x2028, 0x202E }, { 0x2060, 0x206F },
	{ 0x3164, 0x3164 }, { 0xFEFF, 0xFEFF }, { 0xFFA0, 0xFFA0 },
	{ 0xFFF0, 0xFFFB }, { 0x110BD, 0x110BD }, { 0x110CD, 0x110CD },
	{ 0x13430, 0x13438 }, { 0x1BCA0, 0x1BCA3 }, { 0x1D173, 0x1D17A },
	{ 0xE0000, 0xE0FFF },
};

static int hidden(unsigned long cp)
{
	for (size_t i = 0; i < sizeof hidden_ranges / sizeof hidden_ranges[0];
	     i++)
		if (cp >= hidden_ranges[i].lo && cp <= hidden_ranges[i].hi)
			return 1;
	return 0;
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

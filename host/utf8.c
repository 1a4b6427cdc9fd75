/*
 * utf8.c: UTF-8 validation (see utf8.h).
 */
#include "utf8.h"

size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (n < 2 || (s[1] & 0xc0) != 0x80)
		return 0;
	if (c < 0xe0)
		return 2;
	if (n < 3 || (s[2] & 0xc0) != 0x80)
		return 0;
	/* E0 needs A0..BF next (no overlong), ED 80..9F (no surrogate) */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
		return 0;
	if (c < 0xf0)
		return 3;
	if (n < 4 || (s[3] & 0xc0) != 0x80)
		return 0;
	/* F0 needs 90..BF next (no overlong), F4 80..8F (<= U+10FFFF) */
	if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
		return 0;
	return 4;
}

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if (!(n = utf8_seq(u + i, len - i)))
			return 0;
		i += n;
	}
	return 1;
}

/*
 * json.c: the JSON reader and writer declared in json.h, in plain C.
 *
 * Does: parse RFC 8259 text into a tree (integers that fit int64 stay
 * exact, other numbers go through strtod), check UTF-8 and decode \u
 * escapes including surrogate pairs, report the first error with its line
 * and byte column; append JSON text to a growable buffer the way
 * JavaScript's JSON.stringify writes it.
 *
 * Does not: touch Lua, files or the environment; keep duplicate keys apart
 * (json_get returns the last one, as Lua decoding does); recurse deeper than
 * JSON_MAX_DEPTH containers, or keep more than JSON_MAX_VALUES values.
 *
 * Allocation: one block per string and one growing array per container,
 * never one per character.  strtod and snprintf follow LC_NUMERIC, so
 * numbers are translated to and from the locale's decimal point.
 */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

struct parser {
	const char *text;
	size_t len, pos;
	char *err;
	size_t errlen;
	size_t values;          /* parsed so far, against JSON_MAX_VALUES */
};

static char decpoint(void)
{
	const char *p = localeconv()->decimal_point;

	return p && p[0] ? p[0] : '.';
}

/* Records msg at p->pos as "line L, column C: msg"; returns -1.  At the end
 * of the text every error is "unexpected end of input". */
static int fail(struct parser *p, const char *msg)
{
	size_t line = 1, col = 1, i;

	for (i = 0; i < p->pos && i < p->len; i++) {
		if (p->text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	if (p->pos >= p->len)
		msg = "unexpected end of input";
	if (p->errlen)
		snprintf(p->err, p->errlen, "line %zu, column %zu: %s",
		         line, col, msg);
	return -1;
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->text[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static long hex4(const char *s)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX at p->pos (on the backslash), with a following low surrogate when
 * the first is a high one.  Writes UTF-8 to o; returns its length or 0. */
static size_t parse_u(struct parser *p, char *o)
{
	const char *t = p->text;
	size_t at = p->pos;
	long cp, lo;

	if (p->len - at < 6 || (cp = hex4(t + at + 2)) < 0) {
		fail(p, "invalid \\u escape");
		return 0;
	}
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		fail(p, "lone surrogate in \\u escape");
		return 0;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->len - at < 12 || t[at + 6] != '\\' ||
		    t[at + 7] != 'u' || (lo = hex4(t + at + 8)) < 0xdc00 ||
		    lo > 0xdfff) {
			fail(p, "lone surrogate in \\u escape");
			return 0;
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p->pos += 6;
	}
	p->pos += 6;
	return put_utf8(o, (unsigned long)cp);
}

/* The string whose opening quote is at p->pos, into a new NUL-ended block.
 * Escapes only shrink text, so the raw span bounds the decoded length. */
static int parse_string(struct parser *p, char **out, size_t *outlen)
{
	const char *t = p->text;
	size_t end = ++p->pos, o = 0, n;
	char *buf;

	while (end < p->len && t[end] != '"')
		end += t[end] == '\\' ? 2 : 1;
	if (end > p->len)
		end = p->len;
	if (!(buf = malloc(end - p->pos + 1)))
		return fail(p, "out of memory");
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len)
			goto bad;
		c = (unsigned char)t[p->pos];
		if (c == '"')
			break;
		if (c < 0x20) {
			fail(p, "control character in string");
			goto out;
		}
		if (c >= 0x80) {
			n = utf8_seq((const unsigned char *)t + p->pos,
			             p->len - p->pos);
			if (!n) {
				fail(p, "invalid UTF-8 in string");
				goto out;
			}
			memcpy(buf + o, t + p->pos, n);
			o += n;
			p->pos += n;
			continue;
		}
		if (c != '\\') {
			buf[o++] = (char)c;
			p->pos++;
			continue;
		}
		if (p->pos + 1 >= p->len)
			goto bad;
		switch (t[p->pos + 1]) {
		case '"': c = '"'; break;
		case '\\': c = '\\'; break;
		case '/': c = '/'; break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (!(n = parse_u(p, buf + o)))
				goto out;
			o += n;
			continue;
		default:
			fail(p, "invalid escape in string");
			goto out;
		}
		buf[o++] = (char)c;
		p->pos += 2;
	}
	p->pos++;
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
bad:
	fail(p, "unterminated string");
out:
	free(buf);
	return -1;
}

static int digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Integer literals that fit int64 become JSON_INT; anything else goes
 * through strtod on a NUL-ended copy in the locale's decimal point. */
static int parse_number(struct parser *p, struct json_value *v)
{
	const char *t = p->text;
	size_t start = p->pos, n;
	int neg = 0, isreal = 0;
	unsigned long long u = 0, lim;
	char small[64], *copy, *dot;

	if (peek(p) == '-') {
		neg = 1;
		p->pos++;
	}
	lim = neg ? 9223372036854775808ULL : 9223372036854775807ULL;
	if (!digit(peek(p)))
		return fail(p, "invalid number");
	if (peek(p) == '0') {
		p->pos++;
		if (digit(peek(p)))
			return fail(p, "leading zero in number");
	}
	while (digit(peek(p))) {
		unsigned d = (unsigned)(t[p->pos++] - '0');

		if (u > (lim - d) / 10)
			isreal = 1;
		else
			u = u * 10 + d;
	}
	if (peek(p) == '.') {
		isreal = 1;
		p->pos++;
		if (!digit(peek(p)))
			return fail(p, "expected digit after '.'");
		while (digit(peek(p)))
			p->pos++;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		isreal = 1;
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!digit(peek(p)))
			return fail(p, "expected digit in exponent");
		while (digit(peek(p)))
			p->pos++;
	}
	if (!isreal) {
		v->type = JSON_INT;
		v->u.i = neg ? (u ? -(int64_t)(u - 1) - 1 : 0) : (int64_t)u;
		return 0;
	}
	n = p->pos - start;
	copy = n < sizeof small ? small : malloc(n + 1);
	if (!copy)
		return fail(p, "out of memory");
	memcpy(copy, t + start, n);
	copy[n] = '\0';
	if ((dot = strchr(copy, '.')))
		*dot = decpoint();
	v->type = JSON_REAL;
	v->u.d = strtod(copy, NULL);
	if (copy != small)
		free(copy);
	return 0;
}

static int literal(struct parser *p, struct json_value *v, const char *word,
                   enum json_type type)
{
	for (; *word; word++, p->pos++)
		if (peek(p) != *word)
			return fail(p, "expected value");
	v->type = type;
	return 0;
}

static void free_contents(struct json_value *v)
{
	size_t i;

	switch (v->type) {
	case JSON_STRING:
		/* Answers hold secrets (SecretAccessKey, Token, Password):
		 * none outlives its tree in freed memory. */
		explicit_bzero(v->u.str.s, v->u.str.len);
		free(v->u.str.s);
		break;
	case JSON_OBJECT:
		for (i = 0; i < v->u.c.n; i++)
			free(v->u.c.keys[i]);
		free(v->u.c.keys);
		free(v->u.c.keylens);
		/* fall through */
	case JSON_ARRAY:
		for (i = 0; i < v->u.c.n; i++)
			free_contents(&v->u.c.items[i]);
		free(v->u.c.items);
		break;
	default:
		break;
	}
	v->type = JSON_NULL;
}

/* Room for one more member of container v; cap is kept by the caller. */
static int grow(struct json_value *v, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 4;
	struct json_value *items;

	if (v->u.c.n < *cap)
		return 0;
	if (ncap > (size_t)-1 / sizeof *items)
		return -1;
	if (!(items = realloc(v->u.c.items, ncap * sizeof *items)))
		return -1;
	v->u.c.items = items;
	if (v->type == JSON_OBJECT) {
		char **keys = realloc(v->u.c.keys, ncap * sizeof *keys);
		size_t *lens;

		if (!keys)
			return -1;
		v->u.c.keys = keys;
		if (!(lens = realloc(v->u.c.keylens, ncap * sizeof *lens)))
			return -1;
		v->u.c.keylens = lens;
	}
	*cap = ncap;
	return 0;
}

static int parse_value(struct parser *p, struct json_value *v, int depth);

/* Array or object at p->pos.  On failure v is emptied. */
static int parse_container(struct parser *p, struct json_value *v,
                           int depth)
{
	int obj = p->text[p->pos] == '{';
	char close = obj ? '}' : ']';
	size_t cap = 0;

	memset(v, 0, sizeof *v);
	v->type = obj ? JSON_OBJECT : JSON_ARRAY;
	if (depth > JSON_MAX_DEPTH)
		return fail(p, "nesting deeper than 512");
	p->pos++;
	skip_ws(p);
	if (peek(p) == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct json_value *item;

		if (grow(v, &cap) != 0) {
			fail(p, "out of memory");
			goto bad;
		}
		item = &v->u.c.items[v->u.c.n];
		if (obj) {
			char **key = &v->u.c.keys[v->u.c.n];

			if (peek(p) != '"') {
				fail(p, "expected string key");
				goto bad;
			}
			if (parse_string(p, key, &v->u.c.keylens[v->u.c.n]))
				goto bad;
			skip_ws(p);
			if (peek(p) != ':') {
				free(*key);
				fail(p, "expected ':'");
				goto bad;
			}
			p->pos++;
			if (parse_value(p, item, depth + 1) != 0) {
				free(*key);
				goto bad;
			}
		} else if (parse_value(p, item, depth + 1) != 0) {
			goto bad;
		}
		v->u.c.n++;
		skip_ws(p);
		if (peek(p) == close) {
			p->pos++;
			return 0;
		}
		if (peek(p) != ',') {
			fail(p, obj ? "expected ',' or '}'"
			            : "expected ',' or ']'");
			goto bad;
		}
		p->pos++;
		skip_ws(p);
		if (peek(p) == close) {
			fail(p, "trailing comma");
			goto bad;
		}
	}
bad:
	free_contents(v);
	return -1;
}

/* One value after optional whitespace.  On failure v holds nothing. */
static int parse_value(struct parser *p, struct json_value *v, int depth)
{
	skip_ws(p);
	v->type = JSON_NULL;
	/* Each value costs some 50 bytes as a tree: a hostile answer of
	 * [0,0,...] must not turn 64 MiB of text into gigabytes. */
	if (++p->values > JSON_MAX_VALUES)
		return fail(p, "more than " JSON_MAX_VALUES_TEXT " values");
	switch (peek(p)) {
	case '{':
	case '[':
		return parse_container(p, v, depth);
	case '"':
		if (parse_string(p, &v->u.str.s, &v->u.str.len) != 0)
			return -1;
		v->type = JSON_STRING;
		return 0;
	case 't':
		return literal(p, v, "true", JSON_TRUE);
	case 'f':
		return literal(p, v, "false", JSON_FALSE);
	case 'n':
		return literal(p, v, "null", JSON_NULL);
	default:
		if (peek(p) == '-' || digit(peek(p)))
			return parse_number(p, v);
		return fail(p, "expected value");
	}
}

struct json_value *json_parse(const char *text, size_t len,
                              char *err, size_t errlen)
{
	struct parser p = { text, len, 0, err, errlen, 0 };
	struct json_value *v = malloc(sizeof *v);

	if (errlen)
		err[0] = '\0';
	if (!v) {
		fail(&p, "out of memory");
		return NULL;
	}
	if (parse_value(&p, v, 1) != 0) {
		free(v);
		return NULL;
	}
	skip_ws(&p);
	if (p.pos < len) {
		fail(&p, "unexpected text after the value");
		json_free(v);
		return NULL;
	}
	return v;
}

void json_free(struct json_value *v)
{
	if (v) {
		free_contents(v);
		free(v);
	}
}

const struct json_value *json_get(const struct json_value *v,
                                  const char *key)
{
	size_t len, i;

	if (!v || v->type != JSON_OBJECT)
		return NULL;
	len = strlen(key);
	for (i = v->u.c.n; i-- > 0;)
		if (v->u.c.keylens[i] == len &&
		    memcmp(v->u.c.keys[i], key, len) == 0)
			return &v->u.c.items[i];
	return NULL;
}

/* Writer */

void json_buf_free(struct json_buf *b)
{
	if (b->str)
		explicit_bzero(b->str, b->len);   /* request bodies hold secrets */
	free(b->str);
	b->str = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

int json_put_raw(struct json_buf *b, const char *s, size_t len)
{
	if (b->oom)
		return -1;
	if (len >= b->cap - b->len || !b->str) {
		size_t cap = b->cap ? b->cap : 256;
		char *n;

		while (cap - b->len <= len) {
			if (cap > (size_t)-1 / 2) {
				b->oom = 1;
				return -1;
			}
			cap *= 2;
		}
		/* Not realloc: the old block may hold a secret (a request
		 * body), so it is wiped before it goes back. */
		if (!(n = malloc(cap))) {
			b->oom = 1;
			return -1;
		}
		if (b->str) {
			memcpy(n, b->str, b->len + 1);
			explicit_bzero(b->str, b->len);
			free(b->str);
		}
		b->str = n;
		b->cap = cap;
	}
	if (len)
		memcpy(b->str + b->len, s, len);
	b->len += len;
	b->str[b->len] = '\0';
	return 0;
}

int json_put_string(struct json_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run;

	if (json_put_raw(b, "\"", 1))
		return -1;
	while (i < len) {
		unsigned char c;
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
		size_t n = 2;

		for (run = i; i < len; i++) {
			c = (unsigned char)s[i];
			if (c < 0x20 || c == '"' || c == '\\')
				break;
		}
		if (json_put_raw(b, s + run, i - run))
			return -1;
		if (i == len)
			break;
		c = (unsigned char)s[i++];
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		if (json_put_raw(b, esc, n))
			return -1;
	}
	return json_put_raw(b, "\"", 1);
}

int json_put_int(struct json_buf *b, int64_t i)
{
	char tmp[24], *p = tmp + sizeof tmp;
	uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (i < 0)
		*--p = '-';
	return json_put_raw(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* The shortest of %.14e, %.15e, %.16e (15 to 17 digits; subnormals may
 * need fewer) that reads back as d, laid out as JavaScript's
 * Number.prototype.toString does: plain digits while the decimal exponent
 * is in [-7, 21), else d.ddde+X.  -0 is written "0", as JavaScript does. */
int json_put_real(struct json_buf *b, double d)
{
	char tmp[40], digits[20], out[48], *s;
	int prec, k = 0, n, i, o = 0;

	if (!isfinite(d))
		return -1;
	if (d == 0)
		return json_put_raw(b, "0", 1);
	/* Subnormals have fewer digits of precision: start the search lower. */
	for (prec = fabs(d) < DBL_MIN ? 0 : 14;; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec, d);
		if (prec == 16 || strtod(tmp, NULL) == d)
			break;
	}
	s = tmp;
	if (*s == '-')
		out[o++] = *s++;
	/* s: D[<decimal point>DDD]e(+|-)XX */
	digits[k++] = *s++;
	while (*s && *s != 'e' && !digit(*s))
		s++;
	while (digit(*s))
		digits[k++] = *s++;
	n = atoi(s + 1) + 1;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	if (k <= n && n <= 21) {
		memcpy(out + o, digits, (size_t)k);
		o += k;
		for (i = k; i < n; i++)
			out[o++] = '0';
	} else if (0 < n && n <= 21) {
		memcpy(out + o, digits, (size_t)n);
		o += n;
		out[o++] = '.';
		memcpy(out + o, digits + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (i = n; i < 0; i++)
			out[o++] = '0';
		memcpy(out + o, digits, (size_t)k);
		o += k;
	} else {
		out[o++] = digits[0];
		if (k > 1) {
			out[o++] = '.';
			memcpy(out + o, digits + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += snprintf(out + o, sizeof out - (size_t)o, "e%c%d",
		              n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	return json_put_raw(b, out, (size_t)o);
}

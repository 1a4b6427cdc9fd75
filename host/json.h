/*
 * json.h: a small JSON reader and writer in plain C (no Lua), exact for
 * integers.
 *
 * Tencent Cloud UINs, policy ids and similar identifiers are JSON integers
 * of up to 19 digits; a double cannot hold them.  json_parse keeps every
 * integer literal that fits int64 as an int64 and only turns other numbers
 * into doubles.  The tree it builds is used by creds.c (tccli files) and by
 * ljson.c, which converts it into Lua values.
 *
 * Does not: stream, keep comments, accept anything RFC 8259 rejects
 * (trailing commas, NaN, single quotes, unescaped control characters,
 * invalid UTF-8).
 */
#ifndef TCRUN_JSON_H
#define TCRUN_JSON_H

#include <stddef.h>
#include <stdint.h>

enum json_type {
	JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_INT, JSON_REAL,
	JSON_STRING, JSON_ARRAY, JSON_OBJECT
};

struct json_value {
	enum json_type type;
	union {
		int64_t i;                     /* JSON_INT */
		double d;                      /* JSON_REAL */
		struct { char *s; size_t len; } str;   /* JSON_STRING, NUL-ended */
		struct {                       /* JSON_ARRAY, JSON_OBJECT */
			struct json_value *items;  /* n values */
			char **keys;               /* n NUL-ended keys (objects) */
			size_t *keylens;           /* their lengths (objects) */
			size_t n;
		} c;
	} u;
};

/* Containers nested deeper than this are rejected by the reader (and by
 * ljson's encoder, which is how it stops on cycles). */
#define JSON_MAX_DEPTH 512
/* Values in one document at most (the largest API page holds some 50,000;
 * a million is about 60 MB as a tree). */
#define JSON_MAX_VALUES 1000000
#define JSON_MAX_VALUES_TEXT "1000000"

/* Parses len bytes.  Returns a tree the caller frees with json_free, or
 * NULL with a one-line reason ("line 3, column 7: expected ':'") written to
 * err (errlen bytes, always NUL-ended).  Depth is limited to 512.  Columns
 * count bytes.  Duplicate keys are all kept; json_get finds the last. */
struct json_value *json_parse(const char *text, size_t len,
                              char *err, size_t errlen);
void json_free(struct json_value *v);

/* The member named key of an object (the last one when the key repeats),
 * or NULL (also when v is no object). */
const struct json_value *json_get(const struct json_value *v, const char *key);

/* Growable output buffer for the writer; str is NUL-ended, NULL until used. */
struct json_buf { char *str; size_t len, cap; int oom; };
void json_buf_free(struct json_buf *b);

/* Append pieces of JSON text.  Strings are written the way JavaScript's
 * JSON.stringify writes them (the official SDK's body): '"', '\\' and control
 * characters escaped (\b \f \n \r \t, others as \u00XX), everything else,
 * UTF-8 included, as is.  Doubles are written with the fewest digits that
 * read back exactly, integral doubles with ".0" dropped as JavaScript does.
 * Each returns 0, or -1 when memory ran out (b->oom is then set). */
int json_put_raw(struct json_buf *b, const char *s, size_t len);
int json_put_string(struct json_buf *b, const char *s, size_t len);
int json_put_int(struct json_buf *b, int64_t i);
int json_put_real(struct json_buf *b, double d);   /* -1 for NaN and inf */

#endif

/*
 * lcsvread.c: csv.open, the streaming CSV reader of the tcrun.csv module
 * (see lcsv.h), over libcsv.
 *
 * csv.open(path) reads the file in 64 KiB chunks and feeds libcsv (strict
 * mode) one physical line at a time, stopping as soon as a record is
 * complete, so memory stays flat whatever the file size and every record
 * knows the line it starts on (newlines inside quoted fields are counted;
 * LF, CRLF and lone CR all end a line).  The first record is the header:
 * names trimmed of spaces and tabs, none empty, none repeated.  Later
 * records become tables keyed by column name, every value a string.
 * Unquoted fields lose surrounding spaces and tabs (libcsv does that);
 * quoted fields are returned exactly.  Blank lines are not records.  A bad
 * record (ragged, invalid UTF-8, stray quote, unterminated quote) yields
 * false, "path:LINE: message"; after a quote error the rest of that line is
 * skipped, and the next call goes on with the following line.
 * reader:next(t) sets the header's columns in t, a table the caller reuses
 * for every record (no garbage per row), and leaves its other keys alone.
 *
 * Does not: convert values (all strings, "" when empty), keep rows, or
 * read delimiters other than comma or encodings other than UTF-8.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>
#include <lauxlib.h>
#include <lua.h>

#include "lcsv.h"
#include "utf8.h"

#define CHUNK (64 * 1024)

/* Everything a reader owns; all of it is released by reader_release. */
struct reader {
	FILE *fp;               /* NULL once closed */
	char *path;
	unsigned char *buf;     /* CHUNK bytes of the file */
	size_t len, pos;        /* bytes in buf, bytes consumed */
	struct csv_parser p;
	int parser_live;        /* p needs csv_free */
	char *fbuf;             /* fields of the current record, back to back */
	size_t flen, fcap;
	size_t *off;            /* start of each field in fbuf */
	size_t nf, offcap;
	int ncols;              /* header width, 0 while reading the header */
	lua_Integer line;       /* physical line of the next byte */
	lua_Integer rec_line;   /* line the current record started on */
	unsigned in_record:1;   /* libcsv is inside a record */
	unsigned done:1;        /* libcsv completed a record */
	unsigned oom:1;         /* a callback could not grow a buffer */
	unsigned prev_cr:1;     /* last line ended in CR (a CRLF pair?) */
	unsigned skipping:1;    /* after a quote error: skip to end of line */
	unsigned eof:1, finished:1, bom_checked:1;
};

enum { REC_ROW, REC_BAD, REC_EOF, REC_FAIL };

static void reader_release(struct reader *r)
{
	if (r->fp) {
		fclose(r->fp);
		r->fp = NULL;
	}
	if (r->parser_live) {
		csv_free(&r->p);
		r->parser_live = 0;
	}
	free(r->path);
	free(r->buf);
	free(r->fbuf);
	free(r->off);
	r->path = NULL;
	r->buf = NULL;
	r->fbuf = NULL;
	r->off = NULL;
}

/* Raises if the reader at idx is closed. */
static struct reader *check_reader(lua_State *L, int idx)
{
	struct reader *r = luaL_checkudata(L, idx, LCSV_READER_MT);

	if (!r->fp)
		luaL_error(L, "attempt to use a closed csv reader");
	return r;
}

/* libcsv field callback: append to fbuf.  Must not raise. */
static void on_field(void *s, size_t len, void *data)
{
	struct reader *r = data;

	if (r->oom)
		return;
	if (r->nf == r->offcap) {
		size_t cap = r->offcap ? r->offcap * 2 : 16;
		size_t *o = realloc(r->off, cap * sizeof *o);

		if (!o) {
			r->oom = 1;
			return;
		}
		r->off = o;
		r->offcap = cap;
	}
	if (len > r->fcap - r->flen) {
		size_t cap = r->fcap ? r->fcap : 256;
		char *b;

		while (cap - r->flen < len)
			cap *= 2;
		if (!(b = realloc(r->fbuf, cap))) {
			r->oom = 1;
			return;
		}
		r->fbuf = b;
		r->fcap = cap;
	}
	r->off[r->nf++] = r->flen;
	if (len) {
		memcpy(r->fbuf + r->flen, s, len);
		r->flen += len;
	}
}

/* libcsv record callback.  Must not raise. */
static void on_record(int c, void *data)
{
	struct reader *r = data;

	(void)c;
	r->done = 1;
	r->in_record = 0;
}

static void field(const struct reader *r, size_t i, const char **s,
                  size_t *len)
{
	size_t end = i + 1 < r->nf ? r->off[i + 1] : r->flen;

	/* Only empty fields so far: no buffer yet (NULL + 0 is undefined). */
	*s = r->fbuf ? r->fbuf + r->off[i] : "";
	*len = end - r->off[i];
}

/* Pushes "path:LINE: message" for the current record; returns REC_BAD. */
static int bad(lua_State *L, const struct reader *r, const char *fmt, ...)
{
	va_list ap;

	lua_pushfstring(L, "%s:%I: ", r->path, r->rec_line);
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	lua_concat(L, 2);
	return REC_BAD;
}

/* Refills buf.  Pushes "path: reason" and returns -1 on a read error. */
static int fill(lua_State *L, struct reader *r)
{
	size_t n = fread(r->buf, 1, CHUNK, r->fp);

	if (n == 0) {
		if (ferror(r->fp)) {
			lua_pushfstring(L, "%s: %s", r->path, strerror(errno));
			return -1;
		}
		r->eof = 1;
	}
	r->len = n;
	r->pos = 0;
	if (!r->bom_checked && n > 0) {
		r->bom_checked = 1;
		if (n >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
			r->pos = 3;
	}
	return 0;
}

/* Length of the line segment at s: up to and including the first CR/LF. */
static size_t segment(const unsigned char *s, size_t avail)
{
	size_t i;

	for (i = 0; i < avail; i++)
		if (s[i] == '\r' || s[i] == '\n')
			return i + 1;
	return avail;
}

static int blank(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/*
 * Advances the line counter past a segment.  A CR ends a line, and so
 * does an LF unless it is the byte right after a CR (a segment of its own).
 */
static void count_line(struct reader *r, const unsigned char *s, size_t n)
{
	unsigned char c = s[n - 1];

	if (c == '\n') {
		if (!(r->prev_cr && n == 1))
			r->line++;
		r->prev_cr = 0;
	} else if (c == '\r') {
		r->line++;
		r->prev_cr = 1;
	} else {
		r->prev_cr = 0;
	}
}

/* Checks a completed record against the header (if read yet). */
static int finish_record(lua_State *L, struct reader *r, int ridx)
{
	size_t i, len;
	const char *s;

	if (r->ncols == 0)
		return REC_ROW;
	if (r->nf != (size_t)r->ncols)
		return bad(L, r, "expected %d fields, got %d", r->ncols,
		           (int)r->nf);
	for (i = 0; i < r->nf; i++) {
		field(r, i, &s, &len);
		if (!utf8_valid(s, len)) {
			lua_getiuservalue(L, ridx, 1);
			lua_rawgeti(L, -1, (lua_Integer)i + 1);
			return bad(L, r, "invalid UTF-8 in field %d (%s)",
			           (int)i + 1, lua_tostring(L, -1));
		}
	}
	return REC_ROW;
}

/*
 * Reads the next record into fbuf/off.  REC_ROW: fields are ready;
 * REC_BAD, REC_FAIL: the message is pushed; REC_EOF: nothing more.
 * May raise (out of memory).
 */
static int step(lua_State *L, struct reader *r, int ridx)
{
	r->nf = 0;
	r->flen = 0;
	r->done = 0;
	for (;;) {
		const unsigned char *seg;
		size_t n, got;

		if (r->pos == r->len) {
			if (!r->eof) {
				if (fill(L, r) != 0)
					return REC_FAIL;
				continue;
			}
			if (r->finished)
				return REC_EOF;
			r->finished = 1;
			if (csv_fini(&r->p, on_field, on_record, r) != 0) {
				r->in_record = 0;
				return bad(L, r, "unterminated quoted field");
			}
			if (r->oom)
				luaL_error(L, "not enough memory");
			return r->done ? finish_record(L, r, ridx) : REC_EOF;
		}
		seg = r->buf + r->pos;
		n = segment(seg, r->len - r->pos);
		if (r->skipping) {
			r->skipping = seg[n - 1] != '\r' && seg[n - 1] != '\n';
			count_line(r, seg, n);
			r->pos += n;
			continue;
		}
		if (!r->in_record && !blank(seg, n)) {
			r->in_record = 1;
			r->rec_line = r->line;
		}
		got = csv_parse(&r->p, seg, n, on_field, on_record, r);
		count_line(r, seg, n);
		r->pos += n;
		if (r->oom)
			luaL_error(L, "not enough memory");
		if (got < n) {
			int e = csv_error(&r->p);

			/* Start afresh at the next line. */
			csv_free(&r->p);
			csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI);
			r->in_record = 0;
			r->skipping = seg[n - 1] != '\r' && seg[n - 1] != '\n';
			if (e != CSV_EPARSE)
				return bad(L, r, "%s", csv_strerror(e));
			if (seg[got] == '"')
				return bad(L, r, "quote in unquoted field");
			return bad(L, r, "unexpected character after "
			           "closing quote");
		}
		if (r->done)
			return finish_record(L, r, ridx);
	}
}

/* Reads and checks the header.  0, or -1 with the message pushed. */
static int read_header(lua_State *L, struct reader *r, int ridx)
{
	size_t i, len;
	const char *s;
	int rc = step(L, r, ridx);

	if (rc == REC_EOF) {
		lua_pushfstring(L, "%s:%I: missing header", r->path, r->line);
		return -1;
	}
	if (rc != REC_ROW)
		return -1;
	if (r->nf > 10000) {
		bad(L, r, "too many columns (%d)", (int)r->nf);
		return -1;
	}
	lua_createtable(L, (int)r->nf, 0);      /* names */
	lua_createtable(L, 0, (int)r->nf);      /* seen */
	for (i = 0; i < r->nf; i++) {
		field(r, i, &s, &len);
		while (len > 0 && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == 0) {
			bad(L, r, "empty column name in field %d", (int)i + 1);
			return -1;
		}
		if (!utf8_valid(s, len)) {
			bad(L, r, "invalid UTF-8 in column name %d",
			    (int)i + 1);
			return -1;
		}
		lua_pushlstring(L, s, len);
		if (lua_rawget(L, -2) != LUA_TNIL) {
			bad(L, r, "duplicate column name '%s'",
			    lua_pushlstring(L, s, len));
			return -1;
		}
		lua_pop(L, 1);
		lua_pushlstring(L, s, len);
		lua_pushboolean(L, 1);
		lua_rawset(L, -3);
		lua_pushlstring(L, s, len);
		lua_rawseti(L, -3, (lua_Integer)i + 1);
	}
	lua_pop(L, 1);
	lua_setiuservalue(L, ridx, 1);
	r->ncols = (int)r->nf;
	return 0;
}

/*
 * Pushes the next record for reader:next() and the rows() iterator:
 * row, line | nil at end | false, msg (or raise, if raise_bad) for a bad
 * record.  The row is the table at stack index into, or a new one when
 * into is 0.  May raise on read errors.
 */
static int push_record(lua_State *L, struct reader *r, int ridx, int into,
                       int raise_bad)
{
	size_t i, len;
	const char *s;

	switch (step(L, r, ridx)) {
	case REC_EOF:
		lua_pushnil(L);
		return 1;
	case REC_BAD:
		if (raise_bad)
			return lua_error(L);
		lua_pushboolean(L, 0);
		lua_insert(L, -2);
		return 2;
	case REC_FAIL:
		return lua_error(L);
	}
	lua_getiuservalue(L, ridx, 1);
	if (into)
		lua_pushvalue(L, into);
	else
		lua_createtable(L, 0, r->ncols);
	for (i = 0; i < r->nf; i++) {
		field(r, i, &s, &len);
		lua_rawgeti(L, -2, (lua_Integer)i + 1);
		lua_pushlstring(L, s, len);
		lua_rawset(L, -3);
	}
	lua_remove(L, -2);
	lua_pushinteger(L, r->rec_line);
	return 2;
}

/* csv.open(path) -> reader | nil, "path: reason"; may raise (memory) */
int lcsv_open(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct reader *r;

	lua_settop(L, 1);
	r = lua_newuserdatauv(L, sizeof *r, 1);
	memset(r, 0, sizeof *r);
	luaL_setmetatable(L, LCSV_READER_MT);
	r->line = 1;
	r->path = strdup(path);
	r->buf = malloc(CHUNK);
	if (!r->path || !r->buf)
		return luaL_error(L, "not enough memory");
	if (!(r->fp = fopen(path, "rb"))) {
		int e = errno;

		reader_release(r);
		errno = e;
		return luaL_fileresult(L, 0, path);
	}
	csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI);
	r->parser_live = 1;
	if (read_header(L, r, 2) != 0) {
		reader_release(r);
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	lua_settop(L, 2);
	return 1;
}

/* reader:header() -> array of column names (a fresh copy) */
static int reader_header(lua_State *L)
{
	struct reader *r = check_reader(L, 1);
	int i;

	lua_getiuservalue(L, 1, 1);
	lua_createtable(L, r->ncols, 0);
	for (i = 1; i <= r->ncols; i++) {
		lua_rawgeti(L, -2, i);
		lua_rawseti(L, -2, i);
	}
	return 1;
}

/* reader:next([t]) -> row, line | nil at end | false, "path:LINE: msg";
 * the row is t when given; may raise on read errors */
static int reader_next(lua_State *L)
{
	struct reader *r = check_reader(L, 1);
	int into = !lua_isnoneornil(L, 2);

	if (into)
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	return push_record(L, r, 1, into ? 2 : 0, 0);
}

/* The rows() iterator: () -> row, line | nil; raises "path:LINE: msg"
 * (no position prefix) on a bad record.  Upvalue 1: the reader. */
static int rows_iter(lua_State *L)
{
	struct reader *r;

	lua_settop(L, 0);
	lua_pushvalue(L, lua_upvalueindex(1));
	r = check_reader(L, 1);
	return push_record(L, r, 1, 0, 1);
}

/* reader:rows() -> iterator for `for row, line in r:rows()` */
static int reader_rows(lua_State *L)
{
	check_reader(L, 1);
	lua_settop(L, 1);
	lua_pushcclosure(L, rows_iter, 1);
	return 1;
}

/* reader:close() -> true; raises if already closed */
static int reader_close(lua_State *L)
{
	reader_release(check_reader(L, 1));
	lua_pushboolean(L, 1);
	return 1;
}

/* __gc, __close: release; idempotent, never raises */
static int reader_gc(lua_State *L)
{
	reader_release(luaL_checkudata(L, 1, LCSV_READER_MT));
	return 0;
}

/* __tostring -> "csv reader (path)" | "csv reader (closed)" */
static int reader_tostring(lua_State *L)
{
	struct reader *r = luaL_checkudata(L, 1, LCSV_READER_MT);

	if (r->fp)
		lua_pushfstring(L, "csv reader (%s)", r->path);
	else
		lua_pushliteral(L, "csv reader (closed)");
	return 1;
}

static const luaL_Reg reader_meth[] = {
	{"header", reader_header},
	{"next", reader_next},
	{"rows", reader_rows},
	{"close", reader_close},
	{NULL, NULL}
};

static const luaL_Reg reader_metameth[] = {
	{"__index", NULL},      /* set to the method table */
	{"__gc", reader_gc},
	{"__close", reader_gc},
	{"__tostring", reader_tostring},
	{NULL, NULL}
};

void lcsv_reader_init(lua_State *L)
{
	lcsv_createmeta(L, LCSV_READER_MT, reader_metameth, reader_meth);
}

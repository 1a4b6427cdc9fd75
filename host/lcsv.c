/*
 * lcsv.c: the tcrun.csv module, a streaming CSV reader for rosters and an
 * atomic CSV writer for reports, over libcsv.
 *
 * Reader.  csv.open(path) reads the file in 64 KiB chunks and feeds libcsv
 * (strict mode) one physical line at a time, stopping as soon as a record
 * is complete, so memory stays flat whatever the file size and every record
 * knows the line it starts on (newlines inside quoted fields are counted;
 * LF, CRLF and lone CR all end a line).  The first record is the header:
 * names trimmed of spaces and tabs, none empty, none repeated.  Later
 * records become tables keyed by column name, every value a string.
 * Unquoted fields lose surrounding spaces and tabs (libcsv does that);
 * quoted fields are returned exactly.  Blank lines are not records.  A bad
 * record (ragged, invalid UTF-8, stray quote, unterminated quote) yields
 * false, "path:LINE: message"; after a quote error the rest of that line is
 * skipped, and the next call goes on with the following line.
 *
 * Writer.  csv.create(path, columns [, opts]) writes into a temporary file
 * next to path (path.tmp.PID.N, open(2) with O_CREAT|O_EXCL and the mode,
 * default 0644, less the umask, so the mode holds from the first byte) and
 * writes the header.  Nothing half-written ever appears at path:
 *   writer:close()               flush, fsync, rename onto path: commits
 *   __close on normal scope exit  commits too (raises on I/O failure)
 *   __close with an error object  removes the temporary file
 *   __gc without close()          removes the temporary file
 * Secrets (tcrun.secret, see lsecret.h) are written as their bytes: this
 * writer is a sanctioned sink, for the 0600 initial-password file.
 * Integers are written exactly (%lld); floats in the shortest of %.15g,
 * %.16g, %.17g that reads back to the same double (so 1.0 is written "1");
 * fields with a comma, quote, CR, LF or surrounding spaces or tabs are
 * quoted, doubling quotes, so they read back identically.  Lines end in LF.
 *
 * Does not: convert values when reading (all strings, "" when empty), keep
 * rows, support delimiters other than comma or encodings other than UTF-8,
 * write anything the reader would reject (invalid UTF-8 raises), or lock
 * files against other writers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>
#include <lauxlib.h>
#include <lua.h>

#include "lcsv.h"
#include "lsecret.h"

#define READER_MT "tcrun.csv.reader"
#define WRITER_MT "tcrun.csv.writer"
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

/* Everything a writer owns; all of it is released by writer_release. */
struct writer {
	FILE *fp;               /* the temporary file; NULL once closed */
	char *path;
	char *tmp;
	int ncols;
	int err;                /* first errno of a failed write */
};

static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, j, k;
	unsigned long cp, min;

	while (i < n) {
		unsigned c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i <= k)
			return 0;
		for (j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/*
 * Reader
 */

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
	struct reader *r = luaL_checkudata(L, idx, READER_MT);

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

	*s = r->fbuf + r->off[i];
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
		if (!utf8_valid((const unsigned char *)s, len)) {
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
		if (!utf8_valid((const unsigned char *)s, len)) {
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
 * record.  May raise on read errors.
 */
static int push_record(lua_State *L, struct reader *r, int ridx,
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
static int csv_open(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct reader *r;

	lua_settop(L, 1);
	r = lua_newuserdatauv(L, sizeof *r, 1);
	memset(r, 0, sizeof *r);
	luaL_setmetatable(L, READER_MT);
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

/* reader:next() -> row, line | nil at end | false, "path:LINE: msg";
 * may raise on read errors */
static int reader_next(lua_State *L)
{
	struct reader *r = check_reader(L, 1);

	lua_settop(L, 1);
	return push_record(L, r, 1, 0);
}

/* The rows() iterator: () -> row, line | nil; raises "path:LINE: msg"
 * (no position prefix) on a bad record.  Upvalue 1: the reader. */
static int rows_iter(lua_State *L)
{
	struct reader *r;

	lua_settop(L, 0);
	lua_pushvalue(L, lua_upvalueindex(1));
	r = check_reader(L, 1);
	return push_record(L, r, 1, 1);
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
	reader_release(luaL_checkudata(L, 1, READER_MT));
	return 0;
}

/* __tostring -> "csv reader (path)" | "csv reader (closed)" */
static int reader_tostring(lua_State *L)
{
	struct reader *r = luaL_checkudata(L, 1, READER_MT);

	if (r->fp)
		lua_pushfstring(L, "csv reader (%s)", r->path);
	else
		lua_pushliteral(L, "csv reader (closed)");
	return 1;
}

/*
 * Writer
 */

/* Removes the temporary file if still open; frees everything.  Idempotent. */
static void writer_release(struct writer *w)
{
	if (w->fp) {
		fclose(w->fp);
		w->fp = NULL;
		unlink(w->tmp);
	}
	free(w->path);
	free(w->tmp);
	w->path = NULL;
	w->tmp = NULL;
}

static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return;
	if ((fd = open(dir, O_RDONLY | O_CLOEXEC)) >= 0) {
		fsync(fd);      /* best effort: the rename is already done */
		close(fd);
	}
	free(dir);
}

/*
 * Flushes, fsyncs, closes and renames the temporary file onto path.
 * Returns 0 or an errno, and then the temporary file is gone.  Leaves fp
 * NULL; the strings stay for the caller's message.
 */
static int writer_commit(struct writer *w)
{
	FILE *fp = w->fp;
	int e = w->err;

	w->fp = NULL;
	if (!e && (fflush(fp) != 0 || ferror(fp)))
		e = errno ? errno : EIO;
	if (!e && fsync(fileno(fp)) != 0)
		e = errno;
	if (fclose(fp) != 0 && !e)
		e = errno;
	if (!e && rename(w->tmp, w->path) != 0)
		e = errno;
	if (e)
		unlink(w->tmp);
	else
		sync_dir(w->path);
	return e;
}

/* Raises if the writer at idx is closed. */
static struct writer *check_writer(lua_State *L, int idx)
{
	struct writer *w = luaL_checkudata(L, idx, WRITER_MT);

	if (!w->fp)
		luaL_error(L, "attempt to use a closed csv writer");
	return w;
}

static int needs_quotes(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t')
		return 1;
	for (i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	return 0;
}

static void put_field(FILE *fp, const char *s, size_t len)
{
	size_t i;

	if (!needs_quotes(s, len)) {
		fwrite(s, 1, len, fp);
		return;
	}
	putc('"', fp);
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			putc('"', fp);
		putc(s[i], fp);
	}
	putc('"', fp);
}

/* The shortest of %.15g..%.17g that reads back as d. */
static void put_float(FILE *fp, double d)
{
	char buf[64];
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof buf, "%.17g", d);
	fputs(buf, fp);
}

/* Writes the value at the top of the stack (checked by check_value). */
static void put_value(lua_State *L, FILE *fp)
{
	char buf[32];
	const char *s;
	size_t len;

	switch (lua_type(L, -1)) {
	case LUA_TBOOLEAN:
		fputs(lua_toboolean(L, -1) ? "true" : "false", fp);
		break;
	case LUA_TNUMBER:
		if (lua_isinteger(L, -1)) {
			snprintf(buf, sizeof buf, LUA_INTEGER_FMT,
			         (LUAI_UACINT)lua_tointeger(L, -1));
			fputs(buf, fp);
		} else {
			put_float(fp, (double)lua_tonumber(L, -1));
		}
		break;
	case LUA_TSTRING:
		s = lua_tolstring(L, -1, &len);
		put_field(fp, s, len);
		break;
	case LUA_TUSERDATA:
		/* A secret (checked): this writer is its sanctioned sink,
		 * for files such as the 0600 initial-password file. */
		s = lsecret_get(L, -1, &len);
		put_field(fp, s, len);
		break;
	}
}

/* Raises unless the value at the top suits column `name`. */
static void check_value(lua_State *L, const char *name)
{
	const char *s;
	size_t len;

	switch (lua_type(L, -1)) {
	case LUA_TNIL:
	case LUA_TBOOLEAN:
	case LUA_TNUMBER:
		return;
	case LUA_TSTRING:
		s = lua_tolstring(L, -1, &len);
		if (!utf8_valid((const unsigned char *)s, len))
			luaL_error(L, "invalid UTF-8 for column '%s'", name);
		return;
	case LUA_TUSERDATA:
		if (lsecret_get(L, -1, &len))
			return;
		break;
	}
	luaL_error(L, "bad value for column '%s' (%s)", name,
	           luaL_typename(L, -1));
}

/*
 * Checks the keys of the row at index 2 against the columns table at
 * index 3; returns 1 for a keyed row, 0 for an array.  May raise.
 */
static int row_shape(lua_State *L, const struct writer *w)
{
	int array = 0, keyed = 0;

	lua_pushnil(L);
	while (lua_next(L, 2)) {
		lua_pop(L, 1);
		if (lua_isinteger(L, -1)) {
			lua_Integer k = lua_tointeger(L, -1);

			if (k < 1 || k > w->ncols)
				luaL_error(L, "row index %I outside 1..%d", k,
				           w->ncols);
			array = 1;
		} else if (lua_type(L, -1) == LUA_TSTRING) {
			lua_pushvalue(L, -1);
			if (lua_rawget(L, 3) == LUA_TNIL)
				luaL_error(L, "unknown column '%s'",
				           lua_tostring(L, -2));
			lua_pop(L, 1);
			keyed = 1;
		} else {
			luaL_error(L, "bad row key (%s)", luaL_typename(L, -1));
		}
	}
	if (array && keyed)
		luaL_error(L, "row mixes array and keyed fields");
	return keyed;
}

/* Pushes the value of column i of the row at 2 (columns at 3). */
static void push_cell(lua_State *L, int keyed, int i)
{
	if (keyed) {
		lua_rawgeti(L, 3, i);
		lua_rawget(L, 2);
	} else {
		lua_rawgeti(L, 2, i);
	}
}

/*
 * Writes the row at index 2 (columns table at 3), keyed by column name or
 * an array: everything is checked before the first byte goes out, so a
 * raise never leaves half a row.  Returns 0 or the first write errno.
 */
static int write_row(lua_State *L, struct writer *w, int keyed)
{
	int i;

	for (i = 1; i <= w->ncols; i++) {
		lua_rawgeti(L, 3, i);
		push_cell(L, keyed, i);
		check_value(L, lua_tostring(L, -2));
		lua_pop(L, 2);
	}
	for (i = 1; i <= w->ncols; i++) {
		if (i > 1)
			putc(',', w->fp);
		push_cell(L, keyed, i);
		put_value(L, w->fp);
		lua_pop(L, 1);
	}
	putc('\n', w->fp);
	if (ferror(w->fp) && !w->err)
		w->err = errno ? errno : EIO;
	return w->err;
}

/* Checks the columns array at idx; returns how many.  May raise. */
static int check_columns(lua_State *L, int idx)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx), i;
	const char *s;
	size_t len;

	luaL_argcheck(L, n > 0 && n <= 10000, idx, "want 1 to 10000 columns");
	lua_newtable(L);
	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, idx, i) != LUA_TSTRING)
			luaL_argerror(L, idx, lua_pushfstring(L,
			              "column %I is not a string", i));
		s = lua_tolstring(L, -1, &len);
		if (len == 0 || !utf8_valid((const unsigned char *)s, len))
			luaL_argerror(L, idx, lua_pushfstring(L,
			              "column %I is empty or not UTF-8", i));
		lua_pushvalue(L, -1);
		if (lua_rawget(L, -3) != LUA_TNIL)
			luaL_argerror(L, idx, lua_pushfstring(L,
			              "duplicate column '%s'", s));
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
		lua_rawset(L, -3);
	}
	lua_pop(L, 1);
	return (int)n;
}

/*
 * Walks the options table at idx, rejecting unknown keys by name; returns
 * the mode.  Lua has no octal literals (mode = 0600 is decimal 600), so
 * mode is an integer of permission bits (0x180, tonumber("600", 8)) or a
 * string of octal digits ("0600"), and at most 0777.  May raise.
 */
static int check_opts(lua_State *L, int idx, int mode)
{
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key;
		lua_Integer m = -1;

		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_argerror(L, idx, "option names must be strings");
		key = lua_tostring(L, -2);
		if (strcmp(key, "mode") != 0)
			luaL_argerror(L, idx, lua_pushfstring(L,
			              "bad option '%s'", key));
		if (lua_type(L, -1) == LUA_TSTRING) {
			const char *s = lua_tostring(L, -1);
			char *end;
			long v = strtol(s, &end, 8);

			if (*s >= '0' && *s <= '7' && *end == '\0')
				m = v;
		} else if (lua_isinteger(L, -1)) {
			m = lua_tointeger(L, -1);
		}
		if (m < 0 || m > 0777)
			luaL_argerror(L, idx, "option 'mode' must be 0..0777 "
			              "as an integer or an octal string "
			              "such as \"0600\"");
		mode = (int)m;
		lua_pop(L, 1);
	}
	return mode;
}

/* Creates w->tmp next to w->path; returns the fd or -1 with errno. */
static int open_tmp(struct writer *w, size_t cap, int mode)
{
	static unsigned serial;
	int tries, fd = -1;

	for (tries = 0; tries < 100; tries++) {
		snprintf(w->tmp, cap, "%s.tmp.%ld.%u", w->path, (long)getpid(),
		         serial++);
		fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		          (mode_t)mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	return fd;
}

/* csv.create(path, columns [, {mode = "0600"}]) -> writer | nil, msg;
 * raises on bad arguments */
static int csv_create(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct writer *w;
	int ncols, mode = 0644, fd, i;
	size_t cap = strlen(path) + 64;

	luaL_checktype(L, 2, LUA_TTABLE);
	ncols = check_columns(L, 2);
	if (!lua_isnoneornil(L, 3))
		mode = check_opts(L, 3, mode);
	lua_settop(L, 2);
	w = lua_newuserdatauv(L, sizeof *w, 1);             /* 3 */
	memset(w, 0, sizeof *w);
	luaL_setmetatable(L, WRITER_MT);
	/* uservalue: {name, ...; [name] = index} */
	lua_createtable(L, ncols, ncols);
	for (i = 1; i <= ncols; i++) {
		lua_rawgeti(L, 2, i);
		lua_pushvalue(L, -1);
		lua_rawseti(L, -3, i);
		lua_pushinteger(L, i);
		lua_rawset(L, -3);
	}
	lua_setiuservalue(L, 3, 1);
	w->ncols = ncols;
	w->path = strdup(path);
	w->tmp = malloc(cap);
	if (!w->path || !w->tmp)
		return luaL_error(L, "not enough memory");
	if ((fd = open_tmp(w, cap, mode)) < 0)
		return luaL_fileresult(L, 0, path);
	if (!(w->fp = fdopen(fd, "w"))) {
		int e = errno;

		close(fd);
		unlink(w->tmp);
		errno = e;
		return luaL_fileresult(L, 0, path);
	}
	/* The header is an array row: 2 the names, 3 the columns. */
	lua_insert(L, 1);                   /* 1 writer, 2 path, 3 names */
	lua_getiuservalue(L, 1, 1);
	lua_replace(L, 2);                  /* 1 writer, 2 columns, 3 names */
	lua_insert(L, 2);                   /* 1 writer, 2 names, 3 columns */
	if (write_row(L, w, 0) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", w->path, strerror(w->err));
		writer_release(w);
		return 2;
	}
	lua_settop(L, 1);
	return 1;
}

/* writer:write(row) -> true | nil, msg on I/O failure; raises on a bad
 * row (unknown column, unsupported value, invalid UTF-8) */
static int writer_write(lua_State *L)
{
	struct writer *w = check_writer(L, 1);

	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	lua_getiuservalue(L, 1, 1);
	if (write_row(L, w, row_shape(L, w)) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", w->path, strerror(w->err));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* writer:close() -> true | nil, msg (temporary file removed); raises if
 * already closed */
static int writer_close(lua_State *L)
{
	struct writer *w = check_writer(L, 1);
	int e = writer_commit(w);

	if (e) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", w->path, strerror(e));
		writer_release(w);
		return 2;
	}
	writer_release(w);
	lua_pushboolean(L, 1);
	return 1;
}

/* __close(w, err): commits when err is nil, else discards; raises
 * "path: reason" if the commit fails */
static int writer_toclose(lua_State *L)
{
	struct writer *w = luaL_checkudata(L, 1, WRITER_MT);
	int e;

	if (!w->fp || !lua_isnoneornil(L, 2)) {
		writer_release(w);
		return 0;
	}
	if ((e = writer_commit(w)) != 0) {
		lua_pushfstring(L, "%s: %s", w->path, strerror(e));
		writer_release(w);
		return lua_error(L);
	}
	writer_release(w);
	return 0;
}

/* __gc: discards an uncommitted writer; never raises */
static int writer_gc(lua_State *L)
{
	writer_release(luaL_checkudata(L, 1, WRITER_MT));
	return 0;
}

/* __tostring -> "csv writer (path)" | "csv writer (closed)" */
static int writer_tostring(lua_State *L)
{
	struct writer *w = luaL_checkudata(L, 1, WRITER_MT);

	if (w->fp)
		lua_pushfstring(L, "csv writer (%s)", w->path);
	else
		lua_pushliteral(L, "csv writer (closed)");
	return 1;
}

/*
 * Module
 */

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

static const luaL_Reg writer_meth[] = {
	{"write", writer_write},
	{"close", writer_close},
	{NULL, NULL}
};

static const luaL_Reg writer_metameth[] = {
	{"__index", NULL},      /* set to the method table */
	{"__gc", writer_gc},
	{"__close", writer_toclose},
	{"__tostring", writer_tostring},
	{NULL, NULL}
};

static const luaL_Reg csv_funcs[] = {
	{"open", csv_open},
	{"create", csv_create},
	{NULL, NULL}
};

static void createmeta(lua_State *L, const char *name,
                       const luaL_Reg *metameth, const luaL_Reg *meth)
{
	luaL_newmetatable(L, name);
	luaL_setfuncs(L, metameth, 0);
	lua_newtable(L);
	luaL_setfuncs(L, meth, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

int luaopen_tcrun_csv(lua_State *L)
{
	createmeta(L, READER_MT, reader_metameth, reader_meth);
	createmeta(L, WRITER_MT, writer_metameth, writer_meth);
	luaL_newlib(L, csv_funcs);
	return 1;
}

/*
 * lcsvwrite.c: csv.create, the atomic CSV writer of the tcrun.csv module
 * (see lcsv.h).
 *
 * csv.create(path, columns [, opts]) writes into a temporary file next to
 * path (fs_atomic_open: O_CREAT|O_EXCL and the mode, default 0644, less
 * the umask, so the mode holds from the first byte) and writes the header.
 * Nothing half-written ever appears at path:
 *   writer:close()               flush, fsync, rename onto path: commits
 *                                (exclusive: link, never replacing a file)
 *   __close on normal scope exit  commits too (raises on I/O failure)
 *   __close with an error object  removes the temporary file
 *   __gc without close()          removes the temporary file
 * Secrets (tcrun.secret, see lsecret.h) are written as their bytes: this
 * writer is a sanctioned sink, for the 0600 initial-password file.
 * Integers are written exactly (%lld); floats in the shortest of %.15g,
 * %.16g, %.17g that reads back to the same double (so 1.0 is written "1");
 * fields with a comma, quote, CR, LF, surrounding spaces or tabs, or a
 * leading U+FEFF are quoted, doubling quotes, and a lone empty field is
 * "", so they read back identically.  Lines end in LF.  Text that a
 * spreadsheet would run as a formula (starting with = + - @, a tab or a
 * CR) is written with a leading ' (formula injection); the reader keeps
 * it.  Secrets are written as they are.
 *
 * Does not: write anything the reader would reject (invalid UTF-8
 * raises), or lock files against other writers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "fsutil.h"
#include "lcsv.h"
#include "lsecret.h"
#include "utf8.h"

/* Everything a writer owns; all of it is released by writer_release. */
struct writer {
	struct fs_atomic f;     /* f.fp NULL once closed */
	int ncols;
	int err;                /* first errno of a failed write */
};

/* Discards an uncommitted file; frees everything.  Idempotent. */
static void writer_release(struct writer *w)
{
	fs_atomic_free(&w->f);
}

/* Raises if the writer at idx is closed. */
static struct writer *check_writer(lua_State *L, int idx)
{
	struct writer *w = luaL_checkudata(L, idx, LCSV_WRITER_MT);

	if (!w->f.fp)
		luaL_error(L, "attempt to use a closed csv writer");
	return w;
}

/* Whether a spreadsheet would take text starting so for a formula. */
static int formula_like(const char *s, size_t len)
{
	return len > 0 && memchr("=+-@\t\r", s[0], 6) != NULL;
}

/* Whether the field (an optional leading ' then s) must be quoted to read
 * back the same: surrounding spaces or tabs (the reader trims unquoted
 * fields), a leading U+FEFF (it would pass for the file's byte-order
 * mark), or a comma, quote, CR or LF. */
static int needs_quotes(int tick, const char *s, size_t len)
{
	if (len == 0)
		return 0;
	if (!tick && (s[0] == ' ' || s[0] == '\t' ||
	              (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)))
		return 1;
	if (s[len - 1] == ' ' || s[len - 1] == '\t')
		return 1;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return 1;
	return 0;
}

/* Writes one field, quoted when it must be.  With guard, text that a
 * spreadsheet would run as a formula (= + - @ tab CR first) gets a
 * leading ' (formula injection). */
static void put_field(FILE *fp, const char *s, size_t len, int guard)
{
	int tick = guard && formula_like(s, len);
	int quote = needs_quotes(tick, s, len);

	if (quote)
		putc('"', fp);
	if (tick)
		putc('\'', fp);
	for (size_t i = 0; i < len; i++) {
		if (quote && s[i] == '"')
			putc('"', fp);
		putc(s[i], fp);
	}
	if (quote)
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
		put_field(fp, s, len, 1);
		break;
	case LUA_TUSERDATA:
		/* A secret (checked): this writer is its sanctioned sink,
		 * for files such as the 0600 initial-password file.  Written
		 * as it is: tc.password never starts like a formula. */
		s = lsecret_get(L, -1, &len);
		put_field(fp, s, len, 0);
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
		if (!utf8_valid(s, len))
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
		size_t len = 1;

		if (i > 1)
			putc(',', w->f.fp);
		push_cell(L, keyed, i);
		if (lua_type(L, -1) == LUA_TSTRING)
			lua_tolstring(L, -1, &len);
		/* A lone empty field would make a blank line, which the
		 * reader skips: quote it. */
		if (w->ncols == 1 && (lua_isnil(L, -1) || len == 0))
			fputs("\"\"", w->f.fp);
		else
			put_value(L, w->f.fp);
		lua_pop(L, 1);
	}
	putc('\n', w->f.fp);
	if (ferror(w->f.fp) && !w->err)
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
		if (len == 0 || !utf8_valid(s, len))
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
 * Walks the options table at idx, rejecting unknown keys by name, into
 * *mode and *exclusive.  Lua has no octal literals (mode = 0600 is decimal
 * 600), so mode is an integer of permission bits (0x180, tonumber("600",
 * 8)) or a string of octal digits ("0600"), and at most 0777.  exclusive
 * is a boolean.  May raise.
 */
static void check_opts(lua_State *L, int idx, int *mode, int *exclusive)
{
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *key;
		lua_Integer m = -1;

		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_argerror(L, idx, "option names must be strings");
		key = lua_tostring(L, -2);
		if (strcmp(key, "exclusive") == 0) {
			if (!lua_isboolean(L, -1))
				luaL_argerror(L, idx, "option 'exclusive' must "
				              "be a boolean");
			*exclusive = lua_toboolean(L, -1);
			lua_pop(L, 1);
			continue;
		}
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
		*mode = (int)m;
		lua_pop(L, 1);
	}
}

/* csv.create(path, columns [, {mode = "0600", exclusive = true}]) ->
 * writer | nil, msg; raises on bad arguments.  With exclusive, close()
 * fails with "File exists" rather than replace a file at path. */
int lcsv_create(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct writer *w;
	int ncols, mode = 0644, exclusive = 0, i;

	luaL_checktype(L, 2, LUA_TTABLE);
	ncols = check_columns(L, 2);
	if (!lua_isnoneornil(L, 3))
		check_opts(L, 3, &mode, &exclusive);
	lua_settop(L, 2);
	w = lua_newuserdatauv(L, sizeof *w, 1);             /* 3 */
	memset(w, 0, sizeof *w);
	luaL_setmetatable(L, LCSV_WRITER_MT);
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
	if (fs_atomic_open(&w->f, path, mode) != 0)
		return luaL_fileresult(L, 0, path);
	w->f.exclusive = exclusive;
	/* The header is an array row: 2 the names, 3 the columns. */
	lua_insert(L, 1);                   /* 1 writer, 2 path, 3 names */
	lua_getiuservalue(L, 1, 1);
	lua_replace(L, 2);                  /* 1 writer, 2 columns, 3 names */
	lua_insert(L, 2);                   /* 1 writer, 2 names, 3 columns */
	if (write_row(L, w, 0) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", w->f.path, strerror(w->err));
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
		lua_pushfstring(L, "%s: %s", w->f.path, strerror(w->err));
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
	int e = fs_atomic_commit(&w->f, w->err);

	if (e) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", w->f.path, strerror(e));
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
	struct writer *w = luaL_checkudata(L, 1, LCSV_WRITER_MT);
	int e;

	if (!w->f.fp || !lua_isnoneornil(L, 2)) {
		writer_release(w);
		return 0;
	}
	if ((e = fs_atomic_commit(&w->f, w->err)) != 0) {
		lua_pushfstring(L, "%s: %s", w->f.path, strerror(e));
		writer_release(w);
		return lua_error(L);
	}
	writer_release(w);
	return 0;
}

/* __gc: discards an uncommitted writer; never raises */
static int writer_gc(lua_State *L)
{
	writer_release(luaL_checkudata(L, 1, LCSV_WRITER_MT));
	return 0;
}

/* __tostring -> "csv writer (path)" | "csv writer (closed)" */
static int writer_tostring(lua_State *L)
{
	struct writer *w = luaL_checkudata(L, 1, LCSV_WRITER_MT);

	if (w->f.fp)
		lua_pushfstring(L, "csv writer (%s)", w->f.path);
	else
		lua_pushliteral(L, "csv writer (closed)");
	return 1;
}

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

void lcsv_writer_init(lua_State *L)
{
	lcsv_createmeta(L, LCSV_WRITER_MT, writer_metameth, writer_meth);
}

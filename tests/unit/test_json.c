/*
 * test_json: the JSON reader and writer (json.c) and the tcrun.json Lua
 * module (ljson.c).  Writer expectations are what Node's JSON.stringify
 * prints for the same value.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "json.h"
#include "ljson.h"
#include "tap.h"

/* A typed dump of a tree: reals carry an "r" prefix so 1 and 1.0 differ. */
static void dump(struct json_buf *b, const struct json_value *v)
{
	char tmp[40];
	size_t i;

	switch (v->type) {
	case JSON_NULL: json_put_raw(b, "null", 4); break;
	case JSON_FALSE: json_put_raw(b, "false", 5); break;
	case JSON_TRUE: json_put_raw(b, "true", 4); break;
	case JSON_INT: json_put_int(b, v->u.i); break;
	case JSON_REAL:
		snprintf(tmp, sizeof tmp, "r%.17g", v->u.d);
		json_put_raw(b, tmp, strlen(tmp));
		break;
	case JSON_STRING: json_put_string(b, v->u.str.s, v->u.str.len); break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		json_put_raw(b, v->type == JSON_ARRAY ? "[" : "{", 1);
		for (i = 0; i < v->u.c.n; i++) {
			if (i)
				json_put_raw(b, ",", 1);
			if (v->type == JSON_OBJECT) {
				json_put_string(b, v->u.c.keys[i],
				                v->u.c.keylens[i]);
				json_put_raw(b, ":", 1);
			}
			dump(b, &v->u.c.items[i]);
		}
		json_put_raw(b, v->type == JSON_ARRAY ? "]" : "}", 1);
		break;
	}
}

static const struct { const char *name, *in, *want; } parses[] = {
	{ "null", " null ", "null" },
	{ "true", "true", "true" },
	{ "false", "false", "false" },
	{ "zero", "0", "0" },
	{ "minus zero is integer 0", "-0", "0" },
	{ "12-digit integer", "100000000001", "100000000001" },
	{ "15-digit integer", "123456789012345", "123456789012345" },
	{ "18-digit integer", "123456789012345678", "123456789012345678" },
	{ "19-digit integer", "1234567890123456789", "1234567890123456789" },
	{ "int64 max", "9223372036854775807", "9223372036854775807" },
	{ "int64 min", "-9223372036854775808", "-9223372036854775808" },
	{ "int64 max + 1 is real", "9223372036854775808",
	  "r9.2233720368547758e+18" },
	{ "int64 min - 1 is real", "-9223372036854775809",
	  "r-9.2233720368547758e+18" },
	{ "20-digit integer is real", "12345678901234567890",
	  "r1.2345678901234567e+19" },
	{ "real 0.1", "0.1", "r0.10000000000000001" },
	{ "real 1.0 stays real", "1.0", "r1" },
	{ "real exponent", "-2.5E+3", "r-2500" },
	{ "real small exponent", "1e-7", "r9.9999999999999995e-08" },
	{ "string", "\"abc\"", "\"abc\"" },
	{ "empty string", "\"\"", "\"\"" },
	{ "simple escapes", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
	  "\"\\\"\\\\/\\b\\f\\n\\r\\t\"" },
	{ "\\u escapes", "\"\\u0041\\u00e9\\u20AC\"",
	  "\"A\xc3\xa9\xe2\x82\xac\"" },
	{ "surrogate pair", "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"" },
	{ "raw UTF-8", "\"\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\"",
	  "\"\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80\"" },
	{ "\\u0000 kept", "\"a\\u0000b\"", "\"a\\u0000b\"" },
	{ "empty array", "[]", "[]" },
	{ "empty object", " { } ", "{}" },
	{ "nested", "{\"a\":[1,2.5,{\"b\":null}],\"c\":\"d\"}",
	  "{\"a\":[1,r2.5,{\"b\":null}],\"c\":\"d\"}" },
	{ "whitespace everywhere", "\t[ 1 ,\r\n 2 ]\n", "[1,2]" },
	{ "duplicate keys kept", "{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}" },
};

static const struct { const char *name, *in, *want; } rejects[] = {
	{ "empty input", "", "line 1, column 1: unexpected end of input" },
	{ "trailing comma in array", "[1,2,]",
	  "line 1, column 6: trailing comma" },
	{ "trailing comma in object", "{\"a\":1,}",
	  "line 1, column 8: trailing comma" },
	{ "single quotes", "{'a':1}", "line 1, column 2: expected string key" },
	{ "single-quoted value", "['a']", "line 1, column 2: expected value" },
	{ "NaN", "NaN", "line 1, column 1: expected value" },
	{ "Infinity", "[-Infinity]", "line 1, column 3: invalid number" },
	{ "bare control char", "\"a\tb\"",
	  "line 1, column 3: control character in string" },
	{ "invalid UTF-8", "\"\xc3\x28\"",
	  "line 1, column 2: invalid UTF-8 in string" },
	{ "overlong UTF-8", "\"\xc0\xaf\"",
	  "line 1, column 2: invalid UTF-8 in string" },
	{ "UTF-8 surrogate", "\"\xed\xa0\x80\"",
	  "line 1, column 2: invalid UTF-8 in string" },
	{ "lone high surrogate", "\"\\ud800x\"",
	  "line 1, column 2: lone surrogate in \\u escape" },
	{ "lone low surrogate", "\"\\udc00\"",
	  "line 1, column 2: lone surrogate in \\u escape" },
	{ "high surrogate then non-low", "\"\\ud800\\u0041\"",
	  "line 1, column 2: lone surrogate in \\u escape" },
	{ "bad \\u hex", "\"\\u12g4\"",
	  "line 1, column 2: invalid \\u escape" },
	{ "bad escape", "\"\\x\"",
	  "line 1, column 2: invalid escape in string" },
	{ "truncated object", "{\"a\":1",
	  "line 1, column 7: unexpected end of input" },
	{ "truncated string", "[\"abc",
	  "line 1, column 6: unexpected end of input" },
	{ "truncated literal", "tru",
	  "line 1, column 4: unexpected end of input" },
	{ "truncated number", "-",
	  "line 1, column 2: unexpected end of input" },
	{ "truncated exponent", "1e",
	  "line 1, column 3: unexpected end of input" },
	{ "trailing garbage", "{} x",
	  "line 1, column 4: unexpected text after the value" },
	{ "two values", "1 2",
	  "line 1, column 3: unexpected text after the value" },
	{ "missing colon", "{\n  \"a\" 1\n}",
	  "line 2, column 7: expected ':'" },
	{ "missing comma", "[1\n,2\n 3]",
	  "line 3, column 2: expected ',' or ']'" },
	{ "leading zero", "01", "line 1, column 2: leading zero in number" },
	{ "dot without digits", "1.",
	  "line 1, column 3: unexpected end of input" },
	{ "dot then letter", "1.x",
	  "line 1, column 3: expected digit after '.'" },
	{ "plus sign", "+1", "line 1, column 1: expected value" },
	{ "bad literal", "nul1", "line 1, column 4: expected value" },
	{ "BOM", "\xef\xbb\xbf{}", "line 1, column 1: expected value" },
};

static void test_parse(void)
{
	char err[128];
	size_t i;

	for (i = 0; i < sizeof parses / sizeof *parses; i++) {
		struct json_buf b = { 0 };
		struct json_value *v;

		v = json_parse(parses[i].in, strlen(parses[i].in), err,
		               sizeof err);
		if (!v) {
			ok(0, "parse %s", parses[i].name);
			printf("#   error: %s\n", err);
			continue;
		}
		dump(&b, v);
		is_str(b.str, parses[i].want, "parse %s", parses[i].name);
		json_buf_free(&b);
		json_free(v);
	}
	for (i = 0; i < sizeof rejects / sizeof *rejects; i++) {
		struct json_value *v;

		v = json_parse(rejects[i].in, strlen(rejects[i].in), err,
		               sizeof err);
		if (v) {
			ok(0, "reject %s", rejects[i].name);
			json_free(v);
			continue;
		}
		is_str(err, rejects[i].want, "reject %s", rejects[i].name);
	}
}

/* Not NUL-ended input, NUL inside a string, depth 512 vs 513 and 600. */
static void test_parse_edges(void)
{
	char err[128], deep[1300];
	struct json_value *v;
	const char num[] = { '1', '.', '5' };   /* no NUL after it */

	v = json_parse(num, sizeof num, err, sizeof err);
	ok(v && v->type == JSON_REAL && v->u.d == 1.5,
	   "real at the very end of an unterminated buffer");
	json_free(v);

	v = json_parse("\"a\\u0000b\"", 10, err, sizeof err);
	ok(v && v->type == JSON_STRING && v->u.str.len == 3 &&
	   memcmp(v->u.str.s, "a\0b", 4) == 0, "\\u0000 inside a string");
	json_free(v);

	memset(deep, '[', 512);
	memset(deep + 512, ']', 512);
	v = json_parse(deep, 1024, err, sizeof err);
	ok(v != NULL, "512 nested arrays accepted");
	json_free(v);

	memset(deep, '[', 513);
	memset(deep + 513, ']', 513);
	v = json_parse(deep, 1026, err, sizeof err);
	ok(v == NULL, "513 nested arrays rejected");
	is_str(v ? "" : err, "line 1, column 513: nesting deeper than 512",
	       "depth error names the position");

	memset(deep, '[', 600);
	memset(deep + 600, ']', 600);
	v = json_parse(deep, 1200, err, sizeof err);
	is_str(v ? "" : err, "line 1, column 513: nesting deeper than 512",
	       "600 nested arrays rejected");
	json_free(v);

	/* A million values parse; one more does not (a hostile endpoint's
	 * [0,0,...] once took 1.85 GB for 64 MiB). */
	{
		size_t n = JSON_MAX_VALUES - 1, len = 2 * n + 1;
		char *big = malloc(len + 2);

		if (ok(big != NULL, "memory for a large array")) {
			big[0] = '[';
			for (size_t i = 0; i < n; i++)
				memcpy(big + 1 + 2 * i, i + 1 < n ? "0," : "0]", 2);
			v = json_parse(big, len, err, sizeof err);
			ok(v && v->u.c.n == n, "%zu values (the array and its "
			   "items) parse", n + 1);
			json_free(v);
			memcpy(big + len - 1, ",0]", 3);
			v = json_parse(big, len + 2, err, sizeof err);
			ok(v == NULL && strstr(err, "more than 1000000 values"),
			   "one more is refused: %s", v ? "parsed" : err);
			json_free(v);
			free(big);
		}
	}
}

static void test_get(void)
{
	static const char text[] =
	    "{\"Uin\":100000000001,\"Name\":\"x\",\"Name\":\"y\","
	    "\"Tags\":[]}";
	char err[128];
	struct json_value *v = json_parse(text, strlen(text), err, sizeof err);
	const struct json_value *m;

	if (!ok(v != NULL, "parse object for json_get"))
		return;
	m = json_get(v, "Uin");
	ok(m && m->type == JSON_INT && m->u.i == 100000000001LL,
	   "json_get integer member");
	m = json_get(v, "Name");
	ok(m && m->type == JSON_STRING && strcmp(m->u.str.s, "y") == 0,
	   "json_get returns the last duplicate");
	m = json_get(v, "Tags");
	ok(m && m->type == JSON_ARRAY && m->u.c.n == 0, "json_get array");
	ok(json_get(v, "uin") == NULL, "json_get is case-sensitive");
	ok(json_get(v, "") == NULL, "json_get missing key");
	ok(json_get(json_get(v, "Tags"), "x") == NULL,
	   "json_get on a non-object");
	ok(json_get(NULL, "x") == NULL, "json_get on NULL");
	json_free(v);
}

static const struct { const char *name, *in; size_t len; const char *want; }
strings[] = {
	{ "plain", "abc", 3, "\"abc\"" },
	{ "empty", "", 0, "\"\"" },
	{ "quote and backslash", "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
	{ "short escapes", "\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"" },
	{ "U+0001", "a\001b", 3, "\"a\\u0001b\"" },
	{ "U+001F lowercase hex", "\037", 1, "\"\\u001f\"" },
	{ "NUL", "a\0b", 3, "\"a\\u0000b\"" },
	{ "slash raw", "a/b", 3, "\"a/b\"" },
	{ "DEL raw", "\177", 1, "\"\177\"" },
	{ "e-acute raw", "\xc3\xa9", 2, "\"\xc3\xa9\"" },
	{ "U+2028 raw", "\xe2\x80\xa8", 3, "\"\xe2\x80\xa8\"" },
	{ "emoji raw", "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"" },
};

static const struct { const char *name; double d; const char *want; }
reals[] = {
	{ "0.1", 0.1, "0.1" },
	{ "0.1 + 0.2", 0.1 + 0.2, "0.30000000000000004" },
	{ "1.5", 1.5, "1.5" },
	{ "-1.5", -1.5, "-1.5" },
	{ "100.0", 100.0, "100" },
	{ "-0.0", -0.0, "0" },
	{ "1e21", 1e21, "1e+21" },
	{ "1e20", 1e20, "100000000000000000000" },
	{ "2^53", 9007199254740992.0, "9007199254740992" },
	{ "1.2345678901234568e20", 123456789012345678901.0,
	  "123456789012345680000" },
	{ "1e-7", 1e-7, "1e-7" },
	{ "1e-6", 1e-6, "0.000001" },
	{ "1.5e-7", 1.5e-7, "1.5e-7" },
	{ "123.456", 123.456, "123.456" },
	{ "smallest subnormal", 5e-324, "5e-324" },
	{ "largest double", 1.7976931348623157e308, "1.7976931348623157e+308" },
	{ "1/3", 1.0 / 3, "0.3333333333333333" },
};

static void test_write(void)
{
	size_t i;
	struct json_buf b = { 0 };

	for (i = 0; i < sizeof strings / sizeof *strings; i++) {
		ok(json_put_string(&b, strings[i].in, strings[i].len) == 0 &&
		   b.len == strlen(strings[i].want) &&
		   memcmp(b.str, strings[i].want, b.len) == 0,
		   "write string %s", strings[i].name);
		if (b.len != strlen(strings[i].want) ||
		    memcmp(b.str, strings[i].want, b.len) != 0)
			printf("#   got:  '%s'\n#   want: '%s'\n", b.str,
			       strings[i].want);
		json_buf_free(&b);
	}
	for (i = 0; i < sizeof reals / sizeof *reals; i++) {
		json_put_real(&b, reals[i].d);
		is_str(b.str ? b.str : "", reals[i].want, "write real %s",
		       reals[i].name);
		if (b.str && strtod(b.str, NULL) != reals[i].d)
			ok(0, "write real %s reads back", reals[i].name);
		json_buf_free(&b);
	}
	ok(json_put_real(&b, NAN) == -1 && !b.oom, "NaN refused");
	ok(json_put_real(&b, -INFINITY) == -1 && !b.oom, "-inf refused");
	json_put_int(&b, INT64_MIN);
	json_put_raw(&b, " ", 1);
	json_put_int(&b, INT64_MAX);
	json_put_raw(&b, " ", 1);
	json_put_int(&b, 0);
	json_put_raw(&b, " ", 1);
	json_put_int(&b, -7);
	is_str(b.str, "-9223372036854775808 9223372036854775807 0 -7",
	       "write integers");
	json_buf_free(&b);
}

/* Lua chunks with `json` and `NULLUD` (a NULL light userdata) as globals.
 * Each returns a string compared with want; a '~' prefix on want means
 * "contains". */
static const struct { const char *name, *chunk, *want; } chunks[] = {
	{ "12-digit integer decodes as integer",
	  "return math.type(json.decode('[100000000001]')[1])", "integer" },
	{ "real decodes as float",
	  "return math.type(json.decode('1.0'))", "float" },
	{ "19-digit round trip",
	  "return json.encode(json.decode('{\"Uin\":1234567890123456789}'))",
	  "{\"Uin\":1234567890123456789}" },
	{ "int64 extremes round trip",
	  "return json.encode(json.decode("
	  "'[9223372036854775807,-9223372036854775808]'))",
	  "[9223372036854775807,-9223372036854775808]" },
	{ "empty plain table is an object", "return json.encode({})", "{}" },
	{ "json.array() is an empty array",
	  "return json.encode(json.array())", "[]" },
	{ "json.array(t) returns t",
	  "local t = {1} return tostring(json.array(t) == t)", "true" },
	{ "decoded [] re-encodes as []",
	  "return json.encode(json.decode('{\"a\":[]}'))", "{\"a\":[]}" },
	{ "sorted keys",
	  "return json.encode({b = 1, a = 2, B = 3, aa = 4, [\"\"] = 5})",
	  "{\"\":5,\"B\":3,\"a\":2,\"aa\":4,\"b\":1}" },
	{ "nested arrays",
	  "return json.encode({{1, {2, {}}}, json.array(), {x = {true}}})",
	  "[[1,[2,{}]],[],{\"x\":[true]}]" },
	{ "scalars",
	  "return json.encode({1.5, 100.0, -0.0, 'a\\1b', false, 1e21, 2^63})",
	  "[1.5,100,0,\"a\\u0001b\",false,1e+21,9223372036854776000]" },
	{ "decode and encode real", "return json.encode(json.decode('0.1'))",
	  "0.1" },
	{ "json.null round trip",
	  "return json.encode(json.decode('[null,{\"a\":null}]'))",
	  "[null,{\"a\":null}]" },
	{ "json.null is a NULL light userdata",
	  "return tostring(json.null == NULLUD and "
	  "json.decode('null') == NULLUD and type(json.null) == 'userdata')",
	  "true" },
	{ "NULL light userdata encodes as null",
	  "return json.encode({NULLUD})", "[null]" },
	{ "nil encodes as null", "return json.encode(nil)", "null" },
	{ "decoded array has the shared metatable",
	  "return tostring(getmetatable(json.decode('[1]')) == "
	  "debug.getregistry()['tcrun.json.array'])", "true" },
	{ "UTF-8 and U+2028 raw",
	  "return json.encode('\\u{e9}\\u{2028}')",
	  "\"\xc3\xa9\xe2\x80\xa8\"" },
	{ "decode error returns nil and message",
	  "local v, e = json.decode('{\"a\":1,}') "
	  "return tostring(v) .. '|' .. e",
	  "nil|json: line 1, column 8: trailing comma" },
	{ "decode error on truncated input",
	  "return select(2, json.decode('[1, 2'))",
	  "json: line 1, column 6: unexpected end of input" },
	{ "encode function raises",
	  "return select(2, pcall(json.encode, {f = print}))",
	  "json: cannot encode a function" },
	{ "encode NaN raises",
	  "return select(2, pcall(json.encode, {0/0}))",
	  "json: cannot encode NaN or inf" },
	{ "encode inf raises",
	  "return select(2, pcall(json.encode, math.huge))",
	  "json: cannot encode NaN or inf" },
	{ "encode bad UTF-8 raises",
	  "return select(2, pcall(json.encode, {'\\xc3\\x28'}))",
	  "json: invalid UTF-8 in a string" },
	{ "encode bad UTF-8 key raises",
	  "return select(2, pcall(json.encode, {['\\xff'] = 1}))",
	  "json: invalid UTF-8 in a key" },
	{ "encode cycle raises",
	  "local t = {} t.t = t return select(2, pcall(json.encode, t))",
	  "json: tables nested deeper than 512 (a cycle?)" },
	{ "encode 512 levels works",
	  "local t = {} for i = 2, 512 do t = {t} end "
	  "return #json.encode(t)", "1024" },
	{ "encode mixed keys raises",
	  "return select(2, pcall(json.encode, {1, a = 2}))",
	  "json: table keys must be all strings or 1..n" },
	{ "encode non-string key raises",
	  "return select(2, pcall(json.encode, {[true] = 1}))",
	  "json: table keys must be all strings or 1..n" },
	{ "encode sparse array raises",
	  "return select(2, pcall(json.encode, {1, nil, 3}))",
	  "json: array has holes (keys are not 1..n)" },
	{ "encode userdata raises",
	  "return select(2, pcall(json.encode, io.stdout))",
	  "json: cannot encode a userdata" },
	{ "encode error carries the caller's position",
	  "return select(2, pcall(function() return json.encode(print) end))",
	  "~: json: cannot encode a function" },
	{ "json.array rejects a string",
	  "return select(2, pcall(json.array, 'x'))",
	  "~bad argument #1 to '" },
	{ "json.array names the expected type",
	  "return select(2, pcall(json.array, 'x'))",
	  "~(table expected, got string)" },
};

static void test_lua(void)
{
	lua_State *L = luaL_newstate();
	struct json_buf b = { 0 };
	char err[128];
	size_t i;
	int top;

	luaL_openlibs(L);
	luaL_requiref(L, "tcrun.json", luaopen_tcrun_json, 0);
	lua_setglobal(L, "json");
	lua_pushlightuserdata(L, NULL);
	lua_setglobal(L, "NULLUD");
	for (i = 0; i < sizeof chunks / sizeof *chunks; i++) {
		const char *want = chunks[i].want, *got;
		int contains = want[0] == '~';

		if (luaL_dostring(L, chunks[i].chunk) != LUA_OK) {
			ok(0, "lua: %s", chunks[i].name);
			printf("#   error: %s\n", lua_tostring(L, -1));
		} else {
			got = lua_tostring(L, -1);
			got = got ? got : "(not a string)";
			if (contains && !ok(strstr(got, want + 1) != NULL,
			                    "lua: %s", chunks[i].name))
				printf("#   got:  '%s'\n#   want: '...%s...'\n",
				       got, want + 1);
			else if (!contains)
				is_str(got, want, "lua: %s", chunks[i].name);
		}
		lua_settop(L, 0);
	}

	/* ljson_encode from C: no raise, reason without prefix, stack kept. */
	(void)luaL_dostring(L, "return {a = {print}}");
	top = lua_gettop(L);
	ok(ljson_encode(L, -1, &b, err, sizeof err) == -1 &&
	   lua_gettop(L) == top, "ljson_encode fails without raising");
	is_str(err, "cannot encode a function", "ljson_encode reason");
	json_buf_free(&b);
	(void)luaL_dostring(L, "return {Uin = math.maxinteger, Ok = true}");
	ok(ljson_encode(L, -1, &b, err, sizeof err) == 0 &&
	   lua_gettop(L) == top + 1, "ljson_encode succeeds");
	is_str(b.str ? b.str : "", "{\"Ok\":true,\"Uin\":9223372036854775807}",
	       "ljson_encode output");
	json_buf_free(&b);
	lua_close(L);
}

int main(void)
{
	test_parse();
	test_parse_edges();
	test_get();
	test_write();
	test_lua();
	return tap_done();
}

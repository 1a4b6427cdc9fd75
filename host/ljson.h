/*
 * ljson.h: the tcrun.json Lua module, exact for 64-bit integers, and the
 * two conversions the rest of the host uses (json.c trees to Lua values,
 * Lua values to JSON text).
 */
#ifndef TCRUN_LJSON_H
#define TCRUN_LJSON_H

#include <stddef.h>

#include <lua.h>

#include "json.h"

/* Registry name of the metatable that marks a table as a JSON array. */
#define LJSON_ARRAY_MT "tcrun.json.array"

/* require "tcrun.json": decode, encode, array, null. */
int luaopen_tcrun_json(lua_State *L);

/* Pushes v as a Lua value: integers as integers, null as json.null (a NULL
 * light userdata), arrays with the array metatable.  Raises only on memory
 * errors, so callers that own v must call it under a protected call. */
void ljson_push(lua_State *L, const struct json_value *v);
/* The same, but a string under one of the host's secret field names
 * (lsecret.h) becomes an opaque secret at once: its text never exists as
 * a Lua string (which Lua would free without wiping). */
void ljson_push_hiding(lua_State *L, const struct json_value *v);

/* Appends the value at idx to out as compact JSON, object keys sorted
 * bytewise.  Never raises: returns 0, or -1 with a one-line reason in err
 * (no "json: " prefix).  The stack is left as it was; out is the caller's
 * to free, whatever the result. */
int ljson_encode(lua_State *L, int idx, struct json_buf *out,
                 char *err, size_t errlen);

/* ljson_encode with flags for secrets (tcrun.secret userdata, see
 * lsecret.h), which plain encoding refuses: LJSON_REVEAL_SECRETS writes
 * their bytes (the request body, nowhere else); LJSON_REDACT_SECRETS
 * writes "***" for them and for every value under a key that names a
 * secret (journals). */
#define LJSON_REVEAL_SECRETS 1
#define LJSON_REDACT_SECRETS 2
int ljson_encode_opts(lua_State *L, int idx, struct json_buf *out,
                      int flags, char *err, size_t errlen);

#endif

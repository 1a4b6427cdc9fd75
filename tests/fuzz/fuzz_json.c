/*
 * fuzz_json: the JSON reader and writer (host/json.c, tcrun.json) on any bytes.
 * The properties, and how the input is read, are in fuzz_json.lua.
 */
#include "fuzz_lua.h"

FUZZ_LUA_TARGET("fuzz_json")

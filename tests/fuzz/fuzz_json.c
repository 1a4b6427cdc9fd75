/*
 * fuzz_json: the JSON reader, on any bytes, through tcrun.json: decoding
 * never crashes, and what decodes encodes to text that decodes and
 * encodes to the same text again (integers stay integers).
 */
#include "fuzz_lua.h"

static const char check[] =
	"local data = ...\n"
	"local json = require 'tcrun.json'\n"
	"local v, err = json.decode(data)\n"
	"if err then return end\n"
	"local ok, text = pcall(json.encode, v)\n"
	"if not ok then return end   -- e.g. a key that is not a string in Lua terms\n"
	"local again, err2 = json.decode(text)\n"
	"assert(err2 == nil, 'encoded text decodes: ' .. text .. ': ' .. tostring(err2))\n"
	"assert(json.encode(again) == text, 'encode is stable: ' .. text)\n";

FUZZ_LUA_TARGET("fuzz_json", check)

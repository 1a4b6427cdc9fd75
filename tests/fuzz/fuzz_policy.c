/*
 * fuzz_policy: policy.render (lua/tcrun/policy.lua) on any template and values.
 * The properties, and how the input is read, are in fuzz_policy.lua.
 */
#include "fuzz_lua.h"

FUZZ_LUA_TARGET("fuzz_policy")

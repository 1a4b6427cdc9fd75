/*
 * fuzz_csv: the CSV reader and writer (tcrun.csv) on any bytes.
 * The properties, and how the input is read, are in fuzz_csv.lua.
 */
#include "fuzz_lua.h"

FUZZ_LUA_TARGET("fuzz_csv")

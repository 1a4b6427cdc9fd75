/*
 * lsecret.h: secrets as opaque Lua values.
 *
 * Secret keys, session tokens and passwords that come back from the API
 * (or that tcrun generates) reach Lua only as userdata of type
 * "tcrun.secret": tostring gives "<secret>", and no Lua function reveals
 * the bytes.  C code with a sanctioned sink reads them with lsecret_get:
 * the request body of tc.call, the signer (opts.credential), and the CSV
 * writer (for the 0600 file that delivers initial passwords).
 */
#ifndef TCRUN_LSECRET_H
#define TCRUN_LSECRET_H

#include <stddef.h>

#include <lua.h>

#define LSECRET_TYPE "tcrun.secret"

/* Pushes a secret holding a copy of len bytes.  May raise (memory). */
void lsecret_push(lua_State *L, const char *s, size_t len);

/* The bytes of the secret at idx (NUL-ended), or NULL when the value
 * there is no secret. */
const char *lsecret_get(lua_State *L, int idx, size_t *len);

/* Replaces, in the table at idx and every table below it, each string
 * held under a key that names a secret (Password, SecretKey,
 * SecretAccessKey, TmpSecretKey, Token, PrivateKey) with a secret.  May
 * raise. */
void lsecret_hide_fields(lua_State *L, int idx);

/* Whether a field name names a secret (the keys above). */
int lsecret_is_secret_key(const char *key);

/* tc.secret_fields() -> a new array of those field names, so Lua code
 * that prints API values redacts the same fields the host does. */
int lsecret_fields(lua_State *L);

/* tc.password([length]) -> secret: random, with upper and lower case
 * letters, a digit and a symbol, as CAM's default password rule asks, and
 * never a symbol first (no spreadsheet formula). */
int lsecret_password(lua_State *L);

#endif

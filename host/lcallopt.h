/*
 * lcallopt.h: tc.call's options table, read into a struct:
 *   { region, version, timeout, retries, credential, idempotent, account,
 *     note }
 * plus one key only the host can write (lcallopt_push_guard): a call the
 * account gate itself makes, which must not wait at that gate.
 * An unknown key is an error by name, so a typo such as `retires = 3`
 * fails loudly.
 */
#ifndef TCRUN_LCALLOPT_H
#define TCRUN_LCALLOPT_H

#include <lua.h>

#include "creds.h"

struct account;
struct runtime;

struct call_opts {
	char version[16];
	char region[64];            /* "" for a global service */
	double timeout;             /* seconds per attempt */
	int retries;
	int idempotent;             /* safe to send again after a lost answer */
	struct creds own;           /* opts.credential */
	int use_own;
	struct account *account;    /* opts.account, or NULL */
	char note[512];             /* opts.note: for the journal's line */
	int guard;                  /* the gate's own call (see above) */
};

/* Fills o for a call of service from the options table at idx (a table)
 * and the runtime's defaults.  Raises usage errors ("bad option 'x' to
 * 'call'") with the caller's position. */
void lcallopt_read(lua_State *L, int idx, const char *service,
                   const struct runtime *rt, struct call_opts *o);

/* Pushes the key that marks an options table as the account gate's own
 * (set it to true); Lua code cannot make this key. */
void lcallopt_push_guard(lua_State *L);

/* Wipes the credential; idempotent. */
void lcallopt_clear(struct call_opts *o);

#endif

/*
 * lerror.h: the structured errors tc.call raises.
 *
 * An error is a table with code, message, request_id, service, action,
 * where (the recipe's "file:line: "), attempts and transient (whether
 * tc.call's retry classes, retry.h, call it passing), and a shared
 * metatable whose __tostring gives the one-line form
 * "[where]service.Action: Code: message (RequestId id)".
 */
#ifndef TCRUN_LERROR_H
#define TCRUN_LERROR_H

#include <lua.h>

struct lerror {
	const char *code, *message, *request_id;   /* NULL = "" */
	const char *service, *action, *where;
	int attempts;
	int transient;
};

/* Registers the metatable (once per state). */
void lerror_init(lua_State *L);

/* Pushes the error.  May raise (memory). */
void lerror_push(lua_State *L, const struct lerror *e);

/* Exit status for the error value on top of L: 2 for configuration
 * errors (no or wrong credentials: AuthFailure.*, an endpoint that cannot
 * be reached, a write under --dry-run, no journal, tc.config_error), else
 * 3. */
int lerror_status(lua_State *L);

/* tc.config_error(message): raises a ClientError.Config error, which ends
 * the run, unhandled, with the message as one line and exit status 2: a
 * problem of the run's setup found by a script (a state folder it cannot
 * use, say). */
int lerror_config(lua_State *L);

/* tc.is_transient(v) -> whether v is a tc.call error that may pass with
 * time: throttled, a failure inside the service, or a lost answer. */
int lerror_is_transient(lua_State *L);

#endif

/*
 * ltc.h: the tc module, tcrun's Lua API to Tencent Cloud.
 *
 *   tc.call(service, action [, params [, opts]]) -> Response
 *   tc.each(rows, fn [, opts])                   -> nok, failures
 *   tc.sleep(seconds), tc.password([n]), tc.is_write(action),
 *   tc.is_transient(err), tc.is_secret(v), tc.rate_limit(service, action,
 *   n), tc.log(...), tc.warn(...), tc.journal_path(), tc.isatty([fd]),
 *   tc.mkdir(path), tc.secret_fields(), tc.clock(), tc.on_interrupt(line)
 *   tc.dry_run, tc.region, tc.parallel, tc.version (here); tc.home and
 *   tc.config_dir (state.c)
 *
 * ltc_open builds the table around one runtime (HTTP, rate limits,
 * credentials, journal) and makes it the global `tc` and package.loaded.tc.
 */
#ifndef TCRUN_LTC_H
#define TCRUN_LTC_H

#include <lua.h>

#include "runtime.h"   /* struct tc_config */

struct http;


/* Pushes nothing; on failure returns -1 with a one-line reason. */
int ltc_open(lua_State *L, const struct tc_config *cfg, char *err,
             size_t errlen);

/* The HTTP multi handle the loop must drive. */
struct http *ltc_http(lua_State *L);

/* The line tc.on_interrupt left for an interrupted run's message, or NULL
 * (a string the Lua state keeps while it lives). */
const char *ltc_interrupt_note(lua_State *L);

#endif

/*
 * paths.h: where tcrun's files are.  Plain C (environment and file
 * system), no Lua.
 *
 *   home    lua/, recipes/, policies/ shipped with this binary: the source
 *           tree it was built in, else the installed data folder
 *   config  the admin's own recipes/ and bu/, searched first, never
 *           touched by upgrades: --config DIR, $TCRUN_CONFIG,
 *           $XDG_CONFIG_HOME/tcrun, ~/.config/tcrun
 *   state   what tcrun keeps between runs: journal/, accounts/<uin>/:
 *           $TCRUN_STATE_DIR, $XDG_STATE_HOME/tcrun, ~/.local/state/tcrun
 */
#ifndef TCRUN_PATHS_H
#define TCRUN_PATHS_H

#include <stddef.h>
#include <stdio.h>

const char *paths_home(void);

/* The configuration folder (given: --config, or NULL); 0, or -1 when none
 * can be named (no HOME). */
int paths_config(const char *given, char *out, size_t outlen);

/* The state folder; 0, or -1 when none can be named. */
int paths_state(char *out, size_t outlen);

/* The script to run: SCRIPT itself when it names a file or has a '/';
 * else config/recipes/SCRIPT, then home/recipes/SCRIPT (".lua" added when
 * SCRIPT has none).  0, or -1 (out then holds SCRIPT). */
int paths_find_script(const char *script, const char *config, char *out,
                      size_t outlen);

/* Prints the recipes of config/recipes and home/recipes, each with the
 * first line of its comment (its synopsis). */
void paths_list_recipes(FILE *out, const char *config);

#endif

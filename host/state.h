/*
 * state.h: one run of a script: the Lua state, our modules, `arg`, and the
 * scheduler loop, all under one protected call.
 */
#ifndef TCRUN_STATE_H
#define TCRUN_STATE_H

#include "ltc.h"

/* Exit codes, listed word for word by --help and tcrun.1. */
enum tcrun_exit {
	EXIT_OK = 0,          /* the script succeeded */
	EXIT_FAILURES = 1,    /* the script reported failures */
	EXIT_USAGE = 2,       /* usage or configuration error */
	EXIT_RUNTIME = 3,     /* script error, API error not handled */
	EXIT_INTERRUPT = 130  /* interrupted (SIGINT or SIGTERM) */
};

struct run {
	struct tc_config tc;
	const char *script;     /* as given on the command line */
	const char *config;     /* --config DIR, or NULL */
	int argc;               /* script arguments */
	char **argv;
};

/* Runs the script; returns an exit code. */
int state_run(const struct run *r);

#endif

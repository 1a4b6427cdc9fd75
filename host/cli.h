/*
 * cli.h: tcrun's command line, parsed: argv in, the options or one error
 * line out.  Pure: no I/O, no environment (TCRUN_ENDPOINT and the other
 * variables are main's and state's business), no exit, no globals left
 * changed but getopt's own, which cli_parse resets on every call.  main.c
 * acts on the result; tests/unit/test_cli.c and tests/fuzz/fuzz_cli.c
 * call it directly.
 *
 * The options come before SCRIPT; the first argument that is not an
 * option (or the one after "--") is SCRIPT, and everything after it is
 * the script's, options or not.  Long options may be abbreviated to any
 * unambiguous prefix and take their value as "--name VALUE" or
 * "--name=VALUE".
 */
#ifndef TCRUN_CLI_H
#define TCRUN_CLI_H

/* What the command line asks for. */
enum cli_action {
	CLI_RUN,        /* run argv[script], with argv[script + 1 ..] */
	CLI_LIST,       /* --list: list the recipes */
	CLI_HELP,       /* -h, --help: the first of help and version wins */
	CLI_VERSION,    /* --version */
	CLI_ERROR       /* a usage error: error holds the line */
};

/* Room for an error line: a 511-byte message, each byte escaped as \xNN
 * at worst (printable.h). */
#define CLI_ERROR_MAX (511 * 4 + 1)

struct cli {
	enum cli_action action;
	/* The values of --profile, --region, --endpoint, --journal and
	 * --config: NULL when not given, else pointers into argv. */
	const char *profile, *region, *endpoint, *journal, *config;
	int allow_http, dry_run;        /* --allow-http, --dry-run */
	int parallel;                   /* --parallel, 1..1024 (8) */
	int rate_limit;                 /* --rate-limit, 0..100000 (20) */
	int retries;                    /* --retries, 0..20 (4) */
	int timeout;                    /* --timeout seconds, 1..3600 (30) */
	int verbosity;                  /* the last of -q (0) and -v (2), or -1 */
	int script;                     /* CLI_RUN: SCRIPT is argv[script] */
	/* CLI_ERROR: the message, without the "tcrun: " prefix, one line and
	 * terminal-safe (printable.h) whatever the arguments held. */
	char error[CLI_ERROR_MAX];
};

/* Parses argv[0..argc-1] (argv[0], the program, is skipped) into c;
 * returns c->action.  argv is neither changed nor reordered.  Not
 * reentrant: getopt_long keeps its state in globals. */
enum cli_action cli_parse(struct cli *c, int argc, char *const argv[]);

#endif

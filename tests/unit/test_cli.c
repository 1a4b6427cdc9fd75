/*
 * test_cli: the command-line parser (cli.c), table-driven: options and
 * their defaults, both value spellings and abbreviations, SCRIPT and its
 * own arguments, each error line, and getopt's state between calls.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tap.h"

#define MAXV 12

struct want {
	const char *name;
	const char *argv[MAXV];         /* after "tcrun"; NULL-ended */
	enum cli_action action;
	const char *error;              /* CLI_ERROR */
	int script;                     /* CLI_RUN: index of SCRIPT */
};

static const struct want cases[] = {
	{ "no arguments", { NULL }, CLI_ERROR, "no script given", 0 },
	{ "a script", { "s.lua", NULL }, CLI_RUN, NULL, 1 },
	{ "a script's own options stay its own",
	  { "-v", "s.lua", "--parallel", "0", "-x", NULL }, CLI_RUN, NULL, 2 },
	{ "-- ends the options", { "--", "-x", NULL }, CLI_RUN, NULL, 2 },
	{ "- is a script", { "-", NULL }, CLI_RUN, NULL, 1 },
	{ "--list needs no script", { "--list", NULL }, CLI_LIST, NULL, 0 },
	{ "--list wins over a script", { "--list", "s", NULL }, CLI_LIST,
	  NULL, 0 },
	{ "--help", { "--help", NULL }, CLI_HELP, NULL, 0 },
	{ "-h in a cluster", { "-vh", "--bogus", NULL }, CLI_HELP, NULL, 0 },
	{ "--version before an error", { "--version", "--bogus", NULL },
	  CLI_VERSION, NULL, 0 },
	{ "an error before --version", { "--bogus", "--version", NULL },
	  CLI_ERROR, "unknown option '--bogus'", 0 },
	{ "unknown long option", { "--bogus", "x.lua", NULL }, CLI_ERROR,
	  "unknown option '--bogus'", 0 },
	{ "unknown short option", { "-x", "s", NULL }, CLI_ERROR,
	  "unknown option '-x'", 0 },
	{ "unknown short option first in a cluster", { "-xv", "s", NULL },
	  CLI_ERROR, "unknown option '-x'", 0 },
	{ "unknown short option last in a cluster", { "-vx", "s", NULL },
	  CLI_ERROR, "unknown option '-x'", 0 },
	{ "unknown short option after a value",
	  { "--profile", "secretish", "-zq", "s", NULL }, CLI_ERROR,
	  "unknown option '-z'", 0 },
	{ "a flag given a value", { "--dry-run=1", "s", NULL }, CLI_ERROR,
	  "option '--dry-run' takes no value", 0 },
	{ "an abbreviated flag given a value", { "--dry=", "s", NULL },
	  CLI_ERROR, "option '--dry-run' takes no value", 0 },
	{ "an ambiguous abbreviation given a value", { "--ver=1", "s", NULL },
	  CLI_ERROR, "unknown option '--ver=1'", 0 },
	{ "a signed number", { "--parallel", "+7", "s", NULL }, CLI_ERROR,
	  "--parallel: expected a number from 1 to 1024, got '+7'", 0 },
	{ "a number after a space", { "--retries= 3", "s", NULL }, CLI_ERROR,
	  "--retries: expected a number from 0 to 20, got ' 3'", 0 },
	{ "an ambiguous abbreviation", { "--r", "x", "s", NULL }, CLI_ERROR,
	  "unknown option '--r'", 0 },
	{ "a value missing", { "--parallel", NULL }, CLI_ERROR,
	  "option '--parallel' needs a value", 0 },
	{ "an abbreviation's value missing", { "--pro", NULL }, CLI_ERROR,
	  "option '--pro' needs a value", 0 },
	{ "--parallel 0", { "--parallel", "0", "x.lua", NULL }, CLI_ERROR,
	  "--parallel: expected a number from 1 to 1024, got '0'", 0 },
	{ "--parallel=", { "--parallel=", "s", NULL }, CLI_ERROR,
	  "--parallel: expected a number from 1 to 1024, got ''", 0 },
	{ "--rate-limit -1", { "--rate-limit", "-1", "s", NULL }, CLI_ERROR,
	  "--rate-limit: expected a number from 0 to 100000, got '-1'", 0 },
	{ "--retries 21", { "--retries=21", "s", NULL }, CLI_ERROR,
	  "--retries: expected a number from 0 to 20, got '21'", 0 },
	{ "--timeout 7s", { "--timeout", "7s", "s", NULL }, CLI_ERROR,
	  "--timeout: expected seconds from 1 to 3600, got '7s'", 0 },
	{ "a control character in an error",
	  { "--parallel", "\x1b[2J\n", "s", NULL }, CLI_ERROR,
	  "--parallel: expected a number from 1 to 1024, got "
	  "'\\x1b[2J\\x0a'", 0 },
	{ "a non-ASCII short option", { "-\xc3\xa9", "s", NULL }, CLI_ERROR,
	  "unknown option '-\xc3\xa9'", 0 },
};

/* argv for cli_parse: "tcrun", then args (NULL-ended); returns argc.
 * cli_parse takes char *const[] as getopt does, and writes nothing. */
static int mkargv(char **argv, const char *const *args)
{
	int n = 0;

	argv[n++] = (char *)(uintptr_t)"tcrun";
	while (args[n - 1]) {
		argv[n] = (char *)(uintptr_t)args[n - 1];
		n++;
	}
	argv[n] = NULL;
	return n;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct want *w = &cases[i];
		char *argv[MAXV + 2];
		int argc = mkargv(argv, w->argv);
		struct cli c;

		is_int(cli_parse(&c, argc, argv), w->action, "%s: action",
		       w->name);
		if (w->action == CLI_ERROR)
			is_str(c.error, w->error, "%s: the message", w->name);
		if (w->action == CLI_RUN)
			is_int(c.script, w->script, "%s: SCRIPT's place",
			       w->name);
	}
}

static void test_values(void)
{
	static const char *const args[] = {
		"--profile", "work", "--region=ap-shanghai",
		"--endpoint", "http://127.0.0.1:1", "--allow-http",
		"--dry-run", "--par", "64", "--rate-limit=0", "--retries",
		"20", "--timeout=3600", "--journal", "j.jsonl", "--conf", "c",
		"-vq", "--verbose", "s.lua", "a", NULL
	};
	static const char *const plain[] = { "s", NULL };
	char *argv[24];
	struct cli c;
	int argc = mkargv(argv, args);

	is_int(cli_parse(&c, argc, argv), CLI_RUN, "every option: run");
	is_str(c.profile, "work", "--profile NAME");
	is_str(c.region, "ap-shanghai", "--region=REGION");
	is_str(c.endpoint, "http://127.0.0.1:1", "--endpoint");
	ok(c.allow_http && c.dry_run, "--allow-http, --dry-run");
	is_int(c.parallel, 64, "--par abbreviates --parallel");
	is_int(c.rate_limit, 0, "--rate-limit=0");
	is_int(c.retries, 20, "--retries");
	is_int(c.timeout, 3600, "--timeout");
	is_str(c.journal, "j.jsonl", "--journal");
	is_str(c.config, "c", "--conf abbreviates --config");
	is_int(c.verbosity, 2, "the last of -q and -v wins");
	is_int(c.script, 20, "SCRIPT");
	ok(c.profile == argv[2] && c.region == argv[3] + 9,
	   "values point into argv");

	argc = mkargv(argv, plain);
	is_int(cli_parse(&c, argc, argv), CLI_RUN, "defaults: run");
	ok(!c.profile && !c.region && !c.endpoint && !c.journal &&
	   !c.config && !c.allow_http && !c.dry_run,
	   "defaults: no values, no flags");
	ok(c.parallel == 8 && c.rate_limit == 20 && c.retries == 4 &&
	   c.timeout == 30 && c.verbosity == -1,
	   "defaults: 8 in flight, 20/s, 4 retries, 30 s, verbosity kept");
	ok(c.error[0] == '\0', "no error line");
}

static void test_state(void)
{
	static const char *const hv_args[] = { "-hv", NULL };
	static const char *const xq_args[] = { "-xq", "s", NULL };
	static const char *const q_args[] = { "-q", "s", NULL };
	char *hv[4], *xq[4], *q[4], *none[] = { NULL };
	int hvc = mkargv(hv, hv_args), xqc = mkargv(xq, xq_args);
	int qc = mkargv(q, q_args);
	struct cli c;

	is_int(cli_parse(&c, hvc, hv), CLI_HELP,
	       "-hv stops inside its cluster");
	is_int(cli_parse(&c, qc, q), CLI_RUN, "the next parse starts afresh");
	is_int(c.verbosity, 0, "and sees its own -q, not the v left over");
	is_int(cli_parse(&c, xqc, xq), CLI_ERROR,
	       "-xq stops inside its cluster");
	is_int(cli_parse(&c, qc, q), CLI_RUN, "the next parse starts afresh");
	is_int(c.script, 2, "with SCRIPT in its place");
	is_int(cli_parse(&c, 0, none), CLI_ERROR, "no argv[0] at all");
	is_str(c.error, "no script given", "is no script");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	test_cases();
	test_values();
	test_state();
	return tap_done();
}

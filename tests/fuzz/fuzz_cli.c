/*
 * fuzz_cli: the command-line parser (host/cli.c) on any arguments.  The
 * input, split at 0x00, is argv[1..] (at most 64 of them; argv[0] is
 * "tcrun").  For every input:
 *  1. cli_parse ends, and changes neither argv nor its order;
 *  2. it gives the same result again after a parse that stopped inside a
 *     cluster (-hv): getopt's hidden state is reset on every call;
 *  3. numbers are within their ranges, every value points into argv, and
 *     a SCRIPT that starts with '-' (other than "-") comes after "--";
 *  4. an error is one terminal-safe line, and exactly one of the messages
 *     tcrun can give about one of the arguments (so it names an argument
 *     that is there: an option as given, or a short option's letter);
 *  5. round trip: the options parsed, written back as a plain command
 *     line (long names, "--name VALUE" and "--name=N", "--" before
 *     SCRIPT), parse to the same options, SCRIPT and script arguments.
 * A failed property prints the arguments and aborts.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "printable.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int g_argc;
static char **g_argv;

__attribute__((format(printf, 2, 3)))
static void check(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond)
		return;
	fprintf(stderr, "property failed: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nargv:");
	for (int i = 0; i < g_argc; i++)
		fprintf(stderr, " [%s]", g_argv[i]);
	fputc('\n', stderr);
	abort();
}

/* msg as cli.c makes it: a 512-byte line, then printable. */
__attribute__((format(printf, 2, 3)))
static int is_message(const char *error, const char *fmt, ...)
{
	char line[512], safe[CLI_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	printable(line, strlen(line), safe, sizeof safe, 0);
	return strcmp(error, safe) == 0;
}

static const char *const range_msgs[] = {
	"--parallel: expected a number from 1 to 1024",
	"--rate-limit: expected a number from 0 to 100000",
	"--retries: expected a number from 0 to 20",
	"--timeout: expected seconds from 1 to 3600",
};

/* Whether error is "option '--NAME' takes no value" for arg "--PREFIX=..."
 * (eq at its '='), NAME beginning with PREFIX (an abbreviation). */
static int takes_no_value(const char *error, const char *arg, const char *eq)
{
	static const char head[] = "option '--", tail[] = "' takes no value";
	size_t len = strlen(error), n = (size_t)(eq - arg);

	return strncmp(arg, "--", 2) == 0 && strncmp(error, head, 10) == 0 &&
	       len > 10 + strlen(tail) &&
	       strcmp(error + len - strlen(tail), tail) == 0 &&
	       n - 2 <= len - 10 - strlen(tail) &&
	       strncmp(error + 10, arg + 2, n - 2) == 0;
}

/* Whether error is one of the messages about argv[i] (or its value). */
static int names_arg(const char *error, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (is_message(error, "unknown option '%s'", arg) ||
	    is_message(error, "option '%s' needs a value", arg) ||
	    (eq && takes_no_value(error, arg, eq)))
		return 1;
	for (size_t k = 0; k < sizeof range_msgs / sizeof *range_msgs; k++)
		if (is_message(error, "%s, got '%s'", range_msgs[k], arg) ||
		    (eq && is_message(error, "%s, got '%s'", range_msgs[k],
		                      eq + 1)))
			return 1;
	if (arg[0] == '-' && arg[1] != '-')
		for (const char *p = arg + 1; *p; p++)
			if (is_message(error, "unknown option '-%c'", *p))
				return 1;
	return 0;
}

static void check_error(const struct cli *c, int argc, char **argv)
{
	size_t len = strlen(c->error);
	char again[CLI_ERROR_MAX];
	int found = is_message(c->error, "no script given");

	check(len > 0 && len < sizeof c->error, "an error says something");
	for (size_t i = 0; i < len; i++)
		check((unsigned char)c->error[i] >= 0x20 &&
		      c->error[i] != 0x7f, "an error is one plain line: %s",
		      c->error);
	printable(c->error, len, again, sizeof again, 0);
	check(strcmp(again, c->error) == 0, "an error is terminal-safe: %s",
	      c->error);
	for (int i = 1; i < argc && !found; i++)
		found = names_arg(c->error, argv[i]);
	check(found, "an error names one of the arguments: %s", c->error);
}

/* Whether p points into one of argv[1..]. */
static int in_argv(const char *p, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i]))
			return 1;
	return 0;
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static void round_trip(const struct cli *c, int argc, char **argv)
{
	static char prog[] = "tcrun", dashdash[] = "--";
	static char names[5][12] = { "--profile", "--region", "--endpoint",
	                             "--journal", "--config" };
	static char allow[] = "--allow-http", dry[] = "--dry-run";
	static char verbose[] = "--verbose", quiet[] = "--quiet";
	static char list[] = "--list";
	const char *vals[5] = { c->profile, c->region, c->endpoint,
	                        c->journal, c->config };
	char nums[4][40];
	char *v[16 + 4 + MAX_ARGS + 2];
	struct cli d;
	int n = 0, script = 0;

	v[n++] = prog;
	for (int i = 0; i < 5; i++)
		if (vals[i]) {
			v[n++] = names[i];
			v[n++] = (char *)(uintptr_t)vals[i];
		}
	if (c->allow_http)
		v[n++] = allow;
	if (c->dry_run)
		v[n++] = dry;
	snprintf(nums[0], sizeof nums[0], "--parallel=%d", c->parallel);
	snprintf(nums[1], sizeof nums[1], "--rate-limit=%d", c->rate_limit);
	snprintf(nums[2], sizeof nums[2], "--retries=%d", c->retries);
	snprintf(nums[3], sizeof nums[3], "--timeout=%d", c->timeout);
	for (int i = 0; i < 4; i++)
		v[n++] = nums[i];
	if (c->verbosity == 2)
		v[n++] = verbose;
	else if (c->verbosity == 0)
		v[n++] = quiet;
	if (c->action == CLI_LIST)
		v[n++] = list;
	if (c->action == CLI_RUN) {
		v[n++] = dashdash;
		script = n;
		for (int i = c->script; i < argc; i++)
			v[n++] = argv[i];
	}
	v[n] = NULL;
	check(cli_parse(&d, n, v) == c->action, "round trip: same action");
	check(same_str(d.profile, c->profile) &&
	      same_str(d.region, c->region) &&
	      same_str(d.endpoint, c->endpoint) &&
	      same_str(d.journal, c->journal) &&
	      same_str(d.config, c->config), "round trip: same values");
	check(d.allow_http == c->allow_http && d.dry_run == c->dry_run &&
	      d.parallel == c->parallel && d.rate_limit == c->rate_limit &&
	      d.retries == c->retries && d.timeout == c->timeout &&
	      d.verbosity == c->verbosity, "round trip: same settings");
	if (c->action == CLI_RUN)
		check(d.script == script, "round trip: SCRIPT after \"--\"");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "tcrun", hv[] = "-hv";
	char *other[] = { prog, hv, NULL };
	char *buf = malloc(size + 1);
	char *argv[MAX_ARGS + 2], *copy[MAX_ARGS + 2];
	struct cli a, b, o;
	int argc = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = prog;
	if (size > 0) {
		char *p = buf, *end = buf + size;

		while (argc <= MAX_ARGS) {
			argv[argc++] = p;
			p += strlen(p);
			if (p == end)
				break;
			p++;
		}
	}
	argv[argc] = NULL;
	g_argc = argc;
	g_argv = argv;
	memcpy(copy, argv, sizeof argv[0] * (size_t)(argc + 1));

	/* 1, 2 */
	cli_parse(&a, argc, argv);
	check(memcmp(copy, argv, sizeof argv[0] * (size_t)(argc + 1)) == 0,
	      "argv is left as it was");
	check(cli_parse(&o, 2, other) == CLI_HELP, "-hv asks for help");
	cli_parse(&b, argc, argv);
	check(memcmp(&a, &b, sizeof a) == 0,
	      "the same arguments parse the same after -hv");

	/* 3 */
	check(a.action >= CLI_RUN && a.action <= CLI_ERROR, "an action");
	check(a.parallel >= 1 && a.parallel <= 1024 && a.rate_limit >= 0 &&
	      a.rate_limit <= 100000 && a.retries >= 0 && a.retries <= 20 &&
	      a.timeout >= 1 && a.timeout <= 3600, "numbers in range");
	check(a.verbosity == -1 || a.verbosity == 0 || a.verbosity == 2,
	      "verbosity");
	check((!a.profile || in_argv(a.profile, argc, argv)) &&
	      (!a.region || in_argv(a.region, argc, argv)) &&
	      (!a.endpoint || in_argv(a.endpoint, argc, argv)) &&
	      (!a.journal || in_argv(a.journal, argc, argv)) &&
	      (!a.config || in_argv(a.config, argc, argv)),
	      "values point into argv");
	if (a.action == CLI_RUN) {
		const char *s;

		check(a.script >= 1 && a.script < argc, "SCRIPT is in argv");
		s = argv[a.script];
		check(s[0] != '-' || s[1] == '\0' ||
		      strcmp(argv[a.script - 1], "--") == 0,
		      "a SCRIPT starting with '-' follows \"--\"");
	}

	/* 4 */
	if (a.action == CLI_ERROR)
		check_error(&a, argc, argv);
	else
		check(a.error[0] == '\0', "no error line without an error");

	/* 5 */
	if (a.action == CLI_RUN || a.action == CLI_LIST)
		round_trip(&a, argc, argv);
	free(buf);
	return 0;
}

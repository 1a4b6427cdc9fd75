/*
 * cli.c: the command line (see cli.h), over getopt_long.
 *
 * Does: options before SCRIPT ("+" in the option string: no reordering,
 * the script's own options stay the script's), number ranges, one error
 * line naming the option at fault.
 *
 * Does not: print, exit, read the environment or look for the script.
 *
 * getopt_long keeps its position in globals (optind, and where it is
 * inside a cluster such as -vq).  optind = 0 asks glibc (and musl) for a
 * full reset, so that a parse stopped inside a cluster (-hv, -xv) leaves
 * nothing behind for the next one; optind = 1 would not.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "printable.h"

enum {
	O_PROFILE = 256, O_REGION, O_ENDPOINT, O_ALLOW_HTTP, O_DRY_RUN,
	O_PARALLEL, O_RATE, O_RETRIES, O_TIMEOUT, O_JOURNAL, O_CONFIG,
	O_LIST, O_VERSION
};

static const struct option longopts[] = {
	{ "profile", required_argument, NULL, O_PROFILE },
	{ "region", required_argument, NULL, O_REGION },
	{ "endpoint", required_argument, NULL, O_ENDPOINT },
	{ "allow-http", no_argument, NULL, O_ALLOW_HTTP },
	{ "dry-run", no_argument, NULL, O_DRY_RUN },
	{ "parallel", required_argument, NULL, O_PARALLEL },
	{ "rate-limit", required_argument, NULL, O_RATE },
	{ "retries", required_argument, NULL, O_RETRIES },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "journal", required_argument, NULL, O_JOURNAL },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "list", no_argument, NULL, O_LIST },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, O_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The numeric options: their range and how the error names them. */
static const struct {
	int opt;
	long lo, hi;
	const char *what;
} ranges[] = {
	{ O_PARALLEL, 1, 1024, "--parallel: expected a number from 1 to 1024" },
	{ O_RATE, 0, 100000, "--rate-limit: expected a number from 0 to 100000" },
	{ O_RETRIES, 0, 20, "--retries: expected a number from 0 to 20" },
	{ O_TIMEOUT, 1, 3600, "--timeout: expected seconds from 1 to 3600" },
};

/* Sets the error line: formatted as main.c always printed it (a 512-byte
 * line), then made terminal-safe.  Returns CLI_ERROR. */
__attribute__((format(printf, 2, 3)))
static enum cli_action fail(struct cli *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	printable(line, strlen(line), c->error, sizeof c->error, 0);
	return c->action = CLI_ERROR;
}

/* A whole number in [lo, hi] written in decimal digits alone (no sign,
 * no spaces, which strtol would take), or -1. */
static long number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return (!*end && v >= lo && v <= hi) ? v : -1;
}

/* The error for getopt's '?' or ':' at argv[at]: a long option is named
 * as given; a short one by its letter, since it may sit inside a cluster
 * (-vx) whose other letters are fine. */
static enum cli_action bad_option(struct cli *c, int opt,
                                  const char *elem)
{
	char name[3] = { '-', (char)optopt, '\0' };
	const char *shown = elem;

	if (strncmp(elem, "--", 2) != 0 && optopt > ' ' && optopt < 0x7f)
		shown = name;
	/* --dry-run=1 (or --dry=1): the option exists but takes no value */
	if (strncmp(elem, "--", 2) == 0 && strchr(elem, '=')) {
		size_t n = (size_t)(strchr(elem, '=') - elem) - 2;
		const struct option *hit = NULL;
		int hits = 0;

		for (const struct option *o = longopts; o->name; o++)
			if (strncmp(elem + 2, o->name, n) == 0) {
				hit = o;
				hits++;
				if (o->name[n] == '\0') {   /* exact: no ambiguity */
					hits = 1;
					break;
				}
			}
		if (hits == 1 && hit->has_arg == no_argument)
			return fail(c, "option '--%s' takes no value", hit->name);
	}
	if (opt == ':')
		return fail(c, "option '%s' needs a value", shown);
	return fail(c, "unknown option '%s'", shown);
}

enum cli_action cli_parse(struct cli *c, int argc, char *const argv[])
{
	int list = 0;

	memset(c, 0, sizeof *c);
	c->parallel = 8;
	c->rate_limit = 20;
	c->retries = 4;
	c->timeout = 30;
	c->verbosity = -1;
	/* With no argv[0], getopt would read past the end of argv. */
	if (argc < 1 || !argv[0])
		return fail(c, "no script given");
	optind = 0;
	opterr = 0;
	for (;;) {
		/* The element getopt works on: optind, or 1 on the reset. */
		int at = optind > 0 ? optind : 1;
		int opt = getopt_long(argc, argv, "+:vqh", longopts, NULL);
		long n;
		size_t i;

		if (opt == -1)
			break;
		switch (opt) {
		case O_PROFILE:
			c->profile = optarg;
			break;
		case O_REGION:
			c->region = optarg;
			break;
		case O_ENDPOINT:
			c->endpoint = optarg;
			break;
		case O_ALLOW_HTTP:
			c->allow_http = 1;
			break;
		case O_DRY_RUN:
			c->dry_run = 1;
			break;
		case O_PARALLEL:
		case O_RATE:
		case O_RETRIES:
		case O_TIMEOUT:
			for (i = 0; ranges[i].opt != opt; i++)
				;
			n = number(optarg, ranges[i].lo, ranges[i].hi);
			if (n < 0)
				return fail(c, "%s, got '%s'", ranges[i].what,
				            optarg);
			if (opt == O_PARALLEL)
				c->parallel = (int)n;
			else if (opt == O_RATE)
				c->rate_limit = (int)n;
			else if (opt == O_RETRIES)
				c->retries = (int)n;
			else
				c->timeout = (int)n;
			break;
		case O_JOURNAL:
			c->journal = optarg;
			break;
		case O_CONFIG:
			c->config = optarg;
			break;
		case O_LIST:
			list = 1;
			break;
		case 'v':
			c->verbosity = 2;
			break;
		case 'q':
			c->verbosity = 0;
			break;
		case O_VERSION:
			return c->action = CLI_VERSION;
		case 'h':
			return c->action = CLI_HELP;
		default:        /* '?' or ':' */
			return bad_option(c, opt, argv[at]);
		}
	}
	if (list)
		return c->action = CLI_LIST;
	if (optind >= argc)
		return fail(c, "no script given");
	c->script = optind;
	return c->action = CLI_RUN;
}

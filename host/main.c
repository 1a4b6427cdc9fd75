/*
 * main.c: options, --help, exit codes; then state_run().  No Lua here.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "msg.h"
#include "paths.h"
#include "state.h"

static const char usage_text[] =
"usage: tcrun [options] SCRIPT [ARGS...]\n"
"       tcrun --list\n"
"\n"
"Runs the Lua script SCRIPT with signed Tencent Cloud API calls (tc.call)\n"
"and concurrent rows (tc.each).  ARGS go to the script as arg[1..n] and\n"
"as `...`.  A SCRIPT that is not a file is a recipe: looked up in your\n"
"configuration folder's recipes/, then in those shipped with tcrun.\n"
"Options of tcrun come before SCRIPT, the recipe's own after it\n"
"(tcrun onboard.lua --help lists those).\n"
"\n"
"options:\n"
"  --profile NAME     credentials from tccli's ~/.tccli/NAME.credential\n"
"                     (also TCCLI_PROFILE); otherwise TENCENTCLOUD_SECRET_ID,\n"
"                     TENCENTCLOUD_SECRET_KEY and TENCENTCLOUD_SESSION_TOKEN\n"
"                     (or TENCENTCLOUD_TOKEN); otherwise profile 'default'\n"
"  --region REGION    the region of a tc.call that names none (else\n"
"                     TENCENTCLOUD_REGION, the profile's region,\n"
"                     ap-guangzhou); the recipes take theirs from the\n"
"                     business units\n"
"  --endpoint URL     send every request to URL (also TCRUN_ENDPOINT); the\n"
"                     Host header and signature keep <service>.tencentcloudapi.com\n"
"  --allow-http       allow a plain-http endpoint that is not loopback\n"
"  --dry-run          plan only: write calls are never sent (tc.dry_run)\n"
"  --parallel N       rows of tc.each in flight at once (default 8)\n"
"  --rate-limit N     calls per second for each action (default 20, with\n"
"                     Tencent Cloud's lower documented limits kept);\n"
"                     0 = no limit\n"
"  --retries N        retries after a throttled, failed or timed-out\n"
"                     attempt (default 4)\n"
"  --timeout SECONDS  per attempt (default 30)\n"
"  --config DIR       your own recipes (DIR/recipes/) and business units\n"
"                     (DIR/bu/), used before the shipped ones (also\n"
"                     TCRUN_CONFIG; default $XDG_CONFIG_HOME/tcrun or\n"
"                     ~/.config/tcrun)\n"
"  --journal FILE     append every write call to FILE as a JSON line\n"
"                     (default: a new file in $TCRUN_JOURNAL_DIR, else in\n"
"                     the state folder's journal/, at the first write)\n"
"  --list             list the recipes, yours and the shipped ones\n"
"  -v, --verbose      more detail: retries, the files loaded, tracebacks\n"
"  -q, --quiet        errors and warnings only\n"
"  --version          print the version and exit\n"
"  -h, --help         print this help and exit\n"
"\n"
"files:\n"
"  state folder       journals and what recipes remember per account\n"
"                     (undelivered passwords): $TCRUN_STATE_DIR, else\n"
"                     $XDG_STATE_HOME/tcrun, else ~/.local/state/tcrun\n"
"\n"
"exit codes:\n"
"  0    the script succeeded\n"
"  1    the script reported failures (it returned false)\n"
"  2    usage or configuration error (bad option, no script, no or wrong\n"
"       credentials, credentials of another account than accounts.lua\n"
"       says, bad or unreachable endpoint, bad region, unwritable journal\n"
"       or output folder, invalid roster, business unit or accounts.lua)\n"
"  3    runtime error (script error, unhandled API error)\n"
"  130  interrupted (SIGINT or SIGTERM)\n";

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	msg_error("%s", line);
	fprintf(stderr, "try 'tcrun --help'\n");
	return EXIT_USAGE;
}

/* A whole number in [lo, hi], or -1. */
static long number(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	return (*s && !*end && v >= lo && v <= hi) ? v : -1;
}

int main(int argc, char **argv)
{
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
	struct run r = {
		.tc = {
			.parallel = 8, .rate_limit = 20, .retries = 4,
			.timeout = 30, .endpoint = getenv("TCRUN_ENDPOINT"),
		},
	};
	char config[4096];
	int opt, list = 0;
	long n;

	/* No core dump and no ptrace by other processes of the user: the
	 * process holds the secret key. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:vqh", longopts, NULL)) != -1) {
		switch (opt) {
		case O_PROFILE:
			r.tc.profile = optarg;
			break;
		case O_REGION:
			r.tc.region = optarg;
			break;
		case O_ENDPOINT:
			r.tc.endpoint = optarg;
			break;
		case O_ALLOW_HTTP:
			r.tc.allow_http = 1;
			break;
		case O_DRY_RUN:
			r.tc.dry_run = 1;
			break;
		case O_PARALLEL:
			if ((n = number(optarg, 1, 1024)) < 0)
				return usage_error("--parallel: expected a "
				                   "number from 1 to 1024, got "
				                   "'%s'", optarg);
			r.tc.parallel = (int)n;
			break;
		case O_RATE:
			if ((n = number(optarg, 0, 100000)) < 0)
				return usage_error("--rate-limit: expected a "
				                   "number from 0 to 100000, "
				                   "got '%s'", optarg);
			r.tc.rate_limit = (double)n;
			break;
		case O_RETRIES:
			if ((n = number(optarg, 0, 20)) < 0)
				return usage_error("--retries: expected a "
				                   "number from 0 to 20, got "
				                   "'%s'", optarg);
			r.tc.retries = (int)n;
			break;
		case O_TIMEOUT:
			if ((n = number(optarg, 1, 3600)) < 0)
				return usage_error("--timeout: expected "
				                   "seconds from 1 to 3600, got "
				                   "'%s'", optarg);
			r.tc.timeout = (double)n;
			break;
		case O_JOURNAL:
			r.tc.journal = optarg;
			break;
		case O_CONFIG:
			r.config = optarg;
			break;
		case O_LIST:
			list = 1;
			break;
		case 'v':
			msg_verbosity = 2;
			break;
		case 'q':
			msg_verbosity = 0;
			break;
		case O_VERSION:
			printf("tcrun %s\n", TCRUN_VERSION);
			return EXIT_OK;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case ':':
			return usage_error("option '%s' needs a value",
			                   argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
			                   argv[optind - 1]);
		}
	}
	if (list) {
		paths_list_recipes(stdout, paths_config(r.config, config,
		                   sizeof config) == 0 ? config : NULL);
		return EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("no script given");
	r.script = argv[optind];
	r.tc.script = argv[optind];
	r.argc = argc - optind - 1;
	r.argv = argv + optind + 1;
	return state_run(&r);
}

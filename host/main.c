/*
 * main.c: --help, --version, --list, exit codes; the options parsed by
 * cli.c; then state_run().  No Lua here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cli.h"
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

int main(int argc, char **argv)
{
	struct cli c;
	struct run r;
	char config[4096];

	/* No core dump and no ptrace by other processes of the user: the
	 * process holds the secret key. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });

	switch (cli_parse(&c, argc, argv)) {
	case CLI_ERROR:
		msg_error("%s", c.error);
		fprintf(stderr, "try 'tcrun --help'\n");
		return EXIT_USAGE;
	case CLI_VERSION:
		printf("tcrun %s\n", TCRUN_VERSION);
		return EXIT_OK;
	case CLI_HELP:
		fputs(usage_text, stdout);
		return EXIT_OK;
	case CLI_LIST:
	case CLI_RUN:
		break;
	}
	if (c.verbosity >= 0)
		msg_verbosity = c.verbosity;
	if (c.action == CLI_LIST) {
		paths_list_recipes(stdout, paths_config(c.config, config,
		                   sizeof config) == 0 ? config : NULL);
		return EXIT_OK;
	}
	r = (struct run){
		.tc = {
			.profile = c.profile,
			.region = c.region,
			.endpoint = c.endpoint ? c.endpoint
			                       : getenv("TCRUN_ENDPOINT"),
			.allow_http = c.allow_http,
			.dry_run = c.dry_run,
			.parallel = c.parallel,
			.rate_limit = (double)c.rate_limit,
			.retries = c.retries,
			.timeout = (double)c.timeout,
			.journal = c.journal,
			.script = argv[c.script],
		},
		.script = argv[c.script],
		.config = c.config,
		.argc = argc - c.script - 1,
		.argv = argv + c.script + 1,
	};
	return state_run(&r);
}

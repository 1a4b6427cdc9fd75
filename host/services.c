/*
 * services.c: the services tcrun knows (see services.h).
 */
#include <string.h>

#include "services.h"

static const struct {
	const char *service, *version;
	int global;
} apis[] = {
	{ "cam", "2019-01-16", 1 },
	{ "sts", "2018-08-13", 0 },
	{ "tcb", "2018-06-08", 0 },
	{ "lighthouse", "2020-03-24", 0 },
	{ "tat", "2020-10-28", 0 },
	{ "billing", "2018-07-09", 1 },
	{ "tag", "2018-08-13", 1 },
	{ "cloudaudit", "2019-03-19", 0 },
	{ "organization", "2021-03-31", 1 },
	{ "cvm", "2017-03-12", 0 },
};

const char *services_version(const char *service, int *global)
{
	for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++)
		if (strcmp(apis[i].service, service) == 0) {
			*global = apis[i].global;
			return apis[i].version;
		}
	*global = 0;
	return NULL;
}

int services_is_write(const char *action)
{
	/* AssumeRole changes nothing: it lends credentials, and a dry
	 * run needs them to read another account. */
	static const char *const reads[] = {
		"Describe", "List", "Get", "LookUp", "Query", "Check",
		"Inquire", "Search", "AssumeRole", NULL
	};

	for (const char *const *p = reads; *p; p++)
		if (strncmp(action, *p, strlen(*p)) == 0)
			return 0;
	return 1;
}

int services_region_ok(const char *region)
{
	size_t n = strlen(region);

	return n > 0 && n < 64 &&
	       strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

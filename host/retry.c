/*
 * retry.c: retry classes and backoff (see retry.h).
 */
#include <string.h>

#include "retry.h"

enum retry_class retry_class_of_code(const char *code)
{
	if (strncmp(code, "RequestLimitExceeded", 20) == 0)
		return RETRY_THROTTLED;
	if (strncmp(code, "InternalError", 13) == 0 ||
	    strcmp(code, "ServiceUnavailable") == 0)
		return RETRY_UNCERTAIN;
	return RETRY_NO;
}

enum retry_class retry_class_of_status(long status)
{
	return status >= 500 && status <= 599 ? RETRY_UNCERTAIN : RETRY_NO;
}

int retry_allowed(enum retry_class c, int idempotent)
{
	return c == RETRY_THROTTLED || (c == RETRY_UNCERTAIN && idempotent);
}

double retry_backoff_ms(int attempt, unsigned char r)
{
	double ms = 500;

	for (int i = 1; i < attempt && ms < 20000; i++)
		ms *= 2;
	if (ms > 20000)
		ms = 20000;
	return ms * (0.5 + r / 510.0);
}

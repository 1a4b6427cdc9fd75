/*
 * retry.h: which failed attempts tc.call sends again, and when.  The one
 * place the classes live: tc.call's retries and the `transient` flag of
 * its errors (tc.is_transient) both come from here.  Plain C.
 */
#ifndef TCRUN_RETRY_H
#define TCRUN_RETRY_H

enum retry_class {
	RETRY_NO,           /* a final answer: don't send again */
	RETRY_THROTTLED,    /* refused before it ran: always safe again */
	RETRY_UNCERTAIN     /* the service failed or the answer was lost:
	                     * it may have run, so again only if idempotent */
};

/* The class of an API error code: RequestLimitExceeded* is throttled;
 * InternalError* and ServiceUnavailable are uncertain; the rest final. */
enum retry_class retry_class_of_code(const char *code);

/* The class of an HTTP status that came instead of an API answer: 5xx
 * uncertain, the rest final.  A lost connection or a timeout (no status
 * at all) is uncertain. */
enum retry_class retry_class_of_status(long status);

/* Whether an attempt of class c may be sent again. */
int retry_allowed(enum retry_class c, int idempotent);

/* Milliseconds to wait before attempt `attempt` + 1 (attempt >= 1):
 * 500, 1000, 2000, ... at most 20000, scaled by 50-100 % with the random
 * byte r (jitter). */
double retry_backoff_ms(int attempt, unsigned char r);

#endif

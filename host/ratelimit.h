/*
 * ratelimit.h: client-side rate limits per (service, action).
 *
 * Each action gets a rate in calls per second: a built-in table of the
 * limits Tencent Cloud documents below or above the usual 20/s, else the
 * default.  Calls are spaced evenly, a margin more than 1/rate apart (2%
 * to 20%, learnt from the throttles the server answers), so no one-second
 * window ever holds more than rate calls, even as the server sees them
 * with some jitter.  Pure: the caller passes the clock and the answers.
 */
#ifndef TCRUN_RATELIMIT_H
#define TCRUN_RATELIMIT_H

struct ratelimit;

/* default_rate: calls/s for actions without a known limit; known limits
 * are capped at it.  0 disables every limit.  NULL when out of memory. */
struct ratelimit *ratelimit_new(double default_rate);
void ratelimit_free(struct ratelimit *rl);

/* Overrides one action's rate (0 = unlimited).  Returns 0 or -1. */
int ratelimit_set(struct ratelimit *rl, const char *service,
                  const char *action, double rate);

/* The rate in force for an action (0 = unlimited). */
double ratelimit_rate(struct ratelimit *rl, const char *service,
                      const char *action);

/* Reserves the next slot for a call at now_ms (a monotonic clock in ms)
 * and returns how many ms the caller must wait before sending it. */
double ratelimit_reserve(struct ratelimit *rl, const char *service,
                         const char *action, double now_ms);

/* Tells the limiter how a call of the action, sent in the slot at
 * slot_ms, was answered: throttled (RequestLimitExceeded) widens the
 * action's margin, unless the call was spaced before the last widening;
 * a run of other answers narrows it again. */
void ratelimit_answered(struct ratelimit *rl, const char *service,
                        const char *action, int throttled, double slot_ms);

/* The spacing in force between calls of an action, in ms (0 = none). */
double ratelimit_spacing_ms(struct ratelimit *rl, const char *service,
                            const char *action);

#endif

/*
 * laccount.h: accounts other than the one tcrun's credentials belong to,
 * and the wrong-account guard.
 *
 *   local prod = tc.account{ name = "prod", uin = "200000000001",
 *                            role = "OrganizationAccessControlRole",
 *                            duration = 3600, external_id = nil }
 *   tc.call("cam", "GetRole", { RoleName = "tcrun-admin" }, { account = prod })
 *   local hub = tc.account{ name = "hub", uin = "100000000001" }  -- no role
 *   tc.default_account(hub)   -- calls without opts.account (or
 *                             -- opts.credential) go there
 *
 * An account with a role is reached with temporary credentials: before
 * the first call there, the host assumes the role (sts.AssumeRole,
 * signed with the run's credentials through the default account) and
 * keeps the credentials here, in C: Lua sees the account, never its keys.
 * Before they expire (a fifth of their lifetime, at most five minutes,
 * before) the next call assumes the role again; one task does it while
 * the others wait for it, so a hundred rows make one AssumeRole.  An
 * account without a role uses the run's own credentials.
 *
 * The guard: before the first call in an account (either kind),
 * sts.GetCallerIdentity under its credentials must answer its uin.
 * Otherwise every call there fails, without being sent, with
 * ClientError.WrongAccount (exit status 2) naming both UINs.
 *
 * The gate below is the state machine; lcall.c runs the two calls.
 */
#ifndef TCRUN_LACCOUNT_H
#define TCRUN_LACCOUNT_H

#include <time.h>

#include <lua.h>

#include "creds.h"

struct task;

struct account {
	char name[33];
	char uin[24];
	char role[129];             /* "" = the run's own credentials */
	char external_id[129];
	char session[65];           /* RoleSessionName */
	int duration;               /* seconds asked of AssumeRole */
	struct creds creds;         /* the role's, once assumed */
	time_t expires;             /* their end (wall clock); 0 = none */
	unsigned gen;               /* bumped at every new set of creds */
	time_t margin;              /* renewed this long before expires */
	int checked;                /* the guard passed */
	int assumed;                /* AssumeRole calls made, for tests */
	struct task *refresher;     /* the task assuming or checking now */
	unsigned round;             /* refreshes started */
	unsigned failed_round;      /* the last one that failed, and how: */
	char err_code[64];          /* the tasks that waited for it fail so */
	char err_msg[400];
	int err_transient;
	struct task **waiters;
	size_t nwait, capwait;
	char fail_code[48];         /* a failure that stays: wrong account */
	char fail_msg[400];
};

enum account_gate {
	GATE_READY,     /* call now with account_creds() */
	GATE_WAIT,      /* queued: sched_wait, yield, ask again when woken */
	GATE_REFRESH,   /* the task must refresh (assume, check), then done */
	GATE_FAILED     /* fail_code, fail_msg */
};

void laccount_init(lua_State *L);

/* tc.account{...} -> account; tc.default_account([account]) -> the one
 * before (or nil); without an argument it only tells. */
int laccount_new(lua_State *L);
int laccount_default(lua_State *L);

/* The account at idx, or NULL when it is not one. */
struct account *laccount_test(lua_State *L, int idx);
/* Pushes a's userdata (every account is anchored for the whole run). */
void laccount_push(lua_State *L, const struct account *a);

/* What task t, about to send a call in a, must do first; now is the wall
 * clock.  GATE_REFRESH starts round a->round; GATE_WAIT has added t to the
 * waiters of round a->round (the caller keeps it: when that round fails,
 * its waiters fail with its error, account_round_failed, rather than each
 * trying again).  May fail for memory (GATE_FAILED). */
enum account_gate account_gate(struct account *a, struct task *t,
                               time_t now);
/* The refresher ends: wakes every waiter (which asks the gate again). */
void account_done(struct account *a);
/* The refresher failed with code, message: remembered for its waiters,
 * then account_done. */
void account_fail_round(struct account *a, const char *code,
                        const char *message, int transient);
/* Whether round (one a task waited for) ended in failure. */
int account_round_failed(const struct account *a, unsigned round);
/* t is abandoned while waiting: forget it. */
void account_unwait(struct account *a, struct task *t);
/* Whether a reaches its account through a role (temporary credentials). */
int account_has_role(const struct account *a);
/* Whether a's credentials still need assuming (none, or near their end). */
int account_stale(const struct account *a, time_t now);
/* Keeps the credentials of an AssumeRole Response (the table at idx:
 * Credentials.TmpSecretId, .TmpSecretKey and .Token as secrets,
 * ExpiredTime), to be renewed a fifth of the life granted (at most five
 * minutes) before they end.  0, or -1 with a reason in err: malformed, or
 * already over by the local clock (skew). */
int account_store(lua_State *L, struct account *a, int idx, char *err,
                  size_t errlen);
/* The guard: whether id (GetCallerIdentity's AccountId) is a's uin.  A
 * mismatch makes the failure stay (GATE_FAILED from now on). */
int account_verify(struct account *a, const char *id);
/* Marks a's current credentials as refused (the service said the token
 * failed) when they are still generation gen. */
void account_expire(struct account *a, unsigned gen);

#endif

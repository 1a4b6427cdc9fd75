/*
 * creds.h: where tcrun's credentials come from, compatible with what users
 * already have.
 *
 * Order: a profile named by --profile or TCCLI_PROFILE (tccli's
 * ~/.tccli/NAME.credential and NAME.configure); otherwise the environment
 * (TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, a session token from
 * TENCENTCLOUD_SESSION_TOKEN or TENCENTCLOUD_TOKEN, TENCENTCLOUD_REGION);
 * otherwise the "default" profile.  The secret key stays in this struct and
 * in tc3.c: it is never pushed into Lua and never printed.
 */
#ifndef TCRUN_CREDS_H
#define TCRUN_CREDS_H

#include <stddef.h>

struct creds {
	char *secret_id;
	char *secret_key;
	char *token;          /* session token, or NULL */
	char *region;         /* the source's region, or NULL */
	char source[320];     /* for messages: "environment", "profile 'x'" */
};

/* Fills c from the chain above; profile may be NULL.  Returns 0, or -1 with
 * a one-line reason naming what was looked for.  Warnings (a credential
 * file readable by group or others) go through msg_warn. */
int creds_load(struct creds *c, const char *profile, char *err,
               size_t errlen);

/* A copy of the given strings (token and region may be NULL); 0 or -1. */
int creds_set(struct creds *c, const char *id, const char *key,
              const char *token, const char *region);

/* Wipes and frees what c holds; c may be reused afterwards. */
void creds_clear(struct creds *c);

/* Overwrites in place, then unsets, the environment variables that hold a
 * secret (TENCENTCLOUD_SECRET_KEY and the session tokens), so neither the
 * original environment block (/proc/PID/environ, a core dump), os.getenv
 * nor a child process shows them.  Call once creds_load is done. */
void creds_wipe_env(void);

#endif

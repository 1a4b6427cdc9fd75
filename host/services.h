/*
 * services.h: what tcrun knows of Tencent Cloud's services: the default
 * API version of each, which are global (no X-TC-Region), which actions
 * count as writes, and the shape of a region name.  Plain data: no Lua,
 * no I/O.
 */
#ifndef TCRUN_SERVICES_H
#define TCRUN_SERVICES_H

/* The default API version of service (fact sheet §1.1), or NULL when
 * tcrun knows none; *global is set to whether the service takes no
 * region unless a call names one. */
const char *services_version(const char *service, int *global);

/* Whether tcrun treats action as a write: anything but Describe*, List*,
 * Get*, LookUp*, Query*, Check*, Inquire*, Search*. */
int services_is_write(const char *action);

/* Whether region is a plausible region name: non-empty, lowercase
 * letters, digits and '-', shorter than 64 bytes (it goes into a
 * header). */
int services_region_ok(const char *region);

#endif

/*
 * fsutil.c: file-system helpers (see fsutil.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"

int fs_mkdirs(const char *dir)
{
	size_t n = strlen(dir);
	char *p = strdup(dir);
	int rc = 0;

	if (!p)
		return -1;
	for (size_t i = 1; i <= n && rc == 0; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			rc = -1;
		if (i < n)
			p[i] = '/';
	}
	free(p);
	return rc;
}

/*
 * fsutil.h: file-system helpers shared by the journal and tc.mkdir.
 */
#ifndef TCRUN_FSUTIL_H
#define TCRUN_FSUTIL_H

/* Creates dir and its missing parents, each with mode 0700 (they may hold
 * journals and initial passwords).  Returns 0, or -1 with errno set. */
int fs_mkdirs(const char *dir);

#endif

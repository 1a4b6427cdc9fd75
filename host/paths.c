/*
 * paths.c: where tcrun's files are (see paths.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

const char *paths_home(void)
{
	char exe[4096], want[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n > 0) {
		exe[n] = '\0';
		snprintf(want, sizeof want, "%s/tcrun", TCRUN_SRCDIR);
		if (strcmp(exe, want) == 0)
			return TCRUN_SRCDIR;
	}
	return is_dir(TCRUN_DATADIR "/lua") ? TCRUN_DATADIR : TCRUN_SRCDIR;
}

/* env, else base/sub from the first of xdg and home/dot that is set. */
static int pick(const char *env, const char *xdg, const char *dot,
                char *out, size_t outlen)
{
	const char *e = getenv(env), *x = getenv(xdg), *h = getenv("HOME");
	int n;

	if (e && *e)
		n = snprintf(out, outlen, "%s", e);
	else if (x && *x)
		n = snprintf(out, outlen, "%s/tcrun", x);
	else if (h && *h)
		n = snprintf(out, outlen, "%s/%s/tcrun", h, dot);
	else
		return -1;
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int paths_config(const char *given, char *out, size_t outlen)
{
	if (given && *given) {
		snprintf(out, outlen, "%s", given);
		return 0;
	}
	return pick("TCRUN_CONFIG", "XDG_CONFIG_HOME", ".config", out, outlen);
}

int paths_state(char *out, size_t outlen)
{
	return pick("TCRUN_STATE_DIR", "XDG_STATE_HOME", ".local/state", out,
	            outlen);
}

int paths_find_script(const char *script, const char *config, char *out,
                      size_t outlen)
{
	const char *dirs[] = { config, paths_home() };
	size_t n = strlen(script);
	const char *ext = n > 4 && strcmp(script + n - 4, ".lua") == 0 ? "" :
	                  ".lua";

	if (is_file(script) || strchr(script, '/')) {
		snprintf(out, outlen, "%s", script);
		return is_file(script) ? 0 : -1;
	}
	/* "onboard" is onboard.lua. */
	for (int i = 0; i < 2; i++) {
		if (!dirs[i])
			continue;
		snprintf(out, outlen, "%s/recipes/%s%s", dirs[i], script, ext);
		if (is_file(out))
			return 0;
	}
	snprintf(out, outlen, "%s", script);
	return -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A recipe's synopsis, into line: its first comment line without "-- ",
 * joined with the lines that continue it ("--    [--more]"). */
static void synopsis(const char *path, char *line, size_t cap)
{
	FILE *f = fopen(path, "r");
	char more[256];

	line[0] = '\0';
	if (!f)
		return;
	if (fgets(line, (int)cap, f) && strncmp(line, "-- ", 3) == 0) {
		memmove(line, line + 3, strlen(line + 3) + 1);
		line[strcspn(line, "\n")] = '\0';
		while (fgets(more, sizeof more, f) &&
		       strncmp(more, "--  ", 4) == 0) {
			char *rest = more + 2 + strspn(more + 2, " ");

			rest[strcspn(rest, "\n")] = '\0';
			if (strlen(line) + strlen(rest) + 2 >= cap)
				break;
			strcat(line, " ");
			strcat(line, rest);
		}
	} else {
		line[0] = '\0';
	}
	fclose(f);
}

void paths_list_recipes(FILE *out, const char *config)
{
	const char *dirs[] = { config, paths_home() };

	for (int i = 0; i < 2; i++) {
		char dir[4096], path[8192], line[256], **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *de;
		DIR *d;

		if (!dirs[i])
			continue;
		snprintf(dir, sizeof dir, "%s/recipes", dirs[i]);
		fprintf(out, "%s in %s:\n", i == 0 ? "your recipes" :
		        "recipes shipped with tcrun", dir);
		if ((d = opendir(dir))) {
			while ((de = readdir(d))) {
				size_t len = strlen(de->d_name);
				char **grown;

				if (len < 5 || strcmp(de->d_name + len - 4, ".lua"))
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 16;
					if (!(grown = realloc(names, cap *
					                      sizeof *names)))
						break;
					names = grown;
				}
				if (!(names[n] = strdup(de->d_name)))
					break;
				n++;
			}
			closedir(d);
		}
		if (n)
			qsort(names, n, sizeof *names, by_name);
		for (size_t k = 0; k < n; k++) {
			snprintf(path, sizeof path, "%s/%s", dir, names[k]);
			synopsis(path, line, sizeof line);
			fprintf(out, "  %s\n", line[0] ? line : names[k]);
			free(names[k]);
		}
		if (n == 0)
			fprintf(out, "  (none)\n");
		free(names);
	}
}

/* The per-user and system-wide locations of vmtop's files. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "xmalloc.h"

static const char *
paths_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v == '/' ? v : NULL;
}

static const char *
paths_home(void)
{
	const char *home = paths_env("HOME");

	return home != NULL ? home : "/";
}

char *
paths_socket(void)
{
	const char *rt;
	char *path;

	if (geteuid() == 0)
		return xstrdup("/run/vmtop/engine.sock");
	if ((rt = paths_env("XDG_RUNTIME_DIR")) != NULL)
		xasprintf(&path, "%s/vmtop/engine.sock", rt);
	else
		xasprintf(&path, "/tmp/vmtop-%u/engine.sock",
		    (unsigned)geteuid());
	return path;
}

char *
paths_user_configdir(void)
{
	const char *xdg;
	char *path;

	if ((xdg = paths_env("XDG_CONFIG_HOME")) != NULL)
		xasprintf(&path, "%s/vmtop", xdg);
	else
		xasprintf(&path, "%s/.config/vmtop", paths_home());
	return path;
}

char *
paths_config(void)
{
	char *dir, *path;

	if (geteuid() == 0)
		return xstrdup("/etc/vmtop/vm.conf");
	dir = paths_user_configdir();
	xasprintf(&path, "%s/vm.conf", dir);
	free(dir);
	return path;
}

/* VMTOP_STATE_DIR moves state and console logs (tests, odd setups). */
char *
paths_statedir(void)
{
	const char *xdg;
	char *path;

	if ((xdg = paths_env("VMTOP_STATE_DIR")) != NULL)
		return xstrdup(xdg);
	if (geteuid() == 0)
		return xstrdup("/var/lib/vmtop");
	if ((xdg = paths_env("XDG_STATE_HOME")) != NULL)
		xasprintf(&path, "%s/vmtop", xdg);
	else
		xasprintf(&path, "%s/.local/state/vmtop", paths_home());
	return path;
}

char *
paths_logdir(void)
{
	if (geteuid() == 0 && paths_env("VMTOP_STATE_DIR") == NULL)
		return xstrdup("/var/log/vmtop");
	return paths_statedir();
}

int
paths_mkdirs(const char *dir, int mode)
{
	char *p, *s;

	p = xstrdup(dir);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == -1 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	if (mkdir(dir, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

char *
paths_exedir(void)
{
	char buf[PATH_MAX], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", buf, sizeof buf - 1)) <= 0)
		return NULL;
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return NULL;
	*slash = '\0';
	return xstrdup(buf[0] != '\0' ? buf : "/");
}

/* The per-user and system-wide locations of vmtop's files. */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
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

/* The fallback for the socket's folder when there is no runtime dir. */
static void
paths_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/vmtop-%u", (unsigned)geteuid());
}

char *
paths_socket(void)
{
	const char *rt;
	char *path, dir[64];

	if (geteuid() == 0)
		return xstrdup("/run/vmtop/engine.sock");
	if ((rt = paths_env("XDG_RUNTIME_DIR")) != NULL)
		xasprintf(&path, "%s/vmtop/engine.sock", rt);
	else {
		paths_tmpdir(dir, sizeof dir);
		xasprintf(&path, "%s/engine.sock", dir);
	}
	return path;
}

int
paths_socket_check(const char *socket, char *err, size_t errlen)
{
	struct stat st;
	char dir[64];
	size_t n;

	paths_tmpdir(dir, sizeof dir);
	n = strlen(dir);
	if (strncmp(socket, dir, n) != 0 || socket[n] != '/')
		return 0;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the socket folder %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) == -1) {
		snprintf(err, errlen, "the socket folder %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "the socket folder %s is not a folder "
		    "(a link or a file): refusing it", dir);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "the socket folder %s belongs to uid %u, "
		    "not to you: refusing it", dir, (unsigned)st.st_uid);
		return -1;
	}
	if ((st.st_mode & 07777) != 0700) {
		snprintf(err, errlen, "the socket folder %s has mode %04o, not "
		    "0700: refusing it", dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
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

/*
 * The one way vmtop's sandboxed processes give up root, and the pieces of
 * their sandboxes they share: a user namespace for an unprivileged start,
 * an empty root.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"

int
privdrop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (uid == 0)
		uid = PRIVDROP_NOBODY;
	if (gid == 0)
		gid = PRIVDROP_NOBODY;
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "dropping to uid %u gid %u: %s",
		    (unsigned)uid, (unsigned)gid, strerror(errno));
		return -1;
	}
	if (setuid(0) != -1) {
		snprintf(err, errlen, "uid %u could become root again",
		    (unsigned)uid);
		return -1;
	}
	return 0;
}

static int
privdrop_write(const char *path, const char *text)
{
	int fd, rv = 0;
	ssize_t len = strlen(text);

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (write(fd, text, len) != len)
		rv = -1;
	close(fd);
	return rv;
}

int
privdrop_userns(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (unshare(CLONE_NEWUSER) == -1)
		return -1;
	snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (privdrop_write("/proc/self/uid_map", map) == -1)
		return -1;
	if (privdrop_write("/proc/self/setgroups", "deny\n") == -1)
		return -1;
	snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return privdrop_write("/proc/self/gid_map", map);
}

/*
 * Bind the host's file path read-only at the same path under the cwd;
 * a file the host does not have is left out.
 */
static int
privdrop_keep(const char *path)
{
	char rel[PATH_MAX], *p;
	int fd;

	if (access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (path[0] != '/' || snprintf(rel, sizeof rel, "%s", path + 1) >=
	    (int)sizeof rel) {
		errno = EINVAL;
		return -1;
	}
	for (p = strchr(rel, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(rel, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if ((fd = open(rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0444)) == -1)
		return -1;
	close(fd);
	if (mount(path, rel, NULL, MS_BIND, NULL) == -1)
		return -1;
	return mount(NULL, rel, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

int
privdrop_pivot(const char *keep)
{
	static const char *dirs[] = { "/tmp", "/mnt", "/proc" };
	size_t i;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if (mount("tmpfs", dirs[i], "tmpfs", MS_NOSUID | MS_NODEV |
		    MS_NOEXEC, "size=4k,mode=0755") == 0)
			break;
	if (i == sizeof dirs / sizeof dirs[0])
		return -1;
	if (chdir(dirs[i]) == -1 || mkdir("old", 0700) == -1)
		return -1;
	if (keep != NULL && privdrop_keep(keep) == -1)
		return -1;
	if (syscall(SYS_pivot_root, ".", "old") == -1 || chdir("/") == -1 ||
	    umount2("/old", MNT_DETACH) == -1 || rmdir("/old") == -1)
		return -1;
	return mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, NULL);
}

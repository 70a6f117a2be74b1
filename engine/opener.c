/*
 * The opener: a short-lived child of the engine that opens a VM's files
 * with its owner's rights and passes each fd back (SCM_RIGHTS), so that
 * a root engine never opens a path on a user's behalf and never blocks
 * on one (a FIFO, a slow FUSE file). resource.c is the engine's side.
 * For a non-root owner of a root engine it drops to the owner's uid, gid
 * and groups first; /dev/kvm is opened for the owner by root only when
 * vm.conf allows it (`allow kvm`). The child reads only headers of images
 * whose format is qcow2 by config or name, never a raw image's data.
 */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "engine.h"
#include "msg.h"
#include "privdrop.h"


static uint32_t	opener_id;	/* the VM's, our messages' peer id */

/* Whether the opener must drop from root to vm's owner. */
int
opener_drops(const struct conf_vm *c)
{
	return geteuid() == 0 && c->has_owner && c->uid != 0;
}

/* Tell the engine why the start fails, and end. */
static void __attribute__((noreturn, format(printf, 2, 3)))
opener_fail(int sock, const char *fmt, ...)
{
	struct proto_error e;
	va_list ap;

	memset(&e, 0, sizeof e);
	va_start(ap, fmt);
	vsnprintf(e.text, sizeof e.text, fmt, ap);
	va_end(ap);
	msg_send_sync(sock, MSG_OPEN_ERROR, opener_id, -1, &e, sizeof e);
	_exit(1);
}

static void
opener_item(struct proto_open_item *it, uint32_t kind, uint32_t index,
    uint32_t depth, enum disk_format fmt, const char *path)
{
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->index = index;
	it->depth = depth;
	it->format = fmt;
	snprintf(it->path, sizeof it->path, "%s", path);
}

/*
 * Become the owner: its passwd entry's uid, gid and groups, or for a
 * numeric owner with no entry its uid alone, with no groups.
 */
static void
opener_drop(int sock, const struct conf_vm *c)
{
	struct passwd *pw;
	gid_t gid;
	char err[256];

	if ((pw = getpwuid(c->uid)) != NULL) {
		gid = pw->pw_gid;
		if (initgroups(pw->pw_name, gid) == -1)
			opener_fail(sock, "vm %s: the groups of its owner %s: "
			    "%s", c->name, pw->pw_name, strerror(errno));
		if (setresgid(gid, gid, gid) == -1 ||
		    setresuid(c->uid, c->uid, c->uid) == -1)
			opener_fail(sock, "vm %s: becoming its owner %s: %s",
			    c->name, pw->pw_name, strerror(errno));
		return;
	}
	gid = c->gid != (gid_t)-1 ? c->gid : PRIVDROP_NOBODY;
	if (privdrop(c->uid, gid, err, sizeof err) == -1)
		opener_fail(sock, "vm %s: becoming its owner %u: %s", c->name,
		    (unsigned)c->uid, err);
}

/* Whether vm.conf lets the owner (now our credentials) use KVM. */
static int
opener_kvm_allowed(const struct config *conf, uid_t uid)
{
	gid_t groups[NGROUPS_MAX + 1];
	int i, j, n;

	for (i = 0; i < conf->nkvm_users; i++)
		if (conf->kvm_users[i] == uid)
			return 1;
	if ((n = getgroups(NGROUPS_MAX, groups)) == -1)
		n = 0;
	groups[n++] = getegid();
	for (i = 0; i < conf->nkvm_groups; i++)
		for (j = 0; j < n; j++)
			if (conf->kvm_groups[i] == groups[j])
				return 1;
	return 0;
}

/*
 * Open path as what (kind/index/depth) with flags: a regular file or a
 * block device. The engine is told first, so that a timeout can name
 * it. Returns the fd, or ends.
 */
static int
opener_open(int sock, const struct conf_vm *c, const char *what,
    const char *path, uint32_t kind, uint32_t index, uint32_t depth,
    int flags)
{
	struct proto_open_item it;
	struct stat st;
	int fd;

	opener_item(&it, kind, index, depth, DISK_FORMAT_AUTO, path);
	msg_send_sync(sock, MSG_OPEN_TRY, opener_id, -1, &it, sizeof it);
	fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		opener_fail(sock, "vm %s: %s %s: %s", c->name, what, path,
		    strerror(errno));
	if (fstat(fd, &st) == -1)
		opener_fail(sock, "vm %s: %s %s: %s", c->name, what, path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		opener_fail(sock, "vm %s: %s %s: not a regular file or block "
		    "device", c->name, what, path);
	/* The runner does its own blocking I/O. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static void
opener_send(int sock, int fd, uint32_t kind,
    uint32_t index, uint32_t depth, enum disk_format fmt, const char *path)
{
	struct proto_open_item it;

	opener_item(&it, kind, index, depth, fmt, path);
	if (msg_send_sync(sock, MSG_OPEN_FD, opener_id, fd, &it,
	    sizeof it) == -1)
		_exit(1);
	close(fd);
}

/* Open what a runner opens by path, for an owner who could not. */
static int
opener_kvm_as_root(const struct conf_vm *c, const char *path)
{
	if (!opener_drops(c))
		return -1;
	return open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
}

static void
opener_kvm(int sock, const struct conf_vm *c, const struct config *conf,
    const char *path, int rootfd)
{
	struct proto_open_item it;
	struct stat st;
	char owner[32];
	int fd;

	opener_item(&it, RUNFD_KVM, 0, 0, DISK_FORMAT_AUTO, path);
	msg_send_sync(sock, MSG_OPEN_TRY, opener_id, -1, &it, sizeof it);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1 && (errno == EACCES || errno == EPERM) && rootfd != -1 &&
	    opener_kvm_allowed(conf, c->uid)) {
		fd = rootfd;
		rootfd = -1;
	} else if (fd == -1 && (errno == EACCES || errno == EPERM)) {
		owner_name(c->uid, owner, sizeof owner);
		if (opener_drops(c) || rootfd != -1)
			opener_fail(sock, "vm %s: %s: user %s may not use KVM "
			    "(not allowed by vm.conf)", c->name, path, owner);
		opener_fail(sock, "vm %s: %s: permission denied (is the user "
		    "in the kvm group?)", c->name, path);
	} else if (fd == -1 && (errno == ENOENT || errno == ENXIO ||
	    errno == ENODEV))
		opener_fail(sock, "vm %s: hardware virtualization unavailable "
		    "(%s: %s)", c->name, path, strerror(errno));
	else if (fd == -1)
		opener_fail(sock, "vm %s: %s: %s", c->name, path,
		    strerror(errno));
	if (rootfd != -1)
		close(rootfd);
	if (fstat(fd, &st) == -1 || !S_ISCHR(st.st_mode))
		opener_fail(sock, "vm %s: %s: not a character device", c->name,
		    path);
	opener_send(sock, fd, RUNFD_KVM, 0, 0, DISK_FORMAT_AUTO, path);
}

/* Disk i and every base of its chain, top down. */
static void
opener_disk(int sock, const struct conf_vm *c, int i)
{
	const struct conf_disk *d = &c->disks[i];
	char base[VM_PATH_SIZE], path[VM_PATH_SIZE], next[VM_PATH_SIZE];
	char why[256];
	struct stat st[VM_MAX_BASE_IMAGES + 1];
	enum disk_format fmt, basefmt;
	int fd, depth, k;

	/* Never from the contents: a guest writes its raw disk's header. */
	fmt = d->format != DISK_FORMAT_AUTO ? d->format :
	    disk_format_of_name(d->path);
	snprintf(path, sizeof path, "%s", d->path);
	fd = opener_open(sock, c, "disk", path, RUNFD_DISK, i, 0, O_RDWR);
	for (depth = 0;; depth++) {
		if (fstat(fd, &st[depth]) == -1)
			opener_fail(sock, "vm %s: disk %s: %s", c->name, path,
			    strerror(errno));
		for (k = 0; k < depth; k++)
			if (st[k].st_dev == st[depth].st_dev &&
			    st[k].st_ino == st[depth].st_ino)
				opener_fail(sock, "vm %s: disk %s: base chain "
				    "loops back to %s", c->name, d->path, path);
		if (disk_base(fd, fmt, base, sizeof base, &basefmt, why,
		    sizeof why) == -1)
			opener_fail(sock, "vm %s: disk %s: %s", c->name, path,
			    why);
		opener_send(sock, fd, depth == 0 ? RUNFD_DISK :
		    RUNFD_DISK_BASE, i, depth, fmt, path);
		if (base[0] == '\0')
			return;
		if (depth == VM_MAX_BASE_IMAGES)
			opener_fail(sock, "vm %s: disk %s: base chain is deeper "
			    "than %d images", c->name, d->path,
			    VM_MAX_BASE_IMAGES);
		if (disk_base_resolve(path, base, next, sizeof next) == -1)
			opener_fail(sock, "vm %s: disk %s: the base image path "
			    "is too long", c->name, path);
		memcpy(path, next, sizeof path);
		fmt = disk_base_format(basefmt);
		fd = opener_open(sock, c, "base image", path, RUNFD_DISK_BASE,
		    i, depth + 1, O_RDONLY);
	}
}

/*
 * Make the cloud-init seed in seeddir, as the owner (own: the engine's
 * own user), and send it.
 */
static void
opener_seed(int sock, const struct conf_vm *c, const char *statedir,
    int own, int seeddir)
{
	struct proto_open_item it;
	char path[VM_PATH_SIZE], err[PROTO_TEXT_SIZE];
	int fd;

	cloudinit_path(statedir, c->name, path, sizeof path);
	opener_item(&it, RUNFD_SEED, 0, 0, DISK_FORMAT_RAW, path);
	msg_send_sync(sock, MSG_OPEN_TRY, opener_id, -1, &it, sizeof it);
	if ((fd = cloudinit_seed(c, statedir, own, seeddir, err,
	    sizeof err)) == -1)
		opener_fail(sock, "%s", err);
	close(seeddir);
	opener_send(sock, fd, RUNFD_SEED, 0, 0, DISK_FORMAT_RAW, path);
}

/*
 * The child's whole life, on sock: open c's files in order (kvm, kernel
 * or BIOS, initrd, cdrom, disks with their bases, the cloud-init seed it
 * makes in statedir), send each with
 * MSG_OPEN_FD, end with MSG_OPEN_END, or with MSG_OPEN_ERROR at the
 * first failure. Never returns.
 */
void
opener_run(int sock, uint32_t id, const struct conf_vm *c,
    const struct config *conf, const char *kvm_path, const char *statedir)
{
	char err[PROTO_TEXT_SIZE];
	int i, fd, rootkvm, seeddir = -1, drops = opener_drops(c);

	opener_id = id;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* Nothing of the engine's but our socket stays open. */
	if (sock != 3 && dup2(sock, 3) == -1)
		_exit(1);
	sock = 3;
	close_range(4, ~0U, 0);

	rootkvm = opener_kvm_as_root(c, kvm_path);
	/* The seed's folder is the engine's to make: before the drop. */
	if (c->cloudinit.enabled && (seeddir = cloudinit_dir(c, statedir,
	    drops ? c->uid : geteuid(), err, sizeof err)) == -1)
		opener_fail(sock, "%s", err);
	if (drops)
		opener_drop(sock, c);
	opener_kvm(sock, c, conf, kvm_path, rootkvm);
	if (c->kernel != NULL) {
		fd = opener_open(sock, c, "kernel", c->kernel, RUNFD_KERNEL, 0,
		    0, O_RDONLY);
		opener_send(sock, fd, RUNFD_KERNEL, 0, 0, DISK_FORMAT_AUTO,
		    c->kernel);
	} else {
		const char *bios = conf_vm_bios(c);

		fd = opener_open(sock, c, "BIOS image", bios, RUNFD_BIOS, 0, 0,
		    O_RDONLY);
		opener_send(sock, fd, RUNFD_BIOS, 0, 0, DISK_FORMAT_AUTO,
		    bios);
	}
	if (c->initrd != NULL) {
		fd = opener_open(sock, c, "initrd", c->initrd, RUNFD_INITRD, 0,
		    0, O_RDONLY);
		opener_send(sock, fd, RUNFD_INITRD, 0, 0, DISK_FORMAT_AUTO,
		    c->initrd);
	}
	if (c->cdrom != NULL) {
		fd = opener_open(sock, c, "cdrom", c->cdrom, RUNFD_CDROM, 0, 0,
		    O_RDONLY);
		opener_send(sock, fd, RUNFD_CDROM, 0, 0, DISK_FORMAT_AUTO,
		    c->cdrom);
	}
	for (i = 0; i < c->ndisks; i++)
		opener_disk(sock, c, i);
	if (seeddir != -1)
		opener_seed(sock, c, statedir, !drops, seeddir);
	msg_send_sync(sock, MSG_OPEN_END, opener_id, -1, NULL, 0);
	_exit(0);
}

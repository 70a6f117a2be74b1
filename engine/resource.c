/*
 * Resource opening, as vmd's config_setvm does it: the engine opens every
 * file a VM needs and hands the runner fds. The first resource that fails
 * stops the start with a sentence naming the VM, the path and the cause.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "engine.h"
#include "log.h"
#include "xmalloc.h"

#define DEFAULT_BIOS	"/usr/share/seabios/bios.bin"

void
resources_init(struct resources *res)
{
	int i, j;

	res->kvm = res->kernel = res->initrd = res->bios = res->cdrom = -1;
	res->pty = -1;
	for (i = 0; i < VM_MAX_DISKS; i++) {
		res->disks[i] = -1;
		res->nbases[i] = 0;
		res->formats[i] = DISK_FORMAT_AUTO;
		for (j = 0; j < VM_MAX_BASE_IMAGES; j++)
			res->bases[i][j] = -1;
	}
	for (i = 0; i < VM_MAX_NICS; i++)
		res->nics[i] = -1;
}

static void
closefd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

void
resources_close(struct resources *res)
{
	int i, j;

	closefd(&res->kvm);
	closefd(&res->kernel);
	closefd(&res->initrd);
	closefd(&res->bios);
	closefd(&res->cdrom);
	closefd(&res->pty);
	for (i = 0; i < VM_MAX_DISKS; i++) {
		closefd(&res->disks[i]);
		for (j = 0; j < VM_MAX_BASE_IMAGES; j++)
			closefd(&res->bases[i][j]);
	}
	for (i = 0; i < VM_MAX_NICS; i++)
		closefd(&res->nics[i]);
}

/* Whether the engine must check paths on behalf of a non-root owner. */
static int
resource_checks_owner(struct vm *vm)
{
	return geteuid() == 0 && vm->conf->has_owner && vm->conf->uid != 0;
}

/*
 * Open path for a VM's resource (what: "disk", "kernel"...). Returns the
 * fd, or -1 with a sentence in err.
 */
static int
resource_open(struct vm *vm, const char *what, const char *path, int flags,
    char *err, size_t errlen)
{
	struct stat st;
	int fd;

	fd = open(path, flags | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		snprintf(err, errlen, "vm %s: %s %s: %s", vm->conf->name, what,
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "vm %s: %s %s: %s", vm->conf->name, what,
		    path, S_ISDIR(st.st_mode) ? "is a directory" :
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (resource_checks_owner(vm) &&
	    !access_file_ok(&st, vm->conf->uid, vm->conf->gid,
	    (flags & O_ACCMODE) == O_RDWR)) {
		char owner[32];

		owner_name(vm->conf->uid, owner, sizeof owner);
		snprintf(err, errlen, "vm %s: %s %s: permission denied for "
		    "its owner %s", vm->conf->name, what, path, owner);
		close(fd);
		return -1;
	}
	return fd;
}

/* The running VM other than self whose disks include path, if any. */
struct vm *
resources_disk_holder(const char *path, struct vm *self)
{
	struct vm *vm;
	int i;

	TAILQ_FOREACH(vm, &engine->vms, entry) {
		if (vm == self || vm->pid == 0)
			continue;
		for (i = 0; i < vm->conf->ndisks; i++)
			if (strcmp(vm->conf->disks[i].path, path) == 0)
				return vm;
	}
	return NULL;
}

static int
resource_lock(struct vm *vm, int fd, const char *what, const char *path,
    int how, char *err, size_t errlen)
{
	struct vm *holder;

	if (flock(fd, how | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK) {
		snprintf(err, errlen, "vm %s: %s %s: locking: %s",
		    vm->conf->name, what, path, strerror(errno));
		return -1;
	}
	if ((holder = resources_disk_holder(path, vm)) != NULL)
		snprintf(err, errlen, "vm %s: %s %s is locked by vm %s",
		    vm->conf->name, what, path, holder->conf->name);
	else
		snprintf(err, errlen, "vm %s: %s %s is locked by another vm "
		    "or program", vm->conf->name, what, path);
	return -1;
}

/* A base path as stored in an image is relative to that image's folder. */
static char *
resource_base_resolve(const char *image, const char *base)
{
	char *copy, *dir, *path;

	if (base[0] == '/')
		return xstrdup(base);
	copy = xstrdup(image);
	dir = dirname(copy);
	xasprintf(&path, "%s/%s", dir, base);
	free(copy);
	return path;
}

/* Open disk i, lock it, and walk its base chain read-only. */
static int
resource_open_disk(struct vm *vm, struct resources *res, int i, char *err,
    size_t errlen)
{
	struct conf_disk *d = &vm->conf->disks[i];
	char base[VM_PATH_SIZE], why[256], *path, *next;
	struct stat st;
	dev_t devs[VM_MAX_BASE_IMAGES + 1];
	ino_t inos[VM_MAX_BASE_IMAGES + 1];
	int fd, depth, k;
	enum disk_format fmt, basefmt;

	fd = resource_open(vm, "disk", d->path, O_RDWR, err, errlen);
	if (fd == -1)
		return -1;
	res->disks[i] = fd;
	if (resource_lock(vm, fd, "disk", d->path, LOCK_EX, err, errlen) == -1)
		return -1;
	/* Never from the contents: a guest writes its raw disk's header. */
	fmt = d->format != DISK_FORMAT_AUTO ? d->format :
	    disk_format_of_name(d->path);
	res->formats[i] = fmt;
	if (fstat(fd, &st) == -1)
		return -1;
	devs[0] = st.st_dev;
	inos[0] = st.st_ino;
	path = xstrdup(d->path);
	for (depth = 0;; depth++) {
		if (disk_base(fd, fmt, base, sizeof base, &basefmt, why,
		    sizeof why) == -1) {
			snprintf(err, errlen, "vm %s: disk %s: %s",
			    vm->conf->name, path, why);
			goto fail;
		}
		if (base[0] == '\0')
			break;
		next = resource_base_resolve(path, base);
		if (depth == VM_MAX_BASE_IMAGES) {
			snprintf(err, errlen, "vm %s: disk %s: base chain is "
			    "deeper than %d images", vm->conf->name, d->path,
			    VM_MAX_BASE_IMAGES);
			free(next);
			goto fail;
		}
		free(path);
		path = next;
		fd = resource_open(vm, "base image", path, O_RDONLY, err,
		    errlen);
		if (fd == -1)
			goto fail;
		res->bases[i][depth] = fd;
		res->nbases[i] = depth + 1;
		if (fstat(fd, &st) == -1)
			goto fail;
		for (k = 0; k <= depth; k++) {
			if (devs[k] == st.st_dev && inos[k] == st.st_ino) {
				snprintf(err, errlen, "vm %s: disk %s: base "
				    "chain loops back to %s", vm->conf->name,
				    d->path, path);
				goto fail;
			}
		}
		devs[depth + 1] = st.st_dev;
		inos[depth + 1] = st.st_ino;
		if (resource_lock(vm, fd, "base image", path, LOCK_SH, err,
		    errlen) == -1)
			goto fail;
		fmt = disk_base_format(basefmt);
	}
	free(path);
	return 0;
fail:
	free(path);
	return -1;
}

/* The console pty: kept across guest reboots, slave owned by the owner. */
static int
resource_open_pty(struct vm *vm, char *err, size_t errlen)
{
	struct group *gr;
	char name[sizeof vm->tty];

	if (vm->pty == -1) {
		vm->pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (vm->pty == -1 || grantpt(vm->pty) == -1 ||
		    unlockpt(vm->pty) == -1 ||
		    ptsname_r(vm->pty, name, sizeof name) != 0) {
			snprintf(err, errlen, "vm %s: console pty: %s",
			    vm->conf->name, strerror(errno));
			return -1;
		}
		snprintf(vm->tty, sizeof vm->tty, "%s", name);
		if (geteuid() == 0 && vm->conf->has_owner) {
			gr = getgrnam("tty");
			if (chown(name, vm->conf->uid,
			    gr != NULL ? gr->gr_gid : 0) == -1 ||
			    chmod(name, 0620) == -1)
				log_warn("vm %s: %s", vm->conf->name, name);
		}
	}
	return fcntl(vm->pty, F_DUPFD_CLOEXEC, 3);
}

static int
resource_open_kvm(struct vm *vm, char *err, size_t errlen)
{
	const char *path = engine->kvm_path;
	int fd;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) != -1)
		return fd;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		snprintf(err, errlen, "vm %s: hardware virtualization "
		    "unavailable (%s: %s)", vm->conf->name, path,
		    strerror(errno));
	else if (errno == EACCES || errno == EPERM)
		snprintf(err, errlen, "vm %s: %s: permission denied (is the "
		    "user in the kvm group?)", vm->conf->name, path);
	else
		snprintf(err, errlen, "vm %s: %s: %s", vm->conf->name, path,
		    strerror(errno));
	return -1;
}

int
resources_open(struct vm *vm, struct resources *res, char *err,
    size_t errlen)
{
	struct conf_vm *c = vm->conf;
	int i;

	if ((res->kvm = resource_open_kvm(vm, err, errlen)) == -1)
		return -1;
	if (c->kernel != NULL) {
		res->kernel = resource_open(vm, "kernel", c->kernel, O_RDONLY,
		    err, errlen);
		if (res->kernel == -1)
			return -1;
	} else {
		res->bios = resource_open(vm, "BIOS image",
		    c->boot != NULL ? c->boot : DEFAULT_BIOS, O_RDONLY, err,
		    errlen);
		if (res->bios == -1)
			return -1;
	}
	if (c->initrd != NULL && (res->initrd = resource_open(vm, "initrd",
	    c->initrd, O_RDONLY, err, errlen)) == -1)
		return -1;
	if (c->cdrom != NULL && (res->cdrom = resource_open(vm, "cdrom",
	    c->cdrom, O_RDONLY, err, errlen)) == -1)
		return -1;
	for (i = 0; i < c->ndisks; i++)
		if (resource_open_disk(vm, res, i, err, errlen) == -1)
			return -1;
	for (i = 0; i < c->nnics; i++)
		if (netif_open(vm, res, i, err, errlen) == -1)
			return -1;
	if ((res->pty = resource_open_pty(vm, err, errlen)) == -1)
		return -1;
	if (capture_open_log(&vm->capture, engine->logdir, c->name,
	    access_owner(vm), engine->conf.console_log_size,
	    engine->conf.console_log_keep) == -1)
		log_warn("vm %s: console log in %s", c->name, engine->logdir);
	return 0;
}

/*
 * Resource opening, as vmd's config_setvm does it, but never as root on a
 * user's behalf and never in the event loop: an opener child (opener.c)
 * opens each file with the VM's owner's rights and passes the fds back;
 * here the engine takes them, locks the disks, adds what only it opens
 * (NICs, the console pty, the log) and calls back. The first resource
 * that fails, or one not opened within RESOURCE_OPEN_TIMEOUT seconds,
 * fails the start with a sentence naming the VM and the resource.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <event2/event.h>

#include "disk.h"
#include "engine.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

#define RESOURCE_OPEN_TIMEOUT	30	/* seconds for all of a VM's files */

/* A VM's files being opened by its opener child. */
struct opening {
	TAILQ_ENTRY(opening) entry;
	struct vm	*vm;		/* NULL once the start went on or failed */
	pid_t		 pid;		/* the child; 0 once reaped */
	int		 cancelled;	/* stopped: no files go on */
	int		 exit_pending;	/* the VM's exit is yet to be told */
	struct msgconn	*conn;
	struct event	*timer;
	struct resources res;
	char		 what[VM_PATH_SIZE + 16];	/* being opened */
	resources_cb	 done;
};
static TAILQ_HEAD(, opening) openings = TAILQ_HEAD_INITIALIZER(openings);

static int	resource_try(struct msgconn *, struct msg *, void *);
static int	resource_fd(struct msgconn *, struct msg *, void *);
static int	resource_error(struct msgconn *, struct msg *, void *);
static int	resource_end(struct msgconn *, struct msg *, void *);

static const struct msg_handler resource_handlers[] = {
	{ MSG_OPEN_TRY, "open try", sizeof(struct proto_open_item), 0,
	    resource_try },
	{ MSG_OPEN_FD, "open fd", sizeof(struct proto_open_item), 0,
	    resource_fd },
	{ MSG_OPEN_ERROR, "open error", sizeof(struct proto_error), 0,
	    resource_error },
	{ MSG_OPEN_END, "open end", 0, 0, resource_end },
};

void
resources_init(struct resources *res)
{
	int i, j;

	res->kvm = res->kernel = res->initrd = res->bios = res->cdrom = -1;
	res->seed = -1;
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
	closefd(&res->seed);
	closefd(&res->pty);
	for (i = 0; i < VM_MAX_DISKS; i++) {
		closefd(&res->disks[i]);
		for (j = 0; j < VM_MAX_BASE_IMAGES; j++)
			closefd(&res->bases[i][j]);
	}
	for (i = 0; i < VM_MAX_NICS; i++)
		closefd(&res->nics[i]);
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
		snprintf(err, errlen, "vm %s: %s %.300s: locking: %s",
		    vm->conf->name, what, path, strerror(errno));
		return -1;
	}
	if ((holder = resources_disk_holder(path, vm)) != NULL)
		snprintf(err, errlen, "vm %s: %s %.300s is locked by vm %s",
		    vm->conf->name, what, path, holder->conf->name);
	else
		snprintf(err, errlen, "vm %s: %s %.300s is locked by another vm "
		    "or program", vm->conf->name, what, path);
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


/* What an item is, for messages: "disk /vm/a.img". */
static void
resource_item_name(const struct proto_open_item *it, char *buf, size_t len)
{
	static const char *const kinds[RUNFD_KIND_COUNT] = {
		[RUNFD_KVM] = "", [RUNFD_KERNEL] = "kernel ",
		[RUNFD_INITRD] = "initrd ", [RUNFD_BIOS] = "BIOS image ",
		[RUNFD_CDROM] = "cdrom ", [RUNFD_DISK] = "disk ",
		[RUNFD_DISK_BASE] = "base image ",
		[RUNFD_SEED] = "cloud-init seed ",
	};
	const char *k = it->kind < RUNFD_KIND_COUNT &&
	    kinds[it->kind] != NULL ? kinds[it->kind] : "file ";

	snprintf(buf, len, "%s%.*s", k, (int)strnlen(it->path,
	    sizeof it->path), it->path);
}

/*
 * The opening is over, with err (NULL: every file is open): the callback
 * gets the VM; the child, if still there, is reaped later.
 */
static void
resource_finish(struct opening *op, const char *err)
{
	struct vm *vm = op->vm;

	if (op->timer != NULL)
		event_free(op->timer);
	op->timer = NULL;
	if (op->conn != NULL)
		msgconn_free(op->conn);
	op->conn = NULL;
	op->vm = NULL;
	vm->opening = NULL;
	op->done(vm, &op->res, err);
	resources_close(&op->res);
	if (op->pid == 0) {
		TAILQ_REMOVE(&openings, op, entry);
		free(op);
	}
}

static int
resource_try(struct msgconn *c, struct msg *m, void *arg)
{
	struct opening *op = arg;

	(void)c;
	resource_item_name(m->data, op->what, sizeof op->what);
	return 0;
}

/* The slot an item's fd goes to, or NULL if the item makes no sense. */
static int *
resource_slot(struct opening *op, const struct proto_open_item *it)
{
	struct resources *res = &op->res;
	int *const single[RUNFD_KIND_COUNT] = {
		[RUNFD_KVM] = &res->kvm, [RUNFD_KERNEL] = &res->kernel,
		[RUNFD_INITRD] = &res->initrd, [RUNFD_BIOS] = &res->bios,
		[RUNFD_CDROM] = &res->cdrom, [RUNFD_SEED] = &res->seed,
	};
	int *slot = NULL;

	switch (it->kind) {
	case RUNFD_KVM:
	case RUNFD_KERNEL:
	case RUNFD_INITRD:
	case RUNFD_BIOS:
	case RUNFD_CDROM:
	case RUNFD_SEED:
		slot = single[it->kind];
		break;
	case RUNFD_DISK:
		if (it->index < (uint32_t)op->vm->conf->ndisks && it->depth == 0)
			slot = &res->disks[it->index];
		break;
	case RUNFD_DISK_BASE:
		if (it->index < (uint32_t)op->vm->conf->ndisks &&
		    res->disks[it->index] != -1 &&
		    it->depth == (uint32_t)res->nbases[it->index] + 1 &&
		    it->depth <= VM_MAX_BASE_IMAGES)
			slot = &res->bases[it->index][it->depth - 1];
		break;
	}
	if (slot != NULL && *slot != -1)
		return NULL;
	if ((it->kind == RUNFD_DISK || it->kind == RUNFD_DISK_BASE) &&
	    it->format != DISK_FORMAT_RAW && it->format != DISK_FORMAT_QCOW2)
		return NULL;
	return slot;
}

static int
resource_fd(struct msgconn *c, struct msg *m, void *arg)
{
	struct opening *op = arg;
	struct proto_open_item *it = m->data;
	struct vm *vm = op->vm;
	char err[PROTO_TEXT_SIZE];
	int *slot;

	(void)c;
	it->path[sizeof it->path - 1] = '\0';
	if (m->fd == -1 || (slot = resource_slot(op, it)) == NULL) {
		log_warnx("vm %s: the opener sent a file it was not asked for",
		    vm->conf->name);
		return -1;
	}
	*slot = m->fd;
	m->fd = -1;
	if (it->kind == RUNFD_DISK)
		op->res.formats[it->index] = it->format;
	if (it->kind == RUNFD_DISK_BASE)
		op->res.nbases[it->index] = it->depth;
	if ((it->kind == RUNFD_DISK || it->kind == RUNFD_DISK_BASE) &&
	    resource_lock(vm, *slot, it->kind == RUNFD_DISK ? "disk" :
	    "base image", it->path, it->kind == RUNFD_DISK ? LOCK_EX : LOCK_SH,
	    err, sizeof err) == -1)
		resource_finish(op, err);
	return 0;
}

static int
resource_error(struct msgconn *c, struct msg *m, void *arg)
{
	struct opening *op = arg;
	struct proto_error *e = m->data;
	char text[PROTO_TEXT_SIZE];

	(void)c;
	snprintf(text, sizeof text, "%.*s", (int)strnlen(e->text,
	    sizeof e->text), e->text);
	if (strncmp(text, "vm ", 3) != 0)
		snprintf(text, sizeof text, "vm %s: opening its files failed",
		    op->vm->conf->name);
	resource_finish(op, text);
	return 0;
}

/* Every file the opener opens is here: add the engine's own. */
static int
resource_end(struct msgconn *c, struct msg *m, void *arg)
{
	struct opening *op = arg;
	struct vm *vm = op->vm;
	struct conf_vm *cv = vm->conf;
	struct resources *res = &op->res;
	char err[PROTO_TEXT_SIZE];
	int i;

	(void)c;
	(void)m;
	for (i = 0; i < cv->ndisks; i++)
		if (res->disks[i] == -1)
			break;
	if (res->kvm == -1 || (res->kernel == -1 && res->bios == -1) ||
	    i < cv->ndisks || (cv->initrd != NULL && res->initrd == -1) ||
	    (cv->cdrom != NULL && res->cdrom == -1) ||
	    (cv->cloudinit.enabled && res->seed == -1)) {
		log_warnx("vm %s: the opener ended with files missing",
		    cv->name);
		return -1;
	}
	for (i = 0; i < cv->nnics; i++)
		if (netif_open(vm, res, i, err, sizeof err) == -1) {
			resource_finish(op, err);
			return 0;
		}
	if ((res->pty = resource_open_pty(vm, err, sizeof err)) == -1) {
		resource_finish(op, err);
		return 0;
	}
	if (capture_open_log(&vm->capture, engine->logdir, cv->name,
	    access_owner(vm), engine->conf.console_log_size,
	    engine->conf.console_log_keep) == -1)
		log_warn("vm %s: console log in %s", cv->name, engine->logdir);
	resource_finish(op, NULL);
	return 0;
}

static int
resource_dispatch(struct msgconn *c, struct msg *m, void *arg)
{
	struct opening *op = arg;

	if (op->vm == NULL)
		return -1;
	if (m->hdr.peerid != op->vm->id) {
		log_warnx("vm %s: the opener sent peer id %u",
		    op->vm->conf->name, m->hdr.peerid);
		return -1;
	}
	return msg_dispatch(resource_handlers, sizeof resource_handlers /
	    sizeof resource_handlers[0], c, m, arg);
}

static void
resource_closed(struct msgconn *c, void *arg)
{
	struct opening *op = arg;
	char err[PROTO_TEXT_SIZE];

	(void)c;
	op->conn = NULL;	/* msg.c frees it */
	if (op->vm == NULL || op->cancelled)
		return;
	snprintf(err, sizeof err, "vm %s: %.400s: the opener ended before it "
	    "was opened", op->vm->conf->name, op->what);
	resource_finish(op, err);
}

static void
resource_timeout(int fd, short events, void *arg)
{
	struct opening *op = arg;
	char err[PROTO_TEXT_SIZE];

	(void)fd;
	(void)events;
	if (op->pid > 0)
		kill(op->pid, SIGKILL);
	snprintf(err, sizeof err, "vm %s: %.400s: not opened within %d s",
	    op->vm->conf->name, op->what, RESOURCE_OPEN_TIMEOUT);
	resource_finish(op, err);
}

int
resources_open(struct vm *vm, resources_cb done, char *err, size_t errlen)
{
	struct timeval tv = { RESOURCE_OPEN_TIMEOUT, 0 };
	struct opening *op;
	char name[VM_NAME_SIZE + 16];
	int sock;
	pid_t pid;

	if ((pid = runner_fork(vm, &sock, err, errlen)) == -1)
		return -1;
	if (pid == 0)
		opener_run(sock, vm->id, vm->conf, &engine->conf,
		    engine->kvm_path, engine->statedir);
	op = xcalloc(1, sizeof *op);
	op->vm = vm;
	op->pid = pid;
	op->done = done;
	resources_init(&op->res);
	snprintf(op->what, sizeof op->what, "its files");
	snprintf(name, sizeof name, "opener %s", vm->conf->name);
	TAILQ_INSERT_TAIL(&openings, op, entry);
	vm->opening = op;
	op->conn = msgconn_new(engine->base, sock, resource_dispatch,
	    resource_closed, op, name);
	op->timer = evtimer_new(engine->base, resource_timeout, op);
	if (op->conn == NULL || op->timer == NULL) {
		kill(pid, SIGKILL);
		op->vm = NULL;
		vm->opening = NULL;
		if (op->timer != NULL)
			event_free(op->timer);
		if (op->conn != NULL)
			msgconn_free(op->conn);
		op->timer = NULL;
		op->conn = NULL;
		snprintf(err, errlen, "vm %s: opening its files: %s",
		    vm->conf->name, strerror(errno));
		return -1;
	}
	evtimer_add(op->timer, &tv);
	return 0;
}

/*
 * Tell vm.c that a cancelled opening ended, as a killed runner's exit,
 * without waiting for the child: one stuck in a FUSE request cannot die
 * until the file system answers.
 */
static void
resource_exit_cb(int fd, short events, void *arg)
{
	struct opening *op = arg;
	struct vm *vm = op->vm;

	(void)fd;
	(void)events;
	op->exit_pending = 0;
	op->vm = NULL;
	if (op->pid == 0) {
		TAILQ_REMOVE(&openings, op, entry);
		free(op);
	}
	if (vm != NULL) {
		vm->opening = NULL;
		vm_runner_exited(vm, W_EXITCODE(0, SIGKILL));
	}
}

/* Give up an opening: its child is killed, nothing is handed on. */
static void
resource_abandon(struct opening *op)
{
	if (op->pid > 0)
		kill(op->pid, SIGKILL);
	if (op->timer != NULL)
		event_free(op->timer);
	if (op->conn != NULL)
		msgconn_free(op->conn);
	op->timer = NULL;
	op->conn = NULL;
	op->cancelled = 1;
	resources_close(&op->res);
}

void
resources_cancel(struct vm *vm)
{
	struct opening *op = vm->opening;
	struct timeval tv = { 0, 0 };

	if (op == NULL || op->cancelled)
		return;
	resource_abandon(op);
	op->exit_pending = 1;
	event_base_once(engine->base, -1, EV_TIMEOUT, resource_exit_cb, op,
	    &tv);
}

void
resources_forget(struct vm *vm)
{
	struct opening *op = vm->opening;

	if (op == NULL)
		return;
	vm->opening = NULL;
	if (!op->cancelled)
		resource_abandon(op);
	op->vm = NULL;
	if (op->pid == 0 && !op->exit_pending) {
		TAILQ_REMOVE(&openings, op, entry);
		free(op);
	}
}

int
resources_reaped(pid_t pid, int status)
{
	struct opening *op;

	TAILQ_FOREACH(op, &openings, entry)
		if (op->pid == pid)
			break;
	if (op == NULL)
		return 0;
	log_debug("opener %d ended (status 0x%x)", (int)pid, status);
	op->pid = 0;
	/* Its socket's end, or resource_exit_cb, is still to come. */
	if (op->vm != NULL || op->exit_pending)
		return 1;
	TAILQ_REMOVE(&openings, op, entry);
	free(op);
	return 1;
}

/*
 * Runner launch and supervision: fork + exec vmtop-vm with its engine
 * socket on RUNNER_SOCKET_FD, hand it the parameters and one fd per
 * message (peer id = VM id), among them RUNFD_ADOPT, its socket in
 * STATEDIR/runners, end with MSG_RUN_START_END, write the VM's state
 * file, and pass what the runner reports to vm.c, which alone changes
 * the VM's state. A child's exit is reaped on SIGCHLD; an adopted
 * runner, an earlier engine's child, is watched through a pidfd, and how
 * it ended is what its MSG_RUN_EXIT said.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "msg.h"
#include "slirpmsg.h"
#include "xmalloc.h"

static int	runner_ready(struct msgconn *, struct msg *, void *);
static int	runner_error(struct msgconn *, struct msg *, void *);
static int	runner_reply(struct msgconn *, struct msg *, void *);
static int	runner_console(struct msgconn *, struct msg *, void *);
static int	runner_stats(struct msgconn *, struct msg *, void *);
static int	runner_exit(struct msgconn *, struct msg *, void *);
static void	runner_ended(struct vm *, int);

/* How long an ended runner's socket may keep its last bytes. */
#define RUNNER_GONE_SECONDS	2

static const struct msg_handler runner_handlers[] = {
	{ MSG_RUN_READY, "ready", 0, 0, runner_ready },
	{ MSG_RUN_ERROR, "error", sizeof(struct proto_error), 0,
	    runner_error },
	{ MSG_OK, "ok", 0, 0, runner_reply },
	{ MSG_ERROR, "error reply", sizeof(struct proto_error), 0,
	    runner_reply },
	{ MSG_RUN_CONSOLE, "console", 0, MSG_MAX_PAYLOAD, runner_console },
	{ MSG_RUN_STATS, "stats", sizeof(struct proto_stats), 0,
	    runner_stats },
	{ MSG_RUN_EXIT, "exit", sizeof(struct proto_run_exit), 0,
	    runner_exit },
};

static int
runner_ready(struct msgconn *c, struct msg *m, void *arg)
{
	struct vm *vm = arg;

	(void)c;
	(void)m;
	vm_runner_ready(vm);
	/* It records when the VM started. */
	if (vm->statefile)
		state_write(vm);
	return 0;
}

/* The text of an error the runner sent, which need not end in a NUL. */
static void
runner_error_text(struct msg *m, char *text, size_t len)
{
	struct proto_error *e = m->data;

	snprintf(text, len, "%.*s", (int)strnlen(e->text, sizeof e->text),
	    e->text);
}

static int
runner_error(struct msgconn *c, struct msg *m, void *arg)
{
	char text[PROTO_TEXT_SIZE];

	(void)c;
	runner_error_text(m, text, sizeof text);
	vm_runner_error(arg, text);
	return 0;
}

/* The runner's answer to a pause or unpause. */
static int
runner_reply(struct msgconn *c, struct msg *m, void *arg)
{
	char text[PROTO_TEXT_SIZE];

	(void)c;
	if (m->hdr.type == MSG_ERROR) {
		runner_error_text(m, text, sizeof text);
		vm_runner_replied(arg, text);
	} else
		vm_runner_replied(arg, NULL);
	return 0;
}

static int
runner_console(struct msgconn *c, struct msg *m, void *arg)
{
	struct vm *vm = arg;

	(void)c;
	capture_append(&vm->capture, m->data, m->hdr.len);
	return 0;
}

static int
runner_stats(struct msgconn *c, struct msg *m, void *arg)
{
	struct vm *vm = arg;

	(void)c;
	memcpy(&vm->stats, m->data, sizeof vm->stats);
	vm->stats_ns = ratelimit_now();
	return 0;
}

/* The guest ended: how, for an exit the engine cannot wait for. */
static int
runner_exit(struct msgconn *c, struct msg *m, void *arg)
{
	struct proto_run_exit *e = m->data;
	struct vm *vm = arg;
	char text[PROTO_TEXT_SIZE];

	(void)c;
	vm->exit_told = 1;
	vm->exit_code = e->code;
	snprintf(text, sizeof text, "%.*s", (int)strnlen(e->text,
	    sizeof e->text), e->text);
	log_debug("vm %s: runner exits with code %u", vm->conf->name,
	    e->code);
	if (e->code == RUNNER_EXIT_ERROR && text[0] != '\0' &&
	    vm->reason[0] == '\0')
		vm_runner_error(vm, text);
	return 0;
}

int
runner_dispatch(struct msgconn *c, struct msg *m, void *arg)
{
	struct vm *vm = arg;

	if (vm->adoption != NULL)
		return adopt_message(vm, m);
	if (m->hdr.peerid != vm->id) {
		log_warnx("vm %s: runner sent peer id %u", vm->conf->name,
		    m->hdr.peerid);
		return -1;
	}
	return msg_dispatch(runner_handlers, sizeof runner_handlers /
	    sizeof runner_handlers[0], c, m, arg);
}

static void	runner_adopted_ended(struct vm *);

void
runner_closed(struct msgconn *c, void *arg)
{
	struct vm *vm = arg;

	(void)c;
	vm->runner = NULL;
	if (vm->adoption != NULL) {
		adopt_closed(vm);
		return;
	}
	log_debug("vm %s: runner hung up", vm->conf->name);
	/* An adopted runner's end is what its pidfd says. */
	if (vm->pidfd != -1) {
		if (vm->runner_gone)
			runner_adopted_ended(vm);
		return;
	}
	/* Its exit status arrives on SIGCHLD; vm.c makes sure it comes. */
	vm_runner_hungup(vm);
}

/*
 * Send a request that has no payload (pause, unpause, shutdown). Pause
 * and unpause are answered with MSG_OK or MSG_ERROR, one at a time.
 */
int
runner_send(struct vm *vm, uint32_t type)
{
	if (vm->runner == NULL) {
		errno = EPIPE;
		return -1;
	}
	return msgconn_send(vm->runner, type, vm->id, -1, NULL, 0);
}

/*
 * End the runner (or the opener) at once; its exit is reaped as any
 * other, or, for an adopted runner, seen on its pidfd.
 */
void
runner_kill(struct vm *vm)
{
	if (vm->opening != NULL) {
		resources_cancel(vm);
		uids_free(vm);
	} else if (vm->pidfd != -1)
		syscall(SYS_pidfd_send_signal, vm->pidfd, SIGKILL, NULL, 0);
	else if (vm->pid > 0)
		kill(vm->pid, SIGKILL);
}

static int
runner_send_fd(struct vm *vm, uint32_t kind, uint32_t index, uint32_t depth,
    int fd)
{
	struct proto_run_fd rf;

	if (fd == -1)
		return 0;
	memset(&rf, 0, sizeof rf);
	rf.kind = kind;
	rf.index = index;
	rf.depth = depth;
	return msgconn_send(vm->runner, MSG_RUN_FD, vm->id, fd, &rf,
	    sizeof rf);
}

static void
runner_fill_params(struct vm *vm, struct resources *res,
    struct proto_run_params *p)
{
	struct conf_vm *c = vm->conf;
	int i;

	memset(p, 0, sizeof *p);
	p->id = vm->id;
	snprintf(p->name, sizeof p->name, "%s", c->name);
	p->memory = c->memory;
	p->vcpus = c->vcpus;
	p->ndisks = c->ndisks;
	p->nnics = c->nnics;
	if (c->kernel != NULL)
		p->flags |= RUNP_KERNEL;
	if (conf_vm_cdrom_first(c))
		p->flags |= RUNP_CDROM_FIRST;
	if (log_getverbose())
		p->flags |= RUNP_VERBOSE;
	uids_of(vm, &p->uid, &p->gid);
	if (c->cmdline != NULL)
		snprintf(p->cmdline, sizeof p->cmdline, "%s", c->cmdline);
	for (i = 0; i < c->ndisks; i++) {
		p->disk_format[i] = res->formats[i];
		p->disk_nbase[i] = res->nbases[i];
	}
	for (i = 0; i < c->nnics; i++) {
		netif_lladdr(c, i, p->nic_lladdr[i]);
		p->nic_locked[i] = c->nics[i].locked;
		p->nic_mtu[i] = c->nics[i].mtu;
		if (c->nics[i].type == NIC_USER && c->nics[i].mtu == 0)
			p->nic_mtu[i] = SLIRP_MTU_DEFAULT;
	}
}

static int
runner_handoff(struct vm *vm, struct resources *res, int adopt)
{
	struct proto_run_params p;
	int i, j, rv = 0;

	runner_fill_params(vm, res, &p);
	rv |= msgconn_send(vm->runner, MSG_RUN_PARAMS, vm->id, -1, &p,
	    sizeof p);
	rv |= runner_send_fd(vm, RUNFD_KVM, 0, 0, res->kvm);
	rv |= runner_send_fd(vm, RUNFD_KERNEL, 0, 0, res->kernel);
	rv |= runner_send_fd(vm, RUNFD_INITRD, 0, 0, res->initrd);
	rv |= runner_send_fd(vm, RUNFD_BIOS, 0, 0, res->bios);
	rv |= runner_send_fd(vm, RUNFD_CDROM, 0, 0, res->cdrom);
	rv |= runner_send_fd(vm, RUNFD_SEED, 0, 0, res->seed);
	for (i = 0; i < vm->conf->ndisks; i++) {
		rv |= runner_send_fd(vm, RUNFD_DISK, i, 0, res->disks[i]);
		for (j = 0; j < res->nbases[i]; j++)
			rv |= runner_send_fd(vm, RUNFD_DISK_BASE, i, j + 1,
			    res->bases[i][j]);
	}
	for (i = 0; i < vm->conf->nnics; i++)
		rv |= runner_send_fd(vm, RUNFD_NIC, i, 0, res->nics[i]);
	rv |= runner_send_fd(vm, RUNFD_PTY, 0, 0, res->pty);
	rv |= runner_send_fd(vm, RUNFD_ADOPT, 0, 0, adopt);
	rv |= msgconn_send(vm->runner, MSG_RUN_START_END, vm->id, -1, NULL,
	    0);
	return rv;
}

pid_t
runner_fork(struct vm *vm, int *sock, char *err, size_t errlen)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "vm %s: socketpair: %s", vm->conf->name,
		    strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "vm %s: fork: %s", vm->conf->name,
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[pid == 0 ? 0 : 1]);
	*sock = sv[pid == 0 ? 1 : 0];
	return pid;
}

static int
runner_spawn(struct vm *vm, struct resources *res, char *err, size_t errlen)
{
	int sock, adopt;
	pid_t pid;
	char name[VM_NAME_SIZE + 16];

	if (access(engine->runner_path, X_OK) == -1) {
		snprintf(err, errlen, "vm %s: runner %s: %s", vm->conf->name,
		    engine->runner_path, strerror(errno));
		return -1;
	}
	snprintf(name, sizeof name, "vmtop-vm %s", vm->conf->name);
	if ((adopt = state_socket(vm, err, errlen)) == -1)
		return -1;
	if ((pid = runner_fork(vm, &sock, err, errlen)) == -1) {
		close(adopt);
		return -1;
	}
	if (pid == 0) {
		/* Only the engine socket survives exec: all else is CLOEXEC. */
		if (dup2(sock, RUNNER_SOCKET_FD) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		execl(engine->runner_path, "vmtop-vm", vm->conf->name,
		    (char *)NULL);
		_exit(127);
	}
	vm->pid = pid;
	vm->pid_start = state_pid_start(pid);
	vm->exit_told = 0;
	vm->runner = msgconn_new(engine->base, sock, runner_dispatch,
	    runner_closed, vm, name);
	if (vm->runner == NULL || runner_handoff(vm, res, adopt) == -1) {
		snprintf(err, errlen, "vm %s: handing resources to the runner: "
		    "%s", vm->conf->name, strerror(errno));
		close(adopt);
		kill(pid, SIGKILL);
		return -1;
	}
	close(adopt);
	vm->statefile = 1;
	state_write(vm);
	log_debug("vm %s: runner %d started", vm->conf->name, (int)pid);
	return 0;
}

/* The VM's files are open (or err says why not): start its runner. */
static void
runner_opened(struct vm *vm, struct resources *res, const char *err)
{
	char why[PROTO_TEXT_SIZE];

	if (err == NULL && runner_spawn(vm, res, why, sizeof why) == 0)
		return;
	uids_free(vm);
	vm_launch_failed(vm, err != NULL ? err : why);
}

/*
 * Open vm's resources and start its runner with them once they are
 * open: 0 (a failure later comes to vm_launch_failed()), or -1 and err.
 */
int
runner_launch(struct vm *vm, char *err, size_t errlen)
{
	/* Before its disks are locked: they may be another runner's. */
	if (state_check_free(vm, err, errlen) == -1)
		return -1;
	if (uids_alloc(vm, err, errlen) == -1)
		return -1;
	if (resources_open(vm, runner_opened, err, errlen) == -1) {
		uids_free(vm);
		return -1;
	}
	return 0;
}

/* Reap every runner (and slirp helper) that has ended. */
void
runner_reap(void)
{
	struct vm *vm;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((vm = vm_find_pid(pid)) != NULL && vm->pidfd == -1)
			runner_ended(vm, status);
		else if (!resources_reaped(pid, status))
			netif_reaped(pid, status);
	}
}

/* Let go of the runner that ended with status and tell vm.c. */
static void
runner_ended(struct vm *vm, int status)
{
	log_debug("vm %s: runner %d ended (status 0x%x)", vm->conf->name,
	    (int)vm->pid, status);
	if (vm->runner != NULL)
		msgconn_free(vm->runner);
	vm->runner = NULL;
	if (vm->pidfd_ev != NULL)
		event_free(vm->pidfd_ev);
	vm->pidfd_ev = NULL;
	if (vm->gone_timer != NULL)
		event_free(vm->gone_timer);
	vm->gone_timer = NULL;
	if (vm->pidfd != -1)
		close(vm->pidfd);
	vm->pidfd = -1;
	vm->runner_gone = 0;
	vm->adopted = 0;
	vm->pid = 0;
	uids_free(vm);
	vm_runner_exited(vm, status);
}

/*
 * An adopted runner has ended and its socket has closed (or had its
 * time): it ended as its MSG_RUN_EXIT said, or it failed.
 */
static void
runner_adopted_ended(struct vm *vm)
{
	if (vm->exit_told) {
		runner_ended(vm, W_EXITCODE(vm->exit_code & 0xff, 0));
		return;
	}
	if (vm->reason[0] == '\0')
		snprintf(vm->reason, sizeof vm->reason, "vm %s: runner ended "
		    "without saying why", vm->conf->name);
	runner_ended(vm, W_EXITCODE(RUNNER_EXIT_ERROR, 0));
}

static void
runner_gone_timeout(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	runner_adopted_ended(arg);
}

/* The adopted runner's pid ended: its socket's last bytes may follow. */
static void
runner_pidfd_ready(int fd, short events, void *arg)
{
	struct timeval tv = { RUNNER_GONE_SECONDS, 0 };
	struct vm *vm = arg;

	(void)fd;
	(void)events;
	event_del(vm->pidfd_ev);
	vm->runner_gone = 1;
	if (vm->runner == NULL) {
		runner_adopted_ended(vm);
		return;
	}
	if (vm->gone_timer == NULL)
		vm->gone_timer = evtimer_new(engine->base, runner_gone_timeout,
		    vm);
	evtimer_add(vm->gone_timer, &tv);
}

int
runner_watch(struct vm *vm, int pidfd)
{
	vm->pidfd_ev = event_new(engine->base, pidfd, EV_READ,
	    runner_pidfd_ready, vm);
	if (vm->pidfd_ev == NULL || event_add(vm->pidfd_ev, NULL) == -1)
		return -1;
	vm->pidfd = pidfd;
	vm->runner_gone = 0;
	return 0;
}

/*
 * The engine exits keeping its VMs: close every runner connection, so
 * each runner keeps its guest and waits for the next engine, and kill
 * nothing; the state files stay.
 */
void
runner_keep_all(void)
{
	struct vm *vm;

	TAILQ_FOREACH(vm, &engine->vms, entry) {
		if (vm->opening != NULL)
			resources_cancel(vm);
		if (vm->runner != NULL)
			msgconn_free(vm->runner);
		vm->runner = NULL;
		if (vm->pid != 0)
			log_info("vm %s: runner %d left running",
			    vm->conf->name, (int)vm->pid);
	}
}

/*
 * Adoption: when the engine starts, before it serves clients or starts
 * enabled VMs, it takes over the runners an earlier engine left running.
 * For each STATEDIR/runners/NAME.state it connects to NAME.sock, checks
 * the listener's credentials against the state file (the runner's own
 * uid, its recorded pid or that pid's child, the pid's start time), and
 * sends MSG_RUN_ADOPT with the VM's new id; the runner answers
 * MSG_RUN_STATE with its pty master, then the console bytes it kept.
 * All of them go on at once on the event loop, for at most
 * ADOPT_TIMEOUT seconds in all. A socket nobody listens on, whose runner
 * is gone, is stale: both files are removed. A refused adoption is
 * logged with the VM's name and why, and its files are left alone.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "msg.h"
#include "xmalloc.h"

#define ADOPT_TIMEOUT	5	/* seconds for every adoption */

struct adoption {
	TAILQ_ENTRY(adoption) entry;
	struct vm	*vm;
	int		 made;		/* vm was made for it: dropped if refused */
	int		 pidfd;		/* the recorded runner pid's */
	struct event	*pidfd_ev;	/* hung up: waiting for the pid to end */
	struct runstate	 rs;
	struct conf_vm	*conf;		/* the block it runs with */
};
static TAILQ_HEAD(, adoption) adoptions = TAILQ_HEAD_INITIALIZER(adoptions);
static struct event	*adopt_timer;
static void		(*adopt_done)(void);
static int		 adopt_scanning;

/* Every adoption has ended: the engine goes on. */
static void
adopt_check_done(void)
{
	void (*done)(void) = adopt_done;

	if (adopt_scanning || !TAILQ_EMPTY(&adoptions) || done == NULL)
		return;
	adopt_done = NULL;
	if (adopt_timer != NULL)
		event_free(adopt_timer);
	adopt_timer = NULL;
	done();
}

static void
adopt_free(struct adoption *a)
{
	TAILQ_REMOVE(&adoptions, a, entry);
	if (a->pidfd_ev != NULL)
		event_free(a->pidfd_ev);
	if (a->pidfd != -1)
		close(a->pidfd);
	if (a->conf != NULL)
		conf_vm_free(a->conf);
	state_free(&a->rs);
	free(a);
}

/* Whether the recorded runner pid still runs. */
static int
adopt_pid_alive(const struct runstate *rs)
{
	return rs->pid > 0 && state_pid_start(rs->pid) == rs->pid_start;
}

/*
 * The adoption ends without the runner: stale (its files go) or refused
 * (logged with why, its files and uid left alone).
 */
static void __attribute__((format(printf, 3, 4)))
adopt_end(struct adoption *a, int stale, const char *fmt, ...)
{
	struct vm *vm = a->vm;
	char why[PROTO_TEXT_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	/* Whatever went wrong, a runner that has ended leaves stale files. */
	if (!stale && !adopt_pid_alive(&a->rs))
		stale = 1;
	if (stale) {
		log_info("vm %s: runner %d is gone (%s): removing its stale "
		    "socket and state", a->rs.name, (int)a->rs.pid, why);
		state_remove(a->rs.name);
	} else {
		log_warnx("vm %s: not adopted: %s", a->rs.name, why);
		uids_reserve(a->rs.name, a->rs.runner_uid);
	}
	if (vm != NULL) {
		vm->adoption = NULL;
		if (vm->runner != NULL)
			msgconn_free(vm->runner);
		vm->runner = NULL;
		vm->runner_uid = 0;
		if (a->made)
			vm_remove(vm);
	}
	adopt_free(a);
	adopt_check_done();
}

/* The VM the runner serves: the config's, or one made from its state. */
static struct vm *
adopt_vm(struct adoption *a, char *why, size_t whylen)
{
	struct config conf;
	struct conf_vm *cv;
	struct vm *vm;

	config_init(&conf);
	if (config_parse(a->rs.name, a->rs.config, &conf, NULL) > 0 ||
	    (cv = config_find_vm(&conf, a->rs.name)) == NULL) {
		config_free(&conf);
		snprintf(why, whylen, "its state file has no valid config "
		    "block for it");
		return NULL;
	}
	a->conf = conf_vm_dup(cv);
	config_free(&conf);
	if ((vm = vm_find(a->rs.name)) != NULL) {
		if (vm->state != VM_STOPPED && vm->state != VM_FAILED) {
			snprintf(why, whylen, "it is %s already",
			    proto_state_name(vm->state));
			return NULL;
		}
		return vm;
	}
	vm = vm_add(conf_vm_dup(a->conf), 1);
	/* Not in the config and not ad hoc: it was removed from it. */
	if (!a->rs.adhoc) {
		vm->adhoc = 0;
		vm->removed = 1;
	}
	a->made = 1;
	return vm;
}

/* Check the listener on s against the state file: NULL, or why not. */
static const char *
adopt_check_peer(struct adoption *a, int s, char *why, size_t whylen)
{
	struct runstate *rs = &a->rs;
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		snprintf(why, whylen, "SO_PEERCRED: %s", strerror(errno));
		return why;
	}
	if (geteuid() == 0) {
		if (cred.uid != rs->runner_uid ||
		    !uids_may_claim(NULL, cred.uid)) {
			snprintf(why, whylen, "its socket's listener runs as "
			    "uid %u, not the runner uid %u of this engine's "
			    "range held by no other vm", (unsigned)cred.uid,
			    (unsigned)rs->runner_uid);
			return why;
		}
	} else if (cred.uid != geteuid()) {
		snprintf(why, whylen, "its socket's listener runs as uid %u, "
		    "not %u", (unsigned)cred.uid, (unsigned)geteuid());
		return why;
	}
	if (cred.pid != rs->pid && state_ppid(cred.pid) != rs->pid) {
		snprintf(why, whylen, "its socket's listener is pid %d, not "
		    "runner %d or its child", (int)cred.pid, (int)rs->pid);
		return why;
	}
	if ((a->pidfd = syscall(SYS_pidfd_open, rs->pid, 0)) == -1 ||
	    fcntl(a->pidfd, F_SETFD, FD_CLOEXEC) == -1 ||
	    state_pid_start(rs->pid) != rs->pid_start) {
		snprintf(why, whylen, "pid %d is not the runner it started",
		    (int)rs->pid);
		return why;
	}
	return NULL;
}

/* Start adopting the runner of NAME.state. */
static void
adopt_one(const char *name)
{
	struct proto_run_adopt ra;
	struct adoption *a;
	struct vm *vm;
	char why[PROTO_TEXT_SIZE], label[VM_NAME_SIZE + 16];
	int s;

	a = xcalloc(1, sizeof *a);
	a->pidfd = -1;
	TAILQ_INSERT_TAIL(&adoptions, a, entry);
	if (state_read(name, &a->rs, why, sizeof why) == -1) {
		log_warnx("%s: not adopted", why);
		adopt_free(a);
		return;
	}
	if ((s = state_connect(name)) == -1) {
		if (errno != ENOENT && errno != ECONNREFUSED)
			adopt_end(a, 0, "its socket: %s", strerror(errno));
		else if (adopt_pid_alive(&a->rs))
			adopt_end(a, 0, "its runner (pid %d) runs but does not "
			    "listen on its socket", (int)a->rs.pid);
		else
			adopt_end(a, 1, "nothing listens on its socket");
		return;
	}
	if (adopt_check_peer(a, s, why, sizeof why) != NULL ||
	    (vm = adopt_vm(a, why, sizeof why)) == NULL) {
		close(s);
		adopt_end(a, 0, "%s", why);
		return;
	}
	a->vm = vm;
	vm->adoption = a;
	vm->runner_uid = geteuid() == 0 ? a->rs.runner_uid : 0;
	snprintf(label, sizeof label, "vmtop-vm %s", name);
	vm->runner = msgconn_new(engine->base, s, runner_dispatch,
	    runner_closed, vm, label);
	memset(&ra, 0, sizeof ra);
	ra.version = RUNNER_PROTOCOL_VERSION;
	ra.id = vm->id;
	ra.engine_pid = getpid();
	if (vm->runner == NULL || msgconn_send(vm->runner, MSG_RUN_ADOPT,
	    vm->id, -1, &ra, sizeof ra) == -1) {
		if (vm->runner == NULL)
			close(s);
		adopt_end(a, 0, "sending the adoption: %s", strerror(errno));
		return;
	}
	log_debug("vm %s: adopting runner %d", name, (int)a->rs.pid);
}

/* The pty master fd is the one whose slave the state file names. */
static int
adopt_pty_ok(int fd, const char *tty)
{
	char name[32];
	unsigned int n;

	if (fd == -1 || ioctl(fd, TIOCGPTN, &n) == -1)
		return 0;
	snprintf(name, sizeof name, "/dev/pts/%u", n);
	return strcmp(name, tty) == 0;
}

/* The runner's MSG_RUN_STATE: the VM runs (or is paused) from now on. */
static void
adopt_state(struct adoption *a, struct msg *m)
{
	struct proto_run_state st;
	struct runstate *rs = &a->rs;
	struct vm *vm = a->vm;
	int i;

	memcpy(&st, m->data, sizeof st);
	if (st.version != RUNNER_PROTOCOL_VERSION) {
		adopt_end(a, 0, "its runner speaks protocol %u, this engine %u",
		    st.version, RUNNER_PROTOCOL_VERSION);
		return;
	}
	if (strnlen(st.name, sizeof st.name) == sizeof st.name ||
	    strcmp(st.name, rs->name) != 0 || st.pid != rs->pid) {
		adopt_end(a, 0, "its runner says it is another vm or pid");
		return;
	}
	if ((st.flags & RUNSTATE_PTY) == 0 || !adopt_pty_ok(m->fd, rs->tty)) {
		adopt_end(a, 0, "its runner sent no console pty, or not %s",
		    rs->tty[0] != '\0' ? rs->tty : "the recorded one");
		return;
	}
	if (runner_watch(vm, a->pidfd) == -1) {
		adopt_end(a, 0, "watching pid %d: %s", (int)rs->pid,
		    strerror(errno));
		return;
	}
	a->pidfd = -1;
	if (vm->pty != -1)
		close(vm->pty);
	vm->pty = m->fd;
	m->fd = -1;
	snprintf(vm->tty, sizeof vm->tty, "%s", rs->tty);
	if (conf_vm_differs(a->conf, vm->conf)) {
		if (vm->next_conf != NULL)
			conf_vm_free(vm->next_conf);
		vm->next_conf = vm->conf;
		vm->changed = 1;
	} else
		conf_vm_free(vm->conf);
	vm->conf = a->conf;
	a->conf = NULL;
	if (!a->made)
		vm->adhoc = rs->adhoc && vm->next_conf == NULL;
	vm->pid = rs->pid;
	vm->pid_start = rs->pid_start;
	vm->started = rs->started != 0 ? rs->started :
	    time(NULL) - (time_t)(st.uptime_ns / 1000000000ULL);
	vm->restarts = rs->restarts;
	vm->rl = rs->rl;
	vm->stats = st.stats;
	vm->stats_ns = ratelimit_now();
	vm->adopted = 1;
	vm->statefile = 1;
	vm->exit_told = 0;
	vm->stop_requested = vm->force_stop = 0;
	vm->reason[0] = '\0';
	for (i = 0; i < rs->nslirp; i++)
		if (netif_adopt(vm, rs->slirp[i].nic, rs->slirp[i].pid,
		    rs->slirp[i].start) == -1)
			log_warnx("vm %s: interface %d: vmtop-slirp %d is gone",
			    rs->name, rs->slirp[i].nic, (int)rs->slirp[i].pid);
	/* Its helpers hold these rules still, for show. */
	memcpy(vm->forwards, rs->forwards, sizeof vm->forwards);
	vm->nforwards = rs->nforwards;
	if (capture_reopen_log(&vm->capture, engine->logdir, rs->name,
	    access_owner(vm), engine->conf.console_log_size,
	    engine->conf.console_log_keep) == -1)
		log_warn("vm %s: console log in %s", rs->name, engine->logdir);
	vm->adoption = NULL;
	log_info("vm %s: adopted runner %d%s%s%s", rs->name, (int)rs->pid,
	    st.flags & RUNSTATE_PAUSED ? ", paused" : "",
	    st.flags & RUNSTATE_ENDED ? ", its guest ended" : "",
	    vm->changed ? "; its config block changed: a restart applies it" :
	    "");
	adopt_free(a);
	vm_adopted(vm, (st.flags & RUNSTATE_PAUSED) != 0);
	state_write(vm);
	adopt_check_done();
}

int
adopt_message(struct vm *vm, struct msg *m)
{
	struct adoption *a = vm->adoption;
	struct proto_error *e = m->data;

	if (m->hdr.type == MSG_RUN_STATE &&
	    m->hdr.len == sizeof(struct proto_run_state) &&
	    m->hdr.peerid == vm->id)
		adopt_state(a, m);
	else if (m->hdr.type == MSG_ERROR &&
	    m->hdr.len == sizeof(struct proto_error))
		adopt_end(a, 0, "its runner says: %.*s", (int)strnlen(e->text,
		    sizeof e->text), e->text);
	else
		adopt_end(a, 0, "its runner sent message %u (%u bytes) before "
		    "its state", m->hdr.type, m->hdr.len);
	return 0;
}

static void
adopt_pid_ended(int fd, short events, void *arg)
{
	struct adoption *a = arg;

	(void)fd;
	(void)events;
	adopt_end(a, 1, "it hung up before answering");
}

/*
 * The runner hung up before its state: stale once its pid has ended
 * (which may come a moment after its socket closes), else refused.
 */
void
adopt_closed(struct vm *vm)
{
	struct adoption *a = vm->adoption;

	if (!adopt_pid_alive(&a->rs)) {
		adopt_end(a, 1, "it hung up before answering");
		return;
	}
	a->pidfd_ev = event_new(engine->base, a->pidfd, EV_READ,
	    adopt_pid_ended, a);
	if (a->pidfd_ev == NULL || event_add(a->pidfd_ev, NULL) == -1)
		adopt_end(a, 0, "it hung up before answering");
}

static void
adopt_timeout(int fd, short events, void *arg)
{
	struct adoption *a;

	(void)fd;
	(void)events;
	(void)arg;
	while ((a = TAILQ_FIRST(&adoptions)) != NULL)
		adopt_end(a, 0, "its runner did not answer within %d s",
		    ADOPT_TIMEOUT);
}

void
adopt_begin(void (*done)(void))
{
	struct timeval tv = { ADOPT_TIMEOUT, 0 };
	struct dirent *de;
	char name[VM_NAME_SIZE];
	size_t len;
	DIR *d;
	int fd;

	adopt_done = done;
	adopt_scanning = 1;
	if (engine->runnersfd != -1 &&
	    (fd = openat(engine->runnersfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) != -1) {
		if ((d = fdopendir(fd)) == NULL)
			close(fd);
		while (d != NULL && (de = readdir(d)) != NULL) {
			len = strlen(de->d_name);
			if (de->d_name[0] == '.' || len <= 6 ||
			    strcmp(de->d_name + len - 6, ".state") != 0)
				continue;
			if (len - 6 >= sizeof name) {
				log_warnx("%s/%s: not a vm's state file",
				    engine->runnersdir, de->d_name);
				continue;
			}
			snprintf(name, sizeof name, "%.*s", (int)(len - 6),
			    de->d_name);
			if (!config_valid_name(name)) {
				log_warnx("%s/%s: not a vm's state file",
				    engine->runnersdir, de->d_name);
				continue;
			}
			adopt_one(name);
		}
		if (d != NULL)
			closedir(d);
	}
	adopt_scanning = 0;
	if (!TAILQ_EMPTY(&adoptions)) {
		adopt_timer = evtimer_new(engine->base, adopt_timeout, NULL);
		evtimer_add(adopt_timer, &tv);
	}
	adopt_check_done();
}

/*
 * The runner's pid namespace, entered by forking once more after
 * unshare(CLONE_NEWPID), as Firecracker's jailer does: the child is pid 1
 * there and may create threads; from inside it no process outside can be
 * named, let alone signalled. The parent is the pid the engine started and
 * knows: it keeps only its copy of the engine socket (never read, so the
 * engine sees the runner hang up only once this pid has ended and can be
 * reaped), gives up root (and every capability) and ends exactly as the
 * child ended (the same exit status, or killed by the same signal), so a
 * guest's reboot or power-off reaches the engine as before. The child is
 * init of its namespace, which ignores every signal it has no handler for;
 * so a terminating signal sent to the runner (SIGTERM, SIGINT, ...) ends
 * the child with SIGKILL and then the parent with that same signal, as a
 * runner without a pid namespace would have ended. The child dies with the
 * parent (PR_SET_PDEATHSIG, and a pipe closes the race before it is set);
 * a change of uid clears that setting, so sandbox_pid_rearm() sets it
 * again after the uid drop. Without it a runner killed with SIGKILL (a
 * forced stop) would leave its guest running for adoption, disks held.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "privdrop.h"
#include "proto.h"
#include "sandbox.h"

static pid_t		sandbox_pid_child;
static int		sandbox_pid_alive = -1;	/* the child's end of the pipe */
static volatile sig_atomic_t sandbox_pid_signal;

/* The terminating signals a runner may be sent. */
static const int sandbox_pid_forwarded[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
};

static void
sandbox_pid_forward(int sig)
{
	int saved = errno;

	sandbox_pid_signal = sig;
	kill(sandbox_pid_child, SIGKILL);
	errno = saved;
}

/* The parent's filter: wait, forward signals, end; nothing else. */
static int
sandbox_pid_seccomp(void)
{
	static const int allowed[] = {
		SCMP_SYS(wait4), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
		SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(exit),
		SCMP_SYS(exit_group),
	};
	scmp_filter_ctx ctx;
	char err[128];
	size_t i;
	int rv = 0;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return -1;
	for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_pid_child, 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	return filter_load(ctx, rv, err, sizeof err);
}

/* End as status says the child ended, or by the signal we were sent. */
static void __attribute__((noreturn))
sandbox_pid_end(int status)
{
	sigset_t all;
	int sig;

	if (sandbox_pid_signal != 0)
		sig = sandbox_pid_signal;
	else if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	else
		sig = WTERMSIG(status);
	signal(sig, SIG_DFL);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	kill(getpid(), sig);
	_exit(128 + sig);
}

/* The parent: hold nothing, pass signals on, wait, end as the child. */
static void __attribute__((noreturn))
sandbox_pid_parent(uid_t uid, gid_t gid, int userns, int alive)
{
	struct sigaction sa;
	sigset_t all;
	char err[128];
	int keep[2] = { alive, RUNNER_SOCKET_FD };
	size_t i;
	int status;

	if (sandbox_close_others(keep, 2) == -1 || (geteuid() == 0 && !userns && privdrop(uid, gid, err,
	    sizeof err) == -1) || (userns && sandbox_drop_caps() == -1) ||
	    sandbox_pid_seccomp() == -1) {
		kill(sandbox_pid_child, SIGKILL);
		_exit(RUNNER_EXIT_ERROR);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sandbox_pid_forward;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < sizeof sandbox_pid_forwarded /
	    sizeof sandbox_pid_forwarded[0]; i++)
		sigaction(sandbox_pid_forwarded[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	while (waitpid(sandbox_pid_child, &status, 0) == -1)
		if (errno != EINTR)
			_exit(RUNNER_EXIT_ERROR);
	sandbox_pid_end(status);
}

int
sandbox_pid_fork(uid_t uid, gid_t gid, int userns, char *err, size_t errlen)
{
	struct pollfd pfd;
	int alive[2];

	/* The child's end reads as hung up once the parent has gone. */
	if (pipe2(alive, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (chdir("/") == -1) {
		snprintf(err, errlen, "chdir /: %s", strerror(errno));
		return -1;
	}
	switch (sandbox_pid_child = fork()) {
	case -1:
		snprintf(err, errlen, "fork into the pid namespace: %s",
		    strerror(errno));
		close(alive[0]);
		close(alive[1]);
		return -1;
	case 0:
		break;
	default:
		sandbox_pid_parent(uid, gid, userns, alive[1]);
	}
	close(alive[1]);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		snprintf(err, errlen, "PR_SET_PDEATHSIG: %s", strerror(errno));
		return -1;
	}
	pfd.fd = alive[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0)
		_exit(RUNNER_EXIT_ERROR);	/* the parent is gone */
	sandbox_pid_alive = alive[0];
	return 0;
}

int
sandbox_pid_rearm(char *err, size_t errlen)
{
	struct pollfd pfd;

	if (sandbox_pid_alive == -1)
		return 0;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		snprintf(err, errlen, "PR_SET_PDEATHSIG: %s", strerror(errno));
		return -1;
	}
	pfd.fd = sandbox_pid_alive;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0)
		_exit(RUNNER_EXIT_ERROR);	/* the parent is gone */
	close(sandbox_pid_alive);
	sandbox_pid_alive = -1;
	return 0;
}

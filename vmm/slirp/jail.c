/*
 * vmtop-slirp's sandbox, entered once its hostfwd sockets are bound:
 * no_new_privs; a mount namespace of its own (in a user namespace when
 * not root) whose root is an empty read-only tmpfs, the host's detached;
 * the VM's own uid and gid (as the engine gives the runner), or nobody,
 * when started as root; rlimits; a seccomp allowlist that kills the
 * process on anything else. It keeps the host's network (libslirp opens
 * sockets for the guest's connections, and binds the rules the engine
 * adds later). A restricted guest's helper may
 * open no path at all. An unrestricted one's libslirp forwards DNS to the
 * host's resolvers and rereads /etc/resolv.conf: the empty root holds
 * that one file, bound read-only, and openat may only read.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "filter.h"
#include "privdrop.h"
#include "usernet.h"

#define JAIL_NOFILE	4096	/* one fd per guest connection */
#define JAIL_RESOLV_CONF "/etc/resolv.conf"

static int	jail_empty;	/* the root is the empty tmpfs */

int
jail_rooted(void)
{
	return jail_empty;
}

/* What the helper does, and the system calls it needs for that. */
static const int jail_allowed[] = {
	/* Frames and libslirp's sockets: read, write, wait. */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(close), SCMP_SYS(shutdown),
	/* The guest's connections: out (connect), in (hostfwd accept). */
	SCMP_SYS(connect), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	/*
	 * hostfwd rules the engine adds while the guest runs: a listening
	 * socket, bound as the VM's uid (no low port once root is gone).
	 */
	SCMP_SYS(bind), SCMP_SYS(listen),
	/* Memory: malloc and glib (never executable, see below). */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* Time, locks, randomness, our own identity (glib's log lines). */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(futex), SCMP_SYS(getrandom),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	/* Signals: returns from handlers, masks, abort(). */
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(restart_syscall),
	/* Its fds' metadata (stdio buffering), and the end. */
	SCMP_SYS(fstat), SCMP_SYS(lseek), SCMP_SYS(exit),
	SCMP_SYS(exit_group),
};

/* ioctls: non-blocking mode, pending bytes, isatty() for glib's log. */
static const unsigned long jail_ioctls[] = {
	FIONBIO, FIONREAD, TCGETS,
};

/* fcntl: non-blocking mode and close-on-exec of its sockets. */
static const int jail_fcntls[] = {
	F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_DUPFD_CLOEXEC,
};

/* Refused with EPERM: those that aim signals elsewhere or watch files. */
static const int jail_fcntls_refused[] = {
	F_SETOWN, F_SETOWN_EX, F_SETSIG, F_SETLEASE, F_NOTIFY,
};

static int
jail_seccomp(int restricted, char *err, size_t errlen)
{
	scmp_filter_ctx	ctx;
	size_t		i;
	int		rv = 0;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof jail_allowed / sizeof jail_allowed[0]; i++)
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, jail_allowed[i], 0);
	for (i = 0; i < sizeof jail_ioctls / sizeof jail_ioctls[0]; i++)
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff, jail_ioctls[i]));
	rv |= filter_fcntl(ctx, SCMP_ACT_ALLOW, jail_fcntls,
	    sizeof jail_fcntls / sizeof jail_fcntls[0]);
	rv |= filter_fcntl(ctx, SCMP_ACT_ERRNO(EPERM), jail_fcntls_refused,
	    sizeof jail_fcntls_refused / sizeof jail_fcntls_refused[0]);
	/* Sockets for the guest: IPv4 only; others fail quietly. */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_EQ, AF_INET, 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
	    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_NE, AF_INET, 0));
	/* Memory may be mapped or protected, never executable. */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* abort() signals only this process. */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	if (restricted) {
		/* An fd's own metadata only; no file opens. */
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(newfstatat), 1, SCMP_A3(SCMP_CMP_MASKED_EQ,
		    AT_EMPTY_PATH, AT_EMPTY_PATH));
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(newfstatat), 1, SCMP_A3(SCMP_CMP_MASKED_EQ,
		    AT_EMPTY_PATH, 0));
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
		    SCMP_SYS(openat), 0);
	} else {
		/*
		 * libslirp rereads /etc/resolv.conf when it changes: stat
		 * and open read-only (opening to write kills), in a root
		 * that holds nothing else.
		 */
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(newfstatat), 0);
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC |
		    O_APPEND, O_RDONLY));
	}
	return filter_load(ctx, rv, err, errlen);
}

static int
jail_rlimits(char *err, size_t errlen)
{
	struct rlimit	rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    setrlimit(RLIMIT_NPROC, &rl) == -1) {
		snprintf(err, errlen, "setrlimit: %s", strerror(errno));
		return -1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max > JAIL_NOFILE) {
		rl.rlim_cur = rl.rlim_max = JAIL_NOFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			snprintf(err, errlen, "setrlimit: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * The empty root, in a mount namespace of its own. Root must have it;
 * a user where user namespaces are refused goes on with seccomp alone.
 * Returns 0, or -1 with a sentence in err.
 */
static int
jail_root(int restricted, char *err, size_t errlen)
{
	int root = geteuid() == 0;

	if (!root && privdrop_userns() == -1)
		return 0;
	if (unshare(CLONE_NEWNS) == -1 ||
	    privdrop_pivot(restricted ? NULL : JAIL_RESOLV_CONF) == -1) {
		if (!root)
			return 0;
		snprintf(err, errlen, "cannot make an empty root: %s",
		    strerror(errno));
		return -1;
	}
	jail_empty = 1;
	return 0;
}

int
jail_enter(const struct proto_slirp_config *sc, char *err, size_t errlen)
{
	int restricted = (sc->flags & SLIRPF_RESTRICTED) != 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (jail_root(restricted, err, errlen) == -1)
		return -1;
	/* Root: the owner's ids (or nobody), no groups, no way back. */
	if ((geteuid() == 0 && privdrop(sc->uid, sc->gid, err, errlen) == -1) ||
	    jail_rlimits(err, errlen) == -1)
		return -1;
	return jail_seccomp(restricted, err, errlen);
}

/*
 * The runner's sandbox. In order: no_new_privs; only the fds the engine
 * handed over (and stdin/stdout on /dev/null, stderr for the log); new
 * mount, network, IPC, UTS and pid namespaces (a user namespace first
 * when not root), entered by forking once more: after unshare(CLONE_NEWPID)
 * the caller itself may not create threads, its child (pid 1 there) may.
 * The parent stays outside as the pid the engine knows, holds nothing,
 * forwards signals to the child and ends as the child ended (sandbox_pid.c).
 * Then, in the child: an empty, read-only tmpfs as the root, the host's
 * root detached (or, where namespaces are refused, a chroot into a removed
 * directory); the params' uid and gid (the engine gives each VM a uid of
 * its own), or nobody, when started as root; rlimits; a seccomp allowlist
 * that kills the process on anything else (listen and accept only on the
 * adoption socket, getsockopt only for an engine's credentials). fcntl is allowed only with the
 * commands the runner uses; those that would aim a signal at another
 * process (F_SETOWN, F_SETOWN_EX, F_SETSIG) or watch files (F_SETLEASE,
 * F_NOTIFY) fail with EPERM, so a library that tries one gets an error it
 * can report, and every other command kills. Signals go only to the
 * runner's own threads.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/capability.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "filter.h"
#include "privdrop.h"
#include "sandbox.h"

#define NOFILE_MAX	1024	/* vCPU fds, eventfds of virtqueues */

static char	sandbox_what[128] = "not entered";

/* What sandbox_begin managed, for sandbox_finish. */
static int	sandbox_userns_ok, sandbox_ns_ok, sandbox_pidns_ok;
/* The adoption socket, the one fd the runner may listen and accept on. */
static int	sandbox_listen_fd = -1;

void
sandbox_listener(int fd)
{
	sandbox_listen_fd = fd;
}

const char *
sandbox_summary(void)
{
	return sandbox_what;
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int
sandbox_close_others(const int *keep, int nkeep)
{
	int fds[64], n = 0, i;
	unsigned int from = 3;

	for (i = 0; i < nkeep && n < (int)(sizeof fds / sizeof fds[0]); i++)
		if (keep[i] > STDERR_FILENO)
			fds[n++] = keep[i];
	qsort(fds, n, sizeof fds[0], cmp_int);
	for (i = 0; i <= n; i++) {
		unsigned int to = i < n ? (unsigned int)fds[i] - 1 : ~0U;

		if (i < n && (unsigned int)fds[i] < from)
			continue;	/* a duplicate */
		if (to >= from && close_range(from, to, 0) == -1)
			return -1;
		if (i < n)
			from = fds[i] + 1;
	}
	return 0;
}

int
sandbox_begin(const int *keep, int nkeep, char *err, size_t errlen)
{
	int null;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	if (sandbox_close_others(keep, nkeep) == -1) {
		snprintf(err, errlen, "close_range: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Without namespaces, root can still chroot into a removed directory. */
static int
sandbox_chroot(void)
{
	char dir[] = "/tmp/vmtop-vm.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return -1;
	if (chdir(dir) == -1 || rmdir(dir) == -1 || chroot(".") == -1) {
		rmdir(dir);
		return -1;
	}
	return chdir("/");
}

static int
sandbox_rlimits(void)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_max > NOFILE_MAX)
		rl.rlim_max = NOFILE_MAX;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* The syscalls the runner and its threads make once the guest runs. */
static const int sandbox_allowed[] = {
	/* The event loop, the engine socket, the pty and device fds. */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_create1),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(close),
	/* Disk images: positioned I/O, flushes, discard, growth. */
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(preadv2), SCMP_SYS(pwritev2),
	SCMP_SYS(lseek), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(fallocate), SCMP_SYS(ftruncate),
	/* The size of the kernel, initrd and disks (fds; the root is empty). */
	SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	/* Device notifications (ioeventfd, irqfd, the console). */
	SCMP_SYS(eventfd2),
	/* Memory: guest RAM, malloc, thread stacks (never executable). */
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(mremap),
	/* Threads: locks, sleeps, glibc's per-thread setup and teardown. */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(sched_yield), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	/* Signals: the vCPU kick, its return, masks, abort(). */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigaction), SCMP_SYS(restart_syscall),
	/* Time: statistics (thread CPU clocks), timers, logs. */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	SCMP_SYS(gettimeofday), SCMP_SYS(getrusage),
	/* Randomness for libraries that seed themselves. */
	SCMP_SYS(getrandom),
};

/* The ioctls: KVM on its own fds, and the few a tap needs. */
static const unsigned long sandbox_ioctls[] = {
	/* /dev/kvm: create the VM. */
	KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_CHECK_EXTENSION,
	KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID,
	/* The VM: memory, irqchip, PIT, vCPUs, interrupts, clock. */
	KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR,
	KVM_SET_USER_MEMORY_REGION, KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2,
	KVM_CREATE_VCPU, KVM_IRQ_LINE, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING,
	KVM_IRQFD, KVM_IOEVENTFD, KVM_GET_CLOCK, KVM_SET_CLOCK,
	/* A vCPU: run it, its registers and CPU state. */
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_SET_CPUID2, KVM_GET_MSRS, KVM_SET_MSRS, KVM_GET_LAPIC,
	KVM_SET_LAPIC, KVM_SET_FPU, KVM_GET_MP_STATE, KVM_SET_MP_STATE,
	KVM_KVMCLOCK_CTRL,
	/* A NIC's tap: offloads and the virtio-net header. */
	TUNSETOFFLOAD, TUNSETVNETHDRSZ,
	/* Non-blocking mode and pending bytes of an fd. */
	FIONBIO, FIONREAD,
};

/* fcntl: flags, close-on-exec, duplicates, the frame ring's seals. */
static const int sandbox_fcntls[] = {
	F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_DUPFD_CLOEXEC, F_GET_SEALS,
};

/* fcntl commands refused with EPERM: signal owners, leases, dnotify. */
static const int sandbox_fcntls_refused[] = {
	F_SETOWN, F_SETOWN_EX, F_SETSIG, F_SETLEASE, F_NOTIFY,
};

static int
sandbox_seccomp(char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	size_t i;
	int rv = 0;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		snprintf(err, errlen, "seccomp_init failed");
		return -1;
	}
	for (i = 0; i < sizeof sandbox_allowed / sizeof sandbox_allowed[0];
	    i++)
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sandbox_allowed[i],
		    0);
	for (i = 0; i < sizeof sandbox_ioctls / sizeof sandbox_ioctls[0]; i++)
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffff,
		    sandbox_ioctls[i]));
	rv |= filter_fcntl(ctx, SCMP_ACT_ALLOW, sandbox_fcntls,
	    sizeof sandbox_fcntls / sizeof sandbox_fcntls[0]);
	rv |= filter_fcntl(ctx, SCMP_ACT_ERRNO(EPERM),
	    sandbox_fcntls_refused, sizeof sandbox_fcntls_refused /
	    sizeof sandbox_fcntls_refused[0]);
	/* Memory may be mapped or protected, never executable. */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Threads, not processes; clone3 hides its flags, so glibc falls
	 * back to clone. */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0);
	/* Signals only to our own threads (the vCPU kick, raise()). */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0));
	/*
	 * The adoption socket: listen and accept on it alone; the peer
	 * credentials of an engine that connects (sendmsg above carries the
	 * pty master to it).
	 */
	if (sandbox_listen_fd != -1) {
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(listen),
		    1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_listen_fd, 0));
		rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(accept4),
		    1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_listen_fd, 0));
	}
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
	    SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET, 0),
	    SCMP_A2(SCMP_CMP_EQ, SO_PEERCRED, 0));
	/* Thread names. */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME, 0));
	/* Our own limits: reading any, lowering NPROC once threads run. */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
	    SCMP_A0(SCMP_CMP_EQ, 0, 0), SCMP_A2(SCMP_CMP_EQ, 0, 0));
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
	    SCMP_A0(SCMP_CMP_EQ, 0, 0),
	    SCMP_A1(SCMP_CMP_EQ, RLIMIT_NPROC, 0));
	/* Opening by path fails quietly (glibc's malloc may try /proc). */
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat),
	    0);
	rv |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat2),
	    0);
	return filter_load(ctx, rv, err, errlen);
}

int
sandbox_unshare(const struct proto_run_params *p, char *err, size_t errlen)
{
	int root = geteuid() == 0;
	int flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;

	if (!root)
		sandbox_userns_ok = privdrop_userns() == 0;
	if (root || sandbox_userns_ok) {
		sandbox_pidns_ok = unshare(flags | CLONE_NEWPID) == 0;
		sandbox_ns_ok = sandbox_pidns_ok || unshare(flags) == 0;
	}
	if (!sandbox_pidns_ok)
		return 0;
	return sandbox_pid_fork(root ? p->uid : 0, root ? p->gid : 0,
	    sandbox_userns_ok, err, errlen);
}

int
sandbox_finish(const struct proto_run_params *p, char *err, size_t errlen)
{
	int root = geteuid() == 0, userns = sandbox_userns_ok;
	int ns = sandbox_ns_ok, empty = 0;

	if (ns)
		empty = privdrop_pivot(NULL) == 0;
	if (!empty && root)
		empty = sandbox_chroot() == 0;
	if (root && !empty) {
		snprintf(err, errlen, "cannot make an empty root: %s",
		    strerror(errno));
		return -1;
	}
	if (root && privdrop(p->uid, p->gid, err, errlen) == -1)
		return -1;
	if (sandbox_pid_rearm(err, errlen) == -1)
		return -1;
	if (userns && sandbox_drop_caps() == -1) {
		snprintf(err, errlen, "dropping capabilities: %s",
		    strerror(errno));
		return -1;
	}
	if (sandbox_rlimits() == -1) {
		snprintf(err, errlen, "rlimits: %s", strerror(errno));
		return -1;
	}
	snprintf(sandbox_what, sizeof sandbox_what, "%s%s%s, %s, uid %u, "
	    "seccomp", userns ? "user " : "", ns ? "mount/net/ipc/uts" :
	    "no namespaces", sandbox_pidns_ok ? "/pid ns" : (ns ? " ns" : ""),
	    empty ? (ns ? "empty tmpfs root" : "removed-directory root") :
	    "host root (seccomp bars open)", (unsigned)geteuid());
	return sandbox_seccomp(err, errlen);
}

/* Drop every capability (those a user namespace gave us). */
int
sandbox_drop_caps(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	memset(&hdr, 0, sizeof hdr);
	memset(data, 0, sizeof data);
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	return syscall(SYS_capset, &hdr, data);
}

int
sandbox_lock_threads(void)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = 0;
	return setrlimit(RLIMIT_NPROC, &rl);
}

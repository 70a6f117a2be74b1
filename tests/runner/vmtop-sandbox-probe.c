/*
 * vmtop-sandbox-probe [-u uid] victim-pid: enters the runner's own sandbox
 * (vmm/sandbox.c, the same three steps vmtop-vm takes) once per attempt,
 * in a child of its own, and tries there what a guest that broke the
 * device models would try: aim a socket's SIGIO at another process
 * (F_SETOWN, F_SETOWN_EX, F_SETSIG, then O_ASYNC and a write), kill(2)
 * and tgkill(2) that process, kill(2) pid 1, open /etc/passwd. It prints
 * one line per attempt: "NAME: refused (how)" or "NAME: ALLOWED", and
 * "self: ..." with the uid and pid the sandboxed child had (pid 1 inside
 * a pid namespace). "getfl" must be allowed: the filter still lets the
 * runner do what it needs. As root the child runs as uid (default 65534).
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

#include "proto.h"
#include "sandbox.h"

static pid_t	victim;
static int	sv[2];
static int	report[2];

/* Each attempt: 0 when the harm was done, else the errno that stopped it. */
static int
probe_fsetown(void)
{
	struct f_owner_ex ex = { F_OWNER_PID, 0 };

	ex.pid = victim;
	if (fcntl(sv[0], F_SETOWN, victim) == -1 ||
	    fcntl(sv[0], F_SETOWN_EX, &ex) == -1)
		return errno;
	if (fcntl(sv[0], F_SETSIG, SIGKILL) == -1 ||
	    fcntl(sv[0], F_SETFL, O_ASYNC | O_NONBLOCK) == -1)
		return errno;
	if (write(sv[1], "x", 1) == -1)
		return errno;
	return 0;
}

static int
probe_setsig(void)
{
	return fcntl(sv[0], F_SETSIG, SIGKILL) == -1 ? errno : 0;
}

static int
probe_kill(void)
{
	return kill(victim, SIGKILL) == -1 ? errno : 0;
}

static int
probe_tgkill(void)
{
	return syscall(SYS_tgkill, victim, victim, SIGKILL) == -1 ? errno : 0;
}

static int
probe_kill1(void)
{
	return kill(1, SIGTERM) == -1 ? errno : 0;
}

static int
probe_open(void)
{
	int fd;

	if ((fd = open("/etc/passwd", O_RDONLY)) == -1)
		return errno;
	close(fd);
	return 0;
}

static int
probe_getfl(void)
{
	return fcntl(sv[0], F_GETFL) == -1 ? errno : 0;
}

/*
 * Where the sandboxed child ran: its pid there, sent on a socket whose
 * reader passes credentials, so the kernel adds the uid (getuid is not
 * in the runner's filter).
 */
static int
probe_self(void)
{
	unsigned int pid = getpid();

	if (write(report[1], &pid, sizeof pid) != sizeof pid)
		return errno;
	return 0;
}

/* Read what probe_self sent: its uid and pid. Returns 0, or -1. */
static int
probe_self_read(unsigned int *uid, unsigned int *pid)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct iovec iov = { pid, sizeof *pid };
	struct msghdr msg;
	struct cmsghdr *c;
	struct ucred uc;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	if (recvmsg(report[0], &msg, 0) != sizeof *pid ||
	    (c = CMSG_FIRSTHDR(&msg)) == NULL ||
	    c->cmsg_type != SCM_CREDENTIALS)
		return -1;
	memcpy(&uc, CMSG_DATA(c), sizeof uc);
	*uid = uc.uid;
	return 0;
}

static const struct {
	const char	*name;
	int		(*try)(void);
} probes[] = {
	{ "self", probe_self },
	{ "getfl", probe_getfl },
	{ "fsetown", probe_fsetown },
	{ "setsig", probe_setsig },
	{ "kill", probe_kill },
	{ "tgkill", probe_tgkill },
	{ "kill1", probe_kill1 },
	{ "open", probe_open },
};

/* In a child: enter the sandbox, make one attempt, exit with its result. */
static void __attribute__((noreturn))
probe_child(int (*try)(void), uid_t uid)
{
	struct proto_run_params p;
	char err[PROTO_TEXT_SIZE];
	int keep[3] = { sv[0], sv[1], report[1] };

	memset(&p, 0, sizeof p);
	p.uid = p.gid = uid;
	if (sandbox_begin(keep, 3, err, sizeof err) == -1 ||
	    sandbox_unshare(&p, err, sizeof err) == -1 ||
	    sandbox_finish(&p, err, sizeof err) == -1) {
		fprintf(stderr, "sandbox: %s\n", err);
		_exit(126);
	}
	_exit(try());
}

int
main(int argc, char **argv)
{
	unsigned int id[2];
	uid_t uid = 65534;
	size_t i;
	pid_t pid;
	int c, status, one = 1;

	while ((c = getopt(argc, argv, "u:")) != -1) {
		if (c != 'u')
			goto usage;
		uid = strtoul(optarg, NULL, 10);
	}
	if (optind + 1 != argc)
		goto usage;
	victim = strtol(argv[optind], NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
		    socketpair(AF_UNIX, SOCK_STREAM, 0, report) == -1 ||
		    setsockopt(report[0], SOL_SOCKET, SO_PASSCRED, &one,
		    sizeof one) == -1) {
			perror("socketpair");
			return 1;
		}
		if ((pid = fork()) == -1) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			probe_child(probes[i].try, uid);
		close(report[1]);
		if (waitpid(pid, &status, 0) == -1) {
			perror("waitpid");
			return 1;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
			printf("%s: sandbox failed\n", probes[i].name);
		else if (WIFSIGNALED(status))
			printf("%s: refused (killed by %s)\n", probes[i].name,
			    sigabbrev_np(WTERMSIG(status)));
		else if (WEXITSTATUS(status) != 0)
			printf("%s: refused (%s)\n", probes[i].name,
			    strerrorname_np(WEXITSTATUS(status)));
		else if (probes[i].try == probe_self &&
		    probe_self_read(&id[0], &id[1]) == 0)
			printf("self: uid %u pid %u\n", id[0], id[1]);
		else
			printf("%s: ALLOWED\n", probes[i].name);
		close(report[0]);
		close(sv[0]);
		close(sv[1]);
	}
	return 0;
usage:
	fprintf(stderr, "usage: vmtop-sandbox-probe [-u uid] victim-pid\n");
	return 2;
}

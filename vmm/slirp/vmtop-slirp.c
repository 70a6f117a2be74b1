/*
 * vmtop-slirp: the user-mode networking helper of one NIC, after bhyve's
 * slirp-helper. The engine starts it as "vmtop-slirp VM NIC" with its
 * end of the NIC's SOCK_SEQPACKET socketpair on SLIRP_SOCKET_FD, its
 * control socket (if any) on SLIRP_CONTROL_FD, stdin and stdout on
 * /dev/null and stderr for the log; every other fd is closed here. It reads MSG_SLIRP_CONFIG, checks it, sets up libslirp and
 * binds the hostfwd rules (with the privileges it was started with, so
 * root may forward low ports), enters its sandbox and only then answers
 * MSG_OK; any failure is answered with MSG_ERROR naming what failed (a
 * port in use names its rule). From then on it serves the runner's
 * frames, through shared frame rings once the runner takes its offer
 * (else through the socket), and exits when the runner hangs up. Rules
 * the engine adds or removes on the control socket while it runs are
 * answered there, with MSG_OK or MSG_ERROR.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "slirpmsg.h"
#include "usernet.h"

/* How long the engine may take to send the configuration. */
#define HELPER_CONFIG_MS	10000

#ifdef __SANITIZE_ADDRESS__
const char	*__lsan_default_options(void);

/*
 * A sanitizer build checks for leaks at exit with ptrace and a thread,
 * which the sandbox's seccomp filter kills: no leak check here.
 */
const char *
__lsan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

static char	helper_name[VM_NAME_SIZE + 32] = "vmtop-slirp";
static uint32_t	helper_peerid;

/* Answer the engine with an error (which it logs) and end. */
static __attribute__((noreturn)) void
helper_fail(const char *text)
{
	struct proto_error	e;

	memset(&e, 0, sizeof e);
	snprintf(e.text, sizeof e.text, "%s", text);
	log_debug("%s", text);
	if (slirpmsg_send(SLIRP_SOCKET_FD, MSG_ERROR, helper_peerid, &e,
	    sizeof e) == -1)
		log_warn("%s: answering the engine", __func__);
	exit(1);
}

/* Whether fd is a SOCK_SEQPACKET socket. */
static int
helper_seqpacket(int fd)
{
	int		type;
	socklen_t	len = sizeof type;

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    type == SOCK_SEQPACKET;
}

/*
 * stdin and stdout on /dev/null; no fd above the sockets survives.
 * Returns the control socket, or -1 when it was started without one.
 */
static int
helper_fds(void)
{
	int	null, ctl = -1;

	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (null > SLIRP_SOCKET_FD)
			close(null);
	}
	if (!helper_seqpacket(SLIRP_SOCKET_FD)) {
		fprintf(stderr, "vmtop-slirp: fd %d is not a SOCK_SEQPACKET "
		    "socket: the engine starts vmtop-slirp, not people\n",
		    SLIRP_SOCKET_FD);
		exit(2);
	}
	if (helper_seqpacket(SLIRP_CONTROL_FD))
		ctl = SLIRP_CONTROL_FD;
	if (close_range(ctl != -1 ? SLIRP_CONTROL_FD + 1 : SLIRP_SOCKET_FD + 1,
	    ~0U, 0) == -1)
		fatal("close_range");
	if (fcntl(SLIRP_SOCKET_FD, F_SETFD, FD_CLOEXEC) == -1 ||
	    (ctl != -1 && fcntl(ctl, F_SETFD, FD_CLOEXEC) == -1))
		fatal("fcntl");
	return ctl;
}

int
main(int argc, char **argv)
{
	struct proto_slirp_config	 sc;
	struct usernet			*un;
	struct msg_hdr			 hdr;
	uint8_t				 buf[sizeof hdr + sizeof sc + 1];
	char				 err[PROTO_TEXT_SIZE];
	ssize_t				 n;
	uint32_t			 i;
	int				 ctl;

	ctl = helper_fds();
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3)
		snprintf(helper_name, sizeof helper_name, "vmtop-slirp %s/%s",
		    argv[1], argv[2]);
	log_init(helper_name, 1, 0);

	n = slirpmsg_recv(SLIRP_SOCKET_FD, buf, sizeof buf, HELPER_CONFIG_MS);
	if (n == 0)
		exit(0);	/* the engine changed its mind */
	if (n == -1)
		fatal("reading the configuration");
	if ((size_t)n >= sizeof hdr) {
		memcpy(&hdr, buf, sizeof hdr);
		helper_peerid = hdr.peerid;
	}
	if (slirpmsg_parse(buf, n, &sc, err, sizeof err) == -1)
		helper_fail(err);
	/* Before the jail: openlog connects to syslog now (LOG_NDELAY). */
	if (sc.flags & SLIRPF_SYSLOG)
		log_init(helper_name, 0, (sc.flags & SLIRPF_VERBOSE) != 0);
	log_setverbose((sc.flags & SLIRPF_VERBOSE) != 0);

	if ((un = usernet_new(SLIRP_SOCKET_FD, ctl, &sc, err,
	    sizeof err)) == NULL)
		helper_fail(err);
	for (i = 0; i < sc.nhostfwd; i++)
		if (usernet_hostfwd(un, sc.hostfwd[i], err, sizeof err) == -1)
			helper_fail(err);
	if (jail_enter(&sc, err, sizeof err) == -1)
		helper_fail(err);
	log_debug("ready: uid %u, %s, %s, %u hostfwd rules",
	    (unsigned)getuid(), (sc.flags & SLIRPF_RESTRICTED) ?
	    "restricted" : "unrestricted", jail_rooted() ? "empty root" :
	    "host root", sc.nhostfwd);
	if (slirpmsg_send(SLIRP_SOCKET_FD, MSG_OK, helper_peerid, NULL, 0) ==
	    -1)
		fatal("answering the engine");
	return usernet_run(un);
}

/*
 * Engine doubles for the tests.
 *
 * A misbehaving engine for the client tests: it listens on a socket and
 * answers each client (one process per connection) as its mode says:
 *   vmtop-fakeengine SOCKET shorthello
 *               a hello three bytes long
 *   vmtop-fakeengine SOCKET shortreply
 *               a good hello, then three-byte answers: a VM for a
 *               subscription, a list or a show, MSG_OK for any other
 *               request
 * It runs until it is killed.
 *
 * A minimal engine of one runner, for the adoption tests: it speaks the
 * runner protocol as an engine would and prints what it hears.
 *   vmtop-fakeengine start RUNNER SOCKET NAME CMDLINE
 *               start RUNNER with a hand-off of /dev/null as /dev/kvm, a
 *               fresh pty and an adoption socket bound (not listening) at
 *               SOCKET; wait for ready and the first console line, print
 *               "pid P pty PATH ptyn N", and hang up
 *   vmtop-fakeengine adopt [-v VERSION] [-i ID] [-s|-g|-n] SOCKET STEP...
 *               connect to SOCKET, print the peer's credentials, send
 *               MSG_RUN_ADOPT (-v: of that version; -s: three bytes of it;
 *               -g: garbage instead; -n: nothing) and print what comes
 *               back: the state, console lines (the kept ones as "kept:"),
 *               answers, errors, the exit; then do each STEP:
 *                 pause, unpause   ask, and print the answer
 *                 shutdown         press the power button
 *                 console:TEXT     read until a console line holds TEXT
 *                 until:PATH       read until PATH exists
 *                 exit             read until MSG_RUN_EXIT and the hang-up
 *               and hang up. Each wait gives up after a minute.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "proto.h"

static void
serve(int c, int shorthello)
{
	struct proto_hello h = { PROTOCOL_VERSION, 0 };
	struct msg m;
	uint32_t type;

	h.pid = getpid();
	if (msg_recv_sync(c, &m) != 1 || m.hdr.type != MSG_HELLO)
		return;
	msg_clear(&m);
	if (shorthello) {
		msg_send_sync(c, MSG_HELLO, 0, -1, &h, 3);
		return;
	}
	if (msg_send_sync(c, MSG_HELLO, 0, -1, &h, sizeof h) == -1)
		return;
	while (msg_recv_sync(c, &m) == 1) {
		type = m.hdr.type == MSG_CMD_SUBSCRIBE ||
		    m.hdr.type == MSG_CMD_LIST || m.hdr.type == MSG_CMD_SHOW ?
		    MSG_VM_INFO : MSG_OK;
		msg_clear(&m);
		if (msg_send_sync(c, type, 0, -1, "abc", 3) == -1)
			return;
	}
}

#define FAKE_WAIT_MS	60000
#define FAKE_ID		7

static uint32_t	 fake_id = FAKE_ID;
static char	 fake_line[4096];
static size_t	 fake_linelen;
static uint64_t	 fake_kept;		/* kept bytes still to come */
static const char *fake_want;		/* console:TEXT */
static int	 fake_seen;

static int
fake_sun(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		fprintf(stderr, "vmtop-fakeengine: %s: path too long\n", path);
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

static void
fake_send(int s, uint32_t type, int fd, const void *data, size_t len)
{
	if (msg_send_sync(s, type, fake_id, fd, data, len) == -1) {
		perror("vmtop-fakeengine: send");
		exit(1);
	}
}

static void
fake_send_fd(int s, uint32_t kind, int fd)
{
	struct proto_run_fd rf = { kind, 0, 0 };

	fake_send(s, MSG_RUN_FD, fd, &rf, sizeof rf);
}

/* Console bytes, printed a line at a time; the first kept ones marked. */
static void
fake_console(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != '\n' && fake_linelen < sizeof fake_line - 1) {
			fake_line[fake_linelen++] = p[i];
			if (fake_kept > 0)
				fake_kept--;
			continue;
		}
		fake_line[fake_linelen] = '\0';
		printf("%s: %s\n", fake_kept > 0 ? "kept" : "console",
		    fake_line);
		if (fake_kept > 0)
			fake_kept--;
		if (fake_want != NULL && strstr(fake_line, fake_want) != NULL)
			fake_seen = 1;
		fake_linelen = 0;
	}
}

static void
fake_state(const struct msg *m)
{
	struct proto_run_state st;
	unsigned int n = 0;

	if (m->hdr.len != sizeof st) {
		printf("state of %u bytes\n", m->hdr.len);
		return;
	}
	memcpy(&st, m->data, sizeof st);
	st.name[sizeof st.name - 1] = '\0';
	if (m->fd != -1 && ioctl(m->fd, TIOCGPTN, &n) == -1)
		n = ~0U;
	printf("state version %u name %s pid %d old_id %u flags%s%s%s%s "
	    "kept %llu lost %llu uptime %s exits %llu pty %s ptyn %d\n",
	    st.version, st.name, st.pid, st.old_id, st.flags == 0 ? " none" :
	    "", st.flags & RUNSTATE_PAUSED ? " paused" : "",
	    st.flags & RUNSTATE_ENDED ? " ended" : "",
	    st.flags & RUNSTATE_PTY ? " pty" : "",
	    (unsigned long long)st.console_kept,
	    (unsigned long long)st.console_lost,
	    st.uptime_ns > 0 ? "yes" : "no",
	    (unsigned long long)st.stats.exits, m->fd != -1 ? "yes" : "no",
	    m->fd != -1 ? (int)n : -1);
	fake_kept = st.console_kept;
}

/* Print one message; returns its type, 0 at the hang-up. */
static uint32_t
fake_print(int s)
{
	struct proto_error e;
	struct proto_run_exit x;
	struct msg m;
	uint32_t type;

	if (msg_recv_sync(s, &m) != 1) {
		printf("closed\n");
		return 0;
	}
	switch (type = m.hdr.type) {
	case MSG_RUN_STATE:
		fake_state(&m);
		break;
	case MSG_RUN_CONSOLE:
		fake_console(m.data, m.hdr.len);
		break;
	case MSG_RUN_STATS:
	case MSG_RUN_READY:
		break;
	case MSG_OK:
		printf("ok\n");
		break;
	case MSG_ERROR:
	case MSG_RUN_ERROR:
		memset(&e, 0, sizeof e);
		memcpy(&e, m.data, m.hdr.len < sizeof e ? m.hdr.len : sizeof e);
		e.text[sizeof e.text - 1] = '\0';
		printf("%s %d (%s): %s\n", type == MSG_ERROR ? "refused" :
		    "error", e.code, strerror(e.code), e.text);
		break;
	case MSG_RUN_EXIT:
		memset(&x, 0, sizeof x);
		memcpy(&x, m.data, m.hdr.len < sizeof x ? m.hdr.len : sizeof x);
		x.text[sizeof x.text - 1] = '\0';
		printf("exit code %u text \"%s\"\n", x.code, x.text);
		break;
	default:
		printf("message %u of %u bytes\n", type, m.hdr.len);
		break;
	}
	fflush(stdout);
	msg_clear(&m);
	return type;
}

static long long
fake_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Print messages until done() says so (checked before each read and
 * every 100 ms); returns 0, or -1 at the hang-up or after a minute.
 */
static int
fake_read_until(int s, int (*done)(uint32_t, const void *), const void *arg)
{
	struct pollfd pfd = { s, POLLIN, 0 };
	long long end = fake_ms() + FAKE_WAIT_MS;
	uint32_t type = 1;

	while (!done(type, arg)) {
		if (fake_ms() > end) {
			printf("timeout\n");
			return -1;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((type = fake_print(s)) == 0)
			return -1;
	}
	return 0;
}

static int
fake_is(uint32_t type, const void *arg)
{
	const uint32_t *want = arg;

	return type == want[0] || type == want[1];
}

static int
fake_have_line(uint32_t type, const void *arg)
{
	(void)type;
	(void)arg;
	return fake_seen;
}

static int
fake_have_file(uint32_t type, const void *arg)
{
	struct stat sb;

	(void)type;
	return stat(arg, &sb) == 0;
}

static int
fake_closed(uint32_t type, const void *arg)
{
	(void)arg;
	return type == 0;
}

/* start: hand a runner its fds as the engine would, then hang up. */
static int
fake_start(const char *runner, const char *path, const char *name,
    const char *cmdline)
{
	struct proto_run_params p;
	struct sockaddr_un sun;
	uint32_t want[2] = { MSG_RUN_CONSOLE, MSG_RUN_CONSOLE };
	char pts[64];
	unsigned int n;
	int sv[2], adopt, pty, null;
	pid_t pid;

	if (fake_sun(&sun, path) == -1)
		return 1;
	unlink(path);
	if ((adopt = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(adopt, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    (pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(pty) == -1 || unlockpt(pty) == -1 ||
	    ptsname_r(pty, pts, sizeof pts) != 0 ||
	    ioctl(pty, TIOCGPTN, &n) == -1 ||
	    (null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		perror("vmtop-fakeengine: start");
		return 1;
	}
	switch (pid = fork()) {
	case -1:
		perror("vmtop-fakeengine: fork");
		return 1;
	case 0:
		if (dup2(sv[1], RUNNER_SOCKET_FD) == -1)
			_exit(1);
		execl(runner, runner, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	memset(&p, 0, sizeof p);
	p.id = fake_id;
	snprintf(p.name, sizeof p.name, "%s", name);
	p.memory = 64ULL << 20;
	p.vcpus = 1;
	p.flags = RUNP_KERNEL | RUNP_VERBOSE;
	p.uid = p.gid = 65534;
	snprintf(p.cmdline, sizeof p.cmdline, "%s", cmdline);
	fake_send(sv[0], MSG_RUN_PARAMS, -1, &p, sizeof p);
	fake_send_fd(sv[0], RUNFD_KVM, null);
	fake_send_fd(sv[0], RUNFD_PTY, pty);
	fake_send_fd(sv[0], RUNFD_ADOPT, adopt);
	fake_send(sv[0], MSG_RUN_START_END, -1, NULL, 0);
	/* Hang up once the runner is ready and has said something. */
	if (fake_read_until(sv[0], fake_is, want) == -1)
		return 1;
	printf("pid %ld pty %s ptyn %u\n", (long)pid, pts, n);
	return 0;
}

/* adopt: connect, adopt (or misbehave), print, then do the steps. */
static int
fake_adopt(int argc, char **argv)
{
	struct proto_run_adopt a;
	struct sockaddr_un sun;
	struct ucred cred;
	socklen_t len = sizeof cred;
	uint32_t state[2] = { MSG_RUN_STATE, MSG_ERROR };
	uint32_t answer[2] = { MSG_OK, MSG_ERROR };
	uint32_t exited[2] = { MSG_RUN_EXIT, MSG_RUN_EXIT };
	static const char garbage[] = "\xff\xff\xff\xff not a message at all";
	const char *mode = "adopt";
	int ch, s, i, rv = 0;

	memset(&a, 0, sizeof a);
	a.version = RUNNER_PROTOCOL_VERSION;
	a.engine_pid = getpid();
	while ((ch = getopt(argc, argv, "v:i:sgn")) != -1) {
		switch (ch) {
		case 'v':
			a.version = strtoul(optarg, NULL, 10);
			break;
		case 'i':
			fake_id = strtoul(optarg, NULL, 10);
			break;
		case 's':
			mode = "short";
			break;
		case 'g':
			mode = "garbage";
			break;
		case 'n':
			mode = "nothing";
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	a.id = fake_id;
	if (argc < 1 || fake_sun(&sun, argv[0]) == -1)
		return 2;
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		printf("connect: %s\n", strerror(errno));
		return 1;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		printf("peer pid %ld uid %u\n", (long)cred.pid,
		    (unsigned)cred.uid);
	if (strcmp(mode, "adopt") == 0)
		fake_send(s, MSG_RUN_ADOPT, -1, &a, sizeof a);
	else if (strcmp(mode, "short") == 0)
		fake_send(s, MSG_RUN_ADOPT, -1, &a, 3);
	else if (strcmp(mode, "garbage") == 0 &&
	    write(s, garbage, sizeof garbage - 1) == -1)
		return 1;
	if (strcmp(mode, "adopt") != 0)
		return fake_read_until(s, fake_closed, NULL) == -1 ? 0 : 1;
	if (fake_read_until(s, fake_is, state) == -1)
		return 0;
	for (i = 1; i < argc && rv == 0; i++) {
		if (strcmp(argv[i], "pause") == 0 ||
		    strcmp(argv[i], "unpause") == 0) {
			printf("%s:\n", argv[i]);
			fake_send(s, argv[i][0] == 'p' ? MSG_RUN_PAUSE :
			    MSG_RUN_UNPAUSE, -1, NULL, 0);
			rv = fake_read_until(s, fake_is, answer);
		} else if (strcmp(argv[i], "shutdown") == 0)
			fake_send(s, MSG_RUN_SHUTDOWN, -1, NULL, 0);
		else if (strncmp(argv[i], "console:", 8) == 0) {
			fake_want = argv[i] + 8;
			fake_seen = 0;
			rv = fake_read_until(s, fake_have_line, NULL);
		} else if (strncmp(argv[i], "until:", 6) == 0)
			rv = fake_read_until(s, fake_have_file, argv[i] + 6);
		else if (strcmp(argv[i], "exit") == 0) {
			if ((rv = fake_read_until(s, fake_is, exited)) == 0)
				fake_read_until(s, fake_closed, NULL);
		} else {
			fprintf(stderr, "vmtop-fakeengine: bad step %s\n",
			    argv[i]);
			return 2;
		}
	}
	printf("hang up\n");
	return rv == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	int s, c, shorthello;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 6 && strcmp(argv[1], "start") == 0)
		return fake_start(argv[2], argv[3], argv[4], argv[5]);
	if (argc >= 3 && strcmp(argv[1], "adopt") == 0)
		return fake_adopt(argc - 1, argv + 1);
	if (argc != 3 || (strcmp(argv[2], "shorthello") != 0 &&
	    strcmp(argv[2], "shortreply") != 0)) {
		fprintf(stderr, "usage: vmtop-fakeengine socket "
		    "shorthello|shortreply\n"
		    "       vmtop-fakeengine start runner socket name cmdline\n"
		    "       vmtop-fakeengine adopt [-v version] [-i id] "
		    "[-s|-g|-n] socket step...\n");
		return 2;
	}
	shorthello = strcmp(argv[2], "shorthello") == 0;
	if (fake_sun(&sun, argv[1]) == -1)
		return 1;
	signal(SIGCHLD, SIG_IGN);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(s, 8) == -1) {
		perror("vmtop-fakeengine");
		return 1;
	}
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			continue;
		switch (fork()) {
		case 0:
			close(s);
			serve(c, shorthello);
			_exit(0);
		default:
			close(c);
			break;
		}
	}
}

/*
 * The client side of the control socket. A client connects to the engine's
 * socket; when nobody listens there it starts the engine itself, as tmux
 * starts its server: it forks twice so that the engine is not its child,
 * execs itself as `vmtop -D -B -S socket` in a new session with stdio on
 * /dev/null, and retries the connection until the engine answers. Every
 * exchange is blocking (msg_send_sync/msg_recv_sync) and every error is a
 * sentence for the user.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"
#include "log.h"
#include "msg.h"
#include "paths.h"
#include "proto.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

static uint64_t
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Try to connect once; returns the socket, or -1 with errno set. */
static int
client_try_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	while (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Whether a connect error means that no engine listens on the socket. */
static int
client_nobody_listens(int error)
{
	return error == ENOENT || error == ECONNREFUSED;
}

/* The engine's command line: vmtop -D -B -S socket [-f config] [-v...]. */
static char **
client_engine_argv(const char *socket, const struct client_opts *o)
{
	char **argv;
	int argc = 0, i, n;

	n = 6 + (o->config != NULL ? 2 : 0) + o->verbose;
	argv = xcalloc(n + 1, sizeof *argv);
	argv[argc++] = xstrdup("vmtop");
	argv[argc++] = xstrdup("-D");
	argv[argc++] = xstrdup("-B");
	argv[argc++] = xstrdup("-S");
	argv[argc++] = xstrdup(socket);
	if (o->config != NULL) {
		argv[argc++] = xstrdup("-f");
		argv[argc++] = xstrdup(o->config);
	}
	for (i = 0; i < o->verbose; i++)
		argv[argc++] = xstrdup("-v");
	argv[argc] = NULL;
	return argv;
}

static void
client_free_argv(char **argv)
{
	int i;

	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* In the grandchild: become the engine. Never returns. */
static void __attribute__((noreturn))
client_exec_engine(char **argv)
{
	sigset_t set;
	int fd;

	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/* Keep no fd of the caller's: a pipe held open would hang it. */
	if (close_range(STDERR_FILENO + 1, ~0U, 0) == -1) {
		for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
			close(fd);
	}
	if (chdir("/") == -1)
		_exit(1);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	execv("/proc/self/exe", argv);
	_exit(127);
}

/*
 * Start the engine on socket, detached: fork, setsid, fork again and exec
 * in the grandchild, which the intermediate child reports through a pipe
 * before it exits. Return values: the engine's pid, or -1 with errno set.
 */
static pid_t
client_start_engine(const char *socket, const struct client_opts *o)
{
	char **argv;
	pid_t pid, engine = -1;
	ssize_t n;
	int p[2], status, saved;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	argv = client_engine_argv(socket, o);
	fflush(stdout);
	fflush(stderr);
	switch (pid = fork()) {
	case -1:
		saved = errno;
		close(p[0]);
		close(p[1]);
		client_free_argv(argv);
		errno = saved;
		return -1;
	case 0:
		close(p[0]);
		if (setsid() == -1)
			_exit(1);
		switch (pid = fork()) {
		case -1:
			_exit(1);
		case 0:
			close(p[1]);
			client_exec_engine(argv);
		default:
			n = write(p[1], &pid, sizeof pid);
			_exit(n == sizeof pid ? 0 : 1);
		}
	}
	close(p[1]);
	do
		n = read(p[0], &engine, sizeof engine);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	client_free_argv(argv);
	if (n != sizeof engine) {
		errno = n == -1 ? saved : EAGAIN;
		return -1;
	}
	return engine;
}

/*
 * Whether the engine we started has exited. A pidfd sees an exit at once,
 * even before the engine is reaped, where kill(pid, 0) still finds the
 * zombie until init gets to it.
 */
static int
client_engine_exited(pid_t pid, int pidfd)
{
	struct pollfd pfd;

	if (pidfd == -1)
		return kill(pid, 0) == -1 && errno == ESRCH;
	pfd.fd = pidfd;
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) == 1;
}

/*
 * Start the engine and connect to it once it listens, trying every
 * CLIENT_RETRY_MS for up to CLIENT_START_TIMEOUT_MS. If the engine exits
 * at once, give a concurrent client's engine a moment before giving up.
 */
static int
client_start_and_connect(const char *path, const struct client_opts *o,
    char *err, size_t errlen)
{
	char *dir, *slash;
	uint64_t deadline, grace;
	pid_t engine;
	int fd, pidfd, exited = 0, error = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (paths_mkdirs(dir, 0700) == -1) {
			snprintf(err, errlen, "cannot create the directory %s "
			    "for the engine's socket: %s", dir,
			    strerror(errno));
			free(dir);
			return -1;
		}
	}
	free(dir);

	if ((engine = client_start_engine(path, o)) == -1) {
		snprintf(err, errlen, "cannot start the engine: %s",
		    strerror(errno));
		return -1;
	}
	log_debug("%s: started the engine (pid %ld) on %s", __func__,
	    (long)engine, path);
	pidfd = syscall(SYS_pidfd_open, engine, 0);

	deadline = client_now_ms() + CLIENT_START_TIMEOUT_MS;
	for (;;) {
		if ((fd = client_try_connect(path)) != -1)
			break;
		if (!client_nobody_listens(errno)) {
			error = errno;
			snprintf(err, errlen, "cannot connect to the engine "
			    "on %s: %s", path, strerror(error));
			break;
		}
		if (!exited && client_engine_exited(engine, pidfd)) {
			exited = 1;
			grace = client_now_ms() + 500;
			if (grace < deadline)
				deadline = grace;
		}
		if (client_now_ms() >= deadline)
			break;
		usleep(CLIENT_RETRY_MS * 1000);
	}
	if (pidfd != -1)
		close(pidfd);
	if (fd != -1 || error != 0)
		return fd;
	if (exited)
		snprintf(err, errlen, "the engine exited as it started; "
		    "`vmtop -D -S %s%s%s` shows why", path,
		    o->config != NULL ? " -f " : "",
		    o->config != NULL ? o->config : "");
	else
		snprintf(err, errlen, "the engine did not listen on %s "
		    "within %d seconds (see the system log)", path,
		    CLIENT_START_TIMEOUT_MS / 1000);
	return -1;
}

/* The errno value of an MSG_ERROR, or 0. */
static int
client_error_code(const struct msg *m)
{
	struct proto_error pe;

	if (m->hdr.type != MSG_ERROR || m->hdr.len != sizeof pe)
		return 0;
	memcpy(&pe, m->data, sizeof pe);
	return pe.code;
}

/* What the hello exchange needs from the engine's answer. */
struct client_hello_state {
	struct client_conn	*conn;
	int			 flags;
	uint32_t		 version;	/* the one we speak */
	char			*err;
	size_t			 errlen;
};

static int
client_hello_hello(struct msgconn *unused, struct msg *m, void *arg)
{
	struct client_hello_state *hs = arg;
	struct client_conn *c = hs->conn;
	struct proto_hello hello;

	(void)unused;
	memcpy(&hello, m->data, sizeof hello);
	c->version = hello.version;
	if (c->engine_pid == 0)
		c->engine_pid = hello.pid;
	if (hello.version != hs->version &&
	    (~hs->flags & CLIENT_ANY_VERSION)) {
		snprintf(hs->err, hs->errlen, "engine speaks protocol %u, "
		    "this vmtop speaks %u: run `vmtop -c kill-engine`",
		    hello.version, hs->version);
		return -1;
	}
	return 0;
}

static int
client_hello_error(struct msgconn *unused, struct msg *m, void *arg)
{
	struct client_hello_state *hs = arg;

	(void)unused;
	client_error_text(m, hs->err, hs->errlen);
	if ((hs->flags & CLIENT_ANY_VERSION) && client_error_code(m) ==
	    EPROTO) {
		/* An engine of another protocol: version unknown. */
		hs->conn->version = 0;
		return 0;
	}
	return -1;
}

/* The answers to our hello. */
static const struct msg_handler client_hello_replies[] = {
	{ MSG_HELLO, "hello", sizeof(struct proto_hello), 0,
	    client_hello_hello },
	{ MSG_ERROR, "error", sizeof(struct proto_error), 0,
	    client_hello_error },
};

/* The answers to a request answered by MSG_OK or MSG_ERROR. */
static const struct msg_handler client_ok_replies[] = {
	{ MSG_OK, "ok", 0, 0, NULL },
	{ MSG_ERROR, "error", sizeof(struct proto_error), 0, NULL },
};

/*
 * Find m's entry in a table of the replies we expect and check its size.
 * Return values: the entry, or NULL with a sentence in err that names
 * what came.
 */
static const struct msg_handler *
client_lookup(const struct msg_handler *tab, size_t n, const struct msg *m,
    char *err, size_t errlen)
{
	const struct msg_handler *h;
	char why[128];

	if ((h = msg_lookup(tab, n, m, why, sizeof why)) != NULL)
		return h;
	log_debug("%s: %s", __func__, why);
	snprintf(err, errlen, "malformed reply from the engine: %s", why);
	return NULL;
}

/*
 * Send our hello and check the engine's. With CLIENT_ANY_VERSION, an
 * engine of another protocol (its hello, or its EPROTO refusal) is kept
 * with c->version set to its version, or 0 if it did not say. Returns 0,
 * or -1 with err.
 */
static int
client_hello(struct client_conn *c, const struct client_opts *o, char *err,
    size_t errlen)
{
	struct client_hello_state hs = { c, o->flags, PROTOCOL_VERSION, err,
	    errlen };
	const struct msg_handler *h;
	struct proto_hello hello;
	struct pollfd pfd;
	struct msg m;
	int n;

	if (o->hello_version != 0)
		hs.version = o->hello_version;
	memset(&hello, 0, sizeof hello);
	hello.version = hs.version;
	hello.pid = getpid();
	/*
	 * An engine that refuses us may hang up before our hello arrives:
	 * its reason waits to be read all the same.
	 */
	(void)client_request(c, MSG_HELLO, &hello, sizeof hello, err, errlen);
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	do
		n = poll(&pfd, 1, CLIENT_HELLO_TIMEOUT_MS);
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		snprintf(err, errlen, "the engine on %s does not answer",
		    c->socket);
		return -1;
	}
	if (client_recv(c, &m, err, errlen) != 1)
		return -1;
	h = client_lookup(client_hello_replies, nitems(client_hello_replies),
	    &m, err, errlen);
	n = h != NULL ? h->fn(NULL, &m, &hs) : -1;
	msg_clear(&m);
	return n;
}

int
client_connect(const struct client_opts *o, struct client_conn **connp,
    char *err, size_t errlen)
{
	struct client_conn *c;
	struct ucred cred;
	socklen_t credlen = sizeof cred;
	char *path;
	int fd;

	*connp = NULL;
	path = o->socket != NULL ? xstrdup(o->socket) : paths_socket();
	if (o->socket == NULL && paths_socket_check(path, err, errlen) == -1)
		goto fail;
	if ((fd = client_try_connect(path)) == -1) {
		if (errno == ENAMETOOLONG) {
			snprintf(err, errlen, "the socket path %s is too "
			    "long", path);
			goto fail;
		}
		if (!client_nobody_listens(errno)) {
			snprintf(err, errlen, "cannot connect to the engine "
			    "on %s: %s", path, strerror(errno));
			goto fail;
		}
		if (~o->flags & CLIENT_START) {
			snprintf(err, errlen, "no engine is running on %s",
			    path);
			free(path);
			errno = ESRCH;
			return -1;
		}
		if ((fd = client_start_and_connect(path, o, err,
		    errlen)) == -1)
			goto fail;
	}
	log_debug("%s: connected to %s", __func__, path);

	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->socket = path;
	/* Only an engine of our own or root's is told anything. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == -1) {
		snprintf(err, errlen, "cannot tell who runs the engine on %s: "
		    "%s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	if (cred.uid != 0 && cred.uid != geteuid()) {
		snprintf(err, errlen, "the engine on %s runs as uid %u, not as "
		    "you (uid %u) or root: refusing it", path,
		    (unsigned)cred.uid, (unsigned)geteuid());
		close(fd);
		goto fail;
	}
	c->engine_pid = cred.pid;
	if (client_hello(c, o, err, errlen) == -1) {
		client_close(c);
		errno = EPROTO;
		return -1;
	}
	*connp = c;
	return 0;

fail:
	free(path);
	errno = EIO;
	return -1;
}

/*
 * Wait until process pid has exited: at once with a pidfd, else by
 * polling kill(pid, 0), which finds a zombie until init reaps it.
 */
void
client_wait_exit(pid_t pid)
{
	struct pollfd pfd;
	int n;

	if (pid <= 0)
		return;
	if ((pfd.fd = syscall(SYS_pidfd_open, pid, 0)) != -1) {
		pfd.events = POLLIN;
		do
			n = poll(&pfd, 1, -1);
		while (n == -1 && errno == EINTR);
		close(pfd.fd);
		return;
	}
	while (kill(pid, 0) == 0 || errno == EPERM)
		usleep(CLIENT_RETRY_MS * 1000);
}

void
client_close(struct client_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	free(c->socket);
	free(c);
}

int
client_request(struct client_conn *c, uint32_t type, const void *data,
    size_t len, char *err, size_t errlen)
{
	if (msg_send_sync(c->fd, type, 0, -1, data, len) == 0)
		return 0;
	if (errno == EPIPE || errno == ECONNRESET)
		snprintf(err, errlen, "the engine went away");
	else
		snprintf(err, errlen, "cannot send to the engine: %s",
		    strerror(errno));
	return -1;
}

int
client_recv(struct client_conn *c, struct msg *m, char *err, size_t errlen)
{
	int n;

	n = msg_recv_sync(c->fd, m);
	if (n == 1) {
		log_debug("%s: message type %u, %u bytes", __func__,
		    m->hdr.type, m->hdr.len);
		return 1;
	}
	if (n == 0 || errno == ECONNRESET)
		snprintf(err, errlen, "the engine went away");
	else if (errno == EBADMSG)
		snprintf(err, errlen, "malformed reply from the engine");
	else
		snprintf(err, errlen, "cannot read from the engine: %s",
		    strerror(errno));
	return n == 0 || errno == ECONNRESET ? 0 : -1;
}

int
client_pending(struct client_conn *c)
{
	struct msg_hdr hdr;
	ssize_t n;
	int queued;

	n = recv(c->fd, &hdr, sizeof hdr, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	if (n <= 0 || hdr.len > MSG_MAX_PAYLOAD)
		return 1;	/* the end, an error or a bad header: read it */
	if ((size_t)n < sizeof hdr)
		return 0;
	if (ioctl(c->fd, FIONREAD, &queued) == -1)
		return 1;
	return (size_t)queued >= sizeof hdr + hdr.len;
}

int
client_reply(const struct msg *m, char *err, size_t errlen)
{
	const struct msg_handler *h;

	h = client_lookup(client_ok_replies, nitems(client_ok_replies), m,
	    err, errlen);
	if (h == NULL)
		return -1;
	if (h->type == MSG_OK)
		return 0;
	client_error_text(m, err, errlen);
	return 1;
}

int
client_expect_ok(struct client_conn *c, char *err, size_t errlen)
{
	struct msg m;
	int rv;

	if (client_recv(c, &m, err, errlen) != 1)
		return -1;
	rv = client_reply(&m, err, errlen);
	msg_clear(&m);
	return rv == 0 ? 0 : -1;
}

void
client_error_text(const struct msg *m, char *err, size_t errlen)
{
	struct proto_error pe;

	if (m->hdr.type != MSG_ERROR || m->hdr.len != sizeof pe) {
		client_malformed(m, err, errlen);
		return;
	}
	memcpy(&pe, m->data, sizeof pe);
	pe.text[sizeof pe.text - 1] = '\0';
	if (pe.text[0] != '\0')
		snprintf(err, errlen, "%s", pe.text);
	else if (pe.code != 0)
		snprintf(err, errlen, "the engine refused the request: %s",
		    strerror(pe.code));
	else
		snprintf(err, errlen, "the engine refused the request");
}

void
client_malformed(const struct msg *m, char *err, size_t errlen)
{
	log_debug("%s: unexpected message type %u, %u bytes", __func__,
	    m->hdr.type, m->hdr.len);
	snprintf(err, errlen, "malformed reply from the engine: message type "
	    "%u of %u bytes", m->hdr.type, m->hdr.len);
}

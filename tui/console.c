/*
 * The console: the terminal in raw mode, proxied to the VM's pty slave
 * (the tty path in its info). It first replays the end of the output the
 * engine captured, so nothing printed while nobody watched is lost, then
 * goes live. A status line at the bottom (a scroll region above it) names
 * the VM and the detach keys: ~. after a newline, as cu(1), or Ctrl-], as
 * virsh. Attach is exclusive: TIOCEXCL keeps other users' opens out, and
 * a lock file by the engine's socket, holding the attacher's pid, keeps
 * out other vmtops; -f signals that pid (SIGUSR1) to let go. The terminal
 * is restored on every way out: detach, VM stopped, engine lost, takeover
 * and SIGTERM, SIGHUP, SIGINT or SIGQUIT.
 */
#include <sys/file.h>
#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "console.h"
#include "msg.h"
#include "xmalloc.h"

/* Why the proxy ended. */
enum console_end {
	CONSOLE_DETACHED,
	CONSOLE_HUNGUP,		/* the pty hung up: the VM stopped */
	CONSOLE_LOST,		/* the engine went away */
	CONSOLE_SIGNAL,
	CONSOLE_TAKEN,		/* another attach took over */
	CONSOLE_ERROR
};

struct console {
	struct cmd_ctx	*ctx;
	char		 name[VM_NAME_SIZE];
	char		 tty[32];
	int		 fd;		/* the pty slave */
	int		 lockfd;
	int		 locked;
	struct termios	 saved;
	int		 raw;
	int		 rows;
	int		 cols;
	int		 status;	/* a status line is drawn */
	int		 esc;		/* 0, 1 after a newline, 2 after ~ */
	pid_t		 took_from;
};

static volatile sig_atomic_t	console_sig;
static volatile sig_atomic_t	console_winch;
static volatile sig_atomic_t	console_taker;

static void
console_handler(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	if (sig == SIGWINCH) {
		console_winch = 1;
		return;
	}
	if (sig == SIGUSR1)
		console_taker = si != NULL ? si->si_pid : 0;
	console_sig = sig;
}

/* Write all of buf to fd, waiting when a non-blocking fd is full. */
static int
console_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 1000) == -1 && errno != EINTR)
				return -1;
			continue;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static void
console_puts(const char *s)
{
	console_write(STDOUT_FILENO, s, strlen(s));
}

/* Draw the status line on the last row, keeping the cursor. */
static void
console_status(struct console *c, const char *text)
{
	char buf[512], line[256];
	const char *tty = c->tty;

	if (!c->status)
		return;
	if (strncmp(tty, "/dev/", 5) == 0)
		tty += 5;
	if (text == NULL) {
		snprintf(line, sizeof line, " vmtop: console of %s (%s) | "
		    "detach: ~. or Ctrl-] | ~? help ", c->name, tty);
		text = line;
	}
	snprintf(buf, sizeof buf, "\0337\033[%d;1H\033[7m%.*s\033[0m\033[K"
	    "\0338", c->rows, c->cols, text);
	console_puts(buf);
}

/* Size the scroll region to leave the status line alone. */
static void
console_size(struct console *c)
{
	struct winsize ws;
	char buf[32];

	c->rows = 24;
	c->cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
		c->rows = ws.ws_row;
		c->cols = ws.ws_col;
	}
	c->status = c->rows >= 3;
	if (!c->status)
		return;
	snprintf(buf, sizeof buf, "\0337\033[1;%dr\0338", c->rows - 1);
	console_puts(buf);
	ws.ws_row = c->rows - 1;
	ws.ws_col = c->cols;
	ioctl(c->fd, TIOCSWINSZ, &ws);
	console_status(c, NULL);
}

/*
 * Take the lock file for name by the engine's socket, signalling its
 * holder to let go with force. Returns 0 (also when there can be no lock
 * file), or -1 with the error set.
 */
static int
console_lock(struct console *c, int force)
{
	const char *sock = c->ctx->conn->socket;
	char *path, *slash, buf[32];
	struct timespec ts = { 0, 20 * 1000000 };
	long pid = 0;
	ssize_t n;
	int waited = 0;

	slash = strrchr(sock, '/');
	xasprintf(&path, "%.*s/%s.console", slash != NULL ?
	    (int)(slash - sock) : 1, slash != NULL ? sock : ".", c->name);
	c->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	free(path);
	if (c->lockfd == -1)
		return 0;
	while (flock(c->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			cmd_error(c->ctx, "cannot lock the console of %s: %s",
			    c->name, strerror(errno));
			return -1;
		}
		if (pid == 0) {
			n = pread(c->lockfd, buf, sizeof buf - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			pid = strtol(buf, NULL, 10);
			if (!force) {
				cmd_error(c->ctx, "the console of %s is "
				    "attached by pid %ld (console -f takes it "
				    "over)", c->name, pid);
				return -1;
			}
			if (pid > 0 && kill(pid, SIGUSR1) == -1 &&
			    errno != ESRCH)
				pid = -1;
			c->took_from = pid > 0 ? pid : 0;
		}
		if (waited >= CONSOLE_TAKEOVER_MS) {
			cmd_error(c->ctx, "the console of %s is still attached "
			    "by pid %ld after %d seconds", c->name, pid,
			    CONSOLE_TAKEOVER_MS / 1000);
			return -1;
		}
		nanosleep(&ts, NULL);
		waited += 20;
	}
	c->locked = 1;
	snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(c->lockfd, 0) == 0 &&
	    pwrite(c->lockfd, buf, strlen(buf), 0) == -1)
		errno = 0;
	return 0;
}

/* Open the pty slave exclusively, raw, without what waited in it. */
static int
console_open(struct console *c)
{
	struct termios t;
	int i;

	/* A takeover: the other attacher may still be closing it. */
	for (i = 0; i < 100; i++) {
		c->fd = open(c->tty, O_RDWR | O_NOCTTY | O_NONBLOCK |
		    O_CLOEXEC);
		if (c->fd != -1 || errno != EBUSY || c->took_from == 0)
			break;
		usleep(20000);
	}
	if (c->fd == -1) {
		if (errno == EBUSY)
			cmd_error(c->ctx, "the console of %s (%s) is in use by "
			    "another program", c->name, c->tty);
		else
			cmd_error(c->ctx, "cannot open the console of %s (%s): "
			    "%s", c->name, c->tty, strerror(errno));
		return -1;
	}
	ioctl(c->fd, TIOCEXCL);
	if (tcgetattr(c->fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(c->fd, TCSANOW, &t);
	}
	tcflush(c->fd, TCIFLUSH);
	return 0;
}

/* Replay the last lines of the captured output (-1: none, 0: a screen). */
static int
console_replay(struct console *c, int lines)
{
	struct proto_name pn;
	struct msg m;
	char *buf = NULL;
	size_t len = 0, start;

	if (cmd_fill_name(c->ctx, c->name, &pn) == -1 ||
	    cmd_send(c->ctx, MSG_CMD_CAPTURE, &pn, sizeof pn) == -1)
		return -1;
	for (;;) {
		if (cmd_recv(c->ctx, &m) == -1) {
			free(buf);
			return -1;
		}
		if (m.hdr.type == MSG_END && m.hdr.len == 0)
			break;
		if (m.hdr.type != MSG_CAPTURE_DATA) {
			free(buf);
			cmd_bad_reply(c->ctx, &m);
			return -1;
		}
		buf = xreallocarray(buf, len + m.hdr.len + 1, 1);
		memcpy(buf + len, m.data, m.hdr.len);
		len += m.hdr.len;
		msg_clear(&m);
	}
	msg_clear(&m);
	if (lines == 0)
		lines = c->status ? c->rows - 1 : c->rows;
	/* Back from the end over lines newlines, the last one aside. */
	start = len;
	if (start > 0 && buf[start - 1] == '\n')
		start--;
	while (lines > 0 && start > 0) {
		if (buf[start - 1] == '\n' && --lines == 0)
			break;
		start--;
	}
	console_puts("\033[H\033[2J");
	if (c->status)
		console_status(c, NULL);
	if (len > start)
		console_write(STDOUT_FILENO, buf + start, len - start);
	free(buf);
	return 0;
}

/* Raw mode, but with output processing so that a bare \n is a newline. */
static int
console_raw(struct console *c)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &c->saved) == -1) {
		cmd_error(c->ctx, "the console needs a terminal: %s",
		    strerror(errno));
		return -1;
	}
	t = c->saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == -1) {
		cmd_error(c->ctx, "cannot set the terminal's modes: %s",
		    strerror(errno));
		return -1;
	}
	c->raw = 1;
	return 0;
}

static void
console_restore(struct console *c)
{
	char buf[64];

	if (!c->raw)
		return;
	if (c->status) {
		snprintf(buf, sizeof buf, "\033[r\033[%d;1H\033[K", c->rows);
		console_puts(buf);
	}
	tcsetattr(STDIN_FILENO, TCSADRAIN, &c->saved);
	c->raw = 0;
}

static void
console_help(struct console *c)
{
	console_puts("\r\n[vmtop escapes, after a newline: ~. detach, "
	    "~? this help, ~~ send ~; Ctrl-] detaches anywhere]\r\n");
	console_status(c, NULL);
}

/* Send typed bytes to the guest, minding the escapes; 1 means detach. */
static int
console_input(struct console *c, const unsigned char *buf, size_t n)
{
	unsigned char out[4096 + 2];
	size_t i, o = 0;
	int detach = 0;

	for (i = 0; i < n && !detach; i++) {
		if (o + 2 > sizeof out) {
			if (console_write(c->fd, out, o) == -1)
				return -1;
			o = 0;
		}
		if (buf[i] == CONSOLE_DETACH_KEY) {
			detach = 1;
			break;
		}
		if (c->esc == 2) {
			c->esc = 0;
			if (buf[i] == '.') {
				detach = 1;
				break;
			}
			if (buf[i] == '?') {
				console_help(c);
				c->esc = 1;
				continue;
			}
			if (buf[i] != '~')
				out[o++] = '~';
		} else if (c->esc == 1 && buf[i] == '~') {
			c->esc = 2;
			continue;
		}
		out[o++] = buf[i];
		c->esc = buf[i] == '\r' || buf[i] == '\n';
	}
	if (o > 0 && console_write(c->fd, out, o) == -1)
		return -1;
	return detach;
}

/*
 * Whether the engine has hung up, waiting a moment: when it dies, the pty
 * hangs up first, as its runner goes with it.
 */
static int
console_engine_gone(struct console *c)
{
	struct pollfd pfd;
	struct msg m;
	char err[CMD_ERROR_SIZE];

	pfd.fd = c->ctx->conn->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 300) != 1)
		return 0;
	if (client_recv(c->ctx->conn, &m, err, sizeof err) != 1)
		return 1;
	msg_clear(&m);
	return 0;
}

/* Proxy until something ends it; returns enum console_end. */
static int
console_loop(struct console *c, const sigset_t *mask)
{
	static unsigned char buf[65536];
	struct pollfd pfd[3];
	struct msg m;
	char err[CMD_ERROR_SIZE];
	ssize_t n;
	int rv;

	c->esc = 1;
	for (;;) {
		if (console_sig != 0)
			return console_sig == SIGUSR1 ? CONSOLE_TAKEN :
			    CONSOLE_SIGNAL;
		if (console_winch) {
			console_winch = 0;
			console_size(c);
		}
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = c->ctx->conn->fd;
		pfd[2].events = POLLIN;
		if (ppoll(pfd, 3, NULL, mask) == -1) {
			if (errno == EINTR)
				continue;
			return CONSOLE_ERROR;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(c->fd, buf, sizeof buf);
			if (n > 0) {
				if (console_write(STDOUT_FILENO, buf, n) == -1)
					return CONSOLE_SIGNAL;
			} else if (n == 0 || (errno != EAGAIN &&
			    errno != EINTR))
				return console_engine_gone(c) ? CONSOLE_LOST :
				    CONSOLE_HUNGUP;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, buf, sizeof buf);
			if (n == 0 || (n == -1 && errno != EAGAIN &&
			    errno != EINTR))
				return CONSOLE_SIGNAL;
			if (n > 0 && (rv = console_input(c, buf, n)) != 0)
				return rv == 1 ? CONSOLE_DETACHED :
				    CONSOLE_HUNGUP;
		}
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (client_recv(c->ctx->conn, &m, err, sizeof err) !=
			    1)
				return CONSOLE_LOST;
			msg_clear(&m);
		}
	}
}

int
console_attach(struct cmd_ctx *ctx, const char *name, int replay, int force,
    char *note, size_t notelen)
{
	static const int sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT,
	    SIGUSR1, SIGWINCH };
	struct sigaction sa, old[6];
	struct proto_vm_info vi;
	struct console c;
	sigset_t block, saved;
	char msg[256];
	size_t i;
	int end = CONSOLE_ERROR, rv = -1;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		cmd_error(ctx, "console %s: the console needs a terminal",
		    name);
		return -1;
	}
	if (cmd_list_one(ctx, name, &vi) == -1)
		return -1;
	if (vi.tty[0] == '\0' || vi.state == VM_STOPPED ||
	    vi.state == VM_FAILED) {
		cmd_error(ctx, "vm %s is %s: it has no console", vi.name,
		    proto_state_name(vi.state));
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.ctx = ctx;
	c.fd = c.lockfd = -1;
	memcpy(c.name, vi.name, sizeof c.name);
	memcpy(c.tty, vi.tty, sizeof c.tty);

	console_sig = console_winch = console_taker = 0;
	sigemptyset(&block);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = console_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sigaddset(&block, sigs[i]);
		sigaction(sigs[i], &sa, &old[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &saved);

	if (console_lock(&c, force) == -1 || console_open(&c) == -1 ||
	    console_raw(&c) == -1)
		goto out;
	console_size(&c);
	if (replay != -1 && console_replay(&c, replay) == -1)
		goto out;
	if (c.took_from > 0) {
		snprintf(msg, sizeof msg, " vmtop: took the console of %s over "
		    "from pid %ld | detach: ~. or Ctrl-] ", c.name,
		    (long)c.took_from);
		console_status(&c, msg);
	}
	end = console_loop(&c, &saved);
	console_restore(&c);
	rv = 0;
	switch (end) {
	case CONSOLE_DETACHED:
		snprintf(note, notelen, "detached from the console of %s",
		    c.name);
		break;
	case CONSOLE_HUNGUP:
		snprintf(note, notelen, "the console of %s hung up: the VM "
		    "stopped", c.name);
		break;
	case CONSOLE_TAKEN:
		snprintf(note, notelen, "the console of %s was taken over by "
		    "pid %ld", c.name, (long)console_taker);
		break;
	case CONSOLE_LOST:
		rv = -1;
		cmd_error(ctx, "lost the engine: detached from the console of "
		    "%s", c.name);
		client_close(ctx->conn);
		ctx->conn = NULL;
		break;
	case CONSOLE_SIGNAL:
		rv = -1;
		cmd_error(ctx, "detached from the console of %s: %s", c.name,
		    console_sig != 0 ? strsignal(console_sig) :
		    "the terminal went away");
		break;
	default:
		rv = -1;
		cmd_error(ctx, "console of %s: %s", c.name, strerror(errno));
		break;
	}
out:
	console_restore(&c);
	if (c.fd != -1) {
		ioctl(c.fd, TIOCNXCL);
		close(c.fd);
	}
	if (c.lockfd != -1) {
		if (c.locked && ftruncate(c.lockfd, 0) == -1)
			errno = 0;
		close(c.lockfd);
	}
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &old[i], NULL);
	/* A signal to end vmtop goes on to what handled it before. */
	if (end == CONSOLE_SIGNAL && console_sig != 0) {
		fprintf(stderr, "vmtop: %s\n", ctx->error);
		raise(console_sig);
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return rv;
}

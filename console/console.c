/*
 * Attaching: the terminal in raw mode, proxied to the VM's pty slave. It
 * first replays the end of the output the engine captured, so nothing
 * printed while nobody watched is lost, then goes live. A status line at
 * the bottom (a scroll region above it) names the VM and the detach keys.
 * Attach is exclusive: TIOCEXCL keeps other users' opens out, and the
 * engine holds the console for one client at a time (MSG_CMD_CONSOLE); a
 * takeover is the engine telling the holder (MSG_CONSOLE_TAKEN), never a
 * signal to a pid read from a file. An engine that goes away (restarted,
 * killed) leaves the VM running with its pty: the attach goes on, and
 * holds the console again from the next engine when it can reach one.
 * The terminal is
 * restored on every way out: detach, VM stopped, engine lost, takeover and
 * SIGTERM, SIGHUP, SIGINT or SIGQUIT.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "msg.h"
#include "proto.h"

struct console {
	const struct console_opts *opts;
	struct console_term	 term;
	struct console_escape	 esc;
	int			 fd;		/* the pty slave */
	int			 engine;	/* the engine socket, or -1 */
	int			 away;		/* the engine went away: engine is
						   -1 until reconnect gives one */
	int			 held;		/* the engine holds it for us */
	uint64_t		 retry_at;	/* when away: the next try, in
						   CLOCK_MONOTONIC ms */
	pid_t			 took_from;
	pid_t			 taken_by;
	char			*msg;
	size_t			 msglen;
};

static volatile sig_atomic_t	console_sig;

static uint64_t
console_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
static volatile sig_atomic_t	console_winch;

static void
console_handler(int sig, siginfo_t *si, void *uctx)
{
	(void)si;
	(void)uctx;
	if (sig == SIGWINCH) {
		console_winch = 1;
		return;
	}
	console_sig = sig;
}

/* Put the sentence for how it ended (or failed) in msg; returns end. */
static enum console_end
console_say(struct console *c, enum console_end end, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum console_end
console_say(struct console *c, enum console_end end, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, c->msglen, fmt, ap);
	va_end(ap);
	return end;
}

/* The status line naming the VM, its tty and the keys. */
static void
console_status(struct console *c)
{
	const char *tty = c->opts->tty;
	char line[256];

	if (strncmp(tty, "/dev/", 5) == 0)
		tty += 5;
	snprintf(line, sizeof line, " vmtop: console of %s (%s) | "
	    "detach: ~. or Ctrl-] | ~? help ", c->opts->name, tty);
	console_term_status(&c->term, line);
}

static void
console_size(struct console *c)
{
	console_term_size(&c->term, c->fd);
	console_status(c);
}

static const struct msg_handler console_msgs[] = {
	{ MSG_OK, "ok", 0, 0, NULL },
	{ MSG_ERROR, "error", sizeof(struct proto_error), 0, NULL },
	{ MSG_CONSOLE_HELD, "console held", sizeof(struct proto_console_held),
	    0, NULL },
	{ MSG_CONSOLE_TAKEN, "console taken",
	    sizeof(struct proto_console_taken), 0, NULL },
};

/*
 * The next of the engine's messages that the console knows, checked for
 * size, into m (others are dropped). Returns 1, or 0 with msg set when
 * the engine hung up or broke the protocol.
 */
static int
console_engine_next(struct console *c, struct msg *m)
{
	char why[128];

	for (;;) {
		if (msg_recv_sync(c->engine, m) != 1) {
			console_say(c, CONSOLE_LOST, "lost the engine: "
			    "detached from the console of %s", c->opts->name);
			return 0;
		}
		if (m->hdr.type != MSG_OK && m->hdr.type != MSG_ERROR &&
		    m->hdr.type != MSG_CONSOLE_HELD &&
		    m->hdr.type != MSG_CONSOLE_TAKEN) {
			msg_clear(m);
			continue;
		}
		if (msg_lookup(console_msgs, sizeof console_msgs /
		    sizeof console_msgs[0], m, why, sizeof why) == NULL) {
			console_say(c, CONSOLE_LOST, "malformed message from "
			    "the engine about the console of %s: %s",
			    c->opts->name, why);
			msg_clear(m);
			return 0;
		}
		return 1;
	}
}

/*
 * Ask the engine to hold the VM's console for us, taking it from its
 * holder with force. Return values: 0 (also with no engine to ask); -1
 * with the engine's refusal in msg (its errno value in *code, if not
 * NULL); -2 with msg set when the engine could not be asked.
 */
static int
console_take(struct console *c, int force, int *code)
{
	struct proto_console pc;
	struct proto_console_held held;
	struct proto_error pe;
	struct msg m;

	if (c->engine == -1)
		return 0;
	memset(&pc, 0, sizeof pc);
	snprintf(pc.name, sizeof pc.name, "%s", c->opts->name);
	pc.flags = force ? CONSOLE_FORCE : 0;
	if (msg_send_sync(c->engine, MSG_CMD_CONSOLE, 0, -1, &pc,
	    sizeof pc) == -1) {
		console_say(c, CONSOLE_ERROR, "cannot ask the engine for the "
		    "console of %s: %s", c->opts->name, strerror(errno));
		return -2;
	}
	for (;;) {
		if (console_engine_next(c, &m) == 0)
			return -2;
		switch (m.hdr.type) {
		case MSG_CONSOLE_HELD:
			memcpy(&held, m.data, sizeof held);
			c->took_from = held.took_from;
			c->held = 1;
			msg_clear(&m);
			return 0;
		case MSG_ERROR:
			memcpy(&pe, m.data, sizeof pe);
			pe.text[sizeof pe.text - 1] = '\0';
			console_say(c, CONSOLE_ERROR, "%s", pe.text);
			if (code != NULL)
				*code = pe.code;
			msg_clear(&m);
			return -1;
		}
		msg_clear(&m);
	}
}

/* Tell the engine we let go of the console; its answer is read. */
static void
console_release(struct console *c)
{
	struct proto_console pc;
	struct msg m;

	if (!c->held)
		return;
	c->held = 0;
	memset(&pc, 0, sizeof pc);
	snprintf(pc.name, sizeof pc.name, "%s", c->opts->name);
	pc.flags = CONSOLE_RELEASE;
	if (msg_send_sync(c->engine, MSG_CMD_CONSOLE, 0, -1, &pc,
	    sizeof pc) == -1)
		return;
	/* A takeover that crossed our release comes first: skipped. */
	while (console_engine_next(c, &m) == 1) {
		if (m.hdr.type == MSG_OK || m.hdr.type == MSG_ERROR) {
			msg_clear(&m);
			return;
		}
		msg_clear(&m);
	}
}

/* Open the pty slave exclusively, raw, without what waited in it. */
static int
console_open(struct console *c)
{
	const char *tty = c->opts->tty, *name = c->opts->name;
	struct termios t;
	int i;

	/* A takeover: the other attacher may still be closing it. */
	for (i = 0; i < 100; i++) {
		c->fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (c->fd != -1 || errno != EBUSY || c->took_from == 0)
			break;
		usleep(20000);
	}
	if (c->fd == -1) {
		if (errno == EBUSY)
			console_say(c, CONSOLE_ERROR, "the console of %s (%s) "
			    "is in use by another program", name, tty);
		else
			console_say(c, CONSOLE_ERROR, "cannot open the console "
			    "of %s (%s): %s", name, tty, strerror(errno));
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

static void
console_help(struct console *c)
{
	console_term_puts(&c->term, "\r\n[vmtop escapes, after a newline: "
	    "~. detach, ~? this help, ~~ send ~; Ctrl-] detaches "
	    "anywhere]\r\n");
	console_status(c);
}

/* Send typed bytes to the guest, minding the escapes; 1 means detach. */
static int
console_input(struct console *c, const unsigned char *buf, size_t n)
{
	unsigned char out[2 * 4096];
	size_t chunk, o;
	int found;

	while (n > 0) {
		chunk = n < 4096 ? n : 4096;
		found = console_escape_input(&c->esc, buf, chunk, out, &o);
		if (o > 0 && console_term_write(c->fd, out, o) == -1)
			return -1;
		if (found & CONSOLE_ESCAPE_HELP)
			console_help(c);
		if (found & CONSOLE_ESCAPE_DETACH)
			return 1;
		buf += chunk;
		n -= chunk;
	}
	return 0;
}

/*
 * Read what the engine sent: 1 dropped, 2 our console was taken over (by
 * c->taken_by), 0 the engine hung up or failed.
 */
static int
console_engine_read(struct console *c)
{
	struct proto_console_taken t;
	struct msg m;
	char why[128];
	int rv = 1;

	if (msg_recv_sync(c->engine, &m) != 1)
		return 0;
	if (m.hdr.type == MSG_CONSOLE_TAKEN) {
		if (msg_lookup(console_msgs, sizeof console_msgs /
		    sizeof console_msgs[0], &m, why, sizeof why) == NULL)
			rv = 0;
		else {
			memcpy(&t, m.data, sizeof t);
			c->taken_by = t.by;
			c->held = 0;
			rv = 2;
		}
	}
	msg_clear(&m);
	return rv;
}

/*
 * Whether the engine has hung up, waiting a moment: when it dies, the pty
 * hangs up first, as its runner goes with it.
 */
static int
console_engine_gone(struct console *c)
{
	struct pollfd pfd;

	if (c->engine == -1 || c->away)
		return 0;
	pfd.fd = c->engine;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 300) != 1)
		return 0;
	return console_engine_read(c) == 0;
}

/*
 * The engine went away: go on with the pty (its runner keeps it) and try
 * to reach the next engine every CONSOLE_RETRY_MS. Without a way to
 * reconnect the attach ends. Returns 0, or CONSOLE_LOST.
 */
static int
console_lost(struct console *c)
{
	char line[256];

	if (c->opts->reconnect == NULL)
		return CONSOLE_LOST;
	c->away = 1;
	c->held = 0;
	c->engine = -1;
	c->retry_at = console_now_ms() + CONSOLE_RETRY_MS;
	c->opts->lost(c->opts->arg);
	snprintf(line, sizeof line, " vmtop: the engine went away; the "
	    "console of %s goes on | detach: ~. or Ctrl-] ", c->opts->name);
	console_term_status(&c->term, line);
	return 0;
}

/*
 * Reach the next engine and hold the console again, without force: one
 * that another client took meanwhile ends the attach. Return values: 0
 * (held again, or to be tried later), or CONSOLE_TAKEN or CONSOLE_ERROR
 * with msg set.
 */
static int
console_reclaim(struct console *c)
{
	char why[256];
	int code = 0, rv;

	if ((c->engine = c->opts->reconnect(c->opts->arg)) == -1)
		return 0;
	if ((rv = console_take(c, 0, &code)) == -2) {
		c->engine = -1;
		c->opts->lost(c->opts->arg);
		return 0;
	}
	if (rv == -1) {
		snprintf(why, sizeof why, "%s", c->msg);
		if (code == EBUSY)
			return console_say(c, CONSOLE_TAKEN, "the console of %s "
			    "was taken over while the engine was away: %s",
			    c->opts->name, why);
		return console_say(c, CONSOLE_ERROR, "the next engine does not "
		    "give back the console of %s: %s", c->opts->name, why);
	}
	c->away = 0;
	console_status(c);
	return 0;
}

/* Proxy until something ends it. */
static enum console_end
console_loop(struct console *c, const sigset_t *mask)
{
	static unsigned char buf[65536];
	struct timespec ts;
	struct pollfd pfd[3];
	uint64_t now;
	ssize_t n;
	int rv;

	console_escape_init(&c->esc);
	for (;;) {
		if (console_sig != 0)
			return CONSOLE_SIGNAL;
		if (console_winch) {
			console_winch = 0;
			console_size(c);
		}
		pfd[0].fd = c->term.in;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = c->engine;
		pfd[2].events = POLLIN;
		pfd[2].revents = 0;
		if (c->away) {
			now = console_now_ms();
			if (now >= c->retry_at) {
				/* on a schedule, however busy the guest */
				c->retry_at = now + CONSOLE_RETRY_MS;
				if ((rv = console_reclaim(c)) != 0)
					return rv;
				continue;
			}
			ts.tv_sec = (c->retry_at - now) / 1000;
			ts.tv_nsec = (long)((c->retry_at - now) % 1000) *
			    1000000L;
		}
		if ((n = ppoll(pfd, 3, c->away ? &ts : NULL, mask)) == -1) {
			if (errno == EINTR)
				continue;
			return CONSOLE_ERROR;
		}
		if (n == 0)
			continue;
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(c->fd, buf, sizeof buf);
			if (n > 0) {
				if (console_term_write(c->term.out, buf, n) ==
				    -1)
					return CONSOLE_SIGNAL;
			} else if (n == 0 || (errno != EAGAIN &&
			    errno != EINTR))
				return console_engine_gone(c) ? CONSOLE_LOST :
				    CONSOLE_HUNGUP;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(c->term.in, buf, sizeof buf);
			if (n == 0 || (n == -1 && errno != EAGAIN &&
			    errno != EINTR))
				return CONSOLE_SIGNAL;
			if (n > 0 && (rv = console_input(c, buf, n)) != 0)
				return rv == 1 ? CONSOLE_DETACHED :
				    CONSOLE_HUNGUP;
		}
		if (!c->away && c->engine != -1 &&
		    (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((rv = console_engine_read(c)) == 0 &&
			    (rv = console_lost(c)) != 0)
				return rv;
			if (rv == 2)
				return CONSOLE_TAKEN;
		}
	}
}

/* Attach once the signals are ours: lock, open, raw, replay, proxy. */
static enum console_end
console_run(struct console *c, const sigset_t *mask)
{
	const char *name = c->opts->name;
	char line[256];
	enum console_end end;
	int rv;

	if (console_take(c, c->opts->force, NULL) != 0 || console_open(c) == -1)
		return CONSOLE_ERROR;
	if (console_term_raw(&c->term) == -1)
		return console_say(c, CONSOLE_ERROR, "cannot set the "
		    "terminal's modes: %s", strerror(errno));
	console_size(c);
	if (c->opts->replay != -1 && c->engine != -1) {
		rv = console_replay(&c->term, c->engine, name,
		    c->opts->replay, c->msg, c->msglen);
		if (rv != 0)
			return rv == -1 ? CONSOLE_ERROR : CONSOLE_LOST;
		console_status(c);
	}
	if (c->took_from > 0) {
		snprintf(line, sizeof line, " vmtop: took the console of %s "
		    "over from pid %ld | detach: ~. or Ctrl-] ", name,
		    (long)c->took_from);
		console_term_status(&c->term, line);
	}
	end = console_loop(c, mask);
	console_term_restore(&c->term);
	switch (end) {
	case CONSOLE_DETACHED:
		return console_say(c, end, "detached from the console of %s",
		    name);
	case CONSOLE_HUNGUP:
		return console_say(c, end, "the console of %s hung up: the "
		    "VM stopped", name);
	case CONSOLE_TAKEN:
		if (c->taken_by == 0)
			return end;	/* while the engine was away: said */
		return console_say(c, end, "the console of %s was taken over "
		    "by pid %ld", name, (long)c->taken_by);
	case CONSOLE_LOST:
		return console_say(c, end, "lost the engine: detached from "
		    "the console of %s", name);
	case CONSOLE_SIGNAL:
		return console_say(c, end, "detached from the console of %s: "
		    "%s", name, console_sig != 0 ? strsignal(console_sig) :
		    "the terminal went away");
	default:
		return console_say(c, CONSOLE_ERROR, "console of %s: %s", name,
		    strerror(errno));
	}
}

enum console_end
console_attach(const struct console_opts *opts, char *msg, size_t msglen)
{
	static const int sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT,
	    SIGWINCH };
	struct sigaction sa, old[5];
	struct console c;
	sigset_t block, saved;
	enum console_end end;
	size_t i;

	memset(&c, 0, sizeof c);
	c.opts = opts;
	c.fd = -1;
	c.engine = opts->engine;
	c.msg = msg;
	c.msglen = msglen;
	c.term.in = opts->in;
	c.term.out = opts->out;
	if (!isatty(opts->in) || !isatty(opts->out))
		return console_say(&c, CONSOLE_ERROR, "console %s: the "
		    "console needs a terminal", opts->name);

	console_sig = console_winch = 0;
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

	end = console_run(&c, &saved);

	console_term_restore(&c.term);
	if (c.fd != -1) {
		ioctl(c.fd, TIOCNXCL);
		close(c.fd);
	}
	if (end != CONSOLE_LOST)
		console_release(&c);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &old[i], NULL);
	/* A signal to end vmtop goes on to what handled it before. */
	if (end == CONSOLE_SIGNAL && console_sig != 0) {
		fprintf(stderr, "vmtop: %s\n", msg);
		raise(console_sig);
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return end;
}

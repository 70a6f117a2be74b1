/*
 * Unit tests for console/: the escape keys on their own, then whole
 * attaches with a pty pair for the terminal, another for the VM's serial
 * line (the test holds its master, as the runner does) and a socketpair
 * for the engine, which the test answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "msg.h"
#include "proto.h"

/* Generous: a bound for a hung test, not a measure of anything. */
#define WAIT_MS		20000

/* Feed s to e; returns what it found, with what goes to the guest. */
static int
feed(struct console_escape *e, const char *s, char *out)
{
	size_t n;
	int found;

	found = console_escape_input(e, s, strlen(s), out, &n);
	out[n] = '\0';
	return found;
}

static void
test_escape_after_newline(void **state)
{
	struct console_escape e;
	char out[64];

	(void)state;
	console_escape_init(&e);
	assert_int_equal(feed(&e, "~.", out), CONSOLE_ESCAPE_DETACH);
	assert_string_equal(out, "");

	console_escape_init(&e);
	assert_int_equal(feed(&e, "ls\r~.", out), CONSOLE_ESCAPE_DETACH);
	assert_string_equal(out, "ls\r");

	console_escape_init(&e);
	assert_int_equal(feed(&e, "ls\n~.rest", out), CONSOLE_ESCAPE_DETACH);
	assert_string_equal(out, "ls\n");

	/* Split over reads. */
	console_escape_init(&e);
	assert_int_equal(feed(&e, "x\r", out), 0);
	assert_int_equal(feed(&e, "~", out), 0);
	assert_string_equal(out, "");
	assert_int_equal(feed(&e, ".", out), CONSOLE_ESCAPE_DETACH);
}

static void
test_escape_mid_line(void **state)
{
	struct console_escape e;
	char out[64];

	(void)state;
	console_escape_init(&e);
	assert_int_equal(feed(&e, "a~.", out), 0);
	assert_string_equal(out, "a~.");
	assert_int_equal(feed(&e, "~.", out), 0);
	assert_string_equal(out, "~.");
}

static void
test_escape_tilde(void **state)
{
	struct console_escape e;
	char out[64];

	(void)state;
	console_escape_init(&e);
	assert_int_equal(feed(&e, "\r~~.", out), 0);
	assert_string_equal(out, "\r~.");
	assert_int_equal(feed(&e, "\r~x", out), 0);
	assert_string_equal(out, "\r~x");
	assert_int_equal(feed(&e, "\r~?", out), CONSOLE_ESCAPE_HELP);
	assert_string_equal(out, "\r");
	/* After the help, still at the start of a line. */
	assert_int_equal(feed(&e, "~.", out), CONSOLE_ESCAPE_DETACH);
}

static void
test_escape_ctrl_bracket(void **state)
{
	struct console_escape e;
	char out[64];

	(void)state;
	console_escape_init(&e);
	assert_int_equal(feed(&e, "abc\035def", out), CONSOLE_ESCAPE_DETACH);
	assert_string_equal(out, "abc");
	console_escape_init(&e);
	assert_int_equal(feed(&e, "\033[12", out), 0);
	assert_int_equal(feed(&e, "\035", out), CONSOLE_ESCAPE_DETACH);
}

/*
 * A shell that asks where the cursor is after each prompt (busybox ash:
 * ESC [ 6 n) gets the terminal's answer just after the Enter that ended
 * the line, in a read of its own or in pieces: ~. still detaches, and the
 * answer reaches the guest whole.
 */
static void
test_escape_terminal_reports(void **state)
{
	static const char *reports[] = {
		"\033[9;14R",			/* cursor position */
		"\033[?9;14R",			/* DECXCPR */
		"\033[0n",			/* status */
		"\033[?64;1;2c",		/* primary device attributes */
		"\033[>41;380;0c",		/* secondary */
		"\033]11;rgb:0000/0000/0000\033\\",	/* OSC, ST */
		"\033]10;rgb:ffff/ffff/ffff\007",	/* OSC, BEL */
		"\033P>|xterm(380)\033\\",		/* DCS */
		"\033[I",			/* focus in */
	};
	struct console_escape e;
	char out[128], one[2], got[128];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof reports / sizeof reports[0]; i++) {
		console_escape_init(&e);
		assert_int_equal(feed(&e, "ls\r", out), 0);
		assert_int_equal(feed(&e, reports[i], out), 0);
		assert_string_equal(out, reports[i]);
		assert_int_equal(feed(&e, "~.", out), CONSOLE_ESCAPE_DETACH);
		assert_string_equal(out, "");

		/* A byte at a time. */
		console_escape_init(&e);
		assert_int_equal(feed(&e, "ls\r", out), 0);
		got[0] = '\0';
		for (j = 0; reports[i][j] != '\0'; j++) {
			one[0] = reports[i][j];
			one[1] = '\0';
			assert_int_equal(feed(&e, one, out), 0);
			strcat(got, out);
		}
		assert_string_equal(got, reports[i]);
		assert_int_equal(feed(&e, "~", out), 0);
		assert_int_equal(feed(&e, ".", out), CONSOLE_ESCAPE_DETACH);

		/* In one read with the Enter and the escape. */
		console_escape_init(&e);
		snprintf(got, sizeof got, "ls\r%s~.", reports[i]);
		assert_int_equal(feed(&e, got, out), CONSOLE_ESCAPE_DETACH);
	}
}

/* Keys are typing: an arrow after the newline ends the line. */
static void
test_escape_keys_end_the_line(void **state)
{
	static const char *keys[] = { "\033[A", "\033OA", "\033[3~",
	    "\033[1;5C", "\033x", "\033" };
	struct console_escape e;
	char out[64], in[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		console_escape_init(&e);
		snprintf(in, sizeof in, "\r%s~.", keys[i]);
		assert_int_equal(feed(&e, in, out), 0);
		assert_true(strstr(out, ".") != NULL);
	}
	/* A ~ held back, then a sequence: the ~ was text. */
	console_escape_init(&e);
	assert_int_equal(feed(&e, "\r~\033[A", out), 0);
	assert_string_equal(out, "\r~\033[A");
}

/* One attach under test. */
struct rig {
	int			 tm;	/* the terminal: master, slave */
	int			 ts;
	int			 gm;	/* the VM's serial line: master */
	char			 tty[64];
	int			 engine[2];	/* the console's, the test's */
	char			 dir[64];
	char			 sock[96];
	struct termios		 before;
	struct console_opts	 opts;
	pthread_t		 thread;
	enum console_end	 end;
	char			 msg[256];
	int			 no_release;	/* the attach lets go untold */
	int			 next[2];	/* the next engine's socketpair */
	int			 next_ready;	/* reconnect may give next[0] */
	char			 screen[65536];	/* what the terminal got */
	size_t			 nscreen;
};

/* The attach under way, which a failed test ends in its teardown. */
static struct rig	*rig_live;
/* The next rig_open attaches with a way to reach the next engine. */
static int		 rig_reconnecting;

static void
rig_lost(void *arg)
{
	struct rig *r = arg;

	close(r->engine[0]);
	r->engine[0] = -1;
}

/* The next engine, once the test has made it ready. */
static int
rig_reconnect(void *arg)
{
	struct rig *r = arg;

	if (!__atomic_load_n(&r->next_ready, __ATOMIC_ACQUIRE))
		return -1;
	r->next_ready = 0;
	r->engine[0] = r->next[0];
	return r->engine[0];
}

static int
pty_open(char *name, size_t len)
{
	int fd;

	fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(fd != -1);
	assert_int_equal(grantpt(fd), 0);
	assert_int_equal(unlockpt(fd), 0);
	assert_int_equal(ptsname_r(fd, name, len), 0);
	return fd;
}

static void *
rig_thread(void *arg)
{
	struct rig *r = arg;

	r->end = console_attach(&r->opts, r->msg, sizeof r->msg);
	return NULL;
}

/* Read fd into buf until it holds want; fails the test at WAIT_MS. */
static void
rig_expect_into(int fd, char *buf, size_t *len, size_t size,
    const char *want)
{
	struct pollfd pfd;
	ssize_t n;

	for (;;) {
		buf[*len] = '\0';
		if (memmem(buf, *len, want, strlen(want)) != NULL)
			return;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, WAIT_MS) != 1)
			fail_msg("no \"%s\" within %d ms", want, WAIT_MS);
		n = read(fd, buf + *len, size - 1 - *len);
		if (n <= 0)
			fail_msg("no \"%s\": read %zd (%s)", want, n,
			    strerror(errno));
		*len += n;
	}
}

static void
rig_screen(struct rig *r, const char *want)
{
	rig_expect_into(r->tm, r->screen, &r->nscreen, sizeof r->screen,
	    want);
}

/* Type s on the terminal and wait until the guest has all of want. */
static void
rig_type(struct rig *r, const char *s, const char *want)
{
	char got[256];
	size_t len = 0;

	assert_int_equal(write(r->tm, s, strlen(s)), (ssize_t)strlen(s));
	if (want != NULL)
		rig_expect_into(r->gm, got, &len, sizeof got, want);
}

/* The console's next request: of type, len bytes into out, naming t1. */
static void
rig_request(struct rig *r, uint32_t type, void *out, size_t len)
{
	struct msg m;

	assert_int_equal(msg_recv_sync(r->engine[1], &m), 1);
	assert_int_equal(m.hdr.type, type);
	assert_int_equal(m.hdr.len, len);
	memcpy(out, m.data, len);
	msg_clear(&m);
	assert_string_equal((char *)out, "t1");
}

/* Answer the replay request with capture, as the engine does. */
static void
rig_serve_replay(struct rig *r, const char *capture)
{
	struct proto_name pn;

	rig_request(r, MSG_CMD_CAPTURE, &pn, sizeof pn);
	assert_int_equal(msg_send_sync(r->engine[1], MSG_CAPTURE_DATA, 0, -1,
	    capture, strlen(capture)), 0);
	assert_int_equal(msg_send_sync(r->engine[1], MSG_END, 0, -1, NULL, 0),
	    0);
}

/*
 * Answer the console's request about t1 with flags (0: hold it, or
 * CONSOLE_RELEASE), as the engine does: held, taken from nobody, or OK.
 */
static void
rig_serve_console(struct rig *r, uint32_t flags)
{
	struct proto_console pc;
	struct proto_console_held held = { 0 };

	rig_request(r, MSG_CMD_CONSOLE, &pc, sizeof pc);
	assert_int_equal(pc.flags, flags);
	if (flags & CONSOLE_RELEASE)
		assert_int_equal(msg_send_sync(r->engine[1], MSG_OK, 0, -1,
		    NULL, 0), 0);
	else
		assert_int_equal(msg_send_sync(r->engine[1], MSG_CONSOLE_HELD,
		    0, -1, &held, sizeof held), 0);
}

/* Start attaching to t1 (replay lines, or -1) in the rig's thread. */
static void
rig_open(struct rig *r, int replay)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char name[64];

	memset(r, 0, sizeof *r);
	r->tm = pty_open(name, sizeof name);
	r->ts = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(r->ts != -1);
	assert_int_equal(ioctl(r->ts, TIOCSWINSZ, &ws), 0);
	assert_int_equal(tcgetattr(r->ts, &r->before), 0);
	r->gm = pty_open(r->tty, sizeof r->tty);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    r->engine), 0);
	snprintf(r->dir, sizeof r->dir, "/tmp/vmtop-console.XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	snprintf(r->sock, sizeof r->sock, "%s/engine.sock", r->dir);

	r->opts.name = "t1";
	r->opts.tty = r->tty;
	r->opts.engine = r->engine[0];
	r->opts.replay = replay;
	r->opts.in = r->opts.out = r->ts;
	if (rig_reconnecting) {
		r->opts.lost = rig_lost;
		r->opts.reconnect = rig_reconnect;
		r->opts.arg = r;
		rig_reconnecting = 0;
	}
	assert_int_equal(pthread_create(&r->thread, NULL, rig_thread, r), 0);
	rig_live = r;
}

/* Attach to t1 (replay lines, or -1), up to its status line. */
static void
rig_start(struct rig *r, int replay, const char *capture)
{
	rig_open(r, replay);
	rig_serve_console(r, 0);
	if (replay != -1)
		rig_serve_replay(r, capture);
	rig_screen(r, " vmtop: console of t1 (");
}

/* Wait for the attach to end; the terminal must have its modes back. */
static enum console_end
rig_finish(struct rig *r)
{
	struct termios after;
	struct timespec ts;
	char lock[128];

	if (r->engine[1] != -1 && !r->no_release)
		rig_serve_console(r, CONSOLE_RELEASE);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	if (pthread_timedjoin_np(r->thread, NULL, &ts) != 0)
		fail_msg("the attach did not end within %d ms", WAIT_MS);
	rig_live = NULL;
	assert_int_equal(tcgetattr(r->ts, &after), 0);
	assert_int_equal(after.c_lflag, r->before.c_lflag);
	assert_int_equal(after.c_iflag, r->before.c_iflag);
	assert_int_equal(after.c_oflag, r->before.c_oflag);
	snprintf(lock, sizeof lock, "%s/t1.console", r->dir);
	unlink(lock);
	rmdir(r->dir);
	return r->end;
}

static void
rig_close(struct rig *r)
{
	close(r->tm);
	close(r->ts);
	if (r->gm != -1)
		close(r->gm);
	close(r->engine[0]);
	if (r->engine[1] != -1)
		close(r->engine[1]);
}

/* After a failed test: detach, and hang up the engine for a replay. */
static int
rig_teardown(void **state)
{
	struct rig *r = rig_live;

	(void)state;
	if (r == NULL)
		return 0;
	rig_live = NULL;
	if (write(r->tm, "\035", 1) == -1 || r->engine[1] == -1 ||
	    shutdown(r->engine[1], SHUT_RDWR) == -1)
		errno = 0;
	pthread_join(r->thread, NULL);
	return 0;
}

/* The nested host's shape: Enter, the terminal's report, then ~. */
static void
test_attach_detach_after_report(void **state)
{
	static struct rig r;	/* outlives a failed test */
	struct winsize ws;
	struct termios t;
	char name[80];

	(void)state;
	rig_start(&r, -1, NULL);
	/* Raw while attached; the status line keeps the last row. */
	assert_int_equal(tcgetattr(r.ts, &t), 0);
	assert_int_equal(t.c_lflag & (ICANON | ECHO), 0);
	assert_non_null(strstr(r.screen, "\033[1;23r"));
	assert_non_null(strstr(r.screen, "\033[24;1H\033[7m vmtop: console "
	    "of t1 ("));
	snprintf(name, sizeof name, "(%.64s)", r.tty + 5);
	assert_non_null(strstr(r.screen, name));
	assert_int_equal(ioctl(r.gm, TIOCGWINSZ, &ws), 0);
	assert_int_equal(ws.ws_row, 23);
	assert_int_equal(ws.ws_col, 80);

	rig_type(&r, "ls\r", "ls\r");
	rig_type(&r, "\033[9;14R", "\033[9;14R");
	rig_type(&r, "~.", NULL);
	assert_int_equal(rig_finish(&r), CONSOLE_DETACHED);
	assert_string_equal(r.msg, "detached from the console of t1");
	/* The scroll region is whole again and the status line cleared. */
	rig_screen(&r, "\033[r\033[24;1H\033[K");
	rig_close(&r);
}

static void
test_attach_tilde_tilde_and_ctrl_bracket(void **state)
{
	static struct rig r;	/* outlives a failed test */

	(void)state;
	rig_start(&r, -1, NULL);
	rig_type(&r, "~~\r", "~\r");
	rig_type(&r, "a~.\r", "a~.\r");
	rig_type(&r, "x\035", "x");
	assert_int_equal(rig_finish(&r), CONSOLE_DETACHED);
	rig_close(&r);
}

static void
test_attach_help(void **state)
{
	static struct rig r;	/* outlives a failed test */

	(void)state;
	rig_start(&r, -1, NULL);
	rig_type(&r, "~?", NULL);
	rig_screen(&r, "[vmtop escapes, after a newline: ~. detach");
	rig_type(&r, "~.", NULL);
	assert_int_equal(rig_finish(&r), CONSOLE_DETACHED);
	rig_close(&r);
}

/* The last lines of the capture, without the questions to the terminal. */
static void
test_attach_replay(void **state)
{
	static struct rig r;	/* outlives a failed test */

	(void)state;
	rig_start(&r, 2, "one\r\ntwo\r\n# \033[6nthree\r\n");
	rig_screen(&r, "three");
	assert_null(strstr(r.screen, "one"));
	assert_non_null(strstr(r.screen, "\033[H\033[2J"));
	assert_non_null(strstr(r.screen, "two"));
	assert_non_null(strstr(r.screen, "# three"));
	assert_null(strstr(r.screen, "\033[6n"));
	rig_type(&r, "\035", NULL);
	assert_int_equal(rig_finish(&r), CONSOLE_DETACHED);
	rig_close(&r);
}

static void
test_attach_replay_refused(void **state)
{
	static struct rig r;	/* outlives a failed test */
	struct proto_error pe;
	struct msg m;

	(void)state;
	rig_open(&r, 0);
	rig_serve_console(&r, 0);
	assert_int_equal(msg_recv_sync(r.engine[1], &m), 1);
	msg_clear(&m);
	memset(&pe, 0, sizeof pe);
	snprintf(pe.text, sizeof pe.text, "no console capture for t1");
	assert_int_equal(msg_send_sync(r.engine[1], MSG_ERROR, 0, -1, &pe,
	    sizeof pe), 0);
	assert_int_equal(rig_finish(&r), CONSOLE_ERROR);
	assert_string_equal(r.msg, "no console capture for t1");
	rig_close(&r);
}

/* The VM stopping hangs the pty up; the engine going away is told. */
static void
test_attach_hangup_and_lost(void **state)
{
	static struct rig r;	/* outlives a failed test */

	(void)state;
	rig_start(&r, -1, NULL);
	close(r.gm);
	r.gm = -1;
	assert_int_equal(rig_finish(&r), CONSOLE_HUNGUP);
	assert_string_equal(r.msg, "the console of t1 hung up: the VM "
	    "stopped");
	rig_close(&r);

	rig_start(&r, -1, NULL);
	close(r.engine[1]);
	r.engine[1] = -1;
	assert_int_equal(rig_finish(&r), CONSOLE_LOST);
	assert_string_equal(r.msg, "lost the engine: detached from the "
	    "console of t1");
	rig_close(&r);
}

/*
 * The engine goes away while attached with a way to reconnect: the pty
 * goes on, and the console is claimed again (without force) from the next
 * engine, which gives it or says another client took it meanwhile.
 */
static void
rig_engine_restart(struct rig *r)
{
	rig_reconnecting = 1;
	rig_start(r, -1, NULL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    r->next), 0);
	close(r->engine[1]);
	r->engine[1] = -1;
	rig_screen(r, " vmtop: the engine went away; the console of t1 goes "
	    "on");
	rig_type(r, "ls\r", "ls\r");
	r->nscreen = 0;
	r->engine[1] = r->next[1];
	__atomic_store_n(&r->next_ready, 1, __ATOMIC_RELEASE);
}

static void
test_attach_engine_restart(void **state)
{
	static struct rig r;	/* outlives a failed test */

	(void)state;
	rig_engine_restart(&r);
	rig_serve_console(&r, 0);
	rig_screen(&r, " vmtop: console of t1 (");
	rig_type(&r, "pwd\r", "pwd\r");
	/* The terminal was not cleared nor anything replayed. */
	assert_null(strstr(r.screen, "\033[2J"));
	rig_type(&r, "~.", NULL);
	assert_int_equal(rig_finish(&r), CONSOLE_DETACHED);
	rig_close(&r);
}

/* A guest that prints every 100 ms until chatter_stop is set. */
static volatile int	chatter_stop;

static void *
chatter(void *arg)
{
	struct rig *r = arg;
	struct timespec ts = { 0, 100 * 1000000L };

	while (!chatter_stop) {
		if (write(r->gm, "tick\r\n", 6) == -1)
			break;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * The next engine is reached on schedule even while the guest prints
 * more often than the retry interval (the pty never falls quiet).
 */
static void
test_attach_engine_restart_busy_guest(void **state)
{
	static struct rig r;	/* outlives a failed test */
	struct pollfd pfd;
	pthread_t t;
	int asked;

	(void)state;
	rig_engine_restart(&r);
	chatter_stop = 0;
	assert_int_equal(pthread_create(&t, NULL, chatter, &r), 0);
	pfd.fd = r.engine[1];
	pfd.events = POLLIN;
	asked = poll(&pfd, 1, WAIT_MS);
	if (asked == 1)
		rig_serve_console(&r, 0);
	chatter_stop = 1;
	pthread_join(t, NULL);
	assert_int_equal(asked, 1);
	rig_screen(&r, " vmtop: console of t1 (");
	rig_type(&r, "~.", NULL);
	assert_int_equal(rig_finish(&r), CONSOLE_DETACHED);
	rig_close(&r);
}

static void
test_attach_engine_restart_taken(void **state)
{
	static struct rig r;	/* outlives a failed test */
	struct proto_console pc;
	struct proto_error pe;

	(void)state;
	rig_engine_restart(&r);
	rig_request(&r, MSG_CMD_CONSOLE, &pc, sizeof pc);
	assert_int_equal(pc.flags, 0);
	memset(&pe, 0, sizeof pe);
	pe.code = EBUSY;
	snprintf(pe.text, sizeof pe.text, "the console of t1 is attached by "
	    "pid 4242 (console -f takes it over)");
	assert_int_equal(msg_send_sync(r.engine[1], MSG_ERROR, 0, -1, &pe,
	    sizeof pe), 0);
	r.no_release = 1;
	assert_int_equal(rig_finish(&r), CONSOLE_TAKEN);
	assert_string_equal(r.msg, "the console of t1 was taken over while the "
	    "engine was away: the console of t1 is attached by pid 4242 "
	    "(console -f takes it over)");
	rig_close(&r);
}

/* The engine tells the holder of a takeover: it lets go, saying by whom. */
static void
test_attach_taken_over(void **state)
{
	static struct rig r;	/* outlives a failed test */
	struct proto_console_taken t;

	(void)state;
	rig_start(&r, -1, NULL);
	memset(&t, 0, sizeof t);
	snprintf(t.name, sizeof t.name, "t1");
	t.by = 4242;
	r.no_release = 1;
	assert_int_equal(msg_send_sync(r.engine[1], MSG_CONSOLE_TAKEN, 0, -1,
	    &t, sizeof t), 0);
	assert_int_equal(rig_finish(&r), CONSOLE_TAKEN);
	assert_string_equal(r.msg, "the console of t1 was taken over by pid "
	    "4242");
	rig_close(&r);
}

/* A refusal from the engine (another client holds it) ends the attach. */
static void
test_attach_held_elsewhere(void **state)
{
	static struct rig r;	/* outlives a failed test */
	struct proto_error pe;
	struct msg m;

	(void)state;
	rig_open(&r, -1);
	assert_int_equal(msg_recv_sync(r.engine[1], &m), 1);
	assert_int_equal(m.hdr.type, MSG_CMD_CONSOLE);
	msg_clear(&m);
	memset(&pe, 0, sizeof pe);
	snprintf(pe.text, sizeof pe.text, "the console of t1 is attached by "
	    "pid 4242 (console -f takes it over)");
	assert_int_equal(msg_send_sync(r.engine[1], MSG_ERROR, 0, -1, &pe,
	    sizeof pe), 0);
	r.no_release = 1;
	assert_int_equal(rig_finish(&r), CONSOLE_ERROR);
	assert_string_equal(r.msg, pe.text);
	rig_close(&r);
}

static void
test_attach_needs_a_terminal(void **state)
{
	struct console_opts o;
	char msg[256];
	int fd[2];

	(void)state;
	assert_int_equal(pipe(fd), 0);
	memset(&o, 0, sizeof o);
	o.name = "t1";
	o.tty = "/dev/null";
	o.engine = -1;
	o.in = fd[0];
	o.out = fd[1];
	assert_int_equal(console_attach(&o, msg, sizeof msg), CONSOLE_ERROR);
	assert_string_equal(msg, "console t1: the console needs a terminal");
	close(fd[0]);
	close(fd[1]);
}

int
main(void)
{
#define attach_test(f)	cmocka_unit_test_teardown(f, rig_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_after_newline),
		cmocka_unit_test(test_escape_mid_line),
		cmocka_unit_test(test_escape_tilde),
		cmocka_unit_test(test_escape_ctrl_bracket),
		cmocka_unit_test(test_escape_terminal_reports),
		cmocka_unit_test(test_escape_keys_end_the_line),
		attach_test(test_attach_detach_after_report),
		attach_test(test_attach_tilde_tilde_and_ctrl_bracket),
		attach_test(test_attach_help),
		attach_test(test_attach_replay),
		attach_test(test_attach_replay_refused),
		attach_test(test_attach_hangup_and_lost),
		attach_test(test_attach_taken_over),
		attach_test(test_attach_engine_restart),
		attach_test(test_attach_engine_restart_busy_guest),
		attach_test(test_attach_engine_restart_taken),
		attach_test(test_attach_held_elsewhere),
		attach_test(test_attach_needs_a_terminal),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

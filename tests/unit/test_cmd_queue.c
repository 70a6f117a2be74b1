/*
 * Unit tests for commands that wait (CMD_RETURN_WAIT and tui/cmd-queue.c)
 * and for the client's checks of the engine's replies (tui/client.c). The
 * engine is the far end of a socketpair, or a fake engine on a socket in
 * a temporary folder that answers the hello as a test asks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "tui.h"
#include "msg.h"
#include "proto.h"
#include "xmalloc.h"

/* A path too long to connect to: a command that needs a new connection fails. */
#define UNREACHABLE_SOCKET \
	"/nonexistent/vmtop-test/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock"

/* What the queue's hooks saw: one line per command that ended. */
struct seen {
	char	 log[1024];
	int	 waiting;
};

static char **
hook_prepare(struct cmd_queue_item *item, int argc, char **argv, void *arg)
{
	char **words;
	int i;

	(void)item;
	(void)arg;
	words = xcalloc(argc + 1, sizeof *words);
	for (i = 0; i < argc; i++)
		words[i] = xstrdup(argv[i]);
	return words;
}

static void
hook_waiting(struct cmd_queue_item *item, void *arg)
{
	struct seen *seen = arg;

	(void)item;
	seen->waiting++;
}

static void
hook_done(struct cmd_queue_item *item, enum cmd_retval rv, void *arg)
{
	struct seen *seen = arg;
	size_t len = strlen(seen->log);

	snprintf(seen->log + len, sizeof seen->log - len, "%s %s: %s\n",
	    item->argv[0], rv == CMD_RETURN_NORMAL ? "ok" : "error",
	    rv == CMD_RETURN_NORMAL ? item->ctx.result : item->ctx.error);
}

static const struct cmd_queue_hooks hooks = {
	.prepare = hook_prepare,
	.waiting = hook_waiting,
	.done = hook_done
};

/* A queue whose owner's connection is one end of a socketpair. */
struct fixture {
	struct event_base	*base;
	struct cmd_ctx		 ctx;
	struct cmd_queue	*queue;
	struct seen		 seen;
	FILE			*out;
	int			 engine;	/* the engine's end */
};

static int
setup(void **state)
{
	struct fixture *f;
	int sp[2];

	f = xcalloc(1, sizeof *f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_non_null(f->base = event_base_new());
	assert_non_null(f->out = fopen("/dev/null", "w"));
	cmd_ctx_init(&f->ctx, f->out);
	f->ctx.socket = UNREACHABLE_SOCKET;
	f->ctx.conn = xcalloc(1, sizeof *f->ctx.conn);
	f->ctx.conn->fd = sp[0];
	f->ctx.conn->version = PROTOCOL_VERSION;
	f->engine = sp[1];
	f->queue = cmd_queue_new(f->base, &f->ctx, &hooks, &f->seen);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	cmd_queue_free(f->queue);
	cmd_ctx_free(&f->ctx);
	close(f->engine);
	event_base_free(f->base);
	fclose(f->out);
	free(f);
	return 0;
}

/* The engine reads one request and checks its type. */
static void
engine_expect(struct fixture *f, uint32_t type)
{
	struct msg m;

	assert_int_equal(msg_recv_sync(f->engine, &m), 1);
	assert_int_equal(m.hdr.type, type);
	msg_clear(&m);
}

static void
engine_answer(struct fixture *f, uint32_t type, const void *data, size_t len)
{
	assert_int_equal(msg_send_sync(f->engine, type, 0, -1, data, len), 0);
}

static void
engine_error(struct fixture *f, const char *text)
{
	struct proto_error pe;

	memset(&pe, 0, sizeof pe);
	snprintf(pe.text, sizeof pe.text, "%s", text);
	engine_answer(f, MSG_ERROR, &pe, sizeof pe);
}

/* Run the loop until no command waits (bounded by turns, not time). */
static void
loop_until_idle(struct fixture *f)
{
	int turns = 0;

	while (cmd_queue_waiting(f->queue) > 0 && turns++ < 1000)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(cmd_queue_waiting(f->queue), 0);
}

/* A wait parks its list; the loop resumes it with the engine's answer. */
/* Append line to the queue; it must parse. */
static void
queue_ok(struct fixture *f, const char *line)
{
	char	err[256];

	if (cmd_queue_append(f->queue, line, err, sizeof err) != 0)
		fail_msg("%s: %s", line, err);
}

static void
test_wait_resumes(void **state)
{
	struct fixture *f = *state;

	queue_ok(f, "wait web; list-keys");
	assert_int_equal(cmd_queue_waiting(f->queue), 1);
	assert_int_equal(f->seen.waiting, 1);
	assert_string_equal(f->seen.log, "");
	/* The waiting command holds the connection. */
	assert_null(f->ctx.conn);
	engine_expect(f, MSG_CMD_WAIT);

	/* Another list runs meanwhile; the rest of the first one does not. */
	queue_ok(f, "cursor down");
	assert_string_equal(f->seen.log, "cursor error: cursor works only in "
	    "the dashboard\n");
	f->seen.log[0] = '\0';

	engine_answer(f, MSG_OK, NULL, 0);
	loop_until_idle(f);
	assert_string_equal(f->seen.log, "wait ok: web has stopped\n"
	    "list-keys ok: \n");
	/* The connection is the owner's again. */
	assert_non_null(f->ctx.conn);
}

/* While a list waits, a command that needs the engine connects anew. */
static void
test_wait_lends_connection(void **state)
{
	struct fixture *f = *state;

	queue_ok(f, "wait web");
	queue_ok(f, "reload");
	assert_string_equal(f->seen.log, "reload error: the socket path "
	    UNREACHABLE_SOCKET " is too long\n");
	f->seen.log[0] = '\0';
	engine_expect(f, MSG_CMD_WAIT);
	engine_answer(f, MSG_OK, NULL, 0);
	loop_until_idle(f);
	assert_string_equal(f->seen.log, "wait ok: web has stopped\n");
	assert_non_null(f->ctx.conn);
}

/* An error ends the list; a restart waits twice, for stop and for start. */
static void
test_restart_waits_twice(void **state)
{
	struct fixture *f = *state;
	struct proto_vm_info vi;

	memset(&vi, 0, sizeof vi);
	snprintf(vi.name, sizeof vi.name, "web");
	vi.state = VM_RUNNING;
	/* The list request is answered at once, before the restart runs. */
	engine_answer(f, MSG_VM_INFO, &vi, sizeof vi);
	engine_answer(f, MSG_END, NULL, 0);
	queue_ok(f, "restart web; wait web");
	engine_expect(f, MSG_CMD_LIST);
	engine_expect(f, MSG_CMD_STOP);
	assert_int_equal(cmd_queue_waiting(f->queue), 1);

	/* The stop's answer is there: one turn resumes it, and it starts. */
	engine_answer(f, MSG_OK, NULL, 0);
	event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(cmd_queue_waiting(f->queue), 1);
	assert_int_equal(f->seen.waiting, 2);
	assert_string_equal(f->seen.log, "");
	engine_expect(f, MSG_CMD_START);
	engine_error(f, "vm web: the test says no");
	loop_until_idle(f);
	assert_string_equal(f->seen.log, "restart error: vm web: the test "
	    "says no\n");
}

/* A reply of the wrong size ends the command with an error naming it. */
static void
test_wait_bad_reply(void **state)
{
	struct fixture *f = *state;

	queue_ok(f, "stop web -w");
	engine_expect(f, MSG_CMD_STOP);
	engine_answer(f, MSG_OK, "abc", 3);
	loop_until_idle(f);
	assert_string_equal(f->seen.log, "stop error: malformed reply from "
	    "the engine: ok message of 3 bytes (expected 0)\n");
	/* The connection that broke the protocol is gone. */
	assert_null(f->ctx.conn);
}

/*
 * The engine goes away while a command waits: the wait is sent again on
 * new connections, and fails naming the socket once none can be made.
 */
static void
test_wait_engine_gone(void **state)
{
	struct fixture *f = *state;

	queue_ok(f, "wait web");
	engine_expect(f, MSG_CMD_WAIT);
	close(f->engine);
	f->engine = -1;
	loop_until_idle(f);
	assert_non_null(strstr(f->seen.log, "wait error: the engine on "
	    UNREACHABLE_SOCKET " went away before it answered, and no engine "
	    "answered there in 31 tries (the socket path "));
}

/* Batch mode runs the same command to its end, blocking for the reply. */
static void
test_run_blocks(void **state)
{
	struct fixture *f = *state;
	char *argv[] = { "wait", "web", NULL };

	engine_answer(f, MSG_OK, NULL, 0);
	assert_int_equal(cmd_run(&f->ctx, 2, argv), CMD_RETURN_NORMAL);
	assert_string_equal(f->ctx.result, "web has stopped");
	engine_expect(f, MSG_CMD_WAIT);
	engine_error(f, "vm web: no such vm");
	assert_int_equal(cmd_run(&f->ctx, 2, argv), CMD_RETURN_ERROR);
	assert_string_equal(f->ctx.error, "vm web: no such vm");
}

/* Replies to an OK-or-error request: the table's checks. */
static void
test_client_reply(void **state)
{
	struct proto_error pe;
	struct msg m;
	char err[CMD_ERROR_SIZE];

	(void)state;
	memset(&m, 0, sizeof m);
	m.hdr.type = MSG_OK;
	assert_int_equal(client_reply(&m, err, sizeof err), 0);

	memset(&pe, 0, sizeof pe);
	snprintf(pe.text, sizeof pe.text, "vm web: busy");
	m.hdr.type = MSG_ERROR;
	m.hdr.len = sizeof pe;
	m.data = &pe;
	assert_int_equal(client_reply(&m, err, sizeof err), 1);
	assert_string_equal(err, "vm web: busy");

	m.hdr.len = 4;
	assert_int_equal(client_reply(&m, err, sizeof err), -1);
	snprintf(pe.text, sizeof pe.text, "malformed reply from the engine: "
	    "error message of 4 bytes (expected %zu)", sizeof pe);
	assert_string_equal(err, pe.text);

	m.hdr.type = MSG_VM_INFO;
	assert_int_equal(client_reply(&m, err, sizeof err), -1);
	snprintf(pe.text, sizeof pe.text, "malformed reply from the engine: "
	    "unknown message type %u", MSG_VM_INFO);
	assert_string_equal(err, pe.text);
}

/*
 * A fake engine on path: it reads the hello and answers with a message of
 * type and len bytes (zeros), then hangs up. Returns its pid.
 */
static pid_t
fake_engine(const char *path, uint32_t type, size_t len)
{
	struct sockaddr_un sun;
	struct msg m;
	char buf[64];
	pid_t pid;
	int s, c;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof sun.sun_path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_not_equal(s = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_int_equal(listen(s, 1), 0);
	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0) {
		if ((c = accept(s, NULL, NULL)) == -1 ||
		    msg_recv_sync(c, &m) != 1)
			_exit(1);
		memset(buf, 0, sizeof buf);
		_exit(msg_send_sync(c, type, 0, -1, buf, len) == 0 ? 0 : 1);
	}
	close(s);
	return pid;
}

/* A hello of the wrong size or type is refused, saying what came. */
static void
test_hello_malformed(void **state)
{
	static const struct {
		uint32_t	 type;
		size_t		 len;
		const char	*want;
	} cases[] = {
		{ MSG_HELLO, 3, "malformed reply from the engine: hello "
		    "message of 3 bytes (expected 8)" },
		{ MSG_HELLO, 12, "malformed reply from the engine: hello "
		    "message of 12 bytes (expected 8)" },
		{ MSG_OK, 0, "malformed reply from the engine: unknown "
		    "message type 2" },
		{ MSG_ERROR, 5, NULL },
	};
	struct client_opts o;
	struct client_conn *conn;
	char dir[] = "/tmp/vmtop-test-hello.XXXXXX", path[128];
	char err[CMD_ERROR_SIZE], want[128];
	size_t i;
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(sizeof(struct proto_hello), 8);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/engine.sock", dir);
	memset(&o, 0, sizeof o);
	o.socket = path;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pid = fake_engine(path, cases[i].type, cases[i].len);
		assert_int_equal(client_connect(&o, &conn, err, sizeof err),
		    -1);
		assert_null(conn);
		if (cases[i].want == NULL)
			snprintf(want, sizeof want, "malformed reply from the "
			    "engine: error message of 5 bytes (expected %zu)",
			    sizeof(struct proto_error));
		else
			snprintf(want, sizeof want, "%s", cases[i].want);
		assert_string_equal(err, want);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_int_equal(unlink(path), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

#define QUEUE_TEST(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		QUEUE_TEST(test_wait_resumes),
		QUEUE_TEST(test_wait_lends_connection),
		QUEUE_TEST(test_restart_waits_twice),
		QUEUE_TEST(test_wait_bad_reply),
		QUEUE_TEST(test_wait_engine_gone),
		QUEUE_TEST(test_run_blocks),
		cmocka_unit_test(test_client_reply),
		cmocka_unit_test(test_hello_malformed),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

/*
 * Unit tests for the command table (tui/cmd*.c): lookup, argument checks,
 * durations, paths, JSON escaping and the filling of ad hoc start requests.
 * None of them talks to an engine: the context's socket path is too long
 * to connect to, so a test that reached the engine would fail, not start
 * one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"

#define UNREACHABLE_SOCKET \
	"/nonexistent/vmtop-test/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock"

/* The words of the last prepared command: ctx->argv points into them. */
static char	**words;
static int	  nwords;

static void
free_words(void)
{
	if (words != NULL)
		split_free_words(nwords, words);
	words = NULL;
	nwords = 0;
}

static int
setup_ctx(void **state)
{
	struct cmd_ctx *ctx;

	ctx = calloc(1, sizeof *ctx);
	assert_non_null(ctx);
	cmd_ctx_init(ctx, stdout);
	ctx->socket = UNREACHABLE_SOCKET;
	*state = ctx;
	return 0;
}

static int
teardown_ctx(void **state)
{
	struct cmd_ctx *ctx = *state;

	cmd_ctx_free(ctx);
	free(ctx);
	free_words();
	return 0;
}

/* Split line into words and prepare it as a command in ctx. */
static const struct cmd_entry *
prepare(struct cmd_ctx *ctx, const char *line)
{
	char err[128];

	cmd_args_clear(ctx);
	free_words();
	assert_int_equal(split_words(line, &nwords, &words, err, sizeof err),
	    0);
	return cmd_prepare(ctx, nwords, words);
}

/* Expect line to prepare as the command named want. */
static void
prepare_ok(struct cmd_ctx *ctx, const char *line, const char *want)
{
	const struct cmd_entry *entry;

	entry = prepare(ctx, line);
	if (entry == NULL)
		fail_msg("%s: %s", line, ctx->error);
	assert_string_equal(entry->name, want);
}

/* Expect line to fail to prepare with exactly the error want. */
static void
prepare_fail(struct cmd_ctx *ctx, const char *line, const char *want)
{
	assert_null(prepare(ctx, line));
	assert_string_equal(ctx->error, want);
	assert_null(ctx->entry);
	assert_int_equal(ctx->nopts, 0);
	assert_int_equal(ctx->argc, 0);
}

/* Run line; it must fail (before any engine is needed) with want. */
static void
run_fail(struct cmd_ctx *ctx, const char *line, const char *want)
{
	char **argv, err[128];
	int argc;

	assert_int_equal(split_words(line, &argc, &argv, err, sizeof err), 0);
	assert_int_equal(cmd_run(ctx, argc, argv), CMD_RETURN_ERROR);
	assert_string_equal(ctx->error, want);
	assert_null(ctx->conn);
	split_free_words(argc, argv);
}

static void
test_find_names(void **state)
{
	const struct cmd_entry **e;
	char err[256];

	(void)state;
	for (e = cmd_table; *e != NULL; e++) {
		assert_ptr_equal(cmd_find((*e)->name, err, sizeof err), *e);
		if ((*e)->alias != NULL)
			assert_ptr_equal(cmd_find((*e)->alias, err,
			    sizeof err), *e);
		assert_non_null((*e)->exec);
		assert_non_null((*e)->usage);
		assert_non_null((*e)->args);
	}
	assert_string_equal(cmd_find("status", err, sizeof err)->name,
	    "list");
	assert_string_equal(cmd_find("kill-engine", err, sizeof err)->name,
	    "kill-engine");
}

static void
test_find_prefixes(void **state)
{
	static const struct {
		const char	*prefix;
		const char	*name;
	} cases[] = {
		{ "cap", "capture" },
		{ "cu", "cursor" },
		{ "k", "kill-engine" },
		{ "kill", "kill-engine" },
		{ "list", "list" },
		{ "list-", "list-keys" },
		{ "lo", "log" },
		{ "pa", "pause" },
		{ "pu", "pull" },
		{ "im", "images" },
		{ "rel", "reload" },
		{ "sh", "show" },
		{ "star", "start" },
		{ "stat", "list" },		/* the alias' prefix */
		{ "sto", "stop" },
		{ "unp", "unpause" },
		{ "unb", "unbind" },
		{ "w", "wait" },
	};
	const struct cmd_entry *entry;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		entry = cmd_find(cases[i].prefix, err, sizeof err);
		if (entry == NULL)
			fail_msg("%s: %s", cases[i].prefix, err);
		assert_string_equal(entry->name, cases[i].name);
	}
}

static void
test_find_errors(void **state)
{
	char err[256];

	(void)state;
	assert_null(cmd_find("s", err, sizeof err));
	assert_string_equal(err,
	    "ambiguous command: s, could be: show, sort, start, status, stop");
	assert_null(cmd_find("st", err, sizeof err));
	assert_string_equal(err,
	    "ambiguous command: st, could be: start, status, stop");
	assert_null(cmd_find("sta", err, sizeof err));
	assert_string_equal(err,
	    "ambiguous command: sta, could be: start, status");
	assert_null(cmd_find("l", err, sizeof err));
	assert_string_equal(err, "ambiguous command: l, could be: list, list-keys, log");
	assert_null(cmd_find("p", err, sizeof err));
	assert_string_equal(err, "ambiguous command: p, could be: pause, pull");
	assert_null(cmd_find("foo", err, sizeof err));
	assert_string_equal(err, "unknown command: foo");
	assert_null(cmd_find("listx", err, sizeof err));
	assert_string_equal(err, "unknown command: listx");
	assert_null(cmd_find("", err, sizeof err));
	assert_string_equal(err, "unknown command: ''");

	/* A short buffer is cut, not overrun. */
	assert_null(cmd_find("s", err, 20));
	assert_string_equal(err, "ambiguous command: ");
}

static void
test_args_ok(void **state)
{
	struct cmd_ctx *ctx = *state;

	prepare_ok(ctx, "list", "list");
	prepare_ok(ctx, "status web", "list");
	prepare_ok(ctx, "show web", "show");
	prepare_ok(ctx, "start web", "start");
	prepare_ok(ctx, "start web -m 1G -p 2 -k k -i i -d a -d b -r r -a x",
	    "start");
	prepare_ok(ctx, "stop web", "stop");
	prepare_ok(ctx, "stop -fw web", "stop");
	prepare_ok(ctx, "stop web -f -w", "stop");
	prepare_ok(ctx, "stop -a", "stop");
	prepare_ok(ctx, "pause web", "pause");
	prepare_ok(ctx, "unpause web", "unpause");
	prepare_ok(ctx, "wait web", "wait");
	prepare_ok(ctx, "capture web", "capture");
	prepare_ok(ctx, "reload", "reload");
	prepare_ok(ctx, "log verbose", "log");
	prepare_ok(ctx, "kill-engine", "kill-engine");
	prepare_ok(ctx, "sto -- -a", "stop");
	cmd_args_clear(ctx);
}

static void
test_args_usage(void **state)
{
	static const struct {
		const char	*line;
		const char	*error;
	} cases[] = {
		{ "list a b", "usage: list [NAME]" },
		{ "status a b", "usage: status [NAME]" },
		{ "stat a b", "usage: list [NAME]" },
		{ "list -x", "usage: list [NAME]" },
		{ "show", "usage: show NAME" },
		{ "show a b", "usage: show NAME" },
		{ "show -f a", "usage: show NAME" },
		{ "start", "usage: start NAME [-m SIZE] [-p VCPUS] [-k KERNEL] "
		    "[-i INITRD] [-d DISK]... [-r ISO] [-B disk|cdrom] "
		    "[-a CMDLINE]" },
		{ "start a b", "usage: start NAME [-m SIZE] [-p VCPUS] "
		    "[-k KERNEL] [-i INITRD] [-d DISK]... [-r ISO] "
		    "[-B disk|cdrom] [-a CMDLINE]" },
		{ "start a -m", "usage: start NAME [-m SIZE] [-p VCPUS] "
		    "[-k KERNEL] [-i INITRD] [-d DISK]... [-r ISO] "
		    "[-B disk|cdrom] [-a CMDLINE]" },
		{ "start a -z", "usage: start NAME [-m SIZE] [-p VCPUS] "
		    "[-k KERNEL] [-i INITRD] [-d DISK]... [-r ISO] "
		    "[-B disk|cdrom] [-a CMDLINE]" },
		{ "stop a b", "usage: stop NAME [-f] [-w] | stop -a [-f] "
		    "[-w]" },
		{ "stop -x a", "usage: stop NAME [-f] [-w] | stop -a [-f] "
		    "[-w]" },
		{ "stop -f: a", "usage: stop NAME [-f] [-w] | stop -a [-f] "
		    "[-w]" },
		{ "pause", "usage: pause [-t] NAME" },
		{ "pause a b", "usage: pause [-t] NAME" },
		{ "unpause", "usage: unpause NAME" },
		{ "unpause -f a", "usage: unpause NAME" },
		{ "wait", "usage: wait NAME" },
		{ "wait a b", "usage: wait NAME" },
		{ "capture", "usage: capture NAME" },
		{ "capture -a a", "usage: capture NAME" },
		{ "reload now", "usage: reload" },
		{ "reload -f", "usage: reload" },
		{ "log", "usage: log verbose|brief" },
		{ "log verbose brief", "usage: log verbose|brief" },
		{ "kill-engine now", "usage: kill-engine [-k]" },
		{ "kill-engine -f", "usage: kill-engine [-k]" },
	};
	struct cmd_ctx *ctx = *state;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		prepare_fail(ctx, cases[i].line, cases[i].error);
	prepare_fail(ctx, "frob a", "unknown command: frob");
	assert_null(cmd_prepare(ctx, 0, NULL));
	assert_string_equal(ctx->error, "no command given");
}

/* Usage errors that the commands find themselves, before any request. */
static void
test_exec_usage(void **state)
{
	struct cmd_ctx *ctx = *state;

	run_fail(ctx, "stop", "usage: stop NAME [-f] [-w] | stop -a [-f] "
	    "[-w]");
	run_fail(ctx, "stop -a web", "usage: stop NAME [-f] [-w] | stop -a "
	    "[-f] [-w]");
	run_fail(ctx, "log loud", "usage: log verbose|brief");
	run_fail(ctx, "stop x12345678901234567890123456789012345678901234567890"
	    "12345678901234", "the VM name x1234567890123456789... is too "
	    "long (at most 64 characters)");
	run_fail(ctx, "frob", "unknown command: frob");
}

static void
test_options(void **state)
{
	struct cmd_ctx *ctx = *state;

	prepare_ok(ctx, "start -d a -m2G -d b -m 1G -- -p", "start");
	assert_int_equal(ctx->argc, 1);
	assert_string_equal(ctx->argv[0], "-p");
	assert_null(ctx->argv[1]);
	assert_int_equal(ctx->nopts, 4);
	assert_string_equal(cmd_value(ctx, 'm'), "1G");
	assert_true(cmd_flag(ctx, 'd'));
	assert_false(cmd_flag(ctx, 'p'));
	assert_null(cmd_value(ctx, 'p'));

	prepare_ok(ctx, "stop -fw -", "stop");
	assert_int_equal(ctx->argc, 1);
	assert_string_equal(ctx->argv[0], "-");
	assert_true(cmd_flag(ctx, 'f'));
	assert_true(cmd_flag(ctx, 'w'));
	assert_false(cmd_flag(ctx, 'a'));

	/* A value may look like a flag. */
	prepare_ok(ctx, "start web -a -v", "start");
	assert_string_equal(cmd_value(ctx, 'a'), "-v");
	assert_int_equal(ctx->argc, 1);
	cmd_args_clear(ctx);
}

static void
test_format_duration(void **state)
{
	char buf[32];

	(void)state;
	format_duration(-5, buf, sizeof buf);
	assert_string_equal(buf, "0s");
	format_duration(42, buf, sizeof buf);
	assert_string_equal(buf, "42s");
	format_duration(307, buf, sizeof buf);
	assert_string_equal(buf, "5m07s");
	format_duration(3 * 3600 + 125, buf, sizeof buf);
	assert_string_equal(buf, "3h02m");
	format_duration(2 * 86400 + 5 * 3600 + 59, buf, sizeof buf);
	assert_string_equal(buf, "2d05h");
}

static void
check_json(const char *in, const char *want)
{
	char *q;

	q = format_json_quote(in);
	assert_string_equal(q, want);
	free(q);
}

static void
test_json_escape(void **state)
{
	(void)state;
	check_json("", "\"\"");
	check_json("web", "\"web\"");
	check_json("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	check_json("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	check_json("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	/* Valid UTF-8 is kept: é, €, U+10FFFF. */
	check_json("caf\xc3\xa9 \xe2\x82\xac \xf4\x8f\xbf\xbf",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf4\x8f\xbf\xbf\"");
	/* Anything else becomes U+FFFD, one per bad byte. */
	check_json("a\xff" "b", "\"a\\ufffdb\"");
	/* Overlong, a surrogate, past U+10FFFF, cut short. */
	check_json("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	check_json("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	check_json("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check_json("\xf4\x90\x80\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check_json("\xe2\x82", "\"\\ufffd\\ufffd\"");
	check_json("\xe2\x82\"", "\"\\ufffd\\ufffd\\\"\"");
	check_json("\x80", "\"\\ufffd\"");
}

static void
test_clean(void **state)
{
	char s[] = "a\tb\x1b[2Jc\x7f\xc3\xa9";

	(void)state;
	format_clean(s);
	assert_string_equal(s, "a?b?[2Jc?\xc3\xa9");
}

static void
test_abspath(void **state)
{
	char cwd[PATH_MAX], buf[PATH_MAX], want[PATH_MAX + 16], small[8];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(cmd_abspath("/a/b", buf, sizeof buf), 0);
	assert_string_equal(buf, "/a/b");
	snprintf(want, sizeof want, "%s/disk.img", cwd);
	assert_int_equal(cmd_abspath("disk.img", buf, sizeof buf), 0);
	assert_string_equal(buf, want);
	assert_int_equal(cmd_abspath("./disk.img", buf, sizeof buf), 0);
	assert_string_equal(buf, want);
	assert_int_equal(cmd_abspath(".//./disk.img", buf, sizeof buf), 0);
	assert_string_equal(buf, want);
	assert_int_equal(cmd_abspath(".", buf, sizeof buf), 0);
	assert_string_equal(buf, cwd);
	snprintf(want, sizeof want, "%s/../x.iso", cwd);
	assert_int_equal(cmd_abspath("../x.iso", buf, sizeof buf), 0);
	assert_string_equal(buf, want);

	assert_int_equal(cmd_abspath("", buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(cmd_abspath("/1234567", small, sizeof small), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(cmd_abspath("/123456", small, sizeof small), 0);
	assert_string_equal(small, "/123456");
	assert_int_equal(cmd_abspath("x", small, sizeof small), -1);
}

/* Run the test from a known directory, so relative paths are predictable. */
static void
enter_tmpdir(char *dir, size_t len)
{
	char tmpl[] = "/tmp/vmtop-test-cmd.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(chdir(tmpl), 0);
	assert_non_null(getcwd(dir, len));
}

static void
leave_tmpdir(const char *dir)
{
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_start_fill(void **state)
{
	struct cmd_ctx *ctx = *state;
	struct proto_start ps;
	char dir[PATH_MAX], want[PATH_MAX + 32];

	enter_tmpdir(dir, sizeof dir);
	prepare_ok(ctx, "start web -m 2G -p 4 -k vmlinuz -i /boot/initrd.img "
	    "-d a.img -d ./sub/b.qcow2 -d /abs/c.img -r ../x.iso -B cdrom "
	    "-a 'console=ttyS0 quiet'", "start");
	memset(&ps, 0xff, sizeof ps);
	assert_int_equal(cmd_start_fill(ctx, ctx->argv[0], &ps), 0);
	assert_string_equal(ps.name, "web");
	assert_true(ps.memory == 2ULL << 30);
	assert_int_equal(ps.vcpus, 4);
	snprintf(want, sizeof want, "%s/vmlinuz", dir);
	assert_string_equal(ps.kernel, want);
	assert_string_equal(ps.initrd, "/boot/initrd.img");
	snprintf(want, sizeof want, "%s/../x.iso", dir);
	assert_string_equal(ps.cdrom, want);
	assert_int_equal(ps.boot, BOOT_CDROM);
	assert_string_equal(ps.cmdline, "console=ttyS0 quiet");
	assert_int_equal(ps.ndisks, 3);
	snprintf(want, sizeof want, "%s/a.img", dir);
	assert_string_equal(ps.disks[0], want);
	snprintf(want, sizeof want, "%s/sub/b.qcow2", dir);
	assert_string_equal(ps.disks[1], want);
	assert_string_equal(ps.disks[2], "/abs/c.img");
	/* Unused fields are zero: the engine keeps the config's. */
	assert_int_equal(ps.disks[3][0], 0);
	assert_int_equal(ps.name[sizeof ps.name - 1], 0);

	/* Nothing given: everything zero but the name. */
	prepare_ok(ctx, "start db", "start");
	memset(&ps, 0xff, sizeof ps);
	assert_int_equal(cmd_start_fill(ctx, ctx->argv[0], &ps), 0);
	assert_string_equal(ps.name, "db");
	assert_true(ps.memory == 0);
	assert_int_equal(ps.vcpus, 0);
	assert_int_equal(ps.ndisks, 0);
	assert_string_equal(ps.kernel, "");
	assert_string_equal(ps.cdrom, "");
	assert_int_equal(ps.boot, BOOT_DEFAULT);
	assert_string_equal(ps.cmdline, "");

	prepare_ok(ctx, "start db -B disk", "start");
	assert_int_equal(cmd_start_fill(ctx, ctx->argv[0], &ps), 0);
	assert_int_equal(ps.boot, BOOT_DISK);

	/* Bare numbers are MiB. */
	prepare_ok(ctx, "start db -m 768", "start");
	assert_int_equal(cmd_start_fill(ctx, ctx->argv[0], &ps), 0);
	assert_true(ps.memory == 768ULL << 20);
	cmd_args_clear(ctx);
	leave_tmpdir(dir);
}

/* Expect the start command line to fail to fill with want. */
static void
start_fail(struct cmd_ctx *ctx, const char *line, const char *want)
{
	struct proto_start ps;

	prepare_ok(ctx, line, "start");
	assert_int_equal(cmd_start_fill(ctx, ctx->argv[0], &ps), -1);
	assert_string_equal(ctx->error, want);
	cmd_args_clear(ctx);
}

static void
test_start_errors(void **state)
{
	struct cmd_ctx *ctx = *state;
	char line[VM_CMDLINE_SIZE + 64], want[256];

	start_fail(ctx, "start web -B floppy", "cannot start web: invalid "
	    "boot device floppy (use disk or cdrom)");
	start_fail(ctx, "start web -m 12X", "cannot start web: invalid memory "
	    "size 12X (use a number with K, M or G)");
	start_fail(ctx, "start web -m 0", "cannot start web: invalid memory "
	    "size 0 (use a number with K, M or G)");
	start_fail(ctx, "start web -m 99999999T", "cannot start web: the "
	    "memory size 99999999T is too big");
	start_fail(ctx, "start web -p 0", "cannot start web: invalid number "
	    "of vCPUs 0 (1 to 64)");
	start_fail(ctx, "start web -p 65", "cannot start web: invalid number "
	    "of vCPUs 65 (1 to 64)");
	start_fail(ctx, "start web -p 2x", "cannot start web: invalid number "
	    "of vCPUs 2x (1 to 64)");
	start_fail(ctx, "start web -p ''", "cannot start web: invalid number "
	    "of vCPUs  (1 to 64)");
	start_fail(ctx, "start web -k ''", "cannot start web: the kernel path "
	    "is empty");
	start_fail(ctx, "start web -d a -d b -d c -d d -d e -d f -d g -d h "
	    "-d i", "cannot start web: too many disks (at most 8)");
	start_fail(ctx, "start 12345678901234567890123456789012345678901234"
	    "567890123456789012345", "the VM name 12345678901234567890... is "
	    "too long (at most 64 characters)");

	memset(want, 0, sizeof want);
	snprintf(line, sizeof line, "start web -a ");
	memset(line + strlen(line), 'x', VM_CMDLINE_SIZE);
	snprintf(want, sizeof want, "cannot start web: the kernel command "
	    "line is too long (at most %d bytes)", VM_CMDLINE_SIZE - 1);
	start_fail(ctx, line, want);
}

static void
test_name_limits(void **state)
{
	struct cmd_ctx *ctx = *state;
	struct proto_name pn;
	char name[VM_NAME_MAX + 2];

	memset(name, 'n', VM_NAME_MAX);
	name[VM_NAME_MAX] = '\0';
	assert_int_equal(cmd_fill_name(ctx, name, &pn), 0);
	assert_string_equal(pn.name, name);
	name[VM_NAME_MAX] = 'n';
	name[VM_NAME_MAX + 1] = '\0';
	assert_int_equal(cmd_fill_name(ctx, name, &pn), -1);
	assert_int_equal(cmd_fill_name(ctx, "", &pn), 0);
	assert_string_equal(pn.name, "");
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(proto_state_name(VM_STOPPED), "stopped");
	assert_string_equal(proto_state_name(VM_STARTING), "starting");
	assert_string_equal(proto_state_name(VM_RUNNING), "running");
	assert_string_equal(proto_state_name(VM_PAUSED), "paused");
	assert_string_equal(proto_state_name(VM_STOPPING), "stopping");
	assert_string_equal(proto_state_name(VM_FAILED), "failed");
	assert_string_equal(proto_state_name(VM_STATE_COUNT), "unknown");
}

static void
test_list_json(void **state)
{
	struct proto_vm_info vi;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	memset(&vi, 0, sizeof vi);
	vi.id = 7;
	vi.state = VM_FAILED;
	memset(vi.name, 'x', sizeof vi.name);	/* unterminated */
	snprintf(vi.reason, sizeof vi.reason, "disk \"a\"\n");
	vi.memory = 512ULL << 20;
	vi.flags = VMINFO_ENABLED | VMINFO_ADHOC;
	vi.pid = -1;
	cmd_list_sanitize(&vi);
	assert_int_equal(strlen(vi.name), VM_NAME_MAX);

	assert_non_null(f = open_memstream(&buf, &len));
	cmd_list_json_fields(f, &vi);
	fclose(f);
	assert_non_null(strstr(buf, "\"id\":7,\"name\":\"xxxx"));
	assert_non_null(strstr(buf, "\"state\":\"failed\""));
	assert_non_null(strstr(buf, "\"reason\":\"disk \\\"a\\\"\\n\""));
	assert_non_null(strstr(buf, "\"memory\":536870912,"));
	assert_non_null(strstr(buf, "\"pid\":-1,"));
	assert_non_null(strstr(buf, "\"enabled\":true,\"adhoc\":true,"
	    "\"owned\":false"));
	assert_non_null(strstr(buf, "\"stats\":{\"cpu_ns\":0,"));
	assert_non_null(strstr(buf, "\"stats_time_ns\":0"));
	assert_null(strchr(buf, '\n'));
	free(buf);
}

static void
test_batch(void **state)
{
	struct cmd_ctx *ctx = *state;

	assert_int_equal(batch_run(ctx, ""), 0);
	assert_int_equal(batch_run(ctx, " ; \n # nothing\n"), 0);
	assert_int_equal(batch_run(ctx, "start \"web"), 1);
	/* The first failure stops the batch before `list` connects. */
	assert_int_equal(batch_run(ctx, "stop; list"), 1);
	assert_string_equal(ctx->error,
	    "usage: stop NAME [-f] [-w] | stop -a [-f] [-w]");
	assert_int_equal(batch_run(ctx, "log loud\nlist"), 1);
	assert_string_equal(ctx->error, "usage: log verbose|brief");
	assert_null(ctx->conn);
}

/* The engine is not running: say so and succeed, starting nothing. */
static void
test_kill_engine_none(void **state)
{
	struct cmd_ctx *ctx = *state;
	char dir[PATH_MAX], sock[PATH_MAX + 16];
	char *argv[] = { "kill-engine", NULL };

	enter_tmpdir(dir, sizeof dir);
	snprintf(sock, sizeof sock, "%s/engine.sock", dir);
	ctx->socket = sock;
	assert_int_equal(cmd_run(ctx, 1, argv), CMD_RETURN_NORMAL);
	assert_null(ctx->conn);
	assert_int_equal(access(sock, F_OK), -1);
	ctx->socket = UNREACHABLE_SOCKET;
	leave_tmpdir(dir);
}

/* Commands that need the engine fail cleanly when it cannot be reached. */
static void
test_unreachable(void **state)
{
	struct cmd_ctx *ctx = *state;
	char *argv[] = { "reload", NULL };

	assert_int_equal(cmd_run(ctx, 1, argv), CMD_RETURN_ERROR);
	assert_string_equal(ctx->error, "the socket path " UNREACHABLE_SOCKET
	    " is too long");
	assert_null(ctx->conn);
}

#define CTX_TEST(f)	cmocka_unit_test_setup_teardown(f, setup_ctx, \
			    teardown_ctx)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_names),
		cmocka_unit_test(test_find_prefixes),
		cmocka_unit_test(test_find_errors),
		CTX_TEST(test_args_ok),
		CTX_TEST(test_args_usage),
		CTX_TEST(test_exec_usage),
		CTX_TEST(test_options),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_abspath),
		CTX_TEST(test_start_fill),
		CTX_TEST(test_start_errors),
		CTX_TEST(test_name_limits),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_list_json),
		CTX_TEST(test_batch),
		CTX_TEST(test_kill_engine_none),
		CTX_TEST(test_unreachable),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

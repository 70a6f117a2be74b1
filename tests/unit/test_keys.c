/*
 * Unit tests for key names and bindings (tui/keys.c, tui/cmd-bind.c): the
 * names read back as written, bind and unbind through the command table,
 * %% expansion, and the built-in keymaps load without an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

#define UNREACHABLE_SOCKET "/nonexistent/vmtop-test/engine.sock"

/* Run one line of commands; returns the result of the last. */
static enum cmd_retval
run(struct cmd_ctx *ctx, const char *line)
{
	struct split_list list;
	enum cmd_retval rv = CMD_RETURN_NORMAL;
	char err[256];
	size_t i;

	if (split_commands(line, &list, err, sizeof err) == -1)
		fail_msg("%s: %s", line, err);
	for (i = 0; i < list.n && rv == CMD_RETURN_NORMAL; i++)
		rv = cmd_run(ctx, list.cmds[i].argc, list.cmds[i].argv);
	split_free(&list);
	return rv;
}

static int
setup(void **state)
{
	struct cmd_ctx *ctx;

	ctx = calloc(1, sizeof *ctx);
	assert_non_null(ctx);
	cmd_ctx_init(ctx, stdout);
	ctx->socket = UNREACHABLE_SOCKET;
	keys_unbind_all();
	*state = ctx;
	return 0;
}

static int
teardown(void **state)
{
	cmd_ctx_free(*state);
	free(*state);
	keys_unbind_all();
	return 0;
}

static void
test_names(void **state)
{
	static const char *names[] = {
		"q", "Q", "?", "<", "C-a", "C-l", "C-z", "C-Space", "C-]",
		"M-x", "M-<", "M-Up", "Up", "Down", "Left", "Right", "PageUp",
		"PageDown", "Home", "End", "IC", "DC", "Enter", "Tab", "BTab",
		"Escape", "Space", "BSpace", "F1", "F9", "F12", "é", "€",
	};
	char buf[32];
	size_t i;
	int key;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		key = keys_from_string(names[i]);
		if (key == KEYC_NONE)
			fail_msg("%s: not a key", names[i]);
		keys_to_string(key, buf, sizeof buf);
		assert_string_equal(buf, names[i]);
	}
}

static void
test_aliases(void **state)
{
	(void)state;
	assert_int_equal(keys_from_string("PgUp"), KEYC_PPAGE);
	assert_int_equal(keys_from_string("NPage"), KEYC_NPAGE);
	assert_int_equal(keys_from_string("up"), KEYC_UP);
	assert_int_equal(keys_from_string("C-m"), KEYC_ENTER);
	assert_int_equal(keys_from_string("C-i"), KEYC_TAB);
	assert_int_equal(keys_from_string("C-["), KEYC_ESCAPE);
	assert_int_equal(keys_from_string("C-L"), 'L' & 0x1f);
	assert_int_equal(keys_from_string(" "), KEYC_SPACE);
	assert_int_equal(keys_from_string("M-Escape"), KEYC_META |
	    KEYC_ESCAPE);
	assert_int_equal(keys_from_curses(OK, '\r'), KEYC_ENTER);
	assert_int_equal(keys_from_curses(OK, 127), KEYC_BSPACE);
	assert_int_equal(keys_from_curses(KEY_CODE_YES, KEY_F(10)),
	    KEYC_F1 + 9);
}

static void
test_bad_names(void **state)
{
	static const char *bad[] = {
		"", "ab", "C-", "C-ab", "C-1", "M-", "M-M-x", "F0", "F13",
		"F1x", "Nope", "\x01", "\xff",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (keys_from_string(bad[i]) != KEYC_NONE)
			fail_msg("\"%s\" is a key", bad[i]);
	}
}

static void
test_bind(void **state)
{
	struct cmd_ctx *ctx = *state;
	const struct key_binding *kb;

	assert_int_equal(run(ctx, "bind -N 'say it' x stop %% -f"),
	    CMD_RETURN_NORMAL);
	kb = keys_find('x');
	assert_non_null(kb);
	assert_string_equal(kb->cmd, "stop %% -f");
	assert_string_equal(kb->note, "say it");
	/* Options after the key belong to the command. */
	assert_int_equal(run(ctx, "bind F confirm-before -p 'Sure? (y/n)' "
	    "'stop -f %%'"), CMD_RETURN_NORMAL);
	kb = keys_find('F');
	assert_non_null(kb);
	assert_string_equal(kb->cmd,
	    "confirm-before -p 'Sure? (y/n)' 'stop -f %%'");
	/* One operand is kept as it is, ';' and all. */
	assert_int_equal(run(ctx, "bind C-r 'stop -w %%; start %%'"),
	    CMD_RETURN_NORMAL);
	assert_string_equal(keys_find('R' & 0x1f)->cmd,
	    "stop -w %%; start %%");
	assert_int_equal(run(ctx, "bind Enter show %% \\; list"),
	    CMD_RETURN_NORMAL);
	assert_string_equal(keys_find(KEYC_ENTER)->cmd, "show %% ; list");
	/* Rebinding replaces. */
	assert_int_equal(run(ctx, "bind x start %%"), CMD_RETURN_NORMAL);
	assert_string_equal(keys_find('x')->cmd, "start %%");
	assert_null(keys_find('x')->note);
}

static void
test_bind_errors(void **state)
{
	struct cmd_ctx *ctx = *state;

	assert_int_equal(run(ctx, "bind x"), CMD_RETURN_ERROR);
	assert_string_equal(ctx->error,
	    "usage: bind [-N NOTE] KEY COMMAND [ARGUMENTS...]");
	assert_int_equal(run(ctx, "bind Nope quit"), CMD_RETURN_ERROR);
	assert_string_equal(ctx->error, "bind: unknown key: Nope");
	assert_int_equal(run(ctx, "bind x frobnicate"), CMD_RETURN_ERROR);
	assert_string_equal(ctx->error,
	    "bind: unknown command: frobnicate");
	assert_int_equal(run(ctx, "bind x 'start \"web'"), CMD_RETURN_ERROR);
	assert_null(keys_find('x'));
	assert_int_equal(run(ctx, "unbind x"), CMD_RETURN_ERROR);
	assert_string_equal(ctx->error, "unbind: x is not bound");
	assert_int_equal(run(ctx, "bind x quit; unbind x"),
	    CMD_RETURN_NORMAL);
	assert_null(keys_find('x'));
	assert_int_equal(run(ctx, "bind x quit; bind y quit; unbind -a"),
	    CMD_RETURN_NORMAL);
	assert_null(keys_find('y'));
}

/* Dashboard commands refuse to run outside it. */
static void
test_dashboard_only(void **state)
{
	struct cmd_ctx *ctx = *state;

	assert_int_equal(run(ctx, "cursor down"), CMD_RETURN_ERROR);
	assert_string_equal(ctx->error, "cursor works only in the dashboard");
	assert_int_equal(run(ctx, "quit"), CMD_RETURN_ERROR);
	assert_int_equal(run(ctx, "sort cpu"), CMD_RETURN_ERROR);
}

static void
test_expand(void **state)
{
	char *s;

	(void)state;
	s = keys_expand("stop %%", "web");
	assert_string_equal(s, "stop web");
	free(s);
	s = keys_expand("%%-%%%", "a");
	assert_string_equal(s, "a-a%");
	free(s);
	s = keys_expand("no percent", "a");
	assert_string_equal(s, "no percent");
	free(s);
}

/* Each built-in keymap loads cleanly and binds what it says. */
static void
test_keymaps(void **state)
{
	struct cmd_ctx *ctx = *state;
	char err[512];
	size_t n;

	assert_int_equal(keys_load(ctx, NULL, err, sizeof err), 0);
	keys_list(&n);
	assert_true(n > 20);
	assert_non_null(keys_find('q'));
	assert_non_null(keys_find(KEYC_DOWN));
	assert_string_equal(keys_find('?')->cmd, "list-keys -N");
	assert_int_equal(keys_load(ctx, "vi", err, sizeof err), 0);
	assert_string_equal(keys_find('j')->cmd, "cursor down");
	assert_non_null(keys_find('q'));
	assert_int_equal(keys_load(ctx, "emacs", err, sizeof err), 0);
	assert_string_equal(keys_find('N' & 0x1f)->cmd, "cursor down");
	assert_string_equal(keys_find(KEYC_META | '<')->cmd, "cursor top");
	assert_null(keys_find('j'));
	assert_int_equal(keys_load(ctx, "nosuch", err, sizeof err), 1);
	assert_string_equal(err, "no keymap nosuch (there are default, vi and "
	    "emacs, or give a path)");
	assert_int_equal(keys_load_text(ctx, "bind q quit\nstart web\n",
	    "test.keys", err, sizeof err), 1);
	assert_string_equal(err, "test.keys:2: only bind and unbind belong "
	    "in a key file, not start");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dashboard_only, setup,
		    teardown),
		cmocka_unit_test(test_expand),
		cmocka_unit_test_setup_teardown(test_keymaps, setup, teardown),
	};

	/* keys_load reads the user's keys file: there must be none. */
	setenv("XDG_CONFIG_HOME", "/nonexistent/vmtop-test", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

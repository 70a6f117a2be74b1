/* Unit tests for tui/split.c: the `vmtop -c` command splitter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

/* Check one command: its line, then its words, ending with NULL. */
static void
check_cmd(const struct split_cmd *cmd, int line, ...)
{
	va_list		 ap;
	const char	*want;
	int		 i = 0;

	assert_int_equal(cmd->line, line);
	va_start(ap, line);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < cmd->argc);
		assert_string_equal(cmd->argv[i], want);
		i++;
	}
	va_end(ap);
	assert_int_equal(cmd->argc, i);
	assert_null(cmd->argv[i]);
}

/* Split input, expecting success and n commands. */
static void
split_ok(const char *input, struct split_list *list, size_t n)
{
	char	err[128];

	err[0] = 'x';
	assert_int_equal(split_commands(input, list, err, sizeof err), 0);
	assert_string_equal(err, "");
	assert_int_equal(list->n, n);
}

/* Split input, expecting failure with exactly the message want. */
static void
split_fail(const char *input, const char *want)
{
	struct split_list	list;
	char			err[128];

	assert_int_equal(split_commands(input, &list, err, sizeof err), -1);
	assert_string_equal(err, want);
	assert_int_equal(list.n, 0);
	assert_null(list.cmds);
}

static void
test_simple(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("start web; status", &list, 2);
	check_cmd(&list.cmds[0], 1, "start", "web", NULL);
	check_cmd(&list.cmds[1], 1, "status", NULL);
	split_free(&list);
	assert_int_equal(list.n, 0);
	assert_null(list.cmds);
}

static void
test_newlines(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("start web\nstop db\n\nstatus\n", &list, 3);
	check_cmd(&list.cmds[0], 1, "start", "web", NULL);
	check_cmd(&list.cmds[1], 2, "stop", "db", NULL);
	check_cmd(&list.cmds[2], 4, "status", NULL);
	split_free(&list);
}

static void
test_comments(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("# header; not a command\n"
	    "start web # trailing; 'unbalanced\n"
	    "   # indented\n"
	    "status#x a#b ''#c\n", &list, 2);
	check_cmd(&list.cmds[0], 2, "start", "web", NULL);
	check_cmd(&list.cmds[1], 4, "status#x", "a#b", "#c", NULL);
	split_free(&list);

	/* A comment runs to the end of the line, not past it. */
	split_ok("a #b\\\nc", &list, 2);
	check_cmd(&list.cmds[0], 1, "a", NULL);
	check_cmd(&list.cmds[1], 2, "c", NULL);
	split_free(&list);
}

static void
test_single_quotes(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("echo 'a; b # c' '\\n\"$x\\' d", &list, 1);
	check_cmd(&list.cmds[0], 1, "echo", "a; b # c", "\\n\"$x\\", "d",
	    NULL);
	split_free(&list);
}

static void
test_double_quotes(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("echo \"x;y\" \"#z\" \"a\\\"b\\\\c\\$d\\qe'f\"", &list, 1);
	check_cmd(&list.cmds[0], 1, "echo", "x;y", "#z", "a\"b\\c$d\\qe'f",
	    NULL);
	split_free(&list);

	/* Backslash-newline inside double quotes vanishes. */
	split_ok("echo \"ab\\\ncd\"\nnext", &list, 2);
	check_cmd(&list.cmds[0], 1, "echo", "abcd", NULL);
	check_cmd(&list.cmds[1], 3, "next", NULL);
	split_free(&list);
}

static void
test_escapes(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("a\\;b \\#c \\ d \\\\ \\'x\\\" e\\;", &list, 1);
	check_cmd(&list.cmds[0], 1, "a;b", "#c", " d", "\\", "'x\"", "e;",
	    NULL);
	split_free(&list);

	/* Backslash-newline outside quotes joins lines. */
	split_ok("start \\\nweb; sta\\\ntus\nx", &list, 3);
	check_cmd(&list.cmds[0], 1, "start", "web", NULL);
	check_cmd(&list.cmds[1], 2, "status", NULL);
	check_cmd(&list.cmds[2], 4, "x", NULL);
	split_free(&list);
}

static void
test_joined_words(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("a\"b c\"d 'x'y\"z\" p\\ q'r'", &list, 1);
	check_cmd(&list.cmds[0], 1, "ab cd", "xyz", "p qr", NULL);
	split_free(&list);
}

static void
test_empty_argument(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("set name '' \"\"x \"\" ''''", &list, 1);
	check_cmd(&list.cmds[0], 1, "set", "name", "", "x", "", "", NULL);
	split_free(&list);

	/* A command of only an empty argument is not empty. */
	split_ok("''", &list, 1);
	check_cmd(&list.cmds[0], 1, "", NULL);
	split_free(&list);
}

static void
test_blanks(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("  \t start \t\t web  \t ;\t status \r\n", &list, 2);
	check_cmd(&list.cmds[0], 1, "start", "web", NULL);
	check_cmd(&list.cmds[1], 1, "status", NULL);
	split_free(&list);
}

static void
test_empty_commands(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok(";;  ; \n\n# only a comment\n ;start;;\n;", &list, 1);
	check_cmd(&list.cmds[0], 4, "start", NULL);
	split_free(&list);

	split_ok("", &list, 0);
	assert_null(list.cmds);
	split_free(&list);
	split_ok(" \t\n;\n# x", &list, 0);
	split_free(&list);
}

static void
test_quoted_lines(void **state)
{
	struct split_list	list;

	(void)state;
	split_ok("echo 'a\nb'; x\ny \"1\n2\n3\" z\nw", &list, 4);
	check_cmd(&list.cmds[0], 1, "echo", "a\nb", NULL);
	check_cmd(&list.cmds[1], 2, "x", NULL);
	check_cmd(&list.cmds[2], 3, "y", "1\n2\n3", "z", NULL);
	check_cmd(&list.cmds[3], 6, "w", NULL);
	split_free(&list);
}

static void
test_unterminated_single(void **state)
{
	(void)state;
	split_fail("'", "line 1: unterminated single quote");
	split_fail("start web\nset x 'abc\ndef", "line 2: unterminated single quote");
	split_fail("a; b\n\nc 'it''s", "line 3: unterminated single quote");
}

static void
test_unterminated_double(void **state)
{
	(void)state;
	split_fail("\"", "line 1: unterminated double quote");
	split_fail("a\nb\n\"x\ny", "line 3: unterminated double quote");
	split_fail("echo \"abc\\\"", "line 1: unterminated double quote");
	split_fail("x\necho \"abc\\", "line 2: unterminated double quote");
}

static void
test_trailing_backslash(void **state)
{
	(void)state;
	split_fail("start web\\", "line 1: trailing backslash");
	split_fail("a\nb \\", "line 2: trailing backslash");
	split_fail("a\\\nb\\", "line 2: trailing backslash");
}

static void
test_error_buffer(void **state)
{
	struct split_list	list;
	char			err[8];

	(void)state;
	/* A short buffer is truncated and a NULL one is allowed. */
	memset(err, 'x', sizeof err);
	assert_int_equal(split_commands("a 'b", &list, err, sizeof err), -1);
	assert_string_equal(err, "line 1:");
	assert_int_equal(split_commands("a 'b", &list, NULL, 0), -1);
	assert_int_equal(split_commands("a \"b", &list, err, 1), -1);
	assert_string_equal(err, "");
}

static void
test_long_word(void **state)
{
	struct split_list	 list;
	char			*input, *word;
	size_t			 len = 100000, i;

	(void)state;
	word = malloc(len + 1);
	assert_non_null(word);
	for (i = 0; i < len; i++)
		word[i] = 'a' + i % 26;
	word[len] = '\0';
	input = malloc(len + 32);
	assert_non_null(input);
	snprintf(input, len + 32, "set \"%s\" x", word);
	split_ok(input, &list, 1);
	check_cmd(&list.cmds[0], 1, "set", word, "x", NULL);
	split_free(&list);
	free(input);
	free(word);
}

static void
test_many_words(void **state)
{
	struct split_list	 list;
	char			*input;
	size_t			 n = 5000, i;

	(void)state;
	input = malloc(n * 2 + 1);
	assert_non_null(input);
	for (i = 0; i < n; i++)
		memcpy(input + i * 2, (i % 100 == 99) ? "w;" : "w ", 2);
	input[n * 2] = '\0';
	split_ok(input, &list, n / 100);
	for (i = 0; i < list.n; i++) {
		assert_int_equal(list.cmds[i].argc, 100);
		assert_null(list.cmds[i].argv[100]);
	}
	split_free(&list);
	free(input);
}

static void
test_words(void **state)
{
	char	**argv, err[128];
	int	  argc;

	(void)state;
	assert_int_equal(split_words("bind x 'send-keys ;' a;b ; # c; d",
	    &argc, &argv, err, sizeof err), 0);
	assert_int_equal(argc, 5);
	assert_string_equal(argv[0], "bind");
	assert_string_equal(argv[1], "x");
	assert_string_equal(argv[2], "send-keys ;");
	assert_string_equal(argv[3], "a;b");
	assert_string_equal(argv[4], ";");
	assert_null(argv[5]);
	split_free_words(argc, argv);

	/* A newline is only a blank. */
	assert_int_equal(split_words("a\nb \"c\\\nd\"", &argc, &argv, err,
	    sizeof err), 0);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "b");
	assert_string_equal(argv[2], "cd");
	assert_null(argv[3]);
	split_free_words(argc, argv);

	assert_int_equal(split_words("  # nothing", &argc, &argv, err,
	    sizeof err), 0);
	assert_int_equal(argc, 0);
	assert_non_null(argv);
	assert_null(argv[0]);
	split_free_words(argc, argv);
}

static void
test_words_errors(void **state)
{
	char	**argv, err[128];
	int	  argc;

	(void)state;
	assert_int_equal(split_words("x\n'y", &argc, &argv, err, sizeof err),
	    -1);
	assert_string_equal(err, "unterminated single quote");
	assert_int_equal(argc, 0);
	assert_null(argv);
	assert_int_equal(split_words("x \"y", &argc, &argv, err, sizeof err),
	    -1);
	assert_string_equal(err, "unterminated double quote");
	assert_int_equal(split_words("x y\\", &argc, &argv, err, sizeof err),
	    -1);
	assert_string_equal(err, "trailing backslash");
}

static void
test_quote(void **state)
{
	static const char	*words[] = {
		"web", "", " ", "a b", "it's", "'", "''", "\"", "\"\\\"",
		"\\", "\\\\", "a\\", ";", "a;b", "#", "#x", "x#", "$HOME",
		"tab\there", "new\nline", "cr\r", "héllo wörld", "日本語",
		"emoji 🙂;#", "'\"'\"'", "--name=x,y:z@h/p.q%+", "~", "*?[]",
		"a'b\"c\\d;e#f g\th\ni",
	};
	struct split_list	 list;
	char			**argv, *q, *all = NULL, *tmp, err[128];
	int			  argc;
	size_t			  i, used = 0, n = sizeof words / sizeof words[0];

	(void)state;
	/* Plain words are left alone; others are single-quoted. */
	q = split_quote("web");
	assert_string_equal(q, "web");
	free(q);
	q = split_quote("");
	assert_string_equal(q, "''");
	free(q);
	q = split_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = split_quote("日本語");
	assert_string_equal(q, "日本語");
	free(q);

	for (i = 0; i < n; i++) {
		q = split_quote(words[i]);
		assert_int_equal(split_words(q, &argc, &argv, err, sizeof err),
		    0);
		assert_int_equal(argc, 1);
		assert_string_equal(argv[0], words[i]);
		assert_null(argv[1]);
		split_free_words(argc, argv);

		tmp = realloc(all, used + strlen(q) + 2);
		assert_non_null(tmp);
		all = tmp;
		used += (size_t)sprintf(all + used, "%s ", q);
		free(q);
	}

	/* All of them as one command through split_commands too. */
	split_ok(all, &list, 1);
	assert_int_equal(list.cmds[0].argc, (int)n);
	for (i = 0; i < n; i++)
		assert_string_equal(list.cmds[0].argv[i], words[i]);
	split_free(&list);
	free(all);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_newlines),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_single_quotes),
		cmocka_unit_test(test_double_quotes),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_joined_words),
		cmocka_unit_test(test_empty_argument),
		cmocka_unit_test(test_blanks),
		cmocka_unit_test(test_empty_commands),
		cmocka_unit_test(test_quoted_lines),
		cmocka_unit_test(test_unterminated_single),
		cmocka_unit_test(test_unterminated_double),
		cmocka_unit_test(test_trailing_backslash),
		cmocka_unit_test(test_error_buffer),
		cmocka_unit_test(test_long_word),
		cmocka_unit_test(test_many_words),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_words_errors),
		cmocka_unit_test(test_quote),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}

/*
 * Split batch input (`vmtop -c 'start web; status'`) into commands and words.
 *
 * The rules are a small subset of sh(1): blanks separate words; ';' and
 * newlines separate commands; single quotes are literal; inside double quotes
 * a backslash escapes '"', '\', '$' and newline and is otherwise kept;
 * outside quotes a backslash escapes any character, and backslash-newline
 * joins lines; an unquoted '#' at the start of a word begins a comment that
 * runs to the end of the line. Quoted and unquoted parts next to each other
 * form one word, and '' is an empty word. There is no expansion of any kind.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "xmalloc.h"

struct split_state {
	const char		 *p;
	int			  line;
	int			  multi;	/* ';' and newline end commands */
	char			 *err;
	size_t			  errlen;

	char			 *word;		/* word being built */
	size_t			  wlen;
	size_t			  wsize;
	int			  inword;

	char			**argv;		/* command being built */
	int			  argc;
	size_t			  argvsize;
	int			  cmdline;

	struct split_cmd	 *cmds;		/* finished commands */
	size_t			  n;
	size_t			  size;
};

static void	split_error(struct split_state *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Report an error at line; without the "line N: " prefix for split_words. */
static void
split_error(struct split_state *st, int line, const char *fmt, ...)
{
	va_list	ap;
	int	n = 0;

	if (st->err == NULL || st->errlen == 0)
		return;
	if (st->multi)
		n = snprintf(st->err, st->errlen, "line %d: ", line);
	if (n < 0 || (size_t)n >= st->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errlen - n, fmt, ap);
	va_end(ap);
}

static void
split_addch(struct split_state *st, char c)
{
	if (st->wlen + 1 >= st->wsize) {
		st->wsize = st->wsize == 0 ? 64 : st->wsize * 2;
		st->word = xreallocarray(st->word, st->wsize, 1);
	}
	st->word[st->wlen++] = c;
}

/* Mark that a word has begun, even if it stays empty (''). */
static void
split_startword(struct split_state *st)
{
	if (st->inword)
		return;
	st->inword = 1;
	st->wlen = 0;
	if (st->argc == 0)
		st->cmdline = st->line;
}

/* Move the word being built, if any, onto the command's argv. */
static int
split_endword(struct split_state *st)
{
	if (!st->inword)
		return (0);
	st->inword = 0;
	if (st->argc >= INT_MAX - 1) {
		split_error(st, st->line, "too many words");
		return (-1);
	}
	if ((size_t)st->argc + 2 > st->argvsize) {
		st->argvsize = st->argvsize == 0 ? 8 : st->argvsize * 2;
		st->argv = xreallocarray(st->argv, st->argvsize,
		    sizeof *st->argv);
	}
	st->argv[st->argc++] = xstrndup(st->word == NULL ? "" : st->word,
	    st->wlen);
	st->argv[st->argc] = NULL;
	return (0);
}

/* Finish the current command; an empty one is dropped. */
static int
split_endcmd(struct split_state *st)
{
	struct split_cmd	*cmd;

	if (split_endword(st) != 0)
		return (-1);
	if (st->argc == 0)
		return (0);
	if (st->n == st->size) {
		st->size = st->size == 0 ? 8 : st->size * 2;
		st->cmds = xreallocarray(st->cmds, st->size, sizeof *st->cmds);
	}
	cmd = &st->cmds[st->n++];
	cmd->argc = st->argc;
	cmd->argv = st->argv;
	cmd->line = st->cmdline;
	st->argv = NULL;
	st->argc = 0;
	st->argvsize = 0;
	return (0);
}

/* Read a single-quoted part; st->p is just past the opening quote. */
static int
split_single(struct split_state *st)
{
	int	start = st->line;

	for (;;) {
		switch (*st->p) {
		case '\0':
			split_error(st, start, "unterminated single quote");
			return (-1);
		case '\'':
			st->p++;
			return (0);
		case '\n':
			st->line++;
			break;
		}
		split_addch(st, *st->p++);
	}
}

/* Read a double-quoted part; st->p is just past the opening quote. */
static int
split_double(struct split_state *st)
{
	int	start = st->line;
	char	c;

	for (;;) {
		c = *st->p;
		if (c == '\0') {
			split_error(st, start, "unterminated double quote");
			return (-1);
		}
		st->p++;
		if (c == '"')
			return (0);
		if (c == '\n')
			st->line++;
		else if (c == '\\') {
			switch (*st->p) {
			case '"':
			case '\\':
			case '$':
				c = *st->p++;
				break;
			case '\n':
				st->line++;
				st->p++;
				continue;
			}
		}
		split_addch(st, c);
	}
}

/* Run the splitter over st->p to the end of the input. */
static int
split_run(struct split_state *st)
{
	char	c;

	for (;;) {
		c = *st->p;
		switch (c) {
		case '\0':
			return (split_endcmd(st));
		case '\n':
			if (split_endword(st) != 0)
				return (-1);
			if (st->multi && split_endcmd(st) != 0)
				return (-1);
			st->line++;
			st->p++;
			break;
		case ' ':
		case '\t':
		case '\r':
			if (split_endword(st) != 0)
				return (-1);
			st->p++;
			break;
		case '#':
			if (st->inword) {
				split_addch(st, *st->p++);
				break;
			}
			st->p += strcspn(st->p, "\n");
			break;
		case '\'':
			split_startword(st);
			st->p++;
			if (split_single(st) != 0)
				return (-1);
			break;
		case '"':
			split_startword(st);
			st->p++;
			if (split_double(st) != 0)
				return (-1);
			break;
		case '\\':
			if (st->p[1] == '\0') {
				split_error(st, st->line, "trailing backslash");
				return (-1);
			}
			if (st->p[1] == '\n') {
				st->line++;
				st->p += 2;
				break;
			}
			split_startword(st);
			split_addch(st, st->p[1]);
			st->p += 2;
			break;
		case ';':
			if (st->multi) {
				if (split_endcmd(st) != 0)
					return (-1);
				st->p++;
				break;
			}
			/* FALLTHROUGH */
		default:
			split_startword(st);
			split_addch(st, *st->p++);
			break;
		}
	}
}

static void
split_init(struct split_state *st, const char *input, int multi, char *err,
    size_t errlen)
{
	memset(st, 0, sizeof *st);
	st->p = input;
	st->line = 1;
	st->multi = multi;
	st->err = err;
	st->errlen = errlen;
	if (err != NULL && errlen != 0)
		err[0] = '\0';
}

/* Free whatever a failed or finished run still holds outside the result. */
static void
split_cleanup(struct split_state *st)
{
	free(st->word);
	split_free_words(st->argc, st->argv);
	st->word = NULL;
	st->argv = NULL;
	st->argc = 0;
}

int
split_commands(const char *input, struct split_list *list, char *err,
    size_t errlen)
{
	struct split_state	st;
	struct split_list	tmp;

	split_init(&st, input, 1, err, errlen);
	if (split_run(&st) != 0) {
		split_cleanup(&st);
		tmp.n = st.n;
		tmp.cmds = st.cmds;
		split_free(&tmp);
		list->n = 0;
		list->cmds = NULL;
		return (-1);
	}
	split_cleanup(&st);
	list->n = st.n;
	list->cmds = st.cmds;
	return (0);
}

void
split_free(struct split_list *list)
{
	size_t	i;

	for (i = 0; i < list->n; i++)
		split_free_words(list->cmds[i].argc, list->cmds[i].argv);
	free(list->cmds);
	list->n = 0;
	list->cmds = NULL;
}

int
split_words(const char *input, int *argc, char ***argv, char *err,
    size_t errlen)
{
	struct split_state	st;
	struct split_list	tmp;

	split_init(&st, input, 0, err, errlen);
	if (split_run(&st) != 0) {
		split_cleanup(&st);
		tmp.n = st.n;
		tmp.cmds = st.cmds;
		split_free(&tmp);
		*argc = 0;
		*argv = NULL;
		return (-1);
	}
	split_cleanup(&st);
	if (st.n == 0) {
		*argc = 0;
		*argv = xcalloc(1, sizeof **argv);
	} else {
		*argc = st.cmds[0].argc;
		*argv = st.cmds[0].argv;
	}
	free(st.cmds);
	return (0);
}

void
split_free_words(int argc, char **argv)
{
	int	i;

	if (argv == NULL)
		return;
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

/* Characters that never need quoting; bytes from 0x80 up (UTF-8) are safe too. */
static int
split_safe(unsigned char c)
{
	if (c >= 0x80)
		return (1);
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return (1);
	return (strchr("-_./:=@%+,", c) != NULL && c != '\0');
}

/*
 * Return word unchanged if it needs no quoting, otherwise in single quotes
 * with each ' written as '\''.
 */
char *
split_quote(const char *word)
{
	const char	*s;
	char		*out, *o;
	size_t		 len = 0;
	int		 plain = (*word != '\0');

	for (s = word; *s != '\0'; s++) {
		if (!split_safe((unsigned char)*s))
			plain = 0;
		len += (*s == '\'') ? 4 : 1;
	}
	if (plain)
		return (xstrdup(word));

	o = out = xmalloc(len + 3);
	*o++ = '\'';
	for (s = word; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *s;
	}
	*o++ = '\'';
	*o = '\0';
	return (out);
}

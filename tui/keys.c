/*
 * Keys and key bindings. A key is a Unicode character or a KEYC_* code,
 * perhaps with KEYC_META, named as tmux names them (q, C-l, M-x, Up,
 * PageDown, F1, Enter, Space). A binding maps a key to command text run
 * through the command table; keymaps are files of bind and unbind
 * commands, the three standard ones built in (keymaps.c), the user's
 * ~/.config/vmtop/keys read after them.
 */
#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui.h"
#include "paths.h"
#include "xmalloc.h"

static const struct {
	const char	*name;
	int		 key;
} keys_names[] = {
	{ "Up", KEYC_UP },
	{ "Down", KEYC_DOWN },
	{ "Left", KEYC_LEFT },
	{ "Right", KEYC_RIGHT },
	{ "PageUp", KEYC_PPAGE },
	{ "PgUp", KEYC_PPAGE },
	{ "PPage", KEYC_PPAGE },
	{ "PageDown", KEYC_NPAGE },
	{ "PgDn", KEYC_NPAGE },
	{ "NPage", KEYC_NPAGE },
	{ "Home", KEYC_HOME },
	{ "End", KEYC_END },
	{ "IC", KEYC_IC },
	{ "Insert", KEYC_IC },
	{ "DC", KEYC_DC },
	{ "Delete", KEYC_DC },
	{ "Enter", KEYC_ENTER },
	{ "Tab", KEYC_TAB },
	{ "BTab", KEYC_BTAB },
	{ "Escape", KEYC_ESCAPE },
	{ "Space", KEYC_SPACE },
	{ "BSpace", KEYC_BSPACE },
};

static struct key_binding	*keys_table;
static size_t			 keys_n;
static int			 keys_are_loaded;

/* Fold the characters that have names into their KEYC_* codes. */
static int
keys_normalize(int key)
{
	int meta = key & KEYC_META;

	switch (key & ~KEYC_META) {
	case '\r':
	case '\n':
		return meta | KEYC_ENTER;
	case '\t':
		return meta | KEYC_TAB;
	case 27:
		return meta | KEYC_ESCAPE;
	case ' ':
		return meta | KEYC_SPACE;
	case 8:
	case 127:
		return meta | KEYC_BSPACE;
	}
	return key;
}

/* Decode one UTF-8 character that is all of s; -1 if it is not. */
static int
keys_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int c, n, i;

	if (p[0] < 0x80)
		return p[1] == '\0' ? p[0] : -1;
	if ((p[0] & 0xe0) == 0xc0) {
		c = p[0] & 0x1f;
		n = 1;
	} else if ((p[0] & 0xf0) == 0xe0) {
		c = p[0] & 0x0f;
		n = 2;
	} else if ((p[0] & 0xf8) == 0xf0) {
		c = p[0] & 0x07;
		n = 3;
	} else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (p[n + 1] != '\0' || c >= KEYC_BASE)
		return -1;
	return c;
}

/* The key named by s, or KEYC_NONE. */
int
keys_from_string(const char *s)
{
	char *end;
	size_t i;
	long n;
	int c;

	if (strncmp(s, "M-", 2) == 0 && s[2] != '\0') {
		if ((c = keys_from_string(s + 2)) == KEYC_NONE ||
		    (c & KEYC_META))
			return KEYC_NONE;
		return c | KEYC_META;
	}
	if (strncmp(s, "C-", 2) == 0 && s[2] != '\0') {
		if (strcasecmp(s + 2, "Space") == 0 || strcmp(s + 2, "@") == 0)
			return 0;
		if (s[3] != '\0')
			return KEYC_NONE;
		c = (unsigned char)s[2];
		if (isalpha(c))
			return keys_normalize(tolower(c) & 0x1f);
		if (c == '?')
			return KEYC_BSPACE;
		if (strchr("[\\]^_", c) != NULL)
			return keys_normalize(c & 0x1f);
		return KEYC_NONE;
	}
	for (i = 0; i < sizeof keys_names / sizeof keys_names[0]; i++) {
		if (strcasecmp(s, keys_names[i].name) == 0)
			return keys_names[i].key;
	}
	if ((s[0] == 'F' || s[0] == 'f') && isdigit((unsigned char)s[1])) {
		n = strtol(s + 1, &end, 10);
		if (*end == '\0' && n >= 1 && n <= 12)
			return KEYC_F1 + n - 1;
		return KEYC_NONE;
	}
	if (s[0] == '\0' || (c = keys_utf8(s)) == -1 || c < 32)
		return KEYC_NONE;
	return keys_normalize(c);
}

/* Name key as keys_from_string reads it back. */
void
keys_to_string(int key, char *buf, size_t len)
{
	char tmp[16];
	size_t i;
	int c = key & ~KEYC_META;

	if (key & KEYC_META) {
		keys_to_string(c, tmp, sizeof tmp);
		snprintf(buf, len, "M-%s", tmp);
		return;
	}
	for (i = 0; i < sizeof keys_names / sizeof keys_names[0]; i++) {
		if (keys_names[i].key == c) {
			snprintf(buf, len, "%s", keys_names[i].name);
			return;
		}
	}
	if (c >= KEYC_F1 && c <= KEYC_F12)
		snprintf(buf, len, "F%d", c - KEYC_F1 + 1);
	else if (c == 0)
		snprintf(buf, len, "C-Space");
	else if (c < 27)
		snprintf(buf, len, "C-%c", 'a' + c - 1);
	else if (c < 32)
		snprintf(buf, len, "C-%c", "[\\]^_"[c - 27]);
	else if (c < 0x80)
		snprintf(buf, len, "%c", c);
	else if (c < 0x800)
		snprintf(buf, len, "%c%c", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
	else if (c < 0x10000)
		snprintf(buf, len, "%c%c%c", 0xe0 | (c >> 12),
		    0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
	else if (c < KEYC_BASE)
		snprintf(buf, len, "%c%c%c%c", 0xf0 | (c >> 18),
		    0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f),
		    0x80 | (c & 0x3f));
	else
		snprintf(buf, len, "unknown");
}

/* The key for what wget_wch returned (rv and its character). */
int
keys_from_curses(int rv, unsigned int wch)
{
	if (rv == OK)
		return wch < KEYC_BASE ? keys_normalize(wch) : KEYC_NONE;
	if (rv != KEY_CODE_YES)
		return KEYC_NONE;
	switch (wch) {
	case KEY_UP:
		return KEYC_UP;
	case KEY_DOWN:
		return KEYC_DOWN;
	case KEY_LEFT:
		return KEYC_LEFT;
	case KEY_RIGHT:
		return KEYC_RIGHT;
	case KEY_PPAGE:
		return KEYC_PPAGE;
	case KEY_NPAGE:
		return KEYC_NPAGE;
	case KEY_HOME:
	case KEY_A1:
		return KEYC_HOME;
	case KEY_END:
	case KEY_C1:
		return KEYC_END;
	case KEY_IC:
		return KEYC_IC;
	case KEY_DC:
		return KEYC_DC;
	case KEY_ENTER:
		return KEYC_ENTER;
	case KEY_BTAB:
		return KEYC_BTAB;
	case KEY_BACKSPACE:
		return KEYC_BSPACE;
	case KEY_RESIZE:
		return KEYC_RESIZE;
	}
	if (wch >= (unsigned int)KEY_F(1) && wch <= (unsigned int)KEY_F(12))
		return KEYC_F1 + (wch - KEY_F(1));
	return KEYC_NONE;
}

static int
keys_compare(const void *a, const void *b)
{
	const struct key_binding *ka = a, *kb = b;

	return (ka->key > kb->key) - (ka->key < kb->key);
}

const struct key_binding *
keys_find(int key)
{
	struct key_binding find;

	if (keys_n == 0)
		return NULL;
	find.key = key;
	return bsearch(&find, keys_table, keys_n, sizeof *keys_table,
	    keys_compare);
}

/* Bind key to cmd (command text), replacing what it was bound to. */
void
keys_bind(int key, const char *cmd, const char *note)
{
	struct key_binding *kb;

	keys_unbind(key);
	keys_table = xreallocarray(keys_table, keys_n + 1, sizeof *keys_table);
	kb = &keys_table[keys_n++];
	kb->key = key;
	kb->cmd = xstrdup(cmd);
	kb->note = note != NULL && *note != '\0' ? xstrdup(note) : NULL;
	qsort(keys_table, keys_n, sizeof *keys_table, keys_compare);
	keys_are_loaded = 1;
}

/* Remove key's binding; returns 0, or -1 if it had none. */
int
keys_unbind(int key)
{
	struct key_binding *kb;
	size_t i;

	if ((kb = (struct key_binding *)keys_find(key)) == NULL)
		return -1;
	i = kb - keys_table;
	free(kb->cmd);
	free(kb->note);
	memmove(kb, kb + 1, (keys_n - i - 1) * sizeof *kb);
	keys_n--;
	return 0;
}

void
keys_unbind_all(void)
{
	while (keys_n > 0)
		keys_unbind(keys_table[0].key);
}

/* Every binding, in key order. */
const struct key_binding *
keys_list(size_t *n)
{
	*n = keys_n;
	return keys_table;
}

int
keys_loaded(void)
{
	return keys_are_loaded;
}

/*
 * Run the bind and unbind commands in text, from origin (a file name).
 * Every command is tried. Return values: the number of errors, with the
 * first as "origin:line: error" in err.
 */
int
keys_load_text(struct cmd_ctx *ctx, const char *text, const char *origin,
    char *err, size_t errlen)
{
	struct split_list list;
	const struct cmd_entry *e;
	char msg[256];
	size_t i;
	int errors = 0;

	keys_are_loaded = 1;
	if (split_commands(text, &list, msg, sizeof msg) == -1) {
		snprintf(err, errlen, "%s: %s", origin, msg);
		return 1;
	}
	for (i = 0; i < list.n; i++) {
		e = cmd_find(list.cmds[i].argv[0], msg, sizeof msg);
		if (e != NULL && strcmp(e->name, "bind") != 0 &&
		    strcmp(e->name, "unbind") != 0) {
			snprintf(msg, sizeof msg, "only bind and unbind "
			    "belong in a key file, not %s", e->name);
			e = NULL;
		}
		if (e != NULL && cmd_run(ctx, list.cmds[i].argc,
		    list.cmds[i].argv) == CMD_RETURN_NORMAL)
			continue;
		if (errors++ == 0)
			snprintf(err, errlen, "%s:%d: %s", origin,
			    list.cmds[i].line, e != NULL ? ctx->error : msg);
	}
	split_free(&list);
	return errors;
}

/* Read a whole file (malloc'd), or NULL with errno set. */
static char *
keys_read_file(const char *path)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, n;
	char buf[4096];

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		text = xreallocarray(text, len + n + 1, 1);
		memcpy(text + len, buf, n);
		len += n;
	}
	if (ferror(f)) {
		fclose(f);
		free(text);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	if (text == NULL)
		text = xstrdup("");
	else
		text[len] = '\0';
	return text;
}

/*
 * Load the bindings: the built-in default keymap, then keymap (a built-in
 * name or a file path) on top of it, then the user's keys file. Return
 * values: the number of errors, the first in err.
 */
int
keys_load(struct cmd_ctx *ctx, const char *keymap, char *err, size_t errlen)
{
	const char *text;
	char *dir, *path, *file, first[512];
	int errors = 0, n;

	err[0] = '\0';
	keys_unbind_all();
	errors += keys_load_text(ctx, keymaps_find("default"),
	    "default.keys", err, errlen);
	if (keymap != NULL && strcmp(keymap, "default") != 0) {
		first[0] = '\0';
		if (strchr(keymap, '/') != NULL) {
			if ((file = keys_read_file(keymap)) == NULL) {
				snprintf(first, sizeof first, "%s: %s", keymap,
				    strerror(errno));
				n = 1;
			} else {
				n = keys_load_text(ctx, file, keymap, first,
				    sizeof first);
				free(file);
			}
		} else if ((text = keymaps_find(keymap)) == NULL) {
			snprintf(first, sizeof first, "no keymap %s (there "
			    "are default, vi and emacs, or give a path)",
			    keymap);
			n = 1;
		} else {
			xasprintf(&path, "%s.keys", keymap);
			n = keys_load_text(ctx, text, path, first,
			    sizeof first);
			free(path);
		}
		if (n > 0 && errors == 0)
			snprintf(err, errlen, "%s", first);
		errors += n;
	}

	dir = paths_user_configdir();
	xasprintf(&path, "%s/keys", dir);
	free(dir);
	if ((file = keys_read_file(path)) != NULL) {
		first[0] = '\0';
		n = keys_load_text(ctx, file, path, first, sizeof first);
		if (n > 0 && errors == 0)
			snprintf(err, errlen, "%s", first);
		errors += n;
		free(file);
	} else if (errno != ENOENT) {
		if (errors++ == 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
	}
	free(path);
	return errors;
}

/* Replace every %% in word with name (malloc'd). */
char *
keys_expand(const char *word, const char *name)
{
	const char *p;
	char *out;
	size_t len = 0, nlen = strlen(name);

	for (p = word; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == '%') {
			len += nlen;
			p++;
		} else
			len++;
	}
	out = xmalloc(len + 1);
	for (len = 0, p = word; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == '%') {
			memcpy(out + len, name, nlen);
			len += nlen;
			p++;
		} else
			out[len++] = *p;
	}
	out[len] = '\0';
	return out;
}

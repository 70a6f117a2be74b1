/* Batch-command splitter: shell-style quoting for `vmtop -c` and key bindings. */
#ifndef SPLIT_H
#define SPLIT_H

#include <stddef.h>

struct split_cmd {
	int	  argc;
	char	**argv;		/* argc words, then NULL */
	int	  line;		/* 1-based line where the command starts */
};

struct split_list {
	size_t			 n;
	struct split_cmd	*cmds;
};

/*
 * Split input into commands separated by ';' or newlines; empty commands are
 * skipped. Return values: 0 with list filled (free it with split_free), or -1
 * with list empty and a message like "line 2: unterminated double quote" in
 * err.
 */
int	 split_commands(const char *input, struct split_list *list, char *err,
	     size_t errlen);
void	 split_free(struct split_list *list);

/*
 * Split one command into words with the same quoting rules; ';' is an
 * ordinary character and a newline is a blank. Return values: 0 with argc and
 * a NULL-terminated argv (free with split_free_words; argc may be 0), or -1
 * with a message without a line prefix in err.
 */
int	 split_words(const char *input, int *argc, char ***argv, char *err,
	     size_t errlen);
void	 split_free_words(int argc, char **argv);

/* Quote a word so split_words gives it back unchanged; the result is malloc'd. */
char	*split_quote(const char *word);

#endif

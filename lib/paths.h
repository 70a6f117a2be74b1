/* Where vmtop keeps its socket, config and state, as user or as root. */
#ifndef PATHS_H
#define PATHS_H

#include <stddef.h>

/* Each returns a malloc'd path following DESIGN.md's table. */
char	*paths_socket(void);
char	*paths_config(void);
char	*paths_statedir(void);
char	*paths_logdir(void);
char	*paths_user_configdir(void);
/* Create dir and its parents with mode; returns -1 and sets errno. */
int	 paths_mkdirs(const char *dir, int mode);
/* The directory the running executable is in (malloc'd), or NULL. */
char	*paths_exedir(void);

#endif

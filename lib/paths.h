/* Where vmtop keeps its socket, config and state, as user or as root. */
#ifndef PATHS_H
#define PATHS_H

#include <stddef.h>

/* Each returns a malloc'd path following DESIGN.md's table. */
char	*paths_socket(void);
/*
 * The fallback socket folder, /tmp/vmtop-UID, if socket is in it: made
 * 0700 if missing, else it must be ours, a folder (not a link) and 0700.
 * Returns 0, or -1 with a sentence in err.
 */
int	 paths_socket_check(const char *socket, char *err, size_t errlen);
char	*paths_config(void);
char	*paths_statedir(void);
char	*paths_logdir(void);
char	*paths_user_configdir(void);
/* Create dir and its parents with mode; returns -1 and sets errno. */
int	 paths_mkdirs(const char *dir, int mode);
/* The directory the running executable is in (malloc'd), or NULL. */
char	*paths_exedir(void);

#endif

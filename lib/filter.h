/* Loading a seccomp filter, as the sandboxed runner and helpers do. */
#ifndef FILTER_H
#define FILTER_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

/*
 * Load ctx unless building it failed (rv, the rules' ORed results, is not
 * 0), and release it either way. Returns 0, or -1 with a sentence in err.
 */
int	filter_load(scmp_filter_ctx ctx, int rv, char *err, size_t errlen);

/*
 * Add one rule per fcntl command of cmds, taking action for it. Returns
 * the rules' ORed results (0 when every rule was added).
 */
int	filter_fcntl(scmp_filter_ctx ctx, uint32_t action, const int *cmds,
	    size_t n);

#endif

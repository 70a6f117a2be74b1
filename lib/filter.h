/* Loading a seccomp filter, as the sandboxed runner and helpers do. */
#ifndef FILTER_H
#define FILTER_H

#include <stddef.h>

#include <seccomp.h>

/*
 * Load ctx unless building it failed (rv, the rules' ORed results, is not
 * 0), and release it either way. Returns 0, or -1 with a sentence in err.
 */
int	filter_load(scmp_filter_ctx ctx, int rv, char *err, size_t errlen);

#endif

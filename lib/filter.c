/* Loading a seccomp filter, as the sandboxed runner and helpers do. */
#include <stdio.h>
#include <string.h>

#include "filter.h"

int
filter_load(scmp_filter_ctx ctx, int rv, char *err, size_t errlen)
{
	if (rv != 0) {
		snprintf(err, errlen, "seccomp: building the filter failed");
		seccomp_release(ctx);
		return -1;
	}
	if ((rv = seccomp_load(ctx)) != 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(-rv));
		seccomp_release(ctx);
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

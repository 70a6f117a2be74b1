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

int
filter_fcntl(scmp_filter_ctx ctx, uint32_t action, const int *cmds, size_t n)
{
	size_t i;
	int rv = 0;

	for (i = 0; i < n; i++)
		rv |= seccomp_rule_add(ctx, action, SCMP_SYS(fcntl), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)cmds[i], 0));
	return rv;
}

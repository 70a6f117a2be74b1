/*
 * The full-screen dashboard. This version does not have it yet: `vmtop`
 * without -c prints the status table once and says so. The dashboard
 * replaces this file.
 */
#include <stdio.h>

#include "cmd.h"

/* Run the dashboard; returns the exit status. */
int
dashboard_main(struct cmd_ctx *ctx)
{
	fprintf(stderr, "vmtop: the full-screen dashboard is not built in "
	    "this version; this is `vmtop -c status`\n");
	return batch_run(ctx, "status");
}

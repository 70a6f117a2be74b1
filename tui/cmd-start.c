/*
 * start NAME [options]: start a VM from its config block, or ad hoc with
 * the options given here (they override the config's). Relative paths are
 * made absolute against the client's directory, since the engine's is not
 * the same, before they go into a struct proto_start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "size.h"

static enum cmd_retval	cmd_start_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.alias = NULL,
	.args = "B:a:d:i:k:m:p:r:",
	.min_args = 1,
	.max_args = 1,
	.usage = "NAME [-m SIZE] [-p VCPUS] [-k KERNEL] [-i INITRD] "
	    "[-d DISK]... [-r ISO] [-B disk|cdrom] [-a CMDLINE]",
	.exec = cmd_start_exec,
	.needs_engine = 1
};

/* Make a path option absolute into buf; returns 0 or -1 with the error. */
static int
cmd_start_path(struct cmd_ctx *ctx, const char *name, const char *what,
    const char *path, char *buf, size_t len)
{
	if (cmd_abspath(path, buf, len) == 0)
		return 0;
	if (errno == EINVAL)
		cmd_error(ctx, "cannot start %s: the %s path is empty", name,
		    what);
	else if (errno == ENAMETOOLONG)
		cmd_error(ctx, "cannot start %s: the %s path %.40s... is too "
		    "long", name, what, path);
	else
		cmd_error(ctx, "cannot start %s: cannot find the current "
		    "directory for the %s path %s: %s", name, what, path,
		    strerror(errno));
	return -1;
}

/*
 * Fill ps from the running command's options. Return values: 0, or -1
 * with an error that names the VM.
 */
int
cmd_start_fill(struct cmd_ctx *ctx, const char *name, struct proto_start *ps)
{
	struct proto_name pn;
	const char *v;
	char *end;
	long n;
	int i;

	memset(ps, 0, sizeof *ps);
	if (cmd_fill_name(ctx, name, &pn) == -1)
		return -1;
	memcpy(ps->name, pn.name, sizeof ps->name);

	if ((v = cmd_value(ctx, 'm')) != NULL &&
	    size_parse(v, SIZE_MIB, &ps->memory) == -1) {
		if (errno == ERANGE)
			cmd_error(ctx, "cannot start %s: the memory size %s "
			    "is too big", name, v);
		else
			cmd_error(ctx, "cannot start %s: invalid memory size "
			    "%s (use a number with K, M or G)", name, v);
		return -1;
	}
	if ((v = cmd_value(ctx, 'p')) != NULL) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0 || n < 1 ||
		    n > VM_MAX_VCPUS) {
			cmd_error(ctx, "cannot start %s: invalid number of "
			    "vCPUs %s (1 to %d)", name, v, VM_MAX_VCPUS);
			return -1;
		}
		ps->vcpus = n;
	}
	if ((v = cmd_value(ctx, 'k')) != NULL && cmd_start_path(ctx, name,
	    "kernel", v, ps->kernel, sizeof ps->kernel) == -1)
		return -1;
	if ((v = cmd_value(ctx, 'i')) != NULL && cmd_start_path(ctx, name,
	    "initrd", v, ps->initrd, sizeof ps->initrd) == -1)
		return -1;
	if ((v = cmd_value(ctx, 'r')) != NULL && cmd_start_path(ctx, name,
	    "ISO image", v, ps->cdrom, sizeof ps->cdrom) == -1)
		return -1;
	if ((v = cmd_value(ctx, 'B')) != NULL) {
		if (strcmp(v, "disk") == 0)
			ps->boot = BOOT_DISK;
		else if (strcmp(v, "cdrom") == 0)
			ps->boot = BOOT_CDROM;
		else {
			cmd_error(ctx, "cannot start %s: invalid boot device "
			    "%s (use disk or cdrom)", name, v);
			return -1;
		}
	}
	if ((v = cmd_value(ctx, 'a')) != NULL) {
		if (strlen(v) >= sizeof ps->cmdline) {
			cmd_error(ctx, "cannot start %s: the kernel command "
			    "line is too long (at most %zu bytes)", name,
			    sizeof ps->cmdline - 1);
			return -1;
		}
		memcpy(ps->cmdline, v, strlen(v) + 1);
	}
	for (i = 0; i < ctx->nopts; i++) {
		if (ctx->opts[i].flag != 'd')
			continue;
		if (ps->ndisks == VM_MAX_DISKS) {
			cmd_error(ctx, "cannot start %s: too many disks (at "
			    "most %d)", name, VM_MAX_DISKS);
			return -1;
		}
		if (cmd_start_path(ctx, name, "disk", ctx->opts[i].value,
		    ps->disks[ps->ndisks], sizeof ps->disks[0]) == -1)
			return -1;
		ps->ndisks++;
	}
	return 0;
}

/*
 * The engine answers a start once the VM is ready (or has failed). Sent
 * again to a new engine, it is refused if the VM runs: started all the
 * same, by the engine that went away.
 */
static enum cmd_retval
cmd_start_ready(struct cmd_ctx *ctx, struct msg *m)
{
	cmd_retry_done(ctx, m, ctx->argv[0], CMD_STATES_UP);
	return cmd_ok_result(ctx, m, "%s is running", ctx->argv[0]);
}

static enum cmd_retval
cmd_start_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_start ps;

	(void)argc;
	if (cmd_start_fill(ctx, argv[0], &ps) == -1)
		return CMD_RETURN_ERROR;
	ctx->req_retries = CMD_RETRY_TRIES;
	return cmd_request(ctx, MSG_CMD_START, &ps, sizeof ps,
	    cmd_start_ready);
}

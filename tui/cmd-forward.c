/*
 * forward NAME RULE and unforward NAME RULE: add a host forward to a
 * running VM's user-mode interface, and remove one, through its
 * vmtop-slirp: [tcp|udp:][HOSTADDR:]HOSTPORT-[GUESTADDR]:GUESTPORT, on
 * 127.0.0.1 unless it names an address. -i picks the interface (the
 * first user-mode one by default). The rules last until the VM stops;
 * show lists them beside vm.conf's.
 */
#include <stdlib.h>
#include <string.h>

#include "tui.h"

static enum cmd_retval	cmd_forward_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_forward_entry = {
	.name = "forward",
	.alias = NULL,
	.args = "i:",
	.min_args = 2,
	.max_args = 2,
	.usage = "[-i INTERFACE] NAME [tcp|udp:][HOSTADDR:]HOSTPORT-"
	    "[GUESTADDR]:GUESTPORT",
	.exec = cmd_forward_exec,
	.needs_engine = 1
};

const struct cmd_entry cmd_unforward_entry = {
	.name = "unforward",
	.alias = NULL,
	.args = "i:",
	.min_args = 2,
	.max_args = 2,
	.usage = "[-i INTERFACE] NAME [tcp|udp:][HOSTADDR:]HOSTPORT",
	.exec = cmd_forward_exec,
	.needs_engine = 1
};

static enum cmd_retval
cmd_forward_done(struct cmd_ctx *ctx, struct msg *m)
{
	return cmd_ok_result(ctx, m, "%s: %s %s", ctx->argv[0],
	    ctx->entry == &cmd_forward_entry ? "forwarding" :
	    "no longer forwarding", ctx->argv[1]);
}

static enum cmd_retval
cmd_forward_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_forward	 f;
	struct proto_name	 pn;
	const char		*nic;
	char			*end;
	unsigned long		 n;

	(void)argc;
	if (cmd_fill_name(ctx, argv[0], &pn) == -1)
		return CMD_RETURN_ERROR;
	memset(&f, 0, sizeof f);
	memcpy(f.name, pn.name, sizeof f.name);
	f.nic = FORWARD_ANY_NIC;
	if ((nic = cmd_value(ctx, 'i')) != NULL) {
		n = strtoul(nic, &end, 10);
		if (*nic < '0' || *nic > '9' || *end != '\0' ||
		    n >= VM_MAX_NICS)
			return cmd_error(ctx, "vm %s: interface %s: not a "
			    "number from 0 to %d", argv[0], nic,
			    VM_MAX_NICS - 1);
		f.nic = n;
	}
	if (strlen(argv[1]) >= sizeof f.rule)
		return cmd_error(ctx, "vm %s: the rule %.20s... is too long "
		    "(at most %zu characters)", argv[0], argv[1],
		    sizeof f.rule - 1);
	memcpy(f.rule, argv[1], strlen(argv[1]));
	return cmd_request(ctx, ctx->entry == &cmd_forward_entry ?
	    MSG_CMD_FORWARD : MSG_CMD_UNFORWARD, &f, sizeof f,
	    cmd_forward_done);
}

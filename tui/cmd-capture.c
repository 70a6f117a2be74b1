/*
 * capture NAME: write the VM's last console output, as the engine kept it,
 * to the output unchanged (it is the guest's bytes, not text to clean).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"
#include "msg.h"

static enum cmd_retval	cmd_capture_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_capture_entry = {
	.name = "capture",
	.alias = NULL,
	.args = "",
	.min_args = 1,
	.max_args = 1,
	.usage = "NAME",
	.exec = cmd_capture_exec,
	.needs_engine = 1
};

/* What a capture request is answered with. */
static const struct msg_handler cmd_capture_replies[] = {
	{ MSG_CAPTURE_DATA, "capture data", 0, MSG_MAX_PAYLOAD, NULL },
	{ MSG_END, "end", 0, 0, NULL },
};

/* Copy the data until MSG_END, reading it all even if writing fails. */
static enum cmd_retval
cmd_capture_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_name pn;
	const struct msg_handler *h;
	struct msg m;
	int error = 0;

	(void)argc;
	if (cmd_fill_name(ctx, argv[0], &pn) == -1 ||
	    cmd_send(ctx, MSG_CMD_CAPTURE, &pn, sizeof pn) == -1)
		return CMD_RETURN_ERROR;
	for (;;) {
		if ((h = cmd_recv_expect(ctx, cmd_capture_replies,
		    sizeof cmd_capture_replies / sizeof cmd_capture_replies[0],
		    &m)) == NULL)
			return CMD_RETURN_ERROR;
		if (h->type == MSG_END)
			break;
		if (m.hdr.len > 0 && error == 0 &&
		    fwrite(m.data, 1, m.hdr.len, ctx->out) != m.hdr.len)
			error = errno != 0 ? errno : EIO;
		msg_clear(&m);
	}
	msg_clear(&m);
	if (error != 0)
		return cmd_error(ctx, "cannot write the console output of "
		    "%s: %s", argv[0], strerror(error));
	return CMD_RETURN_NORMAL;
}

/*
 * list (alias status) [NAME]: the VMs as a table, with the reason under
 * each failed VM, or with -j one JSON object per VM per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"
#include "msg.h"
#include "size.h"
#include "xmalloc.h"

static enum cmd_retval	cmd_list_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.alias = "status",
	.args = "",
	.min_args = 0,
	.max_args = 1,
	.usage = "[NAME]",
	.exec = cmd_list_exec,
	.needs_engine = 1
};

enum cmd_list_column {
	COL_ID,
	COL_NAME,
	COL_STATE,
	COL_VCPUS,
	COL_MEMORY,
	COL_OWNER,
	COL_TTY,
	COL_UPTIME,
	COL_COUNT
};

static const struct {
	const char	*title;
	int		 right;		/* right-aligned */
} cmd_list_columns[COL_COUNT] = {
	{ "ID", 1 },
	{ "NAME", 0 },
	{ "STATE", 0 },
	{ "VCPUS", 1 },
	{ "MEMORY", 1 },
	{ "OWNER", 0 },
	{ "TTY", 0 },
	{ "UPTIME", 0 },
};

/* Terminate the strings of an info from the engine before they are used. */
void
cmd_list_sanitize(struct proto_vm_info *vi)
{
	vi->name[sizeof vi->name - 1] = '\0';
	vi->tty[sizeof vi->tty - 1] = '\0';
	vi->owner[sizeof vi->owner - 1] = '\0';
	vi->reason[sizeof vi->reason - 1] = '\0';
}

/* Print every field of an info as JSON members, without the braces. */
void
cmd_list_json_fields(FILE *f, const struct proto_vm_info *vi)
{
	const struct proto_stats *st = &vi->stats;

	fprintf(f, "\"id\":%u,\"name\":", vi->id);
	format_json_string(f, vi->name);
	fprintf(f, ",\"state\":\"%s\",\"tty\":",
	    proto_state_name(vi->state));
	format_json_string(f, vi->tty);
	fprintf(f, ",\"owner\":");
	format_json_string(f, vi->owner);
	fprintf(f, ",\"memory\":%llu,\"vcpus\":%u,\"uid\":%u,\"pid\":%d,"
	    "\"restarts\":%u,\"flags\":%u,\"enabled\":%s,\"adhoc\":%s,"
	    "\"owned\":%s,\"adopted\":%s,\"changed\":%s,\"started\":%lld,"
	    "\"reason\":",
	    (unsigned long long)vi->memory, vi->vcpus, vi->uid, vi->pid,
	    vi->restarts, vi->flags,
	    (vi->flags & VMINFO_ENABLED) ? "true" : "false",
	    (vi->flags & VMINFO_ADHOC) ? "true" : "false",
	    (vi->flags & VMINFO_OWNED) ? "true" : "false",
	    (vi->flags & VMINFO_ADOPTED) ? "true" : "false",
	    (vi->flags & VMINFO_CHANGED) ? "true" : "false",
	    (long long)vi->started);
	format_json_string(f, vi->reason);
	fprintf(f, ",\"stats\":{\"cpu_ns\":%llu,\"exits\":%llu,"
	    "\"disk_rd_bytes\":%llu,\"disk_wr_bytes\":%llu,"
	    "\"disk_rd_reqs\":%llu,\"disk_wr_reqs\":%llu,"
	    "\"net_rx_bytes\":%llu,\"net_tx_bytes\":%llu,"
	    "\"net_rx_packets\":%llu,\"net_tx_packets\":%llu,"
	    "\"rss_bytes\":%llu},\"stats_time_ns\":%llu",
	    (unsigned long long)st->cpu_ns, (unsigned long long)st->exits,
	    (unsigned long long)st->disk_rd_bytes,
	    (unsigned long long)st->disk_wr_bytes,
	    (unsigned long long)st->disk_rd_reqs,
	    (unsigned long long)st->disk_wr_reqs,
	    (unsigned long long)st->net_rx_bytes,
	    (unsigned long long)st->net_tx_bytes,
	    (unsigned long long)st->net_rx_packets,
	    (unsigned long long)st->net_tx_packets,
	    (unsigned long long)st->rss_bytes,
	    (unsigned long long)vi->stats_time_ns);
}

/* The table cells of one VM, each malloc'd and safe to print. */
static void
cmd_list_cells(const struct proto_vm_info *vi, time_t now, char **cells)
{
	char buf[64];
	const char *tty;
	int i;

	xasprintf(&cells[COL_ID], "%u", vi->id);
	cells[COL_NAME] = xstrdup(vi->name);
	cells[COL_STATE] = xstrdup(proto_state_name(vi->state));
	xasprintf(&cells[COL_VCPUS], "%u", vi->vcpus);
	size_format(vi->memory, buf, sizeof buf);
	cells[COL_MEMORY] = xstrdup(buf);
	cells[COL_OWNER] = xstrdup(vi->owner[0] != '\0' ? vi->owner : "-");
	tty = vi->tty;
	if (strncmp(tty, "/dev/", 5) == 0)
		tty += 5;
	cells[COL_TTY] = xstrdup(*tty != '\0' ? tty : "-");
	switch (vi->state) {
	case VM_STARTING:
	case VM_RUNNING:
	case VM_PAUSED:
	case VM_STOPPING:
		if (vi->started > 0) {
			format_duration(now - vi->started, buf,
			    sizeof buf);
			cells[COL_UPTIME] = xstrdup(buf);
			break;
		}
		/* FALLTHROUGH */
	default:
		cells[COL_UPTIME] = xstrdup("-");
		break;
	}
	for (i = 0; i < COL_COUNT; i++)
		format_clean(cells[i]);
}

static void
cmd_list_row(FILE *f, char **cells, const size_t *width)
{
	int i;

	for (i = 0; i < COL_COUNT; i++) {
		if (i > 0)
			fputs("  ", f);
		if (cmd_list_columns[i].right)
			fprintf(f, "%*s", (int)width[i], cells[i]);
		else if (i == COL_COUNT - 1)
			fputs(cells[i], f);
		else
			fprintf(f, "%-*s", (int)width[i], cells[i]);
	}
	fputc('\n', f);
}

/* Print the table: columns as wide as their widest cell. */
static void
cmd_list_table(FILE *f, const struct proto_vm_info *vms, size_t n)
{
	char **cells, *reason;
	size_t width[COL_COUNT], i, len;
	const char *titles[COL_COUNT];
	time_t now = time(NULL);
	int c;

	cells = xcalloc(n + 1, COL_COUNT * sizeof *cells);
	for (c = 0; c < COL_COUNT; c++)
		width[c] = strlen(cmd_list_columns[c].title);
	for (i = 0; i < n; i++) {
		cmd_list_cells(&vms[i], now, cells + i * COL_COUNT);
		for (c = 0; c < COL_COUNT; c++) {
			len = strlen(cells[i * COL_COUNT + c]);
			if (len > width[c])
				width[c] = len;
		}
	}
	for (c = 0; c < COL_COUNT; c++)
		titles[c] = cmd_list_columns[c].title;
	cmd_list_row(f, (char **)titles, width);
	for (i = 0; i < n; i++) {
		cmd_list_row(f, cells + i * COL_COUNT, width);
		if (vms[i].state == VM_FAILED && vms[i].reason[0] != '\0') {
			reason = xstrdup(vms[i].reason);
			format_clean(reason);
			fprintf(f, "  reason: %s\n", reason);
			free(reason);
		}
	}
	for (i = 0; i < n * COL_COUNT; i++)
		free(cells[i]);
	free(cells);
}

/* What a list request is answered with. */
static const struct msg_handler cmd_list_replies[] = {
	{ MSG_VM_INFO, "vm info", sizeof(struct proto_vm_info), 0, NULL },
	{ MSG_END, "end", 0, 0, NULL },
};
#define CMD_LIST_NREPLIES (sizeof cmd_list_replies / sizeof cmd_list_replies[0])

static enum cmd_retval
cmd_list_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_name pn;
	struct proto_vm_info *vms = NULL;
	const struct msg_handler *h;
	struct msg m;
	size_t n = 0, i;

	if (cmd_fill_name(ctx, argc > 0 ? argv[0] : "", &pn) == -1 ||
	    cmd_send(ctx, MSG_CMD_LIST, &pn, sizeof pn) == -1)
		return CMD_RETURN_ERROR;
	for (;;) {
		if ((h = cmd_recv_expect(ctx, cmd_list_replies,
		    CMD_LIST_NREPLIES, &m)) == NULL)
			goto fail;
		if (h->type == MSG_END) {
			msg_clear(&m);
			break;
		}
		vms = xreallocarray(vms, n + 1, sizeof *vms);
		memcpy(&vms[n], m.data, sizeof *vms);
		cmd_list_sanitize(&vms[n]);
		n++;
		msg_clear(&m);
	}

	if (ctx->json) {
		for (i = 0; i < n; i++) {
			fputc('{', ctx->out);
			cmd_list_json_fields(ctx->out, &vms[i]);
			fputs("}\n", ctx->out);
		}
	} else
		cmd_list_table(ctx->out, vms, n);
	free(vms);
	return CMD_RETURN_NORMAL;

fail:
	free(vms);
	return CMD_RETURN_ERROR;
}

/*
 * Ask the engine for one VM's info. Return values: 0 with *vi filled, or
 * -1 with the error set (the engine's "no such vm" among them).
 */
int
cmd_list_one(struct cmd_ctx *ctx, const char *name, struct proto_vm_info *vi)
{
	struct proto_name pn;
	const struct msg_handler *h;
	struct msg m;
	int have = 0;

	if (cmd_fill_name(ctx, name, &pn) == -1 ||
	    cmd_send(ctx, MSG_CMD_LIST, &pn, sizeof pn) == -1)
		return -1;
	for (;;) {
		if ((h = cmd_recv_expect(ctx, cmd_list_replies,
		    CMD_LIST_NREPLIES, &m)) == NULL)
			return -1;
		if (h->type == MSG_END && have) {
			msg_clear(&m);
			return 0;
		}
		if (h->type != MSG_VM_INFO || have) {
			cmd_bad_reply(ctx, &m);
			return -1;
		}
		memcpy(vi, m.data, sizeof *vi);
		cmd_list_sanitize(vi);
		have = 1;
		msg_clear(&m);
	}
}

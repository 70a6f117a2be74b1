/*
 * show NAME: one VM in full, as `key: value` lines: its state, then the
 * engine's MSG_VM_DETAIL lines (paths, NICs, rules). With -j, one JSON
 * object with the details as an array of {"key", "value"} pairs, since a
 * key (a disk, a NIC) may repeat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"
#include "msg.h"
#include "size.h"
#include "xmalloc.h"

static enum cmd_retval	cmd_show_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.alias = NULL,
	.args = "",
	.min_args = 1,
	.max_args = 1,
	.usage = "NAME",
	.exec = cmd_show_exec,
	.needs_engine = 1
};

/* Print one `key: value` line with the value made safe for a terminal. */
static void
cmd_show_line(FILE *f, const char *key, const char *value)
{
	char *v;

	v = xstrdup(value);
	format_clean(v);
	fprintf(f, "%s: %s\n", key, v);
	free(v);
}

static void
cmd_show_bytes(FILE *f, const char *key, uint64_t bytes, uint64_t count,
    const char *what)
{
	char size[32], line[96];

	size_format(bytes, size, sizeof size);
	snprintf(line, sizeof line, "%s in %llu %s", size,
	    (unsigned long long)count, what);
	cmd_show_line(f, key, line);
}

static void
cmd_show_text(FILE *f, const struct proto_vm_info *vi,
    const struct proto_detail *details, size_t n)
{
	const struct proto_stats *st = &vi->stats;
	char buf[128];
	struct tm tm;
	time_t t;
	size_t i;

	cmd_show_line(f, "name", vi->name);
	fprintf(f, "id: %u\n", vi->id);
	cmd_show_line(f, "state", proto_state_name(vi->state));
	if (vi->reason[0] != '\0')
		cmd_show_line(f, "reason", vi->reason);
	fprintf(f, "vcpus: %u\n", vi->vcpus);
	size_format(vi->memory, buf, sizeof buf);
	cmd_show_line(f, "memory", buf);
	if (vi->owner[0] != '\0') {
		snprintf(buf, sizeof buf, "%s (uid %u)", vi->owner, vi->uid);
		cmd_show_line(f, "owner", buf);
	}
	if (vi->tty[0] != '\0')
		cmd_show_line(f, "tty", vi->tty);
	if (vi->pid > 0)
		fprintf(f, "pid: %d\n", vi->pid);
	fprintf(f, "restarts: %u\n", vi->restarts);
	snprintf(buf, sizeof buf, "%s%s%s%s",
	    (vi->flags & VMINFO_ENABLED) ? " enabled" : "",
	    (vi->flags & VMINFO_ADHOC) ? " ad-hoc" : "",
	    (vi->flags & VMINFO_OWNED) ? " owned" : "",
	    (vi->flags & VMINFO_ADOPTED) ? " adopted" : "");
	if (buf[0] != '\0')
		cmd_show_line(f, "flags", buf + 1);
	if (vi->flags & VMINFO_CHANGED)
		cmd_show_line(f, "config changed", "a restart applies it");
	if (vi->started > 0) {
		t = vi->started;
		if (localtime_r(&t, &tm) != NULL &&
		    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) != 0)
			cmd_show_line(f, "started", buf);
		if (vi->state != VM_STOPPED && vi->state != VM_FAILED) {
			format_duration(time(NULL) - t, buf, sizeof buf);
			cmd_show_line(f, "uptime", buf);
		}
	}
	if (vi->stats_time_ns != 0) {
		snprintf(buf, sizeof buf, "%.2fs", st->cpu_ns / 1e9);
		cmd_show_line(f, "cpu time", buf);
		fprintf(f, "exits: %llu\n", (unsigned long long)st->exits);
		size_format(st->rss_bytes, buf, sizeof buf);
		cmd_show_line(f, "rss", buf);
		cmd_show_bytes(f, "disk read", st->disk_rd_bytes,
		    st->disk_rd_reqs, "requests");
		cmd_show_bytes(f, "disk written", st->disk_wr_bytes,
		    st->disk_wr_reqs, "requests");
		cmd_show_bytes(f, "net received", st->net_rx_bytes,
		    st->net_rx_packets, "packets");
		cmd_show_bytes(f, "net sent", st->net_tx_bytes,
		    st->net_tx_packets, "packets");
	}
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "%s", details[i].key);
		format_clean(buf);
		cmd_show_line(f, buf, details[i].value);
	}
}

static void
cmd_show_json(FILE *f, const struct proto_vm_info *vi,
    const struct proto_detail *details, size_t n)
{
	size_t i;

	fputc('{', f);
	cmd_list_json_fields(f, vi);
	fputs(",\"detail\":[", f);
	for (i = 0; i < n; i++) {
		fputs(i == 0 ? "{\"key\":" : ",{\"key\":", f);
		format_json_string(f, details[i].key);
		fputs(",\"value\":", f);
		format_json_string(f, details[i].value);
		fputc('}', f);
	}
	fputs("]}\n", f);
}

/* What a show request is answered with: the VM, its details, the end. */
static const struct msg_handler cmd_show_replies[] = {
	{ MSG_VM_INFO, "vm info", sizeof(struct proto_vm_info), 0, NULL },
	{ MSG_VM_DETAIL, "vm detail", sizeof(struct proto_detail), 0, NULL },
	{ MSG_END, "end", 0, 0, NULL },
};

static enum cmd_retval
cmd_show_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct proto_name pn;
	struct proto_vm_info vi;
	struct proto_detail *details = NULL, *d;
	const struct msg_handler *h;
	struct msg m;
	size_t n = 0;
	int have_info = 0;

	(void)argc;
	if (cmd_fill_name(ctx, argv[0], &pn) == -1 ||
	    cmd_send(ctx, MSG_CMD_SHOW, &pn, sizeof pn) == -1)
		return CMD_RETURN_ERROR;
	for (;;) {
		if ((h = cmd_recv_expect(ctx, cmd_show_replies,
		    sizeof cmd_show_replies / sizeof cmd_show_replies[0],
		    &m)) == NULL)
			goto fail;
		if (h->type == MSG_END && have_info) {
			msg_clear(&m);
			break;
		}
		if (h->type == MSG_VM_INFO && !have_info) {
			memcpy(&vi, m.data, sizeof vi);
			cmd_list_sanitize(&vi);
			have_info = 1;
		} else if (h->type == MSG_VM_DETAIL && have_info) {
			details = xreallocarray(details, n + 1,
			    sizeof *details);
			d = &details[n++];
			memcpy(d, m.data, sizeof *d);
			d->key[sizeof d->key - 1] = '\0';
			d->value[sizeof d->value - 1] = '\0';
		} else {
			cmd_bad_reply(ctx, &m);
			goto fail;
		}
		msg_clear(&m);
	}

	if (ctx->json)
		cmd_show_json(ctx->out, &vi, details, n);
	else
		cmd_show_text(ctx->out, &vi, details, n);
	free(details);
	return CMD_RETURN_NORMAL;

fail:
	free(details);
	return CMD_RETURN_ERROR;
}

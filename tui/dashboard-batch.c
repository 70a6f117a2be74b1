/*
 * Top-style batch output (`vmtop -b [-n COUNT] [-d SECONDS]`): subscribe
 * as the dashboard does and print, for every list the engine pushes, a
 * summary line and the whole table (or with -j one JSON object per VM per
 * line, with its rates), until COUNT tables have been printed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tui.h"
#include "msg.h"
#include "size.h"

/* The summary line above a table, as top prints it. */
static void
dashboard_batch_summary(FILE *f, const struct dashboard_table *t,
    const struct tui_host *h, const struct proto_engine_info *ei)
{
	unsigned counts[VM_STATE_COUNT];
	char now[32], up[32], used[16], total[16];
	time_t tt = time(NULL);
	struct tm tm;
	int i;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(now, sizeof now, "%H:%M:%S", &tm) == 0)
		now[0] = '\0';
	format_duration(tt - ei->started, up, sizeof up);
	fprintf(f, "vmtop - %s engine up %s, pid %" PRIu32 ", VMs: %zu", now,
	    up, ei->pid, t->nvms);
	dashboard_header_counts(t, counts);
	for (i = 0; i < VM_STATE_COUNT; i++) {
		if (counts[i] != 0)
			fprintf(f, ", %u %s", counts[i], proto_state_name(i));
	}
	size_format(h->mem_used, used, sizeof used);
	size_format(h->mem_total, total, sizeof total);
	if (h->have_cpu)
		fprintf(f, "; host CPU %.1f%%", h->cpu);
	fprintf(f, "; host Mem %s/%s\n", used, total);
}

static void
dashboard_batch_table(FILE *f, struct dashboard_table *t)
{
	char buf[VM_PATH_SIZE];
	time_t now = time(NULL);
	size_t i;
	int c, last;

	dashboard_table_view(t);
	dashboard_table_layout(t, 100000);
	for (last = TUI_COL_COUNT - 1; last > 0 && !t->visible[last]; last--)
		;
	for (i = 0; i <= t->nrows; i++) {
		for (c = 0; c < TUI_COL_COUNT; c++) {
			if (!t->visible[c])
				continue;
			if (i == 0)
				dashboard_table_title(c, buf, sizeof buf);
			else
				dashboard_table_cell(t->rows[i - 1], c, now, buf,
				    sizeof buf);
			if (dashboard_table_right(c))
				fprintf(f, "%*s", t->width[c], buf);
			else if (c == last)
				fputs(buf, f);
			else
				fprintf(f, "%-*s", t->width[c], buf);
			if (c != last)
				fputc(' ', f);
		}
		fputc('\n', f);
	}
}

static void
dashboard_batch_json(FILE *f, struct dashboard_table *t, uint64_t tick)
{
	const struct tui_vm *vm;
	time_t now = time(NULL);
	size_t i;

	dashboard_table_view(t);
	for (i = 0; i < t->nrows; i++) {
		vm = t->rows[i];
		fprintf(f, "{\"time\":%lld,\"sample\":%llu,", (long long)now,
		    (unsigned long long)tick);
		cmd_list_json_fields(f, &vm->info);
		fprintf(f, ",\"cpu_percent\":%.2f,\"disk_rd_rate\":%.0f,"
		    "\"disk_wr_rate\":%.0f,\"net_rx_rate\":%.0f,"
		    "\"net_tx_rate\":%.0f}\n", vm->cpu, vm->disk_rd,
		    vm->disk_wr, vm->net_rx, vm->net_tx);
	}
}

/* What a subscription brings: its answer, then each tick's info and VMs. */
static const struct msg_handler dashboard_batch_updates[] = {
	{ MSG_OK, "ok", 0, 0, NULL },
	{ MSG_ENGINE_INFO, "engine info", sizeof(struct proto_engine_info), 0,
	    NULL },
	{ MSG_VM_INFO, "vm info", sizeof(struct proto_vm_info), 0, NULL },
	{ MSG_END, "end", 0, 0, NULL },
};

/*
 * Print count tables (0: until interrupted) at the context's interval.
 * Returns the exit status.
 */
int
dashboard_batch_main(struct cmd_ctx *ctx, int count, int json)
{
	struct proto_subscribe s;
	struct proto_engine_info ei;
	struct proto_vm_info info;
	struct dashboard_table t;
	struct tui_host h;
	const struct msg_handler *up;
	struct msg m;
	uint64_t tick = 0;
	int printed = 0, status = 1, in_tick = 0;

	memset(&t, 0, sizeof t);
	memset(&h, 0, sizeof h);
	memset(&ei, 0, sizeof ei);
	memset(&s, 0, sizeof s);
	s.interval_ms = ctx->interval_ms > 0 ? ctx->interval_ms : 1000;
	if (cmd_send(ctx, MSG_CMD_SUBSCRIBE, &s, sizeof s) == -1)
		goto out;
	for (;;) {
		if ((up = cmd_recv_expect(ctx, dashboard_batch_updates,
		    sizeof dashboard_batch_updates /
		    sizeof dashboard_batch_updates[0], &m)) == NULL)
			goto out;
		if (up->type == MSG_OK)
			;
		else if (up->type == MSG_ENGINE_INFO) {
			memcpy(&ei, m.data, sizeof ei);
			tick++;
			in_tick = 1;
			dashboard_header_sample(&h);
		} else if (up->type == MSG_VM_INFO) {
			memcpy(&info, m.data, sizeof info);
			cmd_list_sanitize(&info);
			dashboard_table_update(&t, &info, tick);
		} else {
			if (in_tick) {
				dashboard_table_expire(&t, tick);
				if (json)
					dashboard_batch_json(ctx->out, &t, tick);
				else {
					if (printed > 0)
						fputc('\n', ctx->out);
					dashboard_batch_summary(ctx->out, &t, &h,
					    &ei);
					dashboard_batch_table(ctx->out, &t);
				}
				if (fflush(ctx->out) == EOF) {
					cmd_error(ctx, "cannot write the "
					    "output");
					msg_clear(&m);
					goto out;
				}
				printed++;
			}
			in_tick = 0;
		}
		msg_clear(&m);
		if (count > 0 && printed >= count)
			break;
	}
	status = 0;
out:
	if (status != 0)
		fprintf(stderr, "vmtop: %s\n", ctx->error);
	dashboard_table_free(&t);
	return status;
}

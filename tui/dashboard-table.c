/*
 * The dashboard's VM table: the VMs as the engine pushes them, their rates
 * (CPU% from successive cpu_ns over stats_time_ns, disk and network bytes
 * per second), the filtered and sorted view with the selection kept on a
 * VM id, the columns that fit the screen and the drawing of the rows.
 * Batch output (-b) formats its cells here too.
 */
#include <ctype.h>
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tui.h"
#include "size.h"
#include "xmalloc.h"

static const struct {
	const char	*title;
	const char	*name;		/* for sort and the man page */
	int		 right;		/* right-aligned */
	int		 descending;	/* sorts largest first */
	int		 drop;		/* dropped in this order when narrow */
	int		 width;		/* 0: as wide as its cells */
} dashboard_table_cols[TUI_COL_COUNT] = {
	{ "ID", "id", 1, 0, 7, 0 },
	{ "NAME", "name", 0, 0, 0, 0 },
	{ "STATE", "state", 0, 0, 0, 8 },
	{ "VCPUS", "vcpus", 1, 1, 5, 5 },
	{ "CPU%", "cpu", 1, 1, 9, 5 },
	{ "MEM", "mem", 1, 1, 8, 6 },
	{ "DISK R/W", "disk", 1, 1, 3, 11 },
	{ "NET RX/TX", "net", 1, 1, 4, 11 },
	{ "UPTIME", "uptime", 1, 1, 6, 6 },
	{ "OWNER", "owner", 0, 0, 2, 0 },
	{ "TTY", "tty", 0, 0, 1, 0 },
};

/* Whether a VM has a runner, and so rates and an uptime. */
static int
dashboard_table_active(const struct tui_vm *vm)
{
	switch (vm->info.state) {
	case VM_STARTING:
	case VM_RUNNING:
	case VM_PAUSED:
	case VM_STOPPING:
		return 1;
	}
	return 0;
}

/* Update the rates of vm from its new stats. */
static void
dashboard_table_rates(struct tui_vm *vm, const struct proto_vm_info *info)
{
	const struct proto_stats *a = &vm->prev, *b = &info->stats;
	double dt;

	if (!dashboard_table_active(vm) || info->stats_time_ns == 0) {
		vm->have_rates = 0;
		vm->prev_ns = 0;
		vm->cpu = vm->disk_rd = vm->disk_wr = 0;
		vm->net_rx = vm->net_tx = 0;
		return;
	}
	if (info->stats_time_ns == vm->prev_ns)
		return;
	if (vm->prev_ns != 0 && info->stats_time_ns > vm->prev_ns &&
	    b->cpu_ns >= a->cpu_ns && b->disk_rd_bytes >= a->disk_rd_bytes &&
	    b->disk_wr_bytes >= a->disk_wr_bytes &&
	    b->net_rx_bytes >= a->net_rx_bytes &&
	    b->net_tx_bytes >= a->net_tx_bytes) {
		dt = (double)(info->stats_time_ns - vm->prev_ns);
		vm->cpu = (b->cpu_ns - a->cpu_ns) * 100.0 / dt;
		vm->disk_rd = (b->disk_rd_bytes - a->disk_rd_bytes) * 1e9 / dt;
		vm->disk_wr = (b->disk_wr_bytes - a->disk_wr_bytes) * 1e9 / dt;
		vm->net_rx = (b->net_rx_bytes - a->net_rx_bytes) * 1e9 / dt;
		vm->net_tx = (b->net_tx_bytes - a->net_tx_bytes) * 1e9 / dt;
		vm->have_rates = 1;
	}
	vm->prev = *b;
	vm->prev_ns = info->stats_time_ns;
}

/* Add or update a VM from an MSG_VM_INFO of the given tick. */
void
dashboard_table_update(struct dashboard_table *t, const struct proto_vm_info *info,
    uint64_t tick)
{
	struct tui_vm *vm = NULL;
	size_t i;

	for (i = 0; i < t->nvms; i++) {
		if (t->vms[i].info.id == info->id) {
			vm = &t->vms[i];
			break;
		}
	}
	if (vm == NULL) {
		t->vms = xreallocarray(t->vms, t->nvms + 1, sizeof *t->vms);
		vm = &t->vms[t->nvms++];
		memset(vm, 0, sizeof *vm);
		/* The rows point into vms, which may have moved. */
		t->nrows = 0;
	}
	vm->info = *info;
	vm->seen = tick;
	dashboard_table_rates(vm, info);
}

/* Forget the VMs that the engine's last full list did not name. */
void
dashboard_table_expire(struct dashboard_table *t, uint64_t tick)
{
	size_t i = 0;

	while (i < t->nvms) {
		if (t->vms[i].seen >= tick) {
			i++;
			continue;
		}
		memmove(&t->vms[i], &t->vms[i + 1],
		    (t->nvms - i - 1) * sizeof *t->vms);
		t->nvms--;
	}
	t->nrows = 0;
}

void
dashboard_table_clear(struct dashboard_table *t)
{
	free(t->vms);
	free(t->rows);
	t->vms = NULL;
	t->rows = NULL;
	t->nvms = t->nrows = 0;
}

void
dashboard_table_free(struct dashboard_table *t)
{
	dashboard_table_clear(t);
}

static int64_t
dashboard_table_uptime(const struct tui_vm *vm, time_t now)
{
	if (!dashboard_table_active(vm) || vm->info.started <= 0)
		return -1;
	return now - vm->info.started;
}

/* Compare two VMs by the sort column, then by id. */
static int
dashboard_table_compare(const void *pa, const void *pb, void *arg)
{
	const struct dashboard_table *t = arg;
	const struct tui_vm *a = *(struct tui_vm *const *)pa;
	const struct tui_vm *b = *(struct tui_vm *const *)pb;
	double x = 0, y = 0;
	time_t now = time(NULL);
	int c = 0;

	switch (t->sort_col) {
	case TUI_COL_NAME:
		c = strcmp(a->info.name, b->info.name);
		break;
	case TUI_COL_STATE:
		c = strcmp(proto_state_name(a->info.state),
		    proto_state_name(b->info.state));
		break;
	case TUI_COL_OWNER:
		c = strcmp(a->info.owner, b->info.owner);
		break;
	case TUI_COL_TTY:
		c = strcmp(a->info.tty, b->info.tty);
		break;
	case TUI_COL_VCPUS:
		x = a->info.vcpus;
		y = b->info.vcpus;
		break;
	case TUI_COL_CPU:
		x = dashboard_table_active(a) ? a->cpu : -1;
		y = dashboard_table_active(b) ? b->cpu : -1;
		break;
	case TUI_COL_MEM:
		x = a->info.memory;
		y = b->info.memory;
		break;
	case TUI_COL_DISK:
		x = dashboard_table_active(a) ? a->disk_rd + a->disk_wr : -1;
		y = dashboard_table_active(b) ? b->disk_rd + b->disk_wr : -1;
		break;
	case TUI_COL_NET:
		x = dashboard_table_active(a) ? a->net_rx + a->net_tx : -1;
		y = dashboard_table_active(b) ? b->net_rx + b->net_tx : -1;
		break;
	case TUI_COL_UPTIME:
		x = dashboard_table_uptime(a, now);
		y = dashboard_table_uptime(b, now);
		break;
	}
	if (c == 0)
		c = (x > y) - (x < y);
	if (dashboard_table_cols[t->sort_col].descending)
		c = -c;
	if (t->sort_reverse)
		c = -c;
	if (c == 0)
		c = (a->info.id > b->info.id) - (a->info.id < b->info.id);
	return c;
}

/* Whether vm matches the filter: in its name, state or owner. */
static int
dashboard_table_match(const struct dashboard_table *t, const struct tui_vm *vm)
{
	if (t->filter[0] == '\0')
		return 1;
	return strcasestr(vm->info.name, t->filter) != NULL ||
	    strcasestr(proto_state_name(vm->info.state), t->filter) != NULL ||
	    strcasestr(vm->info.owner, t->filter) != NULL;
}

/* Rebuild the rows (filter, sort) and find the selected VM among them. */
void
dashboard_table_view(struct dashboard_table *t)
{
	size_t i;

	t->rows = xreallocarray(t->rows, t->nvms + 1, sizeof *t->rows);
	t->nrows = 0;
	for (i = 0; i < t->nvms; i++) {
		if (dashboard_table_match(t, &t->vms[i]))
			t->rows[t->nrows++] = &t->vms[i];
	}
	qsort_r(t->rows, t->nrows, sizeof *t->rows, dashboard_table_compare, t);
	if (t->nrows == 0) {
		t->cursor = 0;
		return;
	}
	for (i = 0; i < t->nrows; i++) {
		if (t->rows[i]->info.id == t->selected) {
			t->cursor = i;
			return;
		}
	}
	if (t->cursor >= t->nrows)
		t->cursor = t->nrows - 1;
	t->selected = t->rows[t->cursor]->info.id;
}

/* Move the selection by delta rows, or to an end with absolute. */
void
dashboard_table_move(struct dashboard_table *t, long delta, int absolute)
{
	long c;

	if (t->nrows == 0)
		dashboard_table_view(t);
	if (t->nrows == 0)
		return;
	c = t->cursor;
	if (absolute)
		c = delta < 0 ? 0 : (long)t->nrows - 1;
	else
		c += delta;
	if (c < 0)
		c = 0;
	if (c >= (long)t->nrows)
		c = t->nrows - 1;
	t->cursor = c;
	t->selected = t->rows[c]->info.id;
}

/* The column called name (as sort takes it), or -1. */
int
dashboard_table_column(const char *name)
{
	int i;

	if (strcasecmp(name, "memory") == 0)
		return TUI_COL_MEM;
	for (i = 0; i < TUI_COL_COUNT; i++) {
		if (strcasecmp(name, dashboard_table_cols[i].name) == 0 ||
		    strcasecmp(name, dashboard_table_cols[i].title) == 0)
			return i;
	}
	return -1;
}

const char *
dashboard_table_column_name(int col)
{
	return dashboard_table_cols[col].name;
}

int
dashboard_table_right(int col)
{
	return dashboard_table_cols[col].right;
}

void
dashboard_table_title(int col, char *buf, size_t len)
{
	snprintf(buf, len, "%s", dashboard_table_cols[col].title);
}

/* A rate in bytes per second, in at most 5 characters: 0, 812, 1.2K, 34M. */
static void
dashboard_table_rate(double v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	int i = -1;

	while (v >= 1000 && units[i + 1] != '\0') {
		v /= 1024;
		i++;
	}
	if (i == -1)
		snprintf(buf, len, "%.0f", v);
	else if (v < 9.95)
		snprintf(buf, len, "%.1f%c", v, units[i]);
	else
		snprintf(buf, len, "%.0f%c", v, units[i]);
}

/* The text of one cell, safe to print. */
void
dashboard_table_cell(const struct tui_vm *vm, int col, time_t now, char *buf,
    size_t len)
{
	const struct proto_vm_info *vi = &vm->info;
	char a[16], b[16];
	const char *tty;

	switch (col) {
	case TUI_COL_ID:
		snprintf(buf, len, "%u", vi->id);
		break;
	case TUI_COL_NAME:
		snprintf(buf, len, "%s", vi->name);
		break;
	case TUI_COL_STATE:
		snprintf(buf, len, "%s", proto_state_name(vi->state));
		break;
	case TUI_COL_VCPUS:
		snprintf(buf, len, "%u", vi->vcpus);
		break;
	case TUI_COL_CPU:
		if (dashboard_table_active(vm))
			snprintf(buf, len, "%.1f", vm->cpu);
		else
			snprintf(buf, len, "-");
		break;
	case TUI_COL_MEM:
		size_format(vi->memory, buf, len);
		break;
	case TUI_COL_DISK:
	case TUI_COL_NET:
		if (!dashboard_table_active(vm)) {
			snprintf(buf, len, "-");
			break;
		}
		dashboard_table_rate(col == TUI_COL_DISK ? vm->disk_rd : vm->net_rx,
		    a, sizeof a);
		dashboard_table_rate(col == TUI_COL_DISK ? vm->disk_wr : vm->net_tx,
		    b, sizeof b);
		snprintf(buf, len, "%s/%s", a, b);
		break;
	case TUI_COL_UPTIME:
		if (dashboard_table_uptime(vm, now) < 0)
			snprintf(buf, len, "-");
		else
			format_duration(dashboard_table_uptime(vm, now), buf,
			    len);
		break;
	case TUI_COL_OWNER:
		snprintf(buf, len, "%s", vi->owner[0] != '\0' ? vi->owner :
		    "-");
		break;
	case TUI_COL_TTY:
		tty = vi->tty;
		if (strncmp(tty, "/dev/", 5) == 0)
			tty += 5;
		snprintf(buf, len, "%s", *tty != '\0' ? tty : "-");
		break;
	default:
		buf[0] = '\0';
		break;
	}
	format_clean(buf);
}

/*
 * Choose the columns for a screen width columns wide: each as wide as its
 * title and cells, dropping columns in their drop order until the rest
 * fit, and cutting NAME last.
 */
void
dashboard_table_layout(struct dashboard_table *t, int columns)
{
	char buf[VM_PATH_SIZE];
	int i, c, total, drop, w;
	time_t now = time(NULL);
	size_t n;

	for (c = 0; c < TUI_COL_COUNT; c++) {
		t->visible[c] = 1;
		dashboard_table_title(c, buf, sizeof buf);
		t->width[c] = strlen(buf);
		if (dashboard_table_cols[c].width > t->width[c])
			t->width[c] = dashboard_table_cols[c].width;
		for (n = 0; n < t->nvms && dashboard_table_cols[c].width == 0;
		    n++) {
			dashboard_table_cell(&t->vms[n], c, now, buf, sizeof buf);
			if ((w = strlen(buf)) > t->width[c])
				t->width[c] = w;
		}
	}
	if (t->width[TUI_COL_NAME] > 32)
		t->width[TUI_COL_NAME] = 32;
	if (t->width[TUI_COL_NAME] < 8)
		t->width[TUI_COL_NAME] = 8;
	for (drop = 1; drop <= 9; drop++) {
		total = -1;
		for (c = 0; c < TUI_COL_COUNT; c++)
			total += t->visible[c] ? t->width[c] + 1 : 0;
		if (total <= columns)
			return;
		for (i = 0; i < TUI_COL_COUNT; i++) {
			if (dashboard_table_cols[i].drop == drop)
				t->visible[i] = 0;
		}
	}
	w = columns - t->width[TUI_COL_STATE] - 1;
	t->width[TUI_COL_NAME] = w < 1 ? 1 : w;
}

/* Draw one line of cells (or titles when vm is NULL) at row y. */
static void
dashboard_table_line(struct dashboard_table *t, int y, const struct tui_vm *vm,
    time_t now)
{
	char buf[VM_PATH_SIZE];
	int c, x = 0, w, len;

	move(y, 0);
	for (c = 0; c < TUI_COL_COUNT; c++) {
		if (!t->visible[c])
			continue;
		if (vm == NULL)
			dashboard_table_title(c, buf, sizeof buf);
		else
			dashboard_table_cell(vm, c, now, buf, sizeof buf);
		w = t->width[c];
		if (x + w > COLS)
			w = COLS - x;
		if (w <= 0)
			break;
		len = strlen(buf);
		if (len > w)
			len = w;
		/* The sort column's title is underlined. */
		if (vm == NULL && c == t->sort_col)
			attron(A_UNDERLINE | A_BOLD);
		if (dashboard_table_cols[c].right)
			mvprintw(y, x, "%*.*s", w, len, buf);
		else
			mvprintw(y, x, "%-*.*s", w, len, buf);
		if (vm == NULL && c == t->sort_col)
			attroff(A_UNDERLINE | A_BOLD);
		x += t->width[c] + 1;
		if (x >= COLS)
			break;
	}
}

/* Draw the titles and the rows in height lines from y, scrolled to fit. */
void
dashboard_table_draw(struct dashboard *dash, int y, int height)
{
	struct dashboard_table *t = &dash->table;
	time_t now = time(NULL);
	size_t i;
	int attr;

	if (height < 1)
		return;
	dashboard_table_layout(t, COLS);
	attron(dashboard_attr(dash, TUI_ATTR_TITLES));
	mvhline(y, 0, ' ', COLS);
	dashboard_table_line(t, y, NULL, now);
	attroff(dashboard_attr(dash, TUI_ATTR_TITLES));
	height--;
	y++;
	if (height < 1)
		return;
	if (t->nrows == 0) {
		mvprintw(y, 0, "%.*s", COLS, t->filter[0] != '\0' ?
		    "No VM matches the filter." : dash->connected ?
		    "No VMs: define them in vm.conf, or start one with "
		    ":start NAME -k KERNEL." : "");
		return;
	}
	if (t->cursor < t->top)
		t->top = t->cursor;
	if (t->cursor >= t->top + height)
		t->top = t->cursor - height + 1;
	if (t->top + height > t->nrows)
		t->top = t->nrows > (size_t)height ? t->nrows - height : 0;
	for (i = t->top; i < t->nrows && i < t->top + height; i++) {
		attr = dashboard_attr(dash, TUI_ATTR_STATE +
		    t->rows[i]->info.state);
		if (i == t->cursor)
			attr = dashboard_attr(dash, TUI_ATTR_SELECTED);
		attron(attr);
		if (i == t->cursor)
			mvhline(y, 0, ' ', COLS);
		dashboard_table_line(t, y, t->rows[i], now);
		attroff(attr);
		y++;
	}
}

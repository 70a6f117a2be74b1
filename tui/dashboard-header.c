/*
 * The dashboard's header: meters of the host's CPU (from /proc/stat, busy
 * time since the previous sample) and memory (MemTotal less MemAvailable
 * from /proc/meminfo), the VMs counted by state and the engine's uptime.
 */
#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tui.h"
#include "size.h"

/* Read the host's CPU and memory use; what cannot be read stays as it was. */
void
dashboard_header_sample(struct tui_host *h)
{
	unsigned long long v[8], total = 0, idle, busy, mem_total = 0;
	unsigned long long mem_avail = 0, kb;
	char line[512];
	FILE *f;
	int i, ncpus = 0;

	if ((f = fopen("/proc/stat", "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (strncmp(line, "cpu", 3) != 0)
				continue;
			if (line[3] != ' ') {
				ncpus++;
				continue;
			}
			memset(v, 0, sizeof v);
			if (sscanf(line + 3, "%llu %llu %llu %llu %llu %llu "
			    "%llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
			    &v[5], &v[6], &v[7]) < 4)
				continue;
			for (total = 0, i = 0; i < 8; i++)
				total += v[i];
		}
		fclose(f);
		if (total != 0) {
			idle = v[3] + v[4];
			busy = total - idle;
			if (h->total != 0 && total > h->total &&
			    busy >= h->busy) {
				h->cpu = (busy - h->busy) * 100.0 /
				    (total - h->total);
				h->have_cpu = 1;
			}
			h->busy = busy;
			h->total = total;
		}
		if (ncpus > 0)
			h->ncpus = ncpus;
	}
	if ((f = fopen("/proc/meminfo", "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
				mem_total = kb * 1024;
			else if (sscanf(line, "MemAvailable: %llu kB",
			    &kb) == 1)
				mem_avail = kb * 1024;
		}
		fclose(f);
		if (mem_total != 0 && mem_avail <= mem_total) {
			h->mem_total = mem_total;
			h->mem_used = mem_total - mem_avail;
		}
	}
}

/* Count the VMs by state into counts[VM_STATE_COUNT]. */
void
dashboard_header_counts(const struct dashboard_table *t, unsigned *counts)
{
	size_t i;

	memset(counts, 0, VM_STATE_COUNT * sizeof *counts);
	for (i = 0; i < t->nvms; i++) {
		if (t->vms[i].info.state < VM_STATE_COUNT)
			counts[t->vms[i].info.state]++;
	}
}

/* Draw a meter "LABEL[|||||   text]" width columns wide at y, x. */
static void
dashboard_header_meter(struct dashboard *dash, int y, int x, int width,
    const char *label, double fraction, const char *text)
{
	int inner, bars, len, i, attr;

	inner = width - (int)strlen(label) - 2;
	if (inner < 1)
		return;
	if (fraction < 0)
		fraction = 0;
	if (fraction > 1)
		fraction = 1;
	bars = (int)(fraction * inner + 0.5);
	len = strlen(text);
	if (len > inner)
		len = inner;
	attron(dashboard_attr(dash, TUI_ATTR_LABEL));
	mvprintw(y, x, "%s", label);
	attroff(dashboard_attr(dash, TUI_ATTR_LABEL));
	addch('[');
	attr = dashboard_attr(dash, fraction >= 0.9 ? TUI_ATTR_METER_HIGH :
	    TUI_ATTR_METER);
	attron(attr);
	for (i = 0; i < inner - len; i++)
		addch(i < bars ? '|' : ' ');
	attroff(attr);
	printw("%.*s]", len, text);
}

/* Draw the two header lines. */
void
dashboard_header_draw(struct dashboard *dash)
{
	struct tui_host *h = &dash->host;
	unsigned counts[VM_STATE_COUNT];
	char text[64], used[16], total[16], line[256], up[32];
	int width, i, off;

	width = (COLS - 1) / 2;
	if (h->have_cpu)
		snprintf(text, sizeof text, "%.1f%%", h->cpu);
	else
		snprintf(text, sizeof text, "...");
	dashboard_header_meter(dash, 0, 0, width, "CPU", h->cpu / 100, text);
	size_format(h->mem_used, used, sizeof used);
	size_format(h->mem_total, total, sizeof total);
	snprintf(text, sizeof text, "%s/%s", used, total);
	dashboard_header_meter(dash, 0, width + 1, COLS - width - 1, "Mem",
	    h->mem_total != 0 ? (double)h->mem_used / h->mem_total : 0, text);

	dashboard_header_counts(&dash->table, counts);
	off = snprintf(line, sizeof line, "VMs: %zu", dash->table.nvms);
	for (i = 0; i < VM_STATE_COUNT; i++) {
		if (counts[i] == 0 || off >= (int)sizeof line)
			continue;
		off += snprintf(line + off, sizeof line - off, ", %u %s",
		    counts[i], proto_state_name(i));
	}
	move(1, 0);
	attron(dashboard_attr(dash, TUI_ATTR_LABEL));
	printw("%.*s", COLS, line);
	attroff(dashboard_attr(dash, TUI_ATTR_LABEL));
	if (!dash->connected)
		snprintf(line, sizeof line, "engine: not connected");
	else if (dash->have_engine) {
		format_duration(time(NULL) - dash->engine.started, up,
		    sizeof up);
		snprintf(line, sizeof line, "engine: up %s, pid %" PRIu32, up,
		    dash->engine.pid);
	} else
		line[0] = '\0';
	off = strlen(line);
	if (off > 0 && getcurx(stdscr) + 2 + off <= COLS)
		mvprintw(1, COLS - off, "%s", line);
}

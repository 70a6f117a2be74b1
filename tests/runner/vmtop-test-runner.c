/*
 * A test double for vmtop-vm: it speaks the runner side of the engine
 * protocol through the real runner's code (vmm/handoff.c: the hand-off,
 * its checks, ready, errors, console, stats, pause and the power button)
 * and fakes only the machine, behaving as the VM's cmdline says, so the
 * engine's state machine can be tested without KVM. Words in the cmdline:
 *   test=run          become ready and run until stopped (the default)
 *   test=poweroff:S   power off S seconds after becoming ready
 *   test=reboot:S     reboot S seconds after becoming ready
 *   test=crash:S      die of SIGSEGV S seconds after becoming ready
 *   test=hang         never become ready
 *   test=error        report an error and exit instead of starting
 *   test=noshutdown   ignore the power button
 *   test=dieonadopt   run, and die of SIGKILL as soon as an engine
 *                     connects to adopt it (it stays out of the pid
 *                     namespace for that: its pid 1 cannot kill itself)
 * With write=TEXT it writes TEXT at the start of disk 0, so a test can
 * check that the right file was handed over; say=TEXT writes the line
 * TEXT on the console at boot and print=K writes K x 16 numbered lines
 * after it (over 50 bytes each), through the engine's capture; each disk's format and base
 * count are told on the console at boot, each NIC's MAC address, and a
 * cloud-init seed's volume id, size and whether it is read-only; ticker=S writes the line "tick N"
 * every S seconds while it runs, with or without an engine attached. Once running it answers each
 * line typed on its console with "got: LINE", so a console can be tested
 * both ways, and `flood` typed writes 5000 numbered lines at once.
 * `flood N` typed writes N MiB of 64-byte lines to the pty alone (not to
 * the engine's capture), waiting whenever the pty is full, then the line
 * "flood done": a known volume for a console throughput bench.
 * It enters the real runner's pid namespace and, as root, drops to the
 * uid the engine gave the VM, but has no filter or empty root. It
 * outlives its engine and is adopted as vmtop-vm is (vmm/handoff.c):
 * poweroff and reboot while no engine is attached wait for the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <event2/event.h>

#include "handoff.h"
#include "log.h"
#include "privdrop.h"
#include "proto.h"
#include "sandbox.h"
#include "vmm.h"

static int *volatile		 nowhere;	/* test=crash writes here */
static struct event_base	*base;
static struct proto_run_params	 params;
static struct vmm_fds		 fds;
static int			 nfds;
static int			 paused;
static struct event		*timer;
static struct event		*ticker_ev;
static unsigned long		 ticks;
static struct event		*stats_ev;
static char			 mode[128] = "run";
static int			 delay;
static uint64_t			 exits;
static struct event		*pty_ev;
static struct event		*pty_retry;
static char			 typed[256];
static size_t			 ntyped;
static struct event		*flood_ev;
static uint64_t			 flood_left;	/* bytes of lines to write */
static uint64_t			 flood_off;
static size_t			 flood_tail;	/* bytes of the last line left */
static char			 flood_buf[65536];
static const char		 flood_end[] = "flood done\n";

static void
console(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	handoff_console(buf, n);
	/* Nobody attached: the pty is non-blocking and the bytes dropped. */
	if (fds.pty != -1 && write(fds.pty, buf, n) < 0)
		errno = 0;
}

/* Read "word=value" from the cmdline into out. */
static int
cmdline_get(const char *word, char *out, size_t outlen)
{
	char *p, *end;
	size_t wlen = strlen(word);

	for (p = params.cmdline; (p = strstr(p, word)) != NULL; p++) {
		if ((p != params.cmdline && p[-1] != ' ') || p[wlen] != '=')
			continue;
		p += wlen + 1;
		end = strchr(p, ' ');
		snprintf(out, outlen, "%.*s", end != NULL ? (int)(end - p) :
		    (int)strlen(p), p);
		return 0;
	}
	return -1;
}

static void
on_timer(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	/* one shot: nothing of it stays behind an exit */
	event_free(timer);
	timer = NULL;
	if (ticker_ev != NULL && strcmp(mode, "crash") != 0) {
		event_free(ticker_ev);
		ticker_ev = NULL;
	}
	if (strcmp(mode, "poweroff") == 0) {
		console("%s: powering off\n", params.name);
		handoff_exit(RUNNER_EXIT_POWEROFF);
	}
	if (strcmp(mode, "reboot") == 0) {
		console("%s: rebooting\n", params.name);
		handoff_exit(RUNNER_EXIT_REBOOT);
	}
	if (strcmp(mode, "crash") == 0) {
		/*
		 * Die of a real fault (pid 1 of a pid namespace ignores a
		 * raise()d one), even where a sanitizer catches it.
		 */
		signal(SIGSEGV, SIG_DFL);
		*nowhere = 1;
	}
}

static void
on_stats(int fd, short ev, void *arg)
{
	struct proto_stats st;
	int i;

	(void)fd;
	(void)ev;
	(void)arg;
	memset(&st, 0, sizeof st);
	st.exits = ++exits;
	st.cpu_ns = exits * 1000000;
	/* NIC i counts as if it moved (i + 1) * 1000 bytes a second. */
	for (i = 0; i < (int)params.nnics && i < VM_MAX_NICS; i++) {
		st.nic_rx_bytes[i] = exits * (i + 1) * 1000;
		st.nic_rx_packets[i] = exits * (i + 1);
		st.nic_tx_bytes[i] = exits * (i + 1) * 500;
		st.nic_tx_packets[i] = exits * (i + 1);
	}
	handoff_stats(&st);
}

static void
on_tick(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	console("tick %lu\n", ++ticks);
}

static void
on_pty_retry(int fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	event_add(pty_ev, NULL);
}

/* Write what is left of a `flood N`, as much as the pty takes. */
static void
on_flood(int fd, short ev, void *arg)
{
	size_t len;
	ssize_t n;

	(void)ev;
	(void)arg;
	for (;;) {
		if (flood_left > 0) {
			len = sizeof flood_buf - flood_off % sizeof flood_buf;
			if (len > flood_left)
				len = flood_left;
			n = write(fd, flood_buf + flood_off % sizeof flood_buf,
			    len);
		} else if (flood_tail > 0)
			n = write(fd, flood_end + sizeof flood_end - 1 -
			    flood_tail, flood_tail);
		else
			return;
		if (n == -1 && errno == EAGAIN) {
			event_add(flood_ev, NULL);
			return;
		}
		if (n <= 0) {
			/* The reader went away (EIO): give up the rest. */
			flood_left = 0;
			flood_tail = 0;
			return;
		}
		if (flood_left > 0) {
			flood_left -= n;
			flood_off += n;
		} else
			flood_tail -= n;
	}
}

static void
flood_start(unsigned long mib)
{
	char line[65];
	size_t i;

	for (i = 0; i < sizeof flood_buf; i += 64) {
		snprintf(line, sizeof line, "flood %08zu %48s\n", i / 64, "");
		memcpy(flood_buf + i, line, 64);
	}
	if (flood_ev == NULL)
		flood_ev = event_new(base, fds.pty, EV_WRITE, on_flood, NULL);
	flood_left = (uint64_t)mib << 20;
	flood_off = 0;
	flood_tail = sizeof flood_end - 1;
	on_flood(fds.pty, EV_WRITE, NULL);
}

/* Answer each line typed on the console; wait a while when nobody is. */
static void
on_pty(int fd, short ev, void *arg)
{
	struct timeval tv = { 0, 200000 };
	char buf[256];
	ssize_t n, i;
	int j;

	(void)ev;
	(void)arg;
	n = read(fd, buf, sizeof buf);
	if (n <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		/* No slave is open (EIO): look again later. */
		event_del(pty_ev);
		evtimer_add(pty_retry, &tv);
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] != '\r' && buf[i] != '\n') {
			if (ntyped < sizeof typed - 1)
				typed[ntyped++] = buf[i];
			continue;
		}
		typed[ntyped] = '\0';
		if (ntyped > 0)
			console("got: %s\n", typed);
		if (strcmp(typed, "flood") == 0) {
			for (j = 1; j <= 5000; j++)
				console("flood line %d of 5000\n", j);
		} else if (strncmp(typed, "flood ", 6) == 0 &&
		    typed[6] >= '0' && typed[6] <= '9')
			flood_start(strtoul(typed + 6, NULL, 10));
		ntyped = 0;
	}
}

static int
machine_pause(int pause, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	paused = pause;
	return 0;
}

static int
machine_paused(void)
{
	return paused;
}

/* test=dieonadopt: a runner that dies while an engine adopts it. */
static void
machine_adopting(void)
{
	if (strcmp(mode, "dieonadopt") == 0)
		kill(getpid(), SIGKILL);
}

static void
machine_power_button(void)
{
	if (strcmp(mode, "noshutdown") == 0)
		return;
	console("%s: power button pressed\n", params.name);
	handoff_console("bye\n", 4);
	handoff_exit(RUNNER_EXIT_POWEROFF);
}

static const struct handoff_ops machine_ops = {
	.pause = machine_pause,
	.power_button = machine_power_button,
	.paused = machine_paused,
	.adopting = machine_adopting,
};

/* The pty: raw, or the slave's echo comes back as input; non-blocking. */
static void
pty_setup(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
}

/* test=MODE[:S] from the cmdline. */
static void
get_mode(void)
{
	char text[128], *colon;

	if (cmdline_get("test", text, sizeof text) == 0) {
		if ((colon = strchr(text, ':')) != NULL) {
			*colon = '\0';
			delay = atoi(colon + 1);
		}
		snprintf(mode, sizeof mode, "%s", text);
	}
}

/* What the cmdline asks for; a failure is reported before listening. */
static void
prepare(void)
{
	char text[128];

	if (fds.kvm == -1)
		handoff_fail("no /dev/kvm fd was handed over");
	if (fds.pty == -1)
		handoff_fail("no console pty was handed over");
	if (strcmp(mode, "error") == 0)
		handoff_fail("the test asked for an error");
	if (cmdline_get("write", text, sizeof text) == 0) {
		if (params.ndisks == 0 || fds.disks[0] == -1)
			handoff_fail("write= needs a disk");
		if (pwrite(fds.disks[0], text, strlen(text), 0) !=
		    (ssize_t)strlen(text))
			handoff_fail("writing the disk failed");
		fsync(fds.disks[0]);
	}
}

/* What say= and print= ask for at boot. */
static void
boot_output(void)
{
	char text[128];
	unsigned long i, lines;

	if (cmdline_get("say", text, sizeof text) == 0)
		console("%s\n", text);
	if (cmdline_get("print", text, sizeof text) == 0) {
		lines = strtoul(text, NULL, 10) * 1024 / 64;
		for (i = 1; i <= lines; i++)
			console("%s: print line %010lu of %010lu ........\n",
			    params.name, i, lines);
	}
}

/* The seed's ISO 9660 volume id (32 bytes at 40 into sector 16). */
static void
seed_output(void)
{
	char	 id[33];
	off_t	 size;
	int	 n;

	if (fds.seed == -1)
		return;
	memset(id, 0, sizeof id);
	if (pread(fds.seed, id, 32, 16 * 2048 + 40) != 32)
		snprintf(id, sizeof id, "?");
	for (n = 31; n >= 0 && (id[n] == ' ' || id[n] == '\0'); n--)
		id[n] = '\0';
	size = lseek(fds.seed, 0, SEEK_END);
	console("%s: cloud-init seed %s, %lld bytes, %s\n", params.name, id,
	    (long long)size, write(fds.seed, "", 1) == -1 ? "read-only" :
	    "writable");
}

/* "Boot": become ready, say so on the console, then run as told. */
static void
start(void)
{
	struct timeval tv = { 1, 0 };
	char text[32];
	uint32_t i;

	if (strcmp(mode, "hang") == 0)
		return;
	handoff_ready();
	console("%s: booted with %u vcpus, %u disks, %d fds\n", params.name,
	    params.vcpus, params.ndisks, nfds);
	if (!(params.flags & RUNP_KERNEL))
		console("%s: firmware boot, %s first\n", params.name,
		    params.flags & RUNP_CDROM_FIRST ? "cdrom" : "disk");
	boot_output();
	seed_output();
	for (i = 0; i < params.nnics && i < VM_MAX_NICS; i++)
		console("%s: nic %u lladdr %02x:%02x:%02x:%02x:%02x:%02x\n",
		    params.name, i, params.nic_lladdr[i][0],
		    params.nic_lladdr[i][1], params.nic_lladdr[i][2],
		    params.nic_lladdr[i][3], params.nic_lladdr[i][4],
		    params.nic_lladdr[i][5]);
	for (i = 0; i < params.ndisks && i < VM_MAX_DISKS; i++)
		console("%s: disk %u: %s with %u base images\n", params.name, i,
		    params.disk_format[i] == DISK_FORMAT_QCOW2 ? "qcow2" :
		    params.disk_format[i] == DISK_FORMAT_RAW ? "raw" : "auto",
		    params.disk_nbase[i]);
	stats_ev = event_new(base, -1, EV_PERSIST, on_stats, NULL);
	event_add(stats_ev, &tv);
	pty_ev = event_new(base, fds.pty, EV_READ | EV_PERSIST, on_pty, NULL);
	pty_retry = evtimer_new(base, on_pty_retry, NULL);
	event_add(pty_ev, NULL);
	if (cmdline_get("ticker", text, sizeof text) == 0 && atoi(text) > 0) {
		tv.tv_sec = atoi(text);
		ticker_ev = event_new(base, -1, EV_PERSIST, on_tick, NULL);
		event_add(ticker_ev, &tv);
	}
	if (strcmp(mode, "run") != 0 && strcmp(mode, "noshutdown") != 0 &&
	    strcmp(mode, "dieonadopt") != 0) {
		tv.tv_sec = delay;
		timer = evtimer_new(base, on_timer, NULL);
		evtimer_add(timer, &tv);
	}
}

int
main(int argc, char **argv)
{
	char	err[PROTO_TEXT_SIZE];
	int	list[64];

	(void)argc;
	(void)argv;
	log_init("vmtop-test-runner", 1, 0);
	if (handoff_receive(RUNNER_SOCKET_FD, &params, &fds, err,
	    sizeof err) == -1)
		handoff_fail("%s", err);
	get_mode();
	/*
	 * The real runner's pid namespace and, as root, the uid the engine
	 * gave the VM: what a test sees of a runner's identity is true.
	 */
	if ((strcmp(mode, "dieonadopt") != 0 &&
	    sandbox_unshare(&params, err, sizeof err) == -1) ||
	    (geteuid() == 0 && privdrop(params.uid, params.gid, err,
	    sizeof err) == -1) || sandbox_pid_rearm(err, sizeof err) == -1)
		handoff_fail("sandbox: %s", err);
	/* Every fd handed over; the list ends with the engine's socket. */
	nfds = handoff_fd_list(&fds, list, sizeof list / sizeof list[0]) - 1;
	if (fds.pty != -1)
		pty_setup(fds.pty);
	prepare();
	if ((base = event_base_new()) == NULL)
		handoff_fail("event loop: %s", strerror(errno));
	handoff_listen(base, &machine_ops);
	start();
	event_base_dispatch(base);
	return RUNNER_EXIT_ERROR;
}

/*
 * vmtop-vm, the runner of one VM, started by the engine with its socket
 * on fd 3. It reads the hand-off, enters its sandbox, builds the x86
 * machine (KVM, the legacy devices, direct Linux boot, the PCI devices)
 * and runs one thread per vCPU. The main thread runs the event loop: it
 * moves console bytes between the UART, the pty and the engine, sends
 * statistics every second, serves pause and the power button, and ends
 * the runner with the status that says what became of the guest. The
 * runner outlives its engine (vmm/handoff.c): the guest runs on while no
 * engine is attached, and the next engine adopts it on its socket; a
 * guest that reboots or powers off meanwhile waits for that engine, which
 * is told how it ended and starts it again after a reboot.
 */
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "fwcfg.h"
#include "handoff.h"
#include "hw.h"
#include "kvm.h"
#include "log.h"
#include "sandbox.h"
#include "virtio.h"
#include "vmm.h"
#include "x86.h"
#include "xmalloc.h"

#define PAUSE_TIMEOUT_MS	2000
#define JOIN_TIMEOUT_MS		2000

static struct machine {
	struct vmm		 vmm;
	struct vmm_fds		 fds;
	struct event_base	*base;
	struct ns8250		*uart;
	struct i8042		*kbd;
	struct pm		*pm;
	struct fwcfg		*fwcfg;		/* firmware boot only */
	struct rtc		*rtc;
	struct debugcon		*debugcon;
	int			 notify_fd;	/* eventfd: look at the devices */
	int			 statm_fd;	/* /proc/self/statm, for RSS */
	int			 slave_fd;	/* keeps the pty from hanging up */
	struct event		*notify_ev;
	struct event		*pty_ev;
	int			 pty_reading;
	struct event		*stats_ev;
	int			 nthreads;
	int			 ending;
	struct timespec		 started;
} m;

static char	procname[VM_NAME_SIZE + 16];

/* From any thread: wake the main loop. */
static void
machine_notify(void *arg)
{
	uint64_t one = 1;

	(void)arg;
	if (write(m.notify_fd, &one, sizeof one) == -1 && errno != EAGAIN)
		log_warn("%s", __func__);
}

/* Console bytes go to the pty (dropped if full) and to the engine. */
static void
machine_console_out(void)
{
	uint8_t buf[16384];
	size_t n;

	while ((n = ns8250_tx_drain(m.uart, buf, sizeof buf)) > 0) {
		if (m.fds.pty != -1 && write(m.fds.pty, buf, n) == -1 &&
		    errno != EAGAIN && errno != EIO)
			log_debug("console pty: %s", strerror(errno));
		handoff_console(buf, n);
	}
}

/* Console bytes from the pty, as many as the UART's FIFO takes. */
static void
machine_pty_read(int fd, short ev, void *arg)
{
	uint8_t buf[NS8250_RX_FIFO];
	size_t space;
	ssize_t n;

	(void)ev;
	(void)arg;
	if ((space = ns8250_rx_space(m.uart)) == 0) {
		event_del(m.pty_ev);
		m.pty_reading = 0;
		return;
	}
	n = read(fd, buf, space < sizeof buf ? space : sizeof buf);
	if (n > 0)
		ns8250_rx_push(m.uart, buf, n);
}

static uint64_t
machine_cpu_ns(void)
{
	struct timespec ts;
	clockid_t cid;
	uint64_t ns = 0;
	int i;

	for (i = 0; i < m.nthreads; i++) {
		if (pthread_getcpuclockid(m.vmm.threads[i], &cid) != 0 ||
		    clock_gettime(cid, &ts) == -1)
			continue;
		ns += (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	return ns;
}

static uint64_t
machine_rss(void)
{
	char buf[128];
	unsigned long long size, resident;
	ssize_t n;

	if (m.statm_fd == -1 ||
	    (n = pread(m.statm_fd, buf, sizeof buf - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

#define LOAD(f)	__atomic_load_n(&m.vmm.counters.f, __ATOMIC_RELAXED)

static void
machine_stats(int fd, short ev, void *arg)
{
	struct proto_stats st;
	int i;

	(void)fd;
	(void)ev;
	(void)arg;
	memset(&st, 0, sizeof st);
	st.cpu_ns = machine_cpu_ns();
	st.exits = __atomic_load_n(&m.vmm.exits, __ATOMIC_RELAXED);
	st.disk_rd_bytes = LOAD(disk_rd_bytes);
	st.disk_wr_bytes = LOAD(disk_wr_bytes);
	st.disk_rd_reqs = LOAD(disk_rd_reqs);
	st.disk_wr_reqs = LOAD(disk_wr_reqs);
	st.net_rx_bytes = LOAD(net_rx_bytes);
	st.net_tx_bytes = LOAD(net_tx_bytes);
	st.net_rx_packets = LOAD(net_rx_packets);
	st.net_tx_packets = LOAD(net_tx_packets);
	for (i = 0; i < VM_MAX_NICS; i++) {
		st.nic_rx_bytes[i] = LOAD(nic_rx_bytes[i]);
		st.nic_tx_bytes[i] = LOAD(nic_tx_bytes[i]);
		st.nic_rx_packets[i] = LOAD(nic_rx_packets[i]);
		st.nic_tx_packets[i] = LOAD(nic_tx_packets[i]);
	}
	st.rss_bytes = machine_rss();
	handoff_stats(&st);
}

/* Join a vCPU thread, giving up after a while (exit ends it anyway). */
static void
machine_join(int i)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += JOIN_TIMEOUT_MS / 1000;
	if (pthread_timedjoin_np(m.vmm.threads[i], NULL, &ts) != 0)
		log_warnx("vCPU %d did not stop", i);
}

/* The guest stopped: flush, then end with the status the engine maps. */
static void
machine_end(void)
{
	struct timespec now;
	int i, code;

	if (m.ending)
		return;
	m.ending = 1;
	for (i = 0; i < m.nthreads; i++)
		machine_join(i);
	devices_destroy(&m.vmm);
	machine_console_out();
	clock_gettime(CLOCK_MONOTONIC, &now);
	log_info("%s (after %.1f s, %llu exits)", m.vmm.error,
	    (now.tv_sec - m.started.tv_sec) +
	    (now.tv_nsec - m.started.tv_nsec) / 1e9,
	    (unsigned long long)m.vmm.exits);
	switch (m.vmm.exit) {
	case VMM_POWEROFF:
		code = RUNNER_EXIT_POWEROFF;
		break;
	case VMM_REBOOT:
		code = RUNNER_EXIT_REBOOT;
		break;
	default:
		handoff_error(m.vmm.error);
		code = RUNNER_EXIT_ERROR;
		break;
	}
	event_del(m.stats_ev);
	event_del(m.notify_ev);
	if (m.pty_reading)
		event_del(m.pty_ev);
	handoff_exit(code);
}

/* Something changed: console output, FIFO room, or the guest ended. */
static void
machine_wake(int fd, short ev, void *arg)
{
	uint64_t v;

	(void)ev;
	(void)arg;
	if (read(fd, &v, sizeof v) == -1 && errno != EAGAIN)
		log_warn("%s", __func__);
	machine_console_out();
	if (!m.pty_reading && m.fds.pty != -1 && !m.ending &&
	    ns8250_rx_space(m.uart) > 0) {
		event_add(m.pty_ev, NULL);
		m.pty_reading = 1;
	}
	if (__atomic_load_n(&m.vmm.exit, __ATOMIC_ACQUIRE) != VMM_RUNNING)
		machine_end();
}

static void *
machine_vcpu(void *arg)
{
	int cpu = (intptr_t)arg;
	char name[16];

	snprintf(name, sizeof name, "vcpu %d", cpu);
	prctl(PR_SET_NAME, name);
	m.vmm.backend->run(&m.vmm, cpu);
	machine_notify(NULL);
	return NULL;
}

static int
machine_pause(int pause, char *err, size_t errlen)
{
	struct vmm *vmm = &m.vmm;
	struct timespec ts;
	int i, rv = 0;

	pthread_mutex_lock(&vmm->lock);
	if (!pause || vmm->exit != VMM_RUNNING) {
		vmm->paused = 0;
		pthread_cond_broadcast(&vmm->cond);
		pthread_mutex_unlock(&vmm->lock);
		if (pause)
			snprintf(err, errlen, "the guest is stopping");
		return pause ? -1 : 0;
	}
	__atomic_store_n(&vmm->paused, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vmm->lock);
	for (i = 0; i < vmm->nvcpus; i++)
		vmm->backend->kick(vmm, i);

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (PAUSE_TIMEOUT_MS % 1000) * 1000000L;
	ts.tv_sec += PAUSE_TIMEOUT_MS / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&vmm->lock);
	while (vmm->npaused < m.nthreads && vmm->exit == VMM_RUNNING && rv == 0)
		rv = pthread_cond_timedwait(&vmm->cond, &vmm->lock, &ts);
	if (vmm->npaused < m.nthreads) {
		vmm->paused = 0;
		pthread_cond_broadcast(&vmm->cond);
		snprintf(err, errlen, "%s", vmm->exit != VMM_RUNNING ?
		    "the guest is stopping" : "the vCPUs did not stop in time");
		rv = -1;
	}
	pthread_mutex_unlock(&vmm->lock);
	return rv == 0 ? 0 : -1;
}

static void
machine_power_button(void)
{
	log_debug("power button pressed (the guest %s listening)",
	    pm_power_button_enabled(m.pm) ? "is" : "is not yet");
	pm_power_button(m.pm);
}

static int
machine_paused(void)
{
	return __atomic_load_n(&m.vmm.paused, __ATOMIC_ACQUIRE) != 0;
}

static const struct handoff_ops machine_ops = {
	.pause = machine_pause,
	.power_button = machine_power_button,
	.paused = machine_paused,
};

/* A line of the firmware's debug port, for a verbose runner's log. */
static void
machine_firmware_line(void *arg, const char *line)
{
	(void)arg;
	log_debug("firmware: %s", line);
}

/* Direct boot: the kernel, initrd and ACPI tables, the boot CPU. */
static int
machine_load_kernel(const struct proto_run_params *p, char *err,
    size_t errlen)
{
	struct vmm *vmm = &m.vmm;
	struct x86_boot boot;

	if (x86_boot_load(vmm, m.fds.kernel, m.fds.initrd, p->cmdline, &boot,
	    err, errlen) == -1)
		return -1;
	if (kvm_boot_cpu(vmm, &boot) == -1) {
		snprintf(err, errlen, "boot CPU registers: %s",
		    strerror(errno));
		return -1;
	}
	log_debug("kernel %llu KiB, initrd %llu KiB at 0x%llx, RSDP at 0x%llx",
	    (unsigned long long)boot.kernel_size >> 10,
	    (unsigned long long)boot.initrd_size >> 10,
	    (unsigned long long)boot.initrd_addr,
	    (unsigned long long)boot.rsdp);
	return 0;
}

/*
 * Firmware boot: the BIOS image below 4 GiB and below 1 MiB, fw_cfg,
 * the CMOS and the debug port. The vCPUs keep KVM's reset state: the
 * boot CPU at the reset vector, the others waiting for INIT and SIPI.
 */
static int
machine_load_bios(char *err, size_t errlen)
{
	struct vmm *vmm = &m.vmm;
	struct fwcfg_e820 e820[4];
	uint64_t low, size;
	void *rom;
	int n;

	if (x86_bios_load(vmm, m.fds.bios, "of the vm", &rom, &size, err,
	    errlen) == -1)
		return -1;
	if (kvm_map_rom(vmm, X86_4G - size, rom, size) == -1) {
		snprintf(err, errlen, "BIOS image at 0x%llx: %s",
		    (unsigned long long)(X86_4G - size), strerror(errno));
		return -1;
	}
	m.fwcfg = fwcfg_create(vmm);
	m.rtc = rtc_create(vmm);
	m.debugcon = debugcon_create(vmm, machine_firmware_line, NULL);
	if (m.fwcfg == NULL || m.rtc == NULL || m.debugcon == NULL) {
		snprintf(err, errlen, "firmware devices: %s", strerror(errno));
		return -1;
	}
	low = vmm->ram_size < X86_LOWMEM_END ? vmm->ram_size : X86_LOWMEM_END;
	rtc_set_memory(m.rtc, low, vmm->ram_size - low, vmm->nvcpus);
	n = x86_fw_e820(e820, sizeof e820 / sizeof e820[0], vmm->ram_size);
	if (fwcfg_add_machine(m.fwcfg, vmm->nvcpus, vmm->nvcpus, 1,
	    vmm->ram_size) == -1 || fwcfg_add_e820(m.fwcfg, e820, n) == -1 ||
	    acpi_fwcfg(m.fwcfg, vmm->nvcpus) == -1) {
		snprintf(err, errlen, "fw_cfg: %s", strerror(errno));
		return -1;
	}
	log_debug("BIOS image of %llu KiB at 0x%llx",
	    (unsigned long long)size >> 10,
	    (unsigned long long)(X86_4G - size));
	return 0;
}

/* Build the machine and start its vCPUs; returns 0, or -1 with err. */
static int
machine_start(const struct proto_run_params *p, char *err, size_t errlen)
{
	struct vmm *vmm = &m.vmm;
	struct timeval sec = { 1, 0 };
	int i;

	vmm->firmware = !(p->flags & RUNP_KERNEL);
	if (m.fds.kvm == -1 || (vmm->firmware ? m.fds.bios : m.fds.kernel) ==
	    -1) {
		snprintf(err, errlen, "the engine handed over no %s",
		    m.fds.kvm == -1 ? "/dev/kvm" : vmm->firmware ?
		    "BIOS image" : "kernel");
		return -1;
	}
	kvm_attach(vmm, m.fds.kvm);
	if (vmm->backend->create(vmm) == -1) {
		snprintf(err, errlen, "%s", vmm->error);
		return -1;
	}
	m.uart = ns8250_create(vmm, COM1_BASE, COM1_IRQ, machine_notify, NULL);
	m.kbd = i8042_create(vmm);
	m.pm = pm_create(vmm);
	if (m.uart == NULL || m.kbd == NULL || m.pm == NULL) {
		snprintf(err, errlen, "legacy devices: %s", strerror(errno));
		return -1;
	}
	if ((vmm->firmware ? machine_load_bios(err, errlen) :
	    machine_load_kernel(p, err, errlen)) == -1)
		return -1;
	if (devices_create(vmm, &m.fds) == -1 || (vmm->firmware &&
	    devices_bootorder(vmm, m.fwcfg) == -1)) {
		snprintf(err, errlen, "%s", vmm->error);
		return -1;
	}

	m.notify_ev = event_new(m.base, m.notify_fd, EV_READ | EV_PERSIST,
	    machine_wake, NULL);
	m.stats_ev = event_new(m.base, -1, EV_PERSIST, machine_stats, NULL);
	if (m.fds.pty != -1)
		m.pty_ev = event_new(m.base, m.fds.pty, EV_READ | EV_PERSIST,
		    machine_pty_read, NULL);
	if (m.notify_ev == NULL || m.stats_ev == NULL ||
	    (m.fds.pty != -1 && m.pty_ev == NULL)) {
		snprintf(err, errlen, "event_new failed");
		return -1;
	}
	event_add(m.notify_ev, NULL);
	event_add(m.stats_ev, &sec);
	if (m.pty_ev != NULL) {
		event_add(m.pty_ev, NULL);
		m.pty_reading = 1;
	}

	clock_gettime(CLOCK_MONOTONIC, &m.started);
	vmm->threads = xcalloc(vmm->nvcpus, sizeof *vmm->threads);
	for (i = 0; i < vmm->nvcpus; i++) {
		if ((errno = pthread_create(&vmm->threads[i], NULL,
		    machine_vcpu, (void *)(intptr_t)i)) != 0) {
			snprintf(err, errlen, "vCPU %d thread: %s", i,
			    strerror(errno));
			vmm_request_exit(vmm, VMM_ERROR, "%s", err);
			return -1;
		}
		m.nthreads++;
	}
	if (sandbox_lock_threads() == -1)
		log_warn("RLIMIT_NPROC");
	return 0;
}

/* The pty: raw (its slave is the guest's serial line), non-blocking. */
static void
machine_pty_setup(int fd)
{
	struct termios t;
	int flags;

	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		if (tcsetattr(fd, TCSANOW, &t) == -1)
			log_warn("console pty: raw mode");
	}
	if ((flags = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	/* Hold the slave open so the master never reads as hung up. */
	m.slave_fd = ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m.slave_fd == -1)
		log_warn("console pty: TIOCGPTPEER");
}

int
main(int argc, char **argv)
{
	struct proto_run_params p;
	struct vmm *vmm = &m.vmm;
	sigset_t set;
	char err[PROTO_TEXT_SIZE];
	int keep[64], nkeep;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	/* Only vCPU threads take the kick signal (they unblock it). */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	log_init("vmtop-vm", 1, 0);
	m.notify_fd = m.statm_fd = m.slave_fd = -1;

	if (handoff_receive(RUNNER_SOCKET_FD, &p, &m.fds, err,
	    sizeof err) == -1)
		handoff_fail("%s", err);
	snprintf(procname, sizeof procname, "vmtop-vm %s", p.name);
	log_init(procname, 1, (p.flags & RUNP_VERBOSE) != 0);

	nkeep = handoff_fd_list(&m.fds, keep, sizeof keep / sizeof keep[0]);
	if (sandbox_begin(keep, nkeep, err, sizeof err) == -1)
		handoff_fail("sandbox: %s", err);
	if (sandbox_unshare(&p, err, sizeof err) == -1)
		handoff_fail("sandbox: %s", err);
	if (m.fds.pty != -1)
		machine_pty_setup(m.fds.pty);
	m.statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	m.notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m.notify_fd == -1 || (m.base = event_base_new()) == NULL)
		handoff_fail("event loop: %s", strerror(errno));
	sandbox_listener(handoff_adopt_socket());
	if (sandbox_finish(&p, err, sizeof err) == -1)
		handoff_fail("sandbox: %s", err);
	log_debug("sandbox: %s", sandbox_summary());

	memset(vmm, 0, sizeof *vmm);
	vmm->params = p;
	vmm->ram_size = p.memory;
	vmm->nvcpus = p.vcpus;
	bus_init(&vmm->pio);
	bus_init(&vmm->mmio);
	pthread_mutex_init(&vmm->lock, NULL);
	pthread_cond_init(&vmm->cond, NULL);
	if (machine_start(&p, err, sizeof err) == -1)
		handoff_fail("%s", err);

	handoff_listen(m.base, &machine_ops);
	handoff_ready();
	log_debug("%u vCPUs, %llu MiB running", p.vcpus,
	    (unsigned long long)p.memory >> 20);
	event_base_dispatch(m.base);
	return RUNNER_EXIT_ERROR;
}

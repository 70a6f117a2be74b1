/*
 * The KVM backend: a VM from the /dev/kvm fd the engine handed over,
 * guest RAM as memory slots (below the PCI hole and above 4 GiB), the
 * in-kernel irqchip and PIT, one vCPU per thread. The vCPU loop sends
 * port I/O and MMIO exits to the buses; a signal kicks a vCPU out of
 * KVM_RUN (immediate_exit closes the race with entering it) so it can
 * park while the VM is paused or return when the VM ends.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/kvm.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm.h"
#include "log.h"
#include "vmm.h"
#include "x86.h"
#include "xmalloc.h"

#define KVM_KICK_SIGNAL		SIGUSR1
#define KVM_MAX_ROUTES		1024
#define KVM_ROM_SLOT		2	/* after low and high RAM */
/*
 * KVM_RUN says EAGAIN when a vCPU waiting for its SIPI wakes up, now and
 * then; a KVM that says nothing else (PVM with a guest outside long
 * mode) would spin for ever.
 */
#define KVM_MAX_EAGAIN		100000

struct kvm_vcpu {
	int		 fd;
	struct kvm_run	*run;
	pthread_t	 thread;
	int		 running;	/* thread is set; kicks may go */
};

struct kvm {
	int		 sys_fd;
	int		 vm_fd;
	size_t		 run_size;
	uint8_t		*ram;
	struct kvm_vcpu	 vcpus[VM_MAX_VCPUS];
	struct kvm_cpuid2 *cpuid;
	int		 has_clock_ctrl;

	pthread_mutex_t	 route_lock;
	struct kvm_irq_routing *routes;
	int		 next_gsi;
};

static int	kvm_create(struct vmm *);
static int	kvm_run_vcpu(struct vmm *, int);
static void	kvm_kick(struct vmm *, int);
static void	kvm_destroy(struct vmm *);
static int	kvm_ioeventfd(struct vmm *, uint64_t, uint32_t, int, int);

static const struct vcpu_backend_ops kvm_ops = {
	.name = "kvm",
	.create = kvm_create,
	.run = kvm_run_vcpu,
	.kick = kvm_kick,
	.destroy = kvm_destroy,
	.ioeventfd = kvm_ioeventfd,
};

static __thread struct kvm_run *kvm_tls_run;

/* The kick: make this thread's next or current KVM_RUN return. */
static void
kvm_signal(int sig)
{
	(void)sig;
	if (kvm_tls_run != NULL)
		kvm_tls_run->immediate_exit = 1;
}

void
kvm_attach(struct vmm *vmm, int kvm_fd)
{
	struct kvm *k;
	int i;

	k = xcalloc(1, sizeof *k);
	k->sys_fd = kvm_fd;
	k->vm_fd = -1;
	for (i = 0; i < VM_MAX_VCPUS; i++)
		k->vcpus[i].fd = -1;
	k->next_gsi = X86_IRQCHIP_GSIS;
	pthread_mutex_init(&k->route_lock, NULL);
	vmm->backend = &kvm_ops;
	vmm->backend_data = k;
}

int
kvm_vm_fd(struct vmm *vmm)
{
	struct kvm *k = vmm->backend_data;

	if (vmm->backend != &kvm_ops || k == NULL)
		return -1;
	return k->vm_fd;
}

static int
kvm_ioctl(int fd, unsigned long req, void *arg)
{
	int rv;

	do
		rv = ioctl(fd, req, arg);
	while (rv == -1 && errno == EINTR);
	return rv;
}

static void
kvm_irq_line(void *opaque, int gsi, int level)
{
	struct kvm *k = opaque;
	struct kvm_irq_level irq;

	irq.irq = gsi;
	irq.level = level;
	if (kvm_ioctl(k->vm_fd, KVM_IRQ_LINE, &irq) == -1)
		log_warn("%s: gsi %d", __func__, gsi);
}

static void
kvm_irq_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct kvm *k = opaque;
	struct kvm_msi msi;

	memset(&msi, 0, sizeof msi);
	msi.address_lo = addr;
	msi.address_hi = addr >> 32;
	msi.data = data;
	if (kvm_ioctl(k->vm_fd, KVM_SIGNAL_MSI, &msi) == -1)
		log_warn("%s: 0x%llx/0x%x", __func__, (unsigned long long)addr,
		    data);
}

static int
kvm_ioeventfd(struct vmm *vmm, uint64_t gpa, uint32_t len, int fd, int assign)
{
	struct kvm_ioeventfd io;
	int vmfd;

	if ((vmfd = kvm_vm_fd(vmm)) == -1) {
		errno = ENODEV;
		return -1;
	}
	memset(&io, 0, sizeof io);
	io.addr = gpa;
	io.len = len;
	io.fd = fd;
	io.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN;
	return kvm_ioctl(vmfd, KVM_IOEVENTFD, &io) == -1 ? -1 : 0;
}

int
kvm_msi_route_add(struct vmm *vmm, uint64_t addr, uint32_t data)
{
	struct kvm *k = vmm->backend_data;
	struct kvm_irq_routing_entry *e;
	int gsi;

	if (kvm_vm_fd(vmm) == -1) {
		errno = ENODEV;
		return -1;
	}
	pthread_mutex_lock(&k->route_lock);
	if (k->routes->nr == KVM_MAX_ROUTES) {
		pthread_mutex_unlock(&k->route_lock);
		errno = ENOSPC;
		return -1;
	}
	gsi = k->next_gsi;
	e = &k->routes->entries[k->routes->nr];
	memset(e, 0, sizeof *e);
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = addr;
	e->u.msi.address_hi = addr >> 32;
	e->u.msi.data = data;
	k->routes->nr++;
	if (kvm_ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, k->routes) == -1) {
		k->routes->nr--;
		pthread_mutex_unlock(&k->route_lock);
		return -1;
	}
	k->next_gsi++;
	pthread_mutex_unlock(&k->route_lock);
	return gsi;
}

int
kvm_msi_route_set(struct vmm *vmm, int gsi, uint64_t addr, uint32_t data)
{
	struct kvm *k = vmm->backend_data;
	struct kvm_irq_routing_entry *e;
	uint32_t i;
	int rv = -1;

	if (kvm_vm_fd(vmm) == -1) {
		errno = ENODEV;
		return -1;
	}
	pthread_mutex_lock(&k->route_lock);
	errno = ENOENT;
	for (i = 0; i < k->routes->nr; i++) {
		e = &k->routes->entries[i];
		if (e->type != KVM_IRQ_ROUTING_MSI || (int)e->gsi != gsi)
			continue;
		e->u.msi.address_lo = addr;
		e->u.msi.address_hi = addr >> 32;
		e->u.msi.data = data;
		rv = kvm_ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, k->routes);
		break;
	}
	pthread_mutex_unlock(&k->route_lock);
	return rv;
}

/* What create() needs of KVM; returns the missing capability or NULL. */
static const char *
kvm_check_caps(struct kvm *k)
{
	static const struct {
		int		 cap;
		const char	*name;
	} caps[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_USER_MEMORY, "user memory" },
		{ KVM_CAP_SET_TSS_ADDR, "TSS address" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
		{ KVM_CAP_EXT_CPUID, "CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
		{ KVM_CAP_SIGNAL_MSI, "MSI injection" },
		{ KVM_CAP_IRQ_ROUTING, "IRQ routing" },
	};
	size_t i;

	for (i = 0; i < sizeof caps / sizeof caps[0]; i++)
		if (ioctl(k->sys_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0)
			return caps[i].name;
	return NULL;
}

void *
kvm_ram_alloc(size_t size)
{
	uint8_t *p, *start;
	size_t head, tail;

	p = mmap(NULL, size + KVM_RAM_ALIGN, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	start = (uint8_t *)(((uintptr_t)p + KVM_RAM_ALIGN - 1) &
	    ~(uintptr_t)(KVM_RAM_ALIGN - 1));
	head = start - p;
	tail = KVM_RAM_ALIGN - head;
	if (head > 0)
		munmap(p, head);
	if (tail > 0)
		munmap(start + size, tail);
	/* Where THP is off this fails, and 4 KiB pages serve as well. */
	(void)madvise(start, size, MADV_HUGEPAGE);
	return start;
}

/* Guest RAM: below the PCI hole, and the rest from 4 GiB. */
static int
kvm_create_ram(struct vmm *vmm, struct kvm *k)
{
	struct kvm_userspace_memory_region mr;
	uint64_t low, gpa[2], size[2];
	int i;

	if ((k->ram = kvm_ram_alloc(vmm->ram_size)) == NULL)
		return -1;
	low = vmm->ram_size < X86_LOWMEM_END ? vmm->ram_size : X86_LOWMEM_END;
	gpa[0] = 0;
	size[0] = low;
	gpa[1] = X86_HIGHMEM_BASE;
	size[1] = vmm->ram_size - low;
	for (i = 0; i < 2 && size[i] > 0; i++) {
		memset(&mr, 0, sizeof mr);
		mr.slot = i;
		mr.guest_phys_addr = gpa[i];
		mr.memory_size = size[i];
		mr.userspace_addr = (uintptr_t)k->ram + (i == 0 ? 0 : low);
		if (kvm_ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) == -1)
			return -1;
		if (memmap_add(&vmm->mem, gpa[i], size[i], k->ram +
		    (i == 0 ? 0 : low)) == -1)
			return -1;
	}
	return 0;
}

int
kvm_map_rom(struct vmm *vmm, uint64_t gpa, void *host, uint64_t size)
{
	struct kvm *k = vmm->backend_data;
	struct kvm_userspace_memory_region mr;

	if (kvm_vm_fd(vmm) == -1) {
		errno = ENODEV;
		return -1;
	}
	memset(&mr, 0, sizeof mr);
	mr.slot = KVM_ROM_SLOT;
	mr.guest_phys_addr = gpa;
	mr.memory_size = size;
	mr.userspace_addr = (uintptr_t)host;
	/* Without read-only slots the guest writes its private copy. */
	if (ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0)
		mr.flags = KVM_MEM_READONLY;
	return kvm_ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr);
}

static int
kvm_create_vcpu(struct vmm *vmm, struct kvm *k, int cpu)
{
	struct kvm_vcpu *v = &k->vcpus[cpu];

	if ((v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, cpu)) == -1)
		return -1;
	v->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -1;
	}
	return x86_cpu_init(v->fd, cpu, vmm->nvcpus, k->cpuid);
}

/* Returns 0, or -1 with vmm->error set. */
static int
kvm_create(struct vmm *vmm)
{
	struct kvm *k = vmm->backend_data;
	struct kvm_pit_config pit;
	struct sigaction sa;
	uint64_t idmap = X86_IDENTITY_MAP_ADDR;
	const char *cap, *what;
	int i, max;

#define FAIL(w) do { what = (w); goto fail; } while (0)
	if (ioctl(k->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		FAIL("KVM API version");
	if ((cap = kvm_check_caps(k)) != NULL) {
		snprintf(vmm->error, sizeof vmm->error, "KVM lacks %s support",
		    cap);
		return -1;
	}
	max = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && vmm->nvcpus > max) {
		snprintf(vmm->error, sizeof vmm->error, "KVM allows %d vCPUs, "
		    "not %d", max, vmm->nvcpus);
		return -1;
	}
	k->has_clock_ctrl = ioctl(k->sys_fd, KVM_CHECK_EXTENSION,
	    KVM_CAP_KVMCLOCK_CTRL) > 0;
	if ((i = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		FAIL("KVM_GET_VCPU_MMAP_SIZE");
	k->run_size = i;
	if ((k->cpuid = x86_cpuid_supported(k->sys_fd)) == NULL)
		FAIL("KVM_GET_SUPPORTED_CPUID");
	do
		k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	while (k->vm_fd == -1 && errno == EINTR);
	if (k->vm_fd == -1)
		FAIL("KVM_CREATE_VM");
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_TSS_ADDR) ==
	    -1)
		FAIL("KVM_SET_TSS_ADDR");
	if (ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) == -1)
		FAIL("KVM_SET_IDENTITY_MAP_ADDR");
	if (kvm_create_ram(vmm, k) == -1) {
		snprintf(vmm->error, sizeof vmm->error, "guest memory of %llu "
		    "MiB: %s", (unsigned long long)vmm->ram_size >> 20,
		    strerror(errno));
		return -1;
	}
	if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) == -1)
		FAIL("KVM_CREATE_IRQCHIP");
	k->routes = xcalloc(1, sizeof *k->routes + KVM_MAX_ROUTES *
	    sizeof k->routes->entries[0]);
	x86_irq_routes(k->routes);
	if (ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, k->routes) == -1)
		FAIL("KVM_SET_GSI_ROUTING");
	memset(&pit, 0, sizeof pit);
	pit.flags = KVM_PIT_SPEAKER_DUMMY;
	if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) == -1)
		FAIL("KVM_CREATE_PIT2");
	vmm->irq.line = kvm_irq_line;
	vmm->irq.msi = kvm_irq_msi;
	vmm->irq_opaque = k;
	for (i = 0; i < vmm->nvcpus; i++)
		if (kvm_create_vcpu(vmm, k, i) == -1) {
			snprintf(vmm->error, sizeof vmm->error, "vCPU %d: %s",
			    i, strerror(errno));
			return -1;
		}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = kvm_signal;	/* no SA_RESTART: KVM_RUN returns */
	sigemptyset(&sa.sa_mask);
	if (sigaction(KVM_KICK_SIGNAL, &sa, NULL) == -1)
		FAIL("sigaction");
	return 0;
fail:
	snprintf(vmm->error, sizeof vmm->error, "%s: %s", what,
	    strerror(errno));
	return -1;
#undef FAIL
}

int
kvm_boot_cpu(struct vmm *vmm, const struct x86_boot *boot)
{
	struct kvm *k = vmm->backend_data;

	return x86_cpu_boot(k->vcpus[0].fd, boot);
}

static void
kvm_kick(struct vmm *vmm, int cpu)
{
	struct kvm *k = vmm->backend_data;
	struct kvm_vcpu *v = &k->vcpus[cpu];

	if (__atomic_load_n(&v->running, __ATOMIC_ACQUIRE))
		pthread_kill(v->thread, KVM_KICK_SIGNAL);
}

/* Where a vCPU is, for the log of a verbose runner. */
static void
kvm_log_state(int cpu, struct kvm_vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_mp_state mp;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) == -1 ||
	    ioctl(v->fd, KVM_GET_SREGS, &sregs) == -1 ||
	    ioctl(v->fd, KVM_GET_MP_STATE, &mp) == -1)
		return;
	log_debug("vCPU %d: mp state %u rip 0x%llx rsp 0x%llx cr0 0x%llx "
	    "cr3 0x%llx cr4 0x%llx efer 0x%llx cs 0x%x", cpu, mp.mp_state,
	    (unsigned long long)regs.rip,
	    (unsigned long long)regs.rsp, (unsigned long long)sregs.cr0,
	    (unsigned long long)sregs.cr3, (unsigned long long)sregs.cr4,
	    (unsigned long long)sregs.efer, sregs.cs.selector);
}

/*
 * Between two KVM_RUNs: park while the VM is paused (telling the guest
 * its clock stood still), and say whether the vCPU must return.
 */
static int
kvm_check(struct vmm *vmm, struct kvm *k, struct kvm_vcpu *v, int cpu)
{
	int parked = 0;

	if (__atomic_load_n(&vmm->exit, __ATOMIC_ACQUIRE) != VMM_RUNNING)
		return 1;
	if (!__atomic_load_n(&vmm->paused, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&vmm->lock);
	while (vmm->paused && vmm->exit == VMM_RUNNING) {
		if (!parked) {
			parked = 1;
			vmm->npaused++;
			if (log_getverbose())
				kvm_log_state(cpu, v);
			if (k->has_clock_ctrl)
				ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0);
			pthread_cond_broadcast(&vmm->cond);
		}
		pthread_cond_wait(&vmm->cond, &vmm->lock);
	}
	if (parked)
		vmm->npaused--;
	pthread_mutex_unlock(&vmm->lock);
	return vmm->exit != VMM_RUNNING;
}

static void
kvm_exit_io(struct vmm *vmm, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t i;

	for (i = 0; i < run->io.count; i++, data += run->io.size)
		bus_dispatch(&vmm->pio, run->io.port, data, run->io.size,
		    run->io.direction == KVM_EXIT_IO_OUT);
}

static void
kvm_exit_event(struct vmm *vmm, int cpu, struct kvm_run *run)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vmm_request_exit(vmm, VMM_POWEROFF, "the guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vmm_request_exit(vmm, VMM_REBOOT, "the guest reset vCPU %d",
		    cpu);
		break;
	default:
		vmm_request_exit(vmm, VMM_ERROR, "vCPU %d: system event %u "
		    "(the guest crashed)", cpu, run->system_event.type);
		break;
	}
}

static unsigned long long
kvm_rip(struct kvm_vcpu *v)
{
	struct kvm_regs regs;

	return ioctl(v->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
}

/* Say what went wrong, with where the guest was. */
static void
kvm_exit_error(struct vmm *vmm, int cpu, struct kvm_vcpu *v,
    const char *what, unsigned long long code)
{
	kvm_log_state(cpu, v);
	vmm_request_exit(vmm, VMM_ERROR, "vCPU %d stopped: %s 0x%llx at rip "
	    "0x%llx", cpu, what, code, kvm_rip(v));
}

/* The vCPU thread's loop; returns when the VM ends. */
static int
kvm_run_vcpu(struct vmm *vmm, int cpu)
{
	struct kvm *k = vmm->backend_data;
	struct kvm_vcpu *v = &k->vcpus[cpu];
	struct kvm_run *run = v->run;
	sigset_t set;
	unsigned long again = 0;

	kvm_tls_run = run;
	v->thread = pthread_self();
	__atomic_store_n(&v->running, 1, __ATOMIC_RELEASE);
	sigemptyset(&set);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	for (;;) {
		if (kvm_check(vmm, k, v, cpu))
			break;
		if (ioctl(v->fd, KVM_RUN, 0) == -1) {
			if (errno == EAGAIN && ++again == KVM_MAX_EAGAIN) {
				vmm_request_exit(vmm, VMM_ERROR, "vCPU %d: this "
				    "KVM keeps refusing to run it (EAGAIN); it "
				    "cannot boot this guest", cpu);
				break;
			}
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				continue;
			}
			vmm_request_exit(vmm, VMM_ERROR, "vCPU %d: KVM_RUN: %s",
			    cpu, strerror(errno));
			break;
		}
		again = 0;
		__atomic_fetch_add(&vmm->exits, 1, __ATOMIC_RELAXED);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			kvm_exit_io(vmm, run);
			break;
		case KVM_EXIT_MMIO:
			bus_dispatch(&vmm->mmio, run->mmio.phys_addr,
			    run->mmio.data, run->mmio.len > 8 ? 8 :
			    run->mmio.len, run->mmio.is_write);
			break;
		case KVM_EXIT_INTR:
		case KVM_EXIT_HLT:
		case KVM_EXIT_IRQ_WINDOW_OPEN:
			break;
		case KVM_EXIT_SHUTDOWN:
			kvm_log_state(cpu, v);
			vmm_request_exit(vmm, VMM_REBOOT, "vCPU %d triple "
			    "faulted at rip 0x%llx: the machine resets", cpu,
			    kvm_rip(v));
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			kvm_exit_event(vmm, cpu, run);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			kvm_exit_error(vmm, cpu, v, "hardware entry failure",
			    run->fail_entry.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			kvm_exit_error(vmm, cpu, v, "KVM internal error",
			    run->internal.suberror);
			break;
		default:
			kvm_exit_error(vmm, cpu, v, "unexpected exit reason",
			    run->exit_reason);
			break;
		}
	}
	__atomic_store_n(&v->running, 0, __ATOMIC_RELEASE);
	return 0;
}

static void
kvm_destroy(struct vmm *vmm)
{
	struct kvm *k = vmm->backend_data;
	int i;

	if (k == NULL)
		return;
	for (i = 0; i < VM_MAX_VCPUS; i++) {
		if (k->vcpus[i].run != NULL)
			munmap(k->vcpus[i].run, k->run_size);
		if (k->vcpus[i].fd != -1)
			close(k->vcpus[i].fd);
	}
	if (k->vm_fd != -1)
		close(k->vm_fd);
	if (k->ram != NULL)
		munmap(k->ram, vmm->ram_size);
	free(k->routes);
	free(k->cpuid);
	pthread_mutex_destroy(&k->route_lock);
	free(k);
	vmm->backend_data = NULL;
	vmm->backend = NULL;
}

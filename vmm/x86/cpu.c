/*
 * The x86 vCPU state a boot needs, on KVM: CPUID from what KVM supports,
 * fitted to this VM (one package of ncpus single-threaded cores, APIC id
 * = vCPU index, the hypervisor bit, KVM's paravirt leaves kept so the
 * guest uses kvmclock, nested virtualization hidden), fast strings in
 * MISC_ENABLE, the LAPIC's LINT0/LINT1 wired as ExtINT/NMI as a BIOS
 * would, and the boot CPU's registers for the 32-bit boot protocol.
 */
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "x86.h"
#include "xmalloc.h"

#define CPUID_1_ECX_MONITOR	(1U << 3)
#define CPUID_1_ECX_VMX		(1U << 5)
#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)
#define CPUID_1_ECX_HYPERVISOR	(1U << 31)
#define CPUID_1_EDX_HTT		(1U << 28)
#define CPUID_6_ECX_EPB		(1U << 3)
#define CPUID_E1_ECX_CMP_LEGACY	(1U << 1)
#define CPUID_E1_ECX_SVM	(1U << 2)

#define MSR_IA32_MISC_ENABLE	0x1a0
#define MISC_ENABLE_FAST_STRING	0x1

#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

#define X86_CR0_PE		0x1
#define X86_CR0_ET		0x10

/* The smallest n with (1 << n) >= v. */
static unsigned int
order(unsigned int v)
{
	unsigned int n = 0;

	while ((1U << n) < v)
		n++;
	return n;
}

void
x86_cpuid_fixup(struct kvm_cpuid2 *c, int cpu, int ncpus)
{
	struct kvm_cpuid_entry2 *e;
	unsigned int shift = order(ncpus), ids = 1U << shift, level;
	uint32_t i;

	for (i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		switch (e->function) {
		case 0x1:
			e->ebx = (e->ebx & 0xffff) | (ids & 0xff) << 16 |
			    (uint32_t)cpu << 24;
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			e->ecx &= ~(CPUID_1_ECX_MONITOR | CPUID_1_ECX_VMX);
			if (ncpus > 1)
				e->edx |= CPUID_1_EDX_HTT;
			else
				e->edx &= ~CPUID_1_EDX_HTT;
			break;
		case 0x4:
			/* Caches: L1/L2 per core, L3 shared by the package. */
			if ((e->eax & 0x1f) == 0)
				break;
			level = (e->eax >> 5) & 0x7;
			e->eax &= 0x3ff;
			e->eax |= (ids - 1) << 26;
			if (level >= 3)
				e->eax |= (ids - 1) << 14;
			break;
		case 0x6:
			e->ecx &= ~CPUID_6_ECX_EPB;
			break;
		case 0xb:
		case 0x1f:
			/* Extended topology: SMT level of 1, core level. */
			e->edx = cpu;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1 << 8;
			} else if (e->index == 1) {
				e->eax = shift;
				e->ebx = ncpus;
				e->ecx = 2 << 8 | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index & 0xff;
			}
			break;
		case 0x80000001:
			e->ecx &= ~CPUID_E1_ECX_SVM;
			if (ncpus > 1)
				e->ecx |= CPUID_E1_ECX_CMP_LEGACY;
			else
				e->ecx &= ~CPUID_E1_ECX_CMP_LEGACY;
			break;
		case 0x80000008:
			/* AMD: cores per package and APIC id bits. */
			e->ecx = (e->ecx & ~0xf0ffU) | shift << 12 |
			    (uint32_t)(ncpus - 1);
			break;
		case 0x8000001e:
			/* AMD: extended APIC id, core id, one thread a core. */
			e->eax = cpu;
			e->ebx = cpu & 0xff;
			e->ecx = 0;
			break;
		}
	}
}

/*
 * What KVM can give a guest, plus the TSC-deadline timer its in-kernel
 * LAPIC has but does not list. Returns a malloc'd table, or NULL with
 * errno set.
 */
struct kvm_cpuid2 *
x86_cpuid_supported(int kvm_fd)
{
	struct kvm_cpuid2 *c;
	uint32_t i;
	int nent, deadline;

	deadline = ioctl(kvm_fd, KVM_CHECK_EXTENSION,
	    KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	for (nent = 64; nent <= 4096; nent *= 2) {
		c = xcalloc(1, sizeof *c + nent * sizeof c->entries[0]);
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			for (i = 0; deadline && i < c->nent; i++)
				if (c->entries[i].function == 1)
					c->entries[i].ecx |=
					    CPUID_1_ECX_TSC_DEADLINE;
			return c;
		}
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	errno = E2BIG;
	return NULL;
}

static int
x86_set_lapic(int vcpufd)
{
	struct kvm_lapic_state lapic;
	uint32_t v;

	if (ioctl(vcpufd, KVM_GET_LAPIC, &lapic) == -1)
		return -1;
	memcpy(&v, lapic.regs + APIC_LVT0, sizeof v);
	v = (v & ~0x700U) | APIC_MODE_EXTINT << 8;
	memcpy(lapic.regs + APIC_LVT0, &v, sizeof v);
	memcpy(&v, lapic.regs + APIC_LVT1, sizeof v);
	v = (v & ~0x700U) | APIC_MODE_NMI << 8;
	memcpy(lapic.regs + APIC_LVT1, &v, sizeof v);
	return ioctl(vcpufd, KVM_SET_LAPIC, &lapic);
}

int
x86_cpu_init(int vcpufd, int cpu, int ncpus,
    const struct kvm_cpuid2 *supported)
{
	struct kvm_cpuid2 *c;
	union {
		struct kvm_msrs	hdr;
		uint8_t		buf[sizeof(struct kvm_msrs) +
				    sizeof(struct kvm_msr_entry)];
	} msrs;
	struct kvm_fpu fpu;
	size_t size;
	int rv, saved;

	size = sizeof *c + supported->nent * sizeof c->entries[0];
	c = xmalloc(size);
	memcpy(c, supported, size);
	x86_cpuid_fixup(c, cpu, ncpus);
	rv = ioctl(vcpufd, KVM_SET_CPUID2, c);
	saved = errno;
	free(c);
	if (rv == -1) {
		errno = saved;
		return -1;
	}

	memset(&msrs, 0, sizeof msrs);
	msrs.hdr.nmsrs = 1;
	msrs.hdr.entries[0].index = MSR_IA32_MISC_ENABLE;
	msrs.hdr.entries[0].data = MISC_ENABLE_FAST_STRING;
	if (ioctl(vcpufd, KVM_SET_MSRS, &msrs) != 1) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}

	memset(&fpu, 0, sizeof fpu);
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vcpufd, KVM_SET_FPU, &fpu) == -1)
		return -1;
	return x86_set_lapic(vcpufd);
}

static void
x86_flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type)
{
	memset(s, 0, sizeof *s);
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = selector;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = 1;
	s->g = 1;
}

int
x86_cpu_boot(int vcpufd, const struct x86_boot *b)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpufd, KVM_GET_SREGS, &sregs) == -1)
		return -1;
	x86_flat_segment(&sregs.cs, X86_BOOT_CS, 0xb);	/* code, r/x */
	x86_flat_segment(&sregs.ds, X86_BOOT_DS, 0x3);	/* data, r/w */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = b->gdt_base;
	sregs.gdt.limit = b->gdt_limit;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(vcpufd, KVM_SET_SREGS, &sregs) == -1)
		return -1;

	/* %ebp, %edi and %ebx must be zero; interrupts off. */
	memset(&regs, 0, sizeof regs);
	regs.rflags = 0x2;
	regs.rip = b->entry;
	regs.rsi = b->zero_page;
	return ioctl(vcpufd, KVM_SET_REGS, &regs);
}

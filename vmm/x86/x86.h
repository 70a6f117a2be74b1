/*
 * The x86 machine: where things sit in guest memory below 1 MiB, the
 * direct Linux boot (boot.c), the firmware tables (acpi.c) and the vCPU
 * state a boot needs (cpu.c: CPUID, MSRs, registers).
 */
#ifndef X86_H
#define X86_H

#include <stddef.h>
#include <stdint.h>

struct vmm;
struct kvm_cpuid2;

/* Guest physical layout of the boot structures. */
#define X86_GDT_ADDR		0x0500		/* boot GDT */
#define X86_ZERO_PAGE		0x7000		/* struct boot_params */
#define X86_CMDLINE_ADDR	0x20000
#define X86_CMDLINE_MAX		0x10000
#define X86_EBDA_START		0x9fc00		/* reserved up to 1 MiB */
#define X86_BIOS_START		0xe0000		/* ACPI tables live here */
#define X86_BIOS_END		0x100000
#define X86_KERNEL_ADDR		0x100000	/* protected-mode kernel */
#define X86_IOAPIC_ADDR		0xfec00000ULL
#define X86_LAPIC_ADDR		0xfee00000ULL
/* KVM's pages, below the firmware at the top of 4 GiB, reserved in e820. */
#define X86_IDENTITY_MAP_ADDR	0xfeffc000ULL	/* one page */
#define X86_TSS_ADDR		0xfeffd000ULL	/* three pages */
#define X86_KVM_PAGES_SIZE	0x4000ULL
/* A BIOS image ends at 4 GiB; its last 128 KiB is copied below 1 MiB. */
#define X86_BIOS_LOW_SIZE	0x20000ULL
#define X86_BIOS_MAX_SIZE	0x1000000ULL	/* 16 MiB */
#define X86_4G			0x100000000ULL

/*
 * INTx routing (the DSDT's _PRT): pin (0 = INTA) of PCI slot goes
 * straight to this IOAPIC GSI, level triggered, swizzled as on a PC.
 */
#define X86_PCI_INTX_GSI(slot, pin)	(16 + (((slot) + (pin)) & 3))

/* Selectors the boot protocol requires for the 32-bit entry. */
#define X86_BOOT_CS		0x10
#define X86_BOOT_DS		0x18

/* What the boot CPU starts with. */
struct x86_boot {
	uint64_t	entry;		/* %eip: code32_start */
	uint64_t	zero_page;	/* %esi: boot_params */
	uint64_t	gdt_base;
	uint16_t	gdt_limit;
	uint64_t	rsdp;
	uint64_t	initrd_addr;
	uint64_t	initrd_size;
	uint64_t	kernel_size;
};

/* boot.c */
/*
 * Load a bzImage, its initrd (fd -1 for none) and cmdline into guest
 * RAM with the ACPI tables for ncpus, and say where the boot CPU starts.
 * Returns 0, or -1 with a sentence in err.
 */
int	x86_boot_load(struct vmm *, int kernel_fd, int initrd_fd,
	    const char *cmdline, struct x86_boot *, char *err, size_t errlen);
/* The e820 map for ram bytes of RAM; returns the number of entries. */
struct boot_e820_entry;
int	x86_e820(struct boot_e820_entry *, int max, uint64_t ram);
/* Where an initrd of size bytes goes, or 0 if it does not fit. */
uint64_t x86_initrd_addr(uint64_t ram, uint32_t addr_max, uint64_t size,
	    uint64_t kernel_end);

/* firmware.c */
/*
 * Read the BIOS image in fd (a multiple of 64 KiB, 128 KiB to 16 MiB)
 * into new host memory *rom of *size bytes, which belongs at guest
 * 4 GiB - *size, and copy its last 128 KiB to guest RAM at 0xe0000.
 * Returns 0, or -1 with a sentence in err naming the file as name.
 */
int	x86_bios_load(struct vmm *, int fd, const char *name, void **rom,
	    uint64_t *size, char *err, size_t errlen);
/*
 * The memory map the firmware gets through fw_cfg etc/e820: RAM from 0
 * below the PCI hole, KVM's pages reserved, RAM above 4 GiB. Returns the
 * number of entries (at most 3).
 */
struct fwcfg_e820;
int	x86_fw_e820(struct fwcfg_e820 *, int max, uint64_t ram);

/* acpi.c */
/*
 * Build RSDP, XSDT, FADT, FACS, MADT and DSDT for ncpus into buf, the
 * host view of guest memory at gpa. Returns the bytes used, or 0 if len
 * is too small; *rsdp is the RSDP's guest address.
 */
size_t	acpi_build(uint8_t *buf, uint64_t gpa, size_t len, int ncpus,
	    uint64_t *rsdp);
uint8_t	acpi_checksum(const void *, size_t);
/*
 * The same tables for the firmware: etc/acpi/rsdp and etc/acpi/tables in
 * fw_cfg with the etc/table-loader script that places and links them (the
 * FADT names the CMOS RTC here). Returns 0, or -1 with errno set.
 */
struct fwcfg;
int	acpi_fwcfg(struct fwcfg *, int ncpus);

/* irq.c */
#define X86_IRQCHIP_GSIS	24	/* IOAPIC pins; MSIs get GSIs above */
struct kvm_irq_routing;
/* The routing table (room for X86_IRQCHIP_GSIS + 16 entries). */
void	x86_irq_routes(struct kvm_irq_routing *);

/* cpu.c */
/* KVM's supported CPUID with the TSC-deadline timer; NULL, errno set. */
struct kvm_cpuid2 *x86_cpuid_supported(int kvm_fd);
/* Fit KVM's supported CPUID to vCPU cpu of ncpus (APIC id = cpu). */
void	x86_cpuid_fixup(struct kvm_cpuid2 *, int cpu, int ncpus);
/*
 * Set CPUID, MSRs, FPU and LAPIC LINT pins of a new vCPU. Returns 0, or
 * -1 with errno set.
 */
int	x86_cpu_init(int vcpufd, int cpu, int ncpus,
	    const struct kvm_cpuid2 *supported);
/* Registers of the boot CPU for the 32-bit boot protocol entry. */
int	x86_cpu_boot(int vcpufd, const struct x86_boot *);

#endif

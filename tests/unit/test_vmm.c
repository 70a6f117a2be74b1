/*
 * Unit tests for the runner's core without KVM: guest memory bounds, the
 * I/O buses, the Linux boot (boot_params from a fake bzImage, e820,
 * initrd placement), the ACPI tables, CPUID topology and the legacy
 * devices (UART, PM1 blocks, keyboard controller).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>

#include <asm/bootparam.h>
#include <linux/kvm.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hw.h"
#include "kvm.h"
#include "vmm.h"
#include "x86.h"

#define TEST_RAM	(64ULL << 20)

static int	irq_levels[32];
static int	irq_calls;

static void
fake_line(void *opaque, int gsi, int level)
{
	(void)opaque;
	if (gsi >= 0 && gsi < 32)
		irq_levels[gsi] = level;
	irq_calls++;
}

/* A vmm with buses, a fake irqchip and, if ram, guest RAM. */
static struct vmm *
fake_vmm(uint64_t ram)
{
	struct vmm *vmm;
	void *p;

	vmm = calloc(1, sizeof *vmm);
	assert_non_null(vmm);
	bus_init(&vmm->pio);
	bus_init(&vmm->mmio);
	pthread_mutex_init(&vmm->lock, NULL);
	pthread_cond_init(&vmm->cond, NULL);
	vmm->irq.line = fake_line;
	vmm->nvcpus = 2;
	memset(irq_levels, 0, sizeof irq_levels);
	irq_calls = 0;
	if (ram > 0) {
		p = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(p != MAP_FAILED);
		assert_int_equal(memmap_add(&vmm->mem, 0, ram, p), 0);
		vmm->ram_size = ram;
	}
	return vmm;
}

static void
free_vmm(struct vmm *vmm)
{
	if (vmm->ram_size > 0)
		munmap(vmm->mem.regions[0].host, vmm->ram_size);
	free(vmm);
}

static void
test_memmap_bounds(void **state)
{
	struct memmap mem;
	static uint8_t a[0x1000], b[0x2000];

	(void)state;
	memset(&mem, 0, sizeof mem);
	assert_int_equal(memmap_add(&mem, 0x1000, sizeof a, a), 0);
	assert_int_equal(memmap_add(&mem, 0x100000000ULL, sizeof b, b), 0);
	assert_ptr_equal(memmap_ptr(&mem, 0x1000, 1), a);
	assert_ptr_equal(memmap_ptr(&mem, 0x1ffc, 4), a + 0xffc);
	assert_ptr_equal(memmap_ptr(&mem, 0x1000, 0x1000), a);
	assert_ptr_equal(memmap_ptr(&mem, 0x1fff, 0), a + 0xfff);
	assert_ptr_equal(memmap_ptr(&mem, 0x100001000ULL, 0x1000), b + 0x1000);
	/* Outside, straddling an end, spanning regions, wrapping. */
	assert_null(memmap_ptr(&mem, 0xfff, 1));
	assert_null(memmap_ptr(&mem, 0x1ffd, 4));
	assert_null(memmap_ptr(&mem, 0x2000, 0));
	assert_null(memmap_ptr(&mem, 0x1000, 0x1001));
	assert_null(memmap_ptr(&mem, 0x1000, 0x100000000ULL));
	assert_null(memmap_ptr(&mem, UINT64_MAX - 1, 4));
	assert_null(memmap_ptr(&mem, 0x1800, UINT64_MAX));
	assert_null(memmap_ptr(&mem, 0x100002000ULL, 1));
	/* Bad regions. */
	assert_int_equal(memmap_add(&mem, 0x1800, 0x1000, a), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(memmap_add(&mem, 0x0, 0x1001, a), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(memmap_add(&mem, 0x5000, 0, a), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(memmap_add(&mem, UINT64_MAX - 10, 20, a), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(memmap_add(&mem, 0x10000, 0x1000, a), 0);
	assert_int_equal(memmap_add(&mem, 0x20000, 0x1000, a), 0);
	assert_int_equal(memmap_add(&mem, 0x30000, 0x1000, a), -1);
	assert_int_equal(errno, ENOSPC);
}

struct hit {
	uint64_t	off;
	uint32_t	len;
	int		write;
	int		n;
};

static void
record(void *opaque, uint64_t off, uint8_t *data, uint32_t len, int w)
{
	struct hit *h = opaque;

	h->off = off;
	h->len = len;
	h->write = w;
	h->n++;
	if (!w)
		memset(data, 0x5a, len);
}

static void
test_bus(void **state)
{
	struct bus bus;
	struct hit h1, h2, h3;
	uint8_t data[8];
	int i;

	(void)state;
	memset(&h1, 0, sizeof h1);
	memset(&h2, 0, sizeof h2);
	memset(&h3, 0, sizeof h3);
	bus_init(&bus);
	assert_int_equal(bus_register(&bus, 0x3f8, 8, record, &h1, "a"), 0);
	assert_int_equal(bus_register(&bus, 0x60, 1, record, &h2, "b"), 0);
	/* Overlaps: same start, inside, around, tail. */
	assert_int_equal(bus_register(&bus, 0x3f8, 1, record, &h3, "c"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(bus_register(&bus, 0x3fc, 1, record, &h3, "c"), -1);
	assert_int_equal(bus_register(&bus, 0x300, 0x200, record, &h3, "c"),
	    -1);
	assert_int_equal(bus_register(&bus, 0x3ff, 2, record, &h3, "c"), -1);
	assert_int_equal(bus_register(&bus, 0x400, 0, record, &h3, "c"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bus_register(&bus, UINT64_MAX, 2, record, &h3, "c"),
	    -1);
	/* Adjacent ranges are fine. */
	assert_int_equal(bus_register(&bus, 0x400, 4, record, &h3, "c"), 0);

	assert_int_equal(bus_dispatch(&bus, 0x3fd, data, 1, 0), 0);
	assert_int_equal(h1.off, 5);
	assert_int_equal(h1.len, 1);
	assert_int_equal(h1.write, 0);
	assert_int_equal(data[0], 0x5a);
	assert_int_equal(bus_dispatch(&bus, 0x60, data, 1, 1), 0);
	assert_int_equal(h2.n, 1);
	assert_int_equal(h2.write, 1);
	assert_int_equal(bus_dispatch(&bus, 0x402, data, 2, 0), 0);
	assert_int_equal(h3.off, 2);
	/* Nothing there, or straddling the end: all ones, no call. */
	memset(data, 0, sizeof data);
	assert_int_equal(bus_dispatch(&bus, 0x80, data, 4, 0), -1);
	assert_int_equal(data[0] & data[1] & data[2] & data[3], 0xff);
	assert_int_equal(bus_dispatch(&bus, 0x80, data, 1, 1), -1);
	assert_int_equal(bus_dispatch(&bus, 0x3fe, data, 4, 0), -1);
	assert_int_equal(h1.n, 1);

	assert_int_equal(bus_unregister(&bus, 0x60), 0);
	assert_int_equal(bus_dispatch(&bus, 0x60, data, 1, 0), -1);
	assert_int_equal(bus_unregister(&bus, 0x61), -1);
	assert_int_equal(errno, ENOENT);

	/* Full. */
	for (i = bus.nranges; i < BUS_MAX_RANGES; i++)
		assert_int_equal(bus_register(&bus, 0x10000 + i * 16, 16,
		    record, &h3, "x"), 0);
	assert_int_equal(bus_register(&bus, 0x90000, 1, record, &h3, "x"), -1);
	assert_int_equal(errno, ENOSPC);
	for (i = 1; i < bus.nranges; i++)
		assert_true(bus.ranges[i - 1].base < bus.ranges[i].base);
}

/* A fake bzImage: setup sectors with a header, then a payload. */
static int
fake_bzimage(uint16_t version, uint32_t init_size, size_t payload)
{
	uint8_t *img;
	struct setup_header *hdr;
	size_t setup = 4 * 512, i;
	int fd;

	img = calloc(1, setup + payload);
	assert_non_null(img);
	hdr = (struct setup_header *)(img + 0x1f1);
	hdr->setup_sects = 3;
	hdr->boot_flag = 0xaa55;
	hdr->jump = 0x66eb;		/* header ends at 0x202 + 0x66 */
	hdr->header = 0x53726448;
	hdr->version = version;
	hdr->loadflags = LOADED_HIGH;
	hdr->code32_start = 0x100000;
	hdr->initrd_addr_max = 0x7fffffff;
	hdr->kernel_alignment = 0x200000;
	hdr->relocatable_kernel = 1;
	hdr->cmdline_size = 255;
	hdr->pref_address = 0x1000000;
	hdr->init_size = init_size;
	for (i = 0; i < payload; i++)
		img[setup + i] = i * 7;
	/* The sentinel must not reach the zero page. */
	img[0x1ef] = 0xff;
	fd = memfd_create("bzImage", 0);
	assert_true(fd != -1);
	assert_int_equal(write(fd, img, setup + payload), setup + payload);
	free(img);
	return fd;
}

static int
fake_file(size_t size, uint8_t fill)
{
	uint8_t buf[4096];
	int fd;

	fd = memfd_create("initrd", 0);
	assert_true(fd != -1);
	memset(buf, fill, sizeof buf);
	while (size > 0) {
		size_t n = size < sizeof buf ? size : sizeof buf;

		assert_int_equal(write(fd, buf, n), n);
		size -= n;
	}
	return fd;
}

static void
test_boot_params(void **state)
{
	struct vmm *vmm = fake_vmm(TEST_RAM);
	struct x86_boot boot;
	struct boot_params *bp;
	uint8_t *k, *rd;
	char err[256];
	uint64_t ram = 0;
	int kfd, ifd, i;

	(void)state;
	kfd = fake_bzimage(0x020f, 8 << 20, 100000);
	ifd = fake_file(300000, 0xab);
	assert_int_equal(x86_boot_load(vmm, kfd, ifd, "console=ttyS0 quiet",
	    &boot, err, sizeof err), 0);
	bp = memmap_ptr(&vmm->mem, X86_ZERO_PAGE, sizeof *bp);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_true(bp->hdr.loadflags & LOADED_HIGH);
	assert_int_equal(bp->sentinel, 0);
	assert_int_equal(bp->hdr.cmd_line_ptr, X86_CMDLINE_ADDR);
	assert_string_equal(memmap_ptr(&vmm->mem, X86_CMDLINE_ADDR, 1),
	    "console=ttyS0 quiet");
	assert_int_equal(bp->acpi_rsdp_addr, boot.rsdp);
	assert_true(boot.rsdp >= X86_BIOS_START && boot.rsdp < X86_BIOS_END);
	assert_int_equal(boot.entry, 0x100000);
	assert_int_equal(boot.zero_page, X86_ZERO_PAGE);
	/* The protected-mode kernel at 1 MiB, byte for byte. */
	k = memmap_ptr(&vmm->mem, X86_KERNEL_ADDR, 100000);
	for (i = 0; i < 100000; i++)
		if (k[i] != (uint8_t)(i * 7))
			fail_msg("kernel byte %d", i);
	/* The initrd: page aligned, at the top, clear of the kernel. */
	assert_int_equal(bp->hdr.ramdisk_size, 300000);
	assert_int_equal(bp->hdr.ramdisk_image & 0xfff, 0);
	assert_true(bp->hdr.ramdisk_image + 300000 <= TEST_RAM);
	assert_true(TEST_RAM - bp->hdr.ramdisk_image < 300000 + 4096);
	assert_true(bp->hdr.ramdisk_image >= 0x1000000 + (8 << 20));
	rd = memmap_ptr(&vmm->mem, bp->hdr.ramdisk_image, 300000);
	assert_int_equal(rd[0], 0xab);
	assert_int_equal(rd[299999], 0xab);
	/* The e820 map covers the RAM less the BIOS hole. */
	assert_true(bp->e820_entries >= 3);
	for (i = 0; i < bp->e820_entries; i++)
		if (bp->e820_table[i].type == 1)
			ram += bp->e820_table[i].size;
	assert_int_equal(ram, TEST_RAM - (X86_BIOS_END - X86_EBDA_START));
	/* The boot GDT's code and data descriptors. */
	assert_int_equal(((uint64_t *)memmap_ptr(&vmm->mem, X86_GDT_ADDR,
	    32))[X86_BOOT_CS / 8], 0x00cf9b000000ffffULL);
	close(kfd);
	close(ifd);
	free_vmm(vmm);
}

/* Each failure names its cause. */
static void
test_boot_errors(void **state)
{
	struct vmm *vmm = fake_vmm(TEST_RAM);
	struct x86_boot boot;
	char err[256], longline[400];
	int kfd, ifd;

	(void)state;
	kfd = fake_file(8192, 0);
	assert_int_equal(x86_boot_load(vmm, kfd, -1, "", &boot, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "not a Linux bzImage"));
	close(kfd);

	kfd = fake_bzimage(0x0204, 1 << 20, 1000);
	assert_int_equal(x86_boot_load(vmm, kfd, -1, "", &boot, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "older than 2.06"));
	close(kfd);

	kfd = fake_bzimage(0x020f, 100 << 20, 1000);
	assert_int_equal(x86_boot_load(vmm, kfd, -1, "", &boot, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "too little for this kernel"));
	close(kfd);

	kfd = fake_bzimage(0x020f, 1 << 20, 1000);
	memset(longline, 'x', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	assert_int_equal(x86_boot_load(vmm, kfd, -1, longline, &boot, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "at most 255"));

	ifd = fake_file(60 << 20, 1);
	assert_int_equal(x86_boot_load(vmm, kfd, ifd, "", &boot, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "does not fit"));
	close(ifd);
	close(kfd);
	free_vmm(vmm);
}

static void
test_e820_and_initrd(void **state)
{
	struct boot_e820_entry e[16];
	uint64_t ram = 0;
	int n, i;

	(void)state;
	n = x86_e820(e, 16, 8ULL << 30);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(e[i].addr >= e[i - 1].addr + e[i - 1].size);
		if (e[i].type == 1)
			ram += e[i].size;
		/* Nothing in the PCI window. */
		assert_false(e[i].addr < PCI_MMIO_BASE + PCI_MMIO_SIZE &&
		    e[i].addr + e[i].size > PCI_MMIO_BASE);
	}
	assert_int_equal(ram, (8ULL << 30) - (X86_BIOS_END - X86_EBDA_START));
	assert_int_equal(e[n - 1].addr, X86_HIGHMEM_BASE);
	assert_int_equal(e[n - 1].size, (8ULL << 30) - X86_LOWMEM_END);

	assert_int_equal(x86_initrd_addr(512 << 20, 0x7fffffff, 1 << 20,
	    16 << 20), (511 << 20));
	assert_int_equal(x86_initrd_addr(512 << 20, 0x7fffffff, 5000,
	    16 << 20), (512 << 20) - 8192);
	assert_int_equal(x86_initrd_addr(8ULL << 30, 0x7fffffff, 1 << 20,
	    16 << 20), 0x80000000ULL - (1 << 20));
	assert_int_equal(x86_initrd_addr(8ULL << 30, 0x37ffffff, 1 << 20,
	    16 << 20), 0x38000000ULL - (1 << 20));
	assert_int_equal(x86_initrd_addr(64 << 20, 0x7fffffff, 60 << 20,
	    16 << 20), 0);
	assert_int_equal(x86_initrd_addr(64 << 20, 0x7fffffff, 0, 16 << 20),
	    0);
}

static uint32_t
get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A table at gpa inside buf: signature, sane length, zero checksum. */
static const uint8_t *
check_table(const uint8_t *buf, uint64_t base, size_t len, uint64_t gpa,
    const char *sig)
{
	const uint8_t *t;
	uint32_t tlen;

	assert_true(gpa >= base && gpa + 36 <= base + len);
	t = buf + (gpa - base);
	assert_memory_equal(t, sig, 4);
	tlen = get32(t + 4);
	assert_true(tlen >= 36 && gpa + tlen <= base + len);
	assert_int_equal(acpi_checksum(t, tlen), 0);
	return t;
}

static void
acpi_check(int ncpus)
{
	static uint8_t buf[0x20000];
	static const uint8_t s5[] = { 0x08, 0x5c, '_', 'S', '5', '_', 0x12,
	    0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	const uint64_t base = X86_BIOS_START;
	const uint8_t *xsdt, *fadt, *madt, *dsdt, *facs, *e, *aml;
	uint64_t rsdp;
	size_t used;
	uint32_t dlen, pkg;
	int nlapic = 0;

	memset(buf, 0xee, sizeof buf);
	used = acpi_build(buf, base, sizeof buf, ncpus, &rsdp);
	assert_true(used > 0 && used <= sizeof buf);
	assert_int_equal(rsdp, base);
	assert_memory_equal(buf, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(buf, 20), 0);
	assert_int_equal(acpi_checksum(buf, 36), 0);
	assert_int_equal(buf[15], 2);

	xsdt = check_table(buf, base, used, get64(buf + 24), "XSDT");
	assert_int_equal(get32(xsdt + 4), 36 + 2 * 8);
	fadt = check_table(buf, base, used, get64(xsdt + 36), "FACP");
	madt = check_table(buf, base, used, get64(xsdt + 44), "APIC");

	assert_int_equal(get32(fadt + 4), 276);
	assert_int_equal(get32(fadt + 56), PM1A_EVT_BLK);
	assert_int_equal(get32(fadt + 64), PM1A_CNT_BLK);
	assert_int_equal(fadt[46], PM_SCI_IRQ);
	assert_int_equal(get32(fadt + 48), 0);		/* no SMI port */
	assert_true(get32(fadt + 112) & (1 << 10));	/* RESET_REG_SUP */
	assert_false(get32(fadt + 112) & (1 << 4));	/* fixed power button */
	assert_false(get32(fadt + 112) & (1 << 20));	/* not HW reduced */
	assert_int_equal(get64(fadt + 116 + 4), PM_RESET_REG);
	assert_int_equal(fadt[128], PM_RESET_VALUE);
	facs = buf + (get64(fadt + 132) - base);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal((get64(fadt + 132) & 63), 0);
	dsdt = check_table(buf, base, used, get64(fadt + 140), "DSDT");
	assert_int_equal(get32(fadt + 40), get64(fadt + 140));

	/* One enabled LAPIC per vCPU, APIC id = index, and the IOAPIC. */
	for (e = madt + 44; e < madt + get32(madt + 4); e += e[1]) {
		assert_true(e[1] >= 2);
		if (e[0] == 0) {
			assert_int_equal(e[3], nlapic);
			assert_int_equal(get32(e + 4), 1);
			nlapic++;
		} else if (e[0] == 1)
			assert_int_equal(get32(e + 4), X86_IOAPIC_ADDR);
	}
	assert_int_equal(e, madt + get32(madt + 4));
	assert_int_equal(nlapic, ncpus);

	/* The DSDT: \_S5 first, then one scope spanning the rest. */
	dlen = get32(dsdt + 4);
	aml = dsdt + 36;
	assert_memory_equal(aml, s5, sizeof s5);
	aml += sizeof s5;
	assert_int_equal(aml[0], 0x10);
	assert_int_equal(aml[1] >> 6, 1);	/* two-byte PkgLength */
	pkg = (aml[1] & 0x0f) | aml[2] << 4;
	assert_int_equal(1 + pkg, dsdt + dlen - aml);
	assert_non_null(memmem(dsdt, dlen, "PCI0", 4));
	assert_non_null(memmem(dsdt, dlen, "_PRT", 4));
	assert_non_null(memmem(dsdt, dlen, "_CRS", 4));
}

static void
test_acpi_tables(void **state)
{
	uint8_t small[64];
	uint64_t rsdp;

	(void)state;
	acpi_check(1);
	acpi_check(4);
	acpi_check(64);
	assert_int_equal(acpi_build(small, 0xe0000, sizeof small, 1, &rsdp),
	    0);
	assert_int_equal(acpi_build(small, 0xe0000, sizeof small, 0, &rsdp),
	    0);
}

/* Guest RAM is 2 MiB aligned (KVM's huge pages need it) and all usable. */
static void
test_ram_alignment(void **state)
{
	size_t sizes[] = { 1UL << 20, 3UL << 20, 513UL << 20 };
	uint8_t *ram;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		ram = kvm_ram_alloc(sizes[i]);
		assert_non_null(ram);
		assert_int_equal((uintptr_t)ram % KVM_RAM_ALIGN, 0);
		ram[0] = 1;
		ram[sizes[i] - 1] = 2;
		assert_int_equal(ram[0] + ram[sizes[i] - 1], 3);
		assert_int_equal(munmap(ram, sizes[i]), 0);
	}
}

static void
test_cpuid_topology(void **state)
{
	union {
		struct kvm_cpuid2	hdr;
		uint8_t			buf[sizeof(struct kvm_cpuid2) +
					    6 * sizeof(struct kvm_cpuid_entry2)];
	} u;
	struct kvm_cpuid_entry2 *e = u.hdr.entries;

	(void)state;
	memset(&u, 0, sizeof u);
	u.hdr.nent = 6;
	e[0].function = 1;
	e[0].ebx = 0x12340800;
	e[1].function = 0xb;
	e[1].index = 0;
	e[2].function = 0xb;
	e[2].index = 1;
	e[3].function = 0x80000008;
	e[3].ecx = 0xabcd0000;
	e[4].function = 0x8000001e;
	e[5].function = 0x80000001;
	e[5].ecx = 1 << 2;			/* SVM */
	x86_cpuid_fixup(&u.hdr, 5, 6);
	assert_int_equal(e[0].ebx >> 24, 5);
	assert_int_equal((e[0].ebx >> 16) & 0xff, 8);
	assert_int_equal(e[0].ebx & 0xffff, 0x0800);
	assert_true(e[0].ecx & (1U << 31));	/* hypervisor */
	assert_true(e[0].edx & (1U << 28));	/* HTT */
	assert_int_equal(e[1].edx, 5);
	assert_int_equal(e[1].ebx, 1);
	assert_int_equal(e[2].eax, 3);
	assert_int_equal(e[2].ebx, 6);
	assert_int_equal(e[2].ecx, 0x201);
	assert_int_equal(e[3].ecx, 0xabcd3005);
	assert_int_equal(e[4].eax, 5);
	assert_false(e[5].ecx & (1 << 2));
}

/* IRQ 0 reaches IOAPIC pin 2 (the MADT override); GSI 2 is nowhere. */
static void
test_irq_routes(void **state)
{
	union {
		struct kvm_irq_routing	hdr;
		uint8_t			buf[sizeof(struct kvm_irq_routing) +
					    (X86_IRQCHIP_GSIS + 16) *
					    sizeof(struct kvm_irq_routing_entry)];
	} u;
	struct kvm_irq_routing *r = &u.hdr;
	struct kvm_irq_routing_entry *e = u.hdr.entries;
	uint32_t i;
	int ioapic0 = -1, pic0 = 0, n[X86_IRQCHIP_GSIS];

	(void)state;
	memset(n, 0, sizeof n);
	x86_irq_routes(r);
	assert_true(r->nr <= X86_IRQCHIP_GSIS + 16);
	for (i = 0; i < r->nr; i++) {
		assert_int_equal(e[i].type, KVM_IRQ_ROUTING_IRQCHIP);
		assert_true(e[i].gsi < X86_IRQCHIP_GSIS);
		n[e[i].gsi]++;
		if (e[i].gsi == 0 &&
		    e[i].u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC)
			ioapic0 = e[i].u.irqchip.pin;
		if (e[i].gsi == 0 &&
		    e[i].u.irqchip.irqchip == KVM_IRQCHIP_PIC_MASTER)
			pic0 = 1;
		if (e[i].gsi > 2 &&
		    e[i].u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC)
			assert_int_equal(e[i].u.irqchip.pin, e[i].gsi);
	}
	assert_int_equal(ioapic0, 2);
	assert_true(pic0);
	assert_int_equal(n[2], 0);
	assert_int_equal(n[4], 2);		/* COM1: PIC and IOAPIC */
	assert_int_equal(n[PM_SCI_IRQ], 2);
	assert_int_equal(n[16], 1);
}

static uint8_t
io(bus_fn fn, void *dev, uint64_t off, int write, uint8_t v)
{
	fn(dev, off, &v, 1, write);
	return v;
}

static void
test_ns8250(void **state)
{
	struct vmm *vmm = fake_vmm(0);
	struct ns8250 *s;
	uint8_t buf[128];
	int i;

	(void)state;
	s = ns8250_create(vmm, COM1_BASE, COM1_IRQ, NULL, NULL);
	assert_non_null(s);
	/* Linux's loopback probe: MCR 0x1a reads back as MSR 0x90. */
	io(ns8250_io, s, 4, 1, 0x1a);
	assert_int_equal(io(ns8250_io, s, 6, 0, 0) & 0xf0, 0x90);
	io(ns8250_io, s, 4, 1, 0x00);
	/* FIFOs: IIR reads 0xc1 with nothing pending. */
	io(ns8250_io, s, 2, 1, 0x07);
	assert_int_equal(io(ns8250_io, s, 2, 0, 0), 0xc1);
	assert_int_equal(io(ns8250_io, s, 5, 0, 0), 0x60);
	/* Transmit: bytes reach the owner, THRI interrupts once. */
	io(ns8250_io, s, 4, 1, 0x08);		/* OUT2 */
	io(ns8250_io, s, 1, 1, 0x02);		/* THRI */
	assert_int_equal(irq_levels[COM1_IRQ], 1);
	assert_int_equal(io(ns8250_io, s, 2, 0, 0), 0xc2);
	assert_int_equal(irq_levels[COM1_IRQ], 0);
	io(ns8250_io, s, 0, 1, 'h');
	io(ns8250_io, s, 0, 1, 'i');
	assert_int_equal(ns8250_tx_drain(s, buf, sizeof buf), 2);
	assert_memory_equal(buf, "hi", 2);
	assert_int_equal(ns8250_tx_drain(s, buf, sizeof buf), 0);
	io(ns8250_io, s, 1, 1, 0x00);
	/* Receive: 64 bytes fit, data ready, RDI, read in order. */
	for (i = 0; i < 100; i++)
		buf[i] = i;
	assert_int_equal(ns8250_rx_push(s, buf, 100), NS8250_RX_FIFO);
	assert_int_equal(ns8250_rx_space(s), 0);
	io(ns8250_io, s, 1, 1, 0x01);
	assert_int_equal(irq_levels[COM1_IRQ], 1);
	assert_int_equal(io(ns8250_io, s, 2, 0, 0), 0xc4);
	for (i = 0; i < NS8250_RX_FIFO; i++) {
		assert_true(io(ns8250_io, s, 5, 0, 0) & 0x01);
		assert_int_equal(io(ns8250_io, s, 0, 0, 0), i);
	}
	assert_false(io(ns8250_io, s, 5, 0, 0) & 0x01);
	assert_int_equal(irq_levels[COM1_IRQ], 0);
	/* The divisor latch hides RBR/IER. */
	io(ns8250_io, s, 3, 1, 0x80);
	io(ns8250_io, s, 0, 1, 0x01);
	assert_int_equal(io(ns8250_io, s, 0, 0, 0), 0x01);
	io(ns8250_io, s, 3, 1, 0x03);
	assert_int_equal(ns8250_tx_drain(s, buf, sizeof buf), 0);
	/* Odd widths and offsets do not crash. */
	memset(buf, 0, 8);
	ns8250_io(s, 7, buf, 8, 0);
	ns8250_io(s, 0, buf, 8, 1);
	ns8250_destroy(s);
	free_vmm(vmm);
}

static void
test_pm(void **state)
{
	struct vmm *vmm = fake_vmm(0);
	struct pm *pm;
	uint8_t v[2];

	(void)state;
	pm = pm_create(vmm);
	assert_non_null(pm);
	/* The button before the guest listens: no SCI. */
	pm_power_button(pm);
	assert_int_equal(irq_levels[PM_SCI_IRQ], 0);
	v[0] = 0x00;
	v[1] = 0x01;				/* PWRBTN_EN */
	bus_dispatch(&vmm->pio, PM1A_EVT_BLK + 2, v, 2, 1);
	assert_true(pm_power_button_enabled(pm));
	assert_int_equal(irq_levels[PM_SCI_IRQ], 1);
	bus_dispatch(&vmm->pio, PM1A_EVT_BLK, v, 2, 0);
	assert_int_equal(v[1] & 0x01, 0x01);	/* PWRBTN_STS */
	v[0] = 0;
	v[1] = 0x01;				/* write one to clear */
	bus_dispatch(&vmm->pio, PM1A_EVT_BLK, v, 2, 1);
	assert_int_equal(irq_levels[PM_SCI_IRQ], 0);
	bus_dispatch(&vmm->pio, PM1A_CNT_BLK, v, 2, 0);
	assert_int_equal(v[0] & 0x01, 0x01);	/* SCI_EN */
	/* A sleep type other than S5 does nothing; S5 powers off. */
	v[0] = 0;
	v[1] = (1 << 2) | 0x20;
	bus_dispatch(&vmm->pio, PM1A_CNT_BLK, v, 2, 1);
	assert_int_equal(vmm->exit, VMM_RUNNING);
	v[1] = (PM_SLP_TYP_S5 << 2) | 0x20;
	bus_dispatch(&vmm->pio, PM1A_CNT_BLK, v, 2, 1);
	assert_int_equal(vmm->exit, VMM_POWEROFF);
	pm_destroy(pm);
	free_vmm(vmm);

	vmm = fake_vmm(0);
	pm = pm_create(vmm);
	v[0] = 0x01;
	bus_dispatch(&vmm->pio, PM_RESET_REG, v, 1, 1);
	assert_int_equal(vmm->exit, VMM_RUNNING);
	v[0] = PM_RESET_VALUE;
	bus_dispatch(&vmm->pio, PM_RESET_REG, v, 1, 1);
	assert_int_equal(vmm->exit, VMM_REBOOT);
	pm_destroy(pm);
	free_vmm(vmm);
}

static uint8_t
kbd(struct vmm *vmm, uint16_t port, int write, uint8_t v)
{
	bus_dispatch(&vmm->pio, port, &v, 1, write);
	return v;
}

static void
test_i8042(void **state)
{
	struct vmm *vmm = fake_vmm(0);
	struct i8042 *k;

	(void)state;
	k = i8042_create(vmm);
	assert_non_null(k);
	kbd(vmm, 0x64, 1, 0xaa);			/* self test */
	assert_true(kbd(vmm, 0x64, 0, 0) & 0x01);
	assert_int_equal(kbd(vmm, 0x60, 0, 0), 0x55);
	assert_false(kbd(vmm, 0x64, 0, 0) & 0x01);
	kbd(vmm, 0x64, 1, 0x20);			/* read CTR */
	assert_int_equal(kbd(vmm, 0x60, 0, 0), 0x65);
	/* No AUX port: the loop answers without AUXDATA. */
	kbd(vmm, 0x64, 1, 0xd3);
	kbd(vmm, 0x60, 1, 0x5a);
	assert_int_equal(kbd(vmm, 0x64, 0, 0) & 0x21, 0x01);
	kbd(vmm, 0x64, 1, 0xa9);
	assert_int_equal(kbd(vmm, 0x60, 0, 0), 0x02);
	/* The keyboard answers GETID with an ACK and its id. */
	kbd(vmm, 0x60, 1, 0xf2);
	assert_int_equal(kbd(vmm, 0x60, 0, 0), 0xfa);
	assert_int_equal(kbd(vmm, 0x60, 0, 0), 0xab);
	assert_int_equal(kbd(vmm, 0x60, 0, 0), 0x41);
	assert_int_equal(irq_levels[I8042_KBD_IRQ], 0);
	assert_int_equal(vmm->exit, VMM_RUNNING);
	kbd(vmm, 0x64, 1, 0xfe);			/* pulse reset */
	assert_int_equal(vmm->exit, VMM_REBOOT);
	i8042_destroy(k);
	free_vmm(vmm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memmap_bounds),
		cmocka_unit_test(test_bus),
		cmocka_unit_test(test_boot_params),
		cmocka_unit_test(test_boot_errors),
		cmocka_unit_test(test_e820_and_initrd),
		cmocka_unit_test(test_acpi_tables),
		cmocka_unit_test(test_ram_alignment),
		cmocka_unit_test(test_cpuid_topology),
		cmocka_unit_test(test_irq_routes),
		cmocka_unit_test(test_ns8250),
		cmocka_unit_test(test_pm),
		cmocka_unit_test(test_i8042),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Direct Linux boot through the x86 boot protocol's 32-bit entry: the
 * bzImage's protected-mode kernel at 1 MiB, a zero page (boot_params)
 * holding the image's setup header, the command line, the initrd placed
 * as high as initrd_addr_max allows, the e820 map and the RSDP address,
 * and a flat GDT with the selectors the protocol asks for. The kernel
 * decompresses and relocates itself from there.
 */
#include <sys/stat.h>

#include <asm/bootparam.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"
#include "x86.h"

#define SETUP_HDR_OFF		0x1f1
#define BOOT_FLAG_OFF		0x1fe
#define HEADER_OFF		0x202
#define BOOT_FLAG_MAGIC		0xaa55
#define HDRS_MAGIC		0x53726448	/* "HdrS" */
#define MIN_PROTOCOL		0x0206		/* cmdline_size */
#define SETUP_MAX		(64 * 512)
#define OLD_INITRD_MAX		0x37ffffff	/* before protocol 2.03 */

#define E820_RAM		1
#define E820_RESERVED		2

/* Read exactly len bytes at off; returns 0, or -1 (errno EIO at EOF). */
static int
boot_read(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pread(fd, p, len, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int
e820_add(struct boot_e820_entry *e, int n, int max, uint64_t addr,
    uint64_t size, uint32_t type)
{
	if (n == max || size == 0)
		return n;
	e[n].addr = addr;
	e[n].size = size;
	e[n].type = type;
	return n + 1;
}

/*
 * RAM below 640 KiB less the EBDA, the BIOS hole (where the ACPI tables
 * are) reserved, RAM from 1 MiB to the PCI hole, KVM's TSS pages
 * reserved, and the rest of RAM above 4 GiB. The PCI MMIO window is left
 * out rather than reserved: Linux 6.1 clips host bridge windows that an
 * e820 reservation covers, which would leave no room for BARs.
 */
int
x86_e820(struct boot_e820_entry *e, int max, uint64_t ram)
{
	uint64_t low = ram < X86_LOWMEM_END ? ram : X86_LOWMEM_END;
	int n = 0;

	n = e820_add(e, n, max, 0, X86_EBDA_START, E820_RAM);
	n = e820_add(e, n, max, X86_EBDA_START, X86_BIOS_END - X86_EBDA_START,
	    E820_RESERVED);
	if (low > X86_BIOS_END)
		n = e820_add(e, n, max, X86_BIOS_END, low - X86_BIOS_END,
		    E820_RAM);
	n = e820_add(e, n, max, X86_IDENTITY_MAP_ADDR, X86_KVM_PAGES_SIZE,
	    E820_RESERVED);
	if (ram > low)
		n = e820_add(e, n, max, X86_HIGHMEM_BASE, ram - low, E820_RAM);
	return n;
}

uint64_t
x86_initrd_addr(uint64_t ram, uint32_t addr_max, uint64_t size,
    uint64_t kernel_end)
{
	uint64_t top = ram < X86_LOWMEM_END ? ram : X86_LOWMEM_END;
	uint64_t addr;

	if ((uint64_t)addr_max + 1 < top)
		top = (uint64_t)addr_max + 1;
	if (size == 0 || size > top)
		return 0;
	addr = (top - size) & ~0xfffULL;
	if (addr < kernel_end)
		return 0;
	return addr;
}

/* The flat 4 GiB code and data segments at __BOOT_CS and __BOOT_DS. */
static void
boot_gdt(uint64_t *gdt)
{
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[X86_BOOT_CS / 8] = 0x00cf9b000000ffffULL;	/* code, r/x */
	gdt[X86_BOOT_DS / 8] = 0x00cf93000000ffffULL;	/* data, r/w */
}

/* Put a sentence in err; returns -1. */
static int __attribute__((format(printf, 3, 4)))
boot_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Check a bzImage's setup header; returns NULL if good, else why not. */
static const char *
boot_check_header(const uint8_t *setup, size_t fsize, size_t *setup_size)
{
	const struct setup_header *hdr = (const void *)(setup + SETUP_HDR_OFF);
	size_t sects;

	if (fsize < 1024)
		return "is too small to be a bzImage";
	if (setup[BOOT_FLAG_OFF] != (BOOT_FLAG_MAGIC & 0xff) ||
	    setup[BOOT_FLAG_OFF + 1] != (BOOT_FLAG_MAGIC >> 8) ||
	    hdr->header != HDRS_MAGIC)
		return "is not a Linux bzImage (no boot protocol header)";
	if (hdr->version < MIN_PROTOCOL)
		return "uses a boot protocol older than 2.06";
	if (!(hdr->loadflags & LOADED_HIGH))
		return "is a zImage, not a bzImage";
	sects = hdr->setup_sects == 0 ? 4 : hdr->setup_sects;
	*setup_size = (sects + 1) * 512;
	if (*setup_size > SETUP_MAX || *setup_size >= fsize)
		return "has a setup size that does not fit the file";
	return NULL;
}

int
x86_boot_load(struct vmm *vmm, int kfd, int ifd, const char *cmdline,
    struct x86_boot *boot, char *err, size_t errlen)
{
	static uint8_t setup[SETUP_MAX];
	struct boot_params *bp;
	struct stat st;
	const char *why;
	size_t setup_size, hdr_len, cmdmax, clen;
	uint64_t low, kend, need;
	uint8_t *p;

	memset(boot, 0, sizeof *boot);
	low = vmm->ram_size < X86_LOWMEM_END ? vmm->ram_size : X86_LOWMEM_END;
	if (fstat(kfd, &st) == -1 || boot_read(kfd, setup, 1024, 0) == -1)
		return boot_error(err, errlen, "kernel: %s", strerror(errno));
	if ((why = boot_check_header(setup, st.st_size, &setup_size)) != NULL)
		return boot_error(err, errlen, "kernel %s", why);
	if (boot_read(kfd, setup, setup_size, 0) == -1)
		return boot_error(err, errlen, "kernel: %s", strerror(errno));
	bp = memmap_ptr(&vmm->mem, X86_ZERO_PAGE, sizeof *bp);
	if (bp == NULL)
		return boot_error(err, errlen, "no RAM for the zero page");
	memset(bp, 0, sizeof *bp);
	hdr_len = HEADER_OFF + setup[HEADER_OFF - 1] - SETUP_HDR_OFF;
	if (hdr_len > sizeof bp->hdr)
		hdr_len = sizeof bp->hdr;
	memcpy(&bp->hdr, setup + SETUP_HDR_OFF, hdr_len);

	/* The protected-mode kernel, and the room it decompresses into. */
	boot->kernel_size = st.st_size - setup_size;
	kend = X86_KERNEL_ADDR + boot->kernel_size;
	need = kend;
	if (bp->hdr.version >= 0x020a && bp->hdr.pref_address +
	    bp->hdr.init_size > need)
		need = bp->hdr.pref_address + bp->hdr.init_size;
	if (need > low)
		return boot_error(err, errlen, "%llu MiB of memory is too "
		    "little for this kernel (it needs %llu MiB)",
		    (unsigned long long)low >> 20,
		    (unsigned long long)(need + (1 << 20) - 1) >> 20);
	p = memmap_ptr(&vmm->mem, X86_KERNEL_ADDR, boot->kernel_size);
	if (p == NULL || boot_read(kfd, p, boot->kernel_size, setup_size) ==
	    -1)
		return boot_error(err, errlen, "kernel: %s", p == NULL ?
		    "no RAM to load it" : strerror(errno));

	bp->hdr.type_of_loader = 0xff;
	bp->hdr.code32_start = X86_KERNEL_ADDR;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.vid_mode = 0xffff;

	/* The command line. */
	cmdmax = bp->hdr.cmdline_size;
	if (cmdmax > X86_CMDLINE_MAX - 1)
		cmdmax = X86_CMDLINE_MAX - 1;
	clen = strlen(cmdline);
	if (clen > cmdmax)
		return boot_error(err, errlen, "cmdline is %zu bytes long; "
		    "the kernel takes at most %zu", clen, cmdmax);
	p = memmap_ptr(&vmm->mem, X86_CMDLINE_ADDR, clen + 1);
	if (p == NULL)
		return boot_error(err, errlen, "no RAM for the cmdline");
	memcpy(p, cmdline, clen + 1);
	bp->hdr.cmd_line_ptr = X86_CMDLINE_ADDR;

	/* The initrd, as high as the kernel accepts. */
	if (ifd != -1) {
		if (fstat(ifd, &st) == -1)
			return boot_error(err, errlen, "initrd: %s",
			    strerror(errno));
		boot->initrd_size = st.st_size;
		boot->initrd_addr = x86_initrd_addr(vmm->ram_size,
		    bp->hdr.version >= 0x0203 ? bp->hdr.initrd_addr_max :
		    OLD_INITRD_MAX, boot->initrd_size, need);
		if (boot->initrd_addr == 0)
			return boot_error(err, errlen, "initrd of %llu MiB "
			    "does not fit in %llu MiB of memory beside the "
			    "kernel", (unsigned long long)(boot->initrd_size +
			    (1 << 20) - 1) >> 20,
			    (unsigned long long)vmm->ram_size >> 20);
		p = memmap_ptr(&vmm->mem, boot->initrd_addr,
		    boot->initrd_size);
		if (p == NULL || boot_read(ifd, p, boot->initrd_size, 0) ==
		    -1)
			return boot_error(err, errlen, "initrd: %s", p == NULL ?
			    "no RAM to load it" : strerror(errno));
		bp->hdr.ramdisk_image = boot->initrd_addr;
		bp->hdr.ramdisk_size = boot->initrd_size;
	}

	/* Firmware tables in the BIOS area, and the memory map. */
	p = memmap_ptr(&vmm->mem, X86_BIOS_START, X86_BIOS_END -
	    X86_BIOS_START);
	if (p == NULL || acpi_build(p, X86_BIOS_START, X86_BIOS_END -
	    X86_BIOS_START, vmm->nvcpus, &boot->rsdp) == 0)
		return boot_error(err, errlen, "no room for the ACPI tables of "
		    "%d vCPUs", vmm->nvcpus);
	bp->acpi_rsdp_addr = boot->rsdp;
	bp->e820_entries = x86_e820(bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE,
	    vmm->ram_size);

	p = memmap_ptr(&vmm->mem, X86_GDT_ADDR, 4 * sizeof(uint64_t));
	if (p == NULL)
		return boot_error(err, errlen, "no RAM for the GDT");
	boot_gdt((uint64_t *)p);
	boot->gdt_base = X86_GDT_ADDR;
	boot->gdt_limit = 4 * sizeof(uint64_t) - 1;
	boot->entry = X86_KERNEL_ADDR;
	boot->zero_page = X86_ZERO_PAGE;
	return 0;
}

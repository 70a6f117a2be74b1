/*
 * vmtop-fwjunk: feed garbage into the fw_cfg device (ports 0x510/0x511,
 * DMA address at 0x514) from inside the test guest, to check that the VMM
 * survives it: unknown and huge keys, reads past an item's end, accesses
 * of odd sizes, DMA control structures outside RAM, across its end and in
 * MMIO holes, unknown control bits, lengths of 0 and 0xffffffff,
 * write/skip/select combinations, a transfer over its own control
 * structure. Each round prints "fwjunk ROUND status 0xNN" (the control
 * word after the transfer, or "-" when it lies outside RAM); at the end
 * the signature read both ways must still say "QEMU":
 * "fwjunk valid QEMU QEMU", then "fwjunk done N rounds".
 *
 * Usage: vmtop-fwjunk (as root: it needs iopl and /proc/self/pagemap).
 * VMTOP_fwjunk_skip (vmtop.fwjunk_skip= on the kernel command line) names
 * rounds to leave out, comma-separated: QEMU lets DMA write into the
 * IOAPIC and LAPIC, which the guest does not survive.
 * Guest memory outside its own two pages is touched only past the end of
 * RAM and in the "across-ram-end" round, whose last word the VMM may mark.
 * Built static by tests/guest/build.sh; run by the guest's "fwjunk" test.
 */
#include <sys/io.h>
#include <sys/mman.h>

#include <endian.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmapages.h"

#define PORT_SEL	0x510
#define PORT_DATA	0x511
#define PORT_DMA	0x514
#define KEY_SIGNATURE	0x00
#define KEY_ID		0x01
#define KEY_RAM_SIZE	0x03
#define KEY_FILE_DIR	0x19
#define DMA_ERROR	0x01
#define DMA_READ	0x02
#define DMA_SKIP	0x04
#define DMA_SELECT	0x08
#define DMA_WRITE	0x10
#define FAR		(1ULL << 40)	/* far beyond any test guest's RAM */

struct dma {
	uint32_t ctl;
	uint32_t len;
	uint64_t addr;
};

/* Two pages: a descriptor in the first, a buffer in the second. */
static uint8_t *page[2];
static uint64_t pa[2];
static uint64_t ram_size;
static int rounds;

static void
die(const char *fmt, ...)
{
	va_list ap;

	printf("vmtop-guest: fwjunk error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static void
dma_setup(void)
{
	dma_pages(page, pa, 2);
}

static void
select_key(uint16_t key)
{
	outw(key, PORT_SEL);
}

/* Read n bytes of the selected item through the data port. */
static void
pio_read(uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = inb(PORT_DATA);
}

/* Start the transfer described at guest-physical address gpa. */
static void
dma_kick(uint64_t gpa)
{
	__sync_synchronize();	/* outl() does not tell the compiler */
	outl(htobe32(gpa >> 32), PORT_DMA);
	outl(htobe32((uint32_t)gpa), PORT_DMA + 4);
	__sync_synchronize();
}

/* The control word at the start of page 0 after a transfer. */
static void
report(const char *name, int in_page)
{
	volatile struct dma *d = (volatile struct dma *)page[0];

	if (in_page)
		printf("vmtop-guest: fwjunk %s status 0x%02x\n", name,
		    be32toh(d->ctl));
	else
		printf("vmtop-guest: fwjunk %s status -\n", name);
	rounds++;
	memset(page[0], 0, 2 * 4096);
}

/* Whether VMTOP_fwjunk_skip names the round. */
static int
skipped(const char *name)
{
	const char *skip = getenv("VMTOP_fwjunk_skip");

	if (skip == NULL || strstr(skip, name) == NULL)
		return 0;
	printf("vmtop-guest: fwjunk %s skipped\n", name);
	return 1;
}

/* One transfer with its descriptor at the start of page 0. */
static void
dma(const char *name, uint32_t ctl, uint32_t len, uint64_t addr)
{
	struct dma *d = (struct dma *)page[0];

	if (skipped(name))
		return;
	d->ctl = htobe32(ctl);
	d->len = htobe32(len);
	d->addr = htobe64(addr);
	dma_kick(pa[0]);
	report(name, 1);
}

/* A transfer whose descriptor is at gpa, outside the pages. */
static void
dma_at(const char *name, uint64_t gpa)
{
	if (skipped(name))
		return;
	dma_kick(gpa);
	report(name, 0);
}

/* The signature through the data port, then by DMA, into sig[2][5]. */
static void
signature(char sig[2][5])
{
	struct dma *d = (struct dma *)page[0];

	select_key(KEY_SIGNATURE);
	pio_read((uint8_t *)sig[0], 4);
	sig[0][4] = '\0';
	memset(page[0], 0, 2 * 4096);
	d->ctl = htobe32(DMA_SELECT | DMA_READ | KEY_SIGNATURE << 16);
	d->len = htobe32(4);
	d->addr = htobe64(pa[1]);
	dma_kick(pa[0]);
	memcpy(sig[1], d->ctl == 0 ? page[1] : (uint8_t *)"fail", 4);
	sig[1][4] = '\0';
}

/* Port accesses of every size to every fw_cfg port and around them. */
static void
odd_ports(void)
{
	uint16_t port;
	uint8_t buf[64];

	for (port = 0x50e; port < 0x51e; port++) {
		outb(0xff, port);
		outw(0xffff, port);
		(void)inb(port);
		(void)inw(port);
		(void)inl(port);
		if (port == PORT_DMA || port == PORT_DMA + 4)
			continue;	/* a 4-byte write there starts a DMA */
		outl(0xffffffff, port);
	}
	outw(KEY_SIGNATURE, PORT_SEL);
	outb(0x55, PORT_DATA);		/* writes to the data port */
	outw(0x5555, PORT_DATA);
	outl(0x55555555, PORT_SEL);
	pio_read(buf, 8);
	printf("vmtop-guest: fwjunk odd-ports ok\n");
	rounds++;
}

/* Keys nobody has, and reads far past the ends of those that exist. */
static void
keys(void)
{
	static const uint16_t k[] = { 0x7fff, 0xffff, 0x4000, 0xc000, 0x8000,
	    0x3fff, 0x20 + 63, KEY_FILE_DIR | 0x4000 };
	uint8_t buf[4096];
	size_t i, nz;

	for (i = 0; i < sizeof k / sizeof k[0]; i++) {
		select_key(k[i]);
		pio_read(buf, 64);
	}
	select_key(KEY_SIGNATURE);
	pio_read(buf, sizeof buf);
	for (i = 4, nz = 0; i < sizeof buf; i++)
		nz += buf[i] != 0;
	printf("vmtop-guest: fwjunk past-end %.4s then %zu non-zero\n", buf,
	    nz);
	rounds++;
}

int
main(void)
{
	char sig[2][5];
	uint64_t top;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (iopl(3) == -1)
		die("iopl: %m");
	dma_setup();
	select_key(KEY_SIGNATURE);
	pio_read((uint8_t *)sig[0], 4);
	if (memcmp(sig[0], "QEMU", 4) != 0)
		die("no fw_cfg here (signature %02x%02x%02x%02x)",
		    (uint8_t)sig[0][0], (uint8_t)sig[0][1],
		    (uint8_t)sig[0][2], (uint8_t)sig[0][3]);
	select_key(KEY_RAM_SIZE);
	pio_read((uint8_t *)&ram_size, 8);
	ram_size = le64toh(ram_size);
	printf("vmtop-guest: fwjunk start ram_size 0x%llx\n",
	    (unsigned long long)ram_size);

	keys();
	odd_ports();

	/* descriptors outside RAM, in holes, across RAM's end */
	dma_at("desc-far", FAR);
	dma_at("desc-all-ones", ~0ULL & ~0xfULL);
	dma_at("desc-ioapic", 0xfec00000);
	dma_at("desc-lapic", 0xfee00000);
	dma_at("desc-pci-window", 0xc0000000);
	dma_at("desc-bios", 0xfffffff8);
	dma_at("desc-rom-top", 0x100000000ULL - 16);
	top = ram_size < 0xc0000000ULL ? ram_size : 0;
	if (top > 4096) {
		dma_at("desc-past-ram-end", top);
		dma_at("desc-across-ram-end", top - 4);
	}
	/* only the high half, then the selector, then a far low half */
	outl(htobe32(0xffffffff), PORT_DMA);
	select_key(KEY_SIGNATURE);
	outl(htobe32(0xfffffff0), PORT_DMA + 4);
	report("high-half-only", 0);

	/* transfers to bad places */
	dma("read-far", DMA_SELECT | DMA_READ, 64, FAR);
	dma("read-ioapic", DMA_SELECT | DMA_READ, 64, 0xfec00000);
	dma("read-lapic", DMA_SELECT | DMA_READ, 64, 0xfee00000);
	dma("read-pci-window", DMA_SELECT | DMA_READ, 4096, 0xc0000000);
	dma("read-wrap", DMA_SELECT | DMA_READ, 4096, ~0ULL - 15);
	if (top > 4096)
		dma("read-past-ram-end", DMA_SELECT | DMA_READ, 4096, top);
	dma("read-huge-far", DMA_SELECT | DMA_READ, 0xffffffff, FAR);
	dma("read-zero-len", DMA_SELECT | DMA_READ, 0, FAR);
	dma("skip-huge", DMA_SELECT | DMA_SKIP, 0xffffffff, 0);
	dma("skip-huge-unknown-key", DMA_SELECT | DMA_SKIP | 0x7fff << 16,
	    0xffffffff, FAR);
	dma("read-unknown-key", DMA_SELECT | DMA_READ | 0xffff << 16, 4096,
	    pa[1]);
	dma("read-dir", DMA_SELECT | DMA_READ | KEY_FILE_DIR << 16, 4096,
	    pa[1]);

	/* control words no firmware writes */
	dma("ctl-zero", 0, 4096, FAR);
	dma("ctl-error-bit", DMA_ERROR | DMA_READ, 16, pa[1]);
	dma("ctl-unknown-bits", 0xffe0 | DMA_READ, 16, pa[1]);
	dma("ctl-all-ones", 0xffffffff, 0xffffffff, FAR);
	dma("write-signature", DMA_SELECT | DMA_WRITE, 4, pa[1]);
	dma("write-id", DMA_SELECT | DMA_WRITE | KEY_ID << 16, 0xffffffff,
	    FAR);
	dma("write-write-channel", DMA_SELECT | DMA_WRITE | 0x4000 << 16, 4,
	    pa[1]);
	dma("write-skip-read", DMA_WRITE | DMA_SKIP | DMA_READ, 64, pa[1]);
	dma("write-skip", DMA_SELECT | DMA_WRITE | DMA_SKIP, 64, pa[1]);
	dma("select-only", DMA_SELECT | KEY_FILE_DIR << 16, 0, 0);

	/* a transfer over its own control structure, and one beyond it */
	dma("read-over-itself", DMA_SELECT | DMA_READ | KEY_FILE_DIR << 16,
	    16, pa[0]);
	dma("read-over-itself-long", DMA_SELECT | DMA_READ | KEY_FILE_DIR << 16,
	    4096, pa[0]);

	/* a storm of transfers that each end at once */
	for (i = 0; i < 1000; i++) {
		struct dma *d = (struct dma *)page[0];

		d->ctl = htobe32(DMA_SELECT | DMA_READ | (i & 0x3f) << 16);
		d->len = htobe32(i);
		d->addr = htobe64(i & 1 ? FAR : pa[1]);
		dma_kick(pa[0]);
	}
	report("storm", 1);

	signature(sig);
	printf("vmtop-guest: fwjunk valid %s %s\n", sig[0], sig[1]);
	printf("vmtop-guest: fwjunk done %d rounds\n", rounds);
	return 0;
}

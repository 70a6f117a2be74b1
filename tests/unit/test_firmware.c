/*
 * Unit tests for the firmware boot pieces without KVM: loading a BIOS
 * image (sizes, the copy below 1 MiB, errors naming the file), the
 * memory map fw_cfg hands the firmware, the debug port's lines and
 * readback, and PCI devices left unassigned for the firmware to place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwcfg.h"
#include "hw.h"
#include "pci.h"
#include "vmm.h"
#include "x86.h"

#define RAM	(2 * 1024 * 1024)

static struct vmm	vmm;
static uint8_t		*ram;

static int
setup(void **state)
{
	(void)state;
	memset(&vmm, 0, sizeof vmm);
	bus_init(&vmm.pio);
	bus_init(&vmm.mmio);
	ram = calloc(1, RAM);
	if (ram == NULL || memmap_add(&vmm.mem, 0, RAM, ram) == -1)
		return -1;
	vmm.ram_size = RAM;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

/* A memfd of len bytes, byte i = (i * 7 + i / 4096) & 0xff. */
static int
image(size_t len)
{
	uint8_t *p;
	size_t i;
	int fd;

	fd = memfd_create("bios", 0);
	assert_true(fd >= 0);
	p = malloc(len ? len : 1);
	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = (i * 7 + i / 4096) & 0xff;
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	free(p);
	return fd;
}

static void
test_bios_load(void **state)
{
	uint64_t size;
	void *rom;
	uint8_t *r;
	char err[256];
	size_t len = 256 * 1024, i;
	int fd;

	(void)state;
	fd = image(len);
	assert_int_equal(x86_bios_load(&vmm, fd, "bios.bin", &rom, &size, err,
	    sizeof err), 0);
	assert_int_equal(size, len);
	r = rom;
	for (i = 0; i < len; i += 4093)
		assert_int_equal(r[i], (i * 7 + i / 4096) & 0xff);
	/* Its last 128 KiB at 0xe0000-0xfffff. */
	assert_memory_equal(ram + 0xe0000, r + len - 0x20000, 0x20000);
	assert_int_equal(ram[0xdffff], 0);
	assert_int_equal(ram[0x100000], 0);
	/* The reset vector's bytes are where the CPU fetches them. */
	assert_int_equal(ram[0xffff0], r[len - 16]);
	munmap(rom, size);
	close(fd);
}

static void
test_bios_bad_sizes(void **state)
{
	static const size_t sizes[] = { 0, 4096, 64 * 1024, 128 * 1024 + 512,
	    192 * 1024 + 1, 32 * 1024 * 1024 };
	uint64_t size = 1;
	void *rom = &size;
	char err[256];
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		fd = image(sizes[i]);
		memset(ram + 0xe0000, 0, 0x20000);
		err[0] = '\0';
		assert_int_equal(x86_bios_load(&vmm, fd, "/x/odd.bin", &rom,
		    &size, err, sizeof err), -1);
		assert_non_null(strstr(err, "/x/odd.bin"));
		assert_non_null(strstr(err, "64 KiB"));
		assert_null(rom);
		assert_int_equal(size, 0);
		assert_int_equal(ram[0xffff0], 0);
		close(fd);
	}
	/* 192 KiB is a multiple of 64 KiB: fine. */
	fd = image(192 * 1024);
	assert_int_equal(x86_bios_load(&vmm, fd, "b", &rom, &size, err,
	    sizeof err), 0);
	assert_int_equal(size, 192 * 1024);
	munmap(rom, size);
	close(fd);
	/* Not a file. */
	assert_int_equal(x86_bios_load(&vmm, -1, "gone.bin", &rom, &size,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "gone.bin"));
}

static void
test_bios_no_low_ram(void **state)
{
	struct vmm small;
	uint8_t buf[4096];
	uint64_t size;
	void *rom;
	char err[256];
	int fd;

	(void)state;
	memset(&small, 0, sizeof small);
	assert_int_equal(memmap_add(&small.mem, 0, sizeof buf, buf), 0);
	small.ram_size = sizeof buf;
	fd = image(128 * 1024);
	assert_int_equal(x86_bios_load(&small, fd, "b", &rom, &size, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "1 MiB"));
	close(fd);
}

static void
test_fw_e820(void **state)
{
	struct fwcfg_e820 e[4];
	int n;

	(void)state;
	n = x86_fw_e820(e, 4, 512ULL << 20);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].addr, 0);
	assert_int_equal(e[0].len, 512ULL << 20);
	assert_int_equal(e[0].type, 1);
	assert_int_equal(e[1].addr, X86_IDENTITY_MAP_ADDR);
	assert_int_equal(e[1].len, X86_KVM_PAGES_SIZE);
	assert_int_equal(e[1].type, 2);

	n = x86_fw_e820(e, 4, 8ULL << 30);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].len, X86_LOWMEM_END);
	assert_int_equal(e[2].addr, X86_HIGHMEM_BASE);
	assert_int_equal(e[2].len, (8ULL << 30) - X86_LOWMEM_END);
	assert_int_equal(x86_fw_e820(e, 1, 8ULL << 30), 1);

	/* KVM's pages: outside the PCI window, below a 16 MiB BIOS. */
	assert_true(X86_IDENTITY_MAP_ADDR >= PCI_MMIO_BASE + PCI_MMIO_SIZE);
	assert_true(X86_TSS_ADDR == X86_IDENTITY_MAP_ADDR + 0x1000);
	assert_true(X86_IDENTITY_MAP_ADDR + X86_KVM_PAGES_SIZE <=
	    X86_4G - X86_BIOS_MAX_SIZE);
	assert_true(X86_IDENTITY_MAP_ADDR >= X86_LAPIC_ADDR + 0x100000);
}

static char	lines[8][DEBUGCON_LINE_MAX + 1];
static int	nlines;

static void
line(void *arg, const char *s)
{
	assert_ptr_equal(arg, &nlines);
	assert_true(strlen(s) <= DEBUGCON_LINE_MAX);
	if (nlines < 8)
		strcpy(lines[nlines], s);
	nlines++;
}

static void
out(const char *s)
{
	assert_int_equal(bus_dispatch(&vmm.pio, DEBUGCON_PORT, (uint8_t *)s,
	    1, 1), 0);
}

static void
test_debugcon(void **state)
{
	struct debugcon *d;
	uint8_t b[4], big[400];
	const char *p;

	(void)state;
	nlines = 0;
	d = debugcon_create(&vmm, line, &nlines);
	assert_non_null(d);
	assert_null(debugcon_create(&vmm, line, &nlines));
	memset(b, 0, sizeof b);
	assert_int_equal(bus_dispatch(&vmm.pio, DEBUGCON_PORT, b, 1, 0), 0);
	assert_int_equal(b[0], 0xe9);
	/* Nothing else answers next to it: all ones. */
	assert_int_equal(bus_dispatch(&vmm.pio, DEBUGCON_PORT + 1, b, 1, 0),
	    -1);
	assert_int_equal(b[0], 0xff);

	for (p = "SeaBIOS (version 1.16.2)\r\n"; *p != '\0'; p++)
		out(p);
	assert_int_equal(nlines, 1);
	assert_string_equal(lines[0], "SeaBIOS (version 1.16.2)");
	out("\x01"); out("\t"); out("x"); out("\xff"); out("\n");
	assert_int_equal(nlines, 2);
	assert_string_equal(lines[1], "? x?");
	out("\n");
	assert_string_equal(lines[2], "");
	/* A line without end is cut at the maximum. */
	memset(big, 'a', sizeof big);
	debugcon_io(d, 0, big, sizeof big, 1);
	assert_int_equal(nlines, 5);
	assert_int_equal(strlen(lines[3]), DEBUGCON_LINE_MAX);
	assert_int_equal(strlen(lines[4]), DEBUGCON_LINE_MAX);
	out("z");
	debugcon_destroy(d);
	assert_int_equal(nlines, 6);
	assert_int_equal(strlen(lines[5]), sizeof big - 2 * DEBUGCON_LINE_MAX +
	    1);
	/* The port is free again. */
	assert_int_equal(bus_dispatch(&vmm.pio, DEBUGCON_PORT, b, 1, 0), -1);
}

static int
bar_fn_calls;

static void
bar_fn(void *opaque, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	(void)opaque; (void)off; (void)is_write;
	memset(data, 0x5a, len);
	bar_fn_calls++;
}

static uint32_t
cfg(struct pci *pci, int slot, int reg, uint32_t v, int is_write)
{
	uint32_t d = v;

	pci_cfg_access(pci, 0x80000000U | slot << 11 | reg, (uint8_t *)&d, 4,
	    is_write);
	return d;
}

/* Under firmware BARs start at 0 with decoding off; the firmware maps. */
static void
test_pci_firmware(void **state)
{
	struct pci *pci;
	struct pci_dev dev, dev2;
	uint8_t b[4];
	int fw;

	(void)state;
	for (fw = 0; fw < 2; fw++) {
		vmm.firmware = fw;
		pci = pci_create(&vmm);
		assert_non_null(pci);
		pci_dev_init(&dev, "t", 0x1af4, 0x1042, 0x018000, 1);
		assert_int_equal(pci_add_bar(pci, &dev, 0, 0x4000, bar_fn,
		    NULL), 0);
		assert_int_equal(pci_register(pci, &dev), 0);
		if (!fw) {
			assert_int_equal(cfg(pci, 1, 0x10, 0, 0),
			    PCI_MMIO_BASE);
			assert_true(cfg(pci, 1, 0x04, 0, 0) & 2);
			assert_int_equal(bus_dispatch(&vmm.mmio,
			    PCI_MMIO_BASE, b, 4, 0), 0);
			pci_unregister(pci, &dev);
			pci_destroy(pci);
			continue;
		}
		assert_int_equal(cfg(pci, 1, 0x10, 0, 0), 0);
		assert_int_equal(cfg(pci, 1, 0x04, 0, 0) & 0xffff, 0);
		assert_int_equal(bus_dispatch(&vmm.mmio, PCI_MMIO_BASE, b, 4,
		    0), -1);
		/* Sizing as SeaBIOS does, then placing and enabling. */
		cfg(pci, 1, 0x10, 0xffffffff, 1);
		assert_int_equal(cfg(pci, 1, 0x10, 0, 0), 0xffffc000);
		cfg(pci, 1, 0x10, 0xfebf0000, 1);
		assert_int_equal(bus_dispatch(&vmm.mmio, 0xfebf0000, b, 4, 0),
		    -1);
		cfg(pci, 1, 0x04, 0x2, 1);
		bar_fn_calls = 0;
		assert_int_equal(bus_dispatch(&vmm.mmio, 0xfebf0000, b, 4, 0),
		    0);
		assert_int_equal(bar_fn_calls, 1);
		assert_int_equal(b[0], 0x5a);
		/* A second device also starts unplaced. */
		pci_dev_init(&dev2, "u", 0x1af4, 0x1042, 0x018000, 1);
		assert_int_equal(pci_add_bar(pci, &dev2, 0, 0x4000, bar_fn,
		    NULL), 0);
		assert_int_equal(pci_register(pci, &dev2), 0);
		assert_int_equal(cfg(pci, 2, 0x10, 0, 0), 0);
		pci_unregister(pci, &dev2);
		pci_unregister(pci, &dev);
		assert_int_equal(bus_dispatch(&vmm.mmio, 0xfebf0000, b, 4, 0),
		    -1);
		pci_destroy(pci);
	}
	vmm.firmware = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bios_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bios_bad_sizes, setup,
		    teardown),
		cmocka_unit_test(test_bios_no_low_ram),
		cmocka_unit_test(test_fw_e820),
		cmocka_unit_test_setup_teardown(test_debugcon, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pci_firmware, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for the fw_cfg device without KVM, driven through the port
 * I/O bus as SeaBIOS drives it (src/fw/paravirt.c): the signature and ID,
 * the file directory, byte reads, DMA read/skip/select, DMA with bad
 * guest addresses, and the ACPI table loader script played the way
 * src/fw/romfile_loader.c plays it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwcfg.h"
#include "vmm.h"
#include "x86.h"

#define TEST_RAM	(64ULL << 20)
#define DESC_GPA	0x1000ULL	/* where tests put DMA descriptors */
#define BUF_GPA		0x10000ULL	/* and DMA buffers */

/* A vmm with a port I/O bus and guest RAM from 0. */
static struct vmm *
fake_vmm(void)
{
	struct vmm *vmm;
	void *p;

	vmm = calloc(1, sizeof *vmm);
	assert_non_null(vmm);
	bus_init(&vmm->pio);
	bus_init(&vmm->mmio);
	p = mmap(NULL, TEST_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(memmap_add(&vmm->mem, 0, TEST_RAM, p), 0);
	vmm->ram_size = TEST_RAM;
	return vmm;
}

static void
free_vmm(struct vmm *vmm)
{
	munmap(vmm->mem.regions[0].host, TEST_RAM);
	free(vmm);
}

static uint8_t *
gpa(struct vmm *vmm, uint64_t a)
{
	uint8_t *p = memmap_ptr(&vmm->mem, a, 1);

	assert_non_null(p);
	return p;
}

static void
cfg_select(struct vmm *vmm, uint16_t key)
{
	uint8_t d[2] = { key & 0xff, key >> 8 };

	assert_int_equal(bus_dispatch(&vmm->pio, FWCFG_PORT_SEL, d, 2, 1), 0);
}

static uint8_t
cfg_inb(struct vmm *vmm)
{
	uint8_t b = 0xee;

	assert_int_equal(bus_dispatch(&vmm->pio, FWCFG_PORT_DATA, &b, 1, 0),
	    0);
	return b;
}

/* What outl(cpu_to_be32(v), port) hands the device. */
static void
cfg_outl_be(struct vmm *vmm, uint16_t port, uint32_t v)
{
	uint8_t d[4];

	v = htobe32(v);
	memcpy(d, &v, 4);
	assert_int_equal(bus_dispatch(&vmm->pio, port, d, 4, 1), 0);
}

/*
 * Write a descriptor at desc, trigger it with the high then the low half
 * of desc's address, and return the control word the device left.
 */
static uint32_t
cfg_dma_at(struct vmm *vmm, uint64_t desc, uint32_t ctl, uint32_t len,
    uint64_t addr)
{
	uint8_t *d;
	uint32_t v;
	uint64_t v64;

	if ((d = memmap_ptr(&vmm->mem, desc, 16)) != NULL) {
		v = htobe32(ctl);
		memcpy(d, &v, 4);
		v = htobe32(len);
		memcpy(d + 4, &v, 4);
		v64 = htobe64(addr);
		memcpy(d + 8, &v64, 8);
	}
	/* SeaBIOS writes only the low half; the high one reads as 0. */
	if (desc >> 32 != 0)
		cfg_outl_be(vmm, FWCFG_PORT_DMA, desc >> 32);
	cfg_outl_be(vmm, FWCFG_PORT_DMA + 4, desc & 0xffffffff);
	if ((d = memmap_ptr(&vmm->mem, desc, 4)) == NULL)
		return 0xdeadbeef;
	memcpy(&v, d, 4);
	return be32toh(v);
}

static uint32_t
cfg_dma(struct vmm *vmm, uint32_t ctl, uint32_t len, uint64_t addr)
{
	return cfg_dma_at(vmm, DESC_GPA, ctl, len, addr);
}

static uint32_t
sel(uint16_t key)
{
	return (uint32_t)key << 16 | FWCFG_DMA_SELECT;
}

static void
test_signature_id(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	uint8_t sig[8];
	uint32_t id;
	int i;

	(void)state;
	fw = fwcfg_create(vmm);
	assert_non_null(fw);
	/* qemu_cfg_detect: select 0, four inb of "QEMU". */
	cfg_select(vmm, FWCFG_SIGNATURE);
	assert_int_equal(cfg_inb(vmm), 'Q');
	assert_int_equal(cfg_inb(vmm), 'E');
	assert_int_equal(cfg_inb(vmm), 'M');
	assert_int_equal(cfg_inb(vmm), 'U');
	/* Past the end: zeros. */
	assert_int_equal(cfg_inb(vmm), 0);
	assert_int_equal(cfg_inb(vmm), 0);
	/* The ID: traditional and DMA, little-endian. */
	cfg_select(vmm, FWCFG_ID);
	for (i = 0, id = 0; i < 4; i++)
		id |= (uint32_t)cfg_inb(vmm) << (8 * i);
	assert_int_equal(id, FWCFG_ID_TRADITIONAL | FWCFG_ID_DMA);
	/* The same through DMA, as qemu_cfg_read_entry does. */
	memset(gpa(vmm, BUF_GPA), 0xaa, 8);
	assert_int_equal(cfg_dma(vmm, sel(FWCFG_ID) | FWCFG_DMA_READ, 4,
	    BUF_GPA), 0);
	assert_memory_equal(gpa(vmm, BUF_GPA), "\3\0\0\0\xaa", 5);
	/* The DMA register reads back "QEMU CFG". */
	memset(sig, 0, sizeof sig);
	assert_int_equal(bus_dispatch(&vmm->pio, FWCFG_PORT_DMA, sig, 8, 0),
	    0);
	assert_memory_equal(sig, "QEMU CFG", 8);
	assert_int_equal(bus_dispatch(&vmm->pio, FWCFG_PORT_DMA + 4, sig, 4,
	    0), 0);
	assert_memory_equal(sig, " CFG", 4);
	/* Selector reads and data writes change nothing. */
	cfg_select(vmm, FWCFG_SIGNATURE);
	sig[0] = 'X';
	assert_int_equal(bus_dispatch(&vmm->pio, FWCFG_PORT_DATA, sig, 1, 1),
	    0);
	assert_int_equal(cfg_inb(vmm), 'Q');
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

static void
test_create_ports(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	uint8_t b;

	(void)state;
	fw = fwcfg_create(vmm);
	assert_non_null(fw);
	/* The ports are taken, so a second device fails. */
	assert_null(fwcfg_create(vmm));
	fwcfg_destroy(fw);
	/* Destroy gave them back. */
	b = 0;
	assert_int_equal(bus_dispatch(&vmm->pio, FWCFG_PORT_DATA, &b, 1, 0),
	    -1);
	fw = fwcfg_create(vmm);
	assert_non_null(fw);
	fwcfg_destroy(fw);
	/* Without a vmm: usable, not registered, DMA does nothing. */
	fw = fwcfg_create(NULL);
	assert_non_null(fw);
	b = 0;
	fwcfg_io(fw, 1, &b, 1, 0);
	assert_int_equal(b, 'Q');
	fwcfg_dma_io(fw, 4, (uint8_t *)"\0\0\x10\0", 4, 1);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

static const char *const names[] = {
	"zeta", "etc/e820", "bootorder", "etc/acpi/rsdp", "etc/acpi/tables",
	"a",
};
#define NNAMES	(int)(sizeof names / sizeof names[0])
static const char *const sorted_names[] = {
	"a", "bootorder", "etc/acpi/rsdp", "etc/acpi/tables", "etc/e820",
	"zeta",
};

static void
test_file_dir(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	char name[80], blob[64];
	const uint8_t *e;
	uint32_t count, size;
	uint16_t key;
	int i, j, k;

	(void)state;
	fw = fwcfg_create(vmm);
	assert_non_null(fw);
	/* Empty directory: count 0. */
	cfg_select(vmm, FWCFG_FILE_DIR);
	for (i = 0; i < 4; i++)
		assert_int_equal(cfg_inb(vmm), 0);
	for (i = 0; i < NNAMES; i++) {
		memset(blob, 'A' + i, sizeof blob);
		k = fwcfg_add_file(fw, names[i], blob, 10 + i);
		assert_int_equal(k, FWCFG_FILE_FIRST + i);
		assert_int_equal(fwcfg_file_key(fw, names[i]), k);
	}
	assert_int_equal(fwcfg_file_key(fw, "nope"), -1);

	/* Read it as qemu_cfg_init does: count, then 64-byte entries. */
	assert_int_equal(cfg_dma(vmm, sel(FWCFG_FILE_DIR) | FWCFG_DMA_READ,
	    4, BUF_GPA), 0);
	memcpy(&count, gpa(vmm, BUF_GPA), 4);
	assert_int_equal(be32toh(count), NNAMES);
	assert_int_equal(cfg_dma(vmm, FWCFG_DMA_READ, NNAMES * 64, BUF_GPA),
	    0);
	for (i = 0; i < NNAMES; i++) {
		e = gpa(vmm, BUF_GPA) + i * 64;
		memcpy(&size, e, 4);
		memcpy(&key, e + 4, 2);
		assert_string_equal((const char *)e + 8, sorted_names[i]);
		assert_int_equal(e[6], 0);
		assert_int_equal(e[7], 0);
		for (j = 0; j < NNAMES; j++)
			if (strcmp(names[j], sorted_names[i]) == 0)
				break;
		assert_int_equal(be16toh(key), FWCFG_FILE_FIRST + j);
		assert_int_equal(be32toh(size), 10 + j);
		/* Each name is NUL-padded to 56 bytes. */
		for (k = strlen(sorted_names[i]); k < FWCFG_NAME_SIZE; k++)
			assert_int_equal(e[8 + k], 0);
	}

	/* Errors. */
	assert_int_equal(fwcfg_add_file(fw, "zeta", blob, 1), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(fwcfg_add_file(fw, "", blob, 1), -1);
	assert_int_equal(errno, EINVAL);
	memset(name, 'n', sizeof name);
	name[FWCFG_NAME_SIZE - 1] = '\0';
	assert_int_equal(fwcfg_add_file(fw, name, blob, 1), FWCFG_FILE_FIRST +
	    NNAMES);
	name[FWCFG_NAME_SIZE - 1] = 'n';
	name[FWCFG_NAME_SIZE] = '\0';
	assert_int_equal(fwcfg_add_file(fw, name, blob, 1), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	for (i = NNAMES + 1; i < FWCFG_MAX_FILES; i++) {
		snprintf(name, sizeof name, "opt/f%d", i);
		assert_int_equal(fwcfg_add_file(fw, name, blob, 1),
		    FWCFG_FILE_FIRST + i);
	}
	assert_int_equal(fwcfg_add_file(fw, "opt/last", blob, 1), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(fwcfg_add_file(fw, "zeta", blob, 1), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(cfg_dma(vmm, sel(FWCFG_FILE_DIR) | FWCFG_DMA_READ,
	    4, BUF_GPA), 0);
	memcpy(&count, gpa(vmm, BUF_GPA), 4);
	assert_int_equal(be32toh(count), FWCFG_MAX_FILES);
	/* Raw keys may not collide with the directory or the files. */
	assert_int_equal(fwcfg_add_bytes(fw, FWCFG_FILE_DIR, blob, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fwcfg_add_bytes(fw, FWCFG_FILE_FIRST, blob, 1), -1);
	assert_int_equal(fwcfg_add_bytes(fw, 0x4001, blob, 1), -1);
	assert_int_equal(fwcfg_add_bytes(fw, 0xc000, blob, 1), -1);
	assert_int_equal(fwcfg_add_bytes(fw, 0x8003, blob, 1), 0);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

static void
test_byte_reads(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	uint8_t blob[300];
	int i, k;

	(void)state;
	fw = fwcfg_create(vmm);
	for (i = 0; i < (int)sizeof blob; i++)
		blob[i] = i * 7 + 3;
	k = fwcfg_add_file(fw, "etc/blob", blob, sizeof blob);
	assert_true(k >= FWCFG_FILE_FIRST);
	cfg_select(vmm, k);
	for (i = 0; i < (int)sizeof blob; i++)
		assert_int_equal(cfg_inb(vmm), blob[i]);
	assert_int_equal(cfg_inb(vmm), 0);
	/* A new select rewinds, even of the same key. */
	cfg_select(vmm, k);
	assert_int_equal(cfg_inb(vmm), blob[0]);
	assert_int_equal(cfg_inb(vmm), blob[1]);
	cfg_select(vmm, k);
	assert_int_equal(cfg_inb(vmm), blob[0]);
	/* The write-channel bit selects the same item. */
	cfg_select(vmm, k | FWCFG_WRITE_CHANNEL);
	assert_int_equal(cfg_inb(vmm), blob[0]);
	/* Unknown keys read as zeros. */
	cfg_select(vmm, 0x1234);
	for (i = 0; i < 8; i++)
		assert_int_equal(cfg_inb(vmm), 0);
	cfg_select(vmm, FWCFG_FILE_FIRST + 40);
	assert_int_equal(cfg_inb(vmm), 0);
	/* Replacing an item is seen by the next read. */
	assert_int_equal(fwcfg_add_i16(fw, FWCFG_NB_CPUS, 0x0102), 0);
	cfg_select(vmm, FWCFG_NB_CPUS);
	assert_int_equal(cfg_inb(vmm), 0x02);
	assert_int_equal(fwcfg_add_i16(fw, FWCFG_NB_CPUS, 4), 0);
	assert_int_equal(cfg_inb(vmm), 0);
	cfg_select(vmm, FWCFG_NB_CPUS);
	assert_int_equal(cfg_inb(vmm), 4);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

static void
test_dma_read_skip_select(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	uint8_t blob[300], *buf;
	int i, k;

	(void)state;
	fw = fwcfg_create(vmm);
	for (i = 0; i < (int)sizeof blob; i++)
		blob[i] = i ^ 0x5a;
	k = fwcfg_add_file(fw, "etc/blob", blob, sizeof blob);
	buf = gpa(vmm, BUF_GPA);

	memset(buf, 0xcc, 400);
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 10, BUF_GPA),
	    0);
	assert_memory_equal(buf, blob, 10);
	assert_int_equal(buf[10], 0xcc);
	/* Skip and read go on from the offset; so do port reads. */
	assert_int_equal(cfg_dma(vmm, FWCFG_DMA_SKIP, 5, 0), 0);
	assert_int_equal(cfg_dma(vmm, FWCFG_DMA_READ, 10, BUF_GPA), 0);
	assert_memory_equal(buf, blob + 15, 10);
	assert_int_equal(cfg_inb(vmm), blob[25]);
	/* As qemu_cfg_read_file with skip: select by port, skip, read. */
	cfg_select(vmm, k);
	assert_int_equal(cfg_dma(vmm, FWCFG_DMA_SKIP, 100, 0), 0);
	assert_int_equal(cfg_dma(vmm, FWCFG_DMA_READ, 200, BUF_GPA), 0);
	assert_memory_equal(buf, blob + 100, 200);
	/* Reading past the end fills zeros. */
	memset(buf, 0xcc, 400);
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_SKIP, 290, 0), 0);
	assert_int_equal(cfg_dma(vmm, FWCFG_DMA_READ, 30, BUF_GPA), 0);
	assert_memory_equal(buf, blob + 290, 10);
	for (i = 10; i < 30; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[30], 0xcc);
	/* Skipping far past the end is no error either. */
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_SKIP, 0xffffffff, 0),
	    0);
	assert_int_equal(cfg_inb(vmm), 0);
	/* Select alone, and a length of 0. */
	assert_int_equal(cfg_dma(vmm, sel(k), 100, BUF_GPA), 0);
	assert_int_equal(cfg_inb(vmm), blob[0]);
	assert_int_equal(cfg_dma(vmm, FWCFG_DMA_READ, 0, BUF_GPA), 0);
	assert_int_equal(cfg_inb(vmm), blob[1]);
	/* Unknown keys: zeros, no error (as QEMU). */
	memset(buf, 0xcc, 400);
	assert_int_equal(cfg_dma(vmm, sel(0x3000) | FWCFG_DMA_READ, 16,
	    BUF_GPA), 0);
	for (i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[16], 0xcc);
	/* A descriptor above 4 GiB needs the high half: outside RAM here. */
	assert_int_equal(cfg_dma_at(vmm, 0x100000000ULL + DESC_GPA,
	    sel(k) | FWCFG_DMA_READ, 4, BUF_GPA), 0xdeadbeef);
	/* The high half was used once: a low write alone runs at 0x1000. */
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 4, BUF_GPA),
	    0);
	assert_memory_equal(buf, blob, 4);
	/* A read over its own descriptor: the data, then the status. */
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 32, DESC_GPA),
	    0);
	assert_memory_equal(gpa(vmm, DESC_GPA) + 4, blob + 4, 28);
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 4, BUF_GPA),
	    0);
	assert_memory_equal(buf, blob, 4);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

static void
test_dma_bad_addresses(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	uint8_t blob[300], *p;
	uint32_t v;
	int i, k;

	(void)state;
	fw = fwcfg_create(vmm);
	for (i = 0; i < (int)sizeof blob; i++)
		blob[i] = i + 1;
	k = fwcfg_add_file(fw, "etc/blob", blob, sizeof blob);

	/* Destination outside RAM, straddling its end, wrapping. */
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 16, TEST_RAM),
	    FWCFG_DMA_ERROR);
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 16,
	    TEST_RAM + 0x100000), FWCFG_DMA_ERROR);
	p = gpa(vmm, TEST_RAM - 8);
	memset(p, 0xcc, 8);
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 16,
	    TEST_RAM - 8), FWCFG_DMA_ERROR);
	for (i = 0; i < 8; i++)
		assert_int_equal(p[i], 0xcc);
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 16,
	    UINT64_MAX - 7), FWCFG_DMA_ERROR);
	assert_int_equal(cfg_dma(vmm, sel(0x3000) | FWCFG_DMA_READ, 16,
	    UINT64_MAX - 7), FWCFG_DMA_ERROR);
	/* A length of 4 GiB - 1: the item, zeros up to the end of RAM, error. */
	p = gpa(vmm, BUF_GPA + 0x100000);
	*p = 0xcc;
	gpa(vmm, BUF_GPA)[sizeof blob] = 0xcc;
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 0xffffffff,
	    BUF_GPA), FWCFG_DMA_ERROR);
	assert_memory_equal(gpa(vmm, BUF_GPA), blob, sizeof blob);
	assert_int_equal(gpa(vmm, BUF_GPA)[sizeof blob], 0);
	assert_int_equal(*p, 0);
	/* And from an address near the end: what fits is not enough. */
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 0xffffffff,
	    TEST_RAM - 100), FWCFG_DMA_ERROR);

	/* The descriptor straddles the end: its control word gets ERROR. */
	p = gpa(vmm, TEST_RAM - 8);
	v = htobe32(sel(k) | FWCFG_DMA_READ);
	memcpy(p, &v, 4);
	cfg_outl_be(vmm, FWCFG_PORT_DMA + 4, TEST_RAM - 8);
	memcpy(&v, p, 4);
	assert_int_equal(be32toh(v), FWCFG_DMA_ERROR);
	/* Entirely outside: nothing to report to, nothing breaks. */
	cfg_outl_be(vmm, FWCFG_PORT_DMA + 4, TEST_RAM + 0x1000);
	cfg_outl_be(vmm, FWCFG_PORT_DMA + 4, 0xfffffffc);
	cfg_outl_be(vmm, FWCFG_PORT_DMA, 0xffffffff);
	cfg_outl_be(vmm, FWCFG_PORT_DMA + 4, 0xfffffff8);
	/* Odd widths and offsets on the DMA register are ignored. */
	v = 0;
	assert_int_equal(bus_dispatch(&vmm->pio, FWCFG_PORT_DMA + 2,
	    (uint8_t *)&v, 2, 1), 0);
	assert_int_equal(bus_dispatch(&vmm->pio, FWCFG_PORT_DMA + 7,
	    (uint8_t *)&v, 1, 1), 0);
	/* The device still works. */
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 4, BUF_GPA),
	    0);
	assert_memory_equal(gpa(vmm, BUF_GPA), blob, 4);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

static void
test_dma_write_refused(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	uint8_t blob[16] = "original-bytes!";
	int k;

	(void)state;
	fw = fwcfg_create(vmm);
	k = fwcfg_add_file(fw, "etc/blob", blob, sizeof blob);
	memset(gpa(vmm, BUF_GPA), 'w', 16);
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_WRITE, 16, BUF_GPA),
	    FWCFG_DMA_ERROR);
	assert_int_equal(cfg_dma(vmm, sel(FWCFG_SIGNATURE) | FWCFG_DMA_WRITE,
	    4, BUF_GPA), FWCFG_DMA_ERROR);
	assert_int_equal(cfg_dma(vmm, sel(0x3000) | FWCFG_DMA_WRITE, 4,
	    BUF_GPA), FWCFG_DMA_ERROR);
	/* Nothing changed. */
	memset(gpa(vmm, BUF_GPA), 0, 16);
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ, 16, BUF_GPA),
	    0);
	assert_memory_equal(gpa(vmm, BUF_GPA), blob, 16);
	cfg_select(vmm, FWCFG_SIGNATURE);
	assert_int_equal(cfg_inb(vmm), 'Q');
	/* Read wins over write when both are set, as in QEMU. */
	assert_int_equal(cfg_dma(vmm, sel(k) | FWCFG_DMA_READ |
	    FWCFG_DMA_WRITE, 4, BUF_GPA), 0);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

/*
 * Read a whole file by name through DMA into buf, the directory through
 * BUF_GPA; returns its size.
 */
static uint32_t
cfg_read_file(struct vmm *vmm, const char *name, uint64_t buf)
{
	uint8_t *e;
	uint32_t count, i, size;
	uint16_t key;

	assert_int_equal(cfg_dma(vmm, sel(FWCFG_FILE_DIR) | FWCFG_DMA_READ,
	    4, BUF_GPA), 0);
	memcpy(&count, gpa(vmm, BUF_GPA), 4);
	count = be32toh(count);
	for (i = 0; i < count; i++) {
		assert_int_equal(cfg_dma(vmm, FWCFG_DMA_READ, 64, BUF_GPA), 0);
		e = gpa(vmm, BUF_GPA);
		if (strcmp((char *)e + 8, name) != 0)
			continue;
		memcpy(&size, e, 4);
		memcpy(&key, e + 4, 2);
		size = be32toh(size);
		if (size > 0)
			assert_int_equal(cfg_dma(vmm, sel(be16toh(key)) |
			    FWCFG_DMA_READ, size, buf), 0);
		return size;
	}
	fail_msg("no file %s", name);
	return 0;
}

static void
test_helpers(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	static const struct fwcfg_e820 map[] = {
		{ 0, 0xc0000000ULL, 1 },
		{ 0xfffc0000ULL, 0x40000, 2 },
		{ 0x100000000ULL, 0x40000000ULL, 1 },
	};
	static const char *const order[] = { "/pci@i0cf8/*@3", "HALT" };
	uint8_t *p;
	uint64_t v64;
	uint32_t v32;
	int i;

	(void)state;
	fw = fwcfg_create(vmm);
	assert_int_equal(fwcfg_add_machine(fw, 4, 8, 1, 1ULL << 32), 0);
	assert_int_equal(cfg_dma(vmm, sel(FWCFG_NB_CPUS) | FWCFG_DMA_READ, 2,
	    BUF_GPA), 0);
	assert_memory_equal(gpa(vmm, BUF_GPA), "\4\0", 2);
	assert_int_equal(cfg_dma(vmm, sel(FWCFG_MAX_CPUS) | FWCFG_DMA_READ, 2,
	    BUF_GPA), 0);
	assert_memory_equal(gpa(vmm, BUF_GPA), "\10\0", 2);
	assert_int_equal(cfg_dma(vmm, sel(FWCFG_NOGRAPHIC) | FWCFG_DMA_READ,
	    2, BUF_GPA), 0);
	assert_memory_equal(gpa(vmm, BUF_GPA), "\1\0", 2);
	assert_int_equal(cfg_dma(vmm, sel(FWCFG_RAM_SIZE) | FWCFG_DMA_READ,
	    8, BUF_GPA), 0);
	assert_memory_equal(gpa(vmm, BUF_GPA), "\0\0\0\0\1\0\0\0", 8);

	assert_int_equal(fwcfg_add_e820(fw, map, 3), FWCFG_FILE_FIRST);
	assert_int_equal(cfg_read_file(vmm, "etc/e820", BUF_GPA), 60);
	p = gpa(vmm, BUF_GPA);
	for (i = 0; i < 3; i++, p += 20) {
		memcpy(&v64, p, 8);
		assert_int_equal(le64toh(v64), map[i].addr);
		memcpy(&v64, p + 8, 8);
		assert_int_equal(le64toh(v64), map[i].len);
		memcpy(&v32, p + 16, 4);
		assert_int_equal(le32toh(v32), map[i].type);
	}
	assert_int_equal(fwcfg_add_e820(fw, map, -1), -1);

	assert_int_equal(fwcfg_add_bootorder(fw, order, 2),
	    FWCFG_FILE_FIRST + 1);
	assert_int_equal(cfg_read_file(vmm, "bootorder", BUF_GPA), 20);
	assert_memory_equal(gpa(vmm, BUF_GPA), "/pci@i0cf8/*@3\nHALT\0", 20);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

/*
 * The guest side of the table loader, after SeaBIOS romfile_loader.c:
 * ALLOCATE reads the file from fw_cfg into memory of the zone, aligned;
 * ADD_POINTER adds the src copy's address to the value at dest + offset;
 * ADD_CHECKSUM subtracts the byte sum of the range from the byte at
 * offset. Returns how many commands the firmware would have refused.
 */
struct played {
	char		 name[FWCFG_NAME_SIZE];
	uint64_t	 addr;
	uint32_t	 size;
};
#define HIGH_BASE	0x1000000ULL
#define FSEG_BASE	0xf0000ULL

static struct played *
play_find(struct played *f, int n, const char *name)
{
	int i;

	if (memchr(name, '\0', FWCFG_NAME_SIZE) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return &f[i];
	return NULL;
}

static int
play_loader(struct vmm *vmm, struct played *files, int *nfiles)
{
	uint8_t script[FWCFG_LOADER_CMD_SIZE * 64], *c, *d, sum;
	uint64_t high = HIGH_BASE, fseg = FSEG_BASE, *next, ptr;
	struct played *f, *src;
	uint32_t size, cmd, align, off, start, len, i;
	int bad = 0;

	size = cfg_read_file(vmm, FWCFG_LOADER_FILE, 0x200000);
	assert_true(size <= sizeof script);
	assert_int_equal(size % FWCFG_LOADER_CMD_SIZE, 0);
	memcpy(script, gpa(vmm, 0x200000), size);
	*nfiles = 0;
	for (c = script; c < script + size; c += FWCFG_LOADER_CMD_SIZE) {
		memcpy(&cmd, c, 4);
		switch (le32toh(cmd)) {
		case FWCFG_LOADER_ALLOCATE:
			memcpy(&align, c + 60, 4);
			align = le32toh(align);
			if ((align & (align - 1)) || (c[64] != 1 && c[64] != 2) ||
			    c[4 + FWCFG_NAME_SIZE - 1] != '\0') {
				bad++;
				break;
			}
			if (align < 16)
				align = 16;
			next = c[64] == FWCFG_LOADER_ZONE_HIGH ? &high : &fseg;
			*next = (*next + align - 1) & ~(uint64_t)(align - 1);
			f = &files[(*nfiles)++];
			memcpy(f->name, c + 4, FWCFG_NAME_SIZE);
			f->addr = *next;
			f->size = cfg_read_file(vmm, f->name, f->addr);
			*next += f->size;
			break;
		case FWCFG_LOADER_ADD_POINTER:
			f = play_find(files, *nfiles, (char *)c + 4);
			src = play_find(files, *nfiles, (char *)c + 60);
			memcpy(&off, c + 116, 4);
			off = le32toh(off);
			len = c[120];
			if (f == NULL || src == NULL || off + len < off ||
			    off + len > f->size || len < 1 || len > 8 ||
			    (len & (len - 1))) {
				bad++;
				break;
			}
			ptr = 0;
			d = gpa(vmm, f->addr + off);
			memcpy(&ptr, d, len);
			ptr = htole64(le64toh(ptr) + src->addr);
			memcpy(d, &ptr, len);
			break;
		case FWCFG_LOADER_ADD_CHECKSUM:
			f = play_find(files, *nfiles, (char *)c + 4);
			memcpy(&off, c + 60, 4);
			memcpy(&start, c + 64, 4);
			memcpy(&len, c + 68, 4);
			off = le32toh(off);
			start = le32toh(start);
			len = le32toh(len);
			if (f == NULL || off >= f->size || start + len < start ||
			    start + len > f->size) {
				bad++;
				break;
			}
			d = gpa(vmm, f->addr);
			for (i = 0, sum = 0; i < len; i++)
				sum += d[start + i];
			d[off] -= sum;
			break;
		default:
			break;
		}
	}
	return bad;
}

static uint8_t
sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len-- > 0)
		s += *p++;
	return s;
}

/* An ACPI header of sig and len with junk in the checksum byte. */
static void
acpi_header(uint8_t *t, const char *sig, uint32_t len)
{
	memset(t, 0, len);
	memcpy(t, sig, 4);
	len = htole32(len);
	memcpy(t + 4, &len, 4);
	t[8] = 1;
	t[9] = 0x77;
	memcpy(t + 10, "VMTOP ", 6);
}

static void
test_table_loader(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct fwcfg *fw;
	struct fwcfg_loader *l;
	struct played files[8], *rsdp, *tables;
	uint8_t rsdp_blob[20], blob[44 + 44 + 40];
	const uint32_t rsdt = 44, ssdt = 88;
	uint32_t v, rsdt_addr;
	const void *script;
	size_t len;
	int nfiles, k;
	uint8_t *t;

	(void)state;
	/* The tables file: FACP at 0, the RSDT at 44, an SSDT at 88. */
	acpi_header(blob, "FACP", 44);
	acpi_header(blob + rsdt, "RSDT", 36 + 8);
	acpi_header(blob + ssdt, "SSDT", 40);
	/* RSDT entries hold offsets within the tables file. */
	v = htole32(0);
	memcpy(blob + rsdt + 36, &v, 4);
	v = htole32(ssdt);
	memcpy(blob + rsdt + 40, &v, 4);
	/* FACP's DSDT field (offset 40) points at the SSDT, for the test. */
	v = htole32(ssdt);
	memcpy(blob + 40, &v, 4);
	memset(rsdp_blob, 0, sizeof rsdp_blob);
	memcpy(rsdp_blob, "RSD PTR ", 8);
	rsdp_blob[8] = 0x55;
	memcpy(rsdp_blob + 9, "VMTOP ", 6);
	v = htole32(rsdt);
	memcpy(rsdp_blob + 16, &v, 4);

	l = fwcfg_loader_create();
	assert_non_null(l);
	assert_int_equal(fwcfg_loader_allocate(l, "etc/acpi/rsdp", 16,
	    FWCFG_LOADER_ZONE_FSEG), 0);
	assert_int_equal(fwcfg_loader_allocate(l, "etc/acpi/tables", 64,
	    FWCFG_LOADER_ZONE_HIGH), 0);
	assert_int_equal(fwcfg_loader_add_pointer(l, "etc/acpi/tables",
	    "etc/acpi/tables", 40, 4), 0);
	assert_int_equal(fwcfg_loader_add_checksum(l, "etc/acpi/tables", 9,
	    0, 44), 0);
	assert_int_equal(fwcfg_loader_add_checksum(l, "etc/acpi/tables",
	    ssdt + 9, ssdt, 40), 0);
	assert_int_equal(fwcfg_loader_add_pointer(l, "etc/acpi/tables",
	    "etc/acpi/tables", rsdt + 36, 4), 0);
	assert_int_equal(fwcfg_loader_add_pointer(l, "etc/acpi/tables",
	    "etc/acpi/tables", rsdt + 40, 4), 0);
	assert_int_equal(fwcfg_loader_add_checksum(l, "etc/acpi/tables",
	    rsdt + 9, rsdt, 44), 0);
	assert_int_equal(fwcfg_loader_add_pointer(l, "etc/acpi/rsdp",
	    "etc/acpi/tables", 16, 4), 0);
	assert_int_equal(fwcfg_loader_add_checksum(l, "etc/acpi/rsdp", 8, 0,
	    20), 0);
	script = fwcfg_loader_data(l, &len);
	assert_int_equal(len, 10 * FWCFG_LOADER_CMD_SIZE);
	/* The layout of romfile_loader_entry_s. */
	t = (uint8_t *)script;
	assert_memory_equal(t, "\1\0\0\0etc/acpi/rsdp\0", 18);
	assert_memory_equal(t + 60, "\20\0\0\0\2", 5);
	t += 2 * FWCFG_LOADER_CMD_SIZE;
	assert_memory_equal(t, "\2\0\0\0etc/acpi/tables\0", 20);
	assert_memory_equal(t + 60, "etc/acpi/tables\0", 16);
	assert_memory_equal(t + 116, "\50\0\0\0\4", 5);
	t += FWCFG_LOADER_CMD_SIZE;
	assert_memory_equal(t, "\3\0\0\0etc/acpi/tables\0", 20);
	assert_memory_equal(t + 60, "\11\0\0\0\0\0\0\0\54\0\0\0", 12);

	fw = fwcfg_create(vmm);
	assert_true(fwcfg_add_file(fw, "etc/acpi/tables", blob, sizeof blob) >=
	    FWCFG_FILE_FIRST);
	assert_true(fwcfg_add_file(fw, "etc/acpi/rsdp", rsdp_blob,
	    sizeof rsdp_blob) >= FWCFG_FILE_FIRST);
	k = fwcfg_loader_publish(l, fw);
	assert_true(k >= FWCFG_FILE_FIRST);
	assert_int_equal(fwcfg_file_key(fw, FWCFG_LOADER_FILE), k);
	assert_int_equal(fwcfg_loader_publish(l, fw), -1);
	fwcfg_loader_free(l);

	assert_int_equal(play_loader(vmm, files, &nfiles), 0);
	assert_int_equal(nfiles, 2);
	rsdp = play_find(files, nfiles, "etc/acpi/rsdp");
	tables = play_find(files, nfiles, "etc/acpi/tables");
	assert_non_null(rsdp);
	assert_non_null(tables);
	assert_int_equal(rsdp->addr % 16, 0);
	assert_true(rsdp->addr >= FSEG_BASE && rsdp->addr < 0x100000);
	assert_int_equal(tables->addr % 64, 0);
	assert_int_equal(rsdp->size, 20);
	assert_int_equal(tables->size, sizeof blob);

	/* The RSDP checksums to 0 and points at the RSDT's copy. */
	t = gpa(vmm, rsdp->addr);
	assert_memory_equal(t, "RSD PTR ", 8);
	assert_int_equal(sum8(t, 20), 0);
	memcpy(&rsdt_addr, t + 16, 4);
	rsdt_addr = le32toh(rsdt_addr);
	assert_int_equal(rsdt_addr, tables->addr + rsdt);
	t = gpa(vmm, rsdt_addr);
	assert_memory_equal(t, "RSDT", 4);
	assert_int_equal(sum8(t, 44), 0);
	/* Its entries point at FACP and SSDT, which checksum to 0 too. */
	memcpy(&v, t + 36, 4);
	assert_int_equal(le32toh(v), tables->addr);
	assert_memory_equal(gpa(vmm, le32toh(v)), "FACP", 4);
	assert_int_equal(sum8(gpa(vmm, le32toh(v)), 44), 0);
	memcpy(&v, t + 40, 4);
	assert_int_equal(le32toh(v), tables->addr + ssdt);
	assert_memory_equal(gpa(vmm, le32toh(v)), "SSDT", 4);
	assert_int_equal(sum8(gpa(vmm, le32toh(v)), 40), 0);
	memcpy(&v, gpa(vmm, tables->addr + 40), 4);
	assert_int_equal(le32toh(v), tables->addr + ssdt);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

static void
test_loader_errors(void **state)
{
	struct fwcfg_loader *l;
	struct fwcfg *fw;
	char name[80], blob[0x20] = { 0 };
	size_t len;

	(void)state;
	l = fwcfg_loader_create();
	memset(name, 'x', sizeof name);
	name[FWCFG_NAME_SIZE] = '\0';
	assert_int_equal(fwcfg_loader_allocate(l, name, 16, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fwcfg_loader_allocate(l, "", 16, 1), -1);
	assert_int_equal(fwcfg_loader_allocate(l, "a", 3, 1), -1);
	assert_int_equal(fwcfg_loader_allocate(l, "a", 16, 0), -1);
	assert_int_equal(fwcfg_loader_allocate(l, "a", 16, 3), -1);
	/* Nothing allocated yet. */
	assert_int_equal(fwcfg_loader_add_pointer(l, "a", "a", 0, 4), -1);
	assert_int_equal(fwcfg_loader_add_checksum(l, "a", 0, 0, 1), -1);
	assert_int_equal(fwcfg_loader_allocate(l, "a", 0, 1), 0);
	assert_int_equal(fwcfg_loader_allocate(l, "a", 16, 2), -1);
	assert_int_equal(fwcfg_loader_allocate(l, "b", 4096, 2), 0);
	assert_int_equal(fwcfg_loader_add_pointer(l, "a", "c", 0, 4), -1);
	assert_int_equal(fwcfg_loader_add_pointer(l, "a", "b", 0, 3), -1);
	assert_int_equal(fwcfg_loader_add_pointer(l, "a", "b", 0, 0), -1);
	assert_int_equal(fwcfg_loader_add_pointer(l, "a", "b", 0, 16), -1);
	assert_int_equal(fwcfg_loader_add_pointer(l, "a", "b", UINT32_MAX - 2,
	    4), -1);
	assert_int_equal(fwcfg_loader_add_pointer(l, "a", "b", 8, 8), 0);
	assert_int_equal(fwcfg_loader_add_checksum(l, "b", 0, 0xfffffff0,
	    0x20), -1);
	assert_int_equal(fwcfg_loader_add_checksum(l, "b", 0, 0, 0x20), 0);
	fwcfg_loader_data(l, &len);
	assert_int_equal(len, 4 * FWCFG_LOADER_CMD_SIZE);

	/* Publishing checks the commands against the files' sizes. */
	fw = fwcfg_create(NULL);
	assert_int_equal(fwcfg_add_file(fw, "b", blob, 0x20), FWCFG_FILE_FIRST);
	assert_int_equal(fwcfg_file_size(fw, "b"), 0x20);
	assert_int_equal(fwcfg_file_size(fw, "a"), -1);
	assert_int_equal(fwcfg_loader_publish(l, fw), -1);	/* no "a" */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fwcfg_add_file(fw, "a", blob, 15), FWCFG_FILE_FIRST +
	    1);
	/* The 8-byte pointer at 8 needs 16 bytes of "a". */
	assert_int_equal(fwcfg_loader_publish(l, fw), -1);
	fwcfg_destroy(fw);
	fw = fwcfg_create(NULL);
	assert_true(fwcfg_add_file(fw, "a", blob, 16) >= 0);
	assert_true(fwcfg_add_file(fw, "b", blob, 0x20) >= 0);
	assert_int_equal(fwcfg_loader_publish(l, fw), FWCFG_FILE_FIRST + 2);
	assert_int_equal(fwcfg_file_size(fw, FWCFG_LOADER_FILE),
	    4 * FWCFG_LOADER_CMD_SIZE);
	/* A checksum past the end of "b", an offset at its end. */
	assert_int_equal(fwcfg_loader_add_checksum(l, "b", 0, 1, 0x20), 0);
	assert_int_equal(fwcfg_loader_publish(l, fw), -1);
	fwcfg_loader_free(l);
	l = fwcfg_loader_create();
	assert_int_equal(fwcfg_loader_allocate(l, "b", 0, 1), 0);
	assert_int_equal(fwcfg_loader_add_checksum(l, "b", 0x20, 0, 1), 0);
	assert_int_equal(fwcfg_loader_publish(l, fw), -1);
	fwcfg_loader_free(l);
	/* An empty file: the firmware would not allocate it. */
	l = fwcfg_loader_create();
	assert_int_equal(fwcfg_add_file(fw, "empty", NULL, 0), FWCFG_FILE_FIRST +
	    3);
	assert_int_equal(fwcfg_file_size(fw, "empty"), 0);
	assert_int_equal(fwcfg_loader_allocate(l, "empty", 0, 1), 0);
	assert_int_equal(fwcfg_loader_publish(l, fw), -1);
	fwcfg_loader_free(l);
	/* An empty script publishes as an empty file. */
	l = fwcfg_loader_create();
	fwcfg_destroy(fw);
	fw = fwcfg_create(NULL);
	assert_int_equal(fwcfg_loader_publish(l, fw), FWCFG_FILE_FIRST);
	assert_int_equal(fwcfg_file_size(fw, FWCFG_LOADER_FILE), 0);
	fwcfg_loader_free(l);
	fwcfg_destroy(fw);
}

/* le32/le64 at p. */
static uint64_t
get_le(const uint8_t *p, int size)
{
	uint64_t v = 0;

	memcpy(&v, p, size);
	return le64toh(v);
}

/* A table at addr with sig, whose bytes sum to 0; returns its length. */
static uint32_t
check_table(struct vmm *vmm, uint64_t addr, const char *sig)
{
	uint8_t *t = gpa(vmm, addr);
	uint32_t len = get_le(t + 4, 4);

	assert_memory_equal(t, sig, 4);
	assert_true(len >= 36 && len < 65536);
	assert_non_null(memmap_ptr(&vmm->mem, addr, len));
	assert_int_equal(sum8(t, len), 0);
	return len;
}

/*
 * The runner's own ACPI tables through the loader, as SeaBIOS places
 * them: the RSDP in the F segment, every pointer an address of a table
 * of the right signature, every checksum right after the patching, the
 * FADT naming the CMOS RTC, one MADT LAPIC entry per vCPU.
 */
static void
test_acpi_tables(void **state)
{
	struct vmm *vmm = fake_vmm();
	struct played files[8], *rsdp;
	uint64_t xsdt, fadt, madt;
	uint32_t xlen, mlen, off;
	int nfiles, lapics = 0;
	struct fwcfg *fw;
	uint8_t *r, *f, *m;

	(void)state;
	fw = fwcfg_create(vmm);
	assert_non_null(fw);
	assert_int_equal(acpi_fwcfg(fw, 4), 0);
	assert_int_equal(play_loader(vmm, files, &nfiles), 0);
	rsdp = play_find(files, nfiles, "etc/acpi/rsdp");
	assert_non_null(rsdp);
	assert_true(rsdp->addr >= FSEG_BASE && rsdp->addr < 0x100000);
	r = gpa(vmm, rsdp->addr);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum8(r, 20), 0);
	assert_int_equal(sum8(r, 36), 0);
	xsdt = get_le(r + 24, 8);
	assert_true(xsdt >= HIGH_BASE);
	xlen = check_table(vmm, xsdt, "XSDT");
	assert_int_equal(xlen, 36 + 2 * 8);
	fadt = get_le(gpa(vmm, xsdt + 36), 8);
	madt = get_le(gpa(vmm, xsdt + 44), 8);
	check_table(vmm, fadt, "FACP");
	f = gpa(vmm, fadt);
	assert_memory_equal(gpa(vmm, get_le(f + 132, 8)), "FACS", 4);
	assert_int_equal(get_le(f + 36, 4), get_le(f + 132, 8));
	assert_int_equal(get_le(f + 132, 8) % 64, 0);
	check_table(vmm, get_le(f + 140, 8), "DSDT");
	assert_int_equal(get_le(f + 40, 4), get_le(f + 140, 8));
	assert_int_equal(get_le(f + 109, 2) & (1 << 5), 0);	/* CMOS RTC */
	mlen = check_table(vmm, madt, "APIC");
	m = gpa(vmm, madt);
	for (off = 44; off + 2 <= mlen && m[off + 1] >= 2; off += m[off + 1])
		lapics += m[off] == 0;
	assert_int_equal(off, mlen);
	assert_int_equal(lapics, 4);
	/* No vCPU, or more than the MADT's ids: refused. */
	fwcfg_destroy(fw);
	fw = fwcfg_create(vmm);
	assert_int_equal(acpi_fwcfg(fw, 0), -1);
	assert_int_equal(acpi_fwcfg(fw, 256), -1);
	fwcfg_destroy(fw);
	free_vmm(vmm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_id),
		cmocka_unit_test(test_create_ports),
		cmocka_unit_test(test_file_dir),
		cmocka_unit_test(test_byte_reads),
		cmocka_unit_test(test_dma_read_skip_select),
		cmocka_unit_test(test_dma_bad_addresses),
		cmocka_unit_test(test_dma_write_refused),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_table_loader),
		cmocka_unit_test(test_loader_errors),
		cmocka_unit_test(test_acpi_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The ACPI tables of the x86 machine, built in the BIOS area where Linux
 * looks for the RSDP (direct boot), or handed to the firmware through
 * fw_cfg with the table-loader script that places them: XSDT, FADT (PM1 blocks in port I/O, SCI on GSI 9,
 * a reset register, the power button as a fixed feature), FACS, MADT
 * (one LAPIC per vCPU, the IOAPIC, the usual interrupt overrides) and a
 * DSDT assembled here: \_S5 for power-off and the PCI root bridge with
 * its windows and INTx routing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fwcfg.h"
#include "hw.h"
#include "vmm.h"
#include "x86.h"

#define ACPI_OEM_ID		"VMTOP "
#define ACPI_OEM_TABLE_ID	"VMTOPVM "
#define ACPI_CREATOR_ID		"VMTP"
#define ACPI_HDR_LEN		36

#define RSDP_LEN		36
#define FADT_LEN		276
#define FADT_REVISION		6
#define FACS_LEN		64

/* FADT flags and IA-PC boot architecture flags. */
#define FADT_F_WBINVD		(1 << 0)
#define FADT_F_PROC_C1		(1 << 2)
#define FADT_F_SLP_BUTTON	(1 << 5)	/* no sleep button */
#define FADT_F_RESET_REG_SUP	(1 << 10)
#define BOOT_ARCH_LEGACY	(1 << 0)
#define BOOT_ARCH_8042		(1 << 1)
#define BOOT_ARCH_NO_VGA	(1 << 2)
#define BOOT_ARCH_NO_CMOS_RTC	(1 << 5)

/* Generic address structure space ids and access sizes. */
#define GAS_SYSTEM_IO		1
#define GAS_BYTE		1
#define GAS_WORD		2

/* MADT entry types. */
#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_ISO		2
#define MADT_LAPIC_NMI		4
#define MADT_PCAT_COMPAT	1
#define ISO_ACTIVE_HIGH_LEVEL	0x000d

/* AML opcodes and prefixes. */
#define AML_ZERO		0x00
#define AML_ONE			0x01
#define AML_NAME		0x08
#define AML_BYTE		0x0a
#define AML_WORD		0x0b
#define AML_DWORD		0x0c
#define AML_QWORD		0x0e
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_EXT			0x5b
#define AML_DEVICE		0x82
#define AML_ROOT		0x5c

#define AML_DEPTH		8

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, v);
	put32(p + 4, v >> 32);
}

uint8_t
acpi_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;

	while (len-- > 0)
		sum += *p++;
	return sum;
}

/* The common header; the checksum is set once the table is complete. */
static void
acpi_header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = rev;
	p[9] = 0;
	memcpy(p + 10, ACPI_OEM_ID, 6);
	memcpy(p + 16, ACPI_OEM_TABLE_ID, 8);
	put32(p + 24, 1);
	memcpy(p + 28, ACPI_CREATOR_ID, 4);
	put32(p + 32, 1);
}

static void
acpi_finish(uint8_t *p)
{
	uint32_t len = p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24;

	p[9] = 0;
	p[9] = -acpi_checksum(p, len);
}

static void
acpi_gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access,
    uint64_t addr)
{
	p[0] = space;
	p[1] = bits;
	p[2] = 0;
	p[3] = access;
	put64(p + 4, addr);
}

/* An AML byte stream with nested package lengths. */
struct aml {
	uint8_t		*p;
	size_t		 len;
	size_t		 cap;
	int		 err;
	size_t		 open[AML_DEPTH];
	int		 depth;
};

static void
aml_bytes(struct aml *a, const void *buf, size_t len)
{
	if (a->err || len > a->cap - a->len) {
		a->err = 1;
		return;
	}
	memcpy(a->p + a->len, buf, len);
	a->len += len;
}

static void
aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

/* An integer in its shortest encoding. */
static void
aml_int(struct aml *a, uint64_t v)
{
	uint8_t b[8];

	if (v == 0 || v == 1) {
		aml_byte(a, v == 0 ? AML_ZERO : AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE);
		aml_byte(a, v);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD);
		put16(b, v);
		aml_bytes(a, b, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD);
		put32(b, v);
		aml_bytes(a, b, 4);
	} else {
		aml_byte(a, AML_QWORD);
		put64(b, v);
		aml_bytes(a, b, 8);
	}
}

/* A name: an optional root prefix and one four-character segment. */
static void
aml_name(struct aml *a, const char *name)
{
	if (*name == '\\')
		aml_byte(a, *name++);
	aml_bytes(a, name, 4);
}

/* Start a PkgLength-prefixed body: room for the longest encoding. */
static void
aml_open(struct aml *a)
{
	if (a->depth == AML_DEPTH) {
		a->err = 1;
		return;
	}
	a->open[a->depth++] = a->len;
	aml_bytes(a, "\0\0\0\0", 4);
}

/* End the innermost body: encode its PkgLength and close the gap. */
static void
aml_close(struct aml *a)
{
	size_t start, body, total;
	int n, i;

	if (a->err || a->depth == 0) {
		a->err = 1;
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start - 4;
	for (n = 1; n <= 4; n++) {
		total = body + n;
		if ((n == 1 && total < 0x40) || (n > 1 &&
		    total < (1UL << (4 + 8 * (n - 1)))))
			break;
	}
	if (n > 4) {
		a->err = 1;
		return;
	}
	if (n == 1)
		a->p[start] = total;
	else {
		a->p[start] = ((n - 1) << 6) | (total & 0x0f);
		for (i = 1; i < n; i++)
			a->p[start + i] = total >> (4 + 8 * (i - 1));
	}
	memmove(a->p + start + n, a->p + start + 4, body);
	a->len -= 4 - n;
}

/* The PCI root bridge's resources: buses, config ports, I/O, MMIO. */
static void
aml_pci_crs(struct aml *a)
{
	uint8_t d[128], *p = d;

	/* WordBusNumber 0-255. */
	*p++ = 0x88; put16(p, 13); p += 2;
	*p++ = 2; *p++ = 0x0c; *p++ = 0;
	put16(p, 0); put16(p + 2, 0); put16(p + 4, 0xff);
	put16(p + 6, 0); put16(p + 8, 0x100); p += 10;
	/* IO (Decode16, 0xcf8, 0xcf8, 1, 8): configuration mechanism #1. */
	*p++ = 0x47; *p++ = 1;
	put16(p, 0xcf8); put16(p + 2, 0xcf8); p += 4;
	*p++ = 1; *p++ = 8;
	/* WordIO 0x0000-0x0cf7 and 0x0d00-0xffff. */
	*p++ = 0x88; put16(p, 13); p += 2;
	*p++ = 1; *p++ = 0x0c; *p++ = 3;
	put16(p, 0); put16(p + 2, 0); put16(p + 4, 0xcf7);
	put16(p + 6, 0); put16(p + 8, 0xcf8); p += 10;
	*p++ = 0x88; put16(p, 13); p += 2;
	*p++ = 1; *p++ = 0x0c; *p++ = 3;
	put16(p, 0); put16(p + 2, 0xd00); put16(p + 4, 0xffff);
	put16(p + 6, 0); put16(p + 8, 0xf300); p += 10;
	/* DWordMemory: the 32-bit MMIO window for BARs. */
	*p++ = 0x87; put16(p, 23); p += 2;
	*p++ = 0; *p++ = 0x0c; *p++ = 1;
	put32(p, 0); put32(p + 4, PCI_MMIO_BASE);
	put32(p + 8, PCI_MMIO_BASE + PCI_MMIO_SIZE - 1);
	put32(p + 12, 0); put32(p + 16, PCI_MMIO_SIZE); p += 20;
	/* End tag. */
	*p++ = 0x79; *p++ = 0;

	aml_byte(a, AML_NAME);
	aml_name(a, "_CRS");
	aml_byte(a, AML_BUFFER);
	aml_open(a);
	aml_int(a, p - d);
	aml_bytes(a, d, p - d);
	aml_close(a);
}

/* _PRT: INTx of every slot straight to IOAPIC GSIs 16-19, swizzled. */
static void
aml_pci_prt(struct aml *a)
{
	int slot, pin;

	aml_byte(a, AML_NAME);
	aml_name(a, "_PRT");
	aml_byte(a, AML_PACKAGE);
	aml_open(a);
	aml_byte(a, 32 * 4);
	for (slot = 0; slot < 32; slot++) {
		for (pin = 0; pin < 4; pin++) {
			aml_byte(a, AML_PACKAGE);
			aml_open(a);
			aml_byte(a, 4);
			aml_int(a, ((uint64_t)slot << 16) | 0xffff);
			aml_int(a, pin);
			aml_int(a, 0);
			aml_int(a, X86_PCI_INTX_GSI(slot, pin));
			aml_close(a);
		}
	}
	aml_close(a);
}

/* The DSDT's definition block; returns its length, or 0 if too long. */
static size_t
acpi_dsdt(uint8_t *p, size_t cap)
{
	struct aml a;

	if (cap < ACPI_HDR_LEN)
		return 0;
	memset(&a, 0, sizeof a);
	a.p = p + ACPI_HDR_LEN;
	a.cap = cap - ACPI_HDR_LEN;

	/* Name (\_S5, Package (4) { S5, S5, 0, 0 }) */
	aml_byte(&a, AML_NAME);
	aml_name(&a, "\\_S5_");
	aml_byte(&a, AML_PACKAGE);
	aml_open(&a);
	aml_byte(&a, 4);
	aml_int(&a, PM_SLP_TYP_S5);
	aml_int(&a, PM_SLP_TYP_S5);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_close(&a);

	/* Scope (\_SB) { Device (PCI0) { ... } } */
	aml_byte(&a, AML_SCOPE);
	aml_open(&a);
	aml_name(&a, "\\_SB_");
	aml_byte(&a, AML_EXT);
	aml_byte(&a, AML_DEVICE);
	aml_open(&a);
	aml_name(&a, "PCI0");
	aml_byte(&a, AML_NAME);
	aml_name(&a, "_HID");
	aml_int(&a, 0x030ad041);		/* EisaId ("PNP0A03") */
	aml_byte(&a, AML_NAME);
	aml_name(&a, "_UID");
	aml_int(&a, 0);
	aml_byte(&a, AML_NAME);
	aml_name(&a, "_BBN");
	aml_int(&a, 0);
	aml_byte(&a, AML_NAME);
	aml_name(&a, "_ADR");
	aml_int(&a, 0);
	aml_pci_crs(&a);
	aml_pci_prt(&a);
	aml_close(&a);
	aml_close(&a);

	if (a.err || a.depth != 0)
		return 0;
	acpi_header(p, "DSDT", ACPI_HDR_LEN + a.len, 2);
	acpi_finish(p);
	return ACPI_HDR_LEN + a.len;
}

static void
acpi_fadt(uint8_t *p, uint64_t facs, uint64_t dsdt, int cmos_rtc)
{
	memset(p, 0, FADT_LEN);
	acpi_header(p, "FACP", FADT_LEN, FADT_REVISION);
	put32(p + 36, facs);
	put32(p + 40, dsdt);
	put16(p + 46, PM_SCI_IRQ);
	put32(p + 56, PM1A_EVT_BLK);
	put32(p + 64, PM1A_CNT_BLK);
	p[88] = 4;				/* PM1_EVT_LEN */
	p[89] = 2;				/* PM1_CNT_LEN */
	put16(p + 96, 101);			/* no C2 */
	put16(p + 98, 1001);			/* no C3 */
	put16(p + 109, BOOT_ARCH_LEGACY | BOOT_ARCH_8042 | BOOT_ARCH_NO_VGA |
	    (cmos_rtc ? 0 : BOOT_ARCH_NO_CMOS_RTC));
	put32(p + 112, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
	    FADT_F_RESET_REG_SUP);
	acpi_gas(p + 116, GAS_SYSTEM_IO, 8, GAS_BYTE, PM_RESET_REG);
	p[128] = PM_RESET_VALUE;
	put64(p + 132, facs);
	put64(p + 140, dsdt);
	acpi_gas(p + 148, GAS_SYSTEM_IO, 32, GAS_WORD, PM1A_EVT_BLK);
	acpi_gas(p + 172, GAS_SYSTEM_IO, 16, GAS_WORD, PM1A_CNT_BLK);
	acpi_finish(p);
}

static void
acpi_facs(uint8_t *p)
{
	memset(p, 0, FACS_LEN);
	memcpy(p, "FACS", 4);
	put32(p + 4, FACS_LEN);
	p[32] = 2;				/* version */
}

static size_t
acpi_madt_len(int ncpus)
{
	return ACPI_HDR_LEN + 8 + ncpus * 8 + 12 + 2 * 10 + 6;
}

static void
acpi_madt(uint8_t *p, int ncpus)
{
	size_t len = acpi_madt_len(ncpus);
	uint8_t *e;
	int i;

	memset(p, 0, len);
	acpi_header(p, "APIC", len, 4);
	put32(p + 36, X86_LAPIC_ADDR);
	put32(p + 40, MADT_PCAT_COMPAT);
	e = p + 44;
	for (i = 0; i < ncpus; i++, e += 8) {
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = i;			/* processor uid */
		e[3] = i;			/* APIC id */
		put32(e + 4, 1);		/* enabled */
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = 0;				/* IOAPIC id */
	put32(e + 4, X86_IOAPIC_ADDR);
	put32(e + 8, 0);			/* GSI base */
	e += 12;
	/* The PIT's IRQ 0 is GSI 2; the SCI is level triggered. */
	e[0] = MADT_ISO;
	e[1] = 10;
	e[3] = 0;
	put32(e + 4, 2);
	put16(e + 8, 0);
	e += 10;
	e[0] = MADT_ISO;
	e[1] = 10;
	e[3] = PM_SCI_IRQ;
	put32(e + 4, PM_SCI_IRQ);
	put16(e + 8, ISO_ACTIVE_HIGH_LEVEL);
	e += 10;
	/* LINT1 of every CPU is NMI. */
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = 0xff;
	put16(e + 3, 0);
	e[5] = 1;
	acpi_finish(p);
}

static void
acpi_xsdt(uint8_t *p, const uint64_t *tables, int n)
{
	int i;

	acpi_header(p, "XSDT", ACPI_HDR_LEN + 8 * n, 1);
	for (i = 0; i < n; i++)
		put64(p + ACPI_HDR_LEN + 8 * i, tables[i]);
	acpi_finish(p);
}

static void
acpi_rsdp(uint8_t *p, uint64_t xsdt)
{
	memset(p, 0, RSDP_LEN);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, ACPI_OEM_ID, 6);
	p[15] = 2;				/* revision: XSDT */
	put32(p + 20, RSDP_LEN);
	put64(p + 24, xsdt);
	p[8] = -acpi_checksum(p, 20);
	p[32] = -acpi_checksum(p, RSDP_LEN);
}

static size_t
align(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Where each table goes, from the RSDP at 0. */
struct acpi_layout {
	size_t	xsdt, fadt, facs, madt, dsdt;
};

static void
acpi_layout(struct acpi_layout *l, int ncpus)
{
	/* The RSDP first, on a 16-byte boundary where Linux scans. */
	l->xsdt = align(RSDP_LEN, 16);
	l->fadt = align(l->xsdt + ACPI_HDR_LEN + 8 * 2, 16);
	l->facs = align(l->fadt + FADT_LEN, 64);
	l->madt = align(l->facs + FACS_LEN, 16);
	l->dsdt = align(l->madt + acpi_madt_len(ncpus), 16);
}

/* acpi_build's work, with the RTC in the FADT or not; layout in *l. */
static size_t
acpi_build_tables(uint8_t *buf, uint64_t gpa, size_t len, int ncpus,
    int cmos_rtc, struct acpi_layout *l)
{
	uint64_t tables[2];
	size_t n;

	if (ncpus < 1 || ncpus > 255)
		return 0;
	acpi_layout(l, ncpus);
	if (l->dsdt >= len)
		return 0;
	memset(buf, 0, l->dsdt);
	if ((n = acpi_dsdt(buf + l->dsdt, len - l->dsdt)) == 0)
		return 0;
	acpi_madt(buf + l->madt, ncpus);
	acpi_facs(buf + l->facs);
	acpi_fadt(buf + l->fadt, gpa + l->facs, gpa + l->dsdt, cmos_rtc);
	tables[0] = gpa + l->fadt;
	tables[1] = gpa + l->madt;
	acpi_xsdt(buf + l->xsdt, tables, 2);
	acpi_rsdp(buf, gpa + l->xsdt);
	return l->dsdt + n;
}

size_t
acpi_build(uint8_t *buf, uint64_t gpa, size_t len, int ncpus, uint64_t *rsdp)
{
	struct acpi_layout l;
	size_t n;

	if ((n = acpi_build_tables(buf, gpa, len, ncpus, 0, &l)) != 0)
		*rsdp = gpa;
	return n;
}

#define ACPI_FILE_RSDP		"etc/acpi/rsdp"
#define ACPI_FILE_TABLES	"etc/acpi/tables"
#define ACPI_TABLES_MAX		65536

/*
 * The tables built at guest address 0, so each pointer holds an offset
 * that ADD_POINTER turns into an address; the RSDP in a file of its own.
 */
static int
acpi_loader_script(struct fwcfg_loader *ld, const struct acpi_layout *l)
{
	const char *t = ACPI_FILE_TABLES, *r = ACPI_FILE_RSDP;

	if (fwcfg_loader_allocate(ld, r, 16, FWCFG_LOADER_ZONE_FSEG) == -1 ||
	    fwcfg_loader_allocate(ld, t, 64, FWCFG_LOADER_ZONE_HIGH) == -1 ||
	    fwcfg_loader_add_pointer(ld, t, t, l->xsdt + ACPI_HDR_LEN, 8) == -1 ||
	    fwcfg_loader_add_pointer(ld, t, t, l->xsdt + ACPI_HDR_LEN + 8,
	    8) == -1 ||
	    fwcfg_loader_add_pointer(ld, t, t, l->fadt + 36, 4) == -1 ||
	    fwcfg_loader_add_pointer(ld, t, t, l->fadt + 40, 4) == -1 ||
	    fwcfg_loader_add_pointer(ld, t, t, l->fadt + 132, 8) == -1 ||
	    fwcfg_loader_add_pointer(ld, t, t, l->fadt + 140, 8) == -1 ||
	    fwcfg_loader_add_checksum(ld, t, l->xsdt + 9, l->xsdt,
	    ACPI_HDR_LEN + 8 * 2) == -1 ||
	    fwcfg_loader_add_checksum(ld, t, l->fadt + 9, l->fadt,
	    FADT_LEN) == -1 ||
	    fwcfg_loader_add_pointer(ld, r, t, 24, 8) == -1 ||
	    fwcfg_loader_add_checksum(ld, r, 8, 0, 20) == -1 ||
	    fwcfg_loader_add_checksum(ld, r, 32, 0, RSDP_LEN) == -1)
		return -1;
	return 0;
}

int
acpi_fwcfg(struct fwcfg *fw, int ncpus)
{
	struct fwcfg_loader *ld;
	struct acpi_layout l;
	uint8_t *buf;
	size_t n;
	int rv = -1;

	if ((buf = calloc(1, ACPI_TABLES_MAX)) == NULL)
		return -1;
	if ((n = acpi_build_tables(buf, 0, ACPI_TABLES_MAX, ncpus, 1,
	    &l)) == 0) {
		free(buf);
		errno = EINVAL;
		return -1;
	}
	if ((ld = fwcfg_loader_create()) != NULL &&
	    fwcfg_add_file(fw, ACPI_FILE_RSDP, buf, RSDP_LEN) != -1 &&
	    /* the tables from the XSDT on; the RSDP's copy stays zero */
	    (memset(buf, 0, RSDP_LEN), 1) &&
	    fwcfg_add_file(fw, ACPI_FILE_TABLES, buf, n) != -1 &&
	    acpi_loader_script(ld, &l) == 0 &&
	    fwcfg_loader_publish(ld, fw) != -1)
		rv = 0;
	fwcfg_loader_free(ld);
	free(buf);
	return rv;
}

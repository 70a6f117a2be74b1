/*
 * The QEMU firmware configuration device (fw_cfg) as SeaBIOS and OVMF
 * drive it: a 16-bit selector at 0x510, a byte-wide data port at 0x511
 * and the DMA address register at 0x514-0x51b; items are byte blobs under
 * 16-bit keys, named files from key 0x20 up listed in the directory at
 * 0x19. Also the builder of the ACPI table loader script the firmware
 * runs ("etc/table-loader"), in fwcfg_loader.c.
 */
#ifndef FWCFG_H
#define FWCFG_H

#include <stddef.h>
#include <stdint.h>

struct vmm;

#define FWCFG_PORT_SEL		0x510		/* 2 bytes, 16-bit writes */
#define FWCFG_PORT_DATA		0x511		/* 1 byte */
#define FWCFG_PORT_DMA		0x514		/* 8 bytes, big-endian */
#define FWCFG_DMA_LEN		8

/* Keys. Bit 15 marks arch-specific items, bit 14 the write mode. */
#define FWCFG_SIGNATURE		0x00		/* "QEMU" */
#define FWCFG_ID		0x01		/* le32 feature bits */
#define FWCFG_RAM_SIZE		0x03		/* le64; SeaBIOS ignores it */
#define FWCFG_NOGRAPHIC		0x04		/* le16: 1 = serial console */
#define FWCFG_NB_CPUS		0x05		/* le16 */
#define FWCFG_NUMA		0x0d
#define FWCFG_BOOT_MENU		0x0e
#define FWCFG_MAX_CPUS		0x0f		/* le16 */
#define FWCFG_FILE_DIR		0x19
#define FWCFG_FILE_FIRST	0x20
#define FWCFG_WRITE_CHANNEL	0x4000
#define FWCFG_ARCH_LOCAL	0x8000

#define FWCFG_ID_TRADITIONAL	0x01
#define FWCFG_ID_DMA		0x02

/* The DMA descriptor's control word (big-endian in guest memory). */
#define FWCFG_DMA_ERROR		0x01
#define FWCFG_DMA_READ		0x02
#define FWCFG_DMA_SKIP		0x04
#define FWCFG_DMA_SELECT	0x08		/* key in bits 16-31 */
#define FWCFG_DMA_WRITE		0x10
/* What reading the DMA register returns, byte by byte. */
#define FWCFG_DMA_SIGNATURE	"QEMU CFG"

#define FWCFG_MAX_FILES		64
#define FWCFG_NAME_SIZE		56		/* with the NUL */
/* A directory entry: be32 size, be16 select, be16 reserved, name. */
#define FWCFG_DIR_ENTRY_SIZE	64

struct fwcfg;

/*
 * A device with the signature and ID items, registered on vmm's port I/O
 * bus (vmm NULL: not registered, for tests). Returns NULL if the ports are
 * taken.
 */
struct fwcfg	*fwcfg_create(struct vmm *);
void		 fwcfg_destroy(struct fwcfg *);
/*
 * Set the item under key to a copy of len bytes, replacing any earlier
 * one. Returns 0, or -1 with errno EINVAL for the directory key, the file
 * range or a key with the write bit, EFBIG for len >= 4 GiB.
 */
int		 fwcfg_add_bytes(struct fwcfg *, uint16_t key, const void *,
		    size_t len);
/* Little-endian integers, as QEMU stores them. */
int		 fwcfg_add_i16(struct fwcfg *, uint16_t key, uint16_t);
int		 fwcfg_add_i32(struct fwcfg *, uint16_t key, uint32_t);
int		 fwcfg_add_i64(struct fwcfg *, uint16_t key, uint64_t);
/*
 * Add a named file under the next free key from FWCFG_FILE_FIRST and list
 * it in the directory (sorted by name with strcmp, as QEMU does). Returns
 * the key, or -1 with errno EEXIST (name taken), ENAMETOOLONG, EINVAL
 * (empty name), ENOSPC (FWCFG_MAX_FILES reached) or EFBIG.
 */
int		 fwcfg_add_file(struct fwcfg *, const char *name, const void *,
		    size_t len);
/* The key of a named file, or -1. */
int		 fwcfg_file_key(struct fwcfg *, const char *name);
/* The size of a named file, or -1. */
int64_t		 fwcfg_file_size(struct fwcfg *, const char *name);

/*
 * The items SeaBIOS reads besides files: NB_CPUS and MAX_CPUS (it waits
 * for NB_CPUS application processors), NOGRAPHIC (nonzero: its console
 * goes to COM1) and RAM_SIZE (for other firmware). Returns 0 or -1.
 */
int		 fwcfg_add_machine(struct fwcfg *, uint16_t ncpus,
		    uint16_t max_cpus, int nographic, uint64_t ram_size);

/* etc/e820: 20-byte little-endian entries {addr, len, type}. */
struct fwcfg_e820 {
	uint64_t	addr;
	uint64_t	len;
	uint32_t	type;
};
int		 fwcfg_add_e820(struct fwcfg *, const struct fwcfg_e820 *,
		    int n);
/*
 * bootorder: the device paths (such as "/pci@i0cf8/scsi@2", or "HALT" to
 * make the order strict) joined by newlines, NUL-terminated as QEMU does.
 */
int		 fwcfg_add_bootorder(struct fwcfg *, const char *const *paths,
		    int n);

/* The port handlers, for the bus and for tests. */
void		 fwcfg_io(void *, uint64_t, uint8_t *, uint32_t, int);
void		 fwcfg_dma_io(void *, uint64_t, uint8_t *, uint32_t, int);

/*
 * fwcfg_loader.c: the ACPI linker/loader script. Commands are 128 bytes,
 * little-endian (SeaBIOS src/fw/romfile_loader.h). The firmware runs them
 * in order: ALLOCATE copies a file into memory of a zone, ADD_POINTER adds
 * the address of src's copy to the size-byte value at offset in dest's
 * copy, ADD_CHECKSUM subtracts the byte sum of [start, start + len) from
 * the byte at offset.
 */
#define FWCFG_LOADER_FILE	"etc/table-loader"
#define FWCFG_LOADER_CMD_SIZE	128
#define FWCFG_LOADER_ALLOCATE	1
#define FWCFG_LOADER_ADD_POINTER 2
#define FWCFG_LOADER_ADD_CHECKSUM 3
#define FWCFG_LOADER_ZONE_HIGH	1
#define FWCFG_LOADER_ZONE_FSEG	2

struct fwcfg_loader;
struct fwcfg_loader *fwcfg_loader_create(void);
void		 fwcfg_loader_free(struct fwcfg_loader *);
/*
 * Each returns 0, or -1 with errno EINVAL for a name that is empty or too
 * long, an align that is not a power of two, a zone other than HIGH or
 * FSEG, a pointer size other than 1, 2, 4 or 8, a range that wraps, a file
 * allocated twice or a file not allocated yet.
 */
int		 fwcfg_loader_allocate(struct fwcfg_loader *, const char *file,
		    uint32_t align, uint8_t zone);
int		 fwcfg_loader_add_pointer(struct fwcfg_loader *,
		    const char *dest, const char *src, uint32_t offset,
		    uint8_t size);
int		 fwcfg_loader_add_checksum(struct fwcfg_loader *,
		    const char *file, uint32_t offset, uint32_t start,
		    uint32_t len);
/* The script so far. */
const void	*fwcfg_loader_data(const struct fwcfg_loader *, size_t *len);
/*
 * Add the script as FWCFG_LOADER_FILE once the files it names are in fw.
 * Returns the key, or -1 with errno EINVAL if a file it allocates is
 * missing or empty or a command reaches past the end of its file (the
 * firmware would skip such a command), or as fwcfg_add_file.
 */
int		 fwcfg_loader_publish(const struct fwcfg_loader *,
		    struct fwcfg *);

#endif

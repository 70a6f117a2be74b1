/*
 * The QEMU fw_cfg device (docs/specs/fw_cfg.rst in QEMU), port I/O flavour.
 * A 16-bit write to the selector picks an item and rewinds its offset;
 * each data read returns the next byte, 0 past the end or for a key
 * without an item. The DMA register takes the guest address of a
 * descriptor {be32 control, be32 length, be64 address}, high half first;
 * writing the low half runs it: select, then read, write or skip, then
 * control is set to 0, or to ERROR if anything failed. Writes are
 * refused: no item here is writable.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fwcfg.h"
#include "vmm.h"
#include "xmalloc.h"

/* The most guest memory one step of a DMA transfer touches. */
#define FWCFG_DMA_CHUNK		(64 * 1024)
#define FWCFG_DMA_DESC_SIZE	16
#define FWCFG_KEY_MASK		(~FWCFG_WRITE_CHANNEL & 0xffff)

struct fwcfg_item {
	uint16_t	 key;
	uint32_t	 len;
	uint8_t		*data;
};

struct fwcfg_file {
	char		 name[FWCFG_NAME_SIZE];
	uint16_t	 key;
};

struct fwcfg {
	struct vmm		*vmm;
	pthread_mutex_t		 lock;
	struct fwcfg_item	*items;
	int			 nitems;
	struct fwcfg_file	 files[FWCFG_MAX_FILES];
	int			 nfiles;
	int			 cur;		/* item index, or -1 */
	uint32_t		 offset;
	uint64_t		 dma_addr;
	int			 registered;
};

static int
fwcfg_find(struct fwcfg *fw, uint16_t key)
{
	int i;

	key &= FWCFG_KEY_MASK;
	for (i = 0; i < fw->nitems; i++)
		if (fw->items[i].key == key)
			return i;
	return -1;
}

/* Set an item with no check of the key. Lock held. */
static int
fwcfg_set(struct fwcfg *fw, uint16_t key, const void *data, size_t len)
{
	struct fwcfg_item *it;
	uint8_t *copy;
	int i;

	if (len >= UINT32_MAX) {
		errno = EFBIG;
		return -1;
	}
	copy = xmalloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(copy, data, len);
	if ((i = fwcfg_find(fw, key)) == -1) {
		fw->items = xreallocarray(fw->items, fw->nitems + 1,
		    sizeof *fw->items);
		i = fw->nitems++;
		fw->items[i].key = key;
		fw->items[i].data = NULL;
	}
	it = &fw->items[i];
	free(it->data);
	it->data = copy;
	it->len = len;
	if (fw->cur == i && fw->offset > it->len)
		fw->offset = it->len;
	return 0;
}

struct fwcfg *
fwcfg_create(struct vmm *vmm)
{
	struct fwcfg *fw;
	uint32_t id;

	fw = xcalloc(1, sizeof *fw);
	fw->vmm = vmm;
	fw->cur = -1;
	pthread_mutex_init(&fw->lock, NULL);
	id = htole32(FWCFG_ID_TRADITIONAL | FWCFG_ID_DMA);
	fwcfg_set(fw, FWCFG_SIGNATURE, "QEMU", 4);
	fwcfg_set(fw, FWCFG_ID, &id, sizeof id);
	fwcfg_set(fw, FWCFG_FILE_DIR, "\0\0\0\0", 4);
	fw->cur = fwcfg_find(fw, FWCFG_SIGNATURE);
	if (vmm == NULL)
		return fw;
	if (bus_register(&vmm->pio, FWCFG_PORT_SEL, 2, fwcfg_io, fw,
	    "fw_cfg") == -1)
		goto fail;
	if (bus_register(&vmm->pio, FWCFG_PORT_DMA, FWCFG_DMA_LEN,
	    fwcfg_dma_io, fw, "fw_cfg dma") == -1) {
		bus_unregister(&vmm->pio, FWCFG_PORT_SEL);
		goto fail;
	}
	fw->registered = 1;
	return fw;
fail:
	fw->vmm = NULL;
	fwcfg_destroy(fw);
	return NULL;
}

void
fwcfg_destroy(struct fwcfg *fw)
{
	int i;

	if (fw == NULL)
		return;
	if (fw->registered) {
		bus_unregister(&fw->vmm->pio, FWCFG_PORT_DMA);
		bus_unregister(&fw->vmm->pio, FWCFG_PORT_SEL);
	}
	for (i = 0; i < fw->nitems; i++)
		free(fw->items[i].data);
	free(fw->items);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

int
fwcfg_add_bytes(struct fwcfg *fw, uint16_t key, const void *data, size_t len)
{
	int rv;

	if ((key & FWCFG_WRITE_CHANNEL) || key == FWCFG_FILE_DIR ||
	    (key >= FWCFG_FILE_FIRST && key < FWCFG_WRITE_CHANNEL)) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&fw->lock);
	rv = fwcfg_set(fw, key, data, len);
	pthread_mutex_unlock(&fw->lock);
	return rv;
}

int
fwcfg_add_i16(struct fwcfg *fw, uint16_t key, uint16_t v)
{
	v = htole16(v);
	return fwcfg_add_bytes(fw, key, &v, sizeof v);
}

int
fwcfg_add_i32(struct fwcfg *fw, uint16_t key, uint32_t v)
{
	v = htole32(v);
	return fwcfg_add_bytes(fw, key, &v, sizeof v);
}

int
fwcfg_add_i64(struct fwcfg *fw, uint16_t key, uint64_t v)
{
	v = htole64(v);
	return fwcfg_add_bytes(fw, key, &v, sizeof v);
}

static int
fwcfg_file_cmp(const void *a, const void *b)
{
	const struct fwcfg_file *fa = a, *fb = b;

	return strcmp(fa->name, fb->name);
}

/* Rebuild the directory item from the files, sorted by name. Lock held. */
static void
fwcfg_build_dir(struct fwcfg *fw)
{
	struct fwcfg_file sorted[FWCFG_MAX_FILES];
	struct fwcfg_item *it;
	uint8_t dir[4 + FWCFG_MAX_FILES * FWCFG_DIR_ENTRY_SIZE], *e;
	uint32_t v32;
	uint16_t v16;
	int i;

	memcpy(sorted, fw->files, fw->nfiles * sizeof sorted[0]);
	qsort(sorted, fw->nfiles, sizeof sorted[0], fwcfg_file_cmp);
	memset(dir, 0, sizeof dir);
	v32 = htobe32(fw->nfiles);
	memcpy(dir, &v32, 4);
	for (i = 0; i < fw->nfiles; i++) {
		e = dir + 4 + i * FWCFG_DIR_ENTRY_SIZE;
		it = &fw->items[fwcfg_find(fw, sorted[i].key)];
		v32 = htobe32(it->len);
		v16 = htobe16(sorted[i].key);
		memcpy(e, &v32, 4);
		memcpy(e + 4, &v16, 2);
		memcpy(e + 8, sorted[i].name, FWCFG_NAME_SIZE);
	}
	fwcfg_set(fw, FWCFG_FILE_DIR, dir, 4 + fw->nfiles *
	    FWCFG_DIR_ENTRY_SIZE);
}

/* The index of a named file, or -1. Lock held. */
static int
fwcfg_file_find(struct fwcfg *fw, const char *name)
{
	int i;

	for (i = 0; i < fw->nfiles; i++)
		if (strcmp(fw->files[i].name, name) == 0)
			return i;
	return -1;
}

int
fwcfg_file_key(struct fwcfg *fw, const char *name)
{
	int i, key = -1;

	pthread_mutex_lock(&fw->lock);
	if ((i = fwcfg_file_find(fw, name)) != -1)
		key = fw->files[i].key;
	pthread_mutex_unlock(&fw->lock);
	return key;
}

int64_t
fwcfg_file_size(struct fwcfg *fw, const char *name)
{
	int64_t size = -1;
	int i;

	pthread_mutex_lock(&fw->lock);
	if ((i = fwcfg_file_find(fw, name)) != -1)
		size = fw->items[fwcfg_find(fw, fw->files[i].key)].len;
	pthread_mutex_unlock(&fw->lock);
	return size;
}

int
fwcfg_add_file(struct fwcfg *fw, const char *name, const void *data,
    size_t len)
{
	struct fwcfg_file *f;
	size_t namelen;
	int key, err = 0;

	namelen = strlen(name);
	if (namelen == 0) {
		errno = EINVAL;
		return -1;
	}
	if (namelen >= FWCFG_NAME_SIZE) {
		errno = ENAMETOOLONG;
		return -1;
	}
	pthread_mutex_lock(&fw->lock);
	key = FWCFG_FILE_FIRST + fw->nfiles;
	if (fwcfg_file_find(fw, name) != -1)
		err = EEXIST;
	else if (fw->nfiles == FWCFG_MAX_FILES)
		err = ENOSPC;
	else if (fwcfg_set(fw, key, data, len) == -1)
		err = errno;
	if (err != 0) {
		pthread_mutex_unlock(&fw->lock);
		errno = err;
		return -1;
	}
	f = &fw->files[fw->nfiles++];
	memset(f->name, 0, sizeof f->name);
	memcpy(f->name, name, namelen);
	f->key = key;
	fwcfg_build_dir(fw);
	pthread_mutex_unlock(&fw->lock);
	return key;
}

int
fwcfg_add_machine(struct fwcfg *fw, uint16_t ncpus, uint16_t max_cpus,
    int nographic, uint64_t ram_size)
{
	if (fwcfg_add_i16(fw, FWCFG_NB_CPUS, ncpus) == -1 ||
	    fwcfg_add_i16(fw, FWCFG_MAX_CPUS, max_cpus) == -1 ||
	    fwcfg_add_i16(fw, FWCFG_NOGRAPHIC, nographic != 0) == -1 ||
	    fwcfg_add_i64(fw, FWCFG_RAM_SIZE, ram_size) == -1)
		return -1;
	return 0;
}

int
fwcfg_add_e820(struct fwcfg *fw, const struct fwcfg_e820 *map, int n)
{
	uint8_t *buf, *p;
	uint64_t v64;
	uint32_t v32;
	int i, rv;

	if (n < 0 || n > 128) {
		errno = EINVAL;
		return -1;
	}
	buf = xcalloc(n > 0 ? n : 1, 20);
	for (i = 0, p = buf; i < n; i++, p += 20) {
		v64 = htole64(map[i].addr);
		memcpy(p, &v64, 8);
		v64 = htole64(map[i].len);
		memcpy(p + 8, &v64, 8);
		v32 = htole32(map[i].type);
		memcpy(p + 16, &v32, 4);
	}
	rv = fwcfg_add_file(fw, "etc/e820", buf, (size_t)n * 20);
	free(buf);
	return rv;
}

int
fwcfg_add_bootorder(struct fwcfg *fw, const char *const *paths, int n)
{
	char *buf;
	size_t len = 0, l;
	int i, rv;

	for (i = 0; i < n; i++)
		len += strlen(paths[i]) + 1;
	buf = xmalloc(len > 0 ? len : 1);
	buf[0] = '\0';
	for (i = 0, len = 0; i < n; i++) {
		l = strlen(paths[i]);
		memcpy(buf + len, paths[i], l);
		len += l;
		buf[len++] = i + 1 < n ? '\n' : '\0';
	}
	rv = fwcfg_add_file(fw, "bootorder", buf, len > 0 ? len : 1);
	free(buf);
	return rv;
}

/* Lock held. */
static void
fwcfg_select(struct fwcfg *fw, uint16_t key)
{
	fw->cur = fwcfg_find(fw, key);
	fw->offset = 0;
}

/* The selector and data ports: 16-bit writes select, byte reads read. */
void
fwcfg_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct fwcfg *fw = opaque;
	struct fwcfg_item *it;

	pthread_mutex_lock(&fw->lock);
	if (is_write) {
		if (off == 0 && len == 2)
			fwcfg_select(fw, data[0] | data[1] << 8);
		/* Byte writes to the data port are ignored, as in QEMU. */
	} else if (len == 1) {
		data[0] = 0;
		if (fw->cur != -1) {
			it = &fw->items[fw->cur];
			if (fw->offset < it->len)
				data[0] = it->data[fw->offset++];
		}
	} else
		memset(data, 0, len);
	pthread_mutex_unlock(&fw->lock);
}

/*
 * Move up to len bytes of the selected item (zeros past its end or when
 * nothing is selected) to guest memory at gpa (read), or step over them
 * (skip). Returns how many, or 0 on a bad guest address. Lock held.
 */
static uint32_t
fwcfg_dma_step(struct fwcfg *fw, uint64_t gpa, uint32_t len, int read)
{
	struct fwcfg_item *it = NULL;
	uint8_t *dst;
	uint32_t n;

	if (fw->cur != -1 && fw->offset < fw->items[fw->cur].len) {
		it = &fw->items[fw->cur];
		n = it->len - fw->offset;
		if (n > len)
			n = len;
	} else
		n = len;
	if (n > FWCFG_DMA_CHUNK)
		n = FWCFG_DMA_CHUNK;
	if (read) {
		if ((dst = memmap_ptr(&fw->vmm->mem, gpa, n)) == NULL)
			return 0;
		if (it != NULL)
			memcpy(dst, it->data + fw->offset, n);
		else
			memset(dst, 0, n);
	}
	if (it != NULL)
		fw->offset += n;
	return n;
}

/* Run the descriptor at fw->dma_addr. Lock held. */
static void
fwcfg_dma_run(struct fwcfg *fw)
{
	uint8_t *desc;
	uint64_t gpa, addr;
	uint32_t ctl, len, n, status = 0, v;
	int read;

	gpa = fw->dma_addr;
	fw->dma_addr = 0;
	if (fw->vmm == NULL)
		return;
	if ((desc = memmap_ptr(&fw->vmm->mem, gpa,
	    FWCFG_DMA_DESC_SIZE)) == NULL) {
		/* Report it if at least the control word is in RAM. */
		if ((desc = memmap_ptr(&fw->vmm->mem, gpa, 4)) != NULL) {
			v = htobe32(FWCFG_DMA_ERROR);
			memcpy(desc, &v, 4);
		}
		return;
	}
	memcpy(&ctl, desc, 4);
	memcpy(&len, desc + 4, 4);
	memcpy(&addr, desc + 8, 8);
	ctl = be32toh(ctl);
	len = be32toh(len);
	addr = be64toh(addr);

	if (ctl & FWCFG_DMA_SELECT)
		fwcfg_select(fw, ctl >> 16);
	read = (ctl & FWCFG_DMA_READ) != 0;
	if (read || (ctl & FWCFG_DMA_SKIP)) {
		while (len > 0) {
			if ((n = fwcfg_dma_step(fw, addr, len, read)) == 0) {
				status = FWCFG_DMA_ERROR;
				break;
			}
			addr += n;
			len -= n;
		}
	} else if (ctl & FWCFG_DMA_WRITE)
		status = FWCFG_DMA_ERROR;
	v = htobe32(status);
	memcpy(desc, &v, 4);
}

/*
 * The DMA address register: a 4-byte write at 0 sets the high half, at 4
 * the low half and runs the descriptor; an 8-byte write at 0 both. Reads
 * return the bytes of FWCFG_DMA_SIGNATURE.
 */
void
fwcfg_dma_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct fwcfg *fw = opaque;
	uint32_t v;
	uint64_t v64;

	if (!is_write) {
		if (off < FWCFG_DMA_LEN && len <= FWCFG_DMA_LEN - off)
			memcpy(data, &FWCFG_DMA_SIGNATURE[off], len);
		else
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&fw->lock);
	if (len == 4 && (off == 0 || off == 4)) {
		memcpy(&v, data, 4);
		v = be32toh(v);
		if (off == 0)
			fw->dma_addr = (uint64_t)v << 32;
		else {
			fw->dma_addr |= v;
			fwcfg_dma_run(fw);
		}
	} else if (len == 8 && off == 0) {
		memcpy(&v64, data, 8);
		fw->dma_addr = be64toh(v64);
		fwcfg_dma_run(fw);
	}
	pthread_mutex_unlock(&fw->lock);
}

/*
 * The ACPI linker/loader script ("etc/table-loader") that SeaBIOS and OVMF
 * run over fw_cfg files: 128-byte little-endian commands, the layout of
 * struct romfile_loader_entry_s in SeaBIOS src/fw/romfile_loader.h:
 *
 *	u32 command, then for ALLOCATE:     char file[56], u32 align, u8 zone
 *	                   for ADD_POINTER:  char dest[56], char src[56],
 *	                                     u32 offset, u8 size
 *	                   for ADD_CHECKSUM: char file[56], u32 offset,
 *	                                     u32 start, u32 length
 *
 * The builder checks what the firmware would reject (it skips a bad
 * command with a warning, leaving tables half patched): names must fit,
 * files be allocated once and before use.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fwcfg.h"
#include "xmalloc.h"

#define LOADER_MAX_CMDS		256
#define LOADER_MAX_FILES	32

struct fwcfg_loader {
	uint8_t		*cmds;
	int		 ncmds;
	char		 files[LOADER_MAX_FILES][FWCFG_NAME_SIZE];
	int		 nfiles;
};

struct fwcfg_loader *
fwcfg_loader_create(void)
{
	return xcalloc(1, sizeof(struct fwcfg_loader));
}

void
fwcfg_loader_free(struct fwcfg_loader *l)
{
	if (l == NULL)
		return;
	free(l->cmds);
	free(l);
}

static int
loader_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < FWCFG_NAME_SIZE;
}

static int
loader_allocated(const struct fwcfg_loader *l, const char *name)
{
	int i;

	for (i = 0; i < l->nfiles; i++)
		if (strcmp(l->files[i], name) == 0)
			return 1;
	return 0;
}

/* A new zeroed command of type cmd, or NULL (errno ENOSPC). */
static uint8_t *
loader_cmd(struct fwcfg_loader *l, uint32_t cmd)
{
	uint8_t *c;

	if (l->ncmds == LOADER_MAX_CMDS) {
		errno = ENOSPC;
		return NULL;
	}
	l->cmds = xreallocarray(l->cmds, l->ncmds + 1, FWCFG_LOADER_CMD_SIZE);
	c = l->cmds + (size_t)l->ncmds++ * FWCFG_LOADER_CMD_SIZE;
	memset(c, 0, FWCFG_LOADER_CMD_SIZE);
	cmd = htole32(cmd);
	memcpy(c, &cmd, 4);
	return c;
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

int
fwcfg_loader_allocate(struct fwcfg_loader *l, const char *file,
    uint32_t align, uint8_t zone)
{
	uint8_t *c;

	if (!loader_name_ok(file) || loader_allocated(l, file) ||
	    (align & (align - 1)) != 0 || (zone != FWCFG_LOADER_ZONE_HIGH &&
	    zone != FWCFG_LOADER_ZONE_FSEG)) {
		errno = EINVAL;
		return -1;
	}
	if (l->nfiles == LOADER_MAX_FILES) {
		errno = ENOSPC;
		return -1;
	}
	if ((c = loader_cmd(l, FWCFG_LOADER_ALLOCATE)) == NULL)
		return -1;
	memcpy(c + 4, file, strlen(file));
	put32(c + 60, align);
	c[64] = zone;
	memcpy(l->files[l->nfiles++], file, strlen(file) + 1);
	return 0;
}

int
fwcfg_loader_add_pointer(struct fwcfg_loader *l, const char *dest,
    const char *src, uint32_t offset, uint8_t size)
{
	uint8_t *c;

	if (!loader_allocated(l, dest) || !loader_allocated(l, src) ||
	    (size != 1 && size != 2 && size != 4 && size != 8) ||
	    offset > UINT32_MAX - size) {
		errno = EINVAL;
		return -1;
	}
	if ((c = loader_cmd(l, FWCFG_LOADER_ADD_POINTER)) == NULL)
		return -1;
	memcpy(c + 4, dest, strlen(dest));
	memcpy(c + 60, src, strlen(src));
	put32(c + 116, offset);
	c[120] = size;
	return 0;
}

int
fwcfg_loader_add_checksum(struct fwcfg_loader *l, const char *file,
    uint32_t offset, uint32_t start, uint32_t len)
{
	uint8_t *c;

	if (!loader_allocated(l, file) || start > UINT32_MAX - len) {
		errno = EINVAL;
		return -1;
	}
	if ((c = loader_cmd(l, FWCFG_LOADER_ADD_CHECKSUM)) == NULL)
		return -1;
	memcpy(c + 4, file, strlen(file));
	put32(c + 60, offset);
	put32(c + 64, start);
	put32(c + 68, len);
	return 0;
}

const void *
fwcfg_loader_data(const struct fwcfg_loader *l, size_t *len)
{
	*len = (size_t)l->ncmds * FWCFG_LOADER_CMD_SIZE;
	return l->cmds;
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

/*
 * Whether a command fits the files in fw, checked as SeaBIOS
 * romfile_loader.c checks it. The names are NUL-terminated: the builder
 * wrote them.
 */
static int
loader_cmd_fits(const uint8_t *c, struct fwcfg *fw)
{
	const char *file = (const char *)c + 4;
	int64_t size = fwcfg_file_size(fw, file);
	uint64_t off = get32(c + 60);

	if (size <= 0)
		return 0;
	switch (get32(c)) {
	case FWCFG_LOADER_ALLOCATE:
		return 1;
	case FWCFG_LOADER_ADD_POINTER:
		off = get32(c + 116);
		return fwcfg_file_size(fw, (const char *)c + 60) > 0 &&
		    off + c[120] <= (uint64_t)size;
	case FWCFG_LOADER_ADD_CHECKSUM:
		return off < (uint64_t)size && (uint64_t)get32(c + 64) +
		    get32(c + 68) <= (uint64_t)size;
	}
	return 0;
}

int
fwcfg_loader_publish(const struct fwcfg_loader *l, struct fwcfg *fw)
{
	int i;

	for (i = 0; i < l->ncmds; i++)
		if (!loader_cmd_fits(l->cmds + (size_t)i *
		    FWCFG_LOADER_CMD_SIZE, fw)) {
			errno = EINVAL;
			return -1;
		}
	return fwcfg_add_file(fw, FWCFG_LOADER_FILE, l->cmds,
	    (size_t)l->ncmds * FWCFG_LOADER_CMD_SIZE);
}

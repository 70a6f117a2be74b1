/*
 * Booting through a BIOS image (SeaBIOS): the image ends at 4 GiB as a
 * ROM, its last 128 KiB is also copied to 0xe0000-0xfffff, which stays
 * plain RAM (no PAM registers to unlock, as in OpenBSD vmd), and the
 * firmware learns the memory map through fw_cfg.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fwcfg.h"
#include "vmm.h"
#include "x86.h"

#define E820_RAM		1
#define E820_RESERVED		2
#define BIOS_ALIGN		0x10000ULL

int
x86_bios_load(struct vmm *vmm, int fd, const char *name, void **rom,
    uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf, *low;
	uint64_t len, done = 0;
	ssize_t n;

	*rom = NULL;
	*size = 0;
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "BIOS image %s: %s", name,
		    strerror(errno));
		return -1;
	}
	len = st.st_size;
	if (len < X86_BIOS_LOW_SIZE || len > X86_BIOS_MAX_SIZE ||
	    len % BIOS_ALIGN != 0) {
		snprintf(err, errlen, "BIOS image %s is %llu bytes; it must "
		    "be a multiple of 64 KiB from 128 KiB to 16 MiB", name,
		    (unsigned long long)len);
		return -1;
	}
	low = memmap_ptr(&vmm->mem, X86_BIOS_END - X86_BIOS_LOW_SIZE,
	    X86_BIOS_LOW_SIZE);
	if (low == NULL) {
		snprintf(err, errlen, "no RAM below 1 MiB for the BIOS");
		return -1;
	}
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		snprintf(err, errlen, "BIOS image %s: %s", name,
		    strerror(errno));
		return -1;
	}
	while (done < len) {
		n = pread(fd, buf + done, len - done, done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "BIOS image %s: %s", name,
			    n == 0 ? "shorter than it was" : strerror(errno));
			munmap(buf, len);
			return -1;
		}
		done += n;
	}
	memcpy(low, buf + len - X86_BIOS_LOW_SIZE, X86_BIOS_LOW_SIZE);
	*rom = buf;
	*size = len;
	return 0;
}

static int
fw_e820_add(struct fwcfg_e820 *e, int n, int max, uint64_t addr,
    uint64_t len, uint32_t type)
{
	if (n == max || len == 0)
		return n;
	e[n].addr = addr;
	e[n].len = len;
	e[n].type = type;
	return n + 1;
}

int
x86_fw_e820(struct fwcfg_e820 *e, int max, uint64_t ram)
{
	uint64_t low = ram < X86_LOWMEM_END ? ram : X86_LOWMEM_END;
	int n = 0;

	n = fw_e820_add(e, n, max, 0, low, E820_RAM);
	n = fw_e820_add(e, n, max, X86_IDENTITY_MAP_ADDR, X86_KVM_PAGES_SIZE,
	    E820_RESERVED);
	if (ram > low)
		n = fw_e820_add(e, n, max, X86_HIGHMEM_BASE, ram - low,
		    E820_RAM);
	return n;
}

/*
 * Locked pages for a guest helper to hand a device, and their
 * guest-physical addresses from /proc/self/pagemap (needs root). The
 * includer defines die(fmt, ...).
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static void die(const char *, ...);

/* Map n zeroed pages into page[] and find their addresses, pa[]. */
static void
dma_pages(uint8_t **page, uint64_t *pa, int n)
{
	uint64_t e;
	uint8_t *m;
	int fd, i;

	m = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (m == MAP_FAILED)
		die("mmap: %m");
	memset(m, 0, n * 4096);
	if ((fd = open("/proc/self/pagemap", O_RDONLY)) == -1)
		die("/proc/self/pagemap: %m");
	for (i = 0; i < n; i++) {
		page[i] = m + i * 4096;
		if (pread(fd, &e, 8, ((uintptr_t)page[i] / 4096) * 8) != 8)
			die("pagemap: %m");
		if (!(e >> 63) || (e & ((1ULL << 55) - 1)) == 0)
			die("page %d not present (or pagemap hides PFNs)", i);
		pa[i] = (e & ((1ULL << 55) - 1)) * 4096;
	}
	close(fd);
}

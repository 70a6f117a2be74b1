/*
 * vmtop-virtq: feed garbage into a virtio-pci (modern) device's first
 * virtqueue (or another) from inside the test guest, to check that the
 * VMM validates what the guest hands it: rings and descriptors outside
 * guest RAM or across its end, loops, chains longer than the queue, huge
 * and zero lengths, bad indirect tables, heads and indices out of range,
 * random bytes. Each round resets the device, sets the queue up, notifies
 * it and prints the device status ("NEEDS_RESET" is 0x40); the last round
 * is a valid request, which must complete.
 *
 * Usage: vmtop-virtq [-q QUEUE] PCI-ADDRESS (e.g. 0000:00:03.0), after
 * the device is unbound from its driver; -q picks another queue than 0
 * (2: a virtio-scsi request queue, whose valid request is TEST UNIT
 * READY). With -b (vmtop-virtq -b PCI-ADDRESS OTHER) the rounds are BAR
 * writes through sysfs config space instead (see bars()): each ends with
 * the original BARs restored and a valid request, which must complete
 * ("virtq done N rounds, M served" with M = N). VMTOP_virtq_skip
 * (vmtop.virtq_skip= on the kernel command line) names rounds to leave
 * out, comma-separated: QEMU 7.2 aborts on desc-huge-len, for one. Built
 * static by tests/guest/build.sh; run by the guest's "virtq" and
 * "fwjunk" tests.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmapages.h"

#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define STATUS_NEEDS_RESET	0x40
#define QSIZE			16
#define FAR			(1ULL << 40)	/* far beyond any test guest's RAM */

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* The common configuration structure, virtio 1.x section 4.1.4.3. */
#define CC_DFSELECT	0x00
#define CC_DF		0x04
#define CC_GFSELECT	0x08
#define CC_GF		0x0c
#define CC_MSIX		0x10
#define CC_STATUS	0x14
#define CC_QSELECT	0x16
#define CC_QSIZE	0x18
#define CC_QMSIX	0x1a
#define CC_QENABLE	0x1c
#define CC_QNOTIFYOFF	0x1e
#define CC_QDESC	0x20
#define CC_QAVAIL	0x28
#define CC_QUSED	0x30

static volatile uint8_t *common, *notify_base;
static uint32_t notify_mult;
static uint64_t ram_end;

/* DMA pages: their guest-physical addresses come from /proc/self/pagemap. */
enum { P_DESC, P_AVAIL, P_USED, P_INDIRECT, P_BUF, NPAGES };
static uint8_t *page[NPAGES];
static uint64_t pa[NPAGES];
static int rounds, needs_reset, served;
static int qsel;	/* the queue under test (-q) */
/* Run after the queue is live and before it is notified (BAR rounds). */
static void (*before_notify)(void);

static void
die(const char *fmt, ...)
{
	va_list ap;

	printf("vmtop-guest: virtq error: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static uint8_t r8(int o) { return common[o]; }
static uint16_t r16(int o) { return *(volatile uint16_t *)(common + o); }
static uint32_t r32(int o) { return *(volatile uint32_t *)(common + o); }
static void w8(int o, uint8_t v) { common[o] = v; }
static void w16(int o, uint16_t v) { *(volatile uint16_t *)(common + o) = v; }
static void w32(int o, uint32_t v) { *(volatile uint32_t *)(common + o) = v; }
static void w64(int o, uint64_t v) { w32(o, (uint32_t)v); w32(o + 4, v >> 32); }

static void
msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
dma_setup(void)
{
	dma_pages(page, pa, NPAGES);
}

/* The end of guest RAM: the highest "System RAM" in /proc/iomem. */
static void
ram_setup(void)
{
	char line[256];
	unsigned long long s, e;
	FILE *f;

	if ((f = fopen("/proc/iomem", "r")) == NULL)
		die("/proc/iomem: %m");
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "System RAM") != NULL &&
		    sscanf(line, " %llx-%llx", &s, &e) == 2 && e + 1 > ram_end)
			ram_end = e + 1;
	fclose(f);
	if (ram_end == 0)
		die("no System RAM in /proc/iomem");
}

static uint32_t
le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Find the common and notify structures through the PCI capabilities. */
static void
pci_setup(const char *addr)
{
	char path[256];
	uint8_t cfg[256];
	volatile uint8_t *bar[6] = { 0 };
	struct stat st;
	int fd, p, n, type, b;
	uint32_t off;

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/config", addr);
	if ((fd = open(path, O_RDWR)) == -1)
		die("%s: %m", path);
	if (pread(fd, cfg, sizeof cfg, 0) != sizeof cfg)
		die("%s: short read", path);
	/* memory space and bus master on: the driver's unbind turned
	 * bus mastering off */
	cfg[4] |= 0x06;
	if (pwrite(fd, cfg + 4, 1, 4) != 1)
		die("%s: %m", path);
	close(fd);
	for (p = cfg[0x34] & 0xfc, n = 0; p != 0 && n < 48;
	    p = cfg[p + 1] & 0xfc, n++) {
		if (p > 256 - 20 || cfg[p] != 0x09)
			continue;
		type = cfg[p + 3];
		b = cfg[p + 4];
		off = le32(cfg + p + 8);
		if ((type != 1 && type != 2) || b > 5)
			continue;
		if (bar[b] == NULL) {
			snprintf(path, sizeof path,
			    "/sys/bus/pci/devices/%s/resource%d", addr, b);
			if ((fd = open(path, O_RDWR | O_SYNC)) == -1 ||
			    fstat(fd, &st) == -1)
				die("%s: %m", path);
			bar[b] = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
			if (bar[b] == MAP_FAILED)
				die("mmap %s: %m", path);
			close(fd);
		}
		if (type == 1)
			common = bar[b] + off;
		else {
			notify_base = bar[b] + off;
			notify_mult = le32(cfg + p + 16);
		}
	}
	if (common == NULL || notify_base == NULL)
		die("%s: no modern virtio common or notify structure", addr);
}

/* reset: the device must read back status 0. */
static int
reset(void)
{
	int i;

	w8(CC_STATUS, 0);
	for (i = 0; i < 100 && r8(CC_STATUS) != 0; i++)
		msleep(10);
	return r8(CC_STATUS) == 0;
}

/* Run one round: queue of qsize at the given addresses, one notify. */
static void
round_(const char *name, unsigned qsize, uint64_t d, uint64_t a, uint64_t u)
{
	uint32_t lo, hi;
	uint16_t used_idx;
	const char *skip = getenv("VMTOP_virtq_skip");
	uint8_t st;

	if (skip != NULL && strstr(skip, name) != NULL) {
		printf("vmtop-guest: virtq %s skipped\n", name);
		memset(page[0], 0, NPAGES * 4096);
		return;
	}
	if (!reset())
		die("%s: the device does not reset (status 0x%02x)", name,
		    r8(CC_STATUS));
	w8(CC_STATUS, 1);
	w8(CC_STATUS, 3);
	w32(CC_DFSELECT, 1);
	hi = r32(CC_DF);
	w32(CC_DFSELECT, 0);
	lo = r32(CC_DF);
	w32(CC_GFSELECT, 1);
	w32(CC_GF, hi & 1);				/* VERSION_1 */
	w32(CC_GFSELECT, 0);
	w32(CC_GF, lo & (3u << 28));			/* INDIRECT, EVENT_IDX */
	w8(CC_STATUS, 0x0b);
	if (!(r8(CC_STATUS) & 0x08))
		die("%s: FEATURES_OK refused", name);
	w16(CC_MSIX, 0xffff);
	w16(CC_QSELECT, qsel);
	if (r16(CC_QSIZE) == 0)
		die("%s: queue %d missing", name, qsel);
	w16(CC_QSIZE, qsize);
	w16(CC_QMSIX, 0xffff);
	w64(CC_QDESC, d);
	w64(CC_QAVAIL, a);
	w64(CC_QUSED, u);
	w16(CC_QENABLE, 1);
	w8(CC_STATUS, 0x0f);
	if (before_notify != NULL)
		before_notify();
	*(volatile uint16_t *)(notify_base + r16(CC_QNOTIFYOFF) * notify_mult) = 0;
	msleep(200);
	st = r8(CC_STATUS);
	used_idx = *(volatile uint16_t *)(page[P_USED] + 2);
	printf("vmtop-guest: virtq %s status 0x%02x used %u\n", name, st,
	    used_idx);
	fflush(stdout);
	rounds++;
	served += st == 0x0f && used_idx == 1;
	if (st & STATUS_NEEDS_RESET)
		needs_reset++;
	memset(page[0], 0, NPAGES * 4096);
}

static struct desc *
desc(int page_, int i)
{
	return (struct desc *)page[page_] + i;
}

/* avail ring: flags 0 (interrupts wanted), idx, ring[0] = head */
static void
avail(uint16_t idx, uint16_t head)
{
	uint16_t *av = (uint16_t *)page[P_AVAIL];

	av[0] = 1;	/* VIRTQ_AVAIL_F_NO_INTERRUPT */
	av[1] = idx;
	av[2] = head;
}

/* One descriptor at slot 0, made available. */
static void
one(uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(P_DESC, 0) = (struct desc){ addr, len, flags, next };
	avail(1, 0);
}

/*
 * A request the device must complete: a 64-byte buffer to fill, or on a
 * virtio-scsi request queue (-q 2) TEST UNIT READY to target 0, LUN 0
 * (a 51-byte virtio_scsi_cmd_req, then room for the 108-byte response).
 */
static void
valid(void)
{
	if (qsel != 2) {
		one(pa[P_BUF], 64, VIRTQ_DESC_F_WRITE, 0);
		return;
	}
	page[P_BUF][0] = 1;		/* lun: target 0, LUN 0 */
	*desc(P_DESC, 0) = (struct desc){ pa[P_BUF], 51, VIRTQ_DESC_F_NEXT,
	    1 };
	*desc(P_DESC, 1) = (struct desc){ pa[P_BUF] + 256, 108,
	    VIRTQ_DESC_F_WRITE, 0 };
	avail(1, 0);
}

#define RING	pa[P_DESC], pa[P_AVAIL], pa[P_USED]
#define W	VIRTQ_DESC_F_WRITE
#define N	VIRTQ_DESC_F_NEXT
#define I	VIRTQ_DESC_F_INDIRECT

/* Config space through sysfs: the device's, and another's (read-only). */
static int cfg_fd = -1;
static uint8_t cfg_orig[64], other_cfg[64];
static uint32_t bar_size[2];

static uint32_t
cfg_r32(int off)
{
	uint32_t v;

	if (pread(cfg_fd, &v, 4, off) != 4)
		die("config read at 0x%x: %m", off);
	return v;
}

static void
cfg_w32(int off, uint32_t v)
{
	if (pwrite(cfg_fd, &v, 4, off) != 4)
		die("config write at 0x%x: %m", off);
}

static void
cfg_w16(int off, uint16_t v)
{
	if (pwrite(cfg_fd, &v, 2, off) != 2)
		die("config write at 0x%x: %m", off);
}

static void
mem_on(int on)
{
	cfg_w16(0x04, on ? 0x06 : 0x04);
}

/* BAR 0 and 1 at a and b, memory decoding on. */
static void
bars_at(uint32_t a, uint32_t b)
{
	cfg_w32(0x10, a);
	cfg_w32(0x14, b);
	mem_on(1);
}

/* The original BARs and COMMAND, then a valid request. */
static void
bars_check(const char *name)
{
	int i;

	mem_on(0);
	for (i = 0; i < 6; i++)
		cfg_w32(0x10 + 4 * i, le32(cfg_orig + 0x10 + 4 * i));
	cfg_w32(0x30, le32(cfg_orig + 0x30));
	mem_on(1);
	valid();
	round_(name, QSIZE, RING);
}

static void
toggle_decoding(void)
{
	int i;

	for (i = 0; i < 64; i++)
		mem_on(i & 1);
	mem_on(1);
}

/* Move BAR 0 over RAM and back while the queue is live. */
static void
move_and_back(void)
{
	cfg_w32(0x10, 0x01000000);
	cfg_w32(0x10, le32(cfg_orig + 0x10));
}

/* Notify through the old address after BAR 0 moved away, then return. */
static void
notify_moved(void)
{
	volatile uint16_t *n;

	/* the offset first: the old address reads as all ones once moved */
	n = (volatile uint16_t *)(notify_base + r16(CC_QNOTIFYOFF) *
	    notify_mult);
	cfg_w32(0x10, 0x01000000);
	*n = 0;
	cfg_w32(0x10, le32(cfg_orig + 0x10));
}

static void
bars_setup(const char *addr, const char *other)
{
	char path[256];
	int fd, i;

	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/config", other);
	if ((fd = open(path, O_RDONLY)) == -1 ||
	    pread(fd, other_cfg, sizeof other_cfg, 0) != sizeof other_cfg)
		die("%s: %m", path);
	close(fd);
	snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/config", addr);
	if ((cfg_fd = open(path, O_RDWR)) == -1 ||
	    pread(cfg_fd, cfg_orig, sizeof cfg_orig, 0) != sizeof cfg_orig)
		die("%s: %m", path);
	mem_on(0);
	for (i = 0; i < 2; i++) {
		cfg_w32(0x10 + 4 * i, 0xffffffff);
		bar_size[i] = ~(cfg_r32(0x10 + 4 * i) & ~0xfU) + 1;
		cfg_w32(0x10 + 4 * i, le32(cfg_orig + 0x10 + 4 * i));
	}
	mem_on(1);
	printf("vmtop-guest: virtq bars 0x%08x+0x%x 0x%08x+0x%x, other's "
	    "0x%08x 0x%08x\n", le32(cfg_orig + 0x10), bar_size[0],
	    le32(cfg_orig + 0x14), bar_size[1], le32(other_cfg + 0x10),
	    le32(other_cfg + 0x14));
}

/*
 * BAR garbage: all-ones sizing of every BAR and the ROM with decoding on,
 * BARs over another device's (which keeps running), over each other, RAM,
 * the IOAPIC and LAPIC, at 0, across 4 GiB, high halves and type bits,
 * COMMAND toggles; BAR moves and decoding off while the queue is live.
 */
static void
bars(void)
{
	uint64_t x = 0x2545f4914f6cdd1dULL;
	int i;

	for (i = 0; i < 6; i++)
		cfg_w32(0x10 + 4 * i, 0xffffffff);
	cfg_w32(0x30, 0xffffffff);
	mem_on(1);
	bars_check("bar-all-ones");
	/*
	 * BAR 0 loses an overlap with BAR 1, which then goes home: BAR 0 is
	 * decoded again with no write of its own (no bars_check)
	 */
	cfg_w32(0x10, 0x01000000);
	cfg_w32(0x14, le32(cfg_orig + 0x10));
	cfg_w32(0x10, le32(cfg_orig + 0x10));
	cfg_w32(0x14, le32(cfg_orig + 0x14));
	valid();
	round_("bar-lost-overlap", QSIZE, RING);
	bars_at(le32(other_cfg + 0x10), le32(other_cfg + 0x14));
	bars_check("bar-over-other");
	bars_at(le32(cfg_orig + 0x14), le32(cfg_orig + 0x10));
	bars_check("bar-swapped");
	bars_at(le32(cfg_orig + 0x10), le32(cfg_orig + 0x10));
	bars_check("bar-same-twice");
	bars_at(0x01000000, 0x01100000);
	bars_check("bar-over-ram");
	bars_at(0xfec00000, 0xfee00000);
	bars_check("bar-over-ioapic-lapic");
	bars_at(0, 0);
	bars_check("bar-at-zero");
	bars_at(0x100000000ULL - bar_size[0], 0x100000000ULL - bar_size[1]);
	bars_check("bar-top-of-4g");
	bars_at(0xfffff000, 0xfffff000);
	bars_check("bar-across-4g");
	cfg_w32(0x10, le32(cfg_orig + 0x10) | 0x0c);	/* 64-bit, prefetch */
	for (i = 2; i < 6; i++)
		cfg_w32(0x10 + 4 * i, i & 1 ? 0xffffffff : 0x1);
	cfg_w32(0x30, 0xfffff801);
	mem_on(1);
	bars_check("bar-high-halves");
	for (i = 0; i < 2000; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		if (i % 7 == 0)
			cfg_w32(0x10 + 4 * (x >> 62 & 1), (uint32_t)x);
		else
			cfg_w16(0x04, (uint16_t)x);
	}
	bars_check("command-toggles");
	before_notify = toggle_decoding;
	bars_check("live-decoding-toggles");
	before_notify = move_and_back;
	bars_check("live-bar-move");
	before_notify = notify_moved;
	bars_check("live-notify-after-move");
	before_notify = NULL;
	close(cfg_fd);
}

int
main(int argc, char **argv)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint8_t *b;
	int i, r;

	if (argc == 4 && strcmp(argv[1], "-b") == 0) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		ram_setup();
		dma_setup();
		pci_setup(argv[2]);
		bars_setup(argv[2], argv[3]);
		bars();
		reset();
		printf("vmtop-guest: virtq done %d rounds, %d served\n",
		    rounds, served);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "-q") == 0) {
		qsel = atoi(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: vmtop-virtq [-q QUEUE] PCI-ADDRESS\n"
		    "       vmtop-virtq -b PCI-ADDRESS OTHER-PCI-ADDRESS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	ram_setup();
	dma_setup();
	pci_setup(argv[1]);
	printf("vmtop-guest: virtq start ram_end 0x%llx\n",
	    (unsigned long long)ram_end);

	/* the rings themselves */
	round_("rings-far", QSIZE, FAR, FAR + 4096, FAR + 8192);
	round_("rings-across-ram-end", QSIZE, ram_end - 8, ram_end - 2,
	    ram_end - 4);
	round_("rings-misaligned", QSIZE, pa[P_DESC] + 1, pa[P_AVAIL] + 1,
	    pa[P_USED] + 2);
	one(pa[P_BUF], 64, W, 0);
	round_("qsize-3", 3, RING);
	one(pa[P_BUF], 64, W, 0);
	round_("qsize-huge", 32768, RING);

	/* descriptors */
	one(FAR, 64, W, 0);
	round_("desc-far", QSIZE, RING);
	one(ram_end - 16, 64, W, 0);
	round_("desc-across-ram-end", QSIZE, RING);
	one(pa[P_BUF], 0xffffffff, W, 0);
	round_("desc-huge-len", QSIZE, RING);
	one(pa[P_BUF], 0, W, 0);
	round_("desc-zero-len", QSIZE, RING);
	one(pa[P_BUF], 64, 0, 0);
	round_("desc-read-only", QSIZE, RING);
	one(pa[P_BUF], 64, W | N, 500);
	round_("desc-next-far", QSIZE, RING);
	*desc(P_DESC, 0) = (struct desc){ pa[P_BUF], 64, W | N, 1 };
	*desc(P_DESC, 1) = (struct desc){ pa[P_BUF] + 64, 64, W | N, 0 };
	avail(1, 0);
	round_("desc-loop", QSIZE, RING);
	for (i = 0; i < QSIZE; i++)
		*desc(P_DESC, i) = (struct desc){ pa[P_BUF], 0x80000000u,
		    W | (i < QSIZE - 1 ? N : 0), i + 1 };
	avail(1, 0);
	round_("desc-chain-len-overflow", QSIZE, RING);

	/* the avail ring */
	one(pa[P_BUF], 64, W, 0);
	avail(1, 0xffff);
	round_("avail-head-far", QSIZE, RING);
	one(pa[P_BUF], 64, W, 0);
	avail(0x8000, 0);
	round_("avail-idx-ahead", QSIZE, RING);

	/* indirect tables */
	one(pa[P_INDIRECT], 17, I, 0);
	*desc(P_INDIRECT, 0) = (struct desc){ pa[P_BUF], 64, W, 0 };
	round_("indirect-len-17", QSIZE, RING);
	one(FAR, 64, I, 0);
	round_("indirect-far", QSIZE, RING);
	one(pa[P_INDIRECT], 32, I, 0);
	*desc(P_INDIRECT, 0) = (struct desc){ pa[P_INDIRECT], 32, I, 0 };
	round_("indirect-nested", QSIZE, RING);
	one(pa[P_INDIRECT], 32, I, 0);
	*desc(P_INDIRECT, 0) = (struct desc){ pa[P_BUF], 64, W | N, 0 };
	round_("indirect-loop", QSIZE, RING);
	one(pa[P_INDIRECT], 0, I, 0);
	round_("indirect-empty", QSIZE, RING);

	/* random bytes for the descriptor table and the avail ring */
	for (r = 0; r < 8; r++) {
		for (b = page[P_DESC]; b < page[P_AVAIL] + 4096; b++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			*b = (uint8_t)x;
		}
		round_("random", QSIZE, RING);
	}

	/* and a valid request, which must complete */
	valid();
	round_("valid", QSIZE, RING);
	reset();
	printf("vmtop-guest: virtq done %d rounds, %d needed a reset\n",
	    rounds, needs_reset);
	return 0;
}

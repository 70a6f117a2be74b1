/*
 * The PCI bus, the virtio core and its devices against a fake guest: one
 * malloc'd region of RAM, buses with nothing else on them, an irq_ops
 * that records MSIs. The tests play the driver: they program the device
 * through config space and BAR 0, lay out rings by hand, post requests
 * and check what comes back; and they break every rule of the ring to see
 * the device ask for a reset without touching memory it must not.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>
#include <signal.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>

#include "disk_ops.h"
#include "framering.h"
#include "fwcfg.h"
#include "pci.h"
#include "virtio.h"
#include "vmm.h"

#define RAM_GPA		0x1000000ULL
#define RAM_SIZE	(4 << 20)
#define RING_GPA(i)	(RAM_GPA + (i) * 0x4000)	/* 64 rings */
#define BUF_GPA		(RAM_GPA + 0x100000)
#define MSI_ADDR	0xfee00000U
#define MSI_DATA(v)	(0x100 + (v))
#define DISK_SIZE	(1 << 20)

#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

/* The fake machine. */
static struct {
	struct vmm	 vmm;
	uint8_t		*ram;
	uint64_t	 bump;
	struct pci	*pci;
	int		 msi[PCI_MSIX_MAX_VECTORS];	/* per vector */
	int		 msi_bad;
	int		 line[24];
	int		 nrings;
} F;

/* What the test driver knows of a queue. */
struct tq {
	uint16_t	 size, next, avail_idx, used_seen;
	uint64_t	 desc, avail, used;
};

struct tdev {
	struct virtio_dev	*dev;
	struct virtio_pci	*vp;
	uint64_t		 bar0, bar1;
	int			 ring;		/* our first ring */
	struct tq		 q[VIRTIO_MAX_QUEUES];
};

struct buf {
	uint64_t	gpa;
	uint32_t	len;
	int		write;
};

static void
fake_msi(void *opaque, uint64_t addr, uint32_t data)
{
	(void)opaque;
	if (addr != MSI_ADDR || data < MSI_DATA(0) ||
	    data >= MSI_DATA(PCI_MSIX_MAX_VECTORS))
		__atomic_fetch_add(&F.msi_bad, 1, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_add(&F.msi[data - MSI_DATA(0)], 1,
		    __ATOMIC_SEQ_CST);
}

static void
fake_line(void *opaque, int gsi, int level)
{
	(void)opaque;
	if (gsi >= 0 && gsi < 24)
		F.line[gsi] = level;
}

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof F);
	F.ram = calloc(1, RAM_SIZE);
	assert_non_null(F.ram);
	assert_int_equal(memmap_add(&F.vmm.mem, RAM_GPA, RAM_SIZE, F.ram), 0);
	bus_init(&F.vmm.pio);
	bus_init(&F.vmm.mmio);
	pthread_mutex_init(&F.vmm.lock, NULL);
	pthread_cond_init(&F.vmm.cond, NULL);
	F.vmm.irq.msi = fake_msi;
	F.vmm.irq.line = fake_line;
	F.bump = BUF_GPA;
	F.pci = pci_create(&F.vmm);
	assert_non_null(F.pci);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pci_destroy(F.pci);
	free(F.ram);
	return 0;
}

static void *
gp(uint64_t gpa)
{
	return F.ram + (gpa - RAM_GPA);
}

static uint64_t
galloc(size_t n)
{
	uint64_t	gpa = F.bump;

	F.bump = (F.bump + n + 15) & ~15ULL;
	assert_true(F.bump <= RAM_GPA + RAM_SIZE);
	return gpa;
}

/* Port I/O and MMIO as a vCPU would do them. */
static uint64_t
mr(uint64_t addr, uint32_t len)
{
	uint64_t	v = 0;

	bus_dispatch(&F.vmm.mmio, addr, (uint8_t *)&v, len, 0);
	return v;
}

static void
mw(uint64_t addr, uint64_t v, uint32_t len)
{
	bus_dispatch(&F.vmm.mmio, addr, (uint8_t *)&v, len, 1);
}

static uint32_t
cfg_r(int slot, int reg, uint32_t len)
{
	uint32_t	a = 0x80000000U | slot << 11 | (reg & 0xfc), v = 0;

	bus_dispatch(&F.vmm.pio, 0xcf8, (uint8_t *)&a, 4, 1);
	bus_dispatch(&F.vmm.pio, 0xcfc + (reg & 3), (uint8_t *)&v, len, 0);
	return v;
}

static void
cfg_w(int slot, int reg, uint32_t v, uint32_t len)
{
	uint32_t	a = 0x80000000U | slot << 11 | (reg & 0xfc);

	bus_dispatch(&F.vmm.pio, 0xcf8, (uint8_t *)&a, 4, 1);
	bus_dispatch(&F.vmm.pio, 0xcfc + (reg & 3), (uint8_t *)&v, len, 1);
}

static uint8_t
status(struct tdev *t)
{
	return mr(t->bar0 + VIRTIO_PCI_COMMON_STATUS, 1);
}

/* What devices.c does with a new device: put it on the PCI bus. */
static struct virtio_dev *
on_pci(struct virtio_dev *dev)
{
	assert_non_null(dev);
	assert_int_equal(virtio_pci_create(F.pci, dev), 0);
	return dev;
}

static void
attach(struct tdev *t, struct virtio_dev *dev)
{
	assert_non_null(dev);
	memset(t, 0, sizeof *t);
	t->dev = dev;
	t->vp = dev->transport_data;
	t->bar0 = t->vp->pci.bars[0].mapped;
	t->bar1 = t->vp->pci.bars[1].mapped;
	t->ring = F.nrings;
	F.nrings += VIRTIO_MAX_QUEUES;
	assert_true(F.nrings <= 64);
	assert_true(t->bar0 >= PCI_MMIO_BASE);
	assert_true(t->bar1 >= PCI_MMIO_BASE);
}

/* Turn MSI-X on with vector v -> MSI_DATA(v), all unmasked. */
static void
msix_on(struct tdev *t)
{
	struct pci_dev	*p = &t->vp->pci;
	int		 v, ctl = p->msix.cap + PCI_MSIX_FLAGS;

	cfg_w(p->slot, ctl, cfg_r(p->slot, ctl, 2) | PCI_MSIX_ENABLE, 2);
	for (v = 0; v < p->msix.nvec; v++) {
		mw(t->bar1 + v * 16, MSI_ADDR, 4);
		mw(t->bar1 + v * 16 + 4, 0, 4);
		mw(t->bar1 + v * 16 + 8, MSI_DATA(v), 4);
		mw(t->bar1 + v * 16 + 12, 0, 4);
	}
}

/* Negotiate want (less what is not offered); 0 if FEATURES_OK stuck. */
static int
negotiate(struct tdev *t, uint64_t want)
{
	uint64_t	c = t->bar0, f;

	mw(c + VIRTIO_PCI_COMMON_STATUS, 0, 1);
	mw(c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	mw(c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER, 1);
	mw(c + VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = mr(c + VIRTIO_PCI_COMMON_DF, 4);
	mw(c + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	f |= mr(c + VIRTIO_PCI_COMMON_DF, 4) << 32;
	f &= want;
	mw(c + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	mw(c + VIRTIO_PCI_COMMON_GF, f & 0xffffffff, 4);
	mw(c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	mw(c + VIRTIO_PCI_COMMON_GF, f >> 32, 4);
	mw(c + VIRTIO_PCI_COMMON_STATUS, status(t) | S_FEATURES_OK, 1);
	return (status(t) & S_FEATURES_OK) != 0;
}

static void
queue_setup(struct tdev *t, int q, uint16_t size)
{
	struct tq	*tq = &t->q[q];
	uint64_t	 c = t->bar0;

	memset(tq, 0, sizeof *tq);
	tq->size = size;
	tq->desc = RING_GPA(t->ring + q);
	tq->avail = tq->desc + 0x1000;
	tq->used = tq->desc + 0x2000;
	memset(gp(tq->desc), 0, 0x4000);
	mw(c + VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	assert_true(mr(c + VIRTIO_PCI_COMMON_Q_SIZE, 2) >= size);
	assert_int_equal(mr(c + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	mw(c + VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	mw(c + VIRTIO_PCI_COMMON_Q_DESCLO, tq->desc, 4);
	mw(c + VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	mw(c + VIRTIO_PCI_COMMON_Q_AVAILLO, tq->avail, 4);
	mw(c + VIRTIO_PCI_COMMON_Q_AVAILHI, 0, 4);
	mw(c + VIRTIO_PCI_COMMON_Q_USEDLO, tq->used, 8);
	mw(c + VIRTIO_PCI_COMMON_Q_MSIX, q + 1, 2);
	assert_int_equal(mr(c + VIRTIO_PCI_COMMON_Q_MSIX, 2), q + 1);
	mw(c + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

/* The whole driver bring-up: MSI-X, features, queues, DRIVER_OK. */
static void
drv_init(struct tdev *t, struct virtio_dev *dev, uint64_t want, int nq,
    uint16_t size)
{
	int	q;

	attach(t, dev);
	msix_on(t);
	assert_true(negotiate(t, want | VIRTIO_F(VIRTIO_F_VERSION_1)));
	mw(t->bar0 + VIRTIO_PCI_COMMON_MSIX, 0, 2);
	assert_int_equal(mr(t->bar0 + VIRTIO_PCI_COMMON_MSIX, 2), 0);
	for (q = 0; q < nq; q++)
		queue_setup(t, q, size);
	mw(t->bar0 + VIRTIO_PCI_COMMON_STATUS, status(t) |
	    VIRTIO_CONFIG_S_DRIVER_OK, 1);
	assert_int_equal(status(t) & S_NEEDS_RESET, 0);
}

static struct vring_desc *
desc(struct tq *tq, int i)
{
	return (struct vring_desc *)gp(tq->desc) + i;
}

/* Make head available. */
static void
avail_push(struct tq *tq, uint16_t head)
{
	struct vring_avail	*a = gp(tq->avail);

	a->ring[tq->avail_idx % tq->size] = head;
	tq->avail_idx++;
	__atomic_store_n(&a->idx, tq->avail_idx, __ATOMIC_RELEASE);
}

static void
fill_descs(struct vring_desc *d, const struct buf *b, int n, int base)
{
	int	i;

	for (i = 0; i < n; i++) {
		d[i].addr = b[i].gpa;
		d[i].len = b[i].len;
		d[i].flags = (b[i].write ? VRING_DESC_F_WRITE : 0) |
		    (i < n - 1 ? VRING_DESC_F_NEXT : 0);
		d[i].next = base + i + 1;
	}
}

/* Post a chain of n buffers; returns the head. */
static uint16_t
post(struct tdev *t, int q, const struct buf *b, int n)
{
	struct tq	*tq = &t->q[q];
	uint16_t	 head;

	if (tq->next + n > tq->size)
		tq->next = 0;
	head = tq->next;
	fill_descs(desc(tq, head), b, n, head);
	tq->next += n;
	avail_push(tq, head);
	return head;
}

/* Post n buffers through one indirect table. */
static uint16_t
post_indirect(struct tdev *t, int q, const struct buf *b, int n)
{
	struct tq		*tq = &t->q[q];
	struct vring_desc	*d;
	uint64_t		 table = galloc(16 * n);
	uint16_t		 head;

	fill_descs(gp(table), b, n, 0);
	if (tq->next + 1 > tq->size)
		tq->next = 0;
	head = tq->next++;
	d = desc(tq, head);
	d->addr = table;
	d->len = 16 * n;
	d->flags = VRING_DESC_F_INDIRECT;
	avail_push(tq, head);
	return head;
}

/* The next used entry; 0 if there is none. */
static int
used_get(struct tdev *t, int q, uint32_t *id, uint32_t *len)
{
	struct tq		*tq = &t->q[q];
	struct vring_used	*u = gp(tq->used);

	*id = *len = 0;
	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == tq->used_seen)
		return 0;
	*id = u->ring[tq->used_seen % tq->size].id;
	*len = u->ring[tq->used_seen % tq->size].len;
	tq->used_seen++;
	return 1;
}

static void
run(struct tdev *t, int q)
{
	virtio_dev_process(t->dev, q);
}

/* What the device's I/O thread would poll; returns how many fds. */
static int
io_events(struct tdev *t, struct pollfd *pfd)
{
	int	n;

	pthread_mutex_lock(&t->dev->lock);
	n = t->dev->ops->io_events(t->dev, pfd);
	pthread_mutex_unlock(&t->dev->lock);
	assert_true(n >= 1 && n <= VIRTIO_IO_FDS);
	return n;
}

/* As if poll said sock for the device's fd, bell for its doorbell. */
static void
io_ready(struct tdev *t, short sock, short bell, int n)
{
	struct pollfd	pfd[2] = { { 0, 0, sock }, { 0, 0, bell } };

	pthread_mutex_lock(&t->dev->lock);
	t->dev->ops->io_ready(t->dev, pfd, n);
	pthread_mutex_unlock(&t->dev->lock);
}

/* A raw disk on a temp file of DISK_SIZE bytes, byte i = i % 251. */
static struct virtio_dev *
make_blk(int *fdp)
{
	char		 path[] = "/tmp/test_virtio.XXXXXX";
	uint8_t		*pat;
	struct disk	*d;
	int		 fd, i;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	pat = malloc(DISK_SIZE);
	for (i = 0; i < DISK_SIZE; i++)
		pat[i] = i % 251;
	assert_int_equal(pwrite(fd, pat, DISK_SIZE, 0), DISK_SIZE);
	free(pat);
	*fdp = dup(fd);
	d = raw_open(fd);
	assert_non_null(d);
	return on_pci(virtio_blk_create(&F.vmm, d, 0));
}


/* PCI: the host bridge and configuration mechanism #1. */
static void
test_pci_host_bridge(void **state)
{
	uint32_t	a = 0;

	(void)state;
	assert_int_equal(cfg_r(0, PCI_VENDOR_ID, 4), 0x00081b36);
	assert_int_equal(cfg_r(0, 0x0a, 2), 0x0600);
	assert_int_equal(cfg_r(0, PCI_HEADER_TYPE, 1), 0);
	/* Empty slots, other functions and other buses read all ones. */
	assert_int_equal(cfg_r(5, PCI_VENDOR_ID, 4), 0xffffffff);
	a = 0x80000000U | 1 << 8;			/* 00.1 */
	bus_dispatch(&F.vmm.pio, 0xcf8, (uint8_t *)&a, 4, 1);
	bus_dispatch(&F.vmm.pio, 0xcfc, (uint8_t *)&a, 4, 0);
	assert_int_equal(a, 0xffffffff);
	a = 0x80000000U | 1 << 16;			/* bus 1 */
	bus_dispatch(&F.vmm.pio, 0xcf8, (uint8_t *)&a, 4, 1);
	bus_dispatch(&F.vmm.pio, 0xcfc, (uint8_t *)&a, 4, 0);
	assert_int_equal(a, 0xffffffff);
	/* What Linux's pci_check_type1 does. */
	a = 1;
	bus_dispatch(&F.vmm.pio, 0xcfb, (uint8_t *)&a, 1, 1);
	a = 0x80000000U;
	bus_dispatch(&F.vmm.pio, 0xcf8, (uint8_t *)&a, 4, 1);
	a = 0;
	bus_dispatch(&F.vmm.pio, 0xcf8, (uint8_t *)&a, 4, 0);
	assert_int_equal(a, 0x80000000U);
	/* The enable bit off: no device answers. */
	a = 0;
	bus_dispatch(&F.vmm.pio, 0xcf8, (uint8_t *)&a, 4, 1);
	bus_dispatch(&F.vmm.pio, 0xcfc, (uint8_t *)&a, 4, 0);
	assert_int_equal(a, 0xffffffff);
	/* Read-only registers stay. */
	cfg_w(0, PCI_VENDOR_ID, 0x12345678, 4);
	assert_int_equal(cfg_r(0, PCI_VENDOR_ID, 4), 0x00081b36);
}

static void
test_pci_virtio_ids(void **state)
{
	struct virtio_dev	*rng, *blk;
	int			 fd;

	(void)state;
	rng = on_pci(virtio_rng_create(&F.vmm));
	blk = make_blk(&fd);
	assert_non_null(rng);
	assert_non_null(blk);
	assert_int_equal(cfg_r(1, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_r(1, PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_RNG);
	assert_int_equal(cfg_r(1, PCI_REVISION_ID, 1), 1);
	assert_int_equal(cfg_r(1, PCI_REVISION_ID, 4) >> 8, 0x00ff00);
	assert_int_equal(cfg_r(1, PCI_SUBSYS_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_r(2, PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_BLOCK);
	assert_int_equal(cfg_r(2, PCI_REVISION_ID, 4) >> 8, 0x018000);
	assert_int_equal(cfg_r(2, PCI_INTR_PIN, 1), 1);
	assert_int_equal(cfg_r(2, PCI_INTR_LINE, 1), PCI_INTX_GSI(2, 0));
	/* BARs are assigned, in the window, decoding on. */
	assert_true(cfg_r(1, PCI_BAR0, 4) >= PCI_MMIO_BASE);
	assert_true(cfg_r(1, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	assert_true(cfg_r(1, PCI_BAR0, 4) != cfg_r(2, PCI_BAR0, 4));
	virtio_dev_destroy(blk);
	virtio_dev_destroy(rng);
	assert_int_equal(cfg_r(1, PCI_VENDOR_ID, 4), 0xffffffff);
	close(fd);
}

static void
test_pci_bar_sizing(void **state)
{
	struct tdev	t;
	uint64_t	moved = PCI_MMIO_BASE + 0x100000;
	uint16_t	cmd;
	int		i;

	(void)state;
	attach(&t, on_pci(virtio_rng_create(&F.vmm)));
	assert_int_equal(cfg_r(1, PCI_BAR0, 4), t.bar0);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	/* Decoding off: the BAR is gone from the bus. */
	cmd = cfg_r(1, PCI_COMMAND, 2);
	cfg_w(1, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
	/* Sizing: all ones in, the size mask out. */
	cfg_w(1, PCI_BAR0, 0xffffffff, 4);
	assert_int_equal(cfg_r(1, PCI_BAR0, 4), 0xffffc000);
	cfg_w(1, PCI_BAR0 + 4, 0xffffffff, 4);
	assert_int_equal(cfg_r(1, PCI_BAR0 + 4, 4), 0xfffff000);
	for (i = 2; i < PCI_NUM_BARS; i++) {
		cfg_w(1, PCI_BAR0 + 4 * i, 0xffffffff, 4);
		assert_int_equal(cfg_r(1, PCI_BAR0 + 4 * i, 4), 0);
	}
	/* Moved and decoding on again: it answers at the new address. */
	cfg_w(1, PCI_BAR0, moved | 0x123, 4);
	cfg_w(1, PCI_BAR0 + 4, t.bar1, 4);
	assert_int_equal(cfg_r(1, PCI_BAR0, 4), moved);
	cfg_w(1, PCI_COMMAND, cmd, 2);
	assert_int_equal(mr(moved + VIRTIO_PCI_COMMON_NUMQ, 2), 1);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
	assert_int_equal(mr(t.bar1 + 12, 4), 1);	/* vector 0 masked */
	/* On top of another BAR: it stays off the bus, the other works. */
	cfg_w(1, PCI_BAR0, t.bar1, 4);
	assert_int_equal(mr(t.bar1 + 12, 4), 1);
	assert_int_equal(mr(moved + VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
	virtio_dev_destroy(t.dev);
}

static void
test_pci_cap_walk(void **state)
{
	struct tdev	t;
	uint32_t	ptr, id, type, seen = 0, ctl;
	int		n = 0;

	(void)state;
	attach(&t, on_pci(virtio_rng_create(&F.vmm)));
	assert_true(cfg_r(1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	for (ptr = cfg_r(1, PCI_CAP_PTR, 1); ptr != 0;
	    ptr = cfg_r(1, ptr + 1, 1)) {
		assert_true(ptr >= 0x40 && ptr < 0x100 && (ptr & 3) == 0);
		assert_true(++n < 16);
		id = cfg_r(1, ptr, 1);
		if (id == PCI_CAP_ID_MSIX) {
			ctl = cfg_r(1, ptr + PCI_MSIX_FLAGS, 2);
			assert_int_equal((ctl & 0x7ff) + 1, 2);
			assert_int_equal(cfg_r(1, ptr + 4, 4), 1);
			assert_int_equal(cfg_r(1, ptr + 8, 4), 2048 | 1);
			seen |= 1;
			continue;
		}
		assert_int_equal(id, PCI_CAP_ID_VNDR);
		type = cfg_r(1, ptr + VIRTIO_PCI_CAP_CFG_TYPE, 1);
		seen |= 1 << type;
		if (type == VIRTIO_PCI_CAP_PCI_CFG) {
			assert_int_equal(cfg_r(1, ptr + 2, 1), 20);
			continue;
		}
		assert_int_equal(cfg_r(1, ptr + VIRTIO_PCI_CAP_BAR, 1), 0);
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			assert_true(cfg_r(1, ptr + 12, 4) >= 0x38);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			assert_int_equal(cfg_r(1, ptr + 2, 1), 20);
			assert_int_equal(cfg_r(1, ptr + 8, 4),
			    VIRTIO_PCI_NOTIFY_OFF);
			assert_int_equal(cfg_r(1, ptr + 16, 4), 4);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			assert_int_equal(cfg_r(1, ptr + 8, 4),
			    VIRTIO_PCI_ISR_OFF);
			break;
		default:
			fail_msg("unexpected cap type %u", type);
		}
	}
	/* MSI-X, common, notify, ISR, PCI_CFG (rng has no config). */
	assert_int_equal(seen, 1 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 5);
	virtio_dev_destroy(t.dev);
}

/* The PCI_CFG capability reaches BAR 0 through config space. */
static void
test_pci_cfg_window(void **state)
{
	struct tdev	t;
	uint8_t		cap;

	(void)state;
	attach(&t, on_pci(virtio_rng_create(&F.vmm)));
	cap = t.vp->cfg_cap;
	cfg_w(1, cap + VIRTIO_PCI_CAP_BAR, 0, 1);
	cfg_w(1, cap + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_w(1, cap + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	assert_int_equal(cfg_r(1, cap + 16, 4) & 0xffff, 1);
	cfg_w(1, cap + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_STATUS, 4);
	cfg_w(1, cap + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	cfg_w(1, cap + 16, VIRTIO_CONFIG_S_ACKNOWLEDGE, 4);
	assert_int_equal(status(&t), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* A window outside the BAR does nothing. */
	cfg_w(1, cap + VIRTIO_PCI_CAP_OFFSET, 0x10000, 4);
	cfg_w(1, cap + 16, 0, 4);
	assert_int_equal(status(&t), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	virtio_dev_destroy(t.dev);
}

static int	 ioev_calls, ioev_assigned;
static uint64_t	 ioev_gpa;

static int
fake_ioeventfd(struct vmm *vmm, uint64_t gpa, uint32_t len, int fd, int assign)
{
	assert_ptr_equal(vmm, &F.vmm);
	assert_int_equal(len, 2);
	assert_true(fd >= 0);
	ioev_calls++;
	ioev_assigned += assign ? 1 : -1;
	ioev_gpa = gpa;
	return 0;
}

/* A vCPU backend with nothing but the ioeventfd op. */
static const struct vcpu_backend_ops fake_backend = {
	.name = "fake",
	.ioeventfd = fake_ioeventfd,
};

static void
test_pci_ioeventfd_hook(void **state)
{
	struct tdev	t;
	int		fd;

	(void)state;
	ioev_calls = ioev_assigned = 0;
	F.vmm.backend = &fake_backend;
	attach(&t, make_blk(&fd));
	assert_int_equal(ioev_assigned, 1);
	assert_int_equal(ioev_gpa, t.bar0 + VIRTIO_PCI_NOTIFY_OFF);
	cfg_w(1, PCI_COMMAND, 0, 2);
	assert_int_equal(ioev_assigned, 0);
	cfg_w(1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(ioev_assigned, 1);
	virtio_dev_destroy(t.dev);
	assert_int_equal(ioev_assigned, 0);
	assert_int_equal(ioev_calls, 4);
	F.vmm.backend = NULL;
	close(fd);
}

/* Port 0xcf9 bit 2 resets the machine. */
static void
test_pci_reset_port(void **state)
{
	uint8_t	v = 0x06;

	(void)state;
	bus_dispatch(&F.vmm.pio, 0xcf9, &v, 1, 1);
	assert_int_equal(F.vmm.exit, VMM_REBOOT);
}

/* Feature negotiation: FEATURES_OK only for offered bits with VERSION_1. */
static void
test_features(void **state)
{
	struct tdev	t;
	uint64_t	c;

	(void)state;
	attach(&t, on_pci(virtio_rng_create(&F.vmm)));
	c = t.bar0;
	assert_false(negotiate(&t, 0));		/* no VERSION_1 */
	mw(c + VIRTIO_PCI_COMMON_STATUS, 0, 1);
	mw(c + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	mw(c + VIRTIO_PCI_COMMON_GF, 1, 4);		/* not offered */
	mw(c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	mw(c + VIRTIO_PCI_COMMON_GF, 1, 4);
	mw(c + VIRTIO_PCI_COMMON_STATUS, S_FEATURES_OK, 1);
	assert_int_equal(status(&t) & S_FEATURES_OK, 0);
	assert_true(negotiate(&t, VIRTIO_F(VIRTIO_F_VERSION_1)));
	/* After FEATURES_OK the driver's features are fixed. */
	mw(c + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	mw(c + VIRTIO_PCI_COMMON_GF, 0xffffffff, 4);
	assert_int_equal(mr(c + VIRTIO_PCI_COMMON_GF, 4), 0);
	/* Reset clears everything. */
	mw(c + VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(status(&t), 0);
	mw(c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	assert_int_equal(mr(c + VIRTIO_PCI_COMMON_GF, 4), 0);
	/* No such queue: size 0; vectors beyond the table: NO_VECTOR. */
	mw(c + VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	assert_int_equal(mr(c + VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	mw(c + VIRTIO_PCI_COMMON_MSIX, 7, 2);
	assert_int_equal(mr(c + VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_NO_VECTOR);
	virtio_dev_destroy(t.dev);
}

static int
nonzero(const uint8_t *p, size_t n)
{
	while (n-- > 0)
		if (*p++ != 0)
			return 1;
	return 0;
}

static void
test_rng(void **state)
{
	struct tdev	t;
	struct buf	b[2];
	uint32_t	id, len;
	uint16_t	head;

	(void)state;
	drv_init(&t, on_pci(virtio_rng_create(&F.vmm)), 0, 1, 16);
	b[0] = (struct buf){ galloc(64), 64, 1 };
	head = post(&t, 0, b, 1);
	run(&t, 0);
	assert_true(used_get(&t, 0, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 64);
	assert_true(nonzero(gp(b[0].gpa), 64));
	assert_int_equal(F.msi[1], 1);
	/* Two buffers; then one the device may only read. */
	b[0] = (struct buf){ galloc(16), 16, 1 };
	b[1] = (struct buf){ galloc(4096), 4096, 1 };
	post(&t, 0, b, 2);
	run(&t, 0);
	assert_true(used_get(&t, 0, &id, &len));
	assert_int_equal(len, 4112);
	b[0].write = 0;
	post(&t, 0, b, 1);
	run(&t, 0);
	assert_true(used_get(&t, 0, &id, &len));
	assert_int_equal(len, 0);
	assert_int_equal(F.msi_bad, 0);
	virtio_dev_destroy(t.dev);
}

/* One blk request: header, data (dev_writes: IN), status byte. */
static uint8_t
blk_req(struct tdev *t, uint32_t type, uint64_t sector, uint64_t data,
    uint32_t len, int dev_writes, uint32_t *usedp)
{
	struct virtio_blk_outhdr	*h;
	struct buf			 b[3];
	uint64_t			 hg = galloc(16), sg = galloc(1);
	uint32_t			 id, used;
	uint16_t			 head;
	int				 n = 0;

	h = gp(hg);
	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	*(uint8_t *)gp(sg) = 0xee;
	b[n++] = (struct buf){ hg, 16, 0 };
	if (len != 0)
		b[n++] = (struct buf){ data, len, dev_writes };
	b[n++] = (struct buf){ sg, 1, 1 };
	head = post(t, 0, b, n);
	run(t, 0);
	assert_true(used_get(t, 0, &id, &used));
	assert_int_equal(id, head);
	if (usedp != NULL)
		*usedp = used;
	return *(uint8_t *)gp(sg);
}

static void
test_blk_rw(void **state)
{
	struct tdev	 t;
	uint8_t		 file[1024], *p, id[DISK_ID_BYTES];
	uint64_t	 data = galloc(1024);
	uint32_t	 used;
	int		 fd, i;

	(void)state;
	drv_init(&t, make_blk(&fd), VIRTIO_F(VIRTIO_BLK_F_FLUSH) |
	    VIRTIO_F(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_F(VIRTIO_BLK_F_BLK_SIZE),
	    1, 128);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_DEVICE_OFF, 8),
	    DISK_SIZE / 512);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_DEVICE_OFF + 12, 4), 254);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_DEVICE_OFF + 20, 4), 512);

	memset(gp(data), 0xab, 1024);
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_OUT, 3, data, 1024, 0,
	    &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(pread(fd, file, 1024, 3 * 512), 1024);
	for (i = 0; i < 1024; i++)
		assert_int_equal(file[i], 0xab);

	memset(gp(data), 0, 1024);
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_IN, 2, data, 1024, 1,
	    &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1025);
	p = gp(data);
	for (i = 0; i < 512; i++)
		assert_int_equal(p[i], (2 * 512 + i) % 251);
	for (i = 512; i < 1024; i++)
		assert_int_equal(p[i], 0xab);

	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, 0, &used),
	    VIRTIO_BLK_S_OK);
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_GET_ID, 0, data, 20, 1,
	    &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 21);
	memcpy(id, gp(data), sizeof id);
	assert_true(id[0] != 0);

	assert_int_equal(F.vmm.counters.disk_wr_reqs, 1);
	assert_int_equal(F.vmm.counters.disk_wr_bytes, 1024);
	assert_int_equal(F.vmm.counters.disk_rd_reqs, 1);
	assert_int_equal(F.vmm.counters.disk_rd_bytes, 1024);
	assert_true(F.msi[1] >= 1);
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	virtio_dev_destroy(t.dev);
	close(fd);
}

/* Requests the device cannot do fail alone; the device keeps going. */
static void
test_blk_bad_requests(void **state)
{
	struct virtio_blk_outhdr	*h;
	struct tdev			 t;
	struct buf			 b[3];
	uint64_t			 data = galloc(4096), hg, sg;
	uint64_t			 cap = DISK_SIZE / 512;
	uint32_t			 used, id;
	int				 fd;

	(void)state;
	drv_init(&t, make_blk(&fd), 0, 1, 64);
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_IN, cap, data, 512, 1,
	    NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_IN, cap - 1, data, 1024, 1,
	    NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_OUT, ~0ULL, data, 512, 0,
	    NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_OUT, ~0ULL / 512, data,
	    512, 0, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_IN, 0, data, 100, 1,
	    NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_req(&t, 99, 0, data, 512, 1, NULL),
	    VIRTIO_BLK_S_UNSUPP);
	/* An OUT without data writes nothing and succeeds. */
	assert_int_equal(blk_req(&t, VIRTIO_BLK_T_OUT, 0, 0, 0, 0, &used),
	    VIRTIO_BLK_S_OK);
	/* No status byte: completed empty. */
	hg = galloc(16);
	h = gp(hg);
	h->type = VIRTIO_BLK_T_IN;
	h->sector = 0;
	b[0] = (struct buf){ hg, 16, 0 };
	post(&t, 0, b, 1);
	run(&t, 0);
	assert_true(used_get(&t, 0, &id, &used));
	assert_int_equal(used, 0);
	/* A short header: completed empty. */
	sg = galloc(1);
	b[0] = (struct buf){ hg, 8, 0 };
	b[1] = (struct buf){ sg, 1, 1 };
	post(&t, 0, b, 2);
	run(&t, 0);
	assert_true(used_get(&t, 0, &id, &used));
	assert_int_equal(used, 0);
	/* The header split over two buffers is fine (any layout). */
	b[0] = (struct buf){ hg, 8, 0 };
	b[1] = (struct buf){ hg + 8, 8, 0 };
	b[2] = (struct buf){ sg, 1, 1 };
	post(&t, 0, b, 3);
	run(&t, 0);
	assert_true(used_get(&t, 0, &id, &used));
	assert_int_equal(used, 1);
	assert_int_equal(*(uint8_t *)gp(sg), VIRTIO_BLK_S_OK);
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	virtio_dev_destroy(t.dev);
	close(fd);
}

static uint8_t
blk_range(struct tdev *t, uint32_t type, uint64_t sector, uint32_t n,
    uint32_t flags, uint32_t len)
{
	struct virtio_blk_discard_write_zeroes	*r;
	uint64_t				 g = galloc(32);

	r = gp(g);
	r->sector = sector;
	r->num_sectors = n;
	r->flags = flags;
	return blk_req(t, type, 0, g, len, 0, NULL);
}

static void
test_blk_discard_zeroes(void **state)
{
	struct tdev	t;
	uint8_t		file[4096];
	int		fd, i;

	(void)state;
	drv_init(&t, make_blk(&fd), VIRTIO_F(VIRTIO_BLK_F_DISCARD) |
	    VIRTIO_F(VIRTIO_BLK_F_WRITE_ZEROES), 1, 64);
	assert_int_equal(blk_range(&t, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8,
	    VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, 16), VIRTIO_BLK_S_OK);
	assert_int_equal(blk_range(&t, VIRTIO_BLK_T_WRITE_ZEROES, 20, 1, 0,
	    16), VIRTIO_BLK_S_OK);
	assert_int_equal(pread(fd, file, 4096, 8 * 512), 4096);
	for (i = 0; i < 4096; i++)
		assert_int_equal(file[i], 0);
	assert_int_equal(pread(fd, file, 512, 20 * 512), 512);
	for (i = 0; i < 512; i++)
		assert_int_equal(file[i], 0);
	assert_int_equal(pread(fd, file, 1, 21 * 512), 1);
	assert_int_equal(file[0], (21 * 512) % 251);
	assert_int_equal(blk_range(&t, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 16),
	    VIRTIO_BLK_S_OK);
	assert_int_equal(blk_range(&t, VIRTIO_BLK_T_DISCARD, 0, 8,
	    VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, 16), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk_range(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2,
	    16), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(blk_range(&t, VIRTIO_BLK_T_DISCARD,
	    DISK_SIZE / 512 - 1, 2, 0, 16), VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_range(&t, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 12),
	    VIRTIO_BLK_S_IOERR);
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	virtio_dev_destroy(t.dev);
	close(fd);
}

static void
test_blk_indirect(void **state)
{
	struct virtio_blk_outhdr	*h;
	struct tdev			 t;
	struct buf			 b[4];
	uint64_t			 hg = galloc(16), sg = galloc(1);
	uint32_t			 id, used;
	uint8_t				*p;
	uint16_t			 head;
	int				 fd, i;

	(void)state;
	drv_init(&t, make_blk(&fd), VIRTIO_F(VIRTIO_RING_F_INDIRECT_DESC),
	    1, 64);
	h = gp(hg);
	h->type = VIRTIO_BLK_T_IN;
	h->sector = 1;
	b[0] = (struct buf){ hg, 16, 0 };
	b[1] = (struct buf){ galloc(100), 100, 1 };
	b[2] = (struct buf){ galloc(412), 412, 1 };
	b[3] = (struct buf){ sg, 1, 1 };
	head = post_indirect(&t, 0, b, 4);
	run(&t, 0);
	assert_true(used_get(&t, 0, &id, &used));
	assert_int_equal(id, head);
	assert_int_equal(used, 513);
	assert_int_equal(*(uint8_t *)gp(sg), VIRTIO_BLK_S_OK);
	p = gp(b[1].gpa);
	for (i = 0; i < 100; i++)
		assert_int_equal(p[i], (512 + i) % 251);
	p = gp(b[2].gpa);
	for (i = 0; i < 412; i++)
		assert_int_equal(p[i], (612 + i) % 251);
	virtio_dev_destroy(t.dev);
	close(fd);
}

/* Post one 8-byte rng buffer and run the queue. */
static void
rng_one(struct tdev *t)
{
	struct buf	b = { galloc(8), 8, 1 };

	post(t, 0, &b, 1);
	run(t, 0);
}

static void
test_event_idx(void **state)
{
	struct tdev		 t;
	struct vring_avail	*a;
	uint16_t		*avail_event;
	int			 i;

	(void)state;
	drv_init(&t, on_pci(virtio_rng_create(&F.vmm)),
	    VIRTIO_F(VIRTIO_RING_F_EVENT_IDX), 1, 16);
	a = gp(t.q[0].avail);
	avail_event = gp(t.q[0].used + 4 + 8 * 16);
	rng_one(&t);
	assert_int_equal(F.msi[1], 1);
	/* The device asks to hear of the next entry. */
	assert_int_equal(*avail_event, 1);
	/* Interrupt me once used idx passes 5. */
	a->ring[16] = 5;
	for (i = 2; i <= 6; i++) {
		rng_one(&t);
		assert_int_equal(F.msi[1], i < 6 ? 1 : 2);
	}
	assert_int_equal(*avail_event, 6);
	virtio_dev_destroy(t.dev);
}

static void
test_no_interrupt_flag(void **state)
{
	struct tdev		 t;
	struct vring_avail	*a;

	(void)state;
	drv_init(&t, on_pci(virtio_rng_create(&F.vmm)), 0, 1, 16);
	a = gp(t.q[0].avail);
	a->flags = VRING_AVAIL_F_NO_INTERRUPT;
	rng_one(&t);
	assert_int_equal(F.msi[1], 0);
	a->flags = 0;
	rng_one(&t);
	assert_int_equal(F.msi[1], 1);
	virtio_dev_destroy(t.dev);
}

/* A masked vector is left pending and sent when unmasked. */
static void
test_msix_mask(void **state)
{
	struct tdev	t;
	int		ctl;

	(void)state;
	drv_init(&t, on_pci(virtio_rng_create(&F.vmm)), 0, 1, 16);
	mw(t.bar1 + 16 + 12, 1, 4);
	rng_one(&t);
	assert_int_equal(F.msi[1], 0);
	assert_int_equal(mr(t.bar1 + 2048, 8), 2);
	mw(t.bar1 + 16 + 12, 0, 4);
	assert_int_equal(F.msi[1], 1);
	assert_int_equal(mr(t.bar1 + 2048, 8), 0);
	/* The function mask. */
	ctl = t.vp->pci.msix.cap + PCI_MSIX_FLAGS;
	cfg_w(1, ctl, PCI_MSIX_ENABLE | PCI_MSIX_MASKALL, 2);
	rng_one(&t);
	assert_int_equal(F.msi[1], 1);
	cfg_w(1, ctl, PCI_MSIX_ENABLE, 2);
	assert_int_equal(F.msi[1], 2);
	/* PBA writes are ignored; out of table reads are 0. */
	mw(t.bar1 + 2048, ~0ULL, 8);
	assert_int_equal(mr(t.bar1 + 2048, 8), 0);
	assert_int_equal(mr(t.bar1 + 1024, 4), 0);
	virtio_dev_destroy(t.dev);
}

/* Without MSI-X: the ISR and INTA#, shared by level. */
static void
test_intx(void **state)
{
	struct tdev	t;
	int		gsi = PCI_INTX_GSI(1, 0);

	(void)state;
	attach(&t, on_pci(virtio_rng_create(&F.vmm)));
	assert_true(negotiate(&t, VIRTIO_F(VIRTIO_F_VERSION_1)));
	queue_setup(&t, 0, 16);
	mw(t.bar0 + VIRTIO_PCI_COMMON_STATUS, status(&t) |
	    VIRTIO_CONFIG_S_DRIVER_OK, 1);
	rng_one(&t);
	assert_int_equal(F.line[gsi], 1);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_ISR_OFF, 1), 1);
	assert_int_equal(F.line[gsi], 0);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_ISR_OFF, 1), 0);
	assert_int_equal(F.msi[1], 0);
	virtio_dev_destroy(t.dev);
}

/*
 * Broken rings. Each case breaks one rule on a live rng queue of 16;
 * the device must set NEEDS_RESET, send the config interrupt, complete
 * nothing, ignore later kicks, and work again after a reset.
 */
#define BAD_SIZE	16

static void
bad_buf(struct tdev *t, uint64_t gpa, uint32_t len)
{
	struct buf	b = { gpa, len, 1 };

	post(t, 0, &b, 1);
}

static void
bad_outside(struct tdev *t)
{
	bad_buf(t, RAM_GPA + RAM_SIZE, 16);
}

static void
bad_span(struct tdev *t)
{
	bad_buf(t, RAM_GPA + RAM_SIZE - 8, 16);
}

static void
bad_below(struct tdev *t)
{
	bad_buf(t, 0x1000, 16);
}

static void
bad_huge_len(struct tdev *t)
{
	bad_buf(t, RAM_GPA, 0xffffffff);
}

static void
bad_wrap(struct tdev *t)
{
	bad_buf(t, ~0ULL - 4, 16);
}

/* A chain of two whose second descriptor links to next. */
static void
bad_chain(struct tdev *t, uint16_t next)
{
	struct vring_desc	*d = desc(&t->q[0], 0);

	d[0] = (struct vring_desc){ BUF_GPA, 8,
	    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ BUF_GPA + 8, 8,
	    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, next };
	avail_push(&t->q[0], 0);
}

static void
bad_loop(struct tdev *t)
{
	bad_chain(t, 0);
}

static void
bad_self_loop(struct tdev *t)
{
	bad_chain(t, 1);
}

static void
bad_next_range(struct tdev *t)
{
	bad_chain(t, BAD_SIZE);
}

static void
bad_head(struct tdev *t)
{
	avail_push(&t->q[0], BAD_SIZE);
}

static void
bad_avail_jump(struct tdev *t)
{
	struct vring_avail	*a = gp(t->q[0].avail);

	a->idx = BAD_SIZE + 1;
}

static void
bad_order(struct tdev *t)
{
	struct buf	b[2] = {
		{ BUF_GPA, 8, 1 },
		{ BUF_GPA + 8, 8, 0 },
	};

	post(t, 0, b, 2);
}

/* An indirect descriptor at head 0 with these fields. */
static void
bad_indirect(struct tdev *t, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct vring_desc	*d = desc(&t->q[0], 0);

	d[0] = (struct vring_desc){ addr, len,
	    VRING_DESC_F_INDIRECT | flags, 1 };
	d[1] = (struct vring_desc){ BUF_GPA, 8, VRING_DESC_F_WRITE, 0 };
	avail_push(&t->q[0], 0);
}

/* A table of n at BUF_GPA + 0x1000: entry i links to next[i]. */
static uint64_t
bad_table(int n, const uint16_t *next, uint16_t flags0)
{
	struct vring_desc	*d;
	uint64_t		 g = BUF_GPA + 0x1000;
	int			 i;

	d = gp(g);
	for (i = 0; i < n; i++)
		d[i] = (struct vring_desc){ BUF_GPA, 8, VRING_DESC_F_WRITE |
		    (next[i] != 0xffff ? VRING_DESC_F_NEXT : 0), next[i] };
	d[0].flags |= flags0;
	return g;
}

static void
bad_indirect_feature(struct tdev *t)
{
	struct buf	b = { BUF_GPA, 8, 1 };

	post_indirect(t, 0, &b, 1);
}

static void
bad_indirect_next(struct tdev *t)
{
	uint16_t	next[1] = { 0xffff };

	bad_indirect(t, bad_table(1, next, 0), 16, VRING_DESC_F_NEXT);
}

static void
bad_indirect_nested(struct tdev *t)
{
	uint16_t		 next[2] = { 0xffff, 0xffff };
	uint64_t		 g = bad_table(2, next, 0);
	struct vring_desc	*d = gp(g);

	d[0] = (struct vring_desc){ g + 16, 16, VRING_DESC_F_INDIRECT, 0 };
	bad_indirect(t, g, 32, 0);
}

static void
bad_indirect_len0(struct tdev *t)
{
	bad_indirect(t, BUF_GPA, 0, 0);
}

static void
bad_indirect_len24(struct tdev *t)
{
	bad_indirect(t, BUF_GPA, 24, 0);
}

static void
bad_indirect_big(struct tdev *t)
{
	bad_indirect(t, BUF_GPA, (VIRTQ_MAX_INDIRECT + 1) * 16, 0);
}

static void
bad_indirect_outside(struct tdev *t)
{
	bad_indirect(t, RAM_GPA + RAM_SIZE - 16, 32, 0);
}

static void
bad_indirect_next_range(struct tdev *t)
{
	uint16_t	next[2] = { 5, 0xffff };

	bad_indirect(t, bad_table(2, next, 0), 32, 0);
}

static void
bad_indirect_loop(struct tdev *t)
{
	uint16_t	next[2] = { 1, 0 };

	bad_indirect(t, bad_table(2, next, 0), 32, 0);
}

/* 15 direct buffers, then an indirect table of 1024: too many. */
static void
bad_too_many(struct tdev *t)
{
	struct vring_desc	*d = desc(&t->q[0], 0);
	uint16_t		 next[VIRTQ_MAX_INDIRECT];
	int			 i;

	for (i = 0; i < VIRTQ_MAX_INDIRECT; i++)
		next[i] = i + 1 < VIRTQ_MAX_INDIRECT ? i + 1 : 0xffff;
	for (i = 0; i < BAD_SIZE - 1; i++)
		d[i] = (struct vring_desc){ BUF_GPA, 8,
		    VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, i + 1 };
	d[i] = (struct vring_desc){
	    bad_table(VIRTQ_MAX_INDIRECT, next, 0), 16 * VIRTQ_MAX_INDIRECT,
	    VRING_DESC_F_INDIRECT, 0 };
	avail_push(&t->q[0], 0);
}

static void
check_bad(void (*make)(struct tdev *), uint64_t features)
{
	struct tdev	t;
	uint32_t	id, len;

	drv_init(&t, on_pci(virtio_rng_create(&F.vmm)), features, 1,
	    BAD_SIZE);
	make(&t);
	run(&t, 0);
	assert_true(status(&t) & S_NEEDS_RESET);
	assert_int_equal(F.msi[0], 1);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_ISR_OFF, 1),
	    VIRTIO_PCI_ISR_CONFIG);
	assert_false(used_get(&t, 0, &id, &len));
	/* Still broken: a good request is not looked at. */
	t.q[0].avail_idx = ((struct vring_avail *)gp(t.q[0].avail))->idx;
	rng_one(&t);
	assert_false(used_get(&t, 0, &id, &len));
	/* Writing the status cannot clear NEEDS_RESET; a reset does. */
	mw(t.bar0 + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	assert_true(status(&t) & S_NEEDS_RESET);
	drv_init(&t, t.dev, features, 1, BAD_SIZE);
	rng_one(&t);
	assert_true(used_get(&t, 0, &id, &len));
	assert_int_equal(len, 8);
	assert_int_equal(F.msi_bad, 0);
	virtio_dev_destroy(t.dev);
}

#define INDIRECT	VIRTIO_F(VIRTIO_RING_F_INDIRECT_DESC)
#define BAD_CASE(name, features)					\
static void								\
test_bad_##name(void **state)						\
{									\
	(void)state;							\
	check_bad(bad_##name, features);				\
}
BAD_CASE(outside, 0)
BAD_CASE(span, 0)
BAD_CASE(below, 0)
BAD_CASE(huge_len, 0)
BAD_CASE(wrap, 0)
BAD_CASE(loop, 0)
BAD_CASE(self_loop, 0)
BAD_CASE(next_range, 0)
BAD_CASE(head, 0)
BAD_CASE(avail_jump, 0)
BAD_CASE(order, 0)
BAD_CASE(indirect_feature, 0)
BAD_CASE(indirect_next, INDIRECT)
BAD_CASE(indirect_nested, INDIRECT)
BAD_CASE(indirect_len0, INDIRECT)
BAD_CASE(indirect_len24, INDIRECT)
BAD_CASE(indirect_big, INDIRECT)
BAD_CASE(indirect_outside, INDIRECT)
BAD_CASE(indirect_next_range, INDIRECT)
BAD_CASE(indirect_loop, INDIRECT)
BAD_CASE(too_many, INDIRECT)

/* Rings that are misplaced fail the device when the queue is enabled. */
static void
check_bad_ring(uint64_t dgpa, uint64_t agpa, uint16_t size)
{
	struct tdev	t;
	uint64_t	c;

	attach(&t, on_pci(virtio_rng_create(&F.vmm)));
	c = t.bar0;
	assert_true(negotiate(&t, VIRTIO_F(VIRTIO_F_VERSION_1)));
	mw(c + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	mw(c + VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	mw(c + VIRTIO_PCI_COMMON_Q_DESCLO, dgpa & 0xffffffff, 4);
	mw(c + VIRTIO_PCI_COMMON_Q_DESCHI, dgpa >> 32, 4);
	mw(c + VIRTIO_PCI_COMMON_Q_AVAILLO, agpa, 8);
	mw(c + VIRTIO_PCI_COMMON_Q_USEDLO, RING_GPA(0) + 0x2000, 8);
	mw(c + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(mr(c + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_true(status(&t) & S_NEEDS_RESET);
	virtio_dev_destroy(t.dev);
}

static void
test_bad_rings(void **state)
{
	uint64_t	a = RING_GPA(0) + 0x1000;

	(void)state;
	check_bad_ring(RAM_GPA + RAM_SIZE - 16 * 16 + 16, a, 16);
	check_bad_ring(0x100000000000ULL, a, 16);
	check_bad_ring(RING_GPA(0) + 8, a, 16);
	check_bad_ring(RING_GPA(0), a + 1, 16);
	check_bad_ring(RING_GPA(0), RAM_GPA + RAM_SIZE - 4, 16);
}

/* virtio-net over one end of a SOCK_SEQPACKET socketpair. */
static const uint8_t	mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct virtio_dev *
make_net(int *peer, int locked)
{
	int	sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	*peer = sv[1];
	return on_pci(virtio_net_create(&F.vmm, sv[0], mac, locked, 0, 0));
}

/* An Ethernet frame of len bytes from src. */
static void
frame(uint8_t *f, size_t len, const uint8_t *src)
{
	size_t	i;

	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	for (i = 14; i < len; i++)
		f[i] = i & 0xff;
}

/* The guest transmits a frame of len from src; returns its guest copy. */
static const uint8_t *
tx_one(struct tdev *t, const uint8_t *src, size_t len)
{
	struct buf	b[2];
	uint32_t	id, used;

	b[0] = (struct buf){ galloc(12), 12, 0 };
	b[1] = (struct buf){ galloc(len), len, 0 };
	memset(gp(b[0].gpa), 0, 12);
	frame(gp(b[1].gpa), len, src);
	post(t, 1, b, 2);
	run(t, 1);
	assert_true(used_get(t, 1, &id, &used));
	assert_int_equal(used, 0);
	return gp(b[1].gpa);
}

/* Transmit a frame; returns what the peer got (0 for nothing). */
static ssize_t
net_send(struct tdev *t, int peer, const uint8_t *src, size_t len)
{
	const uint8_t	*sent;
	uint8_t		 got[2048];
	ssize_t		 n;

	sent = tx_one(t, src, len);
	if (peer == -1)
		return 0;
	n = recv(peer, got, sizeof got, MSG_DONTWAIT);
	if (n == -1) {
		assert_int_equal(errno, EAGAIN);
		return 0;
	}
	assert_int_equal(n, len);
	assert_memory_equal(got, sent, len);
	return n;
}

static void
test_net_tx(void **state)
{
	struct tdev	t;
	uint8_t		other[6] = { 2, 0, 0, 0, 0, 1 };
	int		peer;

	(void)state;
	drv_init(&t, make_net(&peer, 0), VIRTIO_F(VIRTIO_NET_F_MAC) |
	    VIRTIO_F(VIRTIO_NET_F_STATUS), 2, 64);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_DEVICE_OFF, 4), 0x12005452);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_DEVICE_OFF + 4, 2), 0x5634);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_DEVICE_OFF + 6, 2),
	    VIRTIO_NET_S_LINK_UP);
	assert_int_equal(net_send(&t, peer, mac, 60), 60);
	assert_int_equal(net_send(&t, peer, other, 1514), 1514);
	assert_int_equal(F.vmm.counters.net_tx_packets, 2);
	assert_int_equal(F.vmm.counters.net_tx_bytes, 1574);
	assert_int_equal(net_send(&t, peer, mac, 10), 0);	/* runt */
	assert_true(F.msi[2] >= 1);
	virtio_dev_destroy(t.dev);
	close(peer);
}

static void
test_net_locked(void **state)
{
	struct tdev	t;
	uint8_t		other[6] = { 2, 0, 0, 0, 0, 1 };
	int		peer;

	(void)state;
	drv_init(&t, make_net(&peer, 1), VIRTIO_F(VIRTIO_NET_F_MAC), 2, 64);
	assert_int_equal(net_send(&t, peer, other, 60), 0);
	assert_int_equal(net_send(&t, peer, mac, 60), 60);
	assert_int_equal(F.vmm.counters.net_tx_packets, 1);
	virtio_dev_destroy(t.dev);
	close(peer);
}

/* A full socket holds transmits back until it drains (POLLOUT). */
static void
test_net_tx_blocked(void **state)
{
	struct tdev	 t;
	struct buf	 b[2];
	uint8_t		 got[2048];
	uint32_t	 id, used;
	int		 sv[2], i, sent = 0, done = 0, rounds = 0, small = 1;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof small), 0);
	drv_init(&t, on_pci(virtio_net_create(&F.vmm, sv[0], mac, 0, 0, 0)),
	    0, 2, 64);
	for (i = 0; i < 20; i++) {
		b[0] = (struct buf){ galloc(12), 12, 0 };
		b[1] = (struct buf){ galloc(1000), 1000, 0 };
		frame(gp(b[1].gpa), 1000, mac);
		((uint8_t *)gp(b[1].gpa))[20] = i;
		post(&t, 1, b, 2);
	}
	run(&t, 1);
	while (done < 20) {
		assert_true(++rounds < 100);
		while (used_get(&t, 1, &id, &used))
			done++;
		while (recv(sv[1], got, sizeof got, MSG_DONTWAIT) == 1000) {
			assert_int_equal(got[20], sent);
			sent++;
		}
		io_ready(&t, POLLOUT, 0, 1);
	}
	while (recv(sv[1], got, sizeof got, MSG_DONTWAIT) == 1000)
		sent++;
	assert_int_equal(sent, 20);
	assert_true(rounds > 1);	/* it did block */
	virtio_dev_destroy(t.dev);
	close(sv[1]);
}

static void
test_net_rx(void **state)
{
	struct tdev	 t;
	struct buf	 b;
	uint8_t		 f[100], *p;
	uint32_t	 id, used;
	uint16_t	 head;
	int		 peer;

	(void)state;
	drv_init(&t, make_net(&peer, 0), VIRTIO_F(VIRTIO_NET_F_MAC), 2, 64);
	frame(f, sizeof f, mac);
	assert_int_equal(send(peer, f, sizeof f, 0), sizeof f);
	/* No buffers yet: the frame waits. */
	run(&t, 0);
	assert_false(used_get(&t, 0, &id, &used));
	b = (struct buf){ galloc(1526), 1526, 1 };
	head = post(&t, 0, &b, 1);
	run(&t, 0);
	assert_true(used_get(&t, 0, &id, &used));
	assert_int_equal(id, head);
	assert_int_equal(used, 12 + sizeof f);
	p = gp(b.gpa);
	assert_false(nonzero(p, 10));
	assert_int_equal(p[10] | p[11] << 8, 1);
	assert_memory_equal(p + 12, f, sizeof f);
	assert_int_equal(F.vmm.counters.net_rx_packets, 1);
	assert_int_equal(F.vmm.counters.net_rx_bytes, sizeof f);
	assert_int_equal(F.msi[1], 1);
	/* The peer goes away: no crash, transmit drops quietly. */
	close(peer);
	b = (struct buf){ galloc(1526), 1526, 1 };
	post(&t, 0, &b, 1);
	run(&t, 0);
	assert_false(used_get(&t, 0, &id, &used));
	assert_int_equal(net_send(&t, -1, mac, 60), 0);
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	virtio_dev_destroy(t.dev);
}

static void
test_net_rx_merge(void **state)
{
	struct tdev	 t;
	struct buf	 b;
	uint8_t		 f[3000], got[3012], *p;
	uint32_t	 id, used, off = 0;
	int		 peer, i;

	(void)state;
	drv_init(&t, make_net(&peer, 0), VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF),
	    2, 64);
	for (i = 0; i < 4; i++) {
		b = (struct buf){ galloc(1024), 1024, 1 };
		post(&t, 0, &b, 1);
	}
	frame(f, sizeof f, mac);
	assert_int_equal(send(peer, f, sizeof f, 0), sizeof f);
	run(&t, 0);
	for (i = 0; i < 3; i++) {
		assert_true(used_get(&t, 0, &id, &used));
		p = gp(((struct vring_desc *)gp(t.q[0].desc))[id].addr);
		assert_true(off + used <= sizeof got);
		memcpy(got + off, p, used);
		off += used;
	}
	assert_false(used_get(&t, 0, &id, &used));
	assert_int_equal(off, sizeof got);
	assert_int_equal(got[10] | got[11] << 8, 3);
	assert_memory_equal(got + 12, f, sizeof f);
	/* Too few buffers for the next one: it waits for more. */
	assert_int_equal(send(peer, f, sizeof f, 0), sizeof f);
	run(&t, 0);
	assert_false(used_get(&t, 0, &id, &used));
	for (i = 0; i < 2; i++) {
		b = (struct buf){ galloc(1024), 1024, 1 };
		post(&t, 0, &b, 1);
	}
	run(&t, 0);
	for (i = 0; i < 3; i++)
		assert_true(used_get(&t, 0, &id, &used));
	virtio_dev_destroy(t.dev);
	close(peer);
}

/* The MTU: offered (VIRTIO_NET_F_MTU) and in the config only when valid. */
static uint64_t
dev_features(struct tdev *t)
{
	uint64_t	f;

	mw(t->bar0 + VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	f = mr(t->bar0 + VIRTIO_PCI_COMMON_DF, 4);
	mw(t->bar0 + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	return f | mr(t->bar0 + VIRTIO_PCI_COMMON_DF, 4) << 32;
}

static void
check_mtu(uint32_t mtu, int offered)
{
	struct tdev	t;
	uint64_t	mtu_off = VIRTIO_PCI_DEVICE_OFF +
			    offsetof(struct virtio_net_config, mtu);
	int		sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	attach(&t, on_pci(virtio_net_create(&F.vmm, sv[0], mac, 0, mtu, 0)));
	assert_int_equal((dev_features(&t) >> VIRTIO_NET_F_MTU) & 1, offered);
	assert_int_equal(mr(t.bar0 + mtu_off, 2), offered ? mtu : 0);
	/* The MAC and status around it are intact. */
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_DEVICE_OFF, 4), 0x12005452);
	assert_int_equal(mr(t.bar0 + VIRTIO_PCI_DEVICE_OFF + 6, 2),
	    VIRTIO_NET_S_LINK_UP);
	/* The driver may take it. */
	assert_true(negotiate(&t, VIRTIO_F(VIRTIO_F_VERSION_1) |
	    VIRTIO_F(VIRTIO_NET_F_MTU)));
	mw(t.bar0 + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	assert_int_equal((mr(t.bar0 + VIRTIO_PCI_COMMON_GF, 4) >>
	    VIRTIO_NET_F_MTU) & 1, offered);
	virtio_dev_destroy(t.dev);
	close(sv[1]);
}

static void
test_net_mtu(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct virtio_net_config, mtu), 10);
	check_mtu(65520, 1);
	check_mtu(1500, 1);
	check_mtu(68, 1);
	check_mtu(0, 0);
	check_mtu(67, 0);
	check_mtu(65536, 0);
}

/*
 * Frame rings: the test plays vmtop-slirp on the socketpair's other end,
 * offers a ring pair, and moves frames through it.
 */
static int
offer_fds(int peer, const void *msg, size_t len, const int *fds, int nfd)
{
	union {
		struct cmsghdr	h;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	}		 cm;
	struct iovec	 iov = { (void *)msg, len };
	struct msghdr	 m;
	struct cmsghdr	*c;

	memset(&m, 0, sizeof m);
	memset(&cm, 0, sizeof cm);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (nfd > 0) {
		m.msg_control = cm.buf;
		m.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
	}
	return sendmsg(peer, &m, MSG_NOSIGNAL) == (ssize_t)len;
}

/* The next datagram on the helper's end; -1 when there is none. */
static ssize_t
peer_recv(int peer, uint8_t *buf, size_t len)
{
	ssize_t	n = recv(peer, buf, len, MSG_DONTWAIT);

	if (n == -1)
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	return n;
}

/* No frame came out on the socket (doorbells may); returns doorbells. */
static int
peer_no_frames(int peer)
{
	uint8_t	buf[70000];
	ssize_t	n;
	int	bells = 0;

	while ((n = peer_recv(peer, buf, sizeof buf)) != -1) {
		assert_true(n > 0);
		assert_true(n < 14);
		bells++;
	}
	return bells;
}

/* Open fds in this process. */
static int
nfds(void)
{
	DIR	*d = opendir("/proc/self/fd");
	int	 n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/*
 * A NIC with a ring pair accepted; hp is the helper's mapping. With
 * bells (FRAMERING_BELL_*), they go with the offer: the runner's copies.
 */
static void
ring_up_bells(struct tdev *t, int *peer, struct framering_pair *hp,
    uint64_t want, const int *bells)
{
	uint8_t	got[64];
	int	fds[FRAMERING_OFFER_FDS];

	drv_init(t, make_net(peer, 0), want, 2, 64);
	assert_true((fds[0] = framering_create()) >= 0);
	assert_int_equal(framering_map(fds[0], FRAMERING_HELPER, hp), 0);
	if (bells != NULL)
		memcpy(fds + 1, bells, 2 * sizeof *bells);
	assert_true(offer_fds(*peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, fds,
	    bells != NULL ? FRAMERING_OFFER_FDS : 1));
	close(fds[0]);
	assert_int_equal(peer_recv(*peer, got, sizeof got), -1);
	run(t, 0);	/* the RX path reads the socket */
	assert_int_equal(peer_recv(*peer, got, sizeof got),
	    FRAMERING_CTL_SIZE);
	assert_memory_equal(got, FRAMERING_MAGIC, FRAMERING_CTL_SIZE);
	assert_int_equal(peer_recv(*peer, got, sizeof got), -1);
}

static void
ring_up(struct tdev *t, int *peer, struct framering_pair *hp, uint64_t want)
{
	ring_up_bells(t, peer, hp, want, NULL);
}

/* The helper queues a frame toward the guest (gathered from two pieces). */
static void
ring_push(struct framering *r, const uint8_t *f, size_t len)
{
	struct iovec	iov[2] = {
		{ (void *)f, len / 3 }, { (void *)(f + len / 3), len - len / 3 }
	};

	assert_int_equal(framering_push(r, iov, 2, len), 1);
}

/* Collect the used RX buffers into got; returns the bytes, *nb buffers. */
static size_t
rx_collect(struct tdev *t, uint8_t *got, size_t max, int *nb)
{
	uint32_t	id, used;
	size_t		off = 0;

	*nb = 0;
	while (used_get(t, 0, &id, &used)) {
		assert_true(off + used <= max);
		memcpy(got + off, gp(desc(&t->q[0], id)->addr), used);
		off += used;
		(*nb)++;
	}
	return off;
}

/* The guest's receive buffer held hdr + f: a zero header, num_buffers. */
static void
check_rx(const uint8_t *got, size_t n, const uint8_t *f, size_t len, int nb)
{
	assert_int_equal(n, 12 + len);
	assert_false(nonzero(got, 10));
	assert_int_equal(got[10] | got[11] << 8, nb);
	assert_memory_equal(got + 12, f, len);
}

static void
test_net_ring(void **state)
{
	struct framering_pair	 hp;
	struct tdev		 t;
	struct buf		 b;
	static uint8_t		 f[9000], got[9100];
	uint8_t			 other[6] = { 2, 0, 0, 0, 0, 1 };
	const uint8_t		*sent, *p;
	size_t			 n, len;
	uint32_t		 id, used;
	struct pollfd		 pfd[VIRTIO_IO_FDS];
	int			 peer, nb, i;

	(void)state;
	ring_up(&t, &peer, &hp, VIRTIO_F(VIRTIO_NET_F_MAC) |
	    VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF));

	/* 60 bytes: no buffer yet, so it waits in the ring. */
	frame(f, 60, other);
	ring_push(&hp.tx, f, 60);
	run(&t, 0);
	assert_false(used_get(&t, 0, &id, &used));
	b = (struct buf){ galloc(1526), 1526, 1 };
	memset(gp(b.gpa), 0xaa, 1526);
	post(&t, 0, &b, 1);
	run(&t, 0);
	n = rx_collect(&t, got, sizeof got, &nb);
	assert_int_equal(nb, 1);
	check_rx(got, n, f, 60, 1);

	/* 9000 bytes over three merged buffers. */
	frame(f, sizeof f, other);
	f[100] = 0x5a;
	f[8999] = 0xa5;
	for (i = 0; i < 3; i++) {
		b = (struct buf){ galloc(4096), 4096, 1 };
		memset(gp(b.gpa), 0xaa, 4096);
		post(&t, 0, &b, 1);
	}
	ring_push(&hp.tx, f, sizeof f);
	run(&t, 0);
	n = rx_collect(&t, got, sizeof got, &nb);
	assert_int_equal(nb, 3);
	check_rx(got, n, f, sizeof f, 3);
	assert_int_equal(F.vmm.counters.net_rx_packets, 2);
	assert_int_equal(F.vmm.counters.net_rx_bytes, 9060);
	assert_int_equal(F.vmm.counters.nic_rx_packets[0], 2);
	assert_true(F.msi[1] >= 1);
	/* Nothing came through the socket, the ring was read to the end. */
	assert_int_equal(peer_no_frames(peer), 0);
	assert_null(framering_peek(&hp.rx, &len));

	/*
	 * The device sleeps on an empty ring only after asking for a
	 * doorbell; the helper's doorbell (a short datagram) wakes it.
	 */
	assert_int_equal(io_events(&t, pfd), 1);
	assert_true(pfd[0].events & POLLIN);
	frame(f, 1514, other);
	ring_push(&hp.tx, f, 1514);
	assert_true(framering_consumer_asleep(&hp.tx));
	b = (struct buf){ galloc(1526), 1526, 1 };
	post(&t, 0, &b, 1);
	assert_int_equal(send(peer, "", FRAMERING_DOORBELL, 0),
	    FRAMERING_DOORBELL);
	io_ready(&t, POLLIN, 0, 1);
	n = rx_collect(&t, got, sizeof got, &nb);
	assert_int_equal(nb, 1);
	check_rx(got, n, f, 1514, 1);
	/* The doorbell was not taken for a frame. */
	assert_false(used_get(&t, 0, &id, &used));

	/* Transmit: into the helper's rx ring, not onto the socket. */
	sent = tx_one(&t, mac, 1514);
	assert_non_null(p = framering_peek(&hp.rx, &len));
	assert_int_equal(len, 1514);
	assert_memory_equal(p, sent, 1514);
	framering_pop(&hp.rx);
	assert_int_equal(peer_no_frames(peer), 0);	/* awake: no bell */
	/* A sleeping helper is rung (a short datagram), jumbo frames too. */
	assert_int_equal(framering_want_frames(&hp.rx), 0);
	sent = tx_one(&t, mac, 9000);
	assert_int_equal(peer_no_frames(peer), 1);
	assert_non_null(p = framering_peek(&hp.rx, &len));
	assert_int_equal(len, 9000);
	assert_memory_equal(p, sent, 9000);
	framering_pop(&hp.rx);
	assert_null(framering_peek(&hp.rx, &len));
	assert_int_equal(F.vmm.counters.net_tx_packets, 2);
	assert_int_equal(F.vmm.counters.net_tx_bytes, 10514);
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	virtio_dev_destroy(t.dev);
	framering_unmap(&hp);
	close(peer);
}

/*
 * A hostile helper scribbles over the shared ring after the acceptance:
 * the NIC warns and stops receiving; it neither crashes nor delivers
 * anything, nor fails the device.
 */
#define RING_PAGE	4096
static void
ring_set64(struct framering_pair *hp, size_t off, uint64_t v)
{
	__atomic_store_n((uint64_t *)((uint8_t *)hp->map + off), v,
	    __ATOMIC_RELEASE);
}

static void
check_hostile(int how)
{
	struct framering_pair	 hp;
	struct tdev		 t;
	struct buf		 b;
	uint8_t			 f[100];
	uint32_t		 hdr, id, used;
	struct pollfd		 pfd[VIRTIO_IO_FDS];
	int			 peer;

	ring_up(&t, &peer, &hp, VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF));
	b = (struct buf){ galloc(1526), 1526, 1 };
	post(&t, 0, &b, 1);
	frame(f, sizeof f, mac);
	switch (how) {
	case 0:		/* ring 0's head unaligned */
		ring_set64(&hp, 0, 3);
		break;
	case 1:		/* more than the ring holds */
		ring_set64(&hp, 0, FRAMERING_DATA + 8);
		break;
	case 2:		/* a record longer than any frame */
		hdr = 0x7fffffff;
		memcpy(hp.tx.data, &hdr, sizeof hdr);
		ring_set64(&hp, 0, 16);
		break;
	case 3:		/* a record longer than what was published */
		hdr = 4096;
		memcpy(hp.tx.data, &hdr, sizeof hdr);
		ring_set64(&hp, 0, 16);
		break;
	case 4:		/* a pad record with nothing after it */
		hdr = 0xffffffffU;
		memcpy(hp.tx.data, &hdr, sizeof hdr);
		ring_set64(&hp, 0, 8);
		break;
	case 5:		/* ring 1's tail (the device's TX) nonsense */
		ring_set64(&hp, RING_PAGE + 64, 5);
		tx_one(&t, mac, 60);	/* dropped, but completed */
		assert_int_equal(F.vmm.counters.net_tx_packets, 0);
		assert_null(framering_peek(&hp.rx, &(size_t){ 0 }));
		break;
	}
	run(&t, 0);
	assert_false(used_get(&t, 0, &id, &used));
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	/* Repaired or not, it reads neither the ring nor the socket. */
	ring_set64(&hp, 0, 0);
	ring_set64(&hp, RING_PAGE + 64, 0);
	hp.tx.pos = 0;
	ring_push(&hp.tx, f, sizeof f);
	assert_int_equal(send(peer, f, sizeof f, 0), sizeof f);
	run(&t, 0);
	io_events(&t, pfd);
	io_ready(&t, POLLIN, 0, 1);
	assert_false(pfd[0].events & POLLIN);
	assert_false(used_get(&t, 0, &id, &used));
	assert_int_equal(F.vmm.counters.net_rx_packets, 0);
	/* Transmit still completes (the guest is not stuck). */
	tx_one(&t, mac, 60);
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	virtio_dev_destroy(t.dev);
	framering_unmap(&hp);
	close(peer);
}

static void
test_net_ring_hostile(void **state)
{
	int	how;

	(void)state;
	for (how = 0; how <= 5; how++) {
		F.vmm.counters.net_tx_packets = 0;
		check_hostile(how);
	}
}

/*
 * Offers that are not a ring are refused: no acceptance, the received fd
 * closed, and frames keep coming over the socket.
 */
static void
check_refused(struct tdev *t, int peer, const void *msg, size_t len,
    const int *fds, int nfd)
{
	struct buf	 b;
	uint8_t		 f[100], got[200];
	uint32_t	 id, used;
	int		 n0 = nfds(), nb;
	size_t		 n;

	assert_true(offer_fds(peer, msg, len, fds, nfd));
	run(t, 0);
	assert_int_equal(nfds(), n0);		/* nothing kept open */
	assert_int_equal(peer_recv(peer, got, sizeof got), -1);
	frame(f, sizeof f, mac);
	f[50] = nfd;
	assert_int_equal(send(peer, f, sizeof f, 0), sizeof f);
	b = (struct buf){ galloc(1526), 1526, 1 };
	post(t, 0, &b, 1);
	run(t, 0);
	n = rx_collect(t, got, sizeof got, &nb);
	assert_int_equal(nb, 1);
	check_rx(got, n, f, sizeof f, 1);
	assert_false(used_get(t, 0, &id, &used));
}

static void
test_net_ring_refused(void **state)
{
	struct framering_pair	 hp;
	struct tdev		 t;
	uint8_t			 got[64];
	int			 peer, pfd[2], fd;

	(void)state;
	drv_init(&t, make_net(&peer, 0), VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF), 2,
	    64);
	/* A pipe. */
	assert_int_equal(pipe(pfd), 0);
	check_refused(&t, peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, pfd, 1);
	close(pfd[0]);
	close(pfd[1]);
	/* A memfd of the right size without seals: it could shrink. */
	assert_true((fd = memfd_create("t", MFD_ALLOW_SEALING)) >= 0);
	assert_int_equal(ftruncate(fd, 2 * RING_PAGE + 2 * FRAMERING_DATA),
	    0);
	check_refused(&t, peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, &fd, 1);
	close(fd);
	/* Sealed but too small. */
	assert_true((fd = memfd_create("t", MFD_ALLOW_SEALING)) >= 0);
	assert_int_equal(ftruncate(fd, 2 * RING_PAGE), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL), 0);
	check_refused(&t, peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, &fd, 1);
	close(fd);
	/* A good ring, but not offered with the magic. */
	assert_true((fd = framering_create()) >= 0);
	check_refused(&t, peer, "vmtop-framering2", FRAMERING_CTL_SIZE, &fd,
	    1);
	/* After all that, a good offer is still taken... */
	assert_int_equal(framering_map(fd, FRAMERING_HELPER, &hp), 0);
	assert_true(offer_fds(peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, &fd,
	    1));
	run(&t, 0);
	assert_int_equal(peer_recv(peer, got, sizeof got), FRAMERING_CTL_SIZE);
	assert_memory_equal(got, FRAMERING_MAGIC, FRAMERING_CTL_SIZE);
	/* ...and a second one refused. */
	check_refused(&t, peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, &fd, 1);
	close(fd);
	virtio_dev_destroy(t.dev);
	framering_unmap(&hp);
	close(peer);
}

/*
 * An offer carrying two fds is refused: both are closed (a helper must not
 * run the runner out of fds) and the 16-byte offer never reaches the
 * guest as a frame.
 */
static void
test_net_ring_offer_two_fds(void **state)
{
	struct tdev	t;
	int		peer, fd, two[2];

	(void)state;
	drv_init(&t, make_net(&peer, 0), VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF), 2,
	    64);
	assert_true((fd = framering_create()) >= 0);
	two[0] = two[1] = fd;
	check_refused(&t, peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, two, 2);
	close(fd);
	virtio_dev_destroy(t.dev);
	close(peer);
}

/*
 * Offers with other fd counts are refused too: every fd closed. So is
 * one of three whose first fd is not a ring.
 */
static void
test_net_ring_offer_fd_counts(void **state)
{
	struct tdev	t;
	int		peer, fd, four[4], bells[2];

	(void)state;
	drv_init(&t, make_net(&peer, 0), VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF), 2,
	    64);
	assert_true((fd = framering_create()) >= 0);
	assert_int_equal(framering_bells_create(bells), 0);
	four[0] = fd;
	four[1] = bells[0];
	four[2] = bells[1];
	four[3] = bells[0];
	check_refused(&t, peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, four, 4);
	four[0] = bells[1];
	check_refused(&t, peer, FRAMERING_MAGIC, FRAMERING_CTL_SIZE, four, 3);
	close(fd);
	close(bells[0]);
	close(bells[1]);
	virtio_dev_destroy(t.dev);
	close(peer);
}

/* Has the eventfd been rung since it was last read? */
static int
bell_rung(int fd)
{
	uint64_t	v = 0;

	return read(fd, &v, sizeof v) == sizeof v && v > 0;
}

/*
 * Doorbells through the offer's eventfds: the I/O thread polls the
 * helper's bell beside the socket and takes its rings; the runner rings
 * the helper's bell, and nothing goes on the socket.
 */
static void
test_net_ring_bells(void **state)
{
	struct framering_pair	 hp;
	struct tdev		 t;
	struct buf		 b[2];
	struct pollfd		 pfd[VIRTIO_IO_FDS];
	static uint8_t		 f[1514], got[1600];
	uint8_t			 other[6] = { 2, 0, 0, 0, 0, 1 };
	const uint8_t		*p;
	uint32_t		 id, used;
	size_t			 n, len;
	int			 peer, bells[2], nb;

	(void)state;
	assert_int_equal(framering_bells_create(bells), 0);
	ring_up_bells(&t, &peer, &hp, VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF),
	    bells);
	/* The runner sleeps on its bell, beside the socket. */
	assert_int_equal(io_events(&t, pfd), 2);
	assert_true(pfd[0].events & POLLIN);
	assert_true(pfd[1].events & POLLIN);
	assert_int_equal(poll(pfd, 2, 0), 0);

	/* The helper queues a frame and rings: the bell, not the socket. */
	frame(f, sizeof f, other);
	ring_push(&hp.tx, f, sizeof f);
	assert_true(framering_consumer_asleep(&hp.tx));
	framering_bell_ring(bells[FRAMERING_BELL_RUNNER]);
	assert_int_equal(poll(pfd, 2, 0), 1);
	assert_int_equal(pfd[0].revents, 0);
	assert_true(pfd[1].revents & POLLIN);
	b[0] = (struct buf){ galloc(1526), 1526, 1 };
	post(&t, 0, b, 1);
	pthread_mutex_lock(&t.dev->lock);
	t.dev->ops->io_ready(t.dev, pfd, 2);
	pthread_mutex_unlock(&t.dev->lock);
	n = rx_collect(&t, got, sizeof got, &nb);
	assert_int_equal(nb, 1);
	check_rx(got, n, f, sizeof f, 1);
	/* The ring was taken: poll would sleep again. */
	assert_int_equal(io_events(&t, pfd), 2);
	assert_int_equal(poll(pfd, 2, 0), 0);

	/* The guest transmits to a sleeping helper: its bell rings. */
	assert_false(bell_rung(bells[FRAMERING_BELL_HELPER]));
	assert_int_equal(framering_want_frames(&hp.rx), 0);
	b[0] = (struct buf){ galloc(12), 12, 0 };
	b[1] = (struct buf){ galloc(100), 100, 0 };
	memset(gp(b[0].gpa), 0, 12);
	frame(gp(b[1].gpa), 100, mac);
	post(&t, 1, b, 2);
	run(&t, 1);
	assert_true(used_get(&t, 1, &id, &used));
	assert_true(bell_rung(bells[FRAMERING_BELL_HELPER]));
	assert_non_null(p = framering_peek(&hp.rx, &len));
	assert_int_equal(len, 100);
	assert_memory_equal(p, gp(b[1].gpa), 100);
	assert_int_equal(peer_no_frames(peer), 0);
	virtio_dev_destroy(t.dev);
	framering_unmap(&hp);
	close(bells[0]);
	close(bells[1]);
	close(peer);
}

/* The guest transmits 9000-byte frames until the ring is full. */
static int
tx_fill(struct tdev *t)
{
	struct buf	b[2];
	uint32_t	id, used;
	int		i;

	b[0] = (struct buf){ galloc(12), 12, 0 };
	b[1] = (struct buf){ galloc(9000), 9000, 0 };
	memset(gp(b[0].gpa), 0, 12);
	frame(gp(b[1].gpa), 9000, mac);
	for (i = 0; i < 500; i++) {
		post(t, 1, b, 2);
		run(t, 1);
		if (!used_get(t, 1, &id, &used))
			return i;
	}
	fail_msg("the ring never filled");
	return -1;
}

/*
 * A device that will never read its fd again must not ask poll for it:
 * the I/O thread would spin. Play the thread for a few rounds; by then
 * the device must want nothing that is already there.
 */
static int
io_settles(struct tdev *t)
{
	struct pollfd	pfd[VIRTIO_IO_FDS];
	int		i, j, n;

	for (i = 0; i < 10; i++) {
		n = io_events(t, pfd);
		for (j = 0; j < n; j++)
			if (pfd[j].events == 0)
				pfd[j].fd = -1;
		if (poll(pfd, n, 0) == 0)
			return 1;
		pthread_mutex_lock(&t->dev->lock);
		t->dev->ops->io_ready(t->dev, pfd, n);
		pthread_mutex_unlock(&t->dev->lock);
	}
	return 0;
}

/*
 * The bells are the helper's choice of fd: pipes whose other ends it
 * closes hang up. The runner must stop receiving, not spin on them.
 */
static void
test_net_ring_bells_hang_up(void **state)
{
	struct framering_pair	 hp;
	struct tdev		 t;
	int			 peer, in[2], out[2], bells[2];

	(void)state;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	bells[FRAMERING_BELL_RUNNER] = in[0];
	bells[FRAMERING_BELL_HELPER] = out[1];
	ring_up_bells(&t, &peer, &hp, 0, bells);
	close(in[0]);
	close(out[1]);
	close(in[1]);
	assert_true(io_settles(&t));
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	close(out[0]);
	virtio_dev_destroy(t.dev);
	framering_unmap(&hp);
	close(peer);
}

/*
 * TX blocked on a full ring 1 must stop waiting for the helper's doorbell
 * once receiving has stopped (rx_eof: the helper hung up, or broke ring
 * 0): else a hang-up (POLLHUP) or a datagram nobody reads any more would
 * wake the I/O thread at once, for ever.
 */
static void
check_tx_blocked_stop(int how)
{
	struct framering_pair	 hp;
	struct tdev		 t;
	int			 peer;

	ring_up(&t, &peer, &hp, 0);
	assert_int_equal(tx_fill(&t), FRAMERING_DATA / (8 + 9000));
	if (how == 0)		/* the helper is gone */
		close(peer);
	else {			/* it broke ring 0 and rang */
		ring_set64(&hp, 0, 3);
		run(&t, 0);
		assert_int_equal(send(peer, "", FRAMERING_DOORBELL, 0),
		    FRAMERING_DOORBELL);
	}
	assert_true(io_settles(&t));
	assert_int_equal(status(&t) & S_NEEDS_RESET, 0);
	virtio_dev_destroy(t.dev);
	framering_unmap(&hp);
	if (how != 0)
		close(peer);
}

static void
test_net_ring_tx_blocked_stop(void **state)
{
	(void)state;
	check_tx_blocked_stop(0);
	check_tx_blocked_stop(1);
}

/*
 * net_io_events takes frames from the ring while it has some; a guest that
 * breaks its RX queue (virtq_pop -1: the device needs a reset, vq->ready
 * stays set) must end that loop, or it would hang the NIC's I/O thread.
 *
 * The guest breaks its RX queue while the ring has a frame: the device
 * fails (NEEDS_RESET) and io_events returns; it must not spin. Run in a
 * child with an alarm so that a spinning device fails the test instead
 * of hanging it.
 */
static void
test_net_ring_bad_rxq(void **state)
{
	struct framering_pair	 hp;
	struct tdev		 t;
	uint8_t			 f[60];
	pid_t			 pid;
	struct pollfd		 pfd[VIRTIO_IO_FDS];
	int			 peer, st;

	(void)state;
	ring_up(&t, &peer, &hp, 0);
	frame(f, sizeof f, mac);
	ring_push(&hp.tx, f, sizeof f);
	/* avail idx far ahead of the queue size */
	((struct vring_avail *)gp(t.q[0].avail))->idx = 1000;
	if ((pid = fork()) == 0) {
		alarm(2);
		io_events(&t, pfd);
		_exit(status(&t) & S_NEEDS_RESET ? 0 : 2);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fail_msg("io_events spun on a broken RX queue (signal %d)",
		    WTERMSIG(st));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	virtio_dev_destroy(t.dev);
	framering_unmap(&hp);
	close(peer);
}

/* Wait up to 5 s for a used entry on queue q. */
static int
used_wait(struct tdev *t, int q, uint32_t *id, uint32_t *len)
{
	struct timespec	ts = { 0, 1000000 };
	int		i;

	for (i = 0; i < 5000; i++) {
		if (used_get(t, q, id, len))
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* The I/O threads: a notify write wakes them; RX comes through poll. */
static void
test_threads(void **state)
{
	struct timespec	 ms = { 0, 1000000 };
	struct tdev	 rng, net;
	struct buf	 b;
	uint8_t		 f[64];
	uint32_t	 id, len;
	int		 peer, i;

	(void)state;
	drv_init(&rng, on_pci(virtio_rng_create(&F.vmm)), 0, 1, 16);
	drv_init(&net, make_net(&peer, 0), 0, 2, 64);
	assert_int_equal(virtio_dev_start(rng.dev), 0);
	assert_int_equal(virtio_dev_start(net.dev), 0);
	b = (struct buf){ galloc(32), 32, 1 };
	post(&rng, 0, &b, 1);
	mw(rng.bar0 + VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	assert_true(used_wait(&rng, 0, &id, &len));
	assert_int_equal(len, 32);
	/* Garbage through the thread: the device fails, a reset revives it. */
	bad_outside(&rng);
	mw(rng.bar0 + VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	for (i = 0; i < 5000 && !(status(&rng) & S_NEEDS_RESET); i++)
		nanosleep(&ms, NULL);
	assert_true(status(&rng) & S_NEEDS_RESET);
	drv_init(&rng, rng.dev, 0, 1, 16);
	post(&rng, 0, &b, 1);
	mw(rng.bar0 + VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	assert_true(used_wait(&rng, 0, &id, &len));
	assert_int_equal(len, 32);

	b = (struct buf){ galloc(1526), 1526, 1 };
	post(&net, 0, &b, 1);
	mw(net.bar0 + VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	frame(f, sizeof f, mac);
	assert_int_equal(send(peer, f, sizeof f, 0), sizeof f);
	assert_true(used_wait(&net, 0, &id, &len));
	assert_int_equal(len, 12 + sizeof f);
	virtio_dev_stop(rng.dev);
	virtio_dev_stop(net.dev);
	virtio_dev_destroy(rng.dev);
	virtio_dev_destroy(net.dev);
	close(peer);
}

/* devices_create: the bridge, blk per disk, net per NIC, rng. */
static void
test_devices(void **state)
{
	struct vmm_fds	fds;
	char		path[] = "/tmp/test_virtio.XXXXXX";
	int		sv[2], i, fd;

	(void)state;
	pci_destroy(F.pci);
	F.pci = NULL;
	memset(&fds, 0xff, sizeof fds);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, DISK_SIZE), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	fds.disks[0] = fd;
	fds.nics[0] = sv[0];
	snprintf(F.vmm.params.name, sizeof F.vmm.params.name, "test");
	F.vmm.params.disk_format[0] = DISK_FORMAT_RAW;
	assert_int_equal(devices_create(&F.vmm, &fds), 0);
	assert_int_equal(fds.disks[0], -1);
	assert_int_equal(fds.nics[0], -1);
	assert_int_equal(cfg_r(0, 0x0a, 2), 0x0600);
	for (i = 1; i <= 3; i++)
		assert_int_equal(cfg_r(i, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_r(1, PCI_DEVICE_ID, 2), 0x1042);
	assert_int_equal(cfg_r(2, PCI_DEVICE_ID, 2), 0x1041);
	assert_int_equal(cfg_r(3, PCI_DEVICE_ID, 2), 0x1044);
	assert_int_equal(cfg_r(4, PCI_VENDOR_ID, 4), 0xffffffff);
	devices_destroy(&F.vmm);
	assert_int_equal(cfg_r(0, PCI_VENDOR_ID, 4), 0xffffffff);

	/* A broken qcow2 image is refused with a sentence naming the disk. */
	strcpy(path, "/tmp/test_virtio.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "QFI\xfb\0\0\0\3", 8), 8);
	memset(&fds, 0xff, sizeof fds);
	fds.disks[1] = fd;
	F.vmm.params.disk_format[1] = DISK_FORMAT_QCOW2;
	assert_int_equal(devices_create(&F.vmm, &fds), -1);
	assert_string_equal(F.vmm.error,
	    "vm test: disk 1: image: the qcow2 header is truncated");
	assert_int_equal(fds.disks[1], fd);
	close(fd);
	close(sv[1]);
}

/* The bootorder file devices_bootorder() gives fw_cfg, read back. */
static void
read_bootorder(char *buf, size_t len)
{
	struct fwcfg	*fw = fwcfg_create(NULL);
	uint16_t	 key;
	int64_t		 n, i;

	assert_non_null(fw);
	assert_int_equal(devices_bootorder(&F.vmm, fw), 0);
	key = fwcfg_file_key(fw, "bootorder");
	n = fwcfg_file_size(fw, "bootorder");
	assert_true(n > 0 && (size_t)n <= len);
	fwcfg_io(fw, 0, (uint8_t *)&key, 2, 1);
	for (i = 0; i < n; i++)
		fwcfg_io(fw, 1, (uint8_t *)buf + i, 1, 0);
	assert_int_equal(buf[n - 1], '\0');
	fwcfg_destroy(fw);
}

/* A temporary file of size bytes, unlinked. */
static int
temp_file(off_t size)
{
	char	path[] = "/tmp/test_virtio.XXXXXX";
	int	fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, size), 0);
	return fd;
}

/*
 * The cdrom is a virtio-scsi controller after every other device, and
 * the bootorder names the disks and its LUN as SeaBIOS matches them
 * (boot.c build_pci_path, build_scsi_path), in the asked order.
 */
static void
test_devices_cdrom(void **state)
{
	struct vmm_fds	fds;
	char		buf[256];

	(void)state;
	pci_destroy(F.pci);
	F.pci = NULL;
	memset(&fds, 0xff, sizeof fds);
	fds.disks[0] = temp_file(DISK_SIZE);
	fds.disks[1] = temp_file(DISK_SIZE);
	fds.cdrom = temp_file(3 * 2048);
	snprintf(F.vmm.params.name, sizeof F.vmm.params.name, "test");
	F.vmm.params.disk_format[0] = DISK_FORMAT_RAW;
	F.vmm.params.disk_format[1] = DISK_FORMAT_RAW;
	assert_int_equal(devices_create(&F.vmm, &fds), 0);
	assert_int_equal(fds.cdrom, -1);
	assert_int_equal(cfg_r(1, PCI_DEVICE_ID, 2), 0x1042);
	assert_int_equal(cfg_r(2, PCI_DEVICE_ID, 2), 0x1042);
	assert_int_equal(cfg_r(3, PCI_DEVICE_ID, 2), 0x1044);
	assert_int_equal(cfg_r(4, PCI_DEVICE_ID, 2), 0x1048);
	assert_int_equal(cfg_r(4, 0x0a, 2), 0x0100);	/* SCSI controller */
	read_bootorder(buf, sizeof buf);
	assert_string_equal(buf, "/pci@i0cf8/disk@1\n/pci@i0cf8/disk@2\n"
	    "/pci@i0cf8/scsi@4/channel@0/disk@0,0");
	F.vmm.params.flags |= RUNP_CDROM_FIRST;
	read_bootorder(buf, sizeof buf);
	assert_string_equal(buf, "/pci@i0cf8/scsi@4/channel@0/disk@0,0\n"
	    "/pci@i0cf8/disk@1\n/pci@i0cf8/disk@2");
	devices_destroy(&F.vmm);

	/* No cdrom: no controller, and the flag changes nothing. */
	memset(&fds, 0xff, sizeof fds);
	fds.disks[0] = temp_file(DISK_SIZE);
	assert_int_equal(devices_create(&F.vmm, &fds), 0);
	assert_int_equal(cfg_r(3, PCI_VENDOR_ID, 4), 0xffffffff);
	read_bootorder(buf, sizeof buf);
	assert_string_equal(buf, "/pci@i0cf8/disk@1");
	devices_destroy(&F.vmm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name)	cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_devices_cdrom),
		T(test_pci_host_bridge),
		T(test_pci_virtio_ids),
		T(test_pci_bar_sizing),
		T(test_pci_cap_walk),
		T(test_pci_cfg_window),
		T(test_pci_ioeventfd_hook),
		T(test_pci_reset_port),
		T(test_features),
		T(test_rng),
		T(test_blk_rw),
		T(test_blk_bad_requests),
		T(test_blk_discard_zeroes),
		T(test_blk_indirect),
		T(test_event_idx),
		T(test_no_interrupt_flag),
		T(test_msix_mask),
		T(test_intx),
		T(test_bad_outside),
		T(test_bad_span),
		T(test_bad_below),
		T(test_bad_huge_len),
		T(test_bad_wrap),
		T(test_bad_loop),
		T(test_bad_self_loop),
		T(test_bad_next_range),
		T(test_bad_head),
		T(test_bad_avail_jump),
		T(test_bad_order),
		T(test_bad_indirect_feature),
		T(test_bad_indirect_next),
		T(test_bad_indirect_nested),
		T(test_bad_indirect_len0),
		T(test_bad_indirect_len24),
		T(test_bad_indirect_big),
		T(test_bad_indirect_outside),
		T(test_bad_indirect_next_range),
		T(test_bad_indirect_loop),
		T(test_bad_too_many),
		T(test_bad_rings),
		T(test_net_tx),
		T(test_net_locked),
		T(test_net_tx_blocked),
		T(test_net_rx),
		T(test_net_rx_merge),
		T(test_net_mtu),
		T(test_net_ring),
		T(test_net_ring_hostile),
		T(test_net_ring_refused),
		T(test_net_ring_offer_two_fds),
		T(test_net_ring_offer_fd_counts),
		T(test_net_ring_bells),
		T(test_net_ring_bells_hang_up),
		T(test_net_ring_tx_blocked_stop),
		T(test_net_ring_bad_rxq),
		T(test_threads),
		T(test_devices),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

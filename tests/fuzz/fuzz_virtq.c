/*
 * libFuzzer target for the virtqueue core and the devices' request
 * parsing. The input picks a device (blk, net or rng), the features the
 * driver takes and the queue size, and then is guest RAM itself: the
 * descriptor table, the avail ring and every buffer come from it. The
 * device is brought up through the virtio-pci registers as a driver
 * would and its queues run synchronously. RAM is an exact-size malloc,
 * so the sanitizers catch any access outside it. One input in four is
 * instead a list of register accesses (BARs and config space) made
 * after the bring-up, before the queues run.
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>

#include "disk_ops.h"
#include "log.h"
#include "pci.h"
#include "virtio.h"
#include "vmm.h"

#define RAM_GPA		0x10000ULL
#define RAM_SIZE	0x10000
#define DESC_OFF	0x0000
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define HDR_SIZE	4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct vmm		 vmm;
static uint8_t			*ram;
static struct pci		*pci;
static struct virtio_dev	*devs[3];
static uint32_t			 bars[3][2];
static int			 peer = -1;

static void
fake_msi(void *opaque, uint64_t addr, uint32_t data)
{
	(void)opaque;
	(void)addr;
	(void)data;
}

static void
mw(uint64_t addr, uint64_t v, uint32_t len)
{
	bus_dispatch(&vmm.mmio, addr, (uint8_t *)&v, len, 1);
}

static uint64_t
mr(uint64_t addr, uint32_t len)
{
	uint64_t	v = 0;

	bus_dispatch(&vmm.mmio, addr, (uint8_t *)&v, len, 0);
	return v;
}

/* The machine and the three devices, once. */
static void
init(void)
{
	struct virtio_pci	*vp;
	struct disk		*d;
	int			 fd, sv[2];

	log_init("fuzz_virtq", 1, 0);
	ram = malloc(RAM_SIZE);
	if (ram == NULL || memmap_add(&vmm.mem, RAM_GPA, RAM_SIZE, ram) == -1)
		abort();
	bus_init(&vmm.pio);
	bus_init(&vmm.mmio);
	vmm.irq.msi = fake_msi;
	if ((pci = pci_create(&vmm)) == NULL)
		abort();
	if ((fd = memfd_create("fuzz-disk", 0)) == -1 ||
	    ftruncate(fd, 64 * 1024) == -1 || (d = raw_open(fd)) == NULL)
		abort();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		abort();
	peer = sv[1];
	devs[0] = virtio_blk_create(&vmm, d, 0);
	devs[1] = virtio_net_create(&vmm, sv[0],
	    (const uint8_t *)"\x52\x54\x00\x00\x00\x01", 1, 1500, 0);
	devs[2] = virtio_rng_create(&vmm);
	if (devs[0] == NULL || devs[1] == NULL || devs[2] == NULL)
		abort();
	for (fd = 0; fd < 3; fd++)
		if (virtio_pci_create(pci, devs[fd]) == -1)
			abort();
	for (fd = 0; fd < 3; fd++) {
		vp = devs[fd]->transport_data;
		bars[fd][0] = vp->pci.bars[0].mapped;
		bars[fd][1] = vp->pci.bars[1].mapped;
	}
}

static void
cfg(int slot, uint32_t reg, uint64_t v, uint32_t len, int is_write)
{
	uint32_t	a = 0x80000000U | slot << 11 | (reg & 0xfc);

	bus_dispatch(&vmm.pio, 0xcf8, (uint8_t *)&a, 4, 1);
	bus_dispatch(&vmm.pio, 0xcfc + (reg & 3), (uint8_t *)&v, len,
	    is_write);
}

/* Undo what register accesses did to the PCI side: BARs, MSI-X. */
static void
restore(void)
{
	struct virtio_pci	*vp;
	int			 i;

	for (i = 0; i < 3; i++) {
		vp = devs[i]->transport_data;
		cfg(vp->pci.slot, PCI_COMMAND, 0, 2, 1);
		cfg(vp->pci.slot, PCI_BAR0, bars[i][0], 4, 1);
		cfg(vp->pci.slot, PCI_BAR0 + 4, bars[i][1], 4, 1);
		cfg(vp->pci.slot, vp->pci.msix.cap + PCI_MSIX_FLAGS, 0, 2, 1);
		cfg(vp->pci.slot, PCI_COMMAND, PCI_COMMAND_MEMORY, 2, 1);
	}
}

/* Register accesses, 12 bytes each: where, width, offset, value. */
static void
registers(struct virtio_dev *dev, const uint8_t *p, size_t n)
{
	struct virtio_pci	*vp = dev->transport_data;
	uint64_t		 v, base;
	uint32_t		 len, off;

	for (; n >= 12; p += 12, n -= 12) {
		len = 1 << (p[1] % 4);
		off = p[2] | p[3] << 8;
		memcpy(&v, p + 4, 8);
		switch (p[0] % 3) {
		case 0:
		case 1:
			base = vp->pci.bars[p[0] % 3].mapped;
			if (base != 0)
				bus_dispatch(&vmm.mmio, base + off %
				    VIRTIO_PCI_BAR_SIZE, (uint8_t *)&v, len,
				    p[0] & 0x80);
			break;
		default:
			if (len > 4)
				len = 4;
			cfg(vp->pci.slot, off & 0xff, v, len, p[0] & 0x80);
			break;
		}
	}
}

/* Reset, negotiate, set queue q up on the fixed rings, DRIVER_OK. */
static int
bring_up(struct virtio_dev *dev, uint64_t features, uint16_t size, int nq)
{
	struct virtio_pci	*vp = dev->transport_data;
	uint64_t		 c = vp->pci.bars[0].mapped, base;
	int			 q;

	mw(c + VIRTIO_PCI_COMMON_STATUS, 0, 1);
	mw(c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER, 1);
	features &= dev->features;
	mw(c + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	mw(c + VIRTIO_PCI_COMMON_GF, features & 0xffffffff, 4);
	mw(c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	mw(c + VIRTIO_PCI_COMMON_GF, features >> 32, 4);
	mw(c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK, 1);
	for (q = 0; q < nq; q++) {
		/* Queues share the RAM image, a quarter page apart. */
		base = RAM_GPA + q * 0x400;
		mw(c + VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		mw(c + VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
		mw(c + VIRTIO_PCI_COMMON_Q_DESCLO, base + DESC_OFF, 8);
		mw(c + VIRTIO_PCI_COMMON_Q_AVAILLO, base + AVAIL_OFF, 8);
		mw(c + VIRTIO_PCI_COMMON_Q_USEDLO, base + USED_OFF, 8);
		mw(c + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	}
	mw(c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
	    VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
	    VIRTIO_CONFIG_S_DRIVER_OK, 1);
	return (mr(c + VIRTIO_PCI_COMMON_STATUS, 1) &
	    VIRTIO_CONFIG_S_DRIVER_OK) != 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t	 frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00 };
	struct virtio_dev	*dev;
	uint64_t		 features;
	uint16_t		 qsize;
	uint8_t			 buf[2048];
	int			 which, nq, q;

	if (ram == NULL)
		init();
	if (size < HDR_SIZE)
		return 0;
	which = data[0] % 3;
	qsize = 1 << (data[1] % 9);
	features = VIRTIO_F(VIRTIO_F_VERSION_1);
	if (data[2] & 1)
		features |= VIRTIO_F(VIRTIO_RING_F_EVENT_IDX);
	if (data[2] & 2)
		features |= VIRTIO_F(VIRTIO_RING_F_INDIRECT_DESC);
	if (data[2] & 4)
		features |= VIRTIO_F(VIRTIO_NET_F_MRG_RXBUF);
	dev = devs[which];
	nq = dev->nvqs;
	memset(ram, 0, RAM_SIZE);
	restore();
	if (!bring_up(dev, features, qsize, nq))
		return 0;
	size -= HDR_SIZE;
	if ((data[3] & 0xc0) == 0xc0)
		registers(dev, data + HDR_SIZE, size);
	else	/* the input is the guest's RAM: rings and buffers */
		memcpy(ram, data + HDR_SIZE, size < RAM_SIZE ? size : RAM_SIZE);
	if (which == 1) {
		while (recv(peer, buf, sizeof buf, MSG_DONTWAIT) > 0)
			;
		send(peer, frame, sizeof frame, MSG_DONTWAIT);
	}
	for (q = 0; q < nq; q++)
		if (!(data[3] & (1 << q)))
			virtio_dev_process(dev, q);
	for (q = nq - 1; q >= 0; q--)
		virtio_dev_process(dev, q);
	return 0;
}

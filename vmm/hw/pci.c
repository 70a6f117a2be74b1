/*
 * PCI bus 0: configuration mechanism #1 on ports 0xcf8-0xcff, a host
 * bridge at 00.0, memory BARs in the PCI MMIO window that follow what
 * the guest writes to them, capabilities and MSI-X. For a direct boot
 * the runner plays firmware: every BAR has an address and memory
 * decoding is on before the guest starts, so Linux keeps the assignment.
 * Under a BIOS (vmm->firmware) BARs and COMMAND start at 0 and the
 * firmware sizes and places them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pci.h"
#include "xmalloc.h"

/* A generic host bridge (Red Hat's id, as QEMU's gpex uses). */
#define PCI_HOST_VENDOR		0x1b36
#define PCI_HOST_DEVICE		0x0008
#define PCI_CLASS_HOST_BRIDGE	0x060000

#define PCI_ADDR_ENABLE		0x80000000U

static void	pci_port(void *, uint64_t, uint8_t *, uint32_t, int);
static void	pci_msix_bar(void *, uint64_t, uint8_t *, uint32_t, int);

static void
cfg_set16(struct pci_dev *dev, int off, uint16_t v)
{
	dev->cfg[off] = v & 0xff;
	dev->cfg[off + 1] = v >> 8;
}

static void
cfg_set32(struct pci_dev *dev, int off, uint32_t v)
{
	cfg_set16(dev, off, v & 0xffff);
	cfg_set16(dev, off + 2, v >> 16);
}

static void
wmask_set(struct pci_dev *dev, int off, uint64_t mask, int len)
{
	int	i;

	for (i = 0; i < len; i++)
		dev->wmask[off + i] = (mask >> (8 * i)) & 0xff;
}

void
pci_dev_init(struct pci_dev *dev, const char *name, uint16_t vendor,
    uint16_t device, uint32_t class, uint8_t revision)
{
	memset(dev, 0, sizeof *dev);
	dev->slot = -1;
	snprintf(dev->name, sizeof dev->name, "%s", name);
	cfg_set16(dev, PCI_VENDOR_ID, vendor);
	cfg_set16(dev, PCI_DEVICE_ID, device);
	cfg_set32(dev, PCI_REVISION_ID, class << 8 | revision);
	dev->cfg[PCI_HEADER_TYPE] = 0;
	wmask_set(dev, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
	    PCI_COMMAND_MASTER | PCI_COMMAND_INTX_OFF, 2);
	dev->wmask[PCI_INTR_LINE] = 0xff;
	dev->cap_next = PCI_CAP_START;
	pthread_mutex_init(&dev->msix.lock, NULL);
}

/* Whether a BIOS, not the runner, assigns BARs. */
static int
pci_firmware(const struct pci *pci)
{
	return pci->vmm != NULL && pci->vmm->firmware;
}

int
pci_add_bar(struct pci *pci, struct pci_dev *dev, int bar, uint64_t size,
    bus_fn fn, void *opaque)
{
	uint64_t	addr;

	if (bar < 0 || bar >= PCI_NUM_BARS || dev->bars[bar].size != 0 ||
	    size < 4096 || (size & (size - 1)) != 0) {
		errno = EINVAL;
		return -1;
	}
	addr = (pci->mmio_next + size - 1) & ~(size - 1);
	if (addr + size > PCI_MMIO_BASE + PCI_MMIO_SIZE ||
	    addr + size > 0x100000000ULL) {
		errno = ENOSPC;
		return -1;
	}
	pci->mmio_next = addr + size;
	dev->bars[bar].size = size;
	dev->bars[bar].fn = fn;
	dev->bars[bar].opaque = opaque;
	if (!pci_firmware(pci))
		cfg_set32(dev, PCI_BAR0 + 4 * bar, (uint32_t)addr);
	wmask_set(dev, PCI_BAR0 + 4 * bar, ~(size - 1) & 0xfffffff0U, 4);
	return 0;
}

int
pci_add_cap(struct pci_dev *dev, const void *cap, uint8_t len)
{
	int	off = dev->cap_next;

	if (len < 2 || off + len > PCI_CFG_SIZE) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(dev->cfg + off, cap, len);
	dev->cfg[off + 1] = 0;
	if (dev->cap_last == 0)
		dev->cfg[PCI_CAP_PTR] = off;
	else
		dev->cfg[dev->cap_last + 1] = off;
	dev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->cap_last = off;
	dev->cap_next = (off + len + 3) & ~3;
	return off;
}

int
pci_msix_init(struct pci *pci, struct pci_dev *dev, int bar, uint16_t nvec)
{
	uint8_t	cap[12];
	int	off, i;

	if (nvec == 0 || nvec > PCI_MSIX_MAX_VECTORS) {
		errno = EINVAL;
		return -1;
	}
	dev->msix.nvec = nvec;
	dev->msix.bar = bar;
	dev->msix.pba_off = 2048;
	if (pci_add_bar(pci, dev, bar, 4096, pci_msix_bar, dev) == -1)
		return -1;
	memset(cap, 0, sizeof cap);
	cap[0] = PCI_CAP_ID_MSIX;
	cap[2] = (nvec - 1) & 0xff;
	cap[3] = (nvec - 1) >> 8;
	cap[4] = bar;				/* table at offset 0 */
	cap[8] = bar | (dev->msix.pba_off & 0xff);
	cap[9] = dev->msix.pba_off >> 8;
	if ((off = pci_add_cap(dev, cap, sizeof cap)) == -1)
		return -1;
	dev->msix.cap = off;
	dev->wmask[off + PCI_MSIX_FLAGS + 1] = (PCI_MSIX_ENABLE |
	    PCI_MSIX_MASKALL) >> 8;
	/* Every vector starts masked. */
	for (i = 0; i < nvec; i++)
		dev->msix.table[i * PCI_MSIX_ENTRY_SIZE + 12] = 1;
	return 0;
}

/* Send vector vec unless masked; the msix lock is held. */
static void
msix_fire(struct pci_dev *dev, uint16_t vec)
{
	struct vmm	*vmm = dev->pci->vmm;
	uint8_t		*e = dev->msix.table + vec * PCI_MSIX_ENTRY_SIZE;
	uint64_t	 addr;
	uint32_t	 lo, hi, data;

	if (dev->msix.maskall || (e[12] & 1)) {
		dev->msix.pba |= 1ULL << vec;
		return;
	}
	dev->msix.pba &= ~(1ULL << vec);
	memcpy(&lo, e, 4);
	memcpy(&hi, e + 4, 4);
	memcpy(&data, e + 8, 4);
	addr = (uint64_t)hi << 32 | lo;
	if (vmm->irq.msi != NULL)
		vmm->irq.msi(vmm->irq_opaque, addr, data);
}

/* Deliver what became unmasked; the msix lock is held. */
static void
msix_flush_pending(struct pci_dev *dev)
{
	uint16_t	vec;

	if (!dev->msix.enabled || dev->msix.maskall)
		return;
	for (vec = 0; vec < dev->msix.nvec; vec++) {
		if ((dev->msix.pba & (1ULL << vec)) &&
		    !(dev->msix.table[vec * PCI_MSIX_ENTRY_SIZE + 12] & 1))
			msix_fire(dev, vec);
	}
}

int
pci_msix_notify(struct pci_dev *dev, uint16_t vec)
{
	int	rv = -1;

	pthread_mutex_lock(&dev->msix.lock);
	if (dev->msix.enabled && vec < dev->msix.nvec) {
		msix_fire(dev, vec);
		rv = 0;
	}
	pthread_mutex_unlock(&dev->msix.lock);
	return rv;
}

int
pci_msix_enabled(struct pci_dev *dev)
{
	int	on;

	pthread_mutex_lock(&dev->msix.lock);
	on = dev->msix.enabled;
	pthread_mutex_unlock(&dev->msix.lock);
	return on;
}

/*
 * Level-triggered and shared: a GSI stays high while any device on it
 * asserts, so count them.
 */
void
pci_set_intx(struct pci_dev *dev, int level)
{
	struct pci	*pci = dev->pci;
	struct vmm	*vmm;
	int		 pin = dev->cfg[PCI_INTR_PIN], gsi, i;

	if (pin < 1 || pin > 4 || pci == NULL || dev->slot < 0)
		return;
	vmm = pci->vmm;
	gsi = PCI_INTX_GSI(dev->slot, pin - 1);
	i = gsi - 16;
	level = level != 0;
	pthread_mutex_lock(&pci->intx_lock);
	if (dev->intx != level) {
		dev->intx = level;
		pci->intx_count[i] += level ? 1 : -1;
		if (vmm->irq.line != NULL)
			vmm->irq.line(vmm->irq_opaque, gsi,
			    pci->intx_count[i] > 0);
	}
	pthread_mutex_unlock(&pci->intx_lock);
}

/* The MSI-X BAR: the table, then the pending bits (read-only). */
static void
pci_msix_bar(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct pci_dev	*dev = opaque;
	struct pci_msix	*m = &dev->msix;
	uint32_t	 tablesz = m->nvec * PCI_MSIX_ENTRY_SIZE;

	pthread_mutex_lock(&m->lock);
	if (off < tablesz && len <= tablesz - off) {
		if (is_write) {
			memcpy(m->table + off, data, len);
			msix_flush_pending(dev);
		} else
			memcpy(data, m->table + off, len);
	} else if (off >= m->pba_off && off + len <= m->pba_off + 8) {
		if (!is_write)
			memcpy(data, (uint8_t *)&m->pba + (off - m->pba_off),
			    len);
	} else if (!is_write)
		memset(data, 0, len);
	pthread_mutex_unlock(&m->lock);
}

/* Where BAR i should be on the MMIO bus now, or 0 (not decoded). */
static uint64_t
pci_bar_want(const struct pci_dev *dev, int i)
{
	uint64_t	want;

	if (!(pci_cfg_read16(dev, PCI_COMMAND) & PCI_COMMAND_MEMORY))
		return 0;
	want = pci_cfg_read32(dev, PCI_BAR0 + 4 * i) & PCI_BAR_MEM_MASK;
	if (want + dev->bars[i].size > 0x100000000ULL)
		return 0;
	return want;
}

/* Unmap each BAR that is not where its register and decoding say. */
static void
pci_unmap_moved(struct pci *pci, struct pci_dev *dev)
{
	struct pci_bar	*b;
	int		 i;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		b = &dev->bars[i];
		if (b->mapped == 0 || b->mapped == pci_bar_want(dev, i))
			continue;
		bus_unregister(&pci->vmm->mmio, b->mapped);
		if (dev->bar_mapped != NULL)
			dev->bar_mapped(dev, i, 0);
		b->mapped = 0;
	}
}

/* Map each BAR that should be mapped and is not, where there is room. */
static void
pci_map_wanted(struct pci *pci, struct pci_dev *dev)
{
	struct pci_bar	*b;
	uint64_t	 want;
	int		 i;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		b = &dev->bars[i];
		if (b->size == 0 || b->mapped != 0 ||
		    (want = pci_bar_want(dev, i)) == 0)
			continue;
		if (bus_register(&pci->vmm->mmio, want, b->size, b->fn,
		    b->opaque, dev->name) == -1) {
			log_debug("%s: BAR %d at 0x%llx: %s", dev->name, i,
			    (unsigned long long)want, strerror(errno));
			continue;
		}
		b->mapped = want;
		if (dev->bar_mapped != NULL)
			dev->bar_mapped(dev, i, want);
	}
}

/*
 * Follow a write to dev's BARs or COMMAND. A BAR that overlaps another
 * stays unmapped while the other is there (the first one mapped keeps the
 * range), and is mapped once the range is free: all BARs moving away are
 * unmapped first, and every device's waiting BARs are tried again after.
 * pci->lock is held.
 */
static void
pci_update_bars(struct pci *pci, struct pci_dev *dev)
{
	int	slot;

	pci_unmap_moved(pci, dev);
	pci_map_wanted(pci, dev);
	for (slot = 0; slot < PCI_MAX_SLOTS; slot++)
		if (pci->devs[slot] != NULL && pci->devs[slot] != dev)
			pci_map_wanted(pci, pci->devs[slot]);
}

/* Pick up the MSI-X control bits after a config write. */
static void
pci_update_msix(struct pci_dev *dev)
{
	uint16_t	ctl;

	ctl = pci_cfg_read16(dev, dev->msix.cap + PCI_MSIX_FLAGS);
	pthread_mutex_lock(&dev->msix.lock);
	dev->msix.enabled = (ctl & PCI_MSIX_ENABLE) != 0;
	dev->msix.maskall = (ctl & PCI_MSIX_MASKALL) != 0;
	msix_flush_pending(dev);
	pthread_mutex_unlock(&dev->msix.lock);
}

static int
overlaps(uint32_t off, uint32_t len, uint32_t start, uint32_t n)
{
	return off < start + n && start < off + len;
}

/* One access to a device's config space; pci->lock is held. */
static void
pci_dev_access(struct pci *pci, struct pci_dev *dev, uint32_t reg,
    uint8_t *data, uint32_t len, int is_write)
{
	uint32_t	i;
	int		hook;

	hook = dev->hook != NULL &&
	    overlaps(reg, len, dev->hook_off, dev->hook_len);
	if (!is_write) {
		if (hook)
			dev->hook(dev, reg, data, len, 0);
		memcpy(data, dev->cfg + reg, len);
		return;
	}
	for (i = 0; i < len; i++)
		dev->cfg[reg + i] = (dev->cfg[reg + i] & ~dev->wmask[reg + i]) |
		    (data[i] & dev->wmask[reg + i]);
	if (overlaps(reg, len, PCI_COMMAND, 2) ||
	    overlaps(reg, len, PCI_BAR0, 4 * PCI_NUM_BARS))
		pci_update_bars(pci, dev);
	if (dev->msix.cap != 0 &&
	    overlaps(reg, len, dev->msix.cap + PCI_MSIX_FLAGS, 2))
		pci_update_msix(dev);
	if (hook)
		dev->hook(dev, reg, data, len, 1);
}

void
pci_cfg_access(struct pci *pci, uint32_t addr, uint8_t *data, uint32_t len,
    int is_write)
{
	struct pci_dev	*dev = NULL;
	uint32_t	 bus, slot, fn, reg;

	bus = (addr >> 16) & 0xff;
	slot = (addr >> 11) & 0x1f;
	fn = (addr >> 8) & 0x7;
	reg = addr & 0xff;
	if ((addr & PCI_ADDR_ENABLE) && bus == 0 && fn == 0)
		dev = pci->devs[slot];
	if (len == 0 || len > 4 || reg + len > PCI_CFG_SIZE)
		dev = NULL;
	if (dev == NULL) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_dev_access(pci, dev, reg, data, len, is_write);
}

/* Ports 0xcf8-0xcff: the address register, reset control, the data. */
static void
pci_port(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct pci	*pci = opaque;
	uint32_t	 v;

	pthread_mutex_lock(&pci->lock);
	if (off == 0 && len == 4) {
		if (is_write) {
			memcpy(&v, data, 4);
			pci->addr = v & ~3U;
		} else
			memcpy(data, &pci->addr, 4);
	} else if (off == 1 && len == 1) {
		/* Reset control: bit 2 resets the machine. */
		if (is_write && (data[0] & 0x04)) {
			pthread_mutex_unlock(&pci->lock);
			vmm_request_exit(pci->vmm, VMM_REBOOT,
			    "guest reset through port 0xcf9");
			return;
		}
		if (!is_write)
			data[0] = 0;
	} else if (off >= 4 && off < 8) {
		if (len > 8 - off)
			len = 8 - off;
		pci_cfg_access(pci, pci->addr | (uint32_t)(off - 4), data, len,
		    is_write);
	} else if (!is_write)
		memset(data, 0xff, len);
	pthread_mutex_unlock(&pci->lock);
}

int
pci_register(struct pci *pci, struct pci_dev *dev)
{
	int	slot;

	pthread_mutex_lock(&pci->lock);
	for (slot = 0; slot < PCI_MAX_SLOTS; slot++)
		if (pci->devs[slot] == NULL)
			break;
	if (slot == PCI_MAX_SLOTS) {
		pthread_mutex_unlock(&pci->lock);
		errno = ENOSPC;
		return -1;
	}
	dev->pci = pci;
	dev->slot = slot;
	pci->devs[slot] = dev;
	if (dev->cfg[PCI_INTR_PIN] != 0)
		dev->cfg[PCI_INTR_LINE] = PCI_INTX_GSI(slot,
		    dev->cfg[PCI_INTR_PIN] - 1);
	/* As firmware would: memory decoding on, BARs where we put them. */
	if (dev != &pci->host && !pci_firmware(pci)) {
		cfg_set16(dev, PCI_COMMAND, PCI_COMMAND_MEMORY);
		pci_update_bars(pci, dev);
	}
	pthread_mutex_unlock(&pci->lock);
	return 0;
}

/* Take a device off the bus and unmap its BARs. */
void
pci_unregister(struct pci *pci, struct pci_dev *dev)
{
	int	i;

	pthread_mutex_lock(&pci->lock);
	if (dev->slot >= 0 && pci->devs[dev->slot] == dev) {
		for (i = 0; i < PCI_NUM_BARS; i++) {
			if (dev->bars[i].mapped == 0)
				continue;
			bus_unregister(&pci->vmm->mmio, dev->bars[i].mapped);
			if (dev->bar_mapped != NULL)
				dev->bar_mapped(dev, i, 0);
			dev->bars[i].mapped = 0;
		}
		pci_set_intx(dev, 0);
		pci->devs[dev->slot] = NULL;
		dev->slot = -1;
		pthread_mutex_destroy(&dev->msix.lock);
	}
	pthread_mutex_unlock(&pci->lock);
}

struct pci *
pci_create(struct vmm *vmm)
{
	struct pci	*pci;

	pci = xcalloc(1, sizeof *pci);
	pci->vmm = vmm;
	pci->mmio_next = PCI_MMIO_BASE;
	pthread_mutex_init(&pci->lock, NULL);
	pthread_mutex_init(&pci->intx_lock, NULL);
	pci_dev_init(&pci->host, "pci-host", PCI_HOST_VENDOR,
	    PCI_HOST_DEVICE, PCI_CLASS_HOST_BRIDGE, 0);
	pci->host.pci = pci;
	if (pci_register(pci, &pci->host) == -1 ||
	    bus_register(&vmm->pio, PCI_CONFIG_ADDR, 8, pci_port, pci,
	    "pci-config") == -1) {
		free(pci);
		return NULL;
	}
	return pci;
}

/* Leave the config ports and unmap what devices are still there. */
void
pci_destroy(struct pci *pci)
{
	int	slot;

	if (pci == NULL)
		return;
	bus_unregister(&pci->vmm->pio, PCI_CONFIG_ADDR);
	for (slot = 0; slot < PCI_MAX_SLOTS; slot++)
		if (pci->devs[slot] != NULL)
			pci_unregister(pci, pci->devs[slot]);
	pthread_mutex_destroy(&pci->lock);
	pthread_mutex_destroy(&pci->intx_lock);
	free(pci);
}

/*
 * PCI bus 0 behind a host bridge, reached with configuration mechanism #1
 * (ports 0xcf8/0xcfc): devices with a 256-byte config space, memory BARs
 * allocated from the PCI MMIO window and mapped on the MMIO bus while
 * memory decoding is on, a capability list and MSI-X.
 */
#ifndef PCI_H
#define PCI_H

#include <pthread.h>
#include <stdint.h>

#include "vmm.h"

#define PCI_CFG_SIZE		256
#define PCI_MAX_SLOTS		32
#define PCI_NUM_BARS		6

#define PCI_CONFIG_ADDR		0xcf8
#define PCI_CONFIG_DATA		0xcfc
#define PCI_RESET_PORT		0xcf9	/* reset control */

/* Config space registers and bits. */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define  PCI_COMMAND_IO		0x0001
#define  PCI_COMMAND_MEMORY	0x0002
#define  PCI_COMMAND_MASTER	0x0004
#define  PCI_COMMAND_INTX_OFF	0x0400
#define PCI_STATUS		0x06
#define  PCI_STATUS_INTR	0x0008
#define  PCI_STATUS_CAP_LIST	0x0010
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define  PCI_BAR_MEM_MASK	(~0xfULL)
#define PCI_SUBSYS_VENDOR_ID	0x2c
#define PCI_SUBSYS_ID		0x2e
#define PCI_CAP_PTR		0x34
#define PCI_INTR_LINE		0x3c
#define PCI_INTR_PIN		0x3d
#define PCI_CAP_START		0x40

/*
 * The IOAPIC input that INTx pin (0-3 = INTA-INTD) of a slot drives,
 * swizzled as in the DSDT's _PRT.
 */
#define PCI_INTX_GSI(slot, pin)	(16 + (((slot) + (pin)) & 3))

#define PCI_CAP_ID_MSIX		0x11
#define PCI_CAP_ID_VNDR		0x09
#define PCI_MSIX_FLAGS		2	/* in the MSI-X capability */
#define  PCI_MSIX_ENABLE	0x8000
#define  PCI_MSIX_MASKALL	0x4000
#define PCI_MSIX_ENTRY_SIZE	16
#define PCI_MSIX_MAX_VECTORS	64

struct pci;
struct pci_dev;

/* A memory BAR: its size (0 when unused) and who answers accesses. */
struct pci_bar {
	uint64_t	 size;
	uint64_t	 mapped;	/* address on the MMIO bus, or 0 */
	bus_fn		 fn;
	void		*opaque;
};

/* MSI-X state: the table and pending bits live in a BAR of the device. */
struct pci_msix {
	uint16_t	 nvec;
	uint8_t		 cap;		/* offset of the cap */
	int		 bar;
	uint32_t	 pba_off;
	uint8_t		 table[PCI_MSIX_MAX_VECTORS *
			    PCI_MSIX_ENTRY_SIZE];
	uint64_t	 pba;
	int		 enabled, maskall;	/* the cap's bits */
	pthread_mutex_t	 lock;
};

struct pci_dev {
	struct pci	*pci;
	int		 slot;
	char		 name[16];
	uint8_t		 cfg[PCI_CFG_SIZE];
	uint8_t		 wmask[PCI_CFG_SIZE];	/* guest-writable */
	uint8_t		 cap_last;		/* the last cap */
	uint8_t		 cap_next;		/* the next one */
	struct pci_bar	 bars[PCI_NUM_BARS];
	struct pci_msix	 msix;
	int		 intx;			/* INTx asserted */

	/* A device-owned config window (virtio's PCI_CFG access cap). */
	uint8_t		 hook_off, hook_len;
	void		(*hook)(struct pci_dev *, uint32_t off,
			    uint8_t *data, uint32_t len, int is_write);
	/* Told when a BAR is mapped at addr, or unmapped (addr 0). */
	void		(*bar_mapped)(struct pci_dev *, int bar,
			    uint64_t addr);
	void		*opaque;
};

struct pci {
	struct vmm	*vmm;
	pthread_mutex_t	 lock;
	uint32_t	 addr;		/* the 0xcf8 register */
	uint64_t	 mmio_next;	/* BAR allocator */
	struct pci_dev	*devs[PCI_MAX_SLOTS];
	struct pci_dev	 host;
	pthread_mutex_t	 intx_lock;
	int		 intx_count[4];	/* asserting each GSI */
};

/* The host bridge at 00.0 and the config ports. NULL with errno set. */
struct pci	*pci_create(struct vmm *);
void		 pci_destroy(struct pci *);

/* Fill in a device's identity; then add BARs and caps, then register. */
void	 pci_dev_init(struct pci_dev *, const char *name, uint16_t vendor,
	    uint16_t device, uint32_t class, uint8_t revision);
/* A 32-bit memory BAR of size (a power of two >= 4 KiB) in the window. */
int	 pci_add_bar(struct pci *, struct pci_dev *, int bar, uint64_t size,
	    bus_fn, void *opaque);
/* Append a capability (its first two bytes are filled in); the offset. */
int	 pci_add_cap(struct pci_dev *, const void *cap, uint8_t len);
/* An MSI-X capability with nvec vectors, its table in BAR bar. */
int	 pci_msix_init(struct pci *, struct pci_dev *, int bar,
	    uint16_t nvec);
/* Put the device in the first free slot and map its BARs. */
int	 pci_register(struct pci *, struct pci_dev *);
void	 pci_unregister(struct pci *, struct pci_dev *);

/*
 * Signal MSI-X vector vec. Returns 0 when sent or left pending (masked),
 * -1 when MSI-X is off or vec is out of range (use INTx then).
 */
int	 pci_msix_notify(struct pci_dev *, uint16_t vec);
int	 pci_msix_enabled(struct pci_dev *);
/* Assert or deassert the device's INTx pin (if it has one). */
void	 pci_set_intx(struct pci_dev *, int level);

/* Config space access by bus/device/function (what 0xcfc does). */
void	 pci_cfg_access(struct pci *, uint32_t addr, uint8_t *data,
	    uint32_t len, int is_write);

static inline uint16_t
pci_cfg_read16(const struct pci_dev *dev, int off)
{
	return dev->cfg[off] | dev->cfg[off + 1] << 8;
}

static inline uint32_t
pci_cfg_read32(const struct pci_dev *dev, int off)
{
	return pci_cfg_read16(dev, off) |
	    (uint32_t)pci_cfg_read16(dev, off + 2) << 16;
}

#endif

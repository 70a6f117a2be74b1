/*
 * The modern virtio-pci transport (virtio 1.1, 4.1): vendor 0x1af4,
 * device 0x1040 + id, revision 1. BAR 0 holds the common config, the ISR,
 * the device config and the notify area (one 4-byte slot per queue);
 * BAR 1 holds the MSI-X table, one vector for config changes and one per
 * queue. Vendor capabilities point the driver at each region, and a
 * PCI_CFG capability reaches BAR 0 through config space. Notify writes
 * only kick the device's I/O thread, so the vCPU returns at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_pci.h>

#include "log.h"
#include "virtio.h"
#include "xmalloc.h"

static void
put_le(uint8_t *p, uint64_t v, int len)
{
	int	i;

	for (i = 0; i < len; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static uint64_t
get_le(const uint8_t *p, int len)
{
	uint64_t	v = 0;
	int		i;

	for (i = len - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * Raise MSI-X vector vec, or INTA# when MSI-X is off. The ISR's queue
 * bit is only for INTx; its config bit is set either way (4.1.4.5.1).
 */
static void
vp_interrupt(struct virtio_pci *vp, uint16_t vec, uint8_t isr)
{
	int	msix = pci_msix_enabled(&vp->pci);

	if (!msix || isr == VIRTIO_PCI_ISR_CONFIG)
		__atomic_fetch_or(&vp->isr, isr, __ATOMIC_SEQ_CST);
	if (!msix)
		pci_set_intx(&vp->pci, 1);
	else if (vec != VIRTIO_NO_VECTOR)
		pci_msix_notify(&vp->pci, vec);
}

static void
vp_signal_queue(struct virtio_dev *dev, struct virtq *vq)
{
	vp_interrupt(dev->transport_data, vq->msix_vector, 1);
}

static void
vp_signal_config(struct virtio_dev *dev)
{
	struct virtio_pci	*vp = dev->transport_data;

	vp_interrupt(vp, vp->config_vector, VIRTIO_PCI_ISR_CONFIG);
}

/* The transport's part of a device reset; dev->lock is held. */
static void
vp_reset(struct virtio_dev *dev)
{
	struct virtio_pci	*vp = dev->transport_data;

	vp->dfselect = vp->gfselect = 0;
	vp->queue_sel = 0;
	vp->config_vector = VIRTIO_NO_VECTOR;
	__atomic_store_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
	pci_set_intx(&vp->pci, 0);
}

static uint16_t
vp_vector(struct virtio_pci *vp, uint16_t vec)
{
	return vec < vp->pci.msix.nvec ? vec : VIRTIO_NO_VECTOR;
}

/* struct virtio_pci_common_cfg as the driver sees it now. */
static void
common_image(struct virtio_pci *vp, uint8_t *img)
{
	struct virtio_dev	*dev = vp->dev;
	struct virtq		*vq = NULL;

	memset(img, 0, VIRTIO_PCI_COMMON_LEN);
	put_le(img + VIRTIO_PCI_COMMON_DFSELECT, vp->dfselect, 4);
	if (vp->dfselect < 2)
		put_le(img + VIRTIO_PCI_COMMON_DF,
		    dev->features >> (32 * vp->dfselect), 4);
	put_le(img + VIRTIO_PCI_COMMON_GFSELECT, vp->gfselect, 4);
	if (vp->gfselect < 2)
		put_le(img + VIRTIO_PCI_COMMON_GF,
		    dev->acked >> (32 * vp->gfselect), 4);
	put_le(img + VIRTIO_PCI_COMMON_MSIX, vp->config_vector, 2);
	put_le(img + VIRTIO_PCI_COMMON_NUMQ, dev->nvqs, 2);
	img[VIRTIO_PCI_COMMON_STATUS] = dev->status;
	img[VIRTIO_PCI_COMMON_CFGGENERATION] = dev->config_gen;
	put_le(img + VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_sel, 2);
	if (vp->queue_sel < dev->nvqs)
		vq = &dev->vqs[vp->queue_sel];
	if (vq == NULL)
		return;		/* queue_size 0: no such queue */
	put_le(img + VIRTIO_PCI_COMMON_Q_SIZE, vq->size, 2);
	put_le(img + VIRTIO_PCI_COMMON_Q_MSIX, vq->msix_vector, 2);
	put_le(img + VIRTIO_PCI_COMMON_Q_ENABLE, vq->ready, 2);
	put_le(img + VIRTIO_PCI_COMMON_Q_NOFF, vq->index, 2);
	put_le(img + VIRTIO_PCI_COMMON_Q_DESCLO, vq->desc_gpa, 8);
	put_le(img + VIRTIO_PCI_COMMON_Q_AVAILLO, vq->avail_gpa, 8);
	put_le(img + VIRTIO_PCI_COMMON_Q_USEDLO, vq->used_gpa, 8);
	put_le(img + VIRTIO_PCI_COMMON_Q_NDATA, vq->index, 2);
}

/* Half or all of a 64-bit ring address. */
static void
set_addr(uint64_t *addr, uint32_t off, uint64_t v, uint32_t len)
{
	if (len == 8)
		*addr = v;
	else if (off & 4)
		*addr = (*addr & 0xffffffffULL) | v << 32;
	else
		*addr = (*addr & ~0xffffffffULL) | v;
}

/* A driver write to the common config; dev->lock is held. */
static void
common_write(struct virtio_pci *vp, uint32_t off, uint64_t v, uint32_t len)
{
	struct virtio_dev	*dev = vp->dev;
	struct virtq		*vq = NULL;
	uint64_t		 mask;

	if (vp->queue_sel < dev->nvqs)
		vq = &dev->vqs[vp->queue_sel];
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		if (len == 4)
			vp->dfselect = v;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		if (len == 4)
			vp->gfselect = v;
		return;
	case VIRTIO_PCI_COMMON_GF:
		if (len != 4 || vp->gfselect >= 2 ||
		    (dev->status & VIRTIO_CONFIG_S_FEATURES_OK))
			return;
		mask = 0xffffffffULL << (32 * vp->gfselect);
		dev->acked = (dev->acked & ~mask) |
		    (v << (32 * vp->gfselect) & mask);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		if (len == 2)
			vp->config_vector = vp_vector(vp, v);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		if (len == 1)
			virtio_dev_set_status(dev, v);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (len == 2)
			vp->queue_sel = v;
		return;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (len == 2 && vq != NULL)
			vq->msix_vector = vp_vector(vp, v);
		return;
	}
	/* The rest configures a queue, before it is enabled. */
	if (vq == NULL || vq->ready)
		return;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (len == 2 && v != 0 && v <= vq->max_size &&
		    (v & (v - 1)) == 0)
			vq->size = v;
		return;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (len == 2 && v == 1)
			virtq_enable(vq);
		return;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		if (len == 4 || (len == 8 && !(off & 4)))
			set_addr(&vq->desc_gpa, off, v, len);
		return;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		if (len == 4 || (len == 8 && !(off & 4)))
			set_addr(&vq->avail_gpa, off, v, len);
		return;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		if (len == 4 || (len == 8 && !(off & 4)))
			set_addr(&vq->used_gpa, off, v, len);
		return;
	}
}

/* BAR 0: common config, ISR, device config, notify. */
static void
vp_bar(void *opaque, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	struct virtio_pci	*vp = opaque;
	struct virtio_dev	*dev = vp->dev;
	uint8_t			 img[VIRTIO_PCI_COMMON_LEN];
	uint64_t		 coff;

	if (len == 0 || len > 8 || off >= VIRTIO_PCI_BAR_SIZE) {
		if (!is_write && len <= 8)
			memset(data, 0, len);
		return;
	}
	if (off >= VIRTIO_PCI_NOTIFY_OFF) {
		if (is_write)
			virtio_dev_kick(dev, (off - VIRTIO_PCI_NOTIFY_OFF) /
			    VIRTIO_PCI_NOTIFY_MULT);
		else
			memset(data, 0, len);
		return;
	}
	if (!is_write)
		memset(data, 0, len);
	if (off >= VIRTIO_PCI_ISR_OFF && off < VIRTIO_PCI_DEVICE_OFF) {
		/* Reading the ISR clears it and deasserts INTA#. */
		if (!is_write && off == VIRTIO_PCI_ISR_OFF) {
			data[0] = __atomic_exchange_n(&vp->isr, 0,
			    __ATOMIC_SEQ_CST);
			pci_set_intx(&vp->pci, 0);
		}
		return;
	}
	pthread_mutex_lock(&dev->lock);
	if (off < VIRTIO_PCI_ISR_OFF) {
		if (off + len <= VIRTIO_PCI_COMMON_LEN) {
			if (is_write)
				common_write(vp, off, get_le(data, len), len);
			else {
				common_image(vp, img);
				memcpy(data, img + off, len);
			}
		}
	} else if (off >= VIRTIO_PCI_DEVICE_OFF) {
		coff = off - VIRTIO_PCI_DEVICE_OFF;
		if (!is_write && coff + len <= dev->config_size)
			memcpy(data, dev->config + coff, len);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* Accesses through the PCI_CFG capability's window into BAR 0. */
static void
vp_cfg_hook(struct pci_dev *pdev, uint32_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct virtio_pci	*vp = pdev->opaque;
	uint8_t			*cap = pdev->cfg + vp->cfg_cap;
	uint32_t		 boff, blen;

	(void)off;
	(void)data;
	(void)len;
	boff = get_le(cap + VIRTIO_PCI_CAP_OFFSET, 4);
	blen = get_le(cap + VIRTIO_PCI_CAP_LENGTH, 4);
	if (cap[VIRTIO_PCI_CAP_BAR] != 0 ||
	    (blen != 1 && blen != 2 && blen != 4) || boff % blen != 0 ||
	    boff >= VIRTIO_PCI_BAR_SIZE)
		return;
	vp_bar(vp, boff, cap + 16, blen, is_write);
}

/*
 * Wire or unwire the queues' notify addresses (a 2-byte write each) to
 * their kick eventfds, when the device's vCPU backend can.
 */
static void
vp_bar_mapped(struct pci_dev *pdev, int bar, uint64_t addr)
{
	struct virtio_pci		*vp = pdev->opaque;
	struct virtio_dev		*dev = vp->dev;
	const struct vcpu_backend_ops	*be = dev->vmm->backend;
	uint64_t			 gpa;
	int				 i, assign = addr != 0;

	if (bar != 0 || be == NULL || be->ioeventfd == NULL)
		return;
	if (!assign && vp->notify_gpa == 0)
		return;
	if (assign)
		vp->notify_gpa = addr + VIRTIO_PCI_NOTIFY_OFF;
	for (i = 0; i < dev->nvqs; i++) {
		gpa = vp->notify_gpa + i * VIRTIO_PCI_NOTIFY_MULT;
		if (be->ioeventfd(dev->vmm, gpa, 2, dev->vqs[i].kick_fd,
		    assign) == -1 && assign)
			log_debug("%s: queue %d stays on MMIO exits",
			    dev->name, i);
	}
	if (!assign)
		vp->notify_gpa = 0;
}

static void
vp_free(struct virtio_dev *dev)
{
	struct virtio_pci	*vp = dev->transport_data;

	pci_unregister(vp->pci.pci, &vp->pci);
	free(vp);
	dev->transport = NULL;
	dev->transport_data = NULL;
}

static const struct virtio_transport vp_transport = {
	.signal_queue = vp_signal_queue,
	.signal_config = vp_signal_config,
	.reset = vp_reset,
	.free = vp_free,
};

/* One vendor capability pointing at [off, off + len) of BAR 0. */
static int
vp_add_cap(struct pci_dev *pdev, uint8_t type, uint32_t off, uint32_t len)
{
	struct virtio_pci_notify_cap	c;
	uint8_t				capl = sizeof c.cap;

	memset(&c, 0, sizeof c);
	c.cap.cap_vndr = PCI_CAP_ID_VNDR;
	c.cap.cfg_type = type;
	c.cap.bar = 0;
	c.cap.offset = off;
	c.cap.length = len;
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
		c.notify_off_multiplier = VIRTIO_PCI_NOTIFY_MULT;
		capl = sizeof c;
	} else if (type == VIRTIO_PCI_CAP_PCI_CFG)
		capl = sizeof(struct virtio_pci_cfg_cap);
	c.cap.cap_len = capl;
	return pci_add_cap(pdev, &c, capl);
}

int
virtio_pci_create(struct pci *pci, struct virtio_dev *dev)
{
	struct virtio_pci	*vp;
	struct pci_dev		*pdev;
	uint32_t		 notify_len, cfg_len;
	int			 off;

	vp = xcalloc(1, sizeof *vp);
	vp->dev = dev;
	vp->config_vector = VIRTIO_NO_VECTOR;
	pdev = &vp->pci;
	pci_dev_init(pdev, dev->name, VIRTIO_PCI_VENDOR,
	    VIRTIO_PCI_DEVICE_BASE + dev->ops->device_id, dev->ops->pci_class,
	    1);
	pdev->cfg[PCI_SUBSYS_VENDOR_ID] = VIRTIO_PCI_VENDOR & 0xff;
	pdev->cfg[PCI_SUBSYS_VENDOR_ID + 1] = VIRTIO_PCI_VENDOR >> 8;
	pdev->cfg[PCI_SUBSYS_ID] = dev->ops->device_id;
	pdev->cfg[PCI_INTR_PIN] = 1;		/* INTA#, without MSI-X */
	pdev->opaque = vp;
	notify_len = dev->nvqs * VIRTIO_PCI_NOTIFY_MULT;
	cfg_len = (dev->config_size + 3) & ~3U;
	if (pci_add_bar(pci, pdev, 0, VIRTIO_PCI_BAR_SIZE, vp_bar, vp) == -1 ||
	    pci_msix_init(pci, pdev, 1, dev->nvqs + 1) == -1 ||
	    vp_add_cap(pdev, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
	    VIRTIO_PCI_COMMON_LEN) == -1 ||
	    vp_add_cap(pdev, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
	    notify_len) == -1 ||
	    vp_add_cap(pdev, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF,
	    1) == -1 ||
	    (cfg_len != 0 && vp_add_cap(pdev, VIRTIO_PCI_CAP_DEVICE_CFG,
	    VIRTIO_PCI_DEVICE_OFF, cfg_len) == -1) ||
	    (off = vp_add_cap(pdev, VIRTIO_PCI_CAP_PCI_CFG, 0, 0)) == -1)
		goto fail;
	/* The PCI_CFG cap's bar, offset, length and data are the driver's. */
	vp->cfg_cap = off;
	pdev->wmask[off + VIRTIO_PCI_CAP_BAR] = 0xff;
	memset(pdev->wmask + off + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
	pdev->hook_off = off + 16;
	pdev->hook_len = 4;
	pdev->hook = vp_cfg_hook;
	pdev->bar_mapped = vp_bar_mapped;
	dev->transport = &vp_transport;
	dev->transport_data = vp;
	if (pci_register(pci, pdev) == -1) {
		dev->transport = NULL;
		dev->transport_data = NULL;
		goto fail;
	}
	return 0;
fail:
	pthread_mutex_destroy(&pdev->msix.lock);
	free(vp);
	return -1;
}

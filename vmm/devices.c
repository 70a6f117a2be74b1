/*
 * The runner's devices: the PCI host bridge, a virtio-blk per disk, a
 * virtio-net per NIC, a virtio-rng, a virtio-scsi CD-ROM for the cdrom
 * and a read-only virtio-blk for the cloud-init seed, each device with
 * its I/O thread.
 * The device files build the device models; this file puts each on its
 * transport (virtio-pci). One VM per runner, so the set lives here.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk.h"
#include "disk_ops.h"
#include "fwcfg.h"
#include "log.h"
#include "pci.h"
#include "scsi.h"
#include "virtio.h"
#include "vmm.h"

#define DEVICES_MAX	(VM_MAX_DISKS + VM_MAX_NICS + 2)
#define DEVICES_PATH	64		/* a bootorder device path */

static struct {
	struct vmm		*vmm;
	struct pci		*pci;
	struct virtio_dev	*devs[DEVICES_MAX];
	int			 ndevs;
	struct virtio_dev	*disks[VM_MAX_DISKS];	/* in disk order */
	int			 ndisks;
	struct virtio_dev	*cdrom;
} devices;

/*
 * Open disk i in its format over its base chain; the disk then owns the
 * fds (set to -1 here). NULL with vmm->error set.
 */
static struct disk *
devices_disk(struct vmm *vmm, int i, struct vmm_fds *fds)
{
	char		 err[PROTO_TEXT_SIZE - VM_NAME_SIZE - 32];
	struct disk	*d;
	int		 j, nbases = vmm->params.disk_nbase[i];
	enum disk_format fmt = vmm->params.disk_format[i];

	if (nbases < 0 || nbases > VM_MAX_BASE_IMAGES) {
		snprintf(vmm->error, sizeof vmm->error, "vm %s: disk %d: %d "
		    "base images", vmm->params.name, i, nbases);
		return NULL;
	}
	/* Never probed here: the guest may have written the header. */
	if (fmt != DISK_FORMAT_QCOW2)
		fmt = DISK_FORMAT_RAW;
	d = disk_open(fds->disks[i], fmt, fds->bases[i], nbases, 0, err,
	    sizeof err);
	if (d == NULL) {
		snprintf(vmm->error, sizeof vmm->error, "vm %s: disk %d: %s",
		    vmm->params.name, i, err);
		return NULL;
	}
	fds->disks[i] = -1;
	for (j = 0; j < nbases; j++)
		fds->bases[i][j] = -1;
	return d;
}

/*
 * Put dev, just created (NULL if that failed, errno set), on the PCI bus
 * and into the set; what names it for an error. Returns 0, or -1 with
 * vmm->error set and dev freed.
 */
static int
devices_attach(struct vmm *vmm, struct virtio_dev *dev, const char *what)
{
	if (dev == NULL || virtio_pci_create(devices.pci, dev) == -1) {
		snprintf(vmm->error, sizeof vmm->error, "vm %s: %s: %s",
		    vmm->params.name, what, strerror(errno));
		if (dev != NULL)
			virtio_dev_destroy(dev);
		return -1;
	}
	devices.devs[devices.ndevs++] = dev;
	return 0;
}

/*
 * The CD-ROM over the cdrom fd, which it then owns (set to -1 here).
 * NULL with errno set.
 */
static struct virtio_dev *
devices_cdrom(struct vmm *vmm, struct vmm_fds *fds)
{
	off_t		 end;
	int		 fd = fds->cdrom;

	fds->cdrom = -1;
	if ((end = lseek(fd, 0, SEEK_END)) == -1) {
		close(fd);
		return NULL;
	}
	return virtio_scsi_create(vmm, fd, end, 0);
}

/*
 * The cloud-init seed: a raw image the guest may only read, on no boot
 * list; it then owns the seed fd (set to -1 here). NULL with vmm->error.
 */
static struct disk *
devices_seed(struct vmm *vmm, struct vmm_fds *fds)
{
	char		 err[PROTO_TEXT_SIZE - VM_NAME_SIZE - 32];
	struct disk	*d;

	if ((d = disk_open(fds->seed, DISK_FORMAT_RAW, NULL, 0, 1, err,
	    sizeof err)) == NULL) {
		snprintf(vmm->error, sizeof vmm->error, "vm %s: cloud-init "
		    "seed: %s", vmm->params.name, err);
		return NULL;
	}
	fds->seed = -1;
	return d;
}

/* The NIC's address, or a random locally administered one. */
static void
devices_mac(struct vmm *vmm, int i, uint8_t mac[6])
{
	static const uint8_t	zero[6];

	memcpy(mac, vmm->params.nic_lladdr[i], 6);
	if (memcmp(mac, zero, 6) != 0)
		return;
	if (getrandom(mac, 6, 0) != 6)
		memcpy(mac, "\x00\x00\x00\x00\x00\x01", 6);
	mac[0] = (mac[0] & 0xfc) | 0x02;
	mac[5] ^= i;
}

/*
 * Create every device and start their threads. The devices take over
 * the disk and NIC fds (set to -1 in fds). Returns 0, or -1 with
 * vmm->error set (and nothing left behind).
 */
int
devices_create(struct vmm *vmm, struct vmm_fds *fds)
{
	struct virtio_dev	*dev;
	struct disk		*d;
	char			 what[32];
	uint8_t			 mac[6];
	int			 i;

	memset(&devices, 0, sizeof devices);
	devices.vmm = vmm;
	if ((devices.pci = pci_create(vmm)) == NULL) {
		snprintf(vmm->error, sizeof vmm->error, "vm %s: PCI bus: %s",
		    vmm->params.name, strerror(errno));
		return -1;
	}
	for (i = 0; i < VM_MAX_DISKS; i++) {
		if (fds->disks[i] == -1)
			continue;
		if ((d = devices_disk(vmm, i, fds)) == NULL)
			goto fail;
		snprintf(what, sizeof what, "disk %d", i);
		if (devices_attach(vmm, virtio_blk_create(vmm, d, i),
		    what) == -1)
			goto fail;
		devices.disks[devices.ndisks++] = devices.devs[devices.ndevs - 1];
	}
	for (i = 0; i < VM_MAX_NICS; i++) {
		if (fds->nics[i] == -1)
			continue;
		devices_mac(vmm, i, mac);
		dev = virtio_net_create(vmm, fds->nics[i], mac,
		    vmm->params.nic_locked[i], vmm->params.nic_mtu[i], i);
		fds->nics[i] = -1;
		snprintf(what, sizeof what, "interface %d", i);
		if (devices_attach(vmm, dev, what) == -1)
			goto fail;
	}
	if (devices_attach(vmm, virtio_rng_create(vmm), "virtio-rng") == -1)
		goto fail;
	/* Last, so that they move no other device's slot. */
	if (fds->cdrom != -1) {
		if (devices_attach(vmm, devices_cdrom(vmm, fds), "cdrom") == -1)
			goto fail;
		devices.cdrom = devices.devs[devices.ndevs - 1];
	}
	if (fds->seed != -1) {
		if ((d = devices_seed(vmm, fds)) == NULL ||
		    devices_attach(vmm, virtio_blk_create(vmm, d, VM_MAX_DISKS),
		    "cloud-init seed") == -1)
			goto fail;
	}
	for (i = 0; i < devices.ndevs; i++) {
		if (virtio_dev_start(devices.devs[i]) == -1) {
			snprintf(vmm->error, sizeof vmm->error, "vm %s: %s "
			    "thread: %s", vmm->params.name,
			    devices.devs[i]->name, strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	devices_destroy(vmm);
	return -1;
}

/* The PCI slot dev sits in. */
static int
devices_slot(const struct virtio_dev *dev)
{
	const struct virtio_pci	*vp = dev->transport_data;

	return vp->pci.slot;
}

/*
 * The firmware's boot order as SeaBIOS matches it (boot.c: a PCI device
 * is "/pci@i0cf8/DEV@SLOT", a SCSI LUN "/pci@i0cf8/DEV@SLOT/DEV@0/DEV@T,L",
 * any DEV):
 * the disks in their order and the CD-ROM, the CD-ROM first if the run
 * parameters say so. Returns 0, or -1 with vmm->error set.
 */
int
devices_bootorder(struct vmm *vmm, struct fwcfg *fw)
{
	char		 paths[VM_MAX_DISKS + 1][DEVICES_PATH];
	const char	*order[VM_MAX_DISKS + 1];
	int		 i, n = 0, cd = -1;

	if (devices.cdrom != NULL && (vmm->params.flags & RUNP_CDROM_FIRST))
		cd = n++;
	for (i = 0; i < devices.ndisks; i++)
		snprintf(paths[n++], DEVICES_PATH, "/pci@i0cf8/disk@%x",
		    devices_slot(devices.disks[i]));
	if (devices.cdrom != NULL && cd == -1)
		cd = n++;
	if (cd != -1)
		snprintf(paths[cd], DEVICES_PATH,
		    "/pci@i0cf8/scsi@%x/channel@0/disk@0,0",
		    devices_slot(devices.cdrom));
	for (i = 0; i < n; i++)
		order[i] = paths[i];
	if (fwcfg_add_bootorder(fw, order, n) == -1) {
		snprintf(vmm->error, sizeof vmm->error, "vm %s: fw_cfg "
		    "bootorder: %s", vmm->params.name, strerror(errno));
		return -1;
	}
	return 0;
}

/* Stop every I/O thread, then flush and free each device and the bus. */
void
devices_destroy(struct vmm *vmm)
{
	int	i;

	if (devices.vmm != vmm)
		return;
	for (i = 0; i < devices.ndevs; i++)
		virtio_dev_stop(devices.devs[i]);
	for (i = 0; i < devices.ndevs; i++)
		virtio_dev_destroy(devices.devs[i]);
	pci_destroy(devices.pci);
	memset(&devices, 0, sizeof devices);
}

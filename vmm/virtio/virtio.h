/*
 * The virtio layer (modern devices, VIRTIO_F_VERSION_1): split
 * virtqueues that check everything the guest controls (virtq.c), the
 * device core with feature negotiation, status and one I/O thread per
 * device (virtio_dev.c), the virtio-pci transport (virtio_pci.c), and the
 * devices: blk, net, rng. A device knows nothing of PCI; the transport
 * knows nothing of blk or net.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include <sys/uio.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "iov.h"
#include "pci.h"
#include "vmm.h"

#define VIRTQ_MAX_SIZE		1024	/* largest queue offered */
#define VIRTQ_MAX_INDIRECT	1024	/* entries of an indirect table */
#define VIRTQ_MAX_SEGS		1024	/* buffers in one request */
#define VIRTIO_MAX_QUEUES	4
#define VIRTIO_IO_FDS		2	/* a device's own fds to poll */
#define VIRTIO_CONFIG_MAX	128	/* bytes of device config */
#define VIRTIO_NO_VECTOR	0xffff
#define VIRTIO_F(bit)		(1ULL << (bit))

struct virtio_dev;

/*
 * A split virtqueue. The rings are guest memory another CPU writes at the
 * same time: every field is read once into a local before it is checked.
 */
struct virtq {
	struct virtio_dev	*dev;
	uint16_t		 index;
	uint16_t		 max_size;	/* what the device offers */
	uint16_t		 size;		/* the driver's choice */
	uint16_t		 msix_vector;
	int			 ready;
	uint64_t		 desc_gpa, avail_gpa, used_gpa;
	struct vring_desc	*desc;		/* mapped, when ready */
	struct vring_avail	*avail;
	struct vring_used	*used;
	uint16_t		 last_avail;	/* next avail entry */
	uint16_t		 used_idx;	/* what we last published */
	uint16_t		 signalled;	/* used_idx when signalled */
	int			 signalled_valid;
	int			 kick_fd;	/* eventfd: notified */
};

/* One request: the device-readable buffers, then the device-writable. */
struct virtq_req {
	uint16_t	 head;
	int		 nout, nin;
	size_t		 out_len, in_len;
	struct iovec	 iov[VIRTQ_MAX_SEGS];
};

/*
 * virtq.c. virtq_pop returns 1 with a request, 0 when the ring is empty,
 * -1 when the driver broke the ring's rules (the device must then be
 * reset; virtq_pop has already said why through virtio_dev_fail).
 */
void	virtq_reset(struct virtq *);
int	virtq_enable(struct virtq *);
int	virtq_pop(struct virtq *, struct virtq_req *);
void	virtq_unpop(struct virtq *, uint16_t n);
void	virtq_fill(struct virtq *, uint16_t head, uint32_t len, uint16_t k);
void	virtq_flush(struct virtq *, uint16_t n);
void	virtq_push(struct virtq *, uint16_t head, uint32_t len);
int	virtq_enable_notify(struct virtq *);
int	virtq_should_signal(struct virtq *);
size_t	virtq_req_read(const struct virtq_req *, size_t off, void *,
	    size_t);
size_t	virtq_req_write(struct virtq_req *, size_t off, const void *,
	    size_t);

/* What a device model provides. Calls with dev->lock held. */
struct virtio_ops {
	const char	*name;
	uint16_t	 device_id;	/* VIRTIO_ID_* */
	uint32_t	 pci_class;
	/* The driver notified the queue (and the device is live). */
	void	(*queue_notify)(struct virtio_dev *, struct virtq *);
	/*
	 * Optional: fds for the I/O thread to poll (at most VIRTIO_IO_FDS;
	 * one with no events is not polled), and their revents, in the
	 * same places. io_events returns how many it filled in.
	 */
	int	(*io_events)(struct virtio_dev *, struct pollfd *);
	void	(*io_ready)(struct virtio_dev *, const struct pollfd *, int n);
	/* The driver reset the device: forget in-flight state. */
	void	(*reset)(struct virtio_dev *);
	/* The VM is going away (thread stopped): flush, free the device. */
	void	(*destroy)(struct virtio_dev *);
};

/* How a transport raises interrupts, and lets go of a device. */
struct virtio_transport {
	void	(*signal_queue)(struct virtio_dev *, struct virtq *);
	void	(*signal_config)(struct virtio_dev *);
	void	(*reset)(struct virtio_dev *);
	void	(*free)(struct virtio_dev *);
};

struct virtio_dev {
	struct vmm			*vmm;
	const struct virtio_ops		*ops;
	void				*priv;
	const struct virtio_transport	*transport;
	void				*transport_data;
	char				 name[16];

	pthread_mutex_t		 lock;
	uint64_t		 features;	/* offered */
	uint64_t		 acked;		/* the driver's */
	uint8_t			 status;
	uint8_t			 config_gen;
	uint8_t			 config[VIRTIO_CONFIG_MAX];
	uint32_t		 config_size;
	uint16_t		 nvqs;
	struct virtq		 vqs[VIRTIO_MAX_QUEUES];
	unsigned int		 failures;	/* NEEDS_RESET count */

	pthread_t		 thread;
	int			 running;
	int			 stopping;
	int			 ctl_fd;	/* eventfd: look again */
};

/* virtio_dev.c */
int	virtio_dev_init(struct virtio_dev *, struct vmm *,
	    const struct virtio_ops *, void *priv, const char *name,
	    uint64_t features, uint16_t nvqs, uint16_t queue_size);
void	virtio_dev_free(struct virtio_dev *);
int	virtio_dev_start(struct virtio_dev *);
void	virtio_dev_stop(struct virtio_dev *);
void	virtio_dev_destroy(struct virtio_dev *);
int	virtio_dev_has(const struct virtio_dev *, unsigned int bit);
int	virtio_dev_live(const struct virtio_dev *);
void	virtio_dev_reset(struct virtio_dev *);
void	virtio_dev_set_status(struct virtio_dev *, uint8_t);
void	virtio_dev_fail(struct virtio_dev *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	virtio_dev_signal(struct virtio_dev *, struct virtq *);
void	virtio_dev_kick(struct virtio_dev *, uint16_t q);
void	virtio_dev_wake(struct virtio_dev *);
void	virtio_dev_process(struct virtio_dev *, uint16_t q);

/* virtio_pci.c: the modern virtio-pci transport. */
#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040
#define VIRTIO_PCI_BAR_SIZE	0x4000
#define VIRTIO_PCI_COMMON_OFF	0x0000
#define VIRTIO_PCI_COMMON_LEN	0x40
#define VIRTIO_PCI_ISR_OFF	0x1000
#define VIRTIO_PCI_DEVICE_OFF	0x2000
#define VIRTIO_PCI_NOTIFY_OFF	0x3000
#define VIRTIO_PCI_NOTIFY_MULT	4

struct virtio_pci {
	struct pci_dev		 pci;
	struct virtio_dev	*dev;
	uint32_t		 dfselect, gfselect;
	uint16_t		 queue_sel;
	uint16_t		 config_vector;
	uint8_t			 isr;		/* atomic */
	uint8_t			 cfg_cap;	/* the PCI_CFG cap */
	uint64_t		 notify_gpa;	/* ioeventfds wired */
};

/*
 * Put dev on the PCI bus (devices.c does, not the device). Whenever its
 * BAR is mapped, each queue's notify address is handed to the vCPU
 * backend's ioeventfd op, if it has one; queues it refuses stay on MMIO
 * exits. Returns 0, or -1 with errno set (dev is left as it was).
 */
int	virtio_pci_create(struct pci *, struct virtio_dev *);

/*
 * The device models, on no transport yet; each returns its virtio_dev,
 * or NULL with errno set. virtio_dev_destroy() frees one.
 */
struct disk;
struct virtio_dev *virtio_blk_create(struct vmm *, struct disk *, int index);
struct virtio_dev *virtio_net_create(struct vmm *, int fd,
	    const uint8_t mac[6], int locked, uint32_t mtu, int index);
struct virtio_dev *virtio_rng_create(struct vmm *);

#endif

/*
 * The runner's core interfaces, split kvmtool-style so a second vCPU
 * backend (an interpreter) can slot in beside KVM: guest memory, the I/O
 * buses devices register on, interrupt delivery, and the ops tables of
 * the vCPU backend and the machine (x86 today).
 */
#ifndef VMM_H
#define VMM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Guest physical memory: a few regions of host memory. */
#define MEMMAP_MAX_REGIONS	4
struct memmap_region {
	uint64_t	 gpa;
	uint64_t	 size;
	uint8_t		*host;
};
struct memmap {
	struct memmap_region	regions[MEMMAP_MAX_REGIONS];
	int			nregions;
};
/*
 * The host address of guest range [gpa, gpa + len), or NULL unless the
 * whole range lies inside one region (so a guest can never make a device
 * read or write outside its RAM). len 0 is treated as 1.
 */
void	*memmap_ptr(const struct memmap *, uint64_t gpa, uint64_t len);
int	 memmap_add(struct memmap *, uint64_t gpa, uint64_t size, void *host);

/* An I/O bus (port I/O or MMIO): devices register address ranges. */
typedef void (*bus_fn)(void *opaque, uint64_t offset, uint8_t *data,
    uint32_t len, int is_write);
struct bus_range {
	uint64_t	 base;
	uint64_t	 len;
	bus_fn		 fn;
	void		*opaque;
	const char	*name;
};
#define BUS_MAX_RANGES	64
struct bus {
	struct bus_range	ranges[BUS_MAX_RANGES];
	int			nranges;
	pthread_rwlock_t	lock;
};
void	bus_init(struct bus *);
/* Returns 0, or -1 (EEXIST on overlap, ENOSPC when full). */
int	bus_register(struct bus *, uint64_t base, uint64_t len, bus_fn,
	    void *opaque, const char *name);
int	bus_unregister(struct bus *, uint64_t base);
/* Dispatch an access; returns 0, or -1 if nothing is there (reads 0xff). */
int	bus_dispatch(struct bus *, uint64_t addr, uint8_t *data, uint32_t len,
	    int is_write);

/* Interrupt delivery, implemented by the vCPU backend. */
struct irq_ops {
	void	(*line)(void *opaque, int gsi, int level);
	void	(*msi)(void *opaque, uint64_t addr, uint32_t data);
};

struct vmm;

/* A vCPU backend: KVM today, an interpreter later. */
struct vcpu_backend_ops {
	const char	*name;
	int	(*create)(struct vmm *);
	int	(*run)(struct vmm *, int cpu);	/* the vCPU thread's loop */
	void	(*kick)(struct vmm *, int cpu);	/* make run() look at vmm */
	void	(*destroy)(struct vmm *);
	/*
	 * Optional: make a len-byte MMIO write at gpa signal the eventfd
	 * fd without a vCPU exit (assign 1), or undo it (0). Returns 0, or
	 * -1 with errno set (the write then stays on the exit path).
	 */
	int	(*ioeventfd)(struct vmm *, uint64_t gpa, uint32_t len, int fd,
		    int assign);
};

/* Why the guest stopped running. */
enum vmm_exit {
	VMM_RUNNING = 0,
	VMM_POWEROFF,
	VMM_REBOOT,
	VMM_ERROR
};

/* Per-device counters for the engine's stats. */
struct vmm_counters {
	uint64_t	disk_rd_bytes, disk_wr_bytes;
	uint64_t	disk_rd_reqs, disk_wr_reqs;
	uint64_t	net_rx_bytes, net_tx_bytes;
	uint64_t	net_rx_packets, net_tx_packets;
	uint64_t	nic_rx_bytes[VM_MAX_NICS], nic_tx_bytes[VM_MAX_NICS];
	uint64_t	nic_rx_packets[VM_MAX_NICS], nic_tx_packets[VM_MAX_NICS];
};

struct vmm {
	struct proto_run_params	 params;
	struct memmap		 mem;
	uint64_t		 ram_size;
	struct bus		 pio;
	struct bus		 mmio;
	struct irq_ops		 irq;
	void			*irq_opaque;
	const struct vcpu_backend_ops *backend;
	void			*backend_data;
	int			 nvcpus;
	int			 firmware;	/* a BIOS sets up the machine */
	pthread_t		*threads;

	/* Pause: vCPU threads wait on cond while paused is set. */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	int			 paused;
	int			 npaused;	/* vCPUs parked */
	enum vmm_exit		 exit;		/* set once, ends every vCPU */
	char			 error[PROTO_TEXT_SIZE];

	struct vmm_counters	 counters;	/* updated atomically */
	uint64_t		 exits;
};

/* The fds the engine handed over, by kind (proto.h); -1 when absent. */
struct vmm_fds {
	int	kvm, kernel, initrd, bios, cdrom, pty, seed;
	int	disks[VM_MAX_DISKS];
	int	bases[VM_MAX_DISKS][VM_MAX_BASE_IMAGES];
	int	nics[VM_MAX_NICS];
};

/*
 * x86 guest physical layout: RAM from 0 up to PCI_MMIO_BASE at most, the
 * rest from 4 GiB; the PCI MMIO window for BARs lies in the e820 hole
 * below 4 GiB (not listed, so Linux keeps the host bridge's window whole);
 * the IOAPIC and LAPIC sit above it as usual.
 */
#define X86_LOWMEM_END		0xc0000000ULL
#define PCI_MMIO_BASE		0xc0000000ULL
#define PCI_MMIO_SIZE		0x3ec00000ULL	/* up to 0xfec00000 */
#define X86_HIGHMEM_BASE	0x100000000ULL

/*
 * devices.c: the PCI host bridge and every virtio device (blk per disk,
 * net per NIC, rng, scsi for the cdrom, a read-only blk for the seed). Returns 0, or -1 with vmm->error set.
 */
int	devices_create(struct vmm *, struct vmm_fds *);
/* Stop device threads and flush disks (at power-off or reboot). */
void	devices_destroy(struct vmm *);
/*
 * The fw_cfg bootorder file for the devices created: disks and CD-ROM in
 * the order the run parameters ask. Returns 0, or -1 with vmm->error set.
 */
struct fwcfg;
int	devices_bootorder(struct vmm *, struct fwcfg *);

/* Ask every vCPU to stop with why (the first reason wins). */
void	vmm_request_exit(struct vmm *, enum vmm_exit, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif

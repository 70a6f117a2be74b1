/*
 * The KVM vCPU backend. Its ops table turns notify writes into eventfd
 * signals (KVM_IOEVENTFD); besides it, it offers devices what only KVM
 * has: the VM fd for irqfd, and MSI routes (KVM keeps
 * one routing table per VM, so every route goes through here: a device
 * that set the table itself would drop the IOAPIC routes of the others).
 */
#ifndef KVM_H
#define KVM_H

#include <stddef.h>
#include <stdint.h>

struct vmm;
struct x86_boot;

/* Make KVM (the /dev/kvm fd) the backend of vmm; create() builds the VM. */
void	kvm_attach(struct vmm *, int kvm_fd);
/* The VM fd, for KVM_IRQFD and KVM_IOEVENTFD; -1 unless KVM runs vmm. */
int	kvm_vm_fd(struct vmm *);
/*
 * Route a new GSI to an MSI (for an irqfd); returns the GSI, or -1 with
 * errno set. kvm_msi_route_set() changes the message of such a GSI (the
 * guest reprogrammed the MSI-X entry); returns 0 or -1.
 */
int	kvm_msi_route_add(struct vmm *, uint64_t addr, uint32_t data);
int	kvm_msi_route_set(struct vmm *, int gsi, uint64_t addr, uint32_t data);
/*
 * Map size bytes of host memory at gpa as the guest's ROM (read-only if
 * KVM can; guest writes are then MMIO exits nothing answers). Returns 0,
 * or -1 with errno set.
 */
int	kvm_map_rom(struct vmm *, uint64_t gpa, void *host, uint64_t size);
/* Set the boot CPU's registers. Returns 0, or -1 with errno set. */
int	kvm_boot_cpu(struct vmm *, const struct x86_boot *);
/*
 * Guest RAM of size bytes (a multiple of the page size): anonymous,
 * aligned to KVM_RAM_ALIGN and marked for transparent huge pages, since
 * KVM maps a memory slot with 2 MiB pages only where host and guest
 * addresses agree modulo 2 MiB. NULL with errno set on failure.
 */
#define KVM_RAM_ALIGN	(2UL << 20)
void	*kvm_ram_alloc(size_t size);

#endif

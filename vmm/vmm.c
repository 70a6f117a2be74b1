/*
 * The runner's core, shared by every backend and device: guest memory
 * lookups that never leave guest RAM, the port I/O and MMIO buses that
 * devices register on, and the one way to stop the guest.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm.h"

void *
memmap_ptr(const struct memmap *mem, uint64_t gpa, uint64_t len)
{
	const struct memmap_region *r;
	uint64_t off;
	int i;

	if (len == 0)
		len = 1;
	for (i = 0; i < mem->nregions; i++) {
		r = &mem->regions[i];
		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		if (off >= r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

/* Add a region of RAM. Returns 0, or -1 with errno set. */
int
memmap_add(struct memmap *mem, uint64_t gpa, uint64_t size, void *host)
{
	const struct memmap_region *r;
	int i;

	if (size == 0 || host == NULL || gpa + size < gpa) {
		errno = EINVAL;
		return -1;
	}
	if (mem->nregions == MEMMAP_MAX_REGIONS) {
		errno = ENOSPC;
		return -1;
	}
	for (i = 0; i < mem->nregions; i++) {
		r = &mem->regions[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size) {
			errno = EEXIST;
			return -1;
		}
	}
	mem->regions[mem->nregions].gpa = gpa;
	mem->regions[mem->nregions].size = size;
	mem->regions[mem->nregions].host = host;
	mem->nregions++;
	return 0;
}

void
bus_init(struct bus *bus)
{
	memset(bus->ranges, 0, sizeof bus->ranges);
	bus->nranges = 0;
	pthread_rwlock_init(&bus->lock, NULL);
}

/* Ranges stay sorted by base so a listing reads like a memory map. */
int
bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_fn fn,
    void *opaque, const char *name)
{
	struct bus_range *r;
	int i, at;

	if (len == 0 || fn == NULL || base + len < base) {
		errno = EINVAL;
		return -1;
	}
	pthread_rwlock_wrlock(&bus->lock);
	at = bus->nranges;
	for (i = 0; i < bus->nranges; i++) {
		r = &bus->ranges[i];
		if (base < r->base + r->len && r->base < base + len) {
			pthread_rwlock_unlock(&bus->lock);
			errno = EEXIST;
			return -1;
		}
		if (at == bus->nranges && base < r->base)
			at = i;
	}
	if (bus->nranges == BUS_MAX_RANGES) {
		pthread_rwlock_unlock(&bus->lock);
		errno = ENOSPC;
		return -1;
	}
	memmove(&bus->ranges[at + 1], &bus->ranges[at],
	    (bus->nranges - at) * sizeof bus->ranges[0]);
	r = &bus->ranges[at];
	r->base = base;
	r->len = len;
	r->fn = fn;
	r->opaque = opaque;
	r->name = name;
	bus->nranges++;
	pthread_rwlock_unlock(&bus->lock);
	return 0;
}

/* Remove the range that starts at base. Returns 0, or -1 (ENOENT). */
int
bus_unregister(struct bus *bus, uint64_t base)
{
	int i;

	pthread_rwlock_wrlock(&bus->lock);
	for (i = 0; i < bus->nranges; i++) {
		if (bus->ranges[i].base != base)
			continue;
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
		    (bus->nranges - i - 1) * sizeof bus->ranges[0]);
		bus->nranges--;
		pthread_rwlock_unlock(&bus->lock);
		return 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	errno = ENOENT;
	return -1;
}

/*
 * The handler is called after the lock is dropped, so it may register or
 * move ranges (a BAR being programmed) without deadlocking; devices live
 * as long as the VM, so the opaque pointer stays valid. An access must lie
 * wholly inside one range; anything else reads as all ones.
 */
int
bus_dispatch(struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len,
    int is_write)
{
	const struct bus_range *r;
	bus_fn fn = NULL;
	void *opaque = NULL;
	uint64_t off = 0;
	int i;

	pthread_rwlock_rdlock(&bus->lock);
	for (i = 0; i < bus->nranges; i++) {
		r = &bus->ranges[i];
		if (addr < r->base)
			break;
		off = addr - r->base;
		if (off >= r->len)
			continue;
		if (len <= r->len - off) {
			fn = r->fn;
			opaque = r->opaque;
		}
		break;
	}
	pthread_rwlock_unlock(&bus->lock);
	if (fn == NULL) {
		if (!is_write)
			memset(data, 0xff, len);
		return -1;
	}
	fn(opaque, off, data, len, is_write);
	return 0;
}

void
vmm_request_exit(struct vmm *vmm, enum vmm_exit why, const char *fmt, ...)
{
	va_list ap;
	int i;

	pthread_mutex_lock(&vmm->lock);
	if (vmm->exit == VMM_RUNNING) {
		va_start(ap, fmt);
		vsnprintf(vmm->error, sizeof vmm->error, fmt, ap);
		va_end(ap);
		__atomic_store_n(&vmm->exit, why, __ATOMIC_SEQ_CST);
	}
	/* Parked (paused) vCPUs wake up and see it. */
	pthread_cond_broadcast(&vmm->cond);
	pthread_mutex_unlock(&vmm->lock);
	if (vmm->backend != NULL && vmm->backend->kick != NULL)
		for (i = 0; i < vmm->nvcpus; i++)
			vmm->backend->kick(vmm, i);
}


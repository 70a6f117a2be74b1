/*
 * Split virtqueues (virtio 1.1, 2.6): requests off the available ring,
 * completions onto the used ring. The rings are guest memory that other
 * CPUs write while we read, so each field is read once into a local and
 * checked there: descriptor addresses and lengths must lie in guest RAM,
 * chains may not loop or outgrow the queue, indirect tables must be sized
 * right and may not nest, device-writable buffers must follow the
 * readable ones, and the avail index may not run ahead by more than the
 * queue size. Any of these fails the device (DEVICE_NEEDS_RESET).
 */
#include <stdint.h>
#include <string.h>

#include "virtio.h"

#define compiler_barrier()	__asm__ __volatile__("" ::: "memory")

#define DESC_SIZE	16

static uint16_t
load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* The avail ring's used_event and the used ring's avail_event. */
static uint16_t *
used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *
avail_event(struct virtq *vq)
{
	return (uint16_t *)((uint8_t *)vq->used + 4 + 8 * (size_t)vq->size);
}

void
virtq_reset(struct virtq *vq)
{
	vq->size = vq->max_size;
	vq->msix_vector = VIRTIO_NO_VECTOR;
	vq->ready = 0;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->last_avail = vq->used_idx = vq->signalled = 0;
	vq->signalled_valid = 0;
}

/*
 * The driver enabled the queue: check the size and the rings' alignment
 * and place in guest RAM, and map them. Returns 0, or -1 (the device
 * needs a reset).
 */
int
virtq_enable(struct virtq *vq)
{
	struct memmap	*mem = &vq->dev->vmm->mem;
	uint64_t	 n = vq->size;

	if (n == 0 || n > vq->max_size || (n & (n - 1)) != 0) {
		virtio_dev_fail(vq->dev, "queue %u: bad size %llu", vq->index,
		    (unsigned long long)n);
		return -1;
	}
	if ((vq->desc_gpa & (VRING_DESC_ALIGN_SIZE - 1)) ||
	    (vq->avail_gpa & (VRING_AVAIL_ALIGN_SIZE - 1)) ||
	    (vq->used_gpa & (VRING_USED_ALIGN_SIZE - 1))) {
		virtio_dev_fail(vq->dev, "queue %u: misaligned ring",
		    vq->index);
		return -1;
	}
	vq->desc = memmap_ptr(mem, vq->desc_gpa, DESC_SIZE * n);
	vq->avail = memmap_ptr(mem, vq->avail_gpa, 4 + 2 * n + 2);
	vq->used = memmap_ptr(mem, vq->used_gpa, 4 + 8 * n + 2);
	if (vq->desc == NULL || vq->avail == NULL || vq->used == NULL) {
		virtio_dev_fail(vq->dev, "queue %u: ring outside guest RAM",
		    vq->index);
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -1;
	}
	vq->last_avail = vq->used_idx = vq->signalled = 0;
	vq->signalled_valid = 0;
	vq->ready = 1;
	return 0;
}

/* Read descriptor i of a table exactly once (tables may be unaligned). */
static void
desc_read(const uint8_t *table, uint32_t i, struct vring_desc *d)
{
	memcpy(d, table + (size_t)i * DESC_SIZE, sizeof *d);
	compiler_barrier();
}

/* Add one buffer to the request; -1 if it breaks a rule. */
static int
req_add(struct virtq *vq, struct virtq_req *req, const struct vring_desc *d)
{
	void	*p;
	int	 n = req->nout + req->nin;

	if (d->len == 0)
		return 0;
	if (n >= VIRTQ_MAX_SEGS) {
		virtio_dev_fail(vq->dev, "queue %u: more than %d buffers",
		    vq->index, VIRTQ_MAX_SEGS);
		return -1;
	}
	if ((p = memmap_ptr(&vq->dev->vmm->mem, d->addr, d->len)) == NULL) {
		virtio_dev_fail(vq->dev, "queue %u: buffer 0x%llx+%u outside "
		    "guest RAM", vq->index, (unsigned long long)d->addr,
		    d->len);
		return -1;
	}
	if (d->flags & VRING_DESC_F_WRITE) {
		req->iov[n].iov_base = p;
		req->iov[n].iov_len = d->len;
		req->nin++;
		req->in_len += d->len;
	} else {
		if (req->nin != 0) {
			virtio_dev_fail(vq->dev, "queue %u: readable buffer "
			    "after a writable one", vq->index);
			return -1;
		}
		req->iov[n].iov_base = p;
		req->iov[n].iov_len = d->len;
		req->nout++;
		req->out_len += d->len;
	}
	return 0;
}

/* Switch the walk over to the indirect table d points at. */
static const uint8_t *
indirect_table(struct virtq *vq, const struct vring_desc *d, int nested)
{
	const uint8_t	*table;

	if (!virtio_dev_has(vq->dev, VIRTIO_RING_F_INDIRECT_DESC)) {
		virtio_dev_fail(vq->dev, "queue %u: indirect descriptor "
		    "without the feature", vq->index);
		return NULL;
	}
	if (nested || (d->flags & VRING_DESC_F_NEXT)) {
		virtio_dev_fail(vq->dev, "queue %u: indirect descriptor %s",
		    vq->index, nested ? "in an indirect table" :
		    "with NEXT set");
		return NULL;
	}
	if (d->len == 0 || d->len % DESC_SIZE != 0 ||
	    d->len / DESC_SIZE > VIRTQ_MAX_INDIRECT) {
		virtio_dev_fail(vq->dev, "queue %u: indirect table of %u "
		    "bytes", vq->index, d->len);
		return NULL;
	}
	table = memmap_ptr(&vq->dev->vmm->mem, d->addr, d->len);
	if (table == NULL)
		virtio_dev_fail(vq->dev, "queue %u: indirect table outside "
		    "guest RAM", vq->index);
	return table;
}

int
virtq_pop(struct virtq *vq, struct virtq_req *req)
{
	const uint8_t		*table;
	struct vring_desc	 d;
	uint32_t		 tsize, i, n;
	uint16_t		 avail_idx, pending, head;
	int			 indirect = 0;

	if (!vq->ready)
		return 0;
	/* Acquire: the ring entries and descriptors were written before. */
	avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	pending = avail_idx - vq->last_avail;
	if (pending == 0)
		return 0;
	if (pending > vq->size) {
		virtio_dev_fail(vq->dev, "queue %u: avail idx %u is %u "
		    "ahead of %u", vq->index, avail_idx, pending,
		    vq->last_avail);
		return -1;
	}
	head = load16(&vq->avail->ring[vq->last_avail % vq->size]);
	if (head >= vq->size) {
		virtio_dev_fail(vq->dev, "queue %u: head %u out of range",
		    vq->index, head);
		return -1;
	}
	vq->last_avail++;

	req->head = head;
	req->nout = req->nin = 0;
	req->out_len = req->in_len = 0;
	table = (const uint8_t *)vq->desc;
	tsize = vq->size;
	i = head;
	for (n = 1;; n++) {
		if (i >= tsize) {
			virtio_dev_fail(vq->dev, "queue %u: descriptor %u "
			    "out of range", vq->index, i);
			return -1;
		}
		if (n > tsize) {
			virtio_dev_fail(vq->dev, "queue %u: chain longer than "
			    "%u descriptors", vq->index, tsize);
			return -1;
		}
		desc_read(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if ((table = indirect_table(vq, &d, indirect)) == NULL)
				return -1;
			tsize = d.len / DESC_SIZE;
			indirect = 1;
			i = 0;
			n = 0;
			continue;
		}
		if (req_add(vq, req, &d) == -1)
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 1;
		i = d.next;
	}
}

/* Give back the last n requests taken, unanswered. */
void
virtq_unpop(struct virtq *vq, uint16_t n)
{
	vq->last_avail -= n;
}

/* Write used entry k past the published index; virtq_flush shows it. */
void
virtq_fill(struct virtq *vq, uint16_t head, uint32_t len, uint16_t k)
{
	struct vring_used_elem	*e;

	e = &vq->used->ring[(uint16_t)(vq->used_idx + k) % vq->size];
	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
}

void
virtq_flush(struct virtq *vq, uint16_t n)
{
	vq->used_idx += n;
	/* Release: the entries are visible before the index that shows them. */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

void
virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	virtq_fill(vq, head, len, 0);
	virtq_flush(vq, 1);
}

/*
 * Ask to be notified of the next available entry, then look again so a
 * request added meanwhile is not missed. Returns 1 if there is more.
 */
int
virtq_enable_notify(struct virtq *vq)
{
	if (!vq->ready)
		return 0;
	if (virtio_dev_has(vq->dev, VIRTIO_RING_F_EVENT_IDX))
		store16(avail_event(vq), vq->last_avail);
	else
		store16(&vq->used->flags, 0);
	/* Our store must be seen before we read the driver's index. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) !=
	    vq->last_avail;
}

/* Whether the driver wants an interrupt for what was just published. */
int
virtq_should_signal(struct virtq *vq)
{
	uint16_t	old, new, event;
	int		valid;

	if (!vq->ready)
		return 0;
	/* Our used index must be seen before we read the driver's flags. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!virtio_dev_has(vq->dev, VIRTIO_RING_F_EVENT_IDX))
		return !(load16(&vq->avail->flags) &
		    VRING_AVAIL_F_NO_INTERRUPT);
	old = vq->signalled;
	new = vq->used_idx;
	valid = vq->signalled_valid;
	vq->signalled = new;
	vq->signalled_valid = 1;
	if (!valid)
		return 1;
	event = load16(used_event(vq));
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/* Copy from the readable buffers at off; the bytes copied. */
size_t
virtq_req_read(const struct virtq_req *req, size_t off, void *buf,
    size_t len)
{
	return iov_to(req->iov, req->nout, off, buf, len);
}

/* Copy into the writable buffers at off; the bytes copied. */
size_t
virtq_req_write(struct virtq_req *req, size_t off, const void *buf,
    size_t len)
{
	return iov_from(req->iov + req->nout, req->nin, off, buf, len);
}

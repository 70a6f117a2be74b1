/*
 * Frame rings in a sealed memfd (see framering.h). The file holds two
 * index pages, then the two data areas: ring 0 carries frames from the
 * helper to the runner, ring 1 from the runner to the helper. A record is
 * an 8-byte header (the frame's length) and the frame, padded to 8 bytes;
 * a record never wraps: a pad header (length FRAMERING_PAD) sends the
 * consumer back to the start.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "framering.h"

#define FRAMERING_PAD		0xffffffffU
#define FRAMERING_HDR		8
#define FRAMERING_PAGE		4096
#define FRAMERING_SIZE		(2 * FRAMERING_PAGE + 2 * FRAMERING_DATA)
#define FRAMERING_SEALS		(F_SEAL_SHRINK | F_SEAL_GROW)

/* One ring's indexes, each on its own cache line. */
struct framering_shared {
	uint64_t	head;		/* the producer's */
	uint8_t		pad0[56];
	uint64_t	tail;		/* the consumer's */
	uint8_t		pad1[56];
	uint32_t	consumer_sleeps;
	uint8_t		pad2[60];
	uint32_t	producer_waits;
	uint8_t		pad3[60];
};

_Static_assert(sizeof(struct framering_shared) <= FRAMERING_PAGE,
    "ring indexes fit a page");

static size_t
record_size(size_t len)
{
	return FRAMERING_HDR + ((len + 7) & ~(size_t)7);
}

int
framering_create(void)
{
	int	fd, saved;

	if ((fd = memfd_create("vmtop-framering", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	if (ftruncate(fd, FRAMERING_SIZE) == -1 ||
	    fcntl(fd, F_ADD_SEALS, FRAMERING_SEALS | F_SEAL_SEAL) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int
framering_map(int fd, enum framering_side side, struct framering_pair *p)
{
	struct stat	 st;
	uint8_t		*m;
	int		 seals, out = side == FRAMERING_HELPER ? 0 : 1;

	memset(p, 0, sizeof *p);
	if (fstat(fd, &st) == -1)
		return -1;
	seals = fcntl(fd, F_GET_SEALS);
	if (!S_ISREG(st.st_mode) || st.st_size != FRAMERING_SIZE ||
	    seals == -1 || (seals & FRAMERING_SEALS) != FRAMERING_SEALS) {
		errno = EINVAL;
		return -1;
	}
	m = mmap(NULL, FRAMERING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (m == MAP_FAILED)
		return -1;
	p->map = m;
	p->maplen = FRAMERING_SIZE;
	p->tx.sh = (struct framering_shared *)(m + out * FRAMERING_PAGE);
	p->tx.data = m + 2 * FRAMERING_PAGE + out * FRAMERING_DATA;
	p->rx.sh = (struct framering_shared *)(m + (1 - out) *
	    FRAMERING_PAGE);
	p->rx.data = m + 2 * FRAMERING_PAGE + (1 - out) * FRAMERING_DATA;
	/*
	 * Start where the rings are (a fresh file has them at 0); records
	 * are 8-byte aligned, and only an aligned start keeps every header
	 * inside the data area.
	 */
	p->tx.pos = __atomic_load_n(&p->tx.sh->head, __ATOMIC_ACQUIRE);
	p->rx.pos = __atomic_load_n(&p->rx.sh->tail, __ATOMIC_ACQUIRE);
	if ((p->tx.pos & 7) != 0 || (p->rx.pos & 7) != 0) {
		framering_unmap(p);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void
framering_unmap(struct framering_pair *p)
{
	if (p->map != NULL)
		munmap(p->map, p->maplen);
	memset(p, 0, sizeof *p);
}

int
framering_broken(const struct framering *r)
{
	return r->broken;
}

/* Bytes the producer may still write, or -1 when the tail is nonsense. */
static int64_t
ring_room(struct framering *r)
{
	uint64_t	tail = __atomic_load_n(&r->sh->tail, __ATOMIC_ACQUIRE);
	uint64_t	used = r->pos - tail;

	if (used > FRAMERING_DATA || (used & 7) != 0) {
		r->broken = 1;
		return -1;
	}
	return FRAMERING_DATA - used;
}

/* Bytes a record of len needs from pos on, the pad before it included. */
static size_t
ring_need(const struct framering *r, size_t len)
{
	size_t	off = r->pos % FRAMERING_DATA, need = record_size(len);

	return need > FRAMERING_DATA - off ? FRAMERING_DATA - off + need :
	    need;
}

int
framering_push(struct framering *r, const struct iovec *iov, int niov,
    size_t len)
{
	uint32_t	 hdr[2] = { 0, 0 };
	uint8_t		*dst;
	size_t		 off, n, done = 0;
	int64_t		 room;
	int		 i;

	if (r->broken || len == 0 || len > FRAMERING_MAX_FRAME)
		return -1;
	if ((room = ring_room(r)) == -1)
		return -1;
	if ((size_t)room < ring_need(r, len))
		return 0;
	off = r->pos % FRAMERING_DATA;
	if (record_size(len) > FRAMERING_DATA - off) {
		hdr[0] = FRAMERING_PAD;
		memcpy(r->data + off, hdr, sizeof hdr);
		r->pos += FRAMERING_DATA - off;
		off = 0;
	}
	hdr[0] = len;
	memcpy(r->data + off, hdr, sizeof hdr);
	dst = r->data + off + FRAMERING_HDR;
	for (i = 0; i < niov && done < len; i++) {
		n = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
		memcpy(dst + done, iov[i].iov_base, n);
		done += n;
	}
	if (done < len)
		memset(dst + done, 0, len - done);
	r->pos += record_size(len);
	__atomic_store_n(&r->sh->head, r->pos, __ATOMIC_RELEASE);
	return 1;
}

int
framering_consumer_asleep(struct framering *r)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_exchange_n(&r->sh->consumer_sleeps, 0,
	    __ATOMIC_SEQ_CST) != 0;
}

int
framering_want_space(struct framering *r, size_t len)
{
	int64_t	room;

	if (r->broken)
		return 0;
	__atomic_store_n(&r->sh->producer_waits, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if ((room = ring_room(r)) == -1)
		return 0;
	return (size_t)room >= ring_need(r, len);
}

/* Bytes published and not consumed, or -1 when the head is nonsense. */
static int64_t
ring_avail(struct framering *r)
{
	uint64_t	head = __atomic_load_n(&r->sh->head, __ATOMIC_ACQUIRE);
	uint64_t	avail = head - r->pos;

	if (avail > FRAMERING_DATA || (avail & 7) != 0) {
		r->broken = 1;
		return -1;
	}
	return avail;
}

const uint8_t *
framering_peek(struct framering *r, size_t *len)
{
	uint32_t	hdr;
	int64_t		avail;
	size_t		off;

	*len = 0;
	if (r->broken || (avail = ring_avail(r)) <= 0)
		return NULL;
	off = r->pos % FRAMERING_DATA;
	hdr = __atomic_load_n((uint32_t *)(r->data + off), __ATOMIC_RELAXED);
	if (hdr == FRAMERING_PAD) {
		if ((size_t)avail < FRAMERING_DATA - off + FRAMERING_HDR) {
			r->broken = 1;
			return NULL;
		}
		avail -= FRAMERING_DATA - off;
		r->pos += FRAMERING_DATA - off;
		off = 0;
		hdr = __atomic_load_n((uint32_t *)r->data, __ATOMIC_RELAXED);
	}
	if (hdr == 0 || hdr > FRAMERING_MAX_FRAME ||
	    record_size(hdr) > FRAMERING_DATA - off ||
	    record_size(hdr) > (size_t)avail) {
		r->broken = 1;
		return NULL;
	}
	*len = hdr;
	return r->data + off + FRAMERING_HDR;
}

void
framering_pop(struct framering *r)
{
	size_t		 len;
	const uint8_t	*f;

	/* Peek again: the length in the ring may have changed meanwhile. */
	if ((f = framering_peek(r, &len)) == NULL)
		return;
	r->pos += record_size(len);
	__atomic_store_n(&r->sh->tail, r->pos, __ATOMIC_RELEASE);
}

int
framering_producer_waits(struct framering *r)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_exchange_n(&r->sh->producer_waits, 0,
	    __ATOMIC_SEQ_CST) != 0;
}

int
framering_want_frames(struct framering *r)
{
	int64_t	avail;

	if (r->broken)
		return 0;
	__atomic_store_n(&r->sh->consumer_sleeps, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if ((avail = ring_avail(r)) == -1)
		return 0;
	return avail > 0;
}

int
framering_bells_create(int bells[2])
{
	bells[FRAMERING_BELL_RUNNER] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	bells[FRAMERING_BELL_HELPER] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (bells[0] != -1 && bells[1] != -1)
		return 0;
	if (bells[0] != -1)
		close(bells[0]);
	if (bells[1] != -1)
		close(bells[1]);
	bells[0] = bells[1] = -1;
	return -1;
}

void
framering_bell_ring(int fd)
{
	uint64_t	one = 1;

	(void)!write(fd, &one, sizeof one);
}

void
framering_bell_take(int fd)
{
	uint64_t	n;

	(void)!read(fd, &n, sizeof n);
}

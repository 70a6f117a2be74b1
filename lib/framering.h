/*
 * Frame rings: Ethernet frames between vmtop-slirp and the runner through
 * shared memory instead of the socket, one single-producer single-consumer
 * ring each way. The socketpair stays: it carries the offer of the ring
 * (a memfd, sealed against resizing, passed with SCM_RIGHTS), its
 * acceptance, and doorbells (datagrams shorter than an Ethernet header)
 * for a side that sleeps; its hang-up still ends the helper. An offer
 * may bring two eventfds after the memfd, one doorbell each way: then
 * those ring instead of the socket. An eventfd's wake-up is cheaper than a
 * datagram's and, unlike a unix socket's, asks the scheduler for no
 * hand-over to the writer's CPU, where the sleeper would queue behind it.
 *
 * Each side keeps its own copy of the index it owns and only reads the
 * other's, so a peer that scribbles over the shared page can make frames
 * wrong or lost, never make the other side read or write outside the
 * ring: every record is checked against the ring's bounds before use.
 */
#ifndef FRAMERING_H
#define FRAMERING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define FRAMERING_DATA		(1 << 20)	/* bytes each way */
#define FRAMERING_MAX_FRAME	65536
#define FRAMERING_MAGIC		"vmtop-framering1"	/* 16 bytes */
#define FRAMERING_CTL_SIZE	16	/* offer and accept datagrams */
#define FRAMERING_DOORBELL	1	/* a doorbell's size */
#define FRAMERING_OFFER_FDS	3	/* memfd, then FRAMERING_BELL_* */
#define FRAMERING_BELL_RUNNER	0	/* rung by the helper */
#define FRAMERING_BELL_HELPER	1	/* rung by the runner */

/* Which ring of the pair a side produces into. */
enum framering_side {
	FRAMERING_HELPER,	/* produces toward the runner */
	FRAMERING_RUNNER,	/* produces toward the helper */
};

struct framering_shared;

struct framering {
	struct framering_shared	*sh;
	uint8_t			*data;
	uint64_t		 pos;	/* our index: head or tail */
	int			 broken;
};

struct framering_pair {
	void			*map;
	size_t			 maplen;
	struct framering	 tx;	/* we produce */
	struct framering	 rx;	/* we consume */
};

/* A sealed memfd sized for a pair; -1 with errno set. */
int	framering_create(void);
/*
 * Map fd (checked: a memfd of the right size that cannot grow or shrink)
 * as side's pair. Returns 0, or -1 with errno set.
 */
int	framering_map(int fd, enum framering_side side,
	    struct framering_pair *);
void	framering_unmap(struct framering_pair *);

/*
 * Producer: copy a frame of len bytes gathered from iov. Returns 1 when
 * queued, 0 when the ring has no room (framering_want_space, then retry
 * after a doorbell), -1 when the ring is broken or len is out of range.
 */
int	framering_push(struct framering *, const struct iovec *iov, int niov,
	    size_t len);
/* Producer: after pushes, does the consumer sleep and need a doorbell? */
int	framering_consumer_asleep(struct framering *);
/*
 * Producer, the ring full: ask for a doorbell when room is made.
 * Returns 1 when there is room already (retry now), 0 to wait.
 */
int	framering_want_space(struct framering *, size_t len);

/*
 * Consumer: the next frame, or NULL with *len 0 when the ring is empty
 * (or broken: see framering_broken). The frame stays in the ring until
 * framering_pop; it is shared memory, so copy it before trusting it.
 */
const uint8_t *framering_peek(struct framering *, size_t *len);
void	framering_pop(struct framering *);
/* Consumer: after pops, does the producer wait for room? */
int	framering_producer_waits(struct framering *);
/*
 * Consumer, the ring empty: ask for a doorbell on the next frame.
 * Returns 1 when a frame came meanwhile (go on), 0 to sleep.
 */
int	framering_want_frames(struct framering *);

int	framering_broken(const struct framering *);

/* Two non-blocking eventfds, indexed by FRAMERING_BELL_*; -1 on error. */
int	framering_bells_create(int bells[2]);
/*
 * Ring an eventfd doorbell, or take its rings (so poll sleeps again).
 * Both only read or write 8 bytes without blocking (the fd is the peer's
 * choice: whatever it is, nothing else is done with it).
 */
void	framering_bell_ring(int fd);
void	framering_bell_take(int fd);

#endif

/*
 * libFuzzer target for the frame rings (lib/framering.c): both sides of
 * a pair, mapped in this one process, and a third raw mapping of the
 * file that plays the hostile peer. The first byte says how many of the
 * operations that follow come before the sides are mapped (so a poked
 * start position is seen by framering_map); the rest of the input is a
 * little program, an opcode byte and its arguments each: push on either
 * side's tx ring (one frame or a burst, 1..65536 bytes from the input or
 * a pattern, gathered from up to three iovecs), peek and copy, pop, drain
 * on either side's rx ring, write bytes over the index pages or the data
 * areas (absolute, at an index field, near a side's position), the
 * doorbell calls, and remapping a side.
 *
 * Whatever was written into the file, a peeked frame must lie inside the
 * consumer's data area, a push must write only its record (and pad) in
 * the producer's, positions stay aligned, a broken ring stays broken and
 * refuses pushes. As long as nobody has written over a ring's indexes or
 * data, a model of it must agree with the library exactly: what push and
 * want_space answer, which frame peek returns and its bytes, where the
 * indexes are, and that it is never broken. The mappings are MAP_SHARED,
 * which the sanitizers do not guard, so the bounds are checked by hand.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "framering.h"

#define PAGE		4096
#define DATA		FRAMERING_DATA
#define RAW_SIZE	(2 * PAGE + 2 * (size_t)DATA)
#define HDR		8
#define PAD		0xffffffffU
#define OFF_HEAD	0
#define OFF_TAIL	64
#define OFF_SLEEPS	128
#define OFF_WAITS	192
#define INDEX_BYTES	128	/* head and tail, with their padding */
#define MAX_RECORDS	(DATA / 16)
#define BURST_MAX	4096

enum {
	OP_PUSH,
	OP_PEEK,
	OP_PEEK_POP,
	OP_POP,
	OP_PUSH_MANY,
	OP_DRAIN,
	OP_POKE_RAW,
	OP_POKE_INDEX,
	OP_POKE_DATA,
	OP_WANT_FRAMES,
	OP_WANT_SPACE,
	OP_CONSUMER_ASLEEP,
	OP_PRODUCER_WAITS,
	OP_REMAP,
	OP_COUNT
};

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A frame in flight: its bytes are src (srclen of them), then zeros. */
struct frame {
	const uint8_t	*src;
	size_t		 srclen;
	uint32_t	 len;
	uint64_t	 start;		/* its header, past any pad */
};

/* Ring r is produced by side r (its tx) and consumed by side 1 - r. */
struct model {
	int		 tainted;	/* its indexes or data were poked */
	uint64_t	 head, tail;
	size_t		 first, count;
	struct frame	 q[MAX_RECORDS];
};

struct in {
	const uint8_t	*p;
	size_t		 n;
};

static uint8_t			*raw;
static int			 fd = -1;
static struct framering_pair	 pair[2];
static int			 mapped[2];
static int			 broken_tx[2], broken_rx[2];
static struct model		 model[2];
static uint8_t			 pattern[FRAMERING_MAX_FRAME + 256];
static uint8_t			 copy[FRAMERING_MAX_FRAME];

static uint8_t
get8(struct in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t
get16(struct in *in)
{
	uint16_t	v = get8(in);

	return v | get8(in) << 8;
}

static uint32_t
get24(struct in *in)
{
	uint32_t	v = get16(in);

	return v | (uint32_t)get8(in) << 16;
}

static uint64_t
get64(struct in *in)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)get8(in) << (8 * i);
	return v;
}

/* Up to want bytes of the input, in place. */
static const uint8_t *
take(struct in *in, size_t want, size_t *got)
{
	const uint8_t	*p = in->p;

	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

static size_t
record_size(size_t len)
{
	return HDR + ((len + 7) & ~(size_t)7);
}

static uint64_t
raw64(int ring, size_t field)
{
	uint64_t	v;

	memcpy(&v, raw + ring * PAGE + field, sizeof v);
	return v;
}

static uint32_t
raw32(int ring, size_t field)
{
	uint32_t	v;

	memcpy(&v, raw + ring * PAGE + field, sizeof v);
	return v;
}

static uint8_t *
raw_data(int ring)
{
	return raw + 2 * PAGE + (size_t)ring * DATA;
}

static void
init(void)
{
	struct stat	st;
	uint32_t	x = 2463534242U;
	size_t		i;

	if ((fd = framering_create()) == -1 || fstat(fd, &st) == -1 ||
	    (size_t)st.st_size != RAW_SIZE)
		abort();
	raw = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	if (raw == MAP_FAILED)
		abort();
	for (i = 0; i < sizeof pattern; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = x;
	}
}

static int
overlaps(size_t off, size_t n, size_t start, size_t len)
{
	return off < start + len && start < off + n;
}

/* The peer writes n bytes at off of the file. */
static void
poke(size_t off, const uint8_t *b, size_t n)
{
	int	r;

	if (off >= RAW_SIZE || n == 0)
		return;
	if (n > RAW_SIZE - off)
		n = RAW_SIZE - off;
	memcpy(raw + off, b, n);
	for (r = 0; r < 2; r++)
		if (overlaps(off, n, (size_t)r * PAGE, INDEX_BYTES) ||
		    overlaps(off, n, 2 * PAGE + (size_t)r * DATA, DATA))
			model[r].tainted = 1;
}

/* A frame's bytes against what was pushed. */
static int
same_frame(const uint8_t *got, size_t len, const uint8_t *src,
    size_t srclen)
{
	size_t	n = srclen < len ? srclen : len, i;

	if (n > 0 && memcmp(got, src, n) != 0)
		return 0;
	for (i = n; i < len; i++)
		if (got[i] != 0)
			return 0;
	return 1;
}

static void
map_side(int s)
{
	struct framering_pair	*p = &pair[s];
	uint8_t			*m;
	uint64_t		 head = raw64(s, OFF_HEAD);
	uint64_t		 tail = raw64(1 - s, OFF_TAIL);

	broken_tx[s] = broken_rx[s] = 0;
	if (framering_map(fd, s == 0 ? FRAMERING_HELPER : FRAMERING_RUNNER,
	    p) == -1) {
		/* Only an unaligned start position is refused. */
		if (((head | tail) & 7) == 0 || p->map != NULL)
			abort();
		mapped[s] = 0;
		return;
	}
	m = p->map;
	if (m == NULL || p->maplen != RAW_SIZE ||
	    (uint8_t *)p->tx.sh != m + (size_t)s * PAGE ||
	    (uint8_t *)p->rx.sh != m + (size_t)(1 - s) * PAGE ||
	    p->tx.data != m + 2 * PAGE + (size_t)s * DATA ||
	    p->rx.data != m + 2 * PAGE + (size_t)(1 - s) * DATA ||
	    p->tx.pos != head || p->rx.pos != tail ||
	    p->tx.broken || p->rx.broken)
		abort();
	mapped[s] = 1;
}

static void
unmap_side(int s)
{
	framering_unmap(&pair[s]);
	if (pair[s].map != NULL)
		abort();
	mapped[s] = 0;
}

/* What the model says a push of len would answer. */
static int
model_room(const struct model *md, size_t len, uint64_t *start)
{
	size_t	off = md->head % DATA, rs = record_size(len), need;

	need = rs > DATA - off ? DATA - off + rs : rs;
	*start = rs > DATA - off ? md->head + DATA - off : md->head;
	return DATA - (md->head - md->tail) >= need;
}

static int
push(int s, size_t len, const uint8_t *src, size_t srclen, int niov,
    uint8_t split)
{
	struct framering	*t = &pair[s].tx;
	struct model		*md = &model[s];
	struct iovec		 iov[3];
	struct frame		*f;
	uint64_t		 old = t->pos, start = 0;
	size_t			 a, b, off0, rs, off;
	uint32_t		 hdr[2];
	int			 rc, was = framering_broken(t), expect = -1;

	if (!mapped[s])
		return -1;
	if (niov == 0)
		srclen = 0;
	a = srclen * (split & 15) / 16;
	b = a + (srclen - a) * (split >> 4) / 16;
	iov[0].iov_base = (void *)src;
	iov[0].iov_len = niov == 1 ? srclen : a;
	iov[1].iov_base = (void *)(src + a);
	iov[1].iov_len = niov == 2 ? srclen - a : b - a;
	iov[2].iov_base = (void *)(src + b);
	iov[2].iov_len = srclen - b;
	if (!md->tainted && len >= 1 && len <= FRAMERING_MAX_FRAME)
		expect = model_room(md, len, &start);

	rc = framering_push(t, iov, niov, len);

	if (rc < -1 || rc > 1 || (was && rc != -1) ||
	    ((len == 0 || len > FRAMERING_MAX_FRAME) && rc != -1))
		abort();
	if (rc != 1) {
		/* Nothing written; -1 on a good length means broken. */
		if (t->pos != old || (rc == -1 && len >= 1 &&
		    len <= FRAMERING_MAX_FRAME && !framering_broken(t)))
			abort();
	} else {
		/* The record, after a pad or not, inside the data area. */
		off0 = old % DATA;
		rs = record_size(len);
		if (t->pos - old == rs) {
			if (off0 + rs > DATA)
				abort();
			off = off0;
		} else {
			if (t->pos - old != DATA - off0 + rs ||
			    rs <= DATA - off0)
				abort();
			memcpy(hdr, raw_data(s) + off0, sizeof hdr);
			if (hdr[0] != PAD)
				abort();
			off = 0;
		}
		memcpy(hdr, raw_data(s) + off, sizeof hdr);
		if (hdr[0] != len || hdr[1] != 0 ||
		    raw64(s, OFF_HEAD) != t->pos ||
		    !same_frame(raw_data(s) + off + HDR, len, src, srclen))
			abort();
	}
	if (!md->tainted && len >= 1 && len <= FRAMERING_MAX_FRAME) {
		if (rc != expect)
			abort();
		if (rc == 1) {
			if (md->count == MAX_RECORDS)
				abort();
			f = &md->q[(md->first + md->count++) % MAX_RECORDS];
			f->src = src;
			f->srclen = srclen;
			f->len = len;
			f->start = start;
			md->head = start + record_size(len);
			if (t->pos != md->head)
				abort();
		}
	}
	return rc;
}

/* Peek (and copy), then pop if asked; whether a frame was there. */
static int
peek(int s, int peeking, int popping)
{
	struct framering	*r = &pair[s].rx;
	struct model		*md = &model[1 - s];
	struct frame		*f = NULL;
	const uint8_t		*p = NULL;
	uint64_t		 old = r->pos, mid = r->pos;
	size_t			 len = 0;
	int			 was = framering_broken(r);

	if (!mapped[s])
		return 0;
	if (!md->tainted && md->count > 0)
		f = &md->q[md->first];
	if (peeking) {
		len = 12345;
		p = framering_peek(r, &len);
		if (p == NULL) {
			if (len != 0)
				abort();
		} else {
			if (was || len == 0 || len > FRAMERING_MAX_FRAME ||
			    p < r->data + HDR || (p - r->data) % 8 != 0 ||
			    (size_t)(p - r->data) + record_size(len) - HDR >
			    DATA)
				abort();
			memcpy(copy, p, len);
		}
		if ((was && r->pos != old) || r->pos - old > DATA)
			abort();
		if (!md->tainted) {
			if ((f == NULL) != (p == NULL))
				abort();
			if (f != NULL && (p != r->data + f->start % DATA +
			    HDR || len != f->len || r->pos != f->start ||
			    !same_frame(copy, len, f->src, f->srclen)))
				abort();
		}
	}
	if (popping) {
		mid = r->pos;
		framering_pop(r);
		if ((was && r->pos != mid) || r->pos - mid > DATA ||
		    r->pos % 8 != 0)
			abort();
		if (!framering_broken(r) && r->pos != mid &&
		    raw64(1 - s, OFF_TAIL) != r->pos)
			abort();
		if (!md->tainted) {
			if (f == NULL) {
				if (r->pos != mid)
					abort();
			} else {
				md->tail = f->start + record_size(f->len);
				md->first = (md->first + 1) % MAX_RECORDS;
				md->count--;
				if (r->pos != md->tail)
					abort();
			}
		}
	}
	return peeking ? p != NULL : r->pos != mid;
}

static void
want_frames(int s)
{
	struct framering	*r = &pair[s].rx;
	struct model		*md = &model[1 - s];
	uint32_t		 before = raw32(1 - s, OFF_SLEEPS);
	int			 rc, was = framering_broken(r);

	if (!mapped[s])
		return;
	rc = framering_want_frames(r);
	if (rc < 0 || rc > 1 || (was && (rc != 0 ||
	    raw32(1 - s, OFF_SLEEPS) != before)) ||
	    (!was && raw32(1 - s, OFF_SLEEPS) != 1) ||
	    (rc == 1 && framering_broken(r)))
		abort();
	if (!md->tainted && rc != (md->count > 0))
		abort();
}

static void
want_space(int s, size_t len)
{
	struct framering	*t = &pair[s].tx;
	struct model		*md = &model[s];
	uint64_t		 start;
	uint32_t		 before = raw32(s, OFF_WAITS);
	int			 rc, was = framering_broken(t);

	if (!mapped[s])
		return;
	rc = framering_want_space(t, len);
	if (rc < 0 || rc > 1 || (was && (rc != 0 ||
	    raw32(s, OFF_WAITS) != before)) ||
	    (!was && raw32(s, OFF_WAITS) != 1) ||
	    (rc == 1 && framering_broken(t)))
		abort();
	if (!md->tainted && rc != model_room(md, len, &start))
		abort();
}

/* The doorbell flags: each call takes its flag, whoever set it. */
static void
flag(int s, int consumer_asleep)
{
	int		ring = consumer_asleep ? s : 1 - s;
	size_t		field = consumer_asleep ? OFF_SLEEPS : OFF_WAITS;
	uint32_t	before = raw32(ring, field);
	int		rc;

	if (!mapped[s])
		return;
	rc = consumer_asleep ? framering_consumer_asleep(&pair[s].tx) :
	    framering_producer_waits(&pair[s].rx);
	if (rc != (before != 0) || raw32(ring, field) != 0)
		abort();
}

/* Positions the peer can aim at: a side's own, or the file's. */
static uint64_t
producer_pos(int ring)
{
	return mapped[ring] ? pair[ring].tx.pos : raw64(ring, OFF_HEAD);
}

static uint64_t
consumer_pos(int ring)
{
	return mapped[1 - ring] ? pair[1 - ring].rx.pos :
	    raw64(ring, OFF_TAIL);
}

static void
poke_index(struct in *in)
{
	static const size_t	 fields[4] = { OFF_HEAD, OFF_TAIL, OFF_SLEEPS,
	    OFF_WAITS };
	uint8_t			 sel = get8(in);
	int			 ring = sel & 1;
	size_t			 field = fields[(sel >> 1) & 3];
	int64_t			 delta = (int16_t)get16(in);
	uint64_t		 v;

	if (sel & 0x20)
		delta *= 8;
	switch ((sel >> 3) & 3) {
	case 0:
		v = get64(in);
		break;
	case 1:
		v = raw64(ring, field) + delta;
		break;
	case 2:
		v = producer_pos(ring) + delta;
		break;
	default:
		v = consumer_pos(ring) + delta;
		break;
	}
	poke((size_t)ring * PAGE + field, (uint8_t *)&v,
	    field >= OFF_SLEEPS ? 4 : 8);
}

static void
poke_data(struct in *in)
{
	static const uint8_t	 zero[8];
	uint8_t			 sel = get8(in);
	int			 ring = sel & 1;
	uint64_t		 base = sel & 2 ? consumer_pos(ring) :
				     producer_pos(ring);
	int64_t			 delta = (int16_t)get16(in);
	size_t			 n = 1 + ((sel >> 3) & 7), off;
	const uint8_t		*b;
	uint32_t		 v;

	if (sel & 4)
		delta *= 8;
	off = 2 * PAGE + (size_t)ring * DATA + (base + delta) % DATA;
	switch (sel >> 6) {
	case 0:
		b = take(in, n, &n);
		poke(off, b, n);
		break;
	case 1:
		v = PAD;
		poke(off, (uint8_t *)&v, 4);
		break;
	case 2:
		v = get24(in) & 0x1ffff;
		poke(off, (uint8_t *)&v, 4);
		break;
	default:
		poke(off, zero, n);
		break;
	}
}

static void
run(struct in *in)
{
	uint8_t		 c = get8(in), a, split;
	int		 s = c >> 7, op = (c & 15) % OP_COUNT, var = c >> 4 & 7;
	int		 i, n;
	size_t		 len, srclen, off;
	const uint8_t	*src;
	uint64_t	 tx[2], rx[2];

	for (i = 0; i < 2; i++) {
		tx[i] = pair[i].tx.pos;
		rx[i] = pair[i].rx.pos;
	}
	switch (op) {
	case OP_PUSH:
		len = (size_t)get16(in) + 1;
		a = get8(in);
		split = get8(in);
		if ((a & 0x60) == 0x60)	/* out of range, now and then */
			len = a & 0x80 ? FRAMERING_MAX_FRAME + 1 + (a & 7) : 0;
		if (a & 1) {
			src = take(in, (a >> 1 & 15) * 16 + 1, &srclen);
			if (a & 0x10)
				len = srclen > 0 ? srclen : 1;
		} else {
			src = pattern + a;
			srclen = len - (a & 0x10 ? (a >> 1 & 7) * 4 : 0);
			if (srclen > len || srclen > FRAMERING_MAX_FRAME)
				srclen = 0;
		}
		push(s, len, src, srclen, var & 3, split);
		break;
	case OP_PEEK:
		peek(s, 1, 0);
		break;
	case OP_PEEK_POP:
		peek(s, 1, 1);
		break;
	case OP_POP:
		peek(s, 0, 1);
		break;
	case OP_PUSH_MANY:
		n = 1 + get8(in);
		len = (size_t)get16(in) + 1;
		for (i = 0; i < n; i++)
			if (push(s, len, pattern + (i & 255), len, 1 + i % 3,
			    i * 37) != 1)
				break;
		break;
	case OP_DRAIN:
		for (i = 0; i < BURST_MAX; i++)
			if (!peek(s, var & 1 ? 0 : 1, 1))
				break;
		break;
	case OP_POKE_RAW:
		off = var & 1 ? get16(in) % (2 * PAGE) : get24(in) % RAW_SIZE;
		src = take(in, 1 + get8(in) % 16, &srclen);
		poke(off, src, srclen);
		break;
	case OP_POKE_INDEX:
		poke_index(in);
		break;
	case OP_POKE_DATA:
		poke_data(in);
		break;
	case OP_WANT_FRAMES:
		want_frames(s);
		break;
	case OP_WANT_SPACE:
		want_space(s, (size_t)get16(in) + 1);
		break;
	case OP_CONSUMER_ASLEEP:
		flag(s, 1);
		break;
	case OP_PRODUCER_WAITS:
		flag(s, 0);
		break;
	case OP_REMAP:
		unmap_side(s);
		map_side(s);
		return;
	}

	/* Positions move forward, and only for the side that moved them. */
	for (i = 0; i < 2; i++) {
		if (pair[i].tx.pos - tx[i] > 2 * DATA ||
		    pair[i].rx.pos - rx[i] > 2 * DATA)
			abort();
		if (pair[i].tx.pos != tx[i] && (i != s ||
		    (op != OP_PUSH && op != OP_PUSH_MANY)))
			abort();
		if (pair[i].rx.pos != rx[i] && (i != s || (op != OP_PEEK &&
		    op != OP_PEEK_POP && op != OP_POP && op != OP_DRAIN)))
			abort();
	}
}

/* After every operation, on each side and ring. */
static void
check(void)
{
	struct model	*md;
	int		 s, r;

	for (s = 0; s < 2; s++) {
		if (!mapped[s])
			continue;
		if ((pair[s].tx.pos & 7) != 0 || (pair[s].rx.pos & 7) != 0 ||
		    (broken_tx[s] && !framering_broken(&pair[s].tx)) ||
		    (broken_rx[s] && !framering_broken(&pair[s].rx)))
			abort();
		broken_tx[s] = framering_broken(&pair[s].tx);
		broken_rx[s] = framering_broken(&pair[s].rx);
	}
	for (r = 0; r < 2; r++) {
		md = &model[r];
		if (md->tainted)
			continue;
		if (raw64(r, OFF_HEAD) != md->head ||
		    raw64(r, OFF_TAIL) != md->tail ||
		    md->head - md->tail > DATA ||
		    (mapped[r] && (pair[r].tx.pos != md->head ||
		    broken_tx[r])) || (mapped[1 - r] && (broken_rx[1 - r] ||
		    pair[1 - r].rx.pos - md->tail > md->head - md->tail)))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in	in = { data, size };
	int		pre, s, r;

	if (raw == NULL)
		init();
	if (size == 0)
		return 0;
	for (s = 0; s < 2; s++)
		unmap_side(s);
	memset(raw, 0, RAW_SIZE);
	for (r = 0; r < 2; r++) {
		model[r].tainted = 0;
		model[r].head = model[r].tail = 0;
		model[r].first = model[r].count = 0;
	}

	/* A few pokes before the sides map the file. */
	pre = get8(&in) & 3;
	while (pre-- > 0 && in.n > 0)
		run(&in);
	for (s = 0; s < 2; s++) {
		unmap_side(s);	/* a remap among them maps it early */
		map_side(s);
	}
	for (r = 0; r < 2; r++) {
		model[r].head = raw64(r, OFF_HEAD);
		model[r].tail = raw64(r, OFF_TAIL);
		if (model[r].head - model[r].tail > DATA)
			model[r].tainted = 1;
	}
	check();
	while (in.n > 0) {
		run(&in);
		check();
	}
	return 0;
}

/*
 * The MC146818 real time clock and its 128 bytes of CMOS RAM at ports
 * 0x70 (index; bit 7 masks NMI and is ignored) and 0x71 (data), as
 * SeaBIOS and Linux drive it. The clock is the host's UTC plus an offset
 * that the guest sets by writing the time registers, in BCD or binary,
 * 12- or 24-hour form as register B says. Register A's update-in-progress
 * bit shows during the last 244 us of each second, so a poll for it to
 * clear always ends. A thread of the device sets the periodic, update
 * and alarm flags of register C on time; IRQ 8 stays high while an
 * enabled flag is set, until the guest reads register C.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "hw.h"
#include "vmm.h"
#include "xmalloc.h"

#define CMOS_SIZE	128

/* The clock's registers. */
#define REG_SEC		0x00
#define REG_SEC_ALARM	0x01
#define REG_MIN		0x02
#define REG_MIN_ALARM	0x03
#define REG_HOUR	0x04
#define REG_HOUR_ALARM	0x05
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MON		0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_SHUTDOWN	0x0f
#define REG_CENTURY	0x32

#define A_UIP		0x80
#define A_DV_MASK	0x70	/* divider: 0x20 is the 32.768 kHz base */
#define A_DV_RUNNING	0x20
#define A_RS_MASK	0x0f	/* periodic rate select */

#define B_SET		0x80
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_SQWE		0x08
#define B_DM		0x04	/* binary, not BCD */
#define B_24H		0x02

#define C_IRQF		0x80
#define C_PF		0x40
#define C_AF		0x20
#define C_UF		0x10
#define C_FLAGS		(C_PF | C_AF | C_UF)

#define D_VRT		0x80

#define HOUR_PM		0x80
#define ALARM_ANY	0xc0	/* alarm bytes from 0xc0 match every value */

#define NSEC		1000000000LL
/* UIP precedes each update by 244 us (8 cycles of the 32.768 kHz base). */
#define UIP_NS		244141LL

/* The shutdown status SeaBIOS reads after a reset; 0xfe is S3 resume. */
#define SHUTDOWN_S3	0xfe

struct rtc {
	struct vmm	*vmm;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* wakes the thread */
	pthread_t	 thread;
	int		 stop;
	int		 irq_level;
	uint8_t		 index;
	uint8_t		 cmos[CMOS_SIZE];

	/*
	 * Guest time = host CLOCK_REALTIME + off_sec: the guest's seconds
	 * turn with the host's, whatever time it sets.
	 */
	int64_t		 off_sec;

	/* Deadlines on CLOCK_MONOTONIC, in ns. */
	int64_t		 period_ns;	/* 0: no periodic interrupt */
	int64_t		 next_pf;
	int64_t		 next_uf;
};

static int64_t
rtc_floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t
rtc_floormod(int64_t a, int64_t b)
{
	return a - rtc_floordiv(a, b) * b;
}

static int64_t
rtc_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

/* The guest's time of day: whole seconds since the epoch and the rest. */
static void
rtc_guest_time(struct rtc *r, int64_t *sec, int64_t *nsec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = ts.tv_sec + r->off_sec;
	*nsec = ts.tv_nsec;
}

/* Whether the time advances: SET clear and the divider running. */
static int
rtc_running(struct rtc *r)
{
	return !(r->cmos[REG_B] & B_SET) &&
	    (r->cmos[REG_A] & A_DV_MASK) <= A_DV_RUNNING;
}

static uint8_t
rtc_to_reg(struct rtc *r, int v)
{
	v %= 100;
	if (r->cmos[REG_B] & B_DM)
		return v;
	return (v / 10) << 4 | v % 10;
}

/*
 * A register's value in format b (a register B). Garbage in BCD decodes
 * to out-of-range numbers, which is harmless.
 */
static int
rtc_from_reg(uint8_t b, uint8_t v)
{
	if (b & B_DM)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t
rtc_hour_to_reg(struct rtc *r, int hour)
{
	int h;

	if (r->cmos[REG_B] & B_24H)
		return rtc_to_reg(r, hour);
	h = hour % 12 == 0 ? 12 : hour % 12;
	return rtc_to_reg(r, h) | (hour >= 12 ? HOUR_PM : 0);
}

static int
rtc_hour_from_reg(uint8_t b, uint8_t v)
{
	int h;

	if (b & B_24H)
		return rtc_from_reg(b, v);
	h = rtc_from_reg(b, v & ~HOUR_PM) % 12;
	return (v & HOUR_PM) ? h + 12 : h;
}

/* Days from 1970-01-01 to a proleptic Gregorian date; month is 1-based. */
static int64_t
rtc_days(int64_t year, int64_t mon, int64_t mday)
{
	int64_t era, yoe, doy, doe;

	year += rtc_floordiv(mon - 1, 12);
	mon = rtc_floormod(mon - 1, 12) + 1;
	if (mon <= 2)
		year--;
	era = rtc_floordiv(year, 400);
	yoe = year - era * 400;
	doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 + mday - 1;
}

/* Show guest second sec in the time registers. */
static void
rtc_show(struct rtc *r, int64_t sec)
{
	struct tm tm;
	time_t t = sec;
	int64_t year;

	if (gmtime_r(&t, &tm) == NULL)
		return;
	year = (int64_t)tm.tm_year + 1900;
	r->cmos[REG_SEC] = rtc_to_reg(r, tm.tm_sec);
	r->cmos[REG_MIN] = rtc_to_reg(r, tm.tm_min);
	r->cmos[REG_HOUR] = rtc_hour_to_reg(r, tm.tm_hour);
	r->cmos[REG_WDAY] = rtc_to_reg(r, tm.tm_wday + 1);
	r->cmos[REG_MDAY] = rtc_to_reg(r, tm.tm_mday);
	r->cmos[REG_MON] = rtc_to_reg(r, tm.tm_mon + 1);
	r->cmos[REG_YEAR] = rtc_to_reg(r, rtc_floormod(year, 100));
	r->cmos[REG_CENTURY] = rtc_to_reg(r,
	    rtc_floormod(rtc_floordiv(year, 100), 100));
}

/* Bring the time registers up to date, unless the clock is stopped. */
static void
rtc_refresh(struct rtc *r)
{
	int64_t sec, nsec;

	if (!rtc_running(r))
		return;
	rtc_guest_time(r, &sec, &nsec);
	rtc_show(r, sec);
}

/* Take the time in the registers, in format b, as the guest's new time. */
static void
rtc_commit(struct rtc *r, uint8_t b)
{
	int64_t year, t;

	year = rtc_from_reg(b, r->cmos[REG_CENTURY]) * 100 +
	    rtc_from_reg(b, r->cmos[REG_YEAR]);
	t = rtc_days(year, rtc_from_reg(b, r->cmos[REG_MON]),
	    rtc_from_reg(b, r->cmos[REG_MDAY])) * 86400 +
	    rtc_hour_from_reg(b, r->cmos[REG_HOUR]) * 3600 +
	    rtc_from_reg(b, r->cmos[REG_MIN]) * 60 +
	    rtc_from_reg(b, r->cmos[REG_SEC]);
	/* time() may lag CLOCK_REALTIME's second: use the same clock. */
	r->off_sec = t - rtc_clock_ns(CLOCK_REALTIME) / NSEC;
}

/* Raise IRQ 8 while an enabled flag is set in register C; lock held. */
static void
rtc_update_irq(struct rtc *r)
{
	int level;

	level = (r->cmos[REG_C] & r->cmos[REG_B] & C_FLAGS) != 0;
	if (level)
		r->cmos[REG_C] |= C_IRQF;
	else
		r->cmos[REG_C] &= ~C_IRQF;
	if (level == r->irq_level)
		return;
	r->irq_level = level;
	if (r->vmm != NULL && r->vmm->irq.line != NULL)
		r->vmm->irq.line(r->vmm->irq_opaque, RTC_IRQ, level);
}

/*
 * Guest ns to the next second boundary. After an update, a boundary
 * less than half a second away is the one just handled (the thread woke
 * a little early), so the next is a second later.
 */
static int64_t
rtc_to_next_second(struct rtc *r, int after_update)
{
	int64_t sec, nsec;

	rtc_guest_time(r, &sec, &nsec);
	if (after_update && nsec >= NSEC / 2)
		return 2 * NSEC - nsec;
	return NSEC - nsec;
}

/*
 * Recompute the thread's deadlines after the guest changed register A
 * or B or the time, and wake it; lock held.
 */
static void
rtc_schedule(struct rtc *r)
{
	int64_t period = 0, now;
	int rate;

	now = rtc_clock_ns(CLOCK_MONOTONIC);
	rate = r->cmos[REG_A] & A_RS_MASK;
	if ((r->cmos[REG_B] & B_PIE) && rate != 0) {
		/* Rates 1 and 2 repeat 8 and 9 at the 32.768 kHz base. */
		if (rate <= 2)
			rate += 7;
		period = NSEC * (1LL << (rate - 1)) / 32768;
	}
	if (period != r->period_ns) {
		r->period_ns = period;
		r->next_pf = now + period;
	}
	r->next_uf = now + rtc_to_next_second(r, 0);
	pthread_cond_signal(&r->cond);
}

static int
rtc_is_time_reg(uint8_t i)
{
	switch (i) {
	case REG_SEC:
	case REG_MIN:
	case REG_HOUR:
	case REG_WDAY:
	case REG_MDAY:
	case REG_MON:
	case REG_YEAR:
	case REG_CENTURY:
		return 1;
	}
	return 0;
}

/* Write register A or B, stopping or restarting the clock; lock held. */
static void
rtc_write_control(struct rtc *r, uint8_t i, uint8_t v)
{
	uint8_t b = r->cmos[REG_B];
	int was;

	/* Values written while stopped are in the format of then. */
	was = rtc_running(r);
	if (was)
		rtc_refresh(r);
	if (i == REG_A)
		r->cmos[REG_A] = v & ~A_UIP;
	else {
		if (v & B_SET)
			v &= ~B_UIE;	/* as the data sheet says */
		r->cmos[REG_B] = v;
	}
	if (!was && rtc_running(r))
		rtc_commit(r, b);
	rtc_update_irq(r);
	rtc_schedule(r);
}

/* A data port write to CMOS byte i; lock held. */
static void
rtc_write(struct rtc *r, uint8_t i, uint8_t v)
{
	if (rtc_is_time_reg(i)) {
		/* Written while running (int 1ah does): a new time now. */
		rtc_refresh(r);
		r->cmos[i] = v;
		if (rtc_running(r)) {
			rtc_commit(r, r->cmos[REG_B]);
			rtc_schedule(r);
		}
		return;
	}
	switch (i) {
	case REG_A:
	case REG_B:
		rtc_write_control(r, i, v);
		break;
	case REG_C:
	case REG_D:
		break;		/* read only */
	default:
		r->cmos[i] = v;
		break;
	}
}

/*
 * Move the next periodic tick past now, on the grid of the period: the
 * ticks skipped fell while PF was still set, so they merged. Lock held.
 */
static void
rtc_pf_next(struct rtc *r, int64_t now)
{
	if (r->period_ns > 0 && r->next_pf <= now)
		r->next_pf += ((now - r->next_pf) / r->period_ns + 1) *
		    r->period_ns;
}

/* A data port read of CMOS byte i; lock held. */
static uint8_t
rtc_read(struct rtc *r, uint8_t i)
{
	int64_t sec, nsec;
	uint8_t v;

	if (rtc_is_time_reg(i)) {
		rtc_refresh(r);
		return r->cmos[i];
	}
	switch (i) {
	case REG_A:
		v = r->cmos[REG_A];
		if (rtc_running(r)) {
			rtc_guest_time(r, &sec, &nsec);
			if (nsec >= NSEC - UIP_NS)
				v |= A_UIP;
		}
		return v;
	case REG_C:
		v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;
		rtc_update_irq(r);
		if (v & C_PF) {
			/* The thread sleeps while PF is set: wake it. */
			rtc_pf_next(r, rtc_clock_ns(CLOCK_MONOTONIC));
			pthread_cond_signal(&r->cond);
		}
		return v;
	case REG_D:
		return D_VRT;
	}
	return r->cmos[i];
}

static void
rtc_io(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
    int is_write)
{
	struct rtc *r = opaque;
	uint64_t port;
	uint32_t n;

	pthread_mutex_lock(&r->lock);
	/* A wider access covers the ports in turn (outw: index, then data). */
	for (n = 0; n < len; n++) {
		port = offset + n;
		if (port == 0) {
			if (is_write)
				r->index = data[n] & (CMOS_SIZE - 1);
			else
				data[n] = 0xff;	/* the index is write-only */
		} else if (port == 1) {
			if (is_write)
				rtc_write(r, r->index, data[n]);
			else
				data[n] = rtc_read(r, r->index);
		} else if (!is_write)
			data[n] = 0xff;
	}
	pthread_mutex_unlock(&r->lock);
}

/* At a second boundary: UF, and AF when the alarm matches; lock held. */
static void
rtc_update_ended(struct rtc *r)
{
	static const uint8_t pairs[][2] = {
		{ REG_SEC, REG_SEC_ALARM },
		{ REG_MIN, REG_MIN_ALARM },
		{ REG_HOUR, REG_HOUR_ALARM },
	};
	int64_t sec, nsec;
	uint8_t alarm;
	size_t i;
	int match = 1;

	/* The second just begun, even if the thread woke a little early. */
	rtc_guest_time(r, &sec, &nsec);
	rtc_show(r, nsec >= NSEC / 2 ? sec + 1 : sec);
	for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		alarm = r->cmos[pairs[i][1]];
		if (alarm < ALARM_ANY && alarm != r->cmos[pairs[i][0]])
			match = 0;
	}
	r->cmos[REG_C] |= C_UF | (match ? C_AF : 0);
}

static void
rtc_timespec(struct timespec *ts, int64_t ns)
{
	ts->tv_sec = ns / NSEC;
	ts->tv_nsec = ns % NSEC;
}

/* Set the flags of register C on time and raise the interrupt. */
static void *
rtc_thread(void *arg)
{
	struct rtc *r = arg;
	struct timespec ts;
	int64_t now, deadline;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		now = rtc_clock_ns(CLOCK_MONOTONIC);
		if (r->period_ns > 0 && now >= r->next_pf) {
			r->cmos[REG_C] |= C_PF;
			rtc_pf_next(r, now);
		}
		if (now >= r->next_uf) {
			if (rtc_running(r))
				rtc_update_ended(r);
			r->next_uf = now + rtc_to_next_second(r, 1);
		}
		rtc_update_irq(r);
		/*
		 * While PF waits to be read, further ticks would change
		 * nothing: sleep until the guest reads register C.
		 */
		deadline = r->next_uf;
		if (r->period_ns > 0 && !(r->cmos[REG_C] & C_PF) &&
		    r->next_pf < deadline)
			deadline = r->next_pf;
		rtc_timespec(&ts, deadline);
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct rtc *
rtc_create(struct vmm *vmm)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	struct rtc *r;
	int e;

	r = xcalloc(1, sizeof *r);
	r->vmm = vmm;
	r->cmos[REG_A] = A_DV_RUNNING | 0x06;	/* 32.768 kHz, 1024 Hz */
	r->cmos[REG_B] = B_24H;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	rtc_refresh(r);
	rtc_schedule(r);

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&r->thread, NULL, rtc_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		pthread_cond_destroy(&r->cond);
		pthread_mutex_destroy(&r->lock);
		free(r);
		errno = e;
		return NULL;
	}
	if (vmm != NULL && bus_register(&vmm->pio, RTC_PORT, 2, rtc_io, r,
	    "mc146818 rtc") == -1) {
		e = errno;
		r->vmm = NULL;
		rtc_destroy(r);
		errno = e;
		return NULL;
	}
	return r;
}

void
rtc_destroy(struct rtc *r)
{
	if (r == NULL)
		return;
	if (r->vmm != NULL)
		bus_unregister(&r->vmm->pio, RTC_PORT);
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void
rtc_reset(struct rtc *r)
{
	pthread_mutex_lock(&r->lock);
	if (r->cmos[REG_SHUTDOWN] != SHUTDOWN_S3)
		r->cmos[REG_SHUTDOWN] = 0;
	r->cmos[REG_B] &= ~(B_PIE | B_AIE | B_SQWE);
	r->cmos[REG_C] = 0;
	rtc_update_irq(r);
	rtc_schedule(r);
	pthread_mutex_unlock(&r->lock);
}

void
rtc_set_cmos(struct rtc *r, uint8_t index, uint8_t value)
{
	if (index >= CMOS_SIZE || index <= REG_D || index == REG_CENTURY)
		return;
	pthread_mutex_lock(&r->lock);
	r->cmos[index] = value;
	pthread_mutex_unlock(&r->lock);
}

static void
rtc_set16(struct rtc *r, uint8_t index, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	r->cmos[index] = v;
	r->cmos[index + 1] = v >> 8;
}

void
rtc_set_memory(struct rtc *r, uint64_t below_4g, uint64_t above_4g,
    int ncpus)
{
	uint64_t v;

	pthread_mutex_lock(&r->lock);
	/* Base memory in KiB, at most 640. */
	v = below_4g / 1024;
	rtc_set16(r, 0x15, v > 640 ? 640 : v);
	/* Extended memory above 1 MiB in KiB, twice. */
	v = below_4g > (1ULL << 20) ? (below_4g - (1ULL << 20)) / 1024 : 0;
	rtc_set16(r, 0x17, v);
	rtc_set16(r, 0x30, v);
	/* Memory above 16 MiB in 64 KiB units: SeaBIOS's RAM size. */
	v = below_4g > (16ULL << 20) ? (below_4g - (16ULL << 20)) >> 16 : 0;
	rtc_set16(r, 0x34, v);
	/* Memory above 4 GiB in 64 KiB units, 24 bits. */
	v = above_4g >> 16;
	if (v > 0xffffff)
		v = 0xffffff;
	r->cmos[0x5b] = v;
	r->cmos[0x5c] = v >> 8;
	r->cmos[0x5d] = v >> 16;
	/* CPUs - 1: SeaBIOS waits for max(this + 1, fw_cfg's count). */
	if (ncpus < 1)
		ncpus = 1;
	r->cmos[0x5f] = ncpus > 256 ? 0xff : ncpus - 1;
	r->cmos[0x10] = 0;	/* no floppy drives */
	r->cmos[0x14] = 0x02;	/* equipment: FPU; no floppy, no mouse */
	/* Boot order nibbles (2 disk, 3 CD-ROM); fw_cfg bootorder wins. */
	r->cmos[0x3d] = 0x32;
	r->cmos[0x38] = 0x00;
	pthread_mutex_unlock(&r->lock);
}

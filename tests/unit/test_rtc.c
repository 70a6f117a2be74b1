/*
 * Unit tests for the MC146818 RTC without KVM: CMOS RAM through ports
 * 0x70/0x71, the memory layout SeaBIOS reads, the time registers against
 * the host's clock, the guest setting the time, register C and IRQ 8,
 * the periodic, update and alarm interrupts, UIP, and garbage input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hw.h"
#include "vmm.h"

#define REG_SEC		0x00
#define REG_MIN		0x02
#define REG_HOUR	0x04
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MON		0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32

/* IRQ 8 as the device drives it, from its thread or ours. */
static int	irq_level;
static int	irq_rises;
static int	irq_calls;
static int	irq_other;

static void
fake_line(void *opaque, int gsi, int level)
{
	(void)opaque;
	if (gsi != RTC_IRQ) {
		__atomic_add_fetch(&irq_other, 1, __ATOMIC_SEQ_CST);
		return;
	}
	/* The counts first: whoever sees the level sees them too. */
	if (level && !__atomic_load_n(&irq_level, __ATOMIC_SEQ_CST))
		__atomic_add_fetch(&irq_rises, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&irq_calls, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&irq_level, level, __ATOMIC_SEQ_CST);
}

static int
irq_get(int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

struct fixture {
	struct vmm	 vmm;
	struct rtc	*rtc;
};

static int
setup(void **state)
{
	struct fixture *f;

	f = calloc(1, sizeof *f);
	assert_non_null(f);
	bus_init(&f->vmm.pio);
	bus_init(&f->vmm.mmio);
	f->vmm.irq.line = fake_line;
	irq_level = irq_rises = irq_calls = irq_other = 0;
	f->rtc = rtc_create(&f->vmm);
	assert_non_null(f->rtc);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rtc_destroy(f->rtc);
	/* The ports are free again. */
	assert_int_equal(f->vmm.pio.nranges, 0);
	assert_int_equal(irq_get(&irq_other), 0);
	free(f);
	return 0;
}

static struct vmm *
vmm_of(void **state)
{
	return &((struct fixture *)*state)->vmm;
}

static void
cmos_write(struct vmm *vmm, uint8_t index, uint8_t v)
{
	assert_int_equal(bus_dispatch(&vmm->pio, RTC_PORT, &index, 1, 1), 0);
	assert_int_equal(bus_dispatch(&vmm->pio, RTC_PORT + 1, &v, 1, 1), 0);
}

static uint8_t
cmos_read(struct vmm *vmm, uint8_t index)
{
	uint8_t v = 0;

	assert_int_equal(bus_dispatch(&vmm->pio, RTC_PORT, &index, 1, 1), 0);
	assert_int_equal(bus_dispatch(&vmm->pio, RTC_PORT + 1, &v, 1, 0), 0);
	return v;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* SeaBIOS's rtc_updating(): 0 once UIP is clear, -1 after 15 ms. */
static int
wait_not_updating(struct vmm *vmm)
{
	int64_t end = mono_ms() + 15;

	while (cmos_read(vmm, REG_A) & 0x80) {
		if (mono_ms() > end)
			return -1;
	}
	return 0;
}

static int
from_reg(uint8_t b, uint8_t v)
{
	if (b & 0x04)
		return v;
	assert_true((v & 0x0f) <= 9 && (v >> 4) <= 9);
	return (v >> 4) * 10 + (v & 0x0f);
}

/* The guest's view of the time, in the format register B selects. */
static time_t
read_time(struct vmm *vmm, struct tm *tm)
{
	uint8_t b, h;

	assert_int_equal(wait_not_updating(vmm), 0);
	b = cmos_read(vmm, REG_B);
	memset(tm, 0, sizeof *tm);
	tm->tm_sec = from_reg(b, cmos_read(vmm, REG_SEC));
	tm->tm_min = from_reg(b, cmos_read(vmm, REG_MIN));
	h = cmos_read(vmm, REG_HOUR);
	if (b & 0x02)
		tm->tm_hour = from_reg(b, h);
	else {
		assert_in_range(from_reg(b, h & 0x7f), 1, 12);
		tm->tm_hour = from_reg(b, h & 0x7f) % 12 + (h & 0x80 ? 12 : 0);
	}
	tm->tm_wday = from_reg(b, cmos_read(vmm, REG_WDAY)) - 1;
	tm->tm_mday = from_reg(b, cmos_read(vmm, REG_MDAY));
	tm->tm_mon = from_reg(b, cmos_read(vmm, REG_MON)) - 1;
	tm->tm_year = from_reg(b, cmos_read(vmm, REG_CENTURY)) * 100 +
	    from_reg(b, cmos_read(vmm, REG_YEAR)) - 1900;
	return timegm(tm);
}

/* The guest's time is the host's within a second, weekday included. */
static void
assert_host_time(struct vmm *vmm)
{
	struct tm tm, host;
	time_t t0, t, t1;
	int wday;

	t0 = time(NULL);
	t = read_time(vmm, &tm);
	t1 = time(NULL);
	assert_in_range(t, t0 - 1, t1 + 1);
	wday = tm.tm_wday;
	gmtime_r(&t, &host);
	assert_int_equal(wday, host.tm_wday);
}

static void
test_rtc_cmos_ram(void **state)
{
	struct fixture *f = *state;
	struct vmm *vmm = vmm_of(state);
	uint8_t data[4];

	/* Plain RAM, both with and without the NMI mask bit. */
	cmos_write(vmm, 0x40, 0x12);
	cmos_write(vmm, 0x7f, 0x34);
	assert_int_equal(cmos_read(vmm, 0x40), 0x12);
	assert_int_equal(cmos_read(vmm, 0x7f), 0x34);
	cmos_write(vmm, 0x80 | 0x41, 0x56);
	assert_int_equal(cmos_read(vmm, 0x41), 0x56);
	assert_int_equal(cmos_read(vmm, 0x80 | 0x40), 0x12);
	/* Indexes wrap at 128: 0xff selects 0x7f. */
	assert_int_equal(cmos_read(vmm, 0xff), 0x34);
	/* The index register reads as all ones. */
	assert_int_equal(bus_dispatch(&vmm->pio, RTC_PORT, data, 1, 0), 0);
	assert_int_equal(data[0], 0xff);
	/* A 16-bit write is index then data. */
	data[0] = 0x42;
	data[1] = 0x9a;
	assert_int_equal(bus_dispatch(&vmm->pio, RTC_PORT, data, 2, 1), 0);
	assert_int_equal(cmos_read(vmm, 0x42), 0x9a);

	/* The VMM's bytes; the clock's own are not for it to set. */
	rtc_set_cmos(f->rtc, 0x50, 0xab);
	assert_int_equal(cmos_read(vmm, 0x50), 0xab);
	rtc_set_cmos(f->rtc, REG_B, 0xff);
	assert_int_equal(cmos_read(vmm, REG_B), 0x02);
	rtc_set_cmos(f->rtc, 200, 0x77);
	assert_int_equal(cmos_read(vmm, 200 & 0x7f), 0);

	/* Reset state: 32.768 kHz and 1024 Hz, 24 hours BCD, RAM valid. */
	assert_int_equal(cmos_read(vmm, REG_A) & 0x7f, 0x26);
	assert_int_equal(cmos_read(vmm, REG_B), 0x02);
	/* (UF comes every second, and alone raises nothing.) */
	assert_int_equal(cmos_read(vmm, REG_C) & 0xc0, 0);
	assert_int_equal(cmos_read(vmm, REG_D), 0x80);
	/* C and D are read only, UIP too. */
	cmos_write(vmm, REG_C, 0xff);
	cmos_write(vmm, REG_D, 0x00);
	assert_int_equal(cmos_read(vmm, REG_C) & 0xc0, 0);
	assert_int_equal(cmos_read(vmm, REG_D), 0x80);
	cmos_write(vmm, REG_A, 0xa5);
	assert_int_equal(cmos_read(vmm, REG_A) & 0x7f, 0x25);
	assert_int_equal(irq_get(&irq_calls), 0);
}

/* The bytes rtc_set_memory() leaves, for one RAM size. */
struct layout {
	uint64_t	below, above;
	int		ncpus;
	uint16_t	ext;		/* 0x17/0x18 and 0x30/0x31 */
	uint16_t	ext16;		/* 0x34/0x35 */
	uint32_t	high;		/* 0x5b-0x5d */
	uint8_t		cpus;		/* 0x5f */
};

static void
test_rtc_memory(void **state)
{
	static const struct layout l[] = {
		/* 256 MiB: extended memory capped at 0xffff KiB. */
		{ 256ULL << 20, 0, 1, 0xffff, 0x0f00, 0, 0 },
		/* 3.5 GiB: 3 GiB below the PCI hole, 512 MiB above 4 GiB. */
		{ 3ULL << 30, 512ULL << 20, 4, 0xffff, 0xbf00, 0x2000, 3 },
		/* 6 GiB. */
		{ 3ULL << 30, 3ULL << 30, 8, 0xffff, 0xbf00, 0xc000, 7 },
		/* 3.5 GiB all below 4 GiB. */
		{ 0xe0000000ULL, 0, 2, 0xffff, 0xdf00, 0, 1 },
		/* 64 GiB above: the third byte. */
		{ 3ULL << 30, 64ULL << 30, 300, 0xffff, 0xbf00, 0x100000,
		    0xff },
		/* 16 MiB and less. */
		{ 16ULL << 20, 0, 1, 15360, 0, 0, 0 },
		{ 512ULL << 10, 0, 0, 0, 0, 0, 0 },
		/* Beyond what 24 bits say. */
		{ 3ULL << 30, 1ULL << 42, 1, 0xffff, 0xbf00, 0xffffff, 0 },
	};
	struct fixture *f = *state;
	struct vmm *vmm = vmm_of(state);
	uint32_t base, rs;
	uint64_t high;
	size_t i;

	for (i = 0; i < sizeof l / sizeof l[0]; i++) {
		rtc_set_memory(f->rtc, l[i].below, l[i].above, l[i].ncpus);
		base = l[i].below >= (640 << 10) ? 640 : l[i].below >> 10;
		assert_int_equal(cmos_read(vmm, 0x15), base & 0xff);
		assert_int_equal(cmos_read(vmm, 0x16), base >> 8);
		assert_int_equal(cmos_read(vmm, 0x17), l[i].ext & 0xff);
		assert_int_equal(cmos_read(vmm, 0x18), l[i].ext >> 8);
		assert_int_equal(cmos_read(vmm, 0x30), l[i].ext & 0xff);
		assert_int_equal(cmos_read(vmm, 0x31), l[i].ext >> 8);
		assert_int_equal(cmos_read(vmm, 0x34), l[i].ext16 & 0xff);
		assert_int_equal(cmos_read(vmm, 0x35), l[i].ext16 >> 8);
		assert_int_equal(cmos_read(vmm, 0x5b), l[i].high & 0xff);
		assert_int_equal(cmos_read(vmm, 0x5c), (l[i].high >> 8) & 0xff);
		assert_int_equal(cmos_read(vmm, 0x5d), l[i].high >> 16);
		assert_int_equal(cmos_read(vmm, 0x5f), l[i].cpus);
		assert_int_equal(cmos_read(vmm, 0x10), 0);
		assert_int_equal(cmos_read(vmm, 0x14), 0x02);
		assert_int_equal(cmos_read(vmm, 0x3d), 0x32);
		assert_int_equal(cmos_read(vmm, 0x38) & 0xf0, 0);

		/* What SeaBIOS's qemu_preinit() makes of it without e820. */
		rs = ((uint32_t)cmos_read(vmm, 0x34) << 16) |
		    ((uint32_t)cmos_read(vmm, 0x35) << 24);
		if (rs)
			rs += 16 << 20;
		else
			rs = ((cmos_read(vmm, 0x30) << 10) |
			    (cmos_read(vmm, 0x31) << 18)) + (1 << 20);
		if (l[i].below > (16ULL << 20))
			assert_int_equal(rs, l[i].below);
		high = ((uint64_t)cmos_read(vmm, 0x5b) << 16) |
		    ((uint64_t)cmos_read(vmm, 0x5c) << 24) |
		    ((uint64_t)cmos_read(vmm, 0x5d) << 32);
		if (l[i].above < (1ULL << 40))
			assert_true(high == l[i].above);
	}
}

static void
test_rtc_time_formats(void **state)
{
	struct vmm *vmm = vmm_of(state);
	struct tm tm;
	time_t now;
	uint8_t h, want;
	int cent;

	/* BCD, 24 hours, as after reset and SeaBIOS's rtc_setup(). */
	assert_host_time(vmm);
	now = time(NULL);
	gmtime_r(&now, &tm);
	cent = (tm.tm_year + 1900) / 100;
	assert_int_equal(cmos_read(vmm, REG_CENTURY),
	    (cent / 10) << 4 | cent % 10);

	/* Binary. */
	cmos_write(vmm, REG_B, 0x06);
	assert_host_time(vmm);
	assert_int_equal(cmos_read(vmm, REG_CENTURY),
	    cent);

	/* 12 hours, binary then BCD: 1-12 and the PM bit. */
	cmos_write(vmm, REG_B, 0x04);
	assert_host_time(vmm);
	cmos_write(vmm, REG_B, 0x00);
	assert_host_time(vmm);
	assert_int_equal(wait_not_updating(vmm), 0);
	now = time(NULL);
	h = cmos_read(vmm, REG_HOUR);
	gmtime_r(&now, &tm);
	if ((tm.tm_min == 59 && tm.tm_sec == 59) ||
	    (tm.tm_min == 0 && tm.tm_sec == 0))
		return;		/* the hour may just have turned */
	want = tm.tm_hour % 12 == 0 ? 0x12 : tm.tm_hour % 12;
	if (want == 0x0a || want == 0x0b)
		want += 6;	/* BCD 10, 11 */
	assert_int_equal(h & 0x7f, want);
	assert_int_equal(!!(h & 0x80), tm.tm_hour >= 12);
}

/* Write a date and time in BCD, 24 hours. */
static void
write_time(struct vmm *vmm, uint8_t cent, uint8_t year, uint8_t mon,
    uint8_t mday, uint8_t hour, uint8_t min, uint8_t sec)
{
	cmos_write(vmm, REG_CENTURY, cent);
	cmos_write(vmm, REG_YEAR, year);
	cmos_write(vmm, REG_MON, mon);
	cmos_write(vmm, REG_MDAY, mday);
	cmos_write(vmm, REG_HOUR, hour);
	cmos_write(vmm, REG_MIN, min);
	cmos_write(vmm, REG_SEC, sec);
}

static void
test_rtc_set_time(void **state)
{
	struct vmm *vmm = vmm_of(state);
	struct tm tm, want;
	time_t t, w, t2;

	/* Linux's way: SET, the values, SET cleared. */
	cmos_write(vmm, REG_B, 0x82);
	write_time(vmm, 0x20, 0x31, 0x07, 0x15, 0x13, 0x45, 0x30);
	/* Frozen while SET: the values read back as written. */
	assert_int_equal(cmos_read(vmm, REG_SEC), 0x30);
	assert_int_equal(cmos_read(vmm, REG_HOUR), 0x13);
	assert_int_equal(cmos_read(vmm, REG_A) & 0x80, 0);
	cmos_write(vmm, REG_B, 0x02);
	memset(&want, 0, sizeof want);
	want.tm_year = 2031 - 1900;
	want.tm_mon = 6;
	want.tm_mday = 15;
	want.tm_hour = 13;
	want.tm_min = 45;
	want.tm_sec = 30;
	w = timegm(&want);
	t = read_time(vmm, &tm);
	assert_in_range(t, w, w + 1);
	assert_int_equal(tm.tm_wday, 2);	/* a Tuesday */
	/* The offset stays: the clock runs on from there. */
	usleep(1200 * 1000);
	t2 = read_time(vmm, &tm);
	assert_in_range(t2, w + 1, w + 3);

	/* With the divider in reset too, as Linux's mc146818_set_time(). */
	cmos_write(vmm, REG_B, 0x82);
	cmos_write(vmm, REG_A, 0x76);
	write_time(vmm, 0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x50);
	cmos_write(vmm, REG_B, 0x02);
	assert_int_equal(cmos_read(vmm, REG_SEC), 0x50);	/* still held */
	cmos_write(vmm, REG_A, 0x26);
	want.tm_year = 99;
	want.tm_mon = 11;
	want.tm_mday = 31;
	want.tm_hour = 23;
	want.tm_min = 59;
	want.tm_sec = 50;
	w = timegm(&want);
	t = read_time(vmm, &tm);
	assert_in_range(t, w, w + 1);

	/* int 1ah's way: fields written while the clock runs. */
	cmos_write(vmm, REG_HOUR, 0x05);
	assert_int_equal(cmos_read(vmm, REG_HOUR), 0x05);
	t = read_time(vmm, &tm);
	assert_in_range(t, w - 18 * 3600, w - 18 * 3600 + 2);

	/* 12 hours: 1 PM in, 13 out in 24 hours. */
	cmos_write(vmm, REG_B, 0x80);
	cmos_write(vmm, REG_HOUR, 0x81);
	cmos_write(vmm, REG_B, 0x00);
	cmos_write(vmm, REG_B, 0x02);
	assert_int_equal(cmos_read(vmm, REG_HOUR), 0x13);
	/* 12 AM is midnight. */
	cmos_write(vmm, REG_B, 0x80);
	cmos_write(vmm, REG_HOUR, 0x12);
	cmos_write(vmm, REG_B, 0x00);
	cmos_write(vmm, REG_B, 0x02);
	assert_int_equal(cmos_read(vmm, REG_HOUR), 0x00);

	/* And out: 00:30 is 12 AM, 12:30 is 12 PM. */
	cmos_write(vmm, REG_B, 0x82);
	cmos_write(vmm, REG_HOUR, 0x00);
	cmos_write(vmm, REG_MIN, 0x30);
	cmos_write(vmm, REG_B, 0x00);
	assert_int_equal(cmos_read(vmm, REG_HOUR), 0x12);
	cmos_write(vmm, REG_B, 0x82);
	cmos_write(vmm, REG_HOUR, 0x12);
	cmos_write(vmm, REG_B, 0x00);
	assert_int_equal(cmos_read(vmm, REG_HOUR), 0x92);
	cmos_write(vmm, REG_B, 0x04);
	assert_int_equal(cmos_read(vmm, REG_HOUR), 0x8c);

	/* Back to the host's time. */
	t = time(NULL);
	gmtime_r(&t, &tm);
	cmos_write(vmm, REG_B, 0x86);
	write_time(vmm, (tm.tm_year + 1900) / 100, tm.tm_year % 100,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	cmos_write(vmm, REG_B, 0x06);
	assert_host_time(vmm);
}

/* Wait up to ms for IRQ 8 to rise; returns whether it did. */
static int
wait_irq(int ms)
{
	int64_t end = mono_ms() + ms;

	while (!irq_get(&irq_level)) {
		if (mono_ms() > end)
			return 0;
		usleep(100);
	}
	return 1;
}

static void
test_rtc_update_irq(void **state)
{
	struct vmm *vmm = vmm_of(state);
	uint8_t c;
	int calls;

	/* UF is set every second, but raises IRQ 8 only with UIE. */
	usleep(1100 * 1000);
	assert_int_equal(irq_get(&irq_calls), 0);
	assert_int_equal(cmos_read(vmm, REG_C) & 0xd0, 0x10);
	cmos_write(vmm, REG_B, 0x12);
	assert_true(wait_irq(2500));
	/* The line stays up until C is read; reading it clears all. */
	calls = irq_get(&irq_calls);
	usleep(20 * 1000);
	assert_int_equal(irq_get(&irq_calls), calls);
	assert_int_equal(irq_get(&irq_level), 1);
	c = cmos_read(vmm, REG_C);
	assert_int_equal(c & 0x90, 0x90);
	assert_int_equal(irq_get(&irq_level), 0);
	assert_int_equal(cmos_read(vmm, REG_C), 0);
	/* Once per second. */
	assert_true(wait_irq(2500));
	c = cmos_read(vmm, REG_C);
	assert_int_equal(c & 0x90, 0x90);
	assert_int_equal(irq_get(&irq_rises), 2);

	/* A flag set before its enable bit raises the line at once. */
	cmos_write(vmm, REG_B, 0x02);
	usleep(1100 * 1000);
	assert_int_equal(irq_get(&irq_level), 0);
	cmos_write(vmm, REG_B, 0x12);
	assert_int_equal(irq_get(&irq_level), 1);
	/* Clearing the enable bit lowers it. */
	cmos_write(vmm, REG_B, 0x02);
	assert_int_equal(irq_get(&irq_level), 0);

	/* SET clears UIE and stops updates. */
	cmos_read(vmm, REG_C);
	cmos_write(vmm, REG_B, 0x92);
	assert_int_equal(cmos_read(vmm, REG_B), 0x82);
	usleep(1100 * 1000);
	assert_int_equal(cmos_read(vmm, REG_C), 0);
	cmos_write(vmm, REG_B, 0x02);
}

static void
test_rtc_alarm(void **state)
{
	struct vmm *vmm = vmm_of(state);
	uint8_t c;

	/* Don't care everywhere: the alarm rings every second. */
	cmos_write(vmm, 0x01, 0xc0);
	cmos_write(vmm, 0x03, 0xff);
	cmos_write(vmm, 0x05, 0xc0);
	cmos_write(vmm, REG_B, 0x22);
	assert_true(wait_irq(2500));
	c = cmos_read(vmm, REG_C);
	assert_int_equal(c & 0xa0, 0xa0);
	/* An alarm hour that never comes: UF, but no AF. */
	cmos_write(vmm, 0x05, 0x25);
	cmos_read(vmm, REG_C);
	usleep(1100 * 1000);
	c = cmos_read(vmm, REG_C);
	assert_int_equal(c, 0x10);
	assert_int_equal(irq_get(&irq_level), 0);
}

static void
test_rtc_periodic(void **state)
{
	struct vmm *vmm = vmm_of(state);
	int64_t start, end;
	int n = 0, calls;
	uint8_t c;

	/* SeaBIOS's setting: 1024 Hz. A period is a set and a cleared PF. */
	cmos_write(vmm, REG_A, 0x26);
	cmos_write(vmm, REG_B, 0x42);
	start = mono_ms();
	end = start + 10000;
	while (n < 50 && mono_ms() < end) {
		if (!wait_irq(1000))
			break;
		c = cmos_read(vmm, REG_C);
		assert_int_equal(c & 0xc0, 0xc0);
		n++;
	}
	assert_int_equal(n, 50);
	/* Not faster than 1024 Hz (50 periods are 48.8 ms). */
	assert_true(mono_ms() - start >= 45);

	/* Unread, the line stays high: no new edges. */
	assert_true(wait_irq(1000));
	calls = irq_get(&irq_calls);
	usleep(20 * 1000);
	assert_int_equal(irq_get(&irq_calls), calls);

	/* A slower rate (15: 2 Hz): the next tick half a second on. */
	cmos_write(vmm, REG_A, 0x2f);
	cmos_read(vmm, REG_C);
	start = mono_ms();
	assert_true(wait_irq(3000));
	assert_true(mono_ms() - start >= 450);
	assert_int_equal(cmos_read(vmm, REG_C) & 0xc0, 0xc0);

	/* PIE cleared: no more interrupts, no PF. */
	cmos_write(vmm, REG_A, 0x23);
	usleep(10 * 1000);
	cmos_write(vmm, REG_B, 0x02);
	cmos_read(vmm, REG_C);
	assert_int_equal(irq_get(&irq_level), 0);
	calls = irq_get(&irq_calls);
	usleep(200 * 1000);
	assert_int_equal(irq_get(&irq_calls), calls);
	assert_int_equal(cmos_read(vmm, REG_C) & 0x40, 0);

	/* Rate 0 with PIE: nothing either. */
	cmos_write(vmm, REG_A, 0x20);
	cmos_write(vmm, REG_B, 0x42);
	usleep(200 * 1000);
	assert_int_equal(irq_get(&irq_calls), calls);
	cmos_write(vmm, REG_B, 0x02);
}

static void
test_rtc_uip(void **state)
{
	struct vmm *vmm = vmm_of(state);
	struct timespec ts;
	int64_t end, set_at = 0;
	int seen = 0, tries;

	/*
	 * The unset clock turns with the host's seconds: poll around the
	 * next host second, again if this thread was not running then.
	 */
	for (tries = 0; !seen && tries < 20; tries++) {
		/* From 2 ms before the second to 2 ms after. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec = 998000000;
		end = (ts.tv_sec + 1) * 1000000000LL + 2000000;
		clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
		while (!seen && realtime_ns() < end) {
			if (cmos_read(vmm, REG_A) & 0x80) {
				set_at = mono_ms();
				seen = 1;
			}
		}
	}
	assert_true(seen);
	/* And it clears soon after, as SeaBIOS's 15 ms wait expects. */
	assert_int_equal(wait_not_updating(vmm), 0);
	assert_true(mono_ms() - set_at <= 15);
	/* Never while the clock is stopped. */
	cmos_write(vmm, REG_B, 0x82);
	end = mono_ms() + 1100;
	while (mono_ms() < end)
		assert_int_equal(cmos_read(vmm, REG_A) & 0x80, 0);
	cmos_write(vmm, REG_B, 0x02);
}

static void
test_rtc_reset(void **state)
{
	struct fixture *f = *state;
	struct vmm *vmm = vmm_of(state);

	cmos_write(vmm, REG_B, 0x62);
	cmos_write(vmm, 0x0f, 0x05);
	cmos_write(vmm, 0x40, 0x99);
	assert_true(wait_irq(2500));
	rtc_reset(f->rtc);
	assert_int_equal(irq_get(&irq_level), 0);
	assert_int_equal(cmos_read(vmm, REG_B), 0x02);
	assert_int_equal(cmos_read(vmm, 0x0f), 0);
	assert_int_equal(cmos_read(vmm, 0x40), 0x99);
	/* An S3 resume code survives. */
	cmos_write(vmm, 0x0f, 0xfe);
	rtc_reset(f->rtc);
	assert_int_equal(cmos_read(vmm, 0x0f), 0xfe);
	cmos_write(vmm, REG_B, 0x02);
	cmos_read(vmm, REG_C);
}

/* Every byte of every index, in every width: no crash, a working clock. */
static void
test_rtc_garbage(void **state)
{
	static const uint8_t vals[] = { 0x00, 0xff, 0x5a, 0xa5, 0x80, 0x7f,
	    0xc3, 0x99 };
	struct vmm *vmm = vmm_of(state);
	uint8_t data[4];
	unsigned int i, v, len;

	srandom(1);
	for (i = 0; i < 256; i++) {
		for (v = 0; v < sizeof vals; v++) {
			cmos_write(vmm, i, vals[v]);
			(void)cmos_read(vmm, i);
			(void)cmos_read(vmm, random() & 0xff);
		}
		cmos_write(vmm, i, random() & 0xff);
	}
	for (i = 0; i < 4096; i++) {
		len = 1 + random() % 4;
		for (v = 0; v < len; v++)
			data[v] = random();
		(void)bus_dispatch(&vmm->pio, RTC_PORT + random() % 2, data,
		    len, random() & 1);
	}
	/* Odd dates committed with SET cleared. */
	cmos_write(vmm, REG_A, 0x26);
	cmos_write(vmm, REG_B, 0x86);
	write_time(vmm, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	cmos_write(vmm, REG_B, 0x06);
	(void)cmos_read(vmm, REG_SEC);
	cmos_write(vmm, REG_B, 0x80);
	write_time(vmm, 0, 0, 0, 0, 0x80, 0, 0);
	cmos_write(vmm, REG_B, 0x00);
	(void)cmos_read(vmm, REG_YEAR);

	/* Sane again. */
	cmos_write(vmm, REG_A, 0x26);
	cmos_write(vmm, REG_B, 0x02);
	cmos_read(vmm, REG_C);
	rtc_set_memory(((struct fixture *)*state)->rtc, 1ULL << 30, 0, 1);
	assert_int_equal(cmos_read(vmm, 0x5f), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rtc_cmos_ram, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_memory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_time_formats, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_set_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_update_irq, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_alarm, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_periodic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_uip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_reset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rtc_garbage, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

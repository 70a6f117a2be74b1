/*
 * Unit tests for BAR placement as a BIOS or a hostile guest drives it
 * through config space: BARs that overlap another device's or their own
 * device's, swapped, at 0, across 4 GiB, all-ones sizing with decoding
 * on, and a BAR that lost an overlap being mapped once its range is free,
 * with the bar_mapped hook (virtio's ioeventfds) told each move.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pci.h"
#include "vmm.h"

static struct vmm	vmm;
static struct pci	*pci;
static struct pci_dev	dev[2];
static int		calls[2];	/* each device's BAR handler */
static uint64_t		hooked[2][2];	/* what bar_mapped last said */

static void
bar_fn(void *opaque, uint64_t off, uint8_t *data, uint32_t len, int is_write)
{
	(void)off; (void)is_write;
	memset(data, 0x5a, len);
	calls[(int *)opaque - calls]++;
}

static void
bar_hook(struct pci_dev *d, int bar, uint64_t addr)
{
	int	i = d - dev;

	/* Told an unmap before any new place. */
	if (addr != 0)
		assert_int_equal(hooked[i][bar], 0);
	hooked[i][bar] = addr;
}

static uint32_t
cfg(int slot, int reg, uint32_t v, int is_write)
{
	uint32_t d = v;

	pci_cfg_access(pci, 0x80000000U | slot << 11 | reg, (uint8_t *)&d, 4,
	    is_write);
	return d;
}

/* Which device answers a read at addr: 0, 1, or -1 for none. */
static int
who(uint64_t addr)
{
	uint8_t b[4];
	int c0 = calls[0], c1 = calls[1];

	if (bus_dispatch(&vmm.mmio, addr, b, 4, 0) == -1)
		return -1;
	if (calls[0] != c0)
		return 0;
	assert_int_equal(calls[1], c1 + 1);
	return 1;
}

static int
setup(void **state)
{
	int i;

	(void)state;
	memset(&vmm, 0, sizeof vmm);
	memset(hooked, 0, sizeof hooked);
	bus_init(&vmm.pio);
	bus_init(&vmm.mmio);
	vmm.firmware = 1;
	if ((pci = pci_create(&vmm)) == NULL)
		return -1;
	for (i = 0; i < 2; i++) {
		pci_dev_init(&dev[i], i ? "b" : "a", 0x1af4, 0x1042,
		    0x018000, 1);
		if (pci_add_bar(pci, &dev[i], 0, 0x4000, bar_fn,
		    &calls[i]) == -1 ||
		    pci_add_bar(pci, &dev[i], 1, 0x1000, bar_fn,
		    &calls[i]) == -1)
			return -1;
		dev[i].bar_mapped = bar_hook;
		if (pci_register(pci, &dev[i]) == -1)
			return -1;
	}
	/* As SeaBIOS leaves them: a at 0xfebf0000/0xfebf4000, b above. */
	cfg(1, 0x10, 0xfebf0000, 1);
	cfg(1, 0x14, 0xfebf4000, 1);
	cfg(1, 0x04, 0x6, 1);
	cfg(2, 0x10, 0xfebf8000, 1);
	cfg(2, 0x14, 0xfebfc000, 1);
	cfg(2, 0x04, 0x6, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	pci_unregister(pci, &dev[1]);
	pci_unregister(pci, &dev[0]);
	pci_destroy(pci);
	return 0;
}

static void
test_overlap_other_device(void **state)
{
	(void)state;
	assert_int_equal(who(0xfebf0000), 0);
	assert_int_equal(who(0xfebf8000), 1);
	/* a over b: b keeps the range, a is decoded nowhere. */
	cfg(1, 0x10, 0xfebf8000, 1);
	assert_int_equal(who(0xfebf8000), 1);
	assert_int_equal(who(0xfebf0000), -1);
	assert_int_equal(hooked[0][0], 0);
	/* b moves away: a gets the range without another write of its own. */
	cfg(2, 0x10, 0xfeb00000, 1);
	assert_int_equal(who(0xfeb00000), 1);
	assert_int_equal(who(0xfebf8000), 0);
	assert_int_equal(hooked[0][0], 0xfebf8000);
	assert_int_equal(hooked[1][0], 0xfeb00000);
	/* b back over a: a keeps it; b's decoding off and on changes nothing. */
	cfg(2, 0x10, 0xfebf8000, 1);
	cfg(2, 0x04, 0x0, 1);
	cfg(2, 0x04, 0x6, 1);
	assert_int_equal(who(0xfebf8000), 0);
	assert_int_equal(hooked[1][0], 0);
	/* Both restored. */
	cfg(1, 0x10, 0xfebf0000, 1);
	assert_int_equal(who(0xfebf0000), 0);
	assert_int_equal(who(0xfebf8000), 1);
	assert_int_equal(hooked[1][0], 0xfebf8000);
}

static void
test_overlap_own_bars(void **state)
{
	(void)state;
	/* Swapped in two writes: BAR 0 waits for BAR 1 to leave. */
	cfg(1, 0x10, 0xfebf4000, 1);
	assert_int_equal(who(0xfebf4000), 0);	/* still BAR 1 */
	cfg(1, 0x14, 0xfebf0000, 1);
	assert_int_equal(hooked[0][0], 0xfebf4000);
	assert_int_equal(hooked[0][1], 0xfebf0000);
	assert_int_equal(who(0xfebf4000 + 0x3000), 0);	/* BAR 0's notify */
	/*
	 * BAR 0 moved off, BAR 1 into its place, BAR 0 back over BAR 1, then
	 * BAR 1 home: BAR 0 is mapped though BAR 1 is after it in the loop.
	 */
	cfg(1, 0x10, 0x01000000, 1);
	cfg(1, 0x14, 0xfebf0000, 1);
	cfg(1, 0x10, 0xfebf0000, 1);
	assert_int_equal(hooked[0][0], 0);
	cfg(1, 0x14, 0xfebf4000, 1);
	assert_int_equal(hooked[0][0], 0xfebf0000);
	assert_int_equal(hooked[0][1], 0xfebf4000);
	assert_int_equal(who(0xfebf3000), 0);
	/* Both at one address: one wins, the other maps when it moves. */
	cfg(1, 0x14, 0xfebf0000, 1);
	assert_int_equal(hooked[0][1], 0);
	cfg(1, 0x14, 0xfebf4000, 1);
	assert_int_equal(hooked[0][1], 0xfebf4000);
}

static void
test_odd_places(void **state)
{
	(void)state;
	/* All ones with decoding on: sizes read back, the top of 4 GiB. */
	cfg(1, 0x10, 0xffffffff, 1);
	cfg(1, 0x14, 0xffffffff, 1);
	assert_int_equal(cfg(1, 0x10, 0, 0), 0xffffc000);
	assert_int_equal(cfg(1, 0x14, 0, 0), 0xfffff000);
	assert_int_equal(hooked[0][0], 0xffffc000);
	assert_int_equal(hooked[0][1], 0);	/* inside BAR 0 */
	/* At 0: not decoded; BAR 1 gets the top page. */
	cfg(1, 0x10, 0, 1);
	assert_int_equal(hooked[0][0], 0);
	assert_int_equal(hooked[0][1], 0xfffff000);
	cfg(1, 0x14, 0xfffff000, 1);
	cfg(1, 0x10, 0xfffff000, 1);
	assert_int_equal(cfg(1, 0x10, 0, 0), 0xffffc000);
	assert_int_equal(hooked[0][0], 0);	/* BAR 1 is there */
	/* Unused BARs and the ROM stay 0 whatever is written. */
	cfg(1, 0x18, 0xffffffff, 1);
	cfg(1, 0x1c, 0xffffffff, 1);
	cfg(1, 0x30, 0xffffffff, 1);
	assert_int_equal(cfg(1, 0x18, 0, 0), 0);
	assert_int_equal(cfg(1, 0x1c, 0, 0), 0);
	assert_int_equal(cfg(1, 0x30, 0, 0), 0);
	/* Type bits are read-only: still a 32-bit BAR. */
	cfg(1, 0x10, 0xfebf000c, 1);
	assert_int_equal(cfg(1, 0x10, 0, 0), 0xfebf0000);
	cfg(1, 0x14, 0xfebf4000, 1);
	assert_int_equal(who(0xfebf0000), 0);
	assert_int_equal(who(0xfebf4000), 0);
	assert_int_equal(hooked[0][0], 0xfebf0000);
	/* COMMAND toggles unmap and map again. */
	cfg(1, 0x04, 0x4, 1);
	assert_int_equal(who(0xfebf0000), -1);
	assert_int_equal(hooked[0][0], 0);
	cfg(1, 0x04, 0xffff, 1);
	assert_int_equal(who(0xfebf0000), 0);
	assert_int_equal(hooked[0][0], 0xfebf0000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_overlap_other_device,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_own_bars, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_odd_places, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

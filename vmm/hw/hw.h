/*
 * The legacy PC devices on the port I/O bus: the 16550A UART, the i8042
 * keyboard controller (reset line) and the ACPI PM1 blocks (power button,
 * sleep, reset). The PIT, PIC and IOAPIC are KVM's. PCI is in pci.h.
 */
#ifndef HW_H
#define HW_H

#include <stddef.h>
#include <stdint.h>

struct vmm;

/* Called with no lock held when the device has something for its owner. */
typedef void (*hw_notify_fn)(void *arg);

/* ns8250.c: a 16550A UART. */
#define COM1_BASE		0x3f8
#define COM1_IRQ		4
#define NS8250_RX_FIFO		64		/* bytes from the host */
#define NS8250_TX_BUF		65536		/* bytes for the host */

struct ns8250;
/*
 * notify runs (on a vCPU thread) when transmitted bytes wait in the output
 * buffer after it was empty, and when the receive FIFO has room again
 * after it was full.
 */
struct ns8250	*ns8250_create(struct vmm *, uint16_t base, int irq,
		    hw_notify_fn notify, void *arg);
void		 ns8250_destroy(struct ns8250 *);
/* Take up to len transmitted bytes; returns how many. */
size_t		 ns8250_tx_drain(struct ns8250 *, uint8_t *, size_t);
/* Queue received bytes; returns how many fit in the FIFO. */
size_t		 ns8250_rx_push(struct ns8250 *, const uint8_t *, size_t);
size_t		 ns8250_rx_space(struct ns8250 *);
/* Bytes the output buffer could not hold (the host read too slowly). */
uint64_t	 ns8250_tx_dropped(struct ns8250 *);
/* The register file, for unit tests and the bus. */
void		 ns8250_io(void *, uint64_t, uint8_t *, uint32_t, int);

/* i8042.c: the keyboard controller, enough for Linux and for reset. */
#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64
#define I8042_KBD_IRQ		1
#define I8042_AUX_IRQ		12

struct i8042;
struct i8042	*i8042_create(struct vmm *);
void		 i8042_destroy(struct i8042 *);

/*
 * pm.c: the ACPI fixed hardware in port I/O at PM_BASE: the PM1a event
 * block (status, enable), the PM1a control block and the reset register.
 * The FADT in x86/acpi.c points at these.
 */
#define PM_BASE			0x600
#define PM_LEN			0x10
#define PM1A_EVT_BLK		(PM_BASE + 0x0)		/* 4 bytes */
#define PM1A_CNT_BLK		(PM_BASE + 0x4)		/* 2 bytes */
#define PM_RESET_REG		(PM_BASE + 0x8)		/* 1 byte */
#define PM_RESET_VALUE		0x0f
#define PM_SCI_IRQ		9
/* SLP_TYP of \_S5 in the DSDT: writing it with SLP_EN powers off. */
#define PM_SLP_TYP_S5		5

/* PM1 status and enable bits. */
#define PM1_TMR_STS		0x0001
#define PM1_GBL_STS		0x0020
#define PM1_PWRBTN_STS		0x0100
#define PM1_SLPBTN_STS		0x0200
#define PM1_RTC_STS		0x0400
#define PM1_WAK_STS		0x8000
/* PM1 control bits. */
#define PM1_SCI_EN		0x0001
#define PM1_SLP_TYP_SHIFT	10
#define PM1_SLP_TYP_MASK	0x1c00
#define PM1_SLP_EN		0x2000

struct pm;
struct pm	*pm_create(struct vmm *);
void		 pm_destroy(struct pm *);
/* Press the power button: PWRBTN_STS set, the SCI raised if enabled. */
void		 pm_power_button(struct pm *);
/* Whether the guest has enabled the power button event. */
int		 pm_power_button_enabled(struct pm *);
void		 pm_io(void *, uint64_t, uint8_t *, uint32_t, int);

/*
 * rtc.c: the MC146818 real time clock and CMOS RAM, as SeaBIOS and Linux
 * use it. A thread of the device raises IRQ 8 (periodic, update-ended and
 * alarm interrupts); the line stays high until the guest reads
 * register C.
 */
#define RTC_PORT		0x70		/* index; 0x71 data */
#define RTC_IRQ			8

struct rtc;
/* Registers ports 0x70-0x71 on vmm->pio (vmm may be NULL in tests). */
struct rtc	*rtc_create(struct vmm *);
void		 rtc_destroy(struct rtc *);
/* At a guest reset: interrupts off, flags clear, shutdown byte 0. */
void		 rtc_reset(struct rtc *);
/*
 * Set a CMOS byte the firmware reads. The clock's own registers
 * (0x00-0x0d and the century, 0x32) and indexes >= 128 are ignored.
 */
void		 rtc_set_cmos(struct rtc *, uint8_t index, uint8_t value);
/*
 * The PC's CMOS memory layout for SeaBIOS: RAM below and above 4 GiB in
 * bytes, the CPU count, no floppy, boot order disk then CD-ROM.
 */
void		 rtc_set_memory(struct rtc *, uint64_t below_4g,
		    uint64_t above_4g, int ncpus);

/*
 * debugcon.c: the firmware's debug port. line gets each line written
 * (without its newline, at most DEBUGCON_LINE_MAX bytes, unprintable
 * bytes as '?'), on the writing vCPU's thread.
 */
#define DEBUGCON_PORT		0x402
#define DEBUGCON_READBACK	0xe9
#define DEBUGCON_LINE_MAX	160

typedef void (*debugcon_line_fn)(void *arg, const char *line);
struct debugcon;
/* Registers the port on vmm->pio (vmm NULL: not, for tests); NULL if taken. */
struct debugcon	*debugcon_create(struct vmm *, debugcon_line_fn, void *arg);
/* Hands over a partial last line, then leaves the port. */
void		 debugcon_destroy(struct debugcon *);
void		 debugcon_io(void *, uint64_t, uint8_t *, uint32_t, int);

#endif

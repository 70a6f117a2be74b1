/*
 * A 16550A UART, as Linux's 8250 driver expects it: divisor latch,
 * interrupt identification with FIFOs, loopback for the driver's probe,
 * OUT2 gating the IRQ line as on a PC. Transmission is instant: the
 * transmitter is always empty, and bytes go to an output buffer that the
 * runner's main thread drains to the pty and the engine, so the guest
 * never waits for a reader. Received bytes wait in a 64-byte FIFO.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "vmm.h"
#include "xmalloc.h"

/* Registers (offsets from the base). */
#define UART_RBR	0	/* read, DLAB = 0 */
#define UART_THR	0	/* write, DLAB = 0 */
#define UART_DLL	0	/* DLAB = 1 */
#define UART_IER	1	/* DLAB = 0 */
#define UART_DLM	1	/* DLAB = 1 */
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IER_RLSI	0x04
#define IER_MSI		0x08

#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFOS	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

struct ns8250 {
	struct vmm	*vmm;
	pthread_mutex_t	 lock;
	int		 irq;
	int		 irq_level;
	hw_notify_fn	 notify;
	void		*arg;

	uint8_t		 ier, lcr, mcr, fcr, scr, dll, dlm;
	uint8_t		 overrun;
	int		 thr_ipending;

	uint8_t		 rx[NS8250_RX_FIFO];
	size_t		 rx_head, rx_count;
	int		 rx_blocked;	/* the owner saw it full */

	uint8_t		*tx;
	size_t		 tx_head, tx_count;
	uint64_t	 tx_dropped;
};

struct ns8250 *
ns8250_create(struct vmm *vmm, uint16_t base, int irq, hw_notify_fn notify,
    void *arg)
{
	struct ns8250 *s;

	s = xcalloc(1, sizeof *s);
	s->vmm = vmm;
	s->irq = irq;
	s->notify = notify;
	s->arg = arg;
	s->tx = xmalloc(NS8250_TX_BUF);
	s->dll = 0x0c;		/* 9600 baud, as after a BIOS */
	pthread_mutex_init(&s->lock, NULL);
	if (vmm != NULL && bus_register(&vmm->pio, base, 8, ns8250_io, s,
	    "ns8250") == -1) {
		ns8250_destroy(s);
		return NULL;
	}
	return s;
}

void
ns8250_destroy(struct ns8250 *s)
{
	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s->tx);
	free(s);
}

static uint8_t
ns8250_iir(struct ns8250 *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFOS : 0;

	if ((s->ier & IER_RLSI) && s->overrun)
		return IIR_RLSI | fifo;
	if ((s->ier & IER_RDI) && s->rx_count > 0)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* Bring the IRQ line in line with the pending interrupts; lock held. */
static void
ns8250_update_irq(struct ns8250 *s)
{
	int level;

	level = !(ns8250_iir(s) & IIR_NO_INT) && (s->mcr & MCR_OUT2);
	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (s->vmm != NULL && s->vmm->irq.line != NULL)
		s->vmm->irq.line(s->vmm->irq_opaque, s->irq, level);
}

static void
ns8250_rx_put(struct ns8250 *s, uint8_t c)
{
	if (s->rx_count == NS8250_RX_FIFO) {
		s->overrun = 1;
		return;
	}
	s->rx[(s->rx_head + s->rx_count) % NS8250_RX_FIFO] = c;
	s->rx_count++;
}

/* Returns 1 if the owner must be told (the buffer was empty). */
static int
ns8250_transmit(struct ns8250 *s, uint8_t c)
{
	int was_empty = s->tx_count == 0;

	s->thr_ipending = 1;
	if (s->mcr & MCR_LOOP) {
		ns8250_rx_put(s, c);
		return 0;
	}
	if (s->tx_count == NS8250_TX_BUF) {
		s->tx_dropped++;
		return 0;
	}
	s->tx[(s->tx_head + s->tx_count) % NS8250_TX_BUF] = c;
	s->tx_count++;
	return was_empty;
}

static uint8_t
ns8250_msr(struct ns8250 *s)
{
	uint8_t msr = 0;

	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (s->mcr & MCR_RTS)
		msr |= MSR_CTS;
	if (s->mcr & MCR_DTR)
		msr |= MSR_DSR;
	if (s->mcr & MCR_OUT1)
		msr |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return msr;
}

/* One register read; sets *notify when the FIFO has room again. */
static uint8_t
ns8250_read(struct ns8250 *s, int reg, int *notify)
{
	uint8_t v = 0xff, iir;

	switch (reg) {
	case UART_RBR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (s->rx_count == 0)
			return 0;
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % NS8250_RX_FIFO;
		s->rx_count--;
		if (s->rx_blocked) {
			s->rx_blocked = 0;
			*notify = 1;
		}
		return v;
	case UART_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR:
		iir = ns8250_iir(s);
		if ((iir & 0x0f) == IIR_THRI)
			s->thr_ipending = 0;
		return iir;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT;
		if (s->rx_count > 0)
			v |= LSR_DR;
		if (s->overrun)
			v |= LSR_OE;
		s->overrun = 0;
		return v;
	case UART_MSR:
		return ns8250_msr(s);
	case UART_SCR:
		return s->scr;
	}
	return v;
}

/* One register write; sets *notify when output waits for the owner. */
static void
ns8250_write(struct ns8250 *s, int reg, uint8_t v, int *notify)
{
	uint8_t old;

	switch (reg) {
	case UART_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else if (ns8250_transmit(s, v))
			*notify = 1;
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		old = s->ier;
		s->ier = v & 0x0f;
		/* Enabling THRI with the transmitter empty interrupts. */
		if ((s->ier & IER_THRI) && !(old & IER_THRI))
			s->thr_ipending = 1;
		else if (!(s->ier & IER_THRI))
			s->thr_ipending = 0;
		break;
	case UART_FCR:
		if (v & FCR_CLEAR_RX) {
			s->rx_head = s->rx_count = 0;
			s->overrun = 0;
			if (s->rx_blocked) {
				s->rx_blocked = 0;
				*notify = 1;
			}
		}
		s->fcr = v & 0xc9;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
}

/* The bus handler: byte registers, wider accesses taken byte by byte. */
void
ns8250_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct ns8250 *s = opaque;
	int notify = 0;
	uint32_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < len; i++) {
		if (off + i > UART_SCR) {
			if (!is_write)
				data[i] = 0xff;
			continue;
		}
		if (is_write)
			ns8250_write(s, off + i, data[i], &notify);
		else
			data[i] = ns8250_read(s, off + i, &notify);
	}
	ns8250_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (notify && s->notify != NULL)
		s->notify(s->arg);
}

size_t
ns8250_tx_drain(struct ns8250 *s, uint8_t *buf, size_t len)
{
	size_t n = 0, chunk;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->tx_count > 0) {
		chunk = NS8250_TX_BUF - s->tx_head;
		if (chunk > s->tx_count)
			chunk = s->tx_count;
		if (chunk > len - n)
			chunk = len - n;
		memcpy(buf + n, s->tx + s->tx_head, chunk);
		s->tx_head = (s->tx_head + chunk) % NS8250_TX_BUF;
		s->tx_count -= chunk;
		n += chunk;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t
ns8250_rx_push(struct ns8250 *s, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	for (n = 0; n < len && s->rx_count < NS8250_RX_FIFO; n++)
		ns8250_rx_put(s, buf[n]);
	if (s->rx_count == NS8250_RX_FIFO)
		s->rx_blocked = 1;
	ns8250_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t
ns8250_rx_space(struct ns8250 *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = NS8250_RX_FIFO - s->rx_count;
	if (n == 0)
		s->rx_blocked = 1;
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint64_t
ns8250_tx_dropped(struct ns8250 *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->tx_dropped;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/*
 * The i8042 keyboard controller, as much as Linux needs: the controller
 * commands its probe sends (self test, command byte, port tests), a
 * keyboard that answers its commands with ACKs and an ID, no auxiliary
 * (mouse) port, and the reset line: a pulse of output port bit 0 (0xfe
 * on port 0x64) or a write of the output port with bit 0 clear reboots.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "vmm.h"
#include "xmalloc.h"

/* Status register. */
#define STR_OBF		0x01
#define STR_SYS		0x04
#define STR_CMD		0x08
#define STR_UNLOCKED	0x10
#define STR_AUXDATA	0x20

/* Controller command byte. */
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40

/* Controller commands (port 0x64). */
#define CMD_READ_CTR	0x20
#define CMD_WRITE_CTR	0x60
#define CMD_AUX_DISABLE	0xa7
#define CMD_AUX_ENABLE	0xa8
#define CMD_AUX_TEST	0xa9
#define CMD_SELF_TEST	0xaa
#define CMD_KBD_TEST	0xab
#define CMD_KBD_DISABLE	0xad
#define CMD_KBD_ENABLE	0xae
#define CMD_READ_INPUT	0xc0
#define CMD_READ_OUTPUT	0xd0
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_WRITE_KBD	0xd2
#define CMD_AUX_LOOP	0xd3
#define CMD_WRITE_AUX	0xd4

/* Keyboard commands and answers (port 0x60). */
#define KBD_SET_LEDS	0xed
#define KBD_ECHO	0xee
#define KBD_SCANSET	0xf0
#define KBD_GET_ID	0xf2
#define KBD_TYPEMATIC	0xf3
#define KBD_RESET	0xff
#define KBD_ACK		0xfa
#define KBD_BAT_OK	0xaa

#define I8042_QUEUE	16

struct i8042 {
	struct vmm	*vmm;
	pthread_mutex_t	 lock;
	uint8_t		 ctr;
	uint8_t		 outport;
	uint8_t		 last_was_cmd;
	uint8_t		 pending_cmd;	/* controller command awaiting data */
	uint8_t		 pending_kbd;	/* keyboard command awaiting data */
	struct {
		uint8_t	 byte;
		uint8_t	 aux;
	}		 q[I8042_QUEUE];
	int		 qhead, qcount;
	int		 kbd_level;
	int		 aux_level;
};

static void	i8042_data_io(void *, uint64_t, uint8_t *, uint32_t, int);
static void	i8042_cmd_io(void *, uint64_t, uint8_t *, uint32_t, int);

struct i8042 *
i8042_create(struct vmm *vmm)
{
	struct i8042 *k;

	k = xcalloc(1, sizeof *k);
	k->vmm = vmm;
	k->ctr = CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT;
	k->outport = 0x03;	/* reset line high, A20 on */
	pthread_mutex_init(&k->lock, NULL);
	if (bus_register(&vmm->pio, I8042_DATA_PORT, 1, i8042_data_io, k,
	    "i8042 data") == -1) {
		i8042_destroy(k);
		return NULL;
	}
	if (bus_register(&vmm->pio, I8042_CMD_PORT, 1, i8042_cmd_io, k,
	    "i8042 command") == -1) {
		bus_unregister(&vmm->pio, I8042_DATA_PORT);
		i8042_destroy(k);
		return NULL;
	}
	return k;
}

void
i8042_destroy(struct i8042 *k)
{
	if (k == NULL)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static void
i8042_set_line(struct i8042 *k, int irq, int *cur, int level)
{
	if (*cur == level)
		return;
	*cur = level;
	if (k->vmm->irq.line != NULL)
		k->vmm->irq.line(k->vmm->irq_opaque, irq, level);
}

/* Raise the IRQ of the byte at the head of the queue, if enabled. */
static void
i8042_update_irq(struct i8042 *k)
{
	int kbd = 0, aux = 0;

	if (k->qcount > 0) {
		if (k->q[k->qhead].aux)
			aux = (k->ctr & CTR_AUXINT) != 0;
		else
			kbd = (k->ctr & CTR_KBDINT) != 0;
	}
	i8042_set_line(k, I8042_KBD_IRQ, &k->kbd_level, kbd);
	i8042_set_line(k, I8042_AUX_IRQ, &k->aux_level, aux);
}

static void
i8042_queue(struct i8042 *k, uint8_t byte, int aux)
{
	int i;

	if (k->qcount == I8042_QUEUE)
		return;
	i = (k->qhead + k->qcount) % I8042_QUEUE;
	k->q[i].byte = byte;
	k->q[i].aux = aux;
	k->qcount++;
}

/* A controller's answer replaces whatever the guest left unread. */
static void
i8042_answer(struct i8042 *k, uint8_t byte)
{
	k->qhead = k->qcount = 0;
	i8042_queue(k, byte, 0);
}

static void
i8042_reset(struct i8042 *k)
{
	vmm_request_exit(k->vmm, VMM_REBOOT, "the guest reset the machine "
	    "through the keyboard controller");
}

static void
i8042_command(struct i8042 *k, uint8_t cmd)
{
	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_answer(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD:
	case CMD_AUX_LOOP:
	case CMD_WRITE_AUX:
		k->pending_cmd = cmd;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		i8042_answer(k, 0x02);	/* no mouse: clock line stuck */
		break;
	case CMD_SELF_TEST:
		k->ctr |= CTR_SYS;
		i8042_answer(k, 0x55);
		break;
	case CMD_KBD_TEST:
		i8042_answer(k, 0x00);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_READ_INPUT:
		i8042_answer(k, 0x80);	/* keyboard not inhibited */
		break;
	case CMD_READ_OUTPUT:
		i8042_answer(k, k->outport);
		break;
	default:
		/* 0xf0-0xff pulse output port bits low; bit 0 is reset. */
		if ((cmd & 0xf0) == 0xf0 && !(cmd & 0x01))
			i8042_reset(k);
		break;
	}
}

/* A byte for the keyboard: it acknowledges everything it knows. */
static void
i8042_keyboard(struct i8042 *k, uint8_t v)
{
	if (k->pending_kbd != 0) {
		if (k->pending_kbd == KBD_SCANSET && v == 0) {
			i8042_queue(k, KBD_ACK, 0);
			i8042_queue(k, (k->ctr & CTR_XLATE) ? 0x41 : 0x02, 0);
		} else
			i8042_queue(k, KBD_ACK, 0);
		k->pending_kbd = 0;
		return;
	}
	switch (v) {
	case KBD_SET_LEDS:
	case KBD_SCANSET:
	case KBD_TYPEMATIC:
		k->pending_kbd = v;
		i8042_queue(k, KBD_ACK, 0);
		break;
	case KBD_ECHO:
		i8042_queue(k, KBD_ECHO, 0);
		break;
	case KBD_GET_ID:
		i8042_queue(k, KBD_ACK, 0);
		i8042_queue(k, 0xab, 0);
		i8042_queue(k, (k->ctr & CTR_XLATE) ? 0x41 : 0x83, 0);
		break;
	case KBD_RESET:
		i8042_queue(k, KBD_ACK, 0);
		i8042_queue(k, KBD_BAT_OK, 0);
		break;
	default:
		i8042_queue(k, KBD_ACK, 0);
		break;
	}
}

static void
i8042_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTPUT:
		k->outport = v;
		if (!(v & 0x01))
			i8042_reset(k);
		break;
	case CMD_WRITE_KBD:
		i8042_queue(k, v, 0);
		break;
	case CMD_AUX_LOOP:
		/* Answered as keyboard data: Linux then finds no AUX port. */
		i8042_answer(k, v);
		break;
	case CMD_WRITE_AUX:
		break;		/* nobody there */
	default:
		i8042_keyboard(k, v);
		break;
	}
}

/* Port 0x60: the output buffer, or data for a command or the keyboard. */
static void
i8042_data_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct i8042 *k = opaque;
	uint32_t i;

	(void)off;
	pthread_mutex_lock(&k->lock);
	for (i = 0; i < len; i++) {
		if (is_write) {
			k->last_was_cmd = 0;
			i8042_data(k, data[i]);
			continue;
		}
		if (k->qcount == 0) {
			data[i] = 0;
			continue;
		}
		data[i] = k->q[k->qhead].byte;
		k->qhead = (k->qhead + 1) % I8042_QUEUE;
		k->qcount--;
		/* Lower the line so the next byte is a new edge. */
		i8042_set_line(k, I8042_KBD_IRQ, &k->kbd_level, 0);
		i8042_set_line(k, I8042_AUX_IRQ, &k->aux_level, 0);
	}
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

/* Port 0x64: status on read, a controller command on write. */
static void
i8042_cmd_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct i8042 *k = opaque;
	uint32_t i;
	uint8_t st;

	(void)off;
	pthread_mutex_lock(&k->lock);
	for (i = 0; i < len; i++) {
		if (is_write) {
			k->last_was_cmd = 1;
			i8042_command(k, data[i]);
			continue;
		}
		st = STR_UNLOCKED;
		if (k->ctr & CTR_SYS)
			st |= STR_SYS;
		if (k->last_was_cmd)
			st |= STR_CMD;
		if (k->qcount > 0) {
			st |= STR_OBF;
			if (k->q[k->qhead].aux)
				st |= STR_AUXDATA;
		}
		data[i] = st;
	}
	i8042_update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

/*
 * The debug console SeaBIOS writes its log to (port 0x402, as QEMU's
 * isa-debugcon): reads return 0xe9, which tells the firmware the port is
 * there; written bytes are gathered into lines for the owner.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hw.h"
#include "vmm.h"
#include "xmalloc.h"

struct debugcon {
	struct vmm		*vmm;
	debugcon_line_fn	 line;
	void			*arg;
	pthread_mutex_t		 lock;
	char			 buf[DEBUGCON_LINE_MAX + 1];
	size_t			 len;
};

static void
debugcon_flush(struct debugcon *d)
{
	d->buf[d->len] = '\0';
	d->line(d->arg, d->buf);
	d->len = 0;
}

/* One byte: printable ones are kept, others shown as '?'. */
static void
debugcon_put(struct debugcon *d, uint8_t c)
{
	if (c == '\n') {
		debugcon_flush(d);
		return;
	}
	if (c == '\r')
		return;
	d->buf[d->len++] = c >= 0x20 && c < 0x7f ? (char)c : (c == '\t' ?
	    ' ' : '?');
	if (d->len == DEBUGCON_LINE_MAX)
		debugcon_flush(d);
}

void
debugcon_io(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
    int is_write)
{
	struct debugcon *d = opaque;
	uint32_t i;

	(void)off;
	if (!is_write) {
		memset(data, 0, len);
		data[0] = DEBUGCON_READBACK;
		return;
	}
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < len; i++)
		debugcon_put(d, data[i]);
	pthread_mutex_unlock(&d->lock);
}

struct debugcon *
debugcon_create(struct vmm *vmm, debugcon_line_fn line, void *arg)
{
	struct debugcon *d;

	d = xcalloc(1, sizeof *d);
	d->vmm = vmm;
	d->line = line;
	d->arg = arg;
	pthread_mutex_init(&d->lock, NULL);
	if (vmm != NULL && bus_register(&vmm->pio, DEBUGCON_PORT, 1,
	    debugcon_io, d, "debugcon") == -1) {
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

void
debugcon_destroy(struct debugcon *d)
{
	if (d == NULL)
		return;
	if (d->len > 0)
		debugcon_flush(d);
	if (d->vmm != NULL)
		bus_unregister(&d->vmm->pio, DEBUGCON_PORT);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

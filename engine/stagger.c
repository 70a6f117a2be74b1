/*
 * Starting the enabled VMs when the engine starts, `parallel` at a time
 * with `delay` seconds between groups, as `staggered start` says.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "xmalloc.h"

static void
stagger_next(int fd, short events, void *arg)
{
	struct config *conf = &engine->conf;
	struct timeval tv;
	char err[PROTO_TEXT_SIZE];
	size_t started = 0;
	struct vm *vm;

	(void)fd;
	(void)events;
	(void)arg;
	while (engine->stagger_next < engine->nstagger) {
		vm = engine->stagger[engine->stagger_next++];
		if (vm == NULL)
			continue;
		/* A failure is logged and kept as the VM's reason. */
		vm_start(vm, err, sizeof err);
		if (conf->stagger_parallel > 0 &&
		    ++started >= (size_t)conf->stagger_parallel)
			break;
	}
	if (engine->stagger_next >= engine->nstagger) {
		free(engine->stagger);
		engine->stagger = NULL;
		engine->nstagger = engine->stagger_next = 0;
		return;
	}
	tv.tv_sec = conf->stagger_delay;
	tv.tv_usec = 0;
	evtimer_add(engine->stagger_ev, &tv);
}

void
stagger_begin(void)
{
	struct vm *vm;
	size_t n = 0;

	/* An adopted VM runs already. */
	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (vm->conf->enabled && vm->state == VM_STOPPED)
			n++;
	if (n == 0)
		return;
	engine->stagger = xcalloc(n, sizeof *engine->stagger);
	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (vm->conf->enabled && vm->state == VM_STOPPED)
			engine->stagger[engine->nstagger++] = vm;
	engine->stagger_next = 0;
	if (engine->stagger_ev == NULL)
		engine->stagger_ev = evtimer_new(engine->base, stagger_next,
		    NULL);
	stagger_next(-1, 0, NULL);
}

/* Forget a VM that was started by hand or removed before its turn. */
void
stagger_cancel(struct vm *vm)
{
	size_t i;

	for (i = engine->stagger_next; i < engine->nstagger; i++)
		if (engine->stagger[i] == vm)
			engine->stagger[i] = NULL;
}

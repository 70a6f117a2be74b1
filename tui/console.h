/* Attaching the terminal to a VM's serial console (console.c). */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>

struct cmd_ctx;

/* The detach key besides ~. after a newline: Ctrl-]. */
#define CONSOLE_DETACH_KEY	0x1d

/* How long a takeover waits for the other attacher to let go. */
#define CONSOLE_TAKEOVER_MS	3000

/*
 * Attach to name's console: replay the last lines of its captured output
 * (replay lines, 0 for a screenful, -1 for none), then proxy the terminal
 * to the VM's pty until the user detaches, the VM stops or the engine is
 * lost. force takes the console over from another attacher. Return
 * values: 0 with how it ended in note, or -1 with the error in
 * ctx->error; the terminal is restored either way.
 */
int	console_attach(struct cmd_ctx *, const char *name, int replay,
	    int force, char *note, size_t notelen);

#endif

/*
 * The runner's side of the engine protocol (the engine's side is
 * engine/runner.c): the synchronous hand-off of parameters and fds, then
 * requests (pause, unpause, power button) and reports (ready, console
 * bytes, statistics, errors) on the event loop, to the engine that started
 * the runner or to one that adopted it on the adoption socket.
 */
#ifndef HANDOFF_H
#define HANDOFF_H

#include <stddef.h>

#include "proto.h"

struct event_base;
struct vmm_fds;

/* What the runner's main does on the engine's requests. */
struct handoff_ops {
	/* Stop (pause != 0) or resume every vCPU; 0, or -1 with err. */
	int	(*pause)(int pause, char *err, size_t errlen);
	/* Press the guest's power button. */
	void	(*power_button)(void);
	/* Whether the vCPUs are paused, for an adopting engine. */
	int	(*paused)(void);
	/* Optional: an engine connects to adopt the runner (tests). */
	void	(*adopting)(void);
};

/*
 * Read the hand-off from the engine on sock: the params, the fds (by
 * kind, index and depth) and MSG_RUN_START_END. Returns 0, or -1 with a
 * sentence in err.
 */
int	handoff_receive(int sock, struct proto_run_params *,
	    struct vmm_fds *, char *err, size_t errlen);
/*
 * Every fd in fds, the adoption socket and the engine's socket (last), for
 * the sandbox's keep list; returns how many.
 */
int	handoff_fd_list(const struct vmm_fds *, int *fds, int max);
/* The adoption socket (RUNFD_ADOPT) handed over, or -1. */
int	handoff_adopt_socket(void);
/*
 * Serve the engine's requests on the event loop from now on, and listen
 * on the adoption socket: call it once sandboxed.
 */
void	handoff_listen(struct event_base *, const struct handoff_ops *);
void	handoff_ready(void);
void	handoff_console(const void *, size_t);
void	handoff_stats(const struct proto_stats *);
/*
 * Before handoff_listen(): report an error to the engine and exit with
 * RUNNER_EXIT_ERROR.
 */
void	handoff_fail(const char *, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));
/* Queue MSG_RUN_ERROR with text (a sentence). */
void	handoff_error(const char *);
/*
 * The guest ended: tell the attached engine (MSG_RUN_EXIT) and exit with
 * code once what is queued for it is written (or after a few seconds).
 * With no engine attached, wait for one to adopt the runner (at most an
 * hour), tell it, and exit. Returns to the event loop meanwhile.
 */
void	handoff_exit(int code);

#endif

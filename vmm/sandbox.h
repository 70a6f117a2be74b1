/*
 * The runner's sandbox, entered before it reads anything the guest
 * controls: no new privileges, only the handed-over fds, new namespaces
 * with an empty root, an unprivileged uid, rlimits and a seccomp
 * allowlist. Afterwards the runner can open no file by path.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>

struct proto_run_params;

/*
 * Step one, right after the hand-off: no_new_privs, stdin and stdout on
 * /dev/null, every fd above 2 closed but the keep ones. Returns 0, or -1
 * with a sentence in err.
 */
int	sandbox_begin(const int *keep, int nkeep, char *err, size_t errlen);
/*
 * Step two, once the runner has opened what it keeps (its event loop, its
 * statistics): namespaces and an empty root, the uid and gid of the
 * params (or nobody) when root, rlimits, then seccomp. Returns 0, or -1
 * with a sentence in err.
 */
int	sandbox_finish(const struct proto_run_params *, char *err,
	    size_t errlen);
/* Once every thread runs: no more threads or processes, ever. */
int	sandbox_lock_threads(void);
/* What sandbox_finish managed, for the log ("user,mount,net,ipc ns"). */
const char *sandbox_summary(void);

#endif

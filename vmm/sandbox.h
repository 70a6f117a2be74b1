/*
 * The runner's sandbox, entered before it reads anything the guest
 * controls: no new privileges, only the handed-over fds, new namespaces
 * (pid too) with an empty root, an unprivileged uid, rlimits and a seccomp
 * allowlist. Afterwards the runner can open no file by path.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

struct proto_run_params;

/*
 * Step one, right after the hand-off: no_new_privs, stdin and stdout on
 * /dev/null, every fd above 2 closed but the keep ones. Returns 0, or -1
 * with a sentence in err.
 */
int	sandbox_begin(const int *keep, int nkeep, char *err, size_t errlen);
/*
 * Step two: new mount, net, IPC, UTS and pid namespaces (a user namespace
 * first when not root). Where the pid namespace was made, the process
 * forks: only the child returns, as pid 1 of the namespace; the parent
 * drops to the params' uid (when root), holds no fd, forwards signals and
 * ends as the child ends. Returns 0, or -1 with a sentence in err.
 */
int	sandbox_unshare(const struct proto_run_params *, char *err,
	    size_t errlen);
/*
 * Step three, once the runner has opened what it keeps (its event loop, its
 * statistics): an empty root, the uid and gid of the
 * params (or nobody) when root, rlimits, then seccomp. Returns 0, or -1
 * with a sentence in err.
 */
int	sandbox_finish(const struct proto_run_params *, char *err,
	    size_t errlen);
/*
 * After a uid change in the pid namespace's child: die with the parent
 * again (the change cleared PR_SET_PDEATHSIG); sandbox_finish calls it.
 */
int	sandbox_pid_rearm(char *err, size_t errlen);
/* Before sandbox_finish: the one fd the filter lets listen and accept. */
void	sandbox_listener(int fd);
/* sandbox_pid.c: fork into the pid namespace; only the child returns 0. */
int	sandbox_pid_fork(uid_t uid, gid_t gid, int userns, char *err,
	    size_t errlen);
/* Close every fd above 2 but the keep ones: 0, or -1 with errno set. */
int	sandbox_close_others(const int *keep, int nkeep);
/* Drop every capability (those a user namespace gave). 0, or -1 errno. */
int	sandbox_drop_caps(void);
/* Once every thread runs: no more threads or processes, ever. */
int	sandbox_lock_threads(void);
/* What sandbox_finish managed, for the log ("user,mount,net,ipc ns"). */
const char *sandbox_summary(void);

#endif

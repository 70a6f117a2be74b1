/*
 * The engine (vmtop -D): VM registry and state machine, control socket,
 * resource opening, rate-limited starts and the runners it launches.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <stdint.h>
#include <time.h>

#include "compat.h"
#include "config.h"
#include "proto.h"

struct event;
struct event_base;
struct msg;
struct msgconn;
struct ucred;

/* What `vmtop` hands the engine on its command line. */
struct engine_opts {
	const char	*socket;	/* NULL: paths_socket() */
	const char	*config;	/* NULL: paths_config() */
	int		 foreground;	/* log to stderr */
	int		 verbose;
};

int	engine_main(const struct engine_opts *);
/* vmtop -n: parse the config and report; returns the exit status. */
int	engine_check_config(const char *path, int verbose);
/* The config text used when no vm.conf exists (the demo VM). */
const char *engine_default_config(void);

/* ratelimit.c: vmd's rule for starts that come too quickly. */
#define RATELIMIT_FAST_NS	(6ULL * 1000000000ULL)
#define RATELIMIT_MAX_FAST	3
struct ratelimit {
	uint64_t	last_ns;	/* monotonic time of the last start */
	int		fast;		/* fast starts in a row */
};
/* Count a start at now_ns; returns -1 if it is one fast start too many. */
int	ratelimit_start(struct ratelimit *, uint64_t now_ns);
void	ratelimit_reset(struct ratelimit *);
uint64_t ratelimit_now(void);

/* capture.c: the last console output of a VM, kept after it stops. */
#define CAPTURE_SIZE	(64 * 1024)
struct capture {
	uint8_t		*buf;		/* allocated on first output */
	size_t		 head;		/* next write position */
	size_t		 len;
	int		 logfd;
	char		*logpath;
	int		 log_ok;	/* every byte so far is in the log */
	int		 from_log;	/* stopped: the log's tail serves */
	uid_t		 owner;		/* whose output this is */
	uint64_t	 logsize;	/* bytes in NAME.log */
	uint64_t	 log_max;	/* NAME.log is rotated at this size */
	uint32_t	 log_keep;	/* rotated files kept */
	int		 rotated;	/* this run rotated NAME.log */
};
void	capture_init(struct capture *);
void	capture_append(struct capture *, const void *, size_t);
/* Copy out the kept bytes in order; returns how many. */
size_t	capture_copy(struct capture *, uint8_t *, size_t);
/* Open DIR/VM.log for owner, rotated at size, keep kept; -1 and errno. */
int	capture_open_log(struct capture *, const char *dir, const char *vm,
	    uid_t owner, uint64_t size, uint32_t keep);
/* Open DIR/VM.log again and fill the ring from its tail: an adoption. */
int	capture_reopen_log(struct capture *, const char *dir, const char *vm,
	    uid_t owner, uint64_t size, uint32_t keep);
/* Forget what another owner's VM of that name wrote. */
void	capture_set_owner(struct capture *, uid_t);
void	capture_close_log(struct capture *);
/* The VM stopped: free the ring if its log holds everything. */
void	capture_stopped(struct capture *);
void	capture_free(struct capture *);

struct client;

/* What a waiter waits for (vm_wait). */
enum wait_kind {
	WAIT_START,		/* the VM runs, or fails or stops first */
	WAIT_STOP,		/* the VM has stopped (or failed) */
	WAIT_RUNNER,		/* the runner answers a pause or unpause */
};

struct vm;
struct adoption;
/* Called once when what a waiter waits for happens; err NULL on success. */
typedef void	(*vm_wake_cb)(struct vm *, const char *err, void *arg);

struct waiter {
	TAILQ_ENTRY(waiter) entry;
	enum wait_kind	 kind;
	uint32_t	 vmid;
	vm_wake_cb	 fn;
	void		*arg;
};
TAILQ_HEAD(waiters, waiter);

/* The fds a runner is handed, opened by resource.c. */
struct resources {
	int		kvm;
	int		kernel;
	int		initrd;
	int		bios;
	int		cdrom;
	int		seed;		/* the cloud-init seed, read-only */
	int		disks[VM_MAX_DISKS];
	int		bases[VM_MAX_DISKS][VM_MAX_BASE_IMAGES];
	int		nbases[VM_MAX_DISKS];
	enum disk_format formats[VM_MAX_DISKS];
	int		nics[VM_MAX_NICS];
	int		pty;
};

/* A hostfwd rule added while the VM runs (forward.c), vm.conf's form. */
struct vm_forward {
	int		 nic;
	char		 rule[VM_HOSTFWD_SIZE];
};

struct vm {
	TAILQ_ENTRY(vm)	 entry;
	uint32_t	 id;
	struct conf_vm	*conf;		/* what it starts with */
	struct conf_vm	*next_conf;	/* a reload's, applied once stopped */
	int		 adhoc;		/* started without a config block */
	int		 removed;	/* gone from the config: drop at stop */
	enum vm_state	 state;
	char		 reason[PROTO_TEXT_SIZE];
	pid_t		 pid;
	uid_t		 runner_uid;	/* its runner's, from uids.c; 0: none */
	struct msgconn	*runner;
	int		 stop_requested;
	int		 force_stop;
	uint32_t	 pending_op;	/* pause/unpause sent to the runner */
	int		 pty;		/* master, kept across reboots */
	char		 tty[32];
	char		 owner[32];	/* the owner's name, looked up once */
	uid_t		 owner_uid;
	struct capture	 capture;
	struct ratelimit rl;
	time_t		 started;
	uint32_t	 restarts;
	struct proto_stats stats;
	uint64_t	 stats_ns;
	struct event	*retry;		/* restart after a guest reboot */
	struct opening	*opening;	/* its files being opened (resource.c) */
	uint64_t	 pid_start;	/* its runner's start time (/proc) */
	int		 adopted;	/* its runner is an earlier engine's */
	int		 changed;	/* next_conf differs: a restart applies it */
	int		 statefile;	/* its runners/ files are ours to remove */
	int		 pidfd;		/* an adopted runner's, or -1 */
	struct event	*pidfd_ev;
	struct event	*gone_timer;	/* its socket's last bytes may follow */
	int		 runner_gone;	/* the adopted runner's pid has ended */
	int		 exit_told;	/* it sent MSG_RUN_EXIT */
	uint32_t	 exit_code;	/* RUNNER_EXIT_*, when told */
	struct adoption	*adoption;	/* being adopted (adopt.c) */
	struct vm_forward forwards[VM_MAX_FORWARDS];	/* until it stops */
	int		 nforwards;
};
TAILQ_HEAD(vmlist, vm);

/* One `stop -a -w` request: answered once every VM it asked has stopped. */
struct stopall {
	TAILQ_ENTRY(stopall) entry;
	struct client	*cl;
	uint32_t	 left;		/* VMs not stopped yet, + 1 while asking */
	char		*err;		/* the first error */
};
TAILQ_HEAD(stopalls, stopall);

/* An answer held back while a list reply is being written. */
struct answer {
	TAILQ_ENTRY(answer) entry;
	char		*err;		/* NULL: MSG_OK */
};
TAILQ_HEAD(answers, answer);

struct client {
	TAILQ_ENTRY(client) entry;
	struct msgconn	*conn;
	uid_t		 uid;
	gid_t		 gid;
	gid_t		*groups;	/* supplementary, as the kernel says */
	uint32_t	 console_vm;	/* the VM whose console it holds, or 0 */
	int		 ngroups;
	pid_t		 pid;
	int		 hello;
	struct event	*hello_timer;	/* drops it if it never says hello */
	uint32_t	 nwaits;	/* requests waiting for their answer */
	struct stopalls	 stopalls;
	struct event	*sub_timer;
	int		 listing;	/* a list reply is being written */
	uint32_t	 list_next;	/* the id of the next VM it gets */
	time_t		 list_started;
	struct event	*stall_timer;	/* drops it if a chunk stays unread */
	struct answers	 held;		/* answers due once the list ends */
};
TAILQ_HEAD(clientlist, client);

struct engine {
	struct event_base *base;
	char		*socket_path;
	char		*config_path;
	char		*statedir;
	char		*logdir;
	char		*runner_path;
	const char	*kvm_path;
	int		 lockfd;
	int		 listenfd;
	struct event	*listen_ev;
	struct config	 conf;
	struct vmlist	 vms;
	struct clientlist clients;
	struct waiters	 waiters;
	uint32_t	 nextid;
	time_t		 started;
	int		 exiting;
	struct event	*exit_timer;
	struct event	*stagger_ev;
	struct vm	**stagger;	/* enabled VMs still to start */
	int		 runnersfd;	/* O_PATH: STATEDIR/runners */
	char		*runnersdir;
	int		 keep_vms;	/* exiting, leaving the runners running */
	size_t		 nstagger;
	size_t		 stagger_next;
};

extern struct engine *engine;

/*
 * vm.c: the registry and the state machine, the only code that changes a
 * VM's state. What happens to a VM is an event; a table says from which
 * states each one may happen and where it leads.
 */
enum vm_event {
	VM_EV_START,		/* stopped or failed -> starting */
	VM_EV_READY,		/* the runner says the guest boots */
	VM_EV_PAUSE,		/* the runner paused the vCPUs */
	VM_EV_UNPAUSE,
	VM_EV_STOP,		/* asked to stop: stopping until it exits */
	VM_EV_EXIT,		/* the runner ended as asked: stopped */
	VM_EV_RESTART,		/* the guest rebooted: starting again */
	VM_EV_FAIL,		/* failed, with a reason */
	VM_EV_ADOPT,		/* an earlier engine's runner is adopted */
	VM_EV_COUNT
};

/* What the state machine needs from outside: runner.c's, or a test's. */
struct vm_ops {
	/* Open the VM's resources and launch its runner: 0, or -1 and err. */
	int		(*launch)(struct vm *, char *err, size_t errlen);
	/* Send a request without payload: 0, or -1 with errno set. */
	int		(*send)(struct vm *, uint32_t type);
	/* End the runner now; its exit comes to vm_runner_exited(). */
	void		(*kill)(struct vm *);
	/* The monotonic clock the start rate limit reads, in ns. */
	uint64_t	(*now)(void);
};
/* Replace the ops (NULL: runner.c's again). */
void		 vm_set_ops(const struct vm_ops *);

struct vm	*vm_find(const char *);
struct vm	*vm_find_id(uint32_t);
struct vm	*vm_find_pid(pid_t);
struct vm	*vm_add(struct conf_vm *, int adhoc);
void		 vm_remove(struct vm *);
/* Whether the table lets ev happen to vm in its state. */
int		 vm_can(const struct vm *, enum vm_event);
const char	*vm_event_name(enum vm_event);
/*
 * Requests: each returns 0, or -1 with a sentence naming the VM in err
 * (for a start that fails, also the VM's reason).
 */
int		 vm_start(struct vm *, char *err, size_t errlen);
/* Start with conf for this run (the VM's own returns at stop); takes conf. */
int		 vm_start_conf(struct vm *, struct conf_vm *, char *,
		    size_t);
int		 vm_stop(struct vm *, int force, char *err, size_t errlen);
/* Pause and unpause answer through WAIT_RUNNER waiters. */
int		 vm_pause(struct vm *, char *err, size_t errlen);
int		 vm_unpause(struct vm *, char *err, size_t errlen);
/* Call fn when vm gets to what kind waits for (at once if it is there). */
void		 vm_wait(struct vm *, enum wait_kind, vm_wake_cb, void *);
/* Forget every waiter registered with arg, unanswered. */
void		 vm_wait_cancel(void *arg);
/* Events from the runner (runner.c); text is the runner's own sentence. */
void		 vm_runner_ready(struct vm *);
void		 vm_runner_error(struct vm *, const char *text);
void		 vm_runner_replied(struct vm *, const char *error);
void		 vm_runner_hungup(struct vm *);
void		 vm_runner_exited(struct vm *, int status);
/* A launch that went on in the background failed; err names the VM. */
void		 vm_launch_failed(struct vm *, const char *err);
/* An adopted runner serves vm: stopped or failed -> running (or paused). */
void		 vm_adopted(struct vm *, int paused);
void		 vm_fill_info(struct vm *, struct proto_vm_info *);
void		 vm_apply_config(struct config *);

/*
 * limits.c: whether uid may start conf as vm (NULL for a new ad hoc VM)
 * within the per-user limits of conf's owner; -1 with a sentence in err.
 */
int		 limits_check_start(struct vm *, const struct conf_vm *, uid_t,
		    char *err, size_t errlen);

/* access.c: who may touch what */
void		 owner_name(uid_t, char *, size_t);
uid_t		 access_owner(const struct vm *);
/*
 * The supplementary groups of the peer on socket s (pid, for /proc when
 * the kernel cannot say), malloc'd in *groups; the count, or -1.
 */
int		 access_peer_groups(int s, pid_t pid, gid_t **groups);
/* Whether cl may act on vm (start, stop, pause, capture, details). */
int		 access_may_act(const struct vm *, const struct client *);
/* Whether uid (primary group gid) is a member of group. */
int		 access_in_group(uid_t, gid_t, gid_t group);
/* Whether the owner uid/gid may read (and write) the file st describes. */
int		 access_file_ok(const struct stat *, uid_t, gid_t, int write);

/*
 * resource.c: open everything a VM needs, through the opener, without
 * blocking: done gets the files, or err (which names the VM); the
 * resources are closed after it returns (it duplicates what it keeps).
 */
struct opening;
typedef void	(*resources_cb)(struct vm *, struct resources *,
		    const char *err);
void		 resources_init(struct resources *);
/* Returns 0 (done is called later), or -1 with a sentence in err. */
int		 resources_open(struct vm *, resources_cb, char *, size_t);
/* Stop an opening: the child's exit comes to vm_runner_exited(). */
void		 resources_cancel(struct vm *);
/* The VM goes away: its opening is dropped, with no callback. */
void		 resources_forget(struct vm *);
/* 1 if pid was an opener (its status is taken), else 0. */
int		 resources_reaped(pid_t, int status);
void		 resources_close(struct resources *);
struct vm	*resources_disk_holder(const char *path, struct vm *self);

/*
 * opener.c: the opener child, which opens a VM's files with its owner's
 * rights and sends them on sock (MSG_OPEN_*); never returns.
 */
int		 opener_drops(const struct conf_vm *);
void		 opener_run(int sock, uint32_t id, const struct conf_vm *,
		    const struct config *, const char *kvm_path,
		    const char *statedir)
		    __attribute__((noreturn));

/*
 * netif.c: NICs: a tap (on its switch's bridge) or a socketpair served by
 * a vmtop-slirp helper, which netif_release() ends with the runner.
 */
int		 netif_open(struct vm *, struct resources *, int, char *,
		    size_t);
void		 netif_lladdr(const struct conf_vm *, int, uint8_t *);
void		 netif_release(struct vm *);
int		 netif_reaped(pid_t, int);
/*
 * Have the helper of vm's NIC nic add or remove (MSG_SLIRP_HOSTFWD_*)
 * rule, in vm.conf's form: 0, or -1 with a sentence naming the VM, the
 * interface and the rule in err (a port in use, a helper that an
 * earlier engine started).
 */
int		 netif_hostfwd(struct vm *, int nic, uint32_t type,
		    const char *rule, char *err, size_t errlen);
/* Know an earlier engine's helper of vm's NIC nic: 0, or -1 and errno. */
int		 netif_adopt(struct vm *, int nic, pid_t, uint64_t start);
/* vm's helpers, for its state file: how many went into rs. */
struct runstate;
void		 netif_state(struct vm *, struct runstate *);

/*
 * forward.c: forward and unforward, rules in the forward form of
 * lib/hostfwd.h on NIC nic (FORWARD_ANY_NIC: the first user-mode one)
 * of a running VM; 0, or -1 with a sentence naming the VM and the rule.
 */
int		 forward_add(struct vm *, uint32_t nic, const char *rule,
		    char *err, size_t errlen);
int		 forward_remove(struct vm *, uint32_t nic, const char *rule,
		    char *err, size_t errlen);

/* runner.c: fork, exec and feed vmtop-vm; vm.c's ops */
/*
 * Fork a child of vm's with a socket to it: the pid (0 in the child),
 * with *sock its end of the socketpair; or -1 with a sentence in err.
 */
pid_t		 runner_fork(struct vm *, int *sock, char *err, size_t errlen);
int		 runner_launch(struct vm *, char *, size_t);
int		 runner_send(struct vm *, uint32_t type);
void		 runner_kill(struct vm *);
void		 runner_reap(void);
/* The runner socket's handlers, also for a runner being adopted. */
int		 runner_dispatch(struct msgconn *, struct msg *, void *);
void		 runner_closed(struct msgconn *, void *);
/* Watch an adopted runner's pidfd: its end comes to vm_runner_exited(). */
int		 runner_watch(struct vm *, int pidfd);
/* Let go of every runner, leaving it running, as the engine exits. */
void		 runner_keep_all(void);

/* uids.c: a uid of its own for each running VM (root engine) */
int		 uids_alloc(struct vm *, char *, size_t);
void		 uids_free(struct vm *);
void		 uids_of(struct vm *, uint32_t *, uint32_t *);
/* Whether uid is in the runner range and held by no VM but self. */
int		 uids_may_claim(struct vm *self, uid_t);
/* A runner left alone holds uid: never hand it out while name's is kept. */
void		 uids_reserve(const char *name, uid_t);
void		 uids_unreserve(const char *name);

/* listen.c: the listening socket and who gets in */
int		 listen_open(void);
/* Hold new clients in the backlog (1) or accept them again (0). */
void		 listen_hold(int);
void		 listen_close(void);
void		 listen_slot_freed(void);

/* control.c: clients and their requests */
/* A new client on socket s; -1 (s not taken) if it cannot be served. */
int		 control_client_new(int s, const struct ucred *);
/* The connections of uid, and (in all) of everyone. */
uint32_t	 control_count(uid_t uid, uint32_t *all);
void		 control_broadcast_vm(struct vm *);

/* engine.c */
/* Stop every VM and exit; keep: exit leaving every runner running. */
void		 engine_shutdown(int keep);
/* Parse the config file; errors go to errout. Returns the error count. */
int		 engine_load_config(struct config *, FILE *errout);
int		 engine_reload(FILE *errout);

/*
 * state.c: what the engine knows of a running VM that its runner does
 * not, in STATEDIR/runners/NAME.state beside the runner's socket
 * NAME.sock, for the engine that adopts it.
 */
struct runstate {
	char		 name[VM_NAME_SIZE];
	int		 adhoc;
	uid_t		 owner;
	uid_t		 runner_uid;	/* 0: none of its own */
	pid_t		 pid;
	uint64_t	 pid_start;	/* field 22 of /proc/PID/stat */
	time_t		 started;
	uint32_t	 restarts;
	struct ratelimit rl;
	char		 tty[32];
	int		 nslirp;
	struct {
		int		nic;
		pid_t		pid;
		uint64_t	start;
	}		 slirp[VM_MAX_NICS];
	struct vm_forward forwards[VM_MAX_FORWARDS];	/* forward's rules */
	int		 nforwards;
	char		*config;	/* the VM's block as vm.conf text */
};
/* Make and open STATEDIR/runners; -1 and errno. */
int		 state_init(void);
/*
 * A socket bound at NAME.sock for vm's runner to listen on: the fd, or
 * -1 with a sentence in err (another engine's runner listens there).
 */
int		 state_socket(struct vm *, char *err, size_t errlen);
/* Whether a runner listens at NAME.sock: 0, or -1 with a sentence. */
int		 state_check_free(struct vm *, char *err, size_t errlen);
/* Connect to NAME.sock without blocking: the fd, or -1 and errno. */
int		 state_connect(const char *name);
/* Write NAME.state for vm (failures are logged). */
void		 state_write(struct vm *);
/* Read NAME.state into rs: 0, or -1 with a sentence in err. */
int		 state_read(const char *name, struct runstate *, char *err,
		    size_t errlen);
void		 state_free(struct runstate *);
/* Remove NAME.state and NAME.sock: the VM has stopped for good. */
void		 state_remove(const char *name);
/* The start time of pid (field 22 of /proc/PID/stat), or 0. */
uint64_t	 state_pid_start(pid_t);
/* The parent of pid, or -1. */
pid_t		 state_ppid(pid_t);

/* adopt.c: adopting the runners an earlier engine left running */
/* Adopt every runner in STATEDIR/runners, then call done (at most 5 s). */
void		 adopt_begin(void (*done)(void));
/* A runner being adopted sent m, or hung up; runner.c passes them on. */
int		 adopt_message(struct vm *, struct msg *);
void		 adopt_closed(struct vm *);

/*
 * seed.c: the cloud-init NoCloud seed, an ISO 9660 volume "cidata" with
 * meta-data, user-data and network-config. Strings are NUL-terminated.
 */
struct seed {
	const char	*vm;		/* instance-id and local-hostname */
	const char	*user;		/* the login made, with sudo */
	const char	*keys;		/* its authorized keys, one a line */
	const char	*user_data;	/* given: used as is instead */
	size_t		 user_data_len;
	const uint8_t	(*macs)[6];	/* the user-mode NICs: DHCP on each */
	int		 nmacs;
};
/* The files' texts, malloc'd (network-config: NULL without a NIC). */
char		*seed_meta_data(const struct seed *);
char		*seed_user_data(const struct seed *);
char		*seed_network_config(const struct seed *);
/*
 * The key lines of a public key file's text (malloc'd in *keys, one a
 * line); -1 with why it is not one in why.
 */
int		 seed_keys(const char *text, size_t len, char **keys,
		    char *why, size_t whylen);
/*
 * Write the volume to fd (a new file at path, for messages): 0, or -1
 * with a sentence naming the VM and the path in err.
 */
int		 seed_write(const struct seed *, int fd, const char *path,
		    char *err, size_t errlen);

/*
 * cloudinit.c: a VM's cloud-init seed, STATEDIR/vms/NAME/cidata.iso,
 * made by its opener child with the owner's rights.
 */
void		 cloudinit_path(const char *statedir, const char *name,
		    char *buf, size_t len);
/*
 * Before the opener drops: make STATEDIR/vms/NAME owner's and open it.
 * The fd, or -1 with a sentence naming the VM and the folder in err.
 */
int		 cloudinit_dir(const struct conf_vm *, const char *statedir,
		    uid_t owner, char *err, size_t errlen);
/*
 * As the owner (own: the engine's own user, whose $HOME and STATEDIR
 * are the owner's): write the seed in dirfd and open it read-only. The
 * fd, or -1 with a sentence naming the VM and the file in err.
 */
int		 cloudinit_seed(const struct conf_vm *, const char *statedir,
		    int own, int dirfd, char *err, size_t errlen);
/* The VM is gone: remove its seed and folder. */
void		 cloudinit_remove(const char *statedir, const char *name);

/* stagger.c: start enabled VMs as `staggered start` says */
void		 stagger_begin(void);
void		 stagger_cancel(struct vm *);

#endif

/*
 * Every message between vmtop processes: types in numbered blocks per
 * peer, and fixed-layout payloads without pointers. A payload's size is
 * checked exactly (or bounded, for a variable tail) before it is used.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stdint.h>

#define PROTOCOL_VERSION	6
/*
 * The engine <-> runner protocol's own version (200-299), told both ways
 * on adoption: an engine adopts only a runner that speaks its version, so
 * it is raised only when that part changes, not with every client change.
 */
#define RUNNER_PROTOCOL_VERSION	1

#define VM_NAME_MAX		64		/* characters */
#define VM_NAME_SIZE		(VM_NAME_MAX + 1)
#define VM_PATH_SIZE		1024
#define VM_CMDLINE_SIZE		2048
#define VM_MAX_DISKS		8
#define VM_MAX_NICS		4
#define VM_MAX_BASE_IMAGES	8		/* a disk's base chain depth */
#define VM_MAX_HOSTFWD		8
#define VM_HOSTFWD_SIZE		96
#define VM_MAX_FORWARDS		8		/* added while it runs */
#define VM_MAX_VCPUS		64
#define PROTO_TEXT_SIZE		512

/* VM states, as the engine's state machine keeps them. */
enum vm_state {
	VM_STOPPED = 0,
	VM_STARTING,
	VM_RUNNING,
	VM_PAUSED,
	VM_STOPPING,
	VM_FAILED,
	VM_STATE_COUNT
};

const char	*proto_state_name(uint32_t);

/* How a runner's exit status maps to what happened to the guest. */
#define RUNNER_EXIT_POWEROFF	0	/* guest powered off: stopped */
#define RUNNER_EXIT_ERROR	1	/* runner failed; it sent MSG_RUN_ERROR */
#define RUNNER_EXIT_REBOOT	3	/* guest rebooted: start it again */

/* The fd a runner is started with: its socket to the engine. */
#define RUNNER_SOCKET_FD	3
/* The fd vmtop-slirp is started with: its end of the NIC's frame socket. */
#define SLIRP_SOCKET_FD		3
/* And its control socket, on which the engine changes its rules. */
#define SLIRP_CONTROL_FD	4

enum msg_type {
	/* 1-99: any peer */
	MSG_HELLO = 1,		/* struct proto_hello, both ways */
	MSG_OK,			/* empty: the request succeeded */
	MSG_ERROR,		/* struct proto_error: the request failed */
	MSG_END,		/* empty: ends a multi-message reply */

	/* 100-199: client -> engine requests, engine -> client replies */
	MSG_CMD_LIST = 100,	/* struct proto_name ("" = all) */
	MSG_CMD_SHOW,		/* struct proto_name */
	MSG_CMD_START,		/* struct proto_start */
	MSG_CMD_STOP,		/* struct proto_stop */
	MSG_CMD_PAUSE,		/* struct proto_name */
	MSG_CMD_UNPAUSE,	/* struct proto_name */
	MSG_CMD_WAIT,		/* struct proto_name */
	MSG_CMD_CAPTURE,	/* struct proto_name */
	MSG_CMD_RELOAD,		/* empty */
	MSG_CMD_LOG,		/* struct proto_log */
	MSG_CMD_KILL,		/* struct proto_kill, or empty (flags 0):
				   stop every VM (unless kept) and exit */
	MSG_CMD_SUBSCRIBE,	/* struct proto_subscribe */
	MSG_CMD_CONSOLE,	/* struct proto_console: hold or let go of a
				   VM's console; MSG_CONSOLE_HELD or MSG_OK */
	MSG_CMD_FORWARD,	/* struct proto_forward: add a hostfwd rule
				   to a running VM's user-mode NIC */
	MSG_CMD_UNFORWARD,	/* struct proto_forward: remove one */
	MSG_VM_INFO = 150,	/* struct proto_vm_info */
	MSG_VM_DETAIL,		/* struct proto_detail */
	MSG_CAPTURE_DATA,	/* console bytes, 0 to MSG_MAX_PAYLOAD */
	MSG_ENGINE_INFO,	/* struct proto_engine_info */
	MSG_CONSOLE_HELD,	/* struct proto_console_held: it is yours */
	MSG_CONSOLE_TAKEN,	/* struct proto_console_taken: let go of it */

	/* 200-299: engine <-> runner; peer id = VM id */
	MSG_RUN_PARAMS = 200,	/* struct proto_run_params, engine -> runner */
	MSG_RUN_FD,		/* struct proto_run_fd + one fd */
	MSG_RUN_START_END,	/* empty: the hand-off is complete */
	MSG_RUN_READY,		/* empty, runner -> engine: the guest runs */
	MSG_RUN_ERROR,		/* struct proto_error, runner -> engine */
	MSG_RUN_PAUSE,		/* empty; answered with MSG_OK or MSG_ERROR */
	MSG_RUN_UNPAUSE,	/* empty; answered with MSG_OK or MSG_ERROR */
	MSG_RUN_SHUTDOWN,	/* empty: press the guest's power button */
	MSG_RUN_CONSOLE,	/* console bytes, runner -> engine */
	MSG_RUN_STATS,		/* struct proto_stats, runner -> engine */
	/*
	 * Adoption, on the runner's own listening socket (RUNFD_ADOPT),
	 * which an engine that is not the runner's parent connects to.
	 */
	MSG_RUN_ADOPT,		/* struct proto_run_adopt, engine -> runner:
				   serve me from now on; answered with
				   MSG_RUN_STATE, or MSG_ERROR if another
				   engine is attached */
	MSG_RUN_STATE,		/* struct proto_run_state + the pty master,
				   runner -> engine; then the console bytes
				   kept while no engine read them */
	MSG_RUN_EXIT,		/* struct proto_run_exit, runner -> engine:
				   the guest ended, the runner exits now */

	/*
	 * 300-399: engine <-> vmtop-slirp, one datagram each on the NIC's
	 * SOCK_SEQPACKET frame socket before the runner gets it (then it
	 * carries only Ethernet frames); peer id = VM id
	 */
	MSG_SLIRP_CONFIG = 300,	/* struct proto_slirp_config, engine -> helper;
				   answered with MSG_OK once the rules are
				   bound and the helper is sandboxed, or with
				   MSG_ERROR naming what failed */
	/*
	 * On the helper's control socket (SLIRP_CONTROL_FD), which the
	 * engine keeps while the helper runs; each answered with MSG_OK
	 * or MSG_ERROR (a port in use names the rule).
	 */
	MSG_SLIRP_HOSTFWD_ADD,	/* struct proto_slirp_hostfwd */
	MSG_SLIRP_HOSTFWD_REMOVE, /* struct proto_slirp_hostfwd */

	/*
	 * 400-499: opener child -> engine (engine/opener.c, resource.c):
	 * a VM's files opened with its owner's rights; peer id = VM id
	 */
	MSG_OPEN_TRY = 400,	/* struct proto_open_item: opening it now */
	MSG_OPEN_FD,		/* struct proto_open_item + its fd */
	MSG_OPEN_ERROR,		/* struct proto_error: the start fails */
	MSG_OPEN_END,		/* empty: every file is open */
};

struct proto_hello {
	uint32_t	version;
	uint32_t	pid;
};

struct proto_error {
	int32_t		code;			/* an errno value, or 0 */
	char		text[PROTO_TEXT_SIZE];	/* names the VM and resource */
};

struct proto_name {
	char		name[VM_NAME_SIZE];
};

struct proto_log {
	uint32_t	verbose;
};

struct proto_kill {
	uint32_t	flags;
#define KILL_KEEP_VMS	0x1	/* leave the VMs running for the next engine */
};

/* forward and unforward: a rule as the user wrote it, on NIC nic. */
struct proto_forward {
	char		name[VM_NAME_SIZE];
	uint32_t	nic;
#define FORWARD_ANY_NIC	0xffffffffU	/* the first user-mode NIC */
	char		rule[VM_HOSTFWD_SIZE];
};

struct proto_subscribe {
	uint32_t	interval_ms;	/* 0 stops the updates */
};

/* Who holds a VM's console: the engine records it, one client each. */
struct proto_console {
	char		name[VM_NAME_SIZE];
	uint32_t	flags;
#define CONSOLE_FORCE	0x1	/* take it from its holder */
#define CONSOLE_RELEASE	0x2	/* let go of it */
};

struct proto_console_held {
	uint32_t	took_from;	/* the pid it was taken from, or 0 */
};

struct proto_console_taken {
	char		name[VM_NAME_SIZE];
	uint32_t	by;		/* the pid that took it */
};

/* What the firmware boots first: vm.conf's `boot disk|cdrom`, -B. */
enum boot_device {
	BOOT_DEFAULT = 0,	/* the disk if there is one, else the cdrom */
	BOOT_DISK,
	BOOT_CDROM
};

/* Ad hoc start options; empty strings and zeros keep the config's. */
struct proto_start {
	char		name[VM_NAME_SIZE];
	uint64_t	memory;
	uint32_t	vcpus;
	uint32_t	ndisks;
	uint32_t	boot;		/* enum boot_device */
	char		kernel[VM_PATH_SIZE];
	char		initrd[VM_PATH_SIZE];
	char		cdrom[VM_PATH_SIZE];
	char		cmdline[VM_CMDLINE_SIZE];
	char		disks[VM_MAX_DISKS][VM_PATH_SIZE];
};

struct proto_stop {
	char		name[VM_NAME_SIZE];
	uint32_t	flags;
#define STOP_FORCE	0x1	/* end the runner at once */
#define STOP_WAIT	0x2	/* answer once the VM has stopped */
#define STOP_ALL	0x4	/* every VM the client may act on */
};

/* Counters a runner reports every second. */
struct proto_stats {
	uint64_t	cpu_ns;		/* all vCPUs' CPU time */
	uint64_t	exits;
	uint64_t	disk_rd_bytes;
	uint64_t	disk_wr_bytes;
	uint64_t	disk_rd_reqs;
	uint64_t	disk_wr_reqs;
	uint64_t	net_rx_bytes;
	uint64_t	net_tx_bytes;
	uint64_t	net_rx_packets;
	uint64_t	net_tx_packets;
	uint64_t	rss_bytes;
	/* The same four network counters for each NIC. */
	uint64_t	nic_rx_bytes[VM_MAX_NICS];
	uint64_t	nic_tx_bytes[VM_MAX_NICS];
	uint64_t	nic_rx_packets[VM_MAX_NICS];
	uint64_t	nic_tx_packets[VM_MAX_NICS];
};

struct proto_vm_info {
	uint32_t	id;
	uint32_t	state;		/* enum vm_state */
	char		name[VM_NAME_SIZE];
	char		tty[32];
	char		owner[32];	/* user name, or "" when unowned */
	uint64_t	memory;
	uint32_t	vcpus;
	uint32_t	uid;
	int32_t		pid;		/* runner pid, or 0 */
	uint32_t	restarts;
	uint32_t	flags;
#define VMINFO_ENABLED	0x1
#define VMINFO_ADHOC	0x2	/* started without a config block */
#define VMINFO_OWNED	0x4
#define VMINFO_ADOPTED	0x8	/* its runner was started by an earlier engine */
#define VMINFO_CHANGED	0x10	/* its config block changed since it started:
				   a restart applies the change */
	int64_t		started;	/* unix time of the last start, or 0 */
	char		reason[PROTO_TEXT_SIZE];	/* why it failed */
	struct proto_stats stats;
	uint64_t	stats_time_ns;	/* monotonic time of the stats */
};

/* One line of `show`: a key and its value (a path, a rule, a size). */
struct proto_detail {
	char		key[32];
	char		value[VM_PATH_SIZE];
};

struct proto_engine_info {
	int64_t		started;
	uint32_t	pid;
	uint32_t	nvms;
};

/* What the runner needs besides its fds. */
struct proto_run_params {
	uint32_t	id;
	char		name[VM_NAME_SIZE];
	uint64_t	memory;
	uint32_t	vcpus;
	uint32_t	ndisks;
	uint32_t	nnics;
	uint32_t	flags;
#define RUNP_KERNEL	0x1	/* boot the kernel fd, else the BIOS fd */
#define RUNP_VERBOSE	0x2
#define RUNP_CDROM_FIRST 0x4	/* firmware boots the cdrom before the disks */
	uint32_t	uid;	/* drop to this uid/gid when started as root */
	uint32_t	gid;
	char		cmdline[VM_CMDLINE_SIZE];
	uint32_t	disk_format[VM_MAX_DISKS];	/* enum disk_format */
	uint32_t	disk_nbase[VM_MAX_DISKS];
	uint8_t		nic_lladdr[VM_MAX_NICS][6];
	uint8_t		nic_locked[VM_MAX_NICS];
	uint32_t	nic_mtu[VM_MAX_NICS];	/* told the guest; 0: not */
#define RUNP_CDROM_FIRST 0x4	/* firmware boots the cdrom before the disks */
};

/*
 * A user-mode network as vmtop-slirp sets it up. Addresses are IPv4 in
 * network byte order; strings are NUL-terminated within their arrays.
 */
struct proto_slirp_config {
	uint32_t	flags;
#define SLIRPF_RESTRICTED	0x1	/* only the host and hostfwd peers */
#define SLIRPF_VERBOSE		0x2
#define SLIRPF_SYSLOG		0x4	/* log to syslog: the engine is detached */
	uint32_t	network;
	uint32_t	netmask;
	uint32_t	host;		/* the gateway, which is the host */
	uint32_t	dns;
	uint32_t	dhcp_start;	/* the first address DHCP hands out */
	uint32_t	mtu;
	uint32_t	uid;		/* drop to these when root; 0: nobody */
	uint32_t	gid;
	uint32_t	nic;		/* the interface's index, for messages */
	uint32_t	nhostfwd;
	char		hostfwd[VM_MAX_HOSTFWD][VM_HOSTFWD_SIZE];
	char		name[VM_NAME_SIZE];	/* the VM's */
};

/* One rule in vm.conf's form (lib/hostfwd.h), NUL-terminated. */
struct proto_slirp_hostfwd {
	char		rule[VM_HOSTFWD_SIZE];
};

enum disk_format {
	DISK_FORMAT_AUTO = 0,
	DISK_FORMAT_RAW,
	DISK_FORMAT_QCOW2
};

enum run_fd_kind {
	RUNFD_KVM = 1,
	RUNFD_KERNEL,
	RUNFD_INITRD,
	RUNFD_BIOS,
	RUNFD_CDROM,
	RUNFD_DISK,		/* index = disk */
	RUNFD_DISK_BASE,	/* index = disk, depth = 1.. */
	RUNFD_NIC,		/* index = nic */
	RUNFD_PTY,		/* the console pty master */
	RUNFD_ADOPT,		/* a unix stream socket the engine bound in
				   its state directory; the runner listens on
				   it once sandboxed (so its peer credentials
				   are the runner's own) */
	RUNFD_SEED,		/* the cloud-init seed (ISO 9660), read-only */
	RUNFD_KIND_COUNT
};

/* One of a VM's files as the opener opened it. */
struct proto_open_item {
	uint32_t	kind;		/* enum run_fd_kind */
	uint32_t	index;		/* disk */
	uint32_t	depth;		/* 0: the disk, 1..: its bases */
	uint32_t	format;		/* enum disk_format, of disks and bases */
	char		path[VM_PATH_SIZE];
};

/* An engine adopting a runner it did not start. */
struct proto_run_adopt {
	uint32_t	version;	/* RUNNER_PROTOCOL_VERSION */
	uint32_t	id;		/* the VM's id under this engine: the
					   peer id both ways from now on */
	uint32_t	engine_pid;
};

/* What a runner tells the engine that adopts it. */
struct proto_run_state {
	uint32_t	version;	/* RUNNER_PROTOCOL_VERSION */
	uint32_t	flags;
#define RUNSTATE_PAUSED	0x1	/* the vCPUs are paused */
#define RUNSTATE_ENDED	0x2	/* the guest ended: MSG_RUN_EXIT follows */
#define RUNSTATE_PTY	0x4	/* the console pty master comes along */
	char		name[VM_NAME_SIZE];
	int32_t		pid;		/* the pid its engine started, as that
					   engine saw it (outside the runner's
					   pid namespace) */
	uint32_t	old_id;		/* its id under its previous engine */
	uint64_t	uptime_ns;	/* since the machine started */
	uint64_t	console_kept;	/* bytes kept while no engine read */
	uint64_t	console_lost;	/* bytes the full ring dropped */
	struct proto_stats stats;
};

struct proto_run_exit {
	uint32_t	code;			/* RUNNER_EXIT_* */
	char		text[PROTO_TEXT_SIZE];	/* why, for RUNNER_EXIT_ERROR */
};

struct proto_run_fd {
	uint32_t	kind;	/* enum run_fd_kind */
	uint32_t	index;
	uint32_t	depth;
};

#endif

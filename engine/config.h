/* The parsed form of vm.conf (engine/parse.y) and what reads it. */
#ifndef CONFIG_H
#define CONFIG_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>

#include "proto.h"

#define CONF_DEFAULT_MEMORY	(512ULL << 20)
#define CONF_DEFAULT_VCPUS	1

struct conf_disk {
	char		*path;
	enum disk_format format;	/* AUTO: from the name, never the data */
};

enum nic_type {
	NIC_TAP = 1,
	NIC_USER
};

struct conf_nic {
	enum nic_type	 type;
	int		 tapunit;	/* tapN, or -1 for the next free */
	char		*switchname;	/* NULL if none */
	uint8_t		 lladdr[6];
	int		 has_lladdr;
	int		 locked;
	int		 up;		/* 1 unless "down" */
	char		*hostfwd[VM_MAX_HOSTFWD];
	int		 nhostfwd;
	uint32_t	 mtu;		/* 0: the default (user), the kernel's (tap) */
	int		 has_restricted;
	int		 unrestricted;	/* "restricted no": the guest may go out */
};

/* A cloud-init block: the VM gets a NoCloud seed (engine/seed.c). */
struct conf_cloudinit {
	int		 enabled;
	char		*user;		/* NULL: the owner's login name */
	char		*ssh_key;	/* NULL: ~/.ssh/id_*.pub or vmtop's key */
	char		*user_data;	/* NULL: made from user and ssh_key */
};

#define CONF_DEFAULT_BIOS	"/usr/share/seabios/bios.bin"

struct conf_vm {
	TAILQ_ENTRY(conf_vm) entry;
	char		 name[VM_NAME_SIZE];
	uint64_t	 memory;
	uint32_t	 vcpus;
	char		*kernel;
	char		*initrd;
	char		*cmdline;
	char		*boot;		/* BIOS image */
	uint32_t	 boot_device;	/* enum boot_device */
	char		*cdrom;
	struct conf_disk disks[VM_MAX_DISKS];
	int		 ndisks;
	struct conf_nic	 nics[VM_MAX_NICS];
	int		 nnics;
	struct conf_cloudinit cloudinit;
	int		 has_owner;
	uid_t		 uid;
	gid_t		 gid;		/* (gid_t)-1 when no group was given */
	int		 enabled;	/* start when the engine starts */
	char		*file;		/* where it was defined */
	int		 line;
};

struct conf_switch {
	TAILQ_ENTRY(conf_switch) entry;
	char		 name[VM_NAME_SIZE];
	char		*ifname;	/* the Linux bridge */
	int		 up;
	int		 line;
};

/*
 * What the engine lets any one client or user make it hold or run. A
 * root-owned request is bound only by the engine-wide figures. 0 in a
 * per-user figure means no limit.
 */
struct conf_limits {
	uint64_t	 user_memory;	/* sum over a user's active VMs */
	uint32_t	 user_vcpus;	/* sum over a user's active VMs */
	uint32_t	 user_adhoc;	/* ad hoc VMs one user may have defined */
	uint32_t	 clients;	/* connections in all */
	uint32_t	 user_clients;	/* connections of one uid */
	uint32_t	 subscribers;	/* subscribed connections of one user */
	uint32_t	 waiters;	/* waiting requests of one connection */
	uint64_t	 queue_bytes;	/* unsent bytes before a client is dropped */
	uint32_t	 hello_timeout;	/* seconds for a client to say hello */
	uint32_t	 include_files;	/* files one parse may include */
	uint64_t	 include_bytes;	/* bytes one parse may read */
};

#define CONF_LIMIT_USER_MEMORY	(16ULL << 30)
#define CONF_LIMIT_USER_VCPUS	16
#define CONF_LIMIT_USER_ADHOC	32
#define CONF_LIMIT_CLIENTS	1024
#define CONF_LIMIT_USER_CLIENTS	64
#define CONF_LIMIT_SUBSCRIBERS	8
#define CONF_LIMIT_WAITERS	256
#define CONF_LIMIT_QUEUE_BYTES	(256ULL << 10)
#define CONF_LIMIT_HELLO	10
#define CONF_LIMIT_INCLUDES	64
#define CONF_LIMIT_INCLUDE_BYTES (4ULL << 20)

/* Console logs: rotated to NAME.log.1 .. NAME.log.KEEP past size bytes. */
#define CONF_CONSOLE_LOG_SIZE	(1ULL << 20)
#define CONF_CONSOLE_LOG_KEEP	2

/* Runner uids of a root engine: one per active VM, from this range. */
#define CONF_RUNNER_UID_FIRST	900000
#define CONF_RUNNER_UID_COUNT	65536

/* Users and groups who may start VMs without opening /dev/kvm themselves. */
#define CONF_MAX_KVM_ALLOW	32

struct config {
	TAILQ_HEAD(, conf_vm)	 vms;
	TAILQ_HEAD(, conf_switch) switches;
	int			 stagger_parallel;	/* 0: all at once */
	int			 stagger_delay;		/* seconds */
	int			 has_socket_owner;
	uid_t			 socket_uid;
	gid_t			 socket_gid;		/* (gid_t)-1 if none */
	struct conf_limits	 limits;
	uint64_t		 console_log_size;	/* bytes per log file */
	uint32_t		 console_log_keep;	/* rotated files kept */
	uid_t			 runner_uid_first;
	uint32_t		 runner_uid_count;
	uid_t			 kvm_users[CONF_MAX_KVM_ALLOW];
	int			 nkvm_users;
	gid_t			 kvm_groups[CONF_MAX_KVM_ALLOW];
	int			 nkvm_groups;
};

/*
 * Parse a config file (or, with text != NULL, the text itself under the
 * name path) into conf. Every error is written to errout as
 * "file:line: message"; returns the number of errors (0 = good).
 */
int		 config_parse(const char *path, const char *text,
		    struct config *conf, FILE *errout);
void		 config_init(struct config *);
void		 config_free(struct config *);
void		 conf_vm_free(struct conf_vm *);
struct conf_vm	*conf_vm_dup(const struct conf_vm *);
struct conf_vm	*config_find_vm(struct config *, const char *);
/* 1 if name is a valid cloud-init login: 1-32 of [A-Za-z0-9._-], no - first. */
int		 config_valid_login(const char *);
/* 1 if name is a valid VM name: 1-64 of [A-Za-z0-9._-], alnum first. */
int		 config_valid_name(const char *);
/* Write a config back as vm.conf text (for `vmtop -n -v`). */
void		 config_print(struct config *, FILE *);
void		 conf_vm_print(const struct conf_vm *, struct config *, FILE *);
char		*conf_vm_text(const struct conf_vm *, struct config *);
int		 conf_vm_differs(const struct conf_vm *, const struct conf_vm *);
/* The BIOS image a vm without a kernel boots. */
const char	*conf_vm_bios(const struct conf_vm *);
/* 1 if the firmware boots the cdrom before the disks. */
int		 conf_vm_cdrom_first(const struct conf_vm *);

#endif

/*
 * The control socket: clients connect, are identified by SO_PEERCRED,
 * say hello with the protocol version, and send requests. One table
 * holds each request's size (checked by msg_lookup, as for every peer),
 * the VM lookup and the permission it needs, so handlers only check what
 * the request says and ask vm.c to act.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "msg.h"
#include "paths.h"
#include "vmcheck.h"
#include "xmalloc.h"

#define CTL_VM		0x1	/* payload starts with the name of a VM */
#define CTL_ACT		0x2	/* the client must be allowed to act on it */
#define CTL_ADMIN	0x4	/* root or the engine's own user only */
#define CTL_WAITS	0x8	/* may wait: counts against limits.waiters */

/* A list reply is written this much at a time, as the client reads. */
#define CONTROL_LIST_CHUNK	(64 * 1024)
/* A subscriber that leaves its updates unread this long is dropped. */
#define CONTROL_STALL_SECONDS	30

/* A request's entry: lib's handler entry, then what it needs here. */
struct control_cmd {
	struct msg_handler	 msg;
	int			 flags;
};

/* What a handler gets as its argument. */
struct control_req {
	struct client		*cl;
	struct vm		*vm;	/* the VM it names (CTL_VM) */
};

static int	control_hello(struct msgconn *, struct msg *, void *);
static int	control_list(struct msgconn *, struct msg *, void *);
static int	control_show(struct msgconn *, struct msg *, void *);
static int	control_start(struct msgconn *, struct msg *, void *);
static int	control_stop(struct msgconn *, struct msg *, void *);
static int	control_pause(struct msgconn *, struct msg *, void *);
static int	control_wait(struct msgconn *, struct msg *, void *);
static int	control_capture(struct msgconn *, struct msg *, void *);
static int	control_reload(struct msgconn *, struct msg *, void *);
static int	control_log(struct msgconn *, struct msg *, void *);
static int	control_kill(struct msgconn *, struct msg *, void *);
static int	control_subscribe(struct msgconn *, struct msg *, void *);
static int	control_console(struct msgconn *, struct msg *, void *);
static int	control_forward(struct msgconn *, struct msg *, void *);
static void	control_drop(struct client *);
static int	control_str(char *, size_t, const char *, size_t);

static const struct control_cmd control_cmds[] = {
	{ { MSG_HELLO, "hello", sizeof(struct proto_hello), 0,
	    control_hello }, 0 },
	{ { MSG_CMD_LIST, "list", sizeof(struct proto_name), 0,
	    control_list }, 0 },
	{ { MSG_CMD_SHOW, "show", sizeof(struct proto_name), 0,
	    control_show }, CTL_VM },
	{ { MSG_CMD_START, "start", sizeof(struct proto_start), 0,
	    control_start }, CTL_WAITS },
	{ { MSG_CMD_STOP, "stop", sizeof(struct proto_stop), 0,
	    control_stop }, CTL_WAITS },
	{ { MSG_CMD_PAUSE, "pause", sizeof(struct proto_name), 0,
	    control_pause }, CTL_VM | CTL_ACT | CTL_WAITS },
	{ { MSG_CMD_UNPAUSE, "unpause", sizeof(struct proto_name), 0,
	    control_pause }, CTL_VM | CTL_ACT | CTL_WAITS },
	{ { MSG_CMD_WAIT, "wait", sizeof(struct proto_name), 0,
	    control_wait }, CTL_VM | CTL_WAITS },
	{ { MSG_CMD_CAPTURE, "capture", sizeof(struct proto_name), 0,
	    control_capture }, CTL_VM | CTL_ACT },
	{ { MSG_CMD_RELOAD, "reload", 0, 0, control_reload }, CTL_ADMIN },
	{ { MSG_CMD_LOG, "log", sizeof(struct proto_log), 0, control_log },
	    CTL_ADMIN },
	{ { MSG_CMD_KILL, "kill-engine", 0, sizeof(struct proto_kill),
	    control_kill }, CTL_ADMIN },
	{ { MSG_CMD_SUBSCRIBE, "subscribe", sizeof(struct proto_subscribe), 0,
	    control_subscribe }, 0 },
	{ { MSG_CMD_CONSOLE, "console", sizeof(struct proto_console), 0,
	    control_console }, CTL_VM | CTL_ACT },
	{ { MSG_CMD_FORWARD, "forward", sizeof(struct proto_forward), 0,
	    control_forward }, CTL_VM | CTL_ACT },
	{ { MSG_CMD_UNFORWARD, "unforward", sizeof(struct proto_forward), 0,
	    control_forward }, CTL_VM | CTL_ACT },
};

static void
control_reply_ok(struct client *cl)
{
	msgconn_send(cl->conn, MSG_OK, 0, -1, NULL, 0);
}

static void __attribute__((format(printf, 3, 4)))
control_reply_error(struct client *cl, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msgconn_send_verror(cl->conn, 0, code, fmt, ap);
	va_end(ap);
}

/* The VM called name, or NULL once cl is told there is none. */
static struct vm *
control_find(struct client *cl, const char *name)
{
	struct vm *vm;

	if ((vm = vm_find(name)) == NULL)
		control_reply_error(cl, ENOENT, "vm %s: no such vm", name);
	return vm;
}

/* Answer a request that waited: now, or after the list being written. */
static void
control_answer(struct client *cl, const char *err)
{
	struct answer *a;

	if (cl->listing) {
		a = xcalloc(1, sizeof *a);
		a->err = err != NULL ? xstrdup(err) : NULL;
		TAILQ_INSERT_TAIL(&cl->held, a, entry);
		return;
	}
	if (err != NULL)
		control_reply_error(cl, 0, "%s", err);
	else
		control_reply_ok(cl);
}

/* A waiter's answer (vm_wait): OK, or the error. */
static void
control_woken(struct vm *vm, const char *err, void *arg)
{
	struct client *cl = arg;

	(void)vm;
	cl->nwaits--;
	control_answer(cl, err);
}

/* Wait for vm on cl's behalf; control_dispatch has checked the limit. */
static void
control_wait_for(struct client *cl, struct vm *vm, enum wait_kind kind)
{
	cl->nwaits++;
	vm_wait(vm, kind, control_woken, cl);
}

/* One VM of `stop -a -w` stopped: answer when all have, the first error. */
static void
control_stop_all_woken(struct vm *vm, const char *err, void *arg)
{
	struct stopall *sa = arg;
	struct client *cl = sa->cl;

	(void)vm;
	if (err != NULL && sa->err == NULL)
		sa->err = xstrdup(err);
	if (--sa->left > 0)
		return;
	TAILQ_REMOVE(&cl->stopalls, sa, entry);
	cl->nwaits--;
	control_answer(cl, sa->err);
	free(sa->err);
	free(sa);
}

/* Whether cl may act on vm (and see its details): root, owner, group. */
static int
control_may_act(struct client *cl, struct vm *vm)
{
	return access_may_act(vm, cl);
}

/*
 * vm's info as cl may see it: why another user's VM failed may name its
 * paths, so only its owner is told.
 */
static void
control_fill_info(struct client *cl, struct vm *vm,
    struct proto_vm_info *info)
{
	vm_fill_info(vm, info);
	if (info->reason[0] != '\0' && !control_may_act(cl, vm))
		snprintf(info->reason, sizeof info->reason, "vm %s %s (its "
		    "owner may see why)", vm->conf->name,
		    vm->state == VM_FAILED ? "failed" : "stopped");
}

/* Push one VM's new state to the clients that subscribed. */
void
control_broadcast_vm(struct vm *vm)
{
	struct proto_vm_info info;
	struct client *cl;

	/* A client in the middle of a list gets the VM from its next tick. */
	TAILQ_FOREACH(cl, &engine->clients, entry)
		if (cl->sub_timer != NULL && !cl->listing) {
			control_fill_info(cl, vm, &info);
			msgconn_send(cl->conn, MSG_VM_INFO, vm->id, -1, &info,
			    sizeof info);
		}
}

static int
control_is_admin(struct client *cl)
{
	return cl->uid == 0 || cl->uid == geteuid();
}

static int
control_hello(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct proto_hello *h = m->data, reply;

	(void)c;
	if (h->version != PROTOCOL_VERSION) {
		control_reply_error(cl, EPROTO, "engine speaks protocol %d, "
		    "this client speaks %u: run `vmtop -c kill-engine`",
		    PROTOCOL_VERSION, h->version);
		msgconn_close_when_flushed(cl->conn);
		return 0;
	}
	cl->hello = 1;
	if (cl->hello_timer != NULL) {
		event_free(cl->hello_timer);
		cl->hello_timer = NULL;
	}
	memset(&reply, 0, sizeof reply);
	reply.version = PROTOCOL_VERSION;
	reply.pid = getpid();
	msgconn_send(cl->conn, MSG_HELLO, 0, -1, &reply, sizeof reply);
	return 0;
}

static void
control_send_info(struct client *cl, struct vm *vm)
{
	struct proto_vm_info info;

	control_fill_info(cl, vm, &info);
	msgconn_send(cl->conn, MSG_VM_INFO, vm->id, -1, &info, sizeof info);
}

static void	control_list_more(struct client *);

static void
control_list_drained(struct msgconn *c, void *arg)
{
	struct client *cl = arg;

	(void)c;
	evtimer_del(cl->stall_timer);
	control_list_more(cl);
}

/*
 * Write the list from cl->list_next on, a chunk at a time: a chunk the
 * socket does not take at once is followed by the next one when it has
 * been read, so a list of any length never piles up here. The client's
 * next requests wait until MSG_END has gone.
 */
static void
control_list_more(struct client *cl)
{
	struct timeval stall = { CONTROL_STALL_SECONDS, 0 };
	struct answer *a;
	struct vm *vm;

	for (;;) {
		TAILQ_FOREACH(vm, &engine->vms, entry)
			if (vm->id >= cl->list_next)
				break;
		msgconn_cork(cl->conn);
		for (; vm != NULL && msgconn_queued(cl->conn) <
		    CONTROL_LIST_CHUNK; vm = TAILQ_NEXT(vm, entry)) {
			control_send_info(cl, vm);
			cl->list_next = vm->id + 1;
		}
		if (vm == NULL)
			break;
		msgconn_uncork(cl->conn);
		if (msgconn_queued(cl->conn) > 0) {
			msgconn_on_drain(cl->conn, control_list_drained);
			evtimer_add(cl->stall_timer, &stall);
			return;
		}
	}
	msgconn_send(cl->conn, MSG_END, 0, -1, NULL, 0);
	cl->listing = 0;
	while ((a = TAILQ_FIRST(&cl->held)) != NULL) {
		TAILQ_REMOVE(&cl->held, a, entry);
		control_answer(cl, a->err);
		free(a->err);
		free(a);
	}
	msgconn_uncork(cl->conn);
	msgconn_resume(cl->conn);
}

static void
control_send_list(struct client *cl)
{
	cl->listing = 1;
	cl->list_next = 0;
	cl->list_started = time(NULL);
	msgconn_pause(cl->conn);
	control_list_more(cl);
}

static int
control_list(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct proto_name *n = m->data;
	struct vm *vm;
	char name[VM_NAME_SIZE];

	if (control_str(name, sizeof name, n->name, sizeof n->name) == -1) {
		log_warnx("%s: dropping %s: unterminated vm name", __func__,
		    msgconn_name(c));
		return -1;
	}
	if (name[0] == '\0') {
		control_send_list(cl);
		return 0;
	}
	if ((vm = control_find(cl, name)) == NULL)
		return 0;
	control_send_info(cl, vm);
	msgconn_send(cl->conn, MSG_END, 0, -1, NULL, 0);
	return 0;
}

static void
control_detail(struct client *cl, const char *key, const char *fmt, ...)
{
	struct proto_detail d;
	va_list ap;

	memset(&d, 0, sizeof d);
	snprintf(d.key, sizeof d.key, "%s", key);
	va_start(ap, fmt);
	vsnprintf(d.value, sizeof d.value, fmt, ap);
	va_end(ap);
	msgconn_send(cl->conn, MSG_VM_DETAIL, 0, -1, &d, sizeof d);
}

/* The seed and what it is made of. */
static void
control_show_cloudinit(struct client *cl, struct vm *vm)
{
	const struct conf_cloudinit *ci = &vm->conf->cloudinit;
	char path[VM_PATH_SIZE], owner[32];

	if (!ci->enabled)
		return;
	cloudinit_path(engine->statedir, vm->conf->name, path, sizeof path);
	control_detail(cl, "seed", "cloud-init %s", path);
	if (ci->user_data != NULL)
		control_detail(cl, "seed user-data", "%s", ci->user_data);
	else {
		owner_name(access_owner(vm), owner, sizeof owner);
		control_detail(cl, "seed user", "%s", ci->user != NULL ?
		    ci->user : owner);
		control_detail(cl, "seed ssh-key", "%s", ci->ssh_key != NULL ?
		    ci->ssh_key : "~/.ssh/id_*.pub, else vmtop's own");
	}
}

static int
control_show(struct msgconn *conn, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct vm *vm = r->vm;
	struct conf_vm *c = vm->conf;
	struct conf_nic *nic;
	char key[32];
	int i, j, n;

	(void)conn;
	(void)m;
	control_send_info(cl, vm);
	/* Others see what status shows: no paths, cmdline or networks. */
	if (!control_may_act(cl, vm)) {
		msgconn_send(cl->conn, MSG_END, 0, -1, NULL, 0);
		return 0;
	}
	if (c->file != NULL)
		control_detail(cl, "defined", "%s:%d", c->file, c->line);
	if (c->kernel != NULL)
		control_detail(cl, "boot", "kernel %s", c->kernel);
	else
		control_detail(cl, "boot", "firmware %s%s", conf_vm_bios(c),
		    conf_vm_cdrom_first(c) ? ", cdrom first" :
		    c->ndisks > 0 ? ", disk first" : "");
	if (c->kernel != NULL)
		control_detail(cl, "kernel", "%s", c->kernel);
	if (c->initrd != NULL)
		control_detail(cl, "initrd", "%s", c->initrd);
	if (c->cmdline != NULL)
		control_detail(cl, "cmdline", "%s", c->cmdline);
	if (c->cdrom != NULL)
		control_detail(cl, "cdrom", "%s", c->cdrom);
	for (i = 0; i < c->ndisks; i++) {
		snprintf(key, sizeof key, "disk%d", i);
		control_detail(cl, key, "%s", c->disks[i].path);
	}
	for (i = 0; i < c->nnics; i++) {
		nic = &c->nics[i];
		snprintf(key, sizeof key, "interface%d", i);
		control_detail(cl, key, "%s%s%s, rx %llu bytes %llu packets, "
		    "tx %llu bytes %llu packets",
		    nic->type != NIC_USER ? "tap" : nic->unrestricted ?
		    "user (open)" : "user (restricted)",
		    nic->switchname != NULL ? " switch " : "",
		    nic->switchname != NULL ? nic->switchname : "",
		    (unsigned long long)vm->stats.nic_rx_bytes[i],
		    (unsigned long long)vm->stats.nic_rx_packets[i],
		    (unsigned long long)vm->stats.nic_tx_bytes[i],
		    (unsigned long long)vm->stats.nic_tx_packets[i]);
		for (j = 0; j < nic->nhostfwd; j++) {
			snprintf(key, sizeof key, "hostfwd%d.%d", i, j);
			control_detail(cl, key, "%s", nic->hostfwd[j]);
		}
		for (j = n = 0; j < vm->nforwards; j++) {
			if (vm->forwards[j].nic != i)
				continue;
			snprintf(key, sizeof key, "forward%d.%d", i, n++);
			control_detail(cl, key, "%s", vm->forwards[j].rule);
		}
	}
	control_show_cloudinit(cl, vm);
	msgconn_send(cl->conn, MSG_END, 0, -1, NULL, 0);
	return 0;
}

/* Copy a fixed-size string field, refusing one without its NUL. */
static int
control_str(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n == srclen || n >= dstlen)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static void
control_set_path(char **field, const char *value)
{
	if (value[0] == '\0')
		return;
	free(*field);
	*field = xstrdup(value);
}

/* Build the config a start runs with: the VM's own plus ad hoc options. */
static int
control_start_conf(struct client *cl, struct proto_start *s,
    struct conf_vm *c)
{
	struct vmcheck vc;
	char err[PROTO_TEXT_SIZE];
	uint32_t i;

	vc.name = c->name;
	vc.memory = s->memory != 0 ? s->memory : c->memory;
	vc.vcpus = s->vcpus != 0 ? s->vcpus : c->vcpus;
	vc.ndisks = s->ndisks > 0 ? s->ndisks : (uint32_t)c->ndisks;
	vc.nnics = c->nnics;
	if (vmcheck(&vc, err, sizeof err) == -1) {
		control_reply_error(cl, EINVAL, "%s", err);
		return -1;
	}
	if (s->memory != 0)
		c->memory = s->memory;
	if (s->vcpus != 0)
		c->vcpus = s->vcpus;
	if (s->ndisks > VM_MAX_DISKS) {
		control_reply_error(cl, EINVAL, "vm %s: %u disks are too many",
		    c->name, s->ndisks);
		return -1;
	}
	control_set_path(&c->kernel, s->kernel);
	control_set_path(&c->initrd, s->initrd);
	control_set_path(&c->cdrom, s->cdrom);
	control_set_path(&c->cmdline, s->cmdline);
	if (s->kernel[0] != '\0') {
		free(c->boot);
		c->boot = NULL;
		c->boot_device = BOOT_DEFAULT;
	}
	if (s->boot != BOOT_DEFAULT) {
		if (c->kernel != NULL) {
			control_reply_error(cl, EINVAL, "vm %s: boot %s needs "
			    "firmware boot, not the kernel %s", c->name,
			    s->boot == BOOT_DISK ? "disk" : "cdrom", c->kernel);
			return -1;
		}
		c->boot_device = s->boot;
	}
	if (s->ndisks > 0) {
		for (i = 0; i < (uint32_t)c->ndisks; i++)
			free(c->disks[i].path);
		c->ndisks = s->ndisks;
		for (i = 0; i < s->ndisks; i++) {
			c->disks[i].path = xstrdup(s->disks[i]);
			c->disks[i].format = DISK_FORMAT_AUTO;
		}
	}
	return 0;
}

static int
control_start_valid(struct proto_start *s)
{
	char buf[VM_PATH_SIZE];
	uint32_t i;

	if (control_str(buf, sizeof buf, s->name, sizeof s->name) == -1 ||
	    control_str(buf, sizeof buf, s->kernel, sizeof s->kernel) == -1 ||
	    control_str(buf, sizeof buf, s->initrd, sizeof s->initrd) == -1 ||
	    control_str(buf, sizeof buf, s->cdrom, sizeof s->cdrom) == -1 ||
	    strnlen(s->cmdline, sizeof s->cmdline) == sizeof s->cmdline ||
	    s->ndisks > VM_MAX_DISKS || s->boot > BOOT_CDROM)
		return -1;
	for (i = 0; i < s->ndisks; i++)
		if (control_str(buf, sizeof buf, s->disks[i],
		    sizeof s->disks[i]) == -1 || buf[0] == '\0')
			return -1;
	return 0;
}

static int
control_start(struct msgconn *conn, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct vm *vm;
	struct proto_start *s = m->data;
	struct conf_vm *c;
	char err[PROTO_TEXT_SIZE] = "";
	int adhoc = s->kernel[0] != '\0' || s->ndisks > 0 ||
	    s->cdrom[0] != '\0';

	(void)conn;
	if (control_start_valid(s) == -1) {
		log_warnx("%s: malformed start request from uid %u", __func__,
		    (unsigned)cl->uid);
		return -1;
	}
	if (!config_valid_name(s->name)) {
		control_reply_error(cl, EINVAL, "vm %s: invalid name (1-64 of "
		    "A-Z a-z 0-9 . _ -, starting with a letter or digit)",
		    s->name);
		return 0;
	}
	if ((vm = vm_find(s->name)) == NULL) {
		if (!adhoc) {
			control_reply_error(cl, ENOENT, "vm %s: no such vm",
			    s->name);
			return 0;
		}
		c = xcalloc(1, sizeof *c);
		snprintf(c->name, sizeof c->name, "%s", s->name);
		c->memory = CONF_DEFAULT_MEMORY;
		c->vcpus = CONF_DEFAULT_VCPUS;
		c->has_owner = 1;
		c->uid = cl->uid;
		c->gid = cl->gid;
		if (control_start_conf(cl, s, c) == -1) {
			conf_vm_free(c);
			return 0;
		}
		if (limits_check_start(NULL, c, cl->uid, err,
		    sizeof err) == -1) {
			conf_vm_free(c);
			control_reply_error(cl, EDQUOT, "%s", err);
			return 0;
		}
		vm = vm_add(c, 1);
		if (vm_start(vm, err, sizeof err) == -1) {
			/* A failed ad hoc VM is not kept. */
			vm_remove(vm);
			control_reply_error(cl, 0, "%s", err);
			return 0;
		}
	} else {
		if (!control_may_act(cl, vm)) {
			control_reply_error(cl, EPERM, "vm %s: permission "
			    "denied (not its owner)", vm->conf->name);
			return 0;
		}
		c = conf_vm_dup(vm->conf);
		if (control_start_conf(cl, s, c) == -1 ||
		    limits_check_start(vm, c, cl->uid, err, sizeof err) == -1) {
			if (err[0] != '\0')
				control_reply_error(cl, EDQUOT, "%s", err);
			conf_vm_free(c);
			return 0;
		}
		if (vm_start_conf(vm, c, err, sizeof err) == -1) {
			control_reply_error(cl, 0, "%s", err);
			return 0;
		}
	}
	control_wait_for(cl, vm, WAIT_START);
	return 0;
}

static int
control_stop_one(struct client *cl, struct vm *vm, uint32_t flags)
{
	char err[PROTO_TEXT_SIZE];

	if (!control_may_act(cl, vm)) {
		control_reply_error(cl, EPERM, "vm %s: permission denied (not "
		    "its owner)", vm->conf->name);
		return 0;
	}
	if (vm_stop(vm, flags & STOP_FORCE, err, sizeof err) == -1) {
		control_reply_error(cl, 0, "%s", err);
		return 0;
	}
	if (flags & (STOP_WAIT | STOP_FORCE))
		control_wait_for(cl, vm, WAIT_STOP);
	else
		control_reply_ok(cl);
	return 0;
}

static int
control_stop(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct vm *vm;
	struct proto_stop *s = m->data;
	struct stopall *sa;
	char name[VM_NAME_SIZE], err[PROTO_TEXT_SIZE];

	(void)c;
	if (control_str(name, sizeof name, s->name, sizeof s->name) == -1)
		return -1;
	if (!(s->flags & STOP_ALL)) {
		if ((vm = control_find(cl, name)) == NULL)
			return 0;
		return control_stop_one(cl, vm, s->flags);
	}
	sa = xcalloc(1, sizeof *sa);
	sa->cl = cl;
	sa->left = 1;	/* held until every VM is asked */
	TAILQ_INSERT_TAIL(&cl->stopalls, sa, entry);
	cl->nwaits++;
	TAILQ_FOREACH(vm, &engine->vms, entry) {
		/* VMs that are not running refuse the stop: skipped. */
		if (!control_may_act(cl, vm) ||
		    vm_stop(vm, s->flags & STOP_FORCE, err, sizeof err) == -1)
			continue;
		if (s->flags & (STOP_WAIT | STOP_FORCE)) {
			sa->left++;
			vm_wait(vm, WAIT_STOP, control_stop_all_woken, sa);
		}
	}
	control_stop_all_woken(NULL, NULL, sa);
	return 0;
}

static int
control_pause(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct vm *vm = r->vm;
	char err[PROTO_TEXT_SIZE];

	(void)c;
	if ((m->hdr.type == MSG_CMD_PAUSE ? vm_pause : vm_unpause)(vm, err,
	    sizeof err) == -1) {
		control_reply_error(cl, 0, "%s", err);
		return 0;
	}
	control_wait_for(cl, vm, WAIT_RUNNER);
	return 0;
}

static int
control_wait(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct vm *vm = r->vm;

	(void)c;
	(void)m;
	control_wait_for(cl, vm, WAIT_STOP);
	return 0;
}

static int
control_capture(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct vm *vm = r->vm;
	uint8_t *buf;
	size_t n, off, chunk;

	(void)c;
	(void)m;
	/* A name that changed owners shows the new owner nothing old. */
	capture_set_owner(&vm->capture, access_owner(vm));
	buf = xmalloc(CAPTURE_SIZE);
	n = capture_copy(&vm->capture, buf, CAPTURE_SIZE);
	for (off = 0; off < n; off += chunk) {
		chunk = n - off > MSG_MAX_PAYLOAD ? MSG_MAX_PAYLOAD : n - off;
		msgconn_send(cl->conn, MSG_CAPTURE_DATA, vm->id, -1,
		    buf + off, chunk);
	}
	free(buf);
	msgconn_send(cl->conn, MSG_END, 0, -1, NULL, 0);
	return 0;
}

static int
control_reload(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int errors;

	(void)c;
	(void)m;
	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	errors = engine_reload(f);
	fclose(f);
	if (errors == 0)
		control_reply_ok(cl);
	else {
		/* Drop the final newline; the first errors fit the reply. */
		if (len > 0 && text[len - 1] == '\n')
			text[len - 1] = '\0';
		control_reply_error(cl, EINVAL, "reload: %d error%s, config "
		    "unchanged: %s", errors, errors == 1 ? "" : "s", text);
	}
	free(text);
	return 0;
}

static int
control_log(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct proto_log *l = m->data;

	(void)c;
	log_setverbose(l->verbose != 0);
	log_info("logging %s", l->verbose ? "verbose" : "brief");
	control_reply_ok(cl);
	return 0;
}

static int
control_kill(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct proto_kill k;

	(void)c;
	/* An older client sends no payload: stop the VMs. */
	memset(&k, 0, sizeof k);
	if (m->hdr.len != 0 && m->hdr.len != sizeof k) {
		control_reply_error(cl, EINVAL, "engine: kill-engine message "
		    "of %u bytes (expected 0 or %zu)", m->hdr.len, sizeof k);
		return 0;
	}
	if (m->hdr.len == sizeof k)
		memcpy(&k, m->data, sizeof k);
	control_reply_ok(cl);
	msgconn_close_when_flushed(cl->conn);
	engine_shutdown((k.flags & KILL_KEEP_VMS) != 0);
	return 0;
}

/* Send a subscriber the engine's figures and the list of its VMs. */
static void
control_sub_send(struct client *cl)
{
	struct proto_engine_info ei;
	struct vm *vm;

	memset(&ei, 0, sizeof ei);
	ei.started = engine->started;
	ei.pid = getpid();
	TAILQ_FOREACH(vm, &engine->vms, entry)
		ei.nvms++;
	msgconn_cork(cl->conn);
	msgconn_send(cl->conn, MSG_ENGINE_INFO, 0, -1, &ei, sizeof ei);
	control_send_list(cl);
	msgconn_uncork(cl->conn);
}

static void
control_sub_tick(int fd, short events, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)events;
	/*
	 * The last tick's update is still unread (its list not all written,
	 * or queued here): skip this one, so that a subscriber that does
	 * not read holds one update at most.
	 */
	if (cl->listing || msgconn_queued(cl->conn) > 0) {
		if (time(NULL) - cl->list_started > CONTROL_STALL_SECONDS) {
			log_warnx("%s: dropping %s: it has not read its "
			    "updates for %d s", __func__,
			    msgconn_name(cl->conn), CONTROL_STALL_SECONDS);
			control_drop(cl);
		}
		return;
	}
	control_sub_send(cl);
}

static int
control_subscribe(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl;
	struct proto_subscribe *s = m->data;
	struct client *other;
	struct timeval tv;
	uint32_t n = 0;

	(void)c;
	TAILQ_FOREACH(other, &engine->clients, entry)
		if (other != cl && other->uid == cl->uid &&
		    other->sub_timer != NULL)
			n++;
	if (s->interval_ms != 0 && cl->uid != 0 &&
	    n >= engine->conf.limits.subscribers) {
		control_reply_error(cl, EAGAIN, "subscribe: refused: uid %u "
		    "has %u subscriptions, the limit per user",
		    (unsigned)cl->uid, n);
		return 0;
	}
	if (cl->sub_timer != NULL) {
		event_free(cl->sub_timer);
		cl->sub_timer = NULL;
	}
	if (s->interval_ms == 0) {
		control_reply_ok(cl);
		return 0;
	}
	if (s->interval_ms < 100)
		s->interval_ms = 100;
	cl->sub_timer = event_new(engine->base, -1, EV_PERSIST,
	    control_sub_tick, cl);
	tv.tv_sec = s->interval_ms / 1000;
	tv.tv_usec = (s->interval_ms % 1000) * 1000;
	event_add(cl->sub_timer, &tv);
	control_reply_ok(cl);
	cl->list_started = time(NULL);	/* what a stall is counted from */
	/* the first update goes at once, behind the OK still queued */
	control_sub_send(cl);
	return 0;
}

/*
 * Hold vm's console for cl: refused while another client holds it, unless
 * forced, when that client is told who took it (the pid the kernel gave
 * for the taker). The engine alone knows the holders; nobody signals
 * anybody.
 */
static int
control_console(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct client *cl = r->cl, *holder;
	struct vm *vm = r->vm;
	struct proto_console *pc = m->data;
	struct proto_console_held held;
	struct proto_console_taken taken;

	(void)c;
	if (pc->flags & CONSOLE_RELEASE) {
		if (cl->console_vm == vm->id)
			cl->console_vm = 0;
		control_reply_ok(cl);
		return 0;
	}
	TAILQ_FOREACH(holder, &engine->clients, entry)
		if (holder != cl && holder->console_vm == vm->id)
			break;
	if (holder != NULL && ~pc->flags & CONSOLE_FORCE) {
		control_reply_error(cl, EBUSY, "the console of %s is attached "
		    "by pid %ld (console -f takes it over)", vm->conf->name,
		    (long)holder->pid);
		return 0;
	}
	memset(&held, 0, sizeof held);
	if (holder != NULL) {
		memset(&taken, 0, sizeof taken);
		snprintf(taken.name, sizeof taken.name, "%s", vm->conf->name);
		taken.by = cl->pid;
		msgconn_send(holder->conn, MSG_CONSOLE_TAKEN, vm->id, -1,
		    &taken, sizeof taken);
		holder->console_vm = 0;
		held.took_from = holder->pid;
	}
	cl->console_vm = vm->id;
	msgconn_send(cl->conn, MSG_CONSOLE_HELD, vm->id, -1, &held,
	    sizeof held);
	return 0;
}

/* forward and unforward: a rule added to or removed from a running VM. */
static int
control_forward(struct msgconn *c, struct msg *m, void *arg)
{
	struct control_req *r = arg;
	struct proto_forward *f = m->data;
	char rule[VM_HOSTFWD_SIZE], err[PROTO_TEXT_SIZE];
	int rv;

	if (control_str(rule, sizeof rule, f->rule, sizeof f->rule) == -1) {
		log_warnx("%s: dropping %s: unterminated rule", __func__,
		    msgconn_name(c));
		return -1;
	}
	if (m->hdr.type == MSG_CMD_FORWARD)
		rv = forward_add(r->vm, f->nic, rule, err, sizeof err);
	else
		rv = forward_remove(r->vm, f->nic, rule, err, sizeof err);
	if (rv == -1)
		control_reply_error(r->cl, 0, "%s", err);
	else
		control_reply_ok(r->cl);
	return 0;
}

static int
control_dispatch(struct msgconn *c, struct msg *m, void *arg)
{
	struct client *cl = arg;
	struct control_req req = { .cl = cl, .vm = NULL };
	const struct control_cmd *cmd;
	char name[VM_NAME_SIZE], why[128];
	int rv;

	if ((cmd = msg_lookup_entry(control_cmds, sizeof control_cmds /
	    sizeof control_cmds[0], sizeof control_cmds[0], m, why,
	    sizeof why)) == NULL) {
		log_warnx("%s: dropping %s: %s", __func__, msgconn_name(c),
		    why);
		return -1;
	}
	if (!cl->hello && cmd->msg.type != MSG_HELLO) {
		log_warnx("%s: dropping %s: %s before hello", __func__,
		    msgconn_name(c), cmd->msg.name);
		return -1;
	}
	if (cmd->flags & CTL_ADMIN && !control_is_admin(cl)) {
		control_reply_error(cl, EPERM, "%s: permission denied (only "
		    "root or the engine's user may)", cmd->msg.name);
		return 0;
	}
	if (cmd->flags & CTL_WAITS &&
	    cl->nwaits >= engine->conf.limits.waiters) {
		control_reply_error(cl, EAGAIN, "%s: refused: this connection "
		    "has %u requests waiting, the limit", cmd->msg.name,
		    cl->nwaits);
		return 0;
	}
	if (cmd->flags & CTL_VM) {
		if (control_str(name, sizeof name, m->data, VM_NAME_SIZE) ==
		    -1) {
			log_warnx("%s: dropping %s: unterminated vm name",
			    __func__, msgconn_name(c));
			return -1;
		}
		if ((req.vm = control_find(cl, name)) == NULL)
			return 0;
		if (cmd->flags & CTL_ACT &&
		    !control_may_act(cl, req.vm)) {
			control_reply_error(cl, EPERM, "vm %s: permission "
			    "denied (not its owner)", name);
			return 0;
		}
	}
	/* Every reply to one request leaves in as few writes as it can. */
	msgconn_cork(c);
	rv = cmd->msg.fn(c, m, &req);
	msgconn_uncork(c);
	return rv;
}

static void
control_client_free(struct client *cl)
{
	struct stopall *sa;
	struct answer *a;

	vm_wait_cancel(cl);
	while ((sa = TAILQ_FIRST(&cl->stopalls)) != NULL) {
		vm_wait_cancel(sa);
		TAILQ_REMOVE(&cl->stopalls, sa, entry);
		free(sa->err);
		free(sa);
	}
	while ((a = TAILQ_FIRST(&cl->held)) != NULL) {
		TAILQ_REMOVE(&cl->held, a, entry);
		free(a->err);
		free(a);
	}
	TAILQ_REMOVE(&engine->clients, cl, entry);
	if (cl->sub_timer != NULL)
		event_free(cl->sub_timer);
	if (cl->hello_timer != NULL)
		event_free(cl->hello_timer);
	event_free(cl->stall_timer);
	free(cl->groups);
	free(cl);
	listen_slot_freed();
}

/* Hang up on a client from outside its connection's callbacks. */
static void
control_drop(struct client *cl)
{
	msgconn_free(cl->conn);
	control_client_free(cl);
}

static void
control_closed(struct msgconn *c, void *arg)
{
	struct client *cl = arg;

	log_debug("%s: %s gone", __func__, msgconn_name(c));
	control_client_free(cl);
}

static void
control_hello_late(int fd, short events, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)events;
	log_debug("%s: dropping %s: no hello in %u s", __func__,
	    msgconn_name(cl->conn), engine->conf.limits.hello_timeout);
	control_drop(cl);
}

/* A list reply has waited this long for the client to read a chunk. */
static void
control_stalled(int fd, short events, void *arg)
{
	struct client *cl = arg;

	(void)fd;
	(void)events;
	log_warnx("%s: dropping %s: it has not read its reply for %d s",
	    __func__, msgconn_name(cl->conn), CONTROL_STALL_SECONDS);
	control_drop(cl);
}

uint32_t
control_count(uid_t uid, uint32_t *all)
{
	struct client *cl;
	uint32_t n = 0, total = 0;

	TAILQ_FOREACH(cl, &engine->clients, entry) {
		total++;
		if (cl->uid == uid)
			n++;
	}
	if (all != NULL)
		*all = total;
	return n;
}

int
control_client_new(int s, const struct ucred *cred)
{
	struct timeval tv = { engine->conf.limits.hello_timeout, 0 };
	struct client *cl;
	char name[64];

	cl = xcalloc(1, sizeof *cl);
	cl->uid = cred->uid;
	cl->gid = cred->gid;
	cl->pid = cred->pid;
	if ((cl->ngroups = access_peer_groups(s, cred->pid, &cl->groups)) ==
	    -1) {
		log_warnx("%s: the groups of client pid %d uid %u are "
		    "unknown: it acts without them", __func__, (int)cred->pid,
		    (unsigned)cred->uid);
		cl->ngroups = 0;
	}
	TAILQ_INIT(&cl->stopalls);
	TAILQ_INIT(&cl->held);
	snprintf(name, sizeof name, "client pid %d uid %u", (int)cred->pid,
	    (unsigned)cred->uid);
	cl->conn = msgconn_new(engine->base, s, control_dispatch,
	    control_closed, cl, name);
	if (cl->conn == NULL) {
		free(cl->groups);
		free(cl);
		return -1;
	}
	msgconn_set_max_queued(cl->conn, engine->conf.limits.queue_bytes);
	cl->hello_timer = evtimer_new(engine->base, control_hello_late, cl);
	cl->stall_timer = evtimer_new(engine->base, control_stalled, cl);
	evtimer_add(cl->hello_timer, &tv);
	TAILQ_INSERT_TAIL(&engine->clients, cl, entry);
	log_debug("%s: %s connected", __func__, name);
	return 0;
}

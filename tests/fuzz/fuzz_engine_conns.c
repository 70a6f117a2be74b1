/*
 * Fuzz the engine's control socket with several clients at once. The
 * engine's own code (control.c, vm.c, the message layer) runs in-process
 * on libevent; each client is a socketpair handed to control_client_new()
 * with a uid of its own. The input is a script read a byte at a time:
 * each step makes one client queue raw bytes, a hello, or a framed request
 * of a known type with a payload of the right size or not, a length over
 * the limit, or an fd; or sends part of what a client has queued (so
 * messages are split at any boundary and interleaved across clients);
 * reads a client's replies or leaves them unread; hangs a client up and
 * connects a new one; or makes a fake runner answer for a VM (ready,
 * paused, exited, rebooted, hung up). At the end every client hangs up,
 * the engine must let go of each of them, and the VMs and config are
 * freed: ASan and LSan see any crash or leak, and an fd the engine kept
 * past the input aborts. The same input always runs the same way.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "xmalloc.h"

#define FUZZ_CLIENTS	4
#define FUZZ_PENDING	(1 << 20)	/* queued per client, at most */
#define FUZZ_RECONNECTS	16		/* new connections per input */
#define FUZZ_SETTLE	10000		/* loop turns for the engine to let go */

/* One client: our end of a socketpair and what it still has to send. */
struct fuzz_client {
	int		 fd;		/* -1: hung up */
	uint8_t		*out;
	size_t		 len;
	int		 shut;		/* no more writes */
};

/* The script: the input, read a byte at a time. */
struct fuzz_script {
	const uint8_t	*data;
	size_t		 size;
	size_t		 off;
};

static struct fuzz_client fuzz_clients[FUZZ_CLIENTS];
static struct engine fuzz_engine;
static char fuzz_conf_path[] = "/tmp/fuzz_engine_conns.XXXXXX";
static int fuzz_nulfd = -1;
static int fuzz_fds;		/* open fds between inputs */

static const char *fuzz_conf_text =
    "vm \"roots\" { kernel \"/nonexistent/k\"; cmdline \"test=run\" }\n"
    "vm \"nobodys\" { kernel \"/nonexistent/k\"; owner 65534; "
    "cmdline \"test=run\" }\n"
    "vm \"third\" { kernel \"/nonexistent/k\"; owner 1000; memory 64M }\n";

/* The names a request may carry, the last one made up by the script. */
static const char *fuzz_names[] = { "roots", "nobodys", "third", "adhoc1",
    "adhoc2", "", "no-such-vm" };
#define FUZZ_NNAMES	(sizeof fuzz_names / sizeof fuzz_names[0])

static const uid_t fuzz_uids[] = { 0, 65534, 1000, 65534 };

/* The requests a client may send, with their payload sizes. */
static const struct {
	uint32_t	type;
	size_t		size;
} fuzz_types[] = {
	{ MSG_HELLO, sizeof(struct proto_hello) },
	{ MSG_CMD_LIST, sizeof(struct proto_name) },
	{ MSG_CMD_SHOW, sizeof(struct proto_name) },
	{ MSG_CMD_START, sizeof(struct proto_start) },
	{ MSG_CMD_STOP, sizeof(struct proto_stop) },
	{ MSG_CMD_PAUSE, sizeof(struct proto_name) },
	{ MSG_CMD_UNPAUSE, sizeof(struct proto_name) },
	{ MSG_CMD_WAIT, sizeof(struct proto_name) },
	{ MSG_CMD_CAPTURE, sizeof(struct proto_name) },
	{ MSG_CMD_RELOAD, 0 },
	{ MSG_CMD_LOG, sizeof(struct proto_log) },
	{ MSG_CMD_KILL, 0 },
	{ MSG_CMD_SUBSCRIBE, sizeof(struct proto_subscribe) },
	{ MSG_VM_INFO, sizeof(struct proto_vm_info) },	/* engine -> client */
	{ MSG_RUN_READY, 0 },				/* a runner's */
};
#define FUZZ_NTYPES	(sizeof fuzz_types / sizeof fuzz_types[0])

/* The next byte of the script; 0 once it is all read. */
static uint8_t
fuzz_byte(struct fuzz_script *s)
{
	return s->off < s->size ? s->data[s->off++] : 0;
}

static int
fuzz_done(struct fuzz_script *s)
{
	return s->off >= s->size;
}

/*
 * The stream sockets and /dev/null fds open: what an input makes (the
 * engine's ends of its connections, the fds sent with messages). Other
 * fds come and go with the fuzzer itself (its symbolizer's pipes) and
 * with syslog (a datagram socket).
 */
static int
fuzz_count_fds(int show)
{
	struct stat st, nul;
	struct dirent *d;
	socklen_t len;
	DIR *dir;
	int n = 0, fd, type;

	if ((dir = opendir("/proc/self/fd")) == NULL ||
	    fstat(fuzz_nulfd, &nul) == -1)
		abort();
	while ((d = readdir(dir)) != NULL) {
		fd = atoi(d->d_name);
		if (d->d_name[0] == '.' || fd == dirfd(dir) ||
		    fstat(fd, &st) == -1)
			continue;
		len = sizeof type;
		if ((S_ISSOCK(st.st_mode) && getsockopt(fd, SOL_SOCKET,
		    SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM) ||
		    (S_ISCHR(st.st_mode) && st.st_rdev == nul.st_rdev)) {
			n++;
			if (show)
				fprintf(stderr, "fuzz_engine_conns: fd %d: "
				    "mode %o inode %llu\n", fd,
				    (unsigned)st.st_mode,
				    (unsigned long long)st.st_ino);
		}
	}
	closedir(dir);
	return n;
}

/* The runner stands in through these: nothing is forked. */
static int
fuzz_launch(struct vm *vm, char *err, size_t errlen)
{
	/* A start of "third" fails as a missing kernel would. */
	if (strcmp(vm->conf->name, "third") == 0) {
		snprintf(err, errlen, "vm %s: kernel %s: no such file",
		    vm->conf->name, vm->conf->kernel);
		return -1;
	}
	vm->pid = 1000000 + vm->id;
	return 0;
}

static int
fuzz_send(struct vm *vm, uint32_t type)
{
	(void)type;
	if (vm->pid == 0) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

static void
fuzz_kill(struct vm *vm)
{
	(void)vm;
}

static uint64_t
fuzz_now(void)
{
	static uint64_t now = 1000ULL * 1000000000ULL;

	now += 2ULL * 1000000000ULL;
	return now;
}

static const struct vm_ops fuzz_ops = {
	fuzz_launch, fuzz_send, fuzz_kill, fuzz_now
};

static void
fuzz_queue(struct fuzz_client *fc, const void *p, size_t n)
{
	if (fc->fd == -1 || fc->shut || fc->len + n > FUZZ_PENDING)
		return;
	fc->out = xreallocarray(fc->out, fc->len + n, 1);
	memcpy(fc->out + fc->len, p, n);
	fc->len += n;
}

/* Send up to n queued bytes, with /dev/null's fd along if withfd. */
static void
fuzz_send_some(struct fuzz_client *fc, size_t n, int withfd)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	ssize_t w;

	if (fc->fd == -1 || fc->len == 0)
		return;
	if (n > fc->len)
		n = fc->len;
	memset(&mh, 0, sizeof mh);
	iov.iov_base = fc->out;
	iov.iov_len = n;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (withfd) {
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof cm.buf;
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fuzz_nulfd, sizeof(int));
	}
	w = sendmsg(fc->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w <= 0)
		return;		/* full, or the engine has hung up */
	memmove(fc->out, fc->out + w, fc->len - w);
	fc->len -= w;
}

/* Read whatever replies wait for this client. */
static void
fuzz_drain(struct fuzz_client *fc)
{
	char buf[65536];
	ssize_t n;

	if (fc->fd == -1)
		return;
	do {
		n = recv(fc->fd, buf, sizeof buf, MSG_DONTWAIT);
	} while (n > 0);
}

static void
fuzz_hangup(struct fuzz_client *fc)
{
	if (fc->fd != -1)
		close(fc->fd);
	fc->fd = -1;
	free(fc->out);
	fc->out = NULL;
	fc->len = 0;
	fc->shut = 0;
}

/* A new connection in slot i, as the engine's accept would make it. */
static void
fuzz_connect(int i, uid_t uid)
{
	struct ucred cred;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	cred.pid = 4000 + i;
	cred.uid = uid;
	cred.gid = uid;
	if (control_client_new(sv[1], &cred) == -1) {
		close(sv[1]);
		close(sv[0]);
		fuzz_clients[i].fd = -1;
		return;
	}
	fuzz_clients[i].fd = sv[0];
}

/* A request of a known type; the script picks its name and fields. */
static void
fuzz_request(struct fuzz_script *s, struct fuzz_client *fc)
{
	static uint8_t payload[sizeof(struct proto_start) + 64];
	struct msg_hdr hdr;
	size_t size, i, n;
	uint8_t how = fuzz_byte(s), pick = fuzz_byte(s), sz = fuzz_byte(s);
	const char *name;
	char made[VM_NAME_SIZE];

	memset(&hdr, 0, sizeof hdr);
	hdr.type = fuzz_types[pick % FUZZ_NTYPES].type;
	size = fuzz_types[pick % FUZZ_NTYPES].size;
	if (pick >= 240)
		hdr.type = MSG_CMD_LIST + fuzz_byte(s) % 40;	/* unknown too */
	memset(payload, 0, sizeof payload);
	if (hdr.type == MSG_HELLO) {
		struct proto_hello h = { PROTOCOL_VERSION, 4242 };

		if (how & 0x80)
			h.version = fuzz_byte(s);
		memcpy(payload, &h, sizeof h);
	} else if (size >= VM_NAME_SIZE) {
		name = fuzz_names[(how >> 4) % FUZZ_NNAMES];
		if ((how >> 4) == 15) {
			n = fuzz_byte(s) % sizeof made;
			for (i = 0; i < n; i++)
				made[i] = (char)fuzz_byte(s);
			made[n] = '\0';
			name = made;
		}
		/* An unterminated name now and then. */
		if ((how >> 4) == 14)
			memset(payload, 'a', VM_NAME_SIZE);
		else
			snprintf((char *)payload, VM_NAME_SIZE, "%s", name);
	}
	switch (hdr.type) {
	case MSG_CMD_START: {
		struct proto_start *st = (struct proto_start *)payload;

		if (how & 0x01)
			snprintf(st->kernel, sizeof st->kernel, "/k%u",
			    fuzz_byte(s));
		if (how & 0x02)
			st->memory = (uint64_t)fuzz_byte(s) << 24;
		if (how & 0x04)
			st->vcpus = fuzz_byte(s) % 80;
		if (how & 0x08) {
			st->ndisks = fuzz_byte(s) % (VM_MAX_DISKS + 2);
			for (i = 0; i < st->ndisks && i < VM_MAX_DISKS; i++)
				snprintf(st->disks[i], sizeof st->disks[i],
				    "/d%zu", i);
		}
		break;
	}
	case MSG_CMD_STOP:
		((struct proto_stop *)payload)->flags = fuzz_byte(s) & 7;
		break;
	case MSG_CMD_SUBSCRIBE:
		((struct proto_subscribe *)payload)->interval_ms =
		    fuzz_byte(s) * 8;
		break;
	case MSG_CMD_LOG:
		((struct proto_log *)payload)->verbose = how & 1;
		break;
	}
	/* The size: right, one off either way, none, or over the limit. */
	switch (sz % 8) {
	case 1:
		size = size > 0 ? size - 1 : 0;
		break;
	case 2:
		size++;
		break;
	case 3:
		size = 0;
		break;
	case 4:
		hdr.len = MSG_MAX_PAYLOAD + 1 + fuzz_byte(s);
		hdr.peerid = fuzz_byte(s);
		fuzz_queue(fc, &hdr, sizeof hdr);
		return;
	case 5:
		hdr.flags = MSG_F_FD;	/* says an fd comes; none does */
		break;
	}
	hdr.len = size;
	hdr.peerid = how & 0x08 ? fuzz_byte(s) : 0;
	fuzz_queue(fc, &hdr, sizeof hdr);
	fuzz_queue(fc, payload, size);
}

/* A runner's answer for the VM the script picks, if it has a runner. */
static void
fuzz_runner_event(struct fuzz_script *s)
{
	static const int statuses[] = { RUNNER_EXIT_POWEROFF << 8,
	    RUNNER_EXIT_ERROR << 8, RUNNER_EXIT_REBOOT << 8, SIGKILL,
	    7 << 8 };
	uint8_t which = fuzz_byte(s), what = fuzz_byte(s);
	struct vm *vm;

	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (which-- == 0 || TAILQ_NEXT(vm, entry) == NULL)
			break;
	if (vm == NULL || vm->pid == 0)
		return;
	switch (what % 6) {
	case 0:
		vm_runner_ready(vm);
		break;
	case 1:
		vm_runner_error(vm, "the guest's disk is gone");
		break;
	case 2:
		if (vm->pending_op != 0)
			vm_runner_replied(vm, what & 0x80 ? "busy" : NULL);
		break;
	case 3:
		vm_runner_hungup(vm);
		break;
	default:
		vm->pid = 0;
		vm_runner_exited(vm, statuses[(what >> 3) % 5]);
		break;
	}
}

static void
fuzz_loop(void)
{
	event_base_loop(engine->base, EVLOOP_NONBLOCK);
}

static void
fuzz_engine_begin(void)
{
	struct conf_vm *cv;

	memset(&fuzz_engine, 0, sizeof fuzz_engine);
	engine = &fuzz_engine;
	engine->listenfd = engine->lockfd = -1;
	engine->config_path = fuzz_conf_path;
	engine->socket_path = fuzz_conf_path;	/* never bound */
	engine->statedir = engine->logdir = (char *)"/nonexistent";
	TAILQ_INIT(&engine->vms);
	TAILQ_INIT(&engine->clients);
	TAILQ_INIT(&engine->waiters);
	config_init(&engine->conf);
	if (engine_load_config(&engine->conf, NULL) != 0)
		abort();
	/* Small limits, so that a short input reaches them. */
	engine->conf.limits.waiters = 4;
	engine->conf.limits.subscribers = 2;
	engine->conf.limits.queue_bytes = 256 * 1024;
	engine->conf.limits.user_adhoc = 3;
	if ((engine->base = event_base_new()) == NULL)
		abort();
	TAILQ_FOREACH(cv, &engine->conf.vms, entry)
		vm_add(conf_vm_dup(cv), 0);
	vm_set_ops(&fuzz_ops);
}

/* Every client hangs up; the engine must let go of each of them. */
static void
fuzz_engine_end(void)
{
	struct vm *vm;
	int i;

	for (i = 0; i < FUZZ_CLIENTS; i++)
		fuzz_hangup(&fuzz_clients[i]);
	for (i = 0; i < FUZZ_SETTLE && !TAILQ_EMPTY(&engine->clients); i++)
		fuzz_loop();
	if (!TAILQ_EMPTY(&engine->clients)) {
		fprintf(stderr, "fuzz_engine_conns: the engine still holds "
		    "a client whose peer hung up\n");
		abort();
	}
	while ((vm = TAILQ_FIRST(&engine->vms)) != NULL)
		vm_remove(vm);
	if (!TAILQ_EMPTY(&engine->waiters)) {
		fprintf(stderr, "fuzz_engine_conns: a waiter outlived its "
		    "client and its VM\n");
		abort();
	}
	if (engine->exit_timer != NULL)
		event_free(engine->exit_timer);
	config_free(&engine->conf);
	event_base_free(engine->base);
	vm_set_ops(NULL);
	engine = NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	/* Keep the dropped-client warnings out of the fuzzer's output. */
	log_init("fuzz_engine_conns", 0, 0);
	log_warnx("fuzz_engine_conns: starting");	/* opens what it opens */
	if ((fd = mkstemp(fuzz_conf_path)) == -1 ||
	    write(fd, fuzz_conf_text, strlen(fuzz_conf_text)) !=
	    (ssize_t)strlen(fuzz_conf_text))
		abort();
	close(fd);
	if ((fuzz_nulfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	signal(SIGPIPE, SIG_IGN);
	/* One run first, so that what it opens once is counted. */
	fuzz_engine_begin();
	fuzz_engine_end();
	fuzz_fds = fuzz_count_fds(0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_script s = { data, size, 0 };
	struct fuzz_client *fc;
	uint8_t op, b, raw[256];
	int i, reconnects = 0, n;

	fuzz_engine_begin();
	for (i = 0; i < FUZZ_CLIENTS; i++) {
		memset(&fuzz_clients[i], 0, sizeof fuzz_clients[i]);
		fuzz_connect(i, fuzz_uids[i]);
	}
	while (!fuzz_done(&s)) {
		op = fuzz_byte(&s);
		fc = &fuzz_clients[op & 3];
		switch ((op >> 2) % 12) {
		case 0:		/* raw bytes */
			n = 1 + fuzz_byte(&s) % sizeof raw;
			for (i = 0; i < n; i++)
				raw[i] = fuzz_byte(&s);
			fuzz_queue(fc, raw, n);
			break;
		case 1: {	/* a valid hello */
			struct msg_hdr hdr = { MSG_HELLO,
			    sizeof(struct proto_hello), 0, 0 };
			struct proto_hello h = { PROTOCOL_VERSION, 1 };

			fuzz_queue(fc, &hdr, sizeof hdr);
			fuzz_queue(fc, &h, sizeof h);
			break;
		}
		case 2:
		case 3:
		case 4:
			fuzz_request(&s, fc);
			break;
		case 5:		/* part of what is queued */
		case 6:
			b = fuzz_byte(&s);
			fuzz_send_some(fc, b < 200 ? 1 + b % 64 :
			    (size_t)(b - 199) * 4096, b == 255);
			fuzz_loop();
			break;
		case 7:		/* all of it */
			fuzz_send_some(fc, fc->len, 0);
			fuzz_loop();
			break;
		case 8:
			fuzz_drain(fc);
			fuzz_loop();
			break;
		case 9:
			fuzz_runner_event(&s);
			fuzz_loop();
			break;
		case 10:
			if (fc->fd != -1 && !fc->shut) {
				shutdown(fc->fd, SHUT_WR);
				fc->shut = 1;
			}
			fuzz_loop();
			break;
		case 11:	/* hang up, maybe connect again */
			b = fuzz_byte(&s);
			fuzz_hangup(fc);
			fuzz_loop();
			if (b & 1 && reconnects++ < FUZZ_RECONNECTS)
				fuzz_connect(op & 3, fuzz_uids[(b >> 1) % 4]);
			break;
		}
	}
	/* What is queued goes out, and the engine gets to answer it. */
	for (i = 0; i < FUZZ_CLIENTS; i++) {
		fuzz_send_some(&fuzz_clients[i], fuzz_clients[i].len, 0);
		fuzz_loop();
		fuzz_drain(&fuzz_clients[i]);
		fuzz_loop();
	}
	fuzz_engine_end();
	if ((n = fuzz_count_fds(0)) != fuzz_fds) {
		fprintf(stderr, "fuzz_engine_conns: %d fds open after the "
		    "input, %d before\n", n, fuzz_fds);
		fuzz_count_fds(1);
		abort();
	}
	return 0;
}

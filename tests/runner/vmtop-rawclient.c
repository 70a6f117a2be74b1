/*
 * A misbehaving control client for the engine tests. The malformed modes
 * connect and send one bad message, then report whether the engine
 * dropped it ("dropped") or answered ("answered TYPE"):
 *   short    a list request one byte short
 *   long     a list request one byte long
 *   unknown  a message type the engine does not know
 *   huge     a header claiming a payload over the limit
 *   nohello  a well-formed list request before hello
 *   badname  a show request whose name has no NUL
 *   partial  half a header, then hang up
 * The abusive modes take a count and report what the engine did:
 *   hold N       N connections that say hello and then nothing; prints
 *                "held H refused R", then holds them until killed
 *   holdraw N    N connections that never say hello; prints "all N
 *                dropped" once the engine has hung up on every one
 *   subscribe N  N connections that subscribe and never read; prints
 *                "subscribed S refused R", then holds them until killed
 *   waits N VM   N pipelined waits for VM without reading; prints
 *                "dropped after R replies" and the first error
 *   stopall N    N connections each send two `stop -a -w` back to back;
 *                prints each answer, then the VMs still running
 *   list         counts the VMs of one list reply: "listed N"
 *   listnoread   asks for a list and never reads it; prints "dropped"
 *                once the engine hangs up
 * And one that is no client: a stand-in for another uid's runner.
 *   runner UID KIND  binds the socket path (as the caller, root), drops
 *                to UID, listens, prints "listening", then prints
 *                "connected N" for each connection and answers as KIND
 *                says: silent reads and says nothing, forge answers
 *                MSG_RUN_ADOPT with a MSG_RUN_STATE claiming a running
 *                guest named after the socket file, garbage writes bytes
 *                that are no message; runs until killed
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "proto.h"

static const char *sockpath;

static int
rc_connect(void)
{
	struct sockaddr_un sun;
	int s;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sockpath);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(s);
		return -1;
	}
	return s;
}

/* Say hello; 0 when greeted, -1 when refused (the reason in why). */
static int
rc_hello(int s, char *why, size_t whylen)
{
	struct proto_hello h = { PROTOCOL_VERSION, 0 };
	struct msg m;
	int rv = -1;

	snprintf(why, whylen, "no answer");
	/* A refusal may come before our hello is read: read it anyway. */
	(void)msg_send_sync(s, MSG_HELLO, 0, -1, &h, sizeof h);
	if (msg_recv_sync(s, &m) != 1)
		return -1;
	if (m.hdr.type == MSG_HELLO)
		rv = 0;
	else if (m.hdr.type == MSG_ERROR && m.hdr.len ==
	    sizeof(struct proto_error))
		snprintf(why, whylen, "%s",
		    ((struct proto_error *)m.data)->text);
	msg_clear(&m);
	return rv;
}

/* Read one reply, printing it; returns its type, or 0 at end of file. */
static uint32_t
rc_answer(int s, const char *label)
{
	struct msg m;
	uint32_t type;

	if (msg_recv_sync(s, &m) != 1) {
		printf("%s: dropped\n", label);
		return 0;
	}
	type = m.hdr.type;
	if (type == MSG_OK)
		printf("%s: ok\n", label);
	else if (type == MSG_ERROR)
		printf("%s: error: %s\n", label,
		    ((struct proto_error *)m.data)->text);
	else
		printf("%s: message %u\n", label, type);
	msg_clear(&m);
	return type;
}

static int
rc_list(int s, int *running)
{
	struct proto_name name;
	struct proto_vm_info *info;
	struct msg m;
	int n = 0;

	memset(&name, 0, sizeof name);
	if (running != NULL)
		*running = 0;
	if (msg_send_sync(s, MSG_CMD_LIST, 0, -1, &name, sizeof name) == -1)
		return -1;
	for (;;) {
		if (msg_recv_sync(s, &m) != 1)
			return -1;
		if (m.hdr.type == MSG_END) {
			msg_clear(&m);
			return n;
		}
		if (m.hdr.type != MSG_VM_INFO) {
			printf("list: unexpected message %u\n", m.hdr.type);
			msg_clear(&m);
			return -1;
		}
		info = m.data;
		if (running != NULL && info->state != VM_STOPPED &&
		    info->state != VM_FAILED)
			(*running)++;
		n++;
		msg_clear(&m);
	}
}

static int
rc_hold(int n, int hello)
{
	char why[PROTO_TEXT_SIZE], first[PROTO_TEXT_SIZE] = "";
	struct pollfd *pfd;
	int i, s, held = 0, refused = 0, open;

	pfd = calloc(n, sizeof *pfd);
	for (i = 0; i < n; i++) {
		pfd[i].fd = -1;
		if ((s = rc_connect()) == -1) {
			perror(sockpath);
			return 2;
		}
		if (hello && rc_hello(s, why, sizeof why) == -1) {
			if (refused++ == 0)
				snprintf(first, sizeof first, "%s", why);
			close(s);
			continue;
		}
		pfd[i].fd = s;
		pfd[i].events = POLLIN;
		held++;
	}
	if (hello) {
		printf("held %d refused %d\n", held, refused);
		if (refused > 0)
			printf("refusal: %s\n", first);
		fflush(stdout);
		for (;;)
			pause();
	}
	/* Wait until the engine has hung up on every connection. */
	for (open = held; open > 0;) {
		if (poll(pfd, n, -1) == -1)
			return 2;
		for (i = 0; i < n; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (read(pfd[i].fd, why, sizeof why) > 0)
				continue;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			open--;
		}
	}
	printf("all %d dropped\n", n);
	free(pfd);
	return 0;
}

static int
rc_subscribe(int n)
{
	struct proto_subscribe sub = { 100 };
	char why[PROTO_TEXT_SIZE], first[PROTO_TEXT_SIZE] = "";
	struct msg m;
	int i, s, subscribed = 0, refused = 0;

	for (i = 0; i < n; i++) {
		if ((s = rc_connect()) == -1) {
			perror(sockpath);
			return 2;
		}
		if (rc_hello(s, why, sizeof why) == 0) {
			snprintf(why, sizeof why, "no answer");
			if (msg_send_sync(s, MSG_CMD_SUBSCRIBE, 0, -1, &sub,
			    sizeof sub) == 0 && msg_recv_sync(s, &m) == 1) {
				if (m.hdr.type == MSG_OK) {
					subscribed++;
					msg_clear(&m);
					continue;	/* kept, never read */
				}
				if (m.hdr.type == MSG_ERROR)
					snprintf(why, sizeof why, "%s",
					    ((struct proto_error *)m.data)->text);
				msg_clear(&m);
			}
		}
		if (refused++ == 0)
			snprintf(first, sizeof first, "%s", why);
		close(s);
	}
	printf("subscribed %d refused %d\n", subscribed, refused);
	if (refused > 0)
		printf("refusal: %s\n", first);
	fflush(stdout);
	for (;;)
		pause();
}

static int
rc_waits(int n, const char *vm)
{
	char why[PROTO_TEXT_SIZE], first[PROTO_TEXT_SIZE] = "";
	struct proto_name name;
	struct msg m;
	int i, s, replies = 0, sent = 0;

	if ((s = rc_connect()) == -1 || rc_hello(s, why, sizeof why) == -1) {
		fprintf(stderr, "%s: %s\n", sockpath, why);
		return 2;
	}
	memset(&name, 0, sizeof name);
	snprintf(name.name, sizeof name.name, "%s", vm);
	for (i = 0; i < n; i++, sent++)
		if (msg_send_sync(s, MSG_CMD_WAIT, 0, -1, &name,
		    sizeof name) == -1)
			break;
	while (msg_recv_sync(s, &m) == 1) {
		if (m.hdr.type == MSG_ERROR && replies == 0)
			snprintf(first, sizeof first, "%s",
			    ((struct proto_error *)m.data)->text);
		replies++;
		msg_clear(&m);
	}
	printf("sent %d dropped after %d replies\n", sent, replies);
	if (first[0] != '\0')
		printf("first error: %s\n", first);
	return 0;
}

static int
rc_stopall(int n)
{
	struct proto_stop st;
	char why[PROTO_TEXT_SIZE], label[32];
	int i, j, *s, running;

	s = calloc(n, sizeof *s);
	memset(&st, 0, sizeof st);
	st.flags = STOP_ALL | STOP_WAIT;
	for (i = 0; i < n; i++)
		if ((s[i] = rc_connect()) == -1 ||
		    rc_hello(s[i], why, sizeof why) == -1) {
			fprintf(stderr, "%s: %s\n", sockpath, why);
			return 2;
		}
	for (i = 0; i < n; i++)
		for (j = 0; j < 2; j++)
			if (msg_send_sync(s[i], MSG_CMD_STOP, 0, -1, &st,
			    sizeof st) == -1)
				return 2;
	for (i = 0; i < n; i++)
		for (j = 0; j < 2; j++) {
			snprintf(label, sizeof label, "conn %d stop %d", i + 1,
			    j + 1);
			if (rc_answer(s[i], label) == 0)
				return 1;
		}
	/* A stray third answer would come before this list's VMs. */
	for (i = 0; i < n; i++) {
		if (rc_list(s[i], &running) == -1)
			return 1;
		printf("conn %d: running after the answers: %d\n", i + 1,
		    running);
	}
	free(s);
	return 0;
}

static int
rc_listnoread(void)
{
	struct proto_name name;
	struct pollfd pfd;
	char why[PROTO_TEXT_SIZE];
	int s;

	if ((s = rc_connect()) == -1 || rc_hello(s, why, sizeof why) == -1) {
		fprintf(stderr, "%s: %s\n", sockpath, why);
		return 2;
	}
	memset(&name, 0, sizeof name);
	if (msg_send_sync(s, MSG_CMD_LIST, 0, -1, &name, sizeof name) == -1)
		return 2;
	pfd.fd = s;
	pfd.events = POLLRDHUP;
	do
		if (poll(&pfd, 1, -1) == -1)
			return 2;
	while ((pfd.revents & (POLLRDHUP | POLLHUP)) == 0);
	printf("dropped\n");
	close(s);
	return 0;
}

/* Answer one engine's connection to a fake runner as kind says. */
static void
rc_runner_serve(int c, const char *kind, const char *vm)
{
	struct proto_run_adopt *adopt;
	struct proto_run_state st;
	struct msg m;
	char buf[512];

	if (strcmp(kind, "garbage") == 0) {
		memset(buf, 0xa5, sizeof buf);
		(void)write(c, buf, sizeof buf);
	}
	while (msg_recv_sync(c, &m) == 1) {
		printf("message %u\n", m.hdr.type);
		if (strcmp(kind, "forge") == 0 && m.hdr.type == MSG_RUN_ADOPT &&
		    m.hdr.len == sizeof *adopt) {
			adopt = m.data;
			memset(&st, 0, sizeof st);
			st.version = RUNNER_PROTOCOL_VERSION;
			snprintf(st.name, sizeof st.name, "%s", vm);
			st.pid = getpid();
			st.uptime_ns = 1000000000ULL;
			(void)msg_send_sync(c, MSG_RUN_STATE, adopt->id, -1,
			    &st, sizeof st);
		}
		msg_clear(&m);
	}
	close(c);
}

/* A listener at sockpath run by another uid, standing in for a runner. */
static int
rc_runner(const char *uidarg, const char *kind)
{
	struct sockaddr_un sun;
	char vm[VM_NAME_SIZE], *dot, *path;
	uid_t uid = (uid_t)strtoul(uidarg, NULL, 10);
	int s, c, n = 0;

	path = strdup(sockpath);
	snprintf(vm, sizeof vm, "%s", basename(path));
	free(path);
	if ((dot = strrchr(vm, '.')) != NULL)
		*dot = '\0';
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sockpath);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		perror(sockpath);
		return 2;
	}
	/* listen() as uid: that is whom SO_PEERCRED names to a connecter */
	if (setgroups(0, NULL) == -1 || setresgid(uid, uid, uid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		perror("uid");
		return 2;
	}
	if (listen(s, 8) == -1) {
		perror("listen");
		return 2;
	}
	printf("listening\n");
	while ((c = accept(s, NULL, NULL)) != -1) {
		printf("connected %d\n", ++n);
		rc_runner_serve(c, kind, vm);
	}
	perror("accept");
	return 2;
}

/* The malformed modes: one bad message, then dropped or answered. */
static int
rc_malformed(const char *mode)
{
	struct proto_name name;
	struct msg_hdr hdr;
	struct msg m;
	char big[sizeof name + 1], why[PROTO_TEXT_SIZE];
	int s, rv;

	if ((s = rc_connect()) == -1) {
		perror(sockpath);
		return 2;
	}
	if (strcmp(mode, "nohello") != 0 && rc_hello(s, why, sizeof why)) {
		fprintf(stderr, "hello failed: %s\n", why);
		return 2;
	}
	memset(&name, 0, sizeof name);
	memset(big, 0, sizeof big);
	if (strcmp(mode, "short") == 0)
		rv = msg_send_sync(s, MSG_CMD_LIST, 0, -1, &name,
		    sizeof name - 1);
	else if (strcmp(mode, "long") == 0)
		rv = msg_send_sync(s, MSG_CMD_LIST, 0, -1, big, sizeof big);
	else if (strcmp(mode, "unknown") == 0)
		rv = msg_send_sync(s, 9999, 0, -1, NULL, 0);
	else if (strcmp(mode, "nohello") == 0)
		rv = msg_send_sync(s, MSG_CMD_LIST, 0, -1, &name, sizeof name);
	else if (strcmp(mode, "badname") == 0) {
		memset(name.name, 'a', sizeof name.name);
		rv = msg_send_sync(s, MSG_CMD_SHOW, 0, -1, &name, sizeof name);
	} else if (strcmp(mode, "huge") == 0 || strcmp(mode, "partial") == 0) {
		memset(&hdr, 0, sizeof hdr);
		hdr.type = MSG_CMD_LIST;
		hdr.len = strcmp(mode, "huge") == 0 ? 1 << 30 : sizeof name;
		rv = write(s, &hdr, strcmp(mode, "huge") == 0 ? sizeof hdr :
		    sizeof hdr / 2) > 0 ? 0 : -1;
		if (strcmp(mode, "partial") == 0) {
			close(s);
			printf("dropped\n");
			return 0;
		}
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	if (rv == -1) {
		perror("send");
		return 2;
	}
	switch (msg_recv_sync(s, &m)) {
	case 0:
		printf("dropped\n");
		return 0;
	case 1:
		printf("answered %u\n", m.hdr.type);
		return 1;
	default:
		perror("recv");
		return 2;
	}
}

int
main(int argc, char **argv)
{
	const char *mode;
	int n, s;

	if (argc < 3) {
		fprintf(stderr, "usage: vmtop-rawclient socket mode [count] "
		    "[vm]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sockpath = argv[1];
	mode = argv[2];
	n = argc > 3 ? atoi(argv[3]) : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "hold") == 0 || strcmp(mode, "holdraw") == 0)
		return rc_hold(n, strcmp(mode, "hold") == 0);
	if (strcmp(mode, "subscribe") == 0)
		return rc_subscribe(n);
	if (strcmp(mode, "waits") == 0 && argc == 5)
		return rc_waits(n, argv[4]);
	if (strcmp(mode, "stopall") == 0)
		return rc_stopall(n);
	if (strcmp(mode, "listnoread") == 0)
		return rc_listnoread();
	if (strcmp(mode, "runner") == 0 && argc == 5)
		return rc_runner(argv[3], argv[4]);
	if (strcmp(mode, "list") == 0) {
		char why[PROTO_TEXT_SIZE];

		if ((s = rc_connect()) == -1 ||
		    rc_hello(s, why, sizeof why) == -1) {
			fprintf(stderr, "%s: cannot connect\n", sockpath);
			return 2;
		}
		if ((n = rc_list(s, NULL)) == -1)
			return 1;
		printf("listed %d\n", n);
		return 0;
	}
	return rc_malformed(mode);
}

/*
 * A misbehaving engine for the client tests: it listens on a socket and
 * answers each client (one process per connection) as its mode says:
 *   shorthello  a hello three bytes long
 *   shortreply  a good hello, then three-byte answers: a VM for a
 *               subscription, a list or a show, MSG_OK for any other
 *               request
 * It runs until it is killed.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "proto.h"

static void
serve(int c, int shorthello)
{
	struct proto_hello h = { PROTOCOL_VERSION, 0 };
	struct msg m;
	uint32_t type;

	h.pid = getpid();
	if (msg_recv_sync(c, &m) != 1 || m.hdr.type != MSG_HELLO)
		return;
	msg_clear(&m);
	if (shorthello) {
		msg_send_sync(c, MSG_HELLO, 0, -1, &h, 3);
		return;
	}
	if (msg_send_sync(c, MSG_HELLO, 0, -1, &h, sizeof h) == -1)
		return;
	while (msg_recv_sync(c, &m) == 1) {
		type = m.hdr.type == MSG_CMD_SUBSCRIBE ||
		    m.hdr.type == MSG_CMD_LIST || m.hdr.type == MSG_CMD_SHOW ?
		    MSG_VM_INFO : MSG_OK;
		msg_clear(&m);
		if (msg_send_sync(c, type, 0, -1, "abc", 3) == -1)
			return;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	int s, c, shorthello;

	if (argc != 3 || (strcmp(argv[2], "shorthello") != 0 &&
	    strcmp(argv[2], "shortreply") != 0)) {
		fprintf(stderr, "usage: vmtop-fakeengine socket "
		    "shorthello|shortreply\n");
		return 2;
	}
	shorthello = strcmp(argv[2], "shorthello") == 0;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "vmtop-fakeengine: socket path too long\n");
		return 1;
	}
	memcpy(sun.sun_path, argv[1], strlen(argv[1]) + 1);
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(s, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(s, 8) == -1) {
		perror("vmtop-fakeengine");
		return 1;
	}
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			continue;
		switch (fork()) {
		case 0:
			close(s);
			serve(c, shorthello);
			_exit(0);
		default:
			close(c);
			break;
		}
	}
}

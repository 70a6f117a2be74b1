/*
 * A misbehaving control client for the engine tests: it connects and
 * sends one malformed message, then reports whether the engine dropped
 * it ("dropped") or answered ("answered TYPE"). Modes:
 *   short    a list request one byte short
 *   long     a list request one byte long
 *   unknown  a message type the engine does not know
 *   huge     a header claiming a payload over the limit
 *   nohello  a well-formed list request before hello
 *   badname  a show request whose name has no NUL
 *   partial  half a header, then hang up
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "proto.h"

static int
hello(int s)
{
	struct proto_hello h = { PROTOCOL_VERSION, 0 };
	struct msg m;

	if (msg_send_sync(s, MSG_HELLO, 0, -1, &h, sizeof h) == -1 ||
	    msg_recv_sync(s, &m) != 1 || m.hdr.type != MSG_HELLO)
		return -1;
	msg_clear(&m);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct proto_name name;
	struct msg_hdr hdr;
	struct msg m;
	char big[sizeof name + 1];
	const char *mode;
	int s, rv;

	if (argc != 3) {
		fprintf(stderr, "usage: vmtop-rawclient socket mode\n");
		return 2;
	}
	mode = argv[2];
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[1]);
	if ((s = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		perror(argv[1]);
		return 2;
	}
	if (strcmp(mode, "nohello") != 0 && hello(s) == -1) {
		fprintf(stderr, "hello failed\n");
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

/*
 * vmtop-slirp: the user-mode network of one NIC, on libslirp. The engine
 * starts it on one end of a SOCK_SEQPACKET socketpair (SLIRP_SOCKET_FD)
 * whose other end becomes the NIC's frame fd in the runner; the first
 * datagram is its configuration (lib/proto.h, MSG_SLIRP_CONFIG). It binds
 * its hostfwd rules, enters its sandbox, answers, offers the runner shared
 * frame rings (lib/framering.h), and serves until the runner hangs up:
 * frames go through the rings once the runner accepts them, else through
 * the socket.
 */
#ifndef USERNET_H
#define USERNET_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct usernet;

/* usernet.c: libslirp glue, frame batches both ways, the poll loop */
/* ctl: the control socket, or -1 for none. */
struct usernet	*usernet_new(int sock, int ctl,
		    const struct proto_slirp_config *, char *err,
		    size_t errlen);
/* Bind one hostfwd rule; 0, or -1 with a sentence naming the rule. */
int		 usernet_hostfwd(struct usernet *, const char *rule,
		    char *err, size_t errlen);
/*
 * Remove the rule that has rule's protocol, host address and port; 0,
 * or -1 with a sentence naming the rule.
 */
int		 usernet_unhostfwd(struct usernet *, const char *rule,
		    char *err, size_t errlen);
/* Serve until the runner hangs up; returns the exit status. */
int		 usernet_run(struct usernet *);

/*
 * guard.c: what a guest may send when it is restricted: ARP, DHCP, the
 * host (the gateway address), and answers within connections the host
 * side opened (hostfwd); never a new connection to anywhere else.
 */
struct guard {
	int		restricted;
	uint32_t	host;		/* network byte order */
	uint32_t	dns;
	uint32_t	network;
	uint32_t	netmask;
	int		nudp;
	uint16_t	udp_ports[VM_MAX_HOSTFWD + VM_MAX_FORWARDS];
					/* of UDP rules, once per rule */
};
void		 guard_init(struct guard *,
		    const struct proto_slirp_config *);
/* A UDP rule for guest port port is added (1) or removed (0). */
void		 guard_udp(struct guard *, uint16_t port, int add);
/* Whether the guest's frame of len bytes may go to libslirp. */
int		 guard_pass(const struct guard *, const uint8_t *, size_t);

/*
 * jail.c: the sandbox, entered once the rules are bound: no new
 * privileges, an empty root in a mount namespace of its own, an
 * unprivileged uid when root, rlimits and a seccomp allowlist. Returns 0,
 * or -1 with a sentence in err.
 */
int		 jail_enter(const struct proto_slirp_config *, char *err,
		    size_t errlen);
/* Whether jail_enter made the root the empty tmpfs. */
int		 jail_rooted(void);

#endif

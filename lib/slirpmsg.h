/*
 * The messages of vmtop-slirp (lib/proto.h, 300-399): the engine fills
 * and sends them, the helper receives and checks them before it uses
 * anything in them. Each message is one datagram, a struct msg_hdr and
 * then the payload: the configuration on the NIC's SOCK_SEQPACKET frame
 * socket, rules added and removed later on the helper's control socket.
 */
#ifndef SLIRPMSG_H
#define SLIRPMSG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct hostfwd;

#define SLIRP_MTU_DEFAULT	65520
#define SLIRP_MTU_MIN		576
#define SLIRP_MTU_MAX		65521	/* libslirp's largest */
#define SLIRP_DHCP_CLIENTS	16	/* addresses libslirp hands out */

/*
 * The network every user-mode interface gets: 10.0.2.0/24, the host at
 * 10.0.2.2, DNS at 10.0.2.3, DHCP from 10.0.2.15, restricted.
 */
void	slirpmsg_defaults(struct proto_slirp_config *);
/* Check a configuration; returns 0, or -1 with a sentence in why. */
int	slirpmsg_check(const struct proto_slirp_config *, char *why,
	    size_t whylen);
/*
 * Check one received datagram of len bytes (header and payload) and copy
 * the configuration out. Returns 0, or -1 with a sentence in why.
 */
int	slirpmsg_parse(const void *buf, size_t len,
	    struct proto_slirp_config *, char *why, size_t whylen);
/*
 * Whether a good rule's guest address (if it gives one) is a guest's in
 * the network: 0, or -1 with a sentence naming the rule in why.
 */
int	slirpmsg_check_guest(const struct proto_slirp_config *,
	    const struct hostfwd *, const char *rule, char *why,
	    size_t whylen);
/*
 * Check one control datagram of len bytes: MSG_SLIRP_HOSTFWD_ADD or
 * _REMOVE with a good rule, copied into ph and parsed into hf, its type
 * into type. Returns 0, or -1 with a sentence in why.
 */
int	slirpmsg_parse_hostfwd(const void *buf, size_t len, uint32_t *type,
	    struct proto_slirp_hostfwd *ph, struct hostfwd *hf, char *why,
	    size_t whylen);
/* Send one message as one datagram; -1 with errno set. */
int	slirpmsg_send(int fd, uint32_t type, uint32_t peerid, const void *,
	    size_t);
/*
 * Receive one datagram of at most size bytes, waiting at most timeout_ms
 * (-1: for ever). Returns its length, 0 when the peer has gone, or -1
 * with errno set (ETIMEDOUT; EMSGSIZE for a longer datagram).
 */
ssize_t	slirpmsg_recv(int fd, void *buf, size_t size, int timeout_ms);

#endif

/*
 * The configuration message of vmtop-slirp (lib/proto.h, 300-399): the
 * engine fills and sends it, the helper receives and checks it before it
 * uses anything in it. Each message is one datagram on the NIC's
 * SOCK_SEQPACKET frame socket: a struct msg_hdr, then the payload.
 */
#ifndef SLIRPMSG_H
#define SLIRPMSG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

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

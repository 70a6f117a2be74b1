/*
 * vmtop-slirp's configuration message: defaults, checks, and one
 * datagram per message on a SOCK_SEQPACKET socket.
 */
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hostfwd.h"
#include "msg.h"
#include "slirpmsg.h"

void
slirpmsg_defaults(struct proto_slirp_config *sc)
{
	memset(sc, 0, sizeof *sc);
	sc->flags = SLIRPF_RESTRICTED;
	sc->network = htonl(0x0a000200);	/* 10.0.2.0 */
	sc->netmask = htonl(0xffffff00);
	sc->host = htonl(0x0a000202);
	sc->dns = htonl(0x0a000203);
	sc->dhcp_start = htonl(0x0a00020f);
	sc->mtu = SLIRP_MTU_DEFAULT;
}

/* "10.0.2.0/24" for messages. */
static const char *
slirpmsg_net(const struct proto_slirp_config *sc, char *buf, size_t len)
{
	char		a[INET_ADDRSTRLEN];
	struct in_addr	in = { sc->network };
	uint32_t	m = ntohl(sc->netmask);
	int		bits = 0;

	while (m & 0x80000000U) {
		bits++;
		m <<= 1;
	}
	inet_ntop(AF_INET, &in, a, sizeof a);
	snprintf(buf, len, "%s/%d", a, bits);
	return buf;
}

/*
 * Whether addr (network byte order) is a host address of the network:
 * inside it, neither its network nor its broadcast address.
 */
static int
slirpmsg_in_net(const struct proto_slirp_config *sc, uint32_t addr)
{
	uint32_t	a = ntohl(addr), n = ntohl(sc->network);
	uint32_t	m = ntohl(sc->netmask);

	return (a & m) == n && a != n && a != (n | ~m);
}

int
slirpmsg_check_guest(const struct proto_slirp_config *sc,
    const struct hostfwd *hf, const char *rule, char *why, size_t whylen)
{
	char	net[32];

	if (hf->guest_addr.s_addr == htonl(INADDR_ANY) ||
	    (slirpmsg_in_net(sc, hf->guest_addr.s_addr) &&
	    hf->guest_addr.s_addr != sc->host &&
	    hf->guest_addr.s_addr != sc->dns))
		return 0;
	snprintf(why, whylen, "hostfwd \"%s\": the guest address is not a "
	    "guest's in %s", rule, slirpmsg_net(sc, net, sizeof net));
	return -1;
}

/* Check the rules: each good, inside the network, no host port twice. */
static int
slirpmsg_check_rules(const struct proto_slirp_config *sc, char *why,
    size_t whylen)
{
	struct hostfwd	 hf[VM_MAX_HOSTFWD];
	const char	*rule, *what;
	uint32_t	 i, j;

	for (i = 0; i < sc->nhostfwd; i++) {
		rule = sc->hostfwd[i];
		if (memchr(rule, '\0', VM_HOSTFWD_SIZE) == NULL) {
			snprintf(why, whylen, "hostfwd rule %u is not "
			    "terminated", i);
			return -1;
		}
		if ((what = hostfwd_parse(rule, &hf[i])) != NULL) {
			snprintf(why, whylen, "invalid hostfwd rule \"%s\": %s",
			    rule, what);
			return -1;
		}
		if (slirpmsg_check_guest(sc, &hf[i], rule, why, whylen) == -1)
			return -1;
		for (j = 0; j < i; j++) {
			if (!hostfwd_clash(&hf[j], &hf[i]))
				continue;
			snprintf(why, whylen, "hostfwd \"%s\" and \"%s\" use "
			    "the same host port", sc->hostfwd[j], rule);
			return -1;
		}
	}
	return 0;
}

int
slirpmsg_check(const struct proto_slirp_config *sc, char *why, size_t whylen)
{
	uint32_t	 m = ntohl(sc->netmask), d = ntohl(sc->dhcp_start);
	uint32_t	 h = ntohl(sc->host), s = ntohl(sc->dns);
	size_t		 i;
	char		 net[32];

	if (sc->flags & ~(SLIRPF_RESTRICTED | SLIRPF_VERBOSE | SLIRPF_SYSLOG)) {
		snprintf(why, whylen, "unknown flags 0x%x", sc->flags);
		return -1;
	}
	if (memchr(sc->name, '\0', sizeof sc->name) == NULL) {
		snprintf(why, whylen, "the vm name is not terminated");
		return -1;
	}
	for (i = 0; sc->name[i] != '\0'; i++) {
		if ((unsigned char)sc->name[i] <= ' ' ||
		    (unsigned char)sc->name[i] >= 0x7f) {
			snprintf(why, whylen, "the vm name has a character "
			    "that is not printable");
			return -1;
		}
	}
	if (sc->nic >= VM_MAX_NICS) {
		snprintf(why, whylen, "interface %u: at most %d", sc->nic,
		    VM_MAX_NICS);
		return -1;
	}
	/* A contiguous mask leaving at least two bits for hosts. */
	if (m == 0 || (~m & (~m + 1)) != 0 || (~m & 3) != 3) {
		snprintf(why, whylen, "bad netmask 0x%08x", m);
		return -1;
	}
	slirpmsg_net(sc, net, sizeof net);
	if ((ntohl(sc->network) & ~m) != 0) {
		snprintf(why, whylen, "network %s has host bits set", net);
		return -1;
	}
	if (!slirpmsg_in_net(sc, sc->host) || !slirpmsg_in_net(sc, sc->dns) ||
	    h == s) {
		snprintf(why, whylen, "the host and DNS addresses must be two "
		    "host addresses in %s", net);
		return -1;
	}
	if (!slirpmsg_in_net(sc, sc->dhcp_start) ||
	    !slirpmsg_in_net(sc, htonl(d + SLIRP_DHCP_CLIENTS - 1)) ||
	    (h >= d && h < d + SLIRP_DHCP_CLIENTS) ||
	    (s >= d && s < d + SLIRP_DHCP_CLIENTS)) {
		snprintf(why, whylen, "the %d DHCP addresses must be host "
		    "addresses in %s, apart from the host and DNS",
		    SLIRP_DHCP_CLIENTS, net);
		return -1;
	}
	if (sc->mtu < SLIRP_MTU_MIN || sc->mtu > SLIRP_MTU_MAX) {
		snprintf(why, whylen, "MTU %u is not from %d to %d", sc->mtu,
		    SLIRP_MTU_MIN, SLIRP_MTU_MAX);
		return -1;
	}
	if (sc->nhostfwd > VM_MAX_HOSTFWD) {
		snprintf(why, whylen, "%u hostfwd rules (at most %d)",
		    sc->nhostfwd, VM_MAX_HOSTFWD);
		return -1;
	}
	return slirpmsg_check_rules(sc, why, whylen);
}

/*
 * Check the header of a datagram of len bytes: a type from first to
 * last (into type, if not NULL), no flags, and a payload of size bytes,
 * what the message is called. Returns 0, or -1 with a sentence in why.
 */
static int
slirpmsg_header(const void *buf, size_t len, uint32_t first, uint32_t last,
    size_t size, const char *what, uint32_t *type, char *why, size_t whylen)
{
	struct msg_hdr	hdr;

	if (len < sizeof hdr) {
		snprintf(why, whylen, "short message (%zu bytes)", len);
		return -1;
	}
	memcpy(&hdr, buf, sizeof hdr);
	if (hdr.type < first || hdr.type > last) {
		snprintf(why, whylen, "unexpected message type %u", hdr.type);
		return -1;
	}
	if (hdr.flags != 0) {
		snprintf(why, whylen, "unexpected message flags 0x%x",
		    hdr.flags);
		return -1;
	}
	if (hdr.len != size || len != sizeof hdr + size) {
		snprintf(why, whylen, "%s of %zu bytes, not %zu", what,
		    len - sizeof hdr, size);
		return -1;
	}
	if (type != NULL)
		*type = hdr.type;
	return 0;
}

int
slirpmsg_parse(const void *buf, size_t len, struct proto_slirp_config *sc,
    char *why, size_t whylen)
{
	if (slirpmsg_header(buf, len, MSG_SLIRP_CONFIG, MSG_SLIRP_CONFIG,
	    sizeof *sc, "configuration", NULL, why, whylen) == -1)
		return -1;
	memcpy(sc, (const uint8_t *)buf + sizeof(struct msg_hdr), sizeof *sc);
	return slirpmsg_check(sc, why, whylen);
}

int
slirpmsg_parse_hostfwd(const void *buf, size_t len, uint32_t *type,
    struct proto_slirp_hostfwd *ph, struct hostfwd *hf, char *why,
    size_t whylen)
{
	const char	*what;

	if (slirpmsg_header(buf, len, MSG_SLIRP_HOSTFWD_ADD,
	    MSG_SLIRP_HOSTFWD_REMOVE, sizeof *ph, "hostfwd message", type, why,
	    whylen) == -1)
		return -1;
	memcpy(ph, (const uint8_t *)buf + sizeof(struct msg_hdr), sizeof *ph);
	if (memchr(ph->rule, '\0', sizeof ph->rule) == NULL) {
		snprintf(why, whylen, "the hostfwd rule is not terminated");
		return -1;
	}
	if ((what = hostfwd_parse(ph->rule, hf)) != NULL) {
		snprintf(why, whylen, "invalid hostfwd rule \"%s\": %s",
		    ph->rule, what);
		return -1;
	}
	return 0;
}

int
slirpmsg_send(int fd, uint32_t type, uint32_t peerid, const void *data,
    size_t len)
{
	struct msg_hdr	hdr;
	struct iovec	iov[2];
	struct msghdr	mh;
	ssize_t		n;

	memset(&hdr, 0, sizeof hdr);
	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof hdr;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = iov;
	mh.msg_iovlen = len > 0 ? 2 : 1;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != sizeof hdr + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Milliseconds on the monotonic clock. */
static int64_t
slirpmsg_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ssize_t
slirpmsg_recv(int fd, void *buf, size_t size, int timeout_ms)
{
	struct pollfd	pfd;
	int64_t		end = slirpmsg_now_ms() + timeout_ms;
	int		left = timeout_ms, rv;
	ssize_t		n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((rv = poll(&pfd, 1, left)) == -1 && errno != EINTR)
			return -1;
		if (rv == 1) {
			n = recv(fd, buf, size, MSG_TRUNC | MSG_DONTWAIT);
			if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
				if (n > (ssize_t)size) {
					errno = EMSGSIZE;
					return -1;
				}
				return n;
			}
		}
		if (timeout_ms >= 0) {
			if ((left = end - slirpmsg_now_ms()) <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
	}
}

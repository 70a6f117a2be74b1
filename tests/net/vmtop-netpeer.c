/*
 * The guest side of a vmtop-slirp, for tests that need no guest: it
 * starts the helper on a socketpair as the engine does, sends it a
 * configuration, then reads and writes Ethernet frames built by hand as
 * a guest at 52:54:00:12:34:56 would, while real sockets on the host
 * play the other side. Each scenario prints "ok: ..." lines and exits 0,
 * or prints "fail: ..." and exits 1.
 *
 * usage: vmtop-netpeer SLIRP SCENARIO [PORT]
 *   dhcp         DHCP discover/offer/request/ack, ARP for the gateway
 *   hostfwd-tcp  a TCP client on 127.0.0.1:PORT reaches the guest as a
 *                SYN to 10.0.2.15:80; data both ways once accepted
 *   hostfwd-udp  a datagram to 127.0.0.1:PORT reaches 10.0.2.15:5353 and
 *                the guest's answer comes back
 *   inuse        a rule whose port is taken: the error names the rule
 *   forward      rules added and removed on the control socket while it
 *                runs: TCP and UDP through them, refused once removed,
 *                errors for a port in use and bad requests
 *   connect      no helper: whether 127.0.0.1:PORT takes a TCP connect
 *                (exit 0) or refuses it (exit 1), for the engine's tests
 *   hold         no helper: listen on 127.0.0.1:PORT until killed
 *   host         the guest reaches TCP and UDP servers of the host at
 *                10.0.2.2 (the host's loopback)
 *   restricted   a SYN to another address of the host opens nothing
 *                when restricted, and opens a connection when not
 *   sandbox      NoNewPrivs, Seccomp and Uid of the helper; it exits
 *                when its socket's peer closes
 *   dns          an unrestricted guest's DNS query: the helper reads
 *                the host's resolv.conf in its sandbox and lives on
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "framering.h"
#include "msg.h"
#include "slirpmsg.h"

#define GUEST_IP	0x0a00020f	/* 10.0.2.15 */
#define HOST_IP		0x0a000202
#define DNS_IP		0x0a000203
#define ETH_HLEN	14

static const uint8_t	guest_mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
static uint8_t		gw_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };
static const char	*slirp_path;
static int		 sock = -1;
static int		 ctl = -1;	/* the helper's control socket */
static pid_t		 helper;

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	printf("fail: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (helper > 0)
		kill(helper, SIGKILL);
	exit(1);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)p[0] << 8 | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint32_t
sum(const uint8_t *p, size_t len, uint32_t s)
{
	size_t	i;

	for (i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s;
}

/* Start the helper with sc; returns NULL, or the error it answered. */
static const char *
start_helper(struct proto_slirp_config *sc)
{
	static struct proto_error	 e;
	uint8_t				 buf[sizeof(struct msg_hdr) +
					     sizeof e];
	struct msg_hdr			 hdr;
	int				 sv[2], cv[2];
	ssize_t				 n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, cv) == -1)
		fail("socketpair: %s", strerror(errno));
	if ((helper = fork()) == 0) {
		/* As the engine does: above both fds first, then on them. */
		sv[1] = fcntl(sv[1], F_DUPFD, SLIRP_CONTROL_FD + 1);
		cv[1] = fcntl(cv[1], F_DUPFD, SLIRP_CONTROL_FD + 1);
		dup2(sv[1], SLIRP_SOCKET_FD);
		dup2(cv[1], SLIRP_CONTROL_FD);
		execl(slirp_path, "vmtop-slirp", "netpeer", "0", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	close(cv[1]);
	sock = sv[0];
	ctl = cv[0];
	snprintf(sc->name, sizeof sc->name, "netpeer");
	if (slirpmsg_send(sock, MSG_SLIRP_CONFIG, 7, sc, sizeof *sc) == -1)
		fail("sending the configuration: %s", strerror(errno));
	if ((n = slirpmsg_recv(sock, buf, sizeof buf, 5000)) <= 0)
		fail("no answer from %s: %s", slirp_path,
		    n == 0 ? "it ended" : strerror(errno));
	memcpy(&hdr, buf, sizeof hdr);
	if (hdr.peerid != 7)
		fail("answer with peer id %u", hdr.peerid);
	if (hdr.type == MSG_OK && n == sizeof hdr)
		return NULL;
	if (hdr.type != MSG_ERROR || n != sizeof buf)
		fail("bad answer: type %u, %zd bytes", hdr.type, n);
	memcpy(&e, buf + sizeof hdr, sizeof e);
	return e.text;
}

static void
send_frame(const uint8_t *f, size_t len)
{
	if (send(sock, f, len, 0) != (ssize_t)len)
		fail("send: %s", strerror(errno));
}

/* Fill an Ethernet and IPv4 header for proto with len bytes after it. */
static size_t
ip_header(uint8_t *f, uint32_t src, uint32_t dst, int proto, size_t len)
{
	uint8_t	*ip = f + ETH_HLEN;

	memcpy(f, gw_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, 20 + len);
	put16(ip + 6, 0x4000);		/* don't fragment */
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum(ip, 20, 0)));
	return ETH_HLEN + 20;
}

static void
send_udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
    const void *data, size_t len)
{
	uint8_t	f[1600], *u;
	size_t	off = ip_header(f, src, dst, 17, 8 + len);

	u = f + off;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, 8 + len);
	put16(u + 6, 0);		/* no checksum */
	memcpy(u + 8, data, len);
	send_frame(f, off + 8 + len);
}

static void
send_tcp(uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
    uint32_t ack, int flags, const void *data, size_t len)
{
	uint8_t		f[1600], *t, ph[12];
	size_t		off = ip_header(f, GUEST_IP, dst, 6, 20 + len);

	t = f + off;
	memset(t, 0, 20);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, 65535);
	if (len > 0)
		memcpy(t + 20, data, len);
	put32(ph, GUEST_IP);
	put32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, 20 + len);
	put16(t + 16, fold(sum(t, 20 + len, sum(ph, 12, 0))));
	send_frame(f, off + 20 + len);
}

/* Answer an ARP request for the guest's address. */
static void
answer_arp(const uint8_t *f, size_t len)
{
	uint8_t	r[42];

	if (len < 42 || get16(f + 20) != 1 || get32(f + 38) != GUEST_IP)
		return;
	memcpy(r, f + 6, 6);
	memcpy(r + 6, guest_mac, 6);
	put16(r + 12, 0x0806);
	memcpy(r + 14, f + 14, 6);	/* hardware and protocol types */
	put16(r + 20, 2);
	memcpy(r + 22, guest_mac, 6);
	put32(r + 28, GUEST_IP);
	memcpy(r + 32, f + 22, 10);	/* the asker's addresses */
	send_frame(r, sizeof r);
}

/*
 * Wait up to ms for an IPv4 frame of proto from the helper, answering
 * ARP on the way; returns its length (0 on timeout).
 */
static size_t
recv_ip(uint8_t *f, size_t size, int proto, int ms)
{
	struct pollfd	pfd = { sock, POLLIN, 0 };
	ssize_t		n;

	while (poll(&pfd, 1, ms) == 1) {
		if ((n = recv(sock, f, size, 0)) <= 0)
			fail("the helper hung up");
		if (n >= 42 && get16(f + 12) == 0x0806) {
			answer_arp(f, n);
			continue;
		}
		if (n >= ETH_HLEN + 20 && get16(f + 12) == 0x0800 &&
		    f[ETH_HLEN + 9] == proto)
			return n;
	}
	return 0;
}

/* A DHCP message of type from the guest (broadcast). */
static void
send_dhcp(int type, uint32_t xid)
{
	uint8_t	b[300], *o;

	memset(b, 0, sizeof b);
	b[0] = 1;			/* request */
	b[1] = 1;
	b[2] = 6;
	put32(b + 4, xid);
	memcpy(b + 28, guest_mac, 6);
	put32(b + 236, 0x63825363);	/* magic cookie */
	o = b + 240;
	*o++ = 53; *o++ = 1; *o++ = type;
	if (type == 3) {
		*o++ = 50; *o++ = 4; put32(o, GUEST_IP); o += 4;
	}
	*o++ = 255;
	send_udp(0, 68, 0xffffffff, 67, b, sizeof b);
}

/* Wait for the DHCP answer of type; check the offered addresses. */
static void
recv_dhcp(int type, uint32_t xid)
{
	uint8_t		 f[2048], *b, *o, *end;
	uint32_t	 router = 0, dns = 0;
	int		 got = 0;
	size_t		 n;

	if ((n = recv_ip(f, sizeof f, 17, 3000)) < ETH_HLEN + 28 + 240)
		fail("no DHCP answer of type %d", type);
	b = f + ETH_HLEN + 28;
	if (get32(b + 4) != xid || get32(b + 16) != GUEST_IP)
		fail("DHCP answer for xid %08x offers %08x", get32(b + 4),
		    get32(b + 16));
	for (o = b + 240, end = f + n; o + 2 <= end && *o != 255;
	    o += 2 + o[1]) {
		if (*o == 0) {
			o--;	/* padding: one byte */
			continue;
		}
		if (*o == 53 && o[1] == 1)
			got = o[2];
		else if (*o == 3 && o[1] >= 4)
			router = get32(o + 2);
		else if (*o == 6 && o[1] >= 4)
			dns = get32(o + 2);
	}
	if (got != type || router != HOST_IP || dns != DNS_IP)
		fail("DHCP type %d, router %08x, dns %08x", got, router, dns);
}

/* The guest's ARP request for 10.0.2.2, 42 bytes. */
static void
arp_request(uint8_t *f)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);
	memcpy(f + 22, guest_mac, 6);
	put32(f + 28, GUEST_IP);
	memset(f + 32, 0, 6);
	put32(f + 38, HOST_IP);
}

static void
dhcp(int verbose)
{
	uint8_t	f[64], r[128];
	size_t	n;

	send_dhcp(1, 0x1234);
	recv_dhcp(2, 0x1234);
	if (verbose)
		printf("ok: DHCP offer of 10.0.2.15, router 10.0.2.2, "
		    "DNS 10.0.2.3\n");
	send_dhcp(3, 0x1235);
	recv_dhcp(5, 0x1235);
	if (verbose)
		printf("ok: DHCP ack\n");

	arp_request(f);
	send_frame(f, 42);
	for (;;) {
		struct pollfd pfd = { sock, POLLIN, 0 };

		if (poll(&pfd, 1, 3000) != 1)
			fail("no ARP reply for 10.0.2.2");
		if ((n = recv(sock, r, sizeof r, 0)) >= 42 &&
		    get16(r + 12) == 0x0806 && get16(r + 20) == 2 &&
		    get32(r + 28) == HOST_IP)
			break;
	}
	memcpy(gw_mac, r + 22, 6);
	if (verbose)
		printf("ok: ARP reply for 10.0.2.2: "
		    "%02x:%02x:%02x:%02x:%02x:%02x\n",
		    r[22], r[23], r[24], r[25], r[26], r[27]);
}

/* Fill sin with addr:port, both in host order. */
static void
sin_set(struct sockaddr_in *sin, uint32_t addr, int port)
{
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	sin->sin_port = htons(port);
}

/* A socket on 127.0.0.1:port (or any address), listening if TCP. */
static int
host_socket(int type, uint32_t addr, int port)
{
	struct sockaddr_in	sin;
	int			s, one = 1;

	if ((s = socket(AF_INET, type, 0)) == -1)
		fail("socket: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sin_set(&sin, addr, port);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) == -1)
		fail("bind port %d: %s", port, strerror(errno));
	if (type == SOCK_STREAM && listen(s, 4) == -1)
		fail("listen: %s", strerror(errno));
	return s;
}

static int
readable(int fd, int ms)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, ms) == 1;
}


static void
start_ok(struct proto_slirp_config *sc)
{
	const char	*err;

	if ((err = start_helper(sc)) != NULL)
		fail("the helper refused: %s", err);
}

static void
add_rule(struct proto_slirp_config *sc, const char *fmt, int port)
{
	snprintf(sc->hostfwd[sc->nhostfwd], sizeof sc->hostfwd[0], fmt, port);
	sc->nhostfwd++;
}

/*
 * Start the helper with one hostfwd rule (fmt with port) and lease the
 * guest its address; returns a host socket of type, and 127.0.0.1:port
 * in sin.
 */
static int
hostfwd_start(struct proto_slirp_config *sc, const char *fmt, int port,
    int type, struct sockaddr_in *sin)
{
	add_rule(sc, fmt, port);
	start_ok(sc);
	dhcp(0);
	sin_set(sin, INADDR_LOOPBACK, port);
	return socket(AF_INET, type, 0);
}

/* The TCP header and payload of a frame from recv_ip(). */
static const uint8_t *
tcp_of(const uint8_t *f, size_t n, size_t *paylen)
{
	const uint8_t	*ip = f + ETH_HLEN, *t;
	size_t		 ihl = (ip[0] & 0x0f) * 4, tot = get16(ip + 2);

	if (tot > n - ETH_HLEN || tot < ihl + 20)
		fail("short TCP segment");
	t = ip + ihl;
	*paylen = tot - ihl - (t[12] >> 4) * 4;
	return t;
}

static void	tcp_exchange(int, struct sockaddr_in *, int);
static void	udp_exchange(int, struct sockaddr_in *, int);

static void
scenario_hostfwd_tcp(struct proto_slirp_config *sc, int port)
{
	struct sockaddr_in sin;
	int		 c;

	c = hostfwd_start(sc, "tcp:127.0.0.1:%d-:80", port, SOCK_STREAM, &sin);
	tcp_exchange(c, &sin, port);
}

/*
 * Client c connects to 127.0.0.1:port (sin), which forwards to the
 * guest's port 80: the guest accepts, and data goes both ways.
 */
static void
tcp_exchange(int c, struct sockaddr_in *sin, int port)
{
	const char	 from_guest[] = "hello from the guest\n";
	const char	 from_host[] = "hello from the host\n";
	uint8_t		 f[2048], buf[64];
	const uint8_t	*t;
	uint32_t	 src, seq, gseq = 1000;
	uint16_t	 sport;
	size_t		 n, plen;

	if (connect(c, (struct sockaddr *)sin, sizeof *sin) == -1)
		fail("connect to 127.0.0.1:%d: %s", port, strerror(errno));
	if ((n = recv_ip(f, sizeof f, 6, 3000)) == 0)
		fail("no TCP segment for the guest");
	t = tcp_of(f, n, &plen);
	src = get32(f + ETH_HLEN + 12);
	sport = get16(t);
	seq = get32(t + 4);
	if (get32(f + ETH_HLEN + 16) != GUEST_IP || get16(t + 2) != 80 ||
	    (t[13] & 0x12) != 0x02)
		fail("not a SYN to 10.0.2.15:80 (flags 0x%02x, port %u)",
		    t[13], get16(t + 2));
	printf("ok: a client of 127.0.0.1:%d reaches the guest as a SYN to "
	    "10.0.2.15:80 from %u.%u.%u.%u\n", port, src >> 24,
	    (src >> 16) & 255, (src >> 8) & 255, src & 255);

	send_tcp(src, 80, sport, gseq, seq + 1, 0x12, NULL, 0);
	if ((n = recv_ip(f, sizeof f, 6, 3000)) == 0)
		fail("no ACK of the SYN-ACK");
	send_tcp(src, 80, sport, gseq + 1, seq + 1, 0x18, from_guest,
	    sizeof from_guest - 1);
	if (!readable(c, 3000) || (n = read(c, buf, sizeof buf)) !=
	    sizeof from_guest - 1 || memcmp(buf, from_guest, n) != 0)
		fail("the client did not get the guest's data");
	printf("ok: the guest's data reaches the client\n");

	if (write(c, from_host, sizeof from_host - 1) !=
	    sizeof from_host - 1)
		fail("write: %s", strerror(errno));
	for (;;) {
		if ((n = recv_ip(f, sizeof f, 6, 3000)) == 0)
			fail("the client's data did not reach the guest");
		t = tcp_of(f, n, &plen);
		if (plen > 0)
			break;
	}
	if (plen != sizeof from_host - 1 ||
	    memcmp(t + (t[12] >> 4) * 4, from_host, plen) != 0)
		fail("the guest got %zu other bytes", plen);
	printf("ok: the client's data reaches the guest\n");
	close(c);
}

static void
scenario_hostfwd_udp(struct proto_slirp_config *sc, int port)
{
	struct sockaddr_in sin;
	int		 c;

	c = hostfwd_start(sc, "udp:127.0.0.1:%d-:5353", port, SOCK_DGRAM, &sin);
	udp_exchange(c, &sin, port);
}

/*
 * A datagram from c to 127.0.0.1:port (sin), which forwards to the
 * guest's port 5353, reaches the guest, and the guest's answer comes
 * back (a restricted guest's guard lets it through).
 */
static void
udp_exchange(int c, struct sockaddr_in *sin, int port)
{
	uint8_t		 f[2048], buf[64];
	const uint8_t	*ip, *u;
	size_t		 n;

	if (sendto(c, "ping", 4, 0, (struct sockaddr *)sin, sizeof *sin) != 4)
		fail("sendto: %s", strerror(errno));
	if ((n = recv_ip(f, sizeof f, 17, 3000)) == 0)
		fail("no datagram for the guest");
	ip = f + ETH_HLEN;
	u = ip + (ip[0] & 0x0f) * 4;
	if (get32(ip + 16) != GUEST_IP || get16(u + 2) != 5353 ||
	    get16(u + 4) != 12 || memcmp(u + 8, "ping", 4) != 0)
		fail("not the datagram for 10.0.2.15:5353");
	printf("ok: a datagram to 127.0.0.1:%d reaches 10.0.2.15:5353\n",
	    port);
	send_udp(GUEST_IP, 5353, get32(ip + 12), get16(u), "pong", 4);
	if (!readable(c, 3000) || recv(c, buf, sizeof buf, 0) != 4 ||
	    memcmp(buf, "pong", 4) != 0)
		fail("the guest's answer did not come back");
	printf("ok: the guest's answer comes back\n");
	close(c);
}

/*
 * Ask the helper on its control socket to add (or remove) a rule: NULL
 * for MSG_OK, else the text of its MSG_ERROR. With raw_len, send that
 * many bytes of the payload (a malformed request).
 */
static const char *
control_ask(uint32_t type, const char *rule, size_t raw_len)
{
	static struct proto_error	e;
	struct proto_slirp_hostfwd	ph;
	uint8_t				buf[sizeof(struct msg_hdr) + sizeof e];
	struct msg_hdr			hdr;
	ssize_t				n;

	memset(&ph, 0, sizeof ph);
	snprintf(ph.rule, sizeof ph.rule, "%s", rule);
	if (slirpmsg_send(ctl, type, 7, &ph, raw_len != 0 ? raw_len :
	    sizeof ph) == -1)
		fail("sending a rule: %s", strerror(errno));
	if ((n = slirpmsg_recv(ctl, buf, sizeof buf, 5000)) <= 0)
		fail("no answer to %s: %s", rule, n == 0 ? "it ended" :
		    strerror(errno));
	memcpy(&hdr, buf, sizeof hdr);
	if (hdr.type == MSG_OK && n == sizeof hdr)
		return NULL;
	if (hdr.type != MSG_ERROR || n != sizeof buf)
		fail("bad answer: type %u, %zd bytes", hdr.type, n);
	memcpy(&e, buf + sizeof hdr, sizeof e);
	return e.text;
}

/* The helper says err (not NULL) and it holds want. */
static void
refused(const char *what, const char *err, const char *want)
{
	if (err == NULL)
		fail("%s: the helper took it", what);
	if (strstr(err, want) == NULL)
		fail("%s: \"%s\" does not say \"%s\"", what, err, want);
	printf("ok: %s: refused: %s\n", what, err);
}

/*
 * Rules added and removed on the control socket while the helper runs
 * (sandboxed): real clients reach the guest through them, and are
 * refused once they are removed; a port in use, an unknown rule and a
 * malformed request are answered with errors, and the helper serves on.
 */
static void
scenario_forward(struct proto_slirp_config *sc, int port)
{
	struct sockaddr_in sin;
	const char	*err;
	char		 rule[64], udp[64], busy[64];
	int		 c;

	start_ok(sc);
	dhcp(0);
	snprintf(rule, sizeof rule, "tcp:127.0.0.1:%d-:80", port);
	snprintf(udp, sizeof udp, "udp:127.0.0.1:%d-:5353", port + 1);
	snprintf(busy, sizeof busy, "tcp:127.0.0.1:%d-:22", port + 2);
	sin_set(&sin, INADDR_LOOPBACK, port);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sin, sizeof sin) == 0 ||
	    errno != ECONNREFUSED)
		fail("127.0.0.1:%d takes connections before the rule", port);
	close(c);
	if ((err = control_ask(MSG_SLIRP_HOSTFWD_ADD, rule, 0)) != NULL)
		fail("adding %s: %s", rule, err);
	printf("ok: added %s\n", rule);
	tcp_exchange(socket(AF_INET, SOCK_STREAM, 0), &sin, port);

	if ((err = control_ask(MSG_SLIRP_HOSTFWD_REMOVE, rule, 0)) != NULL)
		fail("removing %s: %s", rule, err);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sin, sizeof sin) == 0)
		fail("127.0.0.1:%d takes connections after the rule went",
		    port);
	if (errno != ECONNREFUSED)
		fail("connect after the rule went: %s", strerror(errno));
	close(c);
	printf("ok: removed %s: a connect is refused\n", rule);
	refused("removing it again", control_ask(MSG_SLIRP_HOSTFWD_REMOVE,
	    rule, 0), "no such rule");

	if ((err = control_ask(MSG_SLIRP_HOSTFWD_ADD, udp, 0)) != NULL)
		fail("adding %s: %s", udp, err);
	printf("ok: added %s\n", udp);
	sin_set(&sin, INADDR_LOOPBACK, port + 1);
	udp_exchange(socket(AF_INET, SOCK_DGRAM, 0), &sin, port + 1);

	host_socket(SOCK_STREAM, INADDR_LOOPBACK, port + 2);
	err = control_ask(MSG_SLIRP_HOSTFWD_ADD, busy, 0);
	refused("a port in use", err, "in use");
	refused("its error", err, busy);
	refused("a guest address that is the host's", control_ask(
	    MSG_SLIRP_HOSTFWD_ADD, "tcp::2-10.0.2.2:22", 0), "guest address");
	refused("a bad rule", control_ask(MSG_SLIRP_HOSTFWD_ADD, "tcp:1-:2",
	    0), "invalid hostfwd rule");
	refused("a short request", control_ask(MSG_SLIRP_HOSTFWD_ADD, rule,
	    10), "not 96");
	if ((err = control_ask(MSG_SLIRP_HOSTFWD_ADD, rule, 0)) != NULL)
		fail("adding %s again: %s", rule, err);
	sin_set(&sin, INADDR_LOOPBACK, port);
	tcp_exchange(socket(AF_INET, SOCK_STREAM, 0), &sin, port);
	printf("ok: the helper serves on, and takes %s again\n", rule);
}

static void
scenario_connect(int port)
{
	struct sockaddr_in	sin;
	int			c;

	sin_set(&sin, INADDR_LOOPBACK, port);
	if ((c = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		fail("socket: %s", strerror(errno));
	if (connect(c, (struct sockaddr *)&sin, sizeof sin) == -1)
		fail("connect to 127.0.0.1:%d: %s", port, strerror(errno));
	printf("ok: 127.0.0.1:%d takes a connection\n", port);
	close(c);
}

static void
scenario_inuse(struct proto_slirp_config *sc, int port)
{
	const char	*err;
	char		 rule[64];

	host_socket(SOCK_STREAM, INADDR_LOOPBACK, port);
	add_rule(sc, "tcp:127.0.0.1:%d-:22", port);
	snprintf(rule, sizeof rule, "\"tcp:127.0.0.1:%d-:22\"", port);
	if ((err = start_helper(sc)) == NULL)
		fail("the helper took a port in use");
	if (strstr(err, rule) == NULL || strstr(err, "in use") == NULL)
		fail("the error does not name the rule: %s", err);
	printf("ok: refused: %s\n", err);
}

static void
scenario_host(struct proto_slirp_config *sc, int port)
{
	uint8_t	buf[64];
	int	l, u, c;

	start_ok(sc);
	dhcp(0);
	l = host_socket(SOCK_STREAM, INADDR_LOOPBACK, port);
	send_tcp(HOST_IP, 40000, port, 5000, 0, 0x02, NULL, 0);
	if (!readable(l, 3000) || (c = accept(l, NULL, NULL)) == -1)
		fail("a SYN to 10.0.2.2:%d opened no connection", port);
	printf("ok: a SYN to 10.0.2.2:%d connects to 127.0.0.1:%d\n", port,
	    port);
	close(c);
	u = host_socket(SOCK_DGRAM, INADDR_LOOPBACK, port + 1);
	send_udp(GUEST_IP, 40001, HOST_IP, port + 1, "hi host", 7);
	if (!readable(u, 3000) || recv(u, buf, sizeof buf, 0) != 7 ||
	    memcmp(buf, "hi host", 7) != 0)
		fail("a datagram to 10.0.2.2:%d did not arrive", port + 1);
	printf("ok: a datagram to 10.0.2.2:%d reaches 127.0.0.1:%d\n",
	    port + 1, port + 1);
}

/* An IPv4 address of this host besides loopback, or 0. */
static uint32_t
other_address(void)
{
	struct ifaddrs	*ifa, *i;
	uint32_t	 a = 0;

	if (getifaddrs(&ifa) == -1)
		return 0;
	for (i = ifa; i != NULL && a == 0; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		if ((a >> 24) == 127)
			a = 0;
	}
	freeifaddrs(ifa);
	return a;
}

static void
scenario_restricted(struct proto_slirp_config *sc, int port)
{
	uint32_t	a = other_address();
	int		l, c, open;

	if (a == 0) {
		printf("ok: skipped: no address besides loopback\n");
		return;
	}
	l = host_socket(SOCK_STREAM, INADDR_ANY, port);
	for (open = 0; open < 2; open++) {
		if (open) {
			kill(helper, SIGKILL);
			waitpid(helper, NULL, 0);
			close(sock);
			sc->flags &= ~SLIRPF_RESTRICTED;
		}
		start_ok(sc);
		dhcp(0);
		send_tcp(a, 40002, port, 7000, 0, 0x02, NULL, 0);
		if (readable(l, open ? 3000 : 1500) != open)
			fail("%s guest: a SYN to %u.%u.%u.%u:%d %s",
			    open ? "an unrestricted" : "a restricted",
			    a >> 24, (a >> 16) & 255, (a >> 8) & 255,
			    a & 255, port, open ? "opened nothing" :
			    "opened a connection");
		if (open && (c = accept(l, NULL, NULL)) != -1)
			close(c);
		printf("ok: %s guest's SYN to another host address %s\n",
		    open ? "an unrestricted" : "a restricted",
		    open ? "connects" : "opens nothing");
	}
}

/*
 * A DNS query to 10.0.2.3 (unrestricted: libslirp reads the host's
 * resolv.conf inside the sandbox): the helper must survive it.
 */
static void
scenario_dns(struct proto_slirp_config *sc)
{
	static const uint8_t	q[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0,
	    0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o',
	    'm', 0, 0, 1, 0, 1 };
	uint8_t			f[2048];
	int			status;

	sc->flags &= ~SLIRPF_RESTRICTED;
	start_ok(sc);
	dhcp(0);
	send_udp(GUEST_IP, 40003, DNS_IP, 53, q, sizeof q);
	recv_ip(f, sizeof f, 17, 1000);
	if (waitpid(helper, &status, WNOHANG) != 0)
		fail("the helper died of a DNS query (status 0x%x)", status);
	printf("ok: the helper forwards a DNS query and lives on\n");
}

static void
scenario_sandbox(struct proto_slirp_config *sc)
{
	char	 path[64], line[256], nnp[16] = "", sec[16] = "";
	FILE	*f;
	int	 uid = -1, status, i;

	start_ok(sc);
	snprintf(path, sizeof path, "/proc/%d/status", (int)helper);
	if ((f = fopen(path, "r")) == NULL)
		fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL) {
		sscanf(line, "NoNewPrivs: %15s", nnp);
		sscanf(line, "Seccomp: %15s", sec);
		sscanf(line, "Uid: %d", &uid);
	}
	fclose(f);
	if (strcmp(nnp, "1") != 0 || strcmp(sec, "2") != 0 || uid <= 0)
		fail("helper %d: NoNewPrivs %s, Seccomp %s, uid %d",
		    (int)helper, nnp, sec, uid);
	printf("ok: helper %d: NoNewPrivs 1, Seccomp 2, uid %d\n",
	    (int)helper, uid);
	close(sock);
	for (i = 0; i < 300; i++) {
		if (waitpid(helper, &status, WNOHANG) == helper) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				fail("the helper ended with status 0x%x",
				    status);
			printf("ok: the helper exits when its peer closes\n");
			helper = 0;
			return;
		}
		usleep(10000);
	}
	fail("the helper is still running 3 s after its peer closed");
}

/*
 * A detached engine's helper logs to syslog: it connects before its jail
 * and keeps working inside. Where no syslog daemon has /dev/log (and we
 * may create it), this listens there and checks the helper's lines come;
 * else only that the helper still serves.
 */
static void
scenario_syslog(struct proto_slirp_config *sc)
{
	struct sockaddr_un	 sun;
	char			 line[512];
	ssize_t			 n;
	int			 s = -1, got = 0, i;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "/dev/log");
	if (access("/dev/log", F_OK) == -1 &&
	    (s = socket(AF_UNIX, SOCK_DGRAM, 0)) != -1 &&
	    bind(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(s);
		s = -1;
	}
	sc->flags |= SLIRPF_SYSLOG | SLIRPF_VERBOSE;
	start_ok(sc);
	dhcp(0);
	printf("ok: the helper serves with its log on syslog\n");
	if (s == -1) {
		printf("ok: (a syslog daemon has /dev/log: its lines are "
		    "not checked here)\n");
		return;
	}
	for (i = 0; i < 50 && !got && readable(s, 100); i++) {
		if ((n = recv(s, line, sizeof line - 1, 0)) <= 0)
			break;
		line[n] = '\0';
		got = strstr(line, "vmtop-slirp netpeer/0") != NULL &&
		    strstr(line, "ready: uid") != NULL;
	}
	close(s);
	unlink("/dev/log");
	if (!got)
		fail("no \"ready\" line from the helper on /dev/log");
	printf("ok: its lines reach syslog from inside the jail\n");
}

/*
 * Take the helper's frame ring offer as the runner does; 0 if none. The
 * offer must bring the two doorbell eventfds too (bells).
 */
static int
take_rings(struct framering_pair *p, int bells[2])
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(FRAMERING_OFFER_FDS *
				    sizeof(int))];
	}		 cm;
	uint8_t		 b[64];
	struct iovec	 iov = { b, sizeof b };
	struct msghdr	 msg;
	struct cmsghdr	*c;
	int		 fd[FRAMERING_OFFER_FDS];

	if (!readable(sock, 3000))
		return 0;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof cm.buf;
	if (recvmsg(sock, &msg, 0) != FRAMERING_CTL_SIZE ||
	    memcmp(b, FRAMERING_MAGIC, FRAMERING_CTL_SIZE) != 0 ||
	    (c = CMSG_FIRSTHDR(&msg)) == NULL || c->cmsg_type != SCM_RIGHTS)
		return 0;
	if (c->cmsg_len != CMSG_LEN(sizeof fd))
		fail("the offer brings %zu fds, not 3 (rings and two bells)",
		    (c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	memcpy(fd, CMSG_DATA(c), sizeof fd);
	if (framering_map(fd[0], FRAMERING_RUNNER, p) == -1)
		fail("mapping the offered rings: %s", strerror(errno));
	close(fd[0]);
	memcpy(bells, fd + 1, 2 * sizeof *bells);
	send_frame((const uint8_t *)FRAMERING_MAGIC, FRAMERING_CTL_SIZE);
	return 1;
}

/* Wait up to 3 s for the helper to end; its exit status, or -1. */
static int
helper_ends(void)
{
	int	status, i;

	for (i = 0; i < 300; i++) {
		if (waitpid(helper, &status, WNOHANG) == helper) {
			helper = 0;
			return status;
		}
		usleep(10000);
	}
	return -1;
}

/*
 * The rings as the runner uses them: the helper offers them first, with
 * their doorbells; an ARP request pushed into the runner's ring (and its
 * bell rung) is answered in the helper's ring, not on the socket, and the
 * runner's bell rings. Then the "runner" breaks its ring (an unaligned
 * head) and rings: the helper must end, not read past it.
 */
static void
scenario_rings(struct proto_slirp_config *sc)
{
	struct framering_pair	 p;
	struct iovec		 iov;
	const uint8_t		*r;
	struct pollfd		 pfd;
	uint8_t			 f[42], junk[64], bell = 0;
	size_t			 n = 0;
	int			 status, bells[2];

	start_ok(sc);
	if (!take_rings(&p, bells))
		fail("no frame ring offer as the first datagram");
	printf("ok: the helper offers sealed frame rings first, and bells\n");
	if (framering_want_frames(&p.rx))
		fail("a frame in the ring before any was asked for");
	/* A round of the helper's with nothing for us: no ring. */
	send_frame(&bell, 1);
	pfd = (struct pollfd){ bells[FRAMERING_BELL_RUNNER], POLLIN, 0 };
	if (poll(&pfd, 1, 300) != 0)
		fail("the helper rang the runner with no frame for it");
	printf("ok: a round with no frame for the runner does not ring it\n");
	arp_request(f);
	iov.iov_base = f;
	iov.iov_len = sizeof f;
	if (framering_push(&p.tx, &iov, 1, sizeof f) != 1)
		fail("pushing an ARP request");
	framering_bell_ring(bells[FRAMERING_BELL_HELPER]);
	pfd = (struct pollfd){ bells[FRAMERING_BELL_RUNNER], POLLIN, 0 };
	if (poll(&pfd, 1, 3000) != 1)
		fail("the helper did not ring the runner's bell in 3 s");
	r = framering_peek(&p.rx, &n);
	if (r == NULL || n < 42 || get16(r + 12) != 0x0806 ||
	    get16(r + 20) != 2 || get32(r + 28) != HOST_IP)
		fail("no ARP reply for 10.0.2.2 in the ring (%zu bytes)", n);
	framering_pop(&p.rx);
	while (readable(sock, 0))
		if (recv(sock, junk, sizeof junk, 0) >= ETH_HLEN)
			fail("a frame came on the socket after the rings");
	printf("ok: an ARP request through the rings is answered in them, "
	    "with a ring of the bell\n");

	*(volatile uint64_t *)((uint8_t *)p.map + 4096) += 3;
	framering_bell_ring(bells[FRAMERING_BELL_HELPER]);
	if ((status = helper_ends()) == -1)
		fail("the helper still runs 3 s after its ring was broken");
	printf("ok: a broken ring ends the helper (status 0x%x)\n", status);
	framering_unmap(&p);
}

int
main(int argc, char **argv)
{
	struct proto_slirp_config	 sc;
	const char			*what;
	int				 port;

	if (argc < 3) {
		fprintf(stderr, "usage: vmtop-netpeer SLIRP SCENARIO [PORT]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	slirp_path = argv[1];
	what = argv[2];
	port = argc > 3 ? atoi(argv[3]) : 20000 + getpid() % 20000;
	slirpmsg_defaults(&sc);
	if (strcmp(what, "connect") == 0)
		scenario_connect(port);
	else if (strcmp(what, "hold") == 0) {
		host_socket(SOCK_STREAM, INADDR_LOOPBACK, port);
		printf("ok: listening on 127.0.0.1:%d\n", port);
		pause();
	} else if (strcmp(what, "dhcp") == 0) {
		start_ok(&sc);
		dhcp(1);
	} else if (strcmp(what, "hostfwd-tcp") == 0)
		scenario_hostfwd_tcp(&sc, port);
	else if (strcmp(what, "hostfwd-udp") == 0)
		scenario_hostfwd_udp(&sc, port);
	else if (strcmp(what, "inuse") == 0)
		scenario_inuse(&sc, port);
	else if (strcmp(what, "forward") == 0)
		scenario_forward(&sc, port);
	else if (strcmp(what, "host") == 0)
		scenario_host(&sc, port);
	else if (strcmp(what, "restricted") == 0)
		scenario_restricted(&sc, port);
	else if (strcmp(what, "sandbox") == 0)
		scenario_sandbox(&sc);
	else if (strcmp(what, "dns") == 0)
		scenario_dns(&sc);
	else if (strcmp(what, "rings") == 0)
		scenario_rings(&sc);
	else if (strcmp(what, "syslog") == 0)
		scenario_syslog(&sc);
	else {
		fprintf(stderr, "vmtop-netpeer: no scenario %s\n", what);
		return 2;
	}
	if (helper > 0)
		kill(helper, SIGKILL);
	return 0;
}

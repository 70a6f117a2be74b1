/*
 * A small network tool for the end-to-end network tests, built static so
 * that it runs in the test guest (whose busybox nc has no UDP) as well as
 * on the host. Lines for the guest's console start with "vmtop-guest: "
 * when -g is given.
 *
 * usage: vmtop-nettool [-g] udp-echo PORT       answer each datagram
 *        vmtop-nettool [-g] udp-send HOST PORT TEXT
 *                                      send TEXT, print the answer
 *        vmtop-nettool [-g] sink PORT          read TCP connections to
 *                                      their end, report the rate
 *        vmtop-nettool [-g] source HOST PORT MIB
 *                                      send MIB MiB, report the rate
 *        vmtop-nettool costs           what a 64 KiB memcpy and a
 *                                      wake-up cost on this machine
 */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char	*prefix = "";

static void
die(const char *what)
{
	printf("%snettool: %s: %s\n", prefix, what, strerror(errno));
	exit(1);
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_in
address(const char *host, const char *port)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(atoi(port));
	if (host == NULL)
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		printf("%snettool: bad address %s\n", prefix, host);
		exit(1);
	}
	return sin;
}

static int
bound(int type, const char *port)
{
	struct sockaddr_in	sin = address(NULL, port);
	int			s, one = 1;

	if ((s = socket(AF_INET, type, 0)) == -1)
		die("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) == -1)
		die("bind");
	if (type == SOCK_STREAM && listen(s, 8) == -1)
		die("listen");
	return s;
}

static void
udp_echo(const char *port)
{
	struct sockaddr_in	from;
	socklen_t		len;
	char			buf[2048], out[2100];
	ssize_t			n;
	int			s = bound(SOCK_DGRAM, port);

	for (;;) {
		len = sizeof from;
		if ((n = recvfrom(s, buf, sizeof buf - 1, 0,
		    (struct sockaddr *)&from, &len)) == -1)
			die("recvfrom");
		buf[n] = '\0';
		n = snprintf(out, sizeof out, "echo: %s", buf);
		sendto(s, out, n, 0, (struct sockaddr *)&from, len);
	}
}

/* Send text, up to 5 times a second apart, until an answer comes. */
static void
udp_send(const char *host, const char *port, const char *text)
{
	struct sockaddr_in	to = address(host, port);
	struct pollfd		pfd;
	char			buf[2048];
	ssize_t			n;
	int			s, i;

	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		die("socket");
	for (i = 0; i < 5; i++) {
		if (sendto(s, text, strlen(text), 0, (struct sockaddr *)&to,
		    sizeof to) == -1)
			die("sendto");
		pfd.fd = s;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) != 1)
			continue;
		if ((n = recv(s, buf, sizeof buf - 1, 0)) == -1)
			die("recv");
		buf[n] = '\0';
		printf("%sudp answer: %s\n", prefix, buf);
		return;
	}
	printf("%sudp answer: none\n", prefix);
	exit(1);
}

/* This machine's cpu ticks from /proc/stat: t[0] user .. t[7] steal. */
static void
cpu_ticks(unsigned long long t[8])
{
	FILE	*f = fopen("/proc/stat", "r");

	memset(t, 0, 8 * sizeof *t);
	if (f == NULL)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t[0],
	    &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7]) != 8)
		memset(t, 0, 8 * sizeof *t);
	fclose(f);
}

static void
sink(const char *port)
{
	unsigned long long	a[8], b[8], all;
	static char	buf[256 * 1024];
	double		t0;
	long long	total;
	ssize_t		n;
	int		s = bound(SOCK_STREAM, port), c;

	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			die("accept");
		t0 = now();
		cpu_ticks(a);
		total = 0;
		while ((n = read(c, buf, sizeof buf)) > 0)
			total += n;
		t0 = now() - t0;
		cpu_ticks(b);
		close(c);
		for (n = 0, all = 0; n < 8; n++)
			all += b[n] -= a[n];
		if (all == 0)
			all = 1;
		/* How busy this machine was: user, system, irq + softirq. */
		printf("%ssink: %lld bytes in %.2f s: %.1f MB/s, cpu user "
		    "%llu%% sys %llu%% irq %llu%% idle %llu%%\n", prefix, total,
		    t0, t0 > 0 ? total / t0 / 1e6 : 0, b[0] * 100 / all,
		    b[2] * 100 / all, (b[5] + b[6]) * 100 / all,
		    b[3] * 100 / all);
		fflush(stdout);
	}
}

static void
source(const char *host, const char *port, const char *mib)
{
	static char		buf[256 * 1024];
	struct sockaddr_in	to = address(host, port);
	long long		left = atoll(mib) * 1024 * 1024, total = left;
	double			t0;
	ssize_t			n;
	int			s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (connect(s, (struct sockaddr *)&to, sizeof to) == -1)
		die("connect");
	t0 = now();
	while (left > 0) {
		n = write(s, buf, left < (long long)sizeof buf ? left :
		    (long long)sizeof buf);
		if (n <= 0)
			die("write");
		left -= n;
	}
	shutdown(s, SHUT_WR);
	/* Done when the sink has read it all and closes. */
	while ((n = read(s, buf, sizeof buf)) > 0)
		;
	t0 = now() - t0;
	printf("%ssource: %lld bytes in %.2f s: %.1f MB/s\n", prefix, total,
	    t0, total / t0 / 1e6);
}

static int	costs_ping, costs_pong;

/* The other thread of the wake-up round trip: answer every ring. */
static void *
costs_peer(void *arg)
{
	uint64_t	v;

	(void)arg;
	for (;;) {
		if (read(costs_ping, &v, sizeof v) != sizeof v)
			die("eventfd read");
		v = 1;
		if (write(costs_pong, &v, sizeof v) != sizeof v)
			die("eventfd write");
	}
	return NULL;
}

/*
 * The two costs a frame's path pays: copying 64 KiB (glibc's memcpy) and
 * waking a sleeping thread (an eventfd round trip between two threads, so
 * two wake-ups). They put the benchmark's figures in scale: both differ a
 * lot between hardware and an emulated host.
 */
static void
costs(void)
{
	void		*(*volatile copy)(void *, const void *, size_t) = memcpy;
	static uint8_t	 a[1 << 20], b[1 << 20];
	pthread_t	 th;
	uint64_t	 v;
	double		 t0, t1;
	int		 i, n = 2000;

	memset(a, 1, sizeof a);
	memset(b, 2, sizeof b);
	t0 = now();
	for (i = 0; i < n; i++)
		copy(a + (i % 16) * 65536, b + (i % 16) * 65536, 65536);
	t0 = (now() - t0) / n;
	if ((costs_ping = eventfd(0, 0)) == -1 ||
	    (costs_pong = eventfd(0, 0)) == -1)
		die("eventfd");
	if (pthread_create(&th, NULL, costs_peer, NULL) != 0)
		die("pthread_create");
	t1 = now();
	for (i = 0; i < n; i++) {
		v = 1;
		if (write(costs_ping, &v, sizeof v) != sizeof v ||
		    read(costs_pong, &v, sizeof v) != sizeof v)
			die("eventfd");
	}
	t1 = (now() - t1) / n;
	printf("%scosts: memcpy of 64 KiB %.1f us, eventfd wake-up round "
	    "trip %.1f us\n", prefix, t0 * 1e6, t1 * 1e6);
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "-g") == 0) {
		prefix = "vmtop-guest: ";
		argc--;
		argv++;
	}
	if (argc == 3 && strcmp(argv[1], "udp-echo") == 0)
		udp_echo(argv[2]);
	else if (argc == 5 && strcmp(argv[1], "udp-send") == 0)
		udp_send(argv[2], argv[3], argv[4]);
	else if (argc == 3 && strcmp(argv[1], "sink") == 0)
		sink(argv[2]);
	else if (argc == 5 && strcmp(argv[1], "source") == 0)
		source(argv[2], argv[3], argv[4]);
	else if (argc == 2 && strcmp(argv[1], "costs") == 0)
		costs();
	else {
		fprintf(stderr, "usage: vmtop-nettool [-g] udp-echo PORT | "
		    "udp-send HOST PORT TEXT | sink PORT | source HOST PORT "
		    "MIB | costs\n");
		return 2;
	}
	return 0;
}

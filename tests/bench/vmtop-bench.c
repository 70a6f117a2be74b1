/*
 * The client side of `make bench`: it talks to an engine over its control
 * socket as fast as it can and prints one line of key=value figures.
 *   list N SECONDS [NAME]  one connection, then list requests (all VMs, or
 *                          NAME) until N are done or SECONDS have passed;
 *                          round trip times and the engine's CPU time per
 *                          request
 *   hello N SECONDS        connect, hello and hang up, the same way
 *   start NAME...          one connection, every start request sent at
 *                          once, then every reply read: time to all running
 *   runner                 stand in for vmtop-vm (socket name "-"): become
 *                          ready, print CAPTURE_SIZE bytes on the console
 *                          as a booting guest does, power off when asked
 * The engine's CPU time is utime + stime from /proc/PID/stat, PID being
 * what the engine's hello says. Exit status 1 means the engine broke the
 * protocol or refused a request.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "proto.h"

#define BENCH_BUFSIZE	(256 * 1024)
#define BENCH_MIN_RUNS	10
#define BENCH_CONSOLE	(64 * 1024)	/* the engine's CAPTURE_SIZE */

/* A socket with a large read buffer, so reading costs little. */
struct bench_conn {
	int		 fd;
	uint8_t		*buf;
	size_t		 len;
	size_t		 off;
};

static const char	*sockpath;
static pid_t		 engine_pid;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vmtop-bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The engine's utime + stime in nanoseconds, or 0 if it cannot be read. */
static uint64_t
engine_cpu_ns(void)
{
	char path[64], buf[1024], *p;
	unsigned long long utime, stime;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)engine_pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields count from its ')'. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2, "%*c %*d %*d %*d "
	    "%*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return 0;
	return (utime + stime) * (1000000000ULL / hz);
}

static void
conn_open(struct bench_conn *c)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(sockpath) >= sizeof sun.sun_path)
		die("%s: socket path too long", sockpath);
	strcpy(sun.sun_path, sockpath);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		die("%s: %s", sockpath, strerror(errno));
	if (c->buf == NULL && (c->buf = malloc(BENCH_BUFSIZE)) == NULL)
		die("out of memory");
	c->len = c->off = 0;
}

static void
conn_close(struct bench_conn *c)
{
	close(c->fd);
	c->fd = -1;
}

static void
conn_send(struct bench_conn *c, uint32_t type, const void *data, size_t len)
{
	if (msg_send_sync(c->fd, type, 0, -1, data, len) == -1)
		die("sending message type %u: %s", type, strerror(errno));
}

/*
 * The next message: its header in *hdr, its payload returned. It stays
 * valid until the next call.
 */
static const uint8_t *
conn_next(struct bench_conn *c, struct msg_hdr *hdr)
{
	const uint8_t *p;
	ssize_t n;

	for (;;) {
		if (c->len - c->off >= sizeof *hdr) {
			memcpy(hdr, c->buf + c->off, sizeof *hdr);
			if (hdr->len > MSG_MAX_PAYLOAD || hdr->flags != 0)
				die("bad header: type %u, %u bytes, flags %#x",
				    hdr->type, hdr->len, hdr->flags);
			if (c->len - c->off >= sizeof *hdr + hdr->len) {
				p = c->buf + c->off + sizeof *hdr;
				c->off += sizeof *hdr + hdr->len;
				return p;
			}
		}
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
		n = read(c->fd, c->buf + c->len, BENCH_BUFSIZE - c->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("read: %s", strerror(errno));
		if (n == 0)
			die("the engine hung up");
		c->len += n;
	}
}

/* Die with the engine's text if the message is an error. */
static void
check_error(const struct msg_hdr *hdr, const uint8_t *p)
{
	struct proto_error e;

	if (hdr->type != MSG_ERROR)
		return;
	if (hdr->len != sizeof e)
		die("error reply of %u bytes", hdr->len);
	memcpy(&e, p, sizeof e);
	e.text[sizeof e.text - 1] = '\0';
	die("engine: %s", e.text);
}

static void
conn_hello(struct bench_conn *c)
{
	struct proto_hello h = { PROTOCOL_VERSION, 0 };
	struct msg_hdr hdr;
	const uint8_t *p;

	h.pid = getpid();
	conn_send(c, MSG_HELLO, &h, sizeof h);
	p = conn_next(c, &hdr);
	check_error(&hdr, p);
	if (hdr.type != MSG_HELLO || hdr.len != sizeof h)
		die("hello answered with type %u, %u bytes", hdr.type,
		    hdr.len);
	memcpy(&h, p, sizeof h);
	engine_pid = h.pid;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Print the run's figures: round trips in microseconds, engine CPU. */
static void
report(uint64_t *samples, size_t n, uint64_t cpu_ns, uint64_t wall_ns)
{
	size_t p95 = (n * 95 + 99) / 100, p99 = (n * 99 + 99) / 100;

	qsort(samples, n, sizeof *samples, cmp_u64);
	if (p95 > 0)
		p95--;
	if (p99 > 0)
		p99--;
	printf("n=%zu median_us=%.1f p95_us=%.1f p99_us=%.1f min_us=%.1f "
	    "max_us=%.1f cpu_us=%.1f wall_s=%.2f pid=%d\n", n,
	    samples[n / 2] / 1e3, samples[p95] / 1e3, samples[p99] / 1e3,
	    samples[0] / 1e3, samples[n - 1] / 1e3,
	    (double)cpu_ns / n / 1e3, wall_ns / 1e9, (int)engine_pid);
}

static uint64_t *
samples_new(size_t n)
{
	uint64_t *s;

	if ((s = calloc(n, sizeof *s)) == NULL)
		die("out of memory");
	return s;
}

/* Whether a timed loop is over: n done, or time up after a few runs. */
static int
done(size_t i, size_t n, uint64_t start, double seconds)
{
	return i >= n || (i >= BENCH_MIN_RUNS &&
	    now_ns() - start >= (uint64_t)(seconds * 1e9));
}

static void
bench_list(size_t n, double seconds, const char *name)
{
	struct bench_conn c = { -1, NULL, 0, 0 };
	struct proto_name pn;
	struct msg_hdr hdr;
	const uint8_t *p;
	uint64_t *samples = samples_new(n), t0, start, cpu0, cpu1;
	size_t i, vms, bytes = 0, want = (size_t)-1;

	memset(&pn, 0, sizeof pn);
	if (strlen(name) >= sizeof pn.name)
		die("%s: name too long", name);
	strcpy(pn.name, name);
	conn_open(&c);
	conn_hello(&c);
	cpu0 = engine_cpu_ns();
	start = now_ns();
	for (i = 0; !done(i, n, start, seconds); i++) {
		t0 = now_ns();
		conn_send(&c, MSG_CMD_LIST, &pn, sizeof pn);
		vms = bytes = 0;
		for (;;) {
			p = conn_next(&c, &hdr);
			check_error(&hdr, p);
			bytes += sizeof hdr + hdr.len;
			if (hdr.type == MSG_END && hdr.len == 0)
				break;
			if (hdr.type != MSG_VM_INFO ||
			    hdr.len != sizeof(struct proto_vm_info))
				die("list answered with type %u, %u bytes",
				    hdr.type, hdr.len);
			vms++;
		}
		samples[i] = now_ns() - t0;
		if (want == (size_t)-1)
			want = vms;
		else if (vms != want)
			die("list gave %zu vms, then %zu", want, vms);
	}
	cpu1 = engine_cpu_ns();
	printf("vms=%zu bytes=%zu ", want, bytes);
	report(samples, i, cpu1 - cpu0, now_ns() - start);
	conn_close(&c);
	free(c.buf);
	free(samples);
}

static void
bench_hello(size_t n, double seconds)
{
	struct bench_conn c = { -1, NULL, 0, 0 };
	uint64_t *samples = samples_new(n), t0, start, cpu0 = 0, cpu1;
	size_t i;

	start = now_ns();
	for (i = 0; !done(i, n, start, seconds); i++) {
		t0 = now_ns();
		conn_open(&c);
		conn_hello(&c);
		conn_close(&c);
		samples[i] = now_ns() - t0;
		if (i == 0) {
			/* Now the pid is known; run 0 does not count. */
			cpu0 = engine_cpu_ns();
			start = now_ns();
		}
	}
	cpu1 = engine_cpu_ns();
	report(samples + 1, i - 1, cpu1 - cpu0, now_ns() - start);
	free(c.buf);
	free(samples);
}

static void
bench_start(int argc, char **argv)
{
	struct bench_conn c = { -1, NULL, 0, 0 };
	struct proto_start *ps;
	struct msg_hdr hdr;
	const uint8_t *p;
	uint64_t start, cpu0, cpu1, last = 0, wall;
	int i;

	if ((ps = calloc(1, sizeof *ps)) == NULL)
		die("out of memory");
	conn_open(&c);
	conn_hello(&c);
	cpu0 = engine_cpu_ns();
	start = now_ns();
	for (i = 0; i < argc; i++) {
		memset(ps, 0, sizeof *ps);
		if (strlen(argv[i]) >= sizeof ps->name)
			die("%s: name too long", argv[i]);
		strcpy(ps->name, argv[i]);
		conn_send(&c, MSG_CMD_START, ps, sizeof *ps);
	}
	for (i = 0; i < argc; i++) {
		p = conn_next(&c, &hdr);
		check_error(&hdr, p);
		if (hdr.type != MSG_OK || hdr.len != 0)
			die("start answered with type %u, %u bytes", hdr.type,
			    hdr.len);
		last = now_ns();
	}
	cpu1 = engine_cpu_ns();
	wall = last - start;
	printf("n=%d wall_ms=%.1f per_s=%.0f cpu_us=%.1f pid=%d\n", argc,
	    wall / 1e6, argc / (wall / 1e9), (double)(cpu1 - cpu0) / argc / 1e3,
	    (int)engine_pid);
	conn_close(&c);
	free(c.buf);
	free(ps);
}

/* A runner whose guest boots noisily; the engine's socket is fd 3. */
static void
bench_runner(void)
{
	struct msg m;
	char line[4096];
	size_t off, sent;
	int fd = RUNNER_SOCKET_FD, n;

	while (msg_recv_sync(fd, &m) == 1) {
		switch (m.hdr.type) {
		case MSG_RUN_START_END:
			msg_send_sync(fd, MSG_RUN_READY, m.hdr.peerid, -1, NULL,
			    0);
			for (off = 0; off < sizeof line; off += n) {
				n = snprintf(line + off, sizeof line - off,
				    "[%8.6f] bench: a line of boot noise\n",
				    off / 1e6);
				if ((size_t)n >= sizeof line - off)
					break;
			}
			for (sent = 0; sent < BENCH_CONSOLE; sent += off)
				msg_send_sync(fd, MSG_RUN_CONSOLE, m.hdr.peerid,
				    -1, line, off);
			break;
		case MSG_RUN_PAUSE:
		case MSG_RUN_UNPAUSE:
			msg_send_sync(fd, MSG_OK, m.hdr.peerid, -1, NULL, 0);
			break;
		case MSG_RUN_SHUTDOWN:
			exit(RUNNER_EXIT_POWEROFF);
		}
		msg_clear(&m);
	}
	exit(RUNNER_EXIT_ERROR);
}

static void
usage(void)
{
	fprintf(stderr, "usage: vmtop-bench socket list n seconds [name]\n"
	    "       vmtop-bench socket hello n seconds\n"
	    "       vmtop-bench socket start name...\n"
	    "       vmtop-bench - runner [name]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	size_t n;

	if (argc < 3)
		usage();
	sockpath = argv[1];
	if (strcmp(argv[2], "runner") == 0)
		bench_runner();
	if (strcmp(argv[2], "start") == 0 && argc > 3) {
		bench_start(argc - 3, argv + 3);
		return 0;
	}
	if (argc < 5 || (n = strtoul(argv[3], NULL, 10)) < 2)
		usage();
	if (strcmp(argv[2], "list") == 0 && argc <= 6)
		bench_list(n, atof(argv[4]), argc == 6 ? argv[5] : "");
	else if (strcmp(argv[2], "hello") == 0 && argc == 5)
		bench_hello(n, atof(argv[4]));
	else
		usage();
	return 0;
}

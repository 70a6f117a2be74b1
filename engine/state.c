/*
 * The runners' folder, STATEDIR/runners (0700, the engine's alone): for
 * each VM it runs, NAME.sock, a unix socket the engine binds and hands to
 * the runner, which listens on it once sandboxed, and NAME.state, what the
 * engine knows that the runner does not (its config block, owner, uids,
 * pids and their start times, rate limit, tty, slirp helpers and the
 * rules forward gave them). An engine
 * that starts later reads NAME.state and connects to NAME.sock to adopt
 * the runner. The state file is trusted; the runner never writes it.
 * sun_path holds 107 characters: a longer path is reached through
 * /proc/self/fd/DIRFD/NAME.sock of the folder's O_PATH fd.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "hostfwd.h"
#include "log.h"
#include "xmalloc.h"

#define STATE_MAGIC	"vmtop-runner-state 1"
#define STATE_MAX_SIZE	(256 * 1024)

int
state_init(void)
{
	struct stat st;

	xasprintf(&engine->runnersdir, "%s/runners", engine->statedir);
	if (mkdir(engine->runnersdir, 0700) == -1 && errno != EEXIST)
		return -1;
	engine->runnersfd = open(engine->runnersdir, O_PATH | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (engine->runnersfd == -1)
		return -1;
	if (fstat(engine->runnersfd, &st) == -1)
		return -1;
	if (st.st_uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(engine->runnersdir,
	    0700) == -1)
		return -1;
	return 0;
}

/* The address of NAME.sock: its full path, or one through the folder fd. */
static int
state_sockaddr(const char *name, struct sockaddr_un *sun)
{
	int n;

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof sun->sun_path, "%s/%s.sock",
	    engine->runnersdir, name);
	if (n >= 0 && (size_t)n < sizeof sun->sun_path)
		return 0;
	n = snprintf(sun->sun_path, sizeof sun->sun_path,
	    "/proc/self/fd/%d/%s.sock", engine->runnersfd, name);
	if (n < 0 || (size_t)n >= sizeof sun->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
state_connect(const char *name)
{
	struct sockaddr_un sun;
	int s;

	if (state_sockaddr(name, &sun) == -1)
		return -1;
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s == -1)
		return -1;
	if (connect(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(s);
		return -1;
	}
	return s;
}

/*
 * Whether a runner listens at vm's NAME.sock: 0 when none does (a stale
 * socket is removed, with its state file), else -1 with a sentence.
 */
int
state_check_free(struct vm *vm, char *err, size_t errlen)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	int s;

	if ((s = state_connect(vm->conf->name)) == -1) {
		if (errno == ECONNREFUSED) {
			state_remove(vm->conf->name);
			return 0;
		}
		if (errno == ENOENT)
			return 0;
		if (errno != EAGAIN) {
			snprintf(err, errlen, "vm %s: runner socket in %s: %s",
			    vm->conf->name, engine->runnersdir,
			    strerror(errno));
			return -1;
		}
		cred.pid = 0;
	} else {
		if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
			cred.pid = 0;
		close(s);
	}
	snprintf(err, errlen, "vm %s: another engine's runner (pid %d) runs "
	    "it", vm->conf->name, (int)cred.pid);
	errno = EBUSY;
	return -1;
}

int
state_socket(struct vm *vm, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	char path[VM_NAME_SIZE + 8];
	int s;

	if (state_check_free(vm, err, errlen) == -1)
		return -1;
	snprintf(path, sizeof path, "%s.sock", vm->conf->name);
	if (unlinkat(engine->runnersfd, path, 0) == -1 && errno != ENOENT)
		goto fail;
	if (state_sockaddr(vm->conf->name, &sun) == -1)
		goto fail;
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (bind(s, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(s);
		goto fail;
	}
	return s;
fail:
	snprintf(err, errlen, "vm %s: runner socket %s/%s: %s",
	    vm->conf->name, engine->runnersdir, path, strerror(errno));
	return -1;
}

/*
 * Field 22 of /proc/PID/stat: the pid's start time, against pid reuse; 0
 * when the pid is gone or a zombie (ended, whoever reaps it).
 */
uint64_t
state_pid_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to its end. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	p++;
	/* Field 3 (state) follows: a zombie has ended, whoever reaps it. */
	while (*p == ' ')
		p++;
	if (*p == 'Z' || *p == 'X')
		return 0;
	/* The start time is field 22. */
	for (i = 3; i < 22; i++) {
		while (*p == ' ')
			p++;
		while (*p != ' ' && *p != '\0')
			p++;
	}
	if (sscanf(p, " %llu", &start) != 1)
		return 0;
	return start;
}

pid_t
state_ppid(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	fclose(f);
	return ppid;
}

static void
state_print(struct vm *vm, FILE *f)
{
	struct runstate rs;
	int i;

	memset(&rs, 0, sizeof rs);
	netif_state(vm, &rs);
	fprintf(f, "%s\n", STATE_MAGIC);
	fprintf(f, "adhoc %d\n", vm->adhoc);
	fprintf(f, "owner %u\n", (unsigned)access_owner(vm));
	fprintf(f, "runner-uid %u\n", (unsigned)vm->runner_uid);
	fprintf(f, "pid %d\n", (int)vm->pid);
	fprintf(f, "pid-start %" PRIu64 "\n", vm->pid_start);
	fprintf(f, "started %lld\n", (long long)vm->started);
	fprintf(f, "restarts %u\n", vm->restarts);
	fprintf(f, "rate-last %" PRIu64 "\n", vm->rl.last_ns);
	fprintf(f, "rate-fast %d\n", vm->rl.fast);
	fprintf(f, "tty %s\n", vm->tty);
	for (i = 0; i < rs.nslirp; i++)
		fprintf(f, "slirp %d %d %" PRIu64 "\n", rs.slirp[i].nic,
		    (int)rs.slirp[i].pid, rs.slirp[i].start);
	for (i = 0; i < vm->nforwards; i++)
		fprintf(f, "forward %d %s\n", vm->forwards[i].nic,
		    vm->forwards[i].rule);
	fputs("config\n", f);
	conf_vm_print(vm->conf, &engine->conf, f);
}

/* Written to a temporary file and renamed, so a reader sees all or none. */
void
state_write(struct vm *vm)
{
	char tmp[VM_NAME_SIZE + 16], path[VM_NAME_SIZE + 16];
	FILE *f;
	int fd;

	if (engine->runnersfd == -1)
		return;
	snprintf(tmp, sizeof tmp, ".%s.state.tmp", vm->conf->name);
	snprintf(path, sizeof path, "%s.state", vm->conf->name);
	fd = openat(engine->runnersfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("vm %s: %s/%s", vm->conf->name, engine->runnersdir,
		    tmp);
		if (fd != -1)
			close(fd);
		return;
	}
	state_print(vm, f);
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0) {
		log_warn("vm %s: writing %s/%s", vm->conf->name,
		    engine->runnersdir, tmp);
		unlinkat(engine->runnersfd, tmp, 0);
		return;
	}
	if (renameat(engine->runnersfd, tmp, engine->runnersfd, path) == -1) {
		log_warn("vm %s: %s/%s", vm->conf->name, engine->runnersdir,
		    path);
		unlinkat(engine->runnersfd, tmp, 0);
	}
}

void
state_remove(const char *name)
{
	char path[VM_NAME_SIZE + 16];

	if (engine->runnersfd == -1)
		return;
	snprintf(path, sizeof path, "%s.state", name);
	if (unlinkat(engine->runnersfd, path, 0) == -1 && errno != ENOENT)
		log_warn("%s: %s/%s", __func__, engine->runnersdir, path);
	snprintf(path, sizeof path, "%s.sock", name);
	if (unlinkat(engine->runnersfd, path, 0) == -1 && errno != ENOENT)
		log_warn("%s: %s/%s", __func__, engine->runnersdir, path);
	uids_unreserve(name);
}

/* Read the whole of NAME.state (malloc'd, NUL-terminated), or NULL. */
static char *
state_slurp(const char *name)
{
	char path[VM_NAME_SIZE + 16], *buf;
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	snprintf(path, sizeof path, "%s.state", name);
	fd = openat(engine->runnersfd, path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_size > STATE_MAX_SIZE) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	buf = xmalloc(st.st_size + 1);
	while (len < (size_t)st.st_size &&
	    (n = read(fd, buf + len, st.st_size - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* One "key value" line of a state file into rs: 0, or -1 if bad. */
static int
state_line(struct runstate *rs, const char *line)
{
	unsigned long long u;
	long long ll;
	int nic, pid, n;

	if (sscanf(line, "adhoc %d", &rs->adhoc) == 1)
		return 0;
	if (sscanf(line, "owner %llu", &u) == 1) {
		rs->owner = u;
		return 0;
	}
	if (sscanf(line, "runner-uid %llu", &u) == 1) {
		rs->runner_uid = u;
		return 0;
	}
	if (sscanf(line, "pid %d", &pid) == 1) {
		rs->pid = pid;
		return 0;
	}
	if (sscanf(line, "pid-start %llu", &u) == 1) {
		rs->pid_start = u;
		return 0;
	}
	if (sscanf(line, "started %lld", &ll) == 1) {
		rs->started = ll;
		return 0;
	}
	if (sscanf(line, "restarts %u", &rs->restarts) == 1)
		return 0;
	if (sscanf(line, "rate-last %llu", &u) == 1) {
		rs->rl.last_ns = u;
		return 0;
	}
	if (sscanf(line, "rate-fast %d", &rs->rl.fast) == 1)
		return 0;
	if (strncmp(line, "tty ", 4) == 0) {
		snprintf(rs->tty, sizeof rs->tty, "%s", line + 4);
		return 0;
	}
	if (strcmp(line, "tty") == 0)
		return 0;
	if (sscanf(line, "slirp %d %d %llu%n", &nic, &pid, &u, &n) == 3 &&
	    rs->nslirp < VM_MAX_NICS && nic >= 0 && nic < VM_MAX_NICS) {
		rs->slirp[rs->nslirp].nic = nic;
		rs->slirp[rs->nslirp].pid = pid;
		rs->slirp[rs->nslirp].start = u;
		rs->nslirp++;
		return 0;
	}
	if (sscanf(line, "forward %d %n", &nic, &n) == 1 && n > 0 &&
	    rs->nforwards < VM_MAX_FORWARDS && nic >= 0 && nic < VM_MAX_NICS &&
	    hostfwd_parse(line + n, NULL) == NULL) {
		rs->forwards[rs->nforwards].nic = nic;
		snprintf(rs->forwards[rs->nforwards].rule,
		    sizeof rs->forwards[0].rule, "%s", line + n);
		rs->nforwards++;
		return 0;
	}
	return -1;
}

int
state_read(const char *name, struct runstate *rs, char *err, size_t errlen)
{
	char *buf, *line, *next;

	memset(rs, 0, sizeof rs[0]);
	snprintf(rs->name, sizeof rs->name, "%s", name);
	if ((buf = state_slurp(name)) == NULL) {
		snprintf(err, errlen, "vm %s: %s/%s.state: %s", name,
		    engine->runnersdir, name, strerror(errno));
		return -1;
	}
	line = buf;
	if ((next = strchr(line, '\n')) == NULL)
		goto bad;
	*next++ = '\0';
	if (strcmp(line, STATE_MAGIC) != 0)
		goto bad;
	for (line = next; (next = strchr(line, '\n')) != NULL; line = next) {
		*next++ = '\0';
		if (strcmp(line, "config") == 0) {
			rs->config = xstrdup(next);
			free(buf);
			if (rs->pid <= 0 || rs->pid_start == 0)
				goto bad_nobuf;
			return 0;
		}
		if (state_line(rs, line) == -1)
			goto bad;
	}
bad:
	free(buf);
bad_nobuf:
	snprintf(err, errlen, "vm %s: %s/%s.state is not a runner state file",
	    name, engine->runnersdir, name);
	state_free(rs);
	return -1;
}

void
state_free(struct runstate *rs)
{
	free(rs->config);
	rs->config = NULL;
}

/*
 * A VM's network interfaces, opened for its runner: a frame fd per NIC
 * that carries one Ethernet frame per read and write. A user-mode NIC is
 * a SOCK_SEQPACKET socketpair whose other end goes to a vmtop-slirp
 * helper started for it; a tap NIC is /dev/net/tun (root only), added to
 * its switch's Linux bridge, which is created when missing. Each NIC's
 * MAC address is stable: derived from the VM's name and the NIC's index
 * unless vm.conf gives one. The helpers live as long as the runner they
 * serve: netif_release() ends them. Each helper this engine started also
 * has a control socket, on which netif_hostfwd() adds and removes rules
 * while the guest runs.
 */
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <net/if.h>

#include <linux/if_tun.h>
#include <linux/sockios.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "msg.h"
#include "paths.h"
#include "slirpmsg.h"
#include "xmalloc.h"

/* How long a new helper may take to bind its rules and answer. */
#define NETIF_HELPER_TIMEOUT_MS	5000
/* How long a running helper may take to answer a rule change. */
#define NETIF_CHANGE_TIMEOUT_MS	2000
/* Socket buffers of a frame socket (the kernel caps them at wmem_max). */
#define NETIF_SOCKBUF		(4 * 1024 * 1024)

struct netif_helper {
	TAILQ_ENTRY(netif_helper) entry;
	uint32_t	vmid;
	int		nic;
	pid_t		pid;
	uint64_t	start;		/* its start time, as /proc says */
	int		pidfd;		/* an earlier engine's helper, or -1 */
	int		ctl;		/* its control socket, or -1 */
};
static TAILQ_HEAD(, netif_helper) netif_helpers =
    TAILQ_HEAD_INITIALIZER(netif_helpers);
static char	*netif_slirp;

/*
 * The stable MAC of NIC i: a locally administered unicast address,
 * 52:54 and 32 bits of an FNV-1a hash of the VM's name and the index.
 */
void
netif_lladdr(const struct conf_vm *c, int i, uint8_t *mac)
{
	const char	*p;
	uint32_t	 h = 2166136261U;

	if (c->nics[i].has_lladdr) {
		memcpy(mac, c->nics[i].lladdr, 6);
		return;
	}
	for (p = c->name; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	h = (h ^ 0xff) * 16777619U;
	h = (h ^ (uint8_t)i) * 16777619U;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = h >> 24;
	mac[3] = h >> 16;
	mac[4] = h >> 8;
	mac[5] = h;
}

/* vmtop-slirp: $VMTOP_SLIRP, next to vmtop, else in LIBEXECDIR. */
static const char *
netif_slirp_path(void)
{
	const char	*env;
	char		*dir;

	if (netif_slirp != NULL)
		return netif_slirp;
	if ((env = getenv("VMTOP_SLIRP")) != NULL && *env != '\0')
		netif_slirp = xstrdup(env);
	else if ((dir = paths_exedir()) != NULL) {
		xasprintf(&netif_slirp, "%s/vmtop-slirp", dir);
		free(dir);
		if (access(netif_slirp, X_OK) == -1) {
			free(netif_slirp);
			netif_slirp = NULL;
		}
	}
	if (netif_slirp == NULL)
		netif_slirp = xstrdup(LIBEXECDIR "/vmtop-slirp");
	return netif_slirp;
}

/* The configuration of user-mode NIC i. */
static void
netif_user_config(struct vm *vm, int i, struct proto_slirp_config *sc)
{
	struct conf_vm	*c = vm->conf;
	struct conf_nic	*nic = &c->nics[i];
	int		 j;

	slirpmsg_defaults(sc);
	if (log_getverbose())
		sc->flags |= SLIRPF_VERBOSE;
	/* A detached engine's stderr goes nowhere: the helper uses syslog. */
	if (!log_getforeground())
		sc->flags |= SLIRPF_SYSLOG;
	sc->nic = i;
	uids_of(vm, &sc->uid, &sc->gid);
	snprintf(sc->name, sizeof sc->name, "%s", c->name);
	for (j = 0; j < nic->nhostfwd && j < VM_MAX_HOSTFWD; j++)
		snprintf(sc->hostfwd[j], sizeof sc->hostfwd[j], "%s",
		    nic->hostfwd[j]);
	sc->nhostfwd = j;
	if (nic->mtu != 0)
		sc->mtu = nic->mtu;
	if (nic->unrestricted)
		sc->flags &= ~SLIRPF_RESTRICTED;
}

static void
netif_sockbuf(int fd)
{
	int	size = NETIF_SOCKBUF;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

/*
 * Start vmtop-slirp on sock and ctl; returns its pid, or -1 with errno
 * set.
 */
static pid_t
netif_spawn(struct vm *vm, int i, int sock, int ctl)
{
	char	index[16];
	pid_t	pid;
	int	null;

	snprintf(index, sizeof index, "%d", i);
	if ((pid = fork()) != 0)
		return pid;
	/*
	 * Its sockets on fixed fds (moved above them first, so neither
	 * lands on the other), stdio on /dev/null but for the log.
	 */
	if ((sock = fcntl(sock, F_DUPFD_CLOEXEC, SLIRP_CONTROL_FD + 1)) ==
	    -1 || (ctl = fcntl(ctl, F_DUPFD_CLOEXEC, SLIRP_CONTROL_FD + 1)) ==
	    -1 || dup2(sock, SLIRP_SOCKET_FD) == -1 ||
	    dup2(ctl, SLIRP_CONTROL_FD) == -1)
		_exit(127);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
	}
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	execl(netif_slirp_path(), "vmtop-slirp", vm->conf->name, index,
	    (char *)NULL);
	_exit(127);
}

/*
 * Forget a helper; kill it first unless it has been reaped. An earlier
 * engine's helper is not our child: its pidfd is what is signalled.
 */
static void
netif_forget(struct netif_helper *h, int kill_it)
{
	if (h->pidfd != -1) {
		if (kill_it)
			syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL,
			    0);
		close(h->pidfd);
	} else if (kill_it)
		kill(h->pid, SIGKILL);
	if (h->ctl != -1)
		close(h->ctl);
	TAILQ_REMOVE(&netif_helpers, h, entry);
	free(h);
}

int
netif_adopt(struct vm *vm, int nic, pid_t pid, uint64_t start)
{
	struct netif_helper	*h;
	int			 fd;

	if (pid <= 0 || (fd = syscall(SYS_pidfd_open, pid, 0)) == -1)
		return -1;
	/* The pidfd holds the pid: its start time says it is the same one. */
	if (state_pid_start(pid) != start) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	h = xcalloc(1, sizeof *h);
	h->vmid = vm->id;
	h->nic = nic;
	h->pid = pid;
	h->start = start;
	h->pidfd = fd;
	h->ctl = -1;
	TAILQ_INSERT_TAIL(&netif_helpers, h, entry);
	return 0;
}

void
netif_state(struct vm *vm, struct runstate *rs)
{
	struct netif_helper	*h;

	rs->nslirp = 0;
	TAILQ_FOREACH(h, &netif_helpers, entry) {
		if (h->vmid != vm->id || rs->nslirp >= VM_MAX_NICS)
			continue;
		rs->slirp[rs->nslirp].nic = h->nic;
		rs->slirp[rs->nslirp].pid = h->pid;
		rs->slirp[rs->nslirp].start = h->start;
		rs->nslirp++;
	}
}

/*
 * Send a helper of vm's NIC i one message on fd and wait at most
 * timeout_ms for its answer. Returns 0 for MSG_OK, or -1 with a sentence
 * naming the VM and the interface in err (the helper's own for
 * MSG_ERROR).
 */
static int
netif_ask(struct vm *vm, int i, int fd, uint32_t type, const void *data,
    size_t len, int timeout_ms, char *err, size_t errlen)
{
	struct msg_hdr		 hdr;
	struct proto_error	 e;
	uint8_t			 buf[sizeof hdr + sizeof e];
	const char		*name = vm->conf->name;
	ssize_t			 n;

	memset(buf, 0, sizeof buf);
	if (slirpmsg_send(fd, type, vm->id, data, len) == -1)
		n = -1;
	else
		n = slirpmsg_recv(fd, buf, sizeof buf, timeout_ms);
	memcpy(&hdr, buf, sizeof hdr);
	if (n == -1 && errno == ETIMEDOUT)
		snprintf(err, errlen, "vm %s: interface %d: vmtop-slirp did "
		    "not answer within %d s", name, i, timeout_ms / 1000);
	else if (n == -1 && errno != EMSGSIZE)
		snprintf(err, errlen, "vm %s: interface %d: vmtop-slirp: %s",
		    name, i, strerror(errno));
	else if (n == 0)
		snprintf(err, errlen, "vm %s: interface %d: vmtop-slirp %s "
		    "has ended", name, i, netif_slirp_path());
	else if (n == (ssize_t)sizeof buf && hdr.type == MSG_ERROR &&
	    hdr.len == sizeof e) {
		memcpy(&e, buf + sizeof hdr, sizeof e);
		snprintf(err, errlen, "vm %s: interface %d: %.*s", name, i,
		    (int)strnlen(e.text, sizeof e.text), e.text);
	} else if (n == (ssize_t)sizeof hdr && hdr.type == MSG_OK &&
	    hdr.len == 0)
		return 0;
	else
		snprintf(err, errlen, "vm %s: interface %d: vmtop-slirp sent "
		    "a bad answer", name, i);
	return -1;
}

/* Ask helper h to add or remove rule: as netif_ask. */
static int
netif_change(struct vm *vm, struct netif_helper *h, uint32_t type,
    const char *rule, char *err, size_t errlen)
{
	struct proto_slirp_hostfwd	ph;

	memset(&ph, 0, sizeof ph);
	snprintf(ph.rule, sizeof ph.rule, "%s", rule);
	return netif_ask(vm, h->nic, h->ctl, type, &ph, sizeof ph,
	    NETIF_CHANGE_TIMEOUT_MS, err, errlen);
}

/*
 * A new helper of a VM that restarts (a guest reboot) gets the rules
 * added while it ran before; one its port refuses now is dropped.
 */
static void
netif_readd(struct vm *vm, struct netif_helper *h)
{
	char	err[PROTO_TEXT_SIZE];
	int	i = 0;

	while (i < vm->nforwards) {
		if (vm->forwards[i].nic != h->nic ||
		    netif_change(vm, h, MSG_SLIRP_HOSTFWD_ADD,
		    vm->forwards[i].rule, err, sizeof err) == 0) {
			i++;
			continue;
		}
		log_warnx("%s: dropping forward %s", err, vm->forwards[i].rule);
		vm->forwards[i] = vm->forwards[--vm->nforwards];
	}
}

/*
 * Open user-mode NIC i: a socketpair, a helper on one end, configured
 * and answering before the other end is returned. The engine waits for
 * the answer (a few milliseconds; at most NETIF_HELPER_TIMEOUT_MS).
 */
static int
netif_open_user(struct vm *vm, int i, char *err, size_t errlen)
{
	struct proto_slirp_config	 sc;
	struct netif_helper		*h;
	const char			*path = netif_slirp_path();
	const char			*name = vm->conf->name;
	char				 why[PROTO_TEXT_SIZE];
	int				 sv[2], cv[2], flags;

	netif_user_config(vm, i, &sc);
	if (slirpmsg_check(&sc, why, sizeof why) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: %s", name, i, why);
		return -1;
	}
	if (access(path, X_OK) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: %s: %s", name, i,
		    path, strerror(errno));
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: socketpair: %s",
		    name, i, strerror(errno));
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cv) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: socketpair: %s",
		    name, i, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	netif_sockbuf(sv[0]);
	h = xcalloc(1, sizeof *h);
	h->vmid = vm->id;
	h->nic = i;
	h->pidfd = -1;
	h->ctl = cv[0];
	if ((h->pid = netif_spawn(vm, i, sv[1], cv[1])) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: fork: %s", name, i,
		    strerror(errno));
		free(h);
		close(sv[0]);
		close(sv[1]);
		close(cv[0]);
		close(cv[1]);
		return -1;
	}
	close(sv[1]);
	close(cv[1]);
	h->start = state_pid_start(h->pid);
	TAILQ_INSERT_TAIL(&netif_helpers, h, entry);

	if (netif_ask(vm, i, sv[0], MSG_SLIRP_CONFIG, &sc, sizeof sc,
	    NETIF_HELPER_TIMEOUT_MS, err, errlen) == 0) {
		flags = fcntl(sv[0], F_GETFL);
		if (flags != -1)
			fcntl(sv[0], F_SETFL, flags | O_NONBLOCK);
		log_debug("vm %s: interface %d: vmtop-slirp %d ready", name,
		    i, (int)h->pid);
		netif_readd(vm, h);
		return sv[0];
	}
	close(sv[0]);
	netif_forget(h, 1);
	return -1;
}

int
netif_hostfwd(struct vm *vm, int nic, uint32_t type, const char *rule,
    char *err, size_t errlen)
{
	struct netif_helper		*h;

	TAILQ_FOREACH(h, &netif_helpers, entry)
		if (h->vmid == vm->id && h->nic == nic)
			break;
	if (h == NULL) {
		snprintf(err, errlen, "vm %s: interface %d: no vmtop-slirp "
		    "serves it", vm->conf->name, nic);
		return -1;
	}
	if (h->ctl == -1) {
		snprintf(err, errlen, "vm %s: interface %d: its vmtop-slirp "
		    "was started by an earlier engine; its rules can change "
		    "once the vm restarts", vm->conf->name, nic);
		return -1;
	}
	return netif_change(vm, h, type, rule, err, errlen);
}

/* Set or clear IFF_UP on ifname; -1 with errno set. */
static int
netif_set_up(int s, const char *ifname, int up)
{
	struct ifreq	ifr;

	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		return -1;
	if (((ifr.ifr_flags & IFF_UP) != 0) == (up != 0))
		return 0;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* The switch called name in the running config, or NULL. */
static struct conf_switch *
netif_find_switch(const char *name)
{
	struct conf_switch	*sw;

	TAILQ_FOREACH(sw, &engine->conf.switches, entry)
		if (strcmp(sw->name, name) == 0)
			return sw;
	return NULL;
}

/*
 * Add tap to the bridge of switch sw, creating the bridge (up, unless
 * the switch says down) when it is missing. Returns 0, or -1 with a
 * sentence in err.
 */
static int
netif_bridge(struct vm *vm, int i, int s, struct conf_switch *sw,
    const char *tap, char *err, size_t errlen)
{
	struct ifreq	 ifr;
	char		 path[64];
	const char	*br = sw->ifname;

	if (if_nametoindex(br) == 0) {
		if (ioctl(s, SIOCBRADDBR, br) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "vm %s: interface %d: switch "
			    "\"%s\": creating bridge %s: %s", vm->conf->name,
			    i, sw->name, br, strerror(errno));
			return -1;
		}
		log_info("switch %s: created bridge %s", sw->name, br);
	}
	snprintf(path, sizeof path, "/sys/class/net/%s/bridge", br);
	if (access(path, F_OK) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: switch \"%s\": %s "
		    "is not a bridge", vm->conf->name, i, sw->name, br);
		return -1;
	}
	if (sw->up && netif_set_up(s, br, 1) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: switch \"%s\": "
		    "bringing %s up: %s", vm->conf->name, i, sw->name, br,
		    strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", br);
	if ((ifr.ifr_ifindex = if_nametoindex(tap)) == 0 ||
	    ioctl(s, SIOCBRADDIF, &ifr) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: adding %s to "
		    "bridge %s: %s", vm->conf->name, i, tap, br,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Open tap NIC i: the named tap or the next free one, on its switch's
 * bridge, up or down as vm.conf says.
 */
static int
netif_open_tap(struct vm *vm, int i, char *err, size_t errlen)
{
	struct conf_nic		*nic = &vm->conf->nics[i];
	struct conf_switch	*sw = NULL;
	struct ifreq		 ifr;
	int			 fd, s = -1;

	if (geteuid() != 0) {
		snprintf(err, errlen, "vm %s: interface %d: a tap needs root; "
		    "use \"interface user\"", vm->conf->name, i);
		return -1;
	}
	if (nic->switchname != NULL &&
	    (sw = netif_find_switch(nic->switchname)) == NULL) {
		snprintf(err, errlen, "vm %s: interface %d: switch \"%s\" is "
		    "not defined", vm->conf->name, i, nic->switchname);
		return -1;
	}
	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK)) ==
	    -1) {
		snprintf(err, errlen, "vm %s: interface %d: /dev/net/tun: %s",
		    vm->conf->name, i, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (nic->tapunit >= 0)
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "tap%d",
		    nic->tapunit);
	else
		snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "tap%%d");
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: %s: %s",
		    vm->conf->name, i, ifr.ifr_name, strerror(errno));
		goto fail;
	}
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: socket: %s",
		    vm->conf->name, i, strerror(errno));
		goto fail;
	}
	/* Before the bridge: a port's MTU bounds the bridge's. */
	if (nic->mtu != 0) {
		ifr.ifr_mtu = nic->mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) == -1) {
			snprintf(err, errlen, "vm %s: interface %d: %s: mtu "
			    "%u: %s", vm->conf->name, i, ifr.ifr_name,
			    nic->mtu, strerror(errno));
			goto fail;
		}
	}
	if (sw != NULL && netif_bridge(vm, i, s, sw, ifr.ifr_name, err,
	    errlen) == -1)
		goto fail;
	if (netif_set_up(s, ifr.ifr_name, nic->up) == -1) {
		snprintf(err, errlen, "vm %s: interface %d: %s: setting the "
		    "link %s: %s", vm->conf->name, i, ifr.ifr_name,
		    nic->up ? "up" : "down", strerror(errno));
		goto fail;
	}
	close(s);
	log_info("vm %s: interface %d is %s%s%s", vm->conf->name, i,
	    ifr.ifr_name, sw != NULL ? " on bridge " : "",
	    sw != NULL ? sw->ifname : "");
	return fd;
fail:
	if (s != -1)
		close(s);
	close(fd);
	return -1;
}

int
netif_open(struct vm *vm, struct resources *res, int i, char *err,
    size_t errlen)
{
	if (vm->conf->nics[i].type == NIC_USER)
		res->nics[i] = netif_open_user(vm, i, err, errlen);
	else
		res->nics[i] = netif_open_tap(vm, i, err, errlen);
	return res->nics[i] == -1 ? -1 : 0;
}

/* End the helpers of vm's last start. */
void
netif_release(struct vm *vm)
{
	struct netif_helper	*h, *next;

	TAILQ_FOREACH_SAFE(h, &netif_helpers, entry, next) {
		if (h->vmid != vm->id)
			continue;
		log_debug("vm %s: interface %d: ending vmtop-slirp %d",
		    vm->conf->name, h->nic, (int)h->pid);
		netif_forget(h, 1);
	}
}

/* A child has been reaped: forget it if it was a helper; 1 if it was. */
int
netif_reaped(pid_t pid, int status)
{
	struct netif_helper	*h;
	struct vm		*vm;

	TAILQ_FOREACH(h, &netif_helpers, entry) {
		if (h->pid != pid)
			continue;
		if ((vm = vm_find_id(h->vmid)) != NULL)
			log_debug("vm %s: interface %d: vmtop-slirp %d ended "
			    "(status 0x%x)", vm->conf->name, h->nic, (int)pid,
			    status);
		netif_forget(h, 0);
		return 1;
	}
	return 0;
}

/*
 * The engine's listening socket: takes the engine lock, accepts clients
 * and decides who gets in. Connections are capped in all and per uid,
 * with room kept for root; at the cap the engine stops listening until a
 * client leaves, and when accept runs out of fds it backs off for a
 * moment instead of spinning. Repeated troubles are logged once per
 * interval, with a count.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine.h"
#include "log.h"
#include "msg.h"
#include "paths.h"
#include "xmalloc.h"

#define LISTEN_BACKOFF_MS	250	/* after EMFILE or ENFILE */
#define LISTEN_LOG_SECONDS	10	/* one line per trouble this often */
#define LISTEN_ROOT_RESERVE	16	/* root's, beyond limits.clients */

/* A trouble that may repeat fast: logged once per interval. */
struct listen_trouble {
	time_t		 last;
	unsigned	 count;		/* since the last line */
};

static struct listen_trouble listen_nofds, listen_full, listen_user_full;
static struct event *listen_backoff;
static int listen_paused;	/* listener removed: full or backing off */
static int listen_held;		/* adopting runners: clients wait */

static void __attribute__((format(printf, 2, 3)))
listen_warn(struct listen_trouble *t, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	time_t now = time(NULL);

	t->count++;
	if (t->last != 0 && now - t->last < LISTEN_LOG_SECONDS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (t->count > 1)
		log_warnx("%s (%u times in %lld s)", text, t->count,
		    (long long)(t->last != 0 ? now - t->last : 0));
	else
		log_warnx("%s", text);
	t->last = now;
	t->count = 0;
}

/* Every client's connections. */
static uint32_t
listen_all(void)
{
	uint32_t all;

	control_count(0, &all);
	return all;
}

static void
listen_stop(void)
{
	if (!listen_paused && engine->listen_ev != NULL)
		event_del(engine->listen_ev);
	listen_paused = 1;
}

static void
listen_start(void)
{
	if (listen_held)
		return;
	if (listen_paused && engine->listen_ev != NULL)
		event_add(engine->listen_ev, NULL);
	listen_paused = 0;
}

static void
listen_backoff_done(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	if (listen_all() < engine->conf.limits.clients + LISTEN_ROOT_RESERVE)
		listen_start();
}

/* Tell a refused client why, in one message, and hang up. */
static void
listen_refuse(int s, const char *why)
{
	struct proto_error e;

	memset(&e, 0, sizeof e);
	e.code = EAGAIN;
	snprintf(e.text, sizeof e.text, "engine: connection refused: %s",
	    why);
	/* A new socket's buffer is empty: this does not block. */
	(void)msg_send_sync(s, MSG_ERROR, 0, -1, &e, sizeof e);
	close(s);
}

/* Whether a client of uid may have one more connection; why if not. */
static int
listen_admit(uid_t uid, char *why, size_t whylen)
{
	struct conf_limits *l = &engine->conf.limits;
	uint32_t all, mine;

	mine = control_count(uid, &all);
	if (uid == 0 && all >= l->clients + LISTEN_ROOT_RESERVE) {
		snprintf(why, whylen, "the engine holds %u connections, its "
		    "limit", all);
		return 0;
	}
	if (uid == 0)
		return 1;
	if (all >= l->clients) {
		snprintf(why, whylen, "the engine holds %u connections, its "
		    "limit for users other than root", all);
		listen_warn(&listen_full, "%s: refusing connections: %u held, "
		    "the limit for users other than root", __func__, all);
		return 0;
	}
	if (l->user_clients != 0 && mine >= l->user_clients) {
		snprintf(why, whylen, "uid %u has %u connections, the limit "
		    "per user", (unsigned)uid, mine);
		listen_warn(&listen_user_full, "%s: refusing connections of "
		    "uid %u: %u held, the limit per user", __func__,
		    (unsigned)uid, mine);
		return 0;
	}
	return 1;
}

static void
listen_accept(int fd, short events, void *arg)
{
	struct timeval tv = { 0, LISTEN_BACKOFF_MS * 1000 };
	struct ucred cred;
	socklen_t len = sizeof cred;
	char why[128];
	int s;

	(void)events;
	(void)arg;
	if ((s = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			listen_warn(&listen_nofds, "%s: accept: %s: not "
			    "listening for %d ms", __func__, strerror(errno),
			    LISTEN_BACKOFF_MS);
			listen_stop();
			evtimer_add(listen_backoff, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("%s: accept", __func__);
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("%s: SO_PEERCRED", __func__);
		close(s);
		return;
	}
	if (!listen_admit(cred.uid, why, sizeof why)) {
		listen_refuse(s, why);
		return;
	}
	if (control_client_new(s, &cred) == -1)
		close(s);
	if (listen_all() >= engine->conf.limits.clients + LISTEN_ROOT_RESERVE)
		listen_stop();
}

/* A client left: listen again if the cap had stopped us. */
void
listen_slot_freed(void)
{
	if (listen_paused && engine->listen_ev != NULL &&
	    listen_backoff != NULL && !evtimer_pending(listen_backoff, NULL))
		listen_start();
}

/* Set the socket's owner and mode as root's or a user's engine wants. */
static void
listen_socket_perms(const char *path)
{
	struct config *conf = &engine->conf;

	if (geteuid() != 0) {
		chmod(path, 0600);
		return;
	}
	if (conf->has_socket_owner) {
		if (chown(path, conf->socket_uid, conf->socket_gid) == -1)
			log_warn("%s: chown %s", __func__, path);
		chmod(path, 0660);
	} else
		chmod(path, 0666);	/* anyone may look; SO_PEERCRED rules */
}

/*
 * Take the engine lock and listen on the socket. Returns 0, 1 when another
 * engine already serves it, or -1 with errno set.
 */
int
listen_open(void)
{
	struct sockaddr_un sun;
	char *lockpath, *dir, *copy;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(engine->socket_path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, engine->socket_path);
	copy = xstrdup(engine->socket_path);
	dir = dirname(copy);
	if (paths_mkdirs(dir, geteuid() == 0 ? 0755 : 0700) == -1) {
		free(copy);
		return -1;
	}
	free(copy);
	xasprintf(&lockpath, "%s.lock", engine->socket_path);
	engine->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lockpath);
	if (engine->lockfd == -1)
		return -1;
	if (flock(engine->lockfd, LOCK_EX | LOCK_NB) == -1)
		return errno == EWOULDBLOCK ? 1 : -1;
	unlink(engine->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 128) == -1) {
		close(fd);
		return -1;
	}
	listen_socket_perms(sun.sun_path);
	engine->listenfd = fd;
	engine->listen_ev = event_new(engine->base, fd, EV_READ | EV_PERSIST,
	    listen_accept, NULL);
	if (listen_backoff == NULL)
		listen_backoff = evtimer_new(engine->base, listen_backoff_done,
		    NULL);
	listen_paused = 1;
	listen_start();
	return 0;
}

/*
 * While runners are being adopted clients wait in the backlog: none is
 * served before every VM's state is known.
 */
void
listen_hold(int hold)
{
	if (hold) {
		listen_stop();
		listen_held = 1;
		return;
	}
	listen_held = 0;
	listen_start();
}

void
listen_close(void)
{
	if (engine->listen_ev != NULL)
		event_free(engine->listen_ev);
	engine->listen_ev = NULL;
	if (listen_backoff != NULL)
		event_free(listen_backoff);
	listen_backoff = NULL;
	if (engine->listenfd != -1) {
		close(engine->listenfd);
		unlink(engine->socket_path);
	}
	engine->listenfd = -1;
}

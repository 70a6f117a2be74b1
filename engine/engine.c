/*
 * The engine's main loop (vmtop -D): load the config, take the socket,
 * start the enabled VMs, and serve clients and runners until told to
 * exit. Started on demand by the first client, like a tmux server.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

#define ENGINE_SHUTDOWN_SECONDS	30

struct engine *engine;

static int engine_config_given;

/* The demo VM, whose kernel and initramfs `make run` prepares. */
const char *
engine_default_config(void)
{
	static char *text;
	char *dir;

	if (text != NULL)
		return text;
	if ((dir = paths_exedir()) == NULL)
		dir = xstrdup(".");
	xasprintf(&text,
	    "# The embedded default: used when there is no vm.conf.\n"
	    "vm \"demo\" {\n"
	    "\tmemory 256M\n"
	    "\tvcpus 2\n"
	    "\tkernel \"%s/build/demo/vmlinuz\"\n"
	    "\tinitrd \"%s/build/demo/initrd.img\"\n"
	    "\tcmdline \"console=ttyS0 quiet\"\n"
	    "}\n", dir, dir);
	free(dir);
	return text;
}

int
engine_load_config(struct config *conf, FILE *errout)
{
	if (access(engine->config_path, F_OK) == -1 && errno == ENOENT &&
	    !engine_config_given)
		return config_parse("(default)", engine_default_config(),
		    conf, errout);
	return config_parse(engine->config_path, NULL, conf, errout);
}

/*
 * Read the config again and apply it without touching running VMs.
 * Returns the number of errors (written to errout); 0 means applied.
 */
int
engine_reload(FILE *errout)
{
	struct config conf;
	int errors;

	config_init(&conf);
	if ((errors = engine_load_config(&conf, errout)) > 0) {
		config_free(&conf);
		return errors;
	}
	vm_apply_config(&conf);
	config_free(&engine->conf);
	engine->conf = conf;
	/* The list heads moved: their last-element pointers must follow. */
	TAILQ_INIT(&engine->conf.vms);
	TAILQ_INIT(&engine->conf.switches);
	TAILQ_CONCAT(&engine->conf.vms, &conf.vms, entry);
	TAILQ_CONCAT(&engine->conf.switches, &conf.switches, entry);
	log_info("reloaded %s", engine->config_path);
	return 0;
}

int
engine_check_config(const char *path, int verbose)
{
	struct config conf;
	char *def = NULL;
	int errors;

	config_init(&conf);
	if (path == NULL) {
		def = paths_config();
		if (access(def, F_OK) == -1 && errno == ENOENT)
			errors = config_parse("(default)",
			    engine_default_config(), &conf, stderr);
		else
			errors = config_parse(def, NULL, &conf, stderr);
		free(def);
	} else
		errors = config_parse(path, NULL, &conf, stderr);
	if (errors == 0 && verbose)
		config_print(&conf, stdout);
	config_free(&conf);
	return errors > 0 ? 1 : 0;
}

static void
engine_exit_now(int fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	event_base_loopbreak(engine->base);
}

static int
engine_vms_running(void)
{
	struct vm *vm;

	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (vm->pid != 0)
			return 1;
	return 0;
}

/*
 * Stop every VM (its guest is asked first) and leave the loop; or, with
 * keep, leave at once with every runner running and its state file kept,
 * for the next engine to adopt.
 */
void
engine_shutdown(int keep)
{
	struct timeval tv = { ENGINE_SHUTDOWN_SECONDS, 0 };
	char err[PROTO_TEXT_SIZE];
	struct vm *vm;

	if (engine->exiting)
		return;
	engine->exiting = 1;
	engine->keep_vms = keep;
	log_info("shutting down%s", keep ? ", leaving the vms running" : "");
	listen_close();
	engine->exit_timer = evtimer_new(engine->base, engine_exit_now, NULL);
	if (keep) {
		runner_keep_all();
		tv.tv_sec = 0;
		evtimer_add(engine->exit_timer, &tv);
		return;
	}
	TAILQ_FOREACH(vm, &engine->vms, entry)
		if (vm->pid != 0)
			vm_stop(vm, 0, err, sizeof err);
	if (!engine_vms_running())
		tv.tv_sec = 0;
	evtimer_add(engine->exit_timer, &tv);
}

static void
engine_signal(int sig, short events, void *arg)
{
	(void)events;
	(void)arg;
	switch (sig) {
	case SIGCHLD:
		runner_reap();
		if (engine->exiting && !engine->keep_vms &&
		    !engine_vms_running())
			event_active(engine->exit_timer, EV_TIMEOUT, 0);
		break;
	case SIGHUP:
		if (engine_reload(NULL) > 0)
			log_warnx("reload: %s has errors; config unchanged",
			    engine->config_path);
		break;
	case SIGTERM:
		/* systemd's stop and restart: the guests go on. */
		engine_shutdown(1);
		break;
	case SIGINT:
		engine_shutdown(0);
		break;
	}
}

/*
 * Kill whatever runners are left and reap them, unless the engine exits
 * keeping them. An adopted runner is not our child: its pidfd is killed.
 */
static void
engine_kill_runners(void)
{
	struct vm *vm;
	int status;

	if (engine->keep_vms)
		return;
	TAILQ_FOREACH(vm, &engine->vms, entry) {
		if (vm->pid == 0)
			continue;
		if (vm->pidfd != -1) {
			runner_kill(vm);
			vm->pid = 0;
			continue;
		}
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, &status, 0);
		vm->pid = 0;
	}
}

/* Adoption is over: serve clients and start the enabled VMs. */
static void
engine_adopted(void)
{
	if (engine->exiting)
		return;
	listen_hold(0);
	stagger_begin();
}

static void
engine_paths(const struct engine_opts *opts)
{
	char *dir;
	const char *env;

	engine->socket_path = opts->socket != NULL ? xstrdup(opts->socket) :
	    paths_socket();
	engine->config_path = opts->config != NULL ? xstrdup(opts->config) :
	    paths_config();
	engine_config_given = opts->config != NULL;
	engine->statedir = paths_statedir();
	engine->logdir = paths_logdir();
	if ((env = getenv("VMTOP_RUNNER")) != NULL && *env != '\0')
		engine->runner_path = xstrdup(env);
	else if ((dir = paths_exedir()) != NULL) {
		xasprintf(&engine->runner_path, "%s/vmtop-vm", dir);
		if (access(engine->runner_path, X_OK) == -1) {
			free(engine->runner_path);
			engine->runner_path = xstrdup(LIBEXECDIR "/vmtop-vm");
		}
		free(dir);
	} else
		engine->runner_path = xstrdup(LIBEXECDIR "/vmtop-vm");
	env = getenv("VMTOP_KVM");
	engine->kvm_path = env != NULL && *env != '\0' ? env : "/dev/kvm";
	if (paths_mkdirs(engine->statedir, 0700) == -1)
		log_warn("%s", engine->statedir);
	if (paths_mkdirs(engine->logdir, 0700) == -1)
		log_warn("%s", engine->logdir);
	if (state_init() == -1) {
		log_warn("%s: runners cannot be adopted", engine->runnersdir);
		if (engine->runnersfd != -1)
			close(engine->runnersfd);
		engine->runnersfd = -1;
	}
}

/* Each running VM holds a few fds: take all the fds we are allowed. */
static void
engine_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("%s: setrlimit", __func__);
	}
}

/* Detach from the terminal that started us once startup has succeeded. */
static void
engine_detach(void)
{
	int fd;

	if ((fd = open("/dev/null", O_RDWR)) == -1)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

int
engine_main(const struct engine_opts *opts)
{
	struct event *sigs[4];
	int signums[4] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };
	struct conf_vm *cv;
	int i, rv;

	log_init("vmtop-engine", 1, opts->verbose);
	engine = xcalloc(1, sizeof *engine);
	engine->listenfd = engine->lockfd = engine->runnersfd = -1;
	TAILQ_INIT(&engine->vms);
	TAILQ_INIT(&engine->clients);
	TAILQ_INIT(&engine->waiters);
	config_init(&engine->conf);
	engine->started = time(NULL);
	engine_paths(opts);
	if (engine_load_config(&engine->conf, stderr) > 0) {
		log_warnx("%s: not starting: the config has errors",
		    engine->config_path);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	engine_raise_nofile();
	if ((engine->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(engine->base, signums[i], engine_signal,
		    NULL);
		evsignal_add(sigs[i], NULL);
	}
	if ((rv = listen_open()) != 0) {
		if (rv == 1) {
			log_warnx("an engine already serves %s",
			    engine->socket_path);
			return 1;
		}
		log_warn("%s", engine->socket_path);
		return 1;
	}
	/* Clients wait until every runner left running is adopted. */
	listen_hold(1);
	TAILQ_FOREACH(cv, &engine->conf.vms, entry)
		vm_add(conf_vm_dup(cv), 0);
	log_info("listening on %s (pid %d)", engine->socket_path,
	    (int)getpid());
	if (!opts->foreground) {
		engine_detach();
		log_init("vmtop-engine", 0, opts->verbose);
	}
	adopt_begin(engine_adopted);
	event_base_dispatch(engine->base);
	engine_kill_runners();
	listen_close();
	for (i = 0; i < 4; i++)
		event_free(sigs[i]);
	return 0;
}

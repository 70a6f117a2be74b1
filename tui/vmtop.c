/*
 * vmtop: the client and the engine in one binary, as tmux is its own
 * client and server. Without flags it shows the dashboard; -c runs batch
 * commands; -D runs the engine in the foreground (clients start it on
 * demand as `vmtop -D -B`); -n checks a config and exits.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine.h"
#include "log.h"
#include "paths.h"
#include "xmalloc.h"

#ifndef VMTOP_VERSION
#define VMTOP_VERSION	"0.1"
#endif

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: vmtop [-BDjnVv] [-c commands] [-f config] "
	    "[-S socket]\n");
	exit(1);
}

/* A path from the command line, absolute: the engine runs in "/". */
static char *
vmtop_abspath(const char *path)
{
	char buf[PATH_MAX];

	if (cmd_abspath(path, buf, sizeof buf) == -1) {
		if (errno == EINVAL)
			fprintf(stderr, "vmtop: empty path\n");
		else
			fprintf(stderr, "vmtop: %s: %s\n", path,
			    strerror(errno));
		exit(1);
	}
	return xstrdup(buf);
}

int
main(int argc, char **argv)
{
	struct engine_opts eo;
	struct cmd_ctx ctx;
	const char *commands = NULL;
	char *socket = NULL, *config = NULL;
	const char *config_arg = NULL;
	int ch, json = 0, verbose = 0, engine = 0, background = 0;
	int check = 0, status;

	while ((ch = getopt(argc, argv, "BDS:c:f:jnVv")) != -1) {
		switch (ch) {
		case 'B':
			background = 1;
			break;
		case 'D':
			engine = 1;
			break;
		case 'S':
			free(socket);
			socket = vmtop_abspath(optarg);
			break;
		case 'c':
			commands = optarg;
			break;
		case 'f':
			free(config);
			config = vmtop_abspath(optarg);
			config_arg = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("vmtop %s (protocol %d)\n", VMTOP_VERSION,
			    PROTOCOL_VERSION);
			return 0;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (engine + check + (commands != NULL) > 1)
		usage();
	if (background && !engine)
		usage();
	if (json && (engine || check))
		usage();

	if (check) {
		/* Messages name the file as given; none: the default path. */
		status = engine_check_config(config_arg, verbose);
		free(config);
		free(socket);
		return status;
	}
	if (engine) {
		/* Started by a client as /proc/self/exe, it would be "exe". */
		prctl(PR_SET_NAME, "vmtop");
		memset(&eo, 0, sizeof eo);
		eo.socket = socket;
		eo.config = config;
		eo.foreground = !background;
		eo.verbose = verbose;
		return engine_main(&eo);
	}

	log_init("vmtop", 1, verbose);
	cmd_ctx_init(&ctx, stdout);
	ctx.socket = socket;
	ctx.config = config;
	ctx.verbose = verbose;
	ctx.json = json;
	if (commands != NULL)
		status = batch_run(&ctx, commands);
	else
		status = dashboard_main(&ctx);
	cmd_ctx_free(&ctx);
	free(config);
	free(socket);
	return status;
}

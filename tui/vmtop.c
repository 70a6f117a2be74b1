/*
 * vmtop: the client and the engine in one binary, as tmux is its own
 * client and server. Without flags it shows the dashboard; -c runs batch
 * commands; -b prints top-style tables; -D runs the engine in the
 * foreground (clients start it on demand as `vmtop -D -B`); -n checks a
 * config and exits, except after -b, where -n COUNT is top's.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
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
	fprintf(stderr, "usage: vmtop [-CjVv] [-c commands] [-d seconds] "
	    "[-f config] [-k keymap]\n"
	    "             [-r lines] [-S socket]\n"
	    "       vmtop -b [-j] [-d seconds] [-n count] [-f config] "
	    "[-S socket]\n"
	    "       vmtop -n [-v] [-f config]\n"
	    "       vmtop -D [-Bv] [-f config] [-S socket]\n");
	exit(1);
}

/* Whether -b is among the options, which makes -n take a count. */
static int
vmtop_has_batch(int argc, char **argv)
{
	const char *p;
	int i;

	for (i = 1; i < argc; i++) {
		p = argv[i];
		if (p[0] != '-' || strcmp(p, "--") == 0)
			return 0;
		for (p++; *p != '\0'; p++) {
			if (*p == 'b')
				return 1;
			if (strchr("Scdfkr", *p) != NULL) {
				if (p[1] == '\0')
					i++;
				break;
			}
		}
	}
	return 0;
}

/* A number for an option, or exit with a usage error. */
static double
vmtop_number(int opt, const char *arg, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		fprintf(stderr, "vmtop: -%c %s: not a number from %.10g to %.10g\n",
		    opt, arg, min, max);
		exit(1);
	}
	return v;
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
	int check = 0, status, batch, count = 0, monochrome = 0;
	int interval_ms = 0, replay = 0;
	const char *keymap = NULL;

	batch = vmtop_has_batch(argc, argv);
	while ((ch = getopt(argc, argv, batch ? "BCDS:bc:d:f:jk:n:r:Vv" :
	    "BCDS:bc:d:f:jk:nr:Vv")) != -1) {
		switch (ch) {
		case 'B':
			background = 1;
			break;
		case 'C':
			monochrome = 1;
			break;
		case 'D':
			engine = 1;
			break;
		case 'S':
			free(socket);
			socket = vmtop_abspath(optarg);
			break;
		case 'b':
			break;
		case 'c':
			commands = optarg;
			break;
		case 'd':
			interval_ms = vmtop_number('d', optarg, 0.1, 86400) *
			    1000;
			break;
		case 'f':
			free(config);
			config = vmtop_abspath(optarg);
			config_arg = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'k':
			keymap = optarg;
			break;
		case 'n':
			if (batch)
				count = vmtop_number('n', optarg, 1, 1e9);
			else
				check = 1;
			break;
		case 'r':
			replay = vmtop_number('r', optarg, 0, 1000000);
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
	if (engine + check + batch + (commands != NULL) > 1)
		usage();
	if (background && !engine)
		usage();
	if (json && (engine || check))
		usage();
	if (keymap != NULL && strchr(keymap, '/') == NULL &&
	    keymaps_find(keymap) == NULL) {
		fprintf(stderr, "vmtop: no keymap %s (there are default, vi "
		    "and emacs, or give a path)\n", keymap);
		return 1;
	}

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
		status = engine_main(&eo);
		free(config);
		free(socket);
		return status;
	}

	log_init("vmtop", 1, verbose);
	cmd_ctx_init(&ctx, stdout);
	ctx.socket = socket;
	ctx.config = config;
	ctx.verbose = verbose;
	ctx.json = json;
	ctx.keymap = keymap;
	ctx.monochrome = monochrome;
	ctx.interval_ms = interval_ms;
	ctx.replay_lines = replay;
	if (commands != NULL)
		status = batch_run(&ctx, commands);
	else if (batch)
		status = dashboard_batch_main(&ctx, count, json);
	else
		status = dashboard_main(&ctx);
	cmd_ctx_free(&ctx);
	free(config);
	free(socket);
	return status;
}

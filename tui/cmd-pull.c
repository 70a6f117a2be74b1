/*
 * pull [-a sha256|sha512] [-s SUMS-URL] NAME|URL: fetch a cloud image
 * into the image cache (imgcache.c), as the user who runs vmtop: by its
 * name in the catalog (catalog.c), or from a URL. The checksum file is
 * read first and must list the image; the image comes into FILE.part,
 * hashed on the way, resumed from what an earlier, cut pull left there,
 * and becomes FILE only if its hash is the published one. A wrong hash
 * deletes FILE.part: nothing is kept. On a terminal a progress bar goes
 * to stderr, else a line every tenth. The engine is not involved: it
 * opens images by path when a VM uses them. In the dashboard the pull
 * runs in a vmtop -c of its own in the background, its output in
 * FILE.log, so the dashboard goes on; `images` shows how far it got.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"
#include "size.h"
#include "xmalloc.h"

/* The largest checksum file read (Debian's SHA512SUMS is a few KiB). */
#define PULL_SUMS_MAX	(1024 * 1024)

static enum cmd_retval	cmd_pull_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_pull_entry = {
	.name = "pull",
	.alias = NULL,
	.args = "a:s:",
	.min_args = 1,
	.max_args = 1,
	.usage = "[-a sha256|sha512] [-s SUMS-URL] NAME|URL",
	.exec = cmd_pull_exec,
	.needs_engine = 0
};

/* What is pulled, from where, and where it goes. */
struct pull {
	struct cmd_ctx		*ctx;
	struct imgcache_info	 info;
	char			*dir;
	char			*path;		/* DIR/FILE */
	char			*part;		/* DIR/FILE.part */
	const char		*sums_file;	/* sums_url's last part */
	char			 want[SUMS_HEX_SIZE];	/* or "" */
	int			 tty;		/* the bar, not lines */
	int			 shown;		/* percent or tenth shown */
};

static void
cmd_pull_progress(uint64_t done, uint64_t total, void *arg)
{
	struct pull	*p = arg;
	char		 b[32];
	int		 pct;

	if (total == 0)
		return;
	pct = done >= total ? 100 : (int)(done * 100 / total);
	if (p->tty) {
		if (pct != p->shown)
			format_progress(stderr, p->info.name, pct, done, total);
		p->shown = pct;
		return;
	}
	if (pct / 10 == p->shown)
		return;
	p->shown = pct / 10;
	size_format(total, b, sizeof b);
	fprintf(p->ctx->out, "pulling %s: %d%% of %s\n", p->info.name, pct, b);
	fflush(p->ctx->out);
}

/* Which image NAME|URL is: the catalog's, or a URL with -s and -a. */
static int
cmd_pull_resolve(struct pull *p, const char *what)
{
	struct imgcache_info		*in = &p->info;
	struct catalog			 cat;
	const struct catalog_image	*img;
	const char			*v;
	char				 err[CMD_ERROR_SIZE];
	size_t				 i, off;

	if ((v = cmd_value(p->ctx, 'a')) != NULL &&
	    (in->alg = sums_alg_parse(v)) == SUMS_NONE) {
		cmd_error(p->ctx, "cannot pull %s: unknown algorithm %s "
		    "(sha256 or sha512)", what, v);
		return -1;
	}
	if ((v = cmd_value(p->ctx, 's')) != NULL)
		snprintf(in->sums_url, sizeof in->sums_url, "%s", v);
	if (strstr(what, "://") != NULL) {
		snprintf(in->url, sizeof in->url, "%s", what);
		if (imgcache_file_of_url(what, in->file, sizeof in->file) ==
		    -1) {
			cmd_error(p->ctx, "cannot pull %s: the URL does not "
			    "end in a file name for the cache", what);
			return -1;
		}
		snprintf(in->name, sizeof in->name, "%s", in->file);
	} else {
		if (catalog_load(&cat, err, sizeof err) == -1) {
			cmd_error(p->ctx, "cannot pull %s: %s", what, err);
			return -1;
		}
		if ((img = catalog_find(&cat, what)) == NULL) {
			off = snprintf(err, sizeof err, "no image %s in the "
			    "catalog; it has:", what);
			for (i = 0; i < cat.n && off < sizeof err; i++)
				off += snprintf(err + off, sizeof err - off,
				    "%s %s", i == 0 ? "" : ",", cat.v[i].name);
			if (cat.n == 0)
				snprintf(err + off, sizeof err - off, " none");
			catalog_free(&cat);
			cmd_error(p->ctx, "cannot pull %s: %s", what, err);
			return -1;
		}
		snprintf(in->name, sizeof in->name, "%s", img->name);
		snprintf(in->url, sizeof in->url, "%s", img->url);
		if (in->sums_url[0] == '\0')
			snprintf(in->sums_url, sizeof in->sums_url, "%s",
			    img->sums_url);
		if (in->alg == SUMS_NONE)
			in->alg = img->alg;
		catalog_free(&cat);
		if (imgcache_file_of_url(in->url, in->file, sizeof in->file) ==
		    -1) {
			cmd_error(p->ctx, "cannot pull %s: its URL %s does not "
			    "end in a file name for the cache", what, in->url);
			return -1;
		}
	}
	if (!catalog_valid_url(in->url) || (in->sums_url[0] != '\0' &&
	    !catalog_valid_url(in->sums_url))) {
		cmd_error(p->ctx, "cannot pull %s: only http://, https:// and "
		    "file:/// URLs", in->name);
		return -1;
	}
	p->sums_file = strrchr(in->sums_url, '/') != NULL ?
	    strrchr(in->sums_url, '/') + 1 : in->sums_url;
	return 0;
}

/* Read the checksum file and find the image's hash in it. */
static int
cmd_pull_sums(struct pull *p)
{
	struct imgcache_info	*in = &p->info;
	const struct sums_entry	*e;
	struct sums		 sums;
	char			 err[CMD_ERROR_SIZE], *text;
	size_t			 len;

	if (in->sums_url[0] == '\0') {
		if (in->alg == SUMS_NONE)
			in->alg = SUMS_SHA256;
		return 0;
	}
	if (fetch_text(in->sums_url, PULL_SUMS_MAX, &text, &len, err,
	    sizeof err) == -1) {
		cmd_error(p->ctx, "cannot pull %s: its checksum file %s: %s",
		    in->name, in->sums_url, err);
		return -1;
	}
	if (sums_parse(p->sums_file, text, len, &sums, err, sizeof err) ==
	    -1) {
		free(text);
		cmd_error(p->ctx, "cannot pull %s: %s (from %s)", in->name, err,
		    in->sums_url);
		return -1;
	}
	free(text);
	if ((e = sums_find(&sums, in->file, in->alg)) == NULL) {
		cmd_error(p->ctx, "cannot pull %s: %s lists no %s hash for %s",
		    in->name, in->sums_url, in->alg == SUMS_NONE ? "" :
		    sums_alg_name(in->alg), in->file);
		sums_free(&sums);
		return -1;
	}
	in->alg = e->alg;
	snprintf(p->want, sizeof p->want, "%s", e->hash);
	sums_free(&sums);
	return 0;
}

/* Open and lock FILE.part; -1 (with the error set) if another pull has it. */
static int
cmd_pull_open(struct pull *p)
{
	int fd;

	if ((fd = open(p->part, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		cmd_error(p->ctx, "cannot pull %s: %s: %s", p->info.name,
		    p->part, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		cmd_error(p->ctx, "cannot pull %s: %s", p->info.name,
		    errno == EWOULDBLOCK ? "another pull is writing it" :
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The download itself, then the check; FILE.part becomes FILE. */
static enum cmd_retval
cmd_pull_fetch(struct pull *p)
{
	struct imgcache_info	*in = &p->info;
	struct fetch_file	 ff;
	struct stat		 sb;
	char			 err[CMD_ERROR_SIZE], sz[32];
	int			 fd, rv;

	if ((fd = cmd_pull_open(p)) == -1)
		return CMD_RETURN_ERROR;
	memset(&ff, 0, sizeof ff);
	ff.url = in->url;
	ff.fd = fd;
	ff.alg = in->alg;
	ff.progress = cmd_pull_progress;
	ff.arg = p;
	if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
		size_format(sb.st_size, sz, sizeof sz);
		fprintf(p->ctx->out, "pulling %s from %s, resuming after %s "
		    "(%lld bytes)\n", in->name, in->url, sz,
		    (long long)sb.st_size);
	} else
		fprintf(p->ctx->out, "pulling %s from %s\n", in->name,
		    in->url);
	fflush(p->ctx->out);
	rv = fetch_file(&ff, err, sizeof err);
	if (p->tty && p->shown != -1)
		fprintf(stderr, "\n");
	if (rv == 0 && ff.restarted)
		fprintf(p->ctx->out, "the server sent %s from its start\n",
		    in->name);
	if (rv == -1) {
		close(fd);
		if (ff.size == 0) {
			unlink(p->part);
			return cmd_error(p->ctx, "cannot pull %s from %s: %s",
			    in->name, in->url, err);
		}
		size_format(ff.size, sz, sizeof sz);
		return cmd_error(p->ctx, "cannot pull %s from %s: %s; %s kept "
		    "in %s: pull again to resume", in->name, in->url, err, sz,
		    p->part);
	}
	if (p->want[0] != '\0' && strcmp(ff.hash, p->want) != 0) {
		unlink(p->part);
		close(fd);
		return cmd_error(p->ctx, "cannot pull %s: its %s is %s, but %s "
		    "says %s: deleted %s, nothing kept", in->name,
		    sums_alg_name(in->alg), ff.hash, p->sums_file, p->want,
		    p->part);
	}
	if (fsync(fd) == -1 || rename(p->part, p->path) == -1) {
		cmd_error(p->ctx, "cannot pull %s: %s: %s", in->name, p->path,
		    strerror(errno));
		close(fd);
		return CMD_RETURN_ERROR;
	}
	close(fd);
	snprintf(in->hash, sizeof in->hash, "%s", ff.hash);
	in->verified = p->want[0] != '\0';
	in->pulled = time(NULL);
	if (imgcache_write(p->dir, in, err, sizeof err) == -1)
		return cmd_error(p->ctx, "cannot pull %s: %s", in->name, err);
	size_format(ff.size, sz, sizeof sz);
	fprintf(p->ctx->out, "pulled %s: %s, %s, %s %s%s\n", in->name, p->path,
	    sz, sums_alg_name(in->alg), in->verified ? "verified against " :
	    "not verified (no checksum file: -s)", in->verified ?
	    in->sums_url : "");
	return CMD_RETURN_NORMAL;
}

/* Whether FILE is in the cache already with the hash the sums give. */
static int
cmd_pull_current(struct pull *p)
{
	struct imgcache_info in;

	if (p->want[0] == '\0' ||
	    imgcache_read(p->dir, p->info.file, &in) == -1)
		return 0;
	return in.verified && in.alg == p->info.alg &&
	    strcmp(in.hash, p->want) == 0 && strcmp(in.url, p->info.url) == 0;
}

/*
 * In the dashboard: the same pull in a vmtop -c of its own, detached
 * (forked twice, like the engine), its output in FILE.log.
 */
/* Append word, quoted for the splitter, to the command text *cmd. */
static void
cmd_pull_word(char **cmd, const char *word)
{
	char *q, *old = *cmd;

	q = split_quote(word);
	xasprintf(cmd, "%s %s", old, q);
	free(old);
	free(q);
}

static enum cmd_retval
cmd_pull_background(struct pull *p, char **argv)
{
	const char	*v;
	char		*cmd, *log;
	sigset_t	 mask;
	pid_t		 pid;
	int		 status, fd;

	cmd = xstrdup("pull");
	if ((v = cmd_value(p->ctx, 'a')) != NULL) {
		cmd_pull_word(&cmd, "-a");
		cmd_pull_word(&cmd, v);
	}
	if ((v = cmd_value(p->ctx, 's')) != NULL) {
		cmd_pull_word(&cmd, "-s");
		cmd_pull_word(&cmd, v);
	}
	cmd_pull_word(&cmd, "--");
	cmd_pull_word(&cmd, argv[0]);
	xasprintf(&log, "%s/%s.log", p->dir, p->info.file);
	fflush(stdout);
	fflush(stderr);
	switch (pid = fork()) {
	case -1:
		free(cmd);
		free(log);
		return cmd_error(p->ctx, "cannot pull %s: fork: %s",
		    p->info.name, strerror(errno));
	case 0:
		if (setsid() == -1 || fork() != 0)
			_exit(0);
		if ((fd = open("/dev/null", O_RDONLY)) != -1)
			dup2(fd, STDIN_FILENO);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) !=
		    -1) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		/* nothing of the dashboard's: its engine sockets, its mask */
		close_range(3, ~0U, 0);
		sigemptyset(&mask);
		sigprocmask(SIG_SETMASK, &mask, NULL);
		execl("/proc/self/exe", "vmtop", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	snprintf(p->ctx->result, sizeof p->ctx->result, "pulling %s in the "
	    "background (images shows it; its output: %s)", p->info.name, log);
	free(cmd);
	free(log);
	return CMD_RETURN_NORMAL;
}

static enum cmd_retval
cmd_pull_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct pull	 p;
	char		 err[CMD_ERROR_SIZE];
	enum cmd_retval	 rv = CMD_RETURN_ERROR;

	(void)argc;
	memset(&p, 0, sizeof p);
	p.ctx = ctx;
	p.shown = -1;
	p.tty = isatty(STDERR_FILENO);
	if (cmd_pull_resolve(&p, argv[0]) == -1)
		return CMD_RETURN_ERROR;
	if ((p.dir = imgcache_dir(err, sizeof err)) == NULL)
		return cmd_error(ctx, "cannot pull %s: %s", p.info.name, err);
	if (ctx->dash != NULL) {
		rv = cmd_pull_background(&p, argv);
		free(p.dir);
		return rv;
	}
	xasprintf(&p.path, "%s/%s", p.dir, p.info.file);
	xasprintf(&p.part, "%s.part", p.path);
	if (cmd_pull_sums(&p) == -1)
		goto out;
	if (cmd_pull_current(&p)) {
		fprintf(ctx->out, "%s is up to date: %s\n", p.info.name,
		    p.path);
		rv = CMD_RETURN_NORMAL;
	} else
		rv = cmd_pull_fetch(&p);
out:
	free(p.path);
	free(p.part);
	free(p.dir);
	return rv;
}

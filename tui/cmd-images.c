/*
 * images: the image cache that pull fills, one image a line: the name
 * it was pulled as, its size, whether its hash was checked against a
 * checksum file (or that it is still being pulled), when, and its path.
 * With -j one JSON object per image per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"
#include "size.h"
#include "xmalloc.h"

static enum cmd_retval	cmd_images_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_images_entry = {
	.name = "images",
	.alias = NULL,
	.args = "j",
	.min_args = 0,
	.max_args = 0,
	.usage = "[-j]",
	.exec = cmd_images_exec,
	.needs_engine = 0
};

/* What the VERIFIED column says. */
static const char *
cmd_images_verified(const struct imgcache_info *in)
{
	if (in->partial)
		return "partial";
	if (!in->verified)
		return "no";
	return in->alg == SUMS_SHA512 ? "sha512" : "sha256";
}

static void
cmd_images_json(FILE *f, const struct imgcache_info *in, const char *path)
{
	fprintf(f, "{\"name\": ");
	format_json_string(f, in->name);
	fprintf(f, ", \"path\": ");
	format_json_string(f, path);
	fprintf(f, ", \"size\": %llu, \"verified\": \"%s\", \"pulled\": %lld",
	    (unsigned long long)in->size, cmd_images_verified(in),
	    (long long)in->pulled);
	if (!in->partial) {
		fprintf(f, ", \"%s\": \"%s\", \"url\": ",
		    in->alg == SUMS_SHA512 ? "sha512" : "sha256", in->hash);
		format_json_string(f, in->url);
	}
	fprintf(f, "}\n");
}

static enum cmd_retval
cmd_images_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct imgcache_info	*v;
	struct tm		 tm;
	char			 err[CMD_ERROR_SIZE], *dir, *path, sz[32];
	char			 date[32];
	size_t			 n, i;

	(void)argc;
	(void)argv;
	if ((dir = imgcache_dir(err, sizeof err)) == NULL)
		return cmd_error(ctx, "cannot list the images: %s", err);
	v = imgcache_list(dir, &n);
	if (!ctx->json && !cmd_flag(ctx, 'j'))
		fprintf(ctx->out, "%-24s %8s %-8s %-16s %s\n", "NAME", "SIZE",
		    "VERIFIED", "PULLED", "PATH");
	for (i = 0; i < n; i++) {
		format_clean(v[i].name);
		xasprintf(&path, "%s/%s%s", dir, v[i].file,
		    v[i].partial ? ".part" : "");
		if (ctx->json || cmd_flag(ctx, 'j')) {
			cmd_images_json(ctx->out, &v[i], path);
			free(path);
			continue;
		}
		size_format(v[i].size, sz, sizeof sz);
		if (localtime_r(&v[i].pulled, &tm) == NULL ||
		    strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm) == 0)
			snprintf(date, sizeof date, "-");
		fprintf(ctx->out, "%-24s %8s %-8s %-16s %s\n", v[i].name, sz,
		    cmd_images_verified(&v[i]), date, path);
		free(path);
	}
	free(v);
	free(dir);
	return CMD_RETURN_NORMAL;
}

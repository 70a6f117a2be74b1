/*
 * info PATH [-j]: what a disk image is, without the engine: its format,
 * virtual size, what it takes on disk and holds itself, its cluster size,
 * and its chain of base images, each opened in turn (read-only, without
 * locks, so that an image in use can be looked at). A chain that cannot
 * be followed is shown as far as it goes, and the command fails.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"
#include "disk.h"
#include "size.h"

static enum cmd_retval	cmd_info_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_info_entry = {
	.name = "info",
	.alias = NULL,
	.args = "j",
	.min_args = 1,
	.max_args = 1,
	.usage = "PATH [-j]",
	.exec = cmd_info_exec,
	.needs_engine = 0
};

struct cmd_info_image {
	char			path[VM_PATH_SIZE];
	struct disk_info	info;
};

static void
cmd_info_size(FILE *f, const char *key, uint64_t bytes)
{
	char	buf[32];

	size_format(bytes, buf, sizeof buf);
	fprintf(f, "%s: %s (%llu bytes)\n", key, buf,
	    (unsigned long long)bytes);
}

static void
cmd_info_text(FILE *f, struct cmd_info_image *im, int n)
{
	struct disk_info	*in = &im[0].info;
	char			 buf[VM_PATH_SIZE + 64], size[32], alloc[32];
	int			 i;

	snprintf(buf, sizeof buf, "%s", im[0].path);
	format_clean(buf);
	fprintf(f, "image: %s\n", buf);
	if (in->format == DISK_FORMAT_QCOW2)
		fprintf(f, "format: qcow2 (version %u)\n", in->version);
	else
		fprintf(f, "format: raw\n");
	cmd_info_size(f, "virtual size", in->size);
	cmd_info_size(f, "disk size", in->disk_size);
	cmd_info_size(f, "allocated", in->allocated);
	if (in->format == DISK_FORMAT_QCOW2) {
		size_format(in->cluster_size, size, sizeof size);
		fprintf(f, "cluster size: %s\n", size);
		fprintf(f, "clusters: %llu data, %llu compressed, %llu zero\n",
		    (unsigned long long)in->data_clusters,
		    (unsigned long long)in->zdata_clusters,
		    (unsigned long long)in->zero_clusters);
		fprintf(f, "refcount bits: %u\n", in->refcount_bits);
		if (in->snapshots > 0)
			fprintf(f, "snapshots: %u\n", in->snapshots);
		if (in->dirty || in->corrupt)
			fprintf(f, "flags:%s%s\n", in->dirty ? " dirty" : "",
			    in->corrupt ? " corrupt" : "");
	}
	if (in->base[0] != '\0') {
		snprintf(buf, sizeof buf, "%s", in->base);
		format_clean(buf);
		if (in->base_format != DISK_FORMAT_AUTO)
			fprintf(f, "base image: %s (format %s)\n", buf,
			    disk_format_name(in->base_format));
		else
			fprintf(f, "base image: %s\n", buf);
	}
	for (i = 1; i < n; i++) {
		snprintf(buf, sizeof buf, "%s", im[i].path);
		format_clean(buf);
		size_format(im[i].info.size, size, sizeof size);
		size_format(im[i].info.allocated, alloc, sizeof alloc);
		fprintf(f, "chain %d: %s (%s, %s, %s allocated)\n", i, buf,
		    disk_format_name(im[i].info.format), size, alloc);
	}
}

static void
cmd_info_json_image(FILE *f, const struct cmd_info_image *im)
{
	const struct disk_info	*in = &im->info;

	fputs("\"image\":", f);
	format_json_string(f, im->path);
	fprintf(f, ",\"format\":\"%s\",\"virtual-size\":%llu,"
	    "\"disk-size\":%llu,\"allocated\":%llu",
	    disk_format_name(in->format), (unsigned long long)in->size,
	    (unsigned long long)in->disk_size,
	    (unsigned long long)in->allocated);
	if (in->format == DISK_FORMAT_QCOW2)
		fprintf(f, ",\"version\":%u,\"cluster-size\":%llu,"
		    "\"refcount-bits\":%u,\"data-clusters\":%llu,"
		    "\"compressed-clusters\":%llu,\"zero-clusters\":%llu,"
		    "\"snapshots\":%u,\"dirty\":%s,\"corrupt\":%s",
		    in->version, (unsigned long long)in->cluster_size,
		    in->refcount_bits, (unsigned long long)in->data_clusters,
		    (unsigned long long)in->zdata_clusters,
		    (unsigned long long)in->zero_clusters, in->snapshots,
		    in->dirty ? "true" : "false",
		    in->corrupt ? "true" : "false");
	fputs(",\"base\":", f);
	if (in->base[0] == '\0')
		fputs("null", f);
	else
		format_json_string(f, in->base);
	if (in->base_format != DISK_FORMAT_AUTO)
		fprintf(f, ",\"base-format\":\"%s\"",
		    disk_format_name(in->base_format));
}

static void
cmd_info_json(FILE *f, struct cmd_info_image *im, int n, const char *error)
{
	int	i;

	fputc('{', f);
	cmd_info_json_image(f, &im[0]);
	fputs(",\"chain\":[", f);
	for (i = 1; i < n; i++) {
		fputs(i == 1 ? "{" : ",{", f);
		cmd_info_json_image(f, &im[i]);
		fputc('}', f);
	}
	fputc(']', f);
	if (error != NULL) {
		fputs(",\"chain-error\":", f);
		format_json_string(f, error);
	}
	fputs("}\n", f);
}

/* Open one image of the chain alone and describe it. */
static int
cmd_info_one(struct cmd_info_image *im, enum disk_format fmt, char *err,
    size_t errlen)
{
	struct disk	*d;

	d = disk_open_path(im->path, fmt, DISK_RDONLY | DISK_NOBASE |
	    DISK_NOLOCK, err, errlen);
	if (d == NULL)
		return -1;
	if (disk_info(d, &im->info) == -1) {
		snprintf(err, errlen, "%s", disk_error(d) != NULL ?
		    disk_error(d) : strerror(errno));
		disk_close(d);
		return -1;
	}
	disk_close(d);
	return 0;
}

static enum cmd_retval
cmd_info_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_info_image	 im[VM_MAX_BASE_IMAGES + 1];
	struct stat		 st[VM_MAX_BASE_IMAGES + 1];
	char			 err[CMD_ERROR_SIZE];
	enum disk_format	 fmt = DISK_FORMAT_AUTO;
	int			 n, j, failed = 0;

	(void)argc;
	memset(im, 0, sizeof im);
	memset(st, 0, sizeof st);
	snprintf(im[0].path, sizeof im[0].path, "%s", argv[0]);
	if (cmd_info_one(&im[0], fmt, err, sizeof err) == -1)
		return cmd_error(ctx, "%s", err);
	(void)stat(im[0].path, &st[0]);
	for (n = 1; im[n - 1].info.base[0] != '\0'; n++) {
		if (n > VM_MAX_BASE_IMAGES) {
			snprintf(err, sizeof err, "%.400s: the base chain "
			    "is deeper than %d images", im[0].path,
			    VM_MAX_BASE_IMAGES);
			failed = 1;
			break;
		}
		if (disk_base_resolve(im[n - 1].path, im[n - 1].info.base,
		    im[n].path, sizeof im[n].path) == -1) {
			snprintf(err, sizeof err, "%.400s: the base image "
			    "path is too long", im[n - 1].path);
			failed = 1;
			break;
		}
		if (cmd_info_one(&im[n], im[n - 1].info.base_format, err,
		    sizeof err) == -1) {
			failed = 1;
			break;
		}
		(void)stat(im[n].path, &st[n]);
		for (j = 0; j < n; j++)
			if (st[j].st_dev == st[n].st_dev &&
			    st[j].st_ino == st[n].st_ino)
				break;
		if (j < n) {
			snprintf(err, sizeof err, "%.300s: the base chain "
			    "loops back to %.300s", im[0].path, im[n].path);
			failed = 1;
			break;
		}
	}
	if (ctx->json || cmd_flag(ctx, 'j'))
		cmd_info_json(ctx->out, im, n, failed ? err : NULL);
	else
		cmd_info_text(ctx->out, im, n);
	if (failed)
		return cmd_error(ctx, "%s", err);
	return CMD_RETURN_NORMAL;
}

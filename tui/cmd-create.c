/*
 * create PATH [-s SIZE] [-F raw|qcow2] [-b BASE]: make a new disk image,
 * without the engine. The format comes from -F, else from the name
 * (.qcow2), else qcow2 when there is a base, else raw. A base path is
 * stored as given and, like the engine reads it, taken relative to the
 * new image's folder; its size is the image's unless -s says otherwise.
 * An existing file is never overwritten.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
#include "disk.h"
#include "size.h"

static enum cmd_retval	cmd_create_exec(struct cmd_ctx *, int, char **);

const struct cmd_entry cmd_create_entry = {
	.name = "create",
	.alias = NULL,
	.args = "b:F:s:",
	.min_args = 1,
	.max_args = 1,
	.usage = "PATH [-s SIZE] [-F raw|qcow2] [-b BASE]",
	.exec = cmd_create_exec,
	.needs_engine = 0
};

/*
 * Open the base image to learn its size and format. Returns 0, or -1
 * with the error set.
 */
static int
cmd_create_base(struct cmd_ctx *ctx, const char *path, const char *base,
    uint64_t *size, enum disk_format *fmt)
{
	struct disk_chain	 c;
	struct disk		*d;
	const char		*names[VM_MAX_BASE_IMAGES + 1];
	char			 resolved[VM_PATH_SIZE], err[CMD_ERROR_SIZE];
	int			 i;

	if (disk_base_resolve(path, base, resolved, sizeof resolved) == -1) {
		cmd_error(ctx, "cannot create %s: the base image path is too "
		    "long", path);
		return -1;
	}
	if (disk_chain_open(&c, resolved, DISK_FORMAT_AUTO, DISK_RDONLY, err,
	    sizeof err) == -1) {
		if (strcmp(resolved, base) != 0)
			cmd_error(ctx, "cannot create %s: %s (a base path is "
			    "relative to the image's folder)", path, err);
		else
			cmd_error(ctx, "cannot create %s: %s", path, err);
		return -1;
	}
	for (i = 0; i < c.n; i++)
		names[i] = c.paths[i];
	*fmt = c.formats[0];
	d = disk_open_names(c.fds[0], c.formats[0], c.fds + 1, c.n - 1, names,
	    DISK_RDONLY, err, sizeof err);
	if (d == NULL) {
		disk_chain_close(&c);
		cmd_error(ctx, "cannot create %s: %s", path, err);
		return -1;
	}
	*size = disk_size(d);
	disk_close(d);
	return 0;
}

static enum cmd_retval
cmd_create_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char		*path = argv[0], *base, *v;
	char			 err[CMD_ERROR_SIZE];
	enum disk_format	 fmt, basefmt = DISK_FORMAT_AUTO;
	uint64_t		 size = 0, basesize = 0;
	int			 fd;

	(void)argc;
	base = cmd_value(ctx, 'b');
	if (base != NULL && base[0] == '\0')
		return cmd_error(ctx, "cannot create %s: the base image path "
		    "is empty", path);
	if ((v = cmd_value(ctx, 'F')) != NULL) {
		if (disk_format_parse(v, &fmt) == -1)
			return cmd_error(ctx, "cannot create %s: unknown "
			    "format %s (raw or qcow2)", path, v);
	} else if (base != NULL)
		fmt = DISK_FORMAT_QCOW2;
	else
		fmt = disk_format_of_name(path);
	if (base != NULL && fmt != DISK_FORMAT_QCOW2)
		return cmd_error(ctx, "cannot create %s: only a qcow2 image "
		    "can have a base image", path);
	if ((v = cmd_value(ctx, 's')) != NULL &&
	    size_parse(v, SIZE_MIB, &size) == -1)
		return cmd_error(ctx, "cannot create %s: invalid size %s (use "
		    "a number with K, M, G or T)", path, v);
	if (v == NULL && base == NULL)
		return cmd_error(ctx, "cannot create %s: give its size with -s "
		    "(or a base image with -b)", path);
	if (base != NULL && cmd_create_base(ctx, path, base, &basesize,
	    &basefmt) == -1)
		return CMD_RETURN_ERROR;
	if (v == NULL)
		size = basesize;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		if (errno == EEXIST)
			return cmd_error(ctx, "cannot create %s: it already "
			    "exists", path);
		return cmd_error(ctx, "cannot create %s: %s", path,
		    strerror(errno));
	}
	if (disk_create(fd, fmt, size, base, basefmt, err, sizeof err) == -1) {
		close(fd);
		unlink(path);
		return cmd_error(ctx, "cannot create %s: %s", path, err);
	}
	if (close(fd) == -1) {
		unlink(path);
		return cmd_error(ctx, "cannot create %s: %s", path,
		    strerror(errno));
	}
	return CMD_RETURN_NORMAL;
}

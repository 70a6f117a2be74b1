/*
 * A FUSE file system that never answers a lookup: `vmtop-slowfs DIR`
 * mounts it on DIR (as root) and serves until killed, so that opening
 * DIR/anything blocks for as long as it runs, as a slow or hung network
 * or FUSE file does. Only INIT and the root's GETATTR are answered; any
 * other request but LOOKUP gets ENOSYS. It prints "ready" once mounted.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include <linux/fuse.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char	buf[FUSE_MIN_READ_BUFFER + (1 << 20)];

static void
reply(int fd, uint64_t unique, int error, const void *p, size_t len)
{
	char out[sizeof(struct fuse_out_header) + 256];
	struct fuse_out_header *h = (struct fuse_out_header *)out;

	h->len = sizeof *h + len;
	h->error = error;
	h->unique = unique;
	memcpy(out + sizeof *h, p, len);
	if (write(fd, out, h->len) == -1 && errno != ENOENT)
		perror("vmtop-slowfs: write");
}

int
main(int argc, char **argv)
{
	struct fuse_in_header *in = (struct fuse_in_header *)buf;
	struct fuse_init_in *ii;
	struct fuse_init_out io;
	struct fuse_attr_out ao;
	char opts[128];
	ssize_t n;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: vmtop-slowfs dir\n");
		return 2;
	}
	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1) {
		perror("vmtop-slowfs: /dev/fuse");
		return 1;
	}
	snprintf(opts, sizeof opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,"
	    "allow_other", fd);
	if (mount("vmtop-slowfs", argv[1], "fuse.vmtop-slowfs",
	    MS_NOSUID | MS_NODEV, opts) == -1) {
		perror("vmtop-slowfs: mount");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if ((n = read(fd, buf, sizeof buf)) == -1) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			return errno == ENODEV ? 0 : 1;
		}
		if ((size_t)n < sizeof *in)
			continue;
		switch (in->opcode) {
		case FUSE_INIT:
			ii = (struct fuse_init_in *)(in + 1);
			memset(&io, 0, sizeof io);
			io.major = FUSE_KERNEL_VERSION;
			io.minor = ii->minor < FUSE_KERNEL_MINOR_VERSION ?
			    ii->minor : FUSE_KERNEL_MINOR_VERSION;
			io.max_readahead = ii->max_readahead;
			io.max_write = 4096;
			reply(fd, in->unique, 0, &io, sizeof io);
			break;
		case FUSE_GETATTR:
			memset(&ao, 0, sizeof ao);
			ao.attr.ino = 1;
			ao.attr.mode = S_IFDIR | 0755;
			ao.attr.nlink = 2;
			reply(fd, in->unique, 0, &ao, sizeof ao);
			break;
		case FUSE_LOOKUP:
			break;		/* never answered */
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;		/* no reply is expected */
		default:
			reply(fd, in->unique, -ENOSYS, NULL, 0);
			break;
		}
	}
}

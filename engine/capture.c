/*
 * Console capture: a ring of the last CAPTURE_SIZE bytes a VM wrote to
 * its console, kept after it stops, and a log file per VM, NAME.log,
 * rotated at its size limit into NAME.log.1 .. NAME.log.KEEP. Both belong
 * to the VM's owner: the log file is the owner's (when the engine is
 * root), and a new owner of the name starts with neither.
 * The ring is allocated on the first byte so idle VMs cost nothing, and
 * freed when the VM stops if the log holds every byte: a stopped VM's
 * capture is then the log's tail.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "xmalloc.h"

/* Rings are mapped, not malloc'd, so a freed one goes back at once. */
static void
capture_alloc(struct capture *cap)
{
	cap->buf = mmap(NULL, CAPTURE_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (cap->buf == MAP_FAILED)
		fatal("%s: mmap", __func__);
}

static void
capture_release(struct capture *cap)
{
	if (cap->buf != NULL)
		munmap(cap->buf, CAPTURE_SIZE);
	cap->buf = NULL;
	cap->len = cap->head = 0;
}

/* The uid a VM's log file belongs to: its owner's when we are root. */
static uid_t
capture_file_uid(const struct capture *cap)
{
	return geteuid() == 0 ? cap->owner : geteuid();
}

/* The path of log number i: NAME.log, then NAME.log.1 and on (malloc'd). */
static char *
capture_log_name(const struct capture *cap, uint32_t i)
{
	char *path;

	if (i == 0)
		return xstrdup(cap->logpath);
	xasprintf(&path, "%s.%u", cap->logpath, (unsigned)i);
	return path;
}

/* Remove NAME.log and every rotated one: another owner's output. */
static void
capture_remove_logs(struct capture *cap)
{
	char *path;
	uint32_t i;

	for (i = 0; i <= cap->log_keep; i++) {
		path = capture_log_name(cap, i);
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("%s: %s", __func__, path);
		free(path);
	}
}

/*
 * Open NAME.log for appending as a regular file (never through a
 * symlink), 0600 and the owner's; one that is not the owner's goes with
 * its rotated ones first. Returns -1 and sets errno.
 */
static int
capture_open_file(struct capture *cap)
{
	struct stat st;
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		fd = open(cap->logpath, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
		if (fd == -1)
			return -1;
		if (fstat(fd, &st) == -1) {
			close(fd);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		if (st.st_size == 0 && geteuid() == 0 &&
		    st.st_uid != cap->owner &&
		    fchown(fd, cap->owner, (gid_t)-1) == -1) {
			close(fd);
			return -1;
		}
		if (st.st_size == 0 || st.st_uid == capture_file_uid(cap)) {
			if ((st.st_mode & 07777) != 0600 &&
			    fchmod(fd, 0600) == -1) {
				close(fd);
				return -1;
			}
			cap->logsize = st.st_size;
			return fd;
		}
		close(fd);
		capture_remove_logs(cap);
	}
	errno = EEXIST;
	return -1;
}

/*
 * Open DIR/VM.log for appending, for a VM owned by owner, kept under
 * size bytes a file with keep rotated ones; returns -1 and sets errno.
 */
int
capture_open_log(struct capture *cap, const char *dir, const char *vm,
    uid_t owner, uint64_t size, uint32_t keep)
{
	int fd;

	capture_close_log(cap);
	capture_set_owner(cap, owner);
	free(cap->logpath);
	xasprintf(&cap->logpath, "%s/%s.log", dir, vm);
	cap->log_max = size > 0 ? size : 1;
	cap->log_keep = keep;
	cap->rotated = 0;
	fd = capture_open_file(cap);
	cap->log_ok = fd != -1;
	if (fd == -1)
		return -1;
	cap->logfd = fd;
	return 0;
}

/* NAME.log is full: shift the rotated ones up and start a new one. */
static int
capture_rotate(struct capture *cap)
{
	char *from, *to;
	uint32_t i;
	int rv = 0;

	capture_close_log(cap);
	for (i = cap->log_keep; i > 0 && rv == 0; i--) {
		from = capture_log_name(cap, i - 1);
		to = capture_log_name(cap, i);
		if (rename(from, to) == -1 && errno != ENOENT)
			rv = -1;
		free(from);
		free(to);
	}
	if (rv == 0 && cap->log_keep == 0 && unlink(cap->logpath) == -1 &&
	    errno != ENOENT)
		rv = -1;
	if (rv == -1)
		return -1;
	cap->rotated = 1;
	if ((cap->logfd = capture_open_file(cap)) == -1)
		return -1;
	return 0;
}

/* Append to the log, rotating at its size; on failure logging stops. */
static void
capture_write_log(struct capture *cap, const uint8_t *p, size_t len)
{
	size_t n;
	ssize_t w;

	while (len > 0 && cap->logfd != -1) {
		if (cap->logsize >= cap->log_max &&
		    capture_rotate(cap) == -1) {
			log_warn("%s: rotating %s", __func__, cap->logpath);
			break;
		}
		n = cap->log_max - cap->logsize;
		if (n > len)
			n = len;
		w = write(cap->logfd, p, n);
		if (w <= 0) {
			log_warn("%s: console log write", __func__);
			break;
		}
		cap->logsize += w;
		p += w;
		len -= w;
	}
	if (len > 0) {
		capture_close_log(cap);
		cap->log_ok = 0;
	}
}

/* Forget what was kept for another owner: a new owner starts empty. */
void
capture_set_owner(struct capture *cap, uid_t owner)
{
	if (cap->owner == owner)
		return;
	capture_release(cap);
	cap->from_log = 0;
	cap->owner = owner;
}

void
capture_init(struct capture *cap)
{
	memset(cap, 0, sizeof *cap);
	cap->logfd = -1;
	cap->owner = (uid_t)-1;
}

/* Keep bytes in the ring only. */
static void
capture_ring(struct capture *cap, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;

	if (len == 0)
		return;
	cap->from_log = 0;
	if (cap->buf == NULL)
		capture_alloc(cap);
	if (len > CAPTURE_SIZE) {
		p += len - CAPTURE_SIZE;
		len = CAPTURE_SIZE;
	}
	while (len > 0) {
		n = CAPTURE_SIZE - cap->head;
		if (n > len)
			n = len;
		memcpy(cap->buf + cap->head, p, n);
		cap->head = (cap->head + n) % CAPTURE_SIZE;
		p += n;
		len -= n;
		cap->len += n;
	}
	if (cap->len > CAPTURE_SIZE)
		cap->len = CAPTURE_SIZE;
}

void
capture_append(struct capture *cap, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (cap->logfd != -1)
		capture_write_log(cap, data, len);
	capture_ring(cap, data, len);
}

/* Read the last outlen bytes of the log into out. */
static size_t
capture_copy_log(struct capture *cap, uint8_t *out, size_t outlen)
{
	struct stat st;
	off_t from;
	ssize_t n;
	int fd;

	if ((fd = open(cap->logpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != capture_file_uid(cap)) {
		close(fd);
		return 0;
	}
	from = st.st_size > (off_t)outlen ? st.st_size - (off_t)outlen : 0;
	n = pread(fd, out, st.st_size - from, from);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

size_t
capture_copy(struct capture *cap, uint8_t *out, size_t outlen)
{
	size_t start, first, n = cap->len;

	if (cap->from_log)
		return capture_copy_log(cap, out, outlen < CAPTURE_SIZE ?
		    outlen : CAPTURE_SIZE);

	if (n > outlen)
		n = outlen;
	if (n == 0)
		return 0;
	/* The oldest of the last n bytes. */
	start = (cap->head + CAPTURE_SIZE - n) % CAPTURE_SIZE;
	first = CAPTURE_SIZE - start;
	if (first > n)
		first = n;
	memcpy(out, cap->buf + start, first);
	memcpy(out + first, cap->buf, n - first);
	return n;
}

void
capture_close_log(struct capture *cap)
{
	if (cap->logfd != -1)
		close(cap->logfd);
	cap->logfd = -1;
}

void
capture_stopped(struct capture *cap)
{
	capture_close_log(cap);
	/* A log just rotated may hold less than the ring: keep the ring. */
	if (!cap->log_ok || cap->logpath == NULL ||
	    (cap->rotated && cap->logsize < CAPTURE_SIZE))
		return;
	capture_release(cap);
	cap->from_log = 1;
}

void
capture_free(struct capture *cap)
{
	capture_close_log(cap);
	free(cap->logpath);
	cap->logpath = NULL;
	cap->from_log = 0;
	capture_release(cap);
}

/*
 * An adopted VM's log: DIR/VM.log opened again for appending, not
 * rotated, and the ring filled from its tail, so the capture goes on
 * where the earlier engine left it. Returns -1 and sets errno.
 */
int
capture_reopen_log(struct capture *cap, const char *dir, const char *vm,
    uid_t owner, uint64_t size, uint32_t keep)
{
	uint8_t *tail;
	size_t n;

	if (capture_open_log(cap, dir, vm, owner, size, keep) == -1)
		return -1;
	capture_release(cap);
	tail = xmalloc(CAPTURE_SIZE);
	n = capture_copy_log(cap, tail, CAPTURE_SIZE);
	capture_ring(cap, tail, n);
	free(tail);
	return 0;
}

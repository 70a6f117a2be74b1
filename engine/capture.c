/*
 * Console capture: a ring of the last CAPTURE_SIZE bytes a VM wrote to
 * its console, kept after it stops, and an append-only log file per VM.
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

void
capture_init(struct capture *cap)
{
	memset(cap, 0, sizeof *cap);
	cap->logfd = -1;
}

void
capture_append(struct capture *cap, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;
	ssize_t w;

	if (len == 0)
		return;
	if (cap->logfd != -1) {
		w = write(cap->logfd, data, len);
		if (w == -1 || (size_t)w != len) {
			log_warn("%s: console log write", __func__);
			capture_close_log(cap);
			cap->log_ok = 0;
		}
	}
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

/* Read the last outlen bytes of the log into out. */
static size_t
capture_copy_log(struct capture *cap, uint8_t *out, size_t outlen)
{
	struct stat st;
	off_t from;
	ssize_t n;
	int fd;

	if ((fd = open(cap->logpath, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == -1) {
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

/* Open DIR/VM.log for appending; returns -1 and sets errno. */
int
capture_open_log(struct capture *cap, const char *dir, const char *vm)
{
	int fd;

	capture_close_log(cap);
	free(cap->logpath);
	xasprintf(&cap->logpath, "%s/%s.log", dir, vm);
	fd = open(cap->logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640);
	cap->log_ok = fd != -1;
	if (fd == -1)
		return -1;
	cap->logfd = fd;
	return 0;
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
	if (!cap->log_ok || cap->logpath == NULL)
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

/*
 * Fuzz virtio-scsi's request parsing below the ring: the input picks a
 * queue, how the request is cut into device-readable and device-writable
 * buffers (each an exact-size heap block, so ASan sees any access past
 * one) and the readable bytes; one bit makes the LUN address valid so
 * most requests reach the CD-ROM unit. Several requests run on one
 * device over a small image; each must write no more than it was given.
 */
#include <sys/mman.h>
#include <sys/uio.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scsi.h"
#include "virtio.h"

#define FUZZ_IMAGE	(4 * SCSI_CD_BLOCK + 300)
#define FUZZ_SEGS	4
#define FUZZ_REQS	16

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_image(void)
{
	static int	fd = -1;
	static uint8_t	img[FUZZ_IMAGE];

	if (fd != -1)
		return fd;
	if ((fd = memfd_create("fuzz.iso", MFD_CLOEXEC)) == -1)
		abort();
	memset(img, 'x', sizeof img);
	if (write(fd, img, sizeof img) != sizeof img)
		abort();
	return fd;
}

/*
 * One request: [queue, nout, nin, flags], the lengths (one byte per
 * readable buffer, two per writable one), then the readable bytes.
 */
static size_t
fuzz_req(struct virtio_dev *dev, struct virtq_req *req, const uint8_t *p,
    size_t size)
{
	const uint8_t	*start = p;
	size_t		 len, i, nout, nin, avail;
	uint16_t	 queue;
	uint8_t		 flags;
	uint32_t	 used;

	if (size < 4)
		return size;
	queue = p[0] % 3;
	nout = p[1] % (FUZZ_SEGS + 1);
	nin = p[2] % (FUZZ_SEGS + 1);
	flags = p[3];
	p += 4;
	size -= 4;
	if (size < nout + 2 * nin)
		return p - start + size;
	memset(req, 0, sizeof *req);
	for (i = 0; i < nout; i++, p++, size--) {
		req->iov[i].iov_len = *p;
		req->out_len += *p;
	}
	for (i = 0; i < nin; i++, p += 2, size -= 2) {
		req->iov[nout + i].iov_len = (size_t)p[0] << 8 | p[1];
		req->in_len += req->iov[nout + i].iov_len;
	}
	req->nout = nout;
	req->nin = nin;
	for (i = 0; i < nout + nin; i++) {
		len = req->iov[i].iov_len;
		if ((req->iov[i].iov_base = malloc(len > 0 ? len : 1)) == NULL)
			abort();
		if (i >= nout)
			continue;
		avail = len < size ? len : size;
		memcpy(req->iov[i].iov_base, p, avail);
		memset((uint8_t *)req->iov[i].iov_base + avail, 0, len - avail);
		p += avail;
		size -= avail;
	}
	if ((flags & 1) && queue == 2 && nout > 0 &&
	    req->iov[0].iov_len >= 8)
		memcpy(req->iov[0].iov_base, "\x01\x00\x40\x00\0\0\0\0", 8);
	used = virtio_scsi_request(dev, queue, req);
	if (used > req->in_len)
		abort();
	for (i = 0; i < nout + nin; i++)
		free(req->iov[i].iov_base);
	return p - start;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vmm	 vmm;
	static struct virtq_req	 req;
	struct virtio_dev	*dev;
	size_t			 n;
	int			 i, fd;

	if ((fd = dup(fuzz_image())) == -1)
		abort();
	if ((dev = virtio_scsi_create(&vmm, fd, FUZZ_IMAGE, 0)) == NULL)
		abort();
	for (i = 0; i < FUZZ_REQS && size > 0; i++) {
		n = fuzz_req(dev, &req, data, size);
		data += n;
		size -= n;
	}
	virtio_dev_destroy(dev);
	return 0;
}

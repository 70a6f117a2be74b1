/*
 * Fuzz the SCSI CD-ROM unit: the input is a series of commands, each a
 * length byte (CDB length in the low 5 bits), a 16-bit data-in buffer
 * length and that many CDB bytes, run in order on one unit over a small
 * image (5 blocks and a partial one). The CDB and the buffer are heap
 * blocks of their exact lengths, so a read or write past either is an
 * ASan report; the status, the data length and the sense are checked.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scsi.h"

#define FUZZ_IMAGE	(5 * SCSI_CD_BLOCK + 700)
#define FUZZ_MAX_CMDS	64

static int
fuzz_image(void)
{
	static int	 fd = -1;
	uint8_t		*img;
	size_t		 i;

	if (fd != -1)
		return fd;
	if ((fd = memfd_create("fuzz.iso", MFD_CLOEXEC)) == -1)
		abort();
	if ((img = malloc(FUZZ_IMAGE)) == NULL)
		abort();
	for (i = 0; i < FUZZ_IMAGE; i++)
		img[i] = i / SCSI_CD_BLOCK + 1;
	if (write(fd, img, FUZZ_IMAGE) != FUZZ_IMAGE)
		abort();
	free(img);
	return fd;
}

static void
fuzz_cmd(struct scsi_cd *cd, const uint8_t *cdb, size_t cdblen,
    size_t maxlen)
{
	uint8_t	*c = malloc(cdblen > 0 ? cdblen : 1);
	uint8_t	*data = malloc(maxlen > 0 ? maxlen : 1);
	uint8_t	 sense[SCSI_SENSE_LEN];
	size_t	 datalen = ~(size_t)0;
	int	 st;

	if (c == NULL || data == NULL)
		abort();
	memcpy(c, cdb, cdblen);
	st = scsi_cd_exec(cd, c, cdblen, data, maxlen, &datalen);
	if (st != SCSI_GOOD && st != SCSI_CHECK_CONDITION)
		abort();
	if (datalen > maxlen || (st != SCSI_GOOD && datalen != 0))
		abort();
	if (scsi_cd_sense(cd, sense, sizeof sense) != sizeof sense ||
	    sense[0] != 0x70 || sense[7] != SCSI_SENSE_LEN - 8)
		abort();
	if ((st == SCSI_GOOD) != (sense[2] == SCSI_SK_NO_SENSE))
		abort();
	free(data);
	free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scsi_cd	cd;
	size_t		cdblen, maxlen, n;

	if (scsi_cd_init(&cd, fuzz_image(), FUZZ_IMAGE) != 0)
		abort();
	for (n = 0; n < FUZZ_MAX_CMDS && size >= 3; n++) {
		if (data[0] & 0x80)
			scsi_cd_change(&cd, data[0] & 0x40 ? -1 : fuzz_image(),
			    FUZZ_IMAGE);
		cdblen = data[0] & 0x1f;
		maxlen = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (cdblen > size)
			cdblen = size;
		fuzz_cmd(&cd, data, cdblen, maxlen);
		data += cdblen;
		size -= cdblen;
	}
	return 0;
}

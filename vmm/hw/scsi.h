/*
 * scsi.c: a SCSI/MMC CD-ROM logical unit (LUN 0) over an ISO image fd,
 * with no transport: a CDB goes in, a status, data-in bytes and sense
 * data come out. The commands are those SeaBIOS sends to boot El Torito
 * and Linux's sr driver and OpenBSD's cd(4) send to probe and read.
 */
#ifndef SCSI_H
#define SCSI_H

#include <stddef.h>
#include <stdint.h>

#define SCSI_CD_BLOCK		2048
#define SCSI_SENSE_LEN		18		/* fixed format */

/* Status bytes (SAM). */
#define SCSI_GOOD		0x00
#define SCSI_CHECK_CONDITION	0x02

/* Sense keys. */
#define SCSI_SK_NO_SENSE	0x00
#define SCSI_SK_NOT_READY	0x02
#define SCSI_SK_MEDIUM_ERROR	0x03
#define SCSI_SK_ILLEGAL_REQUEST	0x05
#define SCSI_SK_UNIT_ATTENTION	0x06

struct scsi_cd {
	int		fd;		/* the image, -1 for none */
	uint64_t	nblocks;	/* 2048-byte blocks, last one padded */
	int		loaded;		/* tray closed with a medium in it */
	int		tray_open;
	int		prevent;	/* PREVENT ALLOW MEDIUM REMOVAL */
	int		ua_pending;	/* a UNIT ATTENTION to report */
	uint8_t		ua_asc, ua_ascq;
	uint8_t		media_event;	/* for GET EVENT STATUS NOTIFICATION */
	uint8_t		sense_key, asc, ascq;	/* of the last command */
	char		serial[21];	/* VPD page 0x80, space-free ASCII */
};

/*
 * Set up the unit over fd (size_bytes of image; fd -1 and size 0 for an
 * empty drive). The first command other than INQUIRY, REQUEST SENSE,
 * REPORT LUNS, GET CONFIGURATION and GET EVENT STATUS NOTIFICATION
 * reports UNIT ATTENTION, POWER ON OR RESET, as a real drive does.
 * Returns 0, or -1 when size_bytes is not 0 but there is no fd.
 */
int	scsi_cd_init(struct scsi_cd *, int fd, uint64_t size_bytes);

/*
 * The host changes the medium: a new image (fd, size_bytes), or none
 * (fd -1). The guest sees UNIT ATTENTION, MEDIUM MAY HAVE CHANGED and a
 * media event.
 */
void	scsi_cd_change(struct scsi_cd *, int fd, uint64_t size_bytes);

/*
 * Execute one CDB of cdblen bytes. Data-in goes to data, at most maxlen
 * bytes and no more than the CDB's allocation length; *datalen is set
 * to the bytes written (0 on CHECK CONDITION). A READ larger than
 * maxlen transfers the first maxlen bytes. Returns SCSI_GOOD or
 * SCSI_CHECK_CONDITION; the sense data is then kept for REQUEST SENSE
 * and scsi_cd_sense(). Reads are pread()s on the fd.
 */
int	scsi_cd_exec(struct scsi_cd *, const uint8_t *cdb, size_t cdblen,
	    uint8_t *data, size_t maxlen, size_t *datalen);

/*
 * The sense data of the last command in fixed format (SCSI_SENSE_LEN
 * bytes, NO SENSE after a GOOD one), for a transport's autosense.
 * Copies at most len bytes; returns how many.
 */
size_t	scsi_cd_sense(const struct scsi_cd *, uint8_t *buf, size_t len);

/*
 * virtio/virtio_scsi.c: a virtio-scsi device (PCI 1af4:1048) with this
 * unit as target 0, LUN 0, over the ISO fd (size bytes; -1 for an empty
 * drive), on no transport yet. It owns fd from now on (also on failure).
 * Returns the device, or NULL with errno set.
 */
struct virtio_dev;
struct virtq_req;
struct vmm;
struct virtio_dev *virtio_scsi_create(struct vmm *, int fd, uint64_t size,
	    int index);
/*
 * One request popped from queue (0 control, 1 event, 2 request), for
 * unit tests and the queue loop; returns the bytes written to it.
 */
uint32_t	 virtio_scsi_request(struct virtio_dev *, uint16_t queue,
		    struct virtq_req *);

#endif

/* The disk layer: image formats behind one set of calls. */
#ifndef DISK_H
#define DISK_H

#include <stddef.h>

#include "proto.h"

/* The format of an open image, from its first bytes (raw unless known). */
enum disk_format disk_probe(int fd);
const char	*disk_format_name(enum disk_format);

/*
 * The base (backing) image an image reads through to: its path as stored
 * in the image, or "" when it has none (raw images never do). Returns 0,
 * or -1 with what is wrong with the image in err.
 */
int		 disk_base_path(int fd, enum disk_format, char *base,
		    size_t baselen, char *err, size_t errlen);

#endif

/* Sizes as people write them (512M, 2GiB, 4096B) and as vmtop shows them. */
#ifndef SIZE_H
#define SIZE_H

#include <stddef.h>
#include <stdint.h>

#define SIZE_KIB	(1ULL << 10)
#define SIZE_MIB	(1ULL << 20)
#define SIZE_GIB	(1ULL << 30)
#define SIZE_TIB	(1ULL << 40)

/*
 * Parse a size: digits, then K, M, G or T (either case) with an optional
 * B or iB, or B alone for bytes; digits alone count in unit. Zero is a
 * size here. Returns 0 with *bytes set, or -1 with errno EINVAL (not a
 * size) or ERANGE (more than 2^64 - 1 bytes).
 */
int	 size_scan(const char *, uint64_t unit, uint64_t *bytes);
/* size_scan() of a size that is not zero: zero is EINVAL. */
int	 size_parse(const char *, uint64_t unit, uint64_t *bytes);
/* Format bytes with the largest unit that fits: 512M, 1.5G, 100B. */
void	 size_format(uint64_t bytes, char *, size_t);

#endif

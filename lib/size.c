/* The one size parser of the config and every command, and its printer. */
#include <errno.h>
#include <stdio.h>

#include "size.h"

/* The multiplier of a unit letter, or 0 if c is none. */
static uint64_t
size_unit(char c)
{
	switch (c) {
	case 'k':
	case 'K':
		return SIZE_KIB;
	case 'm':
	case 'M':
		return SIZE_MIB;
	case 'g':
	case 'G':
		return SIZE_GIB;
	case 't':
	case 'T':
		return SIZE_TIB;
	}
	return 0;
}

int
size_scan(const char *s, uint64_t unit, uint64_t *bytes)
{
	const char	*p = s;
	uint64_t	 v = 0, mult = unit;
	int		 big = 0;

	if (*p < '0' || *p > '9') {
		errno = EINVAL;
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (*p - '0')) / 10)
			big = 1;
		else
			v = v * 10 + (*p - '0');
	}
	if (*p == 'b' || *p == 'B') {
		mult = 1;
		p++;
	} else if (*p != '\0') {
		if ((mult = size_unit(*p++)) == 0) {
			errno = EINVAL;
			return -1;
		}
		if (*p == 'i' || *p == 'I') {
			if (p[1] != 'b' && p[1] != 'B') {
				errno = EINVAL;
				return -1;
			}
			p++;
		}
		if (*p == 'b' || *p == 'B')
			p++;
	}
	if (*p != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (big || (mult != 0 && v > UINT64_MAX / mult)) {
		errno = ERANGE;
		return -1;
	}
	*bytes = v * mult;
	return 0;
}

int
size_parse(const char *s, uint64_t unit, uint64_t *bytes)
{
	uint64_t	v;

	if (size_scan(s, unit, &v) == -1)
		return -1;
	if (v == 0) {
		errno = EINVAL;
		return -1;
	}
	*bytes = v;
	return 0;
}

void
size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	uint64_t unit = 1024;
	int i = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return;
	}
	while (units[i + 1] != '\0' && bytes / 1024 >= unit) {
		unit *= 1024;
		i++;
	}
	if (bytes % unit == 0)
		snprintf(buf, len, "%llu%c",
		    (unsigned long long)(bytes / unit), units[i]);
	else
		snprintf(buf, len, "%.1f%c", (double)bytes / unit, units[i]);
}

/*
 * The one rule set for a VM's settings: what the config accepts, what an
 * ad hoc start may ask for and what the runner boots.
 */
#ifndef VMCHECK_H
#define VMCHECK_H

#include <stddef.h>
#include <stdint.h>

#define VMCHECK_MIN_MEMORY	(1ULL << 20)
#define VMCHECK_MAX_MEMORY	(1ULL << 40)

/*
 * Each returns NULL for an allowed value, else what is wrong with it as
 * a phrase that follows the setting and its value as written ("memory
 * 2T is too large (at most 1T)").
 */
const char	*vmcheck_memory(uint64_t bytes);
const char	*vmcheck_vcpus(int64_t);
const char	*vmcheck_path(const char *);
/* The same for a count, as a whole phrase ("too many disks (at most 8)"). */
const char	*vmcheck_disks(int64_t);
const char	*vmcheck_nics(int64_t);

/* A VM's settings, as a start or the runner gets them. */
struct vmcheck {
	const char	*name;
	uint64_t	 memory;
	int64_t		 vcpus;
	int64_t		 ndisks;
	int64_t		 nnics;
};

/*
 * Check every setting of one VM. Returns 0, or -1 with a sentence that
 * names the VM and the setting in err.
 */
int		 vmcheck(const struct vmcheck *, char *err, size_t errlen);

#endif

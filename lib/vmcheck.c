/* The limits of a VM's settings, checked the same way everywhere. */
#include <stdio.h>
#include <string.h>

#include "proto.h"
#include "size.h"
#include "vmcheck.h"

#define VMCHECK_STR(x)	VMCHECK_STR1(x)
#define VMCHECK_STR1(x)	#x

/* The phrases spell the limits out: keep them in step. */
_Static_assert(VMCHECK_MIN_MEMORY == SIZE_MIB, "memory phrase");
_Static_assert(VMCHECK_MAX_MEMORY == SIZE_TIB, "memory phrase");
_Static_assert(VM_PATH_SIZE == 1024, "path phrase");

const char *
vmcheck_memory(uint64_t bytes)
{
	if (bytes < VMCHECK_MIN_MEMORY)
		return "is too small (at least 1M)";
	if (bytes > VMCHECK_MAX_MEMORY)
		return "is too large (at most 1T)";
	return NULL;
}

const char *
vmcheck_vcpus(int64_t n)
{
	if (n < 1 || n > VM_MAX_VCPUS)
		return "is out of range (1 to " VMCHECK_STR(VM_MAX_VCPUS) ")";
	return NULL;
}

const char *
vmcheck_path(const char *path)
{
	if (strlen(path) >= VM_PATH_SIZE)
		return "is too long (at most 1023 characters)";
	return NULL;
}

const char *
vmcheck_disks(int64_t n)
{
	if (n > VM_MAX_DISKS)
		return "too many disks (at most " VMCHECK_STR(VM_MAX_DISKS) ")";
	return NULL;
}

const char *
vmcheck_nics(int64_t n)
{
	if (n > VM_MAX_NICS)
		return "too many interfaces (at most " VMCHECK_STR(VM_MAX_NICS)
		    ")";
	return NULL;
}

int
vmcheck(const struct vmcheck *vc, char *err, size_t errlen)
{
	const char	*why;
	char		 size[32];

	if ((why = vmcheck_memory(vc->memory)) != NULL) {
		size_format(vc->memory, size, sizeof size);
		snprintf(err, errlen, "vm %s: memory %s %s", vc->name, size,
		    why);
		return -1;
	}
	if ((why = vmcheck_vcpus(vc->vcpus)) != NULL) {
		snprintf(err, errlen, "vm %s: vcpus %lld %s", vc->name,
		    (long long)vc->vcpus, why);
		return -1;
	}
	if ((why = vmcheck_disks(vc->ndisks)) == NULL)
		why = vmcheck_nics(vc->nnics);
	if (why != NULL) {
		snprintf(err, errlen, "vm %s: %s", vc->name, why);
		return -1;
	}
	return 0;
}

/*
 * The start rate limit, as vmd's config_setvm applies it: a start less
 * than 6 s after the previous start of the same VM is fast, and the
 * third fast start in a row is refused. A slow start resets the count.
 */
#include <time.h>

#include "engine.h"

uint64_t
ratelimit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Returns 0 if the start may go on, -1 if it comes too quickly. */
int
ratelimit_start(struct ratelimit *rl, uint64_t now_ns)
{
	if (rl->last_ns != 0 && now_ns - rl->last_ns < RATELIMIT_FAST_NS)
		rl->fast++;
	else
		rl->fast = 0;
	rl->last_ns = now_ns;
	if (rl->fast >= RATELIMIT_MAX_FAST) {
		ratelimit_reset(rl);
		return -1;
	}
	return 0;
}

void
ratelimit_reset(struct ratelimit *rl)
{
	rl->last_ns = 0;
	rl->fast = 0;
}

/* Names for protocol values shared by the engine and its clients. */
#include "proto.h"

static const char *proto_state_names[VM_STATE_COUNT] = {
	[VM_STOPPED] = "stopped",
	[VM_STARTING] = "starting",
	[VM_RUNNING] = "running",
	[VM_PAUSED] = "paused",
	[VM_STOPPING] = "stopping",
	[VM_FAILED] = "failed",
};

const char *
proto_state_name(uint32_t state)
{
	if (state >= VM_STATE_COUNT)
		return "unknown";
	return proto_state_names[state];
}

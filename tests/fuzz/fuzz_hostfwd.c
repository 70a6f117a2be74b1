/*
 * libFuzzer target for the hostfwd rules a client sends the engine
 * (forward, unforward) and the engine sends vmtop-slirp: the forward form
 * and vm.conf's form (lib/hostfwd.c), and the helper's control message
 * (lib/slirpmsg.c). The first byte picks the use: 0 the forward form, 1
 * unforward's, 2 vm.conf's, 3 a control datagram; the rest is the input.
 * A rule that is accepted must be written out as one that vm.conf's
 * parser reads back as the same rule.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostfwd.h"
#include "msg.h"
#include "slirpmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* hf, written out, reads back as itself (host_only: the host side). */
static void
check_written(const struct hostfwd *hf, int host_only)
{
	struct hostfwd	back;
	char		out[VM_HOSTFWD_SIZE];

	hostfwd_format(hf, out, sizeof out);
	if (memchr(out, '\0', sizeof out) == NULL)
		abort();
	if (host_only && hf->guest_port == 0)
		return;
	if (hostfwd_parse(out, &back) != NULL ||
	    memcmp(hf, &back, sizeof back) != 0 || !hostfwd_same(hf, &back))
		abort();
	if (hf->host_port == 0 || hf->guest_port == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_slirp_hostfwd	 ph;
	struct hostfwd			 hf;
	const char			*why;
	char				 rule[VM_HOSTFWD_SIZE + 16];
	char				 err[PROTO_TEXT_SIZE];
	uint32_t			 type;
	size_t				 len;

	if (size == 0)
		return 0;
	len = size - 1 < sizeof rule - 1 ? size - 1 : sizeof rule - 1;
	memcpy(rule, data + 1, len);
	rule[len] = '\0';
	switch (data[0] & 3) {
	case 0:
	case 1:
		why = hostfwd_parse_forward(rule, data[0] & 1, &hf);
		if (why == NULL)
			check_written(&hf, data[0] & 1);
		else if (*why == '\0')
			abort();
		break;
	case 2:
		if (hostfwd_parse(rule, &hf) == NULL)
			check_written(&hf, 0);
		break;
	case 3:
		memset(err, 0, sizeof err);
		if (slirpmsg_parse_hostfwd(data + 1, size - 1, &type, &ph, &hf,
		    err, sizeof err) == 0) {
			if (memchr(ph.rule, '\0', sizeof ph.rule) == NULL ||
			    (type != MSG_SLIRP_HOSTFWD_ADD &&
			    type != MSG_SLIRP_HOSTFWD_REMOVE))
				abort();
			check_written(&hf, 0);
		} else if (err[0] == '\0' ||
		    memchr(err, '\0', sizeof err) == NULL)
			abort();
		break;
	}
	return 0;
}

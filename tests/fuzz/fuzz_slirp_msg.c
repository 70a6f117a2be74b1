/*
 * libFuzzer target for vmtop-slirp's configuration message: what the
 * helper does with its first datagram (lib/slirpmsg.c). The first byte
 * picks how the input is used: even, it is the whole datagram; odd, it is
 * written over a good configuration from an offset the next two bytes
 * give, behind a good header, so the field and rule checks are reached.
 * A configuration that passes must hold what the helper relies on.
 */
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostfwd.h"
#include "msg.h"
#include "slirpmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the helper relies on once a configuration is accepted. */
static void
check_accepted(const struct proto_slirp_config *sc)
{
	struct hostfwd	hf;
	uint32_t	i, m = ntohl(sc->netmask);
	char		why[PROTO_TEXT_SIZE];

	if (sc->mtu < SLIRP_MTU_MIN || sc->mtu > SLIRP_MTU_MAX ||
	    sc->nhostfwd > VM_MAX_HOSTFWD || sc->nic >= VM_MAX_NICS ||
	    memchr(sc->name, '\0', sizeof sc->name) == NULL)
		abort();
	if ((ntohl(sc->host) & m) != ntohl(sc->network) ||
	    (ntohl(sc->dhcp_start) & m) != ntohl(sc->network))
		abort();
	for (i = 0; i < sc->nhostfwd; i++) {
		if (memchr(sc->hostfwd[i], '\0', VM_HOSTFWD_SIZE) == NULL ||
		    hostfwd_parse(sc->hostfwd[i], &hf) != NULL ||
		    hf.host_port == 0 || hf.guest_port == 0)
			abort();
		if (hf.guest_addr.s_addr != 0 &&
		    (ntohl(hf.guest_addr.s_addr) & m) != ntohl(sc->network))
			abort();
	}
	if (slirpmsg_check(sc, why, sizeof why) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t			 buf[sizeof(struct msg_hdr) +
					     sizeof(struct proto_slirp_config)];
	struct proto_slirp_config	 good, sc;
	struct msg_hdr			 hdr;
	char				 why[PROTO_TEXT_SIZE];
	const uint8_t			*in = data;
	size_t				 len = size, off;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		slirpmsg_defaults(&good);
		strcpy(good.name, "fuzz");
		strcpy(good.hostfwd[0], "tcp:127.0.0.1:2222-:22");
		strcpy(good.hostfwd[1], "udp::5353-10.0.2.15:53");
		good.nhostfwd = 2;
		memset(&hdr, 0, sizeof hdr);
		hdr.type = MSG_SLIRP_CONFIG;
		hdr.len = sizeof good;
		memcpy(buf, &hdr, sizeof hdr);
		memcpy(buf + sizeof hdr, &good, sizeof good);
		off = size >= 3 ? (size_t)(data[1] << 8 | data[2]) %
		    sizeof good : 0;
		in = size >= 3 ? data + 3 : data + size;
		len = size >= 3 ? size - 3 : 0;
		if (len > sizeof good - off)
			len = sizeof good - off;
		memcpy(buf + sizeof hdr + off, in, len);
		in = buf;
		len = sizeof buf;
	} else {
		in++;
		len--;
	}
	memset(why, 0, sizeof why);
	if (slirpmsg_parse(in, len, &sc, why, sizeof why) == 0)
		check_accepted(&sc);
	else if (why[0] == '\0' || memchr(why, '\0', sizeof why) == NULL)
		abort();
	return 0;
}

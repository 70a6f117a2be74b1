/*
 * The restricted guest's filter, in front of libslirp (whose own
 * "restricted" mode would also cut the guest off from the host and
 * from UDP hostfwd answers). A restricted guest may send ARP, DHCP,
 * anything to the host (the gateway address, which libslirp maps to the
 * host's loopback), pings to the DNS address (libslirp answers them
 * itself), TCP segments that open no connection (libslirp only connects
 * on a bare SYN, so these can only belong to a hostfwd connection or be
 * answered with a reset) and UDP from the guest port of a UDP hostfwd
 * rule. Later fragments pass: the first fragment decides, and must hold
 * the whole TCP or UDP header, which reassembly keeps.
 */
#include <arpa/inet.h>

#include <string.h>

#include "hostfwd.h"
#include "usernet.h"

#define GUARD_ETH_HLEN		14
#define GUARD_ETHERTYPE_IP	0x0800
#define GUARD_ETHERTYPE_ARP	0x0806
#define GUARD_IP_MF		0x2000
#define GUARD_IP_OFFMASK	0x1fff
#define GUARD_TH_SYN		0x02
#define GUARD_TH_ACK		0x10
#define GUARD_DHCP_SERVER	67

void
guard_init(struct guard *g, const struct proto_slirp_config *sc)
{
	struct hostfwd	hf;
	uint32_t	i;

	memset(g, 0, sizeof *g);
	g->restricted = (sc->flags & SLIRPF_RESTRICTED) != 0;
	g->host = sc->host;
	g->dns = sc->dns;
	g->network = sc->network;
	g->netmask = sc->netmask;
	for (i = 0; i < sc->nhostfwd && i < VM_MAX_HOSTFWD; i++) {
		if (hostfwd_parse(sc->hostfwd[i], &hf) == NULL && hf.udp)
			guard_udp(g, hf.guest_port, 1);
	}
}

void
guard_udp(struct guard *g, uint16_t port, int add)
{
	int	i;

	if (add) {
		if (g->nudp < (int)(sizeof g->udp_ports /
		    sizeof g->udp_ports[0]))
			g->udp_ports[g->nudp++] = port;
		return;
	}
	for (i = 0; i < g->nudp; i++) {
		if (g->udp_ports[i] != port)
			continue;
		g->udp_ports[i] = g->udp_ports[--g->nudp];
		return;
	}
}

static uint16_t
guard_get16(const uint8_t *p)
{
	return (uint16_t)p[0] << 8 | p[1];
}

/* UDP from sport: only from the guest port of a UDP hostfwd rule. */
static int
guard_udp_port(const struct guard *g, uint16_t sport)
{
	int	i;

	for (i = 0; i < g->nudp; i++)
		if (g->udp_ports[i] == sport)
			return 1;
	return 0;
}

/* An IPv4 packet of len bytes from a restricted guest. */
static int
guard_ip(const struct guard *g, const uint8_t *ip, size_t len)
{
	const uint8_t	*l4;
	uint32_t	 dst, bcast;
	size_t		 ihl, tot, l4len;
	uint16_t	 frag;

	if (len < 20 || (ip[0] >> 4) != 4)
		return 0;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = guard_get16(ip + 2);
	if (ihl < 20 || tot < ihl || tot > len)
		return 0;
	memcpy(&dst, ip + 16, sizeof dst);
	if (dst == g->host)
		return 1;
	frag = guard_get16(ip + 6);
	if ((frag & GUARD_IP_OFFMASK) != 0)
		return 1;
	l4 = ip + ihl;
	l4len = tot - ihl;
	bcast = g->network | ~g->netmask;
	switch (ip[9]) {
	case IPPROTO_ICMP:
		return dst == g->dns && (frag & GUARD_IP_MF) == 0;
	case IPPROTO_TCP:
		if (l4len < 20)
			return 0;
		return (l4[13] & (GUARD_TH_SYN | GUARD_TH_ACK)) != GUARD_TH_SYN;
	case IPPROTO_UDP:
		if (l4len < 8)
			return 0;
		if ((dst == INADDR_BROADCAST || dst == bcast) &&
		    guard_get16(l4 + 2) == GUARD_DHCP_SERVER)
			return 1;
		return guard_udp_port(g, guard_get16(l4));
	}
	return 0;
}

int
guard_pass(const struct guard *g, const uint8_t *frame, size_t len)
{
	uint16_t	type;

	if (!g->restricted)
		return 1;
	if (len < GUARD_ETH_HLEN)
		return 0;
	type = guard_get16(frame + 12);
	if (type == GUARD_ETHERTYPE_ARP)
		return 1;
	if (type == GUARD_ETHERTYPE_IP)
		return guard_ip(g, frame + GUARD_ETH_HLEN,
		    len - GUARD_ETH_HLEN);
	return 0;
}

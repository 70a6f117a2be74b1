/*
 * hostfwd rules of a user-mode interface, as vm.conf writes them:
 * tcp|udp:[hostaddr]:hostport-[guestaddr]:guestport. One parser serves
 * the engine's config checks and vmtop-slirp, which parses the rules
 * again from its configuration message.
 */
#ifndef HOSTFWD_H
#define HOSTFWD_H

#include <netinet/in.h>

#include <stdint.h>

struct hostfwd {
	int		udp;		/* 0 for tcp */
	struct in_addr	host_addr;	/* INADDR_ANY when left out */
	uint16_t	host_port;	/* host byte order */
	struct in_addr	guest_addr;	/* INADDR_ANY: DHCP's first */
	uint16_t	guest_port;
};

/*
 * Parse rule into hf (which may be NULL). Returns NULL if the rule is
 * good, else what is wrong with it, as a phrase for "invalid hostfwd
 * rule ...: PHRASE".
 */
const char	*hostfwd_parse(const char *rule, struct hostfwd *hf);
/*
 * Whether two good rules would bind the same host port: the same
 * protocol and port, on the same address or on any.
 */
int		 hostfwd_clash(const struct hostfwd *,
		    const struct hostfwd *);

#endif

/*
 * hostfwd rules of a user-mode interface, as vm.conf writes them:
 * tcp|udp:[hostaddr]:hostport-[guestaddr]:guestport. One parser serves
 * the engine's config checks and vmtop-slirp, which parses the rules
 * again from its configuration message. The forward command's shorter
 * form, [tcp|udp:][hostaddr:]hostport-[guestaddr]:guestport, goes
 * through the same pieces and is written out in vm.conf's form.
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
 * Parse a rule as forward and unforward take it: the protocol may be
 * left out (tcp), and so may the host address (127.0.0.1, also when
 * empty: 0.0.0.0 says every address). With host_only (unforward) the
 * guest side may be left out too, dash and all; its port is then 0.
 * Returns NULL if the rule is good, else a phrase as hostfwd_parse's.
 */
const char	*hostfwd_parse_forward(const char *rule, int host_only,
		    struct hostfwd *hf);
/*
 * Write a good rule in vm.conf's form, which hostfwd_parse reads back
 * as the same rule: "tcp:127.0.0.1:8080-:80". Returns buf.
 */
char		*hostfwd_format(const struct hostfwd *, char *buf,
		    size_t len);
/* Whether two rules name the same forward: protocol, address, port. */
int		 hostfwd_same(const struct hostfwd *,
		    const struct hostfwd *);
/*
 * Whether two good rules would bind the same host port: the same
 * protocol and port, on the same address or on any.
 */
int		 hostfwd_clash(const struct hostfwd *,
		    const struct hostfwd *);

#endif

/* The hostfwd rule parser shared by the engine and vmtop-slirp. */
#include <arpa/inet.h>

#include <string.h>

#include "hostfwd.h"
#include "proto.h"

#define HOSTFWD_USAGE \
	"expected tcp|udp:[hostaddr]:hostport-[guestaddr]:guestport"

/* A port: 1 to 65535, decimal digits only. Returns NULL if it is good. */
static const char *
hostfwd_port(const char *s, size_t len, uint16_t *out)
{
	size_t		i;
	uint32_t	v = 0;

	if (len == 0 || len > 5)
		return "ports are numbers from 1 to 65535";
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return "ports are numbers from 1 to 65535";
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return "ports are numbers from 1 to 65535";
	*out = v;
	return NULL;
}

/* An IPv4 address, or nothing for INADDR_ANY. NULL if it is good. */
static const char *
hostfwd_addr(const char *s, size_t len, struct in_addr *out)
{
	char	tmp[INET_ADDRSTRLEN];

	out->s_addr = htonl(INADDR_ANY);
	if (len == 0)
		return NULL;
	if (len >= sizeof tmp)
		return "addresses are IPv4 dotted quads";
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, out) != 1)
		return "addresses are IPv4 dotted quads";
	return NULL;
}

const char *
hostfwd_parse(const char *rule, struct hostfwd *hf)
{
	struct hostfwd	 tmp;
	const char	*p, *colon, *dash, *why;

	if (hf == NULL)
		hf = &tmp;
	memset(hf, 0, sizeof *hf);
	if (strnlen(rule, VM_HOSTFWD_SIZE) >= VM_HOSTFWD_SIZE)
		return "too long";
	if (strncmp(rule, "tcp:", 4) == 0)
		hf->udp = 0;
	else if (strncmp(rule, "udp:", 4) == 0)
		hf->udp = 1;
	else
		return HOSTFWD_USAGE;
	p = rule + 4;
	if ((dash = strchr(p, '-')) == NULL)
		return HOSTFWD_USAGE;
	if ((colon = memchr(p, ':', dash - p)) == NULL)
		return HOSTFWD_USAGE;
	if ((why = hostfwd_addr(p, colon - p, &hf->host_addr)) != NULL ||
	    (why = hostfwd_port(colon + 1, dash - colon - 1,
	    &hf->host_port)) != NULL)
		return why;
	p = dash + 1;
	if ((colon = strchr(p, ':')) == NULL)
		return HOSTFWD_USAGE;
	if ((why = hostfwd_addr(p, colon - p, &hf->guest_addr)) != NULL)
		return why;
	return hostfwd_port(colon + 1, strlen(colon + 1), &hf->guest_port);
}

int
hostfwd_clash(const struct hostfwd *a, const struct hostfwd *b)
{
	if (a->udp != b->udp || a->host_port != b->host_port)
		return 0;
	return a->host_addr.s_addr == b->host_addr.s_addr ||
	    a->host_addr.s_addr == htonl(INADDR_ANY) ||
	    b->host_addr.s_addr == htonl(INADDR_ANY);
}

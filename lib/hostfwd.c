/* The hostfwd rule parser shared by the engine and vmtop-slirp. */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "hostfwd.h"
#include "proto.h"

#define HOSTFWD_USAGE \
	"expected tcp|udp:[hostaddr]:hostport-[guestaddr]:guestport"
#define FORWARD_USAGE \
	"expected [tcp|udp:][hostaddr:]hostport-[guestaddr]:guestport"

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

/* "tcp:" or "udp:" at the start of p: its length, or 0 for neither. */
static size_t
hostfwd_proto(const char *p, int *udp)
{
	if (strncmp(p, "tcp:", 4) == 0) {
		*udp = 0;
		return 4;
	}
	if (strncmp(p, "udp:", 4) == 0) {
		*udp = 1;
		return 4;
	}
	return 0;
}

/* The guest side, "[guestaddr]:guestport" from p on. NULL if good. */
static const char *
hostfwd_guest(const char *p, const char *usage, struct hostfwd *hf)
{
	const char	*colon, *why;

	if ((colon = strchr(p, ':')) == NULL)
		return usage;
	if ((why = hostfwd_addr(p, colon - p, &hf->guest_addr)) != NULL)
		return why;
	return hostfwd_port(colon + 1, strlen(colon + 1), &hf->guest_port);
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
	if (hostfwd_proto(rule, &hf->udp) == 0)
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
	return hostfwd_guest(dash + 1, HOSTFWD_USAGE, hf);
}

const char *
hostfwd_parse_forward(const char *rule, int host_only, struct hostfwd *hf)
{
	struct hostfwd	 tmp;
	const char	*p, *end, *colon, *why;
	size_t		 addrlen;

	if (hf == NULL)
		hf = &tmp;
	memset(hf, 0, sizeof *hf);
	if (strnlen(rule, VM_HOSTFWD_SIZE) >= VM_HOSTFWD_SIZE)
		return "too long";
	p = rule + hostfwd_proto(rule, &hf->udp);
	if ((end = strchr(p, '-')) == NULL) {
		if (!host_only)
			return FORWARD_USAGE;
		end = p + strlen(p);
	}
	if ((colon = memchr(p, ':', end - p)) != NULL) {
		addrlen = colon - p;
		if ((why = hostfwd_addr(p, addrlen, &hf->host_addr)) != NULL)
			return why;
		p = colon + 1;
	} else
		addrlen = 0;
	if (addrlen == 0)
		hf->host_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((why = hostfwd_port(p, end - p, &hf->host_port)) != NULL)
		return why;
	if (*end == '\0')
		return NULL;
	return hostfwd_guest(end + 1, FORWARD_USAGE, hf);
}

char *
hostfwd_format(const struct hostfwd *hf, char *buf, size_t len)
{
	char	host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN] = "";

	inet_ntop(AF_INET, &hf->host_addr, host, sizeof host);
	if (hf->guest_addr.s_addr != htonl(INADDR_ANY))
		inet_ntop(AF_INET, &hf->guest_addr, guest, sizeof guest);
	snprintf(buf, len, "%s:%s:%u-%s:%u", hf->udp ? "udp" : "tcp", host,
	    hf->host_port, guest, hf->guest_port);
	return buf;
}

int
hostfwd_same(const struct hostfwd *a, const struct hostfwd *b)
{
	return a->udp == b->udp && a->host_port == b->host_port &&
	    a->host_addr.s_addr == b->host_addr.s_addr;
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

/*
 * Unit tests for lib/slirpmsg.c: how vmtop-slirp checks the
 * configuration the engine sends it (every field, every rule) and the
 * rules it adds and removes later, and the one-datagram-per-message
 * exchange over a SOCK_SEQPACKET socketpair.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostfwd.h"
#include "msg.h"
#include "slirpmsg.h"

static struct proto_slirp_config	sc;

static int
setup(void **state)
{
	(void)state;
	slirpmsg_defaults(&sc);
	snprintf(sc.name, sizeof sc.name, "web");
	return 0;
}

static uint32_t
ip(const char *s)
{
	struct in_addr	in;

	assert_int_equal(inet_pton(AF_INET, s, &in), 1);
	return in.s_addr;
}

static void
rule(const char *r)
{
	snprintf(sc.hostfwd[sc.nhostfwd], sizeof sc.hostfwd[0], "%s", r);
	sc.nhostfwd++;
}

static void
good(void)
{
	char	why[PROTO_TEXT_SIZE] = "";

	if (slirpmsg_check(&sc, why, sizeof why) != 0)
		print_error("refused: %s\n", why);
	assert_int_equal(slirpmsg_check(&sc, why, sizeof why), 0);
}

/* The check must fail with a sentence that contains want. */
static void
bad(const char *want)
{
	char	why[PROTO_TEXT_SIZE] = "";

	assert_int_equal(slirpmsg_check(&sc, why, sizeof why), -1);
	if (strstr(why, want) == NULL)
		print_error("got \"%s\", want \"%s\"\n", why, want);
	assert_non_null(strstr(why, want));
}

static void
test_defaults(void **state)
{
	(void)state;
	good();
	assert_int_equal(sc.network, ip("10.0.2.0"));
	assert_int_equal(sc.netmask, ip("255.255.255.0"));
	assert_int_equal(sc.host, ip("10.0.2.2"));
	assert_int_equal(sc.dns, ip("10.0.2.3"));
	assert_int_equal(sc.dhcp_start, ip("10.0.2.15"));
	assert_int_equal(sc.mtu, 65520);
	assert_int_equal(sc.flags, SLIRPF_RESTRICTED);
	assert_int_equal(sc.nhostfwd, 0);
}

static void
test_flags_name_nic(void **state)
{
	(void)state;
	sc.flags = SLIRPF_RESTRICTED | SLIRPF_VERBOSE | SLIRPF_SYSLOG;
	good();
	sc.flags = 0;
	good();
	sc.flags = 0x8;
	bad("unknown flags 0x8");
	setup(NULL);
	memset(sc.name, 'a', sizeof sc.name);
	bad("vm name is not terminated");
	setup(NULL);
	snprintf(sc.name, sizeof sc.name, "a b");
	bad("not printable");
	snprintf(sc.name, sizeof sc.name, "a\033[2J");
	bad("not printable");
	setup(NULL);
	sc.nic = VM_MAX_NICS - 1;
	good();
	sc.nic = VM_MAX_NICS;
	bad("interface 4");
}

static void
test_network(void **state)
{
	(void)state;
	sc.netmask = 0;
	bad("bad netmask");
	sc.netmask = ip("255.0.255.0");
	bad("bad netmask");
	sc.netmask = ip("255.255.255.254");
	bad("bad netmask");
	sc.netmask = ip("255.255.255.255");
	bad("bad netmask");
	sc.netmask = ip("255.255.0.0");
	bad("network 10.0.2.0/16 has host bits set");
	sc.network = ip("10.0.0.0");
	good();
	setup(NULL);
	sc.network = ip("10.0.2.1");
	bad("network 10.0.2.1/24 has host bits set");
	setup(NULL);
	sc.host = ip("10.0.3.2");
	bad("the host and DNS addresses");
	setup(NULL);
	sc.dns = sc.host;
	bad("the host and DNS addresses");
	setup(NULL);
	sc.host = ip("10.0.2.0");
	bad("the host and DNS addresses");
	setup(NULL);
	sc.dns = ip("10.0.2.255");
	bad("the host and DNS addresses");
}

static void
test_dhcp_range(void **state)
{
	(void)state;
	sc.dhcp_start = ip("10.0.2.239");
	good();
	sc.dhcp_start = ip("10.0.2.240");	/* .255 is the broadcast */
	bad("DHCP addresses");
	sc.dhcp_start = ip("10.0.2.1");	/* .1 to .16 hold the host */
	bad("DHCP addresses");
	sc.dhcp_start = ip("10.0.2.4");
	good();
	sc.dhcp_start = ip("192.168.0.15");
	bad("DHCP addresses");
}

static void
test_mtu(void **state)
{
	(void)state;
	sc.mtu = SLIRP_MTU_MIN;
	good();
	sc.mtu = SLIRP_MTU_MAX;
	good();
	sc.mtu = SLIRP_MTU_MIN - 1;
	bad("MTU 575");
	sc.mtu = SLIRP_MTU_MAX + 1;
	bad("MTU 65522");
	sc.mtu = 0;
	bad("MTU 0");
}

static void
test_rules(void **state)
{
	int	i;

	(void)state;
	rule("tcp:127.0.0.1:2222-:22");
	rule("udp::5353-10.0.2.15:53");
	rule("tcp::8080-10.0.2.16:80");
	good();
	setup(NULL);
	for (i = 0; i < VM_MAX_HOSTFWD; i++) {
		char r[32];

		snprintf(r, sizeof r, "tcp::%d-:%d", 1000 + i, 1 + i);
		rule(r);
	}
	good();
	sc.nhostfwd = VM_MAX_HOSTFWD + 1;
	bad("9 hostfwd rules (at most 8)");
	sc.nhostfwd = UINT32_MAX;
	bad("hostfwd rules (at most 8)");
	setup(NULL);
	rule("tcp::22:22");
	bad("invalid hostfwd rule \"tcp::22:22\": expected tcp|udp:");
	setup(NULL);
	sc.nhostfwd = 1;
	memset(sc.hostfwd[0], 't', sizeof sc.hostfwd[0]);
	bad("hostfwd rule 0 is not terminated");
	/* Rules past nhostfwd are not looked at. */
	setup(NULL);
	memset(sc.hostfwd[3], 'x', sizeof sc.hostfwd[3]);
	good();
}

static void
test_rule_guest_address(void **state)
{
	(void)state;
	rule("tcp::22-10.0.3.15:22");
	bad("hostfwd \"tcp::22-10.0.3.15:22\": the guest address");
	setup(NULL);
	rule("tcp::22-10.0.2.2:22");
	bad("the guest address is not a guest's in 10.0.2.0/24");
	setup(NULL);
	rule("tcp::22-10.0.2.3:22");
	bad("the guest address");
	setup(NULL);
	rule("tcp::22-10.0.2.255:22");
	bad("the guest address");
	setup(NULL);
	rule("tcp::22-10.0.2.100:22");
	good();
}

static void
test_rule_same_port(void **state)
{
	(void)state;
	rule("tcp::2222-:22");
	rule("udp::2222-:22");
	good();
	rule("tcp:127.0.0.1:2222-:23");
	bad("hostfwd \"tcp::2222-:22\" and \"tcp:127.0.0.1:2222-:23\" use the "
	    "same host port");
	setup(NULL);
	rule("tcp:127.0.0.1:2222-:22");
	rule("tcp:127.0.0.2:2222-:23");
	good();
	rule("tcp:127.0.0.2:2222-:24");
	bad("use the same host port");
}

/* A datagram: the header, then the configuration (len bytes of it). */
static size_t
datagram(uint8_t *buf, uint32_t type, uint32_t flags, uint32_t hlen,
    size_t len)
{
	struct msg_hdr	hdr;

	memset(&hdr, 0, sizeof hdr);
	hdr.type = type;
	hdr.len = hlen;
	hdr.flags = flags;
	hdr.peerid = 42;
	memcpy(buf, &hdr, sizeof hdr);
	memcpy(buf + sizeof hdr, &sc, len > sizeof sc ? sizeof sc : len);
	if (len > sizeof sc)
		memset(buf + sizeof hdr + sizeof sc, 0, len - sizeof sc);
	return sizeof hdr + len;
}

static void
parse_bad(const uint8_t *buf, size_t len, const char *want)
{
	struct proto_slirp_config	out;
	char				why[PROTO_TEXT_SIZE] = "";

	assert_int_equal(slirpmsg_parse(buf, len, &out, why, sizeof why), -1);
	if (strstr(why, want) == NULL)
		print_error("got \"%s\", want \"%s\"\n", why, want);
	assert_non_null(strstr(why, want));
}

static void
test_parse(void **state)
{
	struct proto_slirp_config	out;
	uint8_t				buf[sizeof(struct msg_hdr) +
					    sizeof sc + 16];
	char				why[PROTO_TEXT_SIZE];
	size_t				n, size = sizeof sc;

	(void)state;
	rule("tcp::2222-:22");
	n = datagram(buf, MSG_SLIRP_CONFIG, 0, size, size);
	memset(&out, 0, sizeof out);
	assert_int_equal(slirpmsg_parse(buf, n, &out, why, sizeof why), 0);
	assert_memory_equal(&out, &sc, sizeof sc);

	parse_bad(buf, 0, "short message (0 bytes)");
	parse_bad(buf, sizeof(struct msg_hdr) - 1, "short message");
	parse_bad(buf, sizeof(struct msg_hdr), "configuration of 0 bytes");
	parse_bad(buf, n - 1, "not " );
	n = datagram(buf, MSG_SLIRP_CONFIG, 0, size, size + 1);
	parse_bad(buf, n, "configuration of");
	n = datagram(buf, MSG_SLIRP_CONFIG, 0, size + 1, size + 1);
	parse_bad(buf, n, "configuration of");
	n = datagram(buf, MSG_SLIRP_CONFIG, 0, size - 1, size);
	parse_bad(buf, n, "configuration of");
	n = datagram(buf, MSG_OK, 0, size, size);
	parse_bad(buf, n, "unexpected message type 2");
	n = datagram(buf, MSG_SLIRP_CONFIG, MSG_F_FD, size, size);
	parse_bad(buf, n, "unexpected message flags 0x1");
	/* A well-formed message with a bad field is checked too. */
	sc.mtu = 1;
	n = datagram(buf, MSG_SLIRP_CONFIG, 0, size, size);
	parse_bad(buf, n, "MTU 1");
}

/* A control datagram: the header (hlen), then len bytes of ph. */
static size_t
control(uint8_t *buf, uint32_t type, uint32_t hlen, size_t len,
    const char *r)
{
	struct proto_slirp_hostfwd	ph;
	struct msg_hdr			hdr;

	memset(&ph, 0, sizeof ph);
	snprintf(ph.rule, sizeof ph.rule, "%s", r);
	memset(&hdr, 0, sizeof hdr);
	hdr.type = type;
	hdr.len = hlen;
	memcpy(buf, &hdr, sizeof hdr);
	memset(buf + sizeof hdr, 0, len);
	memcpy(buf + sizeof hdr, &ph, len > sizeof ph ? sizeof ph : len);
	return sizeof hdr + len;
}

static void
control_bad(const uint8_t *buf, size_t len, const char *want)
{
	struct proto_slirp_hostfwd	ph;
	struct hostfwd			hf;
	uint32_t			type;
	char				why[PROTO_TEXT_SIZE] = "";

	assert_int_equal(slirpmsg_parse_hostfwd(buf, len, &type, &ph, &hf,
	    why, sizeof why), -1);
	if (strstr(why, want) == NULL)
		print_error("got \"%s\", want \"%s\"\n", why, want);
	assert_non_null(strstr(why, want));
}

static void
test_parse_hostfwd(void **state)
{
	struct proto_slirp_hostfwd	ph;
	struct hostfwd			hf;
	uint8_t				buf[sizeof(struct msg_hdr) +
					    sizeof ph + 16];
	uint32_t			type;
	char				why[PROTO_TEXT_SIZE];
	size_t				n, size = sizeof ph;

	(void)state;
	n = control(buf, MSG_SLIRP_HOSTFWD_ADD, size, size,
	    "udp:127.0.0.1:5353-:53");
	assert_int_equal(slirpmsg_parse_hostfwd(buf, n, &type, &ph, &hf, why,
	    sizeof why), 0);
	assert_int_equal(type, MSG_SLIRP_HOSTFWD_ADD);
	assert_string_equal(ph.rule, "udp:127.0.0.1:5353-:53");
	assert_int_equal(hf.udp, 1);
	assert_int_equal(hf.host_port, 5353);
	n = control(buf, MSG_SLIRP_HOSTFWD_REMOVE, size, size, "tcp::1-:2");
	assert_int_equal(slirpmsg_parse_hostfwd(buf, n, &type, &ph, &hf, why,
	    sizeof why), 0);
	assert_int_equal(type, MSG_SLIRP_HOSTFWD_REMOVE);

	control_bad(buf, 3, "short message (3 bytes)");
	n = control(buf, MSG_SLIRP_CONFIG, size, size, "tcp::1-:2");
	control_bad(buf, n, "unexpected message type 300");
	n = control(buf, MSG_SLIRP_HOSTFWD_ADD, size - 1, size, "tcp::1-:2");
	control_bad(buf, n, "hostfwd message of");
	n = control(buf, MSG_SLIRP_HOSTFWD_ADD, size, size + 1, "tcp::1-:2");
	control_bad(buf, n, "hostfwd message of 97 bytes, not 96");
	n = control(buf, MSG_SLIRP_HOSTFWD_ADD, size, size, "tcp:1-:2");
	control_bad(buf, n, "invalid hostfwd rule \"tcp:1-:2\"");
	/* A rule that fills its array has no NUL. */
	n = control(buf, MSG_SLIRP_HOSTFWD_ADD, size, size, "");
	memset(buf + sizeof(struct msg_hdr), 'x', size);
	control_bad(buf, n, "not terminated");
	n = control(buf, MSG_SLIRP_HOSTFWD_ADD, size, size, "tcp::1-:2");
	((struct msg_hdr *)buf)->flags = MSG_F_FD;
	control_bad(buf, n, "unexpected message flags 0x1");
}

/* A rule's guest address, added later, is checked as vm.conf's are. */
static void
test_check_guest(void **state)
{
	struct hostfwd	hf;
	char		why[PROTO_TEXT_SIZE] = "";

	(void)state;
	assert_null(hostfwd_parse("tcp::1-10.0.2.15:2", &hf));
	assert_int_equal(slirpmsg_check_guest(&sc, &hf, "r", why, sizeof why),
	    0);
	assert_null(hostfwd_parse("tcp::1-:2", &hf));
	assert_int_equal(slirpmsg_check_guest(&sc, &hf, "r", why, sizeof why),
	    0);
	assert_null(hostfwd_parse("tcp::1-10.0.2.3:2", &hf));
	assert_int_equal(slirpmsg_check_guest(&sc, &hf, "r", why, sizeof why),
	    -1);
	assert_string_equal(why, "hostfwd \"r\": the guest address is not a "
	    "guest's in 10.0.2.0/24");
	assert_null(hostfwd_parse("tcp::1-10.0.3.15:2", &hf));
	assert_int_equal(slirpmsg_check_guest(&sc, &hf, "r", why, sizeof why),
	    -1);
}

static void
test_exchange(void **state)
{
	struct proto_slirp_config	out;
	uint8_t				buf[sizeof(struct msg_hdr) +
					    sizeof sc + 1];
	char				why[PROTO_TEXT_SIZE];
	ssize_t				n;
	int				sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	rule("udp::5353-:53");
	assert_int_equal(slirpmsg_send(sv[0], MSG_SLIRP_CONFIG, 9, &sc,
	    sizeof sc), 0);
	assert_int_equal(slirpmsg_send(sv[0], MSG_OK, 9, NULL, 0), 0);
	n = slirpmsg_recv(sv[1], buf, sizeof buf, 1000);
	assert_int_equal(n, sizeof(struct msg_hdr) + sizeof sc);
	assert_int_equal(slirpmsg_parse(buf, n, &out, why, sizeof why), 0);
	assert_string_equal(out.hostfwd[0], "udp::5353-:53");
	/* The next datagram stays whole: one message each. */
	n = slirpmsg_recv(sv[1], buf, sizeof buf, 1000);
	assert_int_equal(n, sizeof(struct msg_hdr));

	/* Nothing to read: a timeout. */
	assert_int_equal(slirpmsg_recv(sv[1], buf, sizeof buf, 50), -1);
	assert_int_equal(errno, ETIMEDOUT);

	/* Longer than the buffer: refused, not cut. */
	assert_int_equal(slirpmsg_send(sv[0], MSG_SLIRP_CONFIG, 9, &sc,
	    sizeof sc), 0);
	assert_int_equal(slirpmsg_recv(sv[1], buf, 64, 1000), -1);
	assert_int_equal(errno, EMSGSIZE);

	/* The peer gone: 0. */
	close(sv[0]);
	assert_int_equal(slirpmsg_recv(sv[1], buf, sizeof buf, 1000), 0);
	close(sv[1]);
}

#define T(name)	cmocka_unit_test_setup(name, setup)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_flags_name_nic),
		T(test_network),
		T(test_dhcp_range),
		T(test_mtu),
		T(test_rules),
		T(test_rule_guest_address),
		T(test_rule_same_port),
		T(test_parse),
		T(test_parse_hostfwd),
		T(test_check_guest),
		T(test_exchange),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/hostfwd.c, the hostfwd rule parser that vm.conf's
 * checks (engine/parse.y) and vmtop-slirp share.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hostfwd.h"

#define USAGE	"expected tcp|udp:[hostaddr]:hostport-" \
		"[guestaddr]:guestport"
#define PORTS	"ports are numbers from 1 to 65535"
#define ADDRS	"addresses are IPv4 dotted quads"

static uint32_t
addr(const char *s)
{
	struct in_addr	in;

	assert_int_equal(inet_pton(AF_INET, s, &in), 1);
	return in.s_addr;
}

static void
good(const char *rule, int udp, const char *haddr, int hport,
    const char *gaddr, int gport)
{
	struct hostfwd	 hf;
	const char	*why;

	memset(&hf, 0xa5, sizeof hf);
	why = hostfwd_parse(rule, &hf);
	if (why != NULL)
		print_error("%s: %s\n", rule, why);
	assert_null(why);
	assert_int_equal(hf.udp, udp);
	assert_int_equal(hf.host_addr.s_addr, addr(haddr));
	assert_int_equal(hf.host_port, hport);
	assert_int_equal(hf.guest_addr.s_addr, addr(gaddr));
	assert_int_equal(hf.guest_port, gport);
	assert_null(hostfwd_parse(rule, NULL));
}

static void
bad(const char *rule, const char *want)
{
	const char	*why = hostfwd_parse(rule, NULL);

	if (why == NULL || strcmp(why, want) != 0)
		print_error("%s: got \"%s\", want \"%s\"\n", rule,
		    why != NULL ? why : "(good)", want);
	assert_non_null(why);
	assert_string_equal(why, want);
}

static void
test_good_rules(void **state)
{
	(void)state;
	good("tcp:127.0.0.1:2222-:22", 0, "127.0.0.1", 2222, "0.0.0.0", 22);
	good("udp::5353-10.0.2.15:53", 1, "0.0.0.0", 5353, "10.0.2.15", 53);
	good("tcp::1-:65535", 0, "0.0.0.0", 1, "0.0.0.0", 65535);
	good("tcp:0.0.0.0:65535-10.0.2.16:1", 0, "0.0.0.0", 65535,
	    "10.0.2.16", 1);
	good("udp:192.0.2.1:00080-:8080", 1, "192.0.2.1", 80, "0.0.0.0",
	    8080);
}

static void
test_bad_protocol(void **state)
{
	(void)state;
	bad("", USAGE);
	bad("sctp::1-:1", USAGE);
	bad("TCP::22-:22", USAGE);
	bad("tcp", USAGE);
	bad("tcp:", USAGE);
	bad("udp:22-22", USAGE);
}

static void
test_bad_shape(void **state)
{
	(void)state;
	bad("tcp::22:22", USAGE);
	bad("tcp::22", USAGE);
	bad("tcp::22-22", USAGE);
	bad("tcp:22-:22", USAGE);
}

static void
test_bad_ports(void **state)
{
	(void)state;
	bad("tcp::0-:22", PORTS);
	bad("tcp::22-:65536", PORTS);
	bad("tcp::22-:0", PORTS);
	bad("tcp::-:22", PORTS);
	bad("tcp::22-:", PORTS);
	bad("tcp::+22-:22", PORTS);
	bad("tcp::22-: 22", PORTS);
	bad("tcp::22-:22x", PORTS);
	bad("tcp::0x16-:22", PORTS);
	bad("tcp::99999999999999999999-:22", PORTS);
	bad("tcp::22-:1-2", PORTS);
	bad("tcp:::1:22-:22", PORTS);	/* no IPv6 */
}

static void
test_bad_addresses(void **state)
{
	(void)state;
	bad("tcp:1.2.3:22-:22", ADDRS);
	bad("tcp:localhost:22-:22", ADDRS);
	bad("udp::53-10.0.2.256:53", ADDRS);
	bad("tcp:1.2.3.4.5:22-:22", ADDRS);
	bad("tcp:111.222.333.444.555.666:22-:22", ADDRS);
	bad("tcp::22-10.0.2.15 :22", ADDRS);
}

/* 95 characters are allowed, 96 are too long. */
static void
test_length(void **state)
{
	char	rule[VM_HOSTFWD_SIZE + 8];
	size_t	n;

	(void)state;
	n = snprintf(rule, sizeof rule, "tcp::22-:22");
	memset(rule + n, '2', VM_HOSTFWD_SIZE - 1 - n);
	rule[VM_HOSTFWD_SIZE - 1] = '\0';
	bad(rule, PORTS);
	rule[VM_HOSTFWD_SIZE - 1] = '2';
	rule[VM_HOSTFWD_SIZE] = '\0';
	bad(rule, "too long");
}

static int
clash(const char *a, const char *b)
{
	struct hostfwd	ha, hb;

	assert_null(hostfwd_parse(a, &ha));
	assert_null(hostfwd_parse(b, &hb));
	assert_int_equal(hostfwd_clash(&ha, &hb), hostfwd_clash(&hb, &ha));
	return hostfwd_clash(&ha, &hb);
}

static void
test_clash(void **state)
{
	(void)state;
	assert_true(clash("tcp::22-:22", "tcp::22-:23"));
	assert_true(clash("tcp::22-:22", "tcp:127.0.0.1:22-:23"));
	assert_true(clash("tcp:127.0.0.1:22-:22", "tcp:127.0.0.1:22-:23"));
	assert_false(clash("tcp:127.0.0.1:22-:22", "tcp:127.0.0.2:22-:22"));
	assert_false(clash("tcp::22-:22", "udp::22-:22"));
	assert_false(clash("tcp::22-:22", "tcp::23-:22"));
}

/* vm.conf reports a bad rule through this parser, with file and line. */
static void
test_config(void **state)
{
	struct config	 conf;
	char		*out = NULL;
	size_t		 len = 0;
	FILE		*f;
	int		 n;

	(void)state;
	f = open_memstream(&out, &len);
	assert_non_null(f);
	n = config_parse("vm.conf", "vm \"a\" {\n\tinterface user {\n"
	    "\t\thostfwd \"tcp::22-:22\"\n\t\thostfwd \"tcp::22-:99999\"\n"
	    "\t}\n}\n", &conf, f);
	fclose(f);
	assert_int_equal(n, 1);
	assert_string_equal(out, "vm.conf:4: vm \"a\": invalid hostfwd rule "
	    "\"tcp::22-:99999\": " PORTS "\n");
	free(out);
	config_free(&conf);

	/* Two rules of an interface may not take the same host port. */
	f = open_memstream(&out, &len);
	assert_non_null(f);
	n = config_parse("vm.conf", "vm \"a\" {\n\tinterface user {\n"
	    "\t\thostfwd \"tcp::22-:22\"\n"
	    "\t\thostfwd \"udp::22-:22\"\n"
	    "\t\thostfwd \"tcp:127.0.0.1:22-:80\"\n\t}\n"
	    "\tinterface user { hostfwd \"tcp::22-:22\" }\n}\n", &conf, f);
	fclose(f);
	assert_int_equal(n, 1);
	assert_string_equal(out, "vm.conf:5: vm \"a\": hostfwd "
	    "\"tcp:127.0.0.1:22-:80\" uses the same host port as "
	    "\"tcp::22-:22\"\n");
	free(out);
	config_free(&conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_rules),
		cmocka_unit_test(test_bad_protocol),
		cmocka_unit_test(test_bad_shape),
		cmocka_unit_test(test_bad_ports),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_clash),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests for lib/hostfwd.c, the hostfwd rule parser that vm.conf's
 * checks (engine/parse.y) and vmtop-slirp share, and its forward form
 * (forward and unforward, engine/forward.c).
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
#define FWD	"expected [tcp|udp:][hostaddr:]hostport-" \
		"[guestaddr]:guestport"

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

/*
 * A good rule in the forward form: written out in vm.conf's form as
 * want, which hostfwd_parse reads back as the same rule.
 */
static void
fwd_good(const char *rule, int host_only, const char *want)
{
	struct hostfwd	 hf, back;
	const char	*why;
	char		 out[VM_HOSTFWD_SIZE];

	memset(&hf, 0xa5, sizeof hf);
	why = hostfwd_parse_forward(rule, host_only, &hf);
	if (why != NULL)
		print_error("%s: %s\n", rule, why);
	assert_null(why);
	assert_string_equal(hostfwd_format(&hf, out, sizeof out), want);
	if (hf.guest_port == 0)
		return;		/* unforward's host side alone */
	assert_null(hostfwd_parse(out, &back));
	assert_memory_equal(&hf, &back, sizeof hf);
	assert_true(hostfwd_same(&hf, &back));
}

static void
fwd_bad(const char *rule, int host_only, const char *want)
{
	const char	*why = hostfwd_parse_forward(rule, host_only, NULL);

	if (why == NULL || strcmp(why, want) != 0)
		print_error("%s: got \"%s\", want \"%s\"\n", rule,
		    why != NULL ? why : "(good)", want);
	assert_non_null(why);
	assert_string_equal(why, want);
}

static void
test_forward_good(void **state)
{
	(void)state;
	/* The host address is 127.0.0.1 unless the rule names one. */
	fwd_good("8080-:80", 0, "tcp:127.0.0.1:8080-:80");
	fwd_good(":8080-:80", 0, "tcp:127.0.0.1:8080-:80");
	fwd_good("tcp:8080-:80", 0, "tcp:127.0.0.1:8080-:80");
	fwd_good("tcp::8080-:80", 0, "tcp:127.0.0.1:8080-:80");
	fwd_good("tcp:127.0.0.1:18080-:8080", 0, "tcp:127.0.0.1:18080-:8080");
	fwd_good("0.0.0.0:2222-:22", 0, "tcp:0.0.0.0:2222-:22");
	fwd_good("udp:5353-:53", 0, "udp:127.0.0.1:5353-:53");
	fwd_good("udp:192.0.2.1:53-10.0.2.15:53", 0,
	    "udp:192.0.2.1:53-10.0.2.15:53");
	fwd_good("65535-:1", 0, "tcp:127.0.0.1:65535-:1");
	/* unforward: the host side alone, or the whole rule. */
	fwd_good("8080", 1, "tcp:127.0.0.1:8080-:0");
	fwd_good("udp:0.0.0.0:53", 1, "udp:0.0.0.0:53-:0");
	fwd_good("8080-:80", 1, "tcp:127.0.0.1:8080-:80");
}

static void
test_forward_bad(void **state)
{
	(void)state;
	/* Missing parts. */
	fwd_bad("", 0, FWD);
	fwd_bad("", 1, PORTS);
	fwd_bad("8080", 0, FWD);
	fwd_bad("tcp:8080", 0, FWD);
	fwd_bad("8080-80", 0, FWD);
	fwd_bad("8080-", 0, FWD);
	fwd_bad("-:80", 0, PORTS);
	fwd_bad("tcp:", 1, PORTS);
	fwd_bad("8080-80", 1, FWD);
	/* Bad ports. */
	fwd_bad("0-:80", 0, PORTS);
	fwd_bad("65536-:80", 0, PORTS);
	fwd_bad("8080-:0", 0, PORTS);
	fwd_bad("8080-:65536", 0, PORTS);
	fwd_bad("x-:80", 0, PORTS);
	fwd_bad("8080-:80x", 0, PORTS);
	fwd_bad("127.0.0.1:8080:1-:80", 0, PORTS);
	fwd_bad("0", 1, PORTS);
	/* Protocols and addresses. */
	fwd_bad("sctp:8080-:80", 0, ADDRS);
	fwd_bad("TCP:8080-:80", 0, ADDRS);
	fwd_bad("localhost:8080-:80", 0, ADDRS);
	fwd_bad("1.2.3:8080-:80", 0, ADDRS);
	fwd_bad("8080-10.0.2.256:80", 0, ADDRS);
	fwd_bad("::1:8080-:80", 0, PORTS);	/* no IPv6 */
}

/* 95 characters are allowed, 96 are too long, as in vm.conf. */
static void
test_forward_length(void **state)
{
	char	rule[VM_HOSTFWD_SIZE + 8];

	(void)state;
	memset(rule, '1', sizeof rule);
	rule[VM_HOSTFWD_SIZE - 1] = '\0';
	fwd_bad(rule, 1, PORTS);
	rule[VM_HOSTFWD_SIZE - 1] = '1';
	rule[VM_HOSTFWD_SIZE] = '\0';
	fwd_bad(rule, 1, "too long");
}

static void
test_same(void **state)
{
	struct hostfwd	a, b;

	(void)state;
	assert_null(hostfwd_parse_forward("8080-:80", 0, &a));
	assert_null(hostfwd_parse_forward("8080", 1, &b));
	assert_true(hostfwd_same(&a, &b));
	assert_null(hostfwd_parse_forward("0.0.0.0:8080", 1, &b));
	assert_false(hostfwd_same(&a, &b));
	assert_true(hostfwd_clash(&a, &b));
	assert_null(hostfwd_parse_forward("udp:8080", 1, &b));
	assert_false(hostfwd_same(&a, &b));
	assert_null(hostfwd_parse_forward("8081", 1, &b));
	assert_false(hostfwd_same(&a, &b));
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
		cmocka_unit_test(test_forward_good),
		cmocka_unit_test(test_forward_bad),
		cmocka_unit_test(test_forward_length),
		cmocka_unit_test(test_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for engine/parse.y and engine/conf.c: the vm.conf parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* Parse text; return the error count and what was written to errout. */
static int
parse(const char *text, struct config *conf, char **out)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0;
	int	 n;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	n = config_parse("vm.conf", text, conf, f);
	fclose(f);
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	return n;
}

/* Parse text that must be good. */
static void
parse_ok(const char *text, struct config *conf)
{
	char	*out;
	int	 n;

	n = parse(text, conf, &out);
	if (n != 0)
		print_error("unexpected errors:\n%s", out);
	free(out);
	assert_int_equal(n, 0);
}

/* Parse text that must fail with exactly the messages want. */
static void
parse_fail(const char *text, int nerrors, const char *want)
{
	struct config	 conf;
	char		*out;
	int		 n;

	n = parse(text, &conf, &out);
	if (n != nerrors || (want != NULL && strcmp(out, want) != 0))
		print_error("for:\n%s\ngot %d errors:\n%s", text, n, out);
	assert_int_equal(n, nerrors);
	if (want != NULL)
		assert_string_equal(out, want);
	free(out);
	config_free(&conf);
}

/* The last VM of a config. */
static struct conf_vm *
last_vm(struct config *conf)
{
	struct conf_vm	*vm, *last = NULL;

	TAILQ_FOREACH(vm, &conf->vms, entry)
		last = vm;
	assert_non_null(last);
	return last;
}

/* The only VM of a config. */
static struct conf_vm *
only_vm(struct config *conf)
{
	struct conf_vm	*vm;

	vm = TAILQ_FIRST(&conf->vms);
	assert_non_null(vm);
	assert_null(TAILQ_NEXT(vm, entry));
	return vm;
}

static void
test_empty(void **state)
{
	struct config	conf;

	(void)state;
	parse_ok("", &conf);
	assert_true(TAILQ_EMPTY(&conf.vms));
	assert_true(TAILQ_EMPTY(&conf.switches));
	assert_int_equal(conf.stagger_parallel, 0);
	assert_int_equal(conf.has_socket_owner, 0);
	config_free(&conf);

	parse_ok("\n\n# just a comment\n  \t\n;;\n# no newline at the end",
	    &conf);
	assert_true(TAILQ_EMPTY(&conf.vms));
	config_free(&conf);
}

static void
test_defaults(void **state)
{
	struct config	 conf;
	struct conf_vm	*vm;

	(void)state;
	parse_ok("\n\nvm \"a\" {\n}\n", &conf);
	vm = only_vm(&conf);
	assert_string_equal(vm->name, "a");
	assert_int_equal(vm->memory, CONF_DEFAULT_MEMORY);
	assert_int_equal(vm->vcpus, CONF_DEFAULT_VCPUS);
	assert_null(vm->kernel);
	assert_null(vm->initrd);
	assert_null(vm->cmdline);
	assert_null(vm->boot);
	assert_null(vm->cdrom);
	assert_int_equal(vm->ndisks, 0);
	assert_int_equal(vm->nnics, 0);
	assert_int_equal(vm->has_owner, 0);
	assert_int_equal(vm->gid, (gid_t)-1);
	assert_int_equal(vm->enabled, 0);
	assert_string_equal(vm->file, "vm.conf");
	assert_int_equal(vm->line, 3);
	config_free(&conf);

	parse_ok("vm b {}", &conf);
	assert_string_equal(only_vm(&conf)->name, "b");
	config_free(&conf);
}

static void
test_memory(void **state)
{
	static const struct {
		const char	*text;
		uint64_t	 size;
	} good[] = {
		{ "512", 512ULL << 20 },
		{ "1", 1ULL << 20 },
		{ "512M", 512ULL << 20 },
		{ "512m", 512ULL << 20 },
		{ "512MB", 512ULL << 20 },
		{ "512mb", 512ULL << 20 },
		{ "512MiB", 512ULL << 20 },
		{ "512mib", 512ULL << 20 },
		{ "1024K", 1ULL << 20 },
		{ "2048kb", 2ULL << 20 },
		{ "4096KiB", 4ULL << 20 },
		{ "1G", 1ULL << 30 },
		{ "3g", 3ULL << 30 },
		{ "2GB", 2ULL << 30 },
		{ "16GiB", 16ULL << 30 },
		{ "1T", 1ULL << 40 },
		{ "1tib", 1ULL << 40 },
		{ "1048576B", 1ULL << 20 },
		{ "1048577b", (1ULL << 20) + 1 },
		{ "1048576", 1ULL << 40 },
	};
	static const char *bad[] = {
		"0", "0M", "1023K", "1048575B", "2T", "1025G", "1048577",
		"99999999999999999999G", "1.5G", "12X", "1Gi", "M", "G1",
		"1GBB", "1iB", "-1", "\"\"",
	};
	struct config	 conf;
	char		 text[128];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "vm a { memory %s }", good[i].text);
		parse_ok(text, &conf);
		assert_int_equal(only_vm(&conf)->memory, good[i].size);
		config_free(&conf);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "vm a { memory %s }", bad[i]);
		parse_fail(text, 1, NULL);
	}
	parse_fail("vm web {\n\tmemory 0M\n}\n", 1,
	    "vm.conf:2: vm \"web\": memory 0M is too small (at least 1M)\n");
	parse_fail("vm web { memory 2T }", 1,
	    "vm.conf:1: vm \"web\": memory 2T is too large (at most 1T)\n");
	parse_fail("vm web { memory 1.5G }", 1,
	    "vm.conf:1: vm \"web\": invalid memory size \"1.5G\" (a number "
	    "with an optional K, M, G or T)\n");
	parse_fail("vm web {\nmemory 1G\nmemory 2G\n}", 1,
	    "vm.conf:3: vm \"web\": memory is set more than once\n");
}

static void
test_vcpus(void **state)
{
	struct config	conf;

	(void)state;
	parse_ok("vm a { vcpus 1 }", &conf);
	assert_int_equal(only_vm(&conf)->vcpus, 1);
	config_free(&conf);
	parse_ok("vm a { vcpus 64 }", &conf);
	assert_int_equal(only_vm(&conf)->vcpus, 64);
	config_free(&conf);
	parse_ok("vm a { vcpus \"4\" }", &conf);
	assert_int_equal(only_vm(&conf)->vcpus, 4);
	config_free(&conf);

	parse_fail("vm a { vcpus 0 }", 1,
	    "vm.conf:1: vm \"a\": vcpus 0 is out of range (1 to 64)\n");
	parse_fail("vm a { vcpus 65 }", 1, NULL);
	parse_fail("vm a { vcpus 99999999999999999999999 }", 1, NULL);
	parse_fail("vm a { vcpus four }", 1,
	    "vm.conf:1: vm \"a\": vcpus \"four\" is not a number\n");
	parse_fail("vm a { vcpus 2; vcpus 2 }", 1,
	    "vm.conf:1: vm \"a\": vcpus is set more than once\n");
}

static void
test_paths(void **state)
{
	struct config	 conf;
	struct conf_vm	*vm;
	char		*text, *long_path;

	(void)state;
	parse_ok("vm a {\n"
	    "kernel /boot/vmlinuz\n"
	    "initrd \"/boot/initrd.img\"\n"
	    "cmdline \"console=ttyS0 root=/dev/vda rw\"\n"
	    "cdrom /iso/debian.iso\n"
	    "}\n"
	    "vm b { boot /usr/share/seabios/bios.bin }\n", &conf);
	vm = TAILQ_FIRST(&conf.vms);
	assert_string_equal(vm->kernel, "/boot/vmlinuz");
	assert_string_equal(vm->initrd, "/boot/initrd.img");
	assert_string_equal(vm->cmdline, "console=ttyS0 root=/dev/vda rw");
	assert_string_equal(vm->cdrom, "/iso/debian.iso");
	assert_null(vm->boot);
	vm = TAILQ_NEXT(vm, entry);
	assert_string_equal(vm->name, "b");
	assert_string_equal(vm->boot, "/usr/share/seabios/bios.bin");
	assert_null(vm->kernel);
	config_free(&conf);

	parse_fail("\nvm a {\nkernel /k\nboot /b\n}", 1,
	    "vm.conf:2: vm \"a\": kernel and boot are mutually exclusive\n");
	parse_fail("vm a { initrd /i; cmdline x }", 2,
	    "vm.conf:1: vm \"a\": initrd needs a kernel\n"
	    "vm.conf:1: vm \"a\": cmdline needs a kernel\n");
	parse_fail("vm a { kernel /k; kernel /k }", 1,
	    "vm.conf:1: vm \"a\": kernel is set more than once\n");
	parse_fail("vm a { cdrom \"\" }", 1,
	    "vm.conf:1: vm \"a\": cdrom: empty path\n");

	/* The longest path fits; one more character does not. */
	long_path = malloc(VM_PATH_SIZE + 1);
	memset(long_path, 'p', VM_PATH_SIZE);
	long_path[0] = '/';
	long_path[VM_PATH_SIZE - 1] = '\0';
	assert_true(asprintf(&text, "vm a { kernel %s }", long_path) > 0);
	parse_ok(text, &conf);
	assert_int_equal(strlen(only_vm(&conf)->kernel), VM_PATH_SIZE - 1);
	config_free(&conf);
	free(text);
	long_path[VM_PATH_SIZE - 1] = 'p';
	long_path[VM_PATH_SIZE] = '\0';
	assert_true(asprintf(&text, "vm a { disk \"%s\" }", long_path) > 0);
	parse_fail(text, 1, "vm.conf:1: vm \"a\": disk path is too long (at "
	    "most 1023 characters)\n");
	free(text);
	free(long_path);

	long_path = malloc(VM_CMDLINE_SIZE + 1);
	memset(long_path, 'c', VM_CMDLINE_SIZE);
	long_path[VM_CMDLINE_SIZE] = '\0';
	assert_true(asprintf(&text, "vm a { kernel /k; cmdline \"%s\" }",
	    long_path) > 0);
	parse_fail(text, 1, "vm.conf:1: vm \"a\": cmdline is too long (at "
	    "most 2047 characters)\n");
	free(text);
	free(long_path);
}

static void
test_disks(void **state)
{
	struct config	 conf;
	struct conf_vm	*vm;
	char		 text[1024];
	int		 i, len;

	(void)state;
	parse_ok("vm a {\n"
	    "disk /d0.img\n"
	    "disk /d1.img format raw\n"
	    "disk \"/d2.qcow2\" format qcow2\n"
	    "}", &conf);
	vm = only_vm(&conf);
	assert_int_equal(vm->ndisks, 3);
	assert_string_equal(vm->disks[0].path, "/d0.img");
	assert_int_equal(vm->disks[0].format, DISK_FORMAT_AUTO);
	assert_string_equal(vm->disks[1].path, "/d1.img");
	assert_int_equal(vm->disks[1].format, DISK_FORMAT_RAW);
	assert_string_equal(vm->disks[2].path, "/d2.qcow2");
	assert_int_equal(vm->disks[2].format, DISK_FORMAT_QCOW2);
	config_free(&conf);

	len = snprintf(text, sizeof text, "vm a {\n");
	for (i = 0; i < VM_MAX_DISKS; i++)
		len += snprintf(text + len, sizeof text - len, "disk /d%d\n",
		    i);
	snprintf(text + len, sizeof text - len, "}\n");
	parse_ok(text, &conf);
	assert_int_equal(only_vm(&conf)->ndisks, VM_MAX_DISKS);
	assert_string_equal(only_vm(&conf)->disks[7].path, "/d7");
	config_free(&conf);

	snprintf(text + len, sizeof text - len, "disk /d8\n}\n");
	parse_fail(text, 1, "vm.conf:10: vm \"a\": too many disks (at most "
	    "8)\n");
	parse_fail("vm a { disk /d format vmdk }", 1, "vm.conf:1: vm \"a\": "
	    "unknown disk format \"vmdk\" (raw or qcow2)\n");
	parse_fail("vm a { disk /d format }", 1,
	    "vm.conf:1: syntax error\n");
}

static void
test_interfaces(void **state)
{
	struct config		 conf;
	struct conf_vm		*vm;
	struct conf_nic		*nic;
	static const uint8_t	 mac1[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	static const uint8_t	 mac2[6] = { 0xfe, 0xe1, 0xba, 0xd0, 0, 0x0a };

	(void)state;
	parse_ok("switch uplink { interface br0 }\n"
	    "vm a {\n"
	    "\tinterface\n"
	    "\tinterface tap3 {\n"
	    "\t\tswitch \"uplink\"\n"
	    "\t\tlladdr locked 52:54:00:12:34:56\n"
	    "\t\tdown\n"
	    "\t}\n"
	    "\tinterface { locked lladdr FE:E1:BA:D0:0:a; down; up }\n"
	    "\tinterface user { hostfwd \"tcp:127.0.0.1:2222-:22\"\n"
	    "\t\thostfwd \"udp::5353-10.0.2.15:53\" }\n"
	    "}\n", &conf);
	vm = only_vm(&conf);
	assert_int_equal(vm->nnics, 4);

	nic = &vm->nics[0];
	assert_int_equal(nic->type, NIC_TAP);
	assert_int_equal(nic->tapunit, -1);
	assert_null(nic->switchname);
	assert_int_equal(nic->has_lladdr, 0);
	assert_int_equal(nic->up, 1);
	assert_int_equal(nic->nhostfwd, 0);

	nic = &vm->nics[1];
	assert_int_equal(nic->type, NIC_TAP);
	assert_int_equal(nic->tapunit, 3);
	assert_string_equal(nic->switchname, "uplink");
	assert_int_equal(nic->has_lladdr, 1);
	assert_int_equal(nic->locked, 1);
	assert_memory_equal(nic->lladdr, mac1, 6);
	assert_int_equal(nic->up, 0);

	nic = &vm->nics[2];
	assert_int_equal(nic->tapunit, -1);
	assert_int_equal(nic->has_lladdr, 1);
	assert_int_equal(nic->locked, 1);
	assert_memory_equal(nic->lladdr, mac2, 6);
	assert_int_equal(nic->up, 1);

	nic = &vm->nics[3];
	assert_int_equal(nic->type, NIC_USER);
	assert_int_equal(nic->nhostfwd, 2);
	assert_string_equal(nic->hostfwd[0], "tcp:127.0.0.1:2222-:22");
	assert_string_equal(nic->hostfwd[1], "udp::5353-10.0.2.15:53");
	config_free(&conf);

	parse_ok("vm a { interface user }", &conf);
	assert_int_equal(only_vm(&conf)->nics[0].type, NIC_USER);
	assert_int_equal(only_vm(&conf)->nics[0].nhostfwd, 0);
	config_free(&conf);

	parse_fail("vm a {\ninterface\ninterface\ninterface\ninterface\n"
	    "interface user { hostfwd \"tcp::1-:1\" }\n}", 1,
	    "vm.conf:6: vm \"a\": too many interfaces (at most 4)\n");
	parse_fail("vm a { interface eth0 }", 1,
	    "vm.conf:1: vm \"a\": invalid interface \"eth0\" (tapN or user)\n");
	parse_fail("vm a { interface tap }", 1, NULL);
	parse_fail("vm a { interface tap-1 }", 1, NULL);
	parse_fail("switch s { interface br0 }\n"
	    "vm a { interface user { switch s; lladdr 52:54:00:00:00:01 } }",
	    2,
	    "vm.conf:2: vm \"a\": switch is not allowed on interface user\n"
	    "vm.conf:2: vm \"a\": lladdr is not allowed on interface user\n");
	parse_fail("vm a { interface tap0 { hostfwd \"tcp::22-:22\" } }", 1,
	    "vm.conf:1: vm \"a\": hostfwd is only allowed on interface "
	    "user\n");
	parse_fail("vm a { interface { lladdr 53:54:00:00:00:01 } }", 1,
	    "vm.conf:1: vm \"a\": invalid lladdr \"53:54:00:00:00:01\" (six "
	    "hex bytes like 52:54:00:12:34:56, not multicast)\n");
	parse_fail("vm a { interface { lladdr 52:54:00:00:00 } }", 1, NULL);
	parse_fail("vm a { interface { lladdr 52:54:00:00:00:001 } }", 1,
	    NULL);
	parse_fail("vm a { interface { lladdr 52-54-00-00-00-01 } }", 1,
	    NULL);
	parse_fail("vm a { interface { lladdr 52:54:00:00:00:01\n"
	    "lladdr 52:54:00:00:00:02 } }", 1, "vm.conf:2: vm \"a\": lladdr "
	    "is set more than once\n");
	parse_fail("\nvm a { interface { switch nope } }", 1,
	    "vm.conf:2: vm \"a\": switch \"nope\" is not defined\n");
}

static void
test_hostfwd(void **state)
{
	static const char *good[] = {
		"tcp:127.0.0.1:2222-:22",
		"udp::5353-10.0.2.15:53",
		"tcp::1-:65535",
		"tcp:0.0.0.0:8080-10.0.2.15:80",
	};
	static const char *bad[] = {
		"", "tcp", "sctp::1-:1", "TCP::1-:1", "tcp::0-:22",
		"tcp::22-:65536", "tcp::22-:0", "tcp:1.2.3:22-:22",
		"tcp:1.2.3.4.5:22-:22", "tcp:::22-:22", "tcp::22:22",
		"tcp::22-22", "tcp:localhost:22-:22", "tcp::x-:22",
		"tcp::22-:", "tcp::-:22", "tcp::22-:22-", "tcp:01.2.3.4:22-:22",
		"tcp:[::1]:22-:22",
	};
	struct config	 conf;
	char		 text[256], want[512];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text,
		    "vm a { interface user { hostfwd \"%s\" } }", good[i]);
		parse_ok(text, &conf);
		assert_string_equal(only_vm(&conf)->nics[0].hostfwd[0],
		    good[i]);
		config_free(&conf);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
		    "vm a { interface user { hostfwd \"%s\" } }", bad[i]);
		parse_fail(text, 1, NULL);
	}
	parse_fail("vm a { interface user { hostfwd \"tcp::0-:22\" } }", 1,
	    "vm.conf:1: vm \"a\": invalid hostfwd rule \"tcp::0-:22\": ports "
	    "are numbers from 1 to 65535\n");
	snprintf(want, sizeof want, "vm.conf:1: vm \"a\": invalid hostfwd "
	    "rule \"x\": expected tcp|udp:[hostaddr]:hostport-[guestaddr]:"
	    "guestport\n");
	parse_fail("vm a { interface user { hostfwd x } }", 1, want);

	/* The most rules a NIC may have, then one more. */
	snprintf(text, sizeof text, "vm a { interface user {");
	for (i = 0; i < VM_MAX_HOSTFWD; i++) {
		snprintf(text + strlen(text), sizeof text - strlen(text),
		    " hostfwd \"tcp::%zu-:22\";", 1000 + i);
	}
	snprintf(text + strlen(text), sizeof text - strlen(text), " } }");
	parse_ok(text, &conf);
	assert_int_equal(only_vm(&conf)->nics[0].nhostfwd, VM_MAX_HOSTFWD);
	assert_string_equal(only_vm(&conf)->nics[0].hostfwd[7],
	    "tcp::1007-:22");
	config_free(&conf);
	text[strlen(text) - 4] = '\0';
	snprintf(text + strlen(text), sizeof text - strlen(text),
	    " hostfwd \"tcp::9-:9\" } }");
	parse_fail(text, 1, "vm.conf:1: vm \"a\": too many hostfwd rules (at "
	    "most 8)\n");
}

static void
test_owner(void **state)
{
	static const struct {
		uid_t	uid;
		gid_t	gid;
	} want[] = {
		{ 0, (gid_t)-1 },
		{ 0, 0 },
		{ 1234, 5678 },
		{ 4321, (gid_t)-1 },
	};
	struct config	 conf;
	struct conf_vm	*vm;
	size_t		 i = 0;

	(void)state;
	parse_ok("vm a { owner root }\nvm b { owner root:root }\n"
	    "vm c { owner 1234:5678 }\nvm d { owner \"4321\" }", &conf);
	assert_int_equal(TAILQ_FIRST(&conf.vms)->has_owner, 1);
	TAILQ_FOREACH(vm, &conf.vms, entry) {
		assert_true(i < sizeof want / sizeof want[0]);
		assert_int_equal(vm->uid, want[i].uid);
		assert_int_equal(vm->gid, want[i].gid);
		i++;
	}
	assert_int_equal(i, sizeof want / sizeof want[0]);
	config_free(&conf);

	parse_fail("vm a {\nowner nosuchuser\n}", 1,
	    "vm.conf:2: vm \"a\": unknown user \"nosuchuser\"\n");
	parse_fail("vm a { owner root:nosuchgroup }", 1,
	    "vm.conf:1: vm \"a\": unknown group \"nosuchgroup\"\n");
	parse_fail("vm a { owner :root }", 1, NULL);
	parse_fail("vm a { owner root: }", 1, NULL);
	parse_fail("vm a { owner root; owner root }", 1, NULL);
}

static void
test_enable(void **state)
{
	static const int want[] = { 0, 1, 1, 0 };
	struct config	 conf;
	struct conf_vm	*vm;
	size_t		 i = 0;

	(void)state;
	parse_ok("vm a { disable }\nvm b { enable }\nvm c { disable; enable }\n"
	    "vm d { enable; disable }", &conf);
	TAILQ_FOREACH(vm, &conf.vms, entry) {
		assert_true(i < sizeof want / sizeof want[0]);
		assert_int_equal(vm->enabled, want[i]);
		i++;
	}
	assert_int_equal(i, sizeof want / sizeof want[0]);
	config_free(&conf);
}

static void
test_names(void **state)
{
	struct config	 conf;
	char		 name[VM_NAME_SIZE + 1], text[256];

	(void)state;
	assert_true(config_valid_name("a"));
	assert_true(config_valid_name("0"));
	assert_true(config_valid_name("web-1.example_org"));
	assert_false(config_valid_name(""));
	assert_false(config_valid_name("-a"));
	assert_false(config_valid_name(".a"));
	assert_false(config_valid_name("_a"));
	assert_false(config_valid_name("a b"));
	assert_false(config_valid_name("a/b"));
	assert_false(config_valid_name("caf\xc3\xa9"));
	memset(name, 'n', VM_NAME_MAX);
	name[VM_NAME_MAX] = '\0';
	assert_true(config_valid_name(name));
	snprintf(text, sizeof text, "vm %s {}", name);
	parse_ok(text, &conf);
	assert_string_equal(only_vm(&conf)->name, name);
	assert_non_null(config_find_vm(&conf, name));
	assert_null(config_find_vm(&conf, "n"));
	config_free(&conf);
	name[VM_NAME_MAX] = 'n';
	name[VM_NAME_MAX + 1] = '\0';
	assert_false(config_valid_name(name));
	snprintf(text, sizeof text, "vm %s {}", name);
	parse_fail(text, 1, NULL);

	parse_ok("vm 1 {}\nvm 007 {}\nvm \"up\" {}\nvm a.b-c_d {}", &conf);
	assert_non_null(config_find_vm(&conf, "1"));
	assert_non_null(config_find_vm(&conf, "007"));
	assert_non_null(config_find_vm(&conf, "up"));
	assert_non_null(config_find_vm(&conf, "a.b-c_d"));
	assert_null(config_find_vm(&conf, "7"));
	config_free(&conf);

	parse_fail("vm \"bad name\" {}", 1, "vm.conf:1: invalid vm name "
	    "\"bad name\" (1-64 letters, digits, '.', '_' or '-', starting "
	    "with a letter or digit)\n");
	parse_fail("vm a {}\n\nvm b {}\nvm a {}\n", 1,
	    "vm.conf:4: vm \"a\": duplicate vm name\n");
	parse_fail("vm up {}", 1, "vm.conf:1: syntax error\n");
}

static void
test_switches(void **state)
{
	struct config		 conf;
	struct conf_switch	*sw;

	(void)state;
	parse_ok("switch \"uplink\" {\n\tinterface br0\n}\n"
	    "switch lan { interface \"vmbr-lan\"; down }\n"
	    "switch c { interface br2; down; up }\n", &conf);
	sw = TAILQ_FIRST(&conf.switches);
	assert_string_equal(sw->name, "uplink");
	assert_string_equal(sw->ifname, "br0");
	assert_int_equal(sw->up, 1);
	assert_int_equal(sw->line, 1);
	sw = TAILQ_NEXT(sw, entry);
	assert_string_equal(sw->name, "lan");
	assert_string_equal(sw->ifname, "vmbr-lan");
	assert_int_equal(sw->up, 0);
	assert_int_equal(sw->line, 4);
	sw = TAILQ_NEXT(sw, entry);
	assert_int_equal(sw->up, 1);
	assert_null(TAILQ_NEXT(sw, entry));
	config_free(&conf);

	/* A VM may use a switch defined after it. */
	parse_ok("vm a { interface { switch s } }\nswitch s { interface br0 }",
	    &conf);
	config_free(&conf);

	parse_fail("switch s { interface br0 }\nswitch s { interface br1 }",
	    1, "vm.conf:2: switch \"s\": duplicate switch name\n");
	parse_fail("switch s { interface br0 }\nswitch t { interface br0 }",
	    1, "vm.conf:2: switch \"t\": interface br0 is already used by "
	    "switch \"s\"\n");
	parse_ok("switch s { interface br0-fifteen-chr }", &conf);
	config_free(&conf);
	parse_fail("switch s { interface br0-is-sixteen-c }", 1,
	    "vm.conf:1: switch \"s\": invalid interface name "
	    "\"br0-is-sixteen-c\" (1-15 characters, no '/', ':' or spaces)\n");
	parse_fail("switch s { interface br/0 }", 1, NULL);
	parse_fail("switch s { interface \"br 0\" }", 1, NULL);
	parse_fail("switch s { interface br:0 }", 1, NULL);
	parse_fail("switch s {\n}", 1,
	    "vm.conf:1: switch \"s\": no interface given\n");
	parse_fail("switch \"-s\" { interface br0 }", 1, NULL);
}

static void
test_stagger_socket(void **state)
{
	struct config	conf;

	(void)state;
	parse_ok("staggered start parallel 4 delay 30\nsocket owner 0:0",
	    &conf);
	assert_int_equal(conf.stagger_parallel, 4);
	assert_int_equal(conf.stagger_delay, 30);
	assert_int_equal(conf.has_socket_owner, 1);
	assert_int_equal(conf.socket_uid, 0);
	assert_int_equal(conf.socket_gid, 0);
	config_free(&conf);

	parse_ok("staggered start parallel 1 delay 0\nsocket owner root",
	    &conf);
	assert_int_equal(conf.stagger_parallel, 1);
	assert_int_equal(conf.stagger_delay, 0);
	assert_int_equal(conf.socket_gid, (gid_t)-1);
	config_free(&conf);

	parse_fail("staggered start parallel 0 delay -1", 2,
	    "vm.conf:1: staggered start: parallel 0 is out of range (1 to "
	    "2147483647)\n"
	    "vm.conf:1: staggered start: delay \"-1\" is not a number of "
	    "seconds\n");
	parse_fail("staggered start parallel 2", 1,
	    "vm.conf:1: syntax error\n");
	parse_fail("\nsocket owner nosuchuser", 1,
	    "vm.conf:2: unknown user \"nosuchuser\"\n");
	parse_fail("socket owner root\nsocket owner root", 1,
	    "vm.conf:2: socket owner is set more than once\n");
}

static void
test_macros(void **state)
{
	struct config	 conf;
	struct conf_vm	*vm;

	(void)state;
	parse_ok("mem = \"2G\"\n"
	    "dir=/var/vm\n"
	    "cpus = 4\n"
	    "opts = \"vcpus 2; memory 3G\"\n"
	    "quoted = '\"console=ttyS0 quiet\"'\n"
	    "name = web\n"
	    "vm $name { memory $mem; vcpus $cpus; disk $dir/a.img\n"
	    "  disk \"$dir/b.img\"; kernel $dir/k; cmdline $quoted }\n"
	    "vm $name-2 { $opts }\n"
	    "mem = 1G\n"
	    "vm x$name { memory $mem }\n", &conf);
	vm = config_find_vm(&conf, "web");
	assert_non_null(vm);
	assert_int_equal(vm->memory, 2ULL << 30);
	assert_int_equal(vm->vcpus, 4);
	assert_string_equal(vm->disks[0].path, "/var/vm/a.img");
	assert_string_equal(vm->disks[1].path, "$dir/b.img");
	assert_string_equal(vm->kernel, "/var/vm/k");
	assert_string_equal(vm->cmdline, "console=ttyS0 quiet");
	vm = config_find_vm(&conf, "web-2");
	assert_non_null(vm);
	assert_int_equal(vm->vcpus, 2);
	assert_int_equal(vm->memory, 3ULL << 30);
	vm = config_find_vm(&conf, "xweb");
	assert_non_null(vm);
	assert_int_equal(vm->memory, 1ULL << 30);
	config_free(&conf);

	/* A macro's text is not expanded again. */
	parse_ok("a = 1G\nb = \"$a\"\nvm \"x\" { kernel $b }", &conf);
	assert_string_equal(only_vm(&conf)->kernel, "$a");
	config_free(&conf);

	parse_fail("vm a {\nmemory $nosuch\n}", 1,
	    "vm.conf:2: macro \"nosuch\" is not defined\n");
	parse_fail("vm a { kernel $ }", 1,
	    "vm.conf:1: a macro name must follow $\n");
	parse_fail("my-var = 1", 1, "vm.conf:1: invalid macro name "
	    "\"my-var\" (letters, digits and _ only)\n");
	parse_fail("memory = 1", 1, "vm.conf:1: syntax error\n");
	parse_fail("q = '\"open'\nvm a { kernel $q }\nvm b {}", 1,
	    "vm.conf:2: unterminated quoted string\n");
}

static void
test_quoting(void **state)
{
	struct config	 conf;
	struct conf_vm	*vm;

	(void)state;
	parse_ok("vm \"q\" {\n"
	    "kernel \"/with space/# not a comment\"\n"
	    "initrd '/single \"quoted\"'\n"
	    "cmdline \"a\\\"b\\\\c\\nd\\te\\x \\\n"
	    "continued\"\n"
	    "cdrom \"/vm\" # a comment\n"
	    "}\n", &conf);
	vm = only_vm(&conf);
	assert_string_equal(vm->kernel, "/with space/# not a comment");
	assert_string_equal(vm->initrd, "/single \"quoted\"");
	assert_string_equal(vm->cmdline, "a\"b\\c\nd\te\\x continued");
	assert_string_equal(vm->cdrom, "/vm");
	config_free(&conf);

	parse_fail("vm a {\nkernel \"/open\n}\n", 1,
	    "vm.conf:2: unterminated quoted string\n");
	parse_fail("vm a { kernel \"/open", 2,
	    "vm.conf:1: unterminated quoted string\n"
	    "vm.conf:1: syntax error at end of file\n");
}

static void
test_separators(void **state)
{
	struct config	 conf;
	struct conf_vm	*vm;

	(void)state;
	parse_ok("a = 1G; vm x { memory $a; vcpus 2 }; vm y { vcpus 3; }\n"
	    "vm z {\n\n; memory 2G ;;\n vcpus \\\n 4\n\n}\n"
	    "switch s { interface br0; }; staggered start \\\n"
	    "\tparallel 2 delay 5\r\n", &conf);
	vm = config_find_vm(&conf, "x");
	assert_int_equal(vm->memory, 1ULL << 30);
	assert_int_equal(vm->vcpus, 2);
	assert_int_equal(config_find_vm(&conf, "y")->vcpus, 3);
	vm = config_find_vm(&conf, "z");
	assert_int_equal(vm->memory, 2ULL << 30);
	assert_int_equal(vm->vcpus, 4);
	assert_int_equal(vm->line, 2);
	assert_int_equal(conf.stagger_parallel, 2);
	config_free(&conf);

	/* Line numbers count continued lines and comments. */
	parse_fail("# one\nvm a { \\\nvcpus 1 }\n# four \\\nstill four\n"
	    "vm b { vcpus 0 }", 1,
	    "vm.conf:6: vm \"b\": vcpus 0 is out of range (1 to 64)\n");
	parse_fail("vm a { memory 1G } vm b {}", 1,
	    "vm.conf:1: syntax error\n");
}

/* Several errors in one text: each is reported, and parsing goes on. */
static void
test_many_errors(void **state)
{
	struct config	 conf;
	char		*out;
	int		 n;

	(void)state;
	n = parse("bogus statement\n"
	    "vm a {\n"
	    "\tmemory 0\n"
	    "\tmemry 1G\n"
	    "\tvcpus 100\n"
	    "\tinterface { lladdr nope; frob }\n"
	    "\tvcpus 2\n"
	    "}\n"
	    "vm a {}\n"
	    "staggered start parallel x delay 1\n"
	    "}\n"
	    "vm c { kernel /k; boot /b }\n"
	    "vm ok { memory 1G }\n", &conf, &out);
	assert_string_equal(out,
	    "vm.conf:1: syntax error\n"
	    "vm.conf:3: vm \"a\": memory 0 is too small (at least 1M)\n"
	    "vm.conf:4: syntax error\n"
	    "vm.conf:5: vm \"a\": vcpus 100 is out of range (1 to 64)\n"
	    "vm.conf:6: vm \"a\": invalid lladdr \"nope\" (six hex bytes like "
	    "52:54:00:12:34:56, not multicast)\n"
	    "vm.conf:6: syntax error\n"
	    "vm.conf:9: vm \"a\": duplicate vm name\n"
	    "vm.conf:10: staggered start: parallel \"x\" is not a number\n"
	    "vm.conf:11: syntax error\n"
	    "vm.conf:12: vm \"c\": kernel and boot are mutually exclusive\n");
	assert_int_equal(n, 10);
	/* What was good is kept. */
	assert_int_equal(config_find_vm(&conf, "a")->vcpus, 2);
	assert_int_equal(config_find_vm(&conf, "ok")->memory, 1ULL << 30);
	free(out);
	config_free(&conf);

	/* A block that begins after a syntax error is skipped whole. */
	parse_fail("vm a b {\n\tmemory 1G\n\tinterface { up }\n}\n"
	    "vm ok { vcpus 0 }", 2, "vm.conf:1: syntax error\n"
	    "vm.conf:5: vm \"ok\": vcpus 0 is out of range (1 to 64)\n");
	parse_fail("vm a { interface { lladdr { x } y }; vcpus 0 }", 2,
	    "vm.conf:1: syntax error\n"
	    "vm.conf:1: vm \"a\": vcpus 0 is out of range (1 to 64)\n");

	parse_fail("vm a {\nmemory 1G\n", 1,
	    "vm.conf:2: syntax error at end of file\n");
	parse_fail("vm a {\x01}", 1, NULL);
}

/* Write a file in dir. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_include(void **state)
{
	struct config	 conf;
	char		 dir[] = "/tmp/test_parse.XXXXXX", path[PATH_MAX];
	char		 text[PATH_MAX + 64], want[PATH_MAX * 4], sub[PATH_MAX];
	char		*out;
	FILE		*f;
	size_t		 len;
	int		 n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "main.conf", "mem = 2G\n"
	    "vm first {}\n"
	    "include \"sub/a.conf\"\n"
	    "vm last { memory $inner }\n");
	write_file(dir, "sub/a.conf",
	    "include \"b.conf\"; vm a { memory $mem }");
	write_file(dir, "sub/b.conf", "inner = 3G\nvm b {}\n");
	write_file(dir, "loop.conf", "vm l {}\ninclude \"loop.conf\"\n");
	write_file(dir, "bad.conf", "include \"sub/c.conf\"\n"
	    "include \"nosuch.conf\"\n");
	write_file(dir, "sub/c.conf", "\nvm c { vcpus 0 }\n");

	snprintf(path, sizeof path, "%s/main.conf", dir);
	n = config_parse(path, NULL, &conf, stderr);
	assert_int_equal(n, 0);
	assert_string_equal(TAILQ_FIRST(&conf.vms)->name, "first");
	assert_non_null(config_find_vm(&conf, "a"));
	assert_int_equal(config_find_vm(&conf, "a")->memory, 2ULL << 30);
	assert_non_null(config_find_vm(&conf, "b"));
	assert_int_equal(config_find_vm(&conf, "last")->memory, 3ULL << 30);
	assert_string_equal(last_vm(&conf)->name, "last");
	snprintf(want, sizeof want, "%s/sub/b.conf", dir);
	assert_string_equal(config_find_vm(&conf, "b")->file, want);
	config_free(&conf);

	/* With text, includes are relative to the current directory. */
	snprintf(text, sizeof text, "include \"%s/sub/b.conf\"\nvm x {}", dir);
	parse_ok(text, &conf);
	assert_non_null(config_find_vm(&conf, "b"));
	config_free(&conf);

	snprintf(path, sizeof path, "%s/bad.conf", dir);
	out = NULL;
	f = open_memstream(&out, &len);
	n = config_parse(path, NULL, &conf, f);
	fclose(f);
	snprintf(want, sizeof want,
	    "%s/sub/c.conf:2: vm \"c\": vcpus 0 is out of range (1 to 64)\n"
	    "%s/bad.conf:2: include \"%s/nosuch.conf\": No such file or "
	    "directory\n", dir, dir, dir);
	assert_string_equal(out, want);
	assert_int_equal(n, 2);
	free(out);
	config_free(&conf);

	snprintf(text, sizeof text, "include \"%s/loop.conf\"", dir);
	n = parse(text, &conf, &out);
	snprintf(want, sizeof want, "%s/loop.conf:2: include loop: "
	    "\"%s/loop.conf\" is already being read\n", dir, dir);
	assert_string_equal(out, want);
	assert_int_equal(n, 1);
	free(out);
	config_free(&conf);

	n = parse("include \"/nonexistent/x.conf\"\n", &conf, &out);
	assert_string_equal(out, "vm.conf:1: include \"/nonexistent/x.conf\": "
	    "No such file or directory\n");
	assert_int_equal(n, 1);
	free(out);
	config_free(&conf);

	n = parse("include \"/tmp\"\n", &conf, &out);
	assert_string_equal(out, "vm.conf:1: include \"/tmp\": Is a "
	    "directory\n");
	free(out);
	config_free(&conf);

	/* A missing top file is one error. */
	snprintf(path, sizeof path, "%s/nosuch.conf", dir);
	f = open_memstream(&out, &len);
	n = config_parse(path, NULL, &conf, f);
	fclose(f);
	assert_int_equal(n, 1);
	snprintf(want, sizeof want, "%s: No such file or directory\n", path);
	assert_string_equal(out, want);
	free(out);
	config_free(&conf);

	snprintf(text, sizeof text, "rm -rf '%s'", dir);
	assert_int_equal(system(text), 0);
}

/* Too deep a chain of includes is an error at the deepest include. */
static void
test_include_depth(void **state)
{
	struct config	 conf;
	char		 dir[] = "/tmp/test_parse.XXXXXX", name[32];
	char		 text[PATH_MAX + 64], want[PATH_MAX + 128];
	char		*out;
	int		 i, n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "d%d.conf", i);
		snprintf(text, sizeof text, "include \"d%d.conf\"\nvm d%d {}\n",
		    i + 1, i);
		write_file(dir, name, text);
	}
	write_file(dir, "d10.conf", "vm d10 {}\n");
	/* d2 includes d3 ... d10: eight nested includes are fine. */
	snprintf(text, sizeof text, "%s/d2.conf", dir);
	n = config_parse(text, NULL, &conf, stderr);
	assert_int_equal(n, 0);
	assert_non_null(config_find_vm(&conf, "d10"));
	config_free(&conf);

	snprintf(text, sizeof text, "include \"%s/d0.conf\"", dir);
	n = parse(text, &conf, &out);
	assert_int_equal(n, 1);
	snprintf(want, sizeof want, "%s/d7.conf:1: include \"%s/d8.conf\": "
	    "too many nested includes (at most 8)\n", dir, dir);
	assert_string_equal(out, want);
	assert_non_null(config_find_vm(&conf, "d7"));
	assert_null(config_find_vm(&conf, "d8"));
	free(out);
	config_free(&conf);

	snprintf(text, sizeof text, "rm -rf '%s'", dir);
	assert_int_equal(system(text), 0);
}

static const char roundtrip_text[] =
    "staggered start parallel 3 delay 10\n"
    "socket owner 0:0\n"
    "switch uplink { interface br0 }\n"
    "switch lan { interface br1; down }\n"
    "vm web {\n"
    "\tmemory 1536M\n"
    "\tvcpus 4\n"
    "\tkernel \"/boot/vmlinuz \\\"x\\\"\"\n"
    "\tinitrd /boot/initrd.img\n"
    "\tcmdline \"console=ttyS0\\tq\\\\ \\nz #x $y\"\n"
    "\tcdrom /iso/x.iso\n"
    "\tdisk /vm/web.qcow2 format qcow2\n"
    "\tdisk /vm/raw.img format raw\n"
    "\tdisk /vm/auto.img\n"
    "\tinterface tap2 { switch uplink; lladdr locked 52:54:00:ab:cd:ef }\n"
    "\tinterface { switch lan; lladdr 52:54:00:00:00:01; down }\n"
    "\tinterface\n"
    "\tinterface user { hostfwd \"tcp:127.0.0.1:2222-:22\"; "
    "hostfwd \"udp::5353-10.0.2.15:53\" }\n"
    "\towner 1234:5678\n"
    "\tdisable\n"
    "}\n"
    "vm \"db\" { boot /bios.bin; memory 1048577B; owner root }\n"
    "vm min {}\n"
    "vm k { memory 1025K }\n";

/* Print a config to a string. */
static char *
print_config(struct config *conf)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print(conf, f);
	fclose(f);
	return buf;
}

static void
test_roundtrip(void **state)
{
	struct config	 conf, conf2;
	struct conf_vm	*vm, *vm2;
	char		*text, *text2;

	(void)state;
	parse_ok(roundtrip_text, &conf);
	text = print_config(&conf);
	parse_ok(text, &conf2);
	text2 = print_config(&conf2);
	assert_string_equal(text, text2);

	assert_int_equal(conf2.stagger_parallel, 3);
	assert_int_equal(conf2.stagger_delay, 10);
	assert_int_equal(conf2.has_socket_owner, 1);
	assert_int_equal(conf2.socket_gid, 0);
	vm = TAILQ_FIRST(&conf.vms);
	vm2 = TAILQ_FIRST(&conf2.vms);
	for (; vm != NULL; vm = TAILQ_NEXT(vm, entry),
	    vm2 = TAILQ_NEXT(vm2, entry)) {
		assert_non_null(vm2);
		assert_string_equal(vm->name, vm2->name);
		assert_int_equal(vm->memory, vm2->memory);
		assert_int_equal(vm->vcpus, vm2->vcpus);
		assert_int_equal(vm->ndisks, vm2->ndisks);
		assert_int_equal(vm->nnics, vm2->nnics);
		assert_int_equal(vm->enabled, vm2->enabled);
		assert_int_equal(vm->has_owner, vm2->has_owner);
		assert_int_equal(vm->uid, vm2->uid);
		assert_int_equal(vm->gid, vm2->gid);
	}
	assert_null(vm2);
	vm2 = config_find_vm(&conf2, "web");
	assert_string_equal(vm2->kernel, "/boot/vmlinuz \"x\"");
	assert_string_equal(vm2->cmdline, "console=ttyS0\tq\\ \nz #x $y");
	assert_int_equal(vm2->memory, 1536ULL << 20);
	assert_int_equal(vm2->disks[0].format, DISK_FORMAT_QCOW2);
	assert_int_equal(vm2->disks[1].format, DISK_FORMAT_RAW);
	assert_int_equal(vm2->disks[2].format, DISK_FORMAT_AUTO);
	assert_int_equal(vm2->nics[0].tapunit, 2);
	assert_int_equal(vm2->nics[0].locked, 1);
	assert_int_equal(vm2->nics[1].up, 0);
	assert_int_equal(vm2->nics[1].locked, 0);
	assert_int_equal(vm2->nics[3].type, NIC_USER);
	assert_string_equal(vm2->nics[3].hostfwd[1], "udp::5353-10.0.2.15:53");
	assert_int_equal(config_find_vm(&conf2, "db")->memory,
	    (1ULL << 20) + 1);
	assert_int_equal(config_find_vm(&conf2, "k")->memory, 1025ULL << 10);
	assert_int_equal(config_find_vm(&conf2, "min")->memory,
	    CONF_DEFAULT_MEMORY);
	assert_int_equal(TAILQ_NEXT(TAILQ_FIRST(&conf2.switches), entry)->up,
	    0);

	free(text);
	free(text2);
	config_free(&conf);
	config_free(&conf2);
}

static void
test_vm_dup(void **state)
{
	struct config	 conf;
	struct conf_vm	*vm, *copy;

	(void)state;
	parse_ok(roundtrip_text, &conf);
	vm = config_find_vm(&conf, "web");
	copy = conf_vm_dup(vm);
	assert_ptr_not_equal(copy->kernel, vm->kernel);
	assert_string_equal(copy->kernel, vm->kernel);
	assert_string_equal(copy->disks[2].path, vm->disks[2].path);
	assert_string_equal(copy->nics[0].switchname, "uplink");
	assert_string_equal(copy->nics[3].hostfwd[0], vm->nics[3].hostfwd[0]);
	assert_string_equal(copy->file, "vm.conf");
	config_free(&conf);
	/* The copy outlives the config. */
	assert_string_equal(copy->nics[3].hostfwd[1],
	    "udp::5353-10.0.2.15:53");
	conf_vm_free(copy);
	conf_vm_free(NULL);
}

/* With errout NULL, errors are counted but not written. */
static void
test_null_errout(void **state)
{
	struct config	conf;

	(void)state;
	assert_int_equal(config_parse("vm.conf", "vm a { vcpus 0 }\nbogus\n"
	    "vm b { memory $x }\n", &conf, NULL), 3);
	config_free(&conf);
	assert_int_equal(config_parse("/nonexistent/vm.conf", NULL, &conf,
	    NULL), 1);
	config_free(&conf);
}

/* The parser keeps no state from one call to the next. */
static void
test_repeat(void **state)
{
	static const char *broken[] = {
		"vm a { interface user { hostfwd",
		"a = \"x\nvm b { kernel $a",
		"switch s { interface",
		"vm a { $",
		"include \"/nonexistent\"\nvm a {",
		"x = '\"'\nvm a { kernel $x",
		"}}}}",
		"vm c {\ninterface {\n",
	};
	struct config	 conf;
	size_t		 i;
	int		 n;

	(void)state;
	for (i = 0; i < 3 * sizeof broken / sizeof broken[0]; i++) {
		n = parse(broken[i % (sizeof broken / sizeof broken[0])],
		    &conf, NULL);
		assert_true(n > 0);
		config_free(&conf);
		parse_ok("vm a { memory 1G }\nvm b {}", &conf);
		assert_int_equal(config_find_vm(&conf, "a")->memory,
		    1ULL << 30);
		assert_non_null(config_find_vm(&conf, "b"));
		config_free(&conf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_vcpus),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_disks),
		cmocka_unit_test(test_interfaces),
		cmocka_unit_test(test_hostfwd),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_enable),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_switches),
		cmocka_unit_test(test_stagger_socket),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_separators),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_include_depth),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_vm_dup),
		cmocka_unit_test(test_null_errout),
		cmocka_unit_test(test_repeat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

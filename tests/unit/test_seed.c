/*
 * Unit tests for engine/seed.c, the cloud-init NoCloud seed: its texts,
 * the public key check, and the volume read back with isoinfo (Rock
 * Ridge and Joliet names, volume id cidata).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

#define KEY	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx alice@host"

static const uint8_t macs[2][6] = {
	{ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	{ 0x52, 0x54, 0xab, 0xcd, 0xef, 0x01 },
};

static struct seed
seed_of(const char *vm)
{
	struct seed	s;

	memset(&s, 0, sizeof s);
	s.vm = vm;
	s.user = "alice";
	s.keys = KEY "\n";
	s.macs = macs;
	s.nmacs = 1;
	return s;
}

/* Write s to a new temporary file; its path, malloc'd. */
static char *
write_seed(const struct seed *s)
{
	char	 err[512], *path = strdup("/tmp/vmtop-test-seed.XXXXXX");
	int	 fd;

	assert_non_null(path);
	assert_true((fd = mkstemp(path)) != -1);
	if (seed_write(s, fd, path, err, sizeof err) == -1)
		fail_msg("%s", err);
	close(fd);
	return path;
}

/* What the command prints, malloc'd. */
static char *
run(const char *fmt, const char *path, const char *file)
{
	char	 cmd[512], *out = NULL;
	size_t	 len = 0, n;
	char	 buf[4096];
	FILE	*p, *o;

	snprintf(cmd, sizeof cmd, fmt, path, file);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(o = open_memstream(&out, &len));
	while ((n = fread(buf, 1, sizeof buf, p)) > 0)
		fwrite(buf, 1, n, o);
	assert_int_equal(pclose(p), 0);
	fclose(o);
	return out;
}

/* The file as isoinfo reads it (with -R or -J) must be want (freed). */
static void
extracted(const char *path, const char *names, const char *file, char *want)
{
	char	 fmt[64], *out;

	snprintf(fmt, sizeof fmt, "isoinfo %s -x %%2$s -i %%1$s", names);
	out = run(fmt, path, file);
	assert_string_equal(out, want);
	free(out);
	free(want);
}

static void
test_meta_data(void **state)
{
	struct seed	 s = seed_of("web");
	char		*t = seed_meta_data(&s);

	(void)state;
	assert_string_equal(t, "instance-id: \"web\"\n"
	    "local-hostname: \"web\"\n");
	free(t);
}

static void
test_user_data(void **state)
{
	struct seed	 s = seed_of("web");
	char		*t;

	(void)state;
	s.keys = KEY "\nssh-rsa AAAAB3 \"quoted\\\" bob\n";
	t = seed_user_data(&s);
	assert_string_equal(t, "#cloud-config\n"
	    "users:\n"
	    "  - name: \"alice\"\n"
	    "    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n"
	    "    shell: /bin/bash\n"
	    "    lock_passwd: true\n"
	    "    ssh_authorized_keys:\n"
	    "      - \"" KEY "\"\n"
	    "      - \"ssh-rsa AAAAB3 \\\"quoted\\\\\\\" bob\"\n"
	    "ssh_pwauth: false\n");
	free(t);
}

static void
test_user_data_given(void **state)
{
	struct seed	 s = seed_of("web");
	char		*t;

	(void)state;
	s.user_data = "#cloud-config\nhostname: mine\nXX";
	s.user_data_len = strlen(s.user_data) - 2;
	t = seed_user_data(&s);
	assert_string_equal(t, "#cloud-config\nhostname: mine\n");
	free(t);
}

static void
test_network_config(void **state)
{
	struct seed	 s = seed_of("web");
	char		*t;

	(void)state;
	s.nmacs = 2;
	t = seed_network_config(&s);
	assert_string_equal(t, "version: 2\n"
	    "ethernets:\n"
	    "  nic0:\n"
	    "    match:\n"
	    "      macaddress: \"52:54:00:12:34:56\"\n"
	    "    dhcp4: true\n"
	    "  nic1:\n"
	    "    match:\n"
	    "      macaddress: \"52:54:ab:cd:ef:01\"\n"
	    "    dhcp4: true\n");
	free(t);
	s.nmacs = 0;
	assert_null(seed_network_config(&s));
}

static void
keys_good(const char *text, const char *want)
{
	char	*keys, why[128];

	if (seed_keys(text, strlen(text), &keys, why, sizeof why) == -1)
		fail_msg("%s: %s", text, why);
	assert_string_equal(keys, want);
	free(keys);
}

static void
keys_bad(const char *text, size_t len, const char *want)
{
	char	*keys, why[128];

	assert_int_equal(seed_keys(text, len, &keys, why, sizeof why), -1);
	assert_null(keys);
	assert_string_equal(why, want);
}

static void
test_keys(void **state)
{
	(void)state;
	keys_good(KEY, KEY "\n");
	keys_good("# mine\n\n  " KEY "\r\necdsa-sha2-nistp256 AAAA x\n",
	    KEY "\necdsa-sha2-nistp256 AAAA x\n");
	keys_good("sk-ssh-ed25519@openssh.com AAAA y\n",
	    "sk-ssh-ed25519@openssh.com AAAA y\n");
	keys_bad("", 0, "no SSH public key in it");
	keys_bad("# nothing\n", 10, "no SSH public key in it");
	keys_bad(KEY "\nhello world\n", strlen(KEY) + 13,
	    "line 2 is not an SSH public key");
	keys_bad("ssh-ed25519\n", 12, "line 1 is not an SSH public key");
	keys_bad("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n", 41,
	    "a private key, not a public one");
	keys_bad(KEY "\0", strlen(KEY) + 1,
	    "not a text file (it has a NUL byte)");
}

static void
test_volume(void **state)
{
	struct seed	 s = seed_of("web");
	char		*path, *out;

	(void)state;
	path = write_seed(&s);
	out = run("isoinfo -d -i %s%s", path, "");
	assert_non_null(strstr(out, "Volume id: cidata\n"));
	assert_non_null(strstr(out, "Rock Ridge signatures"));
	assert_non_null(strstr(out, "Joliet with UCS level"));
	free(out);

	extracted(path, "-R", "/meta-data", seed_meta_data(&s));
	extracted(path, "-R", "/user-data", seed_user_data(&s));
	extracted(path, "-J", "/network-config", seed_network_config(&s));
	out = run("isoinfo -J -f -i %s%s", path, "");
	assert_string_equal(out, "/meta-data\n/network-config\n/user-data\n");
	free(out);
	/* Files readable by all, as cloud-init reads them. */
	out = run("isoinfo -R -l -i %s%s", path, "");
	assert_non_null(strstr(out, "-r--r--r--"));
	assert_non_null(strstr(out, "user-data"));
	free(out);
	unlink(path);
	free(path);
}

static void
test_volume_no_network(void **state)
{
	struct seed	 s = seed_of("db");
	char		*path, *out;

	(void)state;
	s.nmacs = 0;
	s.user_data = "#cloud-config\n";
	s.user_data_len = strlen(s.user_data);
	path = write_seed(&s);
	out = run("isoinfo -R -f -i %s%s", path, "");
	assert_string_equal(out, "/meta-data\n/user-data\n");
	free(out);
	extracted(path, "-R", "/user-data", strdup("#cloud-config\n"));
	unlink(path);
	free(path);
}

static void
test_write_error(void **state)
{
	struct seed	 s = seed_of("web");
	char		 err[512];
	int		 fd;

	(void)state;
	assert_true((fd = open("/dev/null", O_RDONLY)) != -1);
	assert_int_equal(seed_write(&s, fd, "/x/cidata.iso", err, sizeof err),
	    -1);
	assert_string_equal(err, "vm web: cloud-init seed /x/cidata.iso: "
	    "Bad file descriptor");
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_data),
		cmocka_unit_test(test_user_data),
		cmocka_unit_test(test_user_data_given),
		cmocka_unit_test(test_network_config),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_volume),
		cmocka_unit_test(test_volume_no_network),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

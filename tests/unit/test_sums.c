/*
 * Unit tests for tui/sums.c, tui/catalog.c and tui/imgcache.c: checksum
 * files in the coreutils and BSD forms, the image catalog, the errors for
 * what is malformed in either, naming the file and the line, and the
 * image cache's info files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

#define H64	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"
#define H128	H64 H64

static void
sums_ok(const char *text, struct sums *sums)
{
	char err[256] = "";

	if (sums_parse("SUMS", text, strlen(text), sums, err, sizeof err) != 0)
		fail_msg("%s", err);
}

/* The text must not parse, with exactly want as the error. */
static void
sums_bad(const char *text, const char *want)
{
	struct sums	sums;
	char		err[256] = "";

	assert_int_equal(sums_parse("SUMS", text, strlen(text), &sums, err,
	    sizeof err), -1);
	assert_string_equal(err, want);
	assert_int_equal(sums.n, 0);
	assert_null(sums.v);
}

static void
test_sums_gnu(void **state)
{
	struct sums		 sums;
	const struct sums_entry	*e;

	(void)state;
	sums_ok("# a comment\n\n" H128 "  debian-12.qcow2\n"
	    H64 " *noble.img\r\n"
	    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
	    "  ./upper case name.raw", &sums);
	assert_int_equal(sums.n, 3);
	e = sums_find(&sums, "debian-12.qcow2", SUMS_SHA512);
	assert_non_null(e);
	assert_string_equal(e->hash, H128);
	assert_null(sums_find(&sums, "debian-12.qcow2", SUMS_SHA256));
	e = sums_find(&sums, "noble.img", SUMS_NONE);
	assert_non_null(e);
	assert_int_equal(e->alg, SUMS_SHA256);
	assert_string_equal(e->name, "noble.img");
	/* hashes come out in lower case; "./" is not part of the name */
	e = sums_find(&sums, "upper case name.raw", SUMS_SHA256);
	assert_non_null(e);
	assert_string_equal(e->hash, H64);
	assert_null(sums_find(&sums, "noble", SUMS_NONE));
	sums_free(&sums);
}

static void
test_sums_bsd(void **state)
{
	struct sums		 sums;
	const struct sums_entry	*e;

	(void)state;
	sums_ok("SHA256 (a.img) = " H64 "\n"
	    "MD5 (a.img) = 0123456789abcdef0123456789abcdef\n"
	    "SHA512 (odd (name) = x.img) = " H128 "\n"
	    "SHA1 (a.img) = whatever\n", &sums);
	assert_int_equal(sums.n, 2);
	assert_non_null(sums_find(&sums, "a.img", SUMS_SHA256));
	e = sums_find(&sums, "odd (name) = x.img", SUMS_SHA512);
	assert_non_null(e);
	assert_string_equal(e->hash, H128);
	sums_free(&sums);
}

static void
test_sums_errors(void **state)
{
	(void)state;
	sums_bad("\n" H64 "  ok\nhello world\n", "SUMS line 3: not a checksum "
	    "line (HASH  NAME, HASH *NAME or SHA256 (NAME) = HASH)");
	sums_bad("abc  short.img\n", "SUMS line 1: a hash of 3 hex digits "
	    "(SHA-256 has 64, SHA-512 128)");
	sums_bad(H64 "\n", "SUMS line 1: not a checksum line (HASH  NAME, "
	    "HASH *NAME or SHA256 (NAME) = HASH)");
	sums_bad(H64 "  \n", "SUMS line 1: no file name after the hash (two "
	    "blanks or \" *\" before it)");
	sums_bad(H64 " -name\n", "SUMS line 1: no file name after the hash "
	    "(two blanks or \" *\" before it)");
	sums_bad("SHA256 (a.img) = " H128 "\n",
	    "SUMS line 1: the SHA-256 hash is not 64 hex digits");
	sums_bad("SHA512 (a.img) = " H64 "zz" H64 "\n",
	    "SUMS line 1: the SHA-512 hash is not 128 hex digits");
	sums_bad("SHA256 (a.img) " H64 "\n",
	    "SUMS line 1: no \") = \" after the file name");
	sums_bad("SHA256 () = " H64 "\n", "SUMS line 1: an empty file name");
}

/* A NUL in the middle: strlen would stop there, so give the size. */
static void
test_sums_nul(void **state)
{
	static const char text[] = H64 "  a.img\n" H64 "  b\0c\n";
	struct sums	sums;
	char		err[256];

	(void)state;
	assert_int_equal(sums_parse("S", text, sizeof text - 1, &sums, err,
	    sizeof err), -1);
	assert_string_equal(err, "S line 2: a NUL byte");
}

static void
test_sums_algs(void **state)
{
	(void)state;
	assert_int_equal(sums_alg_parse("sha512"), SUMS_SHA512);
	assert_int_equal(sums_alg_parse("SHA256"), SUMS_SHA256);
	assert_int_equal(sums_alg_parse("md5"), SUMS_NONE);
	assert_string_equal(sums_alg_name(SUMS_SHA512), "SHA-512");
	assert_int_equal(sums_alg_hexlen(SUMS_SHA256), 64);
}

/* The text must not parse as a catalog, with exactly want as the error. */
static void
catalog_bad(const char *text, const char *want)
{
	struct catalog	cat;
	char		err[512] = "";

	memset(&cat, 0, sizeof cat);
	assert_int_equal(catalog_parse("images.catalog", text, strlen(text),
	    &cat, err, sizeof err), -1);
	assert_string_equal(err, want);
	catalog_free(&cat);
}

static void
test_catalog(void **state)
{
	const struct catalog_image	*img;
	struct catalog			 cat;
	char				 err[512] = "";

	(void)state;
	memset(&cat, 0, sizeof cat);
	const char *text = "# images\n"
	    "debian-12 sha512 https://h/d.qcow2 https://h/SHA512SUMS\n"
	    "\n   \t# indented comment\n"
	    "noble\tSHA256\thttp://h/n.img\tfile:///srv/SHA256SUMS # why\n";
	if (catalog_parse("c", text, strlen(text), &cat, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(cat.n, 2);
	img = catalog_find(&cat, "noble");
	assert_non_null(img);
	assert_int_equal(img->alg, SUMS_SHA256);
	assert_string_equal(img->url, "http://h/n.img");
	assert_string_equal(img->sums_url, "file:///srv/SHA256SUMS");
	img = catalog_find(&cat, "debian-12");
	assert_non_null(img);
	assert_int_equal(img->alg, SUMS_SHA512);
	assert_null(catalog_find(&cat, "debian"));
	catalog_free(&cat);
}

static void
test_catalog_errors(void **state)
{
	(void)state;
	catalog_bad("a sha512 http://h/x\n", "images.catalog line 1: 3 words, "
	    "not 4 (NAME ALGORITHM URL SUMS-URL)");
	catalog_bad("\na sha512 http://h/x http://h/s extra\n",
	    "images.catalog line 2: 5 words, not 4 (NAME ALGORITHM URL "
	    "SUMS-URL)");
	catalog_bad("a/b sha512 http://h/x http://h/s\n",
	    "images.catalog line 1: image name \"a/b\" is not letters, "
	    "digits, '.', '_' and '-' (63 at most)");
	catalog_bad("-a sha512 http://h/x http://h/s\n",
	    "images.catalog line 1: image name \"-a\" is not letters, "
	    "digits, '.', '_' and '-' (63 at most)");
	catalog_bad("a md5 http://h/x http://h/s\n", "images.catalog line 1: "
	    "image a: unknown algorithm \"md5\" (sha256 or sha512)");
	catalog_bad("a sha256 ftp://h/x http://h/s\n", "images.catalog line 1: "
	    "image a: \"ftp://h/x\" is not an http://, https:// or file:/// "
	    "URL");
	catalog_bad("a sha256 http://h/x h/s\n", "images.catalog line 1: "
	    "image a: \"h/s\" is not an http://, https:// or file:/// URL");
	catalog_bad("a sha256 http://h/x http://h/s\n"
	    "a sha512 http://h/y http://h/t\n",
	    "images.catalog line 2: image a is listed twice");
}

/* The shipped catalog (run from the tree) has the images the man page names. */
static void
test_catalog_shipped(void **state)
{
	struct catalog	 cat;
	char		 err[512] = "";

	(void)state;
	memset(&cat, 0, sizeof cat);
	if (catalog_merge(&cat, "share/images.catalog", err,
	    sizeof err) != 0)
		fail_msg("%s", err);
	assert_non_null(catalog_find(&cat, "debian-12"));
	assert_non_null(catalog_find(&cat, "debian-13"));
	assert_int_equal(catalog_find(&cat, "ubuntu-24.04")->alg, SUMS_SHA256);
	assert_int_equal(catalog_find(&cat, "debian-12")->alg, SUMS_SHA512);
	catalog_free(&cat);
}

static void
test_file_of_url(void **state)
{
	char file[IMGCACHE_FILE_SIZE];

	(void)state;
	assert_int_equal(imgcache_file_of_url("https://h/a/b.qcow2?x=1#f",
	    file, sizeof file), 0);
	assert_string_equal(file, "b.qcow2");
	assert_int_equal(imgcache_file_of_url("https://h/a/", file,
	    sizeof file), -1);
	assert_int_equal(imgcache_file_of_url("https://h/..", file,
	    sizeof file), -1);
	assert_int_equal(imgcache_file_of_url("https://h/a%2fb", file,
	    sizeof file), -1);
}

/* Put a file of size bytes in the cache, pulled as name. */
static void
cache_put(const char *dir, const char *name, const char *file, int size)
{
	struct imgcache_info	 in;
	FILE			*f;
	char			 path[512], err[256];

	snprintf(path, sizeof path, "%s/%s", dir, file);
	assert_non_null(f = fopen(path, "w"));
	while (size-- > 0)
		fputc('x', f);
	fclose(f);
	memset(&in, 0, sizeof in);
	snprintf(in.name, sizeof in.name, "%s", name);
	snprintf(in.file, sizeof in.file, "%s", file);
	snprintf(in.url, sizeof in.url, "https://h/%s", file);
	in.alg = SUMS_SHA512;
	snprintf(in.hash, sizeof in.hash, "%s", H128);
	in.verified = 1;
	in.pulled = 1700000000;
	if (imgcache_write(dir, &in, err, sizeof err) != 0)
		fail_msg("%s", err);
}

/* The cache: its info files round-trip, list sorts, find by name or file. */
static void
test_imgcache(void **state)
{
	struct imgcache_info	*v, in;
	char			 tmp[] = "/tmp/vmtop-test-cache.XXXXXX", err[256];
	char			*dir, *path, want[512];
	size_t			 n;

	(void)state;
	assert_non_null(mkdtemp(tmp));
	setenv("VMTOP_STATE_DIR", tmp, 1);
	assert_non_null(dir = imgcache_dir(err, sizeof err));
	cache_put(dir, "debian-12", "d.qcow2", 10);
	cache_put(dir, "a.img", "a.img", 3);
	snprintf(want, sizeof want, "%s/p.img.part", dir);
	fclose(fopen(want, "w"));
	assert_int_equal(imgcache_read(dir, "d.qcow2", &in), 0);
	assert_string_equal(in.name, "debian-12");
	assert_string_equal(in.url, "https://h/d.qcow2");
	assert_string_equal(in.hash, H128);
	assert_int_equal(in.alg, SUMS_SHA512);
	assert_int_equal(in.verified, 1);
	assert_int_equal(in.pulled, 1700000000);
	assert_int_equal(in.size, 10);
	assert_int_equal(imgcache_read(dir, "p.img", &in), -1);
	v = imgcache_list(dir, &n);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "a.img");
	assert_string_equal(v[1].name, "debian-12");
	assert_string_equal(v[2].name, "p.img");
	assert_int_equal(v[2].partial, 1);
	free(v);
	snprintf(want, sizeof want, "%s/d.qcow2", dir);
	path = imgcache_find("debian-12");
	assert_non_null(path);
	assert_string_equal(path, want);
	free(path);
	path = imgcache_find("d.qcow2");
	assert_non_null(path);
	assert_string_equal(path, want);
	free(path);
	assert_null(imgcache_find("p.img"));
	assert_null(imgcache_find("debian-13"));
	free(dir);
	snprintf(want, sizeof want, "rm -rf %s", tmp);
	assert_int_equal(system(want), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums_gnu),
		cmocka_unit_test(test_sums_bsd),
		cmocka_unit_test(test_sums_errors),
		cmocka_unit_test(test_sums_nul),
		cmocka_unit_test(test_sums_algs),
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_catalog_errors),
		cmocka_unit_test(test_catalog_shipped),
		cmocka_unit_test(test_file_of_url),
		cmocka_unit_test(test_imgcache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

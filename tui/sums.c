/*
 * Checksum files as distributions publish them (SHA256SUMS, SHA512SUMS):
 * the coreutils form "HASH  NAME" or "HASH *NAME", where the hash's length
 * tells the algorithm, and the BSD form "SHA256 (NAME) = HASH" of
 * sha256sum --tag. Blank lines and '#' comments are skipped, and so are
 * BSD lines for other algorithms (MD5, SHA1, ...); anything else is an
 * error naming the file and the line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "xmalloc.h"

static const struct {
	int		 alg;
	const char	*tag;		/* BSD form */
	const char	*name;		/* for people */
	size_t		 hexlen;
} sums_algs[] = {
	{ SUMS_SHA256, "SHA256", "SHA-256", 64 },
	{ SUMS_SHA512, "SHA512", "SHA-512", 128 },
};
#define SUMS_NALGS	(sizeof sums_algs / sizeof sums_algs[0])

const char *
sums_alg_name(int alg)
{
	size_t i;

	for (i = 0; i < SUMS_NALGS; i++)
		if (sums_algs[i].alg == alg)
			return sums_algs[i].name;
	return "no checksum";
}

/* sha256 or sha512, as the catalog and -a spell them. */
int
sums_alg_parse(const char *s)
{
	size_t i;

	for (i = 0; i < SUMS_NALGS; i++)
		if (strcasecmp(s, sums_algs[i].tag) == 0)
			return sums_algs[i].alg;
	return SUMS_NONE;
}

size_t
sums_alg_hexlen(int alg)
{
	size_t i;

	for (i = 0; i < SUMS_NALGS; i++)
		if (sums_algs[i].alg == alg)
			return sums_algs[i].hexlen;
	return 0;
}

/* Copy n hex digits to out, in lower case; -1 if one is not a digit. */
static int
sums_hex(const char *s, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		out[i] = tolower((unsigned char)s[i]);
	}
	out[n] = '\0';
	return 0;
}

static void
sums_add(struct sums *sums, int alg, const char *hash, const char *name,
    size_t namelen)
{
	struct sums_entry *e;

	sums->v = xreallocarray(sums->v, sums->n + 1, sizeof *sums->v);
	e = &sums->v[sums->n++];
	e->alg = alg;
	snprintf(e->hash, sizeof e->hash, "%s", hash);
	e->name = xstrndup(name, namelen);
}

/*
 * One BSD line "TAG (NAME) = HASH" of len bytes. Return values: 1 for an
 * entry added, 0 for a tag we do not check (skipped), -1 with err.
 */
static int
sums_bsd(struct sums *sums, const char *s, size_t len, char *err,
    size_t errlen)
{
	const char	*open, *close, *hash, *end = s + len;
	char		 hex[SUMS_HEX_SIZE];
	size_t		 i, taglen, hexlen;

	open = memchr(s, '(', len);
	taglen = open - s - 1;
	for (close = end - 1; close > open; close--)
		if (close[0] == ')' && end - close >= 4 &&
		    memcmp(close, ") = ", 4) == 0)
			break;
	if (close <= open) {
		snprintf(err, errlen, "no \") = \" after the file name");
		return -1;
	}
	if (close == open + 1) {
		snprintf(err, errlen, "an empty file name");
		return -1;
	}
	hash = close + 4;
	hexlen = end - hash;
	for (i = 0; i < SUMS_NALGS; i++)
		if (strlen(sums_algs[i].tag) == taglen &&
		    memcmp(s, sums_algs[i].tag, taglen) == 0)
			break;
	if (i == SUMS_NALGS)
		return 0;
	if (hexlen != sums_algs[i].hexlen ||
	    sums_hex(hash, hexlen, hex) == -1) {
		snprintf(err, errlen, "the %s hash is not %zu hex digits",
		    sums_algs[i].name, sums_algs[i].hexlen);
		return -1;
	}
	sums_add(sums, sums_algs[i].alg, hex, open + 1, close - open - 1);
	return 1;
}

/* One coreutils line "HASH  NAME" or "HASH *NAME"; -1 with err. */
static int
sums_gnu(struct sums *sums, const char *s, size_t len, char *err,
    size_t errlen)
{
	char	hex[SUMS_HEX_SIZE];
	size_t	n, i;

	for (n = 0; n < len && isxdigit((unsigned char)s[n]); n++)
		;
	if (n == len || s[n] != ' ' || n == 0) {
		snprintf(err, errlen, "not a checksum line (HASH  NAME, "
		    "HASH *NAME or SHA256 (NAME) = HASH)");
		return -1;
	}
	for (i = 0; i < SUMS_NALGS; i++)
		if (sums_algs[i].hexlen == n)
			break;
	if (i == SUMS_NALGS) {
		snprintf(err, errlen, "a hash of %zu hex digits (SHA-256 has "
		    "64, SHA-512 128)", n);
		return -1;
	}
	if (n + 2 >= len || (s[n + 1] != ' ' && s[n + 1] != '*')) {
		snprintf(err, errlen, "no file name after the hash (two "
		    "blanks or \" *\" before it)");
		return -1;
	}
	sums_hex(s, n, hex);
	sums_add(sums, sums_algs[i].alg, hex, s + n + 2, len - n - 2);
	return 1;
}

/* Whether s starts a BSD line: capitals and digits, then " (". */
static int
sums_is_bsd(const char *s, size_t len)
{
	size_t n;

	for (n = 0; n < len; n++)
		if (!isupper((unsigned char)s[n]) &&
		    !isdigit((unsigned char)s[n]) && s[n] != '-')
			break;
	return n > 0 && n + 1 < len && s[n] == ' ' && s[n + 1] == '(';
}

int
sums_parse(const char *file, const char *text, size_t size,
    struct sums *sums, char *err, size_t errlen)
{
	const char	*p = text, *end = text + size, *s;
	char		 why[128];
	size_t		 len;
	int		 line = 0, rv;

	memset(sums, 0, sizeof *sums);
	while ((s = format_line(&p, end, &len)) != NULL) {
		line++;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len == 0 || s[0] == '#')
			continue;
		if (memchr(s, '\0', len) != NULL) {
			snprintf(why, sizeof why, "a NUL byte");
			rv = -1;
		} else if (sums_is_bsd(s, len))
			rv = sums_bsd(sums, s, len, why, sizeof why);
		else
			rv = sums_gnu(sums, s, len, why, sizeof why);
		if (rv == -1) {
			snprintf(err, errlen, "%s line %d: %s", file, line, why);
			sums_free(sums);
			return -1;
		}
	}
	return 0;
}

/* The entry for name (with or without a leading "./"), or NULL. */
const struct sums_entry *
sums_find(const struct sums *sums, const char *name, int alg)
{
	const char	*n;
	size_t		 i;

	for (i = 0; i < sums->n; i++) {
		n = sums->v[i].name;
		if (strncmp(n, "./", 2) == 0)
			n += 2;
		if (strcmp(n, name) == 0 &&
		    (alg == SUMS_NONE || sums->v[i].alg == alg))
			return &sums->v[i];
	}
	return NULL;
}

void
sums_free(struct sums *sums)
{
	size_t i;

	for (i = 0; i < sums->n; i++)
		free(sums->v[i].name);
	free(sums->v);
	memset(sums, 0, sizeof *sums);
}

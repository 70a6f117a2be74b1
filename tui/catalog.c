/*
 * The image catalog: the cloud images `pull` knows by name. One image a
 * line, "NAME ALGORITHM URL SUMS-URL" (blanks between, '#' comments):
 * where the image is, the checksum file that lists it and the hash that
 * file gives. vmtop ships one (share/images.catalog); a user's own
 * (~/.config/vmtop/images.catalog) comes first, so it can add images or
 * point a name elsewhere.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui.h"
#include "paths.h"
#include "xmalloc.h"

/* The largest catalog read; the shipped one is a few lines. */
#define CATALOG_MAX	(1024 * 1024)

/* Whether name is a plain image name: letters, digits, '.', '_', '-'. */
int
catalog_valid_name(const char *name)
{
	size_t n;

	if (name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return 0;
	for (n = 0; name[n] != '\0'; n++)
		if (!isalnum((unsigned char)name[n]) && name[n] != '.' &&
		    name[n] != '_' && name[n] != '-')
			return 0;
	return n < CATALOG_NAME_SIZE;
}

/* Whether url is one pull fetches: http, https or file. */
int
catalog_valid_url(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	    strncmp(url, "https://", 8) == 0 ||
	    strncmp(url, "file:///", 8) == 0;
}

/* Split s (len bytes) at blanks into at most max words, in place. */
static int
catalog_words(char *s, char **words, int max)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			return n;
		if (n == max)
			return max + 1;
		words[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
}

/* Check one line's words and add the image; -1 with why. */
static int
catalog_add(struct catalog *cat, char **w, int n, char *why, size_t len)
{
	struct catalog_image	*img;
	int			 alg;

	if (n != 4) {
		snprintf(why, len, "%d words, not 4 (NAME ALGORITHM URL "
		    "SUMS-URL)", n);
		return -1;
	}
	if (!catalog_valid_name(w[0])) {
		snprintf(why, len, "image name \"%.64s\" is not letters, "
		    "digits, '.', '_' and '-' (%d at most)", w[0],
		    CATALOG_NAME_SIZE - 1);
		return -1;
	}
	if (catalog_find(cat, w[0]) != NULL) {
		snprintf(why, len, "image %s is listed twice", w[0]);
		return -1;
	}
	if ((alg = sums_alg_parse(w[1])) == SUMS_NONE) {
		snprintf(why, len, "image %s: unknown algorithm \"%.32s\" "
		    "(sha256 or sha512)", w[0], w[1]);
		return -1;
	}
	if (!catalog_valid_url(w[2]) || !catalog_valid_url(w[3])) {
		snprintf(why, len, "image %s: \"%.200s\" is not an http://, "
		    "https:// or file:/// URL", w[0],
		    catalog_valid_url(w[2]) ? w[3] : w[2]);
		return -1;
	}
	cat->v = xreallocarray(cat->v, cat->n + 1, sizeof *cat->v);
	img = &cat->v[cat->n++];
	snprintf(img->name, sizeof img->name, "%s", w[0]);
	img->alg = alg;
	img->url = xstrdup(w[2]);
	img->sums_url = xstrdup(w[3]);
	return 0;
}

int
catalog_parse(const char *file, const char *text, size_t size,
    struct catalog *cat, char *err, size_t errlen)
{
	const char	*p = text, *end = text + size, *s;
	char		*copy, *w[5], why[512];
	size_t		 len;
	int		 line = 0, n;

	while ((s = format_line(&p, end, &len)) != NULL) {
		line++;
		if (memchr(s, '\0', len) != NULL) {
			snprintf(err, errlen, "%s line %d: a NUL byte", file,
			    line);
			return -1;
		}
		copy = xstrndup(s, len);
		n = catalog_words(copy, w, 4);
		if (n != 0 && catalog_add(cat, w, n, why, sizeof why) == -1) {
			snprintf(err, errlen, "%s line %d: %s", file, line, why);
			free(copy);
			return -1;
		}
		free(copy);
	}
	return 0;
}

/* Add the catalog in path, if there is one; -1 with err. */
static int
catalog_read(struct catalog *cat, const char *path, char *err,
    size_t errlen)
{
	FILE	*f;
	char	*text;
	size_t	 n;
	int	 rv;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "the image catalog %s: %s", path,
		    strerror(errno));
		return -1;
	}
	text = xmalloc(CATALOG_MAX + 1);
	n = fread(text, 1, CATALOG_MAX + 1, f);
	if (ferror(f) || n > CATALOG_MAX) {
		snprintf(err, errlen, "the image catalog %s: %s", path,
		    ferror(f) ? strerror(errno) : "larger than 1 MiB");
		fclose(f);
		free(text);
		return -1;
	}
	fclose(f);
	rv = catalog_parse(path, text, n, cat, err, errlen);
	free(text);
	return rv;
}

/*
 * The shipped catalog: $VMTOP_CATALOG, share/images.catalog beside the
 * program (a build tree), else SHAREDIR's (malloc'd).
 */
char *
catalog_shipped_path(void)
{
	const char	*env;
	char		*dir, *path;

	if ((env = getenv("VMTOP_CATALOG")) != NULL && *env != '\0')
		return xstrdup(env);
	if ((dir = paths_exedir()) != NULL) {
		xasprintf(&path, "%s/share/images.catalog", dir);
		free(dir);
		if (access(path, R_OK) == 0)
			return path;
		free(path);
	}
	return xstrdup(SHAREDIR "/images.catalog");
}

int
catalog_load(struct catalog *cat, char *err, size_t errlen)
{
	char	*dir, *path;
	int	 rv;

	memset(cat, 0, sizeof *cat);
	dir = paths_user_configdir();
	xasprintf(&path, "%s/images.catalog", dir);
	free(dir);
	rv = catalog_read(cat, path, err, errlen);
	free(path);
	if (rv == 0) {
		path = catalog_shipped_path();
		rv = catalog_merge(cat, path, err, errlen);
		free(path);
	}
	if (rv == -1)
		catalog_free(cat);
	return rv;
}

/* Add path's images whose names cat does not have yet; -1 with err. */
int
catalog_merge(struct catalog *cat, const char *path, char *err,
    size_t errlen)
{
	struct catalog	 more;
	size_t		 i;

	memset(&more, 0, sizeof more);
	if (catalog_read(&more, path, err, errlen) == -1) {
		catalog_free(&more);
		return -1;
	}
	for (i = 0; i < more.n; i++) {
		if (catalog_find(cat, more.v[i].name) != NULL) {
			free(more.v[i].url);
			free(more.v[i].sums_url);
			continue;
		}
		cat->v = xreallocarray(cat->v, cat->n + 1, sizeof *cat->v);
		cat->v[cat->n++] = more.v[i];
	}
	free(more.v);
	return 0;
}

const struct catalog_image *
catalog_find(const struct catalog *cat, const char *name)
{
	size_t i;

	for (i = 0; i < cat->n; i++)
		if (strcmp(cat->v[i].name, name) == 0)
			return &cat->v[i];
	return NULL;
}

void
catalog_free(struct catalog *cat)
{
	size_t i;

	for (i = 0; i < cat->n; i++) {
		free(cat->v[i].url);
		free(cat->v[i].sums_url);
	}
	free(cat->v);
	memset(cat, 0, sizeof *cat);
}

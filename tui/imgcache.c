/*
 * The image cache that pull fills: STATEDIR/images (DESIGN.md's state
 * directory, $VMTOP_STATE_DIR in tests), the user's own. Each image is
 * its URL's last part, FILE; FILE.part while it is being pulled (locked
 * by the pull that writes it), FILE.info once it is whole: "key value"
 * lines with the name it was pulled as, the URL, the hash, whether that
 * was checked against a checksum file, and when.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"
#include "paths.h"
#include "xmalloc.h"

char *
imgcache_dir(char *err, size_t errlen)
{
	char *state, *dir;

	state = paths_statedir();
	xasprintf(&dir, "%s/images", state);
	free(state);
	if (paths_mkdirs(dir, 0700) == -1) {
		snprintf(err, errlen, "cannot create the image cache %s: %s",
		    dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

int
imgcache_file_of_url(const char *url, char *file, size_t len)
{
	const char	*s, *end;
	size_t		 n;

	end = url + strcspn(url, "?#");
	for (s = end; s > url && s[-1] != '/'; s--)
		;
	n = end - s;
	if (n == 0 || n >= len || n >= IMGCACHE_FILE_SIZE || s[0] == '.' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-+") < n)
		return -1;
	memcpy(file, s, n);
	file[n] = '\0';
	return 0;
}

int
imgcache_write(const char *dir, const struct imgcache_info *in, char *err,
    size_t errlen)
{
	FILE	*f;
	char	*path, *tmp;
	int	 rv = 0;

	xasprintf(&path, "%s/%s.info", dir, in->file);
	xasprintf(&tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		rv = -1;
		goto out;
	}
	fprintf(f, "name %s\nurl %s\n", in->name, in->url);
	if (in->sums_url[0] != '\0')
		fprintf(f, "sums-url %s\n", in->sums_url);
	fprintf(f, "%s %s\nverified %s\npulled %lld\n",
	    in->alg == SUMS_SHA512 ? "sha512" : "sha256", in->hash,
	    in->verified ? "yes" : "no", (long long)in->pulled);
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		rv = -1;
	}
out:
	free(tmp);
	free(path);
	return rv;
}

/* Fill in one "key value" line of an info file. */
static void
imgcache_field(struct imgcache_info *in, const char *key, const char *v)
{
	int alg;

	if (strcmp(key, "name") == 0)
		snprintf(in->name, sizeof in->name, "%s", v);
	else if (strcmp(key, "url") == 0)
		snprintf(in->url, sizeof in->url, "%s", v);
	else if (strcmp(key, "sums-url") == 0)
		snprintf(in->sums_url, sizeof in->sums_url, "%s", v);
	else if (strcmp(key, "verified") == 0)
		in->verified = strcmp(v, "yes") == 0;
	else if (strcmp(key, "pulled") == 0)
		in->pulled = strtoll(v, NULL, 10);
	else if ((alg = sums_alg_parse(key)) != SUMS_NONE) {
		in->alg = alg;
		snprintf(in->hash, sizeof in->hash, "%s", v);
	}
}

int
imgcache_read(const char *dir, const char *file, struct imgcache_info *in)
{
	struct stat	 sb;
	FILE		*f;
	char		*path, line[IMGCACHE_URL_SIZE + 32], *v;

	memset(in, 0, sizeof *in);
	snprintf(in->file, sizeof in->file, "%s", file);
	xasprintf(&path, "%s/%s", dir, file);
	if (stat(path, &sb) == -1) {
		free(path);
		return -1;
	}
	in->size = sb.st_size;
	free(path);
	xasprintf(&path, "%s/%s.info", dir, file);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((v = strchr(line, ' ')) == NULL)
			continue;
		*v++ = '\0';
		imgcache_field(in, line, v);
	}
	fclose(f);
	return 0;
}

static int
imgcache_compare(const void *a, const void *b)
{
	const struct imgcache_info *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/*
 * Every image in the cache, whole (FILE.info) or being pulled (FILE.part,
 * partial set, name the file's), sorted by name; malloc'd, *n of them.
 */
struct imgcache_info *
imgcache_list(const char *dir, size_t *n)
{
	struct imgcache_info	*v = NULL, in;
	struct dirent		*de;
	struct stat		 sb;
	DIR			*d;
	char			 file[IMGCACHE_FILE_SIZE], *path;
	size_t			 len;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 5 && len - 5 < sizeof file &&
		    strcmp(de->d_name + len - 5, ".info") == 0) {
			memcpy(file, de->d_name, len - 5);
			file[len - 5] = '\0';
			if (imgcache_read(dir, file, &in) == -1)
				continue;
		} else if (len > 5 && len - 5 < sizeof file &&
		    strcmp(de->d_name + len - 5, ".part") == 0) {
			memset(&in, 0, sizeof in);
			memcpy(in.file, de->d_name, len - 5);
			in.file[len - 5] = '\0';
			snprintf(in.name, sizeof in.name, "%s", in.file);
			xasprintf(&path, "%s/%s", dir, de->d_name);
			if (stat(path, &sb) == 0) {
				in.size = sb.st_size;
				in.pulled = sb.st_mtime;
			}
			free(path);
			in.partial = 1;
		} else
			continue;
		v = xreallocarray(v, *n + 1, sizeof *v);
		v[(*n)++] = in;
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof *v, imgcache_compare);
	return v;
}

/*
 * The path of the whole image pulled as name, or whose cache file is
 * name (malloc'd), for commands that take an image by its name; NULL if
 * the cache has none.
 */
char *
imgcache_find(const char *name)
{
	struct imgcache_info	*v;
	char			 err[256], *dir, *path = NULL;
	size_t			 n, i;

	if ((dir = imgcache_dir(err, sizeof err)) == NULL)
		return NULL;
	v = imgcache_list(dir, &n);
	for (i = 0; i < n && path == NULL; i++)
		if (!v[i].partial && strcmp(v[i].name, name) == 0)
			xasprintf(&path, "%s/%s", dir, v[i].file);
	for (i = 0; i < n && path == NULL; i++)
		if (!v[i].partial && strcmp(v[i].file, name) == 0)
			xasprintf(&path, "%s/%s", dir, v[i].file);
	free(v);
	free(dir);
	return path;
}

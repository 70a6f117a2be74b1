/*
 * The cloud-init NoCloud seed: an ISO 9660 volume labelled "cidata" with
 * Rock Ridge and Joliet names (cloud-init reads "meta-data", not the
 * 8.3 name plain ISO 9660 would give), holding meta-data, user-data and,
 * when the VM has user-mode NICs, network-config (version 2, DHCP on
 * each, matched by the MAC the engine gives it). libisofs, the library
 * xorriso is built on, writes the volume. The texts are made here from
 * plain data; who reads the owner's key files is opener.c's business.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* No libburn here: libisofs.h then declares struct burn_source itself. */
#define LIBISOFS_WITHOUT_LIBBURN
#include <libisofs.h>

#include "engine.h"
#include "log.h"
#include "xmalloc.h"

#define SEED_SECTOR	2048

/* Write s as a double-quoted YAML scalar. */
static void
seed_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static FILE *
seed_open_text(char **text, size_t *len)
{
	FILE	*f;

	if ((f = open_memstream(text, len)) == NULL)
		fatal("%s: open_memstream", __func__);
	return f;
}

static char *
seed_close_text(FILE *f, char **text)
{
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	return *text;
}

char *
seed_meta_data(const struct seed *s)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f = seed_open_text(&text, &len);

	fputs("instance-id: ", f);
	seed_quote(f, s->vm);
	fputs("\nlocal-hostname: ", f);
	seed_quote(f, s->vm);
	fputc('\n', f);
	return seed_close_text(f, &text);
}

char *
seed_user_data(const struct seed *s)
{
	char		*text = NULL, *line, *keys, *p;
	size_t		 len = 0;
	FILE		*f;

	if (s->user_data != NULL) {
		text = xmalloc(s->user_data_len + 1);
		memcpy(text, s->user_data, s->user_data_len);
		text[s->user_data_len] = '\0';
		return text;
	}
	f = seed_open_text(&text, &len);
	fputs("#cloud-config\nusers:\n  - name: ", f);
	seed_quote(f, s->user);
	fputs("\n    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n"
	    "    shell: /bin/bash\n"
	    "    lock_passwd: true\n"
	    "    ssh_authorized_keys:\n", f);
	keys = xstrdup(s->keys != NULL ? s->keys : "");
	for (p = keys; (line = strsep(&p, "\n")) != NULL;) {
		if (*line == '\0')
			continue;
		fputs("      - ", f);
		seed_quote(f, line);
		fputc('\n', f);
	}
	free(keys);
	fputs("ssh_pwauth: false\n", f);
	return seed_close_text(f, &text);
}

char *
seed_network_config(const struct seed *s)
{
	char		*text = NULL;
	size_t		 len = 0;
	const uint8_t	*m;
	FILE		*f;
	int		 i;

	if (s->nmacs == 0)
		return NULL;
	f = seed_open_text(&text, &len);
	fputs("version: 2\nethernets:\n", f);
	for (i = 0; i < s->nmacs; i++) {
		m = s->macs[i];
		fprintf(f, "  nic%d:\n    match:\n      macaddress: "
		    "\"%02x:%02x:%02x:%02x:%02x:%02x\"\n    dhcp4: true\n", i,
		    m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	return seed_close_text(f, &text);
}

/* The first word of a public key line, as OpenSSH names its key types. */
static int
seed_key_type_ok(const char *line)
{
	static const char *const prefixes[] = {
		"ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-sha2-",
	};
	size_t	 i;

	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(line, prefixes[i], strlen(prefixes[i])) == 0)
			return strchr(line, ' ') != NULL;
	return 0;
}

int
seed_keys(const char *text, size_t len, char **keys, char *why,
    size_t whylen)
{
	char	*copy, *p, *line, *out = NULL;
	size_t	 outlen = 0;
	FILE	*f;
	int	 n = 0, lineno = 0, rv = -1;

	*keys = NULL;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(why, whylen, "not a text file (it has a NUL byte)");
		return -1;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (strstr(copy, "PRIVATE KEY") != NULL) {
		snprintf(why, whylen, "a private key, not a public one");
		free(copy);
		return -1;
	}
	f = seed_open_text(&out, &outlen);
	for (p = copy; (line = strsep(&p, "\n")) != NULL;) {
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		if (!seed_key_type_ok(line)) {
			snprintf(why, whylen, "line %d is not an SSH public key",
			    lineno);
			goto out;
		}
		fprintf(f, "%s\n", line);
		n++;
	}
	if (n == 0)
		snprintf(why, whylen, "no SSH public key in it");
	else
		rv = 0;
out:
	seed_close_text(f, &out);
	free(copy);
	if (rv == 0)
		*keys = out;
	else
		free(out);
	return rv;
}

/* Add a file named name holding text (taken) to dir; a libisofs code. */
static int
seed_add(IsoImage *image, IsoDir *dir, const char *name, char *text)
{
	IsoStream	*st;
	int		 rv;

	if ((rv = iso_memory_stream_new((unsigned char *)text, strlen(text),
	    &st)) < 0) {
		free(text);
		return rv;
	}
	/* The file takes the stream's reference. */
	if ((rv = iso_image_add_new_file(image, dir, name, st, NULL)) < 0)
		iso_stream_unref(st);
	return rv;
}

/* Copy the image the burn source makes to fd; 0, or -1 and errno. */
static int
seed_copy(struct burn_source *src, int fd)
{
	unsigned char	 buf[SEED_SECTOR];
	ssize_t		 w;
	int		 n, off;

	for (;;) {
		n = src->read_xt != NULL ? src->read_xt(src, buf, sizeof buf) :
		    src->read(src, buf, sizeof buf);
		if (n == 0)
			return 0;
		if (n < 0) {
			errno = EIO;
			return -1;
		}
		for (off = 0; off < n; off += w)
			if ((w = write(fd, buf + off, n - off)) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				return -1;
			}
	}
}

int
seed_write(const struct seed *s, int fd, const char *path, char *err,
    size_t errlen)
{
	static int		 inited;
	struct burn_source	*src = NULL;
	IsoWriteOpts		*opts = NULL;
	IsoImage		*image = NULL;
	IsoDir			*root;
	char			*net;
	int			 rv;

	if (!inited) {
		if ((rv = iso_init_with_flag(1)) < 0)
			goto bad;
		iso_set_msgs_severities("NEVER", "NEVER", "vmtop");
		inited = 1;
	}
	if ((rv = iso_image_new("cidata", &image)) < 0)
		goto bad;
	iso_image_set_volume_id(image, "cidata");
	iso_image_set_application_id(image, "vmtop");
	root = iso_image_get_root(image);
	if ((rv = seed_add(image, root, "meta-data", seed_meta_data(s))) < 0 ||
	    (rv = seed_add(image, root, "user-data", seed_user_data(s))) < 0)
		goto bad;
	if ((net = seed_network_config(s)) != NULL &&
	    (rv = seed_add(image, root, "network-config", net)) < 0)
		goto bad;
	/*
	 * Rock Ridge and Joliet, files 0444 and folders 0555, root's; the
	 * label in lower case, as cloud-localds (genisoimage) writes it;
	 * Joliet names as they are, with no ";1" or added ".".
	 */
	if ((rv = iso_write_opts_new(&opts, 2)) < 0 ||
	    (rv = iso_write_opts_set_relaxed_vol_atts(opts, 1)) < 0 ||
	    (rv = iso_write_opts_set_omit_version_numbers(opts, 2)) < 0 ||
	    (rv = iso_write_opts_set_no_force_dots(opts, 2)) < 0 ||
	    (rv = iso_image_create_burn_source(image, opts, &src)) < 0)
		goto bad;
	if (seed_copy(src, fd) == -1) {
		snprintf(err, errlen, "vm %s: cloud-init seed %s: %s", s->vm,
		    path, strerror(errno));
		src->cancel(src);
		rv = 0;
		goto out;
	}
	rv = 1;
	goto out;
bad:
	snprintf(err, errlen, "vm %s: cloud-init seed %s: %s", s->vm, path,
	    iso_error_to_msg(rv));
	rv = 0;
out:
	if (src != NULL) {
		src->free_data(src);
		free(src);
	}
	if (opts != NULL)
		iso_write_opts_free(opts);
	if (image != NULL)
		iso_image_unref(image);
	return rv == 1 ? 0 : -1;
}

/*
 * Downloads for pull, with libcurl: a small text (a checksum file) into
 * memory, or an image into a file that may already hold the start of it
 * from a pull that was cut, hashed while it comes in. The hash is
 * OpenSSL's libcrypto (EVP), the library libcurl already does TLS with.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "tui.h"
#include "xmalloc.h"

/* A transfer that moves less than 1 byte/s for this long is given up. */
#define FETCH_STALL_SECONDS	60
#define FETCH_CONNECT_SECONDS	30

/* One transfer into memory or a file. */
struct fetch_state {
	struct fetch_file	*ff;		/* NULL: into buf */
	CURL			*curl;
	EVP_MD_CTX		*md;
	uint64_t		 have;		/* on file when it began */
	uint64_t		 off;		/* where the next byte goes */
	long			 range_start;	/* Content-Range's, or -1 */
	int			 checked;	/* the status was looked at */
	int			 werrno;	/* a write failed */
	int			 bad_range;	/* a 206 from the wrong offset */
	char			*buf;
	size_t			 len;
	size_t			 max;
};

static int
fetch_init(void)
{
	static int done;

	if (!done && curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return -1;
	done = 1;
	return 0;
}

static const EVP_MD *
fetch_md(int alg)
{
	return alg == SUMS_SHA512 ? EVP_sha512() : EVP_sha256();
}

/* The start of a 206's "Content-Range: bytes START-END/SIZE". */
static size_t
fetch_header_cb(char *s, size_t size, size_t n, void *arg)
{
	struct fetch_state	*st = arg;
	size_t			 len = size * n;
	char			 line[128];

	if (len < sizeof line && strncasecmp(s, "content-range:", 14) == 0) {
		memcpy(line, s, len);
		line[len] = '\0';
		if (sscanf(line + 14, " bytes %ld-", &st->range_start) != 1)
			st->range_start = -1;
	}
	return len;
}

/*
 * The first bytes of the body: a server that ignored the Range request
 * (200, not 206) sends the whole image, so what the file held goes.
 */
static int
fetch_check_status(struct fetch_state *st)
{
	long code = 0;

	st->checked = 1;
	if (st->have == 0)
		return 0;
	curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code == 206 && st->range_start != -1 &&
	    (uint64_t)st->range_start != st->have) {
		st->bad_range = 1;
		return -1;
	}
	if (code != 200)
		return 0;
	if (ftruncate(st->ff->fd, 0) == -1) {
		st->werrno = errno;
		return -1;
	}
	EVP_DigestInit_ex(st->md, fetch_md(st->ff->alg), NULL);
	st->ff->restarted = 1;
	st->ff->resumed_from = 0;
	st->have = st->off = 0;
	return 0;
}

static size_t
fetch_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct fetch_state	*st = arg;
	size_t			 len = size * n, done;
	ssize_t			 w;

	if (st->ff == NULL) {
		if (st->len + len > st->max)
			return 0;
		st->buf = xreallocarray(st->buf, st->len + len + 1, 1);
		memcpy(st->buf + st->len, data, len);
		st->len += len;
		return len;
	}
	if (!st->checked && fetch_check_status(st) == -1)
		return 0;
	for (done = 0; done < len; done += w) {
		w = pwrite(st->ff->fd, data + done, len - done,
		    st->off + done);
		if (w == -1 && errno == EINTR)
			w = 0;
		else if (w == -1) {
			st->werrno = errno;
			return 0;
		}
	}
	EVP_DigestUpdate(st->md, data, len);
	st->off += len;
	return len;
}

static int
fetch_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct fetch_state	*st = arg;
	struct fetch_file	*ff = st->ff;

	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (ff != NULL && ff->progress != NULL && st->checked)
		ff->progress(st->off, dltotal > 0 ? st->have + dltotal : 0,
		    ff->arg);
	return 0;
}

/* A handle for url with what every transfer sets. */
static CURL *
fetch_handle(const char *url, struct fetch_state *st, char *errbuf)
{
	CURL *c;

	if (fetch_init() == -1 || (c = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vmtop");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)FETCH_CONNECT_SECONDS);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)FETCH_STALL_SECONDS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, st);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, fetch_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, st);
	st->curl = c;
	st->range_start = -1;
	return c;
}

/* The sentence for a transfer that ended with rc. */
static void
fetch_error(struct fetch_state *st, CURLcode rc, const char *errbuf,
    char *err, size_t errlen)
{
	long code = 0;

	curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &code);
	if (st->werrno != 0)
		snprintf(err, errlen, "cannot write it: %s",
		    strerror(st->werrno));
	else if (st->bad_range)
		snprintf(err, errlen, "the server resumed at byte %ld, not "
		    "at %llu", st->range_start, (unsigned long long)st->have);
	else if (st->ff == NULL && rc == CURLE_WRITE_ERROR)
		snprintf(err, errlen, "larger than %zu bytes", st->max);
	else if (rc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(err, errlen, "the server answered HTTP %ld", code);
	else
		snprintf(err, errlen, "%s", errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(rc));
}

int
fetch_text(const char *url, size_t max, char **text, size_t *len,
    char *err, size_t errlen)
{
	struct fetch_state	 st;
	char			 errbuf[CURL_ERROR_SIZE] = "";
	CURLcode		 rc;

	memset(&st, 0, sizeof st);
	st.max = max;
	if (fetch_handle(url, &st, errbuf) == NULL) {
		snprintf(err, errlen, "libcurl cannot start");
		return -1;
	}
	if ((rc = curl_easy_perform(st.curl)) != CURLE_OK) {
		fetch_error(&st, rc, errbuf, err, errlen);
		curl_easy_cleanup(st.curl);
		free(st.buf);
		return -1;
	}
	curl_easy_cleanup(st.curl);
	if (st.buf == NULL)
		st.buf = xmalloc(1);
	st.buf[st.len] = '\0';
	*text = st.buf;
	*len = st.len;
	return 0;
}

/* Hash the first n bytes of fd into md; -1 with errno. */
static int
fetch_hash_file(int fd, uint64_t n, EVP_MD_CTX *md)
{
	char		buf[65536];
	uint64_t	off;
	ssize_t		r;

	for (off = 0; off < n; off += r) {
		r = pread(fd, buf, n - off < sizeof buf ? n - off : sizeof buf,
		    off);
		if (r == -1 && errno == EINTR)
			r = 0;
		else if (r == -1)
			return -1;
		else if (r == 0) {
			errno = EIO;
			return -1;
		}
		EVP_DigestUpdate(md, buf, r);
	}
	return 0;
}

/* One transfer from the file's end; 1 to try again from 0, 0, or -1. */
static int
fetch_file_once(struct fetch_file *ff, EVP_MD_CTX *md, char *err,
    size_t errlen)
{
	struct fetch_state	 st;
	struct stat		 sb;
	char			 errbuf[CURL_ERROR_SIZE] = "";
	CURLcode		 rc;
	long			 code = 0;

	memset(&st, 0, sizeof st);
	st.ff = ff;
	st.md = md;
	if (fstat(ff->fd, &sb) == -1) {
		snprintf(err, errlen, "cannot read it: %s", strerror(errno));
		return -1;
	}
	st.have = st.off = ff->resumed_from = sb.st_size;
	EVP_DigestInit_ex(md, fetch_md(ff->alg), NULL);
	if (fetch_hash_file(ff->fd, st.have, md) == -1) {
		snprintf(err, errlen, "cannot read it: %s", strerror(errno));
		return -1;
	}
	if (fetch_handle(ff->url, &st, errbuf) == NULL) {
		snprintf(err, errlen, "libcurl cannot start");
		return -1;
	}
	curl_easy_setopt(st.curl, CURLOPT_RESUME_FROM_LARGE,
	    (curl_off_t)st.have);
	curl_easy_setopt(st.curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(st.curl, CURLOPT_XFERINFOFUNCTION, fetch_progress_cb);
	curl_easy_setopt(st.curl, CURLOPT_XFERINFODATA, &st);
	rc = curl_easy_perform(st.curl);
	curl_easy_getinfo(st.curl, CURLINFO_RESPONSE_CODE, &code);
	ff->size = st.off;
	if (rc == CURLE_OK && !st.checked && fetch_check_status(&st) == -1)
		rc = CURLE_WRITE_ERROR;
	if (rc != CURLE_OK && st.have > 0 && (code == 416 || st.bad_range ||
	    rc == CURLE_RANGE_ERROR)) {
		/* what the file holds is not the start of this image */
		curl_easy_cleanup(st.curl);
		if (ftruncate(ff->fd, 0) == -1) {
			snprintf(err, errlen, "cannot truncate it: %s",
			    strerror(errno));
			return -1;
		}
		ff->restarted = 1;
		return 1;
	}
	if (rc != CURLE_OK) {
		fetch_error(&st, rc, errbuf, err, errlen);
		curl_easy_cleanup(st.curl);
		return -1;
	}
	curl_easy_cleanup(st.curl);
	return 0;
}

int
fetch_file(struct fetch_file *ff, char *err, size_t errlen)
{
	EVP_MD_CTX	*md;
	unsigned char	 digest[EVP_MAX_MD_SIZE];
	unsigned int	 dlen, i;
	int		 rv;

	ff->restarted = 0;
	if ((md = EVP_MD_CTX_new()) == NULL) {
		snprintf(err, errlen, "out of memory for the hash");
		return -1;
	}
	if ((rv = fetch_file_once(ff, md, err, errlen)) == 1)
		rv = fetch_file_once(ff, md, err, errlen);
	if (rv == 1) {
		snprintf(err, errlen, "the server does not resume it");
		rv = -1;
	}
	if (rv == 0) {
		EVP_DigestFinal_ex(md, digest, &dlen);
		for (i = 0; i < dlen; i++)
			snprintf(ff->hash + 2 * i, 3, "%02x", digest[i]);
	}
	EVP_MD_CTX_free(md);
	return rv;
}

/* Text for people and programs: durations, JSON strings, terminal-safe text. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"
#include "size.h"
#include "xmalloc.h"

/* Format seconds as 42s, 5m07s, 3h02m or 2d05h. */
void
format_duration(int64_t secs, char *buf, size_t len)
{
	long long s = secs < 0 ? 0 : secs;

	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, (s / 60) % 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, (s / 3600) % 24);
}

/* The length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t
format_utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

/* The letter after the backslash that JSON escapes c with, or 0. */
static char
format_json_escape(unsigned char c)
{
	switch (c) {
	case '"':
	case '\\':
		return c;
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	}
	return 0;
}

/*
 * Quote s as a JSON string (malloc'd): escape quotes, backslashes and
 * control characters, and replace bytes that are not UTF-8 with U+FFFD.
 */
char *
format_json_quote(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *o, esc;
	size_t n;

	/* Six bytes per input byte is the worst case ("\u001f"). */
	out = o = xmalloc(strlen(s) * 6 + 3);
	*o++ = '"';
	while (*p != '\0') {
		if ((esc = format_json_escape(*p)) != 0) {
			*o++ = '\\';
			*o++ = esc;
			p++;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			o += sprintf(o, "\\u%04x", (unsigned int)*p++);
			continue;
		}
		if ((n = format_utf8_len(p)) == 0) {
			o += sprintf(o, "\\ufffd");
			p++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

void
format_json_string(FILE *f, const char *s)
{
	char *q;

	q = format_json_quote(s);
	fputs(q, f);
	free(q);
}

/* Make text from the engine safe for a terminal: control bytes become '?'. */
void
format_clean(char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	}
}

/*
 * The next line of the text from *p to end: its start, with its length
 * (without the newline) in *len, and *p moved past it; NULL at the end.
 */
const char *
format_line(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *nl;

	if (s >= end)
		return NULL;
	if ((nl = memchr(s, '\n', end - s)) == NULL)
		nl = end;
	*len = nl - s;
	*p = nl < end ? nl + 1 : end;
	return s;
}

/* Draw "\r[###   ]  42% 1.2G/3.0G" on f, after label if not NULL. */
void
format_progress(FILE *f, const char *label, int pct, uint64_t done,
    uint64_t total)
{
	char	bar[FORMAT_BAR + 1], a[32], b[32];
	int	fill = pct * FORMAT_BAR / 100;

	memset(bar, '#', fill);
	memset(bar + fill, ' ', FORMAT_BAR - fill);
	bar[FORMAT_BAR] = '\0';
	size_format(done, a, sizeof a);
	size_format(total, b, sizeof b);
	fprintf(f, "\r%s%s[%s] %3d%% %s/%s", label != NULL ? label : "",
	    label != NULL ? " " : "", bar, pct, a, b);
	fflush(f);
}

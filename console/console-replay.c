/*
 * The replay: the end of the output the engine captured while nobody
 * watched, written to the terminal before the console goes live. What
 * asked the terminal a question (where the cursor is, what it is) is left
 * out: the terminal's answer would go to the guest as typing, long after
 * the guest asked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "msg.h"
#include "proto.h"
#include "xmalloc.h"

static const struct msg_handler console_replay_msgs[] = {
	{ MSG_CAPTURE_DATA, "capture data", 0, MSG_MAX_PAYLOAD, NULL },
	{ MSG_END, "end", 0, 0, NULL },
	{ MSG_ERROR, "error", sizeof(struct proto_error), 0, NULL },
};

/*
 * Fetch name's captured output from the engine into *buf (malloc'd).
 * Return values: 0; -1 with the engine's refusal in err; -2 with err set
 * when the connection is lost or broke the protocol.
 */
static int
console_replay_fetch(int fd, const char *name, char **buf, size_t *len,
    char *err, size_t errlen)
{
	const struct msg_handler *h;
	struct proto_name pn;
	struct proto_error pe;
	struct msg m;
	char why[128];
	int n;

	*buf = NULL;
	*len = 0;
	memset(&pn, 0, sizeof pn);
	snprintf(pn.name, sizeof pn.name, "%s", name);
	if (msg_send_sync(fd, MSG_CMD_CAPTURE, 0, -1, &pn, sizeof pn) == -1) {
		snprintf(err, errlen, "cannot ask the engine for the output "
		    "of %s: %s", name, strerror(errno));
		return -2;
	}
	for (;;) {
		if ((n = msg_recv_sync(fd, &m)) != 1) {
			snprintf(err, errlen, "the engine went away while "
			    "replaying the console of %s", name);
			break;
		}
		h = msg_lookup(console_replay_msgs, sizeof console_replay_msgs /
		    sizeof console_replay_msgs[0], &m, why, sizeof why);
		if (h == NULL) {
			snprintf(err, errlen, "malformed reply from the engine "
			    "to the replay of %s: %s", name, why);
			msg_clear(&m);
			break;
		}
		if (h->type == MSG_END) {
			msg_clear(&m);
			return 0;
		}
		if (h->type == MSG_ERROR) {
			memcpy(&pe, m.data, sizeof pe);
			pe.text[sizeof pe.text - 1] = '\0';
			snprintf(err, errlen, "%s", pe.text[0] != '\0' ?
			    pe.text : "the engine refused the replay");
			msg_clear(&m);
			free(*buf);
			*buf = NULL;
			return -1;
		}
		*buf = xreallocarray(*buf, *len + m.hdr.len + 1, 1);
		memcpy(*buf + *len, m.data, m.hdr.len);
		*len += m.hdr.len;
		msg_clear(&m);
	}
	free(*buf);
	*buf = NULL;
	return -2;
}

/*
 * Drop the questions to the terminal from buf: ESC [ params n (device
 * status, cursor position) and ESC [ params c (device attributes).
 * Returns the new length.
 */
static size_t
console_replay_strip(char *buf, size_t len)
{
	size_t i, j, o = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\033' && i + 1 < len && buf[i + 1] == '[') {
			j = i + 2;
			while (j < len && buf[j] >= 0x20 && buf[j] <= 0x3f)
				j++;
			if (j < len && (buf[j] == 'n' || buf[j] == 'c')) {
				i = j;
				continue;
			}
		}
		buf[o++] = buf[i];
	}
	return o;
}

/* Where the last lines lines of buf begin, the final newline aside. */
static size_t
console_replay_start(const char *buf, size_t len, int lines)
{
	size_t start = len;

	if (start > 0 && buf[start - 1] == '\n')
		start--;
	while (lines > 0 && start > 0) {
		if (buf[start - 1] == '\n' && --lines == 0)
			break;
		start--;
	}
	return start;
}

/*
 * Clear the screen and replay the last lines of name's captured output
 * (0: a screenful). Return values as console_replay_fetch.
 */
int
console_replay(struct console_term *t, int fd, const char *name, int lines,
    char *err, size_t errlen)
{
	char *buf;
	size_t len, start;
	int rv;

	if ((rv = console_replay_fetch(fd, name, &buf, &len, err,
	    errlen)) != 0)
		return rv;
	len = console_replay_strip(buf, len);
	if (lines == 0)
		lines = t->status ? t->rows - 1 : t->rows;
	start = console_replay_start(buf, len, lines);
	console_term_puts(t, "\033[H\033[2J");
	if (len > start)
		console_term_write(t->out, buf + start, len - start);
	free(buf);
	return 0;
}

/*
 * The terminal while a console is attached: raw modes and their restore,
 * a scroll region above a status line on the last row, and writes that
 * wait for a full non-blocking fd.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

int
console_term_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 1000) == -1 && errno != EINTR)
				return -1;
			continue;
		}
		p += n;
		len -= n;
	}
	return 0;
}

void
console_term_puts(struct console_term *t, const char *s)
{
	console_term_write(t->out, s, strlen(s));
}

/* Raw mode, but with output processing so that a bare \n is a newline. */
int
console_term_raw(struct console_term *t)
{
	struct termios tio;

	if (tcgetattr(t->in, &t->saved) == -1)
		return -1;
	tio = t->saved;
	cfmakeraw(&tio);
	tio.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(t->in, TCSADRAIN, &tio) == -1)
		return -1;
	t->raw = 1;
	return 0;
}

/* Give the terminal its scroll region, last row and modes back. */
void
console_term_restore(struct console_term *t)
{
	char buf[64];

	if (!t->raw)
		return;
	if (t->status) {
		snprintf(buf, sizeof buf, "\033[r\033[%d;1H\033[K", t->rows);
		console_term_puts(t, buf);
	}
	tcsetattr(t->in, TCSADRAIN, &t->saved);
	t->raw = 0;
}

void
console_term_status(struct console_term *t, const char *text)
{
	char buf[512];

	if (!t->status)
		return;
	snprintf(buf, sizeof buf, "\0337\033[%d;1H\033[7m%.*s\033[0m\033[K"
	    "\0338", t->rows, t->cols, text);
	console_term_puts(t, buf);
}

/*
 * Read the terminal's size (24x80 if it has none) and, with three rows or
 * more, keep the last one for the status line: the scroll region and the
 * pty ttyfd get one row less. The caller draws the status line.
 */
void
console_term_size(struct console_term *t, int ttyfd)
{
	struct winsize ws;
	char buf[32];

	t->rows = 24;
	t->cols = 80;
	if (ioctl(t->out, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
		t->rows = ws.ws_row;
		t->cols = ws.ws_col;
	}
	t->status = t->rows >= 3;
	if (!t->status)
		return;
	snprintf(buf, sizeof buf, "\0337\033[1;%dr\0338", t->rows - 1);
	console_term_puts(t, buf);
	ws.ws_row = t->rows - 1;
	ws.ws_col = t->cols;
	ioctl(ttyfd, TIOCSWINSZ, &ws);
}

/*
 * The escape keys: ~. after a newline, as cu(1), or Ctrl-] anywhere, as
 * virsh, detach; ~? asks for help; ~~ sends one ~. A terminal also writes
 * to its input on its own, answering what the guest asked (a shell that
 * asks where the cursor is after each prompt gets ESC [ row ; col R back
 * just after the newline), and those answers are no typing: they pass
 * through to the guest without ending the line, so ~. still detaches.
 */
#include <string.h>

#include "console.h"

/* Where an escape sequence from the terminal has got to. */
enum {
	SEQ_NONE,
	SEQ_ESC,		/* after ESC */
	SEQ_CSI,		/* after ESC [ */
	SEQ_STRING,		/* OSC, DCS, APC, PM or SOS: up to BEL or ST */
	SEQ_STRING_ESC		/* an ESC in the string: ST if \ follows */
};

#define ESC	0x1b
#define BEL	0x07

void
console_escape_init(struct console_escape *e)
{
	memset(e, 0, sizeof *e);
	e->line = CONSOLE_ESCAPE_NEWLINE;
}

/* A CSI sequence with this final byte is a report from the terminal. */
static int
console_escape_report(unsigned char final)
{
	/* CPR, DSR, DA, window reports, DECRQM, focus in and out */
	return strchr("RnctyIO", final) != NULL;
}

/* End a sequence: a report leaves the line as it was, a key ends it. */
static void
console_escape_end(struct console_escape *e, int report)
{
	e->seq = SEQ_NONE;
	e->line = report ? e->seqline : CONSOLE_ESCAPE_TEXT;
}

/*
 * Feed c to the sequence under way. Returns 1 when c was taken, 0 when it
 * ended the sequence without belonging to it (so it is read afresh).
 */
static int
console_escape_seq(struct console_escape *e, unsigned char c)
{
	switch (e->seq) {
	case SEQ_ESC:
		if (c == '[')
			e->seq = SEQ_CSI;
		else if (c == ']' || c == 'P' || c == '_' || c == '^' ||
		    c == 'X')
			e->seq = SEQ_STRING;
		else if (c >= 0x20 && c <= 0x2f)
			;	/* an intermediate byte */
		else if (c >= 0x30 && c <= 0x7e)
			console_escape_end(e, 0);
		else {
			console_escape_end(e, 0);
			return 0;
		}
		return 1;
	case SEQ_CSI:
		if (c >= 0x20 && c <= 0x3f)
			return 1;	/* parameters and intermediates */
		if (c >= 0x40 && c <= 0x7e) {
			console_escape_end(e, console_escape_report(c));
			return 1;
		}
		console_escape_end(e, 0);
		return 0;
	case SEQ_STRING:
		if (c == BEL)
			console_escape_end(e, 1);
		else if (c == ESC)
			e->seq = SEQ_STRING_ESC;
		return 1;
	case SEQ_STRING_ESC:
		console_escape_end(e, 1);
		return c == '\\';
	}
	return 0;
}

int
console_escape_input(struct console_escape *e, const void *in, size_t n,
    void *out, size_t *outlen)
{
	const unsigned char *p = in;
	unsigned char *o = out, c;
	size_t i = 0;
	int found = 0;

	*outlen = 0;
	while (i < n) {
		c = p[i];
		if (c == CONSOLE_DETACH_KEY)
			return found | CONSOLE_ESCAPE_DETACH;
		if (e->seq != SEQ_NONE) {
			if (console_escape_seq(e, c)) {
				o[(*outlen)++] = c;
				i++;
			}
			continue;
		}
		i++;
		if (c == ESC) {
			/* A held ~ was only text. */
			if (e->line == CONSOLE_ESCAPE_TILDE) {
				o[(*outlen)++] = '~';
				e->line = CONSOLE_ESCAPE_TEXT;
			}
			e->seq = SEQ_ESC;
			e->seqline = e->line;
			o[(*outlen)++] = c;
			continue;
		}
		if (e->line == CONSOLE_ESCAPE_TILDE) {
			e->line = CONSOLE_ESCAPE_TEXT;
			if (c == '.')
				return found | CONSOLE_ESCAPE_DETACH;
			if (c == '?') {
				found |= CONSOLE_ESCAPE_HELP;
				e->line = CONSOLE_ESCAPE_NEWLINE;
				continue;
			}
			if (c != '~')
				o[(*outlen)++] = '~';
		} else if (e->line == CONSOLE_ESCAPE_NEWLINE && c == '~') {
			e->line = CONSOLE_ESCAPE_TILDE;
			continue;
		}
		o[(*outlen)++] = c;
		e->line = c == '\r' || c == '\n' ? CONSOLE_ESCAPE_NEWLINE :
		    CONSOLE_ESCAPE_TEXT;
	}
	return found;
}

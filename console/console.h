/*
 * Attaching a terminal to a VM's serial console: the terminal in raw mode,
 * proxied to the VM's pty slave, with escape keys, a replay of the output
 * the engine captured, a status line, exclusive attach and takeover. It
 * knows the engine only as a connected socket (lib/msg.h framing).
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>
#include <termios.h>

/* The detach key besides ~. after a newline: Ctrl-]. */
#define CONSOLE_DETACH_KEY	0x1d

/* How long a takeover waits for the other attacher to let go. */
#define CONSOLE_TAKEOVER_MS	3000

/* What to attach, and to which terminal. */
struct console_opts {
	const char	*name;		/* the VM, as the engine names it */
	const char	*tty;		/* its pty slave */
	int		 engine;	/* connected engine socket, or -1: it
					   holds the console for us */
	int		 replay;	/* lines; 0 a screenful, -1 none */
	int		 force;		/* take over from another attacher */
	int		 in;		/* the terminal */
	int		 out;
	/*
	 * When the engine goes away, lost (the socket is the caller's to
	 * close) and then reconnect, every CONSOLE_RETRY_MS until it gives
	 * a connected socket or -1 (tried again later), while the attach
	 * goes on. NULL: the attach ends with CONSOLE_LOST.
	 */
	void		(*lost)(void *);
	int		(*reconnect)(void *);
	void		*arg;
};

/* How often an attach whose engine went away tries to reach the next. */
#define CONSOLE_RETRY_MS	1000

/* How an attach ended. */
enum console_end {
	CONSOLE_DETACHED,	/* ~. or Ctrl-] */
	CONSOLE_HUNGUP,		/* the pty hung up: the VM stopped */
	CONSOLE_TAKEN,		/* another attach took over */
	CONSOLE_LOST,		/* the engine went away */
	CONSOLE_SIGNAL,		/* a signal, or the terminal went away */
	CONSOLE_ERROR		/* it could not attach, or an I/O error */
};

/* console.c */
/*
 * Attach the terminal to the VM's console: replay the end of its captured
 * output, then proxy until the user detaches, the VM stops, the engine is
 * lost or a signal ends it; the terminal is restored on every way out.
 * Return values: CONSOLE_DETACHED, CONSOLE_HUNGUP or CONSOLE_TAKEN with a
 * note in msg, any other enum console_end with the error in msg. After
 * CONSOLE_SIGNAL by a signal that signal is raised again once the old
 * handlers are back.
 */
enum console_end console_attach(const struct console_opts *, char *msg,
		    size_t msglen);

/* console-escape.c */
/* The escape keys, fed what the user types. */
struct console_escape {
	int		 line;		/* CONSOLE_ESCAPE_TEXT, _NEWLINE, _TILDE */
#define CONSOLE_ESCAPE_TEXT	0
#define CONSOLE_ESCAPE_NEWLINE	1	/* at the start of a line */
#define CONSOLE_ESCAPE_TILDE	2	/* a ~ held back after a newline */
	int		 seq;		/* inside an escape sequence */
	int		 seqline;	/* line when the sequence began */
};
/* What console_escape_input found. */
#define CONSOLE_ESCAPE_DETACH	0x1
#define CONSOLE_ESCAPE_HELP	0x2

void		 console_escape_init(struct console_escape *);
/*
 * Filter n typed bytes into out (room for 2 * n bytes), *outlen set to
 * what goes to the guest: ~. after a newline or Ctrl-] anywhere detach
 * (the bytes after them are dropped), ~? asks for help, ~~ sends one ~.
 * Sequences the terminal sends on its own (cursor position and device
 * reports, OSC and DCS strings) pass through without ending the line.
 * Returns a mask of CONSOLE_ESCAPE_DETACH and CONSOLE_ESCAPE_HELP.
 */
int		 console_escape_input(struct console_escape *, const void *,
		    size_t, void *out, size_t *outlen);

/* console-replay.c */
struct console_term;
/*
 * Clear the screen and replay the last lines of name's captured output
 * (0: a screenful), asked of the engine on fd. Return values: 0; -1 with
 * the engine's refusal in err; -2 with err set when the connection is
 * lost or broke the protocol.
 */
int		 console_replay(struct console_term *, int fd, const char *,
		    int lines, char *err, size_t errlen);

/* console-term.c */
/* The terminal's state while attached. */
struct console_term {
	int		 in;
	int		 out;
	struct termios	 saved;		/* the modes to restore */
	int		 raw;
	int		 rows;
	int		 cols;
	int		 status;	/* a status line is drawn */
};
/* Write all of buf, waiting when a non-blocking fd is full; 0 or -1. */
int		 console_term_write(int, const void *, size_t);
void		 console_term_puts(struct console_term *, const char *);
/* Raw mode with output processing; 0, or -1 with errno set. */
int		 console_term_raw(struct console_term *);
void		 console_term_restore(struct console_term *);
/* Size the scroll region to leave the status line (row rows) alone. */
void		 console_term_size(struct console_term *, int ttyfd);
/* Draw text on the status line, keeping the cursor. */
void		 console_term_status(struct console_term *, const char *);

#endif

/*
 * Framed messages over unix sockets, on libevent: a fixed header, a
 * payload of at most MSG_MAX_PAYLOAD bytes, at most one fd per message
 * (SCM_RIGHTS) and a peer id (the VM id) on every message.
 */
#ifndef MSG_H
#define MSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

struct msg_hdr {
	uint32_t	type;
	uint32_t	len;		/* payload bytes after the header */
	uint32_t	peerid;
	uint32_t	flags;
#define MSG_F_FD	0x1		/* an fd travels with this message */
};

#define MSG_MAX_PAYLOAD	(64 * 1024)
/* By default, a peer whose unsent output grows past this is dropped. */
#define MSG_MAX_QUEUED	(8 * 1024 * 1024)

struct msg {
	struct msg_hdr	 hdr;
	int		 fd;	/* -1 if none; the handler owns it */
	void		*data;	/* hdr.len bytes, valid during the callback */
};

struct msgconn;

/*
 * Called for each message. Return 0 to go on, -1 to drop the peer (the
 * close callback then runs). An fd left in m->fd is closed afterwards.
 */
typedef int	(*msg_cb)(struct msgconn *, struct msg *, void *);
/* Called once when the peer hangs up, errs or is dropped. */
typedef void	(*msg_close_cb)(struct msgconn *, void *);
/* Called once the queued output has all been written (msgconn_on_drain). */
typedef void	(*msg_drain_cb)(struct msgconn *, void *);

struct msgconn	*msgconn_new(struct event_base *, int, msg_cb, msg_close_cb,
		    void *, const char *);
void		 msgconn_free(struct msgconn *);
int		 msgconn_fd(struct msgconn *);
const char	*msgconn_name(struct msgconn *);
void		 msgconn_set_name(struct msgconn *, const char *);
void		 msgconn_set_arg(struct msgconn *, void *);
/* Queue one message; fd (or -1) is duplicated. Returns -1 and sets errno. */
int		 msgconn_send(struct msgconn *, uint32_t, uint32_t, int,
		    const void *, size_t);
/* Queue MSG_ERROR {code, the sentence fmt makes} under peerid. */
int		 msgconn_send_error(struct msgconn *, uint32_t peerid, int code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int		 msgconn_send_verror(struct msgconn *, uint32_t peerid,
		    int code, const char *fmt, va_list)
		    __attribute__((format(printf, 4, 0)));
/* Queue without writing until uncorked, then write in few system calls. */
void		 msgconn_cork(struct msgconn *);
void		 msgconn_uncork(struct msgconn *);
/* Close once the queued output has been written. */
void		 msgconn_close_when_flushed(struct msgconn *);
size_t		 msgconn_queued(struct msgconn *);
/* Drop the peer once more than max bytes wait unsent (MSG_MAX_QUEUED). */
void		 msgconn_set_max_queued(struct msgconn *, size_t);
/*
 * Call fn once, from the event loop, when output that could not be
 * written at once has all been written; NULL cancels.
 */
void		 msgconn_on_drain(struct msgconn *, msg_drain_cb);
/* Stop handing out messages (the rest stay queued) and start again. */
void		 msgconn_pause(struct msgconn *);
void		 msgconn_resume(struct msgconn *);

/* Blocking I/O on a plain socket, for peers without an event loop. */
int		 msg_send_sync(int, uint32_t, uint32_t, int, const void *,
		    size_t);
/*
 * Read one whole message; m->data is malloc'd (free it). Returns 1 for a
 * message, 0 at end of file, -1 with errno set (EBADMSG for a bad header).
 */
int		 msg_recv_sync(int, struct msg *);
void		 msg_clear(struct msg *);

/*
 * A table entry: the handler for one message type and the payload size it
 * takes (exactly size bytes, or from size to maxsize when maxsize != 0).
 */
struct msg_handler {
	uint32_t	 type;
	const char	*name;
	size_t		 size;
	size_t		 maxsize;
	int		(*fn)(struct msgconn *, struct msg *, void *);
};

/*
 * Find m's entry in the table and check its payload size: the one check
 * every peer uses, with or without an event loop. Return values: the
 * entry, or NULL with errno ENOMSG (unknown type) or EBADMSG (wrong size)
 * and a sentence in why (for example "show message of 3 bytes (expected
 * 64)"); nothing is logged.
 */
const struct msg_handler *msg_lookup(const struct msg_handler *, size_t,
		    const struct msg *, char *why, size_t whylen);
/*
 * msg_lookup for a table of larger entries (entsize bytes each) that start
 * with a struct msg_handler, a peer's own fields after it. Returns the
 * entry or NULL, as msg_lookup does.
 */
const void	*msg_lookup_entry(const void *, size_t, size_t entsize,
		    const struct msg *, char *why, size_t whylen);

/*
 * Check m's size against the table and call its handler. Unknown types
 * and wrong sizes are logged and return -1 (drop the peer).
 */
int		 msg_dispatch(const struct msg_handler *, size_t,
		    struct msgconn *, struct msg *, void *);

#endif

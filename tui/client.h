/* vmtop's connection to the engine: connect, start it on demand, requests. */
#ifndef CLIENT_H
#define CLIENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct msg;

/* One connection to the engine, after the hello exchange. */
struct client_conn {
	int		 fd;
	char		*socket;	/* the path it is connected to */
	uint32_t	 version;	/* the engine's protocol version */
	pid_t		 engine_pid;	/* SO_PEERCRED (or hello) pid */
};

/* How to reach the engine, and how to start one. */
struct client_opts {
	const char	*socket;	/* NULL: paths_socket() */
	const char	*config;	/* -f for an engine we start */
	int		 verbose;	/* -v flags for it */
	int		 flags;
#define CLIENT_START		0x1	/* start the engine if none runs */
#define CLIENT_ANY_VERSION	0x2	/* any protocol will do */
};

/* How long a client waits for an engine it started, and between tries. */
#define CLIENT_START_TIMEOUT_MS	5000
#define CLIENT_RETRY_MS		10
/* How long the engine may take to answer the hello. */
#define CLIENT_HELLO_TIMEOUT_MS	5000

/*
 * Connect to the engine and exchange hellos, starting the engine first if
 * CLIENT_START is set and nobody listens. Return values: 0 with *conn set,
 * or -1 with a sentence in err; errno is ESRCH when no engine runs and
 * CLIENT_START is clear.
 */
int	 client_connect(const struct client_opts *, struct client_conn **,
	     char *err, size_t errlen);
void	 client_close(struct client_conn *);
/* Wait until the process pid (the engine) has exited. */
void	 client_wait_exit(pid_t);
/* Send one request; returns 0, or -1 with a sentence in err. */
int	 client_request(struct client_conn *, uint32_t type, const void *,
	     size_t, char *err, size_t errlen);
/*
 * Read one message (free it with msg_clear). Return values: 1 for a
 * message, 0 when the engine hung up, -1 for an error; err is set for 0
 * and -1.
 */
int	 client_recv(struct client_conn *, struct msg *, char *err,
	     size_t errlen);
/* Whether a whole message (or the end of the connection) can be read. */
int	 client_pending(struct client_conn *);
/*
 * Check the answer to a request answered by MSG_OK or MSG_ERROR. Return
 * values: 0 for MSG_OK, 1 for MSG_ERROR with the engine's text in err, -1
 * for anything else (or a wrong size) with a sentence naming it in err.
 */
int	 client_reply(const struct msg *, char *err, size_t errlen);
/* Read a reply: 0 for MSG_OK, -1 with the engine's error text in err. */
int	 client_expect_ok(struct client_conn *, char *err, size_t errlen);
/* Copy the text of an MSG_ERROR (size-checked) into err. */
void	 client_error_text(const struct msg *, char *err, size_t errlen);
/* The sentence for a reply that breaks the protocol. */
void	 client_malformed(const struct msg *, char *err, size_t errlen);

#endif

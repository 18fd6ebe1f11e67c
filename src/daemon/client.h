/* A connected client: reading, framing and logging its lines. */
#ifndef CLIENT_H
#define CLIENT_H

#include <netinet/in.h>
#include <time.h>

#include "common/framer.h"
#include "daemon/loop.h"

struct daemon;

struct client {
	struct loop_io	 io;
	struct daemon	*d;
	char		 addr[INET6_ADDRSTRLEN + 16];
	struct framer	 fr;
	time_t		 last_active;	/* monotonic seconds */
	int		 dead;		/* closed, freed before sleeping */
	char		*out;		/* replies the socket did not take */
	size_t		 outlen;
	struct client	*next;
};

/* Adopt connected socket FD from ADDR; logs the connection. NULL on error. */
struct client	*client_new(struct daemon *d, int fd, const char *addr);

/*
 * Close C now and log why (REASON NULL for a plain disconnection); its
 * memory is released by client_reap().
 */
void		 client_close(struct client *c, const char *reason);

/*
 * Send reply line MSG (with its newline) to C without blocking; what the
 * socket does not take waits in a small buffer.  A client whose buffer
 * overflows is not reading its replies and is closed.  0 or -1.
 */
int		 client_reply(struct client *c, const char *msg);

/* Free the clients closed during this loop turn. */
void		 client_reap(struct daemon *d);

/* Close every client (shutdown), without logging each one. */
void		 client_close_all(struct daemon *d);

/* Close clients idle for idle_timeout seconds or more. */
void		 client_check_idle(struct daemon *d);

#endif /* CLIENT_H */

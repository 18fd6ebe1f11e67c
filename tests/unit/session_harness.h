/*
 * A session layer for unit tests, without the daemon: a real loop and
 * reporter (every record kept), the sessions with the given operations,
 * and one client on a socketpair whose other end the test holds.
 */
#ifndef SESSION_HARNESS_H
#define SESSION_HARNESS_H

#include <stddef.h>

#include "daemon/session/client.h"
#include "daemon/config.h"
#include "daemon/loop.h"

#define HARNESS_RECORDS	32

struct harness {
	struct config	 cfg;
	struct loop	 loop;
	struct sessions	 s;
	struct metrics	 m;
	int		 peer;		/* the client's end of the pair */
	char		 records[HARNESS_RECORDS][256];
	int		 nrecords;
};

/* Sessions with OPS under [auth] AUTH_MODE, and one client from
 * 10.0.0.7:4000; fails the test if anything cannot be set up. */
void	harness_start(struct harness *h, const struct session_ops *ops,
	    int auth_mode);

/* Close the client, free everything. */
void	harness_stop(struct harness *h);

/* Write TEXT from the client's end. */
void	harness_send(struct harness *h, const char *text);

/* One turn of the loop: what the client sent is read and handled. */
void	harness_turn(struct harness *h);

/* What the daemon sent the client so far (NUL-terminated, in BUF). */
const char *harness_read(struct harness *h, char *buf, size_t size);

/* 1 if a record with exactly this message was logged. */
int	harness_logged(const struct harness *h, const char *msg);

#endif /* SESSION_HARNESS_H */

/* Lossless forwarding of the log file to a collector, by a child process. */
#ifndef FORWARD_H
#define FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "daemon/loop.h"
#include "tintin/tintin.h"

struct forward;

/*
 * Is TARGET one the forwarder serves (tcp://, tls://, relp://)?  The others
 * (udp://, unix:) stay with the log library's lossy syslog sink.
 */
int		 forward_wanted(const char *target);

/*
 * Note where the log file LOG_PATH ends before this run writes to it:
 * without a checkpoint, forwarding starts there.  Returns nothing.
 */
void		 forward_note_start(const char *log_path);

/*
 * Start the forwarder child for C's [forward] target, reporting into LOG
 * through L.  NULL on failure (errno set).
 */
struct forward	*forward_start(const struct config *c, struct loop *l,
		    Tintin_reporter *log);

/* Once a second: restart the child if it died.  Returns nothing. */
void		 forward_tick(struct forward *f);

/* What the forwarder child last reported of its target. */
struct forward_figures {
	const char	*target;
	const char	*state;		/* "up" or "down" */
	uint64_t	 forwarded;	/* records written to the collector */
	uint64_t	 acked;		/* of which acknowledged (RELP) */
	uint64_t	 waiting;	/* records not forwarded yet (estimate) */
	uint64_t	 waiting_bytes;
	long		 oldest_age;	/* s, the oldest record waiting */
};

/* F's figures into *OUT: 0, or -1 without a forwarder (F NULL). */
int		 forward_figures(const struct forward *f,
		    struct forward_figures *out);

/* " forward=... fwd_state=..." for /status into BUF; "" without one. */
void		 forward_status(const struct forward *f, char *buf,
		    size_t size);

/* Tell the child to save its checkpoint and end; free F. */
void		 forward_stop(struct forward *f);

#endif /* FORWARD_H */

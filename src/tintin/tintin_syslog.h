/* Internal: the syslog forwarding sink (RFC 5424 over TCP, UDP or unix). */
#ifndef TINTIN_SYSLOG_H
#define TINTIN_SYSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * Formatted bytes a forwarding sink keeps while the collector is slow or
 * away (the octet-counted frames, about 7000 typical records).  Past it the
 * newest records are dropped and counted.  The library's own notes may use
 * TINTIN_FWD_HEADROOM more, so that a report of the drops is not itself
 * dropped, which would be reported again, and so on.
 */
#define TINTIN_FWD_QUEUE_MAX	(1024 * 1024)
#define TINTIN_FWD_HEADROOM	(16 * 1024)
#define TINTIN_FWD_MSG_MAX	8192	/* one message, TCP and unix */
#define TINTIN_FWD_UDP_MAX	2048	/* one UDP datagram */
#define TINTIN_FWD_BACKOFF_MAX	30	/* seconds between connect attempts */
#define TINTIN_FWD_CONNECT_TIMEOUT 10	/* seconds for a connect to finish */

struct tintin_fwd;

/* Counters of a forwarding sink. */
struct tintin_fwd_stats {
	uint64_t	sent;		/* records handed to the socket */
	uint64_t	bytes;		/* bytes handed to the socket */
	uint64_t	dropped;	/* records dropped: queue full */
	uint64_t	queued;		/* records waiting now */
	size_t		queued_bytes;	/* their formatted size */
	int		connected;
	int		last_errno;	/* of the last failure, or 0 */
};

/*
 * Parse TARGET ("tcp://HOST:PORT", "udp://HOST:PORT", "unix:/PATH";
 * HOST may be a name, an IPv4 or a [IPv6] literal; PORT defaults to 514)
 * and prepare a sink whose records carry APP as APP-NAME.  Does not connect
 * yet: never blocks later (names are resolved here, once, at set-up).
 * NULL on error, with a message in ERR.
 */
struct tintin_fwd *tintin_fwd_new(const char *target, const char *app,
		    char *err, size_t errlen);

/* Send what the socket takes at once, close and free. */
void		 tintin_fwd_free(struct tintin_fwd *f);

/*
 * Queue one record: LEVEL is a TINTIN_* level, T the time of the record
 * (seconds, milliseconds, UTC offset), MSG its text.  NOTE is set for the
 * library's own events (they may use the headroom; their loss is not
 * reported).  Never blocks: when the bounded queue is full the record is
 * dropped and counted.  Returns 0, or -1 if it was dropped.
 */
int		 tintin_fwd_record(struct tintin_fwd *f, int level, time_t t,
		    int ms, long gmtoff, const char *msg, size_t len, int note);

/* Formatted bytes waiting to be sent. */
size_t		 tintin_fwd_backlog(const struct tintin_fwd *f);

/* Send what the socket takes now (connecting first if due), never block. */
void		 tintin_fwd_flush(struct tintin_fwd *f);

/*
 * Once a second: notice a new PID (after fork), a lost connection, a
 * connect that finished or timed out; (re)connect with backoff; send.
 */
void		 tintin_fwd_tick(struct tintin_fwd *f, time_t now);

/*
 * Next pending report for the caller's log: a connection change, or the
 * records dropped since the last report.  Writes one line into NOTE (size
 * NOTESZ) and returns its level (TINTIN_*), or -1 when there is none.
 */
int		 tintin_fwd_report(struct tintin_fwd *f, char *note,
		    size_t notesz);

void		 tintin_fwd_stats(const struct tintin_fwd *f,
		    struct tintin_fwd_stats *st);

/*
 * One RFC 5424 message, without framing, into BUF (SIZE bytes, at least
 * 128): "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - - MSG" with newlines
 * of MSG escaped and MSG cut to fit.  Returns its length.  For tests.
 */
size_t		 tintin_fwd_format(const struct tintin_fwd *f, char *buf,
		    size_t size, int level, time_t t, int ms, long gmtoff,
		    const char *msg, size_t len);

#endif /* TINTIN_SYSLOG_H */

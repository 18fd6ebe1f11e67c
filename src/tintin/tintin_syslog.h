/* Internal: the syslog forwarding sink (RFC 5424 over TCP, UDP or unix). */
#ifndef TINTIN_SYSLOG_H
#define TINTIN_SYSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
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
#define TINTIN_FWD_TARGET_MAX	256
#define TINTIN_FWD_REPORT_MAX	320
#define TINTIN_FWD_REPORTS	4	/* connection reports kept a tick */

enum tintin_fwd_proto { FWD_TCP, FWD_UDP, FWD_UNIX };
enum tintin_fwd_state { FWD_DOWN, FWD_CONNECTING, FWD_UP };

/* One forwarding sink; tintin_rfc5424.c fills the first two groups. */
struct tintin_fwd {
	char		 target[TINTIN_FWD_TARGET_MAX];	/* for reports */
	int		 proto;
	int		 socktype;	/* SOCK_STREAM or SOCK_DGRAM */
	struct sockaddr_storage addr;
	socklen_t	 addrlen;

	char		 host[256];	/* HOSTNAME */
	char		 app[49];	/* APP-NAME */
	char		 procid[24];	/* PROCID */
	pid_t		 pid;
	unsigned	 fork_gen;	/* fork_gen when pid was read */

	int		 fd;
	int		 state;
	time_t		 retry_at;	/* next connect attempt */
	time_t		 connect_start;
	int		 backoff;	/* seconds, up to the max */
	time_t		 up_since;	/* connected then */
	int		 was_up;	/* connected since the last loss */

	char		*buf;		/* frames: [head, len) waits */
	size_t		 head;		/* start of the first unsent frame */
	size_t		 part;		/* bytes of it already sent */
	size_t		 len;
	size_t		 cap;
	uint64_t	 nqueued;

	uint64_t	 sent;
	uint64_t	 bytes;
	uint64_t	 dropped;
	uint64_t	 drop_run;	/* dropped since the last report */
	int		 last_errno;
	/* Connection reports not yet taken by tintin_fwd_report(). */
	char		 report[TINTIN_FWD_REPORTS][TINTIN_FWD_REPORT_MAX];
	int		 report_level[TINTIN_FWD_REPORTS];
	int		 nreports;
};

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
 * tintin_rfc5424.c: parse TARGET into F's protocol and address (names are
 * resolved here); 0, or -1 with a message in ERR.
 */
int		 tintin_fwd_parse_target(struct tintin_fwd *f,
		    const char *target, char *err, size_t errlen);

/* Set F's HOSTNAME (gethostname) and APP-NAME (APP) fields. */
void		 tintin_fwd_set_names(struct tintin_fwd *f, const char *app);

/*
 * One RFC 5424 message, without framing, into BUF (SIZE bytes, at least
 * 128): "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - - MSG" with newlines
 * of MSG escaped and MSG cut to fit.  Returns its length.
 */
size_t		 tintin_fwd_format(const struct tintin_fwd *f, char *buf,
		    size_t size, int level, time_t t, int ms, long gmtoff,
		    const char *msg, size_t len);

#endif /* TINTIN_SYSLOG_H */

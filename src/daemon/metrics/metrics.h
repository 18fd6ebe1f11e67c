/*
 * The daemon's metrics: counters kept where the events happen, and the one
 * table that renders them for Prometheus (GET /metrics) and for /stats.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tintin/tintin.h"

struct config;

/* Why a connection (or a login attempt) was turned away. */
enum metrics_refusal {
	METRICS_REFUSED_FULL = 0,	/* too many clients */
	METRICS_REFUSED_TLS,		/* plain connection, TLS required */
	METRICS_REFUSED_LOCKOUT,	/* login from a locked-out network */
	METRICS_REFUSED_PENALTY,	/* from a penalized network */
	METRICS_NREFUSALS
};

/* How a session logged in. */
enum metrics_method {
	METRICS_LOGIN_PASSWORD = 0,
	METRICS_LOGIN_KEY,
	METRICS_LOGIN_LOCAL,		/* kernel credentials, local socket */
	METRICS_NMETHODS
};

/* The alert rules' and their mailer's figures, read at each render. */
struct metrics_alerts {
	uint64_t	 matches;	/* records that matched a rule */
	uint64_t	 sent;		/* mails delivered */
	uint64_t	 failed;	/* given up, or dropped: queue full */
	uint64_t	 spooled;	/* written to the spool: queue full */
	unsigned	 waiting;	/* queued or being sent now */
	unsigned	 in_spool;	/* waiting in the spool */
};
typedef void	(*metrics_alerts_fn)(void *arg, struct metrics_alerts *out);

/* The forward target's figures (see metrics_forward()). */
struct metrics_forward {
	const char	*target;
	uint64_t	 sent;		/* records handed to the socket */
	uint64_t	 bytes;		/* if has_bytes */
	int		 has_bytes;
	uint64_t	 acked;		/* acknowledged by the collector */
	uint64_t	 dropped;	/* records dropped: queue full */
	uint64_t	 waiting;	/* records queued now */
	uint64_t	 waiting_bytes;
	uint64_t	 oldest_age;	/* s, the oldest record waiting */
	int		 up;		/* connected now */
};

/* The lossless forwarder's figures into *OUT: 0, or -1 if there is
 * none (then the library's syslog sink is read, if any). */
typedef int	(*metrics_forward_fn)(void *arg, struct metrics_forward *out);

/*
 * The counters: plain integers the modules increment where the event
 * happens (once per read for lines and bytes), and where the rest is read
 * when a scrape or /stats asks, set once by the daemon.
 */
struct metrics {
	uint64_t	 lines;		/* records of user input */
	uint64_t	 bytes;		/* bytes received from clients */
	uint64_t	 accepted;	/* connections given a session */
	uint64_t	 refused[METRICS_NREFUSALS];
	uint64_t	 logins[METRICS_NMETHODS][2];	/* [0] failed, [1] ok */

	time_t		 started;	/* wall clock */
	const int	*nclients;	/* sessions now */
	const struct config *cfg;
	Tintin_reporter	*const *log;
	int		 forward_sink;	/* its index, or -1 */
	metrics_alerts_fn alerts_fn;	/* or NULL: all zero */
	void		*alerts_arg;
	metrics_forward_fn forward_fn;	/* or NULL */
	void		*forward_arg;
};


/*
 * The forward target's figures, into *F: 0, or -1 when there is none.
 * The one place that knows where forwarding keeps them.
 */
int	metrics_forward(const struct metrics *m, struct metrics_forward *f);

/* Output formats of metrics_render(). */
enum metrics_format {
	METRICS_PROMETHEUS = 0,	/* text format 0.0.4, HELP and TYPE lines */
	METRICS_STATS		/* /stats: "NAME{LABELS} VALUE" lines */
};

/*
 * Render every metric of M in FORMAT into BUF (SIZE bytes, NUL-ended).
 * Returns the length, or -1 if SIZE was too small; *LINES (if not NULL)
 * gets the number of lines.
 */
int	metrics_render(const struct metrics *m, int format, char *buf,
	    size_t size, int *lines);

#endif /* METRICS_H */

/* The daemon's state and its life: start-up, serving, the one shutdown path. */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon/config.h"
#include "daemon/loop.h"
#include "daemon/metrics/metrics.h"
#include "tintin/tintin.h"

#include "daemon/session/client.h"
#include "daemon/server.h"

struct alerts;
struct mailer;
struct forward;
struct metrics_http;

struct daemon {
	struct config	*cfg;
	Tintin_reporter	*log;
	int		 foreground;	/* daemon_main()'s flags */
	struct loop	 loop;

	char		 lock_path[PATH_MAX];
	int		 lock_fd;

	struct server	 server;	/* the listening sockets */
	struct sessions	 sessions;	/* the clients */
	struct loop_io	 timer_io;	/* 1 s housekeeping tick */
	int		 metrics_fd;	/* [metrics] listen, until served */
	struct metrics_http *metrics_http;	/* GET /metrics, or NULL */

	struct alerts	*alerts;	/* [alert] rules, or NULL */
	struct mailer	*mailer;	/* their mail queue, or NULL */
	struct forward	*forward;	/* the forwarder child, or NULL */

	int		 syslog_open;
	int		 exit_status;
	struct metrics	 m;		/* counters: lines, bytes... */
};

/* daemon_main()'s FLAGS. */
#define DAEMON_FOREGROUND	0x1	/* -f: do not detach */
#define DAEMON_STDERR		0x2	/* copy every record to stderr */

/*
 * Start the daemon described by CFG: log, lock, listen, detach (unless
 * DAEMON_FOREGROUND is in FLAGS), then serve until asked to stop.  Never
 * returns.
 */
void	daemon_main(struct config *cfg, int flags)
	    __attribute__((noreturn));

/* Stop at the end of the current loop turn with STATUS. */
void	daemon_stop(struct daemon *d, int status);

#endif /* DAEMON_H */

/* The daemon's state and its life: start-up, serving, the one shutdown path. */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon/config.h"
#include "daemon/loop.h"
#include "tintin/tintin.h"

struct alerts;
struct client;
struct mailer;
struct forward;

struct daemon {
	struct config	*cfg;
	Tintin_reporter	*log;
	int		 foreground;	/* daemon_main()'s flags */
	struct loop	 loop;

	char		 lock_path[PATH_MAX];
	int		 lock_fd;

	struct loop_io	 listen_io;	/* the listening socket */
	struct loop_io	 local_io;	/* the local unix socket, or fd -1 */
	char		 local_path[PATH_MAX];	/* removed at exit */
	gid_t		 local_gid;	/* its group: readers */
	int		 spare_fd;	/* closed to accept() when out of fds */
	struct loop_io	 timer_io;	/* 1 s housekeeping tick */

	struct client	*clients;
	int		 nclients;
	int		 follow_sink;	/* callback sink feeding /follow */
	int		 nfollowers;

	struct alerts	*alerts;	/* [alert] rules, or NULL */
	struct mailer	*mailer;	/* their mail queue, or NULL */
	struct forward	*forward;	/* the forwarder child, or NULL */

	char		*scratch;	/* escaped record being built */
	size_t		 scratch_size;

	int		 syslog_open;
	int		 stopping;
	int		 exit_status;
	time_t		 started;
	uint64_t	 lines;		/* records of user input */
	uint64_t	 bytes;		/* bytes received from clients */
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

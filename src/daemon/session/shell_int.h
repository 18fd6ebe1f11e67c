/* Between shell.c (a session: its reaper, its end, the stragglers) and
 * shell_term.c (its terminal's bytes).  Not for the rest of the daemon. */
#ifndef SHELL_INT_H
#define SHELL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/frames.h"
#include "daemon/loop.h"

#define FRAME_MAX	4096
#define PEND_MAX	(1024 * 1024)	/* more than one read of the client */
#define TAIL_MAX	(1024 * 1024)	/* output relayed after the exit */
#define EXIT_DRAIN	2		/* s: the master's EIO after the exit */
/* Multiplexed: room the terminal leaves for records in the output. */
#define RECORDS_ROOM(c)	((c)->mux ? CLIENT_RAW_MAX / 2 : 0)

struct client;

struct shell {
	pid_t		 pid;		/* its reaper, our child */
	pid_t		 shpid;		/* the shell, the reaper's child */
	struct loop_io	 io;		/* the pty master */
	int		 reading;	/* master watched for input */
	int		 writing;	/* master watched for room */
	int		 unwatched;	/* master out of the epoll set */
	int		 hup;		/* every slave closed: no terminal */
	int		 exited;	/* the shell ended with CODE: 'x' due */
	int		 code;
	time_t		 exit_by;	/* loop_now() bound on its last output */
	size_t		 tail;		/* output relayed since (a job's) */
	struct frames	 in;		/* frames from the client */
	unsigned char	*pend;		/* input the terminal did not take */
	size_t		 pendoff;	/* its first byte not written */
	size_t		 pendlen;
	time_t		 started;
	struct shell	*gone_next;	/* stopped ones, to free */
};

/* The pty master's events: room for input, output to relay. */
void	shell_term_events(struct loop *l, struct loop_io *io, uint32_t events);

/*
 * C's shell ended: its status once its last output is sent, which the
 * master's EIO tells; FORCE: now (the bound on that wait is past).
 */
void	shell_term_end(struct client *c, int force);

#endif /* SHELL_INT_H */

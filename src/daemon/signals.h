/* Signals: all of them blocked and read from one signalfd. */
#ifndef SIGNALS_H
#define SIGNALS_H

#include <stddef.h>

#include "tintin/tintin.h"

struct loop;

/* How a fatal signal stops the daemon: called after its log line. */
typedef void	(*signals_stop_cb)(void *arg);

/*
 * Block every catchable signal except the synchronous faults (left to the
 * crash handlers), including the two real-time signals glibc reserves.
 * Called first thing in main, so no signal is lost during start-up.
 */
int	signals_block(void);

/*
 * Create the signalfd for the blocked set and watch it in loop L: a
 * signal is logged to LOG, then STOP (with ARG) is called; SIGCHLD about
 * a child goes to the child registry (child.c).  0 or -1.
 */
int	signals_start(struct loop *l, Tintin_reporter *log,
	    signals_stop_cb stop, void *arg);

/* Restore the default dispositions and an empty mask (in a child). */
void	signals_reset(void);

/* "SIGTERM", "SIGRTMIN+3", "SIGRTMAX" (as kill -l prints) into BUF. */
const char *signals_name(int sig, char *buf, size_t size);

/*
 * Log the signal SIG sent by PID (0: the kernel) and stop the daemon
 * (signals_start()'s STOP).
 */
void	signals_fatal(int sig, long pid);

#endif /* SIGNALS_H */

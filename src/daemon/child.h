/* The daemon's child processes: a clean start, a registry, a reaper. */
#ifndef CHILD_H
#define CHILD_H

#include <sys/types.h>

/* Called with the exit STATUS of child PID once it has been reaped. */
typedef void	child_exit_fn(void *arg, pid_t pid, int status);

/*
 * First thing in every forked child: every signal back to its default
 * action (the crash handlers included), an empty signal mask, no
 * alternate stack; then, if KEEP >= 0, KEEP moved to descriptor 3 and
 * every descriptor from 3 on (from 4 if KEEP was kept) closed, so no copy
 * of the lock or of a socket lives on in the child.  Returns the kept
 * descriptor (3), or -1.
 */
int	child_reset(int keep);

/*
 * Watch child PID (forked and not reaped yet): a pidfd names it from now
 * on, and CB(ARG, PID, STATUS) runs when child_reaped() sees it end.
 * CB may be NULL.  0, or -1 if out of memory.
 */
int	child_watch(pid_t pid, child_exit_fn *cb, void *arg);

/*
 * Send SIG to watched child PID through its pidfd, never through a PID
 * that may have been reused.  0, or -1 (ESRCH: not watched or gone).
 */
int	child_signal(pid_t pid, int sig);

/* Stop watching PID (its callback will not run).  Returns nothing. */
void	child_forget(pid_t pid);

/*
 * PID was reaped with STATUS: run its callback and forget it.  Returns 1
 * if PID was watched, 0 if not.
 */
int	child_reaped(pid_t pid, int status);

/*
 * In the leader of a new session (a shell's): become a subreaper and
 * fork.  Returns 0 in the new child, which goes on (to exec the shell).
 * The caller never returns: it writes the child's PID (a pid_t) to REPORT
 * and closes it, then waits for the child.  SIGHUP (a hang-up, or the
 * daemon) hands the child SIGHUP and SIGCONT and leaves it GRACE seconds;
 * SIGTERM (the daemon quits, or dies) ends it at once.  Once the
 * child is gone, every process left of the session (they are reparented
 * here, even after setsid or a double fork) gets SIGKILL, and the caller
 * exits the way the child did.  Returns -1 if it cannot fork.
 */
pid_t	child_subreaper(int report, int grace);

#endif /* CHILD_H */

/* Detaching from the terminal, with a readiness pipe back to the launcher. */
#ifndef DAEMONIZE_H
#define DAEMONIZE_H

/*
 * Fork, setsid, fork again, umask, chdir /, stdio to /dev/null.  Returns in
 * the daemon with the write end of the readiness pipe; the launching
 * process never returns: it exits 0 once daemonize_ready() is called, or 1
 * after printing what daemonize_fail() sent.  Returns -1 if it cannot fork.
 */
int	daemonize(void);

/* Tell the launcher the daemon is serving, and close FD. */
void	daemonize_ready(int fd);

/* Send the launcher an error to print on its stderr, and close FD. */
void	daemonize_fail(int fd, const char *msg);

#endif /* DAEMONIZE_H */

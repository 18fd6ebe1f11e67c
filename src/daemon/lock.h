/* The lock file that keeps a single instance running. */
#ifndef LOCK_H
#define LOCK_H

#include <sys/types.h>

/*
 * Open PATH (never through a symbolic link) and take an exclusive flock on
 * it without waiting.  Returns the descriptor, or -1 with errno set;
 * EWOULDBLOCK means another process holds the lock.
 */
int	lock_acquire(const char *path);

/* Replace the file's content with "PID\n"; 0 or -1. */
int	lock_write_pid(int fd, pid_t pid);

/* Remove PATH and close FD; only the holder ever calls this. */
void	lock_release(int fd, const char *path);

#endif /* LOCK_H */

/*
 * The lock file: an exclusive, non-blocking flock(2) on a regular file,
 * holding the PID of the running daemon.  A file left by a killed daemon
 * carries no lock and is simply taken over.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/lock.h"

#define LOCK_TRIES	8

/*
 * The holder removes the file when it quits.  A process that opened the
 * old file just before may then win the flock on an unlinked inode: so,
 * once locked, check the path still names the file we hold, else retry.
 */
int
lock_acquire(const char *path)
{
	struct stat fst, pst;
	int fd, tries, saved;

	for (tries = 0; tries < LOCK_TRIES; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK, 0644);
		if (fd == -1)
			return -1;
		if (fstat(fd, &fst) == -1)
			goto fail;
		if (!S_ISREG(fst.st_mode)) {
			errno = EINVAL;
			goto fail;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == -1)
			goto fail;
		if (stat(path, &pst) == 0 && pst.st_dev == fst.st_dev &&
		    pst.st_ino == fst.st_ino) {
			(void)fchmod(fd, 0644);
			return fd;
		}
		close(fd);
	}
	errno = EAGAIN;
	return -1;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
lock_write_pid(int fd, pid_t pid)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	if (ftruncate(fd, 0) == -1)
		return -1;
	if (pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

void
lock_release(int fd, const char *path)
{
	if (fd < 0)
		return;
	(void)unlink(path);
	close(fd);
}

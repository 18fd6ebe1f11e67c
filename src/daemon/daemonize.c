/*
 * Detaching, step by step (no daemon(3)): the launcher forks and waits on
 * a pipe; the child starts a session and forks again so the daemon can
 * never reacquire a terminal; the grandchild is the daemon.  The launcher
 * exits only when the daemon reports it is serving, so "Matt_daemon &&
 * nc localhost 4242" always works.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/daemonize.h"

#define READY_MSG	"OK\n"

static void
write_str(int fd, const char *s)
{
	size_t n = strlen(s);
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* The launcher: wait for the verdict of the daemon and exit with it. */
static void
launcher_wait(int rfd, pid_t child)
{
	char buf[1024];
	size_t len = 0;
	ssize_t n;

	(void)waitpid(child, NULL, 0);
	while (len < sizeof(buf) - 1) {
		n = read(rfd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strcmp(buf, READY_MSG) == 0)
		_exit(0);
	if (len == 0)
		fprintf(stderr, "Matt_daemon: the daemon exited during "
		    "start-up (see its log)\n");
	else
		fputs(buf, stderr);
	_exit(1);
}

static int
null_stdio(void)
{
	int fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	/* dup2 clears FD_CLOEXEC on 0, 1 and 2, as wanted. */
	if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1) {
		close(fd);
		return -1;
	}
	if (fd > 2)
		close(fd);
	return 0;
}

int
daemonize(void)
{
	int p[2];
	pid_t pid;

	fflush(NULL);
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		launcher_wait(p[0], pid);
	}
	close(p[0]);
	if (setsid() == -1)
		_exit(1);
	if ((pid = fork()) == -1)
		_exit(1);
	if (pid > 0)
		_exit(0);
	/* The daemon: not a session leader, so it can never get a tty. */
	umask(022);
	if (chdir("/") == -1 || null_stdio() == -1) {
		daemonize_fail(p[1], "Matt_daemon: cannot detach: cannot "
		    "reach / or /dev/null\n");
		_exit(1);
	}
	return p[1];
}

void
daemonize_ready(int fd)
{
	if (fd < 0)
		return;
	write_str(fd, READY_MSG);
	close(fd);
}

void
daemonize_fail(int fd, const char *msg)
{
	if (fd < 0)
		return;
	write_str(fd, msg);
	close(fd);
}

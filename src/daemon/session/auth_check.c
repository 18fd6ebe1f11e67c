/*
 * A password checked by a child process: the child hashes, answers one
 * byte on a pipe and exits; the loop watches the pipe.  The check is
 * under way until its answer is read, whatever the order in which the
 * answer and the child's exit are seen.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/session/auth_check.h"
#include "daemon/child.h"

void
auth_check_init(struct auth_check *k)
{
	memset(k, 0, sizeof(*k));
	k->io.fd = -1;
}

int
auth_check_busy(const struct auth_check *k)
{
	return k->io.fd >= 0;
}

/* Close the answer's pipe; the child, if any, is forgotten or killed. */
static void
end(struct auth_check *k, int kill_it)
{
	if (k->io.fd >= 0) {
		(void)loop_del(k->loop, &k->io);
		close(k->io.fd);
	}
	k->io.fd = -1;
	k->io.cb = NULL;
	if (k->pid != 0) {
		if (kill_it)
			(void)child_signal(k->pid, SIGKILL);
		child_forget(k->pid);	/* reaped by the SIGCHLD path */
	}
	k->pid = 0;
}

/* The child answered (one byte) or died without a word. */
static void
on_answer(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct auth_check *k = io->arg;
	char ok = 0;

	(void)l;
	(void)events;
	if (read(io->fd, &ok, 1) != 1)
		ok = 0;
	end(k, 0);
	k->cb(k->arg, k->user, ok == 1 ? k->role : ROLE_NONE);
}

/* The child was reaped: its PID is no longer one to signal. */
static void
on_exit_of(void *arg, pid_t pid, int status)
{
	struct auth_check *k = arg;

	(void)pid;
	(void)status;
	k->pid = 0;
}

int
auth_check_start(struct auth_check *k, struct loop *l, const char *users,
    const char *user, const char *password, auth_check_cb cb, void *arg)
{
	char hash[AUTH_HASH_MAX];
	int p[2], role = ROLE_NONE;
	pid_t pid;
	char ok;

	if (auth_find_user(users, user, hash, sizeof(hash), &role) == -1) {
		hash[0] = '\0';	/* hashed all the same, then refused */
		role = ROLE_NONE;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		if (child_reset(p[1]) == -1)
			_exit(1);
		ok = auth_password_ok(hash[0] ? hash : NULL, password) ? 1 : 0;
		(void)write(3, &ok, 1);
		_exit(0);
	}
	close(p[1]);
	explicit_bzero(hash, sizeof(hash));
	(void)child_watch(pid, on_exit_of, k);
	k->pid = pid;
	k->loop = l;
	k->role = role;
	snprintf(k->user, sizeof(k->user), "%s", user);
	k->cb = cb;
	k->arg = arg;
	k->io.fd = p[0];
	k->io.cb = on_answer;
	k->io.arg = k;
	if (loop_add(l, &k->io, EPOLLIN) == -1) {
		k->io.fd = -1;		/* not watched: closed here */
		close(p[0]);
		end(k, 1);
		return -1;
	}
	return 0;
}

void
auth_check_stop(struct auth_check *k)
{
	end(k, 1);
}

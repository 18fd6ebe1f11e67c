/*
 * Unit tests of the daemon's children: a child starts with default signal
 * actions and an empty mask; a watched child is signalled through its
 * pidfd, so a process that took over its PID is never hit; the callback
 * runs once, at the reap; the session reaper leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/child.h"

static pid_t
sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	assert_true(pid > 0);
	return pid;
}

static void
crash_like_handler(int sig)
{
	(void)sig;
	_exit(42);	/* what the daemon's crash handler must not do here */
}

static void
test_reset_restores_default_actions_and_mask(void **state)
{
	struct sigaction sa;
	struct rlimit none = { 0, 0 };
	sigset_t set;
	int status;
	pid_t pid;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crash_like_handler;
	assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	if ((pid = fork()) == 0) {
		(void)setrlimit(RLIMIT_CORE, &none);
		if (child_reset(-1) == -1)
			_exit(3);
		if (sigprocmask(SIG_SETMASK, NULL, &set) == -1 ||
		    sigismember(&set, SIGUSR1))
			_exit(4);	/* still blocked */
		(void)raise(SIGSEGV);
		_exit(5);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGSEGV, &sa, NULL);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void
test_reset_keeps_one_descriptor_as_3(void **state)
{
	int p[2], status;
	pid_t pid;
	char c = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		if (child_reset(p[1]) != 3 || write(3, "k", 1) != 1)
			_exit(1);
		/* Every other descriptor from 3 on is closed (p[0] too). */
		_exit(fcntl(p[0] == 3 ? 4 : p[0], F_GETFD) == -1 ? 0 : 2);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'k');
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(p[0]);
}

static int	cb_calls;
static int	cb_status;

static void
count_exit(void *arg, pid_t pid, int status)
{
	(void)pid;
	assert_ptr_equal(arg, &cb_calls);
	cb_calls++;
	cb_status = status;
}

static void
test_signal_and_reap_run_the_callback_once(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	cb_calls = 0;
	pid = sleeper();
	assert_int_equal(child_watch(pid, count_exit, &cb_calls), 0);
	assert_int_equal(child_signal(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(child_reaped(pid, status), 1);
	assert_int_equal(cb_calls, 1);
	assert_true(WIFSIGNALED(cb_status) && WTERMSIG(cb_status) == SIGKILL);
	/* Forgotten once reaped. */
	assert_int_equal(child_reaped(pid, status), 0);
	assert_int_equal(child_signal(pid, SIGKILL), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(cb_calls, 1);
}

static void
test_forgotten_child_gets_no_callback(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	cb_calls = 0;
	pid = sleeper();
	assert_int_equal(child_watch(pid, count_exit, &cb_calls), 0);
	child_forget(pid);
	assert_int_equal(child_signal(pid, SIGKILL), -1);
	assert_int_equal(kill(pid, SIGKILL), 0);	/* ours, unreaped */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(child_reaped(pid, status), 0);
	assert_int_equal(cb_calls, 0);
}

/* Make the next fork() get PID WANT; the new sleeper, or -1. */
static pid_t
sleeper_at(pid_t want)
{
	char buf[32];
	int fd, tries, n, status;
	pid_t pid;

	for (tries = 0; tries < 200; tries++) {
		if ((fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY)) == -1)
			return -1;
		n = snprintf(buf, sizeof(buf), "%ld", (long)want - 1);
		if (write(fd, buf, (size_t)n) != n) {
			close(fd);
			return -1;
		}
		close(fd);
		pid = sleeper();
		if (pid == want)
			return pid;
		(void)kill(pid, SIGKILL);	/* ours: another fork won */
		(void)waitpid(pid, &status, 0);
	}
	return -1;
}

/*
 * The PID of a watched child that someone else reaped is taken by a new
 * process: a signal meant for the old child must not reach it.  (With
 * kill(2) on the PID, it would.)
 */
static void
test_reused_pid_is_never_signalled(void **state)
{
	int status;
	pid_t old, reuser;

	(void)state;
	if (geteuid() != 0)
		skip();		/* ns_last_pid needs root */
	old = sleeper();
	assert_int_equal(child_watch(old, NULL, NULL), 0);
	/* Reaped behind the registry's back (a waitpid(PID) elsewhere). */
	assert_int_equal(kill(old, SIGKILL), 0);
	assert_int_equal(waitpid(old, &status, 0), old);
	if ((reuser = sleeper_at(old)) == -1)
		skip();		/* the PID went to someone else every time */
	assert_int_equal(child_signal(old, SIGKILL), -1);
	assert_int_equal(errno, ESRCH);
	assert_int_equal(waitpid(reuser, &status, WNOHANG), 0);	/* alive */
	assert_int_equal(kill(reuser, SIGKILL), 0);
	assert_int_equal(waitpid(reuser, &status, 0), reuser);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	child_forget(old);
}

/* Alive, and not a zombie? */
static int
running(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[2] != 'Z' && p[2] != 'X';
}

/*
 * A session's child escapes with setsid and a double fork, then the child
 * exits 7: the reaper kills the escapee and exits 7 itself.
 */
static void
test_subreaper_kills_what_escaped_and_exits_like_the_child(void **state)
{
	int rep[2], esc[2], ready[2], status, i;
	pid_t reaper, shell, escapee = 0;
	char c;

	(void)state;
	assert_int_equal(pipe(rep), 0);
	assert_int_equal(pipe(esc), 0);
	assert_int_equal(pipe(ready), 0);
	if ((reaper = fork()) == 0) {
		close(rep[0]);
		close(esc[0]);
		(void)setsid();
		if (child_subreaper(rep[1], 2) != 0)
			_exit(99);
		/* The "shell": an escapee in a new session, orphaned. */
		if ((shell = fork()) == 0) {
			(void)setsid();
			if (fork() == 0) {
				pid_t me = getpid();

				(void)write(esc[1], &me, sizeof(me));
				(void)write(ready[1], "r", 1);
				for (;;)
					pause();
			}
			_exit(0);
		}
		(void)read(ready[0], &c, 1);	/* the escapee runs */
		_exit(7);
	}
	assert_true(reaper > 0);
	close(rep[1]);
	close(esc[1]);
	close(ready[0]);
	close(ready[1]);
	assert_int_equal(read(rep[0], &shell, sizeof(shell)),
	    (ssize_t)sizeof(shell));
	assert_true(shell > 0);
	assert_int_equal(read(esc[0], &escapee, sizeof(escapee)),
	    (ssize_t)sizeof(escapee));
	assert_int_equal(waitpid(reaper, &status, 0), reaper);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 7);
	for (i = 0; i < 100 && running(escapee); i++)
		usleep(10000);
	assert_false(running(escapee));
	close(rep[0]);
	close(esc[0]);
}

/* SIGTERM (the daemon quits): everything goes at once, SIGKILL status. */
static void
test_subreaper_sigterm_ends_the_session_now(void **state)
{
	int rep[2], status;
	pid_t reaper, shell;

	(void)state;
	assert_int_equal(pipe(rep), 0);
	if ((reaper = fork()) == 0) {
		close(rep[0]);
		(void)setsid();
		if (child_subreaper(rep[1], 60) != 0)
			_exit(99);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	close(rep[1]);
	assert_int_equal(read(rep[0], &shell, sizeof(shell)),
	    (ssize_t)sizeof(shell));
	assert_int_equal(kill(reaper, SIGTERM), 0);
	assert_int_equal(waitpid(reaper, &status, 0), reaper);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_false(running(shell));
	close(rep[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_restores_default_actions_and_mask),
		cmocka_unit_test(test_reset_keeps_one_descriptor_as_3),
		cmocka_unit_test(test_signal_and_reap_run_the_callback_once),
		cmocka_unit_test(test_forgotten_child_gets_no_callback),
		cmocka_unit_test(test_reused_pid_is_never_signalled),
		cmocka_unit_test(
		    test_subreaper_kills_what_escaped_and_exits_like_the_child),
		cmocka_unit_test(test_subreaper_sigterm_ends_the_session_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

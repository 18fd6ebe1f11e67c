/*
 * The daemon's child processes (password checker, mailer, shell; the
 * archiver through the log library).  A child starts clean: the daemon's
 * signal handlers must never run in it, since the crash handler would
 * remove the daemon's lock and write the daemon's buffered records a
 * second time.  The parent names its children through pidfds, so a signal
 * never reaches a process that merely took over a PID; SIGCHLD reaping
 * calls the callback registered for each child, so the signal code knows
 * none of them.  And a shell's session gets a subreaper, so that nothing
 * started in it (setsid, double fork, nohup) outlives it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/child.h"
#include "daemon/loop.h"

#define KSIG_MAX	64	/* signals the kernel knows */
#define SWEEP_MAX	4096	/* reaps before a session reaper gives up */
#define SWEEP_BOUND	10	/* seconds, the same */

struct watched {
	pid_t		 pid;
	int		 pidfd;		/* -1: kernel without pidfd_open */
	child_exit_fn	*cb;
	void		*arg;
};

static struct watched	*watched;
static size_t		 nwatched, capwatched;

int
child_reset(int keep)
{
	struct sigaction sa;
	stack_t ss;
	uint64_t none = 0;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	/* glibc refuses 32 and 33, which the daemon never catches. */
	for (sig = 1; sig <= KSIG_MAX; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	/* The raw call: glibc would keep its two reserved signals blocked. */
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL,
	    sizeof(none));
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	(void)sigaltstack(&ss, NULL);
	if (keep < 0) {
		(void)close_range(3, ~0U, 0);
		return 0;
	}
	if (keep != 3 && dup2(keep, 3) == -1)
		return -1;
	(void)close_range(4, ~0U, 0);
	return 3;
}

static struct watched *
find(pid_t pid)
{
	size_t i;

	for (i = 0; i < nwatched; i++)
		if (watched[i].pid == pid)
			return &watched[i];
	return NULL;
}

static void
drop(struct watched *w)
{
	if (w->pidfd >= 0)
		close(w->pidfd);
	*w = watched[--nwatched];
}

int
child_watch(pid_t pid, child_exit_fn *cb, void *arg)
{
	struct watched *w, *nw;

	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	/* Left by a child reaped elsewhere (waitpid(PID)): PID was reused. */
	if ((w = find(pid)) != NULL)
		drop(w);
	if (nwatched == capwatched) {
		nw = realloc(watched, (capwatched ? capwatched * 2 : 8) *
		    sizeof(*nw));
		if (nw == NULL)
			return -1;
		watched = nw;
		capwatched = capwatched ? capwatched * 2 : 8;
	}
	w = &watched[nwatched++];
	w->pid = pid;
	/* Not reaped yet: PID can only name this child here. */
	w->pidfd = pidfd_open(pid, 0);
	w->cb = cb;
	w->arg = arg;
	return 0;
}

int
child_signal(pid_t pid, int sig)
{
	struct watched *w;

	if (pid <= 0 || (w = find(pid)) == NULL) {
		errno = ESRCH;
		return -1;
	}
	if (w->pidfd >= 0)
		return pidfd_send_signal(w->pidfd, sig, NULL, 0);
	/* No pidfd (old kernel): watched means not reaped, so exact too. */
	return kill(pid, sig);
}

void
child_forget(pid_t pid)
{
	struct watched *w;

	if (pid > 0 && (w = find(pid)) != NULL)
		drop(w);
}

int
child_reaped(pid_t pid, int status)
{
	struct watched *w;
	child_exit_fn *cb;
	void *arg;

	if (pid <= 0 || (w = find(pid)) == NULL)
		return 0;
	cb = w->cb;
	arg = w->arg;
	drop(w);
	if (cb != NULL)
		cb(arg, pid, status);
	return 1;
}

/* --- the session reaper ------------------------------------------------ */

/* Parent PID from the text of /proc/PID/stat (comm may hold ')'). */
static pid_t
parent_of(const char *pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	long pp;
	int fd;

	if (snprintf(path, sizeof(path), "/proc/%s/stat", pid) >=
	    (int)sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0' ||
	    p[3] != ' ')
		return -1;
	pp = strtol(p + 4, NULL, 10);
	return (pid_t)pp;
}

/*
 * SIGKILL to every child of ours.  They are not reaped, so their PIDs
 * cannot have been reused: kill(2) names exactly them.  Returns how many.
 */
static int
kill_children(void)
{
	struct dirent *de;
	pid_t self = getpid();
	int n = 0;
	DIR *dp;

	if ((dp = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (parent_of(de->d_name) == self &&
		    kill((pid_t)strtol(de->d_name, NULL, 10), SIGKILL) == 0)
			n++;
	}
	closedir(dp);
	return n;
}

/*
 * Kill the children, reap one, repeat: the children of a killed process
 * come to us (we are their subreaper) and go in the next round.  Ends at
 * ECHILD; bounded in count, and in time by an alarm (a process stuck in
 * the kernel).  Records CHILD's status in *STATUS if it is reaped here.
 */
static void
sweep(pid_t child, int *status)
{
	int i, st;
	pid_t w;

	alarm(SWEEP_BOUND);
	for (i = 0; i < SWEEP_MAX; i++) {
		(void)kill_children();
		if ((w = waitpid(-1, &st, 0)) == -1) {
			if (errno == EINTR)
				continue;
			break;		/* ECHILD: nobody left */
		}
		do {
			if (w == child)
				*status = st;
		} while ((w = waitpid(-1, &st, WNOHANG)) > 0);
	}
	alarm(0);
}

/* Wait for CHILD, its hang-up grace, or the order to end it now. */
static void
wait_child(pid_t child, int grace, const sigset_t *set, int *status)
{
	struct timespec ts;
	time_t deadline = 0, now;
	siginfo_t si;
	pid_t w;
	int sig, st;

	for (;;) {
		while ((w = waitpid(-1, &st, WNOHANG)) > 0)
			if (w == child) {
				*status = st;
				return;
			}
		now = loop_now();
		if (deadline != 0 && now >= deadline)
			return;
		ts.tv_sec = deadline != 0 ? deadline - now : 0;
		ts.tv_nsec = 0;
		sig = sigtimedwait(set, &si, deadline != 0 ? &ts : NULL);
		if (sig == SIGTERM)
			return;
		if (sig == SIGHUP && deadline == 0) {
			/* Not reaped: the PID is still exactly our child. */
			(void)kill(child, SIGHUP);
			(void)kill(child, SIGCONT);
			deadline = loop_now() + grace;
		}
	}
}

/* End the way STATUS says the shell ended: by the same signal, or code. */
static void __attribute__((noreturn))
exit_like(int status)
{
	struct rlimit none = { 0, 0 };
	struct sigaction sa;
	sigset_t set;
	int sig;

	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		/* A core is the shell's to dump, not ours. */
		(void)setrlimit(RLIMIT_CORE, &none);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		(void)sigaction(sig, &sa, NULL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
		(void)kill(getpid(), sig);
		_exit(128 + sig);
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 255);
}

pid_t
child_subreaper(int report, int grace)
{
	sigset_t set, old;
	pid_t pid, ppid = getppid();
	int status = SIGKILL;		/* "killed by SIGKILL" until known */

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	(void)sigprocmask(SIG_BLOCK, &set, &old);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		return -1;
	/* The daemon dies: end the session all the same. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, 0);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		close(report);
		return 0;
	}
	(void)write(report, &pid, sizeof(pid));
	close(report);
	/* Not the terminal's reader or writer: the shell is. */
	(void)close_range(0, 2, 0);
	if (getppid() == ppid)
		wait_child(pid, grace, &set, &status);
	sweep(pid, &status);
	exit_like(status);
}

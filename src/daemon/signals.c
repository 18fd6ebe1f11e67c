/*
 * Signals.  Every signal the kernel lets us catch ends the daemon cleanly,
 * after a log line naming it and its sender.  They are blocked and read
 * from a signalfd in the event loop, so the handling runs in normal
 * context; the loop then goes through the one shutdown path.  The only
 * exception is SIGCHLD about one of our own children, which is reaped and
 * handed to whoever registered that child (child.c).
 *
 * glibc refuses to block signals 32 and 33 (it reserves them for threads
 * cancellation and set*id broadcasts) but a plain kill -33 would then kill
 * the daemon silently; the daemon is single-threaded, so we block them with
 * the raw system call.  (Should worker threads that call setuid ever
 * appear, revisit this.)
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/child.h"
#include "daemon/loop.h"
#include "daemon/signals.h"

#define KSIG_MAX	64		/* signals the kernel knows */

/* What signals_start() was given: the signals are the process's. */
static struct loop_io	 sig_io = { .fd = -1 };
static Tintin_reporter	*sig_log;
static signals_stop_cb	 sig_stop;
static void		*sig_stop_arg;

/* The synchronous faults: their handlers live in crash.c. */
static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };

static uint64_t
blocked_bits(void)
{
	uint64_t bits = ~(uint64_t)0;
	size_t i;

	bits &= ~((uint64_t)1 << (SIGKILL - 1));
	bits &= ~((uint64_t)1 << (SIGSTOP - 1));
	for (i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
		bits &= ~((uint64_t)1 << (fault_signals[i] - 1));
	return bits;
}

/* The kernel's view of a mask: the first 64 bits of a sigset_t. */
static void
kernel_mask(sigset_t *set, uint64_t bits)
{
	memset(set, 0, sizeof(*set));
	memcpy(set, &bits, sizeof(bits));
}

int
signals_block(void)
{
	sigset_t set;

	kernel_mask(&set, blocked_bits());
	return (int)syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL,
	    (size_t)(KSIG_MAX / 8));
}

void
signals_reset(void)
{
	struct sigaction sa;
	sigset_t set;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < SIGRTMIN; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &sa, NULL);
	kernel_mask(&set, 0);
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL,
	    (size_t)(KSIG_MAX / 8));
}

const char *
signals_name(int sig, char *buf, size_t size)
{
	const char *abbrev;
	int min = SIGRTMIN, max = SIGRTMAX;

	if (sig >= min && sig <= max) {
		/* The way bash's kill -l names them. */
		if (sig == min)
			snprintf(buf, size, "SIGRTMIN");
		else if (sig == max)
			snprintf(buf, size, "SIGRTMAX");
		else if (sig - min <= (max - min) / 2)
			snprintf(buf, size, "SIGRTMIN+%d", sig - min);
		else
			snprintf(buf, size, "SIGRTMAX-%d", max - sig);
	} else if (sig == SIGIO)
		snprintf(buf, size, "SIGIO");	/* glibc says POLL; kill -l IO */
	else if ((abbrev = sigabbrev_np(sig)) != NULL)
		snprintf(buf, size, "SIG%s", abbrev);
	else
		snprintf(buf, size, "SIG%d", sig);
	return buf;
}

void
signals_fatal(int sig, long pid)
{
	char name[32];

	signals_name(sig, name, sizeof(name));
	if (pid > 0)
		tintin_log(sig_log, TINTIN_INFO, "Signal handler: received %s "
		    "(%d) from pid %ld.", name, sig, pid);
	else
		tintin_log(sig_log, TINTIN_INFO, "Signal handler: received %s "
		    "(%d) from the kernel.", name, sig);
	sig_stop(sig_stop_arg);
}

/* SIGCHLD from the kernel: reap every child that is done. */
static void
reap_children(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		(void)child_reaped(pid, status);
		if (WIFEXITED(status))
			tintin_log(sig_log, TINTIN_DEBUG, "Child %ld exited "
			    "with status %d.", (long)pid, WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			tintin_log(sig_log, TINTIN_DEBUG, "Child %ld killed by "
			    "signal %d.", (long)pid, WTERMSIG(status));
	}
}

static void
on_signal(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct signalfd_siginfo si;
	ssize_t n;

	(void)l;
	(void)events;
	for (;;) {
		n = read(io->fd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si)) {
			if (n == -1 && errno == EINTR)
				continue;
			return;		/* EAGAIN: drained */
		}
		if (si.ssi_signo == SIGCHLD && si.ssi_code > 0) {
			reap_children();
			continue;
		}
		signals_fatal((int)si.ssi_signo, (long)si.ssi_pid);
	}
}

int
signals_start(struct loop *l, Tintin_reporter *log, signals_stop_cb stop,
    void *arg)
{
	sigset_t set;
	int fd;

	sig_log = log;
	sig_stop = stop;
	sig_stop_arg = arg;
	kernel_mask(&set, blocked_bits());
	/* The glibc wrapper passes the mask through untouched. */
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd == -1)
		return -1;
	sig_io.fd = fd;
	sig_io.cb = on_signal;
	sig_io.arg = NULL;
	return loop_add(l, &sig_io, EPOLLIN);
}

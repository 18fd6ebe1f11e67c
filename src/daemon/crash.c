/*
 * Crash handlers.  Only async-signal-safe calls here: write(2) of lines
 * formatted in advance or with pure arithmetic (tintin_crash_log), unlink,
 * sigaction, sigprocmask, getpid and raise.  They belong to the daemon
 * alone: a forked helper resets them first thing (child_reset), and one
 * that faults before that simply dies of its signal, touching neither the
 * daemon's lock nor its buffered records.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon/crash.h"
#include "daemon/loop.h"
#include "daemon/signals.h"

struct crash_note {
	int	sig;
	long	pid;
};

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
    SIGABRT };
#define NCRASH	(sizeof(crash_signals) / sizeof(crash_signals[0]))

static struct crash_ctx	 crash_ctx;
static struct loop_io	 crash_io = { .fd = -1 };	/* sent signals */
static int		 crash_wfd = -1;
static pid_t		 crash_pid;	/* the daemon, not a child */
static char		 crash_msg[NCRASH][64];
static char		 altstack[64 * 1024];

static int
user_sent(const siginfo_t *si)
{
	return (si->si_code == SI_USER || si->si_code == SI_QUEUE ||
	    si->si_code == SI_TKILL) && si->si_pid != getpid();
}

/* Die of SIG, by its default action. */
static void __attribute__((noreturn))
die_of(int sig)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	(void)raise(sig);
	_exit(128 + sig);
}

static void
crash_handler(int sig, siginfo_t *si, void *uc)
{
	struct crash_note note;
	int saved = errno;
	size_t i;

	(void)uc;
	if (getpid() != crash_pid)
		die_of(sig);	/* a child, faulting before child_reset() */
	if (user_sent(si) && crash_wfd >= 0) {
		memset(&note, 0, sizeof(note));	/* no padding left unset */
		note.sig = sig;
		note.pid = (long)si->si_pid;
		(void)write(crash_wfd, &note, sizeof(note));
		errno = saved;
		return;
	}
	for (i = 0; i < NCRASH; i++)
		if (crash_signals[i] == sig)
			tintin_crash_log(*crash_ctx.log, TINTIN_ERROR,
			    crash_msg[i]);
	if (*crash_ctx.lock_fd >= 0)
		(void)unlink(crash_ctx.lock_path);
	die_of(sig);
}

static void
on_crash_pipe(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct crash_note note;

	(void)l;
	(void)events;
	while (read(io->fd, &note, sizeof(note)) == (ssize_t)sizeof(note))
		signals_fatal(note.sig, note.pid);
}

int
crash_start(const struct crash_ctx *ctx)
{
	struct sigaction sa;
	stack_t ss;
	char name[32];
	int p[2];
	size_t i;

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	crash_ctx = *ctx;
	crash_pid = getpid();
	crash_wfd = p[1];
	crash_io.fd = p[0];
	crash_io.cb = on_crash_pipe;
	crash_io.arg = NULL;
	if (loop_add(ctx->loop, &crash_io, EPOLLIN) == -1)
		return -1;
	for (i = 0; i < NCRASH; i++)
		snprintf(crash_msg[i], sizeof(crash_msg[i]),
		    "Fatal signal %s (%d): crashing.",
		    signals_name(crash_signals[i], name, sizeof(name)),
		    crash_signals[i]);
	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	(void)sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = crash_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < NCRASH; i++)
		if (sigaction(crash_signals[i], &sa, NULL) == -1)
			return -1;
	return 0;
}

/* Last words on a crash: async-signal-safe handlers for the faults. */
#ifndef CRASH_H
#define CRASH_H

#include "tintin/tintin.h"

struct loop;

/* What the handlers read of the daemon, at the time of the fault. */
struct crash_ctx {
	struct loop	*loop;		/* for the pipe of sent signals */
	Tintin_reporter	*const *log;	/* the log; NULL once freed */
	const int	*lock_fd;	/* the lock is held while >= 0 */
	const char	*lock_path;	/* removed on a real fault */
};

/*
 * Install handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT on an
 * alternate stack.  A real fault writes one final log line, removes the
 * lock and dies by the signal; the same signals sent by another process
 * are passed to the event loop through a pipe and end the daemon cleanly.
 * In a forked child (before it resets them) they only let the signal kill
 * it.  A sent signal is stopped by signals_fatal().  Call it in the final
 * daemon process, with CTX (copied) pointing at what lives as long as
 * the process.  Returns 0 or -1.
 */
int	crash_start(const struct crash_ctx *ctx);

#endif /* CRASH_H */

/* Last words on a crash: async-signal-safe handlers for the faults. */
#ifndef CRASH_H
#define CRASH_H

struct daemon;

/*
 * Install handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT on an
 * alternate stack.  A real fault writes one final log line, removes the
 * lock and dies by the signal; the same signals sent by another process
 * are passed to the event loop through a pipe and end the daemon cleanly.
 * In a forked child (before it resets them) they only let the signal kill
 * it.  Call it in the final daemon process.  Returns 0 or -1.
 */
int	crash_start(struct daemon *d);

#endif /* CRASH_H */

/* What the bench tools share: error exits, number arguments, sending,
 * deadlines. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <time.h>

/* The tool's name in messages ("flood", "check"...); set it first. */
extern const char *bench_prog;

/* "PROG: message" on stderr, then exit with STATUS. */
void		 bench_die(int status, const char *fmt, ...)
		    __attribute__((noreturn, format(printf, 2, 3)));

/* Decimal S in MIN..MAX, or a message about WHAT and exit 2. */
unsigned long	 bench_num(const char *s, const char *what, unsigned long min,
		    unsigned long max);

/* send(2) all LEN bytes (no SIGPIPE); 0, or -1 with errno. */
int		 bench_send_all(int fd, const char *p, size_t len);

/* Milliseconds from now (CLOCK_MONOTONIC) to END; <= 0 once past it. */
long		 bench_ms_left(const struct timespec *end);

#endif /* BENCH_UTIL_H */

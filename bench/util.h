/* What the bench tools share: error exits and number arguments. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

/* The tool's name in messages ("flood", "check"...); set it first. */
extern const char *bench_prog;

/* "PROG: message" on stderr, then exit with STATUS. */
void		 bench_die(int status, const char *fmt, ...)
		    __attribute__((noreturn, format(printf, 2, 3)));

/* Decimal S in MIN..MAX, or a message about WHAT and exit 2. */
unsigned long	 bench_num(const char *s, const char *what, unsigned long min,
		    unsigned long max);

#endif /* BENCH_UTIL_H */

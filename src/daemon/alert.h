/* Alert rules: records matching a rule are collected and mailed as digests. */
#ifndef ALERT_H
#define ALERT_H

#include <stddef.h>
#include <time.h>

struct config_alert;
struct daemon;

/* One match waiting in a rule's window. */
struct alert_item {
	time_t		 t;		/* wall clock */
	int		 level;
	char		 addr[64];	/* client "ip:port", or "" */
	char		*msg;		/* the record, possibly cut */
	size_t		 len;
	size_t		 cut;		/* bytes left out of msg */
};

/*
 * Expand template TMPL into DST (SIZE bytes): %r the RULE name, %h HOST,
 * %m MATCH (the first text matched), %% a '%'.  Returns the length.
 */
size_t	alert_subject(char *dst, size_t size, const char *tmpl,
	    const char *rule, const char *host, const char *match);

/*
 * The body of a digest mail for rule A: the NITEMS ITEMS listed (control
 * bytes shown as \xHH), then how many of the COUNT matches were left out.
 * Returns a malloc'd string or NULL.
 */
char	*alert_digest(const struct config_alert *a, const char *host,
	    const struct alert_item *items, unsigned nitems,
	    unsigned long count);

/*
 * Would a rule matching PATTERN fire on the record MSG (LEN bytes), its
 * level and source aside?  The same prefilter, compilation and match as
 * the daemon's.  1 or 0, or -1 if PATTERN does not compile (or no memory).
 */
int	alert_pattern_fires(const char *pattern, const char *msg, size_t len);

/*
 * Compile the rules of the configuration and hook them to the log (after
 * the logs are open and the daemon detached), start the mailer.  0 or -1.
 */
int	alert_start(struct daemon *d);

/* Once a second: mail the windows that are over. */
void	alert_tick(struct daemon *d);

/* Log a record the rules do not see (the mailer's own messages). */
void	alert_log(struct daemon *d, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Drop the windows and the mailer (counting what is lost), free it all. */
void	alert_stop(struct daemon *d);

#endif /* ALERT_H */

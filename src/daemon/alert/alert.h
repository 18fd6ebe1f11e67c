/* Alert rules: records matching a rule are collected and mailed as digests. */
#ifndef ALERT_H
#define ALERT_H

#include <stddef.h>
#include <time.h>

#include "tintin/tintin.h"

struct alerts;
struct config;
struct config_alert;

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
 * Where an alert engine's digests go: SEND queues the mail of rule A
 * (0, or -1 if it could not be built), HOST names this machine in
 * subjects and digests.  daemon.c wires them to the mailer.
 */
typedef int	(*alert_send_cb)(void *arg, const struct config_alert *a,
		    const char *subject, const char *body);

/*
 * Compile the rules of configuration C, for records of LOG.  NULL if one
 * does not compile or there is no memory (nothing is logged).
 */
struct alerts *alert_new(const struct config *c, Tintin_reporter *log);

/*
 * Hook the rules to the log (after the logs are open and the daemon
 * detached); their digests go to SEND (with ARG), from HOST, which must
 * stay valid until alert_stop().  Logs how many rules run.  0 or -1.
 */
int	alert_start(struct alerts *a, alert_send_cb send, void *arg,
	    const char *host);

/* Once a second: the windows that are over go to SEND. */
void	alert_tick(struct alerts *a);

/* Log a record the rules of A do not see (the mailer's own messages). */
void	alert_log(struct alerts *a, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Records that matched a rule so far (0 when A is NULL). */
uint64_t	alert_matches(const struct alerts *a);

/*
 * Stop: the open windows go to SEND if SPOOLING (mails left unsent are
 * kept for the next start), else are counted as lost (logged).  Unhook
 * the rules, free it all.  A may be NULL.
 */
void	alert_stop(struct alerts *a, int spooling);

#endif /* ALERT_H */

/* Alert mails: RFC 5322 messages, a bounded queue, SMTP delivery by a
 * child, a spool for what the queue has no room for or a stop leaves
 * unsent. */
#ifndef MAIL_H
#define MAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct config;
struct config_alert;
struct mailer;

/* Where the mailer logs its lines (sent, failed, spooled...). */
typedef void	(*mail_report_cb)(void *arg, int level, const char *msg);

/*
 * Copy header text SRC into DST (SIZE bytes, NUL-terminated): every run of
 * control bytes (CR and LF included) becomes one space, invalid UTF-8 and
 * C1 controls become '?', and the result is cut at a character boundary.
 * Returns the length written.
 */
size_t	mail_header_clean(char *dst, size_t size, const char *src);

/*
 * The value of a Subject: header for the clean text SUBJECT into DST:
 * as it is if short printable ASCII, else RFC 2047 encoded words (UTF-8,
 * base64) folded over several lines.  Returns the length, or 0 if DST is
 * too small.
 */
size_t	mail_encode_subject(char *dst, size_t size, const char *subject);

/* "Thu, 25 Nov 2026 03:41:44 +0100": T at UTC offset GMTOFF seconds. */
void	mail_date(char *buf, size_t size, time_t t, long gmtoff);

/*
 * A whole message (CRLF line ends) from FROM to the NTO addresses of TO,
 * with SUBJECT (cleaned and encoded here), BODY (UTF-8 text, '\n' line
 * ends, sent quoted-printable), a Date of T and Message-ID MSGID (with
 * its angle brackets).  Returns a malloc'd string, its length in *LENP,
 * or NULL when out of memory.
 */
char	*mail_build(const char *from, const char (*to)[256], int nto,
	    const char *subject, const char *body, time_t t,
	    const char *msgid, size_t *lenp);

/*
 * Is a mailer wanted for configuration C: rules, or mail an earlier run
 * spooled?
 */
int	mail_wanted(const struct config *c);

/*
 * Set the mailer of C's [mail] up (after detaching): it logs through
 * REPORT (with ARG) and queues what an earlier run spooled.  NULL when
 * out of memory.
 */
struct mailer *mail_start(const struct config *c, mail_report_cb report,
	    void *arg);

/*
 * Queue a mail for rule A with SUBJECT and BODY; it is sent by a child
 * process, retried with a growing delay.  When the queue is full it waits
 * in the spool, or (no spool, or the spool cannot take it) a mail is
 * dropped; logged.  0, or -1 if it could not be built (or M is NULL).
 */
int	mail_send(struct mailer *m, const struct config_alert *a,
	    const char *subject, const char *body);

/* The host name the mails come from (sanitized, for subjects too). */
const char *mail_host(const struct mailer *m);

/*
 * Once a second: log what the spool took since the last tick, start the
 * next delivery, stop one that hangs.
 */
void	mail_tick(struct mailer *m);

/* Child PID ended with STATUS: 1 if it was the mailer's, else 0. */
int	mail_child_exited(struct mailer *m, pid_t pid, int status);

/* Stopping: no new delivery starts (mails queued from now on wait). */
void	mail_close(struct mailer *m);

/* Whether mails not sent at the stop are spooled for the next start. */
int	mail_spooling(const struct mailer *m);

/*
 * Kill a delivery in progress; spool what was not sent ([mail] spool),
 * or drop it; both logged.  Frees it all.  M may be NULL.
 */
void	mail_stop(struct mailer *m);

/* A mailer's figures, for metrics. */
struct mail_counts {
	uint64_t	sent;		/* mails delivered */
	uint64_t	failed;		/* given up, or dropped: queue full */
	uint64_t	spooled;	/* written to the spool: queue full */
	unsigned	waiting;	/* queued or being sent now */
	unsigned	in_spool;	/* in the spool, as the mailer counts */
};

/* M's figures into *MC (all zero when M is NULL). */
void	mail_counts(const struct mailer *m, struct mail_counts *mc);

#endif /* MAIL_H */

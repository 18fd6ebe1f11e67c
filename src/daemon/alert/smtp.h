/* Delivery of one mail over SMTP with libcurl, in a child process. */
#ifndef SMTP_H
#define SMTP_H

#include <stddef.h>

struct config;

/* How smtp_deliver() ends: the mailer child's exit status. */
#define SMTP_SENT		0
#define SMTP_FAILED		1	/* this mail, or the child's setup */
#define SMTP_SERVER_FAILED	2	/* unreachable, too slow, TLS or login
					   refused: any mail would fail */

/*
 * Send the LEN bytes of MSG (a complete RFC 5322 message) from FROM to
 * the NTO addresses in TO, as the [mail] section of C says.  Run it in a
 * child: libcurl is loaded there only (dlopen), so its dozens of
 * libraries never weigh on the daemon's memory.  On failure, a one-line
 * reason is written to ERR_FD.  Returns SMTP_SENT, SMTP_FAILED or
 * SMTP_SERVER_FAILED: the child's exit status.
 */
int	smtp_deliver(const struct config *c, const char *from,
	    const char (*to)[256], int nto, const char *msg, size_t len,
	    int err_fd);

#endif /* SMTP_H */

/*
 * The alert mail spool: mails a stopping daemon could not send are kept
 * in a directory, one file each, and queued again at the next start.
 */
#ifndef MAIL_SPOOL_H
#define MAIL_SPOOL_H

#include <stddef.h>

#include "daemon/config.h"

/* One spooled mail: its rule's name, the envelope recipients, the text. */
struct spooled {
	char		 rule[CONFIG_NAME_MAX];
	char		 to[CONFIG_MAX_RCPTS][256];
	int		 nto;
	char		*msg;		/* malloc'd: the RFC 5322 message */
	size_t		 len;
};

/*
 * Write MAIL into directory DIR (made 0700 if missing) as a new file,
 * mode 0600, whole or not at all.  0, or -1 with errno.
 */
int	spool_write(const char *dir, const struct spooled *mail);

/* Does DIR hold anything that looks like a spooled mail? */
int	spool_waiting(const char *dir);

/*
 * Hand every mail of DIR to CB, oldest first, and remove its file once
 * CB took it (CB owns MAIL->msg from then on).  A file that is not a
 * spooled mail is left alone, and BAD(ARG, NAME) is told.  Returns the
 * number of mails handed over, or -1 with errno if DIR cannot be read
 * (ENOENT: nothing was ever spooled).
 */
int	spool_load(const char *dir, void (*cb)(void *, struct spooled *),
	    void (*bad)(void *, const char *), void *arg);

#endif /* MAIL_SPOOL_H */

/*
 * The alert mail spool: mails the queue has no room for, and those a
 * stopping daemon could not send, are kept in a directory, one file each,
 * and queued again as the queue drains (or at the next start).
 */
#ifndef MAIL_SPOOL_H
#define MAIL_SPOOL_H

#include <stddef.h>

#include "daemon/config.h"

#define SPOOL_NAME_MAX	64	/* "SECONDS-PID-SEQ.mail" */

/*
 * One spooled mail: its file name (its place in the order, kept for its
 * whole life), its rule's name, the envelope recipients, the text.
 */
struct spooled {
	char		 name[SPOOL_NAME_MAX];
	char		 rule[CONFIG_NAME_MAX];
	char		 to[CONFIG_MAX_RCPTS][256];
	int		 nto;
	char		*msg;		/* malloc'd: the RFC 5322 message */
	size_t		 len;
};

/*
 * Give MAIL a new file name, sorting after every name this process gave
 * before (the order mails were made in).
 */
void	spool_name(struct spooled *mail);

/*
 * Write MAIL into directory DIR (made 0700 if missing) as a new file
 * under its name (given one first if it has none), mode 0600, whole or
 * not at all, never over another file.  0, or -1 with errno.
 */
int	spool_write(const char *dir, struct spooled *mail);

/*
 * How many files of DIR look like spooled mails, counting up to MAX (0 if
 * it cannot be read); spool_count(dir, 1) says whether any waits.
 */
int	spool_count(const char *dir, int max);

/*
 * Hand the mails of DIR to CB, oldest first, MAX of them at most, and
 * remove each file once CB took it (CB owns MAIL->msg from then on).  A
 * file that is not a spooled mail is left alone, and BAD(ARG, NAME) is
 * told (if BAD is not NULL).  *LEFT (if LEFT is not NULL) gets the number
 * of mail files not looked at because MAX was reached.  Returns the number
 * of mails handed over, or -1 with errno if DIR cannot be read (ENOENT:
 * nothing was ever spooled).
 */
int	spool_load(const char *dir, int max,
	    void (*cb)(void *, struct spooled *),
	    void (*bad)(void *, const char *), void *arg, int *left);

#endif /* MAIL_SPOOL_H */

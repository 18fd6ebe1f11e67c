/* Ben_AFK-gtk: the daemon's replies in words (replies.c).  GLib only,
 * so that the unit tests need no display. */
#ifndef GTK_REPLIES_H
#define GTK_REPLIES_H

#include <glib.h>

#include "client/afk.h"

char	*replies_field(const char *line, const char *name);
char	*replies_duration(long seconds);
char	*replies_size(const char *bytes);
/* "+OK version=... log_size=..." in words. */
char	*replies_status(const char *line);
/* A data line of /clients in words. */
char	*replies_client(const char *line);
/* "-ERR what (hint)" as "What: hint." */
char	*replies_error(const char *line);
/* Why a session could not start (TEXT, a reply of KIND or not), in words
 * for this window. */
char	*replies_failure(const char *text, enum proto_reply kind);
/* The +OK reply LINE to COMMAND in words. */
char	*replies_ok(const char *command, const char *line);

#endif /* GTK_REPLIES_H */

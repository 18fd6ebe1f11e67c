/* Ben_AFK-gtk: the servers connected to recently, kept in
 * ~/.config/ben_afk/recent_servers (never a password). */
#ifndef GTK_RECENT_H
#define GTK_RECENT_H

#include <glib.h>

#define RECENT_MAX	10

struct recent {
	char	*host;
	char	*port;
	int	 tls;
	char	*user;		/* "" when anonymous */
	char	*keyfile;	/* "" without a key */
};

/* The recent servers, most recent first: a GPtrArray of struct recent
 * that frees them. */
GPtrArray	*recent_load(void);

/* Put this server first in the file (once); returns 0 or -1. */
int		 recent_add(const struct recent *r);

void		 recent_free(gpointer r);

#endif /* GTK_RECENT_H */

/* Ben_AFK-gtk networking: each daemon session runs in its own worker thread
 * on the blocking libafk core, and reports to the GTK main loop through
 * events.  No GTK here: only GLib. */
#ifndef GTK_NET_H
#define GTK_NET_H

#include <glib.h>

#include "client/afk.h"

/* What one session is for (docs/PROTOCOL.md). */
enum net_role {
	NET_COMMAND,	/* lines and commands, /status every few seconds,
			 * /stats every second while allowed */
	NET_FOLLOW,	/* /follow: the live log */
	NET_SHELL,	/* /shell: terminal frames */
};

struct net_params {
	char	*host;
	char	*port;
	char	*user;		/* NULL: anonymous */
	char	*password;	/* NULL: key login (with keyfile) */
	char	*keyfile;
	char	*known_hosts;	/* NULL: ~/.config/ben_afk/known_hosts */
	int	 tls;
	int	 plaintext;	/* may send a password without TLS */
	int	 timeout_ms;
	int	 rows, cols;	/* NET_SHELL: the terminal size */
	int	 tail;		/* NET_FOLLOW: records of history first */
};

enum net_event_kind {
	NET_EV_UNKNOWN_HOST,	/* text: fingerprint, key: host key; ended */
	NET_EV_CHANGED_HOST,	/* text: the warning; ended */
	NET_EV_FAILED,		/* text: why the session could not start */
	NET_EV_READY,		/* text: /whoami, "+OK following", "+OK shell" */
	NET_EV_LINE,		/* text: a log record, a reply or a data line */
	NET_EV_LINES,		/* lines: records of the live log */
	NET_EV_STATUS,		/* text: the reply to the periodic /status */
	NET_EV_STATS,		/* text: the reply to the periodic /stats,
				 * lines: its data lines (if +OK), at_ms */
	NET_EV_LOST,		/* text: why the established session ended */
	NET_EV_DATA,		/* data: terminal output */
	NET_EV_EXIT,		/* status: the shell's exit status; ended */
};

struct net;

struct net_event {
	struct net		*net;
	enum net_event_kind	 kind;
	enum proto_reply	 reply;		/* the kind of text, if a reply */
	char			*text;
	char			*key;		/* NET_EV_UNKNOWN_HOST */
	char			*file;		/* known_hosts file used */
	char			*tls;		/* NET_EV_READY: TLS version */
	GBytes			*data;
	int			 status;	/* EXIT: status; READY: local port */
	char			*command;	/* NET_COMMAND: the command of
						 * this reply or data line */
	int			 data_line;	/* a line after "+OK N ..." */
	char			**lines;	/* NET_EV_LINES, NET_EV_STATS */
	gint64			 at_ms;		/* NET_EV_STATS: when it came
						 * (monotonic) */
};

/* Called in the main loop for each event of a session not stopped. */
typedef void	(*net_cb)(const struct net_event *ev, void *arg);

/* Start a session in a new thread; the parameters are copied. */
struct net	*net_start(enum net_role role, const struct net_params *p,
		    net_cb cb, void *arg);

/*
 * A NET_FOLLOW or NET_SHELL session on PARENT's connection when PARENT
 * (a NET_COMMAND session, ready) multiplexes it (/mux); else one of its
 * own, as net_start().  Its events are those of net_start()'s.
 */
struct net	*net_attach(struct net *parent, enum net_role role,
		    const struct net_params *p, net_cb cb, void *arg);

/* Queue a line to send (NET_COMMAND); a command's reply comes back as
 * NET_EV_LINE. */
void		 net_send_line(struct net *n, const char *line);

/* Queue a frame for the shell (NET_SHELL): 'd' bytes or 'w' size. */
void		 net_send_frame(struct net *n, char type, const void *data,
		    size_t len);

/* End the session (its thread closes the connection); no event is
 * delivered for it after this call. */
void		 net_stop(struct net *n);

/* Copy and free parameters. */
void		 net_params_copy(struct net_params *dst,
		    const struct net_params *src);
void		 net_params_clear(struct net_params *p);

#endif /* GTK_NET_H */

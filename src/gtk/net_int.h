/* Between the parts of Ben_AFK-gtk's networking (net.c: the worker and
 * its loops; net_session.c: a session's start).  Not for the GUI. */
#ifndef NET_INT_H
#define NET_INT_H

#include "common/frames.h"
#include "gtk/net.h"

struct net {
	gint		 ref;
	gint		 stopped;
	enum net_role	 role;
	struct net_params p;
	net_cb		 cb;
	void		*arg;
	int		 wake[2];	/* the main loop wakes the worker */
	GMutex		 lock;
	GQueue		 out;		/* GBytes: lines or frames to send */
	struct conn	 c;
	struct frames	 in;		/* /shell: frames from the daemon */
};

/* A new event of KIND with a copy of TEXT (may be NULL) for N's callback. */
struct net_event *net_event_new(struct net *n, enum net_event_kind kind,
	    const char *text);

/* Deliver EV in the main loop, after the events posted before it. */
void	net_event_post(struct net_event *ev);

/* net_event_new() then net_event_post(). */
void	net_post(struct net *n, enum net_event_kind kind, const char *text);

/* Report a session that could not start, with the core's hint; -1. */
int	net_fail(struct net *n, const char *text);

/* Connect, check the host, log in, send the role's first command: 0 once
 * its reply came (NET_EV_READY posted), or -1 (the reason posted). */
int	net_session_open(struct net *n);

#endif /* NET_INT_H */

/* Between the parts of Ben_AFK-gtk's networking (net.c: the worker and
 * its loops; net_session.c: a session's start; net_poll.c: the periodic
 * commands).  Not for the GUI. */
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
	struct frames	 in;		/* /shell, /mux: frames from the daemon */
	gint		 mux;		/* NET_COMMAND: /mux accepted */
	GQueue		 frames;	/* GBytes: frames to send as they are */
	struct net	*parent;	/* a channel of that muxed session */
	struct net	*follow_ch;	/* a muxed session's channels (lock) */
	struct net	*shell_ch;
};

/* What a command session waits for (net.c). */
struct command_state {
	GQueue	 expect;	/* char *: commands sent, NULL: our /status;
				 * "#tail", "#follow", "#shell": a channel's;
				 * "#stats": our /stats */
	int	 status_pending;
	int	 data_left;	/* data lines after "+OK N records" */
	char	*data_of;	/* the command of those lines */
	long	 next_status;	/* when the periodic /status is due */
	long	 next_stats;	/* the periodic /stats */
	int	 stats_pending;
	int	 stats_off;	/* refused: not asked again */
	char	*stats_head;	/* "+OK N stats" of the table being read */
	GPtrArray *stats;	/* its data lines so far */
};

/* Monotonic milliseconds. */
long	net_now_ms(void);

/* Wait for the daemon, the main loop or TIMEOUT_MS: 1 the daemon may have
 * bytes, 0 not, -1 stopped. */
int	net_wait_io(struct net *n, int timeout_ms);

/* The next line queued by the main loop, or NULL. */
GBytes	*net_take_out(struct net *n);

/* Does LINE's command get a reply? */
int	net_is_replied(const char *line);

/* Post NET_EV_LOST for N (why: EOF or the connection's error). */
void	net_lost(struct net *n);

/* The reply LINE to our /stats (COMMAND "#stats", freed): its table
 * follows, or the daemon refused it and it is not asked again
 * (net_poll.c). */
void	net_poll_stats_reply(struct net *n, struct command_state *s,
	    char *command, const char *line);

/* A data line of our /stats' table; the last one posts NET_EV_STATS. */
void	net_poll_stats_line(struct net *n, struct command_state *s,
	    const char *line);

/* Send the periodic commands that are due (/status every few seconds,
 * /stats every second until refused) with SEND: 0, or -1 (not sent). */
int	net_periodic(struct net *n, struct command_state *s,
	    int (*send)(struct net *, const char *));

/* Milliseconds the loop may sleep before the next periodic command. */
int	net_periodic_wait(const struct command_state *s);

/* Free what S holds. */
void	net_command_clear(struct command_state *s);

/* A reply or data line LINE of the command session. */
void	net_command_line(struct net *n, struct command_state *s,
	    const char *line);

/* The reply LINE to a channel's command ("#tail"...) (net_mux.c). */
void	net_mux_reply(struct net *n, struct command_state *s, char *command,
	    const char *line);

/* A data line of a channel's command (the /tail history). */
void	net_mux_data(struct net *n, const char *line);

/* Drop a reference to N (freed with the last). */
void	net_unref(struct net *n);

/* Wake N's worker. */
void	net_wake(struct net *n);

/* Channel N is stopped: its muxed session forgets it (a shell hung up). */
void	net_mux_detach(struct net *n);

/* The muxed command session's loop (net_mux.c). */
void	net_mux_loop(struct net *n);

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

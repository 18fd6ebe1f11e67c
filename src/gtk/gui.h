/* Ben_AFK-gtk: the window's state and what its modules share. */
#ifndef GTK_GUI_H
#define GTK_GUI_H

#include <gtk/gtk.h>
#include <vte/vte.h>

#include "gtk/logmodel.h"
#include "gtk/net.h"
#include "gtk/replies.h"

#define HISTORY_DEFAULT	50000	/* records kept by the log view */
#define HISTORY_MIN	100
#define HISTORY_MAX	1000000
#define TAIL_MAX	1000	/* records asked with /tail at the start */

struct dashboard;

struct gui {
	GtkApplication	*app;
	GtkWindow	*win;
	GtkStack	*stack;		/* "connect" and "session" pages */
	GMenu		*recent_menu;	/* the primary menu's recent servers */
	GtkWidget	*find_button, *pause_button;	/* the log's, in the
							 * header bar */

	/* connect view (connect_view.c) */
	GtkEntry	*host, *port, *user, *keyfile;
	GtkWidget	*password;	/* GtkPasswordEntry */
	GtkCheckButton	*tls;
	GtkLabel	*connect_error;
	GtkWidget	*connect_button;
	GtkListBox	*recent;

	/* session view (window.c, session.c) */
	GtkEntry	*entry;
	GtkLabel	*status;
	GtkWidget	*banner;
	GtkLabel	*banner_label;
	GtkWidget	*reconnect;
	GtkWidget	*toast;		/* GtkRevealer: a passing error */
	GtkLabel	*toast_label;
	guint		 toast_timer;
	GtkLabel	*log_notice;	/* "Log in to see the log" */
	GtkNotebook	*notebook;

	/* the log (logview.c, search.c) */
	guint		 history;	/* --history: records kept */
	AfkLogModel	*model;
	GtkCustomFilter	*filter;
	GtkFilterListModel *filtered;
	GtkMultiSelection *sel;
	GtkListView	*list;
	GHashTable	*bound;		/* GtkListItem: rows shown */
	GtkAdjustment	*vadj;
	int		 stick;		/* auto-scroll: the view is at the end */
	int		 paused;	/* the live view is paused */
	guint		 flush_id;
	guint		 end_tick;	/* to the end at the next frames */
	int		 end_frames;
	gint64		 frame_start;	/* tracing: when this frame began */
	GtkWidget	*pause_bar;
	GtkWidget	*placeholder;	/* the filters hide every record */
	GtkWidget	*to_end;	/* "latest records", when scrolled up */
	GtkLabel	*pause_label;
	guint		 level_mask;	/* levels shown, bit i: levels[i] */
	char		*filter_text;
	GtkSearchBar	*search_bar;
	GtkWidget	*search_entry;
	GtkLabel	*search_count;
	char		*search_text;
	size_t		 search_len;
	int		 match;		/* the current match, or -1 */

	/* terminal tab (shell_tab.c) */
	GtkWidget	*term_page, *term_tab_label;
	VteTerminal	*term;
	GtkLabel	*term_info;
	GtkWidget	*term_button;
	struct net	*shell;
	guint		 size_timer;
	int		 rows, cols;
	int		 shell_tried;	/* opened once this session */

	/* dashboard tab (dashboard.c) */
	struct dashboard *dash;

	/* sessions */
	struct net_params params;	/* of the current connection */
	struct net	*cmd, *follow;
	char		*whoami;
	char		*tls_version;
	int		 cmd_port;	/* local port of the command session */
	int		 admin;		/* may quit (admin, or auth off) */
	int		 shell_ok;	/* an authenticated admin over TLS */
	int		 quit_sent;
	char		*last_record;	/* of the live log, the last shown */
	GPtrArray	*history_buf;	/* /tail's records, until /follow's */
	char		*lost_msg;	/* waits for the live log's end */
	guint		 lost_timer;
	guint		 follow_timer;
	int		 plaintext;	/* --plaintext-password */
	int		 timeout_ms;
	const char	*known_hosts;	/* --known-hosts */
	int		 trace;		/* BEN_AFK_GTK_TRACE: events on stdout */
};

/* main.c: print "gtk: WHAT TEXT" on stdout when tracing (for tests). */
void	gui_trace(struct gui *g, const char *what, const char *fmt, ...)
	    G_GNUC_PRINTF(3, 4);

/* connect_view.c */
GtkWidget *connect_view_new(struct gui *g);
/* Fill the form (from the command line or a recent server). */
void	connect_view_fill(struct gui *g, const char *host, const char *port,
	    int tls, const char *user, const char *keyfile);
/* Connect with what the form holds. */
void	connect_view_connect(struct gui *g);
/* Show an error in the connect view and go back to it. */
void	connect_view_error(struct gui *g, const char *text);
/* Go back to the connect view, ready for Enter. */
void	connect_view_show(struct gui *g);
/* The server of G->params was reached: list it among the recent ones. */
void	connect_view_remember(struct gui *g);
/* Fill the form with recent server I and focus what is missing. */
void	connect_view_recent(struct gui *g, int i);

/* menu.c: the header bar with its primary menu; the app's actions. */
GtkWidget *menu_header_bar(struct gui *g);
void	menu_actions(struct gui *g);
/* Rebuild the "Recent servers" submenu. */
void	menu_recent(struct gui *g);

/* window.c */
GtkWidget *session_view_new(struct gui *g);
void	session_actions(struct gui *g);
/* Grey out what this session may not do. */
void	session_update_actions(struct gui *g);
/* The error bar (ERROR) or notice bar, with a Reconnect button or not. */
void	session_banner(struct gui *g, const char *text, int error,
	    int reconnect);
void	session_banner_hide(struct gui *g);
/* A passing message over the log: an error that needs no action. */
void	session_toast(struct gui *g, const char *text);

/* session.c */
/* Start the command session with G->params. */
void	session_start(struct gui *g);
/* Stop every session of the connection. */
void	session_stop(struct gui *g);
/* Stop them, hide the banner and show the connect view. */
void	session_leave(struct gui *g);
/* The user sent COMMAND (a line starting with '/'). */
void	session_sent(struct gui *g, const char *command);

/* logview.c */
GtkWidget *logview_new(struct gui *g);
/* Append one line; TAG: a level name, "reply", "error", "notice" or NULL
 * to pick the level from a log record. */
void	logview_append(struct gui *g, const char *line, const char *tag);
void	logview_clear(struct gui *g);
void	logview_set_paused(struct gui *g, int paused);
void	logview_refilter(struct gui *g);
/* Redraw the rows shown (the search changed). */
void	logview_rerender(struct gui *g);
/* Copy the selected records to the clipboard. */
void	logview_copy(struct gui *g);
/* Whether the filters let R through. */
gboolean logview_keeps(struct gui *g, AfkRecord *r);
int	logview_level_count(void);
const char *logview_level_name(int i);

/* logfollow.c */
/* The "latest records" button over the list, once the list, G->vadj and
 * their signals are set. */
GtkWidget *logfollow_new(struct gui *g);
/* Follow the end (1) or not (0). */
void	logfollow_stick(struct gui *g, int stick);
/* Scroll to the latest record. */
void	logfollow_end(struct gui *g);
/* Back to the latest records, following the log again. */
void	logfollow_to_end(struct gui *g);

/* search.c: the search bar (Ctrl+F) and the filter bar. */
GtkWidget *search_bar_new(struct gui *g);
GtkWidget *search_filter_bar_new(struct gui *g);
/* Go to the next (DIR 1) or previous (-1) match. */
void	search_next(struct gui *g, int dir);

/* shell_tab.c */
GtkWidget *shell_tab_new(struct gui *g);
/* Allow or grey out the terminal tab for this session. */
void	shell_tab_allow(struct gui *g, int allowed, const char *why);
void	shell_tab_open(struct gui *g);
void	shell_tab_close(struct gui *g);

/* dashboard.c */
GtkWidget *dashboard_new(struct gui *g);
/* A /stats reply (NET_EV_STATS): the charts move on, or the tab says why
 * this session has none. */
void	dashboard_stats(struct gui *g, const struct net_event *ev);
/* Forget the figures (another daemon may come next). */
void	dashboard_clear(struct gui *g);

#endif /* GTK_GUI_H */

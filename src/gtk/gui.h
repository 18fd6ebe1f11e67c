/* Ben_AFK-gtk: the window's state and what its modules share. */
#ifndef GTK_GUI_H
#define GTK_GUI_H

#include <gtk/gtk.h>
#include <vte/vte.h>

#include "gtk/net.h"

struct gui {
	GtkApplication	*app;
	GtkWindow	*win;
	GtkStack	*stack;		/* "connect" and "session" pages */

	/* connect view (connect_view.c) */
	GtkEntry	*host, *port, *user, *keyfile;
	GtkWidget	*password;	/* GtkPasswordEntry */
	GtkCheckButton	*tls;
	GtkLabel	*connect_error;
	GtkWidget	*connect_button;
	GtkListBox	*recent;

	/* session view (window.c, logview.c) */
	GtkTextView	*log;
	GtkTextBuffer	*logbuf;
	GtkAdjustment	*vadj;
	int		 stick;		/* auto-scroll: the view is at the end */
	GtkEntry	*entry;
	GtkLabel	*status;
	GtkWidget	*banner;
	GtkLabel	*banner_label;
	GtkWidget	*reconnect;
	GtkNotebook	*notebook;

	/* terminal tab (shell_tab.c) */
	GtkWidget	*term_page, *term_tab_label;
	VteTerminal	*term;
	GtkLabel	*term_info;
	GtkWidget	*term_button;
	struct net	*shell;
	guint		 size_timer;
	int		 rows, cols;
	int		 shell_tried;	/* opened once this session */

	/* sessions */
	struct net_params params;	/* of the current connection */
	struct net	*cmd, *follow;
	char		*whoami;
	char		*tls_version;
	int		 cmd_port;	/* local port of the command session */
	int		 admin;		/* may quit (admin, or auth off) */
	int		 shell_ok;	/* an authenticated admin over TLS */
	int		 quit_sent;
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

/* window.c */
GtkWidget *session_view_new(struct gui *g);
/* Start the command session with G->params. */
void	session_start(struct gui *g);
/* Stop every session of the connection. */
void	session_stop(struct gui *g);
void	session_actions(struct gui *g);

/* logview.c */
GtkWidget *logview_new(struct gui *g);
/* Append one line; TAG: a level tag name, "reply", "error" or NULL to
 * pick the level from a log record. */
void	logview_append(struct gui *g, const char *line, const char *tag);
void	logview_clear(struct gui *g);

/* shell_tab.c */
GtkWidget *shell_tab_new(struct gui *g);
/* Allow or grey out the terminal tab for this session. */
void	shell_tab_allow(struct gui *g, int allowed, const char *why);
void	shell_tab_open(struct gui *g);
void	shell_tab_close(struct gui *g);

#endif /* GTK_GUI_H */

/* Ben_AFK-gtk: the session view and its connections: the command session
 * (lines, commands, /status, quit) and the /follow session (live log). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtk/gui.h"

static void	follow_event(const struct net_event *ev, void *arg);

/* ---- the banner: errors and notices, with a reconnect button ---------- */

static void
banner_show(struct gui *g, const char *text, int error, int reconnect)
{
	gtk_label_set_text(g->banner_label, text);
	if (error)
		gtk_widget_add_css_class(g->banner, "afk-banner-error");
	else
		gtk_widget_remove_css_class(g->banner, "afk-banner-error");
	gtk_widget_set_visible(g->reconnect, reconnect);
	gtk_widget_set_visible(g->banner, TRUE);
	gui_trace(g, error ? "error" : "notice", "%s", text);
}

static void
banner_hide(struct gui *g)
{
	gtk_widget_set_visible(g->banner, FALSE);
}

/* ---- actions ---------------------------------------------------------- */

static void
action_enable(struct gui *g, const char *name, int on)
{
	GAction *a = g_action_map_lookup_action(G_ACTION_MAP(g->app), name);

	if (a != NULL)
		g_simple_action_set_enabled(G_SIMPLE_ACTION(a), on);
}

/* Grey out what this session may not do. */
static void
update_actions(struct gui *g)
{
	int live = g->cmd != NULL && g->whoami != NULL;

	action_enable(g, "quit-daemon", live && g->admin && !g->quit_sent);
	action_enable(g, "disconnect", g->cmd != NULL);
	gtk_widget_set_sensitive(GTK_WIDGET(g->entry), live);
}

static void
on_quit_response(GtkDialog *d, int response, gpointer data)
{
	struct gui *g = data;

	gtk_window_destroy(GTK_WINDOW(d));
	if (response != GTK_RESPONSE_ACCEPT || g->cmd == NULL || !g->admin) {
		gui_trace(g, "quit-cancelled", "%s", "");
		return;
	}
	g->quit_sent = 1;
	net_send_line(g->cmd, "quit");
	update_actions(g);
	gui_trace(g, "quit-sent", "%s:%s", g->params.host, g->params.port);
}

static void
quit_daemon(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;
	GtkWidget *d, *b;

	(void)a;
	(void)v;
	if (g->cmd == NULL || !g->admin)
		return;
	d = gtk_message_dialog_new(g->win, GTK_DIALOG_MODAL |
	    GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_WARNING,
	    GTK_BUTTONS_NONE, "Stop Matt_daemon on %s port %s?",
	    g->params.host, g->params.port);
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d),
	    "The daemon logs \"Request quit.\", disconnects every client "
	    "and exits.");
	gtk_dialog_add_button(GTK_DIALOG(d), "_Cancel", GTK_RESPONSE_CANCEL);
	b = gtk_dialog_add_button(GTK_DIALOG(d), "_Quit daemon",
	    GTK_RESPONSE_ACCEPT);
	gtk_widget_add_css_class(b, "destructive-action");
	gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_ACCEPT);
	g_signal_connect(d, "response", G_CALLBACK(on_quit_response), g);
	gtk_window_present(GTK_WINDOW(d));
	gui_trace(g, "quit-dialog", "%s:%s", g->params.host, g->params.port);
}

static void
disconnect(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;

	(void)a;
	(void)v;
	session_stop(g);
	gtk_widget_set_sensitive(g->connect_button, TRUE);
	gtk_button_set_label(GTK_BUTTON(g->connect_button), "_Connect");
	gtk_stack_set_visible_child_name(g->stack, "connect");
	gtk_window_set_title(g->win, "Ben_AFK");
	gui_trace(g, "disconnected", "%s", "");
}

static void
on_reconnect(GtkButton *b, gpointer data)
{
	struct gui *g = data;

	(void)b;
	banner_show(g, "Reconnecting…", 0, 0);
	session_start(g);
}

void
session_actions(struct gui *g)
{
	static const GActionEntry entries[] = {
		{ .name = "quit-daemon", .activate = quit_daemon },
		{ .name = "disconnect", .activate = disconnect },
	};
	static const char *const quit_accels[] = { "<Control>q", NULL };

	g_action_map_add_action_entries(G_ACTION_MAP(g->app), entries,
	    G_N_ELEMENTS(entries), g);
	gtk_application_set_accels_for_action(g->app, "app.quit-daemon",
	    quit_accels);
	update_actions(g);
}

/* ---- sending lines ------------------------------------------------------ */

static void
send_line(struct gui *g, const char *line)
{
	const char *word;
	char *echo;

	if (*line == '\0' || g->cmd == NULL)
		return;
	if (strcmp(line, "quit") == 0) {
		if (g->admin)
			g_action_group_activate_action(G_ACTION_GROUP(g->app),
			    "quit-daemon", NULL);
		else
			logview_append(g, "quit needs an admin session "
			    "(log in as an admin)", "error");
		return;
	}
	if (strcmp(line, "/follow") == 0 || strncmp(line, "/follow ", 8) == 0) {
		logview_append(g, "/follow: this view already follows the log",
		    "reply");
		return;
	}
	word = line;
	if (strncmp(word, "/shell", 6) == 0 && (word[6] == '\0' ||
	    word[6] == ' ')) {
		logview_append(g, "/shell: use the Terminal tab", "reply");
		return;
	}
	if (*line == '/' && strncmp(line, "/auth", 5) != 0) {
		echo = g_strdup_printf("> %s", line);	/* the command asked */
		logview_append(g, echo, "reply");
		g_free(echo);
	}
	net_send_line(g->cmd, line);
	gui_trace(g, "sent", "%s", line);
}

/* Send every complete line of TEXT; returns what follows the last \n. */
static const char *
send_lines(struct gui *g, const char *text)
{
	const char *p = text, *nl;
	char *line;

	while ((nl = strpbrk(p, "\r\n")) != NULL) {
		line = g_strndup(p, (gsize)(nl - p));
		send_line(g, line);
		g_free(line);
		p = nl + 1;
	}
	return p;
}

static void
on_entry_activate(GtkEntry *e, gpointer data)
{
	struct gui *g = data;
	char *text = g_strdup(gtk_editable_get_text(GTK_EDITABLE(e)));

	send_line(g, send_lines(g, text));
	g_free(text);
	gtk_editable_set_text(GTK_EDITABLE(e), "");
}

/* A multi-line paste: its complete lines go at once, the rest stays. */
static gboolean
flush_pasted(gpointer data)
{
	struct gui *g = data;
	char *text = g_strdup(gtk_editable_get_text(GTK_EDITABLE(g->entry)));
	const char *rest;

	if (strpbrk(text, "\r\n") != NULL) {
		rest = send_lines(g, text);
		gtk_editable_set_text(GTK_EDITABLE(g->entry), rest);
		gtk_editable_set_position(GTK_EDITABLE(g->entry), -1);
	}
	g_free(text);
	return G_SOURCE_REMOVE;
}

static void
on_entry_changed(GtkEditable *e, gpointer data)
{
	if (strpbrk(gtk_editable_get_text(e), "\r\n") != NULL)
		g_idle_add(flush_pasted, data);
}

/* ---- the command session -------------------------------------------------- */

static char *
field(const char *status, const char *name)
{
	char *key = g_strdup_printf(" %s=", name);
	const char *p = strstr(status, key);
	char *v = NULL;

	if (p != NULL) {
		p += strlen(key);
		v = g_strndup(p, strcspn(p, " "));
	}
	g_free(key);
	return v;
}

static char *
duration(long s)
{
	if (s >= 86400)
		return g_strdup_printf("%ldd %ldh", s / 86400, s % 86400 / 3600);
	if (s >= 3600)
		return g_strdup_printf("%ldh %02ldm", s / 3600, s % 3600 / 60);
	if (s >= 60)
		return g_strdup_printf("%ldm %02lds", s / 60, s % 60);
	return g_strdup_printf("%lds", s);
}

static void
show_status(struct gui *g, const char *reply)
{
	char *uptime = field(reply, "uptime"), *clients = field(reply,
	    "clients"), *lines = field(reply, "lines"), *auth = field(reply,
	    "auth"), *up, *text;

	up = duration(uptime ? atol(uptime) : 0);
	if (auth != NULL && strcmp(auth, "off") == 0 && !g->admin) {
		g->admin = 1;		/* anyone may quit */
		update_actions(g);
	}
	text = g_strdup_printf("Connected as %s to %s:%s  ·  %s  ·  %s "
	    "client%s  ·  up %s  ·  %s lines logged", g->whoami,
	    g->params.host, g->params.port, g->tls_version ? g->tls_version :
	    "no TLS", clients ? clients : "?", clients && strcmp(clients, "1")
	    == 0 ? "" : "s", up, lines ? lines : "?");
	gtk_label_set_text(g->status, text);
	gui_trace(g, "status", "%s", text);
	g_free(text);
	g_free(up);
	g_free(uptime);
	g_free(clients);
	g_free(lines);
	g_free(auth);
}

static void
on_trust_response(GtkDialog *d, int response, gpointer data)
{
	struct gui *g = data;
	const char *key = g_object_get_data(G_OBJECT(d), "key");
	const char *fp = g_object_get_data(G_OBJECT(d), "fp");
	const char *file = g_object_get_data(G_OBJECT(d), "file");
	char *msg;

	if (response != GTK_RESPONSE_ACCEPT) {
		gtk_window_destroy(GTK_WINDOW(d));
		connect_view_error(g, "Host identification refused: nothing "
		    "was sent.");
		return;
	}
	if (known_hosts_add(file, key, fp) == -1) {
		msg = g_strdup_printf("%s: %s", file, g_strerror(errno));
		gtk_window_destroy(GTK_WINDOW(d));
		connect_view_error(g, msg);
		g_free(msg);
		return;
	}
	gui_trace(g, "trusted", "%s %s", key, fp);
	gtk_window_destroy(GTK_WINDOW(d));
	session_start(g);
}

static void
ask_trust(struct gui *g, const struct net_event *ev)
{
	GtkWidget *d;

	d = gtk_message_dialog_new(g->win, GTK_DIALOG_MODAL |
	    GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
	    GTK_BUTTONS_NONE, "The authenticity of %s can't be established",
	    ev->key);
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d),
	    "Its certificate's SHA-256 fingerprint is\n%s\n\nCompare it with "
	    "'Matt_daemon --fingerprint' on the server.  If you trust it, it "
	    "is added to %s and checked at every connection.", ev->text,
	    ev->file);
	gtk_dialog_add_button(GTK_DIALOG(d), "_Cancel", GTK_RESPONSE_CANCEL);
	gtk_dialog_add_button(GTK_DIALOG(d), "_Trust and connect",
	    GTK_RESPONSE_ACCEPT);
	gtk_dialog_set_default_response(GTK_DIALOG(d), GTK_RESPONSE_CANCEL);
	g_object_set_data_full(G_OBJECT(d), "key", g_strdup(ev->key), g_free);
	g_object_set_data_full(G_OBJECT(d), "fp", g_strdup(ev->text), g_free);
	g_object_set_data_full(G_OBJECT(d), "file", g_strdup(ev->file),
	    g_free);
	g_signal_connect(d, "response", G_CALLBACK(on_trust_response), g);
	gtk_window_present(GTK_WINDOW(d));
	gui_trace(g, "trust-dialog", "%s %s", ev->key, ev->text);
}

static void
changed_host(struct gui *g, const char *text)
{
	GtkWidget *d;

	connect_view_error(g, text);
	d = gtk_message_dialog_new(g->win, GTK_DIALOG_MODAL |
	    GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
	    "The server's identity has changed: connection refused");
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s",
	    text);
	g_signal_connect(d, "response", G_CALLBACK(gtk_window_destroy), NULL);
	gtk_window_present(GTK_WINDOW(d));
}

/* A failure before the session started: in the connect view, or in the
 * banner when it was a reconnection. */
static void
start_failed(struct gui *g, const char *text)
{
	const char *page = gtk_stack_get_visible_child_name(g->stack);

	if (page != NULL && strcmp(page, "session") == 0) {
		session_stop(g);
		banner_show(g, text, 1, 1);
		update_actions(g);
	} else
		connect_view_error(g, text);
}

static void
ready(struct gui *g, const struct net_event *ev)
{
	char *title, *msg;

	g_free(g->whoami);
	g->whoami = g_strdup(ev->text + 4);
	if (g_str_has_suffix(g->whoami, ", tls"))
		g->whoami[strlen(g->whoami) - 5] = '\0';
	g_free(g->tls_version);
	g->tls_version = g_strdup(ev->tls);
	g->admin = strstr(g->whoami, "(admin)") != NULL;
	g->shell_ok = g->admin && ev->tls != NULL;
	g->quit_sent = 0;
	g->cmd_port = ev->status;
	title = g_strdup_printf("Ben_AFK — %s:%s", g->params.host,
	    g->params.port);
	gtk_window_set_title(g->win, title);
	g_free(title);
	banner_hide(g);
	gtk_stack_set_visible_child_name(g->stack, "session");
	gtk_label_set_text(g->status, "Connected");
	msg = g_strdup_printf("— connected to %s port %s as %s (%s) —",
	    g->params.host, g->params.port, g->whoami, g->tls_version ?
	    g->tls_version : "no TLS");
	logview_append(g, msg, "reply");
	g_free(msg);
	if (!g->shell_ok)
		shell_tab_allow(g, 0, ev->tls == NULL ? "The remote shell needs "
		    "TLS and an admin login" : "The remote shell needs an "
		    "admin login");
	else
		shell_tab_allow(g, 1, NULL);
	update_actions(g);
	gtk_widget_grab_focus(GTK_WIDGET(g->entry));
	gui_trace(g, "connected", "%s", g->whoami);
	g->follow = net_start(NET_FOLLOW, &g->params, follow_event, g);
}

static void
lost(struct gui *g, const char *text)
{
	char *msg;

	if (g->quit_sent)
		msg = g_strdup_printf("The daemon on %s port %s stopped "
		    "(quit).", g->params.host, g->params.port);
	else
		msg = g_strdup_printf("Connection to %s port %s lost: %s.",
		    g->params.host, g->params.port, text);
	session_stop(g);
	banner_show(g, msg, !g->quit_sent, 1);
	gtk_label_set_text(g->status, "Disconnected");
	logview_append(g, msg, "error");
	update_actions(g);
	g_free(msg);
}

static void
reply_line(struct gui *g, const struct net_event *ev)
{
	switch (ev->reply) {
	case PROTO_ERR_CLIENTS:
	case PROTO_ERR_TLS_REQUIRED:
	case PROTO_ERR_AUTH_REQUIRED:
	case PROTO_ERR_LOCKED:
	case PROTO_ERR_IDLE:
		banner_show(g, ev->text, 1, 0);
		/* FALLTHROUGH */
	case PROTO_ERR:
	case PROTO_ERR_AUTH_FAILED:
	case PROTO_ERR_NEEDS_TLS:
	case PROTO_ERR_AUTH_OFF:
	case PROTO_ERR_PERMISSION:
		logview_append(g, ev->text, "error");
		break;
	default:
		logview_append(g, ev->text, "reply");
	}
}

static void
command_event(const struct net_event *ev, void *arg)
{
	struct gui *g = arg;

	switch (ev->kind) {
	case NET_EV_UNKNOWN_HOST:
		session_stop(g);
		ask_trust(g, ev);
		break;
	case NET_EV_CHANGED_HOST:
		changed_host(g, ev->text);
		break;
	case NET_EV_FAILED:
		start_failed(g, ev->text);
		break;
	case NET_EV_READY:
		ready(g, ev);
		break;
	case NET_EV_STATUS:
		show_status(g, ev->text);
		break;
	case NET_EV_LINE:
		reply_line(g, ev);
		break;
	case NET_EV_LOST:
		lost(g, ev->text);
		break;
	default:
		break;
	}
}

/* The daemon's record of our periodic /status: noise in the view. */
static int
own_status(struct gui *g, const char *line)
{
	char port[16];

	if (g->cmd_port == 0 || !g_str_has_suffix(line, "): /status.") ||
	    strstr(line, "] - Matt_daemon: Command from ") == NULL)
		return 0;
	snprintf(port, sizeof(port), ":%d (", g->cmd_port);
	return strstr(line, port) != NULL;
}

static void
follow_event(const struct net_event *ev, void *arg)
{
	struct gui *g = arg;
	char *msg;

	switch (ev->kind) {
	case NET_EV_LINE:
		if (!own_status(g, ev->text))
			logview_append(g, ev->text, NULL);
		break;
	case NET_EV_READY:
		gui_trace(g, "following", "%s", ev->text);
		break;
	case NET_EV_LOST:
		if (g->quit_sent)
			break;	/* the command session reports it */
		/* FALLTHROUGH */
	default:
		msg = g_strdup_printf("Live log unavailable: %s",
		    ev->text ? ev->text : "");
		net_stop(g->follow);
		g->follow = NULL;
		banner_show(g, msg, 1, 1);
		logview_append(g, msg, "error");
		g_free(msg);
	}
}

void
session_start(struct gui *g)
{
	session_stop(g);
	g->cmd = net_start(NET_COMMAND, &g->params, command_event, g);
	update_actions(g);
}

void
session_stop(struct gui *g)
{
	shell_tab_close(g);
	net_stop(g->follow);
	g->follow = NULL;
	net_stop(g->cmd);
	g->cmd = NULL;
	g_clear_pointer(&g->whoami, g_free);
	g->admin = 0;
	g->shell_ok = 0;
	if (g->entry != NULL)
		update_actions(g);
}

/* ---- the view --------------------------------------------------------------- */

GtkWidget *
session_view_new(struct gui *g)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *logpage = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *label;

	g->banner = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
	gtk_widget_add_css_class(g->banner, "afk-banner");
	g->banner_label = GTK_LABEL(gtk_label_new(NULL));
	gtk_label_set_wrap(g->banner_label, TRUE);
	gtk_label_set_selectable(g->banner_label, TRUE);
	gtk_widget_set_hexpand(GTK_WIDGET(g->banner_label), TRUE);
	gtk_label_set_xalign(g->banner_label, 0);
	gtk_box_append(GTK_BOX(g->banner), GTK_WIDGET(g->banner_label));
	g->reconnect = gtk_button_new_with_mnemonic("_Reconnect");
	g_signal_connect(g->reconnect, "clicked", G_CALLBACK(on_reconnect), g);
	gtk_box_append(GTK_BOX(g->banner), g->reconnect);
	gtk_widget_set_visible(g->banner, FALSE);
	gtk_box_append(GTK_BOX(box), g->banner);

	gtk_box_append(GTK_BOX(logpage), logview_new(g));
	g->entry = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_placeholder_text(g->entry, "A line for the daemon's log, "
	    "or a command (/help); Enter sends");
	gtk_accessible_update_property(GTK_ACCESSIBLE(g->entry),
	    GTK_ACCESSIBLE_PROPERTY_LABEL, "Line to send", -1);
	gtk_widget_set_margin_start(GTK_WIDGET(g->entry), 6);
	gtk_widget_set_margin_end(GTK_WIDGET(g->entry), 6);
	gtk_widget_set_margin_bottom(GTK_WIDGET(g->entry), 6);
	g_signal_connect(g->entry, "activate", G_CALLBACK(on_entry_activate),
	    g);
	g_signal_connect(g->entry, "changed", G_CALLBACK(on_entry_changed), g);
	gtk_box_append(GTK_BOX(logpage), GTK_WIDGET(g->entry));

	g->notebook = GTK_NOTEBOOK(gtk_notebook_new());
	gtk_widget_set_vexpand(GTK_WIDGET(g->notebook), TRUE);
	label = gtk_label_new_with_mnemonic("_Log");
	gtk_notebook_append_page(g->notebook, logpage, label);
	g->term_tab_label = gtk_label_new_with_mnemonic("_Terminal");
	gtk_notebook_append_page(g->notebook, shell_tab_new(g),
	    g->term_tab_label);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(g->notebook));

	g->status = GTK_LABEL(gtk_label_new("Not connected"));
	gtk_label_set_xalign(g->status, 0);
	gtk_label_set_ellipsize(g->status, PANGO_ELLIPSIZE_END);
	gtk_widget_add_css_class(GTK_WIDGET(g->status), "afk-status");
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(g->status));
	return box;
}

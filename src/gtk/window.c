/* Ben_AFK-gtk: the session view: the error bar, the log tab with its
 * search and filter bars and the line entry, the terminal and dashboard
 * tabs, the status line; and the session's actions (disconnect, quit the
 * daemon). */
#include <string.h>

#include "gtk/gui.h"

#define TOAST_MS	6000

/* ---- the error bar and the toast -------------------------------------- */

void
session_banner(struct gui *g, const char *text, int error, int reconnect)
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

void
session_banner_hide(struct gui *g)
{
	gtk_widget_set_visible(g->banner, FALSE);
}

static gboolean
toast_hide(gpointer data)
{
	struct gui *g = data;

	g->toast_timer = 0;
	gtk_revealer_set_reveal_child(GTK_REVEALER(g->toast), FALSE);
	return G_SOURCE_REMOVE;
}

static void
on_toast_close(GtkButton *b, gpointer data)
{
	struct gui *g = data;

	(void)b;
	if (g->toast_timer != 0)
		g_source_remove(g->toast_timer);
	toast_hide(g);
}

void
session_toast(struct gui *g, const char *text)
{
	gtk_label_set_text(g->toast_label, text);
	gtk_revealer_set_reveal_child(GTK_REVEALER(g->toast), TRUE);
	if (g->toast_timer != 0)
		g_source_remove(g->toast_timer);
	g->toast_timer = g_timeout_add(TOAST_MS, toast_hide, g);
	gui_trace(g, "toast", "%s", text);
}

/* ---- actions ---------------------------------------------------------- */

static void
action_enable(struct gui *g, const char *name, int on)
{
	GAction *a = g_action_map_lookup_action(G_ACTION_MAP(g->app), name);

	if (a != NULL)
		g_simple_action_set_enabled(G_SIMPLE_ACTION(a), on);
}

void
session_update_actions(struct gui *g)
{
	const char *page = gtk_stack_get_visible_child_name(g->stack);
	int live = g->cmd != NULL && g->whoami != NULL;
	int shown = page != NULL && strcmp(page, "session") == 0;

	action_enable(g, "quit-daemon", live && g->admin && !g->quit_sent);
	/* a lost session is still on screen: Disconnect leaves it */
	action_enable(g, "disconnect", g->cmd != NULL || shown);
	gtk_widget_set_sensitive(GTK_WIDGET(g->entry), live);
	if (g->find_button != NULL) {	/* the log's buttons, with the log */
		gtk_widget_set_visible(g->find_button, shown);
		gtk_widget_set_visible(g->pause_button, shown);
	}
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
	session_update_actions(g);
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
	session_leave(g);
	gui_trace(g, "disconnected", "%s", "");
}

static void
on_reconnect(GtkButton *b, gpointer data)
{
	struct gui *g = data;

	(void)b;
	session_banner(g, "Reconnecting…", 0, 0);
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
	static const char *const disc_accels[] = { "<Control><Shift>d",
	    NULL };

	g_action_map_add_action_entries(G_ACTION_MAP(g->app), entries,
	    G_N_ELEMENTS(entries), g);
	gtk_application_set_accels_for_action(g->app, "app.quit-daemon",
	    quit_accels);
	gtk_application_set_accels_for_action(g->app, "app.disconnect",
	    disc_accels);
	session_update_actions(g);
}

/* ---- sending lines ------------------------------------------------------ */

static void
send_line(struct gui *g, const char *line)
{
	if (*line == '\0' || g->cmd == NULL)
		return;
	if (strcmp(line, "quit") == 0) {
		if (g->admin)
			g_action_group_activate_action(G_ACTION_GROUP(g->app),
			    "quit-daemon", NULL);
		else
			session_toast(g, "Stopping the daemon needs an admin "
			    "session: log in as an admin.");
		return;
	}
	if (strcmp(line, "/follow") == 0 || strncmp(line, "/follow ", 8) == 0) {
		session_toast(g, "This view already follows the log.");
		return;
	}
	if (strncmp(line, "/shell", 6) == 0 && (line[6] == '\0' ||
	    line[6] == ' ')) {
		session_toast(g, "Use the Terminal tab for a remote shell.");
		return;
	}
	if (*line == '/')
		session_sent(g, line);
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

/* ---- the view ----------------------------------------------------------- */

static GtkWidget *
banner_new(struct gui *g)
{
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
	return g->banner;
}

/* The toast: a revealer over the bottom of the log. */
static GtkWidget *
toast_new(struct gui *g)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8), *close;

	g->toast = gtk_revealer_new();
	gtk_revealer_set_transition_type(GTK_REVEALER(g->toast),
	    GTK_REVEALER_TRANSITION_TYPE_SLIDE_UP);
	gtk_widget_set_halign(g->toast, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(g->toast, GTK_ALIGN_END);
	gtk_widget_set_margin_bottom(g->toast, 12);
	gtk_widget_add_css_class(box, "afk-toast");
	g->toast_label = GTK_LABEL(gtk_label_new(NULL));
	gtk_label_set_wrap(g->toast_label, TRUE);
	gtk_label_set_max_width_chars(g->toast_label, 70);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(g->toast_label));
	close = gtk_button_new_from_icon_name("window-close-symbolic");
	gtk_widget_add_css_class(close, "flat");
	gtk_widget_set_tooltip_text(close, "Dismiss");
	g_signal_connect(close, "clicked", G_CALLBACK(on_toast_close), g);
	gtk_box_append(GTK_BOX(box), close);
	gtk_revealer_set_child(GTK_REVEALER(g->toast), box);
	return g->toast;
}

static GtkWidget *
entry_new(struct gui *g)
{
	g->entry = GTK_ENTRY(gtk_entry_new());
	gtk_entry_set_placeholder_text(g->entry, "A line for the daemon's log, "
	    "or a command (/help); Enter sends");
	gtk_accessible_update_property(GTK_ACCESSIBLE(g->entry),
	    GTK_ACCESSIBLE_PROPERTY_LABEL, "Line to send", -1);
	gtk_widget_set_margin_start(GTK_WIDGET(g->entry), 6);
	gtk_widget_set_margin_end(GTK_WIDGET(g->entry), 6);
	gtk_widget_set_margin_top(GTK_WIDGET(g->entry), 6);
	gtk_widget_set_margin_bottom(GTK_WIDGET(g->entry), 6);
	g_signal_connect(g->entry, "activate", G_CALLBACK(on_entry_activate),
	    g);
	g_signal_connect(g->entry, "changed", G_CALLBACK(on_entry_changed), g);
	return GTK_WIDGET(g->entry);
}

/* The log tab: search bar, filters, notice, the list under its toast,
 * the entry. */
static GtkWidget *
log_page_new(struct gui *g)
{
	GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *overlay = gtk_overlay_new();
	GtkWidget *log = logview_new(g);	/* the model first */

	gtk_box_append(GTK_BOX(page), search_bar_new(g));
	gtk_box_append(GTK_BOX(page), search_filter_bar_new(g));
	g->log_notice = GTK_LABEL(gtk_label_new(NULL));
	gtk_widget_add_css_class(GTK_WIDGET(g->log_notice), "afk-banner");
	gtk_label_set_wrap(g->log_notice, TRUE);
	gtk_label_set_xalign(g->log_notice, 0);
	gtk_widget_set_visible(GTK_WIDGET(g->log_notice), FALSE);
	gtk_box_append(GTK_BOX(page), GTK_WIDGET(g->log_notice));
	gtk_overlay_set_child(GTK_OVERLAY(overlay), log);
	gtk_overlay_add_overlay(GTK_OVERLAY(overlay), toast_new(g));
	gtk_widget_set_vexpand(overlay, TRUE);
	gtk_box_append(GTK_BOX(page), overlay);
	gtk_box_append(GTK_BOX(page), entry_new(g));
	return page;
}

GtkWidget *
session_view_new(struct gui *g)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *label;

	gtk_box_append(GTK_BOX(box), banner_new(g));
	g->notebook = GTK_NOTEBOOK(gtk_notebook_new());
	gtk_widget_set_vexpand(GTK_WIDGET(g->notebook), TRUE);
	label = gtk_label_new_with_mnemonic("_Log");
	gtk_notebook_append_page(g->notebook, log_page_new(g), label);
	g->term_tab_label = gtk_label_new_with_mnemonic("_Terminal");
	gtk_notebook_append_page(g->notebook, shell_tab_new(g),
	    g->term_tab_label);
	label = gtk_label_new_with_mnemonic("_Dashboard");
	gtk_notebook_append_page(g->notebook, dashboard_new(g), label);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(g->notebook));

	g->status = GTK_LABEL(gtk_label_new("Not connected"));
	gtk_label_set_xalign(g->status, 0);
	gtk_label_set_ellipsize(g->status, PANGO_ELLIPSIZE_END);
	gtk_widget_add_css_class(GTK_WIDGET(g->status), "afk-status");
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(g->status));
	return box;
}

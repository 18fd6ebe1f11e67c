/* Ben_AFK-gtk: a connection's sessions and what they report: the command
 * session (replies, /status, trust dialogs, loss) and the /tail + /follow
 * session (the recent history, then the live log). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtk/gui.h"

#define LOST_WAIT_MS	1500	/* for the other session's last lines */

static void	follow_event(const struct net_event *ev, void *arg);

/* ---- /status ------------------------------------------------------------ */

/*
 * "  ·  ⚠ forwarding to TARGET is down (N records waiting)" when the
 * daemon's [forward] target is down, else ""; the label turns to the
 * theme's warning colour meanwhile.
 */
static char *
forward_warning(struct gui *g, const char *reply)
{
	char *state, *target, *waiting, *w;

	state = replies_field(reply, "forward_state");
	if (state == NULL || strcmp(state, "down") != 0) {
		g_free(state);
		gtk_widget_remove_css_class(GTK_WIDGET(g->status), "warning");
		return g_strdup("");
	}
	target = replies_field(reply, "forward");
	waiting = replies_field(reply, "waiting");
	w = g_strdup_printf("  ·  ⚠ forwarding to %s is down (%s records "
	    "waiting)", target ? target : "?", waiting ? waiting : "?");
	gtk_widget_add_css_class(GTK_WIDGET(g->status), "warning");
	g_free(state);
	g_free(target);
	g_free(waiting);
	return w;
}

static void
show_status(struct gui *g, const struct net_event *ev)
{
	char *uptime, *clients, *lines, *auth, *size, *up, *logsize, *text;
	char *warn;

	if (ev->reply != PROTO_OK) {
		text = replies_error(ev->text);
		gtk_label_set_text(g->status, text);
		gui_trace(g, "status-error", "%s", text);
		g_free(text);
		return;
	}
	uptime = replies_field(ev->text, "uptime");
	clients = replies_field(ev->text, "clients");
	lines = replies_field(ev->text, "lines");
	auth = replies_field(ev->text, "auth");
	size = replies_field(ev->text, "log_size");
	up = replies_duration(uptime ? atol(uptime) : 0);
	logsize = replies_size(size);
	if (auth != NULL && strcmp(auth, "off") == 0 && !g->admin) {
		g->admin = 1;		/* anyone may quit */
		session_update_actions(g);
	}
	warn = forward_warning(g, ev->text);
	text = g_strdup_printf("Connected as %s to %s:%s  ·  %s  ·  %s "
	    "client%s  ·  up %s  ·  %s lines received  ·  log %s%s",
	    g->whoami, g->params.host, g->params.port, g->tls_version ?
	    g->tls_version : "no TLS", clients ? clients : "?", clients &&
	    strcmp(clients, "1") == 0 ? "" : "s", up, lines ? lines : "?",
	    logsize, warn);
	gtk_label_set_text(g->status, text);
	gui_trace(g, "status", "%s", text);
	g_free(text);
	g_free(warn);
	g_free(up);
	g_free(logsize);
	g_free(uptime);
	g_free(clients);
	g_free(lines);
	g_free(auth);
	g_free(size);
}

/* ---- the server's identity ---------------------------------------------- */

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

/* Reported once: this dialog, over the connect view (no second copy of
 * the warning under the form). */
static void
changed_host(struct gui *g, const char *text)
{
	GtkWidget *d;

	session_leave(g);
	d = gtk_message_dialog_new(g->win, GTK_DIALOG_MODAL |
	    GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_ERROR,
	    GTK_BUTTONS_CLOSE,
	    "The server's identity has changed: connection refused");
	gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s",
	    text);
	g_signal_connect(d, "response", G_CALLBACK(gtk_window_destroy), NULL);
	gtk_window_present(GTK_WINDOW(d));
	gui_trace(g, "changed-host", "%s", text);
}

/* ---- start and loss ----------------------------------------------------- */

/* A failure before the session started: in the connect view, or in the
 * error bar when it was a reconnection. */
static void
start_failed(struct gui *g, const struct net_event *ev)
{
	const char *page = gtk_stack_get_visible_child_name(g->stack);
	char *text = replies_failure(ev->text, ev->reply);

	if (page != NULL && strcmp(page, "session") == 0) {
		session_stop(g);
		session_banner(g, text, 1, 1);
		session_update_actions(g);
	} else
		connect_view_error(g, text);
	g_free(text);
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
	connect_view_remember(g);	/* reached: a recent server */
	title = g_strdup_printf("Ben_AFK — %s:%s", g->params.host,
	    g->params.port);
	gtk_window_set_title(g->win, title);
	g_free(title);
	session_banner_hide(g);
	gtk_widget_set_visible(GTK_WIDGET(g->log_notice), FALSE);
	gtk_stack_set_visible_child_name(g->stack, "session");
	session_update_actions(g);
	gtk_label_set_text(g->status, "Connected");
	msg = g_strdup_printf("Connected to %s port %s as %s (%s).",
	    g->params.host, g->params.port, g->whoami, g->tls_version ?
	    g->tls_version : "no TLS");
	logview_append(g, msg, "notice");
	g_free(msg);
	if (!g->shell_ok)
		shell_tab_allow(g, 0, ev->tls == NULL ? "The remote shell "
		    "needs TLS and an admin login" : "The remote shell needs "
		    "an admin login");
	else
		shell_tab_allow(g, 1, NULL);
	session_update_actions(g);
	gtk_widget_grab_focus(GTK_WIDGET(g->entry));
	gui_trace(g, "connected", "%s", g->whoami);
	g->params.tail = (int)MIN(g->history, TAIL_MAX);
	g->follow = net_attach(g->cmd, NET_FOLLOW, &g->params, follow_event,
	    g);
}

static void
lost_finish(struct gui *g)
{
	char *msg = g->lost_msg;

	g->lost_msg = NULL;
	session_stop(g);
	session_banner(g, msg, !g->quit_sent, 1);
	gtk_label_set_text(g->status, "Disconnected");
	logview_append(g, msg, "error");
	session_update_actions(g);
	g_free(msg);
}

static gboolean
lost_timeout(gpointer data)
{
	struct gui *g = data;

	g->lost_timer = 0;
	if (g->lost_msg != NULL)
		lost_finish(g);
	return G_SOURCE_REMOVE;
}

/* The command session ended.  The live log may still bring the daemon's
 * last records ("Quitting."): they are shown first, the loss after. */
static void
lost(struct gui *g, const char *text)
{
	g_free(g->lost_msg);
	if (g->quit_sent)
		g->lost_msg = g_strdup_printf("The daemon on %s port %s "
		    "stopped (quit).", g->params.host, g->params.port);
	else
		g->lost_msg = g_strdup_printf("Connection to %s port %s lost: "
		    "%s.", g->params.host, g->params.port, text);
	net_stop(g->cmd);
	g->cmd = NULL;
	if (g->follow != NULL && g->lost_timer == 0)
		g->lost_timer = g_timeout_add(LOST_WAIT_MS, lost_timeout, g);
	else if (g->follow == NULL)
		lost_finish(g);
}

/* ---- replies ------------------------------------------------------------ */

static void
reply_error(struct gui *g, const struct net_event *ev)
{
	char *text = replies_error(ev->text);

	switch (ev->reply) {
	case PROTO_ERR_CLIENTS:
	case PROTO_ERR_TLS_REQUIRED:
	case PROTO_ERR_AUTH_REQUIRED:
	case PROTO_ERR_LOCKED:
	case PROTO_ERR_IDLE:
		session_banner(g, text, 1, 0);
		break;
	default:
		session_toast(g, text);
	}
	g_free(text);
}

static void
reply_line(struct gui *g, const struct net_event *ev)
{
	const char *cmd = ev->command != NULL ? ev->command : "";
	char *text, **lines;
	int i;

	if (ev->data_line) {
		if (strcmp(cmd, "/clients") == 0) {
			text = replies_client(ev->text);
			logview_append(g, text, "reply");
			g_free(text);
		} else
			logview_append(g, ev->text, NULL);
		return;
	}
	if (ev->reply != PROTO_OK && ev->reply != PROTO_NONE) {
		reply_error(g, ev);
		return;
	}
	if (ev->reply == PROTO_NONE)
		text = g_strdup(ev->text);
	else if (strcmp(cmd, "/status") == 0)
		text = replies_status(ev->text);
	else
		text = replies_ok(cmd, ev->text);
	lines = g_strsplit(text, "\n", -1);	/* a row each */
	for (i = 0; lines[i] != NULL; i++)
		logview_append(g, lines[i], "reply");
	g_strfreev(lines);
	g_free(text);
}

void
session_sent(struct gui *g, const char *command)
{
	char *echo;

	if (strncmp(command, "/auth", 5) == 0)
		return;		/* never a password in the view */
	echo = g_strdup_printf("› %s", command);
	logview_append(g, echo, "reply");
	g_free(echo);
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
		start_failed(g, ev);
		break;
	case NET_EV_READY:
		ready(g, ev);
		break;
	case NET_EV_STATUS:
		show_status(g, ev);
		break;
	case NET_EV_STATS:
		dashboard_stats(g, ev);
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

/* ---- the live log ------------------------------------------------------- */

/* The daemon's record of our periodic /status or /stats (at level debug):
 * noise in the view. */
static int
own_status(struct gui *g, const char *line)
{
	char port[16];

	if (g->cmd_port == 0 || (!g_str_has_suffix(line, "): /status.") &&
	    !g_str_has_suffix(line, "): /stats.")) ||
	    strstr(line, "] - Matt_daemon: Command from ") == NULL)
		return 0;
	snprintf(port, sizeof(port), ":%d (", g->cmd_port);
	return strstr(line, port) != NULL;
}

/* /tail or /follow refused: say why in the view, no protocol line. */
static void
log_unavailable(struct gui *g, const struct net_event *ev)
{
	const char *t = ev->text != NULL ? ev->text : "";
	char *why, *text;

	if (strstr(t, "logged-in") != NULL || strstr(t, "logged in") != NULL ||
	    ev->reply == PROTO_ERR_AUTH_REQUIRED ||
	    ev->reply == PROTO_ERR_PERMISSION)
		text = g_strdup("Log in to see the log: this daemon shows its "
		    "log to logged-in users only.  Disconnect, then connect "
		    "with a user name.");
	else {
		why = replies_failure(t, ev->reply);
		text = g_strdup_printf("The log cannot be shown: %s", why);
		g_free(why);
	}
	gtk_label_set_text(g->log_notice, text);
	gtk_widget_set_visible(GTK_WIDGET(g->log_notice), TRUE);
	gui_trace(g, "log-unavailable", "%s", text);
	g_free(text);
}

/* A live-log record: shown, and remembered as the last one seen. */
static void
live_record(struct gui *g, const char *line)
{
	if (own_status(g, line))
		return;
	logview_append(g, line, NULL);
	g_free(g->last_record);
	g->last_record = g_strdup(line);
}

/* The history (/tail) is complete: after a reconnection, only what
 * follows the last record already shown, so that none appears twice. */
static void
history_done(struct gui *g)
{
	GPtrArray *h = g->history_buf;
	guint i, from = 0, skipped;

	if (h == NULL)
		return;
	g->history_buf = NULL;
	for (i = h->len; g->last_record != NULL && i > 0; i--)
		if (strcmp(g_ptr_array_index(h, i - 1), g->last_record) == 0) {
			from = i;
			break;
		}
	skipped = from;
	for (i = from; i < h->len; i++)
		live_record(g, g_ptr_array_index(h, i));
	gui_trace(g, "history", "%u records, %u already shown", h->len,
	    skipped);
	g_ptr_array_unref(h);
}

static gboolean
follow_lost_timeout(gpointer data)
{
	struct gui *g = data;

	g->follow_timer = 0;
	if (g->cmd != NULL)	/* the daemon still answers: only /follow */
		session_banner(g, "The live log stopped: the daemon closed "
		    "its connection.", 1, 1);
	return G_SOURCE_REMOVE;
}

static void
follow_event(const struct net_event *ev, void *arg)
{
	struct gui *g = arg;
	char **l;

	switch (ev->kind) {
	case NET_EV_LINE:	/* the history, first */
		if (g->history_buf == NULL)
			g->history_buf = g_ptr_array_new_with_free_func(g_free);
		g_ptr_array_add(g->history_buf, g_strdup(ev->text));
		break;
	case NET_EV_LINES:
		for (l = ev->lines; *l != NULL; l++)
			live_record(g, *l);
		break;
	case NET_EV_READY:
		history_done(g);
		gui_trace(g, "following", "%s", ev->text);
		break;
	case NET_EV_FAILED:
		g_clear_pointer(&g->history_buf, g_ptr_array_unref);
		net_stop(g->follow);
		g->follow = NULL;
		log_unavailable(g, ev);
		break;
	default:		/* lost */
		net_stop(g->follow);
		g->follow = NULL;
		gui_trace(g, "follow-ended", "%s", ev->text ? ev->text : "");
		if (g->lost_msg != NULL) {
			if (g->lost_timer != 0)
				g_source_remove(g->lost_timer);
			g->lost_timer = 0;
			lost_finish(g);
		} else if (g->follow_timer == 0)
			g->follow_timer = g_timeout_add(LOST_WAIT_MS,
			    follow_lost_timeout, g);
	}
}

void
session_start(struct gui *g)
{
	session_stop(g);
	gtk_widget_set_visible(GTK_WIDGET(g->log_notice), FALSE);
	g->cmd = net_start(NET_COMMAND, &g->params, command_event, g);
	session_update_actions(g);
}

void
session_leave(struct gui *g)
{
	session_stop(g);
	dashboard_clear(g);
	session_banner_hide(g);
	connect_view_show(g);
}

void
session_stop(struct gui *g)
{
	shell_tab_close(g);
	net_stop(g->follow);
	g->follow = NULL;
	net_stop(g->cmd);
	g->cmd = NULL;
	if (g->lost_timer != 0)
		g_source_remove(g->lost_timer);
	if (g->follow_timer != 0)
		g_source_remove(g->follow_timer);
	g->lost_timer = g->follow_timer = 0;
	g_clear_pointer(&g->lost_msg, g_free);
	g_clear_pointer(&g->history_buf, g_ptr_array_unref);
	g_clear_pointer(&g->whoami, g_free);
	g->admin = 0;
	g->shell_ok = 0;
	if (g->entry != NULL)
		session_update_actions(g);
}

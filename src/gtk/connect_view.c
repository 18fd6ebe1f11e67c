/* Ben_AFK-gtk: the connect view: host, port, TLS, user, password or key
 * file, and the servers connected to recently. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/options.h"
#include "gtk/gui.h"
#include "gtk/recent.h"

static void	fill_recent(struct gui *g);

static GtkEntry *
form_entry(GtkGrid *grid, int row, const char *label, const char *hint)
{
	GtkWidget *l = gtk_label_new_with_mnemonic(label);
	GtkWidget *e = gtk_entry_new();

	gtk_widget_set_halign(l, GTK_ALIGN_END);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), e);
	gtk_entry_set_placeholder_text(GTK_ENTRY(e), hint);
	gtk_widget_set_hexpand(e, TRUE);
	gtk_grid_attach(grid, l, 0, row, 1, 1);
	gtk_grid_attach(grid, e, 1, row, 1, 1);
	gtk_entry_set_activates_default(GTK_ENTRY(e), TRUE);
	return GTK_ENTRY(e);
}

static const char *
text_of(GtkEntry *e)
{
	return gtk_editable_get_text(GTK_EDITABLE(e));
}

void
connect_view_fill(struct gui *g, const char *host, const char *port, int tls,
    const char *user, const char *keyfile)
{
	gtk_editable_set_text(GTK_EDITABLE(g->host), host ? host : "");
	gtk_editable_set_text(GTK_EDITABLE(g->port), port ? port : "");
	gtk_check_button_set_active(g->tls, tls);
	gtk_editable_set_text(GTK_EDITABLE(g->user), user ? user : "");
	gtk_editable_set_text(GTK_EDITABLE(g->keyfile),
	    keyfile ? keyfile : "");
}

/* The window forgets its default widget when the connect view is hidden
 * (the session view shown): set it again, or Enter in the password field
 * would connect only the first time. */
void
connect_view_show(struct gui *g)
{
	gtk_widget_set_sensitive(g->connect_button, TRUE);
	gtk_button_set_label(GTK_BUTTON(g->connect_button), "_Connect");
	gtk_stack_set_visible_child_name(g->stack, "connect");
	gtk_window_set_default_widget(g->win, g->connect_button);
	gtk_window_set_title(g->win, "Ben_AFK");
	if (*text_of(g->user) != '\0' && *text_of(g->keyfile) == '\0') {
		/* the password is not kept once disconnected */
		gtk_editable_set_text(GTK_EDITABLE(g->password), "");
		gtk_widget_grab_focus(g->password);
		gui_trace(g, "password-focus", "%s", text_of(g->user));
	} else
		gtk_widget_grab_focus(g->connect_button);
	if (g->entry != NULL)
		session_update_actions(g);
}

void
connect_view_error(struct gui *g, const char *text)
{
	session_stop(g);
	gtk_label_set_text(g->connect_error, text);
	gtk_widget_set_visible(GTK_WIDGET(g->connect_error), TRUE);
	gtk_widget_set_sensitive(g->connect_button, TRUE);
	gtk_button_set_label(GTK_BUTTON(g->connect_button), "_Connect");
	gtk_stack_set_visible_child_name(g->stack, "connect");
	gtk_window_set_default_widget(g->win, g->connect_button);
	gtk_window_set_title(g->win, "Ben_AFK");
	gui_trace(g, "error", "%s", text);
}

/* Read the form into the parameters of the next session. */
static void
read_form(struct gui *g)
{
	struct net_params *p = &g->params;

	net_params_clear(p);
	p->host = g_strstrip(g_strdup(text_of(g->host)));
	p->port = g_strstrip(g_strdup(text_of(g->port)));
	p->tls = gtk_check_button_get_active(g->tls);
	p->user = g_strstrip(g_strdup(text_of(g->user)));
	p->keyfile = g_strstrip(g_strdup(text_of(g->keyfile)));
	p->known_hosts = g_strdup(g->known_hosts);
	p->plaintext = g->plaintext;
	p->timeout_ms = g->timeout_ms;
}

/* A key goes over TLS and must be readable, a password over TLS unless
 * allowed otherwise: 0, or -1 once the error is shown. */
static int
check_login(struct gui *g, const char *pass)
{
	struct net_params *p = &g->params;

	if (*p->keyfile != '\0') {
		p->tls = 1;		/* a key is presented in TLS */
		gtk_check_button_set_active(g->tls, TRUE);
		if (*p->user == '\0' && afk_login_name() != NULL) {
			g_free(p->user);
			p->user = g_strdup(afk_login_name());
		}
		if (access(p->keyfile, R_OK) == -1) {
			char *msg = g_strdup_printf("Cannot read the key file "
			    "%s.", p->keyfile);
			connect_view_error(g, msg);
			g_free(msg);
			return -1;
		}
	} else if (*p->user != '\0') {
		if (*pass == '\0') {
			connect_view_error(g, "Enter the password, or a key "
			    "file.");
			gtk_widget_grab_focus(g->password);
			return -1;
		}
		if (!p->tls && !p->plaintext) {
			connect_view_error(g, "Refusing to send a password "
			    "over a plain connection: turn TLS on.");
			return -1;
		}
		p->password = g_strdup(pass);
	}
	return 0;
}

void
connect_view_remember(struct gui *g)
{
	struct net_params *p = &g->params;
	struct recent r;

	r.host = p->host;
	r.port = p->port;
	r.tls = p->tls;
	r.user = p->user != NULL ? p->user : "";
	r.keyfile = p->keyfile != NULL ? p->keyfile : "";
	(void)recent_add(&r);
	fill_recent(g);
	menu_recent(g);
	gui_trace(g, "recent", "%s:%s", p->host, p->port);
}

void
connect_view_connect(struct gui *g)
{
	struct net_params *p = &g->params;
	const char *pass = gtk_editable_get_text(GTK_EDITABLE(g->password));
	char *end;
	long port;

	read_form(g);
	if (*p->host == '\0') {
		connect_view_error(g, "Enter the daemon's host.");
		return;
	}
	port = strtol(p->port, &end, 10);
	if (*p->port == '\0' || *end != '\0' || port < 1 || port > 65535) {
		connect_view_error(g, "Enter a port between 1 and 65535.");
		return;
	}
	if (check_login(g, pass) == -1)
		return;
	if (*p->user == '\0')
		g_clear_pointer(&p->user, g_free);
	if (*p->keyfile == '\0')
		g_clear_pointer(&p->keyfile, g_free);
	gtk_widget_set_visible(GTK_WIDGET(g->connect_error), FALSE);
	gtk_widget_set_sensitive(g->connect_button, FALSE);
	gtk_button_set_label(GTK_BUTTON(g->connect_button), "Connecting…");
	gui_trace(g, "connecting", "%s:%s%s", p->host, p->port,
	    p->tls ? " tls" : "");
	logview_clear(g);	/* a new connection starts afresh */
	session_start(g);
}

static void
on_connect(GtkButton *b, gpointer data)
{
	(void)b;
	connect_view_connect(data);
}

static void
fill_from(struct gui *g, const struct recent *r)
{
	connect_view_fill(g, r->host, r->port, r->tls, r->user, r->keyfile);
	gtk_editable_set_text(GTK_EDITABLE(g->password), "");
	if (*r->user != '\0' && *r->keyfile == '\0') {
		gtk_widget_grab_focus(g->password);
		gui_trace(g, "password-focus", "%s", r->user);
	} else
		gtk_widget_grab_focus(g->connect_button);
}

static void
on_recent(GtkListBox *box, GtkListBoxRow *row, gpointer data)
{
	(void)box;
	fill_from(data, g_object_get_data(G_OBJECT(row), "recent"));
}

void
connect_view_recent(struct gui *g, int i)
{
	GPtrArray *list = recent_load();

	if (i >= 0 && (guint)i < list->len) {
		session_leave(g);
		fill_from(g, g_ptr_array_index(list, i));
		gui_trace(g, "recent-chosen", "%d", i);
	}
	g_ptr_array_unref(list);
}

static void
fill_recent(struct gui *g)
{
	GPtrArray *list = recent_load();
	GtkWidget *child, *row, *label;
	struct recent *r;
	char *text;
	guint i;

	while ((child = gtk_widget_get_first_child(GTK_WIDGET(g->recent))) !=
	    NULL)
		gtk_list_box_remove(g->recent, child);
	for (i = 0; i < list->len; i++) {
		r = g_ptr_array_index(list, i);
		text = g_strdup_printf("%s%s%s:%s  %s%s%s", r->user,
		    *r->user ? "@" : "", r->host, r->port,
		    r->tls ? "TLS" : "plain", *r->keyfile ? ", key " : "",
		    r->keyfile);
		label = gtk_label_new(text);
		gtk_widget_set_halign(label, GTK_ALIGN_START);
		gtk_widget_set_margin_start(label, 8);
		gtk_widget_set_margin_end(label, 8);
		gtk_widget_set_margin_top(label, 4);
		gtk_widget_set_margin_bottom(label, 4);
		g_free(text);
		row = gtk_list_box_row_new();
		gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), label);
		g_object_set_data_full(G_OBJECT(row), "recent",
		    g_ptr_array_steal_index(list, i--), recent_free);
		gtk_list_box_append(g->recent, row);
	}
	gtk_widget_set_visible(GTK_WIDGET(g->recent),
	    gtk_widget_get_first_child(GTK_WIDGET(g->recent)) != NULL);
	g_ptr_array_unref(list);
}

/* The grid of the host, port, TLS, user, password and key file. */
static GtkWidget *
form_grid(struct gui *g)
{
	GtkWidget *grid = gtk_grid_new(), *l;

	gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 8);
	g->host = form_entry(GTK_GRID(grid), 0, "_Host", "127.0.0.1");
	g->port = form_entry(GTK_GRID(grid), 1, "_Port", "4242");
	g->tls = GTK_CHECK_BUTTON(gtk_check_button_new_with_mnemonic(
	    "Use _TLS (the server is pinned on first use)"));
	gtk_grid_attach(GTK_GRID(grid), GTK_WIDGET(g->tls), 1, 2, 1, 1);
	g->user = form_entry(GTK_GRID(grid), 3, "_User", "anonymous");
	l = gtk_label_new_with_mnemonic("Pass_word");
	gtk_widget_set_halign(l, GTK_ALIGN_END);
	g->password = gtk_password_entry_new();
	gtk_password_entry_set_show_peek_icon(
	    GTK_PASSWORD_ENTRY(g->password), TRUE);
	g_object_set(g->password, "activates-default", TRUE, NULL);
	gtk_label_set_mnemonic_widget(GTK_LABEL(l), g->password);
	gtk_grid_attach(GTK_GRID(grid), l, 0, 4, 1, 1);
	gtk_grid_attach(GTK_GRID(grid), g->password, 1, 4, 1, 1);
	g->keyfile = form_entry(GTK_GRID(grid), 5, "_Key file",
	    "or a private key (Ben_AFK --keygen)");
	return grid;
}

/* Append the list of recent servers, filled, to BOX. */
static void
append_recent(struct gui *g, GtkBox *box)
{
	GtkWidget *l, *sw;

	l = gtk_label_new("Recent servers");
	gtk_widget_set_halign(l, GTK_ALIGN_START);
	gtk_widget_add_css_class(l, "dim-label");
	gtk_box_append(box, l);
	g->recent = GTK_LIST_BOX(gtk_list_box_new());
	gtk_widget_add_css_class(GTK_WIDGET(g->recent), "boxed-list");
	g_signal_connect(g->recent, "row-activated", G_CALLBACK(on_recent), g);
	sw = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw),
	    GTK_WIDGET(g->recent));
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(sw),
	    GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(sw),
	    120);
	gtk_box_append(box, sw);
	fill_recent(g);
}

GtkWidget *
connect_view_new(struct gui *g)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *title;

	gtk_widget_set_halign(box, GTK_ALIGN_CENTER);
	gtk_widget_set_valign(box, GTK_ALIGN_CENTER);
	gtk_widget_set_size_request(box, 460, -1);
	title = gtk_label_new(NULL);
	gtk_label_set_markup(GTK_LABEL(title), "<span size='x-large' "
	    "weight='bold'>Connect to Matt_daemon</span>");
	gtk_box_append(GTK_BOX(box), title);
	gtk_box_append(GTK_BOX(box), form_grid(g));

	g->connect_error = GTK_LABEL(gtk_label_new(NULL));
	gtk_label_set_wrap(g->connect_error, TRUE);
	gtk_label_set_selectable(g->connect_error, TRUE);
	gtk_label_set_max_width_chars(g->connect_error, 60);
	gtk_widget_add_css_class(GTK_WIDGET(g->connect_error), "afk-error");
	gtk_widget_set_visible(GTK_WIDGET(g->connect_error), FALSE);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(g->connect_error));

	g->connect_button = gtk_button_new_with_mnemonic("_Connect");
	gtk_widget_add_css_class(g->connect_button, "suggested-action");
	gtk_widget_set_halign(g->connect_button, GTK_ALIGN_END);
	g_signal_connect(g->connect_button, "clicked", G_CALLBACK(on_connect),
	    g);
	gtk_box_append(GTK_BOX(box), g->connect_button);
	append_recent(g, GTK_BOX(box));
	return box;
}

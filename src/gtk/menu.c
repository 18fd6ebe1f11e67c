/* Ben_AFK-gtk: the header bar and its primary menu (new connection,
 * recent servers, keyboard shortcuts, about) and the window's actions. */
#include <string.h>

#include "gtk/gui.h"
#include "gtk/recent.h"

#ifndef MD_VERSION
#define MD_VERSION "dev"
#endif

/* One shortcut of the shortcuts window. */
#define SC(accel, title) \
	"<child><object class='GtkShortcutsShortcut'>" \
	"<property name='accelerator'>" accel "</property>" \
	"<property name='title'>" title "</property></object></child>"

static const char shortcuts_ui[] =
	"<interface><object class='GtkShortcutsWindow' id='w'>"
	"<property name='modal'>1</property>"
	"<child><object class='GtkShortcutsSection'>"
	"<property name='section-name'>main</property>"
	"<child><object class='GtkShortcutsGroup'>"
	"<property name='title'>Log</property>"
	SC("&lt;Control&gt;f", "Find in the log")
	SC("Return &lt;Control&gt;g", "Next match")
	SC("&lt;Shift&gt;Return &lt;Shift&gt;&lt;Control&gt;g",
	   "Previous match")
	SC("Escape", "Close the search bar")
	SC("&lt;Shift&gt;&lt;Control&gt;f", "Filter records by text")
	SC("&lt;Control&gt;1...&lt;Control&gt;6",
	   "Show or hide INFO, LOG, WARN, ERROR, DEBUG, AUTH records")
	SC("&lt;Shift&gt;&lt;Control&gt;p Pause", "Pause or resume the live "
	   "view")
	SC("&lt;Control&gt;End", "The latest records, followed again")
	SC("&lt;Control&gt;a", "Select every record shown")
	SC("&lt;Control&gt;c", "Copy the selected records")
	"</object></child>"
	"<child><object class='GtkShortcutsGroup'>"
	"<property name='title'>Connection</property>"
	SC("&lt;Shift&gt;&lt;Control&gt;d", "Disconnect")
	SC("&lt;Control&gt;n", "New connection")
	SC("&lt;Control&gt;q", "Stop the daemon (admin)")
	SC("&lt;Alt&gt;l", "The Log tab")
	SC("&lt;Alt&gt;t", "The Terminal tab")
	SC("&lt;Alt&gt;d", "The Dashboard tab")
	"</object></child>"
	"<child><object class='GtkShortcutsGroup'>"
	"<property name='title'>General</property>"
	SC("F10", "Open the main menu")
	SC("&lt;Control&gt;question", "Keyboard shortcuts")
	"</object></child>"
	"</object></child></object></interface>";

static void
new_connection(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;

	(void)a;
	(void)v;
	session_leave(g);
	gtk_widget_grab_focus(GTK_WIDGET(g->host));
	gui_trace(g, "new-connection", "%s", "");
}

static void
recent(GSimpleAction *a, GVariant *v, gpointer data)
{
	(void)a;
	connect_view_recent(data, g_variant_get_int32(v));
}

static void
shortcuts(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;
	GtkBuilder *b = gtk_builder_new_from_string(shortcuts_ui, -1);
	GtkWindow *w = GTK_WINDOW(gtk_builder_get_object(b, "w"));

	(void)a;
	(void)v;
	gtk_window_set_transient_for(w, g->win);
	gtk_window_present(w);
	g_object_unref(b);
	gui_trace(g, "shortcuts-window", "%s", "");
}

static void
about(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;
	static const char *const authors[] = { "The Matt_daemon authors",
	    NULL };

	(void)a;
	(void)v;
	gtk_show_about_dialog(g->win, "program-name", "Ben_AFK",
	    "version", MD_VERSION, "logo-icon-name", "ben-afk-gtk",
	    "comments", "The graphical client of Matt_daemon: send lines, "
	    "follow and search the log, open a remote shell.",
	    "authors", authors, "license-type", GTK_LICENSE_MIT_X11,
	    "title", "About Ben_AFK", NULL);
	gui_trace(g, "about", "%s", MD_VERSION);
}

static void
find(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;

	(void)a;
	(void)v;
	gtk_search_bar_set_search_mode(g->search_bar, TRUE);
	gtk_widget_grab_focus(g->search_entry);
	gui_trace(g, "search-open", "%s", "");
}

static void
filter(GSimpleAction *a, GVariant *v, gpointer data)
{
	struct gui *g = data;

	(void)a;
	(void)v;
	gtk_widget_grab_focus(g_object_get_data(G_OBJECT(g->app),
	    "filter-entry"));
}

static void
copy(GSimpleAction *a, GVariant *v, gpointer data)
{
	(void)a;
	(void)v;
	logview_copy(data);
}

static void
latest(GSimpleAction *a, GVariant *v, gpointer data)
{
	(void)a;
	(void)v;
	logfollow_to_end(data);
}

static void
pause_state(GSimpleAction *a, GVariant *state, gpointer data)
{
	g_simple_action_set_state(a, state);
	logview_set_paused(data, g_variant_get_boolean(state));
}

void
menu_actions(struct gui *g)
{
	static const GActionEntry entries[] = {
		{ .name = "new-connection", .activate = new_connection },
		{ .name = "recent", .activate = recent,
		  .parameter_type = "i" },
		{ .name = "shortcuts", .activate = shortcuts },
		{ .name = "about", .activate = about },
		{ .name = "find", .activate = find },
		{ .name = "filter", .activate = filter },
		{ .name = "copy", .activate = copy },
		{ .name = "latest", .activate = latest },
		{ .name = "pause", .state = "false",
		  .change_state = pause_state },
	};
	static const struct {
		const char	*action;
		const char	*accels[3];
	} accels[] = {
		{ "app.new-connection", { "<Control>n", NULL } },
		{ "app.shortcuts", { "<Control>question", NULL } },
		{ "app.find", { "<Control>f", NULL } },
		{ "app.latest", { "<Control>End", NULL } },
		{ "app.filter", { "<Control><Shift>f", NULL } },
		{ "app.pause", { "<Control><Shift>p", "Pause", NULL } },
	};
	size_t i;

	g_action_map_add_action_entries(G_ACTION_MAP(g->app), entries,
	    G_N_ELEMENTS(entries), g);
	for (i = 0; i < G_N_ELEMENTS(accels); i++)
		gtk_application_set_accels_for_action(g->app,
		    accels[i].action, accels[i].accels);
}

void
menu_recent(struct gui *g)
{
	GPtrArray *list = recent_load();
	struct recent *r;
	GMenuItem *item;
	char *label;
	guint i;

	g_menu_remove_all(g->recent_menu);
	for (i = 0; i < list->len; i++) {
		r = g_ptr_array_index(list, i);
		label = g_strdup_printf("%s%s%s:%s%s", r->user, *r->user ?
		    "@" : "", r->host, r->port, r->tls ? " (TLS)" : "");
		item = g_menu_item_new(label, NULL);
		g_menu_item_set_action_and_target_value(item, "app.recent",
		    g_variant_new_int32((gint32)i));
		g_menu_append_item(g->recent_menu, item);
		g_object_unref(item);
		g_free(label);
	}
	g_ptr_array_unref(list);
}

static GMenuModel *
primary_menu(struct gui *g)
{
	GMenu *menu = g_menu_new(), *s;

	s = g_menu_new();
	g_menu_append(s, "_New Connection…", "app.new-connection");
	g->recent_menu = g_menu_new();
	menu_recent(g);
	g_menu_append_submenu(s, "_Recent Servers",
	    G_MENU_MODEL(g->recent_menu));
	g_menu_append_section(menu, NULL, G_MENU_MODEL(s));
	g_object_unref(s);
	s = g_menu_new();
	g_menu_append(s, "_Find…", "app.find");
	g_menu_append(s, "_Pause Live View", "app.pause");
	g_menu_append(s, "_Copy Selected Records", "app.copy");
	g_menu_append_section(menu, NULL, G_MENU_MODEL(s));
	g_object_unref(s);
	s = g_menu_new();
	g_menu_append(s, "_Keyboard Shortcuts", "app.shortcuts");
	g_menu_append(s, "_About Ben__AFK", "app.about");
	g_menu_append_section(menu, NULL, G_MENU_MODEL(s));
	g_object_unref(s);
	return G_MENU_MODEL(menu);
}

static GtkWidget *
toggle(const char *icon, const char *action, const char *tip)
{
	GtkWidget *b = gtk_toggle_button_new();

	gtk_button_set_icon_name(GTK_BUTTON(b), icon);
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b), action);
	gtk_widget_set_tooltip_text(b, tip);
	return b;
}

GtkWidget *
menu_header_bar(struct gui *g)
{
	GtkWidget *header = gtk_header_bar_new(), *quit, *disc, *menu, *find;
	GMenuModel *model = primary_menu(g);

	menu = gtk_menu_button_new();
	gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(menu),
	    "open-menu-symbolic");
	gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(menu), model);
	gtk_menu_button_set_primary(GTK_MENU_BUTTON(menu), TRUE);
	gtk_widget_set_tooltip_text(menu, "Main menu (F10)");
	g_object_unref(model);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(header), menu);
	quit = gtk_button_new_with_label("Quit daemon");
	gtk_actionable_set_action_name(GTK_ACTIONABLE(quit),
	    "app.quit-daemon");
	gtk_widget_set_tooltip_text(quit, "Stop Matt_daemon (Ctrl+Q; an "
	    "admin's right)");
	gtk_widget_add_css_class(quit, "destructive-action");
	gtk_header_bar_pack_end(GTK_HEADER_BAR(header), quit);
	find = gtk_toggle_button_new();
	gtk_button_set_icon_name(GTK_BUTTON(find), "system-search-symbolic");
	gtk_widget_set_tooltip_text(find, "Find in the log (Ctrl+F)");
	g_object_bind_property(find, "active", g->search_bar,
	    "search-mode-enabled", G_BINDING_BIDIRECTIONAL);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(header), find);
	g->pause_button = toggle("media-playback-pause-symbolic", "app.pause",
	    "Pause the live view (Shift+Ctrl+P)");
	gtk_header_bar_pack_end(GTK_HEADER_BAR(header), g->pause_button);
	g->find_button = find;
	disc = gtk_button_new_with_label("Disconnect");
	gtk_actionable_set_action_name(GTK_ACTIONABLE(disc), "app.disconnect");
	gtk_widget_set_tooltip_text(disc, "Disconnect (Shift+Ctrl+D)");
	gtk_header_bar_pack_start(GTK_HEADER_BAR(header), disc);
	return header;
}

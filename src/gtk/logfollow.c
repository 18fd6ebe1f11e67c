/* Ben_AFK-gtk: following the end of the log: the view stays at the latest
 * record until the user scrolls up, and a "latest records" button brings
 * it back; with BEN_AFK_GTK_TRACE, each frame's time is traced. */
#include "gtk/gui.h"

/* ---- following the end ------------------------------------------------- */

void
logfollow_stick(struct gui *g, int stick)
{
	if (stick != g->stick)
		gui_trace(g, "scroll", "%s", stick ? "following" : "paused");
	g->stick = stick;
	if (g->to_end != NULL && gtk_widget_get_visible(g->to_end) == stick) {
		gtk_widget_set_visible(g->to_end, !stick);
		gui_trace(g, "latest-button", "%s", stick ? "off" : "on");
	}
}

static GtkWidget *
to_end_new(void)
{
	GtkWidget *b = gtk_button_new_from_icon_name("go-bottom-symbolic");

	gtk_widget_add_css_class(b, "osd");
	gtk_widget_add_css_class(b, "circular");
	gtk_widget_set_halign(b, GTK_ALIGN_END);
	gtk_widget_set_valign(b, GTK_ALIGN_END);
	gtk_widget_set_margin_end(b, 24);
	gtk_widget_set_margin_bottom(b, 12);
	gtk_widget_set_tooltip_text(b, "Latest records: follow the log again "
	    "(Ctrl+End)");
	gtk_accessible_update_property(GTK_ACCESSIBLE(b),
	    GTK_ACCESSIBLE_PROPERTY_LABEL, "Latest records", -1);
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b), "app.latest");
	gtk_widget_set_visible(b, FALSE);
	return b;
}

#define END_FRAMES	4

/* At the next frames, once the new rows have their real heights: the
 * very end, which scroll-to-item may miss by part of a row. */
static gboolean
end_at_next_frame(GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
	struct gui *g = data;
	guint n;

	(void)w;
	(void)clock;
	if (g->stick) {
		gtk_adjustment_set_value(g->vadj, gtk_adjustment_get_upper(
		    g->vadj) - gtk_adjustment_get_page_size(g->vadj));
		n = g_list_model_get_n_items(G_LIST_MODEL(g->filtered));
		if (n > 0)
			gtk_widget_activate_action(GTK_WIDGET(g->list),
			    "list.scroll-to-item", "u", n - 1);
	}
	if (++g->end_frames < END_FRAMES && g->stick)
		return G_SOURCE_CONTINUE;
	g->end_tick = 0;
	return G_SOURCE_REMOVE;
}

void
logfollow_end(struct gui *g)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(g->filtered));

	if (n > 0)
		gtk_widget_activate_action(GTK_WIDGET(g->list),
		    "list.scroll-to-item", "u", n - 1);
	g->end_frames = 0;
	if (g->end_tick == 0)
		g->end_tick = gtk_widget_add_tick_callback(GTK_WIDGET(g->list),
		    end_at_next_frame, g, NULL);
}

/* Back at the very end: follow again. */
static void
on_scrolled(GtkAdjustment *adj, gpointer data)
{
	struct gui *g = data;
	double end = gtk_adjustment_get_upper(adj) -
	    gtk_adjustment_get_page_size(adj);

	if (gtk_adjustment_get_value(adj) >= end - 4.0)
		logfollow_stick(g, 1);
}

/* The user scrolled up with the wheel or the touchpad: stop following. */
static gboolean
on_wheel(GtkEventControllerScroll *c, double dx, double dy, gpointer data)
{
	(void)c;
	(void)dx;
	if (dy < 0)
		logfollow_stick(data, 0);
	return FALSE;
}

static gboolean
on_key(GtkEventControllerKey *c, guint key, guint code, GdkModifierType m,
    gpointer data)
{
	(void)c;
	(void)code;
	(void)m;
	if (key == GDK_KEY_Up || key == GDK_KEY_Page_Up ||
	    key == GDK_KEY_Home || key == GDK_KEY_KP_Up ||
	    key == GDK_KEY_KP_Page_Up)
		logfollow_stick(data, 0);
	return FALSE;
}

/* The content grew: the view stays at the end if it was there. */
static void
on_changed(GtkAdjustment *adj, gpointer data)
{
	struct gui *g = data;

	if (g->stick)
		gtk_adjustment_set_value(adj, gtk_adjustment_get_upper(adj) -
		    gtk_adjustment_get_page_size(adj));
}

void
logfollow_to_end(struct gui *g)
{
	logfollow_stick(g, 1);
	logfollow_end(g);
}

/* ---- frame times, for the tests (BEN_AFK_GTK_TRACE) -------------------- */

static void
on_frame_start(GdkFrameClock *clock, gpointer data)
{
	struct gui *g = data;

	(void)clock;
	g->frame_start = g_get_monotonic_time();
}

/* How long the window took to update, lay out and paint one frame. */
static void
on_frame_end(GdkFrameClock *clock, gpointer data)
{
	struct gui *g = data;

	(void)clock;
	if (g->frame_start != 0)
		gui_trace(g, "frame", "%.1f ms", (double)(g_get_monotonic_time()
		    - g->frame_start) / 1000.0);
	g->frame_start = 0;
}

static void
on_realize(GtkWidget *w, gpointer data)
{
	GdkFrameClock *clock = gtk_widget_get_frame_clock(w);

	g_signal_connect(clock, "before-paint", G_CALLBACK(on_frame_start),
	    data);
	g_signal_connect(clock, "after-paint", G_CALLBACK(on_frame_end),
	    data);
}

/* ---- the widget ------------------------------------------------------- */

GtkWidget *
logfollow_new(struct gui *g)
{
	GtkEventController *c;

	c = gtk_event_controller_scroll_new(
	    GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
	g_signal_connect(c, "scroll", G_CALLBACK(on_wheel), g);
	gtk_widget_add_controller(GTK_WIDGET(g->list), c);
	c = gtk_event_controller_key_new();
	g_signal_connect(c, "key-pressed", G_CALLBACK(on_key), g);
	gtk_widget_add_controller(GTK_WIDGET(g->list), c);
	g_signal_connect(g->vadj, "value-changed", G_CALLBACK(on_scrolled), g);
	g_signal_connect(g->vadj, "changed", G_CALLBACK(on_changed), g);
	if (g->trace)
		g_signal_connect(g->list, "realize", G_CALLBACK(on_realize), g);
	g->to_end = to_end_new();
	return g->to_end;
}

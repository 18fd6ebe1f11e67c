/* Ben_AFK-gtk: finding records: the search bar (Ctrl+F; matches
 * highlighted, next and previous) and the filter bar (levels, text). */
#include <string.h>

#include "gtk/gui.h"

/* ---- search ------------------------------------------------------------- */

/* Whether TEXT holds the search text, in any case (ASCII). */
static int
matches(struct gui *g, const char *text)
{
	const char *n = g->search_text, *p;
	size_t i, len = g->search_len;
	int first = g_ascii_tolower(*n);

	for (p = text; *p != '\0'; p++) {
		if (g_ascii_tolower(*p) != first)
			continue;
		for (i = 1; i < len && p[i] != '\0' &&
		    g_ascii_tolower(p[i]) == g_ascii_tolower(n[i]); i++)
			;
		if (i == len)
			return 1;
	}
	return 0;
}

/* Call FN on each record shown (its position in the filtered view) that
 * matches, from the oldest; stops when FN returns 1.  The model's own
 * ring is read: no reference taken per record. */
static void
each_match(struct gui *g, int (*fn)(struct gui *, guint, void *), void *arg)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(g->model)), i;
	guint shown = 0;
	AfkRecord *r;
	int all = g->level_mask == ~0u && (g->filter_text == NULL ||
	    *g->filter_text == '\0');

	for (i = 0; i < n; i++) {
		r = logmodel_nth(g->model, i);
		if (!all && !logview_keeps(g, r))
			continue;
		if (matches(g, logmodel_record_text(r)) &&
		    fn(g, shown, arg))
			return;
		shown++;
	}
}

struct count {
	guint	total, index;
};

static int
count_one(struct gui *g, guint pos, void *arg)
{
	struct count *c = arg;

	c->total++;
	if (g->match >= 0 && pos == (guint)g->match)
		c->index = c->total;
	return 0;
}

/* "3 of 17", or why there is none. */
static void
show_count(struct gui *g)
{
	struct count c = { 0, 0 };
	char *text;

	if (g->search_len == 0) {
		gtk_label_set_text(g->search_count, "");
		return;
	}
	each_match(g, count_one, &c);
	if (c.total == 0)
		text = g_strdup("No match");
	else if (c.index > 0)
		text = g_strdup_printf("%u of %u", c.index, c.total);
	else
		text = g_strdup_printf("%u match%s", c.total, c.total == 1 ?
		    "" : "es");
	gtk_label_set_text(g->search_count, text);
	g_free(text);
}

struct step {
	int	dir;
	gint64	from;		/* the current match, or before/after all */
	gint64	found;		/* the next one, -1 if none */
	gint64	first, last;	/* for wrapping around */
};

static int
step_one(struct gui *g, guint pos, void *arg)
{
	struct step *s = arg;

	(void)g;
	if (s->first < 0)
		s->first = pos;
	s->last = pos;
	if (s->dir > 0 && pos > s->from) {
		s->found = pos;
		return 1;
	}
	if (s->dir < 0 && pos < s->from)
		s->found = pos;		/* the last one before wins */
	return 0;
}

void
search_next(struct gui *g, int dir)
{
	guint n = g_list_model_get_n_items(G_LIST_MODEL(g->filtered));
	gint64 t0 = g_get_monotonic_time();
	struct step s = { dir, 0, -1, -1, -1 };
	AfkRecord *r;
	guint pos;

	if (n == 0 || g->search_len == 0)
		return;
	s.from = g->match >= 0 ? g->match : dir > 0 ? -1 : G_MAXINT64;
	each_match(g, step_one, &s);
	if (s.found < 0)		/* wrap around */
		s.found = dir > 0 ? s.first : s.last;
	if (s.found < 0) {
		gui_trace(g, "search-none", "%s", g->search_text);
		return;
	}
	pos = (guint)s.found;
	g->match = (int)pos;
	logfollow_stick(g, 0);
	gtk_selection_model_select_item(GTK_SELECTION_MODEL(g->sel), pos,
	    TRUE);
	gtk_widget_activate_action(GTK_WIDGET(g->list), "list.scroll-to-item",
	    "u", pos);
	r = g_list_model_get_item(G_LIST_MODEL(g->filtered), pos);
	gui_trace(g, "search-match", "%u of %u in %.1f ms: %s", pos, n,
	    (double)(g_get_monotonic_time() - t0) / 1000.0,
	    logmodel_record_text(r));
	g_object_unref(r);
	show_count(g);
}

static void
on_search_changed(GtkSearchEntry *e, gpointer data)
{
	struct gui *g = data;
	gint64 t0 = g_get_monotonic_time();

	g_free(g->search_text);
	g->search_text = g_strdup(gtk_editable_get_text(GTK_EDITABLE(e)));
	g->search_len = strlen(g->search_text);
	g->match = -1;
	logview_rerender(g);
	show_count(g);
	gui_trace(g, "search", "%s: %s (%.1f ms)", g->search_text,
	    gtk_label_get_text(g->search_count),
	    (double)(g_get_monotonic_time() - t0) / 1000.0);
}

static void
on_next(GtkWidget *w, gpointer data)
{
	(void)w;
	search_next(data, 1);
}

static void
on_previous(GtkWidget *w, gpointer data)
{
	(void)w;
	search_next(data, -1);
}

/* Escape: the bar closes, the found record stays selected. */
static void
on_stop(GtkSearchEntry *e, gpointer data)
{
	struct gui *g = data;

	(void)e;
	gtk_search_bar_set_search_mode(g->search_bar, FALSE);
	gtk_widget_grab_focus(GTK_WIDGET(g->list));
	gui_trace(g, "search-closed", "%s", "");
}

/* Positions move when old records are dropped: follow the match. */
static void
on_items_changed(GListModel *m, guint pos, guint removed, guint added,
    gpointer data)
{
	struct gui *g = data;

	(void)m;
	if (g->match < 0 || (guint)g->match < pos)
		return;
	if ((guint)g->match >= pos + removed)
		g->match += (int)added - (int)removed;
	else
		g->match = -1;
}

static gboolean
previous_shortcut(GtkWidget *w, GVariant *args, gpointer data)
{
	(void)w;
	(void)args;
	search_next(data, -1);
	return TRUE;
}

/* Shift+Enter in the search entry: the previous match (as in gedit). */
static void
previous_on_shift_return(struct gui *g)
{
	GtkShortcutController *sc;

	sc = GTK_SHORTCUT_CONTROLLER(gtk_shortcut_controller_new());
	gtk_event_controller_set_propagation_phase(GTK_EVENT_CONTROLLER(sc),
	    GTK_PHASE_CAPTURE);
	gtk_shortcut_controller_add_shortcut(sc, gtk_shortcut_new(
	    gtk_shortcut_trigger_parse_string("<Shift>Return|<Shift>KP_Enter"),
	    gtk_callback_action_new(previous_shortcut, g, NULL)));
	gtk_widget_add_controller(g->search_entry, GTK_EVENT_CONTROLLER(sc));
}

static GtkWidget *
icon_button(const char *icon, const char *tip, GCallback cb, struct gui *g)
{
	GtkWidget *b = gtk_button_new_from_icon_name(icon);

	gtk_widget_set_tooltip_text(b, tip);
	g_signal_connect(b, "clicked", cb, g);
	return b;
}

GtkWidget *
search_bar_new(struct gui *g)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

	g->match = -1;
	g->search_entry = gtk_search_entry_new();
	g_object_set(g->search_entry, "placeholder-text", "Find in the log",
	    NULL);
	gtk_widget_set_size_request(g->search_entry, 320, -1);
	g_signal_connect(g->search_entry, "search-changed",
	    G_CALLBACK(on_search_changed), g);
	g_signal_connect(g->search_entry, "activate", G_CALLBACK(on_next), g);
	g_signal_connect(g->search_entry, "next-match", G_CALLBACK(on_next),
	    g);
	g_signal_connect(g->search_entry, "previous-match",
	    G_CALLBACK(on_previous), g);
	g_signal_connect(g->search_entry, "stop-search", G_CALLBACK(on_stop),
	    g);
	gtk_box_append(GTK_BOX(box), g->search_entry);
	previous_on_shift_return(g);
	gtk_box_append(GTK_BOX(box), icon_button("go-up-symbolic",
	    "Previous match (Shift+Enter, Shift+Ctrl+G)",
	    G_CALLBACK(on_previous), g));
	gtk_box_append(GTK_BOX(box), icon_button("go-down-symbolic",
	    "Next match (Enter, Ctrl+G)", G_CALLBACK(on_next), g));
	g->search_count = GTK_LABEL(gtk_label_new(NULL));
	gtk_widget_add_css_class(GTK_WIDGET(g->search_count), "dim-label");
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(g->search_count));
	g->search_bar = GTK_SEARCH_BAR(gtk_search_bar_new());
	gtk_search_bar_set_child(g->search_bar, box);
	gtk_search_bar_connect_entry(g->search_bar,
	    GTK_EDITABLE(g->search_entry));
	gtk_search_bar_set_show_close_button(g->search_bar, TRUE);
	g_signal_connect(g->filtered, "items-changed",
	    G_CALLBACK(on_items_changed), g);
	return GTK_WIDGET(g->search_bar);
}

/* ---- filters ------------------------------------------------------------ */

static void
on_filter_changed(GtkSearchEntry *e, gpointer data)
{
	struct gui *g = data;

	g_free(g->filter_text);
	g->filter_text = g_strdup(gtk_editable_get_text(GTK_EDITABLE(e)));
	logview_refilter(g);
}

static void
on_level_state(GSimpleAction *a, GVariant *state, gpointer data)
{
	struct gui *g = data;
	int i = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(a), "level"));

	g_simple_action_set_state(a, state);
	if (g_variant_get_boolean(state))
		g->level_mask |= 1u << i;
	else
		g->level_mask &= ~(1u << i);
	logview_refilter(g);
}

/* app.show-LEVEL, a toggle per level, with Ctrl+1.. */
static GtkWidget *
level_button(struct gui *g, int i)
{
	const char *name = logview_level_name(i);
	char *action = g_strdup_printf("show-%s", name), *full, *tip, *accel;
	const char *accels[2];
	GSimpleAction *a = g_simple_action_new_stateful(action, NULL,
	    g_variant_new_boolean(TRUE));
	GtkWidget *b = gtk_toggle_button_new_with_label(name);

	g_object_set_data(G_OBJECT(a), "level", GINT_TO_POINTER(i));
	g_signal_connect(a, "change-state", G_CALLBACK(on_level_state), g);
	g_action_map_add_action(G_ACTION_MAP(g->app), G_ACTION(a));
	g_object_unref(a);
	full = g_strconcat("app.", action, NULL);
	accel = g_strdup_printf("<Control>%d", i + 1);
	accels[0] = accel;
	accels[1] = NULL;
	gtk_application_set_accels_for_action(g->app, full, accels);
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b), full);
	tip = g_strdup_printf("Show %s records (Ctrl+%d)", name, i + 1);
	gtk_widget_set_tooltip_text(b, tip);
	gtk_widget_add_css_class(b, "afk-level");
	g_free(tip);
	g_free(accel);
	g_free(full);
	g_free(action);
	return b;
}

GtkWidget *
search_filter_bar_new(struct gui *g)
{
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *levels = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	GtkWidget *l = gtk_label_new("Show");
	GtkWidget *e = gtk_search_entry_new();
	int i;

	gtk_widget_add_css_class(bar, "afk-filter-bar");
	gtk_widget_add_css_class(l, "dim-label");
	gtk_box_append(GTK_BOX(bar), l);
	gtk_widget_add_css_class(levels, "linked");
	for (i = 0; i < logview_level_count(); i++)
		gtk_box_append(GTK_BOX(levels), level_button(g, i));
	gtk_box_append(GTK_BOX(bar), levels);
	g_object_set(e, "placeholder-text", "Filter records (Shift+Ctrl+F)",
	    NULL);
	gtk_widget_set_hexpand(e, TRUE);
	gtk_widget_set_halign(e, GTK_ALIGN_END);
	gtk_widget_set_size_request(e, 280, -1);
	g_signal_connect(e, "search-changed", G_CALLBACK(on_filter_changed),
	    g);
	g_object_set_data(G_OBJECT(g->app), "filter-entry", e);
	gtk_box_append(GTK_BOX(bar), e);
	return bar;
}

/* Ben_AFK-gtk: the live log view: a list of records coloured by level over
 * a bounded model, filtered by level and text, that follows the end of the
 * log until the user scrolls up or pauses it. */
#include <stdio.h>
#include <string.h>

#include "gtk/gui.h"

#define FLUSH_MS	50	/* records are shown in batches */

static const struct {
	const char	*name;
	const char	*colour;
	int		 bold;
} levels[] = {
	{ "INFO",  "#1c71d8", 0 },
	{ "LOG",   "#26a269", 0 },
	{ "WARN",  "#c64600", 1 },
	{ "ERROR", "#c01c28", 1 },
	{ "DEBUG", "#77767b", 0 },
	{ "AUTH",  "#813d9c", 0 },
	{ "reply", "alpha(currentColor, 0.75)", 0 },	/* the client's own */
	{ "error", "#c01c28", 1 },
	{ "notice", "#3584e4", 1 },
};

#define CLIENT_LEVELS	6	/* levels[6..]: always shown */

int
logview_level_count(void)
{
	return CLIENT_LEVELS;
}

const char *
logview_level_name(int i)
{
	return levels[i].name;
}

/* The level of a record "[date] [ LEVEL ] - ...", or -1. */
static int
level_of(const char *line)
{
	const char *p = strstr(line, "] [ ");
	size_t i, n;

	if (p == NULL)
		return -1;
	p += 4;
	for (i = 0; i < CLIENT_LEVELS; i++) {
		n = strlen(levels[i].name);
		if (strncmp(p, levels[i].name, n) == 0 && p[n] == ' ')
			return (int)i;
	}
	return -1;
}

static int
tag_level(const char *tag)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(levels); i++)
		if (strcmp(levels[i].name, tag) == 0)
			return (int)i;
	return -1;
}

/* ---- rows --------------------------------------------------------------- */

/* TEXT escaped for markup, every match of NEEDLE (any case) highlighted. */
static void
append_highlighted(GString *s, const char *text, const char *needle)
{
	size_t nlen = needle != NULL ? strlen(needle) : 0;
	const char *p = text, *m;
	char *esc;

	while (nlen > 0 && (m = strcasestr(p, needle)) != NULL) {
		esc = g_markup_escape_text(p, m - p);
		g_string_append(s, esc);
		g_free(esc);
		esc = g_markup_escape_text(m, (gssize)nlen);
		g_string_append_printf(s, "<span background=\"#f8e45c\" "
		    "foreground=\"#000000\">%s</span>", esc);
		g_free(esc);
		p = m + nlen;
	}
	esc = g_markup_escape_text(p, -1);
	g_string_append(s, esc);
	g_free(esc);
}

static void
render(struct gui *g, GtkListItem *item)
{
	AfkRecord *r = gtk_list_item_get_item(item);
	GtkWidget *label = gtk_list_item_get_child(item);
	int level = logmodel_record_level(r);
	GString *s = g_string_new(NULL);
	char cls[32];
	const char *classes[3] = { "afk-record", cls, NULL };

	/* colours by class: a selected row's CSS can override them */
	snprintf(cls, sizeof(cls), "afk-%s", level >= 0 ?
	    levels[level].name : "plain");
	gtk_widget_set_css_classes(label, classes);
	append_highlighted(s, logmodel_record_text(r), g->search_text);
	gtk_label_set_markup(GTK_LABEL(label), s->str);
	g_string_free(s, TRUE);
}

/* The level colours, for the whole display. */
static void
level_css(void)
{
	GtkCssProvider *p = gtk_css_provider_new();
	GString *css = g_string_new(NULL);
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(levels); i++)
		g_string_append_printf(css, ".afk-%s { color: %s;%s }\n",
		    levels[i].name, levels[i].colour, levels[i].bold ?
		    " font-weight: bold;" : "");
	g_string_append(css, ".afk-log row:selected label { color: "
	    "@theme_selected_fg_color; }\n");
	gtk_css_provider_load_from_data(p, css->str, -1);
	gtk_style_context_add_provider_for_display(gdk_display_get_default(),
	    GTK_STYLE_PROVIDER(p), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(p);
	g_string_free(css, TRUE);
}

static void
on_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	GtkWidget *label = gtk_label_new(NULL);

	(void)f;
	(void)data;
	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
	gtk_label_set_single_line_mode(GTK_LABEL(label), TRUE);
	gtk_list_item_set_child(item, label);
}

static void
on_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	struct gui *g = data;

	(void)f;
	g_hash_table_add(g->bound, item);
	render(g, item);
}

static void
on_unbind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
	struct gui *g = data;

	(void)f;
	g_hash_table_remove(g->bound, item);
}

void
logview_rerender(struct gui *g)
{
	GHashTableIter it;
	gpointer item;
	guint lit = 0;
	AfkRecord *r;

	g_hash_table_iter_init(&it, g->bound);
	while (g_hash_table_iter_next(&it, &item, NULL)) {
		render(g, item);
		r = gtk_list_item_get_item(item);
		if (g->search_text != NULL && *g->search_text != '\0' &&
		    r != NULL && strcasestr(logmodel_record_text(r),
		    g->search_text) != NULL)
			lit++;
	}
	gui_trace(g, "highlight", "%u of %u rows shown", lit,
	    g_hash_table_size(g->bound));
}

/* ---- batches ------------------------------------------------------------ */

/* Records exist but the filters hide them all: say so. */
static void
show_placeholder(struct gui *g)
{
	int empty = g_list_model_get_n_items(G_LIST_MODEL(g->filtered)) == 0
	    && g_list_model_get_n_items(G_LIST_MODEL(g->model)) > 0;

	if (empty == gtk_widget_get_visible(g->placeholder))
		return;
	gtk_widget_set_visible(g->placeholder, empty);
	gui_trace(g, "placeholder", "%s", empty ? "on" : "off");
}

static void
show_pause_bar(struct gui *g)
{
	char *text;
	guint n = logmodel_pending(g->model);

	gtk_widget_set_visible(g->pause_bar, g->paused);
	if (!g->paused)
		return;
	text = g_strdup_printf("Live view paused: %u new record%s waiting "
	    "(at most %u are kept)", n, n == 1 ? "" : "s",
	    logmodel_capacity(g->model));
	gtk_label_set_text(g->pause_label, text);
	g_free(text);
}

static gboolean
flush(gpointer data)
{
	struct gui *g = data;
	gint64 t0 = g_get_monotonic_time();
	guint added;

	g->flush_id = 0;
	if (g->paused) {
		show_pause_bar(g);
		return G_SOURCE_REMOVE;
	}
	added = logmodel_flush(g->model);
	if (added > 0 && g->stick)
		logfollow_end(g);
	show_placeholder(g);
	if (added > 0)
		gui_trace(g, "model", "%u shown %u (+%u in %.1f ms)",
		    g_list_model_get_n_items(G_LIST_MODEL(g->model)),
		    g_list_model_get_n_items(G_LIST_MODEL(g->filtered)), added,
		    (double)(g_get_monotonic_time() - t0) / 1000.0);
	return G_SOURCE_REMOVE;
}

void
logview_append(struct gui *g, const char *line, const char *tag)
{
	int level = tag == NULL ? level_of(line) : tag_level(tag);
	char *valid = g_utf8_make_valid(line, -1);

	logmodel_append(g->model, valid, level);
	g_free(valid);
	if (g->flush_id == 0)
		g->flush_id = g_timeout_add(FLUSH_MS, flush, g);
	gui_trace(g, "log", "%s", line);
}

void
logview_set_paused(struct gui *g, int paused)
{
	if (paused == g->paused)
		return;
	g->paused = paused;
	gui_trace(g, "pause", "%s", paused ? "on" : "off");
	show_pause_bar(g);
	if (!paused) {
		logfollow_stick(g, 1);
		flush(g);
	}
}

void
logview_clear(struct gui *g)
{
	logmodel_clear(g->model);
	g_clear_pointer(&g->last_record, g_free);
	g->stick = 1;
	show_placeholder(g);
}

/* ---- filters ------------------------------------------------------------ */

gboolean
logview_keeps(struct gui *g, AfkRecord *r)
{
	int level = logmodel_record_level(r);

	if (level >= 0 && level < CLIENT_LEVELS &&
	    !(g->level_mask & (1u << level)))
		return FALSE;
	if (g->filter_text != NULL && *g->filter_text != '\0' &&
	    strcasestr(logmodel_record_text(r), g->filter_text) == NULL)
		return FALSE;
	return TRUE;
}

static gboolean
keep(gpointer item, gpointer data)
{
	return logview_keeps(data, item);
}

void
logview_refilter(struct gui *g)
{
	gint64 t0 = g_get_monotonic_time();

	gtk_filter_changed(GTK_FILTER(g->filter), GTK_FILTER_CHANGE_DIFFERENT);
	show_placeholder(g);
	gui_trace(g, "filter", "%u shown of %u (%.1f ms)",
	    g_list_model_get_n_items(G_LIST_MODEL(g->filtered)),
	    g_list_model_get_n_items(G_LIST_MODEL(g->model)),
	    (double)(g_get_monotonic_time() - t0) / 1000.0);
}

/* ---- copy --------------------------------------------------------------- */

void
logview_copy(struct gui *g)
{
	GtkBitset *set = gtk_selection_model_get_selection(
	    GTK_SELECTION_MODEL(g->sel));
	GtkBitsetIter it;
	GString *s = g_string_new(NULL);
	AfkRecord *r;
	guint pos, n = 0;

	if (gtk_bitset_iter_init_first(&it, set, &pos))
		do {
			r = g_list_model_get_item(G_LIST_MODEL(g->filtered),
			    pos);
			g_string_append_printf(s, "%s\n",
			    logmodel_record_text(r));
			g_object_unref(r);
			n++;
		} while (gtk_bitset_iter_next(&it, &pos));
	gtk_bitset_unref(set);
	if (n > 0)
		gdk_clipboard_set_text(gtk_widget_get_clipboard(
		    GTK_WIDGET(g->list)), s->str);
	gui_trace(g, "copied", "%u", n);
	g_string_free(s, TRUE);
}

static gboolean
copy_shortcut(GtkWidget *w, GVariant *args, gpointer data)
{
	(void)w;
	(void)args;
	logview_copy(data);
	return TRUE;
}

/* ---- the widget --------------------------------------------------------- */

static void
controllers(struct gui *g)
{
	GtkShortcutController *sc;

	sc = GTK_SHORTCUT_CONTROLLER(gtk_shortcut_controller_new());
	gtk_shortcut_controller_add_shortcut(sc, gtk_shortcut_new(
	    gtk_shortcut_trigger_parse_string("<Control>c"),
	    gtk_callback_action_new(copy_shortcut, g, NULL)));
	gtk_widget_add_controller(GTK_WIDGET(g->list),
	    GTK_EVENT_CONTROLLER(sc));
}

static GtkWidget *
pause_bar_new(struct gui *g)
{
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8), *b;

	gtk_widget_add_css_class(bar, "afk-banner");
	g->pause_label = GTK_LABEL(gtk_label_new(NULL));
	gtk_widget_set_hexpand(GTK_WIDGET(g->pause_label), TRUE);
	gtk_label_set_xalign(g->pause_label, 0);
	gtk_box_append(GTK_BOX(bar), GTK_WIDGET(g->pause_label));
	b = gtk_button_new_with_mnemonic("Res_ume");
	gtk_actionable_set_action_name(GTK_ACTIONABLE(b), "app.pause");
	gtk_box_append(GTK_BOX(bar), b);
	gtk_widget_set_visible(bar, FALSE);
	return bar;
}

GtkWidget *
logview_new(struct gui *g)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *sw = gtk_scrolled_window_new();
	GtkWidget *overlay = gtk_overlay_new();
	GtkListItemFactory *f = gtk_signal_list_item_factory_new();

	level_css();
	g->model = logmodel_new(g->history);
	g->bound = g_hash_table_new(NULL, NULL);
	g->level_mask = ~0u;
	g->filter = gtk_custom_filter_new(keep, g, NULL);
	g->filtered = gtk_filter_list_model_new(G_LIST_MODEL(g->model),
	    GTK_FILTER(g->filter));
	g->sel = gtk_multi_selection_new(G_LIST_MODEL(g->filtered));
	g_signal_connect(f, "setup", G_CALLBACK(on_setup), g);
	g_signal_connect(f, "bind", G_CALLBACK(on_bind), g);
	g_signal_connect(f, "unbind", G_CALLBACK(on_unbind), g);
	g->list = GTK_LIST_VIEW(gtk_list_view_new(
	    GTK_SELECTION_MODEL(g->sel), f));
	gtk_widget_add_css_class(GTK_WIDGET(g->list), "afk-log");
	gtk_accessible_update_property(GTK_ACCESSIBLE(g->list),
	    GTK_ACCESSIBLE_PROPERTY_LABEL, "Daemon log", -1);
	controllers(g);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw),
	    GTK_WIDGET(g->list));
	gtk_widget_set_vexpand(sw, TRUE);
	g->vadj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw));
	g->stick = 1;
	g->pause_bar = pause_bar_new(g);
	gtk_box_append(GTK_BOX(box), g->pause_bar);
	g->placeholder = gtk_label_new("No record matches the filters");
	gtk_widget_add_css_class(g->placeholder, "dim-label");
	gtk_widget_add_css_class(g->placeholder, "title-2");
	gtk_widget_set_visible(g->placeholder, FALSE);
	gtk_overlay_set_child(GTK_OVERLAY(overlay), sw);
	gtk_overlay_add_overlay(GTK_OVERLAY(overlay), g->placeholder);
	gtk_overlay_add_overlay(GTK_OVERLAY(overlay), logfollow_new(g));
	gtk_widget_set_vexpand(overlay, TRUE);
	gtk_box_append(GTK_BOX(box), overlay);
	return box;
}

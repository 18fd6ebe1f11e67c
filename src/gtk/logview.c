/* Ben_AFK-gtk: the live log view, records coloured by level, that follows
 * the end of the log until the user scrolls up. */
#include <string.h>

#include "gtk/gui.h"

#define LOG_MAX_LINES	5000	/* older lines are dropped */

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
	{ "reply", "#5e5c64", 0 },
	{ "error", "#c01c28", 1 },
};

/* The user scrolled (or we did): keep following only at the very end. */
static void
on_scrolled(GtkAdjustment *adj, gpointer data)
{
	struct gui *g = data;
	double end = gtk_adjustment_get_upper(adj) -
	    gtk_adjustment_get_page_size(adj);

	int stick = gtk_adjustment_get_value(adj) >= end - 4.0;

	if (stick != g->stick)
		gui_trace(g, "scroll", "%s", stick ? "following" : "paused");
	g->stick = stick;
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

GtkWidget *
logview_new(struct gui *g)
{
	GtkWidget *sw = gtk_scrolled_window_new();
	GtkWidget *tv = gtk_text_view_new();
	size_t i;

	g->log = GTK_TEXT_VIEW(tv);
	g->logbuf = gtk_text_view_get_buffer(g->log);
	gtk_text_view_set_editable(g->log, FALSE);
	gtk_text_view_set_cursor_visible(g->log, FALSE);
	gtk_text_view_set_monospace(g->log, TRUE);
	gtk_text_view_set_wrap_mode(g->log, GTK_WRAP_WORD_CHAR);
	gtk_text_view_set_left_margin(g->log, 6);
	gtk_accessible_update_property(GTK_ACCESSIBLE(tv),
	    GTK_ACCESSIBLE_PROPERTY_LABEL, "Daemon log", -1);
	for (i = 0; i < G_N_ELEMENTS(levels); i++)
		gtk_text_buffer_create_tag(g->logbuf, levels[i].name,
		    "foreground", levels[i].colour, "weight", levels[i].bold ?
		    PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL, NULL);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), tv);
	gtk_widget_set_vexpand(sw, TRUE);
	g->vadj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw));
	g->stick = 1;
	g_signal_connect(g->vadj, "value-changed", G_CALLBACK(on_scrolled), g);
	g_signal_connect(g->vadj, "changed", G_CALLBACK(on_changed), g);
	return sw;
}

/* The level of a record "[date] [ LEVEL ] - ...", or NULL. */
static const char *
level_of(const char *line)
{
	const char *p = strstr(line, "] [ ");
	size_t i, n;

	if (p == NULL)
		return NULL;
	p += 4;
	for (i = 0; i < G_N_ELEMENTS(levels); i++) {
		n = strlen(levels[i].name);
		if (strncmp(p, levels[i].name, n) == 0 && p[n] == ' ')
			return levels[i].name;
	}
	return NULL;
}

void
logview_append(struct gui *g, const char *line, const char *tag)
{
	GtkTextIter end, cut;
	char *valid;
	int lines;

	if (tag == NULL)
		tag = level_of(line);
	valid = g_utf8_make_valid(line, -1);
	gtk_text_buffer_get_end_iter(g->logbuf, &end);
	if (gtk_text_buffer_get_char_count(g->logbuf) > 0)
		gtk_text_buffer_insert(g->logbuf, &end, "\n", 1);
	if (tag != NULL)
		gtk_text_buffer_insert_with_tags_by_name(g->logbuf, &end, valid,
		    -1, tag, NULL);
	else
		gtk_text_buffer_insert(g->logbuf, &end, valid, -1);
	g_free(valid);
	lines = gtk_text_buffer_get_line_count(g->logbuf);
	if (lines > LOG_MAX_LINES) {
		gtk_text_buffer_get_start_iter(g->logbuf, &cut);
		gtk_text_buffer_get_iter_at_line(g->logbuf, &end,
		    lines - LOG_MAX_LINES);
		gtk_text_buffer_delete(g->logbuf, &cut, &end);
	}
	gui_trace(g, "log", "%s", line);
}

void
logview_clear(struct gui *g)
{
	gtk_text_buffer_set_text(g->logbuf, "", 0);
	g->stick = 1;
}

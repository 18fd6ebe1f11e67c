/* Ben_AFK-gtk: the Dashboard tab: the daemon's figures of the last ten
 * minutes (lines per second, clients, refused connections, the forward
 * backlog) as charts drawn with GTK's own drawing, from the /stats
 * table the command session reads every second (net.c). */
#include <stdio.h>
#include <string.h>

#include <pango/pangocairo.h>

#include "gtk/gui.h"
#include "gtk/stats.h"

#define WINDOW_MS	(10 * 60 * 1000)	/* what a chart shows */
#define POINTS		720	/* kept per chart: ten minutes, every second */
#define GAP_MS		5000	/* no reading for that long: a gap */
#define PAD_LEFT	52	/* the scale's labels */
#define PAD_BOTTOM	18	/* the time's */
#define PAD		4

/*
 * What each chart shows: a figure of /stats (docs/PROTOCOL.md, 4.2) and
 * one for its caption.  A row of this table is all there is to change
 * to point a chart at other figures.
 */
struct chart_def {
	const char	*key;		/* in the trace */
	const char	*title;
	const char	*metric;	/* drawn */
	enum stats_kind	 kind;
	const char	*unit;		/* after the number */
	const char	*caption_metric;
	const char	*caption;	/* after the caption metric's value */
	const char	*missing;	/* the daemon has no such figure */
};

static const struct chart_def defs[] = {
	{ "lines", "Lines logged per second", "lines_total", STATS_RATE,
	  " /s", "lines_total", " lines since the start", NULL },
	{ "clients", "Clients connected", "clients", STATS_GAUGE, "",
	  "max_clients", " at most", NULL },
	{ "refused", "Refused connections per second",
	  "clients_refused_total", STATS_RATE, " /s",
	  "clients_refused_total", " since the start", NULL },
	/* Forwarding is being rewritten: re-point this row at its figures. */
	{ "forward", "Forward backlog (records waiting)", "forward_queue",
	  STATS_GAUGE, "", "forward_dropped_total", " dropped",
	  "No forward target" },
};
#define NCHARTS	G_N_ELEMENTS(defs)

struct point {
	gint64	 at_ms;
	double	 v;
};

struct chart {
	const struct chart_def *def;
	struct gui	*g;
	GtkWidget	*area;
	GtkLabel	*value, *caption;
	struct point	 pts[POINTS];	/* a ring, oldest at head */
	int		 head, count;
	int		 missing;	/* the daemon lacks the figure */
};

struct dashboard {
	GtkStack		*stack;		/* "charts" or "notice" */
	GtkLabel		*notice;
	struct chart		 charts[NCHARTS];
	struct stats_reading	 prev;
	int			 have_prev;
};

/* ---- drawing ------------------------------------------------------------ */

/*
 * The style's colours: the text's, and an accent for the series (GTK
 * 4.8's own Adwaita names no accent colour: the selection's then),
 * lightened towards the text on a dark theme so that it stands out.
 */
static void
colours(GtkWidget *w, GdkRGBA *fg, GdkRGBA *accent)
{
	static const char *const names[] = { "accent_color",
	    "theme_selected_bg_color", "accent_bg_color" };
	GtkStyleContext *ctx = gtk_widget_get_style_context(w);
	size_t i;

	gtk_style_context_get_color(ctx, fg);
	*accent = *fg;
	for (i = 0; i < G_N_ELEMENTS(names); i++)
		if (gtk_style_context_lookup_color(ctx, names[i], accent))
			break;
	if (i > 0 && fg->red + fg->green + fg->blue > 1.5) {
		accent->red += (fg->red - accent->red) * 0.4f;
		accent->green += (fg->green - accent->green) * 0.4f;
		accent->blue += (fg->blue - accent->blue) * 0.4f;
	}
}

static void
set_colour(cairo_t *cr, const GdkRGBA *c, double alpha)
{
	cairo_set_source_rgba(cr, c->red, c->green, c->blue, c->alpha * alpha);
}

/* The smallest 1, 2 or 5 times a power of ten at or above V (>= 1). */
static double
nice_ceiling(double v)
{
	double p = 1, f;
	int i;

	if (v <= 1)
		return 1;
	for (i = 0; i < 300 && p * 10 <= v; i++)
		p *= 10;
	f = v / p;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static void
text_at(GtkWidget *w, cairo_t *cr, const char *text, double x, double y,
    double xalign)
{
	PangoLayout *l = gtk_widget_create_pango_layout(w, text);
	int tw, th;

	pango_layout_get_pixel_size(l, &tw, &th);
	cairo_move_to(cr, x - tw * xalign, y - th / 2.0);
	pango_cairo_show_layout(cr, l);
	g_object_unref(l);
}

/* The frame, the scale (0, half, YMAX) and the time below. */
static void
draw_grid(GtkWidget *w, cairo_t *cr, const GdkRGBA *fg, double pw,
    double ph, double ymax)
{
	char buf[32];
	int i;

	cairo_set_line_width(cr, 1);
	for (i = 0; i <= 2; i++) {
		set_colour(cr, fg, i == 0 ? 0.45 : 0.15);
		cairo_move_to(cr, PAD_LEFT, PAD + ph * (2 - i) / 2 + 0.5);
		cairo_line_to(cr, PAD_LEFT + pw, PAD + ph * (2 - i) / 2 + 0.5);
		cairo_stroke(cr);
		stats_format(ymax * i / 2, buf, sizeof(buf));
		set_colour(cr, fg, 0.7);
		text_at(w, cr, buf, PAD_LEFT - 6, PAD + ph * (2 - i) / 2, 1);
	}
	set_colour(cr, fg, 0.7);
	text_at(w, cr, "10 min ago", PAD_LEFT, PAD + ph + PAD_BOTTOM / 2.0 +
	    2, 0);
	text_at(w, cr, "5 min", PAD_LEFT + pw / 2, PAD + ph + PAD_BOTTOM /
	    2.0 + 2, 0.5);
	text_at(w, cr, "now", PAD_LEFT + pw, PAD + ph + PAD_BOTTOM / 2.0 + 2,
	    1);
}

static const struct point *
point_at(const struct chart *c, int i)
{
	return &c->pts[(c->head + i) % POINTS];
}

/* The points of the last ten minutes, as lines over a shaded area; a
 * gap where no reading came. */
static void
draw_series(const struct chart *c, cairo_t *cr, const GdkRGBA *accent,
    gint64 now, double pw, double ph, double ymax)
{
	const struct point *p, *last = NULL;
	double x, y, x0 = 0, xl = 0;
	int i, open = 0;

	cairo_set_line_width(cr, 2);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	for (i = 0; i <= c->count; i++) {
		p = i < c->count ? point_at(c, i) : NULL;
		if (p != NULL && now - p->at_ms > WINDOW_MS)
			continue;
		if (open && (p == NULL || p->at_ms - last->at_ms > GAP_MS)) {
			cairo_path_t *path = cairo_copy_path(cr);

			set_colour(cr, accent, 1);
			cairo_stroke(cr);
			cairo_append_path(cr, path);
			cairo_path_destroy(path);
			cairo_line_to(cr, xl, PAD + ph);
			cairo_line_to(cr, x0, PAD + ph);
			cairo_close_path(cr);
			set_colour(cr, accent, 0.22);
			cairo_fill(cr);
			open = 0;
		}
		if (p == NULL)
			break;
		x = PAD_LEFT + pw * (1 - (double)(now - p->at_ms) / WINDOW_MS);
		y = PAD + ph * (1 - MIN(p->v, ymax) / ymax);
		if (!open) {
			cairo_move_to(cr, x, y);
			x0 = x;
			open = 1;
		} else
			cairo_line_to(cr, x, y);
		xl = x;
		last = p;
	}
}

static void
draw_chart(GtkDrawingArea *a, cairo_t *cr, int w, int h, gpointer data)
{
	struct chart *c = data;
	GtkWidget *wd = GTK_WIDGET(a);
	gint64 now = g_get_monotonic_time() / 1000;
	double pw = w - PAD_LEFT - PAD, ph = h - PAD - PAD_BOTTOM, max = 0;
	GdkRGBA fg, accent;
	int i, shown = 0;

	if (pw < 10 || ph < 10)
		return;
	colours(wd, &fg, &accent);
	for (i = 0; i < c->count; i++)
		if (now - point_at(c, i)->at_ms <= WINDOW_MS) {
			max = MAX(max, point_at(c, i)->v);
			shown++;
		}
	draw_grid(wd, cr, &fg, pw, ph, nice_ceiling(max));
	draw_series(c, cr, &accent, now, pw, ph, nice_ceiling(max));
	if (shown == 0) {
		set_colour(cr, &fg, 0.6);
		text_at(wd, cr, c->missing ? c->def->missing : "Waiting for "
		    "the daemon's figures…", PAD_LEFT + pw / 2, PAD + ph / 2,
		    0.5);
	}
	gui_trace(c->g, "chart", "%s points=%d last=%.1f max=%.1f ymax=%.0f "
	    "fg=#%02x%02x%02x line=#%02x%02x%02x", c->def->key, shown,
	    c->count > 0 ? point_at(c, c->count - 1)->v : 0.0, max,
	    nice_ceiling(max), (int)(fg.red * 255), (int)(fg.green * 255),
	    (int)(fg.blue * 255), (int)(accent.red * 255),
	    (int)(accent.green * 255), (int)(accent.blue * 255));
}

/* ---- the figures -------------------------------------------------------- */

static void
chart_add(struct chart *c, gint64 at_ms, double v)
{
	if (c->count == POINTS) {
		c->head = (c->head + 1) % POINTS;
		c->count--;
	}
	c->pts[(c->head + c->count) % POINTS].at_ms = at_ms;
	c->pts[(c->head + c->count) % POINTS].v = v;
	c->count++;
}

/* Chart I's number and caption from reading CUR; its figure appended to
 * TRACE. */
static void
chart_update(struct dashboard *d, int i, const struct stats_reading *cur,
    GString *trace)
{
	struct chart *c = &d->charts[i];
	char num[32], *text;
	double v, cap;
	int have;

	have = stats_figure(d->have_prev ? &d->prev : NULL, cur, 2 * i,
	    c->def->kind, &v) == 0;
	c->missing = !cur->have[2 * i];
	if (have) {
		chart_add(c, cur->at_ms, v);
		stats_format(v, num, sizeof(num));
		text = g_strconcat(num, c->def->unit, NULL);
		gtk_label_set_text(c->value, text);
		g_free(text);
		g_string_append_printf(trace, " %s=%.1f", c->def->key, v);
	} else {
		gtk_label_set_text(c->value, "–");
		g_string_append_printf(trace, " %s=-", c->def->key);
	}
	if (stats_figure(NULL, cur, 2 * i + 1, STATS_GAUGE, &cap) == 0) {
		snprintf(num, sizeof(num), "%.0f", cap);
		text = g_strconcat(num, c->def->caption, NULL);
		gtk_label_set_text(c->caption, text);
		g_free(text);
		g_string_append_printf(trace, " %s.caption=%s", c->def->key,
		    num);
	} else
		gtk_label_set_text(c->caption, c->missing && c->def->missing ?
		    c->def->missing : "");
	gtk_widget_queue_draw(c->area);
}

/* The daemon refused /stats (REPLY): say why instead of empty charts. */
static void
refused(struct gui *g, const struct net_event *ev)
{
	const char *t = ev->text != NULL ? ev->text : "", *hint;
	char *text, *why;

	hint = strstr(t, "needs a logged-in user: ");
	if (hint != NULL)
		text = g_strdup_printf("The dashboard needs a logged-in user: "
		    "the daemon shows its figures to readers and admins only.  "
		    "This one has no users: %s.", hint + 24);
	else if (ev->reply == PROTO_ERR_PERMISSION ||
	    ev->reply == PROTO_ERR_AUTH_REQUIRED)
		text = g_strdup("The dashboard needs a logged-in user: the "
		    "daemon shows its figures to readers and admins only.  "
		    "Disconnect, then connect with a user name.");
	else {
		why = replies_error(t);
		text = g_strdup_printf("The daemon's figures cannot be shown: "
		    "%s", why);
		g_free(why);
	}
	gtk_label_set_text(g->dash->notice, text);
	gtk_stack_set_visible_child_name(g->dash->stack, "notice");
	gui_trace(g, "dashboard-unavailable", "%s", text);
	g_free(text);
}

void
dashboard_stats(struct gui *g, const struct net_event *ev)
{
	struct dashboard *d = g->dash;
	const char *names[2 * NCHARTS];
	struct stats_reading cur;
	GString *trace;
	guint i;

	if (d == NULL)
		return;
	if (ev->reply != PROTO_OK) {
		refused(g, ev);
		return;
	}
	for (i = 0; i < NCHARTS; i++) {
		names[2 * i] = defs[i].metric;
		names[2 * i + 1] = defs[i].caption_metric;
	}
	if (stats_read(ev->lines, names, 2 * NCHARTS, ev->at_ms, &cur) == -1) {
		gui_trace(g, "dashboard-unreadable", "%s", ev->text);
		return;
	}
	gtk_stack_set_visible_child_name(d->stack, "charts");
	trace = g_string_new(NULL);
	if (d->have_prev && stats_restarted(&d->prev, &cur))
		g_string_append(trace, " restarted=1");
	for (i = 0; i < NCHARTS; i++)
		chart_update(d, (int)i, &cur, trace);
	d->prev = cur;
	d->have_prev = 1;
	gui_trace(g, "dashboard", "%s", trace->str + 1);
	g_string_free(trace, TRUE);
}

void
dashboard_clear(struct gui *g)
{
	struct dashboard *d = g->dash;
	guint i;

	if (d == NULL)
		return;
	d->have_prev = 0;
	for (i = 0; i < NCHARTS; i++) {
		d->charts[i].count = d->charts[i].head = 0;
		d->charts[i].missing = 0;
		gtk_label_set_text(d->charts[i].value, "–");
		gtk_label_set_text(d->charts[i].caption, "");
		gtk_widget_queue_draw(d->charts[i].area);
	}
	gtk_stack_set_visible_child_name(d->stack, "charts");
}

/* ---- the tab ------------------------------------------------------------ */

/* Chart I: its title and drawing over the number and its caption. */
static void
chart_new(struct gui *g, GtkGrid *grid, int i)
{
	struct chart *c = &g->dash->charts[i];
	GtkWidget *title, *side;

	c->def = &defs[i];
	c->g = g;
	title = gtk_label_new(c->def->title);
	gtk_label_set_xalign(GTK_LABEL(title), 0);
	gtk_widget_add_css_class(title, "heading");
	gtk_grid_attach(grid, title, 0, 2 * i, 1, 1);
	c->area = gtk_drawing_area_new();
	gtk_widget_add_css_class(c->area, "afk-chart");
	gtk_widget_set_hexpand(c->area, TRUE);
	gtk_widget_set_vexpand(c->area, TRUE);
	gtk_widget_set_size_request(c->area, 240, 70);
	gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(c->area), draw_chart,
	    c, NULL);
	gtk_grid_attach(grid, c->area, 0, 2 * i + 1, 1, 1);
	side = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
	gtk_widget_set_valign(side, GTK_ALIGN_CENTER);
	gtk_widget_set_size_request(side, 170, -1);
	c->value = GTK_LABEL(gtk_label_new("–"));
	gtk_widget_add_css_class(GTK_WIDGET(c->value), "afk-dash-value");
	gtk_label_set_xalign(c->value, 0);
	c->caption = GTK_LABEL(gtk_label_new(NULL));
	gtk_widget_add_css_class(GTK_WIDGET(c->caption), "afk-dash-caption");
	gtk_label_set_xalign(c->caption, 0);
	gtk_label_set_wrap(c->caption, TRUE);
	gtk_box_append(GTK_BOX(side), GTK_WIDGET(c->value));
	gtk_box_append(GTK_BOX(side), GTK_WIDGET(c->caption));
	gtk_grid_attach(grid, side, 1, 2 * i + 1, 1, 1);
}

static void
on_destroy(GtkWidget *w, gpointer data)
{
	struct gui *g = data;

	(void)w;
	g_clear_pointer(&g->dash, g_free);
}

GtkWidget *
dashboard_new(struct gui *g)
{
	GtkWidget *grid = gtk_grid_new();
	guint i;

	g->dash = g_new0(struct dashboard, 1);
	g->dash->stack = GTK_STACK(gtk_stack_new());
	gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
	gtk_grid_set_column_spacing(GTK_GRID(grid), 16);
	gtk_widget_set_margin_start(grid, 12);
	gtk_widget_set_margin_end(grid, 12);
	gtk_widget_set_margin_top(grid, 8);
	gtk_widget_set_margin_bottom(grid, 8);
	for (i = 0; i < NCHARTS; i++)
		chart_new(g, GTK_GRID(grid), (int)i);
	gtk_stack_add_named(g->dash->stack, grid, "charts");
	g->dash->notice = GTK_LABEL(gtk_label_new(NULL));
	gtk_label_set_wrap(g->dash->notice, TRUE);
	gtk_label_set_max_width_chars(g->dash->notice, 60);
	gtk_label_set_justify(g->dash->notice, GTK_JUSTIFY_CENTER);
	gtk_stack_add_named(g->dash->stack, GTK_WIDGET(g->dash->notice),
	    "notice");
	g_signal_connect(g->dash->stack, "destroy", G_CALLBACK(on_destroy),
	    g);
	return GTK_WIDGET(g->dash->stack);
}

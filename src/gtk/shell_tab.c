/* Ben_AFK-gtk: the terminal tab: a VTE widget relayed to /shell frames
 * (docs/PROTOCOL.md, section 7) of a session of its own.  VTE needs no
 * local pty here: the daemon's bytes are fed to the widget, and what the
 * user types comes back through its "commit" signal. */
#include <string.h>

#include "gtk/gui.h"

#define SIZE_CHECK_MS	300

static void
info(struct gui *g, const char *text, int can_open)
{
	gtk_label_set_text(g->term_info, text);
	gtk_widget_set_visible(g->term_button, can_open);
	gui_trace(g, "shell", "%s", text);
}

/* The widget's size changed: tell the daemon ('w' frame). */
static gboolean
check_size(gpointer data)
{
	struct gui *g = data;
	unsigned char ws[4];
	int rows = (int)vte_terminal_get_row_count(g->term);
	int cols = (int)vte_terminal_get_column_count(g->term);

	if (g->shell == NULL || (rows == g->rows && cols == g->cols))
		return G_SOURCE_CONTINUE;
	g->rows = rows;
	g->cols = cols;
	ws[0] = (unsigned char)(rows >> 8);
	ws[1] = (unsigned char)rows;
	ws[2] = (unsigned char)(cols >> 8);
	ws[3] = (unsigned char)cols;
	net_send_frame(g->shell, 'w', ws, sizeof(ws));
	return G_SOURCE_CONTINUE;
}

static void
shell_event(const struct net_event *ev, void *arg)
{
	struct gui *g = arg;
	const void *data;
	gsize len;
	char *msg;

	switch (ev->kind) {
	case NET_EV_READY:
		info(g, "Remote shell: type exit to end it.", 0);
		gtk_widget_grab_focus(GTK_WIDGET(g->term));
		g->size_timer = g_timeout_add(SIZE_CHECK_MS, check_size, g);
		break;
	case NET_EV_DATA:
		data = g_bytes_get_data(ev->data, &len);
		vte_terminal_feed(g->term, data, (gssize)len);
		break;
	case NET_EV_EXIT:
		msg = g_strdup_printf("The shell exited with status %d.",
		    ev->status);
		shell_tab_close(g);
		info(g, msg, 1);
		g_free(msg);
		break;
	default:
		msg = g_strdup_printf("Remote shell: %s", ev->text ? ev->text :
		    "failed");
		shell_tab_close(g);
		info(g, msg, 1);
		g_free(msg);
	}
}

static void
on_commit(VteTerminal *t, const char *text, guint size, gpointer data)
{
	struct gui *g = data;

	(void)t;
	if (g->shell != NULL && size > 0)
		net_send_frame(g->shell, 'd', text, size);
}

void
shell_tab_open(struct gui *g)
{
	struct net_params p;

	if (g->shell != NULL || !g->shell_ok)
		return;
	net_params_copy(&p, &g->params);
	p.rows = g->rows = (int)vte_terminal_get_row_count(g->term);
	p.cols = g->cols = (int)vte_terminal_get_column_count(g->term);
	g->shell_tried = 1;
	vte_terminal_reset(g->term, TRUE, TRUE);
	info(g, "Opening a remote shell…", 0);
	g->shell = net_attach(g->cmd, NET_SHELL, &p, shell_event, g);
	net_params_clear(&p);
}

void
shell_tab_close(struct gui *g)
{
	if (g->size_timer != 0)
		g_source_remove(g->size_timer);
	g->size_timer = 0;
	net_stop(g->shell);
	g->shell = NULL;
	if (g->term_info != NULL)
		gtk_widget_set_visible(g->term_button, g->shell_ok);
}

void
shell_tab_allow(struct gui *g, int allowed, const char *why)
{
	g->shell_tried = 0;
	gtk_widget_set_sensitive(g->term_page, allowed);
	gtk_widget_set_sensitive(g->term_tab_label, allowed);
	gtk_widget_set_tooltip_text(g->term_tab_label, allowed ?
	    "A shell on the daemon's host (/shell)" : why);
	if (!allowed) {
		if (gtk_notebook_get_current_page(g->notebook) == 1)
			gtk_notebook_set_current_page(g->notebook, 0);
		info(g, why, 0);
	} else
		info(g, "Remote shell available.", 1);
}

static void
on_switch_page(GtkNotebook *nb, GtkWidget *page, guint num, gpointer data)
{
	struct gui *g = data;

	(void)nb;
	(void)num;
	if (page == g->term_page && g->shell_ok && g->shell == NULL &&
	    !g->shell_tried)
		shell_tab_open(g);
}

static void
on_open(GtkButton *b, gpointer data)
{
	(void)b;
	shell_tab_open(data);
}

GtkWidget *
shell_tab_new(struct gui *g)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);

	g->term_info = GTK_LABEL(gtk_label_new(NULL));
	gtk_label_set_xalign(g->term_info, 0);
	gtk_widget_set_hexpand(GTK_WIDGET(g->term_info), TRUE);
	gtk_box_append(GTK_BOX(bar), GTK_WIDGET(g->term_info));
	g->term_button = gtk_button_new_with_mnemonic("_Open a shell");
	g_signal_connect(g->term_button, "clicked", G_CALLBACK(on_open), g);
	gtk_box_append(GTK_BOX(bar), g->term_button);
	gtk_widget_set_margin_start(bar, 6);
	gtk_widget_set_margin_end(bar, 6);
	gtk_box_append(GTK_BOX(box), bar);

	g->term = VTE_TERMINAL(vte_terminal_new());
	vte_terminal_set_scrollback_lines(g->term, 5000);
	gtk_widget_set_vexpand(GTK_WIDGET(g->term), TRUE);
	gtk_widget_set_hexpand(GTK_WIDGET(g->term), TRUE);
	g_signal_connect(g->term, "commit", G_CALLBACK(on_commit), g);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(g->term));
	g->term_page = box;
	g_signal_connect(g->notebook, "switch-page",
	    G_CALLBACK(on_switch_page), g);
	return box;
}

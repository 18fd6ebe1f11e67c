/* Ben_AFK-gtk: the graphical client of Matt_daemon: command line, the
 * window with its connect and session views. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/options.h"
#include "gtk/gui.h"

#ifndef MD_VERSION
#define MD_VERSION "dev"
#endif

#define PASSWORD_MAX	1024
#define OPT_HISTORY	AFK_OPT_OWN

static const char css[] =
	".afk-error { color: #c01c28; font-weight: bold; }\n"
	".afk-log { font-family: monospace; }\n"
	".afk-log row { padding: 1px 6px; }\n"
	".afk-filter-bar { padding: 4px 6px; border-bottom: 1px solid "
	"alpha(currentColor, 0.12); }\n"
	".afk-level { padding: 2px 8px; min-height: 0; font-size: smaller; }\n"
	".afk-toast { padding: 6px 6px 6px 14px; border-radius: 12px; "
	"background: alpha(#303030, 0.92); color: white; }\n"
	".afk-toast button { color: white; }\n"
	".afk-banner { padding: 6px 10px; background: #dbe8f7; }\n"
	".afk-banner-error { background: #f6d5d7; color: #7a0c14; }\n"
	".afk-status { padding: 4px 8px; border-top: 1px solid alpha(black,"
	" 0.15); font-size: smaller; }\n"
	".afk-chart { font-size: smaller; }\n"
	".afk-dash-value { font-size: x-large; font-weight: bold; }\n"
	".afk-dash-caption { opacity: 0.75; font-size: smaller; }\n";

static const char synopsis[] =
    "usage: Ben_AFK-gtk [-hV] [-H host] [-i keyfile] [-p port] "
    "[-S socket] [-t seconds] [-u user] [--history records] "
    "[--known-hosts file] [--password-file file] [--plaintext-password] "
    "[--tls]\n";

static void __attribute__((noreturn))
usage(FILE *fp, int status)
{
	fputs(synopsis, fp);
	fprintf(fp,
	    "\n"
	    "  -H, --host HOST          daemon host (default 127.0.0.1)\n"
	    "  -h, --help               show this help and exit\n"
	    "  -i, --identity KEYFILE   log in with this private key "
	    "(implies --tls)\n"
	    "  -p, --port PORT          daemon port (default 4242)\n"
	    "  -S, --socket PATH        the daemon's local socket (default,\n"
	    "                           with no -H, -p, -u, -i, --tls:\n"
	    "                           " AFK_LOCAL_SOCKET " if there)\n"
	    "  -t, --timeout SECONDS    connect, handshake and reply timeout "
	    "(default 30)\n"
	    "  -u, --user USER          log in as USER (password, or key "
	    "with -i)\n"
	    "  -V, --version            show the version and exit\n"
	    "      --history RECORDS    records the log view keeps (default "
	    "50000,\n"
	    "                           100 to 1000000)\n"
	    "      --known-hosts FILE   pinned server fingerprints (default\n"
	    "                           ~/.config/ben_afk/known_hosts)\n"
	    "      --password-file FILE read the password from FILE\n"
	    "      --plaintext-password allow sending a password without TLS\n"
	    "      --tls                talk TLS (the server is pinned on "
	    "first use)\n"
	    "\n"
	    "The graphical client of Matt_daemon.  With -H, -p, -S, --tls, "
	    "-u or -i,\nor the daemon's local socket there, it connects at "
	    "once.\nSee Ben_AFK-gtk(1).\n");
	exit(status);
}

void
gui_trace(struct gui *g, const char *what, const char *fmt, ...)
{
	va_list ap;
	char *text, *p;

	if (!g->trace)
		return;
	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			*p = '|';
	printf("gtk: %s %s\n", what, text);
	fflush(stdout);
	g_free(text);
}

/* --history RECORDS, or the usage when out of range. */
static void
history_option(struct gui *g, const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || n < HISTORY_MIN ||
	    n > HISTORY_MAX) {
		fprintf(stderr, "Ben_AFK-gtk: bad history: %s (%d to %d "
		    "records)\n", arg, HISTORY_MIN, HISTORY_MAX);
		usage(stderr, AFK_EXIT_USAGE);
	}
	g->history = (guint)n;
}

/* The password of --password-file or $BEN_AFK_PASSWORD, or NULL. */
static char *
read_password(const struct afk_options *o)
{
	char buf[PASSWORD_MAX], *pass;

	if (afk_given_password(o, buf, sizeof(buf)) != 1)
		return NULL;
	pass = g_strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return pass;
}

struct start {
	struct gui	*g;
	struct afk_options *o;
};

/* Our few styles, for the whole display. */
static void
load_css(void)
{
	GtkCssProvider *provider = gtk_css_provider_new();

	gtk_css_provider_load_from_data(provider, css, -1);
	gtk_style_context_add_provider_for_display(gdk_display_get_default(),
	    GTK_STYLE_PROVIDER(provider),
	    GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(provider);
}

/* Fill the connect view from the command line, password included. */
static void
prefill(struct gui *g, const struct afk_options *o)
{
	char *pass;

	connect_view_fill(g, o->host, o->port, o->tls, o->user, o->keyfile);
	pass = read_password(o);
	if (pass != NULL) {
		gtk_editable_set_text(GTK_EDITABLE(g->password), pass);
		explicit_bzero(pass, strlen(pass));
		g_free(pass);
	}
}

static void
activate(GtkApplication *app, gpointer data)
{
	struct start *s = data;
	struct gui *g = s->g;
	struct afk_options *o = s->o;

	if (g->win != NULL) {
		gtk_window_present(g->win);
		return;
	}
	load_css();
	g->win = GTK_WINDOW(gtk_application_window_new(app));
	gtk_window_set_title(g->win, "Ben_AFK");
	gtk_window_set_default_size(g->win, 1000, 640);
	gtk_window_set_icon_name(g->win, "ben-afk-gtk");
	menu_actions(g);

	g->stack = GTK_STACK(gtk_stack_new());
	gtk_stack_add_named(g->stack, connect_view_new(g), "connect");
	gtk_stack_add_named(g->stack, session_view_new(g), "session");
	gtk_window_set_child(g->win, GTK_WIDGET(g->stack));
	gtk_window_set_titlebar(g->win, menu_header_bar(g));
	session_update_actions(g);
	gtk_window_set_default_widget(g->win, g->connect_button);
	session_actions(g);

	prefill(g, o);
	gtk_window_present(g->win);
	gui_trace(g, "window", "%s", "connect");
	if (o->named) {	/* a server was named: connect now */
		if (o->user != NULL && o->keyfile == NULL &&
		    *gtk_editable_get_text(GTK_EDITABLE(g->password)) == '\0') {
			gtk_widget_grab_focus(g->password);
			gui_trace(g, "password-needed", "%s", o->user);
		} else
			connect_view_connect(g);
	} else
		gtk_widget_grab_focus(GTK_WIDGET(g->host));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		AFK_LONG_OPTIONS,
		{ "history", required_argument, NULL, OPT_HISTORY },
		{ NULL, 0, NULL, 0 }
	};
	static struct gui g;
	struct afk_options o;
	struct start s = { &g, &o };
	const char *trace = getenv("BEN_AFK_GTK_TRACE");
	char err[128];
	int ch, rc;

	afk_options_init(&o);
	g.history = HISTORY_DEFAULT;
	g.trace = trace != NULL && *trace != '\0' && strcmp(trace, "0") != 0;
	while ((ch = getopt_long(argc, argv, AFK_SHORT_OPTIONS, opts, NULL)) !=
	    -1) {
		if ((rc = afk_option(&o, ch, optarg, err, sizeof(err))) == -1)
			afk_usage_error("Ben_AFK-gtk", synopsis, "%s", err);
		if (rc == 1)
			continue;
		if (ch == OPT_HISTORY) {
			history_option(&g, optarg);
			continue;
		}
		if (ch == 'h')
			usage(stdout, AFK_EXIT_OK);
		if (ch != 'V')
			afk_bad_option("Ben_AFK-gtk", synopsis, ch, argv);
		printf("Ben_AFK-gtk %s\n", MD_VERSION);
		return AFK_EXIT_OK;
	}
	if (optind != argc)
		afk_usage_error("Ben_AFK-gtk", synopsis, "unexpected argument "
		    "'%s'", argv[optind]);
	/* No server named: the daemon's local socket, when it is there. */
	if (afk_local_socket(&o) != NULL) {
		o.host = afk_local_socket(&o);
		o.tls = 0;
		o.named = 1;
	}
	g.known_hosts = o.known_hosts;
	g.plaintext = o.plaintext;
	g.timeout_ms = o.timeout_ms;
	if (o.password_file != NULL && access(o.password_file, R_OK) == -1) {
		fprintf(stderr, "Ben_AFK-gtk: %s: %s\n", o.password_file,
		    strerror(errno));
		return AFK_EXIT_USAGE;
	}
	/* A vanished daemon is an error to show, not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);
	g.app = gtk_application_new("org.matt_daemon.BenAFK",
	    G_APPLICATION_NON_UNIQUE);
	g_signal_connect(g.app, "activate", G_CALLBACK(activate), &s);
	rc = g_application_run(G_APPLICATION(g.app), 1, argv);
	net_stop(g.shell);
	net_stop(g.follow);
	net_stop(g.cmd);
	g_object_unref(g.app);
	return rc;
}

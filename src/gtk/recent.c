/* Ben_AFK-gtk: the recent servers file, one server a line:
 * HOST TAB PORT TAB tls|plain TAB USER TAB KEYFILE. */
#include <string.h>

#include "client/afk.h"
#include "gtk/recent.h"

static char *
recent_path(void)
{
	char path[4096];

	if (known_hosts_default(path, sizeof(path), "recent_servers") == -1)
		return NULL;
	return g_strdup(path);
}

void
recent_free(gpointer data)
{
	struct recent *r = data;

	g_free(r->host);
	g_free(r->port);
	g_free(r->user);
	g_free(r->keyfile);
	g_free(r);
}

static int
same(const struct recent *a, const struct recent *b)
{
	return strcmp(a->host, b->host) == 0 &&
	    strcmp(a->port, b->port) == 0 && a->tls == b->tls &&
	    strcmp(a->user, b->user) == 0 &&
	    strcmp(a->keyfile, b->keyfile) == 0;
}

GPtrArray *
recent_load(void)
{
	GPtrArray *list = g_ptr_array_new_with_free_func(recent_free);
	char *path = recent_path(), *text = NULL, **lines, **f;
	struct recent *r;
	size_t i;

	if (path == NULL || !g_file_get_contents(path, &text, NULL, NULL)) {
		g_free(path);
		return list;
	}
	lines = g_strsplit(text, "\n", -1);
	for (i = 0; lines[i] != NULL && list->len < RECENT_MAX; i++) {
		f = g_strsplit(lines[i], "\t", 5);
		if (g_strv_length(f) == 5 && *f[0] != '\0' && *f[1] != '\0') {
			r = g_new0(struct recent, 1);
			r->host = g_strdup(f[0]);
			r->port = g_strdup(f[1]);
			r->tls = strcmp(f[2], "tls") == 0;
			r->user = g_strdup(f[3]);
			r->keyfile = g_strdup(f[4]);
			g_ptr_array_add(list, r);
		}
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_free(text);
	g_free(path);
	return list;
}

int
recent_add(const struct recent *add)
{
	GPtrArray *list = recent_load();
	GString *s = g_string_new(NULL);
	char *path = recent_path();
	const struct recent *r;
	guint i, n = 1;
	int rc = -1;

	g_string_append_printf(s, "%s\t%s\t%s\t%s\t%s\n", add->host, add->port,
	    add->tls ? "tls" : "plain", add->user, add->keyfile);
	for (i = 0; i < list->len && n < RECENT_MAX; i++) {
		r = g_ptr_array_index(list, i);
		if (same(r, add))
			continue;
		g_string_append_printf(s, "%s\t%s\t%s\t%s\t%s\n", r->host,
		    r->port, r->tls ? "tls" : "plain", r->user, r->keyfile);
		n++;
	}
	if (path != NULL && known_hosts_mkdirs(path) == 0 &&
	    g_file_set_contents_full(path, s->str, (gssize)s->len,
	    G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL))
		rc = 0;
	g_free(path);
	g_string_free(s, TRUE);
	g_ptr_array_unref(list);
	return rc;
}

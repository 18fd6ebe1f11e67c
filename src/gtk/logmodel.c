/* Ben_AFK-gtk: the log's records as a GListModel, a ring that never holds
 * more than the history limit: the oldest records are dropped first. */
#include <string.h>

#include "gtk/logmodel.h"

struct _AfkRecord {
	GObject	 parent;
	char	*text;
	int	 level;		/* an index in the view's level table, or -1 */
};

G_DEFINE_TYPE(AfkRecord, afk_record, G_TYPE_OBJECT)

static void
afk_record_finalize(GObject *o)
{
	g_free(AFK_RECORD(o)->text);
	G_OBJECT_CLASS(afk_record_parent_class)->finalize(o);
}

static void
afk_record_class_init(AfkRecordClass *c)
{
	G_OBJECT_CLASS(c)->finalize = afk_record_finalize;
}

static void
afk_record_init(AfkRecord *r)
{
	r->level = -1;
}

const char *
logmodel_record_text(AfkRecord *r)
{
	return r->text;
}

int
logmodel_record_level(AfkRecord *r)
{
	return r->level;
}

/* ---- the ring ----------------------------------------------------------- */

struct _AfkLogModel {
	GObject		  parent;
	AfkRecord	**ring;
	guint		  cap, head, len;
	GQueue		  pending;	/* AfkRecord: appended, not yet shown */
};

static void	list_iface_init(GListModelInterface *iface);

G_DEFINE_TYPE_WITH_CODE(AfkLogModel, afk_log_model, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, list_iface_init))

static GType
get_item_type(GListModel *l)
{
	(void)l;
	return AFK_TYPE_RECORD;
}

static guint
get_n_items(GListModel *l)
{
	return AFK_LOG_MODEL(l)->len;
}

static gpointer
get_item(GListModel *l, guint pos)
{
	AfkLogModel *m = AFK_LOG_MODEL(l);

	if (pos >= m->len)
		return NULL;
	return g_object_ref(m->ring[(m->head + pos) % m->cap]);
}

static void
list_iface_init(GListModelInterface *iface)
{
	iface->get_item_type = get_item_type;
	iface->get_n_items = get_n_items;
	iface->get_item = get_item;
}

static void
afk_log_model_finalize(GObject *o)
{
	AfkLogModel *m = AFK_LOG_MODEL(o);
	guint i;

	for (i = 0; i < m->len; i++)
		g_object_unref(m->ring[(m->head + i) % m->cap]);
	g_free(m->ring);
	g_queue_clear_full(&m->pending, g_object_unref);
	G_OBJECT_CLASS(afk_log_model_parent_class)->finalize(o);
}

static void
afk_log_model_class_init(AfkLogModelClass *c)
{
	G_OBJECT_CLASS(c)->finalize = afk_log_model_finalize;
}

static void
afk_log_model_init(AfkLogModel *m)
{
	g_queue_init(&m->pending);
}

AfkLogModel *
logmodel_new(guint cap)
{
	AfkLogModel *m = g_object_new(AFK_TYPE_LOG_MODEL, NULL);

	m->cap = cap > 0 ? cap : 1;
	m->ring = g_new0(AfkRecord *, m->cap);
	return m;
}

void
logmodel_append(AfkLogModel *m, const char *text, int level)
{
	AfkRecord *r = g_object_new(AFK_TYPE_RECORD, NULL);

	r->text = g_strdup(text);
	r->level = level;
	g_queue_push_tail(&m->pending, r);
	if (m->pending.length > m->cap)	/* never more than would be shown */
		g_object_unref(g_queue_pop_head(&m->pending));
}

guint
logmodel_pending(AfkLogModel *m)
{
	return m->pending.length;
}

/* Drop the K oldest shown records, then tell the views: the model is
 * consistent at each signal. */
static void
drop_oldest(AfkLogModel *m, guint k)
{
	guint i;

	for (i = 0; i < k; i++) {
		g_object_unref(m->ring[m->head]);
		m->ring[m->head] = NULL;
		m->head = (m->head + 1) % m->cap;
	}
	m->len -= k;
	g_list_model_items_changed(G_LIST_MODEL(m), 0, k, 0);
}

guint
logmodel_flush(AfkLogModel *m)
{
	guint added = m->pending.length, over, start;

	if (added == 0)
		return 0;
	over = m->len + added > m->cap ? m->len + added - m->cap : 0;
	if (over > 0)
		drop_oldest(m, over);
	start = m->len;
	while (m->pending.length > 0) {
		m->ring[(m->head + m->len) % m->cap] =
		    g_queue_pop_head(&m->pending);
		m->len++;
	}
	g_list_model_items_changed(G_LIST_MODEL(m), start, 0, added);
	return added;
}

void
logmodel_clear(AfkLogModel *m)
{
	guint n = m->len, i;

	g_queue_clear_full(&m->pending, g_object_unref);
	g_queue_init(&m->pending);
	for (i = 0; i < n; i++) {
		g_object_unref(m->ring[(m->head + i) % m->cap]);
		m->ring[(m->head + i) % m->cap] = NULL;
	}
	m->head = 0;
	m->len = 0;
	if (n > 0)
		g_list_model_items_changed(G_LIST_MODEL(m), 0, n, 0);
}

AfkRecord *
logmodel_nth(AfkLogModel *m, guint pos)
{
	return pos < m->len ? m->ring[(m->head + pos) % m->cap] : NULL;
}

guint
logmodel_capacity(AfkLogModel *m)
{
	return m->cap;
}

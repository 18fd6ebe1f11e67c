/* Ben_AFK-gtk: the log's records (AfkRecord) in a bounded ring model
 * (AfkLogModel, a GListModel).  GLib only. */
#ifndef GTK_LOGMODEL_H
#define GTK_LOGMODEL_H

#include <gio/gio.h>

#define AFK_TYPE_RECORD		(afk_record_get_type())
G_DECLARE_FINAL_TYPE(AfkRecord, afk_record, AFK, RECORD, GObject)

#define AFK_TYPE_LOG_MODEL	(afk_log_model_get_type())
G_DECLARE_FINAL_TYPE(AfkLogModel, afk_log_model, AFK, LOG_MODEL, GObject)

const char	*logmodel_record_text(AfkRecord *r);
int		 logmodel_record_level(AfkRecord *r);

/* A model that shows at most CAP records. */
AfkLogModel	*logmodel_new(guint cap);

/* Queue a record; it is shown at the next logmodel_flush().  The queue
 * keeps at most CAP records too. */
void		 logmodel_append(AfkLogModel *m, const char *text, int level);

/* Records queued and not shown yet. */
guint		 logmodel_pending(AfkLogModel *m);

/* Show the queued records, dropping the oldest beyond CAP: how many were
 * added. */
guint		 logmodel_flush(AfkLogModel *m);

void		 logmodel_clear(AfkLogModel *m);

/* The record shown at POS, not referenced (valid until the next flush or
 * clear), or NULL. */
AfkRecord	*logmodel_nth(AfkLogModel *m, guint pos);
guint		 logmodel_capacity(AfkLogModel *m);

#endif /* GTK_LOGMODEL_H */

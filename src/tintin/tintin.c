/*
 * Tintin_reporter: formats log records into its sinks' buffers (text or
 * JSON, with a cached timestamp), hands them to hooks and forwarders, and
 * logs its own events; tintin_sink.c writes the buffers out, one write(2)
 * per sink per flush.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tintin/tintin.h"
#include "tintin/tintin_int.h"
#include "tintin/tintin_syslog.h"
#include "tintin/tintin_time.h"

static const char *const level_names[TINTIN_NLEVELS] = {
	"DEBUG", "INFO", "LOG", "WARN", "ERROR"
};

static const char *const level_lower[TINTIN_NLEVELS] = {
	"debug", "info", "log", "warn", "error"
};

const char *
tintin_level_name(int level)
{
	if (level < 0 || level >= TINTIN_NLEVELS)
		return NULL;
	return level_names[level];
}

int
tintin_level_parse(const char *s)
{
	int i;

	for (i = 0; i < TINTIN_NLEVELS; i++)	/* the first letters differ */
		if ((s[0] | 0x20) == (level_names[i][0] | 0x20) &&
		    strcasecmp(s, level_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return TINTIN_WARN;
	return -1;
}

Tintin_reporter *
tintin_create(const char *name)
{
	Tintin_reporter *r;
	int i, n;

	if (name == NULL || strlen(name) >= TINTIN_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	strcpy(r->name, name);
	for (i = 0; i < TINTIN_NLEVELS; i++) {
		n = snprintf(r->prefix[i], sizeof(r->prefix[i]),
		    " [ %s ] - %s: ", level_names[i], name);
		r->prefix_len[i] = (size_t)n;
	}
	r->min_level = TINTIN_NLEVELS;
	r->cached_sec = -1;
	return r;
}

void
tintin_free(Tintin_reporter *r)
{
	int i;

	if (r == NULL)
		return;
	r->rot.size = 0;	/* no rotation while closing */
	for (i = 0; i < r->nsinks; i++)
		tintin_sink_close(r, &r->sinks[i]);
	free(r);
}

void
tintin_get_stats(const Tintin_reporter *r, struct tintin_stats *st)
{
	*st = r->st;
}

void
tintin_set_buffered(Tintin_reporter *r, int on)
{
	r->buffered = on;
	if (!on)
		tintin_flush(r);
}

int
tintin_wants(const Tintin_reporter *r, int level)
{
	return level >= r->min_level && level < TINTIN_NLEVELS;
}

/* Refresh the cached "[dd/mm/yyyy-hh:mm:ss]" when the second changed. */
static void
refresh_stamp(Tintin_reporter *r, time_t now)
{
	struct tm tm;

	if (now == r->cached_sec)
		return;
	if (localtime_r(&now, &tm) != NULL)
		r->gmtoff = tm.tm_gmtoff;
	r->stamp[0] = '[';
	tintin_format_time(r->stamp + 1, (int64_t)now, r->gmtoff);
	r->stamp[20] = ']';
	r->stamp[21] = '\0';
	r->cached_sec = now;
}

/* Make room for NEED more bytes, flushing first in buffered mode. */
static int
sink_reserve(Tintin_reporter *r, struct sink *s, size_t need)
{
	char *nb;
	size_t ncap;

	/* Keep each file under the rotation size, cutting between records. */
	if (r->rot.size > 0 && s->owned &&
	    s->size + s->len + need > r->rot.size) {
		if (s->len > 0)
			tintin_sink_flush(r, s);
		if (s->size > 0 && s->size + need > r->rot.size)
			(void)tintin_rotate_sink(r, s, r->cached_sec);
	}
	if (s->len + need <= s->cap)
		return 0;
	tintin_sink_flush(r, s);
	if (need <= s->cap)
		return 0;
	ncap = need + 4096;
	if ((nb = realloc(s->buf, ncap)) == NULL)
		return -1;
	s->buf = nb;
	s->cap = ncap;
	return 0;
}

static size_t
json_escape(char *dst, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;
	char *d = dst;
	size_t i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)src[i];
		if (c == '"' || c == '\\') {
			*d++ = '\\';
			*d++ = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(d, "\\u00", 4);
			d[4] = hex[c >> 4];
			d[5] = hex[c & 15];
			d += 6;
		} else
			*d++ = (char)c;
	}
	return (size_t)(d - dst);
}

static int
sink_append_json(Tintin_reporter *r, struct sink *s, int level,
    const char *msg, size_t len)
{
	struct timespec ts;
	char iso[32], *p;
	size_t need;

	clock_gettime(CLOCK_REALTIME, &ts);
	refresh_stamp(r, ts.tv_sec);
	tintin_format_iso(iso, (int64_t)ts.tv_sec, (int)(ts.tv_nsec / 1000000),
	    r->gmtoff);
	need = 96 + strlen(r->name) * 6 + len * 6;
	if (sink_reserve(r, s, need) == -1) {
		s->st.lost++;
		return -1;
	}
	p = s->buf + s->len;
	p += sprintf(p, "{\"time\":\"%s\",\"level\":\"%s\",\"program\":\"",
	    iso, level_lower[level]);
	p += json_escape(p, r->name, strlen(r->name));
	memcpy(p, "\",\"message\":\"", 13);
	p += 13;
	p += json_escape(p, msg, len);
	memcpy(p, "\"}\n", 3);
	p += 3;
	s->len = (size_t)(p - s->buf);
	s->pending++;
	return 0;
}

/* Write the stamp and LEVEL's prefix at P; returns where the message goes. */
static char *
put_head(const Tintin_reporter *r, char *p, int level)
{
	memcpy(p, r->stamp, 21);
	memcpy(p + 21, r->prefix[level], r->prefix_len[level]);
	return p + 21 + r->prefix_len[level];
}

static int
sink_append_text(Tintin_reporter *r, struct sink *s, int level,
    const char *msg, size_t len)
{
	size_t need = 21 + r->prefix_len[level] + len + 1;
	char *p;

	if (sink_reserve(r, s, need) == -1) {
		s->st.lost++;
		return -1;
	}
	p = put_head(r, s->buf + s->len, level);
	memcpy(p, msg, len);
	p[len] = '\n';
	/* Publish the record only once complete (see tintin_crash_log). */
	s->len += need;
	s->pending++;
	return 0;
}

/* Does sink S take records of LEVEL and CAT now? */
static int
sink_takes(const struct sink *s, int level, uint32_t cat)
{
	return level >= s->min_level && (s->cats & cat) != 0 &&
	    !s->disabled && !s->in_cb;
}

/* Queue a record for a forwarding sink; send it unless buffered. */
static void
sink_forward(Tintin_reporter *r, struct sink *s, int level,
    const struct timespec *ts, const char *msg, size_t len)
{
	(void)tintin_fwd_record(s->fwd, level, ts->tv_sec,
	    (int)(ts->tv_nsec / 1000000), r->gmtoff, msg, len, r->in_note);
	if (!r->buffered || tintin_fwd_backlog(s->fwd) >= TINTIN_THRESHOLD)
		tintin_fwd_flush(s->fwd);
}

int
tintin_log_msg(Tintin_reporter *r, int level, const char *msg, size_t len)
{
	return tintin_log_msg_cat(r, level, TINTIN_CAT_DEFAULT, msg, len);
}

int
tintin_log_msg_cat(Tintin_reporter *r, int level, uint32_t cat,
    const char *msg, size_t len)
{
	return tintin_log_msg_src(r, level, cat, NULL, msg, len);
}

int
tintin_log_msg_src(Tintin_reporter *r, int level, uint32_t cat,
    const void *source, const char *msg, size_t len)
{
	struct timespec ts;
	struct sink *s;
	int i, rc = 0;

	if (level < r->min_level || level >= TINTIN_NLEVELS)
		return 0;
	r->st.records[level]++;
	r->st.bytes[level] += len;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	refresh_stamp(r, ts.tv_sec);
	r->depth++;
	for (i = 0; i < r->nsinks; i++) {
		s = &r->sinks[i];
		if (!sink_takes(s, level, cat))
			continue;
		if (s->fwd != NULL) {
			sink_forward(r, s, level, &ts, msg, len);
			continue;
		}
		if (s->hook != NULL) {
			s->in_cb = 1;
			s->hook(s->cb_arg, level, cat, msg, len, source);
			s->in_cb = 0;
			continue;
		}
		if (s->fd < 0 && s->cb == NULL)
			continue;
		if (s->boundary != 0 && ts.tv_sec >= s->boundary)
			tintin_rotate_check_time(r, s, ts.tv_sec);
		if (s->format == TINTIN_JSON)
			rc |= sink_append_json(r, s, level, msg, len);
		else
			rc |= sink_append_text(r, s, level, msg, len);
		if (!r->buffered || s->len >= TINTIN_THRESHOLD)
			rc |= tintin_sink_flush(r, s);
	}
	r->depth--;
	if (r->depth == 0 && r->nnotes > 0)
		tintin_emit_notes(r);
	return rc ? -1 : 0;
}

/*
 * The sinks of a batch of LEVEL and CAT records: exactly one that writes
 * text (a file or a callback), then any hooks after it, called once the
 * record is in place as they would be after tintin_log_msg_cat() wrote
 * it.  A forwarder, a JSON sink or a hook before the writer: -1.
 */
static int
batch_sinks(Tintin_reporter *r, int level, uint32_t cat)
{
	struct sink *s, *one = NULL;
	int i;

	r->batch_nhooks = 0;
	for (i = 0; i < r->nsinks; i++) {
		s = &r->sinks[i];
		if (!sink_takes(s, level, cat))
			continue;
		if (s->hook != NULL && one != NULL) {
			r->batch_hooks[r->batch_nhooks++] = s;
			continue;
		}
		if (s->fwd == NULL && s->hook == NULL && s->fd < 0 &&
		    s->cb == NULL)
			continue;	/* closed: takes nothing */
		if (one != NULL || s->fwd != NULL || s->hook != NULL ||
		    s->format != TINTIN_TEXT)
			return -1;
		one = s;
	}
	r->batch = one;
	return one != NULL ? 0 : -1;
}

int
tintin_batch_begin(Tintin_reporter *r, int level, uint32_t cat)
{
	return tintin_batch_begin_src(r, level, cat, NULL);
}

int
tintin_batch_begin_src(Tintin_reporter *r, int level, uint32_t cat,
    const void *source)
{
	struct timespec ts;
	struct sink *s;

	r->batch = NULL;
	if (level < r->min_level || level >= TINTIN_NLEVELS ||
	    r->depth != 0 || r->nnotes != 0 ||
	    batch_sinks(r, level, cat) == -1)
		return -1;
	s = r->batch;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	refresh_stamp(r, ts.tv_sec);
	if (s->boundary != 0 && ts.tv_sec >= s->boundary) {
		tintin_rotate_check_time(r, s, ts.tv_sec);
		if (r->nnotes != 0) {
			r->batch = NULL;
			return -1;	/* they go after the next record */
		}
	}
	r->batch_level = level;
	r->batch_cat = cat;
	r->batch_source = source;
	r->batch_head = (size_t)(put_head(r, r->batch_headbuf, level) -
	    r->batch_headbuf);
	return 0;
}

/* Bytes of a record's head copied at once: a constant, so inlined. */
#define HEAD_COPY	64

char *
tintin_batch_next(Tintin_reporter *r, size_t max)
{
	struct sink *s = r->batch;
	size_t need = r->batch_head + max + 1;
	char *p;

	if (need < HEAD_COPY)
		need = HEAD_COPY;
	/*
	 * A note (a failed write, say) goes right after the record that
	 * caused it.  A record that may cross the rotation size goes the
	 * usual way, which cuts the file at its exact length.
	 */
	if (r->nnotes != 0 || (r->rot.size > 0 && s->owned &&
	    s->size + s->len + need > r->rot.size))
		return NULL;
	if (s->len + need > s->cap && sink_reserve(r, s, need) == -1)
		return NULL;
	p = s->buf + s->len;
	/* What the copy puts past the head, the message overwrites. */
	if (r->batch_head <= HEAD_COPY)
		memcpy(p, r->batch_headbuf, HEAD_COPY);
	else
		memcpy(p, r->batch_headbuf, r->batch_head);
	return p + r->batch_head;
}

/* Give the hooks of the batch the record just put. */
static void
batch_hooks(Tintin_reporter *r, const char *msg, size_t len)
{
	struct sink *h;
	int i;

	r->depth++;
	for (i = 0; i < r->batch_nhooks; i++) {
		h = r->batch_hooks[i];
		if (!sink_takes(h, r->batch_level, r->batch_cat))
			continue;
		h->in_cb = 1;
		h->hook(h->cb_arg, r->batch_level, r->batch_cat, msg, len,
		    r->batch_source);
		h->in_cb = 0;
	}
	r->depth--;
}

void
tintin_batch_put(Tintin_reporter *r, size_t len)
{
	struct sink *s = r->batch;
	char *msg = s->buf + s->len + r->batch_head;

	msg[len] = '\n';
	/* Published only now, whole (see tintin_crash_log). */
	s->len += r->batch_head + len + 1;
	s->pending++;
	r->st.records[r->batch_level]++;
	r->st.bytes[r->batch_level] += len;
	if (r->batch_nhooks > 0)
		batch_hooks(r, msg, len);
}

int
tintin_batch_end(Tintin_reporter *r)
{
	struct sink *s = r->batch;
	int rc = 0;

	if (s == NULL)
		return -1;
	r->batch = NULL;
	if (!r->buffered || s->len >= TINTIN_THRESHOLD)
		rc = tintin_sink_flush(r, s);
	if (r->nnotes > 0)	/* a failed write, say */
		tintin_emit_notes(r);
	return rc;
}

void
tintin_note(Tintin_reporter *r, int level, const char *fmt, ...)
{
	va_list ap;

	if (r->nnotes >= TINTIN_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes], TINTIN_NOTE_MAX, fmt, ap);
	va_end(ap);
	r->note_level[r->nnotes++] = level;
}

void
tintin_emit_notes(Tintin_reporter *r)
{
	char msg[TINTIN_NOTE_MAX];
	int i, n, level, in_note = r->in_note;

	/* Notes may queue more notes (a note can fill a disk, too). */
	for (i = 0; i < TINTIN_NOTES && r->nnotes > 0; i++) {
		memcpy(msg, r->notes[0], sizeof(msg));
		level = r->note_level[0];
		n = --r->nnotes;
		memmove(r->notes[0], r->notes[1], (size_t)n * TINTIN_NOTE_MAX);
		memmove(r->note_level, r->note_level + 1,
		    (size_t)n * sizeof(int));
		r->in_note = 1;
		tintin_log_msg(r, level, msg, strlen(msg));
		r->in_note = in_note;
	}
}

void
tintin_set_error_cb(Tintin_reporter *r, tintin_error_cb cb, void *arg)
{
	r->error_cb = cb;
	r->error_arg = arg;
}

static int log_va(Tintin_reporter *, int, uint32_t, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static int
log_va(Tintin_reporter *r, int level, uint32_t cat, const char *fmt,
    va_list ap)
{
	char small[1024], *big = NULL;
	va_list ap2;
	int n, rc;

	if (level < r->min_level || level >= TINTIN_NLEVELS)
		return 0;
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < 0) {
		va_end(ap2);
		return -1;
	}
	if ((size_t)n >= sizeof(small)) {
		if ((big = malloc((size_t)n + 1)) == NULL) {
			va_end(ap2);
			return -1;
		}
		vsnprintf(big, (size_t)n + 1, fmt, ap2);
	}
	va_end(ap2);
	rc = tintin_log_msg_cat(r, level, cat, big ? big : small, (size_t)n);
	free(big);
	return rc;
}

int
tintin_log(Tintin_reporter *r, int level, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = log_va(r, level, TINTIN_CAT_DEFAULT, fmt, ap);
	va_end(ap);
	return rc;
}

int
tintin_log_cat(Tintin_reporter *r, int level, uint32_t cat,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = log_va(r, level, cat, fmt, ap);
	va_end(ap);
	return rc;
}

/* Async-signal-safe string copy; returns the end of what was written. */
static char *
put_str(char *p, char *end, const char *s)
{
	while (*s != '\0' && p < end)
		*p++ = *s++;
	return p;
}

void
tintin_crash_log(Tintin_reporter *r, int level, const char *msg)
{
	struct timespec ts;
	char line[1024], stamp[32], *p, *end = line + sizeof(line) - 1;
	struct sink *s;
	int i;

	if (r == NULL || level < 0 || level >= TINTIN_NLEVELS)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	for (i = 0; i < r->nsinks; i++) {
		s = &r->sinks[i];
		if (s->fd < 0)
			continue;
		if (s->len > 0)
			(void)tintin_write_all(s->fd, s->buf, s->len);
		s->len = 0;
		if (level < s->min_level)
			continue;
		p = line;
		if (s->format == TINTIN_JSON) {
			tintin_format_iso(stamp, (int64_t)ts.tv_sec,
			    (int)(ts.tv_nsec / 1000000), r->gmtoff);
			p = put_str(p, end, "{\"time\":\"");
			p = put_str(p, end, stamp);
			p = put_str(p, end, "\",\"level\":\"");
			p = put_str(p, end, level_lower[level]);
			p = put_str(p, end, "\",\"program\":\"");
			p = put_str(p, end, r->name);
			p = put_str(p, end, "\",\"message\":\"");
			p = put_str(p, end, msg);	/* caller's plain text */
			p = put_str(p, end, "\"}");
		} else {
			stamp[0] = '[';
			tintin_format_time(stamp + 1, (int64_t)ts.tv_sec,
			    r->gmtoff);
			p = put_str(p, end, stamp);
			p = put_str(p, end, "]");
			p = put_str(p, end, r->prefix[level]);
			p = put_str(p, end, msg);
		}
		*p++ = '\n';
		(void)tintin_write_all(s->fd, line, (size_t)(p - line));
	}
}

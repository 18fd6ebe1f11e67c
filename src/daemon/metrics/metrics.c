/*
 * The metrics table: each metric's name, type, help and how its value is
 * read, rendered in the Prometheus text format (GET /metrics) or as the
 * /stats table from the same walk, so that the two never disagree.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/metrics/metrics.h"
#include "daemon/session/tls.h"

#define PREFIX		"matt_daemon_"
#define ID_MAX		320	/* a sample's name and labels */
#define LABEL_MAX	200	/* one label value, escaped */

/* What one render reads, gathered once. */
struct snap {
	const struct metrics *m;
	struct tintin_stats ts;
	struct metrics_alerts al;
	int		 have_fwd;
	struct metrics_forward fwd;
	time_t		 now;
};

/* The text being rendered. */
struct out {
	char		*buf;
	size_t		 size;
	size_t		 len;
	int		 format;
	int		 lines;
	int		 full;
};

struct family {
	const char	*name;
	const char	*type;
	const char	*help;
	/* The one sample of an unlabelled metric, or NULL and emit. */
	uint64_t	(*get)(const struct snap *);
	void		(*emit)(struct out *, const struct snap *,
			    const char *);
};

static const char *const refusal_names[METRICS_NREFUSALS] = {
	"too_many", "tls_required", "lockout", "penalty"
};
static const char *const method_names[METRICS_NMETHODS] = {
	"password", "key", "local"
};
static const char *const level_names[TINTIN_NLEVELS] = {
	"debug", "info", "log", "warn", "error"
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->full = 1;
		return;
	}
	o->len += (size_t)n;
}

/* One sample: NAME{LABELS} VALUE; LABELS "" or a="b",c="d". */
static void
sample(struct out *o, const char *name, const char *labels, uint64_t v)
{
	char id[ID_MAX];

	snprintf(id, sizeof(id), "%s%s%s%s", name, labels[0] ? "{" : "",
	    labels, labels[0] ? "}" : "");
	if (o->format == METRICS_PROMETHEUS)
		put(o, PREFIX "%s %llu\n", id, (unsigned long long)v);
	else
		put(o, "%-34s %llu\n", id, (unsigned long long)v);
	o->lines++;
}

/* S as a label value: backslash, double quote and newline escaped. */
static const char *
label(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < size; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			buf[o++] = '\\';
			buf[o++] = *s == '\n' ? 'n' : *s;
		} else
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static uint64_t
proc_statm_rss(void)
{
	char buf[128];
	unsigned long long size, rss = 0;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &rss) != 2)
		return 0;
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t
proc_open_fds(void)
{
	struct dirent *e;
	uint64_t n = 0;
	DIR *dir;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n > 0 ? n - 1 : 0;	/* not the directory's own */
}

static uint64_t
get_start(const struct snap *s)
{
	return (uint64_t)s->m->started;
}

static uint64_t
get_uptime(const struct snap *s)
{
	return s->now > s->m->started ? (uint64_t)(s->now - s->m->started) : 0;
}

static uint64_t
get_rss(const struct snap *s)
{
	(void)s;
	return proc_statm_rss();
}

static uint64_t
get_fds(const struct snap *s)
{
	(void)s;
	return proc_open_fds();
}

static uint64_t
get_lines(const struct snap *s)
{
	return s->m->lines;
}

static uint64_t
get_bytes(const struct snap *s)
{
	return s->m->bytes;
}

static uint64_t
get_rotations(const struct snap *s)
{
	return s->ts.rotations;
}

static uint64_t
get_rotate_failures(const struct snap *s)
{
	return s->ts.rotate_failures;
}

static uint64_t
get_archives(const struct snap *s)
{
	return s->ts.archives;
}

static uint64_t
get_archive_failures(const struct snap *s)
{
	return s->ts.archive_failures;
}

static uint64_t
get_clients(const struct snap *s)
{
	return s->m->nclients != NULL && *s->m->nclients > 0 ?
	    (uint64_t)*s->m->nclients : 0;
}

static uint64_t
get_max_clients(const struct snap *s)
{
	return s->m->cfg != NULL ? (uint64_t)s->m->cfg->max_clients : 0;
}

static uint64_t
get_accepted(const struct snap *s)
{
	return s->m->accepted;
}

static uint64_t
get_matches(const struct snap *s)
{
	return s->al.matches;
}

static uint64_t
get_mail_queue(const struct snap *s)
{
	return s->al.waiting;
}

static uint64_t
get_mail_spool(const struct snap *s)
{
	return s->al.in_spool;
}

static void
emit_build(struct out *o, const struct snap *s, const char *name)
{
	char lab[LABEL_MAX + 64], tls[LABEL_MAX];

	(void)s;
	snprintf(lab, sizeof(lab), "version=\"%s\",tls_library=\"%s\"",
	    MD_VERSION, label(tls, sizeof(tls), tls_library()));
	sample(o, name, lab, 1);
}

/* Records or their bytes per level: which is in NAME. */
static void
emit_levels(struct out *o, const struct snap *s, const char *name)
{
	const uint64_t *v = strcmp(name, "records_total") == 0 ?
	    s->ts.records : s->ts.bytes;
	char lab[32];
	int i;

	for (i = 0; i < TINTIN_NLEVELS; i++) {
		snprintf(lab, sizeof(lab), "level=\"%s\"", level_names[i]);
		sample(o, name, lab, v[i]);
	}
}

/* Per file sink: records written, bytes, or dropped (in NAME). */
static void
emit_sinks(struct out *o, const struct snap *s, const char *name)
{
	const struct config *c = s->m->cfg;
	struct tintin_sink_stats st;
	char lab[LABEL_MAX + 16], v[LABEL_MAX];
	uint64_t x;
	int i;

	for (i = 0; c != NULL && i <= c->nsinks; i++) {
		if (tintin_sink_stats(*s->m->log, i, &st) == -1)
			continue;
		snprintf(lab, sizeof(lab), "sink=\"%s\"", i == 0 ? "main" :
		    label(v, sizeof(v), c->sinks[i - 1].name));
		x = strcmp(name, "sink_records_total") == 0 ? st.records :
		    strcmp(name, "sink_bytes_total") == 0 ? st.bytes : st.lost;
		sample(o, name, lab, x);
	}
}

static void
emit_refused(struct out *o, const struct snap *s, const char *name)
{
	char lab[48];
	int i;

	for (i = 0; i < METRICS_NREFUSALS; i++) {
		snprintf(lab, sizeof(lab), "reason=\"%s\"", refusal_names[i]);
		sample(o, name, lab, s->m->refused[i]);
	}
}

static void
emit_logins(struct out *o, const struct snap *s, const char *name)
{
	char lab[64];
	int i, ok;

	for (i = 0; i < METRICS_NMETHODS; i++)
		for (ok = 1; ok >= 0; ok--) {
			snprintf(lab, sizeof(lab), "method=\"%s\","
			    "result=\"%s\"", method_names[i], ok ? "ok" :
			    "failed");
			sample(o, name, lab, s->m->logins[i][ok]);
		}
}

static void
emit_mails(struct out *o, const struct snap *s, const char *name)
{
	sample(o, name, "result=\"sent\"", s->al.sent);
	sample(o, name, "result=\"failed\"", s->al.failed);
	sample(o, name, "result=\"spooled\"", s->al.spooled);
}

/* The forward target's figure in NAME; nothing without a target. */
static void
emit_forward(struct out *o, const struct snap *s, const char *name)
{
	char lab[LABEL_MAX + 16], v[LABEL_MAX];
	uint64_t x;

	if (!s->have_fwd)
		return;
	snprintf(lab, sizeof(lab), "target=\"%s\"", label(v, sizeof(v),
	    s->fwd.target));
	if (strcmp(name, "forward_bytes_total") == 0 && !s->fwd.has_bytes)
		return;		/* the forwarder counts records */
	x = strcmp(name, "forward_records_total") == 0 ? s->fwd.sent :
	    strcmp(name, "forward_bytes_total") == 0 ? s->fwd.bytes :
	    strcmp(name, "forward_acknowledged_total") == 0 ? s->fwd.acked :
	    strcmp(name, "forward_dropped_total") == 0 ? s->fwd.dropped :
	    strcmp(name, "forward_queue") == 0 ? s->fwd.waiting :
	    strcmp(name, "forward_queue_bytes") == 0 ? s->fwd.waiting_bytes :
	    strcmp(name, "forward_oldest_waiting_seconds") == 0 ?
	    s->fwd.oldest_age : (uint64_t)s->fwd.up;
	sample(o, name, lab, x);
}

static const struct family families[] = {
	{ "build_info", "gauge", "Version of the daemon and of its TLS "
	    "library; always 1.", NULL, emit_build },
	{ "start_time_seconds", "gauge", "When the daemon started, in "
	    "seconds since the epoch.", get_start, NULL },
	{ "uptime_seconds", "gauge", "Seconds since the daemon started.",
	    get_uptime, NULL },
	{ "resident_memory_bytes", "gauge", "Resident memory of the daemon "
	    "process.", get_rss, NULL },
	{ "open_fds", "gauge", "Open file descriptors of the daemon "
	    "process.", get_fds, NULL },
	{ "lines_total", "counter", "Lines of user input received from "
	    "clients and logged.", get_lines, NULL },
	{ "bytes_total", "counter", "Bytes received from clients.",
	    get_bytes, NULL },
	{ "records_total", "counter", "Records logged, per level.", NULL,
	    emit_levels },
	{ "record_bytes_total", "counter", "Bytes of the messages of the "
	    "records logged, per level.", NULL, emit_levels },
	{ "sink_records_total", "counter", "Records written, per log file.",
	    NULL, emit_sinks },
	{ "sink_bytes_total", "counter", "Bytes written, per log file.",
	    NULL, emit_sinks },
	{ "sink_dropped_total", "counter", "Records lost on write errors "
	    "(disk full...), per log file.", NULL, emit_sinks },
	{ "rotations_total", "counter", "Log files rotated into an archive.",
	    get_rotations, NULL },
	{ "rotation_failures_total", "counter", "Rotations that failed (to "
	    "be retried).", get_rotate_failures, NULL },
	{ "archives_total", "counter", "Archiver runs (compress and prune) "
	    "that succeeded.", get_archives, NULL },
	{ "archive_failures_total", "counter", "Archiver runs that failed "
	    "or could not start.", get_archive_failures, NULL },
	{ "clients", "gauge", "Client sessions now (port and local socket).",
	    get_clients, NULL },
	{ "max_clients", "gauge", "Client sessions allowed at once.",
	    get_max_clients, NULL },
	{ "clients_accepted_total", "counter", "Connections given a session.",
	    get_accepted, NULL },
	{ "clients_refused_total", "counter", "Connections or logins turned "
	    "away, per reason.", NULL, emit_refused },
	{ "logins_total", "counter", "Logins, per method and result.", NULL,
	    emit_logins },
	{ "alert_matches_total", "counter", "Records that matched an alert "
	    "rule.", get_matches, NULL },
	{ "alert_mails_total", "counter", "Alert mails sent, given up or "
	    "dropped (failed), and spooled: the queue was full.", NULL,
	    emit_mails },
	{ "alert_mail_queue", "gauge", "Alert mails waiting to be sent "
	    "(spooled at exit).", get_mail_queue, NULL },
	{ "alert_mail_spool", "gauge", "Alert mails waiting in the spool.",
	    get_mail_spool, NULL },
	{ "forward_records_total", "counter", "Records sent to the forward "
	    "target.", NULL, emit_forward },
	{ "forward_bytes_total", "counter", "Bytes sent to the forward "
	    "target.", NULL, emit_forward },
	{ "forward_acknowledged_total", "counter", "Records the forward "
	    "target acknowledged (RELP; 0 for the others).", NULL,
	    emit_forward },
	{ "forward_dropped_total", "counter", "Records dropped for the "
	    "forward target: its queue was full.", NULL, emit_forward },
	{ "forward_queue", "gauge", "Records waiting for the forward "
	    "target.", NULL, emit_forward },
	{ "forward_queue_bytes", "gauge", "Bytes waiting for the forward "
	    "target.", NULL, emit_forward },
	{ "forward_oldest_waiting_seconds", "gauge", "Age of the oldest "
	    "record not yet forwarded, in seconds (0: none waiting).", NULL,
	    emit_forward },
	{ "forward_up", "gauge", "1 when connected to the forward target, "
	    "else 0.", NULL, emit_forward },
};
#define NFAMILIES	(sizeof(families) / sizeof(families[0]))

int
metrics_forward(const struct metrics *m, struct metrics_forward *f)
{
	struct tintin_sink_stats st;

	memset(f, 0, sizeof(*f));
	if (m->forward_fn != NULL && m->forward_fn(m->forward_arg, f) == 0)
		return 0;
	/*
	 * Tintin's syslog sink (udp://, unix:): records and bytes sent,
	 * records dropped, its queue; no acknowledgement, no ages.
	 */
	if (m->forward_sink < 0 || m->log == NULL || *m->log == NULL ||
	    tintin_sink_stats(*m->log, m->forward_sink, &st) == -1)
		return -1;
	f->target = m->cfg->forward_target;
	f->sent = st.records;
	f->bytes = st.bytes;
	f->has_bytes = 1;
	f->dropped = st.lost;
	if (tintin_sink_queue(*m->log, m->forward_sink, &f->waiting,
	    &f->waiting_bytes, &f->up) == -1)
		return -1;
	return 0;
}

int
metrics_render(const struct metrics *m, int format, char *buf, size_t size,
    int *lines)
{
	const struct family *f;
	struct out o;
	struct snap s;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.m = m;
	s.now = time(NULL);
	tintin_get_stats(*m->log, &s.ts);
	if (m->alerts_fn != NULL)
		m->alerts_fn(m->alerts_arg, &s.al);
	s.have_fwd = metrics_forward(m, &s.fwd) == 0;
	memset(&o, 0, sizeof(o));
	o.buf = buf;
	o.size = size;
	o.format = format;
	if (size > 0)
		buf[0] = '\0';
	for (i = 0; i < NFAMILIES; i++) {
		f = &families[i];
		if (f->emit == emit_forward && !s.have_fwd)
			continue;
		if (format == METRICS_PROMETHEUS)
			put(&o, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX
			    "%s %s\n", f->name, f->help, f->name, f->type);
		if (f->get != NULL)
			sample(&o, f->name, "", f->get(&s));
		else
			f->emit(&o, &s, f->name);
	}
	if (lines != NULL)
		*lines = o.lines;
	return o.full || size == 0 ? -1 : (int)o.len;
}

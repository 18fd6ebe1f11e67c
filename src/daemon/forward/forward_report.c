/*
 * What the forwarder child tells the daemon, one line each through its
 * pipe: a record to log, "L LEVEL Forwarding to TARGET: ..." (fwd_note),
 * and once a second its status, "S ..." (fwd_report), after holding the
 * backlog against max_backlog.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "daemon/forward/forward_int.h"
#include "tintin/tintin.h"

/*
 * One line to the daemon: a record "L LEVEL Forwarding to TARGET: ..."
 * (fwd_note) or the status "S ..." (tell).
 */
static void __attribute__((format(printf, 3, 0)))
vtell(struct fwd_child *r, const char *head, const char *fmt, va_list ap)
{
	char line[900];
	int n;

	n = snprintf(line, sizeof(line), "%s", head);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)write(r->report, line, (size_t)n);
}

void
fwd_note(struct fwd_child *r, int level, const char *fmt, ...)
{
	char head[600];
	va_list ap;

	snprintf(head, sizeof(head), "L %d Forwarding to %s: ", level,
	    r->c->target);
	va_start(ap, fmt);
	vtell(r, head, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3)))
tell(struct fwd_child *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtell(r, "S ", fmt, ap);
	va_end(ap);
}

/*
 * Past max_backlog, skip down to seven eighths of it: the tail of a burst
 * still being written then makes no second skip right after the first.
 * The first skip is noted; those that follow while the backlog stays
 * over half of max_backlog are counted, and noted once it is under.
 */
static void
skip_oldest(struct fwd_child *r, uint64_t backlog)
{
	uint64_t max = r->c->max_backlog;

	if (max > 0 && backlog > max && r->skip == 0)
		r->skip = backlog - max + max / 8;
	if (r->skip == 0 && r->skipped > 0 && !r->skipping) {
		fwd_note(r, TINTIN_WARN, "more than max_backlog waiting: "
		    "skipped the %ju oldest records (%ju bytes).",
		    (uintmax_t)r->skipped, (uintmax_t)r->skipped_bytes);
		r->skipped = r->skipped_bytes = 0;
		r->skipping = 1;
	}
	if (r->skipping && r->skip == 0 && backlog <= max / 2) {
		if (r->skipped > 0)
			fwd_note(r, TINTIN_WARN, "more than max_backlog "
			    "waiting: skipped %ju more records (%ju bytes) "
			    "since the last note.", (uintmax_t)r->skipped,
			    (uintmax_t)r->skipped_bytes);
		r->skipped = r->skipped_bytes = 0;
		r->skipping = 0;
	}
}

/*
 * The status line "S up|down FORWARDED ACKED WAITING WAITING_BYTES
 * OLDEST_AGE"; WAITING (records) is estimated from the bytes and the
 * size of the records taken so far (about 80 bytes before the first).
 */
void
fwd_report(struct fwd_child *r, int64_t now, int64_t every)
{
	uint64_t backlog;
	int64_t age = 0;

	if (now - r->reported_at < every)
		return;
	r->reported_at = now;
	backlog = fwd_src_backlog(&r->src);
	skip_oldest(r, backlog);
	if (backlog > 0 && r->src.len > 21 && r->src.buf[0] == '[' &&
	    fwd_fmt_stamp(&r->fmt, r->src.buf + 1) == 0)
		age = (int64_t)time(NULL) - r->fmt.stamp_t;
	tell(r, "%s %ju %ju %ju %ju %jd", r->up ? "up" : "down",
	    (uintmax_t)r->forwarded, (uintmax_t)r->acked,
	    (uintmax_t)(r->lines_in > 0 ? (uint64_t)((double)backlog *
	    (double)r->lines_in / (double)r->bytes_in) : backlog / 80),
	    (uintmax_t)backlog, (intmax_t)(age > 0 ? age : 0));
}

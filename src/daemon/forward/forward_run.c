/*
 * The forwarder child: it reads the daemon's log file behind the writer,
 * in large blocks, turns each record into an octet-counted RFC 5424
 * message (RFC 6587), sends it, and moves its checkpoint only past bytes
 * the socket took (RELP: messages the collector acknowledged, noted in
 * place after each batch).  It follows the file into its archives, waits
 * for the collector as long as the records stay on disk (up to
 * max_backlog), and tells the daemon through a pipe what to log and how
 * it stands.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "daemon/forward/forward_int.h"
#include "tintin/tintin.h"

#define OUT_MAX		(FWD_BLOCK + FWD_MSG_MAX + 16)
#define BACKOFF_MAX	5	/* seconds between connect attempts */
#define SAVE_EVERY_MS	250	/* checkpoint at most this often */
#define MARK_STEP	(64 * 1024)	/* socket bytes between two marks */
#define RESEND_MS	10000	/* a reset resends at most this far back */
#define PARK_MS		200	/* RELP: idle this long, collect the acks */
#define QUIET_MS	1000	/* no send this long: the collector wrote all */

static volatile int	 quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Frames of the complete lines read so far into r->out, up to a block;
 * lines to skip (backlog over max_backlog) are counted instead.  Returns
 * the bytes of the source they took.
 */
static size_t
build(struct fwd_child *r)
{
	struct fwd_src *s = &r->src;
	const char *p = s->buf, *end = s->buf + s->len, *nl, *next;
	size_t len, m;
	int level;

	r->olen = 0;
	r->nrec = 0;
	r->nlines = 0;
	/*
	 * RELP: batches of FWD_RELP_BATCH, each with its mark and its note
	 * of what is acknowledged: a rewind, or a kill, resends at most the
	 * window and a batch.
	 */
	while (p < end && r->olen < FWD_BLOCK && (!r->relp ||
	    r->nrec < FWD_RELP_BATCH)) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			/* A last piece, or a line longer than a block. */
			if (!r->final && s->len < FWD_BLOCK)
				break;
			nl = end;
		}
		len = (size_t)(nl - p);
		next = nl < end ? nl + 1 : nl;
		if (r->skip > 0) {
			r->skip -= r->skip < (size_t)(next - p) ? r->skip :
			    (size_t)(next - p);
			r->skipped++;
			r->skipped_bytes += (size_t)(next - p);
			p = next;
			continue;
		}
		if (!r->up)
			break;
		r->nlines++;
		m = fwd_fmt_record(&r->fmt, p, len, &level);
		if (level >= r->c->level) {
			r->olen += fwd_frame(r->out + r->olen, r->fmt.msg, m);
			if (r->relp)
				fwd_ack_sent(&r->ack, r->forwarded + r->nrec,
				    &s->pos, s->pos.off + (uint64_t)(next -
				    s->buf));
			r->nrec++;
		}
		p = next;
	}
	return (size_t)(p - s->buf);
}

/* Does the source hold a record build() would take now? */
static int
whole_record(const struct fwd_child *r)
{
	const struct fwd_src *s = &r->src;

	return s->len > 0 && (r->final || s->len >= FWD_BLOCK ||
	    memchr(s->buf, '\n', s->len) != NULL);
}

/*
 * Connect when due; the first failure of an outage is logged, once.  A
 * RELP session closed while idle (parked) is opened again, quietly, only
 * when there is something to send.
 */
static void
try_connect(struct fwd_child *r, int64_t now)
{
	char err[300];

	if (r->up || now < r->retry_at || (r->parked && !whole_record(r)))
		return;
	if (fwd_net_connect(r->net, err, sizeof(err)) == 0) {
		r->up = 1;
		r->down = 0;
		r->backoff = 1;
		r->sess_first = r->forwarded;
		if (!r->parked)
			fwd_note(r, TINTIN_INFO, "connected.");
		r->parked = 0;
		return;
	}
	r->parked = 0;
	if (!r->down)
		fwd_note(r, TINTIN_WARN, "cannot connect: %s; "
		    "retrying in %ds.", err,
		    r->backoff);
	r->down = 1;
	r->retry_at = now + r->backoff * 1000;
	r->backoff = r->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
	    r->backoff * 2;
}

/*
 * The collector went away with BACK bytes of ours maybe unread (a reset
 * drops what its socket held): go back to the last mark before them, or
 * to the first of the last RESEND_MS, and send again from there.  What
 * the collector had read comes twice; nothing is lost.
 */
static void
rewind_marks(struct fwd_child *r, uint64_t back, int64_t now)
{
	struct fwd_pos at;

	if (!fwd_marks_back(&r->marks, r->sent_bytes, back,
	    r->relp ? INT64_MIN : now - RESEND_MS, &at))
		return;
	fwd_src_close(&r->src);
	if (fwd_src_open(&r->src, r->c->log_path, &at) == -1)
		fwd_note(r, TINTIN_ERROR, "cannot reopen the log: %s.",
		    strerror(errno));
	r->final = 0;
	r->dirty = 1;
}

/*
 * The connection is gone: log it once, send again what may be lost.  A
 * reset (RESET) drops what the collector's socket held: both socket
 * buffers' worth.  A clean close right after a send may drop what the
 * collector had read and not written yet (rsyslogd stopping with records
 * in its read buffer): as much; after QUIET_MS without a send it wrote
 * them, and only what its host did not acknowledge can be missing.
 * RELP: the window not acknowledged.
 */
static void
lose(struct fwd_child *r, const char *why, int reset)
{
	int64_t now = now_ms();
	uint64_t back;

	if (r->relp)
		back = FWD_RELP_WINDOW;
	else if (reset || now - r->sent_at < QUIET_MS)
		back = r->window;
	else
		back = fwd_net_unacked(r->net);
	rewind_marks(r, back, now);
	fwd_net_close(r->net);
	r->up = 0;
	if (!r->down)
		fwd_note(r, TINTIN_WARN, "connection lost: %s; "
		    "retrying in %ds.", why, 1);
	r->down = 1;
	r->backoff = 2;
	r->retry_at = now + 1000;
}

/* P as the checkpoint, renamed and synced, and (RELP) noted in place. */
static int
save_pos(struct fwd_child *r, const struct fwd_pos *p)
{
	if (p == NULL ? fwd_src_save(&r->src, r->c->state_path) == -1 :
	    fwd_src_save_pos(p, r->c->state_path) == -1)
		return -1;
	(void)fwd_ack_put(&r->ack, p == NULL ? &r->src.pos : p);
	(void)fwd_ack_sync(&r->ack);
	return 0;
}

/*
 * A save worked (ERR 0) or failed: the first failure is noted, and the
 * first save that works after it; the saves between, retried, are not.
 */
static void
save_went(struct fwd_child *r, int err)
{
	if (err == 0) {
		if (r->unsaved)
			fwd_note(r, TINTIN_INFO, "the checkpoint is saved "
			    "again.");
		r->unsaved = 0;
		return;
	}
	r->dirty = 1;
	if (!r->unsaved)
		fwd_note(r, TINTIN_WARN, "cannot save the checkpoint %s: %s.",
		    r->c->state_path, strerror(err));
	r->unsaved = 1;
}

/* The thread's save: the records it covers are acknowledged, or not. */
static void
saved(struct fwd_child *r, int rc, uint64_t forwarded, int err)
{
	if (rc != 1)
		return;
	if (err == 0 && forwarded > r->acked)
		r->acked = forwarded;
	save_went(r, err);
}

/*
 * The checkpoint, now (after the thread's save under way, if any: the
 * newer goes last).
 */
static void
save(struct fwd_child *r, int64_t now)
{
	struct fwd_pos at;
	uint64_t tag;
	int rc, err;

	if (r->saver != NULL) {
		rc = fwd_saver_wait(r->saver, &tag, &err);
		saved(r, rc, tag, err);
	}
	if (!r->dirty)
		return;
	if (r->relp && r->acked < r->forwarded) {
		/* Only as far as the collector acknowledged. */
		if (r->ackat.ino == 0)
			return;
		fwd_ack_pos(&r->ackat, &at);
		rc = save_pos(r, &at);
	} else if ((rc = save_pos(r, NULL)) == 0) {
		r->acked = r->forwarded;
		/* Never back from here, whatever is sent next. */
		fwd_ack_set(&r->ackat, r->forwarded, &r->src.pos,
		    r->src.pos.off);
	}
	if (rc == 0) {
		r->dirty = 0;
		save_went(r, 0);
	} else if (r->saved_at >= 0)
		save_went(r, errno);
	r->saved_at = now;
}

/*
 * While sending (tcp, tls): the checkpoint goes to the thread, unless
 * its last save still runs; then at the next batch.  RELP saves at once,
 * as far as the collector acknowledged.
 */
static void
save_soon(struct fwd_child *r, int64_t now)
{
	uint64_t tag;
	int rc, err;

	if (r->saver == NULL) {
		save(r, now);
		return;
	}
	if ((rc = fwd_saver_poll(r->saver, &tag, &err)) == -1)
		return;
	saved(r, rc, tag, err);
	fwd_saver_put(r->saver, fwd_src_pos(&r->src), r->forwarded);
	r->dirty = 0;
	r->saved_at = now;
}

/*
 * RELP, after a batch: librelp lets at most a window of messages wait
 * for their acknowledgement, so those before it have theirs.  Where the
 * last of them ends is noted in place at once (one pwrite), so that even
 * a killed forwarder resends none of them.
 */
static void
advance(struct fwd_child *r)
{
	struct fwd_pos at;
	struct fwd_end e;
	uint64_t a;

	if (r->forwarded <= FWD_RELP_WINDOW)
		return;
	a = r->forwarded - FWD_RELP_WINDOW;
	if (a <= r->acked || a <= r->sess_first ||
	    fwd_ack_end(&r->ack, a - 1, &e) == -1)
		return;
	r->acked = a;
	r->ackat = e;
	fwd_ack_pos(&e, &at);
	(void)fwd_ack_put(&r->ack, &at);
}

/*
 * RELP, idle (or stopping): close the session, which collects the
 * acknowledgements still due, so that the checkpoint is exact; it is
 * opened again when there is something to send.
 */
static void
park(struct fwd_child *r, int64_t now, int force)
{
	if (!r->relp || !r->up || r->acked == r->forwarded ||
	    (!force && now - r->sent_at < PARK_MS))
		return;
	if (fwd_net_drain(r->net) == -1) {
		if (!force)
			lose(r, "an acknowledgement is missing", 0);
		return;
	}
	r->up = 0;
	r->parked = 1;
	fwd_marks_clear(&r->marks);
	r->acked = r->forwarded;
	r->dirty = 1;
}

/* Nothing to send now: save, then wait for the file or the collector. */
static void
idle(struct fwd_child *r, int64_t now)
{
	struct pollfd p[2];
	char ev[4096];
	int ms = 1000, n = 1;

	park(r, now, 0);
	save(r, now);
	fwd_report(r, now, 200);	/* caught up: a fresh status */
	if (!r->up && !r->parked && r->retry_at - now < ms)
		ms = r->retry_at - now > 0 ? (int)(r->retry_at - now) : 0;
	if (r->relp && r->up && r->acked < r->forwarded)
		ms = PARK_MS;
	p[0].fd = r->inot;
	p[0].events = POLLIN;
	if (r->up) {
		p[1].fd = fwd_net_fd(r->net);
		p[1].events = POLLRDHUP;
		n = 2;
	}
	if (poll(p, (nfds_t)n, ms) > 0 && (p[0].revents & POLLIN))
		while (read(r->inot, ev, sizeof(ev)) > 0)
			;
	if (r->up && (n = fwd_net_lost(r->net)) != 0)
		lose(r, "closed by the collector", n == 2);
}

/* Send the batch built; on success the source moves past it. */
static void
send_batch(struct fwd_child *r, size_t took, int64_t now)
{
	char err[300];
	int gone;

	if (r->olen > 0) {
		if ((gone = fwd_net_lost(r->net)) != 0) {
			lose(r, "closed by the collector", gone == 2);
			return;
		}
		fwd_marks_add(&r->marks, r->sent_bytes, r->relp ? 1 :
		    MARK_STEP, now, &r->src.pos);
		if (fwd_net_send(r->net, r->out, r->olen, &quit, err,
		    sizeof(err)) == -1) {
			if (!quit)
				lose(r, err, 1);
			return;
		}
		r->forwarded += r->nrec;
		r->sent_bytes += r->relp ? r->nrec : r->olen;
		r->sent_at = now;
		if (r->relp)
			advance(r);
	}
	r->lines_in += r->nlines;
	r->bytes_in += took;
	fwd_src_consume(&r->src, took);
	r->final = 0;
	r->dirty = 1;
	if (now - r->saved_at >= SAVE_EVERY_MS)
		save_soon(r, now);
}

/* One step: read, build, send; or move on to the next file; or wait. */
static void
step(struct fwd_child *r)
{
	int64_t now = now_ms();
	ssize_t got;
	size_t took;
	int rc;

	fwd_report(r, now, 1000);
	try_connect(r, now);
	if ((got = fwd_src_fill(&r->src)) < 0) {
		fwd_note(r, TINTIN_ERROR, "cannot read the log: %s.",
		    strerror(errno));
		r->src.len = 0;
		r->final = 1;
	}
	took = build(r);
	if (took > 0) {
		send_batch(r, took, now);
		return;
	}
	if (got > 0)
		return;
	if (r->src.len > 0 && !r->final && !r->up)
		return idle(r, now);
	rc = fwd_src_next(&r->src);
	if (r->src.note[0] != '\0') {
		fwd_note(r, TINTIN_WARN, "%s.", r->src.note);
		r->src.note[0] = '\0';
	}
	if (rc == 2)
		r->final = 1;
	else if (rc == 1)
		r->dirty = 1;
	else
		idle(r, now);
}

/* Signals, death with the daemon, the checkpoint's lock; 0 or -1. */
static int
setup(struct fwd_child *r)
{
	struct sigaction sa;
	char lock[PATH_MAX + 8];
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != r->c->daemon_pid)
		return -1;
	(void)prctl(PR_SET_NAME, "md-forward");
	/* One forwarder a checkpoint: an old one may still be saving. */
	snprintf(lock, sizeof(lock), "%s.lock", r->c->state_path);
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1 || flock(fd, LOCK_EX) == -1) {
		fwd_note(r, TINTIN_ERROR, "cannot lock %s: %s.", lock,
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
fwd_run(const struct fwd_conf *c, int report)
{
	static struct fwd_child run;
	struct fwd_child *r = &run;
	struct fwd_pos at;
	char host[256], err[300];

	r->c = c;
	r->report = report;
	r->window = fwd_socket_window();
	r->relp = strncmp(c->target, "relp://", 7) == 0;
	r->backoff = 1;
	r->saved_at = -1;
	r->reported_at = -1000000;
	if (setup(r) == -1 || quit)
		_exit(1);
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	tintin_rfc5424_token(r->fmt.host, sizeof(r->fmt.host), host);
	tintin_rfc5424_token(r->fmt.app, sizeof(r->fmt.app), "Matt_daemon");
	snprintf(r->fmt.procid, sizeof(r->fmt.procid), "%ld",
	    (long)c->daemon_pid);
	/* RELP's acknowledgements are noted in a companion: it comes first. */
	fwd_ack_init(&r->ack);
	if ((!r->relp || fwd_ack_load(&at, c->state_path) == -1) &&
	    fwd_src_load(&at, c->state_path) == -1)
		at = c->start;
	if ((r->out = malloc(OUT_MAX)) == NULL ||
	    (r->inot = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    (r->relp && fwd_ack_open(&r->ack, c->state_path) == -1) ||
	    fwd_src_open(&r->src, c->log_path, &at) == -1 ||
	    inotify_add_watch(r->inot, r->src.dir, IN_MODIFY | IN_CREATE |
	    IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE) == -1 ||
	    (r->net = fwd_net_new(c, err, sizeof(err))) == NULL) {
		fwd_note(r, TINTIN_ERROR, "cannot start: %s.",
		    r->net == NULL && r->out != NULL ?
		    err : strerror(errno));
		_exit(1);
	}
	if (r->src.note[0] != '\0') {
		fwd_note(r, TINTIN_WARN, "%s.", r->src.note);
		r->src.note[0] = '\0';
	}
	/* Without the thread, the checkpoint is saved in line. */
	if (!r->relp)
		r->saver = fwd_saver_new(c->state_path);
	r->dirty = 1;
	while (!quit)
		step(r);
	park(r, now_ms(), 1);
	r->dirty = 1;
	save(r, now_ms());
	fwd_saver_free(r->saver);
	_exit(0);
}

/*
 * The syslog forwarding sink: records formatted as RFC 5424 messages wait
 * in a bounded queue and go to a collector over TCP (octet-counted framing,
 * RFC 6587), UDP or a unix socket, through a non-blocking socket that is
 * reconnected with backoff.  Nothing here ever waits.
 *
 * The queue holds every record as its TCP frame, "LEN SP MSG", so the
 * record boundaries are always known: a datagram sends MSG alone, a stream
 * sends the frames as they are, and a record half sent when a connection
 * breaks is sent again whole on the next one.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tintin/tintin.h"
#include "tintin/tintin_syslog.h"

#define QUEUE_MIN	(16 * 1024)	/* first allocation */
#define QUEUE_KEEP	(64 * 1024)	/* freed when empty past this */
#define STABLE		10	/* seconds up before the backoff restarts */

/*
 * Counts forks, so a record made by a child (a daemon that detached after
 * setting up its log) carries the child's PID without a getpid() a record.
 */
static volatile unsigned fork_gen;

static void	fwd_fail(struct tintin_fwd *, int, const char *, time_t);

static void
on_fork_child(void)
{
	fork_gen++;
}

static void
set_pid(struct tintin_fwd *f)
{
	f->fork_gen = fork_gen;
	f->pid = getpid();
	snprintf(f->procid, sizeof(f->procid), "%ld", (long)f->pid);
}

struct tintin_fwd *
tintin_fwd_new(const char *target, const char *app, char *err,
    size_t errlen)
{
	static int atfork_set;
	struct tintin_fwd *f;

	if (strlen(target) >= TINTIN_FWD_TARGET_MAX) {
		snprintf(err, errlen, "target too long");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	strcpy(f->target, target);
	f->fd = -1;
	f->backoff = 1;
	if (tintin_fwd_parse_target(f, target, err, errlen) == -1) {
		free(f);
		return NULL;
	}
	tintin_fwd_set_names(f, app);
	if (!atfork_set && pthread_atfork(NULL, NULL, on_fork_child) == 0)
		atfork_set = 1;
	set_pid(f);
	return f;
}

/* Length of the frame at P: "LEN SP" plus LEN; *SKIP gets "LEN SP". */
static size_t
frame_len(const char *p, size_t *skip)
{
	size_t n = 0, i = 0;

	while (p[i] != ' ')
		n = n * 10 + (size_t)(p[i++] - '0');
	*skip = i + 1;
	return i + 1 + n;
}

/* Room for NEED more bytes at the end of the queue; 0 or -1. */
static int
queue_reserve(struct tintin_fwd *f, size_t need)
{
	size_t ncap;
	char *nb;

	if (f->len + need <= f->cap)
		return 0;
	if (f->head > 0) {
		memmove(f->buf, f->buf + f->head, f->len - f->head);
		f->len -= f->head;
		f->head = 0;
		if (f->len + need <= f->cap)
			return 0;
	}
	ncap = f->cap < QUEUE_MIN ? QUEUE_MIN : f->cap;
	while (ncap < f->len + need)
		ncap *= 2;
	if (ncap > TINTIN_FWD_QUEUE_MAX + TINTIN_FWD_HEADROOM)
		ncap = TINTIN_FWD_QUEUE_MAX + TINTIN_FWD_HEADROOM;
	if (ncap < f->len + need || (nb = realloc(f->buf, ncap)) == NULL)
		return -1;
	f->buf = nb;
	f->cap = ncap;
	return 0;
}

int
tintin_fwd_record(struct tintin_fwd *f, int level, time_t t, int ms,
    long gmtoff, const char *msg, size_t len, int note)
{
	char rec[TINTIN_FWD_MSG_MAX], pfx[16];
	size_t n, max, need, limit;
	int plen;

	if (f->fork_gen != fork_gen)
		set_pid(f);
	max = f->proto == FWD_UDP ? TINTIN_FWD_UDP_MAX : TINTIN_FWD_MSG_MAX;
	n = tintin_fwd_format(f, rec, max, level, t, ms, gmtoff, msg, len);
	plen = snprintf(pfx, sizeof(pfx), "%zu ", n);
	need = (size_t)plen + n;
	limit = TINTIN_FWD_QUEUE_MAX + (note ? TINTIN_FWD_HEADROOM : 0);
	if (f->len - f->head + need > limit || queue_reserve(f, need) == -1) {
		f->dropped++;
		if (!note)
			f->drop_run++;
		return -1;
	}
	memcpy(f->buf + f->len, pfx, (size_t)plen);
	memcpy(f->buf + f->len + plen, rec, n);
	f->len += need;
	f->nqueued++;
	return 0;
}

size_t
tintin_fwd_backlog(const struct tintin_fwd *f)
{
	return f->len - f->head;
}

static void	set_report(struct tintin_fwd *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Keep a connection report for tintin_fwd_report(); a few at most. */
static void
set_report(struct tintin_fwd *f, int level, const char *fmt, ...)
{
	char line[TINTIN_FWD_REPORT_MAX];
	va_list ap;
	int n;

	if (f->nreports >= TINTIN_FWD_REPORTS)
		return;
	n = snprintf(line, sizeof(line), "Forwarding to %s: ", f->target);
	if (n > 0 && (size_t)n < sizeof(line)) {
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	memcpy(f->report[f->nreports], line, sizeof(line));
	f->report_level[f->nreports++] = level;
}

static void
fwd_up(struct tintin_fwd *f)
{
	f->state = FWD_UP;
	f->up_since = time(NULL);
	f->was_up = 1;
	f->last_errno = 0;
	set_report(f, TINTIN_INFO, "connected.");
}

/*
 * Close the socket and schedule the next attempt.  The frame being sent
 * starts again from its first byte on the next connection.  Reported when
 * a working connection is lost, then at each attempt while the delay still
 * grows, so a collector away for long costs a handful of lines.
 */
static void
fwd_fail(struct tintin_fwd *f, int err, const char *why, time_t now)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->part = 0;
	f->last_errno = err;
	/* A collector that accepts and hangs up at once still backs off. */
	if (f->state == FWD_UP && now - f->up_since >= STABLE)
		f->backoff = 1;
	f->retry_at = now + f->backoff;
	if (why == NULL)
		why = strerror(err);
	if (f->state == FWD_UP)
		set_report(f, TINTIN_WARN, "connection lost: %s; retrying in "
		    "%ds.", why, f->backoff);
	else if (f->was_up || f->backoff < TINTIN_FWD_BACKOFF_MAX)
		set_report(f, TINTIN_WARN, "cannot connect: %s; retrying in "
		    "%ds.", why, f->backoff);
	f->was_up = 0;
	f->state = FWD_DOWN;
	f->backoff = f->backoff * 2 > TINTIN_FWD_BACKOFF_MAX ?
	    TINTIN_FWD_BACKOFF_MAX : f->backoff * 2;
}

static void
fwd_connect(struct tintin_fwd *f, time_t now)
{
	int tries;

	/* A unix socket may be a stream (syslog-ng) or a datagram one. */
	for (tries = 0; tries < 2; tries++) {
		f->fd = socket(f->addr.ss_family, f->socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (f->fd == -1) {
			fwd_fail(f, errno, NULL, now);
			return;
		}
		if (connect(f->fd, (struct sockaddr *)&f->addr,
		    f->addrlen) == 0) {
			fwd_up(f);
			return;
		}
		if (errno == EINPROGRESS) {
			f->state = FWD_CONNECTING;
			f->connect_start = now;
			return;
		}
		if (errno != EPROTOTYPE || f->proto != FWD_UNIX)
			break;
		close(f->fd);
		f->fd = -1;
		f->socktype = f->socktype == SOCK_DGRAM ? SOCK_STREAM :
		    SOCK_DGRAM;
	}
	fwd_fail(f, errno, NULL, now);
}

/* Has the non-blocking connect finished?  Never waits. */
static void
fwd_check_connect(struct tintin_fwd *f, time_t now)
{
	struct pollfd pfd;
	socklen_t sl;
	int err;

	pfd.fd = f->fd;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0) {
		if (now - f->connect_start >= TINTIN_FWD_CONNECT_TIMEOUT)
			fwd_fail(f, ETIMEDOUT, NULL, now);
		return;
	}
	sl = sizeof(err);
	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		err = errno;
	if (err != 0)
		fwd_fail(f, err, NULL, now);
	else
		fwd_up(f);
}

/* A collector never talks: EOF or an error here means the link is gone. */
static int
fwd_check_peer(struct tintin_fwd *f, time_t now)
{
	char junk[512];
	ssize_t n;
	int i;

	for (i = 0; i < 4; i++) {
		n = recv(f->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0) {
			fwd_fail(f, ECONNRESET, "closed by the collector", now);
			return -1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		fwd_fail(f, errno, NULL, now);
		return -1;
	}
	return 0;
}

/* Account for N more bytes sent on a stream: whole frames leave. */
static void
stream_advance(struct tintin_fwd *f, size_t n)
{
	size_t fl, skip;

	f->part += n;
	while (f->head < f->len) {
		fl = frame_len(f->buf + f->head, &skip);
		if (f->part < fl)
			break;
		f->part -= fl;
		f->head += fl;
		f->nqueued--;
		f->sent++;
		f->bytes += fl;
	}
}

static void
send_stream(struct tintin_fwd *f, time_t now)
{
	ssize_t n;

	if (fwd_check_peer(f, now) == -1)
		return;
	while (f->head + f->part < f->len) {
		n = send(f->fd, f->buf + f->head + f->part,
		    f->len - f->head - f->part, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fwd_fail(f, errno, NULL, now);
			return;
		}
		stream_advance(f, (size_t)n);
	}
}

static void
send_dgram(struct tintin_fwd *f, time_t now)
{
	size_t fl, skip;
	ssize_t n;
	int refused = 0;

	while (f->head < f->len) {
		fl = frame_len(f->buf + f->head, &skip);
		n = send(f->fd, f->buf + f->head + skip, fl - skip,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/*
			 * UDP: an ICMP error about an earlier datagram, not
			 * a lost link; this one was not sent: send it again.
			 */
			if (errno == ECONNREFUSED && f->proto == FWD_UDP) {
				if (refused++ == 0)
					continue;
				return;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				return;
			if (errno != EMSGSIZE) {
				fwd_fail(f, errno, NULL, now);
				return;
			}
			f->dropped++;
			f->drop_run++;
		} else {
			f->sent++;
			f->bytes += fl - skip;
		}
		refused = 0;
		f->head += fl;
		f->nqueued--;
	}
}

static void
fwd_send(struct tintin_fwd *f, time_t now)
{
	if (f->state == FWD_DOWN && now >= f->retry_at)
		fwd_connect(f, now);
	if (f->state == FWD_CONNECTING)
		fwd_check_connect(f, now);
	if (f->state != FWD_UP || f->head == f->len)
		return;
	if (f->socktype == SOCK_STREAM)
		send_stream(f, now);
	else
		send_dgram(f, now);
	if (f->head == f->len) {
		f->head = f->len = f->part = 0;
		/* Give a burst's memory back. */
		if (f->cap > QUEUE_KEEP) {
			free(f->buf);
			f->buf = NULL;
			f->cap = 0;
		}
	}
}

void
tintin_fwd_flush(struct tintin_fwd *f)
{
	if (f->head == f->len && f->state != FWD_CONNECTING)
		return;
	fwd_send(f, time(NULL));
}

void
tintin_fwd_tick(struct tintin_fwd *f, time_t now)
{
	/* The caller may have forked (a daemon detaching) since set-up. */
	if (getpid() != f->pid)
		set_pid(f);
	if (f->state == FWD_UP && f->socktype == SOCK_STREAM &&
	    f->head == f->len)
		(void)fwd_check_peer(f, now);
	fwd_send(f, now);
}

int
tintin_fwd_report(struct tintin_fwd *f, char *note, size_t notesz)
{
	int level;

	if (f->nreports > 0) {
		snprintf(note, notesz, "%s", f->report[0]);
		level = f->report_level[0];
		f->nreports--;
		memmove(f->report[0], f->report[1],
		    (size_t)f->nreports * TINTIN_FWD_REPORT_MAX);
		memmove(f->report_level, f->report_level + 1,
		    (size_t)f->nreports * sizeof(int));
		return level;
	}
	if (f->drop_run > 0) {
		snprintf(note, notesz, "Forwarding to %s: %llu records "
		    "dropped (queue full).", f->target,
		    (unsigned long long)f->drop_run);
		f->drop_run = 0;
		return TINTIN_WARN;
	}
	return -1;
}

void
tintin_fwd_stats(const struct tintin_fwd *f, struct tintin_fwd_stats *st)
{
	st->sent = f->sent;
	st->bytes = f->bytes;
	st->dropped = f->dropped;
	st->queued = f->nqueued;
	st->queued_bytes = f->len - f->head;
	st->connected = f->state == FWD_UP;
	st->last_errno = f->last_errno;
}

void
tintin_fwd_free(struct tintin_fwd *f)
{
	if (f == NULL)
		return;
	if (f->state == FWD_UP)
		fwd_send(f, time(NULL));
	if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
	free(f);
}

/*
 * Line framer: turns a byte stream into records of at most `max` bytes.
 *
 * A line is cut on '\n'; a '\r' just before the '\n' is dropped, even when
 * the two arrive in different reads.  A line longer than `max` is emitted
 * as pieces of exactly `max` bytes (FRAMER_PART) and a last piece of 1 to
 * `max` bytes (FRAMER_END), so memory stays bounded and no byte is lost.
 * A piece is emitted only once a further content byte is known to follow,
 * which makes a line of exactly `max` bytes one FRAMER_LINE record.
 * Complete lines that arrive whole in one read are passed to the callback
 * straight from the caller's buffer, without a copy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/framer.h"

void
framer_init(struct framer *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max > 0 ? max : 1;
}

void
framer_free(struct framer *f)
{
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
}

size_t
framer_pending(const struct framer *f)
{
	return f->len + (size_t)f->cr;
}

static int
emit_part(struct framer *f, const char *p, size_t n, framer_cb cb, void *arg)
{
	f->part++;
	return cb(arg, p, n, FRAMER_PART, f->part) != 0;
}

static int
emit_final(struct framer *f, const char *p, size_t n, framer_cb cb, void *arg)
{
	unsigned part = f->part;

	f->part = 0;
	if (part == 0)
		return cb(arg, p, n, FRAMER_LINE, 0) != 0;
	return cb(arg, p, n, FRAMER_END, part + 1) != 0;
}

/* Append N content bytes to the pending line, emitting full pieces. */
static int
add(struct framer *f, const char *p, size_t n, framer_cb cb, void *arg)
{
	size_t take;

	if (n > 0 && f->buf == NULL && (f->buf = malloc(f->max)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	while (n > 0) {
		if (f->len == f->max) {
			f->len = 0;
			if (emit_part(f, f->buf, f->max, cb, arg))
				return 1;
		}
		take = f->max - f->len;
		if (take > n)
			take = n;
		memcpy(f->buf + f->len, p, take);
		f->len += take;
		p += take;
		n -= take;
	}
	return 0;
}

/* The line made of the pending bytes and P[0..N) is complete. */
static int
complete(struct framer *f, const char *p, size_t n, framer_cb cb, void *arg)
{
	int rc;

	if (f->len == 0 && f->part == 0) {
		while (!framer_whole(f, n)) {
			if (emit_part(f, p, f->max, cb, arg))
				return 1;
			p += f->max;
			n -= f->max;
		}
		return emit_final(f, p, n, cb, arg);
	}
	if ((rc = add(f, p, n, cb, arg)) != 0)
		return rc;
	n = f->len;
	f->len = 0;
	return emit_final(f, f->buf, n, cb, arg);
}

int
framer_feed(struct framer *f, const char *data, size_t len, framer_cb cb,
    void *arg)
{
	const char *p = data, *end = data + len, *nl;
	size_t n;
	int rc;

	f->consumed = len;	/* unless a stop says otherwise */
	if (len == 0)
		return 0;
	if (f->cr) {
		f->cr = 0;
		if (*p == '\n') {
			p++;
			if ((rc = complete(f, "", 0, cb, arg)) != 0) {
				f->consumed = (size_t)(p - data);
				return rc;
			}
		} else if ((rc = add(f, "\r", 1, cb, arg)) != 0) {
			if (rc == -1)
				f->cr = 1;
			return rc;
		}
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL) {
			n = (size_t)(end - p);
			if (p[n - 1] == '\r') {
				/* Maybe the CR of a CRLF split across reads. */
				f->cr = 1;
				n--;
			}
			return add(f, p, n, cb, arg);
		}
		n = framer_strip_cr(p, (size_t)(nl - p));
		if ((rc = complete(f, p, n, cb, arg)) != 0) {
			f->consumed = (size_t)(nl + 1 - data);
			return rc;
		}
		p = nl + 1;
	}
	return 0;
}

int
framer_finish(struct framer *f, framer_cb cb, void *arg)
{
	size_t n;

	f->cr = 0;	/* a trailing CR at end of stream is dropped too */
	if (f->len == 0 && f->part == 0)
		return 0;
	n = f->len;
	f->len = 0;
	return emit_final(f, f->buf, n, cb, arg);
}

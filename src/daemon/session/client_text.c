/*
 * Text from a plain session: the framer's records become "quit", a
 * command, or user input in the log.  Whole short lines take a fast way
 * straight into the log file's buffer, by the same rules (the framer's
 * for CR and max_line, is_quit() for "quit"), with the same records.
 */
#include <stdio.h>
#include <string.h>

#include "common/escape.h"
#include "daemon/session/client.h"
#include "daemon/session/client_int.h"

#define SHORT_LINE	256	/* log_plain_lines() first makes room for */
#define INPUT_TAG	"User input: "	/* before each line's escaped bytes */
#define TAG_LEN		(sizeof(INPUT_TAG) - 1)

/* The subject's "quit": a whole line, nothing else on it. */
static int
is_quit(const char *line, size_t len)
{
	return len == 4 && memcmp(line, "quit", 4) == 0;
}

static void
log_input(struct client *c, const char *data, size_t len, int kind,
    unsigned part)
{
	struct sessions *d = c->d;
	char *p = d->scratch;

	if (kind == FRAMER_LINE) {
		memcpy(p, INPUT_TAG, TAG_LEN);
		p += TAG_LEN;
	} else
		p += snprintf(p, 64, "User input [part %u, %s]: ", part,
		    kind == FRAMER_PART ? "continues" : "end");
	if (c->redact_next) {
		/* Maybe the password of the failed /auth, typed again. */
		p += snprintf(p, 96, "[not logged: %zu bytes right after a "
		    "failed authentication]", len);
		if (kind != FRAMER_PART)
			c->redact_next = 0;
	} else
		p += escape_bytes(p, data, len);
	tintin_log_msg_src(d->log, TINTIN_LOG, CAT_INPUT, c->addr, d->scratch,
	    (size_t)(p - d->scratch));	/* source: for the alerts' rules */
}

/*
 * Run command LINE for C; the records written meanwhile wait until its
 * reply and data lines are queued, which they never split.  Returns
 * what the command layer's d->ops->command() does.
 */
static int
run_command(struct client *c, const char *line, size_t len)
{
	int ran;

	c->in_command = 1;
	ran = c->d->ops->command(c, line, len);
	c->in_command = 0;
	client_follow_replied(c);
	return ran;
}

/* One line (or piece) from the client: quit, a command, or input. */
static int
on_record(void *arg, const char *data, size_t len, int kind, unsigned part)
{
	struct client *c = arg;
	struct sessions *d = c->d;
	int auth = d->cfg->auth_mode != MODE_OFF;

	if (c->refusals >= CLIENT_REFUSALS_MAX)
		return 1;	/* closed for them: the rest is not logged */
	if (c->following == FOLLOW_PLAIN && kind != FRAMER_PART) {
		/* Any line ends /follow; it is not logged. */
		client_follow(c, FOLLOW_OFF);
		client_reply(c, "+OK follow ended\n");
		return c->dead;
	}
	if (c->following == FOLLOW_PLAIN)
		return 0;

	if (kind == FRAMER_LINE && is_quit(data, len)) {
		if (auth && c->role != ROLE_ADMIN) {
			tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Refused "
			    "quit from %s (%s): not an admin.", c->addr,
			    c->role ? c->user : "anonymous");
			client_reply(c, c->role == ROLE_NONE &&
			    d->cfg->auth_mode == MODE_REQUIRED ?
			    "-ERR authentication required\n" :
			    "-ERR permission denied\n");
			return client_refused(c);
		}
		tintin_log(d->log, TINTIN_INFO, "Request quit.");
		sessions_stop(d);
		return 1;
	}
	if (kind == FRAMER_LINE && len > 0 && data[0] == '/' &&
	    run_command(c, data, len))
		return c->dead || d->stopping || client_paused(c) ||
		    c->shell != NULL || c->mux;
	if (kind == FRAMER_PART && part == 1 && len >= 5 &&
	    memcmp(data, "/auth", 5) == 0) {
		/* An /auth too long to be a command: it may hold a secret. */
		c->redact_next = 1;
	}
	if (client_unproven(c)) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Rejected line "
		    "from %s (not authenticated): %zu bytes.", c->addr, len);
		client_reply(c, "-ERR authentication required\n");
		return client_refused(c);
	}
	d->m->lines++;
	if (tintin_wants(d->log, TINTIN_LOG))
		log_input(c, data, len, kind, part);
	return 0;
}

/* Are this client's lines simply logged, when not commands or "quit"? */
static int
plain_client(const struct client *c)
{
	const struct sessions *d = c->d;

	return !c->following && !c->redact_next && c->shell == NULL &&
	    !c->dead && !d->stopping && !client_paused(c) &&
	    !client_unproven(c);
}

/*
 * The common case, fast: complete lines of at most max_line bytes that are
 * neither a command nor "quit", written straight into the log file's
 * buffer in the batch the caller opened; the same records on_record()
 * would log.  Returns the bytes taken: up to the first line that is not
 * such a line, or the end.
 */
static size_t
log_plain_lines(struct client *c, const char *buf, size_t len)
{
	struct sessions *d = c->d;
	const char *p = buf, *end = buf + len, *nl;
	size_t n, eol, out, lim, first, max = c->fr.max;
	uint64_t lines = 0;	/* added to the counter once, at the end */
	char *rec;

	while (p < end && *p != '/') {
		lim = (size_t)(end - p);
		if (lim > max + 2)	/* max bytes, a CR, the LF */
			lim = max + 2;
		/* Room for a short line first, escaped as its end is found. */
		first = lim < SHORT_LINE ? lim : SHORT_LINE;
		if ((rec = tintin_batch_next(d->log, TAG_LEN +
		    ESCAPE_BOUND(first))) == NULL)
			break;
		out = escape_line(rec + TAG_LEN, p, first, &eol);
		if (eol == first && first < lim) {
			/* A longer one: its end first, then room for it. */
			if ((nl = memchr(p + first, '\n', lim - first)) == NULL)
				break;
			eol = (size_t)(nl - p);
			if ((rec = tintin_batch_next(d->log, TAG_LEN +
			    ESCAPE_BOUND(eol))) == NULL)
				break;
			out = escape_bytes(rec + TAG_LEN, p, eol);
		}
		if (eol == lim)
			break;		/* no newline: too long, or not yet */
		if ((n = framer_strip_cr(p, eol)) < eol)
			out -= 4;	/* its "\x0d" */
		if (!framer_whole(&c->fr, n) || is_quit(p, n))
			break;
		memcpy(rec, INPUT_TAG, TAG_LEN);
		tintin_batch_put(d->log, TAG_LEN + out);
		lines++;
		p += eol + 1;
	}
	d->m->lines += lines;
	return (size_t)(p - buf);
}

/*
 * Frame LEN bytes of input.  Plain lines go through log_plain_lines()
 * while the client is plain and Tintin takes a batch (the log file alone
 * takes input, perhaps with the alerts' hook); the line that stops it
 * (and the end of a line the last read left pending) goes through the
 * framer, then the fast way resumes.  Otherwise all of
 * it goes through the framer.  Returns what framer_feed() does, with
 * fr.consumed counted from BUF.
 */
int
client_feed_text(struct client *c, const char *buf, size_t len)
{
	struct sessions *d = c->d;
	const char *nl;
	size_t off = 0, upto;
	int rc, one_line;

	while (off < len) {
		upto = len;
		one_line = framer_pending(&c->fr) != 0 || c->fr.part != 0;
		if (!one_line && plain_client(c) &&
		    tintin_batch_begin_src(d->log, TINTIN_LOG, CAT_INPUT,
		    c->addr) == 0) {
			off += log_plain_lines(c, buf + off, len - off);
			(void)tintin_batch_end(d->log);
			if (off == len)
				break;
			one_line = 1;
		}
		if (one_line &&
		    (nl = memchr(buf + off, '\n', len - off)) != NULL)
			upto = (size_t)(nl + 1 - buf);
		rc = framer_feed(&c->fr, buf + off, upto - off, on_record, c);
		c->fr.consumed += off;
		if (rc != 0)
			return rc;
		off = upto;
	}
	c->fr.consumed = len;
	return 0;
}

void
client_finish_text(struct client *c)
{
	(void)framer_finish(&c->fr, on_record, c);
}

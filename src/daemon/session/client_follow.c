/*
 * Following the log: every record to the clients that follow it, as it
 * is (/follow) or tagged "* RECORD" (/follow live), kept aside while a
 * live follower's own command is replying so that no record splits a
 * reply from its data lines.  A multiplexed session (/mux) gets them as
 * 'R' frames, apart from its replies: nothing to tag, nothing to hold.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/session/client.h"
#include "daemon/session/client_int.h"

#define LIVE_TAG	"* "	/* before each record to a live follower */
#define LIVE_TAG_LEN	(sizeof(LIVE_TAG) - 1)

static char tagbuf[64 * 1024];	/* records with their tags, to send */

/*
 * Tag each of the LEN bytes of whole records REC ("* RECORD\n") and queue
 * them for C; 0, or -1 if C is gone.
 */
static int
send_tagged(struct client *c, const char *rec, size_t len)
{
	const char *p = rec, *end = rec + len, *nl;
	size_t n, fill = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl + 1 - p) : (size_t)(end - p);
		if (fill + LIVE_TAG_LEN + n + 1 > sizeof(tagbuf)) {
			if (fill > 0 && client_send_raw(c, NULL, 0, tagbuf,
			    fill) == -1)
				return -1;
			fill = 0;
		}
		if (LIVE_TAG_LEN + n + 1 > sizeof(tagbuf)) {
			/* Longer than the buffer: the tag, then the record. */
			if (client_send_raw(c, LIVE_TAG, LIVE_TAG_LEN, p, n) ==
			    -1 || (nl == NULL &&
			    client_send_raw(c, NULL, 0, "\n", 1) == -1))
				return -1;
			p += n;
			continue;
		}
		memcpy(tagbuf + fill, LIVE_TAG, LIVE_TAG_LEN);
		memcpy(tagbuf + fill + LIVE_TAG_LEN, p, n);
		fill += LIVE_TAG_LEN + n;
		if (nl == NULL)
			tagbuf[fill++] = '\n';
		p += n;
	}
	return fill > 0 ? client_send_raw(c, NULL, 0, tagbuf, fill) : 0;
}

void
client_follow_replied(struct client *c)
{
	char *held;
	size_t n;

	held = c->held_records;
	n = c->held_len;
	c->held_records = NULL;
	c->held_len = 0;
	if (c->shell != NULL && !c->mux)
		/* Frames from now on: no room for tagged lines. */
		client_follow(c, FOLLOW_OFF);
	if (n > 0 && !c->dead && c->following == FOLLOW_LIVE) {
		if (c->outlen + n > CLIENT_RAW_MAX)
			client_close(c, "not reading what it is sent");
		else if (c->mux)
			/* It has just turned /mux on: frames now. */
			(void)client_send_frames(c, 'R', held, n,
			    CLIENT_RAW_MAX);
		else
			(void)send_tagged(c, held, n);
	}
	free(held);
}

void
client_follow(struct client *c, int mode)
{
	struct sessions *d = c->d;
	int was = c->following;

	if (was == mode)
		return;
	/* First: turning the sink off flushes it, to the others only. */
	c->following = mode;
	if ((was == FOLLOW_OFF) != (mode == FOLLOW_OFF)) {
		d->nfollowers += mode != FOLLOW_OFF ? 1 : -1;
		tintin_set_enabled(d->log, d->follow_sink, d->nfollowers > 0);
	}
}

/* Keep records for C until the command it runs has replied. */
static void
hold_records(struct client *c, const char *records, size_t len)
{
	char *p;

	if (c->outlen + c->held_len + len > CLIENT_RAW_MAX) {
		/* Too much: closed once the reply is out. */
		c->held_len = CLIENT_RAW_MAX + 1;
		return;
	}
	if ((p = realloc(c->held_records, c->held_len + len)) == NULL) {
		c->held_len = CLIENT_RAW_MAX + 1;
		return;
	}
	memcpy(p + c->held_len, records, len);
	c->held_records = p;
	c->held_len += len;
}

void
client_follow_records(struct sessions *d, const char *records, size_t len)
{
	struct client *c;

	for (c = d->clients; c != NULL; c = c->next) {
		if (c->dead || c->following == FOLLOW_OFF)
			continue;
		if (c->mux)
			(void)client_send_frames(c, 'R', records, len,
			    CLIENT_RAW_MAX);
		else if (c->following == FOLLOW_PLAIN)
			(void)client_send_raw(c, NULL, 0, records, len);
		else if (c->in_command)
			hold_records(c, records, len);
		else
			(void)send_tagged(c, records, len);
	}
}

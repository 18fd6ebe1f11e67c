/*
 * What goes to a client: replies, shell frames and followed records wait
 * in one buffer, bounded (a client that does not read is closed), sent as
 * the socket takes them; to a multiplexed session (/mux), replies go as
 * 'r' frames.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/session/client.h"
#include "daemon/session/client_int.h"
#include "daemon/session/tls.h"

#define OUT_MAX		(16 * 1024)	/* replies waiting, unless following */
#define FRAME_MAX	4096		/* largest frame payload */
#define FRAME_HDR	3		/* type, length (2 bytes) */

static ssize_t
conn_send(struct client *c, const void *buf, size_t n)
{
	if (c->tls != NULL)
		return tls_write(c->tls, buf, n, &c->want_write);
	return send(c->io.fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int
client_flush(struct client *c)
{
	ssize_t n;

	while (c->outlen > 0 && c->state == CLIENT_OPEN) {
		n = conn_send(c, c->out, c->outlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			client_close(c, strerror(errno));
			return -1;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	if (c->outlen == 0 && c->closing) {
		client_close(c, c->closing == 2 ? "shell ended" : NULL);
		return -1;
	}
	client_update_events(c);
	/* Multiplexed: the terminal leaves half of the buffer to records
	 * (a lagging client is not closed for its terminal's output), and
	 * reads on as soon as a frame fits beside them. */
	if (c->shell != NULL && client_room(c) >= (c->mux ? CLIENT_RAW_MAX /
	    2 + 2 * (FRAME_MAX + FRAME_HDR) : CLIENT_RAW_MAX / 2))
		c->d->ops->term_drained(c);
	return 0;
}

/* Make room for LEN more bytes of output, up to LIMIT waiting. */
static int
out_reserve(struct client *c, size_t len, size_t limit)
{
	size_t ncap;
	char *nb;

	if (c->outlen + len > limit)
		return -1;
	if (c->outlen + len <= c->outcap)
		return 0;
	ncap = c->outcap ? c->outcap : 4096;
	while (ncap < c->outlen + len)
		ncap *= 2;
	if (ncap > limit)
		ncap = limit;
	if ((nb = realloc(c->out, ncap)) == NULL)
		return -1;
	c->out = nb;
	c->outcap = ncap;
	return 0;
}

size_t
client_room(const struct client *c)
{
	size_t room;

	room = c->outlen >= CLIENT_RAW_MAX ? 0 : CLIENT_RAW_MAX - c->outlen;
	if (c->mux && room > 0)
		/* What fits once cut into frames. */
		room -= (room / (FRAME_MAX + FRAME_HDR) + 1) * FRAME_HDR;
	return room;
}

int
client_send_frames(struct client *c, int type, const void *data,
    size_t len, size_t limit)
{
	const char *p = data;
	size_t n, total;
	char *o;

	if (c->dead)
		return -1;
	total = len + (len + FRAME_MAX - 1) / FRAME_MAX * FRAME_HDR;
	if (out_reserve(c, total, limit) == -1) {
		client_close(c, type == 'r' ? "not reading its replies" :
		    "not reading what it is sent");
		return -1;
	}
	o = c->out + c->outlen;
	while (len > 0) {
		n = len < FRAME_MAX ? len : FRAME_MAX;
		o[0] = (char)type;
		o[1] = (char)(n >> 8);
		o[2] = (char)n;
		memcpy(o + FRAME_HDR, p, n);
		o += FRAME_HDR + n;
		p += n;
		len -= n;
	}
	c->outlen += total;
	return client_flush(c);
}

int
client_send_raw(struct client *c, const void *hdr, size_t hlen,
    const void *data, size_t len)
{
	if (c->dead)
		return -1;
	if (c->mux && hlen == 0)
		/* A reply's data lines (/tail). */
		return client_send_frames(c, 'r', data, len, CLIENT_RAW_MAX);
	if (out_reserve(c, hlen + len, CLIENT_RAW_MAX) == -1) {
		client_close(c, "not reading what it is sent");
		return -1;
	}
	if (hlen > 0)
		memcpy(c->out + c->outlen, hdr, hlen);
	if (len > 0)
		memcpy(c->out + c->outlen + hlen, data, len);
	c->outlen += hlen + len;
	return client_flush(c);
}

void
client_close_when_sent(struct client *c, const char *reason)
{
	(void)reason;
	c->closing = 2;
	if (c->outlen == 0)
		client_close(c, "shell ended");
	else
		client_update_events(c);
}

int
client_reply(struct client *c, const char *msg)
{
	size_t len = strlen(msg);

	if (c->dead)
		return -1;
	if (c->mux)
		return client_send_frames(c, 'r', msg, len, c->following ||
		    c->shell != NULL ? CLIENT_RAW_MAX : OUT_MAX);
	if (out_reserve(c, len, c->following ? CLIENT_RAW_MAX : OUT_MAX) ==
	    -1) {
		client_close(c, "not reading its replies");
		return -1;
	}
	memcpy(c->out + c->outlen, msg, len);
	c->outlen += len;
	return client_flush(c);
}

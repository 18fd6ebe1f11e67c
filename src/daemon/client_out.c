/*
 * What goes to a client: replies, shell frames and followed records wait
 * in one buffer, bounded (a client that does not read is closed), sent as
 * the socket takes them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/client.h"
#include "daemon/client_int.h"
#include "daemon/daemon.h"
#include "daemon/shell.h"
#include "daemon/tls.h"

#define OUT_MAX		(16 * 1024)	/* replies waiting, unless following */

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
	if (c->shell != NULL && client_room(c) >= CLIENT_RAW_MAX / 2)
		shell_drained(c);
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
	return c->outlen >= CLIENT_RAW_MAX ? 0 : CLIENT_RAW_MAX - c->outlen;
}

int
client_send_raw(struct client *c, const void *hdr, size_t hlen,
    const void *data, size_t len)
{
	if (c->dead)
		return -1;
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
	if (out_reserve(c, len, c->following ? CLIENT_RAW_MAX : OUT_MAX) ==
	    -1) {
		client_close(c, "not reading its replies");
		return -1;
	}
	memcpy(c->out + c->outlen, msg, len);
	c->outlen += len;
	return client_flush(c);
}

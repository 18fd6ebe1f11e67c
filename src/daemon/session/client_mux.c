/*
 * A multiplexed session (/mux, docs/PROTOCOL.md section 7.1): the input
 * is frames, 'l' carrying the text a plain session would send (lines,
 * commands), 'd', 'w' and 'x' the shell's; each payload goes where it belongs
 * as it arrives, so that nothing is buffered here but a header.
 */
#include <string.h>

#include "daemon/session/client.h"
#include "daemon/session/client_int.h"

#define FRAME_MAX	4096		/* largest payload */
#define FRAME_HDR	3		/* type, length (2 bytes) */
#define WIN_LEN		4		/* a 'w' payload: rows, cols */

/* The header just completed: 0, or -1 if it is no frame of ours. */
static int
mux_header(struct client *c)
{
	int type = c->mux_hdr[0];
	size_t plen = (size_t)(c->mux_hdr[1] << 8 | c->mux_hdr[2]);

	if (plen > FRAME_MAX || type == '\0' || strchr("ldwx", type) == NULL ||
	    (type == 'w' && plen != WIN_LEN) || (type == 'x' && plen != 0))
		return -1;
	if (type == 'x' && c->shell != NULL) {
		/* Hang the shell up, as a dropped connection would. */
		c->d->ops->term_stop(c);
		client_update_events(c);
	}
	c->mux_left = plen;
	if (plen == 0)
		c->mux_hlen = 0;
	return 0;
}

/* TAKE payload bytes P of the current frame: how many were used, or -1. */
static long
mux_payload(struct client *c, const char *p, size_t take)
{
	const unsigned char *u = (const unsigned char *)p;
	int rc;

	switch (c->mux_hdr[0]) {
	case 'l':
		if ((rc = client_feed_text(c, p, take)) == -1)
			return -1;
		return rc == 1 ? (long)c->fr.consumed : (long)take;
	case 'd':
		return c->d->ops->term_frame(c, 'd', u, take) == -1 ? -1 :
		    (long)take;
	default:
		memcpy(c->mux_win + WIN_LEN - c->mux_left, p, take);
		if (take == c->mux_left &&
		    c->d->ops->term_frame(c, 'w', c->mux_win, WIN_LEN) == -1)
			return -1;
		return (long)take;
	}
}

size_t
client_mux_input(struct client *c, const char *data, size_t len)
{
	size_t off = 0, take;
	long used;

	while (off < len && !c->dead && !c->d->stopping && !client_paused(c)) {
		if (c->mux_hlen < FRAME_HDR) {
			c->mux_hdr[c->mux_hlen++] = (unsigned char)data[off++];
			if (c->mux_hlen == FRAME_HDR && mux_header(c) == -1) {
				client_close(c, "bad frame");
				break;
			}
			continue;
		}
		take = len - off < c->mux_left ? len - off : c->mux_left;
		if ((used = mux_payload(c, data + off, take)) == -1) {
			client_close(c, "out of memory");
			break;
		}
		off += (size_t)used;
		c->mux_left -= (size_t)used;
		if (c->mux_left == 0)
			c->mux_hlen = 0;
	}
	return off;
}

/*
 * Frames of a /shell session: type (1 byte), length (2 bytes, big
 * endian), payload.  Reassembled from reads of any size.
 */
#include <string.h>

#include "common/frames.h"

int
frames_feed(struct frames *f, const void *data, size_t len,
    const char *types, frames_cb cb, void *arg)
{
	const unsigned char *p = data;
	size_t need, take, plen;

	while (len > 0) {
		need = f->len < 3 ? 3 : 3 + (size_t)(f->buf[1] << 8 |
		    f->buf[2]);
		take = need - f->len;
		if (take > len)
			take = len;
		memcpy(f->buf + f->len, p, take);
		f->len += take;
		p += take;
		len -= take;
		if (f->len < 3)
			continue;
		if (f->len == 3) {
			plen = (size_t)(f->buf[1] << 8 | f->buf[2]);
			if (plen > FRAMES_MAX || f->buf[0] == '\0' ||
			    strchr(types, f->buf[0]) == NULL ||
			    ((f->buf[0] == 'w' || f->buf[0] == 'x') &&
			    plen != 4))
				return -1;
			need = 3 + plen;
		}
		if (f->len < need)
			continue;
		f->len = 0;
		if (cb(arg, f->buf[0], f->buf + 3, need - 3) != 0)
			return 1;
	}
	return 0;
}

/* The frames of a /shell session (docs/PROTOCOL.md, section 7), read by
 * the daemon and by both clients. */
#ifndef FRAMES_H
#define FRAMES_H

#include <stddef.h>

#define FRAMES_MAX	4096	/* largest payload */

/* Reassembles frames from a byte stream cut anywhere. */
struct frames {
	unsigned char	buf[3 + FRAMES_MAX];
	size_t		len;
};

/*
 * Called for each whole frame: TYPE and its N-byte payload P.  Returns 0
 * to go on, non-zero to stop (frames_feed then returns 1).
 */
typedef int (*frames_cb)(void *arg, int type, const unsigned char *p,
    size_t n);

/*
 * Feed LEN bytes.  Only types in TYPES are accepted; 'w' (window size)
 * and 'x' (exit status) must carry exactly 4 bytes.  Returns 0, 1 if CB stopped, or -1 on a
 * malformed frame (unknown type, too long): the stream is then unusable.
 */
int	frames_feed(struct frames *f, const void *data, size_t len,
	    const char *types, frames_cb cb, void *arg);

#endif /* FRAMES_H */

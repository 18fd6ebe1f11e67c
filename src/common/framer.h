/* Line framing of a byte stream into bounded records. */
#ifndef FRAMER_H
#define FRAMER_H

#include <stddef.h>

enum framer_kind {
	FRAMER_LINE = 0,	/* a whole line */
	FRAMER_PART,		/* piece of a long line; more follows */
	FRAMER_END		/* last piece of a long line */
};

/*
 * Called once per record: LEN bytes at DATA (no newline, no trailing CR),
 * KIND as above, PART the 1-based piece number (0 for FRAMER_LINE).
 * Returns 0 to go on, non-zero to stop framing (framer_feed returns then).
 */
typedef int (*framer_cb)(void *arg, const char *data, size_t len, int kind,
    unsigned part);

struct framer {
	char		*buf;		/* pending bytes of the current line */
	size_t		 len;
	size_t		 max;		/* max_line: bytes per record */
	unsigned	 part;		/* pieces already emitted of this line */
	int		 cr;		/* a '\r' ended the last feed */
	size_t		 consumed;	/* bytes of the last feed used up */
};

/* The length of a line of N bytes at P (its newline excluded) once a
 * final CR is dropped, as the framer drops it. */
static inline size_t
framer_strip_cr(const char *p, size_t n)
{
	return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

/* Is a whole line of N bytes (CR dropped) one FRAMER_LINE record for F,
 * rather than pieces? */
static inline int
framer_whole(const struct framer *f, size_t n)
{
	return n <= f->max;
}

/* Prepare F for records of at most MAX bytes (MAX >= 1). */
void	framer_init(struct framer *f, size_t max);

/*
 * Frame LEN bytes of DATA, calling CB for every record completed.
 * Returns 0, 1 if CB asked to stop, or -1 (ENOMEM) without losing state.
 * After a stop at the end of a whole line, f->consumed tells how many
 * bytes of DATA were used: the caller may feed the rest later.
 */
int	framer_feed(struct framer *f, const char *data, size_t len,
	    framer_cb cb, void *arg);

/* End of stream: emit the partial last line, if any. Same returns. */
int	framer_finish(struct framer *f, framer_cb cb, void *arg);

/* Bytes held for an incomplete line (for memory accounting). */
size_t	framer_pending(const struct framer *f);

/* Release the buffer. */
void	framer_free(struct framer *f);

#endif /* FRAMER_H */

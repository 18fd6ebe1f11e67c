/* The 64-byte benchmark line shared by flood (which sends it) and check. */
#ifndef BENCH_LINE_H
#define BENCH_LINE_H

#include <stddef.h>
#include <string.h>

/*
 * A line is exactly LINE_LEN bytes including the final '\n':
 *
 *	c=1 n=000000042 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa17\n
 *
 * "c=<conn> n=<9-digit seq> " is the marker check looks for; it survives
 * any log prefix put in front of it.  The padding letter depends on the
 * connection and the two final digits on (conn, seq), so a line torn or
 * spliced with another connection's bytes does not pass as a valid one.
 */
#define LINE_LEN	64
#define LINE_PAYLOAD	(LINE_LEN - 1)	/* without the '\n' */
#define LINE_MAX_CONNS	99
#define LINE_MAX_SEQ	999999999UL

static inline char
line_pad(unsigned int conn)
{
	return (char)('a' + (conn - 1) % 26);
}

static inline unsigned int
line_sum(unsigned int conn, unsigned long seq)
{
	return (unsigned int)((seq * 7 + conn * 13) % 100);
}

/* Write line (conn, seq) into out[LINE_LEN]; returns the marker length. */
static inline size_t
line_make(char *out, unsigned int conn, unsigned long seq)
{
	size_t i = 0;
	unsigned int sum = line_sum(conn, seq);
	int d;

	out[i++] = 'c';
	out[i++] = '=';
	if (conn >= 10)
		out[i++] = (char)('0' + conn / 10);
	out[i++] = (char)('0' + conn % 10);
	out[i++] = ' ';
	out[i++] = 'n';
	out[i++] = '=';
	for (d = 8; d >= 0; d--) {
		out[i + (size_t)d] = (char)('0' + seq % 10);
		seq /= 10;
	}
	i += 9;
	out[i++] = ' ';
	memset(out + i, line_pad(conn), LINE_PAYLOAD - 2 - i);
	out[LINE_PAYLOAD - 2] = (char)('0' + sum / 10);
	out[LINE_PAYLOAD - 1] = (char)('0' + sum % 10);
	out[LINE_PAYLOAD] = '\n';
	return i;
}

#endif

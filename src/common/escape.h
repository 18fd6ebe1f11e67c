/* Escaping of untrusted bytes so they can neither forge nor corrupt a log line. */
#ifndef ESCAPE_H
#define ESCAPE_H

#include <stddef.h>

/* Worst-case size of the escaped form of LEN bytes. */
#define ESCAPE_BOUND(len)	((len) * 4)

/*
 * Escape LEN bytes of SRC into DST, which must hold ESCAPE_BOUND(LEN)
 * bytes (some may be written past the result); returns the length of the
 * result (no NUL is added).
 * Valid UTF-8 passes through, except the characters that can make a
 * record lie when shown (C1 controls, U+061C, U+200B..U+200F,
 * U+2028..U+202E, U+2060, U+2066..U+2069, U+FEFF); bytes 0x00-0x1f, 0x7f,
 * every byte of those characters and of an invalid UTF-8 sequence become
 * \xHH (lowercase), and the backslash becomes \\.
 */
size_t	escape_bytes(char *dst, const char *src, size_t len);

/*
 * Escape SRC up to its first newline, looking at LEN bytes at most, into
 * DST (ESCAPE_BOUND(LEN) bytes, some written past the result): the bytes
 * escape_bytes() gives for the line.  *EOL is the newline's offset, or
 * LEN if there is none.  One pass where memchr() then escape_bytes()
 * would make two.
 */
size_t	escape_line(char *dst, const char *src, size_t len, size_t *eol);

/*
 * Scan with AVX2 where the CPU has it (AVX2 nonzero, the default) or with
 * SSE2 only: the same bytes either way.  For tests of both paths.
 */
void	escape_simd(int avx2);

/*
 * Undo escape_bytes() on LEN bytes of SRC into DST (at most LEN bytes);
 * returns the number of bytes written, or (size_t)-1 on a malformed escape.
 */
size_t	escape_undo(char *dst, const char *src, size_t len);

#endif /* ESCAPE_H */

/*
 * libFuzzer harness: the line framer and the escaper, on input cut into
 * arbitrary reads.  Checks the invariants the log relies on: no record is
 * longer than max_line, every byte of input comes out once (newlines and
 * the CR before them aside), and escaped records hold no control byte
 * and none of the characters that can make a record lie when shown.
 * Also that escape_line(), the daemon's one-pass way for plain lines,
 * gives what memchr() then escape_bytes() give.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/framer.h"

#define MAXREC	64

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t total;

/* U+061C, U+200B..U+200F, U+2028..U+202E, U+2060, U+2066..U+2069, U+FEFF. */
static const char *const liars[] = {
	"\xd8\x9c", "\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d",
	"\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xa8", "\xe2\x80\xa9",
	"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad",
	"\xe2\x80\xae", "\xe2\x81\xa0", "\xe2\x81\xa6", "\xe2\x81\xa7",
	"\xe2\x81\xa8", "\xe2\x81\xa9", "\xef\xbb\xbf",
};

static int
on_record(void *arg, const char *p, size_t len, int kind, unsigned part)
{
	char back[MAXREC], *out;
	size_t n, i;

	(void)arg;
	(void)kind;
	(void)part;
	assert(len <= MAXREC);
	total += len;
	/* Exactly the bound, on the heap: ASan sees a byte written past it. */
	out = malloc(len > 0 ? ESCAPE_BOUND(len) : 1);
	assert(out != NULL);
	n = escape_bytes(out, p, len);
	assert(n <= ESCAPE_BOUND(len));
	for (i = 0; i < n; i++)
		assert((unsigned char)out[i] >= 0x20 &&
		    (unsigned char)out[i] != 0x7f);
	for (i = 0; i < sizeof(liars) / sizeof(*liars); i++)
		assert(memmem(out, n, liars[i], strlen(liars[i])) == NULL);
	assert(escape_undo(back, out, n) == len);
	assert(memcmp(back, p, len) == 0);
	free(out);
	return 0;
}

/* Each line of DATA through escape_line() and the two-pass way. */
static void
check_escape_line(const char *data, size_t size)
{
	const char *nl;
	size_t off = 0, left, eol, n, m;
	char *a, *b;

	while (off < size) {
		left = size - off;
		a = malloc(ESCAPE_BOUND(left));
		b = malloc(ESCAPE_BOUND(left));
		assert(a != NULL && b != NULL);
		n = escape_line(a, data + off, left, &eol);
		nl = memchr(data + off, '\n', left);
		assert(eol == (nl != NULL ? (size_t)(nl - data - off) : left));
		m = escape_bytes(b, data + off, eol);
		assert(n == m && memcmp(a, b, n) == 0);
		free(a);
		free(b);
		off += eol + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct framer f;
	size_t off = 0, chunk, content = 0, i;

	if (size < 1)
		return 0;
	escape_simd(size & 1);	/* both scanners, half the inputs each */
	/* The first byte chooses the size of the reads. */
	chunk = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	for (i = 0; i < size; i++) {
		if (data[i] == '\n')
			continue;
		if (data[i] == '\r' && (i + 1 == size || data[i + 1] == '\n'))
			continue;
		content++;
	}
	total = 0;
	framer_init(&f, MAXREC);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		assert(framer_feed(&f, (const char *)data + off, n, on_record,
		    NULL) == 0);
		off += n;
	}
	assert(framer_finish(&f, on_record, NULL) == 0);
	framer_free(&f);
	assert(total == content);
	check_escape_line((const char *)data, size);
	return 0;
}

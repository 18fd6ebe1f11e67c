/* Unit tests of the line framer (src/common/framer.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/framer.h"

#define MAXREC	64

struct rec {
	char		data[256];
	size_t		len;
	int		kind;
	unsigned	part;
};

static struct rec recs[4096];
static size_t nrecs;
static size_t stop_after;	/* 0: never */

static int
collect(void *arg, const char *data, size_t len, int kind, unsigned part)
{
	(void)arg;
	assert_true(nrecs < sizeof(recs) / sizeof(recs[0]));
	assert_true(len < sizeof(recs[0].data));
	memcpy(recs[nrecs].data, data, len);
	recs[nrecs].data[len] = '\0';
	recs[nrecs].len = len;
	recs[nrecs].kind = kind;
	recs[nrecs].part = part;
	nrecs++;
	return stop_after != 0 && nrecs >= stop_after;
}

static int
setup(void **state)
{
	(void)state;
	nrecs = 0;
	stop_after = 0;
	return 0;
}

/* Feed S in chunks of CHUNK bytes, then finish. */
static void
feed(size_t max, const char *s, size_t len, size_t chunk)
{
	struct framer f;
	size_t off, n;

	framer_init(&f, max);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		assert_int_equal(framer_feed(&f, s + off, n, collect, NULL), 0);
	}
	assert_int_equal(framer_finish(&f, collect, NULL), 0);
	framer_free(&f);
}

#define FEED(max, lit, chunk)	feed(max, lit, sizeof(lit) - 1, chunk)

static void
test_lines_in_one_packet_are_split(void **state)
{
	(void)state;
	FEED(MAXREC, "a\nbb\n\nccc\n", 1000);
	assert_int_equal(nrecs, 4);
	assert_string_equal(recs[0].data, "a");
	assert_string_equal(recs[1].data, "bb");
	assert_string_equal(recs[2].data, "");
	assert_string_equal(recs[3].data, "ccc");
	assert_int_equal(recs[3].kind, FRAMER_LINE);
}

static void
test_split_packets_are_joined(void **state)
{
	size_t chunk;

	(void)state;
	for (chunk = 1; chunk <= 7; chunk++) {
		nrecs = 0;
		FEED(MAXREC, "hello\r\nworld\n", chunk);
		assert_int_equal(nrecs, 2);
		assert_string_equal(recs[0].data, "hello");
		assert_string_equal(recs[1].data, "world");
	}
}

static void
test_crlf_split_across_reads_drops_cr(void **state)
{
	(void)state;
	FEED(MAXREC, "ab\r\ncd\r\n", 3);	/* "ab\r" | "\ncd" | "\r\n" */
	assert_int_equal(nrecs, 2);
	assert_string_equal(recs[0].data, "ab");
	assert_string_equal(recs[1].data, "cd");
}

static void
test_inner_cr_is_kept(void **state)
{
	(void)state;
	FEED(MAXREC, "a\rb\n", 2);
	assert_int_equal(nrecs, 1);
	assert_string_equal(recs[0].data, "a\rb");
}

static void
test_partial_last_line_emitted_at_finish(void **state)
{
	(void)state;
	FEED(MAXREC, "one\ntwo", 1000);
	assert_int_equal(nrecs, 2);
	assert_string_equal(recs[1].data, "two");
	assert_int_equal(recs[1].kind, FRAMER_LINE);
	nrecs = 0;
	FEED(MAXREC, "tail\r", 1000);
	assert_int_equal(nrecs, 1);
	assert_string_equal(recs[0].data, "tail");
}

static void
test_line_of_exactly_max_is_one_record(void **state)
{
	char line[MAXREC + 2];
	size_t chunk;

	(void)state;
	memset(line, 'x', MAXREC);
	line[MAXREC] = '\r';
	line[MAXREC + 1] = '\n';
	for (chunk = 1; chunk <= MAXREC + 2; chunk++) {
		nrecs = 0;
		feed(MAXREC, line, sizeof(line), chunk);
		assert_int_equal(nrecs, 1);
		assert_int_equal(recs[0].kind, FRAMER_LINE);
		assert_int_equal(recs[0].len, MAXREC);
	}
}

/* A long line is cut in max-sized parts; every byte is kept, in order. */
static void
test_long_line_is_cut_without_loss(void **state)
{
	char line[MAXREC * 3 + 11], joined[sizeof(line)];
	size_t chunk, i, off;

	(void)state;
	for (i = 0; i < sizeof(line) - 1; i++)
		line[i] = (char)('a' + i % 26);
	line[sizeof(line) - 1] = '\n';
	for (chunk = 1; chunk <= sizeof(line); chunk += 7) {
		nrecs = 0;
		feed(MAXREC, line, sizeof(line), chunk);
		assert_int_equal(nrecs, 4);
		for (i = 0, off = 0; i < nrecs; i++) {
			assert_int_equal(recs[i].part, i + 1);
			assert_int_equal(recs[i].kind,
			    i < 3 ? FRAMER_PART : FRAMER_END);
			assert_true(recs[i].len <= MAXREC);
			memcpy(joined + off, recs[i].data, recs[i].len);
			off += recs[i].len;
		}
		assert_int_equal(off, sizeof(line) - 1);
		assert_memory_equal(joined, line, off);
	}
}

static void
test_long_partial_line_at_finish(void **state)
{
	char line[MAXREC * 2 + 5];

	(void)state;
	memset(line, 'q', sizeof(line));
	feed(MAXREC, line, sizeof(line), 13);
	assert_int_equal(nrecs, 3);
	assert_int_equal(recs[2].kind, FRAMER_END);
	assert_int_equal(recs[2].len, 5);
	assert_int_equal(recs[2].part, 3);
}

static void
test_cr_at_cut_point_is_content(void **state)
{
	char line[MAXREC + 3];

	(void)state;
	/* MAXREC x's, then "\rZ\n": the CR is not before the newline. */
	memset(line, 'x', MAXREC);
	memcpy(line + MAXREC, "\rZ\n", 3);
	feed(MAXREC, line, sizeof(line), MAXREC + 1);
	assert_int_equal(nrecs, 2);
	assert_int_equal(recs[0].len, MAXREC);
	assert_int_equal(recs[1].kind, FRAMER_END);
	assert_string_equal(recs[1].data, "\rZ");
}

static void
test_callback_can_stop(void **state)
{
	static const char in[] = "a\nquit\nb\n";
	struct framer f;

	(void)state;
	stop_after = 2;
	framer_init(&f, MAXREC);
	assert_int_equal(framer_feed(&f, in, 9, collect, NULL), 1);
	assert_int_equal(nrecs, 2);
	/* The caller can feed the rest later. */
	assert_int_equal(f.consumed, 7);
	stop_after = 0;
	assert_int_equal(framer_feed(&f, in + 7, 2, collect, NULL), 0);
	assert_int_equal(nrecs, 3);
	assert_string_equal(recs[2].data, "b");
	framer_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lines_in_one_packet_are_split, setup),
		cmocka_unit_test_setup(test_split_packets_are_joined, setup),
		cmocka_unit_test_setup(test_crlf_split_across_reads_drops_cr,
		    setup),
		cmocka_unit_test_setup(test_inner_cr_is_kept, setup),
		cmocka_unit_test_setup(test_partial_last_line_emitted_at_finish,
		    setup),
		cmocka_unit_test_setup(test_line_of_exactly_max_is_one_record,
		    setup),
		cmocka_unit_test_setup(test_long_line_is_cut_without_loss,
		    setup),
		cmocka_unit_test_setup(test_long_partial_line_at_finish, setup),
		cmocka_unit_test_setup(test_cr_at_cut_point_is_content, setup),
		cmocka_unit_test_setup(test_callback_can_stop, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of Tintin_reporter's RFC 5424 formatting, public API only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tintin/tintin.h"

/* "<PRI>1 STAMP host Matt_daemon 42 - - " into BUF. */
static void
expected_header(char *buf, size_t size, int pri, const char *stamp)
{
	snprintf(buf, size, "<%d>1 %s host Matt_daemon 42 - - ", pri, stamp);
}

static size_t
format(char *buf, size_t size, int level, int64_t t, int ms, long gmtoff,
    const char *msg, size_t len)
{
	return tintin_rfc5424(buf, size, level, t, ms, gmtoff, "host",
	    "Matt_daemon", "42", msg, len);
}

static void
test_format_is_rfc5424(void **state)
{
	char buf[512], want[512];
	size_t n;

	(void)state;
	/* 2025-11-25 03:41:44 UTC, shown at +01:00. */
	n = format(buf, sizeof(buf), TINTIN_INFO, 1764042104, 7, 3600,
	    "Started.", 8);
	expected_header(want, sizeof(want), 30,
	    "2025-11-25T04:41:44.007+01:00");
	strcat(want, "Started.");
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	n = format(buf, sizeof(buf), TINTIN_LOG, 1764042104, 999, -34200,
	    "x", 1);
	expected_header(want, sizeof(want), 29,
	    "2025-11-24T18:11:44.999-09:30");
	strcat(want, "x");
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	/* A time known to the second: no fraction. */
	n = format(buf, sizeof(buf), TINTIN_LOG, 1764042104, -1, 3600,
	    "y", 1);
	expected_header(want, sizeof(want), 29, "2025-11-25T04:41:44+01:00");
	strcat(want, "y");
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
}

/* Facility daemon (3): PRI = 24 + severity. */
static void
test_severity_by_level(void **state)
{
	static const int pri[] = { 31, 30, 29, 28, 27 };
	char buf[256], want[8];
	int level;

	(void)state;
	for (level = 0; level < TINTIN_NLEVELS; level++) {
		format(buf, sizeof(buf), level, 0, 0, 0, "m", 1);
		snprintf(want, sizeof(want), "<%d>1 ", pri[level]);
		assert_memory_equal(buf, want, strlen(want));
	}
}

static void
test_newlines_are_escaped(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	n = format(buf, sizeof(buf), TINTIN_LOG, 0, 0, 0, "a\nb\r\nc\n", 7);
	buf[n] = '\0';
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\r'));
	assert_string_equal(buf + n - 11, "a\\nb\\r\\nc\\n");
}

/* A long message is cut to fit, never in the middle of a character. */
static void
test_long_message_is_cut(void **state)
{
	char buf[100], msg[300];
	size_t n, i;

	(void)state;
	for (i = 0; i + 1 < sizeof(msg); i += 2)
		memcpy(msg + i, "\xc3\xa9", 2);		/* é */
	n = format(buf, sizeof(buf), TINTIN_LOG, 0, 0, 0, msg,
	    sizeof(msg) - 1);
	assert_true(n <= sizeof(buf));
	assert_true(n > sizeof(buf) - 3);
	/* The cut falls between two-byte characters. */
	assert_int_equal((unsigned char)buf[n - 1], 0xa9);
}

/*
 * Every CR and LF is escaped, even one that follows a byte announcing a
 * longer UTF-8 character: such a byte is not a character's start.
 */
static void
test_newline_after_a_lead_byte_is_escaped(void **state)
{
	char buf[256];
	size_t n;

	(void)state;
	n = format(buf, sizeof(buf), TINTIN_LOG, 0, 0, 0, "a\xe0\nb\xf0\r", 6);
	assert_null(memchr(buf, '\n', n));
	assert_null(memchr(buf, '\r', n));
	assert_memory_equal(buf + n - 8, "a\xe0\\nb\xf0\\r", 8);
}

/*
 * The message is cut where the buffer ends: whole up to the last byte,
 * an escape that does not fit is left out whole, and a run cut before a
 * line break still ends between characters.
 */
static void
test_cut_at_the_buffer_end(void **state)
{
	char buf[256], want[256];
	size_t n, head;

	(void)state;
	expected_header(want, sizeof(want), 29,
	    "1970-01-01T00:00:00.000+00:00");
	head = strlen(want);
	/* Exactly fits. */
	n = format(buf, head + 5, TINTIN_LOG, 0, 0, 0, "abcde", 5);
	assert_int_equal(n, head + 5);
	assert_memory_equal(buf + head, "abcde", 5);
	/* "ab\n" in head + 3 bytes: the escape needs two, it is left out. */
	n = format(buf, head + 3, TINTIN_LOG, 0, 0, 0, "ab\ncd", 5);
	assert_int_equal(n, head + 2);
	/* "a\xc3\xa9\n" in head + 2: the character does not fit. */
	n = format(buf, head + 2, TINTIN_LOG, 0, 0, 0, "a\xc3\xa9\nz", 5);
	assert_int_equal(n, head + 1);
	assert_int_equal(buf[head], 'a');
	/* Several runs between line breaks, all of them whole. */
	n = format(buf, sizeof(buf), TINTIN_LOG, 0, 0, 0, "x\r\ny\n\nz", 7);
	assert_int_equal(n, head + 11);
	assert_memory_equal(buf + head, "x\\r\\ny\\n\\nz", 11);
}

/* A header longer than the buffer is cut, and nothing follows it. */
static void
test_header_longer_than_the_buffer(void **state)
{
	char buf[16];
	size_t n;

	(void)state;
	n = format(buf, sizeof(buf), TINTIN_LOG, 0, 0, 0, "msg", 3);
	assert_int_equal(n, sizeof(buf) - 1);
	assert_memory_equal(buf, "<29>1 1970-01-0", 15);
}

/* Tokens: printable ASCII without spaces, "-" when empty. */
static void
test_tokens_are_printable(void **state)
{
	char tok[8];

	(void)state;
	tintin_rfc5424_token(tok, sizeof(tok), "my app");
	assert_string_equal(tok, "my_app");
	tintin_rfc5424_token(tok, sizeof(tok), "a\tb\xc3\xa9\x7f");
	assert_string_equal(tok, "a_b___");
	tintin_rfc5424_token(tok, sizeof(tok), "");
	assert_string_equal(tok, "-");
	tintin_rfc5424_token(tok, sizeof(tok), "0123456789");
	assert_string_equal(tok, "0123456");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_is_rfc5424),
		cmocka_unit_test(test_severity_by_level),
		cmocka_unit_test(test_newlines_are_escaped),
		cmocka_unit_test(test_long_message_is_cut),
		cmocka_unit_test(test_newline_after_a_lead_byte_is_escaped),
		cmocka_unit_test(test_cut_at_the_buffer_end),
		cmocka_unit_test(test_header_longer_than_the_buffer),
		cmocka_unit_test(test_tokens_are_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

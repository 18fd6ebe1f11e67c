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
		cmocka_unit_test(test_tokens_are_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

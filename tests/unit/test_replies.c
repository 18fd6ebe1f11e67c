/* Unit tests of the GUI's replies in words (src/gtk/replies.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "gtk/replies.h"

static void
check(char *got, const char *want)
{
	assert_string_equal(got, want);
	g_free(got);
}

static void
test_sizes_use_binary_units(void **state)
{
	(void)state;
	check(replies_size("0"), "0 bytes");
	check(replies_size("1023"), "1023 bytes");
	check(replies_size("1024"), "1.0 KiB");
	check(replies_size("1536"), "1.5 KiB");
	check(replies_size("1089017098"), "1.0 GiB");
	check(replies_size("52428800"), "50 MiB");
	check(replies_size(NULL), "0 bytes");
}

static void
test_durations_keep_two_units(void **state)
{
	(void)state;
	check(replies_duration(59), "59s");
	check(replies_duration(61), "1m 01s");
	check(replies_duration(3600 * 5 + 60 * 7), "5h 07m");
	check(replies_duration(86400 * 3 + 3600 * 4), "3d 4h");
}

static void
test_status_reply_in_words(void **state)
{
	(void)state;
	check(replies_status("+OK version=1.0.0 pid=42 uptime=3725 clients=1 "
	    "lines=12 bytes=2048 tls=optional auth=required log_size=1089017098 "
	    "archives=2 archive_bytes=5242880"),
	    "Matt_daemon 1.0.0 (pid 42), up 1h 02m; TLS optional, "
	    "authentication required\n  1 client; 12 lines received (2.0 KiB)"
	    "\n  Log file 1.0 GiB; 2 archives (5.0 MiB)");
}

static void
test_client_line_shows_its_date(void **state)
{
	char want[128], date[64];
	time_t t = 1764000000;
	struct tm tm;

	(void)state;
	localtime_r(&t, &tm);
	strftime(date, sizeof(date), "%d/%m/%Y %H:%M:%S", &tm);
	snprintf(want, sizeof(want), "  127.0.0.1:5000 — bob (user), no TLS, "
	    "lines, connected since %s", date);
	check(replies_client("127.0.0.1:5000 user=bob role=user tls=no "
	    "since=1764000000 mode=lines"), want);
}

static void
test_errors_read_as_sentences(void **state)
{
	(void)state;
	check(replies_error("-ERR permission denied"), "Permission denied.");
	check(replies_error("-ERR too many clients (max 3)"),
	    "Too many clients: max 3.");
	check(replies_failure("-ERR authentication failed (wrong user name, "
	    "password or key)", PROTO_ERR_AUTH_FAILED),
	    "Authentication failed: wrong user name, password or key.");
	check(replies_failure("-ERR TLS required (the daemon only accepts TLS "
	    "sessions: add --tls)", PROTO_ERR_TLS_REQUIRED),
	    "TLS required: the daemon only accepts TLS: tick \u201cUse "
	    "TLS\u201d.");
	check(replies_failure("cannot connect to ::1 port 1: Connection "
	    "refused", PROTO_NONE),
	    "Cannot connect to ::1 port 1: Connection refused.");
}

static void
test_ok_replies_to_commands(void **state)
{
	(void)state;
	check(replies_ok("/ping", "+OK pong"), "The daemon answers (pong).");
	check(replies_ok("/tail", "+OK 1 records"),
	    "The last 1 record of the log:");
	check(replies_ok("/clients", "+OK 2 clients"), "2 clients connected:");
	check(replies_ok("/whoami", "+OK alice (admin), tls"),
	    "You are alice (admin), tls.");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_use_binary_units),
		cmocka_unit_test(test_durations_keep_two_units),
		cmocka_unit_test(test_status_reply_in_words),
		cmocka_unit_test(test_client_line_shows_its_date),
		cmocka_unit_test(test_errors_read_as_sentences),
		cmocka_unit_test(test_ok_replies_to_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

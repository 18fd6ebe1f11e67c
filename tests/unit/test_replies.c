/* Unit tests of the GUI's replies in words (src/gtk/replies.c) and of the
 * dashboard's /stats figures and rates (src/gtk/stats.c). */
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
#include "gtk/stats.h"

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
	check(replies_ok("/stats", "+OK 46 stats"),
	    "The daemon's 46 figures (the Dashboard tab charts them):");
	check(replies_ok("/whoami", "+OK alice (admin), tls"),
	    "You are alice (admin), tls.");
}

/* A /stats table as the daemon sends it (docs/PROTOCOL.md, 4.2). */
static char *table[] = {
	"build_info{version=\"1.0.0\",tls_library=\"OpenSSL 3.0.15\"} 1",
	"start_time_seconds                 1796622183",
	"uptime_seconds                     20",
	"lines_total                        1234",
	"clients                            2",
	"max_clients                        3",
	"clients_refused_total{reason=\"too_many\"} 4",
	"clients_refused_total{reason=\"tls_required\"} 0",
	"clients_refused_total{reason=\"lockout\"} 1",
	"forward_queue{target=\"tcp://a b:514\"} 77",
	NULL
};

static void
test_stats_samples_by_name_and_family(void **state)
{
	guint64 v = 99;

	(void)state;
	assert_int_equal(stats_value(table, "lines_total", &v), 0);
	assert_int_equal(v, 1234);
	/* padded names; "clients" is not clients_refused_total */
	assert_int_equal(stats_value(table, "clients", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(stats_value(table, "clients_refused_total", &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(stats_value(table,
	    "clients_refused_total{reason=\"lockout\"}", &v), 0);
	assert_int_equal(v, 1);
	/* a label value with a space: the value is after the last one */
	assert_int_equal(stats_value(table, "forward_queue", &v), 0);
	assert_int_equal(v, 77);
	v = 99;
	assert_int_equal(stats_value(table, "forward_dropped_total", &v), -1);
	assert_int_equal(stats_value(table, "lines", &v), -1);
	assert_int_equal(stats_value(table, "clients_refused", &v), -1);
	assert_int_equal(v, 99);
	assert_int_equal(stats_value(NULL, "clients", &v), -1);
}

static void
test_stats_malformed_lines_are_skipped(void **state)
{
	char *bad[] = { "lines_total", "lines_total -3", "lines_total 12x",
	    " 5", "lines_total  ", "uptime_seconds 7", NULL };
	const char *names[] = { "lines_total" };
	struct stats_reading r;
	guint64 v;

	(void)state;
	assert_int_equal(stats_value(bad, "lines_total", &v), -1);
	assert_int_equal(stats_read(bad, names, 1, 5, &r), 0);
	assert_int_equal(r.uptime, 7);
	assert_false(r.have[0]);
	assert_int_equal(stats_read(bad + 5 + 1, names, 1, 5, &r), -1);
}

static char **
reading_lines(unsigned start, unsigned uptime, unsigned lines)
{
	char **l = g_new0(char *, 4);

	l[0] = g_strdup_printf("start_time_seconds %u", start);
	l[1] = g_strdup_printf("uptime_seconds %u", uptime);
	l[2] = g_strdup_printf("lines_total %u", lines);
	return l;
}

static void
reading(struct stats_reading *r, gint64 at_ms, unsigned start,
    unsigned uptime, unsigned lines)
{
	const char *names[] = { "lines_total", "clients" };
	char **l = reading_lines(start, uptime, lines);

	assert_int_equal(stats_read(l, names, 2, at_ms, r), 0);
	g_strfreev(l);
}

static void
test_stats_rate_from_two_readings(void **state)
{
	struct stats_reading a, b;
	double x = -1;

	(void)state;
	reading(&a, 10000, 1000, 20, 1000);
	reading(&b, 12000, 1000, 22, 51000);
	assert_true(a.have[0] && !a.have[1]);
	/* no rate from one reading; a gauge needs none */
	assert_int_equal(stats_figure(NULL, &a, 0, STATS_RATE, &x), -1);
	assert_int_equal(stats_figure(NULL, &a, 0, STATS_GAUGE, &x), 0);
	assert_true(x == 1000);
	/* 50,000 lines in 2 s (the client's clock, not the uptime's) */
	assert_int_equal(stats_figure(&a, &b, 0, STATS_RATE, &x), 0);
	assert_true(x == 25000);
	/* a counter that does not move: 0 */
	reading(&a, 13000, 1000, 23, 51000);
	assert_int_equal(stats_figure(&b, &a, 0, STATS_RATE, &x), 0);
	assert_true(x == 0);
	/* a figure the daemon lacks */
	assert_int_equal(stats_figure(&b, &a, 1, STATS_GAUGE, &x), -1);
	assert_int_equal(stats_figure(&b, &a, 1, STATS_RATE, &x), -1);
	/* no time between the readings */
	assert_int_equal(stats_figure(&a, &a, 0, STATS_RATE, &x), -1);
}

static void
test_stats_counter_reset_is_a_restart_not_a_negative_rate(void **state)
{
	struct stats_reading a, b;
	double x = -1;

	(void)state;
	/* the daemon restarted 4 s ago and logged 400 lines since */
	reading(&a, 10000, 1000, 500, 90000);
	reading(&b, 11000, 1510, 4, 400);
	assert_true(stats_restarted(&a, &b));
	assert_int_equal(stats_figure(&a, &b, 0, STATS_RATE, &x), 0);
	assert_true(x == 100);
	/* the same start time but the uptime went back */
	reading(&b, 11000, 1000, 2, 400);
	assert_true(stats_restarted(&a, &b));
	assert_int_equal(stats_figure(&a, &b, 0, STATS_RATE, &x), 0);
	assert_true(x == 200);
	/* a counter that went back without a restart: counted from 0 */
	reading(&b, 12000, 1000, 502, 600);
	assert_false(stats_restarted(&a, &b));
	assert_int_equal(stats_figure(&a, &b, 0, STATS_RATE, &x), 0);
	assert_true(x == 600.0 / 502);
	/* just started (uptime 0): over the time between the readings */
	reading(&b, 12000, 1510, 0, 300);
	assert_int_equal(stats_figure(&a, &b, 0, STATS_RATE, &x), 0);
	assert_true(x == 150);
	/* no start time in either: the uptime alone tells */
	reading(&a, 10000, 0, 500, 90000);
	reading(&b, 11000, 0, 501, 90100);
	assert_false(stats_restarted(&a, &b));
	assert_int_equal(stats_figure(&a, &b, 0, STATS_RATE, &x), 0);
	assert_true(x == 100);
}

static void
test_stats_figures_in_a_few_characters(void **state)
{
	char buf[16];

	(void)state;
	stats_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "0");
	stats_format(3, buf, sizeof(buf));
	assert_string_equal(buf, "3");
	stats_format(9.54, buf, sizeof(buf));
	assert_string_equal(buf, "9.5");
	stats_format(950.4, buf, sizeof(buf));
	assert_string_equal(buf, "950");
	stats_format(12345, buf, sizeof(buf));
	assert_string_equal(buf, "12.3k");
	stats_format(4560000, buf, sizeof(buf));
	assert_string_equal(buf, "4.56M");
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
		cmocka_unit_test(test_stats_samples_by_name_and_family),
		cmocka_unit_test(test_stats_malformed_lines_are_skipped),
		cmocka_unit_test(test_stats_rate_from_two_readings),
		cmocka_unit_test(
		    test_stats_counter_reset_is_a_restart_not_a_negative_rate),
		cmocka_unit_test(test_stats_figures_in_a_few_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

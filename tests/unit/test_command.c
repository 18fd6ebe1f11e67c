/*
 * Unit tests of the command layer (command.c, command_auth.c) over the
 * session layer, linked without the daemon, the server, the alerts or the
 * signals: a real loop and reporter, a socketpair for the client, and the
 * replies read from its other end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/session/auth.h"
#include "daemon/session/command.h"
#include "session_harness.h"

static struct harness h;
static char replies[4096];

/* Send LINE (a newline added), run one turn, return what came back. */
static const char *
ask(const char *line)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s\n", line);
	harness_send(&h, buf);
	harness_turn(&h);
	return harness_read(&h, replies, sizeof(replies));
}

static struct client *
client(void)
{
	return h.s.clients;
}

static int
setup_off(void **state)
{
	(void)state;
	harness_start(&h, &command_ops, MODE_OFF);
	return 0;
}

static int
setup_optional(void **state)
{
	(void)state;
	harness_start(&h, &command_ops, MODE_OPTIONAL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	harness_stop(&h);
	return 0;
}

static void
test_read_only_commands_answer_and_log_at_debug(void **state)
{
	(void)state;
	assert_string_equal(ask("/ping"), "+OK pong\n");
	assert_string_equal(ask("/whoami"), "+OK anonymous\n");
	/* Not user input; logged, at DEBUG (the hook sees every level). */
	assert_true(harness_logged(&h,
	    "Command from 10.0.0.7:4000 (anonymous): /ping."));
	assert_false(harness_logged(&h, "User input: /ping"));
}

static void
test_log_commands_refused_when_auth_is_off(void **state)
{
	(void)state;
	assert_string_equal(ask("/tail"), "-ERR /tail needs a logged-in "
	    "user: set [auth] mode in matt_daemon.conf, or use the local "
	    "socket as root or a member of adm\n");
	assert_string_equal(ask("/clients"), "-ERR /clients needs a "
	    "logged-in user: set [auth] mode in matt_daemon.conf, or use the "
	    "local socket as root or a member of adm\n");
	assert_string_equal(ask("/rotate"), "-ERR /rotate needs an admin: "
	    "set [auth] mode in matt_daemon.conf, or use the local socket as "
	    "root\n");
	assert_string_equal(ask("/auth password alice x"),
	    "-ERR authentication is off\n");
}

static void
test_roles_decide_in_optional_mode(void **state)
{
	(void)state;
	assert_string_equal(ask("/tail"), "-ERR permission denied\n");
	client()->role = ROLE_USER;
	snprintf(client()->user, sizeof(client()->user), "bob");
	assert_string_equal(ask("/whoami"), "+OK bob (user)\n");
	assert_non_null(strstr(ask("/clients"), "+OK 1 clients\n"
	    "10.0.0.7:4000 user=bob role=user tls=no "));
	assert_string_equal(ask("/rotate"), "-ERR permission denied\n");
}

static void
test_status_gives_counters_but_no_address(void **state)
{
	const char *r;

	(void)state;
	assert_string_equal(ask("one line"), "");
	r = ask("/status");
	assert_non_null(strstr(r, "+OK version="));
	assert_non_null(strstr(r, " clients=1 lines=1 "));
	assert_null(strstr(r, "10.0.0.7"));
}

/* The value of the /stats line NAME in REPLY ("NAME   VALUE"), or -1. */
static long long
stat_of(const char *reply, const char *name)
{
	char key[64];
	const char *p;
	long long v;

	snprintf(key, sizeof(key), "\n%s ", name);
	if ((p = strstr(reply, key)) == NULL ||
	    sscanf(p + strlen(key), "%lld", &v) != 1)
		return -1;
	return v;
}

static void
test_stats_is_a_table_for_a_reader(void **state)
{
	const char *r;

	(void)state;
	assert_string_equal(ask("one line"), "");
	client()->role = ROLE_USER;
	r = ask("/stats");
	assert_true(strncmp(r, "+OK ", 4) == 0);
	assert_non_null(strstr(r, " stats\n"));
	assert_int_equal(stat_of(r, "lines_total"), 1);
	assert_int_equal(stat_of(r, "clients"), 1);
}

static void
test_unknown_slash_line_is_user_input(void **state)
{
	(void)state;
	assert_string_equal(ask("/no-such-command"), "");
	assert_true(harness_logged(&h, "User input: /no-such-command"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_read_only_commands_answer_and_log_at_debug,
		    setup_off, teardown),
		cmocka_unit_test_setup_teardown(
		    test_log_commands_refused_when_auth_is_off, setup_off,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_roles_decide_in_optional_mode, setup_optional,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_status_gives_counters_but_no_address, setup_off,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_stats_is_a_table_for_a_reader, setup_optional,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_unknown_slash_line_is_user_input, setup_off,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of the command layer (command.c, command_auth.c) over the
 * session layer, linked without the daemon, the server, the alerts or the
 * signals: a real loop and reporter, a socketpair for the client, and the
 * replies read from its other end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/escape.h"
#include "daemon/auth.h"
#include "daemon/client.h"
#include "daemon/command.h"
#include "daemon/config.h"
#include "daemon/loop.h"
#include "tintin/tintin.h"

#define MAX_RECORDS	32

static struct {
	struct config	 cfg;
	struct loop	 loop;
	struct sessions	 s;
	int		 peer;		/* the client's end of the pair */
	char		 records[MAX_RECORDS][256];
	int		 nrecords;
	char		 replies[4096];
} t;

/* Every record the reporter takes, as its message. */
static void
on_record(void *arg, int level, uint32_t cat, const char *msg, size_t len,
    const void *source)
{
	(void)arg;
	(void)level;
	(void)cat;
	(void)source;
	if (t.nrecords < MAX_RECORDS)
		snprintf(t.records[t.nrecords++], 256, "%.*s", (int)len, msg);
}

static int
logged(const char *msg)
{
	int i;

	for (i = 0; i < t.nrecords; i++)
		if (strcmp(t.records[i], msg) == 0)
			return 1;
	return 0;
}

static void
stop_after_turn(struct loop *l, void *arg)
{
	client_reap(arg);
	loop_stop(l);
}

/* Send LINE (a newline added), run one turn, return what came back. */
static const char *
ask(const char *line)
{
	char buf[512];
	ssize_t n;
	size_t len = 0;

	snprintf(buf, sizeof(buf), "%s\n", line);
	assert_int_equal(write(t.peer, buf, strlen(buf)),
	    (ssize_t)strlen(buf));
	t.loop.stop = 0;
	alarm(10);		/* a turn with nothing to do would hang */
	assert_int_equal(loop_run(&t.loop), 0);
	alarm(0);
	while (len < sizeof(t.replies) - 1 && (n = read(t.peer,
	    t.replies + len, sizeof(t.replies) - 1 - len)) > 0)
		len += (size_t)n;
	assert_true(len > 0 || errno == EAGAIN);
	t.replies[len] = '\0';
	return t.replies;
}

static struct client *
client(void)
{
	return t.s.clients;
}

static int
setup_mode(int auth_mode)
{
	int sv[2];

	memset(&t, 0, sizeof(t));
	config_defaults(&t.cfg);
	t.cfg.auth_mode = auth_mode;
	assert_int_equal(loop_init(&t.loop), 0);
	t.loop.before_sleep = stop_after_turn;
	t.loop.hook_arg = &t.s;
	t.s.cfg = &t.cfg;
	t.s.loop = &t.loop;
	t.s.ops = &command_ops;
	t.s.scratch_size = 64 + ESCAPE_BOUND(t.cfg.max_line);
	assert_non_null(t.s.scratch = malloc(t.s.scratch_size));
	assert_non_null(t.s.log = tintin_create("Matt_daemon"));
	assert_true(tintin_add_hook(t.s.log, TINTIN_DEBUG, on_record,
	    NULL) >= 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	t.peer = sv[1];
	assert_non_null(client_new(&t.s, sv[0], "10.0.0.7:4000", NULL));
	return 0;
}

static int
setup_off(void **state)
{
	(void)state;
	return setup_mode(MODE_OFF);
}

static int
setup_optional(void **state)
{
	(void)state;
	return setup_mode(MODE_OPTIONAL);
}

static int
teardown(void **state)
{
	(void)state;
	client_close_all(&t.s);
	client_reap(&t.s);
	close(t.peer);
	tintin_free(t.s.log);
	free(t.s.scratch);
	loop_close(&t.loop);
	return 0;
}

static void
test_read_only_commands_answer_and_log_at_debug(void **state)
{
	(void)state;
	assert_string_equal(ask("/ping"), "+OK pong\n");
	assert_string_equal(ask("/whoami"), "+OK anonymous\n");
	/* Not user input; logged, at DEBUG (the hook sees every level). */
	assert_true(logged("Command from 10.0.0.7:4000 (anonymous): /ping."));
	assert_false(logged("User input: /ping"));
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

static void
test_unknown_slash_line_is_user_input(void **state)
{
	(void)state;
	assert_string_equal(ask("/no-such-command"), "");
	assert_true(logged("User input: /no-such-command"));
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
		    test_unknown_slash_line_is_user_input, setup_off,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

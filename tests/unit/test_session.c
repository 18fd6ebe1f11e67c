/*
 * Unit tests of the session layer (client*.c) linked without the daemon,
 * the server, the commands or the shell: a real loop and reporter, a
 * socketpair for the client, and the layers above played by stubs that
 * record what the sessions ask of them.
 */
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
#include "daemon/client.h"
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
	char		 commands[8][64];
	int		 ncommands;
	int		 command_ran;	/* what the command stub answers */
	int		 closing, released, due;
	char		 term[256];	/* bytes given to the terminal */
	size_t		 termlen;
} t;

static int
stub_command(struct client *c, const char *line, size_t len)
{
	(void)c;
	if (t.ncommands < 8)
		snprintf(t.commands[t.ncommands++], 64, "%.*s", (int)len,
		    line);
	return t.command_ran;
}

static void
stub_due(struct client *c)
{
	(void)c;
	t.due++;
}

static void
stub_closing(struct client *c)
{
	(void)c;
	t.closing++;
}

static void
stub_release(struct client *c)
{
	(void)c;
	t.released++;
}

static void
stub_term_input(struct client *c, const char *data, size_t len)
{
	(void)c;
	if (t.termlen + len <= sizeof(t.term)) {
		memcpy(t.term + t.termlen, data, len);
		t.termlen += len;
	}
}

static int
stub_term_held(const struct client *c)
{
	(void)c;
	return 0;
}

static const struct session_ops stub_ops = {
	.command	= stub_command,
	.due		= stub_due,
	.closing	= stub_closing,
	.release	= stub_release,
	.term_input	= stub_term_input,
	.term_held	= stub_term_held,
};

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

/* One turn of the loop: what the client sent is read and handled. */
static void
turn(void)
{
	t.loop.stop = 0;
	alarm(10);		/* a turn with nothing to do would hang */
	assert_int_equal(loop_run(&t.loop), 0);
	alarm(0);
}

static int
setup(void **state)
{
	int sv[2];

	(void)state;
	memset(&t, 0, sizeof(t));
	config_defaults(&t.cfg);
	assert_int_equal(loop_init(&t.loop), 0);
	t.loop.before_sleep = stop_after_turn;
	t.loop.hook_arg = &t.s;
	t.s.cfg = &t.cfg;
	t.s.loop = &t.loop;
	t.s.ops = &stub_ops;
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
send_text(const char *s)
{
	assert_int_equal(write(t.peer, s, strlen(s)), (ssize_t)strlen(s));
}

static void
test_lines_are_logged_as_user_input(void **state)
{
	(void)state;
	assert_int_equal(t.s.nclients, 1);
	assert_true(logged("Client connected: 10.0.0.7:4000 (1/3)."));
	send_text("hello\r\nsecond line\n");
	turn();
	assert_true(logged("User input: hello"));
	assert_true(logged("User input: second line"));
	assert_int_equal(t.s.lines, 2);
	assert_int_equal(t.ncommands, 0);
}

static void
test_quit_stops_the_sessions(void **state)
{
	(void)state;
	send_text("quit\n");
	turn();
	assert_true(logged("Request quit."));
	assert_int_equal(t.s.stopping, 1);
	assert_false(logged("User input: quit"));
}

static void
test_slash_lines_go_to_the_command_layer(void **state)
{
	(void)state;
	t.command_ran = 1;
	send_text("/ping\n");
	turn();
	assert_int_equal(t.ncommands, 1);
	assert_string_equal(t.commands[0], "/ping");
	assert_false(logged("User input: /ping"));
	/* Not a command, says the layer above: logged as input. */
	t.command_ran = 0;
	send_text("/not-one\n");
	turn();
	assert_int_equal(t.ncommands, 2);
	assert_true(logged("User input: /not-one"));
}

static void
test_hang_up_closes_through_the_layer_above(void **state)
{
	int i;

	(void)state;
	send_text("no newline");
	shutdown(t.peer, SHUT_WR);
	/* The bytes, then the end of the stream: a turn or two. */
	for (i = 0; i < 4 && t.s.nclients > 0; i++)
		turn();
	/* The partial last line is logged, then the session ends. */
	assert_true(logged("User input: no newline"));
	assert_int_equal(t.closing, 1);
	assert_int_equal(t.s.nclients, 0);
	assert_null(t.s.clients);
	assert_true(t.released >= 1);
}

static void
test_terminal_bytes_bypass_the_log(void **state)
{
	(void)state;
	/* A shell is open (its state is the layer above's): raw bytes. */
	t.s.clients->shell = (struct shell *)&t;
	send_text("ls -l\r\n\x03");
	turn();
	assert_int_equal(t.termlen, 8);
	assert_memory_equal(t.term, "ls -l\r\n\x03", 8);
	assert_false(logged("User input: ls -l"));
	t.s.clients->shell = NULL;
}

static void
test_held_attempt_is_due_on_the_tick(void **state)
{
	(void)state;
	client_hold(t.s.clients, 0);
	client_tick(&t.s);
	assert_int_equal(t.due, 1);
	client_tick(&t.s);
	assert_int_equal(t.due, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_lines_are_logged_as_user_input, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_quit_stops_the_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_slash_lines_go_to_the_command_layer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_hang_up_closes_through_the_layer_above, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_terminal_bytes_bypass_the_log, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_held_attempt_is_due_on_the_tick, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include <cmocka.h>

#include "session_harness.h"

static struct harness h;

/* What the layers above were asked, by the stubs below. */
static struct {
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

static int
setup(void **state)
{
	(void)state;
	memset(&t, 0, sizeof(t));
	harness_start(&h, &stub_ops, MODE_OFF);
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
test_lines_are_logged_as_user_input(void **state)
{
	(void)state;
	assert_int_equal(h.s.nclients, 1);
	assert_true(harness_logged(&h,
	    "Client connected: 10.0.0.7:4000 (1/3)."));
	harness_send(&h, "hello\r\nsecond line\n");
	harness_turn(&h);
	assert_true(harness_logged(&h, "User input: hello"));
	assert_true(harness_logged(&h, "User input: second line"));
	assert_int_equal(h.m.lines, 2);
	assert_int_equal(t.ncommands, 0);
}

static void
test_quit_stops_the_sessions(void **state)
{
	(void)state;
	harness_send(&h, "quit\n");
	harness_turn(&h);
	assert_true(harness_logged(&h, "Request quit."));
	assert_int_equal(h.s.stopping, 1);
	assert_false(harness_logged(&h, "User input: quit"));
}

static void
test_slash_lines_go_to_the_command_layer(void **state)
{
	(void)state;
	t.command_ran = 1;
	harness_send(&h, "/ping\n");
	harness_turn(&h);
	assert_int_equal(t.ncommands, 1);
	assert_string_equal(t.commands[0], "/ping");
	assert_false(harness_logged(&h, "User input: /ping"));
	/* Not a command, says the layer above: logged as input. */
	t.command_ran = 0;
	harness_send(&h, "/not-one\n");
	harness_turn(&h);
	assert_int_equal(t.ncommands, 2);
	assert_true(harness_logged(&h, "User input: /not-one"));
}

static void
test_hang_up_closes_through_the_layer_above(void **state)
{
	int i;

	(void)state;
	harness_send(&h, "no newline");
	shutdown(h.peer, SHUT_WR);
	/* The bytes, then the end of the stream: a turn or two. */
	for (i = 0; i < 4 && h.s.nclients > 0; i++)
		harness_turn(&h);
	/* The partial last line is logged, then the session ends. */
	assert_true(harness_logged(&h, "User input: no newline"));
	assert_int_equal(t.closing, 1);
	assert_int_equal(h.s.nclients, 0);
	assert_null(h.s.clients);
	assert_true(t.released >= 1);
}

static void
test_terminal_bytes_bypass_the_log(void **state)
{
	(void)state;
	/* A shell is open (its state is the layer above's): raw bytes. */
	h.s.clients->shell = (struct shell *)&t;
	harness_send(&h, "ls -l\r\n\x03");
	harness_turn(&h);
	assert_int_equal(t.termlen, 8);
	assert_memory_equal(t.term, "ls -l\r\n\x03", 8);
	assert_false(harness_logged(&h, "User input: ls -l"));
	h.s.clients->shell = NULL;
}

static void
test_held_attempt_is_due_on_the_tick(void **state)
{
	(void)state;
	client_hold(h.s.clients, 0);
	client_tick(&h.s);
	assert_int_equal(t.due, 1);
	client_tick(&h.s);
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

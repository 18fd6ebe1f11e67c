/* Unit tests of the client's view of the protocol (src/client/proto.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/afk.h"
#include "client/options.h"

static void
test_ok_and_err_are_told_apart(void **state)
{
	(void)state;
	assert_int_equal(proto_classify("+OK pong"), PROTO_OK);
	assert_int_equal(proto_classify("+OK"), PROTO_OK);
	assert_int_equal(proto_classify("-ERR something new"), PROTO_ERR);
	assert_int_equal(proto_classify("-ERR"), PROTO_ERR);
	assert_int_equal(proto_classify("hello"), PROTO_NONE);
	assert_int_equal(proto_classify("+OKAY"), PROTO_NONE);
	assert_int_equal(proto_classify("-ERROR x"), PROTO_NONE);
	assert_int_equal(proto_classify(""), PROTO_NONE);
}

static void
test_errors_of_protocol_md_are_classified(void **state)
{
	(void)state;
	assert_int_equal(proto_classify("-ERR too many clients (max 3)"),
	    PROTO_ERR_CLIENTS);
	assert_int_equal(proto_classify("-ERR TLS required"),
	    PROTO_ERR_TLS_REQUIRED);
	assert_int_equal(proto_classify("-ERR authentication required"),
	    PROTO_ERR_AUTH_REQUIRED);
	assert_int_equal(proto_classify("-ERR authentication failed"),
	    PROTO_ERR_AUTH_FAILED);
	assert_int_equal(proto_classify("-ERR locked out, try again in 60s"),
	    PROTO_ERR_LOCKED);
	assert_int_equal(proto_classify("-ERR password authentication "
	    "needs TLS"), PROTO_ERR_NEEDS_TLS);
	assert_int_equal(proto_classify("-ERR authentication is off"),
	    PROTO_ERR_AUTH_OFF);
	assert_int_equal(proto_classify("-ERR permission denied"),
	    PROTO_ERR_PERMISSION);
	assert_int_equal(proto_classify("-ERR idle timeout"), PROTO_ERR_IDLE);
	/* a prefix must end at a word boundary */
	assert_int_equal(proto_classify("-ERR TLS requiredness"), PROTO_ERR);
}

static void
test_exit_statuses(void **state)
{
	(void)state;
	assert_int_equal(proto_exit_status(PROTO_OK), AFK_EXIT_OK);
	assert_int_equal(proto_exit_status(PROTO_ERR), AFK_EXIT_ERROR);
	assert_int_equal(proto_exit_status(PROTO_ERR_CLIENTS),
	    AFK_EXIT_CONNECT);
	assert_int_equal(proto_exit_status(PROTO_ERR_TLS_REQUIRED),
	    AFK_EXIT_CONNECT);
	assert_int_equal(proto_exit_status(PROTO_ERR_AUTH_FAILED),
	    AFK_EXIT_AUTH);
	assert_int_equal(proto_exit_status(PROTO_ERR_LOCKED), AFK_EXIT_AUTH);
	assert_int_equal(proto_exit_status(PROTO_ERR_AUTH_REQUIRED),
	    AFK_EXIT_AUTH);
	assert_int_equal(proto_exit_status(PROTO_ERR_PERMISSION),
	    AFK_EXIT_ERROR);
	assert_non_null(proto_hint(PROTO_ERR_CLIENTS));
	assert_null(proto_hint(PROTO_ERR));
}

static void
test_shared_options(void **state)
{
	struct afk_options o;
	char err[64];

	(void)state;
	afk_options_init(&o);
	assert_string_equal(o.host, "127.0.0.1");
	assert_string_equal(o.port, "4242");
	assert_int_equal(o.timeout_ms, 30000);
	assert_int_equal(afk_option(&o, 'q', NULL, err, sizeof(err)), 0);
	assert_int_equal(afk_option(&o, 'V', NULL, err, sizeof(err)), 0);
	assert_int_equal(o.named, 0);
	assert_int_equal(afk_option(&o, 't', "5", err, sizeof(err)), 1);
	assert_int_equal(o.timeout_ms, 5000);
	assert_int_equal(afk_option(&o, AFK_OPT_PLAINTEXT, NULL, err,
	    sizeof(err)), 1);
	assert_int_equal(o.named, 0);	/* not a way to reach a server */
	assert_int_equal(afk_option(&o, 'i', "/k", err, sizeof(err)), 1);
	assert_true(o.tls && o.named);
	assert_string_equal(o.keyfile, "/k");
	assert_int_equal(afk_option(&o, 'p', "65536", err, sizeof(err)), -1);
	assert_string_equal(err, "bad port: 65536");
	assert_int_equal(afk_option(&o, 'p', "+42", err, sizeof(err)), -1);
	assert_int_equal(afk_option(&o, 'p', "", err, sizeof(err)), -1);
	assert_string_equal(o.port, "4242");
	assert_int_equal(afk_option(&o, 'p', "4243", err, sizeof(err)), 1);
	assert_string_equal(o.port, "4243");
	assert_int_equal(afk_option(&o, 't', "0", err, sizeof(err)), -1);
	assert_string_equal(err, "bad timeout: 0");
	assert_int_equal(afk_option(&o, 't', "99999999", err, sizeof(err)), -1);
	assert_int_equal(o.timeout_ms, 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_and_err_are_told_apart),
		cmocka_unit_test(test_errors_of_protocol_md_are_classified),
		cmocka_unit_test(test_exit_statuses),
		cmocka_unit_test(test_shared_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

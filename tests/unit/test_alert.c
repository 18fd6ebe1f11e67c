/*
 * Unit tests of alerts and mails: headers, dates, bodies, and the alert
 * engine on a real reporter, linked without the daemon or the mailer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/alert/alert.h"
#include "daemon/config.h"
#include "daemon/alert/mail.h"

static void
test_header_clean_strips_crlf_and_controls(void **state)
{
	char out[128];

	(void)state;
	mail_header_clean(out, sizeof(out), "BOOM\r\nBcc: evil@x.org\r\n");
	assert_string_equal(out, "BOOM Bcc: evil@x.org ");
	mail_header_clean(out, sizeof(out), "a\x01\x02\x7f" "b\tc");
	assert_string_equal(out, "a b c");
	assert_null(strchr(out, '\r'));
}

static void
test_header_clean_keeps_utf8_replaces_invalid(void **state)
{
	char out[64];

	(void)state;
	mail_header_clean(out, sizeof(out), "caf\xc3\xa9 \xff \xc2\x85!");
	assert_string_equal(out, "caf\xc3\xa9 ? ?!");
	/* Cut at a character boundary, never inside one. */
	mail_header_clean(out, 5, "ab\xc3\xa9\xc3\xa9");
	assert_string_equal(out, "ab\xc3\xa9");
}

static void
test_subject_plain_and_encoded(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(mail_encode_subject(out, sizeof(out), "short one"),
	    9);
	assert_string_equal(out, "short one");
	mail_encode_subject(out, sizeof(out), "caf\xc3\xa9");
	assert_string_equal(out, "=?UTF-8?B?Y2Fmw6k=?=");
	/* "=?" could be taken for an encoded word: encoded too. */
	mail_encode_subject(out, sizeof(out), "a =?b");
	assert_string_equal(out, "=?UTF-8?B?YSA9P2I=?=");
	/* Long: folded, every line within 78 columns. */
	mail_encode_subject(out, sizeof(out), "0123456789012345678901234567"
	    "89012345678901234567890123456789012345678901234567890123456789");
	assert_non_null(strstr(out, "?=\r\n =?UTF-8?B?"));
	assert_true(strcspn(out, "\r") <= 78 - 9);	/* "Subject: " */
	assert_int_equal(mail_encode_subject(out, 8, "caf\xc3\xa9"), 0);
}

static void
test_date_is_rfc5322(void **state)
{
	char out[64];

	(void)state;
	mail_date(out, sizeof(out), 1795577504, 3600);	/* 2026-11-25 */
	assert_string_equal(out, "Wed, 25 Nov 2026 04:31:44 +0100");
	mail_date(out, sizeof(out), 0, -(5 * 3600 + 30 * 60));
	assert_string_equal(out, "Wed, 31 Dec 1969 18:30:00 -0530");
}

static void
test_subject_template(void **state)
{
	char out[64];

	(void)state;
	alert_subject(out, sizeof(out), "[%r] %h: %m (100%%) %x", "rule",
	    "host", "BOOM");
	assert_string_equal(out, "[rule] host: BOOM (100%) %x");
	assert_int_equal(alert_subject(out, 8, "%m%m", "r", "h", "abcdef"),
	    7);
	assert_string_equal(out, "abcdefa");
}

static struct config_alert rule = {
	.name = "intrusion", .match = "BOOM\\d+", .max_items = 2,
};

static void
test_digest_lists_items_and_counts_the_rest(void **state)
{
	struct alert_item items[2] = {
		{ .t = 1795577504, .level = TINTIN_LOG,
		  .addr = "127.0.0.1:5555", .msg = "User input: BOOM1",
		  .len = 17 },
		{ .t = 1795577505, .level = TINTIN_ERROR, .addr = "",
		  .msg = "ctl\x01" "BOOM2", .len = 9, .cut = 10 },
	};
	char *body;

	(void)state;
	body = alert_digest(&rule, "vm", items, 2, 12);
	assert_non_null(body);
	assert_non_null(strstr(body, "Alert \"intrusion\" on vm: 12 records "
	    "matched /BOOM\\d+/\n"));
	assert_non_null(strstr(body, "] [ LOG ] 127.0.0.1:5555 - User "
	    "input: BOOM1\n"));
	assert_non_null(strstr(body, "] [ ERROR ] - - ctl\\x01BOOM2 [10 "
	    "more bytes]\n"));
	assert_non_null(strstr(body, "\n10 more matches not listed "
	    "(max_items = 2).\n"));
	free(body);
}

static void
test_build_has_headers_and_qp_body(void **state)
{
	static const char to[2][256] = { "a@example.org", "b@example.org" };
	char *msg, *body;
	size_t len, i, col;

	(void)state;
	body = malloc(300);
	memset(body, 'x', 299);
	body[299] = '\0';
	body[10] = '=';
	msg = mail_build("md@example.org", to, 2, "S\r\nBcc: e@x.org", body,
	    1795577504, "<1@h>", &len);
	assert_non_null(msg);
	assert_int_equal(strlen(msg), len);
	assert_non_null(strstr(msg, "\r\nFrom: md@example.org\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: a@example.org, b@example.org"
	    "\r\n"));
	assert_non_null(strstr(msg, "\r\nSubject: S Bcc: e@x.org\r\n"));
	assert_null(strstr(msg, "\r\nBcc:"));
	assert_non_null(strstr(msg, "\r\nMessage-ID: <1@h>\r\n"));
	assert_true(strncmp(msg, "Date: ", 6) == 0);
	assert_non_null(strstr(msg, "Content-Transfer-Encoding: "
	    "quoted-printable\r\n"));
	assert_non_null(strstr(msg, "\r\n\r\nxxxxxxxxxx=3Dx"));
	/* No line longer than 76 columns, CRLF everywhere. */
	for (i = 0, col = 0; i < len; i++) {
		if (msg[i] == '\n') {
			assert_true(i > 0 && msg[i - 1] == '\r');
			col = 0;
		} else
			assert_true(++col <= 77);
	}
	free(msg);
	free(body);
}

/* PATTERN fires on RECORD as WANT says (1 or 0), with a clear message. */
static void
check_fires(const char *pattern, const char *record, int want)
{
	int got = alert_pattern_fires(pattern, record, strlen(record));

	if (got != want)
		fail_msg("/%s/ on \"%s\": %d, wanted %d", pattern, record, got,
		    want);
}

/*
 * Issue 16, item 1: a pattern with capturing groups never fired (PCRE2
 * returns 0 for a match whose groups do not fit in the match data).
 */
static void
test_patterns_with_groups_fire(void **state)
{
	(void)state;
	check_fires("disk .* (9[0-9]|100)%", "User input: disk /srv 97% full",
	    1);
	check_fires("disk .* (9[0-9]|100)%", "disk /srv 100% full", 1);
	check_fires("disk .* (9[0-9]|100)%", "disk /srv 87% full", 0);
	check_fires("x(a)", "User input: xa", 1);
	check_fires("x(a)", "User input: xb", 0);
	check_fires("x(a|b)", "User input: xb", 1);
	check_fires("x(a|b)", "User input: xc", 0);
	check_fires("x(?:a|b)", "User input: xb", 1);
	check_fires("disk .* 9[0-9]%", "disk /srv 97% full", 1);
	/* Nested groups, and more groups than the match data has pairs. */
	check_fires("ab((c)(d(e)))f", "zabcdef", 1);
	check_fires("ab((c)(d(e)))f", "zabcdeg", 0);
	check_fires("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)", "abcdefghijkl", 1);
	/* Named groups, each syntax, and a back reference to one. */
	check_fires("used (?<pct>9[0-9])%", "disk used 93%", 1);
	check_fires("used (?'pct'9[0-9])%", "disk used 93%", 1);
	check_fires("used (?P<pct>9[0-9])%", "disk used 93%", 1);
	check_fires("used (?P<pct>9[0-9])%", "disk used 83%", 0);
	check_fires("(?<w>[a-z]+) \\k<w>", "the the", 1);
	check_fires("(?<w>[a-z]+) \\k<w>$", "the cat", 0);
	/* A group only, and a group in each alternative. */
	check_fires("(segfault)", "app: segfault at 0", 1);
	check_fires("(BOOM)\\d+|(kernel) panic", "kernel panic", 1);
	check_fires("(BOOM)\\d+|(kernel) panic", "BOOM", 0);
	assert_int_equal(alert_pattern_fires("x(a", "xa", 2), -1);
}

/* What the engine handed over: rule, subject and body of each digest. */
static char	sent[4][3][4096];
static int	nsent;

static int
keep_digest(void *arg, const struct config_alert *a, const char *subject,
    const char *body)
{
	(void)arg;
	assert_true(nsent < 4);
	snprintf(sent[nsent][0], sizeof(sent[0][0]), "%s", a->name);
	snprintf(sent[nsent][1], sizeof(sent[0][1]), "%s", subject);
	snprintf(sent[nsent][2], sizeof(sent[0][2]), "%s", body);
	nsent++;
	return 0;
}

static char	tmpdir[] = "/tmp/test_alert.XXXXXX";

/* Rule I of C: records matching "SRC\d" from SOURCE, kept WINDOW s. */
static void
add_rule(struct config *c, const char *name, const char *source,
    unsigned window)
{
	struct config_alert *a = &c->alerts[c->nalerts++];

	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->match, sizeof(a->match), "SRC\\d");
	snprintf(a->source, sizeof(a->source), "%s", source);
	snprintf(a->subject, sizeof(a->subject), "[%%r] %%h: %%m");
	snprintf(a->to[0], sizeof(a->to[0]), "root@localhost");
	a->nto = 1;
	a->level = TINTIN_DEBUG;
	a->window = window;
	a->max_items = 8;
}

/* A reporter writing to a file (a batch needs one), for the hook. */
static Tintin_reporter *
reporter(const char *file)
{
	Tintin_reporter *r;
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
	r = tintin_create("t");
	assert_non_null(r);
	assert_int_equal(tintin_add_file(r, path, TINTIN_DEBUG, TINTIN_TEXT),
	    0);
	return r;
}

static void
log_src(Tintin_reporter *r, const char *source, const char *msg)
{
	tintin_log_msg_src(r, TINTIN_LOG, CAT_INPUT, source, msg,
	    strlen(msg));
}

/*
 * The source a rule filters on is the one passed with the record, one by
 * one or in a batch; records without one, and the engine's own lines,
 * match no rule that names a source.
 */
static void
test_engine_filters_on_the_source_passed_with_records(void **state)
{
	static struct config c;
	Tintin_reporter *r;
	struct alerts *a;
	char *p;

	(void)state;
	memset(&c, 0, sizeof(c));
	add_rule(&c, "local", "127.0.0.1", 0);
	add_rule(&c, "ten", "~^10\\.", 0);
	r = reporter("source.log");
	assert_non_null(a = alert_new(&c, r));
	assert_int_equal(alert_start(a, keep_digest, NULL, "vm"), 0);
	nsent = 0;
	log_src(r, "127.0.0.1:4000", "User input: SRC1");
	log_src(r, "10.1.2.3:9", "User input: SRC2");
	log_src(r, NULL, "User input: SRC3");
	tintin_log_msg_cat(r, TINTIN_LOG, CAT_INPUT, "User input: SRC6", 16);
	assert_int_equal(tintin_batch_begin_src(r, TINTIN_LOG, CAT_INPUT,
	    "127.0.0.1:4001"), 0);
	assert_non_null(p = tintin_batch_next(r, 64));
	memcpy(p, "User input: SRC4", 16);
	tintin_batch_put(r, 16);
	assert_int_equal(tintin_batch_end(r), 0);
	alert_log(a, TINTIN_ERROR, "SRC5 from the mailer");
	assert_int_equal(nsent, 0);		/* until the window is over */
	alert_tick(a);
	assert_int_equal(nsent, 2);
	assert_string_equal(sent[0][0], "local");
	assert_string_equal(sent[0][1], "[local] vm: SRC1");
	assert_non_null(strstr(sent[0][2], "vm: 2 records matched"));
	assert_non_null(strstr(sent[0][2], "] [ LOG ] 127.0.0.1:4000 - User "
	    "input: SRC1\n"));
	assert_non_null(strstr(sent[0][2], "] [ LOG ] 127.0.0.1:4001 - User "
	    "input: SRC4\n"));
	assert_string_equal(sent[1][0], "ten");
	assert_non_null(strstr(sent[1][2], "vm: 1 record matched"));
	assert_non_null(strstr(sent[1][2], "] [ LOG ] 10.1.2.3:9 - User "
	    "input: SRC2\n"));
	alert_stop(a, 0);
	tintin_free(r);
}

/* At the stop, an open window is handed over only when mail is spooled. */
static void
test_engine_stop_flushes_open_windows_when_spooling(void **state)
{
	static struct config c;
	Tintin_reporter *r;
	struct alerts *a;
	int spooling;

	(void)state;
	memset(&c, 0, sizeof(c));
	add_rule(&c, "any", "", 3600);
	for (spooling = 0; spooling <= 1; spooling++) {
		r = reporter("stop.log");
		assert_non_null(a = alert_new(&c, r));
		assert_int_equal(alert_start(a, keep_digest, NULL, "vm"), 0);
		nsent = 0;
		log_src(r, NULL, "User input: SRC7");
		/* The mailer's lines do not feed the rules. */
		alert_log(a, TINTIN_ERROR, "SRC8 from the mailer");
		alert_tick(a);
		assert_int_equal(nsent, 0);	/* the window is open */
		alert_stop(a, spooling);
		assert_int_equal(nsent, spooling);
		tintin_free(r);
	}
	assert_non_null(strstr(sent[0][2], "vm: 1 record matched"));
	assert_non_null(strstr(sent[0][2], "] [ LOG ] - - User input: "
	    "SRC7\n"));
}

static int
make_tmpdir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
remove_tmpdir(void **state)
{
	char path[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/source.log", tmpdir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/stop.log", tmpdir);
	(void)unlink(path);
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_clean_strips_crlf_and_controls),
		cmocka_unit_test(test_header_clean_keeps_utf8_replaces_invalid),
		cmocka_unit_test(test_subject_plain_and_encoded),
		cmocka_unit_test(test_date_is_rfc5322),
		cmocka_unit_test(test_subject_template),
		cmocka_unit_test(test_digest_lists_items_and_counts_the_rest),
		cmocka_unit_test(test_build_has_headers_and_qp_body),
		cmocka_unit_test(test_patterns_with_groups_fire),
		cmocka_unit_test(
		    test_engine_filters_on_the_source_passed_with_records),
		cmocka_unit_test(
		    test_engine_stop_flushes_open_windows_when_spooling),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}

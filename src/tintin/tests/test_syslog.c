/*
 * Unit tests of Tintin_reporter's syslog forwarding sink, through the
 * public header only: targets, transports and framing, seen by a real
 * collector socket the test binds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tintin/tintin.h"

#define TMPDIR_TEMPLATE "/tmp/tintin-syslog.XXXXXX"
#include "tintin/tests/tmpdir.h"
#include "tintin/tests/collector.h"

#define UDP_MAX		2048		/* documented size of a datagram */

/* The header a record of this process carries after its timestamp. */
static void
expected_names(char *buf, size_t size, const char *app)
{
	char host[256];

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(buf, size, " %s %s %ld - - ", host, app, (long)getpid());
}

/* Through the reporter: records reach the collector and the stats. */
static void
test_reporter_forwards(void **state)
{
	struct tintin_sink_stats st;
	Tintin_reporter *r;
	char target[64], err[256], buf[1024], names[400];
	ssize_t n;
	int fd, port, idx;

	(void)state;
	fd = inet_socket(SOCK_DGRAM, &port, 0);
	r = tintin_create("Matt_daemon");
	assert_non_null(r);
	assert_int_equal(tintin_add_syslog(r, "ftp://x", TINTIN_INFO, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "ftp://x"));
	assert_int_equal(tintin_add_file(r, path_of("r.log"), TINTIN_DEBUG,
	    TINTIN_TEXT), 0);
	snprintf(target, sizeof(target), "udp://127.0.0.1:%d", port);
	idx = tintin_add_syslog(r, target, TINTIN_INFO, err, sizeof(err));
	assert_int_equal(idx, 1);
	tintin_log(r, TINTIN_DEBUG, "not forwarded");
	tintin_log(r, TINTIN_LOG, "User input: %s", "toto");
	tintin_tick(r);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "<29>1 ", 6);
	expected_names(names, sizeof(names), "Matt_daemon");
	assert_non_null(strstr(buf, names));
	assert_non_null(strstr(buf, " - - User input: toto"));
	assert_int_equal(tintin_sink_stats(r, idx, &st), 0);
	assert_true(st.records >= 1);
	assert_int_equal(st.lost, 0);
	tintin_free(r);
	close(fd);
}

/* APP-NAME is the reporter's name as a token: printable, "-" if empty. */
static void
test_app_name_is_printable(void **state)
{
	static const char *const names[][2] = {
		{ "my app", "my_app" }, { "", "-" },
	};
	Tintin_reporter *r;
	char target[64], err[256], buf[1024], want[400];
	ssize_t n;
	size_t i;
	int fd, port;

	(void)state;
	fd = inet_socket(SOCK_DGRAM, &port, 0);
	snprintf(target, sizeof(target), "udp://127.0.0.1:%d", port);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		r = tintin_create(names[i][0]);
		assert_non_null(r);
		assert_int_equal(tintin_add_syslog(r, target, TINTIN_DEBUG,
		    err, sizeof(err)), 0);
		assert_int_equal(tintin_set_categories(r, 0, CAT_REC), 0);
		tintin_log_cat(r, TINTIN_LOG, CAT_REC, "m");
		tintin_tick(r);
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		assert_true(n > 0);
		buf[n] = '\0';
		expected_names(want, sizeof(want), names[i][1]);
		strcat(want, "m");
		assert_non_null(strstr(buf, want));
		tintin_free(r);
	}
	close(fd);
}

static void
test_good_targets(void **state)
{
	static const char *const good[] = {
		"tcp://127.0.0.1:514", "udp://127.0.0.1:31514",
		"tcp://[::1]:601", "udp://[::1]", "tcp://localhost:6514",
		"tcp://127.0.0.1", "unix:/dev/log", "unix:///run/syslog.sock",
	};
	Tintin_reporter *r;
	char err[256];
	size_t i;

	(void)state;
	r = tintin_create("x");
	assert_non_null(r);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		if (tintin_add_syslog(r, good[i], TINTIN_INFO, err,
		    sizeof(err)) != (int)i)
			fail_msg("%s refused: %s", good[i], err);
	}
	tintin_free(r);
}

static void
test_bad_targets(void **state)
{
	static const char *const bad[] = {
		"", "127.0.0.1:514", "http://127.0.0.1:80", "tcp://",
		"tcp://:514", "tcp://127.0.0.1:", "tcp://127.0.0.1:0",
		"tcp://127.0.0.1:65536", "tcp://127.0.0.1:51x",
		"udp://127.0.0.1:-1", "tcp://::1:514", "tcp://[::1:514",
		"tcp://[]:514", "tcp://[::1]x", "unix:", "unix:relative/log",
		"unix:/" "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789"
		    "0123456789012345678901234567890123456789",
	};
	Tintin_reporter *r;
	char err[256];
	size_t i;

	(void)state;
	r = tintin_create("x");
	assert_non_null(r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (tintin_add_syslog(r, bad[i], TINTIN_INFO, err,
		    sizeof(err)) != -1)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(tintin_sink_count(r), 0);
	tintin_free(r);
}

/* TCP: every record is one "LEN SP MSG" frame, in order. */
static void
test_tcp_octet_counting(void **state)
{
	static char buf[65536];
	struct notes n;
	Tintin_reporter *r;
	const char *m;
	size_t got, off = 0, mlen;
	int lfd, cfd, port, i;
	char want[32];

	(void)state;
	lfd = inet_socket(SOCK_STREAM, &port, 1);
	r = forwarder_to("tcp", port, &n);
	for (i = 0; i < 3; i++)
		assert_int_equal(tintin_log_cat(r, TINTIN_LOG, CAT_REC,
		    "record %d", i), 0);
	wait_connected(r);
	cfd = accept_wait(lfd, r);
	for (i = 0, got = 0; i < 400 && (got == 0 || buf[got - 1] != '2');
	    i++)
		got += read_some(cfd, r, buf + got, sizeof(buf) - got, 0);
	for (i = 0; i < 3; i++) {
		m = next_frame(buf, got, &off, &mlen);
		assert_non_null(m);
		snprintf(want, sizeof(want), " - - record %d", i);
		assert_true(mlen > strlen(want));
		assert_memory_equal(m, "<29>1 ", 6);
		assert_memory_equal(m + mlen - strlen(want), want,
		    strlen(want));
	}
	assert_int_equal(off, got);
	tintin_free(r);
	close(cfd);
	close(lfd);
}

/* UDP: one datagram a record, no framing, at most 2048 bytes. */
static void
test_udp_datagrams(void **state)
{
	struct tintin_sink_stats st;
	struct notes n;
	Tintin_reporter *r;
	char big[5000], buf[8192];
	uint64_t queued;
	ssize_t k;
	int fd, port;

	(void)state;
	fd = inet_socket(SOCK_DGRAM, &port, 0);
	r = forwarder_to("udp", port, &n);
	memset(big, 'z', sizeof(big));
	tintin_log_msg_cat(r, TINTIN_ERROR, CAT_REC, "boom", 4);
	tintin_log_msg_cat(r, TINTIN_INFO, CAT_REC, big, sizeof(big));
	wait_connected(r);
	tintin_flush(r);
	k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	assert_true(k > 10);
	assert_memory_equal(buf, "<27>1 ", 6);
	assert_memory_equal(buf + k - 9, " - - boom", 9);
	k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	assert_true(k > 1000 && k <= UDP_MAX);
	assert_memory_equal(buf, "<30>1 ", 6);
	assert_memory_equal(buf + k - 10, "zzzzzzzzzz", 10);
	assert_int_equal(tintin_sink_stats(r, 0, &st), 0);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.lost, 0);
	assert_true(queue_of(r, &queued, NULL));
	assert_int_equal(queued, 0);
	tintin_free(r);
	close(fd);
}

/* UDP with nobody listening: ICMP errors are not connection changes. */
static void
test_udp_unreachable_is_quiet(void **state)
{
	struct notes n;
	Tintin_reporter *r;
	uint64_t queued;
	int fd, port, i;

	(void)state;
	fd = inet_socket(SOCK_DGRAM, &port, 0);
	close(fd);			/* the port answers ICMP unreachable */
	r = forwarder_to("udp", port, &n);
	wait_connected(r);
	for (i = 0; i < 20; i++) {
		tintin_log_cat(r, TINTIN_LOG, CAT_REC, "x");
		usleep(5000);
		tintin_tick(r);
	}
	assert_true(queue_of(r, &queued, NULL));
	assert_int_equal(queued, 0);
	assert_int_equal(count_of(n.text, "Forwarding to "), 1);
	assert_int_equal(count_of(n.text, ": connected."), 1);
	tintin_free(r);
}

static void
test_unix_datagram(void **state)
{
	struct notes n;
	Tintin_reporter *r;
	char target[256], buf[1024];
	ssize_t k;
	int fd;

	(void)state;
	fd = collector_unix(SOCK_DGRAM, 0, "dlog", target, sizeof(target));
	r = forwarder(target, CAT_REC, &n);
	tintin_log_cat(r, TINTIN_WARN, CAT_REC, "hi");
	wait_connected(r);
	tintin_flush(r);
	k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	assert_true(k > 10);
	assert_memory_equal(buf, "<28>1 ", 6);
	assert_memory_equal(buf + k - 7, " - - hi", 7);
	tintin_free(r);
	close(fd);
}

/* A unix stream socket (syslog-ng's style) gets octet-counted frames. */
static void
test_unix_stream_fallback(void **state)
{
	struct notes n;
	Tintin_reporter *r;
	char target[256], buf[1024];
	const char *m;
	size_t got, off = 0, mlen;
	int lfd, cfd;

	(void)state;
	lfd = collector_unix(SOCK_STREAM, 1, "slog", target, sizeof(target));
	r = forwarder(target, CAT_REC, &n);
	tintin_log_cat(r, TINTIN_WARN, CAT_REC, "hi");
	wait_connected(r);
	cfd = accept_wait(lfd, r);
	got = read_some(cfd, r, buf, sizeof(buf), 1);
	m = next_frame(buf, got, &off, &mlen);
	assert_non_null(m);
	assert_memory_equal(m, "<28>1 ", 6);
	assert_memory_equal(m + mlen - 7, " - - hi", 7);
	tintin_free(r);
	close(cfd);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reporter_forwards),
		cmocka_unit_test(test_app_name_is_printable),
		cmocka_unit_test(test_good_targets),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_tcp_octet_counting),
		cmocka_unit_test(test_udp_datagrams),
		cmocka_unit_test(test_udp_unreachable_is_quiet),
		cmocka_unit_test(test_unix_datagram),
		cmocka_unit_test(test_unix_stream_fallback),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

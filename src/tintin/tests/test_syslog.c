/* Unit tests of the syslog forwarding sink of Tintin_reporter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tintin/tintin.h"
#include "tintin/tintin_syslog.h"

#define TMPDIR_TEMPLATE "/tmp/tintin-syslog.XXXXXX"
#include "tintin/tests/tmpdir.h"

/* A loopback socket bound to a free port; listening if TYPE is a stream. */
static int
inet_socket(int type, int *port, int listening)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, small = 4096;

	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (type == SOCK_STREAM)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
		    sizeof(small));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	if (listening)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void
set_sun_path(struct sockaddr_un *sun, const char *path)
{
	assert_true(strlen(path) < sizeof(sun->sun_path));
	memcpy(sun->sun_path, path, strlen(path) + 1);
}

static struct tintin_fwd *
fwd_to(const char *proto, int port)
{
	char target[128], err[256];
	struct tintin_fwd *f;

	snprintf(target, sizeof(target), "%s://127.0.0.1:%d", proto, port);
	err[0] = '\0';
	f = tintin_fwd_new(target, "Matt_daemon", err, sizeof(err));
	if (f == NULL)
		fail_msg("%s: %s", target, err);
	return f;
}

/* Tick until connected (the connect is non-blocking), at most 2 s. */
static void
wait_connected(struct tintin_fwd *f)
{
	struct tintin_fwd_stats st;
	int i;

	for (i = 0; i < 200; i++) {
		tintin_fwd_tick(f, time(NULL));
		tintin_fwd_stats(f, &st);
		if (st.connected)
			return;
		usleep(10000);
	}
	fail_msg("never connected");
}

static int
accept_wait(int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd;

	assert_int_equal(poll(&pfd, 1, 2000), 1);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Read at least N bytes into BUF within 2 s, flushing F meanwhile. */
static size_t
read_some(int fd, struct tintin_fwd *f, char *buf, size_t size, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t r;
	int i;

	for (i = 0; i < 400 && got < n; i++) {
		if (f != NULL)
			tintin_fwd_flush(f);
		if (poll(&pfd, 1, 5) != 1)
			continue;
		r = read(fd, buf + got, size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* Next octet-counted frame of BUF[*off..len): its message, or NULL. */
static const char *
next_frame(const char *buf, size_t len, size_t *off, size_t *mlen)
{
	size_t i = *off, n = 0;

	if (i >= len || buf[i] < '1' || buf[i] > '9')
		return NULL;
	while (i < len && buf[i] >= '0' && buf[i] <= '9')
		n = n * 10 + (size_t)(buf[i++] - '0');
	if (i >= len || buf[i] != ' ' || len - i - 1 < n)
		return NULL;
	*mlen = n;
	*off = i + 1 + n;
	return buf + i + 1;
}

static void
expected_header(char *buf, size_t size, int pri, const char *stamp)
{
	char host[256];

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	snprintf(buf, size, "<%d>1 %s %s Matt_daemon %ld - - ", pri, stamp,
	    host, (long)getpid());
}

static void
test_format_is_rfc5424(void **state)
{
	struct tintin_fwd *f;
	char buf[512], want[512];
	size_t n;

	(void)state;
	f = fwd_to("udp", 9);
	/* 2025-11-25 03:41:44 UTC, shown at +01:00. */
	n = tintin_fwd_format(f, buf, sizeof(buf), TINTIN_INFO, 1764042104,
	    7, 3600, "Started.", 8);
	expected_header(want, sizeof(want), 30,
	    "2025-11-25T04:41:44.007+01:00");
	strcat(want, "Started.");
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	n = tintin_fwd_format(f, buf, sizeof(buf), TINTIN_LOG, 1764042104,
	    999, -34200, "x", 1);
	expected_header(want, sizeof(want), 29,
	    "2025-11-24T18:11:44.999-09:30");
	strcat(want, "x");
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	tintin_fwd_free(f);
}

/* Facility daemon (3): PRI = 24 + severity. */
static void
test_severity_by_level(void **state)
{
	static const int pri[] = { 31, 30, 29, 28, 27 };
	struct tintin_fwd *f;
	char buf[256], want[8];
	int level;

	(void)state;
	f = fwd_to("udp", 9);
	for (level = 0; level < TINTIN_NLEVELS; level++) {
		tintin_fwd_format(f, buf, sizeof(buf), level, 0, 0, 0, "m", 1);
		snprintf(want, sizeof(want), "<%d>1 ", pri[level]);
		assert_memory_equal(buf, want, strlen(want));
	}
	tintin_fwd_free(f);
}

static void
test_newlines_are_escaped(void **state)
{
	struct tintin_fwd *f;
	char buf[256];
	size_t n;

	(void)state;
	f = fwd_to("tcp", 9);
	n = tintin_fwd_format(f, buf, sizeof(buf), TINTIN_LOG, 0, 0, 0,
	    "a\nb\r\nc\n", 7);
	buf[n] = '\0';
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\r'));
	assert_string_equal(buf + n - 11, "a\\nb\\r\\nc\\n");
	tintin_fwd_free(f);
}

/* A long message is cut to fit, never in the middle of a character. */
static void
test_long_message_is_cut(void **state)
{
	struct tintin_fwd *f;
	char buf[100], msg[300];
	size_t n, i;

	(void)state;
	f = fwd_to("udp", 9);
	for (i = 0; i + 1 < sizeof(msg); i += 2)
		memcpy(msg + i, "\xc3\xa9", 2);		/* é */
	n = tintin_fwd_format(f, buf, sizeof(buf), TINTIN_LOG, 0, 0, 0, msg,
	    sizeof(msg) - 1);
	assert_true(n <= sizeof(buf));
	/* The cut falls between two-byte characters. */
	assert_int_equal((unsigned char)buf[n - 1], 0xa9);
	tintin_fwd_free(f);
}

static void
test_app_name_is_printable(void **state)
{
	struct tintin_fwd *f;
	char buf[256], err[128];

	(void)state;
	f = tintin_fwd_new("udp://127.0.0.1:9", "my app", err, sizeof(err));
	assert_non_null(f);
	tintin_fwd_format(f, buf, sizeof(buf), TINTIN_LOG, 0, 0, 0, "m", 1);
	assert_non_null(strstr(buf, " my_app "));
	tintin_fwd_free(f);
	f = tintin_fwd_new("udp://127.0.0.1:9", "", err, sizeof(err));
	assert_non_null(f);
	tintin_fwd_format(f, buf, sizeof(buf), TINTIN_LOG, 0, 0, 0, "m", 1);
	snprintf(err, sizeof(err), " - %ld - - m", (long)getpid());
	assert_non_null(strstr(buf, err));	/* APP-NAME, MSGID, SD */
	tintin_fwd_free(f);
}

static void
test_good_targets(void **state)
{
	static const char *const good[] = {
		"tcp://127.0.0.1:514", "udp://127.0.0.1:31514",
		"tcp://[::1]:601", "udp://[::1]", "tcp://localhost:6514",
		"tcp://127.0.0.1", "unix:/dev/log", "unix:///run/syslog.sock",
	};
	struct tintin_fwd *f;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		f = tintin_fwd_new(good[i], "x", err, sizeof(err));
		if (f == NULL)
			fail_msg("%s refused: %s", good[i], err);
		tintin_fwd_free(f);
	}
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
	struct tintin_fwd *f;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		f = tintin_fwd_new(bad[i], "x", err, sizeof(err));
		if (f != NULL)
			fail_msg("'%s' accepted", bad[i]);
		assert_true(strlen(err) > 0);
	}
}

/* TCP: every record is one "LEN SP MSG" frame, in order. */
static void
test_tcp_octet_counting(void **state)
{
	struct tintin_fwd *f;
	static char buf[65536];
	const char *m;
	size_t got, off = 0, mlen;
	int lfd, cfd, port, i;
	char want[32];

	(void)state;
	lfd = inet_socket(SOCK_STREAM, &port, 1);
	f = fwd_to("tcp", port);
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "record %d", i);
		assert_int_equal(tintin_fwd_record(f, TINTIN_LOG, time(NULL),
		    0, 0, want, strlen(want), 0), 0);
	}
	wait_connected(f);
	cfd = accept_wait(lfd);
	got = 0;
	for (i = 0; i < 100 && (got == 0 || buf[got - 1] != '2'); i++)
		got += read_some(cfd, f, buf + got, sizeof(buf) - got, 1);
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
	tintin_fwd_free(f);
	close(cfd);
	close(lfd);
}

/* UDP: one datagram a record, no framing, at most 2048 bytes. */
static void
test_udp_datagrams(void **state)
{
	struct tintin_fwd *f;
	struct tintin_fwd_stats st;
	char big[5000], buf[8192];
	ssize_t n;
	int fd, port;

	(void)state;
	fd = inet_socket(SOCK_DGRAM, &port, 0);
	f = fwd_to("udp", port);
	memset(big, 'z', sizeof(big));
	tintin_fwd_record(f, TINTIN_ERROR, time(NULL), 0, 0, "boom", 4, 0);
	tintin_fwd_record(f, TINTIN_INFO, time(NULL), 0, 0, big, sizeof(big),
	    0);
	wait_connected(f);
	tintin_fwd_flush(f);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 10);
	assert_memory_equal(buf, "<27>1 ", 6);
	assert_memory_equal(buf + n - 9, " - - boom", 9);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 1000 && n <= TINTIN_FWD_UDP_MAX);
	assert_memory_equal(buf, "<30>1 ", 6);
	tintin_fwd_stats(f, &st);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.queued, 0);
	tintin_fwd_free(f);
	close(fd);
}

/* UDP with nobody listening: ICMP errors are not connection changes. */
static void
test_udp_unreachable_is_quiet(void **state)
{
	struct tintin_fwd *f;
	struct tintin_fwd_stats st;
	char note[400];
	int fd, port, i;

	(void)state;
	fd = inet_socket(SOCK_DGRAM, &port, 0);
	close(fd);			/* the port answers ICMP unreachable */
	f = fwd_to("udp", port);
	wait_connected(f);
	assert_int_equal(tintin_fwd_report(f, note, sizeof(note)),
	    TINTIN_INFO);
	for (i = 0; i < 20; i++) {
		tintin_fwd_record(f, TINTIN_LOG, time(NULL), 0, 0, "x", 1, 0);
		tintin_fwd_flush(f);
		usleep(5000);
		tintin_fwd_tick(f, time(NULL));
	}
	tintin_fwd_stats(f, &st);
	assert_int_equal(st.connected, 1);
	assert_int_equal(st.queued, 0);
	assert_int_equal(tintin_fwd_report(f, note, sizeof(note)), -1);
	tintin_fwd_free(f);
}

static void
test_unix_datagram(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct tintin_fwd *f;
	char target[256], err[256], buf[1024];
	ssize_t n;
	int fd;

	(void)state;
	set_sun_path(&sun, path_of("dlog"));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	snprintf(target, sizeof(target), "unix:%s", sun.sun_path);
	f = tintin_fwd_new(target, "Matt_daemon", err, sizeof(err));
	assert_non_null(f);
	tintin_fwd_record(f, TINTIN_WARN, time(NULL), 0, 0, "hi", 2, 0);
	wait_connected(f);
	tintin_fwd_flush(f);
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	assert_true(n > 10);
	assert_memory_equal(buf, "<28>1 ", 6);
	assert_memory_equal(buf + n - 7, " - - hi", 7);
	tintin_fwd_free(f);
	close(fd);
}

/* A unix stream socket (syslog-ng's style) gets octet-counted frames. */
static void
test_unix_stream_fallback(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct tintin_fwd *f;
	char target[256], err[256], buf[1024];
	const char *m;
	size_t got, off = 0, mlen;
	int lfd, cfd;

	(void)state;
	set_sun_path(&sun, path_of("slog"));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	snprintf(target, sizeof(target), "unix:%s", sun.sun_path);
	f = tintin_fwd_new(target, "Matt_daemon", err, sizeof(err));
	assert_non_null(f);
	tintin_fwd_record(f, TINTIN_WARN, time(NULL), 0, 0, "hi", 2, 0);
	wait_connected(f);
	cfd = accept_wait(lfd);
	got = read_some(cfd, f, buf, sizeof(buf), 1);
	m = next_frame(buf, got, &off, &mlen);
	assert_non_null(m);
	assert_memory_equal(m, "<28>1 ", 6);
	assert_memory_equal(m + mlen - 7, " - - hi", 7);
	tintin_fwd_free(f);
	close(cfd);
	close(lfd);
}

/*
 * Nobody listening: records wait up to the cap, then the newest are
 * dropped and counted, and reported once; notes use the headroom and
 * their loss is not reported (no report about a lost report).
 */
static void
test_queue_overflow_is_counted(void **state)
{
	struct tintin_fwd *f;
	struct tintin_fwd_stats st;
	char msg[1000], note[400];
	int fd, port, i, level, dropped = 0;
	uint64_t want;

	(void)state;
	fd = inet_socket(SOCK_STREAM, &port, 0);	/* refuses */
	f = fwd_to("tcp", port);
	memset(msg, 'q', sizeof(msg));
	for (i = 0; i < 2000; i++)
		if (tintin_fwd_record(f, TINTIN_LOG, time(NULL), 0, 0, msg,
		    sizeof(msg), 0) == -1)
			dropped++;
	tintin_fwd_flush(f);
	tintin_fwd_stats(f, &st);
	assert_int_equal(st.connected, 0);
	assert_true(dropped > 0 && dropped < 2000);
	assert_int_equal(st.dropped, (uint64_t)dropped);
	assert_int_equal(st.queued, 2000 - (uint64_t)dropped);
	assert_true(st.queued_bytes <= TINTIN_FWD_QUEUE_MAX);
	assert_true(st.queued_bytes + 1100 > TINTIN_FWD_QUEUE_MAX);

	/* The library's own note still fits; its loss would not count. */
	assert_int_equal(tintin_fwd_record(f, TINTIN_WARN, time(NULL), 0, 0,
	    "note", 4, 1), 0);

	/* Reports: the connection failure, then the drops, then nothing. */
	level = tintin_fwd_report(f, note, sizeof(note));
	assert_int_equal(level, TINTIN_WARN);
	assert_non_null(strstr(note, "cannot connect: Connection refused; "
	    "retrying in 1s."));
	level = tintin_fwd_report(f, note, sizeof(note));
	assert_int_equal(level, TINTIN_WARN);
	snprintf(msg, sizeof(msg), "Forwarding to tcp://127.0.0.1:%d: %d "
	    "records dropped (queue full).", port, dropped);
	assert_string_equal(note, msg);
	assert_int_equal(tintin_fwd_report(f, note, sizeof(note)), -1);
	want = st.dropped;
	for (i = 0; i < 400; i++)
		tintin_fwd_record(f, TINTIN_WARN, time(NULL), 0, 0, "n", 1, 1);
	tintin_fwd_stats(f, &st);
	assert_true(st.dropped > want);
	assert_int_equal(tintin_fwd_report(f, note, sizeof(note)), -1);
	tintin_fwd_free(f);
	close(fd);
}

/* Records NUM of the frames in BUF[0..LEN); returns how many. */
static int
frame_numbers(const char *buf, size_t len, int *nums, int max)
{
	const char *m, *p;
	size_t off = 0, mlen;
	int n = 0;

	while (n < max && (m = next_frame(buf, len, &off, &mlen)) != NULL) {
		assert_memory_equal(m, "<29>1 ", 6);
		p = strstr(m, " - - rec ");
		assert_non_null(p);
		nums[n++] = atoi(p + 9);
	}
	return n;
}

/*
 * The collector resets the connection with records in flight: the next
 * connection starts at a frame boundary (a record half sent on the old
 * one is sent again whole) and carries every later record in order.
 */
static void
test_reconnect_resends_whole_records(void **state)
{
	static char buf[4 << 20];
	static int nums[8192];
	struct linger lg = { 1, 0 };
	struct tintin_fwd *f;
	struct tintin_fwd_stats st;
	char msg[1200];
	size_t got;
	int lfd, cfd, port, i, n, total = 0;

	(void)state;
	lfd = inet_socket(SOCK_STREAM, &port, 1);
	f = fwd_to("tcp", port);
	wait_connected(f);
	cfd = accept_wait(lfd);
	/* Big sends until the socket is full: the last stops mid-frame. */
	while (tintin_fwd_backlog(f) == 0 && total < 20000) {
		for (i = 0; i < 400; i++, total++) {
			n = snprintf(msg, sizeof(msg), "rec %05d ", total);
			memset(msg + n, 'p', sizeof(msg) - (size_t)n);
			tintin_fwd_record(f, TINTIN_LOG, time(NULL), 0, 0, msg,
			    sizeof(msg), 0);
		}
		tintin_fwd_flush(f);
	}
	assert_true(tintin_fwd_backlog(f) > 0);
	(void)read_some(cfd, NULL, buf, 10000, 10000);
	(void)setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cfd);			/* unread data: a reset */
	for (i = 0; i < 200; i++) {
		tintin_fwd_tick(f, time(NULL));
		tintin_fwd_stats(f, &st);
		if (!st.connected)
			break;
		usleep(10000);
	}
	assert_int_equal(st.connected, 0);
	/* Skip the backoff: pretend its second has passed. */
	tintin_fwd_tick(f, time(NULL) + 2);
	cfd = accept_wait(lfd);
	for (i = total; i < total + 10; i++) {
		n = snprintf(msg, sizeof(msg), "rec %05d ", i);
		tintin_fwd_record(f, TINTIN_LOG, time(NULL), 0, 0, msg,
		    (size_t)n, 0);
	}
	got = 0;
	for (i = 0; i < 400; i++) {
		got += read_some(cfd, f, buf + got, sizeof(buf) - got, 1);
		n = frame_numbers(buf, got, nums, 8192);
		if (n > 0 && nums[n - 1] == total + 9)
			break;
	}
	n = frame_numbers(buf, got, nums, 8192);
	assert_true(n >= 10);
	for (i = 1; i < n; i++)
		assert_int_equal(nums[i], nums[i - 1] + 1);
	assert_int_equal(nums[n - 1], total + 9);
	tintin_fwd_free(f);
	close(cfd);
	close(lfd);
}

/* Through the reporter: records reach the collector and the stats. */
static void
test_reporter_forwards(void **state)
{
	struct tintin_sink_stats st;
	Tintin_reporter *r;
	char target[64], err[256], buf[1024];
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
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "<29>1 ", 6);
	assert_non_null(strstr(buf, " Matt_daemon "));
	assert_non_null(strstr(buf, " - - User input: toto"));
	assert_int_equal(tintin_sink_stats(r, idx, &st), 0);
	assert_true(st.records >= 1);
	tintin_free(r);
	close(fd);
}

/*
 * A flood while the collector is away: the drops are logged once a
 * tick, and the reports do not feed themselves once the flood stops.
 */
static void
test_drop_reports_do_not_loop(void **state)
{
	Tintin_reporter *r;
	char target[64], err[256], line[4096];
	FILE *fp;
	int fd, port, i, drops = 0, other = 0;

	(void)state;
	fd = inet_socket(SOCK_STREAM, &port, 0);	/* refuses */
	r = tintin_create("Matt_daemon");
	assert_int_equal(tintin_add_file(r, path_of("d.log"), TINTIN_DEBUG,
	    TINTIN_TEXT), 0);
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	assert_int_equal(tintin_add_syslog(r, target, TINTIN_DEBUG, err,
	    sizeof(err)), 1);
	tintin_set_buffered(r, 1);
	for (i = 0; i < 20000; i++)
		tintin_log(r, TINTIN_LOG, "flood %d %0100d", i, 0);
	tintin_flush(r);
	for (i = 0; i < 5; i++)
		tintin_tick(r);
	tintin_free(r);
	fp = fopen(path_of("d.log"), "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, "records dropped (queue full).") != NULL)
			drops++;
		else if (strstr(line, "Forwarding to") != NULL)
			other++;
	}
	fclose(fp);
	assert_int_equal(drops, 1);
	assert_true(other >= 1);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_is_rfc5424),
		cmocka_unit_test(test_severity_by_level),
		cmocka_unit_test(test_newlines_are_escaped),
		cmocka_unit_test(test_long_message_is_cut),
		cmocka_unit_test(test_app_name_is_printable),
		cmocka_unit_test(test_good_targets),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_tcp_octet_counting),
		cmocka_unit_test(test_udp_datagrams),
		cmocka_unit_test(test_udp_unreachable_is_quiet),
		cmocka_unit_test(test_unix_datagram),
		cmocka_unit_test(test_unix_stream_fallback),
		cmocka_unit_test(test_queue_overflow_is_counted),
		cmocka_unit_test(test_reconnect_resends_whole_records),
		cmocka_unit_test(test_reporter_forwards),
		cmocka_unit_test(test_drop_reports_do_not_loop),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

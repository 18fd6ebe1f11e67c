/*
 * Unit tests of Tintin_reporter's syslog forwarding sink, through the
 * public header only: a real collector socket bound by the test, the
 * sink's counters and queue (tintin_sink_stats(), tintin_sink_queue()),
 * and the reports the reporter logs about it.
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
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tintin/tintin.h"

#define TMPDIR_TEMPLATE "/tmp/tintin-syslog.XXXXXX"
#include "tintin/tests/tmpdir.h"

#define QUEUE_MAX	(1024 * 1024)	/* documented bound of the queue */
#define UDP_MAX		2048		/* documented size of a datagram */
#define CAT_REC		0x2u		/* the tests' records, not notes */

/* What the reporter logs about its sinks ("Forwarding to ..."). */
struct notes {
	char	text[65536];
	size_t	len;
};

static void
notes_cb(void *arg, const char *records, size_t len)
{
	struct notes *n = arg;

	if (len > sizeof(n->text) - 1 - n->len)
		len = sizeof(n->text) - 1 - n->len;
	memcpy(n->text + n->len, records, len);
	n->len += len;
	n->text[n->len] = '\0';
}

static int
count_of(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* A loopback socket bound to a free port; listening if asked. */
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

/* A unix socket of TYPE bound to NAME in the test directory. */
static int
unix_socket(int type, const char *name, char *target, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = path_of(name);
	int fd;

	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	snprintf(target, size, "unix:%s", path);
	return fd;
}

/*
 * A reporter named Matt_daemon: sink 0 forwards to TARGET the records of
 * CATS, sink 1 keeps the library's own notes in N.
 */
static Tintin_reporter *
forwarder(const char *target, uint32_t cats, struct notes *n)
{
	Tintin_reporter *r;
	char err[256];

	r = tintin_create("Matt_daemon");
	assert_non_null(r);
	err[0] = '\0';
	if (tintin_add_syslog(r, target, TINTIN_DEBUG, err, sizeof(err)) != 0)
		fail_msg("%s: %s", target, err);
	assert_int_equal(tintin_set_categories(r, 0, cats), 0);
	n->len = 0;
	n->text[0] = '\0';
	assert_int_equal(tintin_add_callback(r, TINTIN_DEBUG, TINTIN_TEXT,
	    notes_cb, n), 1);
	assert_int_equal(tintin_set_categories(r, 1, TINTIN_CAT_DEFAULT), 0);
	return r;
}

static Tintin_reporter *
forwarder_to(const char *proto, int port, struct notes *n)
{
	char target[128];

	snprintf(target, sizeof(target), "%s://127.0.0.1:%d", proto, port);
	return forwarder(target, CAT_REC, n);
}

/* Records and bytes in sink 0's queue; returns whether it is connected. */
static int
queue_of(const Tintin_reporter *r, uint64_t *records, uint64_t *bytes)
{
	uint64_t rec, b;
	int up;

	assert_int_equal(tintin_sink_queue(r, 0, &rec, &b, &up), 0);
	if (records != NULL)
		*records = rec;
	if (bytes != NULL)
		*bytes = b;
	return up;
}

/* Tick until connected (the connect is non-blocking), at most 2 s. */
static void
wait_connected(Tintin_reporter *r)
{
	int i;

	for (i = 0; i < 200; i++) {
		tintin_tick(r);
		if (queue_of(r, NULL, NULL))
			return;
		usleep(10000);
	}
	fail_msg("never connected");
}

/* Accept a connection on LFD, ticking R meanwhile, within 4 s. */
static int
accept_wait(int lfd, Tintin_reporter *r)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd, i;

	for (i = 0; i < 400; i++) {
		tintin_tick(r);
		if (poll(&pfd, 1, 10) == 1)
			break;
	}
	assert_int_equal(poll(&pfd, 1, 0), 1);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/*
 * Read at least N bytes into BUF within 2 s, flushing R meanwhile; with
 * N 0, what comes within 5 ms.
 */
static size_t
read_some(int fd, Tintin_reporter *r, char *buf, size_t size, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t k;
	int i;

	for (i = 0; i < 400 && (got < n || i == 0); i++) {
		if (r != NULL)
			tintin_flush(r);
		if (poll(&pfd, 1, 5) != 1)
			continue;
		k = read(fd, buf + got, size - got);
		if (k <= 0)
			break;
		got += (size_t)k;
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
	fd = unix_socket(SOCK_DGRAM, "dlog", target, sizeof(target));
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
	lfd = unix_socket(SOCK_STREAM, "slog", target, sizeof(target));
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

/*
 * Nobody listening: records wait up to the cap, then the newest are
 * dropped and counted, and reported once; the library's notes use some
 * headroom and their loss is not reported (no report about a lost report).
 */
static void
test_queue_overflow_is_counted(void **state)
{
	struct tintin_sink_stats st;
	struct notes n;
	Tintin_reporter *r;
	char target[64], msg[1000], want[200];
	uint64_t queued, bytes, before, lost;
	int fd, port, i;

	(void)state;
	fd = inet_socket(SOCK_STREAM, &port, 0);	/* refuses */
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d", port);
	r = forwarder(target, TINTIN_CAT_ALL, &n);
	assert_int_equal(tintin_add_file(r, path_of("q.log"), TINTIN_DEBUG,
	    TINTIN_TEXT), 2);
	memset(msg, 'q', sizeof(msg));
	for (i = 0; i < 2000; i++)
		tintin_log_msg_cat(r, TINTIN_LOG, CAT_REC, msg, sizeof(msg));
	assert_int_equal(tintin_sink_stats(r, 0, &st), 0);
	assert_false(queue_of(r, &queued, &bytes));
	assert_int_equal(st.records, 0);
	assert_true(st.lost > 0 && st.lost < 2000);
	assert_int_equal(queued, 2000 - st.lost);
	assert_true(bytes <= QUEUE_MAX);
	assert_true(bytes + 1100 > QUEUE_MAX);
	assert_int_equal(st.last_errno, ECONNREFUSED);

	/* Reports: the connection failure, the drops; they still queue. */
	lost = st.lost;
	tintin_tick(r);
	assert_non_null(strstr(n.text, "Forwarding to tcp://127.0.0.1:"));
	assert_non_null(strstr(n.text, ": cannot connect: Connection "
	    "refused; retrying in 1s.\n"));
	snprintf(want, sizeof(want), "Forwarding to %s: %llu records "
	    "dropped (queue full).\n", target, (unsigned long long)lost);
	assert_non_null(strstr(n.text, want));
	assert_int_equal(tintin_sink_stats(r, 0, &st), 0);
	assert_int_equal(st.lost, lost);
	before = bytes;
	assert_false(queue_of(r, &queued, &bytes));
	assert_true(queued >= 2000 - lost + 2);
	assert_true(bytes > before);

	/* Notes past the headroom are lost too, and that is not reported. */
	for (i = 0; i < 400; i++) {
		assert_int_equal(unlink(path_of("q.log")), 0);
		tintin_tick(r);		/* "Log file ... reopened it." */
	}
	assert_int_equal(tintin_sink_stats(r, 0, &st), 0);
	assert_true(st.lost > lost);
	assert_int_equal(count_of(n.text, "records dropped"), 1);
	assert_int_equal(count_of(n.text, "reopened it."), 400);
	tintin_free(r);
	close(fd);
}

/*
 * A collector that refuses: attempts are spaced by a delay that doubles
 * (1 s, then 2 s), each failure reported with its delay, and no attempt
 * is made before its delay has passed.
 */
static void
test_backoff_doubles(void **state)
{
	struct tintin_sink_stats st;
	struct notes n;
	Tintin_reporter *r;
	time_t before, after;
	int fd, port, i, fails = 0;

	(void)state;
	fd = inet_socket(SOCK_STREAM, &port, 0);	/* refuses */
	r = forwarder_to("tcp", port, &n);
	before = time(NULL);
	tintin_log_cat(r, TINTIN_LOG, CAT_REC, "one");	/* connects */
	tintin_tick(r);
	assert_int_equal(count_of(n.text, "cannot connect"), 1);
	assert_non_null(strstr(n.text, "refused; retrying in 1s.\n"));
	/* Bounded: 400 ticks 10 ms apart, 4 s at most for a 1 s delay. */
	for (i = 0; i < 400 && fails < 2; i++) {
		usleep(10000);
		tintin_tick(r);
		fails = count_of(n.text, "cannot connect");
	}
	after = time(NULL);
	assert_int_equal(fails, 2);
	assert_true(after >= before + 1);
	assert_non_null(strstr(n.text, "refused; retrying in 2s.\n"));
	assert_int_equal(tintin_sink_stats(r, 0, &st), 0);
	assert_int_equal(st.last_errno, ECONNREFUSED);
	assert_int_equal(st.records, 0);
	tintin_free(r);
	close(fd);
}

/* Record numbers of the frames in BUF[0..LEN); returns how many. */
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

/* Log records "rec FROM" to "rec TO - 1", each LEN bytes at least. */
static void
log_numbered(Tintin_reporter *r, int from, int to, size_t len)
{
	char msg[1200];
	int i, k;

	assert_true(len <= sizeof(msg));
	for (i = from; i < to; i++) {
		k = snprintf(msg, sizeof(msg), "rec %05d ", i);
		if ((size_t)k < len)
			memset(msg + k, 'p', len - (size_t)k);
		tintin_log_msg_cat(r, TINTIN_LOG, CAT_REC, msg,
		    (size_t)k > len ? (size_t)k : len);
	}
}

/*
 * The collector resets the connection with records in flight: the next
 * connection (after the backoff) starts at a frame boundary (a record
 * half sent on the old one is sent again whole) and carries every later
 * record in order.
 */
static void
test_reconnect_resends_whole_records(void **state)
{
	static char buf[4 << 20];
	static int nums[8192];
	struct linger lg = { 1, 0 };
	struct notes n;
	Tintin_reporter *r;
	uint64_t bytes = 0;
	size_t got;
	int lfd, cfd, port, i, k, total = 0;

	(void)state;
	lfd = inet_socket(SOCK_STREAM, &port, 1);
	r = forwarder_to("tcp", port, &n);
	wait_connected(r);
	cfd = accept_wait(lfd, r);
	/* Big sends until the socket is full: the last stops mid-frame. */
	while (bytes == 0 && total < 20000) {
		log_numbered(r, total, total + 400, 1200);
		total += 400;
		(void)queue_of(r, NULL, &bytes);
	}
	assert_true(bytes > 0);
	(void)read_some(cfd, NULL, buf, 10000, 10000);
	(void)setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cfd);			/* unread data: a reset */
	for (i = 0; i < 200 && queue_of(r, NULL, NULL); i++) {
		tintin_tick(r);
		usleep(10000);
	}
	assert_false(queue_of(r, NULL, NULL));
	assert_non_null(strstr(n.text, ": connection lost: "));
	cfd = accept_wait(lfd, r);	/* once the backoff has passed */
	log_numbered(r, total, total + 10, 0);
	/* Bounded: 800 reads 5 ms apart at most. */
	for (i = 0, got = 0; i < 800; i++) {
		got += read_some(cfd, r, buf + got, sizeof(buf) - got, 0);
		k = frame_numbers(buf, got, nums, 8192);
		if (k > 0 && nums[k - 1] == total + 9)
			break;
	}
	k = frame_numbers(buf, got, nums, 8192);
	assert_true(k >= 10);
	for (i = 1; i < k; i++)
		assert_int_equal(nums[i], nums[i - 1] + 1);
	assert_int_equal(nums[k - 1], total + 9);
	tintin_free(r);
	close(cfd);
	close(lfd);
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
		cmocka_unit_test(test_reporter_forwards),
		cmocka_unit_test(test_app_name_is_printable),
		cmocka_unit_test(test_good_targets),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_tcp_octet_counting),
		cmocka_unit_test(test_udp_datagrams),
		cmocka_unit_test(test_udp_unreachable_is_quiet),
		cmocka_unit_test(test_unix_datagram),
		cmocka_unit_test(test_unix_stream_fallback),
		cmocka_unit_test(test_queue_overflow_is_counted),
		cmocka_unit_test(test_backoff_doubles),
		cmocka_unit_test(test_reconnect_resends_whole_records),
		cmocka_unit_test(test_drop_reports_do_not_loop),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * Unit tests of the queue of Tintin_reporter's syslog sink, through the
 * public header only: the bound and the drops, the backoff, reconnection
 * at a record boundary, as seen by a collector socket the test binds, by
 * tintin_sink_stats() and tintin_sink_queue(), and in the reports the
 * reporter logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tintin/tintin.h"

#define TMPDIR_TEMPLATE "/tmp/tintin-syslog-queue.XXXXXX"
#include "tintin/tests/tmpdir.h"
#include "tintin/tests/collector.h"

#define QUEUE_MAX	(1024 * 1024)	/* documented bound of the queue */

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
	int fd, port, i, fails;

	(void)state;
	fd = inet_socket(SOCK_STREAM, &port, 0);	/* refuses */
	r = forwarder_to("tcp", port, &n);
	before = time(NULL);
	tintin_log_cat(r, TINTIN_LOG, CAT_REC, "one");	/* connects */
	tintin_tick(r);
	/* Two if a second began between the record and the tick. */
	fails = count_of(n.text, "cannot connect");
	assert_true(fails >= 1);
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
		cmocka_unit_test(test_queue_overflow_is_counted),
		cmocka_unit_test(test_backoff_doubles),
		cmocka_unit_test(test_reconnect_resends_whole_records),
		cmocka_unit_test(test_drop_reports_do_not_loop),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * Unit tests of the reconnection of Tintin_reporter's syslog sink, through
 * the public header only, on the test's own clock: time() and connect()
 * are wrapped at link time (tintin.mk), so minutes of backoff pass in a
 * loop of ticks and every connection attempt is counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tintin/tintin.h"

#define TMPDIR_TEMPLATE "/tmp/tintin-backoff.XXXXXX"
#include "tintin/tests/tmpdir.h"
/* Its TCP helpers are not needed here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "tintin/tests/collector.h"
#pragma GCC diagnostic pop

#define STABLE	10		/* seconds up after which a loss retries at 1 s */
#define START	((time_t)1700000000)

time_t	__wrap_time(time_t *t);
int	__wrap_connect(int fd, const struct sockaddr *sa, socklen_t len);
int	__real_connect(int fd, const struct sockaddr *sa, socklen_t len);

static time_t	clock_now = START;
static int	nconnect;		/* connect() calls so far */

/* The library's time(): the test's clock. */
time_t
__wrap_time(time_t *t)
{
	if (t != NULL)
		*t = clock_now;
	return clock_now;
}

/* The library's connect(), counted. */
int
__wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	nconnect++;
	return __real_connect(fd, sa, len);
}

/* Tick R at time T; whether it tried to connect meanwhile. */
static int
tick_at(Tintin_reporter *r, time_t t)
{
	int before = nconnect;

	clock_now = t;
	tintin_tick(r);
	return nconnect != before;
}

/* Tick R once a second after T, 120 times at most, until it tries to
 * connect: the second it did, or -1. */
static time_t
attempt_after(Tintin_reporter *r, time_t t)
{
	int i;

	for (i = 1; i <= 120; i++)
		if (tick_at(r, t + i))
			return t + i;
	return -1;
}

/*
 * A collector that refuses: the attempts are 1, 2, 4, 8, 16 s apart, then
 * 30 s (the documented cap), and the outage costs one note per attempt
 * while the delay still grows, none once it stays at the cap.
 */
static void
test_backoff_doubles_up_to_the_cap(void **state)
{
	static const int want[] = { 1, 2, 4, 8, 16, 30, 30 };
	struct notes n;
	Tintin_reporter *r;
	char target[300], what[64];
	time_t at[8], t;
	int fd, i, k = 0;

	(void)state;
	fd = collector_unix(SOCK_STREAM, 0, "refuses.sock", target,
	    sizeof(target));
	clock_now = START;
	r = forwarder(target, CAT_REC, &n);
	/* 121 ticks a second apart: the attempt after START + 91 is at 121. */
	for (t = START; t <= START + 120; t++)
		if (tick_at(r, t)) {
			assert_true(k < 8);
			at[k++] = t;
		}
	assert_true(k > 0);
	assert_int_equal(at[0], START);
	for (i = 1; i < k; i++)
		assert_int_equal(at[i] - at[i - 1], want[i - 1]);
	assert_int_equal(k, 8);
	for (i = 0; i < 5; i++) {
		snprintf(what, sizeof(what), ": cannot connect: Connection "
		    "refused; retrying in %ds.\n", want[i]);
		assert_int_equal(count_of(n.text, what), 1);
	}
	assert_int_equal(count_of(n.text, "Forwarding to "), 5);
	assert_int_equal(count_of(n.text, "retrying in 30s"), 0);
	tintin_free(r);
	close(fd);
}

/*
 * A connection that stayed up STABLE seconds, once lost, is retried after
 * 1 s whatever the delay had grown to; one lost sooner keeps backing off
 * (a collector that accepts and hangs up must not be hammered).
 */
static void
test_backoff_restarts_after_a_stable_connection(void **state)
{
	struct notes n;
	Tintin_reporter *r;
	char target[300];
	time_t t;
	int lfd, cfd, i;

	(void)state;
	lfd = collector_unix(SOCK_STREAM, 0, "flaps.sock", target,
	    sizeof(target));
	clock_now = START;
	r = forwarder(target, CAT_REC, &n);
	/* Refused at 0, 1, 3 and 7 s: the next delay is 8 s. */
	assert_true(tick_at(r, START));
	assert_int_equal(attempt_after(r, START), START + 1);
	assert_int_equal(attempt_after(r, START + 1), START + 3);
	assert_int_equal(attempt_after(r, START + 3), START + 7);
	assert_int_equal(listen(lfd, 4), 0);
	t = attempt_after(r, START + 7);
	assert_int_equal(t, START + 15);
	assert_true(queue_of(r, NULL, NULL));

	/* Up STABLE seconds, then closed by the collector. */
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cfd >= 0);
	for (i = 1; i < STABLE; i++)
		assert_false(tick_at(r, t + i));
	assert_true(queue_of(r, NULL, NULL));
	close(cfd);
	assert_false(tick_at(r, t + STABLE));
	assert_false(queue_of(r, NULL, NULL));
	assert_int_equal(count_of(n.text, ": connection lost: closed by the "
	    "collector; retrying in 1s.\n"), 1);
	t = attempt_after(r, t + STABLE);
	assert_int_equal(t, START + 15 + STABLE + 1);
	assert_true(queue_of(r, NULL, NULL));

	/* Up one second less: the delay goes on doubling (2 s now). */
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cfd >= 0);
	for (i = 1; i < STABLE - 1; i++)
		assert_false(tick_at(r, t + i));
	close(cfd);
	assert_false(tick_at(r, t + STABLE - 1));
	assert_int_equal(count_of(n.text, ": connection lost: closed by the "
	    "collector; retrying in 2s.\n"), 1);
	assert_int_equal(attempt_after(r, t + STABLE - 1), t + STABLE + 1);
	assert_true(queue_of(r, NULL, NULL));

	/* 4 refusals, 3 connections, 2 losses: a note each. */
	assert_int_equal(count_of(n.text, ": cannot connect: "), 4);
	assert_int_equal(count_of(n.text, ": connected.\n"), 3);
	assert_int_equal(count_of(n.text, "Forwarding to "), 9);
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cfd >= 0);
	tintin_free(r);
	close(cfd);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_doubles_up_to_the_cap),
		cmocka_unit_test(test_backoff_restarts_after_a_stable_connection),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

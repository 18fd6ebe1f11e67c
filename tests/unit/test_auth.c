/* Unit tests of the guard against password guessing (src/daemon/session/auth.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/session/auth.h"

/* The guard keeps its state in the module: each test works at its own
 * time, far past the windows of the tests before it. */

static struct auth_net
net(const char *ip, unsigned v4, unsigned v6)
{
	struct auth_net n;

	assert_int_equal(auth_net_of(ip, v4, v6, &n), 0);
	return n;
}

static int
same(const char *a, const char *b, unsigned v4, unsigned v6)
{
	struct auth_net x = net(a, v4, v6), y = net(b, v4, v6);

	return memcmp(&x, &y, sizeof(x)) == 0;
}

static void
test_networks_of_ipv4(void **state)
{
	(void)state;
	assert_true(same("10.1.2.3", "10.1.2.99", 24, 64));
	assert_false(same("10.1.2.3", "10.1.3.3", 24, 64));
	assert_false(same("10.1.2.3", "10.1.2.4", 32, 64));
	assert_true(same("10.1.2.4", "10.1.2.7", 30, 64));
	assert_false(same("10.1.2.3", "10.1.2.4", 30, 64));
	assert_true(same("10.255.0.1", "10.0.0.1", 8, 64));
}

static void
test_networks_of_ipv6(void **state)
{
	(void)state;
	/* a /64 gives any host endless addresses: one network */
	assert_true(same("[2001:db8::1]", "2001:db8::ffff:1234:1", 32, 64));
	assert_false(same("2001:db8::1", "2001:db8:0:1::1", 32, 64));
	assert_false(same("2001:db8::1", "2001:db8::2", 32, 128));
	assert_true(same("2001:db8:0:1::1", "2001:db8:0:2::1", 32, 48));
	/* never the same as an IPv4 network */
	assert_false(same("::", "0.0.0.0", 1, 1));
}

static void
test_networks_of_junk(void **state)
{
	struct auth_net n;

	(void)state;
	assert_int_equal(auth_net_of("nope", 32, 64, &n), -1);
	assert_int_equal(auth_net_of("", 32, 64, &n), -1);
	assert_int_equal(auth_net_of("[1.2.3.4", 32, 64, &n), -1);
}

static const struct auth_limits lim = { 3, 60, 0, 60, 0, 0, 0 };

static void
test_waits_grow_then_lock(void **state)
{
	struct auth_net n = net("192.0.2.1", 32, 64);
	time_t t = 10000;
	unsigned wait, left, want[] = { 0, 1, 2 };
	int locked, i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(auth_attempt_begin(&n, t, &lim, &wait,
		    &left), AUTH_GO);
		assert_int_equal(wait, want[i]);
		auth_attempt_end(&n, t, &lim, 1, &locked);
		assert_int_equal(locked, i == 2);
	}
	assert_int_equal(auth_attempt_begin(&n, t + 10, &lim, &wait, &left),
	    AUTH_LOCKED);
	assert_int_equal(left, 50);
	assert_int_equal(auth_attempt_begin(&n, t + 60, &lim, &wait, &left),
	    AUTH_GO);
	assert_int_equal(wait, 0);
	auth_attempt_end(&n, t + 60, &lim, 0, &locked);
}

static void
test_attempts_under_way_count(void **state)
{
	struct auth_net n = net("192.0.2.2", 32, 64);
	time_t t = 20000;
	unsigned w1, w2, w3, left;
	int locked;

	(void)state;
	assert_int_equal(auth_attempt_begin(&n, t, &lim, &w1, &left), AUTH_GO);
	assert_int_equal(auth_attempt_begin(&n, t, &lim, &w2, &left), AUTH_GO);
	assert_int_equal(auth_attempt_begin(&n, t, &lim, &w3, &left), AUTH_GO);
	assert_int_equal(w1, 0);
	assert_int_equal(w2, 1);
	assert_int_equal(w3, 2);
	/* ended without a check: nothing counted, the waits come back */
	auth_attempt_end(&n, t, &lim, 0, &locked);
	auth_attempt_end(&n, t, &lim, 0, &locked);
	auth_attempt_end(&n, t, &lim, 0, &locked);
	assert_int_equal(auth_attempt_begin(&n, t, &lim, &w1, &left), AUTH_GO);
	assert_int_equal(w1, 0);
	auth_attempt_end(&n, t, &lim, 0, &locked);
}

static void
test_a_success_forgets_nothing(void **state)
{
	struct auth_net n = net("192.0.2.3", 32, 64);
	time_t t = 30000;
	unsigned wait, left;
	int locked;

	(void)state;
	auth_attempt_begin(&n, t, &lim, &wait, &left);
	auth_attempt_end(&n, t, &lim, 1, &locked);
	auth_attempt_begin(&n, t, &lim, &wait, &left);
	auth_attempt_end(&n, t, &lim, 0, &locked);	/* a success */
	assert_int_equal(auth_attempt_begin(&n, t, &lim, &wait, &left),
	    AUTH_GO);
	assert_int_equal(wait, 1);
	auth_attempt_end(&n, t, &lim, 0, &locked);
}

/*
 * Thousands of other networks failing cannot push a locked-out
 * network's record out of the table.
 */
static void
test_records_cannot_be_pushed_out(void **state)
{
	struct auth_net victim = net("198.51.100.7", 32, 64), n;
	time_t t = 40000;
	unsigned wait, left, i;
	char ip[32];
	int locked;

	(void)state;
	for (i = 0; i < 3; i++) {
		auth_attempt_begin(&victim, t, &lim, &wait, &left);
		auth_attempt_end(&victim, t, &lim, 1, &locked);
	}
	assert_true(locked);
	for (i = 0; i < 3000; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.1", i / 250, i % 250);
		n = net(ip, 32, 64);
		assert_int_equal(auth_attempt_begin(&n, t + 1, &lim, &wait,
		    &left), AUTH_GO);
		auth_attempt_end(&n, t + 1, &lim, 1, &locked);
	}
	assert_int_equal(auth_attempt_begin(&victim, t + 2, &lim, &wait,
	    &left), AUTH_LOCKED);
	assert_int_equal(left, 58);
}

static void
test_past_the_global_budget_checks_take_turns(void **state)
{
	const struct auth_limits g = { 0, 60, 4, 8, 0, 0, 0 };	/* 2 s apart */
	struct auth_net n, clean = net("203.0.113.200", 32, 64);
	time_t t = 50000;
	unsigned wait, w2, left, i;
	char ip[32];
	int locked, crossed = 0;

	(void)state;
	assert_int_equal(auth_global_spacing(&g), 2);
	for (i = 0; i < 4; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%u", i + 1);
		n = net(ip, 32, 64);
		assert_int_equal(auth_attempt_begin(&n, t, &g, &wait, &left),
		    AUTH_GO);
		assert_int_equal(wait, 0);
		crossed += auth_attempt_end(&n, t, &g, 1, &locked);
	}
	assert_int_equal(crossed, 1);
	/* a network that failed: refused while over the budget */
	assert_int_equal(auth_attempt_begin(&n, t, &g, &wait, &left),
	    AUTH_BUSY);
	assert_int_equal(left, 60);
	/* a clean one waits its turn, the next one the turn after */
	assert_int_equal(auth_attempt_begin(&clean, t, &g, &wait, &left),
	    AUTH_GO);
	n = net("203.0.113.201", 32, 64);
	assert_int_equal(auth_attempt_begin(&n, t, &g, &w2, &left), AUTH_GO);
	assert_int_equal(wait, 2);
	assert_int_equal(w2, 4);
	auth_attempt_end(&clean, t + 2, &g, 0, &locked);
	auth_attempt_end(&n, t + 4, &g, 0, &locked);
	/* the window over, no wait */
	n = net("203.0.113.202", 32, 64);
	assert_int_equal(auth_attempt_begin(&n, t + 9, &g, &wait, &left),
	    AUTH_GO);
	assert_int_equal(wait, 0);
	auth_attempt_end(&n, t + 9, &g, 0, &locked);
}

/*
 * The checks under way count against the budget: attempts begun together
 * just under it cannot all be checked at once and overshoot it.
 */
static void
test_checks_under_way_count_against_the_budget(void **state)
{
	const struct auth_limits g = { 0, 60, 4, 8, 0, 0, 0 };	/* 2 s apart */
	struct auth_net n[6];
	time_t t = 60000;
	unsigned wait[6], left, i;
	char ip[32];
	int locked;

	(void)state;
	for (i = 0; i < 6; i++) {
		snprintf(ip, sizeof(ip), "203.0.114.%u", i + 1);
		n[i] = net(ip, 32, 64);
		assert_int_equal(auth_attempt_begin(&n[i], t, &g, &wait[i],
		    &left), AUTH_GO);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(wait[i], 0);
	assert_int_equal(wait[4], 2);	/* past the budget: turns */
	assert_int_equal(wait[5], 4);
	for (i = 0; i < 6; i++)
		auth_attempt_end(&n[i], t + wait[i], &g, 0, &locked);
	/* all ended without a failure: the budget is whole again */
	assert_int_equal(auth_attempt_begin(&n[0], t + 5, &g, &wait[0],
	    &left), AUTH_GO);
	assert_int_equal(wait[0], 0);
	auth_attempt_end(&n[0], t + 5, &g, 0, &locked);
}

/*
 * Connections without a login add to their network's penalty; once it
 * reaches penalty_min it is in force until it runs out, never more than
 * penalty_max ahead; its end is reported once, with the refusals.
 */
static void
test_connections_without_a_login_penalize_their_network(void **state)
{
	const struct auth_limits p = { 0, 60, 0, 60, 5, 12, 20 };
	const struct auth_limits off = { 0, 60, 0, 60, 0, 12, 20 };
	struct auth_net n = net("198.51.100.50", 32, 64), got,
	    other = net("198.51.100.51", 32, 64);
	time_t t = 70000;
	unsigned left, refused, i;

	(void)state;
	assert_int_equal(auth_noauth(&n, t, &p, &left), 0);	/* 5 s */
	assert_int_equal(auth_noauth(&n, t, &p, &left), 0);	/* 10 s */
	assert_int_equal(auth_penalized(&n, t, &p, &left), 0);
	assert_int_equal(auth_noauth(&n, t, &p, &left), 1);	/* 15: on */
	assert_int_equal(left, 15);
	assert_int_equal(auth_noauth(&n, t, &p, &left), 0);	/* 20 */
	assert_int_equal(auth_noauth(&n, t, &p, &left), 0);	/* capped */
	assert_int_equal(auth_penalized(&n, t + 1, &p, &left), 1);
	assert_int_equal(left, 19);
	assert_int_equal(auth_penalized(&other, t + 1, &p, &left), 0);
	assert_int_equal(auth_penalized(&n, t + 19, &p, &left), 1);
	assert_int_equal(left, 1);
	assert_int_equal(auth_penalty_over(t + 19, &got, &refused), 0);
	assert_int_equal(auth_penalized(&n, t + 20, &p, &left), 0);
	assert_int_equal(auth_penalty_over(t + 20, &got, &refused), 1);
	assert_memory_equal(&got, &n, sizeof(n));
	assert_int_equal(refused, 2);
	assert_int_equal(auth_penalty_over(t + 20, &got, &refused), 0);
	/* spread out, the charges run out before they add up */
	for (i = 0; i < 10; i++)
		assert_int_equal(auth_noauth(&other, t + 100 + 5 * i, &p,
		    &left), 0);
	assert_int_equal(auth_penalized(&other, t + 146, &p, &left), 0);
	/* penalty 0: none */
	for (i = 0; i < 10; i++)
		assert_int_equal(auth_noauth(&other, t + 200, &off, &left),
		    0);
	assert_int_equal(auth_penalized(&other, t + 200, &p, &left), 0);
}

/*
 * Networks that only connected without a login, as many as the table
 * holds: their charges give way, so that the failures of the next network
 * are still counted and lock it out.
 */
static void
test_charges_cannot_crowd_out_failures(void **state)
{
	const struct auth_limits p = { 2, 60, 0, 60, 5, 12, 20 };
	struct auth_net n, victim = net("192.0.2.200", 32, 64);
	time_t t = 90000;
	unsigned wait, left, i;
	char ip[32];
	int locked;

	(void)state;
	for (i = 0; i < 1024; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.9", i / 250, i % 250);
		n = net(ip, 32, 64);
		assert_int_equal(auth_noauth(&n, t, &p, &left), 0);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(auth_attempt_begin(&victim, t, &p, &wait,
		    &left), AUTH_GO);
		auth_attempt_end(&victim, t, &p, 1, &locked);
	}
	assert_true(locked);
	assert_int_equal(auth_attempt_begin(&victim, t + 1, &p, &wait,
	    &left), AUTH_LOCKED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_networks_of_ipv4),
		cmocka_unit_test(test_networks_of_ipv6),
		cmocka_unit_test(test_networks_of_junk),
		cmocka_unit_test(test_waits_grow_then_lock),
		cmocka_unit_test(test_attempts_under_way_count),
		cmocka_unit_test(test_a_success_forgets_nothing),
		cmocka_unit_test(test_records_cannot_be_pushed_out),
		cmocka_unit_test(test_past_the_global_budget_checks_take_turns),
		cmocka_unit_test(test_checks_under_way_count_against_the_budget),
		cmocka_unit_test(
		    test_connections_without_a_login_penalize_their_network),
		cmocka_unit_test(test_charges_cannot_crowd_out_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

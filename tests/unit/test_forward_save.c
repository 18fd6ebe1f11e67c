/*
 * Unit tests of the forwarder's checkpoint thread: a position handed to
 * it is in the checkpoint once its outcome is taken, a failure comes back
 * with its errno, each outcome comes once, and a save asked for before
 * the end is done before the thread ends.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/forward/forward_int.h"

#define TMPDIR_TEMPLATE "/tmp/test_forward_save.XXXXXX"
#include "tintin/tests/tmpdir.h"

static struct fwd_pos	 a, b;	/* static: a position is 4 KiB */

static void
make_pos(struct fwd_pos *p, uint64_t off, uint64_t hash)
{
	memset(p, 0, sizeof(*p));
	p->dev = 2049;
	p->ino = 1234567;
	p->off = off;
	p->headlen = 100;
	p->hash = hash;
}

static void
assert_saved(const char *path, const struct fwd_pos *want)
{
	static struct fwd_pos got;

	assert_int_equal(fwd_src_load(&got, path), 0);
	assert_int_equal(got.dev, want->dev);
	assert_int_equal(got.ino, want->ino);
	assert_int_equal(got.off, want->off);
	assert_int_equal(got.headlen, want->headlen);
	assert_int_equal(got.hash, want->hash);
}

static void
test_a_save_is_done_once_taken(void **state)
{
	struct fwd_saver *s;
	char *path = path_of("one.pos");
	uint64_t tag = 0;
	int err = -1;

	(void)state;
	make_pos(&a, 4242, 0x1122334455667788ULL);
	assert_non_null(s = fwd_saver_new(path));
	fwd_saver_put(s, &a, 17);
	assert_int_equal(fwd_saver_wait(s, &tag, &err), 1);
	assert_int_equal(tag, 17);
	assert_int_equal(err, 0);
	assert_saved(path, &a);
	/* An outcome comes once. */
	assert_int_equal(fwd_saver_poll(s, &tag, &err), 0);
	assert_int_equal(fwd_saver_wait(s, &tag, &err), 0);
	/* The next save replaces it. */
	make_pos(&b, 9000, 0x99);
	fwd_saver_put(s, &b, 18);
	assert_int_equal(fwd_saver_wait(s, &tag, &err), 1);
	assert_int_equal(tag, 18);
	assert_saved(path, &b);
	fwd_saver_free(s);
}

static void
test_a_failure_comes_back_with_its_errno(void **state)
{
	struct fwd_saver *s;
	char *path = path_of("no/such/dir.pos");
	uint64_t tag = 0;
	int err = 0;

	(void)state;
	make_pos(&a, 1, 2);
	assert_non_null(s = fwd_saver_new(path));
	fwd_saver_put(s, &a, 3);
	assert_int_equal(fwd_saver_wait(s, &tag, &err), 1);
	assert_int_equal(tag, 3);
	assert_int_equal(err, ENOENT);
	assert_int_equal(access(path, F_OK), -1);
	fwd_saver_free(s);
}

static void
test_the_end_waits_for_the_save_asked(void **state)
{
	struct fwd_saver *s;
	char *path = path_of("end.pos");

	(void)state;
	make_pos(&a, 777, 0xabc);
	assert_non_null(s = fwd_saver_new(path));
	fwd_saver_put(s, &a, 1);
	fwd_saver_free(s);
	assert_saved(path, &a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_save_is_done_once_taken),
		cmocka_unit_test(test_a_failure_comes_back_with_its_errno),
		cmocka_unit_test(test_the_end_waits_for_the_save_asked),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

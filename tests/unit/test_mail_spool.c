/*
 * Unit tests of the alert mail spool: mails come back oldest first, a few
 * at a time, each once; a mail keeps its name (its place) when written
 * again; a file is never written over.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/alert/mail_spool.h"

#define TMPDIR_TEMPLATE "/tmp/test_mail_spool.XXXXXX"
#include "tintin/tests/tmpdir.h"

#define NGOT	16

/* What spool_load handed over, in its order. */
struct got {
	struct spooled	 m[NGOT];
	int		 n;
	int		 bad;
};

static void
take(void *arg, struct spooled *m)
{
	struct got *g = arg;

	assert_true(g->n < NGOT);
	g->m[g->n++] = *m;
}

static void
bad(void *arg, const char *name)
{
	struct got *g = arg;

	(void)name;
	g->bad++;
}

static void
got_free(struct got *g)
{
	int i;

	for (i = 0; i < g->n; i++)
		free(g->m[i].msg);
	memset(g, 0, sizeof(*g));
}

/* A mail of rule RULE, with a new name. */
static void
make_mail(struct spooled *m, const char *rule)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->rule, sizeof(m->rule), "%s", rule);
	strcpy(m->to[0], "ops@example.org");
	m->nto = 1;
	m->msg = strdup("Subject: x\r\n\r\nbody\r\n");
	m->len = strlen(m->msg);
	spool_name(m);
}

static void
spool_dir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s", path_of(name));
}

/* Five mails, taken back two at a time: the oldest first, each once. */
static void
test_loads_oldest_first_a_few_at_a_time(void **state)
{
	struct spooled m;
	struct got g = { 0 };
	char sp[256], rule[8];
	int i, left;

	(void)state;
	spool_dir(sp, sizeof(sp), "order");
	for (i = 0; i < 5; i++) {
		snprintf(rule, sizeof(rule), "r%d", i);
		make_mail(&m, rule);
		assert_int_equal(spool_write(sp, &m), 0);
		free(m.msg);
	}
	assert_int_equal(spool_count(sp, INT_MAX), 5);
	assert_int_equal(spool_count(sp, 1), 1);	/* stops at MAX */
	assert_int_equal(spool_load(sp, 2, take, bad, &g, &left), 2);
	assert_int_equal(left, 3);
	assert_string_equal(g.m[0].rule, "r0");
	assert_string_equal(g.m[1].rule, "r1");
	assert_int_equal(g.m[0].len, strlen("Subject: x\r\n\r\nbody\r\n"));
	assert_int_equal(spool_count(sp, INT_MAX), 3);	/* removed once taken */
	assert_int_equal(spool_load(sp, 2, take, bad, &g, &left), 2);
	assert_int_equal(left, 1);
	assert_string_equal(g.m[2].rule, "r2");
	assert_string_equal(g.m[3].rule, "r3");
	assert_int_equal(spool_load(sp, 2, take, bad, &g, &left), 1);
	assert_int_equal(left, 0);
	assert_string_equal(g.m[4].rule, "r4");
	assert_int_equal(spool_load(sp, 2, take, bad, &g, NULL), 0);
	assert_int_equal(spool_count(sp, INT_MAX), 0);
	assert_int_equal(g.bad, 0);
	got_free(&g);
}

/*
 * A mail taken back, then spooled again (a stop), keeps its place before
 * the mails made after it that are still in the spool.
 */
static void
test_a_mail_keeps_its_place(void **state)
{
	struct spooled a, b;
	struct got g = { 0 };
	char sp[256], name[SPOOL_NAME_MAX];

	(void)state;
	spool_dir(sp, sizeof(sp), "place");
	make_mail(&a, "older");
	make_mail(&b, "newer");
	assert_int_equal(spool_write(sp, &a), 0);
	free(a.msg);
	assert_int_equal(spool_load(sp, 1, take, bad, &g, NULL), 1);
	assert_int_equal(spool_write(sp, &b), 0);
	free(b.msg);
	snprintf(name, sizeof(name), "%s", g.m[0].name);
	assert_int_equal(spool_write(sp, &g.m[0]), 0);	/* the stop */
	assert_string_equal(g.m[0].name, name);
	got_free(&g);
	assert_int_equal(spool_load(sp, 5, take, bad, &g, NULL), 2);
	assert_string_equal(g.m[0].rule, "older");
	assert_string_equal(g.m[1].rule, "newer");
	got_free(&g);
}

/* A name already taken: the mail gets a new one, nothing is lost. */
static void
test_never_writes_over_a_mail(void **state)
{
	struct spooled a, b;
	struct got g = { 0 };
	char sp[256];

	(void)state;
	spool_dir(sp, sizeof(sp), "over");
	make_mail(&a, "first");
	make_mail(&b, "second");
	memcpy(b.name, a.name, sizeof(b.name));
	assert_int_equal(spool_write(sp, &a), 0);
	assert_int_equal(spool_write(sp, &b), 0);
	assert_string_not_equal(a.name, b.name);
	free(a.msg);
	free(b.msg);
	assert_int_equal(spool_load(sp, 5, take, bad, &g, NULL), 2);
	assert_string_equal(g.m[0].rule, "first");
	assert_string_equal(g.m[1].rule, "second");
	got_free(&g);
}

/* A file that is no mail is left alone, and not counted against MAX. */
static void
test_bad_files_are_left_alone(void **state)
{
	struct spooled a;
	struct got g = { 0 };
	char sp[256], path[300];
	FILE *f;

	(void)state;
	spool_dir(sp, sizeof(sp), "bad");
	make_mail(&a, "good");
	assert_int_equal(spool_write(sp, &a), 0);
	free(a.msg);
	snprintf(path, sizeof(path), "%s/0-0-0.mail", sp);
	assert_non_null(f = fopen(path, "w"));
	fputs("not a mail\n", f);
	fclose(f);
	assert_int_equal(spool_load(sp, 1, take, bad, &g, NULL), 1);
	assert_string_equal(g.m[0].rule, "good");
	assert_int_equal(g.bad, 1);
	assert_int_equal(access(path, F_OK), 0);
	got_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_oldest_first_a_few_at_a_time),
		cmocka_unit_test(test_a_mail_keeps_its_place),
		cmocka_unit_test(test_never_writes_over_a_mail),
		cmocka_unit_test(test_bad_files_are_left_alone),
	};

	umask(022);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

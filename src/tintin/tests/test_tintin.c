/* Unit tests of the Tintin_reporter library (src/tintin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tintin/tintin.h"

#define TMPDIR_TEMPLATE "/tmp/tintin-test.XXXXXX"
#include "tintin/tests/tmpdir.h"

static char *
slurp(const char *path)
{
	static char buf[1 << 18];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
test_text_line_has_subject_shape(void **state)
{
	Tintin_reporter *r;
	regex_t re;
	char *p;

	(void)state;
	r = tintin_create("Matt_daemon");
	assert_non_null(r);
	p = path_of("shape.log");
	assert_int_equal(tintin_add_file(r, p, TINTIN_DEBUG, TINTIN_TEXT), 0);
	assert_int_equal(tintin_log(r, TINTIN_INFO, "Started."), 0);
	assert_int_equal(tintin_log(r, TINTIN_LOG, "User input: %s", "toto"),
	    0);
	assert_int_equal(tintin_log(r, TINTIN_ERROR, "Error file locked."),
	    0);
	tintin_free(r);
	assert_int_equal(regcomp(&re,
	    "^\\[[0-9]{2}/[0-9]{2}/[0-9]{4}-[0-9]{2}:[0-9]{2}:[0-9]{2}\\] "
	    "\\[ INFO \\] - Matt_daemon: Started\\.\n"
	    "\\[[^]]*\\] \\[ LOG \\] - Matt_daemon: User input: toto\n"
	    "\\[[^]]*\\] \\[ ERROR \\] - Matt_daemon: Error file locked\\.\n$",
	    REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, slurp(p), 0, NULL, 0), 0);
	regfree(&re);
}

static void
test_timestamp_is_local_time(void **state)
{
	Tintin_reporter *r;
	char expect[32], *s, *p;
	struct tm tm;
	time_t before, after;

	(void)state;
	r = tintin_create("x");
	p = path_of("time.log");
	assert_int_equal(tintin_add_file(r, p, TINTIN_DEBUG, TINTIN_TEXT), 0);
	before = time(NULL);
	tintin_log(r, TINTIN_INFO, "now");
	after = time(NULL);
	tintin_free(r);
	s = slurp(p);
	localtime_r(&before, &tm);
	strftime(expect, sizeof(expect), "[%d/%m/%Y-%H:%M:%S]", &tm);
	if (strncmp(s, expect, strlen(expect)) != 0) {
		localtime_r(&after, &tm);
		strftime(expect, sizeof(expect), "[%d/%m/%Y-%H:%M:%S]", &tm);
	}
	assert_memory_equal(s, expect, strlen(expect));
}

/* The arithmetic formatter agrees with the C library for many instants. */
static void
test_format_time_matches_libc(void **state)
{
	char mine[32], libc[32];
	struct tm tm;
	int64_t t;
	time_t tt;
	long offs[] = { 0, 3600, -5 * 3600, 19800, -34200 };
	size_t i, k;

	(void)state;
	srand(7);
	for (i = 0; i < 20000; i++) {
		t = (int64_t)((unsigned)rand() % 4102444800U);	/* < 2100 */
		if (i < 4)
			t = (int64_t[]){ 0, 951782400, 4102444799,
			    1709164800 }[i];	/* 1970, 2000-02-29, 2099, 2024 */
		k = i % (sizeof(offs) / sizeof(offs[0]));
		tintin_format_time(mine, t, offs[k]);
		tt = (time_t)(t + offs[k]);
		gmtime_r(&tt, &tm);
		strftime(libc, sizeof(libc), "%d/%m/%Y-%H:%M:%S", &tm);
		assert_string_equal(mine, libc);
	}
}

static void
test_sinks_have_their_own_levels(void **state)
{
	Tintin_reporter *r;
	char all[256], warn[256];

	(void)state;
	r = tintin_create("Matt_daemon");
	snprintf(all, sizeof(all), "%s", path_of("all.log"));
	snprintf(warn, sizeof(warn), "%s", path_of("warn.log"));
	assert_int_equal(tintin_add_file(r, all, TINTIN_DEBUG, TINTIN_TEXT),
	    0);
	assert_int_equal(tintin_add_file(r, warn, TINTIN_WARN, TINTIN_TEXT),
	    1);
	tintin_log(r, TINTIN_DEBUG, "d");
	tintin_log(r, TINTIN_INFO, "i");
	tintin_log(r, TINTIN_WARN, "w");
	tintin_log(r, TINTIN_ERROR, "e");
	tintin_free(r);
	assert_int_equal(count_lines(slurp(all)), 4);
	assert_int_equal(count_lines(slurp(warn)), 2);
	assert_non_null(strstr(slurp(warn), "[ WARN ] - Matt_daemon: w\n"));
}

static void
test_level_below_every_sink_is_not_wanted(void **state)
{
	Tintin_reporter *r;

	(void)state;
	r = tintin_create("x");
	assert_false(tintin_wants(r, TINTIN_ERROR));	/* no sink */
	assert_int_equal(tintin_add_file(r, path_of("lvl.log"), TINTIN_INFO,
	    TINTIN_TEXT), 0);
	assert_false(tintin_wants(r, TINTIN_DEBUG));
	assert_true(tintin_wants(r, TINTIN_LOG));
	tintin_free(r);
}

static void
test_buffered_mode_writes_on_flush(void **state)
{
	Tintin_reporter *r;
	struct tintin_sink_stats st;
	char *p;

	(void)state;
	r = tintin_create("x");
	p = path_of("buf.log");
	assert_int_equal(tintin_add_file(r, p, TINTIN_DEBUG, TINTIN_TEXT), 0);
	tintin_set_buffered(r, 1);
	tintin_log(r, TINTIN_INFO, "one");
	tintin_log(r, TINTIN_INFO, "two");
	assert_int_equal(count_lines(slurp(p)), 0);
	assert_int_equal(tintin_flush(r), 0);
	assert_int_equal(count_lines(slurp(p)), 2);
	assert_int_equal(tintin_sink_stats(r, 0, &st), 0);
	assert_int_equal(st.records, 2);
	tintin_free(r);
}

static void
test_json_sink_escapes(void **state)
{
	Tintin_reporter *r;
	regex_t re;
	char *p;

	(void)state;
	r = tintin_create("Matt_daemon");
	p = path_of("j.log");
	assert_int_equal(tintin_add_file(r, p, TINTIN_DEBUG, TINTIN_JSON), 0);
	tintin_log_msg(r, TINTIN_WARN, "a\"b\\c\x01", 6);
	tintin_free(r);
	assert_int_equal(regcomp(&re,
	    "^\\{\"time\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2}\",\"level\":\"warn\","
	    "\"program\":\"Matt_daemon\",\"message\":\"a\\\\\"b\\\\\\\\c"
	    "\\\\u0001\"\\}\n$", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, slurp(p), 0, NULL, 0), 0);
	regfree(&re);
}

static void
test_symlink_is_refused(void **state)
{
	Tintin_reporter *r;
	char link[256], target[256];

	(void)state;
	snprintf(target, sizeof(target), "%s", path_of("target"));
	snprintf(link, sizeof(link), "%s", path_of("link.log"));
	assert_int_equal(symlink(target, link), 0);
	r = tintin_create("x");
	assert_int_equal(tintin_add_file(r, link, TINTIN_DEBUG, TINTIN_TEXT),
	    -1);
	assert_int_equal(access(target, F_OK), -1);
	tintin_free(r);
}

static void
test_reopen_follows_a_renamed_file(void **state)
{
	Tintin_reporter *r;
	char p[256], old[256];

	(void)state;
	snprintf(p, sizeof(p), "%s", path_of("rot.log"));
	snprintf(old, sizeof(old), "%s", path_of("rot.log.1"));
	r = tintin_create("x");
	assert_int_equal(tintin_add_file(r, p, TINTIN_DEBUG, TINTIN_TEXT), 0);
	tintin_log(r, TINTIN_INFO, "before");
	assert_int_equal(rename(p, old), 0);
	assert_int_equal(tintin_reopen(r), 0);
	tintin_log(r, TINTIN_INFO, "after");
	tintin_free(r);
	assert_non_null(strstr(slurp(old), "before"));
	assert_null(strstr(slurp(old), "after"));
	assert_non_null(strstr(slurp(p), "after"));
}

static void
test_long_message_is_whole(void **state)
{
	Tintin_reporter *r;
	char *big, *s, *p;

	(void)state;
	big = malloc(100000);
	assert_non_null(big);
	memset(big, 'z', 99999);
	big[99999] = '\0';
	r = tintin_create("x");
	p = path_of("big.log");
	assert_int_equal(tintin_add_file(r, p, TINTIN_DEBUG, TINTIN_TEXT), 0);
	tintin_set_buffered(r, 1);
	tintin_log(r, TINTIN_LOG, "%s", big);
	tintin_free(r);
	s = slurp(p);
	assert_int_equal(count_lines(s), 1);
	assert_non_null(strstr(s, big));
	free(big);
}

static int hook_calls;
static Tintin_reporter *hook_r;

static void
hook(void *arg, int level, uint32_t cat, const char *msg, size_t len,
    const void *source)
{
	(void)arg;
	hook_calls++;
	assert_null(source);		/* tintin_log_cat() passes none */
	assert_int_equal(level, TINTIN_WARN);
	assert_int_equal(cat, 0x4);
	assert_int_equal(len, 5);
	assert_memory_equal(msg, "alert", 5);
	/* What the hook logs does not come back to it. */
	tintin_log_cat(hook_r, TINTIN_WARN, 0x4, "alert");
}

static void
test_hook_sees_each_record_once(void **state)
{
	(void)state;
	hook_r = tintin_create("x");
	assert_non_null(hook_r);
	assert_int_equal(tintin_add_file(hook_r, path_of("hook.log"),
	    TINTIN_DEBUG, TINTIN_TEXT), 0);
	assert_int_equal(tintin_add_hook(hook_r, TINTIN_WARN, hook, NULL), 1);
	tintin_log_cat(hook_r, TINTIN_INFO, 0x4, "too low");
	tintin_log_cat(hook_r, TINTIN_WARN, 0x4, "alert");
	assert_int_equal(hook_calls, 1);
	tintin_free(hook_r);
	assert_int_equal(count_lines(slurp(path_of("hook.log"))), 3);
}

static void
test_torn_last_record_is_cut_at_open(void **state)
{
	Tintin_reporter *r;
	char *p, *s;
	int fd;

	(void)state;
	p = path_of("torn.log");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "whole line\npartial", 18), 18);
	close(fd);
	r = tintin_create("x");
	assert_int_equal(tintin_add_file(r, p, TINTIN_DEBUG, TINTIN_TEXT), 0);
	tintin_log(r, TINTIN_INFO, "next");
	tintin_free(r);
	s = slurp(p);
	assert_memory_equal(s, "whole line\n[", 12);
	assert_null(strstr(s, "partial"));
	assert_non_null(strstr(s, "] [ INFO ] - x: next\n"));
	assert_non_null(strstr(s, "incomplete record (7 bytes"));
}

/* Log MSGS through a batch (or, with batch 0, one by one) into PATH. */
static void
log_three(const char *path, int batch)
{
	static const char *msgs[] = { "User input: one", "", "x\\x00y" };
	Tintin_reporter *r = tintin_create("Matt_daemon");
	char *p;
	int i;

	assert_int_equal(tintin_add_file(r, path, TINTIN_INFO, TINTIN_TEXT),
	    0);
	if (batch)
		assert_int_equal(tintin_batch_begin(r, TINTIN_LOG, 1), 0);
	for (i = 0; i < 3; i++) {
		if (!batch) {
			tintin_log_msg_cat(r, TINTIN_LOG, 1, msgs[i],
			    strlen(msgs[i]));
			continue;
		}
		p = tintin_batch_next(r, 100);
		assert_non_null(p);
		memcpy(p, msgs[i], strlen(msgs[i]));
		tintin_batch_put(r, strlen(msgs[i]));
	}
	if (batch) {
		/* A record begun and never put is not logged. */
		assert_non_null(tintin_batch_next(r, 100));
		assert_int_equal(tintin_batch_end(r), 0);
	}
	tintin_free(r);
}

static void
test_batch_writes_what_log_msg_writes(void **state)
{
	char a[256], b[256], *p, *q;
	size_t i;

	(void)state;
	snprintf(a, sizeof(a), "%s", path_of("one_by_one.log"));
	snprintf(b, sizeof(b), "%s", path_of("batch.log"));
	log_three(a, 0);
	log_three(b, 1);
	p = strdup(slurp(a));
	q = slurp(b);
	assert_int_equal(count_lines(p), 3);
	assert_int_equal(strlen(p), strlen(q));
	/* The same bytes but for the stamps, which may be a second apart. */
	for (i = 0; p[i] != '\0'; i++)
		if (p[i] != q[i])
			assert_true(p[i] >= '0' && p[i] <= '9');
	assert_non_null(strstr(q, "[ LOG ] - Matt_daemon: User input: one\n"));
	assert_non_null(strstr(q, "[ LOG ] - Matt_daemon: \n"));
	free(p);
}

static void
no_hook(void *arg, int level, uint32_t cat, const char *msg, size_t len,
    const void *source)
{
	(void)source;
	(void)arg;
	(void)level;
	(void)cat;
	(void)msg;
	(void)len;
}

/* Can a batch of LOG records of category 1 be opened?  Then end it. */
static int
batch_opens(Tintin_reporter *r)
{
	if (tintin_batch_begin(r, TINTIN_LOG, 1) == -1)
		return 0;
	assert_int_equal(tintin_batch_end(r), 0);
	return 1;
}

static void
test_batch_only_when_one_text_file_takes_the_records(void **state)
{
	struct tintin_rotation rot;
	Tintin_reporter *r;
	int warn, json, hook;

	(void)state;
	r = tintin_create("x");
	assert_false(batch_opens(r));			/* no sink */
	assert_int_equal(tintin_add_file(r, path_of("b1.log"), TINTIN_INFO,
	    TINTIN_TEXT), 0);
	assert_true(batch_opens(r));
	assert_false(tintin_batch_begin(r, TINTIN_DEBUG, 1) == 0);
	warn = tintin_add_file(r, path_of("b2.log"), TINTIN_WARN, TINTIN_TEXT);
	assert_true(batch_opens(r));		/* it does not take LOG */
	assert_int_equal(tintin_set_level(r, warn, TINTIN_LOG), 0);
	assert_false(batch_opens(r));		/* two files take it */
	assert_int_equal(tintin_set_categories(r, warn, 2), 0);
	assert_true(batch_opens(r));		/* not category 1 */
	json = tintin_add_file(r, path_of("b3.json"), TINTIN_INFO,
	    TINTIN_JSON);
	assert_false(batch_opens(r));
	assert_int_equal(tintin_set_enabled(r, json, 0), 0);
	assert_true(batch_opens(r));
	hook = tintin_add_hook(r, TINTIN_INFO, no_hook, NULL);
	assert_true(batch_opens(r));		/* called as each is put */
	assert_int_equal(tintin_set_enabled(r, hook, 0), 0);
	assert_true(batch_opens(r));
	memset(&rot, 0, sizeof(rot));
	rot.size = 1 << 20;
	assert_int_equal(tintin_set_rotation(r, &rot), 0);
	assert_true(batch_opens(r));
	tintin_free(r);

	/* A hook before the file would see each record before it is written. */
	r = tintin_create("x");
	assert_int_equal(tintin_add_hook(r, TINTIN_INFO, no_hook, NULL), 0);
	assert_int_equal(tintin_add_file(r, path_of("b4.log"), TINTIN_INFO,
	    TINTIN_TEXT), 1);
	assert_false(batch_opens(r));
	tintin_free(r);
}

static char hooked[8][64];
static int nhooked;

static void
keep_hook(void *arg, int level, uint32_t cat, const char *msg, size_t len,
    const void *source)
{
	(void)arg;
	assert_true(nhooked < 8);
	snprintf(hooked[nhooked++], sizeof(hooked[0]), "%d %u [%.*s] %s",
	    level, (unsigned)cat, (int)len, msg,
	    source != NULL ? (const char *)source : "-");
}

static void
test_batch_calls_hooks_as_log_msg_does(void **state)
{
	static const char *msgs[] = { "User input: one", "", "x\\x00y" };
	char want[3][64];
	Tintin_reporter *r;
	char *p;
	int i, low;

	(void)state;
	r = tintin_create("x");
	assert_int_equal(tintin_add_file(r, path_of("bh.log"), TINTIN_INFO,
	    TINTIN_TEXT), 0);
	assert_int_equal(tintin_add_hook(r, TINTIN_INFO, keep_hook, NULL), 1);
	low = tintin_add_hook(r, TINTIN_WARN, keep_hook, NULL);
	nhooked = 0;
	for (i = 0; i < 3; i++)
		tintin_log_msg_src(r, TINTIN_LOG, 1, "10.0.0.1:5", msgs[i],
		    strlen(msgs[i]));
	assert_int_equal(nhooked, 3);
	memcpy(want, hooked, sizeof(want));
	nhooked = 0;
	assert_int_equal(tintin_batch_begin_src(r, TINTIN_LOG, 1,
	    "10.0.0.1:5"), 0);
	for (i = 0; i < 3; i++) {
		p = tintin_batch_next(r, 100);
		assert_non_null(p);
		memcpy(p, msgs[i], strlen(msgs[i]));
		tintin_batch_put(r, strlen(msgs[i]));
	}
	assert_int_equal(tintin_batch_end(r), 0);
	assert_int_equal(nhooked, 3);		/* not the WARN hook */
	for (i = 0; i < 3; i++)
		assert_string_equal(hooked[i], want[i]);
	assert_string_equal(hooked[1], "2 1 [] 10.0.0.1:5");
	/* Without a source, in a batch or not, the hooks get NULL. */
	nhooked = 0;
	tintin_log_msg_cat(r, TINTIN_LOG, 1, "a", 1);
	assert_int_equal(tintin_batch_begin(r, TINTIN_LOG, 1), 0);
	p = tintin_batch_next(r, 100);
	assert_non_null(p);
	*p = 'b';
	tintin_batch_put(r, 1);
	assert_int_equal(tintin_batch_end(r), 0);
	assert_int_equal(nhooked, 2);
	assert_string_equal(hooked[0], "2 1 [a] -");
	assert_string_equal(hooked[1], "2 1 [b] -");
	assert_true(low > 1);
	assert_int_equal(count_lines(slurp(path_of("bh.log"))), 8);
	tintin_free(r);
}

/* Record I: its number, then 0 to 149 bytes of padding. */
static size_t
nth_record(char *buf, int i)
{
	int n = sprintf(buf, "record %d ", i);

	memset(buf + n, 'x', (size_t)(i * 37 % 150));
	return (size_t)n + (size_t)(i * 37 % 150);
}

/*
 * Log N records into WHERE/r.log, rotated past 2000 bytes: one by one, or
 * as a caller of batches does (a record the batch refuses goes the usual
 * way, then a new batch begins).  Returns how many the batches took.
 */
static int
log_rotating(const char *where, int batch, int n)
{
	struct tintin_rotation rot;
	Tintin_reporter *r;
	char path[256], msg[256], *p;
	int i = 0, batched = 0;
	size_t len;

	snprintf(path, sizeof(path), "%s/r.log", where);
	memset(&rot, 0, sizeof(rot));
	rot.size = 2000;
	r = tintin_create("x");
	assert_int_equal(tintin_add_file(r, path, TINTIN_INFO, TINTIN_TEXT),
	    0);
	assert_int_equal(tintin_set_rotation(r, &rot), 0);
	tintin_set_buffered(r, 1);
	while (i < n) {
		if (batch && tintin_batch_begin(r, TINTIN_LOG, 1) == 0) {
			for (; i < n; i++, batched++) {
				len = nth_record(msg, i);
				/* A loose bound, as an escaper's. */
				if ((p = tintin_batch_next(r, 4 * len)) ==
				    NULL)
					break;
				memcpy(p, msg, len);
				tintin_batch_put(r, len);
			}
			assert_int_equal(tintin_batch_end(r), 0);
			if (i == n)
				break;
		}
		len = nth_record(msg, i++);
		tintin_log_msg_cat(r, TINTIN_LOG, 1, msg, len);
	}
	tintin_free(r);
	return batched;
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The records of each file in WHERE, without stamps nor the notes of the
 * rotations, one string per file, sorted (the records' numbers order
 * them).  Returns how many.
 */
static int
files_of(const char *where, char **out, int max)
{
	char path[512], *s, *line, *nl, *o;
	struct dirent *e;
	DIR *dp;
	int n = 0;

	dp = opendir(where);
	assert_non_null(dp);
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		assert_true(n < max);
		snprintf(path, sizeof(path), "%s/%s", where, e->d_name);
		s = slurp(path);
		assert_true(strlen(s) <= 2000);
		o = out[n++] = calloc(1, strlen(s) + 1);
		assert_non_null(o);
		for (line = s; (nl = strchr(line, '\n')) != NULL;
		    line = nl + 1) {
			if (nl - line > 21 && strstr(line, "Log rotated") !=
			    NULL && strstr(line, "Log rotated") < nl)
				continue;
			o += sprintf(o, "%.*s\n", (int)(nl - line - 21),
			    line + 21);
		}
	}
	closedir(dp);
	qsort(out, (size_t)n, sizeof(*out), by_string);
	return n;
}

static void
test_batch_rotates_where_log_msg_rotates(void **state)
{
	char a[256], b[256], *fa[64], *fb[64];
	int i, na, nb;

	(void)state;
	snprintf(a, sizeof(a), "%s", path_of("rot_one"));
	snprintf(b, sizeof(b), "%s", path_of("rot_batch"));
	assert_int_equal(mkdir(a, 0700), 0);
	assert_int_equal(mkdir(b, 0700), 0);
	assert_int_equal(log_rotating(a, 0, 300), 0);
	/* Most records go in batches; the few that may cross 2000 do not. */
	assert_true(log_rotating(b, 1, 300) > 200);
	na = files_of(a, fa, 64);
	nb = files_of(b, fb, 64);
	assert_true(na > 10);
	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		assert_string_equal(fa[i], fb[i]);
		free(fa[i]);
		free(fb[i]);
	}
}

static void
test_batch_waits_for_flush_when_buffered(void **state)
{
	Tintin_reporter *r;
	char *path, *p;

	(void)state;
	r = tintin_create("x");
	path = path_of("bbuf.log");
	assert_int_equal(tintin_add_file(r, path, TINTIN_INFO, TINTIN_TEXT),
	    0);
	tintin_set_buffered(r, 1);
	assert_int_equal(tintin_batch_begin(r, TINTIN_LOG, 1), 0);
	p = tintin_batch_next(r, 10);
	memcpy(p, "abc", 3);
	tintin_batch_put(r, 3);
	assert_int_equal(tintin_batch_end(r), 0);
	assert_int_equal(count_lines(slurp(path)), 0);
	assert_int_equal(tintin_flush(r), 0);
	assert_non_null(strstr(slurp(path), "[ LOG ] - x: abc\n"));
	tintin_free(r);
}

static void
test_level_names_parse(void **state)
{
	(void)state;
	assert_int_equal(tintin_level_parse("info"), TINTIN_INFO);
	assert_int_equal(tintin_level_parse("WARN"), TINTIN_WARN);
	assert_int_equal(tintin_level_parse("warning"), TINTIN_WARN);
	assert_int_equal(tintin_level_parse("verbose"), -1);
	assert_string_equal(tintin_level_name(TINTIN_LOG), "LOG");
	assert_null(tintin_level_name(99));
}

static void
test_stats_count_records_per_level_and_rotations(void **state)
{
	Tintin_reporter *r = tintin_create("x");
	struct tintin_stats st;
	char *p;

	(void)state;
	assert_int_equal(tintin_add_file(r, path_of("stats.log"), TINTIN_INFO,
	    TINTIN_TEXT), 0);
	tintin_log(r, TINTIN_DEBUG, "below every sink");
	tintin_log(r, TINTIN_INFO, "ab");
	assert_int_equal(tintin_batch_begin(r, TINTIN_LOG, 1), 0);
	assert_non_null(p = tintin_batch_next(r, 16));
	memcpy(p, "x", 1);
	tintin_batch_put(r, 1);
	assert_non_null(p = tintin_batch_next(r, 16));
	memcpy(p, "yz", 2);
	tintin_batch_put(r, 2);
	assert_int_equal(tintin_batch_end(r), 0);
	tintin_get_stats(r, &st);
	assert_int_equal(st.records[TINTIN_DEBUG], 0);
	assert_int_equal(st.records[TINTIN_INFO], 1);
	assert_int_equal(st.bytes[TINTIN_INFO], 2);
	assert_int_equal(st.records[TINTIN_LOG], 2);
	assert_int_equal(st.bytes[TINTIN_LOG], 3);
	assert_int_equal(st.rotations, 0);
	assert_int_equal(tintin_rotate(r), 0);
	tintin_get_stats(r, &st);
	assert_int_equal(st.rotations, 1);
	assert_int_equal(st.rotate_failures, 0);
	tintin_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_line_has_subject_shape),
		cmocka_unit_test(test_timestamp_is_local_time),
		cmocka_unit_test(test_format_time_matches_libc),
		cmocka_unit_test(test_sinks_have_their_own_levels),
		cmocka_unit_test(test_level_below_every_sink_is_not_wanted),
		cmocka_unit_test(test_buffered_mode_writes_on_flush),
		cmocka_unit_test(test_json_sink_escapes),
		cmocka_unit_test(test_symlink_is_refused),
		cmocka_unit_test(test_reopen_follows_a_renamed_file),
		cmocka_unit_test(test_long_message_is_whole),
		cmocka_unit_test(test_hook_sees_each_record_once),
		cmocka_unit_test(test_torn_last_record_is_cut_at_open),
		cmocka_unit_test(test_level_names_parse),
		cmocka_unit_test(test_batch_writes_what_log_msg_writes),
		cmocka_unit_test(
		    test_batch_only_when_one_text_file_takes_the_records),
		cmocka_unit_test(test_batch_waits_for_flush_when_buffered),
		cmocka_unit_test(test_batch_calls_hooks_as_log_msg_does),
		cmocka_unit_test(test_batch_rotates_where_log_msg_rotates),
		cmocka_unit_test(
		    test_stats_count_records_per_level_and_rotations),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* Unit tests of the pinned server fingerprints (src/client/known_hosts.c). */
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

#include "client/afk.h"

#define FP_A	"DD:25:2C:5A:12:17:0B:08:44:D8:4C:47:40:90:EE:BB:" \
		"43:C9:53:16:D3:EE:A5:E0:71:CE:1B:D2:80:DD:0F:03"
#define FP_B	"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:" \
		"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

#define TMPDIR_TEMPLATE "/tmp/test_known_hosts.XXXXXX"
#include "tintin/tests/tmpdir.h"

static char file[256];

static int
setup(void **state)
{
	if (group_setup(state) == -1)
		return -1;
	snprintf(file, sizeof(file), "%s", path_of("a/b/known_hosts"));
	return 0;
}

static void
write_file(const char *text)
{
	FILE *f;

	assert_int_equal(known_hosts_mkdirs(file), 0);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_format_is_uppercase_pairs_with_colons(void **state)
{
	unsigned char d[32];
	char fp[AFK_FPLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(d); i++)
		d[i] = (unsigned char)((i % 16) * 0x11);
	assert_int_equal(known_hosts_format(fp, sizeof(fp), d, sizeof(d)), 0);
	assert_string_equal(fp, FP_B);
	assert_true(known_hosts_valid(fp));
	d[0] = 0xab;
	d[1] = 0x0c;
	assert_int_equal(known_hosts_format(fp, sizeof(fp), d, 2), 0);
	assert_string_equal(fp, "AB:0C");
	/* too small a buffer */
	assert_int_equal(known_hosts_format(fp, 5, d, 2), -1);
}

static void
test_valid_rejects_other_shapes(void **state)
{
	(void)state;
	assert_true(known_hosts_valid(FP_A));
	assert_false(known_hosts_valid(""));
	assert_false(known_hosts_valid("AB:CD"));
	/* lowercase, or a missing colon */
	assert_false(known_hosts_valid("dd:25:2C:5A:12:17:0B:08:44:D8:4C:47:"
	    "40:90:EE:BB:43:C9:53:16:D3:EE:A5:E0:71:CE:1B:D2:80:DD:0F:03"));
	assert_false(known_hosts_valid("DD:252C:5A:12:17:0B:08:44:D8:4C:47:"
	    "40:90:EE:BB:43:C9:53:16:D3:EE:A5:E0:71:CE:1B:D2:80:DD:0F:03:"));
}

static void
test_key_brackets_ipv6(void **state)
{
	char key[64];

	(void)state;
	assert_int_equal(known_hosts_key(key, sizeof(key), "127.0.0.1",
	    "4242"), 0);
	assert_string_equal(key, "127.0.0.1:4242");
	assert_int_equal(known_hosts_key(key, sizeof(key), "::1", "4242"), 0);
	assert_string_equal(key, "[::1]:4242");
	assert_int_equal(known_hosts_key(key, 8, "localhost", "4242"), -1);
}

static void
test_default_path_uses_home(void **state)
{
	char path[256];
	const char *old = getenv("HOME");
	char *saved = old ? strdup(old) : NULL;

	(void)state;
	setenv("HOME", "/home/x", 1);
	assert_int_equal(known_hosts_default(path, sizeof(path),
	    "known_hosts"), 0);
	assert_string_equal(path, "/home/x/.config/ben_afk/known_hosts");
	unsetenv("HOME");
	assert_int_equal(known_hosts_default(path, sizeof(path), "x"), -1);
	if (saved)
		setenv("HOME", saved, 1);
	free(saved);
}

static void
test_missing_file_is_unknown(void **state)
{
	(void)state;
	unlink(file);
	assert_int_equal(known_hosts_check(file, "h:1", FP_A, NULL, NULL),
	    KNOWN_HOSTS_UNKNOWN);
}

static void
test_add_creates_private_dirs_and_file(void **state)
{
	char sub[300];
	struct stat st;

	(void)state;
	unlink(file);
	assert_int_equal(known_hosts_add(file, "h:1", FP_A), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(known_hosts_check(file, "h:1", FP_A, NULL, NULL),
	    KNOWN_HOSTS_MATCH);
	assert_int_equal(known_hosts_check(file, "h:2", FP_A, NULL, NULL),
	    KNOWN_HOSTS_UNKNOWN);
	/* a second host is appended, the first one kept */
	assert_int_equal(known_hosts_add(file, "h:2", FP_B), 0);
	assert_int_equal(known_hosts_check(file, "h:1", FP_A, NULL, NULL),
	    KNOWN_HOSTS_MATCH);
	assert_int_equal(known_hosts_check(file, "h:2", FP_B, NULL, NULL),
	    KNOWN_HOSTS_MATCH);
}

static void
test_add_refuses_bad_entries(void **state)
{
	(void)state;
	assert_int_equal(known_hosts_add(file, "h 1", FP_A), -1);
	assert_int_equal(known_hosts_add(file, "h:1", "AB:CD"), -1);
}

static void
test_changed_fingerprint_reports_old_and_line(void **state)
{
	char old[AFK_FPLEN] = "";
	int lineno = 0;

	(void)state;
	write_file("# pinned servers\n\nother:1 " FP_B "\nh:1 " FP_A "\n");
	assert_int_equal(known_hosts_check(file, "h:1", FP_B, old, &lineno),
	    KNOWN_HOSTS_CHANGED);
	assert_string_equal(old, FP_A);
	assert_int_equal(lineno, 4);
}

static void
test_parsing_tolerates_noise(void **state)
{
	(void)state;
	/* tabs, CRLF, lowercase, malformed and comment lines */
	write_file("garbage\n#h:1 " FP_B "\n  h:1\t" FP_A "\r\n");
	assert_int_equal(known_hosts_check(file, "h:1", FP_A, NULL, NULL),
	    KNOWN_HOSTS_MATCH);
	write_file("h:1 dd:25:2c:5a:12:17:0b:08:44:d8:4c:47:40:90:ee:bb:"
	    "43:c9:53:16:d3:ee:a5:e0:71:ce:1b:d2:80:dd:0f:03\n");
	assert_int_equal(known_hosts_check(file, "h:1", FP_A, NULL, NULL),
	    KNOWN_HOSTS_MATCH);
	/* a host name is matched whole, never as a prefix */
	write_file("h:12 " FP_B "\n");
	assert_int_equal(known_hosts_check(file, "h:1", FP_A, NULL, NULL),
	    KNOWN_HOSTS_UNKNOWN);
}

static void
test_any_matching_line_wins(void **state)
{
	(void)state;
	/* ssh semantics: an old line does not hide a matching one */
	write_file("h:1 " FP_B "\nh:1 " FP_A "\n");
	assert_int_equal(known_hosts_check(file, "h:1", FP_A, NULL, NULL),
	    KNOWN_HOSTS_MATCH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_is_uppercase_pairs_with_colons),
		cmocka_unit_test(test_valid_rejects_other_shapes),
		cmocka_unit_test(test_key_brackets_ipv6),
		cmocka_unit_test(test_default_path_uses_home),
		cmocka_unit_test(test_missing_file_is_unknown),
		cmocka_unit_test(test_add_creates_private_dirs_and_file),
		cmocka_unit_test(test_add_refuses_bad_entries),
		cmocka_unit_test(test_changed_fingerprint_reports_old_and_line),
		cmocka_unit_test(test_parsing_tolerates_noise),
		cmocka_unit_test(test_any_matching_line_wins),
	};

	return cmocka_run_group_tests(tests, setup, group_teardown);
}

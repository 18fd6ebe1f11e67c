/* Unit tests of the configuration parser (src/daemon/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/config_int.h"
#include "tintin/tintin.h"

static char path[] = "/tmp/md-config-test.XXXXXX";
static struct config cfg;

static int
load(const char *text)
{
	FILE *fp;
	int fd;

	strcpy(path, "/tmp/md-config-test.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	config_defaults(&cfg);
	config_load(&cfg, path, 1);
	unlink(path);
	return cfg.nerrors;
}

static void
test_defaults_are_the_subject(void **state)
{
	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/md.conf", 0), 0);
	assert_null(cfg.path);
	assert_int_equal(cfg.port, 4242);
	assert_int_equal(cfg.max_clients, 3);
	assert_int_equal(cfg.max_line, 4096);
	assert_string_equal(cfg.lock_file, "/var/lock/matt_daemon.lock");
	assert_string_equal(cfg.log_dir, "/var/log/matt_daemon");
	assert_string_equal(cfg.log_file, "matt_daemon.log");
}

static void
test_missing_required_file_is_an_error(void **state)
{
	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/md.conf", 1), 1);
	assert_non_null(strstr(cfg.errors[0], "cannot read"));
}

static void
test_keys_are_read(void **state)
{
	(void)state;
	assert_int_equal(load("; comment\n[daemon]\nport = 4343\n"
	    "listen = 127.0.0.1\nlock_file = /tmp/x.lock\nmax_clients = 5\n"
	    "max_line = 8K\nidle_timeout = 2m\n[log]\ndir = /tmp/l\n"
	    "file = a.log\nlevel = debug\n[sink security]\npath = /tmp/s.log\n"
	    "level = warn\nformat = json\n"), 0);
	assert_int_equal(cfg.port, 4343);
	assert_string_equal(cfg.listen, "127.0.0.1");
	assert_int_equal(cfg.max_clients, 5);
	assert_int_equal(cfg.max_line, 8192);
	assert_int_equal(cfg.idle_timeout, 120);
	assert_int_equal(cfg.log_level, TINTIN_DEBUG);
	assert_int_equal(cfg.nsinks, 1);
	assert_string_equal(cfg.sinks[0].name, "security");
	assert_int_equal(cfg.sinks[0].level, TINTIN_WARN);
	assert_int_equal(cfg.sinks[0].format, TINTIN_JSON);
}

static void
test_errors_carry_line_numbers(void **state)
{
	(void)state;
	assert_int_equal(load("[daemon]\nport = 4242\n\nprot = 1\n[log]\n"
	    "level = loud\n[nope]\nx = 1\n"), 3);
	assert_non_null(strstr(cfg.errors[0], ":4: unknown key 'prot'"));
	assert_non_null(strstr(cfg.errors[1], ":6: level: 'loud'"));
	assert_non_null(strstr(cfg.errors[2], ":7: unknown section [nope]"));
}

static void
test_bad_values_are_refused(void **state)
{
	(void)state;
	assert_int_equal(load("[daemon]\nport = 70000\n"), 1);
	assert_int_equal(load("[daemon]\nport = 12ab\n"), 1);
	assert_int_equal(load("[daemon]\nmax_line = 10\n"), 1);
	assert_int_equal(load("[daemon]\nmax_line = 4Q\n"), 1);
	assert_int_equal(load("[daemon]\nidle_timeout = soon\n"), 1);
	assert_int_equal(load("[daemon]\nlock_file = relative.lock\n"), 1);
	assert_int_equal(load("[log]\nfile = ../escape.log\n"), 1);
	assert_int_equal(load("[sink a]\nlevel = info\n"), 1); /* no path */
	assert_int_equal(load("no section = 1\n"), 1);
	assert_int_equal(load("[daemon]\nlisten = localhost\n"), 1);
	assert_int_equal(load("[daemon]\nlisten = ::1\n"), 0);
	assert_int_equal(load("[log]\nrotate_every = monthly\n"), 1);
	assert_int_equal(load("[log]\ncompress = bzip2\n"), 1);
	assert_int_equal(load("[log]\nrotate_size = 100\n"), 1);
	assert_int_equal(load("[log]\ncompress = gzip\ncompress_level = 12\n"),
	    1);
	assert_int_equal(load("[forward]\ntarget = http://x\n"), 1);
	/* said once, at its line, with its text; port is not blamed */
	assert_int_equal(load("[daemon\nport = 1\n"), 1);
	assert_non_null(strstr(cfg.errors[0],
	    ":1: section header without ']': [daemon"));
	assert_int_equal(load("[daemon]\nport 1\n"), 1);	/* syntax */
	assert_non_null(strstr(cfg.errors[0], ":2: syntax error"));
}

static void
test_overlong_line_is_reported_with_its_number(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "[daemon]\nlock_file = /%0400d\n"
	    "port = 99999\n", 0);
	assert_int_equal(load(text), 2);
	assert_non_null(strstr(cfg.errors[0], ":2: line too long"));
	assert_non_null(strstr(cfg.errors[1], ":3: port"));
}

static void
test_rotation_keys(void **state)
{
	(void)state;
	assert_int_equal(load("[log]\nrotate_size = 1M\nrotate_every = weekly\n"
	    "compress = zstd\nkeep = 7\nmax_age = 30d\n"), 0);
	assert_int_equal(cfg.rotation.size, 1048576);
	assert_int_equal(cfg.rotation.every, TINTIN_EVERY_WEEKLY);
	assert_int_equal(cfg.rotation.compress, TINTIN_COMPRESS_ZSTD);
	assert_int_equal(cfg.rotation.keep, 7);
	assert_int_equal(cfg.rotation.max_age, 30 * 86400);
}

static void
test_sink_events(void **state)
{
	unsigned ev;

	(void)state;
	assert_int_equal(config_parse_events("connection, auth", &ev), 0);
	assert_int_equal(ev, 0x02 | 0x10);
	assert_int_equal(config_parse_events("all", &ev), 0);
	assert_int_equal(ev, 0xffffffffu);
	assert_int_equal(config_parse_events("connection,bogus", &ev), -1);
	assert_int_equal(config_parse_events("", &ev), -1);
	assert_int_equal(load("[sink sec]\npath = /tmp/s.log\n"
	    "events = connection auth\n"), 0);
	assert_int_equal(cfg.sinks[0].events, 0x12);
}

static void
test_sizes_and_durations(void **state)
{
	size_t sz;
	unsigned d;

	(void)state;
	assert_int_equal(config_parse_size("64", &sz), 0);
	assert_int_equal(sz, 64);
	assert_int_equal(config_parse_size("1M", &sz), 0);
	assert_int_equal(sz, 1048576);
	assert_int_equal(config_parse_size("2GB", &sz), 0);
	assert_int_equal(sz, 2147483648UL);
	assert_int_equal(config_parse_size("-1", &sz), -1);
	assert_int_equal(config_parse_size("", &sz), -1);
	assert_int_equal(config_parse_duration("90", &d), 0);
	assert_int_equal(d, 90);
	assert_int_equal(config_parse_duration("1d", &d), 0);
	assert_int_equal(d, 86400);
	assert_int_equal(config_parse_duration("3w", &d), -1);
	assert_int_equal(config_parse_size("64KB", &sz), 0);
	assert_int_equal(sz, 65536);
	assert_int_equal(config_parse_size("10k", &sz), 0);
	assert_int_equal(sz, 10240);
	assert_int_equal(config_parse_size("64b", &sz), -1);
	assert_int_equal(config_parse_size("1MBB", &sz), -1);
	assert_int_equal(config_parse_size("99999999999999999999G", &sz), -1);
	assert_int_equal(config_parse_size("20000000000G", &sz), -1);
	assert_int_equal(config_parse_duration("5m", &d), 0);
	assert_int_equal(d, 300);
	assert_int_equal(config_parse_duration("30s", &d), 0);
	assert_int_equal(d, 30);
	assert_int_equal(config_parse_duration("4294967296", &d), -1);
	assert_int_equal(config_parse_duration("50000000d", &d), -1);
	assert_int_equal(config_parse_duration("5ms", &d), -1);
}

static void
test_defaults_come_from_the_table(void **state)
{
	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.nerrors, 0);	/* no default is refused */
	assert_string_equal(cfg.listen, "*");
	assert_string_equal(cfg.local_group, "adm");
	assert_int_equal(cfg.local_group_set, 0);
	assert_int_equal(cfg.auth_lockout, 60);
	assert_int_equal(cfg.auth_ipv6_prefix, 64);
	assert_int_equal(cfg.rotate_min_interval, 60);
	assert_int_equal(cfg.log_level, TINTIN_INFO);
	assert_int_equal(cfg.mail_starttls, STARTTLS_YES);
	assert_int_equal(cfg.mail_no_verify, 0);
	assert_int_equal(cfg.mail_retry, 5);
	assert_string_equal(cfg.mail_spool, "/var/lib/matt_daemon/spool");
	assert_string_equal(cfg.mail_url, "smtp://127.0.0.1:25");
	assert_string_equal(cfg.forward_target, "");
	/* [KIND NAME] sections get theirs when they are made */
	assert_int_equal(load("[alert a]\nmatch = x\nto = a@b.org\n"
	    "[sink s]\npath = /tmp/s.log\n"), 0);
	assert_int_equal(cfg.alerts[0].window, 60);
	assert_int_equal(cfg.alerts[0].max_items, 100);
	assert_int_equal(cfg.alerts[0].level, TINTIN_INFO);
	assert_string_equal(cfg.alerts[0].subject,
	    "[Matt_daemon] %r on %h: %m");
	assert_int_equal(cfg.alerts[0].line, 1);
	assert_int_equal(cfg.sinks[0].format, TINTIN_TEXT);
	assert_int_equal(cfg.sinks[0].line, 4);
}

/*
 * Every key the table parses by its type refuses a bad value with
 * "KEY: 'VALUE' is not WHAT" at its line, and keeps its default.
 */
static void
test_every_typed_key_refuses_garbage(void **state)
{
	const struct config_section *s;
	const struct config_key *k;
	char text[256], want[128];
	int n = 0;

	(void)state;
	for (s = config_sections; s->name != NULL; s++)
		for (k = s->keys; k->key != NULL; k++) {
			if (k->set != NULL || k->type == CT_STRING ||
			    k->type == CT_PATH)
				continue;
			snprintf(text, sizeof(text), "[%s%s]\n%s = 7x@\n",
			    s->name, s->named ? " n" : "", k->key);
			assert_true(load(text) >= 1);
			snprintf(want, sizeof(want), ":2: %s: '7x@' is not %s",
			    k->key, k->what);
			if (strstr(cfg.errors[0], want) == NULL)
				fail_msg("%s: %s", want, cfg.errors[0]);
			n++;
		}
	assert_true(n >= 35);
}

static void
test_typed_values_and_ranges(void **state)
{
	(void)state;
	assert_int_equal(load("[mail]\ntls_verify = OFF\n[shell]\n"
	    "enabled = True\n[auth]\nmode = optional\nallow_plaintext = 1\n"
	    "[log]\nrotate_size = 0\n"), 0);
	assert_int_equal(cfg.mail_no_verify, 1);
	assert_int_equal(cfg.shell_enabled, 1);
	assert_int_equal(cfg.auth_mode, MODE_OPTIONAL);
	/* the same words, the other way round */
	assert_string_equal(config_mode_name(MODE_OFF), "off");
	assert_string_equal(config_mode_name(MODE_OPTIONAL), "optional");
	assert_string_equal(config_mode_name(MODE_REQUIRED), "required");
	assert_int_equal(cfg.rotation.size, 0);
	assert_int_equal(load("[log]\nrotate_size = 4K\n"), 0);
	assert_int_equal(cfg.rotation.size, 4096);
	assert_int_equal(load("[log]\nrotate_size = 4095\n"), 1);
	assert_int_equal(load("[mail]\ntimeout = 2h\n"), 1);
	assert_non_null(strstr(cfg.errors[0], ":2: timeout: '2h' is not a "
	    "duration from 1s to 1h"));
	assert_int_equal(cfg.mail_timeout, 60);		/* kept */
	assert_int_equal(load("[mail]\ntimeout = 1h\n"), 0);
	assert_int_equal(cfg.mail_timeout, 3600);
	assert_int_equal(load("[auth]\nglobal_window = 0\n"), 1);
	assert_int_equal(load("[shell]\nuser =\n"), 1);
	assert_non_null(strstr(cfg.errors[0], ":2: user: bad user name ''"));
	assert_int_equal(load("[daemon]\nlocal_socket = none\n"), 0);
	assert_string_equal(cfg.local_socket, "");
	assert_int_equal(load("[sink a]\npath = /tmp/a\nbogus = 1\n"), 1);
	assert_non_null(strstr(cfg.errors[0],
	    ":3: unknown key 'bogus' in [sink a]"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_subject),
		cmocka_unit_test(test_missing_required_file_is_an_error),
		cmocka_unit_test(test_keys_are_read),
		cmocka_unit_test(test_errors_carry_line_numbers),
		cmocka_unit_test(test_bad_values_are_refused),
		cmocka_unit_test(test_overlong_line_is_reported_with_its_number),
		cmocka_unit_test(test_rotation_keys),
		cmocka_unit_test(test_sink_events),
		cmocka_unit_test(test_sizes_and_durations),
		cmocka_unit_test(test_defaults_come_from_the_table),
		cmocka_unit_test(test_every_typed_key_refuses_garbage),
		cmocka_unit_test(test_typed_values_and_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

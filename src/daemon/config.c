/*
 * Configuration: the subject's defaults, overridden by an INI file parsed
 * with libinih.  Every problem is recorded with its line number; unknown
 * sections and keys are errors, so a typo never goes unnoticed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/config_int.h"
#include "tintin/tintin.h"

/* State shared with the inih callbacks. */
struct parse {
	struct config	*c;
	FILE		*fp;
	int		 lineno;	/* line being parsed */
	int		 bad_header;	/* line of the first '[' without ']' */
	int		 skipping;	/* keys after a bad header: ignored */
};

void
config_error(struct config *c, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (c->nerrors >= CONFIG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(c->errors[c->nerrors], sizeof(c->errors[0]),
		    "%s:%d: %s", c->path, line, msg);
	else
		snprintf(c->errors[c->nerrors], sizeof(c->errors[0]),
		    "%s: %s", c->path ? c->path : "config", msg);
	c->nerrors++;
}

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 4242;
	strcpy(c->listen, "*");
	strcpy(c->lock_file, "/var/lock/matt_daemon.lock");
	c->max_clients = 3;
	c->max_line = 4096;
	c->idle_timeout = 0;
	strcpy(c->local_socket, CONFIG_LOCAL_SOCKET);
	strcpy(c->local_group, CONFIG_LOCAL_GROUP);
	strcpy(c->log_dir, "/var/log/matt_daemon");
	strcpy(c->log_file, "matt_daemon.log");
	c->log_level = TINTIN_INFO;
	c->forward_level = TINTIN_INFO;
	strcpy(c->tls_cert, "/etc/matt_daemon/cert.pem");
	strcpy(c->tls_key, "/etc/matt_daemon/key.pem");
	strcpy(c->auth_users, "/etc/matt_daemon/users");
	strcpy(c->auth_keys, "/etc/matt_daemon/authorized_keys");
	c->auth_max_failures = 5;
	c->auth_lockout = 60;
	c->auth_login_grace = 30;
	c->auth_max_tries = 3;
	c->auth_ipv4_prefix = 32;
	c->auth_ipv6_prefix = 64;
	c->auth_global_max = 30;
	c->auth_global_window = 60;
	c->rotate_min_interval = 60;
	strcpy(c->shell_user, "root");
	strcpy(c->shell_command, "/bin/sh");
	strcpy(c->mail_url, "smtp://127.0.0.1:25");
	c->mail_starttls = STARTTLS_YES;
	c->mail_timeout = 60;
	c->mail_max_retries = 5;
	c->mail_retry = 5;
	c->mail_queue = 32;
	strcpy(c->mail_spool, "/var/lib/matt_daemon/spool");
}

const char *
config_mode_name(int mode)
{
	return mode == MODE_REQUIRED ? "required" : mode == MODE_OPTIONAL ?
	    "optional" : "off";
}

static int
parse_mode(const char *s)
{
	if (strcmp(s, "off") == 0)
		return MODE_OFF;
	if (strcmp(s, "optional") == 0)
		return MODE_OPTIONAL;
	if (strcmp(s, "required") == 0)
		return MODE_REQUIRED;
	return -1;
}

/*
 * local_socket and local_group of [daemon]; 0 if KEY is not one of them.
 * The group must exist now: the daemon would refuse to start otherwise.
 */
static int
set_local(struct config *c, int line, const char *key, const char *value)
{
	if (strcmp(key, "local_socket") == 0) {
		if (strcmp(value, "none") == 0)
			c->local_socket[0] = '\0';
		else
			config_set_path(c, line, key, value, c->local_socket,
			    sizeof(c->local_socket), 1);
	} else if (strcmp(key, "local_group") == 0) {
		if (*value == '\0' || strlen(value) >= sizeof(c->local_group))
			config_error(c, line, "local_group: bad group name "
			    "'%s'", value);
		else if (getgrnam(value) == NULL)
			config_error(c, line, "local_group: no group named "
			    "'%s'", value);
		else {
			strcpy(c->local_group, value);
			c->local_group_set = 1;
		}
	} else
		return 0;
	return 1;
}

static void
set_daemon(struct config *c, int line, const char *key, const char *value)
{
	struct in6_addr a6;
	size_t sz;
	long v;

	if (strcmp(key, "port") == 0) {
		if (config_parse_int(value, 1, 65535, &v) == -1)
			config_error(c, line, "port: '%s' is not a port "
			    "number (1-65535)", value);
		else
			c->port = (int)v;
	} else if (strcmp(key, "listen") == 0) {
		if (strcmp(value, "*") != 0 &&
		    inet_pton(AF_INET, value, &a6) != 1 &&
		    inet_pton(AF_INET6, value, &a6) != 1)
			config_error(c, line, "listen: '%s' is not *, an IPv4 "
			    "or an IPv6 address", value);
		else
			strcpy(c->listen, value);
	} else if (strcmp(key, "lock_file") == 0) {
		config_set_path(c, line, key, value, c->lock_file,
		    sizeof(c->lock_file), 1);
	} else if (strcmp(key, "max_clients") == 0) {
		if (config_parse_int(value, 1, 1024, &v) == -1)
			config_error(c, line, "max_clients: '%s' is not a "
			    "number from 1 to 1024", value);
		else
			c->max_clients = (int)v;
	} else if (strcmp(key, "max_line") == 0) {
		if (config_parse_size(value, &sz) == -1 || sz < 64 ||
		    sz > 1024 * 1024)
			config_error(c, line, "max_line: '%s' is not a size "
			    "from 64 to 1M", value);
		else
			c->max_line = sz;
	} else if (strcmp(key, "idle_timeout") == 0) {
		if (config_parse_duration(value, &c->idle_timeout) == -1)
			config_error(c, line, "idle_timeout: '%s' is not a "
			    "duration (e.g. 30s, 5m, 1h)", value);
	} else if (!set_local(c, line, key, value))
		config_error(c, line, "unknown key '%s' in [daemon]", key);
}

/* The archiving keys of [log]; 0 if KEY is not one of them. */
static int
set_rotation(struct config *c, int line, const char *key, const char *value)
{
	struct tintin_rotation *rot = &c->rotation;
	size_t sz;
	long v;

	if (strcmp(key, "rotate_size") == 0) {
		if (config_parse_size(value, &sz) == -1 ||
		    (sz != 0 && sz < 4096))
			config_error(c, line, "rotate_size: '%s' is not 0 or a "
			    "size of at least 4K", value);
		else
			rot->size = sz;
	} else if (strcmp(key, "rotate_every") == 0) {
		if (strcmp(value, "never") == 0)
			rot->every = TINTIN_EVERY_NEVER;
		else if (strcmp(value, "hourly") == 0)
			rot->every = TINTIN_EVERY_HOURLY;
		else if (strcmp(value, "daily") == 0)
			rot->every = TINTIN_EVERY_DAILY;
		else if (strcmp(value, "weekly") == 0)
			rot->every = TINTIN_EVERY_WEEKLY;
		else
			config_error(c, line, "rotate_every: '%s' is not one "
			    "of never, hourly, daily, weekly", value);
	} else if (strcmp(key, "compress") == 0) {
		if (strcmp(value, "none") == 0)
			rot->compress = TINTIN_COMPRESS_NONE;
		else if (strcmp(value, "gzip") == 0)
			rot->compress = TINTIN_COMPRESS_GZIP;
		else if (strcmp(value, "zstd") == 0)
			rot->compress = TINTIN_COMPRESS_ZSTD;
		else
			config_error(c, line, "compress: '%s' is not one of "
			    "none, gzip, zstd", value);
	} else if (strcmp(key, "compress_level") == 0) {
		if (config_parse_int(value, 0, 19, &v) == -1)
			config_error(c, line, "compress_level: '%s' is not a "
			    "level from 0 (default) to 19", value);
		else
			rot->level = (int)v;
	} else if (strcmp(key, "keep") == 0) {
		if (config_parse_int(value, 0, 100000, &v) == -1)
			config_error(c, line, "keep: '%s' is not a number of "
			    "archives (0 = keep all)", value);
		else
			rot->keep = (unsigned)v;
	} else if (strcmp(key, "max_age") == 0) {
		if (config_parse_duration(value, &rot->max_age) == -1)
			config_error(c, line, "max_age: '%s' is not a "
			    "duration (e.g. 30d, 12h; 0 = forever)", value);
	} else if (strcmp(key, "rotate_min_interval") == 0) {
		if (config_parse_duration(value, &c->rotate_min_interval) ==
		    -1)
			config_error(c, line, "rotate_min_interval: '%s' is "
			    "not a duration (e.g. 60s, 5m; 0 = no limit)",
			    value);
	} else
		return 0;
	return 1;
}

static void
set_log(struct config *c, int line, const char *key, const char *value)
{
	if (set_rotation(c, line, key, value))
		return;
	if (strcmp(key, "dir") == 0)
		config_set_path(c, line, key, value, c->log_dir,
		    sizeof(c->log_dir), 1);
	else if (strcmp(key, "file") == 0) {
		if (strchr(value, '/') != NULL || strcmp(value, ".") == 0 ||
		    strcmp(value, "..") == 0)
			config_error(c, line, "file: '%s' must be a plain "
			    "file name (set the directory with dir=)", value);
		else
			config_set_path(c, line, key, value, c->log_file,
			    sizeof(c->log_file), 0);
	} else if (strcmp(key, "level") == 0) {
		config_set_level(c, line, value, &c->log_level);
	} else
		config_error(c, line, "unknown key '%s' in [log]", key);
}

static struct config_sink *
find_sink(struct config *c, int line, const char *name)
{
	const struct config_table t = { "sink", c->sinks, sizeof(c->sinks[0]),
	    &c->nsinks, CONFIG_MAX_SINKS };
	struct config_sink *s;
	int created;

	if ((s = config_named(c, line, &t, name, &created)) != NULL &&
	    created) {
		s->level = TINTIN_INFO;
		s->format = TINTIN_TEXT;
		s->line = line;
	}
	return s;
}

static void
set_sink(struct config *c, int line, const char *name, const char *key,
    const char *value)
{
	struct config_sink *s;

	if ((s = find_sink(c, line, name)) == NULL)
		return;
	if (strcmp(key, "path") == 0)
		config_set_path(c, line, key, value, s->path, sizeof(s->path),
		    1);
	else if (strcmp(key, "level") == 0) {
		config_set_level(c, line, value, &s->level);
	} else if (strcmp(key, "events") == 0) {
		config_set_events(c, line, value, &s->events);
	} else if (strcmp(key, "format") == 0) {
		if (strcmp(value, "text") == 0)
			s->format = TINTIN_TEXT;
		else if (strcmp(value, "json") == 0)
			s->format = TINTIN_JSON;
		else
			config_error(c, line, "format: '%s' is not text or "
			    "json", value);
	} else
		config_error(c, line, "unknown key '%s' in [sink %s]", key,
		    name);
}

static void
set_tls(struct config *c, int line, const char *key, const char *value)
{
	int m;

	if (strcmp(key, "mode") == 0) {
		if ((m = parse_mode(value)) == -1)
			config_error(c, line, "mode: '%s' is not off, optional "
			    "or required", value);
		else
			c->tls_mode = m;
	} else if (strcmp(key, "cert") == 0)
		config_set_path(c, line, key, value, c->tls_cert,
		    sizeof(c->tls_cert), 1);
	else if (strcmp(key, "key") == 0)
		config_set_path(c, line, key, value, c->tls_key,
		    sizeof(c->tls_key), 1);
	else
		config_error(c, line, "unknown key '%s' in [tls]", key);
}

static void
set_auth(struct config *c, int line, const char *key, const char *value)
{
	long v;
	int m;

	if (strcmp(key, "mode") == 0) {
		if ((m = parse_mode(value)) == -1)
			config_error(c, line, "mode: '%s' is not off, optional "
			    "or required", value);
		else
			c->auth_mode = m;
	} else if (strcmp(key, "users") == 0)
		config_set_path(c, line, key, value, c->auth_users,
		    sizeof(c->auth_users), 1);
	else if (strcmp(key, "authorized_keys") == 0)
		config_set_path(c, line, key, value, c->auth_keys,
		    sizeof(c->auth_keys), 1);
	else if (strcmp(key, "max_failures") == 0) {
		if (config_parse_int(value, 0, 1000, &v) == -1)
			config_error(c, line, "max_failures: '%s' is not a "
			    "number from 0 (never lock out) to 1000", value);
		else
			c->auth_max_failures = (unsigned)v;
	} else if (strcmp(key, "lockout") == 0) {
		if (config_parse_duration(value, &c->auth_lockout) == -1)
			config_error(c, line, "lockout: '%s' is not a "
			    "duration (e.g. 60s, 5m)", value);
	} else if (strcmp(key, "allow_plaintext") == 0) {
		if ((m = config_parse_bool(value)) == -1)
			config_error(c, line, "allow_plaintext: '%s' is not "
			    "yes or no", value);
		else
			c->auth_plaintext = m;
	} else if (!config_set_guard(c, line, key, value))
		config_error(c, line, "unknown key '%s' in [auth]", key);
}

static void
set_shell(struct config *c, int line, const char *key, const char *value)
{
	int b;

	if (strcmp(key, "enabled") == 0) {
		if ((b = config_parse_bool(value)) == -1)
			config_error(c, line, "enabled: '%s' is not yes or no",
			    value);
		else
			c->shell_enabled = b;
	} else if (strcmp(key, "user") == 0) {
		if (*value == '\0' || strlen(value) >= sizeof(c->shell_user))
			config_error(c, line, "user: bad user name '%s'",
			    value);
		else
			strcpy(c->shell_user, value);
	} else if (strcmp(key, "command") == 0)
		config_set_path(c, line, key, value, c->shell_command,
		    sizeof(c->shell_command), 1);
	else
		config_error(c, line, "unknown key '%s' in [shell]", key);
}

static void
set_forward(struct config *c, int line, const char *key, const char *value)
{
	if (strcmp(key, "target") == 0) {
		if (strncmp(value, "tcp://", 6) != 0 &&
		    strncmp(value, "udp://", 6) != 0 &&
		    strncmp(value, "unix:", 5) != 0)
			config_error(c, line, "target: '%s' is not "
			    "tcp://HOST:PORT, udp://HOST:PORT or unix:PATH",
			    value);
		else if (strlen(value) >= sizeof(c->forward_target))
			config_error(c, line, "target: too long");
		else
			strcpy(c->forward_target, value);
	} else if (strcmp(key, "level") == 0) {
		config_set_level(c, line, value, &c->forward_level);
	} else
		config_error(c, line, "unknown key '%s' in [forward]", key);
}

/* "sink NAME" or "alert NAME": the NAME, or NULL if SECTION is not KIND. */
static const char *
section_name(const char *section, const char *kind)
{
	size_t n = strlen(kind);

	if (strncmp(section, kind, n) != 0 || (section[n] != ' ' &&
	    section[n] != '\t' && section[n] != '\0'))
		return NULL;
	return section + n + strspn(section + n, " \t");
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	struct config *c = p->c;

	/* They belong to a header reported already, not to SECTION. */
	if (p->skipping)
		return 1;
	if (strcmp(section, "daemon") == 0)
		set_daemon(c, p->lineno, key, value);
	else if (strcmp(section, "log") == 0)
		set_log(c, p->lineno, key, value);
	else if (strcmp(section, "forward") == 0)
		set_forward(c, p->lineno, key, value);
	else if (strcmp(section, "tls") == 0)
		set_tls(c, p->lineno, key, value);
	else if (strcmp(section, "auth") == 0)
		set_auth(c, p->lineno, key, value);
	else if (strcmp(section, "shell") == 0)
		set_shell(c, p->lineno, key, value);
	else if (strcmp(section, "mail") == 0)
		config_set_mail(c, p->lineno, key, value);
	else if (section_name(section, "alert") != NULL)
		config_set_alert(c, p->lineno, section_name(section, "alert"),
		    key, value);
	else if (section_name(section, "sink") != NULL)
		set_sink(c, p->lineno, section_name(section, "sink"), key,
		    value);
	else if (*section == '\0')
		config_error(c, p->lineno, "key '%s' outside of any section",
		    key);
	/* Keys of an unknown section: its header was reported already. */
	return 1;
}

static int
known_section(const char *name)
{
	return strcmp(name, "daemon") == 0 || strcmp(name, "log") == 0 ||
	    strcmp(name, "forward") == 0 || strcmp(name, "tls") == 0 ||
	    strcmp(name, "auth") == 0 || strcmp(name, "shell") == 0 ||
	    strcmp(name, "mail") == 0 || section_name(name, "alert") != NULL ||
	    (strncmp(name, "sink", 4) == 0 && (name[4] == '\0' ||
	    name[4] == ' ' || name[4] == '\t'));
}

/* A '[' line without ']': said at its line, with its text; the keys
 * up to the next good header are skipped (they have no section). */
static void
bad_header(struct parse *p, const char *b)
{
	int n = (int)strcspn(b, "\r\n");

	while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t'))
		n--;
	config_error(p->c, p->lineno, "section header without ']': %.*s", n,
	    b);
	if (p->bad_header == 0)
		p->bad_header = p->lineno;
	p->skipping = 1;
}

/*
 * libinih tells nothing about a section without keys: look at section
 * headers as lines go by, so that every unknown one is reported at its
 * own line.
 */
static void
check_section(struct parse *p, const char *line)
{
	char name[128];
	const char *b, *e;
	size_t n;

	b = line + strspn(line, " \t");
	if (*b != '[')
		return;
	if ((e = strchr(b, ']')) == NULL) {
		bad_header(p, b);
		return;
	}
	p->skipping = 0;
	b++;
	b += strspn(b, " \t");
	n = (size_t)(e - b);
	while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t'))
		n--;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, b, n);
	name[n] = '\0';
	if (!known_section(name))
		config_error(p->c, p->lineno, "unknown section [%s]", name);
	/* Made here, so that an empty one is reported too (no key would
	 * bring it to the handler) and errors name the header's line. */
	else if (section_name(name, "alert") != NULL)
		(void)config_find_alert(p->c, p->lineno,
		    section_name(name, "alert"));
	else if (section_name(name, "sink") != NULL)
		(void)find_sink(p->c, p->lineno, section_name(name, "sink"));
}

/*
 * inih reader: one line per call, which lets us count lines ourselves.
 * libinih has a fixed line buffer: a longer line is reported, not cut.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t n;
	char *s;
	int ch;

	if ((s = fgets(str, num, p->fp)) == NULL)
		return NULL;
	p->lineno++;
	check_section(p, s);
	n = strlen(s);
	if (n > 0 && s[n - 1] != '\n' && !feof(p->fp)) {
		config_error(p->c, p->lineno, "line too long (at most %d "
		    "characters)", num - 2);
		while ((ch = getc(p->fp)) != EOF && ch != '\n')
			;
		s[0] = '\0';	/* an empty line for inih */
	}
	return s;
}

static void
validate(struct config *c)
{
	struct config_sink *s;
	char path[PATH_MAX];
	int i;

	if (config_log_path(c, path, sizeof(path)) == -1)
		config_error(c, 0, "log path %s/%s is too long", c->log_dir,
		    c->log_file);
	if (c->auth_mode != MODE_OFF && c->tls_mode == MODE_OFF &&
	    !c->auth_plaintext)
		config_error(c, 0, "[auth] mode = %s needs [tls] mode = "
		    "optional or required (or [auth] allow_plaintext = yes)",
		    config_mode_name(c->auth_mode));
	if (c->rotation.compress == TINTIN_COMPRESS_GZIP &&
	    c->rotation.level > 9)
		config_error(c, 0, "compress_level: gzip levels go from 1 to "
		    "9");
	config_check_alerts(c);
	for (i = 0; i < c->nsinks; i++) {
		s = &c->sinks[i];
		if (s->path[0] == '\0')
			config_error(c, s->line, "[sink %s]: path is missing",
			    s->name);
		else if (strcmp(s->path, path) == 0)
			config_error(c, s->line, "[sink %s]: path is the main "
			    "log file", s->name);
	}
}

int
config_load(struct config *c, const char *path, int required)
{
	struct parse p;
	int rc;

	c->path = path;
	memset(&p, 0, sizeof(p));
	p.c = c;
	if ((p.fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !required) {
			c->path = NULL;
			return 0;
		}
		config_error(c, 0, "cannot read: %s", strerror(errno));
		return c->nerrors;
	}
	rc = ini_parse_stream(reader, &p, handler, &p);
	/* libinih returns the first bad line: a bad header is told already. */
	if (rc > 0 && rc != p.bad_header)
		config_error(c, rc, "syntax error");
	else if (rc < 0)
		config_error(c, 0, "cannot parse (out of memory?)");
	if (ferror(p.fp))
		config_error(c, 0, "read error");
	fclose(p.fp);
	validate(c);
	return c->nerrors;
}

int
config_log_path(const struct config *c, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size, "%s/%s", c->log_dir, c->log_file);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

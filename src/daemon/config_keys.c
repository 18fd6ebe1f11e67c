/*
 * Configuration, the sections and their keys: for each key its type,
 * field, range, default and, when the generic parsing is not enough, its
 * own setter.  [mail] and [alert NAME] are in config_mail.c; config.c
 * reads the file with these tables.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <grp.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/config_int.h"
#include "tintin/tintin.h"

/* listen: "*", or a numeric IPv4 or IPv6 address. */
static void
set_listen(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	struct in6_addr a6;

	(void)k;
	(void)base;
	if (strcmp(value, "*") != 0 && (strlen(value) >= sizeof(c->listen) ||
	    (inet_pton(AF_INET, value, &a6) != 1 &&
	    inet_pton(AF_INET6, value, &a6) != 1)))
		config_error(c, line, "listen: '%s' is not *, an IPv4 "
		    "or an IPv6 address", value);
	else
		strcpy(c->listen, value);
}

/* local_group: the group must exist now, or the daemon would not start. */
static void
set_local_group(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	(void)k;
	(void)base;
	if (*value == '\0' || strlen(value) >= sizeof(c->local_group))
		config_error(c, line, "local_group: bad group name '%s'",
		    value);
	else if (getgrnam(value) == NULL)
		config_error(c, line, "local_group: no group named '%s'",
		    value);
	else {
		strcpy(c->local_group, value);
		c->local_group_set = 1;
	}
}

/* [log] file: a plain name in dir. */
static void
set_file(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	(void)base;
	if (strchr(value, '/') != NULL || strcmp(value, ".") == 0 ||
	    strcmp(value, "..") == 0)
		config_error(c, line, "file: '%s' must be a plain file name "
		    "(set the directory with dir=)", value);
	else
		config_set_path(c, line, k->key, value, c->log_file,
		    sizeof(c->log_file), 0);
}

/* [forward] target: tcp://, tls://, relp://, udp:// or unix:. */
static void
set_target(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	(void)k;
	(void)base;
	if (strncmp(value, "tcp://", 6) != 0 &&
	    strncmp(value, "tls://", 6) != 0 &&
	    strncmp(value, "relp://", 7) != 0 &&
	    strncmp(value, "udp://", 6) != 0 &&
	    strncmp(value, "unix:", 5) != 0)
		config_error(c, line, "target: '%s' is not tcp://HOST:PORT, "
		    "tls://HOST:PORT, relp://HOST:PORT, udp://HOST:PORT or "
		    "unix:PATH", value);
	else if (strlen(value) >= sizeof(c->forward_target))
		config_error(c, line, "target: too long");
	else
		strcpy(c->forward_target, value);
}

/*
 * [metrics] listen: "IPV4:PORT", "[IPV6]:PORT" or "*:PORT" (every
 * address); "" or "none": off.
 */
static void
set_metrics_listen(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	char addr[sizeof(c->metrics_addr)];
	const char *colon = strrchr(value, ':'), *text = value;
	struct in6_addr a6;
	size_t n;
	long port;
	int v6 = 0;

	(void)k;
	(void)base;
	c->metrics_addr[0] = '\0';
	if (value[0] == '\0' || strcmp(value, "none") == 0)
		return;
	n = colon != NULL ? (size_t)(colon - value) : 0;
	if (n >= 2 && value[0] == '[' && value[n - 1] == ']') {
		v6 = 1;
		value++;
		n -= 2;
	}
	if (colon == NULL || n == 0 || n >= sizeof(addr) ||
	    config_parse_int(colon + 1, 1, 65535, &port) == -1)
		goto bad;
	memcpy(addr, value, n);
	addr[n] = '\0';
	if (strcmp(addr, "*") != 0 && inet_pton(AF_INET, addr, &a6) != 1 &&
	    (!v6 || inet_pton(AF_INET6, addr, &a6) != 1))
		goto bad;
	if (v6 != (strchr(addr, ':') != NULL))
		goto bad;
	strcpy(c->metrics_addr, addr);
	c->metrics_port = (int)port;
	return;
bad:
	config_error(c, line, "listen: '%s' is not ADDRESS:PORT (an IPv4 "
	    "address, [an IPv6 one] or *, and a port), nor none", text);
}

/*
 * [forward] fingerprint: the collector's certificate's SHA-256, 64 hex
 * digits, with or without colons (as openssl x509 -fingerprint prints).
 */
static void
set_fingerprint(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	size_t n = 0;
	const char *p;

	(void)k;
	(void)base;
	for (p = value; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n >= 64)
			break;
		c->forward_fingerprint[n++] = (char)tolower((unsigned char)*p);
	}
	c->forward_fingerprint[n] = '\0';
	if (*p != '\0' || n != 64)
		config_error(c, line, "fingerprint: '%s' is not a SHA-256 "
		    "fingerprint (64 hex digits)", value);
}

#define C(m)	CONFIG_FIELD(struct config, m)

static const struct config_word modes[] = {
	{ "off", MODE_OFF }, { "optional", MODE_OPTIONAL },
	{ "required", MODE_REQUIRED }, { NULL, 0 }
};

/* The words of the [tls] and [auth] modes, the other way round. */
const char *
config_mode_name(int mode)
{
	const struct config_word *w;

	for (w = modes; w->name != NULL; w++)
		if (w->value == mode)
			return w->name;
	return "off";
}
static const struct config_word everys[] = {
	{ "never", TINTIN_EVERY_NEVER }, { "hourly", TINTIN_EVERY_HOURLY },
	{ "daily", TINTIN_EVERY_DAILY }, { "weekly", TINTIN_EVERY_WEEKLY },
	{ NULL, 0 }
};
static const struct config_word compressors[] = {
	{ "none", TINTIN_COMPRESS_NONE }, { "gzip", TINTIN_COMPRESS_GZIP },
	{ "zstd", TINTIN_COMPRESS_ZSTD }, { NULL, 0 }
};
static const struct config_word formats[] = {
	{ "text", TINTIN_TEXT }, { "json", TINTIN_JSON }, { NULL, 0 }
};

static const struct config_key daemon_keys[] = {
	{ "port", CT_INT, C(port), 1, 65535, 0, NULL, "4242",
	    "a port number (1-65535)", NULL },
	{ "listen", CT_STRING, C(listen), 0, 0, 0, NULL, "*", NULL,
	    set_listen },
	{ "lock_file", CT_PATH, C(lock_file), 0, 0, CF_ABSOLUTE, NULL,
	    "/var/lock/matt_daemon.lock", NULL, NULL },
	{ "max_clients", CT_INT, C(max_clients), 1, 1024, 0, NULL, "3",
	    "a number from 1 to 1024", NULL },
	{ "max_line", CT_SIZE, C(max_line), 64, 1024 * 1024, 0, NULL, "4096",
	    "a size from 64 to 1M", NULL },
	{ "idle_timeout", CT_DURATION, C(idle_timeout), 0, 0, 0, NULL, "0",
	    "a duration (e.g. 30s, 5m, 1h)", NULL },
	{ "local_socket", CT_PATH, C(local_socket), 0, 0,
	    CF_ABSOLUTE | CF_NONE, NULL, CONFIG_LOCAL_SOCKET, NULL, NULL },
	{ "local_group", CT_STRING, C(local_group), 0, 0, 0, NULL,
	    CONFIG_LOCAL_GROUP, NULL, set_local_group },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct config_key log_keys[] = {
	{ "dir", CT_PATH, C(log_dir), 0, 0, CF_ABSOLUTE, NULL,
	    "/var/log/matt_daemon", NULL, NULL },
	{ "file", CT_PATH, C(log_file), 0, 0, 0, NULL, "matt_daemon.log",
	    NULL, set_file },
	{ "level", CT_LEVEL, C(log_level), 0, 0, 0, NULL, "info", LEVEL_WHAT,
	    NULL },
	{ "rotate_size", CT_SIZE, C(rotation.size), 4096, 0, CF_ZERO, NULL,
	    "0", "0 or a size of at least 4K", NULL },
	{ "rotate_every", CT_WORD, C(rotation.every), 0, 0, 0, everys,
	    "never", "one of never, hourly, daily, weekly", NULL },
	{ "compress", CT_WORD, C(rotation.compress), 0, 0, 0, compressors,
	    "none", "one of none, gzip, zstd", NULL },
	{ "compress_level", CT_INT, C(rotation.level), 0, 19, 0, NULL, "0",
	    "a level from 0 (default) to 19", NULL },
	{ "keep", CT_INT, C(rotation.keep), 0, 100000, 0, NULL, "0",
	    "a number of archives (0 = keep all)", NULL },
	{ "max_age", CT_DURATION, C(rotation.max_age), 0, 0, 0, NULL, "0",
	    "a duration (e.g. 30d, 12h; 0 = forever)", NULL },
	{ "rotate_min_interval", CT_DURATION, C(rotate_min_interval), 0, 0,
	    0, NULL, "60s", "a duration (e.g. 60s, 5m; 0 = no limit)", NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

#define S(m)	CONFIG_FIELD(struct config_sink, m)
static const struct config_key sink_keys[] = {
	{ "path", CT_PATH, S(path), 0, 0, CF_ABSOLUTE, NULL, NULL, NULL,
	    NULL },
	{ "level", CT_LEVEL, S(level), 0, 0, 0, NULL, "info", LEVEL_WHAT,
	    NULL },
	{ "events", CT_EVENTS, S(events), 0, 0, 0, NULL, "all", EVENTS_WHAT,
	    NULL },
	{ "format", CT_WORD, S(format), 0, 0, 0, formats, "text",
	    "text or json", NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};
#undef S

static const struct config_key tls_keys[] = {
	{ "mode", CT_WORD, C(tls_mode), 0, 0, 0, modes, "off",
	    "off, optional or required", NULL },
	{ "cert", CT_PATH, C(tls_cert), 0, 0, CF_ABSOLUTE, NULL,
	    "/etc/matt_daemon/cert.pem", NULL, NULL },
	{ "key", CT_PATH, C(tls_key), 0, 0, CF_ABSOLUTE, NULL,
	    "/etc/matt_daemon/key.pem", NULL, NULL },
	{ "handshake_timeout", CT_DURATION, C(tls_handshake_timeout), 0,
	    3600, 0, NULL, "10s", "a duration from 0 (no limit) to 1h",
	    NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct config_key auth_keys[] = {
	{ "mode", CT_WORD, C(auth_mode), 0, 0, 0, modes, "off",
	    "off, optional or required", NULL },
	{ "users", CT_PATH, C(auth_users), 0, 0, CF_ABSOLUTE, NULL,
	    "/etc/matt_daemon/users", NULL, NULL },
	{ "authorized_keys", CT_PATH, C(auth_keys), 0, 0, CF_ABSOLUTE, NULL,
	    "/etc/matt_daemon/authorized_keys", NULL, NULL },
	{ "max_failures", CT_INT, C(auth_max_failures), 0, 1000, 0, NULL,
	    "5", "a number from 0 (never lock out) to 1000", NULL },
	{ "lockout", CT_DURATION, C(auth_lockout), 0, 0, 0, NULL, "60s",
	    "a duration (e.g. 60s, 5m)", NULL },
	{ "allow_plaintext", CT_BOOL, C(auth_plaintext), 0, 0, 0, NULL, "no",
	    "yes or no", NULL },
	{ "ipv4_prefix", CT_INT, C(auth_ipv4_prefix), 1, 32, 0, NULL, "32",
	    "a prefix length from 1 to 32", NULL },
	{ "ipv6_prefix", CT_INT, C(auth_ipv6_prefix), 1, 128, 0, NULL, "64",
	    "a prefix length from 1 to 128", NULL },
	{ "global_max_failures", CT_INT, C(auth_global_max), 0, 1000, 0,
	    NULL, "30", "a number from 0 (no global budget) to 1000", NULL },
	{ "global_window", CT_DURATION, C(auth_global_window), 1, 86400, 0,
	    NULL, "60s", "a duration from 1s to 1d", NULL },
	{ "login_grace", CT_DURATION, C(auth_login_grace), 0, 0, 0, NULL,
	    "30s", "a duration (e.g. 30s; 0 = no limit)", NULL },
	{ "max_auth_tries", CT_INT, C(auth_max_tries), 1, 100, 0, NULL, "3",
	    "a number from 1 to 100", NULL },
	{ "admin_slots", CT_INT, C(auth_admin_slots), 0, 16, 0, NULL, "1",
	    "a number from 0 to 16", NULL },
	{ "penalty", CT_DURATION, C(auth_penalty), 0, 3600, 0, NULL, "1s",
	    "a duration from 0 (no penalty) to 1h", NULL },
	{ "penalty_min", CT_DURATION, C(auth_penalty_min), 1, 86400, 0, NULL,
	    "15s", "a duration from 1s to 1d", NULL },
	{ "penalty_max", CT_DURATION, C(auth_penalty_max), 1, 86400, 0, NULL,
	    "10m", "a duration from 1s to 1d", NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct config_key shell_keys[] = {
	{ "enabled", CT_BOOL, C(shell_enabled), 0, 0, 0, NULL, "no",
	    "yes or no", NULL },
	{ "user", CT_STRING, C(shell_user), 0, 0, 0, NULL, "root",
	    "user name", NULL },
	{ "command", CT_PATH, C(shell_command), 0, 0, CF_ABSOLUTE, NULL,
	    "/bin/sh", NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct config_key forward_keys[] = {
	{ "target", CT_STRING, C(forward_target), 0, 0, 0, NULL, NULL, NULL,
	    set_target },
	{ "level", CT_LEVEL, C(forward_level), 0, 0, 0, NULL, "info",
	    LEVEL_WHAT, NULL },
	{ "state_dir", CT_PATH, C(forward_state_dir), 0, 0, CF_ABSOLUTE, NULL,
	    "/var/lib/matt_daemon", NULL, NULL },
	{ "max_backlog", CT_SIZE, C(forward_max_backlog), 65536, 0, CF_ZERO,
	    NULL, "1G", "0 or a size of at least 64K", NULL },
	{ "ca_file", CT_PATH, C(forward_ca_file), 0, 0, CF_ABSOLUTE, NULL,
	    NULL, NULL, NULL },
	{ "fingerprint", CT_STRING, C(forward_fingerprint), 0, 0, 0, NULL,
	    NULL, NULL, set_fingerprint },
	{ "cert", CT_PATH, C(forward_cert), 0, 0, CF_ABSOLUTE, NULL, NULL,
	    NULL, NULL },
	{ "key", CT_PATH, C(forward_key), 0, 0, CF_ABSOLUTE, NULL, NULL,
	    NULL, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct config_key metrics_keys[] = {
	{ "listen", CT_STRING, C(metrics_addr), 0, 0, 0, NULL, NULL, NULL,
	    set_metrics_listen },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};
#undef C

const struct config_section config_sections[] = {
	{ "daemon", daemon_keys, 0 },
	{ "log", log_keys, 0 },
	{ "sink", sink_keys, 1 },
	{ "tls", tls_keys, 0 },
	{ "auth", auth_keys, 0 },
	{ "shell", shell_keys, 0 },
	{ "forward", forward_keys, 0 },
	{ "metrics", metrics_keys, 0 },
	{ "mail", config_mail_keys, 0 },
	{ "alert", config_alert_keys, 1 },
	{ NULL, NULL, 0 }
};

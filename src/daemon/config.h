/* Configuration: defaults, the INI file, validation. */
#ifndef CONFIG_H
#define CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "tintin/tintin.h"

#define CONFIG_DEFAULT_PATH	"/etc/matt_daemon/matt_daemon.conf"
#define CONFIG_LOCAL_SOCKET	"/run/matt_daemon/matt_daemon.sock"
#define CONFIG_LOCAL_GROUP	"adm"
#define CONFIG_MAX_SINKS	8
#define CONFIG_MAX_ERRORS	32
#define CONFIG_NAME_MAX		64
#define CONFIG_MAX_ALERTS	16
#define CONFIG_MAX_RCPTS	16

/* Categories of records, for sinks that take only some (events=). */
#define CAT_DAEMON	TINTIN_CAT_DEFAULT	/* life, signals, errors */
#define CAT_CONN	0x02u	/* clients connected, gone, refused */
#define CAT_INPUT	0x04u	/* what clients send */
#define CAT_COMMAND	0x08u	/* slash commands */
#define CAT_AUTH	0x10u	/* authentication */

/* tls and auth modes */
#define MODE_OFF	0
#define MODE_OPTIONAL	1
#define MODE_REQUIRED	2

struct config_sink {
	char		name[CONFIG_NAME_MAX];
	char		path[PATH_MAX];
	int		level;
	int		format;
	unsigned	events;		/* categories (CAT_*), 0 = all */
	int		line;		/* where the section started */
};

/* STARTTLS on smtp:// URLs (a user or password makes it REQUIRED) */
#define STARTTLS_NO		0
#define STARTTLS_YES		1	/* when the server offers it */
#define STARTTLS_REQUIRED	2

/* [alert NAME]: a rule that mails the records it matches. */
struct config_alert {
	char		name[CONFIG_NAME_MAX];
	char		match[1024];	/* PCRE2 pattern */
	int		level;		/* minimum level of the record */
	unsigned	events;		/* categories (CAT_*), 0 = all */
	char		source[256];	/* client address prefix, ~REGEX */
	char		to[CONFIG_MAX_RCPTS][256];
	int		nto;
	char		subject[256];	/* template: %r %h %m %% */
	unsigned	window;		/* seconds matches are collected */
	unsigned	max_items;	/* matches listed in one mail */
	int		line;		/* where the section started */
	int		match_line;
};

struct config {
	const char	*path;		/* file read, or NULL for defaults */

	/* [daemon] */
	int		 port;
	char		 listen[64];
	char		 lock_file[PATH_MAX];
	int		 max_clients;
	size_t		 max_line;
	unsigned	 idle_timeout;	/* seconds, 0 = never */
	char		 local_socket[108];	/* unix socket, "" = none */
	char		 local_group[64];	/* its group: readers */
	int		 local_group_set;	/* named in the file */

	/* [log] */
	char		 log_dir[PATH_MAX];
	char		 log_file[NAME_MAX + 1];
	int		 log_level;
	struct tintin_rotation rotation;	/* rotate_size ... max_age */
	unsigned	 rotate_min_interval;	/* s between two /rotate */

	/* [tls] */
	int		 tls_mode;		/* MODE_OFF, _OPTIONAL, _REQUIRED */
	char		 tls_cert[PATH_MAX];
	char		 tls_key[PATH_MAX];
	unsigned	 tls_handshake_timeout;	/* s, 0: none */

	/* [auth] */
	int		 auth_mode;
	char		 auth_users[PATH_MAX];
	char		 auth_keys[PATH_MAX];
	unsigned	 auth_max_failures;
	unsigned	 auth_lockout;		/* seconds */
	int		 auth_plaintext;	/* passwords over plain TCP */
	unsigned	 auth_login_grace;	/* s to log in (required) */
	unsigned	 auth_max_tries;	/* failed logins per session */
	unsigned	 auth_ipv4_prefix;	/* bits of a source network */
	unsigned	 auth_ipv6_prefix;
	unsigned	 auth_global_max;	/* failures per global window */
	unsigned	 auth_global_window;	/* s */
	unsigned	 auth_admin_slots;	/* past max_clients, for admins */
	unsigned	 auth_penalty;		/* s per connection without a
						 * login (required mode) */
	unsigned	 auth_penalty_min;	/* s accrued, then enforced */
	unsigned	 auth_penalty_max;	/* s accrued at most */

	/* [shell] */
	int		 shell_enabled;
	char		 shell_user[64];
	char		 shell_command[PATH_MAX];

	/* [forward] */
	char		 forward_target[512];
	int		 forward_level;
	char		 forward_state_dir[PATH_MAX];	/* checkpoints */
	size_t		 forward_max_backlog;	/* bytes, 0 = no limit */
	char		 forward_ca_file[PATH_MAX];	/* tls:// */
	char		 forward_fingerprint[96];	/* SHA-256, hex */
	char		 forward_cert[PATH_MAX];	/* client cert */
	char		 forward_key[PATH_MAX];

	/* [metrics] */
	char		 metrics_addr[64];	/* "" = off, "*" or an IP */
	int		 metrics_port;

	/* [mail] */
	char		 mail_url[512];
	char		 mail_from[256];	/* "" = matt_daemon@HOST */
	char		 mail_user[256];
	char		 mail_password[256];
	int		 mail_starttls;		/* STARTTLS_* */
	int		 mail_starttls_line;	/* where it was set, or 0 */
	char		 mail_ca_file[PATH_MAX];
	int		 mail_no_verify;	/* tls_verify = no */
	unsigned	 mail_timeout;		/* seconds per attempt */
	unsigned	 mail_max_retries;
	unsigned	 mail_retry;		/* first retry delay, seconds */
	unsigned	 mail_queue;		/* mails waiting, at most */
	char		 mail_spool[PATH_MAX];	/* "" = none */
	unsigned	 mail_max_spooled;	/* mails the spool holds */

	/* [alert NAME] */
	struct config_alert alerts[CONFIG_MAX_ALERTS];
	int		 nalerts;

	/* [sink NAME] */
	struct config_sink sinks[CONFIG_MAX_SINKS];
	int		 nsinks;

	/* "FILE:LINE: message" for every problem found. */
	char		 errors[CONFIG_MAX_ERRORS][320];
	int		 nerrors;
};

/* Fill C with the built-in defaults (the subject's paths and port). */
void	config_defaults(struct config *c);

/* Every key as "SECTION KEY DEFAULT" lines ("-": none), for the test of
 * the documentation (Matt_daemon --dump-config-table). */
void	config_dump_table(FILE *fp);

/*
 * Read PATH over the defaults.  A missing file is an error only when
 * REQUIRED (given with -c).  Returns the number of errors recorded in
 * C->errors (0 when the configuration is usable).
 */
int	config_load(struct config *c, const char *path, int required);

/* Full path of the main log file into BUF. 0, or -1 if too long. */
int	config_log_path(const struct config *c, char *buf, size_t size);

/* "off", "optional", "required" of a MODE_*. */
const char *config_mode_name(int mode);

/* Parse "connection, auth" into CAT_* bits; 0 or -1. */
int	config_parse_events(const char *value, unsigned *out);

/* Parse "4096", "64K", "1M", "2G"; 0 or -1. */
int	config_parse_size(const char *s, size_t *out);

/* Parse "30", "30s", "5m", "2h", "1d" into seconds; 0 or -1. */
int	config_parse_duration(const char *s, unsigned *out);

#endif /* CONFIG_H */

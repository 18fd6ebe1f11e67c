/*
 * Configuration, [mail] and [alert NAME]: the SMTP server mails go
 * through, and the rules that send them.  Patterns are compiled here once
 * to report a bad one with its line; alert.c compiles them for good.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/config_int.h"
#include "tintin/tintin.h"

/* A bare address local@domain: no spaces, brackets, quotes or controls. */
static int
valid_address(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    strchr("<>()[],;:\\\"", *s) != NULL)
			return 0;
	return 1;
}

/* Compile PATTERN to check it; 0, or -1 with the reason in C's errors. */
static int
check_regex(struct config *c, int line, const char *key, const char *pattern)
{
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	pcre2_code *re;
	int err;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF, &err, &off, NULL);
	if (re != NULL) {
		pcre2_code_free(re);
		return 0;
	}
	pcre2_get_error_message(err, msg, sizeof(msg));
	config_error(c, line, "%s: bad regular expression at offset %zu: %s",
	    key, (size_t)off, (char *)msg);
	return -1;
}

/* The delivery keys of [mail] (timing, queue, spool); 0 if KEY is not one. */
static int
set_delivery(struct config *c, int line, const char *key, const char *value)
{
	long v;

	if (strcmp(key, "timeout") == 0) {
		if (config_parse_duration(value, &c->mail_timeout) == -1 ||
		    c->mail_timeout < 1 || c->mail_timeout > 3600)
			config_error(c, line, "timeout: '%s' is not a duration "
			    "from 1s to 1h", value);
	} else if (strcmp(key, "max_retries") == 0) {
		if (config_parse_int(value, 0, 100, &v) == -1)
			config_error(c, line, "max_retries: '%s' is not a "
			    "number from 0 to 100", value);
		else
			c->mail_max_retries = (unsigned)v;
	} else if (strcmp(key, "retry") == 0) {
		if (config_parse_duration(value, &c->mail_retry) == -1 ||
		    c->mail_retry < 1 || c->mail_retry > 86400)
			config_error(c, line, "retry: '%s' is not a duration "
			    "from 1s to 1d", value);
	} else if (strcmp(key, "queue") == 0) {
		if (config_parse_int(value, 1, 1000, &v) == -1)
			config_error(c, line, "queue: '%s' is not a number "
			    "from 1 to 1000", value);
		else
			c->mail_queue = (unsigned)v;
	} else if (strcmp(key, "spool") == 0) {
		if (strcmp(value, "none") == 0)
			c->mail_spool[0] = '\0';
		else
			config_set_path(c, line, key, value, c->mail_spool,
			    sizeof(c->mail_spool), 1);
	} else
		return 0;
	return 1;
}

/* smtp_url: smtp:// or smtps://, with no login in it (see user). */
static void
set_url(struct config *c, int line, const char *value)
{
	size_t host = strncmp(value, "smtps://", 8) == 0 ? 8 : 7;

	if (strncmp(value, "smtp://", 7) != 0 &&
	    strncmp(value, "smtps://", 8) != 0)
		config_error(c, line, "smtp_url: '%s' is not "
		    "smtp://HOST[:PORT] or smtps://HOST[:PORT]", value);
	else if (strlen(value) >= sizeof(c->mail_url) ||
	    strpbrk(value, " \t\r\n") != NULL)
		config_error(c, line, "smtp_url: bad URL");
	else if (memchr(value + host, '@', strcspn(value + host, "/?#")) !=
	    NULL)
		/* Not echoed: it may hold a password, and the URL is logged. */
		config_error(c, line, "smtp_url: no login in the URL: set "
		    "user and password instead");
	else
		strcpy(c->mail_url, value);
}

/* The TLS keys of [mail]; 0 if KEY is not one. */
static int
set_tls(struct config *c, int line, const char *key, const char *value)
{
	long v;

	if (strcmp(key, "starttls") == 0) {
		c->mail_starttls_line = line;
		if (strcmp(value, "required") == 0)
			c->mail_starttls = STARTTLS_REQUIRED;
		else if ((v = config_parse_bool(value)) == -1)
			config_error(c, line, "starttls: '%s' is not yes, no "
			    "or required", value);
		else
			c->mail_starttls = v ? STARTTLS_YES : STARTTLS_NO;
	} else if (strcmp(key, "ca_file") == 0) {
		if (config_set_path(c, line, key, value, c->mail_ca_file,
		    sizeof(c->mail_ca_file), 1) && access(value, R_OK) == -1)
			config_error(c, line, "ca_file: %s: %s", value,
			    strerror(errno));
	} else if (strcmp(key, "tls_verify") == 0) {
		if ((v = config_parse_bool(value)) == -1)
			config_error(c, line, "tls_verify: '%s' is not yes or "
			    "no", value);
		else
			c->mail_no_verify = !v;
	} else
		return 0;
	return 1;
}

void
config_set_mail(struct config *c, int line, const char *key, const char *value)
{
	if (set_delivery(c, line, key, value) || set_tls(c, line, key, value))
		return;
	if (strcmp(key, "smtp_url") == 0) {
		set_url(c, line, value);
	} else if (strcmp(key, "from") == 0) {
		if (!valid_address(value) ||
		    strlen(value) >= sizeof(c->mail_from))
			config_error(c, line, "from: '%s' is not an address "
			    "like name@example.org", value);
		else
			strcpy(c->mail_from, value);
	} else if (strcmp(key, "user") == 0) {
		if (strlen(value) >= sizeof(c->mail_user))
			config_error(c, line, "user: too long");
		else
			strcpy(c->mail_user, value);
	} else if (strcmp(key, "password") == 0) {
		/* Never echoed back: it goes in no message. */
		if (strlen(value) >= sizeof(c->mail_password))
			config_error(c, line, "password: too long");
		else
			strcpy(c->mail_password, value);
	} else
		config_error(c, line, "unknown key '%s' in [mail]", key);
}

struct config_alert *
config_find_alert(struct config *c, int line, const char *name)
{
	const struct config_table t = { "alert", c->alerts,
	    sizeof(c->alerts[0]), &c->nalerts, CONFIG_MAX_ALERTS };
	struct config_alert *a;
	int created;

	if ((a = config_named(c, line, &t, name, &created)) != NULL &&
	    created) {
		a->level = TINTIN_INFO;
		strcpy(a->subject, "[Matt_daemon] %r on %h: %m");
		a->window = 60;
		a->max_items = 100;
		a->line = line;
	}
	return a;
}

/* to = a@b, c@d */
static void
set_alert_to(struct config *c, int line, struct config_alert *a,
    const char *value)
{
	char buf[1024], *tok, *save = NULL;

	if (strlen(value) >= sizeof(buf)) {
		config_error(c, line, "to: too long");
		return;
	}
	strcpy(buf, value);
	a->nto = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (!valid_address(tok) || strlen(tok) >= sizeof(a->to[0])) {
			config_error(c, line, "to: '%s' is not an address "
			    "like name@example.org", tok);
			return;
		}
		if (a->nto >= CONFIG_MAX_RCPTS) {
			config_error(c, line, "to: more than %d recipients",
			    CONFIG_MAX_RCPTS);
			return;
		}
		strcpy(a->to[a->nto++], tok);
	}
}

void
config_set_alert(struct config *c, int line, const char *name, const char *key,
    const char *value)
{
	struct config_alert *a;
	unsigned u;
	long v;

	if ((a = config_find_alert(c, line, name)) == NULL)
		return;
	if (strcmp(key, "match") == 0) {
		a->match_line = line;
		if (*value == '\0' || strlen(value) >= sizeof(a->match))
			config_error(c, line, "match: empty or too long");
		else if (check_regex(c, line, key, value) == 0)
			strcpy(a->match, value);
	} else if (strcmp(key, "level") == 0) {
		config_set_level(c, line, value, &a->level);
	} else if (strcmp(key, "events") == 0) {
		config_set_events(c, line, value, &a->events);
	} else if (strcmp(key, "source") == 0) {
		if (*value == '\0' || strlen(value) >= sizeof(a->source))
			config_error(c, line, "source: empty or too long");
		else if (*value != '~' ||
		    check_regex(c, line, key, value + 1) == 0)
			strcpy(a->source, value);
	} else if (strcmp(key, "to") == 0) {
		set_alert_to(c, line, a, value);
	} else if (strcmp(key, "subject") == 0) {
		if (strlen(value) >= sizeof(a->subject))
			config_error(c, line, "subject: too long");
		else
			strcpy(a->subject, value);
	} else if (strcmp(key, "window") == 0) {
		if (config_parse_duration(value, &u) == -1 || u < 1 ||
		    u > 86400)
			config_error(c, line, "window: '%s' is not a duration "
			    "from 1s to 1d", value);
		else
			a->window = u;
	} else if (strcmp(key, "max_items") == 0) {
		if (config_parse_int(value, 1, 10000, &v) == -1)
			config_error(c, line, "max_items: '%s' is not a number "
			    "from 1 to 10000", value);
		else
			a->max_items = (unsigned)v;
	} else
		config_error(c, line, "unknown key '%s' in [alert %s]", key,
		    name);
}

/*
 * After the file: a login never goes in clear.  With a user or password,
 * an smtp:// URL must use STARTTLS, and "yes" (when offered) means
 * "required"; smtps:// is TLS from the start.
 */
static void
check_mail(struct config *c)
{
	int login = c->mail_user[0] != '\0' || c->mail_password[0] != '\0';

	if (strncmp(c->mail_url, "smtps://", 8) == 0) {
		c->mail_starttls = STARTTLS_YES;	/* TLS from the start */
		return;
	}
	if (login && c->mail_starttls == STARTTLS_NO)
		config_error(c, c->mail_starttls_line, "starttls: no would "
		    "send the SMTP user and password in clear: use yes or "
		    "required, or an smtps:// URL");
	else if (login)
		c->mail_starttls = STARTTLS_REQUIRED;
}

/* After the file: what an [alert] section cannot do without. */
void
config_check_alerts(struct config *c)
{
	int i;

	for (i = 0; i < c->nalerts; i++) {
		if (c->alerts[i].match_line == 0)
			config_error(c, c->alerts[i].line, "[alert %s]: match "
			    "is missing", c->alerts[i].name);
		if (c->alerts[i].nto == 0)
			config_error(c, c->alerts[i].line, "[alert %s]: to is "
			    "missing", c->alerts[i].name);
	}
	check_mail(c);
}

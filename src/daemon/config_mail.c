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

/* smtp_url: smtp:// or smtps://, with no login in it (see user). */
static void
set_url(struct config *c, int line, const struct config_key *k, void *base,
    const char *value)
{
	size_t host = strncmp(value, "smtps://", 8) == 0 ? 8 : 7;

	(void)k;
	(void)base;
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

/* starttls: a boolean, or "required". */
static void
set_starttls(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	int v;

	(void)k;
	(void)base;
	c->mail_starttls_line = line;
	if (strcmp(value, "required") == 0)
		c->mail_starttls = STARTTLS_REQUIRED;
	else if ((v = config_parse_bool(value)) == -1)
		config_error(c, line, "starttls: '%s' is not yes, no or "
		    "required", value);
	else
		c->mail_starttls = v ? STARTTLS_YES : STARTTLS_NO;
}

/* ca_file: an absolute path that can be read now. */
static void
set_ca_file(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	(void)base;
	if (config_set_path(c, line, k->key, value, c->mail_ca_file,
	    sizeof(c->mail_ca_file), 1) && access(value, R_OK) == -1)
		config_error(c, line, "ca_file: %s: %s", value,
		    strerror(errno));
}

/* from: a bare address. */
static void
set_from(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	(void)k;
	(void)base;
	if (!valid_address(value) || strlen(value) >= sizeof(c->mail_from))
		config_error(c, line, "from: '%s' is not an address like "
		    "name@example.org", value);
	else
		strcpy(c->mail_from, value);
}

static const struct config_word starttls_words[] = {
	{ "yes", STARTTLS_YES }, { "no", STARTTLS_NO },
	{ "required", STARTTLS_REQUIRED }, { NULL, 0 }
};

#define C(m)	CONFIG_FIELD(struct config, m)
/* The password is never echoed: "too long" only (CT_STRING, no what). */
const struct config_key config_mail_keys[] = {
	{ "smtp_url", CT_STRING, C(mail_url), 0, 0, 0, NULL,
	    "smtp://127.0.0.1:25", NULL, set_url },
	{ "from", CT_STRING, C(mail_from), 0, 0, 0, NULL, NULL, NULL,
	    set_from },
	{ "user", CT_STRING, C(mail_user), 0, 0, 0, NULL, NULL, NULL, NULL },
	{ "password", CT_STRING, C(mail_password), 0, 0, 0, NULL, NULL, NULL,
	    NULL },
	{ "starttls", CT_WORD, C(mail_starttls), 0, 0, 0, starttls_words,
	    "yes", NULL, set_starttls },
	{ "ca_file", CT_PATH, C(mail_ca_file), 0, 0, CF_ABSOLUTE, NULL, NULL,
	    NULL, set_ca_file },
	{ "tls_verify", CT_BOOL, C(mail_no_verify), 0, 0, CF_INVERT, NULL,
	    "yes", "yes or no", NULL },
	{ "timeout", CT_DURATION, C(mail_timeout), 1, 3600, 0, NULL, "60s",
	    "a duration from 1s to 1h", NULL },
	{ "max_retries", CT_INT, C(mail_max_retries), 0, 100, 0, NULL, "5",
	    "a number from 0 to 100", NULL },
	{ "retry", CT_DURATION, C(mail_retry), 1, 86400, 0, NULL, "5s",
	    "a duration from 1s to 1d", NULL },
	{ "queue", CT_INT, C(mail_queue), 1, 1000, 0, NULL, "32",
	    "a number from 1 to 1000", NULL },
	{ "spool", CT_PATH, C(mail_spool), 0, 0, CF_ABSOLUTE | CF_NONE, NULL,
	    "/var/lib/matt_daemon/spool", NULL, NULL },
	{ "max_spooled", CT_INT, C(mail_max_spooled), 1, 100000, 0, NULL,
	    "10000", "a number from 1 to 100000", NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};
#undef C

/* to = a@b, c@d */
static void
set_alert_to(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	struct config_alert *a = base;
	char buf[1024], *tok, *save = NULL;

	(void)k;
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

/* match: a PCRE2 pattern; its line tells it was given. */
static void
set_match(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	struct config_alert *a = base;

	a->match_line = line;
	if (*value == '\0' || strlen(value) >= sizeof(a->match))
		config_error(c, line, "match: empty or too long");
	else if (check_regex(c, line, k->key, value) == 0)
		strcpy(a->match, value);
}

/* source: an address prefix, or ~REGEX. */
static void
set_source(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	struct config_alert *a = base;

	if (*value == '\0' || strlen(value) >= sizeof(a->source))
		config_error(c, line, "source: empty or too long");
	else if (*value != '~' || check_regex(c, line, k->key, value + 1) == 0)
		strcpy(a->source, value);
}

#define A(m)	CONFIG_FIELD(struct config_alert, m)
const struct config_key config_alert_keys[] = {
	{ "match", CT_STRING, A(match), 0, 0, 0, NULL, NULL, NULL,
	    set_match },
	{ "level", CT_LEVEL, A(level), 0, 0, 0, NULL, "info",
	    LEVEL_WHAT, NULL },
	{ "events", CT_EVENTS, A(events), 0, 0, 0, NULL, "all",
	    EVENTS_WHAT, NULL },
	{ "source", CT_STRING, A(source), 0, 0, 0, NULL, NULL, NULL,
	    set_source },
	{ "to", CT_STRING, A(to), 0, 0, 0, NULL, NULL, NULL, set_alert_to },
	{ "subject", CT_STRING, A(subject), 0, 0, 0, NULL,
	    "[Matt_daemon] %r on %h: %m", NULL, NULL },
	{ "window", CT_DURATION, A(window), 1, 86400, 0, NULL, "60s",
	    "a duration from 1s to 1d", NULL },
	{ "max_items", CT_INT, A(max_items), 1, 10000, 0, NULL, "100",
	    "a number from 1 to 10000", NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL }
};
#undef A

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

/*
 * Configuration: the subject's defaults, overridden by an INI file parsed
 * with libinih.  Every section is a table of its keys (config_keys.c,
 * config_mail.c), which also gives the defaults.  Every problem is recorded
 * with its line number; unknown sections and keys are errors, so a typo
 * never goes unnoticed.
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
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
	const struct config_section *s;

	memset(c, 0, sizeof(*c));
	for (s = config_sections; s->name != NULL; s++)
		if (!s->named)
			config_key_defaults(c, s, c);
}

void
config_dump_table(FILE *fp)
{
	const struct config_section *s;
	const struct config_key *k;

	for (s = config_sections; s->name != NULL; s++)
		for (k = s->keys; k->key != NULL; k++)
			fprintf(fp, "%s %s %s\n", s->name, k->key,
			    k->def != NULL ? k->def : "-");
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

/* The section of header NAME, and in *ARG the NAME of [KIND NAME]. */
static const struct config_section *
find_section(const char *name, const char **arg)
{
	const struct config_section *s;

	for (s = config_sections; s->name != NULL; s++)
		if (s->named ? (*arg = section_name(name, s->name)) != NULL :
		    strcmp(name, s->name) == 0)
			return s;
	return NULL;
}

/*
 * The entry of [KIND NAME] (S named), made with the defaults of S when
 * first met at LINE; NULL when it cannot be.
 */
static void *
named_entry(struct config *c, int line, const struct config_section *s,
    const char *name)
{
	struct config_table t = { "sink", c->sinks, sizeof(c->sinks[0]),
	    &c->nsinks, CONFIG_MAX_SINKS };
	const struct config_table ta = { "alert", c->alerts,
	    sizeof(c->alerts[0]), &c->nalerts, CONFIG_MAX_ALERTS };
	int alert = strcmp(s->name, "alert") == 0;
	void *e;
	int created;

	if (alert)
		t = ta;
	if ((e = config_named(c, line, &t, name, &created)) != NULL &&
	    created) {
		config_key_defaults(c, s, e);
		if (alert)
			((struct config_alert *)e)->line = line;
		else
			((struct config_sink *)e)->line = line;
	}
	return e;
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;
	struct config *c = p->c;
	const struct config_section *s;
	const char *name = NULL;
	void *base = c;

	/* They belong to a header reported already, not to SECTION. */
	if (p->skipping)
		return 1;
	if ((s = find_section(section, &name)) != NULL) {
		if (s->named &&
		    (base = named_entry(c, p->lineno, s, name)) == NULL)
			return 1;
		if (config_set_key(c, p->lineno, s, base, key, value))
			return 1;
		if (s->named)
			config_error(c, p->lineno, "unknown key '%s' in "
			    "[%s %s]", key, s->name, name);
		else
			config_error(c, p->lineno, "unknown key '%s' in [%s]",
			    key, s->name);
	} else if (*section == '\0')
		config_error(c, p->lineno, "key '%s' outside of any section",
		    key);
	/* Keys of an unknown section: its header was reported already. */
	return 1;
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
	const struct config_section *sec;
	const char *b, *e, *arg = NULL;
	char name[128];
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
	if ((sec = find_section(name, &arg)) == NULL)
		config_error(p->c, p->lineno, "unknown section [%s]", name);
	/* Made here, so that an empty one is reported too (no key would
	 * bring it to the handler) and errors name the header's line. */
	else if (sec->named)
		(void)named_entry(p->c, p->lineno, sec, arg);
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

/* TLS forwarding needs a way to trust the collector; a cert its key. */
static void
check_forward(struct config *c)
{
	int tls = strncmp(c->forward_target, "tls://", 6) == 0;

	if (tls && c->forward_ca_file[0] == '\0' &&
	    c->forward_fingerprint[0] == '\0')
		config_error(c, 0, "[forward] target %s needs ca_file or "
		    "fingerprint", c->forward_target);
	if ((c->forward_cert[0] != '\0') != (c->forward_key[0] != '\0'))
		config_error(c, 0, "[forward] cert and key go together");
	/* librelp checks one of them, not both. */
	if (strncmp(c->forward_target, "relp://", 7) == 0 &&
	    c->forward_ca_file[0] != '\0' && c->forward_fingerprint[0] != '\0')
		config_error(c, 0, "[forward] target %s takes ca_file or "
		    "fingerprint, not both", c->forward_target);
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
	if (c->auth_penalty > 0 && c->auth_penalty_max < c->auth_penalty_min)
		config_error(c, 0, "[auth] penalty_max (%us) is less than "
		    "penalty_min (%us): no penalty would ever be enforced",
		    c->auth_penalty_max, c->auth_penalty_min);
	if (c->rotation.compress == TINTIN_COMPRESS_GZIP &&
	    c->rotation.level > 9)
		config_error(c, 0, "compress_level: gzip levels go from 1 to "
		    "9");
	config_check_alerts(c);
	check_forward(c);
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

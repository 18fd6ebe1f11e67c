/*
 * Configuration values: booleans, numbers, sizes and durations with their
 * units, paths, levels, kinds of events, and the [KIND NAME] sections'
 * tables.  Each setter records its own error with the line number.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/config.h"
#include "daemon/config_int.h"
#include "tintin/tintin.h"

int
config_parse_events(const char *value, unsigned *out)
{
	static const struct {
		const char	*name;
		unsigned	 bits;
	} names[] = {
		{ "daemon", CAT_DAEMON }, { "connection", CAT_CONN },
		{ "input", CAT_INPUT }, { "command", CAT_COMMAND },
		{ "auth", CAT_AUTH }, { "all", TINTIN_CAT_ALL },
	};
	char buf[256], *tok, *save = NULL;
	unsigned bits = 0;
	size_t i;

	if (strlen(value) >= sizeof(buf))
		return -1;
	strcpy(buf, value);
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(tok, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		bits |= names[i].bits;
	}
	if (bits == 0)
		return -1;
	*out = bits;
	return 0;
}

int
config_parse_bool(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -1;
}

/*
 * A decimal number, then maybe one of the letters of UNITS, which
 * multiplies it by the matching MULS; the product at most MAX.  *END is
 * left past the letter.  0 or -1.
 */
static int
parse_scaled(const char *s, const char *units,
    const unsigned long long *muls, unsigned long long max,
    unsigned long long *out, char **end)
{
	unsigned long long v, mul = 1;
	const char *u;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno != 0)
		return -1;
	if (**end != '\0' && (u = strchr(units, **end)) != NULL) {
		mul = muls[u - units];
		(*end)++;
	}
	if (v > max / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int
config_parse_size(const char *s, size_t *out)
{
	static const unsigned long long muls[] = { 1ULL << 10, 1ULL << 10,
	    1ULL << 20, 1ULL << 20, 1ULL << 30, 1ULL << 30 };
	unsigned long long v;
	char *end;

	if (parse_scaled(s, "kKmMgG", muls, SIZE_MAX, &v, &end) == -1)
		return -1;
	if ((*end == 'b' || *end == 'B') && strchr("kKmMgG", end[-1]))
		end++;			/* 64K or 64KB */
	if (*end != '\0')
		return -1;
	*out = (size_t)v;
	return 0;
}

int
config_parse_duration(const char *s, unsigned *out)
{
	static const unsigned long long muls[] = { 1, 60, 3600, 86400 };
	unsigned long long v;
	char *end;

	if (parse_scaled(s, "smhd", muls, UINT_MAX, &v, &end) == -1 ||
	    *end != '\0')
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
config_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
config_set_path(struct config *c, int line, const char *key,
    const char *value, char *dst, size_t size, int absolute)
{
	if (*value == '\0') {
		config_error(c, line, "%s: empty value", key);
		return 0;
	}
	if (absolute && *value != '/') {
		config_error(c, line, "%s: '%s' is not an absolute path", key,
		    value);
		return 0;
	}
	if (strlen(value) >= size) {
		config_error(c, line, "%s: path too long", key);
		return 0;
	}
	strcpy(dst, value);
	return 1;
}

void
config_set_level(struct config *c, int line, const char *value, int *out)
{
	int lvl;

	if ((lvl = tintin_level_parse(value)) == -1)
		config_error(c, line, "level: '%s' is not one of debug, info, "
		    "log, warn, error", value);
	else
		*out = lvl;
}

void
config_set_events(struct config *c, int line, const char *value,
    unsigned *out)
{
	if (config_parse_events(value, out) == -1)
		config_error(c, line, "events: '%s' is not a list of daemon, "
		    "connection, input, command, auth, all", value);
}

/*
 * The entry of section [KIND NAME] in T's array, or a new zeroed one (then
 * *CREATED is set); NULL when NAME is bad or the array is full.
 */
void *
config_named(struct config *c, int line, const struct config_table *t,
    const char *name, int *created)
{
	char *e;
	int i;

	*created = 0;
	for (i = 0; i < *t->n; i++) {
		e = (char *)t->array + (size_t)i * t->size;
		if (strcmp(e, name) == 0)	/* the name comes first */
			return e;
	}
	if (*name == '\0' || strlen(name) >= CONFIG_NAME_MAX) {
		config_error(c, line, "[%s NAME]: bad or missing name",
		    t->kind);
		return NULL;
	}
	if (*t->n >= t->max) {
		config_error(c, line, "too many [%s] sections (max %d)",
		    t->kind, t->max);
		return NULL;
	}
	e = (char *)t->array + (size_t)(*t->n)++ * t->size;
	memset(e, 0, t->size);
	strcpy(e, name);
	*created = 1;
	return e;
}

/* A number from MIN to MAX into *OUT, or an error naming KEY and WHAT. */
static void
set_uint(struct config *c, int line, const char *key, const char *value,
    long min, long max, const char *what, unsigned *out)
{
	long v;

	if (config_parse_int(value, min, max, &v) == -1)
		config_error(c, line, "%s: '%s' is not %s", key, value, what);
	else
		*out = (unsigned)v;
}

int
config_set_guard(struct config *c, int line, const char *key,
    const char *value)
{
	unsigned secs;

	if (strcmp(key, "login_grace") == 0) {
		if (config_parse_duration(value, &c->auth_login_grace) == -1)
			config_error(c, line, "login_grace: '%s' is not a "
			    "duration (e.g. 30s; 0 = no limit)", value);
	} else if (strcmp(key, "max_auth_tries") == 0)
		set_uint(c, line, key, value, 1, 100,
		    "a number from 1 to 100", &c->auth_max_tries);
	else if (strcmp(key, "ipv4_prefix") == 0)
		set_uint(c, line, key, value, 1, 32,
		    "a prefix length from 1 to 32", &c->auth_ipv4_prefix);
	else if (strcmp(key, "ipv6_prefix") == 0)
		set_uint(c, line, key, value, 1, 128,
		    "a prefix length from 1 to 128", &c->auth_ipv6_prefix);
	else if (strcmp(key, "global_max_failures") == 0)
		set_uint(c, line, key, value, 0, 1000,
		    "a number from 0 (no global budget) to 1000",
		    &c->auth_global_max);
	else if (strcmp(key, "global_window") == 0) {
		if (config_parse_duration(value, &secs) == -1 || secs == 0 ||
		    secs > 86400)
			config_error(c, line, "global_window: '%s' is not a "
			    "duration from 1s to 1d", value);
		else
			c->auth_global_window = secs;
	} else
		return 0;
	return 1;
}

/*
 * Configuration values: booleans, numbers, sizes and durations with their
 * units, paths, levels, kinds of events, the generic setter that the key
 * tables drive, and the [KIND NAME] sections' arrays.  Each setter records
 * its own error with the line number.
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

/* Stores V in the integer field P of SIZE bytes. */
static void
store(void *p, size_t size, unsigned long long v)
{
	if (size == sizeof(uint64_t)) {
		uint64_t u = v;

		memcpy(p, &u, sizeof(u));
	} else {
		unsigned u = (unsigned)v;

		memcpy(p, &u, sizeof(u));
	}
}

/* VALUE as K's type into *OUT (a number); 0 or -1. */
static int
parse_number(const struct config_key *k, const char *value,
    unsigned long long *out)
{
	const struct config_word *w;
	size_t sz;
	unsigned u;
	long v;
	int b;

	switch (k->type) {
	case CT_INT:
		if (config_parse_int(value, (long)k->min, (long)k->max, &v) ==
		    -1)
			return -1;
		*out = (unsigned long long)v;
		return 0;
	case CT_SIZE:
		if (config_parse_size(value, &sz) == -1 ||
		    (sz < (size_t)k->min && !(sz == 0 &&
		    (k->flags & CF_ZERO))) || (k->max != 0 &&
		    sz > (size_t)k->max))
			return -1;
		*out = sz;
		return 0;
	case CT_DURATION:
		if (config_parse_duration(value, &u) == -1 || u < k->min ||
		    (k->max != 0 && u > k->max))
			return -1;
		*out = u;
		return 0;
	case CT_BOOL:
		if ((b = config_parse_bool(value)) == -1)
			return -1;
		*out = (k->flags & CF_INVERT) ? !b : b;
		return 0;
	case CT_LEVEL:
		if ((b = tintin_level_parse(value)) == -1)
			return -1;
		*out = (unsigned long long)b;
		return 0;
	case CT_EVENTS:
		if (config_parse_events(value, &u) == -1)
			return -1;
		*out = u;
		return 0;
	default:	/* CT_WORD */
		for (w = k->words; w->name != NULL; w++)
			if (strcmp(value, w->name) == 0) {
				*out = (unsigned long long)w->value;
				return 0;
			}
		return -1;
	}
}

/* The generic setter: VALUE of K into its field in BASE. */
static void
set_value(struct config *c, int line, const struct config_key *k,
    void *base, const char *value)
{
	char *field = (char *)base + k->off;
	unsigned long long v;

	if (k->type == CT_PATH) {
		if ((k->flags & CF_NONE) && strcmp(value, "none") == 0)
			field[0] = '\0';
		else
			config_set_path(c, line, k->key, value, field,
			    k->size, k->flags & CF_ABSOLUTE);
	} else if (k->type == CT_STRING) {
		if (k->what != NULL && (*value == '\0' ||
		    strlen(value) >= k->size))
			config_error(c, line, "%s: bad %s '%s'", k->key,
			    k->what, value);
		else if (strlen(value) >= k->size)
			config_error(c, line, "%s: too long", k->key);
		else
			strcpy(field, value);
	} else if (parse_number(k, value, &v) == -1)
		config_error(c, line, "%s: '%s' is not %s", k->key, value,
		    k->what);
	else
		store(field, k->size, v);
}

int
config_set_key(struct config *c, int line, const struct config_section *s,
    void *base, const char *key, const char *value)
{
	const struct config_key *k;

	for (k = s->keys; k->key != NULL; k++)
		if (strcmp(k->key, key) == 0)
			break;
	if (k->key == NULL)
		return 0;
	if (k->set != NULL)
		k->set(c, line, k, base, value);
	else
		set_value(c, line, k, base, value);
	return 1;
}

void
config_key_defaults(struct config *c, const struct config_section *s,
    void *base)
{
	const struct config_key *k;

	/* A bad default would be an error of every configuration. */
	for (k = s->keys; k->key != NULL; k++)
		if (k->def != NULL)
			set_value(c, 0, k, base, k->def);
}

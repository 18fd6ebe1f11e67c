/*
 * Between the parts of the configuration parser (config.c: the file;
 * config_keys.c: most sections and their keys; config_mail.c: [mail] and
 * [alert NAME]; config_value.c: the values).  Not for the rest of the
 * daemon: it reads struct config only.
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <stddef.h>

#include "daemon/config.h"

/* Records "FILE:LINE: message" (LINE 0: "FILE: message") in C. */
void	config_error(struct config *c, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* yes/no/true/false/on/off/1/0, in any case: 1, 0, or -1. */
int	config_parse_bool(const char *s);
/* A decimal number from MIN to MAX into *OUT; 0 or -1. */
int	config_parse_int(const char *s, long min, long max, long *out);

/* These record their own error and keep *OUT / DST when VALUE is bad. */
int	config_set_path(struct config *c, int line, const char *key,
	    const char *value, char *dst, size_t size, int absolute);

/* What a key's value is, and how it is parsed (config_value.c). */
enum config_type {
	CT_INT,		/* number from min to max: int or unsigned */
	CT_SIZE,	/* 64K, 1M: size_t or uint64_t, min to max */
	CT_DURATION,	/* 30s, 5m: unsigned seconds, min to max (0: any) */
	CT_BOOL,	/* yes/no...: int */
	CT_WORD,	/* one of words: its value, an int */
	CT_LEVEL,	/* debug ... error: int */
	CT_EVENTS,	/* daemon, connection...: unsigned bits */
	CT_STRING,	/* char[size]; with what: "bad WHAT" if empty */
	CT_PATH		/* char[size], checked by config_set_path */
};

#define CF_ABSOLUTE	0x01	/* CT_PATH: must start with '/' */
#define CF_NONE		0x02	/* CT_PATH: "none" empties it */
#define CF_ZERO		0x04	/* CT_SIZE: 0 is allowed below min */
#define CF_INVERT	0x08	/* CT_BOOL: the field holds the negation */

struct config_word {
	const char	*name;
	int		 value;
};

struct config_key;
/* A key's own setter, for VALUE from the file at LINE; BASE is the
 * struct config, or the entry of a [KIND NAME] section. */
typedef void config_setter(struct config *c, int line,
    const struct config_key *k, void *base, const char *value);

/*
 * One key of a section: its type, where it goes (an offset in the
 * section's struct), its range or words, and its default as written in
 * the documentation (NULL: none, the field stays zeroed).  WHAT ends the
 * message "KEY: 'VALUE' is not WHAT".  SET, when given, replaces the
 * generic parsing of the file's values (not of the default).
 */
struct config_key {
	const char	*key;
	enum config_type type;
	size_t		 off;
	size_t		 size;		/* of the field */
	long long	 min, max;
	int		 flags;		/* CF_* */
	const struct config_word *words;	/* CT_WORD, NULL-ended */
	const char	*def;
	const char	*what;
	config_setter	*set;
};

/* The WHAT of the level and events keys, in every section. */
#define LEVEL_WHAT	"one of debug, info, log, warn, error"
#define EVENTS_WHAT	"a list of daemon, connection, input, command, " \
	"auth, all"

#define CONFIG_FIELD(type, member) \
	offsetof(type, member), sizeof(((type *)0)->member)

/* A section: [NAME], or [NAME X] when NAMED (its keys go to an entry). */
struct config_section {
	const char	*name;
	const struct config_key *keys;
	int		 named;
};

/* The sections, in the order of the documentation (config_keys.c). */
extern const struct config_section config_sections[];

/* Applies VALUE (from the file at LINE) to KEY of S in BASE; 0 if S has
 * no KEY. */
int	config_set_key(struct config *c, int line,
	    const struct config_section *s, void *base, const char *key,
	    const char *value);
/* Writes the defaults of the keys of S into BASE (a bad one is an
 * error in C). */
void	config_key_defaults(struct config *c, const struct config_section *s,
	    void *base);

/* The [KIND NAME] sections of one kind: an array of structs whose first
 * member is the name (checked below). */
struct config_table {
	const char	*kind;
	void		*array;
	size_t		 size;		/* of one element */
	int		*n;
	int		 max;
};

void	*config_named(struct config *c, int line,
	    const struct config_table *t, const char *name, int *created);

_Static_assert(offsetof(struct config_sink, name) == 0, "name first");
_Static_assert(offsetof(struct config_alert, name) == 0, "name first");

/* config_mail.c */
extern const struct config_key config_mail_keys[];
extern const struct config_key config_alert_keys[];
void	config_check_alerts(struct config *c);

#endif

/*
 * Between the parts of the configuration parser (config.c: the file and
 * most sections; config_mail.c: [mail] and [alert NAME]; config_value.c:
 * the values).  Not for the rest of the daemon: it reads struct config
 * only.
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
void	config_set_level(struct config *c, int line, const char *value,
	    int *out);
void	config_set_events(struct config *c, int line, const char *value,
	    unsigned *out);
/* The [auth] keys of the guard against guessing; 0 if KEY is not one. */
int	config_set_guard(struct config *c, int line, const char *key,
	    const char *value);

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
/* Section [alert NAME] (made with its defaults when first met). */
struct config_alert *config_find_alert(struct config *c, int line,
	    const char *name);
void	config_set_mail(struct config *c, int line, const char *key,
	    const char *value);
void	config_set_alert(struct config *c, int line, const char *name,
	    const char *key, const char *value);
void	config_check_alerts(struct config *c);

#endif

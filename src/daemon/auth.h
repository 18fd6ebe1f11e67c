/* Users, keys and the guard against password guessing. */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <time.h>

#define AUTH_NAME_MAX	64
#define AUTH_HASH_MAX	256
#define AUTH_KEY_MAX	1024	/* base64 of a DER public key */

enum auth_role {
	ROLE_NONE = 0,		/* anonymous */
	ROLE_USER,
	ROLE_ADMIN
};

/* "admin", "user" or "anonymous". */
const char	*auth_role_name(int role);

/* Is NAME acceptable as a user name ([A-Za-z0-9._-], 1..63 chars)? */
int		 auth_valid_name(const char *name);

/*
 * Add or replace NAME in the users file PATH with a yescrypt hash of
 * PASSWORD (file mode 0600, replaced atomically).  0, or -1 with ERR.
 */
int		 auth_add_user(const char *path, const char *name, int role,
		    const char *password, char *err, size_t errlen);

/* Append NAME ROLE KEY to the authorized keys file PATH; 0 or -1. */
int		 auth_add_key(const char *path, const char *name, int role,
		    const char *key, char *err, size_t errlen);

/* Hash and role of NAME in the users file; 0, or -1 if not found. */
int		 auth_find_user(const char *path, const char *name,
		    char *hash, size_t hashlen, int *role);

/* Role of NAME for public key KEY (base64 DER), or ROLE_NONE. */
int		 auth_find_key(const char *path, const char *name,
		    const char *key);

/*
 * Does PASSWORD match HASH (NULL: no such user, always no, after the same
 * work)?  Slow on purpose: run it in a child.
 */
int		 auth_password_ok(const char *hash, const char *password);

/*
 * The guard, per source address.  auth_locked: seconds of lockout left
 * (0 if none).  auth_failure: record a failure; returns how long to
 * delay the reply, and sets *LOCKED when the address just got locked.
 * auth_success: forget the address's failures.
 */
unsigned	 auth_locked(const char *addr, time_t now);
unsigned	 auth_failure(const char *addr, time_t now, unsigned max,
		    unsigned lockout, int *locked);
void		 auth_success(const char *addr);

#endif /* AUTH_H */

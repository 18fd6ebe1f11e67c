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

/* A source network: an address cut to its prefix ([auth] ipv4_prefix...). */
struct auth_net {
	unsigned char	 family;	/* 4 or 6 */
	unsigned char	 addr[16];
};

/* The guard's settings (from [auth]). */
struct auth_limits {
	unsigned	 max_failures;	/* per network, then locked; 0 never */
	unsigned	 lockout;	/* s: the window and the lockout */
	unsigned	 global_max;	/* failures per global_window; 0 none */
	unsigned	 global_window;	/* s */
	unsigned	 penalty;	/* s per connection without a login */
	unsigned	 penalty_min;	/* s accrued before it is enforced */
	unsigned	 penalty_max;	/* s accrued at most */
};

enum auth_verdict {
	AUTH_GO = 0,		/* check it, after the wait */
	AUTH_LOCKED,		/* the network is locked out */
	AUTH_BUSY		/* over the global budget, and this network
				 * failed lately: refused outright */
};

/*
 * The network of IP ("1.2.3.4", "::1" or "[::1]") cut to V4_PREFIX or
 * V6_PREFIX bits into *NET; 0, or -1 if IP is no address.
 */
int		 auth_net_of(const char *ip, unsigned v4_prefix,
		    unsigned v6_prefix, struct auth_net *net);

/*
 * An attempt from NET begins at NOW (monotonic seconds).  Returns
 * AUTH_GO and sets *WAIT: the seconds to hold the connection before
 * checking anything, from the network's recent failures and attempts
 * under way and, past the global budget, its turn among all checks.
 * Otherwise AUTH_LOCKED or AUTH_BUSY and *LEFT, the seconds until it
 * ends.  Each AUTH_GO must be followed by one auth_attempt_end().
 */
int		 auth_attempt_begin(const struct auth_net *net, time_t now,
		    const struct auth_limits *l, unsigned *wait,
		    unsigned *left);

/*
 * The attempt ended: FAILED counts a failure for the network and in
 * total (a success or an attempt never checked counts nothing; failures
 * are not forgotten on a success, they expire).  *LOCKED when the
 * network just got locked out.  Returns 1 when this failure crossed the
 * global budget, else 0.
 */
int		 auth_attempt_end(const struct auth_net *net, time_t now,
		    const struct auth_limits *l, int failed, int *locked);

/*
 * Has NET nothing against it at NOW: no failure within the window, no
 * lockout, no attempt under way?  1 or 0.
 */
int		 auth_net_clean(const struct auth_net *net, time_t now,
		    const struct auth_limits *l);

/*
 * A connection from NET ended without a login at NOW: the network's
 * penalty grows by l->penalty seconds (up to l->penalty_max ahead of
 * NOW).  Returns 1 when this puts the penalty in force (it has reached
 * l->penalty_min), with *LEFT its seconds; else 0.
 */
int		 auth_noauth(const struct auth_net *net, time_t now,
		    const struct auth_limits *l, unsigned *left);

/*
 * Is NET's penalty in force at NOW?  Then its new connections are
 * refused: counted, *LEFT the seconds until it ends, and 1; else 0.
 */
int		 auth_penalized(const struct auth_net *net, time_t now,
		    const struct auth_limits *l, unsigned *left);

/*
 * One network whose penalty ended by NOW: its record in *NET and the
 * connections refused meanwhile in *REFUSED, and 1 (it is reported once);
 * 0 when there is none left.
 */
int		 auth_penalty_over(time_t now, struct auth_net *net,
		    unsigned *refused);

/* NET as "ADDRESS/BITS", with the prefixes it was cut to, into BUF. */
void		 auth_net_text(const struct auth_net *net, unsigned v4_prefix,
		    unsigned v6_prefix, char *buf, size_t len);

/* Seconds between two checks past the global budget (0: no budget). */
unsigned	 auth_global_spacing(const struct auth_limits *l);

#endif /* AUTH_H */

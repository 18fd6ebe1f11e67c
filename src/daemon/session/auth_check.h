/* A password checked by a child process, so that the loop never waits. */
#ifndef AUTH_CHECK_H
#define AUTH_CHECK_H

#include <sys/types.h>

#include "daemon/session/auth.h"
#include "daemon/loop.h"

/* Called once with the answer: the role if the password is right, else
 * ROLE_NONE (a wrong password, an unknown user, a checker that died). */
typedef void (*auth_check_cb)(void *arg, const char *user, int role);

struct auth_check {
	pid_t		 pid;		/* the checker, or 0 */
	struct loop_io	 io;		/* its one-byte answer */
	struct loop	*loop;
	char		 user[AUTH_NAME_MAX];
	int		 role;		/* USER's, if the password is right */
	auth_check_cb	 cb;
	void		*arg;
};

/* An idle check (no child, no descriptor). */
void	auth_check_init(struct auth_check *k);

/*
 * Check PASSWORD for USER of the users file USERS in a child: yescrypt
 * takes tens of milliseconds on purpose.  An unknown user's password is
 * hashed all the same, so the time of the answer tells nothing.  CB gets
 * the answer from loop L.  0, or -1 if the check could not start.
 */
int	auth_check_start(struct auth_check *k, struct loop *l,
	    const char *users, const char *user, const char *password,
	    auth_check_cb cb, void *arg);

/* 1 while a check is under way. */
int	auth_check_busy(const struct auth_check *k);

/* Stop a check under way (its child killed); no answer comes. */
void	auth_check_stop(struct auth_check *k);

#endif /* AUTH_CHECK_H */

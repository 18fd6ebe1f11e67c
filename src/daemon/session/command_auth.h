/* /auth: a login attempt, its turn, its check by a child, its answer. */
#ifndef COMMAND_AUTH_H
#define COMMAND_AUTH_H

struct auth_net;
struct client;
struct sessions;

/* /auth password NAME PASSWORD | /auth key NAME, ARGS after "/auth ". */
void	command_auth_run(struct client *c, char *args);

/* C's held login attempt is due: check it now and answer at once. */
void	command_auth_due(struct client *c);

/*
 * C goes away: end a login attempt under way for the guard (one whose
 * check had started counts as a failure), wipe it, and stop its check.
 * Auth required, C never logged in: its network's penalty grows.
 */
void	command_auth_close(struct client *c);

/*
 * A connection from FROM ended without a login (auth required): its
 * network is charged [auth] penalty, and the start of a penalty logged.
 */
void	command_auth_charge(struct sessions *d, const struct auth_net *from);

/*
 * Is FROM's network penalized?  Then the connection is counted, *LEFT is
 * the seconds the penalty lasts, and 1; else 0.
 */
int	command_auth_penalized(struct sessions *d,
	    const struct auth_net *from, unsigned *left);

/* Once a second: log the networks whose penalty is over. */
void	command_auth_tick(struct sessions *d);

#endif /* COMMAND_AUTH_H */

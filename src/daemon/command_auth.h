/* Between command.c and command_auth.c (/auth).  Not for the rest of the
 * daemon: command.h has command_auth_due() and command_auth_cancel(). */
#ifndef COMMAND_AUTH_H
#define COMMAND_AUTH_H

struct client;

/* /auth password NAME PASSWORD | /auth key NAME, ARGS after "/auth ". */
void	command_auth_run(struct client *c, char *args);

#endif /* COMMAND_AUTH_H */

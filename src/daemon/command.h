/* Slash commands sent by clients (/rotate...); /auth is in command_auth.c. */
#ifndef COMMAND_H
#define COMMAND_H

#include <stddef.h>

struct client;

/*
 * If the LEN bytes of LINE are a known command, run it, reply and return
 * 1; return 0 for anything else, which is then logged as user input.
 */
int	command_run(struct client *c, const char *line, size_t len);

/* C's held login attempt is due: check it now and answer at once. */
void	command_auth_due(struct client *c);

/*
 * C goes away while a login attempt is under way: end it for the guard
 * (an attempt whose check had started counts as a failure) and wipe it.
 */
void	command_auth_cancel(struct client *c);

#endif /* COMMAND_H */

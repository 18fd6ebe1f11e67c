/* Slash commands sent by clients (/rotate...); /auth is in command_auth.c. */
#ifndef COMMAND_H
#define COMMAND_H

#include <stddef.h>

struct client;
struct session_ops;

/*
 * What the sessions call above themselves: this layer's commands, its
 * login checks, and the shell's terminal.
 */
extern const struct session_ops command_ops;

/*
 * If the LEN bytes of LINE are a known command, run it, reply and return
 * 1; return 0 for anything else, which is then logged as user input.
 */
int	command_run(struct client *c, const char *line, size_t len);

#endif /* COMMAND_H */

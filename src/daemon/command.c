/*
 * Slash commands.  Only lines that are exactly a known command are taken
 * as commands; any other line, even one starting with '/', is user input,
 * so plain `nc` users see no difference.  Replies are one line starting
 * with +OK or -ERR (docs/PROTOCOL.md).
 */
#include <string.h>

#include "daemon/client.h"
#include "daemon/command.h"
#include "daemon/daemon.h"

struct command {
	const char	*name;
	void		(*run)(struct client *c);
};

static void
cmd_rotate(struct client *c)
{
	struct daemon *d = c->d;

	tintin_log_cat(d->log, TINTIN_INFO, CAT_COMMAND, "Command from %s: "
	    "/rotate.", c->addr);
	if (tintin_rotate(d->log) == 0)
		client_reply(c, "+OK logs rotated\n");
	else
		client_reply(c, "-ERR rotation failed, see the log\n");
}

static const struct command commands[] = {
	{ "/rotate",	cmd_rotate },
};

int
command_run(struct client *c, const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strlen(commands[i].name) == len &&
		    memcmp(commands[i].name, line, len) == 0) {
			commands[i].run(c);
			return 1;
		}
	}
	return 0;
}

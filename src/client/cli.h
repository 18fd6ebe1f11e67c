/* Ben_AFK, the terminal client: what its modes share. */
#ifndef CLI_H
#define CLI_H

#include "client/afk.h"
#include "client/options.h"

struct cli {
	struct afk_options a;		/* the options shared with the GUI */
	int		 quiet;
	int		 shell;		/* --shell: a remote terminal */
	int		 strict_host;	/* refuse servers not pinned yet */
	int		 color;		/* colour records by their level */
	const char	*command;	/* -c LINE: send it instead of stdin */
};

/* Print "Ben_AFK: REPLY (hint)" to stderr for an -ERR reply. */
void	cli_report(const char *reply, enum proto_reply kind);

/*
 * Pipe mode: send stdin (or the -c line), then /ping, wait for its pong;
 * exit status.
 */
int	batch_run(struct conn *c, const struct cli *o);

/* Interactive mode with line editing; exit status. */
int	repl_run(struct conn *c, const struct cli *o);

/*
 * Remote shell: send /shell, then relay the terminal (raw mode when stdin
 * is one) until the shell ends.  Returns its exit status, or an exit status
 * of ours after reporting an error.  *OPENED (if not NULL): 1 the shell
 * ran, 0 the daemon refused it (the session goes on), -1 the session
 * failed.
 */
int	shell_run(struct conn *c, const struct cli *o, int *opened);

#endif /* CLI_H */

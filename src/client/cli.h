/* Ben_AFK, the terminal client: what its modes share. */
#ifndef CLI_H
#define CLI_H

#include "client/afk.h"

struct cli {
	const char	*host;
	const char	*port;
	const char	*user;
	const char	*keyfile;
	const char	*known_hosts;	/* NULL: the default file */
	const char	*password_file;
	int		 tls;
	int		 plaintext;	/* may send a password without TLS */
	int		 timeout_ms;	/* connect, handshake, each reply */
	int		 quiet;
};

/* Print "Ben_AFK: REPLY (hint)" to stderr for an -ERR reply. */
void	cli_report(const char *reply, enum proto_reply kind);

/* Pipe mode: send stdin, then /ping, wait for its pong; exit status. */
int	batch_run(struct conn *c, const struct cli *o);

/* Interactive mode with line editing; exit status. */
int	repl_run(struct conn *c, const struct cli *o);

#endif /* CLI_H */

/*
 * The command-line options Ben_AFK and Ben_AFK-gtk share: where the
 * daemon is, how to talk to it, who logs in.  Each program adds its own
 * (see Ben_AFK(1), Ben_AFK-gtk(1)).
 */
#ifndef AFK_OPTIONS_H
#define AFK_OPTIONS_H

#include <getopt.h>
#include <stddef.h>

struct afk_options {
	const char	*host;		/* 127.0.0.1 */
	const char	*port;		/* 4242 */
	const char	*user;
	const char	*keyfile;	/* -i: implies TLS */
	const char	*known_hosts;	/* NULL: the default file */
	const char	*password_file;
	const char	*socket;	/* -S: the daemon's local socket */
	int		 tls;
	int		 plaintext;	/* may send a password without TLS */
	int		 timeout_ms;	/* connect, handshake, each reply */
	int		 named;		/* -H, -p, -u, -i, -S or --tls given */
};

/* getopt_long values of the long-only options; a program's own follow
 * from AFK_OPT_OWN. */
enum {
	AFK_OPT_KNOWN_HOSTS = 256,
	AFK_OPT_PASSWORD_FILE,
	AFK_OPT_PLAINTEXT,
	AFK_OPT_TLS,
	AFK_OPT_OWN
};

/* The leading ':' makes getopt_long quiet: afk_bad_option() tells. */
#define AFK_SHORT_OPTIONS	":H:hi:p:S:t:u:V"
#define AFK_LONG_OPTIONS \
	{ "help",	   no_argument,	      NULL, 'h' }, \
	{ "host",	   required_argument, NULL, 'H' }, \
	{ "identity",	   required_argument, NULL, 'i' }, \
	{ "known-hosts",   required_argument, NULL, AFK_OPT_KNOWN_HOSTS }, \
	{ "password-file", required_argument, NULL, AFK_OPT_PASSWORD_FILE }, \
	{ "plaintext-password", no_argument, NULL, AFK_OPT_PLAINTEXT }, \
	{ "port",	   required_argument, NULL, 'p' }, \
	{ "socket",	   required_argument, NULL, 'S' }, \
	{ "timeout",	   required_argument, NULL, 't' }, \
	{ "tls",	   no_argument,	      NULL, AFK_OPT_TLS }, \
	{ "user",	   required_argument, NULL, 'u' }, \
	{ "version",	   no_argument,	      NULL, 'V' }

void	afk_options_init(struct afk_options *o);

/*
 * A bad command line: "PROG: " and what is wrong (FMT) on one line, then
 * SYNOPSIS (the program's "usage:" lines) and a hint, on stderr; exit
 * AFK_EXIT_USAGE.
 */
void	afk_usage_error(const char *prog, const char *synopsis,
	    const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 3, 4)));

/* The option getopt_long just refused (CH '?' or ':' for a missing
 * argument), named by afk_usage_error(). */
void	afk_bad_option(const char *prog, const char *synopsis, int ch,
	    char **argv) __attribute__((noreturn));

/*
 * Option CH of getopt_long, with ARG: 1 if it is a shared one and was
 * taken, 0 if it is not one of them (-h and -V are the program's), -1 if
 * ARG is bad, with "bad port: ARG" or the like in ERR.
 */
int	afk_option(struct afk_options *o, int ch, const char *arg, char *err,
	    size_t errlen);

/* Where the daemon makes its local socket by default. */
#define AFK_LOCAL_SOCKET	"/run/matt_daemon/matt_daemon.sock"

/*
 * The local socket to use: -S's, or with no server named (no -H, -p, -u,
 * -i, --tls) the default one when there is a socket there; NULL: TCP.
 */
const char *afk_local_socket(const struct afk_options *o);

/* Who logs in when no -u is given: $USER, else our passwd entry; or NULL. */
const char *afk_login_name(void);

/*
 * The password of --password-file (its first line) or $BEN_AFK_PASSWORD
 * into BUF: 1 if there is one, 0 if neither is given (ask for it), -1 if
 * the file cannot be read (errno set).
 */
int	afk_given_password(const struct afk_options *o, char *buf,
	    size_t size);

#endif

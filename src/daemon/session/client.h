/* A connected client: TLS or plain, reading, framing, logging its lines. */
#ifndef CLIENT_H
#define CLIENT_H

#include <netinet/in.h>
#include <sys/types.h>
#include <time.h>

#include <stdint.h>

#include "common/framer.h"
#include "daemon/session/auth.h"
#include "daemon/session/auth_check.h"
#include "daemon/config.h"
#include "daemon/loop.h"
#include "daemon/metrics/metrics.h"
#include "tintin/tintin.h"

struct client;
struct shell;
struct tls_conn;

/*
 * What the layers above the sessions do with them: commands and the
 * shell's terminal.  daemon.c fills it in; the sessions call nothing
 * above themselves but through it.
 */
struct session_ops {
	/* A line that may be a command: 1 if it was one (run), else 0. */
	int	(*command)(struct client *, const char *, size_t);
	/* A login attempt held for its turn is due: check it now. */
	void	(*due)(struct client *);
	/* The session ends: stop what runs for it (login check, shell). */
	void	(*closing)(struct client *);
	/* Between loop turns: free what was stopped for it. */
	void	(*release)(struct client *);
	/* Bytes for the terminal of c->shell (a plain /shell session). */
	void	(*term_input)(struct client *, const char *, size_t);
	/* A frame for it ('d' bytes, 'w' size) from a /mux session. */
	int	(*term_frame)(struct client *, int, const unsigned char *,
		    size_t);
	/* 1 while input waits for the terminal to take it. */
	int	(*term_held)(const struct client *);
	/* The client took its output: read the terminal again. */
	void	(*term_drained)(struct client *);
	/* Stop the terminal (a /mux session goes on without it). */
	void	(*term_stop)(struct client *);
};

/*
 * Every client session and what they share: the narrow context the
 * session layer gets instead of the whole daemon.
 */
struct sessions {
	struct config	*cfg;
	Tintin_reporter	*log;
	struct loop	*loop;
	const struct session_ops *ops;

	struct client	*clients;
	int		 nclients;
	int		 follow_sink;	/* callback sink feeding /follow */
	int		 nfollowers;

	char		*scratch;	/* escaped record being built */
	size_t		 scratch_size;

	int		 stopping;	/* quit: no more input taken */
	struct metrics	*m;		/* the counters they keep */
	/* More of /status (the forward target's state) into BUF, or NULL. */
	void		(*status_more)(void *arg, char *buf, size_t size);
	void		*status_arg;
};

/* Stop the daemon at the end of this loop turn (quit). */
void		 sessions_stop(struct sessions *s);

/* Room for "[v6]:port" and "local:uid=N(NAME),pid=N" (NAME cut at 20). */
#define CLIENT_ADDR_MAX	(INET6_ADDRSTRLEN + 16)

/* Who is at the other end of the unix socket, as the kernel says. */
struct client_peer {
	uid_t		 uid;
	int		 role;		/* enum auth_role */
	char		 name[AUTH_NAME_MAX];
};

/* How a client follows the log (/follow, /follow live). */
enum client_follow {
	FOLLOW_OFF = 0,
	FOLLOW_PLAIN,		/* records only; any line ends it */
	FOLLOW_LIVE		/* "* RECORD" lines beside a normal session */
};

enum client_state {
	CLIENT_DETECT = 0,	/* waiting for the first byte: TLS or not */
	CLIENT_HANDSHAKE,	/* TLS handshake in progress */
	CLIENT_OPEN		/* lines flow */
};

struct client {
	struct loop_io	 io;
	struct sessions	*d;
	char		 addr[CLIENT_ADDR_MAX];	/* "ip:port", "local:uid=..." */
	char		 ip[INET6_ADDRSTRLEN + 2];	/* for the guard */
	int		 local;		/* on the unix socket, see peer */
	uid_t		 uid;		/* its peer's uid, when local */
	int		 state;
	struct tls_conn	*tls;		/* NULL on a plain session */
	int		 want_write;	/* TLS needs the socket writable */
	struct framer	 fr;
	time_t		 last_active;	/* monotonic seconds */
	int		 dead;		/* closed, freed before sleeping */
	char		*stash;		/* input read while paused */
	size_t		 stashlen;
	char		*out;		/* replies the socket did not take */
	size_t		 outlen;
	size_t		 outcap;
	int		 closing;	/* close once the output is sent */
	int		 following;	/* enum client_follow: gets records */
	int		 in_command;	/* a reply being written: records wait */
	char		*held_records;	/* records that came meanwhile */
	size_t		 held_len;
	time_t		 since;		/* connected at (wall clock) */
	struct shell	*shell;		/* /shell session, or NULL */
	struct shell	*shell_gone;	/* stopped: freed before sleeping */
	int		 mux;		/* /mux: frames both ways */
	unsigned char	 mux_hdr[4];	/* the frame being read: its header */
	size_t		 mux_hlen;
	size_t		 mux_left;	/* its payload bytes still to come */
	unsigned char	 mux_win[4];	/* a 'w' payload being read */

	/* Authentication. */
	char		 user[AUTH_NAME_MAX];
	int		 role;		/* enum auth_role */
	int		 redact_next;	/* line after a failed /auth */
	struct auth_net	 net;		/* source network, for the guard */
	time_t		 born;		/* connected at (monotonic) */
	unsigned	 auth_fails;	/* failed logins on this connection */
	unsigned	 refusals;	/* lines and commands refused before
					 * a login (client_refused()) */
	int		 attempting;	/* a login attempt is under way */
	time_t		 hold_until;	/* attempt held: not reading */
	int		 held_key;	/* the held attempt: key, or password */
	int		 held_clean;	/* from a network without failures */
	char		*held_secret;	/* its password (wiped when done) */
	char		 held_user[AUTH_NAME_MAX];	/* its name */
	struct auth_check check;	/* its password's check */

	struct client	*next;
};

/*
 * Adopt connected socket FD from ADDR; logs the connection.  PEER: the
 * identity of a local (unix socket) client, which never uses TLS; NULL
 * for TCP.  NULL on error.
 */
struct client	*client_new(struct sessions *d, int fd, const char *addr,
		    const struct client_peer *peer);

/*
 * Close C now and log why (REASON NULL for a plain disconnection); its
 * memory is released by client_reap().
 */
void		 client_close(struct client *c, const char *reason);

/*
 * Send reply line MSG (with its newline) to C without blocking; what the
 * socket does not take waits in a small buffer.  A client whose buffer
 * overflows is not reading its replies and is closed.  0 or -1.
 */
int		 client_reply(struct client *c, const char *msg);

/*
 * Queue HDR then DATA (either may be empty) for C without the reply-line
 * limit (shell frames, followed records), up to CLIENT_RAW_MAX bytes
 * waiting; beyond that the client is closed.  0 or -1.
 */
#define CLIENT_RAW_MAX	(256 * 1024)
int		 client_send_raw(struct client *c, const void *hdr,
		    size_t hlen, const void *data, size_t len);

/* Bytes C's output buffer can still take. */
size_t		 client_room(const struct client *c);

/*
 * Queue LEN bytes of DATA for a multiplexed C as frames of TYPE (4096
 * bytes at most each), up to LIMIT bytes waiting, all or none; beyond
 * LIMIT C is closed.  0 or -1.
 */
int		 client_send_frames(struct client *c, int type,
		    const void *data, size_t len, size_t limit);

/* Close C with REASON once everything queued for it is sent. */
void		 client_close_when_sent(struct client *c, const char *reason);

/*
 * Set how C follows the log: FOLLOW_OFF, FOLLOW_PLAIN (/follow) or
 * FOLLOW_LIVE (/follow live: each record as "* RECORD").
 */
void		 client_follow(struct client *c, int mode);

/* Records just written to the log: to every follower. */
void		 client_follow_records(struct sessions *d, const char *records,
		    size_t len);

/*
 * Hold C's login attempt for SECONDS, reading nothing from C meanwhile;
 * then command_auth_due() goes on with it.
 */
void		 client_hold(struct client *c, unsigned seconds);

/*
 * The client that may be closed to make room for a newcomer from network
 * NET (auth required, slots full), among those not logged in and
 * not in the middle of a login (a check under way, or a wait for its
 * turn from a network without failures): the oldest of those from
 * another network that has two or more of them, however young; else the
 * oldest connected for a few seconds at least.  NULL if none.
 */
struct client	*client_displaceable(struct sessions *d,
		    const struct auth_net *net);

/*
 * With auth required, a client that has not logged in may have this many
 * lines and commands refused (each one logged); the last one closes it.
 */
#define CLIENT_REFUSALS_MAX	10

/*
 * A line or a command of C was refused and logged: counted while C has
 * not logged in (auth required), and the CLIENT_REFUSALS_MAXth closes C,
 * so that a client without a login cannot fill the log.  Returns 1 when
 * C is closed.
 */
int		 client_refused(struct client *c);

/*
 * May C log in with ROLE?  With auth required, past max_clients sessions
 * logged in, the admin slots ([auth] admin_slots) are an admin's only.
 */
int		 client_login_fits(const struct client *c, int role);

/* The source network of ADDR ("ip:port"), all zero for a local client. */
void		 client_net_of(const struct sessions *d, const char *addr,
		    struct auth_net *net);

/* Stop reading C's input for now (a check or a delay is pending). */
void		 client_pause(struct client *c);

/* Read C's input again, starting with what is already buffered (the
 * stash, and what TLS holds decrypted). */
void		 client_resume(struct client *c);

/* Free the clients closed during this loop turn. */
void		 client_reap(struct sessions *d);

/* Close every client (shutdown), without logging each one. */
void		 client_close_all(struct sessions *d);

/* Once a second: idle timeouts and delayed replies. */
void		 client_tick(struct sessions *d);

#endif /* CLIENT_H */

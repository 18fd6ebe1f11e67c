/* Ben_AFK core: connection, TLS, server pinning and protocol, shared by the
 * terminal and graphical clients.  Nothing here prints or exits: every
 * function hands back an error text for its caller to show. */
#ifndef AFK_H
#define AFK_H

#include <stddef.h>
#include <sys/types.h>

/* Exit statuses of the clients (documented in Ben_AFK(1)). */
#define AFK_EXIT_OK		0	/* every line confirmed, or clean end */
#define AFK_EXIT_ERROR		1	/* connection lost, I/O, -ERR to a line */
#define AFK_EXIT_USAGE		2	/* bad command line */
#define AFK_EXIT_CONNECT	3	/* refused, unknown host, timeout, full */
#define AFK_EXIT_TLS		4	/* TLS failure, server identity refused */
#define AFK_EXIT_AUTH		5	/* authentication refused or required */

#define AFK_ERRLEN		512
#define AFK_FPLEN		96	/* 32 hex pairs, 31 colons, NUL */
#define AFK_LINE_MAX		8192	/* longest reply line kept */

/* ---- tls.c: the only file that uses OpenSSL ---------------------------- */

struct tls;

/*
 * Run a TLS 1.2+ client handshake on the connected socket FD (non-blocking)
 * within TIMEOUT_MS.  With KEYFILE (a PEM private key) a self-signed
 * certificate made from it is presented.  No CA check: the caller pins the
 * server with tls_fingerprint().  Returns NULL with ERR set on failure.
 */
struct tls	*tls_connect(int fd, const char *servername, const char *keyfile,
		    int timeout_ms, char *err, size_t errlen);

/* The server certificate's SHA-256 fingerprint in FP; returns 0 or -1. */
int		 tls_fingerprint(struct tls *t, char fp[AFK_FPLEN]);

/* Protocol version and cipher, for messages ("TLSv1.3 TLS_AES..."). */
const char	*tls_version(struct tls *t);

/* Read up to LEN bytes: >0 bytes, 0 end of stream, -1 error, -2 retry. */
ssize_t		 tls_read(struct tls *t, void *buf, size_t len);

/* Write up to LEN bytes: >0 bytes written, -1 error, -2 retry. */
ssize_t		 tls_write(struct tls *t, const void *buf, size_t len);

/* The poll events tls_write() waits for after -2 (POLLOUT by default). */
short		 tls_wants(struct tls *t);

/* Decrypted bytes buffered and not read yet. */
int		 tls_pending(struct tls *t);

/* The last error text of tls_read()/tls_write(). */
const char	*tls_error(struct tls *t);

/* Send close_notify (best effort) and free; the socket stays open. */
void		 tls_free(struct tls *t);

/*
 * Write a new EC P-256 private key to PATH (PEM, mode 0600, never over an
 * existing file) and its public key to PATH.pub (PEM SubjectPublicKeyInfo);
 * the key's SHA-256 fingerprint goes to FP.  Returns 0 or -1 with ERR set.
 */
int		 tls_keygen(const char *path, char fp[AFK_FPLEN], char *err,
		    size_t errlen);

/* ---- conn.c: one session with the daemon, plain or TLS ------------------ */

struct conn {
	int		 fd;
	struct tls	*tls;
	int		 local;			/* on the daemon's unix socket */
	int		 eof;			/* the daemon closed */
	size_t		 len;			/* bytes in buf */
	char		 buf[AFK_LINE_MAX];
	char		 err[AFK_ERRLEN];	/* last error text */
};

/* Connect to HOST:PORT within TIMEOUT_MS; returns 0 or -1 with c->err set
 * ("connection refused", "host not found", "timed out"...). */
int		 conn_open(struct conn *c, const char *host, const char *port,
		    int timeout_ms);

/* Connect to the daemon's local unix socket PATH within TIMEOUT_MS (the
 * kernel tells the daemon who we are: no TLS, no password); 0 or -1 with
 * c->err set ("Permission denied" when not in the socket's group...). */
int		 conn_open_local(struct conn *c, const char *path,
		    int timeout_ms);

/* Switch the session to TLS (see tls_connect); returns 0 or -1. */
int		 conn_start_tls(struct conn *c, const char *host,
		    const char *keyfile, int timeout_ms);

/* Write some of LEN bytes without blocking: bytes written, -2 retry later
 * (wait for conn_events()), -1 error. */
ssize_t		 conn_write_some(struct conn *c, const void *buf, size_t len);

/* Write all LEN bytes within TIMEOUT_MS; returns 0 or -1. */
int		 conn_write(struct conn *c, const void *buf, size_t len,
		    int timeout_ms);

/* Poll events to wait for before conn_write_some() may progress. */
short		 conn_events(struct conn *c);

/* Read what is available into the buffer: 1 got bytes, 0 nothing yet,
 * -1 error or end of stream (c->eof set on a clean end). */
int		 conn_fill(struct conn *c);

/* Take one complete line (without \r\n) out of the buffer into LINE;
 * returns 1, or 0 when no complete line is buffered.  A line longer than
 * the buffer is returned in pieces. */
int		 conn_line(struct conn *c, char *line, size_t size);

/* Wait up to TIMEOUT_MS for one line: 1, 0 on timeout, -1 error/EOF. */
int		 conn_read_line(struct conn *c, char *line, size_t size,
		    int timeout_ms);

/* Bytes may be readable without polling (TLS buffers). */
int		 conn_pending(struct conn *c);

void		 conn_close(struct conn *c);

/* ---- proto.c: the protocol of docs/PROTOCOL.md -------------------------- */

enum proto_reply {
	PROTO_NONE,		/* not a reply line */
	PROTO_OK,
	PROTO_ERR,		/* any other -ERR */
	PROTO_ERR_CLIENTS,	/* too many clients */
	PROTO_ERR_TLS_REQUIRED,
	PROTO_ERR_AUTH_REQUIRED,
	PROTO_ERR_AUTH_FAILED,
	PROTO_ERR_LOCKED,
	PROTO_ERR_NEEDS_TLS,	/* password over plain refused */
	PROTO_ERR_AUTH_OFF,
	PROTO_ERR_PERMISSION,
	PROTO_ERR_IDLE,
};

/* What kind of reply LINE is. */
enum proto_reply proto_classify(const char *line);

/* The exit status a client should end with after reply KIND. */
int		 proto_exit_status(enum proto_reply kind);

/* A sentence explaining reply KIND to a user, or NULL. */
const char	*proto_hint(enum proto_reply kind);

/* Send LINE followed by \n within TIMEOUT_MS; returns 0 or -1. */
int		 proto_send(struct conn *c, const char *line, int timeout_ms);

/*
 * Send "/auth password USER PASS" (PASS may hold spaces, never \n) or,
 * with PASS NULL, "/auth key USER", and wait for the reply into REPLY.
 * Returns its kind, or PROTO_NONE with c->err set.  The request buffer is
 * wiped before returning.
 */
enum proto_reply proto_auth(struct conn *c, const char *user,
		    const char *pass, char *reply, size_t size,
		    int timeout_ms);

/* ---- known_hosts.c: trust on first use of server fingerprints ----------- */

enum known_hosts_status {
	KNOWN_HOSTS_ERROR = -1,
	KNOWN_HOSTS_MATCH,		/* a line pins this very fingerprint */
	KNOWN_HOSTS_UNKNOWN,		/* no line for this host */
	KNOWN_HOSTS_CHANGED,		/* lines for this host, none matches */
};

/* PATH = $HOME/.config/ben_afk/NAME; returns 0 or -1 (no HOME, too long). */
int		 known_hosts_default(char *path, size_t size, const char *name);

/* The known_hosts key of HOST and PORT: "host:port", "[v6]:port". */
int		 known_hosts_key(char *key, size_t size, const char *host,
		    const char *port);

/* DIGEST (LEN bytes) as uppercase hex pairs joined by ':' into FP. */
int		 known_hosts_format(char *fp, size_t size,
		    const unsigned char *digest, size_t len);

/* Whether FP looks like a SHA-256 fingerprint in that form. */
int		 known_hosts_valid(const char *fp);

/*
 * Look KEY up in the file PATH (missing file: unknown).  On CHANGED, OLD
 * gets the pinned fingerprint and *LINENO its line number.
 */
enum known_hosts_status known_hosts_check(const char *path, const char *key,
		    const char *fp, char old[AFK_FPLEN], int *lineno);

/* Append "KEY FP" to PATH, creating its directory (0700) and the file
 * (0600) if needed; returns 0 or -1 with errno set. */
int		 known_hosts_add(const char *path, const char *key,
		    const char *fp);

/* Create the directories leading to PATH with mode 0700; 0 or -1. */
int		 known_hosts_mkdirs(const char *path);

#endif /* AFK_H */

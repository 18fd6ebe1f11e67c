/* TLS for the daemon: the only module that uses OpenSSL. */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_conn;

#define TLS_FP_LEN	96	/* "AB:CD:..." of a SHA-256, with NUL */

/*
 * Make sure CERT and KEY exist: when both are missing, create an EC P-256
 * key (mode 0600) and a self-signed certificate for it (their directory
 * is created).  0, or -1 with a message in ERR.
 */
int	tls_ensure_files(const char *cert, const char *key, char *err,
	    size_t errlen);

/*
 * Load CERT and KEY into the server context: TLS 1.2 at least, client
 * certificates requested but optional.  0, or -1 with a message in ERR.
 */
int	tls_init(const char *cert, const char *key, char *err, size_t errlen);

/* SHA-256 fingerprint of the certificate in file CERT; 0 or -1. */
int	tls_fingerprint(const char *cert, char *out, size_t outlen);

/* A server-side TLS session on connected socket FD, or NULL. */
struct tls_conn	*tls_new(int fd);
void		 tls_free(struct tls_conn *t);

/*
 * Advance the handshake: 1 done, 0 in progress (*WANT_WRITE tells if it
 * waits to write), -1 failed with a reason in ERR.
 */
int	tls_handshake(struct tls_conn *t, int *want_write, char *err,
	    size_t errlen);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384" of an established session. */
void	tls_describe(struct tls_conn *t, char *out, size_t outlen);

/*
 * Read or write like recv/send: >0 bytes, 0 end of stream (read), -1 with
 * errno EAGAIN (try again when readable, or writable if *WANT_WRITE) or
 * another error.
 */
ssize_t	tls_read(struct tls_conn *t, void *buf, size_t n, int *want_write);
ssize_t	tls_write(struct tls_conn *t, const void *buf, size_t n,
	    int *want_write);

/* Bytes already decrypted and waiting in OpenSSL's buffers. */
size_t	tls_pending(struct tls_conn *t);

/*
 * Base64 of the DER SubjectPublicKeyInfo of the client's certificate,
 * or -1 if it presented none.
 */
int	tls_peer_key(struct tls_conn *t, char *out, size_t outlen);

/*
 * Base64 of the DER SubjectPublicKeyInfo in PEM file PATH (a public key
 * or a certificate); 0, or -1 with a message in ERR.
 */
int	tls_file_key(const char *path, char *out, size_t outlen, char *err,
	    size_t errlen);

/* The TLS library and its version, "OpenSSL 3.0.15" (static storage). */
const char	*tls_library(void);

#endif /* TLS_H */

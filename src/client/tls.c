/* The client side of TLS, and key generation: the only client file that
 * uses OpenSSL. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "client/afk.h"

/* Bytes of the server's first reply kept to explain a failed handshake:
 * a full daemon answers "-ERR too many clients" in plain text. */
#define TLS_PEEK	128

struct tls {
	SSL_CTX		*ctx;
	SSL		*ssl;
	short		 wants;		/* what the last tls_write waits for */
	char		 version[96];
	char		 err[AFK_ERRLEN];
};

struct peek {
	size_t		 len;
	char		 buf[TLS_PEEK];
};

static int	peek_index = -1;

/* The OpenSSL error queue (or FALLBACK) as one line into ERR. */
static void
ssl_error(char *err, size_t errlen, const char *what, const char *fallback)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		/* "error:0A00010B:SSL routines::wrong version number": keep the
		 * reason, after the last colon. */
		const char *r = strrchr(buf, ':');
		snprintf(err, errlen, "%s: %s", what, r ? r + 1 : buf);
	} else
		snprintf(err, errlen, "%s: %s", what, fallback);
	ERR_clear_error();
}

static long
peek_callback(BIO *b, int oper, const char *argp, size_t len, int argi,
    long argl, int ret, size_t *processed)
{
	struct peek *p = BIO_get_ex_data(b, peek_index);
	size_t n;

	(void)len;
	(void)argi;
	(void)argl;
	if (p == NULL || oper != (BIO_CB_READ | BIO_CB_RETURN) || ret <= 0 ||
	    processed == NULL)
		return ret;
	n = *processed;
	if (n > sizeof(p->buf) - p->len)
		n = sizeof(p->buf) - p->len;
	memcpy(p->buf + p->len, argp, n);
	p->len += n;
	return ret;
}

/* An in-memory self-signed certificate for KEY, valid for a day. */
static X509 *
self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char serial[8];
	BIGNUM *bn = NULL;
	int ok = 0;

	if (x == NULL)
		return NULL;
	if (getentropy(serial, sizeof(serial)) == -1)
		goto out;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (!X509_set_version(x, 2) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    !X509_set_pubkey(x, key))
		goto out;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Ben_AFK", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Refuse to prompt for a pass phrase: keys made by --keygen have none. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
use_key(SSL_CTX *ctx, const char *keyfile, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	FILE *fh;
	int rc = -1;

	if ((fh = fopen(keyfile, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", keyfile, strerror(errno));
		return -1;
	}
	key = PEM_read_PrivateKey(fh, NULL, no_passphrase, NULL);
	fclose(fh);
	if (key == NULL) {
		ssl_error(err, errlen, keyfile,
		    "not a PEM private key without pass phrase");
		return -1;
	}
	if ((cert = self_signed(key)) == NULL) {
		ssl_error(err, errlen, keyfile, "cannot make a certificate");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_error(err, errlen, keyfile, "unusable key");
		goto out;
	}
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

static int
wait_fd(int fd, short events, struct timespec *deadline)
{
	struct timespec now;
	struct pollfd pfd = { .fd = fd, .events = events };
	long ms;
	int n;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (deadline->tv_sec - now.tv_sec) * 1000 +
		    (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return 0;
		n = poll(&pfd, 1, (int)ms);
		if (n == -1 && errno == EINTR)
			continue;
		return n;
	}
}

/* Complete the plain text line started in P from FD (briefly). */
static void
rest_of_line(int fd, struct peek *p)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (p->len < sizeof(p->buf) - 1 &&
	    memchr(p->buf, '\n', p->len) == NULL) {
		if (poll(&pfd, 1, 500) != 1)
			return;
		n = recv(fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len, 0);
		if (n <= 0)
			return;
		p->len += (size_t)n;
	}
}

/* Why the handshake failed, as clearly as we can tell. */
static void
handshake_error(struct tls *t, int fd, struct peek *p, int rc, char *err,
    size_t errlen)
{
	int e = SSL_get_error(t->ssl, rc);
	char *nl;

	if (p->len >= 4 && memcmp(p->buf, "-ERR", 4) == 0) {
		/* The daemon refused us in plain text before any TLS.  OpenSSL
		 * read only a record header's worth: fetch the line's end. */
		rest_of_line(fd, p);
		p->buf[p->len < sizeof(p->buf) ? p->len : sizeof(p->buf) - 1] =
		    '\0';
		if ((nl = strpbrk(p->buf, "\r\n")) != NULL)
			*nl = '\0';
		snprintf(err, errlen, "%s", p->buf);
		ERR_clear_error();
		return;
	}
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		if (rc == 0 || errno == 0 || errno == ECONNRESET ||
		    errno == EPIPE)
			snprintf(err, errlen, "TLS handshake failed: the "
			    "server closed the connection");
		else
			snprintf(err, errlen, "TLS handshake failed: %s",
			    strerror(errno));
		return;
	}
	ssl_error(err, errlen, "TLS handshake failed", "unknown error");
}

/* Drive SSL_connect on the non-blocking FD until done or TIMEOUT_MS. */
static int
handshake(struct tls *t, int fd, struct peek *p, int timeout_ms, char *err,
    size_t errlen)
{
	struct timespec deadline;
	int rc, e, n;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	for (;;) {
		errno = 0;
		rc = SSL_connect(t->ssl);
		if (rc == 1)
			break;
		e = SSL_get_error(t->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			handshake_error(t, fd, p, rc, err, errlen);
			return -1;
		}
		n = wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
		    &deadline);
		if (n == 0) {
			snprintf(err, errlen, "TLS handshake timed out (does "
			    "the server have TLS on?)");
			return -1;
		}
		if (n == -1) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct tls *
tls_connect(int fd, const char *servername, const char *keyfile,
    int timeout_ms, char *err, size_t errlen)
{
	struct tls *t;
	struct peek p = { 0 };
	BIO *bio;

	if (peek_index == -1)
		peek_index = BIO_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ERR_clear_error();
	if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION)) {
		ssl_error(err, errlen, "TLS", "cannot set up");
		goto fail;
	}
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* No CA: the server certificate is self-signed and pinned. */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	if (keyfile != NULL && use_key(t->ctx, keyfile, err, errlen) == -1)
		goto fail;
	if ((t->ssl = SSL_new(t->ctx)) == NULL ||
	    (bio = BIO_new_socket(fd, BIO_NOCLOSE)) == NULL) {
		ssl_error(err, errlen, "TLS", "cannot set up");
		goto fail;
	}
	BIO_set_ex_data(bio, peek_index, &p);
	BIO_set_callback_ex(bio, peek_callback);
	SSL_set_bio(t->ssl, bio, bio);
	if (servername != NULL && strspn(servername, "0123456789.:") !=
	    strlen(servername))
		SSL_set_tlsext_host_name(t->ssl, servername);

	if (handshake(t, fd, &p, timeout_ms, err, errlen) == -1)
		goto fail;
	/* The peek buffer lives on this stack frame only. */
	BIO_set_callback_ex(SSL_get_rbio(t->ssl), NULL);
	BIO_set_ex_data(SSL_get_rbio(t->ssl), peek_index, NULL);
	snprintf(t->version, sizeof(t->version), "%s %s",
	    SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
	return t;
fail:
	if (t->ssl != NULL) {
		BIO_set_callback_ex(SSL_get_rbio(t->ssl), NULL);
		BIO_set_ex_data(SSL_get_rbio(t->ssl), peek_index, NULL);
	}
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
	return NULL;
}

int
tls_fingerprint(struct tls *t, char fp[AFK_FPLEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	X509 *cert;
	int rc;

	if ((cert = SSL_get1_peer_certificate(t->ssl)) == NULL)
		return -1;
	rc = X509_digest(cert, EVP_sha256(), md, &len);
	X509_free(cert);
	if (rc != 1)
		return -1;
	return known_hosts_format(fp, AFK_FPLEN, md, len);
}

const char *
tls_version(struct tls *t)
{
	return t->version;
}

/* Map an SSL_read/SSL_write result to our convention. */
static ssize_t
io_result(struct tls *t, int rc, const char *what, short *wants)
{
	int e = SSL_get_error(t->ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*wants = POLLIN;
		return -2;
	case SSL_ERROR_WANT_WRITE:
		*wants = POLLOUT;
		return -2;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (errno == 0)	/* EOF without close_notify */
				return 0;
			snprintf(t->err, sizeof(t->err), "%s: %s", what,
			    strerror(errno));
			return -1;
		}
		/* FALLTHROUGH */
	default:
		ssl_error(t->err, sizeof(t->err), what, "TLS error");
		return -1;
	}
}

ssize_t
tls_read(struct tls *t, void *buf, size_t len)
{
	size_t n = 0;
	short wants;
	int rc;

	errno = 0;
	rc = SSL_read_ex(t->ssl, buf, len, &n);
	if (rc == 1)
		return (ssize_t)n;
	return io_result(t, rc, "TLS read", &wants);
}

ssize_t
tls_write(struct tls *t, const void *buf, size_t len)
{
	size_t n = 0;
	int rc;

	errno = 0;
	rc = SSL_write_ex(t->ssl, buf, len, &n);
	if (rc == 1) {
		t->wants = 0;
		return (ssize_t)n;
	}
	return io_result(t, rc, "TLS write", &t->wants);
}

short
tls_wants(struct tls *t)
{
	return t->wants ? t->wants : POLLOUT;
}

int
tls_pending(struct tls *t)
{
	return SSL_pending(t->ssl) > 0;
}

const char *
tls_error(struct tls *t)
{
	return t->err;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	free(t);
}

/* Write the PEM of KEY (private or public) to PATH, created with MODE. */
static int
write_pem(const char *path, EVP_PKEY *key, int private, mode_t mode,
    char *err, size_t errlen)
{
	FILE *fh;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    mode);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((fh = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (private)
		ok = PEM_write_PrivateKey(fh, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_PUBKEY(fh, key);
	if (fclose(fh) != 0 || !ok) {
		ssl_error(err, errlen, path, strerror(errno ? errno : EIO));
		(void)unlink(path);
		return -1;
	}
	return 0;
}

int
tls_keygen(const char *path, char fp[AFK_FPLEN], char *err, size_t errlen)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char pub[4096];
	EVP_PKEY *key;
	int n, derlen, rc = -1;

	n = snprintf(pub, sizeof(pub), "%s.pub", path);
	if (n < 0 || (size_t)n >= sizeof(pub)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -1;
	}
	if (access(pub, F_OK) == 0) {
		snprintf(err, errlen, "%s: already exists", pub);
		return -1;
	}
	if ((key = EVP_EC_gen("P-256")) == NULL) {
		ssl_error(err, errlen, "key generation", "failed");
		return -1;
	}
	if (write_pem(path, key, 1, 0600, err, errlen) == -1)
		goto out;
	if (write_pem(pub, key, 0, 0644, err, errlen) == -1) {
		(void)unlink(path);
		goto out;
	}
	derlen = i2d_PUBKEY(key, &der);
	if (derlen <= 0 || !EVP_Digest(der, (size_t)derlen, md, &mdlen,
	    EVP_sha256(), NULL) ||
	    known_hosts_format(fp, AFK_FPLEN, md, mdlen) == -1)
		snprintf(fp, AFK_FPLEN, "?");
	rc = 0;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	return rc;
}

/*
 * TLS: server context, self-signed certificate on first start, sessions
 * on non-blocking sockets, and public keys for key authentication.
 * OpenSSL is used here and nowhere else in the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/mkdirs.h"
#include "daemon/session/tls.h"

static SSL_CTX *ctx;

static void
ssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

/* fopen for writing a new file with MODE, never through a link. */
static FILE *
create_file(const char *path, mode_t mode)
{
	FILE *fp;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return NULL;
	(void)fchmod(fd, mode);
	if ((fp = fdopen(fd, "w")) == NULL)
		close(fd);
	return fp;
}

static X509 *
self_signed(EVP_PKEY *pk)
{
	unsigned char serial[16];
	char host[256];
	X509_NAME *name;
	BIGNUM *bn;
	X509 *x;

	if ((x = X509_new()) == NULL)
		return NULL;
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || !X509_set_version(x, 2) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400) ==
	    NULL || !X509_set_pubkey(x, pk))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Matt_daemon", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)host, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_sign(x, pk, EVP_sha256()))
		goto fail;
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

int
tls_ensure_files(const char *cert, const char *key, char *err,
    size_t errlen)
{
	int have_cert = access(cert, F_OK) == 0;
	int have_key = access(key, F_OK) == 0;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	FILE *fp;
	int rc = -1;

	if (have_cert && have_key)
		return 0;
	if (have_cert || have_key) {
		snprintf(err, errlen, "%s exists but %s does not: give both or "
		    "neither", have_cert ? cert : key, have_cert ? key : cert);
		return -1;
	}
	(void)mkdirs_for(key, 0755);
	(void)mkdirs_for(cert, 0755);
	if ((pk = EVP_EC_gen("P-256")) == NULL) {
		ssl_error(err, errlen, "cannot create a key");
		return -1;
	}
	if ((x = self_signed(pk)) == NULL) {
		ssl_error(err, errlen, "cannot create a certificate");
		goto out;
	}
	if ((fp = create_file(key, 0600)) == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", key,
		    strerror(errno));
		goto out;
	}
	if (!PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL, NULL) ||
	    fclose(fp) != 0) {
		snprintf(err, errlen, "cannot write %s", key);
		(void)unlink(key);
		goto out;
	}
	if ((fp = create_file(cert, 0644)) == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", cert,
		    strerror(errno));
		(void)unlink(key);
		goto out;
	}
	if (!PEM_write_X509(fp, x) || fclose(fp) != 0) {
		snprintf(err, errlen, "cannot write %s", cert);
		(void)unlink(cert);
		(void)unlink(key);
		goto out;
	}
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}

/* Any client certificate will do: what it proves is checked by /auth key. */
static int
accept_any(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

int
tls_init(const char *cert, const char *key, char *err, size_t errlen)
{
	struct stat st;

	if (stat(key, &st) == 0 && (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s is readable by others (mode %03o): "
		    "chmod 600 it", key, st.st_mode & 0777);
		return -1;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ssl_error(err, errlen, "cannot create the TLS context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* A client that just closes (no close_notify) ends like plain TCP. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_error(err, errlen, cert);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_error(err, errlen, key);
		return -1;
	}
	return 0;
}

int
tls_fingerprint(const char *cert, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n, i;
	X509 *x;
	FILE *fp;

	if ((fp = fopen(cert, "re")) == NULL)
		return -1;
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (x == NULL || !X509_digest(x, EVP_sha256(), md, &n) ||
	    outlen < n * 3) {
		X509_free(x);
		return -1;
	}
	X509_free(x);
	for (i = 0; i < n; i++)
		snprintf(out + i * 3, outlen - i * 3, "%02X%s", md[i],
		    i + 1 < n ? ":" : "");
	return 0;
}

/*
 * A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own writes with
 * write(2), and a write to a peer that is gone would raise SIGPIPE, which
 * the daemon takes as an order to stop.
 */
static BIO_METHOD *nosig_method;

static int
nosig_write(BIO *b, const char *buf, int n)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t w;

	BIO_clear_retry_flags(b);
	w = send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)w;
}

static int
nosig_read(BIO *b, char *buf, int n)
{
	int fd = (int)(intptr_t)BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	r = recv(fd, buf, (size_t)n, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)r;
}

static long
nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
nosig_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO *
nosig_bio(int fd)
{
	BIO *b;

	if (nosig_method == NULL) {
		nosig_method = BIO_meth_new(BIO_get_new_index() |
		    BIO_TYPE_SOURCE_SINK, "matt_daemon socket");
		if (nosig_method == NULL ||
		    !BIO_meth_set_write(nosig_method, nosig_write) ||
		    !BIO_meth_set_read(nosig_method, nosig_read) ||
		    !BIO_meth_set_ctrl(nosig_method, nosig_ctrl) ||
		    !BIO_meth_set_create(nosig_method, nosig_create))
			return NULL;
	}
	if ((b = BIO_new(nosig_method)) == NULL)
		return NULL;
	BIO_set_data(b, (void *)(intptr_t)fd);
	return b;
}

struct tls_conn *
tls_new(int fd)
{
	SSL *ssl;
	BIO *b;

	if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL)
		return NULL;
	if ((b = nosig_bio(fd)) == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_bio(ssl, b, b);
	SSL_set_accept_state(ssl);
	return (struct tls_conn *)ssl;
}

void
tls_free(struct tls_conn *t)
{
	SSL *ssl = (SSL *)t;

	if (ssl == NULL)
		return;
	(void)SSL_shutdown(ssl);	/* best effort close_notify */
	SSL_free(ssl);
	ERR_clear_error();
}

int
tls_handshake(struct tls_conn *t, int *want_write, char *err, size_t errlen)
{
	SSL *ssl = (SSL *)t;
	int rc, e;

	*want_write = 0;
	ERR_clear_error();
	if ((rc = SSL_do_handshake(ssl)) == 1)
		return 1;
	e = SSL_get_error(ssl, rc);
	if (e == SSL_ERROR_WANT_READ)
		return 0;
	if (e == SSL_ERROR_WANT_WRITE) {
		*want_write = 1;
		return 0;
	}
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		snprintf(err, errlen, "%s", errno != 0 ? strerror(errno) :
		    "connection closed");
	else
		ssl_error(err, errlen, "handshake failed");
	return -1;
}

void
tls_describe(struct tls_conn *t, char *out, size_t outlen)
{
	SSL *ssl = (SSL *)t;

	snprintf(out, outlen, "%s %s", SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl));
}

static ssize_t
io_result(SSL *ssl, int rc, int *want_write)
{
	int e = SSL_get_error(ssl, rc);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		*want_write = 1;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && errno == 0)
			return 0;	/* closed without close_notify */
		if (errno == 0)
			errno = EPROTO;
		ERR_clear_error();
		return -1;
	default:
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

ssize_t
tls_read(struct tls_conn *t, void *buf, size_t n, int *want_write)
{
	SSL *ssl = (SSL *)t;
	size_t got = 0;
	int rc;

	*want_write = 0;
	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(ssl, buf, n, &got);
	if (rc == 1)
		return (ssize_t)got;
	return io_result(ssl, rc, want_write);
}

ssize_t
tls_write(struct tls_conn *t, const void *buf, size_t n, int *want_write)
{
	SSL *ssl = (SSL *)t;
	size_t put = 0;
	int rc;

	*want_write = 0;
	ERR_clear_error();
	errno = 0;
	rc = SSL_write_ex(ssl, buf, n, &put);
	if (rc == 1)
		return (ssize_t)put;
	return io_result(ssl, rc, want_write);
}

size_t
tls_pending(struct tls_conn *t)
{
	return (size_t)SSL_pending((SSL *)t);
}

static int
key_base64(EVP_PKEY *pk, char *out, size_t outlen)
{
	unsigned char *der = NULL;
	int n, m;

	if ((n = i2d_PUBKEY(pk, &der)) <= 0)
		return -1;
	if ((size_t)(4 * ((n + 2) / 3) + 1) > outlen) {
		OPENSSL_free(der);
		return -1;
	}
	m = EVP_EncodeBlock((unsigned char *)out, der, n);
	OPENSSL_free(der);
	return m > 0 ? 0 : -1;
}

int
tls_peer_key(struct tls_conn *t, char *out, size_t outlen)
{
	X509 *x = SSL_get1_peer_certificate((SSL *)t);
	EVP_PKEY *pk;
	int rc = -1;

	if (x == NULL)
		return -1;
	if ((pk = X509_get0_pubkey(x)) != NULL)
		rc = key_base64(pk, out, outlen);
	X509_free(x);
	return rc;
}

int
tls_file_key(const char *path, char *out, size_t outlen, char *err,
    size_t errlen)
{
	EVP_PKEY *pk;
	X509 *x;
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	pk = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	if (pk == NULL) {
		rewind(fp);
		ERR_clear_error();
		if ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
			pk = X509_get_pubkey(x);
			X509_free(x);
		}
	}
	fclose(fp);
	if (pk == NULL) {
		ssl_error(err, errlen, "no PEM public key or certificate");
		return -1;
	}
	rc = key_base64(pk, out, outlen);
	EVP_PKEY_free(pk);
	if (rc == -1)
		snprintf(err, errlen, "%s: key too large", path);
	return rc;
}

const char *
tls_library(void)
{
	static char name[64];

	if (name[0] == '\0')
		snprintf(name, sizeof(name), "OpenSSL %s",
		    OpenSSL_version(OPENSSL_VERSION_STRING));
	return name;
}

/*
 * The forwarder's connection to its collector: TCP, or TLS 1.2+ with the
 * collector's certificate checked against a CA file and/or a pinned
 * SHA-256 fingerprint, with an optional client certificate; or RELP
 * (librelp), whose collector acknowledges every message, over TLS when a
 * CA file or a fingerprint is given.  It runs in
 * the forwarder child, which may block; every wait is still bounded so
 * that the child answers its signals and reports.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <librelp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "daemon/forward/forward_int.h"

#define CONNECT_TIMEOUT	10000	/* ms */
#define WAIT_STEP	1000	/* ms: a blocked send looks at *quit */

struct fwd_net {
	const struct fwd_conf *c;
	char		 host[256];
	char		 port[8];
	char		 ident[PATH_MAX + 8];	/* RELP: a client certificate */
	int		 tls;
	int		 relp;
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	relpEngine_t	*eng;
	relpClt_t	*clt;
};

/* Split "HOST:PORT" or "[V6]:PORT" after the scheme; 0 or -1. */
static int
split_target(struct fwd_net *n, const char *s)
{
	const char *p, *colon;
	size_t hl;

	if (*s == '[') {
		if ((p = strchr(s, ']')) == NULL || p[1] != ':')
			return -1;
		s++;
		hl = (size_t)(p - s);
		colon = p + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(n->host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(n->port))
		return -1;
	memcpy(n->host, s, hl);
	n->host[hl] = '\0';
	snprintf(n->port, sizeof(n->port), "%s", colon + 1);
	return 0;
}

/* The OpenSSL error queue's first entry, or WHAT. */
static void
ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();

	if (e != 0)
		snprintf(err, errlen, "%s: %s", what, ERR_reason_error_string(e));
	else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

static int
tls_setup(struct fwd_net *n, char *err, size_t errlen)
{
	const struct fwd_conf *c = n->c;

	if ((n->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(n->ctx, TLS1_2_VERSION) != 1) {
		ssl_err(err, errlen, "TLS");
		return -1;
	}
	if (c->ca_file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(n->ctx, c->ca_file,
		    NULL) != 1) {
			ssl_err(err, errlen, "ca_file");
			return -1;
		}
		SSL_CTX_set_verify(n->ctx, SSL_VERIFY_PEER, NULL);
	}
	if (c->cert[0] != '\0' && (SSL_CTX_use_certificate_chain_file(n->ctx,
	    c->cert) != 1 || SSL_CTX_use_PrivateKey_file(n->ctx, c->key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(n->ctx) != 1)) {
		ssl_err(err, errlen, "client certificate");
		return -1;
	}
	return 0;
}

struct fwd_net *
fwd_net_new(const struct fwd_conf *c, char *err, size_t errlen)
{
	struct fwd_net *n;

	if ((n = calloc(1, sizeof(*n))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n->c = c;
	n->fd = -1;
	n->tls = strncmp(c->target, "tls://", 6) == 0;
	n->relp = strncmp(c->target, "relp://", 7) == 0;
	if (split_target(n, c->target + (n->relp ? 7 : 6)) == -1) {
		snprintf(err, errlen, "bad target");
		free(n);
		return NULL;
	}
	if (n->tls && tls_setup(n, err, errlen) == -1) {
		fwd_net_close(n);
		SSL_CTX_free(n->ctx);
		free(n);
		return NULL;
	}
	return n;
}

/* Wait for EVENTS on the socket, up to MS; 1 ready, 0 timeout, -1. */
static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { fd, events, 0 };
	int rc;

	while ((rc = poll(&p, 1, ms)) == -1 && errno == EINTR)
		return 0;
	if (rc > 0 && (p.revents & (POLLERR | POLLNVAL)) && !(p.revents &
	    events))
		return -1;
	return rc;
}

/* A TCP connection to one of the addresses, within the timeout. */
static int
tcp_connect(struct fwd_net *n, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	socklen_t sl = sizeof(int);
	int fd = -1, rc, soerr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(n->host, n->port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", n->host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && wait_fd(fd, POLLOUT,
		    CONNECT_TIMEOUT) > 0 && getsockopt(fd, SOL_SOCKET,
		    SO_ERROR, &soerr, &sl) == 0 && soerr == 0))
			break;
		snprintf(err, errlen, "%s", strerror(soerr ? soerr :
		    errno == EINPROGRESS ? ETIMEDOUT : errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	n->fd = fd;
	return fd == -1 ? -1 : 0;
}

/* The collector's certificate against the pinned SHA-256, if any. */
static int
check_pin(struct fwd_net *n, char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned len, i;
	X509 *peer;
	int ok;

	if (n->c->fingerprint[0] == '\0')
		return 0;
	if ((peer = SSL_get1_peer_certificate(n->ssl)) == NULL) {
		snprintf(err, errlen, "TLS: the collector sent no certificate");
		return -1;
	}
	ok = X509_digest(peer, EVP_sha256(), md, &len) == 1;
	X509_free(peer);
	for (i = 0; ok && i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (!ok || strcmp(hex, n->c->fingerprint) != 0) {
		snprintf(err, errlen, "TLS: the collector's certificate does "
		    "not match the pinned fingerprint");
		return -1;
	}
	return 0;
}

static int
tls_connect(struct fwd_net *n, char *err, size_t errlen)
{
	X509_VERIFY_PARAM *vp;
	int rc, e, i;

	if ((n->ssl = SSL_new(n->ctx)) == NULL ||
	    SSL_set_fd(n->ssl, n->fd) != 1) {
		ssl_err(err, errlen, "TLS");
		return -1;
	}
	vp = SSL_get0_param(n->ssl);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, n->host) != 1) {
		ERR_clear_error();
		(void)SSL_set_tlsext_host_name(n->ssl, n->host);
		(void)SSL_set1_host(n->ssl, n->host);
	}
	for (i = 0; i < CONNECT_TIMEOUT / WAIT_STEP; i++) {
		if ((rc = SSL_connect(n->ssl)) == 1)
			return check_pin(n, err, errlen);
		e = SSL_get_error(n->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			break;
		(void)wait_fd(n->fd, e == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, WAIT_STEP);
	}
	if (SSL_get_verify_result(n->ssl) != X509_V_OK)
		snprintf(err, errlen, "TLS: the collector's certificate: %s",
		    X509_verify_cert_error_string(
		    SSL_get_verify_result(n->ssl)));
	else
		ssl_err(err, errlen, "TLS handshake failed");
	return -1;
}

/*
 * What librelp reports, for the connection's only session: an error since
 * it was opened (an acknowledgement may be missing), and why the
 * collector's certificate was refused.
 */
static int	relp_failed;
static char	relp_auth[200];

static void
relp_on_err(void *usr, char *obj, char *msg, relpRetVal code)
{
	(void)usr;
	(void)obj;
	(void)msg;
	(void)code;
	relp_failed = 1;
}

static void
relp_on_auth_err(void *usr, char *info, char *msg, relpRetVal code)
{
	(void)usr;
	(void)info;
	(void)code;
	relp_failed = 1;
	snprintf(relp_auth, sizeof(relp_auth), "%s", msg);
}

/* "SHA256:AA:BB:...", librelp's way to write a pinned fingerprint. */
static void
relp_pin(const char *hex, char *out, size_t size)
{
	size_t i, n;

	n = (size_t)snprintf(out, size, "SHA256");
	for (i = 0; hex[i] != '\0' && hex[i + 1] != '\0' && n + 4 <= size;
	    i += 2)
		n += (size_t)snprintf(out + n, size - n, ":%c%c",
		    toupper((unsigned char)hex[i]),
		    toupper((unsigned char)hex[i + 1]));
}

/*
 * librelp's OpenSSL driver pins SHA-1 fingerprints only (and wants a
 * valid chain too); its GnuTLS one pins SHA-256, but checks nothing when
 * it has no certificate of its own.  Without a configured one, the
 * forwarder shows a throwaway self-signed certificate, made once into
 * STATE.id.pem (mode 0600); 0 or -1.
 */
static int
relp_identity(struct fwd_net *n)
{
	EVP_PKEY *key;
	X509 *x = NULL;
	FILE *fp = NULL;
	int fd = -1, ok = 0;

	snprintf(n->ident, sizeof(n->ident), "%s.id.pem", n->c->state_path);
	if (access(n->ident, R_OK) == 0)
		return 0;
	key = EVP_EC_gen("P-256");
	if (key != NULL && (x = X509_new()) != NULL &&
	    X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) != NULL &&
	    X509_set_pubkey(x, key) == 1 &&
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"Matt_daemon forwarder", -1,
	    -1, 0) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
	    X509_sign(x, key, EVP_sha256()) > 0 &&
	    (fd = open(n->ident, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) != -1 && (fp = fdopen(fd, "w")) != NULL)
		ok = PEM_write_X509(fp, x) == 1 && PEM_write_PrivateKey(fp,
		    key, NULL, NULL, 0, NULL, NULL) == 1;
	if (fp != NULL)
		ok = fclose(fp) == 0 && ok;
	else if (fd != -1)
		close(fd);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	if (!ok)
		(void)unlink(n->ident);
	return ok ? 0 : -1;
}

/*
 * librelp's TLS settings: the CA the certificate must chain to, or the
 * pinned fingerprint it must have (librelp takes one mode: the
 * configuration allows one of them), and the client certificate.
 */
static int
relp_tls(struct fwd_net *n)
{
	const struct fwd_conf *c = n->c;
	char pin[3 * EVP_MAX_MD_SIZE + 8];

	if (c->ca_file[0] == '\0' && c->fingerprint[0] == '\0')
		return 0;
	if (relpCltEnableTLS(n->clt) != RELP_RET_OK)
		return -1;
	if (c->ca_file[0] != '\0' && relpCltSetCACert(n->clt,
	    (char *)c->ca_file) != RELP_RET_OK)
		return -1;
	if (c->fingerprint[0] != '\0') {
		relp_pin(c->fingerprint, pin, sizeof(pin));
		if (relpCltSetAuthMode(n->clt, "fingerprint") != RELP_RET_OK ||
		    relpCltAddPermittedPeer(n->clt, pin) != RELP_RET_OK)
			return -1;
		if (c->cert[0] == '\0' && (relp_identity(n) == -1 ||
		    relpCltSetOwnCert(n->clt, n->ident) != RELP_RET_OK ||
		    relpCltSetPrivKey(n->clt, n->ident) != RELP_RET_OK))
			return -1;
	} else if (relpCltSetAuthMode(n->clt, "certvalid") != RELP_RET_OK)
		return -1;
	if (c->cert[0] != '\0' && (relpCltSetOwnCert(n->clt,
	    (char *)c->cert) != RELP_RET_OK || relpCltSetPrivKey(n->clt,
	    (char *)c->key) != RELP_RET_OK))
		return -1;
	return 0;
}

/* A RELP session: the collector acknowledges each message. */
static int
relp_connect(struct fwd_net *n, char *err, size_t errlen)
{
	const struct fwd_conf *c = n->c;
	relpRetVal rc;

	relp_failed = 0;
	relp_auth[0] = '\0';
	if (relpEngineConstruct(&n->eng) != RELP_RET_OK ||
	    relpEngineSetDbgprint(n->eng, NULL) != RELP_RET_OK ||
	    relpEngineSetOnErr(n->eng, relp_on_err) != RELP_RET_OK ||
	    relpEngineSetOnAuthErr(n->eng, relp_on_auth_err) != RELP_RET_OK ||
	    ((c->ca_file[0] != '\0' || c->fingerprint[0] != '\0') &&
	    relpEngineSetTLSLibByName(n->eng, c->fingerprint[0] != '\0' ?
	    "gnutls" : "openssl") != RELP_RET_OK) ||
	    relpEngineSetEnableCmd(n->eng, (unsigned char *)"syslog",
	    eRelpCmdState_Required) != RELP_RET_OK ||
	    relpEngineCltConstruct(n->eng, &n->clt) != RELP_RET_OK ||
	    relpCltSetTimeout(n->clt, CONNECT_TIMEOUT / 1000) != RELP_RET_OK ||
	    relpCltSetWindowSize(n->clt, FWD_RELP_WINDOW) != RELP_RET_OK ||
	    relp_tls(n) == -1) {
		snprintf(err, errlen, "RELP: cannot set up the client");
		return -1;
	}
	rc = relpCltConnect(n->clt, 0, (unsigned char *)n->port,
	    (unsigned char *)n->host);
	if (rc != RELP_RET_OK && relp_auth[0] != '\0') {
		snprintf(err, errlen, "RELP: the collector's certificate: %s",
		    relp_auth);
		return -1;
	}
	if (rc != RELP_RET_OK) {
		snprintf(err, errlen, "RELP: cannot open a session (error "
		    "%d)", (int)rc);
		return -1;
	}
	return 0;
}

/* The octet-counted frames of BUF, one RELP message each. */
static int
relp_send(struct fwd_net *n, const char *buf, size_t len, char *err,
    size_t errlen)
{
	const char *p = buf, *end = buf + len;
	unsigned long m;
	char *sp;
	relpRetVal rc;

	while (p < end) {
		m = strtoul(p, &sp, 10);
		if (*sp != ' ' || m > (size_t)(end - sp - 1))
			break;
		rc = relpCltSendSyslog(n->clt, (unsigned char *)sp + 1, m);
		if (rc != RELP_RET_OK) {
			snprintf(err, errlen, "RELP: send failed (error %d)",
			    (int)rc);
			return -1;
		}
		p = sp + 1 + m;
	}
	return 0;
}

int
fwd_net_connect(struct fwd_net *n, char *err, size_t errlen)
{
	int one = 1;

	fwd_net_close(n);
	if (n->relp) {
		if (relp_connect(n, err, errlen) == -1) {
			fwd_net_close(n);
			return -1;
		}
		return 0;
	}
	if (tcp_connect(n, err, errlen) == -1)
		return -1;
	(void)setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (n->tls && tls_connect(n, err, errlen) == -1) {
		fwd_net_close(n);
		return -1;
	}
	return 0;
}

int
fwd_net_send(struct fwd_net *n, const char *buf, size_t len,
    volatile int *quit, char *err, size_t errlen)
{
	ssize_t w;
	size_t done = 0;
	int e;

	if (n->relp)
		return relp_send(n, buf, len, err, errlen);
	while (done < len && !*quit) {
		if (n->tls) {
			w = SSL_write(n->ssl, buf + done, (int)(len - done));
			e = w > 0 ? 0 : SSL_get_error(n->ssl, (int)w);
			if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
				(void)wait_fd(n->fd, e == SSL_ERROR_WANT_READ ?
				    POLLIN : POLLOUT, WAIT_STEP);
				continue;
			}
			if (e != 0) {
				ssl_err(err, errlen, "TLS write failed");
				return -1;
			}
		} else if ((w = send(n->fd, buf + done, len - done,
		    MSG_NOSIGNAL)) == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				if (wait_fd(n->fd, POLLOUT, WAIT_STEP) == -1 ||
				    fwd_net_lost(n)) {
					snprintf(err, errlen, "connection "
					    "closed by the collector");
					return -1;
				}
				continue;
			}
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
		done += (size_t)w;
	}
	return done == len ? 0 : -1;
}

int
fwd_net_fd(const struct fwd_net *n)
{
	return n->fd;
}

/*
 * Has the collector closed the connection (1) or reset it (2, what its
 * socket held is gone)?  Looked at before every send: a write to a closed
 * connection would be accepted by the kernel and lost.  0: still up.
 */
int
fwd_net_lost(struct fwd_net *n)
{
	struct pollfd p = { n->fd, POLLIN | POLLRDHUP, 0 };
	socklen_t sl = sizeof(int);
	char junk[4096];
	int soerr = 0;
	ssize_t r;

	if (n->relp)
		return n->clt == NULL ? 2 : 0;	/* send tells */
	if (n->fd < 0)
		return 2;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (p.revents & (POLLERR | POLLNVAL) || (getsockopt(n->fd,
	    SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr != 0))
		return 2;
	if (p.revents & (POLLRDHUP | POLLHUP))
		return 1;
	/* A TLS collector may send tickets; a plain one nothing. */
	if (n->tls)
		return 0;
	r = recv(n->fd, junk, sizeof(junk), MSG_DONTWAIT);
	return r == 0 ? 1 : r == -1 && errno != EAGAIN ? 2 : 0;
}

/* Bytes sent that the collector's host has not acknowledged yet. */
uint64_t
fwd_net_unacked(const struct fwd_net *n)
{
	int q = 0;

	if (n->fd < 0 || ioctl(n->fd, SIOCOUTQ, &q) == -1 || q < 0)
		return 0;
	return (uint64_t)q;
}

/*
 * RELP: close the session politely, which waits for the acknowledgements
 * still due; 0 if every message sent on it was acknowledged, else -1.
 */
int
fwd_net_drain(struct fwd_net *n)
{
	if (!n->relp || n->clt == NULL)
		return -1;
	fwd_net_close(n);
	return relp_failed ? -1 : 0;
}

void
fwd_net_close(struct fwd_net *n)
{
	/* A RELP close waits for the acknowledgements still due. */
	if (n->clt != NULL)
		(void)relpEngineCltDestruct(n->eng, &n->clt);
	if (n->eng != NULL)
		(void)relpEngineDestruct(&n->eng);
	n->clt = NULL;
	n->eng = NULL;
	if (n->ssl != NULL) {
		SSL_free(n->ssl);
		n->ssl = NULL;
	}
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

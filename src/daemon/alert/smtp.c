/*
 * SMTP delivery through libcurl (smtp://, smtps://, STARTTLS, login),
 * loaded with dlopen in the mail child: linked into the daemon, libcurl
 * and the twenty libraries it pulls in cost a megabyte of resident
 * memory for a feature most installations never use.
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/alert/smtp.h"

#define SMTP_ERR_MAX	400	/* mail.c reads up to 511 bytes */

struct curl_api {
	CURLcode	 (*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_perform)(CURL *);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char	*(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
	void		 (*easy_cleanup)(CURL *);
};

struct upload {
	const char	*p;
	size_t		 left;
};

static size_t
read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb;

	if (n > u->left)
		n = u->left;
	memcpy(buf, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static void
say(int fd, const char *msg)
{
	(void)!write(fd, msg, strnlen(msg, SMTP_ERR_MAX));
}

static int
load(struct curl_api *api, int err_fd)
{
	void *h;

	if ((h = dlopen("libcurl.so.4", RTLD_NOW)) == NULL &&
	    (h = dlopen("libcurl.so", RTLD_NOW)) == NULL) {
		say(err_fd, "cannot load libcurl (install libcurl4)");
		return -1;
	}
	*(void **)&api->global_init = dlsym(h, "curl_global_init");
	*(void **)&api->easy_init = dlsym(h, "curl_easy_init");
	*(void **)&api->easy_setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&api->easy_perform = dlsym(h, "curl_easy_perform");
	*(void **)&api->easy_getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&api->easy_strerror = dlsym(h, "curl_easy_strerror");
	*(void **)&api->slist_append = dlsym(h, "curl_slist_append");
	*(void **)&api->slist_free_all = dlsym(h, "curl_slist_free_all");
	*(void **)&api->easy_cleanup = dlsym(h, "curl_easy_cleanup");
	if (api->global_init == NULL || api->easy_init == NULL ||
	    api->slist_free_all == NULL || api->easy_cleanup == NULL ||
	    api->easy_setopt == NULL || api->easy_perform == NULL ||
	    api->easy_getinfo == NULL || api->easy_strerror == NULL ||
	    api->slist_append == NULL) {
		say(err_fd, "libcurl lacks a function we need");
		return -1;
	}
	return 0;
}

/* Whether [mail] has a login, which must never travel in clear. */
static int
login(const struct config *c)
{
	return c->mail_user[0] != '\0' || c->mail_password[0] != '\0';
}

/* The transfer's options: server, envelope, TLS, login, timeouts. */
static void
set_options(const struct curl_api *api, CURL *h, const struct config *c,
    const char *from, struct curl_slist *rcpt, struct upload *up,
    char *ebuf)
{
	api->easy_setopt(h, CURLOPT_URL, c->mail_url);
#if LIBCURL_VERSION_NUM >= 0x075500
	api->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
	api->easy_setopt(h, CURLOPT_MAIL_FROM, from);
	api->easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	api->easy_setopt(h, CURLOPT_UPLOAD, 1L);
	api->easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	api->easy_setopt(h, CURLOPT_READDATA, up);
	api->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	api->easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	api->easy_setopt(h, CURLOPT_TIMEOUT, (long)c->mail_timeout);
	api->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(c->mail_timeout <
	    10 ? c->mail_timeout : 10));
	/* config_mail.c made STARTTLS required with a login: checked again. */
	api->easy_setopt(h, CURLOPT_USE_SSL, c->mail_starttls ==
	    STARTTLS_REQUIRED || login(c) ? (long)CURLUSESSL_ALL :
	    c->mail_starttls == STARTTLS_YES ? (long)CURLUSESSL_TRY :
	    (long)CURLUSESSL_NONE);
	api->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->mail_no_verify ? 0L :
	    1L);
	api->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->mail_no_verify ? 0L :
	    2L);
	if (c->mail_ca_file[0] != '\0') {
		/* Instead of the system's: no CA directory either. */
		api->easy_setopt(h, CURLOPT_CAINFO, c->mail_ca_file);
		api->easy_setopt(h, CURLOPT_CAPATH, (char *)NULL);
	}
	if (c->mail_user[0] != '\0') {
		api->easy_setopt(h, CURLOPT_USERNAME, c->mail_user);
		api->easy_setopt(h, CURLOPT_PASSWORD, c->mail_password);
	}
}

/* The reason for the log: what went wrong, and what to do for TLS. */
static void
reason(const struct curl_api *api, CURL *h, CURLcode rc, const char *ebuf,
    char *line, size_t size)
{
	char what[CURL_ERROR_SIZE];
	long code = 0;
	int n;

	n = snprintf(what, sizeof(what), "%s", ebuf[0] != '\0' ? ebuf :
	    api->easy_strerror(rc));
	if (n > 0 && (size_t)n < sizeof(what) && what[n - 1] == '.')
		what[n - 1] = '\0';	/* it goes inside our sentence */
	/* The SMTP code of these is the greeting's: not worth showing. */
	if (rc == CURLE_USE_SSL_FAILED) {
		snprintf(line, size, "%s, and a login or starttls = required "
		    "needs TLS: nothing sent in clear", what);
		return;
	}
	if (rc == CURLE_PEER_FAILED_VERIFICATION) {
		snprintf(line, size, "the server's TLS certificate is refused "
		    "(%s): give its CA in ca_file", what);
		return;
	}
	n = snprintf(line, size, "%s", what);
	api->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 0 && n > 0 && (size_t)n < size)
		snprintf(line + n, size - (size_t)n, " (SMTP %ld)", code);
}

/*
 * Whether RC says the server itself failed (not there, too slow, TLS or
 * login refused), so that any other mail would fail too.  Rejections of
 * one mail (a recipient, its data) are CURLE_SEND_ERROR or
 * CURLE_WEIRD_SERVER_REPLY in libcurl's SMTP code: not these.
 */
static int
server_failed(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_LOGIN_DENIED:
		return 1;
	default:
		return 0;
	}
}

int
smtp_deliver(const struct config *c, const char *from,
    const char (*to)[256], int nto, const char *msg, size_t len,
    int err_fd)
{
	char ebuf[CURL_ERROR_SIZE], line[SMTP_ERR_MAX], addr[300];
	struct curl_slist *rcpt = NULL, *r;
	struct upload up = { msg, len };
	struct curl_api api;
	CURLcode rc;
	CURL *h;
	int i;

	if (load(&api, err_fd) == -1)
		return SMTP_FAILED;
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (h = api.easy_init()) == NULL) {
		say(err_fd, "cannot initialise libcurl");
		return SMTP_FAILED;
	}
	for (i = 0; i < nto; i++) {
		snprintf(addr, sizeof(addr), "<%s>", to[i]);
		if ((r = api.slist_append(rcpt, addr)) == NULL) {
			say(err_fd, "out of memory");
			api.slist_free_all(rcpt);
			api.easy_cleanup(h);
			return SMTP_FAILED;
		}
		rcpt = r;
	}
	snprintf(addr, sizeof(addr), "<%s>", from);
	ebuf[0] = '\0';
	set_options(&api, h, c, addr, rcpt, &up, ebuf);
	rc = api.easy_perform(h);
	if (rc != CURLE_OK) {
		reason(&api, h, rc, ebuf, line, sizeof(line));
		say(err_fd, line);
	}
	api.slist_free_all(rcpt);
	api.easy_cleanup(h);
	return rc == CURLE_OK ? SMTP_SENT : server_failed(rc) ?
	    SMTP_SERVER_FAILED : SMTP_FAILED;
}

/*
 * Alert mails: each is built once as a complete RFC 5322 message, waits in
 * a bounded queue, and is handed to libcurl's SMTP client in a child
 * process, one at a time, so the event loop never waits on the network.
 * The child's exit status says whether it was delivered; a line on a pipe
 * says why not.  Failed mails are retried with a doubling delay, then
 * given up; when the server itself failed, the others wait for that
 * retry.  Mails a full queue has no room for wait in the spool and come
 * back in their order as it drains.  Everything is logged, the SMTP
 * password never.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/child.h"
#include "daemon/config.h"
#include "daemon/loop.h"
#include "daemon/alert/mail.h"
#include "daemon/alert/mail_spool.h"
#include "daemon/alert/smtp.h"

#define MAIL_RETRY_MAX	3600	/* longest delay between two attempts */
#define MAIL_ERR_MAX	512	/* the child's error line */

struct mail_item {
	struct spooled	 m;		/* rule name, recipients, message */
	unsigned	 attempts;	/* failed so far */
	time_t		 next_try;	/* monotonic seconds */
	struct mail_item *next;
};

struct mailer {
	struct mail_item *head;		/* oldest first */
	unsigned	 n;
	struct mail_item *sending;	/* taken out of the queue */
	pid_t		 pid;		/* its child, or 0 */
	int		 err_fd;	/* the child's error line */
	time_t		 started;
	time_t		 hold_until;	/* the server failed: none before */
	int		 closing;	/* mail_close: start no delivery */
	char		 host[256];
	char		 from[256];
	const struct config *cfg;	/* [mail] */
	mail_report_cb	 report;	/* where its lines are logged */
	void		*report_arg;
	uint64_t	 sent;		/* mails delivered */
	uint64_t	 failed;	/* given up, or dropped: queue full */
	uint64_t	 spooled;	/* written to the spool: queue full */
	int		 spool_more;	/* the spool may hold mails to load */
	int		 spool_broken;	/* errno: unreadable, spool no more */
	unsigned	 spool_files;	/* in the spool: left at the last load,
					   and spooled since */
	unsigned	 spool_run;	/* spooled since the last report */
	unsigned	 drop_run;	/* could not be spooled, since then */
	int		 drop_err;	/* why (an errno; 0: spool full) */
};

/* Log a line of the mailer, as printf would format it. */
static void __attribute__((format(printf, 3, 4)))
mlog(struct mailer *m, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m->report(m->report_arg, level, msg);
}

static void
item_free(struct mail_item *it)
{
	if (it != NULL) {
		free(it->m.msg);
		free(it);
	}
}

static void	next_delivery(struct mailer *);

/* Append IT to the queue, as it is. */
static void
append(struct mailer *m, struct mail_item *it)
{
	struct mail_item **pp;

	it->next_try = loop_now();
	for (pp = &m->head; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = it;
	m->n++;
}

/* A mail of the spool: queued again. */
static void
unspooled(void *arg, struct spooled *sm)
{
	struct mailer *m = arg;
	struct mail_item *it;

	if ((it = calloc(1, sizeof(*it))) == NULL) {
		mlog(m, TINTIN_ERROR, "Spooled mail of alert \"%s\" "
		    "dropped (out of memory).", sm->rule);
		free(sm->msg);
		return;
	}
	it->m = *sm;
	append(m, it);
}

/* The spool cannot be read (ERR): said once; nothing goes there now. */
static void
spool_unreadable(struct mailer *m, int err)
{
	if (err == ENOENT)		/* nothing was ever spooled */
		return;
	mlog(m, TINTIN_ERROR, "Cannot read the mail spool %s: %s%s.",
	    m->cfg->mail_spool, strerror(err), err == EPERM ? " (it must "
	    "belong to root and be writable by root only)" : "");
	m->spool_broken = err;
}

/*
 * Fill the queue from the spool, oldest first.  A file is removed as soon
 * as its mail is in memory, not once it is sent: a crash then loses the
 * mails in memory (as it loses any queued mail) but no mail is ever sent
 * twice, and at a stop the spool gets each unsent mail back once, under
 * its own name, so that the order holds.
 */
static void
refill(struct mailer *m)
{
	const char *dir = m->cfg->mail_spool;
	int left;

	if (!m->spool_more || m->closing || m->n >= m->cfg->mail_queue)
		return;
	if (spool_load(dir, (int)(m->cfg->mail_queue - m->n), unspooled,
	    NULL, m, &left) == -1) {
		spool_unreadable(m, errno);
		left = 0;
	}
	m->spool_files = (unsigned)left;
	m->spool_more = left > 0;
}

/* The queue is full: IT goes to the spool, or is dropped; both counted. */
static void
overflow(struct mailer *m, struct mail_item *it)
{
	if (m->spool_files >= m->cfg->mail_max_spooled || m->spool_broken) {
		m->drop_err = m->spool_broken;
		m->drop_run++;
		m->failed++;
	} else if (spool_write(m->cfg->mail_spool, &it->m) == -1) {
		m->drop_err = errno;
		m->drop_run++;
		m->failed++;
	} else {
		m->spool_files++;
		m->spool_more = 1;
		m->spool_run++;
		m->spooled++;
	}
	item_free(it);
}

/*
 * A new mail IT: to the queue, or past it to the spool when the queue is
 * full or the spool holds older ones (the order holds); without a spool
 * the oldest mail of a full queue is dropped.  Then try to send.
 */
static void
enqueue(struct mailer *m, struct mail_item *it)
{
	struct mail_item *old;

	if (m->closing) {		/* mail_stop spools the queue */
		append(m, it);
		return;
	}
	refill(m);
	if (m->cfg->mail_spool[0] != '\0' &&
	    (m->n >= m->cfg->mail_queue || m->spool_more)) {
		overflow(m, it);
		next_delivery(m);
		return;
	}
	if (m->n >= m->cfg->mail_queue && m->head != NULL) {
		old = m->head;
		m->head = old->next;
		m->n--;
		mlog(m, TINTIN_ERROR, "Mail queue full (%u): dropped the "
		    "oldest mail of alert \"%s\".", m->cfg->mail_queue,
		    old->m.rule);
		item_free(old);
		m->failed++;
	}
	append(m, it);
	next_delivery(m);
}

static void
bad_spool_file(void *arg, const char *name)
{
	struct mailer *m = arg;

	mlog(m, TINTIN_WARN, "%s/%s is not a spooled alert mail: left "
	    "alone.", m->cfg->mail_spool, name);
}

/* Queue what an earlier run spooled: as much as the queue holds. */
static void
load_spool(struct mailer *m)
{
	const char *dir = m->cfg->mail_spool;
	int total, left;

	if (dir[0] == '\0')
		return;
	if ((total = spool_load(dir, (int)m->cfg->mail_queue, unspooled,
	    bad_spool_file, m, &left)) == -1) {
		spool_unreadable(m, errno);
		return;
	}
	/* The rest is loaded as the queue drains. */
	m->spool_files = (unsigned)left;
	m->spool_more = left > 0;
	total += left;
	if (total > 0)
		mlog(m, TINTIN_INFO, "%d alert mail%s spooled by the last "
		    "run queued again.", total, total > 1 ? "s" : "");
	next_delivery(m);
}

int
mail_wanted(const struct config *c)
{
	return c->nalerts > 0 ||
	    (c->mail_spool[0] != '\0' && spool_count(c->mail_spool, 1) > 0);
}

struct mailer *
mail_start(const struct config *c, mail_report_cb report, void *arg)
{
	struct mailer *m;
	struct stat st;
	size_t i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->cfg = c;
	m->report = report;
	m->report_arg = arg;
	m->err_fd = -1;
	if (gethostname(m->host, sizeof(m->host) - 1) == -1 ||
	    m->host[0] == '\0')
		strcpy(m->host, "localhost");
	for (i = 0; m->host[i] != '\0'; i++)
		if (!((m->host[i] >= 'a' && m->host[i] <= 'z') ||
		    (m->host[i] >= 'A' && m->host[i] <= 'Z') ||
		    (m->host[i] >= '0' && m->host[i] <= '9') ||
		    m->host[i] == '.' || m->host[i] == '-'))
			m->host[i] = '-';
	if (c->mail_from[0] != '\0')
		snprintf(m->from, sizeof(m->from), "%s", c->mail_from);
	else
		snprintf(m->from, sizeof(m->from), "matt_daemon@%.200s",
		    m->host);
	if (c->mail_password[0] != '\0' && c->path != NULL &&
	    stat(c->path, &st) == 0 && (st.st_mode & S_IROTH))
		mlog(m, TINTIN_WARN, "%s holds the SMTP password and is "
		    "readable by everyone: make it readable by root only.",
		    c->path);
	if (c->mail_no_verify)
		mlog(m, TINTIN_WARN, "[mail] tls_verify = no: the SMTP "
		    "server's certificate is not checked, so anyone on the "
		    "way can pose as the server%s.", c->mail_user[0] != '\0' ||
		    c->mail_password[0] != '\0' ? " and get the password" :
		    "");
	load_spool(m);
	return m;
}

const char *
mail_host(const struct mailer *m)
{
	return m != NULL ? m->host : "localhost";
}

int
mail_send(struct mailer *m, const struct config_alert *a,
    const char *subject, const char *body)
{
	struct mail_item *it;
	unsigned char rnd[8];
	char msgid[320];
	size_t i;

	if (m == NULL || (it = calloc(1, sizeof(*it))) == NULL)
		return -1;
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)(rand() >> 3);
	snprintf(msgid, sizeof(msgid), "<%02x%02x%02x%02x%02x%02x%02x%02x."
	    "%lld@%s>", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
	    rnd[6], rnd[7], (long long)time(NULL), m->host);
	snprintf(it->m.rule, sizeof(it->m.rule), "%s", a->name);
	memcpy(it->m.to, a->to, sizeof(it->m.to));
	it->m.nto = a->nto;
	it->m.msg = mail_build(m->from, (const char (*)[256])a->to, a->nto,
	    subject, body, time(NULL), msgid, &it->m.len);
	if (it->m.msg == NULL) {
		free(it);
		return -1;
	}
	spool_name(&it->m);		/* its place, should it be spooled */
	enqueue(m, it);
	return 0;
}

static void
on_mailer_exit(void *arg, pid_t pid, int status)
{
	(void)mail_child_exited(arg, pid, status);
}

static void
spawn(struct mailer *m, struct mail_item *it)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		mlog(m, TINTIN_ERROR, "Alert mail: pipe: %s.",
		    strerror(errno));
		return;
	}
	/* Every signal is blocked in the daemon: the child starts so too. */
	if ((pid = fork()) == -1) {
		mlog(m, TINTIN_ERROR, "Alert mail: fork: %s.",
		    strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		/* Keep only the error pipe: no lock, no listening socket. */
		if (child_reset(fds[1]) == -1)
			_exit(1);
		_exit(smtp_deliver(m->cfg, m->from,
		    (const char (*)[256])it->m.to, it->m.nto, it->m.msg,
		    it->m.len, 3));
	}
	close(fds[1]);
	(void)child_watch(pid, on_mailer_exit, m);
	m->err_fd = fds[0];
	m->pid = pid;
	m->sending = it;
	m->started = loop_now();
}

/* Start sending the next mail whose time has come, if none is on its way. */
static void
next_delivery(struct mailer *m)
{
	struct mail_item **pp, *it;
	time_t now;

	if (m->closing)
		return;
	refill(m);
	now = loop_now();
	if (m->pid > 0) {
		/* libcurl has its own timeout; this is for a stuck child. */
		if (now - m->started > (time_t)m->cfg->mail_timeout + 30)
			(void)child_signal(m->pid, SIGKILL);
		return;
	}
	if (now < m->hold_until)	/* the server failed: wait for it */
		return;
	for (pp = &m->head; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->next_try <= now)
			break;
	if ((it = *pp) == NULL)
		return;
	*pp = it->next;
	it->next = NULL;
	m->n--;
	spawn(m, it);
	if (m->pid == 0) {		/* could not start: try again later */
		it->next = m->head;
		m->head = it;
		m->n++;
		it->next_try = now + 1;
	}
}

/*
 * What the spool took, or could not take, since the last report: one
 * line each, whatever the number of mails.
 */
static void
report_spool(struct mailer *m)
{
	char why[64];

	if (m->spool_run > 0)
		mlog(m, TINTIN_WARN, "Mail queue full (%u): %u alert mail%s "
		    "spooled in %s.", m->cfg->mail_queue, m->spool_run,
		    m->spool_run > 1 ? "s" : "", m->cfg->mail_spool);
	if (m->drop_run > 0) {
		if (m->drop_err != 0)
			snprintf(why, sizeof(why), "%s", strerror(m->drop_err));
		else
			snprintf(why, sizeof(why), "the spool is full "
			    "(max_spooled = %u)", m->cfg->mail_max_spooled);
		mlog(m, TINTIN_ERROR, "Mail queue full (%u): %u alert mail%s "
		    "dropped (cannot spool: %s).", m->cfg->mail_queue,
		    m->drop_run, m->drop_run > 1 ? "s" : "", why);
	}
	m->spool_run = m->drop_run = 0;
}

void
mail_tick(struct mailer *m)
{
	if (m == NULL)
		return;
	report_spool(m);
	next_delivery(m);
}

/*
 * The attempt on IT failed with ERR: retry later, or give up.  SERVER:
 * the server could not be reached or was too slow, so any other mail
 * would fail the same way: none is tried before IT's retry, which keeps
 * the order and logs one line per attempt, not one per mail.
 */
static void
failed(struct mailer *m, struct mail_item *it, const char *err, int server)
{
	unsigned delay, i;

	it->attempts++;
	if (it->attempts > m->cfg->mail_max_retries) {
		mlog(m, TINTIN_ERROR, "Alert mail \"%s\" not sent: %s; "
		    "given up after %u attempt%s.", it->m.rule, err,
		    it->attempts, it->attempts > 1 ? "s" : "");
		item_free(it);
		m->failed++;
		return;
	}
	delay = m->cfg->mail_retry;
	for (i = 1; i < it->attempts && delay < MAIL_RETRY_MAX; i++)
		delay *= 2;
	if (delay > MAIL_RETRY_MAX)
		delay = MAIL_RETRY_MAX;
	it->next_try = loop_now() + delay;
	if (server)
		m->hold_until = it->next_try;
	mlog(m, TINTIN_WARN, "Alert mail \"%s\" not sent: %s; retry "
	    "%u of %u in %us.", it->m.rule, err, it->attempts,
	    m->cfg->mail_max_retries, delay);
	it->next = m->head;	/* first in line once its time comes */
	m->head = it;
	m->n++;
}

int
mail_child_exited(struct mailer *m, pid_t pid, int status)
{
	struct mail_item *it;
	char err[MAIL_ERR_MAX];
	ssize_t n;
	size_t i;

	if (m == NULL || m->pid <= 0 || pid != m->pid)
		return 0;
	it = m->sending;
	n = read(m->err_fd, err, sizeof(err) - 1);
	err[n > 0 ? n : 0] = '\0';
	for (i = 0; err[i] != '\0'; i++)	/* server text, for one line */
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			err[i] = ' ';
	close(m->err_fd);
	m->err_fd = -1;
	m->pid = 0;
	m->sending = NULL;
	if (WIFEXITED(status) && WEXITSTATUS(status) == SMTP_SENT) {
		mlog(m, TINTIN_INFO, "Alert mail \"%s\" sent to %s%s.",
		    it->m.rule, it->m.to[0], it->m.nto > 1 ?
		    " and others" : "");
		item_free(it);
		m->sent++;
	} else {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), WIFSIGNALED(status) ?
			    "mailer killed by signal %d" : "mailer failed",
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		/* Killed: it hung past the timeout (see next_delivery). */
		failed(m, it, err, WIFSIGNALED(status) || (WIFEXITED(status) &&
		    WEXITSTATUS(status) == SMTP_SERVER_FAILED));
	}
	next_delivery(m);
	return 1;
}

void
mail_close(struct mailer *m)
{
	if (m != NULL)
		m->closing = 1;
}

int
mail_spooling(const struct mailer *m)
{
	return m != NULL && m->cfg->mail_spool[0] != '\0';
}

/*
 * Kill a delivery in progress; the mails not sent (that one first, the
 * oldest) go to the spool for the next start, or are lost (logged).
 */
void
mail_stop(struct mailer *m)
{
	struct mail_item *it;
	const char *dir;
	unsigned spooled = 0, lost = 0;
	int err = 0;

	if (m == NULL)
		return;
	report_spool(m);
	dir = m->cfg->mail_spool;
	if (m->pid > 0) {
		(void)child_signal(m->pid, SIGKILL);
		(void)waitpid(m->pid, NULL, 0);
		child_forget(m->pid);
	}
	if (m->sending != NULL) {
		m->sending->next = m->head;
		m->head = m->sending;
		m->sending = NULL;
	}
	while ((it = m->head) != NULL) {
		m->head = it->next;
		if (dir[0] != '\0' && spool_write(dir, &it->m) == 0)
			spooled++;
		else {
			err = dir[0] != '\0' ? errno : 0;
			lost++;
		}
		item_free(it);
	}
	if (spooled > 0)
		mlog(m, TINTIN_INFO, "%u alert mail%s spooled in %s for "
		    "the next start.", spooled, spooled > 1 ? "s" : "", dir);
	if (lost > 0)
		mlog(m, TINTIN_WARN, "%u alert mail%s not sent%s%s%s.",
		    lost, lost > 1 ? "s" : "", err ? " (cannot spool: " : "",
		    err ? strerror(err) : "", err ? ")" : "");
	if (m->err_fd >= 0)
		close(m->err_fd);
	free(m);
}

void
mail_counts(const struct mailer *m, struct mail_counts *mc)
{
	memset(mc, 0, sizeof(*mc));
	if (m == NULL)
		return;
	mc->sent = m->sent;
	mc->failed = m->failed;
	mc->spooled = m->spooled;
	mc->waiting = m->n + (m->sending != NULL);
	mc->in_spool = m->spool_files;
}

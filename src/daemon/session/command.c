/*
 * Slash commands (docs/PROTOCOL.md).  Only lines that are a known command
 * are taken as commands; any other line, even one starting with '/', is
 * user input, so plain `nc` users see no difference.  Every command gets
 * one reply line, +OK or -ERR, and is logged without its secrets.  What
 * shows the log (/tail, /follow, /clients) needs a session that proved
 * who it is, in every mode; /rotate an admin.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "daemon/session/auth.h"
#include "daemon/session/client.h"
#include "daemon/cmdline.h"
#include "daemon/session/command.h"
#include "daemon/session/command_auth.h"
#include "daemon/session/shell.h"

#define ARGS_MAX	512

#define REFUSAL_MAX	256

#define STATS_MAX	8192	/* the /stats table */
#define STATS_HEAD	32	/* its "+OK N stats" line */

enum need {
	NEED_NOTHING = 0,	/* anyone, even before /auth */
	NEED_SESSION,		/* authenticated when auth is required */
	NEED_USER,		/* an authenticated user, in every mode */
	NEED_ADMIN,		/* an admin, in every mode */
	NEED_SHELL		/* an admin when auth is on; cmd_shell()
				 * checks the rest (enabled, TLS, admin) */
};

struct command {
	const char	*name;
	int		 need;
	int		 takes_args;
	int		 quiet;		/* changes nothing: logged at DEBUG */
	void		(*run)(struct client *c, char *args);
};

static void	cmd_clients(struct client *, char *);
static void	cmd_follow(struct client *, char *);
static void	cmd_shell(struct client *, char *);
static void	cmd_tail(struct client *, char *);
static void	cmd_help(struct client *, char *);
static void	cmd_ping(struct client *, char *);
static void	cmd_mux(struct client *, char *);
static void	cmd_rotate(struct client *, char *);
static void	cmd_stats(struct client *, char *);
static void	cmd_status(struct client *, char *);
static void	cmd_whoami(struct client *, char *);

static const struct command commands[] = {
	{ "/help",	NEED_NOTHING,	0, 1, cmd_help },
	{ "/ping",	NEED_NOTHING,	0, 1, cmd_ping },
	{ "/status",	NEED_SESSION,	0, 1, cmd_status },
	{ "/whoami",	NEED_NOTHING,	0, 1, cmd_whoami },
	{ "/auth",	NEED_NOTHING,	1, 0, command_auth_run },
	{ "/rotate",	NEED_ADMIN,	0, 0, cmd_rotate },
	{ "/clients",	NEED_USER,	0, 0, cmd_clients },
	{ "/tail",	NEED_USER,	1, 0, cmd_tail },
	{ "/follow",	NEED_USER,	1, 0, cmd_follow },
	{ "/stats",	NEED_USER,	0, 1, cmd_stats },
	{ "/shell",	NEED_SHELL,	1, 0, cmd_shell },
	{ "/mux",	NEED_NOTHING,	0, 0, cmd_mux },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const char *
who(const struct client *c)
{
	return c->role != ROLE_NONE ? c->user : "anonymous";
}

/*
 * May C run command NAME, which needs NEED?  NULL, or the -ERR reply
 * (in BUF).  The rules go by the session's role, whatever the mode: with
 * authentication off, a session has a role only through the local
 * socket, and the reply says how to get one.
 */
static const char *
refusal(const struct client *c, const char *name, int need, char *buf)
{
	int mode = c->d->cfg->auth_mode;

	if (need == NEED_NOTHING || (need == NEED_SHELL && mode == MODE_OFF))
		return NULL;
	if (c->role == ROLE_NONE && mode == MODE_REQUIRED)
		return "-ERR authentication required\n";
	if (need == NEED_SESSION || (need == NEED_USER &&
	    c->role != ROLE_NONE) || c->role == ROLE_ADMIN)
		return NULL;
	if (c->role != ROLE_NONE || mode != MODE_OFF)
		return "-ERR permission denied\n";
	if (need == NEED_USER)
		snprintf(buf, REFUSAL_MAX, "-ERR %s needs a logged-in user: "
		    "set [auth] mode in matt_daemon.conf, or use the local "
		    "socket as root or a member of %s\n", name,
		    c->d->cfg->local_group);
	else
		snprintf(buf, REFUSAL_MAX, "-ERR %s needs an admin: set "
		    "[auth] mode in matt_daemon.conf, or use the local socket "
		    "as root\n", name);
	return buf;
}

static void
cmd_help(struct client *c, char *args)
{
	char buf[256], no[REFUSAL_MAX];
	size_t i;

	(void)args;
	snprintf(buf, sizeof(buf), "+OK commands:");
	for (i = 0; i < NCOMMANDS; i++) {
		/* /mux is for programs (Ben_AFK-gtk): /help says as before. */
		if (refusal(c, commands[i].name, commands[i].need, no) != NULL ||
		    commands[i].run == cmd_mux)
			continue;
		/* /shell also needs it enabled, TLS and an admin. */
		if (commands[i].run == cmd_shell && (!c->d->cfg->shell_enabled
		    || (c->tls == NULL && !(c->local && c->uid == 0)) ||
		    c->role != ROLE_ADMIN))
			continue;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s",
		    commands[i].name);
	}
	/* quit: the subject's rule with auth off, else an admin. */
	if (c->d->cfg->auth_mode == MODE_OFF || c->role == ROLE_ADMIN)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    " quit");
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "\n");
	client_reply(c, buf);
}

static void
cmd_ping(struct client *c, char *args)
{
	(void)args;
	/* Every line before this one is in the files when we answer. */
	tintin_flush(c->d->log);
	client_reply(c, "+OK pong\n");
}

static void
cmd_whoami(struct client *c, char *args)
{
	char buf[160];

	(void)args;
	if (c->role == ROLE_NONE)
		snprintf(buf, sizeof(buf), "+OK anonymous%s\n",
		    c->tls ? ", tls" : c->local ? ", local" : "");
	else
		snprintf(buf, sizeof(buf), "+OK %s (%s)%s\n", c->user,
		    auth_role_name(c->role), c->tls ? ", tls" : c->local ?
		    ", local" : "");
	client_reply(c, buf);
}

static void
cmd_status(struct client *c, char *args)
{
	struct sessions *d = c->d;
	uint64_t size, abytes;
	unsigned narch;
	char buf[1200], fwd[700];
	size_t n;

	(void)args;
	/* Sink 0 is the main log file. */
	(void)tintin_sink_files(d->log, 0, &size, &narch, &abytes);
	snprintf(buf, sizeof(buf), "+OK version=%s pid=%ld uptime=%ld "
	    "clients=%d lines=%llu bytes=%llu tls=%s auth=%s log_size=%llu "
	    "archives=%u archive_bytes=%llu\n", MD_VERSION, (long)getpid(),
	    (long)(time(NULL) - d->m->started), d->nclients,
	    (unsigned long long)d->m->lines, (unsigned long long)d->m->bytes,
	    config_mode_name(d->cfg->tls_mode),
	    config_mode_name(d->cfg->auth_mode), (unsigned long long)size,
	    narch, (unsigned long long)abytes);
	fwd[0] = '\0';
	if (d->status_more != NULL)
		d->status_more(d->status_arg, fwd, sizeof(fwd));
	if ((n = strlen(buf)) > 0 && fwd[0] != '\0')
		snprintf(buf + n - 1, sizeof(buf) - n + 1, "%s\n", fwd);
	client_reply(c, buf);
}

/*
 * The metrics of GET /metrics as a table, in one reply: "+OK N stats",
 * then N lines "NAME{LABELS} VALUE" (docs/PROTOCOL.md).
 */
static void
cmd_stats(struct client *c, char *args)
{
	static char buf[STATS_HEAD + STATS_MAX];
	int len, lines, h;

	(void)args;
	len = metrics_render(c->d->m, METRICS_STATS, buf + STATS_HEAD,
	    STATS_MAX, &lines);
	if (len < 0) {
		client_reply(c, "-ERR stats too long\n");
		return;
	}
	h = snprintf(buf, STATS_HEAD, "+OK %d stats\n", lines);
	memmove(buf + h, buf + STATS_HEAD, (size_t)len + 1);
	client_reply(c, buf);
}

static void
cmd_clients(struct client *c, char *args)
{
	struct sessions *d = c->d;
	struct client *o;
	char line[256];
	int n = 0;

	(void)args;
	for (o = d->clients; o != NULL; o = o->next)
		n += !o->dead;
	snprintf(line, sizeof(line), "+OK %d clients\n", n);
	client_reply(c, line);
	for (o = d->clients; o != NULL && !c->dead; o = o->next) {
		if (o->dead)
			continue;
		snprintf(line, sizeof(line), "%s user=%s role=%s tls=%s "
		    "since=%ld mode=%s\n", o->addr, o->role ? o->user : "-",
		    auth_role_name(o->role), o->tls ? "yes" : "no",
		    (long)o->since, o->shell ? "shell" : o->following ?
		    "follow" : "lines");
		client_reply(c, line);
	}
}


/*
 * Where the last WANT lines of BUF (LEN bytes, its last byte ending a
 * line) begin; *LINES gets how many there are.  When BUF does not start
 * the file (CUT), its first line may be a piece of one: it is left out.
 */
static const char *
last_lines(const char *buf, size_t len, long want, int cut, long *lines)
{
	const char *p, *first = NULL;
	long n = 0;

	*lines = 0;
	if (len == 0)
		return buf;
	for (p = buf + len - 1; p > buf; p--) {
		if (p[-1] != '\n')
			continue;
		first = p;
		if (++n == want) {
			*lines = n;
			return p;
		}
	}
	if (!cut) {
		*lines = n + 1;
		return buf;
	}
	*lines = n;
	return first != NULL ? first : buf + len;
}

/*
 * The end of the main log, MAX bytes at most, into *BUF (malloc'd, or
 * NULL if empty) and *LEN; *CUT when that is not the whole file.  Replies
 * the error itself: 0 or -1.
 */
static int
read_log_end(struct client *c, off_t max, char **buf, size_t *len, int *cut)
{
	char path[PATH_MAX];
	struct stat st;
	off_t start;
	ssize_t got;
	int fd;

	*buf = NULL;
	*len = 0;
	tintin_flush(c->d->log);
	config_log_path(c->d->cfg, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(fd, &st) == -1) {
		if (fd != -1)
			close(fd);
		client_reply(c, "-ERR cannot read the log\n");
		return -1;
	}
	start = st.st_size > max ? st.st_size - max : 0;
	*cut = start > 0;
	if (st.st_size > start &&
	    (*buf = malloc((size_t)(st.st_size - start))) == NULL) {
		close(fd);
		client_reply(c, "-ERR out of memory\n");
		return -1;
	}
	got = *buf != NULL ? pread(fd, *buf, (size_t)(st.st_size - start),
	    start) : 0;
	close(fd);
	*len = got > 0 ? (size_t)got : 0;
	return 0;
}

/*
 * The last N (default 10) records of the main log, as many of them as the
 * client's output buffer can take at once.
 */
static void
cmd_tail(struct client *c, char *args)
{
	char hdr[64], *buf, *end;
	const char *p;
	long want = 10, lines;
	size_t len, room = client_room(c);
	int cut;

	if (*args != '\0') {
		want = strtol(args, &end, 10);
		if (*end != '\0' || want < 1 || want > 1000) {
			client_reply(c, "-ERR usage: /tail [1-1000]\n");
			return;
		}
	}
	room = room > sizeof(hdr) ? room - sizeof(hdr) : 0;
	if (read_log_end(c, (off_t)room, &buf, &len, &cut) == -1)
		return;
	p = last_lines(buf, len, want, cut, &lines);
	snprintf(hdr, sizeof(hdr), "+OK %ld records\n", lines);
	client_reply(c, hdr);
	if (lines > 0 && !c->dead)
		client_send_raw(c, NULL, 0, p, (size_t)(buf + len - p));
	free(buf);
}

/*
 * /follow: records only, until any line; /follow live: records as
 * "* RECORD" lines while the session goes on; /follow off ends that.
 */
static void
cmd_follow(struct client *c, char *args)
{
	if (strcmp(args, "off") == 0) {
		if (c->following == FOLLOW_OFF) {
			client_reply(c, "-ERR not following\n");
			return;
		}
		client_follow(c, FOLLOW_OFF);
		client_reply(c, "+OK follow ended\n");
	} else if (strcmp(args, "live") == 0) {
		client_reply(c, "+OK following live\n");
		if (!c->dead)
			client_follow(c, FOLLOW_LIVE);
	} else if (*args != '\0')
		client_reply(c, "-ERR usage: /follow [live|off]\n");
	else if (c->following != FOLLOW_OFF)
		client_reply(c, "-ERR already following: /follow off first\n");
	else {
		client_reply(c, "+OK following\n");
		if (!c->dead)
			client_follow(c, FOLLOW_PLAIN);
	}
}

static void
cmd_shell(struct client *c, char *args)
{
	struct sessions *d = c->d;
	char term[64] = "xterm", err[160], *save = NULL, *tok;
	int rows = 24, cols = 80;

	if (c->shell != NULL) {
		/* Multiplexed: one shell at a time. */
		client_reply(c, "-ERR a shell is running\n");
		return;
	}
	if (!d->cfg->shell_enabled) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Shell refused "
		    "to %s (%s): disabled.", c->addr, who(c));
		client_reply(c, "-ERR shell is disabled\n");
		return;
	}
	/* The local socket needs no TLS: the kernel vouches for the uid. */
	if (c->tls == NULL && !c->local) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Shell refused "
		    "to %s (%s): not over TLS.", c->addr, who(c));
		client_reply(c, "-ERR shell needs TLS\n");
		return;
	}
	if (c->role != ROLE_ADMIN || (c->local && c->uid != 0)) {
		tintin_log_cat(d->log, TINTIN_WARN, CAT_AUTH, "Shell refused "
		    "to %s (%s): not an authenticated admin.", c->addr, who(c));
		client_reply(c, "-ERR permission denied\n");
		return;
	}
	if ((tok = strtok_r(args, " ", &save)) != NULL) {
		snprintf(term, sizeof(term), "%s", tok);
		if ((tok = strtok_r(NULL, " ", &save)) != NULL) {
			rows = atoi(tok);
			tok = strtok_r(NULL, " ", &save);
			cols = tok ? atoi(tok) : 0;
		}
	}
	if (shell_start(c, term, rows, cols, err, sizeof(err)) == -1) {
		tintin_log_cat(d->log, TINTIN_ERROR, CAT_AUTH, "Shell for %s "
		    "from %s failed: %s.", c->user, c->addr, err);
		client_reply(c, "-ERR cannot start the shell\n");
		return;
	}
	tintin_log_cat(d->log, TINTIN_INFO, CAT_AUTH, "Shell session of %s "
	    "from %s started: pid %ld, %s %dx%d, %s as %s.", c->user, c->addr,
	    (long)shell_pid(c), term, cols, rows, d->cfg->shell_command,
	    d->cfg->shell_user);
	client_reply(c, "+OK shell\n");
}

/*
 * /mux: frames both ways from now on (docs/PROTOCOL.md, 7.1), so that one
 * connection carries lines, replies, records and a shell.
 */
static void
cmd_mux(struct client *c, char *args)
{
	(void)args;
	if (c->mux) {
		client_reply(c, "-ERR already multiplexed\n");
		(void)client_refused(c);
		return;
	}
	client_reply(c, "+OK mux\n");
	if (!c->dead)
		c->mux = 1;
}

/* /rotate, at most once per [log] rotate_min_interval, whoever asks. */
static void
cmd_rotate(struct client *c, char *args)
{
	static time_t last;	/* monotonic, of the last /rotate done */
	static int done;
	unsigned every = c->d->cfg->rotate_min_interval;
	time_t now = loop_now();
	char reply[128];
	long left;

	(void)args;
	if (every > 0 && done && now - last < (time_t)every) {
		left = (long)(last + (time_t)every - now);
		tintin_log_cat(c->d->log, TINTIN_WARN, CAT_COMMAND, "Refused "
		    "/rotate from %s (%s): the last one was %lds ago.",
		    c->addr, who(c), (long)(now - last));
		snprintf(reply, sizeof(reply), "-ERR too soon: one /rotate "
		    "every %us, try again in %lds\n", every, left);
		client_reply(c, reply);
		return;
	}
	if (tintin_rotate(c->d->log) == 0) {
		last = now;
		done = 1;
		client_reply(c, "+OK logs rotated\n");
	} else
		client_reply(c, "-ERR rotation failed, see the log\n");
}

static void
log_command(struct client *c, const char *line, size_t len, int level)
{
	char esc[ESCAPE_BOUND(96) + 1];
	size_t n, keep = cmdline_loggable(line, len), cut = keep;

	if (cut > 96)
		cut = 96;
	n = escape_bytes(esc, line, cut);
	esc[n] = '\0';
	tintin_log_cat(c->d->log, level, CAT_COMMAND, "Command from %s "
	    "(%s): %s%s.", c->addr, who(c), esc, cut < keep ? "..." : "");
}

int
command_run(struct client *c, const char *line, size_t len)
{
	char args[ARGS_MAX], buf[REFUSAL_MAX];
	const struct command *cmd = NULL;
	const char *no;
	size_t i, nl;

	for (i = 0; i < NCOMMANDS; i++) {
		if (cmdline_match(commands[i].name, commands[i].takes_args,
		    line, len)) {
			cmd = &commands[i];
			break;
		}
	}
	if (cmd == NULL)
		return 0;
	/* Those that change nothing: a GUI polls /status all day. */
	log_command(c, line, len, cmd->quiet ? TINTIN_DEBUG : TINTIN_INFO);
	if ((no = refusal(c, cmd->name, cmd->need, buf)) != NULL) {
		tintin_log_cat(c->d->log, TINTIN_WARN, CAT_AUTH, "Refused %s "
		    "from %s (%s).", cmd->name, c->addr, who(c));
		client_reply(c, no);
		(void)client_refused(c);
		return 1;
	}
	nl = strlen(cmd->name);
	if (len - nl >= sizeof(args) || memchr(line, '\0', len) != NULL) {
		client_reply(c, "-ERR line too long or not text\n");
		(void)client_refused(c);
		return 1;
	}
	memcpy(args, line + nl, len - nl);
	args[len - nl] = '\0';
	cmd->run(c, args[0] == ' ' ? args + 1 : args);
	explicit_bzero(args, sizeof(args));
	return 1;
}

/* A session ends: its login check, then its shell. */
static void
closing(struct client *c)
{
	command_auth_close(c);
	shell_stop(c);
}

const struct session_ops command_ops = {
	.command	= command_run,
	.due		= command_auth_due,
	.closing	= closing,
	.release	= shell_free_gone,
	.term_input	= shell_input,
	.term_frame	= shell_mux_frame,
	.term_held	= shell_input_held,
	.term_drained	= shell_drained,
	.term_stop	= shell_stop,
};

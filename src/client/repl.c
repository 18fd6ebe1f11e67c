/* Interactive mode: libedit line editing, history and Tab completion of
 * the commands; replies and followed records are shown as they arrive,
 * above the line being typed. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

#include "client/cli.h"
#include "client/pretty.h"

#define REPL_PROMPT	"Ben_AFK> "
#define REPL_HISTORY	1000
#define LIVE_TAG	"* "	/* a record, in /follow live */

static const char *const commands[] = {
	"/auth", "/clients", "/follow", "/help", "/ping", "/rotate", "/shell",
	"/stats", "/status", "/tail", "/whoami", "quit", NULL
};

static struct {
	struct conn	*conn;
	const struct cli *opts;
	int		 done;
	int		 status;
	int		 quit;		/* "quit" was sent */
	int		 shell;		/* "/shell" typed: start it */
	enum proto_reply last;		/* last -ERR kind seen */
	long		 clients_left;	/* rows of /clients still to come */
	int		 following;	/* "+OK following live" seen */
} repl;

static char *
command_generator(const char *text, int state)
{
	static size_t i, len;
	const char *name;

	if (state == 0) {
		i = 0;
		len = strlen(text);
	}
	while ((name = commands[i]) != NULL) {
		i++;
		if (strncmp(name, text, len) == 0)
			return strdup(name);
	}
	return NULL;
}

/* Only the first word is a command; nothing else is completed (no file
 * names). */
static char **
complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	if (start != 0)
		return NULL;
	return rl_completion_matches(text, command_generator);
}

/* Print LINE above the prompt and what is being typed. */
static void
show(FILE *fp, const char *line)
{
	fputs("\r\033[K", stdout);
	fflush(stdout);
	fprintf(fp, "%s\n", line);
	fflush(fp);
	rl_forced_update_display();
}

static void
on_line(char *line)
{
	if (line == NULL) {		/* Ctrl-D */
		fputc('\n', stdout);
		repl.done = 1;
		repl.status = AFK_EXIT_OK;
		return;
	}
	/* libedit leaves its unbuffered mode after each line: set it back
	 * so that replies keep showing while the next line is typed. */
	rl_callback_handler_install(REPL_PROMPT, on_line);
	if (strcmp(line, "/shell") == 0 || strncmp(line, "/shell ", 7) == 0) {
		add_history(line);
		/* The daemon would refuse it; say why without a round trip. */
		if (repl.conn->tls == NULL && !repl.conn->local)
			show(stderr, "Ben_AFK: /shell needs a TLS session: "
			    "connect with --tls -u ADMIN (nothing sent)");
		else
			repl.shell = 1;	/* out of libedit first */
	} else if (*line != '\0') {
		/* Never keep a password in the history. */
		if (strncmp(line, "/auth", 5) != 0)
			add_history(line);
		if (strcmp(line, "quit") == 0)
			repl.quit = 1;
		/* Follow beside the prompt: lines typed meanwhile count. */
		if (proto_send(repl.conn, strcmp(line, "/follow") == 0 ?
		    "/follow live" : line, repl.opts->a.timeout_ms) == -1) {
			show(stderr, "");
			fprintf(stderr, "Ben_AFK: %s\n", repl.conn->err);
			repl.done = 1;
			repl.status = AFK_EXIT_ERROR;
		}
	}
	free(line);
}

/* Leave line editing for the remote shell; its end ends the session, a
 * refusal brings the prompt back. */
static void
start_shell(void)
{
	int opened;

	repl.shell = 0;
	rl_callback_handler_remove();
	repl.status = shell_run(repl.conn, repl.opts, &opened);
	if (opened != 0) {
		repl.done = 1;
		return;
	}
	rl_callback_handler_install(REPL_PROMPT, on_line);
}

/* Show LINE as people read it: /status and /clients laid out, records
 * coloured by level (with --color). */
static void
show_pretty(const char *line)
{
	char text[AFK_LINE_MAX + 512];
	const char *sgr;
	long n;

	if (repl.clients_left > 0) {
		repl.clients_left--;
		show(stdout, pretty_client(line, text, sizeof(text)) == 0 ?
		    text : line);
	} else if (pretty_status(line, text, sizeof(text)) == 0)
		show(stdout, text);
	else if ((n = pretty_clients_count(line)) >= 0) {
		show(stdout, line);
		if (n > 0)
			show(stdout, pretty_clients_title());
		repl.clients_left = n;
	} else if (repl.opts->color && (sgr = pretty_color(line)) != NULL) {
		snprintf(text, sizeof(text), "\033[%sm%s\033[0m", sgr, line);
		show(stdout, text);
	} else
		show(stdout, line);
}

/* Show a followed RECORD (its tag taken off), coloured by level. */
static void
show_record(const char *record)
{
	char text[AFK_LINE_MAX + 32];
	const char *sgr;

	if (repl.opts->color && (sgr = pretty_color(record)) != NULL) {
		snprintf(text, sizeof(text), "\033[%sm%s\033[0m", sgr, record);
		show(stdout, text);
	} else
		show(stdout, record);
}

/* Show every complete reply; at the end of the stream, finish. */
static void
on_replies(void)
{
	char line[AFK_LINE_MAX], msg[AFK_LINE_MAX + 64];
	enum proto_reply kind;
	const char *hint;

	while (conn_line(repl.conn, line, sizeof(line))) {
		if (strncmp(line, LIVE_TAG, strlen(LIVE_TAG)) == 0) {
			show_record(line + strlen(LIVE_TAG));
			continue;
		}
		if (strcmp(line, "+OK following live") == 0)
			repl.following = 1;
		else if (strcmp(line, "+OK follow ended") == 0)
			repl.following = 0;
		kind = proto_classify(line);
		hint = proto_hint(kind);
		if (kind != PROTO_OK && kind != PROTO_NONE && kind != PROTO_ERR)
			repl.last = kind;
		if (kind != PROTO_OK && kind != PROTO_NONE && hint != NULL) {
			snprintf(msg, sizeof(msg), "%s (%s)", line, hint);
			show(stdout, msg);
		} else
			show_pretty(line);
	}
	if (!repl.conn->eof)
		return;
	repl.done = 1;
	if (repl.quit && repl.last == PROTO_NONE) {
		show(stderr, "Ben_AFK: the daemon stopped (quit)");
		repl.status = AFK_EXIT_OK;
		return;
	}
	show(stderr, "Ben_AFK: connection closed by the daemon");
	repl.status = repl.last != PROTO_NONE ?
	    proto_exit_status(repl.last) : AFK_EXIT_ERROR;
	if (repl.status == AFK_EXIT_OK)
		repl.status = AFK_EXIT_ERROR;
}

/*
 * Control-C: ends a /follow, as in tail -f, or else drops the line being
 * typed, as a shell does; Control-D leaves.
 */
static void
on_interrupt(void)
{
	fputs("^C\n", stdout);
	/* libedit's rl_replace_line() ignores an empty line and its
	 * rl_delete_text() does nothing; a new handler starts afresh. */
	rl_callback_handler_remove();
	rl_callback_handler_install(REPL_PROMPT, on_line);
	if (repl.following && proto_send(repl.conn, "/follow off",
	    repl.opts->a.timeout_ms) == -1) {
		fprintf(stderr, "Ben_AFK: %s\n", repl.conn->err);
		repl.done = 1;
		repl.status = AFK_EXIT_ERROR;
		return;
	}
	rl_forced_update_display();
}

/* Drain the signalfd: 1 if Control-C came. */
static int
interrupted(int sfd)
{
	struct signalfd_siginfo si;
	int got = 0;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		got |= si.ssi_signo == SIGINT;
	return got;
}

static void
history_load(char *path, size_t size)
{
	if (known_hosts_default(path, size, "history") == -1) {
		*path = '\0';
		return;
	}
	stifle_history(REPL_HISTORY);
	(void)read_history(path);
}

static void
history_save(const char *path)
{
	if (*path == '\0' || known_hosts_mkdirs(path) == -1)
		return;
	if (write_history(path) == 0)
		(void)chmod(path, 0600);
}

int
repl_run(struct conn *c, const struct cli *o)
{
	char histfile[4096];
	struct pollfd pfd[3];
	sigset_t set, old;
	int n, sfd;

	memset(&repl, 0, sizeof(repl));
	repl.conn = c;
	repl.opts = o;
	rl_readline_name = "Ben_AFK";
	rl_attempted_completion_function = complete;
	/* "/status " would be user input, not the command. */
	rl_completion_append_character = '\0';
	using_history();
	history_load(histfile, sizeof(histfile));
	/* Control-C is read here, not a death (see on_interrupt()). */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	rl_callback_handler_install(REPL_PROMPT, on_line);
	while (!repl.done) {
		/* TLS may hold decrypted bytes that poll cannot see. */
		while (!repl.done && conn_pending(c)) {
			if (conn_fill(c) == -1 && !c->eof)
				break;
			on_replies();
		}
		if (repl.done)
			break;
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = sfd;
		pfd[2].events = POLLIN;
		n = poll(pfd, 3, -1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "Ben_AFK: poll: %s\n", strerror(errno));
			repl.status = AFK_EXIT_ERROR;
			break;
		}
		if (pfd[1].revents) {
			if (conn_fill(c) == -1 && !c->eof) {
				show(stderr, "");
				fprintf(stderr, "Ben_AFK: %s\n", c->err);
				repl.status = AFK_EXIT_ERROR;
				break;
			}
			on_replies();
		}
		if (!repl.done && pfd[2].revents && interrupted(sfd))
			on_interrupt();
		if (!repl.done && (pfd[0].revents & (POLLIN | POLLHUP)))
			rl_callback_read_char();
		if (!repl.done && repl.shell)
			start_shell();
	}
	rl_callback_handler_remove();
	history_save(histfile);
	if (sfd != -1)
		close(sfd);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return repl.status;
}

/* Questions asked on the controlling terminal: a password without echo,
 * and yes/no, even when stdin is a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client/term.h"

static volatile sig_atomic_t	tty_fd = -1;
static struct termios		saved;

/* write(2) whose failure is of no consequence: a prompt or a newline. */
static void
put(int fd, const char *s)
{
	if (fd != -1 && write(fd, s, strlen(s)) == -1)
		return;
}

/* Put the terminal back before dying of the signal (async-signal-safe). */
static void
restore_and_die(int sig)
{
	if (tty_fd != -1)
		(void)tcsetattr(tty_fd, TCSAFLUSH, &saved);
	put(tty_fd, "\n");
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read one line from FD into BUF (no newline); returns its length, -1. */
static ssize_t
read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	char ch;

	for (;;) {
		n = read(fd, &ch, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0 || ch == '\n')
			break;
		if (len + 1 < size)
			buf[len++] = ch;
	}
	if (n == 0 && len == 0) {
		errno = 0;
		buf[0] = '\0';
		return -1;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return (ssize_t)len;
}

int
term_password(const char *prompt, char *buf, size_t size)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
	    SIGTSTP, SIGTTIN, SIGTTOU };
	struct sigaction sa = { 0 }, old[sizeof(sigs) / sizeof(sigs[0])];
	struct termios noecho;
	size_t i;
	ssize_t n;
	int fd, saved_errno;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (tcgetattr(fd, &saved) == -1) {
		close(fd);
		return -1;
	}
	sa.sa_handler = restore_and_die;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, &old[i]);
	tty_fd = fd;
	noecho = saved;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	put(fd, prompt);
	(void)tcsetattr(fd, TCSAFLUSH, &noecho);
	n = read_line(fd, buf, size);
	saved_errno = errno;
	(void)tcsetattr(fd, TCSAFLUSH, &saved);
	put(fd, "\n");
	tty_fd = -1;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &old[i], NULL);
	close(fd);
	errno = saved_errno;
	return n < 0 ? -1 : 0;
}

int
term_yes_no(const char *question)
{
	char answer[32];
	int fd, rc = -1;

	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	for (;;) {
		put(fd, question);
		if (read_line(fd, answer, sizeof(answer)) < 0)
			break;
		if (strcasecmp(answer, "yes") == 0) {
			rc = 1;
			break;
		}
		if (strcasecmp(answer, "no") == 0) {
			rc = 0;
			break;
		}
		question = "Please type 'yes' or 'no': ";
	}
	close(fd);
	return rc;
}

/* The remote shell: a pseudo-terminal relayed over a client's session. */
#ifndef SHELL_H
#define SHELL_H

#include <stddef.h>
#include <sys/types.h>

struct client;
struct sessions;

/*
 * Start the configured command on a new pty of ROWS x COLS with TERM, for
 * client C (already checked: TLS, admin, enabled).  From then on C's
 * input is frames (docs/PROTOCOL.md, section 7), unless it is multiplexed
 * already (section 7.1).  0, or -1 with ERR.
 */
int	shell_start(struct client *c, const char *term, int rows, int cols,
	    char *err, size_t errlen);

/* PID of C's shell, or 0. */
pid_t	shell_pid(const struct client *c);

/*
 * Frames from the client: data for the terminal, window sizes.  What the
 * terminal does not take waits, and C is not read until it is written.
 */
void	shell_input(struct client *c, const char *data, size_t len);

/*
 * One frame's bytes from a multiplexed session: TYPE 'd' (N bytes for the
 * terminal, perhaps part of a frame) or 'w' (a window size, 4 bytes);
 * dropped when no shell runs.  As shell_input(), but the session is not
 * closed: 0, or -1 if the input cannot be kept.
 */
int	shell_mux_frame(struct client *c, int type, const unsigned char *p,
	    size_t n);

/* Input waits for the terminal: C must not be read for now. */
int	shell_input_held(const struct client *c);

/* The client is going: hang up its shell (SIGKILL later if needed). */
void	shell_stop(struct client *c);

/* Free C's stopped shells (between two loop turns only). */
void	shell_free_gone(struct client *c);

/* Room came back in C's output buffer: read the terminal again. */
void	shell_drained(struct client *c);

/* Child PID ended with STATUS: 1 if it was a shell (then handled). */
int	shell_exited(struct sessions *d, pid_t pid, int status);

/* Once a second: kill shells that outlived their hang-up. */
void	shell_tick(struct sessions *d);

/* The daemon quits: kill every shell now. */
void	shell_kill_all(struct sessions *d);

#endif /* SHELL_H */

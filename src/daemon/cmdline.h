/* Parsing of command lines (pure, shared by command.c and the fuzzer). */
#ifndef CMDLINE_H
#define CMDLINE_H

#include <stddef.h>

/*
 * Is the LEN bytes of LINE the command NAME: exactly it, or (when
 * TAKES_ARGS) it followed by a space and arguments?
 */
int	cmdline_match(const char *name, int takes_args, const char *line,
	    size_t len);

/*
 * How many leading bytes of command LINE may be logged: all of it, but
 * "/auth password NAME" without what follows, and only "/auth" when its
 * method is unknown (a secret could be anywhere then).  Never more than
 * two spaces of an /auth line.
 */
size_t	cmdline_loggable(const char *line, size_t len);

#endif /* CMDLINE_H */

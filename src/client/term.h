/* Questions asked on the controlling terminal (/dev/tty). */
#ifndef TERM_H
#define TERM_H

#include <stddef.h>

/* Ask PROMPT and read a line without echo into BUF; 0, or -1 (no
 * terminal, end of input).  The terminal is restored on signals too. */
int	term_password(const char *prompt, char *buf, size_t size);

/* Ask QUESTION until "yes" or "no": 1 yes, 0 no, -1 no terminal/EOF. */
int	term_yes_no(const char *question);

#endif /* TERM_H */

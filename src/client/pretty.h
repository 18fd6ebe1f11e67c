/*
 * How Ben_AFK shows what the daemon sends on a terminal: log records
 * coloured by level, /status and /clients as readable text.
 */
#ifndef PRETTY_H
#define PRETTY_H

#include <stddef.h>

/*
 * The SGR parameters ("1;31") to colour LINE with when it is a log record
 * ("[date] [ LEVEL ] - ...") of a level that has a colour, else NULL.
 */
const char *pretty_color(const char *line);

/*
 * "+OK version=... pid=..." (the reply to /status) as a few readable lines
 * in OUT, without a final newline: 0, or -1 if REPLY is not one.
 */
int	pretty_status(const char *reply, char *out, size_t outlen);

/* The title row of a /clients table (without a newline). */
const char *pretty_clients_title(void);

/*
 * One line of /clients ("ADDR user=NAME role=ROLE tls=yes since=EPOCH
 * mode=MODE") as a row of that table in OUT: 0, or -1 if it is not one.
 */
int	pretty_client(const char *line, char *out, size_t outlen);

/* The N of "+OK N clients" (-1 if REPLY is something else). */
long	pretty_clients_count(const char *reply);

#endif /* PRETTY_H */

/*
 * Command lines: which command a line is, and how much of it may be
 * logged without a secret.
 */
#include <string.h>

#include "daemon/cmdline.h"

int
cmdline_match(const char *name, int takes_args, const char *line,
    size_t len)
{
	size_t nl = strlen(name);

	return len >= nl && memcmp(name, line, nl) == 0 && (len == nl ||
	    (takes_args && line[nl] == ' '));
}

size_t
cmdline_loggable(const char *line, size_t len)
{
	const char *method, *name, *end;
	size_t mlen;

	if (len < 5 || memcmp(line, "/auth", 5) != 0)
		return len;
	if (len < 6 || line[5] != ' ')
		return 5;
	method = line + 6;
	end = memchr(method, ' ', len - 6);
	mlen = end ? (size_t)(end - method) : len - 6;
	if (!((mlen == 8 && memcmp(method, "password", 8) == 0) ||
	    (mlen == 3 && memcmp(method, "key", 3) == 0)) || end == NULL)
		return 5;
	name = end + 1;
	end = memchr(name, ' ', len - (size_t)(name - line));
	return end ? (size_t)(end - line) : len;
}

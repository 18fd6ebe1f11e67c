/*
 * libFuzzer harness: the configuration parser (libinih plus our checks)
 * on arbitrary files.  It must never crash, and every error it reports
 * names the file and a line.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	char path[] = "/tmp/md-fuzz-config.XXXXXX";
	int fd, i;

	if ((fd = mkstemp(path)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	config_defaults(&c);
	assert(c.nerrors == 0);		/* the table's defaults are valid */
	config_load(&c, path, 1);
	unlink(path);
	for (i = 0; i < c.nerrors; i++)
		assert(strncmp(c.errors[i], path, strlen(path)) == 0);
	assert(c.port >= 1 && c.port <= 65535);
	assert(c.max_line >= 64 && c.max_line <= 1024 * 1024);
	return 0;
}

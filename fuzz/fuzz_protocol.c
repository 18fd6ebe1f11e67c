/*
 * libFuzzer harness: the protocol parsers of the daemon.  The input is
 * read both as a command line (which command, how much may be logged)
 * and as a /shell frame stream cut into reads of 1..64 bytes.  Checks:
 * no /auth line may be logged past its user name; frames never exceed
 * their maximum, have a known type, a 'w' frame is 4 bytes, and every
 * byte of a well-formed stream comes out exactly once.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "common/frames.h"
#include "daemon/cmdline.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t frame_bytes;

static int
on_frame(void *arg, int type, const unsigned char *p, size_t n)
{
	(void)arg;
	(void)p;
	assert(type == 'd' || type == 'w');
	assert(n <= FRAMES_MAX);
	assert(type != 'w' || n == 4);
	frame_bytes += 3 + n;
	return 0;
}

static void
check_command(const char *line, size_t len)
{
	size_t keep = cmdline_loggable(line, len), i, spaces = 0;

	assert(keep <= len);
	if (len >= 5 && memcmp(line, "/auth", 5) == 0) {
		for (i = 0; i < keep; i++)
			spaces += line[i] == ' ';
		assert(spaces <= 2);
		assert(keep >= 5);
	}
	if (cmdline_match("/auth", 1, line, len))
		assert(len == 5 || line[5] == ' ');
	if (cmdline_match("/ping", 0, line, len))
		assert(len == 5);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frames f;
	size_t off = 0, chunk, n;
	int rc = 0;

	check_command((const char *)data, size);
	if (size < 1)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	memset(&f, 0, sizeof(f));
	frame_bytes = 0;
	for (off = 1; off < size && rc == 0; off += n) {
		n = size - off < chunk ? size - off : chunk;
		rc = frames_feed(&f, data + off, n, "dw", on_frame, NULL);
	}
	assert(rc == 0 || rc == -1);
	if (rc == 0)
		assert(frame_bytes + f.len == size - 1);
	return 0;
}

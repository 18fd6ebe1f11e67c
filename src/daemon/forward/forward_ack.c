/*
 * Where the collector's acknowledgements stand, exactly: the position
 * after each message still in the RELP window, and a companion of the
 * checkpoint (STATE.ack) rewritten in place, with one pwrite(), after
 * each batch the collector acknowledged.  A killed forwarder loses
 * nothing the kernel took, so its next start resends no acknowledged
 * message; the checkpoint itself (renamed, synced) stays for power loss.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/forward/forward_int.h"

#define ACK_LINE	128	/* the companion: one line of this size */

/* A checksum of P's fields: a torn or foreign line is not believed. */
static uint64_t
sum(const struct fwd_pos *p)
{
	uint64_t v[5], h = 0xcbf29ce484222325ULL;
	const unsigned char *b = (const unsigned char *)v;
	size_t i;

	v[0] = (uint64_t)p->dev;
	v[1] = (uint64_t)p->ino;
	v[2] = p->off;
	v[3] = (uint64_t)p->headlen;
	v[4] = p->hash;
	for (i = 0; i < sizeof(v); i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

void
fwd_ack_init(struct fwd_ack *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

int
fwd_ack_open(struct fwd_ack *a, const char *state_path)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof(path), "%s.ack", state_path);
	a->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	return a->fd == -1 ? -1 : 0;
}

int
fwd_ack_put(struct fwd_ack *a, const struct fwd_pos *p)
{
	char line[ACK_LINE];
	int n;

	if (a->fd < 0)
		return -1;
	memset(line, ' ', sizeof(line));
	n = fwd_pos_format(line, sizeof(line), p);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " %016" PRIx64,
	    sum(p));
	line[n] = ' ';
	line[sizeof(line) - 1] = '\n';
	return pwrite(a->fd, line, sizeof(line), 0) == (ssize_t)sizeof(line) ?
	    0 : -1;
}

int
fwd_ack_sync(struct fwd_ack *a)
{
	return a->fd < 0 ? -1 : fdatasync(a->fd);
}

int
fwd_ack_load(struct fwd_pos *p, const char *state_path)
{
	char path[PATH_MAX + 8], line[ACK_LINE + 1];
	uint64_t check;
	ssize_t n;
	int fd, end;

	snprintf(path, sizeof(path), "%s.ack", state_path);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	n = pread(fd, line, ACK_LINE, 0);
	close(fd);
	if (n != ACK_LINE)
		return -1;
	line[n] = '\0';
	if (fwd_pos_parse(p, line, &end) == -1 ||
	    sscanf(line + end, " %" SCNx64, &check) != 1)
		return -1;
	return sum(p) == check ? 0 : -1;
}

void
fwd_ack_set(struct fwd_end *e, uint64_t n, const struct fwd_pos *file,
    uint64_t end)
{
	e->n = n;
	e->dev = file->dev;
	e->ino = file->ino;
	e->off = end;
	e->headlen = file->headlen;
	e->hash = file->hash;
}

void
fwd_ack_sent(struct fwd_ack *a, uint64_t n, const struct fwd_pos *file,
    uint64_t end)
{
	fwd_ack_set(&a->ends[n % FWD_ACK_RING], n, file, end);
}

int
fwd_ack_end(const struct fwd_ack *a, uint64_t n, struct fwd_end *e)
{
	const struct fwd_end *k = &a->ends[n % FWD_ACK_RING];

	if (k->n != n || k->ino == 0)
		return -1;
	*e = *k;
	return 0;
}

void
fwd_ack_pos(const struct fwd_end *e, struct fwd_pos *p)
{
	memset(p, 0, sizeof(*p));
	p->dev = e->dev;
	p->ino = e->ino;
	p->off = e->off;
	p->headlen = e->headlen;
	p->hash = e->hash;
}

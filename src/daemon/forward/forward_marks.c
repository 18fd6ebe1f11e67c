/*
 * Where the recent batches started in the source, by the bytes sent
 * before them (RELP: messages): when the collector goes away with some
 * of ours unread, the forwarder goes back to the last batch before them
 * and sends again from there, so that what is lost comes twice rather
 * than never.
 */
#include <stdio.h>

#include "daemon/forward/forward_int.h"

void
fwd_marks_add(struct fwd_marks *m, uint64_t sent, uint64_t step,
    int64_t now, const struct fwd_pos *at)
{
	struct fwd_mark *k;

	if (m->n > 0 && sent - m->ring[(m->first + m->n - 1) %
	    FWD_MARKS].sent < step)
		return;
	if (m->n == FWD_MARKS) {
		m->first = (m->first + 1) % FWD_MARKS;
		m->n--;
	}
	k = &m->ring[(m->first + m->n++) % FWD_MARKS];
	k->sent = sent;
	k->at = now;
	fwd_ack_set(&k->where, 0, at, at->off);
}

int
fwd_marks_back(struct fwd_marks *m, uint64_t sent, uint64_t back,
    int64_t since, struct fwd_pos *at)
{
	uint64_t target = sent > back ? sent - back : 0;
	struct fwd_mark *k, *pick = NULL;
	unsigned i;

	for (i = 0; i < m->n && back > 0; i++) {
		k = &m->ring[(m->first + i) % FWD_MARKS];
		if (k->at < since)
			continue;
		if (pick == NULL || k->sent <= target)
			pick = k;
		if (k->sent > target)
			break;
	}
	m->n = 0;
	if (pick == NULL)
		return 0;
	fwd_ack_pos(&pick->where, at);
	return 1;
}

void
fwd_marks_clear(struct fwd_marks *m)
{
	m->n = 0;
}

uint64_t
fwd_socket_window(void)
{
	static const char *const f[] = { "/proc/sys/net/ipv4/tcp_wmem",
	    "/proc/sys/net/ipv4/tcp_rmem" };
	unsigned long long lo, mid, hi;
	uint64_t total = 0;
	FILE *fp;
	int i;

	for (i = 0; i < 2; i++) {
		hi = 8ULL << 20;
		if ((fp = fopen(f[i], "re")) != NULL) {
			if (fscanf(fp, "%llu %llu %llu", &lo, &mid, &hi) != 3)
				hi = 8ULL << 20;
			fclose(fp);
		}
		total += hi;
	}
	return total;
}

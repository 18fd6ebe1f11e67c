/*
 * The forwarder's records: a line of the log file in the text format of
 * Tintin_reporter, "[dd/mm/yyyy-hh:mm:ss] [ LEVEL ] - NAME: MSG", turned
 * into an RFC 5424 message by the library's formatter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/forward/forward_int.h"
#include "tintin/tintin.h"

/* "dd/mm/yyyy-hh:mm:ss" (local time) into seconds and UTC offset. */
int
fwd_fmt_stamp(struct fwd_fmt *r, const char *s)
{
	struct tm tm;
	int v[6], i, k, p = 0;
	static const int w[6] = { 2, 2, 4, 2, 2, 2 };

	if (memcmp(s, r->stamp, 19) == 0)
		return 0;
	for (i = 0; i < 6; i++) {
		for (v[i] = 0, k = 0; k < w[i]; k++, p++) {
			if (s[p] < '0' || s[p] > '9')
				return -1;
			v[i] = v[i] * 10 + s[p] - '0';
		}
		p++;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = v[0];
	tm.tm_mon = v[1] - 1;
	tm.tm_year = v[2] - 1900;
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	tm.tm_isdst = -1;
	r->stamp_t = (int64_t)mktime(&tm);
	r->stamp_off = tm.tm_gmtoff;
	memcpy(r->stamp, s, 19);
	return 0;
}

/*
 * A new daemon's "Matt_daemon: started. PID: N." (MSG, LEN bytes, is what
 * follows "NAME: ") names the records that follow.  Only the daemon's own
 * record counts: a client's line saying the same is "User input: ...".
 */
static void
take_pid(struct fwd_fmt *r, const char *name, const char *msg, size_t len)
{
	static const char who[] = "Matt_daemon: ", key[] = "started. PID: ";
	size_t i;

	if (msg - name != sizeof(who) - 1 ||
	    memcmp(name, who, sizeof(who) - 1) != 0 ||
	    len < sizeof(key) || memcmp(msg, key, sizeof(key) - 1) != 0)
		return;
	msg += sizeof(key) - 1;
	len -= sizeof(key) - 1;
	for (i = 0; i < len && i + 1 < sizeof(r->procid) &&
	    msg[i] >= '0' && msg[i] <= '9'; i++)
		r->procid[i] = msg[i];
	if (i > 0)
		r->procid[i] = '\0';
}

/*
 * One text record "[STAMP] [ LEVEL ] - NAME: MSG" of LEN bytes as an
 * RFC 5424 message into r->msg; its length, and its level in *LEVEL.  A
 * line of another shape goes whole, at INFO, stamped now.  The daemon's
 * "started. PID: N." sets the PROCID of this record and the next ones.
 */
size_t
fwd_fmt_record(struct fwd_fmt *r, const char *line, size_t len, int *level)
{
	const char *p, *end = line + len, *lv, *name, *colon;
	char lname[8];

	*level = TINTIN_INFO;
	p = line;
	if (len > 30 && line[0] == '[' && line[20] == ']' &&
	    memcmp(line + 21, " [ ", 3) == 0 && fwd_fmt_stamp(r, line + 1) == 0 &&
	    (lv = memchr(line + 24, ' ', 8)) != NULL && lv - line - 24 < 8 &&
	    end - lv > 5 && memcmp(lv, " ] - ", 5) == 0) {
		memcpy(lname, line + 24, (size_t)(lv - line - 24));
		lname[lv - line - 24] = '\0';
		name = lv + 5;
		colon = memchr(name, ':', (size_t)(end - name));
		if ((*level = tintin_level_parse(lname)) >= 0 && colon != NULL &&
		    colon + 1 < end && colon[1] == ' ') {
			p = colon + 2;
			if (*level == TINTIN_INFO)
				take_pid(r, name, p, (size_t)(end - p));
			return tintin_rfc5424(r->msg, sizeof(r->msg), *level,
			    r->stamp_t, -1, r->stamp_off, r->host, r->app,
			    r->procid, p, (size_t)(end - p));
		}
		*level = TINTIN_INFO;
	}
	return tintin_rfc5424(r->msg, sizeof(r->msg), *level, time(NULL), -1,
	    0, r->host, r->app, r->procid, line, len);
}

size_t
fwd_frame(char *out, const char *msg, size_t len)
{
	char digits[20];
	size_t n = 0, i, v = len;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	for (i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	out[n++] = ' ';
	memcpy(out + n, msg, len);
	return n + len;
}

/*
 * Calendar arithmetic for Tintin_reporter timestamps, free of locks and
 * library calls so that a signal handler can use it.
 */
#include "tintin/tintin.h"
#include "tintin/tintin_time.h"

/* Days since 1970-01-01 to a proleptic Gregorian date. */
void
tintin_civil(int64_t days, int *year, int *month, int *day)
{
	int64_t z, era, doe, yoe, y, doy, mp;

	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;				/* [0, 146096] */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);	/* [0, 365] */
	mp = (5 * doy + 2) / 153;			/* March = 0 */
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(y + (*month <= 2));
}

static void
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void
tintin_split_time(int64_t t, long gmtoff, struct tintin_tm *tm)
{
	int64_t local, days, secs;

	local = t + gmtoff;
	days = local / 86400;
	secs = local % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	tintin_civil(days, &tm->year, &tm->mon, &tm->mday);
	tm->hour = (int)(secs / 3600);
	tm->min = (int)(secs / 60 % 60);
	tm->sec = (int)(secs % 60);
}

void
tintin_format_time(char *buf, int64_t t, long gmtoff)
{
	struct tintin_tm tm;
	int y;

	tintin_split_time(t, gmtoff, &tm);
	y = tm.year < 0 ? 0 : tm.year % 10000;
	put2(buf, tm.mday);
	buf[2] = '/';
	put2(buf + 3, tm.mon);
	buf[5] = '/';
	put2(buf + 6, y / 100);
	put2(buf + 8, y % 100);
	buf[10] = '-';
	put2(buf + 11, tm.hour);
	buf[13] = ':';
	put2(buf + 14, tm.min);
	buf[16] = ':';
	put2(buf + 17, tm.sec);
	buf[19] = '\0';
}

void
tintin_format_iso(char *buf, int64_t t, int ms, long gmtoff)
{
	struct tintin_tm tm;
	long off;
	int y;

	tintin_split_time(t, gmtoff, &tm);
	y = tm.year < 0 ? 0 : tm.year % 10000;
	put2(buf, y / 100);
	put2(buf + 2, y % 100);
	buf[4] = '-';
	put2(buf + 5, tm.mon);
	buf[7] = '-';
	put2(buf + 8, tm.mday);
	buf[10] = 'T';
	put2(buf + 11, tm.hour);
	buf[13] = ':';
	put2(buf + 14, tm.min);
	buf[16] = ':';
	put2(buf + 17, tm.sec);
	buf[19] = '.';
	buf[20] = (char)('0' + ms / 100 % 10);
	put2(buf + 21, ms % 100);
	off = gmtoff;
	buf[23] = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	put2(buf + 24, (int)(off / 3600 % 100));
	buf[26] = ':';
	put2(buf + 27, (int)(off / 60 % 60));
	buf[29] = '\0';
}

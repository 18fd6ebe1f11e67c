/* Internal calendar helpers of Tintin_reporter (not part of the API). */
#ifndef TINTIN_TIME_H
#define TINTIN_TIME_H

#include <stdint.h>

struct tintin_tm {
	int year, mon, mday, hour, min, sec;
};

/* Days since the epoch to year, month (1-12) and day (1-31). */
void	tintin_civil(int64_t days, int *year, int *month, int *day);

/* Seconds since the epoch at offset GMTOFF to broken-down local time. */
void	tintin_split_time(int64_t t, long gmtoff, struct tintin_tm *tm);

/* "2026-11-25T03:41:44.123+01:00" into BUF (at least 30 bytes). */
void	tintin_format_iso(char *buf, int64_t t, int ms, long gmtoff);

#endif /* TINTIN_TIME_H */

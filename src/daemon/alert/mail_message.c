/*
 * Alert mails as RFC 5322 messages: header text made safe, the subject
 * RFC 2047 encoded when it must be, the body quoted-printable, CRLF line
 * ends.  Pure code, no I/O: the queue and delivery are in mail.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/alert/mail.h"

/* A growing string; ERR is set once an allocation failed. */
struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 err;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->err = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Length of the valid UTF-8 character at S (N bytes left), 0 if invalid. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;		/* C1 controls */
	return len;
}

size_t
mail_header_clean(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), o = 0, i = 0, cl;

	if (size == 0)
		return 0;
	while (i < n) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			while (i < n && (s[i] < 0x20 || s[i] == 0x7f))
				i++;
			if (o + 1 >= size)
				break;
			if (o > 0 && dst[o - 1] != ' ')
				dst[o++] = ' ';
			continue;
		}
		if ((cl = utf8_len(s + i, n - i)) == 0) {
			/* A C1 control is two bytes: one '?' for both. */
			i += s[i] == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 &&
			    s[i + 1] <= 0x9f ? 2 : 1;
			if (o + 1 >= size)
				break;
			dst[o++] = '?';
			continue;
		}
		if (o + cl >= size)
			break;
		memcpy(dst + o, s + i, cl);
		o += cl;
		i += cl;
	}
	dst[o] = '\0';
	return o;
}

static size_t
base64(char *dst, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
	    "klmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		dst[o++] = tab[v >> 18];
		dst[o++] = tab[(v >> 12) & 63];
		dst[o++] = tab[(v >> 6) & 63];
		dst[o++] = tab[v & 63];
	}
	if (i < n) {
		v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] <<
		    8 : 0);
		dst[o++] = tab[v >> 18];
		dst[o++] = tab[(v >> 12) & 63];
		dst[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		dst[o++] = '=';
	}
	return o;
}

size_t
mail_encode_subject(char *dst, size_t size, const char *subject)
{
	const unsigned char *s = (const unsigned char *)subject;
	size_t n = strlen(subject), i, chunk, cl, o = 0, need;
	int plain = n <= 68 && strstr(subject, "=?") == NULL;

	for (i = 0; plain && i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			plain = 0;
	if (plain) {
		if (n + 1 > size)
			return 0;
		memcpy(dst, subject, n + 1);
		return n;
	}
	/* Encoded words of 39 bytes (52 in base64): 73 columns at most. */
	for (i = 0; i < n; i += chunk) {
		for (chunk = 0; i + chunk < n; chunk += cl) {
			cl = utf8_len(s + i + chunk, n - i - chunk);
			if (cl == 0)
				cl = 1;
			if (chunk + cl > 39)
				break;
		}
		need = (o ? 3 : 0) + 10 + (chunk + 2) / 3 * 4 + 2 + 1;
		if (o + need > size)
			return 0;
		if (o > 0) {
			memcpy(dst + o, "\r\n ", 3);
			o += 3;
		}
		memcpy(dst + o, "=?UTF-8?B?", 10);
		o += 10;
		o += base64(dst + o, s + i, chunk);
		memcpy(dst + o, "?=", 2);
		o += 2;
	}
	dst[o] = '\0';
	return o;
}

void
mail_date(char *buf, size_t size, time_t t, long gmtoff)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = t + gmtoff;
	long off = gmtoff < 0 ? -gmtoff : gmtoff;
	struct tm tm;

	gmtime_r(&local, &tm);
	snprintf(buf, size, "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    gmtoff < 0 ? '-' : '+', off / 3600, off / 60 % 60);
}

/* BODY as quoted-printable (RFC 2045), lines of at most 76 columns. */
static void
add_qp(struct sbuf *b, const char *body)
{
	const unsigned char *s = (const unsigned char *)body;
	char enc[4];
	size_t col = 0, el;
	int c, last;

	for (; *s != '\0'; s++) {
		c = *s;
		if (c == '\n') {
			sb_add(b, "\r\n", 2);
			col = 0;
			continue;
		}
		last = s[1] == '\n' || s[1] == '\0';
		if ((c >= 33 && c <= 126 && c != '=' && !(c == '.' &&
		    col == 0)) || ((c == ' ' || c == '\t') && !last)) {
			enc[0] = (char)c;
			el = 1;
		} else {
			snprintf(enc, sizeof(enc), "=%02X", (unsigned)c);
			el = 3;
		}
		/* Room for a soft break '=' unless this ends the line. */
		if (col + el > (last ? 76 : 75)) {
			sb_add(b, "=\r\n", 3);
			col = 0;
		}
		sb_add(b, enc, el);
		col += el;
	}
	if (col > 0)
		sb_add(b, "\r\n", 2);
}

char *
mail_build(const char *from, const char (*to)[256], int nto,
    const char *subject, const char *body, time_t t, const char *msgid,
    size_t *lenp)
{
	struct sbuf b = { 0 };
	char clean[1024], enc[2048], date[64], addr[256];
	struct tm tm;
	size_t col;
	int i;

	localtime_r(&t, &tm);
	mail_date(date, sizeof(date), t, tm.tm_gmtoff);
	sb_str(&b, "Date: ");
	sb_str(&b, date);
	mail_header_clean(addr, sizeof(addr), from);
	sb_str(&b, "\r\nFrom: ");
	sb_str(&b, addr);
	sb_str(&b, "\r\nTo: ");
	for (i = 0, col = 4; i < nto; i++) {
		mail_header_clean(addr, sizeof(addr), to[i]);
		if (i > 0) {
			sb_add(&b, ",", 1);
			col++;
			if (col + 1 + strlen(addr) > 76) {
				sb_add(&b, "\r\n", 2);
				col = 0;
			}
			sb_add(&b, " ", 1);
			col++;
		}
		sb_str(&b, addr);
		col += strlen(addr);
	}
	mail_header_clean(clean, sizeof(clean), subject);
	if (mail_encode_subject(enc, sizeof(enc), clean) == 0)
		enc[0] = '\0';
	sb_str(&b, "\r\nSubject: ");
	sb_str(&b, enc);
	sb_str(&b, "\r\nMessage-ID: ");
	sb_str(&b, msgid);
	sb_str(&b, "\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n");
	add_qp(&b, body);
	if (b.err) {
		free(b.p);
		return NULL;
	}
	*lenp = b.len;
	return b.p;
}

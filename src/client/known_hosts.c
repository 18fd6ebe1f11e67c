/* Trust on first use: the server fingerprints a user has accepted, one
 * "host:port FINGERPRINT" line each, in ~/.config/ben_afk/known_hosts. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/afk.h"

int
known_hosts_default(char *path, size_t size, const char *name)
{
	const char *home = getenv("HOME");
	int n;

	if (home == NULL || *home == '\0') {
		errno = ENOENT;
		return -1;
	}
	n = snprintf(path, size, "%s/.config/ben_afk/%s", home, name);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
known_hosts_key(char *key, size_t size, const char *host, const char *port)
{
	int n;

	if (strchr(host, ':') != NULL)
		n = snprintf(key, size, "[%s]:%s", host, port);
	else
		n = snprintf(key, size, "%s:%s", host, port);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
known_hosts_format(char *fp, size_t size, const unsigned char *digest,
    size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	if (len == 0 || size < len * 3) {
		errno = ENOSPC;
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (i > 0)
			fp[o++] = ':';
		fp[o++] = hex[digest[i] >> 4];
		fp[o++] = hex[digest[i] & 0xf];
	}
	fp[o] = '\0';
	return 0;
}

int
known_hosts_valid(const char *fp)
{
	size_t i;

	if (strlen(fp) != 32 * 3 - 1)
		return 0;
	for (i = 0; fp[i] != '\0'; i++) {
		if (i % 3 == 2) {
			if (fp[i] != ':')
				return 0;
		} else if (!isdigit((unsigned char)fp[i]) &&
		    (fp[i] < 'A' || fp[i] > 'F'))
			return 0;
	}
	return 1;
}

/* Split LINE into its two fields in place; 0, or -1 for a comment, a blank
 * or a malformed line (ignored, like ssh does). */
static int
split_line(char *line, char **key, char **fp)
{
	char *save = NULL;

	*key = strtok_r(line, " \t\r\n", &save);
	if (*key == NULL || **key == '#')
		return -1;
	*fp = strtok_r(NULL, " \t\r\n", &save);
	if (*fp == NULL)
		return -1;
	return 0;
}

enum known_hosts_status
known_hosts_check(const char *path, const char *key, const char *fp,
    char old[AFK_FPLEN], int *lineno)
{
	enum known_hosts_status st = KNOWN_HOSTS_UNKNOWN;
	char *line = NULL, *k, *f;
	size_t cap = 0;
	FILE *fh;
	int n = 0;

	fh = fopen(path, "re");
	if (fh == NULL)
		return errno == ENOENT ? KNOWN_HOSTS_UNKNOWN : KNOWN_HOSTS_ERROR;
	while (getline(&line, &cap, fh) != -1) {
		n++;
		if (split_line(line, &k, &f) == -1 || strcmp(k, key) != 0)
			continue;
		if (strcasecmp(f, fp) == 0) {
			st = KNOWN_HOSTS_MATCH;
			break;
		}
		if (st == KNOWN_HOSTS_UNKNOWN) {
			st = KNOWN_HOSTS_CHANGED;
			if (old != NULL)
				snprintf(old, AFK_FPLEN, "%s", f);
			if (lineno != NULL)
				*lineno = n;
		}
	}
	if (ferror(fh))
		st = KNOWN_HOSTS_ERROR;
	free(line);
	fclose(fh);
	return st;
}

int
known_hosts_mkdirs(const char *path)
{
	char dir[4096];
	size_t i, len = strlen(path);

	if (len >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, len + 1);
	/* Each prefix that ends before a '/', the last component excluded. */
	for (i = 1; i < len; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return -1;
		dir[i] = '/';
	}
	return 0;
}

int
known_hosts_add(const char *path, const char *key, const char *fp)
{
	char line[1024];
	int fd, n, saved;

	n = snprintf(line, sizeof(line), "%s %s\n", key, fp);
	if (n < 0 || (size_t)n >= sizeof(line) || strpbrk(key, " \t\n") ||
	    !known_hosts_valid(fp)) {
		errno = EINVAL;
		return -1;
	}
	if (known_hosts_mkdirs(path) == -1)
		return -1;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return -1;
	errno = 0;
	if (write(fd, line, (size_t)n) != n) {
		saved = errno ? errno : EIO;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

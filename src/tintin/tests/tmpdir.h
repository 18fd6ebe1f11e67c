/*
 * A temporary directory for a cmocka test group: made by group_setup,
 * removed with its contents by group_teardown; path_of names a file in
 * it.  Include once per test program, after defining TMPDIR_TEMPLATE.
 */
#ifndef TESTS_TMPDIR_H
#define TESTS_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char dir[] = TMPDIR_TEMPLATE;

static int
group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
path_of(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

#endif

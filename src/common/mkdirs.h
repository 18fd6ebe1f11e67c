/* Creating directories, parents first (mkdir -p). */
#ifndef MKDIRS_H
#define MKDIRS_H

#include <sys/types.h>

/*
 * Create directory DIR and its missing parents with MODE (existing ones
 * are left alone).  0 if DIR is a directory in the end, else -1 with
 * errno (ENOTDIR when something else is in the way).
 */
int	mkdirs(const char *dir, mode_t mode);

/* The same for the directory that holds file PATH. */
int	mkdirs_for(const char *path, mode_t mode);

#endif /* MKDIRS_H */

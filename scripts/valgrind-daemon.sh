#!/bin/sh
# Matt_daemon under valgrind memcheck, used as MATT_DAEMON by
# `make valgrind`.  The daemon's forked processes (the launcher's children,
# the archiver) stay under memcheck without --trace-children, which would
# also trace the programs they exec; each process writes its own report,
# MATT_VG_DIR/vg.<pid>, which the Makefile scans when the suite is done.
#
#   MATT_VG_DIR      where the reports go (required)
#   MATT_VG_BINARY   the daemon (default build/rel/Matt_daemon)
#   MATT_VG_SUPP     suppressions (default scripts/valgrind.supp)
set -eu
: "${MATT_VG_DIR:?MATT_VG_DIR must name the report directory}"
root=$(cd "$(dirname "$0")/.." && pwd)
exec valgrind --tool=memcheck --leak-check=full \
    --errors-for-leak-kinds=definite --error-exitcode=99 \
    --trace-children=no --child-silent-after-fork=no \
    --log-file="$MATT_VG_DIR/vg.%p" \
    --suppressions="${MATT_VG_SUPP:-$root/scripts/valgrind.supp}" \
    "${MATT_VG_BINARY:-$root/build/rel/Matt_daemon}" "$@"

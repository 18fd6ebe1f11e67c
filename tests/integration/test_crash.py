"""A real crash inside the daemon: the async-signal-safe handlers write a
last line and remove the lock.  gdb makes the daemon raise the signal from
inside its own process (si_pid == its own PID), which is exactly what a
fault or abort() looks like to the handler; a signal sent with kill(1)
from outside must instead take the clean, logged path."""

import os
import shutil
import signal
import subprocess

import pytest

GDB = shutil.which("gdb")

pytestmark = pytest.mark.skipif(GDB is None, reason="gdb is not installed")


def gdb_call(pid, expr):
    subprocess.run([GDB, "-q", "-batch", "-nx", "-p", str(pid), "-ex",
                    f"call {expr}"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)


# SIGABRT is blocked like every other signal (so kill -ABRT is logged
# cleanly); abort() unblocks it, hence its own test below.
@pytest.mark.parametrize("sig", ["SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL"])
def test_fatal_signal_raised_inside_logs_and_removes_lock(daemon, sig):
    num = int(getattr(signal, sig))
    gdb_call(daemon.pid, f"(int)raise({num})")
    assert daemon.wait_gone(timeout=10)
    assert daemon.wait_for_message(f"Fatal signal {sig} ({num}): crashing.")
    assert not os.path.exists(daemon.lock)
    # The line has the subject's shape and level.
    assert ("ERROR", f"Fatal signal {sig} ({num}): crashing.") in \
        daemon.records()


def test_abort_logs_and_removes_lock(daemon):
    gdb_call(daemon.pid, "(void)abort()")
    assert daemon.wait_gone(timeout=10)
    assert daemon.wait_for_message("Fatal signal SIGABRT (6): crashing.")
    assert not os.path.exists(daemon.lock)


def test_crash_line_comes_after_earlier_records(daemon):
    s = daemon.connect()
    s.sendall(b"before the crash\n")
    assert daemon.wait_for_message("User input: before the crash")
    gdb_call(daemon.pid, "(int)raise(11)")
    assert daemon.wait_gone(timeout=10)
    msgs = daemon.messages()
    assert msgs.index("User input: before the crash") < \
        msgs.index("Fatal signal SIGSEGV (11): crashing.")
    s.close()


def test_restart_after_crash_takes_the_place(daemon_factory):
    d = daemon_factory().start()
    gdb_call(d.pid, "(int)raise(11)")
    assert d.wait_gone(timeout=10)
    d.start()
    assert d.connectable()
    assert d.stop()

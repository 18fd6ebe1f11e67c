"""Every catchable signal is logged by name and stops the daemon cleanly."""

import os
import shutil
import signal
import subprocess

import pytest

SIGNUMS = [n for n in range(1, 32) if n not in (9, 19)] + list(range(34, 65))


def bash_name(n):
    """The name as bash's `kill -l` prints it (SIGRTMIN+N / SIGRTMAX-N)."""
    if 1 <= n <= 31:
        return signal.Signals(n).name
    if 34 <= n <= 49:
        return "SIGRTMIN" if n == 34 else f"SIGRTMIN+{n - 34}"
    if 50 <= n <= 64:
        return "SIGRTMAX" if n == 64 else f"SIGRTMAX-{64 - n}"
    raise ValueError(n)


def test_signal_names_match_bash_kill_l():
    out = subprocess.run(["bash", "-c", "for n in " +
                          " ".join(map(str, SIGNUMS)) +
                          "; do echo $n $(kill -l $n); done"],
                         capture_output=True, text=True, timeout=10).stdout
    for line in out.splitlines():
        n, name = line.split()
        assert bash_name(int(n)) == "SIG" + name.removeprefix("SIG"), line


@pytest.mark.parametrize("signum", SIGNUMS,
                         ids=[f"{n}-{bash_name(n)}" for n in SIGNUMS])
def test_signal_is_logged_and_stops_daemon(daemon, signum):
    os.kill(daemon.pid, signum)
    assert daemon.wait_gone(), f"still alive after signal {signum}"
    recs = daemon.records()
    assert recs[-2:] == [
        ("INFO", f"Signal handler: received {bash_name(signum)} ({signum}) "
                 f"from pid {os.getpid()}."),
        ("INFO", "Quitting."),
    ], recs[-4:]
    assert not os.path.exists(daemon.lock)


def test_signal_sender_pid_is_the_sender(daemon):
    p = subprocess.run(["bash", "-c", f'kill -USR1 {daemon.pid}; echo $$'],
                       capture_output=True, text=True, timeout=10)
    sender = int(p.stdout.strip())
    assert daemon.wait_gone()
    assert daemon.messages()[-2] == \
        f"Signal handler: received SIGUSR1 (10) from pid {sender}."


def test_signal_closes_clients(daemon):
    s = daemon.connect()
    daemon.wait_for_log(r"\(1/3\)\.$")
    os.kill(daemon.pid, signal.SIGTERM)
    s.settimeout(5)
    try:
        assert s.recv(100) == b""
    except ConnectionResetError:
        pass
    assert daemon.wait_gone()


def test_foreground_sigint_stops_cleanly(daemon_factory):
    d = daemon_factory()
    d.start_foreground(stderr=subprocess.DEVNULL)
    os.kill(d.pid, signal.SIGINT)
    d.fg.wait(timeout=5)
    assert d.messages()[-2:] == [
        f"Signal handler: received SIGINT (2) from pid {os.getpid()}.",
        "Quitting."]
    assert not os.path.exists(d.lock)


def test_real_crash_logs_fatal_signal_and_removes_lock(daemon):
    """Make the daemon jump to address 0 (a genuine kernel SIGSEGV)."""
    if not shutil.which("gdb"):
        pytest.skip("gdb not installed")
    p = subprocess.run(["gdb", "-nx", "-batch", "-p", str(daemon.pid),
                        "-ex", "set $pc = 0", "-ex", "detach"],
                       capture_output=True, text=True, timeout=60)
    if "ptrace" in p.stderr and "Operation not permitted" in p.stderr:
        pytest.skip("ptrace not permitted here")
    assert daemon.wait_gone(10), p.stdout + p.stderr
    assert ("ERROR", "Fatal signal SIGSEGV (11): crashing.") in daemon.records()
    assert not os.path.exists(daemon.lock)

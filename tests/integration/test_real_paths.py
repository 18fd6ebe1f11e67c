"""The subject's real paths and port 4242, with no arguments.

These tests share /var/lock/matt_daemon.lock, /var/log/matt_daemon/ and port
4242, so they run in order inside this module and must not run in parallel
with another copy of the suite.
"""

import fcntl
import os
import shutil
import signal
import socket

import pytest

from conftest import (parse_line, process_gone, recv_until_eof,
                      run_binary, wait_gone, wait_until)

LOCK = "/var/lock/matt_daemon.lock"
LOGDIR = "/var/log/matt_daemon"
LOG = LOGDIR + "/matt_daemon.log"
DEFAULT_CONF = "/etc/matt_daemon/matt_daemon.conf"
PORT = 4242

pytestmark = pytest.mark.real_paths


def port_4242_in_use():
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.create_connection((addr, PORT), timeout=0.5):
                return f"something listens on {addr}:{PORT}"
        except OSError:
            pass
    try:
        with socket.socket() as s:
            # SO_REUSEADDR: TIME-WAIT leftovers of an earlier run are no reason
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", PORT))
    except OSError as e:
        return f"cannot bind 0.0.0.0:{PORT}: {e}"
    return None


def lock_held():
    try:
        fd = os.open(LOCK, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class Real:
    def __init__(self):
        self.pid = None
        self.offset = 0

    def new_records(self):
        with open(LOG, "rb") as f:
            f.seek(self.offset)
            data = f.read().decode("utf-8", "surrogateescape")
        out = []
        for line in data.splitlines():
            r = parse_line(line)
            assert r, f"bad line {line!r}"
            out.append(r)
        return out

    def wait_message(self, msg, timeout=5):
        ok = wait_until(lambda: msg in [m for _, m in self.new_records()], timeout)
        assert ok, f"{msg!r} not logged; got {self.new_records()[-10:]}"

    def kill(self):
        if self.pid and not process_gone(self.pid):
            os.kill(self.pid, signal.SIGKILL)
            wait_gone(self.pid, 5)


@pytest.fixture(scope="module")
def real():
    if os.geteuid() != 0:
        pytest.skip("real-path tests need root")
    why = port_4242_in_use()
    if why:
        pytest.skip(f"port {PORT} busy ({why}); real-path tests skipped")
    if lock_held():
        pytest.skip(f"{LOCK} is held by a running daemon; real-path tests skipped")
    if os.path.exists(DEFAULT_CONF):
        pytest.skip(f"{DEFAULT_CONF} exists; these tests need built-in defaults")
    created_dir = not os.path.exists(LOGDIR)
    r = Real()
    if os.path.exists(LOG):
        r.offset = os.path.getsize(LOG)
    yield r
    r.kill()
    if r.pid and os.path.exists(LOCK):
        try:
            with open(LOCK) as f:
                if f.read().strip() == str(r.pid):
                    os.unlink(LOCK)
        except OSError:
            pass
    if created_dir:
        shutil.rmtree(LOGDIR, ignore_errors=True)


def test_real_start_with_no_arguments(real):
    r = run_binary([], cwd="/")
    assert r.rc == 0, r.err
    with open(LOCK) as f:
        text = f.read()
    assert text.endswith("\n")
    real.pid = int(text)
    assert not process_gone(real.pid)
    recs = real.new_records()
    assert [m for _, m in recs] == ["Started.", "Creating server.",
                                    "Server created.", "Entering Daemon mode.",
                                    f"started. PID: {real.pid}."]
    assert oct(os.stat(LOGDIR).st_mode & 0o777) == oct(0o755)


def test_real_nc_style_line_is_logged(real):
    assert real.pid, "daemon not started"
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(b"hello from the real port\n")
    s.close()
    real.wait_message("User input: hello from the real port")


def test_real_localhost_name_works(real):
    """`nc localhost 4242` must work whatever localhost resolves to first."""
    assert real.pid
    s = socket.create_connection(("localhost", PORT), timeout=5)
    s.sendall(b"via localhost\n")
    s.close()
    real.wait_message("User input: via localhost")


def test_real_peer_address_is_plain_ipv4(real):
    assert real.pid
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    p = s.getsockname()[1]
    real.wait_message(f"Client connected: 127.0.0.1:{p} (1/3).")
    s.close()
    real.wait_message(f"Client disconnected: 127.0.0.1:{p}.")


def test_real_second_instance_refused(real):
    assert real.pid
    before = len(real.new_records())
    r = run_binary([], cwd="/")
    assert r.rc == 1
    assert r.err.strip() == "Can't open :/var/lock/matt_daemon.lock"
    assert real.new_records()[before:] == [
        ("INFO", "Started."), ("ERROR", "Error file locked."), ("INFO", "Quitting.")]
    with open(LOCK) as f:
        assert f.read() == f"{real.pid}\n"
    assert not process_gone(real.pid)


def test_real_quit(real):
    assert real.pid
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(b"quit\n")
    assert recv_until_eof(s) == b""
    s.close()
    assert wait_gone(real.pid, 5)
    assert [m for _, m in real.new_records()][-2:] == ["Request quit.", "Quitting."]
    assert not os.path.exists(LOCK)

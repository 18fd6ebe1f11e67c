"""/shell: the remote shell over TLS (docs/PROTOCOL.md, 4 and 7).

Each test owns its daemon ([tls] optional, [auth] optional with an admin
alice and a user bob, [shell] enabled) and speaks the frame protocol
itself: type byte, 2-byte big-endian length, payload.  Shell PIDs come
from the daemon's own log line; no process is killed here except the
daemon this test started (by the fixture, by PID).  Every wait is bounded.
"""

import hashlib
import os
import pwd
import re
import signal
import socket
import struct
import time

import pytest

from conftest import process_gone, proc_state, wait_gone, wait_until
from tls_helpers import Conn, add_user, client_context, make_daemon, plain, \
    tls

PASSWORD = "Correct Horse-51c0 shell"
BOB_PASSWORD = "bob's other secret 77"

STARTED_RE = (r"^Shell session of {user} from {addr} started: pid (\d+), "
              r"{term} {cols}x{rows}, {cmd} as {as_user}\.$")
ENDED_RE = r"^Shell session of {user} from {addr} ended: pid {pid}, " \
           r"status {status}, \d+s\.$"

# a shell that is hung up gets SIGKILL 2 s later (1 s timer ticks)
KILL_BOUND = 4.0


# --- daemons and sessions ------------------------------------------------------

def shell_daemon(factory, enabled="yes", user="root", command="/bin/sh",
                 auth_mode="optional", sub=None, start=True, **auth):
    """A daemon with TLS, auth, users alice (admin) and bob, [shell]."""
    d = make_daemon(factory, "optional", dict(mode=auth_mode, **auth),
                    sub=sub,
                    extra=f"[shell]\nenabled = {enabled}\nuser = {user}\n"
                          f"command = {command}\n")
    if auth_mode != "off":
        add_user(d, "alice", PASSWORD, admin=True)
        add_user(d, "bob", BOB_PASSWORD)
    if start:
        d.start()
    return d


def login(c, user="alice"):
    pw = PASSWORD if user == "alice" else BOB_PASSWORD
    role = "admin" if user == "alice" else "user"
    assert c.ask(f"/auth password {user} {pw}", timeout=10) == \
        f"+OK authenticated as {user} ({role})"
    return c


def admin(d):
    """An authenticated admin on a TLS session (line mode)."""
    return login(tls(d))


class Shell:
    """The frame side of a session after `+OK shell`."""

    def __init__(self, conn):
        self.c = conn
        self.raw = conn.buf         # bytes already read behind +OK shell
        conn.buf = b""
        self.out = b""              # terminal output ('d' payloads)
        self.status = None          # from the 'x' frame
        self.eof = False
        self.addr = conn.addr       # kept: the socket may be closed later

    def frame(self, ftype, payload=b""):
        self.c.send(ftype + struct.pack(">H", len(payload)) + payload)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        for i in range(0, len(data), 4096):
            self.frame(b"d", data[i:i + 4096])

    def resize(self, rows, cols):
        self.frame(b"w", struct.pack(">HH", rows, cols))

    def _parse(self):
        while len(self.raw) >= 3:
            ftype = self.raw[:1]
            n = struct.unpack(">H", self.raw[1:3])[0]
            if len(self.raw) < 3 + n:
                return
            payload, self.raw = self.raw[3:3 + n], self.raw[3 + n:]
            assert ftype in (b"d", b"x"), f"bad frame type {ftype!r}"
            assert self.status is None, "frame after the exit status"
            assert n <= 4096, f"frame of {n} bytes"
            if ftype == b"d":
                self.out += payload
            else:
                assert n == 4, f"x frame of {n} bytes"
                self.status = struct.unpack(">I", payload)[0]

    def pump(self, timeout=0.2):
        """Read what is there (up to timeout); False at EOF."""
        self._parse()
        if self.eof:
            return False
        self.c.sock.settimeout(timeout)
        try:
            chunk = self.c.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return True
        except (ConnectionResetError, BrokenPipeError, OSError):
            chunk = b""
        if not chunk:
            self.eof = True
            self._parse()
            return False
        self.raw += chunk
        self._parse()
        return True

    def expect(self, pattern, timeout=10.0, start=0):
        """Wait until regex (bytes) matches the output from `start`;
        returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out, start)
            if m:
                return m
            if time.monotonic() >= deadline or not self.pump(
                    min(0.2, max(0.01, deadline - time.monotonic()))):
                m = rx.search(self.out, start)
                if m:
                    return m
                raise AssertionError(
                    f"{pattern!r} not in shell output within {timeout}s "
                    f"(eof={self.eof}): {self.out[-600:]!r}")

    def wait_exit(self, timeout=10.0):
        """The exit status; the daemon closes the connection after it."""
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self.pump(0.2)
        assert self.status is not None, \
            f"no x frame (eof={self.eof}); output {self.out[-400:]!r}"
        assert self.eof, "connection still open after the x frame"
        return self.status

    def drop(self):
        """Close the TCP connection abruptly (RST, no TLS close_notify)."""
        try:
            self.c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.c.close()


PROMPT = rb"[#$] $"      # dash's prompt, root or not


def open_shell(d, args="", conn=None, prompt=True):
    """An admin's shell session; waits for the first prompt (so what is
    sent next is echoed after it) unless prompt is False."""
    c = conn or admin(d)
    line = "/shell" + (" " + args if args else "")
    assert c.ask(line) == "+OK shell"
    sh = Shell(c)
    if prompt:
        sh.expect(PROMPT)
    return sh


def shell_pid(d, sh, user="alice"):
    """The shell's PID, from the daemon's start log line for sh's address."""
    ms = d.wait_for_log(rf"^Shell session of {user} from "
                        rf"{re.escape(sh.addr)} started: pid \d+")
    return int(re.search(r"pid (\d+)", ms[-1]).group(1))


def children(pid):
    """PIDs whose parent is pid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read().decode("ascii", "replace")
        except OSError:
            continue
        if int(data[data.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(name))
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


SLEEPERS = []       # sleep processes our shells started: (pid, start time)


@pytest.fixture(autouse=True)
def kill_our_sleepers():
    """A shell's `sleep 100` that the daemon failed to kill is still ours:
    SIGKILL it by PID (if it is still that process) after the test."""
    yield
    while SLEEPERS:
        pid, started = SLEEPERS.pop()
        if not process_gone(pid) and comm(pid) == "sleep" and \
                start_time(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_gone(pid, 2.0)


def start_time(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()[19]


def start_sleeper(d, sh, ignore_hup=False, prefix=""):
    """Run `sleep 100` in the shell; returns (shell pid, sleep pid)."""
    pid = shell_pid(d, sh)
    sh.send(prefix + ("trap '' HUP; " if ignore_hup else "") +
            "echo SLE''EPING; sleep 100\n")
    sh.expect(rb"SLEEPING")
    sleeper = wait_until(lambda: [p for p in children(pid)
                                  if comm(p) == "sleep"], timeout=5)
    assert sleeper, f"no sleep under shell {pid}: {children(pid)}"
    SLEEPERS.append((sleeper[0], start_time(sleeper[0])))
    return pid, sleeper[0]


def assert_gone(pids, timeout, what):
    t0 = time.monotonic()
    for pid in pids:
        left = max(0.0, timeout - (time.monotonic() - t0))
        assert wait_gone(pid, left), \
            f"{what}: pid {pid} ({comm(pid)}, state {proc_state(pid)}) " \
            f"still there {timeout}s later"


# --- the terminal -------------------------------------------------------------

def test_shell_runs_commands(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    sh.send("echo $((6*7))\n")
    sh.expect(rb"\n42\r?\n")
    sh.send("exit\n")
    assert sh.wait_exit() == 0


def test_shell_exit_status_is_sent_in_an_x_frame(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    sh.send("exit 3\n")
    assert sh.wait_exit() == 3


def test_shell_killed_by_a_signal_reports_128_plus_n(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    sh.send("kill -9 $$\n")
    assert sh.wait_exit() == 128 + 9


def test_shell_terminal_has_the_requested_size(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d, "xterm 33 101")
    sh.send("stty size\n")
    sh.expect(rb"\n33 101\r?\n")


def test_shell_default_size_is_24x80(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    sh.send("stty size; echo TE\"\"RM=$TERM\n")
    sh.expect(rb"\n24 80\r?\n")
    sh.expect(rb"TERM=xterm\r?\n")


def test_shell_window_frame_resizes_the_terminal(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d, "xterm 33 101")
    sh.send("stty size\n")
    m = sh.expect(rb"\n33 101\r?\n")
    sh.resize(50, 120)
    sh.send("stty size\n")
    sh.expect(rb"\n50 120\r?\n", start=m.end())


def test_shell_frames_right_behind_the_shell_line_are_kept(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = admin(d)
    frame = b"echo $((7*6))0\n"
    c.send(b"/shell\n" + b"d" + struct.pack(">H", len(frame)) + frame)
    assert c.line() == b"+OK shell\n"
    sh = Shell(c)
    sh.expect(rb"(\n|# )420\r?\n")


def test_shell_environment_is_clean(daemon_factory, monkeypatch):
    monkeypatch.setenv("MD_SECRET_TEST", "1")
    d = shell_daemon(daemon_factory)
    sh = open_shell(d, "vt220-test 24 80")
    sh.send("env | sed 's/^/ENV:/'; echo EN''D\n")
    m = sh.expect(rb"\nEND\r?\n")
    env = {}
    for line in sh.out[:m.start()].decode(errors="replace").splitlines():
        if line.startswith("ENV:") and "=" in line:
            k, v = line[4:].rstrip("\r").split("=", 1)
            env[k] = v
    assert env.get("TERM") == "vt220-test", env
    assert env.get("HOME") == pwd.getpwnam("root").pw_dir, env
    assert env.get("SHELL") == "/bin/sh", env
    assert env.get("USER") == "root", env
    assert env.get("LOGNAME") == "root", env
    assert "/usr/bin" in env.get("PATH", "").split(":"), env
    # nothing from the daemon's own environment
    for leaked in ("MD_SECRET_TEST", "ASAN_OPTIONS", "PYTEST_CURRENT_TEST"):
        assert leaked not in env, f"{leaked} leaked into the shell: {env}"


def test_shell_command_gets_exactly_the_documented_environment(
        daemon_factory, monkeypatch):
    """[shell] command = /usr/bin/env: no login profile in the way."""
    monkeypatch.setenv("MD_SECRET_TEST", "1")
    d = shell_daemon(daemon_factory, command="/usr/bin/env")
    sh = open_shell(d, "screen 24 80", prompt=False)
    assert sh.wait_exit() == 0
    lines = [ln for ln in sh.out.decode(errors="replace").split("\r\n") if ln]
    env = dict(ln.split("=", 1) for ln in lines)
    assert sorted(env) == ["HOME", "LOGNAME", "PATH", "SHELL", "TERM",
                           "USER"], env
    assert env["TERM"] == "screen"
    assert env["SHELL"] == "/usr/bin/env"
    assert env["USER"] == env["LOGNAME"] == "root"
    assert env["HOME"] == pwd.getpwnam("root").pw_dir


def test_shell_runs_as_the_configured_user(daemon_factory):
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    d = shell_daemon(daemon_factory, user="nobody")
    sh = open_shell(d)
    sh.send("echo ID=$(id -u):$(id -g) U=$USER H=$HOME\n")
    sh.expect(rf"ID={pw.pw_uid}:{pw.pw_gid} U=nobody H={pw.pw_dir}\r?\n"
              .encode())
    d.wait_for_log(rf"^Shell session of alice from {re.escape(sh.addr)} "
                   r"started: pid \d+, xterm 80x24, /bin/sh as nobody\.$")


def test_shell_runs_as_root_when_configured(daemon_factory):
    d = shell_daemon(daemon_factory, user="root")
    sh = open_shell(d)
    sh.send("echo ID=$(id -u)\n")
    sh.expect(rb"ID=0\r?\n")


def test_shell_carries_every_byte_value_both_ways(daemon_factory, tmp_path):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    data = bytes(range(256))
    path = tmp_path / "bytes.bin"
    # raw mode: the line discipline passes every byte through as it is
    sh.send(f"stty raw -echo; echo REA''DY; head -c 256 > {path}; "
            f"echo WRI''TTEN\n")
    m = sh.expect(rb"READY")
    sh.send(data)
    m = sh.expect(rb"WRITTEN", start=m.end())
    assert path.read_bytes() == data
    # and back: cat in raw mode (no output processing) sends them intact
    sh.send(f"printf '<<'; cat {path}; printf '>>'\n")
    m = sh.expect(re.compile(rb"<<(.{256})>>", re.S), start=m.end())
    assert m.group(1) == data
    sh.send("stty sane; exit 0\n")
    assert sh.wait_exit() == 0


def test_shell_output_larger_than_a_frame_arrives_whole(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    sh.send("stty -opost; head -c 300000 /dev/zero | tr '\\0' a; "
            "echo; echo DO''NE\n")
    m = sh.expect(rb"DONE", timeout=20)
    assert b"a" * 300000 in sh.out[:m.start()]


def test_bad_frame_type_closes_the_session(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    pid = shell_pid(d, sh)
    sh.frame(b"q", b"xyz")
    deadline = time.monotonic() + 5
    while sh.pump(0.2) and time.monotonic() < deadline:
        pass
    assert sh.eof, "session not closed after a bad frame"
    assert_gone([pid], KILL_BOUND, "shell after a bad frame")


# --- the end of a session ------------------------------------------------------

def test_dropped_connection_ends_the_shell(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    pid, sleeper = start_sleeper(d, sh)
    sh.drop()
    assert_gone([pid, sleeper], 3.0, "dropped connection")
    d.wait_for_log(rf"^Shell session of alice from {re.escape(sh.addr)} "
                   rf"hung up: pid {pid}\.$")
    assert d.alive()


def test_dropped_connection_kills_a_shell_that_ignores_sighup(
        daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    pid, sleeper = start_sleeper(d, sh, ignore_hup=True)
    t0 = time.monotonic()
    sh.drop()
    assert_gone([pid, sleeper], KILL_BOUND, "SIGHUP-proof shell")
    assert time.monotonic() - t0 < KILL_BOUND
    assert d.alive()


def start_background_job(d, sh):
    """`sleep 100 &` in the shell (its own process group under job
    control); returns (shell pid, job pid)."""
    pid = shell_pid(d, sh)
    sh.send("sleep 100 & echo BG''PID=$!\n")
    bg = int(sh.expect(rb"BGPID=(\d+)").group(1))
    # $! is known at fork, before the job has exec'd sleep: wait for it.
    assert wait_until(lambda: comm(bg) == "sleep", timeout=5), comm(bg)
    SLEEPERS.append((bg, start_time(bg)))
    return pid, bg


def test_dropped_connection_leaves_no_background_job(daemon_factory):
    """Issue 6: no orphan shell processes survive the session."""
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    pid, bg = start_background_job(d, sh)
    sh.drop()
    assert_gone([pid, bg], KILL_BOUND, "background job after a drop")


def test_daemon_stop_leaves_no_background_job(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    pid, bg = start_background_job(d, sh)
    os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone(5.0), "daemon did not stop"
    assert_gone([pid, bg], 3.0, "background job after SIGTERM")


def test_dropped_connection_logs_the_end_with_an_exit_status(
        daemon_factory):
    """Issue 6: session start and end are logged with user, address,
    PID and exit status, whatever ended the session."""
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    pid = shell_pid(d, sh)
    sh.send("echo UP''NOW\n")
    sh.expect(rb"UPNOW")
    sh.drop()
    assert_gone([pid], 3.0, "dropped connection")
    d.wait_for_log(rf"^Shell session of alice from {re.escape(sh.addr)} "
                   rf"\S+.*pid {pid}\b.*status \d+")


@pytest.mark.parametrize("how", ["quit", "sigterm"])
def test_daemon_stop_kills_running_shells(daemon_factory, how):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    pid, sleeper = start_sleeper(d, sh)
    if how == "quit":
        c = admin(d)
        c.send("quit\n")
    else:
        os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone(5.0), "daemon did not stop"
    assert_gone([pid, sleeper], 3.0, f"shell after {how}")
    deadline = time.monotonic() + 5
    while sh.pump(0.2) and time.monotonic() < deadline:
        pass
    assert sh.eof, "shell connection still open after the daemon stopped"


def test_daemon_stop_kills_a_shell_that_ignores_sighup(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    pid, sleeper = start_sleeper(d, sh, ignore_hup=True)
    os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone(5.0), "daemon did not stop"
    assert_gone([pid, sleeper], 3.0, "SIGHUP-proof shell after SIGTERM")


def test_shell_start_and_end_are_logged(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d, "vt100 30 90")
    addr = re.escape(sh.addr)
    ms = d.wait_for_log(STARTED_RE.format(
        user="alice", addr=addr, term="vt100", cols=90, rows=30,
        cmd="/bin/sh", as_user="root"))
    pid = int(re.search(r"pid (\d+)", ms[-1]).group(1))
    assert pid > 1 and not process_gone(pid)
    sh.send("exit 5\n")
    assert sh.wait_exit() == 5
    d.wait_for_log(ENDED_RE.format(user="alice", addr=addr, pid=pid,
                                   status=5))
    levels = {m: lvl for lvl, m in d.records()}
    started = [m for m in levels if re.match(r"Shell session .* started", m)]
    ended = [m for m in levels if re.match(r"Shell session .* ended", m)]
    assert [levels[m] for m in started + ended] == ["INFO", "INFO"]
    d.wait_for_log(rf"^Client disconnected: {addr}\b")


def test_after_the_shell_ends_its_slot_is_free(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    others = [plain(d), plain(d)]
    for o in others:
        o.sync()
    sh.send("exit\n")
    assert sh.wait_exit() == 0
    c = wait_until(lambda: _try_ping(d), timeout=5)
    assert c, "no slot free after the shell ended"


def _try_ping(d):
    c = plain(d)
    try:
        return c.ask("/ping") == "+OK pong"
    except AssertionError:
        return False
    finally:
        c.close()


def test_a_shell_takes_one_of_the_three_client_slots(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    others = [plain(d), plain(d)]
    for o in others:
        o.sync()
    fourth = plain(d)
    assert fourth.line() == b"-ERR too many clients (max 3)\n"
    fourth.eof()
    # the shell is still fine
    sh.send("echo $((6*7))\n")
    sh.expect(rb"\n42\r?\n")


# --- refusals ------------------------------------------------------------------

def refused_logged(d, addr):
    """A WARN line about the refused /shell from addr."""
    a = re.escape(addr)
    ms = d.wait_for_log(rf"^(Shell refused to {a} \(|Refused /shell from "
                        rf"{a} \()")
    assert any(lvl == "WARN" and m == ms[-1] for lvl, m in d.records())
    return ms[-1]


def test_shell_refused_on_a_plain_session(daemon_factory):
    d = shell_daemon(daemon_factory, allow_plaintext="yes")
    c = login(plain(d))
    assert c.ask("/shell") == "-ERR shell needs TLS"
    assert "not over TLS" in refused_logged(d, c.addr)
    c.sync()        # still a line session


def test_shell_refused_to_an_anonymous_tls_client(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = tls(d)
    assert c.ask("/shell") == "-ERR permission denied"
    refused_logged(d, c.addr)
    c.sync()


def test_shell_refused_to_a_plain_anonymous_client(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = plain(d)
    assert c.ask("/shell xterm 24 80") == "-ERR permission denied"
    refused_logged(d, c.addr)
    c.sync()


def test_shell_refused_to_a_user_who_is_not_admin(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = login(tls(d), "bob")
    assert c.ask("/shell") == "-ERR permission denied"
    assert "(bob)" in refused_logged(d, c.addr)
    c.sync()


def test_shell_refused_when_auth_is_off(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="off")
    c = tls(d)
    assert c.ask("/shell") == "-ERR permission denied"
    refused_logged(d, c.addr)
    c.sync()


def test_shell_refused_when_disabled(daemon_factory):
    d = shell_daemon(daemon_factory, enabled="no")
    c = admin(d)
    assert c.ask("/shell") == "-ERR shell is disabled"
    assert "disabled" in refused_logged(d, c.addr)
    c.sync()


def test_shell_refused_when_the_command_cannot_start(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = admin(d)
    assert c.ask("/shell bad/term 24 80") == "-ERR cannot start the shell"
    assert c.ask("/shell xterm 0 80") == "-ERR cannot start the shell"
    d.wait_for_log(rf"^Shell for alice from {re.escape(c.addr)} failed: ")
    c.sync()


def test_no_shell_process_after_refusals(daemon_factory):
    d = shell_daemon(daemon_factory, enabled="no")
    before = set(children(d.pid))
    c = admin(d)
    assert c.ask("/shell") == "-ERR shell is disabled"
    c.sync()
    assert not [p for p in set(children(d.pid)) - before
                if comm(p) in ("sh", "dash", "bash")]


# --- flow control (issue 15) ---------------------------------------------

def test_shell_input_sent_while_the_command_sleeps_all_arrives(daemon_factory):
    """300,000 bytes sent while the shell runs `sleep 3`: the terminal
    fills, the daemon stops reading the session until it drains, and
    every byte reaches the command (none dropped)."""
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    data = os.urandom(300000)
    sh.send("stty raw -echo -iexten; echo REA''DY; sleep 3; "
            "head -c 300000 | sha256sum; echo DO''NE\n")
    m = sh.expect(rb"READY")
    sh.c.sock.settimeout(60)        # sendall waits while the daemon does
    sh.send(data)
    m = sh.expect(rb"([0-9a-f]{64})  -\s+DONE", timeout=60, start=m.end())
    assert m.group(1).decode() == hashlib.sha256(data).hexdigest()
    sh.send("stty sane; exit 0\n")
    assert sh.wait_exit() == 0


def test_shell_frames_behind_a_pipelined_auth_and_shell_are_kept(
        daemon_factory):
    """/auth pauses the session (password check) with /shell and a frame
    read behind it: once resumed, the frame goes to the terminal."""
    d = shell_daemon(daemon_factory)
    c = tls(d)
    cmd = b"echo KE''PT$((6*7))\n"
    c.send(f"/auth password alice {PASSWORD}\n/shell\n".encode() +
           b"d" + struct.pack(">H", len(cmd)) + cmd)
    assert c.line(10) == b"+OK authenticated as alice (admin)\n"
    assert c.line(10) == b"+OK shell\n"
    sh = Shell(c)
    sh.expect(rb"KEPT42")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


def read_frames_until(sh, marker, timeout, limit=64 << 20):
    """Read the session's 'd' frames (without keeping them) until marker
    shows in the output; returns the output bytes read."""
    buf = bytearray(sh.raw)
    sh.raw = b""
    tail, total = b"", 0
    deadline = time.monotonic() + timeout
    while True:
        off = 0
        while len(buf) - off >= 3:
            n = int.from_bytes(buf[off + 1:off + 3], "big")
            if len(buf) - off < 3 + n:
                break
            assert buf[off:off + 1] == b"d", f"frame {buf[off:off + 1]!r}"
            tail = tail[-len(marker):] + bytes(buf[off + 3:off + 3 + n])
            total += n
            off += 3 + n
            if marker in tail:
                sh.raw = bytes(buf[off:])
                return total
        del buf[:off]
        left = deadline - time.monotonic()
        assert left > 0 and total < limit, \
            f"{marker!r} not seen after {total} bytes: {tail[-200:]!r}"
        sh.c.sock.settimeout(min(left, 1.0))
        try:
            chunk = sh.c.sock.recv(1 << 20)
        except (socket.timeout, TimeoutError):
            continue
        assert chunk, f"EOF before {marker!r} after {total} bytes"
        buf += chunk


def test_shell_output_never_read_costs_bounded_memory(daemon_factory):
    """`yes` on a session that reads nothing: the daemon stops reading
    the terminal while the client's buffer is full, so its memory stays
    bounded; it serves other clients meanwhile, and the session is not
    closed for it: read again, it goes on."""
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    base = rss_kib(d.pid)
    sh.send("stty -opost; yes\n")
    samples = []
    for _ in range(8):
        time.sleep(0.5)
        samples.append(rss_kib(d.pid))
        assert d.alive(), "daemon gone"
    assert max(samples) - base < 32 * 1024, \
        f"daemon RSS grew from {base} KiB to {samples} KiB"
    assert _try_ping(d), "another client is not served"
    assert not re.search(r"disconnected: .*\(not reading",
                         d.log_text()), "the shell session was closed"
    # the session goes on: output flows again, ^C stops yes
    read_frames_until(sh, b"y\ny\ny\n", timeout=30)
    sh.send("\x03")
    sh.send("echo MA''RK\n")
    read_frames_until(sh, b"MARK", timeout=60)
    sh.send("exit 0\n")
    assert sh.wait_exit() == 0


def lagging_shell(d):
    """A shell session on a socket with a small receive buffer."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    raw.settimeout(5.0)
    raw.connect(("127.0.0.1", d.port))
    c = Conn(client_context().wrap_socket(raw, server_hostname=None))
    return open_shell(d, conn=login(c))


def test_shell_output_written_just_before_exit_arrives_whole(daemon_factory):
    """The 'x' frame waits for the terminal's last output: a shell that
    ends while the client lags (its buffer full, the terminal not read)
    loses nothing of what it wrote."""
    d = shell_daemon(daemon_factory)
    sh = lagging_shell(d)
    n = 2 << 20
    sh.send(f"stty -opost -echo; printf 'G%sO' ''; "
            f"head -c {n} /dev/zero | tr '\\0' a; exit 3\n")
    buf, head, total, status = bytearray(sh.raw), b"", None, None
    sh.raw = b""
    deadline = time.monotonic() + 60
    while True:
        off = 0
        while len(buf) - off >= 3:
            ln = int.from_bytes(buf[off + 1:off + 3], "big")
            if len(buf) - off < 3 + ln:
                break
            ftype, p = buf[off:off + 1], bytes(buf[off + 3:off + 3 + ln])
            off += 3 + ln
            assert status is None, "frame after the exit status"
            if ftype == b"x":
                status = int.from_bytes(p, "big")
            elif total is None:
                head += p
                if b"GO" in head:
                    total = len(head) - head.index(b"GO") - 2
                    assert head.count(b"a", head.index(b"GO")) == total
            else:
                total += len(p)
                assert p.count(b"a") == len(p), p[:100]
        del buf[:off]
        left = deadline - time.monotonic()
        assert left > 0, f"no end within 60 s: {total} bytes, {status}"
        sh.c.sock.settimeout(min(left, 1.0))
        try:
            chunk = sh.c.sock.recv(16384)   # slowly: the client lags
        except (socket.timeout, TimeoutError):
            continue
        if not chunk:
            break
        buf += chunk
        time.sleep(0.005)
    assert status == 3
    assert total == n, f"{n - total} bytes of output lost"


def test_shell_ends_even_if_a_background_job_floods_output(daemon_factory):
    """The 'x' frame waits for the terminal's last output, but not for
    a job that writes on: the session ends, the job is hung up."""
    d = shell_daemon(daemon_factory)
    sh = lagging_shell(d)
    sh.send("stty -opost -echo; yes & echo BG''PID=$!; sleep 1; exit 5\n")
    sh.expect(rb"BGPID=(\d+)")
    bg = int(re.search(rb"BGPID=(\d+)", sh.out).group(1))
    sh.out = b""
    deadline = time.monotonic() + 30
    while sh.status is None and not sh.eof and time.monotonic() < deadline:
        sh.pump(0.2)            # asserts that no frame follows the 'x'
        sh.out = sh.out[-100:]  # keeps the parse cheap
        time.sleep(0.005)       # the client lags
    assert sh.wait_exit(10) == 5
    assert_gone([bg], KILL_BOUND, "background yes after the session")


def test_shell_session_reset_while_its_input_waits_is_closed(daemon_factory):
    """A session whose input waits for a terminal that does not read
    (sleep), then reset by its client: the daemon notices (no spinning
    on the reset) and hangs the shell up."""
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    # raw: a full line in canonical mode drops, it does not hold
    pid, sleeper = start_sleeper(d, sh, prefix="stty raw -echo; ")
    sh.c.sock.settimeout(30)
    sh.send(b"x" * 300000)     # more than the terminal takes: held
    time.sleep(0.5)
    sh.drop()
    d.wait_for_log(rf"^Client disconnected: {re.escape(sh.addr)} \(",
                   timeout=5)
    assert_gone([pid, sleeper], KILL_BOUND, "shell after the reset")


# --- nothing started in a session outlives it (issue 15, item 7) -------------
#
# A session's processes may leave its process group and its session
# (setsid), or its process tree (a double fork), or ignore the hang-up
# (nohup): the shell's reaper gets them all back and kills them, on `exit`
# as on a dropped connection.  Each sleep has a unique argument, so the
# scan of /proc finds exactly ours.

import random

ESCAPES = {
    "setsid": "setsid sleep {arg} &",
    "double_fork": "(sleep {arg} &)",
    "nohup": "nohup sleep {arg} >/dev/null 2>&1 &",
}
ESCAPE_BASE = {"setsid": 321, "double_fork": 322, "nohup": 323}


def pids_running(argv):
    """PIDs whose command line is exactly argv."""
    want = b"\0".join(a.encode() for a in argv) + b"\0"
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if f.read() == want:
                    out.append(int(name))
        except OSError:
            pass
    return out


def start_escapee(d, sh, how):
    """Start one escaping sleep; returns its argv and PID (running)."""
    arg = f"{ESCAPE_BASE[how]}.{random.randrange(10**6):06d}"
    argv = ["sleep", arg]
    sh.send(ESCAPES[how].format(arg=arg) + "\necho STAR''TED\n")
    sh.expect(rb"STARTED")
    pids = wait_until(lambda: pids_running(argv), timeout=5)
    assert pids, f"{how}: {argv} never ran"
    SLEEPERS.append((pids[0], start_time(pids[0])))
    return argv, pids[0]


@pytest.mark.parametrize("how", sorted(ESCAPES))
def test_exit_leaves_no_process_of_the_session(daemon_factory, how):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    argv, pid = start_escapee(d, sh, how)
    sh.send("exit 5\n")
    assert sh.wait_exit() == 5      # the shell's own status, exactly
    assert wait_until(lambda: not pids_running(argv), timeout=5), \
        f"{how}: {argv} (pid {pid}) outlived the session's exit"


@pytest.mark.parametrize("how", sorted(ESCAPES))
def test_dropped_connection_leaves_no_process_of_the_session(
        daemon_factory, how):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    argv, pid = start_escapee(d, sh, how)
    sh.drop()
    assert wait_until(lambda: not pids_running(argv), timeout=KILL_BOUND), \
        f"{how}: {argv} (pid {pid}) outlived the dropped connection"
    assert d.alive()


def test_daemon_stop_leaves_no_process_of_any_session(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    escaped = [start_escapee(d, sh, how)[0] for how in sorted(ESCAPES)]
    os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone(5.0), "daemon did not stop"
    for argv in escaped:
        assert wait_until(lambda: not pids_running(argv), timeout=5), \
            f"{argv} outlived the daemon"


def test_signal_status_is_exact_through_the_reaper(daemon_factory):
    """The shell killed by SIGUSR1 (10): the x frame says 138."""
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    sh.send("kill -USR1 $$\n")
    assert sh.wait_exit() == 128 + int(signal.SIGUSR1)

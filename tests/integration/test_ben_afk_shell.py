"""Ben_AFK --shell (and /shell interactively) against the real Matt_daemon.

Each test owns its daemon ([tls] optional, [auth] optional, [shell]
enabled, an admin alice and a user bob) and runs the client with HOME in
its temp directory, the server pinned in advance.  Terminal tests drive
the client in a private tmux server (its own socket in tmp_path) of a
fixed size; each kills that server at the end.  Only processes started
here are killed, by PID; every wait is bounded.
"""

import hashlib
import os
import pwd
import re
import select
import shlex
import signal
import subprocess
import time

import pytest

from conftest import process_gone, wait_gone, wait_until
from tmux_driver import Tmux, tmux_panes
from test_ben_afk import BEN_AFK, PASSWORD, add_user, afk, known_hosts, make, \
    md

RUN_TIMEOUT = 40
PROMPT = re.compile(r"[#$]$")       # dash's prompt (capture-pane trims it)


# --- helpers -------------------------------------------------------------------

def shell_daemon(factory, enabled="yes", mode="optional"):
    """A started daemon whose admin alice may open a shell; pinned."""
    d = make(factory, tls="optional", auth=dict(mode=mode))
    user = pwd.getpwuid(os.getuid()).pw_name
    d.extra_text += (f"[shell]\nenabled = {enabled}\nuser = {user}\n"
                     f"command = /bin/sh\n")
    d.write_config()
    add_user(d, "alice", admin=True)
    add_user(d, "bob")
    d.start()
    fp = md(d, "--fingerprint").stdout.strip()
    kh = known_hosts(d.tmp)
    kh.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    kh.write_text(f"127.0.0.1:{d.port} {fp}\n")
    os.chmod(kh, 0o600)
    return d


def shell_pid(d, user="alice"):
    """The shell's PID from the daemon's log line."""
    ms = d.wait_for_log(rf"^Shell session of {user} from \S+ started: "
                        r"pid \d+", timeout=10)
    return int(re.search(r"pid (\d+)", ms[-1]).group(1))


def argv(d, *args):
    return [BEN_AFK, "-H", "127.0.0.1", "-p", str(d.port)] + \
        [str(a) for a in args]


class Pipe:
    """Ben_AFK with stdin and stdout as pipes, read as they come."""

    def __init__(self, d, *args, user="alice"):
        env = dict(os.environ, HOME=str(d.tmp), BEN_AFK_PASSWORD=PASSWORD)
        self.p = subprocess.Popen(argv(d, "--shell", "-u", user, *args),
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env,
                                  start_new_session=True)
        self.out = b""

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def read_until(self, needle, timeout=10):
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while needle not in self.out:
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} never came: {self.out[-300:]!r}"
            r, _, _ = select.select([fd], [], [], min(left, 0.2))
            if r:
                chunk = os.read(fd, 65536)
                assert chunk, f"EOF before {needle!r}: {self.out[-300:]!r}"
                self.out += chunk
        return self.out

    def finish(self, timeout=RUN_TIMEOUT):
        """Close stdin and wait: (exit status, stderr)."""
        rest, err = self.p.communicate(timeout=timeout)
        self.out += rest
        return self.p.returncode, err.decode("utf-8", "replace")

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=5)


@pytest.fixture
def pipes():
    made = []

    def start(*args, **kw):
        p = Pipe(*args, **kw)
        made.append(p)
        return p

    yield start
    for p in made:
        p.kill()


class ShellPane(Tmux):
    """A 100x30 tmux pane running one script; `exec` in it makes the
    pane's process Ben_AFK itself."""

    def __init__(self, tmp_path, script):
        super().__init__(tmp_path, script, 100, 30, name="tmux-shell")

    def wait(self, pattern, timeout=10):
        self.wait_re(pattern, timeout)

    def prompt(self, timeout=10):
        """Wait for the remote shell's prompt on the last line."""
        def at_prompt():
            lines = self.screen().rstrip("\n").split("\n")
            return PROMPT.search(lines[-1])
        ok = wait_until(at_prompt, timeout, 0.05)
        assert ok, f"no prompt; screen:\n{self.screen()}"


@pytest.fixture
def tmux(tmp_path):
    yield from tmux_panes(tmp_path, ShellPane)


def client_script(d, *args, user="alice", exec_=False):
    """A pane script: save the tty settings, run Ben_AFK --shell, write its
    status and the tty settings after it, show EXIT=N and linger."""
    cmd = " ".join(shlex.quote(a) for a in argv(d, "--shell", "-u", user,
                                                  *args))
    env = (f"HOME={shlex.quote(str(d.tmp))} "
           f"BEN_AFK_PASSWORD={shlex.quote(PASSWORD)}")
    if exec_:
        return f"exec env {env} {cmd}\n"
    t = shlex.quote(str(d.tmp))
    return (f"stty -g > {t}/tty.before\n"
            f"env {env} {cmd}\n"
            f"rc=$?\n"
            f"stty -g > {t}/tty.after\n"
            f"echo $rc > {t}/status\n"
            f"echo EXIT=$rc\n"
            f"sleep 60\n")


def status(d, timeout=10):
    path = d.tmp / "status"
    ok = wait_until(lambda: path.exists() and path.read_text().strip(),
                    timeout)
    assert ok, "Ben_AFK did not exit"
    return int(path.read_text())


# --- terminal, through tmux --------------------------------------------------------

def test_window_size_is_passed_and_follows_a_resize(daemon_factory, tmux):
    d = shell_daemon(daemon_factory)
    t = tmux(client_script(d))
    t.prompt()
    rows, cols = t.size()
    t.keys("stty size", "Enter")
    t.wait(rf"^{rows} {cols}\s*$")
    t.tmux("resize-window", "-t", "afk", "-x", "120", "-y", "40")
    assert wait_until(lambda: t.size() == (40, 120), 5), t.size()
    t.keys("clear; stty size", "Enter")
    t.wait(r"^40 120\s*$")
    t.keys("exit", "Enter")
    assert status(d) == 0


def test_commands_run_and_exit_status_is_the_shells(daemon_factory, tmux):
    d = shell_daemon(daemon_factory)
    t = tmux(client_script(d))
    t.prompt()
    t.keys("echo $((6*7))", "Enter")
    t.wait(r"^42\s*$")
    t.keys("exit 3", "Enter")
    assert status(d) == 3
    t.wait(r"^EXIT=3$")
    # the terminal is back as it was
    assert (d.tmp / "tty.before").read_text() == \
        (d.tmp / "tty.after").read_text()
    d.wait_for_log(r"^Shell session of alice from \S+ ended: pid \d+, "
                   r"status 3")


def test_ctrl_c_and_ctrl_d_go_to_the_remote_side(daemon_factory, tmux):
    d = shell_daemon(daemon_factory)
    t = tmux(client_script(d))
    t.prompt()
    t.keys("sleep 100", "Enter")
    t.wait(r"sleep 100\s*$")
    time.sleep(0.3)
    t.keys("C-c")
    t.prompt()
    t.keys("echo $((7*8))", "Enter")
    t.wait(r"^56\s*$")
    assert not (d.tmp / "status").exists()     # Ben_AFK lives on
    t.keys("C-d")                   # end of input for the remote shell
    assert status(d) == 0


def test_killing_the_client_leaves_no_shell(daemon_factory, tmux):
    d = shell_daemon(daemon_factory)
    t = tmux(client_script(d, exec_=True))
    t.prompt()
    pid = shell_pid(d)
    client = t.pane_pid()
    with open(f"/proc/{client}/cmdline", "rb") as f:
        assert os.path.basename(f.read().split(b"\0")[0]) == b"Ben_AFK"
    assert not process_gone(pid)
    os.kill(client, signal.SIGKILL)
    assert wait_gone(pid, 10), f"shell {pid} outlived its client"
    d.wait_for_log(rf"^Shell session of alice from \S+ hung up: pid {pid}")
    assert d.alive()


def child_pids(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def test_sigterm_restores_the_terminal_and_hangs_up(daemon_factory, tmux):
    d = shell_daemon(daemon_factory)
    t = tmux(client_script(d))
    t.prompt()
    pid = shell_pid(d)
    # the pane runs sh pane.sh, whose child is env exec'ing Ben_AFK
    kids = wait_until(lambda: child_pids(t.pane_pid()), 5)
    assert len(kids) == 1, kids
    with open(f"/proc/{kids[0]}/cmdline", "rb") as f:
        assert os.path.basename(f.read().split(b"\0")[0]) == b"Ben_AFK"
    os.kill(kids[0], signal.SIGTERM)
    assert status(d) == 128 + signal.SIGTERM
    assert (d.tmp / "tty.before").read_text() == \
        (d.tmp / "tty.after").read_text()
    assert wait_gone(pid, 10), f"shell {pid} outlived its client"


def test_quitting_the_daemon_kills_the_shell(daemon_factory, tmux):
    d = shell_daemon(daemon_factory)
    t = tmux(client_script(d))
    t.prompt()
    pid = shell_pid(d)
    os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone(10)
    assert wait_gone(pid, 10), f"shell {pid} outlived the daemon"
    assert status(d) != 0
    t.wait(r"^Ben_AFK: connection lost")
    assert (d.tmp / "tty.before").read_text() == \
        (d.tmp / "tty.after").read_text()


def test_interactive_slash_shell(daemon_factory, tmux):
    d = shell_daemon(daemon_factory)
    env = (f"HOME={shlex.quote(str(d.tmp))} "
           f"BEN_AFK_PASSWORD={shlex.quote(PASSWORD)}")
    cmd = " ".join(shlex.quote(a) for a in argv(d, "--tls", "-u", "alice"))
    t = tmux(f"env {env} {cmd}; echo EXIT=$?; sleep 60\n")
    t.wait(r"^Ben_AFK>")
    t.keys("/shell", "Enter")
    t.prompt()
    t.keys("echo $((6*7))", "Enter")
    t.wait(r"^42\s*$")
    t.keys("exit 5", "Enter")
    t.wait(r"^EXIT=5$")


def test_interactive_slash_shell_refused_keeps_the_prompt(daemon_factory,
                                                          tmux):
    d = shell_daemon(daemon_factory)
    env = (f"HOME={shlex.quote(str(d.tmp))} "
           f"BEN_AFK_PASSWORD={shlex.quote(PASSWORD)}")
    cmd = " ".join(shlex.quote(a) for a in argv(d, "--tls", "-u", "bob"))
    t = tmux(f"env {env} {cmd}; echo EXIT=$?; sleep 60\n")
    t.wait(r"^Ben_AFK>")
    t.keys("/shell", "Enter")
    t.wait(r"-ERR permission denied \(this needs an admin account\)")
    t.wait(r"^Ben_AFK>")
    t.keys("/whoami", "Enter")
    t.wait(r"^\+OK bob \(user\), tls")
    t.keys("C-d")
    t.wait(r"^EXIT=0$")


# --- pipes -------------------------------------------------------------------------

def test_piped_commands_and_exit_status(daemon_factory):
    d = shell_daemon(daemon_factory)
    p = afk(d, "--shell", "-u", "alice", input="echo hi; exit 7\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 7, p.stderr
    assert re.search(r"^([#$] )?hi\r?$", p.stdout, re.M), p.stdout


def test_end_of_piped_input_ends_the_shell(daemon_factory):
    d = shell_daemon(daemon_factory)
    p = afk(d, "--shell", "-u", "alice", input="echo $((6*7))\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 0, p.stderr
    assert re.search(r"^([#$] )?42\r?$", p.stdout, re.M), p.stdout


def test_every_byte_value_comes_back_unchanged(daemon_factory):
    d = shell_daemon(daemon_factory)
    fmt = "".join("\\%03o" % b for b in range(256))
    # markers made by the shell, so that the echoed line never matches
    line = (f"stty -opost; printf 'B%dB' 1; printf '{fmt}'; "
            f"printf 'E%dE' 2; exit 0\n")
    p = subprocess.run(argv(d, "--shell", "-u", "alice"),
                       input=line.encode(), capture_output=True,
                       env=dict(os.environ, HOME=str(d.tmp),
                                BEN_AFK_PASSWORD=PASSWORD),
                       timeout=RUN_TIMEOUT, start_new_session=True)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    start = out.index(b"B1B") + 3
    assert out[start:out.index(b"E2E", start)] == bytes(range(256))


def test_every_byte_value_reaches_the_remote_side(daemon_factory, pipes):
    d = shell_daemon(daemon_factory)
    p = pipes(d)
    p.send(b"stty raw -echo -iexten; printf 'R%dR' 1; "
           b"od -An -v -tx1 -N256; printf 'D%dD' 2; exit 0\n")
    p.read_until(b"R1R")
    p.send(bytes(range(256)))
    out = p.read_until(b"D2D")
    start = out.index(b"R1R") + 3
    dump = out[start:out.index(b"D2D", start)].decode()
    assert [int(x, 16) for x in dump.split()] == list(range(256))
    rc, err = p.finish()
    assert rc == 0, err


def feed(p, data, until, timeout):
    """Write data to the client's stdin while reading its stdout (so
    neither waits for the other), then read until `until`; bounded."""
    deadline = time.monotonic() + timeout
    wfd, rfd = p.p.stdin.fileno(), p.p.stdout.fileno()
    os.set_blocking(wfd, False)
    view, off = memoryview(data), 0
    while off < len(data) or until not in p.out:
        left = deadline - time.monotonic()
        assert left > 0, f"{off} of {len(data)} bytes taken in {timeout}" \
            f" s, {until!r} not seen: {p.out[-300:]!r}"
        r, w, _ = select.select([rfd], [wfd] if off < len(data) else [],
                                [], min(left, 0.5))
        if r:
            chunk = os.read(rfd, 65536)
            assert chunk, f"EOF before {until!r}: {p.out[-300:]!r}"
            p.out += chunk
        if w:
            try:
                off += os.write(wfd, view[off:off + 65536])
            except BlockingIOError:
                pass
    os.set_blocking(wfd, True)
    return p.out


def test_ten_mib_pasted_reach_the_command_whole(daemon_factory, pipes):
    """Issue 15: 10 MiB pasted into a command that reads them all; the
    terminal fills again and again and nothing is dropped (the daemon
    stops reading the session, the client stops reading stdin)."""
    d = shell_daemon(daemon_factory)
    p = pipes(d)
    data = os.urandom(10 << 20)
    p.send(b"stty raw -echo -iexten; printf 'R%%dR' 1; "
           b"head -c %d | sha256sum; printf 'D%%dD' 2; exit 0\n"
           % len(data))
    p.read_until(b"R1R")
    out = feed(p, data, b"D2D", timeout=120)
    m = re.search(rb"R1R.*?([0-9a-f]{64})  -\s*D2D", out, re.S)
    assert m, out[-300:]
    assert m.group(1).decode() == hashlib.sha256(data).hexdigest()
    rc, err = p.finish()
    assert rc == 0, err


# --- refusals -----------------------------------------------------------------------

def test_refused_when_the_shell_is_disabled(daemon_factory):
    d = shell_daemon(daemon_factory, enabled="no")
    p = afk(d, "--shell", "-u", "alice", input="echo no\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 1
    assert "-ERR shell is disabled" in p.stderr
    assert "[shell] enabled = yes" in p.stderr
    d.wait_for_log(r"^Shell refused to \S+ \(alice\): disabled\.")


def test_refused_to_a_user_who_is_no_admin(daemon_factory):
    d = shell_daemon(daemon_factory)
    p = afk(d, "--shell", "-u", "bob", input="echo no\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 1
    assert "-ERR permission denied (this needs an admin account)" in \
        p.stderr
    assert not any(m.startswith("Shell session") for m in d.messages_raw())


def test_refused_without_login(daemon_factory):
    d = shell_daemon(daemon_factory)
    p = afk(d, "--shell", input="echo no\n")
    assert p.returncode == 1
    assert "-ERR permission denied" in p.stderr


def test_refused_without_login_when_auth_is_required(daemon_factory):
    d = shell_daemon(daemon_factory, mode="required")
    p = afk(d, "--shell", input="echo no\n")
    assert p.returncode in (1, 5)
    assert re.search(r"-ERR (authentication required|permission denied)",
                     p.stderr), p.stderr


def test_refused_with_a_wrong_password(daemon_factory):
    d = shell_daemon(daemon_factory)
    p = afk(d, "--shell", "-u", "alice", input="echo no\n",
            env={"BEN_AFK_PASSWORD": "not it"})
    assert p.returncode == 5
    assert "-ERR authentication failed" in p.stderr
    assert not any(m.startswith("Shell session") for m in d.messages_raw())


def test_shell_implies_tls(daemon_factory):
    """--shell talks TLS even without --tls: a TLS-only daemon takes it."""
    d = make(daemon_factory, tls="required")
    d.start()
    p = afk(d, "--shell", input="x\n")
    assert p.returncode == 1            # the shell is off: refused, in TLS
    assert "-ERR shell is disabled" in p.stderr
    assert "TLS required" not in p.stderr

"""Ben_AFK, the terminal client, against the real Matt_daemon.

Each test owns its daemon (free loopback port, temp directory) and runs
the client with HOME in its temp directory, so known_hosts and history
never touch the real ones.  The client runs in its own session (no
controlling terminal) unless a test drives it through tmux.  Exit
statuses: 0 ok, 1 error, 2 usage, 3 no session, 4 TLS/identity, 5 auth.
"""

import os
import re
import shutil
import socket
import stat
import subprocess

import pytest

from conftest import BINARY, REPO, wait_until
from tmux_driver import Tmux, tmux_panes

BEN_AFK = os.environ.get("BEN_AFK", os.path.join(REPO, "Ben_AFK"))
MAN1 = os.path.join(REPO, "man", "Ben_AFK.1")

PASSWORD = "open sesame 42"
FP_RE = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
RUN_TIMEOUT = 40


# --- helpers -------------------------------------------------------------------

def afk(d, *args, input=b"", home=None, env=None, port=None, timeout=None):
    """Run Ben_AFK in pipe mode against daemon d; CompletedProcess (text)."""
    e = dict(os.environ)
    e.pop("BEN_AFK_PASSWORD", None)
    e["HOME"] = str(home or d.tmp)
    if env:
        e.update(env)
    if isinstance(input, str):
        input = input.encode()
    argv = [BEN_AFK, "-H", "127.0.0.1", "-p", str(port or d.port)]
    argv += [str(a) for a in args]
    p = subprocess.run(argv, input=input, capture_output=True, env=e,
                       timeout=timeout or RUN_TIMEOUT, start_new_session=True)
    p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    return p


def md(d, *args, input=None):
    return subprocess.run([BINARY, "-c", d.conf] + [str(a) for a in args],
                          input=input, capture_output=True, text=True,
                          timeout=30)


def make(factory, tls="optional", auth=None, sub=None, certname="cert",
         **kw):
    """A daemon (not started) with [tls] and, if auth is a dict, [auth]."""
    d = factory(sub, **kw) if sub else factory(**kw)
    d.cert = str(d.tmp / f"{certname}.pem")
    d.key = str(d.tmp / f"{certname}.key")
    d.users = str(d.tmp / "users")
    d.authorized_keys = str(d.tmp / "authorized_keys")
    text = ""
    if tls:
        text += f"[tls]\nmode = {tls}\ncert = {d.cert}\nkey = {d.key}\n"
    if auth is not None:
        a = dict(users=d.users, authorized_keys=d.authorized_keys)
        a.update(auth)
        text += "[auth]\n" + "".join(f"{k} = {v}\n" for k, v in a.items())
    d.extra_text = text
    d.write_config()
    return d


def add_user(d, name, password=PASSWORD, admin=False):
    r = md(d, "--add-user", name, *(["--admin"] if admin else []),
           input=password + "\n")
    assert r.returncode == 0, r.stderr


def keygen(tmp_path, name):
    path = tmp_path / name
    p = subprocess.run([BEN_AFK, "--keygen", str(path)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return path


def known_hosts(home):
    return home / ".config" / "ben_afk" / "known_hosts"


def user_inputs(d):
    return [m[len("User input: "):] for m in d.messages_raw()
            if m.startswith("User input: ")]


# --- command line and manual page -------------------------------------------

def render(page):
    p = subprocess.run(["groff", "-mandoc", "-ww", "-Tutf8", "-P-c", "-P-b",
                        "-P-o", "-P-u", page], capture_output=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout.decode("utf-8")


def test_man_page_formats_without_warnings():
    if shutil.which("groff") is None:
        pytest.fail("groff is missing: run scripts/deps.sh (groff-base)")
    p = subprocess.run(["groff", "-mandoc", "-ww", "-z", MAN1],
                       capture_output=True, timeout=30)
    assert p.returncode == 0 and p.stdout == b"" and p.stderr == b"", \
        p.stderr.decode(errors="replace")
    text = render(MAN1)
    assert [l for l in text.splitlines() if len(l) > 80] == []
    for name in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT",
                 "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]:
        assert re.search(rf"^{name}$", text, re.M), name


def test_synopsis_matches_help():
    p = subprocess.run([BEN_AFK, "--help"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 0
    text = render(MAN1)
    m = re.search(r"^SYNOPSIS\n(.*?)(?=^\S)", text, re.M | re.S)
    synopsis = " ".join(m.group(1).split())
    assert p.stdout.splitlines()[0] == "usage: " + synopsis
    # every option of --help is described in OPTIONS
    options = re.search(r"^OPTIONS\n(.*?)(?=^\S)", text, re.M | re.S).group(1)
    for opt in re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", p.stdout, re.M):
        assert opt in options, opt


def test_bad_option_is_a_usage_error():
    p = subprocess.run([BEN_AFK, "--bogus"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 2
    assert p.stderr.splitlines()[-1].startswith("See Ben_AFK(1)") or \
        "usage: Ben_AFK" in p.stderr
    p = subprocess.run([BEN_AFK, "-p", "99999"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 2 and "bad port" in p.stderr


def test_keygen_writes_a_private_key_and_its_public_half(tmp_path):
    path = keygen(tmp_path, "id")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open(path).read().startswith("-----BEGIN PRIVATE KEY-----")
    assert open(f"{path}.pub").read().startswith("-----BEGIN PUBLIC KEY-----")
    # never over an existing key
    before = open(path).read()
    p = subprocess.run([BEN_AFK, "--keygen", str(path)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode != 0 and "exists" in p.stderr
    assert open(path).read() == before


# --- pipe mode ---------------------------------------------------------------------

def test_pipe_mode_logs_every_line_before_exiting_0(daemon_factory):
    d = daemon_factory().start()
    lines = [f"line {i} " + "x" * (i % 50) for i in range(2000)]
    p = afk(d, input="\n".join(lines))      # the last line has no newline
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""
    # no waiting: exit 0 means the daemon has written every line
    assert user_inputs(d) == lines


def test_pipe_mode_prints_replies_to_commands(daemon_factory):
    d = daemon_factory().start()
    p = afk(d, input="/whoami\nhello\n/ping\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "+OK anonymous\n+OK pong\n"
    assert user_inputs(d) == ["hello"]


def test_pipe_mode_quit_stops_the_daemon_and_exits_0(daemon_factory):
    d = daemon_factory().start()
    p = afk(d, input="bye\nquit\n")
    assert p.returncode == 0, p.stderr
    assert d.wait_gone()
    assert "bye" in user_inputs(d)


def test_connection_refused_is_reported(tmp_path, daemon_factory):
    d = daemon_factory()            # never started
    p = afk(d, input="x\n")
    assert p.returncode == 3
    assert "cannot connect to 127.0.0.1 port" in p.stderr
    assert "Connection refused" in p.stderr


def test_unknown_host_is_reported(daemon_factory):
    d = daemon_factory()
    e = dict(os.environ, HOME=str(d.tmp))
    p = subprocess.run([BEN_AFK, "-H", "no-such-host.invalid", "-p", "1",
                        "-t", "5"], input=b"x\n", capture_output=True,
                       env=e, timeout=RUN_TIMEOUT)
    assert p.returncode == 3
    assert b"no-such-host.invalid: host not found" in p.stderr


def hold_clients(d, n):
    """n raw sessions the daemon has registered."""
    socks = [d.connect() for _ in range(n)]
    d.wait_for_log(r"^Client connected: .*\(%d/" % n)
    return socks


def test_too_many_clients_is_reported(daemon_factory):
    d = daemon_factory(max_clients=1).start()
    held = hold_clients(d, 1)
    try:
        p = afk(d, input="extra\n")
        assert p.returncode == 3, p.stderr
        assert "-ERR too many clients (max 1)" in p.stderr
        assert "try again later" in p.stderr
    finally:
        for s in held:
            s.close()
    assert "extra" not in user_inputs(d)


def test_too_many_clients_is_reported_over_tls_too(daemon_factory):
    d = make(daemon_factory, tls="optional", max_clients=1)
    d.start()
    held = hold_clients(d, 1)
    try:
        p = afk(d, "--tls", input="extra\n")
        assert p.returncode == 3, p.stderr
        assert "-ERR too many clients (max 1)" in p.stderr
    finally:
        for s in held:
            s.close()


def test_tls_required_refuses_a_plain_client(daemon_factory):
    d = make(daemon_factory, tls="required").start()
    p = afk(d, input="in clear\n")
    assert p.returncode == 3
    assert "-ERR TLS required" in p.stderr and "--tls" in p.stderr
    assert "in clear" not in user_inputs(d)


def test_tls_handshake_failure_is_reported(tmp_path, daemon_factory):
    """A server that answers a ClientHello with a line of text."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(10)
    port = srv.getsockname()[1]
    proc = subprocess.Popen(
        [BEN_AFK, "-p", str(port), "--tls", "-t", "10"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ, HOME=str(tmp_path)), start_new_session=True)
    try:
        conn, _ = srv.accept()
        conn.recv(4096)
        conn.sendall(b"hello, this is not TLS at all\r\n\r\n")
        conn.close()
        out, err = proc.communicate(b"x\n", timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        srv.close()
    assert proc.returncode == 4
    assert b"TLS handshake failed" in err
    assert not known_hosts(tmp_path).exists()


# --- TLS and server pinning --------------------------------------------------------

def test_tls_pipe_mode_trusts_the_server_on_first_use(daemon_factory):
    d = make(daemon_factory, tls="optional").start()
    fp = md(d, "--fingerprint").stdout.strip()
    assert FP_RE.match(fp), fp
    p = afk(d, "--tls", input="secret line\n/whoami\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "+OK anonymous, tls\n"
    assert "trusting 127.0.0.1:%d on first use" % d.port in p.stderr
    assert fp in p.stderr
    kh = known_hosts(d.tmp)
    assert kh.read_text() == f"127.0.0.1:{d.port} {fp}\n"
    assert stat.S_IMODE(os.stat(kh).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(kh.parent).st_mode) == 0o700
    assert "secret line" in user_inputs(d)
    d.wait_for_log(r"^TLS session with ")

    # known now: silent, and the file is unchanged
    p = afk(d, "--tls", input="again\n")
    assert p.returncode == 0 and p.stderr == ""
    assert kh.read_text() == f"127.0.0.1:{d.port} {fp}\n"


def test_changed_fingerprint_is_refused_loudly(daemon_factory):
    d = make(daemon_factory, tls="optional").start()
    old = md(d, "--fingerprint").stdout.strip()
    assert afk(d, "--tls", input="first\n").returncode == 0
    d.stop()

    # same port, a new certificate: the daemon makes one at the new paths
    d.cert = str(d.tmp / "other.pem")
    d.key = str(d.tmp / "other.key")
    d.extra_text = (f"[tls]\nmode = optional\ncert = {d.cert}\n"
                    f"key = {d.key}\n")
    d.write_config()
    d.start()
    new = md(d, "--fingerprint").stdout.strip()
    assert new != old
    p = afk(d, "--tls", input="must not be sent\n")
    assert p.returncode == 4
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in p.stderr
    assert "@@@@@@@@" in p.stderr
    assert old in p.stderr and new in p.stderr
    assert "nothing was sent" in p.stderr
    assert "must not be sent" not in user_inputs(d)
    # the pin is kept: refused again
    assert afk(d, "--tls", input="x\n").returncode == 4
    assert known_hosts(d.tmp).read_text() == f"127.0.0.1:{d.port} {old}\n"


def test_strict_host_refuses_an_unknown_server(daemon_factory):
    d = make(daemon_factory, tls="optional").start()
    fp = md(d, "--fingerprint").stdout.strip()
    p = afk(d, "--tls", "--strict-host", input="must not be sent\n")
    assert p.returncode == 4, p.stderr
    assert f"127.0.0.1:{d.port} is not in " in p.stderr
    assert "nothing was sent" in p.stderr and fp in p.stderr
    assert not known_hosts(d.tmp).exists()	# and nothing pinned
    assert "must not be sent" not in user_inputs(d)
    # pinned (here by a first use without it): accepted
    assert afk(d, "--tls", input="first\n").returncode == 0
    p = afk(d, "--tls", "--strict-host", input="second\n")
    assert p.returncode == 0 and p.stderr == ""
    assert "second" in user_inputs(d)


def test_known_hosts_option_names_another_file(daemon_factory):
    d = make(daemon_factory, tls="optional").start()
    kh = d.tmp / "pins" / "kh"
    p = afk(d, "--tls", "--known-hosts", kh, input="x\n")
    assert p.returncode == 0, p.stderr
    assert kh.read_text().startswith(f"127.0.0.1:{d.port} ")
    assert not known_hosts(d.tmp).exists()


# --- authentication ----------------------------------------------------------------

def auth_daemon(factory, mode="required", **auth):
    d = make(factory, tls="optional", auth=dict(mode=mode, **auth))
    add_user(d, "alice", admin=True)
    add_user(d, "bob")
    return d.start()


def test_password_login(daemon_factory):
    d = auth_daemon(daemon_factory)
    p = afk(d, "--tls", "-u", "alice", input="as alice\n/whoami\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 0, p.stderr
    assert p.stdout == "+OK alice (admin), tls\n"
    assert "as alice" in user_inputs(d)
    assert PASSWORD not in d.log_text()


def test_password_file_option(daemon_factory, tmp_path):
    d = auth_daemon(daemon_factory)
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    p = afk(d, "--tls", "-u", "bob", "--password-file", pw,
            input="/whoami\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "+OK bob (user), tls\n"


def test_wrong_password_is_refused(daemon_factory):
    d = auth_daemon(daemon_factory)
    p = afk(d, "--tls", "-u", "alice", input="never logged\n",
            env={"BEN_AFK_PASSWORD": "not it"})
    assert p.returncode == 5
    assert "-ERR authentication failed" in p.stderr
    assert "never logged" not in d.log_text()


def test_no_password_without_a_terminal(daemon_factory):
    d = auth_daemon(daemon_factory)
    p = afk(d, "--tls", "-u", "alice", input="x\n")
    assert p.returncode == 5
    assert "cannot read the password" in p.stderr
    assert "BEN_AFK_PASSWORD" in p.stderr


def test_lockout_is_reported(daemon_factory):
    d = auth_daemon(daemon_factory, max_failures=2, lockout="60s")
    for _ in range(2):
        p = afk(d, "--tls", "-u", "alice", input="x\n",
                env={"BEN_AFK_PASSWORD": "bad"})
        assert p.returncode == 5 and "authentication failed" in p.stderr
    # even the right password is refused now
    p = afk(d, "--tls", "-u", "alice", input="x\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 5
    assert re.search(r"-ERR locked out, try again in \d+s", p.stderr), \
        p.stderr
    assert "too many failed attempts" in p.stderr


def test_plaintext_password_is_refused_by_the_client(daemon_factory):
    d = auth_daemon(daemon_factory, mode="optional")
    p = afk(d, "-u", "alice", input="x\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 5
    assert "refusing to send a password over a plain connection" in \
        p.stderr
    assert "--tls" in p.stderr
    assert "/auth" not in d.log_text()


def test_plaintext_password_is_refused_by_the_daemon(daemon_factory):
    d = auth_daemon(daemon_factory, mode="optional")
    p = afk(d, "-u", "alice", "--plaintext-password", input="x\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 5
    assert "-ERR password authentication needs TLS" in p.stderr
    assert "--tls" in p.stderr
    assert PASSWORD not in d.log_text()


def test_auth_required_without_credentials(daemon_factory):
    d = auth_daemon(daemon_factory)
    p = afk(d, "--tls", input="anonymous line\n")
    assert p.returncode == 5
    assert "-ERR authentication required" in p.stderr
    assert "-u USER" in p.stderr
    assert "anonymous line" not in d.log_text()


def test_key_login(daemon_factory, tmp_path):
    d = make(daemon_factory, tls="optional", auth=dict(mode="required"))
    key = keygen(tmp_path, "carol_key")
    r = md(d, "--add-key", "carol", f"{key}.pub")
    assert r.returncode == 0, r.stderr
    d.start()
    p = afk(d, "-u", "carol", "-i", key, input="with a key\n/whoami\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "+OK carol (user), tls\n"
    assert "with a key" in user_inputs(d)
    # the private key never travels: its base64 body is nowhere in the log
    body = "".join(open(key).read().splitlines()[1:-1])
    assert body[:40] not in d.log_text()


def test_wrong_key_is_refused(daemon_factory, tmp_path):
    d = make(daemon_factory, tls="optional", auth=dict(mode="required"))
    good = keygen(tmp_path, "good")
    bad = keygen(tmp_path, "bad")
    assert md(d, "--add-key", "carol", f"{good}.pub").returncode == 0
    d.start()
    p = afk(d, "-u", "carol", "-i", bad, input="x\n")
    assert p.returncode == 5
    assert "-ERR authentication failed" in p.stderr


def test_missing_key_file(daemon_factory, tmp_path):
    d = make(daemon_factory, tls="optional").start()
    p = afk(d, "-u", "carol", "-i", tmp_path / "nope", input="x\n")
    assert p.returncode == 4
    assert "nope: No such file or directory" in p.stderr


def test_permission_denied_ends_pipe_mode_non_zero(daemon_factory):
    d = auth_daemon(daemon_factory)
    p = afk(d, "--tls", "-u", "bob", input="/rotate\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode == 1
    assert "-ERR permission denied" in p.stderr


# --- interactive mode, driven through tmux --------------------------------------

def afk_pane(tmp_path, command, env):
    """COMMAND run with ENV in a 150x40 tmux pane, its exit status shown.
    The pane's sh traps SIGINT: a Control-C the command handles must not
    end the script before the status is shown."""
    envs = " ".join(f"{k}='{v}'" for k, v in env.items())
    return Tmux(tmp_path, f"trap : INT; env {envs} {command}; echo EXIT=$?; "
                f"sleep 60\n", 150, 40)


@pytest.fixture
def tmux_factory(tmp_path):
    yield from tmux_panes(tmp_path, afk_pane)


def test_interactive_completion_and_replies(daemon_factory, tmux_factory):
    d = daemon_factory().start()
    t = tmux_factory(f"{BEN_AFK} -p {d.port}", {"HOME": d.tmp})
    t.wait("Ben_AFK>")
    t.keys("/sta", "Tab")           # /stats and /status: their prefix
    t.wait("Ben_AFK> /stat")
    t.keys("u", "Tab")
    t.wait("Ben_AFK> /status")
    t.keys("Enter")
    t.wait("+OK Matt_daemon 1.0.0, pid")
    t.keys("typed by hand", "Enter")
    d.wait_for_message("User input: typed by hand")
    t.keys("/who", "Tab", "Enter")
    t.wait("+OK anonymous")
    # history: Up brings back the last line
    t.keys("Up")
    wait_until(lambda: t.screen().rstrip().endswith("Ben_AFK> /whoami"), 5)
    # /shell needs TLS: refused locally on this plain session
    t.keys("C-u", "/shell", "Enter")
    t.wait("/shell needs a TLS session")
    t.keys("C-d")
    t.wait("EXIT=0")
    hist = (d.tmp / ".config" / "ben_afk" / "history").read_text()
    assert "typed\\040by\\040hand" in hist     # libedit escapes spaces
    assert not any("/shell" in m for m in d.messages_raw())


def test_interactive_password_prompt_and_tofu_question(daemon_factory,
                                                       tmux_factory):
    d = auth_daemon(daemon_factory)
    t = tmux_factory(f"{BEN_AFK} -p {d.port} --tls -u alice",
                     {"HOME": d.tmp})
    t.wait("Are you sure you want to continue connecting (yes/no)?")
    assert "The authenticity of 127.0.0.1:%d" % d.port in t.screen()
    t.keys("yes", "Enter")
    t.wait("Password for alice@127.0.0.1:")
    t.keys(PASSWORD, "Enter")
    t.wait("authenticated as alice (admin)")
    assert PASSWORD not in t.screen()       # no echo
    t.wait("Ben_AFK>")
    t.keys("/auth password alice nope", "Enter")
    t.wait("-ERR authentication failed")
    t.keys("C-d")
    t.wait("EXIT=0")
    assert known_hosts(d.tmp).exists()
    hist = (d.tmp / ".config" / "ben_afk" / "history").read_text()
    assert "nope" not in hist


def test_interactive_refusing_the_server_sends_nothing(daemon_factory,
                                                       tmux_factory):
    d = make(daemon_factory, tls="optional").start()
    t = tmux_factory(f"{BEN_AFK} -p {d.port} --tls", {"HOME": d.tmp})
    t.wait("(yes/no)?")
    t.keys("no", "Enter")
    t.wait("EXIT=4")
    assert "host identification refused" in t.screen()
    assert not known_hosts(d.tmp).exists()


def test_interactive_connection_loss_is_reported(daemon_factory,
                                                 tmux_factory):
    d = daemon_factory().start()
    t = tmux_factory(f"{BEN_AFK} -p {d.port}", {"HOME": d.tmp})
    t.wait("Ben_AFK>")
    t.keys("quit", "Enter")
    t.wait("EXIT=0")
    assert "the daemon stopped (quit)" in t.screen()
    assert d.wait_gone()


def test_interactive_too_many_clients(daemon_factory, tmux_factory):
    d = daemon_factory(max_clients=1).start()
    held = hold_clients(d, 1)
    try:
        t = tmux_factory(f"{BEN_AFK} -p {d.port}", {"HOME": d.tmp})
        t.wait("EXIT=3")
        assert "-ERR too many clients (max 1)" in t.screen()
        assert "Connected to" not in t.screen()
    finally:
        for s in held:
            s.close()


def test_tls_to_a_daemon_without_tls_times_out_clearly(daemon_factory):
    d = make(daemon_factory, tls="off").start()
    p = afk(d, "--tls", "-t", "2", input="x\n")
    assert p.returncode == 4
    assert "TLS handshake timed out" in p.stderr


# --- colours and readable replies ------------------------------------------

ESC = "\x1b"
SGR_RE = re.compile(r"\x1b\[([0-9;]*)m")


def plaintext_auth_daemon(factory):
    """Authentication on, passwords allowed over plain TCP: /tail and
    /follow are for logged-in users."""
    d = make(factory, tls=None,
             auth=dict(mode="optional", allow_plaintext="yes"))
    add_user(d, "alice", admin=True)
    add_user(d, "bob")
    d.start()
    # a WARN record: bob is no admin
    p = afk(d, "-u", "bob", "--plaintext-password", input="quit\n",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    assert p.returncode != 0 and d.alive()
    d.send_and_close("plain client input\n")
    d.wait_for_message("User input: plain client input")
    return d


def record_colors(out):
    """{level: SGR before its first record} of lines of OUT, or None for a
    record printed without one."""
    colors = {}
    for line in out.splitlines():
        m = re.match(r"^(?:\x1b\[([0-9;]*)m)?\[[^]]*\] \[ (\w+) \] - ", line)
        if m:
            colors.setdefault(m.group(2), m.group(1))
            if m.group(1) is not None:
                assert line.endswith(ESC + "[0m"), repr(line)
    return colors


def test_pipe_mode_colours_records_only_when_asked(daemon_factory):
    d = plaintext_auth_daemon(daemon_factory)
    env = {"BEN_AFK_PASSWORD": PASSWORD, "NO_COLOR": ""}
    args = ["-u", "alice", "--plaintext-password"]
    p = afk(d, *args, "--color=always", input="/tail 50\n", env=env)
    assert p.returncode == 0, p.stderr
    assert record_colors(p.stdout) == {"INFO": "1", "WARN": "1;33",
                                       "LOG": None}, p.stdout
    # a pipe: no colour by default, nor with never
    for extra in ([], ["--color=never"], ["--color=auto"]):
        p = afk(d, *args, *extra, input="/tail 50\n", env=env)
        assert p.returncode == 0, p.stderr
        assert "User input: plain client input" in p.stdout
        assert ESC not in p.stdout, (extra, p.stdout)
    # an explicit always wins over NO_COLOR
    p = afk(d, *args, "--color=always", input="/tail 50\n",
            env=dict(env, NO_COLOR="1"))
    assert record_colors(p.stdout)["WARN"] == "1;33", p.stdout


def styled_lines(capture):
    """(SGR parameters in effect, text) of each line of a tmux capture-pane
    -e, which only says what changes."""
    state, out = {}, []
    for raw in capture.splitlines():
        text, first = "", None
        pos = 0
        for m in SGR_RE.finditer(raw):
            chunk = raw[pos:m.start()]
            if chunk and first is None:
                first = dict(state)
            text += chunk
            for code in (m.group(1) or "0").split(";"):
                code = int(code or 0)
                if code == 0:
                    state = {}
                elif code in (1, 2):
                    state["weight"] = code
                elif code == 22:
                    state.pop("weight", None)
                elif 30 <= code <= 37:
                    state["fg"] = code
                elif code == 39:
                    state.pop("fg", None)
            pos = m.end()
        text += raw[pos:]
        if first is None:
            first = dict(state)
        out.append((first, text))
    return out


def test_interactive_colours_records_and_shows_status_and_clients(
        daemon_factory, tmux_factory):
    d = plaintext_auth_daemon(daemon_factory)
    t = tmux_factory(f"{BEN_AFK} -p {d.port} -u alice --plaintext-password",
                     {"HOME": d.tmp, "BEN_AFK_PASSWORD": PASSWORD,
                      "NO_COLOR": ""})
    t.wait("Ben_AFK>")
    t.keys("/status", "Enter")
    t.wait("authentication: optional")
    screen = t.screen()
    assert re.search(r"^\+OK Matt_daemon 1\.0\.0, pid %d, up \d+s$" % d.pid,
                     screen, re.M), screen
    assert re.search(r"^    clients: 1, received: 1 lines \(\d+ B\)$",
                     screen, re.M), screen
    assert "    TLS: off, authentication: optional" in screen
    assert "version=" not in screen
    t.keys("/clients", "Enter")
    t.wait("+OK 1 clients")
    assert wait_until(lambda: re.search(r"^ +127\.0\.0\.1:\d+ +alice ",
                                        t.screen(), re.M), 10), t.screen()
    rows = [l.split() for l in t.screen().splitlines()]
    title = rows.index(["ADDRESS", "USER", "ROLE", "TLS", "SINCE", "MODE"])
    row = rows[title + 1]
    assert row[0].startswith("127.0.0.1:") and row[1:4] == [
        "alice", "admin", "no"] and row[5] == "lines", row
    assert re.fullmatch(r"\d\d:\d\d:\d\d", row[4]), row
    t.keys("/tail 50", "Enter")
    t.wait("Command from")
    t.wait("/tail 50.")
    styles = {}
    for style, text in styled_lines(t.tmux("capture-pane", "-p", "-e", "-t",
                                           "afk").stdout):
        m = re.match(r"^\[[^]]*\] \[ (\w+) \] - ", text)
        if m:
            styles.setdefault(m.group(1), style)
    assert styles == {"INFO": {"weight": 1}, "WARN": {"weight": 1, "fg": 33},
                      "LOG": {}}, styles
    t.keys("C-d")
    t.wait("EXIT=0")


def test_interactive_no_color_set_means_plain(daemon_factory, tmux_factory):
    d = plaintext_auth_daemon(daemon_factory)
    t = tmux_factory(f"{BEN_AFK} -p {d.port} -u alice --plaintext-password",
                     {"HOME": d.tmp, "BEN_AFK_PASSWORD": PASSWORD,
                      "NO_COLOR": "1"})
    t.wait("Ben_AFK>")
    t.keys("/tail 50", "Enter")
    t.wait("/tail 50.")
    capture = t.tmux("capture-pane", "-p", "-e", "-t", "afk").stdout
    records = [style for style, text in styled_lines(capture)
               if re.match(r"^\[[^]]*\] \[ \w+ \] - ", text)]
    assert records and all(style == {} for style in records), capture
    t.keys("C-d")
    t.wait("EXIT=0")


def following(daemon_factory, tmux_factory):
    """Admin alice's interactive Ben_AFK, following the log live (without
    colours); (daemon, tmux pane)."""
    d = plaintext_auth_daemon(daemon_factory)
    t = tmux_factory(f"{BEN_AFK} -p {d.port} -u alice --plaintext-password",
                     {"HOME": d.tmp, "BEN_AFK_PASSWORD": PASSWORD,
                      "NO_COLOR": "1"})
    t.wait("Ben_AFK>")
    t.keys("/follow", "Enter")
    t.wait("+OK following live")
    return d, t


def test_interactive_follow_keeps_the_prompt(daemon_factory, tmux_factory):
    """Issue 16: /follow shows the records as they come (untagged), while
    lines and commands typed meanwhile are sent, logged and answered; a
    line being typed survives a record; /follow off ends it."""
    d, t = following(daemon_factory, tmux_factory)
    d.send_and_close("from another client\n")
    t.wait_re(r"^\[[^]]*\] \[ LOG \] - Matt_daemon: User input: from "
              r"another client$")
    t.keys("typed while following", "Enter")
    d.wait_for_message("User input: typed while following")
    t.wait("User input: typed while following")     # back as a record
    t.keys("/whoami", "Enter")
    t.wait("+OK alice (admin)")
    t.keys("half a ")
    t.wait("Ben_AFK> half a")
    d.send_and_close("arrives meanwhile\n")
    t.wait("User input: arrives meanwhile")
    assert wait_until(lambda: t.screen().rstrip().endswith(
        "Ben_AFK> half a"), 5), t.screen()
    t.keys("line", "Enter")
    d.wait_for_message("User input: half a line")
    assert "+OK follow ended" not in t.screen()
    t.keys("/follow off", "Enter")
    t.wait("+OK follow ended")
    d.send_and_close("after the follow\n")
    d.wait_for_message("User input: after the follow")
    t.keys("/ping", "Enter")
    t.wait("+OK pong")
    assert "after the follow" not in t.screen()
    assert "* [" not in t.screen()
    t.keys("C-d")
    t.wait("EXIT=0")
    msgs = d.messages()
    for m in ("typed while following", "half a line"):
        assert msgs.count(f"User input: {m}") == 1, m


def test_ctrl_c_ends_the_follow_or_the_line_not_the_client(daemon_factory,
                                                          tmux_factory):
    """Control-C while following sends /follow off (as in tail -f);
    otherwise it drops the line being typed (as a shell does); either way
    Ben_AFK stays, and Control-D leaves."""
    d, t = following(daemon_factory, tmux_factory)
    t.keys("C-c")
    t.wait("+OK follow ended")
    d.wait_for_log(r"^Command from 127\.0\.0\.1:\d+ \(alice\): "
                   r"/follow off\.$")
    d.send_and_close("after the follow\n")
    d.wait_for_message("User input: after the follow")
    t.keys("/ping", "Enter")
    t.wait("+OK pong")
    assert "after the follow" not in t.screen()
    # not following: the half-typed line goes, the client stays
    t.keys("half typed")
    t.wait("Ben_AFK> half typed")
    t.keys("C-c")
    t.keys("fresh", "Enter")
    d.wait_for_message("User input: fresh")
    assert "User input: half typedfresh" not in d.messages()
    assert not any("half typed" in m for m in d.messages())
    t.keys("C-d")
    t.wait("EXIT=0")


def test_interactive_follow_colours_records(daemon_factory, tmux_factory):
    """Records followed beside the prompt are coloured by level like the
    others, without their tag."""
    d = plaintext_auth_daemon(daemon_factory)
    t = tmux_factory(f"{BEN_AFK} -p {d.port} -u alice --plaintext-password",
                     {"HOME": d.tmp, "BEN_AFK_PASSWORD": PASSWORD,
                      "NO_COLOR": ""})
    t.wait("Ben_AFK>")
    t.keys("/follow", "Enter")
    t.wait("+OK following live")
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    s.sendall(b"/rotate\nlive and plain\n")
    t.wait("User input: live and plain")
    s.close()
    styles = {}
    for style, text in styled_lines(t.tmux("capture-pane", "-p", "-e", "-t",
                                           "afk").stdout):
        m = re.match(r"^\[[^]]*\] \[ (\w+) \] - ", text)
        if m:
            styles.setdefault(m.group(1), style)
    assert styles.get("WARN") == {"weight": 1, "fg": 33}, styles
    assert styles.get("LOG") == {}, styles
    t.keys("C-d")
    t.wait("EXIT=0")

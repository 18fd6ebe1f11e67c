"""The local unix socket: identity from the kernel, no TLS, no password.

Each test owns its daemon, with `local_socket` in a directory of its own
under /tmp (mode 0755, so the test users can reach it; pytest's tmp_path
is root's only).  Two real users are made with useradd for the module
(one in group adm, one outside it) and removed after; clients run as
them through setpriv (no PAM involved), as small Python programs or as
the real Ben_AFK.  The default path is tested in a private mount and
network namespace (unshare), so /run and port 4242 of the machine stay
untouched.  Every wait is bounded; only processes started here are
stopped, by PID.
"""

import grp
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile

import pytest

from conftest import BINARY, REPO, process_gone, run_binary, wait_gone
from test_gtk import Gui, connected, xserver  # noqa: F401 (a fixture)
from tls_helpers import add_user

BEN_AFK = os.environ.get("BEN_AFK", os.path.join(REPO, "Ben_AFK"))
PY = "/usr/bin/python3"
ADM = grp.getgrnam("adm").gr_gid

# Runs as the test users: connect, send each argument as a line, read one
# reply line per argument; prints {"errno": N} or {"replies": [...]}.
CLIENT = r"""
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print(json.dumps({"errno": e.errno}))
    sys.exit(0)
buf, out = b"", []
for line in sys.argv[2:]:
    s.sendall(line.encode() + b"\n")
    while b"\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    reply, _, buf = buf.partition(b"\n")
    out.append(reply.decode())
print(json.dumps({"replies": out}))
"""


# --- users, directories, daemons ---------------------------------------------

def _useradd(name, *args):
    subprocess.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin",
                    *args, name], check=True, timeout=30,
                   capture_output=True)


@pytest.fixture(scope="module")
def users():
    """Two real users: 'reader' in group adm, 'outsider' outside it."""
    tag = secrets.token_hex(3)
    made = {"reader": f"mdl_rd_{tag}", "outsider": f"mdl_ot_{tag}"}
    try:
        _useradd(made["reader"], "-G", "adm")
        _useradd(made["outsider"])
        yield made
    finally:
        for name in made.values():
            subprocess.run(["userdel", name], timeout=30,
                           capture_output=True)


@pytest.fixture
def sockdir():
    """A directory every user may traverse; removed after the test."""
    d = tempfile.mkdtemp(prefix="md_local_", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def local_daemon(factory, sockdir, start=True, **kw):
    extra = kw.pop("extra", "")
    d = factory(local_socket=os.path.join(sockdir, "run", "md.sock"),
                extra=extra, **kw)
    d.sock = os.path.join(sockdir, "run", "md.sock")
    if start:
        d.start()
    return d


def as_user(name, argv, groups=None, input=None):
    """Run ARGV as user NAME (its own groups, or GROUPS: "gid[,gid]" as
    primary then supplementary), with setpriv; returns CompletedProcess."""
    pw = pwd.getpwnam(name)
    if groups is None:
        ids = ["--regid", str(pw.pw_gid), "--init-groups"]
    else:
        gids = groups.split(",")
        ids = ["--regid", gids[0], "--groups", ",".join(gids[1:])] \
            if len(gids) > 1 else ["--regid", gids[0], "--clear-groups"]
    return subprocess.run(["setpriv", "--reuid", str(pw.pw_uid), *ids,
                           "--", *argv], input=input, capture_output=True,
                          text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/"})


def talk(path, *lines, user=None, groups=None):
    """CLIENT as root (USER None) or as USER; returns its JSON."""
    argv = [PY, "-c", CLIENT, path, *lines]
    if user is None:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    else:
        p = as_user(user, argv, groups)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def connect_local(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        buf += chunk
    return buf.decode().rstrip("\n")


def ask(s, line):
    s.sendall(line.encode() + b"\n")
    return read_line(s)


# --- the socket file ---------------------------------------------------------

def test_socket_is_0660_root_adm(daemon_factory, sockdir):
    d = local_daemon(daemon_factory, sockdir)
    st = os.lstat(d.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert (st.st_uid, st.st_gid) == (0, ADM)
    assert stat.S_IMODE(os.stat(os.path.dirname(d.sock)).st_mode) == 0o755


def test_local_group_names_the_socket_group(daemon_factory, sockdir):
    d = local_daemon(daemon_factory, sockdir, local_group="daemon")
    assert os.lstat(d.sock).st_gid == grp.getgrnam("daemon").gr_gid


def test_socket_removed_at_quit(daemon_factory, sockdir):
    d = local_daemon(daemon_factory, sockdir)
    s = connect_local(d.sock)
    s.sendall(b"quit\n")
    assert d.wait_gone()
    s.close()
    assert not os.path.lexists(d.sock)
    assert os.path.isdir(os.path.dirname(d.sock))


def test_socket_removed_at_sigterm(daemon_factory, sockdir):
    d = local_daemon(daemon_factory, sockdir)
    os.kill(d.pid, 15)
    assert d.wait_gone()
    assert not os.path.lexists(d.sock)


def test_stale_socket_is_replaced(daemon_factory, sockdir):
    path = os.path.join(sockdir, "run", "md.sock")
    os.mkdir(os.path.dirname(path))
    old = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old.bind(path)          # a dead daemon's socket: nobody listens
    old.close()
    os.chmod(path, 0o600)
    d = local_daemon(daemon_factory, sockdir)
    assert talk(d.sock, "/whoami") == {"replies": ["+OK root (admin), local"]}
    st = os.lstat(d.sock)
    assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o660, ADM)


def test_symlink_at_the_path_is_not_followed(daemon_factory, sockdir):
    path = os.path.join(sockdir, "run", "md.sock")
    os.mkdir(os.path.dirname(path))
    target = os.path.join(sockdir, "target")
    with open(target, "w") as f:
        f.write("precious\n")
    os.symlink(target, path)
    d = local_daemon(daemon_factory, sockdir, start=False)
    r = d.run()
    assert r.rc != 0
    assert "symbolic link" in r.err, r.err
    assert os.path.islink(path) and os.readlink(path) == target
    with open(target) as f:
        assert f.read() == "precious\n"
    assert not d.connectable()


def test_dangling_symlink_is_not_followed(daemon_factory, sockdir):
    path = os.path.join(sockdir, "run", "md.sock")
    os.mkdir(os.path.dirname(path))
    target = os.path.join(sockdir, "elsewhere.sock")
    os.symlink(target, path)
    d = local_daemon(daemon_factory, sockdir, start=False)
    r = d.run()
    assert r.rc != 0 and "symbolic link" in r.err, r.err
    assert not os.path.lexists(target)
    assert os.path.islink(path)


def test_regular_file_in_the_way_is_left_alone(daemon_factory, sockdir):
    path = os.path.join(sockdir, "run", "md.sock")
    os.mkdir(os.path.dirname(path))
    with open(path, "w") as f:
        f.write("not a socket\n")
    d = local_daemon(daemon_factory, sockdir, start=False)
    r = d.run()
    assert r.rc != 0 and "not a socket" in r.err, r.err
    with open(path) as f:
        assert f.read() == "not a socket\n"


def test_none_creates_nothing(daemon_factory, sockdir):
    d = daemon_factory(local_socket="none").start()
    assert d.connectable()
    assert os.listdir(sockdir) == []
    assert "local:" not in d.log_text()


# --- who is who --------------------------------------------------------------

def test_root_is_admin(daemon_factory, sockdir):
    d = local_daemon(daemon_factory, sockdir)
    d.send_and_close("a line over TCP\n")
    d.wait_for_message("User input: a line over TCP")
    s = connect_local(d.sock)
    assert ask(s, "/whoami") == "+OK root (admin), local"
    m = d.wait_for_log(r"^Client connected: local:uid=0\(root\),pid=\d+ "
                       r"\(1/3\)\.$")
    addr = re.search(r"local:\S+", m[0]).group(0)
    d.wait_for_message(f"Local client {addr} is root (admin), by its "
                       f"kernel credentials.")
    reply = ask(s, "/tail 50")
    assert re.fullmatch(r"\+OK \d+ records", reply), reply
    n = int(reply.split()[1])
    tail = [read_line(s) for _ in range(n)]
    assert any(t.endswith("User input: a line over TCP") for t in tail)
    s.sendall(b"quit\n")
    assert d.wait_gone()
    s.close()
    assert "Request quit." in d.messages()


def test_root_admin_even_with_auth_required(daemon_factory, sockdir):
    """[auth] mode = required: the kernel's word is the authentication."""
    d = local_daemon(daemon_factory, sockdir, start=False)
    d.extra_text = (f"[auth]\nmode = required\nallow_plaintext = yes\n"
                    f"users = {d.tmp}/users\n")
    d.write_config()
    d.start()
    assert talk(d.sock, "/whoami", "/status")["replies"][0] == \
        "+OK root (admin), local"
    s = connect_local(d.sock)
    s.sendall(b"quit\n")
    assert d.wait_gone()
    s.close()


def test_adm_member_is_a_reader(daemon_factory, sockdir, users):
    d = local_daemon(daemon_factory, sockdir,
                     extra="[shell]\nenabled = yes\n")
    name = users["reader"]
    r = talk(d.sock, "/whoami", "/shell", user=name)
    assert r["replies"] == [f"+OK {name} (user), local",
                            "-ERR permission denied"]
    uid = pwd.getpwnam(name).pw_uid
    d.wait_for_log(rf"^Local client local:uid={uid}\({name}\),pid=\d+ is "
                   rf"{name} \(user\), by its kernel credentials\.$")
    d.wait_for_log(rf"^Shell refused to local:uid={uid}\({name}\),pid=\d+ ")
    assert "Shell session" not in d.log_text()


def test_shell_is_for_uid_0_not_for_an_admin_password(daemon_factory,
                                                     sockdir, users):
    """A reader who logs in as an admin on the socket is an admin, but
    the shell without TLS is for the kernel's uid 0 only."""
    d = local_daemon(daemon_factory, sockdir, start=False)
    d.extra_text = (f"[auth]\nmode = optional\nallow_plaintext = yes\n"
                    f"users = {d.tmp}/users\n[shell]\nenabled = yes\n")
    d.write_config()
    add_user(d, "alice", "alice's long password 9", admin=True)
    d.start()
    r = talk(d.sock, "/auth password alice alice's long password 9",
             "/whoami", "/shell", user=users["reader"])
    assert r["replies"] == ["+OK authenticated as alice (admin)",
                            "+OK alice (admin), local",
                            "-ERR permission denied"]
    assert "Shell session" not in d.log_text()


def test_primary_group_adm_is_a_reader(daemon_factory, sockdir, users):
    """The primary group counts as well as the supplementary ones."""
    d = local_daemon(daemon_factory, sockdir)
    name = users["outsider"]
    r = talk(d.sock, "/whoami", user=name, groups=str(ADM))
    assert r == {"replies": [f"+OK {name} (user), local"]}


def test_outsider_cannot_connect(daemon_factory, sockdir, users):
    d = local_daemon(daemon_factory, sockdir)
    assert talk(d.sock, "/whoami", user=users["outsider"]) == \
        {"errno": 13}       # EACCES: mode 0660 root:adm
    p = as_user(users["outsider"], [BEN_AFK, "-S", d.sock],
                input="/whoami\n")
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "Permission denied" in p.stderr
    assert "local:" not in d.log_text()


def test_outsider_let_in_by_the_mode_is_anonymous(daemon_factory, sockdir,
                                                  users):
    """Whoever reaches the socket without uid 0 or the group (here: mode
    0666 set by hand) is anonymous, whatever the file mode allows."""
    d = local_daemon(daemon_factory, sockdir)
    os.chmod(d.sock, 0o666)
    r = talk(d.sock, "/whoami", user=users["outsider"])
    assert r == {"replies": ["+OK anonymous, local"]}


# --- max_clients -------------------------------------------------------------

def test_local_clients_count_against_max_clients(daemon_factory, sockdir):
    d = local_daemon(daemon_factory, sockdir)
    tcp = [d.connect(), d.connect()]
    loc = connect_local(d.sock)
    d.wait_for_log(r"^Client connected: local:.* \(3/3\)\.$")
    fourth = connect_local(d.sock)
    assert read_line(fourth) == "-ERR too many clients (max 3)"
    assert fourth.recv(100) == b""
    d.wait_for_log(r"^Client refused: local:uid=0\(root\),pid=\d+: too many "
                   r"clients \(3/3\)\.$")
    # and a TCP client is refused because of the local one
    tcp[0].close()
    d.wait_for_log(r"^Client disconnected: 127\.0\.0\.1:\d+\.$")
    loc2 = connect_local(d.sock)
    d.wait_for_log(r"^Client connected: local:.* \(3/3\)\.$", count=2)
    fifth = d.connect()
    assert read_line(fifth) == "-ERR too many clients (max 3)"
    for s in (tcp[1], loc, loc2, fourth, fifth):
        s.close()


# --- the real clients --------------------------------------------------------

def test_ben_afk_shell_as_root_over_the_socket(daemon_factory, sockdir):
    d = local_daemon(daemon_factory, sockdir,
                     extra="[shell]\nenabled = yes\n")
    p = subprocess.run([BEN_AFK, "-S", d.sock, "--shell"],
                       input="echo local-$((6*7))\nexit 3\n",
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "local-42" in p.stdout
    d.wait_for_log(r"^Shell session of root from local:uid=0\(root\),"
                   r"pid=\d+ started: ")


def test_ben_afk_shell_refused_to_a_reader(daemon_factory, sockdir, users):
    d = local_daemon(daemon_factory, sockdir,
                     extra="[shell]\nenabled = yes\n")
    p = as_user(users["reader"], [BEN_AFK, "-S", d.sock, "--shell"],
                input="echo no\nexit 0\n")
    assert p.returncode != 0
    assert "-ERR permission denied" in p.stderr, p.stderr
    assert "Shell session" not in d.log_text()


def test_ben_afk_reader_session(daemon_factory, sockdir, users):
    d = local_daemon(daemon_factory, sockdir)
    name = users["reader"]
    p = as_user(name, [BEN_AFK, "-S", d.sock], input="/whoami\nhello\n")
    assert p.returncode == 0, p.stderr
    assert f"+OK {name} (user), local" in p.stdout
    d.wait_for_message("User input: hello")


def test_ben_afk_socket_option_never_falls_back_to_tcp(daemon_factory,
                                                       sockdir):
    d = daemon_factory().start()        # TCP only
    p = subprocess.run([BEN_AFK, "-S", os.path.join(sockdir, "nope.sock"),
                        "-p", str(d.port)], input="/whoami\n",
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 3
    assert "nope.sock" in p.stderr
    assert "Client connected" not in d.log_text()


def test_gtk_client_over_the_socket(daemon_factory, sockdir, xserver,
                                    tmp_path):
    d = local_daemon(daemon_factory, sockdir)
    g = Gui(xserver, tmp_path, ["-S", d.sock])
    try:
        g.wait("window")
        connected(g)
        g.wait("connected", r"root \(admin\), local")
        g.type("hello from the GUI, locally")
        g.key("Return")
        d.wait_for_message("User input: hello from the GUI, locally",
                           timeout=10)
        d.wait_for_log(r"^Local client local:uid=0\(root\),pid=\d+ is root")
    finally:
        g.stop()


# --- -t ----------------------------------------------------------------------

@pytest.mark.parametrize("line, message", [
    ("local_group = no_such_group_mdl", "local_group: no group named "
     "'no_such_group_mdl'"),
    ("local_socket = run/md.sock", "local_socket: 'run/md.sock' is not an "
     "absolute path"),
    ("local_socket = /" + "x" * 120, "local_socket: path too long"),
])
def test_test_config_checks_the_local_keys(tmp_path, line, message):
    conf = tmp_path / "c.conf"
    conf.write_text(f"[daemon]\n{line}\n")
    r = run_binary(["-t", "-c", str(conf)])
    assert r.rc == 1
    assert f"{conf}:2: {message}" in r.err, r.err


def test_test_config_accepts_the_local_keys(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[daemon]\nlocal_socket = none\nlocal_group = adm\n"
                    "[daemon]\nlocal_socket = /run/x/y.sock\n")
    r = run_binary(["-t", "-c", str(conf)])
    assert r.rc == 0, r.err


# --- the default path, in private namespaces ---------------------------------

NS_SCRIPT = r"""
set -u
# Never the machine's /run nor its port 4242: stop if isolation fails.
mount -t tmpfs -o mode=0755 tmpfs /run || exit 91
ip link set lo up || exit 92
"$MD" -c "$CONF" || exit 90
S=/run/matt_daemon/matt_daemon.sock
stat -c 'stat %a %U %G %F' "$S"
stat -c 'dir %a' /run/matt_daemon
echo "root: $(echo /whoami | "$AFK")"
echo "reader: $(echo /whoami | setpriv --reuid "$RD" --regid "$RDG" \
    --init-groups -- "$AFK")"
echo "outsider: $(echo /whoami | setpriv --reuid "$OT" --regid "$OTG" \
    --init-groups -- "$AFK")"
echo "named: $(echo /whoami | "$AFK" -p 4242)"
echo quit | "$AFK"
for i in $(seq 100); do [ -e "$S" ] || break; sleep 0.05; done
[ -e "$S" ] && echo "left: yes" || echo "left: no"
"""


def test_default_socket_and_clients_without_options(tmp_path, users):
    """No local_socket key: /run/matt_daemon/matt_daemon.sock; Ben_AFK
    with no options uses it (root: admin, adm: reader), an outsider goes
    on over TCP, any server option means TCP."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is missing")
    conf = tmp_path / "c.conf"
    lock = tmp_path / "lock"
    conf.write_text(f"[daemon]\nlock_file = {lock}\n"
                    f"[log]\ndir = {tmp_path}/log\n")
    rd, ot = pwd.getpwnam(users["reader"]), pwd.getpwnam(users["outsider"])
    env = dict(os.environ, MD=BINARY, AFK=BEN_AFK, CONF=str(conf),
               RD=str(rd.pw_uid), RDG=str(rd.pw_gid), OT=str(ot.pw_uid),
               OTG=str(ot.pw_gid))
    try:
        p = subprocess.run(["unshare", "--mount", "--net",
                            "--propagation", "private", "sh", "-c",
                            NS_SCRIPT], env=env, capture_output=True,
                           text=True, timeout=60)
    finally:
        # the daemon lives on in the namespaces if quit failed: by PID
        if lock.exists():
            text = lock.read_text().strip()
            if text.isdigit() and not process_gone(int(text)):
                os.kill(int(text), 9)
                wait_gone(int(text))
    if "unshare failed" in p.stderr or p.returncode in (91, 92):
        pytest.skip("no private namespaces here: " + p.stderr[-200:])
    out = dict(l.split(": ", 1) for l in p.stdout.splitlines()
               if ": " in l)
    lines = p.stdout.splitlines()
    assert "stat 660 root adm socket" in lines, (p.stdout, p.stderr)
    assert "dir 755" in lines
    assert out["root"] == "+OK root (admin), local", p.stderr
    assert out["reader"] == f"+OK {users['reader']} (user), local"
    assert out["outsider"] == "+OK anonymous"     # over TCP, port 4242
    assert out["named"] == "+OK anonymous"
    assert out["left"] == "no"
    log = (tmp_path / "log" / "matt_daemon.log").read_text()
    assert re.search(rf"Client connected: 127\.0\.0\.1:\d+ ", log)
    assert "Request quit." in log

"""Ben_AFK-gtk, the graphical client, driven under a real X server.

Each test starts its own Xvfb (a free display chosen by Xvfb itself with
-displayfd), its own daemon and Ben_AFK-gtk, and drives the window with
real input from xdotool (typing into the focused entry, Return, Control-Q,
mnemonics).  Ben_AFK-gtk runs with BEN_AFK_GTK_TRACE=1: what the window
shows is also printed on its stdout ("gtk: WHAT TEXT"), which the tests
read.  Each test saves a screenshot, screenshot.png, in its tmp_path.
Without a built Ben_AFK-gtk, Xvfb or xdotool the tests skip and say why.
Every wait is bounded; only processes started here are stopped, by PID.
"""

import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import REPO, BINARY, free_port, wait_until
from tls_helpers import tls

GTK_BIN = os.environ.get("BEN_AFK_GTK", os.path.join(REPO, "Ben_AFK-gtk"))
BEN_AFK = os.environ.get("BEN_AFK", os.path.join(REPO, "Ben_AFK"))
PASSWORD = "open sesame 42"
SCREEN = "1280x800x24"


def _missing():
    if not os.access(GTK_BIN, os.X_OK):
        return f"{GTK_BIN} is not built (GTK4/VTE missing: scripts/deps.sh)"
    for tool in ("Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (scripts/deps.sh installs it)"
    return None


MAN1 = os.path.join(REPO, "man", "Ben_AFK-gtk.1")
DESKTOP = os.path.join(REPO, "packaging", "ben-afk-gtk.desktop")
ICON = os.path.join(REPO, "packaging", "icons", "hicolor", "scalable", "apps",
                    "ben-afk-gtk.svg")


# --- command line and manual page (no X needed) -------------------------------

def render(page):
    p = subprocess.run(["groff", "-mandoc", "-ww", "-Tutf8", "-P-c", "-P-b",
                        "-P-o", "-P-u", page], capture_output=True,
                       timeout=30)
    assert p.returncode == 0 and p.stderr == b"", p.stderr
    return p.stdout.decode("utf-8")


def test_man_page_formats_and_matches_help():
    if shutil.which("groff") is None:
        pytest.skip("groff is missing")
    text = render(MAN1)
    assert [l for l in text.splitlines() if len(l) > 80] == []
    for name in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT",
                 "FILES", "EXIT STATUS", "SEE ALSO"]:
        assert re.search(rf"^{name}$", text, re.M), name
    if not os.access(GTK_BIN, os.X_OK):
        pytest.skip(f"{GTK_BIN} is not built")
    p = subprocess.run([GTK_BIN, "--help"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 0
    m = re.search(r"^SYNOPSIS\n(.*?)(?=^\S)", text, re.M | re.S)
    assert p.stdout.splitlines()[0] == "usage: " + " ".join(m.group(1).split())
    options = re.search(r"^OPTIONS\n(.*?)(?=^\S)", text, re.M | re.S).group(1)
    for opt in re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", p.stdout, re.M):
        assert opt in options, opt
    p = subprocess.run([GTK_BIN, "-p", "99999"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 2 and "bad port" in p.stderr


def test_desktop_file_is_valid_and_names_the_binary_and_icon():
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate is missing (scripts/deps.sh)")
    p = subprocess.run(["desktop-file-validate", DESKTOP],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == "", p.stdout + p.stderr
    entry = dict(l.split("=", 1) for l in open(DESKTOP).read().splitlines()
                 if "=" in l)
    assert entry["Exec"] == "Ben_AFK-gtk" and entry["Type"] == "Application"
    assert entry["Icon"] == "ben-afk-gtk"
    svg = open(ICON).read()
    assert svg.startswith("<?xml") and "<svg" in svg and 'viewBox="0 0 128 ' \
        '128"' in svg


# --- the X server, the client, the daemon ----------------------------------

@pytest.fixture
def xserver(tmp_path):
    """An Xvfb on a display it picks itself; yields the DISPLAY string."""
    if _missing() is not None:
        pytest.skip(_missing())
    r, w = os.pipe()
    log = open(tmp_path / "xvfb.log", "wb")
    p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0",
                          SCREEN, "-nolisten", "tcp", "-noreset"],
                         pass_fds=(w,), stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log)
    os.close(w)
    num = b""
    deadline = time.monotonic() + 15
    while not num.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([r], [], [], 0.5)
        if ready:
            chunk = os.read(r, 16)
            if not chunk:
                break
            num += chunk
    os.close(r)
    if not num.strip().isdigit():
        p.kill()
        p.wait(timeout=5)
        log.close()
        pytest.skip("Xvfb could not start: " +
                    (tmp_path / "xvfb.log").read_text(errors="replace")[-300:])
    yield ":" + num.decode().strip()
    p.terminate()
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)
    log.close()


class Gui:
    """One Ben_AFK-gtk process and what it traced on stdout."""

    def __init__(self, display, tmp_path, args, env=None):
        self.display = display
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir(exist_ok=True)
        # the icon where an installed one would be found (About, window)
        apps = self.home / ".local/share/icons/hicolor/scalable/apps"
        apps.mkdir(parents=True, exist_ok=True)
        shutil.copy(ICON, apps)
        self.out_path = tmp_path / "gui.out"
        e = dict(os.environ)
        e.pop("BEN_AFK_PASSWORD", None)
        e.update(HOME=str(self.home), DISPLAY=display, GDK_BACKEND="x11",
                 GTK_A11Y="none", NO_AT_BRIDGE="1", BEN_AFK_GTK_TRACE="1",
                 GSETTINGS_BACKEND="memory", LIBGL_ALWAYS_SOFTWARE="1",
                 # no session bus: nothing may autolaunch one behind us
                 DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent")
        if "ASAN_OPTIONS" in e:
            # SANITIZE=1: the GTK stack's own leaks are not ours to report
            e["ASAN_OPTIONS"] = "detect_leaks=0"
            e.pop("UBSAN_OPTIONS", None)
        if env:
            e.update(env)
        self.env = e
        self.lines = []             # the trace read so far
        self.partial = b""
        self.offset = 0
        self.out = open(self.out_path, "wb")
        self.err = open(tmp_path / "gui.err", "wb")
        self.p = subprocess.Popen([GTK_BIN] + [str(a) for a in args],
                                  stdin=subprocess.DEVNULL, stdout=self.out,
                                  stderr=self.err, env=e,
                                  start_new_session=True)

    def trace(self):
        """The trace lines so far (read incrementally: a 100,000-record
        trace is not read again at every poll)."""
        with open(self.out_path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        *done, self.partial = (self.partial + data).split(b"\n")
        self.lines += [l.decode(errors="replace") for l in done]
        return self.lines

    def wait(self, what, pattern=".*", timeout=15.0, after=0):
        """Wait for a trace line "gtk: WHAT TEXT" with TEXT matching
        PATTERN, among the lines from index AFTER; returns its index and
        text."""
        rx = re.compile(pattern)
        head = f"gtk: {what} "
        seen = [after]              # lines before this one were checked

        def found():
            lines = self.trace()
            for i in range(seen[0], len(lines)):
                if lines[i].startswith(head) and \
                        rx.search(lines[i][len(head):]):
                    return (i, lines[i][len(head):])
            seen[0] = max(seen[0], len(lines))
            return None

        r = wait_until(found, timeout, 0.05)
        assert r, (f"Ben_AFK-gtk never showed {what} ~ {pattern!r} in "
                   f"{timeout}s; trace tail: {self.trace()[-12:]!r}; "
                   f"stderr: {self.stderr()[-800:]!r}")
        return r

    def stderr(self):
        return (self.tmp / "gui.err").read_text(errors="replace")

    def xdo(self, *args):
        subprocess.run(["xdotool"] + list(args), env=self.env, timeout=30,
                       capture_output=True)

    def focus(self):
        """Give the X input focus to the (first mapped) window of ours."""
        p = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible",
                            "--pid", str(self.p.pid)], env=self.env,
                           capture_output=True, text=True, timeout=20)
        for wid in p.stdout.split():
            self.xdo("windowfocus", "--sync", wid)
        time.sleep(0.2)

    def type(self, text):
        self.xdo("type", "--delay", "15", text)

    def key(self, *keys):
        self.xdo("key", "--delay", "50", *keys)

    def screenshot(self, name="screenshot.png"):
        path = self.tmp / name
        subprocess.run(["import", "-window", "root", str(path)],
                       env=self.env, timeout=30, capture_output=True)
        assert path.exists() and path.stat().st_size > 0, "no screenshot"
        return path

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)
        self.out.close()
        self.err.close()


@pytest.fixture
def gui(xserver, tmp_path):
    made = []

    def start(*args, env=None):
        g = Gui(xserver, tmp_path, args, env)
        made.append(g)
        g.wait("window")
        return g

    start.home = tmp_path / "home"
    yield start
    for g in made:
        g.stop()


def md(d, *args, input=None):
    return subprocess.run([BINARY, "-c", d.conf] + [str(a) for a in args],
                          input=input, capture_output=True, text=True,
                          timeout=30)


def secure_daemon(factory, shell=False):
    """TLS optional, auth optional, an admin 'alice'; not started."""
    d = factory()
    d.extra_text = (f"[tls]\nmode = optional\ncert = {d.tmp}/cert.pem\n"
                    f"key = {d.tmp}/cert.key\n"
                    f"[auth]\nmode = optional\nusers = {d.tmp}/users\n"
                    f"authorized_keys = {d.tmp}/authorized_keys\n"
                    + ("[shell]\nenabled = yes\n" if shell else ""))
    d.write_config()
    r = md(d, "--add-user", "alice", "--admin", input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    return d


def pin(d, home, fp=None):
    """Write the daemon's fingerprint (or FP) to HOME's known_hosts."""
    fp = fp or md(d, "--fingerprint").stdout.strip()
    path = home / ".config" / "ben_afk" / "known_hosts"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"127.0.0.1:{d.port} {fp}\n")
    return path


def connected(g):
    """Wait until both sessions run: the command one and /follow."""
    g.wait("connected")
    g.wait("following")
    g.wait("status")
    g.focus()


@pytest.fixture
def user_daemon(daemon_factory):
    """A started daemon with TLS and auth optional and the admin alice:
    /tail and /follow need a logged-in user."""
    return secure_daemon(daemon_factory).start()


def logged_in(gui, d, *args, env=None):
    """Ben_AFK-gtk logged in as alice over TLS (the server pinned)."""
    pin(d, gui.home)
    e = {"BEN_AFK_PASSWORD": PASSWORD}
    e.update(env or {})
    return gui("-p", d.port, "--tls", "-u", "alice", *args, env=e)


def send_lines(d, lines):
    with d.connect() as s:
        s.sendall(b"".join(l.encode() + b"\n" for l in lines))
        s.sendall(b"/ping\n")
        assert s.recv(100).startswith(b"+OK pong")


def model_size(g, after=0):
    """The last "model N shown M" of the trace: (N, M)."""
    sizes = [tuple(map(int, re.match(r"gtk: model (\d+) shown (\d+)",
                                     l).groups()))
             for l in g.trace()[after:] if l.startswith("gtk: model ")]
    return sizes[-1] if sizes else (0, 0)


# --- the four behaviours --------------------------------------------

def test_line_typed_in_the_gui_reaches_the_daemon_log(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    g.type("hello from the GUI")
    g.key("Return")
    user_daemon.wait_for_message("User input: hello from the GUI",
                                 timeout=10)
    # and the live view shows it back, from /follow
    g.wait("log", r"\[ LOG \] - Matt_daemon: User input: hello from the GUI$")
    g.screenshot()


def test_line_from_another_client_appears_in_the_log_view(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    with user_daemon.connect() as s:
        s.sendall(b"sent by another client\n")
        g.wait("log", r"User input: sent by another client$", timeout=10)
    g.screenshot()


def test_multi_line_paste_sends_each_line(user_daemon, gui):
    if shutil.which("xclip") is None:
        pytest.skip("xclip is not installed (scripts/deps.sh installs it)")
    daemon = user_daemon
    g = logged_in(gui, daemon)
    connected(g)
    # xclip owns the clipboard in the foreground until we stop it.
    clip = subprocess.Popen(["xclip", "-selection", "clipboard", "-quiet",
                             "-loops", "10"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=g.env)
    try:
        clip.stdin.write(b"first pasted\nsecond pasted\nthird")
        clip.stdin.close()
        time.sleep(0.3)
        g.key("ctrl+v")
        daemon.wait_for_message("User input: first pasted", timeout=10)
        daemon.wait_for_message("User input: second pasted", timeout=10)
        # the unfinished last line waits in the entry for Return
        assert "User input: third" not in daemon.messages()
        g.key("Return")
        daemon.wait_for_message("User input: third", timeout=10)
        msgs = daemon.messages()
        assert msgs.index("User input: first pasted") < \
            msgs.index("User input: second pasted") < \
            msgs.index("User input: third")
        g.screenshot()
    finally:
        if clip.poll() is None:
            clip.kill()
        clip.wait(timeout=10)


def test_quit_action_stops_the_daemon(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)                    # alice is an admin
    g.key("ctrl+q")
    g.wait("quit-dialog")
    time.sleep(0.3)
    g.screenshot("confirm.png")
    g.key("Return")                 # the dialog's default: Quit daemon
    g.wait("quit-sent")
    assert user_daemon.wait_gone(timeout=10), "the daemon did not stop"
    assert "Request quit." in user_daemon.messages()
    g.wait("notice", r"stopped \(quit\)")
    g.screenshot()


def test_refused_connection_shows_an_error(daemon_factory, gui):
    d = daemon_factory()            # never started: nothing listens
    g = gui("-p", d.port)
    g.wait("error", rf"^Cannot connect to 127\.0\.0\.1 port {d.port}: "
           r"Connection refused")
    time.sleep(0.3)
    g.screenshot()
    assert g.p.poll() is None, "the window must stay, showing the error"


# --- more of the window -----------------------------------------------------------

def test_log_view_stops_following_when_scrolled_up(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    with user_daemon.connect() as s:
        s.sendall(b"".join(b"filler %d\n" % i for i in range(150)))
        g.wait("log", r"User input: filler 149$")
    g.xdo("mousemove", "400", "300")
    g.xdo("click", "--repeat", "15", "--delay", "30", "4")   # wheel up
    g.wait("scroll", "^paused$")
    n = len(g.trace())
    with user_daemon.connect() as s:
        s.sendall(b"while scrolled up\n")
        g.wait("log", r"User input: while scrolled up$", after=n)
    time.sleep(0.3)
    assert not [l for l in g.trace()[n:] if l == "gtk: scroll following"]
    g.screenshot("paused.png")
    g.xdo("click", "--repeat", "80", "--delay", "20", "5")   # wheel down
    g.wait("scroll", "^following$", after=n)
    g.screenshot()


def test_latest_records_button_follows_again(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    send_lines(user_daemon, [f"filler {i}" for i in range(150)])
    flushed(g, r"User input: filler 149$")
    g.xdo("mousemove", "400", "300")
    g.xdo("click", "--repeat", "15", "--delay", "30", "4")   # wheel up
    n, _ = g.wait("latest-button", "^on$")
    time.sleep(0.3)
    g.screenshot("scrolled.png")
    g.key("ctrl+End")               # the button's shortcut
    g.wait("scroll", "^following$", after=n)
    g.wait("latest-button", "^off$", after=n)
    m = len(g.trace())
    send_lines(user_daemon, ["after the button"])
    g.wait("log", r"User input: after the button$", after=m)
    time.sleep(0.5)
    assert not [l for l in g.trace()[m:] if l == "gtk: scroll paused"]


def test_too_many_clients_is_shown_in_the_window(daemon_factory, gui):
    d = daemon_factory(max_clients=1).start()
    with d.connect() as s:
        s.sendall(b"/ping\n")
        assert s.recv(100).startswith(b"+OK")
        g = gui("-p", d.port)
        g.wait("error", r"^Too many clients \(max 1\): the daemon serves")
        g.screenshot()


def test_first_tls_contact_asks_then_pins_the_fingerprint(daemon_factory,
                                                           gui):
    d = secure_daemon(daemon_factory).start()
    fp = md(d, "--fingerprint").stdout.strip()
    g = gui("-p", d.port, "--tls")
    _, text = g.wait("trust-dialog")
    assert text == f"127.0.0.1:{d.port} {fp}"
    g.focus()
    time.sleep(0.3)
    g.screenshot("trust.png")
    g.key("alt+t")                  # "_Trust and connect"
    g.wait("connected", r"^anonymous$")
    known = (g.home / ".config" / "ben_afk" / "known_hosts").read_text()
    assert known == f"127.0.0.1:{d.port} {fp}\n"
    g.wait("status")
    g.screenshot()


def visible_windows(g):
    p = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid",
                        str(g.p.pid)], env=g.env, capture_output=True,
                       text=True, timeout=20)
    return p.stdout.split()


def test_changed_fingerprint_is_reported_once_in_one_dialog(daemon_factory,
                                                            gui, tmp_path):
    d = secure_daemon(daemon_factory).start()
    home = tmp_path / "home"
    bad = ":".join(["AB"] * 32)
    path = pin(d, home, bad)
    g = gui("-p", d.port, "--tls")
    g.wait("changed-host", r"WARNING: THE SERVER'S IDENTITY HAS CHANGED!.*"
           + re.escape(bad))
    time.sleep(1.0)
    g.screenshot()
    # one report: the dialog (over the window), no copy under the form
    assert len([l for l in g.trace() if "IDENTITY HAS CHANGED" in l]) == 1
    assert len(visible_windows(g)) == 2
    assert path.read_text() == f"127.0.0.1:{d.port} {bad}\n"
    assert not [m for m in d.messages_raw() if "User input" in m
                or "Command from" in m]


def test_anonymous_user_cannot_quit_when_auth_is_on(daemon_factory, gui,
                                                     tmp_path):
    d = secure_daemon(daemon_factory).start()
    pin(d, tmp_path / "home")
    g = gui("-p", d.port, "--tls")
    g.wait("connected")
    g.wait("status")
    g.focus()
    n = len(g.trace())
    g.key("ctrl+q")                 # greyed out: nothing happens
    time.sleep(1.0)
    assert not [l for l in g.trace()[n:] if l.startswith("gtk: quit")]
    g.type("quit")
    g.key("Return")
    g.wait("toast", r"needs an admin", after=n)
    assert d.alive()
    g.screenshot()


def test_key_without_user_logs_in_as_the_local_account(daemon_factory, gui,
                                                       tmp_path):
    """-i KEY without -u: the user is $USER or, when that is unset, the
    passwd entry of the caller, as Ben_AFK does."""
    me = pwd.getpwuid(os.getuid()).pw_name
    d = secure_daemon(daemon_factory)
    key = tmp_path / "id"
    r = subprocess.run([BEN_AFK, "--keygen", str(key)], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    r = md(d, "--add-key", me, f"{key}.pub")
    assert r.returncode == 0, r.stderr
    d.start()
    pin(d, tmp_path / "home")
    g = gui("-p", d.port, "-i", key, env={"USER": ""})
    connected(g)
    d.wait_for_log(rf"^Authentication of {re.escape(me)} from \S+ "
                   r"succeeded \(key, user\)\.$")


def test_admin_gets_a_remote_shell_in_the_terminal_tab(daemon_factory, gui,
                                                       tmp_path):
    d = secure_daemon(daemon_factory, shell=True).start()
    pin(d, tmp_path / "home")
    g = gui("-p", d.port, "--tls", "-u", "alice",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    connected(g)
    g.wait("shell", r"Remote shell available")
    g.key("alt+t")                  # the "_Terminal" tab
    g.wait("shell", r"type exit to end it")
    time.sleep(0.5)
    out = tmp_path / "shell.out"
    g.type(f"echo gui-shell-$((6*7)) > {out}; stty size >> {out}")
    g.key("Return")
    assert wait_until(lambda: out.exists() and
                      len(out.read_text().splitlines()) == 2, 10)
    lines = out.read_text().splitlines()
    assert lines[0] == "gui-shell-42"
    rows, cols = map(int, lines[1].split())
    assert rows > 24 and cols > 80, "the window's size reached the pty"
    g.screenshot()
    g.type("exit 3")
    g.key("Return")
    g.wait("shell", r"exited with status 3")


def test_gui_with_terminal_open_is_one_client(daemon_factory, gui,
                                             tmp_path):
    """Commands, the live log and the Terminal tab share one connection
    (/mux): the GUI is one client, and with max_clients = 2 a plain nc
    still gets in beside it."""
    d = daemon_factory(max_clients=2)
    d = secure_daemon(lambda: d, shell=True).start()
    pin(d, tmp_path / "home")
    g = gui("-p", d.port, "--tls", "-u", "alice",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    connected(g)
    g.wait("shell", r"Remote shell available")
    g.key("alt+t")
    g.wait("shell", r"type exit to end it")
    time.sleep(0.5)
    out = tmp_path / "shell.out"
    g.type(f"echo one-conn-$((6*7)) > {out}")
    g.key("Return")
    assert wait_until(lambda: out.exists() and
                      out.read_text().strip() == "one-conn-42", 10)
    # the status bar: one client, the GUI alone
    n = len(g.trace())
    g.wait("status", r" · +1 client +·", after=n, timeout=15)
    # one entry in /clients for the whole window, in its shell
    c = tls(d)
    assert c.ask(f"/auth password alice {PASSWORD}", timeout=10) == \
        "+OK authenticated as alice (admin)"
    assert c.ask("/clients") == "+OK 2 clients"
    entries = [c.line().decode().rstrip("\n") for _ in range(2)]
    mine = [e for e in entries if e.startswith(c.addr + " ")]
    gui_entries = [e for e in entries if e not in mine]
    assert len(mine) == 1 and len(gui_entries) == 1, entries
    assert "user=alice" in gui_entries[0] and "mode=shell" in \
        gui_entries[0], entries
    addr = c.addr
    c.close()
    assert wait_until(lambda: d.messages().count(
        f"Client disconnected: {addr}.") == 1, 10)
    # a plain client is the 2nd of 2: it gets in, its line is logged
    s = d.connect()
    s.sendall(b"nc beside the GUI\n")
    d.wait_for_message("User input: nc beside the GUI", timeout=10)
    s.settimeout(0.5)
    try:
        got = s.recv(4096)
    except (socket.timeout, TimeoutError):
        got = b""
    assert b"too many clients" not in got
    s.close()
    g.type("exit 4")
    g.key("Return")
    g.wait("shell", r"exited with status 4")


def test_lines_typed_while_following_on_one_connection_are_logged(
        daemon_factory, gui, tmp_path):
    """The window follows the log and sends lines on its one connection:
    every line typed is logged, and comes back in the live view."""
    d = secure_daemon(daemon_factory, shell=True).start()
    pin(d, tmp_path / "home")
    g = gui("-p", d.port, "--tls", "-u", "alice",
            env={"BEN_AFK_PASSWORD": PASSWORD})
    connected(g)
    for i in range(5):
        g.type(f"typed while following {i}")
        g.key("Return")
    for i in range(5):
        d.wait_for_message(f"User input: typed while following {i}",
                           timeout=10)
        g.wait("log", rf"User input: typed while following {i}$")
    conns = [m for m in d.messages() if m.startswith("Client connected: ")]
    assert len(conns) == 1, conns


def lose(g, d):
    """SIGTERM the daemon under G; returns the error bar's trace index."""
    os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone()
    i, _ = g.wait("error", rf"Connection to 127\.0\.0\.1 port {d.port} lost")
    return i


def test_connection_loss_offers_reconnect(user_daemon, gui):
    d = user_daemon
    g = logged_in(gui, d)
    connected(g)
    lose(g, d)
    time.sleep(0.3)
    g.screenshot("lost.png")
    d.start()
    n = len(g.trace())
    g.focus()
    g.key("alt+r")                  # "_Reconnect"
    g.wait("connected", after=n)
    _, text = g.wait("history", after=n)
    g.wait("following", after=n)
    # the new daemon's /tail starts with records already shown: not twice
    assert re.match(r"\d+ records, [1-9]\d* already shown$", text), text
    quits = [l for l in g.trace() if l.startswith("gtk: log ") and
             l.endswith("] - Matt_daemon: Quitting.")]
    assert len(quits) == 1, quits
    g.screenshot()


def test_last_records_before_a_loss_come_before_the_lost_bar(user_daemon,
                                                             gui):
    d = user_daemon
    g = logged_in(gui, d)
    connected(g)
    # a backlog on the live log: its end comes after the command session's
    with d.connect() as s:
        s.sendall(b"".join(b"backlog %d\n" % i for i in range(3000)))
        s.sendall(b"/ping\n")      # logged, on their way to the GUI
        assert s.recv(100).startswith(b"+OK pong")
        bar = lose(g, d)
    g.wait("log", r"User input: backlog 2999$")
    # the bar waits for the end of the live log (the race is not left to
    # chance: the live log's end must come first)
    end, _ = g.wait("follow-ended")
    assert end < bar
    sig, _ = g.wait("log", r"Signal handler: received SIGTERM")
    quitting, _ = g.wait("log", r"\] - Matt_daemon: Quitting\.$")
    assert sig < quitting < bar, g.trace()[sig - 2:]


def test_disconnect_stays_usable_after_a_loss(user_daemon, gui):
    d = user_daemon
    g = logged_in(gui, d)
    connected(g)
    n = lose(g, d)
    g.focus()
    g.key("ctrl+shift+d")           # Disconnect
    g.wait("disconnected", after=n)
    g.screenshot()


def test_enter_in_the_password_field_connects_again(user_daemon, gui):
    d = user_daemon
    pin(d, gui.home)
    g = gui("-p", d.port, "--tls", "-u", "alice")
    g.wait("password-needed")
    for attempt in range(3):        # the third: after two disconnections
        n = len(g.trace())
        g.focus()
        g.type(PASSWORD)
        g.key("Return")
        g.wait("connected", r"^alice \(admin\)$", after=n)
        g.wait("following", after=n)
        g.key("ctrl+shift+d")
        g.wait("disconnected", after=n)


def test_recent_servers_keep_only_servers_reached(user_daemon, gui):
    dead = free_port()              # nothing listens there
    g = gui("-p", dead)
    g.wait("error", r"Connection refused")
    recent = g.home / ".config" / "ben_afk" / "recent_servers"
    time.sleep(0.5)
    assert not recent.exists()
    g.stop()
    g = logged_in(gui, user_daemon)
    connected(g)
    g.wait("recent", rf"^127\.0\.0\.1:{user_daemon.port}$")
    assert recent.read_text().splitlines() == [
        f"127.0.0.1\t{user_daemon.port}\ttls\talice\t"]


# --- replies in words, the history first ------------------------------------

def test_view_opens_with_the_recent_history(user_daemon, gui):
    send_lines(user_daemon, [f"before the window {i}" for i in range(30)])
    g = logged_in(gui, user_daemon)
    first, _ = g.wait("log", r"User input: before the window 0$")
    last, _ = g.wait("log", r"User input: before the window 29$")
    live, _ = g.wait("following")
    assert first < last < live


def test_status_and_clients_replies_are_shown_in_words(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    n = len(g.trace())
    g.type("/status")
    g.key("Return")
    i, text = g.wait("log", r"^Matt_daemon 1\.0\.0 \(pid \d+\), up \d+s; "
                     r"TLS optional, authentication optional$", after=n)
    g.wait("log", r"^  \d+ clients?; \d+ lines received \(\d+ bytes\)$",
           after=i)
    g.wait("log", r"^  Log file \d+(\.\d)? (bytes|KiB|MiB); 0 archives "
           r"\(0 bytes\)$", after=i)
    assert not [l for l in g.trace()[n:] if "=" in l and "gtk: log" in l]
    g.type("/clients")
    g.key("Return")
    _, text = g.wait("log", r"^  127\.0\.0\.1:\d+ — alice \(admin\), TLS, ",
                     after=n)
    assert re.search(r"connected since \d\d/\d\d/\d{4} \d\d:\d\d:\d\d$",
                     text), text
    assert not [l for l in g.trace()[n:] if l.startswith("gtk: log +OK")]
    g.screenshot()


def test_error_reply_goes_to_a_toast_not_the_log(daemon_factory, gui,
                                                 tmp_path):
    d = secure_daemon(daemon_factory).start()
    pin(d, tmp_path / "home")
    g = gui("-p", d.port, "--tls")  # anonymous: /rotate is refused
    g.wait("connected")
    g.wait("status")
    g.focus()
    n = len(g.trace())
    g.type("/rotate")
    g.key("Return")
    g.wait("toast", r"^Permission denied", after=n)
    time.sleep(0.3)
    g.screenshot()
    assert not [l for l in g.trace()[n:] if "-ERR" in l]


def test_failed_login_reads_as_a_sentence(user_daemon, gui):
    pin(user_daemon, gui.home)
    g = gui("-p", user_daemon.port, "--tls", "-u", "alice",
            env={"BEN_AFK_PASSWORD": "not the password"})
    g.wait("error", r"^Authentication failed: wrong user name, password "
           r"or key\.$")
    assert not [l for l in g.trace() if "-ERR" in l]
    time.sleep(0.3)
    g.screenshot()


def test_log_refused_to_an_anonymous_session_says_log_in(daemon_factory, gui,
                                                         tmp_path):
    d = secure_daemon(daemon_factory)
    d.extra_text = d.extra_text.replace("mode = optional\nusers",
                                        "mode = required\nusers")
    d.write_config()
    d.start()
    pin(d, tmp_path / "home")
    g = gui("-p", d.port, "--tls")
    g.wait("connected", r"^anonymous$")
    g.wait("log-unavailable", r"^Log in to see the log")
    time.sleep(0.3)
    g.screenshot()
    assert not [l for l in g.trace() if l.startswith("gtk: log -ERR")]


# --- finding things in the log ---------------------------------------------------

def flushed(g, pattern):
    """Wait for a record and for the view to show it (the batch after)."""
    i, _ = g.wait("log", pattern)
    g.wait("model", after=i)


def test_search_highlights_and_steps_through_matches(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    send_lines(user_daemon, [f"haystack {i}" for i in range(200)] +
               ["the needle one"] + [f"hay {i}" for i in range(100)] +
               ["the needle two"])
    flushed(g, r"User input: the needle two$")
    n = len(g.trace())
    g.key("ctrl+f")
    g.wait("search-open", after=n)
    time.sleep(0.5)                 # the bar slides in
    g.type("NEEDLE")
    _, text = g.wait("search", r"^NEEDLE: 2 matches", after=n)
    print(f"search over the view: {text}")
    _, lit = g.wait("highlight", r"^[1-9]\d* of ", after=n)
    g.key("Return")
    g.wait("search-match", r"User input: the needle one$", after=n)
    m = len(g.trace())
    g.key("ctrl+g")
    g.wait("search-match", r"User input: the needle two$", after=m)
    m = len(g.trace())
    g.key("ctrl+g")                 # wraps to the first
    g.wait("search-match", r"User input: the needle one$", after=m)
    m = len(g.trace())
    g.key("shift+ctrl+g")           # and back
    g.wait("search-match", r"User input: the needle two$", after=m)
    m = len(g.trace())
    g.key("shift+Return")           # back again
    g.wait("search-match", r"User input: the needle one$", after=m)
    m = len(g.trace())
    g.key("Return")
    g.wait("search-match", r"User input: the needle two$", after=m)
    g.wait("scroll", "^paused$", after=n)   # the match stays in view
    time.sleep(0.3)
    g.screenshot("search.png")
    # Escape: the bar closes, the match stays selected: Ctrl+C copies it
    if shutil.which("xclip") is None:
        pytest.skip("xclip is not installed (scripts/deps.sh installs it)")
    g.key("Escape")
    g.wait("search-closed", after=m)
    g.key("ctrl+c")
    g.wait("copied", "^1$", after=m)
    clip = subprocess.run(["xclip", "-selection", "clipboard", "-o"],
                          env=g.env, capture_output=True, text=True,
                          timeout=10)
    assert re.fullmatch(r"\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\] \[ LOG \] - "
                        r"Matt_daemon: User input: the needle two\n",
                        clip.stdout), clip.stdout


def test_filter_by_text_and_by_level(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    send_lines(user_daemon, [f"alpha {i}" for i in range(50)] +
               [f"beta {i}" for i in range(30)])
    flushed(g, r"User input: beta 29$")
    n = len(g.trace())
    g.key("shift+ctrl+f")
    time.sleep(0.5)
    g.type("alpha")
    _, text = g.wait("filter", r"^50 shown of \d+", after=n)
    print(f"filter: {text}")
    m = len(g.trace())
    g.key("ctrl+2")                 # LOG records off
    g.wait("filter", r"^0 shown of ", after=m)
    g.wait("placeholder", "^on$", after=m)
    time.sleep(0.3)
    g.screenshot("filter.png")
    m = len(g.trace())
    g.key("ctrl+2")                 # and on again
    g.wait("filter", r"^50 shown of ", after=m)
    g.wait("placeholder", "^off$", after=m)
    m = len(g.trace())
    g.key("ctrl+a")                 # the filter entry's text
    g.key("BackSpace")
    g.wait("filter", r"^(\d+) shown of \1 ", after=m)
    m = len(g.trace())
    g.key("ctrl+1")                 # INFO records off: no "Client ..."
    _, text = g.wait("filter", r"^\d+ shown of ", after=m)
    shown, total = map(int, re.findall(r"\d+", text)[:2])
    assert 80 <= shown < total


def test_pause_holds_new_records_until_resumed(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    g.key("shift+ctrl+p")
    i, _ = g.wait("pause", "^on$")
    before = model_size(g)[0]
    send_lines(user_daemon, [f"while paused {i}" for i in range(20)])
    j, _ = g.wait("log", r"User input: while paused 19$")
    time.sleep(0.5)
    assert not [l for l in g.trace()[i:] if l.startswith("gtk: model ")]
    g.screenshot("paused.png")
    g.key("shift+ctrl+p")
    k, _ = g.wait("pause", "^off$", after=j)
    g.wait("model", after=k)
    assert model_size(g)[0] >= before + 20


def test_menu_opens_the_shortcuts_window_and_about(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    g.key("ctrl+question")
    g.wait("shortcuts-window")
    time.sleep(0.5)
    assert len(visible_windows(g)) == 2
    g.screenshot("shortcuts.png")
    g.key("Escape")
    assert wait_until(lambda: len(visible_windows(g)) == 1, 10)
    g.focus()
    g.key("F10")                    # the primary menu
    time.sleep(0.5)
    g.key("Up")                     # its last item: About
    g.key("Return")
    g.wait("about", "^1.0.0$")
    time.sleep(0.5)
    g.screenshot("about.png")


def test_recent_server_from_the_primary_menu_fills_the_form(user_daemon,
                                                            gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    g.wait("recent", rf"^127\.0\.0\.1:{user_daemon.port}$")
    n = len(g.trace())
    g.key("F10")
    time.sleep(0.5)
    g.key("Down", "Right")          # from New Connection: Recent Servers
    time.sleep(0.5)
    g.screenshot("menu.png")
    g.key("Down", "Return")         # below the title: the only server
    g.wait("recent-chosen", "^0$", after=n)
    g.wait("password-focus", after=n)   # the rest: the password
    g.type(PASSWORD)
    g.key("Return")
    g.wait("connected", r"^alice \(admin\)$", after=n)


def test_history_limit_bounds_the_view(user_daemon, gui):
    g = logged_in(gui, user_daemon, "--history", "100")
    connected(g)
    send_lines(user_daemon, [f"bound {i:04d}" for i in range(250)])
    flushed(g, r"User input: bound 0249$")
    sizes = [int(l.split()[2]) for l in g.trace()
             if l.startswith("gtk: model ")]
    assert max(sizes) == 100 and sizes[-1] == 100, sizes
    n = len(g.trace())
    g.key("ctrl+f")
    g.wait("search-open", after=n)
    time.sleep(0.5)                 # the bar slides in
    g.type("bound 0249")
    g.wait("search", r"^bound 0249: 1 match", after=n)
    n = len(g.trace())
    g.key("ctrl+a")
    g.type("bound 0000")            # dropped long ago
    g.wait("search", r"^bound 0000: No match", after=n)


def test_a_hundred_thousand_records(user_daemon, gui):
    """100,000 records: the model holds exactly --history of them, search
    finds the right one; the times are printed, not asserted."""
    g = logged_in(gui, user_daemon, "--history", "100000")
    connected(g)
    t0 = time.monotonic()
    with user_daemon.connect() as s:
        # in steps: the daemon drops a follower 256 KiB behind
        for start in range(0, 100005, 2000):
            end = min(start + 2000, 100005)
            s.sendall(b"".join(b"big %06d\n" % i for i in range(start, end)))
            g.wait("log", rf"User input: big {end - 1:06d}$", timeout=60,
                   after=max(0, len(g.lines) - 10))
    flushed(g, r"User input: big 100004$")
    assert wait_until(lambda: model_size(g)[0] == 100000, 60)
    print(f"100,005 records through the daemon into the view: "
          f"{time.monotonic() - t0:.1f} s; batches: " +
          ", ".join(re.search(r"\((.*)\)", l).group(1) for l in g.trace()
                    if l.startswith("gtk: model ") and "+" in l)[-300:])
    n = len(g.trace())
    g.key("ctrl+f")
    g.wait("search-open", after=n)
    time.sleep(0.5)                 # the bar slides in
    g.type("big 099999")
    _, text = g.wait("search", r"^big 099999: 1 match", after=n, timeout=60)
    print(f"search (counting matches) in 100,000 records: {text}")
    g.key("Return")
    _, text = g.wait("search-match", r"User input: big 099999$", after=n)
    print(f"go to the match: {text.split(':')[0]}")
    # scrolling 100,000 records with the wheel: the frames' times
    g.key("Escape")
    n = len(g.trace())
    g.xdo("mousemove", "400", "350")
    g.xdo("click", "--repeat", "60", "--delay", "15", "4")   # wheel up
    time.sleep(0.5)
    frames = sorted(float(l.split()[2]) for l in g.trace()[n:]
                    if l.startswith("gtk: frame "))
    assert frames, "no frame was drawn while scrolling"
    print(f"scrolling: {len(frames)} frames, median "
          f"{frames[len(frames) // 2]:.1f} ms, max {frames[-1]:.1f} ms")
    n = len(g.trace())
    g.key("ctrl+f")
    g.wait("search-open", after=n)
    time.sleep(0.5)
    n = len(g.trace())
    g.key("ctrl+a")
    g.type("big 000000")            # dropped: over the limit
    g.wait("search", r"^big 000000: No match", after=n, timeout=60)
    g.screenshot("big.png")


def test_status_bar_warns_while_forwarding_is_down(daemon_factory, gui,
                                                    tmp_path):
    """Item 7 of issue 18: a [forward] target that is down shows in the
    status bar, with the records waiting; the warning goes once it is
    back."""
    from collector import Collector
    col = Collector(tmp_path / "rsyslog")
    d = secure_daemon(daemon_factory)
    d.extra_text += (f"[forward]\ntarget = tcp://127.0.0.1:{col.port}\n"
                     f"state_dir = {d.tmp}/state\n")
    d.write_config()
    d.start()
    g = logged_in(gui, d)
    connected(g)
    g.wait("status", rf"  ·  ⚠ forwarding to tcp://127\.0\.0\.1:{col.port}"
           r" is down \(\d+ records waiting\)$", timeout=30)
    col.start()
    try:
        n = len(g.trace())
        g.wait("status", r"  ·  log [^⚠]*$", after=n, timeout=40)
    finally:
        col.stop()

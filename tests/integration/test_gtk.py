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

from conftest import (ADMIN_NAME, ADMIN_PASSWORD, REPO, BINARY, free_port,
                      wait_until, with_admin)

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
        self.out = open(self.out_path, "wb")
        self.err = open(tmp_path / "gui.err", "wb")
        self.p = subprocess.Popen([GTK_BIN] + [str(a) for a in args],
                                  stdin=subprocess.DEVNULL, stdout=self.out,
                                  stderr=self.err, env=e,
                                  start_new_session=True)

    def trace(self):
        return self.out_path.read_text(errors="replace").splitlines()

    def wait(self, what, pattern=".*", timeout=15.0, after=0):
        """Wait for a trace line "gtk: WHAT TEXT" with TEXT matching
        PATTERN, among the lines from index AFTER; returns its index and
        text."""
        rx = re.compile(pattern)

        def found():
            for i, line in enumerate(self.trace()):
                if i < after or not line.startswith(f"gtk: {what} "):
                    continue
                text = line[len(f"gtk: {what} "):]
                if rx.search(text):
                    return (i, text)
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


def connected(g, follow=True):
    """Wait until both sessions run: the command one and /follow (only a
    logged-in session may follow the log: FOLLOW False for an anonymous
    one)."""
    g.wait("connected")
    if follow:
        g.wait("following")
    g.wait("status")
    g.focus()


@pytest.fixture
def daemon(daemon_factory):
    """A started daemon with an admin (conftest.with_admin): nothing of
    the log reaches an anonymous session, and the window follows it."""
    return with_admin(daemon_factory()).start()


def admin_gui(gui, d, *args):
    """Ben_AFK-gtk logged in as with_admin()'s admin, over plain TCP."""
    return gui("-p", d.port, "-u", ADMIN_NAME, "--plaintext-password", *args,
               env={"BEN_AFK_PASSWORD": ADMIN_PASSWORD})


# --- the four behaviours --------------------------------------------

def test_line_typed_in_the_gui_reaches_the_daemon_log(daemon, gui):
    g = admin_gui(gui, daemon)
    connected(g)
    g.type("hello from the GUI")
    g.key("Return")
    daemon.wait_for_message("User input: hello from the GUI", timeout=10)
    # and the live view shows it back, from /follow
    g.wait("log", r"\[ LOG \] - Matt_daemon: User input: hello from the GUI$")
    g.screenshot()


def test_line_from_another_client_appears_in_the_log_view(daemon, gui):
    g = admin_gui(gui, daemon)
    connected(g)
    with daemon.connect() as s:
        s.sendall(b"sent by another client\n")
        g.wait("log", r"User input: sent by another client$", timeout=10)
    g.screenshot()


def test_multi_line_paste_sends_each_line(daemon, gui):
    if shutil.which("xclip") is None:
        pytest.skip("xclip is not installed (scripts/deps.sh installs it)")
    g = admin_gui(gui, daemon)
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


def test_quit_action_stops_the_daemon(daemon, gui):
    g = admin_gui(gui, daemon)
    connected(g)                    # an admin may quit
    g.key("ctrl+q")
    g.wait("quit-dialog")
    time.sleep(0.3)
    g.screenshot("confirm.png")
    g.key("Return")                 # the dialog's default: Quit daemon
    g.wait("quit-sent")
    assert daemon.wait_gone(timeout=10), "the daemon did not stop"
    assert "Request quit." in daemon.messages()
    g.wait("notice", r"stopped \(quit\)")
    g.screenshot()


def test_refused_connection_shows_an_error(daemon_factory, gui):
    d = daemon_factory()            # never started: nothing listens
    g = gui("-p", d.port)
    g.wait("error", rf"cannot connect to 127\.0\.0\.1 port {d.port}: "
           r"Connection refused")
    time.sleep(0.3)
    g.screenshot()
    assert g.p.poll() is None, "the window must stay, showing the error"


# --- more of the window -----------------------------------------------------------

def test_log_view_stops_following_when_scrolled_up(daemon, gui):
    g = admin_gui(gui, daemon)
    connected(g)
    with daemon.connect() as s:
        s.sendall(b"".join(b"filler %d\n" % i for i in range(150)))
        g.wait("log", r"User input: filler 149$")
    g.xdo("mousemove", "400", "300")
    g.xdo("click", "--repeat", "15", "--delay", "30", "4")   # wheel up
    g.wait("scroll", "^paused$")
    n = len(g.trace())
    with daemon.connect() as s:
        s.sendall(b"while scrolled up\n")
        g.wait("log", r"User input: while scrolled up$", after=n)
    time.sleep(0.3)
    assert not [l for l in g.trace()[n:] if l == "gtk: scroll following"]
    g.screenshot("paused.png")
    g.xdo("click", "--repeat", "60", "--delay", "20", "5")   # wheel down
    g.wait("scroll", "^following$", after=n)
    g.screenshot()


def test_too_many_clients_is_shown_in_the_window(daemon_factory, gui):
    d = daemon_factory(max_clients=1).start()
    with d.connect() as s:
        s.sendall(b"/ping\n")
        assert s.recv(100).startswith(b"+OK")
        g = gui("-p", d.port)
        g.wait("error", r"-ERR too many clients \(max 1\)")
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


def test_changed_fingerprint_is_refused_with_a_warning(daemon_factory, gui,
                                                        tmp_path):
    d = secure_daemon(daemon_factory).start()
    home = tmp_path / "home"
    bad = ":".join(["AB"] * 32)
    path = pin(d, home, bad)
    g = gui("-p", d.port, "--tls")
    g.wait("error", r"WARNING: THE SERVER'S IDENTITY HAS CHANGED!.*"
           + re.escape(bad))
    time.sleep(0.3)
    g.screenshot()
    assert path.read_text() == f"127.0.0.1:{d.port} {bad}\n"
    assert not [m for m in d.messages_raw() if "User input" in m
                or "Command from" in m]


def test_anonymous_user_cannot_quit_when_auth_is_on(daemon_factory, gui,
                                                     tmp_path):
    d = secure_daemon(daemon_factory).start()
    pin(d, tmp_path / "home")
    g = gui("-p", d.port, "--tls")
    connected(g, follow=False)      # anonymous: no live log
    n = len(g.trace())
    g.key("ctrl+q")                 # greyed out: nothing happens
    time.sleep(1.0)
    assert not [l for l in g.trace()[n:] if l.startswith("gtk: quit")]
    g.type("quit")
    g.key("Return")
    g.wait("log", r"quit needs an admin", after=n)
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


def test_connection_loss_offers_reconnect(daemon_factory, gui):
    d = with_admin(daemon_factory()).start()
    g = admin_gui(gui, d)
    connected(g)
    os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone()
    g.wait("error", rf"Connection to 127\.0\.0\.1 port {d.port} lost")
    time.sleep(0.3)
    g.screenshot("lost.png")
    d.start()
    n = len(g.trace())
    g.focus()
    g.key("alt+r")                  # "_Reconnect"
    g.wait("connected", after=n)
    g.wait("following", after=n)
    g.screenshot()


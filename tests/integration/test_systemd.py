"""Type=notify: READY=1 arrives once the port is open, STOPPING=1 at the
end; under systemd (stderr is JOURNAL_STREAM) -f copies no record to the
journal unless --stderr asks; the unit file is valid where systemd-analyze
exists; make install and uninstall."""

import os
import shutil
import socket
import subprocess

import pytest

from conftest import BINARY, REPO

UNIT = os.path.join(REPO, "packaging", "matt_daemon.service")


def test_ready_comes_after_listening_and_stopping_at_exit(daemon_factory,
                                                          tmp_path):
    d = daemon_factory()
    path = str(tmp_path / "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    p = subprocess.Popen([BINARY, "-f", "-c", d.conf], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        msg = ns.recv(4096).decode()
        # Listening already when READY=1 comes.
        with socket.create_connection(("127.0.0.1", d.port), timeout=2) as s:
            pass
        assert "READY=1" in msg.split("\n")
        assert f"MAINPID={p.pid}" in msg.split("\n")
        with socket.create_connection(("127.0.0.1", d.port), timeout=2) as s:
            s.sendall(b"quit\n")
        assert ns.recv(4096).decode() == "STOPPING=1"
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)
        ns.close()


def test_daemon_mode_reports_the_daemon_pid(daemon_factory, tmp_path):
    d = daemon_factory()
    path = "@md-notify-test-%d" % os.getpid()
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind("\0" + path[1:])
    ns.settimeout(10)
    r = subprocess.run([BINARY, "-c", d.conf], timeout=20,
                       env=dict(os.environ, NOTIFY_SOCKET=path),
                       stdin=subprocess.DEVNULL, capture_output=True)
    assert r.returncode == 0, r.stderr
    d.pid = d.read_lock_pid()
    msg = ns.recv(4096).decode()
    assert f"MAINPID={d.pid}" in msg.split("\n")
    ns.close()
    assert d.stop()


def run_foreground(d, errpath, env, *flags):
    """Run -f with stderr in ERRPATH and ENV; log a line, quit; the
    daemon's stderr."""
    with open(errpath, "wb") as err:
        p = subprocess.Popen([BINARY, "-f", *flags, "-c", d.conf], env=env,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=err)
    try:
        d.pid = p.pid
        d.wait_for_message(f"started. PID: {p.pid}.", timeout=10)
        d.send_and_close("secret client input\n")
        d.wait_for_message("User input: secret client input")
        assert d.stop()
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)
    return open(errpath, "rb").read().decode("utf-8", "replace")


def journal_env(path):
    """The environment systemd gives a service whose stderr is the journal
    stream PATH (JOURNAL_STREAM=device:inode of that stream)."""
    st = os.stat(path)
    return dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")


def test_foreground_under_systemd_copies_no_record_to_the_journal(
        daemon_factory, tmp_path):
    d = daemon_factory()
    errpath = tmp_path / "journal"
    errpath.write_bytes(b"")
    err = run_foreground(d, errpath, journal_env(errpath))
    assert err == "", err
    # the log file has them all the same
    assert "User input: secret client input" in d.messages()


def test_foreground_stderr_flag_copies_records_even_to_the_journal(
        daemon_factory, tmp_path):
    d = daemon_factory()
    errpath = tmp_path / "journal"
    errpath.write_bytes(b"")
    err = run_foreground(d, errpath, journal_env(errpath), "--stderr")
    assert "User input: secret client input" in err, err
    assert "Request quit." in err, err


def test_foreground_elsewhere_still_copies_records_to_stderr(
        daemon_factory, tmp_path):
    """JOURNAL_STREAM inherited from a service, but stderr is not that
    stream (a terminal, a file): records are copied, as -f always did."""
    d = daemon_factory()
    other = tmp_path / "other"
    other.write_bytes(b"")
    err = run_foreground(d, tmp_path / "stderr", journal_env(other))
    assert "User input: secret client input" in err, err


def test_unit_runs_the_daemon_in_the_foreground_without_copies():
    text = open(UNIT).read()
    execs = [l for l in text.splitlines() if l.startswith("ExecStart=")]
    assert execs == ["ExecStart=/usr/local/sbin/Matt_daemon -f"], execs
    assert "--stderr" not in execs[0]


def test_unit_file_is_valid(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    text = open(UNIT).read()
    assert "Type=notify" in text and "ExecStart=" in text
    unit = str(tmp_path / "matt_daemon.service")
    with open(unit, "w") as f:
        f.write(text.replace("/usr/local/sbin/Matt_daemon", BINARY))
    r = subprocess.run([analyze, "verify", "--man=no", unit], capture_output=True,
                       text=True, timeout=60)
    # Without a running systemd, verify may complain about the manager;
    # what must not appear is a complaint about our unit's own lines.
    bad = [l for l in (r.stdout + r.stderr).splitlines()
           if "matt_daemon.service:" in l]
    assert bad == [], bad


def make_in(dest, target):
    """make TARGET PREFIX=/usr DESTDIR=DEST, which must succeed."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "-s", "-C", REPO, target, "SANITIZE=0",
                        "PREFIX=/usr", f"DESTDIR={dest}"], env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr


@pytest.mark.serial     # make in this tree: one make at a time
def test_make_install_puts_everything_in_place(tmp_path):
    """make install PREFIX=/usr DESTDIR=...: binaries, man pages, the
    example config, the unit (pointing at the installed binary), the
    library with its header and pkg-config file."""
    dest = tmp_path / "root"
    make_in(dest, "install")
    for path, mode in (("usr/sbin/Matt_daemon", 0o755),
                       ("usr/bin/Ben_AFK", 0o755),
                       ("usr/share/man/man8/Matt_daemon.8", 0o644),
                       ("usr/share/man/man1/Ben_AFK.1", 0o644),
                       ("usr/share/man/man5/matt_daemon.conf.5", 0o644),
                       ("etc/matt_daemon/matt_daemon.conf.example", 0o644),
                       ("usr/lib/libtintin.a", 0o644),
                       ("usr/include/tintin/tintin.h", 0o644),
                       ("usr/lib/pkgconfig/tintin.pc", 0o644),
                       ("usr/share/doc/matt_daemon/PROTOCOL.md", 0o644),
                       ("usr/share/bash-completion/completions/Matt_daemon",
                        0o644),
                       ("usr/share/bash-completion/completions/Ben_AFK",
                        0o644),
                       ("usr/lib/systemd/system/matt_daemon.service", None)):
        p = dest / path
        assert p.is_file(), path
        if mode is not None:
            assert p.stat().st_mode & 0o777 == mode, path
    unit = (dest / "usr/lib/systemd/system/matt_daemon.service").read_text()
    assert "ExecStart=/usr/sbin/Matt_daemon -f" in unit
    # the pages that refer to the protocol name where it is installed
    doc = "/usr/share/doc/matt_daemon/PROTOCOL.md"
    for page in ("man8/Matt_daemon.8", "man1/Ben_AFK.1", "man1/Ben_AFK-gtk.1",
                 "man5/matt_daemon.conf.5"):
        text = (dest / "usr/share/man" / page).read_text()
        assert f".Pa {doc}" in text, page
        assert "docs/PROTOCOL.md" not in text, page
    pc = (dest / "usr/lib/pkgconfig/tintin.pc").read_text()
    assert "prefix=/usr" in pc
    r = subprocess.run([str(dest / "usr/sbin/Matt_daemon"), "-V"],
                       capture_output=True, text=True, timeout=10)
    assert r.stdout.startswith("Matt_daemon ")
    if os.access(os.path.join(REPO, "Ben_AFK-gtk"), os.X_OK):
        # the GUI, in the applications menu with its icon
        for path in ("usr/bin/Ben_AFK-gtk",
                     "usr/share/applications/ben-afk-gtk.desktop",
                     "usr/share/icons/hicolor/scalable/apps/ben-afk-gtk.svg"):
            assert (dest / path).is_file(), path
        desktop = (dest / "usr/share/applications/ben-afk-gtk.desktop")
        assert "\nExec=Ben_AFK-gtk\n" in desktop.read_text()


@pytest.mark.serial     # make in this tree: one make at a time
def test_make_uninstall_removes_what_install_put(tmp_path):
    """make uninstall, same PREFIX and DESTDIR: every installed file goes,
    but what the administrator made (a configuration, a user file) stays."""
    dest = tmp_path / "root"
    make_in(dest, "install")
    (dest / "etc/matt_daemon/matt_daemon.conf").write_text("[daemon]\n")
    (dest / "etc/matt_daemon/users").write_text("")
    make_in(dest, "uninstall")
    left = sorted(str(p.relative_to(dest)) for p in dest.rglob("*")
                  if not p.is_dir())
    assert left == ["etc/matt_daemon/matt_daemon.conf",
                    "etc/matt_daemon/users"], left


def test_clang_make_clean_fclean_on_a_copy_of_the_tree(tmp_path):
    """A copy of the tree (so the real one's links stay put): `make
    CC=clang`, with no target, builds everything with -Werror (`re` is
    `fclean` then that), `make clean` drops the objects but keeps the
    binaries, `make fclean` leaves no build."""
    if shutil.which("clang") is None:
        pytest.skip("clang is not installed")
    tree = tmp_path / "tree"
    shutil.copytree(REPO, tree, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", "build", "Matt_daemon", "Ben_AFK", "Ben_AFK-gtk"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}

    def make(*args):
        r = subprocess.run(["make", "-s", "-C", str(tree), "-j2",
                            "SANITIZE=0", *args],
                           env=env, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        return r

    r = make("CC=clang")
    assert "warning" not in r.stderr, r.stderr[-2000:]
    daemon = tree / "Matt_daemon"
    assert daemon.is_symlink() and os.access(daemon, os.X_OK)
    assert subprocess.run([str(daemon), "-V"], capture_output=True,
                          timeout=10).returncode == 0
    make("clean")
    assert not list((tree / "build").glob("*/src"))
    assert os.access(daemon, os.X_OK)       # binaries stay
    make("fclean")
    assert not (tree / "build").exists()
    assert not os.path.lexists(daemon)

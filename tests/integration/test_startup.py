"""Start sequence, readiness, detaching and the command line."""

import os
import signal
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import (BINARY, REPO, free_port, LINE_RE, START_MESSAGES,
                      proc_stat_fields, run_binary)


def test_start_sequence_is_exact(daemon):
    assert daemon.records() == [("INFO", m) for m in START_MESSAGES] + [
        ("INFO", f"started. PID: {daemon.pid}.")]


def test_features_record_says_what_is_on(daemon_factory, tmp_path):
    port = free_port()
    d = daemon_factory(extra=(
        f"[tls]\nmode = optional\ncert = {tmp_path}/cert.pem\n"
        f"key = {tmp_path}/key.pem\n"
        f"[auth]\nmode = required\nusers = {tmp_path}/users\n"
        f"authorized_keys = {tmp_path}/keys\n"
        f"[shell]\nenabled = yes\n"
        f"[forward]\ntarget = udp://127.0.0.1:{port}\n"))
    d.start()
    assert d.records()[:6] == [("INFO", m) for m in START_MESSAGES] + [
        ("INFO", f"started. PID: {d.pid}."),
        ("INFO", "Features: tls=optional auth=required shell=on alerts=0 "
                 f"forward=udp://127.0.0.1:{port}.")]
    # quit needs an admin now: a signal ends it
    os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone()


def test_every_log_line_has_the_subject_shape(daemon):
    daemon.send_and_close("hello\n")
    daemon.wait_for_message("User input: hello")
    lines = daemon.log_lines()
    assert lines
    for line in lines:
        assert LINE_RE.match(line), line
    assert daemon.log_bytes().endswith(b"\n")


def test_timestamp_is_local_time_now(daemon):
    first = daemon.log_lines()[0]
    m = LINE_RE.match(first)
    dd, mm, yyyy, hh, mi, ss = (int(x) for x in m.groups()[:6])
    logged = time.mktime((yyyy, mm, dd, hh, mi, ss, 0, 0, -1))
    assert abs(time.time() - logged) < 30, first


def test_timestamp_follows_the_clock_not_the_start(daemon):
    time.sleep(2.2)
    t_send = time.time()
    daemon.send_and_close("later\n")
    daemon.wait_for_message("User input: later")
    line = [l for l in daemon.log_lines() if l.endswith("User input: later")][0]
    dd, mm, yyyy, hh, mi, ss = (int(x) for x in LINE_RE.match(line).groups()[:6])
    logged = time.mktime((yyyy, mm, dd, hh, mi, ss, 0, 0, -1))
    assert logged >= int(t_send) - 1, f"stale timestamp: {line}"
    assert line[:22] != daemon.log_lines()[0][:22], "timestamp never moved"


def test_lock_file_holds_final_pid_and_mode_0644(daemon):
    with open(daemon.lock) as f:
        assert f.read() == f"{daemon.pid}\n"
    st = os.lstat(daemon.lock)
    assert stat.S_ISREG(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o644


def test_log_file_mode_0640(daemon):
    assert stat.S_IMODE(os.stat(daemon.logfile).st_mode) == 0o640


def test_missing_log_dir_created_0755(daemon_factory, tmp_path):
    d = daemon_factory(log_dir=tmp_path / "newlogdir")
    assert not os.path.exists(d.logdir)
    old = os.umask(0o022)
    try:
        d.start()
    finally:
        os.umask(old)
    st = os.stat(d.logdir)
    assert stat.S_ISDIR(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o755


def test_log_modes_do_not_depend_on_caller_umask(daemon_factory, tmp_path):
    d = daemon_factory(log_dir=tmp_path / "newlogdir")
    old = os.umask(0o077)
    try:
        d.start()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(d.logdir).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(d.logfile).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(d.lock).st_mode) == 0o644


def test_existing_log_is_appended_not_truncated(daemon_factory):
    d = daemon_factory()
    os.makedirs(d.logdir)
    old = b"[01/01/2020-00:00:00] [ INFO ] - Matt_daemon: old record.\n"
    with open(d.logfile, "wb") as f:
        f.write(old)
    d.start()
    assert d.log_bytes().startswith(old)
    assert d.messages()[1] == "Started."


def test_port_connectable_as_soon_as_launcher_returns(daemon_factory):
    d = daemon_factory()
    d.launch = d.run()
    assert d.launch.rc == 0, d.launch.err
    # no retry: readiness means the port accepts right now
    s = socket.create_connection(("127.0.0.1", d.port), timeout=2)
    d.pid = d.read_lock_pid()
    s.sendall(b"ready\n")
    s.close()
    d.wait_for_message("User input: ready")


def test_started_pid_line_written_before_launcher_returns(daemon_factory):
    d = daemon_factory()
    d.launch = d.run()
    assert d.launch.rc == 0
    d.pid = d.read_lock_pid()
    # no waiting: the record must already be in the file
    assert d.messages()[-1] == f"started. PID: {d.pid}."


def test_launcher_does_not_leave_its_stdio_to_the_daemon(daemon_factory):
    d = daemon_factory()
    p = subprocess.Popen([BINARY, "-c", d.conf], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # EOF on both pipes means no process (the daemon) still holds them
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate(timeout=5)
        pytest.fail("launcher pipes not closed: the daemon kept stdout/stderr")
    finally:
        if os.path.exists(d.lock):
            try:
                d.pid = d.read_lock_pid()
            except (AssertionError, ValueError):
                pass
    assert p.returncode == 0, err


def test_daemon_is_in_a_new_session_but_not_its_leader(daemon):
    f = proc_stat_fields(daemon.pid)
    ppid, pgrp, sid, tty_nr = int(f[1]), int(f[2]), int(f[3]), int(f[4])
    assert sid != os.getsid(0)
    assert sid != daemon.pid, "daemon is a session leader (no second fork)"
    assert pgrp != os.getpgid(0)


def test_daemon_has_no_controlling_tty(daemon):
    f = proc_stat_fields(daemon.pid)
    assert int(f[4]) == 0           # tty_nr
    assert int(f[5]) == -1 or int(f[5]) == 0  # tpgid: no terminal


def test_daemon_detaches_from_the_launchers_terminal(daemon_factory):
    """Launch from a session that owns a pty: the daemon must end up with no
    controlling terminal and outside that session."""
    import fcntl
    import termios
    d = daemon_factory()
    master, slave = os.openpty()
    try:
        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        p = subprocess.Popen([BINARY, "-c", d.conf], stdin=slave, stdout=slave,
                             stderr=slave, start_new_session=True,
                             preexec_fn=ctty)
        launcher_sid = os.getsid(p.pid)
        assert p.wait(timeout=10) == 0
        d.pid = d.read_lock_pid()
        f = proc_stat_fields(d.pid)
        sid, tty_nr = int(f[3]), int(f[4])
        assert tty_nr == 0, f"daemon still has controlling tty {tty_nr:#x}"
        assert sid != launcher_sid
        for fd in (0, 1, 2):
            assert os.readlink(f"/proc/{d.pid}/fd/{fd}") == "/dev/null"
    finally:
        os.close(slave)
        os.close(master)


def test_daemon_cwd_is_root(daemon):
    assert os.readlink(f"/proc/{daemon.pid}/cwd") == "/"


def test_daemon_stdio_is_dev_null(daemon):
    for fd in (0, 1, 2):
        assert os.readlink(f"/proc/{daemon.pid}/fd/{fd}") == "/dev/null", fd


def test_daemon_is_not_the_launcher_nor_its_child(daemon_factory):
    d = daemon_factory()
    p = subprocess.Popen([BINARY, "-c", d.conf], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert p.wait(timeout=10) == 0
    d.pid = d.read_lock_pid()
    assert d.pid != p.pid
    ppid = int(proc_stat_fields(d.pid)[1])
    assert ppid != p.pid
    assert ppid != os.getpid()
    assert d.connectable()


def test_daemon_keeps_no_extra_descriptors_to_launcher_files(daemon):
    """Only the usual suspects: /dev/null stdio, the log, the lock, sockets
    and anon inodes (epoll, signalfd, timerfd...)."""
    allowed_prefix = ("socket:", "anon_inode:", "pipe:")
    allowed = {"/dev/null", os.path.realpath(daemon.logfile),
               os.path.realpath(daemon.lock)}
    for fd in os.listdir(f"/proc/{daemon.pid}/fd"):
        try:
            target = os.readlink(f"/proc/{daemon.pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        assert target in allowed or target.startswith(allowed_prefix), \
            f"fd {fd} -> {target}"


# -- command line ----------------------------------------------------------

def test_version_exact():
    r = run_binary(["-V"])
    assert r.rc == 0
    assert r.out == "Matt_daemon 1.0.0\n"


def test_long_version_exact():
    r = run_binary(["--version"])
    assert r.rc == 0
    assert r.out == "Matt_daemon 1.0.0\n"


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_prints_usage_on_stdout_exit_0(flag, tmp_path):
    r = run_binary([flag], cwd=tmp_path)
    assert r.rc == 0
    assert "Matt_daemon" in r.out
    for opt in ("-c", "-f", "-t", "-h", "-V"):
        assert opt in r.out, opt
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args", [["-x"], ["--bogus"], ["-c"], ["--config"],
                                  ["extra-argument"]])
def test_bad_usage_exits_2(args, tmp_path):
    r = run_binary(args, cwd=tmp_path)
    assert r.rc == 2, (r.rc, r.err)
    assert r.err.strip(), "bad usage must say something on stderr"
    assert os.listdir(tmp_path) == []


def test_missing_config_given_with_c_is_error(tmp_path):
    r = run_binary(["-c", str(tmp_path / "nope.conf")])
    assert r.rc == 1
    assert "nope.conf" in r.err
    assert os.listdir(tmp_path) == []


def test_missing_config_with_t_is_error(tmp_path):
    r = run_binary(["-t", "-c", str(tmp_path / "nope.conf")])
    assert r.rc == 1
    assert "configuration OK" not in r.out


def test_test_config_ok(daemon_factory):
    d = daemon_factory()
    r = d.run("-t")
    assert r.rc == 0, r.err
    assert "configuration OK" in r.out
    # -t starts nothing and creates nothing
    assert not os.path.exists(d.lock)
    assert not os.path.exists(d.logdir)
    assert not d.connectable()


@pytest.mark.parametrize("form", [["--test-config", "--config"],
                                  ["-t", "--config="], ["-tc"]])
def test_test_config_long_and_bundled_forms(daemon_factory, form):
    d = daemon_factory()
    if form[-1].endswith("="):
        args = form[:-1] + [form[-1] + d.conf]
    else:
        args = form + [d.conf]
    r = run_binary(args)
    assert r.rc == 0, (args, r.err)
    assert "configuration OK" in r.out


def test_relative_config_path(daemon_factory):
    d = daemon_factory()
    r = run_binary(["-c", os.path.basename(d.conf)], cwd=d.tmp)
    assert r.rc == 0, r.err
    d.pid = d.read_lock_pid()
    assert d.connectable()


@pytest.mark.parametrize("text", [
    "[daemon]\nport = 1\n",
    "[daemon]\nport = 65535\n",
    "[daemon]\nlisten = *\n",
    "[daemon]\nlisten = ::1\n",
    "[daemon]\nlisten = 127.0.0.1\n",
    "[daemon]\nmax_line = 64\n",
    "[daemon]\nmax_line = 4K\n",
    "[daemon]\nmax_line = 1M\n",
    "[daemon]\nmax_clients = 1\n",
    "[daemon]\nidle_timeout = 0\n",
    "[daemon]\nidle_timeout = 30\n",
    "[daemon]\nidle_timeout = 30s\n",
    "[daemon]\nidle_timeout = 5m\n",
    "[daemon]\nidle_timeout = 2h\n",
    "[daemon]\nidle_timeout = 1d\n",
    "[log]\nlevel = debug\n",
    "[log]\nlevel = info\n",
    "[log]\nlevel = log\n",
    "[log]\nlevel = warn\n",
    "[log]\nlevel = error\n",
    "[sink a]\npath = /tmp/x.log\nlevel = warn\nformat = text\n"
    "[sink b]\npath = /tmp/y.log\nlevel = info\nformat = json\n",
    "; only a comment\n",
])
def test_test_config_accepts_valid_values(text, tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(text)
    r = run_binary(["-t", "-c", str(conf)])
    assert r.rc == 0, (text, r.out, r.err)
    assert "configuration OK" in r.out


@pytest.mark.parametrize("text,line", [
    ("[daemon]\nport = 4242\n[nosuch]\nx = 1\n", (3, 4)),
    ("[daemon]\nport = 4242\nbogus = 1\n", 3),
    ("[log]\nlevel = info\n\n\nfoo = bar\n", 5),
    ("[daemon]\nport = 0\n", 2),
    ("[daemon]\nport = 65536\n", 2),
    ("[daemon]\nport = abc\n", 2),
    ("[daemon]\nport = -1\n", 2),
    ("[daemon]\n\nlisten = not-an-address\n", 3),
    ("[daemon]\nmax_line = 63\n", 2),
    ("[daemon]\nmax_line = 2M\n", 2),
    ("[daemon]\nmax_line = 1048577\n", 2),
    ("[daemon]\nmax_line = 4X\n", 2),
    ("[daemon]\nidle_timeout = 5x\n", 2),
    ("[daemon]\nidle_timeout = -5\n", 2),
    ("[log]\nlevel = verbose\n", 2),
    ("[sink s]\npath = /tmp/x.log\nformat = xml\n", 3),
    ("[sink s]\npath = /tmp/x.log\nlevel = loud\n", 3),
    ("[sink s]\nbogus = 1\n", 2),
    # named sections: what is missing is reported at the header, even
    # for a section with no key at all
    ("[daemon]\nport = 4242\n[sink quiet]\n", 3),
    ("[daemon]\nport = 4242\n[alert quiet]\n", 3),
    ("[alert a]\nto = a@example.org\n", 1),
])
def test_test_config_reports_file_and_line(text, line, tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(text)
    r = run_binary(["-t", "-c", str(conf)])
    assert r.rc == 1, (text, r.out, r.err)
    lines = line if isinstance(line, tuple) else (line,)
    assert any(f"{conf}:{n}:" in r.err for n in lines), (text, r.err)
    assert "configuration OK" not in r.out


def test_test_config_rejects_empty_unknown_section(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[daemon]\nport = 4242\n[nosuch]\n")
    r = run_binary(["-t", "-c", str(conf)])
    assert r.rc == 1, (r.out, r.err)
    assert f"{conf}:3:" in r.err, r.err


def test_section_header_without_bracket_is_reported_first(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("[log]\nlevel = info\n[daemon\nport = 5000\n"
                    "max_clients = 2\n[shell]\nnosuch = 1\n")
    r = run_binary(["-t", "-c", str(conf)])
    assert r.rc == 1, (r.out, r.err)
    errors = r.err.splitlines()
    assert errors[0] == f"{conf}:3: section header without ']': [daemon", \
        r.err
    # port and max_clients are not blamed on [log]; the next good header
    # ends the skipping: [shell]'s unknown key is still reported.
    assert errors[1:] == [f"{conf}:7: unknown key 'nosuch' in [shell]"], \
        r.err


@pytest.mark.parametrize("value,expected", [
    ("yes", 1), ("YES", 1), ("True", 1), ("on", 1), ("ON", 1), ("1", 1),
    ("no", 0), ("No", 0), ("FALSE", 0), ("off", 0), ("Off", 0), ("0", 0),
    ("yess", None), ("2", None), ("", None), ("enabled", None),
])
def test_booleans_accept_every_spelling_in_any_case(value, expected,
                                                     tmp_path):
    conf = tmp_path / "c.conf"
    # allow_plaintext = yes lets auth run without TLS: a value read as
    # "no" makes the configuration fail, so both readings are visible.
    conf.write_text(f"[auth]\nmode = optional\nallow_plaintext = {value}\n"
                    f"[shell]\nenabled = {value}\n")
    r = run_binary(["-t", "-c", str(conf)])
    if expected == 1:
        assert r.rc == 0, (value, r.err)
        assert "configuration OK" in r.out
    elif expected == 0:
        assert r.rc == 1, (value, r.err)
        assert r.err.splitlines() == [
            f"{conf}: [auth] mode = optional needs [tls] mode = optional "
            "or required (or [auth] allow_plaintext = yes)"], r.err
    else:
        assert r.rc == 1, (value, r.err)
        assert f"{conf}:3: allow_plaintext: '{value}'" in r.err, r.err
        assert f"{conf}:5: enabled: '{value}'" in r.err, r.err


def test_bad_config_start_fails_and_creates_nothing(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text(f"[daemon]\nlock_file = {tmp_path}/l.lock\nport = 0\n"
                    f"[log]\ndir = {tmp_path}/log\n")
    r = run_binary(["-c", str(conf)])
    assert r.rc == 1
    assert f"{conf}:3:" in r.err
    assert sorted(os.listdir(tmp_path)) == ["c.conf"]


# -- foreground ------------------------------------------------------------

def test_foreground_logs_same_start_lines_and_copies_to_stderr(daemon_factory):
    d = daemon_factory()
    d.start_foreground()
    assert d.read_lock_pid() == d.fg.pid
    d.wait_for_message(f"started. PID: {d.fg.pid}.")
    assert d.records() == [("INFO", m) for m in START_MESSAGES] + [
        ("INFO", f"started. PID: {d.fg.pid}.")]
    d.send_and_close("in the foreground\n")
    d.wait_for_message("User input: in the foreground")
    assert d.stop()
    err = d.fg.stderr.read().decode("utf-8", "replace")
    assert d.fg.returncode == 0
    for msg in d.messages():
        assert msg in err, (msg, err)
    # same records, in the same order
    pos = 0
    for msg in d.messages():
        i = err.find(msg, pos)
        assert i >= 0, (msg, err)
        pos = i + len(msg)


def test_foreground_process_is_not_detached(daemon_factory):
    d = daemon_factory()
    d.start_foreground(stderr=subprocess.DEVNULL)
    f = proc_stat_fields(d.pid)
    assert int(f[1]) == os.getpid()       # still our child
    assert d.read_lock_pid() == d.pid


# -- privileges ------------------------------------------------------------

@pytest.fixture
def world_binary():
    """A copy of the binary that uid 65534 can execute."""
    d = tempfile.mkdtemp(prefix="md-bin-")
    os.chmod(d, 0o755)
    dst = os.path.join(d, "Matt_daemon")
    shutil.copy2(os.path.realpath(BINARY), dst)
    os.chmod(dst, 0o755)
    yield dst
    shutil.rmtree(d, ignore_errors=True)


def test_non_root_is_refused_and_nothing_created(daemon_factory, world_binary):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv not installed")
    d = daemon_factory()
    os.chmod(d.tmp, 0o755)
    os.chmod(d.conf, 0o644)
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", world_binary, "-c", d.conf],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=10)
    assert p.returncode == 1, p
    assert "Matt_daemon: must be run as root" in p.stderr.decode()
    assert not os.path.exists(d.lock)
    assert not os.path.exists(d.logdir)
    assert not d.connectable()


def test_non_root_default_config_is_refused(world_binary, tmp_path):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv not installed")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", world_binary],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=10, cwd="/")
    assert p.returncode == 1
    assert p.stderr.decode().strip() == "Matt_daemon: must be run as root"


# -- make run --------------------------------------------------------------

@pytest.mark.serial     # make in this tree: one make at a time
def test_make_run_says_where_the_daemon_is(daemon_factory):
    """make run starts the daemon, then says its PID (the lock file's),
    where it listens and where its log is; -o deps: no package install."""
    d = daemon_factory()
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "-s", "-C", REPO, "-o", "deps", "run",
                        "SANITIZE=0", f"RUN_ARGS=-c {d.conf}"], env=env,
                       capture_output=True, text=True, timeout=600,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    d.pid = d.read_lock_pid()
    assert d.pid and d.alive()
    assert r.stdout.splitlines()[-1] == (
        f"Matt_daemon is running: pid {d.pid}, listening on "
        f"127.0.0.1:{d.port}, log {d.logfile}"), r.stdout
    assert d.stop()


def test_summary_prints_listen_log_and_lock(daemon_factory):
    d = daemon_factory(listen="::1")
    r = d.run("--summary")
    assert r.rc == 0, r.err
    assert r.out == (f"listen [::1]:{d.port}\nlog {d.logfile}\n"
                     f"lock {d.lock}\n")
    assert not os.path.exists(d.logdir)

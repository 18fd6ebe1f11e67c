"""Shared helpers for the Matt_daemon black-box tests.

Every test owns its daemon: a config in tmp_path with a free loopback port,
its own lock file and log directory.  Teardown kills only the PID that this
test started (read from its own lock file, or found by its unique config
path), never anything by name.  Every wait is bounded in time.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MATT_DAEMON", os.path.join(REPO, "Matt_daemon"))

LINE_RE = re.compile(
    r"^\[(\d\d)/(\d\d)/(\d{4})-(\d\d):(\d\d):(\d\d)\] "
    r"\[ (INFO|LOG|WARN|ERROR|DEBUG) \] - Matt_daemon: (.*)$"
)

START_MESSAGES = [
    "Started.",
    "Creating server.",
    "Server created.",
    "Entering Daemon mode.",
]

LAUNCH_TIMEOUT = 10.0

# with_admin(): the admin that tests log in as to read the log or rotate
ADMIN_NAME = "tester"
ADMIN_PASSWORD = "conftest Admin-5e1 pw"


def _worker_ports():
    """Under pytest-xdist, this worker's own slice of the ports below the
    kernel's ephemeral range (or None: not a worker, or no room there)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "")
    if not (worker.startswith("gw") and worker[2:].isdigit() and
            count.isdigit()):
        return None
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    top = min(low, 32768)
    size = (top - 20000) // max(int(count), 1)
    if size < 200:
        return None
    first = 20000 + int(worker[2:]) * size
    return range(first, first + size)


_PORTS = _worker_ports()
# where this worker's next port search starts: a random point of its
# slice, so that two suites running at once seldom walk the same ports
_next_port = [_PORTS[secrets.randbelow(len(_PORTS))] if _PORTS else 0]


def free_port():
    """A TCP port that is free on 127.0.0.1 right now.  Under xdist, taken
    in turn from this worker's slice below the ephemeral range: bind(0)
    picks at random among the ports every worker (and every connect())
    draws from, so another worker could bind the port before this test's
    daemon does, or take one a test keeps closed on purpose (a collector
    that is away); a worker goes round its whole slice before it hands
    out a port again."""
    if _PORTS is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    for _ in range(len(_PORTS)):
        port = _next_port[0]
        _next_port[0] = port + 1 if port + 1 < _PORTS.stop else _PORTS.start
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {_PORTS}")


def proc_state(pid):
    """State letter from /proc/PID/stat, or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(")") + 2:]
    return rest.split()[0]


def proc_stat_fields(pid):
    """Fields of /proc/PID/stat after comm: index 0 = state (field 3)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read().decode("ascii", "replace")
    return data[data.rindex(")") + 2:].split()


def process_gone(pid):
    """True if pid no longer exists or is a zombie (not our child to reap)."""
    st = proc_state(pid)
    return st is None or st in ("Z", "X")


def wait_gone(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.02)
    return process_gone(pid)


def pids_with_arg(text):
    """PIDs whose command line contains `text` (our unique config path)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if text.encode() in cmd.split(b"\0"):
            out.append(int(name))
    return out


def parse_line(line):
    m = LINE_RE.match(line)
    if not m:
        return None
    return m.group(7), m.group(8)


def wait_until(pred, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def recv_until_eof(sock, timeout=5.0, limit=1 << 20):
    """Read until EOF (or reset); returns the bytes read. Bounded in time."""
    sock.settimeout(0.2)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(data) < limit:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return data
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"no EOF within {timeout}s (got {data!r})")


class Launch:
    def __init__(self, rc, out, err):
        self.rc = rc
        self.out = out
        self.err = err


def run_binary(args, timeout=LAUNCH_TIMEOUT, cwd=None, prefix=()):
    """Run the binary with stdout/stderr in files (so a daemon that kept
    the launcher's descriptors cannot hang us); returns Launch."""
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(list(prefix) + [BINARY] + list(args),
                             stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             cwd=cwd)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
            raise AssertionError(f"{args}: launcher did not exit in {timeout}s")
        out.seek(0)
        err.seek(0)
        return Launch(rc, out.read().decode("utf-8", "replace"),
                      err.read().decode("utf-8", "replace"))


class Daemon:
    """One Matt_daemon instance with its own config, lock, log and port."""

    def __init__(self, tmp_path, **overrides):
        self.tmp = tmp_path
        self.port = overrides.pop("port", None) or free_port()
        self.listen = overrides.pop("listen", "127.0.0.1")
        self.lock = str(overrides.pop("lock_file", tmp_path / "matt_daemon.lock"))
        self.logdir = str(overrides.pop("log_dir", tmp_path / "log"))
        self.logname = overrides.pop("log_file", "matt_daemon.log")
        self.level = overrides.pop("level", "info")
        self.extra_daemon = overrides.pop("daemon_extra", {})
        self.extra_text = overrides.pop("extra", "")
        self.max_clients = overrides.pop("max_clients", 3)
        self.max_line = overrides.pop("max_line", None)
        # The local unix socket: none unless a test asks for one, so that
        # parallel daemons never share /run/matt_daemon.
        self.local_socket = str(overrides.pop("local_socket", "none"))
        self.local_group = overrides.pop("local_group", None)
        assert not overrides, f"unknown overrides {overrides}"
        self.conf = str(tmp_path / "matt_daemon.conf")
        self.admin = None       # (name, password) once with_admin() ran
        self.pid = None
        self.fg = None          # Popen in foreground mode
        self.launch = None
        self.write_config()

    @property
    def logfile(self):
        return os.path.join(self.logdir, self.logname)

    def write_config(self):
        lines = ["[daemon]",
                 f"port = {self.port}",
                 f"listen = {self.listen}",
                 f"lock_file = {self.lock}",
                 f"max_clients = {self.max_clients}"]
        if self.max_line is not None:
            lines.append(f"max_line = {self.max_line}")
        lines.append(f"local_socket = {self.local_socket}")
        if self.local_group is not None:
            lines.append(f"local_group = {self.local_group}")
        for k, v in self.extra_daemon.items():
            lines.append(f"{k} = {v}")
        lines += ["[log]",
                  f"dir = {self.logdir}",
                  f"file = {self.logname}",
                  f"level = {self.level}"]
        text = "\n".join(lines) + "\n" + self.extra_text
        with open(self.conf, "w") as f:
            f.write(text)

    # -- lifecycle ---------------------------------------------------------
    def run(self, *args, **kw):
        """Run the launcher with this config; no assertion."""
        return run_binary(["-c", self.conf] + list(args), **kw)

    def start(self):
        """Start in daemon mode; the launcher must return 0 once serving."""
        self.launch = self.run()
        assert self.launch.rc == 0, (
            f"launcher exit {self.launch.rc}, stderr={self.launch.err!r}, "
            f"log={self.log_text()!r}")
        self.pid = self.read_lock_pid()
        assert self.pid and self.pid > 1
        return self

    def start_foreground(self, stderr=subprocess.PIPE):
        self.fg = subprocess.Popen([BINARY, "-f", "-c", self.conf],
                                   stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        self.pid = self.fg.pid
        # readiness without connecting (a probe would add client records)
        msg = f"started. PID: {self.pid}."
        ok = wait_until(lambda: msg in self.messages_raw()
                        or self.fg.poll() is not None, timeout=LAUNCH_TIMEOUT)
        assert ok and self.fg.poll() is None, "foreground daemon did not start"
        return self

    def connectable(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def read_lock_pid(self):
        with open(self.lock) as f:
            text = f.read()
        assert re.fullmatch(r"\d+\n", text), f"lock content {text!r}"
        return int(text)

    def alive(self):
        return self.pid is not None and not process_gone(self.pid)

    def wait_gone(self, timeout=5.0):
        ok = wait_gone(self.pid, timeout)
        if ok and self.fg is not None:
            try:
                self.fg.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
        return ok

    def kill(self):
        """SIGKILL the PID we started (if any) and every process running
        with our unique config path; wait boundedly."""
        pids = set(pids_with_arg(self.conf))
        if self.pid is not None:
            pids.add(self.pid)
        for pid in pids:
            if not process_gone(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for pid in pids:
            wait_gone(pid, 5.0)
        if self.fg is not None and self.fg.poll() is None:
            self.fg.kill()
            try:
                self.fg.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.fg is not None and self.fg.stderr is not None:
            self.fg.stderr.close()

    # -- clients -----------------------------------------------------------
    def connect(self, host="127.0.0.1", timeout=5.0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((host, self.port))
        return s

    def send(self, data, sock=None):
        """Send bytes/str on a new (or given) connection; returns the socket."""
        if isinstance(data, str):
            data = data.encode()
        s = sock or self.connect()
        s.sendall(data)
        return s

    def send_and_close(self, data):
        s = self.send(data)
        s.close()

    # -- log ---------------------------------------------------------------
    def log_bytes(self):
        try:
            with open(self.logfile, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def log_text(self):
        return self.log_bytes().decode("utf-8", "surrogateescape")

    def log_lines(self):
        """The complete lines of the log: what follows the last newline
        is a record the daemon is still writing (read while it floods)."""
        return self.log_text().split("\n")[:-1]

    def records(self):
        """[(level, message)] for every log line; asserts the line shape."""
        out = []
        for line in self.log_lines():
            r = parse_line(line)
            assert r is not None, f"bad log line shape: {line!r}"
            out.append(r)
        return out

    def messages_raw(self):
        """Messages of well-formed lines only (no shape assertion)."""
        return [r[1] for r in map(parse_line, self.log_lines()) if r]

    def messages(self):
        return [m for _, m in self.records()]

    def wait_for_log(self, pattern, timeout=5.0, count=1):
        """Wait until `count` log messages match regex `pattern` (searched in
        the message part); returns the list of matching messages."""
        rx = re.compile(pattern)

        def found():
            ms = []
            for line in self.log_lines():
                r = parse_line(line)
                if r and rx.search(r[1]):
                    ms.append(r[1])
            return ms if len(ms) >= count else None

        ms = wait_until(found, timeout)
        assert ms, (f"log never matched {pattern!r} x{count} in {timeout}s; "
                    f"log tail: {self.log_lines()[-15:]!r}")
        return ms

    def wait_for_message(self, message, timeout=5.0, count=1):
        return self.wait_for_log("^" + re.escape(message) + "$", timeout, count)

    def wait_for_bytes(self, needle, timeout=5.0, start=0):
        """Wait until raw `needle` appears in the log at or after byte
        offset `start`; reads incrementally (cheap on huge logs).
        Returns the offset just past the match."""
        pos = start
        buf = b""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.logfile, "rb") as f:
                    f.seek(pos)
                    new = f.read()
            except FileNotFoundError:
                new = b""
            if new:
                base = pos - len(buf)
                buf += new
                pos += len(new)
                i = buf.find(needle)
                if i >= 0:
                    return base + i + len(needle)
                buf = buf[-len(needle):]
            if time.monotonic() >= deadline:
                raise AssertionError(f"{needle[:80]!r} not logged in {timeout}s")
            time.sleep(0.02)

    def stop(self):
        """Send quit (as the admin of with_admin(), if any) and wait for
        the process to go."""
        try:
            s = self.connect()
            if self.admin is not None:
                login(s, *self.admin)
            s.sendall(b"quit\n")
            s.close()
        except OSError:
            pass
        return self.wait_gone()


def recv_line(sock, timeout=10.0):
    """One line from a raw socket (bytes, with its newline), reading one
    byte at a time so that nothing after it is taken.  Bounded in time."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    data = b""
    while not data.endswith(b"\n"):
        if time.monotonic() >= deadline:
            raise AssertionError(f"no line within {timeout}s ({data!r})")
        b = sock.recv(1)
        if not b:
            raise AssertionError(f"EOF before a line ({data!r})")
        data += b
    return data


def login(sock, name=ADMIN_NAME, password=ADMIN_PASSWORD):
    """/auth on a raw socket (plain: the daemon allows it, see
    with_admin()); asserts success and returns the socket."""
    sock.sendall(f"/auth password {name} {password}\n".encode())
    reply = recv_line(sock).decode()
    assert reply.startswith(f"+OK authenticated as {name} "), reply
    return sock


def with_admin(d, rotate_min_interval=None):
    """Give daemon D (not started) an admin to log in as, over plain TCP:
    [auth] mode = optional, allow_plaintext = yes, a users file made by
    --add-user.  Nothing of the log reaches an anonymous session, so the
    tests that read it (/tail, /follow, /clients) or /rotate log in.
    ROTATE_MIN_INTERVAL sets [log] rotate_min_interval (default: 1 min)."""
    users = os.path.join(str(d.tmp), "users")
    text = ""
    if rotate_min_interval is not None:
        text += f"[log]\nrotate_min_interval = {rotate_min_interval}\n"
    text += (f"[auth]\nmode = optional\nallow_plaintext = yes\n"
             f"users = {users}\n"
             f"authorized_keys = {os.path.join(str(d.tmp), 'keys')}\n")
    if d.extra_text and not d.extra_text.endswith("\n"):
        d.extra_text += "\n"
    d.extra_text += text
    d.write_config()
    p = subprocess.run([BINARY, "-c", d.conf, "--add-user", ADMIN_NAME,
                        "--admin"], input=ADMIN_PASSWORD + "\n",
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    d.admin = (ADMIN_NAME, ADMIN_PASSWORD)
    return d


def pytest_collection_modifyitems(config, items):
    """Under valgrind (MATT_VALGRIND=1, `make valgrind`), skip the tests
    listed in valgrind_skip.txt: "file.py", "file.py::test_name" or
    "file.py::test_name[param]"."""
    if os.environ.get("MATT_VALGRIND") != "1":
        return
    with open(os.path.join(os.path.dirname(__file__),
                           "valgrind_skip.txt")) as f:
        names = {ln.split("#")[0].strip() for ln in f} - {""}
    mark = pytest.mark.skip(reason="not under valgrind (valgrind_skip.txt)")
    for item in items:
        base = os.path.basename(str(item.fspath))
        if (base in names or f"{base}::{item.originalname}" in names or
                f"{base}::{item.name}" in names):
            item.add_marker(mark)


@pytest.fixture(autouse=True)
def sanitizer_reports(tmp_path_factory, monkeypatch):
    """A daemon built with SANITIZE=1 writes its reports to /dev/null once
    detached; send them to files instead and fail the test that caused one.
    Harmless for a normal build."""
    d = tmp_path_factory.mktemp("sanitizer")
    for var, name in (("ASAN_OPTIONS", "asan"), ("UBSAN_OPTIONS", "ubsan")):
        base = os.environ.get(var, "print_stacktrace=1" if name == "ubsan"
                              else "")
        monkeypatch.setenv(var, (base + ":" if base else "") +
                           f"log_path={d}/{name}")
    yield
    reports = sorted(os.listdir(d))
    if reports:
        text = ""
        for name in reports[:3]:
            with open(d / name, errors="replace") as f:
                text += f"--- {name}\n{f.read()[:4000]}\n"
        pytest.fail(f"sanitizer report(s) from the daemon:\n{text}")


@pytest.fixture
def daemon_factory(tmp_path):
    made = []

    def make(sub=None, **kw):
        base = tmp_path / sub if sub else tmp_path
        base.mkdir(exist_ok=True)
        d = Daemon(base, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.kill()


@pytest.fixture
def daemon(daemon_factory):
    """A started daemon (default settings)."""
    return daemon_factory().start()


@pytest.fixture(autouse=True)
def collectors_stopped():
    """The rsyslogd collectors (collector.py) a test left running end with
    it, by the PID each was started with."""
    yield
    col = sys.modules.get("collector")
    if col is not None:
        col.stop_all()

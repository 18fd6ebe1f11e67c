"""[forward]: records reach a real rsyslogd as RFC 5424 syslog messages.

Each test starts its own rsyslogd (foreground, own config and work
directory in tmp_path, only imtcp or imudp on a free loopback port) and
stops it by the PID it started.  Every wait is bounded.
"""

import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import free_port, wait_until

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"

pytestmark = pytest.mark.skipif(not os.path.exists(RSYSLOGD),
                                reason="rsyslogd is not installed")

TEMPLATE = ("%hostname% %app-name% %procid% %syslogseverity-text% "
            "%msg%\\n")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bound(proto, port):
    """Is a socket bound to 127.0.0.1:PORT (listening, for TCP)?"""
    want = f"0100007F:{port:04X}"
    with open(f"/proc/net/{proto}") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and (proto == "udp" or fields[3] == "0A"):
                return True
    return False


class Rsyslog:
    """One rsyslogd receiving on 127.0.0.1:PORT, writing one file."""

    def __init__(self, base, proto, port):
        self.base = base
        self.proto = proto
        self.port = port
        base.mkdir(exist_ok=True)
        (base / "work").mkdir(exist_ok=True)
        self.conf = str(base / "rsyslog.conf")
        self.pidfile = str(base / "rsyslogd.pid")
        self.out = str(base / "received.log")
        self.stderr = str(base / "rsyslogd.err")
        self.proc = None
        mod = "imtcp" if proto == "tcp" else "imudp"
        with open(self.conf, "w") as f:
            f.write(f'global(workDirectory="{base}/work")\n'
                    f'module(load="{mod}")\n'
                    f'input(type="{mod}" port="{port}" '
                    f'address="127.0.0.1")\n'
                    f'template(name="t" type="string" '
                    f'string="{TEMPLATE}")\n'
                    f'action(type="omfile" file="{self.out}" '
                    f'template="t")\n')

    def start(self):
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen(
                [RSYSLOGD, "-n", "-f", self.conf, "-i", self.pidfile],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        ok = wait_until(lambda: bound(self.proto, self.port)
                        or self.proc.poll() is not None, timeout=10)
        assert ok and self.proc.poll() is None, (
            f"rsyslogd did not start: {open(self.stderr).read()!r}")
        return self

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def records(self):
        """[(host, app, procid, severity, msg)] received so far."""
        try:
            with open(self.out, errors="replace") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        return [tuple(line.split(" ", 4)) for line in lines
                if line.count(" ") >= 4]

    def messages(self, app="Matt_daemon"):
        return [r[4] for r in self.records() if r[1] == app]

    def wait_for(self, msg, timeout=10.0):
        ok = wait_until(lambda: msg in self.messages(), timeout)
        assert ok, (f"{msg!r} not received in {timeout}s; got "
                    f"{self.messages()[-10:]!r}")

    def record_of(self, msg):
        for r in self.records():
            if r[1] == "Matt_daemon" and r[4] == msg:
                return r
        raise AssertionError(f"{msg!r} not received")


@pytest.fixture
def rsyslog(tmp_path):
    made = []

    def make(proto, port=None, sub="rsyslog"):
        if port is None:
            port = free_port() if proto == "tcp" else free_udp_port()
        r = Rsyslog(tmp_path / sub, proto, port)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def forward_daemon(daemon_factory, target):
    d = daemon_factory(sub="daemon")
    d.extra_text = (f"[forward]\ntarget = {target}\n"
                    f"state_dir = {d.tmp}/state\n")
    d.write_config()
    return d.start()


def send_lines(d, lines):
    s = d.connect()
    s.sendall("".join(f"{line}\n" for line in lines).encode())
    s.close()
    for line in lines:
        d.wait_for_message(f"User input: {line}")


def assert_fields(rec, pid, severity):
    host, app, procid, sev, _ = rec
    assert host == socket.gethostname()
    assert app == "Matt_daemon"
    assert procid == str(pid)
    assert sev == severity


def test_tcp_records_carry_host_app_procid_severity(daemon_factory, rsyslog):
    rs = rsyslog("tcp").start()
    d = forward_daemon(daemon_factory, f"tcp://127.0.0.1:{rs.port}")
    send_lines(d, ["hello", "second line"])
    rs.wait_for("User input: second line")
    assert_fields(rs.record_of("User input: hello"), d.pid, "notice")
    assert_fields(rs.record_of("User input: second line"), d.pid, "notice")
    rs.wait_for(f"started. PID: {d.pid}.")
    assert_fields(rs.record_of(f"started. PID: {d.pid}."), d.pid, "info")
    # Only the daemon's own "started" record names its PID: a client
    # saying the same changes nothing.
    send_lines(d, ["Matt_daemon: started. PID: 4.", "after the lie"])
    rs.wait_for("User input: after the lie")
    assert_fields(rs.record_of("User input: after the lie"), d.pid, "notice")


def test_tcp_survives_a_collector_restart(daemon_factory, rsyslog):
    rs = rsyslog("tcp").start()
    target = f"tcp://127.0.0.1:{rs.port}"
    d = forward_daemon(daemon_factory, target)
    before = [f"before {i}" for i in range(5)]
    during = [f"during {i}" for i in range(5)]
    after = [f"after {i}" for i in range(5)]

    send_lines(d, before)
    rs.wait_for("User input: before 4")
    rs.stop()
    send_lines(d, during)           # logged locally meanwhile
    d.wait_for_log(rf"^Forwarding to {target}: connection lost: .*; "
                   r"retrying in \d+s\.$")
    rs.start()
    send_lines(d, after)
    # Reconnect attempts back off (1 s, 2 s, 4 s...): wait long enough.
    rs.wait_for("User input: after 4", timeout=40)
    got = rs.messages()
    # Nothing lost.  A collector that resets the connection may have
    # dropped what it had not read: the forwarder sends the last seconds
    # again, so a line may come twice (a clean close sends nothing twice).
    for line in before + during + after:
        assert 1 <= got.count(f"User input: {line}") <= 2, line
    # Records keep their order (first arrivals).
    idx = [got.index(f"User input: {line}") for line in during + after]
    assert idx == sorted(idx)
    assert_fields(rs.record_of("User input: after 4"), d.pid, "notice")
    local = d.messages()
    for line in before + during + after:
        assert f"User input: {line}" in local
    d.wait_for_message(f"Forwarding to {target}: connected.", count=2)
    assert d.alive()


def test_udp_records_arrive(daemon_factory, rsyslog):
    rs = rsyslog("udp").start()
    d = forward_daemon(daemon_factory, f"udp://127.0.0.1:{rs.port}")
    send_lines(d, ["over udp", "x" * 3000])
    rs.wait_for("User input: over udp")
    assert_fields(rs.record_of("User input: over udp"), d.pid, "notice")
    # One datagram a record, cut to 2048 bytes.

    def long_lines():
        return [m for m in rs.messages() if m.startswith("User input: xxx")]

    assert wait_until(long_lines, timeout=10)
    assert 1000 < len(long_lines()[0]) < 2048


def test_no_collector_logs_locally_and_reports(daemon_factory):
    port = free_port()              # nobody listens there
    target = f"tcp://127.0.0.1:{port}"
    d = forward_daemon(daemon_factory, target)
    send_lines(d, ["still logged"])
    d.wait_for_message(f"Forwarding to {target}: cannot connect: "
                       "Connection refused; retrying in 1s.")
    t0 = time.monotonic()
    send_lines(d, ["and quickly"])
    assert time.monotonic() - t0 < 2
    assert d.alive()

"""/mux: one connection for lines, commands, followed records and a shell
(docs/PROTOCOL.md, 7.1).

After `+OK mux` both directions carry frames (type byte, 2-byte big-endian
length, payload): to the daemon 'l' (the text a plain session would send),
'd' and 'w' (the shell's); from it 'r' (replies), 'R' (followed records),
'd' and 'x' (the shell's), the session going on after 'x'.  Each test owns
its daemon; every wait is bounded; no process is killed here but the
daemon the fixture started.
"""

import hashlib
import os
import re
import select
import shutil
import socket
import struct
import tempfile
import threading
import time

import pytest

from conftest import LINE_RE, parse_line, wait_until
from test_shell import PROMPT, login, shell_daemon
from tls_helpers import plain, tls

MIB = 1 << 20


class Mux:
    """The frame side of a session after `+OK mux`."""

    def __init__(self, conn):
        self.c = conn
        self.raw = conn.buf         # bytes already read behind +OK mux
        conn.buf = b""
        self.replies = b""          # 'r' payloads not yet taken
        self.records = b""          # 'R' payloads
        self.out = b""              # terminal output ('d')
        self.status = []            # 'x' statuses, in order
        self.order = []             # frame types, in order
        self.eof = False

    # sending
    def frame(self, ftype, payload=b""):
        self.c.send(ftype + struct.pack(">H", len(payload)) + payload)

    def text(self, data):
        if isinstance(data, str):
            data = data.encode()
        for i in range(0, len(data), 4096):
            self.frame(b"l", data[i:i + 4096])

    def shell(self, data):
        if isinstance(data, str):
            data = data.encode()
        for i in range(0, len(data), 4096):
            self.frame(b"d", data[i:i + 4096])

    # receiving
    def parse(self):
        raw, at = self.raw, 0
        while len(raw) - at >= 3:
            ftype = raw[at:at + 1]
            n = struct.unpack(">H", raw[at + 1:at + 3])[0]
            assert n <= 4096, f"frame of {n} bytes"
            if len(raw) - at < 3 + n:
                break
            payload = raw[at + 3:at + 3 + n]
            at += 3 + n
            self.order.append(ftype)
            if ftype == b"r":
                self.replies += payload
            elif ftype == b"R":
                self.records += payload
            elif ftype == b"d":
                self.out += payload
            elif ftype == b"x":
                assert n == 4, f"x frame of {n} bytes"
                self.status.append(struct.unpack(">I", payload)[0])
            else:
                raise AssertionError(f"bad frame type {ftype!r}")
        self.raw = raw[at:]

    def feed(self, chunk):
        self.raw += chunk
        self.parse()

    def pump(self, timeout=0.2):
        self.parse()
        if self.eof:
            return False
        self.c.sock.settimeout(timeout)
        try:
            chunk = self.c.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return True
        except OSError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.feed(chunk)
        return True

    def wait(self, pred, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(min(0.2, left)):
                if pred():
                    return
                raise AssertionError(
                    f"no {what} within {timeout}s (eof={self.eof}); "
                    f"replies {self.replies[-300:]!r}, shell "
                    f"{self.out[-300:]!r}")

    def reply(self, timeout=10.0):
        self.wait(lambda: b"\n" in self.replies, "reply", timeout)
        line, self.replies = self.replies.split(b"\n", 1)
        return line.decode("utf-8", "replace")

    def ask(self, line, timeout=10.0):
        self.text(line + "\n")
        return self.reply(timeout)

    def record_lines(self):
        lines = self.records.decode("utf-8", "surrogateescape").split("\n")
        return lines[:-1]       # the last one is not whole yet

    def wait_record(self, message, timeout=10.0):
        def found():
            return any(parse_line(r)[1] == message
                       for r in self.record_lines())
        self.wait(found, f"record {message!r}", timeout)

    def expect(self, pattern, timeout=10.0, start=0):
        rx = re.compile(pattern)
        self.wait(lambda: rx.search(self.out, start) is not None,
                  f"shell output {pattern!r}", timeout)
        return rx.search(self.out, start)

    def wait_exit(self, count=1, timeout=10.0):
        self.wait(lambda: len(self.status) >= count, "x frame", timeout)
        return self.status[count - 1]


def mux(conn):
    assert conn.ask("/mux") == "+OK mux"
    return Mux(conn)


def admin_mux(d):
    return mux(login(tls(d)))


def test_lines_commands_records_and_a_shell_on_one_connection(
        daemon_factory):
    d = shell_daemon(daemon_factory)
    m = admin_mux(d)
    assert m.ask("/follow live") == "+OK following live"
    assert m.ask("/shell") == "+OK shell"
    m.expect(PROMPT)
    # a line while the shell runs: logged, and back as a record
    m.text("typed beside the shell\n")
    m.wait_record("User input: typed beside the shell")
    assert "User input: typed beside the shell" in d.messages()
    # the shell answers, and commands too, interleaved
    m.shell("echo SHELL''-ONE\n")
    assert m.ask("/whoami") == "+OK alice (admin), tls"
    m.expect(rb"SHELL-ONE")
    # another client's lines arrive as whole records
    o = plain(d)
    o.send("from another client\n")
    o.sync()
    m.wait_record("User input: from another client")
    for rec in m.record_lines():
        assert LINE_RE.match(rec), rec
        assert not rec.startswith("* ")
    # /tail's data lines come in 'r' frames, right behind their reply
    head = m.ask("/tail 2")
    assert head == "+OK 2 records"
    for _ in range(2):
        assert LINE_RE.match(m.reply())
    # replies never carried a record: every record is in an 'R' frame
    assert b"User input" not in m.replies
    assert {b"r", b"R", b"d"} <= set(m.order)
    # one connection holds all of it: one client, in a shell
    n = int(m.ask("/clients").split()[1])
    entries = [m.reply() for _ in range(n)]
    assert n == 2, entries      # this one and `o`
    assert any(e.startswith(m.c.addr + " ") and "mode=shell" in e
               for e in entries), entries
    m.shell("exit 0\n")
    assert m.wait_exit() == 0


def test_after_the_shell_exits_the_session_goes_on(daemon_factory):
    d = shell_daemon(daemon_factory)
    m = admin_mux(d)
    assert m.ask("/shell") == "+OK shell"
    m.expect(PROMPT)
    assert m.ask("/shell") == "-ERR a shell is running"
    m.shell("exit 3\n")
    assert m.wait_exit() == 3
    # the connection is still there, and still a session
    assert m.ask("/ping") == "+OK pong"
    m.text("after the first shell\n")
    assert m.ask("/ping") == "+OK pong"
    assert "User input: after the first shell" in d.messages()
    # a second shell on the same connection
    start = len(m.out)
    assert m.ask("/shell") == "+OK shell"
    m.expect(PROMPT, start=start)
    m.shell("echo SEC''OND; exit 5\n")
    m.expect(rb"SECOND", start=start)
    assert m.wait_exit(2) == 5
    assert m.ask("/whoami") == "+OK alice (admin), tls"
    assert not m.eof
    # 'd' after the shell ended is dropped, not an error
    m.shell("too late\n")
    assert m.ask("/ping") == "+OK pong"
    ended = [x for x in d.messages() if x.startswith("Shell session of "
                                                     "alice") and
             " ended: " in x]
    assert len(ended) == 2, ended


def test_frames_right_behind_the_mux_line_are_kept(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = login(tls(d))
    c.send(b"/mux\n" + b"l" + struct.pack(">H", 6) + b"/ping\n")
    assert c.line().decode() == "+OK mux\n"
    m = Mux(c)
    assert m.reply() == "+OK pong"


def test_a_line_cut_across_frames_is_one_line(daemon_factory):
    d = shell_daemon(daemon_factory)
    m = mux(plain(d))
    body = "x" * 2500 + "y" * 1500
    m.frame(b"l", body[:2500].encode())
    m.frame(b"l", body[2500:].encode() + b"\nsecond")
    m.frame(b"l", b" line\n")
    assert m.ask("/ping") == "+OK pong"
    assert f"User input: {body}" in d.messages()
    assert "User input: second line" in d.messages()


def test_quit_in_a_frame_stops_the_daemon(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="off")
    m = mux(plain(d))
    m.text("quit\n")
    assert d.wait_gone(10)


def test_bad_frame_closes_the_session(daemon_factory):
    d = shell_daemon(daemon_factory)
    m = mux(plain(d))
    m.frame(b"q", b"??")
    m.wait(lambda: m.eof, "EOF", 10)
    d.wait_for_message(f"Client disconnected: {m.c.addr} (bad frame).")


def test_refusals_are_the_usual_ones(daemon_factory):
    d = shell_daemon(daemon_factory)
    anon = mux(plain(d))
    assert anon.ask("/shell") == "-ERR permission denied"
    assert anon.ask("/follow live") == "-ERR permission denied"
    anon_tls = mux(tls(d))
    assert anon_tls.ask("/shell") == "-ERR permission denied"
    bob = mux(login(tls(d), "bob"))
    assert bob.ask("/shell") == "-ERR permission denied"
    assert bob.ask("/mux") == "-ERR already multiplexed"
    # nothing of a shell went to them
    assert anon.out == anon_tls.out == bob.out == b""
    off = shell_daemon(daemon_factory, enabled="no", sub="off")
    assert admin_mux(off).ask("/shell") == "-ERR shell is disabled"


def test_auth_required_before_lines_in_frames(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="required")
    m = mux(tls(d))
    assert m.ask("hello") == "-ERR authentication required"
    assert "User input: hello" not in d.messages()


# --- 1 MiB through the mux while records flood --------------------------------

@pytest.fixture
def sockdir():
    path = tempfile.mkdtemp(prefix="md_mux_", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def flood(d, stop, sent):
    """Lines from another client until STOP is set (bounded count),
    as fast as the daemon takes them."""
    c = plain(d)
    chunk = "".join(f"flood line {i:05d} " + "y" * 80 + "\n"
                    for i in range(100)).encode()
    for _ in range(1000):
        if stop.is_set():
            break
        c.send(chunk)
        c.sync()
        sent[0] += 100
    c.close()


def local_root_mux(daemon_factory, sockdir):
    """A daemon with [shell], and root's multiplexed session on its local
    socket (uid 0: the shell needs no TLS there); (d, socket, Mux)."""
    path = os.path.join(sockdir, "run", "md.sock")
    d = daemon_factory(local_socket=path,
                       extra="[shell]\nenabled = yes\nuser = root\n"
                             "command = /bin/sh\n")
    d.start()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)

    class Raw:
        buf = b""
        sock = s

        def send(self, data):
            s.sendall(data if isinstance(data, bytes) else data.encode())

        def ask(self, line):
            self.send(line + "\n")
            while b"\n" not in self.buf:
                chunk = s.recv(4096)
                assert chunk, "EOF"
                self.buf += chunk
            out, self.buf = self.buf.split(b"\n", 1)
            return out.decode()

    m = mux(Raw())
    assert m.ask("/follow live") == "+OK following live"
    assert m.ask("/shell") == "+OK shell"
    m.expect(PROMPT)
    return d, s, m


def test_a_pasted_mib_arrives_whole_while_records_flood(daemon_factory,
                                                        sockdir):
    d, s, m = local_root_mux(daemon_factory, sockdir)
    m.shell("stty raw -echo; echo REA''DY; head -c 1048576 | sha256sum; "
            "stty sane\n")
    m.expect(rb"READY")
    data = os.urandom(MIB)
    want = hashlib.sha256(data).hexdigest().encode()
    stop, sent = threading.Event(), [0]
    t = threading.Thread(target=flood, args=(d, stop, sent), daemon=True)
    t.start()
    try:
        wire = b"".join(b"d" + struct.pack(">H", len(data[i:i + 4096])) +
                        data[i:i + 4096] for i in range(0, MIB, 4096))
        s.setblocking(False)
        deadline = time.monotonic() + 120
        off = 0
        while not re.search(rb"[0-9a-f]{64}", m.out):
            assert time.monotonic() < deadline, \
                f"no digest: sent {off}/{len(wire)}, out {m.out[-200:]!r}"
            r, w, _ = select.select([s], [s] if off < len(wire) else [],
                                    [], 0.5)
            if r:
                chunk = s.recv(65536)
                assert chunk, f"EOF after {off} bytes sent"
                m.feed(chunk)
            if w:
                try:
                    off += s.send(wire[off:off + 65536])
                except BlockingIOError:
                    pass
    finally:
        stop.set()
        t.join(60)
    assert re.search(rb"[0-9a-f]{64}", m.out).group(0) == want
    # records flowed meanwhile, on the same connection
    assert sent[0] > 0
    assert "flood line" in m.records.decode("utf-8", "replace")


def test_an_x_frame_hangs_the_shell_up_and_the_session_goes_on(
        daemon_factory):
    d = shell_daemon(daemon_factory)
    m = admin_mux(d)
    assert m.ask("/shell") == "+OK shell"
    m.expect(PROMPT)
    m.frame(b"x")
    assert m.ask("/ping") == "+OK pong"
    d.wait_for_log(rf"^Shell session of alice from {re.escape(m.c.addr)} "
                   rf"hung up: pid \d+\.$", timeout=10)
    # a new shell at once, on the same connection
    start = len(m.out)
    assert m.ask("/shell") == "+OK shell"
    m.expect(PROMPT, start=start)
    m.shell("exit 6\n")
    assert m.wait_exit() == 6
    assert m.ask("/ping") == "+OK pong"
    m.frame(b"x", b"oops")      # an x frame carries nothing
    m.wait(lambda: m.eof, "EOF", 10)


def test_shell_output_arrives_whole_while_records_flood(daemon_factory,
                                                        sockdir):
    d, s, m = local_root_mux(daemon_factory, sockdir)
    m.shell("stty -opost; head -c 600000 /dev/zero | tr '\\0' a; "
            "echo; echo DO''NE\n")
    # not read for a while: the daemon's buffer fills, the terminal waits
    time.sleep(1.5)
    # then records come while nothing is read: they find room beside it
    o = plain(d)
    o.send("".join(f"burst line {i:04d} " + "z" * 80 + "\n"
                   for i in range(400)))
    o.sync()
    o.close()
    stop, sent = threading.Event(), [0]
    t = threading.Thread(target=flood, args=(d, stop, sent), daemon=True)
    t.start()
    try:
        # the flood under way before the terminal is read again
        assert wait_until(lambda: sent[0] > 0, 10)
        m.expect(rb"DONE", timeout=60)
        m.wait(lambda: b"flood line" in m.records, "flood records")
    finally:
        stop.set()
        t.join(60)
    assert b"a" * 600000 in m.out
    assert "burst line 0399 " in m.records.decode("utf-8", "replace")
    # and the session still answers, its shell still there
    assert m.ask("/ping") == "+OK pong"
    m.shell("exit 0\n")
    assert m.wait_exit() == 0

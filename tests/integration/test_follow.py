"""/follow live (docs/PROTOCOL.md, 4): records arrive as "* RECORD" lines
while the session stays a normal one: its lines are logged, its commands
answered (a reply's data lines never split by a record), `/follow off`
ends it.  Plain /follow is covered by test_commands.py.

Each test owns its daemon ([tls] optional, [auth] optional with an admin
alice and a user bob); every wait is bounded.
"""

import re
import socket
import threading
import time

from conftest import LINE_RE, parse_line
from test_shell import PROMPT, Shell, login, shell_daemon
from tls_helpers import Conn, client_context, plain, tls

TAG = "* "
OFF_USER_RE = re.compile(
    r"^-ERR /follow needs a logged-in user: set \[auth\] mode in "
    r"matt_daemon\.conf, or use the local socket as root or a member of "
    r"adm$")


def text(raw):
    return raw.decode("utf-8", "surrogateescape").rstrip("\n")


def record_of(line):
    """The record a tagged line carries (asserting it is a whole one)."""
    assert line.startswith(TAG), f"not a tagged record: {line!r}"
    rec = line[len(TAG):]
    assert LINE_RE.match(rec), f"not a whole log line: {rec!r}"
    return rec


class Live:
    """A session in live follow mode: records apart from replies."""

    def __init__(self, conn):
        self.c = conn
        self.records = []

    def line(self, timeout=5.0):
        return text(self.c.line(timeout))

    def reply(self, timeout=5.0):
        """The next line that is no record (records seen are kept)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no reply in {timeout}s"
            line = self.line(left)
            if not line.startswith(TAG):
                return line
            self.records.append(record_of(line))

    def ask(self, line, timeout=5.0):
        self.c.send(line + "\n")
        return self.reply(timeout)

    def wait_record(self, pred, timeout=5.0):
        """Read until a record satisfies PRED; returns it."""
        for rec in self.records:
            if pred(rec):
                return rec
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no such record in {timeout}s: " \
                             f"{self.records[-5:]!r}"
            line = self.line(left)
            assert line.startswith(TAG), f"unexpected reply {line!r}"
            self.records.append(record_of(line))
            if pred(self.records[-1]):
                return self.records[-1]


def live(d, user="bob"):
    f = Live(login(tls(d), user))
    assert f.ask("/follow live") == "+OK following live"
    return f


def msg_is(m):
    return lambda rec: parse_line(rec)[1] == m


def test_live_follow_gets_other_clients_records_tagged(daemon_factory):
    d = shell_daemon(daemon_factory)
    f = live(d)
    o = plain(d)
    o.send("hello live\nsecond live\n")
    o.sync()
    first = f.wait_record(msg_is("User input: hello live"))
    f.wait_record(msg_is("User input: second live"))
    msgs = [parse_line(r)[1] for r in f.records]
    i = msgs.index("User input: hello live")
    assert msgs[i + 1] == "User input: second live"
    assert parse_line(first)[0] == "LOG"
    # the same lines as the log file, with the tag before them
    assert first in d.log_lines()


def test_lines_and_commands_while_following_are_not_lost(daemon_factory):
    """The issue's case: a line and /whoami typed while following are
    logged and answered, and the follow goes on."""
    d = shell_daemon(daemon_factory)
    f = live(d)
    for i in range(20):
        f.c.send(f"typed while following {i}\n")
        assert f.ask("/whoami") == "+OK bob (user), tls"
    o = plain(d)
    o.send("from elsewhere\n")
    o.sync()
    f.wait_record(msg_is("User input: from elsewhere"))
    # every line was logged, and came back as a record too
    msgs = d.messages()
    for i in range(20):
        assert f"User input: typed while following {i}" in msgs
        f.wait_record(msg_is(f"User input: typed while following {i}"))
    assert f.ask("/ping") == "+OK pong"


def test_follow_off_ends_it(daemon_factory):
    d = shell_daemon(daemon_factory)
    f = live(d)
    assert f.ask("/follow off") == "+OK follow ended"
    o = plain(d)
    o.send("not streamed any more\n")
    o.sync()
    # nothing tagged before the pong: the follow ended
    f.c.send("/ping\n")
    assert f.line() == "+OK pong"
    assert f.ask("/follow off") == "-ERR not following"
    assert "User input: not streamed any more" in d.messages()
    # the session is a plain one again: lines are logged
    f.c.send("after live\n")
    f.c.send("/ping\n")
    assert f.line() == "+OK pong"
    assert "User input: after live" in d.messages()


def test_follow_arguments(daemon_factory):
    d = shell_daemon(daemon_factory)
    f = live(d)
    assert f.ask("/follow live") == "+OK following live"
    assert f.ask("/follow") == "-ERR already following: /follow off first"
    assert f.ask("/follow sideways") == "-ERR usage: /follow [live|off]"
    assert f.ask("/follow off") == "+OK follow ended"


def test_reply_data_lines_are_never_split_by_records(daemon_factory):
    """/tail and /clients while another client floods: each +OK N is
    followed by its N data lines, records only around them."""
    d = shell_daemon(daemon_factory)
    f = live(d, "alice")
    o = plain(d)
    stop = threading.Event()

    def flood():
        i = 0
        while not stop.is_set() and i < 200000:
            try:
                o.send("".join(f"flood {i + k}\n" for k in range(50)))
            except OSError:
                return
            i += 50
            time.sleep(0.005)   # a flood the follower can keep up with

    t = threading.Thread(target=flood)
    t.start()
    try:
        f.wait_record(msg_is("User input: flood 0"), timeout=10)
        checked = 0
        for n in range(30):
            cmd = "/clients" if n % 5 == 4 else "/tail 5"
            f.c.send(cmd + "\n")
            head = f.reply(timeout=10)
            m = re.match(r"^\+OK (\d+) (records|clients)$", head)
            assert m, head
            for _ in range(int(m.group(1))):
                data = f.line(timeout=10)
                assert not data.startswith(TAG), \
                    f"a record inside the reply to {cmd}: {data!r}"
                if m.group(2) == "records":
                    assert LINE_RE.match(data), data
                else:
                    assert " user=" in data and " mode=" in data, data
                checked += 1
        assert checked >= 30 * 4
    finally:
        stop.set()
        t.join(timeout=20)
    rows = [r for r in f.records if "User input: flood" in r]
    assert len(rows) > 0


def test_clients_says_follow_for_a_live_follower(daemon_factory):
    d = shell_daemon(daemon_factory)
    f = live(d)
    a = Live(login(tls(d)))
    a.c.send("/clients\n")
    n = int(re.match(r"^\+OK (\d+) clients$", a.reply()).group(1))
    rows = {}
    for _ in range(n):
        line = a.line()
        rows[line.split()[0]] = line
    assert rows[f.c.addr].endswith(" mode=follow"), rows
    assert rows[a.c.addr].endswith(" mode=lines"), rows


def test_live_follow_refused_to_an_anonymous_session(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = plain(d)
    assert c.ask("/follow live") == "-ERR permission denied"
    d.wait_for_log(rf"^Refused /follow from {re.escape(c.addr)} "
                   rf"\(anonymous\)\.$")
    o = plain(d)
    o.send("secret for readers only\n")
    o.sync()
    c.send("still mine\n")
    c.sync()        # no record reached it before the pong
    assert "User input: still mine" in d.messages()


def test_live_follow_refused_when_auth_is_off(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="off")
    c = plain(d)
    assert OFF_USER_RE.match(c.ask("/follow live"))
    c.send("a line\n")
    c.sync()
    assert "User input: a line" in d.messages()


def test_quit_while_following_live_stops_the_daemon(daemon_factory):
    d = shell_daemon(daemon_factory)
    f = live(d, "alice")
    f.c.send("quit\n")
    assert d.wait_gone()
    assert "Request quit." in d.messages()


def test_a_live_follower_that_never_reads_is_closed(daemon_factory):
    d = shell_daemon(daemon_factory)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(5)
    raw.connect(("127.0.0.1", d.port))
    c = Conn(client_context().wrap_socket(raw, server_hostname=None))
    login(c, "bob")
    assert c.ask("/follow live") == "+OK following live"
    o = plain(d)
    chunk = "".join(f"flood line {k:06d} xxxxxxxxxxxxxxxxxxxx\n"
                    for k in range(1000)).encode()
    pat = rf"^Client disconnected: {re.escape(c.addr)} " \
          rf"\(not reading what it is sent\)\.$"
    deadline = time.monotonic() + 60
    for _ in range(400):
        o.send(chunk)
        if re.search(pat, "\n".join(d.messages()), re.M):
            break
        assert time.monotonic() < deadline
    o.sync()
    d.wait_for_log(pat, timeout=10)
    assert d.alive()
    raw.close()


def test_shell_ends_a_live_follow(daemon_factory):
    """/shell turns the session into frames: no tagged line after it."""
    d = shell_daemon(daemon_factory)
    f = live(d, "alice")
    assert f.ask("/shell") == "+OK shell"
    sh = Shell(f.c)
    sh.expect(PROMPT)
    o = plain(d)
    o.send("while the shell runs\n")
    o.sync()
    sh.send("echo sh''ell-alive\n")
    sh.expect(rb"shell-alive")
    assert b"while the shell runs" not in sh.out

"""The utility commands: /status, /clients, /tail, /follow, /help, /rotate
(docs/PROTOCOL.md, 4), each with its exact reply shape, and who may run
them: nothing of the log reaches a session that has not proved who it is.

Each test owns its daemon ([tls] optional, [auth] optional with an admin
alice and a user bob, [shell] enabled, unless it says otherwise) and its
files; every wait is bounded.
"""

import os
import re
import time

import pytest

from conftest import LINE_RE, parse_line
from test_shell import login, open_shell, shell_daemon
from tls_helpers import make_daemon, plain, tls

STATUS_RE = re.compile(
    r"^\+OK version=1\.0\.0 pid=(\d+) uptime=(\d+) clients=(\d+) "
    r"lines=(\d+) bytes=(\d+) tls=(off|optional|required) "
    r"auth=(off|optional|required) log_size=(\d+) archives=(\d+) "
    r"archive_bytes=(\d+)$")
CLIENT_RE = re.compile(
    r"^(127\.0\.0\.1:\d+) user=(\S+) role=(\S+) tls=(yes|no) "
    r"since=(\d+) mode=(lines|follow|shell)$")
DENIED = "-ERR permission denied"
REQUIRED = "-ERR authentication required"

HELP_ANONYMOUS = "+OK commands: /help /ping /status /whoami /auth"
HELP_USER = "+OK commands: /help /ping /status /whoami /auth /clients " \
            "/tail /follow /stats"
# auth off: what the -ERR says to an anonymous session
OFF_USER_RE = re.compile(
    r"^-ERR (/\w+) needs a logged-in user: set \[auth\] mode in "
    r"matt_daemon\.conf, or use the local socket as root or a member of "
    r"adm$")
OFF_ADMIN_RE = re.compile(
    r"^-ERR (/\w+) needs an admin: set \[auth\] mode in "
    r"matt_daemon\.conf, or use the local socket as root$")
HELP_ADMIN = "+OK commands: /help /ping /status /whoami /auth /rotate " \
             "/clients /tail /follow /stats /shell quit"


def status(c):
    r = c.ask("/status")
    m = STATUS_RE.match(r)
    assert m, f"bad /status reply {r!r}"
    pid, up, clients, lines, nbytes = map(int, m.groups()[:5])
    return dict(pid=pid, uptime=up, clients=clients, lines=lines,
                bytes=nbytes, tls=m.group(6), auth=m.group(7),
                log_size=int(m.group(8)), archives=int(m.group(9)),
                archive_bytes=int(m.group(10)))


def data_lines(c, n, timeout=5.0):
    return [c.line(timeout).decode("utf-8", "surrogateescape").rstrip("\n")
            for _ in range(n)]


# --- /status -------------------------------------------------------------------

def test_status_reports_the_daemon(daemon_factory):
    t0 = time.time()
    d = shell_daemon(daemon_factory)
    c = plain(d)
    s = status(c)
    assert s["pid"] == d.pid
    assert 0 <= s["uptime"] <= time.time() - t0 + 1
    assert s["clients"] == 1
    assert (s["tls"], s["auth"]) == ("optional", "optional")


def test_status_counts_connected_clients(daemon_factory):
    d = shell_daemon(daemon_factory)
    a, b = plain(d), tls(d)
    b.sync()
    assert status(a)["clients"] == 2
    b.close()
    deadline = time.monotonic() + 5
    while status(a)["clients"] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status(a)["clients"] == 1


def test_status_counts_lines_and_bytes(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = plain(d)
    before = status(c)
    sent = b"first line\nsecond\nthird one here\n"
    c.send(sent)
    c.sync()
    after = status(c)
    assert after["lines"] - before["lines"] == 3
    # every byte received counts; at least the three lines, at most
    # everything sent since the first /status reply
    grown = after["bytes"] - before["bytes"]
    assert len(sent) <= grown <= len(sent) + len(b"/ping\n/status\n")
    assert d.messages().count("User input: second") == 1


def test_status_reports_the_log_size_and_archives(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = login(tls(d))
    c.send("some input for the log\n")
    c.sync()
    low = os.path.getsize(d.logfile)
    s = status(c)
    c.sync()
    assert low <= s["log_size"] <= os.path.getsize(d.logfile)
    assert (s["archives"], s["archive_bytes"]) == (0, 0)
    assert c.ask("/rotate") == "+OK logs rotated"
    c.sync()
    s = status(c)
    assert s["archives"] >= 1 and s["archive_bytes"] > 0, s
    assert s["log_size"] <= os.path.getsize(d.logfile)


def test_status_uptime_grows(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = plain(d)
    u0 = status(c)["uptime"]
    time.sleep(2.1)
    assert status(c)["uptime"] >= u0 + 2


def test_status_shows_the_modes(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="off")
    s = status(tls(d))
    assert (s["tls"], s["auth"]) == ("optional", "off")


def test_status_needs_auth_when_auth_is_required(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="required")
    c = tls(d)
    assert c.ask("/status") == REQUIRED
    login(c, "bob")
    assert status(c)["pid"] == d.pid


# --- /clients ------------------------------------------------------------------

def clients(c):
    r = c.ask("/clients")
    m = re.fullmatch(r"\+OK (\d+) clients", r)
    assert m, f"bad /clients reply {r!r}"
    rows = {}
    for line in data_lines(c, int(m.group(1))):
        f = CLIENT_RE.match(line)
        assert f, f"bad /clients line {line!r}"
        rows[f.group(1)] = dict(user=f.group(2), role=f.group(3),
                                tls=f.group(4), since=int(f.group(5)),
                                mode=f.group(6))
    assert len(rows) == int(m.group(1)), "an address listed twice"
    return rows


def test_clients_lists_every_client(daemon_factory):
    d = shell_daemon(daemon_factory)
    t0 = int(time.time())
    a = login(tls(d))
    b = login(tls(d), "bob")
    anon = plain(d)
    anon.sync()
    rows = clients(a)
    t1 = int(time.time())
    assert set(rows) == {a.addr, b.addr, anon.addr}
    assert rows[a.addr] == dict(user="alice", role="admin", tls="yes",
                                since=rows[a.addr]["since"], mode="lines")
    assert rows[b.addr] == dict(user="bob", role="user", tls="yes",
                                since=rows[b.addr]["since"], mode="lines")
    assert rows[anon.addr]["tls"] == "no"
    assert rows[anon.addr]["role"] not in ("admin", "user")
    assert rows[anon.addr]["mode"] == "lines"
    for r in rows.values():
        assert t0 - 1 <= r["since"] <= t1 + 1, r
    assert rows[a.addr]["since"] <= rows[anon.addr]["since"]
    # nothing else follows the N lines
    a.sync()


def test_clients_shows_follow_and_shell_modes(daemon_factory):
    d = shell_daemon(daemon_factory)
    sh = open_shell(d)
    f = login(tls(d), "bob")
    assert f.ask("/follow") == "+OK following"
    a = login(tls(d))
    rows = clients(a)
    assert rows[sh.addr]["mode"] == "shell"
    assert rows[sh.addr]["user"] == "alice"
    assert rows[f.addr]["mode"] == "follow"
    assert rows[a.addr]["mode"] == "lines"


def test_clients_forgets_a_client_that_left(daemon_factory):
    d = shell_daemon(daemon_factory)
    a = login(tls(d))
    b = plain(d)
    b.sync()
    assert len(clients(a)) == 2
    gone = b.addr
    b.close()
    d.wait_for_log(rf"^Client disconnected: {re.escape(gone)}\b")
    assert set(clients(a)) == {a.addr}


@pytest.mark.parametrize("conn", [plain, tls])
def test_clients_needs_a_logged_in_user(daemon_factory, conn):
    d = shell_daemon(daemon_factory)
    a = login(tls(d))
    c = conn(d)
    assert c.ask("/clients") == DENIED
    d.wait_for_log(rf"^Refused /clients from {re.escape(c.addr)} ")
    c.sync()        # no data lines after a refusal
    a.sync()


def test_clients_for_a_user(daemon_factory):
    d = shell_daemon(daemon_factory)
    b = login(tls(d), "bob")
    rows = clients(b)
    assert rows[b.addr]["user"] == "bob" and rows[b.addr]["role"] == "user"


@pytest.mark.parametrize("cmd", ["/clients", "/tail", "/tail 5", "/follow"])
def test_log_commands_refused_when_auth_is_off(daemon_factory, cmd):
    """The subject's mode (no [auth]): the log stays out of reach of the
    network, and the refusal says how to get it."""
    d = shell_daemon(daemon_factory, auth_mode="off")
    c = plain(d)
    c.send("a line for the log\n")
    m = OFF_USER_RE.match(c.ask(cmd))
    assert m and m.group(1) == cmd.split()[0], cmd
    c.send("still logged\n")
    c.sync()        # nothing follows the refusal
    assert "User input: still logged" in d.messages()
    d.wait_for_log(rf"^Refused {cmd.split()[0]} from {re.escape(c.addr)} "
                   rf"\(anonymous\)\.$")


# --- /tail ---------------------------------------------------------------------

def tail(c, arg=None):
    r = c.ask("/tail" + (f" {arg}" if arg is not None else ""))
    m = re.fullmatch(r"\+OK (\d+) records", r)
    assert m, f"bad /tail reply {r!r}"
    return data_lines(c, int(m.group(1)))


def test_tail_returns_the_last_n_lines_of_the_log(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = login(tls(d))
    for i in range(20):
        c.send(f"tail line {i}\n")
    c.sync()
    got = tail(c, 5)
    assert len(got) == 5
    # the /tail command line itself is the last record written before
    # it reads the log; the file holds exactly these lines up to there
    lines = d.log_lines()
    assert got[-1] in lines, got
    end = len(lines) - lines[::-1].index(got[-1])
    assert got == lines[end - 5:end]
    assert parse_line(got[-1]) == (
        "INFO", f"Command from {c.addr} (alice): /tail 5.")
    # /ping changes nothing: logged at DEBUG, not in this INFO log
    assert [parse_line(x)[1] for x in got[:4]] == [
        "User input: tail line 16", "User input: tail line 17",
        "User input: tail line 18", "User input: tail line 19"]
    for x in got:
        assert LINE_RE.match(x), x


def test_tail_defaults_to_ten(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = login(tls(d), "bob")
    for i in range(15):
        c.send(f"line {i}\n")
    c.sync()
    got = tail(c)
    assert len(got) == 10
    lines = d.log_lines()
    end = len(lines) - lines[::-1].index(got[-1])
    assert got == lines[end - 10:end]


def test_tail_of_more_than_the_log_returns_all_of_it(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = login(tls(d))
    c.sync()
    got = tail(c, 1000)
    lines = d.log_lines()
    assert 5 <= len(got) < 1000
    assert got == lines[:len(got)]
    assert parse_line(got[0]) == ("INFO", "Started.")


def test_tail_one(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = login(tls(d), "bob")
    c.send("only me\n")
    got = tail(c, 1)
    assert [parse_line(x)[1] for x in got] == [
        f"Command from {c.addr} (bob): /tail 1."]


def test_tail_past_its_window_returns_whole_records_only(daemon_factory):
    """1000 records of 4 KB do not fit in what a client's output buffer
    takes at once (256 KiB): /tail returns the last records that do, the
    first one whole too (not the end of one cut by the window), and the
    client stays connected."""
    d = shell_daemon(daemon_factory)
    c = login(tls(d))
    for i in range(400):
        c.send(f"{i:04d} " + "x" * 4000 + "\n")
    c.sync()
    got = tail(c, 1000)
    assert 40 < len(got) < 70
    assert sum(len(x) + 1 for x in got) <= 256 * 1024
    assert c.ask("/ping") == "+OK pong"
    lines = d.log_lines()
    end = len(lines) - lines[::-1].index(got[-1])
    assert got == lines[end - len(got):end]
    for x in got:
        assert LINE_RE.match(x), x[:80]


@pytest.mark.parametrize("arg", ["0", "1001", "-3", "abc", "5x", "1 2", ""])
def test_tail_bad_count_is_an_error(daemon_factory, arg):
    d = shell_daemon(daemon_factory)
    c = login(tls(d), "bob")
    # "/tail " with an empty argument: a trailing space after the name
    r = c.ask(f"/tail {arg}")
    if arg == "":
        # the same as /tail? PROTOCOL only has "/tail [N]"; accept
        # either a usage error or the default ten records, never junk
        m = re.fullmatch(r"\+OK (\d+) records", r)
        if m:
            data_lines(c, int(m.group(1)))
            c.sync()
            return
    assert r.startswith("-ERR "), r
    c.sync()        # no data lines follow an error


def test_tail_needs_auth_when_auth_is_required(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="required")
    c = tls(d)
    assert c.ask("/tail 3") == REQUIRED
    login(c, "bob")
    assert len(tail(c, 3)) == 3


# --- /follow -------------------------------------------------------------------

def lines_until(c, pred, timeout=5.0):
    """Lines received until one satisfies pred (included)."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no matching line in {timeout}s: {out!r}"
        line = c.line(left).decode("utf-8", "surrogateescape").rstrip("\n")
        out.append(line)
        if pred(line):
            return out


def test_follow_streams_what_another_client_sends(daemon_factory):
    d = shell_daemon(daemon_factory)
    f = login(tls(d), "bob")
    assert f.ask("/follow") == "+OK following"
    o = plain(d)
    o.send("hello follower\nsecond line\n")
    o.sync()
    got = lines_until(f, lambda x: x.endswith("User input: second line"))
    for x in got:
        assert LINE_RE.match(x), f"not a whole log line: {x!r}"
    msgs = [parse_line(x)[1] for x in got]
    i = msgs.index("User input: hello follower")
    assert msgs[i + 1] == "User input: second line"
    assert parse_line(got[i]) == ("LOG", "User input: hello follower")
    # the same lines as the log file
    assert got[i] in d.log_lines()


def test_follow_ends_with_any_line(daemon_factory):
    d = shell_daemon(daemon_factory)
    f = login(tls(d), "bob")
    assert f.ask("/follow") == "+OK following"
    f.send("stop it\n")
    got = lines_until(f, lambda x: not LINE_RE.match(x))
    assert got[-1] == "+OK follow ended"
    # back to lines: the ending line was not logged, later ones are
    f.send("after follow\n")
    f.sync()
    msgs = d.messages()
    assert "User input: stop it" not in msgs
    assert "User input: after follow" in msgs
    o = plain(d)
    o.send("not streamed\n")
    o.sync()
    f.sync()        # nothing streamed before the pong any more


def test_follow_ends_when_the_client_leaves(daemon_factory):
    d = shell_daemon(daemon_factory)
    f = login(tls(d))
    assert f.ask("/follow") == "+OK following"
    gone = f.addr
    f.close()
    d.wait_for_log(rf"^Client disconnected: {re.escape(gone)}\b")
    o = plain(d)
    o.send("still logging\n")
    o.sync()
    assert status(o)["clients"] == 1
    assert "User input: still logging" in d.messages()


def test_follow_needs_auth_when_auth_is_required(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="required")
    c = tls(d)
    assert c.ask("/follow") == REQUIRED
    login(c, "bob")
    assert c.ask("/follow") == "+OK following"


def test_two_followers_get_the_same_lines(daemon_factory):
    d = shell_daemon(daemon_factory)
    f1, f2 = login(tls(d), "bob"), login(tls(d))
    assert f1.ask("/follow") == "+OK following"
    assert f2.ask("/follow") == "+OK following"
    o = plain(d)
    o.send("for both\n")
    o.sync()
    want = lambda x: x.endswith("User input: for both")     # noqa: E731
    assert lines_until(f1, want)[-1] == lines_until(f2, want)[-1]


# --- /help ---------------------------------------------------------------------

def test_help_for_an_anonymous_client(daemon_factory):
    d = shell_daemon(daemon_factory)
    assert plain(d).ask("/help") == HELP_ANONYMOUS


def test_help_for_a_user(daemon_factory):
    d = shell_daemon(daemon_factory)
    assert login(tls(d), "bob").ask("/help") == HELP_USER


def test_help_for_an_anonymous_client_when_auth_is_off(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="off")
    assert plain(d).ask("/help") == HELP_ANONYMOUS + " quit"


def test_help_for_an_admin(daemon_factory):
    d = shell_daemon(daemon_factory)
    assert login(tls(d)).ask("/help") == HELP_ADMIN


def test_help_before_auth_when_auth_is_required(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="required")
    c = tls(d)
    assert c.ask("/help") == "+OK commands: /help /ping /whoami /auth"
    login(c, "bob")
    assert c.ask("/help") == HELP_USER


def test_help_for_an_admin_leaves_out_a_disabled_shell(daemon_factory):
    """/help lists what the current user may run: not /shell when
    [shell] enabled = no."""
    d = shell_daemon(daemon_factory, enabled="no")
    c = login(tls(d))
    assert c.ask("/shell") == "-ERR shell is disabled"
    assert c.ask("/help") == HELP_ADMIN.replace(" /shell", "")


def test_help_lists_only_commands_that_are_not_refused(daemon_factory):
    """Every command /help lists for a session is not answered
    `-ERR permission denied` / `authentication required` there."""
    d = shell_daemon(daemon_factory)
    for c in (plain(d), login(tls(d), "bob")):
        names = c.ask("/help").split(": ", 1)[1].split()
        for name in names:
            if name in ("quit", "/shell", "/follow", "/auth"):
                continue
            r = c.ask(name)
            assert r not in (DENIED, REQUIRED), (name, r)
            m = re.fullmatch(r"\+OK (\d+) (clients|records)", r)
            if m:
                data_lines(c, int(m.group(1)))


# --- /rotate -------------------------------------------------------------------

def test_rotate_by_an_admin(daemon_factory):
    d = shell_daemon(daemon_factory)
    c = login(tls(d))
    c.send("before rotation\n")
    c.sync()
    assert c.ask("/rotate") == "+OK logs rotated"
    c.send("after rotation\n")
    c.sync()
    files = os.listdir(d.logdir)
    assert len(files) >= 2, files
    assert "User input: before rotation" not in d.messages()
    assert "User input: after rotation" in d.messages()


@pytest.mark.parametrize("who", ["anonymous", "bob"])
def test_rotate_needs_an_admin_when_auth_is_on(daemon_factory, who):
    d = shell_daemon(daemon_factory)
    c = tls(d) if who == "anonymous" else login(tls(d), "bob")
    c.send("keep me\n")
    before = sorted(os.listdir(d.logdir))
    assert c.ask("/rotate") == DENIED
    c.sync()
    assert sorted(os.listdir(d.logdir)) == before
    assert "User input: keep me" in d.messages()
    d.wait_for_log(rf"^Refused /rotate from {re.escape(c.addr)} "
                   rf"\({who}\)\.$")


def test_rotate_refused_to_anonymous_when_auth_is_off(daemon_factory):
    d = shell_daemon(daemon_factory, auth_mode="off")
    c = plain(d)
    before = sorted(os.listdir(d.logdir))
    m = OFF_ADMIN_RE.match(c.ask("/rotate"))
    assert m and m.group(1) == "/rotate"
    c.sync()
    assert sorted(os.listdir(d.logdir)) == before
    # the subject's own behaviour stays: lines logged, quit obeyed
    c.send("plain line\nquit\n")
    assert d.wait_gone()
    assert "User input: plain line" in d.messages()


def rotate_daemon(factory, interval=None, start=True):
    extra = "" if interval is None else \
        f"[log]\nrotate_min_interval = {interval}\n"
    d = shell_daemon(factory, start=False)
    d.extra_text += extra
    d.write_config()
    return d.start() if start else d


def test_rotate_is_rate_limited_whoever_asks(daemon_factory):
    d = rotate_daemon(daemon_factory)           # default: one a minute
    a = login(tls(d))
    assert a.ask("/rotate") == "+OK logs rotated"
    n = len(os.listdir(d.logdir))
    for _ in range(5):
        r = a.ask("/rotate")
        m = re.fullmatch(r"-ERR too soon: one /rotate every 60s, try "
                         r"again in (\d+)s", r)
        assert m and 1 <= int(m.group(1)) <= 60, r
    a.sync()
    assert len(os.listdir(d.logdir)) == n
    d.wait_for_log(rf"^Refused /rotate from {re.escape(a.addr)} \(alice\): "
                   r"the last one was \d+s ago\.$", count=5)


def test_rotate_min_interval_0_lifts_the_limit(daemon_factory):
    d = rotate_daemon(daemon_factory, 0)
    a = login(tls(d))
    for _ in range(3):
        assert a.ask("/rotate") == "+OK logs rotated"


def test_rotate_min_interval_is_checked(daemon_factory):
    d = rotate_daemon(daemon_factory, "soon", start=False)
    r = d.run("-t")
    assert r.rc != 0 and "rotate_min_interval: 'soon'" in r.err, r.err


# --- what is logged of the commands ---------------------------------------

def test_commands_that_change_nothing_are_logged_at_debug(daemon_factory):
    """/status, /ping, /whoami, /help: a GUI polls /status every 3 s."""
    quiet = ["/status", "/ping", "/whoami", "/help"]
    for level in ("info", "debug"):
        d = make_daemon(daemon_factory, "optional", dict(mode="optional"),
                        sub=level, level=level)
        d.start()
        c = tls(d)
        for cmd in quiet:
            c.ask(cmd)
        c.ask("/tail")          # refused: still logged at INFO
        c.sync()
        recs = [(lvl, m) for lvl, m in d.records()
                if m.startswith(f"Command from {c.addr} ")]
        got = {m.rsplit(": ", 1)[1]: lvl for lvl, m in recs}
        assert got["/tail."] == "INFO"
        for cmd in quiet:
            if level == "info":
                assert cmd + "." not in got, recs
            else:
                assert got[cmd + "."] == "DEBUG", recs


# --- what an anonymous session sees in optional mode ----------------------

def test_anonymous_gets_nothing_of_the_log_in_optional_mode(daemon_factory):
    """An admin logs in over TLS and types a line; an anonymous plain
    session may not follow, tail or list, and its /status has counters
    but no address."""
    d = shell_daemon(daemon_factory)
    anon = plain(d)
    for cmd in ("/follow", "/tail", "/clients"):
        assert anon.ask(cmd) == DENIED, cmd
    a = login(tls(d))
    a.send("admin secret plans 7d1\n")
    a.sync()
    r = anon.ask("/status")
    assert STATUS_RE.match(r), r
    assert "127.0.0.1" not in r and "alice" not in r
    anon.sync()
    assert b"7d1" not in anon.buf and b"alice" not in anon.buf

"""At most max_clients at once; the rest are refused politely."""

import os
import re
import socket
import threading
import time


from conftest import recv_line, recv_until_eof, wait_until, with_admin

REFUSAL = b"-ERR too many clients (max 3)\n"


def fill(d, n=3):
    socks = []
    for i in range(n):
        s = d.connect()
        socks.append(s)
        d.wait_for_log(rf"^Client connected: 127\.0\.0\.1:{s.getsockname()[1]} "
                       rf"\({i + 1}/{d.max_clients}\)\.$")
    return socks


def test_connected_counter_counts_up(daemon):
    socks = fill(daemon)
    ports = [s.getsockname()[1] for s in socks]
    msgs = daemon.messages()
    for i, p in enumerate(ports, 1):
        assert f"Client connected: 127.0.0.1:{p} ({i}/3)." in msgs


def test_fourth_client_gets_exactly_one_error_line_then_eof(daemon):
    socks = fill(daemon)  # keep references: GC would close them
    s4 = daemon.connect()
    assert recv_until_eof(s4) == REFUSAL


def test_refusal_is_logged_as_warn(daemon):
    socks = fill(daemon)  # keep references: GC would close them
    s4 = daemon.connect()
    p4 = s4.getsockname()[1]
    recv_until_eof(s4)
    daemon.wait_for_message(
        f"Client refused: 127.0.0.1:{p4}: too many clients (3/3).")
    assert ("WARN", f"Client refused: 127.0.0.1:{p4}: too many clients (3/3).") \
        in daemon.records()
    # a refused client is neither "connected" nor "disconnected"
    assert not any(f"127.0.0.1:{p4}" in m for m in daemon.messages()
                   if m.startswith(("Client connected", "Client disconnected")))


def test_refused_client_input_is_never_logged(daemon):
    socks = fill(daemon)
    s4 = daemon.connect()
    try:
        s4.sendall(b"secret from the fourth\nquit\n")
    except OSError:
        pass
    try:
        recv_until_eof(s4)
    except AssertionError:
        raise
    socks[0].sendall(b"sync\n")
    daemon.wait_for_message("User input: sync")
    time.sleep(0.2)
    assert not any("secret" in m for m in daemon.messages())
    assert daemon.alive(), "a refused client's quit was obeyed"


def test_fourth_client_refused_even_if_it_says_nothing(daemon):
    socks = fill(daemon)  # keep references: GC would close them
    s4 = daemon.connect()
    s5 = daemon.connect()
    assert recv_until_eof(s4) == REFUSAL
    assert recv_until_eof(s5) == REFUSAL


def test_freed_slot_is_reused_at_once(daemon):
    socks = fill(daemon)
    gone = socks.pop(0)
    gp = gone.getsockname()[1]
    gone.close()
    daemon.wait_for_message(f"Client disconnected: 127.0.0.1:{gp}.")
    s = daemon.connect()
    daemon.wait_for_log(
        rf"^Client connected: 127\.0\.0\.1:{s.getsockname()[1]} \(3/3\)\.$")
    s.sendall(b"in the freed slot\n")
    daemon.wait_for_message("User input: in the freed slot")
    s.settimeout(0.3)
    try:
        data = s.recv(100)
    except socket.timeout:
        data = None
    assert data is None, f"new client got {data!r}"


def test_max_clients_comes_from_config(daemon_factory):
    d = daemon_factory(max_clients=1).start()
    s1 = d.connect()
    d.wait_for_log(rf"\(1/1\)\.$")
    s2 = d.connect()
    assert recv_until_eof(s2) == b"-ERR too many clients (max 1)\n"
    d.wait_for_log(r"^Client refused: 127\.0\.0\.1:\d+: too many clients \(1/1\)\.$")
    s1.close()


def test_normal_client_gets_no_reply(daemon):
    s = daemon.connect()
    s.sendall(b"hello\n")
    daemon.wait_for_message("User input: hello")
    s.settimeout(0.3)
    try:
        data = s.recv(100)
    except socket.timeout:
        data = None
    assert data is None


FLOOD_LINE = b"f" * 4000 + b"\n"


def flood_and_serve(daemon, other, tag):
    """One client floods (at least 50 MB, never reading) while OTHER sends
    a line and /ping.  Returns (lines flooded, seconds until OTHER's pong,
    whether the flood was still going when the pong came)."""
    block = FLOOD_LINE * 64
    min_lines = (50 * 1024 * 1024) // len(FLOOD_LINE)
    max_lines = (400 * 1024 * 1024) // len(FLOOD_LINE)
    state = {"n": 0, "err": None, "stop": False}
    flood = daemon.connect(timeout=60)
    flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)

    def run():
        try:
            while state["n"] < max_lines and (state["n"] < min_lines
                                              or not state["stop"]):
                flood.sendall(block)
                state["n"] += 64
        except OSError as e:
            state["err"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    # 16 MB sent: more than the socket buffers hold, so the daemon is busy
    # with the flood.  Watched in memory, not in the log, to act at once.
    assert wait_until(lambda: state["n"] >= 4096 or not t.is_alive(),
                      timeout=30, interval=0.005), "flood did not start"
    t0 = time.monotonic()
    # /ping answers once every earlier line of this client is written: no
    # need to scan a log growing by hundreds of MB to see it was served.
    other.sendall(b"not starved " + tag + b"\n/ping\n")
    other.settimeout(30)
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = other.recv(100)
        if not chunk:
            break
        reply += chunk
    took = time.monotonic() - t0
    flooding = t.is_alive()
    state["stop"] = True
    t.join(timeout=60)
    assert not t.is_alive(), "flood not drained within 60 s"
    assert state["err"] is None, state["err"]
    assert reply == b"+OK pong\n", reply
    flood.close()
    return state["n"], took, flooding


def test_flooding_client_that_never_reads_does_not_stall_others(daemon):
    """The other client is served while the flood goes on, and no flood
    line is lost.  Only the set-up is tried again (at most 3 times): on a
    loaded machine the flood may end before this test's thread gets to
    send the other line.  A daemon that served the other client only once
    the flood ended fails all three."""
    other = daemon.connect()
    daemon.wait_for_log(r"\(1/3\)\.$")
    flooded = 0
    for attempt in range(3):
        n, took, flooding = flood_and_serve(daemon, other,
                                            str(attempt).encode())
        flooded += n
        assert daemon.wait_for_message(f"User input: not starved {attempt}")
        if flooding:
            break
    assert flooding, "flood ended before the other client was served, 3 times"
    other.close()

    # no line of the flood is lost
    record = b"Matt_daemon: User input: " + FLOOD_LINE

    def count():
        n = 0
        with open(daemon.logfile, "rb") as f:
            for l in f:
                if l.endswith(record):
                    n += 1
        return n
    assert wait_until(lambda: count() >= flooded, timeout=30, interval=0.5), \
        "flood lines lost"
    assert count() == flooded
    print(f"other logged after {took:.3f}s; {flooded} flood lines, "
          f"{attempt + 1} attempt(s)")


def test_refused_clients_that_reset_at_once_do_not_hurt_the_daemon(daemon):
    """The -ERR write hits a reset socket: EPIPE/SIGPIPE must not end it."""
    socks = fill(daemon)
    import struct
    for _ in range(30):
        s = daemon.connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()                       # RST
    socks[0].sendall(b"survived\n")
    daemon.wait_for_message("User input: survived")
    assert daemon.alive()
    assert not any(m.startswith("Signal handler") for m in daemon.messages())


def test_no_descriptor_leak_over_many_connections(daemon):
    fds_before = len(os.listdir(f"/proc/{daemon.pid}/fd"))
    keep = fill(daemon, 2)
    pos = 0
    for i in range(150):
        s = daemon.connect()
        p = s.getsockname()[1]
        s.sendall(b"x%d\n" % i)
        s.close()
        # the slot is free only once the daemon has seen the close
        pos = daemon.wait_for_bytes(
            b"Client disconnected: 127.0.0.1:%d.\n" % p, start=pos)
    s3 = daemon.connect()
    daemon.wait_for_log(rf"^Client connected: 127\.0\.0\.1:{s3.getsockname()[1]} ")
    extra = [daemon.connect() for _ in range(20)]     # refused ones
    for s in extra:
        assert recv_until_eof(s) == REFUSAL
        s.close()
    s3.close()
    for s in keep:
        s.close()
    daemon.wait_for_message("User input: x149")

    def settled():
        return len(os.listdir(f"/proc/{daemon.pid}/fd")) == fds_before
    assert wait_until(settled, timeout=5), (
        fds_before, os.listdir(f"/proc/{daemon.pid}/fd"))


def test_concurrent_clients_lines_never_interleave(daemon):
    n = 3000
    socks = fill(daemon)

    def blast(k, s):
        data = b"".join(b"client%d line %05d %s\n" % (k, i, b"p" * (i % 300))
                        for i in range(n))
        s.sendall(data)

    ts = [threading.Thread(target=blast, args=(k, s)) for k, s in enumerate(socks)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=30)
    for k in range(3):
        daemon.wait_for_log(rf"^User input: client{k} line {n - 1:05d} ", timeout=15)
    got = {0: [], 1: [], 2: []}
    for lvl, m in daemon.records():            # asserts every line's shape
        if m.startswith("User input: client"):
            k = int(m[len("User input: client")])
            got[k].append(m)
    for k in range(3):
        assert got[k] == ["User input: client%d line %05d %s" % (k, i, "p" * (i % 300))
                          for i in range(n)]


def test_idle_client_dropped_after_idle_timeout(daemon_factory):
    d = daemon_factory(daemon_extra={"idle_timeout": "1s"}).start()
    s = d.connect()
    p = s.getsockname()[1]
    t0 = time.monotonic()
    recv_until_eof(s, timeout=6)                # any farewell, then EOF
    took = time.monotonic() - t0
    assert 0.9 <= took < 5, took
    d.wait_for_log(rf"127\.0\.0\.1:{p}")
    assert d.alive()
    s2 = d.connect()                            # the slot is free again
    s2.sendall(b"after idle\n")
    d.wait_for_message("User input: after idle")


def test_active_client_not_dropped_by_idle_timeout(daemon_factory):
    d = daemon_factory(daemon_extra={"idle_timeout": "2"}).start()
    s = d.connect()
    for i in range(6):                          # 3 s, active every 0.5 s
        s.sendall(b"tick %d\n" % i)
        time.sleep(0.5)
    d.wait_for_message("User input: tick 5")
    s.settimeout(0.1)
    try:
        data = s.recv(100)
    except socket.timeout:
        data = None
    assert data is None, f"active client got {data!r}"
    s.close()


def test_idle_timeout_0_never_drops(daemon):
    s = daemon.connect()
    time.sleep(1.5)
    s.sendall(b"still connected\n")
    daemon.wait_for_message("User input: still connected")
    s.close()


# --- [auth] mode = required: slots are for clients that log in --------------

ADMIN_PW = "slot keeper Pw-81c"
OK_ADMIN = b"+OK authenticated as alice (admin)\n"


def required_daemon(factory, daemon_extra=None, max_clients=3,
                    level="info", **auth):
    """auth required over plain TCP (allow_plaintext), an admin alice."""
    from tls_helpers import add_user, make_daemon
    a = dict(mode="required", allow_plaintext="yes")
    a.update(auth)
    d = make_daemon(factory, None, a, daemon_extra=daemon_extra or {},
                    max_clients=max_clients, level=level)
    add_user(d, "alice", ADMIN_PW, admin=True)
    return d.start()


def admin_login(d, deadline):
    """Connect and log in as alice, trying again while refused, until
    DEADLINE (monotonic).  Returns the socket, or None."""
    while time.monotonic() < deadline:
        s = d.connect()
        s.sendall(f"/auth password alice {ADMIN_PW}\n".encode())
        try:
            line = recv_line(s, timeout=max(0.1, deadline -
                                            time.monotonic()))
        except (AssertionError, OSError):
            line = b""
        if line == OK_ADMIN:
            return s
        s.close()
        time.sleep(0.05)
    return None


class Squatters:
    """N scripted attackers: each holds a connection without logging in
    and reconnects at once when it is closed or refused, until stopped
    (bounded: 60 s at most)."""

    def __init__(self, d, n=3):
        self.d, self.stop_flag, self.connects = d, False, 0
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(n)]
        for t in self.threads:
            t.start()

    def run(self):
        end = time.monotonic() + 60
        while not self.stop_flag and time.monotonic() < end:
            try:
                s = self.d.connect(timeout=1.0)
            except OSError:
                time.sleep(0.01)
                continue
            self.connects += 1
            s.settimeout(0.2)
            while not self.stop_flag and time.monotonic() < end:
                try:
                    if not s.recv(4096):
                        break           # closed: displaced or refused
                except socket.timeout:
                    continue
                except OSError:
                    break
            s.close()

    def stop(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(timeout=10)


def test_squatters_do_not_keep_an_admin_out(daemon_factory):
    """Issue 15: three connections that never log in and reconnect in a
    loop; the admin still gets in within 5 s, and once logged in is never
    displaced."""
    d = required_daemon(daemon_factory, admin_slots=0)   # displacement
    sq = Squatters(d)
    try:
        d.wait_for_log(r"\(3/3\)\.$")
        time.sleep(2.5)     # past the head start a newcomer has
        admin = admin_login(d, time.monotonic() + 5)
        assert admin is not None, "the admin could not log in in 5 s"
        d.wait_for_log(r"^Client disconnected: 127\.0\.0\.1:\d+ "
                       r"\(displaced: not logged in, slots full\)\.$")
        # the squatters go on; the admin keeps the slot past their head
        # start, when they could displace anyone not logged in
        before = sq.connects
        time.sleep(3)
        admin.sendall(b"/ping\n")
        assert recv_line(admin) == b"+OK pong\n"
        assert sq.connects > before, "the squatters stopped trying"
    finally:
        sq.stop()


def test_one_network_reconnecting_fast_cannot_keep_an_admin_out(
        daemon_factory):
    """Smarter squatters: three connections from 127.0.0.2 that never log
    in, each closed and made again every second, so that none is ever
    past the head start a newcomer has.  A network that holds two slots
    or more without logging in gives one up to a newcomer from another
    network at once: the admin, from 127.0.0.1, gets in at its first
    try."""
    d = required_daemon(daemon_factory, penalty="0")   # the rule alone
    stop = threading.Event()
    connects = []

    def cycle():
        end = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < end:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.2", 0))
                s.settimeout(1.0)
                s.connect(("127.0.0.1", d.port))
                connects.append(1)
                stop.wait(1.0)
            except OSError:
                stop.wait(0.01)
            finally:
                s.close()

    threads = [threading.Thread(target=cycle, daemon=True)
               for _ in range(3)]
    for t in threads:
        t.start()
    try:
        d.wait_for_log(r"\(3/3\)\.$")
        time.sleep(2.5)     # the slots have all been made again since
        s = d.connect()
        s.sendall(f"/auth password alice {ADMIN_PW}\n".encode())
        # (in at once: it displaced a squatter, or, on a slow machine,
        # found a slot a squatter had just left)
        assert recv_line(s, timeout=20) == OK_ADMIN
        # the squatters go on, and cannot take the admin's slot
        before = len(connects)
        time.sleep(2.5)
        s.sendall(b"/ping\n")
        assert recv_line(s) == b"+OK pong\n"
        assert len(connects) > before, "the squatters stopped trying"
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)


def test_a_network_that_never_logs_in_is_penalized(daemon_factory):
    """[auth] penalty: each connection from 127.0.0.2 that ends without a
    login charges its network 6 s; at 10 s (the second or third, as fast
    as the machine goes: the charges run out meanwhile) its new
    connections are turned away with one line and no record each, while
    the admin from 127.0.0.1 gets in; the penalty's start and end are
    logged once each, the end with the count of connections refused."""
    d = required_daemon(daemon_factory, penalty="6s", penalty_min="10s",
                        penalty_max="12s")

    def from_2():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.2", 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", d.port))
        return s

    early = 0
    for _ in range(3):
        s = from_2()
        s.sendall(b"let me in\n")
        got = recv_until_eof(s, timeout=10) if early else recv_line(s)
        s.close()
        if got != b"-ERR authentication required\n":
            early += 1                              # already penalized
    d.wait_for_log(r"^Network 127\.0\.0\.2/32 penalized for 1[0-2]s: too "
                   r"many connections without a login; its new connections "
                   r"are refused until then\.$")
    turned = re.compile(rb"-ERR too many connections without a login from "
                        rb"this network, try again in \d+s\n")
    for _ in range(20):
        got = recv_until_eof(from_2(), timeout=10)
        assert turned.fullmatch(got), got
    a = admin_login(d, time.monotonic() + 10)
    assert a is not None, "the admin's network was penalized too"
    a.sendall(b"/stats\n")
    head = recv_line(a)
    stats = [recv_line(a) for _ in range(int(head.split()[1]))]
    n = 20 + early
    assert b'clients_refused_total{reason="penalty"} %d\n' % n in stats
    d.wait_for_message(f"Network 127.0.0.2/32 is no longer penalized: {n} "
                       f"connections refused meanwhile.", timeout=20)
    s = from_2()
    s.sendall(b"let me in\n")
    assert recv_line(s) == b"-ERR authentication required\n"
    s.close()
    msgs = d.messages()
    assert sum(m.startswith("Client connected: 127.0.0.2:")
               for m in msgs) in (3, 4), msgs
    assert sum("penalized" in m for m in msgs) == 2, msgs


def test_hammering_full_slots_is_penalized_too(daemon_factory):
    """Every slot held by a logged-in admin: the connections turned away
    for want of a slot end without a login too, so a script hammering
    the port is soon penalized and stops writing a record each."""
    d = required_daemon(daemon_factory, max_clients=1, admin_slots=0,
                        penalty="6s", penalty_min="10s", penalty_max="12s")
    a = admin_login(d, time.monotonic() + 10)
    assert a is not None
    got = []
    for _ in range(20):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.2", 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", d.port))
        got.append(recv_until_eof(s, timeout=10))
    full = got.count(b"-ERR too many clients (max 1)\n")
    assert 2 <= full <= 3 and got[:full] == got[:1] * full, got
    assert all(g.startswith(b"-ERR too many connections without a login")
               for g in got[full:]), got
    d.wait_for_log(r"^Network 127\.0\.0\.2/32 penalized for 1[0-2]s")
    refused = [m for m in d.messages()
               if m.startswith("Client refused: 127.0.0.2:")]
    assert len(refused) == full, refused
    a.sendall(b"/ping\n")
    assert recv_line(a) == b"+OK pong\n"


def test_a_logged_in_client_is_never_displaced(daemon_factory):
    d = required_daemon(daemon_factory, admin_slots=0)
    admins = [admin_login(d, time.monotonic() + 10) for _ in range(3)]
    assert None not in admins
    time.sleep(2.5)
    s4 = d.connect()
    assert recv_until_eof(s4) == REFUSAL
    for a in admins:
        a.sendall(b"/ping\n")
        assert recv_line(a) == b"+OK pong\n"


def login_as(d, name, password):
    """A new connection that logs in as NAME; (socket, reply line)."""
    s = d.connect()
    s.sendall(f"/auth password {name} {password}\n".encode())
    return s, recv_line(s, timeout=20)


def test_the_admin_slot_is_kept_for_an_admin(daemon_factory):
    """Three readers logged in hold every slot: the admin slot past them
    ([auth] admin_slots, 1) takes a fourth connection, where a reader's
    login is refused and an admin's is not, as PostgreSQL keeps
    connections for its superusers."""
    from tls_helpers import add_user
    d = required_daemon(daemon_factory, level="debug")
    add_user(d, "bob", "reader pw 93")
    readers = [login_as(d, "bob", "reader pw 93") for _ in range(3)]
    assert [r for _, r in readers] == \
        [b"+OK authenticated as bob (user)\n"] * 3
    s, reply = login_as(d, "bob", "reader pw 93")
    p = s.getsockname()[1]
    assert reply == b"-ERR every slot is taken: only an admin may log in " \
        b"now\n"
    assert recv_until_eof(s) == b""
    d.wait_for_message(f"Authentication of bob from 127.0.0.1:{p} refused: "
                       f"every slot is taken, the rest are for admins.")
    d.wait_for_message(f"Client disconnected: 127.0.0.1:{p} (slots full: "
                       f"only an admin may log in).")
    admin, reply = login_as(d, "alice", ADMIN_PW)
    assert reply == OK_ADMIN
    assert recv_until_eof(d.connect()) == REFUSAL
    for c in [r for r, _ in readers] + [admin]:
        c.sendall(b"/ping\n")
        assert recv_line(c) == b"+OK pong\n"


def test_optional_mode_never_displaces_anyone(daemon_factory):
    """Anonymous clients may log lines when auth is optional: the 4th
    client gets its one line, as in the subject."""
    d = with_admin(daemon_factory()).start()
    socks = fill(d)
    time.sleep(2.5)
    s4 = d.connect()
    assert recv_until_eof(s4) == REFUSAL
    socks[0].sendall(b"still here\n")
    d.wait_for_message("User input: still here")


def test_login_grace_closes_a_client_that_does_not_log_in(daemon_factory):
    d = required_daemon(daemon_factory, login_grace="2s")
    t0 = time.monotonic()
    s = d.connect()
    p = s.getsockname()[1]
    assert recv_until_eof(s, timeout=8) == b"-ERR login timeout\n"
    # never before the grace is over (the daemon counts whole seconds)
    assert time.monotonic() - t0 >= 2.0
    d.wait_for_message(f"Client disconnected: 127.0.0.1:{p} "
                       f"(not logged in within 2s).")
    # a client that logs in stays past the grace
    a = admin_login(d, time.monotonic() + 10)
    time.sleep(3)
    a.sendall(b"/ping\n")
    assert recv_line(a) == b"+OK pong\n"


def test_refused_lines_are_no_activity(daemon_factory):
    """idle_timeout 2 s, no login grace: a client that keeps sending lines
    without logging in is closed all the same."""
    d = required_daemon(daemon_factory, {"idle_timeout": "2s"},
                        login_grace="0")
    s = d.connect()
    p = s.getsockname()[1]
    got = b""
    end = time.monotonic() + 8
    closed = False
    while time.monotonic() < end and not closed:
        try:
            s.sendall(b"let me stay\n")        # one every 0.8 s: fewer
        except OSError:                         # than the refusals that
            break                               # close a client
        pause = time.monotonic() + 0.8
        while time.monotonic() < pause:
            s.settimeout(max(0.01, pause - time.monotonic()))
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            except OSError:
                chunk = b""
            if not chunk:
                closed = True
                break
            got += chunk
    assert got.endswith(b"-ERR idle timeout\n"), got[-200:]
    assert set(got.splitlines()[:-1]) == {b"-ERR authentication required"}
    d.wait_for_log(rf"^Client disconnected: 127\.0\.0\.1:{p} \(idle for 2s\)")


def test_a_client_without_a_login_cannot_fill_the_log(daemon_factory):
    """Auth required: every refused line or command of a client that has
    not logged in is logged, so a script could fill the disk with them.
    The tenth closes it: a few records per connection, whatever it sends.
    Commands allowed before a login (/ping...) are not refusals."""
    d = required_daemon(daemon_factory)
    s = d.connect()
    p = s.getsockname()[1]
    s.sendall(b"/ping\n" * 20)
    assert b"".join(recv_line(s) for _ in range(20)) == b"+OK pong\n" * 20
    junk = [b"let me in", b"/tail", b"/status", b"/auth nonsense", b"quit",
            b"/clients", b"\x00\x1b[2J", b"/rotate", b"/auth key alice",
            b"/shell"]
    s.sendall(b"\n".join(junk * 200) + b"\n")     # 2,000 refusals
    got = recv_until_eof(s, timeout=20)
    assert got.endswith(b"-ERR too many lines before a login\n"), got[-200:]
    assert got.count(b"\n") == 11, got     # 10 refusals, the farewell
    d.wait_for_message(f"Client disconnected: 127.0.0.1:{p} "
                       f"(10 lines refused before a login).")
    mine = [m for m in d.messages() if f"127.0.0.1:{p}" in m]
    # connected, 10 refusals (one or two records each), disconnected
    assert len(mine) <= 22, mine
    # the daemon is fine, and a client that logs in is not counted
    a = admin_login(d, time.monotonic() + 10)
    assert a is not None
    a.sendall(b"".join(b"line %d\n" % i for i in range(30)))
    d.wait_for_message("User input: line 29")


def test_a_locked_out_network_cannot_fill_the_log_either(daemon_factory):
    """A locked-out network's /auth is refused without a check and never
    counts as a failed login: those refusals count before a login too."""
    d = required_daemon(daemon_factory, max_failures=1, lockout="60s")
    s = d.connect()
    s.sendall(b"/auth password alice not-it\n")
    assert recv_line(s, timeout=20) == b"-ERR authentication failed\n"
    s.close()
    s = d.connect()
    s.sendall(b"/auth password alice not-it\n" * 50)
    got = recv_until_eof(s, timeout=20)
    assert got.count(b"-ERR locked out, try again in ") == 10, got
    assert got.endswith(b"-ERR too many lines before a login\n"), got


def test_max_auth_tries_closes_the_connection(daemon_factory):
    d = required_daemon(daemon_factory, max_auth_tries=2, max_failures=10)
    s = d.connect()
    p = s.getsockname()[1]
    for _ in range(2):
        s.sendall(b"/auth password alice not-it\n")
        assert recv_line(s, timeout=20) == b"-ERR authentication failed\n"
    assert recv_until_eof(s, timeout=5) == b""
    d.wait_for_message(f"Client disconnected: 127.0.0.1:{p} "
                       f"(2 failed logins).")


def test_a_wait_its_network_earned_does_not_keep_the_slot(daemon_factory):
    """A squatter that keeps guessing is held before each check, longer
    and longer; held for its own failures, it is not "in the middle of a
    login" and gives up its slot to the admin."""
    d = required_daemon(daemon_factory, max_clients=1, level="debug",
                        max_auth_tries=10, max_failures=10, admin_slots=0)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.2", 0))
    s.settimeout(20)
    s.connect(("127.0.0.1", d.port))
    for _ in range(3):      # waits 0, 1, 2 s
        s.sendall(b"/auth password alice guess\n")
        assert recv_line(s, timeout=20) == b"-ERR authentication failed\n"
    s.sendall(b"/auth password alice guess\n")
    d.wait_for_log(rf"^Authentication of alice from 127\.0\.0\.2:"
                   rf"{s.getsockname()[1]} held 4s before its check\.$")
    admin = admin_login(d, time.monotonic() + 10)
    assert admin is not None, "the guessing squatter kept the only slot"
    assert recv_until_eof(s) == b"-ERR closed to make room: not logged in\n"
    assert not [m for m in d.messages() if "failed" in m and
                "127.0.0.2" in m][3:], "the held guess was checked"

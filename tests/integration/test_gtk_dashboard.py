"""Ben_AFK-gtk's Dashboard tab, under a real X server (the fixtures and
helpers of test_gtk.py).

The window polls /stats every second; each reading is traced as "gtk:
dashboard KEY=VALUE ..." (the figure beside each chart: lines per second,
clients, refused connections per second, forward backlog, and their
captions as KEY.caption), and each drawing of a chart as "gtk: chart KEY
points=N last=V max=M ymax=Y fg=#RRGGBB line=#RRGGBB" (what it drew and
with which colours of the theme).  Every wait is bounded; the rates are
checked against what the test itself sent, never against a clock.
"""

import os
import re
import signal
import threading
import time

from conftest import free_port, wait_until
from test_gtk import (PASSWORD, connected, gui, logged_in, pin,  # noqa: F401
                      secure_daemon, send_lines, user_daemon, xserver)

FLOOD = 300000              # lines
FLOOD_STEP = 10000          # lines per send
FLOOD_PAUSE = 0.15          # seconds between sends: about 60,000 lines/s


def readings(g, after=0):
    """The dashboard's readings traced since line AFTER, as dicts."""
    out = []
    for line in g.trace()[after:]:
        if line.startswith("gtk: dashboard "):
            out.append(dict(kv.split("=", 1) for kv in
                            line[len("gtk: dashboard "):].split()
                            if "=" in kv))
    return out


def figure(r, key):
    v = r.get(key, "-")
    return None if v == "-" else float(v)


def wait_reading(g, pred, timeout=30, after=0):
    """The first reading since AFTER for which PRED is true."""
    found = wait_until(lambda: next((r for r in readings(g, after)
                                     if pred(r)), None), timeout, 0.1)
    assert found, f"no such reading in {timeout}s: {readings(g, after)[-5:]}"
    return found


def open_dashboard(g):
    n = len(g.trace())
    g.key("alt+d")                  # the "_Dashboard" tab
    g.wait("chart", r"^lines ", after=n)


def luminance(colour):
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def chart_colours(g, key, after=0):
    _, text = g.wait("chart", rf"^{key} .*fg=#\w+ line=#\w+", after=after)
    return re.search(r"fg=(#\w+) line=(#\w+)", text).groups()


def flood(d, done):
    """FLOOD lines from one connection, in steps (the window follows the
    log too, and must keep up with its records)."""
    with d.connect() as s:
        for start in range(0, FLOOD, FLOOD_STEP):
            s.sendall(b"".join(b"flood %06d\n" % i
                               for i in range(start, start + FLOOD_STEP)))
            time.sleep(FLOOD_PAUSE)
        s.sendall(b"/ping\n")
        s.settimeout(60)
        assert s.recv(100).startswith(b"+OK pong")
        done.set()


def test_flood_makes_the_lines_per_second_chart_rise(user_daemon, gui):
    g = logged_in(gui, user_daemon, "--history", "1000")
    connected(g)
    open_dashboard(g)
    # a rate needs two readings; nothing is sent yet
    base = wait_reading(g, lambda r: figure(r, "lines") is not None)
    assert figure(base, "lines") == 0.0 and figure(base, "clients") == 1.0
    assert base["clients.caption"] == "3"           # max_clients
    total0 = figure(base, "lines.caption")
    fg, line = chart_colours(g, "lines")
    assert luminance(fg) < 0.5, "the default (light) theme: dark text"
    assert line != fg, "the series in the theme's accent colour"

    n = len(g.trace())
    done = threading.Event()
    t0 = time.monotonic()
    sender = threading.Thread(target=flood, args=(user_daemon, done))
    sender.start()
    try:
        # during the flood: the chart drew a rising rate; the screenshot
        g.wait("chart", r"^lines points=\d+ last=[1-9]\d{3,}", after=n,
               timeout=60)
        g.screenshot("dashboard.png")
    finally:
        sender.join(timeout=120)
    assert done.is_set(), "the daemon did not take the flood"
    last = wait_reading(g, lambda r: figure(r, "lines.caption") >=
                        total0 + FLOOD, timeout=60, after=n)
    elapsed = time.monotonic() - t0
    during = readings(g, n)
    peak = max(figure(r, "lines") or 0 for r in during)
    # the readings around the flood average FLOOD / (their span), and the
    # span is within the test's time plus one poll before the flood
    assert peak >= FLOOD / (elapsed + 3), (peak, elapsed, during)
    assert max(figure(r, "clients") for r in during) == 2.0    # + the flood
    assert figure(last, "lines.caption") == total0 + FLOOD
    print(f"{FLOOD} lines in {elapsed:.1f} s; peak {peak:.0f} lines/s")
    # the drawn chart holds that peak, and the rate falls back to 0
    g.wait("chart", rf"^lines points=\d+ last=\S+ max={peak:.1f} ",
           after=n, timeout=30)
    wait_reading(g, lambda r: figure(r, "lines") == 0.0 and
                 figure(r, "clients") == 1.0, after=n)


def test_refused_connections_in_the_dark_theme(daemon_factory, gui):
    d = secure_daemon(daemon_factory).start()
    g = logged_in(gui, d, env={"GTK_THEME": "Adwaita:dark"})
    connected(g)
    open_dashboard(g)
    fg, line = chart_colours(g, "refused")
    assert luminance(fg) > 0.5, "the dark theme: light text"
    assert line != fg
    wait_reading(g, lambda r: figure(r, "refused") == 0.0)
    n = len(g.trace())
    socks = [d.connect(), d.connect()]          # 3 clients with the window
    try:
        for s in socks:
            s.sendall(b"/ping\n")
            s.settimeout(10)
            assert s.recv(100).startswith(b"+OK pong")
        for _ in range(2):                      # the 4th, twice
            with d.connect() as s:
                s.settimeout(10)
                assert s.recv(200).startswith(b"-ERR too many clients")
        r = wait_reading(g, lambda r: figure(r, "refused.caption") == 2,
                         after=n)
        assert figure(r, "clients") == 3.0
    finally:
        for s in socks:
            s.close()
    rates = [figure(r, "refused") for r in readings(g, n)]
    # two refusals between two readings (or one in each of two)
    assert max(rates) > 0 and sum(rates) > 0, rates
    g.wait("chart", r"^refused points=\d+ last=\S+ max=[1-9]", after=n)
    wait_reading(g, lambda r: figure(r, "clients") == 1.0, after=n)
    g.screenshot()


def test_forward_backlog_while_the_target_is_down(daemon_factory, gui):
    d = secure_daemon(daemon_factory)
    d.extra_text += f"[forward]\ntarget = tcp://127.0.0.1:{free_port()}\n"
    d.write_config()
    d.start()
    g = logged_in(gui, d)
    connected(g)
    with d.connect() as s:
        s.sendall(b"".join(b"for nobody %d\n" % i for i in range(50)))
        s.sendall(b"/ping\n")
        s.settimeout(10)
        assert s.recv(100).startswith(b"+OK pong")
    r = wait_reading(g, lambda r: (figure(r, "forward") or 0) >= 50)
    assert r["forward.caption"] == "0"          # none dropped
    open_dashboard(g)
    g.wait("chart", r"^forward points=\d+ last=[1-9]")


def test_a_restarted_daemon_counts_again_from_zero(user_daemon, gui):
    """The counters of a new daemon start again at 0: after Reconnect the
    rate is taken over its uptime, never negative."""
    d = user_daemon
    g = logged_in(gui, d)
    connected(g)
    with d.connect() as s:
        s.sendall(b"".join(b"before %d\n" % i for i in range(500)))
        s.sendall(b"/ping\n")
        s.settimeout(10)
        assert s.recv(100).startswith(b"+OK pong")
    wait_reading(g, lambda r: figure(r, "lines.caption") == 500)
    os.kill(d.pid, signal.SIGTERM)
    assert d.wait_gone()
    g.wait("error", rf"Connection to 127\.0\.0\.1 port {d.port} lost")
    d.start()
    n = len(g.trace())
    g.focus()
    g.key("alt+r")                  # "_Reconnect"
    g.wait("connected", after=n)
    r = wait_reading(g, lambda r: True, after=n)
    assert r.get("restarted") == "1" and figure(r, "lines.caption") == 0
    assert figure(r, "lines") == 0.0, r         # not (0 - 500) / dt
    assert all(figure(x, "lines") is None or figure(x, "lines") >= 0
               for x in readings(g))


def test_no_forward_target_says_so(user_daemon, gui):
    g = logged_in(gui, user_daemon)
    connected(g)
    r = wait_reading(g, lambda r: figure(r, "lines") is not None)
    assert figure(r, "forward") is None and "forward.caption" not in r


def test_anonymous_session_sees_an_explanation(user_daemon, gui):
    """auth optional, no user: /stats is refused; the tab says why."""
    pin(user_daemon, gui.home)
    g = gui("-p", user_daemon.port, "--tls")
    g.wait("connected", r"^anonymous$")
    g.wait("dashboard-unavailable", r"^The dashboard needs a logged-in "
           r"user: .*connect with a user name")
    n = len(g.trace())
    g.focus()
    g.key("alt+d")
    time.sleep(1.5)                 # a second poll would come by now
    g.screenshot()
    assert readings(g) == []
    assert not [l for l in g.trace()[n:] if l.startswith("gtk: chart ")]
    assert not [l for l in g.trace() if l.startswith("gtk: toast")]


def test_anonymous_session_without_auth_is_told_how(daemon_factory, gui):
    """[auth] mode off: the daemon's own hint (set [auth] mode, or the
    local socket) is in the explanation."""
    d = daemon_factory().start()
    g = gui("-p", d.port)
    g.wait("connected", r"^anonymous$")
    g.wait("dashboard-unavailable", r"This one has no users: set \[auth\] "
           r"mode in matt_daemon.conf, or use the local socket")
    assert readings(g) == []


def test_stats_typed_in_the_entry_shows_the_table(user_daemon, gui):
    """The user's own /stats gets its table in the log view, and the
    periodic /status and /stats go on beside it."""
    g = logged_in(gui, user_daemon)
    connected(g)
    wait_reading(g, lambda r: figure(r, "lines") is not None)
    n = len(g.trace())
    g.type("/stats")
    g.key("Return")
    # in words: the reply was taken for that of /stats, not another's
    g.wait("log", r"^The daemon's \d+ figures \(the Dashboard tab", after=n)
    g.wait("log", r"^uptime_seconds +\d+$", after=n)
    g.wait("log", r"^max_clients +3$", after=n)
    i, _ = g.wait("status", r"^Connected as alice", after=n)
    wait_reading(g, lambda r: figure(r, "clients") == 1.0, after=i)
    assert not [l for l in g.trace()[n:] if l.startswith(
        ("gtk: status +OK", "gtk: status-error", "gtk: toast",
         "gtk: dashboard-unreadable"))]


def test_own_stats_polls_stay_out_of_the_log_view(daemon_factory, gui):
    """At level debug the daemon logs every /stats; the window's own
    (one a second) are not shown, like its /status."""
    d = secure_daemon(lambda: daemon_factory(level="debug")).start()
    g = logged_in(gui, d)
    connected(g)
    wait_reading(g, lambda r: figure(r, "lines") is not None)
    wait_until(lambda: len(readings(g)) >= 3, 10, 0.1)
    d.wait_for_log(r"Command from .*: /stats\.$", count=3)
    send_lines(d, ["after the polls"])
    g.wait("log", r"User input: after the polls$")
    assert not [l for l in g.trace() if l.startswith("gtk: log ") and
                l.endswith(": /stats.")]

"""[forward] to tcp://: the log file is the queue, nothing is lost.

Each test starts its own rsyslogd (collector.py) and daemon, floods the
daemon with numbered lines over several connections and checks that every
line reaches the collector, in order per connection, across a collector
outage, log rotations with compression, and restarts of the daemon.
Every wait is bounded; processes are ended by the PIDs the tests started.
"""

import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from collector import RSYSLOGD, Collector
from conftest import free_port, wait_until

pytestmark = pytest.mark.skipif(not os.path.exists(RSYSLOGD),
                                reason="rsyslogd is not installed")

# The flood: 3 x 1,000,000 lines (about 12 s here).
CONNS = 3
LINES = int(os.environ.get("MATT_FWD_LINES", "1000000"))
LINE_RX = re.compile(rb" User input: c(\d) (\d{7})$", re.M)


def forward_daemon(daemon_factory, target, extra="", **kw):
    d = daemon_factory(sub="daemon", **kw)
    d.extra_text = (f"[forward]\ntarget = {target}\n"
                    f"state_dir = {d.tmp}/state\n" + extra)
    d.write_config()
    return d


def flood(d, conns, first, count, pause=None):
    """COUNTS lines "c<K> <I>" for I in [FIRST, FIRST+COUNT) on each of
    CONNS connections at once; PAUSE (an Event) holds them mid-way."""
    def one(k):
        s = d.connect()
        s.settimeout(120)
        step = 20000
        for i in range(first, first + count, step):
            n = min(step, first + count - i)
            s.sendall(b"".join(b"c%d %07d\n" % (k, j)
                               for j in range(i, i + n)))
            if pause is not None and i - first >= count // 2:
                pause.wait(timeout=120)
        s.close()

    ts = [threading.Thread(target=one, args=(k,)) for k in range(conns)]
    for t in ts:
        t.start()
    return ts


def local_count(d):
    """Lines of the flood in the live log and its archives."""
    n = 0
    for name in os.listdir(d.logdir):
        path = os.path.join(d.logdir, name)
        if name.endswith((".zst", ".gz", ".tmp")):
            continue
        with open(path, "rb") as f:
            n += len(LINE_RX.findall(f.read()))
    return n


def sequences(col):
    """{connection: [line numbers in the order received]}."""
    seqs = {}
    try:
        with open(col.out, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return seqs
    for k, i in LINE_RX.findall(data):
        seqs.setdefault(int(k), []).append(int(i))
    return seqs


def wait_all(col, conns, total, timeout):
    """Until every line of every connection arrived (duplicates do not
    count); bounded."""
    def done():
        seqs = sequences(col)
        return all(len(set(seqs.get(k, []))) == total
                   for k in range(conns))
    col.wait_count(b"User input: c", conns * total, timeout)
    assert wait_until(done, timeout, interval=1.0), "lines missing"


def socket_window():
    """What both ends' TCP buffers may hold: the most the forwarder sends
    again when a collector resets the connection."""
    total = 0
    for name in ("tcp_wmem", "tcp_rmem"):
        with open(f"/proc/sys/net/ipv4/{name}") as f:
            total += int(f.read().split()[2])
    return total


def check_all(col, conns, total):
    """Every line 0..TOTAL-1 of every connection arrived, in order; the
    duplicates (a line again after the collector came back) counted."""
    seqs = sequences(col)
    dups = 0
    for k in range(conns):
        got = seqs.get(k, [])
        assert set(got) == set(range(total)), (
            f"connection {k}: {total - len(set(got))} lines missing")
        dups += len(got) - total
        # In order, but for a resent stretch: first sightings increase.
        seen, firsts = set(), []
        for i in got:
            if i not in seen:
                seen.add(i)
                firsts.append(i)
        assert firsts == sorted(firsts), f"connection {k} out of order"
    return dups


def test_flood_reaches_live_collector_once_in_order(daemon_factory,
                                                    tmp_path):
    col = Collector(tmp_path / "rsyslog").start()
    d = forward_daemon(daemon_factory, f"tcp://127.0.0.1:{col.port}")
    d.start()
    for t in flood(d, CONNS, 0, LINES):
        t.join(timeout=300)
    col.wait_count(b"User input: c", CONNS * LINES, timeout=240)
    assert check_all(col, CONNS, LINES) == 0
    assert local_count(d) == CONNS * LINES
    # Nothing was dropped on the way, and the state is on disk.
    text = "\n".join(d.messages())
    assert "dropped" not in text
    assert os.listdir(f"{d.tmp}/state")


def forward_notes(d, target):
    """The forwarder's records in the log and its archives, in order."""
    names = sorted(n for n in os.listdir(d.logdir)
                   if n.startswith(d.logname + "."))
    text = b""
    for n in names:
        path = os.path.join(d.logdir, n)
        if n.endswith(".zst"):
            text += subprocess.run(["zstd", "-dc", path], check=True,
                                   capture_output=True, timeout=60).stdout
        else:
            with open(path, "rb") as f:
                text += f.read()
    with open(d.logfile, "rb") as f:
        text += f.read()
    key = f"Matt_daemon: Forwarding to {target}: ".encode()
    return [ln.split(b"Matt_daemon: ", 1)[1].decode()
            for ln in text.splitlines() if key in ln]


def test_outage_of_60s_across_rotations_loses_nothing(daemon_factory,
                                                      tmp_path):
    """Items 2 and 4 of the issue in one: the collector stops in the
    middle of a flood and stays away 60 s while the log rotates many
    times (rotate_size = 1M, compress = zstd, archives compressed while
    it is away); once it is back everything arrives, the outage and the
    recovery are logged once each, and the archives end compressed."""
    col = Collector(tmp_path / "rsyslog").start()
    target = f"tcp://127.0.0.1:{col.port}"
    d = forward_daemon(daemon_factory, target,
                       extra="[log]\nrotate_size = 1M\ncompress = zstd\n")
    d.start()
    per = 200000
    ts = flood(d, CONNS, 0, per)
    col.wait_count(b"User input: c", per // 10, timeout=60)
    col.stop()                          # in the middle of the flood
    t0 = time.monotonic()
    for t in ts:
        t.join(timeout=300)
    # More lines while it is away, a batch every few seconds.
    sent = per
    while time.monotonic() - t0 < 55:
        for t in flood(d, CONNS, sent, 20000):
            t.join(timeout=120)
        sent += 20000
        time.sleep(5)
    assert wait_until(lambda: not [n for n in os.listdir(d.logdir)
                                   if n.startswith("matt_daemon.log.")
                                   and not n.endswith(".zst")],
                      timeout=30), "archives left uncompressed"
    archives = [n for n in os.listdir(d.logdir) if n.endswith(".zst")]
    assert len(archives) >= 5
    time.sleep(max(0.0, 60 - (time.monotonic() - t0)))
    col.start()
    wait_all(col, CONNS, sent, timeout=240)
    dups = check_all(col, CONNS, sent)
    # Resent after the reset: at most both socket buffers' worth, in
    # frames of 80 bytes or more.
    assert dups <= socket_window() // 80, dups
    notes = forward_notes(d, target)
    down = [m for m in notes if "connection lost" in m or
            "cannot connect" in m]
    up = [m for m in notes if m == f"Forwarding to {target}: connected."]
    assert len(down) == 1, down
    assert len(up) == 2, up
    print(f"duplicates after the outage: {dups}")


def forwarder_pid(d):
    """The forwarder child of daemon D (its comm is md-forward)."""
    def find():
        with open(f"/proc/{d.pid}/task/{d.pid}/children") as f:
            for pid in f.read().split():
                with open(f"/proc/{pid}/comm") as c:
                    if c.read().strip() == "md-forward":
                        return int(pid)
        return None
    pid = wait_until(find, timeout=10)
    assert pid, "no forwarder child"
    return pid


@pytest.mark.parametrize("how", ["quit", "SIGTERM", "SIGKILL"])
def test_restart_while_collector_away_loses_nothing(daemon_factory,
                                                    tmp_path, how):
    """The daemon stops (quit, SIGTERM, or SIGKILL of it and its
    forwarder) while the collector is away; at the next start forwarding
    resumes from the checkpoint: nothing lost, and no duplicate, since
    nothing was in flight."""
    col = Collector(tmp_path / "rsyslog").start()
    d = forward_daemon(daemon_factory, f"tcp://127.0.0.1:{col.port}",
                       max_clients=CONNS + 1)
    d.start()
    per = 20000
    for t in flood(d, CONNS, 0, per):
        t.join(timeout=120)
    wait_all(col, CONNS, per, timeout=60)
    # Nothing in flight: the collector stops idle (a close right after a
    # send resends what it may have read and not written).
    watch = d.connect()     # one connection: its queries add no record
    assert wait_until(lambda: status(d, watch)["waiting"] == "0", 10, 0.5)
    time.sleep(1.5)
    col.stop()
    for t in flood(d, CONNS, per, per):
        t.join(timeout=120)
    for k in range(CONNS):
        d.wait_for_bytes(b"c%d %07d\n" % (k, 2 * per - 1), timeout=30)
    fwd = forwarder_pid(d)
    if how == "quit":
        d.stop()
    elif how == "SIGTERM":
        os.kill(d.pid, signal.SIGTERM)
    else:
        os.kill(fwd, signal.SIGKILL)
        os.kill(d.pid, signal.SIGKILL)
    assert d.wait_gone(timeout=10)
    assert wait_until(lambda: not os.path.exists(f"/proc/{fwd}"), 10)
    col.start()
    d.start()
    for t in flood(d, CONNS, 2 * per, per):
        t.join(timeout=120)
    wait_all(col, CONNS, 3 * per, timeout=60)
    assert check_all(col, CONNS, 3 * per) == 0


def status(d, s=None):
    """/status as {key: value}, over S if given (a connection held open
    adds no record of its own to forward), else a new one."""
    from conftest import recv_line
    own = s is None
    if own:
        s = d.connect()
    s.sendall(b"/status\n")
    line = recv_line(s)
    if own:
        s.close()
    if isinstance(line, bytes):
        line = line.decode()
    assert line.startswith("+OK "), line
    return dict(kv.split("=", 1) for kv in line[4:].split() if "=" in kv)


def test_clean_close_resends_what_the_collector_read(daemon_factory,
                                                    tmp_path):
    """A collector may close cleanly after reading records it never
    wrote (rsyslogd stopping with records in its read buffer): what it
    read is sent again to the next one."""
    port = free_port()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(15)
    d = forward_daemon(daemon_factory, f"tcp://127.0.0.1:{port}")
    d.start()
    for t in flood(d, 1, 0, 1000):
        t.join(timeout=60)
    c, _ = srv.accept()
    c.settimeout(1)
    data = b""
    deadline = time.monotonic() + 15
    while b"c0 0000999" not in data and time.monotonic() < deadline:
        try:
            data += c.recv(1 << 16)
        except socket.timeout:
            pass
    assert b"c0 0000999" in data
    c.close()               # everything read, nothing kept: a clean close
    srv.close()
    col = Collector(tmp_path / "rsyslog", port=port).start()
    wait_all(col, 1, 1000, timeout=30)
    d.wait_for_log(r"connection lost: closed by the collector", timeout=5)


def test_status_reports_the_target(daemon_factory, tmp_path):
    col = Collector(tmp_path / "rsyslog").start()
    target = f"tcp://127.0.0.1:{col.port}"
    d = forward_daemon(daemon_factory, target)
    d.start()
    watch = d.connect()     # one connection: its queries add no record

    def caught_up():
        st = status(d, watch)
        return st["forward_state"] == "up" and st["waiting"] == "0"

    for t in flood(d, 1, 0, 1000):
        t.join(timeout=60)
    wait_all(col, 1, 1000, timeout=30)
    assert wait_until(caught_up, 10, 0.5)
    st = status(d, watch)
    assert st["forward"] == target
    assert st["forward_state"] == "up"
    assert int(st["forwarded"]) >= 1000
    assert wait_until(lambda: int(status(d, watch)["acknowledged"]) >= 1000,
                      10, 0.5)
    col.stop()
    for t in flood(d, 1, 1000, 1000):
        t.join(timeout=60)
    assert wait_until(lambda: status(d, watch)["forward_state"] == "down",
                      10, 0.5)
    time.sleep(2.5)
    st = status(d, watch)
    assert int(st["waiting_bytes"]) > 1000 * 40
    assert 500 <= int(st["waiting"]) <= 3000
    assert int(st["oldest_waiting_age"]) >= 1
    col.start()
    wait_all(col, 1, 2000, timeout=30)
    assert wait_until(caught_up, 15, 0.5), status(d, watch)


def test_forwarder_restarted_when_it_dies(daemon_factory, tmp_path):
    col = Collector(tmp_path / "rsyslog").start()
    d = forward_daemon(daemon_factory, f"tcp://127.0.0.1:{col.port}")
    d.start()
    old = forwarder_pid(d)
    os.kill(old, signal.SIGKILL)
    d.wait_for_message("Forwarder exited (signal 9); restarting it in 1s.")
    for t in flood(d, 1, 0, 1000):
        t.join(timeout=60)
    wait_all(col, 1, 1000, timeout=30)
    assert forwarder_pid(d) != old
    assert d.alive()


def skipped_in(note):
    """The records a max_backlog note says were skipped."""
    return int(re.search(r"skipped (?:the )?(\d+)", note).group(1))


def test_max_backlog_skips_the_oldest_and_says_so(daemon_factory,
                                                  tmp_path):
    """Past max_backlog the oldest records not forwarded are skipped,
    counted and logged once; the local log keeps them all."""
    col = Collector(tmp_path / "rsyslog")
    target = f"tcp://127.0.0.1:{col.port}"
    d = forward_daemon(daemon_factory, target,
                       extra="max_backlog = 64K\n")
    d.start()
    for t in flood(d, 1, 0, 10000):     # about 640 KB, nobody listening
        t.join(timeout=60)
    d.wait_for_bytes(b"c0 0009999\n", timeout=30)
    msg = d.wait_for_log(rf"^Forwarding to {re.escape(target)}: more than "
                         r"max_backlog waiting: skipped the \d+ oldest "
                         r"records \(\d+ bytes\)\.$", timeout=15)[0]
    col.start()
    # Until the last line arrived (not merely the first).
    assert wait_until(lambda: sequences(col).get(0, [None])[-1] == 9999,
                      60, 0.2), sequences(col).get(0, [])[-5:]
    got = sequences(col)[0]
    # The newest arrived, in order; the oldest were skipped, not lost
    # locally.
    assert got == list(range(got[0], 10000))
    assert local_count(d) == 10000
    time.sleep(2)
    notes = [m for m in d.messages() if "max_backlog" in m]
    # The first skip's note, and the tail of the flood skipped after it
    # if any, in one total once the backlog is back under half.
    assert notes[0] == msg, notes
    assert len(notes) == 1 or (len(notes) == 2 and "more records" in
                               notes[1]), notes
    assert 10000 - len(got) <= sum(skipped_in(m) for m in notes)


def test_max_backlog_notes_a_long_outage_twice_not_per_skip(
        daemon_factory, tmp_path):
    """Skips that go on while the collector stays away are counted and
    logged in one total once the backlog is back under half of
    max_backlog, not one note each."""
    col = Collector(tmp_path / "rsyslog")
    target = f"tcp://127.0.0.1:{col.port}"
    d = forward_daemon(daemon_factory, target,
                       extra="max_backlog = 64K\n")
    d.start()
    for first in (0, 10000, 20000):     # 3 bursts of about 640 KB
        for t in flood(d, 1, first, 10000):
            t.join(timeout=60)
        d.wait_for_bytes(b"c0 %07d\n" % (first + 9999), timeout=30)
        d.wait_for_log("max_backlog waiting: skipped the", timeout=15)
        time.sleep(1.5)                 # a report or two: more skips
    notes = [m for m in d.messages() if "max_backlog" in m]
    assert len(notes) == 1, notes       # the first skip only, so far
    col.start()
    assert wait_until(lambda: sequences(col).get(0, [None])[-1] == 29999,
                      60, 0.2), sequences(col).get(0, [])[-5:]
    got = sequences(col)[0]
    assert got == list(range(got[0], 30000))
    more = d.wait_for_log(r"^Forwarding to .*: more than max_backlog "
                          r"waiting: skipped \d+ more records \(\d+ "
                          r"bytes\) since the last note\.$", timeout=15)
    time.sleep(2)
    notes = [m for m in d.messages() if "max_backlog" in m]
    assert notes[1:] == more and len(notes) == 2, notes
    assert 30000 - len(got) <= sum(skipped_in(m) for m in notes)
    assert local_count(d) == 30000


def mkdir_free(path):
    """Make the directory `path`; False while a file holds the name."""
    try:
        os.mkdir(path)
    except FileExistsError:
        return False
    return True


def test_checkpoint_that_cannot_be_saved_is_noted_once(daemon_factory,
                                                       tmp_path):
    """A checkpoint that cannot be saved (here its temporary file's name
    is taken by a directory) is noted once, not at every retry; the first
    save that works again is noted too; forwarding goes on meanwhile."""
    col = Collector(tmp_path / "rsyslog").start()
    d = forward_daemon(daemon_factory, f"tcp://127.0.0.1:{col.port}")
    d.start()
    state = os.path.join(d.tmp, "state")
    assert wait_until(lambda: [n for n in os.listdir(state)
                               if n.endswith(".pos")], 10)
    pos = [n for n in os.listdir(state) if n.endswith(".pos")][0]
    blocker = os.path.join(state, pos + ".tmp")
    # The saver's own temporary file can be there for a moment: take the
    # name once it is free.
    assert wait_until(lambda: mkdir_free(blocker), 10), blocker
    for burst in range(4):              # saves fail for some seconds
        for t in flood(d, 1, burst * 1000, 1000):
            t.join(timeout=60)
        time.sleep(0.6)
    wait_all(col, 1, 4000, timeout=30)
    notes = [m for m in d.messages() if "checkpoint" in m]
    assert len(notes) == 1 and "cannot save the checkpoint" in notes[0] \
        and "Is a directory" in notes[0], notes
    os.rmdir(blocker)
    for t in flood(d, 1, 4000, 1000):
        t.join(timeout=60)
    d.wait_for_message(f"Forwarding to tcp://127.0.0.1:{col.port}: the "
                       "checkpoint is saved again.", timeout=10)
    time.sleep(1)
    notes = [m for m in d.messages() if "checkpoint" in m]
    assert len(notes) == 2, notes

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
import threading
import time

import pytest

from collector import RSYSLOGD, Collector
from conftest import wait_until

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
    with open(col.out, "rb") as f:
        data = f.read()
    for k, i in LINE_RX.findall(data):
        seqs.setdefault(int(k), []).append(int(i))
    return seqs


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

"""[forward] target = relp://: RELP (librelp) to a real rsyslogd (imrelp),
plain and over TLS.  The collector acknowledges every message; the
checkpoint moves only past acknowledged ones, so a collector stopped in
the middle of a flood loses nothing and gets at most two windows of
messages (2 x 128) twice.  The acknowledged position is noted in place
after every batch, so a SIGKILL of the daemon and its forwarder resends
at most the window in flight and a batch, and nothing once all was
acknowledged.
"""

import os
import signal
import time

import pytest

from collector import RSYSLOGD, Collector, have_module, make_pki
from conftest import wait_until
from test_forward_lossless import (check_all, flood, forward_daemon,
                                   forwarder_pid, status, wait_all)

pytestmark = pytest.mark.skipif(
    not os.path.exists(RSYSLOGD) or not have_module("imrelp"),
    reason="rsyslogd or rsyslog-relp is not installed")

WINDOW = 128
BATCH = 16      # FWD_RELP_BATCH: acknowledgements noted after each


def test_relp_flood_arrives_once_in_order(daemon_factory, tmp_path):
    col = Collector(tmp_path / "rsyslog", "relp").start()
    try:
        d = forward_daemon(daemon_factory, f"relp://127.0.0.1:{col.port}")
        d.start()
        for t in flood(d, 3, 0, 20000):
            t.join(timeout=120)
        wait_all(col, 3, 20000, timeout=120)
        assert check_all(col, 3, 20000) == 0
    finally:
        col.stop()


def test_relp_collector_stopped_mid_flood_loses_nothing(daemon_factory,
                                                        tmp_path):
    col = Collector(tmp_path / "rsyslog", "relp").start()
    try:
        d = forward_daemon(daemon_factory, f"relp://127.0.0.1:{col.port}")
        d.start()
        ts = flood(d, 3, 0, 40000)
        col.wait_count(b"User input: c", 5000, timeout=60)
        col.stop()
        for t in ts:
            t.join(timeout=120)
        col.start()
        wait_all(col, 3, 40000, timeout=120)
        dups = check_all(col, 3, 40000)
        # What was not acknowledged yet: a window, sent in batches of a
        # window.
        assert dups <= 2 * WINDOW, dups
        print(f"RELP duplicates after the collector's stop: {dups}")
    finally:
        col.stop()


@pytest.mark.parametrize("trust", ["ca_file", "fingerprint"])
def test_relp_over_tls(daemon_factory, tmp_path, trust):
    """relp:// over TLS, the collector trusted through its CA or pinned by
    its SHA-256 fingerprint: `-t` takes it, and every line arrives once,
    in order."""
    pki = make_pki(tmp_path)
    col = Collector(tmp_path / "rsyslog", "relp-tls", pki=pki).start()
    try:
        key = pki["ca"] if trust == "ca_file" else pki["fingerprint"]
        d = forward_daemon(daemon_factory, f"relp://127.0.0.1:{col.port}",
                           extra=f"{trust} = {key}\n")
        launch = d.run("-t")
        assert launch.rc == 0, launch.err
        d.start()
        for t in flood(d, 1, 0, 1000):
            t.join(timeout=60)
        wait_all(col, 1, 1000, timeout=60)
        assert check_all(col, 1, 1000) == 0
    finally:
        col.stop()


def test_relp_wrong_fingerprint_gets_nothing(daemon_factory, tmp_path):
    """The collector shows another certificate than the pinned one: it
    gets nothing, the forwarder retries, and says so once."""
    ours = make_pki(tmp_path, "ours")
    theirs = make_pki(tmp_path, "theirs")
    col = Collector(tmp_path / "rsyslog", "relp-tls", pki=theirs).start()
    try:
        target = f"relp://127.0.0.1:{col.port}"
        d = forward_daemon(daemon_factory, target,
                           extra=f"fingerprint = {ours['fingerprint']}\n")
        d.start()
        for t in flood(d, 1, 0, 100):
            t.join(timeout=60)
        d.wait_for_log(rf"^Forwarding to {target}: cannot connect: RELP: "
                       "the collector's certificate", timeout=10)
        time.sleep(3.5)     # two more attempts (1 s, then 2 s later)
        notes = [m for m in d.messages()
                 if m.startswith(f"Forwarding to {target}: ")]
        assert len(notes) == 1, notes
        assert col.lines() == []
    finally:
        col.stop()


def test_relp_takes_ca_file_or_fingerprint_not_both(daemon_factory,
                                                     tmp_path):
    pki = make_pki(tmp_path)
    d = forward_daemon(daemon_factory, "relp://127.0.0.1:2514",
                       extra=f"fingerprint = {pki['fingerprint']}\n"
                       f"ca_file = {pki['ca']}\n")
    launch = d.run("-t")
    assert launch.rc != 0
    assert "ca_file or fingerprint, not both" in launch.err


def kill_both(d):
    """SIGKILL of the forwarder and of the daemon: no clean stop."""
    fwd = forwarder_pid(d)
    os.kill(fwd, signal.SIGKILL)
    os.kill(d.pid, signal.SIGKILL)
    assert d.wait_gone(timeout=10)
    assert wait_until(lambda: not os.path.exists(f"/proc/{fwd}"), 10)


def test_relp_sigkill_resends_nothing_acknowledged(daemon_factory,
                                                   tmp_path):
    """SIGKILL after everything was acknowledged: the next start sends
    nothing twice.  SIGKILL in the middle of a flowing flood: at most the
    window in flight (128 messages) and the batch being sent come twice,
    nothing is lost."""
    col = Collector(tmp_path / "rsyslog", "relp").start()
    try:
        d = forward_daemon(daemon_factory, f"relp://127.0.0.1:{col.port}")
        d.start()
        per = 20000
        for t in flood(d, 3, 0, per):
            t.join(timeout=120)
        wait_all(col, 3, per, timeout=120)
        assert wait_until(lambda: status(d)["acknowledged"] ==
                          status(d)["forwarded"], 15, 0.5)
        kill_both(d)
        d.start()
        for t in flood(d, 3, per, per):
            t.join(timeout=120)
        wait_all(col, 3, 2 * per, timeout=120)
        dups = check_all(col, 3, 2 * per)
        print(f"RELP duplicates after a SIGKILL once acknowledged: {dups}")
        assert dups == 0, dups

        # Now in the middle of the flow: the daemon has the whole flood,
        # the collector a part of it.
        for t in flood(d, 3, 2 * per, 2 * per):
            t.join(timeout=120)
        col.wait_count(b"User input: c", 3 * 2 * per + 3 * per // 2,
                       timeout=120)
        kill_both(d)
        got = col.count(b"User input: c")
        assert got < 3 * 4 * per, "the flood was over before the kill"
        d.start()
        wait_all(col, 3, 4 * per, timeout=120)
        dups = check_all(col, 3, 4 * per)
        print(f"RELP duplicates after a SIGKILL mid-flood: {dups}")
        # librelp's window, and the batch (16) it was in.
        assert dups <= WINDOW + BATCH, dups
    finally:
        col.stop()

"""[forward] target = relp://: RELP (librelp) to a real rsyslogd (imrelp),
plain and over TLS.  The collector acknowledges every message; the
checkpoint moves only past acknowledged ones, so a collector stopped in
the middle of a flood loses nothing and gets at most two windows of
messages (2 x 128) twice.
"""

import os

import pytest

from collector import RSYSLOGD, Collector, have_module, make_pki
from test_forward_lossless import (check_all, flood, forward_daemon,
                                   wait_all)

pytestmark = pytest.mark.skipif(
    not os.path.exists(RSYSLOGD) or not have_module("imrelp"),
    reason="rsyslogd or rsyslog-relp is not installed")

WINDOW = 128


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


def test_relp_over_tls(daemon_factory, tmp_path):
    pki = make_pki(tmp_path)
    col = Collector(tmp_path / "rsyslog", "relp-tls", pki=pki).start()
    try:
        d = forward_daemon(daemon_factory, f"relp://127.0.0.1:{col.port}",
                           extra=f"ca_file = {pki['ca']}\n")
        d.start()
        for t in flood(d, 1, 0, 1000):
            t.join(timeout=60)
        wait_all(col, 1, 1000, timeout=60)
        assert check_all(col, 1, 1000) == 0
    finally:
        col.stop()

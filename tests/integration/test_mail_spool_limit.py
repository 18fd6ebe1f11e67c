"""The alert mail spool's limit ([mail] max_spooled) and its gauge
(matt_daemon_alert_mail_spool), against a real aiosmtpd server (down or
slow, then up) and the daemon's real /metrics and /stats, with the
helpers of test_mail.py, test_mail_slow.py and test_metrics.py.  Every
wait is bounded.
"""

import re
import time

import pytest

from conftest import run_binary, wait_until
from test_mail import (SPOOLED_MAIL, daemon_with_spool, parse,  # noqa: F401
                       smtp, spool_rules_conf, spooled_files)
from test_mail_slow import slow_server
from test_metrics import (cleanup_dirs, metrics_daemon, samples,  # noqa: F401
                          scrape, stats)


def spool_daemon(daemon_factory, cleanup_dirs, conf):
    """A daemon serving /metrics, with CONF's spool in its temporary dir."""
    d, spool = daemon_with_spool(
        lambda extra: metrics_daemon(daemon_factory, extra=extra), conf)
    cleanup_dirs.append(d.sockdir)
    return d, spool


def figures(d):
    """The mail figures of /metrics, short names."""
    v = samples(scrape(d)[1])
    return {"sent": v['matt_daemon_alert_mails_total{result="sent"}'],
            "failed": v['matt_daemon_alert_mails_total{result="failed"}'],
            "spooled": v['matt_daemon_alert_mails_total{result="spooled"}'],
            "queue": v["matt_daemon_alert_mail_queue"],
            "spool": v["matt_daemon_alert_mail_spool"]}


def test_mails_past_max_spooled_are_dropped(daemon_factory, smtp,
                                            cleanup_dirs):
    """Six mails at once, the server down, a queue of one and room for two
    in the spool: r1 is tried, r2 waits, r3 and r4 are spooled, r5 and r6
    are dropped: counted as failed, logged once with the reason.  Once the
    server is up the four others arrive once each, in order."""
    s = smtp(start=False)
    d, spool = spool_daemon(daemon_factory, cleanup_dirs, spool_rules_conf(
        s.port, 1, 6).replace("spool = @SPOOL@\n",
                              "spool = @SPOOL@\nmax_spooled = 2\n"))
    d.start()
    assert figures(d)["spool"] == 0
    d.send(b"BOOM now\n").close()
    d.wait_for_log(r"^Mail queue full \(1\): 2 alert mails dropped \(cannot "
                   r"spool: the spool is full \(max_spooled = 2\)\)\.$",
                   timeout=10)
    d.wait_for_log(rf"^Mail queue full \(1\): 2 alert mails spooled in "
                   rf"{re.escape(str(spool))}\.$", timeout=5)
    assert figures(d) == {"sent": 0, "failed": 2, "spooled": 2, "queue": 2,
                          "spool": 2}
    assert len(spooled_files(spool)) == 2
    time.sleep(1.5)			# the next tick adds no line
    assert len([m for m in d.messages() if " dropped " in m]) == 1

    s.start()
    s.wait_mails(4, timeout=60)
    assert wait_until(lambda: figures(d)["sent"] == 4, 10), figures(d)
    time.sleep(2)			# nothing more comes
    assert [parse(m[2])["Subject"] for m in s.mails] == \
        ["r1", "r2", "r3", "r4"]
    assert figures(d) == {"sent": 4, "failed": 2, "spooled": 2, "queue": 0,
                          "spool": 0}
    assert spooled_files(spool) == []


def test_spool_gauge_rises_and_falls_to_zero(daemon_factory, smtp,
                                             cleanup_dirs):
    """Three mails an earlier run spooled, then three the full queue (of
    one) has no room for while the server holds its EHLO reply: the gauge
    (in /metrics and /stats) counts the mails in the spool (its files),
    not those back in memory, and falls to 0 once all six are delivered."""
    s = slow_server(smtp)
    s.handler.hold_ehlo = True
    s.start()
    d, spool = spool_daemon(daemon_factory, cleanup_dirs, spool_rules_conf(
        s.port, 1, 3).replace("timeout = 5s", "timeout = 2m"))
    spool.mkdir(mode=0o700)
    for i in range(3):
        (spool / f"1-1-00000000{i}.mail").write_text(
            SPOOLED_MAIL.format(f"old{i}"))
    d.start()
    d.wait_for_log(r"^3 alert mails spooled by the last run queued "
                   r"again\.$")
    # old0 is on its way, old1 was taken back into the queue (full from
    # then on), old2 waits in the spool.
    assert wait_until(lambda: figures(d)["queue"] == 2, 10), figures(d)
    assert figures(d)["spool"] == 1
    assert len(spooled_files(spool)) == 1
    d.send(b"BOOM now\n").close()
    # The spool holds an older mail: r1 to r3 go behind it.
    d.wait_for_log(r"^Mail queue full \(1\): 3 alert mails spooled in ",
                   timeout=10)
    f = figures(d)
    assert f["spool"] == 4 and f["spooled"] == 3 and f["queue"] == 2, f
    assert stats(d)["matt_daemon_alert_mail_spool"] == 4
    assert len(spooled_files(spool)) == 4

    s.handler.hold_ehlo = False
    s.wait_mails(6, timeout=60)
    assert wait_until(lambda: figures(d)["sent"] == 6, 10), figures(d)
    time.sleep(2)			# nothing more comes
    assert [parse(m[2])["Subject"] for m in s.mails][3:] == \
        ["r1", "r2", "r3"]
    f = figures(d)
    assert f["spool"] == 0 and f["queue"] == 0 and f["failed"] == 0, f
    assert stats(d)["matt_daemon_alert_mail_spool"] == 0
    assert spooled_files(spool) == []


@pytest.mark.parametrize("value,ok", [("1", True), ("100000", True),
                                      ("0", False), ("100001", False),
                                      ("lots", False)])
def test_max_spooled_is_checked(tmp_path, value, ok):
    conf = tmp_path / "m.conf"
    conf.write_text(f"[mail]\nspool = none\nmax_spooled = {value}\n")
    launch = run_binary(["-t", "-c", str(conf)])
    if ok:
        assert launch.rc == 0, launch.err
    else:
        assert launch.rc == 1
        assert f"{conf}:3: max_spooled: '{value}' is not a number from 1 " \
            f"to 100000" in launch.err, launch.err

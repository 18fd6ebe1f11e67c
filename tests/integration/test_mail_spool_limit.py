"""The alert mail spool's limit ([mail] max_spooled), against a real
aiosmtpd server (down, then up) and the daemon's real /metrics, with the
helpers of test_mail.py and test_metrics.py.  Every wait is bounded.
"""

import re
import time

import pytest

from conftest import run_binary, wait_until
from test_mail import (daemon_with_spool, parse, smtp,  # noqa: F401
                       spool_rules_conf, spooled_files)
from test_metrics import (cleanup_dirs, metrics_daemon, samples,  # noqa: F401
                          scrape)


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
            "queue": v["matt_daemon_alert_mail_queue"]}


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
    d.send(b"BOOM now\n").close()
    d.wait_for_log(r"^Mail queue full \(1\): 2 alert mails dropped \(cannot "
                   r"spool: the spool is full \(max_spooled = 2\)\)\.$",
                   timeout=10)
    d.wait_for_log(rf"^Mail queue full \(1\): 2 alert mails spooled in "
                   rf"{re.escape(str(spool))}\.$", timeout=5)
    assert figures(d) == {"sent": 0, "failed": 2, "spooled": 2, "queue": 2}
    assert len(spooled_files(spool)) == 2
    time.sleep(1.5)			# the next tick adds no line
    assert len([m for m in d.messages() if " dropped " in m]) == 1

    s.start()
    s.wait_mails(4, timeout=60)
    assert wait_until(lambda: figures(d)["sent"] == 4, 10), figures(d)
    time.sleep(2)			# nothing more comes
    assert [parse(m[2])["Subject"] for m in s.mails] == \
        ["r1", "r2", "r3", "r4"]
    assert figures(d) == {"sent": 4, "failed": 2, "spooled": 2, "queue": 0}
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

"""Alert mails through a slow SMTP server (a real aiosmtpd server whose
replies wait), started by each test with the helpers of test_mail.py.

A server that is slow but answers within [mail] timeout gets every mail
once, in order, and the daemon logs its clients' lines meanwhile; a server
slower than the timeout has failed: its mail is retried, the mails behind
it wait for that retry (one log line per attempt, not one per mail), and
all arrive once, in order, when it answers again.  Every wait is bounded.
"""

import asyncio
import re
import time

from conftest import wait_until
from test_mail import Collector, parse, smtp, spool_rules_conf  # noqa: F401

HOLD_CAP = 60.0			# no reply waits longer, whatever the test does


class SlowCollector(Collector):
    """A Collector whose replies wait: to EHLO while hold_ehlo is set, to
    DATA while hold_data is set, then delay more seconds.  Counts the
    EHLOs and DATAs it was sent (whether answered or not)."""

    def __init__(self, delay=0.0):
        super().__init__()
        self.hold_ehlo = False
        self.hold_data = False
        self.delay = delay
        self.ehlos = 0
        self.datas = 0

    async def _hold(self, flag):
        deadline = time.monotonic() + HOLD_CAP
        while getattr(self, flag) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        self.ehlos += 1
        await self._hold("hold_ehlo")
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        await self._hold("hold_data")
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def slow_server(smtp, delay=0.0):
    s = smtp(start=False)
    s.handler = SlowCollector(delay)
    return s


def subjects(s):
    return [parse(raw)["Subject"] for _, _, raw in s.mails]


def test_slow_server_neither_stops_logging_nor_loses_mails(daemon_factory,
                                                            smtp):
    """Each DATA is answered a second late, the first only once the test
    has seen 50 client lines logged while the server held it: ingest never
    waits for the mail, and the three mails arrive once each, in order."""
    s = slow_server(smtp, delay=1.0)
    s.handler.hold_data = True
    s.start()
    conf = spool_rules_conf(s.port, 32, 3, spool="none").replace(
        "timeout = 5s", "timeout = 2m")
    d = daemon_factory(extra=conf).start()
    sock = d.send(b"BOOM now\n")
    d.wait_for_message("User input: BOOM now")
    d.wait_for_log(r'^Alert "r3": 1 match, mail queued\.$', timeout=10)
    assert wait_until(lambda: s.handler.datas == 1, 15), \
        "the first mail never reached DATA"
    sock.sendall(b"".join(b"meanwhile %d\n" % i for i in range(50)))
    d.wait_for_message("User input: meanwhile 49", timeout=10)
    # Logged while the server still held the first mail's DATA.
    assert s.handler.hold_data and s.mails == [] and s.handler.datas == 1
    s.handler.hold_data = False
    s.wait_mails(3, timeout=30)
    d.wait_for_log(r'^Alert mail "r3" sent to ', timeout=10)
    time.sleep(2)			# nothing more comes
    assert subjects(s) == ["r1", "r2", "r3"]
    assert s.handler.datas == 3
    assert not any("not sent" in m for m in d.messages())
    sock.close()


def test_server_slower_than_the_timeout_fails_once_per_attempt(
        daemon_factory, smtp):
    """The server holds its EHLO reply past timeout = 2s: the first mail's
    attempt fails and is retried; the two mails behind it are not tried
    meanwhile (one line per attempt, each naming r1, never r2 or r3).
    Once it answers, the three arrive once each, in order."""
    s = slow_server(smtp)
    s.handler.hold_ehlo = True
    s.start()
    conf = spool_rules_conf(s.port, 32, 3, spool="none").replace(
        "timeout = 5s", "timeout = 2s")
    d = daemon_factory(extra=conf).start()
    d.send(b"BOOM now\n").close()
    first = d.wait_for_log(r'^Alert mail "r1" not sent: .*; retry 1 of 30 '
                           r'in 1s\.$', timeout=15)[0]
    assert re.search(r"timed? ?out", first, re.I), first
    d.wait_for_log(r'^Alert mail "r1" not sent: .*; retry 2 of 30 in 2s\.$',
                   timeout=15)
    failures = [m for m in d.messages() if " not sent: " in m]
    assert [re.match(r'Alert mail "(\w+)" not sent: .*; retry (\d+) ',
                     m).groups() for m in failures] == \
        [("r1", str(i)) for i in range(1, len(failures) + 1)], failures
    assert s.mails == [] and s.handler.datas == 0
    s.handler.hold_ehlo = False
    s.wait_mails(3, timeout=30)
    d.wait_for_log(r'^Alert mail "r3" sent to ', timeout=10)
    time.sleep(2)			# nothing more comes
    assert subjects(s) == ["r1", "r2", "r3"]
    assert not any(re.match(r'Alert mail "r[23]" not sent', m)
                   for m in d.messages())

"""Mail alerts against a real SMTP server (aiosmtpd on a free loopback port).

Each test starts its own SMTP server (a Controller collecting envelopes)
and its own daemon whose [alert] rule mails there; both are stopped in
teardown.  Every wait is bounded.
"""

import email
import email.policy
import email.utils
import logging
import os
import re
import socket
import stat
import time

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port, run_binary, wait_until
from conftest import REPO

FROM = "md@example.org"
TO = ["ops@example.org", "sec@example.org"]


def daemon_host():
    """The host name as the daemon puts it in subjects."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "localhost"


class Collector:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.mails = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos),
                           envelope.original_content or envelope.content))
        return "250 OK"


class Smtp:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.handler = Collector()
        self.ctl = None

    def start(self):
        self.ctl = Controller(self.handler, hostname="127.0.0.1",
                              port=self.port, ready_timeout=5)
        self.ctl.start()
        return self

    def stop(self):
        if self.ctl is not None:
            self.ctl.stop()
            self.ctl = None

    @property
    def mails(self):
        return self.handler.mails

    def wait_mails(self, n, timeout=10.0):
        assert wait_until(lambda: len(self.mails) >= n, timeout), \
            f"{len(self.mails)} mail(s) in {timeout}s, wanted {n}"
        return self.mails


@pytest.fixture
def smtp():
    servers = []

    def make(port=None, start=True):
        s = Smtp(port)
        servers.append(s)
        return s.start() if start else s

    yield make
    for s in servers:
        s.stop()


def mail_conf(port, match=r"BOOM\d+", window="1s", extra="", spool="none"):
    """[mail] and one [alert intrusion]; no spool unless given one (the
    default one is a real path, shared by every daemon of the machine)."""
    return (f"[mail]\nsmtp_url = smtp://127.0.0.1:{port}\nfrom = {FROM}\n"
            f"starttls = no\nretry = 1s\nmax_retries = 20\ntimeout = 5s\n"
            f"spool = {spool}\n"
            f"[alert intrusion]\nmatch = {match}\nto = {', '.join(TO)}\n"
            f"subject = %r on %h: %m\nwindow = {window}\n{extra}")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_matching_line_sends_one_mail(daemon_factory, smtp):
    s = smtp()
    d = daemon_factory(extra=mail_conf(s.port)).start()
    d.wait_for_log(r"^Mail alerts: 1 rule")
    sock = d.send(b"hello BOOM42 world\n")
    d.wait_for_message("User input: hello BOOM42 world")
    mail_from, rcpts, raw = s.wait_mails(1)[0]
    time.sleep(2.5)			# a second window would have closed
    assert len(s.mails) == 1
    assert mail_from == FROM
    assert rcpts == TO
    msg = parse(raw)
    assert msg["From"] == FROM
    assert [str(a.addr_spec) for a in msg["To"].addresses] == TO
    assert msg["Subject"] == f"intrusion on {daemon_host()}: BOOM42"
    assert email.utils.parsedate_to_datetime(msg["Date"]) is not None
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", msg["Message-ID"])
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "text/plain"
    body = msg.get_content().replace("\r\n", "\n")
    assert re.search(r"^\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\] \[ LOG \] "
                     r"127\.0\.0\.1:\d+ - User input: hello BOOM42 world$",
                     body, re.M), body
    assert "1 record matched" in body
    assert "not listed" not in body
    d.wait_for_log(r'^Alert mail "intrusion" sent to ops@example\.org')
    sock.close()


def test_flood_of_matches_gives_one_digest(daemon_factory, smtp):
    s = smtp()
    d = daemon_factory(extra=mail_conf(s.port, window="4s") +
                       "max_items = 50\n").start()
    data = b"".join(b"BOOM%d flood line\n" % i for i in range(10000))
    sock = d.send(data)
    d.wait_for_message("User input: BOOM9999 flood line", timeout=10)
    s.wait_mails(1, timeout=15)
    time.sleep(5)			# no second mail for the same window
    assert len(s.mails) == 1
    msg = parse(s.mails[0][2])
    body = msg.get_content().replace("\r\n", "\n")
    listed = re.findall(r"^\[.*\] \[ LOG \] .* - User input: BOOM(\d+) ",
                        body, re.M)
    assert listed == [str(i) for i in range(50)]
    assert "9950 more matches not listed (max_items = 50)." in body
    assert "10000 records matched" in body
    assert msg["Subject"] == f"intrusion on {daemon_host()}: BOOM0"
    sock.close()


def test_non_matching_line_sends_nothing(daemon_factory, smtp):
    s = smtp()
    d = daemon_factory(extra=mail_conf(s.port)).start()
    sock = d.send(b"all quiet, boom 42 (lower case)\n")
    d.wait_for_message("User input: all quiet, boom 42 (lower case)")
    time.sleep(3)
    assert s.mails == []
    assert not any("Alert" in m for m in d.messages())
    sock.close()


def test_mail_waits_for_the_server(daemon_factory, smtp):
    s = smtp(start=False)		# nothing listens on its port yet
    d = daemon_factory(extra=mail_conf(s.port)).start()
    sock = d.send(b"BOOM7 while the server is down\n")
    d.wait_for_log(r'^Alert mail "intrusion" not sent: .*; retry 1 of 20 '
                   r'in 1s\.$', timeout=10)
    # The daemon keeps logging meanwhile.
    sock.sendall(b"still logging\n")
    d.wait_for_message("User input: still logging")
    assert d.alive()
    s.start()
    mail_from, rcpts, raw = s.wait_mails(1, timeout=20)[0]
    assert rcpts == TO
    assert "User input: BOOM7 while the server is down" in \
        parse(raw).get_content()
    d.wait_for_log(r'^Alert mail "intrusion" sent to ')
    sock.close()


def test_mail_is_given_up_after_max_retries(daemon_factory, smtp):
    s = smtp(start=False)		# never up
    conf = mail_conf(s.port).replace("max_retries = 20", "max_retries = 1")
    d = daemon_factory(extra=conf).start()
    d.send(b"BOOM3 nobody will hear\n").close()
    d.wait_for_log(r'^Alert mail "intrusion" not sent: .*; retry 1 of 1 '
                   r'in 1s\.$', timeout=10)
    d.wait_for_log(r'^Alert mail "intrusion" not sent: .*; given up after '
                   r'2 attempts\.$', timeout=15)
    assert d.alive()


def test_full_queue_drops_the_oldest_mail(daemon_factory, smtp):
    s = smtp(start=False)		# mails wait in the queue
    conf = mail_conf(s.port).replace("retry = 1s", "retry = 1h").replace(
        "timeout = 5s\n", "timeout = 5s\nqueue = 1\n")
    d = daemon_factory(extra=conf).start()
    d.send(b"BOOM1 first window\n").close()
    d.wait_for_log(r'^Alert mail "intrusion" not sent: .*; retry 1 of 20 '
                   r'in 3600s\.$', timeout=10)
    d.send(b"BOOM2 second window\n").close()
    d.wait_for_log(r'^Mail queue full \(1\): dropped the oldest mail of '
                   r'alert "intrusion"\.$', timeout=10)
    assert d.alive()


def test_crlf_in_input_cannot_add_recipients(daemon_factory, smtp):
    s = smtp()
    d = daemon_factory(extra=mail_conf(s.port, match="BOOM.*")).start()
    sock = d.send(b"BOOM\rBcc: evil@example.org\rX-Evil: 1\r\n"
                  b"Bcc: evil2@example.org\r\n")
    d.wait_for_log(r"^User input: Bcc: evil2@example\.org$")
    mail_from, rcpts, raw = s.wait_mails(1)[0]
    time.sleep(2.5)
    assert len(s.mails) == 1
    assert rcpts == TO
    msg = parse(raw)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert [k for k in msg.keys()] == [
        "Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
        "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted"]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^(Bcc|X-Evil):", head, re.M | re.I)
    assert b"evil" in head		# in the subject, harmless
    assert "\r" not in msg["Subject"] and "\n" not in msg["Subject"]
    assert msg["Subject"].startswith(f"intrusion on {daemon_host()}: BOOM")
    sock.close()


def test_rules_with_and_without_literals_all_mail(daemon_factory, smtp):
    """Rules are skipped when the words they require are missing
    (prefilter.c); rules it cannot read (no literal, caseless) run on
    every record.  Each kind still mails what it matches, and only that."""
    s = smtp()
    rules = ""
    for name, match in (("phone", r"\b\d{3}-\d{4}$"),
                        ("disk", r"disk full|BADSECTOR\d"),
                        ("caseless", r"(?i)intruder")):
        rules += (f"[alert {name}]\nmatch = {match}\nto = {TO[0]}\n"
                  f"subject = %r: %m\nwindow = 1s\n")
    d = daemon_factory(extra=mail_conf(s.port) + rules).start()
    d.wait_for_log(r"^Mail alerts: 4 rules \(2 run on every record\), ")
    sock = d.send(b"555-1234\nsector BADSECTOR7 unreadable\n"
                  b"an InTrUdEr at the gate\nnothing: 555-12345 BADSECTOR "
                  b"intrude disk ful\n")
    d.wait_for_message("User input: an InTrUdEr at the gate")
    s.wait_mails(3)
    time.sleep(2.5)			# the windows have closed: nothing more
    subjects = sorted(parse(raw)["Subject"] for _, _, raw in s.mails)
    assert subjects == ["caseless: InTrUdEr", "disk: BADSECTOR7",
                        "phone: 555-1234"]
    sock.close()


def test_level_source_and_events_filters(daemon_factory, smtp):
    """Each rule mails only the records its level, source and events
    filters let through."""
    s = smtp()
    rules = ""
    for name, extra in (
            ("warnonly", "match = SRC\\d\nlevel = warn\n"),  # input: LOG
            ("local", "match = SRC\\d\nsource = 127.0.0.1\n"),
            ("other", "match = SRC\\d\nsource = 10.\n"),
            ("localre", "match = SRC\\d\nsource = ~^127\\.0\\.0\\.1:\\d+$\n"),
            ("conn", "match = Client connected\nevents = connection\n"),
            ("connin", "match = Client connected\nevents = input\n")):
        rules += (f"[alert {name}]\n{extra}to = {TO[0]}\n"
                  f"subject = %r: %m\nwindow = 1s\n")
    d = daemon_factory(extra=mail_conf(s.port) + rules).start()
    d.send(b"SRC7 from here\n").close()
    d.wait_for_message("User input: SRC7 from here")
    s.wait_mails(3)
    time.sleep(2.5)			# the windows have closed: nothing more
    subjects = sorted(parse(raw)["Subject"] for _, _, raw in s.mails)
    assert subjects == ["conn: Client connected", "local: SRC7",
                        "localre: SRC7"]


def daemon_with_spool(daemon_factory, conf):
    """A daemon whose config CONF says "spool = @SPOOL@": the spool is a
    directory in its temporary dir (made by the daemon, or by the test)."""
    d = daemon_factory(extra=conf)
    spool = d.tmp / "spool"
    d.extra_text = d.extra_text.replace("@SPOOL@", str(spool))
    d.write_config()
    return d, spool


SPOOLED_MAIL = ("Matt_daemon alert mail\nrule {}\nto root@example.org\n\n"
                "Hello\n")


def spooled_files(spool):
    return sorted(p for p in spool.iterdir() if p.name.endswith(".mail")) \
        if spool.exists() else []


@pytest.mark.parametrize("server_up", [True, False])
def test_unsent_mails_are_spooled_for_the_next_start(daemon_factory, smtp,
                                                      server_up):
    """A stop with a window still open (server up), or a mail waiting for
    its retry (server down): the mail is spooled, not lost, and sent by
    the next run."""
    s = smtp(start=server_up)
    d, spool = daemon_with_spool(daemon_factory, mail_conf(
        s.port, window="60s" if server_up else "1s", spool="@SPOOL@"))
    d.start()
    d.send(b"BOOM1 before the stop\n").close()
    d.wait_for_message("User input: BOOM1 before the stop")
    if not server_up:
        d.wait_for_log(r'^Alert mail "intrusion" not sent: .*; retry 1 ',
                       timeout=10)
    assert d.stop()
    msgs = d.messages()
    spooled = msgs.index(f"1 alert mail spooled in {spool} for the next "
                         f"start.")
    assert spooled < msgs.index("Quitting.")
    assert s.mails == []
    files = spooled_files(spool)
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(spool).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600

    if not server_up:
        s.start()
    d.start()
    d.wait_for_log(r"^1 alert mail spooled by the last run queued again\.$")
    mail_from, rcpts, raw = s.wait_mails(1, timeout=15)[0]
    assert rcpts == TO
    assert "User input: BOOM1 before the stop" in parse(raw).get_content()
    d.wait_for_log(r'^Alert mail "intrusion" sent to ')
    assert spooled_files(spool) == []


def test_spool_others_can_write_is_not_read(daemon_factory, smtp):
    s = smtp()
    d, spool = daemon_with_spool(daemon_factory,
                                 mail_conf(s.port, spool="@SPOOL@"))
    spool.mkdir(mode=0o700)
    (spool / "1-1-000000.mail").write_text(SPOOLED_MAIL.format("x"))
    (spool / "2-1-000000.mail").write_text("not a spooled mail\n")
    os.chmod(spool, 0o733)
    d.start()
    d.wait_for_log(r"^Cannot read the mail spool .*: Operation not permitted "
                   r"\(it must belong to root and be writable by root only\)")
    os.chmod(spool, 0o700)
    assert d.stop()
    d.start()			# now it is read: the bad file is left alone
    d.wait_for_log(r"/2-1-000000\.mail is not a spooled alert mail: left "
                   r"alone\.$")
    s.wait_mails(1)
    assert s.mails[0][1] == ["root@example.org"]
    assert [p.name for p in spool.iterdir()] == ["2-1-000000.mail"]


def test_spooled_mail_is_sent_with_no_rule_left(daemon_factory, smtp):
    """The alert rules were removed since a run spooled a mail: the next
    start still sends it; the start after that runs no mailer at all."""
    s = smtp()
    d, spool = daemon_with_spool(
        daemon_factory, f"[mail]\nsmtp_url = smtp://127.0.0.1:{s.port}\n"
        f"from = {FROM}\nstarttls = no\nspool = @SPOOL@\n")
    spool.mkdir(mode=0o700)
    (spool / "1-1-000000.mail").write_text(SPOOLED_MAIL.format("gone"))
    d.start()
    d.wait_for_log(r"^1 alert mail spooled by the last run queued again\.$")
    d.wait_for_log(r"^Mail alerts: no rule; mail spooled by the last run "
                   rf"goes through smtp://127\.0\.0\.1:{s.port}\.$")
    s.wait_mails(1)
    assert s.mails[0][1] == ["root@example.org"]
    d.wait_for_log(r'^Alert mail "gone" sent to ')
    assert spooled_files(spool) == []
    assert d.stop()
    d.start()
    d.send(b"after\n").close()
    d.wait_for_message("User input: after")
    assert d.stop()
    assert sum(m.startswith("Mail alerts:") for m in d.messages()) == 1


def spool_rules_conf(port, queue, rules, spool="@SPOOL@"):
    """[mail] with a queue of QUEUE and the spool SPOOL, and RULES rules
    [alert rN] that all match BOOM: one mail each, subject rN, a window."""
    conf = (f"[mail]\nsmtp_url = smtp://127.0.0.1:{port}\nfrom = {FROM}\n"
            f"starttls = no\nretry = 1s\nmax_retries = 30\ntimeout = 5s\n"
            f"queue = {queue}\nspool = {spool}\n")
    for i in range(1, rules + 1):
        conf += (f"[alert r{i}]\nmatch = BOOM\nto = {TO[0]}\n"
                 f"subject = %r\nwindow = 1s\n")
    return conf


def test_full_queue_spool_keeps_the_order_across_a_stop(daemon_factory,
                                                         smtp):
    """Six mails at once, the server down, room for two: the rest goes to
    the spool; a stop writes the queue back before them, so the next run
    sends all six once, in the order they were made, and empties the
    spool."""
    s = smtp(start=False)
    d, spool = daemon_with_spool(daemon_factory,
                                 spool_rules_conf(s.port, 2, 6))
    d.start()
    d.send(b"BOOM now\n").close()
    d.wait_for_log(r"^Mail queue full \(2\): \d alert mails? spooled in "
                   rf"{re.escape(str(spool))}\.$", timeout=10)
    assert d.stop()
    rules = [re.search(r"^rule (\S+)$", p.read_text(), re.M).group(1)
             for p in spooled_files(spool)]
    assert rules == [f"r{i}" for i in range(1, 7)]

    s.start()
    d.start()
    d.wait_for_log(r"^6 alert mails spooled by the last run queued "
                   r"again\.$")
    s.wait_mails(6, timeout=30)
    time.sleep(2)			# nothing more comes
    assert [parse(m[2])["Subject"] for m in s.mails] == \
        [f"r{i}" for i in range(1, 7)]
    d.wait_for_log(r'^Alert mail "r6" sent to ', timeout=5)
    assert spooled_files(spool) == []


def test_full_queue_without_a_usable_spool_drops_the_new_mail(
        daemon_factory, smtp, tmp_path):
    """The spool is under a plain file: a mail the full queue has no room
    for is dropped (logged once for the burst); the others arrive."""
    s = smtp(start=False)
    blocker = tmp_path / "plain-file"
    blocker.write_text("")
    d = daemon_factory(extra=spool_rules_conf(
        s.port, 1, 4, spool=blocker / "spool")).start()
    d.wait_for_log(r"^Cannot read the mail spool .*/plain-file/spool: Not a "
                   r"directory\.$")
    d.send(b"BOOM now\n").close()
    d.wait_for_log(r"^Mail queue full \(1\): 2 alert mails dropped \(cannot "
                   r"spool: Not a directory\)\.$", timeout=10)
    s.start()
    s.wait_mails(2, timeout=30)
    time.sleep(2)			# nothing more comes
    assert sorted(parse(m[2])["Subject"] for m in s.mails) == ["r1", "r2"]
    assert len([m for m in d.messages()
                if m.startswith("Mail queue full")]) == 1


# Runs the binary with PR_SET_MDWE (what MemoryDenyWriteExecute= sets up):
# no memory may be both writable and executable; exit 77 if the kernel
# cannot (before 6.3).
MDWE = ["/usr/bin/python3", "-c",
        "import ctypes, os, sys\n"
        "if ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) != 0:\n"
        "    sys.exit(77)\n"
        "os.execv(sys.argv[1], sys.argv[1:])\n"]


def test_alerts_work_without_jit(daemon_factory, smtp):
    """The shipped unit sets MemoryDenyWriteExecute=, under which PCRE2's
    JIT cannot work: the rules run interpreted, and the log says so."""
    s = smtp()
    d = daemon_factory(extra=mail_conf(s.port))
    launch = d.run(prefix=MDWE)
    if launch.rc == 77:
        pytest.skip("this kernel has no PR_SET_MDWE")
    assert launch.rc == 0, launch.err
    d.pid = d.read_lock_pid()
    d.wait_for_log(r"^Mail alerts: PCRE2's JIT refused 1 pattern \(memory "
                   r"both writable and executable is denied, .*\): they "
                   r"run interpreted, more slowly\.$")
    d.send(b"left BOOM77 right\n").close()
    mail_from, rcpts, raw = s.wait_mails(1)[0]
    assert "BOOM77" in parse(raw)["Subject"]
    assert d.stop()


def test_jit_is_used_where_allowed(daemon_factory, smtp):
    s = smtp()
    d = daemon_factory(extra=mail_conf(s.port)).start()
    d.wait_for_log(r"^Mail alerts: 1 rule")
    assert d.stop()
    assert not any("JIT" in m for m in d.messages())


def test_bad_regex_is_reported_with_its_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("[mail]\nfrom = a@example.org\n\n[alert broken]\n"
                    "to = a@example.org\nmatch = (unclosed[\n")
    launch = run_binary(["-t", "-c", str(conf)])
    assert launch.rc == 1
    assert re.search(rf"^{re.escape(str(conf))}:6: match: bad regular "
                     r"expression at offset \d+: ", launch.err, re.M), \
        launch.err


def test_world_readable_password_warns(daemon_factory, smtp):
    s = smtp()
    d = daemon_factory(extra=mail_conf(s.port).replace(
        "starttls = no\n", "starttls = required\nuser = md\npassword = "
        "s3cret-pw\n"))
    os.chmod(d.conf, 0o644)
    d.start()
    d.wait_for_log(r"holds the SMTP password and is readable by everyone")
    assert "s3cret-pw" not in d.log_text()


class AuthCollector(Collector):
    """Accepts one user/password pair (only over TLS: aiosmtpd's default)."""

    def __init__(self, user, password):
        super().__init__()
        self.user, self.password = user, password
        self.logins = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult
        ok = (auth_data.login == self.user.encode() and
              auth_data.password == self.password.encode())
        self.logins.append((mechanism, ok, session.ssl is not None))
        return AuthResult(success=ok)


def make_cert(tmp_path):
    """A self-signed certificate for 127.0.0.1 (subjectAltName IP)."""
    import subprocess
    key, crt = tmp_path / "smtp.key", tmp_path / "smtp.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
                    "-out", str(crt), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return key, crt


def test_starttls_and_login(daemon_factory, tmp_path):
    import ssl
    key, crt = make_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(crt), str(key))
    handler = AuthCollector("mailer", "s3cret-mail-pw")
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port,
                     ready_timeout=5, tls_context=ctx, require_starttls=True,
                     authenticator=handler, auth_require_tls=True)
    ctl.start()
    try:
        conf = mail_conf(port).replace("starttls = no", "starttls = required")
        conf = conf.replace("[alert intrusion]",
                            f"user = mailer\npassword = s3cret-mail-pw\n"
                            f"ca_file = {crt}\n[alert intrusion]")
        d = daemon_factory(extra=conf)
        os.chmod(d.conf, 0o600)
        d.start()
        sock = d.send(b"BOOM5 over STARTTLS\n")
        assert wait_until(lambda: len(handler.mails) >= 1, 15), \
            d.log_lines()[-8:]
        # logged in with the right password, after STARTTLS
        assert any(ok and tls for _, ok, tls in handler.logins)
        assert handler.mails[0][1] == TO
        assert "s3cret-mail-pw" not in d.log_text()
        sock.close()
    finally:
        ctl.stop()


def test_starttls_required_refuses_a_plain_server(daemon_factory, smtp):
    s = smtp()				# no STARTTLS offered
    conf = mail_conf(s.port).replace("starttls = no", "starttls = required")
    d = daemon_factory(extra=conf).start()
    sock = d.send(b"BOOM6 must not go in clear\n")
    d.wait_for_log(r'^Alert mail "intrusion" not sent: ', timeout=15)
    assert s.mails == []
    sock.close()


def test_smtps_implicit_tls(daemon_factory, tmp_path):
    import ssl
    key, crt = make_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(crt), str(key))
    handler = Collector()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port,
                     ready_timeout=5, ssl_context=ctx)
    ctl.start()
    try:
        conf = mail_conf(port).replace("smtp://", "smtps://")
        conf = conf.replace("[alert intrusion]",
                            f"ca_file = {crt}\n[alert intrusion]")
        d = daemon_factory(extra=conf).start()
        sock = d.send(b"BOOM8 over smtps\n")
        assert wait_until(lambda: len(handler.mails) >= 1, 15), \
            d.log_lines()[-8:]
        assert handler.mails[0][1] == TO
        sock.close()
    finally:
        ctl.stop()


# ---------------------------------------------------------------------------
# Logins never travel in clear (issue 15, item 5): with a user or password,
# STARTTLS is required even when starttls = yes, and the server's
# certificate is verified.  Each SMTP server records the command lines it
# receives (aiosmtpd logs each one to the "mail.log" logger), so a test
# can see that no AUTH ever reached it.
# ---------------------------------------------------------------------------

MAIL_USER, MAIL_PW = "mailer", "s3cret-mail-pw"


class SessionLines(logging.Handler):
    """Every SMTP command line an aiosmtpd server in this process reads."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        if record.msg == "%r >> %r" and len(record.args) == 2:
            line = record.args[1]
            self.lines.append(line.decode("ascii", "replace")
                              if isinstance(line, bytes) else str(line))

    def commands(self):
        return [ln.split(" ", 1)[0].upper() for ln in self.lines]


@pytest.fixture
def smtp_session():
    """Record the command lines of the SMTP servers of one test."""
    logger = logging.getLogger("mail.log")
    rec, level = SessionLines(), logger.level
    logger.addHandler(rec)
    logger.setLevel(logging.INFO)
    yield rec
    logger.removeHandler(rec)
    logger.setLevel(level)


@pytest.fixture
def login_server(tmp_path):
    """An aiosmtpd server accepting MAIL_USER/MAIL_PW, with STARTTLS (a
    self-signed certificate, required before anything else) or without
    (AUTH then offered in clear, as a man in the middle would)."""
    ctls = []

    def make(tls):
        import ssl
        handler = AuthCollector(MAIL_USER, MAIL_PW)
        kw = dict(authenticator=handler, auth_require_tls=tls)
        crt = None
        if tls:
            key, crt = make_cert(tmp_path)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(crt), str(key))
            kw.update(tls_context=ctx, require_starttls=True)
        port = free_port()
        ctl = Controller(handler, hostname="127.0.0.1", port=port,
                         ready_timeout=5, **kw)
        ctl.start()
        ctls.append(ctl)
        return port, handler, crt

    yield make
    for ctl in ctls:
        ctl.stop()


def login_conf(port, starttls="starttls = yes\n", extra=""):
    """mail_conf with a login, one attempt only (retry in an hour) and a
    spool (@SPOOL@, see daemon_with_spool)."""
    conf = mail_conf(port, spool="@SPOOL@").replace(
        "retry = 1s", "retry = 1h")
    login = f"user = {MAIL_USER}\npassword = {MAIL_PW}\n{extra}"
    return conf.replace("starttls = no\n", f"{starttls}{login}")


def assert_kept_in_spool(d, spool):
    """The mail that failed is spooled at the stop, password nowhere."""
    assert d.stop()
    assert "1 alert mail spooled in " in d.log_text()
    files = spooled_files(spool)
    assert len(files) == 1
    assert "BOOM" in files[0].read_text()
    assert MAIL_PW not in files[0].read_text()
    assert MAIL_PW not in d.log_text()


@pytest.mark.parametrize("starttls", ["starttls = yes\n", ""],
                         ids=["yes", "default"])
def test_login_is_not_sent_to_a_server_without_starttls(
        daemon_factory, login_server, smtp_session, starttls):
    port, handler, _ = login_server(tls=False)
    d, spool = daemon_with_spool(daemon_factory, login_conf(port, starttls))
    os.chmod(d.conf, 0o600)
    d.start()
    d.send(b"BOOM1 must not go in clear\n").close()
    assert wait_until(lambda: "AUTH" in smtp_session.commands() or any(
        "not sent" in m for m in d.messages_raw()), 15)
    assert "AUTH" not in smtp_session.commands(), smtp_session.lines
    d.wait_for_log(r'^Alert mail "intrusion" not sent: STARTTLS not '
                   r'supported, and a login or starttls = required needs '
                   r'TLS: nothing sent in clear; retry 1 of 20 in 3600s\.$',
                   timeout=15)
    assert "EHLO" in smtp_session.commands()
    assert "AUTH" not in smtp_session.commands(), smtp_session.lines
    assert not any(MAIL_PW in ln for ln in smtp_session.lines)
    assert "MAIL" not in smtp_session.commands()
    assert handler.logins == [] and handler.mails == []
    assert sum("not sent" in m for m in d.messages()) == 1
    assert_kept_in_spool(d, spool)


def test_self_signed_certificate_is_refused_without_its_ca(
        daemon_factory, login_server, smtp_session):
    port, handler, _ = login_server(tls=True)
    d, spool = daemon_with_spool(daemon_factory, login_conf(port))
    os.chmod(d.conf, 0o600)
    d.start()
    d.send(b"BOOM2 to an unknown server\n").close()
    assert wait_until(lambda: "AUTH" in smtp_session.commands() or any(
        "not sent" in m for m in d.messages_raw()), 15)
    assert "AUTH" not in smtp_session.commands(), smtp_session.lines
    d.wait_for_log(r'^Alert mail "intrusion" not sent: the server\'s TLS '
                   r'certificate is refused \(.*\): give its CA in ca_file; '
                   r'retry 1 of 20 in 3600s\.$', timeout=15)
    assert smtp_session.commands()[:2] == ["EHLO", "STARTTLS"]
    assert "AUTH" not in smtp_session.commands(), smtp_session.lines
    assert "DATA" not in smtp_session.commands()
    assert handler.logins == [] and handler.mails == []
    assert_kept_in_spool(d, spool)


@pytest.mark.parametrize("trust", ["ca_file", "tls_verify_no"])
def test_starttls_login_with_a_trusted_or_unchecked_certificate(
        daemon_factory, login_server, smtp_session, trust):
    port, handler, crt = login_server(tls=True)
    extra = f"ca_file = {crt}\n" if trust == "ca_file" else \
        "tls_verify = no\n"
    d, spool = daemon_with_spool(daemon_factory, login_conf(port,
                                                            extra=extra))
    os.chmod(d.conf, 0o600)
    d.start()
    warn = (r"^\[mail\] tls_verify = no: the SMTP server's certificate is "
            r"not checked, so anyone on the way can pose as the server and "
            r"get the password\.$")
    if trust == "tls_verify_no":
        d.wait_for_log(warn)
    else:
        d.wait_for_log(r"^Mail alerts: 1 rule")
        assert not any("tls_verify" in m for m in d.messages())
    d.send(b"BOOM3 over STARTTLS\n").close()
    assert wait_until(lambda: len(handler.mails) >= 1, 15), \
        d.log_lines()[-8:]
    assert handler.mails[0][1] == TO
    assert handler.logins == [("PLAIN", True, True)] or \
        handler.logins == [("LOGIN", True, True)], handler.logins
    cmds = smtp_session.commands()
    assert cmds.index("STARTTLS") < cmds.index("AUTH") < cmds.index("DATA")
    d.wait_for_log(r'^Alert mail "intrusion" sent to ')
    assert MAIL_PW not in d.log_text()


def test_starttls_no_with_a_login_is_a_config_error(tmp_path):
    def check(text):
        conf = tmp_path / "mail.conf"
        conf.write_text(text)
        os.chmod(conf, 0o600)
        return conf, run_binary(["-t", "-c", str(conf)])

    conf, launch = check(f"[mail]\nsmtp_url = smtp://127.0.0.1:2525\n"
                         f"starttls = no\nfrom = {FROM}\n"
                         f"password = {MAIL_PW}\nuser = {MAIL_USER}\n")
    assert launch.rc == 1
    assert re.search(rf"^{re.escape(str(conf))}:3: starttls: no would send "
                     r"the SMTP user and password in clear", launch.err,
                     re.M), launch.err
    assert MAIL_PW not in launch.err
    # smtps:// is TLS from the start: starttls does not matter.
    conf, launch = check(f"[mail]\nsmtp_url = smtps://127.0.0.1:4650\n"
                         f"starttls = no\nuser = {MAIL_USER}\n"
                         f"password = {MAIL_PW}\n")
    assert launch.rc == 0, launch.err
    # A login in the URL would dodge the rule, and the URL is logged.
    conf, launch = check(f"[mail]\nsmtp_url = smtp://{MAIL_USER}:{MAIL_PW}"
                         f"@127.0.0.1:2525\n")
    assert launch.rc == 1
    assert re.search(rf"^{re.escape(str(conf))}:2: smtp_url: no login in "
                     r"the URL", launch.err, re.M), launch.err
    assert MAIL_PW not in launch.err
    conf, launch = check(f"[mail]\nca_file = {tmp_path}/none.pem\n"
                         f"tls_verify = sometimes\n")
    assert launch.rc == 1
    assert f"{conf}:2: ca_file: {tmp_path}/none.pem: No such file" in \
        launch.err
    assert f"{conf}:3: tls_verify: 'sometimes' is not yes or no" in \
        launch.err


def test_without_login_starttls_yes_still_sends_in_clear(
        daemon_factory, smtp, smtp_session):
    """No secret to protect: a server without STARTTLS still gets the
    mail (starttls = yes means "when offered")."""
    s = smtp()
    d = daemon_factory(extra=mail_conf(s.port).replace(
        "starttls = no", "starttls = yes")).start()
    d.send(b"BOOM4 plain is fine\n").close()
    s.wait_mails(1, timeout=15)
    assert "STARTTLS" not in smtp_session.commands()
    assert "DATA" in smtp_session.commands()
    d.wait_for_log(r'^Alert mail "intrusion" sent to ')

# -- the documented examples (issue 16, item 1) -----------------------------
# The [alert NAME] examples of README.md, matt_daemon.conf(5) and
# packaging/matt_daemon.conf, and the patterns the man page gives for
# `match`, are read from those files (never copied here) and run, each in
# a daemon of its own, on a real line, through a real SMTP server: a
# documented example that stops firing fails here.

DOCS = {"README.md": os.path.join(REPO, "README.md"),
        "matt_daemon.conf(5)": os.path.join(REPO, "man", "matt_daemon.conf.5"),
        "packaging/matt_daemon.conf": os.path.join(REPO, "packaging",
                                                   "matt_daemon.conf")}

# For each documented pattern, a line it must fire on and one it must not
# (None: every client line matches it).  Keyed by the pattern: an example
# added or changed in the documentation fails
# test_every_documented_alert_example_has_sample_lines until it has its
# lines here.
EXAMPLE_LINES = {
    "disk .* (9[0-9]|100)%": ("disk /srv 97% full", "disk /srv 87% full"),
    "(?i)(failed password|permission denied)": (
        "sshd[7]: FAILED PASSWORD for root", "sshd[7]: password accepted"),
    "segfault|kernel panic": ("app[42]: segfault at 0 ip 0",
                              "app[42]: exited normally"),
    "ERROR [0-9]{3,}": ("ERROR 503 from upstream", "ERROR 42 from upstream"),
    "^User input:": ("anything at all", None),
    "(?i)": ("Anything At All", None),
    "[0-9]+": ("disk 7 is gone", "no digit here"),
}

ALERT_HEAD = re.compile(r"^\[alert(?: ([^\]]*))?\]$")
KEY_LINE = re.compile(r"^([a-z_]+)\s*=\s*(.*?)\s*$")


def alert_sections(lines, doc):
    """[(doc, where, name, {key: value})] of the [alert NAME] sections in
    LINES of DOC,
    which are stripped (None: a line to skip).  A section ends at the
    first line that is no key = value (blank, another section, prose)."""
    out, keys = [], None
    for line in lines:
        if line is None:
            continue
        m = ALERT_HEAD.match(line)
        if m:
            keys = {}
            out.append((doc, f"{doc} [alert {m.group(1)}]",
                        m.group(1) or "x", keys))
        elif keys is not None and KEY_LINE.match(line):
            k, v = KEY_LINE.match(line).groups()
            keys[k] = v
        else:
            keys = None
    return out


def roff_text(s):
    """The text of a roff argument: \\e is a backslash, \\& and \\- are
    nothing and a hyphen."""
    return s.replace("\\&", "").replace("\\-", "-").replace("\\e", "\\")


def man_examples(man, doc="matt_daemon.conf(5)"):
    """The example rules of man page text MAN: [alert NAME] sections of its
    literal displays, and the patterns its `match` item gives, each a rule
    of its own."""
    literal = [roff_text(ln.strip()) for block in re.findall(
        r"^\.Bd -literal[^\n]*\n(.*?)^\.Ed$", man, re.M | re.S)
        for ln in block.splitlines() + [""]]
    out = alert_sections(literal, doc)
    item = re.search(r"^\.It Cm match No = Ar regex\n(.*?)^\.(?:It|El)\b",
                     man, re.M | re.S)
    assert item, f"no `match` item in {doc}"
    seen = set()
    for q in re.findall(r"^\.Ql (.*)$", item.group(1), re.M):
        q = roff_text(re.sub(r"(?: [,.;:)])+$", "", q))  # mdoc punctuation
        if q not in seen:
            seen.add(q)
            out.append((doc, f"{doc} match example `{q}`", "example",
                        {"match": q}))
    return out


def conf_lines(text):
    """The lines of a configuration whose settings are commented out:
    "#key = value" is a setting, "# text" a comment (None: skipped)."""
    return [ln[1:] if ln.startswith("#") and not ln.startswith("# ")
            else None if ln.startswith("# ") else ln
            for ln in text.splitlines()]


def documented_alert_examples():
    """Every documented example rule: (doc, where, name, {key: value})."""
    text = {}
    for doc, path in DOCS.items():
        with open(path, encoding="utf-8") as f:
            text[doc] = f.read()
    return (alert_sections([ln.strip() for ln in
                            text["README.md"].splitlines()], "README.md") +
            alert_sections(conf_lines(text["packaging/matt_daemon.conf"]),
                           "packaging/matt_daemon.conf") +
            man_examples(text["matt_daemon.conf(5)"]))


def test_example_readers_read_each_format():
    """What the readers above find, on made-up text of each kind."""
    assert alert_sections(["x", "[alert a b]", "match = x(a)",
                           "to = o@example.org", "", "window = 1s",
                           "[alert c]", "match = y", "[mail]", "to = z"],
                          "D") == [
        ("D", "D [alert a b]", "a b", {"match": "x(a)",
                                       "to": "o@example.org"}),
        ("D", "D [alert c]", "c", {"match": "y"})]
    assert conf_lines("# a [alert] rule:\n#[alert r]\n#match = a|b\n") == \
        [None, "[alert r]", "match = a|b"]
    man = ("text\n.Bd -literal -offset indent\n[alert m]\n"
           "match = \\ed+\\-x\\&\n.Ed\n.Bl -tag\n"
           ".It Cm match No = Ar regex\nsee\n.Ql a|b ,\n.Ql (?i) .\n"
           ".Ql a|b\n.It Cm level\n.Ql not this\n")
    assert man_examples(man, "M") == [
        ("M", "M [alert m]", "m", {"match": "\\d+-x"}),
        ("M", "M match example `a|b`", "example", {"match": "a|b"}),
        ("M", "M match example `(?i)`", "example", {"match": "(?i)"})]


EXAMPLES = documented_alert_examples()


def test_every_documented_alert_example_has_sample_lines():
    docs = {doc for doc, _, _, _ in EXAMPLES}
    # Each of the three has examples today: finding none is a parse error.
    assert docs == set(DOCS), f"examples found only in {docs}"
    patterns = {}
    for _, where, _, keys in EXAMPLES:
        assert "match" in keys, f"{where}: no match = line"
        patterns.setdefault(keys["match"], where)
    missing = {p: w for p, w in patterns.items() if p not in EXAMPLE_LINES}
    assert not missing, ("documented alert examples without sample lines in "
                         f"EXAMPLE_LINES: {missing}")
    stale = set(EXAMPLE_LINES) - set(patterns)
    assert not stale, f"EXAMPLE_LINES for examples no longer documented: " \
        f"{stale}"


def digest_lines(smtp_server):
    """The records listed in the mails received so far."""
    return [ln for _, _, raw in smtp_server.mails
            for ln in parse(raw).get_content().replace("\r\n", "\n")
            .splitlines()]


@pytest.mark.parametrize("where,name,keys", [e[1:] for e in EXAMPLES],
                         ids=[e[1] for e in EXAMPLES])
def test_documented_alert_example_fires(daemon_factory, smtp, where, name,
                                        keys):
    if keys.get("match") not in EXAMPLE_LINES:
        pytest.fail(f"{where}: no sample line in EXAMPLE_LINES")
    hit, miss = EXAMPLE_LINES[keys["match"]]
    s = smtp()
    # The example as documented, but for a window short enough to wait.
    rule = dict(keys, window="1s")
    rule.setdefault("to", TO[0])
    conf = (f"[mail]\nsmtp_url = smtp://127.0.0.1:{s.port}\nfrom = {FROM}\n"
            "starttls = no\nretry = 1s\nmax_retries = 20\ntimeout = 5s\n"
            f"spool = none\n[alert {name}]\n" +
            "".join(f"{k} = {v}\n" for k, v in rule.items()))
    d = daemon_factory(extra=conf)
    check = d.run("-t")
    assert check.rc == 0, f"{where}: -t says {check.err!r}"
    d.start()
    d.wait_for_log(r"^Mail alerts: 1 rule")
    sock = d.connect()
    if miss is not None:
        sock.sendall(miss.encode() + b"\n")
    sock.sendall(hit.encode() + b"\n")
    d.wait_for_message(f"User input: {hit}")

    def listed(line):
        return any(ln.endswith(f" - User input: {line}")
                   for ln in digest_lines(s))

    assert wait_until(lambda: listed(hit), 15), \
        f"{where}: /{keys['match']}/ sent no mail for {hit!r}: " \
        f"{d.log_lines()[-6:]}"
    # The line before it, in the same window: it would be listed too.
    if miss is not None:
        assert not listed(miss), f"{where}: /{keys['match']}/ fired on " \
            f"{miss!r}"
    sock.close()

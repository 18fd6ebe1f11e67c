"""Metrics: GET /metrics for Prometheus ([metrics] listen) and /stats.

Each test owns its daemon on free loopback ports.  The Prometheus text is
checked by the real promtool, and scraped by a real Prometheus server the
test starts (and ends, by its PID) with a 1 s scrape interval; the values
the test caused come back through Prometheus's HTTP API.  Every wait is
bounded.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from conftest import REPO, free_port, login, recv_line, wait_until, \
    with_admin

BEN_AFK = os.environ.get("BEN_AFK", os.path.join(REPO, "Ben_AFK"))
# Under the sanitizers and valgrind the tools own most of the daemon's
# memory (ASan's quarantine keeps what is freed): RSS says nothing there.
TOOLED = os.environ.get("MATT_SANITIZE") == "1" or \
    os.environ.get("MATT_VALGRIND") == "1"
SAMPLE_RE = re.compile(r"^(matt_daemon_\w+(?:\{.*\})?) (\d+)$")


def metrics_daemon(factory, listen="127.0.0.1", **kw):
    """A daemon (not started) serving metrics on LISTEN and a free port;
    d.mport is that port, d.sock its local socket."""
    mport = free_port()
    host = f"[{listen}]" if ":" in listen else listen
    sockdir = tempfile.mkdtemp(prefix="met_", dir="/tmp")
    extra = kw.pop("extra", "")
    d = factory(local_socket=os.path.join(sockdir, "md.sock"),
                extra=extra + f"[metrics]\nlisten = {host}:{mport}\n", **kw)
    d.mport = mport
    d.mhost = listen
    d.sock = os.path.join(sockdir, "md.sock")
    d.sockdir = sockdir
    return d


@pytest.fixture
def cleanup_dirs():
    dirs = []
    yield dirs
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


def http(host, port, request, timeout=10.0):
    """Send the raw REQUEST (bytes); (status, headers, body, closed) once
    the daemon closed the connection."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(request)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        else:
            raise AssertionError(f"not closed within {timeout}s: {data!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(ln.split(": ", 1) for ln in lines[1:])
    return status, headers, body.decode()


def scrape(d):
    status, headers, body = http(d.mhost, d.mport,
                                 b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200, body
    return headers, body


def samples(text):
    """{NAME{LABELS}: value} of a Prometheus text."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"bad sample line {line!r}"
        out[m.group(1)] = int(m.group(2))
    return out


def stats(d, *args):
    """/stats through Ben_AFK -c on the local socket (root: an admin):
    {NAME{LABELS}: value}, names given the matt_daemon_ prefix."""
    p = subprocess.run([BEN_AFK, "-S", d.sock, "-c", "/stats", *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    m = re.fullmatch(r"\+OK (\d+) stats", lines[0])
    assert m, lines[0]
    assert int(m.group(1)) == len(lines) - 1
    out = {}
    for line in lines[1:]:
        name, value = line.rsplit(" ", 1)
        out["matt_daemon_" + name.strip()] = int(value)
    return out


def log_lines(d, n, tag="metric"):
    """Send N lines on one connection and wait until all are logged."""
    s = d.connect()
    s.sendall("".join(f"{tag} {i}\n" for i in range(n)).encode())
    s.sendall(b"/ping\n")
    assert recv_line(s) == b"+OK pong\n"
    s.close()


def hold_client(d):
    """A session on the port, proved to be served."""
    s = d.connect()
    s.sendall(b"/ping\n")
    assert recv_line(s) == b"+OK pong\n"
    return s


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


# --- the format ------------------------------------------------------------

def test_promtool_accepts_the_metrics(daemon_factory, cleanup_dirs):
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    d.start()
    log_lines(d, 3)
    headers, body = scrape(d)
    assert headers["Content-Type"] == \
        "text/plain; version=0.0.4; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body.encode())
    p = subprocess.run(["promtool", "check", "metrics"], input=body,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", \
        p.stdout + p.stderr
    values = samples(body)
    # every sample has its HELP and TYPE
    for name in {re.sub(r"\{.*", "", k) for k in values}:
        assert f"# HELP {name} " in body and f"# TYPE {name} " in body, name
    assert values["matt_daemon_lines_total"] == 3
    assert values['matt_daemon_records_total{level="log"}'] == 3
    assert values['matt_daemon_sink_records_total{sink="main"}'] >= 8
    assert values["matt_daemon_clients_accepted_total"] == 1
    assert values["matt_daemon_clients"] == 0
    assert values["matt_daemon_resident_memory_bytes"] > 0
    assert values["matt_daemon_open_fds"] > 3
    build = [k for k in values if k.startswith("matt_daemon_build_info{")]
    assert len(build) == 1 and 'version="1.0.0"' in build[0] and \
        'tls_library="OpenSSL ' in build[0]


def test_stats_is_the_same_table(daemon_factory, cleanup_dirs):
    d = metrics_daemon(daemon_factory, level="debug")
    cleanup_dirs.append(d.sockdir)
    d.start()
    log_lines(d, 7)
    table = stats(d)
    _, body = scrape(d)
    values = samples(body)
    assert set(table) == set(values)
    # those that cannot change between the two readings
    for k in ["matt_daemon_lines_total", "matt_daemon_bytes_total",
              'matt_daemon_records_total{level="log"}',
              "matt_daemon_clients_accepted_total",
              "matt_daemon_start_time_seconds"]:
        assert table[k] == values[k], k
    assert table["matt_daemon_lines_total"] == 7
    # the /stats session itself was open while it asked
    assert table["matt_daemon_clients"] == 1
    # read-only: logged at DEBUG like /status
    d.wait_for_log(r"^Command from local:uid=0.*: /stats\.$")
    assert [lv for lv, m in d.records() if m.endswith(": /stats.")] == \
        ["DEBUG"]


def test_stats_needs_a_logged_in_user(daemon_factory, cleanup_dirs):
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    with_admin(d)
    d.start()
    s = d.connect()
    s.sendall(b"/stats\n")
    assert recv_line(s) == b"-ERR permission denied\n"
    login(s)
    s.sendall(b"/stats\n")
    head = recv_line(s).decode()
    n = int(re.fullmatch(r"\+OK (\d+) stats\n", head).group(1))
    rows = [recv_line(s).decode() for _ in range(n)]
    assert any(r.startswith("logins_total{method=\"password\","
                            "result=\"ok\"} ") and r.endswith(" 1\n")
                for r in rows), rows
    s.close()


def test_stats_with_auth_off_says_how_to_get_a_role(daemon_factory,
                                                    cleanup_dirs):
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    d.start()
    p = subprocess.run([BEN_AFK, "-p", str(d.port), "-c", "/stats"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and p.stdout == ""
    assert "/stats needs a logged-in user" in p.stderr


# --- what is counted -------------------------------------------------------

def test_refusals_and_logins_are_counted(daemon_factory, cleanup_dirs):
    d = metrics_daemon(daemon_factory, max_clients=1)
    cleanup_dirs.append(d.sockdir)
    with_admin(d)
    d.start()
    s = hold_client(d)
    for _ in range(2):
        x = d.connect()
        assert recv_line(x) == b"-ERR too many clients (max 1)\n"
        x.close()
    s.sendall(b"/auth password tester wrong\n")
    assert recv_line(s) == b"-ERR authentication failed\n"
    login(s)
    values = samples(scrape(d)[1])
    assert values['matt_daemon_clients_refused_total{reason="too_many"}'] \
        == 2
    assert values['matt_daemon_logins_total{method="password",'
                  'result="failed"}'] == 1
    assert values['matt_daemon_logins_total{method="password",'
                  'result="ok"}'] == 1
    assert values["matt_daemon_clients_accepted_total"] == 1
    assert values["matt_daemon_clients"] == 1
    assert values["matt_daemon_max_clients"] == 1
    s.close()


def test_scrapers_are_not_clients(daemon_factory, cleanup_dirs):
    d = metrics_daemon(daemon_factory, max_clients=1)
    cleanup_dirs.append(d.sockdir)
    d.start()
    # three scrapers in the middle of their request hold their slots
    idle = []
    for _ in range(3):
        x = socket.create_connection(("127.0.0.1", d.mport), timeout=10)
        x.sendall(b"GET /metr")
        idle.append(x)
    s = hold_client(d)          # the one slot of port 4242 is still free
    values = samples(scrape(d)[1])
    assert values["matt_daemon_clients"] == 1
    assert values['matt_daemon_clients_refused_total{reason="too_many"}'] \
        == 0
    s.close()
    for x in idle:
        x.close()


# --- the HTTP responder ----------------------------------------------------

@pytest.mark.parametrize("request_bytes,status", [
    (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
    (b"HEAD /metrics HTTP/1.1\r\n\r\n", 405),
    (b"PUT /metrics HTTP/1.1\r\n\r\n", 405),
    (b"GET / HTTP/1.1\r\n\r\n", 404),
    (b"GET /metricsx HTTP/1.1\r\n\r\n", 404),
    (b"GET /metrics/../etc HTTP/1.1\r\n\r\n", 404),
    (b"GET /metrics HTTP/2.0\r\n\r\n", 400),
    (b"GET /metrics\r\n\r\n", 400),
    (b"hello\n\n", 400),
    (b"GET /metrics HTTP/1.1\r\nX: \x00\r\n\r\n", 400),
    (b"GET /metrics HTTP/1.1\r\n" + b"X-Long: " + b"a" * 5000, 431),
], ids=["post", "head", "put", "root", "prefix", "dotdot", "http2", "http09",
        "garbage", "nul", "overlong"])
def test_bad_request_gets_4xx_and_is_closed(daemon_factory, cleanup_dirs,
                                            request_bytes, status):
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    d.start()
    got, headers, _ = http(d.mhost, d.mport, request_bytes)
    assert got == status
    assert headers["Connection"] == "close"
    # and the daemon goes on serving
    assert scrape(d)[0]["Content-Type"].startswith("text/plain")


def test_http_1_0_is_answered(daemon_factory, cleanup_dirs):
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    d.start()
    status, _, body = http(d.mhost, d.mport, b"GET /metrics HTTP/1.0\n\n")
    assert status == 200 and "matt_daemon_lines_total 0" in body


def test_slow_scrapers_are_bounded(daemon_factory, cleanup_dirs):
    """Scrapers that never finish their request hold at most 4 slots, a
    fifth gets a 503, the daemon serves its clients meanwhile, and they
    are closed after the timeout."""
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    d.start()
    slow = []
    for _ in range(4):
        x = socket.create_connection(("127.0.0.1", d.mport), timeout=10)
        x.sendall(b"GET /metrics HTTP/1.1\r\n")
        slow.append(x)
    assert wait_until(lambda: http(d.mhost, d.mport,
                                   b"GET /metrics HTTP/1.1\r\n\r\n")[0]
                      == 503, timeout=5)
    hold_client(d).close()      # port 4242 is served meanwhile
    # closed by the daemon after METRICS_HTTP_TIMEOUT (10 s)
    for x in slow:
        x.settimeout(20)
        assert x.recv(100) == b""
        x.close()
    assert scrape(d)[1]


def test_never_reading_scrapers_cost_bounded_memory(daemon_factory,
                                                    cleanup_dirs):
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    d.start()
    scrape(d)
    before = vm_rss_kib(d.pid)
    held = []
    try:
        for i in range(200):
            # a full request, then never a read; and 64 KiB of headers
            x = socket.create_connection(("127.0.0.1", d.mport), timeout=10)
            x.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            if i % 2:
                x.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
            else:
                try:
                    x.sendall(b"GET /metrics HTTP/1.1\r\nX: " +
                              b"a" * 65536)
                except OSError:
                    pass        # closed by the daemon after 4 KiB
            held.append(x)
            if len(held) > 40:
                held.pop(0).close()
        hold_client(d).close()
        after = vm_rss_kib(d.pid)
    finally:
        for x in held:
            x.close()
    if not TOOLED:
        assert after - before < 1024, (before, after)
    # the held scrapers' slots come free as the daemon sees them close
    got = []
    assert wait_until(lambda: got.append(http(
        d.mhost, d.mport, b"GET /metrics HTTP/1.1\r\n\r\n")) or
        got[-1][0] == 200, 30), got[-1][:2]
    assert samples(got[-1][2])["matt_daemon_lines_total"] == 0


def test_ipv6_listen(daemon_factory, cleanup_dirs):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    d = metrics_daemon(daemon_factory, listen="::1")
    cleanup_dirs.append(d.sockdir)
    d.start()
    log_lines(d, 2)
    assert samples(scrape(d)[1])["matt_daemon_lines_total"] == 2
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", d.mport), timeout=2).close()


@pytest.mark.parametrize("value", ["127.0.0.1", "::1:9242", "[::1]",
                                   "localhost:9242", "127.0.0.1:0",
                                   "[127.0.0.1]:9242"])
def test_bad_listen_is_a_config_error(daemon_factory, value):
    d = daemon_factory(extra=f"[metrics]\nlisten = {value}\n")
    launch = d.run("-t")
    assert launch.rc != 0
    assert re.search(r":\d+: listen: '" + re.escape(value) +
                     r"' is not ADDRESS:PORT", launch.err), launch.err


def test_taken_metrics_port_fails_the_start(daemon_factory, cleanup_dirs):
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    with socket.socket() as s:
        s.bind(("127.0.0.1", d.mport))
        s.listen(1)
        launch = d.run()
    assert launch.rc != 0
    assert f"cannot listen on 127.0.0.1:{d.mport} for metrics" in launch.err


# --- a real Prometheus -----------------------------------------------------

class Prometheus:
    """A Prometheus server of the test's own, scraping the daemon."""

    def __init__(self, tmp, target):
        self.port = free_port()
        conf = tmp / "prometheus.yml"
        conf.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: matt_daemon\n"
            f"    static_configs:\n      - targets: ['{target}']\n")
        self.out = open(tmp / "prometheus.out", "wb")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={conf}",
             f"--storage.tsdb.path={tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.out)

    def get(self, path):
        url = f"http://127.0.0.1:{self.port}{path}"
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode()

    def ready(self):
        try:
            return "Ready" in self.get("/-/ready")
        except OSError:
            return False

    def query(self, expr):
        """The value of instant query EXPR (one series), or None."""
        try:
            data = json.loads(self.get(
                "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
        except OSError:
            return None
        assert data["status"] == "success", data
        result = data["data"]["result"]
        return float(result[0]["value"][1]) if len(result) == 1 else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.out.close()


def test_a_real_prometheus_scrapes_the_daemon(daemon_factory, cleanup_dirs,
                                              tmp_path):
    d = metrics_daemon(daemon_factory)
    cleanup_dirs.append(d.sockdir)
    d.start()
    prom = Prometheus(tmp_path, f"127.0.0.1:{d.mport}")
    try:
        assert wait_until(prom.ready, timeout=60, interval=0.2), \
            (tmp_path / "prometheus.out").read_text()[-2000:]
        # scraped at least once before the lines: the rate has a start
        assert wait_until(lambda: prom.query('up{job="matt_daemon"}') == 1,
                          timeout=30, interval=0.2)
        assert prom.query("matt_daemon_lines_total") == 0
        log_lines(d, 250)
        held = [hold_client(d), hold_client(d)]
        assert wait_until(
            lambda: prom.query("matt_daemon_lines_total") == 250 and
            prom.query("matt_daemon_clients") == 2, timeout=30,
            interval=0.2), (prom.query("matt_daemon_lines_total"),
                            prom.query("matt_daemon_clients"))
        rate = prom.query("rate(matt_daemon_lines_total[1m])")
        assert rate is not None and rate > 0
        assert prom.query('matt_daemon_records_total{level="log"}') == 250
        for s in held:
            s.close()
        assert wait_until(lambda: prom.query("matt_daemon_clients") == 0,
                          timeout=30, interval=0.2)
    finally:
        prom.stop()


def test_every_metric_is_in_the_manual(daemon_factory, cleanup_dirs):
    """Matt_daemon(8), METRICS, lists each family served, no more (with a
    forward target, so that its metrics are there too)."""
    d = metrics_daemon(daemon_factory, extra="[forward]\n"
                       f"target = udp://127.0.0.1:{free_port()}\n")
    cleanup_dirs.append(d.sockdir)
    d.start()
    _, body = scrape(d)
    served = set(re.findall(r"^# TYPE (\w+) ", body, re.M))
    assert "matt_daemon_forward_up" in served
    with open(os.path.join(REPO, "man", "Matt_daemon.8")) as f:
        man = f.read()
    section = man.split("\n.Sh METRICS\n", 1)[1].split("\n.Sh ", 1)[0]
    documented = set(re.findall(r"^\.It Li (matt_daemon_\w+)", section,
                                re.M))
    assert served == documented


def test_forward_figures(daemon_factory, cleanup_dirs):
    """Records sent to a UDP collector of the test's own are counted."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(10)
        d = metrics_daemon(daemon_factory, extra="[forward]\ntarget = "
                           f"udp://127.0.0.1:{rx.getsockname()[1]}\n")
        cleanup_dirs.append(d.sockdir)
        d.start()
        log_lines(d, 3, tag="FWD")
        got = 0
        while got < 3:
            got += b"FWD " in rx.recv(4096)
        target = f'target="udp://127.0.0.1:{rx.getsockname()[1]}"'

        def sent():
            v = samples(scrape(d)[1])
            return v[f"matt_daemon_forward_records_total{{{target}}}"] >= \
                v['matt_daemon_records_total{level="log"}'] and v
        v = wait_until(sent, timeout=10)
        assert v, samples(scrape(d)[1])
        assert v[f"matt_daemon_forward_dropped_total{{{target}}}"] == 0
        assert v[f"matt_daemon_forward_queue{{{target}}}"] == 0


def test_lossless_forward_figures_while_the_target_is_down(daemon_factory,
                                                          cleanup_dirs):
    """A tcp:// target nobody listens on: the forwarder's records wait in
    the log file; the metrics say how many, since when, and that it is
    down (the figures of the forwarder child, not of a queue)."""
    port = free_port()
    state = tempfile.mkdtemp(prefix="met_state_", dir="/tmp")
    cleanup_dirs.append(state)
    d = metrics_daemon(daemon_factory, extra="[forward]\ntarget = "
                       f"tcp://127.0.0.1:{port}\nstate_dir = {state}\n")
    cleanup_dirs.append(d.sockdir)
    d.start()
    log_lines(d, 20, tag="WAIT")
    target = f'target="tcp://127.0.0.1:{port}"'

    def waiting():
        v = samples(scrape(d)[1])
        return v.get(f"matt_daemon_forward_queue{{{target}}}", 0) >= 20 \
            and v.get(f"matt_daemon_forward_oldest_waiting_seconds"
                      f"{{{target}}}", 0) >= 1 and v
    v = wait_until(waiting, timeout=15)
    assert v, samples(scrape(d)[1])
    assert v[f"matt_daemon_forward_up{{{target}}}"] == 0
    assert v[f"matt_daemon_forward_records_total{{{target}}}"] == 0
    assert v[f"matt_daemon_forward_acknowledged_total{{{target}}}"] == 0
    # the forwarder counts records, not bytes: no bytes sample
    assert f"matt_daemon_forward_bytes_total{{{target}}}" not in v


def test_alert_figures(daemon_factory, cleanup_dirs):
    """A rule's matches and its mail, sent to a real SMTP server."""
    from test_mail import Smtp, mail_conf
    s = Smtp().start()
    try:
        d = metrics_daemon(daemon_factory, extra=mail_conf(s.port))
        cleanup_dirs.append(d.sockdir)
        d.start()
        log_lines(d, 2, tag="BOOM1")
        log_lines(d, 2, tag="quiet")
        s.wait_mails(1)

        def counted():
            v = samples(scrape(d)[1])
            return v['matt_daemon_alert_mails_total{result="sent"}'] == 1 \
                and v
        v = wait_until(counted, timeout=10)
        assert v, samples(scrape(d)[1])
        assert v["matt_daemon_alert_matches_total"] == 2
        assert v['matt_daemon_alert_mails_total{result="failed"}'] == 0
        assert v["matt_daemon_alert_mail_queue"] == 0
    finally:
        s.stop()


def test_full_mail_queue_spools_and_every_mail_arrives_once(
        daemon_factory, cleanup_dirs):
    """Six rules mail at once while the SMTP server is down and the queue
    holds two: the rest goes to the spool (counted in /metrics and
    /stats), and once the server is up every mail arrives exactly once,
    the spool ending empty."""
    from test_mail import Smtp, parse, spool_rules_conf, spooled_files
    s = Smtp()				# down: nothing listens yet
    try:
        d = metrics_daemon(daemon_factory,
                           extra=spool_rules_conf(s.port, 2, 6))
        cleanup_dirs.append(d.sockdir)
        spool = d.tmp / "spool"
        d.extra_text = d.extra_text.replace("@SPOOL@", str(spool))
        d.write_config()
        d.start()
        log_lines(d, 1, tag="BOOM")

        def spooled():
            v = samples(scrape(d)[1])
            return v['matt_daemon_alert_mails_total{result="spooled"}'] \
                > 0 and v
        v = wait_until(spooled, timeout=15)
        assert v, samples(scrape(d)[1])
        n = v['matt_daemon_alert_mails_total{result="spooled"}']
        assert n <= 4			# one is being sent, two wait
        assert len(spooled_files(spool)) == n
        st = stats(d)
        assert st['matt_daemon_alert_mails_total{result="spooled"}'] == n
        # One line for the burst (the rules' windows close together).
        d.wait_for_log(rf"^Mail queue full \(2\): {n} alert mails? "
                       rf"spooled in {re.escape(str(spool))}\.$", timeout=5)
        time.sleep(1.5)
        assert len([m for m in d.messages()
                    if m.startswith("Mail queue full")]) == 1
        assert s.mails == []

        s.start()
        s.wait_mails(6, timeout=60)
        assert wait_until(lambda: samples(scrape(d)[1])[
            'matt_daemon_alert_mails_total{result="sent"}'] == 6, 10)
        time.sleep(2)			# nothing more comes
        subjects = sorted(parse(m[2])["Subject"] for m in s.mails)
        assert subjects == [f"r{i}" for i in range(1, 7)], subjects
        assert spooled_files(spool) == []
        v = samples(scrape(d)[1])
        assert v['matt_daemon_alert_mails_total{result="failed"}'] == 0
        assert v['matt_daemon_alert_mails_total{result="spooled"}'] == n
        assert v["matt_daemon_alert_mail_queue"] == 0
    finally:
        s.stop()


def test_tls_required_and_lockout_refusals(daemon_factory, cleanup_dirs,
                                           tmp_path):
    d = metrics_daemon(daemon_factory, extra=(
        f"[tls]\nmode = required\ncert = {tmp_path / 'cert.pem'}\n"
        f"key = {tmp_path / 'key.pem'}\n"))
    cleanup_dirs.append(d.sockdir)
    d.start()
    x = d.connect()
    x.sendall(b"hello\n")
    assert recv_line(x) == b"-ERR TLS required\n"
    x.close()
    v = samples(scrape(d)[1])
    assert v['matt_daemon_clients_refused_total{reason="tls_required"}'] \
        == 1
    assert v['matt_daemon_clients_refused_total{reason="lockout"}'] == 0

    e = metrics_daemon(daemon_factory, sub="lockout",
                       extra="[auth]\nmax_failures = 1\n")
    cleanup_dirs.append(e.sockdir)
    with_admin(e)
    e.start()
    s = e.connect(timeout=30)
    s.sendall(b"/auth password tester wrong\n")
    assert recv_line(s, 30) == b"-ERR authentication failed\n"
    s.sendall(b"/auth password tester wrong again\n")
    assert recv_line(s, 30).startswith(b"-ERR locked out, try again in ")
    s.close()
    v = samples(scrape(e)[1])
    assert v['matt_daemon_clients_refused_total{reason="lockout"}'] == 1
    assert v['matt_daemon_logins_total{method="password",'
             'result="failed"}'] == 1


def test_rotations_and_archives_are_counted(daemon_factory, cleanup_dirs):
    d = metrics_daemon(daemon_factory, extra="[log]\ncompress = gzip\n")
    cleanup_dirs.append(d.sockdir)
    with_admin(d, rotate_min_interval=0)
    d.start()
    s = login(d.connect())
    s.sendall(b"/rotate\n")
    assert recv_line(s) == b"+OK logs rotated\n"
    s.close()

    def archived():
        v = samples(scrape(d)[1])
        return v["matt_daemon_archives_total"] == 1 and v
    v = wait_until(archived, timeout=15)
    assert v, samples(scrape(d)[1])
    assert v["matt_daemon_rotations_total"] == 1
    assert v["matt_daemon_rotation_failures_total"] == 0
    assert v["matt_daemon_archive_failures_total"] == 0

"""A real rsyslogd as the central collector of the forwarding tests.

Collector(base, kind) writes a config into BASE: imtcp ("tcp"), imtcp with
the ossl stream driver ("tls", optionally requiring a client certificate)
or imrelp ("relp"), on a free 127.0.0.1 port, writing every message to one
file as "HOST APP PROCID SEVERITY MSG".  start() runs `rsyslogd -n -f CONF
-i PIDFILE` and waits, bounded, for the port; stop() ends it by the PID it
started, and stop_all() (conftest, after every test) ends those a test
left running.  make_pki() makes a CA, a collector certificate for 127.0.0.1 and
a client certificate with the openssl command.
"""

import os
import shutil
import subprocess

from conftest import free_port, wait_until

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
MODDIR = "/usr/lib/x86_64-linux-gnu/rsyslog"

RUNNING = set()         # collectors started and not stopped yet

TEMPLATE = ("%hostname% %app-name% %procid% %syslogseverity-text% "
            "%msg%\\n")


def have_module(name):
    """Is rsyslog module NAME (imrelp, lmnsd_ossl...) installed?"""
    return os.path.exists(os.path.join(MODDIR, name + ".so"))


def listening(port):
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                return True
    return False


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True, timeout=60)


def make_pki(base, name="pki"):
    """CA, collector and client certificates in BASE/NAME; their paths."""
    d = base / name
    d.mkdir()
    ext = d / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", f"/CN=test CA {name}", "-keyout", "ca.key",
            "-out", "ca.pem", cwd=d)
    for who in ("server", "client"):
        openssl("req", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-subj",
                f"/CN={who}", "-keyout", f"{who}.key", "-out",
                f"{who}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", str(ext), "-out", f"{who}.pem", cwd=d)
    out = subprocess.run(["openssl", "x509", "-in", str(d / "server.pem"),
                          "-noout", "-fingerprint", "-sha256"],
                         capture_output=True, text=True, check=True,
                         timeout=30).stdout
    return {"dir": d, "ca": str(d / "ca.pem"),
            "cert": str(d / "server.pem"), "key": str(d / "server.key"),
            "client_cert": str(d / "client.pem"),
            "client_key": str(d / "client.key"),
            "fingerprint": out.strip().split("=", 1)[1]}


class Collector:
    """One rsyslogd receiving on 127.0.0.1:PORT, writing one file."""

    def __init__(self, base, kind="tcp", pki=None, client_auth=False,
                 port=None):
        self.base = base
        self.kind = kind
        self.port = port or free_port()
        self.proc = None
        base.mkdir(exist_ok=True)
        (base / "work").mkdir(exist_ok=True)
        self.conf = str(base / "rsyslog.conf")
        self.pidfile = str(base / "rsyslogd.pid")
        self.out = str(base / "received.log")
        self.stderr = str(base / "rsyslogd.err")
        glob = f'workDirectory="{base}/work" maxMessageSize="64k"'
        if kind == "tls":
            glob += (f' DefaultNetstreamDriverCAFile="{pki["ca"]}"'
                     f' DefaultNetstreamDriverCertFile="{pki["cert"]}"'
                     f' DefaultNetstreamDriverKeyFile="{pki["key"]}"')
        # No queue of its own: what it took is in the file, in order (an
        # in-memory queue is dropped when rsyslogd stops; several
        # workers may reorder a stream).
        text = (f"global({glob})\n"
                'main_queue(queue.type="Direct")\n')
        if kind in ("relp", "relp-tls"):
            tls = ""
            if kind == "relp-tls":
                tls = (f' tls="on" tls.caCert="{pki["ca"]}"'
                       f' tls.myCert="{pki["cert"]}"'
                       f' tls.myPrivKey="{pki["key"]}"')
            lib = ' tls.tlslib="openssl"' if kind == "relp-tls" else ""
            text += (f'module(load="imrelp"{lib})\n'
                     f'input(type="imrelp" port="{self.port}" '
                     f'address="127.0.0.1"{tls})\n')
        else:
            drv = ""
            if kind == "tls":
                auth = "x509/certvalid" if client_auth else "anon"
                drv = (' StreamDriver.Name="ossl" StreamDriver.Mode="1"'
                       f' StreamDriver.AuthMode="{auth}"')
            text += (f'module(load="imtcp" workerThreads="1"{drv})\n'
                     f'input(type="imtcp" port="{self.port}" '
                     'address="127.0.0.1")\n')
        text += (f'template(name="t" type="string" string="{TEMPLATE}")\n'
                 f'action(type="omfile" file="{self.out}" template="t")\n')
        with open(self.conf, "w") as f:
            f.write(text)

    def start(self, timeout=10):
        with open(self.stderr, "ab") as err:
            self.proc = subprocess.Popen(
                [RSYSLOGD, "-n", "-f", self.conf, "-i", self.pidfile],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        ok = wait_until(lambda: listening(self.port)
                        or self.proc.poll() is not None, timeout=timeout)
        assert ok and self.proc.poll() is None, (
            f"rsyslogd did not start: {open(self.stderr).read()!r}")
        RUNNING.add(self)
        return self

    def stop(self):
        RUNNING.discard(self)
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def lines(self):
        try:
            with open(self.out, "rb") as f:
                return f.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def messages(self, app="Matt_daemon"):
        out = []
        for line in self.lines():
            parts = line.split(" ", 4)
            if len(parts) == 5 and parts[1] == app:
                out.append(parts[4])
        return out

    def count(self, needle):
        """Received lines containing bytes NEEDLE (cheap on big files)."""
        try:
            with open(self.out, "rb") as f:
                return f.read().count(needle)
        except FileNotFoundError:
            return 0

    def wait_count(self, needle, n, timeout):
        ok = wait_until(lambda: self.count(needle) >= n, timeout,
                        interval=0.5)
        assert ok, (f"{self.count(needle)} of {n} lines with {needle!r} "
                    f"received in {timeout}s")


def stop_all():
    """Stop every collector a test started and left running."""
    for col in list(RUNNING):
        col.stop()

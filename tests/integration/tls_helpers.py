"""Helpers shared by test_tls.py and test_auth.py: TLS-enabled daemons,
line-oriented clients (plain or TLS), client certificates, users.

Every wait is bounded; the only processes started here (openssl, the
Matt_daemon maintenance commands) are our own children, waited for or
killed by their Popen handle.
"""

import hashlib
import os
import re
import select
import socket
import ssl
import subprocess
import time

from conftest import BINARY

OPENSSL = "openssl"
CMD_TIMEOUT = 15.0


def tls_section(tmp, mode="optional", cert=None, key=None):
    cert = cert or os.path.join(str(tmp), "tls", "cert.pem")
    key = key or os.path.join(str(tmp), "tls", "key.pem")
    return f"[tls]\nmode = {mode}\ncert = {cert}\nkey = {key}\n"


def auth_section(tmp, mode="optional", **kw):
    lines = ["[auth]", f"mode = {mode}",
             f"users = {os.path.join(str(tmp), 'users')}",
             f"authorized_keys = {os.path.join(str(tmp), 'authorized_keys')}"]
    for k, v in kw.items():
        lines.append(f"{k} = {v}")
    return "\n".join(lines) + "\n"


def make_daemon(factory, tls="optional", auth=None, sub=None, extra="",
                **kw):
    """A daemon (not started) with [tls] (and [auth] if auth is a dict
    with at least "mode") in its own directory."""
    import pathlib
    # the factory makes the directory; compute it the same way
    d = factory(sub, **kw) if sub else factory(**kw)
    text = ""
    if tls is not None:
        text += tls_section(d.tmp, tls)
    if auth is not None:
        auth = dict(auth)
        text += auth_section(d.tmp, auth.pop("mode"), **auth)
    d.extra_text = text + extra
    d.write_config()
    d.cert = os.path.join(str(d.tmp), "tls", "cert.pem")
    d.key = os.path.join(str(d.tmp), "tls", "key.pem")
    d.users = os.path.join(str(d.tmp), "users")
    d.authorized_keys = os.path.join(str(d.tmp), "authorized_keys")
    pathlib.Path(d.tmp, "tls").mkdir(exist_ok=True)
    return d


def run_cmd(args, input=None, timeout=CMD_TIMEOUT):
    """Run a command (ours, bounded); returns CompletedProcess (text)."""
    return subprocess.run(args, input=input, capture_output=True, text=True,
                          timeout=timeout)


def md(d, *args, input=None):
    """Run the Matt_daemon binary with d's config and args."""
    return run_cmd([BINARY, "-c", d.conf] + list(args), input=input)


def add_user(d, name, password, admin=False):
    args = ["--add-user", name] + (["--admin"] if admin else [])
    r = md(d, *args, input=password + "\n")
    assert r.returncode == 0, f"--add-user {name}: rc={r.returncode} " \
        f"out={r.stdout!r} err={r.stderr!r}"
    return r


def add_key(d, name, path, admin=False):
    args = ["--add-key", name, str(path)] + (["--admin"] if admin else [])
    r = md(d, *args)
    assert r.returncode == 0, f"--add-key {name}: rc={r.returncode} " \
        f"out={r.stdout!r} err={r.stderr!r}"
    return r


def make_client_cert(directory, cn="client"):
    """A self-signed EC P-256 client certificate; returns (cert, key)."""
    directory = str(directory)
    os.makedirs(directory, exist_ok=True)
    cert = os.path.join(directory, f"{cn}.crt.pem")
    key = os.path.join(directory, f"{cn}.key.pem")
    r = run_cmd([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                 "-out", cert, "-subj", f"/CN={cn}", "-days", "1"])
    assert r.returncode == 0, r.stderr
    return cert, key


def spki_b64(cert_path):
    """Base64 of the DER SubjectPublicKeyInfo of a PEM certificate."""
    import base64
    r = subprocess.run([OPENSSL, "x509", "-in", cert_path, "-noout",
                        "-pubkey"], capture_output=True, timeout=CMD_TIMEOUT)
    assert r.returncode == 0, r.stderr
    r2 = subprocess.run([OPENSSL, "pkey", "-pubin", "-outform", "DER"],
                        input=r.stdout, capture_output=True,
                        timeout=CMD_TIMEOUT)
    assert r2.returncode == 0, r2.stderr
    return base64.b64encode(r2.stdout).decode()


def fingerprint_of_der(der):
    h = hashlib.sha256(der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


FPR_RE = re.compile(r"^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$")


def openssl_fingerprint(cert_path):
    r = run_cmd([OPENSSL, "x509", "-in", cert_path, "-noout",
                 "-fingerprint", "-sha256"])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split("=", 1)[1]


def client_context(cert=None, key=None, minimum=None, maximum=None,
                   ciphers=None):
    """A client context that accepts any server certificate (the tests pin
    fingerprints themselves)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    return ctx


def client_hello(ctx=None):
    """The bytes of a ClientHello that ctx would send (no network)."""
    ctx = ctx or client_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=False)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


class Conn:
    """A line-oriented client over a plain or TLS socket."""

    def __init__(self, sock, timeout=5.0):
        self.sock = sock
        self.buf = b""
        self.sock.settimeout(timeout)

    @property
    def port(self):
        return self.sock.getsockname()[1]

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self, timeout=5.0):
        """Next line received (with its \\n), bytes; AssertionError on
        timeout or EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no reply line within {timeout}s "
                                     f"(got {self.buf!r})")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            if not chunk:
                raise AssertionError(f"EOF before a reply line "
                                     f"(got {self.buf!r})")
            self.buf += chunk
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def ask(self, line, timeout=5.0):
        """Send a line, return the reply line as str without \\n."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\n")
        return self.line(timeout).decode("utf-8", "replace").rstrip("\n")

    def timed_ask(self, line, timeout=15.0):
        t0 = time.monotonic()
        r = self.ask(line, timeout)
        return r, time.monotonic() - t0

    def sync(self):
        """/ping: every earlier line is in the log files once pong comes."""
        assert self.ask("/ping") == "+OK pong"

    def eof(self, timeout=5.0):
        """Wait for the server to close; returns the bytes received."""
        deadline = time.monotonic() + timeout
        data, self.buf = self.buf, b""
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(4096)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError):
                return data
            except ssl.SSLError:
                return data
            if not chunk:
                return data
            data += chunk
        raise AssertionError(f"no EOF within {timeout}s (got {data!r})")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def plain(d, timeout=5.0):
    return Conn(d.connect(timeout=timeout), timeout)


def tls(d, ctx=None, timeout=5.0, **ctxkw):
    ctx = ctx or client_context(**ctxkw)
    raw = d.connect(timeout=timeout)
    s = ctx.wrap_socket(raw, server_hostname=None)
    return Conn(s, timeout)


def log_everything(d, *extra_paths):
    """Bytes of every file under the log dir plus extra paths."""
    data = b""
    for root, _, files in os.walk(d.logdir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                data += fh.read()
    for p in extra_paths:
        try:
            with open(p, "rb") as fh:
                data += fh.read()
        except FileNotFoundError:
            pass
    return data


class SClient:
    """`openssl s_client -quiet` as a child process we own."""

    def __init__(self, port, cert=None, key=None, extra=()):
        args = [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}",
                "-quiet"]
        if cert:
            args += ["-cert", cert, "-key", key]
        args += list(extra)
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def line(self, timeout=10.0):
        fd = self.p.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"s_client: no line in {timeout}s "
                                     f"(got {self.buf!r})")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise AssertionError(
                        f"s_client ended (got {self.buf!r}, "
                        f"stderr {self.stderr_now()!r})")
                self.buf += chunk
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode("utf-8", "replace").rstrip("\n")

    def stderr_now(self):
        if self.p.poll() is None:
            return "(running)"
        return self.p.stderr.read().decode("utf-8", "replace")

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        if self.p.poll() is None:
            self.p.kill()
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.p.stdout, self.p.stderr):
            f.close()

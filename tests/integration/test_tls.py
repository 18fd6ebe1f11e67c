"""[tls]: TLS on the same port as plain lines (docs/PROTOCOL.md, 1).

Each test owns its daemon, its certificate and key (created in its temp
directory), on a free loopback port.  Python's ssl module is the main
client; `openssl s_client` is used where the issue names it.
"""

import os
import re
import socket
import ssl
import stat
import subprocess
import time

import pytest

from conftest import recv_until_eof
from tls_helpers import (FPR_RE, SClient, client_context, client_hello,
                         fingerprint_of_der, make_daemon, md,
                         openssl_fingerprint, plain, run_cmd, tls)


# --- modes ------------------------------------------------------------------

def test_optional_accepts_tls_and_plain_on_the_same_port(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    t = tls(d)
    p = plain(d)
    t.send("over tls\n")
    p.send("over plain\n")
    t.sync()
    p.sync()
    msgs = d.messages()
    assert "User input: over tls" in msgs
    assert "User input: over plain" in msgs
    t.close()
    p.close()


def test_whoami_says_tls_only_on_tls_sessions(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    t = tls(d)
    p = plain(d)
    assert t.ask("/whoami") == "+OK anonymous, tls"
    assert p.ask("/whoami") == "+OK anonymous"


def test_required_answers_plain_client_with_error_and_closes(daemon_factory):
    d = make_daemon(daemon_factory, "required").start()
    s = d.connect()
    port = s.getsockname()[1]
    s.sendall(b"plain words\n")
    assert recv_until_eof(s) == b"-ERR TLS required\n"
    s.close()
    # logged (with the address), and the plain words are not user input
    d.wait_for_log(rf"127\.0\.0\.1:{port}\b.*TLS|TLS.*127\.0\.0\.1:{port}\b")
    assert not any("plain words" in m for m in d.messages())
    assert d.alive()


def test_required_still_serves_tls(daemon_factory):
    d = make_daemon(daemon_factory, "required").start()
    t = tls(d)
    t.send("secure line\n")
    t.sync()
    assert "User input: secure line" in d.messages()


def test_off_treats_a_client_hello_as_plain_bytes(daemon_factory):
    d = make_daemon(daemon_factory, "off").start()
    hello = client_hello()
    assert hello[:1] == b"\x16"
    p = plain(d)
    p.send(hello + b"\nafter hello\n")
    # no handshake: the first bytes the server sends are our pong
    assert p.ask("/ping") == "+OK pong"
    msgs = d.messages()
    assert "User input: after hello" in msgs
    first = [m for m in msgs if m.startswith("User input: \\x16\\x03\\x01")]
    assert first, f"ClientHello not logged escaped: {msgs[-6:]!r}"


def test_off_python_tls_client_gets_no_handshake(daemon_factory):
    d = make_daemon(daemon_factory, "off").start()
    raw = d.connect(timeout=2.0)
    ctx = client_context()
    with pytest.raises((ssl.SSLError, socket.timeout, OSError)):
        s = ctx.wrap_socket(raw)
        s.close()
    raw.close()
    assert d.alive()


# --- key and certificate ----------------------------------------------------

def test_key_and_cert_created_at_start(daemon_factory):
    d = make_daemon(daemon_factory, "optional")
    assert not os.path.exists(d.key) and not os.path.exists(d.cert)
    d.start()
    st = os.stat(d.key)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_uid == 0
    r = run_cmd(["openssl", "pkey", "-in", d.key, "-noout", "-text"])
    assert r.returncode == 0, r.stderr
    assert "prime256v1" in r.stdout or "P-256" in r.stdout, r.stdout[:300]
    r = run_cmd(["openssl", "x509", "-in", d.cert, "-noout", "-text"])
    assert r.returncode == 0, r.stderr
    assert "prime256v1" in r.stdout or "P-256" in r.stdout
    # the certificate matches the key
    r1 = run_cmd(["openssl", "x509", "-in", d.cert, "-noout", "-pubkey"])
    r2 = run_cmd(["openssl", "pkey", "-in", d.key, "-pubout"])
    assert r1.stdout == r2.stdout


def test_existing_key_and_cert_are_used_not_replaced(daemon_factory):
    d = make_daemon(daemon_factory, "optional")
    r = run_cmd(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:P-256", "-nodes", "-keyout", d.key,
                 "-out", d.cert, "-subj", "/CN=mine", "-days", "2"])
    assert r.returncode == 0, r.stderr
    os.chmod(d.key, 0o600)
    before = open(d.cert, "rb").read()
    d.start()
    assert open(d.cert, "rb").read() == before
    t = tls(d)
    der = t.sock.getpeercert(binary_form=True)
    assert fingerprint_of_der(der) == openssl_fingerprint(d.cert)


def test_fingerprint_matches_the_presented_certificate(daemon_factory):
    d = make_daemon(daemon_factory, "optional")
    r = md(d, "--fingerprint")   # creates the key and cert when missing
    assert r.returncode == 0, r.stderr
    fpr = r.stdout.strip()
    assert FPR_RE.match(fpr), repr(r.stdout)
    assert os.path.exists(d.key) and os.path.exists(d.cert)
    assert stat.S_IMODE(os.stat(d.key).st_mode) == 0o600
    assert fpr == openssl_fingerprint(d.cert)
    d.start()
    t = tls(d)
    der = t.sock.getpeercert(binary_form=True)
    assert fingerprint_of_der(der) == fpr
    # a second --fingerprint is stable (it does not remake the cert)
    assert md(d, "--fingerprint").stdout.strip() == fpr


def test_new_certificate_changes_the_fingerprint(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    old = fingerprint_of_der(tls(d).sock.getpeercert(binary_form=True))
    assert d.stop()
    os.unlink(d.key)
    os.unlink(d.cert)
    d.start()
    new = md(d, "--fingerprint").stdout.strip()
    assert FPR_RE.match(new)
    assert new != old
    assert fingerprint_of_der(tls(d).sock.getpeercert(binary_form=True)) == new


# --- openssl s_client ---------------------------------------------------------

def test_s_client_lines_are_logged(daemon_factory):
    d = make_daemon(daemon_factory, "required").start()
    c = SClient(d.port)
    try:
        c.send("hello from s_client\n")
        c.send("/ping\n")
        assert c.line() == "+OK pong"
        assert "User input: hello from s_client" in d.messages()
        c.send("/whoami\n")
        assert c.line() == "+OK anonymous, tls"
    finally:
        c.close()
    d.wait_for_log(r"^Client disconnected: 127\.0\.0\.1:\d+")
    assert d.alive()


def test_s_client_stdin_eof_flushes_its_lines(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.port}",
                    "-quiet", "-no_ign_eof"],
                   input=b"one\ntwo without newline", capture_output=True,
                   timeout=15)
    d.wait_for_message("User input: one")
    d.wait_for_message("User input: two without newline")


# --- protocol versions ----------------------------------------------------------

def test_tls13_is_negotiated_by_default(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    t = tls(d)
    assert t.sock.version() == "TLSv1.3"


def test_tls12_is_accepted(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    t = tls(d, maximum=ssl.TLSVersion.TLSv1_2)
    assert t.sock.version() == "TLSv1.2"
    t.send("over 1.2\n")
    t.sync()
    assert "User input: over 1.2" in d.messages()


def old_tls_context():
    """A client that offers TLS 1.0/1.1 only, or None if this OpenSSL
    cannot even build such a ClientHello."""
    try:
        ctx = client_context(minimum=ssl.TLSVersion.TLSv1,
                             maximum=ssl.TLSVersion.TLSv1_1,
                             ciphers="DEFAULT:@SECLEVEL=0")
        hello = client_hello(ctx)
    except (ssl.SSLError, ValueError):
        return None
    # ClientHello.legacy_version (after the 5-byte record and 4-byte
    # handshake headers) must be 3.2 (TLS 1.1) at most
    if len(hello) < 11 or hello[0] != 0x16 or hello[9:11] > b"\x03\x02":
        return None
    return ctx


def test_tls11_only_client_is_refused(daemon_factory):
    ctx = old_tls_context()
    if ctx is None:
        pytest.skip("the local OpenSSL cannot offer TLS 1.0/1.1")
    d = make_daemon(daemon_factory, "optional").start()
    raw = d.connect()
    port = raw.getsockname()[1]
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        s = ctx.wrap_socket(raw)
        # should not get here; if it did, show the version
        v = s.version()
        s.close()
        raise AssertionError(f"handshake succeeded with {v}")
    raw.close()
    d.wait_for_log(rf"127\.0\.0\.1:{port}\b")
    assert not any(m.startswith("User input: ") for m in d.messages())
    assert d.alive()
    t = tls(d)
    assert t.ask("/ping") == "+OK pong"


def test_s_client_tls11_is_refused(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    p = subprocess.run(["openssl", "s_client", "-connect",
                        f"127.0.0.1:{d.port}", "-tls1_1", "-cipher",
                        "DEFAULT:@SECLEVEL=0"],
                       input=b"old line\n", capture_output=True, timeout=15)
    err = p.stderr.decode("utf-8", "replace")
    if "no protocols available" in err or "unknown option" in err:
        pytest.skip(f"local openssl cannot speak TLS 1.1: {err[:200]}")
    out = p.stdout.decode("utf-8", "replace")
    # on failure s_client still prints "Protocol : TLSv1.1" (the one it
    # tried) but no cipher
    assert "Cipher is (NONE)" in out, out[-800:]
    assert p.returncode != 0, out[-500:]
    time.sleep(0.2)
    assert not any("old line" in m for m in d.messages())
    assert d.alive()


# --- broken and slow clients -------------------------------------------------------

def test_garbage_after_handshake_byte_is_logged_and_closed(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    s = d.connect()
    port = s.getsockname()[1]
    s.sendall(b"\x16this is not a TLS record at all\n" + b"x" * 300 + b"\n")
    recv_until_eof(s)       # whatever alert it sends, then EOF
    s.close()
    d.wait_for_log(rf"127\.0\.0\.1:{port}\b.*(?i:tls|handshake)|"
                   rf"(?i:tls|handshake).*127\.0\.0\.1:{port}\b")
    assert not any("not a TLS record" in m for m in d.messages())
    assert d.alive()
    p = plain(d)
    assert p.ask("/ping") == "+OK pong"
    t = tls(d)
    assert t.ask("/ping") == "+OK pong"


def test_lone_handshake_byte_then_close(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    s = d.connect()
    s.sendall(b"\x16")
    s.close()
    d.wait_for_log(r"^Client disconnected: ")
    assert d.alive()
    assert tls(d).ask("/ping") == "+OK pong"


def test_stalled_handshake_does_not_block_others(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    hello = client_hello()
    staller = d.connect()
    staller.sendall(hello[:20])         # half a ClientHello, then nothing
    staller2 = d.connect()
    staller2.sendall(b"\x16")           # just the first byte
    time.sleep(0.2)
    t0 = time.monotonic()
    t = tls(d, timeout=3.0)             # third slot: a full TLS session
    t.send("not blocked\n")
    t.sync()
    assert time.monotonic() - t0 < 3.0
    assert "User input: not blocked" in d.messages()
    t.close()
    staller.close()
    staller2.close()


def timed_tls_daemon(factory, mode, timeout="2s"):
    """A daemon with [tls] MODE and handshake_timeout TIMEOUT, started."""
    d = make_daemon(factory, mode)
    d.extra_text = d.extra_text.replace(
        f"mode = {mode}\n", f"mode = {mode}\nhandshake_timeout = {timeout}\n",
        1)
    d.write_config()
    return d.start()


def test_a_stalled_handshake_is_closed_after_handshake_timeout(
        daemon_factory):
    """Three connections that start a TLS handshake and never finish it
    would hold every slot for ever with auth off: each is closed once
    [tls] handshake_timeout is over (never sooner), logged, and the slots
    come back.  A plain client that has not sent its first line yet is
    left alone, as under the subject."""
    d = timed_tls_daemon(daemon_factory, "optional")
    quiet = d.connect()                  # plain, silent: kept
    time.sleep(0.2)
    t0 = time.monotonic()
    stallers = [d.connect() for _ in range(2)]
    stallers[0].sendall(client_hello()[:20])
    stallers[1].sendall(b"\x16")
    ports = [s.getsockname()[1] for s in stallers]
    for s in stallers:
        assert recv_until_eof(s, timeout=10) == b""
    assert time.monotonic() - t0 >= 2.0
    for p in ports:
        d.wait_for_message(f"Client disconnected: 127.0.0.1:{p} (TLS "
                           f"handshake not done within 2s).")
    quiet.sendall(b"still here\n")
    d.wait_for_message("User input: still here")
    assert tls(d).ask("/ping") == "+OK pong"


def test_tls_required_closes_a_client_that_says_nothing(daemon_factory):
    d = timed_tls_daemon(daemon_factory, "required")
    s = d.connect()
    p = s.getsockname()[1]
    assert recv_until_eof(s, timeout=10) == b""
    d.wait_for_message(f"Client disconnected: 127.0.0.1:{p} (TLS "
                       f"handshake not done within 2s).")


def test_client_reading_nothing_after_hello_does_not_block(daemon_factory):
    # sends a whole ClientHello and never reads the server's answer
    d = make_daemon(daemon_factory, "optional").start()
    s = d.connect()
    s.sendall(client_hello())
    p = plain(d, timeout=3.0)
    p.send("plain while tls waits\n")
    p.sync()
    t = tls(d, timeout=3.0)
    assert t.ask("/ping", timeout=3.0) == "+OK pong"
    s.close()


def test_tls_quit_stops_daemon(daemon_factory):
    d = make_daemon(daemon_factory, "required").start()
    t = tls(d)
    t.send("quit\n")
    assert d.wait_gone()
    assert "Request quit." in d.messages()


def test_tls_long_line_split_like_plain(daemon_factory):
    d = make_daemon(daemon_factory, "optional", max_line=64).start()
    t = tls(d)
    t.send(b"a" * 100 + b"\n")
    t.sync()
    msgs = d.messages()
    assert "User input [part 1, continues]: " + "a" * 64 in msgs
    assert "User input [part 2, end]: " + "a" * 36 in msgs


def test_many_tls_lines_arrive_in_order(daemon_factory):
    d = make_daemon(daemon_factory, "required").start()
    t = tls(d)
    n = 20000
    t.send(b"".join(b"line %06d\n" % i for i in range(n)))
    t.sync()
    got = [m for m in d.messages() if m.startswith("User input: line ")]
    assert got == ["User input: line %06d" % i for i in range(n)]


# --- the real port ------------------------------------------------------------------

def port_4242_free():
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.create_connection((addr, 4242), timeout=0.5):
                return False
        except OSError:
            pass
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", 4242))
    except OSError:
        return False
    return True


@pytest.mark.real_paths
def test_s_client_on_port_4242(daemon_factory):
    """The issue's literal command: openssl s_client -connect
    127.0.0.1:4242.  The daemon uses port 4242 but its own lock, log, key
    and certificate in the temp dir, so nothing of a real installation is
    touched; skipped when anything holds 4242."""
    if not port_4242_free():
        pytest.skip("port 4242 is in use")
    d = make_daemon(daemon_factory, "optional", port=4242).start()
    c = SClient(4242)
    try:
        c.send("hello on 4242\n/ping\n")
        assert c.line() == "+OK pong"
    finally:
        c.close()
    assert "User input: hello on 4242" in d.messages()
    assert d.stop()


# --- more edges ---------------------------------------------------------------------

def test_status_reports_the_tls_mode(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    r = tls(d).ask("/status")
    assert r.startswith("+OK version=") and " tls=optional " in r + " ", r
    assert " auth=off" in r


def test_records_already_decrypted_are_processed_without_more_traffic(
        daemon_factory):
    # many small TLS records in a row, then silence: OpenSSL may have read
    # them all from the socket at once, epoll will not fire again
    d = make_daemon(daemon_factory, "optional").start()
    t = tls(d)
    for i in range(200):
        t.send(f"rec {i:03d}\n")
    d.wait_for_message("User input: rec 199", timeout=5.0)
    got = [m for m in d.messages() if m.startswith("User input: rec ")]
    assert got == [f"User input: rec {i:03d}" for i in range(200)]


def test_partial_tls_line_logged_at_abrupt_close(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    t = tls(d)
    t.send("no newline here")
    t.sock.close()          # no close_notify
    d.wait_for_message("User input: no newline here")
    d.wait_for_log(r"^Client disconnected: ")
    assert d.alive()


def test_partial_tls_line_logged_at_clean_close(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    t = tls(d)
    t.send("clean end")
    raw = t.sock.unwrap()   # close_notify
    raw.close()
    d.wait_for_message("User input: clean end")


def test_idle_timeout_closes_a_stalled_handshake(daemon_factory):
    d = make_daemon(daemon_factory, "optional",
                    daemon_extra={"idle_timeout": "1s"}).start()
    s = d.connect()
    s.sendall(client_hello()[:30])
    t0 = time.monotonic()
    recv_until_eof(s, timeout=6.0)
    assert time.monotonic() - t0 < 6.0
    assert d.alive()


def test_idle_timeout_on_tls_session_replies_then_closes(daemon_factory):
    d = make_daemon(daemon_factory, "optional",
                    daemon_extra={"idle_timeout": "1s"}).start()
    t = tls(d)
    assert t.line(timeout=6.0) == b"-ERR idle timeout\n"
    t.eof(timeout=5.0)


def test_tls_refusal_beyond_max_clients(daemon_factory):
    d = make_daemon(daemon_factory, "required", max_clients=1).start()
    t = tls(d)
    t.sync()
    s = d.connect()
    # the refusal is plain text, sent before any TLS
    assert recv_until_eof(s) == b"-ERR too many clients (max 1)\n"
    assert t.ask("/ping") == "+OK pong"


def test_auth_without_tls_or_plaintext_is_a_config_error(daemon_factory):
    d = make_daemon(daemon_factory, "off", dict(mode="optional"))
    r = d.run("-t")
    assert r.rc == 1
    assert "tls" in (r.out + r.err).lower()


def test_bad_tls_mode_is_a_config_error(daemon_factory):
    d = make_daemon(daemon_factory, "sometimes")
    r = d.run("-t")
    assert r.rc == 1
    assert re.search(r":\d+: ", r.err + r.out), r.err


def test_unreadable_cert_path_fails_at_start(daemon_factory, tmp_path):
    d = make_daemon(daemon_factory, "optional")
    with open(d.cert, "w") as f:
        f.write("not a certificate\n")
    with open(d.key, "w") as f:
        f.write("not a key\n")
    os.chmod(d.key, 0o600)
    r = d.run()
    assert r.rc != 0
    assert r.err.strip(), "no error message"
    assert not d.connectable()


def test_replies_to_a_vanished_tls_client_do_not_kill_the_daemon(
        daemon_factory):
    # the client asks a lot and leaves without reading: writing the
    # replies must not raise SIGPIPE in the daemon (it would stop it)
    d = make_daemon(daemon_factory, "optional").start()
    for _ in range(3):
        t = tls(d)
        t.send(b"/ping\n" * 2000)
        t.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          b"\x01\x00\x00\x00\x00\x00\x00\x00")
        t.sock.close()
    time.sleep(0.5)
    assert d.alive(), d.messages()[-4:]
    assert tls(d).ask("/ping") == "+OK pong"


def manual_handshake(sock, ctx, chunk=1, pause=0.0):
    """Client handshake through memory BIOs, sending our bytes to sock
    `chunk` bytes at a time; returns the SSLObject."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        data = out.read()
        for i in range(0, len(data), chunk):
            sock.sendall(data[i:i + chunk])
            if pause:
                time.sleep(pause)
        if done:
            return obj, inc, out
        got = sock.recv(65536)
        if not got:
            raise AssertionError("server closed during the handshake")
        inc.write(got)
    raise AssertionError("handshake did not finish")


def test_client_hello_one_byte_at_a_time(daemon_factory):
    d = make_daemon(daemon_factory, "required").start()
    s = d.connect()
    obj, inc, out = manual_handshake(s, client_context(), chunk=1,
                                     pause=0.001)
    assert obj.version() == "TLSv1.3"
    obj.write(b"slow hello worked\n")
    s.sendall(out.read())
    d.wait_for_message("User input: slow hello worked")
    s.close()


def test_first_byte_then_a_pause(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    s = d.connect()
    hello = client_hello()
    s.sendall(hello[:1])
    time.sleep(0.5)
    # the daemon must still be waiting for the rest, not have decided
    p = plain(d)
    p.sync()
    assert not any(m.startswith("User input: \\x16") for m in d.messages())
    s.close()
    t = tls(d)
    assert t.ask("/ping") == "+OK pong"


def test_plain_first_byte_then_a_pause(daemon_factory):
    d = make_daemon(daemon_factory, "optional").start()
    p = plain(d)
    p.send("h")
    time.sleep(0.3)
    p.send("ello in two parts\n")
    p.sync()
    assert "User input: hello in two parts" in d.messages()


def test_key_readable_by_others_is_refused_at_start(daemon_factory):
    d = make_daemon(daemon_factory, "optional")
    assert md(d, "--fingerprint").returncode == 0
    os.chmod(d.key, 0o644)
    r = d.run()
    assert r.rc == 1
    assert d.key in r.err
    assert not d.connectable()

"""[forward] target = tls://: RFC 5425 to a real rsyslogd (imtcp with the
ossl stream driver), the collector's certificate checked against ca_file
or a pinned SHA-256 fingerprint, with and without a client certificate.
A collector with a wrong certificate gets nothing, and that is logged
once.  Certificates are made by the openssl command in tmp_path.
"""

import os
import time

import pytest

from collector import RSYSLOGD, Collector, have_module, make_pki
from conftest import wait_until

pytestmark = pytest.mark.skipif(
    not os.path.exists(RSYSLOGD) or not have_module("lmnsd_ossl"),
    reason="rsyslogd or rsyslog-openssl is not installed")


def tls_daemon(daemon_factory, port, **keys):
    d = daemon_factory(sub="daemon")
    text = (f"[forward]\ntarget = tls://127.0.0.1:{port}\n"
            f"state_dir = {d.tmp}/state\n")
    for k, v in keys.items():
        text += f"{k} = {v}\n"
    d.extra_text = text
    d.write_config()
    return d.start()


def send(d, lines):
    s = d.connect()
    s.sendall("".join(f"{x}\n" for x in lines).encode())
    s.close()


def delivered(col, d, lines):
    send(d, lines)
    for x in lines:
        assert wait_until(lambda: f"User input: {x}" in col.messages(),
                          timeout=15), (x, col.messages()[-5:])
    # Exactly once each.
    got = col.messages()
    assert all(got.count(f"User input: {x}") == 1 for x in lines)


def test_tls_collector_verified_with_ca_file(daemon_factory, tmp_path):
    pki = make_pki(tmp_path)
    col = Collector(tmp_path / "rsyslog", "tls", pki=pki).start()
    try:
        d = tls_daemon(daemon_factory, col.port, ca_file=pki["ca"])
        delivered(col, d, ["over tls 1", "over tls 2"])
        assert f"started. PID: {d.pid}." in col.messages()
    finally:
        col.stop()


def test_tls_collector_pinned_by_fingerprint(daemon_factory, tmp_path):
    pki = make_pki(tmp_path)
    col = Collector(tmp_path / "rsyslog", "tls", pki=pki).start()
    try:
        d = tls_daemon(daemon_factory, col.port,
                       fingerprint=pki["fingerprint"])
        delivered(col, d, ["pinned 1", "pinned 2"])
    finally:
        col.stop()


def test_tls_client_certificate_accepted(daemon_factory, tmp_path):
    pki = make_pki(tmp_path)
    col = Collector(tmp_path / "rsyslog", "tls", pki=pki,
                    client_auth=True).start()
    try:
        d = tls_daemon(daemon_factory, col.port, ca_file=pki["ca"],
                       cert=pki["client_cert"], key=pki["client_key"])
        delivered(col, d, ["with a client certificate"])
    finally:
        col.stop()


def test_tls_collector_requiring_a_client_cert_gets_none_without(
        daemon_factory, tmp_path):
    pki = make_pki(tmp_path)
    col = Collector(tmp_path / "rsyslog", "tls", pki=pki,
                    client_auth=True).start()
    try:
        d = tls_daemon(daemon_factory, col.port, ca_file=pki["ca"])
        send(d, ["no client certificate"])
        d.wait_for_message("User input: no client certificate")
        time.sleep(4)
        assert col.messages() == []
        assert d.alive()
    finally:
        col.stop()


@pytest.mark.parametrize("trust", ["ca_file", "fingerprint"])
def test_tls_wrong_collector_certificate_gets_nothing(daemon_factory,
                                                      tmp_path, trust):
    """The collector shows a certificate of another CA: the forwarder
    sends nothing, retries, and says so once."""
    ours = make_pki(tmp_path, "ours")
    theirs = make_pki(tmp_path, "theirs")
    col = Collector(tmp_path / "rsyslog", "tls", pki=theirs).start()
    try:
        keys = ({"ca_file": ours["ca"]} if trust == "ca_file" else
                {"fingerprint": ours["fingerprint"]})
        d = tls_daemon(daemon_factory, col.port, **keys)
        send(d, ["secret record"])
        target = f"tls://127.0.0.1:{col.port}"
        d.wait_for_log(rf"^Forwarding to {target}: cannot connect: TLS: ",
                       timeout=10)
        time.sleep(3.5)     # two more attempts (1 s, then 2 s later)
        notes = [m for m in d.messages()
                 if m.startswith(f"Forwarding to {target}: ")]
        assert len(notes) == 1, notes
        assert "certificate" in notes[0], notes
        assert col.messages() == []
        assert col.lines() == []
    finally:
        col.stop()


def test_tls_target_needs_a_way_to_trust_the_collector(daemon_factory):
    d = daemon_factory(sub="daemon")
    d.extra_text = "[forward]\ntarget = tls://127.0.0.1:6514\n"
    d.write_config()
    launch = d.run("-t")
    assert launch.rc != 0
    assert "needs ca_file or fingerprint" in launch.err
    d.extra_text += "fingerprint = 12:34\n"
    d.write_config()
    launch = d.run("-t")
    assert launch.rc != 0
    assert "not a SHA-256 fingerprint" in launch.err

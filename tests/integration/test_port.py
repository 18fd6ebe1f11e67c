"""Startup failures after the lock: port taken, log unusable; listen forms."""

import os
import socket

import pytest

from conftest import pids_with_arg, wait_gone


def assert_nothing_left(d):
    assert not os.path.exists(d.lock), "lock left behind"
    assert all(wait_gone(p, 2) for p in pids_with_arg(d.conf)), \
        "process left behind"


def test_port_taken_fails_with_exact_message(daemon_factory):
    d = daemon_factory()
    with socket.socket() as hold:
        hold.bind(("127.0.0.1", d.port))
        hold.listen(1)
        r = d.run()
        assert r.rc == 1
        assert r.err.strip() == (f"Matt_daemon: cannot listen on 127.0.0.1:"
                                 f"{d.port}: Address already in use")
        assert_nothing_left(d)


def test_port_taken_logs_error_and_quitting(daemon_factory):
    d = daemon_factory()
    with socket.socket() as hold:
        hold.bind(("127.0.0.1", d.port))
        hold.listen(1)
        assert d.run().rc == 1
    assert d.records() == [
        ("INFO", "Started."),
        ("INFO", "Creating server."),
        ("ERROR", f"Cannot listen on 127.0.0.1:{d.port}: Address already in use."),
        ("INFO", "Quitting."),
    ]


def test_port_taken_by_bound_but_not_listening_socket(daemon_factory):
    d = daemon_factory()
    with socket.socket() as hold:
        hold.bind(("127.0.0.1", d.port))
        r = d.run()
        assert r.rc == 1
        assert f"127.0.0.1:{d.port}" in r.err
        assert_nothing_left(d)


def test_log_dir_is_a_regular_file(daemon_factory, tmp_path):
    blocker = tmp_path / "notadir"
    blocker.write_text("I am a file\n")
    d = daemon_factory(log_dir=blocker)
    r = d.run()
    assert r.rc == 1
    assert str(blocker) in r.err, r.err
    assert blocker.read_text() == "I am a file\n"
    assert not d.connectable()
    assert_nothing_left(d)


def test_log_file_is_a_directory(daemon_factory):
    d = daemon_factory()
    os.makedirs(d.logfile)
    r = d.run()
    assert r.rc == 1
    assert d.logfile in r.err or d.logdir in r.err, r.err
    assert not d.connectable()
    assert_nothing_left(d)


def test_listen_star_accepts_ipv4_and_ipv6_loopback(daemon_factory):
    d = daemon_factory(listen="*").start()
    s4 = d.connect("127.0.0.1")
    s4.sendall(b"via v4\n")
    s4.close()
    d.wait_for_message("User input: via v4")
    try:
        s6 = d.connect("::1")
    except OSError as e:
        pytest.skip(f"no IPv6 loopback: {e}")
    s6.sendall(b"via v6\n")
    s6.close()
    d.wait_for_message("User input: via v6")


def test_listen_star_logs_plain_ipv4_peer(daemon_factory):
    d = daemon_factory(listen="*").start()
    s = d.connect("127.0.0.1")
    d.wait_for_message(f"Client connected: 127.0.0.1:{s.getsockname()[1]} (1/3).")
    s.close()


def test_listen_ipv6_literal(daemon_factory):
    d = daemon_factory(listen="::1")
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    d.start()
    s = d.connect("::1")
    s.sendall(b"v6 only\n")
    s.close()
    d.wait_for_message("User input: v6 only")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", d.port), timeout=1).close()


def test_listen_127_does_not_accept_on_other_addresses(daemon_factory):
    d = daemon_factory().start()
    # 127.0.0.2 is loopback too, but not the configured address
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", d.port), timeout=1).close()

"""The `quit` line."""

import os
import time

import pytest

from conftest import recv_until_eof


def quit_tail_ok(d):
    recs = d.records()
    assert recs[-2:] == [("INFO", "Request quit."), ("INFO", "Quitting.")], recs[-5:]


@pytest.mark.parametrize("line", [b"quit\n", b"quit\r\n"])
def test_quit_stops_the_daemon(daemon, line):
    daemon.send_and_close(line)
    assert daemon.wait_gone(), "daemon still alive after quit"
    quit_tail_ok(daemon)
    assert not os.path.exists(daemon.lock)
    assert not daemon.connectable()


def test_quit_is_not_logged_as_user_input(daemon):
    daemon.send_and_close(b"quit\n")
    assert daemon.wait_gone()
    assert not any(m.startswith("User input") for m in daemon.messages())


def test_quit_split_across_packets(daemon):
    s = daemon.connect()
    s.sendall(b"qu")
    time.sleep(0.1)
    s.sendall(b"it\n")
    assert daemon.wait_gone()
    quit_tail_ok(daemon)
    s.close()


def test_lines_before_quit_in_same_packet_are_logged(daemon):
    daemon.send_and_close(b"before\nquit\n")
    assert daemon.wait_gone()
    assert "User input: before" in daemon.messages()
    quit_tail_ok(daemon)


def test_other_clients_get_eof_on_quit(daemon):
    others = [daemon.connect(), daemon.connect()]
    daemon.wait_for_log(r"\(2/3\)\.$")
    daemon.send_and_close(b"quit\n")
    for s in others:
        assert recv_until_eof(s, timeout=5) == b""
    assert daemon.wait_gone()


@pytest.mark.parametrize("line", [b"QUIT\n", b"quit \n", b" quit\n", b"quitx\n",
                                  b"qui\n", b"quit\r\r\n", b"quit\x00\n"])
def test_near_quit_is_just_user_input(daemon, line):
    daemon.send_and_close(line)
    daemon.wait_for_log(r"^User input: ")
    daemon.wait_for_log(r"^Client disconnected")
    assert daemon.alive()
    assert "Request quit." not in daemon.messages()


def test_foreground_quit_exits_0(daemon_factory):
    d = daemon_factory()
    d.start_foreground(stderr=None)
    d.send_and_close(b"quit\n")
    assert d.fg.wait(timeout=5) == 0
    assert not os.path.exists(d.lock)

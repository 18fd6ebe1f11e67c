"""Single instance: the lock file."""

import fcntl
import os
import signal

import pytest

from conftest import START_MESSAGES, pids_with_arg, wait_gone


def test_second_instance_refused_with_exact_message(daemon):
    r = daemon.run()
    assert r.rc == 1
    assert r.err.strip() == f"Can't open :{daemon.lock}"
    assert r.out == ""


def test_second_instance_logs_started_error_quitting(daemon):
    before = len(daemon.records())
    r = daemon.run()
    assert r.rc == 1
    assert daemon.records()[before:] == [
        ("INFO", "Started."),
        ("ERROR", "Error file locked."),
        ("INFO", "Quitting."),
    ]


def test_second_instance_leaves_first_serving_and_lock_intact(daemon):
    r = daemon.run()
    assert r.rc == 1
    assert daemon.alive()
    with open(daemon.lock) as f:
        assert f.read() == f"{daemon.pid}\n"
    daemon.send_and_close("still here\n")
    daemon.wait_for_message("User input: still here")
    # both processes append (O_APPEND): nobody overwrote anybody's lines
    msgs = daemon.messages()
    assert msgs[:6] == START_MESSAGES + [f"started. PID: {daemon.pid}.",
                                         "Started."]
    assert msgs[6:8] == ["Error file locked.", "Quitting."]
    assert msgs[8].startswith("Client connected: ")
    assert msgs[9] == "User input: still here"
    # and only one daemon process uses this config
    assert set(pids_with_arg(daemon.conf)) == {daemon.pid}


def test_lock_is_held_with_flock(daemon):
    fd = os.open(daemon.lock, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_foreign_flock_holder_blocks_start(daemon_factory):
    d = daemon_factory()
    fd = os.open(d.lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = d.run()
        assert r.rc == 1
        assert r.err.strip() == f"Can't open :{d.lock}"
        assert not d.connectable()
        assert os.path.exists(d.lock), "the non-holder deleted the lock file"
    finally:
        os.close(fd)


def test_stale_lock_after_sigkill_is_taken_over(daemon_factory):
    d = daemon_factory()
    d.start()
    old = d.pid
    os.kill(old, signal.SIGKILL)
    assert wait_gone(old)
    assert os.path.exists(d.lock)      # SIGKILL cannot clean up
    d.start()
    assert d.pid != old
    with open(d.lock) as f:
        assert f.read() == f"{d.pid}\n"
    d.send_and_close("after takeover\n")
    d.wait_for_message("User input: after takeover")


def test_stale_lock_longer_content_is_truncated(daemon_factory):
    d = daemon_factory()
    with open(d.lock, "w") as f:
        f.write("9999999999999999\ngarbage garbage garbage\n")
    d.start()
    with open(d.lock) as f:
        assert f.read() == f"{d.pid}\n"


def test_symlink_at_lock_path_is_not_followed(daemon_factory, tmp_path):
    d = daemon_factory()
    target = tmp_path / "precious"
    target.write_bytes(b"precious content\n")
    os.chmod(target, 0o600)
    os.symlink(target, d.lock)
    r = d.run()
    if r.rc == 0:
        d.pid = d.read_lock_pid()
        assert not os.path.islink(d.lock)
    else:
        assert r.rc == 1
        assert r.err.strip(), "failure must be explained on stderr"
        assert not d.connectable()
    assert target.read_bytes() == b"precious content\n"
    assert os.stat(target).st_mode & 0o777 == 0o600
    if r.rc == 0:
        assert d.stop()
    assert target.read_bytes() == b"precious content\n"


def test_lock_removed_on_quit(daemon):
    assert daemon.stop()
    assert not os.path.exists(daemon.lock)


def test_lock_removed_on_sigterm(daemon):
    os.kill(daemon.pid, signal.SIGTERM)
    assert daemon.wait_gone()
    assert not os.path.exists(daemon.lock)


def test_restart_after_quit(daemon_factory):
    d = daemon_factory()
    d.start()
    first = d.pid
    assert d.stop()
    d.start()
    assert d.pid != first
    assert d.connectable()

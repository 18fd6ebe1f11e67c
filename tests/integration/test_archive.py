"""Log archiving: rotation by size, by calendar period and on demand,
gzip/zstd compression in a child, pruning, extra sinks, and the faults
(log directory removed, disk full)."""

import gzip
import json
import os
import random
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import LINE_RE, login, wait_until, with_admin

ARCHIVE_RE = re.compile(
    r"^(?P<base>.+)\.(?P<stamp>\d{8}-\d{6})(?:-(?P<n>\d+))?"
    r"(?P<ext>\.gz|\.zst)?$")


def archive_key(name):
    m = ARCHIVE_RE.match(name)
    return (m.group("stamp"), int(m.group("n") or 0))


def archives(logdir, base="matt_daemon.log"):
    """Archive names of `base` in rotation order (oldest first)."""
    out = []
    for name in os.listdir(logdir):
        m = ARCHIVE_RE.match(name)
        if m and m.group("base") == base:
            out.append(name)
    return sorted(out, key=archive_key)


def read_archive(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True,
                              stdout=subprocess.PIPE).stdout
    with open(path, "rb") as f:
        return f.read()


def all_log_bytes(logdir, base="matt_daemon.log"):
    data = b"".join(read_archive(os.path.join(logdir, a))
                    for a in archives(logdir, base))
    live = os.path.join(logdir, base)
    if os.path.exists(live):
        with open(live, "rb") as f:
            data += f.read()
    return data


def disconnected(logdir):
    """A client's disconnection is logged (a file may be mid-rotation)."""
    try:
        return b"Client disconnected" in all_log_bytes(logdir)
    except FileNotFoundError:
        return False


def complete(logdir, ext, total):
    """All `total` user lines are in the logs and the archiver is idle."""
    if not archiving_done(logdir, ext):
        return False
    try:
        return all_log_bytes(logdir).count(b"User input: c=") >= total
    except FileNotFoundError:       # the archiver renamed a file meanwhile
        return False


def archiving_done(logdir, ext):
    names = os.listdir(logdir)
    if any(n.endswith(".tmp") for n in names):
        return False
    return all(a.endswith(ext) for a in archives(logdir))


def flood(port, cid, count):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        buf = b"".join(b"c=%d n=%09d %s\n" % (cid, n, b"x" * 40)
                       for n in range(count))
        s.sendall(buf)


@pytest.mark.parametrize("compress,ext", [("gzip", ".gz"), ("zstd", ".zst"),
                                          ("none", "")])
def test_rotation_under_flood_loses_and_duplicates_nothing(
        daemon_factory, compress, ext):
    if compress == "zstd" and subprocess.run(
            ["sh", "-c", "command -v zstd"], stdout=subprocess.DEVNULL
    ).returncode != 0:
        pytest.skip("zstd command not installed")
    per_client = 20000
    d = daemon_factory(extra=(
        "rotate_size = 64K\n" f"compress = {compress}\n")).start()
    # [log] is the last section written by conftest: the keys land in it.
    threads = [threading.Thread(target=flood, args=(d.port, c, per_client))
               for c in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    total = 3 * per_client
    assert wait_until(lambda: complete(d.logdir, ext, total), timeout=60,
                      interval=0.3), "records or archives incomplete"
    assert len(archives(d.logdir)) >= 20, "expected many rotations"
    data = all_log_bytes(d.logdir)
    seen = {0: [], 1: [], 2: []}
    for line in data.split(b"\n"):
        if not line:
            continue
        assert LINE_RE.match(line.decode()), f"torn or bad line {line!r}"
        m = re.search(rb"User input: c=(\d) n=(\d{9}) ", line)
        if m:
            seen[int(m.group(1))].append(int(m.group(2)))
    for c in range(3):
        assert seen[c] == list(range(per_client)), f"client {c} out of order"
    # No archive exceeds the rotation size by more than one record.
    for a in archives(d.logdir):
        assert len(read_archive(os.path.join(d.logdir, a))) <= 64 * 1024
    assert d.stop()


def test_rotation_cuts_before_the_record_that_would_pass_the_size(
        daemon_factory):
    """Lines sent in big chunks are logged in batches; rotation still cuts
    each file right before the record that would take it past rotate_size,
    not a bound's worth early, and every line is there once, in order."""
    size = 4096
    d = daemon_factory(extra=f"rotate_size = {size}\ncompress = none\n")
    d.start()
    rng = random.Random(7)
    lines = [b"n=%05d %s" % (i, b"y\\" * rng.randrange(0, 120))
             for i in range(3000)]
    s = d.connect()
    s.sendall(b"\n".join(lines) + b"\n")
    s.close()
    assert wait_until(lambda: disconnected(d.logdir), timeout=30,
                      interval=0.3)
    assert d.stop()                 # no rotation while the files are read
    files = [read_archive(os.path.join(d.logdir, a))
             for a in archives(d.logdir)]
    with open(d.logfile, "rb") as f:
        files.append(f.read())
    assert len(files) > 50, "expected many rotations"
    for cur, nxt in zip(files, files[1:]):
        first = nxt[:nxt.index(b"\n") + 1]
        assert len(cur) <= size
        assert len(cur) + len(first) > size, (len(cur), first)
    logged = re.findall(rb"User input: (n=.*)\n", b"".join(files))
    assert logged == [l.replace(b"\\", b"\\\\") for l in lines]


def allocated(path):
    return os.stat(path).st_blocks * 512


def test_blocks_allocated_ahead_under_load_are_freed(daemon_factory):
    """Under a flood the log's blocks are allocated ahead (on ext4 and XFS,
    where it saves work on every write), never past rotate_size; what is
    past the end is freed when the file is closed.  The size never shows
    any of it."""
    size = 4 << 20
    d = daemon_factory(extra=f"rotate_size = {size}\ncompress = none\n")
    os.makedirs(d.logdir, exist_ok=True)
    fs = subprocess.run(["stat", "-f", "-c", "%T", d.logdir],
                        stdout=subprocess.PIPE, text=True).stdout.strip()
    if fs not in ("ext2/ext3", "xfs"):
        pytest.skip(f"blocks are allocated ahead on ext4 and XFS, not {fs}")
    d.start()
    lines = [b"n=%07d %s" % (i, b"z" * 50) for i in range(60000)]
    s = d.connect()
    s.sendall(b"\n".join(lines[:20000]) + b"\n")
    d.wait_for_message("User input: " + lines[19999].decode(), timeout=20)
    live = os.path.getsize(d.logfile)
    assert live < size
    assert allocated(d.logfile) >= live + (1 << 20), "nothing allocated"
    assert allocated(d.logfile) <= size + 4096, "allocated past rotate_size"
    s.sendall(b"\n".join(lines[20000:]) + b"\n")
    s.close()
    assert wait_until(lambda: disconnected(d.logdir), timeout=30,
                      interval=0.3)
    assert d.stop()
    assert archives(d.logdir), "expected a rotation"
    for a in archives(d.logdir):
        path = os.path.join(d.logdir, a)
        assert allocated(path) <= os.path.getsize(path) + 65536, a
    assert allocated(d.logfile) <= os.path.getsize(d.logfile) + 65536
    logged = re.findall(rb"User input: (n=.*)\n", all_log_bytes(d.logdir))
    assert logged == lines


def test_rotate_command_makes_an_archive(daemon_factory):
    d = with_admin(daemon_factory(extra="compress = gzip\n")).start()
    s = login(d.connect())          # /rotate needs an admin
    s.sendall(b"before rotation\n/rotate\n")
    s.settimeout(5)
    assert s.recv(100) == b"+OK logs rotated\n"
    s.sendall(b"after rotation\n")
    assert d.wait_for_message("User input: after rotation")
    assert wait_until(lambda: archiving_done(d.logdir, ".gz")
                      and archives(d.logdir), timeout=10)
    (arch,) = archives(d.logdir)
    old = read_archive(os.path.join(d.logdir, arch)).decode()
    assert "User input: before rotation" in old
    assert "User input: after rotation" not in old
    assert "Log rotated: " + arch[:-3] + "." in d.messages()
    # The command itself is logged, not as user input.
    old_msgs = [LINE_RE.match(l).group(8) for l in old.splitlines()]
    assert any(m.startswith("Command from 127.0.0.1:") and
               m.endswith(": /rotate.") for m in old_msgs)
    assert not any("User input: /rotate" in m for m in old_msgs)
    s.close()
    assert d.stop()


def test_slash_line_that_is_no_command_is_user_input(daemon):
    daemon.send_and_close(b"/etc/passwd\n/rotatex\n")
    assert daemon.wait_for_message("User input: /etc/passwd")
    assert daemon.wait_for_message("User input: /rotatex")


def test_keep_prunes_oldest_archives(daemon_factory):
    d = with_admin(daemon_factory(extra="compress = gzip\nkeep = 2\n"),
                   rotate_min_interval=0).start()
    s = login(d.connect())          # /rotate needs an admin
    s.settimeout(5)
    for i in range(5):
        s.sendall(b"round %d\n/rotate\n" % i)
        assert s.recv(100) == b"+OK logs rotated\n"
        time.sleep(0.05)
    assert wait_until(lambda: len(archives(d.logdir)) == 2 and
                      archiving_done(d.logdir, ".gz"), timeout=10)
    kept = b"".join(read_archive(os.path.join(d.logdir, a))
                    for a in archives(d.logdir))
    assert b"round 4" in kept and b"round 3" in kept
    assert b"round 0" not in kept
    s.close()
    assert d.stop()


def test_max_age_removes_old_archives(daemon_factory, tmp_path):
    d = daemon_factory(extra="max_age = 1d\n")
    os.makedirs(d.logdir, exist_ok=True)
    old = os.path.join(d.logdir, "matt_daemon.log.20200101-000000.gz")
    young = os.path.join(d.logdir, "matt_daemon.log.20200102-000000.gz")
    other = os.path.join(d.logdir, "unrelated.txt")
    for p in (old, young, other):
        with open(p, "wb") as f:
            f.write(b"x")
    past = time.time() - 3 * 86400
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    d.start()
    assert wait_until(lambda: not os.path.exists(old), timeout=10)
    assert os.path.exists(young)
    assert os.path.exists(other)
    assert d.stop()


def test_daily_rotation_at_startup_archives_yesterdays_file(daemon_factory):
    d = daemon_factory(extra="rotate_every = daily\ncompress = gzip\n")
    os.makedirs(d.logdir, exist_ok=True)
    with open(d.logfile, "w") as f:
        f.write("[01/01/2020-10:00:00] [ INFO ] - Matt_daemon: Old.\n")
    past = time.time() - 2 * 86400
    os.utime(d.logfile, (past, past))
    d.start()
    assert wait_until(lambda: archives(d.logdir) and
                      archiving_done(d.logdir, ".gz"), timeout=10)
    (arch,) = archives(d.logdir)
    assert b"Old." in read_archive(os.path.join(d.logdir, arch))
    msgs = d.messages()
    assert "Old." not in msgs
    assert msgs[:2] == ["Log rotated: " + arch[:-3] + ".", "Started."]
    assert d.stop()


def test_json_sink_gets_its_levels_and_rotates(daemon_factory, tmp_path):
    jpath = tmp_path / "security.json"
    d = daemon_factory(extra=(
        "rotate_size = 4K\n"
        f"[sink security]\npath = {jpath}\nlevel = warn\nformat = json\n"
    )).start()
    for i in range(4):
        d.send_and_close(b"hello %d\n" % i)
        assert wait_until(lambda: all_log_bytes(d.logdir).count(
            b"Client disconnected") >= i + 1)
    # Refusal of a 4th client is a WARN record.
    held = [d.connect() for _ in range(3)]
    assert wait_until(lambda: all_log_bytes(d.logdir).count(
        b"Client connected") >= 7)
    extra = d.connect()
    extra.settimeout(5)
    assert extra.recv(100).startswith(b"-ERR")
    assert wait_until(lambda: os.path.exists(jpath) and
                      os.path.getsize(jpath) > 0, timeout=5)
    with open(jpath) as f:
        recs = [json.loads(l) for l in f]
    assert recs and all(r["level"] in ("warn", "error") for r in recs)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$",
                    recs[0]["time"])
    assert recs[0]["program"] == "Matt_daemon"
    assert recs[0]["message"].startswith("Client refused: 127.0.0.1:")
    for s in held + [extra]:
        s.close()
    assert d.stop()


def test_security_sink_takes_only_connection_events(daemon_factory,
                                                    tmp_path):
    spath = tmp_path / "security.log"
    d = daemon_factory(extra=(
        f"[sink security]\npath = {spath}\nlevel = info\n"
        "events = connection, auth\n")).start()
    d.send_and_close(b"secret input\n")
    assert d.wait_for_message("User input: secret input")
    assert d.wait_for_log(r"^Client disconnected: 127\.0\.0\.1:\d+\.$")
    text = spath.read_text()
    lines = text.splitlines()
    assert len(lines) == 2, text
    assert all(LINE_RE.match(l) for l in lines)
    assert "Client connected: 127.0.0.1:" in lines[0]
    assert "Client disconnected: 127.0.0.1:" in lines[1]
    assert "secret input" not in text and "Started." not in text
    assert d.stop()


def test_removed_log_directory_is_recreated(daemon_factory):
    d = daemon_factory().start()
    subprocess.run(["rm", "-rf", d.logdir], check=True)
    assert wait_until(lambda: os.path.exists(d.logfile), timeout=5)
    assert d.wait_for_log(r"^Log file .* was removed or replaced: "
                          r"reopened it\.$")
    d.send_and_close(b"after removal\n")
    assert d.wait_for_message("User input: after removal")
    assert d.stop()


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                        str(mnt)], stderr=subprocess.PIPE)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + r.stderr.decode())
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def test_disk_full_drops_whole_records_and_recovers(daemon_factory,
                                                     tiny_tmpfs, tmp_path):
    d = daemon_factory(log_dir=tiny_tmpfs)
    errpath = tmp_path / "stderr"
    errfile = open(errpath, "wb")
    d.start_foreground(stderr=errfile)
    filler = tiny_tmpfs / "filler"
    # Fill the disk, leaving a little room for the daemon.
    with open(filler, "wb") as f:
        try:
            f.write(b"\0" * (1 << 20))
        except OSError:
            pass
    s = d.connect()
    for i in range(2000):
        s.sendall(b"line %05d %s\n" % (i, b"y" * 50))
    s.close()
    err = wait_until(lambda: b"No space left on device" in
                     errpath.read_bytes(), timeout=10)
    assert err, "no disk-full error on stderr"
    # One clear error, not one per lost record.
    # The stderr sink sees every record: wait until the daemon has read
    # all of them, so that freeing the disk is not followed by more flood.
    assert wait_until(lambda: b"line 01999" in errpath.read_bytes() and
                      b"Client disconnected" in errpath.read_bytes(),
                      timeout=30)
    assert errpath.read_bytes().count(b"records are being dropped") == 1
    os.unlink(filler)
    d.send_and_close(b"after the disk was freed\n")
    assert d.wait_for_message("User input: after the disk was freed",
                              timeout=10)
    assert d.wait_for_log(r"^Writing to .* works again: \d+ records were "
                          r"lost\.$")
    for line in d.log_lines():
        assert LINE_RE.match(line), f"torn line {line!r}"
    assert d.stop()
    errfile.close()

"""[log] level and [sink NAME] extra log files."""

import json

from conftest import LINE_RE, parse_line, recv_until_eof, wait_until


def test_level_warn_drops_info_and_log_records(daemon_factory):
    d = daemon_factory(level="warn", max_clients=1).start()
    s1 = d.connect()
    s1.sendall(b"not at warn\n")
    s2 = d.connect()
    recv_until_eof(s2)
    d.wait_for_log(r"^Client refused: ")
    s1.close()
    recs = d.records()
    assert all(lvl in ("WARN", "ERROR") for lvl, _ in recs), recs
    assert not any("not at warn" in m for _, m in recs)


def test_level_log_keeps_user_input_drops_info(daemon_factory):
    d = daemon_factory(level="log").start()
    d.send_and_close("kept\n")
    d.wait_for_message("User input: kept")
    recs = d.records()
    assert "Started." not in [m for _, m in recs]
    assert all(lvl in ("LOG", "WARN", "ERROR") for lvl, _ in recs), recs


def test_level_error_keeps_lock_error(daemon_factory):
    d = daemon_factory(level="error").start()
    assert d.records() == []
    assert d.run().rc == 1
    assert d.records() == [("ERROR", "Error file locked.")]


def test_text_sink_gets_records_at_its_level(daemon_factory, tmp_path):
    sink = tmp_path / "warn.log"
    d = daemon_factory(max_clients=1, extra=(
        f"[sink warnings]\npath = {sink}\nlevel = warn\nformat = text\n"))
    d.start()
    s1 = d.connect()
    s1.sendall(b"main only\n")
    s2 = d.connect()
    recv_until_eof(s2)
    d.wait_for_log(r"^Client refused: ")
    assert wait_until(lambda: sink.exists() and b"Client refused" in sink.read_bytes())
    lines = sink.read_text().splitlines()
    assert lines
    for line in lines:
        assert LINE_RE.match(line), line
        assert parse_line(line)[0] in ("WARN", "ERROR")
    assert "main only" not in sink.read_text()
    # the main log still has everything (the line may be read after the
    # refusal: wait for it)
    d.wait_for_message("User input: main only")
    assert "main only" not in sink.read_text()
    s1.close()


def test_json_sink_writes_one_object_per_line(daemon_factory, tmp_path):
    sink = tmp_path / "all.json"
    d = daemon_factory(extra=(
        f"[sink j]\npath = {sink}\nlevel = debug\nformat = json\n"))
    d.start()
    d.send_and_close(b'json "quote" \\ \x01 caf\xc3\xa9\n')
    d.wait_for_log(r"^User input: ")
    assert wait_until(lambda: sink.exists() and b"User input" in sink.read_bytes())
    objs = [json.loads(l) for l in sink.read_text().splitlines()]
    assert objs and all(isinstance(o, dict) for o in objs)
    flat = [" ".join(str(v) for v in o.values()) for o in objs]
    assert any("Started." in f for f in flat)
    assert any("caf\u00e9" in f and "quote" in f for f in flat)

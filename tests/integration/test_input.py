"""What clients send and how it lands in the log."""

import os
import random
import socket
import time

import pytest

from conftest import wait_until


def user_inputs(d):
    return [(lvl, m) for lvl, m in d.records() if m.startswith("User input")]


def test_line_is_logged_at_log_level(daemon):
    daemon.send_and_close("toto\n")
    daemon.wait_for_message("User input: toto")
    assert ("LOG", "User input: toto") in daemon.records()


def test_connect_and_disconnect_are_logged_with_peer(daemon):
    s = daemon.connect()
    peer = s.getsockname()[1]
    daemon.wait_for_message(f"Client connected: 127.0.0.1:{peer} (1/3).")
    s.close()
    daemon.wait_for_message(f"Client disconnected: 127.0.0.1:{peer}.")
    recs = daemon.records()
    assert ("INFO", f"Client connected: 127.0.0.1:{peer} (1/3).") in recs
    assert ("INFO", f"Client disconnected: 127.0.0.1:{peer}.") in recs


def test_lines_split_across_packets_are_joined(daemon):
    s = daemon.connect()
    s.sendall(b"hel")
    time.sleep(0.2)
    s.sendall(b"lo wor")
    time.sleep(0.2)
    s.sendall(b"ld\n")
    daemon.wait_for_message("User input: hello world")
    s.close()
    daemon.wait_for_log("^Client disconnected")
    assert [m for _, m in user_inputs(daemon)] == ["User input: hello world"]


def test_several_lines_in_one_packet(daemon):
    daemon.send_and_close("one\ntwo\nthree\n")
    daemon.wait_for_message("User input: three")
    assert [m for _, m in user_inputs(daemon)] == [
        "User input: one", "User input: two", "User input: three"]


def test_trailing_cr_is_dropped(daemon):
    daemon.send_and_close("windows\r\n")
    daemon.wait_for_message("User input: windows")


def test_inner_cr_is_escaped_not_dropped(daemon):
    daemon.send_and_close("a\rb\r\r\n")
    daemon.wait_for_log(r"^User input: ")
    assert [m for _, m in user_inputs(daemon)] == ["User input: a\\x0db\\x0d"]


def test_partial_last_line_logged_on_disconnect(daemon):
    s = daemon.connect()
    s.sendall(b"first\nno newline at end")
    daemon.wait_for_message("User input: first")
    time.sleep(0.1)
    assert "User input: no newline at end" not in daemon.messages()
    s.close()
    daemon.wait_for_message("User input: no newline at end")
    msgs = daemon.messages()
    peer_disc = [i for i, m in enumerate(msgs) if m.startswith("Client disconnected")]
    assert msgs.index("User input: no newline at end") < peer_disc[0]


def test_partial_line_joined_with_its_end_from_same_client_only(daemon):
    a = daemon.connect()
    b = daemon.connect()
    a.sendall(b"AAA")
    b.sendall(b"BBB")
    time.sleep(0.1)
    a.sendall(b"aaa\n")
    b.sendall(b"bbb\n")
    daemon.wait_for_log(r"^User input: ", count=2)
    assert sorted(m for _, m in user_inputs(daemon)) == [
        "User input: AAAaaa", "User input: BBBbbb"]
    a.close()
    b.close()


def _long_line_case(daemon_factory, n, max_line=64):
    d = daemon_factory(max_line=max_line).start()
    payload = bytes((0x41 + i % 26) for i in range(n))
    d.send_and_close(payload + b"\n")
    d.wait_for_log(r"^User input(: | \[part \d+, end\]: )")
    d.wait_for_log("^Client disconnected")
    return d, payload.decode()


def test_line_of_exactly_max_line_is_a_normal_record(daemon_factory):
    d, p = _long_line_case(daemon_factory, 64)
    assert user_inputs(d) == [("LOG", f"User input: {p}")]


def test_line_one_over_max_line_is_cut_in_two_parts(daemon_factory):
    d, p = _long_line_case(daemon_factory, 65)
    assert user_inputs(d) == [
        ("LOG", f"User input [part 1, continues]: {p[:64]}"),
        ("LOG", f"User input [part 2, end]: {p[64:]}"),
    ]


def test_long_line_cut_in_max_line_pieces_with_markers(daemon_factory):
    d, p = _long_line_case(daemon_factory, 64 * 2 + 10)
    assert user_inputs(d) == [
        ("LOG", f"User input [part 1, continues]: {p[:64]}"),
        ("LOG", f"User input [part 2, continues]: {p[64:128]}"),
        ("LOG", f"User input [part 3, end]: {p[128:]}"),
    ]


def test_line_of_exact_multiple_of_max_line_has_no_empty_part(daemon_factory):
    d, p = _long_line_case(daemon_factory, 64 * 3)
    assert user_inputs(d) == [
        ("LOG", f"User input [part 1, continues]: {p[:64]}"),
        ("LOG", f"User input [part 2, continues]: {p[64:128]}"),
        ("LOG", f"User input [part 3, end]: {p[128:]}"),
    ]


def test_long_line_with_crlf_drops_only_the_cr(daemon_factory):
    d = daemon_factory(max_line=64).start()
    p = "x" * 100
    d.send_and_close(p + "\r\n")
    d.wait_for_log(r"end\]: ")
    assert user_inputs(d) == [
        ("LOG", f"User input [part 1, continues]: {p[:64]}"),
        ("LOG", f"User input [part 2, end]: {p[64:]}"),
    ]


def test_max_line_bytes_plus_crlf_is_a_normal_record(daemon_factory):
    d = daemon_factory(max_line=64).start()
    p = "c" * 64
    d.send_and_close(p + "\r\n")
    d.wait_for_log("^Client disconnected")
    assert user_inputs(d) == [("LOG", f"User input: {p}")]


def test_max_line_bytes_then_crlf_in_later_packets_is_a_normal_record(daemon_factory):
    d = daemon_factory(max_line=64).start()
    p = "d" * 64
    s = d.connect()
    s.sendall(p.encode())
    time.sleep(0.15)
    s.sendall(b"\r")
    time.sleep(0.15)
    s.sendall(b"\n")
    d.wait_for_log("^User input")
    s.close()
    d.wait_for_log("^Client disconnected")
    assert user_inputs(d) == [("LOG", f"User input: {p}")]


def test_next_line_after_long_line_is_normal(daemon_factory):
    d = daemon_factory(max_line=64).start()
    d.send_and_close("y" * 70 + "\nshort\n")
    d.wait_for_message("User input: short")
    assert [m for _, m in user_inputs(d)][-1] == "User input: short"
    assert len(user_inputs(d)) == 3


def test_max_line_accepts_k_suffix(daemon_factory):
    d = daemon_factory(max_line="1K").start()
    p = "k" * 1500
    d.send_and_close(p + "\n")
    d.wait_for_log(r"end\]: ")
    assert user_inputs(d) == [
        ("LOG", f"User input [part 1, continues]: {p[:1024]}"),
        ("LOG", f"User input [part 2, end]: {p[1024:]}"),
    ]


def test_default_max_line_is_4096(daemon):
    p = "z" * 4097
    daemon.send_and_close(p + "\n")
    daemon.wait_for_log(r"end\]: ")
    assert user_inputs(daemon) == [
        ("LOG", f"User input [part 1, continues]: {p[:4096]}"),
        ("LOG", f"User input [part 2, end]: {p[4096:]}"),
    ]


def _vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def _sanitized(pid):
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "libasan" in f.read()
    except OSError:
        return False


def test_16mib_line_without_newline_fully_logged_in_bounded_memory(daemon):
    size = 16 * 1024 * 1024
    chunk = bytes((0x61 + i % 26) for i in range(65536))
    s = daemon.connect(timeout=30)
    for _ in range(size // len(chunk)):
        s.sendall(chunk)
    hwm_during = _vm_hwm_kib(daemon.pid)
    s.close()
    nparts = size // 4096
    marker = f"User input [part {nparts}, end]: ".encode()

    def done():
        try:
            with open(daemon.logfile, "rb") as f:
                f.seek(max(0, os.path.getsize(daemon.logfile) - 16384))
                return marker in f.read()
        except OSError:
            return False
    assert wait_until(done, timeout=30, interval=0.1), "last part never logged"
    parts = user_inputs(daemon)
    assert len(parts) == nparts
    total = 0
    expect_all = chunk * (size // len(chunk))
    for i, (lvl, m) in enumerate(parts, 1):
        tag = "end" if i == nparts else "continues"
        prefix = f"User input [part {i}, {tag}]: "
        assert m.startswith(prefix), m[:60]
        body = m[len(prefix):]
        assert len(body) == 4096
        assert body.encode() == expect_all[total:total + 4096]
        total += len(body)
    assert total == size
    hwm = max(_vm_hwm_kib(daemon.pid), hwm_during)
    if hwm >= 16 * 1024 and _sanitized(daemon.pid):
        pytest.skip(f"ASan build: VmHWM {hwm} kB not meaningful")
    assert hwm < 16 * 1024, f"VmHWM {hwm} kB"
    print(f"daemon VmHWM after a 16 MiB line: {hwm} kB")


ESCAPES = [
    (b"nul\x00byte", r"nul\x00byte"),
    (b"\x01\x02\x1f", r"\x01\x02\x1f"),
    (b"tab\there", r"tab\x09here"),
    (b"\x1b[31mred\x1b[0m", r"\x1b[31mred\x1b[0m"),
    (b"del\x7f", r"del\x7f"),
    (b"back\\slash", r"back\\slash"),
    (b"\\x41 is not A", r"\\x41 is not A"),
    (b"bell\x07\x08\x0b\x0c", r"bell\x07\x08\x0b\x0c"),
    (b"\xff", r"\xff"),
    (b"\xfe\xfe", r"\xfe\xfe"),
    (b"stray \x80 cont", r"stray \x80 cont"),
    (b"\xbf", r"\xbf"),
    (b"overlong \xc0\xaf", r"overlong \xc0\xaf"),
    (b"overlong \xc1\xbf", r"overlong \xc1\xbf"),
    (b"overlong3 \xe0\x80\xaf", r"overlong3 \xe0\x80\xaf"),
    (b"overlong4 \xf0\x80\x80\xaf", r"overlong4 \xf0\x80\x80\xaf"),
    (b"surrogate \xed\xa0\x80", r"surrogate \xed\xa0\x80"),
    (b"surrogate \xed\xbf\xbf", r"surrogate \xed\xbf\xbf"),
    (b"too big \xf4\x90\x80\x80", r"too big \xf4\x90\x80\x80"),
    (b"too big \xf5\x80\x80\x80", r"too big \xf5\x80\x80\x80"),
    (b"truncated \xe2\x82", r"truncated \xe2\x82"),
    (b"truncated \xe2\x82x", r"truncated \xe2\x82x"),
    (b"truncated \xe2\x82\xc3\xa9", "truncated \\xe2\\x82\u00e9"),
    (b"truncated4 \xf0\x9f\x98", r"truncated4 \xf0\x9f\x98"),
    (b"C1 \xc2\x80", r"C1 \xc2\x80"),
    (b"C1 \xc2\x85", r"C1 \xc2\x85"),
    (b"C1 \xc2\x9b[31m", r"C1 \xc2\x9b[31m"),
    (b"C1 \xc2\x9f", r"C1 \xc2\x9f"),
    ("caf\u00e9".encode(), "caf\u00e9"),
    ("\u00a0nbsp".encode(), "\u00a0nbsp"),
    ("\u20ac euro".encode(), "\u20ac euro"),
    ("\u65e5\u672c\u8a9e".encode(), "\u65e5\u672c\u8a9e"),
    ("emoji \U0001F600".encode(), "emoji \U0001F600"),
    ("max \U0010FFFF".encode(), "max \U0010FFFF"),
    ("repl \ufffd".encode(), "repl \ufffd"),
    ("bom \ufeff".encode(), r"bom \xef\xbb\xbf"),
]


@pytest.mark.parametrize("raw,logged", ESCAPES,
                         ids=[repr(r)[2:-1][:40] for r, _ in ESCAPES])
def test_escaping(daemon, raw, logged):
    daemon.send_and_close(b"<" + raw + b">\n")
    daemon.wait_for_log(r"^User input: ")
    assert user_inputs(daemon) == [("LOG", f"User input: <{logged}>")]


def test_every_byte_value_escaped_exactly(daemon):
    raw = bytes(b for b in range(256) if b != 0x0a)
    daemon.send_and_close(raw + b"\n")
    daemon.wait_for_log(r"^User input: ")
    expect = []
    for b in raw:
        if b < 0x20 or b >= 0x7f:
            expect.append(f"\\x{b:02x}")
        elif b == 0x5c:
            expect.append("\\\\")
        else:
            expect.append(chr(b))
    assert user_inputs(daemon) == [("LOG", "User input: " + "".join(expect))]


def test_forged_log_line_stays_inside_a_user_input_record(daemon):
    forged = "[25/11/2026-03:41:58] [ INFO ] - Matt_daemon: Quitting."
    daemon.send_and_close(f"x\r{forged}\n{forged}\n".encode())
    daemon.wait_for_log(r"^User input: ", count=2)
    msgs = [m for _, m in user_inputs(daemon)]
    assert msgs == [f"User input: x\\x0d{forged}", f"User input: {forged}"]
    assert "Quitting." not in daemon.messages()


def test_line_separator_cannot_forge_a_second_record(daemon):
    """Issue 15, item 8: U+2028 then a forged record is one record, the
    separator as its bytes, even for a viewer that breaks lines there."""
    forged = "[07/12/2026-00:00:00] [ INFO ] - Matt_daemon: Request quit."
    s = daemon.connect()
    s.sendall(f"D\u2028{forged}\n".encode())
    s.sendall(b"end marker\n")
    s.close()
    daemon.wait_for_message("User input: end marker")
    assert [m for _, m in user_inputs(daemon)] == [
        f"User input: D\\xe2\\x80\\xa8{forged}", "User input: end marker"]
    data = daemon.log_bytes()
    assert "\u2028".encode() not in data
    # str.splitlines() breaks at U+2028, U+2029, U+0085 and the like, too.
    shown = data.decode("utf-8").splitlines()
    assert not [ln for ln in shown if ln.startswith("[07/12/2026-00:00:00]")]
    # the same bytes split at newlines only (the log read again could
    # hold a record written since: the disconnection)
    assert len(shown) == len(data.decode("utf-8").split("\n")[:-1])
    assert "Request quit." not in daemon.messages()


# Issue 15, item 8: what can make a record lie when shown (line breaks,
# bidirectional controls, zero-width characters) is escaped as its bytes;
# what is next to them in Unicode is text and stays as it is.
LIARS = [0x2028, 0x2029, 0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C,
         0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200B, 0x200C,
         0x200D, 0x2060, 0xFEFF]
NEIGHBOURS = [0x2027, 0x202F, 0x2065, 0x206A, 0xFEFE, 0x061B, 0x200A,
              0x00E9, 0x4E2D, 0x1F600]


def test_characters_that_can_make_a_record_lie_are_escaped(daemon):
    s = daemon.connect()
    for cp in LIARS + NEIGHBOURS:
        s.sendall(f"U+{cp:04X} <{chr(cp)}>\n".encode())
    s.sendall(b"end marker\n")
    s.close()
    daemon.wait_for_message("User input: end marker")
    got = {m.split(" ", 3)[2]: m.split(" ", 3)[3]
           for _, m in user_inputs(daemon) if m != "User input: end marker"}
    for cp in LIARS:
        esc = "".join(f"\\x{b:02x}" for b in chr(cp).encode())
        assert got.pop(f"U+{cp:04X}") == f"<{esc}>", f"U+{cp:04X}"
    for cp in NEIGHBOURS:
        assert got.pop(f"U+{cp:04X}") == f"<{chr(cp)}>", f"U+{cp:04X}"
    assert got == {}


def test_no_raw_control_byte_ever_reaches_the_log(daemon):
    junk = [bytes(range(0, 256)), b"\r\r\r\n", b"\x00" * 100 + b"\n",
            b"\x1b]0;title\x07\n", b"\xc2\x9b2J\n", b"\xed\xa0\x80\xed\xb0\x80\n",
            bytes(range(255, -1, -1)) + b"\n", b"tail\x00\x1b"]
    s = daemon.connect()
    for j in junk:
        s.sendall(j)
    s.sendall(b"\nend marker\n")
    s.close()
    daemon.wait_for_message("User input: end marker")
    data = daemon.log_bytes()
    bad = sorted({b for b in data if (b < 0x20 and b != 0x0a) or b == 0x7f})
    assert bad == [], f"raw control bytes in log: {bad}"
    text = data.decode("utf-8")          # raises if invalid UTF-8 got through
    for c in range(0x80, 0xa0):
        assert chr(c) not in text, f"raw C1 U+{c:04X} in log"
    for line in daemon.log_lines():
        assert line.count("] - Matt_daemon: ") >= 1


# Bytes that make the escaper, the framer and the command check work: CR,
# NUL, ESC, DEL, backslash, UTF-8 (valid and not), '/', and the letters of
# "quit" (no command name can be spelt with them).
FUZZ_ALPHABET = [b"a", b"b", b"q", b"u", b"i", b"t", b" ", b"\\", b"\r",
                 b"\x00", b"\x1b", b"\x7f", b"\xc3\xa9", b"\xc3", b"\xff",
                 b"\xe2\x82\xac", b"/"]


SHORT_LENGTHS = [0, 1, 3, 4, 5, 30, 61, 62, 63, 64, 65, 66, 127, 128, 129,
                 300]
# Around the 256 bytes the fast path first makes room for, and max_line 512.
LONG_LENGTHS = [0, 4, 63, 254, 255, 256, 257, 258, 400, 509, 510, 511, 512,
                513, 514, 700]


def random_stream(rng, lines, lengths=SHORT_LENGTHS):
    """Lines around max_line with every ending, a few commands."""
    out = []
    for _ in range(lines):
        n = rng.choice(lengths)
        body = b"".join(rng.choice(FUZZ_ALPHABET) for _ in range(n))
        if rng.random() < 0.05:
            body = rng.choice([b"quit ", b"quitquit", b" quit", b"qui",
                               b"quit\r\r", b"//x", b"/", b"/ quit",
                               b"/ping"])
        if body == b"quit":
            body = b"quit!"         # the one line that would stop it
        out.append(body + rng.choice([b"\n", b"\n", b"\r\n", b"\r\r\n"]))
    return b"".join(out)


def logged_inputs(d):
    return [m for m in d.messages_raw() if m.startswith("User input")]


@pytest.mark.parametrize("seed,max_line", [(1, 64), (2, 64), (3, 64),
                                           (4, 512)])
def test_plain_lines_fast_path_logs_as_the_framer(daemon_factory, seed,
                                                  max_line):
    """Plain lines go straight into the log file's buffer when nothing else
    takes them; with a second sink taking input, every line goes through
    the framer and on_record().  The same stream in the same random chunks
    must give the same records both ways, up to the final quit."""
    rng = random.Random(seed)
    data = random_stream(rng, 4000, SHORT_LENGTHS if max_line == 64 else
                         LONG_LENGTHS) + b"quit\r\nnever logged\n"
    cuts, pos = [], 0
    while pos < len(data):
        step = rng.choice([1, 2, 7, 63, 64, 65, 500, 4096, 70000])
        cuts.append(data[pos:pos + step])
        pos += step
    # debug: /ping, which changes nothing, is logged at DEBUG
    fast = daemon_factory("fast", max_line=max_line, level="debug").start()
    slow = daemon_factory("slow", max_line=max_line, level="debug")
    slow.extra_text = (f"[sink copy]\npath = {slow.tmp}/copy.log\n"
                       "level = log\nevents = input\n")
    slow.write_config()
    slow.start()
    for d in (fast, slow):
        s = d.connect()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for chunk in cuts:
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass                    # the quit went through: it is gone
        d.wait_for_message("Quitting.", timeout=30)
        s.close()
    got, want = logged_inputs(fast), logged_inputs(slow)
    assert len(want) > 4000
    assert got == want
    for d in (fast, slow):
        assert "Request quit." in d.messages_raw()
        assert [m for m in d.messages_raw()
                if m.startswith("Command from")] != []

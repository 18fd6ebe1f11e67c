"""matt_daemon.conf(5) and packaging/matt_daemon.conf list the keys of the
configuration table, no more, no less, each in its section, with the
table's default.

The table is what the parser uses (src/daemon/config*.c): the daemon dumps
it with its developer option --dump-config-table, one "SECTION KEY
DEFAULT" line per key ("-": no default).  In the manual page a key is an
".It Cm KEY No = ..." item of ".Sh THE [SECTION] ..." and its default
the text after "Default:"; in the example file a key is a "#KEY = VALUE"
(or "KEY = VALUE") line under "#[SECTION]" or "#[SECTION NAME]", and
VALUE is the default.  A key without a default in the table may show any
example value.
"""

import os
import re

from conftest import REPO, run_binary

MAN5 = os.path.join(REPO, "man", "matt_daemon.conf.5")
EXAMPLE = os.path.join(REPO, "packaging", "matt_daemon.conf")


def table():
    """{(section, key): default or None}, from the daemon itself."""
    launch = run_binary(["--dump-config-table"])
    assert launch.rc == 0, launch.err
    keys = {}
    for line in launch.out.splitlines():
        section, key, default = line.split(" ", 2)
        assert (section, key) not in keys, line
        keys[(section, key)] = None if default == "-" else default
    assert len(keys) >= 60, launch.out
    return keys


def man_value(text):
    """The default in the roff TEXT that follows "Default:"."""
    text = text.strip()
    first = text.split("\n", 1)[0].strip()
    if first == "" or first.startswith("."):
        # On the next line, as a macro: ".Cm info ." or ".Ql * ."
        line = text.split("\n", 1)[0] if first else \
            text.split("\n", 2)[1]
        m = re.match(r"\.(?:Cm|Pa|Ql|Li) (.*?)(?: [.,;])?$", line.strip())
        assert m, f"cannot read a default in {line!r}"
        return m.group(1)
    return re.sub(r"\.$", "", first)


def man_keys():
    """{(section, key): default or None} from matt_daemon.conf(5)."""
    with open(MAN5) as f:
        roff = f.read()
    keys = {}
    parts = re.split(r"^\.Sh (.*)$", roff, flags=re.M)
    for title, body in zip(parts[1::2], parts[2::2]):
        m = re.match(r"THE \[(\w+)(?: NAME)?\] SECTIONS?$", title)
        if not m:
            continue
        items = re.split(r"^\.It Cm (\w+) No = .*$", body, flags=re.M)
        for key, text in zip(items[1::2], items[2::2]):
            assert (m.group(1), key) not in keys, (m.group(1), key)
            d = re.search(r"^Default:(.*(?:\n.*)?)", text, re.M)
            keys[(m.group(1), key)] = man_value(d.group(1)) if d else None
    return keys


def example_keys():
    """{(section, key): value} from packaging/matt_daemon.conf."""
    keys = {}
    section = None
    with open(EXAMPLE) as f:
        for line in f:
            m = re.match(r"^#?\[(\w+)(?: [^]]*)?\]$", line.rstrip("\n"))
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^#?(\w+) = (.*)$", line.rstrip("\n"))
            if m:
                assert section is not None, line
                assert (section, m.group(1)) not in keys, line
                keys[(section, m.group(1))] = m.group(2)
    return keys


def test_manual_page_lists_the_table():
    want = table()
    have = man_keys()
    assert sorted(set(have) - set(want)) == [], "documented, not in table"
    assert sorted(set(want) - set(have)) == [], "in table, not documented"
    for (section, key), default in want.items():
        if default is not None:
            assert have[(section, key)] == default, \
                f"[{section}] {key}: man says {have[(section, key)]!r}, " \
                f"the table {default!r}"


def test_example_file_lists_the_table():
    want = table()
    have = example_keys()
    assert sorted(set(have) - set(want)) == [], "in example, not in table"
    assert sorted(set(want) - set(have)) == [], "in table, not in example"
    for (section, key), default in want.items():
        if default is not None:
            assert have[(section, key)] == default, \
                f"[{section}] {key}: example says " \
                f"{have[(section, key)]!r}, the table {default!r}"


def test_readers_see_what_they_parse():
    """The two readers find the right thing on a known piece of text."""
    assert man_value(" 4242.\n") == "4242"
    assert man_value("\n.Ql * .\n") == "*"
    assert man_value("\n.Ql adm ,\nDebian's group") == "adm"
    assert man_value("\n.Pa /var/lock/matt_daemon.lock .\n") == \
        "/var/lock/matt_daemon.lock"
    man = man_keys()
    assert man[("daemon", "port")] == "4242"
    assert man[("sink", "path")] is None     # "Required."
    assert man[("alert", "subject")] == "[Matt_daemon] %r on %h: %m"
    ex = example_keys()
    assert ex[("sink", "path")] == "/var/log/matt_daemon/security.json"
    assert ex[("log", "rotate_min_interval")] == "60s"

"""The manual pages and the example configuration stay true to the code.

groff must format each page without a single warning, the SYNOPSIS of
Matt_daemon(8) must offer exactly the options that --help lists, and
packaging/matt_daemon.conf must pass -t, as it is and with every setting
uncommented (test_config_docs.py checks that both documents list the keys
of the configuration table, with its defaults).  Every message format that the daemon
and Tintin pass to their logging calls is listed in the LOG FORMAT section
of Matt_daemon(8), under its level.
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO, run_binary

MAN8 = os.path.join(REPO, "man", "Matt_daemon.8")
MAN5 = os.path.join(REPO, "man", "matt_daemon.conf.5")
EXAMPLE = os.path.join(REPO, "packaging", "matt_daemon.conf")

# "-mandoc" picks the man or the mdoc macros, whichever the page uses.
GROFF = ["groff", "-mandoc"]


def groff(args, page):
    if shutil.which("groff") is None:
        pytest.fail("groff is missing: run scripts/deps.sh (groff-base)")
    return subprocess.run(GROFF + args + [page], capture_output=True,
                          timeout=30)


def render(page):
    """The page as plain text, as man(1) shows it on an 80-column tty."""
    p = groff(["-ww", "-Tutf8", "-P-c", "-P-b", "-P-o", "-P-u"], page)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout.decode("utf-8")


def section(text, name):
    """Body of the section NAME of a rendered page."""
    m = re.search(rf"^{re.escape(name)}\n(.*?)(?=^\S)", text, re.M | re.S)
    assert m, f"no {name} section"
    return m.group(1)


@pytest.mark.parametrize("page", [MAN8, MAN5], ids=os.path.basename)
def test_page_formats_without_warnings(page):
    p = groff(["-ww", "-z"], page)
    assert p.returncode == 0
    assert p.stdout == b""
    assert p.stderr == b"", p.stderr.decode(errors="replace")


@pytest.mark.parametrize("page", [MAN8, MAN5], ids=os.path.basename)
def test_page_fits_80_columns(page):
    wide = [l for l in render(page).splitlines() if len(l) > 80]
    assert wide == []


@pytest.mark.parametrize("page", [MAN8, MAN5], ids=os.path.basename)
def test_page_has_required_sections(page):
    text = render(page)
    wanted = ["NAME", "DESCRIPTION", "FILES", "SEE ALSO"]
    if page == MAN8:
        wanted += ["SYNOPSIS", "OPTIONS", "SIGNALS", "EXIT STATUS",
                   "EXAMPLES"]
    for name in wanted:
        assert re.search(rf"^{name}$", text, re.M), name


def test_synopsis_offers_the_options_of_help():
    launch = run_binary(["--help"])
    assert launch.rc == 0, launch.err
    help_letters = set(re.findall(r"^\s+-(\w), --", launch.out, re.M))
    assert help_letters, launch.out

    synopsis = " ".join(section(render(MAN8), "SYNOPSIS").split())
    syn_letters = set()
    for flags in re.findall(r"\[-(\w+)\]?", synopsis):
        syn_letters.update(flags)
    assert syn_letters == help_letters, synopsis

    # The usage block (up to the first blank line) is the SYNOPSIS.
    block = launch.out.split("\n\n")[0]
    usage = " ".join(block.replace("usage:", "", 1).split())
    assert usage == synopsis


def uncommented(text):
    """The example with every '#key = ...' and '#[section]' line enabled."""
    return re.sub(r"^#(?=\[|[a-z_]+ =)", "", text, flags=re.M)


def test_example_config_passes_test_config(tmp_path):
    launch = run_binary(["-t", "-c", EXAMPLE])
    assert launch.rc == 0, launch.err
    assert launch.out == f"{EXAMPLE}: configuration OK\n"

    with open(EXAMPLE) as f:
        text = uncommented(f.read())
    assert "\n[sink security]\n" in text
    conf = tmp_path / "all.conf"
    conf.write_text(text)
    launch = run_binary(["-t", "-c", str(conf)])
    assert launch.rc == 0, launch.err
    assert launch.out == f"{conf}: configuration OK\n"


# --- every message the daemon logs is listed in LOG FORMAT ------------------

# The functions whose argument ARG (from 0) is a printf format that ends up,
# as it is, in a record; LEVEL is the argument that gives the level (or the
# level itself); PREFIX goes before the format and FIX turns it into the
# record's text (startup_fail capitalises and adds the final dot).
LOG_CALLS = {
    "tintin_log": (2, 1, "", None),
    "tintin_log_cat": (3, 1, "", None),
    "tintin_note": (2, 1, "", None),
    "alert_log": (2, 1, "", None),
    "startup_fail": (1, "ERROR", "", lambda f: f[:1].upper() + f[1:] + "."),
    "set_report": (2, 1, "Forwarding to %s: ", None),
    "fwd_note": (2, 1, "Forwarding to %s: ", None),
}
LOG_SOURCES = [os.path.join(REPO, "src", d) for d in ("daemon", "tintin")]
CONVERSION = r"%[-+ #0]*[0-9*]*(?:\.[0-9*]+)?(?:hh|h|ll|l|z|j|t)?[diouxXcsp%]"
STRING = r'"(?:[^"\\]|\\.)*"'


def c_unescape(literal):
    return literal.encode("latin-1", "backslashreplace").decode(
        "unicode_escape")


def strip_comments(code):
    """C code without comments (string literals kept as they are)."""
    out, i = [], 0
    pattern = re.compile(STRING + r"|'(?:[^'\\]|\\.)*'|/\*.*?\*/|//[^\n]*",
                         re.S)
    for m in pattern.finditer(code):
        out.append(code[i:m.start()])
        tok = m.group(0)
        # a comment becomes its newlines: line numbers stay right
        out.append("\n" * tok.count("\n") + " " if tok.startswith("/")
                   else tok)
        i = m.end()
    out.append(code[i:])
    return "".join(out)


def call_args(code, start):
    """The top-level arguments (as source text) of the call whose "(" is
    at START."""
    depth, args, cur = 0, [], start + 1
    pattern = re.compile(STRING + r"|'(?:[^'\\]|\\.)*'|[(),]")
    for m in pattern.finditer(code, start):
        tok = m.group(0)
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth == 0:
                args.append(code[cur:m.start()])
                return args
        elif tok == "," and depth == 1:
            args.append(code[cur:m.start()])
            cur = m.end()
    raise AssertionError(f"unbalanced call at {start}")


def source_files(tops):
    """Every .c file under TOPS, subfolders included, tests excluded."""
    return sorted(os.path.join(root, name)
                  for top in tops
                  for root, dirs, files in os.walk(top)
                  if os.path.basename(root) != "tests"
                  for name in files if name.endswith(".c"))


def logged_formats():
    """{format: ("file:line", level)} of every message format in the
    daemon's and Tintin's logging calls; adjacent literals are joined, as C
    does; the level is None when it is not a constant.  Definitions and
    prototypes have no literal where the format goes: they are skipped."""
    found = {}
    names = "|".join(LOG_CALLS)
    for path in source_files(LOG_SOURCES):
        with open(path) as f:
            code = strip_comments(f.read())
        for m in re.finditer(rf"\b({names})\s*\(", code):
            arg, level, prefix, fix = LOG_CALLS[m.group(1)]
            args = call_args(code, m.end() - 1)
            if len(args) <= arg:
                continue
            parts = re.findall(STRING, args[arg])
            rest = re.sub(STRING, "", args[arg]).strip()
            if not parts or rest:
                continue        # a variable, not a literal format
            fmt = prefix + "".join(c_unescape(p[1:-1]) for p in parts)
            if fix is not None:
                fmt = fix(fmt)
            if isinstance(level, int):
                lm = re.fullmatch(r"\s*TINTIN_([A-Z]+)\s*", args[level])
                level = lm.group(1) if lm else None
            line = code[:m.start()].count("\n") + 1
            found.setdefault(fmt, (f"{os.path.relpath(path, REPO)}:"
                                   f"{line}", level))
    return found


def man_messages():
    """(level, message) of the literal blocks of Matt_daemon(8)'s LOG
    FORMAT, each after its "[ LEVEL ]"; a line indented in a block goes on
    with the message above it."""
    with open(MAN8) as f:
        src = f.read()
    m = re.search(r"^\.Sh LOG FORMAT\n(.*?)^\.Sh ", src, re.M | re.S)
    assert m, "no LOG FORMAT section"
    lines, inside, level = [], False, None
    for line in m.group(1).splitlines():
        lm = re.match(r'\.\w+.*"\[ ([A-Z]+) \]"', line)
        if lm and not inside:
            level = lm.group(1)
        elif line.startswith(".Bd -literal"):
            inside = True
        elif line.startswith(".Ed"):
            inside = False
        elif inside and not line.startswith("."):
            text = line.replace("\\&", "").replace("\\e", "\\") \
                .replace("\\-", "-")
            if text.startswith(" ") and lines:
                lines[-1] = (level, lines[-1][1] + " " + text.strip())
            else:
                lines.append((level, text))
    return lines


def format_regex(fmt):
    """FMT as the man page shows it: each run of conversions is a value in
    upper case (ADDRESS, PID, N...), "(s)" or "(es)" for a plural, or
    nothing (an optional ending)."""
    out, i = [], 0
    for m in re.finditer(rf"(?:{CONVERSION})+", fmt):
        out.append(re.escape(fmt[i:m.start()]))
        out.append(r"(?:[A-Z][A-Z0-9_]*|\((?:s|es)\))?")
        i = m.end()
    out.append(re.escape(fmt[i:]))
    return re.compile("".join(out))


def test_log_format_lists_every_message_of_the_source():
    formats = logged_formats()
    # the start sequence and a few others, so that a broken extraction
    # cannot pass by finding nothing
    for known in ("Started.", "started. PID: %ld.", "Request quit.",
                  "Command from %s (%s): %s%s.",
                  "Cannot listen on %s:%d: %s."):
        assert known in formats, known
    lines = man_messages()
    missing = []
    for fmt, (where, level) in sorted(formats.items(),
                                      key=lambda kv: kv[1][0]):
        if not re.search(r"[A-Za-z]", re.sub(CONVERSION, "", fmt)):
            continue        # "%s", "%s: %s.": the text is made elsewhere
        rx = format_regex(fmt)
        # listed under its own level when the code fixes it
        if not any(rx.fullmatch(line) and level in (None, at)
                   for at, line in lines):
            missing.append(f"{where}: [ {level or 'any level'} ] {fmt}")
    assert missing == [], ("messages missing from LOG FORMAT in "
                           "man/Matt_daemon.8:\n" + "\n".join(missing))

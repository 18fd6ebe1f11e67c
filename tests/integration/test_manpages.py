"""The manual pages and the example configuration stay true to the code.

groff must format each page without a single warning, the SYNOPSIS of
Matt_daemon(8) must offer exactly the options that --help lists, every key
that src/daemon/config.c accepts must be documented in matt_daemon.conf(5)
and in packaging/matt_daemon.conf, and that example must pass -t, as it is
and with every setting uncommented.
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import BINARY, REPO, run_binary

MAN8 = os.path.join(REPO, "man", "Matt_daemon.8")
MAN5 = os.path.join(REPO, "man", "matt_daemon.conf.5")
EXAMPLE = os.path.join(REPO, "packaging", "matt_daemon.conf")
CONFIG_C = os.path.join(REPO, "src", "daemon", "config.c")

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


def config_keys():
    """Every key name that the config*.c files compare against."""
    import glob
    text = ""
    for path in sorted(glob.glob(CONFIG_C.replace("config.c", "config*.c"))):
        with open(path) as f:
            text += f.read()
    return sorted(set(re.findall(r'strcmp\(key, "(\w+)"\)', text)))


def test_every_config_key_is_documented():
    keys = config_keys()
    assert len(keys) >= 11, keys
    page = " ".join(render(MAN5).split())
    with open(EXAMPLE) as f:
        example = f.read()
    for key in keys:
        assert f"{key} = " in page, f"{key} not in {MAN5}"
        assert re.search(rf"^#{key} = ", example, re.M), \
            f"{key} not in {EXAMPLE}"


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

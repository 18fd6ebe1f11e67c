"""Bad command lines, for the three binaries: one line saying what is
wrong, then the short usage (the "usage:" lines of --help and a hint),
exit status 2, nothing started, nothing created."""

import os
import re
import subprocess

import pytest

from conftest import BINARY, REPO

BEN_AFK = os.environ.get("BEN_AFK", os.path.join(REPO, "Ben_AFK"))
GTK_BIN = os.environ.get("BEN_AFK_GTK", os.path.join(REPO, "Ben_AFK-gtk"))


def run(binary, args, cwd):
    # No display: a GTK client that went past its options would fail
    # differently (and not with this output).
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([binary] + args, capture_output=True, text=True,
                          timeout=10, cwd=cwd, stdin=subprocess.DEVNULL,
                          env=env)


def usage_lines(binary):
    """The "usage:" block of --help: the lines up to the first blank one."""
    p = subprocess.run([binary, "--help"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 0, p.stderr
    block = p.stdout.split("\n\n")[0].splitlines()
    assert block[0].startswith("usage: "), p.stdout
    return block


def check(binary, name, args, first, tmp_path):
    """BINARY (whose messages say NAME: under valgrind, BINARY is a
    wrapper script) refuses ARGS with FIRST, then its usage."""
    p = run(binary, args, tmp_path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert lines[0] == f"{name}: {first}", p.stderr
    assert lines[1:] == usage_lines(binary) + [
        f"Try '{name} --help' for more information."], p.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args,first", [
    (["extra"], "unexpected argument 'extra'"),
    (["-f", "extra"], "unexpected argument 'extra'"),
    (["--add-key", "alice"], "--add-key alice: missing FILE (the public key)"),
    (["--add-key", "alice", "id.pub", "more"], "unexpected argument 'more'"),
    (["--admin"], "--admin goes with --add-user or --add-key"),
    (["--fingerprint", "--add-user", "bob"],
     "--fingerprint and --add-user cannot be used together"),
    (["-t", "--add-key", "bob", "k.pub"],
     "-t and --add-key cannot be used together"),
    (["--summary", "-t"], "-t and --summary cannot be used together"),
    (["--bogus"], "unknown option '--bogus'"),
    (["--bogus=1"], "unknown option '--bogus'"),
    (["-x"], "unknown option '-x'"),
    (["-c"], "option '-c' needs an argument"),
    (["--config"], "option '--config' needs an argument"),
    (["--add-user"], "option '--add-user' needs an argument"),
    (["--stderr"], "--stderr goes with -f"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_matt_daemon_bad_command_line(args, first, tmp_path):
    check(BINARY, "Matt_daemon", args, first, tmp_path)


@pytest.mark.parametrize("args,first", [
    (["extra"], "unexpected argument 'extra'"),
    (["--bogus"], "unknown option '--bogus'"),
    (["-x"], "unknown option '-x'"),
    (["-p"], "option '-p' needs an argument"),
    (["--port"], "option '--port' needs an argument"),
    (["-p", "99999"], "bad port: 99999"),
    (["-t", "0"], "bad timeout: 0"),
    (["--color=blue"], "bad --color 'blue' (auto, always or never)"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_ben_afk_bad_command_line(args, first, tmp_path):
    check(BEN_AFK, "Ben_AFK", args, first, tmp_path)


@pytest.mark.parametrize("args,first", [
    (["extra"], "unexpected argument 'extra'"),
    (["--bogus"], "unknown option '--bogus'"),
    (["-q"], "unknown option '-q'"),
    (["--color"], "unknown option '--color'"),
    (["-H"], "option '-H' needs an argument"),
    (["-p", "0"], "bad port: 0"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_gtk_bad_command_line(args, first, tmp_path):
    if not os.access(GTK_BIN, os.X_OK):
        pytest.skip(f"{GTK_BIN} is not built")
    check(GTK_BIN, "Ben_AFK-gtk", args, first, tmp_path)


# --- the README tells the truth about them ----------------------------------

README = os.path.join(REPO, "README.md")


def test_readme_add_key_names_the_file_keygen_writes(tmp_path):
    text = open(README).read()
    m = re.search(r"Ben_AFK --keygen (\S+)", text)
    assert m, "no --keygen example in the README"
    path = m.group(1)
    m = re.search(r"Matt_daemon --add-key \w+ (\S+)", text)
    assert m, "no --add-key example in the README"
    assert m.group(1) == path + ".pub", (path, m.group(1))
    # which is what --keygen says it writes
    key = str(tmp_path / "id")
    p = subprocess.run([BEN_AFK, "--keygen", key], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert f"Public key:  {key}.pub" in p.stdout
    assert os.path.isfile(key + ".pub")

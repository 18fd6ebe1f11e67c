"""The bash completions of packaging/bash-completion, sourced in a real
bash: what they offer for an option, a value, a file; and that they offer
exactly the options each binary's --help lists."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import BINARY, REPO

BEN_AFK = os.environ.get("BEN_AFK", os.path.join(REPO, "Ben_AFK"))
GTK_BIN = os.environ.get("BEN_AFK_GTK", os.path.join(REPO, "Ben_AFK-gtk"))
DIR = os.path.join(REPO, "packaging", "bash-completion")

# command name: (file, completion function, binary)
PROGRAMS = {
    "Matt_daemon": ("_matt_daemon", BINARY),
    "Ben_AFK": ("_ben_afk", BEN_AFK),
    "Ben_AFK-gtk": ("_ben_afk_gtk", GTK_BIN),
}


def complete(program, words, cwd=None):
    """COMPREPLY after sourcing PROGRAM's completion file and calling the
    function it registered, as bash would for WORDS (the last one is being
    typed)."""
    if shutil.which("bash") is None:
        pytest.skip("bash is missing")
    func = PROGRAMS[program][0]
    quoted = " ".join("'%s'" % w.replace("'", "'\\''")
                      for w in [program] + words)
    script = (f"source '{os.path.join(DIR, program)}' || exit 9\n"
              f"complete -p '{program}' | grep -q -- '-F {func} ' || exit 8\n"
              f"COMP_WORDS=({quoted}); COMP_CWORD={len(words)}\n"
              f"COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}\n"
              f"{func}; printf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script],
                       capture_output=True, text=True, timeout=10, cwd=cwd)
    assert p.returncode == 0, (p.returncode, p.stderr)
    return [l for l in p.stdout.splitlines() if l]


def help_options(binary):
    p = subprocess.run([binary, "--help"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 0
    opts = set()
    for m in re.finditer(r"^\s+(?:(-\w), )?(--[\w-]+)", p.stdout, re.M):
        opts.update(o for o in m.groups() if o)
    return opts


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_completion_offers_every_option_of_help(program):
    binary = PROGRAMS[program][1]
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{binary} is not built")
    offered = set(complete(program, ["-"]))
    assert offered == help_options(binary), \
        offered ^ help_options(binary)


def test_matt_daemon_completes_options_and_config_files(tmp_path):
    assert complete("Matt_daemon", ["--fi"]) == ["--fingerprint"]
    assert complete("Matt_daemon", ["--s"]) == ["--stderr", "--summary"]
    (tmp_path / "one.conf").write_text("")
    (tmp_path / "other").write_text("")
    assert complete("Matt_daemon", ["-c", "on"], cwd=tmp_path) == \
        ["one.conf"]
    # --add-key NAME FILE: no name offered, then files
    assert complete("Matt_daemon", ["--add-key", ""], cwd=tmp_path) == []
    assert complete("Matt_daemon", ["--add-key", "alice", "oth"],
                    cwd=tmp_path) == ["other"]


def test_ben_afk_completes_colour_values_and_key_files(tmp_path):
    assert complete("Ben_AFK", ["--color", "a"]) == ["auto", "always"]
    # bash splits "--color=n" at the '='
    assert complete("Ben_AFK", ["--color", "=", "n"]) == ["never"]
    assert sorted(complete("Ben_AFK", ["--color", "="])) == \
        ["always", "auto", "never"]
    (tmp_path / "id").write_text("")
    (tmp_path / "id.pub").write_text("")
    assert sorted(complete("Ben_AFK", ["-i", "i"], cwd=tmp_path)) == \
        ["id", "id.pub"]
    assert complete("Ben_AFK", ["--str"]) == ["--strict-host"]


def test_ben_afk_gtk_does_not_offer_what_it_does_not_take():
    offered = complete("Ben_AFK-gtk", ["--"])
    assert "--tls" in offered
    for opt in ("--color", "--shell", "--keygen", "--strict-host"):
        assert opt not in offered, opt

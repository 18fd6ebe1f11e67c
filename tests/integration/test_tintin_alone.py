"""Tintin_reporter can be lifted into another project: a copy of its folder,
alone in a temporary directory, builds with its own makefile fragment,
passes its own tests, and builds the example of its README."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO

TINTIN = os.path.join(REPO, "src", "tintin")


def copy_alone(tmp_path):
    """src/tintin copied to TMP/elsewhere/tintin, without build products."""
    dest = tmp_path / "elsewhere" / "tintin"
    shutil.copytree(TINTIN, dest, ignore=shutil.ignore_patterns("build"))
    return dest


def make(dest, *targets):
    env = dict(os.environ)
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    return subprocess.run(["make", "-f", "tintin.mk", *targets], cwd=dest,
                          env=env, capture_output=True, text=True,
                          timeout=300)


def test_copied_folder_builds_and_passes_its_own_tests(tmp_path):
    dest = copy_alone(tmp_path)
    r = make(dest, "check")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert (dest / "build" / "libtintin.a").is_file()
    passed = re.findall(r"\[  PASSED  \] (\d+) test", out)
    programs = list((dest / "tests").glob("test_*.c"))
    assert len(passed) == len(programs) >= 3, out[-3000:]
    assert all(int(n) > 0 for n in passed), out[-3000:]
    assert "FAILED" not in out


def test_copied_folder_needs_nothing_outside_it(tmp_path):
    """Every quoted include of the library and its tests names a file of
    the folder itself (so the copy above really is standalone)."""
    dest = copy_alone(tmp_path)
    for root, _, files in os.walk(dest):
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            text = open(os.path.join(root, name)).read()
            for inc in re.findall(r'#include "([^"]+)"', text):
                assert inc.startswith("tintin/"), (name, inc)
                assert (dest.parent / inc).is_file(), (name, inc)


def test_tests_include_only_the_public_header():
    """The unit tests see the library as its users do: besides system
    headers and cmocka they include tintin.h and their own helpers."""
    tests = os.path.join(TINTIN, "tests")
    for name in sorted(os.listdir(tests)):
        if not name.endswith((".c", ".h")):
            continue
        text = open(os.path.join(tests, name)).read()
        for inc in re.findall(r'^\s*#\s*include\s*([<"][^>"]+[>"])', text,
                              re.M):
            if inc.startswith("<") and not inc.startswith("<tintin/"):
                continue
            assert (inc[1:-1] == "tintin/tintin.h" or
                    re.fullmatch(r"tintin/tests/\w+\.h", inc[1:-1])), \
                (name, inc)


@pytest.mark.parametrize("include", ['"tintin/tintin_syslog.h"',
                                     '<tintin/tintin_int.h>',
                                     '"../tintin_time.h"'])
def test_check_refuses_an_internal_include(tmp_path, include):
    """make check stops, naming the line, when a test includes a header
    that is not public, so the rule above stays true."""
    dest = copy_alone(tmp_path)
    test = dest / "tests" / "test_tintin.c"
    test.write_text(test.read_text() + "#include " + include + "\n")
    r = make(dest, "check")
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-3000:]
    assert "tintin tests may include only tintin.h" in out, out[-3000:]
    assert "tests/test_tintin.c:" in out and include in out, out[-3000:]
    assert "[  PASSED  ]" not in out, out[-3000:]


def test_readme_example_builds_against_the_copy(tmp_path):
    dest = copy_alone(tmp_path)
    assert make(dest).returncode == 0
    readme = (dest / "README.md").read_text()
    m = re.search(r"```c\n(.*?)```", readme, re.S)
    assert m, "no C example in src/tintin/README.md"
    (tmp_path / "example.c").write_text(m.group(1))
    cc = subprocess.run(["cc", "-I" + str(dest.parent), "-o", "example",
                         "example.c", str(dest / "build" / "libtintin.a"),
                         "-lz", "-lzstd"], cwd=tmp_path,
                        capture_output=True, text=True, timeout=120)
    assert cc.returncode == 0, cc.stderr
    run = subprocess.run(["./example"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    lines = (tmp_path / "example.log").read_text().splitlines()
    msgs = [re.sub(r"^\[[^]]*\] ", "", line) for line in lines]
    assert msgs == ["[ INFO ] - example: Started.",
                    "[ LOG ] - example: a line from somewhere",
                    "[ WARN ] - example: 2 records pending",
                    "[ INFO ] - example: Quitting."], lines

"""scripts/check_deps.py, the `make check-deps` checker: it finds include
cycles among the daemon's modules and layering breaches, on small trees
made here (the real tree's verdict is `make check-deps`)."""

import os
import subprocess

from conftest import REPO

SCRIPT = os.path.join(REPO, "scripts", "check_deps.py")


def tree(tmp_path, files):
    for name, includes in files.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f'#include "{i}"\n' for i in includes))
    return str(tmp_path / "src")


def check(src):
    r = subprocess.run(["/usr/bin/python3", SCRIPT, src],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout


def test_one_way_tree_passes(tmp_path):
    rc, out = check(tree(tmp_path, {
        "daemon/daemon.c": ["daemon/client.h", "daemon/loop.h"],
        "daemon/client.c": ["daemon/client.h", "daemon/loop.h",
                            "common/escape.h"],
        "daemon/client.h": ["daemon/loop.h"],
        "daemon/loop.c": ["daemon/loop.h"],
        "daemon/loop.h": [],
        "common/escape.c": ["common/escape.h"],
        "common/escape.h": [],
    }))
    assert rc == 0, out
    assert "no cycle" in out


def test_two_modules_including_each_other_fail(tmp_path):
    rc, out = check(tree(tmp_path, {
        "daemon/client.c": ["daemon/client.h", "daemon/command.h"],
        "daemon/client.h": [],
        "daemon/command.c": ["daemon/command.h", "daemon/client.h"],
        "daemon/command.h": [],
        "daemon/loop.c": [],
    }))
    assert rc == 1
    assert "include cycle: daemon/client <-> daemon/command" in out
    assert "daemon/loop" not in out.split("include cycle")[1]


def test_internal_header_belongs_to_its_module(tmp_path):
    """client_int.h is client's own: client.c including it is no cycle,
    but another module including it and being included back is."""
    rc, out = check(tree(tmp_path, {
        "daemon/client.c": ["daemon/client.h", "daemon/client_int.h"],
        "daemon/client_int.h": ["daemon/client.h"],
        "daemon/client.h": [],
    }))
    assert rc == 0, out
    rc, out = check(tree(tmp_path, {
        "daemon/client.c": ["daemon/client_int.h", "daemon/shell.h"],
        "daemon/shell.c": ["daemon/client_int.h"],
        "daemon/shell.h": [],
    }))
    assert rc == 1
    assert "daemon/client <-> daemon/shell" in out


def test_library_using_the_daemon_breaks_the_layers(tmp_path):
    rc, out = check(tree(tmp_path, {
        "tintin/tintin.c": ["tintin/tintin.h", "daemon/config.h"],
        "tintin/tintin.h": [],
        "daemon/config.c": ["daemon/config.h"],
        "daemon/config.h": [],
    }))
    assert rc == 1
    assert "tintin/tintin must not include daemon/config.h" in out

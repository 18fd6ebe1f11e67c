"""A private tmux server (its own socket) running one script in a pane of
a fixed size: how the tests type into the terminal clients and read their
screen.  Every wait is bounded."""

import re
import shlex
import shutil
import subprocess

import pytest

from conftest import wait_until


class Tmux:
    """One tmux server and session; SCRIPT is run by sh in its pane."""

    def __init__(self, tmp_path, script, cols, rows, name="tmux"):
        if shutil.which("tmux") is None:
            pytest.fail("tmux is missing: run scripts/deps.sh")
        self.sock = str(tmp_path / f"{name}.sock")
        path = tmp_path / f"{name}-pane.sh"
        path.write_text(script)
        r = self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "afk",
                      "-x", str(cols), "-y", str(rows),
                      f"sh {shlex.quote(str(path))}")
        assert r.returncode == 0, r.stderr
        self.tmux("set-option", "-t", "afk", "status", "off")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock] + list(args),
                              capture_output=True, text=True, timeout=10)

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "afk", *keys)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "afk").stdout

    def wait(self, text, timeout=10):
        """Wait until TEXT (a plain string) is on the screen."""
        ok = wait_until(lambda: text in self.screen(), timeout, 0.05)
        assert ok, f"{text!r} never shown; screen:\n{self.screen()}"

    def wait_re(self, pattern, timeout=10):
        """Wait until regular expression PATTERN matches the screen."""
        rx = re.compile(pattern, re.M)
        ok = wait_until(lambda: rx.search(self.screen()), timeout, 0.05)
        assert ok, f"{pattern!r} never shown; screen:\n{self.screen()}"

    def size(self):
        out = self.tmux("display", "-p", "-t", "afk",
                        "#{pane_height} #{pane_width}").stdout.split()
        return int(out[0]), int(out[1])

    def pane_pid(self):
        return int(self.tmux("display", "-p", "-t", "afk",
                             "#{pane_pid}").stdout.strip())

    def kill(self):
        self.tmux("kill-server")


def tmux_panes(tmp_path, make):
    """Fixture body: yields MAKE bound to TMP_PATH, kills what it made."""
    made = []

    def start(*args, **kwargs):
        t = make(tmp_path, *args, **kwargs)
        made.append(t)
        return t

    yield start
    for t in made:
        t.kill()

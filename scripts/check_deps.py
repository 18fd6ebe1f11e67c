#!/usr/bin/python3
"""Check that the dependencies between the modules of src/ point one way.

A module is a name: src/daemon/session/client.c and .../client.h are the
module daemon/client, and an internal header (client_int.h) belongs to
it too.  Module A depends on B when a file of A includes "B.h".  Two
rules (DESIGN.md section 3):

  - no cycle among the modules of src/daemon/;
  - the directories are layered: tintin and common use nothing of the
    others, client (libafk) only common, daemon no client or gtk code.

Prints every cycle and every layering breach, exits 1 if there is any.
Usage: check_deps.py [SRC_DIR]   (default: src next to this script's parent)
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"', re.M)

# What each directory may include, besides itself.
ALLOWED = {
    "tintin": set(),
    "common": set(),
    "client": {"common"},
    "daemon": {"common", "tintin"},
    "gtk": {"client", "common"},
}


def module_of(name):
    """The module a header or source stem belongs to."""
    return name[:-4] if name.endswith("_int") else name


def modules(src):
    """{module: set of modules it includes} for every .c/.h under SRC."""
    deps = {}
    for top in sorted(os.listdir(src)):
        base = os.path.join(src, top)
        if not os.path.isdir(base):
            continue
        for root, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if d not in ("tests", "build")]
            for name in sorted(files):
                stem, ext = os.path.splitext(name)
                if ext not in (".c", ".h"):
                    continue
                rel = module_of(os.path.relpath(os.path.join(root, stem),
                                                src))
                with open(os.path.join(root, name), errors="replace") as f:
                    text = f.read()
                got = deps.setdefault(rel, set())
                for inc in map(module_of, INCLUDE.findall(text)):
                    if inc != rel:
                        got.add(inc)
    return deps


def cycles(deps):
    """The strongly connected components of more than one module
    (Tarjan's algorithm, iterative), each sorted."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(root):
        work = [(root, iter(sorted(deps.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop()
                        on.discard(m)
                        comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
                continue
            if nxt not in deps:
                continue
            if nxt not in index:
                index[nxt] = low[nxt] = counter[0]
                counter[0] += 1
                stack.append(nxt)
                on.add(nxt)
                work.append((nxt, iter(sorted(deps.get(nxt, ())))))
            elif nxt in on:
                low[node] = min(low[node], index[nxt])

    for m in sorted(deps):
        if m not in index:
            visit(m)
    return sorted(out)


def breaches(deps):
    """(module, included) pairs that cross the layering the wrong way."""
    out = []
    for mod, incs in sorted(deps.items()):
        top = mod.split("/")[0]
        if top not in ALLOWED:
            continue
        for inc in sorted(incs):
            other = inc.split("/")[0]
            if other != top and other in ALLOWED and \
                    other not in ALLOWED[top]:
                out.append((mod, inc))
    return out


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    src = argv[1] if len(argv) > 1 else os.path.join(here, "..", "src")
    deps = modules(src)
    bad = 0
    daemon = {m: {i for i in incs if i.startswith("daemon/")}
              for m, incs in deps.items() if m.startswith("daemon/")}
    for comp in cycles(daemon):
        bad = 1
        print("check-deps: include cycle: " + " <-> ".join(comp))
        for m in comp:
            inside = sorted(set(comp) & daemon[m])
            print(f"check-deps:   {m} includes {', '.join(inside)}")
    for mod, inc in breaches(deps):
        bad = 1
        print(f"check-deps: {mod} must not include {inc}.h")
    if not bad:
        print(f"check-deps: {len(daemon)} daemon modules, no cycle; "
              f"{len(deps)} modules in layers")
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))

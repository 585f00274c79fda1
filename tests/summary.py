#!/usr/bin/env python3
"""The closing line of the whole suite, from what cargo and the playbook printed.

    tests/summary.py LOG [LOG ...]

Reads the logs of `cargo test --no-fail-fast` (one or more) and of the
two-user permission playbook, and prints one line:

    N passed, N failed

It never counts what did not run as passed:
  - a test binary that started but printed no `test result:` line (it
    crashed, or was killed) is one failed test;
  - a `cargo test` error line (`error: test failed, to rerun pass ...`) for
    a binary whose result line shows no failure is one failed test;
  - an ignored test, or a binary that ran no test at all, is a failure of
    the suite: every test must run (`make test` checks prerequisites first);
  - every file `tests/*.rs` must have run as a test binary.
Exit status 0 only when nothing failed and every group ran.
"""

import os
import re
import sys

RUNNING = re.compile(r"^\s+Running (.+)$")
DOCTESTS = re.compile(r"^\s+Doc-tests (\S+)")
RESULT = re.compile(
    r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored; \d+ measured; (\d+) filtered out"
)
# `error: test failed, to rerun pass `--test x``, and with --no-fail-fast the
# closing list `error: N targets failed:` followed by one "    `--test x`" a line.
CARGO_TARGET = re.compile(r"`(--(?:test|bench|bin|lib|doc|example)(?: [\w-]+)?)`")
PLAYBOOK = re.compile(r"^permission playbook: (\d+) passed, (\d+) failed")


def matches(target, name):
    """Whether cargo's `--test x` (etc.) names the group cargo announced as `name`."""
    kind, _, arg = target.partition(" ")
    source = name.split(" (")[0]
    if kind == "--test":
        return source == f"tests/{arg}.rs"
    if kind == "--bench":
        return source == f"benches/{arg}.rs"
    if kind == "--lib":
        return source == "unittests src/lib.rs"
    if kind == "--doc":
        return name.startswith("doc-tests")
    if kind == "--bin":
        return source.startswith("unittests ") and f"/{arg.replace('-', '_')}-" in name
    return False


def main(paths):
    passed = failed = 0
    problems = []
    groups = []  # [name, result or None]
    cargo_failed = set()
    playbook_seen = False
    for path in paths:
        try:
            lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
        except OSError as e:
            problems.append(f"cannot read {path}: {e}")
            failed += 1
            continue
        for line in lines:
            m = RUNNING.match(line)
            if m:
                groups.append([m.group(1).strip(), None])
                continue
            m = DOCTESTS.match(line)
            if m:
                groups.append([f"doc-tests {m.group(1)}", None])
                continue
            m = RESULT.match(line)
            if m and groups and groups[-1][1] is None:
                groups[-1][1] = tuple(int(x) for x in m.groups())
                continue
            if line.startswith("error: test failed") or re.match(r"^\s+`--", line):
                cargo_failed.update(CARGO_TARGET.findall(line))
                continue
            m = PLAYBOOK.match(line)
            if m:
                playbook_seen = True
                passed += int(m.group(1))
                failed += int(m.group(2))

    for target in sorted(cargo_failed):
        if not any(matches(target, n) for n, _ in groups):
            failed += 1
            problems.append(f"cargo reports {target} failed, and it never started")
    for name, result in groups:
        flagged = any(matches(t, name) for t in cargo_failed)
        if result is None:
            if name.startswith("benches/") and not flagged:
                # A benchmark harness run in test mode prints no libtest
                # line; cargo names it when it fails.
                passed += 1
                continue
            failed += 1
            problems.append(f"{name}: started but printed no result (crashed or killed)")
            continue
        p, f, ignored, _filtered = result
        passed += p
        failed += f
        if flagged and f == 0:
            failed += 1
            problems.append(f"{name}: cargo reports a failure its tests did not (crashed on exit?)")
        if ignored:
            failed += ignored
            problems.append(f"{name}: {ignored} test(s) ignored: every test must run")
        if p + f == 0 and name.startswith("tests/"):
            failed += 1
            problems.append(f"{name}: ran no test")

    ran = {n.split(" (")[0] for n, _ in groups}
    here = os.path.dirname(os.path.abspath(__file__))
    for f in sorted(os.listdir(here)):
        if f.endswith(".rs") and f"tests/{f}" not in ran:
            failed += 1
            problems.append(f"tests/{f} never ran as a test binary")
    if not playbook_seen:
        failed += 1
        problems.append("the permission playbook printed no result line")

    for p in problems:
        print(f"suite: {p}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

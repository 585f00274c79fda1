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
  - every test binary `tests/NAME/main.rs` must have run, and every file of
    it that holds tests (`tests/NAME/**/*.rs` with `#[test]` or `proptest!`)
    must have run at least one of them: a test's name starts with its
    file's module path (`tests/cli/setup/guard.rs`: `setup::guard::`).
Exit status 0 only when nothing failed and every group ran.
"""

import os
import re
import sys

RUNNING = re.compile(r"^\s+Running (.+)$")
DOCTESTS = re.compile(r"^\s+Doc-tests (\S+)")
TEST = re.compile(r"^test (\S+) \.\.\. ")
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
        return source in (f"tests/{arg}/main.rs", f"tests/{arg}.rs")
    if kind == "--bench":
        return source == f"benches/{arg}.rs"
    if kind == "--lib":
        return source == "unittests src/lib.rs"
    if kind == "--doc":
        return name.startswith("doc-tests")
    if kind == "--bin":
        return source.startswith("unittests ") and f"/{arg.replace('-', '_')}-" in name
    return False


def test_files(binary_dir):
    """{module path prefix: file} of the files under a binary's directory
    that hold tests: `tests/cli/add.rs` is `add::`, `tests/cli/setup/mod.rs`
    `setup::`, `tests/cli/main.rs` the empty prefix."""
    out = {}
    for dirpath, _dirs, files in os.walk(binary_dir):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            text = open(path, encoding="utf-8", errors="replace").read()
            if "#[test]" not in text and "proptest!" not in text:
                continue
            rel = os.path.relpath(path, binary_dir)[: -len(".rs")].split(os.sep)
            if rel[-1] in ("main", "mod"):
                rel = rel[:-1]
            out["".join(part + "::" for part in rel)] = path
    return out


def unrun_files(here, groups):
    """A problem for each test binary under `here` (tests/) that never ran,
    and for each of its test files none of whose tests ran."""
    problems = []
    ran = {}
    for name, _result, tests in groups:
        ran.setdefault(name.split(" (")[0], []).extend(tests)
    root = os.path.dirname(here)
    for d in sorted(os.listdir(here)):
        binary_dir = os.path.join(here, d)
        if not os.path.isfile(os.path.join(binary_dir, "main.rs")):
            continue
        source = f"tests/{d}/main.rs"
        if source not in ran:
            problems.append(f"{source} never ran as a test binary")
            continue
        files = test_files(binary_dir)
        prefixes = sorted(files, key=len, reverse=True)
        seen = set()
        for test in ran[source]:
            seen.add(next(p for p in prefixes + [""] if test.startswith(p)))
        for prefix, path in sorted(files.items(), key=lambda kv: kv[1]):
            if prefix not in seen:
                problems.append(f"{os.path.relpath(path, root)} ran no test")
    for f in sorted(os.listdir(here)):
        if f.endswith(".rs"):
            problems.append(f"tests/{f} is in no test binary (move it into tests/NAME/)")
    return problems


def main(paths):
    passed = failed = 0
    problems = []
    groups = []  # [name, result or None, names of the tests it ran]
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
                groups.append([m.group(1).strip(), None, []])
                continue
            m = DOCTESTS.match(line)
            if m:
                groups.append([f"doc-tests {m.group(1)}", None, []])
                continue
            m = TEST.match(line)
            if m and groups and groups[-1][1] is None:
                groups[-1][2].append(m.group(1))
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
        if not any(matches(target, n) for n, _, _ in groups):
            failed += 1
            problems.append(f"cargo reports {target} failed, and it never started")
    for name, result, _tests in groups:
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

    here = os.path.dirname(os.path.abspath(__file__))
    for problem in unrun_files(here, groups):
        failed += 1
        problems.append(problem)
    if not playbook_seen:
        failed += 1
        problems.append("the permission playbook printed no result line")

    for p in problems:
        print(f"suite: {p}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Benchmark htrac against the reference hypergumbo-tracker 0.11.0 on the same files.

Usage (from the repo root, as `make bench` does):

    python3 benches/compare.py [--sizes 200,10000,100000] [--runs 5] [--htrac target/release/htrac]

For each size N it builds a scratch git repo holding a tracker with N items. The op files are
written directly (not by calling either CLI N times) by a small generator that runs inside the
reference's venv and uses the reference's own `_serialize_op` and `_compute_id`, so the bytes
and IDs are exactly what the reference would have written. Then it times the same read and
write commands with both tools, on the same files, in one run, and prints one Markdown table
per size (also written to target/bench-results.md).

Every row shows its target (from issue 23: every agent command at 200 and 10,000 items at
least 50x faster than the reference, `add` and `update` included; cold `ready` at 10,000 within
1.2x the cat floor, `find .agent -type f -name '*.ops' -exec cat {} +` as in earlier tables;
`prime` recomputed in 20 ms at 10,000; at 100,000 a warm `ready` in 250 ms and 100 MB,
`validate --check-locks` in 2 s and 200 MB) and the floor that bounds it, measured in the same
run by a helper compiled here with rustc and timed as a process like htrac: the start of an
empty Rust binary; one `fsync` (append a line to a file, fsync it); `stat` of every op file
(readdir each tier, stat each file); `cat` of every op file (read each one).

Stdlib only. Nothing outside the scratch directory is touched: HOME, XDG_*, the caches and the
reference's journal all point into it. The reference venv lives at target/ref-venv (shared with
the differential tests) and is created on first use.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REF_VERSION = "0.11.0"
REF_VENV = REPO_ROOT / "target" / "ref-venv"
REF_BIN = REF_VENV / "bin" / "htrac"
REF_PY = REF_VENV / "bin" / "python"
TEMPLATE = REPO_ROOT / "config.yaml.template"
RESULTS = REPO_ROOT / "target" / "bench-results.md"


# ---------------------------------------------------------------------------
# The generator. Runs inside the reference venv's python; argv[1] is a JSON object
# {"root": <repo dir>, "n": N, "seed": S}. Prints a JSON summary on stdout.
# ---------------------------------------------------------------------------

GENERATOR = r'''
import datetime, json, random, sys
from pathlib import Path
from hypergumbo_tracker.store import _serialize_op, _compute_id

p = json.loads(sys.argv[1])
root = Path(p["root"]); n = p["n"]; rng = random.Random(p["seed"])

canon = root / ".agent" / "tracker" / ".ops"
work = root / ".agent" / "tracker-workspace" / ".ops"

VERBS = ["Fix", "Add", "Remove", "Refactor", "Document", "Speed up", "Harden", "Investigate",
         "Replace", "Split", "Cache", "Validate", "Migrate", "Simplify", "Test", "Rename"]
ADJ = ["stale", "racy", "slow", "missing", "duplicate", "flaky", "unbounded", "legacy",
       "broken", "implicit", "partial", "nested", "orphaned", "lossy", "quadratic", "noisy"]
NOUNS = ["cache invalidation", "lamport clock", "ops parser", "sync reminder", "merge driver",
         "priority sort", "tag catalog", "discussion thread", "stop hook", "journal mirror",
         "config loader", "ID prefix matching", "frozen sentinel", "union merge", "TUI layout",
         "web socket delta", "login endpoint", "alias table", "status filter", "field schema"]
AREAS = ["store.rs", "the CLI", "sync", "the web server", "the TUI", "validate", "batch mode",
         "the emitter", "setup wizard", "the reader", "compile", "ready", "count-todos"]
WORDS = ("the a an of to in for on with when after before while because so that this item "
         "file op ops clock branch merge cache read write parse emit agent human status "
         "priority tag parent isbefore create update discuss lock freeze tier workspace "
         "canonical stealth commit push pull rebase conflict line nonce YAML JSON quote "
         "escape unicode path directory flock fsync journal test fixture golden output "
         "regression benchmark latency allocation string list map order sort filter").split()
TAGS = ["perf", "bug", "cli", "sync", "docs", "tui", "web", "security", "parser", "emitter",
        "cache", "git", "ux", "refactor", "tests", "infra", "compat", "config", "ci", "api",
        "durability", "locking", "ids", "ready", "fuzz"]
AGENTS = [("agent", "dev_agent"), ("agent", "review_agent")]
HUMANS = [("human", "alice"), ("human", "root")]


def sentence():
    w = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    s = " ".join(w)
    r = rng.random()
    if r < 0.08:
        s += " \u2014 see `htrac show` output"
    elif r < 0.14:
        s += ': "quoted text" here'
    elif r < 0.18:
        s += " (caf\u00e9 na\u00efve r\u00e9sum\u00e9)"
    return s[0].upper() + s[1:] + "."


def paragraph(lo, hi):
    out = ""
    while len(out) < lo:
        out += (" " if out else "") + sentence()
    return out[:hi]


def who():
    return rng.choice(AGENTS) if rng.random() < 0.7 else rng.choice(HUMANS)


def fmt(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


base = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
titles = set()
items = []  # dicts: id, kind, data, tier, t0, final
for i in range(n):
    kind = "work_item" if rng.random() < 0.75 else "invariant"
    while True:
        title = f"{rng.choice(VERBS)} {rng.choice(ADJ)} {rng.choice(NOUNS)} in {rng.choice(AREAS)}"
        if rng.random() < 0.3:
            title += f" (#{rng.randint(1, 999)})"
        if title not in titles:
            break
        title += f" [{i}]"
        if title not in titles:
            break
    titles.add(title)
    initial = rng.choice(["todo_hard", "todo_soft"])
    r = rng.random()
    final = ("todo_hard" if r < 0.30 else "todo_soft" if r < 0.50
             else "in_progress" if r < 0.65 else "done")
    if final in ("todo_hard", "todo_soft"):
        initial = final if rng.random() < 0.7 else initial
    parent = items[rng.randrange(len(items))]["id"] if items and rng.random() < 0.2 else None
    isbefore = ([items[rng.randrange(len(items))]["id"]]
                if items and rng.random() < 0.1 else [])
    fields = {}
    if kind == "invariant":
        fields = {"statement": paragraph(40, 200), "root_cause": paragraph(40, 300)}
    data = {
        "kind": kind,
        "title": title,
        "status": initial,
        "priority": rng.randint(0, 4),
        "parent": parent,
        "tags": sorted(rng.sample(TAGS, rng.randint(1, 3))),
        "isbefore": isbefore,
        "duplicate_of": [],
        "not_duplicate_of": [],
        "pr_ref": None,
        "description": paragraph(80, 900),
        "fields": fields,
    }
    iid = _compute_id("WI" if kind == "work_item" else "INV", data)
    t0 = base + datetime.timedelta(seconds=int(i * 86400 * 365 / max(n, 1)) + rng.randint(0, 3600))
    items.append({"id": iid, "kind": kind, "data": data, "t0": t0, "final": final,
                  "tier": "canonical" if rng.random() < 0.15 else "workspace"})

ids = [it["id"] for it in items]
assert len(set(ids)) == len(ids), "ID collision"
n_ops = 0
for it in items:
    used = set()

    def nonce():
        while True:
            x = "%04x" % rng.getrandbits(16)
            if x not in used:
                used.add(x)
                return x

    t = it["t0"]
    clock = 1
    by, actor = who()
    ops = [{"op": "create", "at": fmt(t), "by": by, "actor": actor, "clock": clock,
            "nonce": nonce(), "data": it["data"]}]
    kinds = ["update"] * rng.randint(0, 4) + ["discuss"] * rng.randint(0, 3)
    rng.shuffle(kinds)
    n_upd = kinds.count("update")
    need_status = it["final"] != it["data"]["status"]
    if need_status and n_upd == 0:
        kinds.append("update"); n_upd = 1
    upd_seen = 0
    for k in kinds:
        t = t + datetime.timedelta(seconds=rng.randint(60, 86400 * 3))
        clock += 1
        by, actor = who()
        op = {"op": k, "at": fmt(t), "by": by, "actor": actor, "clock": clock, "nonce": nonce()}
        if k == "discuss":
            op["message"] = paragraph(20, 300)
        else:
            upd_seen += 1
            last = upd_seen == n_upd
            if last and need_status:
                op["set"] = {"status": it["final"]}
                if it["final"] == "done" and rng.random() < 0.3:
                    op["set"]["pr_ref"] = f"#{rng.randint(1, 5000)}"
            else:
                r = rng.random()
                if r < 0.25:
                    op["set"] = {"priority": rng.randint(0, 4)}
                elif r < 0.40:
                    op["set"] = {"description": paragraph(80, 900)}
                elif r < 0.55 and it["kind"] == "invariant":
                    op["set"] = {"fields": {"root_cause": paragraph(40, 300)}}
                elif r < 0.65 and need_status:
                    op["set"] = {"status": "in_progress"}
                elif r < 0.80:
                    op["set"] = {}
                    op["add"] = {"tags": [rng.choice(TAGS)]}
                elif r < 0.90:
                    op["set"] = {}
                    op["add"] = {"isbefore": [rng.choice(ids)]}
                else:
                    op["set"] = {}
                    op["remove"] = {"tags": [it["data"]["tags"][0]]}
        ops.append(op)
    d = canon if it["tier"] == "canonical" else work
    (d / f".{it['id']}.ops").write_text("".join(_serialize_op(o) for o in ops), encoding="utf-8")
    n_ops += len(ops)

print(json.dumps({"ids": ids, "n_ops": n_ops,
                  "canonical": sum(1 for it in items if it["tier"] == "canonical")}))
'''


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def die(msg: str) -> None:
    log(f"error: {msg}")
    sys.exit(1)


def run_checked(cmd, cwd, env, what=None, input_text=None, ok=(0,)):
    """Run a command; fail loudly (with its stderr) unless its exit code is in `ok`. Returns
    (stdout, stderr, secs)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       input=input_text, text=True)
    dt = time.perf_counter() - t0
    if p.returncode not in ok:
        log(f"command failed with exit {p.returncode}: {what or ' '.join(map(str, cmd))}")
        log(f"  cwd: {cwd}")
        log("  stderr:\n" + p.stderr.rstrip())
        if p.stdout.strip():
            log("  stdout (first 2000 chars):\n" + p.stdout[:2000].rstrip())
        sys.exit(1)
    return p.stdout, p.stderr, dt


def ensure_reference() -> None:
    if REF_BIN.exists():
        return
    log(f"creating reference venv at {REF_VENV} (hypergumbo-tracker=={REF_VERSION}) ...")
    REF_VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(REF_VENV)], check=True)
    subprocess.run([str(REF_VENV / "bin" / "pip"), "install", "-q",
                    f"hypergumbo-tracker=={REF_VERSION}"], check=True)
    if not REF_BIN.exists():
        die(f"pip install finished but {REF_BIN} is missing")


def isolated_env(scratch: Path) -> dict:
    env = dict(os.environ)
    for k in list(env):
        if k.startswith(("HTRAC_", "TRACKER_", "HYPERGUMBO_", "GIT_")):
            del env[k]
    home = scratch / "home"
    for d in ("home", "cache", "data", "config", "ref-cache", "htrac-cache", "journal"):
        (scratch / d).mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(home),
        "XDG_CACHE_HOME": str(scratch / "cache"),
        "XDG_DATA_HOME": str(scratch / "data"),
        "XDG_CONFIG_HOME": str(scratch / "config"),
        "TRACKER_CACHE_DIR": str(scratch / "ref-cache"),
        "HTRAC_CACHE_DIR": str(scratch / "htrac-cache"),
        "HYPERGUMBO_TRACKER_JOURNAL_ROOT": str(scratch / "journal"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8",
        # Rows without "watch" in their name time the read as where no
        # watcher runs: a tracker of 5,000 op files or more starts one on
        # its own (`watch.auto_start`), and `with_watcher` lifts this.
        "HTRAC_NO_WATCH": "1",
    })
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    return env


def build_tracker(repo: Path, n: int, env: dict, seed: int) -> dict:
    repo.mkdir(parents=True)
    git = lambda *a: run_checked(["git", *a], repo, env)  # noqa: E731
    git("init", "-q", "-b", "dev")
    git("config", "user.name", "Bench User")
    git("config", "user.email", "bench@example.invalid")
    git("config", "commit.gpgsign", "false")
    git("commit", "-q", "--allow-empty", "-m", "initial")

    agent = repo / ".agent"
    tracker = agent / "tracker"
    (tracker / ".ops").mkdir(parents=True)
    (agent / "tracker-workspace" / ".ops").mkdir(parents=True)
    (agent / "tracker-workspace" / "stealth").mkdir(parents=True)
    # What `htrac init` writes.
    (tracker / ".ops" / ".gitattributes").write_text("*.ops merge=union\n")
    (agent / "tracker-workspace" / ".ops" / ".gitattributes").write_text("*.ops merge=union\n")
    (agent / "tracker-workspace" / "stealth" / ".gitignore").write_text("*.ops\n")
    (tracker / ".gitignore").write_text("config.yaml\n")
    shutil.copy2(TEMPLATE, tracker / "config.yaml.template")
    shutil.copy2(TEMPLATE, tracker / "config.yaml")
    os.chmod(tracker / "config.yaml", 0o444)

    out, _, dt = run_checked([str(REF_PY), "-c", GENERATOR,
                              json.dumps({"root": str(repo), "n": n, "seed": seed})],
                             repo, env, what=f"op generator (n={n})")
    info = json.loads(out)
    log(f"  generated {n} items / {info['n_ops']} ops "
        f"({info['canonical']} canonical) in {dt:.1f}s")
    git("add", "-A")
    git("commit", "-q", "-m", f"tracker with {n} items")
    return info


def list_count(cmd_prefix, repo, env, extra=()):
    out, _, _ = run_checked([*cmd_prefix, "--json", "list", *extra], repo, env)
    data = json.loads(out)
    if isinstance(data, dict):  # be liberal about the envelope
        data = data.get("items", data)
    return len(data)


def ready_ids(cmd_prefix, repo, env):
    out, _, _ = run_checked([*cmd_prefix, "--json", "ready"], repo, env)
    data = json.loads(out)
    if isinstance(data, dict):
        ready = data.get("ready", [])
        unread = data.get("items_with_unread_messages", [])
    else:
        ready, unread = data, []
    return [r["id"] for r in ready], [r["id"] for r in unread]


def normalized_json(cmd, repo, env):
    """`--json` output with discussion nonces blanked: the reference prints "" for them when
    it serves an item from its SQLite cache and the real nonce when it has just parsed it."""
    out, _, _ = run_checked(cmd, repo, env)
    data = json.loads(out)

    def walk(x):
        if isinstance(x, dict):
            if "nonce" in x and "message" in x:
                x["nonce"] = ""
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(data)
    return data


def compare_outputs(ours, ref, repo, env, show_id):
    """Byte/structure comparisons of the two tools' outputs; returns notes on differences."""
    notes = []
    for args in (["list"], ["ready"], ["show", show_id]):
        a = normalized_json([*ours, "--json", *args], repo, env)
        b = normalized_json([*ref, "--json", *args], repo, env)
        if a != b:
            notes.append(f"MISMATCH: `--json {' '.join(args[:1])}` output differs between the tools "
                         "(discussion nonces ignored).")
    for args in (["list"], ["ready"], ["show", show_id], ["list", "--status", "todo_hard"]):
        a, _, _ = run_checked([*ours, *args], repo, env)
        b, _, _ = run_checked([*ref, *args], repo, env)
        if a != b:
            la, lb = a.splitlines(), b.splitlines()
            diff = [(x, y) for x, y in zip(la, lb) if x != y]
            first = diff[0] if diff else (f"<{len(la)} lines>", f"<{len(lb)} lines>")
            notes.append(f"text stdout of `{' '.join(args[:1] if args[0] == 'show' else args)}` "
                         f"differs: {len(diff)} differing line(s) of {len(lb)} "
                         f"(line counts htrac {len(la)} / ref {len(lb)}); first: htrac "
                         f"`{first[0].strip()[:70]}` vs ref `{first[1].strip()[:70]}`.")
    return notes


def fmt_ms(samples):
    if not samples:
        return "n/a"
    med = statistics.median(samples) * 1000
    lo, hi = min(samples) * 1000, max(samples) * 1000
    return f"{med:.1f} ({lo:.1f}–{hi:.1f})" if med < 100 else f"{med:.0f} ({lo:.0f}–{hi:.0f})"


def machine_note() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ncpu = len(os.sched_getaffinity(0))
    except AttributeError:
        ncpu = os.cpu_count()
    git_v = subprocess.run(["git", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    ref_py_v = subprocess.run([str(REF_PY), "--version"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True).stdout.strip()
    return (f"Machine: nproc={ncpu}, CPU \"{cpu}\", {platform.system()} {platform.release()}, "
            f"{git_v}, reference hypergumbo-tracker {REF_VERSION} on {ref_py_v}.")


FLOOR_SRC = r'''
use std::io::{Read, Write};
// What any htrac command must at least cost, timed as a process: nothing
// (an empty Rust binary's start), one fsync, a stat or a read of every op file.
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let mut n = 0u64;
    match a.first().map(String::as_str) {
        Some("fsync") => {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&a[1]).unwrap();
            let mut line = vec![b'x'; 179];
            line.push(b'\n');
            f.write_all(&line).unwrap();
            f.sync_all().unwrap();
        }
        Some(mode @ ("stat" | "cat")) => {
            let mut buf = Vec::new();
            for d in &a[1..] {
                let Ok(rd) = std::fs::read_dir(d) else { continue };
                for e in rd.flatten() {
                    if !e.file_name().to_string_lossy().ends_with(".ops") {
                        continue;
                    }
                    if mode == "cat" {
                        buf.clear();
                        std::fs::File::open(e.path()).unwrap().read_to_end(&mut buf).unwrap();
                        n += buf.len() as u64;
                    } else {
                        n += std::fs::symlink_metadata(e.path()).unwrap().len();
                    }
                }
            }
        }
        _ => {}
    }
    std::process::exit((std::hint::black_box(n) == u64::MAX) as i32);
}
'''

FLOOR_NAMES = {
    "empty": "process start of an empty Rust binary (linked as htrac is)",
    "fsync": "process start + one `fsync` (append a line, fsync it)",
    "stat": "process start + `stat` of every op file (readdir each tier)",
    "cat": "process start + `cat` of every op file (read each one)",
}


def is_static(binary: Path) -> bool:
    """Whether an ELF binary has no program interpreter (statically linked)."""
    with open(binary, "rb") as f:
        head = f.read(1 << 16)
    return b"/ld-linux" not in head and b"/ld-musl" not in head


def build_floor_tools(scratch_root: Path, static: bool) -> dict:
    """Compiles the floor helper and an empty Rust binary with rustc (once per run), linked
    as htrac is (`make build` links htrac statically on glibc hosts), so each floor costs
    exactly the start-up htrac itself pays."""
    d = scratch_root / "floor"
    d.mkdir(parents=True, exist_ok=True)
    (d / "floor.rs").write_text(FLOOR_SRC)
    (d / "empty.rs").write_text("fn main() {}\n")
    rustc = shutil.which("rustc") or die("rustc not found (needed for the floors)")
    link = ["-C", "target-feature=+crt-static"] if static else []
    for name in ("floor", "empty"):
        subprocess.run([rustc, "-O", "--edition", "2021", *link, "-o", str(d / name),
                        str(d / f"{name}.rs")], check=True)
    return {"floor": str(d / "floor"), "empty": str(d / "empty"), "dir": d}


def measure_floors(tools, repo, env, runs, timed) -> dict:
    """Median-able samples of each floor, measured now (after one warm-up each)."""
    tiers = [str(repo / ".agent" / t) for t in
             ("tracker/.ops", "tracker-workspace/.ops", "tracker-workspace/stealth")]
    sink = str(tools["dir"] / f"fsync-{os.getpid()}.log")
    cmds = {
        "empty": [tools["empty"]],
        "fsync": [tools["floor"], "fsync", sink],
        "stat": [tools["floor"], "stat", *tiers],
        "cat": [tools["floor"], "cat", *tiers],
    }
    out = {}
    for k, cmd in cmds.items():
        timed(cmd)
        out[k] = [timed(cmd) for _ in range(runs)]
    return out


def med_ms(samples):
    return statistics.median(samples) * 1000


def target_cell(target, so, sr, floors):
    """(target text, met) for a row; met is None when there is nothing to check."""
    if target is None or not so:
        return "—", None
    kind = target[0]
    if kind == "ratio":
        if not sr:
            return "—", None
        want = target[1]
        limit = med_ms(sr) / want
        return f"≥ {want}× (≤ {limit:.1f} ms)", med_ms(so) <= limit
    if kind == "ms":
        return f"≤ {target[1]:g} ms", med_ms(so) <= target[1]
    if kind == "xfloor":
        limit = med_ms(floors[target[2]]) * target[1]
        label = "find/cat" if target[2] == "findcat" else target[2]
        return f"≤ {target[1]}× {label} floor (≤ {limit:.0f} ms)", med_ms(so) <= limit
    raise ValueError(target)


def met_cell(met):
    return "" if met is None else ("yes" if met else "**no**")


def floor_cell(key, floors):
    return f"{med_ms(floors[key]):.1f} ({key})" if key else ""


def floor_rows(floors, width):
    """The floors themselves, as rows of a table with `width` columns after the name."""
    rows = []
    for k, label in FLOOR_NAMES.items():
        if k not in floors:
            continue
        cells = [fmt_ms(floors[k])] + [""] * (width - 1)
        rows.append(f"| floor ({k}): {label} | " + " | ".join(cells) + " |")
    return rows


def load_note() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def cold_ready(ours, repo, env, runs):
    """`ready` with htrac's read cache removed before each run (it is rebuilt by the run)."""
    cache = Path(env["HTRAC_CACHE_DIR"])
    out = []
    for _ in range(runs):
        for f in cache.glob("items-*.bin"):
            f.unlink()
        _, _, dt = run_checked([*ours, "ready"], repo, env)
        out.append(dt)
    return out


def peak_rss_mb(cmd, repo, env):
    """Peak RSS of one run, from `/usr/bin/time -v` (else from getrusage, a max over children)."""
    if Path("/usr/bin/time").exists():
        _, err, _ = run_checked(["/usr/bin/time", "-v", *cmd], repo, env)
        for line in err.splitlines():
            if "Maximum resident set size" in line:
                return f"{int(line.split(':')[1]) / 1024:.1f} MB (`/usr/bin/time -v`)"
    import resource
    run_checked(cmd, repo, env)
    return (f"≤ {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MB "
            "(getrusage, max over all children)")


def peak_rss(cmd, repo, env, ok=(0,)):
    """Peak RSS in MB of one run of `cmd` (`/usr/bin/time -v`), or None."""
    if not Path("/usr/bin/time").exists():
        return None
    _, err, _ = run_checked(["/usr/bin/time", "-v", *cmd], repo, env, ok=ok)
    for line in err.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024
    return None


def clone_items(repo: Path, n: int) -> int:
    """Grows a generated tracker to n op files by copying existing ones under new IDs
    (`<id>-cK`). Only htrac reads the result, so the copies' IDs need not be hashes."""
    dirs = [repo / ".agent" / "tracker" / ".ops", repo / ".agent" / "tracker-workspace" / ".ops"]
    base = [p for d in dirs for p in sorted(d.glob(".*.ops"))]
    have, k = len(base), 0
    while have < n:
        k += 1
        for p in base:
            if have >= n:
                break
            shutil.copyfile(p, p.with_name(f"{p.name[:-4]}-c{k}.ops"))
            have += 1
    return have


def with_watcher(ours, repo, env, runs, timed, specs):
    """Times each (name, argv or factory) with `htrac watch` running (issue 23): the watcher
    is started in the scratch environment, warmed by one read, and stopped after. An htrac
    built before `watch` existed times nothing."""
    if subprocess.run([*ours, "watch", "--help"], cwd=repo, env=env,
                      capture_output=True).returncode != 0:
        return []
    no_watch = env.pop("HTRAC_NO_WATCH", None)
    run_checked(ours + ["watch"], repo, env)
    # The rows before these wrote files (add, update, claim): let them age past htrac's
    # racy window, as the warm rows' files have, so these time warm reads too.
    time.sleep(2.5)
    out = []
    try:
        for name, spec in specs:
            log(f"  timing {name} ...")
            timed(spec)
            out.append((name, [timed(spec) for _ in range(runs)]))
    finally:
        run_checked(ours + ["watch", "stop"], repo, env)
        if no_watch is not None:
            env["HTRAC_NO_WATCH"] = no_watch
    return out


def bench_size_htrac_only(n, runs, htrac, scratch_root, seed, base, tools):
    """Sizes too large for the reference: htrac alone, warm and cold, with peak RSS."""
    scratch = scratch_root / f"n{n}"
    env = isolated_env(scratch)
    repo = scratch / "repo"
    log(f"\n== {n} items (htrac only): generating {base} items, copying up to {n}")
    build_tracker(repo, base, env, seed)
    clone_items(repo, n)
    # Committed, as a tracker is: `validate --check-locks` (a pre-commit
    # hook) checks the ops new since HEAD.
    run_checked(["git", "add", "-A"], repo, env)
    run_checked(["git", "commit", "-q", "-m", f"tracker copied up to {n} items"], repo, env)
    # htrac does not cache files changed within the last 2 s (racy timestamps); real op
    # files are older than that.
    time.sleep(2.5)
    ours = [str(htrac), "--no-auto-sync"]
    count = list_count(ours, repo, env)
    if count != n:
        die(f"htrac lists {count} items for {n} files")
    floor_cmd = ["sh", "-c", "find .agent -type f -name '*.ops' -exec cat {} + > /dev/null"]

    # `validate` exits 1 when it finds problems (the generator writes some:
    # self-references, cycles); that is its answer, not a failure.
    def timed(cmd, ok=(0,)):
        return run_checked(cmd, repo, env, ok=ok)[2]

    timed(floor_cmd)
    floor = [timed(floor_cmd) for _ in range(runs)]
    floors = measure_floors(tools, repo, env, runs, timed)
    cold = cold_ready(ours, repo, env, runs)
    def prime_fresh():
        for p in Path(env["HTRAC_CACHE_DIR"]).glob("memo-prime-*.bin"):
            p.unlink()
        return ours + ["prime"]
    def validate_fresh():
        for p in Path(env["HTRAC_CACHE_DIR"]).glob("validate-*.bin"):
            p.unlink()
        return ours + ["validate", "--check-locks"]
    # name, argv (or factory), target (ms, MB), floor
    rows = [("`ready`", ours + ["ready"], (250, 100), "stat"),
            ("`list`", ours + ["list"], None, "stat"),
            ("`count-todos`", ours + ["count-todos"], None, "stat"),
            ("`prime` (nothing changed since the last one)", ours + ["prime"], None, "stat"),
            ("`prime` (recomputed: briefing memo removed)", prime_fresh, None, "stat"),
            ("`validate --check-locks` (nothing changed since the last one)",
             ours + ["validate", "--check-locks"], (2000, 200), "cat"),
            ("`validate --check-locks` (first run: validation memo removed)", validate_fresh,
             (2000, 200), "cat")]
    results = []
    for name, cmd, _, _ in rows:
        log(f"  timing {name} ...")
        timed(cmd() if callable(cmd) else cmd, ok=(0, 1))
        results.append((name, [timed(cmd() if callable(cmd) else cmd, ok=(0, 1))
                               for _ in range(runs)]))
    # With the resident watcher running: a warm read stats only what changed.
    watched = [("`list` with `htrac watch` running", ours + ["list"]),
               ("`ready` with `htrac watch` running", ours + ["ready"]),
               ("`prime` (recomputed) with `htrac watch` running", prime_fresh)]
    results += with_watcher(ours, repo, env, runs,
                            lambda c: timed(c() if callable(c) else c, ok=(0, 1)), watched)
    rows += [(name, cmd, None, "stat") for name, cmd in watched][:len(results) - len(rows)]
    rss = {name: peak_rss(cmd() if callable(cmd) else cmd, repo, env, ok=(0, 1))
           for name, cmd, target, _ in rows if target}
    for f in Path(env["HTRAC_CACHE_DIR"]).glob("items-*.bin"):
        f.unlink()
    rss_cold = peak_rss_mb(ours + ["ready"], repo, env)
    fl = statistics.median(floor) * 1000
    lines = [
        f"### {n} items, htrac only ({base} generated items copied under new IDs, committed; "
        f"{runs} timed runs after 1 warm-up)",
        "",
        "| command | htrac median ms (min–max) | × find/cat floor | peak RSS | target | met "
        "| floor ms (which) |",
        "|---|---:|---:|---:|---|---|---:|",
    ]
    for (name, so), (_, _, target, fkey) in zip(results, rows):
        mb = rss.get(name)
        if target:
            tcell = f"≤ {target[0]:g} ms, ≤ {target[1]} MB"
            met = med_ms(so) <= target[0] and mb is not None and mb <= target[1]
        else:
            tcell, met = "—", None
        lines.append(f"| {name} (warm) | {fmt_ms(so)} | {med_ms(so) / fl:.2f} "
                     f"| {'' if mb is None else f'{mb:.0f} MB'} | {tcell} | {met_cell(met)} "
                     f"| {floor_cell(fkey, floors)} |")
    lines.append(f"| `ready` cold (cache removed first) | {fmt_ms(cold)} | "
                 f"{statistics.median(cold) * 1000 / fl:.2f} | | — | | {floor_cell('cat', floors)} |")
    lines += floor_rows(floors, 6)
    lines.append(f"| floor: `find .agent -type f -name '*.ops' -exec cat {{}} +` (earlier tables' "
                 f"cat floor) | {fmt_ms(floor)} | 1 | | | | |")
    lines.append("")
    lines.append(f"Peak RSS (`/usr/bin/time -v` when present) of `ready`: warm as above; cold "
                 f"{rss_cold}. Load average (1 min) at the end of this size: {load_note()}.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Benchmark one size
# ---------------------------------------------------------------------------


def bench_size(n, runs, htrac, scratch_root, seed, tools):
    scratch = scratch_root / f"n{n}"
    env = isolated_env(scratch)
    repo = scratch / "repo"
    log(f"\n== {n} items: building tracker in {repo}")
    info = build_tracker(repo, n, env, seed)
    ids = info["ids"]

    ours = [str(htrac), "--no-auto-sync"]
    ref = [str(REF_BIN), "--no-auto-sync"]
    notes = []

    # Sanity: same item count (the reference's first call also fills its cache).
    log("  checking item counts (list --json) ...")
    c_ref, c_ours = list_count(ref, repo, env), list_count(ours, repo, env)
    if c_ref != c_ours:
        die(f"item count mismatch at n={n}: htrac list --json → {c_ours}, reference → {c_ref}")
    if c_ours != n:
        notes.append(f"`list --json` reports {c_ours} items for {n} generated (both tools agree).")
    t_ref = list_count(ref, repo, env, ("--status", "todo_hard"))
    t_ours = list_count(ours, repo, env, ("--status", "todo_hard"))
    if t_ref != t_ours:
        notes.append(f"MISMATCH: `list --status todo_hard` count: htrac {t_ours}, reference {t_ref}.")
    r_ref, u_ref = ready_ids(ref, repo, env)
    r_ours, u_ours = ready_ids(ours, repo, env)
    if r_ref != r_ours or u_ref != u_ours:
        notes.append(f"MISMATCH: `ready --json`: htrac {len(r_ours)} ready + {len(u_ours)} unread, "
                     f"reference {len(r_ref)} + {len(u_ref)}"
                     + (" (same sets, different order)" if sorted(r_ref) == sorted(r_ours)
                        and sorted(u_ref) == sorted(u_ours) else "") + ".")
    cnt, _, _ = run_checked([*ref, "count-todos"], repo, env)
    log(f"  {c_ours} items, {t_ours} todo_hard, ready {len(r_ours)} (+{len(u_ours)} unread), "
        f"reference count-todos: {cnt.strip()[:80]}")

    # `show` target: a workspace item with a long log (deterministic pick).
    def nops(i):
        p = repo / ".agent" / "tracker-workspace" / ".ops" / f".{i}.ops"
        return p.read_text().count("\n- op:") if p.exists() else -1
    show_id = max(ids[: min(len(ids), 500)], key=nops)
    notes += compare_outputs(ours, ref, repo, env, show_id)

    floor_cmd = ["sh", "-c", "find .agent -type f -name '*.ops' -exec cat {} + > /dev/null"]

    add_counter = [0]
    token = uuid.uuid4().hex[:8]

    def add_cmd(prefix, tool):
        def make():
            add_counter[0] += 1
            k = add_counter[0]
            return [*prefix, "add", "--kind", "work_item",
                    "--title", f"Benchmark {tool} add {token}-{k}: measure write latency {k * 7919}",
                    "--priority", str(k % 5), "--tag", "bench",
                    "--description", f"Added by benches/compare.py, run {k}, tool {tool}."]
        return make

    upd_counter = [0]

    def update_cmd(prefix, item):
        def make():
            upd_counter[0] += 1
            return [*prefix, "update", item, "--priority", str(upd_counter[0] % 5)]
        return make

    # Targets (issue 23): every agent command at least 50x the reference at
    # 200 and 10,000 items; cold `ready` at 10,000 within 1.2x the cat floor;
    # `prime` recomputed within 20 ms at 10,000. Floors: see FLOOR_NAMES.
    agent = ("ratio", 50)
    big = n >= 10000
    # name, htrac argv (or factory), reference argv (or factory), target, floor
    rows = [
        ("`ready`", ours + ["ready"], ref + ["ready"], agent, "stat"),
        ("`list`", ours + ["list"], ref + ["list"], agent, "stat"),
        ("`show <full id>`", ours + ["show", show_id], ref + ["show", show_id], agent, "empty"),
        ("`list --status todo_hard`", ours + ["list", "--status", "todo_hard"],
         ref + ["list", "--status", "todo_hard"], agent, "stat"),
        ("`count-todos`", ours + ["count-todos"], ref + ["count-todos"], agent, "stat"),
        ("`add` (`--no-auto-sync`)", add_cmd(ours, "htrac"), add_cmd(ref, "ref"), agent, "fsync"),
        ("`update --priority` (`--no-auto-sync`)", update_cmd(ours, ids[1]),
         update_cmd(ref, ids[2]), agent, "fsync"),
    ]

    # `claim` has no counterpart in the reference (an htrac built before it
    # existed skips these rows). By ID: the same session claims the same
    # item again, renewing its lease (one item read, one op written, as
    # `update`); without an ID: the best free ready item (a `ready` read,
    # then the same write), a new one each time.
    has_claim = subprocess.run([*ours, "claim", "--help"], cwd=repo, env=env,
                               capture_output=True).returncode == 0
    if has_claim:
        rows += [
            ("`claim <id>` (renews; `--no-auto-sync`)", ours + ["claim", ids[3]], None, None,
             "fsync"),
            ("`claim` (best free ready item; `--no-auto-sync`)", ours + ["claim"], None, None,
             "fsync"),
        ]

    # `prime` has no counterpart in the reference. Kept: nothing changed
    # since the last briefing (its memo is used); recomputed: the memo is
    # removed first, as after any write.
    def prime_fresh():
        for p in Path(env["HTRAC_CACHE_DIR"]).glob("memo-prime-*.bin"):
            p.unlink()
        return ours + ["prime"]
    # Before the writes: a file changed within 2 s is never kept.
    rows[5:5] = [
        ("`prime` (nothing changed since the last one)", ours + ["prime"], None, None, "stat"),
        ("`prime` (recomputed: briefing memo removed)", prime_fresh, None,
         ("ms", 20) if big else None, "stat"),
    ]

    def argv(spec):
        return spec() if callable(spec) else spec

    def timed(spec):
        _, _, dt = run_checked(argv(spec), repo, env)
        return dt

    # Floors: warm the page cache, then time (the cat floor as in earlier
    # tables, and the helper's).
    timed(floor_cmd)
    floor = [timed(floor_cmd) for _ in range(runs)]
    floors = measure_floors(tools, repo, env, runs, timed)

    results = []
    for name, o, r, _, _ in rows:
        log(f"  timing {name} ...")
        so, sr = [], []
        if o is not None:
            timed(o)
        if r is not None:
            timed(r)
        for _ in range(runs):  # interleave the two tools
            if o is not None:
                so.append(timed(o))
            if r is not None:
                sr.append(timed(r))
        results.append((name, so, sr))

    # With the resident watcher running: a warm read stats only what changed. `list` and
    # `ready` are held to the same 50× as without it, against the reference's own
    # `list` and `ready` of this run (the reference has no watcher); `prime` recomputed
    # to 20 ms at 10,000 (issue 23).
    plain = {name: sr for name, _, sr in results}
    watched = [("`list` with `htrac watch` running (reference: its `list`)", ours + ["list"],
                ("ratio", 50), "`list`"),
               ("`ready` with `htrac watch` running (reference: its `ready`)", ours + ["ready"],
                ("ratio", 50), "`ready`"),
               ("`prime` (recomputed) with `htrac watch` running", prime_fresh,
                ("ms", 20) if big else None, None)]
    for name, so in with_watcher(ours, repo, env, runs, timed,
                                 [(w[0], w[1]) for w in watched]):
        row = next(w for w in watched if w[0] == name)
        results.append((name, so, plain.get(row[3], []) if row[3] else []))
        rows.append((name, row[1], None, row[2], "stat"))

    cold = cold_ready(ours, repo, env, runs)
    rss = peak_rss_mb(ours + ["ready"], repo, env)

    # After the adds: both tools see all items, including each other's new ones.
    expect = c_ours + 2 * (runs + 1)
    e_ref, e_ours = list_count(ref, repo, env), list_count(ours, repo, env)
    if e_ref != e_ours:
        die(f"item count mismatch after adds at n={n}: htrac {e_ours}, reference {e_ref}")
    if e_ours != expect:
        notes.append(f"after the adds `list --json` shows {e_ours} items, expected {expect}.")

    # Table.
    fl = statistics.median(floor) * 1000
    lines = [
        f"### {n} items ({info['n_ops']} ops, {info['canonical']} canonical / "
        f"{n - info['canonical']} workspace; {runs} timed runs after 1 warm-up)",
        "",
        "| command | htrac median ms (min–max) | reference median ms (min–max) "
        "| ratio (ref/htrac) | target | met | floor ms (which) |",
        "|---|---:|---:|---:|---|---|---:|",
    ]
    for (name, so, sr), (_, _, _, target, fkey) in zip(results, rows):
        ratio = (f"{statistics.median(sr) / statistics.median(so):.1f}×" if so and sr else "—")
        tcell, met = target_cell(target, so, sr, floors)
        lines.append(f"| {name} | {fmt_ms(so) if so else '—'} | {fmt_ms(sr) if sr else '—'} "
                     f"| {ratio} | {tcell} | {met_cell(met)} | {floor_cell(fkey, floors)} |")
    ref_ready = statistics.median(results[0][2])
    # The cat floor is the find/cat one (as in the earlier tables).
    floors["findcat"] = floor
    tcell, met = target_cell(("xfloor", 1.2, "findcat") if big else None, cold, None, floors)
    lines.append(f"| `ready` cold (htrac cache removed first) | {fmt_ms(cold)} | | "
                 f"{ref_ready / statistics.median(cold):.1f}× (vs warm reference) | {tcell} "
                 f"| {met_cell(met)} | {floor_cell('cat', floors)} |")
    lines += floor_rows(floors, 6)
    lines.append(f"| floor: `find .agent -type f -name '*.ops' -exec cat {{}} +` (earlier tables' "
                 f"cat floor) | {fmt_ms(floor)} | | | | | |")
    lines.append("")
    lines.append(f"htrac `ready` (warm): {statistics.median(results[0][1]) * 1000 / fl:.2f}× the "
                 f"find/cat floor, {med_ms(results[0][1]) / med_ms(floors['stat']):.2f}× the stat "
                 f"floor; peak RSS {rss}. Load average (1 min) at the end of this size: "
                 f"{load_note()}.")
    lines.append(f"`show` target: {show_id} ({nops(show_id)} ops).")
    for note in notes:
        lines.append(f"- Note: {note}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="200,10000,100000", help="comma-separated item counts")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (after 1 warm-up)")
    ap.add_argument("--htrac", default="target/release/htrac", help="htrac binary")
    ap.add_argument("--seed", type=int, default=20251124, help="generator seed")
    ap.add_argument("--htrac-only-above", type=int, default=20000,
                    help="sizes above this are timed for htrac alone (the reference is too slow)")
    ap.add_argument("--clone-base", type=int, default=2000,
                    help="for htrac-only sizes: items generated, then copied up to the size")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    htrac = Path(args.htrac)
    if not htrac.is_absolute():
        htrac = (Path.cwd() / htrac) if (Path.cwd() / htrac).exists() else REPO_ROOT / htrac
    if not htrac.exists():
        die(f"{htrac} not found; run `cargo build --release` first")
    if not TEMPLATE.exists():
        die(f"{TEMPLATE} not found")
    ensure_reference()

    t_start = time.perf_counter()
    load_start = load_note()
    scratch_root = Path(tempfile.mkdtemp(prefix="htrac-bench-"))
    sections = []
    static = False
    try:
        static = is_static(htrac)
        log(f"htrac {htrac} is {'statically' if static else 'dynamically'} linked; so are the floors")
        tools = build_floor_tools(scratch_root, static)
        for n in sizes:
            if n > args.htrac_only_above:
                sections.append(bench_size_htrac_only(n, args.runs, htrac.resolve(), scratch_root,
                                                      args.seed, min(n, args.clone_base), tools))
            else:
                sections.append(bench_size(n, args.runs, htrac.resolve(), scratch_root,
                                           args.seed, tools))
            if not args.keep:
                shutil.rmtree(scratch_root / f"n{n}", ignore_errors=True)
    finally:
        if args.keep:
            log(f"scratch kept at {scratch_root}")
        else:
            shutil.rmtree(scratch_root, ignore_errors=True)

    total = time.perf_counter() - t_start
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n\n".join([
        f"## htrac vs hypergumbo-tracker {REF_VERSION} ({stamp})",
        machine_note() + f" htrac {htrac} is {'statically' if static else 'dynamically'} "
        "linked (`make build`), and so are the floors' helpers."
        f" Load average (1 min) at the start: {load_start}. Wall time per "
        "process via `time.perf_counter` around `subprocess.run` (stdout/stderr captured); both "
        "tools run with `--no-auto-sync` on the same files; median (min–max). Rows that do not "
        "name `htrac watch` run with `HTRAC_NO_WATCH=1`: the read of a tracker where no watcher "
        "runs (from 5,000 op files a read starts one on its own, `watch.auto_start`, so at "
        "10,000 items and more the rows with `htrac watch` running are the default). "
        "Targets are issue "
        "23's; each floor is a helper process timed the same way: " + "; ".join(
            f"*{k}*: {v}" for k, v in FLOOR_NAMES.items()) + ".",
        *sections,
        f"Total benchmark runtime: {total:.0f} s.",
    ]) + "\n"
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    log(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

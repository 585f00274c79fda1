//! Differential tests against the reference implementation, `htrac` from
//! hypergumbo-tracker 0.11.0 (Python, PyPI).
//!
//! The reference is installed once into `<target>/ref-venv`. When that is
//! impossible (no network), each test prints `SKIPPED: reference
//! unavailable: …` and passes, except under `CI=true`, where it fails.
//!
//! Every process runs hermetically: HOME, the XDG directories and both
//! tools' cache directories point into a per-repository temp dir, and
//! `--no-auto-sync` is always passed (before the subcommand, which is the
//! only place the reference accepts global flags).
//!
//! Deliberate differences that are not tested here: we reject priorities
//! outside 0–4, unknown statuses and empty titles (the reference accepts
//! them); our plain `update` line names the resolved item; our stderr has no
//! sync banner.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;
use tempfile::TempDir;

const REFERENCE_SPEC: &str = "hypergumbo-tracker==0.11.0";
const REFERENCE_DIST_INFO: &str = "hypergumbo_tracker-0.11.0.dist-info";
const OURS: &str = env!("CARGO_BIN_EXE_htrac");

// ---------------------------------------------------------------------------
// The reference, installed once
// ---------------------------------------------------------------------------

fn target_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(d) => manifest.join(d), // an absolute `d` replaces `manifest`
        None => manifest.join("target"),
    }
}

fn venv_is_complete(venv: &Path) -> bool {
    if !venv.join("bin/htrac").is_file() {
        return false;
    }
    // The right version: its dist-info is in site-packages.
    let Ok(lib) = fs::read_dir(venv.join("lib")) else {
        return false;
    };
    lib.flatten().any(|py| {
        py.path()
            .join("site-packages")
            .join(REFERENCE_DIST_INFO)
            .is_dir()
    })
}

fn run_setup_step(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Creates `<target>/ref-venv` unless it is already complete. Serialised
/// across threads by the caller's `OnceLock` and across test binaries by an
/// exclusive `flock` on `<target>/ref-venv.lock`: whoever holds the lock
/// either finds a complete venv or builds one from scratch, so a reader
/// never sees a half-installed venv.
fn setup_reference() -> Result<PathBuf, String> {
    let target = target_dir();
    let venv = target.join("ref-venv");
    fs::create_dir_all(&target).map_err(|e| format!("create {}: {e}", target.display()))?;
    let lock_path = target.join("ref-venv.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("open {}: {e}", lock_path.display()))?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| format!("lock {}: {e}", lock_path.display()))?;

    if !venv_is_complete(&venv) {
        let _ = writeln!(
            std::io::stderr(),
            "differential: installing {REFERENCE_SPEC} into {} (once)",
            venv.display()
        );
        if venv.exists() {
            fs::remove_dir_all(&venv)
                .map_err(|e| format!("remove stale {}: {e}", venv.display()))?;
        }
        let result = run_setup_step(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            "python3 -m venv",
        )
        .and_then(|()| {
            run_setup_step(
                Command::new(venv.join("bin/pip"))
                    .args([
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        "--timeout",
                        "30",
                        "--retries",
                        "2",
                        REFERENCE_SPEC,
                    ])
                    .env("PIP_NO_INPUT", "1"),
                "pip install",
            )
        })
        .and_then(|()| {
            if venv_is_complete(&venv) {
                Ok(())
            } else {
                Err(format!(
                    "pip succeeded but {} has no bin/htrac or {REFERENCE_DIST_INFO}",
                    venv.display()
                ))
            }
        });
        if let Err(e) = result {
            // Leave nothing half-built behind for the next run.
            let _ = fs::remove_dir_all(&venv);
            return Err(e);
        }
    }
    drop(lock); // releases the flock
    Ok(venv)
}

/// The reference's venv, or `None` (after a loud message) when it cannot be
/// installed outside CI. Under `CI=true` an unavailable reference fails.
fn reference() -> Option<PathBuf> {
    static REF: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match REF.get_or_init(setup_reference) {
        Ok(venv) => Some(venv.clone()),
        Err(reason) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("the reference {REFERENCE_SPEC} is unavailable (CI=true, so this is a failure): {reason}");
            }
            // Straight to the stderr handle, not `eprintln!`: the test
            // harness captures the macros, and this must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n{stars}\nSKIPPED: reference unavailable: {reason}\n{stars}\n",
                stars = "*".repeat(72)
            );
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Repositories and running the tools
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tool {
    Ours,
    Theirs,
}

use Tool::{Ours, Theirs};

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Ours => "ours",
            Theirs => "reference",
        }
    }
}

struct Ctx {
    venv: PathBuf,
    tmp: TempDir,
}

/// A git repository plus the private HOME/XDG/cache dirs both tools use
/// when they work on it (one set per repo, so no cache is ever shared
/// between two repos that hold the same IDs).
struct Repo {
    dir: PathBuf,
    env: PathBuf,
}

impl Ctx {
    fn new() -> Option<Ctx> {
        let venv = reference()?;
        let tmp = tempfile::Builder::new()
            .prefix("htrac-differential-")
            .tempdir()
            .expect("tempdir");
        Some(Ctx { venv, tmp })
    }

    /// A fresh repo on branch `dev` with one empty commit, initialised by `init_by`.
    fn repo(&self, name: &str, init_by: Tool) -> Repo {
        let base = self.tmp.path().join(name);
        let dir = base.join("repo");
        let env = base.join("env");
        for d in [
            "home",
            "cache",
            "data",
            "state",
            "tracker-cache",
            "htrac-cache",
            "journal",
        ] {
            fs::create_dir_all(env.join(d)).unwrap();
        }
        fs::create_dir_all(&dir).unwrap();
        let repo = Repo { dir, env };
        self.git(&repo, &["init", "-q", "-b", "dev"]);
        self.git(&repo, &["config", "user.name", "Differential Test"]);
        self.git(&repo, &["config", "user.email", "differential@example.com"]);
        self.git(&repo, &["config", "commit.gpgsign", "false"]);
        self.git(&repo, &["commit", "-q", "--allow-empty", "-m", "empty"]);
        self.ok(init_by, &repo, false, &["init"]);
        repo
    }

    fn hermetic(&self, cmd: &mut Command, repo: &Repo) {
        let e = &repo.env;
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "TRACKER_AUTO_SYNC_THRESHOLD",
            "PYTHONPATH",
            "PYTHONHOME",
            "VIRTUAL_ENV",
        ] {
            cmd.env_remove(var);
        }
        cmd.current_dir(&repo.dir)
            .stdin(Stdio::null())
            .env("HOME", e.join("home"))
            .env("XDG_CACHE_HOME", e.join("cache"))
            .env("XDG_DATA_HOME", e.join("data"))
            .env("XDG_STATE_HOME", e.join("state"))
            .env("TRACKER_CACHE_DIR", e.join("tracker-cache"))
            .env("HTRAC_CACHE_DIR", e.join("htrac-cache"))
            .env("HYPERGUMBO_TRACKER_JOURNAL_ROOT", e.join("journal"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PYTHONUTF8", "1")
            .env("PYTHONIOENCODING", "utf-8")
            .env("PYTHONDONTWRITEBYTECODE", "1");
    }

    fn git(&self, repo: &Repo, args: &[&str]) {
        let mut cmd = Command::new("git");
        self.hermetic(&mut cmd, repo);
        let out = cmd.args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}",
            show_output(&out)
        );
    }

    fn run(&self, tool: Tool, repo: &Repo, json: bool, args: &[&str]) -> Output {
        let mut cmd = match tool {
            Ours => Command::new(OURS),
            Theirs => Command::new(self.venv.join("bin/htrac")),
        };
        self.hermetic(&mut cmd, repo);
        cmd.arg("--no-auto-sync");
        if json {
            cmd.arg("--json");
        }
        cmd.args(args);
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {} htrac: {e}", tool.name()))
    }

    /// Runs and asserts exit 0; returns stdout.
    fn ok(&self, tool: Tool, repo: &Repo, json: bool, args: &[&str]) -> String {
        let out = self.run(tool, repo, json, args);
        assert!(
            out.status.success(),
            "{} htrac {}{:?} in {} failed:\n{}",
            tool.name(),
            if json { "--json " } else { "" },
            args,
            repo.dir.display(),
            show_output(&out)
        );
        String::from_utf8(out.stdout).expect("stdout is UTF-8")
    }

    fn json(&self, tool: Tool, repo: &Repo, args: &[&str]) -> Value {
        let out = self.ok(tool, repo, true, args);
        serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!(
                "{} htrac --json {args:?}: not JSON ({e}):\n{out}",
                tool.name()
            )
        })
    }

    /// Runs the reference's own reader and writer over every op file of the
    /// repo (see `tests/differential/reserialize.py`).
    fn reference_reserialises(&self, repo: &Repo) {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential/reserialize.py");
        let files = op_files(repo);
        assert!(!files.is_empty());
        let mut cmd = Command::new(self.venv.join("bin/python"));
        self.hermetic(&mut cmd, repo);
        let out = cmd.arg(&script).args(&files).output().expect("run python");
        assert!(
            out.status.success(),
            "reserialize.py failed:\n{}",
            show_output(&out)
        );
        let problems: Vec<String> = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("reserialize.py output ({e}):\n{}", show_output(&out)));
        assert!(
            problems.is_empty(),
            "op files in {} differ from what the reference writes:\n{}",
            repo.dir.display(),
            problems.join("\n")
        );
    }
}

fn show_output(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout:\n{}--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---------------------------------------------------------------------------
// Scripts: sequences of commands with `{name}` standing for an item's full ID
// ---------------------------------------------------------------------------

struct Step {
    /// `Some(name)`: an `add` whose printed ID is remembered as `{name}`.
    save: Option<&'static str>,
    args: Vec<String>,
}

fn add(name: &'static str, args: &[&str]) -> Step {
    Step {
        save: Some(name),
        args: std::iter::once("add")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
    }
}

fn cmd(args: &[&str]) -> Step {
    Step {
        save: None,
        args: args.iter().copied().map(String::from).collect(),
    }
}

type Ids = BTreeMap<String, String>;

/// Replaces every `{name}` whose name is known with that item's full ID.
fn substitute(arg: &str, ids: &Ids) -> String {
    let mut s = arg.to_string();
    for (name, id) in ids {
        s = s.replace(&format!("{{{name}}}"), id);
    }
    s
}

/// Runs `steps` with `tool`, recording in `ids` the ID each `add` printed
/// (an ID already recorded, by the other tool, must come out the same).
/// The other steps run with `--json`; the JSON on their last stdout line
/// (after any unread-message notice) is returned, one per step.
fn run_script(ctx: &Ctx, tool: Tool, repo: &Repo, ids: &mut Ids, steps: &[Step]) -> Vec<Value> {
    let mut results = Vec::new();
    for step in steps {
        let args: Vec<String> = step.args.iter().map(|a| substitute(a, ids)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match step.save {
            Some(name) => {
                let out = ctx.ok(tool, repo, false, &args);
                let id = out.trim().to_string();
                assert!(
                    id.contains('-') && !id.contains(char::is_whitespace),
                    "{} add printed {out:?}",
                    tool.name()
                );
                if let Some(old) = ids.insert(name.to_string(), id.clone()) {
                    assert_eq!(old, id, "{{{name}}}: {} made a different ID", tool.name());
                }
            }
            None => {
                let out = ctx.ok(tool, repo, true, &args);
                let last = out.lines().last().unwrap_or_default();
                let v: Value = serde_json::from_str(last).unwrap_or_else(|e| {
                    panic!(
                        "{} htrac --json {args:?}: last line not JSON ({e}):\n{out}",
                        tool.name()
                    )
                });
                results.push(normalise_changes(v));
            }
        }
    }
    results
}

/// The reference lists changed custom fields in Python set order (not
/// deterministic): sort each run of `fields.*` changes.
fn normalise_changes(mut v: Value) -> Value {
    if let Some(changes) = v.get_mut("changes").and_then(Value::as_array_mut) {
        let mut i = 0;
        while i < changes.len() {
            let is_field = |c: &Value| {
                c["field"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("fields."))
            };
            if is_field(&changes[i]) {
                let mut j = i;
                while j < changes.len() && is_field(&changes[j]) {
                    j += 1;
                }
                changes[i..j].sort_by_key(|c| c.to_string());
                i = j;
            } else {
                i += 1;
            }
        }
    }
    v
}

// ---------------------------------------------------------------------------
// State: what `show`/`list`/`ready --json` say, normalised
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct Ignore {
    /// created_at, updated_at and discussion `at`.
    timestamps: bool,
    /// discussion `nonce` in `show` (always ignored in list/ready, which the
    /// reference serves from a cache that does not keep nonces).
    show_nonces: bool,
}

/// Ignore timestamps and nonces: for repos written separately by each tool.
const LOOSE: Ignore = Ignore {
    timestamps: true,
    show_nonces: true,
};
/// Ignore only the nonces the reference's cache drops: for one repo read by both.
const STRICT: Ignore = Ignore {
    timestamps: false,
    show_nonces: false,
};

/// Normalises every item object (one with `id` and `discussion`) in `v`.
fn normalise(v: &mut Value, ignore_ts: bool, ignore_nonce: bool) {
    match v {
        Value::Array(a) => a
            .iter_mut()
            .for_each(|x| normalise(x, ignore_ts, ignore_nonce)),
        Value::Object(o) => {
            if o.contains_key("id") && o.contains_key("discussion") {
                if ignore_ts {
                    o.shift_remove("created_at");
                    o.shift_remove("updated_at");
                }
                if let Some(Value::Array(d)) = o.get_mut("discussion") {
                    for e in d.iter_mut().filter_map(Value::as_object_mut) {
                        if ignore_ts {
                            e.shift_remove("at");
                        }
                        if ignore_nonce {
                            e.shift_remove("nonce");
                        }
                    }
                }
            } else {
                o.values_mut()
                    .for_each(|x| normalise(x, ignore_ts, ignore_nonce));
            }
        }
        _ => {}
    }
}

struct State {
    show: BTreeMap<String, Value>,
    list: Value,
    ready: Value,
}

/// Item IDs from the op file names, whoever wrote them.
fn item_ids(repo: &Repo) -> Vec<String> {
    let mut ids: Vec<String> = op_files(repo)
        .iter()
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            Some(name.strip_prefix('.')?.strip_suffix(".ops")?.to_string())
        })
        .collect();
    ids.sort();
    ids
}

fn state(ctx: &Ctx, tool: Tool, repo: &Repo, ignore: Ignore) -> State {
    let mut show = BTreeMap::new();
    for id in item_ids(repo) {
        let mut v = ctx.json(tool, repo, &["show", &id]);
        normalise(&mut v, ignore.timestamps, ignore.show_nonces);
        show.insert(id, v);
    }
    let mut list = ctx.json(tool, repo, &["list"]);
    normalise(&mut list, ignore.timestamps, true);
    let mut ready = ctx.json(tool, repo, &["ready"]);
    normalise(&mut ready, ignore.timestamps, true);
    State { show, list, ready }
}

/// The order `list`/`ready` must have: stable sort by (priority,
/// created_at) of the items in tier order (canonical, workspace, stealth),
/// then file-name (= ID) order.
fn check_sorted(what: &str, tool: Tool, items: &Value) {
    let items = items
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not an array"));
    let key = |v: &Value| {
        let tier = match v["tier"].as_str() {
            Some("canonical") => 0,
            Some("workspace") => 1,
            _ => 2,
        };
        (
            v["priority"].as_i64().unwrap(),
            v["created_at"].as_str().unwrap().to_string(),
            tier,
            v["id"].as_str().unwrap().to_string(),
        )
    };
    let mut sorted = items.clone();
    sorted.sort_by_key(key);
    let ids = |a: &[Value]| {
        a.iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(items),
        ids(&sorted),
        "{} {what}: not in (priority, created_at, tier, id) order",
        tool.name()
    );
}

fn sort_by_id(v: &Value) -> Value {
    let mut a = v.as_array().expect("array").clone();
    a.sort_by_key(|x| x["id"].as_str().unwrap().to_string());
    Value::Array(a)
}

/// Paths where two JSON values differ (for readable failures).
fn json_diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let xk: Vec<_> = x.keys().collect();
            let yk: Vec<_> = y.keys().collect();
            if xk != yk {
                out.push(format!("{path}: keys {xk:?} vs {yk:?}"));
            }
            for (k, v) in x {
                if let Some(w) = y.get(k) {
                    json_diff(&format!("{path}.{k}"), v, w, out);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                json_diff(&format!("{path}[{i}]"), v, w, out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} vs {b}")),
        _ => {}
    }
}

fn assert_json_eq(what: &str, (ta, a): (Tool, &Value), (tb, b): (Tool, &Value)) {
    if a == b {
        return;
    }
    let mut diffs = Vec::new();
    json_diff("$", a, b, &mut diffs);
    panic!(
        "{what}: {} and {} disagree\n{}\n--- {}:\n{}\n--- {}:\n{}",
        ta.name(),
        tb.name(),
        diffs.join("\n"),
        ta.name(),
        serde_json::to_string_pretty(a).unwrap(),
        tb.name(),
        serde_json::to_string_pretty(b).unwrap()
    );
}

/// Two states of possibly different repos agree. With `exact_order`,
/// list/ready orders must match; otherwise (timestamps differ between
/// repos, so created_at ties may break differently) each order is checked
/// against the sort rule and contents are compared by ID.
fn assert_states_eq(what: &str, a: (Tool, &State), b: (Tool, &State), exact_order: bool) {
    let ((ta, sa), (tb, sb)) = (a, b);
    let ka: Vec<_> = sa.show.keys().collect();
    let kb: Vec<_> = sb.show.keys().collect();
    assert_eq!(ka, kb, "{what}: item sets differ");
    for (id, va) in &sa.show {
        assert_json_eq(&format!("{what}: show {id}"), (ta, va), (tb, &sb.show[id]));
    }
    if exact_order {
        assert_json_eq(&format!("{what}: list"), (ta, &sa.list), (tb, &sb.list));
        assert_json_eq(&format!("{what}: ready"), (ta, &sa.ready), (tb, &sb.ready));
    } else {
        assert_json_eq(
            &format!("{what}: list (by id)"),
            (ta, &sort_by_id(&sa.list)),
            (tb, &sort_by_id(&sb.list)),
        );
        assert_json_eq(
            &format!("{what}: ready.ready (by id)"),
            (ta, &sort_by_id(&sa.ready["ready"])),
            (tb, &sort_by_id(&sb.ready["ready"])),
        );
        let rest = |v: &Value| {
            let mut o = v.as_object().expect("ready object").clone();
            o.shift_remove("ready");
            Value::Object(o)
        };
        assert_json_eq(
            &format!("{what}: ready (the rest)"),
            (ta, &rest(&sa.ready)),
            (tb, &rest(&sb.ready)),
        );
    }
}

/// Reads `list`/`ready` with timestamps (unnormalised) and checks order.
fn check_orders(ctx: &Ctx, tool: Tool, repo: &Repo) {
    check_sorted("list", tool, &ctx.json(tool, repo, &["list"]));
    check_sorted("ready", tool, &ctx.json(tool, repo, &["ready"])["ready"]);
}

// ---------------------------------------------------------------------------
// Op files
// ---------------------------------------------------------------------------

fn op_files(repo: &Repo) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "ops") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo.dir.join(".agent"), &mut out);
    out.sort();
    out
}

/// Splits an op file into op blocks (each starts at a line beginning `- `).
fn op_blocks(text: &str) -> Vec<Vec<&str>> {
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("- ") || blocks.is_empty() {
            blocks.push(Vec::new());
        }
        blocks.last_mut().unwrap().push(line);
    }
    blocks
}

/// The nonce of an op block, from its `nonce:` line (quotes stripped).
fn block_nonce(block: &[&str]) -> Option<String> {
    block.iter().find_map(|l| {
        let rest = l.trim_start().strip_prefix("nonce: ")?;
        let value = rest.split("  # ").next()?;
        Some(value.trim_matches('\'').to_string())
    })
}

/// Every line of every op file ends with `  # <that op's nonce>`, nonces
/// are four lower-case hex digits, and there are no blank lines.
fn check_nonce_comments(repo: &Repo) {
    for path in op_files(repo) {
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'), "{}: no final newline", path.display());
        for (i, block) in op_blocks(&text).iter().enumerate() {
            let nonce = block_nonce(block)
                .unwrap_or_else(|| panic!("{}: op {} has no nonce line", path.display(), i + 1));
            assert!(
                nonce.len() == 4 && nonce.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
                "{}: op {} nonce {nonce:?}",
                path.display(),
                i + 1
            );
            let suffix = format!("  # {nonce}");
            for line in block {
                assert!(
                    line.ends_with(&suffix) && line.len() > suffix.len(),
                    "{}: op {}: line {line:?} does not end with {suffix:?}",
                    path.display(),
                    i + 1
                );
            }
        }
    }
}

/// Op text with timestamps and nonces replaced, for byte comparison of
/// two tools' output: the `# <nonce>` comments, the `at:` value and the
/// `nonce:` value (including its quoting, which depends on the value).
fn normalise_ops(text: &str) -> String {
    let mut out = String::new();
    for block in op_blocks(text) {
        let nonce = block_nonce(&block).unwrap_or_default();
        let suffix = format!("  # {nonce}");
        for line in block {
            let line = line.strip_suffix(&suffix).unwrap_or(line);
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            if trimmed.starts_with("at: ") {
                out.push_str(&format!("{indent}at: <AT>"));
            } else if trimmed.starts_with("nonce: ") {
                out.push_str(&format!("{indent}nonce: <NONCE>"));
            } else {
                out.push_str(line);
            }
            out.push_str("  # <NONCE>\n");
        }
    }
    out
}

fn assert_text_eq(what: &str, (na, a): (&str, &str), (nb, b): (&str, &str)) {
    if a == b {
        return;
    }
    let (la, lb): (Vec<_>, Vec<_>) = (a.lines().collect(), b.lines().collect());
    let first = la
        .iter()
        .zip(&lb)
        .position(|(x, y)| x != y)
        .unwrap_or(la.len().min(lb.len()));
    panic!(
        "{what}: texts differ from line {}:\n  {na}: {:?}\n  {nb}: {:?}\n--- {na}:\n{a}--- {nb}:\n{b}",
        first + 1,
        la.get(first),
        lb.get(first)
    );
}

/// Both tools can read every op file: the reference's own parser and
/// writer agree with the bytes, every line carries its nonce, and `log`
/// prints the file unchanged in both tools.
fn check_op_files(ctx: &Ctx, repo: &Repo) {
    check_nonce_comments(repo);
    ctx.reference_reserialises(repo);
    for path in op_files(repo) {
        let id = path.file_name().unwrap().to_str().unwrap();
        let id = &id[1..id.len() - 4];
        let text = fs::read_to_string(&path).unwrap();
        for tool in [Theirs, Ours] {
            assert_text_eq(
                &format!("log {id}"),
                ("the file", &text),
                (tool.name(), &ctx.ok(tool, repo, false, &["log", id])),
            );
        }
    }
}

// ---------------------------------------------------------------------------
// (a) the same script gives the same state
// ---------------------------------------------------------------------------

/// Work items, an invariant with its required fields, priorities 0–4,
/// tags, parents, isbefore, blocked-by, custom fields added, replaced and
/// removed, notes, discussions with the unread gate acknowledged, a
/// summary, status changes, and text full of non-ASCII, quotes and newlines.
fn big_script() -> Vec<Step> {
    vec![
        add(
            "a",
            &[
                "--kind",
                "work_item",
                "--title",
                "Ünïcödé title — with \"double\" and 'single' quotes",
                "--priority",
                "1",
                "--tag",
                "alpha",
                "--tag",
                "beta",
                "--description",
                "line one\nline two: «guillemets»\n\ttabbed \\ backslash",
            ],
        ),
        add(
            "b",
            &[
                "--kind",
                "work_item",
                "--title",
                "日本語のタイトル 🚀 and שלום",
                "--priority",
                "0",
                "--parent",
                "{a}",
                "--pr-ref",
                "7",
                "--field",
                "estimate=3",
                "--field",
                "note=x=y",
            ],
        ),
        add(
            "inv",
            &[
                "--kind",
                "invariant",
                "--title",
                "Invariant: ops are never lost",
                "--field",
                "statement=every op survives a union merge",
                "--field",
                "root_cause=lines are unique because of \"# nonce\" comments",
                "--priority",
                "3",
                "--isbefore",
                "{a}",
            ],
        ),
        add(
            "c",
            &[
                "--kind",
                "work_item",
                "--title",
                "plain c",
                "--priority",
                "4",
                "--status",
                "todo_soft",
                "--isbefore",
                "{b}",
                "--isbefore",
                "{inv}",
                "--tag",
                "gamma",
            ],
        ),
        add(
            "d",
            &[
                "--kind",
                "work_item",
                "--title",
                "d: tab\there, backslash \\ and e\u{301} combining",
                "--priority",
                "2",
            ],
        ),
        add(
            "e",
            &[
                "--kind",
                "work_item",
                "--title",
                "e in progress",
                "--status",
                "in_progress",
            ],
        ),
        cmd(&[
            "update",
            "{a}",
            "--status",
            "in_progress",
            "--priority",
            "2",
            "--title",
            "renamed «a» — it's \"new\"",
            "--add-tag",
            "gamma",
            "--remove-tag",
            "beta",
            "--add-field",
            "owner=alice",
        ]),
        cmd(&["update", "{a}", "--add-field", "risk=high"]),
        cmd(&["update", "{b}", "--add-blocked-by", "{d}"]),
        cmd(&["update", "{b}", "--remove-field", "note"]),
        cmd(&["update", "{b}", "--field", "estimate=5"]),
        cmd(&["update", "{b}", "--field", "extra=multi\nline \"value\""]),
        cmd(&[
            "update",
            "{c}",
            "--status",
            "todo_hard",
            "--add-isbefore",
            "{e}",
            "--remove-isbefore",
            "{inv}",
            "--note",
            "a note with \"quotes\"\nand a newline",
        ]),
        cmd(&[
            "discuss",
            "{a}",
            "first message — with «guillemets» and 'quotes'",
        ]),
        cmd(&[
            "discuss",
            "{a}",
            "second\nmessage, \"quoted\"",
            "--ack-thread",
        ]),
        cmd(&["discuss", "{a}", "--summarize", "summary: all good ✓"]),
        cmd(&["discuss", "{a}", "after the summary", "--ack-thread"]),
        cmd(&[
            "update",
            "{a}",
            "--note",
            "note on a (after a human message)",
        ]),
        cmd(&["discuss", "{b}", "message on b"]),
        cmd(&["discuss", "{b}", "second on b", "--ack-thread"]),
        cmd(&["discuss", "{b}", "--clear"]),
        cmd(&["discuss", "{b}", "after the clear: b's only message"]),
        cmd(&["update", "{d}", "--status", "done"]),
        cmd(&[
            "update",
            "{inv}",
            "--status",
            "needs_human_review",
            "--parent",
            "{a}",
            "--pr-ref",
            "PR#12",
            "--description",
            "why: \"because\"",
            "--priority",
            "0",
        ]),
        cmd(&[
            "update",
            "{inv}",
            "--add-field",
            "statement=every op survives, always",
        ]),
        cmd(&[
            "update",
            "{e}",
            "--add-duplicate-of",
            "{d}",
            "--add-not-duplicate-of",
            "{c}",
        ]),
        cmd(&[
            "update",
            "{e}",
            "--remove-not-duplicate-of",
            "{c}",
            "--status",
            "wont_do",
        ]),
        cmd(&[
            "update",
            "{b}",
            "--add-blocked-by",
            "{c}",
            "--remove-blocked-by",
            "{d}",
        ]),
        add(
            "f",
            &[
                "--kind",
                "work_item",
                "--title",
                "f: child of b",
                "--parent",
                "{b}",
                "--priority",
                "1",
                "--description",
                "",
            ],
        ),
        cmd(&[
            "update",
            "{f}",
            "--status",
            "todo_soft",
            "--add-tag",
            "alpha",
        ]),
        cmd(&["update", "{f}", "--status", "deleted"]),
        cmd(&["update", "{c}", "--priority", "3", "--title", "c again"]),
        // Human authority and tier moves.
        cmd(&["lock", "{a}", "Status", "TITLE", "fields.estimate"]),
        cmd(&["unlock", "{a}", "title"]),
        cmd(&["freeze", "{b}"]),
        cmd(&["update", "{b}", "--priority", "2"]),
        cmd(&["unfreeze", "{b}"]),
        add(
            "g",
            &["--kind", "work_item", "--title", "g: wanders the tiers"],
        ),
        cmd(&["promote", "{g}"]),
        cmd(&["demote", "{g}"]),
        cmd(&["stealth", "{g}"]),
        cmd(&["unstealth", "{g}"]),
        cmd(&["promote", "{g}"]),
        cmd(&["delete", "{d}"]),
    ]
}

#[test]
fn same_script_same_state() {
    let Some(ctx) = Ctx::new() else { return };
    let theirs = ctx.repo("theirs", Theirs);
    let ours = ctx.repo("ours", Ours);
    let script = big_script();
    let (mut id_t, mut id_o) = (Ids::new(), Ids::new());
    let out_t = run_script(&ctx, Theirs, &theirs, &mut id_t, &script);
    let out_o = run_script(&ctx, Ours, &ours, &mut id_o, &script);
    assert_eq!(id_t, id_o, "IDs differ");
    for (i, (t, o)) in out_t.iter().zip(&out_o).enumerate() {
        assert_json_eq(
            &format!("--json output of write step {}", i + 1),
            (Theirs, t),
            (Ours, o),
        );
    }
    assert_eq!(item_ids(&theirs), item_ids(&ours), "op file sets differ");

    let st = state(&ctx, Theirs, &theirs, LOOSE);
    let so = state(&ctx, Ours, &ours, LOOSE);
    assert_states_eq("same script", (Theirs, &st), (Ours, &so), false);
    check_orders(&ctx, Theirs, &theirs);
    check_orders(&ctx, Ours, &ours);
    // Something of everything made it through.
    assert_eq!(st.show.len(), 8);
    assert!(!so.ready["ready"].as_array().unwrap().is_empty());
    assert!(so.ready.get("items_with_unread_messages").is_some());
}

// ---------------------------------------------------------------------------
// (b) each tool reads, and extends, what the other wrote
// ---------------------------------------------------------------------------

fn first_writer_script() -> Vec<Step> {
    vec![
        add(
            "p",
            &[
                "--kind",
                "work_item",
                "--title",
                "parent «p»",
                "--priority",
                "1",
                "--tag",
                "core",
            ],
        ),
        add(
            "q",
            &[
                "--kind",
                "work_item",
                "--title",
                "child q: \"quoted\" 💡",
                "--parent",
                "{p}",
                "--isbefore",
                "{p}",
                "--field",
                "size=L",
            ],
        ),
        add(
            "i",
            &[
                "--kind",
                "invariant",
                "--title",
                "invariant ï",
                "--field",
                "statement=s ✓",
                "--field",
                "root_cause=r\nwith a newline",
                "--priority",
                "4",
            ],
        ),
        cmd(&[
            "update",
            "{p}",
            "--status",
            "in_progress",
            "--add-field",
            "owner=zoë",
            "--add-tag",
            "extra",
        ]),
        cmd(&[
            "update",
            "{q}",
            "--add-blocked-by",
            "{i}",
            "--note",
            "blocked on the invariant",
        ]),
        cmd(&["discuss", "{p}", "hello from the first writer\nsecond line"]),
        cmd(&["discuss", "{p}", "and again", "--ack-thread"]),
        cmd(&[
            "discuss",
            "{i}",
            "--summarize",
            "summarised by the first writer",
        ]),
    ]
}

fn second_writer_script() -> Vec<Step> {
    vec![
        cmd(&[
            "update",
            "{p}",
            "--status",
            "done",
            "--remove-tag",
            "core",
            "--remove-field",
            "owner",
        ]),
        cmd(&[
            "discuss",
            "{p}",
            "reply from the second writer: «ok»",
            "--ack-thread",
        ]),
        cmd(&[
            "update",
            "{q}",
            "--priority",
            "0",
            "--title",
            "q renamed by the second writer",
            "--remove-isbefore",
            "{p}",
        ]),
        cmd(&[
            "update",
            "{i}",
            "--status",
            "todo_soft",
            "--add-field",
            "statement=s2",
            "--remove-blocked-by",
            "{q}",
        ]),
        cmd(&["discuss", "{i}", "after the summary", "--ack-thread"]),
        add(
            "r",
            &[
                "--kind",
                "work_item",
                "--title",
                "r added by the second writer",
                "--isbefore",
                "{q}",
                "--priority",
                "3",
            ],
        ),
        cmd(&[
            "update",
            "{r}",
            "--add-blocked-by",
            "{p}",
            "--note",
            "r's note",
        ]),
    ]
}

/// Run by the reference only: ours has no lock/unlock/freeze/promote yet.
fn reference_only_script() -> Vec<Step> {
    vec![
        cmd(&["lock", "{q}", "Status", "title"]),
        cmd(&["unlock", "{q}", "title"]),
        cmd(&["freeze", "{i}"]),
        cmd(&["promote", "{p}"]),
    ]
}

fn read_and_extend(ctx: &Ctx, first: Tool, second: Tool) {
    let what = format!("{} writes, {} reads", first.name(), second.name());
    let repo = ctx.repo(&format!("{}-first", first.name()), first);
    let mut ids = Ids::new();
    run_script(ctx, first, &repo, &mut ids, &first_writer_script());

    let s1 = state(ctx, first, &repo, STRICT);
    let s2 = state(ctx, second, &repo, STRICT);
    assert_states_eq(&what, (first, &s1), (second, &s2), true);
    check_op_files(ctx, &repo);

    // Ops only the reference can write (lock, unlock, freeze, tier moves):
    // whichever tool comes next must read them.
    run_script(ctx, Theirs, &repo, &mut ids, &reference_only_script());
    let s1 = state(ctx, first, &repo, STRICT);
    let s2 = state(ctx, second, &repo, STRICT);
    assert_states_eq(
        &format!("{what}, after lock/freeze/promote"),
        (first, &s1),
        (second, &s2),
        true,
    );
    assert_eq!(
        s2.show[&ids["q"]]["locked_fields"],
        serde_json::json!(["status"])
    );
    assert_eq!(s2.show[&ids["i"]]["frozen"], Value::Bool(true));
    assert_eq!(s2.show[&ids["p"]]["tier"], "canonical");

    run_script(ctx, second, &repo, &mut ids, &second_writer_script());
    let what = format!("{} extends what {} wrote", second.name(), first.name());
    let s1 = state(ctx, first, &repo, STRICT);
    let s2 = state(ctx, second, &repo, STRICT);
    assert_states_eq(&what, (second, &s2), (first, &s1), true);
    check_orders(ctx, first, &repo);
    check_op_files(ctx, &repo);
    assert_eq!(s1.show.len(), 4);
    ctx.ok(Theirs, &repo, false, &["validate"]);

    // The human-readable views of one repo agree too.
    for args in [vec!["list"], vec!["ready"]]
        .into_iter()
        .chain(ids.values().map(|id| vec!["show", id.as_str()]))
        .chain(ids.values().map(|id| vec!["discuss", id.as_str()]))
    {
        // Ours names itself in `ready`'s hint lines where the reference
        // names its `scripts/tracker` wrapper (which we do not install).
        let theirs = ctx
            .ok(Theirs, &repo, false, &args)
            .replace(" scripts/tracker ", " htrac ");
        assert_text_eq(
            &format!("{what}: plain {args:?}"),
            ("reference", &theirs),
            ("ours", &ctx.ok(Ours, &repo, false, &args)),
        );
    }
}

#[test]
fn each_reads_and_extends_the_other() {
    let Some(ctx) = Ctx::new() else { return };
    read_and_extend(&ctx, Theirs, Ours);
    read_and_extend(&ctx, Ours, Theirs);
}

// ---------------------------------------------------------------------------
// (c) IDs
// ---------------------------------------------------------------------------

#[test]
fn ids_agree() {
    let Some(ctx) = Ctx::new() else { return };
    let wi = |name: &'static str, title: &'static str| {
        add(name, &["--kind", "work_item", "--title", title])
    };
    let steps = vec![
        wi("ascii", "first item"),
        wi("accents", "Crème brûlée — déjà vu, naïve façade"),
        wi("cjk", "漢字とかな、한국어 텍스트"),
        wi("emoji", "ship it 🚀🔥 (astral: 𝄞)"),
        wi("rtl", "שלום עולם / مرحبا بالعالم"),
        wi("combining", "e\u{301} vs \u{e9}, a\u{30a}, Z\u{335}\u{321}"),
        wi("quotes", "say \"hi\" it's 'fine' `ok`"),
        wi("backslash", "C:\\path\\to\\file \\n not a newline"),
        wi("newline", "two\nlines\tand a tab"),
        wi("padded", "  leading and trailing spaces  "),
        wi("control", "bell\u{7} and del\u{7f} and nbsp\u{a0}"),
        wi("yamlish", "- not: a list # nor a comment: {x: [1]}"),
        add(
            "inv",
            &[
                "--kind",
                "invariant",
                "--title",
                "invariant with fields",
                "--field",
                "statement=ünïcödé statement",
                "--field",
                "root_cause=because \"reasons\"",
            ],
        ),
        add(
            "meta",
            &[
                "--kind",
                "work_item",
                "--title",
                "everything",
                "--status",
                "todo_soft",
                "--priority",
                "0",
                "--parent",
                "{ascii}",
                "--tag",
                "zeta",
                "--tag",
                "alpha",
                "--isbefore",
                "{cjk}",
                "--isbefore",
                "{emoji}",
                "--pr-ref",
                "PR#7",
                "--description",
                "multi\nline ✓",
                "--field",
                "z=last",
                "--field",
                "a=first",
                "--field",
                "eq=x=y",
                "--field",
                "empty=",
            ],
        ),
        add(
            "p4",
            &[
                "--kind",
                "work_item",
                "--title",
                "first item",
                "--priority",
                "4",
            ],
        ),
        add(
            "done",
            &[
                "--kind",
                "work_item",
                "--title",
                "first item",
                "--status",
                "done",
            ],
        ),
        add(
            "inv2",
            &[
                "--kind",
                "invariant",
                "--title",
                "first item",
                "--field",
                "statement=",
                "--field",
                "root_cause=",
            ],
        ),
    ];
    let mut per_tool = Vec::new();
    for tool in [Theirs, Ours] {
        let repo = ctx.repo(&format!("ids-{}", tool.name()), tool);
        let mut ids = Ids::new();
        run_script(&ctx, tool, &repo, &mut ids, &steps);
        per_tool.push(ids);
    }
    let (theirs, ours) = (&per_tool[0], &per_tool[1]);
    for (name, id) in theirs {
        assert_eq!(Some(id), ours.get(name), "ID of {{{name}}}");
    }
    assert_eq!(theirs.len(), steps.len());
    let distinct: BTreeSet<_> = theirs.values().collect();
    assert_eq!(distinct.len(), steps.len(), "IDs are not all distinct");
    assert!(theirs["inv"].starts_with("INV-") && theirs["meta"].starts_with("WI-"));
}

// ---------------------------------------------------------------------------
// (d) the op text is the same, byte for byte
// ---------------------------------------------------------------------------

fn ops_script() -> Vec<Step> {
    vec![
        add(
            "x",
            &[
                "--kind",
                "work_item",
                "--title",
                "x: «quoted» \"title\"\nnewline",
            ],
        ),
        add(
            "y",
            &[
                "--kind",
                "work_item",
                "--title",
                "y",
                "--status",
                "todo_soft",
                "--priority",
                "0",
                "--parent",
                "{x}",
                "--tag",
                "one",
                "--tag",
                "two",
                "--isbefore",
                "{x}",
                "--pr-ref",
                "7",
                "--description",
                "d1\nd2 'single' \"double\" \\ back",
                "--field",
                "k=v",
                "--field",
                "n=3",
                "--field",
                "t=true",
                "--field",
                "eq=a=b",
                "--field",
                "empty=",
            ],
        ),
        add(
            "z",
            &[
                "--kind",
                "invariant",
                "--title",
                "z inv",
                "--field",
                "statement=st",
                "--field",
                "root_cause=rc",
                "--pr-ref",
                "a # b",
            ],
        ),
        cmd(&[
            "update",
            "{x}",
            "--status",
            "in_progress",
            "--priority",
            "4",
            "--title",
            "x2 ✓",
            "--parent",
            "{z}",
            "--pr-ref",
            "PR#12",
            "--description",
            "new\ndescription",
            "--add-field",
            "a=1",
            "--add-field",
            "b=two words",
            "--remove-field",
            "gone",
            "--add-tag",
            "t1",
            "--add-tag",
            "t2",
            "--remove-tag",
            "t3",
            "--add-isbefore",
            "{y}",
            "--add-isbefore",
            "{z}",
            "--remove-isbefore",
            "{z}",
            "--add-duplicate-of",
            "{y}",
            "--remove-duplicate-of",
            "{z}",
            "--add-not-duplicate-of",
            "{z}",
            "--remove-not-duplicate-of",
            "{y}",
        ]),
        cmd(&[
            "update",
            "{y}",
            "--field",
            "k=w",
            "--field",
            "m=\"q\"",
            "--note",
            "note: «n»\nline 2",
        ]),
        cmd(&[
            "update",
            "{y}",
            "--add-blocked-by",
            "{z}",
            "--add-blocked-by",
            "{x}",
            "--remove-blocked-by",
            "{x}",
        ]),
        cmd(&["update", "{z}", "--priority", "0"]),
        cmd(&["update", "{z}", "--description", "only a description"]),
        cmd(&["update", "{z}", "--note", "only a note"]),
        cmd(&[
            "discuss",
            "{z}",
            "plain 'message' with \"quotes\" and \\ and ✓",
            "--ack-thread",
        ]),
        cmd(&["discuss", "{z}", "--summarize", "the summary\nin two lines"]),
        cmd(&["discuss", "{z}", "--summarize", ""]),
        cmd(&["discuss", "{x}", "  spaces around  "]),
        cmd(&["discuss", "{x}", "#not a comment: [x] {y}", "--ack-thread"]),
        cmd(&["lock", "{x}", "status", "Discussion", "fields.k"]),
        cmd(&["unlock", "{x}", "STATUS"]),
        cmd(&["promote", "{y}"]),
        cmd(&["demote", "{y}"]),
        add("w", &["--kind", "work_item", "--title", "w: no links"]),
        cmd(&["stealth", "{w}"]),
        cmd(&["unstealth", "{w}"]),
    ]
}

#[test]
fn byte_identical_ops() {
    let Some(ctx) = Ctx::new() else { return };
    let theirs = ctx.repo("ops-theirs", Theirs);
    let ours = ctx.repo("ops-ours", Ours);
    let (mut id_t, mut id_o) = (Ids::new(), Ids::new());
    run_script(&ctx, Theirs, &theirs, &mut id_t, &ops_script());
    run_script(&ctx, Ours, &ours, &mut id_o, &ops_script());
    assert_eq!(id_t, id_o);

    let files = |r: &Repo| -> HashMap<PathBuf, String> {
        op_files(r)
            .into_iter()
            .map(|p| {
                let text = fs::read_to_string(&p).unwrap();
                (p.strip_prefix(&r.dir).unwrap().to_path_buf(), text)
            })
            .collect()
    };
    let (ft, fo) = (files(&theirs), files(&ours));
    let names = |f: &HashMap<PathBuf, String>| f.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(names(&ft), names(&fo), "different op files");
    for (path, text) in &ft {
        assert_text_eq(
            &format!("{} (normalised)", path.display()),
            ("reference", &normalise_ops(text)),
            ("ours", &normalise_ops(&fo[path])),
        );
    }
    check_nonce_comments(&theirs);
    check_nonce_comments(&ours);
    ctx.reference_reserialises(&theirs);
    ctx.reference_reserialises(&ours);
}

// ---------------------------------------------------------------------------
// Regressions found by differential testing (fixed; kept as tests).
// ---------------------------------------------------------------------------

/// The reference strips trailing newlines only from `--description-file`
/// and `--description-stdin` (never from `--description`), and reads the
/// file with Python's universal newlines (`\r\n` and `\r` become `\n`).
/// `--pr-ref ''` means "no pr_ref" (null) for the reference. Each
/// difference changes the create data, hence the ID.
#[test]
fn add_inputs_give_reference_ids() {
    let Some(ctx) = Ctx::new() else { return };
    let crlf = ctx.tmp.path().join("crlf.txt");
    fs::write(&crlf, "one\r\ntwo\rthree\n\n").unwrap();
    let crlf = crlf.to_str().unwrap();
    let steps = vec![
        add(
            "inline_trailing_newline",
            &[
                "--kind",
                "work_item",
                "--title",
                "a",
                "--description",
                "a\nb\n",
            ],
        ),
        add(
            "file_crlf",
            &[
                "--kind",
                "work_item",
                "--title",
                "b",
                "--description-file",
                crlf,
            ],
        ),
        add(
            "empty_pr_ref",
            &["--kind", "work_item", "--title", "c", "--pr-ref", ""],
        ),
    ];
    let mut per_tool = Vec::new();
    for tool in [Theirs, Ours] {
        let repo = ctx.repo(&format!("inputs-{}", tool.name()), tool);
        let mut ids = Ids::new();
        for step in &steps {
            run_script(&ctx, tool, &repo, &mut ids, std::slice::from_ref(step));
        }
        per_tool.push(ids);
    }
    assert_eq!(
        per_tool[0], per_tool[1],
        "IDs: reference (left), ours (right)"
    );
}

/// `update ITEM --note ''`: the reference ignores an empty note (it only
/// writes a discuss op when the note is non-empty); ours appends a
/// `discuss` op with `message: ""`.
#[test]
fn empty_note_writes_nothing() {
    let Some(ctx) = Ctx::new() else { return };
    let steps = vec![
        add("x", &["--kind", "work_item", "--title", "x"]),
        cmd(&["update", "{x}", "--note", ""]),
    ];
    let mut texts = Vec::new();
    for tool in [Theirs, Ours] {
        let repo = ctx.repo(&format!("note-{}", tool.name()), tool);
        let mut ids = Ids::new();
        run_script(&ctx, tool, &repo, &mut ids, &steps);
        let files = op_files(&repo);
        texts.push(normalise_ops(&fs::read_to_string(&files[0]).unwrap()));
    }
    assert_text_eq(
        "op file after `update --note ''`",
        ("reference", &texts[0]),
        ("ours", &texts[1]),
    );
}

/// The reference's next Lamport clock is 1 + the highest clock in the
/// working tree, on each `lamport_branches` branch, on HEAD **and on every
/// branch not merged into `lamport_branches[0]`** (`git branch --no-merged
/// dev`). Ours skips the unmerged branches, so after work on an unmerged
/// feature branch an op on `dev` gets a lower clock than the reference
/// would give it, and after the merge the two sides fold in another order.
#[test]
fn lamport_clock_sees_unmerged_branches() {
    let Some(ctx) = Ctx::new() else { return };
    let mut texts = Vec::new();
    for tool in [Theirs, Ours] {
        let repo = ctx.repo(&format!("lamport-{}", tool.name()), tool);
        let mut ids = Ids::new();
        run_script(
            &ctx,
            tool,
            &repo,
            &mut ids,
            &[add("x", &["--kind", "work_item", "--title", "x"])],
        );
        ctx.git(&repo, &["add", "-A"]);
        ctx.git(&repo, &["commit", "-q", "-m", "x"]);
        ctx.git(&repo, &["checkout", "-q", "-b", "feature"]);
        run_script(
            &ctx,
            tool,
            &repo,
            &mut ids,
            &[cmd(&["update", "{x}", "--priority", "1"])],
        );
        run_script(
            &ctx,
            tool,
            &repo,
            &mut ids,
            &[cmd(&["update", "{x}", "--priority", "0"])],
        );
        ctx.git(&repo, &["commit", "-q", "-a", "-m", "feature"]);
        ctx.git(&repo, &["checkout", "-q", "dev"]);
        // `feature` holds clocks 1..3 and is not merged into dev: the
        // reference writes clock 4 here.
        run_script(
            &ctx,
            tool,
            &repo,
            &mut ids,
            &[cmd(&["update", "{x}", "--priority", "3"])],
        );
        let files = op_files(&repo);
        texts.push(normalise_ops(&fs::read_to_string(&files[0]).unwrap()));
    }
    assert_text_eq(
        "op file on dev after an unmerged feature branch",
        ("reference", &texts[0]),
        ("ours", &texts[1]),
    );
}

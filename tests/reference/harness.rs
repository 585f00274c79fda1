//! The reference implementation (`htrac` of hypergumbo-tracker 0.11.0,
//! installed once into `<target>/ref-venv`) and the machinery to run the
//! same script through both tools and compare what they leave behind.
//! Shared by the differential test files.
//!
//! When the reference cannot be installed (no network), the test fails
//! naming the missing prerequisite; `make test` installs it up front.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;
use tempfile::TempDir;

pub const REFERENCE_SPEC: &str = "hypergumbo-tracker==0.11.0";
pub const REFERENCE_DIST_INFO: &str = "hypergumbo_tracker-0.11.0.dist-info";
pub const OURS: &str = env!("CARGO_BIN_EXE_htrac");

// ---------------------------------------------------------------------------
// The reference, installed once
// ---------------------------------------------------------------------------

pub fn target_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(d) => manifest.join(d), // an absolute `d` replaces `manifest`
        None => manifest.join("target"),
    }
}

pub fn venv_is_complete(venv: &Path) -> bool {
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

pub fn run_setup_step(cmd: &mut Command, what: &str) -> Result<(), String> {
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
pub fn setup_reference() -> Result<PathBuf, String> {
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

/// The reference's venv. When it cannot be installed the test fails, naming
/// the missing prerequisite: nothing reports `ok` without running. (Kept as
/// an `Option` for the callers' `?`; it is never `None`.)
pub fn reference() -> Option<PathBuf> {
    static REF: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match REF.get_or_init(setup_reference) {
        Ok(venv) => Some(venv.clone()),
        Err(reason) => panic!(
            "missing prerequisite: the reference {REFERENCE_SPEC} ({reason}); install it with: \
             python3 -m venv target/ref-venv && target/ref-venv/bin/pip install {REFERENCE_SPEC} \
             (`make test` checks and installs every prerequisite: tests/prereqs.sh)"
        ),
    }
}

// ---------------------------------------------------------------------------
// Repositories and running the tools
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Ours,
    Theirs,
}

pub use Tool::{Ours, Theirs};

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Ours => "ours",
            Theirs => "reference",
        }
    }
}

pub struct Ctx {
    pub venv: PathBuf,
    pub tmp: TempDir,
}

/// A git repository plus the private HOME/XDG/cache dirs both tools use
/// when they work on it (one set per repo, so no cache is ever shared
/// between two repos that hold the same IDs).
pub struct Repo {
    pub dir: PathBuf,
    pub env: PathBuf,
}

impl Ctx {
    pub fn new() -> Option<Ctx> {
        let venv = reference()?;
        let tmp = tempfile::Builder::new()
            .prefix("htrac-differential-")
            .tempdir()
            .expect("tempdir");
        Some(Ctx { venv, tmp })
    }

    /// A fresh repo on branch `dev` with one empty commit, initialised by `init_by`.
    pub fn repo(&self, name: &str, init_by: Tool) -> Repo {
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

    pub fn hermetic(&self, cmd: &mut Command, repo: &Repo) {
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

    pub fn git(&self, repo: &Repo, args: &[&str]) {
        let mut cmd = Command::new("git");
        self.hermetic(&mut cmd, repo);
        let out = cmd.args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed:\n{}",
            show_output(&out)
        );
    }

    pub fn run(&self, tool: Tool, repo: &Repo, json: bool, args: &[&str]) -> Output {
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
    pub fn ok(&self, tool: Tool, repo: &Repo, json: bool, args: &[&str]) -> String {
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

    pub fn json(&self, tool: Tool, repo: &Repo, args: &[&str]) -> Value {
        let out = self.ok(tool, repo, true, args);
        serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!(
                "{} htrac --json {args:?}: not JSON ({e}):\n{out}",
                tool.name()
            )
        })
    }

    /// Runs the reference's own reader and writer over every op file of the
    /// repo (see `tests/reference/reserialize.py`).
    pub fn reference_reserialises(&self, repo: &Repo) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/reserialize.py");
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

pub fn show_output(out: &Output) -> String {
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

pub struct Step {
    /// `Some(name)`: an `add` whose printed ID is remembered as `{name}`.
    pub save: Option<&'static str>,
    pub args: Vec<String>,
}

pub fn add(name: &'static str, args: &[&str]) -> Step {
    Step {
        save: Some(name),
        args: std::iter::once("add")
            .chain(args.iter().copied())
            .map(String::from)
            .collect(),
    }
}

pub fn cmd(args: &[&str]) -> Step {
    Step {
        save: None,
        args: args.iter().copied().map(String::from).collect(),
    }
}

pub type Ids = BTreeMap<String, String>;

/// Replaces every `{name}` whose name is known with that item's full ID.
pub fn substitute(arg: &str, ids: &Ids) -> String {
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
pub fn run_script(ctx: &Ctx, tool: Tool, repo: &Repo, ids: &mut Ids, steps: &[Step]) -> Vec<Value> {
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
pub fn normalise_changes(mut v: Value) -> Value {
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
pub struct Ignore {
    /// created_at, updated_at and discussion `at`.
    pub timestamps: bool,
    /// discussion `nonce` in `show` (always ignored in list/ready, which the
    /// reference serves from a cache that does not keep nonces).
    pub show_nonces: bool,
}

/// Ignore timestamps and nonces: for repos written separately by each tool.
pub const LOOSE: Ignore = Ignore {
    timestamps: true,
    show_nonces: true,
};
/// Ignore only the nonces the reference's cache drops: for one repo read by both.
pub const STRICT: Ignore = Ignore {
    timestamps: false,
    show_nonces: false,
};

/// Normalises every item object (one with `id` and `discussion`) in `v`.
pub fn normalise(v: &mut Value, ignore_ts: bool, ignore_nonce: bool) {
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

pub struct State {
    pub show: BTreeMap<String, Value>,
    pub list: Value,
    pub ready: Value,
}

/// Item IDs from the op file names, whoever wrote them.
pub fn item_ids(repo: &Repo) -> Vec<String> {
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

pub fn state(ctx: &Ctx, tool: Tool, repo: &Repo, ignore: Ignore) -> State {
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
pub fn check_sorted(what: &str, tool: Tool, items: &Value) {
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

pub fn sort_by_id(v: &Value) -> Value {
    let mut a = v.as_array().expect("array").clone();
    a.sort_by_key(|x| x["id"].as_str().unwrap().to_string());
    Value::Array(a)
}

/// Paths where two JSON values differ (for readable failures).
pub fn json_diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
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

pub fn assert_json_eq(what: &str, (ta, a): (Tool, &Value), (tb, b): (Tool, &Value)) {
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
pub fn assert_states_eq(what: &str, a: (Tool, &State), b: (Tool, &State), exact_order: bool) {
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
pub fn check_orders(ctx: &Ctx, tool: Tool, repo: &Repo) {
    check_sorted("list", tool, &ctx.json(tool, repo, &["list"]));
    check_sorted("ready", tool, &ctx.json(tool, repo, &["ready"])["ready"]);
}

// ---------------------------------------------------------------------------
// Op files
// ---------------------------------------------------------------------------

pub fn op_files(repo: &Repo) -> Vec<PathBuf> {
    pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
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
pub fn op_blocks(text: &str) -> Vec<Vec<&str>> {
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
pub fn block_nonce(block: &[&str]) -> Option<String> {
    block.iter().find_map(|l| {
        let rest = l.trim_start().strip_prefix("nonce: ")?;
        let value = rest.split("  # ").next()?;
        Some(value.trim_matches('\'').to_string())
    })
}

/// Every line of every op file ends with `  # <that op's nonce>`, nonces
/// are four lower-case hex digits, and there are no blank lines.
pub fn check_nonce_comments(repo: &Repo) {
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
pub fn normalise_ops(text: &str) -> String {
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

pub fn assert_text_eq(what: &str, (na, a): (&str, &str), (nb, b): (&str, &str)) {
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
pub fn check_op_files(ctx: &Ctx, repo: &Repo) {
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

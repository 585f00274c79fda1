//! Crash safety: a writer killed at random points never leaves a file that
//! does not compile; a torn final op is reported by `validate` and removed
//! by `repair-tail` (after a backup), one buried by later appends by
//! `quarantine`; a failed append (file size limit,
//! disk full, permission denied, read-only directory) is a clear error,
//! exit 1, with nothing partial left behind.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{self, Env, Run};
use htrac::oplog;
use serde_json::Value;

/// A small deterministic generator (xorshift), so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn everyone_is_an_agent(env: &Env) {
    let cfg = env.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("\"*_agent\"", "\"*\"")).unwrap();
}

/// The discussion messages of an item, through the CLI (the file compiles).
fn discussion(env: &Env, id: &str) -> Vec<String> {
    let r = env.run(&["show", id, "--json"]).ok();
    r.json()["discussion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

fn message(seed: u64, i: usize, len: usize) -> String {
    format!("seed {seed} line {i} {}", "ü".repeat(len))
}

#[test]
fn sigkill_at_random_points_never_leaves_a_broken_file() {
    let env = Env::new();
    everyone_is_an_agent(&env);
    let seeds = 20u64;
    let mut torn_seen = 0;
    for seed in 1..=seeds {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let id = env.add(&format!("victim {seed}"), &[]);
        let path = env.workspace_ops(&id);
        // Messages of up to ~24 KB, so some writes span several pages.
        let lens: Vec<usize> = (0..200).map(|_| rng.below(12_000) as usize).collect();
        let script: String = lens
            .iter()
            .enumerate()
            .map(|(i, &len)| format!("discuss {id} \"{}\"\n", message(seed, i, len)))
            .collect();
        let mut child = env
            .command(&["batch", "-", "--no-auto-sync"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(script.as_bytes()).unwrap();
        }
        std::thread::sleep(Duration::from_millis(20 + rng.below(400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // The file compiles, and what is there is exactly a prefix of the
        // batch: no op twice, none out of order, none partial.
        let before = std::fs::read(&path).unwrap();
        let torn = oplog::torn_tail(oplog::text_of(&before).unwrap()).is_some();
        let got = discussion(&env, &id);
        let want: Vec<String> = (0..got.len()).map(|i| message(seed, i, lens[i])).collect();
        assert_eq!(got, want, "seed {seed}: not a prefix of the batch");
        let v = env.run(&["validate"]);
        if torn {
            torn_seen += 1;
            assert_eq!(v.code, 1, "seed {seed}: validate missed the torn tail");
            assert!(v.stdout.contains("repair-tail"), "{}", v.stdout);
            env.run(&["repair-tail", &id]).ok();
            assert_eq!(discussion(&env, &id), want, "seed {seed}: repair lost ops");
        }
        let v = env.run(&["validate"]);
        assert_eq!(v.code, 0, "seed {seed}: {}", v.stdout);
        assert!(!env.run(&["repair-tail"]).ok().stdout.contains("repaired"));
    }
    eprintln!("{seeds} kills, {torn_seen} left a torn tail");
}

/// An item with a few ops, and the path of its file.
fn item_with_ops(env: &Env) -> (String, PathBuf) {
    let id = env.add("torn item", &["--description", "déjà vu ✓"]);
    env.run(&["discuss", &id, "first message", "--ack-thread"])
        .ok();
    env.run(&[
        "discuss",
        &id,
        "the last one: naïve café ✓ 日本語",
        "--ack-thread",
    ])
    .ok();
    (id.clone(), env.workspace_ops(&id))
}

#[test]
fn every_cut_inside_the_final_op_is_detected_and_repaired_exactly() {
    // Library level, every byte offset inside the final op (including cuts
    // inside multi-byte characters).
    let env = Env::new();
    let (_, path) = item_with_ops(&env);
    let whole = std::fs::read(&path).unwrap();
    let text = std::str::from_utf8(&whole).unwrap();
    let last_start = text.rfind("\n- op:").unwrap() + 1;
    let backups = env.root().join("repair-backups");
    let complete = oplog::parse(&path, text).unwrap().ops.len();
    for cut in last_start + 1..whole.len() {
        // A cut right after a newline leaves whole lines that read as a
        // shorter op: the format has no end marker (as the reference's), so
        // no reader can tell; `validate` reports the missing keys. A torn
        // append is cut at a page boundary or not at all, never undone at a
        // line end by htrac (a failed write is truncated back).
        if whole[cut - 1] == b'\n' {
            continue;
        }
        let torn = &whole[..cut];
        std::fs::write(&path, torn).unwrap();
        // Readers skip the torn op and keep the others.
        let log = oplog::read(&path).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert_eq!(log.ops.len(), complete - 1, "cut {cut}");
        assert_eq!(log.torn.len(), 1, "cut {cut}");
        let (removed, backup) = htrac::repair::tail::repair_file(&path, &backups)
            .unwrap()
            .unwrap_or_else(|| panic!("cut {cut}: not repaired"));
        assert_eq!(removed as usize, cut - last_start);
        assert_eq!(std::fs::read(&path).unwrap(), &whole[..last_start]);
        assert_eq!(
            std::fs::read(&backup).unwrap(),
            torn,
            "backup is the whole file"
        );
        std::fs::remove_file(backup).unwrap();
    }
    // The backups never reach git: their directory ignores itself.
    assert_eq!(
        std::fs::read_to_string(backups.join(".gitignore")).unwrap(),
        "*\n"
    );
    // A whole file is never touched.
    std::fs::write(&path, &whole).unwrap();
    assert!(htrac::repair::tail::repair_file(&path, &backups)
        .unwrap()
        .is_none());
    assert_eq!(std::fs::read(&path).unwrap(), whole);
}

#[test]
fn validate_reports_and_repair_tail_removes_a_torn_tail_through_the_cli() {
    let env = Env::new();
    let (id, path) = item_with_ops(&env);
    let other = env.add("bystander", &[]);
    let other_bytes = std::fs::read(env.workspace_ops(&other)).unwrap();
    let whole = std::fs::read(&path).unwrap();
    let text = std::str::from_utf8(&whole).unwrap();
    let last_start = text.rfind("\n- op:").unwrap() + 1;
    let last_line = text[..last_start].lines().count() + 1;
    let mut rng = Rng(7);
    for _ in 0..4 {
        let mut cut = last_start + 1 + rng.below((whole.len() - last_start - 1) as u64) as usize;
        if whole[cut - 1] == b'\n' {
            cut += 1; // not at a line end (see the test above)
        }
        std::fs::write(&path, &whole[..cut]).unwrap();
        // Readers warn and go on.
        let r = env.run(&["show", &id]).ok();
        assert!(r.stderr.contains("torn"), "{}", r.stderr);
        // validate names the file and a line of the torn op.
        let v = env.run(&["validate"]).fails(1);
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(v.stdout.contains(name), "{}", v.stdout);
        assert!(
            (last_line..=text.lines().count()).any(|l| v.stdout.contains(&format!("{name}:{l}:"))),
            "no line of the torn op named: {}",
            v.stdout
        );
        let r = env.run(&["--json", "repair-tail"]).ok().json();
        let list = r["repaired"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{r}");
        assert_eq!(list[0]["id"], Value::from(id.clone()));
        assert_eq!(list[0]["bytes"], Value::from(cut - last_start));
        let backup = PathBuf::from(list[0]["backup"].as_str().unwrap());
        assert!(backup.starts_with(env.root().join("repair-backups")));
        assert_eq!(std::fs::read(&backup).unwrap(), &whole[..cut]);
        assert_eq!(std::fs::read(&path).unwrap(), &whole[..last_start]);
        env.run(&["validate"]).ok();
        assert_eq!(
            std::fs::read(env.workspace_ops(&other)).unwrap(),
            other_bytes,
            "another item was touched"
        );
    }
    let r = env.run(&["repair-tail", &id]).ok();
    assert_eq!(r.stdout.trim(), "nothing to repair");
    // A torn op in the middle (closed by a later append) is not a tail:
    // repair-tail leaves the file alone, validate still reports it.
    std::fs::write(&path, &whole[..whole.len() - 10]).unwrap();
    env.run(&["discuss", &id, "after the crash", "--ack-thread"])
        .ok();
    let mid = std::fs::read(&path).unwrap();
    assert_eq!(
        env.run(&["repair-tail"]).ok().stdout.trim(),
        "nothing to repair"
    );
    assert_eq!(std::fs::read(&path).unwrap(), mid);
    env.run(&["validate"]).fails(1);
}

/// A torn op buried by later appends (a crash, then more writes) and a
/// block readers refuse: `quarantine` (human only) moves exactly those
/// aside, keeps every good op byte for byte, and saves the broken bytes
/// and a backup of the whole file.
#[test]
fn quarantine_moves_buried_broken_ops_aside_and_keeps_every_good_op() {
    let env = Env::new();
    let (id, path) = item_with_ops(&env);
    let other = env.add("bystander", &[]);
    let other_bytes = std::fs::read(env.workspace_ops(&other)).unwrap();
    let whole = std::fs::read(&path).unwrap();
    // A crash mid-append: the last op cut short, by hand.
    let cut = whole.len() - 10;
    std::fs::write(&path, &whole[..cut]).unwrap();
    env.run(&["discuss", &id, "after the crash", "--ack-thread"])
        .ok();
    // A tear inside an op's first line, closed by another writer's append
    // (htrac itself now refuses to append after it: see the next test).
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"- op:\n").unwrap();
    }
    env.run(&["discuss", &id, "after the second crash", "--ack-thread"])
        .fails(2);
    let broken = std::fs::read(&path).unwrap();
    // Shown from its good ops, with a warning; writes stay refused.
    let r = env.run(&["show", &id]).ok();
    assert!(
        r.stderr
            .contains("does not read and is left out of the view"),
        "{}",
        r.stderr
    );
    env.run(&["validate"]).fails(1);
    assert_eq!(
        env.run(&["repair-tail", &id]).ok().stdout.trim(),
        "nothing to repair"
    );
    // An agent may not quarantine.
    let cfg = env.root().join("tracker/config.yaml");
    let cfg_text = std::fs::read_to_string(&cfg).unwrap();
    everyone_is_an_agent(&env);
    let r = env.run(&["quarantine", &id]).fails(1);
    assert!(r.stderr.contains("human authority"), "{}", r.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), broken);
    std::fs::write(&cfg, cfg_text).unwrap();

    let r = env.run(&["--json", "quarantine", &id]).ok().json();
    let q = &r["quarantined"][0];
    assert_eq!(q["id"], Value::from(id.clone()), "{r}");
    let blocks = q["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 2, "{r}");
    // The file is every good op, byte for byte, in order.
    let text = std::str::from_utf8(&whole).unwrap();
    let last_start = text.rfind("\n- op:").unwrap() + 1;
    let torn_end = cut + 1; // the newline the next append closed it with
    let after = std::str::from_utf8(&broken[torn_end..]).unwrap();
    let (after_crash, _) = after.split_once("- op:\n").unwrap();
    let mut want = whole[..last_start].to_vec();
    want.extend_from_slice(after_crash.as_bytes());
    assert_eq!(std::fs::read(&path).unwrap(), want);
    assert_eq!(
        q["kept"],
        Value::from(oplog::read(&path).unwrap().ops.len())
    );
    // The broken bytes and the whole file are saved.
    let saved = std::fs::read(q["quarantine"].as_str().unwrap()).unwrap();
    assert!(saved
        .windows(cut - last_start)
        .any(|w| w == &whole[last_start..cut]));
    assert!(saved.windows(6).any(|w| w == b"- op:\n"));
    assert_eq!(
        std::fs::read(q["backup"].as_str().unwrap()).unwrap(),
        broken
    );
    // The item reads and writes again; nothing else was touched.
    let got = discussion(&env, &id);
    assert_eq!(got, ["first message", "after the crash"]);
    env.run(&["discuss", &id, "after the repair", "--ack-thread"])
        .ok();
    env.run(&["validate"]).ok();
    assert_eq!(
        env.run(&["quarantine"]).ok().stdout.trim(),
        "nothing to quarantine"
    );
    assert_eq!(
        std::fs::read(env.workspace_ops(&other)).unwrap(),
        other_bytes
    );
}

/// A frozen item whose log matched its sentinel still matches it after
/// `quarantine` (no false drift for `repair-drift` to undo).
#[test]
fn quarantine_keeps_a_frozen_items_sentinel_in_step() {
    let env = Env::new();
    let (id, path) = item_with_ops(&env);
    let whole = std::fs::read(&path).unwrap();
    std::fs::write(&path, &whole[..whole.len() - 10]).unwrap();
    env.run(&["discuss", &id, "after the crash", "--ack-thread"])
        .ok();
    env.run(&["freeze", &id]).ok();
    let sentinel = path.with_file_name(format!(".{id}.frozen"));
    assert_eq!(
        std::fs::read(&sentinel).unwrap(),
        std::fs::read(&path).unwrap()
    );
    env.run(&["quarantine", &id]).ok();
    assert!(
        std::fs::read(&sentinel).unwrap() == std::fs::read(&path).unwrap(),
        "the sentinel no longer matches the repaired log"
    );
    env.run(&["validate"]).ok();
}

/// Closing a torn tail that readers would then refuse (a tear inside the
/// first line, or inside a multi-byte character) would make the item
/// unreadable: the append is refused, pointing at `repair-tail`.
#[test]
fn an_append_after_a_tail_that_closing_would_break_is_refused() {
    let env = Env::new();
    let (id, path) = item_with_ops(&env);
    let whole = std::fs::read(&path).unwrap();
    let text = std::str::from_utf8(&whole).unwrap();
    let last_start = text.rfind("\n- op:").unwrap() + 1;
    let in_char = text[last_start..].find('ï').unwrap() + last_start + 1;
    for cut in [last_start + 5, in_char] {
        let torn = &whole[..cut];
        std::fs::write(&path, torn).unwrap();
        let r = env.run(&["discuss", &id, "next", "--ack-thread"]).fails(1);
        assert!(r.stderr.contains("cut short by a crash"), "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("htrac repair-tail {id}")),
            "{}",
            r.stderr
        );
        assert_eq!(std::fs::read(&path).unwrap(), torn, "nothing written");
        env.run(&["show", &id]).ok();
        env.run(&["repair-tail", &id]).ok();
        env.run(&["discuss", &id, "next", "--ack-thread"]).ok();
    }
}

/// Runs htrac with a pre-exec hook (limits, user switch) and a time bound.
fn run_with(
    env: &Env,
    args: &[&str],
    hook: impl FnMut() -> std::io::Result<()> + Send + Sync + 'static,
) -> Run {
    let mut c = env.command(args);
    unsafe {
        c.pre_exec(hook);
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The file is unchanged, or ends with a whole op.
fn assert_nothing_partial(path: &Path, before: &[u8]) {
    let after = std::fs::read(path).unwrap();
    assert_eq!(after, before, "{} changed", path.display());
    let log = oplog::read(path).unwrap();
    assert!(log.torn.is_empty());
}

#[test]
fn a_file_size_limit_fails_the_append_cleanly() {
    // RLIMIT_FSIZE works as root too: the write fails with EFBIG (htrac
    // ignores SIGXFSZ) after a short write, which must be undone.
    let env = Env::new();
    let id = env.add("limited", &[]);
    let path = env.workspace_ops(&id);
    let before = std::fs::read(&path).unwrap();
    let limit = before.len() as u64 + 100; // room for part of the op only
    let r = run_with(
        &env,
        &[
            "discuss",
            &id,
            &"a long message ".repeat(100),
            "--ack-thread",
        ],
        move || {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &lim) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        },
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.starts_with("error: cannot append to"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!(".{id}.ops")), "{}", r.stderr);
    assert_nothing_partial(&path, &before);
    env.run(&["validate"]).ok();
}

/// A private tmpfs of `size` for a tracker, or `None` (said loudly) when
/// this system cannot mount one.
struct Tmpfs(PathBuf, #[allow(dead_code)] tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status();
        if !st.is_ok_and(|s| s.success()) {
            common::missing(
                "mounting a tmpfs (root with CAP_SYS_ADMIN)",
                "sudo make test, outside a restricted container",
            );
        }
        Some(Tmpfs(dir.path().to_path_buf(), dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_append_cleanly() {
    let Some(fs) = Tmpfs::mount("2m") else {
        return;
    };
    let env = Env::bare();
    let repo = fs.0.join("repo");
    std::fs::create_dir(&repo).unwrap();
    let in_repo = |args: &[&str]| -> Run {
        let out = env.command(args).current_dir(&repo).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    common::git_init(&repo);
    in_repo(&["init"]).ok();
    let id = in_repo(&["add", "--kind", "work_item", "--title", "full"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let path = repo.join(format!(".agent/tracker-workspace/.ops/.{id}.ops"));
    // Fill the file system to the last byte.
    {
        use std::io::Write;
        let mut f = std::fs::File::create(fs.0.join("filler")).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        let mut one = [0u8; 1];
        while f.write(&one).is_ok_and(|n| n == 1) {
            one[0] = 0;
        }
    }
    let before = std::fs::read(&path).unwrap();
    let r = in_repo(&["discuss", &id, &"x".repeat(6000), "--ack-thread"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("error: cannot append to"), "{}", r.stderr);
    assert!(r.stderr.contains("No space left"), "{}", r.stderr);
    assert_nothing_partial(&path, &before);
    // A new item fails as cleanly: no file left behind.
    let files = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    let r = in_repo(&["add", "--kind", "work_item", "--title", &"y".repeat(6000)]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("error: cannot write"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        files
    );
}

/// Drops to the `nobody` user in the child (root ignores permission bits).
fn as_nobody() -> Option<impl FnMut() -> std::io::Result<()> + Send + Sync + 'static> {
    if rustix::process::getuid().as_raw() != 0 {
        common::missing(
            "root, to switch to another user for permission errors",
            "sudo make test",
        );
    }
    Some(|| {
        if unsafe { libc::setgroups(0, std::ptr::null()) } != 0
            || unsafe { libc::setgid(65534) } != 0
            || unsafe { libc::setuid(65534) } != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    })
}

/// An env whose temp dirs `nobody` can traverse and whose cache it can write.
fn env_for_nobody() -> Env {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    for d in [env.path(), env.cache.path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    env
}

#[test]
fn permission_denied_on_append_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let Some(hook) = as_nobody() else {
        return;
    };
    let env = env_for_nobody();
    let id = env.add("guarded", &[]);
    let path = env.workspace_ops(&id);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let r = run_with(&env, &["discuss", &id, "let me in", "--ack-thread"], hook);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("error: cannot append to"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!(".{id}.ops")), "{}", r.stderr);
    assert!(r.stderr.contains("ermission denied"), "{}", r.stderr);
    assert_nothing_partial(&path, &before);
}

#[test]
fn a_read_only_directory_refuses_new_items_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let Some(hook) = as_nobody() else {
        return;
    };
    let env = env_for_nobody();
    let dir = env.root().join("tracker-workspace/.ops");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let tree = env.tree();
    let t = Instant::now();
    let r = run_with(
        &env,
        &["add", "--kind", "work_item", "--title", "nowhere to go"],
        hook,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("error: cannot write"), "{}", r.stderr);
    assert!(r.stderr.contains("ermission denied"), "{}", r.stderr);
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!(env.tree(), tree, "something was written");
}

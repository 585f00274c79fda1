//! Signed human authority (`authority.signing`): human ops carry an SSH
//! signature checked against an allowed_signers file. With real
//! `ssh-keygen -t ed25519` keys in temp dirs: a signed lock holds; forged
//! human ops (unsigned, garbage, copied from another item, signed by a key
//! not allowed) have no effect under `required` and are reported; `warn`
//! reports but applies; `off` changes nothing; ops before the cut-over stay
//! trusted; `ssh-keygen -Y verify` accepts what htrac signed; the reference
//! reads signed files as we do.

mod common;
mod reference;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::Env;
use htrac::op::{Op, Role};
use serde_json::{json, Value};

const AT: &str = "2026-11-24T19:41:13Z";

/// An ed25519 key pair made by ssh-keygen in `dir`; returns the private key's path.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap_or_else(|_| common::missing("ssh-keygen", "apt-get install openssh-client"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    key
}

fn me() -> String {
    htrac::actor::Actor::current(&[]).name
}

/// A tracker whose human has a key listed in allowed_signers (and a second
/// key, `stranger`, that is not).
struct Signed {
    env: Env,
    keys: tempfile::TempDir,
    key: PathBuf,
    stranger: PathBuf,
    allowed: PathBuf,
}

impl Signed {
    fn new(mode: &str) -> Signed {
        let env = Env::new();
        let keys = tempfile::tempdir().unwrap();
        let key = keygen(keys.path(), "human");
        let stranger = keygen(keys.path(), "stranger");
        let allowed = keys.path().join("allowed_signers");
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        std::fs::write(
            &allowed,
            format!("{} namespaces=\"htrac-op\" {public}", me()),
        )
        .unwrap();
        let s = Signed {
            env,
            keys,
            key,
            stranger,
            allowed,
        };
        s.configure(mode);
        s
    }

    /// Sets `authority:` in the tracker's config (mode `off`, `warn`, `required`).
    fn configure(&self, mode: &str) {
        let cfg = self.env.root().join("tracker/config.yaml");
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = std::fs::read_to_string(&cfg).unwrap();
        let base = text.split("\nauthority:\n").next().unwrap().to_string();
        let block = format!(
            "\nauthority:\n  signing: {mode}\n  allowed_signers: {}\n  signing_key: {}\n",
            self.allowed.display(),
            self.key.display()
        );
        std::fs::write(&cfg, base + &block).unwrap();
    }

    fn ops(&self, id: &str) -> PathBuf {
        self.env.workspace_ops(id)
    }

    fn show(&self, id: &str) -> Value {
        self.env.run(&["--json", "show", id]).ok().json()
    }
}

/// A human op for item `id` as an agent would write it behind htrac's
/// back, with `sig` (if any) as its last key.
fn forged(kind: &str, clock: i64, nonce: &str, body: Value, sig: Option<&str>) -> Op {
    let mut op = Op::new(kind, AT, Role::Human, &me(), clock, nonce);
    op.body = body.as_object().cloned().unwrap();
    if let Some(s) = sig {
        op.body.insert("sig".into(), json!(s));
    }
    op
}

/// `op` signed for item `id` with `key`, as htrac signs (for keys htrac
/// would not use: a stranger's).
fn signed_with(key: &Path, id: &str, mut op: Op) -> Op {
    let msg = htrac::signing::message(id, &op);
    let sig = htrac::signing::sign::sign_bytes(key, &msg).unwrap();
    op.body.insert("sig".into(), json!(sig));
    op
}

fn append(path: &Path, op: &Op) {
    common::append_raw(path, &htrac::emit::emit_op(op));
}

fn reasons(shown: &Value, key: &str) -> Vec<String> {
    shown[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    format!(
                        "{} {}",
                        r["nonce"].as_str().unwrap(),
                        r["reason"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The op block of `path` whose nonce is `nonce`, as text.
fn block(path: &Path, nonce: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(&format!("  # {nonce}")))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn last_nonce(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text.lines().last().unwrap();
    line.rsplit("  # ").next().unwrap().to_string()
}

#[test]
fn under_required_a_signed_lock_holds_and_forged_unlocks_do_nothing() {
    let s = Signed::new("required");
    let id = s.env.add("guarded", &[]);
    s.env.run(&["lock", &id, "status"]).ok();
    let path = s.ops(&id);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.matches("\n  sig: U1NIU0lH").count(),
        2,
        "create and lock are signed:\n{text}"
    );
    assert_eq!(s.show(&id)["locked_fields"], json!(["status"]));

    // A valid signature of another item's unlock, copied over whole.
    let other = s.env.add("other", &[]);
    s.env.run(&["lock", &other, "status"]).ok();
    s.env.run(&["unlock", &other, "status"]).ok();
    let copied = block(&s.ops(&other), &last_nonce(&s.ops(&other)));
    assert!(copied.contains("  sig: "), "{copied}");
    common::append_raw(&path, &copied);

    let unlock = json!({"unlock": ["status"]});
    append(&path, &forged("unlock", 60, "f001", unlock.clone(), None));
    append(
        &path,
        &forged("unlock", 61, "f002", unlock.clone(), Some("U1NIU0lHAAAAAQ")),
    );
    append(
        &path,
        &signed_with(
            &s.stranger,
            &id,
            forged("unlock", 62, "f003", unlock.clone(), None),
        ),
    );
    // A valid signature whose op was then altered (its clock moved).
    let mut moved = signed_with(&s.key, &id, forged("unlock", 63, "f004", unlock, None));
    moved.clock = 64;
    append(&path, &moved);
    append(
        &path,
        &forged(
            "update",
            65,
            "f005",
            json!({"set": {"status": "deleted"}}),
            None,
        ),
    );

    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!(["status"]), "{shown}");
    assert_eq!(shown["status"], "todo_hard");
    let r = reasons(&shown, "rejected_ops");
    assert_eq!(r.len(), 6, "{r:#?}");
    let find = |n: &str| {
        r.iter()
            .find(|x| x.starts_with(n))
            .unwrap_or_else(|| panic!("{n} in {r:#?}"))
    };
    assert!(
        find("f001").contains("'unlock' needs human authority")
            && find("f001").ends_with("does not hold: unsigned)")
    );
    assert!(
        find("f002").contains("bad signature: cannot be read"),
        "{r:#?}"
    );
    assert!(
        find("f003").contains("bad signature: its key may not sign for"),
        "{r:#?}"
    );
    assert!(
        find("f004").contains("bad signature: it does not match this op"),
        "{r:#?}"
    );
    assert!(find("f005").contains("sets status 'deleted'") && find("f005").contains("unsigned"));
    // The copied op is rejected as not matching this item.
    assert_eq!(
        r.iter()
            .filter(|x| x.contains("it does not match this op"))
            .count(),
        2,
        "{r:#?}"
    );
    assert_eq!(reasons(&shown, "unverified_ops").len(), 6);
    // Warm (read cache) and text show agree.
    assert_eq!(s.show(&id), shown);
    let text = s.env.run(&["show", &id]).ok();
    assert!(text.stdout.contains("rejected ops: 6"), "{}", text.stdout);
    assert!(
        text.stderr
            .contains("(nonce f001) has no valid signature: unsigned"),
        "{}",
        text.stderr
    );
    // validate reports every one, as an error with --strict.
    let v = s.env.run(&["validate", "--strict"]).fails(1);
    for n in ["f001", "f002", "f003", "f004", "f005"] {
        assert!(
            v.stdout.contains(&format!("(nonce {n}) has no effect")),
            "{n}: {}",
            v.stdout
        );
    }
    // The pre-commit check (ops new since HEAD) refuses them without --strict.
    let v = s.env.run(&["validate", "--check-locks"]).fails(1);
    assert!(
        v.stdout.contains("(nonce f001) claims 'by: human' for")
            && v.stdout
                .contains("does not hold: unsigned (authority.signing: required)"),
        "{}",
        v.stdout
    );
    // The copied op is refused here; in its own item it is valid.
    let copied_nonce = last_nonce(&s.ops(&other));
    assert!(
        v.stdout.lines().any(|l| l.contains(&id)
            && l.contains(&format!("(nonce {copied_nonce}) claims"))
            && l.contains("bad signature: it does not match this op")),
        "{}",
        v.stdout
    );
    assert!(
        !v.stdout
            .lines()
            .any(|l| l.contains(&other) && l.contains("claims")),
        "{}",
        v.stdout
    );
    // The other item, with its own signed unlock, is unlocked.
    assert_eq!(s.show(&other)["locked_fields"], json!([]));
    // The verification cache holds the valid signatures verified.
    let sigs = std::fs::metadata(s.env.cache_files("sigs").first().expect("sigs.bin")).unwrap();
    assert!(sigs.len() >= 32 && sigs.len() % 32 == 0, "{}", sigs.len());
}

#[test]
fn warn_reports_unsigned_human_ops_but_applies_them_and_off_changes_nothing() {
    let s = Signed::new("warn");
    let id = s.env.add("warned", &[]);
    s.env.run(&["lock", &id, "status"]).ok();
    let path = s.ops(&id);
    append(
        &path,
        &forged("unlock", 60, "f001", json!({"unlock": ["status"]}), None),
    );
    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!([]), "applied: {shown}");
    assert!(shown.get("rejected_ops").is_none(), "{shown}");
    let u = reasons(&shown, "unverified_ops");
    assert_eq!(
        u,
        ["f001 unsigned: it still counts as the human's (authority.signing: warn)"]
    );
    let v = s.env.run(&["validate"]).ok();
    assert!(
        v.stdout
            .contains("(nonce f001) has no valid signature: unsigned"),
        "{}",
        v.stdout
    );
    s.env.run(&["validate", "--strict"]).fails(1);

    // The same files under `required` (the read cache was warm): no effect.
    s.configure("required");
    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!(["status"]), "{shown}");
    assert_eq!(reasons(&shown, "rejected_ops").len(), 1);

    // Under `off`: nothing is signed or checked, as before signing existed.
    s.configure("off");
    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!([]));
    assert!(shown.get("unverified_ops").is_none() && shown.get("rejected_ops").is_none());
    let plain = s.env.add("plain", &[]);
    assert!(!std::fs::read_to_string(s.ops(&plain))
        .unwrap()
        .contains("sig:"));
    s.env.run(&["validate", "--strict"]).ok();
}

#[test]
fn a_human_without_a_usable_key_is_refused_under_required() {
    let s = Signed::new("required");
    let id = s.env.add("keyed", &[]);
    let before = s.env.tree();
    // A key the allowed_signers file does not list for this user.
    let cfg = s.env.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let key = s.key.display().to_string();
    std::fs::write(&cfg, text.replace(&key, &s.stranger.display().to_string())).unwrap();
    let r = s.env.run(&["lock", &id, "status"]).fails(1);
    assert!(
        r.stderr.contains("does not verify") && r.stderr.contains("allowed_signers"),
        "{}",
        r.stderr
    );
    // No key at all.
    let no_key: String = text
        .lines()
        .filter(|l| !l.contains("signing_key"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&cfg, no_key).unwrap();
    let r = s.env.run(&["lock", &id, "status"]).fails(1);
    assert!(r.stderr.contains("no SSH signing key"), "{}", r.stderr);
    assert!(r.stderr.contains("HTRAC_SIGNING_KEY"), "{}", r.stderr);
    std::fs::write(&cfg, &text).unwrap();
    let after: Vec<_> = s
        .env
        .tree()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("config.yaml"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.ends_with("config.yaml"))
        .collect();
    assert_eq!(before, after, "nothing was written");
    // HTRAC_SIGNING_KEY works as well as the config.
    let out = s
        .env
        .command(&["lock", &id, "status"])
        .env("HTRAC_SIGNING_KEY", &s.key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ssh_keygen_verifies_what_htrac_signed_by_the_readme_recipe() {
    let s = Signed::new("required");
    let id = s.env.add("by hand", &[]);
    s.env.run(&["lock", &id, "title"]).ok();
    let path = s.ops(&id);
    let nonce = last_nonce(&path);
    // The commands of the README's "Signed human authority" section.
    let script = r#"
        { printf 'htrac-op v1 %s\n' "$ID"; grep "  # $N\$" "$F" | grep -v '^  sig: '; } > op.msg
        grep "^  sig: .*  # $N\$" "$F" | sed "s/^  sig: //; s/  # $N\$//" | fold -w 70 \
          | { echo '-----BEGIN SSH SIGNATURE-----'; cat; echo '-----END SSH SIGNATURE-----'; } > op.sig
        ssh-keygen -Y verify -f "$ALLOWED" -I "$ME" -n htrac-op -s op.sig < op.msg
    "#;
    let run = |file: &Path| {
        Command::new("sh")
            .args(["-c", script])
            .current_dir(s.keys.path())
            .env("ID", &id)
            .env("N", &nonce)
            .env("F", file)
            .env("ALLOWED", &s.allowed)
            .env("ME", me())
            .output()
            .unwrap()
    };
    let out = run(&path);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Good \"htrac-op\" signature"));
    // ...and refuses the op once it is altered.
    let tampered = s.keys.path().join("tampered.ops");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &tampered,
        text.replace(
            &format!("- title  # {nonce}"),
            &format!("- status  # {nonce}"),
        ),
    )
    .unwrap();
    assert!(!run(&tampered).status.success());
}

#[test]
fn ops_written_before_the_cut_over_stay_trusted() {
    let s = Signed::new("off");
    let id = s.env.add("older", &[]);
    s.env.run(&["lock", &id, "status"]).ok();
    let path = s.ops(&id);
    assert!(!std::fs::read_to_string(&path).unwrap().contains("sig:"));
    // Switched on without a cut-over: the old lock is unsigned, so without effect.
    s.configure("required");
    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!([]), "{shown}");
    assert!(reasons(&shown, "rejected_ops")[0].contains("unsigned"));
    // The human's cut-over trusts the ops there now.
    let out = s.env.run(&["signing-cutover"]).ok();
    assert!(
        out.stdout.starts_with("2 human op(s) trusted"),
        "{}",
        out.stdout
    );
    let list = s.env.root().join("tracker/trusted-ops");
    let listed = std::fs::read_to_string(&list).unwrap();
    assert!(listed.starts_with("# htrac trusted ops v1\n") && listed.contains("\nsig: U1NIU0lH"));
    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!(["status"]), "{shown}");
    assert!(shown.get("rejected_ops").is_none());
    s.env.run(&["validate", "--strict"]).ok();
    // A forged unlock after the cut-over does nothing; nor does a trusted
    // op replayed with another clock.
    append(
        &path,
        &forged("unlock", 60, "f001", json!({"unlock": ["status"]}), None),
    );
    assert_eq!(s.show(&id)["locked_fields"], json!(["status"]));
    // An agent that adds its op's hash to the list breaks the list's
    // signature: nothing before the cut-over is trusted any more.
    let op = forged("unlock", 61, "f002", json!({"unlock": ["status"]}), None);
    let hash: String = htrac::signing::message_hash(&id, &op)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    append(&path, &op);
    std::fs::write(
        &list,
        listed.replace("\nsig: ", &format!("\n{hash}\nsig: ")),
    )
    .unwrap();
    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!([]), "{shown}");
    let r = reasons(&shown, "rejected_ops");
    assert!(
        r.iter()
            .any(|x| x.starts_with("f002") && x.contains("unsigned")),
        "{r:#?}"
    );
    let v = s.env.run(&["validate"]).ok();
    assert!(
        v.stderr.contains("is not trusted (bad signature")
            || v.stdout.contains("is not trusted (bad signature"),
        "{}{}",
        v.stdout,
        v.stderr
    );
    let text = s.env.run(&["show", &id]).ok();
    assert!(
        text.stderr.contains(
            "trusted-ops is not trusted (bad signature: the list was changed after it was signed)"
        ),
        "{}",
        text.stderr
    );
    // Restored (as from git), it is trusted again.
    std::fs::write(&list, &listed).unwrap();
    assert_eq!(s.show(&id)["locked_fields"], json!(["status"]));
}

#[test]
fn the_reference_reads_signed_files_as_we_do() {
    use reference::*;
    let ctx = Ctx::new().expect("reference");
    let repo = ctx.repo("signed", Ours);
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "human");
    let allowed = keys.path().join("allowed_signers");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    std::fs::write(&allowed, format!("{} {public}", me())).unwrap();
    let cfg = repo.dir.join(".agent/tracker/config.yaml");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "\nauthority:\n  signing: required\n  allowed_signers: {}\n  signing_key: {}\n",
        allowed.display(),
        key.display()
    ));
    std::fs::write(&cfg, text).unwrap();
    let a = ctx.ok(
        Ours,
        &repo,
        false,
        &[
            "add",
            "--kind",
            "work_item",
            "--title",
            "signed «one»",
            "--tag",
            "x",
        ],
    );
    let a = a.trim();
    let b = ctx.ok(
        Ours,
        &repo,
        false,
        &[
            "add",
            "--kind",
            "work_item",
            "--title",
            "two",
            "--isbefore",
            a,
        ],
    );
    let b = b.trim();
    ctx.ok(
        Ours,
        &repo,
        false,
        &["update", a, "--status", "in_progress", "--note", "started"],
    );
    ctx.ok(Ours, &repo, false, &["lock", b, "title", "status"]);
    ctx.ok(Ours, &repo, false, &["discuss", b, "a \"quoted\" word"]);
    for f in op_files(&repo) {
        let t = std::fs::read_to_string(&f).unwrap();
        assert_eq!(
            t.matches("- op: ").count(),
            t.matches("\n  sig: ").count(),
            "every op signed:\n{t}"
        );
    }
    check_nonce_comments(&repo);
    let ours = state(&ctx, Ours, &repo, STRICT);
    let theirs = state(&ctx, Theirs, &repo, STRICT);
    assert_states_eq("signed ops", (Ours, &ours), (Theirs, &theirs), true);
    ctx.ok(Theirs, &repo, false, &["validate"]);
    ctx.ok(Ours, &repo, false, &["validate", "--strict"]);
}

/// `htrac-serve` acts as each logged-in web user and signs with the
/// server's key, which allowed_signers lists under the web users' names.
#[cfg(feature = "serve")]
#[test]
fn the_web_server_signs_its_users_ops_with_the_server_key() {
    let s = Signed::new("required");
    // This process writes too (caches, journal): keep it out of $HOME. Every
    // other test of this file passes its own values to its processes.
    // (A directory that lives as long as the process, which other tests'
    // children may inherit.)
    static OWN: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let own = OWN.get_or_init(|| tempfile::tempdir().unwrap()).path();
    std::env::set_var("HTRAC_CACHE_DIR", own.join("cache"));
    std::env::set_var("HTRAC_STATE_DIR", own.join("state"));
    let id = s.env.add("served", &[]);
    let server = keygen(s.keys.path(), "server");
    let public = std::fs::read_to_string(server.with_extension("pub")).unwrap();
    let mut allowed = std::fs::read_to_string(&s.allowed).unwrap();
    allowed.push_str(&format!("webamy,webbob namespaces=\"htrac-op\" {public}"));
    std::fs::write(&s.allowed, allowed).unwrap();
    let mut base = htrac::Tracker::open(&s.env.root()).unwrap();
    base.config.authority.server_key = Some(server.clone());
    let amy = htrac::serve::api::acting_as(&base, "webamy");
    assert_eq!(amy.signing_key(), Some(server));
    let file = amy.resolve(&id).unwrap();
    amy.lock(&file, &["status".to_string()], false).unwrap();
    let shown = s.show(&id);
    assert_eq!(shown["locked_fields"], json!(["status"]), "{shown}");
    assert!(shown.get("unverified_ops").is_none(), "{shown}");
    // A web user allowed_signers does not list for the server's key is refused.
    let eve = htrac::serve::api::acting_as(&base, "webeve");
    let e = eve.lock(&file, &["title".to_string()], false).unwrap_err();
    assert!(e.message.contains("does not verify"), "{}", e.message);
}

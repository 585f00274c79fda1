//! Signed human authority seen from outside: `ssh-keygen -Y verify`
//! accepts what htrac signed (by the README's recipe), the reference reads
//! signed files as we do, and `htrac-serve` signs its web users' ops with
//! the server's key.

mod common;
mod reference;
mod signhelp;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use signhelp::*;

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

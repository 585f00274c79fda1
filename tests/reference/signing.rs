//! Signed files seen by the reference: it reads what htrac signed exactly
//! as we do.

use std::os::unix::fs::PermissionsExt;

use crate::signhelp::*;

#[test]
fn the_reference_reads_signed_files_as_we_do() {
    use crate::harness::*;
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

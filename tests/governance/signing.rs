//! Signed human authority (`authority.signing`): human ops carry an SSH
//! signature checked against an allowed_signers file. With real
//! `ssh-keygen -t ed25519` keys in temp dirs: a signed lock holds; forged
//! human ops (unsigned, garbage, copied from another item, signed by a key
//! not allowed, altered) have no effect under `required` and are reported;
//! `warn` reports but applies; `off` changes nothing; a human without a
//! usable key is refused; ops before the cut-over stay trusted; and
//! `ssh-keygen -Y verify` accepts what htrac signed, by the README's recipe.
//! (The reference reading signed files: tests/reference/signing.rs; the web
//! server signing: tests/serve/signing.rs.)

use std::path::Path;
use std::process::Command;

use crate::common;
use crate::signhelp::*;
use serde_json::json;

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
    // Still without authority.signing_key: HTRAC_SIGNING_KEY, then git's
    // SSH signing key, are used.
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
    common::git(s.env.path(), &["config", "gpg.format", "ssh"]);
    common::git(s.env.path(), &["config", "user.signingkey", &key]);
    s.env.run(&["lock", &id, "title"]).ok();
    let shown = s.show(&id);
    assert_eq!(
        shown["locked_fields"],
        json!(["status", "title"]),
        "{shown}"
    );
    assert!(shown.get("unverified_ops").is_none(), "{shown}");
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
    let hash: String = htrac::governance::signing::message_hash(&id, &op)
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

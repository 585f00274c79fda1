//! `htrac completions bash|zsh|fish`: scripts made from the command table,
//! exercised the way bash runs them (COMP_WORDS in, COMPREPLY out), with
//! live values (statuses, item IDs) asked of `htrac __complete`.

use std::path::Path;

use crate::common::Env;

/// What bash's completion offers for `words` (the last one being typed),
/// run in `env`'s repository with this build of htrac first on PATH.
fn complete(env: &Env, script: &Path, words: &[&str]) -> Vec<String> {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_htrac")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _htrac; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = env
        .command(&[])
        .get_envs()
        .fold(std::process::Command::new("bash"), |mut c, (k, v)| {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
            c
        })
        .args(["--norc", "-c", &program])
        .env("PATH", path)
        .current_dir(env.path())
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_flags_statuses_and_item_ids() {
    let env = Env::new();
    let id = env.add("complete me", &[]);
    let script = env.path().join("htrac.bash");
    let text = env.run(&["completions", "bash"]).ok().stdout;
    std::fs::write(&script, text).unwrap();
    assert_eq!(complete(&env, &script, &["htrac", "upd"]), ["update"]);
    assert_eq!(
        complete(&env, &script, &["htrac", "--json", "rea"]),
        ["ready"]
    );
    assert_eq!(
        complete(&env, &script, &["htrac", "update", "x", "--sta"]),
        ["--status"]
    );
    let statuses = complete(&env, &script, &["htrac", "update", "x", "--status", "in"]);
    assert_eq!(statuses, ["in_progress"]);
    for cmd in ["show", "claim"] {
        let got = complete(&env, &script, &["htrac", cmd, &id[..6]]);
        assert_eq!(got, std::slice::from_ref(&id), "{cmd}");
    }
    assert_eq!(
        complete(&env, &script, &["htrac", "list", "--tier", "s"]),
        ["stealth"]
    );
    // Global flags, before or after the command.
    assert!(
        complete(&env, &script, &["htrac", "list", "--no"]).contains(&"--no-auto-sync".to_string())
    );
}

#[test]
fn zsh_and_fish_scripts_cover_every_command_and_an_unknown_shell_is_refused() {
    let env = Env::new();
    let zsh = env.run(&["completions", "zsh"]).ok().stdout;
    assert!(zsh.starts_with("#compdef htrac\n") && zsh.contains("complete -F _htrac htrac"));
    let fish = env.run(&["completions", "fish"]).ok().stdout;
    for cmd in [
        "add",
        "update",
        "claim",
        "release",
        "ready",
        "sync",
        "completions",
    ] {
        assert!(
            fish.contains(&format!("-n __fish_use_subcommand -a {cmd} ")),
            "{cmd} missing from the fish script"
        );
    }
    assert!(fish.contains("-l status -d"), "flags are listed");
    let r = env.run(&["completions", "tcsh"]).fails(1);
    assert!(r.stderr.contains("bash, zsh or fish"), "{}", r.stderr);
    // __complete outside a tracker says nothing and succeeds.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_htrac"))
        .args(["__complete", "items"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.is_empty());
}

//! `[[preface]]` escalation in `htrac guidance`: the configured precedence
//! gate (a stand-in for an LLM CLI that records its stdin) is asked about an
//! item whose first unread human message starts with `[[tag]]`, and its
//! answer is read as the reference reads the model's: YES (any case, after
//! trimming) escalates; NO, an empty answer, a failing command or one past
//! its time limit (killed) escalate nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{self, Env};

/// Two items with unread human messages, the first prefaced; the gate
/// configured as a stand-in whose answer is `answer` (shell). Returns the
/// two IDs.
fn setup(env: &Env, dir: &Path, answer: &str, timeout: u64) -> (String, String) {
    let gate = dir.join("gate");
    std::fs::write(
        &gate,
        format!(
            "#!/bin/sh\ncat >> '{d}/stdin'; echo '<<END>>' >> '{d}/stdin'\n{answer}\n",
            d = dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&gate, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = env.root().join("tracker/config.yaml");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let from =
        "  # precedence_gate:\n  #   command: llm -m some-model\n  #   timeout_seconds: 60\n";
    assert!(text.contains(from));
    let to = format!(
        "  precedence_gate:\n    command: \"'{}' --model x\"\n    timeout_seconds: {timeout}\n",
        gate.display()
    );
    std::fs::write(&cfg, text.replace(from, &to)).unwrap();
    let a = env.add("needs an answer", &["--priority", "1"]);
    let b = env.add("other question", &[]);
    env.run(&["discuss", &a, "[[urgent]] the build is broken"])
        .ok();
    env.run(&["discuss", &b, "what about this?"]).ok();
    (a, b)
}

fn guidance(env: &Env, data: &Path) -> (common::Run, String) {
    let out = env
        .command(&["--json", "guidance"])
        .env("XDG_DATA_HOME", data)
        .output()
        .unwrap();
    let r = common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let v = r.json();
    let text = std::fs::read_to_string(v["path"].as_str().unwrap()).unwrap();
    (r, text)
}

fn prompts(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("stdin"))
        .unwrap_or_default()
        .split("<<END>>\n")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn escalated(text: &str, a: &str) -> bool {
    text.contains(&format!(
        "## Escalated (preface precedence gate → YES)\n- [{a}] P1 [[urgent]] needs an answer (1 unread)\n"
    ))
}

#[test]
fn yes_escalates_and_the_gate_gets_the_references_prompt_on_stdin() {
    for answer in ["echo YES", "printf '  yes, it does\\n'"] {
        let (env, dir, data) = (
            Env::new(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let (a, b) = setup(&env, dir.path(), answer, 60);
        let (r, text) = guidance(&env, data.path());
        assert_eq!(r.code, 0);
        assert!(escalated(&text, &a), "{answer}: {text}");
        assert!(text.contains("Reply to the escalated item(s) above first"));
        // Lifted out of the listing; the other item stays where it was.
        assert!(
            text.contains(&format!(
                "## Blocking items with unread messages\n- [{b}] P2 other question (1 unread)\n\n"
            )),
            "{text}"
        );
        assert_eq!(text.matches(&format!("[{a}]")).count(), 1, "{text}");
        assert_eq!(
            prompts(dir.path()),
            [format!(
                "A human has prefaced their message with the tag [[urgent]].\n\
                 The message is on tracker item {a}: \"needs an answer\".\n\n\
                 There are 1 other unread human message(s) on these items:\n\
                 - {b}: \"other question\"\n\n\
                 Does the tag [[urgent]] imply that this particular message takes precedence \
                 over the other unreads (e.g. signaling urgency, priority, or a directive to \
                 answer first)?\n\nAnswer with a single word: YES or NO."
            )],
            "one question, about the prefaced item only"
        );
    }
}

#[test]
fn no_an_empty_answer_or_a_failure_escalates_nothing() {
    for (answer, warning) in [
        ("echo NO", None),
        ("echo 'Maybe. YES'", None),
        ("true", None),
        (
            "echo YES; echo 'model unavailable' >&2; exit 3",
            Some("exited with 3: model unavailable"),
        ),
    ] {
        let (env, dir, data) = (
            Env::new(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let (a, _) = setup(&env, dir.path(), answer, 60);
        let (r, text) = guidance(&env, data.path());
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!text.contains("Escalated"), "{answer}: {text}");
        assert!(text.contains(&format!(
            "## Blocking items with unread messages\n- [{a}] P1 needs an answer (1 unread)\n"
        )));
        assert_eq!(prompts(dir.path()).len(), 1);
        match warning {
            Some(w) => assert!(
                r.stderr.contains(&format!(
                    "warning: precedence gate for {a} [[urgent]]: {w}; not escalated"
                )),
                "{}",
                r.stderr
            ),
            None => assert_eq!(r.stderr, "", "{answer}"),
        }
    }
}

#[test]
fn a_gate_past_its_time_limit_is_killed_and_escalates_nothing() {
    let (env, dir, data) = (
        Env::new(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    // A child that would answer YES after 30 s, holding stdout open meanwhile.
    let (a, _) = setup(&env, dir.path(), "sleep 30; echo YES", 1);
    let started = Instant::now();
    let (r, text) = guidance(&env, data.path());
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "killed at the limit, took {took:?}"
    );
    assert_eq!(r.code, 0);
    assert!(!text.contains("Escalated"));
    assert!(
        r.stderr.contains(&format!(
            "warning: precedence gate for {a} [[urgent]]: timed out after 1 s (killed); not escalated"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn a_lone_prefaced_item_is_not_put_to_the_gate() {
    let (env, dir, data) = (
        Env::new(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let gate_dir = dir.path();
    let a = env.add("alone", &[]);
    env.run(&["discuss", &a, "[[urgent]] only me"]).ok();
    // Configured, but a lone unread item has nothing to take precedence over.
    setup_gate_only(&env, gate_dir);
    let (_, text) = guidance(&env, data.path());
    assert!(!text.contains("Escalated"));
    assert!(prompts(gate_dir).is_empty());
}

/// Configures the gate (answering YES) without adding items.
fn setup_gate_only(env: &Env, dir: &Path) {
    let gate = dir.join("gate");
    std::fs::write(
        &gate,
        format!("#!/bin/sh\ncat >> '{}/stdin'; echo YES\n", dir.display()),
    )
    .unwrap();
    std::fs::set_permissions(&gate, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = env.root().join("tracker/config.yaml");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace(
            "  # precedence_gate:\n",
            &format!("  precedence_gate:\n    command: '{}'\n", gate.display()),
        )
        .replace(
            "  #   command: llm -m some-model\n  #   timeout_seconds: 60\n",
            "",
        ),
    )
    .unwrap();
}

#[test]
fn a_bad_gate_setting_is_a_config_error_naming_the_key() {
    for (setting, key) in [
        (
            "  precedence_gate:\n    command: ''\n",
            "stop_hook.precedence_gate.command",
        ),
        (
            "  precedence_gate:\n    command: llm\n    timeout_seconds: 0\n",
            "stop_hook.precedence_gate.timeout_seconds",
        ),
        (
            "  precedence_gate:\n    command: llm\n    model: x\n",
            "stop_hook.precedence_gate.model",
        ),
    ] {
        let env = Env::new();
        let cfg = env.root().join("tracker/config.yaml");
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        let text = std::fs::read_to_string(&cfg).unwrap();
        std::fs::write(
            &cfg,
            text.replace("  # precedence_gate:\n", setting).replace(
                "  #   command: llm -m some-model\n  #   timeout_seconds: 60\n",
                "",
            ),
        )
        .unwrap();
        let r = env.run(&["guidance"]);
        assert_ne!(r.code, 0);
        assert!(r.stderr.contains(key), "{key}: {}", r.stderr);
    }
}

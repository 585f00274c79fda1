//! `htrac claim`, `ready --claim` and `release`: agent sessions taking
//! items — never two for one item, even racing from several worktrees —
//! leases that lapse, and who may give a claim up.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use crate::common::{self, git, Env};
use crate::synchelp;
use serde_json::Value;

/// `htrac` in `dir` as session `session`.
fn htrac(env: &Env, dir: &Path, session: &str, args: &[&str]) -> std::process::Output {
    let mut c = env.command(args);
    c.current_dir(dir).env("HTRAC_SESSION", session);
    c.output().expect("htrac runs")
}

/// Waits (polling the clock) until the clock is past `until` (Unix
/// seconds): a lease has ended, whatever the machine's speed.
fn wait_past(until: i64) {
    while htrac::claims::now() <= until {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A lease's end as `claim --json` or a claim field gives it.
fn secs(utc: &Value) -> i64 {
    htrac::timestamp::parse_utc(utc.as_str().expect("a timestamp")).expect("UTC")
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A repo with `n` ready items, committed, and `extra` linked worktrees
/// of it; returns the work trees (the main one first) and the item IDs.
fn repo_with_worktrees(env: &Env, n: usize, extra: usize) -> (Vec<PathBuf>, Vec<String>) {
    let ids: Vec<String> = (0..n)
        .map(|i| env.add(&format!("item {i}"), &["--priority", &(i % 5).to_string()]))
        .collect();
    git(env.path(), &["add", "-A"]);
    git(env.path(), &["commit", "-q", "-m", "items"]);
    let mut trees = vec![env.path().to_path_buf()];
    for w in 0..extra {
        let dir = env.path().join(format!("wt{w}"));
        git(
            env.path(),
            &["worktree", "add", "-q", dir.to_str().unwrap()],
        );
        trees.push(dir);
    }
    (trees, ids)
}

#[test]
fn racing_sessions_in_four_worktrees_never_share_an_item() {
    for round in 0..3u64 {
        let env = Env::new();
        let (trees, ids) = repo_with_worktrees(&env, 10, 3);
        let env = Arc::new(env);
        let start = Arc::new(Barrier::new(8));
        let racers: Vec<_> = (0..8)
            .map(|p| {
                let (env, start) = (env.clone(), start.clone());
                let dir = trees[(p + round as usize) % trees.len()].clone();
                std::thread::spawn(move || {
                    let session = format!("agent-{p}");
                    let mut won = Vec::new();
                    start.wait();
                    loop {
                        let out = htrac(&env, &dir, &session, &["--json", "claim"]);
                        if out.status.code() == Some(1) {
                            let err = String::from_utf8_lossy(&out.stderr).to_string();
                            assert!(err.contains("nothing to claim"), "{session}: {err}");
                            break;
                        }
                        assert!(
                            out.status.success(),
                            "{session}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        let v = json(&out);
                        assert_eq!(v["claim"]["session"], session.as_str());
                        won.push(v["id"].as_str().unwrap().to_string());
                    }
                    (session, won)
                })
            })
            .collect();
        let mut holder = std::collections::BTreeMap::new();
        for r in racers {
            let (session, won) = r.join().unwrap();
            for id in won {
                if let Some(first) = holder.insert(id.clone(), session.clone()) {
                    panic!("round {round}: {id} claimed by both {first} and {session}");
                }
            }
        }
        let mut all: Vec<&String> = holder.keys().collect();
        all.sort();
        let mut want: Vec<&String> = ids.iter().collect();
        want.sort();
        assert_eq!(all, want, "round {round}: every item claimed once");
        // Every worktree sees every claim at once, with no commit.
        for dir in &trees {
            let list = json(&htrac(&env, dir, "observer", &["--json", "list"]));
            for item in list.as_array().unwrap() {
                let id = item["id"].as_str().unwrap();
                assert_eq!(item["status"], "in_progress", "{id} in {}", dir.display());
                assert_eq!(
                    item["fields"]["claimed_by"].as_str(),
                    Some(holder[id].as_str()),
                    "{id} in {}",
                    dir.display()
                );
            }
            let ready = json(&htrac(&env, dir, "observer", &["--json", "ready"]));
            assert_eq!(ready["ready"], Value::Array(vec![]), "{}", dir.display());
        }
    }
}

#[test]
fn a_held_item_is_refused_with_the_holder_and_offered_again_when_the_lease_lapses() {
    let env = Env::new();
    let a = env.add("first", &["--priority", "1"]);
    let b = env.add("second", &["--priority", "2"]);
    let dir = env.path();
    let out = htrac(&env, dir, "s1", &["claim", "--lease", "5s"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("claimed WI-") && text.contains("(session s1)"),
        "{text}"
    );
    // Another session naming it is refused, with the reason in JSON.
    let out = htrac(&env, dir, "s2", &["--json", "claim", &a]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["reason"], "claimed");
    assert_eq!(v["holder"]["session"], "s1");
    assert!(v["holder"]["until"].as_str().unwrap().ends_with('Z'));
    // Without an item it gets the next one; ready offers nothing then.
    let v = json(&htrac(&env, dir, "s2", &["--json", "ready", "--claim"]));
    assert_eq!(v["id"], b.as_str());
    let list = String::from_utf8(htrac(&env, dir, "s3", &["list"]).stdout).unwrap();
    assert!(list.contains("(claimed by s1 until"), "{list}");
    // The holder claiming again renews its lease.
    let v = json(&htrac(
        &env,
        dir,
        "s1",
        &["--json", "claim", &a, "--lease", "5s"],
    ));
    assert_eq!(v["renewed"], true);
    wait_past(secs(&v["claim"]["until"]));
    // Lapsed: offered again, shown as expired, claimable by another.
    let v = json(&htrac(&env, dir, "s3", &["--json", "ready"]));
    let ready: Vec<&str> = v["ready"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(ready.contains(&a.as_str()), "{v}");
    let text = String::from_utf8(htrac(&env, dir, "s3", &["ready"]).stdout).unwrap();
    assert!(text.contains("(claim by s1 expired"), "{text}");
    let v = json(&htrac(&env, dir, "s3", &["--json", "claim", &a]));
    assert_eq!(v["claim"]["session"], "s3");
    assert_eq!(v["renewed"], false);
}

#[test]
fn release_gives_the_status_back_and_only_a_human_breaks_anothers_claim() {
    let env = Env::new();
    let id = env.add("soft one", &["--status", "todo_soft"]);
    let dir = env.path();
    assert!(htrac(&env, dir, "s1", &["claim", &id]).status.success());
    let show = json(&htrac(&env, dir, "s1", &["--json", "show", &id]));
    assert_eq!(show["status"], "in_progress");
    assert_eq!(show["fields"]["claim_from"], "todo_soft");
    // Another session may not release it…
    let out = htrac(&env, dir, "s2", &["release", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("claimed by s1"));
    // …nor break it as an agent…
    let cfg = env.root().join("tracker/config.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&cfg, text.replace("- \"*_agent\"", "- \"*\"")).unwrap();
    let out = htrac(&env, dir, "s2", &["release", &id, "--break"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("only a human"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // …but its holder can, and the item is todo_soft again, unclaimed.
    let v = json(&htrac(&env, dir, "s1", &["--json", "release", &id]));
    assert_eq!(v["status"], "todo_soft");
    let show = json(&htrac(&env, dir, "s1", &["--json", "show", &id]));
    assert_eq!(show["status"], "todo_soft");
    assert!(show["fields"].get("claimed_by").is_none(), "{show}");
    // A human breaks a claim.
    std::fs::write(&cfg, text).unwrap();
    assert!(htrac(&env, dir, "s1", &["claim", &id]).status.success());
    let out = htrac(&env, dir, "someone", &["release", &id, "--break"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = htrac(&env, dir, "s1", &["release", &id]);
    assert_eq!(out.status.code(), Some(1), "released twice");
}

#[test]
fn nothing_to_claim_is_a_clear_refusal() {
    let env = Env::new();
    let out = htrac(&env, env.path(), "s1", &["claim"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to claim"));
    let out = htrac(&env, env.path(), "s1", &["claim", "--lease", "soon"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a lease"));
}

/// `htrac-hook ARGS` in `env`'s repo with `event` on stdin and `vars` set.
fn hook(env: &Env, args: &[&str], event: &Value, vars: &[(&str, &Path)]) -> std::process::Output {
    use std::io::Write;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_htrac-hook"));
    cmd.args(args)
        .current_dir(env.path())
        .env("HTRAC_CACHE_DIR", env.cache.path())
        .env("HTRAC_STATE_DIR", env.cache.path().join("state"))
        .env_remove("HTRAC_SESSION")
        .env_remove("CLAUDE_ENV_FILE")
        .env_remove("CLAUDE_PROJECT_DIR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(event.to_string().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_stop_hook_counts_this_sessions_claims_and_free_items_not_others_work() {
    let env = Env::new();
    let a = env.add("theirs", &["--priority", "1"]);
    let b = env.add("free then mine", &["--priority", "2"]);
    let dir = env.path();
    let stop = serde_json::json!({"session_id": "sess-42", "cwd": dir,
                                  "hook_event_name": "Stop", "stop_hook_active": false});
    let blocked = |out: &std::process::Output| -> Option<String> {
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (!text.is_empty()).then(|| {
            serde_json::from_str::<Value>(&text).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_string()
        })
    };
    assert!(htrac(&env, dir, "other", &["claim", &a]).status.success());
    // Another session's item is its work: only the free one blocks.
    let reason = blocked(&hook(&env, &["stop"], &stop, &[])).expect("the free item blocks");
    assert!(
        reason.contains(&b[..8]) && !reason.contains(&a[..8]),
        "{reason}"
    );
    // Once the other session holds both, this one may stop.
    assert!(htrac(&env, dir, "other", &["claim", &b]).status.success());
    assert_eq!(blocked(&hook(&env, &["stop"], &stop, &[])), None);
    // This session's own claim (by the harness's session id) blocks it.
    let brk = htrac(&env, dir, "x", &["release", &b, "--break"]);
    assert!(brk.status.success());
    assert!(htrac(&env, dir, "sess-42", &["claim", &b]).status.success());
    let reason = blocked(&hook(&env, &["stop"], &stop, &[])).expect("its own claim blocks");
    assert!(reason.contains(&b[..8]), "{reason}");
}

#[test]
fn session_start_exports_the_harness_session_for_the_agents_commands() {
    let env = Env::new();
    let file = env.path().join("claude-env");
    let start = serde_json::json!({"session_id": "sess-77", "cwd": env.path(),
                                   "hook_event_name": "SessionStart", "source": "startup"});
    let out = hook(
        &env,
        &["session-start"],
        &start,
        &[("CLAUDE_ENV_FILE", &file)],
    );
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "export HTRAC_SESSION=sess-77\n"
    );
    // An id a shell would read specially is never written.
    let bad = serde_json::json!({"session_id": "x; rm -rf ~", "cwd": env.path(),
                                 "hook_event_name": "SessionStart"});
    let file2 = env.path().join("claude-env-2");
    hook(
        &env,
        &["session-start"],
        &bad,
        &[("CLAUDE_ENV_FILE", &file2)],
    );
    assert!(!file2.exists());
}

#[test]
fn mcp_claims_and_releases_as_the_cli_does() {
    let env = Env::new();
    let a = env.add("one", &["--priority", "1"]);
    let b = env.add("two", &["--priority", "2"]);
    assert!(htrac(&env, env.path(), "cli-agent", &["claim", &b])
        .status
        .success());
    let mut s = common::mcp::Session::start(&env);
    s.initialize();
    // No id: the best free item, a.
    let (text, r) = s.ok("claim", serde_json::json!({"lease": "1h"}));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["id"], a.as_str());
    assert_eq!(r["structuredContent"]["claim"]["live"], true);
    // b is held by the CLI's session: a tool error naming the holder.
    let r = s.call("claim", serde_json::json!({"id": b}));
    assert_eq!(r["isError"], true, "{r}");
    assert_eq!(r["structuredContent"]["holder"]["session"], "cli-agent");
    let r = s.call("claim", serde_json::json!({"lease": "soon"}));
    assert_eq!(r["isError"], true, "{r}");
    assert!(r.to_string().contains("lease"), "{r}");
    // Released through MCP: todo_hard again, and free for the CLI.
    let (text, _) = s.ok("release", serde_json::json!({"id": a}));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], "todo_hard");
    s.finish();
    let v = json(&htrac(&env, env.path(), "cli-agent", &["--json", "claim"]));
    assert_eq!(v["id"], a.as_str());
}

#[test]
fn the_holders_writes_renew_its_lease_and_finishing_leaves_the_board() {
    let env = Env::new();
    let (trees, ids) = repo_with_worktrees(&env, 2, 1);
    let (main, other) = (&trees[0], &trees[1]);
    let board = || std::fs::read_to_string(env.path().join(".git/htrac-claims.json")).unwrap();
    let v = json(&htrac(
        &env,
        main,
        "s1",
        &["--json", "claim", &ids[0], "--lease", "6s"],
    ));
    let first_until = secs(&v["claim"]["until"]);
    // Halfway through the lease…
    wait_past(first_until - 3);
    // A note by the holder renews the lease (by its length, 6 s)…
    let out = htrac(
        &env,
        main,
        "s1",
        &["update", &ids[0], "--note", "still on it"],
    );
    assert!(out.status.success());
    wait_past(first_until);
    // …so past its first lease the other worktree still sees it held.
    let out = htrac(&env, other, "s2", &["--json", "claim", &ids[0]]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json(&out)["holder"]["session"], "s1");
    // A write by another session renews nothing.
    assert!(htrac(&env, main, "s1", &["claim", &ids[1]])
        .status
        .success());
    let before = board();
    assert!(
        htrac(&env, main, "s3", &["update", &ids[1], "--note", "hello"])
            .status
            .success()
    );
    assert_eq!(board(), before);
    // Done: the claim leaves the board, and the other worktree's view.
    assert!(
        htrac(&env, main, "s1", &["update", &ids[0], "--status", "done"])
            .status
            .success()
    );
    assert!(!board().contains(&ids[0]), "{}", board());
    let list = json(&htrac(&env, other, "s2", &["--json", "list"]));
    let item = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == ids[0].as_str())
        .unwrap();
    assert!(item["fields"].get("claimed_by").is_none(), "{item}");
}

#[test]
fn prime_in_another_worktree_leaves_out_an_item_claimed_there_kept_or_not() {
    let env = Env::new();
    let (trees, ids) = repo_with_worktrees(&env, 2, 1);
    let (main, other) = (&trees[0], &trees[1]);
    assert!(htrac(&env, main, "s1", &["claim", &ids[0]])
        .status
        .success());
    // The other worktree's files hold no claim op: only the host's board
    // says ids[0] is held. prime there — computed, then kept — agrees.
    let ready = |v: &Value| -> Vec<String> {
        v["ready"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    for round in ["computed", "kept"] {
        let mut c = env.command(&["--json", "prime"]);
        c.current_dir(other)
            .env("HTRAC_SESSION", "s2")
            .env("HTRAC_CACHE_RACY_MS", "0");
        let v = json(&c.output().unwrap());
        assert_eq!(ready(&v), vec![ids[1].clone()], "{round}: {v}");
    }
}

#[test]
fn a_claim_lost_on_the_remote_is_told_by_prime_after_a_bare_git_fetch() {
    let (_net, a, b, first, _second) = two_clones();
    // (Files just written are kept too: no racy window.)
    let claim = |c: &synchelp::Clone, who: &str, args: &[&str]| {
        c.run_env(
            args,
            &[("HTRAC_SESSION", who), ("HTRAC_CACHE_RACY_MS", "0")],
        )
    };
    // b claims offline; its briefing, kept for next time, has nothing lost.
    claim(&b, "agent-b", &["--no-auto-sync", "claim", &first]).ok();
    let before = claim(&b, "agent-b", &["--no-auto-sync", "prime"]).ok();
    assert!(
        !before.stderr.contains("no longer hold"),
        "{}",
        before.stderr
    );
    // a claims the same item and reaches the remote first.
    claim(&a, "agent-a", &["--no-auto-sync", "claim", &first]).ok();
    a.run(&["sync"]).ok();
    // A plain fetch moves only b's remote-tracking ref: no op file of b's
    // changes, yet the briefing must not be the one kept before.
    b.git(&["fetch", "-q", "origin"]);
    let after = claim(&b, "agent-b", &["--no-auto-sync", "prime"]).ok();
    assert!(
        after
            .stderr
            .contains(&format!("you no longer hold {first}: agent-a")),
        "{}",
        after.stderr
    );
}

/// Two clones of one remote, both with two ready items.
fn two_clones() -> (
    synchelp::Net,
    synchelp::Clone,
    synchelp::Clone,
    String,
    String,
) {
    let net = synchelp::Net::new();
    let (a, b) = (net.clone_named("a"), net.clone_named("b"));
    let first = a.add("shared work");
    let second = a.add("more work");
    a.run(&["sync"]).ok();
    b.run(&["sync"]).ok();
    (net, a, b, first, second)
}

#[test]
fn two_clones_claiming_one_item_offline_agree_on_the_winner_and_the_loser_is_told() {
    let (_net, a, b, first, second) = two_clones();
    // Both claim the first item without reaching the remote: both succeed.
    let claim =
        |c: &synchelp::Clone, who: &str, args: &[&str]| c.run_env(args, &[("HTRAC_SESSION", who)]);
    claim(&a, "agent-a", &["--no-auto-sync", "claim", &first]).ok();
    claim(&b, "agent-b", &["--no-auto-sync", "claim", &first]).ok();
    a.run(&["sync"]).ok();
    b.run(&["sync"]).ok();
    a.run(&["sync"]).ok();
    // One winner, the same in both clones whatever the order they synced in.
    let holder = |c: &synchelp::Clone| {
        c.run(&["--json", "show", &first]).ok().json()["fields"]["claimed_by"]
            .as_str()
            .map(str::to_string)
    };
    let winner = holder(&a).expect("claimed");
    assert_eq!(holder(&b).as_deref(), Some(winner.as_str()));
    let (loser, loser_name) = if winner == "agent-a" {
        (&b, "agent-b")
    } else {
        (&a, "agent-a")
    };
    // The loser's briefing says so, and its next claim too, taking the next item.
    let prime = claim(loser, loser_name, &["prime"]).ok();
    assert!(
        prime
            .stderr
            .contains(&format!("you no longer hold {first}")),
        "{}",
        prime.stderr
    );
    let r = claim(loser, loser_name, &["--json", "claim"]).ok();
    assert!(
        r.stderr
            .contains(&format!("you no longer hold {first}: {winner}")),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["id"], second.as_str());
}

#[test]
fn with_a_remote_a_claim_is_confirmed_at_once_and_the_second_clone_is_refused() {
    let (_net, a, b, first, second) = two_clones();
    let claim =
        |c: &synchelp::Clone, who: &str, args: &[&str]| c.run_env(args, &[("HTRAC_SESSION", who)]);
    // a's claim reaches the remote with its sync.
    claim(&a, "agent-a", &["claim", &first]).ok();
    // b has not synced since, yet its claim of the same item is refused…
    let r = claim(&b, "agent-b", &["--json", "claim", &first]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["holder"]["session"], "agent-a");
    // …and without an ID it gets the other item.
    let r = claim(&b, "agent-b", &["--json", "claim"]).ok();
    assert_eq!(r.json()["id"], second.as_str());
    a.run(&["sync"]).ok();
    for c in [&a, &b] {
        let v = c.run(&["--json", "show", &first]).ok().json();
        assert_eq!(v["fields"]["claimed_by"], "agent-a");
        let v = c.run(&["--json", "show", &second]).ok().json();
        assert_eq!(v["fields"]["claimed_by"], "agent-b");
    }
}

/// `htrac` in `dir` as session `who`, with a clone's environment.
fn in_tree(c: &synchelp::Clone, dir: &Path, who: &str, args: &[&str]) -> std::process::Output {
    let mut cmd = c.command(args);
    cmd.current_dir(dir).env("HTRAC_SESSION", who);
    cmd.output().expect("htrac runs")
}

#[test]
fn eight_agents_in_four_worktrees_of_two_clones_race_for_ten_items() {
    for round in 0..4usize {
        let net = synchelp::Net::new();
        let clones = [net.clone_named("a"), net.clone_named("b")];
        let ids: Vec<String> = (0..10)
            .map(|i| clones[0].add(&format!("round {round} item {i}")))
            .collect();
        clones[0].run(&["sync"]).ok();
        clones[1].run(&["sync"]).ok();
        // Each clone: its main tree and one linked worktree.
        let mut trees = Vec::new();
        for (n, c) in clones.iter().enumerate() {
            let wt = c.path.with_file_name(format!("{}-wt", c.path.display()));
            c.git(&["worktree", "add", "-q", wt.to_str().unwrap()]);
            trees.push((n, c.path.clone()));
            trees.push((n, wt));
        }
        let clones = Arc::new(clones);
        let start = Arc::new(Barrier::new(8));
        let racers: Vec<_> = (0..8usize)
            .map(|p| {
                let (clones, start) = (clones.clone(), start.clone());
                let (n, dir) = trees[(p + round) % trees.len()].clone();
                std::thread::spawn(move || {
                    let who = format!("agent-{p}");
                    let mut held = Vec::new();
                    start.wait();
                    loop {
                        let out = in_tree(&clones[n], &dir, &who, &["--json", "claim"]);
                        let err = String::from_utf8_lossy(&out.stderr).to_string();
                        if out.status.code() == Some(1) && err.contains("nothing to claim") {
                            break;
                        }
                        // Every item it tried went to other clones first: try again.
                        if out.status.code() == Some(1) && err.contains("claim' again") {
                            continue;
                        }
                        assert!(out.status.success(), "{who}: {err}");
                        held.push(json(&out)["id"].as_str().unwrap().to_string());
                    }
                    (who, n, dir, held)
                })
            })
            .collect();
        let agents: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        // Everything reaches everyone.
        for c in clones.iter() {
            c.run(&["sync"]).ok();
        }
        clones[0].run(&["sync"]).ok();
        // Each agent looks again (its briefing tells it of a claim it lost:
        // one whose confirming sync failed under the load); what it still
        // believes it holds, nobody else does.
        let mut believed = std::collections::BTreeMap::new();
        for (who, n, dir, held) in agents {
            let prime = in_tree(&clones[n], &dir, &who, &["prime"]);
            let told = String::from_utf8_lossy(&prime.stderr).to_string();
            for id in held {
                if told.contains(&format!("you no longer hold {id}")) {
                    continue;
                }
                if let Some(other) = believed.insert(id.clone(), who.clone()) {
                    panic!("round {round}: {id} believed held by {other} and {who}");
                }
            }
        }
        for c in clones.iter() {
            let list = c.run(&["--json", "list"]).ok().json();
            for id in &ids {
                let item = list
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|i| i["id"] == id.as_str())
                    .unwrap();
                assert_eq!(
                    item["fields"]["claimed_by"].as_str(),
                    believed.get(id).map(String::as_str),
                    "round {round}: {id} in {}",
                    c.path.display()
                );
            }
        }
        assert_eq!(believed.len(), 10, "round {round}: every item claimed");
    }
}

#[test]
fn an_update_by_the_holder_renews_the_claim_in_its_op_for_every_clone() {
    let env = Env::new();
    let id = env.add("renewed by writes", &[]);
    let dir = env.path();
    assert!(htrac(&env, dir, "s1", &["claim", &id, "--lease", "1h"])
        .status
        .success());
    let until = |env: &Env| {
        json(&htrac(env, dir, "s9", &["--json", "show", &id]))["fields"]["claim_until"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = until(&env);
    // The next second (timestamps are whole seconds).
    wait_past(htrac::claims::now());
    assert!(htrac(&env, dir, "s1", &["update", &id, "--priority", "1"])
        .status
        .success());
    let renewed = until(&env);
    assert!(renewed > first, "{renewed} <= {first}");
    // In the op itself (what other clones read), with the claim's own lease.
    let log = String::from_utf8(htrac(&env, dir, "s9", &["log", &id]).stdout).unwrap();
    let last = log.rsplit("- op: ").next().unwrap();
    assert!(
        last.contains("priority: 1") && last.contains("claim_until"),
        "{last}"
    );
    // Another session's write renews nothing.
    assert!(htrac(&env, dir, "s2", &["update", &id, "--priority", "2"])
        .status
        .success());
    assert_eq!(until(&env), renewed);
}

#[test]
fn with_the_remote_gone_a_claim_holds_here_and_later_claims_stop_asking_it() {
    let (net, a, _b, first, second) = two_clones();
    std::fs::rename(&net.remote, net.remote.with_extension("gone")).unwrap();
    let claim = |id: &str| a.run_env(&["--json", "claim", id], &[("HTRAC_SESSION", "agent-a")]);
    let r = claim(&first).ok();
    assert!(
        r.stderr.contains("is not confirmed with the remote"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["claim"]["session"], "agent-a");
    // The failed sync opened the breaker: the next claim does not wait on the remote.
    let r = claim(&second).ok();
    assert!(
        r.stderr
            .contains("not confirmed with the remote while the sync circuit breaker is open"),
        "{}",
        r.stderr
    );
}

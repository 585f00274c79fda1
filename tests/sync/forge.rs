//! `pr` mode's forge presets (`sync.pr.forge: github | gitlab | gitea`)
//! against stand-in `gh`, `glab` and `tea` on PATH: each records its
//! arguments and answers as the real CLI does (its output format and exit
//! codes). CI is pending twice, then passes — the stand-in merge moves the
//! bare remote's base, as the forge would — or fails: then nothing is merged
//! and the pull request is closed.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::synchelp::{self, remote_op_count, Net};

/// Does CI pass in the end?
#[derive(Clone, Copy, PartialEq)]
enum Ci {
    Passes,
    Fails,
}

/// Writes the stand-in CLI `name` (body: a `case` on its arguments, with
/// `$n`, the number of this status poll, and `$S`, a state directory) into
/// a fresh bin directory, configures the preset `forge`, and puts the bin
/// directory first on PATH. Returns the call log.
fn stand_in(net: &Net, c: &mut synchelp::Clone, name: &str, forge: &str, body: &str) -> PathBuf {
    let bin = net.dir.path().join("bin");
    let state = net.dir.path().join("state");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let log = net.dir.path().join("calls.log");
    let script = format!(
        "#!/bin/sh\n\
         printf '%s|' \"$@\" | tr '\\n' '~' >> '{log}'; echo >> '{log}'\n\
         S='{state}'; R='{remote}'\n\
         poll() {{ n=$(cat \"$S/polls\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$S/polls\"; }}\n\
         remember() {{ while [ $# -gt 0 ]; do [ \"$1\" = \"$FLAG\" ] && echo \"$2\" > \"$S/branch\"; shift; done; }}\n\
         merge() {{ git --git-dir=\"$R\" update-ref refs/heads/dev \"$(git --git-dir=\"$R\" rev-parse refs/heads/$(cat \"$S/branch\"))\"; }}\n\
         {body}\n",
        log = log.display(),
        state = state.display(),
        remote = net.remote.display(),
    );
    let path = bin.join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    c.config(&format!(
        "sync:\n  mode: pr\n  pr:\n    forge: {forge}\n    poll_seconds: 0\n    timeout_seconds: 30\n"
    ));
    let path_var = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    c.env.push(("PATH".into(), path_var));
    log
}

/// The calls made, one per line, each argument followed by `|` (newlines
/// inside an argument shown as `~`).
fn calls(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `calls`, with the argument after `flag` replaced by `<flag>` once checked.
fn masked(calls: &[String], flag: &str, check: impl Fn(&str)) -> Vec<String> {
    calls
        .iter()
        .map(|l| {
            let mut args: Vec<String> = l.split('|').map(str::to_string).collect();
            if let Some(i) = args.iter().position(|a| a == flag) {
                check(&args[i + 1]);
                args[i + 1] = format!("<{flag}>");
            }
            args.join("|")
        })
        .collect()
}

fn gh(net: &Net, c: &mut synchelp::Clone, ci: Ci) -> PathBuf {
    // `gh pr checks` (non-TTY: name, bucket, elapsed, link): first no check
    // registered yet (exit 1 and the message), then pending (exit 8), then
    // the verdict (0, or 1 with the failing check).
    let verdict = match ci {
        Ci::Passes => "printf 'build\\tpass\\t1m2s\\thttps://ci.example/1\\n'; exit 0",
        Ci::Fails => "printf 'build\\tfail\\t1m2s\\thttps://ci.example/1\\n'; exit 1",
    };
    stand_in(
        net,
        c,
        "gh",
        "github",
        &format!(
            "case \"$1 $2\" in\n\
             'pr create') FLAG=--head remember \"$@\"; echo https://github.com/o/r/pull/7;;\n\
             'pr checks') poll; case $n in\n\
               1) echo \"no checks reported on the '$(cat \"$S/branch\")' branch\" >&2; exit 1;;\n\
               2) printf 'build\\tpending\\t0\\thttps://ci.example/1\\n'; exit 8;;\n\
               *) {verdict};; esac;;\n\
             'pr merge') merge;;\n\
             'pr close') echo '✓ Closed pull request o/r#7' >&2;;\n\
             *) exit 2;;\n\
             esac"
        ),
    )
}

fn glab(net: &Net, c: &mut synchelp::Clone, ci: Ci) -> PathBuf {
    // `glab mr view -F json` prints GitLab's merge-request object.
    let verdict = match ci {
        Ci::Passes => "success",
        Ci::Fails => "failed",
    };
    stand_in(
        net,
        c,
        "glab",
        "gitlab",
        &format!(
            "case \"$1 $2\" in\n\
             'mr create') FLAG=--source-branch remember \"$@\";\n\
               printf '\\nCreating merge request for %s into dev in g/p\\n\\n' \"$(cat \"$S/branch\")\" >&2;\n\
               echo https://gitlab.example.com/g/p/-/merge_requests/42;;\n\
             'mr view') poll; case $n in\n\
               1) echo '{{\"iid\":42,\"state\":\"opened\",\"head_pipeline\":null,\"pipeline\":null}}';;\n\
               2) echo '{{\"iid\":42,\"state\":\"opened\",\"head_pipeline\":{{\"id\":5,\"status\":\"running\"}}}}';;\n\
               *) echo '{{\"iid\":42,\"state\":\"opened\",\"head_pipeline\":{{\"id\":5,\"status\":\"{verdict}\"}}}}';; esac;;\n\
             'mr merge') merge;;\n\
             'mr close') echo '- Closing merge request...' >&2;;\n\
             *) exit 2;;\n\
             esac"
        ),
    )
}

fn tea(net: &Net, c: &mut synchelp::Clone, ci: Ci) -> PathBuf {
    // `tea pulls create` prints the pull request as markdown; `tea api`
    // prints Gitea's combined commit status.
    let verdict = match ci {
        Ci::Passes => "{\"state\":\"success\",\"statuses\":[{\"status\":\"success\",\"context\":\"ci/test\"}],\"total_count\":1}",
        Ci::Fails => "{\"state\":\"failure\",\"statuses\":[{\"status\":\"failure\",\"context\":\"ci/test\"}],\"total_count\":1}",
    };
    stand_in(
        net,
        c,
        "tea",
        "gitea",
        &format!(
            "case \"$1 $2\" in\n\
             'pulls create') FLAG=--head remember \"$@\";\n\
               printf '  # #12 tracker sync (open)\\n  @amy created 2026-01-01 10:00\\t**dev** <- **%s**\\n\\n  body\\n\\n  ---\\n  - No Conflicts\\n' \"$(cat \"$S/branch\")\";;\n\
             api\\ *) poll; case $n in\n\
               1) echo '{{\"state\":\"pending\",\"statuses\":[],\"total_count\":0}}';;\n\
               2) echo '{{\"state\":\"pending\",\"statuses\":[{{\"status\":\"pending\",\"context\":\"ci/test\"}}],\"total_count\":1}}';;\n\
               *) echo '{verdict}';; esac;;\n\
             'pulls merge') merge;;\n\
             'pulls close') ;;\n\
             *) exit 2;;\n\
             esac"
        ),
    )
}

type Setup = fn(&Net, &mut synchelp::Clone, Ci) -> PathBuf;

/// Runs a sync through `setup`'s stand-in; returns (clone, calls, id, sync JSON or stderr).
fn sync_with(setup: Setup, ci: Ci) -> (Net, synchelp::Clone, Vec<String>, String, String) {
    let net = Net::new();
    let mut a = net.clone_named("a");
    let log = setup(&net, &mut a, ci);
    let id = a.add("through a forge");
    let out = match ci {
        Ci::Passes => a.run(&["--json", "sync"]).ok().stdout,
        Ci::Fails => a.run(&["sync"]).fails().stderr,
    };
    let c = calls(&log);
    (net, a, c, id, out)
}

fn branch_of(net: &Net) -> String {
    std::fs::read_to_string(net.dir.path().join("state/branch"))
        .unwrap()
        .trim()
        .to_string()
}

fn title_for(id: &str) -> String {
    format!("tracker: 1 file (1 ops) — {}", &id[..8])
}

fn body_file(a: &str) {
    assert!(
        a.contains("/.git/htrac-sync-body-") && a.ends_with(".md"),
        "{a}"
    );
}

fn description(a: &str) {
    assert!(
        a.starts_with("Ops appended by htrac sync") && a.contains(".ops (+1 ops)"),
        "{a}"
    );
}

fn assert_reached_base(net: &Net, a: &synchelp::Clone) {
    assert_eq!(remote_op_count(net), 1, "the op is in the remote's dev");
    assert_eq!(
        a.git(&["rev-parse", "dev"]),
        net.remote_git(&["rev-parse", "dev"])
    );
    assert_eq!(a.git(&["branch", "--list", "tracker-sync/*"]), "");
}

fn assert_nothing_merged(net: &Net, a: &synchelp::Clone) {
    assert_eq!(remote_op_count(net), 0, "dev unchanged");
    assert!(a
        .git(&["branch", "--list", "tracker-sync/*"])
        .contains("tracker-sync/"));
    assert_eq!(a.status()["breaker"]["consecutive_failures"], 1);
}

#[test]
fn github_preset_waits_for_checks_then_merges() {
    let (net, a, c, id, out) = sync_with(gh, Ci::Passes);
    let b = branch_of(&net);
    let pr = "https://github.com/o/r/pull/7";
    assert_eq!(
        masked(&c, "--body-file", body_file),
        [
            format!(
                "pr|create|--base|dev|--head|{b}|--title|{}|--body-file|<--body-file>|",
                title_for(&id)
            ),
            format!("pr|checks|{pr}|"),
            format!("pr|checks|{pr}|"),
            format!("pr|checks|{pr}|"),
            format!("pr|merge|{pr}|--rebase|"),
        ]
    );
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["pr"], pr);
    assert_reached_base(&net, &a);
}

#[test]
fn github_preset_closes_on_failed_checks_and_never_merges() {
    let (net, a, c, _id, err) = sync_with(gh, Ci::Fails);
    let pr = "https://github.com/o/r/pull/7";
    let verbs: Vec<&str> = c.iter().map(|l| l.split('|').nth(1).unwrap()).collect();
    assert_eq!(verbs, ["create", "checks", "checks", "checks", "close"]);
    assert_eq!(c[4], format!("pr|close|{pr}|"));
    assert!(
        err.contains(&format!("pull request {pr} failed its checks: build\tfail")),
        "{err}"
    );
    assert_nothing_merged(&net, &a);
}

#[test]
fn gitlab_preset_reads_the_pipeline_then_merges() {
    let (net, a, c, id, out) = sync_with(glab, Ci::Passes);
    let b = branch_of(&net);
    assert_eq!(
        masked(&c, "--description", description),
        [
            format!(
                "mr|create|--source-branch|{b}|--target-branch|dev|--title|{}|--description|<--description>|--yes|",
                title_for(&id)
            ),
            "mr|view|42|--output|json|".to_string(),
            "mr|view|42|--output|json|".to_string(),
            "mr|view|42|--output|json|".to_string(),
            "mr|merge|42|--yes|--remove-source-branch|".to_string(),
        ]
    );
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["pr"], "42", "the MR's number, read from its URL");
    assert_reached_base(&net, &a);
}

#[test]
fn gitlab_preset_closes_on_a_failed_pipeline() {
    let (net, a, c, _id, err) = sync_with(glab, Ci::Fails);
    let verbs: Vec<&str> = c.iter().map(|l| l.split('|').nth(1).unwrap()).collect();
    assert_eq!(verbs, ["create", "view", "view", "view", "close"]);
    assert_eq!(c[4], "mr|close|42|");
    assert!(
        err.contains("pull request 42 failed its checks: pipeline failed"),
        "{err}"
    );
    assert_nothing_merged(&net, &a);
}

#[test]
fn gitea_preset_polls_the_commit_status_then_merges() {
    let (net, a, c, id, out) = sync_with(tea, Ci::Passes);
    let b = branch_of(&net);
    let sha = net.remote_git(&["rev-parse", &format!("refs/heads/{b}")]);
    let sha = sha.trim();
    let status = format!("api|/repos/{{owner}}/{{repo}}/commits/{sha}/status|");
    assert_eq!(
        masked(&c, "--description", description),
        [
            format!(
                "pulls|create|--head|{b}|--base|dev|--title|{}|--description|<--description>|",
                title_for(&id)
            ),
            status.clone(),
            status.clone(),
            status,
            "pulls|merge|12|--style|rebase|".to_string(),
        ]
    );
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["pr"], "12", "the number from tea's '# #12 …' heading");
    assert_reached_base(&net, &a);
}

#[test]
fn gitea_preset_closes_on_a_failed_status() {
    let (net, a, c, _id, err) = sync_with(tea, Ci::Fails);
    assert_eq!(c.len(), 5, "{c:?}");
    assert!(c[0].starts_with("pulls|create|--head|"), "{c:?}");
    assert!(
        c[1..4]
            .iter()
            .all(|l| l.starts_with("api|/repos/{owner}/{repo}/commits/")),
        "{c:?}"
    );
    assert_eq!(c[4], "pulls|close|12|");
    assert!(
        err.contains("pull request 12 failed its checks: commit status failure: ci/test"),
        "{err}"
    );
    assert_nothing_merged(&net, &a);
}

#[test]
fn an_explicit_command_overrides_the_preset_and_is_read_by_exit_code() {
    let net = Net::new();
    let mut a = net.clone_named("a");
    let log = gh(&net, &mut a, Ci::Passes);
    // The preset's status would wait for CI; "true" says: no CI to wait for.
    a.config(
        "sync:\n  mode: pr\n  pr:\n    forge: github\n    status: \"true\"\n    poll_seconds: 0\n",
    );
    a.add("no CI here");
    a.run(&["sync"]).ok();
    let verbs: Vec<String> = calls(&log)
        .iter()
        .map(|l| l.split('|').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(verbs, ["pr create", "pr merge"]);
    assert_eq!(remote_op_count(&net), 1);
}

#[test]
fn an_unknown_forge_is_a_config_error_naming_the_key_and_the_choices() {
    let net = Net::new();
    let a = net.clone_named("a");
    a.add("x");
    a.config("sync:\n  mode: pr\n  pr:\n    forge: bitbucket\n");
    let r = a.run(&["sync"]).fails();
    assert!(
        r.stderr
            .contains("sync.pr.forge: expected one of github, gitlab, gitea, found 'bitbucket'"),
        "{}",
        r.stderr
    );
    assert_eq!(remote_op_count(&net), 0);
}

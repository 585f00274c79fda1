//! Hostile input through the CLI: huge and odd values, broken and
//! malicious op files. Each gives a clear error or a safe refusal within a
//! time bound — never a hang or a crash — and other items stay readable.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{self, Env, Run};

/// Runs htrac with a deadline: a hang fails the test instead of stalling it.
fn bounded(env: &Env, args: &[&str], secs: u64) -> Run {
    use std::io::Read;
    let mut child = env
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Drain both pipes while waiting, so a large output cannot block the child.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("htrac {args:?} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let code = status
        .code()
        .unwrap_or_else(|| panic!("htrac {args:?} died of a signal (crash): {status:?}"));
    Run {
        code,
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// An env with one healthy item; returns it with its ID.
fn env_with_bystander() -> (Env, String) {
    let env = Env::new();
    let id = env.add("bystander", &[]);
    (env, id)
}

/// The bystander still lists and shows; `list` names the broken item.
fn others_unaffected(env: &Env, bystander: &str) {
    let r = bounded(env, &["list", "--json"], 60);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(bystander), "{}", r.stdout);
    assert_eq!(bounded(env, &["show", bystander], 60).code, 0);
}

/// Plants a hostile op file for item `id` in the workspace tier.
fn plant(env: &Env, id: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = env.workspace_ops(id);
    std::fs::write(&p, bytes).unwrap();
    p
}

const EVIL: &str = "WI-evil";

fn header(nonce: &str) -> String {
    format!(
        "- op: create  # {n}\n  at: '2026-01-01T00:00:00Z'  # {n}\n  by: human  # {n}\n  actor: amy  # {n}\n  clock: 1  # {n}\n  nonce: {n}  # {n}\n",
        n = nonce
    )
}

#[test]
fn a_megabyte_title_works_or_is_refused_quickly() {
    let (env, bystander) = env_with_bystander();
    let title = "t".repeat(1 << 20);
    // argv cannot carry 1 MB in one argument (MAX_ARG_STRLEN): batch can.
    let t = Instant::now();
    let r = env.run_stdin(
        &["batch", "-", "--json"],
        &format!("add --kind work_item --title \"{title}\"\n"),
    );
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert!(r.code == 0 || r.stderr.contains("error") || r.stdout.contains("\"ok\": false"));
    if r.code == 0 {
        let list = bounded(&env, &["list", "--json"], 60);
        assert_eq!(list.code, 0);
        let v: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
        let big = v
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"].as_str().is_some_and(|t| t.len() == 1 << 20))
            .expect("the big item lists");
        let id = big["id"].as_str().unwrap().to_string();
        assert_eq!(bounded(&env, &["show", &id], 60).code, 0);
        assert_eq!(bounded(&env, &["validate"], 60).code, 0);
    }
    others_unaffected(&env, &bystander);
}

#[test]
fn nul_and_control_bytes_in_a_title_round_trip_or_are_refused() {
    let (env, bystander) = env_with_bystander();
    let r = env.run_stdin(
        &["batch", "-", "--json"],
        "add --kind work_item --title \"nul\u{0}here \u{1b}[31m bell\u{7}\"\n",
    );
    if r.code == 0 {
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let id = v["results"][0]["output"]["id"]
            .as_str()
            .or_else(|| v["results"][0]["output"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no id in {v}"));
        let shown = bounded(&env, &["show", &id, "--json"], 30);
        assert_eq!(shown.code, 0, "{}", shown.stderr);
        let item: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
        assert_eq!(item["title"], "nul\u{0}here \u{1b}[31m bell\u{7}");
        // The file itself holds no raw NUL (YAML escapes it).
        let bytes = std::fs::read(env.workspace_ops(&id)).unwrap();
        assert!(!bytes.contains(&0), "raw NUL written to the op file");
        assert_eq!(bounded(&env, &["validate"], 30).code, 0);
    } else {
        assert!(r.stderr.contains("error") || r.stdout.contains("false"));
    }
    others_unaffected(&env, &bystander);
}

#[test]
fn invalid_utf8_in_an_ops_file_is_an_error_naming_file_and_line() {
    let (env, bystander) = env_with_bystander();
    let mut bytes = header("aaaa").into_bytes();
    bytes.extend_from_slice(b"  data:  # aaaa\n    title: \"bad \xff\xfe byte\"  # aaaa\n");
    bytes.extend_from_slice(b"    kind: work_item  # aaaa\n");
    let p = plant(&env, EVIL, &bytes);
    let name = p.file_name().unwrap().to_str().unwrap().to_string();
    let r = bounded(&env, &["show", EVIL], 30);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("{name}:8: file is not valid UTF-8")),
        "{}",
        r.stderr
    );
    let v = bounded(&env, &["validate"], 30);
    assert_eq!(v.code, 1);
    assert!(v.stdout.contains(&format!("{name}:8:")), "{}", v.stdout);
    let l = bounded(&env, &["list"], 30);
    assert!(
        l.stderr.contains(EVIL),
        "the broken item is named: {}",
        l.stderr
    );
    others_unaffected(&env, &bystander);
}

/// A "billion laughs" block: 9 levels of 9 aliases each.
fn yaml_bomb() -> String {
    let mut s = String::from("- op: discuss\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let mut prev = "a".to_string();
    for i in 0..9 {
        let name = format!("b{i}");
        let refs = vec![format!("*{prev}"); 9].join(",");
        s.push_str(&format!("  {name}: &{name} [{refs}]\n"));
        prev = name;
    }
    s
}

#[test]
fn a_yaml_bomb_is_refused_without_blowing_up() {
    let (env, bystander) = env_with_bystander();
    let mut text = header("aaaa");
    text.push_str("  data:  # aaaa\n    kind: work_item  # aaaa\n    title: \"x\"  # aaaa\n");
    text.push_str(&yaml_bomb());
    plant(&env, EVIL, text.as_bytes());
    let t = Instant::now();
    // `show` leaves the bomb out, shows the item from its good op and says
    // why, quickly; writes are refused.
    let r = bounded(&env, &["show", EVIL], 60);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("repetition limit") || r.stderr.contains("alias"),
        "{}",
        r.stderr
    );
    let w = bounded(&env, &["update", EVIL, "--priority", "1"], 60);
    assert_eq!(w.code, 2, "{}", w.stderr);
    let v = bounded(&env, &["validate"], 60);
    assert_eq!(v.code, 1, "{}", v.stdout);
    eprintln!("YAML bomb refused in {:?}", t.elapsed());
    others_unaffected(&env, &bystander);
}

#[test]
fn deeply_nested_values_are_refused_before_the_parser() {
    let (env, bystander) = env_with_bystander();
    for (open, close) in [("[", "]"), ("{", "}"), ("[", "")] {
        let mut text = header("aaaa");
        text.push_str(&format!(
            "  data: {}{}  # aaaa\n",
            open.repeat(100_000),
            close.repeat(100_000)
        ));
        let p = plant(&env, EVIL, text.as_bytes());
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let t = Instant::now();
        let r = bounded(&env, &["show", EVIL], 30);
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("{name}:1: values nested deeper than")),
            "{}",
            r.stderr
        );
        let v = bounded(&env, &["validate"], 30);
        assert_eq!(v.code, 1);
        assert!(v.stdout.contains("nested deeper"), "{}", v.stdout);
    }
    // Quoted brackets are text, not nesting.
    let mut text = header("aaaa");
    text.push_str(&format!(
        "  data: {{kind: work_item, title: '{}', status: todo_hard}}  # aaaa\n",
        "[".repeat(500)
    ));
    plant(&env, EVIL, text.as_bytes());
    let r = bounded(&env, &["show", EVIL, "--json"], 30);
    assert_eq!(r.code, 0, "{}", r.stderr);
    others_unaffected(&env, &bystander);
}

#[test]
fn an_ops_path_that_is_a_directory_or_fifo_is_refused_not_hung() {
    let (env, bystander) = env_with_bystander();
    let dir = env.workspace_ops(EVIL);
    std::fs::create_dir(&dir).unwrap();
    others_unaffected(&env, &bystander);
    let r = bounded(&env, &["show", EVIL], 30);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("No items match"), "{}", r.stderr);
    std::fs::remove_dir(&dir).unwrap();
    // A FIFO would block a plain open(): never listed, never opened.
    let st = std::process::Command::new("mkfifo").arg(&dir).status();
    if st.is_ok_and(|s| s.success()) {
        others_unaffected(&env, &bystander);
        assert_eq!(bounded(&env, &["show", EVIL], 30).code, 1);
        assert_eq!(bounded(&env, &["validate"], 30).code, 0);
        assert_eq!(bounded(&env, &["repair-tail"], 30).code, 0);
        // The library refuses it without blocking.
        let e = htrac::oplog::read_bytes(&dir).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    } else {
        common::missing("mkfifo", "apt-get install coreutils");
    }
}

#[test]
fn a_symlink_out_of_the_tracker_is_never_followed() {
    let (env, bystander) = env_with_bystander();
    // A secret outside the tracker that parses as an item.
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.ops");
    let mut text = header("aaaa");
    text.push_str("  data:  # aaaa\n    kind: work_item  # aaaa\n    title: \"TOP SECRET\"  # aaaa\n    status: todo_hard  # aaaa\n    priority: 2  # aaaa\n");
    std::fs::write(&secret, &text).unwrap();
    let link = env.workspace_ops(EVIL);
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    for args in [
        vec!["list"],
        vec!["show", EVIL],
        vec!["log", EVIL],
        vec!["ready"],
    ] {
        let r = bounded(&env, &args, 30);
        assert!(
            !r.stdout.contains("TOP SECRET"),
            "{args:?} followed the link"
        );
    }
    // Writes never go through it either.
    let r = bounded(&env, &["discuss", EVIL, "hi", "--ack-thread"], 30);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), text);
    // The library refuses the link itself with a clear reason.
    let e = htrac::oplog::read_bytes(&link).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    let op = htrac::oplog::op::Op::new(
        "discuss",
        "x",
        htrac::oplog::op::Role::Human,
        "amy",
        2,
        "bbbb",
    );
    let e = htrac::oplog::append(&link, &op, htrac::oplog::AppendMode::Existing).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), text);
    others_unaffected(&env, &bystander);
}

#[test]
fn a_huge_ops_file_is_refused_with_a_clear_error() {
    let (env, bystander) = env_with_bystander();
    let p = env.workspace_ops(EVIL);
    // 50 MB of whole ops (sparse would be NULs; write real text).
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&p).unwrap();
        let mut text = header("aaaa");
        text.push_str("  data:  # aaaa\n    kind: work_item  # aaaa\n    title: \"big\"  # aaaa\n");
        f.write_all(text.as_bytes()).unwrap();
        let line = format!(
            "- op: discuss  # bbbb\n  message: \"{}\"  # bbbb\n",
            "m".repeat(1000)
        );
        let chunk = line.repeat(1000);
        while f.metadata().unwrap().len() < 50 << 20 {
            f.write_all(chunk.as_bytes()).unwrap();
        }
    }
    let name = p.file_name().unwrap().to_str().unwrap().to_string();
    let t = Instant::now();
    let r = bounded(&env, &["show", EVIL], 30);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&name) && r.stderr.contains("larger than htrac's limit"),
        "{}",
        r.stderr
    );
    let v = bounded(&env, &["validate"], 30);
    assert_eq!(v.code, 1);
    assert!(
        v.stdout.contains("larger than htrac's limit"),
        "{}",
        v.stdout
    );
    assert_eq!(bounded(&env, &["repair-tail", EVIL], 30).code, 1);
    others_unaffected(&env, &bystander);
    assert!(Path::new(&p).exists());
}

/// Writes never create what reads refuse: an op that would push its file
/// over the read limit is refused up front (exit 1, naming the limit,
/// nothing written), and the item stays readable.
#[test]
fn a_write_that_would_exceed_the_read_limit_is_refused_and_the_item_stays_readable() {
    let (env, bystander) = env_with_bystander();
    let limit = htrac::oplog::MAX_FILE_BYTES.to_string();
    let big = env.path().join("big.txt");
    std::fs::write(&big, "d".repeat(20 << 20)).unwrap();
    let before = env.tree();
    let r = bounded(
        &env,
        &[
            "add",
            "--kind",
            "work_item",
            "--title",
            "huge",
            "--description-file",
            big.to_str().unwrap(),
        ],
        120,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&limit) && r.stderr.contains("16 MiB"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert_eq!(env.tree(), before, "a refused add changed .agent/");

    let id = env.add("grows", &[]);
    let path = env.workspace_ops(&id);
    let six = env.path().join("six.txt");
    for (i, ch) in ["a", "b", "c"].iter().enumerate() {
        std::fs::write(&six, ch.repeat(6 << 20)).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        let r = bounded(
            &env,
            &["update", &id, "--description-file", six.to_str().unwrap()],
            120,
        );
        if i < 2 {
            assert_eq!(r.code, 0, "update {i}: {}", r.stderr);
        } else {
            assert_eq!(r.code, 1, "{}", r.stderr);
            assert!(r.stderr.contains(&limit), "{}", r.stderr);
            assert_eq!(
                std::fs::metadata(&path).unwrap().len(),
                size,
                "nothing appended"
            );
        }
    }
    // Still readable, with the last description that fitted.
    let shown = bounded(&env, &["show", &id, "--json"], 120);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let v: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(v["description"].as_str().map(str::len), Some(6 << 20));
    assert!(v["description"].as_str().unwrap().starts_with('b'));
    // And writable: a small update still goes in.
    assert_eq!(
        bounded(&env, &["update", &id, "--title", "still fine"], 120).code,
        0
    );
    // The same check guards batch (and every other writer): a message that
    // would push the file over the limit fails its line, nothing written.
    let size = std::fs::metadata(&path).unwrap().len();
    let r = env.run_stdin(
        &["--json", "batch", "-"],
        &format!("discuss {id} \"{}\"\n", "m".repeat(6 << 20)),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    let err = v["results"][0]["error"].as_str().unwrap_or_default();
    assert!(err.contains(&limit), "{err}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
    others_unaffected(&env, &bystander);
}

/// No control character an agent writes into a title or message reaches
/// the terminal through text output: ESC, OSC 52 (clipboard), CR and BEL
/// are shown escaped; `--json` keeps the exact text.
#[test]
fn control_characters_in_text_output_are_shown_escaped() {
    let env = Env::new();
    let evil = "evil \u{1b}[31mred \u{1b}]52;c;aGk=\u{7} cr\rX bell\u{7} c1\u{9b}2J";
    let id = env.add(evil, &[]);
    env.run(&["discuss", &id, evil]).ok();
    let raw = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
            .collect()
    };
    let seen = "evil \\e[31mred \\e]52;c;aGk=\\a cr\\rX bell\\a c1\\u009b2J";
    for args in [
        vec!["show", id.as_str()],
        vec!["list"],
        vec!["ready"],
        vec!["log", id.as_str()],
        vec!["update", id.as_str(), "--title", evil],
    ] {
        let r = env.run(&args).ok();
        assert!(raw(&r.stdout).is_empty(), "{args:?}: {:?}", r.stdout);
        assert!(raw(&r.stderr).is_empty(), "{args:?}: {:?}", r.stderr);
        if args[0] != "update" && args[0] != "log" {
            assert!(r.stdout.contains(seen), "{args:?}: {}", r.stdout);
        }
    }
    // A title's newline cannot forge a row of `list`.
    let forged = env.add("one\n 9  WI-fake  done", &[]);
    let list = env.run(&["list"]).ok().stdout;
    assert!(
        list.lines().all(|l| !l.starts_with(" 9  WI-fake")),
        "{list}"
    );
    assert!(list.contains("one\\n 9  WI-fake"), "{list}");
    // Errors quoting the input are escaped too.
    let r = env
        .run(&["update", &id, "--status", "\u{1b}]52;c;aGk=\u{7}"])
        .fails(1);
    assert!(
        raw(&r.stderr).is_empty() && r.stderr.contains("\\e]52"),
        "{:?}",
        r.stderr
    );
    // JSON is exact.
    let v = env.run(&["show", &id, "--json"]).ok().json();
    assert_eq!(v["title"], evil);
    assert_eq!(v["discussion"][0]["message"], evil);
    let v = env.run(&["show", &forged, "--json"]).ok().json();
    assert_eq!(v["title"], "one\n 9  WI-fake  done");
}

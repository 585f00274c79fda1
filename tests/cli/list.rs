//! `htrac list` (its filters, an unreadable item confined to its row) and
//! `htrac log` (the raw op file).

use crate::common::Env;

#[test]
fn a_malformed_op_confines_damage_to_its_item() {
    let env = Env::new();
    let good = env.add("good", &[]);
    let bad = env.add("bad", &[]);
    let path = env.workspace_ops(&bad);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().count() + 1;
    text.push_str("- op: update  # dead\n  clock: [not, a, number]  # dead\n");
    std::fs::write(&path, text).unwrap();
    let r = env.run(&["list", "--json"]).ok();
    let listed = r.json();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [good.as_str()]);
    assert!(
        r.stderr.contains(&bad) && r.stderr.contains(&format!(":{line}:")),
        "{}",
        r.stderr
    );
    let plain = env.run(&["list"]).ok().stdout;
    assert!(
        plain
            .lines()
            .any(|l| l.starts_with(&format!(" !  {bad}  UNREADABLE"))),
        "{plain}"
    );
    // `show` shows it from its good ops (as the reference does), naming the
    // op it leaves out.
    let r = env.run(&["show", &bad]).ok();
    assert!(r.stdout.contains("bad"), "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!(
            ".{bad}.ops:{line}: field 'clock' must be an integer"
        )),
        "{}",
        r.stderr
    );
    // Writes to the broken item are refused; nothing is appended.
    let before = std::fs::read(&path).unwrap();
    env.run(&["update", &bad, "--priority", "1"]).fails(2);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    env.run(&["show", &good]).ok();
}

#[test]
fn log_prints_the_raw_file_and_list_filters() {
    let env = Env::new();
    let a = env.add("a", &["--tag", "x"]);
    let _b = env.add("b", &["--status", "done"]);
    let raw = env.run(&["log", &a]).ok().stdout;
    assert_eq!(raw, std::fs::read_to_string(env.workspace_ops(&a)).unwrap());
    let open = env.run(&["list", "--open", "--json"]).ok().json();
    assert_eq!(open.as_array().unwrap().len(), 1);
    let tagged = env.run(&["list", "--tag", "x"]).ok().stdout;
    assert_eq!(tagged.lines().count(), 1);
    assert_eq!(
        env.run(&["list", "--status", "wont_do"]).ok().stdout,
        "(no items)\n"
    );
    assert_eq!(
        env.run(&["list", "--limit", "1"])
            .ok()
            .stdout
            .lines()
            .count(),
        1
    );
}
